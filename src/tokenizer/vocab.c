/*
 * vocab.c — the tables of a tokenizer, built once at load and read-only afterwards: pieces (the
 * bytes of every id), the bytes -> id map of the BPE vocabulary, the (a, b) -> (rank, id) merge
 * map, added tokens and the compiled pre-tokenizer regexes. Also the ByteLevel alphabet
 * (GPT-2 `bytes_to_unicode`, https://github.com/openai/gpt-2/blob/master/src/encoder.py).
 */
#include "tokenizer/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

/* ---- ByteLevel alphabet ----
 * Printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the other 68 bytes
 * (0..32, 127..160, 173) map to U+0100.. in byte order. */
static uint32_t byte_cp(uint8_t b)
{
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 256u + 33u + (uint32_t)(b - 127);
    if (b == 173) return 256u + 33u + 34u;
    return b;
}

static int cp_byte(uint32_t c)
{
    if (c >= 256 + 33 + 34 + 1) return -1;
    if (c == 256 + 33 + 34) return 173;
    if (c >= 256 + 33) return (int)(c - 256 - 33 + 127);
    if (c >= 256) return (int)(c - 256);
    if (c <= 32 || (c >= 127 && c <= 160) || c == 173) return -1;
    return (int)c;
}

int tok_bytelevel_char(uint8_t b, char out[2])
{
    uint32_t c = byte_cp(b);
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
}

int64_t tok_bytelevel_decode(const char *s, size_t len, char *out)
{
    const uint8_t *p = (const uint8_t *)s;
    int64_t n = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        if (p[i] < 0x80) {
            c = p[i++];
        } else if ((p[i] & 0xE0) == 0xC0 && i + 1 < len && (p[i + 1] & 0xC0) == 0x80) {
            c = ((uint32_t)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
            i += 2;
        } else {
            return -1; /* the alphabet lies below U+0800 */
        }
        int b = cp_byte(c);
        if (b < 0) return -1;
        out[n++] = (char)b;
    }
    return n;
}

/* ---- hashing ---- */

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/) */
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static uint32_t hash_u64(uint64_t k)
{
    k *= 0x9E3779B97F4A7C15ull; /* Fibonacci hashing (Knuth, TAOCP 6.4) */
    return (uint32_t)(k >> 32);
}

static uint32_t pow2_at_least(uint64_t n)
{
    uint32_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

/* ---- building ---- */

int tok_new(struct rrm_tokenizer **out, int64_t n_vocab, rrm_err *err)
{
    if (n_vocab <= 0 || n_vocab > TOK_MAX_VOCAB)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: vocabulary of %lld ids (want 1..%d)",
                        (long long)n_vocab, TOK_MAX_VOCAB);
    struct rrm_tokenizer *t = rrm_calloc(1, sizeof *t);
    if (!t) return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory");
    t->n_vocab = (int32_t)n_vocab;
    t->piece_off = rrm_calloc((size_t)n_vocab, sizeof *t->piece_off);
    t->piece_len = rrm_calloc((size_t)n_vocab, sizeof *t->piece_len);
    t->attr = rrm_malloc((size_t)n_vocab);
    t->bos_id = t->eos_id = -1;
    if (!t->piece_off || !t->piece_len || !t->attr) {
        rrm_tokenizer_free(t);
        return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory for %lld ids",
                        (long long)n_vocab);
    }
    memset(t->attr, TOK_ATTR_UNUSED, (size_t)n_vocab);
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    *out = t;
    return RRM_OK;
}

void rrm_tokenizer_free(rrm_tokenizer *t)
{
    if (!t) return;
    for (int i = 0; i < t->n_splits; i++) pcre2_code_free(t->re[i]);
    rrm_free(t->piece_off);
    rrm_free(t->piece_len);
    rrm_free(t->attr);
    rrm_free(t->blob);
    rrm_free(t->str_slots);
    rrm_free(t->pairs);
    rrm_free(t->added);
    rrm_free(t);
}

/* Appends len bytes to the blob; *off gets their offset. */
static int blob_put(struct rrm_tokenizer *t, const char *s, size_t len, uint32_t *off,
                    rrm_err *err)
{
    if (t->blob_len + len > UINT32_MAX)
        return rrm_errf(err, RRM_E_LIMIT, "tokenizer: pieces exceed 4 GiB");
    if (t->blob_len + len > t->blob_cap) {
        size_t cap = t->blob_cap ? t->blob_cap : 1 << 20;
        while (cap < t->blob_len + len) cap *= 2;
        char *nb = rrm_realloc(t->blob, cap);
        if (!nb) return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory for pieces");
        t->blob = nb;
        t->blob_cap = cap;
    }
    if (len) memcpy(t->blob + t->blob_len, s, len);
    *off = (uint32_t)t->blob_len;
    t->blob_len += len;
    return RRM_OK;
}

int tok_set_piece(struct rrm_tokenizer *t, int32_t id, const char *s, size_t len, int bytelevel,
                  rrm_err *err)
{
    if (id < 0 || id >= t->n_vocab)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: id %d out of range 0..%d", id,
                        t->n_vocab - 1);
    if (!(t->attr[id] & TOK_ATTR_UNUSED))
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: id %d is given twice", id);
    if (len == 0 || len > TOK_MAX_PIECE)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: piece of id %d has %zu bytes (want 1..%d)",
                        id, len, TOK_MAX_PIECE);
    char tmp[TOK_MAX_PIECE];
    int64_t n = (int64_t)len;
    if (bytelevel) {
        n = tok_bytelevel_decode(s, len, tmp);
        if (n < 0)
            return rrm_errf(err, RRM_E_FORMAT,
                            "tokenizer: vocabulary entry %d '%.*s' has a character outside the "
                            "ByteLevel alphabet", id, (int)(len < 64 ? len : 64), s);
        s = tmp;
    }
    int rc = blob_put(t, s, (size_t)n, &t->piece_off[id], err);
    if (rc != RRM_OK) return rc;
    t->piece_len[id] = (uint32_t)n;
    if ((uint32_t)n > t->max_piece) t->max_piece = (uint32_t)n;
    t->attr[id] = TOK_ATTR_NORMAL;
    return RRM_OK;
}

int tok_add_added(struct rrm_tokenizer *t, int32_t id, const char *s, size_t len,
                  const struct tok_added *flags, rrm_err *err)
{
    if (id < 0 || id >= t->n_vocab)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: added token id %d out of range 0..%d", id,
                        t->n_vocab - 1);
    if (len == 0 || len > TOK_MAX_PIECE)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: added token %d has %zu bytes (want 1..%d)",
                        id, len, TOK_MAX_PIECE);
    if (tok_utf8_valid_prefix(s, len) != len)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: added token %d is not valid UTF-8", id);
    if (t->attr[id] & (TOK_ATTR_ADDED | TOK_ATTR_SPECIAL))
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: added token id %d is given twice", id);
    struct tok_added *na = rrm_realloc(t->added, (size_t)(t->n_added + 1) * sizeof *na);
    if (!na) return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory for added tokens");
    t->added = na;
    struct tok_added *a = &na[t->n_added];
    *a = *flags;
    a->id = id;
    a->len = (uint32_t)len;
    int rc = blob_put(t, s, len, &a->off, err);
    if (rc != RRM_OK) return rc;
    t->n_added++;
    t->piece_off[id] = a->off;
    t->piece_len[id] = a->len;
    if (len > t->max_piece) t->max_piece = (uint32_t)len;
    t->attr[id] = (uint8_t)(TOK_ATTR_ADDED | (flags->special ? TOK_ATTR_SPECIAL : 0));
    t->added_first[(uint8_t)s[0]] = 1;
    return RRM_OK;
}

int32_t tok_vocab_find(const struct rrm_tokenizer *t, const char *s, size_t len)
{
    if (!t->str_slots) return -1;
    for (uint32_t i = hash_bytes(s, len) & t->str_mask;; i = (i + 1) & t->str_mask) {
        uint32_t v = t->str_slots[i];
        if (!v) return -1;
        int32_t id = (int32_t)(v - 1);
        if (t->piece_len[id] == len && memcmp(t->blob + t->piece_off[id], s, len) == 0)
            return id;
    }
}

int tok_index_vocab(struct rrm_tokenizer *t, rrm_err *err)
{
    uint32_t cap = pow2_at_least((uint64_t)t->n_vocab * 2);
    t->str_slots = rrm_calloc(cap, sizeof *t->str_slots);
    if (!t->str_slots) return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory for the map");
    t->str_mask = cap - 1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (t->attr[id] != TOK_ATTR_NORMAL) continue;
        const char *s = t->blob + t->piece_off[id];
        size_t len = t->piece_len[id];
        uint32_t i = hash_bytes(s, len) & t->str_mask;
        for (;; i = (i + 1) & t->str_mask) {
            uint32_t v = t->str_slots[i];
            if (!v) break;
            int32_t o = (int32_t)(v - 1);
            if (t->piece_len[o] == len && memcmp(t->blob + t->piece_off[o], s, len) == 0)
                return rrm_errf(err, RRM_E_FORMAT, "tokenizer: ids %d and %d have the same bytes",
                                o, id);
        }
        t->str_slots[i] = (uint32_t)id + 1;
        if (len == 1) t->byte_id[(uint8_t)s[0]] = id;
    }
    return RRM_OK;
}

int tok_reserve_merges(struct rrm_tokenizer *t, int64_t n, rrm_err *err)
{
    if (n < 0 || n > TOK_MAX_VOCAB)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: %lld merges (at most %d)", (long long)n,
                        TOK_MAX_VOCAB);
    uint32_t cap = pow2_at_least((uint64_t)n * 2 + 1);
    t->pairs = rrm_malloc((size_t)cap * sizeof *t->pairs);
    if (!t->pairs) return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory for merges");
    memset(t->pairs, 0xFF, (size_t)cap * sizeof *t->pairs);
    t->pair_mask = cap - 1;
    return RRM_OK;
}

const struct tok_pair_slot *tok_pair_find(const struct rrm_tokenizer *t, int32_t a, int32_t b)
{
    uint64_t k = tok_pair_key(a, b);
    for (uint32_t i = hash_u64(k) & t->pair_mask;; i = (i + 1) & t->pair_mask) {
        const struct tok_pair_slot *s = &t->pairs[i];
        if (s->key == k) return s;
        if (s->key == UINT64_MAX) return NULL;
    }
}

/* id of a vocabulary string given in ByteLevel form, or -1 (also for bad characters). */
static int32_t find_bytelevel(const struct rrm_tokenizer *t, const char *s, size_t len)
{
    char tmp[TOK_MAX_PIECE];
    if (len > TOK_MAX_PIECE) return -1;
    int64_t n = tok_bytelevel_decode(s, len, tmp);
    return n <= 0 ? -1 : tok_vocab_find(t, tmp, (size_t)n);
}

int tok_add_merge(struct rrm_tokenizer *t, int64_t rank, const char *a, size_t alen,
                  const char *b, size_t blen, rrm_err *err)
{
    if (NEVER(!t->pairs || (uint64_t)rank * 2 >= (uint64_t)t->pair_mask + 1))
        return rrm_errf(err, RRM_E_INTERNAL, "tokenizer: merge %lld without room",
                        (long long)rank);
    int32_t ia = find_bytelevel(t, a, alen), ib = find_bytelevel(t, b, blen);
    char cat[2 * TOK_MAX_PIECE];
    int32_t ic = -1;
    if (ia >= 0 && ib >= 0) {
        size_t la = t->piece_len[ia], lb = t->piece_len[ib];
        memcpy(cat, t->blob + t->piece_off[ia], la);
        memcpy(cat + la, t->blob + t->piece_off[ib], lb);
        ic = tok_vocab_find(t, cat, la + lb);
    }
    if (ia < 0 || ib < 0 || ic < 0)
        return rrm_errf(err, RRM_E_FORMAT,
                        "tokenizer: merge %lld '%.*s' + '%.*s': %s is not in the vocabulary",
                        (long long)rank, (int)(alen < 40 ? alen : 40), a,
                        (int)(blen < 40 ? blen : 40), b,
                        ia < 0 ? "the first part" : ib < 0 ? "the second part" : "the result");
    uint64_t k = tok_pair_key(ia, ib);
    uint32_t i = hash_u64(k) & t->pair_mask;
    while (t->pairs[i].key != UINT64_MAX && t->pairs[i].key != k) i = (i + 1) & t->pair_mask;
    if (t->pairs[i].key == k) return RRM_OK; /* a repeated merge keeps its first (best) rank */
    t->pairs[i].key = k;
    t->pairs[i].rank = (int32_t)rank;
    t->pairs[i].id = ic;
    t->n_merges++;
    return RRM_OK;
}

int tok_add_split(struct rrm_tokenizer *t, const char *pattern, size_t len, int literal,
                  rrm_err *err)
{
    if (t->n_splits == TOK_MAX_SPLITS)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer: more than %d Split pre-tokenizers",
                        TOK_MAX_SPLITS);
    int ec;
    PCRE2_SIZE eo;
    uint32_t opt = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, opt, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: pre-tokenizer regex at offset %zu: %s",
                        (size_t)eo, (const char *)msg);
    }
    /* JIT is an optimisation: without it the interpreter gives the same matches. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    t->re[t->n_splits++] = re;
    return RRM_OK;
}

static int cmp_added(const void *pa, const void *pb)
{
    const struct tok_added *a = pa, *b = pb;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

int tok_finish(struct rrm_tokenizer *t, rrm_err *err)
{
    for (int b = 0; b < 256; b++) {
        if (t->byte_id[b] < 0)
            return rrm_errf(err, RRM_E_UNSUPPORTED,
                            "tokenizer: byte 0x%02x has no vocabulary entry (not a byte-level BPE)",
                            b);
    }
    if (t->n_added) qsort(t->added, (size_t)t->n_added, sizeof *t->added, cmp_added);
    for (int i = 1; i < t->n_added; i++) {
        const struct tok_added *a = &t->added[i - 1], *b = &t->added[i];
        if (a->len == b->len && memcmp(t->blob + a->off, t->blob + b->off, a->len) == 0)
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer: added tokens %d and %d are the same",
                            a->id, b->id);
    }
    if (t->bos_id >= t->n_vocab || t->eos_id >= t->n_vocab)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer: bos %d / eos %d outside 0..%d", t->bos_id,
                        t->eos_id, t->n_vocab - 1);
    return RRM_OK;
}
