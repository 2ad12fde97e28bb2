/*
 * test_kvcache.c — paged KV cache: block accounting, fork sharing every block, copy-on-write of
 * the shared partial block (the parent's data stays intact), reference counts on free and
 * truncate, all-or-nothing exhaustion, sequence slot limits, OOM injection in kv_init.
 */
#include "kvcache/kvcache.h"
#include "../../tests/harness.h"

/* Writes value v into every float of the K and V rows of (seq, pos) for all layers. */
static void put(struct kv_cache *kv, int seq, int64_t pos, float v)
{
    for (int64_t l = 0; l < 2; l++) {
        for (int w = 0; w < 2; w++) {
            float *r = kv_row(kv, seq, l, w, pos);
            for (int i = 0; i < 4; i++) r[i] = v + (float)l * 0.25f + (float)w * 0.5f;
        }
    }
}

static float get(struct kv_cache *kv, int seq, int64_t layer, int which, int64_t pos)
{
    return ((float *)kv_row(kv, seq, layer, which, pos))[3];
}

static int reserve1(struct kv_cache *kv, int seq, int64_t n)
{
    int32_t s = seq;
    return kv_reserve(kv, &s, &n, 1, NULL);
}

static void append(struct kv_cache *kv, int seq, int64_t n, float base)
{
    int64_t l = kv_seq_len(kv, seq);
    CHECK_EQ(reserve1(kv, seq, n), RRM_OK);
    for (int64_t p = l; p < l + n; p++) put(kv, seq, p, base + (float)p);
    kv_seq_set_len(kv, seq, l + n);
}

static void test_fork_cow(void)
{
    struct kv_params p = {2, 4, 6, 4, 3, RRM_KV_F32};
    struct kv_cache *kv = NULL;
    CHECK_EQ(kv_init(&kv, &p, NULL), RRM_OK);
    CHECK_EQ(kv_total_blocks(kv), 6);
    CHECK_EQ(kv_row_bytes(kv), 16);
    int a = kv_seq_new(kv, NULL);
    CHECK_EQ(a, 0);
    append(kv, a, 6, 100); /* blocks: [0..3] [4..5 partial] */
    CHECK_EQ(kv_seq_len(kv, a), 6);
    CHECK_EQ(kv_free_blocks(kv), 4);
    int b = kv_seq_fork(kv, a, NULL);
    CHECK_EQ(b, 1);
    CHECK_EQ(kv_seq_len(kv, b), 6);
    CHECK_EQ(kv_free_blocks(kv), 4); /* shared by reference */
    CHECK_EQ(kv_block_refs(kv, a, 0), 2);
    CHECK_EQ(kv_block_refs(kv, a, 5), 2);
    CHECK(kv_row(kv, a, 1, 1, 5) == kv_row(kv, b, 1, 1, 5));
    /* first write into the shared partial block copies it */
    append(kv, b, 1, 200);
    CHECK_EQ(kv_free_blocks(kv), 3);
    CHECK_EQ(kv_block_refs(kv, a, 5), 1);
    CHECK_EQ(kv_block_refs(kv, b, 5), 1);
    CHECK_EQ(kv_block_refs(kv, a, 0), 2);
    CHECK(kv_row(kv, a, 0, 0, 4) != kv_row(kv, b, 0, 0, 4));
    CHECK(get(kv, b, 1, 1, 5) == 100 + 5 + 0.25f + 0.5f); /* copied from the parent */
    CHECK(get(kv, b, 0, 0, 6) == 206);
    /* parent writes in place now (refcount 1), and does not see b's token */
    append(kv, a, 1, 300);
    CHECK_EQ(kv_free_blocks(kv), 3);
    CHECK(get(kv, a, 0, 0, 6) == 306);
    CHECK(get(kv, b, 0, 0, 6) == 206);
    CHECK(get(kv, a, 1, 0, 3) == 103.25f);
    /* truncate into the shared full block: it stays shared; the next write copies it */
    CHECK_EQ(kv_seq_truncate(kv, a, 3, NULL), RRM_OK);
    CHECK_EQ(kv_seq_len(kv, a), 3);
    CHECK_EQ(kv_free_blocks(kv), 4);
    CHECK_EQ(kv_block_refs(kv, b, 0), 2);
    append(kv, a, 1, 400);
    CHECK_EQ(kv_free_blocks(kv), 3);
    CHECK_EQ(kv_block_refs(kv, b, 0), 1);
    CHECK(get(kv, a, 0, 0, 3) == 403 && get(kv, b, 0, 0, 3) == 103);
    CHECK(get(kv, a, 0, 0, 2) == 102);
    /* errors */
    CHECK_EQ(kv_seq_truncate(kv, a, 9, NULL), RRM_E_INVAL);
    CHECK_EQ(kv_seq_truncate(kv, 2, 0, NULL), RRM_E_INVAL);
    CHECK_EQ(kv_seq_len(kv, 2), RRM_E_INVAL);
    CHECK_EQ(kv_seq_fork(kv, 7, NULL), RRM_E_INVAL);
    CHECK_EQ(kv_seq_free(kv, -1, NULL), RRM_E_INVAL);
    /* free releases by refcount: after both sequences are gone every block is free */
    CHECK_EQ(kv_seq_free(kv, b, NULL), RRM_OK);
    CHECK_EQ(kv_free_blocks(kv), 5);
    CHECK_EQ(kv_seq_free(kv, b, NULL), RRM_E_INVAL);
    CHECK_EQ(kv_seq_free(kv, a, NULL), RRM_OK);
    CHECK_EQ(kv_free_blocks(kv), 6);
    kv_free(kv);
}

static void test_exhaustion(void)
{
    struct kv_params p = {1, 2, 4, 2, 3, RRM_KV_F16};
    struct kv_cache *kv = NULL;
    rrm_err err = {0};
    CHECK_EQ(kv_init(&kv, &p, NULL), RRM_OK);
    CHECK_EQ(kv_row_bytes(kv), 4);
    CHECK_EQ(kv_seq_capacity(kv), 8);
    int a = kv_seq_new(kv, NULL), b = kv_seq_new(kv, NULL), c = kv_seq_new(kv, NULL);
    CHECK(a == 0 && b == 1 && c == 2);
    CHECK_EQ(kv_seq_new(kv, &err), RRM_E_LIMIT);
    CHECK(strstr(err.msg, "3 sequence slots") != NULL);
    CHECK_EQ(reserve1(kv, a, 3), RRM_OK); /* 2 blocks */
    kv_seq_set_len(kv, a, 3);
    /* a batch that needs 1 + 2 blocks with 2 free: refused, nothing changes */
    int32_t s[2] = {a, b};
    int64_t n[2] = {2, 4};
    CHECK_EQ(kv_reserve(kv, s, n, 2, &err), RRM_E_LIMIT);
    CHECK(strstr(err.msg, "needs 3 KV blocks, 2 of 4 free") != NULL);
    CHECK_EQ(kv_free_blocks(kv), 2);
    CHECK_EQ(kv_seq_len(kv, a), 3);
    CHECK_EQ(kv_seq_len(kv, b), 0);
    CHECK_EQ(reserve1(kv, c, 9), RRM_E_LIMIT); /* more than the whole cache */
    n[0] = 1;
    n[1] = 2;
    CHECK_EQ(kv_reserve(kv, s, n, 2, &err), RRM_OK); /* a: 1 more token fits its block */
    CHECK_EQ(kv_free_blocks(kv), 1);
    kv_seq_set_len(kv, a, 4);
    kv_seq_set_len(kv, b, 2);
    /* a fork of a full-block sequence copies nothing on write (new block instead) */
    CHECK_EQ(kv_seq_free(kv, c, NULL), RRM_OK);
    int d = kv_seq_fork(kv, a, NULL);
    CHECK_EQ(d, 2);
    CHECK_EQ(kv_free_blocks(kv), 1);
    CHECK_EQ(reserve1(kv, d, 1), RRM_OK);
    CHECK_EQ(kv_free_blocks(kv), 0);
    CHECK_EQ(kv_block_refs(kv, a, 3), 2);
    CHECK_EQ(reserve1(kv, a, 1), RRM_E_LIMIT);
    kv_free(kv);
    kv_free(NULL);
    struct kv_params bad = p;
    bad.block = 0;
    CHECK_EQ(kv_init(&kv, &bad, NULL), RRM_E_INVAL);
}

static void test_oom(void)
{
    struct kv_params p = {2, 8, 16, 4, 4, RRM_KV_F32};
    long live = rrm_alloc_live();
    int ok = 0;
    for (long i = 0; i < 20 && !ok; i++) {
        struct kv_cache *kv = NULL;
        rrm_alloc_fail_at(i);
        int rc = kv_init(&kv, &p, NULL);
        rrm_alloc_fail_at(-1);
        CHECK(rc == RRM_OK || rc == RRM_E_NOMEM);
        ok = rc == RRM_OK;
        kv_free(kv);
        CHECK_EQ(rrm_alloc_live(), live);
    }
    CHECK(ok);
}

int main(void)
{
    long live = rrm_alloc_live();
    test_fork_cow();
    test_exhaustion();
    test_oom();
    CHECK_EQ(rrm_alloc_live(), live);
    return TEST_DONE("test_kvcache");
}
