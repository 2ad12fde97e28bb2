/*
 * quant.c — row conversions between f32 and the stored weight types, bit-exact with ggml's
 * reference code (ggml/src/ggml-quants.c quantize_row_q8_0_ref / dequantize_row_q8_0,
 * ggml.c ggml_fp32_to_fp16_row / ggml_fp32_to_bf16_row_ref). block_q8_0 is 34 bytes: an f16
 * scale d then 32 int8 q, x = d * q (ggml-common.h). Blocks are read with memcpy, so rows need
 * no alignment here. Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K are in kquant.c.
 */
#include "kernels/kernels.h"

#include <math.h>

#define QK8_0 32
#define Q8_0_BYTES 34

/* ggml's quantize_row_q8_0_ref: d = amax / 127 (amax by ggml's MAX, which skips NaN the same
 * way), id = d ? 1/d : 0, q = roundf(x * id) (half away from zero), d stored as f16. */
static void quantize_q8_0(const float *x, uint8_t *y, int64_t n)
{
    for (int64_t b = 0; b < n / QK8_0; b++) {
        const float *xb = x + b * QK8_0;
        uint8_t *yb = y + b * Q8_0_BYTES;
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) {
            float v = fabsf(xb[j]);
            amax = amax > v ? amax : v;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t dh = rrm_f32_to_f16(d);
        memcpy(yb, &dh, 2);
        for (int j = 0; j < QK8_0; j++) {
            float v = roundf(xb[j] * id);
            /* NaN (inf inputs: inf * 0) gives 0, as x86's conversion truncated to 8 bits */
            int8_t q = v == v ? (int8_t)v : 0;
            yb[2 + j] = (uint8_t)q;
        }
    }
}

static void dequantize_q8_0(const uint8_t *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / QK8_0; b++) {
        const uint8_t *xb = x + b * Q8_0_BYTES;
        uint16_t dh;
        memcpy(&dh, xb, 2);
        const float d = rrm_f16_to_f32(dh);
        for (int j = 0; j < QK8_0; j++) y[b * QK8_0 + j] = d * (float)(int8_t)xb[2 + j];
    }
}

int kern_quantize_row(int type, const float *src, void *dst, int64_t n)
{
    if (n < 0) return RRM_E_INVAL;
    uint8_t *d = dst;
    switch (type) {
    case RRM_TYPE_F32:
        memcpy(dst, src, (size_t)n * 4);
        return RRM_OK;
    case RRM_TYPE_F16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = rrm_f32_to_f16(src[i]);
            memcpy(d + 2 * i, &h, 2);
        }
        return RRM_OK;
    case RRM_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = rrm_f32_to_bf16(src[i]);
            memcpy(d + 2 * i, &h, 2);
        }
        return RRM_OK;
    case RRM_TYPE_Q8_0:
        if (n % QK8_0) return RRM_E_INVAL;
        quantize_q8_0(src, d, n);
        return RRM_OK;
    default:
        if (!kern_kq_type(type)) return RRM_E_UNSUPPORTED;
        if (n % rrm_type_block(type)) return RRM_E_INVAL;
        kern_kq_quantize(type, src, d, n / rrm_type_block(type));
        return RRM_OK;
    }
}

int kern_dequantize_row(int type, const void *src, float *dst, int64_t n)
{
    if (n < 0) return RRM_E_INVAL;
    const uint8_t *s = src;
    switch (type) {
    case RRM_TYPE_F32:
        memcpy(dst, src, (size_t)n * 4);
        return RRM_OK;
    case RRM_TYPE_F16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            dst[i] = rrm_f16_to_f32(h);
        }
        return RRM_OK;
    case RRM_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            dst[i] = rrm_bf16_to_f32(h);
        }
        return RRM_OK;
    case RRM_TYPE_Q8_0:
        if (n % QK8_0) return RRM_E_INVAL;
        dequantize_q8_0(s, dst, n);
        return RRM_OK;
    default:
        if (!kern_kq_type(type)) return RRM_E_UNSUPPORTED;
        if (n % rrm_type_block(type)) return RRM_E_INVAL;
        kern_kq_dequantize(type, s, dst, n / rrm_type_block(type));
        return RRM_OK;
    }
}

int kern_matmul_type_ok(int type)
{
    return type == RRM_TYPE_F32 || type == RRM_TYPE_F16 || type == RRM_TYPE_BF16 ||
           type == RRM_TYPE_Q8_0 || kern_kq_type(type);
}
