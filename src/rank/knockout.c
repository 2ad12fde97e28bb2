/*
 * knockout.c — single-elimination bracket (DESIGN.md §5): the seed shuffles the candidates, each
 * round pairs neighbours (1st-2nd, 3rd-4th, ...), and an odd one out gets a bye and opens the
 * next round's list, so it meets a winner at once and never sits out two rounds in a row.
 * n - 1 matches in ceil(log2 n) rounds; a round's matches go to the comparator together. A
 * match is won by the majority of its valid votes; a no decision (tie or all invalid) still has
 * to send someone on and is settled by a seeded coin, rrm_judge_swap(seed ^ RANK_TAG_COIN,
 * index): 1 sends b, 0 sends a (by_coin = 1 marks it).
 */
#include "rank/rank.h"

/* Candidates still in after round t of a bracket of n: ceil(n / 2^(t+1)). */
static int left_after(int n, int t)
{
    for (int i = 0; i <= t; i++)
        n = (n + 1) / 2;
    return n;
}

/* Places: 1 for the champion, else 1 + the number of candidates still in after the round the
 * candidate lost in. Order: champion, then by the round lost in (latest first), then index. */
static void order_by_place(rrm_rank_result *r, const int32_t *out_round)
{
    int n = r->n, pos = 0;
    for (int c = 0; c < n; c++) {
        r->place[c] = out_round[c] < 0 ? 1 : 1 + left_after(n, out_round[c]);
        if (out_round[c] < 0) r->order[pos++] = c;
    }
    for (int t = r->n_rounds - 1; t >= 0; t--) {
        for (int c = 0; c < n; c++) {
            if (out_round[c] == t) r->order[pos++] = c;
        }
    }
}

int rank_knockout(rrm_rank_result *r, const rrm_rank_params *p, rrm_compare_fn cmp, void *user,
                  rrm_err *err)
{
    int n = r->n, rc = RRM_OK;
    int32_t *list = rrm_calloc((size_t)n, sizeof(int32_t));
    int32_t *next = rrm_calloc((size_t)n, sizeof(int32_t));
    int32_t *out_round = rrm_calloc((size_t)n, sizeof(int32_t)); /* round lost in; -1: champion */
    if (!list || !next || !out_round) {
        rc = rrm_errf(err, RRM_E_NOMEM, "rank: knockout: out of memory for %d candidates", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        list[i] = i;
        out_round[i] = -1;
    }
    rank_shuffle(list, n, p->seed);
    int len = n, m = 0;
    for (int round = 0; len > 1; round++) {
        int first = m, pairs = len / 2, nn = 0;
        if (NEVER(round >= r->n_rounds || m + pairs > r->n_matches)) {
            rc =
                rrm_errf(err, RRM_E_INTERNAL, "rank: knockout: round %d of %d", round, r->n_rounds);
            goto out;
        }
        for (int i = 0; i < pairs; i++)
            rank_set_match(r, p, m++, list[2 * i], list[2 * i + 1], round);
        rc = rank_play(r, p, cmp, user, first, pairs, err);
        if (rc != RRM_OK) goto out;
        if (len % 2) {
            r->bye[round] = list[len - 1];
            next[nn++] = list[len - 1];
        }
        for (int x = first; x < m; x++) {
            int va, vb;
            rank_match_votes(r, x, &va, &vb);
            int b_wins = vb > va;
            if (va == vb) {
                b_wins = rrm_judge_swap(p->seed ^ RANK_TAG_COIN, (uint64_t)x);
                r->by_coin[x] = 1;
            }
            int32_t win = b_wins ? r->matches[x].b : r->matches[x].a;
            int32_t lose = b_wins ? r->matches[x].a : r->matches[x].b;
            r->winner[x] = win;
            out_round[lose] = round;
            next[nn++] = win;
        }
        int32_t *t = list;
        list = next;
        next = t;
        len = nn;
    }
    if (NEVER(m != r->n_matches)) {
        rc = rrm_errf(err, RRM_E_INTERNAL, "rank: knockout played %d of %d matches", m,
                      r->n_matches);
        goto out;
    }
    order_by_place(r, out_round);
out:
    rrm_free(list);
    rrm_free(next);
    rrm_free(out_round);
    return rc;
}
