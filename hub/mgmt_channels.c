/* Channel management calls and the connection listing (see mgmt_channels.h). */
#include "mgmt_channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awserr.h"
#include "channel.h"
#include "cluster.h"
#include "config.h"
#include "conn.h"
#include "fanout.h"
#include "http.h"
#include "mailbox.h"
#include "portico/buf.h"
#include "portico/xalloc.h"
#include "router.h"
#include "utf8.h"
#include "worker.h"
#include "ws.h"

#define LIST_DEFAULT 100
#define LIST_MAX     1000

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

static void on_gathered(struct pt_worker *w, void *ud, long delivered, size_t count,
                        const char *ids)
{
    struct pt_http *h = ud;
    struct pt_buf b;

    h->fanout = NULL;
    if (delivered < 0) { /* cluster mode, and Redis is down: the other nodes are out of reach */
        pt_awserr_respond(h, PT_AWSERR_SERVICE_UNAVAILABLE, NULL);
        return;
    }
    pt_buf_init(&b);
    if (pt_http_method_is(h, "POST"))
        pt_buf_printf(&b, "{\"delivered\":%ld}", delivered);
    else
        pt_buf_printf(&b, "{\"count\":%zu,\"connections\":[%s]}", count, ids);
    respond_json(h, 200, &b);
    pt_buf_cleanup(&b);
}

void pt_mgmt_channel(struct pt_http *h, const struct pt_route_match *m, const char *name)
{
    struct pt_worker *w = h->conn->w;
    struct pt_fanout *f;
    bool binary;

    if (bad_name(h, name))
        return;
    if (pt_http_method_is(h, "POST")) {
        binary = pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)h->body.data, h->body.len) !=
                 PT_UTF8_ACCEPT;
        f = pt_fanout_publish(w, m->api->name, m->stage->name, name,
                              h->body.data ? h->body.data : "", h->body.len, binary, on_gathered,
                              h);
    } else if (pt_http_method_is(h, "GET")) {
        f = pt_fanout_presence(w, m->api->name, m->stage->name, name, on_gathered, h);
    } else {
        pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (f != NULL)
        h->fanout = f; /* answered later: pt_http_free cancels it if the client goes first */
}

/* ---- Listing, a worker at a time ---- */

struct pt_list_job {
    struct pt_worker *origin;
    struct pt_http *h; /* origin only; NULL once the request went away */
    char *api, *stage; /* owned, read by the other workers */
    unsigned worker;   /* whose slots are being read */
    uint32_t slot;
    size_t limit, n;
    struct pt_buf ids;
};

static void list_step(struct pt_list_job *j);

static void list_free(struct pt_list_job *j)
{
    free(j->api);
    free(j->stage);
    pt_buf_cleanup(&j->ids);
    free(j);
}

static void list_answer(struct pt_list_job *j)
{
    struct pt_http *h = j->h;
    struct pt_buf b;

    if (h != NULL) {
        h->list = NULL;
        pt_buf_init(&b);
        pt_buf_printf(&b, "{\"connections\":[%s]", j->ids.data ? j->ids.data : "");
        if (j->worker < j->origin->npeers)
            pt_buf_printf(&b, ",\"next\":\"%u.%u\"", j->worker, j->slot);
        pt_buf_puts(&b, "}");
        respond_json(h, 200, &b);
        pt_buf_cleanup(&b);
    }
    list_free(j);
}

static void list_step_mail(struct pt_worker *w, void *arg)
{
    list_step(arg);
}

/* On the worker being read: appends its part, then hands the job back to the origin. */
static void list_read(struct pt_worker *w, void *arg)
{
    struct pt_list_job *j = arg;
    struct pt_buf part;
    size_t got;

    pt_buf_init(&part);
    got = pt_channel_list(w, j->api, j->stage, &j->slot, j->limit - j->n, &part);
    if (got > 0) {
        if (j->n > 0)
            pt_buf_putc(&j->ids, ',');
        pt_buf_append(&j->ids, part.data, part.len);
        j->n += got;
    }
    pt_buf_cleanup(&part);
    if (j->slot >= w->nslots) {
        j->worker++; /* this worker is done: the next page starts at the next one */
        j->slot = 0;
    }
    if (w != j->origin)
        pt_mailbox_post(j->origin, list_step_mail, j);
    else
        list_step(j);
}

static void list_step(struct pt_list_job *j)
{
    struct pt_worker *w = j->origin;

    if (j->n == j->limit || j->worker >= w->npeers) {
        list_answer(j);
        return;
    }
    if (w->peers[j->worker] == w)
        list_read(w, j);
    else
        pt_mailbox_post(w->peers[j->worker], list_read, j);
}

void pt_mgmt_list_detach(struct pt_list_job *j)
{
    j->h = NULL;
}

/* limit: 1..LIST_MAX (default LIST_DEFAULT); next: "W.S" from an earlier page. */
static bool list_params(const struct pt_http *h, size_t *limit, unsigned *worker, uint32_t *slot)
{
    char *l = pt_http_query_value(h, "limit"), *n = pt_http_query_value(h, "next"), *end;
    unsigned long v;
    bool ok = true;

    *limit = LIST_DEFAULT;
    *worker = 0;
    *slot = 0;
    if (l != NULL) {
        v = strtoul(l, &end, 10);
        ok = *l != '\0' && *end == '\0' && v >= 1 && v <= LIST_MAX;
        *limit = v;
    }
    if (ok && n != NULL) {
        v = strtoul(n, &end, 10);
        ok = end != n && *end == '.' && v < h->conn->w->npeers;
        *worker = (unsigned)v;
        if (ok) {
            const char *s2 = end + 1;

            v = strtoul(s2, &end, 10);
            ok = end != s2 && *end == '\0' && v <= UINT32_MAX;
            *slot = (uint32_t)v;
        }
    }
    free(l);
    free(n);
    return ok;
}

/* Cluster mode: the stage's connections of every node, a page of Redis's set at a time. The
 * next token is the set's scan cursor; a page may hold a few more or fewer than limit. */
static void on_cluster_page(struct pt_worker *w, void *ud, long count, const char *ids,
                            const char *next)
{
    struct pt_list_job *j = ud;
    struct pt_http *h = j->h;
    struct pt_buf b;

    if (h != NULL) {
        h->list = NULL;
        if (count < 0) {
            pt_awserr_respond(h, PT_AWSERR_SERVICE_UNAVAILABLE, NULL);
        } else {
            pt_buf_init(&b);
            pt_buf_printf(&b, "{\"connections\":[%s]", ids);
            if (strcmp(next, "0") != 0)
                pt_buf_printf(&b, ",\"next\":\"%s\"", next);
            pt_buf_puts(&b, "}");
            respond_json(h, 200, &b);
            pt_buf_cleanup(&b);
        }
    }
    list_free(j);
}

static void list_cluster(struct pt_http *h, const struct pt_route_match *m)
{
    char *l = pt_http_query_value(h, "limit"), *n = pt_http_query_value(h, "next"), *end;
    struct pt_list_job *j;
    unsigned long v = LIST_DEFAULT;

    if (l != NULL)
        v = strtoul(l, &end, 10);
    if ((l != NULL && (*l == '\0' || *end != '\0' || v < 1 || v > LIST_MAX)) ||
        (n != NULL && (n[0] == '\0' || strspn(n, "0123456789") != strlen(n) || strlen(n) > 20))) {
        pt_awserr_respond(h, PT_AWSERR_BAD_REQUEST,
                          "limit must be 1 to 1000 and next a token from an earlier page");
    } else {
        j = pt_xcalloc(1, sizeof(*j));
        j->origin = h->conn->w;
        j->h = h;
        pt_buf_init(&j->ids);
        h->list = j;
        pt_cluster_connections(h->conn->w, m->api->name, m->stage->name, n != NULL ? n : "0", v,
                               on_cluster_page, j);
    }
    free(l);
    free(n);
}

void pt_mgmt_list(struct pt_http *h, const struct pt_route_match *m)
{
    struct pt_list_job *j;
    size_t limit;
    unsigned worker;
    uint32_t slot;

    if (!pt_http_method_is(h, "GET")) {
        pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (h->conn->w->cluster != NULL) {
        list_cluster(h, m);
        return;
    }
    if (!list_params(h, &limit, &worker, &slot)) {
        pt_awserr_respond(h, PT_AWSERR_BAD_REQUEST,
                          "limit must be 1 to 1000 and next a token from an earlier page");
        return;
    }
    j = pt_xcalloc(1, sizeof(*j));
    j->origin = h->conn->w;
    j->h = h;
    j->api = pt_xstrdup(m->api->name);
    j->stage = pt_xstrdup(m->stage->name);
    j->worker = worker;
    j->slot = slot;
    j->limit = limit;
    pt_buf_init(&j->ids);
    h->list = j;
    list_step(j);
}
