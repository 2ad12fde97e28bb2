/*
 * ops.c — AVX-512 element-wise kernels, bit-identical to kernels/ref/ops.c: each output element
 * is computed by the same f32 operations in the same order (mul then add, no FMA; this file is
 * built with -ffp-contract=off), 16 at a time, with a masked tail. RMSNorm keeps the ref's
 * sequential double sum of squares (that order is the spec and costs O(n) per row) and
 * vectorizes the scaling. Softmax and SiLU keep the ref (expf from libm) so the set stays
 * bit-identical to ref.
 */
#include "kernels/kernels.h"

#include <immintrin.h>
#include <math.h>

static inline __mmask16 tail_mask(int64_t left)
{
    return (__mmask16)((1u << left) - 1);
}

void kern_avx512_add(float *y, const float *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), _mm512_maskz_loadu_ps(m, x + i));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

void kern_avx512_axpy(float *y, float a, const float *x, int64_t n)
{
    const __m512 av = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 p = _mm512_mul_ps(av, _mm512_loadu_ps(x + i));
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), p));
    }
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        __m512 p = _mm512_mul_ps(av, _mm512_maskz_loadu_ps(m, x + i));
        _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), p));
    }
}

void kern_avx512_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
    float var = n > 0 ? (float)(ss / (double)n) : 0.0f;
    const __m512 sc = _mm512_set1_ps(1.0f / sqrtf(var + eps));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(w + i), _mm512_mul_ps(_mm512_loadu_ps(x + i), sc));
        _mm512_storeu_ps(y + i, v);
    }
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, w + i),
                                 _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), sc));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

/* Pairs (i, i + half) of every head: a' = a*c - b*s, b' = b*c + a*s as in the ref. */
void kern_avx512_rope(float *x, int64_t n_head, int64_t head_dim, const float *cs,
                      const float *sn)
{
    const int64_t half = head_dim / 2;
    for (int64_t h = 0; h < n_head; h++) {
        float *v = x + h * head_dim;
        int64_t i = 0;
        for (; i + 16 <= half; i += 16) {
            __m512 a = _mm512_loadu_ps(v + i), b = _mm512_loadu_ps(v + i + half);
            __m512 c = _mm512_loadu_ps(cs + i), s = _mm512_loadu_ps(sn + i);
            _mm512_storeu_ps(v + i, _mm512_sub_ps(_mm512_mul_ps(a, c), _mm512_mul_ps(b, s)));
            _mm512_storeu_ps(v + i + half, _mm512_add_ps(_mm512_mul_ps(b, c), _mm512_mul_ps(a, s)));
        }
        if (i < half) { /* masked stores are slow on Zen 4: only for the tail */
            __mmask16 m = tail_mask(half - i);
            __m512 a = _mm512_maskz_loadu_ps(m, v + i), b = _mm512_maskz_loadu_ps(m, v + i + half);
            __m512 c = _mm512_maskz_loadu_ps(m, cs + i), s = _mm512_maskz_loadu_ps(m, sn + i);
            _mm512_mask_storeu_ps(v + i, m, _mm512_sub_ps(_mm512_mul_ps(a, c), _mm512_mul_ps(b, s)));
            _mm512_mask_storeu_ps(v + i + half, m,
                                  _mm512_add_ps(_mm512_mul_ps(b, c), _mm512_mul_ps(a, s)));
        }
    }
}
