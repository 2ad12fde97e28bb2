/*
 * core.h — internal helpers shared by every module: errors, counting allocator with fault
 * injection, checked size arithmetic, logging, memory-mapped files, a bounded JSON loader
 * (Jansson), a growable string, a seeded RNG, half-precision conversion and a thread pool.
 * Nothing here knows about models. No mutable global state except the log callback and the
 * test-only allocation counters.
 */
#ifndef RRM_CORE_H
#define RRM_CORE_H

#include "rrm.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- errors ---- */

/* Fills `err` (may be NULL) with code and a printf-style message; returns `code`. */
int rrm_errf(rrm_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with "prefix: " (keeps the code); returns err->code or code. */
int rrm_err_prefix(rrm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Our own invariants only, never input. Active when RRM_DEBUG is defined (test builds). */
void rrm_assert_fail(const char *expr, const char *file, int line);
#ifdef RRM_DEBUG
#define RRM_ASSERT(x) ((x) ? (void)0 : rrm_assert_fail(#x, __FILE__, __LINE__))
#define NEVER(x) ((x) ? (rrm_assert_fail(#x, __FILE__, __LINE__), 1) : 0)
#else
#define RRM_ASSERT(x) ((void)0)
#define NEVER(x) (x)
#endif

/* ---- allocation ---- */

/* All heap memory goes through these. They count live blocks and, in test builds, can be told to
 * fail: rrm_alloc_fail_at(n) makes the n-th allocation from now (0-based) and every later one
 * fail until rrm_alloc_fail_at(-1). */
void *rrm_malloc(size_t n);
void *rrm_calloc(size_t count, size_t size); /* overflow-checked, zeroed */
void *rrm_realloc(void *p, size_t n);
void rrm_free(void *p);
char *rrm_strdup(const char *s);
char *rrm_strndup(const char *s, size_t n);
/* 64-byte aligned, zeroed; free with rrm_free_aligned. */
void *rrm_alloc_aligned(size_t n);
void rrm_free_aligned(void *p);
void rrm_alloc_fail_at(long n);
long rrm_alloc_live(void); /* live allocations made through rrm_* (leak checks in tests) */

/* Checked size arithmetic: return true and write *out when the result fits. */
static inline bool rrm_mul_size(size_t *out, size_t a, size_t b)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool rrm_add_size(size_t *out, size_t a, size_t b)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool rrm_mul_i64(int64_t *out, int64_t a, int64_t b)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* ---- logging ---- */

void rrm_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- files ---- */

/* A read-only memory map of a whole file. size 0 files map to data == NULL. */
struct rrm_mmap {
    const uint8_t *data;
    size_t size;
};
int rrm_mmap_open(struct rrm_mmap *m, const char *path, int populate, rrm_err *err);
void rrm_mmap_close(struct rrm_mmap *m);

/* Reads a whole file (or stdin for "-") into a NUL-terminated buffer owned by the caller
 * (rrm_free). Files larger than max_bytes give RRM_E_LIMIT. */
int rrm_read_file(const char *path, size_t max_bytes, char **out, size_t *len, rrm_err *err);
/* Writes buf to path atomically (temp file + fsync + rename). */
int rrm_write_file(const char *path, const void *buf, size_t len, rrm_err *err);
/* 1 if path is a directory, 0 if not (or missing). */
int rrm_is_dir(const char *path);
/* dir + "/" + name into a new string (rrm_free), NULL on OOM. */
char *rrm_path_join(const char *dir, const char *name);

/* ---- JSON (Jansson, bounded) ---- */

typedef struct json_t json_t;
/* Parses a JSON document of at most max_bytes bytes. *out is a new reference (json_decref). The
 * error names `what` (a file name or "request body") with Jansson's line/column. */
int rrm_json_parse(json_t **out, const char *buf, size_t len, size_t max_bytes, const char *what,
                   rrm_err *err);
int rrm_json_load_file(json_t **out, const char *path, size_t max_bytes, rrm_err *err);
/* Routes Jansson's allocations through rrm_malloc (idempotent, thread-safe). Call it before
 * building json_t values with Jansson's constructors; rrm_json_parse calls it itself. */
void rrm_json_init(void);
/* Serialises `j` with Jansson's json_dumps `flags` (JSON_COMPACT, JSON_INDENT(n), ...) into a new
 * NUL-terminated string owned by the caller (rrm_free). Errors: RRM_E_NOMEM, RRM_E_INVAL. */
int rrm_json_dump(const json_t *j, int flags, char **out, rrm_err *err);

/* ---- growable string ---- */

struct rrm_str {
    char *p;    /* NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
};
int rrm_str_append(struct rrm_str *s, const char *data, size_t n);
int rrm_str_appendf(struct rrm_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rrm_str_free(struct rrm_str *s);

/* ---- RNG: xoshiro256** seeded by splitmix64 (https://prng.di.unimi.it/) ---- */

struct rrm_rng {
    uint64_t s[4];
};
void rrm_rng_seed(struct rrm_rng *r, uint64_t seed);
uint64_t rrm_rng_u64(struct rrm_rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float rrm_rng_float(struct rrm_rng *r);
/* Standard normal (Box–Muller on doubles). */
double rrm_rng_normal(struct rrm_rng *r);

/* ---- half precision (bit-exact with ggml's scalar conversions) ---- */

static inline float rrm_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint32_t rrm_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
/* IEEE binary16 -> binary32, exact. */
float rrm_f16_to_f32(uint16_t h);
/* binary32 -> binary16, round to nearest even, NaN stays NaN, overflow gives inf. */
uint16_t rrm_f32_to_f16(float f);
static inline float rrm_bf16_to_f32(uint16_t h)
{
    return rrm_bits_f32((uint32_t)h << 16);
}
/* binary32 -> bfloat16, round to nearest even; NaN becomes a quiet NaN (ggml's rule). */
static inline uint16_t rrm_f32_to_bf16(float f)
{
    uint32_t u = rrm_f32_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

/* ---- thread pool ---- */

/* A fixed set of worker threads. rrm_tp_run(fn, arg) calls fn(arg, ith, nth) for ith = 0..nth-1
 * (ith 0 on the calling thread) and returns when every call has returned, so each run is a
 * barrier. One owner at a time: not thread-safe. */
struct rrm_threadpool;
typedef void (*rrm_tp_fn)(void *arg, int ith, int nth);
int rrm_tp_init(struct rrm_threadpool **out, int n_threads, rrm_err *err);
void rrm_tp_free(struct rrm_threadpool *tp);
int rrm_tp_n(const struct rrm_threadpool *tp);
void rrm_tp_run(struct rrm_threadpool *tp, rrm_tp_fn fn, void *arg);

/* Splits [0, n) into nth contiguous parts; part ith is [*lo, *hi). */
static inline void rrm_split(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi)
{
    int64_t per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem ? 1 : 0);
}

/* ---- element types (types.c) ---- */
int rrm_type_known(int type);       /* 1 for the RRM_TYPE_* values we know */
int rrm_type_block(int type);       /* elements per block, 0 if unknown */
int rrm_type_block_bytes(int type); /* bytes per block, 0 if unknown */
/* Bytes of a row of n elements: RRM_OK, RRM_E_INVAL (unknown type), RRM_E_FORMAT (n not a
 * multiple of the block) or RRM_E_LIMIT (overflow). */
int rrm_row_bytes(int type, int64_t n, size_t *out);

/* ---- time ---- */
double rrm_time_s(void); /* monotonic seconds */

#endif /* RRM_CORE_H */
