/* Off-loop DNS (see resolve.h). Lookups are rare: upstream connections are pooled and answers
 * are cached for CACHE_TTL_S. */
#include "resolve.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"
#include "portico/err.h"
#include "portico/xalloc.h"

#define CACHE_TTL_S 30.0
#define CACHE_MAX   64

struct pt_resolve_req {
    struct pt_resolver *owner;
    struct pt_offload *job; /* NULL for a cached answer */
    char *host;
    int port;
    pt_resolve_fn *cb;
    void *ud;
    bool cancelled; /* cached answers only: the job has its own flag */
    int err;        /* written by the helper thread, read on the loop after the hand-over */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct pt_resolve_req *next; /* cached answers waiting for the next turn */
};

struct cache_entry {
    char *host;
    int port;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    double expires;
};

struct pt_resolver {
    struct ev_loop *loop;
    struct pt_offload_queue *q;
    ev_timer kick; /* delivers cached answers on the next turn */
    struct pt_resolve_req *ready;
    struct cache_entry cache[CACHE_MAX];
    size_t ncache;
};

static void req_free(void *arg)
{
    struct pt_resolve_req *req = arg;

    free(req->host);
    free(req);
}

/* On a helper thread. */
static void lookup(void *arg)
{
    struct pt_resolve_req *req = arg;
    struct addrinfo hints = {0}, *res = NULL;
    char port[16];

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    snprintf(port, sizeof(port), "%d", req->port);
    req->err = PT_ENOTFOUND;
    if (getaddrinfo(req->host, port, &hints, &res) == 0 && res != NULL) {
        memcpy(&req->addr, res->ai_addr, res->ai_addrlen);
        req->addrlen = res->ai_addrlen;
        req->err = 0;
    }
    if (res != NULL)
        freeaddrinfo(res);
}

static void cache_put(struct pt_resolver *r, const struct pt_resolve_req *req)
{
    struct cache_entry *e;
    size_t i, victim = 0;

    for (i = 0; i < r->ncache; i++)
        if (r->cache[i].expires < r->cache[victim].expires)
            victim = i;
    if (r->ncache < CACHE_MAX)
        victim = r->ncache++;
    else
        free(r->cache[victim].host);
    e = &r->cache[victim];
    e->host = pt_xstrdup(req->host);
    e->port = req->port;
    e->addr = req->addr;
    e->addrlen = req->addrlen;
    e->expires = ev_now(r->loop) + CACHE_TTL_S;
}

static bool cache_get(struct pt_resolver *r, struct pt_resolve_req *req)
{
    size_t i;

    for (i = 0; i < r->ncache; i++)
        if (r->cache[i].port == req->port && strcmp(r->cache[i].host, req->host) == 0 &&
            r->cache[i].expires > ev_now(r->loop)) {
            req->addr = r->cache[i].addr;
            req->addrlen = r->cache[i].addrlen;
            req->err = 0;
            return true;
        }
    return false;
}

static void deliver(struct pt_resolve_req *req)
{
    req->cb(req->ud, req->err, req->err ? NULL : (struct sockaddr *)&req->addr, req->addrlen);
    req_free(req);
}

static void looked_up(void *arg)
{
    struct pt_resolve_req *req = arg;

    if (req->err == 0)
        cache_put(req->owner, req);
    deliver(req);
}

static void on_kick(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pt_resolver *r = t->data;
    struct pt_resolve_req *list = r->ready, *next;

    r->ready = NULL;
    for (; list != NULL; list = next) {
        next = list->next;
        if (list->cancelled)
            req_free(list);
        else
            deliver(list);
    }
}

struct pt_resolver *pt_resolver_new(struct ev_loop *loop, struct pt_offload_queue *q)
{
    struct pt_resolver *r = pt_xcalloc(1, sizeof(*r));

    r->loop = loop;
    r->q = q;
    ev_timer_init(&r->kick, on_kick, 0.0, 0.0);
    r->kick.data = r;
    return r;
}

void pt_resolver_free(struct pt_resolver *r)
{
    struct pt_resolve_req *list, *next;
    size_t i;

    if (r == NULL)
        return;
    ev_timer_stop(r->loop, &r->kick);
    for (list = r->ready; list != NULL; list = next) {
        next = list->next;
        req_free(list);
    }
    for (i = 0; i < r->ncache; i++)
        free(r->cache[i].host);
    free(r);
}

struct pt_resolve_req *pt_resolve_start(struct pt_resolver *r, const char *host, int port,
                                        pt_resolve_fn *cb, void *ud)
{
    struct pt_resolve_req *req = pt_xcalloc(1, sizeof(*req));

    req->owner = r;
    req->host = pt_xstrdup(host);
    req->port = port;
    req->cb = cb;
    req->ud = ud;
    if (cache_get(r, req)) {
        req->next = r->ready;
        r->ready = req;
        ev_timer_start(r->loop, &r->kick);
        return req;
    }
    req->job = pt_offload_submit(r->q, lookup, looked_up, req_free, req);
    return req;
}

void pt_resolve_cancel(struct pt_resolve_req *req)
{
    if (req->job != NULL)
        pt_offload_cancel(req->job);
    else
        req->cancelled = true;
}
