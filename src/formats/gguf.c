/*
 * gguf.c — GGUF v2/v3 reader (spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md;
 * validation rules follow llama.cpp ggml/src/gguf.cpp). The file is untrusted: every count is
 * checked against the limits and against the bytes left in the file before anything is
 * allocated, every size goes through checked arithmetic, and tensor data must lie inside the
 * data section, aligned, without overlaps. Values and tensor data are views into the map.
 *
 * Choices where the spec is open: nested arrays (an array whose elements are arrays) are rejected
 * with RRM_E_UNSUPPORTED, as gguf.cpp does; bools other than 0/1 are RRM_E_FORMAT; version 1 and
 * big-endian files are RRM_E_UNSUPPORTED, versions 0 and > 3 RRM_E_FORMAT. Tensor data may be
 * in any order (gguf.cpp requires the packed order its writer produces; we only require aligned,
 * in-bounds, non-overlapping data).
 */
#include "formats/fmt_internal.h"

#include <stdlib.h>

#define GGUF_MAGIC "GGUF"
#define GGUF_MAX_NAME 64 /* ggml GGML_MAX_NAME, including the NUL: names are at most 63 bytes */
#define GGUF_DEF_ALIGN 32 /* GGUF_DEFAULT_ALIGNMENT */
#define GGUF_N_VTYPES 13

/* One metadata pair; every pointer except key and str_off points into the map. */
struct gguf_kv {
    char *key;         /* NUL-terminated copy */
    int type;          /* enum gguf_vtype */
    const uint8_t *val; /* scalar bytes, string bytes, or the first array element */
    uint64_t len;      /* STRING: byte length */
    int arr_type;      /* ARRAY: element type */
    int64_t arr_n;     /* ARRAY: element count */
    uint64_t *str_off; /* ARRAY of STRING: offset from val of each element's u64 length */
};

struct gguf_file {
    struct rrm_mmap map; /* empty for gguf_open_buf */
    const uint8_t *buf;
    size_t size;
    char *what; /* file name for messages */
    uint32_t version;
    uint64_t alignment, data_offset;
    int64_t n_kv, n_tensors;
    struct gguf_kv *kv;   /* (n_kv) */
    struct fmt_tensor *t; /* (n_tensors) */
    struct fmt_index kv_ix, t_ix;
};

/* Bytes of one scalar value by type; 0 for STRING and ARRAY. */
static const uint8_t scalar_size[GGUF_N_VTYPES] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static const char *vtype_name(int t)
{
    static const char *const names[GGUF_N_VTYPES] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64",
        "f64"};
    return t >= 0 && t < GGUF_N_VTYPES ? names[t] : "?";
}

/* Read cursor over the file. */
struct rd {
    const uint8_t *p;
    size_t size, pos;
    const char *what;
    struct fmt_limits lim;
};

static int need(struct rd *r, size_t n, const char *item, rrm_err *err)
{
    if (r->size - r->pos >= n) return RRM_OK;
    return rrm_errf(err, RRM_E_FORMAT,
                    "gguf: '%s': truncated: %s needs %zu bytes at offset %zu, only %zu left",
                    r->what, item, n, r->pos, r->size - r->pos);
}

static int rd_u32(struct rd *r, uint32_t *v, const char *item, rrm_err *err)
{
    int rc = need(r, 4, item, err);
    if (rc) return rc;
    *v = fmt_le32(r->p + r->pos);
    r->pos += 4;
    return RRM_OK;
}

static int rd_u64(struct rd *r, uint64_t *v, const char *item, rrm_err *err)
{
    int rc = need(r, 8, item, err);
    if (rc) return rc;
    *v = fmt_le64(r->p + r->pos);
    r->pos += 8;
    return RRM_OK;
}

/* A GGUF string: u64 length + bytes. *s points into the map. */
static int rd_str(struct rd *r, const uint8_t **s, uint64_t *len, const char *item, rrm_err *err)
{
    uint64_t n;
    int rc = rd_u64(r, &n, item, err);
    if (rc) return rc;
    if (n > r->lim.max_string)
        return rrm_errf(err, RRM_E_LIMIT,
                        "gguf: '%s': %s: string of %llu bytes exceeds the limit of %llu", r->what,
                        item, (unsigned long long)n, (unsigned long long)r->lim.max_string);
    if ((rc = need(r, (size_t)n, item, err))) return rc;
    *s = r->p + r->pos;
    *len = n;
    r->pos += (size_t)n;
    return RRM_OK;
}

/* A name (key or tensor name) copied NUL-terminated; embedded NULs are rejected because the
 * copy could then collide with another name. */
static int rd_name(struct rd *r, char **out, uint64_t max_len, const char *item, rrm_err *err)
{
    const uint8_t *s;
    uint64_t n;
    int rc = rd_str(r, &s, &n, item, err);
    if (rc) return rc;
    if (n > max_len)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': %s: name of %llu bytes exceeds %llu",
                        r->what, item, (unsigned long long)n, (unsigned long long)max_len);
    if (memchr(s, 0, (size_t)n))
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': %s: name contains a NUL byte", r->what,
                        item);
    *out = rrm_strndup((const char *)s, (size_t)n);
    if (!*out) return rrm_errf(err, RRM_E_NOMEM, "gguf: '%s': %s: out of memory", r->what, item);
    return RRM_OK;
}

/* Array body after its element type: count, then elements. String arrays get an offset index. */
static int rd_array(struct rd *r, struct gguf_kv *kv, rrm_err *err)
{
    uint32_t et;
    uint64_t n;
    int rc;
    if ((rc = rd_u32(r, &et, kv->key, err)) || (rc = rd_u64(r, &n, kv->key, err))) return rc;
    if (et == GGUF_T_ARRAY)
        return rrm_errf(err, RRM_E_UNSUPPORTED,
                        "gguf: '%s': key '%s': nested arrays are not supported", r->what, kv->key);
    if (et >= GGUF_N_VTYPES)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key '%s': unknown array element type %u",
                        r->what, kv->key, et);
    if (n > r->lim.max_array)
        return rrm_errf(err, RRM_E_LIMIT,
                        "gguf: '%s': key '%s': array of %llu elements exceeds the limit of %llu",
                        r->what, kv->key, (unsigned long long)n,
                        (unsigned long long)r->lim.max_array);
    size_t esize = et == GGUF_T_STRING ? 8 : scalar_size[et], bytes;
    if (!rrm_mul_size(&bytes, (size_t)n, esize) || bytes > r->size - r->pos)
        return rrm_errf(err, RRM_E_FORMAT,
                        "gguf: '%s': key '%s': array of %llu %s needs at least %llu x %zu bytes, "
                        "only %zu left", r->what, kv->key, (unsigned long long)n, vtype_name((int)et),
                        (unsigned long long)n, esize, r->size - r->pos);
    kv->arr_type = (int)et;
    kv->arr_n = (int64_t)n;
    kv->val = r->p + r->pos;
    if (et != GGUF_T_STRING) {
        for (size_t i = 0; et == GGUF_T_BOOL && i < (size_t)n; i++) {
            if (kv->val[i] > 1)
                return rrm_errf(err, RRM_E_FORMAT,
                                "gguf: '%s': key '%s': element %zu: bool value %u is not 0 or 1",
                                r->what, kv->key, i, kv->val[i]);
        }
        r->pos += bytes;
        return RRM_OK;
    }
    kv->str_off = rrm_malloc(bytes ? bytes : 1);
    if (!kv->str_off)
        return rrm_errf(err, RRM_E_NOMEM, "gguf: '%s': key '%s': out of memory for %llu strings",
                        r->what, kv->key, (unsigned long long)n);
    size_t start = r->pos;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *s;
        uint64_t len;
        kv->str_off[i] = r->pos - start;
        if ((rc = rd_str(r, &s, &len, kv->key, err))) return rc;
    }
    return RRM_OK;
}

/* One value of type kv->type. */
static int rd_value(struct rd *r, struct gguf_kv *kv, rrm_err *err)
{
    if (kv->type == GGUF_T_STRING) return rd_str(r, &kv->val, &kv->len, kv->key, err);
    if (kv->type == GGUF_T_ARRAY) return rd_array(r, kv, err);
    int rc = need(r, scalar_size[kv->type], kv->key, err);
    if (rc) return rc;
    kv->val = r->p + r->pos;
    r->pos += scalar_size[kv->type];
    if (kv->type == GGUF_T_BOOL && kv->val[0] > 1)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key '%s': bool value %u is not 0 or 1",
                        r->what, kv->key, kv->val[0]);
    return RRM_OK;
}

/* general.alignment: u32, non-zero power of two (gguf.cpp). */
static int check_alignment(struct gguf_file *f, const struct gguf_kv *kv, rrm_err *err)
{
    if (kv->type != GGUF_T_UINT32)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key 'general.alignment' has type %s, "
                        "expected u32", f->what, vtype_name(kv->type));
    uint32_t a = fmt_le32(kv->val);
    if (a == 0 || (a & (a - 1)) != 0)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': general.alignment %u is not a non-zero "
                        "power of two", f->what, a);
    f->alignment = a;
    return RRM_OK;
}

static int rd_kvs(struct gguf_file *f, struct rd *r, rrm_err *err)
{
    int rc;
    char item[48];
    if ((rc = fmt_index_init(&f->kv_ix, f->n_kv)))
        return rrm_errf(err, rc, "gguf: '%s': out of memory for %lld keys", f->what,
                        (long long)f->n_kv);
    for (int64_t i = 0; i < f->n_kv; i++) {
        struct gguf_kv *kv = &f->kv[i];
        uint32_t type;
        snprintf(item, sizeof item, "key #%lld", (long long)i);
        if ((rc = rd_name(r, &kv->key, r->lim.max_string, item, err))) return rc;
        if (fmt_index_put(&f->kv_ix, kv->key, i) >= 0)
            return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': duplicate key '%s'", f->what, kv->key);
        if ((rc = rd_u32(r, &type, kv->key, err))) return rc;
        if (type >= GGUF_N_VTYPES)
            return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key '%s': unknown value type %u",
                            f->what, kv->key, type);
        kv->type = (int)type;
        if ((rc = rd_value(r, kv, err))) return rc;
        if (strcmp(kv->key, "general.alignment") == 0 && (rc = check_alignment(f, kv, err)))
            return rc;
    }
    return RRM_OK;
}

/* Where a tensor's data lies, relative to the data section (for the overlap check). */
struct span {
    uint64_t off;
    size_t nbytes;
    int64_t i;
};

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int rd_tensor_info(struct gguf_file *f, struct rd *r, int64_t i, struct span *sp,
                          rrm_err *err)
{
    struct fmt_tensor *t = &f->t[i];
    char item[48], *name = NULL, pre[300];
    uint32_t n_dims, type;
    int rc;
    snprintf(item, sizeof item, "tensor #%lld name", (long long)i);
    if ((rc = rd_name(r, &name, GGUF_MAX_NAME - 1, item, err))) return rc;
    t->name = name;
    if (fmt_index_put(&f->t_ix, name, i) >= 0)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': duplicate tensor name '%s'", f->what, name);
    if ((rc = rd_u32(r, &n_dims, name, err))) return rc;
    if (n_dims < 1 || n_dims > FMT_MAX_DIMS)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': tensor '%s': n_dims %u is not in 1..%d",
                        f->what, name, n_dims, FMT_MAX_DIMS);
    t->n_dims = (int)n_dims;
    for (int d = 0; d < FMT_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t v;
        if ((rc = rd_u64(r, &v, name, err))) return rc;
        if (v > (uint64_t)INT64_MAX)
            return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': tensor '%s': ne[%u] = %llu is negative "
                            "as int64", f->what, name, d, (unsigned long long)v);
        t->ne[d] = (int64_t)v;
    }
    if ((rc = rd_u32(r, &type, name, err)) || (rc = rd_u64(r, &sp->off, name, err))) return rc;
    if (type > (uint32_t)INT32_MAX)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "gguf: '%s': tensor '%s': unknown type %u",
                        f->what, name, type);
    t->type = (int)type;
    snprintf(pre, sizeof pre, "gguf: '%s'", f->what);
    if ((rc = fmt_tensor_check(pre, name, t->type, t->n_dims, t->ne, &t->nbytes, err))) return rc;
    if (sp->off % f->alignment != 0)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': tensor '%s': offset %llu is not a multiple "
                        "of the alignment %llu", f->what, name, (unsigned long long)sp->off,
                        (unsigned long long)f->alignment);
    sp->nbytes = t->nbytes;
    sp->i = i;
    return RRM_OK;
}

/* Data section placement, bounds and overlaps; sets every tensor's data pointer. */
static int check_layout(struct gguf_file *f, size_t header_end, struct span *sp, rrm_err *err)
{
    size_t start;
    if (!rrm_add_size(&start, header_end, (size_t)f->alignment - 1))
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': data offset overflows", f->what);
    start -= start % (size_t)f->alignment;
    if (start > f->size && f->n_tensors > 0)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': data section starts at %zu, past the end "
                        "of the file (%zu bytes)", f->what, start, f->size);
    f->data_offset = start;
    size_t data_size = start < f->size ? f->size - start : 0;
    for (int64_t i = 0; i < f->n_tensors; i++) {
        size_t end;
        if (sp[i].off > data_size || !rrm_add_size(&end, (size_t)sp[i].off, sp[i].nbytes) ||
            end > data_size)
            return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': tensor '%s': data %llu+%zu exceeds "
                            "data section of %zu bytes", f->what, f->t[i].name,
                            (unsigned long long)sp[i].off, sp[i].nbytes, data_size);
        f->t[i].data = f->buf + start + (size_t)sp[i].off;
    }
    qsort(sp, (size_t)f->n_tensors, sizeof *sp, span_cmp);
    for (int64_t k = 1; k < f->n_tensors; k++) {
        if (sp[k - 1].off + sp[k - 1].nbytes > sp[k].off)
            return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': tensor '%s' (data %llu+%zu) overlaps "
                            "tensor '%s' at %llu", f->what, f->t[sp[k - 1].i].name,
                            (unsigned long long)sp[k - 1].off, sp[k - 1].nbytes,
                            f->t[sp[k].i].name, (unsigned long long)sp[k].off);
    }
    return RRM_OK;
}

/* Magic and version; big-endian files show up as a byte-swapped version. */
static int rd_header(struct gguf_file *f, struct rd *r, rrm_err *err)
{
    if (f->size < 4 || memcmp(f->buf, GGUF_MAGIC, 4) != 0) {
        uint8_t m[4] = {0};
        memcpy(m, f->buf, f->size < 4 ? f->size : 4);
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': bad magic %02x %02x %02x %02x (expected "
                        "\"GGUF\")", f->what, m[0], m[1], m[2], m[3]);
    }
    r->pos = 4;
    int rc = rd_u32(r, &f->version, "version", err);
    if (rc) return rc;
    uint32_t v = f->version;
    if (v != 0 && (v & 0xffff) == 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "gguf: '%s': version field 0x%08x looks "
                        "byte-swapped: big-endian GGUF files are not supported", f->what, v);
    if (v == 1)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "gguf: '%s': GGUF version 1 is not supported "
                        "(only 2 and 3)", f->what);
    if (v < 2 || v > 3)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': unknown GGUF version %u (expected 2 or 3)",
                        f->what, v);
    uint64_t nt, nk;
    if ((rc = rd_u64(r, &nt, "tensor count", err)) || (rc = rd_u64(r, &nk, "key count", err)))
        return rc;
    size_t left = r->size - r->pos;
    /* Smallest KV: 8 (key length) + 4 (type) + 1 (u8); smallest tensor info: 8 + 4 + 8 + 4 + 8. */
    if (nk > r->lim.max_kv)
        return rrm_errf(err, RRM_E_LIMIT, "gguf: '%s': %llu keys exceed the limit of %llu",
                        f->what, (unsigned long long)nk, (unsigned long long)r->lim.max_kv);
    if (nt > r->lim.max_tensors)
        return rrm_errf(err, RRM_E_LIMIT, "gguf: '%s': %llu tensors exceed the limit of %llu",
                        f->what, (unsigned long long)nt, (unsigned long long)r->lim.max_tensors);
    if (nk > left / 13 || nt > (left - nk * 13) / 32)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': %llu keys and %llu tensors cannot fit in "
                        "the %zu bytes left", f->what, (unsigned long long)nk,
                        (unsigned long long)nt, left);
    f->n_kv = (int64_t)nk;
    f->n_tensors = (int64_t)nt;
    return RRM_OK;
}

static int parse(struct gguf_file *f, const struct fmt_limits *lim, rrm_err *err)
{
    struct rd r = {.p = f->buf, .size = f->size, .what = f->what};
    struct span *sp = NULL;
    fmt_limits_resolve(&r.lim, lim);
    f->alignment = GGUF_DEF_ALIGN;
    int rc = rd_header(f, &r, err);
    if (rc) return rc;
    f->kv = rrm_calloc((size_t)f->n_kv, sizeof *f->kv);
    f->t = rrm_calloc((size_t)f->n_tensors, sizeof *f->t);
    sp = rrm_calloc((size_t)f->n_tensors, sizeof *sp);
    if (!f->kv || !f->t || !sp) {
        rc = rrm_errf(err, RRM_E_NOMEM, "gguf: '%s': out of memory", f->what);
        goto done;
    }
    if ((rc = rd_kvs(f, &r, err))) goto done;
    if ((rc = fmt_index_init(&f->t_ix, f->n_tensors))) {
        rc = rrm_errf(err, rc, "gguf: '%s': out of memory", f->what);
        goto done;
    }
    for (int64_t i = 0; i < f->n_tensors; i++) {
        if ((rc = rd_tensor_info(f, &r, i, &sp[i], err))) goto done;
    }
    rc = check_layout(f, r.pos, sp, err);
done:
    rrm_free(sp);
    return rc;
}

void gguf_close(struct gguf_file *f)
{
    if (!f) return;
    for (int64_t i = 0; f->kv && i < f->n_kv; i++) {
        rrm_free(f->kv[i].key);
        rrm_free(f->kv[i].str_off);
    }
    for (int64_t i = 0; f->t && i < f->n_tensors; i++) rrm_free((char *)f->t[i].name);
    rrm_free(f->kv);
    rrm_free(f->t);
    fmt_index_free(&f->kv_ix);
    fmt_index_free(&f->t_ix);
    rrm_mmap_close(&f->map);
    rrm_free(f->what);
    rrm_free(f);
}

/* Shared by gguf_open and gguf_open_buf; takes ownership of *map (closed on failure). */
static int open_common(struct gguf_file **out, struct rrm_mmap *map, const void *buf, size_t len,
                       const char *what, const struct fmt_limits *lim, rrm_err *err)
{
    struct gguf_file *f = rrm_calloc(1, sizeof *f);
    char *w = rrm_strdup(what ? what : "(buffer)");
    if (!f || !w) {
        rrm_free(f);
        rrm_free(w);
        rrm_mmap_close(map);
        return rrm_errf(err, RRM_E_NOMEM, "gguf: '%s': out of memory", what ? what : "(buffer)");
    }
    f->map = *map;
    f->buf = buf;
    f->size = len;
    f->what = w;
    int rc = parse(f, lim, err);
    if (rc) {
        gguf_close(f);
        return rc;
    }
    *out = f;
    return RRM_OK;
}

int gguf_open(struct gguf_file **out, const char *path, const struct fmt_limits *lim,
              rrm_err *err)
{
    struct rrm_mmap m = {0};
    *out = NULL;
    int rc = rrm_mmap_open(&m, path, 0, err);
    if (rc) return rc;
    return open_common(out, &m, m.data, m.size, path, lim, err);
}

int gguf_open_buf(struct gguf_file **out, const void *buf, size_t len, const char *what,
                  const struct fmt_limits *lim, rrm_err *err)
{
    struct rrm_mmap m = {0};
    *out = NULL;
    if (!what) what = "(buffer)";
    if (!buf && len)
        return rrm_errf(err, RRM_E_INVAL, "%s: NULL buffer of %zu bytes", what, len);
    return open_common(out, &m, buf, len, what, lim, err);
}

/* ---- accessors ---- */

uint32_t gguf_version(const struct gguf_file *f) { return f->version; }
uint64_t gguf_alignment(const struct gguf_file *f) { return f->alignment; }
uint64_t gguf_data_offset(const struct gguf_file *f) { return f->data_offset; }
int64_t gguf_n_kv(const struct gguf_file *f) { return f->n_kv; }
int64_t gguf_n_tensors(const struct gguf_file *f) { return f->n_tensors; }

const char *gguf_kv_key(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_kv ? f->kv[i].key : NULL;
}

int gguf_kv_type(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_kv ? f->kv[i].type : -1;
}

int64_t gguf_find_key(const struct gguf_file *f, const char *key)
{
    return key ? fmt_index_get(&f->kv_ix, key) : -1;
}

const struct fmt_tensor *gguf_tensor(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_tensors ? &f->t[i] : NULL;
}

const struct fmt_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name)
{
    int64_t i = name ? fmt_index_get(&f->t_ix, name) : -1;
    return i >= 0 ? &f->t[i] : NULL;
}

/* ---- typed getters ---- */

static const struct gguf_kv *get_kv(const struct gguf_file *f, const char *key, rrm_err *err)
{
    int64_t i = gguf_find_key(f, key);
    if (i < 0) {
        rrm_errf(err, RRM_E_INVAL, "gguf: '%s': key '%s' not found", f->what, key ? key : "(null)");
        return NULL;
    }
    return &f->kv[i];
}

static int type_err(const struct gguf_file *f, const struct gguf_kv *kv, const char *want,
                    rrm_err *err)
{
    return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key '%s' has type %s, expected %s", f->what,
                    kv->key, vtype_name(kv->type), want);
}

/* Integer value of a scalar integer KV: unsigned in *u (is_neg 0) or negative in *s. */
static int get_int(const struct gguf_file *f, const struct gguf_kv *kv, uint64_t *u, int64_t *s,
                   int *is_neg, rrm_err *err)
{
    const uint8_t *p = kv->val;
    int64_t sv = 0;
    *is_neg = 0;
    switch (kv->type) {
    case GGUF_T_UINT8: *u = p[0]; return RRM_OK;
    case GGUF_T_UINT16: *u = (uint64_t)p[0] | (uint64_t)p[1] << 8; return RRM_OK;
    case GGUF_T_UINT32: *u = fmt_le32(p); return RRM_OK;
    case GGUF_T_UINT64: *u = fmt_le64(p); return RRM_OK;
    case GGUF_T_INT8: sv = (int8_t)p[0]; break;
    case GGUF_T_INT16: sv = (int16_t)(uint16_t)(p[0] | p[1] << 8); break;
    case GGUF_T_INT32: sv = (int32_t)fmt_le32(p); break;
    case GGUF_T_INT64: sv = (int64_t)fmt_le64(p); break;
    default: return type_err(f, kv, "an integer", err);
    }
    if (sv < 0) {
        *is_neg = 1;
        *s = sv;
    } else {
        *u = (uint64_t)sv;
    }
    return RRM_OK;
}

int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out, rrm_err *err)
{
    const struct gguf_kv *kv = get_kv(f, key, err);
    uint64_t u = 0;
    int64_t s = 0;
    int neg, rc;
    if (!kv) return RRM_E_INVAL;
    if ((rc = get_int(f, kv, &u, &s, &neg, err))) return rc;
    if (neg || u > UINT32_MAX)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key '%s': value %s%llu does not fit in u32",
                        f->what, key, neg ? "-" : "",
                        neg ? 0ull - (unsigned long long)s : (unsigned long long)u);
    *out = (uint32_t)u;
    return RRM_OK;
}

int gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *out, rrm_err *err)
{
    const struct gguf_kv *kv = get_kv(f, key, err);
    uint64_t u = 0;
    int64_t s = 0;
    int neg, rc;
    if (!kv) return RRM_E_INVAL;
    if ((rc = get_int(f, kv, &u, &s, &neg, err))) return rc;
    if (!neg && u > (uint64_t)INT64_MAX)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key '%s': value %llu does not fit in i64",
                        f->what, key, (unsigned long long)u);
    *out = neg ? s : (int64_t)u;
    return RRM_OK;
}

int gguf_get_f64(const struct gguf_file *f, const char *key, double *out, rrm_err *err)
{
    const struct gguf_kv *kv = get_kv(f, key, err);
    if (!kv) return RRM_E_INVAL;
    if (kv->type == GGUF_T_FLOAT32) {
        *out = rrm_bits_f32(fmt_le32(kv->val));
    } else if (kv->type == GGUF_T_FLOAT64) {
        uint64_t b = fmt_le64(kv->val);
        memcpy(out, &b, 8);
    } else {
        return type_err(f, kv, "f32 or f64", err);
    }
    return RRM_OK;
}

int gguf_get_bool(const struct gguf_file *f, const char *key, int *out, rrm_err *err)
{
    const struct gguf_kv *kv = get_kv(f, key, err);
    if (!kv) return RRM_E_INVAL;
    if (kv->type != GGUF_T_BOOL) return type_err(f, kv, "bool", err);
    *out = kv->val[0];
    return RRM_OK;
}

int gguf_get_str(const struct gguf_file *f, const char *key, const char **s, size_t *len,
                 rrm_err *err)
{
    const struct gguf_kv *kv = get_kv(f, key, err);
    if (!kv) return RRM_E_INVAL;
    if (kv->type != GGUF_T_STRING) return type_err(f, kv, "string", err);
    *s = (const char *)kv->val;
    *len = (size_t)kv->len;
    return RRM_OK;
}

int gguf_get_arr(const struct gguf_file *f, const char *key, int *elem_type, int64_t *n,
                 const void **data, rrm_err *err)
{
    const struct gguf_kv *kv = get_kv(f, key, err);
    if (!kv) return RRM_E_INVAL;
    if (kv->type != GGUF_T_ARRAY) return type_err(f, kv, "array", err);
    *elem_type = kv->arr_type;
    *n = kv->arr_n;
    *data = kv->val;
    return RRM_OK;
}

int gguf_get_arr_str(const struct gguf_file *f, const char *key, int64_t i, const char **s,
                     size_t *len, rrm_err *err)
{
    const struct gguf_kv *kv = get_kv(f, key, err);
    if (!kv) return RRM_E_INVAL;
    if (kv->type != GGUF_T_ARRAY || kv->arr_type != GGUF_T_STRING)
        return rrm_errf(err, RRM_E_FORMAT, "gguf: '%s': key '%s' is not an array of strings",
                        f->what, key);
    if (i < 0 || i >= kv->arr_n)
        return rrm_errf(err, RRM_E_INVAL, "gguf: '%s': key '%s': index %lld out of range 0..%lld",
                        f->what, key, (long long)i, (long long)kv->arr_n - 1);
    const uint8_t *p = kv->val + kv->str_off[i];
    *len = (size_t)fmt_le64(p);
    *s = (const char *)p + 8;
    return RRM_OK;
}

int gguf_is_file(const char *path)
{
    size_t n = strlen(path);
    if (n >= 5 && strcmp(path + n - 5, ".gguf") == 0) return 1;
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    if (!f) return 0;
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && memcmp(magic, "GGUF", 4) == 0;
}
