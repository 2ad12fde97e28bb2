/*
 * gguf_write.c — GGUF v3 writer (spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md),
 * laid out like ggml's gguf_write_to_file: header, KVs in insertion order, tensor infos, zero
 * padding to the alignment, then each tensor's data padded to the alignment. The alignment is
 * 32 (GGUF_DEFAULT_ALIGNMENT) unless a `general.alignment` u32 was added. Everything the caller
 * passes is checked (names, types, shapes, sizes); duplicate keys and tensor names are
 * RRM_E_INVAL. The file is written to a temp file and renamed into place.
 */
#include "formats/fmt_internal.h"

#define GGUF_WMAX_NAME 63 /* GGML_MAX_NAME - 1 */

struct gguf_wtensor {
    char *name;
    int type, n_dims;
    int64_t ne[FMT_MAX_DIMS];
    const void *data; /* borrowed, or == owned; NULL for a deferred tensor */
    void *owned;
    size_t nbytes;
    int deferred; /* data produced by the fill callback at write time */
};

struct gguf_writer {
    struct rrm_str meta; /* serialized KVs, in insertion order */
    char **keys;         /* (n_kv) for duplicate checks */
    int64_t n_kv, cap_kv;
    struct gguf_wtensor *t;
    int64_t n_t, cap_t;
    uint32_t alignment;
};

int gguf_writer_init(struct gguf_writer **out, rrm_err *err)
{
    *out = NULL;
    struct gguf_writer *w = rrm_calloc(1, sizeof *w);
    if (!w) return rrm_errf(err, RRM_E_NOMEM, "gguf_writer_init: out of memory");
    w->alignment = 32;
    *out = w;
    return RRM_OK;
}

void gguf_writer_free(struct gguf_writer *w)
{
    if (!w) return;
    rrm_str_free(&w->meta);
    for (int64_t i = 0; i < w->n_kv; i++) rrm_free(w->keys[i]);
    rrm_free(w->keys);
    for (int64_t i = 0; i < w->n_t; i++) {
        rrm_free(w->t[i].name);
        rrm_free(w->t[i].owned);
    }
    rrm_free(w->t);
    rrm_free(w);
}

/* Grows *arr (of elem bytes each) so that one more element fits. */
static int grow(void **arr, int64_t *cap, int64_t n, size_t elem)
{
    if (n < *cap) return RRM_OK;
    int64_t nc = *cap ? *cap * 2 : 16;
    size_t bytes;
    if (!rrm_mul_size(&bytes, (size_t)nc, elem)) return RRM_E_NOMEM;
    void *p = rrm_realloc(*arr, bytes);
    if (!p) return RRM_E_NOMEM;
    *arr = p;
    *cap = nc;
    return RRM_OK;
}

static int put_u32(struct rrm_str *s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return rrm_str_append(s, (const char *)b, 4);
}

static int put_u64(struct rrm_str *s, uint64_t v)
{
    return put_u32(s, (uint32_t)v) || put_u32(s, (uint32_t)(v >> 32)) ? RRM_E_NOMEM : RRM_OK;
}

static int put_str(struct rrm_str *s, const char *p, size_t n)
{
    return put_u64(s, n) || rrm_str_append(s, p, n) ? RRM_E_NOMEM : RRM_OK;
}

/* Starts a KV: checks the key and appends key + type. On failure nothing is appended (the
 * buffer is cut back), so the writer stays usable. */
static int kv_begin(struct gguf_writer *w, const char *key, int type, size_t *mark, rrm_err *err)
{
    if (!key || !*key) return rrm_errf(err, RRM_E_INVAL, "gguf writer: empty key");
    for (int64_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->keys[i], key) == 0)
            return rrm_errf(err, RRM_E_INVAL, "gguf writer: duplicate key '%s'", key);
    }
    char *k = rrm_strdup(key);
    if (!k || grow((void **)&w->keys, &w->cap_kv, w->n_kv, sizeof *w->keys)) {
        rrm_free(k);
        return rrm_errf(err, RRM_E_NOMEM, "gguf writer: key '%s': out of memory", key);
    }
    *mark = w->meta.len;
    if (put_str(&w->meta, key, strlen(key)) || put_u32(&w->meta, (uint32_t)type)) {
        rrm_free(k);
        w->meta.len = *mark;
        return rrm_errf(err, RRM_E_NOMEM, "gguf writer: key '%s': out of memory", key);
    }
    w->keys[w->n_kv++] = k;
    return RRM_OK;
}

/* Ends a KV: rc != 0 (a failed append) undoes kv_begin. */
static int kv_end(struct gguf_writer *w, size_t mark, int rc, rrm_err *err)
{
    if (rc == RRM_OK) return RRM_OK;
    w->n_kv--;
    rrm_errf(err, RRM_E_NOMEM, "gguf writer: key '%s': out of memory", w->keys[w->n_kv]);
    rrm_free(w->keys[w->n_kv]);
    w->meta.len = mark;
    return RRM_E_NOMEM;
}

static int w_scalar(struct gguf_writer *w, const char *key, int type, const void *v, size_t n,
                    rrm_err *err)
{
    size_t mark;
    int rc = kv_begin(w, key, type, &mark, err);
    if (rc) return rc;
    return kv_end(w, mark, rrm_str_append(&w->meta, v, n), err);
}

int gguf_w_u32(struct gguf_writer *w, const char *key, uint32_t v, rrm_err *err)
{
    int is_align = key && strcmp(key, "general.alignment") == 0;
    if (is_align && (v == 0 || (v & (v - 1)) != 0))
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: general.alignment %u is not a non-zero "
                        "power of two", v);
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    int rc = w_scalar(w, key, GGUF_T_UINT32, b, 4, err);
    if (rc == RRM_OK && is_align) w->alignment = v;
    return rc;
}

/* Any other type for general.alignment would make the file unreadable by ggml. */
static int not_align(const char *key, rrm_err *err)
{
    if (key && strcmp(key, "general.alignment") == 0)
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: general.alignment must be a u32");
    return RRM_OK;
}

int gguf_w_i32(struct gguf_writer *w, const char *key, int32_t v, rrm_err *err)
{
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    return not_align(key, err) ? RRM_E_INVAL : w_scalar(w, key, GGUF_T_INT32, b, 4, err);
}

int gguf_w_u64(struct gguf_writer *w, const char *key, uint64_t v, rrm_err *err)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    return not_align(key, err) ? RRM_E_INVAL : w_scalar(w, key, GGUF_T_UINT64, b, 8, err);
}

int gguf_w_f32(struct gguf_writer *w, const char *key, float v, rrm_err *err)
{
    uint32_t u = rrm_f32_bits(v);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    return not_align(key, err) ? RRM_E_INVAL : w_scalar(w, key, GGUF_T_FLOAT32, b, 4, err);
}

int gguf_w_bool(struct gguf_writer *w, const char *key, int v, rrm_err *err)
{
    uint8_t b = v ? 1 : 0;
    return not_align(key, err) ? RRM_E_INVAL : w_scalar(w, key, GGUF_T_BOOL, &b, 1, err);
}

int gguf_w_str(struct gguf_writer *w, const char *key, const char *s, size_t len, rrm_err *err)
{
    size_t mark;
    if (not_align(key, err)) return RRM_E_INVAL;
    if (!s && len) return rrm_errf(err, RRM_E_INVAL, "gguf writer: key '%s': NULL string", key);
    int rc = kv_begin(w, key, GGUF_T_STRING, &mark, err);
    if (rc) return rc;
    return kv_end(w, mark, put_str(&w->meta, s ? s : "", len), err);
}

/* Bytes per element of a numeric GGUF type, 0 for STRING/ARRAY/unknown. */
static size_t elem_size(int t)
{
    static const uint8_t sz[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t >= 0 && t < 13 ? sz[t] : 0;
}

/* Host value of `size` bytes at v -> little-endian bytes at b. */
static void to_le(uint8_t *b, const void *v, size_t size)
{
    uint64_t x = 0;
    switch (size) {
    case 1: x = *(const uint8_t *)v; break;
    case 2: { uint16_t y; memcpy(&y, v, 2); x = y; } break;
    case 4: { uint32_t y; memcpy(&y, v, 4); x = y; } break;
    default: memcpy(&x, v, 8); break;
    }
    for (size_t i = 0; i < size; i++) b[i] = (uint8_t)(x >> (8 * i));
}

int gguf_w_scalar(struct gguf_writer *w, const char *key, int type, const void *v, rrm_err *err)
{
    size_t es = elem_size(type);
    uint8_t b[8];
    if (!es || !v)
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: key '%s': type %d is not a scalar type",
                        key ? key : "(null)", type);
    if (type == GGUF_T_UINT32) {
        uint32_t u;
        memcpy(&u, v, 4);
        return gguf_w_u32(w, key, u, err);
    }
    if (type == GGUF_T_BOOL && *(const uint8_t *)v > 1)
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: key '%s': bool must be 0 or 1", key);
    to_le(b, v, es);
    return not_align(key, err) ? RRM_E_INVAL : w_scalar(w, key, type, b, es, err);
}

int gguf_w_arr(struct gguf_writer *w, const char *key, int elem_type, const void *data, int64_t n,
               rrm_err *err)
{
    size_t es = elem_size(elem_type), bytes, mark;
    if (not_align(key, err)) return RRM_E_INVAL;
    if (!es || n < 0 || (!data && n > 0) || !rrm_mul_size(&bytes, (size_t)n, es))
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: key '%s': bad array (type %d, n %lld)",
                        key ? key : "(null)", elem_type, (long long)n);
    int rc = kv_begin(w, key, GGUF_T_ARRAY, &mark, err);
    if (rc) return rc;
    rc = put_u32(&w->meta, (uint32_t)elem_type) || put_u64(&w->meta, (uint64_t)n) ||
         rrm_str_append(&w->meta, data, bytes);
    return kv_end(w, mark, rc, err);
}

int gguf_w_arr_str(struct gguf_writer *w, const char *key, const char *const *s,
                   const size_t *len, int64_t n, rrm_err *err)
{
    size_t mark;
    if (not_align(key, err)) return RRM_E_INVAL;
    if (n < 0 || (n > 0 && (!s || !len)))
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: key '%s': bad string array (n %lld)",
                        key ? key : "(null)", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (!s[i] && len[i])
            return rrm_errf(err, RRM_E_INVAL, "gguf writer: key '%s': element %lld is NULL", key,
                            (long long)i);
    }
    int rc = kv_begin(w, key, GGUF_T_ARRAY, &mark, err);
    if (rc) return rc;
    rc = put_u32(&w->meta, GGUF_T_STRING) || put_u64(&w->meta, (uint64_t)n);
    for (int64_t i = 0; !rc && i < n; i++) rc = put_str(&w->meta, s[i] ? s[i] : "", len[i]);
    return kv_end(w, mark, rc, err);
}

int gguf_w_tensor(struct gguf_writer *w, const char *name, int type, int n_dims,
                  const int64_t *ne, const void *data, size_t nbytes, int copy, rrm_err *err)
{
    size_t need;
    size_t nl = name ? strlen(name) : 0;
    if (nl == 0 || nl > GGUF_WMAX_NAME)
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: tensor name '%s' must be 1..%d bytes",
                        name ? name : "(null)", GGUF_WMAX_NAME);
    for (int64_t i = 0; i < w->n_t; i++) {
        if (strcmp(w->t[i].name, name) == 0)
            return rrm_errf(err, RRM_E_INVAL, "gguf writer: duplicate tensor '%s'", name);
    }
    int rc = fmt_tensor_check("gguf writer", name, type, n_dims, ne, &need, err);
    if (rc) {
        if (err) err->code = RRM_E_INVAL; /* the caller's data, not a file: keep the message */
        return RRM_E_INVAL;
    }
    if (need != nbytes || (!data && nbytes))
        return rrm_errf(err, RRM_E_INVAL, "gguf writer: tensor '%s': %zu bytes given, shape and "
                        "type need %zu", name, nbytes, need);
    if (grow((void **)&w->t, &w->cap_t, w->n_t, sizeof *w->t))
        return rrm_errf(err, RRM_E_NOMEM, "gguf writer: tensor '%s': out of memory", name);
    struct gguf_wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = rrm_strdup(name);
    if (copy) t->owned = rrm_malloc(nbytes);
    if (!t->name || (copy && !t->owned)) {
        rrm_free(t->name);
        rrm_free(t->owned);
        return rrm_errf(err, RRM_E_NOMEM, "gguf writer: tensor '%s': out of memory", name);
    }
    if (copy && nbytes) memcpy(t->owned, data, nbytes);
    t->data = copy ? t->owned : data;
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < FMT_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->nbytes = nbytes;
    w->n_t++;
    return RRM_OK;
}

int gguf_w_tensor_deferred(struct gguf_writer *w, const char *name, int type, int n_dims,
                           const int64_t *ne, size_t nbytes, rrm_err *err)
{
    static const uint8_t none = 0;
    int rc = gguf_w_tensor(w, name, type, n_dims, ne, &none, nbytes, 0, err);
    if (rc == RRM_OK) {
        w->t[w->n_t - 1].data = NULL;
        w->t[w->n_t - 1].deferred = 1;
    }
    return rc;
}

static size_t pad_to(uint64_t pos, uint32_t align)
{
    return (size_t)((align - pos % align) % align);
}

int gguf_writer_write(struct gguf_writer *w, const char *path, rrm_err *err)
{
    return gguf_writer_write_fill(w, path, NULL, NULL, err);
}

int gguf_writer_write_fill(struct gguf_writer *w, const char *path, gguf_fill_fn fill,
                           void *user, rrm_err *err)
{
    size_t big = 0;
    for (int64_t i = 0; i < w->n_t; i++) {
        if (w->t[i].deferred && w->t[i].nbytes > big) big = w->t[i].nbytes;
        if (w->t[i].deferred && !fill)
            return rrm_errf(err, RRM_E_INVAL, "gguf writer: tensor '%s' has no data and no fill "
                            "callback", w->t[i].name);
    }
    void *buf = big ? rrm_malloc(big) : NULL;
    if (big && !buf)
        return rrm_errf(err, RRM_E_NOMEM, "gguf writer: out of memory (%zu bytes)", big);
    struct fmt_out o;
    int rc = fmt_out_open(&o, path, err);
    if (rc) {
        rrm_free(buf);
        return rc;
    }
    fmt_out_write(&o, "GGUF", 4);
    fmt_out_u32(&o, 3);
    fmt_out_u64(&o, (uint64_t)w->n_t);
    fmt_out_u64(&o, (uint64_t)w->n_kv);
    fmt_out_write(&o, w->meta.p, w->meta.len);
    uint64_t off = 0; /* offset of the next tensor in the data section */
    for (int64_t i = 0; i < w->n_t; i++) {
        const struct gguf_wtensor *t = &w->t[i];
        fmt_out_u64(&o, strlen(t->name));
        fmt_out_write(&o, t->name, strlen(t->name));
        fmt_out_u32(&o, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) fmt_out_u64(&o, (uint64_t)t->ne[d]);
        fmt_out_u32(&o, (uint32_t)t->type);
        fmt_out_u64(&o, off);
        off += t->nbytes + pad_to(t->nbytes, w->alignment);
    }
    fmt_out_zeros(&o, pad_to(o.pos, w->alignment));
    for (int64_t i = 0; i < w->n_t; i++) {
        const void *data = w->t[i].data;
        if (w->t[i].deferred) {
            if ((rc = fill(user, i, buf, w->t[i].nbytes, err)) != RRM_OK) {
                rrm_free(buf);
                fmt_out_close(&o, 0, NULL); /* removes the temp file: nothing half-written */
                return rc;
            }
            data = buf;
        }
        fmt_out_write(&o, data, w->t[i].nbytes);
        fmt_out_zeros(&o, pad_to(w->t[i].nbytes, w->alignment));
    }
    rrm_free(buf);
    return fmt_out_close(&o, 1, err);
}
