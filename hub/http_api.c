/* Requests to HTTP APIs (SPEC sections 3 and 5): CORS preflights answered here, the route
 * chosen by the compiled matcher, the integration called, and its answer (or the AWS error for
 * its failure) returned with the request id. */
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cache.h"
#include "cache_shared.h"
#include "call.h"
#include "config.h"
#include "conn.h"
#include "cors.h"
#include "http.h"
#include "http_cache.h"
#include "http_routes.h"
#include "metrics.h"
#include "policy.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "router.h"
#include "throttle.h"
#include "worker.h"

/* Hop-by-hop headers (RFC 9110 7.6.1) and framing that we set ourselves. */
static bool is_hop_header(const char *name)
{
    static const char *const hop[] = {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
        "Upgrade",    "TE",         "Trailer",          "Content-Length",
        "Date",       NULL};
    size_t i;

    for (i = 0; hop[i] != NULL; i++)
        if (strcasecmp(name, hop[i]) == 0)
            return true;
    return false;
}

static void respond_json(struct pt_http *h, int status, const char *message,
                         const struct pt_kv *extra, size_t nextra)
{
    struct pt_kv hdrs[3 + PT_CORS_MAX_HEADERS];
    char body[128];
    size_t n = 0, i;
    int len = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", message);

    hdrs[n++] = (struct pt_kv){"apigw-requestid", h->request_id};
    for (i = 0; i < nextra && n < sizeof(hdrs) / sizeof(hdrs[0]); i++)
        hdrs[n++] = extra[i];
    h->error = message;
    pt_http_respond(h, status, hdrs, n, "application/json", body, (size_t)len);
}

/* ---- The answer ---- */

/* Counts the request in the metrics of its route: status, latency, and the integration's
 * latency when it ran (<call_started> >= 0). Returns the route's counters, or NULL. */
static struct pt_metric *count(struct pt_http *h, const char *route, int status,
                               double call_started, bool failed)
{
    struct pt_worker *w = h->conn->w;
    double now = ev_now(w->loop);
    struct pt_route_match m;
    struct pt_metric *mt;

    h->route_key = route;
    if (call_started >= 0)
        h->integration_s = now - call_started;
    if (pt_router_match(h->cfg, h->path, &m) != 0)
        return NULL;
    mt = pt_metrics_get(w, m.api->name, m.stage->name, route);
    pt_metrics_request(mt, status, now - h->started, call_started >= 0 ? now - call_started : -1);
    if (call_started < 0 && status >= 400)
        mt->client_errors++;
    if (failed)
        mt->execution_errors++;
    else if (call_started >= 0 && status >= 400)
        mt->integration_errors++;
    return mt;
}

/* The CORS headers of <api> for this request's Origin; returns how many. They may point into
 * <*origin> (owned: the caller frees it once the answer is sent). */
static size_t cors_for(const struct pt_http *h, const struct pt_api *api, struct pt_kv *out,
                       char **origin)
{
    *origin = NULL;
    if (api->cors == NULL)
        return 0;
    *origin = pt_http_header_dup(&h->req, "Origin");
    return pt_cors_response(api->cors, *origin, out);
}

/* The integration's headers that may go on: not hop-by-hop, not broken, and not CORS ones when
 * Portico answers CORS itself. Returns how many went into <out> (room for <n>). */
static size_t pass_headers(struct pt_http *h, const struct pt_api *api, const struct pt_kv *in,
                           size_t n, struct pt_kv *out)
{
    size_t i, kept = 0;

    for (i = 0; i < n; i++) {
        const char *name = in[i].name;

        if (strcasecmp(name, "Content-Length") == 0 && pt_http_method_is(h, "HEAD"))
            h->head_length = strtoll(in[i].value, NULL, 10); /* HEAD: no body came */
        if (is_hop_header(name) || strpbrk(name, "\r\n:") != NULL ||
            strpbrk(in[i].value, "\r\n") != NULL ||
            (api->cors != NULL && pt_cors_is_cors_header(name)))
            continue;
        out[kept++] = in[i];
    }
    return kept;
}

/* Sends an answer whose headers passed pass_headers(), with the request's CORS headers, its
 * request id, and on cached routes X-Cache (and the Warning of an ignored max-age=0). */
static void send_answer(struct pt_http *h, const struct pt_api *api, int status,
                        const struct pt_kv *headers, size_t n, const void *body, size_t len,
                        const char *xcache)
{
    struct pt_kv *hdrs = pt_xcalloc(n + PT_CORS_MAX_HEADERS + 3, sizeof(*hdrs));
    size_t k = n;
    char *origin;

    memcpy(hdrs, headers, n * sizeof(*hdrs));
    k += cors_for(h, api, hdrs + k, &origin);
    hdrs[k++] = (struct pt_kv){"apigw-requestid", h->request_id};
    if (xcache != NULL)
        hdrs[k++] = (struct pt_kv){"X-Cache", xcache};
    if (xcache != NULL && h->cache_warning != NULL)
        hdrs[k++] = (struct pt_kv){"Warning", h->cache_warning};
    pt_http_respond(h, status, hdrs, k, NULL, body, len);
    free(hdrs);
    free(origin);
}

static void on_http_done(struct pt_callx *x, const struct pt_result *res)
{
    struct pt_http *h = x->http;
    const struct pt_api *api = x->api;
    struct pt_kv cors[PT_CORS_MAX_HEADERS], *hdrs;
    struct pt_metric *mt;
    size_t n;

    if (h == NULL)
        return;
    h->call = NULL; /* it is completing: answering must not cancel it */
    x->http = NULL;
    h->integration_status = res->err == 0 ? res->status : 0;
    mt = count(h, x->route->key,
               res->err == PT_ETIMEDOUT   ? 504
               : res->err == PT_EUPSTREAM ? 502
               : res->err != 0            ? 500
                                          : res->status,
               x->started, res->err != 0);
    if (mt != NULL && h->cache_key != NULL)
        mt->cache_misses++;
    if (res->err != 0) {
        char *origin;
        size_t ncors = cors_for(h, api, cors, &origin);

        if (res->err == PT_ETIMEDOUT)
            respond_json(h, 504, "Endpoint request timed out", cors, ncors);
        else if (res->err == PT_EUPSTREAM)
            respond_json(h, 502, "Bad Gateway", cors, ncors);
        else
            respond_json(h, 500, "Internal Server Error", cors, ncors);
        free(origin);
        return;
    }
    hdrs = pt_xcalloc(res->nheaders + 1, sizeof(*hdrs));
    n = pass_headers(h, api, res->headers, res->nheaders, hdrs);
    if (h->cache_key != NULL && res->status >= 200 && res->status <= 299 &&
        h->conn->w->cluster != NULL)
        pt_cache_shared_put(h->conn->w, api->name, x->req.stage, h->cache_key, res->status, hdrs, n,
                            res->body, res->body ? res->body_len : 0, h->cache_ttl_s);
    else if (h->cache_key != NULL && res->status >= 200 && res->status <= 299)
        pt_cache_put(h->cache, h->cache_key, res->status, hdrs, n, res->body,
                     res->body ? res->body_len : 0, (double)h->cache_ttl_s,
                     ev_now(h->conn->w->loop));
    send_answer(h, api, res->status, hdrs, n, res->body, res->body ? res->body_len : 0,
                h->cache_key != NULL ? "Miss" : NULL);
    free(hdrs);
}

/* ---- The request ---- */

static void fill_request(struct pt_callx *x, struct pt_http *h, const struct pt_route_match *m,
                         const struct pt_http_route_match *rm)
{
    struct pt_conn *c = h->conn;
    size_t i;

    x->api = m->api;
    x->req.api_name = m->api->name;
    x->req.stage = m->stage->name;
    x->req.stage_vars = m->stage->vars;
    x->req.nstage_vars = m->stage->nvars;
    x->req.route_key = rm->route_key;
    memcpy(x->request_id, h->request_id, sizeof(x->request_id));
    pt_conn_peer_ip(c, x->source_ip);
    x->req.request_time_ms = (long long)(ev_now(c->w->loop) * 1000.0);
    x->method = pt_xstrndup(h->req.method.p, h->req.method.len);
    x->req.method = x->method;
    x->raw_path = pt_xstrndup(h->req.path.p, h->req.path.len);
    x->req.raw_path = x->raw_path;
    x->route_path = pt_xstrdup(m->rest[0] != '\0' ? m->rest : "/");
    x->req.route_path = x->route_path;
    x->req.protocol = h->req.minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1";
    x->req.scheme = c->ssl != NULL ? "https" : "http";
    pt_callx_copy_headers(x, &h->req);
    x->host = pt_http_header_dup(&h->req, "Host");
    x->req.host = x->host;
    x->req.domain_name = x->host != NULL ? x->host : "localhost";
    x->user_agent = pt_http_header_dup(&h->req, "User-Agent");
    x->req.user_agent = x->user_agent;
    if (h->req.query.len > 0) {
        x->query = pt_xstrndup(h->req.query.p, h->req.query.len);
        x->req.query = x->query;
        pt_callx_parse_query(x);
    }
    x->path_params = pt_xcalloc(rm->nparams + 1, sizeof(*x->path_params));
    for (i = 0; i < rm->nparams; i++) {
        x->path_params[i].name = pt_xstrdup(rm->params[i].name);
        x->path_params[i].value = pt_xstrndup(rm->params[i].value, rm->params[i].value_len);
    }
    x->npath_params = rm->nparams;
    x->req.path_params = x->path_params;
    x->req.npath_params = rm->nparams;
    /* The body is the request's: the call ends before the request does. */
    x->req.body = h->body.data != NULL ? h->body.data : "";
    x->req.body_len = h->body.len;
    /* For $request.body.PATH in templates: a JSON body is parsed (the size is already bounded
     * by requestBodyBytes). */
    if (h->body.len > 0 && (h->body.data[0] == '{' || h->body.data[0] == '[')) {
        x->body_json = cJSON_ParseWithLength(h->body.data, h->body.len);
        x->req.body_json = x->body_json;
    }
}

/* What a request needs to continue after its policy chain. */
struct pending {
    struct pt_route_match m;
    struct pt_http_route_match rm;
    const struct pt_route *route;
};

/* 429 for a throttle or a spent quota (SPEC section 6). */
static void refuse_throttled(struct pt_http *h, const struct pt_route *route,
                             enum pt_throttle_verdict v)
{
    struct pt_kv type = {"x-amzn-ErrorType", pt_throttle_error_type(v)};

    count(h, route->key, 429, -1, false);
    respond_json(h, 429, pt_throttle_message(v), &type, 1);
}

static void answer_hit(struct pt_http *h, const struct pending *k, struct pt_cache_entry *e)
{
    struct pt_metric *mt = count(h, k->route->key, e->status, -1, false);

    if (mt != NULL)
        mt->cache_hits++;
    send_answer(h, k->m.api, e->status, e->headers, e->nheaders, e->body, e->body_len, "Hit");
}

/* The stage's response cache: true when the request was answered from it (a hit, or the 403
 * of FAIL_WITH_403); otherwise a cacheable request leaves with h->cache_key set, so that its
 * answer is kept. */
static bool try_cache(struct pt_http *h, const struct pending *k)
{
    const struct pt_stage *stage = k->m.stage;
    struct pt_cache_entry *e;
    bool refresh;

    if (!pt_http_cache_applies(h, stage, k->route))
        return false;
    refresh = pt_http_cache_wants_refresh(h);
    if (refresh && !pt_http_cache_may_invalidate(h, k->m.api, stage)) {
        if (stage->cache.unauthorized_strategy == PT_CACHE_FAIL_WITH_403) {
            struct pt_kv type = {"x-amzn-ErrorType", "ForbiddenException"};

            count(h, k->route->key, 403, -1, false);
            respond_json(h, 403, "Forbidden", &type, 1);
            return true;
        }
        if (stage->cache.unauthorized_strategy == PT_CACHE_SUCCEED_WITH_RESPONSE_HEADER)
            h->cache_warning = "199 portico \"Cache-Control: max-age=0 ignored: not authorized "
                               "to invalidate the cache\"";
        refresh = false;
    }
    h->cache = stage->cache.cache;
    h->cache_key = pt_http_cache_key(h, k->route, &k->rm);
    h->cache_ttl_s = k->route->cache.ttl_s;
    h->cache_refresh = refresh;
    if (h->conn->w->cluster != NULL)
        return false; /* the shared cache: looked up by start_call, through Redis */
    e = refresh ? NULL : pt_cache_get(h->cache, h->cache_key, ev_now(h->conn->w->loop));
    if (e == NULL)
        return false;
    answer_hit(h, k, e);
    return true;
}

/* Calls the route's integration; on_http_done answers. */
static void invoke(struct pt_http *h, const struct pending *k, struct cJSON *authorizer)
{
    struct pt_callx *x;

    x = pt_callx_new(h->conn->w, h->cfg, k->route, PT_EVENT_HTTP);
    fill_request(x, h, &k->m, &k->rm);
    x->authorizer = authorizer; /* the call owns it now */
    x->req.authorizer = authorizer;
    x->http = h;
    h->call = x;
    pt_callx_invoke(x, on_http_done);
}

/* ---- The shared cache (cluster mode): the lookup waits for Redis ---- */

struct shared_lookup {
    struct pt_cache_wait wait; /* first: pt_http_free clears wait.h */
    struct pending k;
    struct cJSON *authorizer; /* owned until the call takes it */
};

static void on_shared_lookup(struct pt_worker *w, void *ud, struct pt_cache_entry *e)
{
    struct shared_lookup *l = ud;
    struct pt_http *h = l->wait.h;

    if (h != NULL) {
        h->cache_wait = NULL;
        if (e != NULL) {
            answer_hit(h, &l->k, e);
        } else {
            invoke(h, &l->k, l->authorizer);
            l->authorizer = NULL;
        }
    }
    pt_cache_entry_unref(e);
    cJSON_Delete(l->authorizer);
    free(l);
}

static void lookup_shared(struct pt_http *h, const struct pending *k, struct cJSON *authorizer)
{
    struct shared_lookup *l = pt_xcalloc(1, sizeof(*l));

    l->wait.h = h;
    l->k = *k;
    l->authorizer = authorizer;
    h->cache_wait = &l->wait;
    pt_cache_shared_get(h->conn->w, k->m.api->name, k->m.stage->name, h->cache_key,
                        on_shared_lookup, l);
}

static void start_call(struct pt_http *h, const struct pending *k, struct cJSON *authorizer)
{
    enum pt_throttle_verdict v =
        pt_throttle_plan(h->cfg, k->m.api, k->m.stage, k->route->key,
                         pt_policy_api_key_id(authorizer), ev_now(h->conn->w->loop));

    if (v != PT_THROTTLE_PASS) {
        cJSON_Delete(authorizer);
        refuse_throttled(h, k->route, v);
        return;
    }
    if (try_cache(h, k)) {
        cJSON_Delete(authorizer);
        return;
    }
    if (h->cache_key != NULL && h->conn->w->cluster != NULL && !h->cache_refresh) {
        lookup_shared(h, k, authorizer);
        return;
    }
    invoke(h, k, authorizer);
}

static void on_policy(struct pt_http *h, struct pt_policy_result *res, void *data)
{
    struct pt_kv extra[2];
    size_t n = 0;

    if (res->status == 0) {
        start_call(h, data, res->authorizer);
        res->authorizer = NULL;
        return;
    }
    count(h, ((const struct pending *)data)->route->key, res->status, -1, false);
    extra[n++] = (struct pt_kv){"x-amzn-ErrorType", res->type};
    if (res->www_authenticate != NULL)
        extra[n++] = (struct pt_kv){"WWW-Authenticate", res->www_authenticate};
    respond_json(h, res->status, res->message, extra, n);
}

void pt_http_api_handle(struct pt_http *h, const struct pt_route_match *m)
{
    const struct pt_api *api = m->api;
    struct pending k;
    enum pt_throttle_verdict v;
    char method[16], *origin, *acrm;
    const char *path = m->rest[0] != '\0' ? m->rest : "/";

    if (h->req.method.len >= sizeof(method)) {
        respond_json(h, 400, "Bad Request", NULL, 0); /* no route has such a method */
        return;
    }
    snprintf(method, sizeof(method), "%.*s", (int)h->req.method.len, h->req.method.p);
    if (api->cors != NULL) {
        struct pt_kv hdrs[PT_CORS_MAX_HEADERS + 1];
        size_t n;

        origin = pt_http_header_dup(&h->req, "Origin");
        acrm = pt_http_header_dup(&h->req, "Access-Control-Request-Method");
        if (pt_cors_is_preflight(method, origin, acrm)) {
            n = pt_cors_preflight(api->cors, origin, hdrs);
            hdrs[n++] = (struct pt_kv){"apigw-requestid", h->request_id};
            pt_http_respond(h, 204, hdrs, n, NULL, NULL, 0);
            free(origin);
            free(acrm);
            return;
        }
        free(origin);
        free(acrm);
    }
    k.m = *m;
    k.route = pt_http_routes_match(api->http_routes, method, path, strlen(path), &k.rm);
    if (k.route == NULL || k.route->integration == NULL) {
        respond_json(h, 404, "Not Found", NULL, 0);
        return;
    }
    if ((v = pt_throttle_enter(h->cfg, m->stage)) != PT_THROTTLE_PASS) {
        refuse_throttled(h, k.route, v);
        return;
    }
    if (pt_policy_needed(k.route))
        pt_policy_start(h, api, m->stage, k.route, on_policy, &k, sizeof(k));
    else
        start_call(h, &k, NULL);
}
