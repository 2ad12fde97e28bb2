/*
 * test_kernels.c — the reference kernels against double-precision naive formulas, q8_0
 * quantization against hand-computed blocks (zero block, rounding ties, f16 scale rounding),
 * and F16/BF16/Q8_0 matmul against dequantize-then-F32 (bit-exact by the spec in kernels.h).
 * Determinism: matmul outputs are bit-identical for any thread split and batch size.
 */
#include "kernels/kernels.h"
#include "../../tests/harness.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const int64_t sizes[] = {0, 1, 3, 7, 8, 15, 16, 17, 64, 4095, 4097};
#define N_SIZES (int)(sizeof sizes / sizeof sizes[0])

static void fill(struct rrm_rng *r, float *x, int64_t n, double scale)
{
    for (int64_t i = 0; i < n; i++) x[i] = (float)(rrm_rng_normal(r) * scale);
}

static void test_dot(void)
{
    struct rrm_rng r;
    rrm_rng_seed(&r, 1);
    float *a = rrm_malloc(4097 * 4), *b = rrm_malloc(4097 * 4);
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = sizes[s];
        fill(&r, a, n, 1.0);
        fill(&r, b, n, 1.0);
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; i++) {
            ref += (double)a[i] * b[i];
            mag += fabs((double)a[i] * b[i]);
        }
        float v = kern_ref_dot(a, b, n);
        /* f32 sum error bound ~ n * eps * sum|a_i b_i| with 16 lanes: generous 4e-7 * mag */
        CHECK_MSG(fabs(v - ref) <= 4e-7 * mag + 1e-30, "dot n=%lld: %.9g vs %.9g", (long long)n,
                  v, ref);
    }
    rrm_free(a);
    rrm_free(b);
}

/* Hand-computed q8_0 blocks. */
static void test_q8_0_blocks(void)
{
    float x[64];
    uint8_t q[68];
    uint16_t d;
    /* block 0: all zeros -> d = 0, q = 0 (id = 0, no division by zero) */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    /* block 1: amax 127 -> d = 1 exactly, id = 1: ties round half away from zero */
    for (int j = 0; j < 32; j++) x[32 + j] = 0.0f;
    x[32] = 127.0f;
    x[33] = 2.5f;
    x[34] = -2.5f;
    x[35] = 0.5f;
    x[36] = -0.5f;
    x[37] = 1.49f;
    x[38] = -126.5f;
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q8_0, x, q, 64), RRM_OK);
    memcpy(&d, q, 2);
    CHECK_EQ(d, 0);
    int zero = 1;
    for (int j = 0; j < 32; j++) zero &= q[2 + j] == 0;
    CHECK(zero);
    memcpy(&d, q + 34, 2);
    CHECK_EQ(d, 0x3c00); /* f16 1.0 */
    const int8_t *qs = (const int8_t *)(q + 36);
    CHECK_EQ(qs[0], 127);
    CHECK_EQ(qs[1], 3);
    CHECK_EQ(qs[2], -3);
    CHECK_EQ(qs[3], 1);
    CHECK_EQ(qs[4], -1);
    CHECK_EQ(qs[5], 1);
    CHECK_EQ(qs[6], -127);
    CHECK_EQ(qs[7], 0);
    /* amax 1 -> d = 1/127 = 0.0078740157, f16: 2^-7 * (1 + 8/1024) = 0x2008; q uses the f32 id
     * = 127, so x = 0.5 -> 63.5 -> 64 */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    x[0] = -1.0f;
    x[1] = 0.5f;
    x[2] = 0.25f;
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q8_0, x, q, 32), RRM_OK);
    memcpy(&d, q, 2);
    CHECK_EQ(d, 0x2008);
    qs = (const int8_t *)(q + 2);
    CHECK_EQ(qs[0], -127);
    CHECK_EQ(qs[1], 64);
    CHECK_EQ(qs[2], 32); /* 31.75 -> 32 */
    /* dequantize: d (f16 value) * q */
    float y[32];
    CHECK_EQ(kern_dequantize_row(RRM_TYPE_Q8_0, q, y, 32), RRM_OK);
    float dv = (1.0f + 8.0f / 1024.0f) / 128.0f;
    CHECK(y[0] == dv * -127.0f && y[1] == dv * 64.0f && y[3] == 0.0f);
    /* n not a multiple of 32; unsupported type */
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q8_0, x, q, 31), RRM_E_INVAL);
    CHECK_EQ(kern_quantize_row(RRM_TYPE_Q2_K, x, q, 256), RRM_E_UNSUPPORTED);
    CHECK_EQ(kern_dequantize_row(RRM_TYPE_Q3_K, q, y, 256), RRM_E_UNSUPPORTED);
}

static void test_half_rows(void)
{
    float x[4] = {1.0f, -2.0f, 65504.0f, 0.1f};
    uint16_t h[4];
    float y[4];
    CHECK_EQ(kern_quantize_row(RRM_TYPE_F16, x, h, 4), RRM_OK);
    CHECK_EQ(h[0], 0x3c00);
    CHECK_EQ(h[1], 0xc000);
    CHECK_EQ(h[2], 0x7bff);
    CHECK_EQ(h[3], 0x2e66); /* 0.1 -> 0.0999755859375 */
    CHECK_EQ(kern_dequantize_row(RRM_TYPE_F16, h, y, 4), RRM_OK);
    CHECK(y[0] == 1.0f && y[2] == 65504.0f && y[3] == 0.0999755859375f);
    CHECK_EQ(kern_quantize_row(RRM_TYPE_BF16, x, h, 4), RRM_OK);
    CHECK_EQ(h[0], 0x3f80);
    CHECK_EQ(h[1], 0xc000);
    CHECK_EQ(h[3], 0x3dcd); /* 0.1 = 0x3dcccccd rounds up */
    CHECK_EQ(kern_dequantize_row(RRM_TYPE_BF16, h, y, 4), RRM_OK);
    CHECK(y[0] == 1.0f && y[1] == -2.0f);
}

/* Naive double matmul of W (f32, n_out x n_in) against x (n_rows x n_in). */
static double naive_dot(const float *w, const float *x, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)w[i] * x[i];
    return s;
}

static void run_matmul(struct kern_matmul *a, float *scratch, int nth)
{
    for (int ith = 0; ith < nth; ith++) kern_ref_matmul(a, scratch, ith, nth);
}

static void test_matmul_f32(void)
{
    const int64_t shapes[][3] = {{1, 1, 1}, {3, 17, 5}, {4, 64, 9}, {7, 33, 13}, {2, 4097, 3}};
    struct rrm_rng r;
    rrm_rng_seed(&r, 2);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t nr = shapes[s][0], ni = shapes[s][1], no = shapes[s][2];
        float *w = rrm_malloc((size_t)(no * ni) * 4), *x = rrm_malloc((size_t)(nr * ni) * 4);
        float *b = rrm_malloc((size_t)no * 4), *y = rrm_malloc((size_t)(nr * no) * 4);
        float *y2 = rrm_malloc((size_t)(nr * no) * 4), *sc = rrm_malloc((size_t)ni * 16);
        fill(&r, w, no * ni, 1.0);
        fill(&r, x, nr * ni, 1.0);
        fill(&r, b, no, 1.0);
        for (int64_t i = 0; i < nr * no; i++) y[i] = NAN; /* poison */
        struct kern_matmul a = {y, no, w, RRM_TYPE_F32, b, x, ni, nr, ni, no};
        run_matmul(&a, sc, 1);
        int ok = 1;
        for (int64_t rr = 0; rr < nr; rr++) {
            for (int64_t o = 0; o < no; o++) {
                double ref = naive_dot(w + o * ni, x + rr * ni, ni) + b[o];
                double v = y[rr * no + o];
                if (!(fabs(v - ref) <= 1e-5 * sqrt((double)ni) + 1e-6)) ok = 0;
            }
        }
        CHECK_MSG(ok, "matmul f32 %lldx%lldx%lld", (long long)nr, (long long)ni, (long long)no);
        /* any thread split and one row at a time give the same bits */
        for (int nth = 2; nth <= 5; nth++) {
            for (int64_t i = 0; i < nr * no; i++) y2[i] = NAN;
            run_matmul(&a, sc, 1);
            struct kern_matmul a2 = a;
            a2.y = y2;
            run_matmul(&a2, sc, nth);
            CHECK(memcmp(y, y2, (size_t)(nr * no) * 4) == 0);
        }
        for (int64_t rr = 0; rr < nr; rr++) {
            struct kern_matmul a1 = a;
            a1.x = x + rr * ni;
            a1.y = y2 + rr * no;
            a1.n_rows = 1;
            run_matmul(&a1, sc, 3);
        }
        CHECK(memcmp(y, y2, (size_t)(nr * no) * 4) == 0);
        rrm_free(w);
        rrm_free(x);
        rrm_free(b);
        rrm_free(y);
        rrm_free(y2);
        rrm_free(sc);
    }
}

/* F16, BF16 and Q8_0 weights: identical bits to F32 over the dequantized weights. */
static void test_matmul_types(void)
{
    const int types[] = {RRM_TYPE_F16, RRM_TYPE_BF16, RRM_TYPE_Q8_0};
    const int64_t nr = 5, ni = 96, no = 11;
    struct rrm_rng r;
    rrm_rng_seed(&r, 3);
    float w[11 * 96], wd[11 * 96], x[5 * 96], y[5 * 11], y2[5 * 11], sc[4 * 96];
    uint8_t wq[11 * 96 * 2];
    fill(&r, w, no * ni, 0.5);
    fill(&r, x, nr * ni, 1.0);
    for (int t = 0; t < 3; t++) {
        size_t rb;
        CHECK_EQ(rrm_row_bytes(types[t], ni, &rb), RRM_OK);
        for (int64_t o = 0; o < no; o++) {
            kern_quantize_row(types[t], w + o * ni, wq + o * rb, ni);
            kern_dequantize_row(types[t], wq + o * rb, wd + o * ni, ni);
        }
        for (int i = 0; i < nr * no; i++) y[i] = y2[i] = NAN;
        struct kern_matmul a = {y, no, wq, types[t], NULL, x, ni, nr, ni, no};
        run_matmul(&a, sc, 2);
        struct kern_matmul b = {y2, no, wd, RRM_TYPE_F32, NULL, x, ni, nr, ni, no};
        run_matmul(&b, sc, 3);
        CHECK_MSG(memcmp(y, y2, sizeof y) == 0, "%s matmul != f32 over dequantized",
                  rrm_type_name(types[t]));
        /* and close to the unquantized product (q8_0 error ~ amax/254 per weight) */
        double err = 0;
        for (int64_t rr = 0; rr < nr; rr++)
            for (int64_t o = 0; o < no; o++)
                err = fmax(err, fabs(y[rr * no + o] - naive_dot(w + o * ni, x + rr * ni, ni)));
        CHECK_MSG(err < (types[t] == RRM_TYPE_F16 ? 1e-2 : 0.2), "%s err %g",
                  rrm_type_name(types[t]), err);
    }
    CHECK(kern_matmul_type_ok(RRM_TYPE_Q8_0) && !kern_matmul_type_ok(RRM_TYPE_Q2_K));
}

static void test_rmsnorm_rope(void)
{
    struct rrm_rng r;
    rrm_rng_seed(&r, 4);
    float x[77], w[77], y[77];
    fill(&r, x, 77, 2.0);
    fill(&r, w, 77, 1.0);
    kern_ref_rmsnorm(y, x, w, 77, 1e-6f);
    double ss = 0;
    for (int i = 0; i < 77; i++) ss += (double)x[i] * x[i];
    double sc = 1.0 / sqrt(ss / 77 + 1e-6);
    double e = 0;
    for (int i = 0; i < 77; i++) e = fmax(e, fabs(y[i] - x[i] * sc * w[i]) / (fabs(x[i] * sc * w[i]) + 1e-3));
    CHECK_MSG(e < 1e-6, "rmsnorm rel err %g", e);
    /* RoPE: 2 heads of head_dim 12, angle pos * theta^(-2i/12) */
    float q[24], q0[24], cs[6], sn[6];
    fill(&r, q, 24, 1.0);
    memcpy(q0, q, sizeof q);
    const double pos = 37, theta = 10000;
    for (int i = 0; i < 6; i++) {
        double ang = pos * pow(theta, -2.0 * i / 12.0);
        cs[i] = (float)cos(ang);
        sn[i] = (float)sin(ang);
    }
    kern_ref_rope(q, 2, 12, cs, sn);
    e = 0;
    for (int h = 0; h < 2; h++) {
        for (int i = 0; i < 6; i++) {
            double ang = pos * pow(theta, -2.0 * i / 12.0);
            double a = q0[h * 12 + i], b = q0[h * 12 + i + 6];
            e = fmax(e, fabs(q[h * 12 + i] - (a * cos(ang) - b * sin(ang))));
            e = fmax(e, fabs(q[h * 12 + i + 6] - (b * cos(ang) + a * sin(ang))));
        }
    }
    CHECK_MSG(e < 1e-6, "rope err %g", e);
}

static void test_softmax_silu(void)
{
    float x[37], u[37], g[37];
    struct rrm_rng r;
    rrm_rng_seed(&r, 5);
    fill(&r, x, 37, 5.0);
    double mx = -INFINITY, s = 0, p[37];
    for (int i = 0; i < 37; i++) mx = fmax(mx, x[i]);
    for (int i = 0; i < 37; i++) s += exp(x[i] - mx);
    for (int i = 0; i < 37; i++) p[i] = exp(x[i] - mx) / s;
    kern_ref_softmax(x, 37);
    double e = 0, tot = 0;
    for (int i = 0; i < 37; i++) {
        e = fmax(e, fabs(x[i] - p[i]));
        tot += x[i];
    }
    CHECK_MSG(e < 1e-7, "softmax err %g", e);
    CHECK_NEAR(tot, 1.0, 1e-6);
    float big[3] = {-INFINITY, 1e30f, 1e30f};
    kern_ref_softmax(big, 3);
    CHECK(big[0] == 0.0f && big[1] == 0.5f && big[2] == 0.5f);
    fill(&r, g, 37, 3.0);
    fill(&r, u, 37, 1.0);
    memcpy(x, g, sizeof g);
    kern_ref_silu_mul(g, u, 37);
    e = 0;
    for (int i = 0; i < 37; i++) e = fmax(e, fabs(g[i] - x[i] / (1 + exp(-(double)x[i])) * u[i]));
    CHECK_MSG(e < 1e-5, "silu err %g", e);
    float y[3] = {1, 2, 3}, z[3] = {0.5f, 0.25f, -1};
    kern_ref_add(y, z, 3);
    CHECK(y[0] == 1.5f && y[1] == 2.25f && y[2] == 2.0f);
    kern_ref_axpy(y, 2.0f, z, 3);
    CHECK(y[0] == 2.5f && y[1] == 2.75f && y[2] == 0.0f);
}

static void test_dispatch(void)
{
    const char *env = getenv("RRM_KERNELS");
    const struct rrm_kernels *k = kern_select("ref");
    CHECK(k != NULL && (strcmp(k->name, "ref") == 0 || (env && env[0])));
    CHECK(kern_select(NULL) != NULL);
    if (!env || !env[0]) CHECK(kern_select("no-such-isa") == NULL);
    float a[5] = {1, 2, 3, 4, 5};
    CHECK(k->dot(a, a, 5) == 55.0f);
}

/* ---- ISA variants against ref (bit-identical by the spec of kernels.h) ---- */

/* The variant sets this CPU can run (empty when none: the tests below then check nothing). */
static int variant_sets(const struct rrm_kernels **out)
{
    int n = 0;
    if (kern_cpu_has_avx512()) out[n++] = &kern_avx512;
    return n;
}

static int same_bits(const float *a, const float *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* Count of entries of y (n_rows rows of stride ldy) outside the n_out written columns, plus the
 * guard rows after, that are no longer NaN. */
static int64_t poison_broken(const float *y, int64_t n_rows, int64_t n_out, int64_t ldy,
                             int64_t total)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < total; i++) {
        int64_t r = i / ldy, o = i % ldy;
        if ((r >= n_rows || o >= n_out) && y[i] == y[i]) bad++;
    }
    return bad;
}

static void matmul_split(const struct rrm_kernels *k, const struct kern_matmul *a, float *sc,
                         int nth)
{
    for (int ith = 0; ith < nth; ith++) k->matmul(a, sc, ith, nth);
}

/* One shape for one weight type: variant == ref bits for nth 1, 2, 3; poison intact; padding
 * of x (NaN) never read. */
static void variant_matmul_case(const struct rrm_kernels *k, struct rrm_rng *rng, int type,
                                int64_t nr, int64_t ni, int64_t no, int bias)
{
    const int64_t ldx = ni + 5, ldy = no + 3, ny = (nr + 1) * ldy;
    size_t rb;
    if (rrm_row_bytes(type, ni, &rb) != RRM_OK) return;
    float *wf = rrm_malloc((size_t)ni * 4), *x = rrm_malloc((size_t)(nr * ldx) * 4);
    uint8_t *w = rrm_malloc(rb * (size_t)no + 1);
    float *b = rrm_malloc((size_t)no * 4), *y0 = rrm_malloc((size_t)ny * 4);
    float *y1 = rrm_malloc((size_t)ny * 4), *sc = rrm_malloc((size_t)ni * 16);
    /* weights start at an odd address for Q8_0 (any alignment), aligned otherwise */
    uint8_t *wp = w + (type == RRM_TYPE_Q8_0);
    for (int64_t o = 0; o < no; o++) {
        fill(rng, wf, ni, 0.5);
        kern_quantize_row(type, wf, wp + (size_t)o * rb, ni);
    }
    for (int64_t i = 0; i < nr * ldx; i++) x[i] = i % ldx < ni ? (float)rrm_rng_normal(rng) : NAN;
    fill(rng, b, no, 1.0);
    struct kern_matmul a = {y0, ldy, wp, type, bias ? b : NULL, x, ldx, nr, ni, no};
    for (int64_t i = 0; i < ny; i++) y0[i] = NAN;
    matmul_split(&kern_ref, &a, sc, 1);
    int ok = 1, poison = 1;
    for (int nth = 1; nth <= 3; nth++) {
        for (int64_t i = 0; i < ny; i++) y1[i] = NAN;
        struct kern_matmul a1 = a;
        a1.y = y1;
        matmul_split(k, &a1, sc, nth);
        for (int64_t r = 0; r < nr; r++) ok &= same_bits(y0 + r * ldy, y1 + r * ldy, no);
        poison &= poison_broken(y1, nr, no, ldy, ny) == 0;
    }
    CHECK_MSG(ok && poison, "%s matmul %s rows %lld n_in %lld n_out %lld bias %d: %s",
              k->name, rrm_type_name(type), (long long)nr, (long long)ni, (long long)no, bias,
              ok ? "poison overwritten" : "bits differ from ref");
    rrm_free(wf);
    rrm_free(x);
    rrm_free(w);
    rrm_free(b);
    rrm_free(y0);
    rrm_free(y1);
    rrm_free(sc);
}

static void test_variant_matmul(void)
{
    const struct rrm_kernels *v[4];
    const int nv = variant_sets(v);
    const int types[] = {RRM_TYPE_F32, RRM_TYPE_F16, RRM_TYPE_BF16, RRM_TYPE_Q8_0};
    const int64_t n_in[] = {1, 3, 15, 16, 17, 31, 33, 47, 100, 257};
    const int64_t n_in_q8[] = {32, 64, 96, 160, 288};
    struct rrm_rng r;
    rrm_rng_seed(&r, 11);
    for (int iv = 0; iv < nv; iv++) {
        for (int t = 0; t < 4; t++) {
            const int q8 = types[t] == RRM_TYPE_Q8_0;
            const int nn = q8 ? 5 : 10;
            for (int s = 0; s < nn; s++) {
                const int64_t ni = q8 ? n_in_q8[s] : n_in[s];
                /* every batch size 1..17 with a varying n_out, and every n_out 1..67 */
                for (int64_t nr = 1; nr <= 17; nr++)
                    variant_matmul_case(v[iv], &r, types[t], nr, ni, (nr * 13 + s) % 67 + 1,
                                        (int)(nr & 1));
                for (int64_t no = 1; no <= 67; no += s % 2 ? 3 : 1)
                    variant_matmul_case(v[iv], &r, types[t], 1 + no % 6, ni, no, (int)(no & 1));
            }
        }
        /* larger shapes per type: long rows (several n_in chunks, a ragged last one), several
         * output and row blocks per thread with ragged ends (prefill-sized batches) */
        for (int t = 0; t < 4; t++) {
            const int q8 = types[t] == RRM_TYPE_Q8_0;
            variant_matmul_case(v[iv], &r, types[t], 17, q8 ? 4096 : 4097, 45, 1);
            variant_matmul_case(v[iv], &r, types[t], 40, q8 ? 608 : 601, 37, 0);
            variant_matmul_case(v[iv], &r, types[t], 33, q8 ? 288 : 275, 67, 1);
        }
    }
}

/* Batch composition: a row's outputs do not depend on the other rows of the batch. */
static void test_variant_batch_independent(void)
{
    const struct rrm_kernels *v[4];
    const int nv = variant_sets(v);
    const int64_t nr = 16, ni = 320, no = 37;
    struct rrm_rng r;
    rrm_rng_seed(&r, 12);
    float *wf = rrm_malloc((size_t)(ni * no) * 4), *x = rrm_malloc((size_t)(nr * ni) * 4);
    float *y = rrm_malloc((size_t)(nr * no) * 4), *y1 = rrm_malloc((size_t)no * 4);
    float *sc = rrm_malloc((size_t)ni * 16);
    uint8_t *w = rrm_malloc((size_t)(ni * no) * 4);
    fill(&r, wf, ni * no, 1.0);
    fill(&r, x, nr * ni, 1.0);
    for (int iv = 0; iv < nv; iv++) {
        for (int t = 0; t < 2; t++) {
            const int type = t ? RRM_TYPE_Q8_0 : RRM_TYPE_BF16;
            size_t rb;
            rrm_row_bytes(type, ni, &rb);
            for (int64_t o = 0; o < no; o++) kern_quantize_row(type, wf + o * ni, w + o * rb, ni);
            struct kern_matmul a = {y, no, w, type, NULL, x, ni, nr, ni, no};
            matmul_split(v[iv], &a, sc, 2);
            int ok = 1;
            for (int64_t row = 0; row < nr; row++) {
                struct kern_matmul a1 = {y1, no, w, type, NULL, x + row * ni, ni, 1, ni, no};
                matmul_split(v[iv], &a1, sc, 3);
                ok &= same_bits(y + row * no, y1, no);
            }
            CHECK_MSG(ok, "%s %s: batched rows differ from one row at a time", v[iv]->name,
                      rrm_type_name(type));
        }
    }
    rrm_free(wf);
    rrm_free(x);
    rrm_free(y);
    rrm_free(y1);
    rrm_free(sc);
    rrm_free(w);
}

/* dot, add, axpy, rmsnorm, rope, softmax, silu_mul: same bits as ref for every n 0..70 and a
 * few long ones, and nothing written past n. */
static void test_variant_ops(void)
{
    const struct rrm_kernels *v[4];
    const int nv = variant_sets(v);
    enum { CAP = 4200 };
    float *a = rrm_malloc(CAP * 4), *b = rrm_malloc(CAP * 4), *c0 = rrm_malloc(CAP * 4);
    float *c1 = rrm_malloc(CAP * 4), *cs = rrm_malloc(CAP * 4), *sn = rrm_malloc(CAP * 4);
    struct rrm_rng r;
    rrm_rng_seed(&r, 13);
    fill(&r, a, CAP, 2.0);
    fill(&r, b, CAP, 1.0);
    fill(&r, cs, CAP, 1.0);
    fill(&r, sn, CAP, 1.0);
    for (int iv = 0; iv < nv; iv++) {
        const struct rrm_kernels *k = v[iv];
        int ok_dot = 1, ok[6] = {1, 1, 1, 1, 1, 1};
        for (int64_t n = 0; n <= 4097; n = n < 70 ? n + 1 : (n < 4095 ? 4095 : n + 1)) {
            float d0 = kern_ref_dot(a, b, n), d1 = k->dot(a, b, n);
            ok_dot &= memcmp(&d0, &d1, 4) == 0;
            for (int op = 0; op < 6; op++) {
                for (int64_t i = 0; i < n + 20; i++) c0[i] = c1[i] = i < n ? b[i] * 3.0f : NAN;
                switch (op) {
                case 0:
                    kern_ref_add(c0, a, n);
                    k->add(c1, a, n);
                    break;
                case 1:
                    kern_ref_axpy(c0, -0.37f, a, n);
                    k->axpy(c1, -0.37f, a, n);
                    break;
                case 2:
                    kern_ref_rmsnorm(c0, a, b, n, 1e-6f);
                    k->rmsnorm(c1, a, b, n, 1e-6f);
                    break;
                case 3: /* n as 2 heads of head_dim n/2 (even part), pairs (i, i + n/4) */
                    kern_ref_rope(c0, 2, (n / 4) * 2, cs, sn);
                    k->rope(c1, 2, (n / 4) * 2, cs, sn);
                    break;
                case 4:
                    kern_ref_softmax(c0, n);
                    k->softmax(c1, n);
                    break;
                default:
                    kern_ref_silu_mul(c0, a, n);
                    k->silu_mul(c1, a, n);
                    break;
                }
                ok[op] &= same_bits(c0, c1, n);
                for (int64_t i = n; i < n + 20; i++) ok[op] &= c1[i] != c1[i];
            }
        }
        CHECK_MSG(ok_dot, "%s dot differs from ref", k->name);
        const char *names[6] = {"add", "axpy", "rmsnorm", "rope", "softmax", "silu_mul"};
        for (int op = 0; op < 6; op++) CHECK_MSG(ok[op], "%s %s differs from ref or wrote past n", k->name, names[op]);
        /* rope with head_dim 64 and 128 over 7 heads (the Qwen2 sizes) */
        for (int hd = 64; hd <= 128; hd += 64) {
            memcpy(c0, a, 7 * (size_t)hd * 4);
            memcpy(c1, a, 7 * (size_t)hd * 4);
            kern_ref_rope(c0, 7, hd, cs, sn);
            k->rope(c1, 7, hd, cs, sn);
            CHECK_MSG(same_bits(c0, c1, 7 * hd), "%s rope head_dim %d", k->name, hd);
        }
    }
    CHECK(kern_select("avx512") == (kern_cpu_has_avx512() ? &kern_avx512 : NULL) ||
          (getenv("RRM_KERNELS") && getenv("RRM_KERNELS")[0]));
    if (nv == 0) printf("test_kernels: no ISA variant runs on this CPU; variant tests skipped\n");
    rrm_free(a);
    rrm_free(b);
    rrm_free(c0);
    rrm_free(c1);
    rrm_free(cs);
    rrm_free(sn);
}

int main(void)
{
    long live = rrm_alloc_live();
    test_dot();
    test_q8_0_blocks();
    test_half_rows();
    test_matmul_f32();
    test_matmul_types();
    test_rmsnorm_rope();
    test_softmax_silu();
    test_dispatch();
    test_variant_matmul();
    test_variant_batch_independent();
    test_variant_ops();
    CHECK_EQ(rrm_alloc_live(), live);
    return TEST_DONE("test_kernels");
}
