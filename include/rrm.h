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

/* A chat template: one of the known families, rendered in C exactly as the model's own Jinja
 * `chat_template` renders (no Jinja interpreter). Immutable after load; render may run
 * concurrently on one template. Families (names accepted by `override_name`):
 *   deepseek-r1        DeepSeek-R1 / R1-distill, January 2025 (generation prompt <｜Assistant｜>)
 *   deepseek-r1-think  the later DeepSeek-R1 template (generation prompt <｜Assistant｜><think>\n)
 *   chatml-qwen2.5     Qwen2.5-Instruct ChatML (default system "You are Qwen, created by ...")
 *   chatml-qwen2       Qwen2 / Qwen1.5 ChatML (default system "You are a helpful assistant.")
 *   llama3             Meta-Llama-3-Instruct (content trimmed as Python's str.strip()) */
typedef struct rrm_template rrm_template;

/* One chat message. Both strings are NUL-terminated UTF-8 and borrowed for the call. Roles:
 * "system", "user", "assistant", and "tool" for deepseek-r1* and chatml-qwen2.5. */
typedef struct rrm_message {
    const char *role;
    const char *content;
} rrm_message;

/* Loads the chat template of a model. `path` is an HF directory (tokenizer_config.json, and
 * chat_template.jinja when present, which takes precedence as in transformers), a
 * tokenizer_config.json, a .jinja file, or a .gguf (`tokenizer.chat_template`, BOS/EOS from
 * tokenizer.ggml.*_token_id). The family is detected from the template text by its distinctive
 * markers; `override_name` (may be NULL) forces a family by name, and then the file needs no
 * chat_template. BOS/EOS come from the file (string or {"content": ...}); when it has none, the
 * family's own tokens are used. Errors: RRM_E_IO, RRM_E_FORMAT (malformed JSON/GGUF/UTF-8, a
 * template list without "default"), RRM_E_UNSUPPORTED (unknown template: the message names the
 * known families; or unknown override name), RRM_E_LIMIT, RRM_E_NOMEM. Free with
 * rrm_template_free. */
int rrm_template_load(rrm_template **out, const char *path, const char *override_name,
                      rrm_err *err);
/* The same from a template text in memory (`len` bytes; need not be NUL-terminated). bos/eos
 * may be NULL (family defaults). `text` may be NULL when override_name is given. */
int rrm_template_from_text(rrm_template **out, const char *text, size_t len, const char *bos,
                           const char *eos, const char *override_name, rrm_err *err);
void rrm_template_free(rrm_template *t);
/* Family name (static string, see above). */
const char *rrm_template_family(const rrm_template *t);
/* BOS/EOS token strings the template uses; "" when the family has none (ChatML BOS). Valid
 * while t lives. */
const char *rrm_template_bos(const rrm_template *t);
const char *rrm_template_eos(const rrm_template *t);
/* "deepseek-r1, deepseek-r1-think, ..." (static). */
const char *rrm_template_known_families(void);
/* Renders n_msgs messages. On success *out_text is a new NUL-terminated buffer of *out_len
 * bytes (rrm_template_text_free). Errors: RRM_E_INVAL (NULL role or content, a role the family
 * does not support, content that is not valid UTF-8, no messages where the template needs one),
 * RRM_E_LIMIT (output over 1 GiB), RRM_E_NOMEM. */
int rrm_template_render(const rrm_template *t, const rrm_message *msgs, size_t n_msgs,
                        int add_generation_prompt, char **out_text, size_t *out_len,
                        rrm_err *err);
void rrm_template_text_free(char *text);

/* A byte range [off, off + len) of a rendered text. */
typedef struct rrm_span {
    size_t off, len;
} rrm_span;

/* rrm_template_render that also returns the spans of the text copied from message content, in
 * increasing order (*out_spans: rrm_template_text_free'd array of *n_spans, NULL when none).
 * Encoding the text with those spans as plain text (rrm_tokenize_spans) keeps user-supplied
 * content from forging special tokens, while the template's own markers stay special. */
int rrm_template_render_spans(const rrm_template *t, const rrm_message *msgs, size_t n_msgs,
                              int add_generation_prompt, char **out_text, size_t *out_len,
                              rrm_span **out_spans, size_t *n_spans, rrm_err *err);

/* ---- judge and rank (src/judge, src/rank) -------------------------------------------------- */
/* The RRM protocol of DESIGN.md §5 without the model: prompt messages, position order, verdict
 * parsing, voting, and ranking many candidates through a caller-supplied comparator. Everything
 * here is a pure function of its arguments (no global state) and safe to call from any thread. */

/* Largest query or response accepted by rrm_judge_messages_build (bytes). */
#define RRM_JUDGE_MAX_TEXT ((size_t)64 << 20)

/* The two chat messages of one comparison. `system` is borrowed (static, never freed); `user`
 * is owned and freed by rrm_judge_messages_free. Both are NUL-terminated. */
typedef struct rrm_judge_messages {
    const char *system;
    size_t system_len;
    char *user;
    size_t user_len;
} rrm_judge_messages;

/* The exact system prompt / analysis suffix of the RRM model card (static, NUL-terminated). */
const char *rrm_judge_system_prompt(size_t *len);
const char *rrm_judge_analysis_suffix(size_t *len);

/* Builds the messages for `query` with `resp1` shown as Assistant 1 and `resp2` as Assistant 2
 * (the presented order: apply rrm_judge_swap first). The user message is
 *   "## Query\n\n{q}\n\n## Assistant responses\n\n### Assistant 1\n\n{a1}"
 *   "\n\n\n### Assistant 2\n\n{a2}\n\n"
 * followed by the analysis suffix. Texts must be valid UTF-8 without NUL bytes and at most
 * RRM_JUDGE_MAX_TEXT bytes each; empty texts are allowed. Errors: RRM_E_INVAL (NULL argument),
 * RRM_E_FORMAT (invalid UTF-8 or NUL; the message names the field and the byte offset),
 * RRM_E_LIMIT (too long), RRM_E_NOMEM. */
int rrm_judge_messages_build(rrm_judge_messages *out, const char *query, size_t query_len,
                             const char *resp1, size_t resp1_len, const char *resp2,
                             size_t resp2_len, rrm_err *err);
void rrm_judge_messages_free(rrm_judge_messages *m);

/* Position order (RewardBench protocol): 1 when comparison `index` under `seed` presents the
 * caller's B as Assistant 1, else 0. Each (seed, index) swaps with probability 1/2: a salt is
 * the first xoshiro256** output for `seed`, and the answer is the top bit of the first output of
 * the generator seeded with salt ^ index. Stable across versions and platforms (tests pin it). */
int rrm_judge_swap(uint64_t seed, uint64_t index);

/* What the model answered, in presented positions. */
enum rrm_verdict {
    RRM_VERDICT_INVALID = 0,
    RRM_VERDICT_ASSISTANT_1 = 1,
    RRM_VERDICT_ASSISTANT_2 = 2,
};
/* Why a verdict is what it is. */
enum rrm_verdict_reason {
    RRM_VREASON_OK = 0,              /* the deciding box holds Assistant 1 or Assistant 2 */
    RRM_VREASON_NO_BOX = 1,          /* no \boxed{ anywhere */
    RRM_VREASON_ONLY_IN_THOUGHT = 2, /* boxes only before the final </think> */
    RRM_VREASON_UNCLOSED = 3,        /* the last box has no closing brace (truncated output) */
    RRM_VREASON_BAD_LABEL = 4,       /* the last box holds something else (Assistant 3, ...) */
};

typedef struct rrm_verdict_info {
    int verdict;         /* enum rrm_verdict */
    int reason;          /* enum rrm_verdict_reason */
    size_t answer_begin; /* byte offset just after the final </think>, 0 when there is none */
    int has_think_end;   /* 1 when the text contains </think> */
    size_t box_begin;    /* byte span [box_begin, box_end) of the deciding "\boxed{...}": the */
    size_t box_end;      /* last box of the answer part (to the end if UNCLOSED); 0, 0 if none */
} rrm_verdict_info;

/* Parses model output (any bytes, `len` of them; NUL bytes are ordinary bytes). Rules:
 *  - The answer part is everything after the last "</think>"; without one, the whole text.
 *  - A box is "\boxed" + optional ASCII blanks + "{", up to its matching "}" (nested {} count,
 *    "\{" and "\}" are escaped braces that do not). Boxes are found left to right; a box inside
 *    another box is part of it. The LAST box of the answer part decides; earlier ones are ignored.
 *  - Its content, with ASCII blanks (space, tab, CR, LF) trimmed at both ends and optionally
 *    wrapped once in \text{...} (trimmed again), must be exactly "Assistant" + one or more spaces
 *    or tabs + "1" or "2". Anything else — Assistant 3, lower case, punctuation, fullwidth or
 *    Cyrillic look-alikes, non-ASCII spaces, escaped braces, a nested box — is BAD_LABEL.
 *  - A last box without a closing brace is UNCLOSED; no box after the final </think> is
 *    ONLY_IN_THOUGHT when the thought has one, else NO_BOX.
 * Returns RRM_OK, or RRM_E_INVAL when out is NULL or text is NULL with len > 0. Never reads
 * outside [text, text+len). */
int rrm_verdict_parse(const char *text, size_t len, rrm_verdict_info *out, rrm_err *err);
/* Static names: "assistant_1", "assistant_2", "invalid"; "ok", "no_box", ... */
const char *rrm_verdict_name(int verdict);
const char *rrm_verdict_reason_name(int reason);

/* A preference in the caller's terms. */
enum rrm_pick { RRM_PICK_NONE = 0, RRM_PICK_A = 1, RRM_PICK_B = 2 };
/* Maps a presented verdict back: with swapped == 0 Assistant 1 is A, with swapped == 1 it is B.
 * INVALID (or any unknown value) maps to RRM_PICK_NONE. */
int rrm_judge_unswap(int verdict, int swapped);

/* Voting@k: majority of the valid votes; invalid votes do not count; a tie or all-invalid is
 * "no decision" (winner RRM_PICK_NONE). confidence = winner votes / valid votes (0.5 for a tie
 * with valid votes, 0 when every vote is invalid). */
typedef struct rrm_vote_result {
    int winner; /* enum rrm_pick */
    int n_a, n_b, n_invalid, n_votes;
    double confidence;
} rrm_vote_result;

/* Tallies k picks (each RRM_PICK_*). Errors: RRM_E_INVAL (k < 1, votes NULL, a value outside
 * RRM_PICK_*). */
int rrm_vote_tally(const int *votes, int k, rrm_vote_result *out, rrm_err *err);
/* Early stopping: 1 when no way of casting the `remaining` votes (each A, B or invalid) can change
 * the outcome (A wins / B wins / no decision) of n_a vs n_b, i.e. remaining == 0 or
 * |n_a - n_b| > remaining; else 0. Negative arguments give 0 (not decided). */
int rrm_vote_decided(int n_a, int n_b, int remaining);

/* Bradley–Terry maximum likelihood on a win matrix, reported on the Elo scale. */
typedef struct rrm_bt_params {
    double prior;   /* pseudo-games: each candidate gets `prior` wins and `prior` losses against
                     * a virtual candidate of strength 1, so ratings stay finite under perfect
                     * separation or for a candidate that never wins (default 0.1; 0 = pure MLE,
                     * which needs every candidate to have a win and a loss) */
    double anchor;  /* mean of the reported ratings (default 1000) */
    double tol;     /* stop when the Newton step moves no log10 strength more than tol
                     * (default 1e-10) */
    int max_iter;   /* Newton steps at most (default 200) */
} rrm_bt_params;
rrm_bt_params rrm_bt_default_params(void);

/* wins[i*n + j] = times i beat j (>= 0, finite; the diagonal is ignored). Writes n ratings
 * 400*log10(strength) shifted to mean `anchor`, so P(i beats j) = 1/(1+10^((r_j - r_i)/400)).
 * Fitted by Newton's method with a line search (O(n^3) per step; a few dozen steps at most).
 * *iters (may be NULL) gets the steps used. Errors: RRM_E_INVAL (n < 1, bad counts or params,
 * prior 0 without a finite MLE: the "i beat j" graph is not strongly connected), RRM_E_LIMIT (no
 * convergence in max_iter; ratings are not written), RRM_E_NOMEM. */
int rrm_bt_fit(const double *wins, int n, const rrm_bt_params *p, double *ratings, int *iters,
               rrm_err *err);

/* One match handed to the comparator: candidates a and b (a < b in ELO; bracket order in a
 * knockout), presented with b as Assistant 1 when swapped == 1. */
typedef struct rrm_match {
    int32_t a, b;
    int32_t swapped;  /* rrm_judge_swap(seed, index) */
    int32_t round;    /* knockout round (0-based); 0 for ELO */
    int32_t k;        /* votes wanted */
    uint64_t index;   /* comparison index: position in the schedule, unique within a run */
} rrm_match;

/* What the comparator returns per match, in PRESENTED positions (the ranker maps them back). */
typedef struct rrm_match_votes {
    int32_t n_1;       /* votes for Assistant 1 */
    int32_t n_2;       /* votes for Assistant 2 */
    int32_t n_invalid; /* invalid votes; n_1 + n_2 + n_invalid <= k (fewer with early stopping) */
} rrm_match_votes;

/* Judges n_matches matches at once (they may be decoded together in one batch) and writes one
 * rrm_match_votes per match. Returns RRM_OK or a negative RRM_E_* code (filling err), which the
 * ranker returns unchanged. */
typedef int (*rrm_compare_fn)(const rrm_match *matches, int n_matches, rrm_match_votes *out,
                              void *user, rrm_err *err);

enum rrm_rank_strategy { RRM_RANK_ELO = 0, RRM_RANK_KNOCKOUT = 1 };

typedef struct rrm_rank_params {
    int strategy;          /* enum rrm_rank_strategy (default ELO) */
    int k;                 /* votes per match (default 1, must be >= 1) */
    uint64_t seed;         /* schedule shuffle, position order, coin flips (default 0) */
    int sequential_elo;    /* ELO: also compute sequential Elo (default 0) */
    double elo_k;          /* sequential Elo K factor (default 32) */
    double elo_start;      /* sequential Elo start rating (default 1000) */
    int max_batch;         /* most matches per comparator call (0 = a whole round; ELO: all) */
    rrm_bt_params bt;      /* Bradley–Terry fit (ELO) */
    rrm_progress_cb progress; /* after each comparator call: matches done / total; may be NULL */
    void *progress_user;
} rrm_rank_params;
rrm_rank_params rrm_rank_default_params(void);

/* Result of rrm_rank_run; allocated by the library, freed with rrm_rank_result_free. Arrays of n
 * are indexed by candidate; arrays of n_matches follow the order of play. */
typedef struct rrm_rank_result {
    int strategy, n, k;
    int n_matches;          /* ELO: n(n-1)/2; knockout: n-1 */
    int n_rounds;           /* knockout: ceil(log2 n); ELO: 1 (0 when n == 1) */
    int n_calls;            /* comparator calls made */
    int best;               /* order[0] */
    int32_t *order;         /* n: candidates, best first */
    int32_t *place;         /* n: 1-based rank; shared by knockout candidates out in one round */
    double *rating;         /* n: ELO Bradley–Terry ratings (Elo scale); NULL for knockout */
    double *seq_elo;        /* n: sequential Elo in order of play; NULL unless requested */
    int bt_iters;           /* Newton steps of the fit */
    int64_t *wins, *losses, *invalid; /* n: votes won / lost / invalid over all matches */
    rrm_match *matches;     /* n_matches: as handed to the comparator */
    rrm_match_votes *votes; /* n_matches: as returned (presented positions) */
    int32_t *winner;        /* n_matches: winning candidate; -1 = no decision (ELO only) */
    int32_t *by_coin;       /* n_matches: 1 when a knockout no-decision was settled by a coin */
    int32_t *bye;           /* n_rounds: knockout candidate that skipped the round, or -1 */
} rrm_rank_result;

/* Ranks n candidates with `cmp`.
 *  ELO: every pair i < j once (k votes), in an order shuffled by the seed; each valid vote is one
 *   game for the Bradley–Terry fit (invalid votes are skipped); sequential Elo scores a match as
 *   the winner's share of its valid votes (no update when all are invalid). Order: rating
 *   descending, then index ascending.
 *  Knockout: the seed shuffles the bracket; each round pairs neighbours (1st-2nd, 3rd-4th, ...),
 *   an odd one out gets a bye and opens the next round's list; winners follow in bracket order.
 *   All matches of a round go to one comparator call (or max_batch chunks). The majority of
 *   valid votes wins; a no decision is settled by a seeded coin (by_coin = 1). Places: 1 for the
 *   champion, 2 for the finalist, then shared places by the round a candidate lost in.
 * Errors: RRM_E_INVAL (n < 1, too many candidates, k < 1, NULL cmp/out, bad params, or votes from
 * the comparator that are negative or exceed k), RRM_E_CANCELLED (progress returned non-zero),
 * the comparator's own error, RRM_E_NOMEM. n == 1 gives a trivial result with no matches. */
int rrm_rank_run(int n, const rrm_rank_params *p, rrm_compare_fn cmp, void *user,
                 rrm_rank_result **out, rrm_err *err);
void rrm_rank_result_free(rrm_rank_result *r);
/* Most candidates: ELO 2048 (2096128 pairs), knockout 1 << 20. */
#define RRM_RANK_MAX_ELO 2048
#define RRM_RANK_MAX_KNOCKOUT (1 << 20)

/* ---- running a judge model (src/judge/run.c) ---------------------------------------------- */
/* A judge = model + tokenizer + chat template + one context and scheduler. Comparisons handed
 * to rrm_judge_run in one call are decoded together: each comparison's prompt is prefilled once
 * and its k votes are forks of it, and the votes of all comparisons share every forward. With
 * prefix_share (default) a comparison whose prompt ids start like another's (same system prompt
 * and query; same first response) forks that one's KV for the shared positions and prefills
 * only the rest — the same numbers, so the same verdicts as without sharing. The prompts of
 * finished comparisons stay cached (a few, evicted when KV is needed) for the next call, e.g. the
 * next knockout round.
 * Single owner, not thread-safe. Results depend only on (model, inputs, params), not on the
 * thread count or on which other comparisons share the call. */
typedef struct rrm_judge rrm_judge;

struct rrm_judge_result; /* below */

typedef struct rrm_judge_params {
    int k;                        /* votes per comparison (default 1) */
    rrm_sampler_params sampling;  /* model card: temperature 0.6, top_p 1.0 (seed is ignored:
                                   * vote i of comparison c uses a seed derived from `seed`, c's
                                   * index and i) */
    int64_t max_new_tokens;       /* per vote, default 8192 (clamped to the model's context) */
    int64_t think_budget;         /* 0 = none; else after this many tokens without </think> the
                                   * judge appends "\n</think>\n\n" and lets the model answer */
    uint64_t seed;                /* position order and sampling (default 0) */
    int early_stop;               /* stop a comparison's votes once the majority is decided */
    int n_threads;                /* forward threads (default 1) */
    int64_t n_ctx;                /* KV tokens; 0 = enough for every comparison of a run at once
                                   * (worst case), at most 1 << 20 */
    int kv_type;                  /* RRM_KV_F32 (default) or RRM_KV_F16 */
    int n_batch;                  /* rows per forward (default 512) */
    int prefix_share;             /* 1 (default): comparisons of a run share the KV of common
                                   * prompt prefixes; 0: each prefills its whole prompt */
    const char *template_name;    /* force a chat template family (NULL = detect) */
    rrm_progress_cb progress;     /* tokens generated / budget, once per forward; may be NULL */
    void *progress_user;
    int64_t kv_max;               /* with n_ctx 0: allocate at most this many KV tokens (0 =
                                   * 1 << 20), but never less than one comparison needs; the
                                   * comparisons of a run then wait for each other's blocks */
    /* Called once per comparison of rrm_judge_run as soon as its votes are final, with out[i]
     * complete (borrowed: still owned by the caller's out array); may be NULL. A return other
     * than RRM_OK (with err filled) stops the run with that error. */
    int (*on_result)(int i, const struct rrm_judge_result *r, void *user, rrm_err *err);
    void *on_result_user;
} rrm_judge_params;
rrm_judge_params rrm_judge_default_params(void);

/* Loads model, tokenizer and template from `path` (HF directory or .gguf). */
int rrm_judge_open(rrm_judge **out, const char *path, const rrm_judge_params *p, rrm_err *err);
void rrm_judge_close(rrm_judge *j);
/* The judge's model (borrowed). */
const rrm_model *rrm_judge_model(const rrm_judge *j);

/* One comparison: which of a, b answers query better. */
typedef struct rrm_judge_pair {
    const char *query, *a, *b;    /* UTF-8, borrowed */
    size_t query_len, a_len, b_len;
    uint64_t index;               /* comparison index for the position order and seeds */
    int swap;                     /* -1: rrm_judge_swap(seed, index); 0: a is Assistant 1;
                                   * 1: b is Assistant 1 */
} rrm_judge_pair;

/* The exact prompt of a comparison: rendered text and ids (query and responses encoded as plain
 * text: they can never become special tokens). *text and *ids are new (rrm_text_free,
 * rrm_tokens_free); *swapped gets the presented order. */
int rrm_judge_prompt(rrm_judge *j, const rrm_judge_pair *pair, char **text, size_t *text_len,
                     int32_t **ids, int64_t *n_ids, int *swapped, rrm_err *err);

typedef struct rrm_judge_vote {
    int verdict;        /* enum rrm_verdict (presented positions) */
    int reason;         /* enum rrm_verdict_reason */
    int pick;           /* enum rrm_pick (caller's a/b) */
    int finish;         /* 1 eos, 2 length, 3 cancelled, 4 not run (early stop) */
    int64_t n_tokens;   /* generated, forced close included */
    int forced_close;   /* 1 when the thinking budget closed the thought */
    char *text;         /* the generated text (owned by the result) */
    size_t text_len;
} rrm_judge_vote;

typedef struct rrm_judge_result {
    int swapped;           /* 1: b was Assistant 1 */
    int64_t n_prompt;      /* prompt tokens */
    int64_t max_new_tokens;/* after clamping to the model's context */
    int k;
    rrm_judge_vote *votes; /* k */
    rrm_vote_result tally; /* in the caller's terms (winner RRM_PICK_A/B/NONE) */
} rrm_judge_result;

typedef struct rrm_judge_stats {
    int64_t forwards, prefill_tokens, decode_tokens, max_batch_rows;
    int64_t prompt_tokens;        /* prompt tokens of all comparisons */
    int64_t prefix_reused_tokens; /* prompt positions taken from another comparison's KV; when
                                   * nothing was cancelled prompt = prefill + prefix_reused */
    double seconds;
} rrm_judge_stats;

/* Judges n comparisons together; out[i] is filled for each (free each with
 * rrm_judge_result_free). Errors: RRM_E_FORMAT (invalid UTF-8 in a text), RRM_E_LIMIT (a prompt
 * longer than the model's context, or more KV than n_ctx allows), RRM_E_CANCELLED (progress
 * returned non-zero), RRM_E_NOMEM; nothing is left allocated in out on error. */
int rrm_judge_run(rrm_judge *j, const rrm_judge_pair *pairs, int n, rrm_judge_result *out,
                  rrm_judge_stats *stats, rrm_err *err);
void rrm_judge_result_free(rrm_judge_result *r);

/* A comparator for rrm_rank_run over `candidates` for one `query` with this judge. */
typedef struct rrm_judge_rank_ctx {
    rrm_judge *judge;
    const char *query;
    size_t query_len;
    const char *const *candidates;
    const size_t *candidate_lens;
    int n_candidates;
    rrm_judge_stats stats;        /* summed over comparator calls */
} rrm_judge_rank_ctx;
/* rrm_compare_fn: `user` is a rrm_judge_rank_ctx*. */
int rrm_judge_compare(const rrm_match *matches, int n_matches, rrm_match_votes *out, void *user,
                      rrm_err *err);

#ifdef __cplusplus
}
#endif

#endif /* RRM_H */
