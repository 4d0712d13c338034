/* The state of throttles and usage plans (SPEC section 6) that must outlive a config snapshot:
 * token buckets and each plan key's daily request counts. It lives in one store per process,
 * keyed by name; a snapshot is bound to it when it is loaded (pt_usage_bind), so requests reach
 * their buckets and counters through plain pointers, and workers share them through atomics,
 * never a lock. A reload keeps the counts and the buckets' state. */
#ifndef PT_USAGE_H
#define PT_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "bucket.h"

struct pt_config;
struct pt_plan;

#define PT_USAGE_DAYS 96 /* the daily counts kept: AWS's GetUsage reaches 90 days back */

struct pt_key_usage {
    struct pt_bucket bucket;      /* the plan's throttle for this key */
    uint64_t days[PT_USAGE_DAYS]; /* atomic: (day number << 40) | requests that day, here */
    /* Cluster mode (cluster_usage.c): the whole cluster's count of a day as last read from
     * Redis, and how much of this node's count that read already held. Same packing. */
    uint64_t shared[PT_USAGE_DAYS];
    uint64_t pushed[PT_USAGE_DAYS];
    bool syncing; /* a push is on its way (worker 0's alone) */
};

struct pt_usage_store;

struct pt_usage_store *pt_usage_store_new(void);
void pt_usage_store_free(struct pt_usage_store *s);

/* Points every throttle and plan key of <cfg> at its state in <s>, creating what is new.
 * Before the snapshot is published (start, or the reload thread). */
void pt_usage_bind(struct pt_usage_store *s, struct pt_config *cfg);

/* ---- Counting (pure: the caller passes the day) ---- */

/* Days since 1970-01-01 (UTC) of epoch second <t>. */
int64_t pt_usage_day(double t);

/* The first day of the quota period (enum pt_quota_period) that holds <day>: the day itself, the
 * Monday of its week, or the first of its month. */
int64_t pt_usage_period_start(int period, int64_t day);

/* Counts one request on <day>. With <limit> >= 0 it is a quota for the period <period>: when
 * the period already holds <limit> requests nothing is counted and the answer is false. */
bool pt_usage_take(struct pt_key_usage *u, long long limit, int period, int64_t day);

/* Requests counted on <day>, and from the start of <day>'s period through <day>: this node's,
 * and in cluster mode the other nodes' as last read from Redis. */
uint64_t pt_usage_on(const struct pt_key_usage *u, int64_t day);
uint64_t pt_usage_in_period(const struct pt_key_usage *u, int period, int64_t day);

/* ---- Cluster mode: sharing the counts (cluster_usage.c) ---- */

/* This node's requests of <day> that Redis has not been told of. */
uint64_t pt_usage_unpushed(const struct pt_key_usage *u, int64_t day);
/* Redis answered the cluster's <total> for <day>, <pushed_now> of this node's included. */
void pt_usage_synced(struct pt_key_usage *u, int64_t day, uint64_t pushed_now, uint64_t total);

/* Runs <fn> for every plan key of the store (plan and key names, its usage). */
typedef void pt_usage_each_fn(const char *plan, const char *key, struct pt_key_usage *u, void *ud);
void pt_usage_each(struct pt_usage_store *s, pt_usage_each_fn *fn, void *ud);

#endif
