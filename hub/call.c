/* Integration calls: lifecycle, deadlines, deferred completion and template variables. */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "conn.h"
#include "errors.h"
#include "fanout.h"
#include "http.h"
#include "http1.h"
#include "jsonpath.h"
#include "portico/err.h"
#include "portico/upstream.h"
#include "portico/xalloc.h"
#include "worker.h"
#include "ws.h"

static void on_deadline(struct ev_loop *loop, ev_timer *t, int revents);

struct pt_callx *pt_callx_new(struct pt_worker *w, struct pt_config *cfg,
                              const struct pt_route *route, enum pt_event_type type)
{
    struct pt_callx *x = pt_xcalloc(1, sizeof(*x));

    x->w = w;
    x->cfg = pt_config_ref(cfg);
    x->route = route;
    x->pub.integration = route->integration;
    x->pub.req = &x->req;
    x->req.type = type;
    x->req.route_key = route->key;
    x->req.connection_id = x->connection_id;
    x->req.request_id = x->request_id;
    x->req.source_ip = x->source_ip;
    ev_init(&x->deadline, on_deadline);
    w->ncalls++;
    return x;
}

static void defer_unlink(struct pt_callx *x)
{
    struct pt_worker *w = x->w;

    if (x->deferred == NULL)
        return;
    if (x->defer_prev != NULL)
        x->defer_prev->defer_next = x->defer_next;
    else
        w->defer_head = x->defer_next;
    if (x->defer_next != NULL)
        x->defer_next->defer_prev = x->defer_prev;
    else
        w->defer_tail = x->defer_prev;
    x->deferred = NULL;
    x->defer_prev = x->defer_next = NULL;
}

static void callx_free(struct pt_callx *x)
{
    if (x->upstream != NULL)
        pt_upstream_cancel(&x->pub); /* a backend that forgot: never leave a dangling exchange */
    if (x->fanout != NULL)
        pt_fanout_cancel(x->fanout);
    ev_timer_stop(x->w->loop, &x->deadline);
    defer_unlink(x);
    if (x->conn != NULL)
        pt_ws_call_unlink(x);
    if (x->http != NULL && x->http->call == x)
        x->http->call = NULL;
    x->w->ncalls--;
    pt_config_unref(x->cfg);
    free(x->user_agent);
    free(x->body);
    cJSON_Delete(x->body_json);
    cJSON_Delete(x->authorizer);
    free(x->headers);
    free(x->headers_block);
    free(x->query);
    free(x->query_params);
    free(x->query_block);
    free(x->method);
    free(x->raw_path);
    free(x->route_path);
    free(x->host);
    for (size_t i = 0; i < x->npath_params; i++) {
        free((char *)x->path_params[i].name);
        free((char *)x->path_params[i].value);
    }
    free(x->path_params);
    free(x->disconnect_reason);
    free(x);
}

void pt_callx_invoke(struct pt_callx *x, pt_callx_done_fn *on_done)
{
    const struct pt_integration *in = x->pub.integration;

    x->on_done = on_done;
    x->started = ev_now(x->w->loop);
    ev_timer_set(&x->deadline, (x->timeout_ms > 0 ? x->timeout_ms : in->timeout_ms) / 1000.0, 0.0);
    ev_timer_start(x->w->loop, &x->deadline);
    in->backend->invoke(&x->pub);
}

void pt_callx_cancel(struct pt_callx *x)
{
    const struct pt_backend *b = x->pub.integration->backend;

    if (b->cancel != NULL)
        b->cancel(&x->pub);
    callx_free(x);
}

static void on_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pt_callx *x = (struct pt_callx *)((char *)t - offsetof(struct pt_callx, deadline));
    const struct pt_backend *b = x->pub.integration->backend;
    struct pt_result res = {.err = PT_ETIMEDOUT};

    if (b->cancel != NULL)
        b->cancel(&x->pub);
    x->on_done(x, &res);
    callx_free(x);
}

void pt_call_done(struct pt_call *call, const struct pt_result *res)
{
    struct pt_callx *x = (struct pt_callx *)call;

    ev_timer_stop(x->w->loop, &x->deadline);
    defer_unlink(x);
    x->on_done(x, res);
    callx_free(x);
}

void pt_call_defer(struct pt_call *call, pt_call_fn *fn)
{
    struct pt_callx *x = (struct pt_callx *)call;
    struct pt_worker *w = x->w;

    if (x->deferred != NULL) {
        x->deferred = fn;
        return;
    }
    x->deferred = fn;
    x->defer_next = NULL;
    x->defer_prev = w->defer_tail;
    if (w->defer_tail != NULL)
        w->defer_tail->defer_next = x;
    else
        w->defer_head = x;
    w->defer_tail = x;
}

void pt_callx_run_deferred(struct pt_worker *w)
{
    struct pt_callx *x;
    pt_call_fn *fn;

    while ((x = w->defer_head) != NULL) {
        fn = x->deferred;
        defer_unlink(x);
        fn(&x->pub);
    }
}

void pt_callx_copy_headers(struct pt_callx *x, const struct pt_http1_req *req)
{
    size_t i, total = 0, off = 0;

    for (i = 0; i < req->nheaders; i++)
        total += req->headers[i].name.len + req->headers[i].value.len + 2;
    x->headers = pt_xcalloc(req->nheaders ? req->nheaders : 1, sizeof(*x->headers));
    x->headers_block = pt_xmalloc(total + 1);
    for (i = 0; i < req->nheaders; i++) {
        const struct pt_http1_header *h = &req->headers[i];

        memcpy(x->headers_block + off, h->name.p, h->name.len);
        x->headers_block[off + h->name.len] = '\0';
        x->headers[i].name = x->headers_block + off;
        off += h->name.len + 1;
        memcpy(x->headers_block + off, h->value.p, h->value.len);
        x->headers_block[off + h->value.len] = '\0';
        x->headers[i].value = x->headers_block + off;
        off += h->value.len + 1;
    }
    x->req.headers = x->headers;
    x->req.nheaders = req->nheaders;
}

void pt_callx_parse_query(struct pt_callx *x)
{
    const char *p = x->query, *end = p + strlen(p);
    size_t n = 0, off = 0, max = 1;
    const char *q;
    int len;

    for (q = p; *q != '\0'; q++)
        max += *q == '&';
    x->query_params = pt_xcalloc(max, sizeof(*x->query_params));
    x->query_block = pt_xmalloc(strlen(p) + 2 * max + 1);
    while (p < end) {
        const char *amp = strchr(p, '&'), *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p)), *name_end = eq ? eq : stop;
        char *name = x->query_block + off, *value;

        if (stop == p) {
            p = stop + 1;
            continue;
        }
        len = pt_http1_percent_decode(p, (size_t)(name_end - p), name, true);
        off += len < 0 ? 0 : (size_t)len;
        x->query_block[off++] = '\0';
        value = x->query_block + off;
        len = eq ? pt_http1_percent_decode(eq + 1, (size_t)(stop - eq - 1), value, true) : 0;
        off += len < 0 ? 0 : (size_t)len;
        x->query_block[off++] = '\0';
        if (len >= 0)
            x->query_params[n++] = (struct pt_kv){name, value};
        p = stop + 1;
    }
    x->req.query_params = x->query_params;
    x->req.nquery_params = n;
}

/* ---- Template variables ---- */

static bool var_is(const char *var, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(var, name, len) == 0;
}

static bool var_prefix(const char *var, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len > n && memcmp(var, prefix, n) == 0;
}

/* $context.authorizer.claims.NAME (JWT), .principalId, .NAME (a REQUEST authorizer's
 * context), $context.identity.accessKey (AWS_IAM) and .apiKeyId, from the authorizer context
 * (see struct pt_request). */
static int resolve_authorizer(const cJSON *a, const char *v, size_t n, struct pt_buf *out)
{
    const cJSON *node = NULL;
    char path[256];

    if (a == NULL || n >= sizeof(path))
        return PT_ENOTFOUND;
    if (var_is(v, n, "identity.accessKey"))
        node = pt_jsonpath_get(a, "iam.accessKey", 13);
    else if (var_is(v, n, "identity.apiKeyId"))
        node = cJSON_GetObjectItemCaseSensitive(a, "apiKeyId");
    else if (var_prefix(v, n, "authorizer.claims."))
        node = pt_jsonpath_get(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "jwt"), "claims"),
            v + 18, n - 18);
    else if (var_is(v, n, "authorizer.principalId"))
        node = cJSON_GetObjectItemCaseSensitive(a, "principalId");
    else
        node = pt_jsonpath_get(cJSON_GetObjectItemCaseSensitive(a, "lambda"), v + 11, n - 11);
    if (node == NULL)
        return PT_ENOTFOUND;
    pt_jsonpath_stringify(node, out);
    return 0;
}

static int resolve_context(const struct pt_request *r, const char *v, size_t n, struct pt_buf *out)
{
    const char *s = NULL;

    if (var_is(v, n, "connectionId"))
        s = r->connection_id;
    else if (var_is(v, n, "requestId") || var_is(v, n, "extendedRequestId"))
        s = r->request_id;
    else if (var_is(v, n, "routeKey"))
        s = r->route_key;
    else if (var_is(v, n, "messageId"))
        s = r->message_id;
    else if (var_is(v, n, "eventType"))
        s = pt_event_type_name(r->type);
    else if (var_is(v, n, "stage"))
        s = r->stage;
    else if (var_is(v, n, "apiId"))
        s = r->api_name;
    else if (var_is(v, n, "domainName"))
        s = r->domain_name;
    else if (var_is(v, n, "identity.sourceIp"))
        s = r->source_ip;
    else if (var_is(v, n, "identity.userAgent"))
        s = r->user_agent;
    else if (var_is(v, n, "connectedAt")) {
        pt_buf_printf(out, "%lld", r->connected_at_ms);
        return 0;
    } else if (var_is(v, n, "requestTimeEpoch")) {
        pt_buf_printf(out, "%lld", r->request_time_ms);
        return 0;
    } else if (var_prefix(v, n, "authorizer.") || var_is(v, n, "identity.accessKey") ||
               var_is(v, n, "identity.apiKeyId")) {
        return resolve_authorizer(r->authorizer, v, n, out);
    } else
        return PT_ENOTFOUND;
    if (s != NULL)
        pt_buf_puts(out, s);
    return 0;
}

int pt_callx_resolve(void *ud, const char *var, size_t len, struct pt_buf *out)
{
    const struct pt_request *r = ud;
    size_t i;

    if (var_is(var, len, "request.body")) {
        if (r->body != NULL)
            pt_buf_append(out, r->body, r->body_len);
        return 0;
    }
    if (var_prefix(var, len, "request.body.")) {
        const cJSON *node;

        if (r->body_json == NULL)
            return PT_ENOTFOUND;
        node = pt_jsonpath_get(r->body_json, var + 13, len - 13);
        if (node == NULL)
            return PT_ENOTFOUND;
        pt_jsonpath_stringify(node, out);
        return 0;
    }
    if (var_prefix(var, len, "context."))
        return resolve_context(r, var + 8, len - 8, out);
    if (var_prefix(var, len, "stageVariables.")) {
        for (i = 0; i < r->nstage_vars; i++)
            if (var_is(var + 15, len - 15, r->stage_vars[i].name)) {
                pt_buf_puts(out, r->stage_vars[i].value);
                return 0;
            }
        return PT_ENOTFOUND;
    }
    return PT_ENOTFOUND;
}

void pt_call_render(const struct pt_call *call, const struct pt_tmpl *t, struct pt_buf *out)
{
    pt_tmpl_render(t, pt_callx_resolve, (void *)call->req, out);
}

int pt_call_compile_url(const char *uri, const char *path, const char *what, struct pt_tmpl **out,
                        struct pt_errors *errs)
{
    char err[256];

    *out = NULL;
    if (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0) {
        pt_errors_add(errs, path, "expected the http:// or https:// URL of %s, got \"%s\"", what,
                      uri);
        return PT_EINVAL;
    }
    *out = pt_tmpl_compile(uri, err, sizeof(err));
    if (*out == NULL) {
        pt_errors_add(errs, path, "%s", err);
        return PT_EINVAL;
    }
    return pt_call_check_tmpl(*out, path, errs);
}

int pt_call_check_tmpl(const struct pt_tmpl *t, const char *path, struct pt_errors *errs)
{
    static const char *const known_context[] = {"connectionId",
                                                "requestId",
                                                "extendedRequestId",
                                                "routeKey",
                                                "messageId",
                                                "eventType",
                                                "stage",
                                                "apiId",
                                                "domainName",
                                                "identity.sourceIp",
                                                "identity.userAgent",
                                                "connectedAt",
                                                "requestTimeEpoch",
                                                "identity.accessKey",
                                                "identity.apiKeyId",
                                                "authorizer.principalId",
                                                NULL};
    size_t i, k;
    int rc = 0;

    for (i = 0; i < pt_tmpl_nvars(t); i++) {
        const char *v = pt_tmpl_var(t, i);
        bool ok = strcmp(v, "request.body") == 0 || strncmp(v, "request.body.", 13) == 0 ||
                  (strncmp(v, "stageVariables.", 15) == 0 && v[15] != '\0');

        if (strncmp(v, "context.authorizer.", 19) == 0 && v[19] != '\0')
            ok = true;
        if (strncmp(v, "context.", 8) == 0)
            for (k = 0; known_context[k] != NULL; k++)
                if (strcmp(v + 8, known_context[k]) == 0)
                    ok = true;
        if (!ok) {
            pt_errors_add(errs, path, "unknown template variable \"$%s\"", v);
            rc = PT_EINVAL;
        }
    }
    return rc;
}
