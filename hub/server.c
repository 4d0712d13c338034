/* The server: one worker on the default libev loop (epoll), its listeners, and the two
 * signals that matter. A reload reads and validates the new config on a thread of its own,
 * so the loop never waits for the file, then swaps the snapshot on the loop. */
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "config.h"
#include "conn.h"
#include "errors.h"
#include "h2.h"
#include "listen.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "worker.h"
#include "ws.h"

struct server {
    struct pt_worker worker;
    struct pt_listener *listeners;
    size_t nlisteners;
    char *path;
    ev_signal sigterm, sigint, sighup;
    ev_timer drain_check;
    ev_async reloaded;
    pthread_mutex_t lock;      /* guards the reload hand-over below */
    struct pt_config *pending; /* a reloaded config waiting for the loop */
    struct pt_errors pending_errors;
    bool reloading;
};

/* ---- Drain ---- */

static void on_drain_check(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct server *s = t->data;
    struct pt_worker *w = &s->worker;
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

static void start_drain(struct server *s)
{
    struct pt_worker *w = &s->worker;
    struct pt_conn *c, *next;

    if (w->draining)
        return;
    pt_log(PT_LOG_INFO, "server", "draining %zu connections", w->nconns);
    w->draining = true;
    w->drain_deadline = ev_now(w->loop) + (double)w->cfg->limits.drain_s;
    pt_listen_close(s->listeners, s->nlisteners, w);
    s->listeners = NULL;
    for (c = w->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == PT_CONN_WS)
            pt_ws_close(c, 1001, "Going away"); /* queued after what is already queued */
        else if (c->state == PT_CONN_H2)
            pt_h2_drain(c);
        else if (c->state == PT_CONN_WS_PENDING || (c->state == PT_CONN_HTTP && c->http == NULL))
            pt_conn_destroy(c);
    }
    ev_timer_init(&s->drain_check, on_drain_check, 0.0, 0.05);
    s->drain_check.data = s;
    ev_timer_start(w->loop, &s->drain_check);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *sig, int revents)
{
    start_drain(sig->data);
}

/* ---- Reload ---- */

static void *reload_thread(void *arg)
{
    struct server *s = arg;
    struct pt_errors errs;
    struct pt_config *cfg;

    pt_errors_init(&errs, s->path);
    cfg = pt_config_load(s->path, &errs);
    pthread_mutex_lock(&s->lock);
    s->pending = cfg;
    s->pending_errors = errs;
    pthread_mutex_unlock(&s->lock);
    ev_async_send(s->worker.loop, &s->reloaded);
    return NULL;
}

static void on_reloaded(struct ev_loop *loop, ev_async *a, int revents)
{
    struct server *s = a->data;
    struct pt_config *cfg;
    struct pt_errors errs;
    size_t i;

    pthread_mutex_lock(&s->lock);
    cfg = s->pending;
    errs = s->pending_errors;
    s->pending = NULL;
    pt_errors_init(&s->pending_errors, NULL);
    s->reloading = false;
    pthread_mutex_unlock(&s->lock);
    if (cfg == NULL) {
        pt_log(PT_LOG_ERR, "reload", "new config rejected; keeping the old one");
        for (i = 0; i < errs.count; i++)
            pt_log(PT_LOG_ERR, "reload", "%s", errs.lines[i]);
    } else {
        pt_worker_set_config(&s->worker, cfg);
        pt_config_unref(cfg);
        pt_log(PT_LOG_INFO, "reload", "config reloaded from %s", s->path);
    }
    pt_errors_cleanup(&errs);
}

static void on_sighup(struct ev_loop *loop, ev_signal *sig, int revents)
{
    struct server *s = sig->data;
    pthread_t t;
    bool busy;

    pthread_mutex_lock(&s->lock);
    busy = s->reloading;
    s->reloading = true;
    pthread_mutex_unlock(&s->lock);
    if (busy || s->worker.draining)
        return;
    if (pthread_create(&t, NULL, reload_thread, s) != 0) {
        pt_log(PT_LOG_ERR, "reload", "cannot start the reload thread");
        s->reloading = false;
        return;
    }
    pthread_detach(t);
}

/* ---- Run ---- */

int pt_server_run(struct pt_config *cfg, const char *path)
{
    struct ev_loop *loop = ev_default_loop(EVBACKEND_EPOLL | EVFLAG_NOENV);
    struct server *s = pt_xcalloc(1, sizeof(*s));

    if (loop == NULL) {
        pt_log(PT_LOG_ERR, "server", "cannot create the event loop");
        free(s);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    s->path = pt_xstrdup(path);
    pthread_mutex_init(&s->lock, NULL);
    pt_errors_init(&s->pending_errors, NULL);
    s->listeners = pt_listen_open(cfg, &s->nlisteners);
    if (s->listeners == NULL) {
        free(s->path);
        free(s);
        return 1;
    }
    pt_worker_init(&s->worker, loop, cfg);
    pt_listen_start(s->listeners, s->nlisteners, &s->worker);
    ev_signal_init(&s->sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&s->sigint, on_stop_signal, SIGINT);
    ev_signal_init(&s->sighup, on_sighup, SIGHUP);
    s->sigterm.data = s->sigint.data = s->sighup.data = s;
    ev_signal_start(loop, &s->sigterm);
    ev_signal_start(loop, &s->sigint);
    ev_signal_start(loop, &s->sighup);
    ev_async_init(&s->reloaded, on_reloaded);
    s->reloaded.data = s;
    ev_async_start(loop, &s->reloaded);
    pt_log(PT_LOG_INFO, "server", "portico ready (config %s)", path);

    ev_run(loop, 0);

    pt_listen_close(s->listeners, s->nlisteners, &s->worker);
    ev_timer_stop(loop, &s->drain_check);
    ev_signal_stop(loop, &s->sigterm);
    ev_signal_stop(loop, &s->sigint);
    ev_signal_stop(loop, &s->sighup);
    ev_async_stop(loop, &s->reloaded);
    pt_worker_cleanup(&s->worker);
    pthread_mutex_destroy(&s->lock);
    pt_errors_cleanup(&s->pending_errors);
    free(s->path);
    free(s);
    ev_loop_destroy(loop);
    pt_log(PT_LOG_INFO, "server", "stopped");
    return 0;
}
