/* Channel management calls and the connection listing (see mgmt_channels.h). */
#include "mgmt_channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awserr.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "portico/buf.h"
#include "router.h"
#include "utf8.h"
#include "worker.h"
#include "ws.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000

static bool method_is(const struct pt_http *h, const char *m)
{
    size_t n = strlen(m);

    return h->req.method.len == n && memcmp(h->req.method.p, m, n) == 0;
}

static void respond_json(struct pt_http *h, int status, const struct pt_buf *b)
{
    struct pt_kv hdr = {"x-amzn-RequestId", h->request_id};

    pt_http_respond(h, status, &hdr, 1, "application/json", b->data, b->len);
}

static bool bad_name(struct pt_http *h, const char *name)
{
    if (pt_channel_name_ok(name))
        return false;
    pt_awserr_respond(h, PT_AWSERR_BAD_REQUEST, "Invalid channel name");
    return true;
}

void pt_mgmt_subscription(struct pt_http *h, struct pt_conn *target, const char *name)
{
    struct pt_kv hdr = {"x-amzn-RequestId", h->request_id};

    if (bad_name(h, name))
        return;
    if (method_is(h, "PUT"))
        pt_channel_join(h->conn->w, target, name);
    else if (method_is(h, "DELETE"))
        pt_channel_leave(h->conn->w, target, name);
    else {
        pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    pt_http_respond(h, 204, &hdr, 1, NULL, NULL, 0);
}

void pt_mgmt_channel(struct pt_http *h, const struct pt_route_match *m, const char *name)
{
    struct pt_worker *w = h->conn->w;
    struct pt_buf b;
    bool binary;
    long n;

    if (bad_name(h, name))
        return;
    pt_buf_init(&b);
    if (method_is(h, "POST")) {
        binary = pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)h->body.data, h->body.len) !=
                 PT_UTF8_ACCEPT;
        n = pt_channel_publish_local(w, m->api->name, m->stage->name, name,
                                     h->body.data ? h->body.data : "", h->body.len, binary);
        pt_buf_printf(&b, "{\"delivered\":%ld}", n);
    } else if (method_is(h, "GET")) {
        pt_channel_presence(w, m->api->name, m->stage->name, name, &b);
    } else {
        pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    respond_json(h, 200, &b);
    pt_buf_cleanup(&b);
}

/* The value of query parameter <key> as a number, or <def>. */
static long query_number(const struct pt_http *h, const char *key, long def)
{
    const char *q = h->req.query.p, *end = q + h->req.query.len;
    size_t klen = strlen(key);

    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q)), *stop = amp ? amp : end;

        if ((size_t)(stop - q) > klen && memcmp(q, key, klen) == 0 && q[klen] == '=') {
            char num[24];
            size_t n = (size_t)(stop - q) - klen - 1;

            if (n == 0 || n >= sizeof(num))
                return -1;
            memcpy(num, q + klen + 1, n);
            num[n] = '\0';
            return strspn(num, "0123456789") == n ? strtol(num, NULL, 10) : -1;
        }
        q = stop + 1;
    }
    return def;
}

void pt_mgmt_list(struct pt_http *h, const struct pt_route_match *m)
{
    struct pt_worker *w = h->conn->w;
    long limit = query_number(h, "limit", LIST_DEFAULT), next = query_number(h, "next", 0);
    struct pt_buf b;
    uint32_t slot;
    long n = 0;

    if (!method_is(h, "GET")) {
        pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (limit < 1 || limit > LIST_MAX || next < 0) {
        pt_awserr_respond(h, PT_AWSERR_BAD_REQUEST,
                          "limit must be 1 to 1000 and next a token from an earlier page");
        return;
    }
    pt_buf_init(&b);
    pt_buf_puts(&b, "{\"connections\":[");
    /* The page token is the slot to continue from: stable while connections come and go. */
    for (slot = (uint32_t)next; slot < w->nslots; slot++) {
        struct pt_conn *c = w->slots[slot];

        if (c == NULL || c->state != PT_CONN_WS || strcmp(c->ws->api_name, m->api->name) != 0 ||
            strcmp(c->ws->stage_name, m->stage->name) != 0)
            continue;
        if (n == limit)
            break;
        pt_buf_printf(&b, "%s\"%s\"", n++ ? "," : "", c->ws->id);
    }
    pt_buf_puts(&b, "]");
    if (slot < w->nslots)
        pt_buf_printf(&b, ",\"next\":\"%u\"", slot);
    pt_buf_puts(&b, "}");
    respond_json(h, 200, &b);
    pt_buf_cleanup(&b);
}
