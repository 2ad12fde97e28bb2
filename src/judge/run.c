/*
 * run.c — a judge model end to end (DESIGN.md §1): messages → chat template (with the spans of
 * user content) → ids (content as plain text) → engine (one prefill per comparison, k forked
 * votes, every comparison of a call submitted at once so they share the forwards, and with
 * prefix_share the engine prefills a prefix of ids common to several comparisons — system
 * prompt + query, or up to the end of a shared first response — only once) → text → verdict →
 * votes. The engine lives as long as the context, and with prefix_share it retains the prompts
 * of finished comparisons (JUDGE_RETAIN at most), so the next call — a knockout's next round, an
 * eval's next batch — starts from the system prompt + query already computed.
 *
 * Seeds: vote i of comparison c samples with seed mix(seed, c.index) + i, so a comparison's
 * votes do not depend on which other comparisons share the call (the forward does not either).
 * Early stopping cancels a comparison's remaining votes once rrm_vote_decided says the finished
 * ones settle the majority; the cancelled votes are reported as not run (finish 4).
 */
#include "judge/judge.h"
#include "engine/engine.h"

#include <stdlib.h>

#define JUDGE_KV_BLOCK 16
#define JUDGE_MAX_CTX ((int64_t)1 << 20)
#define JUDGE_MAX_SEQ 1024
#define FINISH_NOT_RUN 4
#define JUDGE_RETAIN 8

struct rrm_judge {
    rrm_judge_params p;
    rrm_model *model;
    rrm_model_info info;
    rrm_tokenizer *tok;
    rrm_template *tpl;
    rrm_ctx *ctx;           /* made lazily, grown when a run needs more */
    struct eng *eng;        /* over ctx; made and dropped with it */
    int64_t ctx_tokens;
    int ctx_seqs;
    int32_t think_end, eos;
    int32_t *close;         /* ids of "\n</think>\n\n" */
    int64_t n_close;
};

rrm_judge_params rrm_judge_default_params(void)
{
    rrm_judge_params p = {0};
    p.k = 1;
    p.sampling = rrm_sampler_default_params();
    p.max_new_tokens = 8192;
    p.n_threads = 1;
    p.n_batch = 512;
    p.prefix_share = 1;
    p.kv_type = RRM_KV_F32;
    return p;
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void rrm_judge_close(rrm_judge *j)
{
    if (!j) return;
    eng_free(j->eng);
    rrm_ctx_free(j->ctx);
    rrm_template_free(j->tpl);
    rrm_tokenizer_free(j->tok);
    rrm_model_free(j->model);
    rrm_free(j->close);
    rrm_free(j);
}

const rrm_model *rrm_judge_model(const rrm_judge *j)
{
    return j ? j->model : NULL;
}

int rrm_judge_open(rrm_judge **out, const char *path, const rrm_judge_params *p, rrm_err *err)
{
    if (!out || !path) return rrm_errf(err, RRM_E_INVAL, "rrm_judge_open: NULL argument");
    *out = NULL;
    rrm_judge_params d = p ? *p : rrm_judge_default_params();
    if (d.k < 1 || d.k > 4096)
        return rrm_errf(err, RRM_E_INVAL, "judge: k = %d votes, must be 1..4096", d.k);
    if (d.max_new_tokens < 1)
        return rrm_errf(err, RRM_E_INVAL, "judge: max_new_tokens %lld < 1",
                        (long long)d.max_new_tokens);
    if (d.think_budget < 0 || d.n_threads < 1 || d.n_batch < 1 || d.n_ctx < 0 ||
        d.n_ctx > JUDGE_MAX_CTX)
        return rrm_errf(err, RRM_E_INVAL,
                        "judge: bad parameters (think_budget %lld, threads %d, batch %d, n_ctx "
                        "%lld)",
                        (long long)d.think_budget, d.n_threads, d.n_batch, (long long)d.n_ctx);
    rrm_judge *j = rrm_calloc(1, sizeof *j);
    if (!j) return rrm_errf(err, RRM_E_NOMEM, "judge: out of memory");
    j->p = d;
    int rc = rrm_model_load(&j->model, path, NULL, err);
    if (rc == RRM_OK) rc = rrm_tokenizer_load(&j->tok, path, err);
    if (rc == RRM_OK) rc = rrm_template_load(&j->tpl, path, d.template_name, err);
    if (rc == RRM_OK) {
        rrm_model_get_info(j->model, &j->info);
        j->eos = rrm_tokenizer_eos(j->tok);
        if (j->eos < 0) j->eos = j->info.eos_id;
        j->think_end = rrm_token_id(j->tok, "</think>", 8);
        if (rrm_tokenizer_n_vocab(j->tok) > j->info.n_vocab)
            rc = rrm_errf(err, RRM_E_FORMAT,
                          "judge: the tokenizer has %lld ids but the model only %lld rows",
                          (long long)rrm_tokenizer_n_vocab(j->tok), (long long)j->info.n_vocab);
    }
    if (rc == RRM_OK && d.think_budget > 0) {
        if (j->think_end < 0)
            rc = rrm_errf(err, RRM_E_UNSUPPORTED,
                          "judge: a thinking budget needs a </think> token; this tokenizer has "
                          "none");
        else
            rc = rrm_tokenize_alloc(j->tok, "\n</think>\n\n", 11, 0, &j->close, &j->n_close, err);
    }
    if (rc != RRM_OK) {
        rrm_judge_close(j);
        return rc;
    }
    *out = j;
    return RRM_OK;
}

static int presented(const rrm_judge *j, const rrm_judge_pair *pr)
{
    return pr->swap < 0 ? rrm_judge_swap(j->p.seed, pr->index) : (pr->swap != 0);
}

int rrm_judge_prompt(rrm_judge *j, const rrm_judge_pair *pr, char **text, size_t *text_len,
                     int32_t **ids, int64_t *n_ids, int *swapped, rrm_err *err)
{
    if (!j || !pr || !ids || !n_ids)
        return rrm_errf(err, RRM_E_INVAL, "rrm_judge_prompt: NULL argument");
    int sw = presented(j, pr);
    const char *r1 = sw ? pr->b : pr->a, *r2 = sw ? pr->a : pr->b;
    size_t l1 = sw ? pr->b_len : pr->a_len, l2 = sw ? pr->a_len : pr->b_len;
    rrm_judge_messages m;
    int rc = rrm_judge_messages_build(&m, pr->query, pr->query_len, r1, l1, r2, l2, err);
    if (rc != RRM_OK) return rc;
    rrm_message msgs[2] = {{"system", m.system}, {"user", m.user}};
    char *t = NULL;
    size_t tl = 0, n_spans = 0;
    rrm_span *spans = NULL;
    rc = rrm_template_render_spans(j->tpl, msgs, 2, 1, &t, &tl, &spans, &n_spans, err);
    rrm_judge_messages_free(&m);
    if (rc != RRM_OK) return rc;
    rc = rrm_tokenize_spans_alloc(j->tok, t, tl, spans, n_spans, 0, ids, n_ids, err);
    rrm_template_text_free((char *)spans);
    if (rc == RRM_OK && text) {
        *text = t;
        if (text_len) *text_len = tl;
    } else {
        rrm_template_text_free(t);
    }
    if (rc == RRM_OK && swapped) *swapped = sw;
    return rc;
}

void rrm_judge_result_free(rrm_judge_result *r)
{
    if (!r) return;
    for (int i = 0; r->votes && i < r->k; i++) rrm_text_free(r->votes[i].text);
    rrm_free(r->votes);
    memset(r, 0, sizeof *r);
}

/* Per comparison of a run. */
struct job {
    int32_t *ids;
    int64_t n_ids, max_new;
    int swapped, req, done, stopped;
};

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* KV tokens one comparison may hold at most (the engine reserves this at admission). */
static int64_t job_tokens(const rrm_judge *j, const struct job *jb)
{
    int64_t b = JUDGE_KV_BLOCK;
    int64_t per = ceil_div(jb->max_new + j->n_close + 1, b) + 1;
    return (ceil_div(jb->n_ids, b) + (int64_t)j->p.k * per) * b;
}

static int ensure_ctx(rrm_judge *j, int64_t tokens, int seqs, rrm_err *err)
{
    if (j->ctx && j->eng && j->ctx_tokens >= tokens && j->ctx_seqs >= seqs) return RRM_OK;
    eng_free(j->eng);
    j->eng = NULL;
    rrm_ctx_free(j->ctx);
    j->ctx = NULL;
    rrm_ctx_params cp = rrm_ctx_default_params();
    cp.n_ctx = tokens;
    cp.n_seq_max = seqs;
    cp.n_batch_max = j->p.n_batch;
    cp.n_threads = j->p.n_threads;
    cp.kv_block = JUDGE_KV_BLOCK;
    cp.kv_type = j->p.kv_type;
    /* A forward asks logits for at most one row per live sequence (a decode row per running
     * vote, the last prompt row per comparison), so the logits buffer (rows x n_vocab floats,
     * 300 MB for 512 rows of a 152k vocabulary, zeroed at init) needs no more rows than that. */
    cp.n_logits_max = seqs < j->p.n_batch ? seqs : j->p.n_batch;
    int rc = rrm_ctx_init(&j->ctx, j->model, &cp, err);
    if (rc != RRM_OK) return rrm_err_prefix(err, "judge: context of %lld KV tokens",
                                            (long long)tokens);
    j->ctx_tokens = tokens;
    j->ctx_seqs = seqs;
    int retain = j->p.prefix_share ? (seqs < JUDGE_RETAIN ? seqs : JUDGE_RETAIN) : 0;
    struct eng_params ep = {j->p.n_batch, JUDGE_KV_BLOCK, seqs, j->p.prefix_share ? 0 : -1,
                            retain};
    return eng_init(&j->eng, j->ctx, j->model, &ep, err);
}

/* Decodes the finished votes of comparison i and tallies them; with early stopping cancels the
 * rest when the majority is settled. */
static int collect(rrm_judge *j, struct eng *e, struct job *jb, rrm_judge_result *r, int final,
                   rrm_err *err)
{
    int n_a = 0, n_b = 0, running = 0, picks[4096], n_picks = 0;
    for (int v = 0; v < r->k; v++) {
        rrm_judge_vote *vt = &r->votes[v];
        const int32_t *toks;
        int64_t nt;
        int fin;
        eng_result(e, jb->req, v, &toks, &nt, &fin);
        if (fin == ENG_RUNNING && !final) {
            running++;
            continue;
        }
        if (!vt->text) {
            if (jb->stopped && fin == ENG_CANCELLED) fin = FINISH_NOT_RUN;
            vt->finish = fin;
            vt->n_tokens = nt;
            vt->forced_close = eng_sample_forced(e, jb->req, v) > 0;
            int rc = rrm_detokenize_alloc(j->tok, toks, nt, 0, &vt->text, &vt->text_len, err);
            if (rc != RRM_OK) return rc;
            rrm_verdict_info vi;
            rrm_verdict_parse(vt->text, vt->text_len, &vi, NULL);
            vt->verdict = vi.verdict;
            vt->reason = vi.reason;
            vt->pick = rrm_judge_unswap(vi.verdict, jb->swapped);
        }
        if (vt->finish == FINISH_NOT_RUN) continue;
        picks[n_picks++] = vt->pick;
        n_a += vt->pick == RRM_PICK_A;
        n_b += vt->pick == RRM_PICK_B;
    }
    if (!final && running && j->p.early_stop && !jb->stopped && rrm_vote_decided(n_a, n_b, running)) {
        jb->stopped = 1;
        eng_cancel(e, jb->req);
        return collect(j, e, jb, r, 1, err);
    }
    if (running && !final) return RRM_OK;
    jb->done = 1;
    return rrm_vote_tally(picks, n_picks, &r->tally, err);
}

int rrm_judge_run(rrm_judge *j, const rrm_judge_pair *pairs, int n, rrm_judge_result *out,
                  rrm_judge_stats *stats, rrm_err *err)
{
    if (!j || (!pairs && n) || (!out && n) || n < 0)
        return rrm_errf(err, RRM_E_INVAL, "rrm_judge_run: bad arguments");
    double t0 = rrm_time_s();
    memset(out, 0, (size_t)n * sizeof *out);
    struct job *jobs = rrm_calloc((size_t)(n ? n : 1), sizeof *jobs);
    if (!jobs) return rrm_errf(err, RRM_E_NOMEM, "judge: out of memory for %d comparisons", n);
    struct eng *e = NULL;
    int rc = RRM_OK;
    int64_t need = 0, need_one = 0;
    int64_t n_ctx_train = j->info.n_ctx_train > 0 ? j->info.n_ctx_train : INT64_MAX;
    for (int i = 0; rc == RRM_OK && i < n; i++) {
        struct job *jb = &jobs[i];
        rc = rrm_judge_prompt(j, &pairs[i], NULL, NULL, &jb->ids, &jb->n_ids, &jb->swapped, err);
        if (rc != RRM_OK) {
            rrm_err_prefix(err, "judge: comparison %d", i);
            break;
        }
        if (jb->n_ids + 1 + j->n_close >= n_ctx_train) {
            rc = rrm_errf(err, RRM_E_LIMIT,
                          "judge: comparison %d: the prompt has %lld tokens, the model's context "
                          "is %lld: shorten the query or responses",
                          i, (long long)jb->n_ids, (long long)n_ctx_train);
            break;
        }
        jb->max_new = j->p.max_new_tokens;
        if (jb->max_new > n_ctx_train - jb->n_ids - j->n_close)
            jb->max_new = n_ctx_train - jb->n_ids - j->n_close;
        int64_t t = job_tokens(j, jb);
        need = j->p.n_ctx ? (t > need ? t : need) : need + t;
        if (t > need_one) need_one = t;
        out[i].swapped = jb->swapped;
        out[i].n_prompt = jb->n_ids;
        out[i].max_new_tokens = jb->max_new;
        out[i].k = j->p.k;
        out[i].votes = rrm_calloc((size_t)j->p.k, sizeof *out[i].votes);
        if (!out[i].votes) rc = rrm_errf(err, RRM_E_NOMEM, "judge: out of memory for votes");
    }
    if (rc == RRM_OK && j->p.n_ctx && need > j->p.n_ctx)
        rc = rrm_errf(err, RRM_E_LIMIT,
                      "judge: one comparison may need %lld KV tokens (prompt + %d votes x %lld new "
                      "tokens) but n_ctx is %lld",
                      (long long)need, j->p.k, (long long)j->p.max_new_tokens,
                      (long long)j->p.n_ctx);
    int64_t kv_cap = j->p.kv_max > 0 && j->p.kv_max < JUDGE_MAX_CTX ? j->p.kv_max : JUDGE_MAX_CTX;
    if (kv_cap < need_one) kv_cap = need_one;
    if (rc == RRM_OK && !j->p.n_ctx && need > kv_cap)
        need = kv_cap; /* comparisons then wait for each other's blocks */
    int seqs = n * j->p.k;
    if (seqs > JUDGE_MAX_SEQ) seqs = JUDGE_MAX_SEQ;
    if (seqs < j->p.k) seqs = j->p.k;
    if (rc == RRM_OK && n > 0) rc = ensure_ctx(j, j->p.n_ctx ? j->p.n_ctx : need, seqs, err);
    if (rc == RRM_OK && n > 0) e = j->eng;
    for (int i = 0; rc == RRM_OK && i < n; i++) {
        struct eng_request r = {0};
        r.prompt = jobs[i].ids;
        r.n_prompt = jobs[i].n_ids;
        r.n_samples = j->p.k;
        r.sampling = j->p.sampling;
        r.sampling.seed = splitmix(j->p.seed ^ splitmix(pairs[i].index + 1));
        r.max_new_tokens = jobs[i].max_new;
        r.think_budget = j->p.think_budget;
        r.think_end_id = j->think_end;
        r.think_close = j->close;
        r.n_think_close = (int)j->n_close;
        r.eos_id = j->eos;
        r.n_vocab_sample = rrm_tokenizer_n_vocab(j->tok); /* never the model's padding rows */
        int id = eng_submit(e, &r, err);
        if (id < 0) {
            rc = id;
            rrm_err_prefix(err, "judge: comparison %d", i);
        }
        jobs[i].req = id;
    }
    int64_t budget = 0, generated = 0;
    for (int i = 0; i < n; i++) budget += jobs[i].max_new * j->p.k;
    while (rc == RRM_OK && n > 0) {
        int more = eng_step(e, err);
        if (more < 0) {
            rc = more;
            break;
        }
        struct eng_stats st;
        eng_get_stats(e, &st);
        generated = st.decode_tokens;
        for (int i = 0; rc == RRM_OK && i < n; i++) {
            if (jobs[i].done) continue;
            rc = collect(j, e, &jobs[i], &out[i], more == 0, err);
            if (rc == RRM_OK && jobs[i].done && j->p.on_result)
                rc = j->p.on_result(i, &out[i], j->p.on_result_user, err);
        }
        if (rc == RRM_OK && j->p.progress &&
            j->p.progress((uint64_t)generated, (uint64_t)budget, j->p.progress_user))
            rc = rrm_errf(err, RRM_E_CANCELLED, "judge: cancelled after %lld tokens",
                          (long long)generated);
        if (!more) break;
    }
    if (stats) {
        memset(stats, 0, sizeof *stats);
        if (e) {
            struct eng_stats st;
            eng_get_stats(e, &st);
            stats->forwards = st.forwards;
            stats->prefill_tokens = st.prefill_tokens;
            stats->prompt_tokens = st.prompt_tokens;
            stats->prefix_reused_tokens = st.prefix_reused;
            stats->decode_tokens = st.decode_tokens;
            stats->max_batch_rows = st.max_batch_rows;
        }
        stats->seconds = rrm_time_s() - t0;
    }
    if (e) { /* results are copied out: forget the requests, keep the retained prompts */
        if (rc == RRM_OK) eng_forget(e);
        else eng_reset(e);
    }
    for (int i = 0; i < n; i++) rrm_tokens_free(jobs[i].ids);
    rrm_free(jobs);
    if (rc != RRM_OK) {
        for (int i = 0; i < n; i++) rrm_judge_result_free(&out[i]);
    }
    return rc;
}

int rrm_judge_compare(const rrm_match *m, int n, rrm_match_votes *out, void *user, rrm_err *err)
{
    rrm_judge_rank_ctx *rc_ = user;
    if (!rc_ || !rc_->judge || n < 0)
        return rrm_errf(err, RRM_E_INVAL, "rrm_judge_compare: bad arguments");
    rrm_judge_pair *pairs = rrm_calloc((size_t)(n ? n : 1), sizeof *pairs);
    rrm_judge_result *res = rrm_calloc((size_t)(n ? n : 1), sizeof *res);
    int rc = (pairs && res) ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "judge: out of memory");
    for (int i = 0; rc == RRM_OK && i < n; i++) {
        if (m[i].a < 0 || m[i].a >= rc_->n_candidates || m[i].b < 0 ||
            m[i].b >= rc_->n_candidates) {
            rc = rrm_errf(err, RRM_E_INVAL, "judge: match %d names candidates %d, %d of %d", i,
                          m[i].a, m[i].b, rc_->n_candidates);
            break;
        }
        pairs[i] = (rrm_judge_pair){rc_->query, rc_->candidates[m[i].a],
                                    rc_->candidates[m[i].b], rc_->query_len,
                                    rc_->candidate_lens[m[i].a], rc_->candidate_lens[m[i].b],
                                    m[i].index, m[i].swapped != 0};
    }
    rrm_judge_stats st;
    if (rc == RRM_OK) rc = rrm_judge_run(rc_->judge, pairs, n, res, &st, err);
    for (int i = 0; rc == RRM_OK && i < n; i++) {
        rrm_match_votes v = {0, 0, 0};
        for (int k = 0; k < res[i].k; k++) {
            const rrm_judge_vote *vt = &res[i].votes[k];
            if (vt->finish == FINISH_NOT_RUN) continue;
            if (vt->verdict == RRM_VERDICT_ASSISTANT_1) v.n_1++;
            else if (vt->verdict == RRM_VERDICT_ASSISTANT_2) v.n_2++;
            else v.n_invalid++;
        }
        out[i] = v;
        rrm_judge_result_free(&res[i]);
    }
    if (rc == RRM_OK) {
        rc_->stats.forwards += st.forwards;
        rc_->stats.prefill_tokens += st.prefill_tokens;
        rc_->stats.prompt_tokens += st.prompt_tokens;
        rc_->stats.prefix_reused_tokens += st.prefix_reused_tokens;
        rc_->stats.decode_tokens += st.decode_tokens;
        if (st.max_batch_rows > rc_->stats.max_batch_rows)
            rc_->stats.max_batch_rows = st.max_batch_rows;
        rc_->stats.seconds += st.seconds;
    }
    rrm_free(pairs);
    rrm_free(res);
    return rc;
}
