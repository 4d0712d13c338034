/* A client connection on a worker: the socket, its read leftovers, its send queue, and which
 * protocol it speaks now (HTTP/1.1 requests, then possibly WebSocket). Idle connections hold
 * no buffers: input is read into the worker's buffer, and only an incomplete request or frame
 * is kept, and only until it completes. */
#ifndef PT_CONN_H
#define PT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct pt_worker;
struct pt_msg;
struct pt_http;
struct pt_ws;
struct pt_h2;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

enum pt_conn_state {
    PT_CONN_HTTP,       /* reading HTTP requests */
    PT_CONN_HTTP_BUSY,  /* a request is being served; input waits */
    PT_CONN_WS_PENDING, /* upgrade received, $connect running: no 101 yet */
    PT_CONN_WS,         /* WebSocket open */
    PT_CONN_CLOSING,    /* writing what is queued, then closing */
    PT_CONN_H2,         /* HTTP/2 (TLS with ALPN h2): requests are streams */
};

struct pt_outq {
    struct pt_msg *msg; /* takes a reference */
    struct pt_outq *next;
};

struct pt_conn {
    ev_io io; /* first: the watcher's data pointer is not needed */
    struct pt_worker *w;
    struct pt_conn *prev, *next;             /* the worker's list */
    struct pt_conn *flush_prev, *flush_next; /* the worker's flush list */
    int fd;
    uint8_t state;         /* enum pt_conn_state */
    unsigned in_flush : 1; /* on the flush list */
    unsigned write_armed : 1;
    unsigned read_stopped : 1;
    unsigned close_after_flush : 1;
    unsigned peer_closed : 1;
    unsigned unix_peer : 1;
    unsigned lingering : 1;      /* our side is shut down; reading until EOF, then closing */
    unsigned reprocess : 1;      /* leftover input to process before the next read */
    unsigned handshaking : 1;    /* TLS handshake in progress */
    unsigned tls_want_write : 1; /* the TLS layer needs writability to make progress */
    unsigned admin : 1;          /* accepted on the admin listener */

    uint8_t *in; /* owned: unparsed bytes kept between reads, NULL when none */
    uint32_t in_len, in_cap;

    struct pt_outq *out_head, *out_tail;
    size_t out_off;   /* bytes of out_head->msg already written */
    size_t out_bytes; /* unsent bytes in the queue */

    double created;     /* ev_now() at accept */
    double last_active; /* ev_now() at the last byte read */
    uint8_t peer_addr[16];
    uint8_t peer_family; /* AF_INET, AF_INET6, or AF_UNIX */

    SSL *ssl;             /* owned: the TLS session, NULL on plain connections */
    struct pt_h2 *h2;     /* owned: the HTTP/2 session, when ALPN chose h2 */
    struct pt_http *http; /* owned: the request being read or served, or NULL */
    struct pt_ws *ws;     /* owned: WebSocket state once upgraded, or NULL */
};

/* Adopts the accepted socket <fd> on worker <w>; <tls> (borrowed) is the listener's TLS context
 * or NULL. Returns the connection, or NULL when it could not be set up (fd closed). */
struct pt_conn *pt_conn_accept(struct pt_worker *w, int fd, const void *sa, unsigned salen,
                               SSL_CTX *tls);

/* Queues <m> (takes a reference) and arranges one flush this loop turn. Never writes at once,
 * so callers may queue several messages and they leave in one writev. */
void pt_conn_send(struct pt_conn *c, struct pt_msg *m);

/* Writes everything queued that the socket takes now (called once per turn per connection). */
void pt_conn_flush(struct pt_conn *c);

/* Closes after the queue is written. */
void pt_conn_close_after_flush(struct pt_conn *c);

/* Closes at once: the socket, the protocol state, the queue. Frees <c>. */
void pt_conn_destroy(struct pt_conn *c);

/* Input flow control while a request is served. */
void pt_conn_pause_read(struct pt_conn *c);
void pt_conn_resume_read(struct pt_conn *c);

/* Keeps bytes [p, p+n) as leftovers for the next read (copies). */
void pt_conn_keep_input(struct pt_conn *c, const uint8_t *p, size_t n);

/* The peer address as text ("127.0.0.1"); <out> has room for 46 bytes. */
void pt_conn_peer_ip(const struct pt_conn *c, char *out);

/* Feeds input bytes to the current protocol; returns how many were consumed or -1 to close. */
long pt_conn_process(struct pt_conn *c, uint8_t *p, size_t n);

#endif
