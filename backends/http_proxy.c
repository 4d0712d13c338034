/* HTTP_PROXY (SPEC section 5). On WebSocket routes the message is POSTed to `uri` with the
 * headers connectionId, routeKey and eventType; on $connect the client's handshake headers
 * (less hop-by-hop and Sec-WebSocket-* ones) and its query string go along, on $disconnect the
 * close code and reason. On HTTP routes the request itself goes to `uri` (method, path, query,
 * headers less hop-by-hop ones, body, plus X-Forwarded-*) and the answer comes back as it is.
 * `${stageVariables.NAME}` may appear in the uri, and on HTTP routes `{param}` and `{proxy}`. */
#include <ctype.h>
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
    char upath[512];

    in->conf = hc;
    if (pt_conf_walk(obj, path, fields, hc, ignored, errs) > 0)
        return PT_EINVAL;
    pt_conf_path_key(upath, sizeof(upath), path, "uri");
    return pt_call_compile_url(hc->uri, upath, "an HTTP backend", &hc->uri_tmpl, errs);
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
    static const char *const drop[] = {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
        "TE",         "Trailer",    "Trailers",           "Transfer-Encoding",
        "Upgrade",    "Host",       "Content-Length",     NULL};
    size_t i;

    if (strncasecmp(name, "Sec-WebSocket-", 14) == 0)
        return false;
    for (i = 0; drop[i] != NULL; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return false;
    return true;
}

static void on_response(struct pt_call *call, int err, const struct pt_upstream_response *up)
{
    struct pt_result res = {0};

    if (err != 0) {
        /* An answer too large to relay is the upstream's fault: 502 on HTTP routes. */
        res.err = err == PT_ETOOBIG && call->req->type == PT_EVENT_HTTP ? PT_EUPSTREAM : err;
    } else if (up->status >= 500 && call->req->type == PT_EVENT_MESSAGE) {
        /* A failing backend is an integration error for the client, as on AWS. On HTTP routes
         * its 5xx goes back as it came. */
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

/* Sends the call's body to <url> (the upstream client copies everything it is given). */
static void send_request(struct pt_call *call, const char *method, const char *url,
                         const struct pt_kv *headers, size_t n)
{
    const struct pt_request *r = call->req;
    struct pt_upstream_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .nheaders = n,
        .body = r->body,
        .body_len = r->body != NULL ? r->body_len : 0,
    };

    pt_upstream_send(call, &req, on_response);
}

/* ---- HTTP routes ---- */

/* Bytes a path segment may carry as they are (RFC 3986 pchar less '%'); '/' too for <greedy>. */
static bool path_safe(unsigned char c, bool greedy)
{
    return isalnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL) ||
           (greedy && c == '/');
}

/* Appends the decoded <s> percent-encoded again for a path. */
static void put_encoded(struct pt_buf *out, const char *s, bool greedy)
{
    for (; *s != '\0'; s++) {
        if (path_safe((unsigned char)*s, greedy))
            pt_buf_putc(out, *s);
        else
            pt_buf_printf(out, "%%%02X", (unsigned char)*s);
    }
}

/* The raw path the client sent for the route path (after the base path and stage), so the
 * upstream sees the client's own escapes. The hub refused malformed escapes and decoded the
 * whole path, so the suffix starting at the raw '/' where the decoded length left equals the
 * route path's length is it. NULL when there is none (a stage reached without a slash, or a
 * stage boundary written as %2F). */
static const char *raw_route_path(const struct pt_request *r)
{
    size_t total = 0, seen = 0, want = strlen(r->route_path);
    const char *p;

    for (p = r->raw_path; *p != '\0'; total++)
        p += *p == '%' && p[1] != '\0' && p[2] != '\0' ? 3 : 1;
    for (p = r->raw_path; *p != '\0' && seen + want <= total; seen++) {
        if (*p == '/' && total - seen == want)
            return p;
        p += *p == '%' && p[1] != '\0' && p[2] != '\0' ? 3 : 1;
    }
    return NULL;
}

static void put_route_path(struct pt_buf *out, const struct pt_request *r)
{
    const char *raw = raw_route_path(r);

    if (raw != NULL)
        pt_buf_puts(out, raw);
    else
        put_encoded(out, r->route_path, true);
}

static const struct pt_kv *path_param(const struct pt_request *r, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < r->npath_params; i++)
        if (strlen(r->path_params[i].name) == len && memcmp(r->path_params[i].name, name, len) == 0)
            return &r->path_params[i];
    return NULL;
}

/* Whether the route key declares {name+}: its value may span segments. */
static bool is_greedy(const struct pt_request *r, const char *name)
{
    size_t n = strlen(name);
    const char *p;

    for (p = strchr(r->route_key, '{'); p != NULL; p = strchr(p + 1, '{'))
        if (strncmp(p + 1, name, n) == 0 && strncmp(p + 1 + n, "+}", 2) == 0)
            return true;
    return false;
}

/* Appends the <n> bytes of uri path <p> with each {name} or {name+} that names a path
 * parameter replaced by its value; other braces stay as they are. */
static void put_substituted(struct pt_buf *out, const struct pt_request *r, const char *p, size_t n)
{
    const char *end = p + n, *close;
    const struct pt_kv *kv;
    size_t len;

    while (p < end) {
        close = *p == '{' ? memchr(p, '}', (size_t)(end - p)) : NULL;
        len = close != NULL ? (size_t)(close - p - 1) : 0;
        if (len > 0 && p[len] == '+')
            len--;
        kv = close != NULL && len > 0 ? path_param(r, p + 1, len) : NULL;
        if (kv == NULL) {
            pt_buf_putc(out, *p++);
            continue;
        }
        put_encoded(out, kv->value, is_greedy(r, kv->name));
        p = close + 1;
    }
}

/* The upstream URL: the rendered uri with its path's placeholders substituted; a uri without a
 * path gets the request's route path (AWS: the $default route "forwards the full path"), one
 * with a path is used as it is. The client's query string follows the uri's own. */
static void http_url(const struct pt_call *call, struct pt_buf *url)
{
    const struct http_proxy_conf *hc = call->integration->conf;
    const struct pt_request *r = call->req;
    struct pt_buf base;
    const char *authority, *path, *query;

    pt_buf_init(&base);
    pt_call_render(call, hc->uri_tmpl, &base);
    authority = base.data + (strncmp(base.data, "http://", 7) == 0 ? 7 : 0);
    path = authority + strcspn(authority, "/?#");
    query = path + strcspn(path, "?#");
    pt_buf_append(url, base.data, (size_t)(path - base.data));
    if (query - path <= 1)
        put_route_path(url, r);
    else
        put_substituted(url, r, path, (size_t)(query - path));
    if (*query == '?' && query[1] != '\0' && query[1] != '#')
        pt_buf_append(url, query, strcspn(query, "#"));
    if (r->query != NULL && r->query[0] != '\0') {
        pt_buf_putc(url, *query == '?' && query[1] != '\0' && query[1] != '#' ? '&' : '?');
        pt_buf_puts(url, r->query);
    }
    pt_buf_cleanup(&base);
}

/* Whether <list> (a Connection header's value) names <name>. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name), len;

    while (*list != '\0') {
        list += strspn(list, " \t,");
        len = strcspn(list, " \t,");
        if (len == n && strncasecmp(list, name, n) == 0)
            return true;
        list += len;
    }
    return false;
}

/* Headers of one hop (RFC 9110 7.6.1), including those the client's Connection header names,
 * and those Portico sets itself, stay behind. Expect was answered by Portico already. */
static bool forward_http_header(const struct pt_request *r, const char *name)
{
    static const char *const drop[] = {"Expect",           "Proxy-Connection",
                                       "X-Forwarded-For",  "X-Forwarded-Proto",
                                       "X-Forwarded-Host", NULL};
    size_t i;

    if (!forwardable(name) || strncasecmp(name, "Proxy-", 6) == 0)
        return false;
    for (i = 0; drop[i] != NULL; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return false;
    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, "Connection") == 0 && listed(r->headers[i].value, name))
            return false;
    return true;
}

static void http_invoke(struct pt_call *call)
{
    const struct pt_request *r = call->req;
    struct pt_kv *headers = pt_xcalloc(r->nheaders + 3, sizeof(*headers));
    struct pt_buf url, xff;
    size_t n = 0, i;

    pt_buf_init(&url);
    pt_buf_init(&xff);
    http_url(call, &url);
    for (i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, "X-Forwarded-For") == 0)
            pt_buf_printf(&xff, "%s, ", r->headers[i].value);
        else if (forward_http_header(r, r->headers[i].name))
            headers[n++] = r->headers[i];
    }
    pt_buf_puts(&xff, r->source_ip);
    headers[n++] = (struct pt_kv){"X-Forwarded-For", xff.data};
    headers[n++] = (struct pt_kv){"X-Forwarded-Proto", r->scheme != NULL ? r->scheme : "http"};
    if (r->host != NULL)
        headers[n++] = (struct pt_kv){"X-Forwarded-Host", r->host};
    send_request(call, r->method, url.data, headers, n);
    pt_buf_cleanup(&xff);
    pt_buf_cleanup(&url);
    free(headers);
}

/* ---- The call ---- */

static void http_proxy_invoke(struct pt_call *call)
{
    const struct http_proxy_conf *hc = call->integration->conf;
    const struct pt_request *r = call->req;
    struct pt_kv headers[MAX_HEADERS];
    struct pt_buf url;
    char status[16];
    size_t n = 0, i;

    if (r->type == PT_EVENT_HTTP) {
        http_invoke(call);
        return;
    }
    pt_buf_init(&url);
    if (r->type == PT_EVENT_AUTHORIZER) {
        /* A REQUEST authorizer: the event (JSON, built by the hub) is POSTed as it is, and the
         * JSON answer is the verdict. */
        headers[n++] = (struct pt_kv){"Content-Type", "application/json"};
        pt_call_render(call, hc->uri_tmpl, &url);
        send_request(call, "POST", url.data, headers, n);
        pt_buf_cleanup(&url);
        return;
    }
    pt_call_render(call, hc->uri_tmpl, &url);
    if (r->type == PT_EVENT_CONNECT && r->query != NULL && r->query[0] != '\0') {
        pt_buf_putc(&url, strchr(url.data, '?') != NULL ? '&' : '?');
        pt_buf_puts(&url, r->query);
    }
    headers[n++] = (struct pt_kv){"connectionId", r->connection_id};
    headers[n++] = (struct pt_kv){"routeKey", r->route_key};
    headers[n++] = (struct pt_kv){"eventType", pt_event_type_name(r->type)};
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
    send_request(call, "POST", url.data, headers, n);
    pt_buf_cleanup(&url);
}

static void http_proxy_cancel(struct pt_call *call)
{
    pt_upstream_cancel(call);
}

const struct pt_backend pt_backend_http_proxy = {
    .type = "HTTP_PROXY",
    .authorizes = true,
    .configure = http_proxy_configure,
    .release = http_proxy_release,
    .invoke = http_proxy_invoke,
    .cancel = http_proxy_cancel,
};
