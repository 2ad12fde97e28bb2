/*
 * kquant.c — AVX-512 matmul for the 4/5/6-bit weight types (Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K,
 * Q6_K), bit-identical to kernels/ref: each group of up to four weight rows is dequantized with
 * vector code into the thread's scratch (the same f32 bits as ref/kquant.c: the same products
 * and sums in the same order; this file is built with -ffp-contract=off), then the F32 matmul of
 * avx512/matmul.c runs over those rows, which is the spec's 16-lane dot. So the result equals an
 * F32 matmul over ggml's dequantized weights, for any thread split and batch size.
 * Few rows (decode): a fused path that dequantizes 32 weights at a time in registers and keeps
 * the lane accumulators in registers (one pass over the quantized rows: bandwidth-bound).
 * Built with the ISA_avx512 flags only; reached from kern_avx512_matmul.
 */
#include "kernels/kernels.h"

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

INLINE float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* 16 bytes as 16 int32 */
INLINE __m512i bytes16(const uint8_t *p)
{
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* (float)q * d, or (float)q * d + m: the order of ggml's dequantize_row_q4_0 .. q5_1 */
INLINE void put_qd(float *y, __m512i q, __m512 d)
{
    _mm512_storeu_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(q), d));
}

INLINE void put_qdm(float *y, __m512i q, __m512 d, __m512 m)
{
    _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), d), m));
}

/* One block of 32: nibbles at qs, high bits (5-bit types) in qh, offset sub (8, 16 or 0). */
INLINE void deq32(const uint8_t *qs, const uint8_t *qh, int sub, float d, const float *m,
                  float *y)
{
    const __m512i q = bytes16(qs), f = _mm512_set1_epi32(0x0f);
    __m512i lo = _mm512_and_si512(q, f), hi = _mm512_srli_epi32(q, 4);
    if (qh) {
        uint32_t h;
        memcpy(&h, qh, 4);
        const __m512i s16 = _mm512_set1_epi32(16);
        lo = _mm512_mask_add_epi32(lo, (__mmask16)(h & 0xffff), lo, s16);
        hi = _mm512_mask_add_epi32(hi, (__mmask16)(h >> 16), hi, s16);
    }
    if (sub) {
        const __m512i s = _mm512_set1_epi32(sub);
        lo = _mm512_sub_epi32(lo, s);
        hi = _mm512_sub_epi32(hi, s);
    }
    const __m512 dv = _mm512_set1_ps(d);
    if (m) {
        const __m512 mv = _mm512_set1_ps(*m);
        put_qdm(y, lo, dv, mv);
        put_qdm(y + 16, hi, dv, mv);
    } else {
        put_qd(y, lo, dv);
        put_qd(y + 16, hi, dv);
    }
}

/* Q4_K / Q5_K super-block: x = (d * scale) * q - dmin * min per sub-block of 32. */
INLINE void deq_q45k(const uint8_t *b, int five, float *y)
{
    const float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t *sc = b + 4, *qh = b + 16, *ql = b + (five ? 48 : 16);
    const __m512i f = _mm512_set1_epi32(0x0f), s16 = _mm512_set1_epi32(16);
    for (int g = 0; g < 4; g++, ql += 32, y += 64) {
        uint8_t s, m;
        kern_kq_scale_min(2 * g, sc, &s, &m);
        const __m512 d1 = _mm512_set1_ps(d * s), m1 = _mm512_set1_ps(dmin * m);
        kern_kq_scale_min(2 * g + 1, sc, &s, &m);
        const __m512 d2 = _mm512_set1_ps(d * s), m2 = _mm512_set1_ps(dmin * m);
        for (int h = 0; h < 32; h += 16) {
            const __m512i q = bytes16(ql + h);
            __m512i lo = _mm512_and_si512(q, f), hi = _mm512_srli_epi32(q, 4);
            if (five) {
                const __m512i hb = bytes16(qh + h);
                lo = _mm512_mask_add_epi32(lo, _mm512_test_epi32_mask(hb, _mm512_set1_epi32(1 << (2 * g))), lo, s16);
                hi = _mm512_mask_add_epi32(hi, _mm512_test_epi32_mask(hb, _mm512_set1_epi32(2 << (2 * g))), hi, s16);
            }
            _mm512_storeu_ps(y + h, _mm512_sub_ps(_mm512_mul_ps(d1, _mm512_cvtepi32_ps(lo)), m1));
            _mm512_storeu_ps(y + 32 + h, _mm512_sub_ps(_mm512_mul_ps(d2, _mm512_cvtepi32_ps(hi)), m2));
        }
    }
}

/* Q6_K super-block: x = (d * scale) * (q - 32), q = 4 low bits from ql | 2 high bits from qh. */
INLINE void deq_q6k(const uint8_t *b, float *y)
{
    const float d = f16_at(b + 208);
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    const __m512i f = _mm512_set1_epi32(0x0f), t = _mm512_set1_epi32(3), s32 = _mm512_set1_epi32(32);
    for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8, y += 128) {
        for (int l = 0; l < 32; l += 16) {
            const int is = l / 16;
            const __m512i a = bytes16(ql + l), c = bytes16(ql + 32 + l), h = bytes16(qh + l);
            __m512i q[4];
            q[0] = _mm512_or_si512(_mm512_and_si512(a, f), _mm512_slli_epi32(_mm512_and_si512(h, t), 4));
            q[1] = _mm512_or_si512(_mm512_and_si512(c, f),
                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 2), t), 4));
            q[2] = _mm512_or_si512(_mm512_srli_epi32(a, 4),
                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 4), t), 4));
            q[3] = _mm512_or_si512(_mm512_srli_epi32(c, 4), _mm512_slli_epi32(_mm512_srli_epi32(h, 6), 4));
            for (int k = 0; k < 4; k++) {
                const __m512 ds = _mm512_set1_ps(d * sc[is + 2 * k]);
                const __m512 qf = _mm512_cvtepi32_ps(_mm512_sub_epi32(q[k], s32));
                _mm512_storeu_ps(y + 32 * k + l, _mm512_mul_ps(ds, qf));
            }
        }
    }
}

/* n elements (a multiple of the block) of a row of `type` into y, as kern_dequantize_row. */
static void deq_row(int type, const uint8_t *p, float *y, int64_t n)
{
    const int64_t bs = rrm_type_block(type), bb = rrm_type_block_bytes(type);
    for (int64_t i = 0; i < n; i += bs, p += bb, y += bs) {
        switch (type) {
        case RRM_TYPE_Q4_0: deq32(p + 2, NULL, 8, f16_at(p), NULL, y); break;
        case RRM_TYPE_Q4_1: {
            const float m = f16_at(p + 2);
            deq32(p + 4, NULL, 0, f16_at(p), &m, y);
            break;
        }
        case RRM_TYPE_Q5_0: deq32(p + 6, p + 2, 16, f16_at(p), NULL, y); break;
        case RRM_TYPE_Q5_1: {
            const float m = f16_at(p + 2);
            deq32(p + 8, p + 4, 0, f16_at(p), &m, y);
            break;
        }
        case RRM_TYPE_Q4_K: deq_q45k(p, 0, y); break;
        case RRM_TYPE_Q5_K: deq_q45k(p, 1, y); break;
        case RRM_TYPE_Q6_K: deq_q6k(p, y); break;
        default: return;
        }
    }
}

void kern_avx512_dequantize_kq(int type, const void *src, float *dst, int64_t n)
{
    deq_row(type, src, dst, n);
}

/* ---- fused path (few rows: decode): weights dequantized in registers, 32 at a time ---- */

#define OB 4 /* weight rows per tile */
#define RB 4 /* activation rows per tile */
#define PF_BYTES 1024 /* software prefetch distance along each weight row (see matmul.c) */

INLINE __m512 cvt_q(__m512i q)
{
    return _mm512_cvtepi32_ps(q);
}

/* get_scale_min_k4, inlined */
INLINE void scale_min(int j, const uint8_t *q, int *d, int *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* Elements i..i+31 (i % 32 == 0) of a Q4_0/Q4_1/Q5_0/Q5_1 weight row p as two f32 vectors,
 * the same bits as kern_dequantize_row gives them. wt is a compile-time constant at every call
 * site. (The k-quants go through sb_factors + grp32k.) */
INLINE void grp32(int wt, const uint8_t *p, int64_t i, __m512 *v0, __m512 *v1)
{
    const __m512i f = _mm512_set1_epi32(0x0f), s16 = _mm512_set1_epi32(16);
    switch (wt) {
    case RRM_TYPE_Q4_0:
    case RRM_TYPE_Q4_1:
    case RRM_TYPE_Q5_0:
    case RRM_TYPE_Q5_1: {
        const int bb = wt == RRM_TYPE_Q4_0 ? 18 : wt == RRM_TYPE_Q4_1 ? 20 : wt == RRM_TYPE_Q5_0 ? 22 : 24;
        const int has_m = wt == RRM_TYPE_Q4_1 || wt == RRM_TYPE_Q5_1;
        const int five = wt == RRM_TYPE_Q5_0 || wt == RRM_TYPE_Q5_1;
        const uint8_t *b = p + (i / 32) * bb;
        const uint8_t *qs = b + 2 + 2 * has_m + 4 * five;
        _mm_prefetch((const char *)b + PF_BYTES, _MM_HINT_T0);
        const __m512i q = bytes16(qs);
        __m512i lo = _mm512_and_si512(q, f), hi = _mm512_srli_epi32(q, 4);
        if (five) {
            uint32_t h;
            memcpy(&h, b + 2 + 2 * has_m, 4);
            lo = _mm512_mask_add_epi32(lo, (__mmask16)(h & 0xffff), lo, s16);
            hi = _mm512_mask_add_epi32(hi, (__mmask16)(h >> 16), hi, s16);
        }
        if (!has_m) {
            const __m512i off = _mm512_set1_epi32(five ? 16 : 8);
            lo = _mm512_sub_epi32(lo, off);
            hi = _mm512_sub_epi32(hi, off);
        }
        const __m512 d = _mm512_set1_ps(f16_at(b));
        *v0 = _mm512_mul_ps(cvt_q(lo), d);
        *v1 = _mm512_mul_ps(cvt_q(hi), d);
        if (has_m) {
            const __m512 m = _mm512_set1_ps(f16_at(b + 2));
            *v0 = _mm512_add_ps(*v0, m);
            *v1 = _mm512_add_ps(*v1, m);
        }
        return;
    }
    default:
        return;
    }
}

/* Per-sub-block factors of the k-quant super-block holding element i of row p: Q4_K/Q5_K
 * ds[j] = d * scale_j, ms[j] = dmin * min_j (j < 8); Q6_K ds[j] = d * scale_j (j < 16). */
INLINE void sb_factors(int wt, const uint8_t *p, int64_t i, float *ds, float *ms)
{
    if (wt == RRM_TYPE_Q6_K) {
        const uint8_t *b = p + (i / 256) * 210;
        const float d = f16_at(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int j = 0; j < 16; j++) ds[j] = d * (float)sc[j];
        return;
    }
    const uint8_t *b = p + (i / 256) * (wt == RRM_TYPE_Q5_K ? 176 : 144);
    const float d = f16_at(b), dmin = f16_at(b + 2);
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        scale_min(j, b + 4, &sc, &mn);
        ds[j] = d * (float)sc;
        ms[j] = dmin * (float)mn;
    }
}

/* Elements i + 32 g .. + 31 of a k-quant row (i % 256 == 0) with the factors of sb_factors;
 * the same bits as grp32. */
INLINE void grp32k(int wt, const uint8_t *p, int64_t i, int g, const float *ds, const float *ms,
                   __m512 *v0, __m512 *v1)
{
    const __m512i f = _mm512_set1_epi32(0x0f);
    if (wt == RRM_TYPE_Q6_K) {
        const uint8_t *b = p + (i / 256) * 210;
        const int h = g / 4, k = g % 4;
        const uint8_t *ql = b + 64 * h + 32 * (k % 2), *qh = b + 128 + 32 * h;
        if (g == 0) _mm_prefetch((const char *)b + PF_BYTES, _MM_HINT_T0);
        if (g == 4) _mm_prefetch((const char *)b + 64 + PF_BYTES, _MM_HINT_T0);
        const __m512i t = _mm512_set1_epi32(3), s32 = _mm512_set1_epi32(32);
        __m512i a0 = bytes16(ql), a1 = bytes16(ql + 16);
        a0 = k < 2 ? _mm512_and_si512(a0, f) : _mm512_srli_epi32(a0, 4);
        a1 = k < 2 ? _mm512_and_si512(a1, f) : _mm512_srli_epi32(a1, 4);
        const __m512i h0 = _mm512_and_si512(_mm512_srli_epi32(bytes16(qh), 2 * k), t);
        const __m512i h1 = _mm512_and_si512(_mm512_srli_epi32(bytes16(qh + 16), 2 * k), t);
        const __m512i q0 = _mm512_sub_epi32(_mm512_or_si512(a0, _mm512_slli_epi32(h0, 4)), s32);
        const __m512i q1 = _mm512_sub_epi32(_mm512_or_si512(a1, _mm512_slli_epi32(h1, 4)), s32);
        const int si = 8 * h + 2 * k;
        *v0 = _mm512_mul_ps(_mm512_set1_ps(ds[si]), cvt_q(q0));
        *v1 = _mm512_mul_ps(_mm512_set1_ps(ds[si + 1]), cvt_q(q1));
        return;
    }
    const int five = wt == RRM_TYPE_Q5_K;
    const uint8_t *b = p + (i / 256) * (five ? 176 : 144);
    const uint8_t *ql = b + (five ? 48 : 16) + 32 * (g / 2);
    if (!(g & 1)) _mm_prefetch((const char *)ql + PF_BYTES, _MM_HINT_T0);
    __m512i q0 = bytes16(ql), q1 = bytes16(ql + 16);
    if (g & 1) {
        q0 = _mm512_srli_epi32(q0, 4);
        q1 = _mm512_srli_epi32(q1, 4);
    } else {
        q0 = _mm512_and_si512(q0, f);
        q1 = _mm512_and_si512(q1, f);
    }
    if (five) {
        const __m512i bit = _mm512_set1_epi32(1 << g), s16 = _mm512_set1_epi32(16);
        q0 = _mm512_mask_add_epi32(q0, _mm512_test_epi32_mask(bytes16(b + 16), bit), q0, s16);
        q1 = _mm512_mask_add_epi32(q1, _mm512_test_epi32_mask(bytes16(b + 32), bit), q1, s16);
    }
    const __m512 d = _mm512_set1_ps(ds[g]), m = _mm512_set1_ps(ms[g]);
    *v0 = _mm512_sub_ps(_mm512_mul_ps(d, cvt_q(q0)), m);
    *v1 = _mm512_sub_ps(_mm512_mul_ps(d, cvt_q(q1)), m);
}

/* Combines the 16 lanes as kern_ref_dot does: k += k+8, k += k+4, k += k+2, k += k+1. */
INLINE float reduce16(__m512 v)
{
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 e = _mm_add_ss(c, _mm_shuffle_ps(c, c, 1));
    return _mm_cvtss_f32(e);
}

/* One tile: y[r][o] for r < rb, o < ob over the whole row (n % 32 == 0 for every kq type), the
 * spec's lane order (acc += w * x, mul then add, i ascending per lane). */
INLINE void tile(int wt, int ob, int rb, const uint8_t *w, size_t row_bytes, const float *x,
                 int64_t ldx, int64_t n, float *y, int64_t ldy, const float *bias)
{
    __m512 acc[OB][RB];
#pragma GCC unroll 4
    for (int o = 0; o < ob; o++) {
#pragma GCC unroll 4
        for (int r = 0; r < rb; r++) acc[o][r] = _mm512_setzero_ps();
    }
    const int kq = wt == RRM_TYPE_Q4_K || wt == RRM_TYPE_Q5_K || wt == RRM_TYPE_Q6_K;
    for (int64_t i = 0; i < n; i += kq ? 256 : 32) {
        /* k-quants: the per-sub-block factors of this super-block, once per row (the same
         * f32 products ref computes: f16 d times the integer scale) */
        float ds[OB][16], ms[OB][8];
        if (kq) {
#pragma GCC unroll 4
            for (int o = 0; o < ob; o++) sb_factors(wt, w + (size_t)o * row_bytes, i, ds[o], ms[o]);
        }
        for (int g = 0; g < (kq ? 8 : 1); g++) {
            __m512 w0[OB], w1[OB];
#pragma GCC unroll 4
            for (int o = 0; o < ob; o++) {
                if (kq) grp32k(wt, w + (size_t)o * row_bytes, i, g, ds[o], ms[o], &w0[o], &w1[o]);
                else grp32(wt, w + (size_t)o * row_bytes, i, &w0[o], &w1[o]);
            }
            const int64_t ig = i + 32 * g;
#pragma GCC unroll 4
            for (int r = 0; r < rb; r++) {
                const __m512 x0 = _mm512_loadu_ps(x + r * ldx + ig), x1 = _mm512_loadu_ps(x + r * ldx + ig + 16);
#pragma GCC unroll 4
                for (int o = 0; o < ob; o++) {
                    acc[o][r] = _mm512_add_ps(acc[o][r], _mm512_mul_ps(w0[o], x0));
                    acc[o][r] = _mm512_add_ps(acc[o][r], _mm512_mul_ps(w1[o], x1));
                }
            }
        }
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

/* Outputs [lo, hi) for all rows: tiles of OB outputs (then single outputs) x up to RB rows. */
INLINE void fused(int wt, const struct kern_matmul *a, size_t rbytes, int64_t lo, int64_t hi)
{
    const uint8_t *w = a->w;
    const int64_t n = a->n_in, nr = a->n_rows, ldx = a->ldx, ldy = a->ldy;
    for (int64_t o = lo; o < hi;) {
        const int ob = hi - o >= OB ? OB : 1;
        const uint8_t *wo = w + (size_t)o * rbytes;
        const float *bo = a->bias ? a->bias + o : NULL;
        for (int64_t r = 0; r < nr;) {
            const int64_t left = nr - r;
            const float *xr = a->x + r * ldx;
            float *yr = a->y + r * ldy + o;
            int step;
            if (ob == OB) {
                step = left >= 4 ? 4 : (int)left;
                if (step == 4) tile(wt, OB, 4, wo, rbytes, xr, ldx, n, yr, ldy, bo);
                else if (step == 3) tile(wt, OB, 3, wo, rbytes, xr, ldx, n, yr, ldy, bo);
                else if (step == 2) tile(wt, OB, 2, wo, rbytes, xr, ldx, n, yr, ldy, bo);
                else tile(wt, OB, 1, wo, rbytes, xr, ldx, n, yr, ldy, bo);
            } else {
                step = left >= 4 ? 4 : 1;
                if (step == 4) tile(wt, 1, 4, wo, rbytes, xr, ldx, n, yr, ldy, bo);
                else tile(wt, 1, 1, wo, rbytes, xr, ldx, n, yr, ldy, bo);
            }
            r += step;
        }
        o += ob;
    }
}

/* Outputs [lo, hi) of a kern_kq_type matmul. Up to RB rows (decode): the fused path. More
 * rows: groups of 4 weight rows dequantized once into scratch (4 * n_in floats, the kernels.h
 * contract), then the F32 matmul over the group (measured: 16 rows 7B ffn_up Q4_K 19.5 ms this
 * way vs 33 ms fused, which dequantizes every weight once per 4 rows). */
void kern_avx512_matmul_kq(const struct kern_matmul *a, float *scratch, int64_t lo, int64_t hi)
{
    size_t rb;
    if (rrm_row_bytes(a->wtype, a->n_in, &rb) != RRM_OK) return;
    if (a->n_rows <= RB || !scratch) {
        switch (a->wtype) {
        case RRM_TYPE_Q4_0: fused(RRM_TYPE_Q4_0, a, rb, lo, hi); return;
        case RRM_TYPE_Q4_1: fused(RRM_TYPE_Q4_1, a, rb, lo, hi); return;
        case RRM_TYPE_Q5_0: fused(RRM_TYPE_Q5_0, a, rb, lo, hi); return;
        case RRM_TYPE_Q5_1: fused(RRM_TYPE_Q5_1, a, rb, lo, hi); return;
        case RRM_TYPE_Q4_K: fused(RRM_TYPE_Q4_K, a, rb, lo, hi); return;
        case RRM_TYPE_Q5_K: fused(RRM_TYPE_Q5_K, a, rb, lo, hi); return;
        case RRM_TYPE_Q6_K: fused(RRM_TYPE_Q6_K, a, rb, lo, hi); return;
        default: return;
        }
    }
    const int64_t n = a->n_in;
    for (int64_t o = lo; o < hi; o += 4) {
        const int64_t g = hi - o < 4 ? hi - o : 4;
        for (int64_t k = 0; k < g; k++)
            deq_row(a->wtype, (const uint8_t *)a->w + (size_t)(o + k) * rb, scratch + k * n, n);
        struct kern_matmul s = *a;
        s.w = scratch;
        s.wtype = RRM_TYPE_F32;
        s.n_out = g;
        s.y = a->y + o;
        s.bias = a->bias ? a->bias + o : NULL;
        kern_avx512_matmul(&s, NULL, 0, 1);
    }
}
