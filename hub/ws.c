/* WebSocket frames and messages: parsing and limits (1009, 1007, 1002), control frames, route
 * selection, integration calls and their answers, sending, closing and keepalive. */
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accesslog.h"
#include "call.h"
#include "config.h"
#include "conn.h"
#include "metrics.h"
#include "msg.h"
#include "policy.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "throttle.h"
#include "utf8.h"
#include "worker.h"
#include "wsframe.h"

#define ROUTE_KEY_MAX 512

static long long now_ms(const struct pt_worker *w)
{
    return (long long)(ev_now(w->loop) * 1000.0);
}

bool pt_ws_resolve(struct pt_conn *c)
{
    struct pt_ws *ws = c->ws;
    struct pt_worker *w = c->w;
    size_t i;

    if (ws->gen == w->cfg_gen)
        return ws->api != NULL;
    ws->gen = w->cfg_gen;
    ws->api = NULL;
    ws->stage = NULL;
    for (i = 0; i < w->cfg->napis; i++)
        if (strcmp(w->cfg->apis[i].name, ws->api_name) == 0 &&
            w->cfg->apis[i].protocol == PT_PROTO_WEBSOCKET)
            ws->api = &w->cfg->apis[i];
    if (ws->api != NULL)
        ws->stage = pt_api_stage(ws->api, ws->stage_name);
    if (ws->stage == NULL)
        ws->api = NULL;
    return ws->api != NULL;
}

/* ---- Sending ---- */

void pt_ws_send(struct pt_conn *c, const void *data, size_t len, bool binary)
{
    struct pt_msg *m = pt_msg_ws_frame(binary ? PT_WS_BINARY : PT_WS_TEXT, data, len);

    pt_conn_send(c, m);
    pt_msg_unref(m);
    c->ws->last_active_ms = now_ms(c->w);
}

size_t pt_ws_queued_bytes(const struct pt_conn *c)
{
    return c->out_bytes;
}

/* {"message":"...","connectionId":"...","requestId":"..."}: the frames API Gateway itself
 * sends (AWS-BEHAVIOUR 1.4). */
static void send_error_frame(struct pt_conn *c, const char *message, const char *request_id)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf),
                     "{\"message\":\"%s\",\"connectionId\":\"%s\",\"requestId\":\"%s\"}", message,
                     c->ws->id, request_id);

    pt_ws_send(c, buf, (size_t)n, false);
}

void pt_ws_close(struct pt_conn *c, int code, const char *reason)
{
    struct pt_ws *ws = c->ws;
    uint8_t payload[125];
    size_t n;
    struct pt_msg *m;

    if (ws->close_sent || c->state == PT_CONN_CLOSING)
        return;
    ws->close_sent = true;
    if (ws->close_code == 0) {
        ws->close_code = code;
        free(ws->close_reason);
        ws->close_reason = pt_xstrdup(reason ? reason : "");
    }
    n = pt_wsframe_close_payload(payload, code, reason ? reason : "");
    m = pt_msg_ws_frame(PT_WS_CLOSE, payload, n);
    pt_conn_send(c, m);
    pt_msg_unref(m);
    pt_conn_close_after_flush(c);
}

void pt_ws_on_queue_space(struct pt_conn *c)
{
    if (c->ws->rx_paused && c->state == PT_CONN_WS &&
        (long long)c->out_bytes <= c->w->cfg->limits.send_queue_bytes / 2) {
        c->ws->rx_paused = false;
        pt_conn_resume_read(c);
    }
}

void pt_ws_on_drained(struct pt_conn *c)
{
    if (c->w->draining && c->state == PT_CONN_WS)
        pt_ws_close(c, 1001, "Going away");
}

/* ---- Messages ---- */

static void on_message_done(struct pt_callx *x, const struct pt_result *res)
{
    struct pt_conn *c = x->conn;
    struct pt_metric *m;

    if (c == NULL || c->state != PT_CONN_WS)
        return;
    m = pt_metrics_get(c->w, x->req.api_name, x->req.stage, x->route->key);
    pt_metrics_observe(&m->integration_latency, ev_now(c->w->loop) - x->started);
    if (res->err != 0)
        m->execution_errors++;
    else if (res->status >= 400)
        m->integration_errors++;
    if (res->err != 0 || (x->route->route_response && res->body != NULL))
        m->messages++; /* the answer or the error frame going out */
    pt_accesslog_message(c, x, x->request_id,
                         res->err == PT_ETIMEDOUT ? 504
                         : res->err != 0          ? 500
                                                  : res->status,
                         res->err == 0 ? res->status : 0,
                         res->err == PT_ETIMEDOUT ? "Endpoint request timed out"
                         : res->err != 0          ? "Internal server error"
                                                  : NULL);
    if (res->err == PT_ETIMEDOUT)
        send_error_frame(c, "Endpoint request timed out", x->request_id);
    else if (res->err != 0)
        send_error_frame(c, "Internal server error", x->request_id);
    else if (x->route->route_response && res->body != NULL)
        pt_ws_send(c, res->body, res->body_len,
                   res->body_binary || pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)res->body,
                                                    res->body_len) != PT_UTF8_ACCEPT);
}

/* The route key chosen by the API's selection expression; "" when the message is not JSON or
 * the expression finds nothing. */
static void select_route_key(const struct pt_api *api, struct pt_request *req, struct pt_buf *key)
{
    if (req->body_json == NULL)
        return;
    pt_tmpl_render(api->route_selection, pt_callx_resolve, req, key);
}

/* The API key a route needs (the one the connection showed at its handshake), then the
 * throttles and the quota (SPEC section 6). A refused message gets the error frame; the
 * connection stays. */
static bool admit(struct pt_conn *c, const struct pt_route *route)
{
    struct pt_ws *ws = c->ws;
    struct pt_worker *w = c->w;
    /* Only routes that need a key read it, and count against its plan. */
    const char *key_id = route->api_key_required ? pt_policy_api_key_id(ws->authorizer) : NULL;
    enum pt_throttle_verdict v;
    const char *message = "Forbidden";
    char rid[17];
    int status = 403;

    if (route->api_key_required && !pt_policy_key_valid(w->cfg, ws->api, ws->stage, key_id))
        goto refuse;
    v = pt_throttle_enter(w->cfg, ws->stage);
    if (v == PT_THROTTLE_PASS)
        v = pt_throttle_plan(w->cfg, ws->api, ws->stage, route->key, key_id, ev_now(w->loop));
    if (v == PT_THROTTLE_PASS)
        return true;
    message = pt_throttle_message(v);
    status = 429;
refuse:
    pt_connid_request_id(rid);
    send_error_frame(c, message, rid);
    pt_accesslog_message(c, NULL, rid, status, 0, message);
    return false;
}

static void dispatch_message(struct pt_conn *c, uint8_t *data, size_t len, bool binary)
{
    struct pt_ws *ws = c->ws;
    struct pt_worker *w = c->w;
    struct pt_request probe = {.type = PT_EVENT_MESSAGE};
    const struct pt_route *route = NULL;
    struct pt_callx *x;
    struct pt_buf key;
    cJSON *json = NULL;

    ws->last_active_ms = now_ms(w);
    if (!pt_ws_resolve(c)) {
        pt_ws_close(c, 1001, "Going away");
        return;
    }
    if (!binary)
        json = cJSON_ParseWithLength((const char *)data, len);
    probe.body = (const char *)data;
    probe.body_len = len;
    probe.body_json = json;
    pt_buf_init(&key);
    select_route_key(ws->api, &probe, &key);
    /* Custom route keys never start with '$': a message naming $connect or $disconnect goes to
     * $default like any other unknown key, or a client could run those routes at will. */
    if (key.len > 0 && key.len < ROUTE_KEY_MAX && key.data[0] != '$')
        route = pt_api_route(ws->api, key.data);
    pt_buf_cleanup(&key);
    if (route == NULL)
        route = ws->api->route_default;
    if (route == NULL || route->integration == NULL) {
        char rid[17];

        pt_connid_request_id(rid);
        send_error_frame(c, "Forbidden", rid);
        pt_accesslog_message(c, NULL, rid, 403, 0, "Forbidden");
        cJSON_Delete(json);
        return;
    }
    if (!admit(c, route)) {
        cJSON_Delete(json);
        return;
    }
    pt_metrics_get(w, ws->api_name, ws->stage_name, route->key)->messages++;
    x = pt_callx_new(w, w->cfg, route, PT_EVENT_MESSAGE);
    pt_ws_fill_call(c, x);
    pt_connid_request_id(x->message_id);
    x->req.message_id = x->message_id;
    x->body = pt_xmalloc(len + 1);
    memcpy(x->body, data, len);
    x->body[len] = '\0';
    x->req.body = x->body;
    x->req.body_len = len;
    x->req.body_binary = binary;
    x->body_json = json;
    x->req.body_json = json;
    pt_ws_call_link(c, x);
    pt_callx_invoke(x, on_message_done);
}

/* ---- Frames ---- */

static long fail(struct pt_conn *c, int code, const char *reason, size_t n)
{
    pt_ws_close(c, code, reason);
    return (long)n;
}

static void on_control(struct pt_conn *c, const struct pt_wsframe *f, uint8_t *payload)
{
    struct pt_ws *ws = c->ws;
    struct pt_msg *m;
    int code;

    switch (f->opcode) {
    case PT_WS_PING:
        m = pt_msg_ws_frame(PT_WS_PONG, payload, (size_t)f->payload_len);
        pt_conn_send(c, m);
        pt_msg_unref(m);
        break;
    case PT_WS_PONG:
        ws->ping_outstanding = false;
        break;
    case PT_WS_CLOSE:
        if (pt_wsframe_parse_close(payload, (size_t)f->payload_len, &code) != 0) {
            pt_ws_close(c, 1002, "Protocol error");
            return;
        }
        ws->close_code = code;
        free(ws->close_reason);
        ws->close_reason = f->payload_len > 2
                               ? pt_xstrndup((const char *)payload + 2, (size_t)f->payload_len - 2)
                               : pt_xstrdup("");
        /* Echo the code, as RFC 6455 5.5.1 asks; 1005 may not be sent, so answer 1000. */
        pt_ws_close(c, code == 1005 ? 1000 : code, "");
        break;
    }
}

/* Handles one data frame's payload. Returns false when the connection is being closed. */
static bool on_data(struct pt_conn *c, const struct pt_wsframe *f, uint8_t *payload)
{
    struct pt_ws *ws = c->ws;
    const struct pt_limits *lim = &c->w->cfg->limits;
    size_t len = (size_t)f->payload_len;
    int opcode = f->opcode;

    if (opcode == PT_WS_CONT ? !ws->in_msg : ws->in_msg) {
        pt_ws_close(c, 1002, "Protocol error");
        return false;
    }
    if (opcode != PT_WS_CONT) {
        ws->msg_opcode = opcode;
        ws->utf8 = PT_UTF8_ACCEPT;
    }
    if ((long long)(ws->msg.len + len) > lim->message_bytes) {
        pt_ws_close(c, 1009, "Message too big");
        return false;
    }
    if (ws->msg_opcode == PT_WS_TEXT) {
        ws->utf8 = pt_utf8_feed(ws->utf8, payload, len);
        if (ws->utf8 == PT_UTF8_REJECT || (f->fin && ws->utf8 != PT_UTF8_ACCEPT)) {
            pt_ws_close(c, 1007, "Invalid UTF-8");
            return false;
        }
    }
    if (f->fin && !ws->in_msg) {
        /* The common case: a whole message in one frame, used where it lies. */
        dispatch_message(c, payload, len, opcode == PT_WS_BINARY);
        return c->state == PT_CONN_WS;
    }
    pt_buf_append(&ws->msg, payload, len);
    ws->in_msg = !f->fin;
    if (f->fin) {
        dispatch_message(c, (uint8_t *)ws->msg.data, ws->msg.len, ws->msg_opcode == PT_WS_BINARY);
        pt_buf_cleanup(&ws->msg);
    }
    return c->state == PT_CONN_WS;
}

long pt_ws_process(struct pt_conn *c, uint8_t *p, size_t n)
{
    const struct pt_limits *lim = &c->w->cfg->limits;
    struct pt_wsframe f;
    size_t off = 0;
    int hl;

    while (off < n && c->state == PT_CONN_WS) {
        if ((long long)c->out_bytes > lim->send_queue_bytes) {
            /* A client that sends but does not read: stop reading it until its answers are
             * written, so its queue stays bounded (pt_ws_on_queue_space resumes). */
            c->ws->rx_paused = true;
            pt_conn_pause_read(c);
            break;
        }
        hl = pt_wsframe_parse(p + off, n - off, &f);
        if (hl == 0)
            break;
        if (hl < 0)
            return fail(c, 1002, "Protocol error", n);
        if (f.opcode < PT_WS_CLOSE && (long long)f.payload_len > lim->frame_bytes)
            return fail(c, 1009, "Frame too big", n);
        if (f.opcode < PT_WS_CLOSE &&
            (long long)(c->ws->msg.len + f.payload_len) > lim->message_bytes)
            return fail(c, 1009, "Message too big", n);
        if (n - off - (size_t)hl < f.payload_len)
            break; /* wait for the whole frame; its size is bounded above */
        pt_wsframe_unmask(p + off + hl, (size_t)f.payload_len, f.mask, 0);
        if (f.opcode >= PT_WS_CLOSE)
            on_control(c, &f, p + off + hl);
        else if (!on_data(c, &f, p + off + hl))
            return (long)n;
        off += (size_t)hl + (size_t)f.payload_len;
    }
    if (c->state == PT_CONN_CLOSING)
        return (long)n;
    return (long)off;
}

/* ---- Keepalive and timeouts ---- */

void pt_ws_sweep(struct pt_conn *c, double now)
{
    struct pt_ws *ws = c->ws;
    const struct pt_limits *lim = &c->w->cfg->limits;
    struct pt_msg *m;

    if (c->state != PT_CONN_WS)
        return;
    if (now - c->created >= (double)lim->max_connection_s ||
        now - c->last_active >= (double)lim->idle_timeout_s) {
        pt_ws_close(c, 1001, "Going away");
        return;
    }
    if (lim->ping_interval_s <= 0)
        return;
    if (ws->ping_outstanding && now - ws->ping_sent >= (double)lim->ping_interval_s) {
        /* No pong for a whole interval: the peer is dead. */
        ws->close_code = 1006;
        free(ws->close_reason);
        ws->close_reason = pt_xstrdup("Keepalive timeout");
        pt_conn_destroy(c);
        return;
    }
    if (!ws->ping_outstanding && now - c->last_active >= (double)lim->ping_interval_s) {
        m = pt_msg_ws_frame(PT_WS_PING, NULL, 0);
        pt_conn_send(c, m);
        pt_msg_unref(m);
        ws->ping_outstanding = true;
        ws->ping_sent = now;
    }
}
