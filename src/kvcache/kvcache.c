/*
 * kvcache.c — paged KV blocks with per-sequence block tables and reference counts (see
 * kvcache.h). Free blocks sit on a stack, so block assignment is deterministic. Invariant: a
 * sequence's table holds exactly ceil(len / block) blocks except between kv_reserve and
 * kv_seq_set_len, when it may hold more.
 */
#include "kvcache/kvcache.h"

struct kv_cache {
    struct kv_params p;
    size_t row_bytes;   /* one K or V row: n_kv_dim elements */
    size_t block_bytes; /* n_layer * 2 * block * row_bytes */
    uint8_t *pool;      /* n_blocks * block_bytes, 64-byte aligned */
    int32_t *refs;      /* (n_blocks) reference counts; 0 = free */
    int32_t *free_stack;
    int64_t n_free;
    int32_t *tables;    /* (n_seq_max, n_blocks) block ids */
    int64_t *n_tab;     /* (n_seq_max) blocks in each table */
    int64_t *len;       /* (n_seq_max) cached tokens */
    uint8_t *live;      /* (n_seq_max) */
};

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

int kv_init(struct kv_cache **out, const struct kv_params *p, rrm_err *err)
{
    if (p->n_layer < 1 || p->n_kv_dim < 1 || p->n_blocks < 1 || p->n_blocks > INT32_MAX ||
        p->block < 1 || p->n_seq_max < 1 || (p->type != RRM_KV_F32 && p->type != RRM_KV_F16))
        return rrm_errf(err, RRM_E_INVAL,
                        "kvcache: bad params (n_layer %lld, n_kv_dim %lld, n_blocks %lld, block "
                        "%d, n_seq_max %d, type %d)",
                        (long long)p->n_layer, (long long)p->n_kv_dim, (long long)p->n_blocks,
                        p->block, p->n_seq_max, p->type);
    struct kv_cache *kv = rrm_calloc(1, sizeof *kv);
    if (!kv) return rrm_errf(err, RRM_E_NOMEM, "kvcache: out of memory");
    kv->p = *p;
    size_t pool_bytes, tab;
    if (!rrm_mul_size(&kv->row_bytes, (size_t)p->n_kv_dim, p->type == RRM_KV_F16 ? 2 : 4) ||
        !rrm_mul_size(&kv->block_bytes, kv->row_bytes, (size_t)p->block) ||
        !rrm_mul_size(&kv->block_bytes, kv->block_bytes, (size_t)p->n_layer * 2) ||
        !rrm_mul_size(&pool_bytes, kv->block_bytes, (size_t)p->n_blocks) ||
        !rrm_mul_size(&tab, (size_t)p->n_seq_max, (size_t)p->n_blocks)) {
        rrm_free(kv);
        return rrm_errf(err, RRM_E_LIMIT, "kvcache: %lld blocks of %d tokens overflow size_t",
                        (long long)p->n_blocks, p->block);
    }
    kv->pool = rrm_alloc_aligned(pool_bytes);
    kv->refs = rrm_calloc((size_t)p->n_blocks, sizeof *kv->refs);
    kv->free_stack = rrm_calloc((size_t)p->n_blocks, sizeof *kv->free_stack);
    kv->tables = rrm_calloc(tab, sizeof *kv->tables);
    kv->n_tab = rrm_calloc((size_t)p->n_seq_max, sizeof *kv->n_tab);
    kv->len = rrm_calloc((size_t)p->n_seq_max, sizeof *kv->len);
    kv->live = rrm_calloc((size_t)p->n_seq_max, 1);
    if (!kv->pool || !kv->refs || !kv->free_stack || !kv->tables || !kv->n_tab || !kv->len ||
        !kv->live) {
        kv_free(kv);
        return rrm_errf(err, RRM_E_NOMEM, "kvcache: out of memory for %zu bytes of KV blocks",
                        pool_bytes);
    }
    /* pushed in reverse so that blocks are handed out 0, 1, 2, ... */
    for (int64_t i = 0; i < p->n_blocks; i++) kv->free_stack[i] = (int32_t)(p->n_blocks - 1 - i);
    kv->n_free = p->n_blocks;
    *out = kv;
    return RRM_OK;
}

void kv_free(struct kv_cache *kv)
{
    if (!kv) return;
    rrm_free_aligned(kv->pool);
    rrm_free(kv->refs);
    rrm_free(kv->free_stack);
    rrm_free(kv->tables);
    rrm_free(kv->n_tab);
    rrm_free(kv->len);
    rrm_free(kv->live);
    rrm_free(kv);
}

static int32_t *table_of(const struct kv_cache *kv, int seq)
{
    return kv->tables + (size_t)seq * (size_t)kv->p.n_blocks;
}

static void block_release(struct kv_cache *kv, int32_t b)
{
    if (NEVER(kv->refs[b] <= 0)) return;
    if (--kv->refs[b] == 0) kv->free_stack[kv->n_free++] = b;
}

static int32_t block_take(struct kv_cache *kv)
{
    int32_t b = kv->free_stack[--kv->n_free];
    kv->refs[b] = 1;
    return b;
}

int kv_seq_live(const struct kv_cache *kv, int seq)
{
    return kv && seq >= 0 && seq < kv->p.n_seq_max && kv->live[seq];
}

static int free_slot(struct kv_cache *kv, rrm_err *err)
{
    for (int s = 0; s < kv->p.n_seq_max; s++) {
        if (!kv->live[s]) return s;
    }
    return rrm_errf(err, RRM_E_LIMIT, "kvcache: all %d sequence slots are in use",
                    kv->p.n_seq_max);
}

int kv_seq_new(struct kv_cache *kv, rrm_err *err)
{
    int s = free_slot(kv, err);
    if (s < 0) return s;
    kv->live[s] = 1;
    kv->len[s] = 0;
    kv->n_tab[s] = 0;
    return s;
}

int kv_seq_fork(struct kv_cache *kv, int parent, rrm_err *err)
{
    if (!kv_seq_live(kv, parent))
        return rrm_errf(err, RRM_E_INVAL, "kvcache: fork of unknown sequence %d", parent);
    int s = free_slot(kv, err);
    if (s < 0) return s;
    int64_t nb = ceil_div(kv->len[parent], kv->p.block);
    const int32_t *pt = table_of(kv, parent);
    int32_t *t = table_of(kv, s);
    for (int64_t i = 0; i < nb; i++) {
        t[i] = pt[i];
        kv->refs[pt[i]]++;
    }
    kv->live[s] = 1;
    kv->len[s] = kv->len[parent];
    kv->n_tab[s] = nb;
    return s;
}

int kv_seq_free(struct kv_cache *kv, int seq, rrm_err *err)
{
    if (!kv_seq_live(kv, seq))
        return rrm_errf(err, RRM_E_INVAL, "kvcache: free of unknown sequence %d", seq);
    const int32_t *t = table_of(kv, seq);
    for (int64_t i = 0; i < kv->n_tab[seq]; i++) block_release(kv, t[i]);
    kv->live[seq] = 0;
    kv->len[seq] = 0;
    kv->n_tab[seq] = 0;
    return RRM_OK;
}

int64_t kv_seq_len(const struct kv_cache *kv, int seq)
{
    if (!kv_seq_live(kv, seq)) return RRM_E_INVAL;
    return kv->len[seq];
}

int kv_seq_truncate(struct kv_cache *kv, int seq, int64_t pos, rrm_err *err)
{
    if (!kv_seq_live(kv, seq))
        return rrm_errf(err, RRM_E_INVAL, "kvcache: truncate of unknown sequence %d", seq);
    if (pos < 0 || pos > kv->len[seq])
        return rrm_errf(err, RRM_E_INVAL, "kvcache: truncate sequence %d to %lld: length is %lld",
                        seq, (long long)pos, (long long)kv->len[seq]);
    int64_t keep = ceil_div(pos, kv->p.block);
    const int32_t *t = table_of(kv, seq);
    for (int64_t i = keep; i < kv->n_tab[seq]; i++) block_release(kv, t[i]);
    kv->n_tab[seq] = keep;
    kv->len[seq] = pos;
    return RRM_OK;
}

int64_t kv_free_blocks(const struct kv_cache *kv)
{
    return kv ? kv->n_free : 0;
}

int64_t kv_total_blocks(const struct kv_cache *kv)
{
    return kv ? kv->p.n_blocks : 0;
}

int64_t kv_seq_capacity(const struct kv_cache *kv)
{
    return kv->p.n_blocks * kv->p.block;
}

/* Blocks that reserving n_new tokens for seq takes: one copy when the block holding position
 * len is shared, plus the new blocks past the table. */
static int64_t blocks_needed(const struct kv_cache *kv, int seq, int64_t n_new, int *cow)
{
    int64_t l = kv->len[seq], bi = l / kv->p.block;
    *cow = n_new > 0 && bi < kv->n_tab[seq] && kv->refs[table_of(kv, seq)[bi]] > 1;
    int64_t want = ceil_div(l + n_new, kv->p.block) - kv->n_tab[seq];
    return (want > 0 ? want : 0) + *cow;
}

int kv_reserve(struct kv_cache *kv, const int32_t *seq, const int64_t *n_new, int n,
               rrm_err *err)
{
    int64_t total = 0;
    int cow;
    for (int j = 0; j < n; j++) {
        if (!kv_seq_live(kv, seq[j]) || n_new[j] < 0)
            return rrm_errf(err, RRM_E_INVAL, "kvcache: reserve for unknown sequence %d", seq[j]);
        if (n_new[j] > kv_seq_capacity(kv) - kv->len[seq[j]])
            return rrm_errf(err, RRM_E_LIMIT,
                            "kvcache: sequence %d would hold %lld tokens, more than the %lld "
                            "of the whole cache",
                            seq[j], (long long)(kv->len[seq[j]] + n_new[j]),
                            (long long)kv_seq_capacity(kv));
        total += blocks_needed(kv, seq[j], n_new[j], &cow);
    }
    if (total > kv->n_free)
        return rrm_errf(err, RRM_E_LIMIT, "kvcache: batch needs %lld KV blocks, %lld of %lld free",
                        (long long)total, (long long)kv->n_free, (long long)kv->p.n_blocks);
    for (int j = 0; j < n; j++) {
        int s = seq[j];
        int64_t more = blocks_needed(kv, s, n_new[j], &cow) - cow;
        int32_t *t = table_of(kv, s);
        if (cow) { /* copy-on-write of the shared block that the first new token lands in */
            int64_t bi = kv->len[s] / kv->p.block;
            int32_t old = t[bi], nb = block_take(kv);
            memcpy(kv->pool + (size_t)nb * kv->block_bytes,
                   kv->pool + (size_t)old * kv->block_bytes, kv->block_bytes);
            block_release(kv, old);
            t[bi] = nb;
        }
        for (int64_t i = 0; i < more; i++) t[kv->n_tab[s]++] = block_take(kv);
    }
    return RRM_OK;
}

void kv_seq_set_len(struct kv_cache *kv, int seq, int64_t len)
{
    RRM_ASSERT(kv_seq_live(kv, seq) && len <= kv->n_tab[seq] * kv->p.block);
    kv->len[seq] = len;
}

size_t kv_row_bytes(const struct kv_cache *kv)
{
    return kv->row_bytes;
}

int kv_type(const struct kv_cache *kv)
{
    return kv->p.type;
}

int kv_block_tokens(const struct kv_cache *kv)
{
    return kv->p.block;
}

void *kv_row(const struct kv_cache *kv, int seq, int64_t layer, int which, int64_t pos)
{
    int64_t bi = pos / kv->p.block, off = pos % kv->p.block;
    RRM_ASSERT(kv_seq_live(kv, seq) && bi < kv->n_tab[seq]);
    size_t b = (size_t)table_of(kv, seq)[bi];
    size_t idx = ((size_t)layer * 2 + (size_t)which) * (size_t)kv->p.block + (size_t)off;
    return kv->pool + b * kv->block_bytes + idx * kv->row_bytes;
}

int kv_block_refs(const struct kv_cache *kv, int seq, int64_t pos)
{
    if (!kv_seq_live(kv, seq) || pos < 0 || pos / kv->p.block >= kv->n_tab[seq]) return 0;
    return kv->refs[table_of(kv, seq)[pos / kv->p.block]];
}
