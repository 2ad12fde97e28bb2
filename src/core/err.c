/*
 * err.c — rrm_err filling, status names, and the invariant-failure hook.
 * Messages follow STYLE.md §3: they name the function, the object and the numbers.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>

int rrm_errf(rrm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int rrm_err_prefix(rrm_err *err, const char *fmt, ...)
{
    if (!err) return RRM_E_INTERNAL;
    char pre[128], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(pre);
    if (n + 2 >= sizeof err->msg) n = sizeof err->msg - 3;
    memcpy(err->msg, pre, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof err->msg - n - 3;
    size_t m = strnlen(old, rest);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = 0;
    return err->code;
}

const char *rrm_status_name(int code)
{
    switch (code) {
    case RRM_OK: return "RRM_OK";
    case RRM_E_IO: return "RRM_E_IO";
    case RRM_E_FORMAT: return "RRM_E_FORMAT";
    case RRM_E_NOMEM: return "RRM_E_NOMEM";
    case RRM_E_INVAL: return "RRM_E_INVAL";
    case RRM_E_UNSUPPORTED: return "RRM_E_UNSUPPORTED";
    case RRM_E_LIMIT: return "RRM_E_LIMIT";
    case RRM_E_CANCELLED: return "RRM_E_CANCELLED";
    case RRM_E_INTERNAL: return "RRM_E_INTERNAL";
    default: return "RRM_E_UNKNOWN";
    }
}

/* Only reached through RRM_ASSERT/NEVER in debug builds: a bug of ours, not bad input. */
void rrm_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "rrm: internal assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
