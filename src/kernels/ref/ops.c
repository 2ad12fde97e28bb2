/*
 * ops.c — reference element-wise and row kernels of the Qwen2 forward, following Hugging Face
 * modeling_qwen2.py: Qwen2RMSNorm, apply_rotary_pos_emb (rotate_half), softmax in f32, SiLU
 * (ACT2FN["silu"]), residual add. Sums that set a scale (RMSNorm mean, softmax denominator) are
 * accumulated in double in this reference (STYLE.md §6); everything else is f32.
 */
#include "kernels/kernels.h"

#include <math.h>

void kern_ref_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
    /* HF: variance (f32) + eps, then rsqrt, then weight * (x * scale) */
    float var = n > 0 ? (float)(ss / (double)n) : 0.0f;
    float scale = 1.0f / sqrtf(var + eps);
    for (int64_t i = 0; i < n; i++) y[i] = w[i] * (x[i] * scale);
}

void kern_ref_rope(float *x, int64_t n_head, int64_t head_dim, const float *cs, const float *sn)
{
    const int64_t half = head_dim / 2;
    for (int64_t h = 0; h < n_head; h++) {
        float *v = x + h * head_dim;
        for (int64_t i = 0; i < half; i++) {
            float a = v[i], b = v[i + half];
            /* HF: q * cos + rotate_half(q) * sin, rotate_half(q) = cat(-q2, q1) */
            v[i] = a * cs[i] - b * sn[i];
            v[i + half] = b * cs[i] + a * sn[i];
        }
    }
}

void kern_ref_softmax(float *x, int64_t n)
{
    if (n <= 0) return;
    float mx = x[0];
    for (int64_t i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += (double)x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void kern_ref_silu_mul(float *g, const float *u, int64_t n)
{
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void kern_ref_add(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void kern_ref_axpy(float *y, float a, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}
