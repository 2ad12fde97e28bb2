/*
 * json_scan.c — a strict, bounded JSON scanner (RFC 8259) for the two big parts of
 * tokenizer.json: model.vocab (an object of 150k string -> id pairs) and model.merges (150k
 * strings or pairs). Building a Jansson tree for them costs ~0.5 s and 90 MB; scanning them in
 * place costs a few tens of ms. Everything else of the file still goes through Jansson: the
 * scanner only splits the document into (key, value span) pairs, validates each skipped value's
 * syntax (strings: escapes, surrogate pairs, control characters, UTF-8; numbers; literals;
 * nesting depth) and decodes strings. Errors name the byte offset.
 */
#include "tokenizer/tokenizer.h"

#include "tokenizer/json_scan.h"

#define JS_MAX_DEPTH 64

static int js_fail(struct js *s, rrm_err *err, const char *what)
{
    return rrm_errf(err, RRM_E_FORMAT, "%s: byte offset %zu: %s", s->what,
                    (size_t)(s->p - s->start), what);
}

void js_ws(struct js *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

int js_expect(struct js *s, char c, rrm_err *err)
{
    js_ws(s);
    if (s->p >= s->end || *s->p != c) {
        char msg[32];
        snprintf(msg, sizeof msg, "expected '%c'", c);
        return js_fail(s, err, msg);
    }
    s->p++;
    return RRM_OK;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

int js_string(struct js *s, char *out, size_t cap, size_t *len, rrm_err *err)
{
    js_ws(s);
    if (s->p >= s->end || *s->p != '"') return js_fail(s, err, "expected a string");
    s->p++;
    size_t n = 0;
    for (;;) {
        const char *run = s->p; /* copy plain bytes in runs */
        while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (uint8_t)*s->p >= 0x20) s->p++;
        size_t k = (size_t)(s->p - run);
        if (tok_utf8_valid_prefix(run, k) != k) {
            s->p = run + tok_utf8_valid_prefix(run, k);
            return js_fail(s, err, "invalid UTF-8 in a string");
        }
        if (out) {
            if (n + k > cap) return js_fail(s, err, "string too long");
            memcpy(out + n, run, k);
        }
        n += k;
        if (s->p >= s->end) return js_fail(s, err, "unterminated string");
        char c = *s->p;
        if (c == '"') {
            s->p++;
            break;
        }
        if (c != '\\') return js_fail(s, err, "control character in a string");
        if (s->end - s->p < 2) return js_fail(s, err, "unterminated escape");
        char e = s->p[1], tmp[4];
        size_t tl = 1;
        s->p += 2;
        switch (e) {
        case '"': case '\\': case '/': tmp[0] = e; break;
        case 'b': tmp[0] = '\b'; break;
        case 'f': tmp[0] = '\f'; break;
        case 'n': tmp[0] = '\n'; break;
        case 'r': tmp[0] = '\r'; break;
        case 't': tmp[0] = '\t'; break;
        case 'u': {
            uint32_t c1, c2;
            if (s->end - s->p < 4 || hex4(s->p, &c1)) return js_fail(s, err, "bad \\u escape");
            s->p += 4;
            if (c1 >= 0xDC00 && c1 <= 0xDFFF) return js_fail(s, err, "lone low surrogate");
            if (c1 >= 0xD800 && c1 <= 0xDBFF) {
                if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
                    hex4(s->p + 2, &c2) || c2 < 0xDC00 || c2 > 0xDFFF)
                    return js_fail(s, err, "lone high surrogate");
                s->p += 6;
                c1 = 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00);
            }
            if (c1 == 0) return js_fail(s, err, "\\u0000 in a string");
            tl = put_utf8(tmp, c1);
            break;
        }
        default: return js_fail(s, err, "bad escape");
        }
        if (out) {
            if (n + tl > cap) return js_fail(s, err, "string too long");
            memcpy(out + n, tmp, tl);
        }
        n += tl;
    }
    if (len) *len = n;
    return RRM_OK;
}

int js_int(struct js *s, int64_t *out, rrm_err *err)
{
    js_ws(s);
    int64_t v = 0;
    const char *b = s->p;
    if (s->p < s->end && *s->p == '-') return js_fail(s, err, "negative id");
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (v > (INT64_MAX - 9) / 10) return js_fail(s, err, "number too large");
        v = v * 10 + (*s->p++ - '0');
    }
    if (s->p == b || (s->p - b > 1 && *b == '0')) return js_fail(s, err, "expected an integer");
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return js_fail(s, err, "expected an integer");
    *out = v;
    return RRM_OK;
}

static int js_number(struct js *s, rrm_err *err)
{
    const char *p = s->p;
    if (p < s->end && *p == '-') p++;
    if (p < s->end && *p == '0') p++;
    else if (p < s->end && *p >= '1' && *p <= '9') while (p < s->end && *p >= '0' && *p <= '9') p++;
    else return js_fail(s, err, "bad number");
    if (p < s->end && *p == '.') {
        const char *q = ++p;
        while (p < s->end && *p >= '0' && *p <= '9') p++;
        if (p == q) return js_fail(s, err, "bad number");
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-')) p++;
        const char *q = p;
        while (p < s->end && *p >= '0' && *p <= '9') p++;
        if (p == q) return js_fail(s, err, "bad number");
    }
    s->p = p;
    return RRM_OK;
}

static int js_skip_depth(struct js *s, int depth, rrm_err *err)
{
    if (depth > JS_MAX_DEPTH) return js_fail(s, err, "nesting too deep");
    js_ws(s);
    if (s->p >= s->end) return js_fail(s, err, "unexpected end");
    char c = *s->p;
    if (c == '"') return js_string(s, NULL, 0, NULL, err);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->p++;
        js_ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return RRM_OK;
        }
        for (;;) {
            int rc;
            if (c == '{' && ((rc = js_string(s, NULL, 0, NULL, err)) != RRM_OK ||
                             (rc = js_expect(s, ':', err)) != RRM_OK))
                return rc;
            if ((rc = js_skip_depth(s, depth + 1, err)) != RRM_OK) return rc;
            js_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            return js_expect(s, close, err);
        }
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i]);
        if ((size_t)(s->end - s->p) >= l && memcmp(s->p, lits[i], l) == 0) {
            s->p += l;
            return RRM_OK;
        }
    }
    return js_number(s, err);
}

int js_skip(struct js *s, rrm_err *err)
{
    return js_skip_depth(s, 1, err);
}

int js_next_member(struct js *s, int *first, char *key, size_t cap, size_t *klen,
                   rrm_err *err)
{
    js_ws(s);
    if (*first) {
        *first = 0;
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return 0;
        }
    } else {
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return 0;
        }
        int rc = js_expect(s, ',', err);
        if (rc != RRM_OK) return rc;
    }
    int rc = js_string(s, key, cap, klen, err);
    if (rc == RRM_OK) rc = js_expect(s, ':', err);
    if (rc == RRM_OK) js_ws(s);
    return rc == RRM_OK ? 1 : rc;
}

int js_next_elem(struct js *s, int *first, rrm_err *err)
{
    js_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    if (!*first) {
        int rc = js_expect(s, ',', err);
        if (rc != RRM_OK) return rc;
    }
    *first = 0;
    js_ws(s);
    return 1;
}
