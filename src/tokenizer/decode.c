/*
 * decode.c — ids -> text: the bytes of each piece (ByteLevel already undone at load; added tokens
 * are their content), concatenated, with invalid UTF-8 replaced by U+FFFD per maximal invalid
 * subpart, as Rust's String::from_utf8_lossy does in HF `tokenizer.decode`. The streaming
 * decoder holds back the bytes of a character split across tokens and emits it once, whole.
 */
#include "tokenizer/tokenizer.h"

#define REPL "\xEF\xBF\xBD" /* U+FFFD */

static int check_id(const struct rrm_tokenizer *t, int32_t id, int64_t i, rrm_err *err)
{
    if (id < 0 || id >= t->n_vocab)
        return rrm_errf(err, RRM_E_INVAL, "detokenize: id %d (position %lld) outside 0..%d", id,
                        (long long)i, t->n_vocab - 1);
    return RRM_OK;
}

static int skipped(const struct rrm_tokenizer *t, int32_t id, int flags)
{
    return (flags & RRM_DETOK_SKIP_SPECIAL) && (t->attr[id] & TOK_ATTR_SPECIAL);
}

/* Writes the lossy UTF-8 form of s[0, len) to out (room for 3 * len bytes). With `hold`, a
 * character cut off at the end is not written; *held gets its length. Returns bytes written. */
static size_t lossy(const char *s, size_t len, char *out, int hold, size_t *held)
{
    size_t i = 0, o = 0;
    *held = 0;
    while (i < len) {
        int v;
        size_t k = tok_utf8_next(s + i, len - i, &v);
        if (v == 1) {
            memcpy(out + o, s + i, k);
            o += k;
        } else if (v == -1 && hold) {
            *held = k;
            break;
        } else {
            memcpy(out + o, REPL, 3);
            o += 3;
        }
        i += k;
    }
    return o;
}

int rrm_detokenize_alloc(const rrm_tokenizer *t, const int32_t *ids, int64_t n, int flags,
                         char **text, size_t *len, rrm_err *err)
{
    if (!t || (!ids && n) || n < 0 || !text || !len)
        return rrm_errf(err, RRM_E_INVAL, "detokenize: bad argument");
    size_t raw = 0;
    for (int64_t i = 0; i < n; i++) {
        int rc = check_id(t, ids[i], i, err);
        if (rc != RRM_OK) return rc;
        if (!skipped(t, ids[i], flags)) raw += t->piece_len[ids[i]];
    }
    size_t cap;
    if (!rrm_mul_size(&cap, raw, 4))
        return rrm_errf(err, RRM_E_LIMIT, "detokenize: %zu bytes is too long", raw);
    char *bytes = rrm_malloc(raw + 1), *out = rrm_malloc(cap + 1);
    if (!bytes || !out) {
        rrm_free(bytes);
        rrm_free(out);
        return rrm_errf(err, RRM_E_NOMEM, "detokenize: out of memory for %zu bytes", raw);
    }
    size_t k = 0, held;
    for (int64_t i = 0; i < n; i++) {
        if (skipped(t, ids[i], flags)) continue;
        memcpy(bytes + k, t->blob + t->piece_off[ids[i]], t->piece_len[ids[i]]);
        k += t->piece_len[ids[i]];
    }
    size_t o = lossy(bytes, k, out, 0, &held);
    out[o] = 0;
    rrm_free(bytes);
    *text = out;
    *len = o;
    return RRM_OK;
}

void rrm_text_free(char *text)
{
    rrm_free(text);
}

int rrm_detokenize(const rrm_tokenizer *t, const int32_t *ids, int64_t n, int flags, char *buf,
                   size_t cap, size_t *len, rrm_err *err)
{
    char *s;
    size_t k;
    if (!len || (cap && !buf)) return rrm_errf(err, RRM_E_INVAL, "detokenize: NULL argument");
    int rc = rrm_detokenize_alloc(t, ids, n, flags, &s, &k, err);
    if (rc != RRM_OK) return rc;
    *len = k;
    if (k + 1 > cap) {
        rrm_free(s);
        return rrm_errf(err, RRM_E_LIMIT, "detokenize: %zu bytes (+ NUL) do not fit in %zu", k,
                        cap);
    }
    memcpy(buf, s, k + 1);
    rrm_free(s);
    return RRM_OK;
}

/* ---- streaming ---- */

struct rrm_detok_stream {
    const struct rrm_tokenizer *t;
    int flags;
    char pend[4]; /* bytes of a character not complete yet (at most 3) */
    size_t n_pend;
    char *in, *out; /* scratch: pending + one piece, and its lossy form */
};

int rrm_detok_stream_init(rrm_detok_stream **out, const rrm_tokenizer *t, int flags,
                          rrm_err *err)
{
    if (!out || !t) return rrm_errf(err, RRM_E_INVAL, "detok_stream: NULL argument");
    struct rrm_detok_stream *s = rrm_calloc(1, sizeof *s);
    size_t n = (size_t)t->max_piece + 4;
    if (s) {
        s->in = rrm_malloc(n);
        s->out = rrm_malloc(3 * n + 1);
    }
    if (!s || !s->in || !s->out) {
        rrm_detok_stream_free(s);
        return rrm_errf(err, RRM_E_NOMEM, "detok_stream: out of memory");
    }
    s->t = t;
    s->flags = flags;
    *out = s;
    return RRM_OK;
}

void rrm_detok_stream_free(rrm_detok_stream *s)
{
    if (!s) return;
    rrm_free(s->in);
    rrm_free(s->out);
    rrm_free(s);
}

int rrm_detok_stream_push(rrm_detok_stream *s, int32_t id, const char **text, size_t *len,
                          rrm_err *err)
{
    if (!s || !text || !len) return rrm_errf(err, RRM_E_INVAL, "detok_stream: NULL argument");
    int rc = check_id(s->t, id, 0, err);
    if (rc != RRM_OK) return rc;
    size_t n = s->n_pend, held;
    memcpy(s->in, s->pend, n);
    if (!skipped(s->t, id, s->flags)) {
        memcpy(s->in + n, s->t->blob + s->t->piece_off[id], s->t->piece_len[id]);
        n += s->t->piece_len[id];
    }
    size_t o = lossy(s->in, n, s->out, 1, &held);
    memcpy(s->pend, s->in + n - held, held);
    s->n_pend = held;
    s->out[o] = 0;
    *text = s->out;
    *len = o;
    return RRM_OK;
}

int rrm_detok_stream_flush(rrm_detok_stream *s, const char **text, size_t *len, rrm_err *err)
{
    if (!s || !text || !len) return rrm_errf(err, RRM_E_INVAL, "detok_stream: NULL argument");
    size_t held, o = lossy(s->pend, s->n_pend, s->out, 0, &held);
    s->n_pend = 0;
    s->out[o] = 0;
    *text = s->out;
    *len = o;
    return RRM_OK;
}
