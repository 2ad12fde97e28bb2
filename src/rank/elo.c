/*
 * elo.c — the ELO strategy (DESIGN.md §5): every pair i < j plays once with k votes, in an order
 * shuffled by the seed (the order matters only for sequential Elo); each valid vote is one game
 * of a Bradley–Terry fit (bt.c) reported on the Elo scale; invalid votes are skipped. Sequential
 * Elo (K = 32, start 1000 by default) scores a match as the winner's share of its valid votes and
 * skips matches whose votes are all invalid; every update moves the two ratings by opposite
 * amounts, so the sum of ratings is conserved.
 */
#include "rank/rank.h"

#include <math.h>

/* Places and order by rating descending, index ascending; ratings within 1e-6 share a place. */
static void order_by_rating(rrm_rank_result *r)
{
    int n = r->n;
    for (int i = 0; i < n; i++)
        r->order[i] = i;
    for (int i = 1; i < n; i++) { /* insertion sort: stable, n <= 2048 */
        int32_t c = r->order[i];
        int j = i;
        while (j > 0 && r->rating[r->order[j - 1]] < r->rating[c]) {
            r->order[j] = r->order[j - 1];
            j--;
        }
        r->order[j] = c;
    }
    for (int i = 0; i < n; i++) {
        int32_t c = r->order[i], prev = i ? r->order[i - 1] : -1;
        int same = prev >= 0 && fabs(r->rating[prev] - r->rating[c]) <= 1e-6;
        r->place[c] = same ? r->place[prev] : i + 1;
    }
}

static void sequential_elo(rrm_rank_result *r, const rrm_rank_params *p)
{
    for (int i = 0; i < r->n; i++)
        r->seq_elo[i] = p->elo_start;
    for (int m = 0; m < r->n_matches; m++) {
        int va, vb;
        rank_match_votes(r, m, &va, &vb);
        if (va + vb == 0) continue;
        double *ra = &r->seq_elo[r->matches[m].a], *rb = &r->seq_elo[r->matches[m].b];
        double expect = 1.0 / (1.0 + pow(10.0, (*rb - *ra) / 400.0));
        double d = p->elo_k * ((double)va / (va + vb) - expect);
        *ra += d;
        *rb -= d;
    }
}

int rank_elo(rrm_rank_result *r, const rrm_rank_params *p, rrm_compare_fn cmp, void *user,
             rrm_err *err)
{
    int n = r->n, M = r->n_matches;
    /* schedule: every pair i < j packed as i*n + j (< 2048^2), shuffled by the seed */
    int32_t *pairs = rrm_calloc((size_t)M + 1, sizeof(int32_t));
    double *w = rrm_calloc((size_t)n * (size_t)n, sizeof(double)); /* w[i*n+j]: votes i beat j */
    int rc = RRM_OK;
    if (!pairs || !w) {
        rc = rrm_errf(err, RRM_E_NOMEM, "rank: ELO: out of memory for %d candidates", n);
        goto out;
    }
    int q = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            pairs[q++] = i * n + j;
    rank_shuffle(pairs, M, p->seed);
    for (int m = 0; m < M; m++)
        rank_set_match(r, p, m, pairs[m] / n, pairs[m] % n, 0);

    if (M > 0) rc = rank_play(r, p, cmp, user, 0, M, err);
    if (rc != RRM_OK) goto out;
    for (int m = 0; m < M; m++) {
        int va, vb;
        rank_match_votes(r, m, &va, &vb);
        w[(size_t)r->matches[m].a * n + r->matches[m].b] += va;
        w[(size_t)r->matches[m].b * n + r->matches[m].a] += vb;
        r->winner[m] = va > vb ? r->matches[m].a : vb > va ? r->matches[m].b : -1;
    }
    rc = rrm_bt_fit(w, n, &p->bt, r->rating, &r->bt_iters, err);
    if (rc != RRM_OK) {
        rrm_err_prefix(err, "rank: ELO");
        goto out;
    }
    order_by_rating(r);
    if (r->seq_elo) sequential_elo(r, p);
out:
    rrm_free(pairs);
    rrm_free(w);
    return rc;
}
