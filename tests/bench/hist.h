/*
 * hist: a log-linear latency histogram for the load generator. Values are microseconds;
 * below 64 every value has its own bucket, above that each power of two is split in 32,
 * so a percentile is exact to about 3%. Pure: no I/O, no clock.
 */
#ifndef PT_BENCH_HIST_H
#define PT_BENCH_HIST_H

#include <stdint.h>

#define PT_HIST_BUCKETS (64 + 32 * 26) /* up to 2^32 us */

struct pt_hist {
    uint64_t count;
    uint64_t max_us;
    uint64_t buckets[PT_HIST_BUCKETS];
};

/* Adds one sample; values past the last bucket land in it. */
void pt_hist_add(struct pt_hist *h, uint64_t us);

/* Returns the value at percentile pct (0..100): the upper edge of its bucket, or 0 when
 * the histogram is empty. */
uint64_t pt_hist_percentile(const struct pt_hist *h, double pct);

#endif
