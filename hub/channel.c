/* Channels (see channel.h): a hash table of channels per worker, each with an array of
 * subscribers; each connection keeps its memberships with its index in those arrays, so a
 * subscriber leaves by swapping the last one into its place. */
#include "channel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "cluster.h"
#include "config.h"
#include "conn.h"
#include "fanout.h"
#include "metrics.h"
#include "msg.h"
#include "portico/channel.h"
#include "portico/err.h"
#include "portico/hash.h"
#include "portico/xalloc.h"
#include "worker.h"
#include "ws.h"
#include "wsframe.h"

struct pt_chan {
    char *key; /* owned: "api\nstage\nname" */
    uint64_t hash;
    struct pt_conn **subs; /* owned array of borrowed connections */
    size_t nsubs, cap;
    struct pt_chan *next; /* bucket chain */
};

struct pt_chanmap {
    struct pt_chan **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

bool pt_channel_name_ok(const char *name)
{
    size_t n = 0;

    for (; name[n] != '\0'; n++)
        if ((unsigned char)name[n] <= ' ' || name[n] == '/' || name[n] == 0x7f ||
            n >= PT_CHANNEL_NAME_MAX)
            return false;
    return n > 0;
}

static char *make_key(const char *api, const char *stage, const char *name)
{
    size_t a = strlen(api), s = strlen(stage), n = strlen(name);
    char *k = pt_xmalloc(a + s + n + 3);

    memcpy(k, api, a);
    k[a] = '\n';
    memcpy(k + a + 1, stage, s);
    k[a + 1 + s] = '\n';
    memcpy(k + a + s + 2, name, n + 1);
    return k;
}

static struct pt_chanmap *map_of(struct pt_worker *w)
{
    if (w->chans == NULL) {
        w->chans = pt_xcalloc(1, sizeof(*w->chans));
        w->chans->nbuckets = 64;
        w->chans->buckets = pt_xcalloc(64, sizeof(*w->chans->buckets));
    }
    return w->chans;
}

static struct pt_chan *find(struct pt_chanmap *m, const char *key, uint64_t h)
{
    struct pt_chan *ch;

    for (ch = m->buckets[h & (m->nbuckets - 1)]; ch != NULL; ch = ch->next)
        if (ch->hash == h && strcmp(ch->key, key) == 0)
            return ch;
    return NULL;
}

static void grow(struct pt_chanmap *m)
{
    size_t i, n = m->nbuckets * 2;
    struct pt_chan **b = pt_xcalloc(n, sizeof(*b)), *ch, *next;

    for (i = 0; i < m->nbuckets; i++)
        for (ch = m->buckets[i]; ch != NULL; ch = next) {
            next = ch->next;
            ch->next = b[ch->hash & (n - 1)];
            b[ch->hash & (n - 1)] = ch;
        }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

static void remove_chan(struct pt_chanmap *m, struct pt_chan *ch)
{
    struct pt_chan **pp = &m->buckets[ch->hash & (m->nbuckets - 1)];

    while (*pp != ch)
        pp = &(*pp)->next;
    *pp = ch->next;
    m->count--;
    free(ch->key);
    free(ch->subs);
    free(ch);
}

static struct pt_chan_member *membership(struct pt_ws *ws, const struct pt_chan *ch)
{
    size_t i;

    for (i = 0; i < ws->chans.n; i++)
        if (ws->chans.items[i].chan == ch)
            return &ws->chans.items[i];
    return NULL;
}

int pt_channel_join(struct pt_worker *w, struct pt_conn *c, const char *name)
{
    struct pt_chanmap *m;
    struct pt_ws *ws = c->ws;
    struct pt_chan *ch;
    char *key;
    uint64_t h;

    if (!pt_channel_name_ok(name))
        return PT_EINVAL;
    m = map_of(w);
    key = make_key(ws->api_name, ws->stage_name, name);
    h = pt_hash_str(key);
    ch = find(m, key, h);
    if (ch == NULL) {
        if (m->count >= m->nbuckets)
            grow(m);
        ch = pt_xcalloc(1, sizeof(*ch));
        ch->key = key;
        ch->hash = h;
        ch->next = m->buckets[h & (m->nbuckets - 1)];
        m->buckets[h & (m->nbuckets - 1)] = ch;
        m->count++;
        pt_cluster_watch(w, ch->key, true); /* the first subscriber on this worker */
    } else {
        free(key);
        if (membership(ws, ch) != NULL)
            return 0;
    }
    if (ch->nsubs == ch->cap) {
        ch->cap = ch->cap ? ch->cap * 2 : 4;
        ch->subs = pt_xrealloc(ch->subs, ch->cap * sizeof(*ch->subs));
    }
    if (ws->chans.n == ws->chans.cap) {
        ws->chans.cap = ws->chans.cap ? ws->chans.cap * 2 : 2;
        ws->chans.items = pt_xrealloc(ws->chans.items, ws->chans.cap * sizeof(*ws->chans.items));
    }
    ws->chans.items[ws->chans.n++] = (struct pt_chan_member){ch, ch->nsubs};
    ch->subs[ch->nsubs++] = c;
    pt_cluster_presence(w, ch->key, ws->id, true);
    return 0;
}

/* Removes membership <i> of <c>: the channel's last subscriber takes the freed place. */
static void leave_at(struct pt_worker *w, struct pt_conn *c, size_t i)
{
    struct pt_ws *ws = c->ws;
    struct pt_chan_member mem = ws->chans.items[i];
    struct pt_chan *ch = mem.chan;
    struct pt_conn *moved;

    ws->chans.items[i] = ws->chans.items[--ws->chans.n];
    moved = ch->subs[--ch->nsubs];
    if (mem.index < ch->nsubs) {
        ch->subs[mem.index] = moved;
        membership(moved->ws, ch)->index = mem.index;
    }
    pt_cluster_presence(w, ch->key, ws->id, false);
    if (ch->nsubs == 0) {
        pt_cluster_watch(w, ch->key, false);
        remove_chan(w->chans, ch);
    }
}

int pt_channel_leave(struct pt_worker *w, struct pt_conn *c, const char *name)
{
    struct pt_ws *ws = c->ws;
    struct pt_chan *ch;
    char *key;
    size_t i;

    if (!pt_channel_name_ok(name))
        return PT_EINVAL;
    if (w->chans == NULL)
        return 0;
    key = make_key(ws->api_name, ws->stage_name, name);
    ch = find(w->chans, key, pt_hash_str(key));
    free(key);
    for (i = 0; ch != NULL && i < ws->chans.n; i++)
        if (ws->chans.items[i].chan == ch) {
            leave_at(w, c, i);
            break;
        }
    return 0;
}

void pt_channel_leave_all(struct pt_worker *w, struct pt_conn *c)
{
    struct pt_ws *ws = c->ws;

    while (ws->chans.n > 0)
        leave_at(w, c, ws->chans.n - 1);
    free(ws->chans.items);
    ws->chans.items = NULL;
    ws->chans.cap = 0;
}

static struct pt_chan *lookup(struct pt_worker *w, const char *api, const char *stage,
                              const char *name)
{
    struct pt_chan *ch;
    char *key;

    if (w->chans == NULL)
        return NULL;
    key = make_key(api, stage, name);
    ch = find(w->chans, key, pt_hash_str(key));
    free(key);
    return ch;
}

long pt_channel_publish_local(struct pt_worker *w, const char *api, const char *stage,
                              const char *name, const void *data, size_t len, bool binary)
{
    struct pt_chan *ch = lookup(w, api, stage, name);
    long long limit = w->cfg->limits.send_queue_bytes;
    long long now_ms = (long long)(ev_now(w->loop) * 1000.0);
    struct pt_msg *m;
    long delivered = 0;
    size_t i;

    if (ch == NULL)
        return 0;
    /* Framed once; every subscriber's queue takes a reference. */
    m = pt_msg_ws_frame(binary ? PT_WS_BINARY : PT_WS_TEXT, data, len);
    for (i = 0; i < ch->nsubs; i++) {
        struct pt_conn *c = ch->subs[i];

        if (c->state != PT_CONN_WS)
            continue;
        if ((long long)(c->out_bytes + m->len) > limit) {
            /* A slow consumer: what it has queued still goes out, then it is closed. */
            pt_ws_close(c, 1008, "Slow consumer");
            continue;
        }
        pt_conn_send(c, m);
        c->ws->last_active_ms = now_ms;
        delivered++;
    }
    pt_msg_unref(m);
    pt_metrics_get(w, api, stage, "@channels")->deliveries += (uint64_t)delivered;
    return delivered;
}

size_t pt_channel_members(struct pt_worker *w, const char *api, const char *stage, const char *name,
                          struct pt_buf *ids)
{
    struct pt_chan *ch = lookup(w, api, stage, name);
    size_t i, n = 0;

    for (i = 0; ch != NULL && i < ch->nsubs; i++) {
        if (ch->subs[i]->state != PT_CONN_WS)
            continue;
        pt_buf_printf(ids, "%s\"%s\"", n++ ? "," : "", ch->subs[i]->ws->id);
    }
    return n;
}

size_t pt_channel_list(struct pt_worker *w, const char *api, const char *stage, uint32_t *slot,
                       size_t limit, struct pt_buf *ids)
{
    size_t n = 0;

    for (; *slot < w->nslots; (*slot)++) {
        struct pt_conn *c = w->slots[*slot];

        if (c == NULL || c->state != PT_CONN_WS || strcmp(c->ws->api_name, api) != 0 ||
            strcmp(c->ws->stage_name, stage) != 0)
            continue;
        if (n == limit)
            break;
        pt_buf_printf(ids, "%s\"%s\"", n++ ? "," : "", c->ws->id);
    }
    return n;
}

void pt_channel_resync(struct pt_worker *w)
{
    struct pt_chan *ch;
    size_t i, j;

    for (i = 0; w->chans != NULL && i < w->chans->nbuckets; i++)
        for (ch = w->chans->buckets[i]; ch != NULL; ch = ch->next) {
            pt_cluster_watch(w, ch->key, true);
            for (j = 0; j < ch->nsubs; j++)
                pt_cluster_presence(w, ch->key, ch->subs[j]->ws->id, true);
        }
}

void pt_channel_cleanup(struct pt_worker *w)
{
    struct pt_chanmap *m = w->chans;
    struct pt_chan *ch, *next;
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nbuckets; i++)
        for (ch = m->buckets[i]; ch != NULL; ch = next) {
            next = ch->next;
            free(ch->key);
            free(ch->subs);
            free(ch);
        }
    free(m->buckets);
    free(m);
    w->chans = NULL;
}

/* ---- For the CHANNEL integration (include/portico/channel.h) ---- */

int pt_channel_subscribe(struct pt_call *call, const char *channel)
{
    struct pt_callx *x = (struct pt_callx *)call;

    if (x->conn == NULL || x->conn->state != PT_CONN_WS)
        return PT_EGONE;
    return pt_channel_join(x->w, x->conn, channel);
}

int pt_channel_unsubscribe(struct pt_call *call, const char *channel)
{
    struct pt_callx *x = (struct pt_callx *)call;

    if (x->conn == NULL || x->conn->state != PT_CONN_WS)
        return PT_EGONE;
    return pt_channel_leave(x->w, x->conn, channel);
}

static void on_published(struct pt_worker *w, void *ud, long delivered, size_t count,
                         const char *ids)
{
    struct pt_callx *x = ud;
    pt_channel_done_fn *done = x->channel_done;

    x->fanout = NULL;
    done(&x->pub, delivered);
}

int pt_channel_publish(struct pt_call *call, const char *channel, const void *data, size_t len,
                       bool binary, pt_channel_done_fn *done)
{
    struct pt_callx *x = (struct pt_callx *)call;
    struct pt_fanout *f;

    if (!pt_channel_name_ok(channel))
        return PT_EINVAL;
    x->channel_done = done;
    /* With one worker <done> has run (and may have freed the call) when this returns NULL. */
    f = pt_fanout_publish(x->w, x->req.api_name, x->req.stage, channel, data, len, binary,
                          on_published, x);
    if (f != NULL)
        x->fanout = f;
    return 0;
}

void pt_channel_publish_cancel(struct pt_call *call)
{
    struct pt_callx *x = (struct pt_callx *)call;

    if (x->fanout != NULL)
        pt_fanout_cancel(x->fanout);
    x->fanout = NULL;
}
