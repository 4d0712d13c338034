/* Operations on one WebSocket connection by id, for the management API: post, describe,
 * delete, subscribe and unsubscribe. The id names the worker that holds the connection; the
 * operation runs there (through its mailbox when that is another worker) and the answer comes
 * back to the worker serving the request. Only that worker ever touches the request. */
#include "conn_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awserr.h"
#include "channel.h"
#include "cluster.h"
#include "config.h"
#include "conn.h"
#include "connid.h"
#include "http.h"
#include "mailbox.h"
#include "portico/buf.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "utf8.h"
#include "worker.h"
#include "ws.h"
#include "wsframe.h"

struct pt_conn_op {
    enum pt_conn_op_kind kind;
    uint16_t node; /* where the connection is: another node's ops go through the cluster */
    struct pt_worker *origin;
    struct pt_http *h; /* on the origin only; NULL once the request went away */
    char id[PT_CONNID_LEN + 1];
    char *api, *stage, *channel; /* owned */
    char *body;                  /* owned */
    size_t body_len;
    long long queue_limit;
    /* The outcome, filled on the connection's worker: */
    int status; /* 200, 204, or 0 with awserr set */
    enum pt_awserr awserr;
    const char *message; /* static */
    struct pt_buf out;   /* GET's JSON */
};

static const char queue_full[] = "Limit Exceeded: the connection's send queue is full";

static void iso8601(char *out, size_t n, long long ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (int)(ms % 1000));
}

static void describe(struct pt_conn_op *op, struct pt_conn *target)
{
    struct pt_ws *ws = target->ws;
    char connected[32], active[32], ip[46];

    iso8601(connected, sizeof(connected), ws->connected_at_ms);
    iso8601(active, sizeof(active), ws->last_active_ms);
    pt_conn_peer_ip(target, ip);
    pt_buf_printf(&op->out,
                  "{\"connectedAt\":\"%s\",\"identity\":{\"sourceIp\":\"%s\",\"userAgent\":\"",
                  connected, ip);
    if (ws->user_agent != NULL)
        pt_buf_json_escape(&op->out, ws->user_agent, strlen(ws->user_agent));
    pt_buf_printf(&op->out, "\"},\"lastActiveAt\":\"%s\"}", active);
    op->status = 200;
}

/* Runs on the worker holding the connection. */
static void run(struct pt_worker *w, struct pt_conn_op *op)
{
    struct pt_conn *target;
    bool invalid;

    target = pt_ws_find(w, op->id, strlen(op->id), &invalid);
    if (target == NULL || strcmp(target->ws->api_name, op->api) != 0 ||
        strcmp(target->ws->stage_name, op->stage) != 0) {
        /* Gone, still in $connect, or of another API or stage: all 410 to this caller. */
        op->awserr = PT_AWSERR_GONE;
        return;
    }
    switch (op->kind) {
    case PT_CONN_OP_POST:
        if ((long long)(target->out_bytes + op->body_len + PT_WS_MAX_HEADER) > op->queue_limit) {
            op->awserr = PT_AWSERR_LIMIT_EXCEEDED;
            op->message = queue_full;
            return;
        }
        pt_ws_send(target, op->body ? op->body : "", op->body_len,
                   pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)op->body, op->body_len) !=
                       PT_UTF8_ACCEPT);
        op->status = 200;
        break;
    case PT_CONN_OP_GET:
        describe(op, target);
        break;
    case PT_CONN_OP_DELETE:
        pt_ws_close(target, 1000, "Connection deleted");
        op->status = 204;
        break;
    case PT_CONN_OP_SUBSCRIBE:
        pt_channel_join(w, target, op->channel);
        op->status = 204;
        break;
    case PT_CONN_OP_UNSUBSCRIBE:
        pt_channel_leave(w, target, op->channel);
        op->status = 204;
        break;
    }
}

static void op_free(struct pt_conn_op *op)
{
    free(op->api);
    free(op->stage);
    free(op->channel);
    free(op->body);
    pt_buf_cleanup(&op->out);
    free(op);
}

/* Runs on the origin worker: answers the request, if it is still there. */
static void finish(struct pt_conn_op *op)
{
    struct pt_http *h = op->h;
    struct pt_kv hdr;

    if (h != NULL) {
        h->remote = NULL;
        hdr = (struct pt_kv){"x-amzn-RequestId", h->request_id};
        if (op->status == 0)
            pt_awserr_respond(h, op->awserr, op->message);
        else if (op->out.len > 0)
            pt_http_respond(h, op->status, &hdr, 1, "application/json", op->out.data, op->out.len);
        else
            pt_http_respond(h, op->status, &hdr, 1, NULL, NULL, 0);
    }
    op_free(op);
}

static void finish_mail(struct pt_worker *w, void *arg)
{
    finish(arg);
}

static void run_mail(struct pt_worker *w, void *arg)
{
    struct pt_conn_op *op = arg;

    run(w, op);
    pt_mailbox_post(op->origin, finish_mail, op);
}

/* ---- Across nodes (cluster.c carries the bytes) ---- */

static void put_str(struct pt_buf *b, const char *s, size_t n)
{
    uint32_t len = s != NULL ? (uint32_t)n : UINT32_MAX; /* UINT32_MAX: NULL */
    char be[4] = {(char)(len >> 24), (char)(len >> 16), (char)(len >> 8), (char)len};

    pt_buf_append(b, be, 4);
    if (s != NULL)
        pt_buf_append(b, s, n);
}

/* Reads a field written by put_str(); false when the bytes run out. <out> is owned. */
static bool get_str(const char **p, const char *end, char **out, size_t *n)
{
    uint32_t len;

    if (end - *p < 4)
        return false;
    len = (uint32_t)(uint8_t)(*p)[0] << 24 | (uint32_t)(uint8_t)(*p)[1] << 16 |
          (uint32_t)(uint8_t)(*p)[2] << 8 | (uint8_t)(*p)[3];
    *p += 4;
    *out = NULL;
    if (n != NULL)
        *n = 0;
    if (len == UINT32_MAX)
        return true;
    if ((size_t)(end - *p) < len)
        return false;
    *out = pt_xstrndup(*p, len);
    if (n != NULL)
        *n = len;
    *p += len;
    return true;
}

static void on_remote_answer(struct pt_worker *w, void *ud, int err, const char *data, size_t len)
{
    struct pt_conn_op *op = ud;
    const char *p = data, *end = data + len;
    char *message = NULL, *out = NULL;
    size_t out_len = 0;

    if (err == PT_EGONE) {
        op->awserr = PT_AWSERR_GONE; /* nobody listens there: that node or worker is gone */
    } else if (err != 0 || len < 3 || (p += 3, !get_str(&p, end, &message, NULL)) ||
               !get_str(&p, end, &out, &out_len)) {
        op->awserr = PT_AWSERR_SERVICE_UNAVAILABLE;
    } else {
        op->status = (uint8_t)data[0] << 8 | (uint8_t)data[1];
        op->awserr = (enum pt_awserr)(uint8_t)data[2];
        op->message = message != NULL ? queue_full : NULL; /* run()'s one text */
        if (out_len > 0)
            pt_buf_append(&op->out, out, out_len);
    }
    free(message);
    free(out);
    finish(op);
}

static void call_remote(struct pt_worker *w, struct pt_conn_op *op, uint16_t node, uint8_t worker)
{
    struct pt_buf req;
    char limit[24];

    pt_buf_init(&req);
    pt_buf_putc(&req, (char)op->kind);
    snprintf(limit, sizeof(limit), "%lld", op->queue_limit);
    put_str(&req, op->id, strlen(op->id));
    put_str(&req, op->api, strlen(op->api));
    put_str(&req, op->stage, strlen(op->stage));
    put_str(&req, op->channel, op->channel ? strlen(op->channel) : 0);
    put_str(&req, op->body ? op->body : "", op->body_len);
    put_str(&req, limit, strlen(limit));
    pt_cluster_call(w, node, worker, &req, on_remote_answer, op);
    pt_buf_cleanup(&req);
}

void pt_conn_op_serve(struct pt_worker *w, const char *data, size_t len, struct pt_buf *answer)
{
    struct pt_conn_op *op = pt_xcalloc(1, sizeof(*op));
    const char *p = data + 1, *end = data + len;
    char *id = NULL, *limit = NULL;
    char st[3];

    pt_buf_init(&op->out);
    if (len < 1 || !get_str(&p, end, &id, NULL) || !get_str(&p, end, &op->api, NULL) ||
        !get_str(&p, end, &op->stage, NULL) || !get_str(&p, end, &op->channel, NULL) ||
        !get_str(&p, end, &op->body, &op->body_len) || !get_str(&p, end, &limit, NULL) ||
        id == NULL || strlen(id) > PT_CONNID_LEN || op->api == NULL || op->stage == NULL ||
        limit == NULL || (uint8_t)data[0] > PT_CONN_OP_UNSUBSCRIBE) {
        op->awserr = PT_AWSERR_BAD_REQUEST;
    } else {
        op->kind = (enum pt_conn_op_kind)(uint8_t)data[0];
        strcpy(op->id, id);
        op->queue_limit = strtoll(limit, NULL, 10);
        run(w, op);
    }
    st[0] = (char)(op->status >> 8);
    st[1] = (char)op->status;
    st[2] = (char)op->awserr;
    pt_buf_append(answer, st, 3);
    put_str(answer, op->message, op->message ? strlen(op->message) : 0);
    put_str(answer, op->out.data, op->out.len);
    free(id);
    free(limit);
    op_free(op);
}

void pt_conn_op_start(struct pt_http *h, enum pt_conn_op_kind kind, const char *api,
                      const char *stage, const char *id, size_t id_len, const char *channel)
{
    struct pt_worker *w = h->conn->w;
    struct pt_conn_op *op;
    struct pt_connid cid;
    char msg[160];

    if (pt_connid_decode(id, id_len, &cid) != 0) {
        snprintf(msg, sizeof(msg), "Invalid connectionId: %.*s", (int)(id_len > 100 ? 100 : id_len),
                 id);
        pt_awserr_respond(h, PT_AWSERR_BAD_REQUEST, msg);
        return;
    }
    if ((cid.node != w->node && (w->cluster == NULL || cid.node == 0)) ||
        (cid.node == w->node && cid.worker >= w->npeers)) {
        pt_awserr_respond(h, PT_AWSERR_GONE, NULL); /* from another node or another run */
        return;
    }
    op = pt_xcalloc(1, sizeof(*op));
    op->kind = kind;
    op->origin = w;
    op->h = h;
    memcpy(op->id, id, id_len);
    op->api = pt_xstrdup(api);
    op->stage = pt_xstrdup(stage);
    op->channel = channel ? pt_xstrdup(channel) : NULL;
    op->queue_limit = h->cfg->limits.send_queue_bytes;
    pt_buf_init(&op->out);
    if (kind == PT_CONN_OP_POST && h->body.len > 0) {
        op->body = pt_xmalloc(h->body.len);
        memcpy(op->body, h->body.data, h->body.len);
        op->body_len = h->body.len;
    }
    if (cid.node != w->node) {
        h->remote = op;
        call_remote(w, op, cid.node, cid.worker);
        return;
    }
    if (cid.worker == w->id) {
        run(w, op);
        finish(op);
        return;
    }
    h->remote = op; /* pt_http_free detaches it if the client goes first */
    pt_mailbox_post(w->peers[cid.worker], run_mail, op);
}

void pt_conn_op_detach(struct pt_conn_op *op)
{
    op->h = NULL;
}
