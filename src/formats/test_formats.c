/*
 * test_formats.c — unit tests of src/formats: GGUF write -> read round trips for every value
 * type and for F32/F16/BF16/Q8_0 tensors, getters and their type errors, safetensors single
 * file and sharded directory round trips, and config.json parsing of the real DeepSeek-R1
 * distill configs. Files go to a mkdtemp directory that is removed at the end. Every test
 * checks rrm_alloc_live() for leaks.
 */
#define _GNU_SOURCE
#include "formats/formats.h"
#include "../tests/harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Deterministic filler bytes. */
static void fill(void *p, size_t n, uint32_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        b[i] = (uint8_t)(seed >> 24);
    }
}

static void test_gguf_roundtrip(void)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    struct gguf_writer *w = NULL;
    CHECK_EQ(gguf_writer_init(&w, &e), RRM_OK);
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = -((int64_t)1 << 40);
    double f64 = 3.141592653589793;
    uint8_t b1 = 1;
    CHECK_EQ(gguf_w_scalar(w, "t.u8", GGUF_T_UINT8, &u8, &e), RRM_OK);
    CHECK_EQ(gguf_w_scalar(w, "t.i8", GGUF_T_INT8, &i8, &e), RRM_OK);
    CHECK_EQ(gguf_w_scalar(w, "t.u16", GGUF_T_UINT16, &u16, &e), RRM_OK);
    CHECK_EQ(gguf_w_scalar(w, "t.i16", GGUF_T_INT16, &i16, &e), RRM_OK);
    CHECK_EQ(gguf_w_u32(w, "t.u32", 4000000000u, &e), RRM_OK);
    CHECK_EQ(gguf_w_i32(w, "t.i32", -7, &e), RRM_OK);
    CHECK_EQ(gguf_w_f32(w, "t.f32", 1.5f, &e), RRM_OK);
    CHECK_EQ(gguf_w_bool(w, "t.bool", 1, &e), RRM_OK);
    CHECK_EQ(gguf_w_scalar(w, "t.bool2", GGUF_T_BOOL, &b1, &e), RRM_OK);
    CHECK_EQ(gguf_w_str(w, "t.str", "hello\0x", 7, &e), RRM_OK);
    CHECK_EQ(gguf_w_u64(w, "t.u64", UINT64_MAX, &e), RRM_OK);
    CHECK_EQ(gguf_w_scalar(w, "t.i64", GGUF_T_INT64, &i64, &e), RRM_OK);
    CHECK_EQ(gguf_w_scalar(w, "t.f64", GGUF_T_FLOAT64, &f64, &e), RRM_OK);
    int32_t ai[5] = {1, -2, 3, -4, 5};
    float af[3] = {0.5f, -1.25f, 8.0f};
    CHECK_EQ(gguf_w_arr(w, "t.arr_i32", GGUF_T_INT32, ai, 5, &e), RRM_OK);
    CHECK_EQ(gguf_w_arr(w, "t.arr_f32", GGUF_T_FLOAT32, af, 3, &e), RRM_OK);
    CHECK_EQ(gguf_w_arr(w, "t.arr_empty", GGUF_T_UINT8, NULL, 0, &e), RRM_OK);
    const char *ss[4] = {"a", "", "Ġhello", "\xe4\xbd\xa0\xe5\xa5\xbd"};
    size_t sl[4] = {1, 0, 7, 6};
    CHECK_EQ(gguf_w_arr_str(w, "t.arr_str", ss, sl, 4, &e), RRM_OK);
    /* writer-side checks */
    CHECK_EQ(gguf_w_u32(w, "t.u32", 1, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "duplicate key 't.u32'") != NULL);
    CHECK_EQ(gguf_w_u32(w, "general.alignment", 48, &e), RRM_E_INVAL);
    CHECK_EQ(gguf_w_str(w, "general.alignment", "x", 1, &e), RRM_E_INVAL);

    float f32[4 * 3];
    uint16_t f16[8], bf16[2 * 5];
    uint8_t q8[2 * 34 * 2]; /* 2 rows of 64 elements = 2 blocks each */
    fill(f32, sizeof f32, 1);
    fill(f16, sizeof f16, 2);
    fill(bf16, sizeof bf16, 3);
    fill(q8, sizeof q8, 4);
    int64_t ne_f32[2] = {4, 3}, ne_f16[1] = {8}, ne_bf16[3] = {5, 1, 2}, ne_q8[2] = {64, 2};
    CHECK_EQ(gguf_w_tensor(w, "w.f32", RRM_TYPE_F32, 2, ne_f32, f32, sizeof f32, 0, &e), RRM_OK);
    CHECK_EQ(gguf_w_tensor(w, "w.f16", RRM_TYPE_F16, 1, ne_f16, f16, sizeof f16, 1, &e), RRM_OK);
    CHECK_EQ(gguf_w_tensor(w, "w.bf16", RRM_TYPE_BF16, 3, ne_bf16, bf16, sizeof bf16, 0, &e),
             RRM_OK);
    CHECK_EQ(gguf_w_tensor(w, "w.q8", RRM_TYPE_Q8_0, 2, ne_q8, q8, sizeof q8, 0, &e), RRM_OK);
    CHECK_EQ(gguf_w_tensor(w, "w.f32", RRM_TYPE_F32, 2, ne_f32, f32, sizeof f32, 0, &e),
             RRM_E_INVAL);
    CHECK_EQ(gguf_w_tensor(w, "w.bad", RRM_TYPE_F32, 2, ne_f32, f32, 4, 0, &e), RRM_E_INVAL);
    int64_t ne_odd[1] = {33};
    CHECK_EQ(gguf_w_tensor(w, "w.odd", RRM_TYPE_Q8_0, 1, ne_odd, q8, 34, 0, &e), RRM_E_INVAL);
    CHECK_EQ(gguf_writer_write(w, tpath("rt.gguf"), &e), RRM_OK);
    memset(f16, 0, sizeof f16); /* the writer copied it */
    fill(f16, sizeof f16, 2);
    gguf_writer_free(w);

    struct gguf_file *f = NULL;
    int rc = gguf_open(&f, tpath("rt.gguf"), NULL, &e);
    CHECK_MSG(rc == RRM_OK, "%s", e.msg);
    if (rc == RRM_OK) {
        CHECK_EQ(gguf_version(f), 3);
        CHECK_EQ(gguf_alignment(f), 32);
        CHECK_EQ(gguf_data_offset(f) % 32, 0);
        CHECK_EQ(gguf_n_kv(f), 17);
        CHECK_STR(gguf_kv_key(f, 0), "t.u8");
        CHECK_STR(gguf_kv_key(f, 16), "t.arr_str");
        CHECK_EQ(gguf_kv_type(f, 12), GGUF_T_FLOAT64);
        CHECK(gguf_kv_key(f, 17) == NULL);
        CHECK_EQ(gguf_find_key(f, "t.f32"), 6);
        CHECK_EQ(gguf_find_key(f, "nope"), -1);
        uint32_t u;
        int64_t v;
        double d;
        int b;
        const char *s;
        size_t len;
        CHECK(gguf_get_u32(f, "t.u8", &u, &e) == RRM_OK && u == 200);
        CHECK(gguf_get_i64(f, "t.i8", &v, &e) == RRM_OK && v == -100);
        CHECK(gguf_get_u32(f, "t.u16", &u, &e) == RRM_OK && u == 60000);
        CHECK(gguf_get_i64(f, "t.i16", &v, &e) == RRM_OK && v == -30000);
        CHECK(gguf_get_u32(f, "t.u32", &u, &e) == RRM_OK && u == 4000000000u);
        CHECK(gguf_get_i64(f, "t.i32", &v, &e) == RRM_OK && v == -7);
        CHECK(gguf_get_f64(f, "t.f32", &d, &e) == RRM_OK && d == 1.5);
        CHECK(gguf_get_bool(f, "t.bool", &b, &e) == RRM_OK && b == 1);
        CHECK(gguf_get_bool(f, "t.bool2", &b, &e) == RRM_OK && b == 1);
        CHECK(gguf_get_str(f, "t.str", &s, &len, &e) == RRM_OK && len == 7 &&
              memcmp(s, "hello\0x", 7) == 0);
        CHECK(gguf_get_i64(f, "t.i64", &v, &e) == RRM_OK && v == i64);
        CHECK(gguf_get_f64(f, "t.f64", &d, &e) == RRM_OK && d == f64);
        /* type and range errors */
        CHECK_EQ(gguf_get_u32(f, "t.i32", &u, &e), RRM_E_FORMAT);
        CHECK(strstr(e.msg, "t.i32") != NULL && strstr(e.msg, "-7") != NULL);
        CHECK_EQ(gguf_get_u32(f, "t.u64", &u, &e), RRM_E_FORMAT);
        CHECK_EQ(gguf_get_i64(f, "t.u64", &v, &e), RRM_E_FORMAT);
        CHECK_EQ(gguf_get_i64(f, "t.f32", &v, &e), RRM_E_FORMAT);
        CHECK_EQ(gguf_get_str(f, "t.u8", &s, &len, &e), RRM_E_FORMAT);
        CHECK_EQ(gguf_get_bool(f, "t.u8", &b, &e), RRM_E_FORMAT);
        CHECK_EQ(gguf_get_u32(f, "missing.key", &u, &e), RRM_E_INVAL);
        CHECK(strstr(e.msg, "missing.key") != NULL);
        int et;
        int64_t n;
        const void *data;
        CHECK(gguf_get_arr(f, "t.arr_i32", &et, &n, &data, &e) == RRM_OK && et == GGUF_T_INT32 &&
              n == 5 && memcmp(data, ai, sizeof ai) == 0);
        CHECK(gguf_get_arr(f, "t.arr_f32", &et, &n, &data, &e) == RRM_OK && n == 3 &&
              memcmp(data, af, sizeof af) == 0);
        CHECK(gguf_get_arr(f, "t.arr_empty", &et, &n, &data, &e) == RRM_OK && n == 0 &&
              et == GGUF_T_UINT8);
        CHECK(gguf_get_arr(f, "t.arr_str", &et, &n, &data, &e) == RRM_OK && n == 4 &&
              et == GGUF_T_STRING);
        for (int i = 3; i >= 0; i--) {
            CHECK(gguf_get_arr_str(f, "t.arr_str", i, &s, &len, &e) == RRM_OK && len == sl[i] &&
                  memcmp(s, ss[i], len) == 0);
        }
        CHECK_EQ(gguf_get_arr_str(f, "t.arr_str", 4, &s, &len, &e), RRM_E_INVAL);
        CHECK_EQ(gguf_get_arr_str(f, "t.arr_i32", 0, &s, &len, &e), RRM_E_FORMAT);
        CHECK_EQ(gguf_get_arr(f, "t.u8", &et, &n, &data, &e), RRM_E_FORMAT);

        CHECK_EQ(gguf_n_tensors(f), 4);
        const struct fmt_tensor *t = gguf_find_tensor(f, "w.bf16");
        CHECK(t && t->type == RRM_TYPE_BF16 && t->n_dims == 3 && t->ne[0] == 5 && t->ne[1] == 1 &&
              t->ne[2] == 2 && t->ne[3] == 1 && t->nbytes == sizeof bf16 &&
              memcmp(t->data, bf16, sizeof bf16) == 0);
        t = gguf_tensor(f, 0);
        CHECK(t && strcmp(t->name, "w.f32") == 0 && t->nbytes == sizeof f32 &&
              memcmp(t->data, f32, sizeof f32) == 0);
        t = gguf_find_tensor(f, "w.f16");
        CHECK(t && t->n_dims == 1 && memcmp(t->data, f16, sizeof f16) == 0);
        t = gguf_find_tensor(f, "w.q8");
        CHECK(t && t->type == RRM_TYPE_Q8_0 && t->nbytes == sizeof q8 &&
              memcmp(t->data, q8, sizeof q8) == 0);
        for (int64_t i = 0; i < 4; i++) {
            t = gguf_tensor(f, i);
            CHECK(t && ((const uint8_t *)t->data - (const uint8_t *)gguf_tensor(f, 0)->data) % 32 ==
                           0);
        }
        CHECK(gguf_tensor(f, 4) == NULL && gguf_find_tensor(f, "none") == NULL);
    }
    gguf_close(f);
    gguf_close(NULL);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* general.alignment is honoured by the writer and the reader. */
static void test_gguf_alignment(void)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    struct gguf_writer *w = NULL;
    float a[3] = {1, 2, 3}, b[5] = {4, 5, 6, 7, 8};
    int64_t na = 3, nb = 5;
    CHECK_EQ(gguf_writer_init(&w, &e), RRM_OK);
    CHECK_EQ(gguf_w_u32(w, "general.alignment", 64, &e), RRM_OK);
    CHECK_EQ(gguf_w_tensor(w, "a", RRM_TYPE_F32, 1, &na, a, sizeof a, 0, &e), RRM_OK);
    CHECK_EQ(gguf_w_tensor(w, "b", RRM_TYPE_F32, 1, &nb, b, sizeof b, 0, &e), RRM_OK);
    CHECK_EQ(gguf_writer_write(w, tpath("al.gguf"), &e), RRM_OK);
    gguf_writer_free(w);
    struct gguf_file *f = NULL;
    CHECK_EQ(gguf_open(&f, tpath("al.gguf"), NULL, &e), RRM_OK);
    if (f) {
        CHECK_EQ(gguf_alignment(f), 64);
        CHECK_EQ(gguf_data_offset(f) % 64, 0);
        const struct fmt_tensor *tb = gguf_find_tensor(f, "b");
        CHECK(tb && (const uint8_t *)tb->data - (const uint8_t *)gguf_find_tensor(f, "a")->data ==
                        64);
        CHECK(tb && memcmp(tb->data, b, sizeof b) == 0);
    }
    gguf_close(f);
    /* An empty writer gives a valid file with no tensors and no keys. */
    CHECK_EQ(gguf_writer_init(&w, &e), RRM_OK);
    CHECK_EQ(gguf_writer_write(w, tpath("empty.gguf"), &e), RRM_OK);
    gguf_writer_free(w);
    f = NULL;
    CHECK_EQ(gguf_open(&f, tpath("empty.gguf"), NULL, &e), RRM_OK);
    CHECK(f && gguf_n_kv(f) == 0 && gguf_n_tensors(f) == 0);
    gguf_close(f);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* Five tensors of mixed dtypes, data in bufs (caller frees). */
static void make_tensors(struct fmt_tensor *t, void **bufs)
{
    static const char *names[5] = {"model.embed_tokens.weight", "model.norm.weight",
                                   "lm_head.weight", "model.layers.0.mlp.up_proj.weight",
                                   "we\"ird\\name"};
    static const int types[5] = {RRM_TYPE_BF16, RRM_TYPE_F32, RRM_TYPE_F16, RRM_TYPE_F32,
                                 RRM_TYPE_F32};
    static const int64_t ne[5][3] = {{6, 10, 1}, {6, 1, 1}, {6, 10, 1}, {6, 3, 2}, {0, 4, 1}};
    static const int nd[5] = {2, 1, 2, 3, 2};
    for (int i = 0; i < 5; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = names[i];
        t[i].type = types[i];
        t[i].n_dims = nd[i];
        int64_t n = 1;
        for (int d = 0; d < 4; d++) {
            t[i].ne[d] = d < 3 ? ne[i][d] : 1;
            n *= t[i].ne[d];
        }
        t[i].nbytes = (size_t)n * (types[i] == RRM_TYPE_F32 ? 4 : 2);
        bufs[i] = rrm_malloc(t[i].nbytes);
        fill(bufs[i], t[i].nbytes, 10 + (uint32_t)i);
        t[i].data = bufs[i];
    }
}

static void check_same(const struct st_set *s, const struct fmt_tensor *t, int n)
{
    CHECK_EQ(st_n_tensors(s), n);
    for (int i = 0; i < n; i++) {
        const struct fmt_tensor *r = st_find_tensor(s, t[i].name);
        CHECK_MSG(r != NULL, "tensor %s", t[i].name);
        if (!r) continue;
        CHECK_EQ(r->type, t[i].type);
        CHECK_EQ(r->n_dims, t[i].n_dims);
        for (int d = 0; d < 4; d++) CHECK_EQ(r->ne[d], t[i].ne[d]);
        CHECK_EQ(r->nbytes, t[i].nbytes);
        CHECK(memcmp(r->data, t[i].data, t[i].nbytes) == 0);
    }
}

static void test_st_roundtrip(void)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    struct fmt_tensor t[5];
    void *bufs[5];
    make_tensors(t, bufs);
    mkdir(tpath("single"), 0755);
    CHECK_EQ(st_write_file(tpath("single/model.safetensors"), t, 5, &e), RRM_OK);
    struct st_set *s = NULL;
    int rc = st_open_file(&s, tpath("single/model.safetensors"), NULL, &e);
    CHECK_MSG(rc == RRM_OK, "%s", e.msg);
    if (s) {
        check_same(s, t, 5);
        CHECK_EQ(st_n_files(s), 1);
        /* in data-offset order, i.e. the order written */
        CHECK_STR(st_tensor(s, 0)->name, t[0].name);
        CHECK_STR(st_tensor(s, 4)->name, t[4].name);
        CHECK(st_tensor(s, 5) == NULL && st_find_tensor(s, "x") == NULL);
        CHECK_EQ(((uintptr_t)st_tensor(s, 0)->data) % 8, 0);
    }
    st_close(s);
    s = NULL;
    CHECK_EQ(st_open_dir(&s, tpath("single"), NULL, &e), RRM_OK);
    if (s) check_same(s, t, 5);
    st_close(s);
    st_close(NULL);
    /* header length is a multiple of 8 and the header is JSON padded with spaces */
    char *buf = NULL;
    size_t len = 0;
    CHECK_EQ(rrm_read_file(tpath("single/model.safetensors"), 1 << 20, &buf, &len, &e), RRM_OK);
    if (buf) {
        uint64_t h;
        memcpy(&h, buf, 8);
        CHECK_EQ(h % 8, 0);
        CHECK(strstr(buf + 8, "\"shape\":[10,6]") != NULL);
        CHECK(strstr(buf + 8, "\"we\\\"ird\\\\name\"") != NULL);
        CHECK(strstr(buf + 8, "{\"__metadata__\":{\"format\":\"pt\"}") == buf + 8);
        s = NULL;
        CHECK_EQ(st_open_buf(&s, buf, len, "mem", NULL, &e), RRM_OK);
        if (s) check_same(s, t, 5);
        st_close(s);
    }
    rrm_free(buf);
    /* writer checks */
    struct fmt_tensor bad = t[0];
    bad.type = RRM_TYPE_Q8_0;
    CHECK_EQ(st_write_file(tpath("bad.safetensors"), &bad, 1, &e), RRM_E_INVAL);
    bad = t[0];
    bad.nbytes--;
    CHECK_EQ(st_write_file(tpath("bad.safetensors"), &bad, 1, &e), RRM_E_INVAL);
    struct fmt_tensor dup[2] = {t[1], t[1]};
    CHECK_EQ(st_write_file(tpath("bad.safetensors"), dup, 2, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "duplicate") != NULL);
    CHECK(access(tpath("bad.safetensors"), F_OK) != 0);
    for (int i = 0; i < 5; i++) rrm_free(bufs[i]);
    CHECK_EQ(rrm_alloc_live(), live0);
}

static void test_st_sharded(void)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    struct fmt_tensor t[5];
    void *bufs[5];
    make_tensors(t, bufs);
    /* 120 + 24 + 120 + 144 + 0 bytes; shards of <= 150: [0,1] [2] [3,4] */
    CHECK_EQ(st_write_sharded(tpath("sharded"), t, 5, 150, &e), RRM_OK);
    CHECK(access(tpath("sharded/model-00001-of-00003.safetensors"), F_OK) == 0);
    CHECK(access(tpath("sharded/model-00003-of-00003.safetensors"), F_OK) == 0);
    struct st_set *s = NULL;
    int rc = st_open_dir(&s, tpath("sharded"), NULL, &e);
    CHECK_MSG(rc == RRM_OK, "%s", e.msg);
    if (s) {
        check_same(s, t, 5);
        CHECK_EQ(st_n_files(s), 3);
    }
    st_close(s);
    char *idx = NULL;
    CHECK_EQ(rrm_read_file(tpath("sharded/model.safetensors.index.json"), 1 << 20, &idx, NULL, &e),
             RRM_OK);
    CHECK(idx && strstr(idx, "\"total_size\": 408") != NULL);
    CHECK(idx && strstr(idx, "\"lm_head.weight\": \"model-00002-of-00003.safetensors\"") != NULL);
    rrm_free(idx);
    /* one tensor per shard when the limit is tiny */
    CHECK_EQ(st_write_sharded(tpath("sharded1"), t, 5, 1, &e), RRM_OK);
    s = NULL;
    CHECK_EQ(st_open_dir(&s, tpath("sharded1"), NULL, &e), RRM_OK);
    if (s) {
        check_same(s, t, 5);
        CHECK_EQ(st_n_files(s), 5);
    }
    st_close(s);
    s = NULL;
    CHECK_EQ(st_open_dir(&s, tpath("nonexistent"), NULL, &e), RRM_E_IO);
    CHECK(s == NULL);
    for (int i = 0; i < 5; i++) rrm_free(bufs[i]);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* DeepSeek-R1-Distill-Qwen-7B config.json as quoted in the shared data's PROVENANCE.md. */
static const char cfg_7b[] =
    "{\"architectures\":[\"Qwen2ForCausalLM\"],\"attention_dropout\":0.0,\"bos_token_id\":151643,"
    "\"eos_token_id\":151643,\"hidden_act\":\"silu\",\"hidden_size\":3584,\"initializer_range\":"
    "0.02,\"intermediate_size\":18944,\"max_position_embeddings\":131072,\"max_window_layers\":28,"
    "\"model_type\":\"qwen2\",\"num_attention_heads\":28,\"num_hidden_layers\":28,"
    "\"num_key_value_heads\":4,\"rms_norm_eps\":1e-06,\"rope_theta\":10000,\"sliding_window\":4096,"
    "\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\",\"transformers_version\":"
    "\"4.44.0\",\"use_cache\":true,\"use_mrope\":false,\"use_sliding_window\":false,"
    "\"vocab_size\":152064}";

static void test_config(void)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    struct hf_config c;
    int rc = hf_config_parse(&c, cfg_7b, strlen(cfg_7b), "7b", &e);
    CHECK_MSG(rc == RRM_OK, "%s", e.msg);
    CHECK_STR(c.architecture, "Qwen2ForCausalLM");
    CHECK_STR(c.model_type, "qwen2");
    CHECK_EQ(c.hidden_size, 3584);
    CHECK_EQ(c.intermediate_size, 18944);
    CHECK_EQ(c.num_hidden_layers, 28);
    CHECK_EQ(c.num_attention_heads, 28);
    CHECK_EQ(c.num_key_value_heads, 4);
    CHECK_EQ(c.vocab_size, 152064);
    CHECK_EQ(c.max_position_embeddings, 131072);
    CHECK_EQ(c.head_dim, 128);
    CHECK_NEAR(c.rope_theta, 10000.0, 0);
    CHECK_NEAR(c.rms_norm_eps, 1e-6, 1e-12);
    CHECK_EQ(c.tie_word_embeddings, 0);
    CHECK_EQ(c.bos_token_id, 151643);
    CHECK_EQ(c.eos_token_id, 151643);
    CHECK_STR(c.torch_dtype, "bfloat16");

    const char *p32 = "../shared/data/deepseek-r1-distill-qwen-7b/config.32b-sibling.json";
    if (access(p32, R_OK) != 0) p32 = "/work/shared/data/deepseek-r1-distill-qwen-7b/"
                                      "config.32b-sibling.json";
    rc = hf_config_load(&c, p32, &e);
    CHECK_MSG(rc == RRM_OK, "%s", e.msg);
    CHECK_EQ(c.hidden_size, 5120);
    CHECK_EQ(c.intermediate_size, 27648);
    CHECK_EQ(c.num_hidden_layers, 64);
    CHECK_EQ(c.num_attention_heads, 40);
    CHECK_EQ(c.num_key_value_heads, 8);
    CHECK_EQ(c.head_dim, 128);
    CHECK_NEAR(c.rope_theta, 1e6, 0);
    CHECK_NEAR(c.rms_norm_eps, 1e-5, 1e-12);

    /* defaults */
    const char *min = "{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":64,"
                      "\"intermediate_size\":96,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                      "\"vocab_size\":300,\"eos_token_id\":[7,8],\"head_dim\":32}";
    rc = hf_config_parse(&c, min, strlen(min), NULL, &e);
    CHECK_MSG(rc == RRM_OK, "%s", e.msg);
    CHECK_NEAR(c.rope_theta, 10000.0, 0);
    CHECK_NEAR(c.rms_norm_eps, 1e-6, 0);
    CHECK_EQ(c.num_key_value_heads, 4);
    CHECK_EQ(c.head_dim, 32);
    CHECK_EQ(c.tie_word_embeddings, 0);
    CHECK_EQ(c.bos_token_id, -1);
    CHECK_EQ(c.eos_token_id, 7);
    CHECK_EQ(c.max_position_embeddings, 32768);
    CHECK_STR(c.model_type, "qwen2");
    /* one rejection here; the full set is in tests/corrupt */
    const char *sw = "{\"architectures\":[\"Qwen2ForCausalLM\"],\"use_sliding_window\":true}";
    memset(&c, 0x5a, sizeof c);
    CHECK_EQ(hf_config_parse(&c, sw, strlen(sw), "sw", &e), RRM_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "use_sliding_window") != NULL);
    CHECK_EQ(c.hidden_size, 0x5a5a5a5a5a5a5a5a); /* out-param untouched on failure */
    CHECK_EQ(rrm_alloc_live(), live0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rrm_test_formats_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_gguf_roundtrip();
    test_gguf_alignment();
    test_st_roundtrip();
    test_st_sharded();
    test_config();
    nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return TEST_DONE("test_formats");
}
