/*
 * verdict.c — reads the judge's decision from model output (DESIGN.md §5): the last
 * \boxed{Assistant 1|2} after the final </think> (anywhere when there is no </think>); anything
 * else is invalid, with the reason and the byte span of the deciding box. The exact rules are in
 * rrm.h above rrm_verdict_parse. Model output is untrusted: any bytes, no NUL terminator
 * assumed, linear time, never reads outside [text, text + len).
 */
#include "judge/judge.h"

static const char think_end[] = "</think>";
static const char boxed[] = "\\boxed";
#define THINK_END_LEN (sizeof(think_end) - 1)
#define BOXED_LEN (sizeof(boxed) - 1)

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Offset of the last occurrence of `pat` (m bytes) in t[0..n), or -1. */
static long long find_last(const char *t, size_t n, const char *pat, size_t m)
{
    if (n < m) return -1;
    for (size_t i = n - m + 1; i-- > 0;) {
        if (t[i] == pat[0] && memcmp(t + i, pat, m) == 0) return (long long)i;
    }
    return -1;
}

/* Offset of the first occurrence of `pat` in t[from..n), or -1. */
static long long find_next(const char *t, size_t n, size_t from, const char *pat, size_t m)
{
    while (from + m <= n) {
        const char *p = memchr(t + from, pat[0], n - m + 1 - from);
        if (!p) return -1;
        size_t i = (size_t)(p - t);
        if (memcmp(p, pat, m) == 0) return (long long)i;
        from = i + 1;
    }
    return -1;
}

struct box {
    size_t begin, end;     /* [begin, end): from the backslash to just past the closing brace */
    size_t c_begin, c_end; /* content between the braces */
    int closed;
};

/* The box that starts at `j` (a "\boxed" match): 1 and *b filled when it is one (closed or
 * truncated), 0 when "\boxed" is followed by something other than blanks and "{". */
static int read_box(const char *t, size_t n, size_t j, struct box *b)
{
    size_t k = j + BOXED_LEN;
    while (k < n && is_blank(t[k]))
        k++;
    b->begin = j;
    b->closed = 0;
    if (k == n) { /* "\boxed" at the very end: the output stopped inside the box */
        b->end = b->c_begin = b->c_end = n;
        return 1;
    }
    if (t[k] != '{') return 0;
    b->c_begin = k + 1;
    size_t depth = 0;
    for (size_t m = k; m < n; m++) {
        if (t[m] == '\\' && m + 1 < n && (t[m + 1] == '{' || t[m + 1] == '}' || t[m + 1] == '\\')) {
            m++; /* an escaped brace or backslash: not structure */
        } else if (t[m] == '{') {
            depth++;
        } else if (t[m] == '}' && --depth == 0) {
            b->c_end = m;
            b->end = m + 1;
            b->closed = 1;
            return 1;
        }
    }
    b->end = b->c_end = n;
    return 1;
}

/* Last top-level box in t[from..to): 1 and *last filled, or 0 when there is none. A truncated
 * box swallows the rest of the range, so it is always the last one. */
static int last_box(const char *t, size_t to, size_t from, struct box *last)
{
    int found = 0;
    size_t i = from;
    for (;;) {
        long long j = find_next(t, to, i, boxed, BOXED_LEN);
        if (j < 0) break;
        struct box b;
        if (!read_box(t, to, (size_t)j, &b)) {
            i = (size_t)j + BOXED_LEN;
            continue;
        }
        *last = b;
        found = 1;
        if (!b.closed) break;
        i = b.end;
    }
    return found;
}

static void trim(const char *t, size_t *b, size_t *e)
{
    while (*b < *e && is_blank(t[*b]))
        (*b)++;
    while (*e > *b && is_blank(t[*e - 1]))
        (*e)--;
}

/* Verdict of a closed box's content: "Assistant" + [ \t]+ + 1|2, blanks trimmed, at most one
 * \text{...} wrapper. */
static int label_of(const char *t, size_t b, size_t e)
{
    static const char text_cmd[] = "\\text{";
    static const char word[] = "Assistant";
    trim(t, &b, &e);
    if (e - b >= sizeof(text_cmd) && memcmp(t + b, text_cmd, sizeof(text_cmd) - 1) == 0 &&
        t[e - 1] == '}') {
        b += sizeof(text_cmd) - 1;
        e--;
        trim(t, &b, &e);
    }
    size_t w = sizeof(word) - 1;
    if (e - b < w + 2 || memcmp(t + b, word, w) != 0) return RRM_VERDICT_INVALID;
    size_t i = b + w, sp = i;
    while (i < e && (t[i] == ' ' || t[i] == '\t'))
        i++;
    if (i == sp || i + 1 != e) return RRM_VERDICT_INVALID;
    if (t[i] == '1') return RRM_VERDICT_ASSISTANT_1;
    if (t[i] == '2') return RRM_VERDICT_ASSISTANT_2;
    return RRM_VERDICT_INVALID;
}

int rrm_verdict_parse(const char *text, size_t len, rrm_verdict_info *out, rrm_err *err)
{
    if (!out) return rrm_errf(err, RRM_E_INVAL, "verdict: NULL output");
    if (!text && len) return rrm_errf(err, RRM_E_INVAL, "verdict: NULL text with length %zu", len);
    rrm_verdict_info v = {0};
    long long te = text ? find_last(text, len, think_end, THINK_END_LEN) : -1;
    if (te >= 0) {
        v.has_think_end = 1;
        v.answer_begin = (size_t)te + THINK_END_LEN;
    }
    struct box b;
    if (!text || !last_box(text, len, v.answer_begin, &b)) {
        v.verdict = RRM_VERDICT_INVALID;
        v.reason = (te > 0 && last_box(text, (size_t)te, 0, &b)) ? RRM_VREASON_ONLY_IN_THOUGHT
                                                                 : RRM_VREASON_NO_BOX;
        *out = v;
        return RRM_OK;
    }
    v.box_begin = b.begin;
    v.box_end = b.end;
    if (!b.closed) {
        v.verdict = RRM_VERDICT_INVALID;
        v.reason = RRM_VREASON_UNCLOSED;
    } else {
        v.verdict = label_of(text, b.c_begin, b.c_end);
        v.reason = v.verdict == RRM_VERDICT_INVALID ? RRM_VREASON_BAD_LABEL : RRM_VREASON_OK;
    }
    *out = v;
    return RRM_OK;
}

const char *rrm_verdict_name(int verdict)
{
    switch (verdict) {
    case RRM_VERDICT_ASSISTANT_1:
        return "assistant_1";
    case RRM_VERDICT_ASSISTANT_2:
        return "assistant_2";
    default:
        return "invalid";
    }
}

const char *rrm_verdict_reason_name(int reason)
{
    switch (reason) {
    case RRM_VREASON_OK:
        return "ok";
    case RRM_VREASON_NO_BOX:
        return "no_box";
    case RRM_VREASON_ONLY_IN_THOUGHT:
        return "only_in_thought";
    case RRM_VREASON_UNCLOSED:
        return "unclosed";
    case RRM_VREASON_BAD_LABEL:
        return "bad_label";
    default:
        return "?";
    }
}
