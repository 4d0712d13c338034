/* The AWS metric set (SPEC section 7) per api, stage and route, counted by each worker without
 * locks and summed over the workers when /metrics is scraped. */
#ifndef PT_METRICS_H
#define PT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "portico/buf.h"

struct pt_worker;
struct pt_http;

#define PT_METRICS_BUCKETS 10 /* latency histogram upper bounds, plus +Inf */

struct pt_metric_hist {
    uint64_t counts[PT_METRICS_BUCKETS + 1]; /* cumulative at render time, per bucket here */
    double sum_s;
    uint64_t count;
};

struct pt_metric {
    char *api, *stage, *route; /* owned */
    uint64_t requests;         /* Count */
    uint64_t e4xx, e5xx;       /* 4XXError, 5XXError */
    uint64_t connects;         /* ConnectCount */
    uint64_t messages;         /* MessageCount */
    uint64_t integration_errors, client_errors, execution_errors;
    uint64_t deliveries;               /* channel deliveries (beyond AWS) */
    uint64_t cache_hits, cache_misses; /* CacheHitCount, CacheMissCount */
    struct pt_metric_hist latency, integration_latency;
    struct pt_metric *next;
};

/* The counters of (api, stage, route) on worker <w>, created on first use. */
struct pt_metric *pt_metrics_get(struct pt_worker *w, const char *api, const char *stage,
                                 const char *route);

/* Counts one answered HTTP request (or WebSocket handshake): its status and latencies in
 * seconds (<integration_s> < 0 when no integration ran). */
void pt_metrics_request(struct pt_metric *m, int status, double latency_s, double integration_s);
void pt_metrics_observe(struct pt_metric_hist *h, double seconds);

/* Answers GET /metrics on request <h>: gathers every worker's counters through the mailboxes
 * and renders the Prometheus text format. */
void pt_metrics_scrape(struct pt_http *h);

/* The request went away: the scrape, when done, is dropped. */
struct scrape;
void pt_metrics_detach(struct scrape *s);

void pt_metrics_cleanup(struct pt_worker *w);

#endif
