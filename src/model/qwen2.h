/*
 * qwen2.h — the Qwen2 model: hyper-parameters, bound weights and the context that runs the
 * forward (Hugging Face transformers modeling_qwen2.py; llama.cpp LLM_ARCH_QWEN2).
 *
 * Dimension names, fixed project-wide (STYLE.md §2):
 *   n_vocab   rows of the embedding / output head     n_embd    hidden size
 *   n_head    query heads                             n_head_kv key/value heads (GQA)
 *   head_dim  per-head size (n_embd / n_head unless the config says otherwise)
 *   n_ff      MLP intermediate size                   n_layer   decoder layers
 *   n_ctx     KV capacity in tokens                   n_batch   rows in one rrm_decode
 *   n_seq     live sequences
 * Matrices keep the stored layout: n_out rows of n_in elements (ggml ne = {n_in, n_out}).
 */
#ifndef RRM_MODEL_QWEN2_H
#define RRM_MODEL_QWEN2_H

#include "core/core.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "kvcache/kvcache.h"

struct qwen2_hparams {
    int64_t n_vocab, n_embd, n_head, n_head_kv, head_dim, n_ff, n_layer, n_ctx_train;
    double rope_theta, rms_norm_eps;
    int tie_output; /* 1: the output head is token_embd even if an output tensor exists */
    int bos_id, eos_id; /* -1 when unknown */
};

/* Tensor naming schemes accepted by qwen2_model_from_tensors. */
enum qwen2_naming { QWEN2_NAMES_GGUF = 0, QWEN2_NAMES_HF = 1 };

/* A weight matrix: n_out rows of n_in elements of `type`, rows row_bytes apart. */
struct qwen2_mat {
    const void *data;
    int type;
    int64_t n_in, n_out;
    size_t row_bytes;
};

struct qwen2_layer {
    struct qwen2_mat wq;     /* (n_head*head_dim, n_embd) */
    struct qwen2_mat wk, wv; /* (n_head_kv*head_dim, n_embd) */
    struct qwen2_mat wo;     /* (n_embd, n_head*head_dim), no bias */
    struct qwen2_mat w_gate, w_up; /* (n_ff, n_embd) */
    struct qwen2_mat w_down;       /* (n_embd, n_ff) */
    const float *bq;               /* (n_head*head_dim) f32, owned by the model */
    const float *bk, *bv;          /* (n_head_kv*head_dim) */
    const float *attn_norm, *ffn_norm; /* (n_embd) */
};

/* What rrm_model_tensor reports: one entry per bound tensor, as stored. */
struct qwen2_tensor_info {
    char *name;
    int type, n_dims;
    int64_t ne[4];
    uint64_t nbytes;
};

struct rrm_model {
    struct qwen2_hparams hp;
    char arch[32];
    char source[16];
    struct qwen2_mat tok_embd; /* (n_vocab, n_embd) */
    struct qwen2_mat output;   /* (n_vocab, n_embd); == tok_embd when tied */
    const float *output_norm;  /* (n_embd) */
    struct qwen2_layer *layers; /* (n_layer) */
    int tied;
    float *vecs;                /* every norm and bias as f32, one block */
    void **copies;              /* aligned copies of misaligned matrices (rare) */
    int n_copies;
    struct qwen2_tensor_info *tensors;
    int n_tensors;
    int64_t n_params;
    uint64_t weight_bytes;
    void *src;                  /* the file object the weights point into */
    void (*src_close)(void *);
};

/* Builds a model from a table of tensors (borrowed: the data must outlive the model, or be
 * handed over with qwen2_model_own) and hyper-parameters. Binds every tensor by name under
 * `naming`, checks every shape against hp (RRM_E_FORMAT naming the tensor, the expected and the
 * found shape; `hp_what` says where hp came from, e.g. "config.json"), every type (matrices:
 * kern_matmul_type_ok, i.e. F32/F16/BF16/Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K; vectors
 * F32/F16/BF16; else RRM_E_UNSUPPORTED), reports missing tensors (RRM_E_FORMAT) and logs unexpected extra tensors as warnings (they are ignored). Norms and
 * biases are converted once to f32 copies owned by the model. An absent output head is tied to
 * token_embd. `source` is "gguf" or "safetensors". p may be NULL. */
int qwen2_model_from_tensors(rrm_model **out, const struct qwen2_hparams *hp,
                             const struct fmt_tensor *t, int64_t n, int naming,
                             const char *source, const char *hp_what,
                             const rrm_model_params *p, rrm_err *err);
/* Makes the model own a file object: close_fn(src) runs in rrm_model_free. */
void qwen2_model_own(rrm_model *m, void *src, void (*close_fn)(void *));

/* The qwen2.* hyper-parameter keys (context_length .. layer_norm_rms_epsilon, key_length
 * when head_dim != n_embd / n_head) from c (gguf_meta.c). */
int qwen2_gguf_hparams_meta(struct gguf_writer *w, const struct hf_config *c, rrm_err *err);

/* The GGUF name (llama.cpp's, e.g. "blk.3.attn_q.weight") of a Hugging Face Qwen2 tensor name
 * into out (n bytes); -1 for names that are not part of Qwen2. */
int qwen2_gguf_name(const char *hf_name, char *out, size_t n);

/* Writes the tokenizer.ggml.* keys llama.cpp reads for a byte-level BPE ("gpt2") vocabulary
 * from tokenizer.json (tokens padded with "[PADn]" up to n_vocab rows, token types, merges),
 * bos/eos/padding ids (skipped when < 0), add_bos true, and tokenizer.chat_template from
 * tokenizer_config.json when it has one (gguf_meta.c). Errors: RRM_E_IO, RRM_E_FORMAT. */
int qwen2_gguf_tokenizer_meta(struct gguf_writer *w, const char *tokenizer_json,
                              const char *tokenizer_config, int64_t n_vocab, int64_t bos,
                              int64_t eos, rrm_err *err);

/* ---- quantization (quantize.c): llama.cpp's file types and per-tensor mix rules ---- */

/* A target: name ("Q4_K_M"), llama.cpp's general.file_type (enum llama_ftype) and base type. */
struct qwen2_qmix {
    const char *name;
    uint32_t ftype;
    int base;
};
/* The mix named `name` (case-insensitive), or NULL; qwen2_qmix_names lists them. */
const struct qwen2_qmix *qwen2_qmix_find(const char *name);
/* 1 for the quantized mixes (they get general.quantization_version 2). */
int qwen2_qmix_quantized(const struct qwen2_qmix *mix);
const char *qwen2_qmix_names(void);
/* Counters of llama.cpp's quantize_state_impl: attn_v / ffn_down tensors seen so far and in
 * total, and whether the file has its own output.weight. Init from all tensor names. */
struct qwen2_qstate {
    int64_t n_attn_v, n_ffn_down, i_attn_v, i_ffn_down;
    int has_output;
};
void qwen2_qstate_init(struct qwen2_qstate *s, const char *const *names, int64_t n);
/* Type of tensor `name` (ne0 columns) under `mix`, calls in file order (updates s); src_type
 * for tensors that keep theirs; -1 when n_in fits no type (llama.cpp refuses too). */
int qwen2_quant_type(const struct qwen2_qmix *mix, struct qwen2_qstate *s, const char *name,
                     int n_dims, int64_t ne0, int src_type);
/* Converts GGUF `in` to GGUF `out` under `mix` (see quantize.c), streaming tensor by tensor,
 * written atomically. progress (may be NULL) gets input bytes done/total. Errors: those of
 * gguf_open, RRM_E_UNSUPPORTED (a tensor that cannot be converted), RRM_E_IO, RRM_E_NOMEM,
 * RRM_E_CANCELLED. */
int qwen2_quantize_gguf(const char *in, const char *out, const struct qwen2_qmix *mix,
                        rrm_progress_cb progress, void *user, rrm_err *err);
/* The same from a Hugging Face directory (config.json, safetensors single or sharded,
 * tokenizer.json, tokenizer_config.json): the GGUF metadata convert_hf_to_gguf.py writes for
 * Qwen2 (qwen2.* hyper-parameters, tokenizer.ggml.*, chat template), tensors renamed to GGUF
 * names, 1-D tensors as F32, a tied lm_head dropped. */
int qwen2_quantize_hf(const char *dir, const char *out, const struct qwen2_qmix *mix,
                      rrm_progress_cb progress, void *user, rrm_err *err);

#endif
