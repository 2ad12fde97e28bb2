/*
 * rank.c — rrm_rank_run and the plumbing shared by ELO and knockout: parameters, the result
 * object, seeded shuffles, and comparator calls (batched, validated, tallied, with progress and
 * cancellation). The comparator answers in presented positions; this file maps them back.
 */
#include "rank/rank.h"

rrm_bt_params rrm_bt_default_params(void)
{
    rrm_bt_params p = {.prior = 0.1, .anchor = 1000.0, .tol = 1e-10, .max_iter = 200};
    return p;
}

rrm_rank_params rrm_rank_default_params(void)
{
    rrm_rank_params p = {0};
    p.strategy = RRM_RANK_ELO;
    p.k = 1;
    p.elo_k = 32.0; /* DESIGN.md §5: K = 32, start 1000 */
    p.elo_start = 1000.0;
    p.bt = rrm_bt_default_params();
    return p;
}

void rrm_rank_result_free(rrm_rank_result *r)
{
    if (!r) return;
    rrm_free(r->order);
    rrm_free(r->place);
    rrm_free(r->rating);
    rrm_free(r->seq_elo);
    rrm_free(r->wins);
    rrm_free(r->losses);
    rrm_free(r->invalid);
    rrm_free(r->matches);
    rrm_free(r->votes);
    rrm_free(r->winner);
    rrm_free(r->by_coin);
    rrm_free(r->bye);
    rrm_free(r);
}

int rank_result_new(rrm_rank_result **out, const rrm_rank_params *p, int n, int n_matches,
                    int n_rounds, int want_rating, int want_seq, rrm_err *err)
{
    rrm_rank_result *r = rrm_calloc(1, sizeof(*r));
    if (!r) goto fail_nomem;
    r->strategy = p->strategy;
    r->n = n;
    r->k = p->k;
    r->n_matches = n_matches;
    r->n_rounds = n_rounds;
    size_t un = (size_t)n, um = (size_t)n_matches + 1, ur = (size_t)n_rounds + 1;
    r->order = rrm_calloc(un, sizeof(int32_t));
    r->place = rrm_calloc(un, sizeof(int32_t));
    r->wins = rrm_calloc(un, sizeof(int64_t));
    r->losses = rrm_calloc(un, sizeof(int64_t));
    r->invalid = rrm_calloc(un, sizeof(int64_t));
    r->matches = rrm_calloc(um, sizeof(rrm_match));
    r->votes = rrm_calloc(um, sizeof(rrm_match_votes));
    r->winner = rrm_calloc(um, sizeof(int32_t));
    r->by_coin = rrm_calloc(um, sizeof(int32_t));
    r->bye = rrm_calloc(ur, sizeof(int32_t));
    if (!r->order || !r->place || !r->wins || !r->losses || !r->invalid || !r->matches ||
        !r->votes || !r->winner || !r->by_coin || !r->bye)
        goto fail_free;
    if (want_rating && !(r->rating = rrm_calloc(un, sizeof(double)))) goto fail_free;
    if (want_seq && !(r->seq_elo = rrm_calloc(un, sizeof(double)))) goto fail_free;
    for (int i = 0; i < n_rounds; i++)
        r->bye[i] = -1;
    *out = r;
    return RRM_OK;

fail_free:
    rrm_rank_result_free(r);
fail_nomem:
    return rrm_errf(err, RRM_E_NOMEM, "rank: out of memory for %d candidates and %d matches", n,
                    n_matches);
}

/* Uniform in [0, m) for m >= 1, without modulo bias. */
static uint32_t below(struct rrm_rng *g, uint32_t m)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % m; /* accept x < limit: a multiple of m values */
    uint64_t x;
    do {
        x = rrm_rng_u64(g);
    } while (x >= limit);
    return (uint32_t)(x % m);
}

void rank_shuffle(int32_t *v, int n, uint64_t seed)
{
    struct rrm_rng g;
    rrm_rng_seed(&g, seed ^ RANK_TAG_SHUFFLE);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)below(&g, (uint32_t)i + 1);
        int32_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

void rank_set_match(rrm_rank_result *r, const rrm_rank_params *p, int m, int a, int b, int round)
{
    rrm_match *x = &r->matches[m];
    x->a = a;
    x->b = b;
    x->round = round;
    x->k = p->k;
    x->index = (uint64_t)m;
    x->swapped = rrm_judge_swap(p->seed, (uint64_t)m);
}

void rank_match_votes(const rrm_rank_result *r, int m, int *va, int *vb)
{
    const rrm_match_votes *v = &r->votes[m];
    *va = r->matches[m].swapped ? v->n_2 : v->n_1;
    *vb = r->matches[m].swapped ? v->n_1 : v->n_2;
}

/* Counts a match that has been validated into the per-candidate tallies. */
static void tally(rrm_rank_result *r, int m)
{
    int va, vb;
    rank_match_votes(r, m, &va, &vb);
    const rrm_match *x = &r->matches[m];
    int inv = r->votes[m].n_invalid;
    r->wins[x->a] += va;
    r->losses[x->a] += vb;
    r->invalid[x->a] += inv;
    r->wins[x->b] += vb;
    r->losses[x->b] += va;
    r->invalid[x->b] += inv;
}

int rank_play(rrm_rank_result *r, const rrm_rank_params *p, rrm_compare_fn cmp, void *user,
              int first, int count, rrm_err *err)
{
    int chunk = p->max_batch > 0 ? p->max_batch : count;
    for (int s = first; s < first + count; s += chunk) {
        int c = first + count - s < chunk ? first + count - s : chunk;
        rrm_match_votes *out = &r->votes[s];
        for (int i = 0; i < c; i++)
            out[i].n_1 = out[i].n_2 = out[i].n_invalid = -1;
        if (err) {
            err->code = RRM_OK; /* so a comparator that fails without a message is caught */
            err->msg[0] = 0;
        }
        int rc = cmp(&r->matches[s], c, out, user, err);
        r->n_calls++;
        if (rc != RRM_OK) {
            if (rc > 0 || !err || err->code == RRM_OK)
                return rrm_errf(err, rc < 0 ? rc : RRM_E_INTERNAL,
                                "rank: comparator returned %d for matches %d..%d", rc, s,
                                s + c - 1);
            return rc;
        }
        for (int i = 0; i < c; i++) {
            const rrm_match_votes *v = &out[i];
            long long sum = (long long)v->n_1 + v->n_2 + v->n_invalid;
            if (v->n_1 < 0 || v->n_2 < 0 || v->n_invalid < 0 || sum > p->k)
                return rrm_errf(err, RRM_E_INVAL,
                                "rank: comparator votes for match %d (%d vs %d) are %d/%d/%d "
                                "(Assistant 1/Assistant 2/invalid), need >= 0 and at most k = %d",
                                s + i, r->matches[s + i].a, r->matches[s + i].b, v->n_1, v->n_2,
                                v->n_invalid, p->k);
            tally(r, s + i);
        }
        if (p->progress && p->progress((uint64_t)(s + c), (uint64_t)r->n_matches, p->progress_user))
            return rrm_errf(err, RRM_E_CANCELLED, "rank: cancelled after %d of %d matches", s + c,
                            r->n_matches);
    }
    return RRM_OK;
}

static int check_params(int n, const rrm_rank_params *p, rrm_compare_fn cmp, rrm_err *err)
{
    if (n < 1) return rrm_errf(err, RRM_E_INVAL, "rank: %d candidates, need at least 1", n);
    if (p->strategy != RRM_RANK_ELO && p->strategy != RRM_RANK_KNOCKOUT)
        return rrm_errf(err, RRM_E_INVAL, "rank: unknown strategy %d", p->strategy);
    int max = p->strategy == RRM_RANK_ELO ? RRM_RANK_MAX_ELO : RRM_RANK_MAX_KNOCKOUT;
    if (n > max)
        return rrm_errf(err, RRM_E_INVAL, "rank: %d candidates, over the %s limit of %d", n,
                        p->strategy == RRM_RANK_ELO ? "ELO" : "knockout", max);
    if (p->k < 1) return rrm_errf(err, RRM_E_INVAL, "rank: k = %d, need at least 1 vote", p->k);
    if (p->max_batch < 0)
        return rrm_errf(err, RRM_E_INVAL, "rank: max_batch = %d, need >= 0", p->max_batch);
    if (!(p->elo_k >= 0 && p->elo_k < 1e6) || !(p->elo_start > -1e9 && p->elo_start < 1e9))
        return rrm_errf(err, RRM_E_INVAL, "rank: Elo K = %g, start = %g out of range", p->elo_k,
                        p->elo_start);
    if (!cmp && n > 1) return rrm_errf(err, RRM_E_INVAL, "rank: NULL comparator");
    return RRM_OK;
}

int rrm_rank_run(int n, const rrm_rank_params *params, rrm_compare_fn cmp, void *user,
                 rrm_rank_result **out, rrm_err *err)
{
    if (!out) return rrm_errf(err, RRM_E_INVAL, "rank: NULL output");
    rrm_rank_params p = params ? *params : rrm_rank_default_params();
    int rc = check_params(n, &p, cmp, err);
    if (rc != RRM_OK) return rc;
    rrm_rank_result *r = NULL;
    if (p.strategy == RRM_RANK_ELO) {
        rc = rank_result_new(&r, &p, n, (int)((int64_t)n * (n - 1) / 2), n > 1, 1, p.sequential_elo,
                             err);
        if (rc == RRM_OK) rc = rank_elo(r, &p, cmp, user, err);
    } else {
        int rounds = 0;
        while ((1ll << rounds) < n)
            rounds++;
        rc = rank_result_new(&r, &p, n, n - 1, rounds, 0, 0, err);
        if (rc == RRM_OK) rc = rank_knockout(r, &p, cmp, user, err);
    }
    if (rc != RRM_OK) {
        rrm_rank_result_free(r);
        return rc;
    }
    r->best = r->order[0];
    *out = r;
    return RRM_OK;
}
