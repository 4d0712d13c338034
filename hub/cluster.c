/* Cluster mode (see cluster.h): inboxes, calls between workers of different nodes, channels,
 * presence and the stages' connection sets in Redis. */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <ev.h>
#include <hiredis/hiredis.h>

#include "channel.h"
#include "cluster_lease.h"
#include "cluster_usage.h"
#include "config.h"
#include "conn.h"
#include "conn_ops.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "redis_link.h"
#include "worker.h"
#include "ws.h"

#define CALL_TIMEOUT_S       5.0
#define INBOX_PREFIX         "portico:in:"
#define CHANNEL_PREFIX       "portico:ch:"
#define PRESENCE_PREFIX      "portico:pr:"
#define STAGE_PREFIX         "portico:st:"
#define CONN_PREFIX          "portico:conn:"
#define CONN_CHANNELS_PREFIX "portico:cc:"
#define NODE_CONNS_PREFIX    "portico:nc:"

/* SCARD and PUBLISH in one step, so the count is the subscribers the message reached. */
static const char publish_script[] =
    "local n = redis.call('SCARD', KEYS[1]) redis.call('PUBLISH', KEYS[2], ARGV[1]) return n";

struct pt_cluster_call {
    uint64_t serial;
    struct pt_worker *w;
    pt_cluster_reply_fn *fn;
    void *ud;
    ev_timer deadline;
    struct pt_cluster_call *prev, *next;
};

struct pt_cluster {
    struct pt_redis_link *link;
    const struct pt_cluster_cfg *cfg;
    char self[48];  /* "node:run": this process in Redis's sets of nodes */
    ev_timer lease; /* worker 0: renewing the lease and reaping (cluster_lease.c) */
    ev_timer usage; /* worker 0: sharing usage-plan counts (cluster_usage.c) */
    char inbox[48];
    uint64_t next_serial;
    struct pt_cluster_call *calls; /* waiting for their answers */
};

bool pt_cluster_up(const struct pt_worker *w)
{
    return w->cluster != NULL && pt_redis_link_up(w->cluster->link);
}

/* ---- Wire format: a kind byte, a serial, then length-prefixed fields ---- */

static void put_u64(struct pt_buf *b, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--)
        pt_buf_putc(b, (char)(v >> (i * 8)));
}

static uint64_t get_u64(const char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | (uint8_t)p[i];
    return v;
}

static void inbox_name(char *out, size_t n, uint16_t node, unsigned worker)
{
    snprintf(out, n, INBOX_PREFIX "%u:%u", (unsigned)node, worker);
}

/* ---- Calls ---- */

static struct pt_cluster_call *find_call(struct pt_cluster *cl, uint64_t serial)
{
    struct pt_cluster_call *c;

    for (c = cl->calls; c != NULL; c = c->next)
        if (c->serial == serial)
            return c;
    return NULL;
}

/* Unlinks <c> and runs its continuation. */
static void end_call(struct pt_cluster_call *c, int err, const char *data, size_t len)
{
    struct pt_cluster *cl = c->w->cluster;

    ev_timer_stop(c->w->loop, &c->deadline);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        cl->calls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->fn(c->w, c->ud, err, data, len);
    free(c);
}

static void on_call_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
    end_call(t->data, PT_ETIMEDOUT, NULL, 0);
}

/* PUBLISH answers how many subscribers the request reached: none means nobody listens. */
static void on_call_published(struct pt_worker *w, void *r, void *ud)
{
    redisReply *reply = r;
    struct pt_cluster_call *c;

    if (w->cluster == NULL || (c = find_call(w->cluster, (uint64_t)(uintptr_t)ud)) == NULL)
        return;
    if (reply == NULL)
        end_call(c, PT_EUNAVAILABLE, NULL, 0);
    else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0)
        end_call(c, PT_EGONE, NULL, 0);
}

static bool publish(struct pt_worker *w, const char *channel, size_t clen, const char *data,
                    size_t len, pt_redis_reply_fn *fn, void *ud)
{
    const char *argv[3] = {"PUBLISH", channel, data};
    size_t lens[3] = {7, clen, len};

    return pt_redis_command(w->cluster->link, fn, ud, 3, argv, lens);
}

void pt_cluster_call(struct pt_worker *w, uint16_t node, uint8_t worker,
                     const struct pt_buf *request, pt_cluster_reply_fn *fn, void *ud)
{
    struct pt_cluster *cl = w->cluster;
    struct pt_cluster_call *c;
    struct pt_buf msg;
    char to[48];

    if (!pt_cluster_up(w)) {
        fn(w, ud, PT_EUNAVAILABLE, NULL, 0);
        return;
    }
    c = pt_xcalloc(1, sizeof(*c));
    c->serial = ++cl->next_serial;
    c->w = w;
    c->fn = fn;
    c->ud = ud;
    ev_timer_init(&c->deadline, on_call_deadline, CALL_TIMEOUT_S, 0.0);
    c->deadline.data = c;
    ev_timer_start(w->loop, &c->deadline);
    c->next = cl->calls;
    if (cl->calls != NULL)
        cl->calls->prev = c;
    cl->calls = c;
    pt_buf_init(&msg);
    pt_buf_putc(&msg, 'Q');
    put_u64(&msg, c->serial);
    pt_buf_putc(&msg, (char)strlen(cl->inbox));
    pt_buf_puts(&msg, cl->inbox);
    pt_buf_append(&msg, request->data, request->len);
    inbox_name(to, sizeof(to), node, worker);
    if (!publish(w, to, strlen(to), msg.data, msg.len, on_call_published,
                 (void *)(uintptr_t)c->serial))
        end_call(c, PT_EUNAVAILABLE, NULL, 0);
    pt_buf_cleanup(&msg);
}

/* A request for this worker: run it, answer to the caller's inbox. */
static void serve(struct pt_worker *w, const char *p, size_t n)
{
    struct pt_buf answer, msg;
    size_t rlen;

    if (n < 10 || (rlen = (uint8_t)p[9]) + 10 > n)
        return;
    pt_buf_init(&answer);
    pt_conn_op_serve(w, p + 10 + rlen, n - 10 - rlen, &answer);
    pt_buf_init(&msg);
    pt_buf_putc(&msg, 'R');
    pt_buf_append(&msg, p + 1, 8);
    pt_buf_append(&msg, answer.data, answer.len);
    publish(w, p + 10, rlen, msg.data, msg.len, NULL, NULL);
    pt_buf_cleanup(&msg);
    pt_buf_cleanup(&answer);
}

/* ---- Messages ---- */

static void on_message(struct pt_worker *w, const char *channel, size_t clen, const char *p,
                       size_t n)
{
    struct pt_cluster_call *c;
    const char *key, *nl1, *nl2;
    char *api, *stage, *name;
    size_t klen, plen = strlen(CHANNEL_PREFIX);

    if (w->cluster == NULL)
        return;
    if (clen > plen && memcmp(channel, CHANNEL_PREFIX, plen) == 0 && n >= 1) {
        key = channel + plen;
        klen = clen - plen;
        nl1 = memchr(key, '\n', klen);
        nl2 = nl1 != NULL ? memchr(nl1 + 1, '\n', klen - (size_t)(nl1 + 1 - key)) : NULL;
        if (nl2 == NULL)
            return;
        api = pt_xstrndup(key, (size_t)(nl1 - key));
        stage = pt_xstrndup(nl1 + 1, (size_t)(nl2 - nl1 - 1));
        name = pt_xstrndup(nl2 + 1, klen - (size_t)(nl2 + 1 - key));
        pt_channel_publish_local(w, api, stage, name, p + 1, n - 1, p[0] == 'b');
        free(api);
        free(stage);
        free(name);
        return;
    }
    if (n >= 9 && p[0] == 'Q')
        serve(w, p, n);
    else if (n >= 9 && p[0] == 'R' && (c = find_call(w->cluster, get_u64(p + 1))) != NULL)
        end_call(c, 0, p + 9, n - 9);
}

/* ---- Channels, presence, stage sets ---- */

/* Presence and records: nothing is sent while the link is down; what was missed is made good
 * when it comes back up (on_up). */
#define WORDS(w, ...) PT_CLUSTER_SEND((w), NULL, NULL, __VA_ARGS__)

void pt_cluster_presence(struct pt_worker *w, const char *key, const char *id, bool add)
{
    struct pt_buf pres, cc;

    if (w->cluster == NULL)
        return;
    pt_buf_init(&pres);
    pt_buf_init(&cc);
    pt_buf_printf(&pres, PRESENCE_PREFIX "%s", key);
    pt_buf_printf(&cc, CONN_CHANNELS_PREFIX "%s", id);
    WORDS(w, add ? "SADD" : "SREM", pres.data, id);
    WORDS(w, add ? "SADD" : "SREM", cc.data, key); /* for reaping: the channels to leave */
    pt_buf_cleanup(&pres);
    pt_buf_cleanup(&cc);
}

void pt_cluster_member(struct pt_worker *w, struct pt_conn *c, bool add)
{
    struct pt_ws *ws = c->ws;
    struct pt_buf stage, rec, cc, mine, auth;
    char ip[46], at[24];

    if (w->cluster == NULL)
        return;
    pt_buf_init(&stage);
    pt_buf_init(&rec);
    pt_buf_init(&cc);
    pt_buf_init(&mine);
    pt_buf_init(&auth);
    pt_buf_printf(&stage, STAGE_PREFIX "%s\n%s", ws->api_name, ws->stage_name);
    pt_buf_printf(&rec, CONN_PREFIX "%s", ws->id);
    pt_buf_printf(&cc, CONN_CHANNELS_PREFIX "%s", ws->id);
    pt_buf_printf(&mine, NODE_CONNS_PREFIX "%s", w->cluster->self);
    if (add) {
        char *a = ws->authorizer != NULL ? cJSON_PrintUnformatted(ws->authorizer) : NULL;

        pt_buf_puts(&auth, a != NULL ? a : "");
        free(a);
        pt_conn_peer_ip(c, ip);
        snprintf(at, sizeof(at), "%lld", ws->connected_at_ms);
        WORDS(w, "SADD", stage.data, ws->id);
        WORDS(w, "HSET", rec.data, "api", ws->api_name, "stage", ws->stage_name, "connectedAt", at,
              "sourceIp", ip, "userAgent", ws->user_agent ? ws->user_agent : "");
        WORDS(w, "HSET", rec.data, "host", ws->host ? ws->host : "", "authorizer",
              auth.data ? auth.data : "");
        WORDS(w, "SADD", mine.data, ws->id);
    } else {
        WORDS(w, "SREM", stage.data, ws->id);
        WORDS(w, "SREM", mine.data, ws->id);
        WORDS(w, "DEL", rec.data, cc.data);
    }
    pt_buf_cleanup(&stage);
    pt_buf_cleanup(&rec);
    pt_buf_cleanup(&cc);
    pt_buf_cleanup(&mine);
    pt_buf_cleanup(&auth);
}

void pt_cluster_watch(struct pt_worker *w, const char *key, bool on)
{
    struct pt_buf ch;

    if (w->cluster == NULL)
        return;
    pt_buf_init(&ch);
    pt_buf_puts(&ch, CHANNEL_PREFIX);
    pt_buf_puts(&ch, key);
    pt_redis_subscribe(w->cluster->link, ch.data, ch.len, on);
    pt_buf_cleanup(&ch);
}

/* The link is (again) up: listen on the inbox, and put back what this worker holds, since
 * Redis may have restarted empty or missed changes while it was away. */
static void on_up(struct pt_worker *w)
{
    uint32_t i;

    pt_redis_subscribe(w->cluster->link, w->cluster->inbox, strlen(w->cluster->inbox), true);
    pt_channel_resync(w);
    for (i = 0; i < w->nslots; i++) {
        struct pt_conn *c = w->slots[i];

        if (c != NULL && c->state == PT_CONN_WS)
            pt_cluster_member(w, c, true);
    }
}

struct pending_publish {
    pt_cluster_published_fn *fn;
    void *ud;
};

static void on_published(struct pt_worker *w, void *r, void *ud)
{
    struct pending_publish *pp = ud;
    redisReply *reply = r;

    pp->fn(w, pp->ud,
           reply != NULL && reply->type == REDIS_REPLY_INTEGER ? (long)reply->integer : -1);
    free(pp);
}

void pt_cluster_publish(struct pt_worker *w, const char *key, const void *data, size_t len,
                        bool binary, pt_cluster_published_fn *fn, void *ud)
{
    struct pending_publish *pp = pt_xmalloc(sizeof(*pp));
    struct pt_buf pres, ch, msg;
    const char *argv[6];
    size_t lens[6];

    pp->fn = fn;
    pp->ud = ud;
    pt_buf_init(&pres);
    pt_buf_init(&ch);
    pt_buf_init(&msg);
    pt_buf_printf(&pres, PRESENCE_PREFIX "%s", key);
    pt_buf_printf(&ch, CHANNEL_PREFIX "%s", key);
    pt_buf_putc(&msg, binary ? 'b' : 't');
    pt_buf_append(&msg, data, len);
    argv[0] = "EVAL";
    argv[1] = publish_script;
    argv[2] = "2";
    argv[3] = pres.data;
    argv[4] = ch.data;
    argv[5] = msg.data;
    lens[0] = 4;
    lens[1] = strlen(publish_script);
    lens[2] = 1;
    lens[3] = pres.len;
    lens[4] = ch.len;
    lens[5] = msg.len;
    if (!pt_cluster_up(w) || !pt_redis_command(w->cluster->link, on_published, pp, 6, argv, lens)) {
        free(pp);
        fn(w, ud, -1);
    }
    pt_buf_cleanup(&pres);
    pt_buf_cleanup(&ch);
    pt_buf_cleanup(&msg);
}

struct pending_ids {
    pt_cluster_ids_fn *fn;
    void *ud;
    bool scan; /* SSCAN's [cursor, [ids]] rather than SMEMBERS' [ids] */
};

static void on_ids(struct pt_worker *w, void *r, void *ud)
{
    struct pending_ids *pi = ud;
    redisReply *reply = r, *list = reply;
    const char *next = "0";
    struct pt_buf ids;
    size_t i;

    if (reply != NULL && pi->scan && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        next = reply->element[0]->str;
        list = reply->element[1];
    }
    if (list == NULL || list->type != REDIS_REPLY_ARRAY) {
        pi->fn(w, pi->ud, -1, "", "0");
        free(pi);
        return;
    }
    pt_buf_init(&ids);
    for (i = 0; i < list->elements; i++)
        pt_buf_printf(&ids, "%s\"%.*s\"", i ? "," : "", (int)list->element[i]->len,
                      list->element[i]->str);
    pi->fn(w, pi->ud, (long)list->elements, ids.data ? ids.data : "", next);
    pt_buf_cleanup(&ids);
    free(pi);
}

static void ids_command(struct pt_worker *w, bool scan, const char *const *words,
                        pt_cluster_ids_fn *fn, void *ud)
{
    struct pending_ids *pi = pt_xmalloc(sizeof(*pi));

    *pi = (struct pending_ids){fn, ud, scan};
    if (!pt_cluster_send(w, on_ids, pi, words)) {
        free(pi);
        fn(w, ud, -1, "", "0");
    }
}

void pt_cluster_subscribers(struct pt_worker *w, const char *key, pt_cluster_ids_fn *fn, void *ud)
{
    struct pt_buf k;

    pt_buf_init(&k);
    pt_buf_printf(&k, PRESENCE_PREFIX "%s", key);
    ids_command(w, false, (const char *const[]){"SMEMBERS", k.data, NULL}, fn, ud);
    pt_buf_cleanup(&k);
}

void pt_cluster_connections(struct pt_worker *w, const char *api, const char *stage,
                            const char *cursor, size_t limit, pt_cluster_ids_fn *fn, void *ud)
{
    struct pt_buf k;
    char count[24];

    pt_buf_init(&k);
    pt_buf_printf(&k, STAGE_PREFIX "%s\n%s", api, stage);
    snprintf(count, sizeof(count), "%zu", limit);
    ids_command(w, true, (const char *const[]){"SSCAN", k.data, cursor, "COUNT", count, NULL}, fn,
                ud);
    pt_buf_cleanup(&k);
}

/* ---- Start and stop ---- */

void pt_cluster_start(struct pt_worker *w, const struct pt_cluster_cfg *cfg, uint64_t run)
{
    struct pt_cluster *cl = pt_xcalloc(1, sizeof(*cl));

    w->cluster = cl;
    w->node = cfg->node;
    cl->cfg = cfg;
    snprintf(cl->self, sizeof(cl->self), "%u:%016llx", (unsigned)cfg->node,
             (unsigned long long)run);
    inbox_name(cl->inbox, sizeof(cl->inbox), cfg->node, w->id);
    cl->link = pt_redis_link_new(w, cfg, on_message, on_up);
    if (w->id == 0) {
        pt_cluster_lease_start(w);
        pt_cluster_usage_start(w);
    }
}

ev_timer *pt_cluster_lease_timer(struct pt_worker *w)
{
    return &w->cluster->lease;
}

ev_timer *pt_cluster_usage_timer(struct pt_worker *w)
{
    return &w->cluster->usage;
}

const char *pt_cluster_self(const struct pt_worker *w)
{
    return w->cluster->self;
}

const struct pt_cluster_cfg *pt_cluster_config(const struct pt_worker *w)
{
    return w->cluster->cfg;
}

bool pt_cluster_command(struct pt_worker *w, pt_redis_reply_fn *fn, void *ud, int argc,
                        const char **argv, const size_t *lens)
{
    return pt_cluster_up(w) && pt_redis_command(w->cluster->link, fn, ud, argc, argv, lens);
}

bool pt_cluster_send(struct pt_worker *w, pt_redis_reply_fn *fn, void *ud, const char *const *words)
{
    const char *argv[PT_CLUSTER_MAX_WORDS];
    size_t lens[PT_CLUSTER_MAX_WORDS];
    int n;

    for (n = 0; words[n] != NULL; n++) {
        if (n == PT_CLUSTER_MAX_WORDS)
            return false;
        argv[n] = words[n];
        lens[n] = strlen(words[n]);
    }
    return pt_cluster_command(w, fn, ud, n, argv, lens);
}

void pt_cluster_stop(struct pt_worker *w)
{
    struct pt_cluster *cl = w->cluster;

    if (cl == NULL)
        return;
    while (cl->calls != NULL)
        end_call(cl->calls, PT_ECANCELED, NULL, 0);
    if (w->id == 0) {
        pt_cluster_lease_stop(w);
        pt_cluster_usage_stop(w);
    }
    w->cluster = NULL;
    pt_redis_link_free(cl->link); /* pending replies run now, and find no cluster */
    free(cl);
}
