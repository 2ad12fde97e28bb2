/*
 * safetensors.c — safetensors reader, single file and sharded directory
 * (format: https://github.com/huggingface/safetensors README: u64 LE header size N, N bytes of
 * JSON, then the data section). The file is untrusted: N is capped (RRM_E_LIMIT), every entry
 * must be exactly {dtype, shape, data_offsets} with the right JSON types, the byte size from
 * shape x dtype (overflow-checked) must equal end - begin, and the offsets must tile the data
 * section from 0 to its end with no gap or overlap, so header + data == file size.
 * Sharded: only `weight_map` of model.safetensors.index.json is trusted. Each shard is opened
 * once; a tensor must be in the shard the map names, every tensor the map names must exist, and
 * a tensor found in a shard but missing from the map is an error (strict: a stray tensor means
 * the index and the shards disagree). Tensor data are views into the maps and may be unaligned
 * when a third-party header length is not a multiple of 8.
 */
#include "formats/fmt_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>

#define ST_INDEX_NAME "model.safetensors.index.json"
#define ST_SINGLE_NAME "model.safetensors"
#define ST_MAX_INDEX ((size_t)64 << 20) /* index.json bytes; real ones are ~30 KB */

struct st_set {
    struct rrm_mmap *maps; /* (n_files) */
    int n_files;
    struct fmt_tensor *t;  /* (n): names owned */
    int *file_of;          /* (n): shard of each tensor */
    int64_t n, cap;
    struct fmt_index ix;
    struct fmt_limits lim;
};

/* One header entry while parsing: key borrowed from the JSON. */
struct st_entry {
    const char *name;
    uint64_t begin, end;
    int type, n_dims;
    int64_t ne[FMT_MAX_DIMS];
    size_t nbytes;
};

/* What a shard must agree with (NULL map for a single file). */
struct st_expect {
    json_t *weight_map;
    const char *shard;
};

static int dtype_of(const char *pre, const char *name, const char *dt, int *type, rrm_err *err)
{
    static const char *const unsupported[] = {"F64", "I64", "I32", "I16", "I8", "U64", "U32",
                                              "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2",
                                              "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"};
    if (strcmp(dt, "F32") == 0) *type = RRM_TYPE_F32;
    else if (strcmp(dt, "F16") == 0) *type = RRM_TYPE_F16;
    else if (strcmp(dt, "BF16") == 0) *type = RRM_TYPE_BF16;
    else {
        for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
            if (strcmp(dt, unsupported[i]) == 0)
                return rrm_errf(err, RRM_E_UNSUPPORTED, "%s: tensor '%s': dtype %s is not "
                                "supported (F32, F16, BF16 only)", pre, name, dt);
        }
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", pre, name, dt);
    }
    return RRM_OK;
}

/* A JSON integer in [0, INT64_MAX]. */
static int json_u63(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return 0;
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

/* Checks one tensor entry {dtype, shape, data_offsets} and fills e. */
static int parse_entry(const char *pre, const char *name, json_t *v, struct st_entry *e,
                       rrm_err *err)
{
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape");
    json_t *off = json_object_get(v, "data_offsets");
    if (!json_is_object(v) || json_object_size(v) != 3 || !dt || !sh || !off)
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': entry must be an object with exactly "
                        "dtype, shape and data_offsets", pre, name);
    if (!json_is_string(dt))
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': dtype is not a string", pre, name);
    if (!json_is_array(sh))
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': shape is not an array", pre, name);
    if (!json_is_array(off) || json_array_size(off) != 2 ||
        !json_u63(json_array_get(off, 0), &e->begin) || !json_u63(json_array_get(off, 1), &e->end))
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': data_offsets must be [begin, end] of "
                        "non-negative integers", pre, name);
    if (e->end < e->begin)
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before "
                        "begin", pre, name, (unsigned long long)e->begin,
                        (unsigned long long)e->end);
    int rc = dtype_of(pre, name, json_string_value(dt), &e->type, err);
    if (rc) return rc;
    size_t rank = json_array_size(sh);
    if (rank > FMT_MAX_DIMS)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "%s: tensor '%s': rank %zu exceeds %d", pre, name,
                        rank, FMT_MAX_DIMS);
    for (int d = 0; d < FMT_MAX_DIMS; d++) e->ne[d] = 1;
    e->n_dims = rank ? (int)rank : 1; /* a scalar is a 1-element vector */
    for (size_t d = 0; d < rank; d++) {
        uint64_t x;
        if (!json_u63(json_array_get(sh, d), &x))
            return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative "
                            "integer", pre, name, d);
        e->ne[rank - 1 - d] = (int64_t)x; /* ggml order: innermost first */
    }
    if ((rc = fmt_tensor_check(pre, name, e->type, e->n_dims, e->ne, &e->nbytes, err))) return rc;
    if (e->end - e->begin != e->nbytes)
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu "
                        "bytes, shape and dtype need %zu", pre, name, (unsigned long long)e->begin,
                        (unsigned long long)e->end, (unsigned long long)(e->end - e->begin),
                        e->nbytes);
    e->name = name;
    return RRM_OK;
}

static int metadata_check(const char *pre, json_t *v, rrm_err *err)
{
    const char *k;
    json_t *x;
    if (!json_is_object(v))
        return rrm_errf(err, RRM_E_FORMAT, "%s: __metadata__ is not an object", pre);
    json_object_foreach(v, k, x) {
        if (!json_is_string(x))
            return rrm_errf(err, RRM_E_FORMAT, "%s: __metadata__ value '%s' is not a string", pre,
                            k);
    }
    return RRM_OK;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Offsets sorted must tile [0, data_size) exactly. */
static int check_tiling(const char *pre, struct st_entry *e, size_t n, uint64_t data_size,
                        rrm_err *err)
{
    qsort(e, n, sizeof *e, entry_cmp);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].begin > at)
            return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': data begins at %llu, leaving a gap "
                            "after %llu", pre, e[i].name, (unsigned long long)e[i].begin,
                            (unsigned long long)at);
        if (e[i].begin < at)
            return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s': data [%llu, %llu] overlaps '%s' "
                            "ending at %llu", pre, e[i].name, (unsigned long long)e[i].begin,
                            (unsigned long long)e[i].end, e[i - 1].name, (unsigned long long)at);
        at = e[i].end;
    }
    if (at != data_size)
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensors end at %llu but the data section has %llu "
                        "bytes", pre, (unsigned long long)at, (unsigned long long)data_size);
    return RRM_OK;
}

/* Checks a tensor against the weight map of a sharded set. */
static int expect_check(const char *pre, const struct st_expect *x, const char *name, rrm_err *err)
{
    if (!x->weight_map) return RRM_OK;
    json_t *s = json_object_get(x->weight_map, name);
    if (!s)
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s' is not listed in weight_map", pre,
                        name);
    if (strcmp(json_string_value(s), x->shard) != 0)
        return rrm_errf(err, RRM_E_FORMAT, "%s: tensor '%s' is here but weight_map puts it in "
                        "'%s'", pre, name, json_string_value(s));
    return RRM_OK;
}

static int set_grow(struct st_set *s, int64_t extra, const char *pre, rrm_err *err)
{
    int64_t need = s->n + extra;
    if ((uint64_t)need > s->lim.max_tensors)
        return rrm_errf(err, RRM_E_LIMIT, "%s: %lld tensors exceed the limit of %llu", pre,
                        (long long)need, (unsigned long long)s->lim.max_tensors);
    if (need <= s->cap) return RRM_OK;
    int64_t cap = s->cap ? s->cap : 16;
    while (cap < need) cap *= 2;
    struct fmt_tensor *t = rrm_realloc(s->t, (size_t)cap * sizeof *t);
    if (!t) return rrm_errf(err, RRM_E_NOMEM, "%s: out of memory", pre);
    s->t = t;
    int *fo = rrm_realloc(s->file_of, (size_t)cap * sizeof *fo);
    if (!fo) return rrm_errf(err, RRM_E_NOMEM, "%s: out of memory", pre);
    s->file_of = fo;
    s->cap = cap;
    return RRM_OK;
}

/* Collects and checks every entry of a parsed header into e (count in *n). */
static int parse_entries(const char *pre, json_t *root, struct st_entry *e, size_t *n,
                         const struct st_expect *x, rrm_err *err)
{
    const char *k;
    size_t klen;
    json_t *v;
    int rc;
    *n = 0;
    json_object_keylen_foreach(root, k, klen, v) {
        if (strlen(k) != klen)
            return rrm_errf(err, RRM_E_FORMAT, "%s: tensor name contains a NUL byte", pre);
        if (strcmp(k, "__metadata__") == 0) {
            if ((rc = metadata_check(pre, v, err))) return rc;
            continue;
        }
        if ((rc = parse_entry(pre, k, v, &e[*n], err))) return rc;
        if ((rc = expect_check(pre, x, k, err))) return rc;
        (*n)++;
    }
    return RRM_OK;
}

/* Parses one file (buf, size) and appends its tensors to s as file number `file`. */
static int parse_file(struct st_set *s, int file, const uint8_t *buf, size_t size,
                      const char *what, const struct st_expect *x, rrm_err *err)
{
    char pre[300];
    snprintf(pre, sizeof pre, "safetensors: '%s'", what);
    if (size < 8)
        return rrm_errf(err, RRM_E_FORMAT, "%s: file of %zu bytes is too short for the 8-byte "
                        "header length", pre, size);
    uint64_t hlen = fmt_le64(buf);
    if (hlen > s->lim.max_header)
        return rrm_errf(err, RRM_E_LIMIT, "%s: header of %llu bytes exceeds the limit of %llu",
                        pre, (unsigned long long)hlen, (unsigned long long)s->lim.max_header);
    if (hlen > size - 8)
        return rrm_errf(err, RRM_E_FORMAT, "%s: header of %llu bytes exceeds the file (%zu bytes)",
                        pre, (unsigned long long)hlen, size);
    json_t *root = NULL;
    struct st_entry *e = NULL;
    size_t n = 0;
    int rc = rrm_json_parse(&root, (const char *)buf + 8, (size_t)hlen, (size_t)s->lim.max_header,
                            what, err);
    if (rc) {
        if (err) rrm_err_prefix(err, "safetensors");
        return rc;
    }
    if (!json_is_object(root)) {
        rc = rrm_errf(err, RRM_E_FORMAT, "%s: header is not a JSON object", pre);
        goto done;
    }
    size_t cnt = json_object_size(root) - (json_object_get(root, "__metadata__") ? 1 : 0);
    if ((rc = set_grow(s, (int64_t)cnt, pre, err))) goto done;
    e = rrm_calloc(cnt, sizeof *e);
    if (!e) {
        rc = rrm_errf(err, RRM_E_NOMEM, "%s: out of memory", pre);
        goto done;
    }
    if ((rc = parse_entries(pre, root, e, &n, x, err))) goto done;
    const uint8_t *data = buf + 8 + hlen;
    if ((rc = check_tiling(pre, e, n, size - 8 - hlen, err))) goto done;
    for (size_t i = 0; i < n; i++) {
        struct fmt_tensor *t = &s->t[s->n];
        char *nm = rrm_strdup(e[i].name);
        if (!nm) {
            rc = rrm_errf(err, RRM_E_NOMEM, "%s: out of memory", pre);
            goto done;
        }
        t->name = nm;
        t->type = e[i].type;
        t->n_dims = e[i].n_dims;
        memcpy(t->ne, e[i].ne, sizeof t->ne);
        t->data = data + e[i].begin;
        t->nbytes = e[i].nbytes;
        s->file_of[s->n++] = file;
    }
done:
    rrm_free(e);
    json_decref(root);
    return rc;
}

void st_close(struct st_set *s)
{
    if (!s) return;
    for (int64_t i = 0; i < s->n; i++) rrm_free((char *)s->t[i].name);
    rrm_free(s->t);
    rrm_free(s->file_of);
    for (int i = 0; s->maps && i < s->n_files; i++) rrm_mmap_close(&s->maps[i]);
    rrm_free(s->maps);
    fmt_index_free(&s->ix);
    rrm_free(s);
}

static int set_new(struct st_set **out, int n_files, const struct fmt_limits *lim, rrm_err *err)
{
    struct st_set *s = rrm_calloc(1, sizeof *s);
    if (s) s->maps = rrm_calloc((size_t)(n_files ? n_files : 1), sizeof *s->maps);
    if (!s || !s->maps) {
        rrm_free(s);
        return rrm_errf(err, RRM_E_NOMEM, "safetensors: out of memory");
    }
    fmt_limits_resolve(&s->lim, lim);
    *out = s;
    return RRM_OK;
}

/* Builds the name index; a name seen twice (possible only across shards) is an error. */
static int set_index(struct st_set *s, const char *what, rrm_err *err)
{
    if (fmt_index_init(&s->ix, s->n))
        return rrm_errf(err, RRM_E_NOMEM, "safetensors: '%s': out of memory", what);
    for (int64_t i = 0; i < s->n; i++) {
        int64_t j = fmt_index_put(&s->ix, s->t[i].name, i);
        if (j >= 0)
            return rrm_errf(err, RRM_E_FORMAT, "safetensors: '%s': tensor '%s' appears twice (files "
                            "%d and %d)", what, s->t[i].name, s->file_of[j], s->file_of[i]);
    }
    return RRM_OK;
}

int st_open_buf(struct st_set **out, const void *buf, size_t len, const char *what,
                const struct fmt_limits *lim, rrm_err *err)
{
    struct st_set *s;
    const struct st_expect none = {0};
    *out = NULL;
    if (!what) what = "(buffer)";
    if (!buf && len)
        return rrm_errf(err, RRM_E_INVAL, "%s: NULL buffer of %zu bytes", what, len);
    int rc = set_new(&s, 0, lim, err);
    if (rc) return rc;
    if ((rc = parse_file(s, 0, buf, len, what, &none, err)) || (rc = set_index(s, what, err))) {
        st_close(s);
        return rc;
    }
    *out = s;
    return RRM_OK;
}

int st_open_file(struct st_set **out, const char *path, const struct fmt_limits *lim,
                 rrm_err *err)
{
    struct st_set *s;
    const struct st_expect none = {0};
    *out = NULL;
    int rc = set_new(&s, 1, lim, err);
    if (rc) return rc;
    if ((rc = rrm_mmap_open(&s->maps[0], path, 0, err))) goto fail;
    s->n_files = 1;
    if ((rc = parse_file(s, 0, s->maps[0].data, s->maps[0].size, path, &none, err))) goto fail;
    if ((rc = set_index(s, path, err))) goto fail;
    *out = s;
    return RRM_OK;
fail:
    st_close(s);
    return rc;
}

/* A shard name must be a plain file name: no directory part, no "." or "..". */
static int shard_name_ok(const char *s)
{
    return *s && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0;
}

/* Distinct shard names of the weight map, in order of first appearance (borrowed from wm). */
static int list_shards(json_t *wm, const char *what, const char ***out, int *n_out, rrm_err *err)
{
    size_t n = json_object_size(wm);
    const char **names = rrm_calloc(n ? n : 1, sizeof *names);
    struct fmt_index ix;
    int rc = RRM_OK, k = 0;
    if (!names || fmt_index_init(&ix, (int64_t)n)) {
        rrm_free(names);
        return rrm_errf(err, RRM_E_NOMEM, "safetensors: '%s': out of memory", what);
    }
    const char *key;
    json_t *v;
    json_object_foreach(wm, key, v) {
        if (!json_is_string(v)) {
            rc = rrm_errf(err, RRM_E_FORMAT, "safetensors: '%s': weight_map['%s'] is not a string",
                          what, key);
            break;
        }
        const char *sh = json_string_value(v);
        if (!shard_name_ok(sh) || strlen(sh) != json_string_length(v)) {
            rc = rrm_errf(err, RRM_E_FORMAT, "safetensors: '%s': weight_map['%s']: shard '%.64s' is "
                          "not a plain file name", what, key, sh);
            break;
        }
        if (fmt_index_put(&ix, sh, k) < 0) names[k++] = sh;
    }
    fmt_index_free(&ix);
    if (rc == RRM_OK && k == 0)
        rc = rrm_errf(err, RRM_E_FORMAT, "safetensors: '%s': weight_map is empty", what);
    if (rc) {
        rrm_free(names);
        return rc;
    }
    *out = names;
    *n_out = k;
    return RRM_OK;
}

/* Every tensor the map names must have been found. */
static int check_all_found(const struct st_set *s, json_t *wm, const char *what, rrm_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(wm, key, v) {
        if (fmt_index_get(&s->ix, key) < 0)
            return rrm_errf(err, RRM_E_FORMAT, "safetensors: '%s': tensor '%s' is listed in "
                            "weight_map but missing from shard '%s'", what, key,
                            json_string_value(v));
    }
    return RRM_OK;
}

static int open_sharded(struct st_set **out, const char *dir, const char *index_path,
                        const struct fmt_limits *lim, rrm_err *err)
{
    json_t *root = NULL;
    const char **shards = NULL;
    struct st_set *s = NULL;
    int n_shards = 0;
    int rc = rrm_json_load_file(&root, index_path, ST_MAX_INDEX, err);
    if (rc) return rc;
    json_t *wm = json_is_object(root) ? json_object_get(root, "weight_map") : NULL;
    if (!json_is_object(wm)) {
        rc = rrm_errf(err, RRM_E_FORMAT, "safetensors: '%s': %s", index_path,
                      json_is_object(root) ? "weight_map is missing or not an object"
                                           : "index is not a JSON object");
        goto done;
    }
    if ((rc = list_shards(wm, index_path, &shards, &n_shards, err))) goto done;
    if ((rc = set_new(&s, n_shards, lim, err))) goto done;
    for (int i = 0; i < n_shards; i++) {
        char *path = rrm_path_join(dir, shards[i]);
        if (!path) {
            rc = rrm_errf(err, RRM_E_NOMEM, "safetensors: out of memory");
            goto done;
        }
        struct st_expect x = {wm, shards[i]};
        rc = rrm_mmap_open(&s->maps[i], path, 0, err);
        if (rc == RRM_OK) {
            s->n_files = i + 1;
            rc = parse_file(s, i, s->maps[i].data, s->maps[i].size, path, &x, err);
        }
        rrm_free(path);
        if (rc) goto done;
    }
    if ((rc = set_index(s, index_path, err)) || (rc = check_all_found(s, wm, index_path, err)))
        goto done;
    *out = s;
    s = NULL;
done:
    st_close(s);
    rrm_free(shards);
    json_decref(root);
    return rc;
}

int st_open_dir(struct st_set **out, const char *dir, const struct fmt_limits *lim, rrm_err *err)
{
    struct stat st;
    *out = NULL;
    char *ip = rrm_path_join(dir, ST_INDEX_NAME);
    char *sp = rrm_path_join(dir, ST_SINGLE_NAME);
    int rc;
    if (!ip || !sp) {
        rc = rrm_errf(err, RRM_E_NOMEM, "safetensors: out of memory");
    } else if (stat(ip, &st) == 0) {
        rc = open_sharded(out, dir, ip, lim, err);
    } else if (stat(sp, &st) == 0) {
        rc = st_open_file(out, sp, lim, err);
    } else {
        rc = rrm_errf(err, RRM_E_IO, "safetensors: '%s' has neither %s nor %s", dir, ST_INDEX_NAME,
                      ST_SINGLE_NAME);
    }
    rrm_free(ip);
    rrm_free(sp);
    return rc;
}

int64_t st_n_tensors(const struct st_set *s) { return s->n; }
int st_n_files(const struct st_set *s) { return s->n_files; }

const struct fmt_tensor *st_tensor(const struct st_set *s, int64_t i)
{
    return i >= 0 && i < s->n ? &s->t[i] : NULL;
}

const struct fmt_tensor *st_find_tensor(const struct st_set *s, const char *name)
{
    int64_t i = name ? fmt_index_get(&s->ix, name) : -1;
    return i >= 0 ? &s->t[i] : NULL;
}
