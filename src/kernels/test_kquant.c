/*
 * test_kquant.c — the 4/5/6-bit weight types (Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K):
 *  - layout: blocks built by hand (bytes placed where ggml-common.h says) dequantize to values
 *    computed here element by element from that description, so a nibble, bit or scale in the
 *    wrong place fails;
 *  - quantizer corner cases (zero block, d rounding, ties) and quantize -> dequantize error
 *    bounds per type on normal data;
 *  - sizes: n not a multiple of the block is RRM_E_INVAL (rows) / RRM_E_FORMAT (row bytes);
 *  - matmul: ref == F32 matmul over the dequantized rows, and every ISA variant == ref bit for
 *    bit on awkward shapes (1..17 rows, ragged output groups, several threads), outputs
 *    NaN-poisoned, weights at an odd address; the vector dequantizer == ref on random blocks.
 * Bit-exactness with ggml itself is checked by tools/ggml_quant_check (tests/golden/).
 */
#include "kernels/kernels.h"
#include "../../tests/harness.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const int kq_types[] = {RRM_TYPE_Q4_0, RRM_TYPE_Q4_1, RRM_TYPE_Q5_0, RRM_TYPE_Q5_1,
                               RRM_TYPE_Q4_K, RRM_TYPE_Q5_K, RRM_TYPE_Q6_K};
#define N_KQ (int)(sizeof kq_types / sizeof kq_types[0])

static void fill(struct rrm_rng *r, float *x, int64_t n, double scale)
{
    for (int64_t i = 0; i < n; i++) x[i] = (float)(rrm_rng_normal(r) * scale);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static float f16(const uint8_t *p)
{
    return rrm_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

/* Random bytes with finite f16 scales at the given offsets. */
static void random_block(struct rrm_rng *r, uint8_t *b, int nb, const int *f16_at, int n_f16)
{
    for (int i = 0; i < nb; i++) b[i] = (uint8_t)rrm_rng_u64(r);
    for (int i = 0; i < n_f16; i++) put16(b + f16_at[i], rrm_f32_to_f16((float)rrm_rng_normal(r)));
}

/* Element e of a 32-block: nibble j = e % 16 of qs, low nibble for e < 16, high for e >= 16;
 * bit e of the 32-bit qh (5-bit types) adds 16. */
static int q32_level(const uint8_t *qs, const uint8_t *qh, int e)
{
    int v = e < 16 ? qs[e] & 15 : qs[e - 16] >> 4;
    if (qh) v |= ((qh[e / 8] >> (e % 8)) & 1) << 4;
    return v;
}

static void test_layout_32(void)
{
    struct rrm_rng r;
    rrm_rng_seed(&r, 21);
    uint8_t b[24];
    float y[32];
    /* literal Q4_0 block: d = 0.5, qs[j] = j | (15 - j) << 4 -> x[j] = (j - 8) / 2,
     * x[16 + j] = (7 - j) / 2 */
    put16(b, 0x3800);
    for (int j = 0; j < 16; j++) b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    CHECK_EQ(kern_dequantize_row(RRM_TYPE_Q4_0, b, y, 32), RRM_OK);
    int ok = 1;
    for (int j = 0; j < 16; j++) ok &= y[j] == (j - 8) * 0.5f && y[16 + j] == (7 - j) * 0.5f;
    CHECK_MSG(ok, "q4_0 literal block");
    for (int it = 0; it < 50; it++) {
        const int f2[] = {0, 2};
        /* q4_0: d qs */
        random_block(&r, b, 18, f2, 1);
        kern_dequantize_row(RRM_TYPE_Q4_0, b, y, 32);
        ok = 1;
        for (int e = 0; e < 32; e++) ok &= y[e] == (float)(q32_level(b + 2, NULL, e) - 8) * f16(b);
        CHECK_MSG(ok, "q4_0 layout");
        /* q4_1: d m qs */
        random_block(&r, b, 20, f2, 2);
        kern_dequantize_row(RRM_TYPE_Q4_1, b, y, 32);
        ok = 1;
        for (int e = 0; e < 32; e++)
            ok &= y[e] == (float)q32_level(b + 4, NULL, e) * f16(b) + f16(b + 2);
        CHECK_MSG(ok, "q4_1 layout");
        /* q5_0: d qh[4] qs */
        random_block(&r, b, 22, f2, 1);
        kern_dequantize_row(RRM_TYPE_Q5_0, b, y, 32);
        ok = 1;
        for (int e = 0; e < 32; e++) ok &= y[e] == (float)(q32_level(b + 6, b + 2, e) - 16) * f16(b);
        CHECK_MSG(ok, "q5_0 layout");
        /* q5_1: d m qh[4] qs */
        random_block(&r, b, 24, f2, 2);
        kern_dequantize_row(RRM_TYPE_Q5_1, b, y, 32);
        ok = 1;
        for (int e = 0; e < 32; e++)
            ok &= y[e] == (float)q32_level(b + 8, b + 4, e) * f16(b) + f16(b + 2);
        CHECK_MSG(ok, "q5_1 layout");
    }
}

/* Q4_K/Q5_K 12 scale bytes, as the ggml-common.h comment lays them out: bytes 0-3 hold the
 * 6-bit scales 0-3 plus the top 2 bits of scales 4-7 in bits 6-7; bytes 4-7 the same for the
 * mins; bytes 8-11 the low 4 bits of scale 4-7 (low nibble) and min 4-7 (high nibble). */
static void pack_k4(uint8_t *s, const int sc[8], const int mn[8])
{
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
        s[j + 4] = (uint8_t)(mn[j] | (mn[j + 4] >> 4) << 6);
        s[j + 8] = (uint8_t)((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4);
    }
}

static void test_layout_k(void)
{
    struct rrm_rng r;
    rrm_rng_seed(&r, 22);
    uint8_t b[210];
    float y[256];
    for (int it = 0; it < 30; it++) {
        for (int five = 0; five < 2; five++) {
            int sc[8], mn[8];
            for (int j = 0; j < 8; j++) {
                sc[j] = (int)(rrm_rng_u64(&r) % 64);
                mn[j] = (int)(rrm_rng_u64(&r) % 64);
            }
            const int f2[] = {0, 2};
            random_block(&r, b, five ? 176 : 144, f2, 2);
            pack_k4(b + 4, sc, mn);
            const float d = f16(b), dmin = f16(b + 2);
            const uint8_t *qh = b + 16, *qs = b + (five ? 48 : 16);
            CHECK_EQ(kern_dequantize_row(five ? RRM_TYPE_Q5_K : RRM_TYPE_Q4_K, b, y, 256), RRM_OK);
            int ok = 1;
            /* element e: sub-block s = e / 32 of group g = e / 64; byte qs[32 g + e % 32],
             * low nibble for even s, high for odd; Q5_K: bit s of qh[e % 32] adds 16 */
            for (int e = 0; e < 256; e++) {
                const int s = e / 32, g = e / 64, l = e % 32;
                int q = s % 2 ? qs[32 * g + l] >> 4 : qs[32 * g + l] & 15;
                if (five) q += ((qh[l] >> s) & 1) * 16;
                ok &= y[e] == (d * (float)sc[s]) * (float)q - dmin * (float)mn[s];
            }
            CHECK_MSG(ok, "%s layout", five ? "q5_K" : "q4_K");
        }
        /* Q6_K: ql[128] qh[64] int8 scales[16] d. Element e: half h = e / 128, quarter k of
         * 32 in it, l = e % 32; low 4 bits from ql[64 h + l + 32 (k % 2)] (low nibble for
         * k < 2, high for k >= 2), 2 high bits from qh[32 h + l] bits 2k..2k+1; scale
         * 8 h + l / 16 + 2 k; x = (d * scale) * (q - 32). */
        const int f6[] = {208};
        random_block(&r, b, 210, f6, 1);
        CHECK_EQ(kern_dequantize_row(RRM_TYPE_Q6_K, b, y, 256), RRM_OK);
        int ok = 1;
        const float d = f16(b + 208);
        for (int e = 0; e < 256; e++) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const uint8_t lb = b[64 * h + l + 32 * (k % 2)];
            int q = (k < 2 ? lb & 15 : lb >> 4) | ((b[128 + 32 * h + l] >> (2 * k)) & 3) << 4;
            const int8_t s = (int8_t)b[192 + 8 * h + l / 16 + 2 * k];
            ok &= y[e] == (d * (float)s) * (float)(q - 32);
        }
        CHECK_MSG(ok, "q6_K layout");
    }
}

static void test_quant_corners(void)
{
    float x[512];
    uint8_t q[512];
    float y[512];
    /* all-zero input: every type gives exact zeros back */
    for (int i = 0; i < 512; i++) x[i] = 0.0f;
    for (int t = 0; t < N_KQ; t++) {
        memset(q, 0xab, sizeof q);
        CHECK_EQ(kern_quantize_row(kq_types[t], x, q, 256), RRM_OK);
        CHECK_EQ(kern_dequantize_row(kq_types[t], q, y, 256), RRM_OK);
        int ok = 1;
        for (int i = 0; i < 256; i++) ok &= y[i] == 0.0f;
        CHECK_MSG(ok, "%s zero block", rrm_type_name(kq_types[t]));
    }
    /* Q4_0 by hand: the value of largest |x| is -8 -> d = 1 (f16 0x3c00), levels x + 8 */
    for (int j = 0; j < 32; j++) x[j] = (float)(j % 16) - 8.0f;
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q4_0, x, q, 32), RRM_OK);
    CHECK_EQ(q[0] | q[1] << 8, 0x3c00);
    CHECK_EQ(q[2], 0x00); /* x[0] = -8 -> 0, x[16] = -8 -> 0 */
    CHECK_EQ(q[2 + 15], 0xff);
    /* Q4_1: min -1, max 14 -> d = 1, m = -1: levels x + 1 */
    for (int j = 0; j < 32; j++) x[j] = (float)(j % 16) - 1.0f;
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q4_1, x, q, 32), RRM_OK);
    CHECK_EQ(q[0] | q[1] << 8, 0x3c00);
    CHECK_EQ(q[2] | q[3] << 8, 0xbc00);
    CHECK_EQ(q[4 + 5], 0x55);
    /* Q5_0: the largest |x| is +16 -> d = -1: levels 16 - x, x = 16 clamps to level 0 */
    for (int j = 0; j < 32; j++) x[j] = j == 0 ? 16.0f : (float)(j % 8);
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q5_0, x, q, 32), RRM_OK);
    CHECK_EQ(q[0] | q[1] << 8, 0xbc00);
    CHECK_EQ(kern_dequantize_row(RRM_TYPE_Q5_0, q, y, 32), RRM_OK);
    int ok = 1;
    for (int j = 0; j < 32; j++) ok &= y[j] == x[j];
    CHECK_MSG(ok, "q5_0 exact levels");
    /* k-quants of small integers at their own grid are reproduced exactly by Q6_K */
    for (int i = 0; i < 256; i++) x[i] = (float)((i * 7) % 63 - 31);
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q6_K, x, q, 256), RRM_OK);
    CHECK_EQ(kern_dequantize_row(RRM_TYPE_Q6_K, q, y, 256), RRM_OK);
    double e = 0;
    for (int i = 0; i < 256; i++) e = fmax(e, fabs(y[i] - x[i]));
    CHECK_MSG(e <= 0.5, "q6_K on an integer grid: max err %g", e);
}

/* quantize -> dequantize on normal data: NMSE per type, and the per-element bound of the
 * symmetric 32-blocks: |err| <= d (the level of -max is 2^(b-1) = one past the top level, so
 * it clamps a full step; all others are within d / 2), d = amax / 2^(b-1), plus f16 rounding. */
static void test_roundtrip(void)
{
    /* NMSE measured on this normal row (q4_0 7.3e-3, q4_1 5.9e-3, q5_0 1.9e-3, q5_1 1.4e-3,
     * q4_K 4.9e-3, q5_K 1.3e-3, q6_K 3.2e-4; the quantizers are deterministic), ~1.4x headroom */
    static const double bound[] = {1.0e-2, 8.5e-3, 2.6e-3, 2.0e-3, 7.0e-3, 1.9e-3, 4.5e-4};
    const int64_t n = 4096;
    struct rrm_rng r;
    rrm_rng_seed(&r, 23);
    float *x = rrm_malloc((size_t)n * 4), *y = rrm_malloc((size_t)n * 4);
    uint8_t *q = rrm_malloc((size_t)n * 2);
    fill(&r, x, n, 0.7);
    for (int t = 0; t < N_KQ; t++) {
        CHECK_EQ(kern_quantize_row(kq_types[t], x, q, n), RRM_OK);
        CHECK_EQ(kern_dequantize_row(kq_types[t], q, y, n), RRM_OK);
        double num = 0, den = 0, worst = 0;
        for (int64_t i = 0; i < n; i++) {
            num += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
            den += (double)x[i] * x[i];
        }
        if (kq_types[t] == RRM_TYPE_Q4_0 || kq_types[t] == RRM_TYPE_Q5_0) {
            const int nl = kq_types[t] == RRM_TYPE_Q4_0 ? 8 : 16;
            for (int64_t b = 0; b < n / 32; b++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
                for (int j = 0; j < 32; j++) {
                    double err = fabs((double)y[b * 32 + j] - x[b * 32 + j]);
                    worst = fmax(worst, err / (amax / nl));
                }
            }
            CHECK_MSG(worst <= 1.0 + 2e-3, "%s: err %.4f d", rrm_type_name(kq_types[t]),
                      worst);
        }
        CHECK_MSG(num / den < bound[t], "%s: nmse %.3g >= %.3g", rrm_type_name(kq_types[t]),
                  num / den, bound[t]);
    }
    rrm_free(x);
    rrm_free(y);
    rrm_free(q);
}

static void test_sizes(void)
{
    float x[800] = {0};
    uint8_t q[800];
    size_t rb;
    for (int t = 0; t < N_KQ; t++) {
        const int type = kq_types[t], blk = rrm_type_block(type);
        CHECK_EQ(kern_quantize_row(type, x, q, blk + 16), RRM_E_INVAL);
        CHECK_EQ(kern_dequantize_row(type, q, x, blk - 1), RRM_E_INVAL);
        CHECK_EQ(kern_quantize_row(type, x, q, 0), RRM_OK);
        CHECK_EQ(rrm_row_bytes(type, 896, &rb), blk == 256 ? RRM_E_FORMAT : RRM_OK);
        CHECK(kern_matmul_type_ok(type) && kern_kq_type(type));
    }
    /* ggml's block sizes (ggml-common.h static_asserts) */
    CHECK(rrm_row_bytes(RRM_TYPE_Q4_0, 64, &rb) == RRM_OK && rb == 36);
    CHECK(rrm_row_bytes(RRM_TYPE_Q5_1, 32, &rb) == RRM_OK && rb == 24);
    CHECK(rrm_row_bytes(RRM_TYPE_Q4_K, 512, &rb) == RRM_OK && rb == 288);
    CHECK(rrm_row_bytes(RRM_TYPE_Q5_K, 256, &rb) == RRM_OK && rb == 176);
    CHECK(rrm_row_bytes(RRM_TYPE_Q6_K, 256, &rb) == RRM_OK && rb == 210);
    CHECK(!kern_kq_type(RRM_TYPE_Q8_0) && !kern_kq_type(RRM_TYPE_Q2_K));
}

static float naive_dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;
}

/* ref matmul over quantized rows == ref F32 matmul over the dequantized rows, bit for bit. */
static void test_ref_matmul(void)
{
    const int64_t nr = 5, ni = 512, no = 7;
    struct rrm_rng r;
    rrm_rng_seed(&r, 24);
    float *w = rrm_malloc(no * ni * 4), *wd = rrm_malloc(no * ni * 4), *x = rrm_malloc(nr * ni * 4);
    float y[5 * 7], y2[5 * 7], *sc = rrm_malloc(4 * ni * 4);
    uint8_t *wq = rrm_malloc(no * ni * 2);
    fill(&r, w, no * ni, 0.5);
    fill(&r, x, nr * ni, 1.0);
    for (int t = 0; t < N_KQ; t++) {
        size_t rb;
        rrm_row_bytes(kq_types[t], ni, &rb);
        for (int64_t o = 0; o < no; o++) {
            kern_quantize_row(kq_types[t], w + o * ni, wq + o * rb, ni);
            kern_dequantize_row(kq_types[t], wq + o * rb, wd + o * ni, ni);
        }
        for (int i = 0; i < nr * no; i++) y[i] = y2[i] = NAN;
        struct kern_matmul a = {y, no, wq, kq_types[t], NULL, x, ni, nr, ni, no};
        for (int ith = 0; ith < 2; ith++) kern_ref_matmul(&a, sc, ith, 2);
        struct kern_matmul b = {y2, no, wd, RRM_TYPE_F32, NULL, x, ni, nr, ni, no};
        kern_ref_matmul(&b, sc, 0, 1);
        CHECK_MSG(memcmp(y, y2, sizeof y) == 0, "%s matmul != f32 over dequantized",
                  rrm_type_name(kq_types[t]));
        double err = 0;
        for (int64_t i = 0; i < nr * no; i++)
            err = fmax(err, fabs(y[i] - naive_dot(w + (i % no) * ni, x + (i / no) * ni, ni)));
        CHECK_MSG(err < 3.0, "%s matmul err %g", rrm_type_name(kq_types[t]), err);
    }
    rrm_free(w);
    rrm_free(wd);
    rrm_free(x);
    rrm_free(sc);
    rrm_free(wq);
}

/* One shape: variant == ref bits for nth 1..3, NaN poison (row padding, guard row) intact. */
static int variant_case(const struct rrm_kernels *k, struct rrm_rng *g, int type, int64_t nr,
                        int64_t ni, int64_t no, int bias)
{
    const int64_t ldx = ni + 3, ldy = no + 2, ny = (nr + 1) * ldy;
    size_t rb;
    if (rrm_row_bytes(type, ni, &rb) != RRM_OK) return 0;
    float *wf = rrm_malloc((size_t)ni * 4), *x = rrm_malloc((size_t)(nr * ldx) * 4);
    uint8_t *w = rrm_malloc(rb * (size_t)no + 1);
    float *b = rrm_malloc((size_t)no * 4), *y0 = rrm_malloc((size_t)ny * 4);
    float *y1 = rrm_malloc((size_t)ny * 4), *sc = rrm_malloc((size_t)ni * 16);
    uint8_t *wp = w + 1; /* any alignment */
    for (int64_t o = 0; o < no; o++) {
        fill(g, wf, ni, 0.5);
        kern_quantize_row(type, wf, wp + (size_t)o * rb, ni);
    }
    for (int64_t i = 0; i < nr * ldx; i++) x[i] = i % ldx < ni ? (float)rrm_rng_normal(g) : NAN;
    fill(g, b, no, 1.0);
    struct kern_matmul a = {y0, ldy, wp, type, bias ? b : NULL, x, ldx, nr, ni, no};
    for (int64_t i = 0; i < ny; i++) y0[i] = NAN;
    kern_ref_matmul(&a, sc, 0, 1);
    int ok = 1;
    for (int nth = 1; nth <= 3; nth++) {
        for (int64_t i = 0; i < ny; i++) y1[i] = NAN;
        a.y = y1;
        for (int ith = 0; ith < nth; ith++) k->matmul(&a, sc, ith, nth);
        for (int64_t i = 0; i < ny; i++) {
            const int inside = i / ldy < nr && i % ldy < no;
            ok &= inside ? memcmp(&y0[i], &y1[i], 4) == 0 && y1[i] == y1[i] : y1[i] != y1[i];
        }
    }
    CHECK_MSG(ok, "%s matmul %s rows %lld n_in %lld n_out %lld bias %d: differs from ref or "
              "poison overwritten", k->name, rrm_type_name(type), (long long)nr, (long long)ni,
              (long long)no, bias);
    rrm_free(wf);
    rrm_free(x);
    rrm_free(w);
    rrm_free(b);
    rrm_free(y0);
    rrm_free(y1);
    rrm_free(sc);
    return ok;
}

static void test_variants(int reduced)
{
    if (!kern_cpu_has_avx512()) return; /* no variant on this CPU: ref only */
    const struct rrm_kernels *k = &kern_avx512;
    struct rrm_rng g;
    rrm_rng_seed(&g, 25);
    for (int t = 0; t < N_KQ; t++) {
        const int type = kq_types[t], blk = rrm_type_block(type);
        const int64_t ni[] = {blk, 2 * blk, 3 * blk, blk == 32 ? 4128 : 4352};
        for (int s = 0; s < 4; s++) {
            for (int64_t nr = 1; nr <= 17; nr += reduced && s ? 4 : 1)
                variant_case(k, &g, type, nr, ni[s], (nr * 7 + s) % 13 + 1, (int)(nr & 1));
        }
        variant_case(k, &g, type, 33, 2 * blk, 37, 1); /* blocked F32 path */
        for (int64_t no = 1; no <= 9; no++) variant_case(k, &g, type, 1, blk, no, 0);
        /* vector dequantizer == ref on random blocks (finite scales) */
        uint8_t q[2 * 210];
        float y0[512], y1[512];
        int ok = 1;
        for (int it = 0; it < 200; it++) {
            const int bb = rrm_type_block_bytes(type);
            for (int i = 0; i < 2 * bb; i++) q[i] = (uint8_t)rrm_rng_u64(&g);
            for (int i = 0; i < 2; i++) {
                const int off = type == RRM_TYPE_Q6_K ? 208 : 0;
                put16(q + i * bb + off, rrm_f32_to_f16((float)rrm_rng_normal(&g)));
                if (type != RRM_TYPE_Q6_K && type != RRM_TYPE_Q4_0 && type != RRM_TYPE_Q5_0)
                    put16(q + i * bb + 2, rrm_f32_to_f16((float)rrm_rng_normal(&g)));
            }
            kern_dequantize_row(type, q, y0, 2 * blk);
            kern_avx512_dequantize_kq(type, q, y1, 2 * blk);
            ok &= memcmp(y0, y1, (size_t)(2 * blk) * 4) == 0;
        }
        CHECK_MSG(ok, "avx512 dequantize %s != ref", rrm_type_name(type));
    }
}

int main(void)
{
    long live = rrm_alloc_live();
    const char *red = getenv("RRM_TEST_REDUCED");
    test_layout_32();
    test_layout_k();
    test_quant_corners();
    test_roundtrip();
    test_sizes();
    test_ref_matmul();
    test_variants(red && red[0] == '1');
    CHECK_EQ(rrm_alloc_live(), live);
    return TEST_DONE("test_kquant");
}
