/* Off-loop DNS (see resolve.h). One thread per worker is plenty: lookups are rare because
 * upstream connections are pooled and answers are cached. */
#include "resolve.h"

#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/err.h"
#include "portico/xalloc.h"

#define CACHE_TTL_S 30.0
#define CACHE_MAX 256

struct pt_resolve_req {
    struct pt_resolver *owner;
    char *host;
    int port;
    pt_resolve_fn *cb;
    void *ud;
    bool cancelled; /* read and written on the loop only */
    bool cached;    /* answered from the cache */
    int err;        /* written by the thread, read on the loop after the hand-over */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct pt_resolve_req *next;
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
    ev_async wake;  /* answers are ready */
    ev_timer kick;  /* cached answers are delivered on the next turn */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pt_resolve_req *todo, *todo_tail; /* for the thread; under lock */
    struct pt_resolve_req *done;             /* for the loop; under lock */
    bool stop;                               /* under lock */
    struct cache_entry cache[CACHE_MAX];     /* loop only */
    size_t ncache;
};

static void *resolver_main(void *arg)
{
    struct pt_resolver *r = arg;
    struct pt_resolve_req *req;
    struct addrinfo hints = {0}, *res;
    char port[16];

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->todo == NULL && !r->stop)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->stop) {
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
        req = r->todo;
        r->todo = req->next;
        if (r->todo == NULL)
            r->todo_tail = NULL;
        pthread_mutex_unlock(&r->lock);

        snprintf(port, sizeof(port), "%d", req->port);
        res = NULL;
        if (getaddrinfo(req->host, port, &hints, &res) == 0 && res != NULL) {
            memcpy(&req->addr, res->ai_addr, res->ai_addrlen);
            req->addrlen = res->ai_addrlen;
            req->err = 0;
        } else {
            req->err = PT_ENOTFOUND;
        }
        if (res != NULL)
            freeaddrinfo(res);

        pthread_mutex_lock(&r->lock);
        req->next = r->done;
        r->done = req;
        pthread_mutex_unlock(&r->lock);
        ev_async_send(r->loop, &r->wake);
    }
}

static void cache_put(struct pt_resolver *r, const struct pt_resolve_req *req)
{
    struct cache_entry *e;
    size_t i, victim = 0;
    double now = ev_now(r->loop);

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
    e->expires = now + CACHE_TTL_S;
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

static void finish(struct pt_resolve_req *req)
{
    if (!req->cancelled)
        req->cb(req->ud, req->err, req->err ? NULL : (struct sockaddr *)&req->addr, req->addrlen);
    free(req->host);
    free(req);
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    struct pt_resolver *r = a->data;
    struct pt_resolve_req *list, *next;

    pthread_mutex_lock(&r->lock);
    list = r->done;
    r->done = NULL;
    pthread_mutex_unlock(&r->lock);
    for (; list != NULL; list = next) {
        next = list->next;
        if (list->err == 0 && !list->cached)
            cache_put(r, list);
        finish(list);
    }
}

static void on_kick(struct ev_loop *loop, ev_timer *t, int revents)
{
    on_wake(loop, &((struct pt_resolver *)t->data)->wake, 0);
}

struct pt_resolver *pt_resolver_new(struct ev_loop *loop)
{
    struct pt_resolver *r = pt_xcalloc(1, sizeof(*r));

    r->loop = loop;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    ev_async_init(&r->wake, on_wake);
    r->wake.data = r;
    ev_async_start(loop, &r->wake);
    ev_timer_init(&r->kick, on_kick, 0.0, 0.0);
    r->kick.data = r;
    if (pthread_create(&r->thread, NULL, resolver_main, r) != 0) {
        fprintf(stderr, "portico: cannot start the resolver thread\n");
        abort();
    }
    return r;
}

void pt_resolver_free(struct pt_resolver *r)
{
    struct pt_resolve_req *q, *next;
    size_t i;

    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    /* A getaddrinfo in progress finishes on its own time; joining waits for it. */
    pthread_join(r->thread, NULL);
    for (q = r->todo; q != NULL; q = next) {
        next = q->next;
        free(q->host);
        free(q);
    }
    for (q = r->done; q != NULL; q = next) {
        next = q->next;
        free(q->host);
        free(q);
    }
    for (i = 0; i < r->ncache; i++)
        free(r->cache[i].host);
    ev_async_stop(r->loop, &r->wake);
    ev_timer_stop(r->loop, &r->kick);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
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
    pthread_mutex_lock(&r->lock);
    if (cache_get(r, req)) {
        req->cached = true;
        /* Delivered through the done list on the next turn, like a fresh answer. */
        req->next = r->done;
        r->done = req;
        pthread_mutex_unlock(&r->lock);
        ev_timer_start(r->loop, &r->kick);
        return req;
    }
    if (r->todo_tail != NULL)
        r->todo_tail->next = req;
    else
        r->todo = req;
    r->todo_tail = req;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return req;
}

void pt_resolve_cancel(struct pt_resolve_req *req)
{
    req->cancelled = true;
}
