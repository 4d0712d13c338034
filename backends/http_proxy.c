/* HTTP_PROXY on WebSocket routes (SPEC section 5): the message is POSTed to `uri` with the
 * headers connectionId, routeKey and eventType; on $connect the client's handshake headers
 * (less hop-by-hop and Sec-WebSocket-* ones) and its query string go along, on $disconnect the
 * close code and reason. `${stageVariables.NAME}` may appear in the uri. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "errors.h"
#include "portico/backend.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/err.h"
#include "portico/upstream.h"
#include "portico/xalloc.h"

#define MAX_HEADERS 80

struct http_proxy_conf {
    char *uri;
    struct pt_tmpl *uri_tmpl; /* owned */
};

static const struct pt_conf_field fields[] = {
    {"uri", PT_CONF_STR, offsetof(struct http_proxy_conf, uri), .required = true},
    {NULL},
};

static const char *const ignored[] = {"type", "timeoutMs", NULL};

static int http_proxy_configure(struct pt_integration *in, const cJSON *obj, const char *path,
                                struct pt_errors *errs)
{
    struct http_proxy_conf *hc = pt_xcalloc(1, sizeof(*hc));
    char upath[512], err[256];

    in->conf = hc;
    if (pt_conf_walk(obj, path, fields, hc, ignored, errs) > 0)
        return PT_EINVAL;
    pt_conf_path_key(upath, sizeof(upath), path, "uri");
    if (strncmp(hc->uri, "https://", 8) == 0) {
        pt_errors_add(errs, upath, "https upstreams are not supported yet");
        return PT_EINVAL;
    }
    if (strncmp(hc->uri, "http://", 7) != 0) {
        pt_errors_add(errs, upath, "expected an http:// URL, got \"%s\"", hc->uri);
        return PT_EINVAL;
    }
    hc->uri_tmpl = pt_tmpl_compile(hc->uri, err, sizeof(err));
    if (hc->uri_tmpl == NULL) {
        pt_errors_add(errs, upath, "%s", err);
        return PT_EINVAL;
    }
    return pt_call_check_tmpl(hc->uri_tmpl, upath, errs);
}

static void http_proxy_release(struct pt_integration *in)
{
    struct http_proxy_conf *hc = in->conf;

    if (hc == NULL)
        return;
    free(hc->uri);
    pt_tmpl_free(hc->uri_tmpl);
    free(hc);
    in->conf = NULL;
}

/* Headers that describe one hop, or the client's WebSocket handshake, are not forwarded. */
static bool forwardable(const char *name)
{
    static const char *const drop[] = {"Connection", "Keep-Alive", "Proxy-Authenticate",
                                       "Proxy-Authorization", "TE", "Trailer", "Trailers",
                                       "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
                                       NULL};
    size_t i;

    if (strncasecmp(name, "Sec-WebSocket-", 14) == 0)
        return false;
    for (i = 0; drop[i] != NULL; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return false;
    return true;
}

static const char *event_type(enum pt_event_type t)
{
    return t == PT_EVENT_CONNECT ? "CONNECT" : t == PT_EVENT_DISCONNECT ? "DISCONNECT" : "MESSAGE";
}

static void on_response(struct pt_call *call, int err, const struct pt_upstream_response *up)
{
    struct pt_result res = {0};

    if (err != 0) {
        res.err = err;
    } else if (up->status >= 500 && call->req->type == PT_EVENT_MESSAGE) {
        /* A failing backend is an integration error for the client, as on AWS. */
        res.err = PT_EUPSTREAM;
    } else {
        res.status = up->status;
        res.headers = up->headers;
        res.nheaders = up->nheaders;
        res.body = up->body;
        res.body_len = up->body_len;
    }
    pt_call_done(call, &res);
}

static void http_proxy_invoke(struct pt_call *call)
{
    const struct http_proxy_conf *hc = call->integration->conf;
    const struct pt_request *r = call->req;
    struct pt_upstream_request req = {.method = "POST"};
    struct pt_kv headers[MAX_HEADERS];
    struct pt_buf url;
    char status[16];
    size_t n = 0, i;

    pt_buf_init(&url);
    pt_call_render(call, hc->uri_tmpl, &url);
    if (r->type == PT_EVENT_CONNECT && r->query != NULL && r->query[0] != '\0') {
        pt_buf_putc(&url, strchr(url.data, '?') != NULL ? '&' : '?');
        pt_buf_puts(&url, r->query);
    }
    headers[n++] = (struct pt_kv){"connectionId", r->connection_id};
    headers[n++] = (struct pt_kv){"routeKey", r->route_key};
    headers[n++] = (struct pt_kv){"eventType", event_type(r->type)};
    if (r->type == PT_EVENT_CONNECT)
        for (i = 0; i < r->nheaders && n < MAX_HEADERS; i++)
            if (forwardable(r->headers[i].name))
                headers[n++] = r->headers[i];
    if (r->type == PT_EVENT_DISCONNECT) {
        snprintf(status, sizeof(status), "%d", r->disconnect_status);
        headers[n++] = (struct pt_kv){"disconnectStatusCode", status};
        headers[n++] = (struct pt_kv){"disconnectReason", r->disconnect_reason};
    }
    if (r->type == PT_EVENT_MESSAGE)
        headers[n++] = (struct pt_kv){"Content-Type", r->body_binary ? "application/octet-stream"
                                                                     : "text/plain; charset=utf-8"};
    req.url = url.data;
    req.headers = headers;
    req.nheaders = n;
    req.body = r->body;
    req.body_len = r->body != NULL ? r->body_len : 0;
    pt_upstream_send(call, &req, on_response);
    pt_buf_cleanup(&url);
}

static void http_proxy_cancel(struct pt_call *call)
{
    pt_upstream_cancel(call);
}

const struct pt_backend pt_backend_http_proxy = {
    .type = "HTTP_PROXY",
    .configure = http_proxy_configure,
    .release = http_proxy_release,
    .invoke = http_proxy_invoke,
    .cancel = http_proxy_cancel,
};
