/* A tiny unit-test harness: CHECK macros print both values on failure; each binary ends with
 * "N passed, N failed" and exits non-zero on any failure, or when it ran no checks at all. */
#ifndef PT_TEST_HARNESS_H
#define PT_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            harness_passed++;                                                        \
        } else {                                                                     \
            harness_failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                      \
    do {                                                                                        \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                   \
        if (va_ == vb_) {                                                                       \
            harness_passed++;                                                                   \
        } else {                                                                                \
            harness_failed++;                                                                   \
            fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, va_, \
                    vb_);                                                                       \
        }                                                                                       \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                     \
    do {                                                                                       \
        const char *sa_ = (a), *sb_ = (b);                                                     \
        if (sa_ != NULL && sb_ != NULL && strcmp(sa_, sb_) == 0) {                             \
            harness_passed++;                                                                  \
        } else {                                                                               \
            harness_failed++;                                                                  \
            fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                               \
        }                                                                                      \
    } while (0)

#define RUN(test)                                   \
    do {                                            \
        int before_ = harness_failed;               \
        test();                                     \
        if (harness_failed != before_)              \
            fprintf(stderr, "FAILED: %s\n", #test); \
    } while (0)

static inline int harness_finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, harness_passed, harness_failed);
    return (harness_failed || harness_passed == 0) ? 1 : 0;
}

#endif
