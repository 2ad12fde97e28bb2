/*
 * forward.c — rrm_decode: the Qwen2 forward over a batch of (seq, pos, token) rows, exactly as
 * Hugging Face modeling_qwen2.py computes it, in f32:
 *   x = embed[token]; per layer: h = rmsnorm(x) -> q,k,v = W h + b -> RoPE(q, k) (rotate-half)
 *   -> causal GQA attention over the sequence's cached positions 0..pos, scale 1/sqrt(head_dim),
 *   softmax in f32 -> x += W_o att -> h = rmsnorm(x) -> x += W_down(silu(W_gate h) * W_up h);
 *   logits = W_out rmsnorm(x).
 * Every step is split across threads by rows, (row, head) pairs or output columns, never by a
 * reduction, so a row's result does not depend on the thread count or the other rows. Nothing
 * here allocates: buffers come from the context (context.c).
 */
#include "model/context.h"

#include <math.h>

enum op {
    OP_EMBED,    /* x = embed[token], RoPE tables of each row */
    OP_NORM,     /* xn = rmsnorm(x, w) (after x += tmp when `add`) */
    OP_MATMUL,   /* up to 3 matmuls, each split over its outputs */
    OP_ROPE_KV,  /* RoPE on q and k, store k and v into the cache */
    OP_ATTN,     /* attention of (row, head) pairs */
    OP_SILU,     /* gate = silu(gate) * up */
    OP_OUT_NORM, /* lrows[j] = rmsnorm(x[logit_row[j]], output_norm) */
};

struct job {
    rrm_ctx *c;
    const rrm_batch_row *rows;
    int n_rows;
    enum op op;
    int64_t layer;
    const float *norm_w;
    int add;
    struct kern_matmul mm[3];
    int n_mm;
};

static void do_embed(struct job *j, int64_t lo, int64_t hi)
{
    rrm_ctx *c = j->c;
    const struct qwen2_mat *e = &c->m->tok_embd;
    const int64_t n = c->m->hp.n_embd, half = c->m->hp.head_dim / 2;
    for (int64_t r = lo; r < hi; r++) {
        const uint8_t *row = (const uint8_t *)e->data + (size_t)j->rows[r].token * e->row_bytes;
        kern_dequantize_row(e->type, row, c->x + r * n, n);
        /* angle pos * theta^(-2i/head_dim) in double, rounded to f32 once */
        for (int64_t i = 0; i < half; i++) {
            double a = (double)j->rows[r].pos * c->inv_freq[i];
            c->rope_cs[r * half + i] = (float)cos(a);
            c->rope_sn[r * half + i] = (float)sin(a);
        }
    }
}

static void do_norm(struct job *j, int64_t lo, int64_t hi)
{
    rrm_ctx *c = j->c;
    const int64_t n = c->m->hp.n_embd;
    const float eps = (float)c->m->hp.rms_norm_eps;
    for (int64_t r = lo; r < hi; r++) {
        if (j->add) c->k_tab->add(c->x + r * n, c->tmp + r * n, n);
        c->k_tab->rmsnorm(c->xn + r * n, c->x + r * n, j->norm_w, n, eps);
    }
}

/* Stores one row of n_kv_dim floats into the cache in its element type. */
static void kv_store(void *dst, const float *src, int64_t n, int type)
{
    if (type == RRM_KV_F32) memcpy(dst, src, (size_t)n * 4);
    else kern_quantize_row(RRM_TYPE_F16, src, dst, n);
}

static void do_rope_kv(struct job *j, int64_t lo, int64_t hi)
{
    rrm_ctx *c = j->c;
    const struct qwen2_hparams *hp = &c->m->hp;
    const int64_t qd = hp->n_head * hp->head_dim, kd = hp->n_head_kv * hp->head_dim;
    const int64_t half = hp->head_dim / 2;
    for (int64_t r = lo; r < hi; r++) {
        const float *cs = c->rope_cs + r * half, *sn = c->rope_sn + r * half;
        c->k_tab->rope(c->q + r * qd, hp->n_head, hp->head_dim, cs, sn);
        c->k_tab->rope(c->k + r * kd, hp->n_head_kv, hp->head_dim, cs, sn);
        const rrm_batch_row *b = &j->rows[r];
        kv_store(kv_row(c->kv, b->seq, j->layer, 0, b->pos), c->k + r * kd, kd, kv_type(c->kv));
        kv_store(kv_row(c->kv, b->seq, j->layer, 1, b->pos), c->v + r * kd, kd, kv_type(c->kv));
    }
}

/* Attention of one query head of one row over positions 0..pos of its sequence. scratch holds
 * pos + 1 scores, then one K/V row converted to f32 (F16 cache). */
static void attend(rrm_ctx *c, const rrm_batch_row *b, int64_t r, int64_t h, int64_t layer,
                   float *scratch)
{
    const struct qwen2_hparams *hp = &c->m->hp;
    const struct rrm_kernels *k = c->k_tab;
    const int64_t hd = hp->head_dim, qd = hp->n_head * hd;
    const int64_t kvh = h / (hp->n_head / hp->n_head_kv), n = (int64_t)b->pos + 1;
    const int64_t bt = kv_block_tokens(c->kv);
    const size_t rb = kv_row_bytes(c->kv), off = (size_t)(kvh * hd);
    const int f16 = kv_type(c->kv) == RRM_KV_F16;
    const float scale = (float)(1.0 / sqrt((double)hd)); /* HF: head_dim ** -0.5 */
    const float *qv = c->q + r * qd + h * hd;
    float *sc = scratch, *row = scratch + n;
    for (int64_t t0 = 0; t0 < n; t0 += bt) {
        const uint8_t *base = kv_row(c->kv, b->seq, layer, 0, t0);
        for (int64_t t = t0; t < n && t < t0 + bt; t++) {
            const uint8_t *p = base + (size_t)(t - t0) * rb;
            const float *kr = row;
            if (f16) kern_dequantize_row(RRM_TYPE_F16, p + off * 2, row, hd);
            else kr = (const float *)(const void *)p + off;
            sc[t] = k->dot(qv, kr, hd) * scale;
        }
    }
    k->softmax(sc, n);
    float *out = c->att + r * qd + h * hd;
    memset(out, 0, (size_t)hd * 4);
    for (int64_t t0 = 0; t0 < n; t0 += bt) {
        const uint8_t *base = kv_row(c->kv, b->seq, layer, 1, t0);
        for (int64_t t = t0; t < n && t < t0 + bt; t++) {
            const uint8_t *p = base + (size_t)(t - t0) * rb;
            const float *vr = row;
            if (f16) kern_dequantize_row(RRM_TYPE_F16, p + off * 2, row, hd);
            else vr = (const float *)(const void *)p + off;
            k->axpy(out, sc[t], vr, hd);
        }
    }
}

static void job_run(void *arg, int ith, int nth)
{
    struct job *j = arg;
    rrm_ctx *c = j->c;
    float *scratch = c->scratch + (size_t)ith * c->scratch_floats;
    int64_t lo, hi;
    switch (j->op) {
    case OP_MATMUL:
        for (int i = 0; i < j->n_mm; i++) c->k_tab->matmul(&j->mm[i], scratch, ith, nth);
        return;
    case OP_ATTN: {
        const int64_t nh = c->m->hp.n_head;
        rrm_split((int64_t)j->n_rows * nh, ith, nth, &lo, &hi);
        for (int64_t i = lo; i < hi; i++)
            attend(c, &j->rows[i / nh], i / nh, i % nh, j->layer, scratch);
        return;
    }
    case OP_OUT_NORM: {
        const int64_t n = c->m->hp.n_embd;
        rrm_split(c->n_logits, ith, nth, &lo, &hi);
        for (int64_t i = lo; i < hi; i++)
            c->k_tab->rmsnorm(c->lrows + i * n, c->x + (int64_t)c->logit_row[i] * n,
                              c->m->output_norm, n, (float)c->m->hp.rms_norm_eps);
        return;
    }
    default:
        break;
    }
    rrm_split(j->n_rows, ith, nth, &lo, &hi);
    if (j->op == OP_EMBED) do_embed(j, lo, hi);
    else if (j->op == OP_NORM) do_norm(j, lo, hi);
    else if (j->op == OP_ROPE_KV) do_rope_kv(j, lo, hi);
    else if (j->op == OP_SILU) {
        const int64_t f = c->m->hp.n_ff;
        for (int64_t r = lo; r < hi; r++) c->k_tab->silu_mul(c->gate + r * f, c->up + r * f, f);
    }
}

static struct kern_matmul mm_of(const struct qwen2_mat *w, const float *bias, const float *x,
                                float *y, int64_t n_rows)
{
    struct kern_matmul a = {y, w->n_out, w->data, w->type, bias, x, w->n_in, n_rows, w->n_in,
                            w->n_out};
    return a;
}

static void run(struct job *j, enum op op)
{
    j->op = op;
    rrm_tp_run(j->c->tp, job_run, j);
}

static void run_mm(struct job *j, int n, const struct kern_matmul *a)
{
    j->n_mm = n;
    memcpy(j->mm, a, (size_t)n * sizeof *a);
    run(j, OP_MATMUL);
}

/* One decoder layer over the batch (xn holds rmsnorm(x, attn_norm) on entry). */
static void layer_forward(struct job *j, int64_t l)
{
    rrm_ctx *c = j->c;
    const struct qwen2_layer *L = &c->m->layers[l];
    const int64_t nr = j->n_rows;
    j->layer = l;
    struct kern_matmul qkv[3] = {mm_of(&L->wq, L->bq, c->xn, c->q, nr),
                                 mm_of(&L->wk, L->bk, c->xn, c->k, nr),
                                 mm_of(&L->wv, L->bv, c->xn, c->v, nr)};
    run_mm(j, 3, qkv);
    run(j, OP_ROPE_KV);
    run(j, OP_ATTN);
    struct kern_matmul o = mm_of(&L->wo, NULL, c->att, c->tmp, nr);
    run_mm(j, 1, &o);
    j->add = 1;
    j->norm_w = L->ffn_norm;
    run(j, OP_NORM);
    struct kern_matmul gu[2] = {mm_of(&L->w_gate, NULL, c->xn, c->gate, nr),
                                mm_of(&L->w_up, NULL, c->xn, c->up, nr)};
    run_mm(j, 2, gu);
    run(j, OP_SILU);
    struct kern_matmul d = mm_of(&L->w_down, NULL, c->gate, c->tmp, nr);
    run_mm(j, 1, &d);
    if (l + 1 < c->m->hp.n_layer) {
        j->norm_w = c->m->layers[l + 1].attn_norm;
        run(j, OP_NORM); /* x += tmp; xn = rmsnorm(x) for the next layer */
    } else {
        const int64_t n = c->m->hp.n_embd;
        for (int64_t r = 0; r < nr; r++) c->k_tab->add(c->x + r * n, c->tmp + r * n, n);
    }
}

/* Checks every row (live sequence, token < n_vocab, positions continuing each sequence in
 * order), collects the distinct sequences with their row counts and the rows that want logits.
 * Leaves seq_seen cleared on every path. */
static int validate(rrm_ctx *c, const rrm_batch_row *rows, int n_rows, int *n_seq, rrm_err *err)
{
    int ns = 0, nl = 0, rc = RRM_OK;
    for (int r = 0; r < n_rows && rc == RRM_OK; r++) {
        const rrm_batch_row *b = &rows[r];
        if (!kv_seq_live(c->kv, b->seq)) {
            rc = rrm_errf(err, RRM_E_INVAL, "decode: row %d: unknown sequence %d", r, b->seq);
            break;
        }
        if (b->token < 0 || b->token >= c->m->hp.n_vocab) {
            rc = rrm_errf(err, RRM_E_INVAL, "decode: row %d: token %d not in 0..%lld", r,
                          b->token, (long long)c->m->hp.n_vocab - 1);
            break;
        }
        if (!c->seq_seen[b->seq]) {
            c->seq_seen[b->seq] = 1;
            c->seq_next[b->seq] = kv_seq_len(c->kv, b->seq);
            c->seq_count[ns] = 0;
            c->seq_list[ns++] = b->seq;
        }
        if (b->pos != c->seq_next[b->seq]) {
            rc = rrm_errf(err, RRM_E_INVAL, "decode: row %d: sequence %d at position %d, expected %lld",
                          r, b->seq, b->pos, (long long)c->seq_next[b->seq]);
            break;
        }
        c->seq_next[b->seq]++;
        for (int i = ns - 1; i >= 0; i--) {
            if (c->seq_list[i] == b->seq) {
                c->seq_count[i]++;
                break;
            }
        }
        if (b->want_logits) {
            if (nl == c->n_logits_max) {
                rc = rrm_errf(err, RRM_E_LIMIT, "decode: more than n_logits_max %d rows want logits",
                              c->n_logits_max);
                break;
            }
            c->logit_row[nl++] = r;
        }
    }
    for (int i = 0; i < ns; i++) c->seq_seen[c->seq_list[i]] = 0;
    *n_seq = ns;
    if (rc == RRM_OK) c->n_logits = nl;
    return rc;
}

int rrm_decode(rrm_ctx *c, const rrm_batch_row *rows, int n_rows, rrm_err *err)
{
    if (!c || !rows) return rrm_errf(err, RRM_E_INVAL, "decode: NULL argument");
    if (n_rows < 1 || n_rows > c->p.n_batch_max)
        return rrm_errf(err, RRM_E_INVAL, "decode: n_rows %d not in 1..n_batch_max %d", n_rows,
                        c->p.n_batch_max);
    c->n_logits = 0;
    int n_seq, rc;
    if ((rc = validate(c, rows, n_rows, &n_seq, err)) != RRM_OK) return rc;
    if ((rc = kv_reserve(c->kv, c->seq_list, c->seq_count, n_seq, err)) != RRM_OK) {
        c->n_logits = 0;
        return rc;
    }
    struct job j = {.c = c, .rows = rows, .n_rows = n_rows};
    run(&j, OP_EMBED);
    j.add = 0;
    j.norm_w = c->m->layers[0].attn_norm;
    run(&j, OP_NORM);
    for (int64_t l = 0; l < c->m->hp.n_layer; l++) layer_forward(&j, l);
    for (int i = 0; i < n_seq; i++)
        kv_seq_set_len(c->kv, c->seq_list[i], kv_seq_len(c->kv, c->seq_list[i]) + c->seq_count[i]);
    if (c->n_logits > 0) {
        run(&j, OP_OUT_NORM);
        struct kern_matmul o = mm_of(&c->m->output, NULL, c->lrows, c->logits, c->n_logits);
        run_mm(&j, 1, &o);
    }
    return RRM_OK;
}
