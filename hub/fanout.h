/* Channel operations across every worker: publish and presence (see fanout.c). */
#ifndef PT_FANOUT_H
#define PT_FANOUT_H

#include <stdbool.h>
#include <stddef.h>

struct pt_worker;
struct pt_fanout;

/* Runs on the origin worker once every worker has answered: <delivered> connections reached
 * (publish), or <count> subscribers whose quoted ids are in <ids> (presence; borrowed). In
 * cluster mode every node answers through Redis; <delivered> is -1 when Redis is down. */
typedef void pt_fanout_done_fn(struct pt_worker *w, void *ud, long delivered, size_t count,
                               const char *ids);

/* Publishes on every worker (the payload is copied once per worker, framed once per worker and
 * shared by that worker's subscribers). <done> runs before this returns when <w> is the only
 * worker (then NULL is returned), else later; pt_fanout_cancel() stops it from running. */
struct pt_fanout *pt_fanout_publish(struct pt_worker *w, const char *api, const char *stage,
                                    const char *name, const void *data, size_t len, bool binary,
                                    pt_fanout_done_fn *done, void *ud);
struct pt_fanout *pt_fanout_presence(struct pt_worker *w, const char *api, const char *stage,
                                     const char *name, pt_fanout_done_fn *done, void *ud);
void pt_fanout_cancel(struct pt_fanout *f);

#endif
