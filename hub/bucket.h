/* A token bucket shared by every worker without a lock (SPEC section 6: rateLimit tokens per
 * second, burstLimit the bucket's size). It is kept as GCRA: one atomic "theoretical arrival
 * time" that each request moves forward by 1/rate, refused when that would run more than
 * burst/rate ahead of now. That is exactly a token bucket, in one word that a compare-and-swap
 * updates. Pure: the caller passes the clock. */
#ifndef PT_BUCKET_H
#define PT_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct pt_bucket {
    int64_t tat_ns; /* atomic; 0 before the first request: a full bucket */
};

struct pt_rate {
    double per_second; /* rateLimit; 0 refuses everything */
    long long burst;   /* burstLimit; 0 refuses everything */
};

/* Takes one token at <now_ns> (any monotonic nanosecond clock); false when none is left. */
bool pt_bucket_take(struct pt_bucket *b, const struct pt_rate *r, int64_t now_ns);

#endif
