/* A worker's link to the cluster's Redis (SPEC section 8): two asynchronous hiredis connections
 * on the worker's own loop (libev adapter), one for commands and one for subscriptions, which
 * Redis keeps apart. Connecting never blocks (the address is numeric, resolved with the config);
 * a lost link is retried with backoff, and while it is down every command fails at once. */
#ifndef PT_REDIS_LINK_H
#define PT_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>

struct pt_worker;
struct pt_cluster_cfg;
struct pt_redis_link;
struct redisAsyncContext;

/* A message on a subscribed channel. */
typedef void pt_redis_message_fn(struct pt_worker *w, const char *channel, size_t channel_len,
                                 const char *payload, size_t len);
/* The link came up (again): subscriptions must be made anew. */
typedef void pt_redis_up_fn(struct pt_worker *w);

/* A command's answer: the hiredis reply, or NULL when the link went down first. */
typedef void pt_redis_reply_fn(struct pt_worker *w, void *reply, void *ud);

struct pt_redis_link *pt_redis_link_new(struct pt_worker *w, const struct pt_cluster_cfg *cfg,
                                        pt_redis_message_fn *on_message, pt_redis_up_fn *on_up);
/* Closes both connections; pending replies run with NULL. */
void pt_redis_link_free(struct pt_redis_link *l);

bool pt_redis_link_up(const struct pt_redis_link *l);

/* Sends a command (argv form, binary safe). Returns false, without calling <fn>, when the link
 * is down. <fn> may be NULL. */
bool pt_redis_command(struct pt_redis_link *l, pt_redis_reply_fn *fn, void *ud, int argc,
                      const char **argv, const size_t *lens);

/* SUBSCRIBE or UNSUBSCRIBE <channel> on the subscription connection (no-op while down: the
 * up callback subscribes again). */
void pt_redis_subscribe(struct pt_redis_link *l, const char *channel, size_t len, bool on);

#endif
