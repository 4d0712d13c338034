/* Listening sockets: SO_REUSEPORT so workers can share a port, non-blocking accept4 in
 * batches, and a pause instead of a busy loop when the process is out of file descriptors. */
#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>
#include <openssl/ssl.h>

#include "config.h"
#include "conn.h"
#include "portico/log.h"
#include "portico/xalloc.h"
#include "tls.h"
#include "worker.h"

#define ACCEPTS_PER_EVENT 64
#define BACKLOG           4096

struct pt_listener {
    ev_io io;
    ev_timer retry; /* re-arms accepting after EMFILE */
    struct pt_worker *w;
    int fd;
    char *unix_path; /* owned: removed at close */
    SSL_CTX *tls;    /* a reference: TLS listeners only */
    int port;        /* the port bound, for the other workers' sockets */
    bool admin;      /* the admin listener */
};

static int open_tcp(const struct pt_listen *l, int port_override)
{
    struct addrinfo hints = {0}, *res = NULL;
    char port[16];
    int fd, one = 1, rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%lld", port_override > 0 ? (long long)port_override : l->port);
    rc = getaddrinfo(l->host, port, &hints, &res);
    if (rc != 0) {
        pt_log(PT_LOG_ERR, "listen", "cannot resolve %s: %s", l->host, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
        pt_log(PT_LOG_ERR, "listen", "cannot listen on %s:%lld: %s", l->host, l->port,
               strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int open_unix(const struct pt_listen *l)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(l->unix_socket) >= sizeof(sa.sun_path)) {
        pt_log(PT_LOG_ERR, "listen", "unix socket path too long: %s", l->unix_socket);
        return -1;
    }
    strcpy(sa.sun_path, l->unix_socket);
    unlink(l->unix_socket); /* a stale socket from an earlier run */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, BACKLOG) < 0) {
        pt_log(PT_LOG_ERR, "listen", "cannot listen on %s: %s", l->unix_socket, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

static void log_bound(const struct pt_listener *ls, const struct pt_listen *l)
{
    if (l->unix_socket != NULL) {
        pt_log(PT_LOG_INFO, "listen", "listening on unix:%s", l->unix_socket);
        return;
    }
    pt_log(PT_LOG_INFO, "listen", "listening on %s:%d%s", l->host, ls->port,
           l->tls_certificate != NULL ? (l->http2 ? " (TLS, h2)" : " (TLS)") : "");
}

struct pt_listener *pt_listen_open(const struct pt_config *cfg, const struct pt_listener *first,
                                   size_t *count)
{
    struct pt_listener *ls = pt_xcalloc(cfg->nlistens + 1, sizeof(*ls));
    size_t i;

    for (i = 0; i < cfg->nlistens; i++) {
        const struct pt_listen *l = &cfg->listens[i];

        if (first != NULL && l->unix_socket != NULL) {
            ls[i].fd = -1; /* a unix socket cannot be shared by port: the first worker has it */
            continue;
        }
        ls[i].fd =
            l->unix_socket != NULL ? open_unix(l) : open_tcp(l, first != NULL ? first[i].port : 0);
        if (ls[i].fd < 0) {
            pt_listen_close(ls, i, NULL);
            return NULL;
        }
        ls[i].port = l->unix_socket != NULL ? 0 : bound_port(ls[i].fd);
        if (l->unix_socket != NULL)
            ls[i].unix_path = pt_xstrdup(l->unix_socket);
        if (first != NULL && first[i].tls != NULL) {
            SSL_CTX_up_ref(first[i].tls);
            ls[i].tls = first[i].tls;
        } else if (l->tls_certificate != NULL) {
            char err[512];

            ls[i].tls =
                pt_tls_ctx_new(l->tls_certificate, l->tls_private_key, l->http2, err, sizeof(err));
            if (ls[i].tls == NULL) {
                pt_log(PT_LOG_ERR, "listen", "%s", err);
                pt_listen_close(ls, i + 1, NULL);
                return NULL;
            }
        }
        if (first == NULL)
            log_bound(&ls[i], l);
    }
    *count = cfg->nlistens;
    if (first == NULL && cfg->admin.host != NULL) {
        /* The admin listener: the first worker's alone. */
        ls[i].fd = open_tcp(&cfg->admin, 0);
        if (ls[i].fd < 0) {
            pt_listen_close(ls, i, NULL);
            return NULL;
        }
        ls[i].port = bound_port(ls[i].fd);
        ls[i].admin = true;
        pt_log(PT_LOG_INFO, "listen", "admin listening on %s:%d", cfg->admin.host, ls[i].port);
        *count = cfg->nlistens + 1;
    }
    return ls;
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pt_listener *l = t->data;

    ev_io_start(loop, &l->io);
}

static void on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
    struct pt_listener *l = (struct pt_listener *)io;
    struct sockaddr_storage ss;
    struct pt_conn *c;
    socklen_t len;
    int i, fd;

    for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
        len = sizeof(ss);
        fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                pt_log(PT_LOG_WARN, "listen", "out of file descriptors; pausing accept");
                ev_io_stop(loop, &l->io);
                ev_timer_start(loop, &l->retry);
            }
            return; /* EAGAIN, or an error that concerns only that one connection */
        }
        c = pt_conn_accept(l->w, fd, &ss, len, l->tls);
        if (c != NULL && l->admin)
            c->admin = 1;
    }
}

void pt_listen_start(struct pt_listener *ls, size_t count, struct pt_worker *w)
{
    size_t i;

    for (i = 0; i < count; i++) {
        ls[i].w = w;
        if (ls[i].fd < 0)
            continue;
        ev_io_init(&ls[i].io, on_accept, ls[i].fd, EV_READ);
        ev_io_start(w->loop, &ls[i].io);
        ev_timer_init(&ls[i].retry, on_retry, 0.1, 0.0);
        ls[i].retry.data = &ls[i];
    }
}

static void close_one(struct pt_listener *l, struct pt_worker *w)
{
    if (l->fd < 0)
        return;
    if (w != NULL) {
        ev_io_stop(w->loop, &l->io);
        ev_timer_stop(w->loop, &l->retry);
    }
    close(l->fd);
    l->fd = -1;
    if (l->unix_path != NULL)
        unlink(l->unix_path);
}

void pt_listen_close_api(struct pt_listener *ls, size_t count, struct pt_worker *w)
{
    size_t i;

    for (i = 0; ls != NULL && i < count; i++)
        if (!ls[i].admin)
            close_one(&ls[i], w);
}

void pt_listen_close(struct pt_listener *ls, size_t count, struct pt_worker *w)
{
    size_t i;

    if (ls == NULL)
        return;
    for (i = 0; i < count; i++) {
        close_one(&ls[i], w);
        free(ls[i].unix_path);
        pt_tls_ctx_free(ls[i].tls);
    }
    free(ls);
}
