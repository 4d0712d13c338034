/* Key sets of JWT authorizers whose `jwks` is an http URL: fetched without blocking, cached
 * per worker, refetched on an unknown kid at most once a minute; a failing endpoint keeps the
 * last good keys and never blocks anything. */
#ifndef PT_JWKS_CACHE_H
#define PT_JWKS_CACHE_H

#include <stdbool.h>

struct pt_worker;
struct pt_jwks;
struct jwks_entry;

/* Runs when a fetch ends; <keys> is the (possibly unchanged, possibly NULL) key set, borrowed
 * for the call. */
typedef void pt_jwks_wait_fn(void *ud, struct pt_jwks *keys);

/* A waiter lives in its owner's storage. */
struct pt_jwks_waiter {
    pt_jwks_wait_fn *fn;
    void *ud;
    struct jwks_entry *entry; /* NULL when not waiting */
    struct pt_jwks_waiter *prev, *next;
};

/* The cached keys of <url> (borrowed; valid until the next loop turn), or NULL. */
struct pt_jwks *pt_jwks_cache_get(struct pt_worker *w, const char *url);

/* Waits for a fresh fetch of <url>: starts one unless one is in flight, or returns false when
 * the last attempt was less than a minute ago (the caller answers with what it has). */
bool pt_jwks_cache_refresh(struct pt_worker *w, const char *url, struct pt_jwks_waiter *wt,
                           pt_jwks_wait_fn *fn, void *ud);

/* Stops waiting (the request went away). */
void pt_jwks_cache_unwait(struct pt_jwks_waiter *wt);

void pt_jwks_cache_cleanup(struct pt_worker *w);

#endif
