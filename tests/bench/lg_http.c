/*
 * lg_http: the load generator's keep-alive HTTP/1.1 client (see lg_http.h).
 */
#include "lg_http.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "portico/kv.h"
#include "sigv4.h"

#define H_MAX      256
#define H_IN_BYTES 16384
#define H_OUT_CAP  8192

enum h_state { H_CONNECTING, H_IDLE, H_BUSY, H_DEAD };

struct h_conn {
    int fd;
    uint8_t state;
    uint8_t pollout;
    uint32_t in_len, out_len, out_off;
    uint64_t tag, sent_us;
    char in[H_IN_BYTES];
    char out[H_OUT_CAP];
};

static struct h_conn *hc; /* owned, n_hc entries */
static unsigned n_hc;
static lg_http_done_fn *on_done;
static char host_hdr[64];
static char akid[129], secret[129];
static int signing;
unsigned lg_http_failed;

static void h_kill(struct h_conn *h)
{
    struct linger lg = {1, 0};

    if (h->state == H_DEAD)
        return;
    lg_http_failed++;
    setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(h->fd);
    h->fd = -1;
    h->state = H_DEAD;
}

static int h_set_pollout(struct h_conn *h, int on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
                             .data.u32 = LG_HTTP_TAG | (uint32_t)(h - hc)};

    if (h->pollout == on)
        return 0;
    h->pollout = (uint8_t)on;
    return epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &ev);
}

static int h_flush(struct h_conn *h)
{
    while (h->out_off < h->out_len) {
        ssize_t n = send(h->fd, h->out + h->out_off, h->out_len - h->out_off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN)
                return h_set_pollout(h, 1);
            if (errno == EINTR)
                continue;
            return -1;
        }
        h->out_off += (uint32_t)n;
    }
    h->out_off = h->out_len = 0;
    return h_set_pollout(h, 0);
}

int lg_http_setup(const char *host_header, const char *sign)
{
    if (sign != NULL) {
        const char *colon = strchr(sign, ':');

        if (colon == NULL || (size_t)(colon - sign) >= sizeof(akid) ||
            strlen(colon + 1) >= sizeof(secret))
            return -1;
        memcpy(akid, sign, (size_t)(colon - sign));
        akid[colon - sign] = '\0';
        strcpy(secret, colon + 1);
        signing = 1;
    }
    snprintf(host_hdr, sizeof(host_hdr), "%s", host_header);
    return 0;
}

int lg_http_open(unsigned n, const struct sockaddr_in *dst, lg_http_done_fn *done)
{
    int one = 1;

    if (n == 0 || n > H_MAX || hc != NULL)
        return -1;
    on_done = done;
    hc = calloc(n, sizeof(*hc));
    if (hc == NULL)
        return -1;
    n_hc = n;
    for (unsigned i = 0; i < n; i++) {
        struct h_conn *h = &hc[i];
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = LG_HTTP_TAG | i};

        h->pollout = 1;
        h->state = H_CONNECTING;
        h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (h->fd < 0) {
            h->state = H_DEAD;
            lg_http_failed++;
            continue;
        }
        setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if ((connect(h->fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 &&
             errno != EINPROGRESS) ||
            epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &ev) < 0)
            h_kill(h);
    }
    return 0;
}

unsigned lg_http_alive(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < n_hc; i++)
        n += hc[i].state == H_IDLE || hc[i].state == H_BUSY;
    return n;
}

void lg_http_close(void)
{
    for (unsigned i = 0; i < n_hc; i++)
        if (hc[i].state != H_DEAD) {
            close(hc[i].fd);
            hc[i].state = H_DEAD;
        }
}

/* Appends the X-Amz-Date and Authorization lines for this request to out. */
static int h_sign(char *out, size_t cap, const char *path, const void *body, size_t len)
{
    struct pt_kv hdrs[1] = {{"host", host_hdr}};
    struct pt_sigv4_sign_req in = {
        .method = "POST",
        .path = path,
        .headers = hdrs,
        .n_headers = 1,
        .body = body,
        .body_len = len,
        .access_key_id = akid,
        .secret = secret,
        .region = "us-east-1",
        .service = "execute-api",
        .now_s = (int64_t)time(NULL),
    };
    struct pt_sigv4_sig sig;
    int n = -1;

    if (pt_sigv4_sign(&in, &sig) == 0)
        n = snprintf(out, cap, "X-Amz-Date: %s\r\nAuthorization: %s\r\n", sig.amz_date,
                     sig.authorization.data);
    pt_sigv4_cleanup_sig(&sig);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int lg_http_build(char *out, size_t cap, const char *path, const void *body, size_t len)
{
    int n, m = 0;

    n = snprintf(out, cap,
                 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n"
                 "Content-Type: text/plain\r\n",
                 path, host_hdr, len);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    if (signing && (m = h_sign(out + n, cap - (size_t)n, path, body, len)) < 0)
        return -1;
    n += m;
    if ((size_t)n + 2 + len > cap)
        return -1;
    memcpy(out + n, "\r\n", 2);
    memcpy(out + n + 2, body, len);
    return n + 2 + (int)len;
}

static int h_send(struct h_conn *h, uint64_t tag)
{
    h->out_off = 0;
    h->tag = tag;
    h->sent_us = now_us();
    h->state = H_BUSY;
    if (h_flush(h) < 0) {
        h_kill(h);
        return -1;
    }
    return 0;
}

int lg_http_send(unsigned idx, const char *req, size_t len, uint64_t tag)
{
    struct h_conn *h = &hc[idx];

    if (h->state != H_IDLE || len > H_OUT_CAP)
        return -1;
    memcpy(h->out, req, len);
    h->out_len = (uint32_t)len;
    return h_send(h, tag);
}

int lg_http_post(unsigned idx, const char *path, const void *body, size_t len, uint64_t tag)
{
    struct h_conn *h = &hc[idx];
    int n;

    if (h->state != H_IDLE)
        return -1;
    if ((n = lg_http_build(h->out, H_OUT_CAP, path, body, len)) < 0) {
        h_kill(h);
        return -1;
    }
    h->out_len = (uint32_t)n;
    return h_send(h, tag);
}

/* Returns the length of one complete answer at the start of in[] (and its status), 0 when
 * more bytes are needed, -1 when it can't be read. */
static long h_parse(const struct h_conn *h, int *status)
{
    const char *end = memmem(h->in, h->in_len, "\r\n\r\n", 4), *p;
    size_t hlen;
    long clen = -1;

    if (end == NULL)
        return h->in_len >= H_IN_BYTES ? -1 : 0;
    hlen = (size_t)(end - h->in) + 4;
    if (hlen < 12 || memcmp(h->in, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(h->in + 9);
    for (p = h->in; p < end;) {
        const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);

        if (eol == NULL)
            break;
        if (eol - p > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            clen = strtol(p + 15, NULL, 10);
        else if (eol - p > 18 && strncasecmp(p, "Transfer-Encoding:", 18) == 0)
            return -1; /* no chunked answers here: the servers under test send lengths */
        p = eol + 2;
    }
    if (clen < 0)
        clen = (*status == 204 || *status == 304) ? 0 : -1;
    if (clen < 0 || hlen + (size_t)clen > H_IN_BYTES)
        return -1;
    return h->in_len >= hlen + (size_t)clen ? (long)(hlen + (size_t)clen) : 0;
}

static void h_readable(struct h_conn *h)
{
    ssize_t n = recv(h->fd, h->in + h->in_len, H_IN_BYTES - h->in_len, 0);
    int status = 0;
    long len;

    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        h_kill(h);
        return;
    }
    h->in_len += (uint32_t)n;
    while ((len = h_parse(h, &status)) > 0) {
        uint64_t now = now_us();

        memmove(h->in, h->in + len, h->in_len - (uint32_t)len);
        h->in_len -= (uint32_t)len;
        if (h->state != H_BUSY) {
            h_kill(h);
            return;
        }
        h->state = H_IDLE;
        on_done((unsigned)(h - hc), status, h->tag, h->sent_us, now);
        if (h->state == H_DEAD)
            return;
    }
    if (len < 0)
        h_kill(h);
}

void lg_http_event(unsigned idx, uint32_t events)
{
    struct h_conn *h;

    if (idx >= n_hc || hc[idx].state == H_DEAD)
        return;
    h = &hc[idx];
    if (h->state == H_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0 ||
            h_set_pollout(h, 0) < 0) {
            h_kill(h);
            return;
        }
        h->state = H_IDLE;
        on_done(idx, 0, 0, 0, now_us());
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        h_readable(h);
    if (h->state != H_DEAD && (events & EPOLLOUT) && h_flush(h) < 0)
        h_kill(h);
}
