/* HTTP/1.1 requests: head, body (Content-Length or chunked, bounded before anything is
 * buffered), dispatch, and responses (see http.h). */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "accesslog.h"
#include "admin.h"
#include "awserr.h"
#include "cache_shared.h"
#include "call.h"
#include "config.h"
#include "conn.h"
#include "conn_ops.h"
#include "connid.h"
#include "fanout.h"
#include "h2.h"
#include "http_api.h"
#include "metrics.h"
#include "mgmt.h"
#include "mgmt_channels.h"
#include "msg.h"
#include "policy.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "router.h"
#include "throttle.h"
#include "worker.h"
#include "ws.h"

#define HEAD_MAX_BYTES 16384

const char *pt_http_status_text(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

bool pt_http_method_is(const struct pt_http *h, const char *method)
{
    size_t n = strlen(method);

    return h->req.method.len == n && memcmp(h->req.method.p, method, n) == 0;
}

char *pt_http_header_dup(const struct pt_http1_req *req, const char *name)
{
    const struct pt_slice *s = pt_http1_header(req, name);

    return s != NULL ? pt_xstrndup(s->p, s->len) : NULL;
}

char *pt_http_query_value(const struct pt_http *h, const char *name)
{
    const char *q = h->req.query.p, *end = q + h->req.query.len;
    size_t n = strlen(name);

    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q)), *stop = amp ? amp : end;

        if ((size_t)(stop - q) > n && memcmp(q, name, n) == 0 && q[n] == '=') {
            size_t vlen = (size_t)(stop - q) - n - 1;
            char *v = pt_xmalloc(vlen + 1);
            int len = pt_http1_percent_decode(q + n + 1, vlen, v, true);

            if (len > 0 && memchr(v, '\0', (size_t)len) == NULL)
                return v;
            free(v);
            return NULL;
        }
        q = stop + 1;
    }
    return NULL;
}

void pt_http_date_header(struct pt_buf *b)
{
    static __thread time_t cached_at;
    static __thread char cached[64];
    time_t now = time(NULL);

    if (now != cached_at) {
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(cached, sizeof(cached), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        cached_at = now;
    }
    pt_buf_puts(b, cached);
}

void pt_http_free(struct pt_http *h)
{
    if (h->policy != NULL)
        pt_policy_cancel(h->policy);
    if (h->remote != NULL)
        pt_conn_op_detach(h->remote);
    if (h->fanout != NULL)
        pt_fanout_cancel(h->fanout);
    if (h->list != NULL)
        pt_mgmt_list_detach(h->list);
    if (h->scrape != NULL)
        pt_metrics_detach(h->scrape);
    if (h->call != NULL)
        pt_callx_cancel(h->call); /* the client went away first */
    if (h->cache_wait != NULL)
        h->cache_wait->h = NULL; /* Redis's answer, when it comes, finds no request */
    pt_config_unref(h->cfg);
    free(h->head);
    free(h->path);
    free(h->cache_key);
    pt_buf_cleanup(&h->body);
    free(h);
}

void pt_http_cleanup(struct pt_conn *c)
{
    struct pt_http *h = c->http;

    if (h == NULL)
        return;
    c->http = NULL;
    pt_http_free(h);
}

void pt_http_respond(struct pt_http *h, int status, const struct pt_kv *headers, size_t nheaders,
                     const char *content_type, const void *body, size_t len)
{
    struct pt_conn *c = h->conn;
    bool keep = h->keep_alive && !h->in_body && !c->w->draining;

    pt_accesslog_http(h, status, len);
    if (h->stream_id != 0) {
        pt_h2_respond(h, status, headers, nheaders, content_type, body, len);
        return;
    }
    bool head = pt_http_method_is(h, "HEAD");
    struct pt_buf b;
    struct pt_msg *m;
    size_t i;

    pt_buf_init(&b);
    pt_buf_printf(&b, "HTTP/1.1 %d %s\r\n", status, pt_http_status_text(status));
    pt_http_date_header(&b);
    if (content_type != NULL)
        pt_buf_printf(&b, "Content-Type: %s\r\n", content_type);
    if (status != 204 && status != 304)
        pt_buf_printf(&b, "Content-Length: %lld\r\n",
                      head && h->head_length > 0 ? h->head_length : (long long)len);
    for (i = 0; i < nheaders; i++)
        pt_buf_printf(&b, "%s: %s\r\n", headers[i].name, headers[i].value);
    if (!keep)
        pt_buf_puts(&b, "Connection: close\r\n");
    pt_buf_puts(&b, "\r\n");
    if (head)
        len = 0; /* the length of the body a GET would have had, and no body */
    m = pt_msg_new(b.len + len);
    memcpy(m->data, b.data, b.len);
    if (len)
        memcpy(m->data + b.len, body, len);
    pt_buf_cleanup(&b);
    pt_conn_send(c, m);
    pt_msg_unref(m);
    if (c->http == h)
        c->http = NULL;
    pt_http_free(h);
    if (keep) {
        c->state = PT_CONN_HTTP;
        pt_conn_resume_read(c);
    } else {
        pt_conn_close_after_flush(c);
    }
}

/* ---- Dispatch ---- */

static bool is_mgmt_path(const char *rest)
{
    return (strncmp(rest, "/@connections", 13) == 0 && (rest[13] == '\0' || rest[13] == '/')) ||
           strncmp(rest, "/@channels/", 11) == 0;
}

static void respond_message(struct pt_http *h, int status, const char *message)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", message);
    struct pt_kv hdrs[2] = {{"x-amzn-RequestId", h->request_id},
                            {"apigw-requestid", h->request_id}};

    h->error = message;
    pt_http_respond(h, status, hdrs, 2, "application/json", body, (size_t)n);
}

/* Called when the head is complete: decides where the request goes and how much body it may
 * carry. Returns false when it already answered. */
bool pt_http_route_head(struct pt_http *h)
{
    const struct pt_config *cfg = h->cfg;
    struct pt_route_match m;
    long long limit = cfg->limits.request_body_bytes;

    if (pt_router_match(cfg, h->path, &m) == 0 && m.api->protocol == PT_PROTO_WEBSOCKET &&
        is_mgmt_path(m.rest))
        limit = cfg->limits.message_bytes;
    h->body_limit = limit;
    if (h->req.content_length > limit) {
        h->in_body = true; /* the body stays unread: the connection must close */
        pt_http_too_large(h);
        return false;
    }
    return true;
}

void pt_http_too_large(struct pt_http *h)
{
    if (h->body_limit == h->cfg->limits.message_bytes)
        pt_awserr_respond(h, PT_AWSERR_PAYLOAD_TOO_LARGE, NULL);
    else
        respond_message(h, 413, "Request Entity Too Large");
}

void pt_http_dispatch(struct pt_http *h)
{
    struct pt_conn *c = h->conn;
    struct pt_route_match m;

    if (c->admin) {
        pt_admin_handle(h);
        return;
    }
    if (pt_router_match(h->cfg, h->path, &m) != 0) {
        if (strstr(h->path, "/@connections") != NULL || strstr(h->path, "/@channels/") != NULL)
            pt_awserr_respond(h, PT_AWSERR_FORBIDDEN, NULL);
        else
            respond_message(h, 404, "Not Found");
        return;
    }
    if (m.api->protocol == PT_PROTO_WEBSOCKET) {
        if (is_mgmt_path(m.rest)) {
            /* The server's throttle covers backends' calls too; SPEC section 3 names the
             * management API's 429 LimitExceededException. */
            if (pt_throttle_enter(h->cfg, NULL) != PT_THROTTLE_PASS)
                pt_awserr_respond(h, PT_AWSERR_LIMIT_EXCEEDED, NULL);
            else
                pt_mgmt_handle(h, &m);
            return;
        }
        if (m.rest[0] == '\0' || strcmp(m.rest, "/") == 0) {
            if (h->req.upgrade_websocket && h->stream_id == 0)
                pt_ws_upgrade(c, &m);
            else
                respond_message(h, 426, "Upgrade Required");
            return;
        }
    }
    if (m.api->protocol == PT_PROTO_HTTP) {
        pt_http_api_handle(h, &m);
        return;
    }
    respond_message(h, 404, "Not Found");
}

/* ---- Reading ---- */

struct pt_http *pt_http_begin(struct pt_conn *c, int32_t stream_id, const char *head, size_t len)
{
    struct pt_http *h = pt_xcalloc(1, sizeof(*h));
    int dlen;

    h->conn = c;
    h->cfg = pt_config_ref(c->w->cfg);
    h->started = ev_now(c->w->loop);
    h->integration_s = -1;
    h->stream_id = stream_id;
    if (stream_id == 0)
        c->http = h; /* HTTP/1.1: the connection's current request */
    pt_connid_request_id(h->request_id);
    pt_buf_init(&h->body);
    h->head = pt_xmalloc(len + 1);
    memcpy(h->head, head, len);
    h->head[len] = '\0';
    if (pt_http1_parse_request(h->head, len, len + 1, &h->req) <= 0) {
        h->in_body = true;
        respond_message(h, 400, "Bad Request");
        return NULL;
    }
    h->keep_alive = h->req.keep_alive;
    h->path = pt_xmalloc(h->req.path.len + 1);
    dlen = pt_http1_percent_decode(h->req.path.p, h->req.path.len, h->path, false);
    if (dlen < 0 || memchr(h->path, '\0', (size_t)dlen) != NULL) {
        h->in_body = true;
        respond_message(h, 400, "Bad Request");
        return NULL;
    }
    h->body_left = h->req.content_length > 0 ? h->req.content_length : 0;
    h->in_body = h->body_left > 0 || h->req.chunked;
    return h;
}

/* Could the head be complete? A client sending a byte at a time would otherwise have the whole
 * buffered head parsed again per byte; looking for the blank line first is much cheaper. */
static bool head_may_be_complete(const uint8_t *p, size_t n)
{
    return n >= HEAD_MAX_BYTES || memmem(p, n, "\n\r\n", 3) != NULL ||
           memmem(p, n, "\n\n", 2) != NULL;
}

static long start_request(struct pt_conn *c, const uint8_t *p, size_t n)
{
    struct pt_http1_req tmp;
    int len;

    if (!head_may_be_complete(p, n))
        return 0;
    len = pt_http1_parse_request((const char *)p, n, HEAD_MAX_BYTES, &tmp);
    if (len == 0)
        return 0;
    c->state = PT_CONN_HTTP_BUSY;
    if (len < 0) {
        struct pt_http *h = pt_xcalloc(1, sizeof(*h));

        h->conn = c;
        h->integration_s = -1;
        c->http = h;
        pt_connid_request_id(h->request_id);
        pt_buf_init(&h->body);
        h->in_body = true; /* the connection closes after the answer */
        respond_message(h, len == PT_ETOOBIG ? 431 : 400,
                        len == PT_ETOOBIG ? "Request Header Fields Too Large" : "Bad Request");
        return (long)n;
    }
    if (pt_http_begin(c, 0, (const char *)p, (size_t)len) == NULL)
        return (long)n;
    return len;
}

/* A client that sent "Expect: 100-continue" waits for this before sending the body. */
static bool expects_continue(const struct pt_http1_req *req)
{
    const struct pt_slice *e = pt_http1_header(req, "Expect");

    return e != NULL && e->len == 12 && strncasecmp(e->p, "100-continue", 12) == 0 &&
           req->minor_version >= 1;
}

static void send_continue(struct pt_conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct pt_msg *m = pt_msg_new(sizeof(cont) - 1);

    memcpy(m->data, cont, sizeof(cont) - 1);
    pt_conn_send(c, m);
    pt_msg_unref(m);
}

/* Reads body bytes; returns the bytes consumed, and sets *done when the body is complete, or
 * -1 when the request was answered with an error (the connection closes). */
static long read_body(struct pt_conn *c, uint8_t *p, size_t n, bool *done)
{
    struct pt_http *h = c->http;

    (void)h;
    size_t take, used;
    int rc;

    *done = false;
    if (!h->req.chunked) {
        take = n < (size_t)h->body_left ? n : (size_t)h->body_left;
        pt_buf_append(&h->body, p, take);
        h->body_left -= (long long)take;
        *done = h->body_left == 0;
        return (long)take;
    }
    take = n;
    rc = pt_http1_chunked_decode(&h->chunked, (char *)p, &take, &used);
    if (rc < 0) {
        respond_message(h, 400, "Bad Request");
        return -1;
    }
    if ((long long)(h->body.len + take) > h->body_limit) {
        pt_http_too_large(h);
        return -1;
    }
    pt_buf_append(&h->body, p, take);
    if (rc == 1) {
        *done = true;
        return (long)used;
    }
    return (long)n;
}

long pt_http_process(struct pt_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    bool done;
    long used;

    while (off < n && c->state == PT_CONN_HTTP) {
        if (c->http == NULL) {
            used = start_request(c, p + off, n - off);
            if (used == 0)
                break;
            off += (size_t)used;
            if (c->http == NULL || c->state != PT_CONN_HTTP_BUSY)
                continue; /* answered already (a malformed head) */
            if (!pt_http_route_head(c->http))
                break;
            if (!c->http->in_body) {
                pt_http_dispatch(c->http);
                continue;
            }
            if (expects_continue(&c->http->req) && off == n)
                send_continue(c);
            c->state = PT_CONN_HTTP; /* the body follows, here or in later reads */
        }
        used = read_body(c, p + off, n - off, &done);
        if (used < 0)
            return (long)n;
        off += (size_t)used;
        if (!done)
            break;
        c->http->in_body = false;
        c->state = PT_CONN_HTTP_BUSY;
        pt_http_dispatch(c->http);
    }
    return (long)off;
}
