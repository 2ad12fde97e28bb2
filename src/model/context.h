/*
 * context.h — the inside of rrm_ctx (shared by context.c and forward.c). Buffer shapes use the
 * dimension names of qwen2.h; every pointer is carved from one arena allocated at init.
 */
#ifndef RRM_MODEL_CONTEXT_H
#define RRM_MODEL_CONTEXT_H

#include "model/qwen2.h"

struct rrm_ctx {
    const rrm_model *m;
    rrm_ctx_params p;
    int n_logits_max;
    const struct rrm_kernels *k_tab;
    struct kv_cache *kv;
    struct rrm_threadpool *tp;
    void *arena;
    size_t arena_bytes;
    float *x, *xn, *tmp;      /* (n_batch, n_embd) residual, normed, projection output */
    float *q, *att;           /* (n_batch, n_head*head_dim) */
    float *k, *v;             /* (n_batch, n_head_kv*head_dim) */
    float *gate, *up;         /* (n_batch, n_ff) */
    float *rope_cs, *rope_sn; /* (n_batch, head_dim/2) */
    float *lrows;             /* (n_logits_max, n_embd) final-normed rows that want logits */
    float *logits;            /* (n_logits_max, n_vocab) */
    double *inv_freq;         /* (head_dim/2) */
    float *scratch;           /* (n_threads, scratch_floats) */
    size_t scratch_floats;
    int64_t *seq_next;        /* (n_seq_max) next position per sequence while validating */
    int32_t *seq_list;        /* (n_seq_max) distinct sequences of the batch */
    int64_t *seq_count;       /* (n_seq_max) rows per listed sequence */
    uint8_t *seq_seen;        /* (n_seq_max) */
    int32_t *logit_row;       /* (n_logits_max) batch row of each logits row */
    int n_logits;             /* logits rows of the last decode */
};

#endif
