/*
 * rrm.h — the only public header of rrm, a C engine for Reward Reasoning Models (Qwen2 judges).
 *
 * Whatever is not declared here is not API. Handles are opaque. Every fallible function returns
 * RRM_OK (0) or a negative RRM_E_* code and, when `err` is not NULL, fills it with a message that
 * names the function, the object and the numbers involved. Out-parameters are written only on
 * success. Every *_free accepts NULL.
 *
 * Thread-safety classes:
 *   rrm_model      immutable after load; may be shared by any number of threads and contexts.
 *   rrm_ctx        single owner; not thread-safe (it owns the KV cache, scratch and a thread pool).
 *   rrm_sampler    single owner; not thread-safe.
 *   rrm_tokenizer  immutable after load; encode/decode may run concurrently on one tokenizer.
 */
#ifndef RRM_H
#define RRM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes and errors (src/core) ---------------------------------------------------- */

#define RRM_OK 0
enum rrm_status {
    RRM_E_IO = -1,          /* open/read/mmap/write failed */
    RRM_E_FORMAT = -2,      /* malformed input: file, JSON, model output, ... */
    RRM_E_NOMEM = -3,       /* allocation failed */
    RRM_E_INVAL = -4,       /* bad argument from the caller */
    RRM_E_UNSUPPORTED = -5, /* well-formed but not supported (dtype, architecture, option) */
    RRM_E_LIMIT = -6,       /* a hard limit was hit (header size, context length, KV blocks) */
    RRM_E_CANCELLED = -7,   /* the cancel flag was raised */
    RRM_E_INTERNAL = -8,    /* a broken invariant of our own (a bug) */
};

typedef struct rrm_err {
    int code;       /* RRM_OK or RRM_E_* */
    char msg[256];  /* NUL-terminated message; empty when code == RRM_OK */
} rrm_err;

/* Static name of a status code ("RRM_E_FORMAT", ...); never NULL. */
const char *rrm_status_name(int code);

/* ---- logging (src/core) -------------------------------------------------------------------- */

enum rrm_log_level { RRM_LOG_ERROR = 0, RRM_LOG_WARN = 1, RRM_LOG_INFO = 2, RRM_LOG_DEBUG = 3 };
typedef void (*rrm_log_cb)(int level, const char *msg, void *user);
/* The library never prints: messages go to this callback (NULL = drop them, the default).
 * Set it before creating any object; it is process-wide like ggml's log_set. */
void rrm_log_set(rrm_log_cb cb, void *user);

/* Progress callback for long operations: done/total in arbitrary units. Return non-zero to
 * cancel (the operation then returns RRM_E_CANCELLED). */
typedef int (*rrm_progress_cb)(uint64_t done, uint64_t total, void *user);

/* ---- tensor element types (numbers are ggml's `enum ggml_type`, append-only) --------------- */

enum rrm_type {
    RRM_TYPE_F32 = 0,
    RRM_TYPE_F16 = 1,
    RRM_TYPE_Q4_0 = 2,
    RRM_TYPE_Q4_1 = 3,
    RRM_TYPE_Q5_0 = 6,
    RRM_TYPE_Q5_1 = 7,
    RRM_TYPE_Q8_0 = 8,
    RRM_TYPE_Q8_1 = 9,
    RRM_TYPE_Q2_K = 10,
    RRM_TYPE_Q3_K = 11,
    RRM_TYPE_Q4_K = 12,
    RRM_TYPE_Q5_K = 13,
    RRM_TYPE_Q6_K = 14,
    RRM_TYPE_Q8_K = 15,
    RRM_TYPE_BF16 = 30,
    RRM_TYPE_COUNT = 40, /* bound for tables indexed by type; not a type */
};

/* "f32", "bf16", "q8_0", ...; "?" for numbers we do not know. */
const char *rrm_type_name(int type);

/* ---- model (src/model) --------------------------------------------------------------------- */

typedef struct rrm_model rrm_model;

typedef struct rrm_model_params {
    rrm_progress_cb progress; /* called while weights are validated / bound; may be NULL */
    void *progress_user;
    int prefault;             /* 1: touch every weight page at load (MAP_POPULATE); default 0 */
} rrm_model_params;

rrm_model_params rrm_model_default_params(void);

/* Loads a Qwen2-family model from `path`: a Hugging Face directory (config.json + one
 * model.safetensors or a sharded model.safetensors.index.json) or a GGUF file. Weights stay in
 * read-only memory maps owned by the model. On success *out owns the model (free with
 * rrm_model_free). Errors: RRM_E_IO, RRM_E_FORMAT, RRM_E_UNSUPPORTED, RRM_E_NOMEM, RRM_E_LIMIT. */
int rrm_model_load(rrm_model **out, const char *path, const rrm_model_params *p, rrm_err *err);
void rrm_model_free(rrm_model *m);

/* Hyper-parameters as loaded (names of model/qwen2.h). */
typedef struct rrm_model_info {
    char arch[32];         /* "qwen2" */
    char source[16];       /* "gguf" or "safetensors" */
    int64_t n_vocab, n_embd, n_head, n_head_kv, head_dim, n_ff, n_layer, n_ctx_train;
    double rope_theta, rms_norm_eps;
    int tied_output;       /* 1 when the output head is token_embd */
    int64_t n_params;      /* number of weights */
    uint64_t weight_bytes; /* bytes of all weights as stored */
    int n_tensors;
    int bos_id, eos_id;    /* -1 when unknown */
} rrm_model_info;

void rrm_model_get_info(const rrm_model *m, rrm_model_info *out);

/* i-th tensor of the model (0 <= i < info.n_tensors), for `rrm info`. Returns RRM_OK or
 * RRM_E_INVAL. `name` stays valid while the model lives. ne[] is innermost-first (ggml order). */
int rrm_model_tensor(const rrm_model *m, int i, const char **name, int *type, int *n_dims,
                     int64_t ne[4], uint64_t *nbytes);

/* ---- context, KV cache and the batched forward (src/model, src/kvcache) -------------------- */

typedef struct rrm_ctx rrm_ctx;

enum rrm_kv_type { RRM_KV_F32 = 0, RRM_KV_F16 = 1 };

typedef struct rrm_ctx_params {
    int64_t n_ctx;     /* KV capacity in tokens over all sequences (default 4096) */
    int n_seq_max;     /* most live sequences (default 64) */
    int n_batch_max;   /* most rows in one rrm_decode (default 512) */
    int n_threads;     /* threads for the forward (default 1) */
    int kv_block;      /* tokens per KV block (default 16) */
    int kv_type;       /* RRM_KV_F32 (default) or RRM_KV_F16 */
    int n_logits_max;  /* most rows with want_logits in one rrm_decode (default 0 = n_batch_max);
                        * the logits buffer is n_logits_max * n_vocab floats */
} rrm_ctx_params;

rrm_ctx_params rrm_ctx_default_params(void);

/* Makes a context: KV blocks, scratch and a thread pool, all allocated here and never again.
 * The model must outlive the context. */
int rrm_ctx_init(rrm_ctx **out, const rrm_model *m, const rrm_ctx_params *p, rrm_err *err);
void rrm_ctx_free(rrm_ctx *c);

/* One row of a batch: token `token` of sequence `seq` at position `pos`. Positions of one
 * sequence must continue its KV (pos == current length) and be in increasing order in the batch. */
typedef struct rrm_batch_row {
    int32_t seq;
    int32_t pos;
    int32_t token;
    int32_t want_logits; /* 1: compute logits for this row */
} rrm_batch_row;

/* New empty sequence; returns its id (>= 0) or a negative error (RRM_E_LIMIT when n_seq_max
 * sequences are live). */
int rrm_seq_new(rrm_ctx *c, rrm_err *err);
/* New sequence sharing every cached token of `parent` (full blocks are shared by reference, the
 * first write into a shared partial block copies it). Returns the new id or a negative error. */
int rrm_seq_fork(rrm_ctx *c, int parent, rrm_err *err);
/* Frees a sequence and its blocks (shared blocks are released by reference count). */
int rrm_seq_free(rrm_ctx *c, int seq, rrm_err *err);
/* Number of cached tokens of `seq`, or a negative error. */
int64_t rrm_seq_len(const rrm_ctx *c, int seq);
/* Drops the cached tokens of `seq` from position `pos` on (keeps 0..pos-1). */
int rrm_seq_truncate(rrm_ctx *c, int seq, int64_t pos, rrm_err *err);
/* KV blocks free now / in all. */
int64_t rrm_ctx_free_blocks(const rrm_ctx *c);
int64_t rrm_ctx_total_blocks(const rrm_ctx *c);

/* Runs the model over `n_rows` rows (1 <= n_rows <= n_batch_max) from any sequences. Rows with
 * want_logits get logits, readable with rrm_ctx_logits in row order until the next call. The
 * result for a row does not depend on the thread count or on the other rows in the batch.
 * Errors: RRM_E_INVAL (bad seq/pos/token), RRM_E_LIMIT (out of KV blocks; nothing is written). */
int rrm_decode(rrm_ctx *c, const rrm_batch_row *rows, int n_rows, rrm_err *err);

/* Logits (n_vocab floats) of the i-th row that asked for logits in the last rrm_decode, or NULL.
 * Borrowed: valid until the next rrm_decode or rrm_ctx_free. */
const float *rrm_ctx_logits(const rrm_ctx *c, int i);

/* ---- sampler (src/sampler) ----------------------------------------------------------------- */

typedef struct rrm_sampler rrm_sampler;

typedef struct rrm_sampler_params {
    float temperature; /* <= 0: greedy (argmax, lowest id on ties) */
    float top_p;       /* 1.0 = off */
    int top_k;         /* 0 = off */
    float min_p;       /* 0.0 = off */
    uint64_t seed;
} rrm_sampler_params;

/* RRM model card defaults: temperature 0.6, top_p 1.0, top_k 0, min_p 0, seed 0. */
rrm_sampler_params rrm_sampler_default_params(void);

int rrm_sampler_init(rrm_sampler **out, const rrm_sampler_params *p, int64_t n_vocab,
                     rrm_err *err);
void rrm_sampler_free(rrm_sampler *s);
/* Draws one token from `logits` (n_vocab floats, not modified). Returns the id (>= 0) or a
 * negative error (RRM_E_INVAL when every logit is NaN or -inf). No allocation. */
int rrm_sampler_sample(rrm_sampler *s, const float *logits, rrm_err *err);

/* ---- tokenizer (src/tokenizer) ------------------------------------------------------------- */

/* Byte-level BPE (Qwen2, DeepSeek-R1-distill, GPT-2 family), encoding exactly as Hugging Face
 * `tokenizer.encode(text, add_special_tokens=False)`. Immutable after load: any number of threads
 * may encode and decode with one tokenizer at once. */
typedef struct rrm_tokenizer rrm_tokenizer;

enum rrm_tok_flags {
    /* Every added token (<｜User｜>, </think>, <|im_start|>, ...) is ordinary text. Use it for
     * all untrusted text (queries, responses) so that it can never forge prompt structure. */
    RRM_TOK_NO_SPECIAL = 1,
};
enum rrm_detok_flags {
    RRM_DETOK_SKIP_SPECIAL = 1, /* drop added tokens marked special (BOS, EOS, pads) */
};
/* rrm_token_attr bits */
enum rrm_token_attr_bits { RRM_TOKEN_ADDED = 1, RRM_TOKEN_SPECIAL = 2, RRM_TOKEN_UNUSED = 4 };

/* Loads a tokenizer from `path`: a Hugging Face directory (tokenizer.json, and
 * tokenizer_config.json for bos/eos when present; weights are not needed), a tokenizer.json file
 * of any name (tokenizer_config.json is looked for next to it) or a .gguf (tokenizer.ggml.*).
 * On success *out owns the tokenizer (free with rrm_tokenizer_free). Errors: RRM_E_IO,
 * RRM_E_FORMAT, RRM_E_UNSUPPORTED (a normalizer, pre-tokenizer or model rrm does not implement,
 * named in the message), RRM_E_NOMEM, RRM_E_LIMIT. */
int rrm_tokenizer_load(rrm_tokenizer **out, const char *path, rrm_err *err);
void rrm_tokenizer_free(rrm_tokenizer *t);

/* Encodes text[0, len) (UTF-8, NUL bytes allowed) with `flags` (RRM_TOK_*). No BOS is added.
 * Writes *n_ids and, when it fits in n_max, the ids. Returns RRM_OK; RRM_E_LIMIT when n_max is
 * too small (then *n_ids is the number needed: call again); RRM_E_FORMAT for invalid UTF-8 (the
 * message gives the byte offset). ids may be NULL when n_max is 0 (a size query). */
int rrm_tokenize(const rrm_tokenizer *t, const char *text, size_t len, int flags, int32_t *ids,
                 int64_t n_max, int64_t *n_ids, rrm_err *err);
/* The same into a new array: *ids (free with rrm_tokens_free) holds *n_ids ids. */
int rrm_tokenize_alloc(const rrm_tokenizer *t, const char *text, size_t len, int flags,
                       int32_t **ids, int64_t *n_ids, rrm_err *err);
void rrm_tokens_free(int32_t *ids);
/* rrm_tokenize_alloc where no added token is recognised inside the byte ranges `spans` (sorted,
 * not overlapping; struct rrm_span of the chat templates): a rendered prompt keeps the
 * template's markers special while message content stays plain text. Pre-tokenization still
 * runs across span edges, as for the whole text. Errors as rrm_tokenize, plus RRM_E_INVAL for
 * spans out of order or outside the text. */
struct rrm_span;
int rrm_tokenize_spans_alloc(const rrm_tokenizer *t, const char *text, size_t len,
                             const struct rrm_span *spans, size_t n_spans, int flags,
                             int32_t **ids, int64_t *n_ids, rrm_err *err);

/* Decodes ids into text (HF `decode`: invalid UTF-8 from partial byte tokens becomes U+FFFD).
 * flags: RRM_DETOK_*. Writes *len (bytes, without the NUL) and, when len + 1 <= cap, the text and
 * a NUL. RRM_E_LIMIT when cap is too small (*len says how much is needed), RRM_E_INVAL for an id
 * outside 0..n_vocab-1 (ids of unused slots decode to nothing). */
int rrm_detokenize(const rrm_tokenizer *t, const int32_t *ids, int64_t n, int flags, char *buf,
                   size_t cap, size_t *len, rrm_err *err);
/* The same into a new NUL-terminated string *text (free with rrm_text_free). */
int rrm_detokenize_alloc(const rrm_tokenizer *t, const int32_t *ids, int64_t n, int flags,
                         char **text, size_t *len, rrm_err *err);
void rrm_text_free(char *text);

/* Streaming decoder for generated tokens: a UTF-8 character whose bytes are split across tokens
 * is emitted once, whole, when its last byte arrives. Single owner, not thread-safe; the
 * tokenizer must outlive it. */
typedef struct rrm_detok_stream rrm_detok_stream;
int rrm_detok_stream_init(rrm_detok_stream **out, const rrm_tokenizer *t, int flags,
                          rrm_err *err);
void rrm_detok_stream_free(rrm_detok_stream *s);
/* Adds one id; *text / *len get the bytes that are now complete (possibly none). *text is
 * NUL-terminated and borrowed: valid until the next call on this stream. */
int rrm_detok_stream_push(rrm_detok_stream *s, int32_t id, const char **text, size_t *len,
                          rrm_err *err);
/* End of the stream: bytes still held back come out as U+FFFD. Same borrowing as push. */
int rrm_detok_stream_flush(rrm_detok_stream *s, const char **text, size_t *len, rrm_err *err);

/* Number of ids (0..n-1; the model's n_vocab may be larger, with padding rows). */
int64_t rrm_tokenizer_n_vocab(const rrm_tokenizer *t);
/* BOS / EOS ids from tokenizer_config.json or GGUF, -1 when unknown; whether BOS is added. */
int32_t rrm_tokenizer_bos(const rrm_tokenizer *t);
int32_t rrm_tokenizer_eos(const rrm_tokenizer *t);
int rrm_tokenizer_add_bos(const rrm_tokenizer *t);
/* The bytes of id (not NUL-terminated; *len gets the length), borrowed from the tokenizer; NULL
 * for ids out of range or unused. */
const char *rrm_token_text(const rrm_tokenizer *t, int32_t id, size_t *len);
/* id of an added token with exactly this content, else of a vocabulary entry with these bytes;
 * -1 when none. */
int32_t rrm_token_id(const rrm_tokenizer *t, const char *text, size_t len);
/* RRM_TOKEN_* bits of id (0 = ordinary BPE token), -1 when out of range. */
int rrm_token_attr(const rrm_tokenizer *t, int32_t id);

/* ---- chat templates (src/template) --------------------------------------------------------- */

/* A byte range [off, off + len) of a rendered text. */
typedef struct rrm_span {
    size_t off, len;
} rrm_span;

#ifdef __cplusplus
}
#endif

#endif /* RRM_H */
