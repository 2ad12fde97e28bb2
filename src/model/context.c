/*
 * context.c — rrm_ctx: the KV cache, the thread pool and every buffer of the forward,
 * allocated once in rrm_ctx_init (llm.c style: one size table, pointers carved from one block),
 * plus the sequence calls that forward to the KV cache. rrm_decode (forward.c) never allocates.
 */
#include "model/context.h"

#include <math.h>

rrm_ctx_params rrm_ctx_default_params(void)
{
    rrm_ctx_params p = {.n_ctx = 4096, .n_seq_max = 64, .n_batch_max = 512, .n_threads = 1,
                        .kv_block = 16, .kv_type = RRM_KV_F32, .n_logits_max = 0};
    return p;
}

static int check_params(const rrm_ctx_params *p, rrm_err *err)
{
    if (p->n_ctx < 1 || p->n_ctx > ((int64_t)1 << 40) || p->n_seq_max < 1 ||
        p->n_seq_max > (1 << 20) || p->n_batch_max < 1 || p->n_batch_max > (1 << 20) ||
        p->n_threads < 1 || p->n_threads > 512 || p->kv_block < 1 || p->kv_block > (1 << 16) ||
        (p->kv_type != RRM_KV_F32 && p->kv_type != RRM_KV_F16) || p->n_logits_max < 0 ||
        p->n_logits_max > p->n_batch_max)
        return rrm_errf(err, RRM_E_INVAL,
                        "ctx: bad params (n_ctx %lld, n_seq_max %d, n_batch_max %d, n_threads %d, "
                        "kv_block %d, kv_type %d, n_logits_max %d)",
                        (long long)p->n_ctx, p->n_seq_max, p->n_batch_max, p->n_threads,
                        p->kv_block, p->kv_type, p->n_logits_max);
    return RRM_OK;
}

/* One region of the arena: n elements of `size` bytes, rounded up to 64 bytes. */
struct region {
    void **ptr;
    size_t n, size;
};

/* Sizes every region, allocates one block and carves it. */
static int carve(rrm_ctx *c, struct region *r, int n, rrm_err *err)
{
    size_t total = 0, off[32];
    for (int i = 0; i < n; i++) {
        size_t b;
        if (!rrm_mul_size(&b, r[i].n, r[i].size) || !rrm_add_size(&b, b, 63) ||
            !rrm_add_size(&total, total, b & ~(size_t)63))
            return rrm_errf(err, RRM_E_LIMIT, "ctx: buffer sizes overflow size_t");
        off[i] = total - (b & ~(size_t)63);
    }
    c->arena = rrm_alloc_aligned(total);
    if (!c->arena)
        return rrm_errf(err, RRM_E_NOMEM, "ctx: out of memory for %zu bytes of buffers", total);
    c->arena_bytes = total;
    for (int i = 0; i < n; i++) *r[i].ptr = (uint8_t *)c->arena + off[i];
    return RRM_OK;
}

static int alloc_buffers(rrm_ctx *c, rrm_err *err)
{
    const struct qwen2_hparams *hp = &c->m->hp;
    const size_t nb = (size_t)c->p.n_batch_max, nl = (size_t)c->n_logits_max;
    const size_t q = (size_t)(hp->n_head * hp->head_dim), kv = (size_t)(hp->n_head_kv * hp->head_dim);
    const size_t half = (size_t)hp->head_dim / 2, e = (size_t)hp->n_embd, ns = (size_t)c->p.n_seq_max;
    size_t max_in = e > (size_t)hp->n_ff ? e : (size_t)hp->n_ff, att, scr;
    max_in = max_in > q ? max_in : q;
    /* per thread: 4 dequantized weight rows, or attention scores + one K/V row in f32 */
    if (!rrm_add_size(&att, (size_t)kv_seq_capacity(c->kv), 2 * (size_t)hp->head_dim))
        return rrm_errf(err, RRM_E_LIMIT, "ctx: n_ctx too large");
    scr = 4 * max_in > att ? 4 * max_in : att;
    c->scratch_floats = (scr + 15) & ~(size_t)15;
    size_t lg;
    if (!rrm_mul_size(&lg, nl, (size_t)hp->n_vocab))
        return rrm_errf(err, RRM_E_LIMIT, "ctx: logits buffer overflows");
    struct region r[] = {
        {(void **)&c->x, nb * e, 4},          {(void **)&c->xn, nb * e, 4},
        {(void **)&c->tmp, nb * e, 4},        {(void **)&c->q, nb * q, 4},
        {(void **)&c->att, nb * q, 4},        {(void **)&c->k, nb * kv, 4},
        {(void **)&c->v, nb * kv, 4},         {(void **)&c->gate, nb * (size_t)hp->n_ff, 4},
        {(void **)&c->up, nb * (size_t)hp->n_ff, 4}, {(void **)&c->rope_cs, nb * half, 4},
        {(void **)&c->rope_sn, nb * half, 4}, {(void **)&c->lrows, nl * e, 4},
        {(void **)&c->logits, lg, 4},         {(void **)&c->inv_freq, half, 8},
        {(void **)&c->scratch, c->scratch_floats * (size_t)c->p.n_threads, 4},
        {(void **)&c->seq_next, ns, 8},       {(void **)&c->seq_list, ns, 4},
        {(void **)&c->seq_count, ns, 8},      {(void **)&c->seq_seen, ns, 1},
        {(void **)&c->logit_row, nl, 4},
    };
    return carve(c, r, (int)(sizeof r / sizeof r[0]), err);
}

int rrm_ctx_init(rrm_ctx **out, const rrm_model *m, const rrm_ctx_params *p, rrm_err *err)
{
    int rc;
    if (!out || !m) return rrm_errf(err, RRM_E_INVAL, "ctx: NULL model");
    rrm_ctx_params dp = rrm_ctx_default_params();
    if (!p) p = &dp;
    if ((rc = check_params(p, err)) != RRM_OK) return rc;
    rrm_ctx *c = rrm_calloc(1, sizeof *c);
    if (!c) return rrm_errf(err, RRM_E_NOMEM, "ctx: out of memory");
    c->m = m;
    c->p = *p;
    c->n_logits_max = p->n_logits_max ? p->n_logits_max : p->n_batch_max;
    c->k_tab = kern_select(NULL);
    if (!c->k_tab) {
        rc = rrm_errf(err, RRM_E_INVAL, "ctx: unknown kernel set in RRM_KERNELS (known: ref)");
        goto fail;
    }
    const struct qwen2_hparams *hp = &m->hp;
    struct kv_params kp = {hp->n_layer, hp->n_head_kv * hp->head_dim,
                           (p->n_ctx + p->kv_block - 1) / p->kv_block, p->kv_block, p->n_seq_max,
                           p->kv_type};
    if ((rc = kv_init(&c->kv, &kp, err)) != RRM_OK) goto fail;
    if ((rc = alloc_buffers(c, err)) != RRM_OK) goto fail;
    if ((rc = rrm_tp_init(&c->tp, p->n_threads, err)) != RRM_OK) goto fail;
    /* RoPE frequencies theta^(-2i/head_dim) in double (HF computes them in f32) */
    for (int64_t i = 0; i < hp->head_dim / 2; i++)
        c->inv_freq[i] = pow(hp->rope_theta, -2.0 * (double)i / (double)hp->head_dim);
    if (p->n_ctx > hp->n_ctx_train && hp->n_ctx_train > 0)
        rrm_logf(RRM_LOG_WARN, "ctx: n_ctx %lld exceeds the trained context %lld",
                 (long long)p->n_ctx, (long long)hp->n_ctx_train);
    rrm_logf(RRM_LOG_INFO, "ctx: %lld KV blocks of %d tokens, %.1f MiB buffers, %d threads, %s "
             "kernels", (long long)kp.n_blocks, p->kv_block, (double)c->arena_bytes / (1 << 20),
             p->n_threads, c->k_tab->name);
    *out = c;
    return RRM_OK;
fail:
    rrm_ctx_free(c);
    return rc;
}

void rrm_ctx_free(rrm_ctx *c)
{
    if (!c) return;
    rrm_tp_free(c->tp);
    kv_free(c->kv);
    rrm_free_aligned(c->arena);
    rrm_free(c);
}

int rrm_seq_new(rrm_ctx *c, rrm_err *err)
{
    if (!c) return rrm_errf(err, RRM_E_INVAL, "ctx: NULL context");
    return kv_seq_new(c->kv, err);
}

int rrm_seq_fork(rrm_ctx *c, int parent, rrm_err *err)
{
    if (!c) return rrm_errf(err, RRM_E_INVAL, "ctx: NULL context");
    return kv_seq_fork(c->kv, parent, err);
}

int rrm_seq_free(rrm_ctx *c, int seq, rrm_err *err)
{
    if (!c) return rrm_errf(err, RRM_E_INVAL, "ctx: NULL context");
    return kv_seq_free(c->kv, seq, err);
}

int64_t rrm_seq_len(const rrm_ctx *c, int seq)
{
    if (!c) return RRM_E_INVAL;
    return kv_seq_len(c->kv, seq);
}

int rrm_seq_truncate(rrm_ctx *c, int seq, int64_t pos, rrm_err *err)
{
    if (!c) return rrm_errf(err, RRM_E_INVAL, "ctx: NULL context");
    return kv_seq_truncate(c->kv, seq, pos, err);
}

int64_t rrm_ctx_free_blocks(const rrm_ctx *c)
{
    return c ? kv_free_blocks(c->kv) : 0;
}

int64_t rrm_ctx_total_blocks(const rrm_ctx *c)
{
    return c ? kv_total_blocks(c->kv) : 0;
}

const float *rrm_ctx_logits(const rrm_ctx *c, int i)
{
    if (!c || i < 0 || i >= c->n_logits) return NULL;
    return c->logits + (size_t)i * (size_t)c->m->hp.n_vocab;
}
