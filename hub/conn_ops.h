/* The management API's operations on one connection, run on the worker that holds it. */
#ifndef PT_CONN_OPS_H
#define PT_CONN_OPS_H

#include <stddef.h>

struct pt_http;
struct pt_conn_op;

enum pt_conn_op_kind {
    PT_CONN_OP_POST,        /* PostToConnection: h's body becomes a message */
    PT_CONN_OP_GET,         /* GetConnection */
    PT_CONN_OP_DELETE,      /* DeleteConnection */
    PT_CONN_OP_SUBSCRIBE,   /* PUT .../channels/{channel} */
    PT_CONN_OP_UNSUBSCRIBE, /* DELETE .../channels/{channel} */
};

/* Runs <kind> on connection <id> (<id_len> bytes) of API <api> and stage <stage> and answers
 * request <h> with the AWS result: 400 for an id Portico could not have made, 410 when gone,
 * 429 when the send queue is full. Answers before returning when the connection is on this
 * worker; otherwise later, from this worker's mailbox. The caller must not touch <h> after. */
void pt_conn_op_start(struct pt_http *h, enum pt_conn_op_kind kind, const char *api,
                      const char *stage, const char *id, size_t id_len, const char *channel);

/* Runs an operation that another node sent (cluster.c) on this worker and writes the outcome
 * into <answer>. */
struct pt_worker;
struct pt_buf;
void pt_conn_op_serve(struct pt_worker *w, const char *data, size_t len, struct pt_buf *answer);

/* The request went away: the answer, when it comes, is dropped. */
void pt_conn_op_detach(struct pt_conn_op *op);

#endif
