/*
 * kernels.h — numeric kernels: matmul/dot for each weight type, norms, RoPE, softmax, SiLU,
 * quantize/dequantize. src/kernels/ref/ is the scalar spec; per-ISA files come with issue #6.
 * Kernels never allocate or lock; threaded kernels take (ith, nth) and split contiguous output
 * ranges so results do not depend on the thread count.
 *
 * (The model owner extends this header; the two functions below are used by tools/ too and
 * keep these signatures.)
 */
#ifndef RRM_KERNELS_H
#define RRM_KERNELS_H

#include "core/core.h"

/* Quantizes n floats into dst, bit-exact with ggml's quantize_row_*_ref. n must be a multiple
 * of the type's block. Types: F32, F16, BF16, Q8_0 (others: RRM_E_UNSUPPORTED). */
int kern_quantize_row(int type, const float *src, void *dst, int64_t n);
/* Dequantizes n elements of `type` into dst. Same types as above. */
int kern_dequantize_row(int type, const void *src, float *dst, int64_t n);

#endif
