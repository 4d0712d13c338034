/* The @connections API: authentication, then one of three operations on a connection of this
 * worker. The connection ID says where the connection lives, so there is no global lookup. */
#include "mgmt.h"
#include "authn.h"
#include "mgmt_channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awserr.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "router.h"
#include "sigv4.h"
#include "utf8.h"
#include "worker.h"
#include "wsframe.h"
#include "ws.h"


static void iso8601(char *out, size_t n, long long ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)(ms % 1000));
}

static void get_connection(struct pt_http *h, struct pt_conn *target)
{
    struct pt_ws *ws = target->ws;
    struct pt_kv hdr = {"x-amzn-RequestId", h->request_id};
    char connected[32], active[32], ip[46];
    struct pt_buf b;

    iso8601(connected, sizeof(connected), ws->connected_at_ms);
    iso8601(active, sizeof(active), ws->last_active_ms);
    pt_conn_peer_ip(target, ip);
    pt_buf_init(&b);
    pt_buf_printf(&b, "{\"connectedAt\":\"%s\",\"identity\":{\"sourceIp\":\"%s\",\"userAgent\":\"",
                  connected, ip);
    if (ws->user_agent != NULL)
        pt_buf_json_escape(&b, ws->user_agent, strlen(ws->user_agent));
    pt_buf_printf(&b, "\"},\"lastActiveAt\":\"%s\"}", active);
    pt_http_respond(h, 200, &hdr, 1, "application/json", b.data, b.len);
    pt_buf_cleanup(&b);
}

static void post_to_connection(struct pt_http *h, struct pt_conn *target)
{
    struct pt_conn *c = h->conn;
    struct pt_kv hdr = {"x-amzn-RequestId", h->request_id};
    const struct pt_limits *lim = &c->w->cfg->limits;
    size_t frame_len = h->body.len + PT_WS_MAX_HEADER;
    bool text;

    if ((long long)(pt_ws_queued_bytes(target) + frame_len) > lim->send_queue_bytes) {
        pt_awserr_respond(h, PT_AWSERR_LIMIT_EXCEEDED, "Limit Exceeded: the connection's send "
                                                       "queue is full");
        return;
    }
    text = pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)h->body.data, h->body.len) ==
           PT_UTF8_ACCEPT;
    pt_ws_send(target, h->body.data ? h->body.data : "", h->body.len, !text);
    pt_http_respond(h, 200, &hdr, 1, NULL, NULL, 0);
}

static bool method_is(const struct pt_http *h, const char *m)
{
    size_t n = strlen(m);

    return h->req.method.len == n && memcmp(h->req.method.p, m, n) == 0;
}

/* The connection <id> (<len> bytes) of this API and stage, or NULL after answering 400 or 410. */
static struct pt_conn *find_target(struct pt_http *h, const struct pt_route_match *m,
                                   const char *id, size_t len)
{
    struct pt_conn *target;
    bool invalid;
    char msg[160];

    target = pt_ws_find(h->conn->w, id, len, &invalid);
    if (invalid) {
        snprintf(msg, sizeof(msg), "Invalid connectionId: %.*s", (int)(len > 100 ? 100 : len), id);
        pt_awserr_respond(h, PT_AWSERR_BAD_REQUEST, msg);
        return NULL;
    }
    if (target == NULL || strcmp(target->ws->api_name, m->api->name) != 0 ||
        strcmp(target->ws->stage_name, m->stage->name) != 0) {
        /* A connection of another API or stage does not exist as far as this one knows. */
        pt_awserr_respond(h, PT_AWSERR_GONE, NULL);
        return NULL;
    }
    return target;
}

/* /@connections/{id}: the three AWS operations. */
static void connection_op(struct pt_http *h, struct pt_conn *target)
{
    struct pt_kv hdr = {"x-amzn-RequestId", h->request_id};

    if (method_is(h, "POST")) {
        post_to_connection(h, target);
    } else if (method_is(h, "GET")) {
        get_connection(h, target);
    } else if (method_is(h, "DELETE")) {
        pt_ws_close(target, 1000, "Connection deleted");
        pt_http_respond(h, 204, &hdr, 1, NULL, NULL, 0);
    } else {
        pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
    }
}

void pt_mgmt_handle(struct pt_http *h, const struct pt_route_match *m)
{
    const char *rest = m->rest, *id, *slash;
    struct pt_conn *target;

    if (m->api->management_auth == PT_MGMT_AWS_IAM && !pt_authn_sigv4_ok(h, NULL))
        return;
    if (strncmp(rest, "/@channels/", 11) == 0) {
        pt_mgmt_channel(h, m, rest + 11);
        return;
    }
    id = rest + 13; /* after "/@connections" */
    if (*id == '\0' || strcmp(id, "/") == 0) {
        pt_mgmt_list(h, m);
        return;
    }
    id++;
    slash = strchr(id, '/');
    if (slash == NULL) {
        if ((target = find_target(h, m, id, strlen(id))) != NULL)
            connection_op(h, target);
        return;
    }
    if (strncmp(slash, "/channels/", 10) != 0 || strchr(slash + 10, '/') != NULL) {
        pt_awserr_respond(h, PT_AWSERR_FORBIDDEN, NULL);
        return;
    }
    if ((target = find_target(h, m, id, (size_t)(slash - id))) != NULL)
        pt_mgmt_subscription(h, target, slash + 10);
}
