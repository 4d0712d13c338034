/* The per-worker sweep (see sweep.h). */
#include "sweep.h"

#include "conn.h"
#include "http.h"
#include "worker.h"
#include "ws.h"

#define LINGER_S         2.0 /* how long a closing peer may take to close its side */
#define KEEPALIVE_IDLE_S 60  /* an idle HTTP keep-alive connection */
#define REQUEST_READ_S   30  /* a request head or body that trickles in */

static void on_sweep(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pt_worker *w = t->data;
    struct pt_conn *c, *next;
    double now = ev_now(loop);

    for (c = w->conns; c != NULL; c = next) {
        next = c->next;
        if (c->lingering) {
            if (now - c->last_active > LINGER_S)
                pt_conn_destroy(c);
        } else if (c->state == PT_CONN_H2) {
            /* Streams are bounded by their calls' deadlines; a silent session goes. */
            if (now - c->last_active > 5 * KEEPALIVE_IDLE_S)
                pt_conn_destroy(c);
        } else if (c->state == PT_CONN_WS) {
            pt_ws_sweep(c, now);
        } else if (c->state == PT_CONN_HTTP) {
            double limit = c->http != NULL ? REQUEST_READ_S : KEEPALIVE_IDLE_S;

            if (now - c->last_active > limit)
                pt_conn_destroy(c);
        }
    }
}

void pt_sweep_start(struct pt_worker *w)
{
    ev_timer_init(&w->sweep, on_sweep, PT_SWEEP_PERIOD_S, PT_SWEEP_PERIOD_S);
    w->sweep.data = w;
    ev_timer_start(w->loop, &w->sweep);
}

void pt_sweep_stop(struct pt_worker *w)
{
    ev_timer_stop(w->loop, &w->sweep);
}
