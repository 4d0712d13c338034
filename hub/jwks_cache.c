/* JWKS fetched from http URLs, cached per worker (see jwks_cache.h). A fetch is an ordinary
 * call of a small internal backend, so it has the upstream pool, off-loop DNS and a deadline
 * (1.5 s, as AWS uses for JWKS) like any integration. */
#include "jwks_cache.h"

#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "jwt.h"
#include "portico/err.h"
#include "portico/log.h"
#include "portico/upstream.h"
#include "portico/xalloc.h"
#include "worker.h"

#define REFETCH_MIN_S    60.0 /* an unknown kid refetches at most once a minute */
#define FETCH_TIMEOUT_MS 1500

struct jwks_entry {
    char *url;
    struct pt_jwks *keys;              /* a reference, or NULL before the first good fetch */
    double fetched_at;                 /* ev_now() of the last attempt, 0 before any */
    struct pt_callx *fetch;            /* in flight, or NULL */
    struct pt_integration integration; /* what the fetch call runs */
    struct pt_route route;
    struct pt_jwks_waiter *waiters;
    struct jwks_entry *next;
};

struct pt_jwks_cache {
    struct jwks_entry *entries;
};

/* ---- The fetch backend ---- */

static void on_fetched(struct pt_call *call, int err, const struct pt_upstream_response *up)
{
    struct pt_result res = {.err = err};

    if (err == 0) {
        res.status = up->status;
        res.body = up->body;
        res.body_len = up->body_len;
    }
    pt_call_done(call, &res);
}

static void fetch_invoke(struct pt_call *call)
{
    struct pt_upstream_request req = {
        .method = "GET", .url = call->req->url, .max_response_bytes = PT_JWKS_MAX_BYTES};

    pt_upstream_send(call, &req, on_fetched);
}

static void fetch_cancel(struct pt_call *call)
{
    pt_upstream_cancel(call);
}

static const struct pt_backend fetch_backend = {
    .type = "JWKS fetch",
    .invoke = fetch_invoke,
    .cancel = fetch_cancel,
};

/* ---- The cache ---- */

static struct jwks_entry *entry(struct pt_worker *w, const char *url)
{
    struct jwks_entry *e;

    if (w->jwks == NULL)
        w->jwks = pt_xcalloc(1, sizeof(*w->jwks));
    for (e = w->jwks->entries; e != NULL; e = e->next)
        if (strcmp(e->url, url) == 0)
            return e;
    e = pt_xcalloc(1, sizeof(*e));
    e->url = pt_xstrdup(url);
    e->integration.name = "jwks";
    e->integration.backend = &fetch_backend;
    e->integration.timeout_ms = FETCH_TIMEOUT_MS;
    e->route.key = (char *)"$jwks"; /* never freed: the route lives in the entry */
    e->route.integration = &e->integration;
    e->next = w->jwks->entries;
    w->jwks->entries = e;
    return e;
}

struct pt_jwks *pt_jwks_cache_get(struct pt_worker *w, const char *url)
{
    return entry(w, url)->keys;
}

static void wake(struct jwks_entry *e)
{
    struct pt_jwks_waiter *wt;

    while ((wt = e->waiters) != NULL) {
        e->waiters = wt->next;
        wt->entry = NULL;
        wt->fn(wt->ud, e->keys);
    }
}

static void on_fetch_done(struct pt_callx *x, const struct pt_result *res)
{
    struct jwks_entry *e =
        (struct jwks_entry *)((char *)x->route - offsetof(struct jwks_entry, route));
    struct pt_jwks *keys = NULL;
    const char *why = NULL;

    e->fetch = NULL;
    if (res->err != 0 || res->status != 200)
        why = res->err == PT_ETIMEDOUT ? "timed out" : "failed";
    else if (pt_jwks_parse(res->body, res->body_len, &keys, &why) != 0)
        keys = NULL;
    if (keys != NULL) {
        pt_jwks_unref(e->keys);
        e->keys = keys;
    } else {
        /* Keep the keys we had: a JWKS endpoint that is down must not lock everyone out. */
        pt_log(PT_LOG_WARN, "jwks", "fetching %s %s", e->url, why ? why : "gave no keys");
    }
    wake(e);
}

bool pt_jwks_cache_refresh(struct pt_worker *w, const char *url, struct pt_jwks_waiter *wt,
                           pt_jwks_wait_fn *fn, void *ud)
{
    struct jwks_entry *e = entry(w, url);
    double now = ev_now(w->loop);

    if (e->fetch == NULL) {
        if (e->fetched_at > 0 && now - e->fetched_at < REFETCH_MIN_S)
            return false;
        e->fetched_at = now;
        e->fetch = pt_callx_new(w, w->cfg, &e->route, PT_EVENT_FETCH);
        e->fetch->req.url = e->url;
        pt_callx_invoke(e->fetch, on_fetch_done);
    }
    wt->fn = fn;
    wt->ud = ud;
    wt->entry = e;
    wt->prev = NULL;
    wt->next = e->waiters;
    if (e->waiters != NULL)
        e->waiters->prev = wt;
    e->waiters = wt;
    return true;
}

void pt_jwks_cache_unwait(struct pt_jwks_waiter *wt)
{
    struct jwks_entry *e = wt->entry;

    if (e == NULL)
        return;
    if (wt->prev != NULL)
        wt->prev->next = wt->next;
    else
        e->waiters = wt->next;
    if (wt->next != NULL)
        wt->next->prev = wt->prev;
    wt->entry = NULL;
}

void pt_jwks_cache_cleanup(struct pt_worker *w)
{
    struct jwks_entry *e, *next;

    if (w->jwks == NULL)
        return;
    for (e = w->jwks->entries; e != NULL; e = next) {
        next = e->next;
        if (e->fetch != NULL)
            pt_callx_cancel(e->fetch);
        pt_jwks_unref(e->keys);
        free(e->url);
        free(e);
    }
    free(w->jwks);
    w->jwks = NULL;
}
