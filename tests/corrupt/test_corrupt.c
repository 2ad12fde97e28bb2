/*
 * test_corrupt.c — the corrupt-file suite (llama.cpp tests/test-gguf.cpp idea, safetensors'
 * HeaderTooLarge/InvalidOffset errors): a small valid GGUF and safetensors file are built in
 * memory, then broken one field at a time; every case expects a specific error code and a
 * message substring, no crash, and no leak (rrm_alloc_live back to its start value). Also every
 * truncation point of both files, bad model.safetensors.index.json directories, bad config.json
 * and OOM-injection loops (rrm_alloc_fail_at) over opening a valid GGUF and a sharded
 * safetensors directory: each iteration succeeds or fails cleanly with RRM_E_NOMEM.
 * Uses only the formats and core APIs.
 */
#define _GNU_SOURCE
#include "formats/formats.h"
#include "../harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static char *tpath(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* ---- an in-memory GGUF builder that records where each field is ---- */

#define G_SIZE 2048
struct buf {
    uint8_t d[G_SIZE];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > sizeof b->d) abort(); /* test bug: the fixture is small */
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void put_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}
static void put_u64(struct buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}
static void put_str(struct buf *b, const char *s)
{
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}

/* Field positions in the valid file. */
enum field {
    F_MAGIC, F_VERSION, F_NT, F_NKV,
    F_KV_KEY,      /* first key byte of kv[i] */
    F_KV_TYPE,     /* type of kv[i] */
    F_ARCH_LEN,    /* string length of kv 0's value */
    F_ALIGN,       /* general.alignment value */
    F_ARR_ETYPE, F_ARR_N, F_ARR_S0LEN, /* kv 2: string array */
    F_BOOL,        /* kv 3 value */
    F_T_NAME,      /* first name byte of tensor i */
    F_T_NDIMS, F_T_NE0, F_T_NE1, F_T_TYPE, F_T_OFF,
    F_COUNT
};
struct gpos {
    size_t at[F_COUNT][5];
};

#define G_NKV 5
#define G_NT 3

/* kv: general.architecture="qwen2", general.alignment=32, tokenizer.ggml.tokens=["a","bc","def"],
 * x.flag=true, x.list=[1,2,3,4] (i32). Tensors: t.a f32 {4,2} @0 (32 B), t.b q8_0 {32} @32 (34 B),
 * t.c f16 {3} @96 (6 B). No padding after the last tensor, so every truncation is an error. */
static void gguf_build(struct buf *b, struct gpos *p, const char *name0)
{
    memset(b, 0, sizeof *b);
    p->at[F_MAGIC][0] = 0;
    put(b, "GGUF", 4);
    p->at[F_VERSION][0] = b->n;
    put_u32(b, 3);
    p->at[F_NT][0] = b->n;
    put_u64(b, G_NT);
    p->at[F_NKV][0] = b->n;
    put_u64(b, G_NKV);
    static const char *keys[G_NKV] = {"general.architecture", "general.alignment",
                                      "tokenizer.ggml.tokens", "x.flag", "x.list"};
    static const uint32_t types[G_NKV] = {GGUF_T_STRING, GGUF_T_UINT32, GGUF_T_ARRAY,
                                          GGUF_T_BOOL, GGUF_T_ARRAY};
    for (int i = 0; i < G_NKV; i++) {
        p->at[F_KV_KEY][i] = b->n + 8;
        put_str(b, keys[i]);
        p->at[F_KV_TYPE][i] = b->n;
        put_u32(b, types[i]);
        if (i == 0) {
            p->at[F_ARCH_LEN][0] = b->n;
            put_str(b, "qwen2");
        } else if (i == 1) {
            p->at[F_ALIGN][0] = b->n;
            put_u32(b, 32);
        } else if (i == 2) {
            p->at[F_ARR_ETYPE][0] = b->n;
            put_u32(b, GGUF_T_STRING);
            p->at[F_ARR_N][0] = b->n;
            put_u64(b, 3);
            p->at[F_ARR_S0LEN][0] = b->n;
            put_str(b, "a");
            put_str(b, "bc");
            put_str(b, "def");
        } else if (i == 3) {
            p->at[F_BOOL][0] = b->n;
            put(b, "\x01", 1);
        } else {
            put_u32(b, GGUF_T_INT32);
            put_u64(b, 4);
            for (uint32_t k = 1; k <= 4; k++) put_u32(b, k);
        }
    }
    const char *names[G_NT] = {name0 ? name0 : "t.a", "t.b", "t.c"};
    static const uint32_t nd[G_NT] = {2, 1, 1}, tt[G_NT] = {0, 8, 1};
    static const uint64_t ne[G_NT][2] = {{4, 2}, {32, 1}, {3, 1}}, off[G_NT] = {0, 32, 96};
    for (int i = 0; i < G_NT; i++) {
        p->at[F_T_NAME][i] = b->n + 8;
        put_str(b, names[i]);
        p->at[F_T_NDIMS][i] = b->n;
        put_u32(b, nd[i]);
        p->at[F_T_NE0][i] = b->n;
        put_u64(b, ne[i][0]);
        p->at[F_T_NE1][i] = b->n;
        if (nd[i] > 1) put_u64(b, ne[i][1]);
        p->at[F_T_TYPE][i] = b->n;
        put_u32(b, tt[i]);
        p->at[F_T_OFF][i] = b->n;
        put_u64(b, off[i]);
    }
    while (b->n % 32) put(b, "", 1);
    for (size_t i = 0; i < 102; i++) {
        uint8_t v = (uint8_t)(i * 7);
        if (i >= 32 && i < 34) v = 0; /* q8_0 scale: a finite f16 */
        put(b, &v, 1);
    }
}

/* One GGUF corruption: write `val` (width bytes) at field f, index i. */
struct gcase {
    const char *what;
    enum field f;
    int i, width; /* width 0: copy the string `str` there instead */
    uint64_t val;
    int code;
    const char *msg;
    const char *str;
};

static const struct gcase gcases[] = {
    {"bad magic", F_MAGIC, 0, 1, 'X', RRM_E_FORMAT, "bad magic", NULL},
    {"version 1", F_VERSION, 0, 4, 1, RRM_E_UNSUPPORTED, "version 1", NULL},
    {"version 0", F_VERSION, 0, 4, 0, RRM_E_FORMAT, "unknown GGUF version 0", NULL},
    {"version 4", F_VERSION, 0, 4, 4, RRM_E_FORMAT, "unknown GGUF version 4", NULL},
    {"big-endian", F_VERSION, 0, 4, 0x03000000u, RRM_E_UNSUPPORTED, "big-endian", NULL},
    {"huge n_kv", F_NKV, 0, 8, (uint64_t)1 << 40, RRM_E_LIMIT, "keys exceed the limit", NULL},
    {"n_kv beyond file", F_NKV, 0, 8, 1000, RRM_E_FORMAT, "cannot fit", NULL},
    {"n_kv one too many", F_NKV, 0, 8, G_NKV + 1, RRM_E_LIMIT, "tensor #0 name", NULL},
    {"huge n_tensors", F_NT, 0, 8, UINT64_MAX, RRM_E_LIMIT, "tensors exceed the limit", NULL},
    {"n_tensors beyond file", F_NT, 0, 8, 60000, RRM_E_FORMAT, "cannot fit", NULL},
    {"n_kv one too few", F_NKV, 0, 8, G_NKV - 1, RRM_E_FORMAT, "n_dims 9", NULL},
    {"huge string", F_ARCH_LEN, 0, 8, (uint64_t)1 << 40, RRM_E_LIMIT, "exceeds the limit", NULL},
    {"string past end", F_ARCH_LEN, 0, 8, 100000, RRM_E_FORMAT, "truncated", NULL},
    {"unknown value type", F_KV_TYPE, 0, 4, 13, RRM_E_FORMAT, "unknown value type 13", NULL},
    {"nested array", F_ARR_ETYPE, 0, 4, GGUF_T_ARRAY, RRM_E_UNSUPPORTED, "nested arrays", NULL},
    {"bad element type", F_ARR_ETYPE, 0, 4, 77, RRM_E_FORMAT, "unknown array element type 77", NULL},
    {"huge array", F_ARR_N, 0, 8, (uint64_t)1 << 40, RRM_E_LIMIT, "exceeds the limit", NULL},
    {"array past end", F_ARR_N, 0, 8, 100000, RRM_E_FORMAT, "needs at least", NULL},
    {"array string past end", F_ARR_S0LEN, 0, 8, 5000, RRM_E_FORMAT, "truncated", NULL},
    {"bool 2", F_BOOL, 0, 1, 2, RRM_E_FORMAT, "bool value 2", NULL},
    {"duplicate key", F_KV_KEY, 4, 0, 0, RRM_E_FORMAT, "duplicate key 'x.flag'", "x.flag"},
    {"NUL in key", F_KV_KEY, 0, 1, 0, RRM_E_FORMAT, "NUL byte", NULL},
    {"alignment 0", F_ALIGN, 0, 4, 0, RRM_E_FORMAT, "power of two", NULL},
    {"alignment 48", F_ALIGN, 0, 4, 48, RRM_E_FORMAT, "general.alignment 48", NULL},
    {"alignment as i32", F_KV_TYPE, 1, 4, GGUF_T_INT32, RRM_E_FORMAT, "expected u32", NULL},
    {"duplicate tensor", F_T_NAME, 1, 0, 0, RRM_E_FORMAT, "duplicate tensor name 't.a'", "t.a"},
    {"NUL in tensor name", F_T_NAME, 2, 1, 0, RRM_E_FORMAT, "NUL byte", NULL},
    {"n_dims 0", F_T_NDIMS, 0, 4, 0, RRM_E_FORMAT, "n_dims 0", NULL},
    {"n_dims 5", F_T_NDIMS, 0, 4, 5, RRM_E_FORMAT, "n_dims 5", NULL},
    {"negative ne", F_T_NE0, 0, 8, UINT64_MAX, RRM_E_FORMAT, "negative", NULL},
    {"dims product overflows", F_T_NE1, 0, 8, (uint64_t)1 << 62, RRM_E_FORMAT, "overflows", NULL},
    {"ne0 not block multiple", F_T_NE0, 1, 8, 33, RRM_E_FORMAT, "not a multiple of the q8_0", NULL},
    {"unknown tensor type", F_T_TYPE, 2, 4, 99, RRM_E_UNSUPPORTED, "type 99", NULL},
    {"removed tensor type 4", F_T_TYPE, 2, 4, 4, RRM_E_UNSUPPORTED, "type 4", NULL},
    {"tensor type 2^32-1", F_T_TYPE, 2, 4, UINT32_MAX, RRM_E_UNSUPPORTED, "type 4294967295", NULL},
    {"misaligned offset", F_T_OFF, 1, 8, 33, RRM_E_FORMAT, "alignment 32", NULL},
    {"offset past data", F_T_OFF, 2, 8, 128, RRM_E_FORMAT, "data 128+6 exceeds data section", NULL},
    {"offset huge", F_T_OFF, 2, 8, (uint64_t)1 << 40, RRM_E_FORMAT, "exceeds data section", NULL},
    {"offset wraps", F_T_OFF, 2, 8, UINT64_MAX - 31, RRM_E_FORMAT, "exceeds data section", NULL},
    {"overlap", F_T_OFF, 1, 8, 0, RRM_E_FORMAT, "overlaps", NULL},
    {"data too big", F_T_NE0, 2, 8, 4, RRM_E_FORMAT, "data 96+8 exceeds data section of 102", NULL},
};

static void patch(struct buf *b, size_t at, uint64_t v, int width)
{
    for (int k = 0; k < width; k++) b->d[at + (size_t)k] = (uint8_t)(v >> (8 * k));
}

/* Opens buf and checks code + message; returns the code. */
static int expect_gguf(const char *what, const void *d, size_t n, const struct fmt_limits *lim,
                       int code, const char *msg)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    struct gguf_file *f = (struct gguf_file *)(uintptr_t)1;
    int rc = gguf_open_buf(&f, d, n, "x.gguf", lim, &e);
    CHECK_MSG(rc == code, "%s: got %s (%s), want %s", what, rrm_status_name(rc), e.msg,
              rrm_status_name(code));
    if (rc != RRM_OK) {
        CHECK_MSG(f == NULL, "%s: out not cleared", what);
        CHECK_MSG(strstr(e.msg, msg) && strstr(e.msg, "x.gguf"), "%s: message '%s' lacks '%s'",
                  what, e.msg, msg);
    }
    if (rc == RRM_OK) gguf_close(f);
    CHECK_MSG(rrm_alloc_live() == live0, "%s: leak", what);
    return rc;
}

static void test_gguf_cases(void)
{
    struct buf b;
    struct gpos p;
    gguf_build(&b, &p, NULL);
    CHECK_EQ(expect_gguf("valid", b.d, b.n, NULL, RRM_OK, ""), RRM_OK);
    for (size_t c = 0; c < sizeof gcases / sizeof *gcases; c++) {
        const struct gcase *g = &gcases[c];
        struct buf m = b;
        if (g->width)
            patch(&m, p.at[g->f][g->i], g->val, g->width);
        else
            memcpy(m.d + p.at[g->f][g->i], g->str, strlen(g->str));
        expect_gguf(g->what, m.d, m.n, NULL, g->code, g->msg);
    }
    /* truncation at every point */
    for (size_t n = 0; n < b.n; n++) {
        char what[48];
        snprintf(what, sizeof what, "truncated at %zu", n);
        expect_gguf(what, b.d, n, NULL, RRM_E_FORMAT, "gguf:");
    }
    /* caller limits */
    struct fmt_limits lim = {0};
    lim.max_kv = 4;
    expect_gguf("max_kv", b.d, b.n, &lim, RRM_E_LIMIT, "5 keys exceed the limit of 4");
    lim = (struct fmt_limits){0};
    lim.max_tensors = 2;
    expect_gguf("max_tensors", b.d, b.n, &lim, RRM_E_LIMIT, "3 tensors exceed the limit of 2");
    lim = (struct fmt_limits){0};
    lim.max_string = 8;
    expect_gguf("max_string", b.d, b.n, &lim, RRM_E_LIMIT, "string of 20 bytes");
    lim = (struct fmt_limits){0};
    lim.max_array = 3;
    expect_gguf("max_array", b.d, b.n, &lim, RRM_E_LIMIT, "array of 4 elements");
    /* name length: 63 bytes is fine, 64 is not (GGML_MAX_NAME includes the NUL) */
    char name[80];
    memset(name, 'n', sizeof name);
    name[63] = 0;
    gguf_build(&b, &p, name);
    expect_gguf("name 63", b.d, b.n, NULL, RRM_OK, "");
    name[63] = 'n';
    name[64] = 0;
    gguf_build(&b, &p, name);
    expect_gguf("name 64", b.d, b.n, NULL, RRM_E_FORMAT, "name of 64 bytes exceeds 63");
    expect_gguf("NULL buffer", NULL, 10, NULL, RRM_E_INVAL, "NULL buffer");
}

/* ---- safetensors ---- */

/* 8-byte length + header + data_len filler bytes into b. */
static void st_build(struct buf *b, const char *hdr, size_t data_len)
{
    memset(b, 0, sizeof *b);
    put_u64(b, strlen(hdr));
    put(b, hdr, strlen(hdr));
    for (size_t i = 0; i < data_len; i++) put(b, "\x3f", 1);
}

static int expect_st(const char *what, const void *d, size_t n, const struct fmt_limits *lim,
                     int code, const char *msg)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    struct st_set *s = (struct st_set *)(uintptr_t)1;
    int rc = st_open_buf(&s, d, n, "x.safetensors", lim, &e);
    CHECK_MSG(rc == code, "%s: got %s (%s), want %s", what, rrm_status_name(rc), e.msg,
              rrm_status_name(code));
    if (rc != RRM_OK) {
        CHECK_MSG(s == NULL, "%s: out not cleared", what);
        CHECK_MSG(strstr(e.msg, msg) && strstr(e.msg, "x.safetensors"),
                  "%s: message '%s' lacks '%s'", what, e.msg, msg);
    } else {
        st_close(s);
    }
    CHECK_MSG(rrm_alloc_live() == live0, "%s: leak", what);
    return rc;
}

#define A_OK "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}"
#define B_OK "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[16,22]}"

struct scase {
    const char *what, *hdr;
    size_t data_len;
    int code;
    const char *msg;
};

static const struct scase scases[] = {
    {"valid", "{" A_OK "," B_OK "}", 22, RRM_OK, ""},
    {"valid with metadata", "{\"__metadata__\":{\"format\":\"pt\"}," B_OK ",\"a\":{\"dtype\":\"F32\","
     "\"shape\":[2,2],\"data_offsets\":[0,16]}}  ", 22, RRM_OK, ""},
    {"scalar", "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, RRM_OK, ""},
    {"empty", "{}", 0, RRM_OK, ""},
    {"zero-size tensor", "{\"z\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[0,0]}," A_OK
     "}", 16, RRM_OK, ""},
    {"not an object", "[1,2]", 0, RRM_E_FORMAT, "not a JSON object"},
    {"bad json", "{\"a\":", 0, RRM_E_FORMAT, "json"},
    {"duplicate name", "{" A_OK "," A_OK "}", 16, RRM_E_FORMAT, "duplicate"},
    {"NUL in name", "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     RRM_E_FORMAT, "json"},
    {"entry not object", "{\"a\":[1]}", 0, RRM_E_FORMAT, "tensor 'a': entry must be an object"},
    {"missing data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, RRM_E_FORMAT,
     "exactly dtype, shape and data_offsets"},
    {"extra field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
     RRM_E_FORMAT, "exactly dtype"},
    {"dtype not string", "{\"a\":{\"dtype\":1,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     RRM_E_FORMAT, "dtype is not a string"},
    {"dtype I64", "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
     RRM_E_UNSUPPORTED, "tensor 'a': dtype I64"},
    {"dtype F64", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
     RRM_E_UNSUPPORTED, "dtype F64"},
    {"dtype U8", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     RRM_E_UNSUPPORTED, "dtype U8"},
    {"unknown dtype", "{\"a\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     RRM_E_FORMAT, "unknown dtype 'Q9'"},
    {"shape not array", "{\"a\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", 16,
     RRM_E_FORMAT, "shape is not an array"},
    {"negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
     RRM_E_FORMAT, "shape[0] is not a non-negative integer"},
    {"real dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
     RRM_E_FORMAT, "shape[0]"},
    {"rank 5", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
     RRM_E_UNSUPPORTED, "rank 5"},
    {"dims overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
     "\"data_offsets\":[0,4]}}", 4, RRM_E_FORMAT, "overflows"},
    {"bytes overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
     "\"data_offsets\":[0,4]}}", 4, RRM_E_FORMAT, "overflows"},
    {"offsets one number", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
     RRM_E_FORMAT, "data_offsets must be [begin, end]"},
    {"offsets negative", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
     RRM_E_FORMAT, "data_offsets must be"},
    {"end before begin", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
     RRM_E_FORMAT, "end before begin"},
    {"size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12,
     RRM_E_FORMAT, "hold 12 bytes, shape and dtype need 16"},
    {"gap", "{" A_OK ",\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[20,26]}}", 26,
     RRM_E_FORMAT, "tensor 'b': data begins at 20, leaving a gap after 16"},
    {"not from 0", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[4,20]}}", 20,
     RRM_E_FORMAT, "gap after 0"},
    {"overlap", "{" A_OK ",\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[10,16]}}", 16,
     RRM_E_FORMAT, "overlaps"},
    {"trailing data", "{" A_OK "," B_OK "}", 30, RRM_E_FORMAT,
     "tensors end at 22 but the data section has 30 bytes"},
    {"offsets past file", "{" A_OK "," B_OK "}", 20, RRM_E_FORMAT, "data section has 20 bytes"},
    {"metadata not object", "{\"__metadata__\":[]," A_OK "}", 16, RRM_E_FORMAT,
     "__metadata__ is not an object"},
    {"metadata value not string", "{\"__metadata__\":{\"n\":1}," A_OK "}", 16, RRM_E_FORMAT,
     "__metadata__ value 'n'"},
};

static void test_st_cases(void)
{
    struct buf b;
    for (size_t c = 0; c < sizeof scases / sizeof *scases; c++) {
        st_build(&b, scases[c].hdr, scases[c].data_len);
        expect_st(scases[c].what, b.d, b.n, NULL, scases[c].code, scases[c].msg);
    }
    /* scalar -> n_dims 1, ne {1}; ggml order for [2,2] is trivially symmetric, use [2,3] */
    st_build(&b, "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"m\":{\"dtype\":"
             "\"F16\",\"shape\":[2,3],\"data_offsets\":[4,16]}}", 16);
    struct st_set *s = NULL;
    rrm_err e = {0};
    CHECK_EQ(st_open_buf(&s, b.d, b.n, "x", NULL, &e), RRM_OK);
    if (s) {
        const struct fmt_tensor *t = st_find_tensor(s, "s");
        CHECK(t && t->n_dims == 1 && t->ne[0] == 1 && t->nbytes == 4);
        t = st_find_tensor(s, "m");
        CHECK(t && t->n_dims == 2 && t->ne[0] == 3 && t->ne[1] == 2 && t->nbytes == 12 &&
              t->data == b.d + b.n - 12);
    }
    st_close(s);
    /* every truncation point of a valid file */
    st_build(&b, "{" A_OK "," B_OK "}", 22);
    for (size_t n = 0; n < b.n; n++) {
        char what[48];
        snprintf(what, sizeof what, "st truncated at %zu", n);
        expect_st(what, b.d, n, NULL, RRM_E_FORMAT, "safetensors");
    }
    /* header length over the limit, and past the end of the file */
    struct buf h = b;
    patch(&h, 0, 100000001, 8);
    expect_st("header over 100 MB", h.d, h.n, NULL, RRM_E_LIMIT,
              "header of 100000001 bytes exceeds the limit of 100000000");
    patch(&h, 0, UINT64_MAX, 8);
    expect_st("header length 2^64-1", h.d, h.n, NULL, RRM_E_LIMIT, "exceeds the limit");
    patch(&h, 0, 5000, 8);
    expect_st("header past end", h.d, h.n, NULL, RRM_E_FORMAT, "exceeds the file");
    struct fmt_limits lim = {0};
    lim.max_header = 16;
    expect_st("max_header", b.d, b.n, &lim, RRM_E_LIMIT, "exceeds the limit of 16");
    lim = (struct fmt_limits){0};
    lim.max_tensors = 1;
    expect_st("max_tensors", b.d, b.n, &lim, RRM_E_LIMIT, "exceed the limit of 1");
}

/* ---- sharded directories ---- */

static float sh_a[6] = {1, 2, 3, 4, 5, 6}, sh_b[4] = {7, 8, 9, 10}, sh_c[2] = {11, 12};

/* Writes a valid 3-shard directory (one tensor per shard) at dir. */
static void make_sharded(const char *dir)
{
    struct fmt_tensor t[3] = {
        {.name = "a", .type = RRM_TYPE_F32, .n_dims = 2, .ne = {3, 2, 1, 1}, .data = sh_a,
         .nbytes = sizeof sh_a},
        {.name = "b", .type = RRM_TYPE_F32, .n_dims = 1, .ne = {4, 1, 1, 1}, .data = sh_b,
         .nbytes = sizeof sh_b},
        {.name = "c", .type = RRM_TYPE_F32, .n_dims = 1, .ne = {2, 1, 1, 1}, .data = sh_c,
         .nbytes = sizeof sh_c},
    };
    rrm_err e = {0};
    int rc = st_write_sharded(dir, t, 3, 1, &e);
    CHECK_MSG(rc == RRM_OK, "make_sharded: %s", e.msg);
}

static void write_text(const char *path, const char *text)
{
    rrm_err e = {0};
    CHECK_EQ(rrm_write_file(path, text, strlen(text), &e), RRM_OK);
}

#define S1 "model-00001-of-00003.safetensors"
#define S2 "model-00002-of-00003.safetensors"
#define S3 "model-00003-of-00003.safetensors"

struct dcase {
    const char *what, *index;
    int code;
    const char *msg;
};

static const struct dcase dcases[] = {
    {"valid", "{\"metadata\":{\"total_size\":48},\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S2
     "\",\"c\":\"" S3 "\"}}", RRM_OK, ""},
    {"metadata ignored", "{\"metadata\":{\"total_size\":\"lies\"},\"weight_map\":{\"c\":\"" S3
     "\",\"a\":\"" S1 "\",\"b\":\"" S2 "\"}}", RRM_OK, ""},
    {"missing shard", "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S2 "\",\"c\":\"model-00009.st\"}}",
     RRM_E_IO, "model-00009.st"},
    {"path traversal", "{\"weight_map\":{\"a\":\"../" S1 "\",\"b\":\"" S2 "\",\"c\":\"" S3 "\"}}",
     RRM_E_FORMAT, "not a plain file name"},
    {"dotdot", "{\"weight_map\":{\"a\":\"..\",\"b\":\"" S2 "\",\"c\":\"" S3 "\"}}", RRM_E_FORMAT,
     "shard '..' is not a plain file name"},
    {"absolute path", "{\"weight_map\":{\"a\":\"/etc/passwd\"}}", RRM_E_FORMAT,
     "not a plain file name"},
    {"empty shard name", "{\"weight_map\":{\"a\":\"\"}}", RRM_E_FORMAT, "not a plain file name"},
    {"wrong shard", "{\"weight_map\":{\"a\":\"" S2 "\",\"b\":\"" S2 "\",\"c\":\"" S3 "\"}}",
     RRM_E_FORMAT, "tensor 'a' is listed in weight_map but missing from shard '" S2 "'"},
    {"tensor moved", "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S3 "\",\"c\":\"" S3 "\",\"x\":\""
     S2 "\"}}", RRM_E_FORMAT, "tensor 'b' is here but weight_map puts it in '" S3 "'"},
    {"tensor missing", "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S2 "\",\"c\":\"" S3
     "\",\"ghost\":\"" S3 "\"}}", RRM_E_FORMAT, "tensor 'ghost' is listed in weight_map but missing"},
    {"tensor not in map", "{\"weight_map\":{\"a\":\"" S1 "\",\"c\":\"" S3 "\",\"ghost\":\"" S2
     "\"}}", RRM_E_FORMAT, "tensor 'b' is not listed in weight_map"},
    {"no weight_map", "{\"metadata\":{}}", RRM_E_FORMAT, "weight_map is missing"},
    {"weight_map array", "{\"weight_map\":[]}", RRM_E_FORMAT, "weight_map is missing or not"},
    {"empty weight_map", "{\"weight_map\":{}}", RRM_E_FORMAT, "weight_map is empty"},
    {"value not string", "{\"weight_map\":{\"a\":1}}", RRM_E_FORMAT,
     "weight_map['a'] is not a string"},
    {"index not object", "[]", RRM_E_FORMAT, "index is not a JSON object"},
    {"index bad json", "{\"weight_map\":", RRM_E_FORMAT, "json"},
    {"duplicate key", "{\"weight_map\":{\"a\":\"" S1 "\",\"a\":\"" S1 "\"}}", RRM_E_FORMAT,
     "duplicate"},
};

static void test_dir_cases(void)
{
    char *dir = tpath("shards");
    make_sharded(dir);
    char idx[300];
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
    for (size_t c = 0; c < sizeof dcases / sizeof *dcases; c++) {
        const struct dcase *d = &dcases[c];
        write_text(idx, d->index);
        long live0 = rrm_alloc_live();
        rrm_err e = {0};
        struct st_set *s = (struct st_set *)(uintptr_t)1;
        int rc = st_open_dir(&s, dir, NULL, &e);
        CHECK_MSG(rc == d->code, "%s: got %s (%s), want %s", d->what, rrm_status_name(rc), e.msg,
                  rrm_status_name(d->code));
        if (rc == RRM_OK) {
            CHECK(st_n_files(s) == 3 && st_n_tensors(s) == 3);
            const struct fmt_tensor *t = st_find_tensor(s, "a");
            CHECK(t && t->ne[0] == 3 && t->ne[1] == 2 && memcmp(t->data, sh_a, sizeof sh_a) == 0);
            st_close(s);
        } else {
            CHECK(s == NULL);
            CHECK_MSG(strstr(e.msg, d->msg) != NULL, "%s: message '%s' lacks '%s'", d->what, e.msg,
                      d->msg);
        }
        CHECK_MSG(rrm_alloc_live() == live0, "%s: leak", d->what);
    }
    /* a shard that is itself corrupt: the error names the shard file */
    write_text(idx, dcases[0].index);
    char shard[300];
    snprintf(shard, sizeof shard, "%s/%s", dir, S2);
    write_text(shard, "garbage");
    rrm_err e = {0};
    struct st_set *s = NULL;
    CHECK_EQ(st_open_dir(&s, dir, NULL, &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, S2) != NULL);
    /* an empty directory */
    mkdir(tpath("emptydir"), 0755);
    CHECK_EQ(st_open_dir(&s, tpath("emptydir"), NULL, &e), RRM_E_IO);
    CHECK(strstr(e.msg, "neither") != NULL);
}

/* ---- config.json ---- */

#define CFG_HEAD "{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":64," \
                 "\"intermediate_size\":96,\"num_hidden_layers\":2,\"vocab_size\":300,"

struct ccase {
    const char *what, *json;
    int code;
    const char *msg;
};

static const struct ccase ccases[] = {
    {"valid", CFG_HEAD "\"num_attention_heads\":4}", RRM_OK, ""},
    {"rope_scaling null", CFG_HEAD "\"num_attention_heads\":4,\"rope_scaling\":null}", RRM_OK, ""},
    {"sliding window", CFG_HEAD "\"num_attention_heads\":4,\"use_sliding_window\":true}",
     RRM_E_UNSUPPORTED, "use_sliding_window"},
    {"rope_scaling", CFG_HEAD "\"num_attention_heads\":4,\"rope_scaling\":{\"type\":\"yarn\","
     "\"factor\":4.0}}", RRM_E_UNSUPPORTED, "rope_scaling"},
    {"hidden_act gelu", CFG_HEAD "\"num_attention_heads\":4,\"hidden_act\":\"gelu\"}",
     RRM_E_UNSUPPORTED, "hidden_act 'gelu'"},
    {"mrope", CFG_HEAD "\"num_attention_heads\":4,\"use_mrope\":true}", RRM_E_UNSUPPORTED,
     "use_mrope"},
    {"llama", "{\"architectures\":[\"LlamaForCausalLM\"]}", RRM_E_UNSUPPORTED,
     "LlamaForCausalLM"},
    {"model_type", CFG_HEAD "\"num_attention_heads\":4,\"model_type\":\"qwen3\"}",
     RRM_E_UNSUPPORTED, "model_type 'qwen3'"},
    {"no architectures", "{\"hidden_size\":64}", RRM_E_FORMAT, "architectures"},
    {"architectures string", "{\"architectures\":\"Qwen2ForCausalLM\"}", RRM_E_FORMAT,
     "architectures"},
    {"missing heads", CFG_HEAD "\"x\":1}", RRM_E_FORMAT, "missing required field 'num_attention_heads'"},
    {"heads as string", CFG_HEAD "\"num_attention_heads\":\"4\"}", RRM_E_FORMAT,
     "'num_attention_heads' must be an integer"},
    {"heads real", CFG_HEAD "\"num_attention_heads\":4.0}", RRM_E_FORMAT,
     "must be an integer"},
    {"heads 0", CFG_HEAD "\"num_attention_heads\":0}", RRM_E_FORMAT,
     "'num_attention_heads' = 0 is below 1"},
    {"layers huge", "{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":64,"
     "\"intermediate_size\":96,\"num_hidden_layers\":1000000,\"vocab_size\":300,"
     "\"num_attention_heads\":4}", RRM_E_LIMIT, "'num_hidden_layers' = 1000000 exceeds the cap"},
    {"kv heads not dividing", CFG_HEAD "\"num_attention_heads\":4,\"num_key_value_heads\":3}",
     RRM_E_FORMAT, "not a multiple of num_key_value_heads 3"},
    {"kv heads > heads", CFG_HEAD "\"num_attention_heads\":4,\"num_key_value_heads\":8}",
     RRM_E_LIMIT, "num_key_value_heads"},
    {"hidden not dividing", CFG_HEAD "\"num_attention_heads\":5}", RRM_E_FORMAT,
     "hidden_size 64 is not a multiple of num_attention_heads 5"},
    {"rope_theta string", CFG_HEAD "\"num_attention_heads\":4,\"rope_theta\":\"1e6\"}",
     RRM_E_FORMAT, "'rope_theta' must be a number"},
    {"rope_theta 0", CFG_HEAD "\"num_attention_heads\":4,\"rope_theta\":0}", RRM_E_FORMAT,
     "rope_theta"},
    {"eps 2", CFG_HEAD "\"num_attention_heads\":4,\"rms_norm_eps\":2}", RRM_E_FORMAT,
     "rms_norm_eps"},
    {"tie as int", CFG_HEAD "\"num_attention_heads\":4,\"tie_word_embeddings\":1}", RRM_E_FORMAT,
     "'tie_word_embeddings' must be true or false"},
    {"sliding as string", CFG_HEAD "\"num_attention_heads\":4,\"use_sliding_window\":\"false\"}",
     RRM_E_FORMAT, "use_sliding_window"},
    {"eos empty", CFG_HEAD "\"num_attention_heads\":4,\"eos_token_id\":[]}", RRM_E_FORMAT,
     "'eos_token_id' is an empty array"},
    {"eos negative", CFG_HEAD "\"num_attention_heads\":4,\"eos_token_id\":-5}", RRM_E_FORMAT,
     "eos_token_id"},
    {"dtype long", CFG_HEAD "\"num_attention_heads\":4,\"torch_dtype\":\"bfloat16bfloat16bf\"}",
     RRM_E_FORMAT, "torch_dtype"},
    {"not object", "[]", RRM_E_FORMAT, "not a JSON object"},
    {"bad json", "{\"architectures\":", RRM_E_FORMAT, "json"},
};

static void test_config_cases(void)
{
    for (size_t c = 0; c < sizeof ccases / sizeof *ccases; c++) {
        const struct ccase *k = &ccases[c];
        long live0 = rrm_alloc_live();
        rrm_err e = {0};
        struct hf_config cfg;
        int rc = hf_config_parse(&cfg, k->json, strlen(k->json), "config.json", &e);
        CHECK_MSG(rc == k->code, "%s: got %s (%s), want %s", k->what, rrm_status_name(rc), e.msg,
                  rrm_status_name(k->code));
        if (rc != RRM_OK)
            CHECK_MSG(strstr(e.msg, k->msg) && strstr(e.msg, "config.json"),
                      "%s: message '%s' lacks '%s'", k->what, e.msg, k->msg);
        CHECK_MSG(rrm_alloc_live() == live0, "%s: leak", k->what);
    }
    rrm_err e = {0};
    struct hf_config cfg;
    CHECK_EQ(hf_config_load(&cfg, tpath("no-such-config.json"), &e), RRM_E_IO);
}

/* ---- OOM injection ---- */

/* Runs open() with the n-th allocation failing for n = 0, 1, ... until it succeeds; every
 * failure must be RRM_E_NOMEM and leave no leak. Returns the number of failing points. */
static int oom_loop(const char *what, int (*open)(void *arg, rrm_err *err), void *arg)
{
    long live0 = rrm_alloc_live();
    for (long n = 0; n < 100000; n++) {
        rrm_err e = {0};
        rrm_alloc_fail_at(n);
        int rc = open(arg, &e);
        rrm_alloc_fail_at(-1);
        CHECK_MSG(rc == RRM_OK || rc == RRM_E_NOMEM, "%s: fail_at %ld gave %s (%s)", what, n,
                  rrm_status_name(rc), e.msg);
        CHECK_MSG(rrm_alloc_live() == live0, "%s: fail_at %ld leaked %ld blocks", what, n,
                  rrm_alloc_live() - live0);
        if (rc != RRM_E_NOMEM) return (int)n;
    }
    CHECK_MSG(0, "%s: never succeeded", what);
    return -1;
}

static int oom_gguf(void *arg, rrm_err *err)
{
    struct gguf_file *f;
    int rc = gguf_open(&f, arg, NULL, err);
    if (rc == RRM_OK) {
        const char *s;
        size_t n;
        rc = gguf_get_arr_str(f, "tokenizer.ggml.tokens", 2, &s, &n, err);
        if (rc == RRM_OK && (n != 3 || memcmp(s, "def", 3) != 0)) rc = RRM_E_INTERNAL;
        gguf_close(f);
    }
    return rc;
}

static int oom_dir(void *arg, rrm_err *err)
{
    struct st_set *s;
    int rc = st_open_dir(&s, arg, NULL, err);
    if (rc == RRM_OK) {
        if (st_n_tensors(s) != 3 || !st_find_tensor(s, "c")) rc = RRM_E_INTERNAL;
        st_close(s);
    }
    return rc;
}

static int oom_config(void *arg, rrm_err *err)
{
    struct hf_config c;
    (void)arg;
    return hf_config_parse(&c, ccases[0].json, strlen(ccases[0].json), "c", err);
}

static void test_oom(void)
{
    struct buf b;
    struct gpos p;
    gguf_build(&b, &p, NULL);
    rrm_err e = {0};
    CHECK_EQ(rrm_write_file(tpath("oom.gguf"), b.d, b.n, &e), RRM_OK);
    int n1 = oom_loop("gguf_open", oom_gguf, tpath("oom.gguf"));
    char *dir = tpath("oomdir");
    make_sharded(dir);
    int n2 = oom_loop("st_open_dir", oom_dir, dir);
    int n3 = oom_loop("hf_config_parse", oom_config, NULL);
    CHECK(n1 > 5 && n2 > 10 && n3 > 5); /* the loops did exercise failure points */
    printf("oom points: gguf_open %d, st_open_dir %d, hf_config_parse %d\n", n1, n2, n3);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rrm_test_corrupt_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    long live0 = rrm_alloc_live();
    test_gguf_cases();
    test_st_cases();
    test_dir_cases();
    test_config_cases();
    test_oom();
    CHECK_EQ(rrm_alloc_live(), live0);
    nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return TEST_DONE("test_corrupt");
}
