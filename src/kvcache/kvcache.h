/*
 * kvcache.h — the paged KV cache (vLLM's PagedAttention idea). The pool holds n_blocks blocks of
 * `block` tokens; a block stores, for every layer, K then V rows of n_kv_dim elements
 * (layout [layer][K|V][token in block][n_kv_dim], element type F32 or F16). Each sequence has a
 * block table (pos / block -> block id). Blocks carry reference counts: fork shares every block
 * of the parent; a write into a block whose count is > 1 copies it first (copy-on-write), which
 * only happens to the partial last block. All memory is allocated in kv_init.
 * Single owner, not thread-safe; the K/V row pointers may be written from several threads.
 */
#ifndef RRM_KVCACHE_H
#define RRM_KVCACHE_H

#include "core/core.h"

struct kv_params {
    int64_t n_layer, n_kv_dim; /* n_kv_dim = n_head_kv * head_dim */
    int64_t n_blocks;          /* blocks in the pool */
    int block;                 /* tokens per block */
    int n_seq_max;             /* sequence slots */
    int type;                  /* RRM_KV_F32 or RRM_KV_F16 */
};

struct kv_cache;

/* Allocates the pool, tables and counts. Errors: RRM_E_INVAL (bad params), RRM_E_LIMIT
 * (sizes overflow), RRM_E_NOMEM. */
int kv_init(struct kv_cache **out, const struct kv_params *p, rrm_err *err);
void kv_free(struct kv_cache *kv);

/* Sequence ids are slots 0..n_seq_max-1. new returns the lowest free slot or RRM_E_LIMIT. */
int kv_seq_new(struct kv_cache *kv, rrm_err *err);
/* New slot sharing all blocks of `parent` (reference counts + 1). */
int kv_seq_fork(struct kv_cache *kv, int parent, rrm_err *err);
int kv_seq_free(struct kv_cache *kv, int seq, rrm_err *err);
/* 1 if seq is a live sequence id. */
int kv_seq_live(const struct kv_cache *kv, int seq);
/* Cached tokens of seq, or RRM_E_INVAL. */
int64_t kv_seq_len(const struct kv_cache *kv, int seq);
/* Keeps positions 0..pos-1 (pos <= len); releases blocks past them. */
int kv_seq_truncate(struct kv_cache *kv, int seq, int64_t pos, rrm_err *err);
int64_t kv_free_blocks(const struct kv_cache *kv);
int64_t kv_total_blocks(const struct kv_cache *kv);
/* Most tokens one sequence can hold (all blocks). */
int64_t kv_seq_capacity(const struct kv_cache *kv);

/* Makes positions len(seq[j]) .. len(seq[j]) + n_new[j] - 1 writable for every j (seq ids
 * distinct): copies a shared partial last block and appends fresh blocks. All or nothing:
 * RRM_E_LIMIT (out of blocks, or past kv_seq_capacity) changes nothing. Lengths are unchanged
 * until kv_seq_set_len. */
int kv_reserve(struct kv_cache *kv, const int32_t *seq, const int64_t *n_new, int n,
               rrm_err *err);
/* Sets the length of seq after its reserved positions were written (len <= reserved). */
void kv_seq_set_len(struct kv_cache *kv, int seq, int64_t len);

/* Bytes of one K or V row (n_kv_dim elements) and the element type. */
size_t kv_row_bytes(const struct kv_cache *kv);
int kv_type(const struct kv_cache *kv);
int kv_block_tokens(const struct kv_cache *kv);
/* Address of the K (which = 0) or V (which = 1) row of `layer` at position pos of seq; pos must
 * be reserved. Rows of one block are contiguous: tokens pos..(block end) follow at
 * kv_row_bytes strides. */
void *kv_row(const struct kv_cache *kv, int seq, int64_t layer, int which, int64_t pos);
/* Reference count of the block holding pos of seq (tests). */
int kv_block_refs(const struct kv_cache *kv, int seq, int64_t pos);

#endif
