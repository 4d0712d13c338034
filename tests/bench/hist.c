/*
 * hist: log-linear latency histogram (see hist.h). Pure.
 */
#include "hist.h"

static unsigned bucket_of(uint64_t v)
{
    unsigned msb, idx;

    if (v < 64)
        return (unsigned)v;
    msb = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
    idx = 64 + (msb - 6) * 32 + (unsigned)((v >> (msb - 5)) & 31);
    return idx < PT_HIST_BUCKETS ? idx : PT_HIST_BUCKETS - 1;
}

/* Largest value that falls into bucket idx. */
static uint64_t bucket_top(unsigned idx)
{
    unsigned msb, sub;

    if (idx < 64)
        return idx;
    msb = (idx - 64) / 32 + 6;
    sub = (idx - 64) % 32;
    return ((uint64_t)(32 + sub + 1) << (msb - 5)) - 1;
}

void pt_hist_add(struct pt_hist *h, uint64_t us)
{
    h->buckets[bucket_of(us)]++;
    h->count++;
    if (us > h->max_us)
        h->max_us = us;
}

uint64_t pt_hist_percentile(const struct pt_hist *h, double pct)
{
    uint64_t want, seen = 0;

    if (h->count == 0)
        return 0;
    want = (uint64_t)((double)h->count * pct / 100.0 + 0.5);
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < PT_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= want)
            return bucket_top(i) < h->max_us ? bucket_top(i) : h->max_us;
    }
    return h->max_us;
}
