/* WebSocket connections: the handshake and $connect, frames and messages, route selection and
 * integration calls, sending, closing, keepalive, and $disconnect. */
#ifndef PT_WS_H
#define PT_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "connid.h"
#include "portico/buf.h"

struct pt_conn;
struct pt_callx;
struct pt_worker;
struct pt_api;
struct pt_stage;
struct pt_route_match;
struct cJSON;

struct pt_ws {
    char id[PT_CONNID_LEN + 1];
    uint32_t slot;
    uint64_t nonce;
    const struct pt_api *api;     /* borrowed from the worker's config of generation gen */
    const struct pt_stage *stage; /* likewise */
    unsigned gen;
    char *api_name;           /* owned: to find the api again after a reload */
    char *stage_name;         /* owned */
    char *user_agent;         /* owned, may be NULL */
    char *host;               /* owned: the handshake's Host, the events' domainName */
    struct cJSON *authorizer; /* owned: what $connect's authorizer established, or NULL */
    char accept[29];          /* Sec-WebSocket-Accept, kept while $connect runs */
    long long connected_at_ms;
    long long last_active_ms; /* the last data message in either direction */

    struct pt_buf msg; /* a fragmented message being reassembled; empty otherwise */
    int msg_opcode;
    uint32_t utf8; /* validator state of a text message in progress */
    bool in_msg;

    bool established; /* 101 sent: $disconnect will run */
    bool rx_paused;   /* not reading: its own answers wait unread past sendQueueBytes */
    bool ping_outstanding;
    bool close_sent;
    double ping_sent;
    int close_code;     /* for $disconnect: the code that ended the connection */
    char *close_reason; /* owned */

    struct pt_chan_set chans; /* the channels it subscribed to */
    struct pt_callx *calls;   /* in flight for this connection */
    struct pt_callx *connect_call;
};

/* Takes over an HTTP upgrade request on <c> for the API and stage in <m>. */
void pt_ws_upgrade(struct pt_conn *c, const struct pt_route_match *m);

/* Reads frames from <p>; returns the bytes consumed, or -1 to close at once. */
long pt_ws_process(struct pt_conn *c, uint8_t *p, size_t n);

/* Queues a data message (text unless <binary>). */
void pt_ws_send(struct pt_conn *c, const void *data, size_t len, bool binary);

/* Sends a close frame after what is queued, then closes; $disconnect gets <code>. */
void pt_ws_close(struct pt_conn *c, int code, const char *reason);

/* Called after writes: resumes reading a client paused for a full send queue. */
void pt_ws_on_queue_space(struct pt_conn *c);

/* Called when the connection's send queue has emptied. */
void pt_ws_on_drained(struct pt_conn *c);

/* Periodic checks (the sweep): idle timeout, maximum duration, keepalive pings. */
void pt_ws_sweep(struct pt_conn *c, double now);

/* Frees the WebSocket state: cancels calls, frees the slot, starts $disconnect. */
void pt_ws_cleanup(struct pt_conn *c);

/* Points ws->api and ws->stage at the current config (after a reload, found again by name).
 * Returns false when the API or stage is gone. */
bool pt_ws_resolve(struct pt_conn *c);

/* Fills the parts of call <x>'s request that come from the connection. */
void pt_ws_fill_call(struct pt_conn *c, struct pt_callx *x);

/* Adds call <x> to the connection's list (it is cancelled if the connection goes). */
void pt_ws_call_link(struct pt_conn *c, struct pt_callx *x);

/* Removes call <x> from its connection's list. */
void pt_ws_call_unlink(struct pt_callx *x);

/* Finds connection <id> on worker <w>: returns it when open, NULL when gone or still in
 * $connect; sets *invalid when the id is not one Portico could have made. */
struct pt_conn *pt_ws_find(struct pt_worker *w, const char *id, size_t len, bool *invalid);

/* Bytes queued to <c> that are not yet written. */
size_t pt_ws_queued_bytes(const struct pt_conn *c);

/* Runs the $disconnect of a connection whose node is gone (cluster_lease.c), from its record:
 * close code 1006, on this worker, under this node's config of its API and stage. */
void pt_ws_disconnect_orphan(struct pt_worker *w, const char *id, const char *api_name,
                             const char *stage_name, long long connected_at_ms, const char *ip,
                             const char *user_agent, const char *host, const char *authorizer);

#endif
