/*
 * tensor_info.c — checks and helpers shared by the GGUF and safetensors code: limit defaults,
 * the name index (FNV-1a, open addressing), the tensor type/shape/size check, the atomic file
 * writer and JSON string escaping for the safetensors headers and index we write.
 * Every size computed from file data goes through rrm_mul_size/rrm_add_size.
 */
#define _GNU_SOURCE
#include "formats/fmt_internal.h"

#include <errno.h>
#include <unistd.h>

void fmt_limits_resolve(struct fmt_limits *out, const struct fmt_limits *in)
{
    struct fmt_limits z = {0};
    if (!in) in = &z;
    out->max_kv = in->max_kv ? in->max_kv : FMT_DEF_MAX_KV;
    out->max_tensors = in->max_tensors ? in->max_tensors : FMT_DEF_MAX_TENSORS;
    out->max_string = in->max_string ? in->max_string : FMT_DEF_MAX_STRING;
    out->max_array = in->max_array ? in->max_array : FMT_DEF_MAX_ARRAY;
    out->max_header = in->max_header ? in->max_header : FMT_DEF_MAX_HEADER;
}

/* ---- name index ---- */

/* FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/): simple and good enough for names. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

int fmt_index_init(struct fmt_index *ix, int64_t n)
{
    size_t cap = 8;
    ix->slot = NULL;
    ix->cap = 0;
    /* n is bounded by the caller's limits, so the doubling cannot overflow in practice; stop
     * anyway at half the address space. */
    while (n > 0 && cap < (size_t)n * 2 && cap < ((size_t)1 << 60)) cap *= 2;
    ix->slot = rrm_calloc(cap, sizeof *ix->slot);
    if (!ix->slot) return RRM_E_NOMEM;
    ix->cap = cap;
    return RRM_OK;
}

void fmt_index_free(struct fmt_index *ix)
{
    if (!ix) return;
    rrm_free(ix->slot);
    ix->slot = NULL;
    ix->cap = 0;
}

int64_t fmt_index_get(const struct fmt_index *ix, const char *name)
{
    if (!ix->cap) return -1;
    size_t mask = ix->cap - 1, i = (size_t)name_hash(name) & mask;
    for (size_t probes = 0; probes < ix->cap; probes++, i = (i + 1) & mask) {
        if (!ix->slot[i].name) return -1;
        if (strcmp(ix->slot[i].name, name) == 0) return ix->slot[i].idx;
    }
    return -1;
}

int64_t fmt_index_put(struct fmt_index *ix, const char *name, int64_t idx)
{
    if (!ix->cap) return -1;
    size_t mask = ix->cap - 1, i = (size_t)name_hash(name) & mask;
    for (size_t probes = 0; probes < ix->cap; probes++, i = (i + 1) & mask) {
        if (!ix->slot[i].name) {
            ix->slot[i].name = name;
            ix->slot[i].idx = idx;
            return -1;
        }
        if (strcmp(ix->slot[i].name, name) == 0) return ix->slot[i].idx;
    }
    return -1; /* full: cannot happen when callers respect the n given at init */
}

/* ---- tensor geometry ---- */

int fmt_tensor_check(const char *pre, const char *name, int type, int n_dims, const int64_t *ne,
                     size_t *nbytes, rrm_err *err)
{
    if (!rrm_type_known(type))
        return rrm_errf(err, RRM_E_UNSUPPORTED, "%s: tensor '%s': unknown or unsupported type %d",
                        pre, name, type);
    if (n_dims < 1 || n_dims > FMT_MAX_DIMS)
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': n_dims %d is not in 1..%d", pre,
                        name, n_dims, FMT_MAX_DIMS);
    int64_t n = 1;
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 0)
            return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': ne[%d] = %lld is negative", pre,
                            name, d, (long long)ne[d]);
        if (!rrm_mul_i64(&n, n, ne[d]))
            return rrm_errf(err, RRM_E_FORMAT,
                            "%s: tensor '%s': element count overflows int64 at ne[%d] = %lld", pre,
                            name, d, (long long)ne[d]);
    }
    int blk = rrm_type_block(type);
    if (ne[0] % blk != 0)
        return rrm_errf(err, RRM_E_FORMAT,
                        "%s: tensor '%s': ne[0] = %lld is not a multiple of the %s block size %d",
                        pre, name, (long long)ne[0], rrm_type_name(type), blk);
    size_t bytes;
    if (!rrm_mul_size(&bytes, (size_t)(n / blk), (size_t)rrm_type_block_bytes(type)))
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': byte size of %lld %s elements overflows",
                        pre, name, (long long)n, rrm_type_name(type));
    *nbytes = bytes;
    return RRM_OK;
}

/* ---- atomic file writer ---- */

int fmt_out_open(struct fmt_out *o, const char *path, rrm_err *err)
{
    memset(o, 0, sizeof *o);
    size_t n = strlen(path);
    o->path = rrm_strdup(path);
    o->tmp = rrm_malloc(n + 32);
    if (!o->path || !o->tmp) {
        rrm_free(o->path);
        rrm_free(o->tmp);
        o->path = o->tmp = NULL;
        return rrm_errf(err, RRM_E_NOMEM, "write '%s': out of memory", path);
    }
    snprintf(o->tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        int rc = rrm_errf(err, RRM_E_IO, "create '%s': %s", o->tmp, strerror(errno));
        rrm_free(o->path);
        rrm_free(o->tmp);
        o->path = o->tmp = NULL;
        return rc;
    }
    return RRM_OK;
}

void fmt_out_write(struct fmt_out *o, const void *p, size_t n)
{
    if (o->failed || n == 0) return;
    if (fwrite(p, 1, n, o->f) != n) o->failed = errno ? errno : -1;
    o->pos += n;
}

void fmt_out_zeros(struct fmt_out *o, size_t n)
{
    static const uint8_t z[64];
    while (n > 0) {
        size_t k = n < sizeof z ? n : sizeof z;
        fmt_out_write(o, z, k);
        n -= k;
    }
}

void fmt_out_u32(struct fmt_out *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fmt_out_write(o, b, 4);
}

void fmt_out_u64(struct fmt_out *o, uint64_t v)
{
    fmt_out_u32(o, (uint32_t)v);
    fmt_out_u32(o, (uint32_t)(v >> 32));
}

int fmt_out_close(struct fmt_out *o, int ok, rrm_err *err)
{
    int rc = RRM_OK;
    if (!o->f) return RRM_E_INTERNAL;
    if (ok && !o->failed && fflush(o->f) != 0) o->failed = errno ? errno : -1;
    if (ok && !o->failed && fsync(fileno(o->f)) != 0) o->failed = errno ? errno : -1;
    if (fclose(o->f) != 0 && !o->failed) o->failed = errno ? errno : -1;
    o->f = NULL;
    if (ok && !o->failed && rename(o->tmp, o->path) != 0) o->failed = errno ? errno : -1;
    if (!ok || o->failed) {
        unlink(o->tmp);
        if (ok)
            rc = rrm_errf(err, RRM_E_IO, "write '%s': %s", o->path,
                          o->failed > 0 ? strerror(o->failed) : "I/O error");
        else
            rc = RRM_E_IO;
    }
    rrm_free(o->path);
    rrm_free(o->tmp);
    o->path = o->tmp = NULL;
    return rc;
}

/* ---- JSON output ---- */

int fmt_json_str(struct rrm_str *out, const char *s, size_t n)
{
    if (rrm_str_append(out, "\"", 1)) return RRM_E_NOMEM;
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (rrm_str_append(out, s + run, i - run)) return RRM_E_NOMEM;
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        if (rrm_str_append(out, esc, strlen(esc))) return RRM_E_NOMEM;
        run = i + 1;
    }
    if (rrm_str_append(out, s + run, n - run) || rrm_str_append(out, "\"", 1)) return RRM_E_NOMEM;
    return RRM_OK;
}
