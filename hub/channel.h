/* The channel registry of a worker: channel name to subscribers and, for each connection, its
 * channels, so that joining, leaving, closing and publishing are all O(1) per subscriber. A
 * published message is framed once and shared by reference by every subscriber's queue. */
#ifndef PT_CHANNEL_H
#define PT_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/buf.h"

struct pt_conn;
struct pt_worker;
struct pt_chan;

/* A connection's memberships (lives in struct pt_ws). */
struct pt_chan_member {
    struct pt_chan *chan;
    size_t index; /* this connection's place in chan->subs */
};

struct pt_chan_set {
    struct pt_chan_member *items; /* owned */
    size_t n, cap;
};

#define PT_CHANNEL_NAME_MAX 200

/* Channel names are 1..PT_CHANNEL_NAME_MAX bytes without '/', controls or spaces. The key of a
 * channel is scoped by API and stage: "<api>/<stage>/<name>". */
bool pt_channel_name_ok(const char *name);

/* Returns 0, PT_EINVAL (bad name); subscribing twice is fine. */
int pt_channel_join(struct pt_worker *w, struct pt_conn *c, const char *name);
int pt_channel_leave(struct pt_worker *w, struct pt_conn *c, const char *name);
/* Leaves every channel (the connection is closing). */
void pt_channel_leave_all(struct pt_worker *w, struct pt_conn *c);

/* Queues the message for every subscriber of <name> on this worker, in API <api> and stage
 * <stage>.
 * Subscribers whose send queue is full are closed with 1008 after what they have queued.
 * Returns how many connections the message was queued for. */
long pt_channel_publish_local(struct pt_worker *w, const char *api, const char *stage,
                              const char *name, const void *data, size_t len, bool binary);

/* Appends the quoted ids of this worker's subscribers of the channel, comma-separated, and
 * returns how many. */
size_t pt_channel_members(struct pt_worker *w, const char *api, const char *stage, const char *name,
                          struct pt_buf *ids);

/* Appends up to <limit> quoted ids of this worker's connections of <api> and <stage>, from slot
 * *<slot> on; leaves *<slot> at the slot where a next page would start. Returns how many. */
size_t pt_channel_list(struct pt_worker *w, const char *api, const char *stage, uint32_t *slot,
                       size_t limit, struct pt_buf *ids);

/* Cluster mode: subscribes to every channel this worker has subscribers of, and puts each
 * subscriber back in the channel's presence (the Redis link came back). */
void pt_channel_resync(struct pt_worker *w);

/* Frees the registry of <w> (every connection must have left). */
void pt_channel_cleanup(struct pt_worker *w);

#endif
