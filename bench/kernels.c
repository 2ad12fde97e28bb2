/*
 * bench/kernels.c — matmul throughput of each kernel set (ref, avx512) for the Qwen2.5-0.5B and
 * RRM-7B (Qwen2-7B) FFN shapes, per weight type, for 1 row (decode: bound by memory bandwidth)
 * and 16 rows (batched decode / prefill: bound by arithmetic). Prints GFLOP/s (2 flops per
 * multiply-add) and GB/s of weights read. Timings only, no pass/fail (STYLE.md §7).
 *   build/bin/bench_kernels [--threads N] [--shapes 0.5b|7b|all] [--rows 1,16] [--sets ref,avx512]
 *                           [--types f32,f16,bf16,q8_0] [--min-time S] [--calls N]
 *   --types also takes q4_0,q4_1,q5_0,q5_1,q4_K,q5_K,q6_K (k-quants skip the 896-wide 0.5b
 *   ffn_up, whose rows are not a multiple of 256). GB/s counts the quantized bytes read.
 * The kernel sets are run in alternation, so drift on a shared machine hits them alike.
 */
#include "kernels/kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct job {
    const struct rrm_kernels *k;
    struct kern_matmul a;
    float *scratch;
    int64_t scratch_floats;
};

static void run_job(void *arg, int ith, int nth)
{
    struct job *j = arg;
    j->k->matmul(&j->a, j->scratch + (size_t)ith * (size_t)j->scratch_floats, ith, nth);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static int has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)) != NULL; p += n) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    }
    return 0;
}

/* Wall seconds per call, and process CPU seconds per call in *cpu: repeat until min_time has
 * passed and min_calls were made (the first call warms up and is not counted). On a shared machine the CPU time divided
 * by the thread count is the less noisy of the two for arithmetic-bound shapes. */
static double time_matmul(struct rrm_threadpool *tp, struct job *j, double min_time, int min_calls,
                          double *cpu)
{
    rrm_tp_run(tp, run_job, j);
    int calls = 0;
    double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t;
    do {
        rrm_tp_run(tp, run_job, j);
        calls++;
        t = now() - t0;
    } while (t < min_time || calls < min_calls);
    *cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / calls;
    return t / calls;
}

int main(int argc, char **argv)
{
    int threads = 2;
    const char *shapes = "all", *rows = "1,16", *sets = "ref,avx512", *types = "f32,f16,bf16,q8_0";
    double min_time = 0.5;
    int min_calls = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--shapes") == 0) shapes = argv[i + 1];
        else if (strcmp(argv[i], "--rows") == 0) rows = argv[i + 1];
        else if (strcmp(argv[i], "--sets") == 0) sets = argv[i + 1];
        else if (strcmp(argv[i], "--types") == 0) types = argv[i + 1];
        else if (strcmp(argv[i], "--min-time") == 0) min_time = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--calls") == 0) min_calls = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bench_kernels: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "bench_kernels: --threads %d not in 1..256\n", threads);
        return 2;
    }
    const struct {
        const char *model, *name;
        int64_t n_in, n_out;
    } shp[] = {{"0.5b", "ffn_up 896x4864", 896, 4864},    {"0.5b", "ffn_down 4864x896", 4864, 896},
               {"7b", "ffn_up 3584x18944", 3584, 18944}, {"7b", "ffn_down 18944x3584", 18944, 3584}};
    const int tys[] = {RRM_TYPE_F32,  RRM_TYPE_F16,  RRM_TYPE_BF16, RRM_TYPE_Q8_0,
                       RRM_TYPE_Q4_0, RRM_TYPE_Q4_1, RRM_TYPE_Q5_0, RRM_TYPE_Q5_1,
                       RRM_TYPE_Q4_K, RRM_TYPE_Q5_K, RRM_TYPE_Q6_K};
    const char *tyn[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1",
                         "q5_0", "q5_1", "q4_K", "q5_K", "q6_K"};
    const int n_tys = (int)(sizeof tys / sizeof tys[0]);
    const int row_opts[] = {1, 2, 4, 8, 16, 32, 64, 128, 512};
    const struct rrm_kernels *ks[2] = {kern_select("ref"), kern_select("avx512")};
    rrm_err err = {0};
    struct rrm_threadpool *tp;
    if (rrm_tp_init(&tp, threads, &err) != RRM_OK) {
        fprintf(stderr, "bench_kernels: %s\n", err.msg);
        return 1;
    }
    printf("%-6s %-20s %-5s %4s %-7s %10s %9s %8s %12s\n", "model", "matmul", "type", "rows",
           "kernels", "ms/call", "GFLOP/s", "GB/s", "GFLOP/s-cpu");
    struct rrm_rng rng;
    rrm_rng_seed(&rng, 1);
    for (size_t s = 0; s < sizeof shp / sizeof shp[0]; s++) {
        if (!has(shapes, "all") && !has(shapes, shp[s].model)) continue;
        const int64_t ni = shp[s].n_in, no = shp[s].n_out;
        float *wrow = malloc((size_t)ni * 4), *x = malloc((size_t)(512 * ni) * 4);
        float *y = malloc((size_t)(512 * no) * 4), *scr = malloc((size_t)(threads * 4 * ni) * 4);
        for (int64_t i = 0; i < 512 * ni; i++) x[i] = rrm_rng_float(&rng) - 0.5f;
        for (int t = 0; t < n_tys; t++) {
            if (!has(types, tyn[t])) continue;
            size_t rb;
            if (rrm_row_bytes(tys[t], ni, &rb) != RRM_OK) continue; /* n_in % 256 for k-quants */
            uint8_t *w = rrm_alloc_aligned(rb * (size_t)no);
            if (!wrow || !x || !y || !scr || !w) {
                fprintf(stderr, "bench_kernels: out of memory\n");
                return 1;
            }
            for (int64_t o = 0; o < no; o++) {
                for (int64_t i = 0; i < ni; i++) wrow[i] = (rrm_rng_float(&rng) - 0.5f) * 0.1f;
                kern_quantize_row(tys[t], wrow, w + (size_t)o * rb, ni);
            }
            for (size_t ir = 0; ir < sizeof row_opts / sizeof row_opts[0]; ir++) {
                char rs[8];
                snprintf(rs, sizeof rs, "%d", row_opts[ir]);
                if (!has(rows, rs)) continue;
                for (int ik = 0; ik < 2; ik++) {
                    if (!ks[ik] || !has(sets, ks[ik]->name)) continue;
                    struct job j = {ks[ik], {y, no, w, tys[t], NULL, x, ni, row_opts[ir], ni, no},
                                    scr, 4 * ni};
                    double cpu, sec = time_matmul(tp, &j, min_time, min_calls, &cpu);
                    double flops = 2.0 * (double)row_opts[ir] * (double)ni * (double)no;
                    printf("%-6s %-20s %-5s %4d %-7s %10.3f %9.1f %8.1f %12.1f\n", shp[s].model,
                           shp[s].name, tyn[t], row_opts[ir], ks[ik]->name, sec * 1e3,
                           flops / sec * 1e-9, (double)rb * (double)no / sec * 1e-9,
                           flops / (cpu / threads) * 1e-9);
                    fflush(stdout);
                }
            }
            rrm_free_aligned(w);
        }
        free(wrow);
        free(x);
        free(y);
        free(scr);
    }
    rrm_tp_free(tp);
    return 0;
}
