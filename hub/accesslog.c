/* The access log (see accesslog.h): records built from requests and connections, lines
 * rendered by the compiled format, and the writer thread that owns the file. */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog_format.h"
#include "call.h"
#include "config.h"
#include "conn.h"
#include "connid.h"
#include "http.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "router.h"
#include "worker.h"
#include "ws.h"

#define TURN_FLUSH_BYTES (64 << 10) /* a worker hands its lines over early past this */
#define QUEUE_MAX_BYTES  (32 << 20) /* past this the disk is behind: new lines are dropped */

struct chunk {
    char *data;
    size_t len;
    struct chunk *next;
};

struct pt_alog {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct chunk *head, *tail;  /* under lock */
    size_t queued;              /* bytes in the queue, under lock */
    unsigned long long dropped; /* lines dropped since the last report, under lock */
    int next_fd;                /* under lock: the file to switch to */
    bool switch_fd;             /* under lock: next_fd is waiting */
    bool stopping;              /* under lock */
    int fd;                     /* the writer thread's alone */
    pthread_t thread;
};

/* ---- The writer thread ---- */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0 && fd >= 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            pt_log(PT_LOG_ERR, "accesslog", "write failed: %s", strerror(errno));
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Writes and frees <list>. */
static void write_chunks(int fd, struct chunk *list)
{
    struct chunk *next;

    for (; list != NULL; list = next) {
        next = list->next;
        write_all(fd, list->data, list->len);
        free(list->data);
        free(list);
    }
}

static void *writer_main(void *arg)
{
    struct pt_alog *a = arg;
    struct chunk *list;
    unsigned long long dropped;

    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (a->head == NULL && !a->switch_fd && !a->stopping)
            pthread_cond_wait(&a->wake, &a->lock);
        list = a->head;
        a->head = a->tail = NULL;
        a->queued = 0;
        dropped = a->dropped;
        a->dropped = 0;
        if (list == NULL && !a->switch_fd && a->stopping)
            break;
        /* Lines queued before a switch were rendered for the old file: they go there first. */
        pthread_mutex_unlock(&a->lock);
        if (dropped > 0)
            pt_log(PT_LOG_WARN, "accesslog",
                   "%llu lines dropped: the log file is slower than the traffic", dropped);
        write_chunks(a->fd, list);
        pthread_mutex_lock(&a->lock);
        if (a->switch_fd) {
            if (a->fd >= 0)
                close(a->fd);
            a->fd = a->next_fd;
            a->switch_fd = false;
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (a->fd >= 0)
        close(a->fd);
    return NULL;
}

struct pt_alog *pt_alog_new(void)
{
    struct pt_alog *a = pt_xcalloc(1, sizeof(*a));

    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->wake, NULL);
    a->fd = -1;
    if (pthread_create(&a->thread, NULL, writer_main, a) != 0) {
        pt_log(PT_LOG_ERR, "accesslog", "cannot start the writer thread");
        abort();
    }
    return a;
}

int pt_alog_open(struct pt_alog *a, const char *path)
{
    int fd = -1;

    if (path != NULL && strcmp(path, "-") == 0)
        fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    else if (path != NULL)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (path != NULL && fd < 0)
        return -errno;
    pthread_mutex_lock(&a->lock);
    if (a->switch_fd && a->next_fd >= 0) /* a switch not taken yet: this one replaces it */
        close(a->next_fd);
    a->next_fd = fd;
    a->switch_fd = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

void pt_alog_free(struct pt_alog *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    if (a->switch_fd && a->next_fd >= 0)
        close(a->next_fd);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* ---- Handing lines over ---- */

static size_t count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    const char *end = p + n;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

void pt_accesslog_flush(struct pt_worker *w)
{
    struct pt_alog *a = w->alog;
    struct chunk *ch;

    if (w->alog_buf.len == 0)
        return;
    if (a == NULL) {
        pt_buf_reset(&w->alog_buf);
        return;
    }
    ch = pt_xmalloc(sizeof(*ch));
    ch->next = NULL;
    ch->data = pt_buf_take(&w->alog_buf, &ch->len);
    pthread_mutex_lock(&a->lock);
    if (a->queued + ch->len > QUEUE_MAX_BYTES) {
        a->dropped += count_lines(ch->data, ch->len);
        pthread_mutex_unlock(&a->lock);
        free(ch->data);
        free(ch);
        return;
    }
    if (a->tail != NULL)
        a->tail->next = ch;
    else
        a->head = ch;
    a->tail = ch;
    a->queued += ch->len;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
}

static void emit(struct pt_worker *w, const struct pt_alog_rec *r)
{
    pt_alog_format_render(w->cfg->access_log->format, r, &w->alog_buf);
    if (w->alog_buf.len >= TURN_FLUSH_BYTES)
        pt_accesslog_flush(w);
}

static bool enabled(const struct pt_worker *w)
{
    return w->alog != NULL && w->cfg->access_log != NULL;
}

/* ---- Records ---- */

/* The fields every WebSocket event of <c> shares. <ip> has room for 46 bytes. */
static void ws_fields(struct pt_alog_rec *r, struct pt_conn *c, char *ip)
{
    struct pt_ws *ws = c->ws;

    pt_conn_peer_ip(c, ip);
    r->source_ip = ip;
    r->api = ws->api_name;
    r->stage = ws->stage_name;
    r->connection_id = ws->id;
    r->connected_at_ms = ws->connected_at_ms;
    r->user_agent = ws->user_agent;
    r->domain_name = ws->host;
}

static char *header_value(const struct pt_http *h, const char *name, char *out, size_t size)
{
    const struct pt_slice *v = pt_http1_header(&h->req, name);
    size_t n;

    if (v == NULL)
        return NULL;
    n = v->len < size - 1 ? v->len : size - 1;
    memcpy(out, v->p, n);
    out[n] = '\0';
    return out;
}

static void log_http(struct pt_http *h, int status, size_t len)
{
    struct pt_conn *c = h->conn;
    struct pt_worker *w = c->w;
    struct pt_alog_rec r = {.status = status, .response_bytes = (long long)len};
    char ip[46], method[16], path[1024], ua[512], host[256];
    struct pt_route_match m;
    double now = ev_now(w->loop);
    size_t n;

    r.request_id = h->request_id;
    r.request_time = h->started > 0 ? h->started : now;
    r.latency_s = h->started > 0 ? now - h->started : 0;
    r.integration_s = h->integration_s;
    r.integration_status = h->integration_status;
    r.error_message = h->error;
    r.route_key = h->route_key;
    pt_conn_peer_ip(c, ip);
    r.source_ip = ip;
    if (h->req.method.len > 0) {
        n = h->req.method.len < sizeof(method) - 1 ? h->req.method.len : sizeof(method) - 1;
        memcpy(method, h->req.method.p, n);
        method[n] = '\0';
        r.method = method;
        n = h->req.path.len < sizeof(path) - 1 ? h->req.path.len : sizeof(path) - 1;
        memcpy(path, h->req.path.p, n);
        path[n] = '\0';
        r.path = path;
        r.protocol = h->stream_id != 0           ? "HTTP/2.0"
                     : h->req.minor_version == 0 ? "HTTP/1.0"
                                                 : "HTTP/1.1";
        r.user_agent = header_value(h, "User-Agent", ua, sizeof(ua));
        r.domain_name = header_value(h, "Host", host, sizeof(host));
    }
    if (h->cfg != NULL && h->path != NULL && pt_router_match(h->cfg, h->path, &m) == 0) {
        r.api = m.api->name;
        r.stage = m.stage->name;
    }
    if (c->ws != NULL && c->state == PT_CONN_WS_PENDING) {
        ws_fields(&r, c, ip);
        r.event_type = "CONNECT";
        r.route_key = "$connect";
    }
    emit(w, &r);
}

/* Every answer passes here: without an access log it costs one test. */
void pt_accesslog_http(struct pt_http *h, int status, size_t len)
{
    if (enabled(h->conn->w) && !h->conn->admin)
        log_http(h, status, len);
}

void pt_accesslog_message(struct pt_conn *c, const struct pt_callx *x, const char *request_id,
                          int status, int integration_status, const char *error)
{
    struct pt_worker *w = c->w;
    struct pt_alog_rec r = {.status = status, .integration_status = integration_status};
    double now = ev_now(w->loop);
    char ip[46];

    if (!enabled(w))
        return;
    ws_fields(&r, c, ip);
    r.event_type = "MESSAGE";
    r.request_id = request_id;
    r.error_message = error;
    r.request_time = x != NULL ? x->started : now;
    r.latency_s = x != NULL ? now - x->started : 0;
    r.integration_s = x != NULL ? now - x->started : -1;
    r.route_key = x != NULL ? x->route->key : NULL;
    r.message_id = x != NULL ? x->message_id : NULL;
    r.response_bytes = -1;
    emit(w, &r);
}

void pt_accesslog_disconnect(struct pt_conn *c, const char *request_id)
{
    struct pt_worker *w = c->w;
    struct pt_ws *ws = c->ws;
    struct pt_alog_rec r = {.status = 200, .response_bytes = -1, .integration_s = -1};
    char ip[46], rid[17];

    if (!enabled(w) || !ws->established)
        return;
    ws_fields(&r, c, ip);
    if (request_id == NULL)
        pt_connid_request_id(rid);
    r.request_id = request_id != NULL ? request_id : rid;
    r.event_type = "DISCONNECT";
    r.route_key = "$disconnect";
    r.request_time = ev_now(w->loop);
    r.latency_s = 0;
    r.disconnect_status = ws->close_code ? ws->close_code : 1006;
    r.disconnect_reason = ws->close_reason;
    emit(w, &r);
}
