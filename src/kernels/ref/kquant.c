/*
 * kquant.c — the 4/5/6-bit GGUF weight types: Q4_0, Q4_1, Q5_0, Q5_1 (blocks of 32) and the
 * k-quants Q4_K, Q5_K, Q6_K (super-blocks of 256), bit-exact with ggml's layouts
 * (ggml/src/ggml-common.h block_q4_0 ... block_q6_K), its dequantize_row_* (same arithmetic in
 * the same order, so every dequantized f32 is the same bits) and its quantize_row_*_ref
 * (ggml/src/ggml-quants.c: make_qkx2_quants, make_qx_quants, nearest_int; what llama-quantize
 * runs without an importance matrix). Built without FMA contraction: every product and sum is
 * rounded as the C source reads. Blocks are read and written byte-wise: no alignment needed.
 *
 * Layouts (little-endian f16 scales):
 *   q4_0 (18 B): d, qs[16]             x[j] = (qs[j]&15 - 8)*d, x[j+16] = (qs[j]>>4 - 8)*d
 *   q4_1 (20 B): d, m, qs[16]          x = q*d + m
 *   q5_0 (22 B): d, qh[4], qs[16]      bit 4 of x[j] is bit j of qh (u32); x = (q - 16)*d
 *   q5_1 (24 B): d, m, qh[4], qs[16]   x = q*d + m
 *   q4_K (144 B): d, dmin, scales[12] (8 x 6-bit scale + 6-bit min), qs[128]
 *   q5_K (176 B): d, dmin, scales[12], qh[32], qs[128]
 *   q6_K (210 B): ql[128], qh[64], scales[16] (int8), d
 */
#include "kernels/kernels.h"

#include <math.h>

#define QK 32
#define QK_K 256
#define GROUP_MAX_EPS 1e-15f /* ggml-quants.c */

static float ld_f16(const uint8_t *p)
{
    return rrm_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

static void st_f16(uint8_t *p, float v)
{
    uint16_t h = rrm_f32_to_f16(v);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

/* ggml's nearest_int: round half to even through the 1.5 * 2^23 trick (valid for
 * |v| <= 4194303; other inputs give some integer, never undefined behaviour). */
static int nearest_int(float v)
{
    float t = v + 12582912.f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}

/* (int8_t)(v) as x86 computes it in ggml's q4_0..q5_1 quantizers: truncation toward zero,
 * then the low 8 bits; NaN and out-of-range values give 0 (the 0x80000000 "indefinite"). */
static int trunc8(float v)
{
    if (!(v > -2147483648.0f && v < 2147483648.0f)) return 0;
    return (int)(int8_t)(uint8_t)((uint32_t)(int32_t)v & 0xff);
}

/* ---- blocks of 32 ---- */

/* quantize_row_q4_0_ref / q5_0_ref: d = (value of largest |x|) / -8 (or -16). */
static void quant_q40_q50(const float *x, uint8_t *y, int five)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    const float d = max / (five ? -16 : -8);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    st_f16(y, d);
    uint8_t *qs = y + (five ? 6 : 2);
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; j++) {
        const float x0 = x[j] * id, x1 = x[QK / 2 + j] * id;
        int a = trunc8(x0 + (five ? 16.5f : 8.5f)), b = trunc8(x1 + (five ? 16.5f : 8.5f));
        const int top = five ? 31 : 15;
        uint8_t q0 = (uint8_t)(a < top ? a : top), q1 = (uint8_t)(b < top ? b : top);
        qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
        qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
        qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + QK / 2);
    }
    if (five) {
        for (int k = 0; k < 4; k++) y[2 + k] = (uint8_t)(qh >> (8 * k));
    }
}

/* quantize_row_q4_1_ref / q5_1_ref: d = (max - min) / 15 (or 31), m = min. */
static void quant_q41_q51(const float *x, uint8_t *y, int five)
{
    float min = 3.402823466e38f, max = -3.402823466e38f;
    for (int j = 0; j < QK; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / (five ? 31 : 15);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    st_f16(y, d);
    st_f16(y + 2, min);
    uint8_t *qs = y + (five ? 8 : 4);
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; j++) {
        const float x0 = (x[j] - min) * id, x1 = (x[QK / 2 + j] - min) * id;
        int a = trunc8(x0 + 0.5f), b = trunc8(x1 + 0.5f);
        /* q5_1 keeps the uint8 value as is; q4_1 clamps with MIN(15, (int8_t)...) */
        uint8_t q0 = five ? (uint8_t)a : (uint8_t)(a < 15 ? a : 15);
        uint8_t q1 = five ? (uint8_t)b : (uint8_t)(b < 15 ? b : 15);
        qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
        qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
        qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + QK / 2);
    }
    if (five) {
        for (int k = 0; k < 4; k++) y[4 + k] = (uint8_t)(qh >> (8 * k));
    }
}

static void deq_q4_0(const uint8_t *b, float *y)
{
    const float d = ld_f16(b);
    for (int j = 0; j < QK / 2; j++) {
        y[j] = (float)((b[2 + j] & 0x0f) - 8) * d;
        y[j + QK / 2] = (float)((b[2 + j] >> 4) - 8) * d;
    }
}

static void deq_q4_1(const uint8_t *b, float *y)
{
    const float d = ld_f16(b), m = ld_f16(b + 2);
    for (int j = 0; j < QK / 2; j++) {
        y[j] = (float)(b[4 + j] & 0x0f) * d + m;
        y[j + QK / 2] = (float)(b[4 + j] >> 4) * d + m;
    }
}

static uint32_t ld_qh(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void deq_q5_0(const uint8_t *b, float *y)
{
    const float d = ld_f16(b);
    const uint32_t qh = ld_qh(b + 2);
    for (int j = 0; j < QK / 2; j++) {
        int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
        y[j] = (float)(((b[6 + j] & 0x0f) | h0) - 16) * d;
        y[j + QK / 2] = (float)(((b[6 + j] >> 4) | h1) - 16) * d;
    }
}

static void deq_q5_1(const uint8_t *b, float *y)
{
    const float d = ld_f16(b), m = ld_f16(b + 2);
    const uint32_t qh = ld_qh(b + 4);
    for (int j = 0; j < QK / 2; j++) {
        int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
        y[j] = (float)((b[8 + j] & 0x0f) | h0) * d + m;
        y[j + QK / 2] = (float)((b[8 + j] >> 4) | h1) * d + m;
    }
}

/* ---- k-quants ---- */

/* ggml's get_scale_min_k4: 6-bit scale and min of sub-block j (0..7) from the 12 bytes. */
void kern_kq_scale_min(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* ggml's make_qkx2_quants: scale and min (returned negated in *the_min) of n values with
 * levels 0..nmax, weighted least squares over nstep+1 trial scales. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *w, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep)
{
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)(l < 0 ? 0 : l > nmax ? nmax : l);
        float diff = scale * L[i] + min - x[i];
        best_error += w[i] * (diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * (x[i] - min));
            l = l < 0 ? 0 : l > nmax ? nmax : l;
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                cur_error += w[i] * (diff * diff);
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* ggml's make_qx_quants with rmse_type 1 and no importance weights (w = x^2): symmetric
 * levels -nmax..nmax-1 stored as L = l + nmax; 18 trial scales around nmax / max. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * x[i]);
        l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * x[i]);
            l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + (l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* quantize_row_q4_K_ref / q5_K_ref for one super-block: 8 sub-blocks of 32 with a 6-bit scale
 * and min each, the two super-scales d, dmin in f16. Writes d, dmin, scales[12] at y and
 * returns the levels (0..15 or 0..31) in L. */
static void quant_k_scales(const float *x, uint8_t *y, uint8_t *L, int five)
{
    uint8_t Laux[32];
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = five ? make_qkx2_quants(32, 31, x + 32 * j, weights, L + 32 * j, &mins[j],
                                            Laux, -0.5f, 0.1f, 15)
                         : make_qkx2_quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j],
                                            Laux, -1.f, 0.1f, 20);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t *sc = y + 4;
    memset(sc, 0, 12);
    for (int j = 0; j < 8; j++) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = (uint8_t)((ls & 0x0f) | ((lm & 0x0f) << 4));
            sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
            sc[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    st_f16(y, max_scale / 63.f);
    st_f16(y + 2, max_min / 63.f);
    const float d_all = ld_f16(y), dmin_all = ld_f16(y + 2);
    const int top = five ? 31 : 15;
    for (int j = 0; j < 8; j++) {
        uint8_t s, m;
        kern_kq_scale_min(j, sc, &s, &m);
        const float d = d_all * s;
        if (d == 0) continue; /* keeps make_qkx2_quants' levels, as ggml does */
        const float dm = dmin_all * m;
        for (int ii = 0; ii < 32; ii++) {
            int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)(l < 0 ? 0 : l > top ? top : l);
        }
    }
}

static void quant_q4_k(const float *x, uint8_t *y)
{
    uint8_t L[QK_K];
    quant_k_scales(x, y, L, 0);
    uint8_t *q = y + 16;
    for (int j = 0; j < QK_K; j += 64, q += 32) {
        for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

static void quant_q5_k(const float *x, uint8_t *y)
{
    uint8_t L[QK_K];
    quant_k_scales(x, y, L, 1);
    uint8_t *qh = y + 16, *ql = y + 48;
    memset(qh, 0, 32);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < QK_K; n += 64, ql += 32) {
        for (int j = 0; j < 32; j++) {
            int l1 = L[n + j], l2 = L[n + j + 32];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] |= m1;
            }
            if (l2 > 15) {
                l2 -= 16;
                qh[j] |= m2;
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 = (uint8_t)(m1 << 2);
        m2 = (uint8_t)(m2 << 2);
    }
}

/* quantize_row_q6_K_ref for one super-block: 16 sub-blocks of 16 with an int8 scale each. */
static void quant_q6_k(const float *x, uint8_t *y)
{
    int8_t L[QK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ib++) {
        const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
        scales[ib] = scale;
        if (fabsf(scale) > max_abs_scale) {
            max_abs_scale = fabsf(scale);
            max_scale = scale;
        }
    }
    memset(y, 0, 210);
    if (max_abs_scale < GROUP_MAX_EPS) return; /* all zero (d = +0) */
    uint8_t *ql = y, *qh = y + 128;
    int8_t sc[16];
    float iscale = -128.f / max_scale;
    st_f16(y + 208, 1 / iscale);
    for (int ib = 0; ib < 16; ib++) {
        int v = nearest_int(iscale * scales[ib]);
        sc[ib] = (int8_t)(v < 127 ? v : 127);
        y[192 + ib] = (uint8_t)sc[ib];
    }
    const float d_all = ld_f16(y + 208);
    for (int j = 0; j < 16; j++) {
        float d = d_all * sc[j];
        if (d == 0) continue;
        for (int ii = 0; ii < 16; ii++) {
            int l = nearest_int(x[16 * j + ii] / d);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            L[16 * j + ii] = (int8_t)(l + 32);
        }
    }
    for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
        for (int l = 0; l < 32; l++) {
            const uint8_t *u = (const uint8_t *)L + j + l;
            ql[l] = (uint8_t)((u[0] & 0x0f) | ((u[64] & 0x0f) << 4));
            ql[l + 32] = (uint8_t)((u[32] & 0x0f) | ((u[96] & 0x0f) << 4));
            qh[l] = (uint8_t)((u[0] >> 4) | ((u[32] >> 4) << 2) | ((u[64] >> 4) << 4) |
                              ((u[96] >> 4) << 6));
        }
    }
}

/* dequantize_row_q4_K / q5_K for one super-block: x = (d * scale) * q - dmin * min. */
static void deq_q45_k(const uint8_t *b, float *y, int five)
{
    const float d = ld_f16(b), min = ld_f16(b + 2);
    const uint8_t *sc = b + 4, *qh = b + 16, *ql = b + (five ? 48 : 16);
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32) {
        uint8_t s, m;
        kern_kq_scale_min(is, sc, &s, &m);
        const float d1 = d * s, m1 = min * m;
        kern_kq_scale_min(is + 1, sc, &s, &m);
        const float d2 = d * s, m2 = min * m;
        for (int l = 0; l < 32; l++) {
            int h = five && (qh[l] & u1) ? 16 : 0;
            y[j + l] = d1 * (float)((ql[l] & 0x0f) + h) - m1;
        }
        for (int l = 0; l < 32; l++) {
            int h = five && (qh[l] & u2) ? 16 : 0;
            y[j + 32 + l] = d2 * (float)((ql[l] >> 4) + h) - m2;
        }
        u1 = (uint8_t)(u1 << 2);
        u2 = (uint8_t)(u2 << 2);
    }
}

/* dequantize_row_q6_K for one super-block: x = (d * scale) * (q - 32), rounded twice as in
 * ggml (d * scale is exact, the second product is not). */
static void deq_q6_k(const uint8_t *b, float *y)
{
    const float d = ld_f16(b + 208);
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    for (int n = 0; n < QK_K; n += 128, ql += 64, qh += 32, sc += 8) {
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = ((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32;
            int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[n + l] = d * sc[is] * q1;
            y[n + l + 32] = d * sc[is + 2] * q2;
            y[n + l + 64] = d * sc[is + 4] * q3;
            y[n + l + 96] = d * sc[is + 6] * q4;
        }
    }
}

int kern_kq_type(int type)
{
    switch (type) {
    case RRM_TYPE_Q4_0:
    case RRM_TYPE_Q4_1:
    case RRM_TYPE_Q5_0:
    case RRM_TYPE_Q5_1:
    case RRM_TYPE_Q4_K:
    case RRM_TYPE_Q5_K:
    case RRM_TYPE_Q6_K:
        return 1;
    default:
        return 0;
    }
}

void kern_kq_quantize(int type, const float *x, uint8_t *y, int64_t n_blocks)
{
    const int bs = rrm_type_block(type), bb = rrm_type_block_bytes(type);
    for (int64_t i = 0; i < n_blocks; i++, x += bs, y += bb) {
        switch (type) {
        case RRM_TYPE_Q4_0: quant_q40_q50(x, y, 0); break;
        case RRM_TYPE_Q5_0: quant_q40_q50(x, y, 1); break;
        case RRM_TYPE_Q4_1: quant_q41_q51(x, y, 0); break;
        case RRM_TYPE_Q5_1: quant_q41_q51(x, y, 1); break;
        case RRM_TYPE_Q4_K: quant_q4_k(x, y); break;
        case RRM_TYPE_Q5_K: quant_q5_k(x, y); break;
        case RRM_TYPE_Q6_K: quant_q6_k(x, y); break;
        default: return;
        }
    }
}

void kern_kq_dequantize(int type, const uint8_t *x, float *y, int64_t n_blocks)
{
    const int bs = rrm_type_block(type), bb = rrm_type_block_bytes(type);
    for (int64_t i = 0; i < n_blocks; i++, x += bb, y += bs) {
        switch (type) {
        case RRM_TYPE_Q4_0: deq_q4_0(x, y); break;
        case RRM_TYPE_Q4_1: deq_q4_1(x, y); break;
        case RRM_TYPE_Q5_0: deq_q5_0(x, y); break;
        case RRM_TYPE_Q5_1: deq_q5_1(x, y); break;
        case RRM_TYPE_Q4_K: deq_q45_k(x, y, 0); break;
        case RRM_TYPE_Q5_K: deq_q45_k(x, y, 1); break;
        case RRM_TYPE_Q6_K: deq_q6_k(x, y); break;
        default: return;
        }
    }
}
