/* Cluster mode on Redis (SPEC section 8), as each worker takes part in it. Every worker listens
 * on an inbox of its own (Redis pub/sub "portico:in:NODE:WORKER"), so an operation on a
 * connection goes straight to the worker that holds it, whatever node it is on: the connection
 * id names both. Channels are Redis pub/sub channels that a worker subscribes to while it has
 * subscribers; presence and the stage's connections are Redis sets. While Redis is down a node
 * serves its own connections and answers 503 for what needs another node. */
#ifndef PT_CLUSTER_H
#define PT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/buf.h"

struct pt_worker;
struct pt_cluster_cfg;
struct pt_cluster_call;

/* <run> is this process's random id: its connections are kept under node:run in Redis, so a
 * restarted node never mistakes the last run's connections for its own. */
void pt_cluster_start(struct pt_worker *w, const struct pt_cluster_cfg *cfg, uint64_t run);
/* Pending calls end with PT_ECANCELED. */
void pt_cluster_stop(struct pt_worker *w);

/* True when this worker's Redis link is up. */
bool pt_cluster_up(const struct pt_worker *w);

/* ---- Calls to a worker of another node ---- */

/* The answer to a call: <err> 0 with the answer's bytes, PT_EGONE (nobody listens there: the
 * node or worker is gone), PT_EUNAVAILABLE (Redis is down), PT_ETIMEDOUT or PT_ECANCELED. */
typedef void pt_cluster_reply_fn(struct pt_worker *w, void *ud, int err, const char *data,
                                 size_t len);

/* Sends <request> to worker <worker> of node <node>; <fn> runs exactly once, maybe before this
 * returns. */
void pt_cluster_call(struct pt_worker *w, uint16_t node, uint8_t worker,
                     const struct pt_buf *request, pt_cluster_reply_fn *fn, void *ud);

/* ---- Channels, presence and the stages' connections ---- */

/* This worker starts or stops having subscribers of channel <key> ("api\nstage\nname"). */
void pt_cluster_watch(struct pt_worker *w, const char *key, bool on);
/* Connection <id> joins or leaves channel <key>'s presence. */
void pt_cluster_presence(struct pt_worker *w, const char *key, const char *id, bool add);
/* WebSocket connection <c> is open (added) or closing: it enters or leaves its stage's set, and
 * its record (what a survivor needs to run its $disconnect if this node dies) is kept or
 * dropped. */
struct pt_conn;
void pt_cluster_member(struct pt_worker *w, struct pt_conn *c, bool add);

/* A publish's outcome: <delivered> subscribers (over every node), or -1 when Redis is down. */
typedef void pt_cluster_published_fn(struct pt_worker *w, void *ud, long delivered);
/* Publishes to every node; <fn> runs exactly once, maybe before this returns. */
void pt_cluster_publish(struct pt_worker *w, const char *key, const void *data, size_t len,
                        bool binary, pt_cluster_published_fn *fn, void *ud);

/* A list of connection ids: <count> quoted ids in <ids>, or <count> -1 when Redis is down;
 * <next> is the cursor of the next page ("0" at the end). */
typedef void pt_cluster_ids_fn(struct pt_worker *w, void *ud, long count, const char *ids,
                               const char *next);
/* Every subscriber of channel <key>, on every node. */
void pt_cluster_subscribers(struct pt_worker *w, const char *key, pt_cluster_ids_fn *fn, void *ud);
/* A page of <api>/<stage>'s connections on every node, from <cursor> ("0": the first). */
void pt_cluster_connections(struct pt_worker *w, const char *api, const char *stage,
                            const char *cursor, size_t limit, pt_cluster_ids_fn *fn, void *ud);

/* ---- For cluster_lease.c ---- */

#include "redis_link.h"

#include <ev.h>

const char *pt_cluster_self(const struct pt_worker *w);
ev_timer *pt_cluster_lease_timer(struct pt_worker *w);
ev_timer *pt_cluster_usage_timer(struct pt_worker *w);
const struct pt_cluster_cfg *pt_cluster_config(const struct pt_worker *w);
/* A command on this worker's link; false (and no reply) when the link is down. */
bool pt_cluster_command(struct pt_worker *w, pt_redis_reply_fn *fn, void *ud, int argc,
                        const char **argv, const size_t *lens);

/* The same for a command of text words (a NULL-terminated list, at most PT_CLUSTER_MAX_WORDS):
 * PT_CLUSTER_SEND(w, fn, ud, "SADD", key, id). Binary values go through pt_cluster_command. */
#define PT_CLUSTER_MAX_WORDS 40
bool pt_cluster_send(struct pt_worker *w, pt_redis_reply_fn *fn, void *ud,
                     const char *const *words);
#define PT_CLUSTER_SEND(w, fn, ud, ...) \
    pt_cluster_send((w), (fn), (ud), (const char *const[]){__VA_ARGS__, NULL})

#endif
