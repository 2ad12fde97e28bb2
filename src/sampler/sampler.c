/*
 * sampler.c — greedy, temperature, top-k, top-p and min-p sampling over one logits row (see
 * sampler.h for the pipeline). Ordered filters use a binary max-heap over candidate ids
 * (O(n_vocab) to build, O(log n_vocab) per token taken), so the common "temperature only" path
 * never sorts. Probabilities are exp(z - z_max) in f32, sums in double, the draw uses 53 bits.
 */
#include "sampler/sampler.h"

#include <math.h>

struct rrm_sampler {
    rrm_sampler_params p;
    int64_t n_vocab;
    struct rrm_rng rng;
    float *z;      /* (n_vocab) tempered logits, then unnormalized probabilities */
    int32_t *heap; /* (n_vocab) candidate ids */
    int32_t *kept; /* (n_vocab) ids in the final set, in draw order */
};

rrm_sampler_params rrm_sampler_default_params(void)
{
    /* RRM model card / DeepSeek-R1-Distill generation defaults */
    rrm_sampler_params p = {.temperature = 0.6f, .top_p = 1.0f, .top_k = 0, .min_p = 0.0f,
                            .seed = 0};
    return p;
}

int rrm_sampler_init(rrm_sampler **out, const rrm_sampler_params *p, int64_t n_vocab,
                     rrm_err *err)
{
    if (!out || !p) return rrm_errf(err, RRM_E_INVAL, "sampler: NULL argument");
    if (n_vocab < 1 || n_vocab > INT32_MAX)
        return rrm_errf(err, RRM_E_INVAL, "sampler: n_vocab %lld not in 1..2^31-1",
                        (long long)n_vocab);
    if (isnan(p->temperature) || isnan(p->top_p) || isnan(p->min_p) || p->top_k < 0 ||
        p->top_p < 0 || p->min_p < 0 || p->min_p > 1)
        return rrm_errf(err, RRM_E_INVAL,
                        "sampler: bad params (temperature %g, top_p %g, top_k %d, min_p %g)",
                        (double)p->temperature, (double)p->top_p, p->top_k, (double)p->min_p);
    rrm_sampler *s = rrm_calloc(1, sizeof *s);
    if (!s) return rrm_errf(err, RRM_E_NOMEM, "sampler: out of memory");
    s->z = rrm_malloc((size_t)n_vocab * sizeof *s->z);
    s->heap = rrm_malloc((size_t)n_vocab * sizeof *s->heap);
    s->kept = rrm_malloc((size_t)n_vocab * sizeof *s->kept);
    if (!s->z || !s->heap || !s->kept) {
        rrm_sampler_free(s);
        return rrm_errf(err, RRM_E_NOMEM, "sampler: out of memory for n_vocab %lld",
                        (long long)n_vocab);
    }
    s->p = *p;
    s->n_vocab = n_vocab;
    rrm_rng_seed(&s->rng, p->seed);
    *out = s;
    return RRM_OK;
}

void rrm_sampler_free(rrm_sampler *s)
{
    if (!s) return;
    rrm_free(s->z);
    rrm_free(s->heap);
    rrm_free(s->kept);
    rrm_free(s);
}

/* Argmax over non-NaN logits, lowest id on ties; -1 when every logit is NaN or -inf. */
static int greedy(const float *x, int64_t n)
{
    int best = -1;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]) || x[i] == -INFINITY) continue;
        if (best < 0 || x[i] > x[best]) best = (int)i;
    }
    return best;
}

/* Heap order: a before b when z[a] > z[b], or equal and a < b. */
static int before(const float *z, int32_t a, int32_t b)
{
    return z[a] > z[b] || (z[a] == z[b] && a < b);
}

static void sift_down(const float *z, int32_t *h, int64_t n, int64_t i)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && before(z, h[l], h[m])) m = l;
        if (r < n && before(z, h[r], h[m])) m = r;
        if (m == i) return;
        int32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int32_t heap_pop(const float *z, int32_t *h, int64_t *n)
{
    int32_t top = h[0];
    h[0] = h[--*n];
    sift_down(z, h, *n, 0);
    return top;
}

/* Tempered logits z = (logit - max) / T of the candidates into s->z and their ids into
 * s->heap; returns the count (0: nothing can be drawn). Subtracting the max first keeps a tiny
 * temperature finite (the limit is greedy). With any +inf logit, only those stay, each z = 0.
 * After this the max z is 0. */
static int64_t candidates(rrm_sampler *s, const float *logits)
{
    float mx = -INFINITY;
    for (int64_t i = 0; i < s->n_vocab; i++) mx = logits[i] > mx ? logits[i] : mx;
    if (mx == -INFINITY) return 0; /* every logit NaN or -inf */
    int64_t n = 0;
    for (int64_t i = 0; i < s->n_vocab; i++) {
        float v = logits[i];
        if (isnan(v) || v == -INFINITY) continue;
        if (mx == INFINITY) {
            if (v != INFINITY) continue;
            v = 0.0f;
        } else {
            v = (v - mx) / s->p.temperature; /* HF TemperatureLogitsWarper divides */
            if (v == -INFINITY) continue;    /* probability 0 in f32 */
        }
        s->z[i] = v;
        s->heap[n++] = (int32_t)i;
    }
    return n;
}

/* Applies top-k / top-p; leaves the kept ids in s->kept (by descending probability when an
 * ordered filter ran, else in id order) and returns their count. z holds exp(z). */
static int64_t filter_ordered(rrm_sampler *s, int64_t n, double total)
{
    const int64_t k_lim = s->p.top_k > 0 && s->p.top_k < n ? s->p.top_k : n;
    const int top_p = s->p.top_p < 1.0f;
    if (k_lim == n && !top_p) {
        memcpy(s->kept, s->heap, (size_t)n * sizeof *s->kept);
        return n;
    }
    for (int64_t i = n / 2 - 1; i >= 0; i--) sift_down(s->z, s->heap, n, i);
    int64_t m = 0, hn = n;
    while (m < k_lim) s->kept[m++] = heap_pop(s->z, s->heap, &hn);
    if (!top_p) return m;
    if (k_lim < n) { /* top-p is taken over the renormalized top-k set */
        total = 0;
        for (int64_t j = 0; j < m; j++) total += (double)s->z[s->kept[j]];
    }
    double cum = 0, target = (double)s->p.top_p * total;
    for (int64_t j = 0; j < m; j++) {
        cum += (double)s->z[s->kept[j]];
        if (cum >= target) return j + 1; /* smallest prefix reaching p (at least one) */
    }
    return m;
}

int rrm_sampler_sample(rrm_sampler *s, const float *logits, rrm_err *err)
{
    if (!s || !logits) return rrm_errf(err, RRM_E_INVAL, "sampler: NULL argument");
    if (s->p.temperature <= 0.0f) {
        int id = greedy(logits, s->n_vocab);
        if (id < 0)
            return rrm_errf(err, RRM_E_INVAL, "sampler: all %lld logits are NaN or -inf",
                            (long long)s->n_vocab);
        return id;
    }
    int64_t n = candidates(s, logits);
    if (n == 0)
        return rrm_errf(err, RRM_E_INVAL, "sampler: all %lld logits are NaN or -inf",
                        (long long)s->n_vocab);
    double total = 0;
    for (int64_t j = 0; j < n; j++) { /* in id order: the sum does not depend on filters */
        int32_t i = s->heap[j];
        s->z[i] = expf(s->z[i]);
        total += (double)s->z[i];
    }
    int64_t m = filter_ordered(s, n, total);
    if (s->p.min_p > 0.0f) { /* p_i >= min_p * p_max  <=>  e_i >= min_p (e_max = 1) */
        int64_t k = 0;
        for (int64_t j = 0; j < m; j++) {
            if (s->z[s->kept[j]] >= s->p.min_p) s->kept[k++] = s->kept[j];
        }
        m = k; /* the max itself always passes: min_p <= 1 */
    }
    double sum = 0;
    for (int64_t j = 0; j < m; j++) sum += (double)s->z[s->kept[j]];
    double u = (double)(rrm_rng_u64(&s->rng) >> 11) * 0x1.0p-53 * sum, cum = 0;
    for (int64_t j = 0; j < m; j++) {
        cum += (double)s->z[s->kept[j]];
        if (u < cum) return s->kept[j];
    }
    return s->kept[m - 1]; /* u rounded up to sum */
}
