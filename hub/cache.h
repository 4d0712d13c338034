/* The response cache of HTTP API stages (SPEC section 6): GET answers with a 2xx status, kept
 * per stage for their route's ttlSeconds, within the stage's capacityMB, least recently used
 * first out. One cache per stage, shared by every worker (a short lock around the table; the
 * answer itself is an immutable, reference-counted entry read outside it). Caches live in a
 * store that outlives config snapshots, so a reload keeps what is cached. */
#ifndef PT_CACHE_H
#define PT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/kv.h"

struct pt_config;

#define PT_CACHE_MAX_ENTRY_BYTES (1 << 20) /* a body over 1 MB is not cached */

/* A cached answer: status, headers and body in one block. Immutable once made. */
struct pt_cache_entry {
    int refs; /* atomic */
    int status;
    struct pt_kv *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    /* the cache's own: */
    char *key;
    size_t size;
    double expires; /* monotonic seconds */
    struct pt_cache_entry *hnext, *lprev, *lnext;
};

struct pt_cache;
struct pt_cache_store;

struct pt_cache_store *pt_cache_store_new(void);
void pt_cache_store_free(struct pt_cache_store *s);

/* Points each cache-enabled stage of <cfg> at its cache in <s> (created, or resized to the
 * stage's capacityMB). Before the snapshot is published. */
void pt_cache_bind(struct pt_cache_store *s, struct pt_config *cfg);

/* The live entry for <key> at monotonic time <now>, with a reference the caller drops with
 * pt_cache_entry_unref(); NULL on a miss (an expired entry goes now). */
struct pt_cache_entry *pt_cache_get(struct pt_cache *c, const char *key, double now);

/* Keeps a copy of the answer under <key> until <now> + <ttl_s>, replacing any entry there and
 * evicting the least recently used past the capacity. Returns false when it is too large. */
bool pt_cache_put(struct pt_cache *c, const char *key, int status, const struct pt_kv *headers,
                  size_t nheaders, const void *body, size_t body_len, double ttl_s, double now);

/* Empties the cache; returns how many entries went. */
size_t pt_cache_flush(struct pt_cache *c);

/* A new entry holding copies of everything, with one reference. */
struct pt_cache_entry *pt_cache_entry_new(const char *key, int status, const struct pt_kv *headers,
                                          size_t nheaders, const void *body, size_t body_len);
void pt_cache_entry_unref(struct pt_cache_entry *e);

#endif
