/*
 * half.c — IEEE binary16 <-> binary32 conversions, round to nearest even, matching what ggml gets
 * from F16C (_cvtss_sh with rounding mode 0) and its portable fallback.
 */
#include "core.h"

float rrm_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f) return rrm_bits_f32(sign | 0x7f800000 | (man << 13)); /* inf / NaN */
    if (exp == 0) {
        if (man == 0) return rrm_bits_f32(sign); /* +-0 */
        /* subnormal: man * 2^-24 exactly */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return rrm_bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t rrm_f32_to_f16(float f)
{
    uint32_t u = rrm_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t a = u & 0x7fffffff;
    if (a > 0x7f800000) return sign | 0x7e00 | (uint16_t)((a >> 13) & 0x3ff); /* NaN, quiet */
    if (a >= 0x477ff000) return sign | 0x7c00; /* rounds to >= 65536: inf */
    if (a < 0x38800000) {
        /* result is subnormal or zero: value / 2^-24, rounded to nearest even */
        if (a < 0x33000000) return sign; /* < 2^-25: rounds to 0 */
        uint32_t e = a >> 23;
        uint32_t m = (a & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t r = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return sign | (uint16_t)r;
    }
    /* normal: rebias and round the 13 dropped bits to nearest even */
    uint32_t v = a - 0x38000000; /* exponent - 112 */
    uint32_t r = v >> 13;
    uint32_t rem = v & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return sign | (uint16_t)r;
}
