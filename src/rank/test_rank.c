/* test_rank.c — unit tests for src/rank with injected comparators (no model): Bradley–Terry on
 * known win matrices (2-player closed form, a consistent 3-player case, separation, bad input),
 * recovery of known strengths from sampled votes, ELO schedule and position mapping, sequential
 * Elo (closed-form updates, conservation), knockout for n = 1..33 (matches, rounds, byes, one
 * call per round, the true best wins), no-decision coins, seeded determinism, errors, OOM, JSON. */
#include "rank/rank.h"
#include "../../tests/harness.h"

#include <jansson.h>
#include <math.h>

/* ---- Bradley–Terry on win matrices ---- */

static void test_bt_closed_form(void)
{
    rrm_err e = {0};
    rrm_bt_params p = rrm_bt_default_params();
    p.prior = 0;
    double r[3];
    int it = 0;
    for (int w = 1; w <= 9; w += 2) {
        for (int l = 1; l <= 9; l += 3) {
            double wins[4] = {0, (double)w, (double)l, 0};
            CHECK_EQ(rrm_bt_fit(wins, 2, &p, r, &it, &e), RRM_OK);
            CHECK_NEAR(r[0] - r[1], 400.0 * log10((double)w / l), 1e-6);
            CHECK_NEAR(r[0] + r[1], 2000.0, 1e-9);
            double pw = 1.0 / (1.0 + pow(10.0, (r[1] - r[0]) / 400.0));
            CHECK_NEAR(pw, (double)w / (w + l), 1e-9);
        }
    }
    /* strengths 1, 2, 4 with win counts that satisfy the likelihood equations exactly */
    double w3[9] = {0, 1, 1, /**/ 2, 0, 1, /**/ 4, 2, 0};
    CHECK_EQ(rrm_bt_fit(w3, 3, &p, r, &it, &e), RRM_OK);
    CHECK_NEAR(r[1] - r[0], 400.0 * log10(2.0), 1e-6);
    CHECK_NEAR(r[2] - r[0], 400.0 * log10(4.0), 1e-6);
    CHECK_NEAR(r[0] + r[1] + r[2], 3000.0, 1e-9);
    CHECK(it > 1 && it < 10000);
    /* anchor moves the mean only */
    p.anchor = 1500;
    double r2[3];
    CHECK_EQ(rrm_bt_fit(w3, 3, &p, r2, NULL, &e), RRM_OK);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(r2[i] - r[i], 500.0, 1e-6);
    /* the prior pulls towards the mean but keeps the order */
    p = rrm_bt_default_params();
    CHECK_EQ(rrm_bt_fit(w3, 3, &p, r2, NULL, &e), RRM_OK);
    CHECK(r2[0] < r2[1] && r2[1] < r2[2]);
    CHECK(r2[2] - r2[0] < r[2] - r[0] && r2[2] - r2[0] > 0.8 * (r[2] - r[0]));
}

static void test_bt_edges(void)
{
    rrm_err e = {0};
    rrm_bt_params p = rrm_bt_default_params();
    double r[4];
    /* perfect separation 0 > 1 > 2 > 3: no finite MLE; the prior keeps ratings finite */
    double sep[16] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            sep[i * 4 + j] = 3;
    CHECK_EQ(rrm_bt_fit(sep, 4, &p, r, NULL, &e), RRM_OK);
    for (int i = 0; i < 4; i++)
        CHECK(isfinite(r[i]));
    CHECK(r[0] > r[1] && r[1] > r[2] && r[2] > r[3]);
    CHECK(r[0] - r[3] < 3000);
    rrm_bt_params p0 = p;
    p0.prior = 0;
    CHECK_EQ(rrm_bt_fit(sep, 4, &p0, r, NULL, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "prior") != NULL);
    /* two groups that never meet: no MLE without a prior */
    double split[16] = {0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 0};
    CHECK_EQ(rrm_bt_fit(split, 4, &p0, r, NULL, &e), RRM_E_INVAL);
    CHECK_EQ(rrm_bt_fit(split, 4, &p, r, NULL, &e), RRM_OK);
    CHECK_NEAR(r[0], r[1], 1e-6);
    /* no games at all: everyone at the anchor */
    double none[16] = {0};
    CHECK_EQ(rrm_bt_fit(none, 4, &p, r, NULL, &e), RRM_OK);
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(r[i], 1000.0, 1e-9);
    CHECK_EQ(rrm_bt_fit(none, 1, &p0, r, NULL, &e), RRM_OK);
    CHECK_NEAR(r[0], 1000.0, 0);
    /* a candidate that never wins stays finite and last */
    double lose[9] = {0, 2, 5, 1, 0, 4, 0, 0, 0};
    CHECK_EQ(rrm_bt_fit(lose, 3, &p, r, NULL, &e), RRM_OK);
    CHECK(isfinite(r[2]) && r[2] < r[1] && r[1] < r[0]);
    /* bad input */
    double bad[4] = {0, -1, 1, 0};
    CHECK_EQ(rrm_bt_fit(bad, 2, &p, r, NULL, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "wins[0][1]") != NULL);
    bad[1] = NAN;
    CHECK_EQ(rrm_bt_fit(bad, 2, &p, r, NULL, &e), RRM_E_INVAL);
    CHECK_EQ(rrm_bt_fit(none, 0, &p, r, NULL, &e), RRM_E_INVAL);
    CHECK_EQ(rrm_bt_fit(none, 2, &p, NULL, NULL, &e), RRM_E_INVAL);
    rrm_bt_params q = p;
    q.tol = 0;
    CHECK_EQ(rrm_bt_fit(none, 2, &q, r, NULL, &e), RRM_E_INVAL);
    q = p;
    q.prior = -1;
    CHECK_EQ(rrm_bt_fit(none, 2, &q, r, NULL, &e), RRM_E_INVAL);
    q = p;
    q.max_iter = 1;
    double w3[9] = {0, 1, 1, 2, 0, 1, 4, 2, 0};
    r[0] = -12345;
    CHECK_EQ(rrm_bt_fit(w3, 3, &q, r, NULL, &e), RRM_E_LIMIT);
    CHECK(strstr(e.msg, "convergence") != NULL);
    CHECK_NEAR(r[0], -12345, 0); /* not written on failure */
}

/* ---- comparators ---- */

struct judge_sim {
    const double *quality; /* hidden truth per candidate */
    int mode;              /* 0 perfect, 1 always Assistant 1, 2 all invalid, 3 BT sampling,
                            * 4 error, 5 too many votes, 6 leaves votes unset, 7 half invalid */
    struct rrm_rng rng;
    int calls, max_batch, mixed_rounds;
    int64_t matches_seen;
};

static int sim_compare(const rrm_match *ms, int n, rrm_match_votes *out, void *user, rrm_err *err)
{
    struct judge_sim *s = user;
    s->calls++;
    if (n > s->max_batch) s->max_batch = n;
    if (s->mode == 4) return rrm_errf(err, RRM_E_IO, "sim: engine exploded on call %d", s->calls);
    for (int i = 0; i < n; i++) {
        const rrm_match *m = &ms[i];
        s->matches_seen++;
        if (m->round != ms[0].round) s->mixed_rounds = 1;
        int first = m->swapped ? m->b : m->a, second = m->swapped ? m->a : m->b;
        rrm_match_votes v = {0, 0, 0};
        switch (s->mode) {
        case 0:
            if (s->quality[first] > s->quality[second])
                v.n_1 = m->k;
            else
                v.n_2 = m->k;
            break;
        case 1:
            v.n_1 = m->k;
            break;
        case 2:
            v.n_invalid = m->k;
            break;
        case 3: {
            double p1 = 1.0 / (1.0 + pow(10.0, (s->quality[second] - s->quality[first]) / 400.0));
            for (int j = 0; j < m->k; j++) {
                if (rrm_rng_float(&s->rng) < p1)
                    v.n_1++;
                else
                    v.n_2++;
            }
            break;
        }
        case 5:
            v.n_1 = m->k + 1;
            break;
        case 6:
            if (i == n - 1) continue;
            v.n_2 = m->k;
            break;
        case 7:
            v.n_invalid = m->k / 2;
            if (s->quality[first] > s->quality[second])
                v.n_1 = m->k - v.n_invalid;
            else
                v.n_2 = m->k - v.n_invalid;
            break;
        }
        out[i] = v;
    }
    return RRM_OK;
}

static void sim_init(struct judge_sim *s, const double *q, int mode)
{
    memset(s, 0, sizeof(*s));
    s->quality = q;
    s->mode = mode;
    rrm_rng_seed(&s->rng, 99);
}

/* ---- ELO ---- */

static void test_elo_perfect(void)
{
    rrm_err e = {0};
    double q[9] = {3, 9, 1, 7, 5, 2, 8, 6, 4};
    struct judge_sim s;
    sim_init(&s, q, 0);
    rrm_rank_params p = rrm_rank_default_params();
    p.seed = 5;
    p.k = 3;
    p.sequential_elo = 1;
    rrm_rank_result *r = NULL;
    CHECK_EQ(rrm_rank_run(9, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    CHECK_EQ(r->n_matches, 36);
    CHECK_EQ(s.matches_seen, 36);
    CHECK_EQ(r->n_calls, 1);
    CHECK_EQ(s.max_batch, 36);
    /* each pair once, a < b, indices in order, position from the seed */
    int seen[81] = {0}, swaps = 0;
    for (int m = 0; m < 36; m++) {
        const rrm_match *x = &r->matches[m];
        CHECK(x->a < x->b);
        seen[x->a * 9 + x->b]++;
        CHECK_EQ(x->index, (uint64_t)m);
        CHECK_EQ(x->swapped, rrm_judge_swap(5, (uint64_t)m));
        CHECK_EQ(x->k, 3);
        swaps += x->swapped;
        CHECK_EQ(r->winner[m], q[x->a] > q[x->b] ? x->a : x->b);
    }
    int once = 1;
    for (int i = 0; i < 9; i++)
        for (int j = i + 1; j < 9; j++)
            once &= seen[i * 9 + j] == 1;
    CHECK(once);
    CHECK(swaps > 5 && swaps < 31);
    /* order is the hidden quality order; wins count votes */
    static const int want[9] = {1, 6, 3, 7, 4, 8, 0, 5, 2};
    for (int i = 0; i < 9; i++)
        CHECK_EQ(r->order[i], want[i]);
    for (int i = 0; i < 9; i++)
        CHECK_EQ(r->place[want[i]], i + 1);
    CHECK_EQ(r->best, 1);
    CHECK_EQ(r->wins[1], 8 * 3);
    CHECK_EQ(r->losses[2], 8 * 3);
    CHECK_EQ(r->invalid[0], 0);
    double sum = 0, seq = 0;
    for (int i = 0; i < 9; i++) {
        sum += r->rating[i];
        seq += r->seq_elo[i];
        CHECK(isfinite(r->rating[i]));
    }
    CHECK_NEAR(sum / 9, 1000.0, 1e-9);
    CHECK_NEAR(seq, 9000.0, 1e-9); /* sequential Elo conserves the sum */
    CHECK(r->seq_elo[1] > 1000 && r->seq_elo[2] < 1000);
    rrm_rank_result_free(r);
}

static void test_elo_mapping_and_batches(void)
{
    rrm_err e = {0};
    double q[6] = {1, 2, 3, 4, 5, 6};
    struct judge_sim s;
    sim_init(&s, q, 1); /* always "Assistant 1": pure position bias */
    rrm_rank_params p = rrm_rank_default_params();
    p.seed = 11;
    p.k = 2;
    p.max_batch = 4;
    rrm_rank_result *r = NULL;
    CHECK_EQ(rrm_rank_run(6, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    CHECK_EQ(r->n_matches, 15);
    CHECK_EQ(r->n_calls, 4); /* 4 + 4 + 4 + 3 */
    CHECK_EQ(s.max_batch, 4);
    for (int m = 0; m < 15; m++) {
        const rrm_match *x = &r->matches[m];
        CHECK_EQ(r->winner[m], x->swapped ? x->b : x->a); /* whoever was shown first */
        int va, vb;
        rank_match_votes(r, m, &va, &vb);
        CHECK_EQ(va, x->swapped ? 0 : 2);
        CHECK_EQ(vb, x->swapped ? 2 : 0);
        CHECK_EQ(r->votes[m].n_1, 2);
    }
    rrm_rank_result_free(r);
    /* all invalid: no games, everyone at the anchor, every match a no decision */
    sim_init(&s, q, 2);
    p.sequential_elo = 1;
    CHECK_EQ(rrm_rank_run(6, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    for (int i = 0; i < 6; i++) {
        CHECK_NEAR(r->rating[i], 1000, 1e-9);
        CHECK_NEAR(r->seq_elo[i], 1000, 0);
        CHECK_EQ(r->invalid[i], 5 * 2);
        CHECK_EQ(r->place[i], 1);
        CHECK_EQ(r->order[i], i);
    }
    for (int m = 0; m < 15; m++)
        CHECK_EQ(r->winner[m], -1);
    rrm_rank_result_free(r);
}

/* Sequential Elo closed form: one match, K = 32, equal start: +16/-16; shares of k votes. */
static void test_sequential_elo(void)
{
    rrm_err e = {0};
    double q[2] = {5, 1};
    struct judge_sim s;
    rrm_rank_params p = rrm_rank_default_params();
    p.sequential_elo = 1;
    rrm_rank_result *r = NULL;
    sim_init(&s, q, 0);
    CHECK_EQ(rrm_rank_run(2, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    CHECK_NEAR(r->seq_elo[0], 1016.0, 1e-12);
    CHECK_NEAR(r->seq_elo[1], 984.0, 1e-12);
    rrm_rank_result_free(r);
    /* k = 4 with 2 invalid: share 2/2 = 1 -> +16; BT with prior: finite, 0 ahead */
    p.k = 4;
    sim_init(&s, q, 7);
    CHECK_EQ(rrm_rank_run(2, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    CHECK_NEAR(r->seq_elo[0], 1016.0, 1e-12);
    CHECK_EQ(r->wins[0], 2);
    CHECK_EQ(r->invalid[0], 2);
    CHECK(r->rating[0] > r->rating[1]);
    rrm_rank_result_free(r);
    /* conservation under noisy votes, 12 candidates, k = 5 */
    double q12[12];
    for (int i = 0; i < 12; i++)
        q12[i] = 100.0 * i;
    sim_init(&s, q12, 3);
    p.k = 5;
    p.elo_k = 24;
    p.elo_start = 1200;
    CHECK_EQ(rrm_rank_run(12, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    double sum = 0;
    for (int i = 0; i < 12; i++)
        sum += r->seq_elo[i];
    CHECK_NEAR(sum, 12 * 1200.0, 1e-8);
    rrm_rank_result_free(r);
}

/* Votes sampled from known Bradley–Terry strengths are fitted back close to them. */
static void test_bt_recovers_strengths(void)
{
    rrm_err e = {0};
    double q[5] = {0, 100, 250, -150, 400}; /* true Elo offsets */
    struct judge_sim s;
    sim_init(&s, q, 3);
    rrm_rank_params p = rrm_rank_default_params();
    p.k = 400;
    p.seed = 3;
    rrm_rank_result *r = NULL;
    CHECK_EQ(rrm_rank_run(5, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    double mean_q = (0 + 100 + 250 - 150 + 400) / 5.0;
    for (int i = 0; i < 5; i++)
        CHECK_MSG(fabs(r->rating[i] - 1000 - (q[i] - mean_q)) < 35, "candidate %d: %.1f vs %.1f", i,
                  r->rating[i] - 1000, q[i] - mean_q);
    CHECK_EQ(r->best, 4);
    CHECK_EQ(r->order[4], 3);
    rrm_rank_result_free(r);
}

/* ---- knockout ---- */

static void test_knockout_sizes(void)
{
    rrm_err e = {0};
    double q[33];
    for (int n = 1; n <= 33; n++) {
        for (int i = 0; i < n; i++)
            q[i] = fmod(i * 0.6180339887498949, 1.0); /* distinct */
        int best = 0;
        for (int i = 1; i < n; i++)
            if (q[i] > q[best]) best = i;
        struct judge_sim s;
        sim_init(&s, q, 0);
        rrm_rank_params p = rrm_rank_default_params();
        p.strategy = RRM_RANK_KNOCKOUT;
        p.seed = (uint64_t)n * 13;
        rrm_rank_result *r = NULL;
        CHECK_EQ(rrm_rank_run(n, &p, sim_compare, &s, &r, &e), RRM_OK);
        if (!r) continue;
        int rounds = 0;
        while ((1 << rounds) < n)
            rounds++;
        CHECK_EQ(r->n_matches, n - 1);
        CHECK_EQ(s.matches_seen, n - 1);
        CHECK_EQ(r->n_rounds, rounds);
        CHECK_EQ(r->n_calls, rounds); /* one comparator call per round */
        CHECK_EQ(s.calls, rounds);
        CHECK(!s.mixed_rounds);
        CHECK_MSG(r->best == best, "n = %d: best %d, want %d", n, r->best, best);
        CHECK_EQ(r->place[best], 1);
        CHECK(r->rating == NULL);
        /* every candidate but the champion loses exactly once; rounds are non-decreasing */
        int losses[33] = {0}, ok_rounds = 1, bye_ok = 1;
        for (int m = 0; m < r->n_matches; m++) {
            const rrm_match *x = &r->matches[m];
            int loser = r->winner[m] == x->a ? x->b : x->a;
            CHECK(r->winner[m] == x->a || r->winner[m] == x->b);
            losses[loser]++;
            if (m && x->round < r->matches[m - 1].round) ok_rounds = 0;
            CHECK_EQ(r->winner[m], q[x->a] > q[x->b] ? x->a : x->b);
            CHECK_EQ(r->by_coin[m], 0);
        }
        int once = 1;
        for (int i = 0; i < n; i++)
            once &= losses[i] == (i == best ? 0 : 1);
        CHECK(once && ok_rounds);
        /* a bye exactly in rounds with an odd field, never twice in a row for one candidate */
        int field = n;
        for (int t = 0; t < rounds; t++) {
            if ((field % 2) != (r->bye[t] >= 0)) bye_ok = 0;
            if (t && r->bye[t] >= 0 && r->bye[t] == r->bye[t - 1]) bye_ok = 0;
            field = (field + 1) / 2;
        }
        CHECK_MSG(bye_ok, "n = %d: byes", n);
        /* places: champion 1, finalist 2, semifinal losers 3 */
        if (n >= 2) {
            int fin = r->n_matches - 1;
            int loser = r->winner[fin] == r->matches[fin].a ? r->matches[fin].b : r->matches[fin].a;
            CHECK_EQ(r->place[loser], 2);
            CHECK_EQ(r->order[1], loser);
        }
        /* the loser of a round-t match places 1 + ceil(n / 2^(t+1)) */
        int places_ok = 1;
        for (int m = 0; m < r->n_matches; m++) {
            const rrm_match *x = &r->matches[m];
            int loser = r->winner[m] == x->a ? x->b : x->a, left = n;
            for (int t = 0; t <= x->round; t++)
                left = (left + 1) / 2;
            places_ok &= r->place[loser] == 1 + left;
        }
        CHECK_MSG(places_ok, "n = %d: places", n);
        int in_order = 1;
        for (int i = 1; i < n; i++)
            in_order &= r->place[r->order[i - 1]] <= r->place[r->order[i]];
        CHECK(in_order);
        rrm_rank_result_free(r);
    }
}

static void test_knockout_coin_and_determinism(void)
{
    rrm_err e = {0};
    double q[16];
    for (int i = 0; i < 16; i++)
        q[i] = i;
    struct judge_sim s;
    rrm_rank_params p = rrm_rank_default_params();
    p.strategy = RRM_RANK_KNOCKOUT;
    p.seed = 77;
    p.k = 3;
    rrm_rank_result *r1 = NULL, *r2 = NULL, *r3 = NULL;
    sim_init(&s, q, 2); /* every vote invalid: coins decide */
    CHECK_EQ(rrm_rank_run(16, &p, sim_compare, &s, &r1, &e), RRM_OK);
    sim_init(&s, q, 2);
    CHECK_EQ(rrm_rank_run(16, &p, sim_compare, &s, &r2, &e), RRM_OK);
    p.seed = 78;
    sim_init(&s, q, 2);
    CHECK_EQ(rrm_rank_run(16, &p, sim_compare, &s, &r3, &e), RRM_OK);
    if (!r1 || !r2 || !r3) return;
    int coins = 0, b_sent = 0, same = 1, diff = 0;
    for (int m = 0; m < 15; m++) {
        coins += r1->by_coin[m];
        b_sent += r1->winner[m] == r1->matches[m].b;
        CHECK_EQ(r1->winner[m] == r1->matches[m].b,
                 rrm_judge_swap(77 ^ RANK_TAG_COIN, (uint64_t)m));
        same &= r1->matches[m].a == r2->matches[m].a && r1->matches[m].b == r2->matches[m].b &&
                r1->winner[m] == r2->winner[m] && r1->matches[m].swapped == r2->matches[m].swapped;
        diff += r1->matches[m].a != r3->matches[m].a || r1->matches[m].b != r3->matches[m].b;
    }
    CHECK_EQ(coins, 15);
    CHECK(b_sent > 0 && b_sent < 15);
    CHECK(same && r1->best == r2->best);
    CHECK(diff > 0);
    CHECK_EQ(r1->invalid[r1->best], 3 * 4); /* the champion played 4 rounds of 3 invalid votes */
    rrm_rank_result_free(r1);
    rrm_rank_result_free(r2);
    rrm_rank_result_free(r3);
    /* max_batch splits a round, never mixes two */
    sim_init(&s, q, 0);
    p.max_batch = 3;
    CHECK_EQ(rrm_rank_run(16, &p, sim_compare, &s, &r1, &e), RRM_OK);
    if (!r1) return;
    CHECK_EQ(r1->n_calls, 3 + 2 + 1 + 1); /* 8, 4, 2, 1 matches in chunks of 3 */
    CHECK(!s.mixed_rounds);
    CHECK_EQ(r1->best, 15);
    rrm_rank_result_free(r1);
    /* ELO seeded determinism of the schedule */
    p = rrm_rank_default_params();
    p.seed = 4;
    sim_init(&s, q, 3);
    CHECK_EQ(rrm_rank_run(7, &p, sim_compare, &s, &r1, &e), RRM_OK);
    sim_init(&s, q, 3);
    CHECK_EQ(rrm_rank_run(7, &p, sim_compare, &s, &r2, &e), RRM_OK);
    if (!r1 || !r2) return;
    same = 1;
    for (int m = 0; m < 21; m++)
        same &= r1->matches[m].a == r2->matches[m].a && r1->matches[m].b == r2->matches[m].b;
    for (int i = 0; i < 7; i++)
        same &= r1->rating[i] == r2->rating[i];
    CHECK(same);
    rrm_rank_result_free(r1);
    rrm_rank_result_free(r2);
}

static int cancel_at_2(uint64_t done, uint64_t total, void *user)
{
    int *calls = user;
    (*calls)++;
    return done >= 2 && total > 0;
}

static void test_errors(void)
{
    rrm_err e = {0};
    double q[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct judge_sim s;
    rrm_rank_params p = rrm_rank_default_params();
    rrm_rank_result *r = (rrm_rank_result *)&p; /* must stay untouched on failure */
    sim_init(&s, q, 0);
    CHECK_EQ(rrm_rank_run(0, &p, sim_compare, &s, &r, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "0 candidates") != NULL);
    CHECK(r == (rrm_rank_result *)&p);
    p.k = 0;
    CHECK_EQ(rrm_rank_run(4, &p, sim_compare, &s, &r, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "k = 0") != NULL);
    p.k = 1;
    CHECK_EQ(rrm_rank_run(4, &p, NULL, &s, &r, &e), RRM_E_INVAL);
    CHECK_EQ(rrm_rank_run(4, &p, sim_compare, &s, NULL, &e), RRM_E_INVAL);
    CHECK_EQ(rrm_rank_run(RRM_RANK_MAX_ELO + 1, &p, sim_compare, &s, &r, &e), RRM_E_INVAL);
    p.strategy = 9;
    CHECK_EQ(rrm_rank_run(4, &p, sim_compare, &s, &r, &e), RRM_E_INVAL);
    p.strategy = RRM_RANK_KNOCKOUT;
    p.max_batch = -1;
    CHECK_EQ(rrm_rank_run(4, &p, sim_compare, &s, &r, &e), RRM_E_INVAL);
    p.max_batch = 0;
    CHECK(r == (rrm_rank_result *)&p);
    /* comparator failures */
    long live = rrm_alloc_live();
    for (int strat = 0; strat < 2; strat++) {
        p.strategy = strat;
        sim_init(&s, q, 4);
        CHECK_EQ(rrm_rank_run(8, &p, sim_compare, &s, &r, &e), RRM_E_IO);
        CHECK(strstr(e.msg, "engine exploded") != NULL);
        sim_init(&s, q, 5);
        CHECK_EQ(rrm_rank_run(8, &p, sim_compare, &s, &r, &e), RRM_E_INVAL);
        CHECK(strstr(e.msg, "at most k = 1") != NULL);
        sim_init(&s, q, 6);
        CHECK_EQ(rrm_rank_run(8, &p, sim_compare, &s, &r, &e), RRM_E_INVAL);
        int calls = 0;
        p.progress = cancel_at_2;
        p.progress_user = &calls;
        p.max_batch = 1;
        sim_init(&s, q, 0);
        CHECK_EQ(rrm_rank_run(8, &p, sim_compare, &s, &r, &e), RRM_E_CANCELLED);
        CHECK_EQ(calls, 2);
        CHECK_EQ(s.calls, 2);
        p.progress = NULL;
        p.max_batch = 0;
    }
    CHECK_EQ(rrm_alloc_live(), live);
    CHECK(r == (rrm_rank_result *)&p);
    /* n = 1: trivial results, no comparator needed */
    for (int strat = 0; strat < 2; strat++) {
        p = rrm_rank_default_params();
        p.strategy = strat;
        p.sequential_elo = 1;
        CHECK_EQ(rrm_rank_run(1, &p, NULL, NULL, &r, &e), RRM_OK);
        if (!r) continue;
        CHECK_EQ(r->best, 0);
        CHECK_EQ(r->n_matches, 0);
        CHECK_EQ(r->n_rounds, 0);
        CHECK_EQ(r->n_calls, 0);
        CHECK_EQ(r->place[0], 1);
        if (strat == RRM_RANK_ELO) CHECK_NEAR(r->rating[0], 1000, 0);
        rrm_rank_result_free(r);
    }
    rrm_rank_result_free(NULL);
    /* NULL params = defaults */
    sim_init(&s, q, 0);
    CHECK_EQ(rrm_rank_run(3, NULL, sim_compare, &s, &r, &e), RRM_OK);
    if (r) CHECK_EQ(r->best, 2);
    rrm_rank_result_free(r);
}

static void test_oom(void)
{
    rrm_err e = {0};
    double q[5] = {5, 1, 4, 2, 3};
    long live = rrm_alloc_live();
    for (int strat = 0; strat < 2; strat++) {
        int ok = 0, nomem = 0;
        for (long n = 0; n < 5000 && !ok; n++) {
            struct judge_sim s;
            sim_init(&s, q, 0);
            rrm_rank_params p = rrm_rank_default_params();
            p.strategy = strat;
            p.sequential_elo = 1;
            rrm_rank_result *r = NULL;
            rrm_alloc_fail_at(n);
            int rc = rrm_rank_run(5, &p, sim_compare, &s, &r, &e);
            json_t *j = rc == RRM_OK ? rank_result_json(r) : NULL;
            rrm_alloc_fail_at(-1);
            if (rc == RRM_OK && j)
                ok = 1;
            else if (rc == RRM_E_NOMEM)
                nomem++;
            else if (rc != RRM_OK)
                CHECK_MSG(0, "strategy %d fail_at %ld: %s", strat, n, e.msg);
            json_decref(j);
            rrm_rank_result_free(r);
            CHECK_EQ(rrm_alloc_live(), live);
        }
        CHECK_MSG(ok && nomem > 5, "strategy %d: ok %d, %d clean failures", strat, ok, nomem);
    }
}

static void test_json(void)
{
    rrm_err e = {0};
    double q[3] = {1, 3, 2};
    struct judge_sim s;
    sim_init(&s, q, 0);
    rrm_rank_params p = rrm_rank_default_params();
    p.strategy = RRM_RANK_KNOCKOUT;
    p.seed = 1;
    rrm_rank_result *r = NULL;
    CHECK_EQ(rrm_rank_run(3, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    json_t *j = rank_result_json(r);
    CHECK_STR(json_string_value(json_object_get(j, "strategy")), "knockout");
    CHECK_EQ(json_integer_value(json_object_get(j, "best")), 1);
    CHECK_EQ(json_integer_value(json_object_get(j, "matches_played")), 2);
    CHECK_EQ(json_array_size(json_object_get(j, "matches")), 2);
    CHECK_EQ(json_array_size(json_object_get(j, "byes")), 2);
    CHECK(json_is_null(json_object_get(j, "ratings")));
    CHECK(json_is_integer(json_array_get(json_object_get(j, "byes"), 0)));
    CHECK(json_is_null(json_array_get(json_object_get(j, "byes"), 1)));
    json_t *m0 = json_array_get(json_object_get(j, "matches"), 0);
    CHECK_EQ(json_integer_value(json_object_get(m0, "votes_a")) +
                 json_integer_value(json_object_get(m0, "votes_b")),
             1);
    char *txt = NULL;
    CHECK_EQ(rrm_json_dump(j, JSON_COMPACT, &txt, &e), RRM_OK);
    CHECK(txt && strstr(txt, "\"place\":[") != NULL);
    rrm_free(txt);
    json_decref(j);
    rrm_rank_result_free(r);
    p.strategy = RRM_RANK_ELO;
    p.sequential_elo = 1;
    sim_init(&s, q, 0);
    CHECK_EQ(rrm_rank_run(3, &p, sim_compare, &s, &r, &e), RRM_OK);
    if (!r) return;
    j = rank_result_json(r);
    CHECK_EQ(json_array_size(json_object_get(j, "ratings")), 3);
    CHECK_EQ(json_array_size(json_object_get(j, "seq_elo")), 3);
    CHECK_NEAR(json_real_value(json_array_get(json_object_get(j, "ratings"), 1)),
               round(r->rating[1] * 1e6) / 1e6, 0);
    CHECK_EQ(json_integer_value(
                 json_object_get(json_array_get(json_object_get(j, "candidates"), 1), "wins")),
             2);
    json_decref(j);
    rrm_rank_result_free(r);
    CHECK(rank_result_json(NULL) == NULL);
}

int main(void)
{
    long live = rrm_alloc_live();
    test_bt_closed_form();
    test_bt_edges();
    test_elo_perfect();
    test_elo_mapping_and_batches();
    test_sequential_elo();
    test_bt_recovers_strengths();
    test_knockout_sizes();
    test_knockout_coin_and_determinism();
    test_errors();
    test_oom();
    test_json();
    CHECK_EQ(rrm_alloc_live(), live);
    return TEST_DONE("test_rank");
}
