/* A worker: one thread, one libev loop, the connections it accepted, and the per-turn work
 * (deferred call completions, then one flush of every connection with queued output). */
#ifndef PT_WORKER_H
#define PT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "mailbox.h"
#include "portico/buf.h"

struct pt_config;
struct pt_conn;
struct pt_callx;
struct pt_upool;
struct pt_resolver;
struct pt_offload_queue;
struct pt_chanmap;
struct pt_jwks_cache;
struct pt_authz_cache;
struct pt_metrics;
struct pt_alog;
struct pt_cluster;
struct pt_usage_store;

struct pt_worker {
    struct ev_loop *loop;
    unsigned id;
    uint16_t node;
    struct pt_config *cfg; /* a reference: the current snapshot */
    unsigned cfg_gen;      /* bumped on every reload */

    struct pt_conn *conns; /* every connection, doubly linked */
    size_t nconns;
    size_t nws; /* WebSocket connections (open or connecting) */

    /* WebSocket slots: the slot number is part of the connection ID. */
    struct pt_conn **slots;
    uint32_t nslots;
    uint32_t slot_cap;
    uint32_t *free_slots;
    uint32_t nfree;

    struct pt_conn *flush_head;  /* connections with output to write this turn */
    struct pt_callx *defer_head; /* calls to complete this turn, doubly linked */
    struct pt_callx *defer_tail;
    size_t ncalls; /* calls in flight */

    ev_prepare prepare;
    ev_timer sweep;
    uint8_t *rbuf; /* the one read buffer of this loop */
    size_t rbuf_len;

    struct pt_upool *upools;          /* upstream connection pools */
    struct pt_resolver *resolver;     /* off-loop DNS */
    struct pt_offload_queue *offload; /* finished off-loop jobs come back here */
    struct pt_chanmap *chans;         /* channels (channel.c), created on first use */
    struct pt_jwks_cache *jwks;       /* JWKS fetched from URLs (jwks_cache.c) */
    struct pt_authz_cache *authz;     /* REQUEST authorizer results (policy.c) */
    struct pt_metrics *metrics;       /* this worker's counters (metrics.c) */
    struct pt_alog *alog;             /* the access log's writer (borrowed), or NULL */
    struct pt_cluster *cluster;       /* cluster mode (cluster.c), or NULL */
    struct pt_usage_store *usage;     /* usage-plan state of the process (borrowed) */
    struct pt_buf alog_buf;           /* access-log lines rendered this loop turn */

    struct pt_mailbox mailbox; /* how other workers reach this one */
    struct pt_worker **peers;  /* every worker, this one included, indexed by id (borrowed) */
    unsigned npeers;

    bool draining;
    double drain_deadline;
};

/* Sets up <w> on <loop> with a reference to <cfg>. */
void pt_worker_init(struct pt_worker *w, struct ev_loop *loop, struct pt_config *cfg);
/* Releases what the worker owns; every connection must be gone. */
void pt_worker_cleanup(struct pt_worker *w);
/* Replaces the worker's snapshot (takes a new reference, drops the old one). */
void pt_worker_set_config(struct pt_worker *w, struct pt_config *cfg);

/* Slot table for WebSocket connections. */
uint32_t pt_worker_slot_alloc(struct pt_worker *w, struct pt_conn *c);
void pt_worker_slot_free(struct pt_worker *w, uint32_t slot);
struct pt_conn *pt_worker_slot_get(const struct pt_worker *w, uint32_t slot);

#endif
