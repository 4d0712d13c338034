/* The server: `workers` event loops (libev, epoll), one per thread, each with its own
 * SO_REUSEPORT listeners so the kernel spreads connections over them; the first runs on the
 * main thread and also owns the signals. A reload reads and validates the new config on a
 * thread of its own, so no loop waits for the file, then hands every worker the snapshot
 * through its mailbox. A drain is a message to every worker too. */
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "accesslog.h"
#include "cache.h"
#include "cluster.h"
#include "config.h"
#include "conn.h"
#include "connid.h"
#include "errors.h"
#include "h2.h"
#include "listen.h"
#include "mailbox.h"
#include "offload.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "tls.h"
#include "usage.h"
#include "worker.h"
#include "ws.h"

struct slot {
    struct pt_worker worker;
    struct pt_listener *listeners;
    size_t nlisteners;
    ev_timer drain_check;
    pthread_t thread;
    struct server *s;
};

struct server {
    struct slot *slots;
    struct pt_worker **workers; /* the peers array every worker shares (read-only) */
    unsigned n;
    char *path;
    ev_signal sigterm, sigint, sighup;
    struct pt_alog *alog;          /* the access log's writer thread */
    struct pt_usage_store *usage;  /* throttle buckets and quota counts, across reloads */
    struct pt_cache_store *caches; /* the stages' response caches, across reloads */
    struct pt_config *first;       /* the config started with: its cluster block is the links' */
    uint64_t run;                  /* this process among the cluster's nodes */
    pthread_mutex_t lock;          /* guards reloading and reloader */
    bool reloading;                /* a reload thread is running */
    bool joinable;                 /* reloader has not been joined yet */
    pthread_t reloader;
};

/* ---- Drain (on each worker) ---- */

static void on_drain_check(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct slot *sl = t->data;
    struct pt_worker *w = &sl->worker;
    struct pt_conn *c, *next;

    if (w->nconns == 0 && w->ncalls == 0) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    if (ev_now(loop) < w->drain_deadline)
        return;
    pt_log(PT_LOG_WARN, "server", "drain deadline passed with %zu connections open", w->nconns);
    for (c = w->conns; c != NULL; c = next) {
        next = c->next;
        pt_conn_destroy(c);
    }
    if (w->ncalls == 0 || ev_now(loop) > w->drain_deadline + 1.0)
        ev_break(loop, EVBREAK_ALL);
}

static void drain_worker(struct pt_worker *w, void *arg)
{
    struct slot *sl = arg;
    struct pt_conn *c, *next;

    if (w->draining)
        return;
    w->draining = true;
    w->drain_deadline = ev_now(w->loop) + (double)w->cfg->limits.drain_s;
    pt_listen_close_api(sl->listeners, sl->nlisteners, w);
    for (c = w->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == PT_CONN_WS)
            pt_ws_close(c, 1001, "Going away"); /* queued after what is already queued */
        else if (c->state == PT_CONN_H2)
            pt_h2_drain(c);
        else if (c->state == PT_CONN_WS_PENDING || (c->state == PT_CONN_HTTP && c->http == NULL))
            pt_conn_destroy(c);
    }
    ev_timer_init(&sl->drain_check, on_drain_check, 0.0, 0.05);
    sl->drain_check.data = sl;
    ev_timer_start(w->loop, &sl->drain_check);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *sig, int revents)
{
    struct server *s = sig->data;
    unsigned i;

    pt_log(PT_LOG_INFO, "server", "draining");
    for (i = 0; i < s->n; i++)
        pt_mailbox_post(&s->slots[i].worker, drain_worker, &s->slots[i]);
}

/* ---- Reload ---- */

/* Points the access log at <cfg>'s file (or nowhere). Opening the same file again is what lets
 * a rotated log go (SIGHUP after logrotate moved it). */
static bool open_access_log(struct pt_alog *a, const struct pt_config *cfg)
{
    const char *path = cfg->access_log != NULL ? cfg->access_log->path : NULL;
    int rc = pt_alog_open(a, path);

    if (rc != 0)
        pt_log(PT_LOG_ERR, "accesslog", "accessLog.path: cannot open %s: %s", path, strerror(-rc));
    return rc == 0;
}

static void take_config(struct pt_worker *w, void *arg)
{
    struct pt_config *cfg = arg;

    pt_worker_set_config(w, cfg);
    pt_config_unref(cfg);
}

static bool same_cluster(const struct pt_cluster_cfg *a, const struct pt_cluster_cfg *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a->redis_url, b->redis_url) == 0 && strcmp(a->node_id, b->node_id) == 0 &&
           strcmp(a->host, b->host) == 0;
}

static void *reload_thread(void *arg)
{
    struct server *s = arg;
    struct pt_errors errs;
    struct pt_config *cfg;
    unsigned i;
    size_t k;

    pt_errors_init(&errs, s->path);
    cfg = pt_config_load(s->path, &errs);
    if (cfg != NULL && !same_cluster(s->first->cluster, cfg->cluster)) {
        pt_log(PT_LOG_ERR, "reload",
               "cluster: the cluster block cannot change on a reload; restart "
               "to change it");
        pt_config_unref(cfg);
        cfg = NULL;
    }
    if (cfg != NULL && !open_access_log(s->alog, cfg)) {
        pt_config_unref(cfg);
        cfg = NULL;
    }
    if (cfg != NULL) {
        pt_usage_bind(s->usage, cfg);
        pt_cache_bind(s->caches, cfg);
    }
    if (cfg == NULL) {
        pt_log(PT_LOG_ERR, "reload", "new config rejected; keeping the old one");
        for (k = 0; k < errs.count; k++)
            pt_log(PT_LOG_ERR, "reload", "%s", errs.lines[k]);
    } else {
        for (i = 0; i < s->n; i++)
            pt_mailbox_post(&s->slots[i].worker, take_config, pt_config_ref(cfg));
        pt_config_unref(cfg);
        pt_log(PT_LOG_INFO, "reload", "config reloaded from %s", s->path);
    }
    pt_errors_cleanup(&errs);
    pthread_mutex_lock(&s->lock);
    s->reloading = false;
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void on_sighup(struct ev_loop *loop, ev_signal *sig, int revents)
{
    struct server *s = sig->data;

    pthread_mutex_lock(&s->lock);
    if (s->reloading || s->slots[0].worker.draining) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (s->joinable) /* the last reload is over (reloading is false): reap its thread */
        pthread_join(s->reloader, NULL);
    s->joinable = false;
    s->reloading = true;
    if (pthread_create(&s->reloader, NULL, reload_thread, s) != 0) {
        pt_log(PT_LOG_ERR, "reload", "cannot start the reload thread");
        s->reloading = false;
    } else {
        s->joinable = true;
    }
    pthread_mutex_unlock(&s->lock);
}

/* After the loops stopped: a reload still running must finish first, since its mail must land
 * in mailboxes that still exist. */
static void wait_for_reload(struct server *s)
{
    if (s->joinable)
        pthread_join(s->reloader, NULL);
    s->joinable = false;
}

/* ---- Workers ---- */

static void *worker_main(void *arg)
{
    struct slot *sl = arg;

    ev_run(sl->worker.loop, 0);
    return NULL;
}

static void stop_worker(struct slot *sl)
{
    struct ev_loop *loop = sl->worker.loop;

    pt_listen_close(sl->listeners, sl->nlisteners, &sl->worker);
    sl->listeners = NULL;
    ev_timer_stop(loop, &sl->drain_check);
    pt_worker_cleanup(&sl->worker);
    if (!ev_is_default_loop(loop))
        ev_loop_destroy(loop);
}

static bool start_slots(struct server *s, struct pt_config *cfg)
{
    unsigned i;

    for (i = 0; i < s->n; i++) {
        struct slot *sl = &s->slots[i];
        struct ev_loop *loop = i == 0 ? ev_default_loop(EVBACKEND_EPOLL | EVFLAG_NOENV)
                                      : ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);

        sl->s = s;
        if (loop == NULL) {
            pt_log(PT_LOG_ERR, "server", "cannot create an event loop");
            return false;
        }
        sl->listeners = pt_listen_open(cfg, i == 0 ? NULL : s->slots[0].listeners, &sl->nlisteners);
        if (sl->listeners == NULL) {
            if (i > 0)
                ev_loop_destroy(loop);
            return false;
        }
        pt_worker_init(&sl->worker, loop, cfg);
        sl->worker.alog = s->alog;
        sl->worker.usage = s->usage;
        sl->worker.id = i;
        if (cfg->cluster != NULL)
            pt_cluster_start(&sl->worker, cfg->cluster, s->run);
        sl->worker.peers = s->workers;
        sl->worker.npeers = s->n;
        s->workers[i] = &sl->worker;
        pt_listen_start(sl->listeners, sl->nlisteners, &sl->worker);
    }
    return true;
}

int pt_server_run(struct pt_config *cfg, const char *path)
{
    struct server *s = pt_xcalloc(1, sizeof(*s));
    struct ev_loop *loop;
    sigset_t all, old;
    unsigned i, started = 0;
    int rc = 0;

    signal(SIGPIPE, SIG_IGN);
    s->n = (unsigned)cfg->workers;
    s->slots = pt_xcalloc(s->n, sizeof(*s->slots));
    s->workers = pt_xcalloc(s->n, sizeof(*s->workers));
    s->path = pt_xstrdup(path);
    pthread_mutex_init(&s->lock, NULL);
    pt_tls_client_init(); /* reads the trust store: before the loops */
    s->first = pt_config_ref(cfg);
    s->run = pt_connid_random64();
    s->alog = pt_alog_new();
    s->usage = pt_usage_store_new();
    pt_usage_bind(s->usage, cfg);
    s->caches = pt_cache_store_new();
    pt_cache_bind(s->caches, cfg);
    if (!open_access_log(s->alog, cfg) || !start_slots(s, cfg)) {
        rc = 1;
        goto done;
    }
    /* Signals belong to the first worker's thread: the others block them. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (i = 1; i < s->n; i++) {
        if (pthread_create(&s->slots[i].thread, NULL, worker_main, &s->slots[i]) != 0) {
            pt_log(PT_LOG_ERR, "server", "cannot start worker %u", i);
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    loop = s->slots[0].worker.loop;
    ev_signal_init(&s->sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&s->sigint, on_stop_signal, SIGINT);
    ev_signal_init(&s->sighup, on_sighup, SIGHUP);
    s->sigterm.data = s->sigint.data = s->sighup.data = s;
    ev_signal_start(loop, &s->sigterm);
    ev_signal_start(loop, &s->sigint);
    ev_signal_start(loop, &s->sighup);
    if (started + 1 < s->n)
        on_stop_signal(loop, &s->sigterm, 0);
    pt_log(PT_LOG_INFO, "server", "portico ready (config %s, %u worker%s)", path, s->n,
           s->n == 1 ? "" : "s");

    ev_run(loop, 0);

    for (i = 1; i <= started; i++)
        pthread_join(s->slots[i].thread, NULL);
    ev_signal_stop(loop, &s->sigterm);
    ev_signal_stop(loop, &s->sigint);
    ev_signal_stop(loop, &s->sighup);
    wait_for_reload(s);
    /* Mail can bounce between workers (a request and its answer): run every mailbox until all
     * are empty, so no worker posts to one that is already freed. */
    for (;;) {
        size_t ran = 0;

        for (i = 0; i < s->n; i++)
            ran += pt_mailbox_run(&s->slots[i].worker.mailbox, &s->slots[i].worker);
        if (ran == 0)
            break;
    }
done:
    for (i = 0; i < s->n; i++)
        if (s->workers[i] != NULL)
            stop_worker(&s->slots[i]);
    if (s->n > 0 && s->workers[0] != NULL)
        ev_loop_destroy(ev_default_loop(0));
    pt_alog_free(s->alog); /* after the workers handed over their last lines */
    pt_usage_store_free(s->usage);
    pt_cache_store_free(s->caches);
    pt_config_unref(s->first); /* after the workers: their Redis links read its cluster block */
    pthread_mutex_destroy(&s->lock);
    pt_tls_client_cleanup();
    pt_offload_shutdown();
    free(s->path);
    free(s->workers);
    free(s->slots);
    free(s);
    pt_log(PT_LOG_INFO, "server", "stopped");
    return rc;
}
