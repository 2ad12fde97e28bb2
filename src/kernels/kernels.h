/*
 * kernels.h — numeric kernels: matmul/dot for each weight type, norms, RoPE, softmax, SiLU,
 * quantize/dequantize. src/kernels/ref/ is the scalar spec; per-ISA files come with issue #6.
 * Kernels never allocate or lock; threaded kernels take (ith, nth) and split contiguous output
 * ranges so results do not depend on the thread count.
 *
 * The forward reaches the kernels through `struct rrm_kernels`, a table of function pointers
 * chosen once per context (kern_select): "ref" or "avx512"; RRM_KERNELS=ref forces ref.
 *
 * Reduction order (the spec every variant must reproduce, or document its ULP distance from):
 *   dot(a, b, n): 16 lane partial sums in f32, lane k accumulates a[i]*b[i] for i % 16 == k in
 *   increasing i (mul then add, no FMA), then lanes are combined pairwise (k += k+8, k += k+4,
 *   k += k+2, k += k+1). It does not depend on the batch size or the thread count.
 *   matmul: every weight row is first dequantized exactly to f32 (F16, BF16 and Q8_0 d*q are all
 *   exact in f32; the 4/5/6-bit types give the f32 bits of ggml's dequantize_row_*), then
 *   y = dot(w_row, x_row) (+ bias). So a matmul over F16/BF16/Q8_0 weights is
 *   bit-identical to an F32 matmul over the dequantized weights.
 */
#ifndef RRM_KERNELS_H
#define RRM_KERNELS_H

#include "core/core.h"

/* Quantizes n floats into dst, bit-exact with ggml's quantize_row_*_ref. n must be a multiple
 * of the type's block (RRM_E_INVAL otherwise). Types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1, Q4_K, Q5_K, Q6_K (others: RRM_E_UNSUPPORTED). */
int kern_quantize_row(int type, const float *src, void *dst, int64_t n);
/* Dequantizes n elements of `type` into dst. Same types as above. */
int kern_dequantize_row(int type, const void *src, float *dst, int64_t n);

/* 1 for the weight types matmul accepts (F32, F16, BF16, Q8_0 and the kern_kq_type ones). */
int kern_matmul_type_ok(int type);

/* The 4/5/6-bit types of ref/kquant.c: Q4_0, Q4_1, Q5_0, Q5_1 (32 per block), Q4_K, Q5_K, Q6_K
 * (256 per block). kern_kq_type says 1 for them. The block functions take whole blocks
 * (n_blocks * rrm_type_block(type) elements); the row functions above check n. */
int kern_kq_type(int type);
void kern_kq_quantize(int type, const float *x, uint8_t *y, int64_t n_blocks);
void kern_kq_dequantize(int type, const uint8_t *x, float *y, int64_t n_blocks);
/* 6-bit scale *d and min *m of sub-block j (0..7) of a Q4_K/Q5_K block's 12 scale bytes q
 * (ggml's get_scale_min_k4). */
void kern_kq_scale_min(int j, const uint8_t *q, uint8_t *d, uint8_t *m);

/* One matrix product y[r][o] = sum_i W[o][i] * x[r][i] (+ bias[o]) for r < n_rows, o < n_out.
 * W: n_out rows of n_in elements of `wtype`, row stride rrm_row_bytes(wtype, n_in); F32 rows must
 * be 4-byte aligned, F16/BF16 2-byte aligned, Q8_0 any. x: n_rows x n_in floats (row stride
 * ldx); y: n_rows x n_out floats (row stride ldy). bias: n_out floats or NULL. */
struct kern_matmul {
    float *y;
    int64_t ldy;
    const void *w;
    int wtype;
    const float *bias;
    const float *x;
    int64_t ldx;
    int64_t n_rows, n_in, n_out;
};

/* The dispatch table. Every entry has a ref twin with the same signature (STYLE.md §6). */
struct rrm_kernels {
    const char *name;
    /* fixed-order dot product of two f32 vectors (see the reduction order above) */
    float (*dot)(const float *a, const float *b, int64_t n);
    /* Thread ith of nth computes outputs o in rrm_split(n_out, ith, nth) for every row.
     * scratch: 4 * n_in floats owned by this thread (weight rows are dequantized there). */
    void (*matmul)(const struct kern_matmul *a, float *scratch, int ith, int nth);
    /* y = x * rsqrt(mean(x^2) + eps) * w (HF Qwen2RMSNorm; mean in double, rounded to f32,
     * eps added in f32). y may equal x. */
    void (*rmsnorm)(float *y, const float *x, const float *w, int64_t n, float eps);
    /* RoPE, HF rotate-half (llama.cpp NEOX): for each of n_head heads of head_dim floats at x,
     * pairs (i, i + head_dim/2) rotate by the angle whose cos/sin are cs[i], sn[i]. */
    void (*rope)(float *x, int64_t n_head, int64_t head_dim, const float *cs, const float *sn);
    /* in-place softmax over n floats (max-subtracted, sum in double) */
    void (*softmax)(float *x, int64_t n);
    /* g[i] = silu(g[i]) * u[i], silu(x) = x / (1 + exp(-x)) */
    void (*silu_mul)(float *g, const float *u, int64_t n);
    /* y[i] += x[i] */
    void (*add)(float *y, const float *x, int64_t n);
    /* y[i] += a * x[i] */
    void (*axpy)(float *y, float a, const float *x, int64_t n);
};

/* The reference kernels (always available). */
extern const struct rrm_kernels kern_ref;

/* Picks a kernel set: `name` "ref", "avx512" (NULL if this CPU lacks it), or NULL/""/"auto"
 * for the best for this CPU (avx512 when cpuid and xgetbv say so, else ref). The environment
 * variable RRM_KERNELS, when set, overrides `name`. Returns NULL for an unknown name. The
 * tables are static and immutable. */
const struct rrm_kernels *kern_select(const char *name);

/* ref kernels, exposed for tests and for ISA variants' tails */
float kern_ref_dot(const float *a, const float *b, int64_t n);
void kern_ref_matmul(const struct kern_matmul *a, float *scratch, int ith, int nth);
void kern_ref_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
void kern_ref_rope(float *x, int64_t n_head, int64_t head_dim, const float *cs, const float *sn);
void kern_ref_softmax(float *x, int64_t n);
void kern_ref_silu_mul(float *g, const float *u, int64_t n);
void kern_ref_add(float *y, const float *x, int64_t n);
void kern_ref_axpy(float *y, float a, const float *x, int64_t n);

/* AVX-512 kernels (src/kernels/avx512/, x86-64 with AVX-512 F/BW/VL/DQ + F16C: Zen 4,
 * Sapphire Rapids, Ice Lake). Bit-identical to ref: same 16-lane order, weights dequantized
 * exactly in registers; softmax and SiLU are the ref's. Call only if kern_cpu_has_avx512(). */
extern const struct rrm_kernels kern_avx512;
int kern_cpu_has_avx512(void);
float kern_avx512_dot(const float *a, const float *b, int64_t n);
void kern_avx512_matmul(const struct kern_matmul *a, float *scratch, int ith, int nth);
void kern_avx512_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
void kern_avx512_rope(float *x, int64_t n_head, int64_t head_dim, const float *cs,
                      const float *sn);
/* The kern_kq_type weights (avx512/kquant.c): outputs [lo, hi) of kern_avx512_matmul, rows
 * dequantized into scratch (4 * n_in floats) then the F32 path; and the vector dequantizer
 * (the same f32 bits as kern_dequantize_row; n a multiple of the block). */
void kern_avx512_matmul_kq(const struct kern_matmul *a, float *scratch, int64_t lo, int64_t hi);
void kern_avx512_dequantize_kq(int type, const void *src, float *dst, int64_t n);
void kern_avx512_add(float *y, const float *x, int64_t n);
void kern_avx512_axpy(float *y, float a, const float *x, int64_t n);

#endif
