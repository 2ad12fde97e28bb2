/*
 * fuzz_tokenize.c — libFuzzer target for the tokenizer. The first byte picks the mode:
 *   0-1  encode the rest with the DeepSeek-distill tokenizer (flags = the low bit). Valid UTF-8
 *        must encode; with RRM_TOK_NO_SPECIAL decode(encode(x)) must equal NFC(x); the streaming
 *        decoder must give the same bytes as the batch decoder, in valid UTF-8 chunks.
 *   2    decode the rest read as int32 ids (any values: out-of-range ids are errors, not crashes)
 *   3    load the rest as a tokenizer.json (the in-place scanner and the loader's checks)
 * Invalid input must give an error code, never a crash, a leak or a sanitizer report.
 */
#include "tokenizer/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <utf8proc.h>

static rrm_tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rrm_err err = {0};
    if (rrm_tokenizer_load(&tok, "../shared/data/deepseek-r1-distill-qwen-7b/"
                                 "tokenizer.reconstructed.json", &err) != RRM_OK) {
        fprintf(stderr, "fuzz_tokenize: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void stream_check(const int32_t *ids, int64_t n, const char *want, size_t want_len)
{
    rrm_detok_stream *s;
    rrm_err err = {0};
    if (rrm_detok_stream_init(&s, tok, 0, &err) != RRM_OK) return;
    size_t o = 0;
    for (int64_t i = 0; i <= n; i++) {
        const char *p;
        size_t len;
        int rc = i < n ? rrm_detok_stream_push(s, ids[i], &p, &len, &err)
                       : rrm_detok_stream_flush(s, &p, &len, &err);
        if (rc != RRM_OK) abort();
        if (tok_utf8_valid_prefix(p, len) != len) abort();
        if (o + len > want_len || memcmp(want + o, p, len) != 0) abort();
        o += len;
    }
    if (o != want_len) abort();
    rrm_detok_stream_free(s);
}

static void encode_case(const char *text, size_t len, int flags)
{
    int32_t *ids;
    int64_t n;
    rrm_err err = {0};
    int rc = rrm_tokenize_alloc(tok, text, len, flags, &ids, &n, &err);
    int valid = tok_utf8_valid_prefix(text, len) == len;
    if (rc != RRM_OK) {
        if (valid && rc != RRM_E_NOMEM && rc != RRM_E_LIMIT) abort();
        return;
    }
    if (!valid) abort();
    char *back;
    size_t bl;
    if (rrm_detokenize_alloc(tok, ids, n, 0, &back, &bl, &err) != RRM_OK) abort();
    if (flags & RRM_TOK_NO_SPECIAL) {
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t nl = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len,
                                           &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (nl >= 0 && ((size_t)nl != bl || memcmp(nfc, back, bl) != 0)) abort();
        free(nfc);
    }
    stream_check(ids, n, back, bl);
    rrm_text_free(back);
    rrm_tokens_free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0:
    case 1:
        encode_case(rest, n, data[0] & 1);
        break;
    case 2: {
        int64_t k = (int64_t)(n / 4);
        int32_t *ids = malloc((size_t)k * 4 + 4);
        if (!ids) return 0;
        memcpy(ids, rest, (size_t)k * 4);
        for (int64_t i = 0; i < k; i++)
            ids[i] = (int32_t)((uint32_t)ids[i] % 160000u); /* mostly in range, some not */
        char *s;
        size_t len;
        rrm_err err = {0};
        if (rrm_detokenize_alloc(tok, ids, k, 0, &s, &len, &err) == RRM_OK) {
            if (tok_utf8_valid_prefix(s, len) != len) abort();
            stream_check(ids, k, s, len);
            rrm_text_free(s);
        }
        free(ids);
        break;
    }
    default: {
        struct rrm_tokenizer *t = NULL;
        rrm_err err = {0};
        if (tok_load_json_buf(&t, rest, n, "fuzz", &err) == RRM_OK &&
            tok_finish(t, &err) == RRM_OK) {
            int32_t *ids;
            int64_t k;
            if (rrm_tokenize_alloc(t, "hello world <s>", 15, 0, &ids, &k, &err) == RRM_OK)
                rrm_tokens_free(ids);
        }
        rrm_tokenizer_free(t);
        break;
    }
    }
    return 0;
}
