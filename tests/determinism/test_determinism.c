/*
 * test_determinism.c — DESIGN.md §3: the logits of a row depend only on (model, its sequence's
 * tokens). For every weight type (F32, F16, BF16, Q8_0), both KV cache types and 1/2/3 threads,
 * a sequence's logits are bit-identical whether it is
 *   - prefilled in one batch, in uneven chunks, or one token per call;
 *   - run alone or in a batch that interleaves two other sequences at other positions;
 *   - a fresh sequence or a fork of a prefilled parent (full blocks shared, the partial block
 *     copied on first write), with the parent still decoding after the fork.
 * Negative control: a different token early in the sequence must change the logits.
 */
#define _DEFAULT_SOURCE
#include "../harness.h"
#include "../testmodel.h"

#include <stdlib.h>
#include <unistd.h>

#define NV 200
#define NP 37 /* prompt length: 2 full KV blocks of 16 + a partial one */
#define NG 6  /* decode steps after the prompt */

static int32_t tok_at(int s, int i) { return (int32_t)(3 + (i * 53 + s * 17 + i * i) % (NV - 3)); }

static rrm_ctx *new_ctx(const rrm_model *m, int threads, int kv_type)
{
    rrm_ctx_params cp = rrm_ctx_default_params();
    cp.n_ctx = 1024;
    cp.n_seq_max = 8;
    cp.n_batch_max = 64;
    cp.n_threads = threads;
    cp.kv_block = 16;
    cp.kv_type = kv_type;
    rrm_ctx *c = NULL;
    rrm_err err = {0};
    if (rrm_ctx_init(&c, m, &cp, &err) != RRM_OK) fprintf(stderr, "ctx: %s\n", err.msg);
    return c;
}

/* Decodes rows, copying the logits of the rows that want them, in order, to out. */
static int decode_copy(rrm_ctx *c, const rrm_batch_row *rows, int n, float *out)
{
    rrm_err err = {0};
    int rc = rrm_decode(c, rows, n, &err);
    if (rc != RRM_OK) {
        fprintf(stderr, "decode: %s\n", err.msg);
        return rc;
    }
    int j = 0;
    for (int i = 0; i < n; i++) {
        if (!rows[i].want_logits) continue;
        memcpy(out + (size_t)j * NV, rrm_ctx_logits(c, j), NV * sizeof(float));
        j++;
    }
    return RRM_OK;
}

/* Reference run of sequence `s` alone: prefill in chunks of `chunk` rows (logits on every row),
 * then NG decode steps of the tokens tok_at(s, NP + g). out: (NP + NG) x NV. */
static int run_alone(const rrm_model *m, int threads, int kv, int chunk, int s, float *out)
{
    rrm_ctx *c = new_ctx(m, threads, kv);
    if (!c) return RRM_E_INTERNAL;
    rrm_err err = {0};
    int seq = rrm_seq_new(c, &err), rc = seq < 0 ? seq : RRM_OK;
    rrm_batch_row rows[64];
    for (int p = 0; rc == RRM_OK && p < NP + NG;) {
        int n = 0;
        int lim = p < NP ? chunk : 1;
        while (n < lim && p + n < NP + NG && (p >= NP || p + n < NP)) {
            rows[n] = (rrm_batch_row){seq, p + n, tok_at(s, p + n), 1};
            n++;
        }
        rc = decode_copy(c, rows, n, out + (size_t)p * NV);
        p += n;
    }
    rrm_ctx_free(c);
    return rc;
}

/* Three sequences at once: s0 prefilled together with s1 (a shorter prompt) and decoded
 * interleaved with s2 which starts later. Writes s0's logits to out in position order. */
static int run_batched(const rrm_model *m, int threads, int kv, float *out)
{
    rrm_ctx *c = new_ctx(m, threads, kv);
    if (!c) return RRM_E_INTERNAL;
    rrm_err err = {0};
    int a = rrm_seq_new(c, &err), b = rrm_seq_new(c, &err), d = rrm_seq_new(c, &err);
    int rc = (a < 0 || b < 0 || d < 0) ? RRM_E_INTERNAL : RRM_OK;
    rrm_batch_row rows[64];
    float tmp[64 * NV];
    /* step 1: b's 10 tokens first, then a's whole prompt, logits on everything */
    int n = 0;
    for (int i = 0; i < 10; i++) rows[n++] = (rrm_batch_row){b, i, tok_at(1, i), 1};
    for (int i = 0; i < NP; i++) rows[n++] = (rrm_batch_row){a, i, tok_at(0, i), 1};
    if (rc == RRM_OK) rc = decode_copy(c, rows, n, tmp);
    if (rc == RRM_OK) memcpy(out, tmp + (size_t)10 * NV, (size_t)NP * NV * sizeof(float));
    /* decode steps: d's prompt arrives in pieces, b and a decode one token each step */
    for (int g = 0; rc == RRM_OK && g < NG; g++) {
        n = 0;
        for (int i = 0; i < 3; i++) rows[n++] = (rrm_batch_row){d, 3 * g + i, tok_at(2, 3 * g + i), g & 1};
        rows[n++] = (rrm_batch_row){a, NP + g, tok_at(0, NP + g), 1};
        rows[n++] = (rrm_batch_row){b, 10 + g, tok_at(1, 10 + g), 1};
        rc = decode_copy(c, rows, n, tmp);
        int ia = (g & 1) ? 3 : 0; /* index of a's logits among the rows that wanted them */
        if (rc == RRM_OK) memcpy(out + (size_t)(NP + g) * NV, tmp + (size_t)ia * NV, NV * sizeof(float));
    }
    rrm_ctx_free(c);
    return rc;
}

/* Parent prefilled with the prompt, two forks; the forks and the parent then decode the same
 * continuation in one batch. Each of the three must equal the reference. out: 3 x NG x NV. */
static int run_forked(const rrm_model *m, int threads, int kv, float *out)
{
    rrm_ctx *c = new_ctx(m, threads, kv);
    if (!c) return RRM_E_INTERNAL;
    rrm_err err = {0};
    int p = rrm_seq_new(c, &err), rc = p < 0 ? p : RRM_OK;
    rrm_batch_row rows[64];
    float tmp[64 * NV];
    for (int i = 0; i < NP; i++) rows[i] = (rrm_batch_row){p, i, tok_at(0, i), i == NP - 1};
    if (rc == RRM_OK) rc = decode_copy(c, rows, NP, tmp);
    int f1 = rc == RRM_OK ? rrm_seq_fork(c, p, &err) : -1;
    int f2 = rc == RRM_OK ? rrm_seq_fork(c, p, &err) : -1;
    if (f1 < 0 || f2 < 0) rc = RRM_E_INTERNAL;
    int seqs[3] = {f2, p, f1};
    for (int g = 0; rc == RRM_OK && g < NG; g++) {
        for (int i = 0; i < 3; i++) rows[i] = (rrm_batch_row){seqs[i], NP + g, tok_at(0, NP + g), 1};
        rc = decode_copy(c, rows, 3, tmp);
        for (int i = 0; rc == RRM_OK && i < 3; i++)
            memcpy(out + ((size_t)i * NG + g) * NV, tmp + (size_t)i * NV, NV * sizeof(float));
    }
    rrm_ctx_free(c);
    return rc;
}

static void test_type(int wtype, int kv)
{
    char path[] = "/tmp/rrm-det-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    struct testmodel_shape s = {NV, 48, 4, 2, 80, 2, 0, 10000.0};
    rrm_err err = {0};
    CHECK_EQ(testmodel_write(path, &s, 11, wtype, &err), RRM_OK);
    rrm_model *m = NULL;
    CHECK_EQ(rrm_model_load(&m, path, NULL, &err), RRM_OK);
    unlink(path);
    if (!m) return;
    const size_t n_all = (size_t)(NP + NG) * NV;
    float *ref = malloc(n_all * sizeof(float)), *got = malloc(n_all * sizeof(float));
    float *fk = malloc((size_t)3 * NG * NV * sizeof(float));
    const char *tn = rrm_type_name(wtype), *kn = kv ? "kv-f16" : "kv-f32";
    CHECK_EQ(run_alone(m, 1, kv, 64, 0, ref), RRM_OK);
    int finite = 1;
    for (size_t i = 0; i < n_all; i++) finite &= isfinite(ref[i]) != 0;
    CHECK_MSG(finite, "%s %s: non-finite logits", tn, kn);
    for (int t = 1; t <= 3; t++) {
        static const int chunks[] = {64, 5, 1};
        for (int ci = 0; ci < 3; ci++) {
            if (t == 1 && ci == 0) continue;
            CHECK_EQ(run_alone(m, t, kv, chunks[ci], 0, got), RRM_OK);
            CHECK_MSG(memcmp(ref, got, n_all * sizeof(float)) == 0,
                      "%s %s: %d threads, prefill chunk %d differs", tn, kn, t, chunks[ci]);
        }
        CHECK_EQ(run_batched(m, t, kv, got), RRM_OK);
        CHECK_MSG(memcmp(ref, got, n_all * sizeof(float)) == 0,
                  "%s %s: %d threads, batched with other sequences differs", tn, kn, t);
        CHECK_EQ(run_forked(m, t, kv, fk), RRM_OK);
        for (int i = 0; i < 3; i++)
            CHECK_MSG(memcmp(ref + (size_t)NP * NV, fk + (size_t)i * NG * NV,
                             (size_t)NG * NV * sizeof(float)) == 0,
                      "%s %s: %d threads, %s differs", tn, kn, t, i == 1 ? "parent" : "fork");
    }
    /* Negative control: sequence 1 differs from sequence 0 from its first token on. */
    CHECK_EQ(run_alone(m, 2, kv, 64, 1, got), RRM_OK);
    CHECK(memcmp(ref + (size_t)(NP - 1) * NV, got + (size_t)(NP - 1) * NV, NV * sizeof(float)) != 0);
    free(ref);
    free(got);
    free(fk);
    rrm_model_free(m);
}

int main(void)
{
    static const int types[] = {RRM_TYPE_F32, RRM_TYPE_F16, RRM_TYPE_BF16, RRM_TYPE_Q8_0};
    int reduced = getenv("RRM_TEST_REDUCED") != NULL;
    for (int i = 0; i < 4; i++) {
        test_type(types[i], RRM_KV_F32);
        if (!reduced || i == 0) test_type(types[i], RRM_KV_F16);
    }
    CHECK_EQ(rrm_alloc_live(), 0);
    return TEST_DONE("test_determinism");
}
