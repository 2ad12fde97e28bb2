/*
 * judge_json.c — JSON values for one verdict and one vote tally, for `rrm judge --json` and the
 * server. Builders return a new reference (json_decref) or NULL when memory runs out; any
 * allocation failure inside releases everything built so far.
 */
#include "judge/judge.h"

#include <jansson.h>

const char *judge_pick_name(int pick)
{
    if (pick == RRM_PICK_A) return "A";
    if (pick == RRM_PICK_B) return "B";
    return NULL;
}

/* Sets obj[key] = val (stealing val); 0 on success. A NULL val (a failed constructor) fails. */
static int put(json_t *obj, const char *key, json_t *val)
{
    return val ? json_object_set_new(obj, key, val) : -1;
}

json_t *judge_verdict_json(const rrm_verdict_info *v, const char *text, size_t len)
{
    rrm_json_init();
    json_t *o = json_object();
    if (!o || !v) goto fail;
    int bad = put(o, "verdict", json_string(rrm_verdict_name(v->verdict)));
    bad |= put(o, "reason", json_string(rrm_verdict_reason_name(v->reason)));
    bad |= put(o, "has_think_end", json_boolean(v->has_think_end));
    bad |= put(o, "answer_begin", json_integer((json_int_t)v->answer_begin));
    if (v->box_end > v->box_begin && v->box_end <= len && text) {
        bad |= put(o, "box", json_pack("[II]", (json_int_t)v->box_begin, (json_int_t)v->box_end));
        const char *p = text + v->box_begin;
        size_t n = v->box_end - v->box_begin;
        int utf8 = judge_check_text("box", p, n, NULL) == RRM_OK;
        bad |= put(o, "box_text", utf8 ? json_stringn(p, n) : json_null());
    } else {
        bad |= put(o, "box", json_null());
        bad |= put(o, "box_text", json_null());
    }
    if (bad) goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *judge_vote_json(const rrm_vote_result *v)
{
    rrm_json_init();
    json_t *o = json_object();
    if (!o || !v) goto fail;
    const char *w = judge_pick_name(v->winner);
    int bad = put(o, "winner", w ? json_string(w) : json_null());
    bad |= put(o, "a", json_integer(v->n_a));
    bad |= put(o, "b", json_integer(v->n_b));
    bad |= put(o, "invalid", json_integer(v->n_invalid));
    bad |= put(o, "votes", json_integer(v->n_votes));
    bad |= put(o, "confidence", json_real(v->confidence));
    if (bad) goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}
