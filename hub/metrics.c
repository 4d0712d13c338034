/* Metrics (see metrics.h). Each worker keeps its own list of counters, touched by it alone; a
 * scrape asks every worker for a copy through its mailbox, sums them on the worker serving the
 * scrape, and writes the Prometheus text format. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "conn.h"
#include "http.h"
#include "mailbox.h"
#include "portico/xalloc.h"
#include "worker.h"

static const double bounds_s[PT_METRICS_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                    0.05,  0.1,    0.5,   1.0,  5.0};

struct pt_metrics {
    struct pt_metric *head;
};

struct pt_metric *pt_metrics_get(struct pt_worker *w, const char *api, const char *stage,
                                 const char *route)
{
    struct pt_metric *m;

    if (w->metrics == NULL)
        w->metrics = pt_xcalloc(1, sizeof(*w->metrics));
    /* A handful of routes per API: a short list, most recently added first. */
    for (m = w->metrics->head; m != NULL; m = m->next)
        if (strcmp(m->route, route) == 0 && strcmp(m->stage, stage) == 0 &&
            strcmp(m->api, api) == 0)
            return m;
    m = pt_xcalloc(1, sizeof(*m));
    m->api = pt_xstrdup(api);
    m->stage = pt_xstrdup(stage);
    m->route = pt_xstrdup(route);
    m->next = w->metrics->head;
    w->metrics->head = m;
    return m;
}

void pt_metrics_observe(struct pt_metric_hist *h, double seconds)
{
    size_t i = 0;

    while (i < PT_METRICS_BUCKETS && seconds > bounds_s[i])
        i++;
    h->counts[i]++;
    h->sum_s += seconds;
    h->count++;
}

void pt_metrics_request(struct pt_metric *m, int status, double latency_s, double integration_s)
{
    m->requests++;
    if (status >= 400 && status < 500)
        m->e4xx++;
    else if (status >= 500)
        m->e5xx++;
    pt_metrics_observe(&m->latency, latency_s);
    if (integration_s >= 0)
        pt_metrics_observe(&m->integration_latency, integration_s);
}

void pt_metrics_cleanup(struct pt_worker *w)
{
    struct pt_metric *m, *next;

    if (w->metrics == NULL)
        return;
    for (m = w->metrics->head; m != NULL; m = next) {
        next = m->next;
        free(m->api);
        free(m->stage);
        free(m->route);
        free(m);
    }
    free(w->metrics);
    w->metrics = NULL;
}

/* ---- Scraping ---- */

struct scrape {
    struct pt_worker *origin;
    struct pt_http *h; /* NULL once the request went away */
    unsigned remaining;
    struct pt_metric *sum; /* owned list */
    size_t connections;
    int cluster_up; /* 1 when every worker's Redis link is up, 0 if one is down, -1: no cluster */
};

struct part {
    struct scrape *s;
    struct pt_metric *copy; /* owned list */
    size_t connections;
    int cluster_up;
};

static void add_hist(struct pt_metric_hist *to, const struct pt_metric_hist *from)
{
    size_t i;

    for (i = 0; i <= PT_METRICS_BUCKETS; i++)
        to->counts[i] += from->counts[i];
    to->sum_s += from->sum_s;
    to->count += from->count;
}

static void merge(struct scrape *s, struct pt_metric *list)
{
    struct pt_metric *m, *next, *t;

    for (m = list; m != NULL; m = next) {
        next = m->next;
        for (t = s->sum; t != NULL; t = t->next)
            if (strcmp(t->route, m->route) == 0 && strcmp(t->stage, m->stage) == 0 &&
                strcmp(t->api, m->api) == 0)
                break;
        if (t == NULL) {
            m->next = s->sum;
            s->sum = m;
            continue;
        }
        t->requests += m->requests;
        t->e4xx += m->e4xx;
        t->e5xx += m->e5xx;
        t->connects += m->connects;
        t->messages += m->messages;
        t->integration_errors += m->integration_errors;
        t->client_errors += m->client_errors;
        t->execution_errors += m->execution_errors;
        t->deliveries += m->deliveries;
        t->cache_hits += m->cache_hits;
        t->cache_misses += m->cache_misses;
        add_hist(&t->latency, &m->latency);
        add_hist(&t->integration_latency, &m->integration_latency);
        free(m->api);
        free(m->stage);
        free(m->route);
        free(m);
    }
}

/* Copies the worker's counters (runs on that worker). */
static struct pt_metric *copy_all(struct pt_worker *w)
{
    struct pt_metric *m, *c, *out = NULL;

    for (m = w->metrics ? w->metrics->head : NULL; m != NULL; m = m->next) {
        c = pt_xmalloc(sizeof(*c));
        *c = *m;
        c->api = pt_xstrdup(m->api);
        c->stage = pt_xstrdup(m->stage);
        c->route = pt_xstrdup(m->route);
        c->next = out;
        out = c;
    }
    return out;
}

static void label(struct pt_buf *b, const char *name, const struct pt_metric *m)
{
    pt_buf_printf(b, "%s{api=\"", name);
    pt_buf_json_escape(b, m->api, strlen(m->api)); /* the same escapes as Prometheus labels */
    pt_buf_puts(b, "\",stage=\"");
    pt_buf_json_escape(b, m->stage, strlen(m->stage));
    pt_buf_puts(b, "\",route=\"");
    pt_buf_json_escape(b, m->route, strlen(m->route));
    pt_buf_puts(b, "\"");
}

static void counter(struct pt_buf *b, const char *name, const char *help,
                    const struct pt_metric *list, size_t offset)
{
    const struct pt_metric *m;

    pt_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (m = list; m != NULL; m = m->next) {
        label(b, name, m);
        pt_buf_printf(b, "} %llu\n",
                      (unsigned long long)*(const uint64_t *)((const char *)m + offset));
    }
}

static void histogram(struct pt_buf *b, const char *name, const char *help,
                      const struct pt_metric *list, size_t offset)
{
    const struct pt_metric *m;
    char bucket[96];
    size_t i;

    pt_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (m = list; m != NULL; m = m->next) {
        const struct pt_metric_hist *h = (const struct pt_metric_hist *)((const char *)m + offset);
        uint64_t cum = 0;

        if (h->count == 0)
            continue;
        snprintf(bucket, sizeof(bucket), "%s_bucket", name);
        for (i = 0; i <= PT_METRICS_BUCKETS; i++) {
            cum += h->counts[i];
            label(b, bucket, m);
            if (i < PT_METRICS_BUCKETS)
                pt_buf_printf(b, ",le=\"%g\"} %llu\n", bounds_s[i], (unsigned long long)cum);
            else
                pt_buf_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        snprintf(bucket, sizeof(bucket), "%s_sum", name);
        label(b, bucket, m);
        pt_buf_printf(b, "} %.6f\n", h->sum_s);
        snprintf(bucket, sizeof(bucket), "%s_count", name);
        label(b, bucket, m);
        pt_buf_printf(b, "} %llu\n", (unsigned long long)h->count);
    }
}

static void render(struct scrape *s)
{
    struct pt_kv hdr = {"Cache-Control", "no-store"};
    struct pt_buf b;

    pt_buf_init(&b);
#define OFF(f) offsetof(struct pt_metric, f)
    counter(&b, "portico_requests_total", "Requests and messages (AWS Count).", s->sum,
            OFF(requests));
    counter(&b, "portico_4xx_errors_total", "Answers with a 4xx status (AWS 4XXError).", s->sum,
            OFF(e4xx));
    counter(&b, "portico_5xx_errors_total", "Answers with a 5xx status (AWS 5XXError).", s->sum,
            OFF(e5xx));
    counter(&b, "portico_connects_total", "WebSocket $connect requests (AWS ConnectCount).", s->sum,
            OFF(connects));
    counter(&b, "portico_messages_total", "WebSocket messages in and out (AWS MessageCount).",
            s->sum, OFF(messages));
    counter(&b, "portico_integration_errors_total",
            "Integration answers that were errors (AWS IntegrationError).", s->sum,
            OFF(integration_errors));
    counter(&b, "portico_client_errors_total", "Refused before the integration (AWS ClientError).",
            s->sum, OFF(client_errors));
    counter(&b, "portico_execution_errors_total",
            "Integration calls that failed or timed out (AWS ExecutionError).", s->sum,
            OFF(execution_errors));
    counter(&b, "portico_channel_deliveries_total", "Channel messages queued to subscribers.",
            s->sum, OFF(deliveries));
    counter(&b, "portico_cache_hits_total",
            "Answers served from the response cache (AWS CacheHitCount).", s->sum, OFF(cache_hits));
    counter(&b, "portico_cache_misses_total",
            "Cacheable requests the integration answered (AWS CacheMissCount).", s->sum,
            OFF(cache_misses));
    histogram(&b, "portico_latency_seconds", "From request to answer (AWS Latency).", s->sum,
              OFF(latency));
    histogram(&b, "portico_integration_latency_seconds",
              "Integration calls (AWS IntegrationLatency).", s->sum, OFF(integration_latency));
#undef OFF
    pt_buf_printf(&b,
                  "# HELP portico_connections Open WebSocket connections.\n"
                  "# TYPE portico_connections gauge\nportico_connections %zu\n",
                  s->connections);
    if (s->cluster_up >= 0)
        pt_buf_printf(&b,
                      "# HELP portico_cluster_up 1 when this node reaches the cluster's Redis.\n"
                      "# TYPE portico_cluster_up gauge\nportico_cluster_up %d\n",
                      s->cluster_up);
    s->h->scrape = NULL;
    pt_http_respond(s->h, 200, &hdr, 1, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    pt_buf_cleanup(&b);
}

static void scrape_free(struct scrape *s)
{
    merge(s, NULL);
    while (s->sum != NULL) {
        struct pt_metric *m = s->sum;

        s->sum = m->next;
        free(m->api);
        free(m->stage);
        free(m->route);
        free(m);
    }
    free(s);
}

static void on_part(struct pt_worker *w, void *arg)
{
    struct part *p = arg;
    struct scrape *s = p->s;

    merge(s, p->copy);
    s->connections += p->connections;
    if (p->cluster_up >= 0 && (s->cluster_up < 0 || p->cluster_up == 0))
        s->cluster_up = p->cluster_up;
    free(p);
    if (--s->remaining > 0)
        return;
    if (s->h != NULL)
        render(s);
    scrape_free(s);
}

static void take_part(struct pt_worker *w, void *arg)
{
    struct part *p = arg;

    p->copy = copy_all(w);
    p->connections = w->nws;
    p->cluster_up = w->cluster == NULL ? -1 : pt_cluster_up(w);
    pt_mailbox_post(p->s->origin, on_part, p);
}

void pt_metrics_scrape(struct pt_http *h)
{
    struct pt_worker *w = h->conn->w;
    struct scrape *s = pt_xcalloc(1, sizeof(*s));
    unsigned i;

    s->origin = w;
    s->h = h;
    s->remaining = w->npeers;
    s->cluster_up = -1;
    h->scrape = s;
    for (i = 0; i < w->npeers; i++) {
        struct part *p = pt_xcalloc(1, sizeof(*p));

        p->s = s;
        pt_mailbox_post(w->peers[i], take_part, p);
    }
}

void pt_metrics_detach(struct scrape *s)
{
    s->h = NULL;
}
