/*
 * bt.c — Bradley–Terry maximum likelihood, P(i beats j) = 1 / (1 + exp(θ_j - θ_i)), reported on
 * the Elo scale 400·log10(e^θ) = 400·θ / ln 10, shifted to a chosen mean. Fitted by Newton's
 * method on θ with a backtracking line search (the log-likelihood is concave, its negative
 * Hessian a weighted graph Laplacian), so it converges in a few dozen steps where the MM
 * algorithm (Hunter 2004) crawls along the weakly determined overall scale.
 * A prior of `prior` wins and `prior` losses against a virtual candidate with θ = 0 keeps every
 * rating finite when a candidate never wins or never loses (perfect separation). With prior 0 the
 * plain MLE is used: it exists iff the "i beat j" graph is strongly connected (Hunter's
 * Assumption 1, checked up front) and is fixed up to a shift, pinned by θ_{n-1} = 0.
 */
#include "rank/rank.h"

#include <math.h>

/* Marks in seen[] every candidate reachable from 0 along i->j edges where i beat j (forward) or
 * j beat i (backward); 1 when that is all of them. Iterative DFS, a stack of n entries. */
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
        return rrm_errf(err, RRM_E_INVAL,
                        "bt: bad params: prior %g, tol %g, max_iter %d, "
                        "anchor %g",
                        p->prior, p->tol, p->max_iter, p->anchor);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double x = wins[(size_t)i * n + j];
            if (i != j && !(x >= 0 && x <= 1e15))
                return rrm_errf(err, RRM_E_INVAL, "bt: wins[%d][%d] = %g, need 0 <= x <= 1e15", i,
                                j, x);
        }
    }
    return RRM_OK;
}

/* log(1 / (1 + exp(-x))) without overflow. */
static double log_sigmoid(double x)
{
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

static double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

static double loglik(const double *w, int n, double prior, const double *th)
{
    double ll = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double x = w[(size_t)i * n + j];
            if (j != i && x > 0) ll += x * log_sigmoid(th[i] - th[j]);
        }
        if (prior > 0) ll += prior * (log_sigmoid(th[i]) + log_sigmoid(-th[i]));
    }
    return ll;
}

/* Gradient g (n) and negative Hessian h (m x m, m = n or n - 1 with θ_{n-1} pinned). */
static void derivatives(const double *w, int n, int m, double prior, const double *th, double *g,
                        double *h)
{
    memset(h, 0, (size_t)m * (size_t)m * sizeof(double));
    for (int i = 0; i < n; i++) {
        g[i] = 0;
        for (int j = 0; j < n; j++) {
            double nij = j == i ? 0 : w[(size_t)i * n + j] + w[(size_t)j * n + i];
            if (nij <= 0) continue;
            double s = sigmoid(th[i] - th[j]);
            g[i] += w[(size_t)i * n + j] - nij * s;
            double c = nij * s * (1 - s);
            if (i < m) h[(size_t)i * m + i] += c;
            if (i < m && j < m) h[(size_t)i * m + j] -= c;
        }
        if (prior > 0) {
            double s = sigmoid(th[i]);
            g[i] += prior * (1 - 2 * s);
            if (i < m) h[(size_t)i * m + i] += 2 * prior * s * (1 - s);
        }
    }
}

/* Solves h d = g in place (d overwrites g) by Cholesky; h is destroyed. Returns 0 when h is not
 * numerically positive definite. */
static int cholesky_solve(double *h, int m, double *g)
{
    for (int j = 0; j < m; j++) {
        double d = h[(size_t)j * m + j];
        for (int k = 0; k < j; k++)
            d -= h[(size_t)j * m + k] * h[(size_t)j * m + k];
        if (!(d > 0)) return 0;
        d = sqrt(d);
        h[(size_t)j * m + j] = d;
        for (int i = j + 1; i < m; i++) {
            double s = h[(size_t)i * m + j];
            for (int k = 0; k < j; k++)
                s -= h[(size_t)i * m + k] * h[(size_t)j * m + k];
            h[(size_t)i * m + j] = s / d;
        }
    }
    for (int i = 0; i < m; i++) { /* L y = g */
        double s = g[i];
        for (int k = 0; k < i; k++)
            s -= h[(size_t)i * m + k] * g[k];
        g[i] = s / h[(size_t)i * m + i];
    }
    for (int i = m - 1; i >= 0; i--) { /* L^T d = y */
        double s = g[i];
        for (int k = i + 1; k < m; k++)
            s -= h[(size_t)k * m + i] * g[k];
        g[i] = s / h[(size_t)i * m + i];
    }
    return 1;
}

/* One damped Newton step on th (n); returns the full step's largest |Δθ| in log10 units, or a
 * negative value when the Hessian cannot be factored. scratch: n*n + 2n doubles. */
static double newton_step(const double *w, int n, double prior, double *th, double *scratch)
{
    int m = prior > 0 ? n : n - 1;
    double *h = scratch, *d = scratch + (size_t)n * n, *trial = d + n;
    derivatives(w, n, m, prior, th, d, h);
    d[n - 1] = m == n ? d[n - 1] : 0;
    if (m > 0 && !cholesky_solve(h, m, d)) return -1;
    double big = 0;
    for (int i = 0; i < n; i++)
        big = fabs(d[i]) > big ? fabs(d[i]) : big;
    double ll0 = loglik(w, n, prior, th), slack = 1e-12 * (1 + fabs(ll0));
    for (double t = 1; t > 1e-12; t *= 0.5) {
        for (int i = 0; i < n; i++)
            trial[i] = th[i] + t * d[i];
        if (loglik(w, n, prior, trial) >= ll0 - slack) break;
    }
    memcpy(th, trial, (size_t)n * sizeof(double));
    return big / log(10.0);
}

int rrm_bt_fit(const double *wins, int n, const rrm_bt_params *params, double *ratings, int *iters,
               rrm_err *err)
{
    rrm_bt_params p = params ? *params : rrm_bt_default_params();
    int rc = check_input(wins, n, &p, err);
    if (rc != RRM_OK) return rc;
    if (!ratings) return rrm_errf(err, RRM_E_INVAL, "bt: NULL ratings");
    size_t nn = (size_t)n * (size_t)n;
    double *th = rrm_calloc(nn + 3 * (size_t)n, sizeof(double));
    char *seen = rrm_calloc((size_t)n, 1);
    int32_t *stack = rrm_calloc((size_t)n, sizeof(int32_t));
    if (!th || !seen || !stack) {
        rc = rrm_errf(err, RRM_E_NOMEM, "bt: out of memory for %d candidates", n);
        goto out;
    }
    if (p.prior == 0 && n > 1 &&
        !(reach_all(wins, n, 0, seen, stack) && reach_all(wins, n, 1, seen, stack))) {
        rc = rrm_errf(err, RRM_E_INVAL,
                      "bt: no finite maximum-likelihood ratings for %d "
                      "candidates: some group never beats (or never loses to) the rest; use a "
                      "prior > 0",
                      n);
        goto out;
    }
    int it = 0;
    double delta = n > 1 || p.prior > 0 ? INFINITY : 0;
    while (it < p.max_iter && !(delta < p.tol)) {
        delta = newton_step(wins, n, p.prior, th, th + n);
        it++;
        if (delta < 0) {
            rc = rrm_errf(err, RRM_E_INTERNAL,
                          "bt: Hessian of %d candidates is not positive "
                          "definite at iteration %d",
                          n, it);
            goto out;
        }
    }
    if (!(delta < p.tol)) {
        rc = rrm_errf(err, RRM_E_LIMIT,
                      "bt: no convergence for %d candidates after %d Newton "
                      "steps (last step %.3g in log10 strength, tol %.3g)",
                      n, it, delta, p.tol);
        goto out;
    }
    double mean = 0, scale = 400.0 / log(10.0);
    for (int i = 0; i < n; i++)
        mean += th[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        ratings[i] = scale * (th[i] - mean) + p.anchor;
    if (iters) *iters = it;
    rc = RRM_OK;
out:
    rrm_free(th);
    rrm_free(seen);
    rrm_free(stack);
    return rc;
}
