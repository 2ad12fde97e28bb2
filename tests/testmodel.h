/*
 * testmodel.h — test support (header-only): writes a small random Qwen2 as a GGUF file so tests
 * of the model, engine, judge and determinism can load a real file through rrm_model_load
 * without tools/mkmodel. Tensor names, keys and layout are the same as tools/mkmodel writes;
 * the vocabulary is small (no tokenizer metadata) to keep tests fast.
 */
#ifndef RRM_TESTMODEL_H
#define RRM_TESTMODEL_H

#include "core/core.h"
#include "formats/formats.h"
#include "kernels/kernels.h"

#include <math.h>
#include <stdio.h>

struct testmodel_shape {
    int64_t n_vocab, n_embd, n_head, n_head_kv, n_ff, n_layer;
    int tied;
    double rope_theta;
};

static inline int testmodel_add(struct gguf_writer *w, const char *name, int n_dims, int64_t ne0,
                                int64_t ne1, double mean, double std, int wtype,
                                struct rrm_rng *r, rrm_err *err)
{
    int64_t n = ne0 * ne1;
    int type = n_dims == 1 ? RRM_TYPE_F32 : wtype;
    if (ne0 % rrm_type_block(type) != 0) type = RRM_TYPE_F16;
    float *v = rrm_malloc((size_t)n * sizeof(float));
    size_t nb = 0;
    void *q = NULL;
    if (v && rrm_row_bytes(type, n, &nb) == RRM_OK) q = rrm_malloc(nb);
    if (!v || !q) {
        rrm_free(v);
        return rrm_errf(err, RRM_E_NOMEM, "testmodel: out of memory");
    }
    for (int64_t i = 0; i < n; i++) v[i] = (float)(mean + std * rrm_rng_normal(r));
    kern_quantize_row(type, v, q, n);
    int64_t ne[2] = {ne0, ne1};
    int rc = gguf_w_tensor(w, name, type, n_dims, ne, q, nb, 1, err);
    rrm_free(v);
    rrm_free(q);
    return rc;
}

/* Writes the model to `path`. wtype: F32, F16, BF16 or Q8_0 for the matrices. eos id = 1. */
static inline int testmodel_write(const char *path, const struct testmodel_shape *s,
                                  uint64_t seed, int wtype, rrm_err *err)
{
    struct gguf_writer *w = NULL;
    int rc = gguf_writer_init(&w, err);
    if (rc != RRM_OK) return rc;
    struct rrm_rng r;
    rrm_rng_seed(&r, seed);
    int64_t hd = s->n_embd / s->n_head, nq = s->n_head * hd, nkv = s->n_head_kv * hd;
    double is = 1.0 / sqrt((double)s->n_embd), fs = 1.0 / sqrt((double)s->n_ff);
    char nm[64];
    if ((rc = gguf_w_str(w, "general.architecture", "qwen2", 5, err)) ||
        (rc = gguf_w_u32(w, "qwen2.context_length", 4096, err)) ||
        (rc = gguf_w_u32(w, "qwen2.embedding_length", (uint32_t)s->n_embd, err)) ||
        (rc = gguf_w_u32(w, "qwen2.block_count", (uint32_t)s->n_layer, err)) ||
        (rc = gguf_w_u32(w, "qwen2.feed_forward_length", (uint32_t)s->n_ff, err)) ||
        (rc = gguf_w_u32(w, "qwen2.attention.head_count", (uint32_t)s->n_head, err)) ||
        (rc = gguf_w_u32(w, "qwen2.attention.head_count_kv", (uint32_t)s->n_head_kv, err)) ||
        (rc = gguf_w_f32(w, "qwen2.rope.freq_base", (float)s->rope_theta, err)) ||
        (rc = gguf_w_f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f, err)) ||
        (rc = gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 0, err)) ||
        (rc = gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 1, err)))
        goto done;
    rc = testmodel_add(w, "token_embd.weight", 2, s->n_embd, s->n_vocab, 0, 1, wtype, &r, err);
    for (int64_t l = 0; rc == RRM_OK && l < s->n_layer; l++) {
#define TM_ADD(suffix, nd, a, b, mean, std)                                                \
    do {                                                                                   \
        snprintf(nm, sizeof nm, "blk.%lld.%s", (long long)l, suffix);                      \
        if (rc == RRM_OK) rc = testmodel_add(w, nm, nd, a, b, mean, std, wtype, &r, err);  \
    } while (0)
        TM_ADD("attn_norm.weight", 1, s->n_embd, 1, 1.0, 0.1);
        TM_ADD("attn_q.weight", 2, s->n_embd, nq, 0.0, is);
        TM_ADD("attn_q.bias", 1, nq, 1, 0.0, 0.1);
        TM_ADD("attn_k.weight", 2, s->n_embd, nkv, 0.0, is);
        TM_ADD("attn_k.bias", 1, nkv, 1, 0.0, 0.1);
        TM_ADD("attn_v.weight", 2, s->n_embd, nkv, 0.0, is);
        TM_ADD("attn_v.bias", 1, nkv, 1, 0.0, 0.1);
        TM_ADD("attn_output.weight", 2, nq, s->n_embd, 0.0, 1.0 / sqrt((double)nq));
        TM_ADD("ffn_norm.weight", 1, s->n_embd, 1, 1.0, 0.1);
        TM_ADD("ffn_gate.weight", 2, s->n_embd, s->n_ff, 0.0, is);
        TM_ADD("ffn_up.weight", 2, s->n_embd, s->n_ff, 0.0, is);
        TM_ADD("ffn_down.weight", 2, s->n_ff, s->n_embd, 0.0, fs);
#undef TM_ADD
    }
    if (rc == RRM_OK)
        rc = testmodel_add(w, "output_norm.weight", 1, s->n_embd, 1, 1.0, 0.1, wtype, &r, err);
    if (rc == RRM_OK && !s->tied)
        rc = testmodel_add(w, "output.weight", 2, s->n_embd, s->n_vocab, 0, 3 * is, wtype, &r,
                           err);
    if (rc == RRM_OK) rc = gguf_writer_write(w, path, err);
done:
    gguf_writer_free(w);
    return rc;
}

#endif
