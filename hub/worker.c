/* A worker's loop-turn machinery: before the loop waits, deferred call completions run, then
 * every connection with queued output is flushed once (so a turn's messages to one client
 * leave in one writev). Also the WebSocket slot table. */
#include "worker.h"

#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "call.h"
#include "channel.h"
#include "cluster.h"
#include "config.h"
#include "conn.h"
#include "jwks_cache.h"
#include "metrics.h"
#include "offload.h"
#include "policy.h"
#include "portico/xalloc.h"
#include "resolve.h"
#include "sweep.h"
#include "upstream_pool.h"

#define READ_BUFFER_BYTES 65536

static void on_prepare(struct ev_loop *loop, ev_prepare *p, int revents)
{
    struct pt_worker *w = p->data;
    struct pt_conn *c;

    pt_callx_run_deferred(w);
    pt_accesslog_flush(w);
    while ((c = w->flush_head) != NULL) {
        w->flush_head = c->flush_next;
        if (w->flush_head != NULL)
            w->flush_head->flush_prev = NULL;
        c->in_flush = 0;
        c->flush_next = c->flush_prev = NULL;
        pt_conn_flush(c);
    }
}

void pt_worker_init(struct pt_worker *w, struct ev_loop *loop, struct pt_config *cfg)
{
    memset(w, 0, sizeof(*w));
    pt_buf_init(&w->alog_buf);
    w->loop = loop;
    w->cfg = pt_config_ref(cfg);
    w->rbuf_len = READ_BUFFER_BYTES;
    w->rbuf = pt_xmalloc(w->rbuf_len);
    ev_prepare_init(&w->prepare, on_prepare);
    w->prepare.data = w;
    ev_prepare_start(loop, &w->prepare);
    pt_sweep_start(w);
    pt_mailbox_init(&w->mailbox, loop, w);
    w->offload = pt_offload_queue_new(loop);
    w->resolver = pt_resolver_new(loop, w->offload);
}

void pt_worker_cleanup(struct pt_worker *w)
{
    pt_cluster_stop(w);
    ev_prepare_stop(w->loop, &w->prepare);
    pt_sweep_stop(w);
    pt_upstream_pool_cleanup(w);
    pt_channel_cleanup(w);
    pt_jwks_cache_cleanup(w);
    pt_policy_cache_cleanup(w);
    pt_metrics_cleanup(w);
    pt_mailbox_cleanup(&w->mailbox, w->loop, w);
    pt_accesslog_flush(w); /* the last lines, disconnects of the drain included */
    pt_buf_cleanup(&w->alog_buf);
    pt_offload_queue_free(w->offload);
    pt_resolver_free(w->resolver);
    pt_config_unref(w->cfg);
    free(w->rbuf);
    free(w->slots);
    free(w->free_slots);
    w->cfg = NULL;
}

void pt_worker_set_config(struct pt_worker *w, struct pt_config *cfg)
{
    struct pt_config *old = w->cfg;

    w->cfg = pt_config_ref(cfg);
    w->cfg_gen++;
    pt_config_unref(old);
    /* Cached authorizer verdicts belong to the old config: a reload that revokes must bite. */
    pt_policy_cache_cleanup(w);
}

uint32_t pt_worker_slot_alloc(struct pt_worker *w, struct pt_conn *c)
{
    uint32_t slot;

    if (w->nfree > 0) {
        slot = w->free_slots[--w->nfree];
    } else {
        if (w->nslots == w->slot_cap) {
            w->slot_cap = w->slot_cap ? w->slot_cap * 2 : 1024;
            w->slots = pt_xrealloc(w->slots, (size_t)w->slot_cap * sizeof(*w->slots));
            w->free_slots =
                pt_xrealloc(w->free_slots, (size_t)w->slot_cap * sizeof(*w->free_slots));
        }
        slot = w->nslots++;
    }
    w->slots[slot] = c;
    return slot;
}

void pt_worker_slot_free(struct pt_worker *w, uint32_t slot)
{
    w->slots[slot] = NULL;
    w->free_slots[w->nfree++] = slot;
}

struct pt_conn *pt_worker_slot_get(const struct pt_worker *w, uint32_t slot)
{
    return slot < w->nslots ? w->slots[slot] : NULL;
}
