/*
 * str.c — growable NUL-terminated byte buffer (the sds idea without the header trick).
 * After a successful append, s->p may have moved: old pointers into it are invalid.
 */
#include "core.h"

#include <stdio.h>

static int grow(struct rrm_str *s, size_t extra)
{
    size_t need;
    if (!rrm_add_size(&need, s->len, extra) || !rrm_add_size(&need, need, 1)) return RRM_E_NOMEM;
    if (need <= s->cap) return RRM_OK;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need) {
        if (!rrm_mul_size(&cap, cap, 2)) return RRM_E_NOMEM;
    }
    char *p = rrm_realloc(s->p, cap);
    if (!p) return RRM_E_NOMEM;
    s->p = p;
    s->cap = cap;
    return RRM_OK;
}

int rrm_str_append(struct rrm_str *s, const char *data, size_t n)
{
    if (grow(s, n) != RRM_OK) return RRM_E_NOMEM;
    if (n) memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = 0;
    return RRM_OK;
}

int rrm_str_appendf(struct rrm_str *s, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(s, (size_t)n) != RRM_OK) {
        va_end(ap2);
        return RRM_E_NOMEM;
    }
    vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    s->len += (size_t)n;
    return RRM_OK;
}

void rrm_str_free(struct rrm_str *s)
{
    rrm_free(s->p);
    s->p = NULL;
    s->len = s->cap = 0;
}
