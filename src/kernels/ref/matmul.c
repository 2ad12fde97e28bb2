/*
 * matmul.c — reference dot product and matrix product (the spec of kernels.h). Every output
 * y[r][o] is one dot over a weight row dequantized exactly to f32, with the fixed 16-lane order
 * of kern_ref_dot, so results are bit-identical for any thread count and batch size. Threads
 * split the output range; each weight row is dequantized once and used for every batch row.
 */
#include "kernels/kernels.h"

#define LANES 16

float kern_ref_dot(const float *a, const float *b, int64_t n)
{
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (int k = 0; k < LANES; k++) acc[k] += a[i + k] * b[i + k];
    }
    for (int k = 0; i < n; i++, k++) acc[k] += a[i] * b[i];
    for (int w = LANES / 2; w > 0; w /= 2) {
        for (int k = 0; k < w; k++) acc[k] += acc[k + w];
    }
    return acc[0];
}

/* Four outputs of one x row at once: x is loaded once for four weight rows. Each output keeps
 * exactly the lane order of kern_ref_dot (same code path per lane), so this is only a speedup. */
static void dot4(const float *w0, const float *w1, const float *w2, const float *w3,
                 const float *x, int64_t n, float out[4])
{
    float a0[LANES] = {0}, a1[LANES] = {0}, a2[LANES] = {0}, a3[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (int k = 0; k < LANES; k++) {
            float xv = x[i + k];
            a0[k] += w0[i + k] * xv;
            a1[k] += w1[i + k] * xv;
            a2[k] += w2[i + k] * xv;
            a3[k] += w3[i + k] * xv;
        }
    }
    for (int k = 0; i < n; i++, k++) {
        a0[k] += w0[i] * x[i];
        a1[k] += w1[i] * x[i];
        a2[k] += w2[i] * x[i];
        a3[k] += w3[i] * x[i];
    }
    for (int w = LANES / 2; w > 0; w /= 2) {
        for (int k = 0; k < w; k++) {
            a0[k] += a0[k + w];
            a1[k] += a1[k + w];
            a2[k] += a2[k + w];
            a3[k] += a3[k + w];
        }
    }
    out[0] = a0[0];
    out[1] = a1[0];
    out[2] = a2[0];
    out[3] = a3[0];
}

/* Pointer to weight row o as f32: the row itself for F32, else dequantized into buf. */
static const float *weight_row(const struct kern_matmul *a, size_t row_bytes, int64_t o,
                               float *buf)
{
    const uint8_t *p = (const uint8_t *)a->w + (size_t)o * row_bytes;
    if (a->wtype == RRM_TYPE_F32) return (const float *)(const void *)p;
    kern_dequantize_row(a->wtype, p, buf, a->n_in);
    return buf;
}

/* scratch holds 4 dequantized rows (4 * n_in floats) for non-F32 weights. */
void kern_ref_matmul(const struct kern_matmul *a, float *scratch, int ith, int nth)
{
    int64_t lo, hi;
    size_t row_bytes;
    rrm_split(a->n_out, ith, nth, &lo, &hi);
    if (rrm_row_bytes(a->wtype, a->n_in, &row_bytes) != RRM_OK) return;
    const int64_t n = a->n_in;
    int64_t o = lo;
    for (; o + 4 <= hi; o += 4) {
        const float *w0 = weight_row(a, row_bytes, o, scratch);
        const float *w1 = weight_row(a, row_bytes, o + 1, scratch + n);
        const float *w2 = weight_row(a, row_bytes, o + 2, scratch + 2 * n);
        const float *w3 = weight_row(a, row_bytes, o + 3, scratch + 3 * n);
        for (int64_t r = 0; r < a->n_rows; r++) {
            float out[4];
            dot4(w0, w1, w2, w3, a->x + r * a->ldx, n, out);
            float *y = a->y + r * a->ldy + o;
            for (int k = 0; k < 4; k++) y[k] = a->bias ? out[k] + a->bias[o + k] : out[k];
        }
    }
    for (; o < hi; o++) {
        const float *w0 = weight_row(a, row_bytes, o, scratch);
        for (int64_t r = 0; r < a->n_rows; r++) {
            float v = kern_ref_dot(w0, a->x + r * a->ldx, n);
            a->y[r * a->ldy + o] = a->bias ? v + a->bias[o] : v;
        }
    }
}
