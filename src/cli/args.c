/*
 * args.c — small helpers shared by the subcommands: strict number parsing, id lists, and the
 * standard error report. Every parse error names the flag and the bad text.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_int(const char *flag, const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "rrm: %s wants an integer in %lld..%lld, got '%s'\n", flag, lo, hi,
                v ? v : "(nothing)");
        return -1;
    }
    *out = x;
    return 0;
}

int cli_float(const char *flag, const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || errno || end == v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "rrm: %s wants a number in %g..%g, got '%s'\n", flag, lo, hi,
                v ? v : "(nothing)");
        return -1;
    }
    *out = x;
    return 0;
}

int cli_parse_ids(const char *s, int32_t **ids, int64_t *n)
{
    int64_t cap = 16, k = 0;
    int32_t *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -1;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || x < 0 || x > INT32_MAX) {
            fprintf(stderr, "rrm: --ids: bad token id at '%.20s'\n", p);
            free(v);
            return -1;
        }
        if (k == cap) {
            cap *= 2;
            int32_t *nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[k++] = (int32_t)x;
        p = end;
    }
    *ids = v;
    *n = k;
    return 0;
}

int cli_fail(const char *what, const rrm_err *err)
{
    fprintf(stderr, "rrm %s: %s (%s)\n", what, err->msg[0] ? err->msg : "failed",
            rrm_status_name(err->code));
    return 1;
}

static void log_stderr(int level, const char *msg, void *user)
{
    int max = *(const int *)user;
    if (level <= max) fprintf(stderr, "rrm: %s\n", msg);
}

void cli_log_init(int verbose)
{
    static int level;
    level = verbose ? RRM_LOG_DEBUG : RRM_LOG_WARN;
    rrm_log_set(log_stderr, &level);
}
