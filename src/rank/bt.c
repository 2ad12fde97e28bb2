/*
 * bt.c — Bradley–Terry maximum likelihood (P(i beats j) = p_i / (p_i + p_j)) fitted with the
 * MM algorithm of Hunter (2004), "MM algorithms for generalized Bradley–Terry models", Annals of
 * Statistics 32(1), eq. (3), and reported on the Elo scale 400·log10(p_i), shifted to a chosen
 * mean. A prior of `prior` wins and `prior` losses against a virtual candidate of strength 1
 * keeps every strength finite when a candidate never wins or never loses (perfect separation);
 * with prior 0 the plain MLE is used, which exists iff the "i beat j" graph is strongly
 * connected (Hunter's Assumption 1), checked up front.
 */
#include "rank/rank.h"

#include <math.h>

/* Marks in seen[] every candidate reachable from `start` along i->j edges where i beat j
 * (forward) or j beat i (backward). Iterative DFS with an explicit stack of n entries. */
static int reach_all(const double *w, int n, int backward, char *seen, int32_t *stack)
{
    int top = 0, count = 1;
    memset(seen, 0, (size_t)n);
    seen[0] = 1;
    stack[top++] = 0;
    while (top > 0) {
        int i = stack[--top];
        for (int j = 0; j < n; j++) {
            double e = backward ? w[(size_t)j * n + i] : w[(size_t)i * n + j];
            if (j != i && !seen[j] && e > 0) {
                seen[j] = 1;
                count++;
                stack[top++] = j;
            }
        }
    }
    return count == n;
}

static int check_input(const double *wins, int n, const rrm_bt_params *p, rrm_err *err)
{
    if (n < 1 || !wins) return rrm_errf(err, RRM_E_INVAL, "bt: %d candidates, need at least 1", n);
    if (!(p->prior >= 0 && p->prior <= 1e6) || !(p->tol > 0) || p->max_iter < 1 ||
        !isfinite(p->anchor))
        return rrm_errf(err, RRM_E_INVAL, "bt: bad params: prior %g, tol %g, max_iter %d, "
                        "anchor %g", p->prior, p->tol, p->max_iter, p->anchor);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double x = wins[(size_t)i * n + j];
            if (i != j && !(x >= 0 && x <= 1e15))
                return rrm_errf(err, RRM_E_INVAL, "bt: wins[%d][%d] = %g, need 0 <= x <= 1e15",
                                i, j, x);
        }
    }
    return RRM_OK;
}

/* One MM step: next[i] = (W_i + prior) / (sum_j n_ij / (p_i + p_j) + 2 prior / (p_i + 1)).
 * Returns the largest |log10 next[i] - log10 p[i]|. With prior 0 the strengths are rescaled to
 * geometric mean 1 (the likelihood is scale-free then). */
static double mm_step(const double *w, int n, double prior, const double *p, double *next)
{
    for (int i = 0; i < n; i++) {
        double won = prior, den = 2.0 * prior / (p[i] + 1.0);
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            double nij = w[(size_t)i * n + j] + w[(size_t)j * n + i];
            won += w[(size_t)i * n + j];
            if (nij > 0) den += nij / (p[i] + p[j]);
        }
        next[i] = den > 0 ? won / den : p[i]; /* den 0: no games and no prior (n == 1) */
    }
    if (prior == 0) {
        double lg = 0;
        for (int i = 0; i < n; i++) lg += log(next[i]);
        double scale = exp(-lg / n);
        for (int i = 0; i < n; i++) next[i] *= scale;
    }
    double delta = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs(log10(next[i]) - log10(p[i]));
        if (d > delta) delta = d;
    }
    return delta;
}

int rrm_bt_fit(const double *wins, int n, const rrm_bt_params *params, double *ratings, int *iters,
               rrm_err *err)
{
    rrm_bt_params p = params ? *params : rrm_bt_default_params();
    int rc = check_input(wins, n, &p, err);
    if (rc != RRM_OK) return rc;
    if (!ratings) return rrm_errf(err, RRM_E_INVAL, "bt: NULL ratings");
    double *s = rrm_calloc((size_t)n * 2, sizeof(double));
    char *seen = rrm_calloc((size_t)n, 1);
    int32_t *stack = rrm_calloc((size_t)n, sizeof(int32_t));
    if (!s || !seen || !stack) {
        rc = rrm_errf(err, RRM_E_NOMEM, "bt: out of memory for %d candidates", n);
        goto out;
    }
    if (p.prior == 0 && n > 1 &&
        !(reach_all(wins, n, 0, seen, stack) && reach_all(wins, n, 1, seen, stack))) {
        rc = rrm_errf(err, RRM_E_INVAL, "bt: no finite maximum-likelihood ratings for %d "
                      "candidates: some group never beats (or never loses to) the rest; use a "
                      "prior > 0", n);
        goto out;
    }
    double *cur = s, *next = s + n;
    for (int i = 0; i < n; i++) cur[i] = 1.0;
    int it = 0;
    double delta = INFINITY;
    while (it < p.max_iter && !(delta < p.tol)) {
        delta = mm_step(wins, n, p.prior, cur, next);
        double *t = cur;
        cur = next;
        next = t;
        it++;
    }
    if (!(delta < p.tol)) {
        rc = rrm_errf(err, RRM_E_LIMIT, "bt: no convergence for %d candidates after %d MM "
                      "iterations (last step %.3g in log10 strength, tol %.3g)", n, it, delta,
                      p.tol);
        goto out;
    }
    double mean = 0;
    for (int i = 0; i < n; i++) {
        next[i] = 400.0 * log10(cur[i]);
        mean += next[i];
    }
    mean /= n;
    for (int i = 0; i < n; i++) ratings[i] = next[i] - mean + p.anchor;
    if (iters) *iters = it;
    rc = RRM_OK;
out:
    rrm_free(s);
    rrm_free(seen);
    rrm_free(stack);
    return rc;
}
