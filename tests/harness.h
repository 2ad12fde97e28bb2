/*
 * harness.h — the tiny test harness (STYLE.md §7). CHECK* record a failure and go on; main()
 * ends with TEST_DONE(), which prints "N passed, N failed" and returns non-zero on any failure.
 */
#ifndef RRM_TEST_HARNESS_H
#define RRM_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_pass, test_fail;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            test_pass++;                                                           \
        } else {                                                                   \
            test_fail++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
        }                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                       \
    do {                                                                           \
        if (cond) {                                                                \
            test_pass++;                                                           \
        } else {                                                                   \
            test_fail++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
        }                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                             \
    do {                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                      \
        if (va_ == vb_) {                                                          \
            test_pass++;                                                           \
        } else {                                                                   \
            test_fail++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s == %s (%lld vs %lld)\n", __FILE__,     \
                    __LINE__, #a, #b, va_, vb_);                                   \
        }                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                      \
    do {                                                                           \
        double va_ = (double)(a), vb_ = (double)(b);                               \
        if (fabs(va_ - vb_) <= (tol)) {                                            \
            test_pass++;                                                           \
        } else {                                                                   \
            test_fail++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s ~ %s (%.9g vs %.9g, tol %g)\n",        \
                    __FILE__, __LINE__, #a, #b, va_, vb_, (double)(tol));          \
        }                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                            \
    do {                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                         \
        if (sa_ && sb_ && strcmp(sa_, sb_) == 0) {                                 \
            test_pass++;                                                           \
        } else {                                                                   \
            test_fail++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, \
                    __LINE__, #a, #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
        }                                                                          \
    } while (0)

#define TEST_DONE(name)                                                            \
    (printf("%s: %d passed, %d failed\n", (name), test_pass, test_fail),           \
     test_fail ? 1 : 0)

#endif
