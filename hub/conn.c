/* Client connections: accept, read into the worker's buffer, a send queue of refcounted
 * messages written with one writev per loop turn, and a lingering close so the last bytes we
 * sent are not lost to a reset. The protocols (HTTP, WebSocket) live in http.c and ws.c. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "h2.h"
#include "http.h"
#include "msg.h"
#include "portico/xalloc.h"
#include "tls.h"
#include "worker.h"
#include "ws.h"

#define WRITEV_MAX      64
#define READS_PER_EVENT 4 /* fairness: one busy client cannot hold the loop */

static void on_io(struct ev_loop *loop, ev_io *io, int revents);

struct pt_conn *pt_conn_accept(struct pt_worker *w, int fd, const void *sa, unsigned salen,
                               SSL_CTX *tls)
{
    struct pt_conn *c = pt_xcalloc(1, sizeof(*c));
    const struct sockaddr *addr = sa;
    int one = 1;

    c->w = w;
    c->fd = fd;
    c->state = PT_CONN_HTTP;
    c->created = c->last_active = ev_now(w->loop);
    c->peer_family = (uint8_t)addr->sa_family;
    if (addr->sa_family == AF_INET) {
        memcpy(c->peer_addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    } else if (addr->sa_family == AF_INET6) {
        memcpy(c->peer_addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    } else {
        c->unix_peer = 1;
    }
    (void)salen;
    if (tls != NULL) {
        c->ssl = pt_tls_new(tls, fd);
        if (c->ssl == NULL) {
            close(fd);
            free(c);
            return NULL;
        }
        c->handshaking = 1;
    }
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    ev_io_init(&c->io, on_io, fd, EV_READ);
    ev_io_start(w->loop, &c->io);
    return c;
}

void pt_conn_peer_ip(const struct pt_conn *c, char *out)
{
    if (c->peer_family == AF_INET)
        inet_ntop(AF_INET, c->peer_addr, out, 46);
    else if (c->peer_family == AF_INET6)
        inet_ntop(AF_INET6, c->peer_addr, out, 46);
    else
        strcpy(out, "127.0.0.1"); /* a unix socket peer is local */
}

/* ---- Watcher state ---- */

static void update_events(struct pt_conn *c)
{
    int ev = 0;

    if (!c->read_stopped)
        ev |= EV_READ;
    if (c->write_armed || c->tls_want_write)
        ev |= EV_WRITE;
    if ((c->io.events & (EV_READ | EV_WRITE)) == ev)
        return;
    ev_io_stop(c->w->loop, &c->io);
    ev_io_set(&c->io, c->fd, ev);
    if (ev)
        ev_io_start(c->w->loop, &c->io);
}

void pt_conn_pause_read(struct pt_conn *c)
{
    if (!c->read_stopped) {
        c->read_stopped = 1;
        update_events(c);
    }
}

void pt_conn_resume_read(struct pt_conn *c)
{
    if (c->read_stopped) {
        c->read_stopped = 0;
        update_events(c);
    }
    if (c->in_len > 0) {
        /* Pipelined input arrived while the last request was served: process it from the
         * event handler, never from inside whoever resumed us. */
        c->reprocess = 1;
        ev_feed_event(c->w->loop, &c->io, EV_READ);
    }
}

/* ---- Send queue ---- */

static void flush_list_add(struct pt_conn *c)
{
    struct pt_worker *w = c->w;

    if (c->in_flush)
        return;
    c->in_flush = 1;
    c->flush_prev = NULL;
    c->flush_next = w->flush_head;
    if (w->flush_head != NULL)
        w->flush_head->flush_prev = c;
    w->flush_head = c;
}

static void flush_list_remove(struct pt_conn *c)
{
    struct pt_worker *w = c->w;

    if (!c->in_flush)
        return;
    if (c->flush_prev != NULL)
        c->flush_prev->flush_next = c->flush_next;
    else
        w->flush_head = c->flush_next;
    if (c->flush_next != NULL)
        c->flush_next->flush_prev = c->flush_prev;
    c->in_flush = 0;
    c->flush_prev = c->flush_next = NULL;
}

void pt_conn_send(struct pt_conn *c, struct pt_msg *m)
{
    struct pt_outq *q = pt_xmalloc(sizeof(*q));

    q->msg = pt_msg_ref(m);
    q->next = NULL;
    if (c->out_tail != NULL)
        c->out_tail->next = q;
    else
        c->out_head = q;
    c->out_tail = q;
    c->out_bytes += m->len;
    if (!c->write_armed)
        flush_list_add(c);
}

void pt_conn_close_after_flush(struct pt_conn *c)
{
    c->state = PT_CONN_CLOSING;
    c->close_after_flush = 1;
    flush_list_add(c);
}

static void outq_free(struct pt_conn *c)
{
    struct pt_outq *q = c->out_head, *next;

    for (; q != NULL; q = next) {
        next = q->next;
        pt_msg_unref(q->msg);
        free(q);
    }
    c->out_head = c->out_tail = NULL;
    c->out_bytes = 0;
    c->out_off = 0;
}

/* Shuts our side down and reads until the peer closes (bounded by the sweep), so a reset does
 * not destroy what we just sent (nginx's lingering close). */
static void start_lingering(struct pt_conn *c)
{
    if (c->ssl != NULL)
        pt_tls_shutdown(c->ssl);
    c->lingering = 1;
    c->close_after_flush = 0;
    shutdown(c->fd, SHUT_WR);
    c->read_stopped = 0;
    c->write_armed = 0;
    update_events(c);
}

/* TLS has no writev: gather up to one record's worth from the queue and write that. Returns
 * the bytes written, 0 when the socket is full, or -1 on a broken connection. */
static ssize_t write_tls(struct pt_conn *c)
{
    uint8_t buf[16384];
    struct pt_outq *q;
    size_t n = 0, off = c->out_off, take;
    const uint8_t *p;
    ssize_t rc;

    q = c->out_head;
    if (q->msg->len - off >= sizeof(buf)) {
        p = q->msg->data + off; /* a big message is written from where it lies */
        n = q->msg->len - off;
    } else {
        for (; q != NULL && n < sizeof(buf); q = q->next, off = 0) {
            take = q->msg->len - off;
            if (take > sizeof(buf) - n)
                take = sizeof(buf) - n;
            memcpy(buf + n, q->msg->data + off, take);
            n += take;
        }
        p = buf;
    }
    rc = pt_tls_write(c->ssl, p, n);
    c->tls_want_write = 0;
    if (rc == PT_TLS_AGAIN_READ || rc == PT_TLS_AGAIN_WRITE)
        return 0;
    return rc < 0 ? -1 : rc;
}

/* Returns -1 when the connection had to be destroyed. */
static int write_queue(struct pt_conn *c)
{
    struct iovec iov[WRITEV_MAX];
    struct pt_outq *q;
    ssize_t n;
    int cnt;

    while (c->out_head != NULL) {
        cnt = 0;
        for (q = c->out_head; q != NULL && cnt < WRITEV_MAX; q = q->next, cnt++) {
            size_t off = cnt == 0 ? c->out_off : 0;

            iov[cnt].iov_base = q->msg->data + off;
            iov[cnt].iov_len = q->msg->len - off;
        }
        if (c->ssl != NULL) {
            n = write_tls(c);
            if (n == 0)
                break;
            if (n < 0) {
                pt_conn_destroy(c);
                return -1;
            }
            goto advance;
        }
        n = writev(c->fd, iov, cnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            pt_conn_destroy(c);
            return -1;
        }
    advance:
        c->out_bytes -= (size_t)n;
        while (n > 0 && c->out_head != NULL) {
            q = c->out_head;
            size_t left = q->msg->len - c->out_off;

            if ((size_t)n < left) {
                c->out_off += (size_t)n;
                n = 0;
                break;
            }
            n -= (ssize_t)left;
            c->out_off = 0;
            c->out_head = q->next;
            if (c->out_head == NULL)
                c->out_tail = NULL;
            pt_msg_unref(q->msg);
            free(q);
        }
    }
    return 0;
}

void pt_conn_flush(struct pt_conn *c)
{
    if (write_queue(c) < 0)
        return;
    if (c->ws != NULL && c->ws->rx_paused)
        pt_ws_on_queue_space(c);
    if (c->out_head != NULL) {
        if (!c->write_armed) {
            c->write_armed = 1;
            update_events(c);
        }
        return;
    }
    if (c->write_armed) {
        c->write_armed = 0;
        update_events(c);
    }
    if (c->ws != NULL)
        pt_ws_on_drained(c);
    if (c->close_after_flush)
        start_lingering(c);
}

/* ---- Reading ---- */

void pt_conn_keep_input(struct pt_conn *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (c->in_len + n > c->in_cap) {
        c->in_cap = (uint32_t)(c->in_len + n);
        c->in = pt_xrealloc(c->in, c->in_cap);
    }
    memmove(c->in + c->in_len, p, n);
    c->in_len += (uint32_t)n;
}

long pt_conn_process(struct pt_conn *c, uint8_t *p, size_t n)
{
    switch (c->state) {
    case PT_CONN_HTTP:
        return pt_http_process(c, p, n);
    case PT_CONN_WS:
        return pt_ws_process(c, p, n);
    case PT_CONN_H2:
        return pt_h2_process(c, p, n);
    case PT_CONN_CLOSING:
        return (long)n; /* nothing more is wanted from this peer */
    default:
        return 0; /* busy: keep it until the current request is answered */
    }
}

/* Processes <len> bytes at <buf>, then keeps what was not consumed. When <owned> the buffer
 * is c's own input buffer, taken out of c for the duration. Returns -1 if c was destroyed. */
static int consume(struct pt_conn *c, uint8_t *buf, size_t len, size_t owned_cap)
{
    bool owned = owned_cap > 0;
    long used = pt_conn_process(c, buf, len);

    if (used < 0) {
        if (owned)
            free(buf);
        pt_conn_destroy(c);
        return -1;
    }
    if (owned && c->in == NULL) {
        /* Give the buffer back, keeping only the unconsumed tail. */
        memmove(buf, buf + used, len - (size_t)used);
        c->in = buf;
        c->in_cap = (uint32_t)owned_cap;
        c->in_len = (uint32_t)(len - (size_t)used);
        if (c->in_len == 0) {
            free(c->in);
            c->in = NULL;
            c->in_cap = 0;
        }
    } else {
        pt_conn_keep_input(c, buf + used, len - (size_t)used);
        if (owned)
            free(buf);
    }
    if (c->in_len > 0 && c->state != PT_CONN_HTTP && c->state != PT_CONN_WS &&
        c->state != PT_CONN_CLOSING)
        pt_conn_pause_read(c);
    return 0;
}

static uint8_t *take_input(struct pt_conn *c, size_t *len, size_t *cap)
{
    uint8_t *buf = c->in;

    *len = c->in_len;
    *cap = c->in_cap;
    c->in = NULL;
    c->in_len = 0;
    c->in_cap = 0;
    return buf;
}

/* One read, plain or TLS: the byte count, 0 at the end, -1 for "no more now" (with
 * tls_want_write set when TLS needs the socket writable), -2 on errors. */
static ssize_t conn_read(struct pt_conn *c, void *buf, size_t len)
{
    ssize_t n;

    if (c->ssl != NULL) {
        n = pt_tls_read(c->ssl, buf, len);
        if (n == PT_TLS_AGAIN_WRITE)
            c->tls_want_write = 1;
        if (n == PT_TLS_AGAIN_READ || n == PT_TLS_AGAIN_WRITE)
            return -1;
        return n == PT_TLS_ERROR ? -2 : n;
    }
    for (;;) {
        n = read(c->fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
    }
}

/* Advances a TLS handshake; returns false when the connection is gone or must wait. */
static bool finish_handshake(struct pt_conn *c)
{
    int rc = pt_tls_handshake(c->ssl);

    c->tls_want_write = rc == PT_TLS_AGAIN_WRITE;
    update_events(c);
    if (rc == PT_TLS_AGAIN_READ || rc == PT_TLS_AGAIN_WRITE)
        return false;
    if (rc != 0) {
        pt_conn_destroy(c);
        return false;
    }
    c->handshaking = 0;
    if (pt_tls_is_h2(c->ssl))
        pt_h2_start(c);
    return true;
}

static void on_readable(struct pt_conn *c)
{
    struct pt_worker *w = c->w;
    ssize_t n;
    size_t len, cap;
    uint8_t *buf;
    int i;

    if (c->handshaking && !finish_handshake(c))
        return;

    if (c->reprocess) {
        c->reprocess = 0;
        if (c->in_len > 0) {
            buf = take_input(c, &len, &cap);
            if (consume(c, buf, len, cap) < 0)
                return;
        }
    }
    for (i = 0; i < READS_PER_EVENT && !c->read_stopped; i++) {
        if (c->in_len > 0) {
            /* An incomplete request or frame is pending: read onto its end. */
            if (c->in_cap - c->in_len < 16384) {
                c->in_cap = c->in_len + 65536;
                c->in = pt_xrealloc(c->in, c->in_cap);
            }
            n = conn_read(c, c->in + c->in_len, c->in_cap - c->in_len);
        } else {
            n = conn_read(c, w->rbuf, w->rbuf_len);
        }
        if (n == -1) {
            if (c->tls_want_write)
                update_events(c);
            return;
        }
        if (n < 0) {
            c->peer_closed = 1;
            pt_conn_destroy(c);
            return;
        }
        if (n == 0) {
            c->peer_closed = 1;
            pt_conn_destroy(c);
            return;
        }
        c->last_active = ev_now(w->loop);
        if (c->lingering) {
            c->in_len = 0;
            continue;
        }
        if (c->in_len > 0) {
            c->in_len += (uint32_t)n;
            buf = take_input(c, &len, &cap);
            if (consume(c, buf, len, cap) < 0)
                return;
        } else {
            if (consume(c, w->rbuf, (size_t)n, 0) < 0)
                return;
        }
        if ((size_t)n < w->rbuf_len && c->ssl == NULL)
            return; /* drained the socket; epoll tells us when there is more (TLS may still
                     * hold decrypted bytes, so TLS reads until it says "again") */
    }
}

static void on_io(struct ev_loop *loop, ev_io *io, int revents)
{
    struct pt_conn *c = (struct pt_conn *)io;

    if ((revents & EV_WRITE) && (c->handshaking || (c->tls_want_write && !c->write_armed))) {
        c->tls_want_write = 0;
        on_readable(c); /* TLS needed to write to go on reading */
        return;
    }
    if (revents & EV_WRITE) {
        pt_conn_flush(c);
        return; /* a destroyed c must not be touched; a read event comes again */
    }
    if (revents & EV_READ)
        on_readable(c);
}

void pt_conn_destroy(struct pt_conn *c)
{
    struct pt_worker *w = c->w;

    if (c->h2 != NULL)
        pt_h2_cleanup(c);
    if (c->http != NULL)
        pt_http_cleanup(c);
    if (c->ws != NULL)
        pt_ws_cleanup(c);
    flush_list_remove(c);
    ev_io_stop(w->loop, &c->io);
    pt_tls_free(c->ssl);
    close(c->fd);
    outq_free(c);
    free(c->in);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    w->nconns--;
    free(c);
}
