/* Sharing usage-plan counts through Redis (see cluster_usage.h). */
#include "cluster_usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "cluster.h"
#include "portico/buf.h"
#include "portico/xalloc.h"
#include "usage.h"
#include "worker.h"

#define SYNC_EVERY_S 1.0
#define PULL_EVERY   10 /* ticks between reads of the month's past days */
#define PAST_DAYS    31
#define KEEP_SECONDS "8640000" /* 100 days: past GetUsage's reach */

struct push {
    struct pt_key_usage *u;
    int64_t day;
    uint64_t delta;
};

struct pull {
    struct pt_key_usage *u;
    int64_t first;
};

struct tick {
    struct pt_worker *w;
    int64_t today;
    bool pull;
};

static void on_pushed(struct pt_worker *w, void *r, void *ud)
{
    struct push *p = ud;
    redisReply *reply = r;

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0)
        pt_usage_synced(p->u, p->day, p->delta, (uint64_t)reply->integer);
    p->u->syncing = false;
    free(p);
}

static void on_pulled(struct pt_worker *w, void *r, void *ud)
{
    struct pull *p = ud;
    redisReply *reply = r;
    size_t i;

    for (i = 0; reply != NULL && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            pt_usage_synced(p->u, p->first + (int64_t)i, 0,
                            strtoull(reply->element[i]->str, NULL, 10));
    free(p);
}

/* Pushes <day>'s new requests of <u> (HINCRBY by 0 reads the total all the same). */
static void push_day(struct pt_worker *w, const char *key, struct pt_key_usage *u, int64_t day)
{
    struct push *p = pt_xmalloc(sizeof(*p));
    char field[24], by[24];

    *p = (struct push){u, day, pt_usage_unpushed(u, day)};
    snprintf(field, sizeof(field), "%lld", (long long)day);
    snprintf(by, sizeof(by), "%llu", (unsigned long long)p->delta);
    u->syncing = true;
    if (!PT_CLUSTER_SEND(w, on_pushed, p, "HINCRBY", key, field, by)) {
        u->syncing = false;
        free(p);
    }
}

static void sync_key(const char *plan, const char *keyid, struct pt_key_usage *u, void *ud)
{
    struct tick *t = ud;
    struct pt_buf key;
    char fields[PAST_DAYS][24];
    const char *argv[PAST_DAYS + 3];
    int i;

    if (u->syncing)
        return;
    pt_buf_init(&key);
    pt_buf_printf(&key, "portico:usage:%s\x1f%s", plan, keyid);
    if (pt_usage_unpushed(u, t->today - 1) > 0) /* what was left of yesterday, past midnight */
        push_day(t->w, key.data, u, t->today - 1);
    else
        push_day(t->w, key.data, u, t->today);
    PT_CLUSTER_SEND(t->w, NULL, NULL, "EXPIRE", key.data, KEEP_SECONDS);
    if (t->pull) {
        struct pull *p = pt_xmalloc(sizeof(*p));

        p->u = u;
        p->first = t->today - PAST_DAYS;
        argv[0] = "HMGET";
        argv[1] = key.data;
        for (i = 0; i < PAST_DAYS; i++) {
            snprintf(fields[i], sizeof(fields[i]), "%lld", (long long)(p->first + i));
            argv[2 + i] = fields[i];
        }
        argv[2 + PAST_DAYS] = NULL;
        if (!pt_cluster_send(t->w, on_pulled, p, argv))
            free(p);
    }
    pt_buf_cleanup(&key);
}

static void on_tick(struct ev_loop *loop, ev_timer *timer, int revents)
{
    static unsigned n;
    struct pt_worker *w = timer->data;
    struct tick t = {w, pt_usage_day(ev_now(loop)), n++ % PULL_EVERY == 0};

    if (w->usage != NULL && pt_cluster_up(w))
        pt_usage_each(w->usage, sync_key, &t);
}

void pt_cluster_usage_start(struct pt_worker *w)
{
    ev_timer *t = pt_cluster_usage_timer(w);

    ev_timer_init(t, on_tick, SYNC_EVERY_S, SYNC_EVERY_S);
    t->data = w;
    ev_timer_start(w->loop, t);
}

void pt_cluster_usage_stop(struct pt_worker *w)
{
    ev_timer_stop(w->loop, pt_cluster_usage_timer(w));
}
