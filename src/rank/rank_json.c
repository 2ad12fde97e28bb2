/*
 * rank_json.c — a ranking result as JSON for `rrm rank --json` and the server:
 * {"strategy": "elo"|"knockout", "n", "k", "matches_played", "rounds", "comparator_calls",
 *  "best", "order": [...], "place": [...], "ratings": [...] | null, "seq_elo": [...] | null,
 *  "bt_iters", "candidates": [{"index", "wins", "losses", "invalid"}],
 *  "matches": [{"round", "index", "a", "b", "swapped", "votes_a", "votes_b", "invalid",
 *               "winner": i | null, "by_coin"}],
 *  "byes": [i | null per round]}   (votes_a / votes_b are mapped back to the caller's a / b)
 */
#include "rank/rank.h"

#include <jansson.h>
#include <math.h>

static int put(json_t *obj, const char *key, json_t *val)
{
    return val ? json_object_set_new(obj, key, val) : -1;
}

static int append(json_t *arr, json_t *val)
{
    return val ? json_array_append_new(arr, val) : -1;
}

static json_t *int_array(const int32_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        if (append(a, v[i] < 0 ? json_null() : json_integer(v[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Ratings rounded to 1e-6 (the fit's tolerance is far below) so the text is stable. */
static json_t *real_array(const double *v, int n)
{
    if (!v) return json_null();
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        double x = isfinite(v[i]) ? round(v[i] * 1e6) / 1e6 : 0.0;
        if (append(a, json_real(x))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *match_json(const rrm_rank_result *r, int m)
{
    const rrm_match *x = &r->matches[m];
    int va, vb;
    rank_match_votes(r, m, &va, &vb);
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = put(o, "round", json_integer(x->round));
    bad |= put(o, "index", json_integer((json_int_t)x->index));
    bad |= put(o, "a", json_integer(x->a));
    bad |= put(o, "b", json_integer(x->b));
    bad |= put(o, "swapped", json_boolean(x->swapped));
    bad |= put(o, "votes_a", json_integer(va));
    bad |= put(o, "votes_b", json_integer(vb));
    bad |= put(o, "invalid", json_integer(r->votes[m].n_invalid));
    bad |= put(o, "winner", r->winner[m] < 0 ? json_null() : json_integer(r->winner[m]));
    bad |= put(o, "by_coin", json_boolean(r->by_coin[m]));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *candidates_json(const rrm_rank_result *r)
{
    json_t *a = json_array();
    for (int i = 0; a && i < r->n; i++) {
        json_t *o =
            json_pack("{s:i,s:I,s:I,s:I}", "index", i, "wins", (json_int_t)r->wins[i], "losses",
                      (json_int_t)r->losses[i], "invalid", (json_int_t)r->invalid[i]);
        if (append(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *rank_result_json(const rrm_rank_result *r)
{
    rrm_json_init();
    json_t *o = json_object();
    if (!o || !r) goto fail;
    int ko = r->strategy == RRM_RANK_KNOCKOUT;
    int bad = put(o, "strategy", json_string(ko ? "knockout" : "elo"));
    bad |= put(o, "n", json_integer(r->n));
    bad |= put(o, "k", json_integer(r->k));
    bad |= put(o, "matches_played", json_integer(r->n_matches));
    bad |= put(o, "rounds", json_integer(r->n_rounds));
    bad |= put(o, "comparator_calls", json_integer(r->n_calls));
    bad |= put(o, "best", json_integer(r->best));
    bad |= put(o, "order", int_array(r->order, r->n));
    bad |= put(o, "place", int_array(r->place, r->n));
    bad |= put(o, "ratings", real_array(r->rating, r->n));
    bad |= put(o, "seq_elo", real_array(r->seq_elo, r->n));
    bad |= put(o, "bt_iters", json_integer(r->bt_iters));
    bad |= put(o, "candidates", candidates_json(r));
    json_t *ms = json_array();
    bad |= put(o, "matches", ms);
    for (int m = 0; !bad && m < r->n_matches; m++)
        bad |= append(ms, match_json(r, m));
    bad |= put(o, "byes", ko ? int_array(r->bye, r->n_rounds) : json_array());
    if (bad) goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}
