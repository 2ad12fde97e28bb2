/*
 * rank.h — internal interface of src/rank: ranking N candidates with an injected comparator
 * (public API in include/rrm.h, "judge and rank"). ELO = every pair, Bradley–Terry fit on the
 * Elo scale plus optional sequential Elo (elo.c, bt.c); knockout = seeded bracket with byes
 * (knockout.c); shared plumbing — result allocation, seeded shuffles, comparator calls with
 * validation and vote tallies — in rank.c; JSON in rank_json.c. DESIGN.md §5.
 */
#ifndef RRM_RANK_H
#define RRM_RANK_H

#include "judge/judge.h"

/* Tags that separate the seeded streams of one run (schedule shuffle, knockout coins) from the
 * position-order stream of rrm_judge_swap(seed, index). */
#define RANK_TAG_SHUFFLE 0x53485546464c4500ull /* "SHUFFLE" */
#define RANK_TAG_COIN 0x434f494e00000000ull    /* "COIN" */

/* Allocates a zeroed result with arrays for n candidates, n_matches matches and n_rounds
 * rounds; rating / seq_elo only when asked. Free with rrm_rank_result_free. */
int rank_result_new(rrm_rank_result **out, const rrm_rank_params *p, int n, int n_matches,
                    int n_rounds, int want_rating, int want_seq, rrm_err *err);

/* Fisher–Yates shuffle of v[0..n) with xoshiro256** seeded by seed ^ RANK_TAG_SHUFFLE
 * (unbiased: rejection sampling for each index). */
void rank_shuffle(int32_t *v, int n, uint64_t seed);

/* Fills r->matches[m] for candidates a, b in round `round` (index m, swapped from the seed). */
void rank_set_match(rrm_rank_result *r, const rrm_rank_params *p, int m, int a, int b, int round);

/* Plays r->matches[first .. first+count): comparator calls of at most p->max_batch matches (0 =
 * all at once), each answer validated (non-negative, at most k votes), stored in r->votes and
 * added to the per-candidate tallies; progress after each call. Errors: the comparator's,
 * RRM_E_INVAL (bad votes), RRM_E_CANCELLED. */
int rank_play(rrm_rank_result *r, const rrm_rank_params *p, rrm_compare_fn cmp, void *user,
              int first, int count, rrm_err *err);

/* Votes of match m for its a and b (mapped back from presented positions). */
void rank_match_votes(const rrm_rank_result *r, int m, int *va, int *vb);

int rank_elo(rrm_rank_result *r, const rrm_rank_params *p, rrm_compare_fn cmp, void *user,
             rrm_err *err);
int rank_knockout(rrm_rank_result *r, const rrm_rank_params *p, rrm_compare_fn cmp, void *user,
                  rrm_err *err);

/* The whole result as JSON (new reference, NULL on OOM); see rank_json.c for the layout. */
json_t *rank_result_json(const rrm_rank_result *r);

#endif /* RRM_RANK_H */
