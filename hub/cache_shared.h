/* The response cache in cluster mode (SPEC section 8: "the response cache is shared"): entries
 * live in the cluster's Redis under "portico:cache:API STAGE KEY" with the route's ttl as their
 * expiry, so every node hits what any node cached. Redis keeps them within its own maxmemory
 * (capacityMB applies to the per-node cache only). While Redis is down a lookup is a miss and
 * nothing is kept: requests still reach the integration. */
#ifndef PT_CACHE_SHARED_H
#define PT_CACHE_SHARED_H

#include <stddef.h>

#include "portico/kv.h"

struct pt_worker;
struct pt_cache_entry;
struct pt_http;

/* What a request waiting for Redis keeps: its first member in the waiter's own struct.
 * pt_http_free() clears <h> when the request goes away first. */
struct pt_cache_wait {
    struct pt_http *h;
};

/* A lookup's answer: the entry (a reference for the callee to drop), or NULL on a miss. */
typedef void pt_cache_shared_fn(struct pt_worker *w, void *ud, struct pt_cache_entry *e);

/* Looks <key> up in the cache of <api>/<stage>; <fn> runs exactly once, maybe before this
 * returns. */
void pt_cache_shared_get(struct pt_worker *w, const char *api, const char *stage, const char *key,
                         pt_cache_shared_fn *fn, void *ud);

/* Keeps the answer for <ttl_s> seconds (false when it is too large or Redis is down). */
void pt_cache_shared_put(struct pt_worker *w, const char *api, const char *stage, const char *key,
                         int status, const struct pt_kv *headers, size_t nheaders, const void *body,
                         size_t body_len, long long ttl_s);

/* Empties the cache of <api>/<stage>; <fn> gets how many entries went, or -1 when Redis is
 * down. */
typedef void pt_cache_flushed_fn(struct pt_worker *w, void *ud, long flushed);
void pt_cache_shared_flush(struct pt_worker *w, const char *api, const char *stage,
                           pt_cache_flushed_fn *fn, void *ud);

#endif
