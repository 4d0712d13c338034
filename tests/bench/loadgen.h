/*
 * loadgen: what the load generator's files share. loadgen.c holds the WebSocket connection
 * core, the idle and echo modes and the command line; lg_http.c a keep-alive HTTP/1.1 client
 * on the same epoll loop (with optional SigV4 signing); lg_fanout.c the push, sub, pub and
 * hmerge modes. One thread, one epoll; nothing here blocks.
 */
#ifndef PT_BENCH_LOADGEN_H
#define PT_BENCH_LOADGEN_H

#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "wsclient.h"

#define LG_MAX_CONNS 19000       /* sockets per process, under the 20000 open-file limit */
#define LG_IN_BYTES  4096        /* per WebSocket connection; bounds one server frame */
#define LG_HTTP_TAG  0x80000000u /* epoll data of an HTTP connection: tag | index */
#define LG_ID_MAX    64          /* bytes of a connection id learnt from the hello reply */

enum lg_mode { LG_MODE_IDLE, LG_MODE_ECHO, LG_MODE_PUSH, LG_MODE_SUB, LG_MODE_PUB };
enum lg_state { LG_FREE, LG_CONNECTING, LG_HANDSHAKE, LG_OPEN, LG_CLOSED };

struct lg_opts {
    enum lg_mode mode;
    const char *host;      /* numeric IPv4 of the server */
    const char *src;       /* numeric IPv4 source address, or NULL */
    const char *path;      /* request path; {i} becomes the connection's index + id_base */
    const char *protocol;  /* Sec-WebSocket-Protocol, or NULL */
    const char *hello;     /* text sent once a connection opens; its first reply makes the
                            * connection ready (push: the reply is the connection's id) */
    const char *post_path; /* push, pub: path of each POST; {i} and {id} are replaced */
    const char *sign;      /* push, pub: "AKID:SECRET" signs every POST with SigV4, or NULL */
    const char *hist_out;  /* sub: file the latency histogram is written to, or NULL */
    int port;
    int post_port;          /* push, pub: the HTTP server's port (default: port) */
    unsigned conns;         /* WebSocket connections to open */
    unsigned id_base;       /* added to the index in {i} */
    unsigned rate;          /* idle: connects per second, 0 = as fast as possible */
    unsigned handshakes;    /* connects plus handshakes in flight at once */
    unsigned window;        /* idle: connections per first/last rate window */
    unsigned msgs_inflight; /* echo: messages per connection; push, pub: requests in flight */
    unsigned size;          /* echo, push, pub: payload bytes, >= 32 */
    unsigned count;         /* pub: messages to publish; sub: messages each connection expects */
    double hold_s, duration_s, warmup_s, grace_s;
    double deadline_s; /* hard bound on the whole run */
};

struct lg_conn {
    int fd;
    uint8_t state;       /* enum lg_state */
    uint8_t pollout;     /* EPOLLOUT is registered */
    uint8_t ready;       /* open, and the hello (if any) answered */
    uint32_t in_len;     /* bytes in in[] */
    uint32_t out_len;    /* bytes in out[] */
    uint32_t out_off;    /* bytes of out[] already written */
    uint32_t waiting;    /* echo: sent, not yet echoed */
    uint32_t rx;         /* push, sub: messages received */
    uint64_t started_us; /* when connect() was called */
    uint8_t *in, *out;   /* owned */
    uint8_t *seen;       /* owned, sub: one bit per expected sequence number, or NULL */
    char *id;            /* owned: the hello's reply (a connection id), or NULL */
    char key[PT_WSCLIENT_KEY_LEN + 1];
};

extern struct lg_opts opts;
extern struct lg_conn *conns;
extern unsigned n_open, n_ready, n_failed, n_dropped, n_errors;
extern uint64_t deadline_us;
extern volatile sig_atomic_t stop_requested;
extern int ep;
extern struct sockaddr_in dst_addr, src_addr;

uint64_t now_us(void);
uint64_t rnd64(void);
void *xmalloc(size_t n);
double cpu_s(void);
void put_hex(char *p, uint64_t v, int digits);
uint64_t get_hex(const uint8_t *p, int digits);
/* Fills p[0..size) with "<16 hex: now>-<8 hex: tag>-xxx...": any echo or delivery can be
 * checked and timed from the payload alone. */
void lg_payload(char *p, unsigned size, uint64_t now, uint32_t tag);
/* Expands {i} (index + id_base) and {id} in tmpl into out; returns -1 when it does not fit. */
int lg_expand(char *out, size_t cap, const char *tmpl, unsigned index, const char *id);
/* Runs one epoll_wait and dispatches its events. */
void run_events(int timeout_ms);
/* Opens every WebSocket connection (and waits for hello replies) or gives up at until_us;
 * returns the seconds from *t0 (set here) to the last successful handshake. */
double connect_all(uint64_t *t0, uint64_t until_us);
void close_all(void);
void conn_fail(struct lg_conn *c);

/* lg_fanout.c: a data message on a ready connection in push or sub mode. */
void lg_fan_on_message(struct lg_conn *c, const struct pt_wsclient_frame *f, uint64_t now);
int mode_push(void);
int mode_sub(void);
int mode_pub(void);
int mode_hmerge(int argc, char **argv);

#endif
