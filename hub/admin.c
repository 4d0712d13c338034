/* The admin listener's requests (see admin.h). */
#include "admin.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cache.h"
#include "cache_shared.h"
#include "config.h"
#include "conn.h"
#include "dashboard.h"
#include "http.h"
#include "metrics.h"
#include "portico/xalloc.h"
#include "usage_report.h"
#include "worker.h"

static bool is(const struct pt_http *h, const char *method, const char *path)
{
    return pt_http_method_is(h, method) && strcmp(h->path, path) == 0;
}

static void json(struct pt_http *h, int status, const char *body)
{
    pt_http_respond(h, status, NULL, 0, "application/json", body, strlen(body));
}

/* The bearer token, compared in constant time; no token configured lets everyone in (the
 * admin listener is on loopback by default). */
static bool authorized(const struct pt_http *h)
{
    const char *token = h->cfg->admin_token;
    const struct pt_slice *a = pt_http1_header(&h->req, "Authorization");
    size_t n;

    if (token == NULL)
        return true;
    n = strlen(token);
    return a != NULL && a->len == n + 7 && strncmp(a->p, "Bearer ", 7) == 0 &&
           CRYPTO_memcmp(a->p + 7, token, n) == 0;
}

/* Cluster mode: the stage's cache is in Redis; the answer waits for it. */
struct flush_wait {
    struct pt_cache_wait wait; /* first: pt_http_free clears wait.h */
};

static void on_flushed(struct pt_worker *w, void *ud, long flushed)
{
    struct flush_wait *f = ud;
    struct pt_http *h = f->wait.h;
    char body[64];

    if (h != NULL) {
        h->cache_wait = NULL;
        if (flushed < 0) {
            json(h, 503, "{\"message\":\"Service Unavailable\"}");
        } else {
            snprintf(body, sizeof(body), "{\"flushed\":%ld}", flushed);
            json(h, 202, body);
        }
    }
    free(f);
}

static void flush_shared(struct pt_http *h, const char *api, const char *stage)
{
    struct flush_wait *f = pt_xcalloc(1, sizeof(*f));

    f->wait.h = h;
    h->cache_wait = &f->wait;
    pt_cache_shared_flush(h->conn->w, api, stage, on_flushed, f);
}

/* POST /admin/cache/flush?api=NAME&stage=NAME empties that stage's response cache. */
static void flush_cache(struct pt_http *h)
{
    char *api = pt_http_query_value(h, "api"), *stage = pt_http_query_value(h, "stage");
    const struct pt_stage *st = NULL;
    char body[64];
    size_t i;

    for (i = 0; api != NULL && stage != NULL && i < h->cfg->napis; i++)
        if (strcmp(h->cfg->apis[i].name, api) == 0)
            st = pt_api_stage(&h->cfg->apis[i], stage);
    if (api == NULL || stage == NULL)
        json(h, 400, "{\"message\":\"api and stage are required\"}");
    else if (st == NULL)
        json(h, 404, "{\"message\":\"No such API stage\"}");
    else if (st->cache.cache == NULL)
        json(h, 409, "{\"message\":\"The stage has no cache enabled\"}");
    else if (h->conn->w->cluster != NULL)
        flush_shared(h, api, stage);
    else {
        snprintf(body, sizeof(body), "{\"flushed\":%zu}", pt_cache_flush(st->cache.cache));
        json(h, 202, body);
    }
    free(api);
    free(stage);
}

void pt_admin_handle(struct pt_http *h)
{
    /* The page holds no data: it asks for the token itself before reading /metrics. */
    if (is(h, "GET", "/dashboard")) {
        pt_dashboard_serve(h);
        return;
    }
    if (!authorized(h)) {
        struct pt_kv hdr = {"WWW-Authenticate", "Bearer"};

        pt_http_respond(h, 401, &hdr, 1, "application/json", "{\"message\":\"Unauthorized\"}", 26);
    } else if (is(h, "GET", "/healthz")) {
        if (h->conn->w->draining)
            json(h, 503, "{\"status\":\"draining\"}");
        else
            json(h, 200, "{\"status\":\"serving\"}");
    } else if (is(h, "GET", "/metrics")) {
        pt_metrics_scrape(h);
    } else if (is(h, "GET", "/admin/usage")) {
        pt_usage_report(h);
    } else if (is(h, "POST", "/admin/cache/flush")) {
        flush_cache(h);
    } else if (is(h, "POST", "/admin/reload")) {
        /* The same path as SIGHUP: read and checked off the loop, errors in the log. */
        kill(getpid(), SIGHUP);
        json(h, 202, "{\"message\":\"Reloading\"}");
    } else {
        json(h, 404, "{\"message\":\"Not Found\"}");
    }
}
