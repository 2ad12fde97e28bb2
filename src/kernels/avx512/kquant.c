/*
 * kquant.c — AVX-512 matmul for the 4/5/6-bit weight types (Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K,
 * Q6_K), bit-identical to kernels/ref: each group of up to four weight rows is dequantized with
 * vector code into the thread's scratch (the same f32 bits as ref/kquant.c: the same products
 * and sums in the same order; this file is built with -ffp-contract=off), then the F32 matmul of
 * avx512/matmul.c runs over those rows, which is the spec's 16-lane dot. So the result equals an
 * F32 matmul over ggml's dequantized weights, for any thread split and batch size.
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

/* Outputs [lo, hi) of a kern_kq_type matmul: groups of 4 weight rows dequantized into scratch
 * (4 * n_in floats, the kernels.h contract), then the F32 matmul over the group. */
void kern_avx512_matmul_kq(const struct kern_matmul *a, float *scratch, int64_t lo, int64_t hi)
{
    size_t rb;
    if (rrm_row_bytes(a->wtype, a->n_in, &rb) != RRM_OK) return;
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
