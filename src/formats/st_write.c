/*
 * st_write.c — safetensors writers: one file (st_write_file) and a sharded directory
 * (st_write_sharded: model-0000N-of-0000M.safetensors + model.safetensors.index.json with
 * metadata.total_size and weight_map, the layout transformers' save_pretrained produces).
 * Like the reference writer, the JSON header is padded with spaces to a multiple of 8 so the
 * data section starts 8-byte aligned; tensors are laid out in the given order, contiguously.
 */
#include "formats/fmt_internal.h"

#include <errno.h>
#include <sys/stat.h>

static const char *dtype_name(int type)
{
    switch (type) {
    case RRM_TYPE_F32: return "F32";
    case RRM_TYPE_F16: return "F16";
    case RRM_TYPE_BF16: return "BF16";
    default: return NULL;
    }
}

/* Checks the caller's tensors: supported dtype, valid shape, nbytes that match, unique names. */
static int check_tensors(const char *what, const struct fmt_tensor *t, int64_t n, rrm_err *err)
{
    struct fmt_index ix;
    int rc = RRM_OK;
    if (n < 0 || (n > 0 && !t))
        return rrm_errf(err, RRM_E_INVAL, "safetensors writer: '%s': bad tensor list", what);
    if (fmt_index_init(&ix, n))
        return rrm_errf(err, RRM_E_NOMEM, "safetensors writer: '%s': out of memory", what);
    for (int64_t i = 0; i < n && rc == RRM_OK; i++) {
        size_t need;
        const char *nm = t[i].name;
        if (!nm || !*nm || strcmp(nm, "__metadata__") == 0) {
            rc = rrm_errf(err, RRM_E_INVAL, "safetensors writer: '%s': tensor %lld has a bad name",
                          what, (long long)i);
        } else if (!dtype_name(t[i].type)) {
            rc = rrm_errf(err, RRM_E_INVAL, "safetensors writer: '%s': tensor '%s': type %s is not "
                          "F32, F16 or BF16", what, nm, rrm_type_name(t[i].type));
        } else if (fmt_tensor_check("safetensors writer", nm, t[i].type, t[i].n_dims, t[i].ne,
                                    &need, err) != RRM_OK) {
            rc = err ? (err->code = RRM_E_INVAL) : RRM_E_INVAL;
        } else if (need != t[i].nbytes || (!t[i].data && need)) {
            rc = rrm_errf(err, RRM_E_INVAL, "safetensors writer: '%s': tensor '%s': %zu bytes "
                          "given, shape and type need %zu", what, nm, t[i].nbytes, need);
        } else if (fmt_index_put(&ix, nm, i) >= 0) {
            rc = rrm_errf(err, RRM_E_INVAL, "safetensors writer: '%s': duplicate tensor '%s'", what,
                          nm);
        }
    }
    fmt_index_free(&ix);
    return rc;
}

/* The JSON header for t[0..n), padded with spaces to a multiple of 8. */
static int build_header(struct rrm_str *h, const struct fmt_tensor *t, int64_t n)
{
    uint64_t off = 0;
    static const char meta[] = "{\"__metadata__\":{\"format\":\"pt\"}";
    if (rrm_str_append(h, meta, sizeof meta - 1)) return RRM_E_NOMEM;
    for (int64_t i = 0; i < n; i++) {
        if (rrm_str_append(h, ",", 1) || fmt_json_str(h, t[i].name, strlen(t[i].name)) ||
            rrm_str_appendf(h, ":{\"dtype\":\"%s\",\"shape\":[", dtype_name(t[i].type)))
            return RRM_E_NOMEM;
        for (int d = t[i].n_dims - 1; d >= 0; d--) {
            if (rrm_str_appendf(h, "%s%lld", d == t[i].n_dims - 1 ? "" : ",",
                                (long long)t[i].ne[d]))
                return RRM_E_NOMEM;
        }
        if (rrm_str_appendf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                            (unsigned long long)(off + t[i].nbytes)))
            return RRM_E_NOMEM;
        off += t[i].nbytes;
    }
    if (rrm_str_append(h, "}", 1)) return RRM_E_NOMEM;
    while (h->len % 8 != 0) {
        if (rrm_str_append(h, " ", 1)) return RRM_E_NOMEM;
    }
    return RRM_OK;
}

/* Writes t[0..n) (already checked) to path. */
static int write_one(const char *path, const struct fmt_tensor *t, int64_t n, rrm_err *err)
{
    struct rrm_str h = {0};
    struct fmt_out o;
    int rc = build_header(&h, t, n);
    if (rc) {
        rrm_str_free(&h);
        return rrm_errf(err, RRM_E_NOMEM, "safetensors writer: '%s': out of memory", path);
    }
    if ((rc = fmt_out_open(&o, path, err)) == RRM_OK) {
        fmt_out_u64(&o, h.len);
        fmt_out_write(&o, h.p, h.len);
        for (int64_t i = 0; i < n; i++) fmt_out_write(&o, t[i].data, t[i].nbytes);
        rc = fmt_out_close(&o, 1, err);
    }
    rrm_str_free(&h);
    return rc;
}

int st_write_file(const char *path, const struct fmt_tensor *t, int64_t n, rrm_err *err)
{
    int rc = check_tensors(path, t, n, err);
    return rc ? rc : write_one(path, t, n, err);
}

/* Number of tensors in the shard starting at `first`: greedy, at least one per shard. */
static int64_t shard_len(const struct fmt_tensor *t, int64_t first, int64_t n, uint64_t max_bytes)
{
    uint64_t sum = t[first].nbytes;
    int64_t k = 1;
    while (first + k < n && sum + t[first + k].nbytes <= max_bytes) sum += t[first + k++].nbytes;
    return k;
}

static int write_index(const char *dir, const struct fmt_tensor *t, int64_t n, uint64_t max_bytes,
                       int64_t n_shards, rrm_err *err)
{
    struct rrm_str j = {0};
    uint64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += t[i].nbytes;
    int bad = rrm_str_appendf(&j, "{\n  \"metadata\": {\n    \"total_size\": %llu\n  },\n"
                              "  \"weight_map\": {", (unsigned long long)total);
    for (int64_t i = 0, s = 1; i < n && !bad; s++) {
        int64_t k = shard_len(t, i, n, max_bytes);
        for (int64_t e = i + k; i < e && !bad; i++) {
            char shard[64];
            snprintf(shard, sizeof shard, "model-%05lld-of-%05lld.safetensors", (long long)s,
                     (long long)n_shards);
            bad = rrm_str_append(&j, i ? ",\n    " : "\n    ", i ? 6 : 5) ||
                  fmt_json_str(&j, t[i].name, strlen(t[i].name)) || rrm_str_append(&j, ": ", 2) ||
                  fmt_json_str(&j, shard, strlen(shard));
        }
    }
    if (!bad) bad = rrm_str_append(&j, "\n  }\n}\n", 7);
    char *path = rrm_path_join(dir, "model.safetensors.index.json");
    int rc = bad || !path ? rrm_errf(err, RRM_E_NOMEM, "safetensors writer: out of memory")
                          : rrm_write_file(path, j.p, j.len, err);
    rrm_free(path);
    rrm_str_free(&j);
    return rc;
}

int st_write_sharded(const char *dir, const struct fmt_tensor *t, int64_t n,
                     uint64_t max_shard_bytes, rrm_err *err)
{
    int rc = check_tensors(dir, t, n, err);
    if (rc) return rc;
    if (n == 0) return rrm_errf(err, RRM_E_INVAL, "safetensors writer: '%s': no tensors", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return rrm_errf(err, RRM_E_IO, "safetensors writer: mkdir '%s': %s", dir, strerror(errno));
    int64_t n_shards = 0;
    for (int64_t i = 0; i < n; n_shards++) i += shard_len(t, i, n, max_shard_bytes);
    if (n_shards > 99999)
        return rrm_errf(err, RRM_E_INVAL, "safetensors writer: '%s': %lld shards exceed 99999",
                        dir, (long long)n_shards);
    for (int64_t i = 0, s = 1; i < n; s++) {
        int64_t k = shard_len(t, i, n, max_shard_bytes);
        char name[64];
        snprintf(name, sizeof name, "model-%05lld-of-%05lld.safetensors", (long long)s,
                 (long long)n_shards);
        char *path = rrm_path_join(dir, name);
        rc = path ? write_one(path, t + i, k, err)
                  : rrm_errf(err, RRM_E_NOMEM, "safetensors writer: out of memory");
        rrm_free(path);
        if (rc) return rc;
        i += k;
    }
    return write_index(dir, t, n, max_shard_bytes, n_shards, err);
}
