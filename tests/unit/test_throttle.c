/* Unit tests for hub/bucket.c (token buckets as GCRA) and the daily counts of hub/usage.c,
 * on a fake clock. */
#include <pthread.h>
#include <string.h>

#include "bucket.h"
#include "config.h"
#include "harness.h"
#include "usage.h"

#define SEC 1000000000LL

static int take_n(struct pt_bucket *b, const struct pt_rate *r, int64_t now, int n)
{
    int ok = 0;

    while (n-- > 0)
        ok += pt_bucket_take(b, r, now);
    return ok;
}

static void test_burst_then_rate(void)
{
    struct pt_bucket b = {0};
    struct pt_rate r = {10, 5}; /* 10 per second, 5 at once */
    int64_t t = 1000 * SEC;

    CHECK_EQ_INT(take_n(&b, &r, t, 8), 5);            /* a full bucket: the burst, no more */
    CHECK_EQ_INT(take_n(&b, &r, t + SEC / 10, 3), 1); /* one token back per 100 ms */
    CHECK_EQ_INT(take_n(&b, &r, t + SEC / 10 + SEC / 20, 1), 0);
    CHECK_EQ_INT(take_n(&b, &r, t + 10 * SEC, 9), 5); /* idle time refills to the burst only */
}

static void test_sustained_rate(void)
{
    struct pt_bucket b = {0};
    struct pt_rate r = {100, 10};
    int64_t t = 5 * SEC;
    int ok = 0, i;

    /* 1000 tries a millisecond apart over one second: 10 from the burst, 100 from the rate */
    for (i = 0; i < 1000; i++)
        ok += pt_bucket_take(&b, &r, t + i * (SEC / 1000));
    CHECK(ok >= 108 && ok <= 111);
}

static void test_fractional_and_zero(void)
{
    struct pt_bucket b = {0};
    struct pt_rate half = {0.5, 1}, none = {0, 10}, empty = {10, 0};
    int64_t t = 7 * SEC;

    CHECK_EQ_INT(take_n(&b, &half, t, 2), 1);
    CHECK_EQ_INT(take_n(&b, &half, t + SEC, 1), 0);
    CHECK_EQ_INT(take_n(&b, &half, t + 2 * SEC, 1), 1); /* one every two seconds */
    memset(&b, 0, sizeof(b));
    CHECK_EQ_INT(take_n(&b, &none, t, 3), 0);
    CHECK_EQ_INT(take_n(&b, &empty, t, 3), 0);
}

/* Two threads hammer one bucket: together they never get more than the bucket holds. */
struct race {
    struct pt_bucket *b;
    struct pt_rate r;
    int ok;
};

static void *racer(void *arg)
{
    struct race *x = arg;

    x->ok = take_n(x->b, &x->r, 50 * SEC, 100000);
    return NULL;
}

static void test_two_threads_share_exactly(void)
{
    struct pt_bucket b = {0};
    struct race a = {&b, {1, 1000}, 0}, c = {&b, {1, 1000}, 0};
    pthread_t ta, tc;

    pthread_create(&ta, NULL, racer, &a);
    pthread_create(&tc, NULL, racer, &c);
    pthread_join(ta, NULL);
    pthread_join(tc, NULL);
    CHECK_EQ_INT(a.ok + c.ok, 1000);
}

static void test_periods(void)
{
    int64_t thu = 20419;   /* 2025-11-27, a Thursday */
    int64_t nov26 = 20783; /* 2026-11-26 */

    CHECK_EQ_INT(pt_usage_day(1795685400.0), nov26);
    CHECK_EQ_INT(pt_usage_period_start(PT_QUOTA_DAY, nov26), nov26);
    CHECK_EQ_INT(pt_usage_period_start(PT_QUOTA_WEEK, thu), thu - 3); /* the Monday */
    CHECK_EQ_INT(pt_usage_period_start(PT_QUOTA_WEEK, thu - 3), thu - 3);
    CHECK_EQ_INT(pt_usage_period_start(PT_QUOTA_WEEK, thu + 3), thu - 3); /* the Sunday after */
    CHECK_EQ_INT(pt_usage_period_start(PT_QUOTA_MONTH, nov26), nov26 - 25);
    CHECK_EQ_INT(pt_usage_period_start(PT_QUOTA_MONTH, nov26 - 25), nov26 - 25);
}

static void test_quota(void)
{
    static struct pt_key_usage u;
    int64_t day = 20783;
    int ok = 0, i;

    for (i = 0; i < 7; i++)
        ok += pt_usage_take(&u, 5, PT_QUOTA_WEEK, day);
    CHECK_EQ_INT(ok, 5);
    CHECK_EQ_INT(pt_usage_on(&u, day), 5);
    CHECK(!pt_usage_take(&u, 5, PT_QUOTA_WEEK, day + 1)); /* same week: still spent */
    CHECK(pt_usage_take(&u, 5, PT_QUOTA_DAY, day + 1));   /* a daily quota starts afresh */
    CHECK_EQ_INT(pt_usage_in_period(&u, PT_QUOTA_WEEK, day + 1), 6);
    CHECK(pt_usage_take(&u, -1, PT_QUOTA_DAY, day + 1)); /* no quota: counted only */
    CHECK_EQ_INT(pt_usage_on(&u, day + 1), 2);
    /* A slot reused PT_USAGE_DAYS later holds the new day's count alone. */
    CHECK(pt_usage_take(&u, -1, PT_QUOTA_DAY, day + PT_USAGE_DAYS));
    CHECK_EQ_INT(pt_usage_on(&u, day + PT_USAGE_DAYS), 1);
    CHECK_EQ_INT(pt_usage_on(&u, day), 0);
}

int main(void)
{
    RUN(test_burst_then_rate);
    RUN(test_sustained_rate);
    RUN(test_fractional_and_zero);
    RUN(test_two_threads_share_exactly);
    RUN(test_periods);
    RUN(test_quota);
    return harness_finish("test_throttle");
}
