/*
 * ggml_quant_check.c — compares rrm's quantizers and dequantizers with ggml's own, bit for bit:
 * loads the libggml-base.so that node-llama-cpp ships (its exported quantize_row_*_ref and
 * dequantize_row_*), quantizes the same inputs with both and compares the bytes, and
 * dequantizes the same bytes (ggml's output and random bytes with finite scales) with both and
 * compares the f32 bits. Inputs: normal values at several scales, all-zero / constant / one-hot
 * blocks, ties, tiny and huge magnitudes. Prints "ggml_quants: N passed, N failed" and exits
 * non-zero on any difference; exit 77 when the library cannot be loaded (test skipped).
 *   ggml_quant_check PATH/libggml-base.so [n_rows]
 */
#include "core/core.h"
#include "kernels/kernels.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*quant_fn)(const float *x, void *y, int64_t k);
typedef void (*deq_fn)(const void *x, float *y, int64_t k);

static const struct {
    int type;
    const char *q, *dq;
} types[] = {
    {RRM_TYPE_Q4_0, "quantize_row_q4_0_ref", "dequantize_row_q4_0"},
    {RRM_TYPE_Q4_1, "quantize_row_q4_1_ref", "dequantize_row_q4_1"},
    {RRM_TYPE_Q5_0, "quantize_row_q5_0_ref", "dequantize_row_q5_0"},
    {RRM_TYPE_Q5_1, "quantize_row_q5_1_ref", "dequantize_row_q5_1"},
    {RRM_TYPE_Q8_0, "quantize_row_q8_0_ref", "dequantize_row_q8_0"},
    {RRM_TYPE_Q4_K, "quantize_row_q4_K_ref", "dequantize_row_q4_K"},
    {RRM_TYPE_Q5_K, "quantize_row_q5_K_ref", "dequantize_row_q5_K"},
    {RRM_TYPE_Q6_K, "quantize_row_q6_K_ref", "dequantize_row_q6_K"},
};

/* Row r of the test input (n values): the pattern depends on r. */
static void make_row(struct rrm_rng *g, float *x, int64_t n, int r)
{
    static const double scales[] = {1.0, 0.02, 1e-3, 300.0, 1e-6};
    for (int64_t i = 0; i < n; i++) x[i] = (float)(rrm_rng_normal(g) * scales[r % 5]);
    switch (r % 9) {
    case 5: /* zero and constant stretches, a one-hot sub-block */
        for (int64_t i = 0; i < n && i < 64; i++) x[i] = 0.0f;
        for (int64_t i = 64; i < n && i < 96; i++) x[i] = 0.25f;
        if (n > 100) x[100] = -3.0f;
        break;
    case 6: /* small integers: many exact ties in the roundings */
        for (int64_t i = 0; i < n; i++) x[i] = (float)((int)(rrm_rng_u64(g) % 17) - 8) * 0.5f;
        break;
    case 7: /* all positive (k-quant mins at 0) */
        for (int64_t i = 0; i < n; i++) x[i] = fabsf(x[i]) + 0.1f;
        break;
    case 8: /* all zero */
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        break;
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ggml_quant_check PATH/libggml-base.so [n_rows]\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "ggml_quant_check: cannot load %s: %s (skipped)\n", argv[1], dlerror());
        return 77;
    }
    const int rows = argc > 2 ? atoi(argv[2]) : 64;
    const int64_t n = 1024; /* 4 super-blocks, 32 blocks of 32 */
    float *x = malloc(n * 4), *ya = malloc(n * 4), *yb = malloc(n * 4);
    uint8_t *qa = malloc(n * 2), *qb = malloc(n * 2);
    int pass = 0, fail = 0;
    struct rrm_rng g;
    rrm_rng_seed(&g, 7);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        quant_fn gq = (quant_fn)(uintptr_t)dlsym(lib, types[t].q);
        deq_fn gdq = (deq_fn)(uintptr_t)dlsym(lib, types[t].dq);
        const char *name = rrm_type_name(types[t].type);
        if (!gq || !gdq) {
            printf("%s: symbols missing in %s\n", name, argv[1]);
            fail++;
            continue;
        }
        size_t rb;
        rrm_row_bytes(types[t].type, n, &rb);
        int bad_q = 0, bad_dq = 0, bad_rand = 0;
        for (int r = 0; r < rows; r++) {
            make_row(&g, x, n, r);
            gq(x, qa, n);
            kern_quantize_row(types[t].type, x, qb, n);
            if (memcmp(qa, qb, rb) != 0) {
                size_t k = 0;
                while (qa[k] == qb[k]) k++;
                if (bad_q++ < 3)
                    printf("%s row %d: quantized bytes differ from byte %zu (ggml %02x, rrm %02x)\n",
                           name, r, k, qa[k], qb[k]);
            }
            gdq(qa, ya, n);
            kern_dequantize_row(types[t].type, qa, yb, n);
            if (memcmp(ya, yb, (size_t)n * 4) != 0 && bad_dq++ < 3)
                printf("%s row %d: dequantized floats differ\n", name, r);
            /* random bytes, scales forced finite (top f16 exponent bit cleared) */
            for (size_t k = 0; k < rb; k++) qa[k] = (uint8_t)rrm_rng_u64(&g);
            const int bb = rrm_type_block_bytes(types[t].type);
            const int k_quant = rrm_type_block(types[t].type) == 256;
            for (size_t b = 0; b < rb; b += (size_t)bb) {
                if (types[t].type == RRM_TYPE_Q6_K) {
                    qa[b + 209] &= 0xbf;
                } else {
                    qa[b + 1] &= 0xbf;
                    if (k_quant || types[t].type == RRM_TYPE_Q4_1 || types[t].type == RRM_TYPE_Q5_1)
                        qa[b + 3] &= 0xbf;
                }
            }
            gdq(qa, ya, n);
            kern_dequantize_row(types[t].type, qa, yb, n);
            if (memcmp(ya, yb, (size_t)n * 4) != 0 && bad_rand++ < 3)
                printf("%s row %d: dequantized random blocks differ\n", name, r);
        }
        int ok = !bad_q && !bad_dq && !bad_rand;
        printf("%s: %d rows x %lld: quantize %s, dequantize %s, random blocks %s\n", name, rows,
               (long long)n, bad_q ? "DIFF" : "same", bad_dq ? "DIFF" : "same",
               bad_rand ? "DIFF" : "same");
        ok ? pass++ : fail++;
    }
    printf("ggml_quants: %d passed, %d failed\n", pass, fail);
    free(x);
    free(ya);
    free(yb);
    free(qa);
    free(qb);
    dlclose(lib);
    return fail ? 1 : 0;
}
