/*
 * cmd_eval.c — `rrm eval` (a resumable benchmark run into --out DIR) and `rrm eval-merge`
 * (shards into one report). A progress bar on stdout when it is a terminal (rows, ETA, tokens/s,
 * running accuracy), one log line per batch otherwise. Ctrl-C stops after the current forward;
 * rerunning the same command continues. Library logic is in src/eval.
 */
#define _DEFAULT_SOURCE
#include "cli/cli.h"
#include "core/core.h"
#include "eval/eval.h"

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct ui {
    int tty, quiet;
    double last;
};

static void fmt_eta(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e8) snprintf(buf, n, "?");
    else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static int on_progress(const struct eval_progress *p, void *user)
{
    struct ui *u = user;
    if (interrupted) return 1;
    if (u->quiet || (!u->tty && !p->batch_done)) return 0;
    double now = rrm_time_s();
    if (u->tty && !p->batch_done && now - u->last < 0.25) return 0;
    u->last = now;
    int64_t fresh = p->rows_done - p->rows_resumed;
    double eta = fresh > 0 ? p->seconds / (double)fresh * (double)(p->rows_total - p->rows_done)
                           : NAN;
    char e[32], acc[32] = "–";
    fmt_eta(e, sizeof e, eta);
    if (p->scored_rows) snprintf(acc, sizeof acc, "%.1f%%", 100 * p->score_sum / p->scored_rows);
    double tps = p->seconds > 0 ? (double)p->tokens / p->seconds : 0;
    if (u->tty) {
        int w = 30, fill = p->rows_total ? (int)(w * p->rows_done / p->rows_total) : 0;
        char bar[64];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
        bar[w] = 0;
        printf("\r[%s] %lld/%lld rows  ETA %s  %.1f tok/s  acc %s   ", bar,
               (long long)p->rows_done, (long long)p->rows_total, e, tps, acc);
    } else {
        printf("eval: %lld/%lld rows, %.1f tok/s, running accuracy %s, ETA %s\n",
               (long long)p->rows_done, (long long)p->rows_total, tps, acc, e);
    }
    fflush(stdout);
    return 0;
}

static void on_bad_row(const char *file, int64_t line, const char *msg, void *user)
{
    (void)user;
    fprintf(stderr, "rrm eval: %s:%lld: skipped: %s\n", file, (long long)line, msg);
}

static void on_log(const char *msg, void *user)
{
    struct ui *u = user;
    if (u->tty && !u->quiet) fputc('\n', stdout);
    fprintf(stderr, "rrm eval: %s\n", msg);
}

/* The shipped benchmark folder: $RRM_DATA, ../shared/data from the working directory, or
 * ../shared/data next to the repository the binary was built in (build/bin/rrm). */
static const char *default_data(char *buf, size_t n)
{
    const char *env = getenv("RRM_DATA");
    if (env && *env) return env;
    if (rrm_is_dir("../shared/data")) return "../shared/data";
    char exe[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (l > 0) {
        exe[l] = 0;
        char *d = dirname(dirname(dirname(exe))); /* <repo>/build/bin/rrm -> <repo> */
        snprintf(buf, n, "%s/../shared/data", d);
        if (rrm_is_dir(buf)) return buf;
    }
    return "../shared/data";
}

static void summary(const struct eval_scores *sc, const char *dir)
{
    for (int i = 0; i < sc->n_sections; i++) {
        if (isnan(sc->sections[i].score)) printf("  %-16s –\n", sc->sections[i].name);
        else printf("  %-16s %.1f\n", sc->sections[i].name, 100 * sc->sections[i].score);
    }
    if (sc->bench == EVAL_BENCH_PANDALM)
        printf("  %-16s %.1f (3-class, all %lld rows)\n", "agreement", 100 * sc->agreement,
               (long long)sc->rows);
    if (isnan(sc->overall)) printf("overall: – (no rows)\n");
    else printf("overall: %.1f%s over %lld rows — %s/report.md\n", 100 * sc->overall,
                sc->overall_partial ? " (partial)" : "", (long long)sc->rows, dir);
}

static int parse_shard(const char *v, int *i, int *n)
{
    char *e1, *e2;
    long a = v ? strtol(v, &e1, 10) : 0;
    if (!v || e1 == v || *e1 != '/') goto bad;
    long b = strtol(e1 + 1, &e2, 10);
    if (e2 == e1 + 1 || *e2 || b < 1 || b > 1 << 20 || a < 1 || a > b) goto bad;
    *i = (int)a;
    *n = (int)b;
    return 0;
bad:
    fprintf(stderr, "rrm eval: --shard wants I/N with 1 <= I <= N (e.g. 1/4), got '%s'\n",
            v ? v : "(nothing)");
    return -1;
}

int cli_eval(int argc, char **argv)
{
    const char *usage =
        "usage: rrm eval -m MODEL --bench NAME --out DIR [-k N] [--seed S] [--limit N]\n"
        "       [--subset S,...] [--shard I/N] [--max-tokens N] [--think-budget N]\n"
        "       [--temp T] [--top-p P] [--top-k K] [--min-p P] [-t N] [--batch ROWS]\n"
        "       [--kv-mem MIB (default 4096) | --kv-tokens N] [--kv-f16] [--template NAME]\n"
        "       [--n-batch TOKENS] [--both-orders] [--data DIR] [--on-bad-row fail|skip] [-q]\n"
        "NAME: rewardbench | pandalm | llmbar | judgebench | jsonl:FILE\n"
        "Rerunning the same command continues an interrupted run.\n";
    struct eval_params p;
    eval_default_params(&p);
    const char *shard = NULL, *bad_row = "fail";
    char databuf[PATH_MAX + 32];
    long long v = 0, kv_mem = 4096; /* MiB of KV cache at most (--kv-mem) */
    double f = 0;
    struct ui u = {isatty(1), 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
#define STR(flag, dst)                                                                        \
    if (strcmp(a, flag) == 0) {                                                               \
        if (!val) goto missing;                                                               \
        dst = val;                                                                            \
        i++;                                                                                  \
        continue;                                                                             \
    }
#define INT(flag, lo, hi, stmt)                                                               \
    if (strcmp(a, flag) == 0) {                                                               \
        if (cli_int(flag, val, lo, hi, &v) != 0) return 2;                                    \
        stmt;                                                                                 \
        i++;                                                                                  \
        continue;                                                                             \
    }
#define FLT(flag, lo, hi, stmt)                                                               \
    if (strcmp(a, flag) == 0) {                                                               \
        if (cli_float(flag, val, lo, hi, &f) != 0) return 2;                                  \
        stmt;                                                                                 \
        i++;                                                                                  \
        continue;                                                                             \
    }
        STR("-m", p.model) STR("--model", p.model) STR("--bench", p.bench)
        STR("--out", p.out_dir) STR("--subset", p.subsets) STR("--shard", shard)
        STR("--data", p.data_dir) STR("--on-bad-row", bad_row)
        STR("--template", p.judge.template_name)
        INT("-k", 1, 4096, p.judge.k = (int)v) INT("--seed", 0, INT64_MAX, p.judge.seed = v)
        INT("--limit", 0, INT64_MAX, p.limit = v)
        INT("--max-tokens", 1, 1 << 20, p.judge.max_new_tokens = v)
        INT("--think-budget", 0, 1 << 20, p.judge.think_budget = v)
        INT("--top-k", 0, 1 << 24, p.judge.sampling.top_k = (int)v)
        INT("-t", 1, 512, p.judge.n_threads = (int)v)
        INT("--threads", 1, 512, p.judge.n_threads = (int)v)
        INT("--batch", 1, 1024, p.batch = (int)v) INT("--kv-mem", 1, 1 << 24, kv_mem = v)
        INT("--kv-tokens", 1, 1 << 20, p.kv_budget = v)
        INT("--n-batch", 1, 1 << 16, p.judge.n_batch = (int)v)
        FLT("--temp", 0, 100, p.judge.sampling.temperature = (float)f)
        FLT("--top-p", 0, 1, p.judge.sampling.top_p = (float)f)
        FLT("--min-p", 0, 1, p.judge.sampling.min_p = (float)f)
#undef STR
#undef INT
#undef FLT
        if (strcmp(a, "--kv-f16") == 0) {
            p.judge.kv_type = RRM_KV_F16;
            continue;
        }
        if (strcmp(a, "--both-orders") == 0) {
            p.both_orders = 1;
            continue;
        }
        if (strcmp(a, "-q") == 0) {
            u.quiet = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        fprintf(stderr, "rrm eval: unknown option '%s'\n%s", a, usage);
        return 2;
    missing:
        fprintf(stderr, "rrm eval: %s needs a value\n", a);
        return 2;
    }
    if (!p.model || !p.bench || !p.out_dir) {
        fputs(usage, stderr);
        return 2;
    }
    if (shard && parse_shard(shard, &p.shard_i, &p.shard_n) != 0) return 2;
    if (strcmp(bad_row, "skip") != 0 && strcmp(bad_row, "fail") != 0) {
        fprintf(stderr, "rrm eval: --on-bad-row wants fail or skip, got '%s'\n", bad_row);
        return 2;
    }
    p.fail_bad = strcmp(bad_row, "fail") == 0;
    if (!p.data_dir) p.data_dir = default_data(databuf, sizeof databuf);
    cli_log_init(0);
    rrm_json_init();
    rrm_err err = {0};
    if (!p.kv_budget) {
        /* KV bytes per token: K and V for every layer (f32 or f16 elements). */
        rrm_model *m = NULL;
        if (rrm_model_load(&m, p.model, NULL, &err) != RRM_OK) return cli_fail("eval", &err);
        rrm_model_info info;
        rrm_model_get_info(m, &info);
        rrm_model_free(m);
        int64_t per = 2 * info.n_layer * info.n_head_kv * info.head_dim *
                      (p.judge.kv_type == RRM_KV_F16 ? 2 : 4);
        p.kv_budget = per > 0 ? (kv_mem << 20) / per : 0;
    }
    p.bad_row = on_bad_row;
    p.progress = on_progress;
    p.log = on_log;
    p.user = &u;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    struct eval_scores sc;
    int rc = eval_run(&p, &sc, &err);
    if (u.tty && !u.quiet) fputc('\n', stdout);
    if (rc == RRM_E_CANCELLED) {
        fprintf(stderr, "rrm eval: interrupted (%s); finished rows are saved: rerun the same "
                        "command to continue\n", err.msg);
        return 130;
    }
    if (rc != RRM_OK) return cli_fail("eval", &err);
    summary(&sc, p.out_dir);
    return 0;
}

int cli_eval_merge(int argc, char **argv)
{
    const char *usage = "usage: rrm eval-merge --out DIR SHARD_DIR...\n"
                        "Combines the shards of one run (rrm eval --shard I/N) into one report.\n";
    const char *out = NULL;
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    int n = 0;
    if (!dirs) return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            free(dirs);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "rrm eval-merge: unknown option '%s'\n%s", argv[i], usage);
            free(dirs);
            return 2;
        } else {
            dirs[n++] = argv[i];
        }
    }
    if (!out || n < 1) {
        fputs(usage, stderr);
        free(dirs);
        return 2;
    }
    cli_log_init(0);
    rrm_err err = {0};
    struct eval_scores sc;
    int missing = 0;
    int rc = eval_merge(dirs, n, out, &missing, &sc, &err);
    free(dirs);
    if (rc != RRM_OK) return cli_fail("eval-merge", &err);
    if (missing)
        fprintf(stderr, "rrm eval-merge: %d shard(s) missing: the report is partial\n", missing);
    summary(&sc, out);
    return 0;
}
