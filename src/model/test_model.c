/*
 * test_model.c — the Qwen2 forward against an independent naive reference written here in
 * double precision (full recompute over the whole sequence, no KV cache), for tiny random
 * models built in memory: head_dim 12/16/64, GQA ratios 1, 2, 7, tied and untied heads, an odd
 * n_embd with an explicit head_dim. Tolerance: max |logit - ref| <= 4e-6 * (1 + max |ref|) for
 * the f32 KV cache (measured: <= 2.5e-7 relative; f32 rounding over ~10 chained dots),
 * 2e-3 for the f16 KV cache (f16 keeps 11 bits). Also: prefill in one batch == token by token,
 * fork == recompute, two sequences batched == alone, thread counts (all bit-identical), weight
 * types F16/BF16/Q8_0 == F32 over the dequantized weights (bit-identical), binding errors,
 * KV exhaustion, OOM injection.
 */
#include "model/qwen2.h"
#include "../../tests/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- a random model as a table of tensors ---- */

struct tmodel {
    struct qwen2_hparams hp;
    struct fmt_tensor t[64];
    char names[64][80];
    void *data[64];
    int n;
};

static void add_tensor(struct tmodel *tm, const char *name, int type, int64_t ne0, int64_t ne1,
                       struct rrm_rng *r, double mean, double sd)
{
    int i = tm->n++;
    snprintf(tm->names[i], sizeof tm->names[i], "%s", name);
    int64_t n = ne0 * ne1;
    float *f = rrm_malloc((size_t)n * 4);
    for (int64_t k = 0; k < n; k++) f[k] = (float)(mean + sd * rrm_rng_normal(r));
    size_t rb;
    rrm_row_bytes(type, ne0, &rb);
    uint8_t *d = rrm_malloc(rb * (size_t)ne1);
    for (int64_t row = 0; row < ne1; row++) kern_quantize_row(type, f + row * ne0, d + row * rb, ne0);
    rrm_free(f);
    tm->data[i] = d;
    tm->t[i] = (struct fmt_tensor){tm->names[i], type, ne1 > 1 ? 2 : 1, {ne0, ne1, 1, 1}, d,
                                   rb * (size_t)ne1};
}

static const char *nm(char *buf, int naming, int64_t l, const char *gguf, const char *hf)
{
    if (l < 0) snprintf(buf, 80, "%s", naming == QWEN2_NAMES_GGUF ? gguf : hf);
    else if (naming == QWEN2_NAMES_GGUF) snprintf(buf, 80, "blk.%lld.%s", (long long)l, gguf);
    else snprintf(buf, 80, "model.layers.%lld.%s", (long long)l, hf);
    return buf;
}

/* Random weights like tools/mkmodel: embeddings N(0,1), matrices N(0, 1/sqrt(fan_in)), output
 * 3/sqrt(n_embd), norms 1 + 0.1 N, biases 0.1 N. mt: matrix type. */
static void tm_build(struct tmodel *tm, const struct qwen2_hparams *hp, int naming, int mt,
                     uint64_t seed)
{
    memset(tm, 0, sizeof *tm);
    tm->hp = *hp;
    struct rrm_rng r;
    rrm_rng_seed(&r, seed);
    char b[80];
    const int64_t e = hp->n_embd, q = hp->n_head * hp->head_dim, kv = hp->n_head_kv * hp->head_dim;
    const int64_t f = hp->n_ff;
    add_tensor(tm, nm(b, naming, -1, "token_embd.weight", "model.embed_tokens.weight"), mt, e,
               hp->n_vocab, &r, 0, 1);
    for (int64_t l = 0; l < hp->n_layer; l++) {
        add_tensor(tm, nm(b, naming, l, "attn_norm.weight", "input_layernorm.weight"), RRM_TYPE_F32, e, 1, &r, 1, 0.1);
        add_tensor(tm, nm(b, naming, l, "attn_q.weight", "self_attn.q_proj.weight"), mt, e, q, &r, 0, 1 / sqrt((double)e));
        add_tensor(tm, nm(b, naming, l, "attn_q.bias", "self_attn.q_proj.bias"), RRM_TYPE_F32, q, 1, &r, 0, 0.1);
        add_tensor(tm, nm(b, naming, l, "attn_k.weight", "self_attn.k_proj.weight"), mt, e, kv, &r, 0, 1 / sqrt((double)e));
        add_tensor(tm, nm(b, naming, l, "attn_k.bias", "self_attn.k_proj.bias"), RRM_TYPE_F16, kv, 1, &r, 0, 0.1);
        add_tensor(tm, nm(b, naming, l, "attn_v.weight", "self_attn.v_proj.weight"), mt, e, kv, &r, 0, 1 / sqrt((double)e));
        add_tensor(tm, nm(b, naming, l, "attn_v.bias", "self_attn.v_proj.bias"), RRM_TYPE_BF16, kv, 1, &r, 0, 0.1);
        add_tensor(tm, nm(b, naming, l, "attn_output.weight", "self_attn.o_proj.weight"), mt, q, e, &r, 0, 1 / sqrt((double)q));
        add_tensor(tm, nm(b, naming, l, "ffn_norm.weight", "post_attention_layernorm.weight"), RRM_TYPE_F32, e, 1, &r, 1, 0.1);
        add_tensor(tm, nm(b, naming, l, "ffn_gate.weight", "mlp.gate_proj.weight"), mt, e, f, &r, 0, 1 / sqrt((double)e));
        add_tensor(tm, nm(b, naming, l, "ffn_up.weight", "mlp.up_proj.weight"), mt, e, f, &r, 0, 1 / sqrt((double)e));
        add_tensor(tm, nm(b, naming, l, "ffn_down.weight", "mlp.down_proj.weight"), mt, f, e, &r, 0, 1 / sqrt((double)f));
    }
    add_tensor(tm, nm(b, naming, -1, "output_norm.weight", "model.norm.weight"), RRM_TYPE_F32, e, 1, &r, 1, 0.1);
    if (!hp->tie_output)
        add_tensor(tm, nm(b, naming, -1, "output.weight", "lm_head.weight"), mt, e, hp->n_vocab, &r, 0, 3 / sqrt((double)e));
}

static void tm_free(struct tmodel *tm)
{
    for (int i = 0; i < tm->n; i++) rrm_free(tm->data[i]);
    tm->n = 0;
}

/* The same model with every matrix dequantized to F32. */
static void tm_dequantized(struct tmodel *dst, const struct tmodel *src)
{
    *dst = *src;
    for (int i = 0; i < src->n; i++) {
        const struct fmt_tensor *t = &src->t[i];
        int64_t n = t->ne[0] * t->ne[1];
        size_t rb;
        rrm_row_bytes(t->type, t->ne[0], &rb);
        float *f = rrm_malloc((size_t)n * 4);
        for (int64_t row = 0; row < t->ne[1]; row++)
            kern_dequantize_row(t->type, (const uint8_t *)t->data + row * rb, f + row * t->ne[0], t->ne[0]);
        dst->data[i] = f;
        dst->t[i].name = dst->names[i];
        dst->t[i].type = RRM_TYPE_F32;
        dst->t[i].data = f;
        dst->t[i].nbytes = (size_t)n * 4;
    }
}

/* ---- the naive double-precision reference ---- */

/* Tensor of tm by either name, dequantized to a new double array. */
static double *ref_get(const struct tmodel *tm, int64_t l, const char *gguf, const char *hf)
{
    char a[80], b[80];
    nm(a, QWEN2_NAMES_GGUF, l, gguf, hf);
    nm(b, QWEN2_NAMES_HF, l, gguf, hf);
    for (int i = 0; i < tm->n; i++) {
        const struct fmt_tensor *t = &tm->t[i];
        if (strcmp(t->name, a) && strcmp(t->name, b)) continue;
        int64_t n = t->ne[0] * t->ne[1];
        size_t rb;
        rrm_row_bytes(t->type, t->ne[0], &rb);
        float *f = malloc((size_t)n * 4);
        double *d = malloc((size_t)n * 8);
        for (int64_t row = 0; row < t->ne[1]; row++)
            kern_dequantize_row(t->type, (const uint8_t *)t->data + row * rb, f + row * t->ne[0], t->ne[0]);
        for (int64_t k = 0; k < n; k++) d[k] = f[k];
        free(f);
        return d;
    }
    return NULL;
}

/* y[o] = sum_i W[o][i] x[i] + b[o] */
static void ref_mv(double *y, const double *w, const double *b, const double *x, int64_t ni, int64_t no)
{
    for (int64_t o = 0; o < no; o++) {
        double s = b ? b[o] : 0;
        for (int64_t i = 0; i < ni; i++) s += w[o * ni + i] * x[i];
        y[o] = s;
    }
}

static void ref_norm(double *y, const double *x, const double *w, int64_t n, double eps)
{
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += x[i] * x[i];
    double s = 1 / sqrt(ss / n + eps);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * s * w[i];
}

static void ref_rope(double *v, int64_t nh, int64_t hd, int64_t pos, double theta)
{
    for (int64_t h = 0; h < nh; h++) {
        for (int64_t i = 0; i < hd / 2; i++) {
            double a = pos * pow(theta, -2.0 * i / hd), x0 = v[h * hd + i], x1 = v[h * hd + i + hd / 2];
            v[h * hd + i] = x0 * cos(a) - x1 * sin(a);
            v[h * hd + i + hd / 2] = x1 * cos(a) + x0 * sin(a);
        }
    }
}

/* Logits (T x n_vocab, double) of every position of ids, recomputing everything. */
static double *ref_forward(const struct tmodel *tm, const int32_t *ids, int64_t T)
{
    const struct qwen2_hparams *hp = &tm->hp;
    const int64_t e = hp->n_embd, hd = hp->head_dim, q = hp->n_head * hd, kvd = hp->n_head_kv * hd;
    const int64_t f = hp->n_ff, V = hp->n_vocab, grp = hp->n_head / hp->n_head_kv;
    double *x = calloc((size_t)(T * e), 8), *h = calloc((size_t)e, 8), *Q = calloc((size_t)(T * q), 8);
    double *K = calloc((size_t)(T * kvd), 8), *Vv = calloc((size_t)(T * kvd), 8);
    double *att = calloc((size_t)q, 8), *o = calloc((size_t)e, 8), *g = calloc((size_t)f, 8);
    double *u = calloc((size_t)f, 8), *sc = calloc((size_t)T, 8), *lg = calloc((size_t)(T * V), 8);
    double *emb = ref_get(tm, -1, "token_embd.weight", "model.embed_tokens.weight");
    for (int64_t t = 0; t < T; t++) memcpy(x + t * e, emb + ids[t] * e, (size_t)e * 8);
    for (int64_t l = 0; l < hp->n_layer; l++) {
        double *an = ref_get(tm, l, "attn_norm.weight", "input_layernorm.weight");
        double *wq = ref_get(tm, l, "attn_q.weight", "self_attn.q_proj.weight");
        double *bq = ref_get(tm, l, "attn_q.bias", "self_attn.q_proj.bias");
        double *wk = ref_get(tm, l, "attn_k.weight", "self_attn.k_proj.weight");
        double *bk = ref_get(tm, l, "attn_k.bias", "self_attn.k_proj.bias");
        double *wv = ref_get(tm, l, "attn_v.weight", "self_attn.v_proj.weight");
        double *bv = ref_get(tm, l, "attn_v.bias", "self_attn.v_proj.bias");
        double *wo = ref_get(tm, l, "attn_output.weight", "self_attn.o_proj.weight");
        double *fn = ref_get(tm, l, "ffn_norm.weight", "post_attention_layernorm.weight");
        double *wg = ref_get(tm, l, "ffn_gate.weight", "mlp.gate_proj.weight");
        double *wu = ref_get(tm, l, "ffn_up.weight", "mlp.up_proj.weight");
        double *wd = ref_get(tm, l, "ffn_down.weight", "mlp.down_proj.weight");
        for (int64_t t = 0; t < T; t++) {
            ref_norm(h, x + t * e, an, e, hp->rms_norm_eps);
            ref_mv(Q + t * q, wq, bq, h, e, q);
            ref_mv(K + t * kvd, wk, bk, h, e, kvd);
            ref_mv(Vv + t * kvd, wv, bv, h, e, kvd);
            ref_rope(Q + t * q, hp->n_head, hd, t, hp->rope_theta);
            ref_rope(K + t * kvd, hp->n_head_kv, hd, t, hp->rope_theta);
        }
        for (int64_t t = 0; t < T; t++) {
            for (int64_t hh = 0; hh < hp->n_head; hh++) {
                const double *qv = Q + t * q + hh * hd;
                int64_t kh = hh / grp;
                double mx = -INFINITY, s = 0;
                for (int64_t p = 0; p <= t; p++) {
                    double d = 0;
                    for (int64_t i = 0; i < hd; i++) d += qv[i] * K[p * kvd + kh * hd + i];
                    sc[p] = d / sqrt((double)hd);
                    mx = fmax(mx, sc[p]);
                }
                for (int64_t p = 0; p <= t; p++) s += (sc[p] = exp(sc[p] - mx));
                for (int64_t i = 0; i < hd; i++) {
                    double a = 0;
                    for (int64_t p = 0; p <= t; p++) a += sc[p] / s * Vv[p * kvd + kh * hd + i];
                    att[hh * hd + i] = a;
                }
            }
            ref_mv(o, wo, NULL, att, q, e);
            for (int64_t i = 0; i < e; i++) x[t * e + i] += o[i];
            ref_norm(h, x + t * e, fn, e, hp->rms_norm_eps);
            ref_mv(g, wg, NULL, h, e, f);
            ref_mv(u, wu, NULL, h, e, f);
            for (int64_t i = 0; i < f; i++) g[i] = g[i] / (1 + exp(-g[i])) * u[i];
            ref_mv(o, wd, NULL, g, f, e);
            for (int64_t i = 0; i < e; i++) x[t * e + i] += o[i];
        }
        free(an), free(wq), free(bq), free(wk), free(bk), free(wv), free(bv), free(wo);
        free(fn), free(wg), free(wu), free(wd);
    }
    double *on = ref_get(tm, -1, "output_norm.weight", "model.norm.weight");
    double *wout = ref_get(tm, -1, "output.weight", "lm_head.weight");
    for (int64_t t = 0; t < T; t++) {
        ref_norm(h, x + t * e, on, e, hp->rms_norm_eps);
        ref_mv(lg + t * V, wout ? wout : emb, NULL, h, e, V);
    }
    free(on), free(wout), free(emb), free(x), free(h), free(Q), free(K), free(Vv), free(att);
    free(o), free(g), free(u), free(sc);
    return lg;
}

/* ---- running the engine ---- */

static rrm_model *mk_model(const struct tmodel *tm, int naming)
{
    rrm_model *m = NULL;
    rrm_err err = {0};
    int rc = qwen2_model_from_tensors(&m, &tm->hp, tm->t, tm->n, naming, "memory", "test", NULL, &err);
    CHECK_MSG(rc == RRM_OK, "from_tensors: %s", err.msg);
    return m;
}

static rrm_ctx *mk_ctx(const rrm_model *m, int n_threads, int kv_type, int kv_block)
{
    rrm_ctx_params cp = rrm_ctx_default_params();
    cp.n_ctx = 64;
    cp.n_seq_max = 8;
    cp.n_batch_max = 16;
    cp.n_threads = n_threads;
    cp.kv_type = kv_type;
    cp.kv_block = kv_block;
    rrm_ctx *c = NULL;
    rrm_err err = {0};
    CHECK_MSG(rrm_ctx_init(&c, m, &cp, &err) == RRM_OK, "ctx_init: %s", err.msg);
    return c;
}

/* Feeds ids[from..to) of sequence seq in chunks of `chunk` rows; copies the logits of every
 * row into out (row p at out + p * n_vocab). Returns 0 on success. */
static int feed(rrm_ctx *c, int seq, const int32_t *ids, int from, int to, int chunk, float *out,
                int64_t nv)
{
    rrm_batch_row rows[16];
    for (int p = from; p < to; p += chunk) {
        int k = to - p < chunk ? to - p : chunk;
        for (int j = 0; j < k; j++) rows[j] = (rrm_batch_row){seq, p + j, ids[p + j], 1};
        rrm_err err = {0};
        if (rrm_decode(c, rows, k, &err) != RRM_OK) {
            fprintf(stderr, "decode: %s\n", err.msg);
            return -1;
        }
        for (int j = 0; j < k; j++) memcpy(out + (size_t)(p + j) * nv, rrm_ctx_logits(c, j), (size_t)nv * 4);
    }
    return 0;
}

#define T_LEN 11

struct shape {
    const char *name;
    int64_t n_vocab, n_embd, n_head, n_head_kv, head_dim, n_ff, n_layer;
    int tied;
    double theta;
};

static const struct shape shapes[] = {
    {"hd12-gqa7-untied", 97, 84, 7, 1, 12, 96, 2, 0, 1000000.0},
    {"hd16-gqa2-tied", 50, 64, 4, 2, 16, 160, 2, 1, 10000.0},
    {"hd64-mha-untied", 61, 128, 2, 2, 64, 72, 1, 0, 10000.0},
    {"odd-embd45-hd16-gqa3", 40, 45, 3, 1, 16, 50, 2, 1, 10000.0},
};

static struct qwen2_hparams hp_of(const struct shape *s)
{
    struct qwen2_hparams hp = {s->n_vocab, s->n_embd, s->n_head, s->n_head_kv, s->head_dim,
                               s->n_ff, s->n_layer, 128, s->theta, 1e-6, s->tied, 1, 2};
    return hp;
}

static double max_err(const float *a, const double *ref, int64_t n, double *mag)
{
    double e = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        e = fmax(e, fabs(a[i] - ref[i]));
        m = fmax(m, fabs(ref[i]));
    }
    if (isnan(e) || e != e) e = INFINITY;
    for (int64_t i = 0; i < n; i++) if (isnan(a[i])) e = INFINITY;
    *mag = m;
    return e;
}

/* Reference comparison, prefill == token by token, thread counts, f16 KV. */
static void test_vs_reference(const struct shape *s, int naming)
{
    struct qwen2_hparams hp = hp_of(s);
    struct tmodel tm;
    tm_build(&tm, &hp, naming, RRM_TYPE_F32, 11);
    rrm_model *m = mk_model(&tm, naming);
    if (!m) return tm_free(&tm);
    int32_t ids[T_LEN];
    for (int i = 0; i < T_LEN; i++) ids[i] = (int32_t)((i * 7 + 3) % hp.n_vocab);
    const int64_t nv = hp.n_vocab;
    double *ref = ref_forward(&tm, ids, T_LEN);
    float *a = rrm_malloc(T_LEN * nv * 4), *b = rrm_malloc(T_LEN * nv * 4);
    rrm_ctx *c1 = mk_ctx(m, 1, RRM_KV_F32, 4), *c3 = mk_ctx(m, 3, RRM_KV_F32, 5);
    int s1 = rrm_seq_new(c1, NULL), s3 = rrm_seq_new(c3, NULL);
    CHECK_EQ(feed(c1, s1, ids, 0, T_LEN, T_LEN, a, nv), 0);
    double mag, e = max_err(a, ref, T_LEN * nv, &mag);
    CHECK_MSG(e <= 4e-6 * (1 + mag), "%s: max err %g (max |logit| %g)", s->name, e, mag);
    printf("%s (%s names): max |err| %.3g, max |logit| %.3g\n", s->name,
           naming ? "hf" : "gguf", e, mag);
    CHECK_EQ(feed(c3, s3, ids, 0, T_LEN, 1, b, nv), 0); /* one token per call, 3 threads */
    CHECK_MSG(memcmp(a, b, (size_t)(T_LEN * nv) * 4) == 0, "%s: prefill != token by token", s->name);
    CHECK_EQ(rrm_seq_len(c1, s1), T_LEN);
    rrm_ctx *ch = mk_ctx(m, 2, RRM_KV_F16, 4);
    int sh = rrm_seq_new(ch, NULL);
    CHECK_EQ(feed(ch, sh, ids, 0, T_LEN, 4, b, nv), 0);
    e = max_err(b, ref, T_LEN * nv, &mag);
    CHECK_MSG(e <= 2e-3 * (1 + mag), "%s: f16 KV max err %g", s->name, e);
    rrm_ctx_free(ch);
    rrm_ctx_free(c1);
    rrm_ctx_free(c3);
    rrm_free(a);
    rrm_free(b);
    free(ref);
    rrm_model_free(m);
    tm_free(&tm);
}

/* Fork shares a prefix; two sequences in one batch; everything bit-identical to running the
 * same tokens alone in a fresh context. */
static void test_fork_batch(void)
{
    struct qwen2_hparams hp = hp_of(&shapes[0]);
    struct tmodel tm;
    tm_build(&tm, &hp, QWEN2_NAMES_GGUF, RRM_TYPE_F32, 21);
    rrm_model *m = mk_model(&tm, QWEN2_NAMES_GGUF);
    if (!m) return tm_free(&tm);
    const int64_t nv = hp.n_vocab;
    int32_t A[9] = {5, 9, 1, 44, 3, 17, 8, 2, 60}, B[9] = {5, 9, 1, 44, 3, 90, 12, 33, 7};
    float *alone_a = rrm_malloc(9 * nv * 4), *alone_b = rrm_malloc(9 * nv * 4);
    float *got = rrm_malloc(9 * nv * 4);
    rrm_ctx *c = mk_ctx(m, 1, RRM_KV_F32, 4);
    int sa = rrm_seq_new(c, NULL), sb = rrm_seq_new(c, NULL);
    CHECK_EQ(feed(c, sa, A, 0, 9, 9, alone_a, nv), 0);
    CHECK_EQ(feed(c, sb, B, 0, 9, 9, alone_b, nv), 0);
    rrm_ctx_free(c);
    /* fork after 5 shared tokens (block 4: position 4 sits in a shared partial block) */
    c = mk_ctx(m, 2, RRM_KV_F32, 4);
    int p = rrm_seq_new(c, NULL);
    CHECK_EQ(feed(c, p, A, 0, 5, 5, got, nv), 0);
    int64_t free0 = rrm_ctx_free_blocks(c);
    int f = rrm_seq_fork(c, p, NULL);
    CHECK(f >= 0);
    CHECK_EQ(rrm_seq_len(c, f), 5);
    CHECK_EQ(rrm_ctx_free_blocks(c), free0);
    /* continue both in one batch: parent with A[5..], fork with B[5..], interleaved */
    rrm_batch_row rows[8];
    for (int i = 0; i < 4; i++) {
        rows[2 * i] = (rrm_batch_row){f, 5 + i, B[5 + i], 1};
        rows[2 * i + 1] = (rrm_batch_row){p, 5 + i, A[5 + i], 1};
    }
    rrm_err err = {0};
    CHECK_MSG(rrm_decode(c, rows, 8, &err) == RRM_OK, "%s", err.msg);
    int ok_a = 1, ok_b = 1;
    for (int i = 0; i < 4; i++) {
        ok_b &= memcmp(rrm_ctx_logits(c, 2 * i), alone_b + (5 + i) * nv, (size_t)nv * 4) == 0;
        ok_a &= memcmp(rrm_ctx_logits(c, 2 * i + 1), alone_a + (5 + i) * nv, (size_t)nv * 4) == 0;
    }
    CHECK_MSG(ok_b, "fork + batch != recompute");
    CHECK_MSG(ok_a, "parent in a batch != alone");
    CHECK(rrm_ctx_logits(c, 8) == NULL && rrm_ctx_logits(c, -1) == NULL);
    /* truncate the fork back to the prefix and regrow it: same logits again */
    CHECK_EQ(rrm_seq_truncate(c, f, 6, NULL), RRM_OK);
    CHECK_EQ(feed(c, f, B, 6, 9, 2, got, nv), 0);
    CHECK(memcmp(got + 8 * nv, alone_b + 8 * nv, (size_t)nv * 4) == 0);
    /* only some rows want logits: they come back in row order */
    int q = rrm_seq_new(c, NULL);
    rrm_batch_row r3[3] = {{q, 0, A[0], 0}, {q, 1, A[1], 1}, {q, 2, A[2], 0}};
    CHECK_EQ(rrm_decode(c, r3, 3, NULL), RRM_OK);
    CHECK(memcmp(rrm_ctx_logits(c, 0), alone_a + nv, (size_t)nv * 4) == 0);
    CHECK(rrm_ctx_logits(c, 1) == NULL);
    CHECK_EQ(rrm_seq_free(c, f, NULL), RRM_OK);
    CHECK_EQ(rrm_seq_free(c, p, NULL), RRM_OK);
    CHECK_EQ(rrm_seq_free(c, q, NULL), RRM_OK);
    CHECK_EQ(rrm_ctx_free_blocks(c), rrm_ctx_total_blocks(c));
    rrm_ctx_free(c);
    rrm_free(alone_a);
    rrm_free(alone_b);
    rrm_free(got);
    rrm_model_free(m);
    tm_free(&tm);
}

/* F16 / BF16 / Q8_0 weights give exactly the logits of F32 weights holding the dequantized
 * values (kernels.h: matmul dequantizes each row exactly). HF names on the way. */
static void test_weight_types(void)
{
    const int types[] = {RRM_TYPE_F16, RRM_TYPE_BF16, RRM_TYPE_Q8_0};
    struct qwen2_hparams hp = hp_of(&shapes[1]);
    hp.tie_output = 0;
    for (int k = 0; k < 3; k++) {
        struct tmodel tq, tf;
        tm_build(&tq, &hp, QWEN2_NAMES_HF, types[k], 31);
        tm_dequantized(&tf, &tq);
        rrm_model *mq = mk_model(&tq, QWEN2_NAMES_HF), *mf = mk_model(&tf, QWEN2_NAMES_HF);
        if (mq && mf) {
            const int64_t nv = hp.n_vocab;
            int32_t ids[6] = {1, 2, 3, 4, 5, 6};
            float *a = rrm_malloc(6 * nv * 4), *b = rrm_malloc(6 * nv * 4);
            rrm_ctx *ca = mk_ctx(mq, 2, RRM_KV_F32, 16), *cb = mk_ctx(mf, 1, RRM_KV_F32, 16);
            CHECK_EQ(feed(ca, rrm_seq_new(ca, NULL), ids, 0, 6, 3, a, nv), 0);
            CHECK_EQ(feed(cb, rrm_seq_new(cb, NULL), ids, 0, 6, 6, b, nv), 0);
            CHECK_MSG(memcmp(a, b, (size_t)(6 * nv) * 4) == 0, "%s weights != f32 dequantized",
                      rrm_type_name(types[k]));
            double *ref = ref_forward(&tq, ids, 6), mag;
            double e = max_err(a, ref, 6 * nv, &mag);
            CHECK_MSG(e <= 4e-6 * (1 + mag), "%s: err %g", rrm_type_name(types[k]), e);
            free(ref);
            rrm_model_info in;
            rrm_model_get_info(mq, &in);
            CHECK_EQ(in.tied_output, 0);
            CHECK_EQ(in.n_tensors, 3 + 12 * 2);
            rrm_ctx_free(ca);
            rrm_ctx_free(cb);
            rrm_free(a);
            rrm_free(b);
        }
        rrm_model_free(mq);
        rrm_model_free(mf);
        tm_free(&tq);
        tm_free(&tf);
    }
}

static int find_t(struct tmodel *tm, const char *name)
{
    for (int i = 0; i < tm->n; i++) if (strcmp(tm->t[i].name, name) == 0) return i;
    return -1;
}

/* Shapes that disagree with the hyper-parameters, missing and extra tensors, bad types. */
static void test_binding_errors(void)
{
    struct qwen2_hparams hp = hp_of(&shapes[1]);
    struct tmodel tm;
    tm_build(&tm, &hp, QWEN2_NAMES_HF, RRM_TYPE_F32, 41);
    rrm_model *m = NULL;
    rrm_err err = {0};
    struct qwen2_hparams bad = hp;
    bad.n_ff = 192;
    CHECK_EQ(qwen2_model_from_tensors(&m, &bad, tm.t, tm.n, QWEN2_NAMES_HF, "safetensors",
                                      "config.json", NULL, &err), RRM_E_FORMAT);
    CHECK_MSG(strstr(err.msg, "model.layers.0.mlp.gate_proj.weight") &&
                  strstr(err.msg, "[160 x 64]") && strstr(err.msg, "expected [192 x 64]") &&
                  strstr(err.msg, "config.json"), "%s", err.msg);
    CHECK(m == NULL);
    bad = hp;
    bad.n_vocab = 51;
    CHECK_EQ(qwen2_model_from_tensors(&m, &bad, tm.t, tm.n, QWEN2_NAMES_HF, NULL, "config.json",
                                      NULL, &err), RRM_E_FORMAT);
    CHECK_MSG(strstr(err.msg, "embed_tokens") != NULL, "%s", err.msg);
    /* wrong naming: every tensor is an extra, token_embd is missing */
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n, QWEN2_NAMES_GGUF, NULL, "x", NULL, &err),
             RRM_E_FORMAT);
    CHECK_MSG(strstr(err.msg, "missing tensor 'token_embd.weight'") != NULL, "%s", err.msg);
    /* a missing bias is named */
    int i = find_t(&tm, "model.layers.1.self_attn.k_proj.bias");
    CHECK(i >= 0);
    struct fmt_tensor saved = tm.t[i];
    tm.t[i].name = "model.layers.1.self_attn.k_proj.bias_renamed";
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n, QWEN2_NAMES_HF, NULL, "x", NULL, &err),
             RRM_E_FORMAT);
    CHECK_MSG(strstr(err.msg, "missing tensor 'model.layers.1.self_attn.k_proj.bias'") != NULL,
              "%s", err.msg);
    /* an extra tensor (the renamed one plus rotary_emb) is ignored once everything is present */
    tm.t[tm.n] = saved;
    tm.t[tm.n].name = "model.layers.0.self_attn.rotary_emb.inv_freq";
    tm.t[i] = saved;
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n + 1, QWEN2_NAMES_HF, NULL, "x", NULL,
                                      &err), RRM_OK);
    rrm_model_free(m);
    m = NULL;
    /* a duplicate is refused */
    tm.t[tm.n] = saved;
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n + 1, QWEN2_NAMES_HF, NULL, "x", NULL,
                                      &err), RRM_E_FORMAT);
    CHECK(strstr(err.msg, "appears twice") != NULL);
    /* unsupported types */
    int w = find_t(&tm, "model.layers.0.mlp.up_proj.weight");
    tm.t[w].type = RRM_TYPE_Q2_K;
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n, QWEN2_NAMES_HF, NULL, "x", NULL, &err),
             RRM_E_UNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "q2_K") && strstr(err.msg, "up_proj"), "%s", err.msg);
    tm.t[w].type = RRM_TYPE_F16; /* right type, wrong byte count */
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n, QWEN2_NAMES_HF, NULL, "x", NULL, &err),
             RRM_E_FORMAT);
    tm.t[w].type = RRM_TYPE_F32;
    int nw = find_t(&tm, "model.norm.weight");
    tm.t[nw].type = RRM_TYPE_Q8_0;
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n, QWEN2_NAMES_HF, NULL, "x", NULL, &err),
             RRM_E_UNSUPPORTED);
    tm.t[nw].type = RRM_TYPE_F32;
    /* bad hyper-parameters */
    bad = hp;
    bad.n_head_kv = 3;
    CHECK_EQ(qwen2_model_from_tensors(&m, &bad, tm.t, tm.n, QWEN2_NAMES_HF, NULL, "x", NULL, &err),
             RRM_E_FORMAT);
    /* tied with an lm_head present: the head is ignored; untied without it: tied */
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n, QWEN2_NAMES_HF, "safetensors", "x",
                                      NULL, &err), RRM_OK);
    rrm_model_info in;
    rrm_model_get_info(m, &in);
    CHECK_STR(in.arch, "qwen2");
    CHECK_STR(in.source, "safetensors");
    CHECK_EQ(in.tied_output, 1);
    CHECK_EQ(in.n_vocab, 50);
    CHECK_EQ(in.n_embd, 64);
    CHECK_EQ(in.head_dim, 16);
    CHECK_EQ(in.n_tensors, 2 + 12 * 2);
    int64_t np = 50 * 64 + 64 + 2 * (64 + 64 * 64 + 64 + 2 * (64 * 32 + 32) + 64 * 64 + 64 +
                                     3 * 64 * 160);
    CHECK_EQ(in.n_params, np);
    CHECK(in.weight_bytes > (uint64_t)np * 3 && in.weight_bytes < (uint64_t)np * 4);
    CHECK_EQ(in.bos_id, 1);
    CHECK_EQ(in.eos_id, 2);
    const char *name;
    int type, nd;
    int64_t ne[4];
    uint64_t nb;
    CHECK_EQ(rrm_model_tensor(m, 0, &name, &type, &nd, ne, &nb), RRM_OK);
    CHECK_STR(name, "model.embed_tokens.weight");
    CHECK(type == RRM_TYPE_F32 && nd == 2 && ne[0] == 64 && ne[1] == 50 && nb == 50 * 64 * 4);
    CHECK_EQ(rrm_model_tensor(m, in.n_tensors, &name, &type, &nd, ne, &nb), RRM_E_INVAL);
    rrm_model_free(m);
    rrm_model_free(NULL);
    tm_free(&tm);
}

/* Bad rows, KV exhaustion (nothing written), logits limits, OOM in model and context init. */
static void test_decode_errors(void)
{
    struct qwen2_hparams hp = hp_of(&shapes[1]);
    struct tmodel tm;
    tm_build(&tm, &hp, QWEN2_NAMES_GGUF, RRM_TYPE_F32, 51);
    rrm_model *m = mk_model(&tm, QWEN2_NAMES_GGUF);
    if (!m) return tm_free(&tm);
    rrm_ctx_params cp = rrm_ctx_default_params();
    cp.n_ctx = 8;
    cp.kv_block = 4;
    cp.n_batch_max = 6;
    cp.n_logits_max = 2;
    cp.n_seq_max = 2;
    rrm_ctx *c = NULL;
    rrm_err err = {0};
    CHECK_EQ(rrm_ctx_init(&c, m, &cp, &err), RRM_OK);
    CHECK_EQ(rrm_ctx_total_blocks(c), 2);
    int s = rrm_seq_new(c, NULL);
    rrm_batch_row r[7] = {{s, 0, 1, 0}, {s, 1, 2, 0}, {s, 2, 3, 0}, {s, 3, 4, 0}, {s, 4, 5, 0},
                          {s, 5, 6, 1}, {s, 6, 7, 1}};
    CHECK_EQ(rrm_decode(c, r, 7, &err), RRM_E_INVAL); /* > n_batch_max */
    CHECK_EQ(rrm_decode(c, r + 1, 1, &err), RRM_E_INVAL); /* pos 1 on an empty sequence */
    CHECK(strstr(err.msg, "expected 0") != NULL);
    rrm_batch_row bad = {s, 0, 50, 1};
    CHECK_EQ(rrm_decode(c, &bad, 1, &err), RRM_E_INVAL);
    bad = (rrm_batch_row){5, 0, 1, 1};
    CHECK_EQ(rrm_decode(c, &bad, 1, &err), RRM_E_INVAL);
    rrm_batch_row three[3] = {{s, 0, 1, 1}, {s, 1, 1, 1}, {s, 2, 1, 1}};
    CHECK_EQ(rrm_decode(c, three, 3, &err), RRM_E_LIMIT); /* n_logits_max 2 */
    CHECK_EQ(rrm_decode(c, r, 6, &err), RRM_OK);
    CHECK_EQ(rrm_seq_len(c, s), 6);
    CHECK(rrm_ctx_logits(c, 0) != NULL && rrm_ctx_logits(c, 1) == NULL);
    /* a second sequence needs 1 block, none is free: refused, nothing changes */
    int s2 = rrm_seq_new(c, NULL);
    rrm_batch_row two[2] = {{s, 6, 1, 1}, {s2, 0, 1, 1}};
    CHECK_EQ(rrm_decode(c, two, 2, &err), RRM_E_LIMIT);
    CHECK(strstr(err.msg, "KV blocks") != NULL);
    CHECK_EQ(rrm_seq_len(c, s), 6);
    CHECK_EQ(rrm_seq_len(c, s2), 0);
    CHECK_EQ(rrm_ctx_free_blocks(c), 0);
    CHECK(rrm_ctx_logits(c, 0) == NULL);
    CHECK_EQ(rrm_decode(c, two, 1, &err), RRM_OK); /* the first row alone fits */
    rrm_ctx_free(c);
    cp.kv_block = 0;
    CHECK_EQ(rrm_ctx_init(&c, m, &cp, &err), RRM_E_INVAL);
    /* OOM: every allocation of context init and of the model build may fail cleanly */
    long live = rrm_alloc_live();
    cp = rrm_ctx_default_params();
    cp.n_ctx = 32;
    cp.n_threads = 2;
    int done_c = 0, done_m = 0;
    for (long i = 0; i < 40 && !(done_c && done_m); i++) {
        rrm_alloc_fail_at(i);
        int rc = done_c ? RRM_OK : rrm_ctx_init(&c, m, &cp, NULL);
        rrm_alloc_fail_at(-1);
        CHECK(rc == RRM_OK || rc == RRM_E_NOMEM);
        if (!done_c && rc == RRM_OK) {
            done_c = 1;
            rrm_ctx_free(c);
        }
        rrm_model *m2 = NULL;
        rrm_alloc_fail_at(i);
        rc = done_m ? RRM_OK : qwen2_model_from_tensors(&m2, &hp, tm.t, tm.n, QWEN2_NAMES_GGUF,
                                                        NULL, "x", NULL, NULL);
        rrm_alloc_fail_at(-1);
        CHECK(rc == RRM_OK || rc == RRM_E_NOMEM);
        if (!done_m && rc == RRM_OK) done_m = 1;
        rrm_model_free(m2);
        CHECK_EQ(rrm_alloc_live(), live);
    }
    CHECK(done_c && done_m);
    rrm_model_free(m);
    tm_free(&tm);
}

static int cancel_cb(uint64_t done, uint64_t total, void *user)
{
    int *calls = user;
    (*calls)++;
    return done * 2 > total;
}

static void test_progress(void)
{
    struct qwen2_hparams hp = hp_of(&shapes[2]);
    struct tmodel tm;
    tm_build(&tm, &hp, QWEN2_NAMES_GGUF, RRM_TYPE_F32, 61);
    rrm_model_params p = rrm_model_default_params();
    int calls = 0;
    p.progress = cancel_cb;
    p.progress_user = &calls;
    p.prefault = 1;
    rrm_model *m = NULL;
    CHECK_EQ(qwen2_model_from_tensors(&m, &hp, tm.t, tm.n, QWEN2_NAMES_GGUF, NULL, "x", &p, NULL),
             RRM_E_CANCELLED);
    CHECK(calls > 1 && m == NULL);
    tm_free(&tm);
}

int main(void)
{
    long live = rrm_alloc_live();
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        test_vs_reference(&shapes[i], i % 2 ? QWEN2_NAMES_HF : QWEN2_NAMES_GGUF);
    test_fork_batch();
    test_weight_types();
    test_binding_errors();
    test_decode_errors();
    test_progress();
    CHECK_EQ(rrm_alloc_live(), live);
    return TEST_DONE("test_model");
}
