/*
 * matmul.c — AVX-512 dot and matmul for F32, F16, BF16 and Q8_0 weights, bit-identical to
 * kernels/ref (the spec in kernels.h): one __m512 accumulator is exactly the 16 lane partial
 * sums of kern_ref_dot (lane k sums i % 16 == k in increasing i, mul then add, no FMA: this file
 * is built with -ffp-contract=off), the n % 16 tail is a masked multiply and masked add (lanes
 * past the tail keep their value), and the lanes are combined pairwise 8, 4, 2, 1. Weights are
 * dequantized to f32 exactly (F16, BF16 and Q8_0 d*q are exact in f32).
 * Two paths, same bits:
 *  - few rows (decode, small batches): tiles of OB weight rows x the rows, weights dequantized in
 *    registers straight from memory, one pass over n_in (bound by memory bandwidth);
 *  - more rows (Q8_0 from RB + 1 rows, other types from 4 * RB + 1: prefill): blocked GEMM. For NC outputs x MR rows the lane
 *    accumulators live in a stack buffer; n_in is walked in chunks of KC, each chunk of NC
 *    weight rows is dequantized once into an f32 panel and used by all MR rows, so weights and
 *    activations are read from L1 while the accumulators continue in the spec's order.
 * Threads split the outputs (rrm_split), never the reduction.
 * Built with the ISA_avx512 flags only; reached through kern_select after a cpuid check.
 */
#include "kernels/kernels.h"

#include <immintrin.h>

#define LANES 16
#define OB 4 /* weight rows per tile */
#define RB 4 /* activation rows per tile: OB * RB = 16 accumulators of 32 zmm */
/* software prefetch distance along each weight row: the OB interleaved row streams of decode
 * defeat the hardware prefetcher (BF16 7B ffn_down 1 row: 10.8 -> 22.5 GB/s best of 5) */
#define PF_BYTES 1024

#define INLINE static inline __attribute__((always_inline))

/* Combines the 16 lanes as kern_ref_dot does: k += k+8, k += k+4, k += k+2, k += k+1. */
INLINE float reduce16(__m512 v)
{
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_add_ss(c, _mm_shuffle_ps(c, c, 1));
    return _mm_cvtss_f32(d);
}

float kern_avx512_dot(const float *a, const float *b, int64_t n)
{
    __m512 acc = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        acc = _mm512_mask_add_ps(acc, m, acc, p);
    }
    return reduce16(acc);
}

/* 16 bf16 or f16 values widened exactly to f32 (m selects the elements read; others are 0). */
INLINE __m512 load_bf16(const uint8_t *p, __mmask16 m)
{
    __m256i h = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE __m512 load_f16(const uint8_t *p, __mmask16 m)
{
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

/* Elements i..i+15 (i % 16 == 0) of a weight row `p` as f32, exactly as kern_dequantize_row
 * gives them. Q8_0: block i/32 (34 bytes: f16 d, 32 int8), half (i/16)%2, x = d * q. */
INLINE __m512 load_w(int wt, const uint8_t *p, int64_t i, __mmask16 m)
{
    switch (wt) {
    case RRM_TYPE_F32:
        return _mm512_maskz_loadu_ps(m, (const float *)(const void *)p + i);
    case RRM_TYPE_F16:
        return load_f16(p + 2 * i, m);
    case RRM_TYPE_BF16:
        return load_bf16(p + 2 * i, m);
    default: { /* Q8_0: n_in is a multiple of 32, so m is always full */
        const uint8_t *b = p + (i / 32) * 34;
        uint16_t dh;
        memcpy(&dh, b, 2);
        __m512 d = _mm512_set1_ps(_cvtsh_ss(dh));
        __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(b + 2 + (i & 16)));
        return _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
    }
    }
}

/* The 32 weights of one Q8_0 block (f16 d, 32 int8 q) as two f32 vectors d * q. */
INLINE void q8_block(const uint8_t *b, __m512 *lo, __m512 *hi)
{
    uint16_t dh;
    memcpy(&dh, b, 2);
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(dh));
    __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(b + 2));
    *lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))));
    *hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))));
}

/* acc[o][r] += wv[o] * x[r * ldx + 0..15] (mul, then add) for o < ob, r < rb. With `tail` the
 * loads are masked by m and lanes outside m keep their value (the spec's n % 16 tail). ob, rb
 * and tail are compile-time constants at every call site. */
INLINE void mul_add_step(int ob, int rb, const __m512 *wv, const float *x, int64_t ldx, int tail,
                         __mmask16 m, __m512 acc[OB][RB])
{
#pragma GCC unroll 4
    for (int r = 0; r < rb; r++) {
        const __m512 xv = tail ? _mm512_maskz_loadu_ps(m, x + r * ldx) : _mm512_loadu_ps(x + r * ldx);
#pragma GCC unroll 4
        for (int o = 0; o < ob; o++) {
            const __m512 p = _mm512_mul_ps(wv[o], xv);
            acc[o][r] = tail ? _mm512_mask_add_ps(acc[o][r], m, acc[o][r], p) : _mm512_add_ps(acc[o][r], p);
        }
    }
}

/* One tile: y[r][o] for r < rb, o < ob over the whole n_in, with ob * rb accumulators. wt, ob
 * and rb are compile-time constants at every call site, so the loops unroll into registers. */
INLINE void tile(int wt, int ob, int rb, const uint8_t *w, size_t row_bytes, const float *x,
                 int64_t ldx, int64_t n, float *y, int64_t ldy, const float *bias)
{
    __m512 acc[OB][RB];
#pragma GCC unroll 4
    for (int o = 0; o < ob; o++) {
#pragma GCC unroll 4
        for (int r = 0; r < rb; r++) acc[o][r] = _mm512_setzero_ps();
    }
    const __mmask16 full = 0xffff;
    int64_t i = 0;
    if (wt == RRM_TYPE_Q8_0) { /* whole blocks: one scale broadcast per 32 weights */
        for (; i + 32 <= n; i += 32) {
            __m512 wv[2][OB];
#pragma GCC unroll 4
            for (int o = 0; o < ob; o++) {
                const uint8_t *b = w + (size_t)o * row_bytes + (i / 32) * 34;
                _mm_prefetch((const char *)b + PF_BYTES, _MM_HINT_T0);
                q8_block(b, wv[0] + o, wv[1] + o);
            }
            mul_add_step(ob, rb, wv[0], x + i, ldx, 0, full, acc);
            mul_add_step(ob, rb, wv[1], x + i + 16, ldx, 0, full, acc);
        }
    }
    for (; i + LANES <= n; i += LANES) {
        __m512 wv[OB];
#pragma GCC unroll 4
        for (int o = 0; o < ob; o++) {
            const uint8_t *p = w + (size_t)o * row_bytes;
            /* one prefetch per 64 bytes of row (F32: every other step) */
            if (wt != RRM_TYPE_F32 || (i & 16))
                _mm_prefetch((const char *)p + (wt == RRM_TYPE_F32 ? 4 : 2) * i + PF_BYTES, _MM_HINT_T0);
            wv[o] = load_w(wt, p, i, full);
        }
        mul_add_step(ob, rb, wv, x + i, ldx, 0, full, acc);
    }
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 wv[OB];
#pragma GCC unroll 4
        for (int o = 0; o < ob; o++) wv[o] = load_w(wt, w + (size_t)o * row_bytes, i, m);
        mul_add_step(ob, rb, wv, x + i, ldx, 1, m, acc);
    }
#pragma GCC unroll 4
    for (int r = 0; r < rb; r++) {
#pragma GCC unroll 4
        for (int o = 0; o < ob; o++) {
            float v = reduce16(acc[o][r]);
            y[r * ldy + o] = bias ? v + bias[o] : v;
        }
    }
}

/* All rows of `a` for outputs [lo, hi): tiles of OB outputs (then single outputs), RB rows. */
INLINE void matmul_type(int wt, const struct kern_matmul *a, size_t rb_bytes, int64_t lo,
                        int64_t hi)
{
    const uint8_t *w = a->w;
    const int64_t n = a->n_in, nr = a->n_rows;
    for (int64_t o = lo; o < hi;) {
        const int ob = hi - o >= OB ? OB : 1;
        const uint8_t *wo = w + (size_t)o * rb_bytes;
        const float *bo = a->bias ? a->bias + o : NULL;
        for (int64_t r = 0; r < nr;) {
            const int64_t left = nr - r;
            const float *xr = a->x + r * a->ldx;
            float *yr = a->y + r * a->ldy + o;
            if (ob == OB) {
                if (left >= 4) tile(wt, OB, 4, wo, rb_bytes, xr, a->ldx, n, yr, a->ldy, bo);
                else if (left == 3) tile(wt, OB, 3, wo, rb_bytes, xr, a->ldx, n, yr, a->ldy, bo);
                else if (left == 2) tile(wt, OB, 2, wo, rb_bytes, xr, a->ldx, n, yr, a->ldy, bo);
                else tile(wt, OB, 1, wo, rb_bytes, xr, a->ldx, n, yr, a->ldy, bo);
            } else {
                if (left >= 4) tile(wt, 1, 4, wo, rb_bytes, xr, a->ldx, n, yr, a->ldy, bo);
                else tile(wt, 1, 1, wo, rb_bytes, xr, a->ldx, n, yr, a->ldy, bo);
            }
            r += ob == OB ? (left >= 4 ? 4 : left) : (left >= 4 ? 4 : 1);
        }
        o += ob;
    }
}

/* ---- blocked path (more than RB rows) ---- */

#define KC 256 /* n_in chunk: a panel of NC x KC f32 weights (16 KiB) and MR x KC of x in L1 */
#define NC 16  /* outputs per block */
#define MR 16  /* rows per block */

/* Continues the lane accumulators acc[o * MR + r] (o < ob, r < rb) over kc elements of the
 * f32 panel rows w (stride ldw) and the x rows (stride ldx); the last chunk of a row may end in
 * a masked tail. ob and rb are compile-time constants at every call site. */
INLINE void panel_tile(int ob, int rb, const float *w, int64_t ldw, const float *x, int64_t ldx,
                       int64_t kc, __m512 *acc)
{
    __m512 a[OB][RB];
#pragma GCC unroll 4
    for (int o = 0; o < ob; o++) {
#pragma GCC unroll 4
        for (int r = 0; r < rb; r++) a[o][r] = acc[o * MR + r];
    }
    int64_t i = 0;
    for (; i + LANES <= kc; i += LANES) {
        __m512 wv[OB];
#pragma GCC unroll 4
        for (int o = 0; o < ob; o++) wv[o] = _mm512_loadu_ps(w + o * ldw + i);
        mul_add_step(ob, rb, wv, x + i, ldx, 0, (__mmask16)0xffff, a);
    }
    if (i < kc) {
        const __mmask16 m = (__mmask16)((1u << (kc - i)) - 1);
        __m512 wv[OB];
#pragma GCC unroll 4
        for (int o = 0; o < ob; o++) wv[o] = _mm512_maskz_loadu_ps(m, w + o * ldw + i);
        mul_add_step(ob, rb, wv, x + i, ldx, 1, m, a);
    }
#pragma GCC unroll 4
    for (int o = 0; o < ob; o++) {
#pragma GCC unroll 4
        for (int r = 0; r < rb; r++) acc[o * MR + r] = a[o][r];
    }
}

/* Dispatches panel_tile on the (ob, rb) shape: ob is OB or 1, rb is 1..RB. */
static void panel_tile_any(int ob, int rb, const float *w, int64_t ldw, const float *x,
                           int64_t ldx, int64_t kc, __m512 *acc)
{
    if (ob == OB) {
        if (rb == 4) panel_tile(OB, 4, w, ldw, x, ldx, kc, acc);
        else if (rb == 3) panel_tile(OB, 3, w, ldw, x, ldx, kc, acc);
        else if (rb == 2) panel_tile(OB, 2, w, ldw, x, ldx, kc, acc);
        else panel_tile(OB, 1, w, ldw, x, ldx, kc, acc);
    } else {
        if (rb == 4) panel_tile(1, 4, w, ldw, x, ldx, kc, acc);
        else if (rb == 3) panel_tile(1, 3, w, ldw, x, ldx, kc, acc);
        else if (rb == 2) panel_tile(1, 2, w, ldw, x, ldx, kc, acc);
        else panel_tile(1, 1, w, ldw, x, ldx, kc, acc);
    }
}

/* Elements k0..k0+kc of weight row p, dequantized exactly into dst (kc % 32 == 0 or the row's
 * end for Q8_0, whose n_in is a multiple of 32). */
static void dequant_chunk(int wt, const uint8_t *p, int64_t k0, int64_t kc, float *dst)
{
    int64_t i = 0;
    if (wt == RRM_TYPE_Q8_0) {
        for (; i < kc; i += 32) q8_block(p + ((k0 + i) / 32) * 34, (__m512 *)(void *)(dst + i),
                                         (__m512 *)(void *)(dst + i + 16));
        return;
    }
    const __mmask16 full = 0xffff;
    if (wt == RRM_TYPE_F16) {
        for (; i + LANES <= kc; i += LANES) _mm512_storeu_ps(dst + i, load_f16(p + 2 * (k0 + i), full));
    } else {
        for (; i + LANES <= kc; i += LANES) _mm512_storeu_ps(dst + i, load_bf16(p + 2 * (k0 + i), full));
    }
    if (i < kc) { /* masked stores are slow on Zen 4: only for the tail */
        const __mmask16 m = (__mmask16)((1u << (kc - i)) - 1);
        __m512 v = wt == RRM_TYPE_F16 ? load_f16(p + 2 * (k0 + i), m) : load_bf16(p + 2 * (k0 + i), m);
        _mm512_mask_storeu_ps(dst + i, m, v);
    }
}

/* Outputs [lo, hi) for all rows, blocked NC outputs x MR rows x KC inputs. */
static void matmul_blocked(const struct kern_matmul *a, size_t rb_bytes, int64_t lo, int64_t hi)
{
    __m512 acc[NC * MR];
    float panel[NC * KC] __attribute__((aligned(64)));
    const uint8_t *w = a->w;
    const int64_t n = a->n_in;
    for (int64_t o0 = lo; o0 < hi; o0 += NC) {
        const int64_t nc = hi - o0 < NC ? hi - o0 : NC;
        for (int64_t r0 = 0; r0 < a->n_rows; r0 += MR) {
            const int64_t mr = a->n_rows - r0 < MR ? a->n_rows - r0 : MR;
            for (int64_t i = 0; i < NC * MR; i++) acc[i] = _mm512_setzero_ps();
            for (int64_t k0 = 0; k0 < n; k0 += KC) {
                const int64_t kc = n - k0 < KC ? n - k0 : KC;
                const float *pw = panel;
                int64_t ldw = KC;
                if (a->wtype == RRM_TYPE_F32) {
                    pw = (const float *)(const void *)(w + (size_t)o0 * rb_bytes) + k0;
                    ldw = n;
                } else {
                    for (int64_t o = 0; o < nc; o++)
                        dequant_chunk(a->wtype, w + (size_t)(o0 + o) * rb_bytes, k0, kc, panel + o * KC);
                }
                for (int64_t o = 0; o < nc;) {
                    const int ob = nc - o >= OB ? OB : 1;
                    for (int64_t r = 0; r < mr; r += RB) {
                        const int rb = mr - r >= RB ? RB : (int)(mr - r);
                        panel_tile_any(ob, rb, pw + o * ldw, ldw, a->x + (r0 + r) * a->ldx + k0,
                                       a->ldx, kc, acc + o * MR + r);
                    }
                    o += ob;
                }
            }
            for (int64_t o = 0; o < nc; o++) {
                const float b = a->bias ? a->bias[o0 + o] : 0.0f;
                for (int64_t r = 0; r < mr; r++) {
                    float v = reduce16(acc[o * MR + r]);
                    a->y[(r0 + r) * a->ldy + o0 + o] = a->bias ? v + b : v;
                }
            }
        }
    }
}

/* kern_ref_matmul's contract; scratch is not used (weights are dequantized in registers or in
 * a stack panel). */
void kern_avx512_matmul(const struct kern_matmul *a, float *scratch, int ith, int nth)
{
    (void)scratch;
    int64_t lo, hi;
    size_t rb_bytes;
    rrm_split(a->n_out, ith, nth, &lo, &hi);
    if (lo >= hi || rrm_row_bytes(a->wtype, a->n_in, &rb_bytes) != RRM_OK) return;
    if (kern_kq_type(a->wtype)) { /* 4/5/6-bit types: avx512/kquant.c */
        kern_avx512_matmul_kq(a, scratch, lo, hi);
        return;
    }
    /* Blocked when it pays (measured on Zen 4): Q8_0 as soon as weights are used by more than
     * one row tile (dequantized once instead of per tile); other types from 17 rows on, where
     * the activations of the fused path stop fitting L2 (prefill). */
    if (kern_matmul_type_ok(a->wtype) &&
        (a->n_rows > 4 * RB || (a->n_rows > RB && a->wtype == RRM_TYPE_Q8_0))) {
        matmul_blocked(a, rb_bytes, lo, hi);
        return;
    }
    switch (a->wtype) {
    case RRM_TYPE_F32:
        matmul_type(RRM_TYPE_F32, a, rb_bytes, lo, hi);
        break;
    case RRM_TYPE_F16:
        matmul_type(RRM_TYPE_F16, a, rb_bytes, lo, hi);
        break;
    case RRM_TYPE_BF16:
        matmul_type(RRM_TYPE_BF16, a, rb_bytes, lo, hi);
        break;
    case RRM_TYPE_Q8_0:
        matmul_type(RRM_TYPE_Q8_0, a, rb_bytes, lo, hi);
        break;
    default:
        break;
    }
}
