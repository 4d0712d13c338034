/* A worker's Redis link (see redis_link.h). */
#include "redis_link.h"

#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "worker.h"

#define BACKOFF_FIRST_S 0.1
#define BACKOFF_MAX_S   2.0

struct pt_redis_link {
    struct pt_worker *w;
    const struct pt_cluster_cfg *cfg; /* borrowed: the server keeps the first config's */
    redisAsyncContext *cmd, *sub;     /* NULL when not connected */
    bool cmd_up, sub_up;
    bool was_up; /* for logging the change only */
    bool closing;
    double backoff;
    ev_timer retry;
    pt_redis_message_fn *on_message;
    pt_redis_up_fn *on_up;
};

struct pending {
    pt_redis_reply_fn *fn;
    void *ud;
    struct pt_worker *w;
};

static void schedule_retry(struct pt_redis_link *l);

bool pt_redis_link_up(const struct pt_redis_link *l)
{
    return l->cmd_up && l->sub_up;
}

static void note_state(struct pt_redis_link *l)
{
    bool up = pt_redis_link_up(l);

    if (up == l->was_up)
        return;
    l->was_up = up;
    if (up) {
        l->backoff = BACKOFF_FIRST_S;
        if (l->w->id == 0)
            pt_log(PT_LOG_INFO, "cluster", "connected to Redis %s:%d", l->cfg->host, l->cfg->port);
        l->on_up(l->w);
    } else if (l->w->id == 0 && !l->closing) {
        pt_log(PT_LOG_WARN, "cluster", "lost Redis %s:%d; retrying", l->cfg->host, l->cfg->port);
    }
}

/* One connection is gone: the other is closed too, and both come back together. */
static void lost(struct pt_redis_link *l)
{
    redisAsyncContext *other;

    if (l->closing)
        return;
    other = l->cmd != NULL ? l->cmd : l->sub;
    l->cmd_up = l->sub_up = false;
    note_state(l);
    if (other != NULL) {
        other->data = NULL; /* its disconnect callback must not find the link */
        if (other == l->cmd)
            l->cmd = NULL;
        else
            l->sub = NULL;
        redisAsyncDisconnect(other);
    }
    schedule_retry(l);
}

/* One connection is ready for commands; the link is up when both are. */
static void mark_up(struct pt_redis_link *l, const redisAsyncContext *ac)
{
    if (ac == l->cmd)
        l->cmd_up = true;
    else
        l->sub_up = true;
    note_state(l);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct pt_redis_link *l = ac->data;

    if (l == NULL)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        if (ac == l->cmd)
            l->cmd = NULL;
        else
            l->sub = NULL;
        lost(l);
        return;
    }
    if (l->cfg->password == NULL)
        mark_up(l, ac); /* else once Redis took the password (on_auth) */
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct pt_redis_link *l = ac->data;

    if (l == NULL)
        return;
    if (ac == l->cmd)
        l->cmd = NULL;
    else if (ac == l->sub)
        l->sub = NULL;
    lost(l);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct pending *p = privdata;

    p->fn(p->w, reply, p->ud);
    free(p);
}

static void on_subscription(redisAsyncContext *ac, void *r, void *privdata)
{
    struct pt_redis_link *l = ac->data;
    redisReply *reply = r;

    if (l == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    if (reply->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(reply->element[0]->str, "message") == 0)
        l->on_message(l->w, reply->element[1]->str, reply->element[1]->len, reply->element[2]->str,
                      reply->element[2]->len);
}

/* The link is up only once Redis took the password: a refused one leaves it down and retried
 * with backoff, rather than up and answering every command with NOAUTH. */
static void on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
    struct pt_redis_link *l = ac->data;
    redisReply *reply = r;

    if (l == NULL || reply == NULL)
        return;
    if (reply->type != REDIS_REPLY_ERROR) {
        mark_up(l, ac);
        return;
    }
    if (l->w->id == 0 && ac == l->cmd)
        pt_log(PT_LOG_ERR, "cluster", "Redis refused the password: %s", reply->str);
    redisAsyncDisconnect(ac);
}

static redisAsyncContext *open_one(struct pt_redis_link *l, bool select_db)
{
    redisAsyncContext *ac = redisAsyncConnect(l->cfg->host, l->cfg->port);

    if (ac == NULL)
        return NULL;
    if (ac->err) {
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = l;
    redisLibevAttach(l->w->loop, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* Queued now, sent once connected, ahead of everything else. */
    if (l->cfg->password != NULL)
        redisAsyncCommand(ac, on_auth, NULL, "AUTH %s", l->cfg->password);
    if (select_db && l->cfg->db != 0)
        redisAsyncCommand(ac, NULL, NULL, "SELECT %d", l->cfg->db);
    return ac;
}

static void connect_both(struct pt_redis_link *l)
{
    l->cmd = open_one(l, true);
    l->sub = l->cmd != NULL ? open_one(l, false) : NULL;
    if (l->cmd == NULL || l->sub == NULL)
        lost(l);
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pt_redis_link *l = t->data;

    if (l->cmd == NULL && l->sub == NULL)
        connect_both(l);
}

static void schedule_retry(struct pt_redis_link *l)
{
    if (ev_is_active(&l->retry))
        return;
    ev_timer_set(&l->retry, l->backoff, 0.0);
    ev_timer_start(l->w->loop, &l->retry);
    l->backoff = l->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : l->backoff * 2;
}

struct pt_redis_link *pt_redis_link_new(struct pt_worker *w, const struct pt_cluster_cfg *cfg,
                                        pt_redis_message_fn *on_message, pt_redis_up_fn *on_up)
{
    struct pt_redis_link *l = pt_xcalloc(1, sizeof(*l));

    l->w = w;
    l->cfg = cfg;
    l->on_message = on_message;
    l->on_up = on_up;
    l->backoff = BACKOFF_FIRST_S;
    ev_timer_init(&l->retry, on_retry, 0.0, 0.0);
    l->retry.data = l;
    connect_both(l);
    return l;
}

void pt_redis_link_free(struct pt_redis_link *l)
{
    if (l == NULL)
        return;
    l->closing = true;
    ev_timer_stop(l->w->loop, &l->retry);
    if (l->cmd != NULL) {
        if (l->cmd_up)
            redisAsyncHandleWrite(l->cmd); /* the last SREMs of a drain go out (never blocks) */
        l->cmd->data = NULL;
        redisAsyncFree(l->cmd); /* pending callbacks run with NULL replies */
    }
    if (l->sub != NULL) {
        l->sub->data = NULL;
        redisAsyncFree(l->sub);
    }
    free(l);
}

bool pt_redis_command(struct pt_redis_link *l, pt_redis_reply_fn *fn, void *ud, int argc,
                      const char **argv, const size_t *lens)
{
    struct pending *p = NULL;

    if (!pt_redis_link_up(l))
        return false;
    if (fn != NULL) {
        p = pt_xmalloc(sizeof(*p));
        *p = (struct pending){fn, ud, l->w};
    }
    if (redisAsyncCommandArgv(l->cmd, fn != NULL ? on_reply : NULL, p, argc, argv, lens) !=
        REDIS_OK) {
        free(p);
        return false;
    }
    return true;
}

void pt_redis_subscribe(struct pt_redis_link *l, const char *channel, size_t len, bool on)
{
    const char *argv[2] = {on ? "SUBSCRIBE" : "UNSUBSCRIBE", channel};
    size_t lens[2] = {strlen(argv[0]), len};

    if (l->sub_up)
        redisAsyncCommandArgv(l->sub, on ? on_subscription : NULL, NULL, 2, argv, lens);
}
