/*
 * fmt_internal.h — helpers shared by the readers and writers of src/formats (not API outside
 * this module): limit defaults, a name -> index hash table (duplicate detection and O(1) lookup
 * for GGUF keys, GGUF tensors and safetensors tensors), the tensor size check common to both
 * formats, and a buffered writer that creates files atomically (temp file + rename).
 */
#ifndef RRM_FMT_INTERNAL_H
#define RRM_FMT_INTERNAL_H

#include "formats/formats.h"

#include <stdio.h>

/* Default limits (formats.h documents them). */
#define FMT_DEF_MAX_KV ((uint64_t)1 << 20)
#define FMT_DEF_MAX_TENSORS ((uint64_t)1 << 16)
#define FMT_DEF_MAX_STRING ((uint64_t)1 << 26)
#define FMT_DEF_MAX_ARRAY ((uint64_t)1 << 26)
#define FMT_DEF_MAX_HEADER ((uint64_t)100000000) /* safetensors' own MAX_HEADER_SIZE */

/* Copies `in` (may be NULL) into `out`, replacing zero fields by the defaults. */
void fmt_limits_resolve(struct fmt_limits *out, const struct fmt_limits *in);

/* Open-addressing hash table from NUL-terminated names (borrowed; they must outlive the table)
 * to int64 indices. Capacity is fixed at init (a power of two >= 2 n). */
struct fmt_slot {
    const char *name; /* NULL: empty */
    int64_t idx;
};
struct fmt_index {
    struct fmt_slot *slot;
    size_t cap;
};
/* RRM_OK or RRM_E_NOMEM (ix is then empty, and fmt_index_free is still safe). */
int fmt_index_init(struct fmt_index *ix, int64_t n);
void fmt_index_free(struct fmt_index *ix);
/* Index stored for `name`, or -1. */
int64_t fmt_index_get(const struct fmt_index *ix, const char *name);
/* Inserts name -> idx and returns -1, or returns the existing index when the name is present
 * (nothing inserted). Never more than the n given at init. */
int64_t fmt_index_put(struct fmt_index *ix, const char *name, int64_t idx);

/* Validates a tensor's type, rank and dims and computes its byte size. `pre` prefixes messages
 * (e.g. "gguf: 'x.gguf'"). Errors: RRM_E_UNSUPPORTED (unknown type), RRM_E_FORMAT (rank, negative
 * dim, ne[0] not a multiple of the block, element count or byte size overflows). */
int fmt_tensor_check(const char *pre, const char *name, int type, int n_dims, const int64_t *ne,
                     size_t *nbytes, rrm_err *err);

/* A file written to `path.tmp.<pid>` and renamed into place on success. Errors are sticky: the
 * first failed write is remembered and reported by fmt_out_close. */
struct fmt_out {
    FILE *f;
    char *path, *tmp;
    uint64_t pos; /* bytes written so far */
    int failed;   /* errno of the first failure, or -1 for a failure without errno */
};
int fmt_out_open(struct fmt_out *o, const char *path, rrm_err *err);
void fmt_out_write(struct fmt_out *o, const void *p, size_t n);
void fmt_out_zeros(struct fmt_out *o, size_t n);
void fmt_out_u32(struct fmt_out *o, uint32_t v);
void fmt_out_u64(struct fmt_out *o, uint64_t v);
/* Flushes, fsyncs and renames (ok != 0 and no write failed) or removes the temp file. Returns
 * RRM_OK or RRM_E_IO. Always frees o's resources. */
int fmt_out_close(struct fmt_out *o, int ok, rrm_err *err);

/* Little-endian loads from unaligned bytes (the formats are little-endian). */
static inline uint32_t fmt_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t fmt_le64(const uint8_t *p)
{
    return (uint64_t)fmt_le32(p) | (uint64_t)fmt_le32(p + 4) << 32;
}

/* Appends s[0..n) to a JSON document as a quoted, escaped string. RRM_OK or RRM_E_NOMEM. */
int fmt_json_str(struct rrm_str *out, const char *s, size_t n);

#endif /* RRM_FMT_INTERNAL_H */
