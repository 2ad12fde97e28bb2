/*
 * vote.c — voting@k (DESIGN.md §5): the majority of the valid votes wins, invalid votes do not
 * count, a tie or all-invalid is "no decision"; and the early-stopping test (can the votes still
 * to come change that outcome?).
 */
#include "judge/judge.h"

int rrm_vote_tally(const int *votes, int k, rrm_vote_result *out, rrm_err *err)
{
    if (!out) return rrm_errf(err, RRM_E_INVAL, "vote: NULL output");
    if (k < 1) return rrm_errf(err, RRM_E_INVAL, "vote: k = %d, need at least 1 vote", k);
    if (!votes) return rrm_errf(err, RRM_E_INVAL, "vote: NULL votes for k = %d", k);
    rrm_vote_result r = {0};
    for (int i = 0; i < k; i++) {
        switch (votes[i]) {
        case RRM_PICK_A:
            r.n_a++;
            break;
        case RRM_PICK_B:
            r.n_b++;
            break;
        case RRM_PICK_NONE:
            r.n_invalid++;
            break;
        default:
            return rrm_errf(err, RRM_E_INVAL, "vote: vote %d of %d is %d, not an RRM_PICK_* value",
                            i, k, votes[i]);
        }
    }
    r.n_votes = k;
    int valid = r.n_a + r.n_b;
    if (r.n_a > r.n_b) {
        r.winner = RRM_PICK_A;
        r.confidence = (double)r.n_a / valid;
    } else if (r.n_b > r.n_a) {
        r.winner = RRM_PICK_B;
        r.confidence = (double)r.n_b / valid;
    } else {
        r.winner = RRM_PICK_NONE;
        r.confidence = valid ? 0.5 : 0.0;
    }
    *out = r;
    return RRM_OK;
}

/* The outcome is fixed iff the leader cannot be caught: giving every remaining vote to the
 * trailing side must still leave it behind. With |n_a - n_b| <= remaining the trailing side can
 * at least tie (and a tie can be broken either way), so more votes may matter. */
int rrm_vote_decided(int n_a, int n_b, int remaining)
{
    if (n_a < 0 || n_b < 0 || remaining < 0) return 0;
    if (remaining == 0) return 1;
    long long d = (long long)n_a - n_b;
    if (d < 0) d = -d;
    return d > remaining;
}
