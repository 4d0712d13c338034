/* The WebSocket connection lifecycle: the upgrade, $connect (the 101 waits for it), the
 * connection ID and slot, and $disconnect, which runs exactly once for every connection that
 * was established, whatever ended it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "accesslog.h"
#include "call.h"
#include "cluster.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "metrics.h"
#include "msg.h"
#include "policy.h"
#include "portico/err.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "router.h"
#include "throttle.h"
#include "worker.h"
#include "ws.h"
#include "wsframe.h"

static long long now_ms(const struct pt_worker *w)
{
    return (long long)(ev_now(w->loop) * 1000.0);
}

/* Fills the parts of a call's request that come from the connection. */
void pt_ws_fill_call(struct pt_conn *c, struct pt_callx *x)
{
    struct pt_ws *ws = c->ws;

    memcpy(x->connection_id, ws->id, sizeof(ws->id));
    pt_connid_request_id(x->request_id);
    pt_conn_peer_ip(c, x->source_ip);
    x->req.api_name = ws->api->name;
    x->req.stage = ws->stage->name;
    x->req.stage_vars = ws->stage->vars;
    x->req.nstage_vars = ws->stage->nvars;
    /* AWS puts its own host name here; ours is the Host the client used, port included, so
     * that a backend building its @connections endpoint from domainName reaches Portico. */
    x->req.domain_name = ws->host != NULL ? ws->host : "localhost";
    x->user_agent = ws->user_agent ? pt_xstrdup(ws->user_agent) : NULL;
    x->req.user_agent = x->user_agent;
    x->req.connected_at_ms = ws->connected_at_ms;
    x->req.authorizer = ws->authorizer;
    x->req.request_time_ms = now_ms(c->w);
}

void pt_ws_call_link(struct pt_conn *c, struct pt_callx *x)
{
    x->conn = c;
    x->conn_prev = NULL;
    x->conn_next = c->ws->calls;
    if (c->ws->calls != NULL)
        c->ws->calls->conn_prev = x;
    c->ws->calls = x;
}

void pt_ws_call_unlink(struct pt_callx *x)
{
    struct pt_conn *c = x->conn;

    if (c == NULL || c->ws == NULL)
        return;
    if (x->conn_prev != NULL)
        x->conn_prev->conn_next = x->conn_next;
    else
        c->ws->calls = x->conn_next;
    if (x->conn_next != NULL)
        x->conn_next->conn_prev = x->conn_prev;
    if (c->ws->connect_call == x)
        c->ws->connect_call = NULL;
    x->conn = NULL;
}

/* ---- The handshake ---- */

static void send_101(struct pt_conn *c, const char *protocol)
{
    struct pt_buf b;
    struct pt_msg *m;

    pt_buf_init(&b);
    pt_buf_puts(&b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: ");
    pt_buf_puts(&b, c->ws->accept);
    pt_buf_puts(&b, "\r\n");
    if (protocol != NULL && protocol[0] != '\0' && strpbrk(protocol, "\r\n") == NULL)
        pt_buf_printf(&b, "Sec-WebSocket-Protocol: %s\r\n", protocol);
    pt_buf_puts(&b, "\r\n");
    m = pt_msg_new(b.len);
    memcpy(m->data, b.data, b.len);
    pt_buf_cleanup(&b);
    pt_conn_send(c, m);
    pt_msg_unref(m);
    pt_accesslog_http(c->http, 200, 0); /* AWS logs an accepted $connect as 200 */
    pt_http_cleanup(c);
    c->ws->established = true;
    c->ws->last_active_ms = c->ws->connected_at_ms;
    pt_cluster_member(c->w, c, true);
    c->state = PT_CONN_WS;
    pt_conn_resume_read(c);
}

static void refuse(struct pt_conn *c, int status)
{
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", pt_http_status_text(status));

    c->http->keep_alive = false;
    c->http->error = pt_http_status_text(status);
    pt_http_respond(c->http, status, NULL, 0, "application/json", body, (size_t)n);
}

static void on_connect_done(struct pt_callx *x, const struct pt_result *res)
{
    struct pt_conn *c = x->conn;
    const char *protocol = NULL;
    struct pt_metric *m;
    size_t i;

    if (c == NULL)
        return;
    c->http->integration_s = ev_now(c->w->loop) - x->started;
    c->http->integration_status = res->err == 0 ? res->status : 0;
    m = pt_metrics_get(c->w, x->req.api_name, x->req.stage, "$connect");
    m->connects++;
    pt_metrics_request(m, res->err != 0 ? 502 : res->status, ev_now(c->w->loop) - c->http->started,
                       ev_now(c->w->loop) - x->started);
    if (res->err != 0)
        m->execution_errors++;
    if (res->err != 0) {
        refuse(c, 502);
        return;
    }
    if (res->status < 200 || res->status > 299) {
        refuse(c, res->status >= 100 && res->status <= 599 ? res->status : 502);
        return;
    }
    for (i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, "Sec-WebSocket-Protocol") == 0)
            protocol = res->headers[i].value;
    send_101(c, protocol);
}

static bool valid_handshake(const struct pt_http *h)
{
    const struct pt_slice *key = pt_http1_header(&h->req, "Sec-WebSocket-Key");

    return pt_http_method_is(h, "GET") && key != NULL && key->len == 24;
}

/* RFC 6455 4.4: an unsupported version gets 426 with the versions we speak. */
static bool supported_version(struct pt_conn *c)
{
    const struct pt_slice *ver = pt_http1_header(&c->http->req, "Sec-WebSocket-Version");
    struct pt_kv hdr = {"Sec-WebSocket-Version", "13"};
    static const char body[] = "{\"message\":\"Upgrade Required\"}";

    if (ver != NULL && ver->len == 2 && memcmp(ver->p, "13", 2) == 0)
        return true;
    c->http->keep_alive = false;
    c->http->error = "Upgrade Required";
    pt_http_respond(c->http, 426, &hdr, 1, "application/json", body, sizeof(body) - 1);
    return false;
}

static void run_connect(struct pt_conn *c);

static void on_connect_policy(struct pt_http *h, struct pt_policy_result *res, void *data)
{
    struct pt_conn *c = h->conn;
    enum pt_throttle_verdict v;

    if (res->status != 0) {
        refuse(c, res->status);
        return;
    }
    v = pt_throttle_plan(h->cfg, c->ws->api, c->ws->stage, "$connect",
                         pt_policy_api_key_id(res->authorizer), ev_now(c->w->loop));
    if (v != PT_THROTTLE_PASS) {
        refuse(c, 429);
        return;
    }
    c->ws->authorizer = res->authorizer; /* the connection keeps it for every later call */
    res->authorizer = NULL;
    run_connect(c);
}

void pt_ws_upgrade(struct pt_conn *c, const struct pt_route_match *m)
{
    struct pt_worker *w = c->w;
    struct pt_http *h = c->http;
    struct pt_connid id;
    struct pt_ws *ws;
    const struct pt_slice *key;
    const struct pt_route *route;

    if (!valid_handshake(h)) {
        refuse(c, 400);
        return;
    }
    if (!supported_version(c))
        return;
    /* maxConnections is the whole server's: each worker takes its share of it. */
    if (w->draining ||
        (long long)w->nws * w->npeers >=
            w->cfg->limits.max_connections + (long long)w->npeers - 1 ||
        pt_throttle_enter(h->cfg, m->stage) != PT_THROTTLE_PASS) {
        refuse(c, w->draining ? 503 : 429);
        return;
    }
    ws = pt_xcalloc(1, sizeof(*ws));
    c->ws = ws;
    w->nws++;
    ws->api = m->api;
    ws->stage = m->stage;
    ws->gen = w->cfg_gen;
    ws->api_name = pt_xstrdup(m->api->name);
    ws->stage_name = pt_xstrdup(m->stage->name);
    ws->user_agent = pt_http_header_dup(&h->req, "User-Agent");
    ws->host = pt_http_header_dup(&h->req, "Host");
    ws->connected_at_ms = now_ms(w);
    pt_buf_init(&ws->msg);
    key = pt_http1_header(&h->req, "Sec-WebSocket-Key");
    pt_wsframe_accept_key(key->p, key->len, ws->accept);
    ws->slot = pt_worker_slot_alloc(w, c);
    ws->nonce = pt_connid_random64();
    id.node = w->node;
    id.worker = (uint8_t)w->id;
    id.slot = ws->slot;
    id.nonce = ws->nonce;
    pt_connid_encode(&id, ws->id);
    c->state = PT_CONN_WS_PENDING;

    route = m->api->route_connect;
    if (route != NULL && pt_policy_needed(route)) {
        /* Only $connect has an authorizer on WebSocket APIs; its context stays with the
         * connection. */
        pt_policy_start(h, m->api, m->stage, route, on_connect_policy, NULL, 0);
        return;
    }
    run_connect(c);
}

/* The $connect integration, if any; the 101 waits for it. */
static void run_connect(struct pt_conn *c)
{
    struct pt_worker *w = c->w;
    struct pt_http *h = c->http;
    struct pt_ws *ws = c->ws;
    const struct pt_route *route = ws->api->route_connect;
    struct pt_callx *x;

    if (route == NULL || route->integration == NULL) {
        send_101(c, NULL);
        return;
    }
    x = pt_callx_new(w, h->cfg, route, PT_EVENT_CONNECT);
    pt_ws_fill_call(c, x);
    pt_callx_copy_headers(x, &h->req);
    if (h->req.query.len > 0) {
        x->query = pt_xstrndup(h->req.query.p, h->req.query.len);
        x->req.query = x->query;
        pt_callx_parse_query(x);
    }
    pt_ws_call_link(c, x);
    ws->connect_call = x;
    pt_callx_invoke(x, on_connect_done);
}

/* ---- Lookup by id ---- */

struct pt_conn *pt_ws_find(struct pt_worker *w, const char *id, size_t len, bool *invalid)
{
    struct pt_connid cid;
    struct pt_conn *c;

    *invalid = false;
    if (pt_connid_decode(id, len, &cid) != 0) {
        *invalid = true;
        return NULL;
    }
    if (cid.node != w->node || cid.worker != w->id)
        return NULL;
    c = pt_worker_slot_get(w, cid.slot);
    if (c == NULL || c->ws == NULL || c->ws->nonce != cid.nonce || c->state != PT_CONN_WS)
        return NULL;
    return c;
}

/* ---- The end ---- */

static void on_disconnect_done(struct pt_callx *x, const struct pt_result *res)
{
    /* AWS ignores what $disconnect answers. */
}

static void start_disconnect(struct pt_conn *c)
{
    struct pt_ws *ws = c->ws;
    struct pt_worker *w = c->w;
    const struct pt_route *route;
    struct pt_callx *x;

    if (!ws->established)
        return;
    route = pt_ws_resolve(c) ? ws->api->route_disconnect : NULL;
    if (route == NULL || route->integration == NULL) {
        pt_accesslog_disconnect(c, NULL);
        return;
    }
    x = pt_callx_new(w, w->cfg, route, PT_EVENT_DISCONNECT);
    pt_ws_fill_call(c, x);
    x->req.disconnect_status = ws->close_code ? ws->close_code : 1006;
    x->disconnect_reason = pt_xstrdup(ws->close_reason ? ws->close_reason : "");
    x->req.disconnect_reason = x->disconnect_reason;
    /* The call outlives the connection: what it borrowed from it, it now owns. */
    x->host = pt_xstrdup(x->req.domain_name);
    x->req.domain_name = x->host;
    x->authorizer = ws->authorizer != NULL ? cJSON_Duplicate(ws->authorizer, true) : NULL;
    x->req.authorizer = x->authorizer;
    pt_accesslog_disconnect(c, x->request_id);
    /* Not linked to the connection: it outlives it. */
    pt_callx_invoke(x, on_disconnect_done);
}

void pt_ws_disconnect_orphan(struct pt_worker *w, const char *id, const char *api_name,
                             const char *stage_name, long long connected_at_ms, const char *ip,
                             const char *user_agent, const char *host, const char *authorizer)
{
    const struct pt_api *api = NULL;
    const struct pt_stage *stage = NULL;
    struct pt_callx *x;
    size_t i;

    for (i = 0; i < w->cfg->napis; i++)
        if (strcmp(w->cfg->apis[i].name, api_name) == 0 &&
            w->cfg->apis[i].protocol == PT_PROTO_WEBSOCKET)
            api = &w->cfg->apis[i];
    if (api != NULL)
        stage = pt_api_stage(api, stage_name);
    if (stage == NULL || api->route_disconnect == NULL ||
        api->route_disconnect->integration == NULL || strlen(id) >= sizeof(x->connection_id))
        return;
    x = pt_callx_new(w, w->cfg, api->route_disconnect, PT_EVENT_DISCONNECT);
    strcpy(x->connection_id, id);
    pt_connid_request_id(x->request_id);
    snprintf(x->source_ip, sizeof(x->source_ip), "%s", ip);
    x->req.api_name = api->name;
    x->req.stage = stage->name;
    x->req.stage_vars = stage->vars;
    x->req.nstage_vars = stage->nvars;
    x->host = pt_xstrdup(host[0] != '\0' ? host : "localhost");
    x->req.domain_name = x->host;
    x->user_agent = user_agent[0] != '\0' ? pt_xstrdup(user_agent) : NULL;
    x->req.user_agent = x->user_agent;
    x->req.connected_at_ms = connected_at_ms;
    x->authorizer = authorizer[0] != '\0' ? cJSON_Parse(authorizer) : NULL;
    x->req.authorizer = x->authorizer;
    x->req.request_time_ms = now_ms(w);
    x->req.disconnect_status = 1006; /* its node vanished without a close */
    x->disconnect_reason = pt_xstrdup("");
    x->req.disconnect_reason = x->disconnect_reason;
    pt_callx_invoke(x, on_disconnect_done);
}

void pt_ws_cleanup(struct pt_conn *c)
{
    struct pt_ws *ws = c->ws;
    struct pt_worker *w = c->w;

    while (ws->calls != NULL)
        pt_callx_cancel(ws->calls);
    if (c->peer_closed && ws->close_code == 0)
        ws->close_code = 1006;
    pt_channel_leave_all(w, c);
    if (ws->established)
        pt_cluster_member(w, c, false);
    start_disconnect(c);
    pt_worker_slot_free(w, ws->slot);
    w->nws--;
    pt_buf_cleanup(&ws->msg);
    free(ws->api_name);
    free(ws->stage_name);
    free(ws->user_agent);
    free(ws->host);
    cJSON_Delete(ws->authorizer);
    free(ws->close_reason);
    free(ws);
    c->ws = NULL;
}
