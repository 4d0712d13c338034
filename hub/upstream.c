/* The upstream HTTP/1.1 client (see include/portico/upstream.h): one exchange per call, on
 * connections pooled per host and port. A request that fails on a reused connection before any
 * byte of the answer arrived is retried once on a fresh one, since the upstream may have closed
 * the idle connection just as we picked it. */
#include "portico/upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "call.h"
#include "http1.h"
#include "portico/buf.h"
#include "portico/err.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "resolve.h"
#include "tls.h"
#include "upstream_pool.h"
#include "worker.h"

#define DEFAULT_MAX_RESPONSE (10u << 20)
#define HEAD_MAX             65536
#define IDLE_MAX_PER_POOL    1024
#define IDLE_TIMEOUT_S       30.0

struct uconn {
    ev_io io;
    struct pt_upool *pool;
    struct uexch *ex; /* the exchange using it, or NULL when idle */
    struct uconn *next_idle;
    int fd;
    SSL *ssl; /* owned: https upstreams */
    bool connecting;
    bool handshaking; /* TLS handshake in progress */
    bool reused;
    double idle_since;
};

struct uexch {
    struct pt_callx *x;
    pt_upstream_done_fn *done;
    struct pt_upool *pool;
    struct uconn *conn;
    struct pt_resolve_req *resolving;
    ev_timer fail_soon; /* completes a failure found inside pt_upstream_send() */
    int fail_err;
    struct pt_buf request;
    size_t sent;
    struct pt_buf in;   /* the response as received */
    struct pt_buf body; /* the decoded body of a chunked response */
    struct pt_http1_resp resp;
    struct pt_http1_chunked chunked;
    size_t head_len;
    size_t max_response;
    bool head_only; /* a HEAD request: no body follows */
    bool sending;   /* inside pt_upstream_send(): a failure must not complete yet */
    bool retried;
};

static void conn_on_io(struct ev_loop *loop, ev_io *io, int revents);

/* ---- URLs ---- */

struct url {
    char host[256];
    int port;
    bool tls;
    const char *target; /* borrowed: path and query */
};

static int parse_url(const char *s, struct url *u)
{
    const char *p, *h, *slash, *colon;
    size_t hlen;

    u->tls = strncmp(s, "https://", 8) == 0;
    if (!u->tls && strncmp(s, "http://", 7) != 0)
        return PT_EINVAL;
    h = s + (u->tls ? 8 : 7);
    slash = strchr(h, '/');
    p = slash ? slash : h + strlen(h);
    colon = memchr(h, ':', (size_t)(p - h));
    hlen = (size_t)((colon ? colon : p) - h);
    if (hlen == 0 || hlen >= sizeof(u->host))
        return PT_EINVAL;
    memcpy(u->host, h, hlen);
    u->host[hlen] = '\0';
    u->port = u->tls ? 443 : 80;
    if (colon != NULL) {
        char *end;
        long port = strtol(colon + 1, &end, 10);

        if (end != p || port < 1 || port > 65535)
            return PT_EINVAL;
        u->port = (int)port;
    }
    u->target = slash ? slash : "/";
    return 0;
}

/* ---- Connections ---- */

static void conn_close(struct uconn *c)
{
    struct pt_worker *w = c->pool->w;

    pt_tls_free(c->ssl);
    ev_io_stop(w->loop, &c->io);
    close(c->fd);
    free(c);
}

static void set_events(struct uconn *c, int events)
{
    struct ev_loop *loop = c->pool->w->loop;

    if (c->io.events == events && ev_is_active(&c->io))
        return;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, events);
    ev_io_start(loop, &c->io);
}

static struct uconn *conn_open(struct pt_upool *pool)
{
    struct uconn *c;
    int fd, one = 1;

    fd = socket(pool->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&pool->addr, pool->addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        return NULL;
    }
    c = pt_xcalloc(1, sizeof(*c));
    c->pool = pool;
    c->fd = fd;
    c->connecting = true;
    ev_io_init(&c->io, conn_on_io, fd, EV_WRITE);
    ev_io_start(pool->w->loop, &c->io);
    return c;
}

/* An idle pooled connection, or NULL. Stale ones are closed on the way. */
static struct uconn *pool_take(struct pt_upool *pool)
{
    struct uconn *c;
    double now = ev_now(pool->w->loop);

    while ((c = pool->idle) != NULL) {
        pool->idle = c->next_idle;
        pool->nidle--;
        if (now - c->idle_since < IDLE_TIMEOUT_S) {
            c->reused = true;
            return c;
        }
        conn_close(c);
    }
    return NULL;
}

static void pool_put(struct uconn *c)
{
    struct pt_upool *pool = c->pool;

    if (pool->nidle >= IDLE_MAX_PER_POOL) {
        conn_close(c);
        return;
    }
    c->ex = NULL;
    c->idle_since = ev_now(pool->w->loop);
    c->next_idle = pool->idle;
    pool->idle = c;
    pool->nidle++;
    /* Watch an idle connection for the upstream closing it. */
    set_events(c, EV_READ);
}

/* ---- Exchanges ---- */

static void exch_free(struct uexch *ex)
{
    ev_timer_stop(ex->pool->w->loop, &ex->fail_soon);
    if (ex->resolving != NULL)
        pt_resolve_cancel(ex->resolving);
    pt_buf_cleanup(&ex->request);
    pt_buf_cleanup(&ex->in);
    pt_buf_cleanup(&ex->body);
    if (ex->x != NULL)
        ex->x->upstream = NULL;
    free(ex);
}

/* Ends the exchange with an error: the callback runs, and everything is freed. */
static void exch_fail(struct uexch *ex, int err)
{
    struct pt_callx *x = ex->x;
    pt_upstream_done_fn *done = ex->done;

    if (ex->conn != NULL) {
        conn_close(ex->conn);
        ex->conn = NULL;
    }
    if (ex->sending) {
        /* The caller is still inside pt_upstream_send(): complete on the next turn. */
        ex->fail_err = err;
        ev_timer_start(ex->pool->w->loop, &ex->fail_soon);
        return;
    }
    exch_free(ex);
    done(&x->pub, err, NULL);
}

static void on_writable(struct uconn *c);

static void start_on_conn(struct uexch *ex, struct uconn *c)
{
    ex->conn = c;
    c->ex = ex;
    ex->sent = 0;
    pt_buf_reset(&ex->in);
    if (c->connecting) {
        set_events(c, EV_WRITE);
        return;
    }
    /* A pooled connection: write now. The socket almost always takes the whole request, so
     * the watcher stays on EV_READ and no epoll_ctl is spent on it. */
    on_writable(c);
}

static void start_connect(struct uexch *ex)
{
    struct uconn *c = conn_open(ex->pool);

    if (c == NULL) {
        exch_fail(ex, PT_EUPSTREAM);
        return;
    }
    start_on_conn(ex, c);
}

/* The upstream closed or reset a reused connection before answering: try once more. */
static bool retry(struct uexch *ex)
{
    if (ex->retried || ex->conn == NULL || !ex->conn->reused || ex->in.len > 0)
        return false;
    ex->retried = true;
    conn_close(ex->conn);
    ex->conn = NULL;
    start_connect(ex);
    return true;
}

static void complete(struct uexch *ex)
{
    struct pt_callx *x = ex->x;
    pt_upstream_done_fn *done = ex->done;
    struct uconn *c = ex->conn;
    struct pt_upstream_response res = {.status = ex->resp.status};
    struct pt_kv *headers = pt_xcalloc(ex->resp.nheaders + 1, sizeof(*headers));
    struct pt_buf hb;
    size_t i, off = 0;
    bool reuse = ex->resp.keep_alive;

    pt_buf_init(&hb);
    for (i = 0; i < ex->resp.nheaders; i++) {
        pt_buf_append(&hb, ex->resp.headers[i].name.p, ex->resp.headers[i].name.len);
        pt_buf_putc(&hb, '\0');
        pt_buf_append(&hb, ex->resp.headers[i].value.p, ex->resp.headers[i].value.len);
        pt_buf_putc(&hb, '\0');
    }
    for (i = 0; i < ex->resp.nheaders; i++) {
        headers[i].name = hb.data + off;
        off += strlen(hb.data + off) + 1;
        headers[i].value = hb.data + off;
        off += strlen(hb.data + off) + 1;
    }
    res.headers = headers;
    res.nheaders = ex->resp.nheaders;
    if (ex->resp.chunked) {
        res.body = ex->body.data ? ex->body.data : "";
        res.body_len = ex->body.len;
    } else {
        size_t blen = ex->in.len - ex->head_len;

        pt_buf_putc(&ex->in, '\0'); /* NUL-terminate the body for the callback */
        ex->in.len--;
        res.body = ex->in.data + ex->head_len;
        res.body_len = blen;
    }
    ex->conn = NULL;
    if (c != NULL) {
        if (reuse)
            pool_put(c);
        else
            conn_close(c);
    }
    /* Detached before the callback: completing the call must not cancel this exchange. */
    x->upstream = NULL;
    ex->x = NULL;
    done(&x->pub, 0, &res);
    free(headers);
    pt_buf_cleanup(&hb);
    exch_free(ex);
}

/* Decides from what has arrived whether the response is complete. Returns 1 when complete,
 * 0 for more, or a negative error. <eof> says the upstream closed its side. */
static int check_response(struct uexch *ex, bool eof)
{
    int rc;

    if (ex->head_len == 0) {
        rc = pt_http1_parse_response(ex->in.data, ex->in.len, HEAD_MAX, &ex->resp);
        if (rc < 0)
            return PT_EUPSTREAM;
        if (rc == 0)
            return eof ? PT_EUPSTREAM : 0;
        if (ex->resp.status < 200) {
            /* An interim 1xx answer: drop it and read the real one. */
            memmove(ex->in.data, ex->in.data + rc, ex->in.len - (size_t)rc);
            ex->in.len -= (size_t)rc;
            return check_response(ex, eof);
        }
        ex->head_len = (size_t)rc;
    }
    if (ex->head_only || ex->resp.status == 204 || ex->resp.status == 304)
        return 1;
    if (ex->resp.chunked) {
        /* Decode the new bytes in place, move them to the body, keep only the head in <in>. */
        size_t n = ex->in.len - ex->head_len, used = 0;

        rc = pt_http1_chunked_decode(&ex->chunked, ex->in.data + ex->head_len, &n, &used);
        if (rc < 0)
            return PT_EUPSTREAM;
        pt_buf_append(&ex->body, ex->in.data + ex->head_len, n);
        ex->in.len = ex->head_len;
        if (ex->body.len > ex->max_response)
            return PT_ETOOBIG;
        if (rc == 1)
            return 1;
        return eof ? PT_EUPSTREAM : 0;
    }
    if (ex->resp.content_length >= 0) {
        if ((long long)ex->max_response < ex->resp.content_length)
            return PT_ETOOBIG;
        if ((long long)(ex->in.len - ex->head_len) >= ex->resp.content_length) {
            ex->in.len = ex->head_len + (size_t)ex->resp.content_length;
            return 1;
        }
        return eof ? PT_EUPSTREAM : 0;
    }
    /* Delimited by the upstream closing the connection. */
    ex->resp.keep_alive = false;
    if (ex->in.len - ex->head_len > ex->max_response)
        return PT_ETOOBIG;
    return eof ? 1 : 0;
}

/* ---- I/O ---- */

/* Plain or TLS: a byte count, 0 at the end, -1 for "wait for readable", -2 for "wait for
 * writable", -3 on errors. */
static ssize_t conn_send(struct uconn *c, const void *p, size_t n)
{
    ssize_t rc;

    if (c->ssl != NULL) {
        rc = pt_tls_write(c->ssl, p, n);
        return rc == PT_TLS_AGAIN_READ ? -1 : rc == PT_TLS_AGAIN_WRITE ? -2 : rc < 0 ? -3 : rc;
    }
    for (;;) {
        rc = send(c->fd, p, n, MSG_NOSIGNAL);
        if (rc >= 0)
            return rc;
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -3;
    }
}

static ssize_t conn_recv(struct uconn *c, void *p, size_t n)
{
    ssize_t rc;

    if (c->ssl != NULL) {
        rc = pt_tls_read(c->ssl, p, n);
        return rc == PT_TLS_AGAIN_READ ? -1 : rc == PT_TLS_AGAIN_WRITE ? -2 : rc < 0 ? -3 : rc;
    }
    for (;;) {
        rc = recv(c->fd, p, n, 0);
        if (rc >= 0)
            return rc;
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -3;
    }
}

/* Connected: for https, the handshake comes first. Returns false while it is not done (or
 * when the exchange failed). */
static bool ready(struct uconn *c)
{
    struct uexch *ex = c->ex;
    int rc;

    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);

        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            exch_fail(ex, PT_EUPSTREAM);
            return false;
        }
        c->connecting = false;
        if (c->pool->tls) {
            c->ssl = pt_tls_client_new(c->fd, c->pool->host);
            if (c->ssl == NULL) {
                exch_fail(ex, PT_EUPSTREAM);
                return false;
            }
            c->handshaking = true;
        }
    }
    if (c->handshaking) {
        rc = pt_tls_handshake(c->ssl);
        if (rc == PT_TLS_AGAIN_READ || rc == PT_TLS_AGAIN_WRITE) {
            set_events(c, rc == PT_TLS_AGAIN_READ ? EV_READ : EV_WRITE);
            return false;
        }
        if (rc != 0) {
            pt_log(PT_LOG_WARN, "upstream", "TLS handshake with %s:%d failed (certificate?)",
                   c->pool->host, c->pool->port);
            exch_fail(ex, PT_EUPSTREAM);
            return false;
        }
        c->handshaking = false;
    }
    return true;
}

static void on_writable(struct uconn *c)
{
    struct uexch *ex = c->ex;
    ssize_t n;

    if (!ready(c))
        return;
    while (ex->sent < ex->request.len) {
        n = conn_send(c, ex->request.data + ex->sent, ex->request.len - ex->sent);
        if (n == -1 || n == -2) {
            set_events(c, n == -1 ? EV_READ : EV_READ | EV_WRITE);
            return;
        }
        if (n < 0) {
            if (!retry(ex))
                exch_fail(ex, PT_EUPSTREAM);
            return;
        }
        ex->sent += (size_t)n;
    }
    set_events(c, EV_READ);
}

static void on_readable(struct uconn *c)
{
    struct uexch *ex = c->ex;
    char buf[16384];
    ssize_t n;
    int rc;

    if (ex == NULL) {
        /* An idle connection became readable: the upstream closed it (or sent junk). Over TLS
         * it may only be a session ticket, which is read and forgotten. */
        struct pt_upool *pool = c->pool;
        struct uconn **pp;

        if (c->ssl != NULL && conn_recv(c, buf, sizeof(buf)) == -1)
            return;
        for (pp = &pool->idle; *pp != NULL; pp = &(*pp)->next_idle)
            if (*pp == c) {
                *pp = c->next_idle;
                pool->nidle--;
                break;
            }
        conn_close(c);
        return;
    }
    if (!ready(c))
        return;
    if (ex->sent < ex->request.len) {
        on_writable(c); /* the handshake finished on a read: the request goes now */
        return;
    }
    for (;;) {
        n = conn_recv(c, buf, sizeof(buf));
        if (n == -1 || n == -2) {
            if (n == -2)
                set_events(c, EV_READ | EV_WRITE);
            return;
        }
        if (n < 0) {
            if (!retry(ex))
                exch_fail(ex, PT_EUPSTREAM);
            return;
        }
        if (n == 0 && ex->in.len == 0 && ex->head_len == 0 && retry(ex))
            return;
        if (n > 0) {
            if (ex->in.len + (size_t)n > ex->max_response + HEAD_MAX) {
                exch_fail(ex, PT_ETOOBIG);
                return;
            }
            pt_buf_append(&ex->in, buf, (size_t)n);
        }
        rc = check_response(ex, n == 0);
        if (rc < 0) {
            exch_fail(ex, rc);
            return;
        }
        if (rc == 1) {
            if (n == 0)
                ex->resp.keep_alive = false;
            complete(ex);
            return;
        }
        if (n == 0)
            return;
    }
}

static void conn_on_io(struct ev_loop *loop, ev_io *io, int revents)
{
    struct uconn *c = (struct uconn *)io;

    if ((revents & EV_WRITE) && c->ex != NULL) {
        if (c->ex->sent < c->ex->request.len || c->connecting || c->handshaking)
            on_writable(c);
        else
            on_readable(c); /* TLS wanted to write to go on reading */
        return;             /* c may be gone; a pending read event is reported again */
    }
    if (revents & EV_READ)
        on_readable(c);
}

/* ---- Pools and name resolution ---- */

static struct pt_upool *pool_find(struct pt_worker *w, const struct url *u)
{
    struct pt_upool *p;

    for (p = w->upools; p != NULL; p = p->next)
        if (p->port == u->port && p->tls == u->tls && strcmp(p->host, u->host) == 0)
            return p;
    p = pt_xcalloc(1, sizeof(*p));
    p->w = w;
    snprintf(p->host, sizeof(p->host), "%s", u->host);
    p->port = u->port;
    p->tls = u->tls;
    p->next = w->upools;
    w->upools = p;
    return p;
}

static bool numeric_addr(struct pt_upool *p)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&p->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->addr;

    memset(&p->addr, 0, sizeof(p->addr));
    if (inet_pton(AF_INET, p->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)p->port);
        p->addrlen = sizeof(*sin);
        return true;
    }
    if (inet_pton(AF_INET6, p->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)p->port);
        p->addrlen = sizeof(*sin6);
        return true;
    }
    return false;
}

static void on_resolved(void *ud, int err, const struct sockaddr *sa, socklen_t len)
{
    struct uexch *ex = ud;

    ex->resolving = NULL;
    if (err != 0) {
        exch_fail(ex, PT_EUPSTREAM);
        return;
    }
    memcpy(&ex->pool->addr, sa, len);
    ex->pool->addrlen = len;
    start_connect(ex);
}

static void on_fail_soon(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct uexch *ex = t->data;

    exch_fail(ex, ex->fail_err);
}

/* ---- The interface ---- */

static void build_request(struct uexch *ex, const struct pt_upstream_request *req,
                          const struct url *u)
{
    struct pt_buf *b = &ex->request;
    size_t i;

    pt_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s", req->method, u->target, u->host);
    if (u->port != (u->tls ? 443 : 80))
        pt_buf_printf(b, ":%d", u->port);
    pt_buf_puts(b, "\r\n");
    for (i = 0; i < req->nheaders; i++) {
        const char *n = req->headers[i].name, *v = req->headers[i].value;

        /* Framing headers are ours; a value with a line break would forge headers. */
        if (strcasecmp(n, "Host") == 0 || strcasecmp(n, "Content-Length") == 0 ||
            strcasecmp(n, "Transfer-Encoding") == 0 || strcasecmp(n, "Connection") == 0 ||
            strpbrk(n, "\r\n: ") != NULL || strpbrk(v, "\r\n") != NULL)
            continue;
        pt_buf_printf(b, "%s: %s\r\n", n, v);
    }
    pt_buf_printf(b, "Content-Length: %zu\r\n\r\n", req->body_len);
    if (req->body_len > 0)
        pt_buf_append(b, req->body, req->body_len);
}

void pt_upstream_send(struct pt_call *call, const struct pt_upstream_request *req,
                      pt_upstream_done_fn *done)
{
    struct pt_callx *x = (struct pt_callx *)call;
    struct pt_worker *w = x->w;
    struct uexch *ex = pt_xcalloc(1, sizeof(*ex));
    struct uconn *c;
    struct url u;

    ex->x = x;
    ex->done = done;
    x->upstream = ex;
    ex->max_response = req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE;
    ex->head_only = strcmp(req->method, "HEAD") == 0;
    pt_buf_init(&ex->request);
    pt_buf_init(&ex->in);
    pt_buf_init(&ex->body);
    ev_timer_init(&ex->fail_soon, on_fail_soon, 0.0, 0.0);
    ex->fail_soon.data = ex;
    if (parse_url(req->url, &u) != 0) {
        ex->pool = pool_find(w, &(struct url){.host = "invalid", .port = 0});
        ex->fail_err = PT_EINVAL;
        ev_timer_start(w->loop, &ex->fail_soon);
        return;
    }
    ex->pool = pool_find(w, &u);
    build_request(ex, req, &u);
    c = pool_take(ex->pool);
    if (c != NULL) {
        ex->sending = true;
        start_on_conn(ex, c);
        ex->sending = false;
        return;
    }
    if (ex->pool->addr_known || numeric_addr(ex->pool)) {
        ex->pool->addr_known = true;
        c = conn_open(ex->pool);
        if (c == NULL) {
            ex->fail_err = PT_EUPSTREAM;
            ev_timer_start(w->loop, &ex->fail_soon);
            return;
        }
        start_on_conn(ex, c);
        return;
    }
    ex->resolving = pt_resolve_start(w->resolver, u.host, u.port, on_resolved, ex);
}

void pt_upstream_cancel(struct pt_call *call)
{
    struct pt_callx *x = (struct pt_callx *)call;
    struct uexch *ex = x->upstream;

    if (ex == NULL)
        return;
    if (ex->conn != NULL) {
        /* Mid-exchange: the connection cannot be reused. */
        conn_close(ex->conn);
        ex->conn = NULL;
    }
    exch_free(ex);
}

void pt_upstream_pool_cleanup(struct pt_worker *w)
{
    struct pt_upool *p, *next;
    struct uconn *c;

    for (p = w->upools; p != NULL; p = next) {
        next = p->next;
        while ((c = p->idle) != NULL) {
            p->idle = c->next_idle;
            conn_close(c);
        }
        free(p);
    }
    w->upools = NULL;
}
