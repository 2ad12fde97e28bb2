/* test_engine.c — the scheduler on a random tiny model: k samples share one prefill, outputs are
 * the same alone or batched and for 1 or 2 threads, greedy equals a hand-run decode loop, the
 * thinking budget forces the close sequence, cancel and bad requests give clear errors. */
#define _DEFAULT_SOURCE
#include "engine/engine.h"
#include "../../tests/harness.h"
#include "../../tests/testmodel.h"

#include <stdlib.h>
#include <unistd.h>

static char model_path[256];

static rrm_ctx *new_ctx(const rrm_model *m, int threads, int n_batch)
{
    rrm_ctx_params cp = rrm_ctx_default_params();
    cp.n_ctx = 2048;
    cp.n_seq_max = 16;
    cp.n_batch_max = n_batch;
    cp.n_threads = threads;
    cp.kv_block = 16;
    rrm_ctx *c = NULL;
    rrm_err err = {0};
    if (rrm_ctx_init(&c, m, &cp, &err) != RRM_OK) fprintf(stderr, "ctx: %s\n", err.msg);
    return c;
}

static struct eng *new_eng(rrm_ctx *c, const rrm_model *m, int n_batch)
{
    struct eng_params ep = {n_batch, 16, 16};
    struct eng *e = NULL;
    rrm_err err = {0};
    if (eng_init(&e, c, m, &ep, &err) != RRM_OK) fprintf(stderr, "eng: %s\n", err.msg);
    return e;
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

/* Runs requests (all the same prompt length) and copies sample outputs to out[req][sample]. */
static int run_reqs(const rrm_model *m, int threads, int n_batch, const struct eng_request *rs,
                    int n, int32_t out[][4][32], struct eng_stats *st)
{
    rrm_ctx *c = new_ctx(m, threads, n_batch);
    struct eng *e = c ? new_eng(c, m, n_batch) : NULL;
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
    eng_free(e);
    rrm_ctx_free(c);
    return rc;
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
    }
    rrm_model_free(m);
    unlink(model_path);
    rmdir(dir);
    return TEST_DONE("test_engine");
}
