/* test_core.c — unit tests for src/core: errors, allocator fault injection, sizes, half
 * conversions (exhaustive over all 65536 f16 values), RNG determinism, JSON limits, thread pool. */
#include "core/core.h"
#include "../../tests/harness.h"

#include <jansson.h>
#include <stdlib.h>

static void test_err(void)
{
    rrm_err e = {0};
    CHECK_EQ(rrm_errf(&e, RRM_E_FORMAT, "gguf: tensor '%s' bad", "x"), RRM_E_FORMAT);
    CHECK_STR(e.msg, "gguf: tensor 'x' bad");
    rrm_err_prefix(&e, "load '%s'", "m.gguf");
    CHECK_STR(e.msg, "load 'm.gguf': gguf: tensor 'x' bad");
    CHECK_STR(rrm_status_name(RRM_E_LIMIT), "RRM_E_LIMIT");
    CHECK_EQ(rrm_errf(NULL, RRM_E_IO, "x"), RRM_E_IO);
}

static void test_alloc(void)
{
    long live = rrm_alloc_live();
    void *p = rrm_malloc(10);
    CHECK(p != NULL);
    CHECK_EQ(rrm_alloc_live(), live + 1);
    rrm_free(p);
    CHECK_EQ(rrm_alloc_live(), live);
    rrm_alloc_fail_at(1);
    void *a = rrm_malloc(1), *b = rrm_malloc(1), *c = rrm_malloc(1);
    rrm_alloc_fail_at(-1);
    CHECK(a != NULL);
    CHECK(b == NULL);
    CHECK(c == NULL);
    rrm_free(a);
    CHECK(rrm_calloc(SIZE_MAX / 2, 4) == NULL);
    size_t n;
    CHECK(!rrm_mul_size(&n, SIZE_MAX / 2, 3));
    CHECK(rrm_mul_size(&n, 1000, 1000) && n == 1000000);
    CHECK(!rrm_add_size(&n, SIZE_MAX, 1));
    void *al = rrm_alloc_aligned(100);
    CHECK(al && ((uintptr_t)al & 63) == 0);
    rrm_free_aligned(al);
    CHECK_EQ(rrm_alloc_live(), live);
}

static void test_half(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = rrm_f16_to_f32((uint16_t)h);
        uint16_t back = rrm_f32_to_f16(f);
        if (isnan(f)) {
            if ((back & 0x7c00) != 0x7c00 || (back & 0x3ff) == 0) bad++;
        } else if (back != h) {
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rrm_f32_to_f16(1.0f), 0x3c00);
    CHECK_EQ(rrm_f32_to_f16(65504.0f), 0x7bff);
    CHECK_EQ(rrm_f32_to_f16(65520.0f), 0x7c00); /* halfway to 65536 rounds to even: inf */
    CHECK_EQ(rrm_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie -> even */
    CHECK_EQ(rrm_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
    CHECK_EQ(rrm_f32_to_f16(5.9604645e-08f), 0x0001);   /* smallest subnormal */
    CHECK_EQ(rrm_f32_to_f16(2.9802322e-08f), 0x0000);   /* half of it: tie -> 0 */
    CHECK_EQ(rrm_f32_to_bf16(1.0f), 0x3f80);
    CHECK_EQ(rrm_f32_to_bf16(rrm_bits_f32(0x3f808000)), 0x3f80); /* tie -> even */
    CHECK_EQ(rrm_f32_to_bf16(rrm_bits_f32(0x3f818000)), 0x3f82);
    CHECK(isnan(rrm_bf16_to_f32(rrm_f32_to_bf16(NAN))));
}

static void test_rng(void)
{
    struct rrm_rng a, b;
    rrm_rng_seed(&a, 42);
    rrm_rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rrm_rng_u64(&a) == rrm_rng_u64(&b);
    CHECK(same);
    rrm_rng_seed(&b, 43);
    CHECK(rrm_rng_u64(&a) != rrm_rng_u64(&b));
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        float f = rrm_rng_float(&a);
        CHECK(f >= 0.0f && f < 1.0f);
        sum += f;
    }
    CHECK_NEAR(sum / 10000, 0.5, 0.02);
}

static void test_json(void)
{
    json_t *j = NULL;
    rrm_err e = {0};
    CHECK_EQ(rrm_json_parse(&j, "{\"a\": 1}", 8, 100, "t", &e), RRM_OK);
    CHECK(json_integer_value(json_object_get(j, "a")) == 1);
    json_decref(j);
    CHECK_EQ(rrm_json_parse(&j, "{\"a\": 1}", 8, 4, "t", &e), RRM_E_LIMIT);
    CHECK_EQ(rrm_json_parse(&j, "{\"a\": }", 7, 100, "cfg.json", &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, "cfg.json") != NULL);
    CHECK_EQ(rrm_json_parse(&j, "{\"a\":1,\"a\":2}", 13, 100, "t", &e), RRM_E_FORMAT);
    long live = rrm_alloc_live();
    for (long n = 0; n < 20; n++) {
        rrm_alloc_fail_at(n);
        json_t *k = NULL;
        int rc = rrm_json_parse(&k, "{\"a\": [1,2,{\"b\":\"c\"}]}", 22, 100, "t", &e);
        rrm_alloc_fail_at(-1);
        CHECK(rc == RRM_OK || rc == RRM_E_NOMEM);
        if (rc == RRM_OK) json_decref(k);
    }
    CHECK_EQ(rrm_alloc_live(), live);
}

struct tp_arg {
    int64_t n;
    int64_t *out;
};

static void tp_fill(void *p, int ith, int nth)
{
    struct tp_arg *a = p;
    int64_t lo, hi;
    rrm_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) a->out[i] += i * 3 + 1;
}

static void test_threadpool(void)
{
    for (int nt = 1; nt <= 4; nt++) {
        struct rrm_threadpool *tp = NULL;
        CHECK_EQ(rrm_tp_init(&tp, nt, NULL), RRM_OK);
        int64_t buf[1003] = {0};
        struct tp_arg a = {1003, buf};
        for (int r = 0; r < 100; r++) rrm_tp_run(tp, tp_fill, &a);
        int ok = 1;
        for (int64_t i = 0; i < 1003; i++) ok &= buf[i] == 100 * (i * 3 + 1);
        CHECK(ok);
        rrm_tp_free(tp);
    }
    int64_t lo, hi, total = 0;
    for (int i = 0; i < 7; i++) {
        rrm_split(100, i, 7, &lo, &hi);
        total += hi - lo;
    }
    CHECK_EQ(total, 100);
}

static void test_types(void)
{
    size_t n;
    CHECK_EQ(rrm_row_bytes(RRM_TYPE_Q8_0, 64, &n), RRM_OK);
    CHECK_EQ(n, 68);
    CHECK_EQ(rrm_row_bytes(RRM_TYPE_Q8_0, 65, &n), RRM_E_FORMAT);
    CHECK_EQ(rrm_row_bytes(RRM_TYPE_BF16, 3, &n), RRM_OK);
    CHECK_EQ(n, 6);
    CHECK_EQ(rrm_row_bytes(5, 3, &n), RRM_E_INVAL);
    CHECK_STR(rrm_type_name(RRM_TYPE_Q6_K), "q6_K");
    CHECK_STR(rrm_type_name(99), "?");
}

int main(void)
{
    test_err();
    test_alloc();
    test_half();
    test_rng();
    test_json();
    test_threadpool();
    test_types();
    return TEST_DONE("test_core");
}
