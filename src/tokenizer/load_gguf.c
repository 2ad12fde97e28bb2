/*
 * load_gguf.c — a tokenizer from GGUF metadata, the keys llama.cpp's convert_hf_to_gguf.py
 * writes for byte-level BPE: tokenizer.ggml.model = "gpt2", .tokens (ByteLevel strings; added
 * tokens as raw text), .token_type (1 normal, 3 control = special added, 4 user-defined = added,
 * 2/5/6 unknown/unused/byte = not encodable), .merges ("a b"), .pre (regex family), and
 * .bos_token_id / .eos_token_id / .add_bos_token. GGUF does not record the normalizer: the pre
 * types whose Hugging Face tokenizer.json has NFC (qwen2, deepseek-r1-qwen) get NFC, so both
 * sources give the same ids.
 */
#include "tokenizer/tokenizer.h"

#include "formats/formats.h"

#include <stdio.h>

struct pre_family {
    const char *name;
    const char *regex;
    int nfc;
};

static const struct pre_family pre_families[] = {
    {"qwen2", TOK_RE_QWEN2, 1},
    {"deepseek-r1-qwen", TOK_RE_QWEN2, 1},
    {"gpt2", TOK_RE_GPT2, 0},
    {"default", TOK_RE_GPT2, 0},
    {"llama-bpe", TOK_RE_LLAMA3, 0},
    {"llama3", TOK_RE_LLAMA3, 0},
};

static int gguf_pre(struct rrm_tokenizer *t, const struct gguf_file *f, rrm_err *err)
{
    const char *s = "default";
    size_t len = 7;
    if (gguf_find_key(f, "tokenizer.ggml.pre") >= 0) {
        int rc = gguf_get_str(f, "tokenizer.ggml.pre", &s, &len, err);
        if (rc != RRM_OK) return rc;
    }
    for (size_t i = 0; i < sizeof pre_families / sizeof pre_families[0]; i++) {
        const struct pre_family *p = &pre_families[i];
        if (strlen(p->name) == len && memcmp(p->name, s, len) == 0) {
            t->nfc = p->nfc;
            return tok_add_split(t, p->regex, strlen(p->regex), 0, err);
        }
    }
    return rrm_errf(err, RRM_E_UNSUPPORTED, "gguf: tokenizer.ggml.pre '%.*s' is not supported "
                    "(qwen2, deepseek-r1-qwen, gpt2, default, llama-bpe)",
                    (int)(len < 40 ? len : 40), s);
}

static int gguf_tokens(struct rrm_tokenizer *t, const struct gguf_file *f, int64_t n,
                       rrm_err *err)
{
    const void *types = NULL;
    int et = GGUF_T_INT32, rc;
    int64_t nt = 0;
    if (gguf_find_key(f, "tokenizer.ggml.token_type") >= 0) {
        rc = gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &nt, &types, err);
        if (rc != RRM_OK) return rc;
        if (et != GGUF_T_INT32 || nt != n)
            return rrm_errf(err, RRM_E_FORMAT, "gguf: tokenizer.ggml.token_type has %lld "
                            "elements of type %d (want %lld int32)", (long long)nt, et,
                            (long long)n);
    }
    for (int pass = 0; pass < 2; pass++) { /* ordinary pieces first: the map indexes them */
        for (int64_t i = 0; i < n; i++) {
            int32_t ty = 1;
            if (types) memcpy(&ty, (const char *)types + 4 * i, 4);
            const char *s;
            size_t len;
            if ((ty == 1) != (pass == 0) || (ty != 1 && ty != 3 && ty != 4)) continue;
            rc = gguf_get_arr_str(f, "tokenizer.ggml.tokens", i, &s, &len, err);
            if (rc != RRM_OK) return rc;
            if (ty == 1) {
                rc = tok_set_piece(t, (int32_t)i, s, len, 1, err);
            } else {
                struct tok_added a = {.special = ty == 3};
                rc = tok_add_added(t, (int32_t)i, s, len, &a, err);
            }
            if (rc != RRM_OK) return rrm_err_prefix(err, "gguf: tokenizer.ggml.tokens[%lld]",
                                                    (long long)i);
        }
        if (pass == 0 && (rc = tok_index_vocab(t, err)) != RRM_OK) return rc;
    }
    return RRM_OK;
}

static int gguf_merges(struct rrm_tokenizer *t, const struct gguf_file *f, rrm_err *err)
{
    int et;
    int64_t n;
    const void *d;
    int rc = gguf_get_arr(f, "tokenizer.ggml.merges", &et, &n, &d, err);
    if (rc != RRM_OK) return rc;
    if (et != GGUF_T_STRING)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: tokenizer.ggml.merges is not a string array");
    if ((rc = tok_reserve_merges(t, n, err)) != RRM_OK) return rc;
    for (int64_t i = 0; i < n; i++) {
        const char *s, *sp = NULL;
        size_t len;
        if ((rc = gguf_get_arr_str(f, "tokenizer.ggml.merges", i, &s, &len, err)) != RRM_OK)
            return rc;
        for (size_t k = 0; k < len; k++) {
            if (s[k] != ' ') continue;
            if (sp) sp = s + len; /* a second space: malformed */
            else sp = s + k;
        }
        if (!sp || sp == s + len)
            return rrm_errf(err, RRM_E_FORMAT, "gguf: tokenizer.ggml.merges[%lld] is not 'a b'",
                            (long long)i);
        rc = tok_add_merge(t, i, s, (size_t)(sp - s), sp + 1, (size_t)(s + len - sp - 1), err);
        if (rc != RRM_OK) return rc;
    }
    return RRM_OK;
}

static int gguf_id(const struct gguf_file *f, const char *key, int32_t *out, rrm_err *err)
{
    if (gguf_find_key(f, key) < 0) return RRM_OK;
    uint32_t v;
    int rc = gguf_get_u32(f, key, &v, err);
    if (rc == RRM_OK) *out = v > INT32_MAX ? INT32_MAX : (int32_t)v;
    return rc;
}

int tok_load_gguf(struct rrm_tokenizer **out, const struct gguf_file *f, rrm_err *err)
{
    const char *model;
    size_t ml;
    int rc = gguf_get_str(f, "tokenizer.ggml.model", &model, &ml, err);
    if (rc != RRM_OK) return rc;
    if (ml != 4 || memcmp(model, "gpt2", 4) != 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "gguf: tokenizer.ggml.model '%.*s' is not "
                        "supported (only gpt2 = byte-level BPE)", (int)(ml < 40 ? ml : 40), model);
    int et;
    int64_t n;
    const void *d;
    rc = gguf_get_arr(f, "tokenizer.ggml.tokens", &et, &n, &d, err);
    if (rc != RRM_OK) return rc;
    if (et != GGUF_T_STRING)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: tokenizer.ggml.tokens is not a string array");
    struct rrm_tokenizer *t;
    if ((rc = tok_new(&t, n, err)) != RRM_OK) return rc;
    if ((rc = gguf_tokens(t, f, n, err)) == RRM_OK && (rc = gguf_merges(t, f, err)) == RRM_OK &&
        (rc = gguf_pre(t, f, err)) == RRM_OK &&
        (rc = gguf_id(f, "tokenizer.ggml.bos_token_id", &t->bos_id, err)) == RRM_OK &&
        (rc = gguf_id(f, "tokenizer.ggml.eos_token_id", &t->eos_id, err)) == RRM_OK &&
        gguf_find_key(f, "tokenizer.ggml.add_bos_token") >= 0)
        rc = gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &t->add_bos, err);
    if (rc != RRM_OK) {
        rrm_tokenizer_free(t);
        return rc;
    }
    snprintf(t->source, sizeof t->source, "gguf");
    *out = t;
    return RRM_OK;
}
