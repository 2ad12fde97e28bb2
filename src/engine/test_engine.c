/* test_engine.c — the scheduler on a random tiny model: k samples share one prefill, outputs are
 * the same alone or batched and for 1 or 2 threads, greedy equals a hand-run decode loop, the
 * thinking budget forces the close sequence, cancel and bad requests give clear errors. Prefix
 * sharing: requests with common prompt prefixes (block-aligned or not, identical prompts, one a
 * strict prefix of another, chains) compute each shared position once — prefill tokens equal a
 * brute-force count of unshared remainders — and give the same tokens as with sharing off, on 1
 * and 2 threads and with small batches; sources that finish or are cancelled before a waiter
 * forks them; tight KV and sequence-slot limits; every KV block back after the run. */
#define _DEFAULT_SOURCE
#include "engine/engine.h"
#include "../../tests/harness.h"
#include "../../tests/testmodel.h"

#include <stdlib.h>
#include <unistd.h>

static char model_path[256];

static rrm_ctx *new_ctx_n(const rrm_model *m, int threads, int n_batch, int64_t n_ctx, int n_seq)
{
    rrm_ctx_params cp = rrm_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_seq_max = n_seq;
    cp.n_batch_max = n_batch;
    cp.n_threads = threads;
    cp.kv_block = 16;
    rrm_ctx *c = NULL;
    rrm_err err = {0};
    if (rrm_ctx_init(&c, m, &cp, &err) != RRM_OK) fprintf(stderr, "ctx: %s\n", err.msg);
    return c;
}

static rrm_ctx *new_ctx(const rrm_model *m, int threads, int n_batch)
{
    return new_ctx_n(m, threads, n_batch, 2048, 16);
}

static struct eng *new_eng_r(rrm_ctx *c, const rrm_model *m, int n_batch, int n_seq,
                             int prefix_min, int retain)
{
    struct eng_params ep = {n_batch, 16, n_seq, prefix_min, retain};
    struct eng *e = NULL;
    rrm_err err = {0};
    if (eng_init(&e, c, m, &ep, &err) != RRM_OK) fprintf(stderr, "eng: %s\n", err.msg);
    return e;
}

static struct eng *new_eng_p(rrm_ctx *c, const rrm_model *m, int n_batch, int n_seq,
                             int prefix_min)
{
    return new_eng_r(c, m, n_batch, n_seq, prefix_min, 0);
}

static struct eng *new_eng(rrm_ctx *c, const rrm_model *m, int n_batch)
{
    return new_eng_p(c, m, n_batch, 16, 0);
}

static struct eng_request make_req(const int32_t *prompt, int64_t n, int k, float temp,
                                   uint64_t seed, int64_t max_new)
{
    struct eng_request r = {0};
    r.prompt = prompt;
    r.n_prompt = n;
    r.n_samples = k;
    r.sampling = rrm_sampler_default_params();
    r.sampling.temperature = temp;
    r.sampling.seed = seed;
    r.max_new_tokens = max_new;
    r.think_end_id = -1;
    r.eos_id = -1;
    return r;
}

struct run_cfg {
    int threads, n_batch, prefix_min, n_seq;
    int64_t n_ctx;
};

/* Runs requests and copies sample outputs (at most 4 samples of 32 tokens) to out[req][sample];
 * checks that every KV block is free once all are done. */
static int run_cfg(const rrm_model *m, struct run_cfg cfg, const struct eng_request *rs, int n,
                   int32_t out[][4][32], struct eng_stats *st)
{
    rrm_ctx *c = new_ctx_n(m, cfg.threads, cfg.n_batch, cfg.n_ctx, cfg.n_seq);
    struct eng *e = c ? new_eng_p(c, m, cfg.n_batch, cfg.n_seq, cfg.prefix_min) : NULL;
    rrm_err err = {0};
    int rc = e ? RRM_OK : RRM_E_INTERNAL;
    for (int i = 0; rc == RRM_OK && i < n; i++) rc = eng_submit(e, &rs[i], &err) < 0;
    if (rc == RRM_OK) rc = eng_run(e, NULL, &err);
    if (rc != RRM_OK) fprintf(stderr, "run: %s\n", err.msg);
    for (int i = 0; rc == RRM_OK && i < n; i++) {
        for (int k = 0; k < rs[i].n_samples; k++) {
            const int32_t *t;
            int64_t nt;
            int fin;
            eng_result(e, i, k, &t, &nt, &fin);
            memset(out[i][k], 0xff, sizeof out[i][k]);
            memcpy(out[i][k], t, (size_t)nt * sizeof *t);
        }
    }
    if (st && e) eng_get_stats(e, st);
    if (rc == RRM_OK) CHECK_EQ(rrm_ctx_free_blocks(c), rrm_ctx_total_blocks(c));
    eng_free(e);
    rrm_ctx_free(c);
    return rc;
}

static int run_reqs(const rrm_model *m, int threads, int n_batch, const struct eng_request *rs,
                    int n, int32_t out[][4][32], struct eng_stats *st)
{
    return run_cfg(m, (struct run_cfg){threads, n_batch, 0, 16, 2048}, rs, n, out, st);
}

static void test_votes_share_prefill(const rrm_model *m)
{
    int32_t prompt[20];
    for (int i = 0; i < 20; i++) prompt[i] = 2 + (i * 37) % 250;
    struct eng_request r = make_req(prompt, 20, 4, 1.0f, 99, 12);
    static int32_t a[1][4][32], b[3][4][32];
    struct eng_stats st;
    CHECK_EQ(run_reqs(m, 1, 64, &r, 1, a, &st), RRM_OK);
    CHECK_EQ(st.prefill_tokens, 20);       /* one prefill for four votes */
    CHECK_EQ(st.decode_tokens, 4 * 11);    /* the first token of each vote comes from prefill */
    CHECK(st.max_batch_rows >= 4);
    int differ = 0;
    for (int k = 1; k < 4; k++) differ |= memcmp(a[0][0], a[0][k], sizeof a[0][0]) != 0;
    CHECK(differ); /* different seeds, temperature 1: the votes are not all the same */
    /* Batched with two other requests and on 2 threads with a small batch: same tokens. */
    int32_t p2[7] = {5, 6, 7, 8, 9, 10, 11};
    struct eng_request rs[3] = {make_req(p2, 7, 2, 0.7f, 5, 20), r, make_req(p2, 5, 1, 0, 1, 9)};
    CHECK_EQ(run_reqs(m, 2, 5, rs, 3, b, NULL), RRM_OK);
    CHECK(memcmp(a[0], b[1], sizeof a[0]) == 0);
}

static void test_greedy_matches_manual(const rrm_model *m)
{
    int32_t prompt[9] = {3, 14, 15, 92, 65, 35, 89, 79, 32};
    struct eng_request r = make_req(prompt, 9, 1, 0.0f, 0, 10);
    static int32_t a[1][4][32];
    CHECK_EQ(run_reqs(m, 1, 64, &r, 1, a, NULL), RRM_OK);
    rrm_ctx *c = new_ctx(m, 1, 64);
    rrm_err err = {0};
    int seq = rrm_seq_new(c, &err);
    rrm_batch_row rows[9];
    for (int i = 0; i < 9; i++) rows[i] = (rrm_batch_row){seq, i, prompt[i], i == 8};
    CHECK_EQ(rrm_decode(c, rows, 9, &err), RRM_OK);
    rrm_model_info in;
    rrm_model_get_info(m, &in);
    int same = 1;
    for (int g = 0; g < 10; g++) {
        const float *lg = rrm_ctx_logits(c, 0);
        int best = 0;
        for (int v = 1; v < in.n_vocab; v++)
            if (lg[v] > lg[best]) best = v;
        same &= best == a[0][0][g];
        rows[0] = (rrm_batch_row){seq, 9 + g, best, 1};
        if (rrm_decode(c, rows, 1, &err) != RRM_OK) same = 0;
    }
    CHECK(same);
    rrm_ctx_free(c);
}

static void test_think_budget(const rrm_model *m)
{
    int32_t prompt[4] = {10, 20, 30, 40};
    int32_t close[3] = {200, 201, 202};
    struct eng_request r = make_req(prompt, 4, 1, 0.0f, 0, 8);
    r.think_budget = 3;
    r.think_end_id = 201;
    r.think_close = close;
    r.n_think_close = 3;
    rrm_ctx *c = new_ctx(m, 1, 32);
    struct eng *e = new_eng(c, m, 32);
    rrm_err err = {0};
    CHECK(eng_submit(e, &r, &err) == 0);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    const int32_t *t;
    int64_t n;
    int fin;
    CHECK_EQ(eng_result(e, 0, 0, &t, &n, &fin), RRM_OK);
    int natural = 0;
    for (int i = 0; i < 3; i++) natural |= t[i] == 201;
    if (!natural) {
        CHECK_EQ(n, 8 + 3); /* 8 sampled + 3 forced */
        CHECK(t[3] == 200 && t[4] == 201 && t[5] == 202);
    }
    CHECK_EQ(fin, ENG_LENGTH);
    /* Cancel before running: every sample ends cancelled. */
    eng_reset(e);
    int cancel = 1;
    CHECK(eng_submit(e, &r, &err) == 0);
    CHECK_EQ(eng_run(e, &cancel, &err), RRM_E_CANCELLED);
    CHECK_EQ(eng_result(e, 0, 0, &t, &n, &fin), RRM_OK);
    CHECK_EQ(fin, ENG_CANCELLED);
    CHECK_EQ(rrm_ctx_free_blocks(c), rrm_ctx_total_blocks(c));
    eng_free(e);
    rrm_ctx_free(c);
}

/* ---- prefix sharing ---- */

static int64_t lcp(const struct eng_request *a, const struct eng_request *b)
{
    int64_t i = 0;
    while (i < a->n_prompt && i < b->n_prompt && a->prompt[i] == b->prompt[i]) i++;
    return i;
}

/* Brute force: prompt rows computed when each request reuses its longest prefix with any
 * earlier one (never its last row; only shares of at least `min` tokens). */
static int64_t expected_prefill(const struct eng_request *rs, int n, int64_t min)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        int64_t best = 0;
        for (int j = 0; j < i; j++) {
            int64_t l = lcp(&rs[i], &rs[j]);
            if (l > rs[i].n_prompt - 1) l = rs[i].n_prompt - 1;
            if (l > best) best = l;
        }
        total += rs[i].n_prompt - (best >= min ? best : 0);
    }
    return total;
}

static int32_t base_prompt[128], other_prompt[128];

static void fill_prompts(void)
{
    for (int i = 0; i < 128; i++) {
        base_prompt[i] = 2 + (i * 37 + 11) % 250;
        other_prompt[i] = 2 + (i * 53 + 7) % 250;
    }
}

/* Prompts made of a prefix of base_prompt and a tail of other_prompt starting at `tail_at`. */
static int32_t mixed[8][128];

static void test_prefix_share_equal(const rrm_model *m)
{
    fill_prompts();
    struct {
        int keep, tail_at, tail;
    } shape[8] = {
        {50, 0, 0},   /* A: 50 ids of base */
        {40, 3, 7},   /* B: shares 40 with A (not a block multiple) */
        {50, 0, 0},   /* C: identical to A: shares 49, recomputes the last row */
        {31, 0, 0},   /* D: a strict prefix of A: shares 30 */
        {55, 0, 0},   /* E: A is a strict prefix of it: shares 50 */
        {32, 9, 6},   /* F: shares 32 = two whole blocks */
        {0, 20, 30},  /* G: shares nothing */
        {40, 3, 12},  /* H: shares 47 with B (B's tail continues), a chain through B */
    };
    struct eng_request rs[8];
    for (int i = 0; i < 8; i++) {
        memcpy(mixed[i], base_prompt, (size_t)shape[i].keep * sizeof(int32_t));
        memcpy(mixed[i] + shape[i].keep, other_prompt + shape[i].tail_at,
               (size_t)shape[i].tail * sizeof(int32_t));
        rs[i] = make_req(mixed[i], shape[i].keep + shape[i].tail, 1 + i % 3, 1.0f, 100 + i,
                         6 + i);
    }
    CHECK_EQ(lcp(&rs[7], &rs[1]), 47);
    int64_t prompt = 0;
    for (int i = 0; i < 8; i++) prompt += rs[i].n_prompt;
    static int32_t ref[8][4][32], got[8][4][32];
    struct eng_stats st0, st;
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, -1, 16, 2048}, rs, 8, ref, &st0), RRM_OK);
    CHECK_EQ(st0.prefill_tokens, prompt); /* sharing off: every prompt in full */
    CHECK_EQ(st0.prefix_reused, 0);
    CHECK_EQ(st0.prompt_tokens, prompt);
    int64_t want = expected_prefill(rs, 8, 16);
    CHECK(want < prompt - 200);
    /* threads x batch: one big batch, and batches of 5 and 17 rows (prefills span several
     * forwards, so waiters really wait for their source) */
    struct run_cfg cfgs[4] = {
        {1, 64, 0, 16, 2048}, {2, 64, 0, 16, 2048}, {1, 5, 0, 16, 2048}, {2, 17, 0, 16, 2048}};
    for (int c = 0; c < 4; c++) {
        CHECK_EQ(run_cfg(m, cfgs[c], rs, 8, got, &st), RRM_OK);
        CHECK_MSG(memcmp(ref, got, sizeof ref) == 0, "sharing changed tokens (cfg %d)", c);
        CHECK_EQ(st.prefill_tokens, want);
        CHECK_EQ(st.prefill_tokens + st.prefix_reused, prompt);
        CHECK_EQ(st.prefix_forks, 6); /* all but A and G */
        CHECK_EQ(st.decode_tokens, st0.decode_tokens);
    }
    /* A minimum above every share: nothing is shared. */
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, 100, 16, 2048}, rs, 8, got, &st), RRM_OK);
    CHECK_EQ(st.prefix_reused, 0);
    CHECK(memcmp(ref, got, sizeof ref) == 0);
    /* Submitted in reverse order: different sources, same tokens per request. */
    struct eng_request rv[8];
    static int32_t rev[8][4][32];
    for (int i = 0; i < 8; i++) rv[i] = rs[7 - i];
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 7, 0, 16, 2048}, rv, 8, rev, &st), RRM_OK);
    CHECK_EQ(st.prefill_tokens, expected_prefill(rv, 8, 16));
    int same = 1;
    for (int i = 0; i < 8; i++) same &= memcmp(ref[i], rev[7 - i], sizeof ref[i]) == 0;
    CHECK(same);
}

/* Tokens of sample k of request `req` (up to 32) into out, the rest -1. */
static void sample_k(const struct eng *e, int req, int k, int32_t out[32])
{
    const int32_t *t;
    int64_t n;
    int fin;
    memset(out, 0xff, 32 * sizeof(int32_t));
    if (eng_result(e, req, k, &t, &n, &fin) == RRM_OK) memcpy(out, t, (size_t)n * sizeof *t);
}

static void test_prefix_source_gone(const rrm_model *m)
{
    fill_prompts();
    int32_t pa[80], pb[80], pc[80];
    memcpy(pa, base_prompt, sizeof pa);
    memcpy(pb, base_prompt, sizeof pb);
    memcpy(pc, base_prompt, sizeof pc);
    pb[70] = 3;                         /* B shares 70 with A */
    pc[70] = 3, pc[75] = 4;             /* C shares 75 with B, 70 with A */
    struct eng_request a = make_req(pa, 80, 2, 1.0f, 1, 10);
    struct eng_request b = make_req(pb, 80, 2, 1.0f, 2, 10);
    struct eng_request c = make_req(pc, 80, 1, 1.0f, 3, 10);
    static int32_t alone[3][4][32];
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, -1, 16, 2048}, &a, 1, &alone[0], NULL), RRM_OK);
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, -1, 16, 2048}, &b, 1, &alone[1], NULL), RRM_OK);
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, -1, 16, 2048}, &c, 1, &alone[2], NULL), RRM_OK);
    rrm_ctx *ctx = new_ctx(m, 1, 8);
    struct eng *e = new_eng(ctx, m, 8);
    rrm_err err = {0};
    struct eng_stats st;
    int32_t t[32];
    /* 1. The source finished before the request was submitted: a full prefill. */
    CHECK(eng_submit(e, &a, &err) == 0);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    CHECK(eng_submit(e, &b, &err) == 1);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 0);
    CHECK_EQ(st.prefill_tokens, 160);
    sample_k(e, 1, 0, t);
    CHECK(memcmp(t, alone[1][0], sizeof t) == 0);
    CHECK_EQ(rrm_ctx_free_blocks(ctx), rrm_ctx_total_blocks(ctx));
    /* 2. The source is cancelled while a request waits on it (batch 8: A has computed 8 of
     * the 70 positions B needs): B prefills from scratch and gives its own tokens. */
    eng_reset(e);
    CHECK_EQ(rrm_ctx_free_blocks(ctx), rrm_ctx_total_blocks(ctx));
    CHECK(eng_submit(e, &a, &err) == 0);
    CHECK(eng_submit(e, &b, &err) == 1);
    CHECK_EQ(eng_step(e, &err), 1);
    CHECK_EQ(eng_cancel(e, 0), RRM_OK);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 0);
    sample_k(e, 1, 0, t);
    CHECK(memcmp(t, alone[1][0], sizeof t) == 0);
    CHECK_EQ(rrm_ctx_free_blocks(ctx), rrm_ctx_total_blocks(ctx));
    /* 3. A chain C -> B -> A; B is cancelled while both wait: C re-picks A (70 positions). */
    eng_reset(e);
    CHECK(eng_submit(e, &a, &err) == 0);
    CHECK(eng_submit(e, &b, &err) == 1);
    CHECK(eng_submit(e, &c, &err) == 2);
    CHECK_EQ(eng_step(e, &err), 1);
    CHECK_EQ(eng_cancel(e, 1), RRM_OK);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 70);
    CHECK_EQ(st.prefill_tokens, 80 + 10);
    sample_k(e, 0, 0, t);
    CHECK(memcmp(t, alone[0][0], sizeof t) == 0);
    sample_k(e, 2, 0, t);
    CHECK(memcmp(t, alone[2][0], sizeof t) == 0);
    /* 4. Without the cancel, C forks B for 75 positions. */
    eng_reset(e);
    CHECK(eng_submit(e, &a, &err) == 0);
    CHECK(eng_submit(e, &b, &err) == 1);
    CHECK(eng_submit(e, &c, &err) == 2);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 70 + 75);
    for (int i = 0; i < 3; i++) {
        sample_k(e, i, 0, t);
        CHECK(memcmp(t, alone[i][0], sizeof t) == 0);
    }
    eng_free(e);
    rrm_ctx_free(ctx);
    /* 5. The source's only sample ends in the forward that computes its last prompt row
     * (max_new_tokens 1): the waiter has forked it first. */
    struct eng_request a1 = make_req(pa, 80, 1, 1.0f, 1, 1);
    struct eng_request both[2] = {a1, b};
    static int32_t got[2][4][32];
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 128, 0, 16, 2048}, both, 2, got, &st), RRM_OK);
    CHECK_EQ(st.prefix_reused, 70);
    CHECK(memcmp(got[1], alone[1], sizeof got[1]) == 0);
}

/* Tight limits: KV for little more than one request's worst case, and fewer sequence slots
 * than all samples together. Requests queue, share what is live, and never run out. */
static void test_prefix_tight(const rrm_model *m)
{
    fill_prompts();
    static int32_t ps[6][64];
    struct eng_request rs[6];
    for (int i = 0; i < 6; i++) {
        memcpy(ps[i], base_prompt, sizeof ps[i]);
        ps[i][40 + i] = 5; /* shares 40..45 with the others */
        rs[i] = make_req(ps[i], 64, 3, 1.0f, 50 + i, 20);
    }
    static int32_t ref[6][4][32], got[6][4][32];
    struct eng_stats st;
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, -1, 16, 2048}, rs, 6, ref, NULL), RRM_OK);
    /* worst case of one request: 4 prompt blocks + 3 x (2 + 1) = 13 blocks; 20 fit one */
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, 0, 16, 20 * 16}, rs, 6, got, &st), RRM_OK);
    CHECK(memcmp(ref, got, sizeof ref) == 0);
    CHECK_EQ(st.prefill_tokens + st.prefix_reused, 6 * 64);
    /* 7 slots: two requests of 3 samples at a time (before, the slot count ignored forks). */
    CHECK_EQ(run_cfg(m, (struct run_cfg){2, 9, 0, 7, 2048}, rs, 6, got, &st), RRM_OK);
    CHECK(memcmp(ref, got, sizeof ref) == 0);
    CHECK(st.prefix_reused >= 5 * 40);
}

/* Retained prompts: a finished request's prompt serves later requests, across eng_forget; they
 * give way (LRU) when a request needs their blocks or slots; eng_reset frees them all. */
static void test_prefix_retain(const rrm_model *m)
{
    fill_prompts();
    int32_t pa[64], pb[64], pc[64];
    memcpy(pa, base_prompt, sizeof pa);
    memcpy(pb, base_prompt, sizeof pb);
    memcpy(pc, other_prompt, sizeof pc);
    pb[50] = 3; /* B shares 50 with A; C shares nothing */
    struct eng_request a = make_req(pa, 64, 3, 1.0f, 1, 20);
    struct eng_request b = make_req(pb, 64, 3, 1.0f, 2, 20);
    struct eng_request c = make_req(pc, 64, 3, 1.0f, 3, 20);
    static int32_t alone[1][4][32];
    CHECK_EQ(run_cfg(m, (struct run_cfg){1, 64, -1, 16, 2048}, &b, 1, alone, NULL), RRM_OK);
    /* KV for 20 blocks: one request's worst case is 13, a retained 64-token prompt holds 4. */
    rrm_ctx *ctx = new_ctx_n(m, 1, 64, 20 * 16, 8);
    struct eng *e = new_eng_r(ctx, m, 64, 8, 0, 2);
    rrm_err err = {0};
    struct eng_stats st;
    int32_t t[32];
    CHECK(eng_submit(e, &a, &err) == 0);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    CHECK_EQ(rrm_ctx_free_blocks(ctx), 20 - 4); /* A's prompt is kept */
    eng_forget(e);
    CHECK(eng_submit(e, &b, &err) == 0);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 50);
    CHECK_EQ(st.prefill_tokens, 14);
    for (int k = 0; k < 3; k++) {
        sample_k(e, 0, k, t);
        CHECK(memcmp(t, alone[0][k], sizeof t) == 0);
    }
    /* A and B retained: 8 blocks counted, 5 in fact (B shares A's first 3). C needs 13 of 20, so
     * one of them is evicted. */
    CHECK_EQ(rrm_ctx_free_blocks(ctx), 20 - 5);
    eng_forget(e);
    CHECK(eng_submit(e, &c, &err) == 0);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 0);
    CHECK_EQ(rrm_ctx_free_blocks(ctx), 20 - 8); /* C and the most recent of A, B kept */
    /* A request with the same prompt as a retained one: shares all but its last row. */
    eng_forget(e);
    CHECK(eng_submit(e, &c, &err) == 0);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 63);
    CHECK_EQ(st.prefill_tokens, 1);
    /* Sequence slots: 8, two retained; a request of 8 samples evicts both. */
    eng_forget(e);
    struct eng_request c8 = make_req(pc, 64, 8, 1.0f, 3, 1);
    CHECK(eng_submit(e, &c8, &err) == 0);
    CHECK_EQ(eng_run(e, NULL, &err), RRM_OK);
    eng_get_stats(e, &st);
    CHECK_EQ(st.prefix_reused, 0); /* its source was evicted to make room */
    eng_reset(e);
    CHECK_EQ(rrm_ctx_free_blocks(ctx), rrm_ctx_total_blocks(ctx));
    /* Bad retain values. */
    struct eng_params ep = {8, 16, 4, 0, 5};
    struct eng *bad = NULL;
    CHECK_EQ(eng_init(&bad, ctx, m, &ep, &err), RRM_E_INVAL);
    CHECK(bad == NULL);
    eng_free(e);
    rrm_ctx_free(ctx);
}

static void test_bad_requests(const rrm_model *m)
{
    rrm_ctx *c = new_ctx(m, 1, 32);
    struct eng *e = new_eng(c, m, 32);
    rrm_err err = {0};
    int32_t p[3] = {1, 2, 3}, bad[2] = {1, 100000};
    struct eng_request r = make_req(p, 0, 1, 0, 0, 4);
    CHECK_EQ(eng_submit(e, &r, &err), RRM_E_INVAL);
    r = make_req(p, 3, 0, 0, 0, 4);
    CHECK_EQ(eng_submit(e, &r, &err), RRM_E_INVAL);
    r = make_req(bad, 2, 1, 0, 0, 4);
    CHECK_EQ(eng_submit(e, &r, &err), RRM_E_INVAL);
    CHECK(strstr(err.msg, "100000") != NULL);
    r = make_req(p, 3, 1, 0, 0, 1000000);
    CHECK_EQ(eng_submit(e, &r, &err), RRM_E_LIMIT);
    CHECK(strstr(err.msg, "KV blocks") != NULL);
    r = make_req(p, 3, 1, 0, 0, 0);
    CHECK_EQ(eng_submit(e, &r, &err), RRM_E_INVAL);
    eng_free(e);
    rrm_ctx_free(c);
}

int main(void)
{
    char dir[] = "/tmp/rrm-test-engine.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    snprintf(model_path, sizeof model_path, "%s/m.gguf", dir);
    struct testmodel_shape s = {256, 32, 4, 2, 48, 2, 0, 10000.0};
    rrm_err err = {0};
    rrm_model *m = NULL;
    int rc = testmodel_write(model_path, &s, 7, RRM_TYPE_F32, &err);
    if (rc == RRM_OK) rc = rrm_model_load(&m, model_path, NULL, &err);
    CHECK_MSG(rc == RRM_OK, "%s", err.msg);
    if (rc == RRM_OK) {
        test_votes_share_prefill(m);
        test_greedy_matches_manual(m);
        test_think_budget(m);
        test_bad_requests(m);
        test_prefix_share_equal(m);
        test_prefix_source_gone(m);
        test_prefix_tight(m);
        test_prefix_retain(m);
    }
    rrm_model_free(m);
    unlink(model_path);
    rmdir(dir);
    return TEST_DONE("test_engine");
}
