/*
 * cmd_judge.c — `rrm judge` (one comparison, k votes, optionally both orders) and `rrm rank`
 * (N candidates by ELO or knockout). JSON with --json, readable text otherwise; a progress line
 * on stderr for long runs when stderr is a terminal. Both report prompt tokens submitted,
 * computed (prefill) and reused from prefixes shared between comparisons; --no-prefix-share
 * turns the sharing off (same verdicts, more prefill).
 */
#define _DEFAULT_SOURCE
#include "cli/cli.h"
#include "core/core.h"
#include "judge/judge.h"
#include "rank/rank.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_MAX ((size_t)64 << 20)

struct judge_opts {
    const char *model, *query, *query_file, *resp_a, *resp_b, *input, *tmpl, *strategy;
    long long k, seed, max_tokens, think_budget, threads, n_ctx, top_k, index;
    double temp, top_p, min_p;
    int json, dry_run, both_orders, early_stop, kv_f16, seq_elo, quiet, text, no_share;
};

static int parse_opts(int argc, char **argv, struct judge_opts *o)
{
    memset(o, 0, sizeof *o);
    rrm_judge_params d = rrm_judge_default_params();
    o->k = 1;
    o->max_tokens = d.max_new_tokens;
    o->threads = 1;
    o->temp = d.sampling.temperature;
    o->top_p = d.sampling.top_p;
    o->strategy = "elo";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define STR(flag, field)                                                                   \
    if (strcmp(a, flag) == 0) {                                                            \
        if (!v) goto missing;                                                              \
        o->field = v;                                                                      \
        i++;                                                                               \
        continue;                                                                          \
    }
#define INT(flag, field, lo, hi)                                                           \
    if (strcmp(a, flag) == 0) {                                                            \
        if (!v) goto missing;                                                              \
        if (cli_int(flag, v, lo, hi, &o->field) != 0) return -1;                           \
        i++;                                                                               \
        continue;                                                                          \
    }
#define FLT(flag, field, lo, hi)                                                           \
    if (strcmp(a, flag) == 0) {                                                            \
        if (!v) goto missing;                                                              \
        if (cli_float(flag, v, lo, hi, &o->field) != 0) return -1;                         \
        i++;                                                                               \
        continue;                                                                          \
    }
#define FLAG(flag, field)                                                                  \
    if (strcmp(a, flag) == 0) {                                                            \
        o->field = 1;                                                                      \
        continue;                                                                          \
    }
        STR("-m", model) STR("--model", model) STR("--query", query) STR("--query-file", query_file)
        STR("--response-a", resp_a) STR("--response-b", resp_b) STR("--input", input)
        STR("--template", tmpl) STR("--strategy", strategy)
        INT("-k", k, 1, 4096) INT("--seed", seed, 0, INT64_MAX)
        INT("--max-tokens", max_tokens, 1, 1 << 20) INT("--think-budget", think_budget, 0, 1 << 20)
        INT("-t", threads, 1, 512) INT("--threads", threads, 1, 512)
        INT("--n-ctx", n_ctx, 0, 1 << 20) INT("--top-k", top_k, 0, 1 << 24)
        INT("--index", index, 0, INT64_MAX)
        FLT("--temp", temp, 0, 100) FLT("--top-p", top_p, 0, 1) FLT("--min-p", min_p, 0, 1)
        FLAG("--json", json) FLAG("--dry-run", dry_run) FLAG("--both-orders", both_orders)
        FLAG("--early-stop", early_stop) FLAG("--kv-f16", kv_f16)
        FLAG("--sequential-elo", seq_elo) FLAG("-q", quiet) FLAG("--text", text)
        FLAG("--no-prefix-share", no_share)
#undef STR
#undef INT
#undef FLT
#undef FLAG
        fprintf(stderr, "rrm %s: unknown option '%s'\n", argv[0], a);
        return -1;
    missing:
        fprintf(stderr, "rrm %s: %s needs a value\n", argv[0], a);
        return -1;
    }
    return 0;
}

static int progress_line(uint64_t done, uint64_t total, void *user)
{
    (void)user;
    static double last;
    double now = rrm_time_s();
    if (now - last < 0.5 && done < total) return 0;
    last = now;
    fprintf(stderr, "\r  %llu / %llu tokens", (unsigned long long)done,
            (unsigned long long)total);
    return 0;
}

static int open_judge(const struct judge_opts *o, rrm_judge **j, rrm_err *err)
{
    rrm_judge_params p = rrm_judge_default_params();
    p.k = (int)o->k;
    p.sampling.temperature = (float)o->temp;
    p.sampling.top_p = (float)o->top_p;
    p.sampling.top_k = (int)o->top_k;
    p.sampling.min_p = (float)o->min_p;
    p.max_new_tokens = o->max_tokens;
    p.think_budget = o->think_budget;
    p.seed = (uint64_t)o->seed;
    p.early_stop = o->early_stop;
    p.n_threads = (int)o->threads;
    p.n_ctx = o->n_ctx;
    p.kv_type = o->kv_f16 ? RRM_KV_F16 : RRM_KV_F32;
    p.template_name = o->tmpl;
    p.prefix_share = !o->no_share;
    if (!o->quiet && !o->json && isatty(2)) p.progress = progress_line;
    return rrm_judge_open(j, o->model, &p, err);
}

static const char *finish_name(int f)
{
    static const char *const names[] = {"running", "eos", "length", "cancelled", "not_run"};
    return f >= 0 && f <= 4 ? names[f] : "?";
}

static json_t *result_json(const rrm_judge_result *r)
{
    json_t *o = json_object(), *votes = json_array();
    json_object_set_new(o, "swapped", json_boolean(r->swapped));
    json_object_set_new(o, "prompt_tokens", json_integer(r->n_prompt));
    json_object_set_new(o, "max_new_tokens", json_integer(r->max_new_tokens));
    const char *w = judge_pick_name(r->tally.winner);
    json_object_set_new(o, "winner", w ? json_string(w) : json_null());
    json_object_set_new(o, "tally", judge_vote_json(&r->tally));
    for (int i = 0; i < r->k; i++) {
        const rrm_judge_vote *v = &r->votes[i];
        json_t *x = json_object();
        json_object_set_new(x, "verdict", json_string(rrm_verdict_name(v->verdict)));
        json_object_set_new(x, "reason", json_string(rrm_verdict_reason_name(v->reason)));
        const char *p = judge_pick_name(v->pick);
        json_object_set_new(x, "pick", p ? json_string(p) : json_null());
        json_object_set_new(x, "finish", json_string(finish_name(v->finish)));
        json_object_set_new(x, "tokens", json_integer(v->n_tokens));
        json_object_set_new(x, "forced_close", json_boolean(v->forced_close));
        /* Decoded text is valid UTF-8 (invalid bytes became U+FFFD), so Jansson accepts it. */
        json_t *t = json_stringn(v->text ? v->text : "", v->text_len);
        json_object_set_new(x, "text", t ? t : json_null());
        json_array_append_new(votes, x);
    }
    json_object_set_new(o, "votes", votes);
    return o;
}

static int print_json(json_t *j)
{
    char *s = NULL;
    rrm_err err = {0};
    int rc = j ? rrm_json_dump(j, JSON_INDENT(2), &s, &err) : RRM_E_NOMEM;
    json_decref(j);
    if (rc != RRM_OK) return cli_fail("json", &err);
    printf("%s\n", s);
    rrm_free(s);
    return 0;
}

static int read_text(const char *flag, const char *path, char **out, size_t *len)
{
    rrm_err err = {0};
    if (rrm_read_file(path, TEXT_MAX, out, len, &err) != RRM_OK) {
        fprintf(stderr, "rrm judge: %s: %s (%s)\n", flag, err.msg, rrm_status_name(err.code));
        return -1;
    }
    return 0;
}

static void print_result(const char *label, const rrm_judge_result *r, int text)
{
    const char *w = judge_pick_name(r->tally.winner);
    printf("%s (Assistant 1 = %s): %s — A %d, B %d, invalid %d of %d votes, confidence %.2f\n",
           label, r->swapped ? "B" : "A", w ? w : "no decision",
           r->tally.n_a, r->tally.n_b, r->tally.n_invalid, r->tally.n_votes, r->tally.confidence);
    for (int i = 0; i < r->k; i++) {
        const rrm_judge_vote *v = &r->votes[i];
        printf("  vote %d: %s (%s), %lld tokens, %s%s\n", i + 1, rrm_verdict_name(v->verdict),
               rrm_verdict_reason_name(v->reason), (long long)v->n_tokens, finish_name(v->finish),
               v->forced_close ? ", thought closed by the budget" : "");
        if (text) {
            fputs("  ----\n", stdout);
            fwrite(v->text, 1, v->text_len, stdout);
            fputs("\n  ----\n", stdout);
        }
    }
}

/* Prompt accounting: tokens submitted, computed, and reused from shared prefixes. */
static void stats_json(json_t *top, const rrm_judge_stats *st)
{
    json_object_set_new(top, "prompt_tokens_total", json_integer(st->prompt_tokens));
    json_object_set_new(top, "prefill_tokens", json_integer(st->prefill_tokens));
    json_object_set_new(top, "prefix_reused_tokens", json_integer(st->prefix_reused_tokens));
}

static void print_stats(const rrm_judge_stats *st)
{
    printf("%lld prompt tokens (%lld computed, %lld from shared prefixes) + %lld generated in "
           "%lld forwards, %.2f s\n",
           (long long)st->prompt_tokens, (long long)st->prefill_tokens,
           (long long)st->prefix_reused_tokens, (long long)st->decode_tokens,
           (long long)st->forwards, st->seconds);
}

int cli_judge(int argc, char **argv)
{
    const char *usage =
        "usage: rrm judge -m MODEL (--query TEXT | --query-file F) --response-a F --response-b F\n"
        "       [-k N] [--seed S] [--max-tokens N] [--think-budget N] [--both-orders]\n"
        "       [--early-stop] [--temp T] [--top-p P] [--top-k K] [-t N] [--n-ctx N] [--kv-f16]\n"
        "       [--template NAME] [--index I] [--no-prefix-share] [--json] [--dry-run] [--text]\n";
    struct judge_opts o;
    if (parse_opts(argc, argv, &o) != 0 || !o.model || (!o.query == !o.query_file) ||
        !o.resp_a || !o.resp_b) {
        fputs(usage, stderr);
        return 2;
    }
    cli_log_init(0);
    rrm_json_init();
    char *q = NULL, *a = NULL, *b = NULL;
    size_t ql = 0, al = 0, bl = 0;
    int code = 1;
    rrm_judge *j = NULL;
    rrm_err err = {0};
    if (o.query_file && read_text("--query-file", o.query_file, &q, &ql) != 0) goto done;
    if (read_text("--response-a", o.resp_a, &a, &al) != 0 ||
        read_text("--response-b", o.resp_b, &b, &bl) != 0)
        goto done;
    const char *qt = o.query ? o.query : q;
    if (o.query) ql = strlen(o.query);
    if (open_judge(&o, &j, &err) != RRM_OK) {
        code = cli_fail("judge", &err);
        goto done;
    }
    rrm_judge_pair pairs[2] = {
        {qt, a, b, ql, al, bl, (uint64_t)o.index, o.both_orders ? 0 : -1},
        {qt, a, b, ql, al, bl, (uint64_t)o.index, 1},
    };
    int n = o.both_orders ? 2 : 1;
    if (o.dry_run) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) {
            char *text = NULL;
            size_t tl = 0;
            int32_t *ids = NULL;
            int64_t ni = 0;
            int sw = 0;
            if (rrm_judge_prompt(j, &pairs[i], &text, &tl, &ids, &ni, &sw, &err) != RRM_OK) {
                json_decref(arr);
                code = cli_fail("judge", &err);
                goto done;
            }
            if (!o.json) {
                fwrite(text, 1, tl, stdout);
                printf("\n-- %lld ids, Assistant 1 = %s\n", (long long)ni, sw ? "B" : "A");
            }
            json_t *x = json_object(), *idv = json_array();
            json_object_set_new(x, "swapped", json_boolean(sw));
            json_object_set_new(x, "prompt", json_stringn(text, tl));
            for (int64_t k = 0; k < ni; k++) json_array_append_new(idv, json_integer(ids[k]));
            json_object_set_new(x, "ids", idv);
            json_object_set_new(x, "n_ids", json_integer(ni));
            json_array_append_new(arr, x);
            rrm_text_free(text);
            rrm_tokens_free(ids);
        }
        if (o.json) {
            json_t *top = n == 1 ? json_incref(json_array_get(arr, 0)) : json_incref(arr);
            json_decref(arr);
            code = print_json(top);
        } else {
            json_decref(arr);
            code = 0;
        }
        goto done;
    }
    rrm_judge_result res[2];
    rrm_judge_stats st;
    if (rrm_judge_run(j, pairs, n, res, &st, &err) != RRM_OK) {
        if (isatty(2) && !o.json && !o.quiet) fputc('\n', stderr);
        code = cli_fail("judge", &err);
        goto done;
    }
    if (isatty(2) && !o.json && !o.quiet) fputc('\n', stderr);
    /* Both orders: the combined tally counts every vote of both. */
    rrm_vote_result all = res[0].tally;
    if (n == 2) {
        int picks[8192], np = 0;
        for (int r = 0; r < 2; r++)
            for (int i = 0; i < res[r].k; i++)
                if (res[r].votes[i].finish != 4) picks[np++] = res[r].votes[i].pick;
        rrm_vote_tally(picks, np, &all, NULL);
    }
    if (o.json) {
        json_t *top = json_object();
        json_object_set_new(top, "model", json_string(o.model));
        json_object_set_new(top, "k", json_integer(o.k));
        json_object_set_new(top, "seed", json_integer(o.seed));
        const char *w = judge_pick_name(all.winner);
        json_object_set_new(top, "winner", w ? json_string(w) : json_null());
        json_object_set_new(top, "tally", judge_vote_json(&all));
        if (n == 2) {
            json_t *ords = json_array();
            for (int r = 0; r < 2; r++) json_array_append_new(ords, result_json(&res[r]));
            json_object_set_new(top, "orders", ords);
            json_object_set_new(top, "consistent",
                                json_boolean(res[0].tally.winner == res[1].tally.winner));
        } else {
            json_t *r0 = result_json(&res[0]);
            json_object_update(top, r0);
            json_decref(r0);
            json_object_set_new(top, "winner", w ? json_string(w) : json_null());
            json_object_set_new(top, "tally", judge_vote_json(&all));
        }
        json_object_set_new(top, "tokens_generated", json_integer(st.decode_tokens));
        stats_json(top, &st);
        json_object_set_new(top, "forwards", json_integer(st.forwards));
        json_object_set_new(top, "seconds", json_real(st.seconds));
        code = print_json(top);
    } else {
        for (int r = 0; r < n; r++) print_result(n == 2 ? (r ? "order B-A" : "order A-B") : "verdict", &res[r], o.text);
        const char *w = judge_pick_name(all.winner);
        if (n == 2)
            printf("both orders: %s (A %d, B %d, invalid %d)%s\n", w ? w : "no decision", all.n_a,
                   all.n_b, all.n_invalid,
                   res[0].tally.winner == res[1].tally.winner ? "" : " — the orders disagree");
        print_stats(&st);
        code = 0;
    }
    for (int r = 0; r < n; r++) rrm_judge_result_free(&res[r]);
done:
    rrm_judge_close(j);
    rrm_free(q);
    rrm_free(a);
    rrm_free(b);
    return code;
}

int cli_rank(int argc, char **argv)
{
    const char *usage =
        "usage: rrm rank -m MODEL --input FILE.json [--strategy elo|knockout] [-k N] [--seed S]\n"
        "       [--sequential-elo] [--max-tokens N] [--think-budget N] [-t N] [--no-prefix-share]\n"
        "       [--json]\n"
        "FILE.json: {\"query\": \"...\", \"candidates\": [\"...\", ...]}\n";
    struct judge_opts o;
    if (parse_opts(argc, argv, &o) != 0 || !o.model || !o.input ||
        (strcmp(o.strategy, "elo") != 0 && strcmp(o.strategy, "knockout") != 0)) {
        fputs(usage, stderr);
        return 2;
    }
    cli_log_init(0);
    rrm_json_init();
    rrm_err err = {0};
    json_t *in = NULL;
    const char **cands = NULL;
    size_t *lens = NULL;
    rrm_judge *j = NULL;
    rrm_rank_result *rr = NULL;
    int code = 1;
    if (rrm_json_load_file(&in, o.input, TEXT_MAX, &err) != RRM_OK) {
        code = cli_fail("rank", &err);
        goto done;
    }
    json_t *q = json_object_get(in, "query"), *c = json_object_get(in, "candidates");
    if (!json_is_string(q) || !json_is_array(c) || json_array_size(c) < 1) {
        fprintf(stderr, "rrm rank: %s: needs \"query\" (a string) and \"candidates\" (a non-empty "
                        "array of strings)\n", o.input);
        goto done;
    }
    size_t n = json_array_size(c);
    if (n > RRM_RANK_MAX_ELO && strcmp(o.strategy, "elo") == 0) {
        fprintf(stderr, "rrm rank: %zu candidates, ELO takes at most %d\n", n, RRM_RANK_MAX_ELO);
        goto done;
    }
    cands = calloc(n, sizeof *cands);
    lens = calloc(n, sizeof *lens);
    if (!cands || !lens) goto done;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(c, i);
        if (!json_is_string(x)) {
            fprintf(stderr, "rrm rank: %s: candidates[%zu] is not a string\n", o.input, i);
            goto done;
        }
        cands[i] = json_string_value(x);
        lens[i] = json_string_length(x);
    }
    if (open_judge(&o, &j, &err) != RRM_OK) {
        code = cli_fail("rank", &err);
        goto done;
    }
    rrm_judge_rank_ctx rc;
    memset(&rc, 0, sizeof rc);
    rc.judge = j;
    rc.query = json_string_value(q);
    rc.query_len = json_string_length(q);
    rc.candidates = cands;
    rc.candidate_lens = lens;
    rc.n_candidates = (int)n;
    rrm_rank_params rp = rrm_rank_default_params();
    rp.strategy = strcmp(o.strategy, "knockout") == 0 ? RRM_RANK_KNOCKOUT : RRM_RANK_ELO;
    rp.k = (int)o.k;
    rp.seed = (uint64_t)o.seed;
    rp.sequential_elo = o.seq_elo;
    if (rrm_rank_run((int)n, &rp, rrm_judge_compare, &rc, &rr, &err) != RRM_OK) {
        code = cli_fail("rank", &err);
        goto done;
    }
    if (o.json) {
        json_t *top = rank_result_json(rr);
        if (top) {
            json_object_set_new(top, "model", json_string(o.model));
            json_object_set_new(top, "tokens_generated", json_integer(rc.stats.decode_tokens));
            stats_json(top, &rc.stats);
            json_object_set_new(top, "forwards", json_integer(rc.stats.forwards));
            json_object_set_new(top, "seconds", json_real(rc.stats.seconds));
        }
        code = print_json(top);
    } else {
        printf("%s over %zu candidates: %d matches in %d round(s), best = candidate %d\n",
               o.strategy, n, rr->n_matches, rr->n_rounds, rr->best);
        for (size_t i = 0; i < n; i++) {
            int cnd = rr->order[i];
            printf("  %3d. candidate %d", rr->place[cnd], cnd);
            if (rr->rating) printf("  rating %7.1f", rr->rating[cnd]);
            printf("  won %lld lost %lld invalid %lld\n", (long long)rr->wins[cnd],
                   (long long)rr->losses[cnd], (long long)rr->invalid[cnd]);
        }
        print_stats(&rc.stats);
        code = 0;
    }
done:
    rrm_rank_result_free(rr);
    rrm_judge_close(j);
    free(cands);
    free(lens);
    json_decref(in);
    return code;
}
