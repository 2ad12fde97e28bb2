/*
 * test_sampler.c — greedy ties, temperature / top-k / top-p / min-p distributions checked with
 * many draws against the exact probabilities (tolerance 4.5 standard deviations), seeded
 * determinism, and the edge cases: all -inf or NaN (error), NaN never drawn, +inf logits,
 * top_k > n_vocab, top_p 0, bad params.
 */
#include "sampler/sampler.h"
#include "../../tests/harness.h"

#include <math.h>

#define DRAWS 40000

static rrm_sampler *mk(float t, float top_p, int top_k, float min_p, uint64_t seed, int64_t nv)
{
    rrm_sampler_params p = {t, top_p, top_k, min_p, seed};
    rrm_sampler *s = NULL;
    CHECK_EQ(rrm_sampler_init(&s, &p, nv, NULL), RRM_OK);
    return s;
}

/* Draws DRAWS tokens and checks the frequencies against want[] (n entries). */
static void check_dist(rrm_sampler *s, const float *logits, const double *want, int n,
                       const char *what)
{
    int cnt[16] = {0}, bad = 0;
    for (int d = 0; d < DRAWS; d++) {
        int t = rrm_sampler_sample(s, logits, NULL);
        if (t < 0 || t >= n) bad++;
        else cnt[t]++;
    }
    CHECK_MSG(bad == 0, "%s: %d draws out of range", what, bad);
    for (int i = 0; i < n; i++) {
        double f = (double)cnt[i] / DRAWS, sd = sqrt(want[i] * (1 - want[i]) / DRAWS);
        CHECK_MSG(fabs(f - want[i]) <= 4.5 * sd + 1e-12, "%s: id %d freq %.4f want %.4f", what,
                  i, f, want[i]);
    }
}

static void test_greedy(void)
{
    rrm_sampler *s = mk(0.0f, 1.0f, 0, 0.0f, 1, 5);
    rrm_err err = {0};
    float a[5] = {1, 3, NAN, 3, -2};
    CHECK_EQ(rrm_sampler_sample(s, a, NULL), 1); /* lowest id on ties, NaN skipped */
    float b[5] = {NAN, -INFINITY, NAN, -INFINITY, -INFINITY};
    CHECK_EQ(rrm_sampler_sample(s, b, &err), RRM_E_INVAL);
    CHECK(strstr(err.msg, "NaN or -inf") != NULL);
    float c[5] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -1e30f};
    CHECK_EQ(rrm_sampler_sample(s, c, NULL), 4);
    rrm_sampler_free(s);
    /* a tiny positive temperature behaves like greedy, even with a logit of exactly 0 */
    s = mk(1e-40f, 1.0f, 0, 0.0f, 1, 5);
    float d[5] = {1, 2.5f, -3, 2.25f, 2};
    int ok = 1;
    for (int i = 0; i < 100; i++) ok &= rrm_sampler_sample(s, d, NULL) == 1;
    CHECK(ok);
    rrm_sampler_free(s);
}

static void test_distributions(void)
{
    float lg[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
    rrm_sampler *s = mk(1.0f, 1.0f, 0, 0.0f, 7, 3);
    check_dist(s, lg, (const double[]){0.5, 0.3, 0.2}, 3, "temperature 1");
    rrm_sampler_free(s);
    /* temperature 2: p ~ sqrt(p) */
    double q[3] = {sqrt(0.5), sqrt(0.3), sqrt(0.2)}, qs = q[0] + q[1] + q[2];
    s = mk(2.0f, 1.0f, 0, 0.0f, 8, 3);
    check_dist(s, lg, (const double[]){q[0] / qs, q[1] / qs, q[2] / qs}, 3, "temperature 2");
    rrm_sampler_free(s);
    s = mk(1.0f, 1.0f, 2, 0.0f, 9, 3);
    check_dist(s, lg, (const double[]){0.625, 0.375, 0}, 3, "top_k 2");
    rrm_sampler_free(s);
    s = mk(1.0f, 0.6f, 0, 0.0f, 10, 3); /* 0.5 < 0.6 <= 0.8 -> {0, 1} */
    check_dist(s, lg, (const double[]){0.625, 0.375, 0}, 3, "top_p 0.6");
    rrm_sampler_free(s);
    s = mk(1.0f, 0.45f, 0, 0.0f, 11, 3);
    check_dist(s, lg, (const double[]){1, 0, 0}, 3, "top_p 0.45");
    rrm_sampler_free(s);
    s = mk(1.0f, 0.0f, 0, 0.0f, 12, 3);
    check_dist(s, lg, (const double[]){1, 0, 0}, 3, "top_p 0");
    rrm_sampler_free(s);
    s = mk(1.0f, 1.0f, 0, 0.5f, 13, 3); /* keep p >= 0.25 */
    check_dist(s, lg, (const double[]){0.625, 0.375, 0}, 3, "min_p 0.5");
    rrm_sampler_free(s);
    /* top_k 2 then top_p 0.7 over the renormalized pair {0.625, 0.375}: only id 0 */
    s = mk(1.0f, 0.6f, 2, 0.0f, 14, 3);
    check_dist(s, lg, (const double[]){1, 0, 0}, 3, "top_k 2 + top_p 0.6");
    rrm_sampler_free(s);
    /* NaN never drawn, -inf never drawn */
    float ln[4] = {0.0f, NAN, 0.0f, -INFINITY};
    s = mk(1.0f, 1.0f, 0, 0.0f, 15, 4);
    check_dist(s, ln, (const double[]){0.5, 0, 0.5, 0}, 4, "NaN / -inf");
    rrm_sampler_free(s);
    /* +inf logits share the mass */
    float li[4] = {INFINITY, 5.0f, INFINITY, 1.0f};
    s = mk(0.7f, 1.0f, 0, 0.0f, 16, 4);
    check_dist(s, li, (const double[]){0.5, 0, 0.5, 0}, 4, "+inf");
    rrm_sampler_free(s);
}

static void test_determinism_edges(void)
{
    enum { NV = 1000 };
    static float lg[NV];
    struct rrm_rng r;
    rrm_rng_seed(&r, 3);
    for (int i = 0; i < NV; i++) lg[i] = (float)rrm_rng_normal(&r);
    rrm_sampler *a = mk(0.8f, 1.0f, 0, 0.0f, 42, NV), *b = mk(0.8f, 1.0f, 0, 0.0f, 42, NV);
    rrm_sampler *c = mk(0.8f, 1.0f, NV + 5, 0.0f, 42, NV), *d = mk(0.8f, 1.0f, 0, 0.0f, 43, NV);
    int same = 1, same_k = 1, diff = 0;
    long live = rrm_alloc_live();
    for (int i = 0; i < 200; i++) {
        int x = rrm_sampler_sample(a, lg, NULL), y = rrm_sampler_sample(b, lg, NULL);
        int z = rrm_sampler_sample(c, lg, NULL), w = rrm_sampler_sample(d, lg, NULL);
        same &= x == y;
        same_k &= x == z; /* top_k > n_vocab is off */
        diff += x != w;
    }
    CHECK_EQ(rrm_alloc_live(), live); /* no allocation while sampling */
    CHECK(same);
    CHECK(same_k);
    CHECK(diff > 100);
    rrm_sampler_free(a);
    rrm_sampler_free(b);
    rrm_sampler_free(c);
    rrm_sampler_free(d);
    /* top_k 1 == greedy */
    rrm_sampler *g = mk(1.5f, 1.0f, 1, 0.0f, 5, NV);
    int best = 0;
    for (int i = 1; i < NV; i++) best = lg[i] > lg[best] ? i : best;
    int ok = 1;
    for (int i = 0; i < 50; i++) ok &= rrm_sampler_sample(g, lg, NULL) == best;
    CHECK(ok);
    rrm_sampler_free(g);
    rrm_sampler_free(NULL);
    /* bad params */
    rrm_sampler *s = NULL;
    rrm_sampler_params p = rrm_sampler_default_params();
    CHECK(p.temperature == 0.6f && p.top_p == 1.0f && p.top_k == 0);
    p.top_k = -1;
    CHECK_EQ(rrm_sampler_init(&s, &p, 10, NULL), RRM_E_INVAL);
    p = rrm_sampler_default_params();
    p.min_p = 2;
    CHECK_EQ(rrm_sampler_init(&s, &p, 10, NULL), RRM_E_INVAL);
    p = rrm_sampler_default_params();
    CHECK_EQ(rrm_sampler_init(&s, &p, 0, NULL), RRM_E_INVAL);
    CHECK(s == NULL);
    float all[3] = {-INFINITY, NAN, -INFINITY};
    CHECK_EQ(rrm_sampler_init(&s, &p, 3, NULL), RRM_OK);
    CHECK_EQ(rrm_sampler_sample(s, all, NULL), RRM_E_INVAL);
    rrm_sampler_free(s);
}

int main(void)
{
    long live = rrm_alloc_live();
    test_greedy();
    test_distributions();
    test_determinism_edges();
    CHECK_EQ(rrm_alloc_live(), live);
    return TEST_DONE("test_sampler");
}
