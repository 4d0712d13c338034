/* Leases and reaping (see cluster_lease.h). */
#include "cluster_lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "cluster.h"
#include "config.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "worker.h"
#include "ws.h"

/* Renews this run's lease and registers it; answers the other owner's name when another node
 * already holds this node number (two names whose numbers collide). */
static const char lease_script[] = "local owner = redis.call('GET', KEYS[3]) "
                                   "if owner and owner ~= ARGV[1] then return owner end "
                                   "redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2]) "
                                   "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
                                   "redis.call('SADD', KEYS[2], ARGV[3]) "
                                   "return false";

/* Every registered run whose lease is gone: its connections leave presence, their channels and
 * the stages' sets, and come back as 8 fields each (id, api, stage, connectedAt, sourceIp,
 * userAgent, host, authorizer). Atomic, so one caller alone reaps each run. */
static const char reap_script[] =
    "local out = {} "
    "for _, run in ipairs(redis.call('SMEMBERS', 'portico:nodes')) do "
    "  if redis.call('EXISTS', 'portico:lease:' .. run) == 0 then "
    "    for _, id in ipairs(redis.call('SMEMBERS', 'portico:nc:' .. run)) do "
    "      local r = redis.call('HMGET', 'portico:conn:' .. id, 'api', 'stage', 'connectedAt', "
    "                           'sourceIp', 'userAgent', 'host', 'authorizer') "
    "      for _, key in ipairs(redis.call('SMEMBERS', 'portico:cc:' .. id)) do "
    "        redis.call('SREM', 'portico:pr:' .. key, id) end "
    "      if r[1] then redis.call('SREM', 'portico:st:' .. r[1] .. '\\n' .. r[2], id) end "
    "      redis.call('DEL', 'portico:conn:' .. id, 'portico:cc:' .. id) "
    "      table.insert(out, id) "
    "      for i = 1, 7 do table.insert(out, r[i] or '') end "
    "    end "
    "    redis.call('DEL', 'portico:nc:' .. run) "
    "    redis.call('SREM', 'portico:nodes', run) "
    "  end "
    "end "
    "return out";

static void on_lease(struct pt_worker *w, void *r, void *ud)
{
    static bool reported;
    redisReply *reply = r;

    if (reply != NULL && reply->type == REDIS_REPLY_STRING && !reported) {
        reported = true;
        pt_log(PT_LOG_ERR, "cluster",
               "node number %u of \"%s\" is also that of \"%.*s\": give one of them another "
               "cluster.nodeId",
               (unsigned)pt_cluster_config(w)->node, pt_cluster_config(w)->node_id, (int)reply->len,
               reply->str);
    }
}

static const char *field(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING ? r->str : "";
}

static void on_reaped(struct pt_worker *w, void *r, void *ud)
{
    redisReply *reply = r;
    size_t i;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || w->cluster == NULL)
        return;
    if (reply->elements >= 8)
        pt_log(PT_LOG_WARN, "cluster",
               "%zu connections of nodes that are gone: running their $disconnect",
               reply->elements / 8);
    for (i = 0; i + 8 <= reply->elements; i += 8) {
        redisReply **f = reply->element + i;

        pt_ws_disconnect_orphan(w, field(f[0]), field(f[1]), field(f[2]),
                                strtoll(field(f[3]), NULL, 10), field(f[4]), field(f[5]),
                                field(f[6]), field(f[7]));
    }
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pt_worker *w = t->data;
    const struct pt_cluster_cfg *cfg = pt_cluster_config(w);
    const char *self = pt_cluster_self(w);
    char lease[80], owner[32], ttl[24];

    snprintf(lease, sizeof(lease), "portico:lease:%s", self);
    snprintf(owner, sizeof(owner), "portico:owner:%u", (unsigned)cfg->node);
    snprintf(ttl, sizeof(ttl), "%lld", cfg->lease_s * 1000);
    PT_CLUSTER_SEND(w, on_lease, NULL, "EVAL", lease_script, "3", lease, "portico:nodes", owner,
                    cfg->node_id, ttl, self);
    PT_CLUSTER_SEND(w, on_reaped, NULL, "EVAL", reap_script, "0");
}

void pt_cluster_lease_start(struct pt_worker *w)
{
    ev_timer *t = pt_cluster_lease_timer(w);

    ev_timer_init(t, on_tick, 0.05, (double)pt_cluster_config(w)->lease_s / 3.0);
    t->data = w;
    ev_timer_start(w->loop, t);
}

void pt_cluster_lease_stop(struct pt_worker *w)
{
    /* The lease is left to lapse rather than deleted: the other workers' last removals may still
     * be on their way, and a reaper must not see this run's connections as orphans before they
     * land. Once it lapses, the reaper finds nothing left and forgets the run. */
    ev_timer_stop(w->loop, pt_cluster_lease_timer(w));
}
