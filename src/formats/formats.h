/*
 * formats.h — model file formats: GGUF v2/v3 (read + write), safetensors (single file, sharded
 * index; read + write) and Hugging Face config.json. Every file is untrusted input: counts,
 * shapes, dtypes, offsets and sizes are checked with overflow-safe arithmetic before use
 * (CVE-2024-21802, CVE-2024-23605), and errors name the file, the tensor or key, and the numbers.
 * Readers mmap the file; tensor data are borrowed views into the map, valid while the file object
 * lives. This module decides nothing about compute types.
 *
 * Shapes are stored innermost-first (ggml order) in struct fmt_tensor for both formats: a
 * safetensors tensor of shape [rows, cols] has ne = {cols, rows, 1, 1}.
 */
#ifndef RRM_FORMATS_H
#define RRM_FORMATS_H

#include "core/core.h"

#define FMT_MAX_DIMS 4

/* A tensor as stored in a file. All fields validated at open. */
struct fmt_tensor {
    const char *name;       /* NUL-terminated, owned by the file object */
    int type;               /* RRM_TYPE_* */
    int n_dims;             /* 1..FMT_MAX_DIMS */
    int64_t ne[FMT_MAX_DIMS]; /* innermost first; dims past n_dims are 1 */
    const void *data;       /* inside the map: [data, data + nbytes) lies within the file */
    size_t nbytes;          /* = product(ne) / block * block_bytes */
};

/* Limits applied while reading (0 = default). */
struct fmt_limits {
    uint64_t max_kv;          /* GGUF metadata pairs (default 1 << 20) */
    uint64_t max_tensors;     /* tensors per file (default 1 << 16) */
    uint64_t max_string;      /* bytes of one GGUF string (default 1 << 26) */
    uint64_t max_array;       /* elements of one GGUF array (default 1 << 26) */
    uint64_t max_header;      /* safetensors JSON header bytes (default 100,000,000) */
};

/* ---- GGUF (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md) ---- */

enum gguf_vtype {
    GGUF_T_UINT8 = 0,
    GGUF_T_INT8 = 1,
    GGUF_T_UINT16 = 2,
    GGUF_T_INT16 = 3,
    GGUF_T_UINT32 = 4,
    GGUF_T_INT32 = 5,
    GGUF_T_FLOAT32 = 6,
    GGUF_T_BOOL = 7,
    GGUF_T_STRING = 8,
    GGUF_T_ARRAY = 9,
    GGUF_T_UINT64 = 10,
    GGUF_T_INT64 = 11,
    GGUF_T_FLOAT64 = 12,
};

struct gguf_file;

/* Opens and validates a GGUF file (versions 2 and 3). `lim` may be NULL. On success *out owns
 * the map. Errors: RRM_E_IO, RRM_E_FORMAT (bad magic, version, type, offset, ...), RRM_E_LIMIT,
 * RRM_E_NOMEM, RRM_E_UNSUPPORTED (tensor type we do not know). */
int gguf_open(struct gguf_file **out, const char *path, const struct fmt_limits *lim,
              rrm_err *err);
/* The same over a caller-owned buffer that must outlive the object (tests, fuzzing). */
int gguf_open_buf(struct gguf_file **out, const void *buf, size_t len, const char *what,
                  const struct fmt_limits *lim, rrm_err *err);
void gguf_close(struct gguf_file *f);

uint32_t gguf_version(const struct gguf_file *f);
uint64_t gguf_alignment(const struct gguf_file *f);
uint64_t gguf_data_offset(const struct gguf_file *f); /* start of the tensor data section */
int64_t gguf_n_kv(const struct gguf_file *f);
const char *gguf_kv_key(const struct gguf_file *f, int64_t i);
int gguf_kv_type(const struct gguf_file *f, int64_t i); /* enum gguf_vtype */
int64_t gguf_find_key(const struct gguf_file *f, const char *key); /* index or -1 */

/* Typed getters by key. RRM_E_INVAL if the key is missing (message names it), RRM_E_FORMAT if
 * its type does not fit. Integer getters accept any integer type whose value fits; float getters
 * accept FLOAT32 and FLOAT64. Strings are not NUL-terminated in the file: *s points into the map
 * and *len is the byte length. */
int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out, rrm_err *err);
int gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *out, rrm_err *err);
int gguf_get_f64(const struct gguf_file *f, const char *key, double *out, rrm_err *err);
int gguf_get_bool(const struct gguf_file *f, const char *key, int *out, rrm_err *err);
int gguf_get_str(const struct gguf_file *f, const char *key, const char **s, size_t *len,
                 rrm_err *err);
/* Arrays: element type and count. Numeric elements are little-endian in the map at *data
 * (unaligned: read with memcpy). String elements via gguf_get_arr_str (O(1) per element). */
int gguf_get_arr(const struct gguf_file *f, const char *key, int *elem_type, int64_t *n,
                 const void **data, rrm_err *err);
int gguf_get_arr_str(const struct gguf_file *f, const char *key, int64_t i, const char **s,
                     size_t *len, rrm_err *err);

int64_t gguf_n_tensors(const struct gguf_file *f);
const struct fmt_tensor *gguf_tensor(const struct gguf_file *f, int64_t i);
const struct fmt_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name);

/* 1 when path names a GGUF file: the ".gguf" suffix or the magic "GGUF" (for loaders that
 * accept several formats). */
int gguf_is_file(const char *path);

/* GGUF writer. Values and tensor data are copied (tensor data is borrowed only until
 * gguf_writer_write returns if `copy` is 0). Keys keep insertion order. */
struct gguf_writer;
int gguf_writer_init(struct gguf_writer **out, rrm_err *err);
void gguf_writer_free(struct gguf_writer *w);
int gguf_w_u32(struct gguf_writer *w, const char *key, uint32_t v, rrm_err *err);
int gguf_w_i32(struct gguf_writer *w, const char *key, int32_t v, rrm_err *err);
int gguf_w_u64(struct gguf_writer *w, const char *key, uint64_t v, rrm_err *err);
int gguf_w_f32(struct gguf_writer *w, const char *key, float v, rrm_err *err);
int gguf_w_bool(struct gguf_writer *w, const char *key, int v, rrm_err *err);
int gguf_w_str(struct gguf_writer *w, const char *key, const char *s, size_t len, rrm_err *err);
/* Any numeric scalar type (GGUF_T_UINT8 .. GGUF_T_FLOAT64 except STRING/ARRAY): *v is a host
 * value of that type (uint8_t, int16_t, double, ...; bool as a uint8_t 0 or 1). */
int gguf_w_scalar(struct gguf_writer *w, const char *key, int type, const void *v, rrm_err *err);
/* Numeric array: elem_type one of the scalar GGUF_T_*, n elements of its size at data. */
int gguf_w_arr(struct gguf_writer *w, const char *key, int elem_type, const void *data, int64_t n,
               rrm_err *err);
/* String array: n strings given as pointers + byte lengths. */
int gguf_w_arr_str(struct gguf_writer *w, const char *key, const char *const *s,
                   const size_t *len, int64_t n, rrm_err *err);
int gguf_w_tensor(struct gguf_writer *w, const char *name, int type, int n_dims,
                  const int64_t *ne, const void *data, size_t nbytes, int copy, rrm_err *err);
/* Writes version 3 with `general.alignment` (default 32 when no such key was set). */
int gguf_writer_write(struct gguf_writer *w, const char *path, rrm_err *err);
/* A tensor whose nbytes of data are produced while the file is written (streaming conversion:
 * one tensor in memory at a time). Same checks as gguf_w_tensor. */
int gguf_w_tensor_deferred(struct gguf_writer *w, const char *name, int type, int n_dims,
                           const int64_t *ne, size_t nbytes, rrm_err *err);
/* Fills buf (nbytes, writer-owned, reused) with the data of tensor i (insertion order);
 * returns RRM_OK or an error (with err set), which aborts the write. */
typedef int (*gguf_fill_fn)(void *user, int64_t i, void *buf, size_t nbytes, rrm_err *err);
/* gguf_writer_write calling fill for each deferred tensor in file order. Written to a temp
 * file and renamed: on any error no file is left at path. */
int gguf_writer_write_fill(struct gguf_writer *w, const char *path, gguf_fill_fn fill,
                           void *user, rrm_err *err);

/* ---- safetensors (https://github.com/huggingface/safetensors) ---- */

/* A set of tensors from one file or from all shards of an index. */
struct st_set;

/* Opens one .safetensors file. Accepted dtypes: F32, F16, BF16 (others: RRM_E_UNSUPPORTED
 * naming the tensor and dtype). Checks: 8-byte header length <= max_header, header is a JSON
 * object, each entry has dtype/shape/data_offsets, offsets in order, contiguous, no overlap or
 * gap, end == data size, header + data == file size, no duplicate names. */
int st_open_file(struct st_set **out, const char *path, const struct fmt_limits *lim,
                 rrm_err *err);
/* Opens a model directory: model.safetensors.index.json (only `weight_map` is trusted; every
 * shard it names is opened once; each tensor must be found in the shard the map names, and
 * every tensor the map names must exist) or else model.safetensors. */
int st_open_dir(struct st_set **out, const char *dir, const struct fmt_limits *lim, rrm_err *err);
/* The same as st_open_file over a caller-owned buffer that must outlive the set (tests,
 * fuzzing). `what` names it in messages. */
int st_open_buf(struct st_set **out, const void *buf, size_t len, const char *what,
                const struct fmt_limits *lim, rrm_err *err);
void st_close(struct st_set *s);
int64_t st_n_tensors(const struct st_set *s);
const struct fmt_tensor *st_tensor(const struct st_set *s, int64_t i);
const struct fmt_tensor *st_find_tensor(const struct st_set *s, const char *name);
int st_n_files(const struct st_set *s);

/* Writes one safetensors file from tensors (type F32/F16/BF16; ne in ggml order as above), in
 * the given order, with optional __metadata__ {"format": "pt"}. */
int st_write_file(const char *path, const struct fmt_tensor *t, int64_t n, rrm_err *err);
/* Writes `dir` (created if missing) as model-0000N-of-0000M.safetensors shards of at most
 * max_shard_bytes of tensor data each (a larger tensor gets a shard of its own), tensors in the
 * given order, plus model.safetensors.index.json with metadata.total_size and weight_map.
 * Errors: RRM_E_INVAL (bad tensor list), RRM_E_IO, RRM_E_NOMEM. */
int st_write_sharded(const char *dir, const struct fmt_tensor *t, int64_t n,
                     uint64_t max_shard_bytes, rrm_err *err);

/* ---- Hugging Face config.json (Qwen2ForCausalLM) ---- */

struct hf_config {
    char architecture[64];   /* architectures[0] */
    char model_type[32];     /* "qwen2" */
    int64_t hidden_size, intermediate_size, num_hidden_layers, num_attention_heads;
    int64_t num_key_value_heads, vocab_size, max_position_embeddings;
    int64_t head_dim;        /* hidden_size / num_attention_heads unless given */
    double rope_theta, rms_norm_eps;
    int tie_word_embeddings; /* default 0 */
    int64_t bos_token_id, eos_token_id; /* -1 when absent (first element when an array) */
    char torch_dtype[16];
};

/* Parses config.json. RRM_E_UNSUPPORTED, naming the field, for settings that change the math
 * and that rrm does not implement: use_sliding_window true, rope_scaling not null, hidden_act
 * not "silu", use_mrope true, architecture not Qwen2ForCausalLM (or Qwen2 family). Missing
 * required fields or wrong JSON types: RRM_E_FORMAT naming the field. */
int hf_config_load(struct hf_config *out, const char *path, rrm_err *err);
int hf_config_parse(struct hf_config *out, const char *json, size_t len, const char *what,
                    rrm_err *err);

#endif /* RRM_FORMATS_H */
