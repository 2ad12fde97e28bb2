/*
 * encode.c — text -> ids, as Hugging Face `tokenizer.encode(text, add_special_tokens=False)`:
 * strict UTF-8 check, added tokens (AddedVocabulary: leftmost-longest match, lstrip / rstrip /
 * single_word, raw-text tokens before normalization and `normalized` ones after), NFC through
 * utf8proc, the pre-tokenizer regex chain (PCRE2, behaviour Isolated), then BPE per piece.
 * With RRM_TOK_NO_SPECIAL no added token is recognised: the whole text is ordinary text.
 * Reentrant: all state of a call lives in `struct enc` on the caller's stack and its buffers.
 */
#include "tokenizer/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <utf8proc.h>

/* ---- UTF-8 ---- */

size_t tok_utf8_next(const char *str, size_t len, int *valid)
{
    const uint8_t *s = (const uint8_t *)str;
    uint8_t c = s[0];
    if (c < 0x80) {
        *valid = 1;
        return 1;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte (Unicode Table 3-7) */
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *valid = 0;
        return 1;
    }
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= len) {
            *valid = -1; /* truncated, could still be completed */
            return i;
        }
        uint8_t b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) {
            *valid = 0;
            return i;
        }
    }
    *valid = 1;
    return need;
}

size_t tok_utf8_valid_prefix(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if ((uint8_t)s[i] < 0x80) { /* ASCII runs, 8 bytes at a time */
            uint64_t w;
            if (i + 8 <= len && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0)) {
                i += 8;
                continue;
            }
            i++;
            continue;
        }
        int v;
        size_t k = tok_utf8_next(s + i, len - i, &v);
        if (v != 1) return i;
        i += k;
    }
    return len;
}

static uint32_t decode_cp(const uint8_t *s, size_t k)
{
    if (k == 1) return s[0];
    if (k == 2) return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    if (k == 3)
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

/* Unicode White_Space (PropList.txt), what Rust's char::is_whitespace tests. */
static int is_ws(uint32_t c)
{
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static int is_word(uint32_t c)
{
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return c == '_' || (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

/* Start of the character that ends at s[end) (text is valid UTF-8). */
static size_t char_before(const uint8_t *s, size_t end)
{
    size_t i = end - 1;
    while (i > 0 && (s[i] & 0xC0) == 0x80) i--;
    return i;
}

/* ---- one encode call ---- */

struct enc {
    const struct rrm_tokenizer *t;
    const char *base;            /* the caller's text: spans are offsets into it */
    const struct rrm_span *spans; /* stretches where no added token is recognised (sorted) */
    size_t n_spans, span_at;     /* span_at: first span that may still matter */
    int32_t *ids;
    int64_t n, cap;
    uint8_t *scratch;
    size_t scratch_cap;
    pcre2_match_data *md;
    rrm_err *err;
};

static int enc_reserve(struct enc *e, size_t more)
{
    if ((uint64_t)e->n + more > (uint64_t)e->cap) {
        uint64_t cap = e->cap ? (uint64_t)e->cap : 256;
        while (cap < (uint64_t)e->n + more) cap *= 2;
        size_t bytes;
        if (!rrm_mul_size(&bytes, (size_t)cap, sizeof *e->ids))
            return rrm_errf(e->err, RRM_E_LIMIT, "tokenize: too many ids");
        int32_t *ni = rrm_realloc(e->ids, bytes);
        if (!ni) return rrm_errf(e->err, RRM_E_NOMEM, "tokenize: out of memory for %llu ids",
                                 (unsigned long long)cap);
        e->ids = ni;
        e->cap = (int64_t)cap;
    }
    size_t need = tok_bpe_scratch(more);
    if (need > e->scratch_cap) {
        rrm_free(e->scratch);
        e->scratch = rrm_malloc(need);
        e->scratch_cap = e->scratch ? need : 0;
        if (!e->scratch) return rrm_errf(e->err, RRM_E_NOMEM, "tokenize: out of memory");
    }
    return RRM_OK;
}

static int piece(struct enc *e, const char *s, size_t len)
{
    int rc = enc_reserve(e, len);
    if (rc != RRM_OK) return rc;
    return tok_bpe(e->t, (const uint8_t *)s, len, e->ids, &e->n, e->scratch);
}

/* Split stage k (regex e->t->re[k], behaviour Isolated: matches and the gaps between them are
 * pieces), each piece going to stage k + 1, the last stage to BPE. */
static int split(struct enc *e, int k, const char *s, size_t len)
{
    if (len == 0) return RRM_OK;
    if (k == e->t->n_splits) return piece(e, s, len);
    const pcre2_code *re = e->t->re[k];
    size_t pos = 0, from = 0;
    while (from <= len) {
        int r = pcre2_match(re, (PCRE2_SPTR)s, len, from, PCRE2_NO_UTF_CHECK, e->md, NULL);
        if (r == PCRE2_ERROR_NOMATCH) break;
        if (r < 0) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(r, msg, sizeof msg);
            return rrm_errf(e->err, RRM_E_LIMIT, "tokenize: pre-tokenizer regex at byte %zu: %s",
                            from, (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) { /* empty match: not a piece; step over one character */
            if (ms >= len) break;
            int v;
            from = ms + tok_utf8_next(s + ms, len - ms, &v);
            continue;
        }
        int rc;
        if (ms > pos && (rc = split(e, k + 1, s + pos, ms - pos)) != RRM_OK) return rc;
        if ((rc = split(e, k + 1, s + ms, me - ms)) != RRM_OK) return rc;
        pos = from = me;
    }
    return pos < len ? split(e, k + 1, s + pos, len - pos) : RRM_OK;
}

/* Normalizes (NFC) then pre-tokenizes one stretch of ordinary text. Text whose bytes are all
 * below 0xCC (code points < U+0300, which never change under NFC) skips utf8proc. */
static int normalized_text(struct enc *e, const char *s, size_t len, int added_pass);

static int plain(struct enc *e, const char *s, size_t len)
{
    return split(e, 0, s, len);
}

/* 1 when [off, off + len) of the caller's text overlaps a plain-text span. Offsets only grow
 * from call to call, so spans that end before them are dropped for good. */
static int in_span(struct enc *e, size_t off, size_t len)
{
    while (e->span_at < e->n_spans &&
           e->spans[e->span_at].off + e->spans[e->span_at].len <= off)
        e->span_at++;
    for (size_t k = e->span_at; k < e->n_spans && e->spans[k].off < off + len; k++)
        if (e->spans[k].len) return 1;
    return 0;
}

/* Finds the leftmost-longest added token in s[from, len) among those whose `normalized` flag
 * is `norm` (and, with spans, outside them). Returns its index in t->added or -1; *at gets the
 * match start. */
static int find_added(struct enc *e, const char *s, size_t len, size_t from, int norm,
                      size_t *at)
{
    const struct rrm_tokenizer *t = e->t;
    for (size_t i = from; i < len; i++) {
        if (!t->added_first[(uint8_t)s[i]]) continue;
        for (int j = 0; j < t->n_added; j++) {
            const struct tok_added *a = &t->added[j];
            if (a->normalized != norm || a->len > len - i) continue;
            if (memcmp(s + i, t->blob + a->off, a->len) == 0) {
                if (e->n_spans && in_span(e, (size_t)(s + i - e->base), a->len)) continue;
                *at = i;
                return j;
            }
        }
    }
    return -1;
}

/* Splits s on added tokens (flag `norm`); ordinary stretches go to `rest`. */
static int added_split(struct enc *e, const char *s, size_t len, int norm,
                       int (*rest)(struct enc *, const char *, size_t))
{
    const struct rrm_tokenizer *t = e->t;
    const uint8_t *u = (const uint8_t *)s;
    size_t done = 0, from = 0, at;
    int j, rc;
    while ((j = find_added(e, s, len, from, norm, &at)) >= 0) {
        const struct tok_added *a = &t->added[j];
        size_t start = at, stop = at + a->len;
        from = stop;
        if (a->single_word) {
            int v;
            size_t k;
            int left = start == 0 ||
                       !is_word(decode_cp(u + char_before(u, start),
                                          start - char_before(u, start)));
            int right = stop == len || (k = tok_utf8_next(s + stop, len - stop, &v),
                                        !is_word(decode_cp(u + stop, k)));
            if (!left || !right) continue;
        }
        if (a->lstrip) {
            while (start > done) {
                size_t b = char_before(u, start);
                if (!is_ws(decode_cp(u + b, start - b))) break;
                start = b;
            }
        }
        if (a->rstrip) {
            while (stop < len) {
                int v;
                size_t k = tok_utf8_next(s + stop, len - stop, &v);
                if (!is_ws(decode_cp(u + stop, k))) break;
                stop += k;
            }
            from = stop;
        }
        if (start > done && (rc = rest(e, s + done, start - done)) != RRM_OK) return rc;
        if ((rc = enc_reserve(e, 1)) != RRM_OK) return rc;
        e->ids[e->n++] = a->id;
        done = stop;
    }
    return done < len ? rest(e, s + done, len - done) : RRM_OK;
}

static int normalized_after_added(struct enc *e, const char *s, size_t len)
{
    return normalized_text(e, s, len, 1);
}

static int normalized_plain(struct enc *e, const char *s, size_t len)
{
    return normalized_text(e, s, len, 0);
}

static int normalized_text(struct enc *e, const char *s, size_t len, int added_pass)
{
    int need = 0;
    if (e->t->nfc) {
        for (size_t i = 0; i < len && !need; i++) need = (uint8_t)s[i] >= 0xCC;
    }
    utf8proc_uint8_t *nfc = NULL;
    if (need) {
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
                                          &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0)
            return rrm_errf(e->err, r == UTF8PROC_ERROR_NOMEM ? RRM_E_NOMEM : RRM_E_FORMAT,
                            "tokenize: NFC: %s", utf8proc_errmsg(r));
        s = (const char *)nfc;
        len = (size_t)r;
    }
    int rc = added_pass ? added_split(e, s, len, 1, plain) : plain(e, s, len);
    free(nfc); /* utf8proc allocates with malloc */
    return rc;
}

int rrm_tokenize_spans_alloc(const rrm_tokenizer *t, const char *text, size_t len,
                             const struct rrm_span *spans, size_t n_spans, int flags,
                             int32_t **ids, int64_t *n_ids, rrm_err *err)
{
    if (!t || (!text && len) || !ids || !n_ids || (!spans && n_spans))
        return rrm_errf(err, RRM_E_INVAL, "tokenize: NULL argument");
    for (size_t k = 0; k < n_spans; k++) {
        size_t lo = k ? spans[k - 1].off + spans[k - 1].len : 0;
        if (spans[k].off < lo || spans[k].off > len || spans[k].len > len - spans[k].off)
            return rrm_errf(err, RRM_E_INVAL, "tokenize: span %zu [%zu, +%zu) is out of order "
                            "or outside the text of %zu bytes", k, spans[k].off, spans[k].len,
                            len);
    }
    for (int i = 0; n_spans && i < t->n_added; i++)
        if (t->added[i].normalized)
            return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenize: plain-text spans with added "
                            "tokens matched after normalization (id %d) are not supported",
                            t->added[i].id);
    size_t ok = len ? tok_utf8_valid_prefix(text, len) : 0;
    if (ok != len)
        return rrm_errf(err, RRM_E_FORMAT,
                        "tokenize: invalid UTF-8 at byte offset %zu (byte 0x%02x) of %zu", ok,
                        (uint8_t)text[ok], len);
    struct enc e = {.t = t, .err = err, .base = text, .spans = spans, .n_spans = n_spans};
    int rc = RRM_OK;
    if (t->n_splits) {
        e.md = pcre2_match_data_create(1, NULL);
        if (!e.md) return rrm_errf(err, RRM_E_NOMEM, "tokenize: out of memory");
    }
    if (len) {
        int has_norm = 0, use_added = !(flags & RRM_TOK_NO_SPECIAL) && t->n_added;
        for (int i = 0; use_added && i < t->n_added; i++) has_norm |= t->added[i].normalized;
        if (!use_added) rc = normalized_text(&e, text, len, 0);
        else rc = added_split(&e, text, len, 0,
                              has_norm ? normalized_after_added : normalized_plain);
    }
    pcre2_match_data_free(e.md);
    rrm_free(e.scratch);
    if (rc == RRM_OK && !e.ids) {
        e.ids = rrm_malloc(sizeof *e.ids);
        if (!e.ids) rc = rrm_errf(err, RRM_E_NOMEM, "tokenize: out of memory");
    }
    if (rc != RRM_OK) {
        rrm_free(e.ids);
        return rc;
    }
    *ids = e.ids;
    *n_ids = e.n;
    return RRM_OK;
}

int rrm_tokenize_alloc(const rrm_tokenizer *t, const char *text, size_t len, int flags,
                       int32_t **ids, int64_t *n_ids, rrm_err *err)
{
    return rrm_tokenize_spans_alloc(t, text, len, NULL, 0, flags, ids, n_ids, err);
}

void rrm_tokens_free(int32_t *ids)
{
    rrm_free(ids);
}

int rrm_tokenize(const rrm_tokenizer *t, const char *text, size_t len, int flags, int32_t *ids,
                 int64_t n_max, int64_t *n_ids, rrm_err *err)
{
    int32_t *v;
    int64_t n;
    if (!n_ids || (n_max > 0 && !ids))
        return rrm_errf(err, RRM_E_INVAL, "tokenize: NULL argument");
    int rc = rrm_tokenize_alloc(t, text, len, flags, &v, &n, err);
    if (rc != RRM_OK) return rc;
    *n_ids = n;
    if (n > n_max) {
        rrm_free(v);
        return rrm_errf(err, RRM_E_LIMIT, "tokenize: %lld ids do not fit in %lld", (long long)n,
                        (long long)n_max);
    }
    if (n) memcpy(ids, v, (size_t)n * sizeof *ids);
    rrm_free(v);
    return RRM_OK;
}
