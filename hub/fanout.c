/* Channel operations that span every worker: a publish reaches subscribers on all of them,
 * presence and the connection listing gather from all of them. The origin worker sends one
 * mail per other worker and counts the answers; only the origin touches the gather's tally,
 * the others only read its immutable request part, which outlives every answer. */
#include "fanout.h"

#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "cluster.h"
#include "conn.h"
#include "mailbox.h"
#include "portico/buf.h"
#include "portico/xalloc.h"
#include "worker.h"
#include "ws.h"

enum gather_kind { GATHER_PUBLISH, GATHER_PRESENCE };

struct pt_fanout {
    /* Immutable once posted: read by every worker. */
    enum gather_kind kind;
    struct pt_worker *origin;
    char *api, *stage, *name;
    void *data;
    size_t len;
    bool binary;
    /* The origin's alone: */
    unsigned remaining;
    long delivered;
    struct pt_buf ids; /* presence: "\"id\",\"id\"" */
    size_t count;
    pt_fanout_done_fn *done;
    void *ud;
    bool cancelled;
};

struct answer {
    struct pt_fanout *f;
    long delivered;
    struct pt_buf ids;
    size_t count;
};

static void fanout_free(struct pt_fanout *f)
{
    free(f->api);
    free(f->stage);
    free(f->name);
    free(f->data);
    pt_buf_cleanup(&f->ids);
    free(f);
}

static void complete(struct pt_fanout *f)
{
    if (!f->cancelled)
        f->done(f->origin, f->ud, f->delivered, f->count, f->ids.data ? f->ids.data : "");
    fanout_free(f);
}

/* The local part, on whichever worker runs it. */
static void run_local(struct pt_worker *w, const struct pt_fanout *f, struct answer *a)
{
    if (f->kind == GATHER_PUBLISH)
        a->delivered =
            pt_channel_publish_local(w, f->api, f->stage, f->name, f->data, f->len, f->binary);
    else
        a->count = pt_channel_members(w, f->api, f->stage, f->name, &a->ids);
}

static void merge(struct pt_fanout *f, struct answer *a)
{
    f->delivered += a->delivered;
    if (a->count > 0) {
        if (f->count > 0)
            pt_buf_putc(&f->ids, ',');
        pt_buf_append(&f->ids, a->ids.data, a->ids.len);
        f->count += a->count;
    }
}

static void on_answer(struct pt_worker *w, void *arg)
{
    struct answer *a = arg;
    struct pt_fanout *f = a->f;

    merge(f, a);
    pt_buf_cleanup(&a->ids);
    free(a);
    if (--f->remaining == 0)
        complete(f);
}

static void on_request(struct pt_worker *w, void *arg)
{
    struct answer *a = arg;

    run_local(w, a->f, a);
    pt_mailbox_post(a->f->origin, on_answer, a);
}

static struct pt_fanout *start(struct pt_worker *w, enum gather_kind kind, const char *api,
                               const char *stage, const char *name, pt_fanout_done_fn *done,
                               void *ud)
{
    struct pt_fanout *f = pt_xcalloc(1, sizeof(*f));

    f->kind = kind;
    f->origin = w;
    f->api = pt_xstrdup(api);
    f->stage = pt_xstrdup(stage);
    f->name = pt_xstrdup(name);
    f->done = done;
    f->ud = ud;
    pt_buf_init(&f->ids);
    return f;
}

/* Runs the local part now, and the others' through their mailboxes. Completes at once when
 * this is the only worker; returns NULL then. */
static struct pt_fanout *go(struct pt_worker *w, struct pt_fanout *f)
{
    struct answer local = {f};
    unsigned i;

    pt_buf_init(&local.ids);
    f->remaining = w->npeers > 0 ? w->npeers - 1 : 0;
    for (i = 0; i < w->npeers; i++) {
        struct answer *a;

        if (w->peers[i] == w)
            continue;
        a = pt_xcalloc(1, sizeof(*a));
        a->f = f;
        pt_buf_init(&a->ids);
        pt_mailbox_post(w->peers[i], on_request, a);
    }
    run_local(w, f, &local);
    merge(f, &local);
    pt_buf_cleanup(&local.ids);
    if (f->remaining == 0) {
        complete(f);
        return NULL;
    }
    return f;
}

/* ---- Cluster mode: Redis reaches every worker of every node ---- */

static char *channel_key(const struct pt_fanout *f)
{
    struct pt_buf k;

    pt_buf_init(&k);
    pt_buf_printf(&k, "%s\n%s\n%s", f->api, f->stage, f->name);
    return pt_buf_take(&k, NULL);
}

static void on_cluster_published(struct pt_worker *w, void *ud, long delivered)
{
    struct pt_fanout *f = ud;

    f->delivered = delivered; /* -1: Redis is down */
    if (--f->remaining == 0)
        complete(f);
}

static void on_cluster_presence(struct pt_worker *w, void *ud, long count, const char *ids,
                                const char *next)
{
    struct pt_fanout *f = ud;

    f->delivered = count < 0 ? -1 : 0;
    f->count = count < 0 ? 0 : (size_t)count;
    pt_buf_puts(&f->ids, ids);
    if (--f->remaining == 0)
        complete(f);
}

/* Like go(), through Redis; returns NULL when it completed at once. */
static struct pt_fanout *go_cluster(struct pt_worker *w, struct pt_fanout *f)
{
    char *key = channel_key(f);

    f->remaining = 2; /* the answer, and this function returning */
    if (f->kind == GATHER_PUBLISH)
        pt_cluster_publish(w, key, f->data, f->len, f->binary, on_cluster_published, f);
    else
        pt_cluster_subscribers(w, key, on_cluster_presence, f);
    free(key);
    if (--f->remaining == 0) {
        complete(f);
        return NULL;
    }
    return f;
}

struct pt_fanout *pt_fanout_publish(struct pt_worker *w, const char *api, const char *stage,
                                    const char *name, const void *data, size_t len, bool binary,
                                    pt_fanout_done_fn *done, void *ud)
{
    struct pt_fanout *f = start(w, GATHER_PUBLISH, api, stage, name, done, ud);

    f->data = pt_xmalloc(len ? len : 1);
    if (len)
        memcpy(f->data, data, len);
    f->len = len;
    f->binary = binary;
    return w->cluster != NULL ? go_cluster(w, f) : go(w, f);
}

struct pt_fanout *pt_fanout_presence(struct pt_worker *w, const char *api, const char *stage,
                                     const char *name, pt_fanout_done_fn *done, void *ud)
{
    struct pt_fanout *f = start(w, GATHER_PRESENCE, api, stage, name, done, ud);

    return w->cluster != NULL ? go_cluster(w, f) : go(w, f);
}

void pt_fanout_cancel(struct pt_fanout *f)
{
    f->cancelled = true;
}
