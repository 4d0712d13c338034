/*
 * loadgen: Portico's own WebSocket load generator. One thread, epoll, its own minimal
 * client (wsclient.c) and HTTP client (lg_http.c). Modes:
 *   idle: open N connections (at --rate, or as fast as --handshakes allows), report the
 *         connect rate, then hold them for --hold seconds (or until SIGUSR1).
 *   echo: C connections each keep W text messages in flight for --duration seconds;
 *         report msgs/s and round-trip latency percentiles.
 *   push, sub, pub, hmerge: see lg_fanout.c.
 * Every run is bounded by --deadline, and one process stays under 19000 sockets; for more,
 * run several processes (run.sh does). Prints one result line of key=value pairs.
 */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lg_http.h"

#define LG_EVENTS 1024

struct lg_opts opts = {
    .mode = LG_MODE_IDLE,
    .host = "127.0.0.1",
    .path = "/",
    .port = 7681,
    .conns = 100,
    .handshakes = 256,
    .window = 1000,
    .msgs_inflight = 1,
    .size = 64,
    .count = 1,
    .hold_s = 5,
    .duration_s = 10,
    .warmup_s = 1,
    .grace_s = 5,
    .deadline_s = 0,
};

struct lg_conn *conns;   /* owned, opts.conns entries */
static uint32_t out_cap; /* bytes of each out[] */
int ep = -1;
unsigned n_open, n_ready, n_failed, n_dropped, n_errors;
static unsigned next_conn, in_flight, n_pending;
static uint64_t *open_at_us; /* owned: open times in order, for the rate windows */
static struct pt_hist hs_hist, rtt_hist;
static uint64_t msgs, measure_from_us, measure_to_us;
uint64_t deadline_us;
static int sending;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
struct sockaddr_in dst_addr, src_addr;
volatile sig_atomic_t stop_requested;

uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rnd64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void on_signal(int signum)
{
    stop_requested = 1;
}

/* ---- Connections ---- */

static void conn_close(struct lg_conn *c, int abortive)
{
    if (abortive) {
        /* RST instead of FIN: no TIME_WAIT piles up over repeated runs. */
        struct linger lg = {1, 0};

        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(c->fd);
    c->fd = -1;
    free(c->in);
    free(c->out);
    free(c->seen);
    free(c->id);
    c->in = c->out = c->seen = NULL;
    c->id = NULL;
    c->state = LG_CLOSED;
}

/* A connection that failed before opening counts as failed, after opening as dropped. */
void conn_fail(struct lg_conn *c)
{
    if (!c->ready)
        n_pending--;
    if (c->state == LG_OPEN) {
        n_dropped++;
        n_open--;
    } else {
        n_failed++;
        in_flight--;
    }
    conn_close(c, 1);
}

static int conn_set_pollout(struct lg_conn *c, int on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
                             .data.u32 = (uint32_t)(c - conns)};

    if (c->pollout == on)
        return 0;
    c->pollout = (uint8_t)on;
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what out[] holds; registers EPOLLOUT for the rest. */
static int conn_flush(struct lg_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN)
                return conn_set_pollout(c, 1);
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->out_off += (uint32_t)n;
    }
    c->out_off = c->out_len = 0;
    return conn_set_pollout(c, 0);
}

static int conn_queue_frame(struct lg_conn *c, int opcode, const void *p, size_t len)
{
    uint32_t mask = (uint32_t)rnd64();

    if (c->out_len + len + PT_WSCLIENT_FRAME_MAX > out_cap)
        return -1;
    c->out_len += (uint32_t)pt_wsclient_frame(c->out + c->out_len, opcode, p, len, mask);
    return 0;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (p == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    return p;
}

/* Returns -1 when no socket could be made (counted as a failed connection by the caller). */
static int conn_start(unsigned idx)
{
    struct lg_conn *c = &conns[idx];
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = idx};
    int one = 1;

    c->started_us = now_us();
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = LG_CLOSED;
        c->ready = 1; /* never pending */
        return -1;
    }
    c->in = xmalloc(LG_IN_BYTES);
    c->out = xmalloc(out_cap);
    in_flight++;
    n_pending++;
    c->state = LG_CONNECTING;
    c->pollout = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (opts.src != NULL) {
        /* Pick the port at connect() time, so each source address has the full range. */
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&src_addr, sizeof(src_addr)) < 0)
            goto fail;
    }
    if (connect(c->fd, (struct sockaddr *)&dst_addr, sizeof(dst_addr)) < 0 && errno != EINPROGRESS)
        goto fail;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        goto fail;
    return 0;

fail:
    conn_fail(c);
    return 0;
}

static void on_connected(struct lg_conn *c)
{
    uint8_t rnd[16];
    char path[512];
    int err = 0, n;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        conn_fail(c);
        return;
    }
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rnd64();

        memcpy(rnd + i, &r, 8);
    }
    pt_wsclient_make_key(c->key, rnd);
    if (lg_expand(path, sizeof(path), opts.path, (unsigned)(c - conns), NULL) < 0) {
        conn_fail(c);
        return;
    }
    n = pt_wsclient_request((char *)c->out, out_cap, opts.host, path, opts.protocol, c->key);
    if (n < 0) {
        conn_fail(c);
        return;
    }
    c->out_len = (uint32_t)n;
    c->state = LG_HANDSHAKE;
    if (conn_flush(c) < 0)
        conn_fail(c);
}

/* ---- Echo traffic ---- */

static const char hex_digits[] = "0123456789abcdef";

void put_hex(char *p, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        p[i] = hex_digits[v & 15];
}

/* Returns the value of digits hex characters, or UINT64_MAX if one is not hex. */
uint64_t get_hex(const uint8_t *p, int digits)
{
    uint64_t v = 0;

    for (int i = 0; i < digits; i++) {
        const char *d = memchr(hex_digits, p[i], 16);

        if (d == NULL || p[i] == '\0')
            return UINT64_MAX;
        v = (v << 4) | (uint64_t)(d - hex_digits);
    }
    return v;
}

void lg_payload(char *p, unsigned size, uint64_t now, uint32_t tag)
{
    memset(p, 'x', size);
    put_hex(p, now, 16);
    p[16] = '-';
    put_hex(p + 17, tag, 8);
    p[25] = '-';
}

int lg_expand(char *out, size_t cap, const char *tmpl, unsigned index, const char *id)
{
    size_t n = 0;
    char num[16];

    snprintf(num, sizeof(num), "%u", index + opts.id_base);
    while (*tmpl != '\0') {
        const char *put = tmpl;
        size_t len = 1;

        if (strncmp(tmpl, "{i}", 3) == 0) {
            put = num;
            len = strlen(num);
            tmpl += 3;
        } else if (strncmp(tmpl, "{id}", 4) == 0) {
            put = id != NULL ? id : "";
            len = strlen(put);
            tmpl += 4;
        } else {
            tmpl++;
        }
        if (n + len >= cap)
            return -1;
        memcpy(out + n, put, len);
        n += len;
    }
    out[n] = '\0';
    return 0;
}

/* The payload, "<16 hex: send time us>-<8 hex: connection index>-xxx...", lets any echo
 * be checked and timed without per-message state. */
static int send_message(struct lg_conn *c, uint64_t now)
{
    static char p[2048];

    lg_payload(p, opts.size, now, (uint32_t)(c - conns));
    if (conn_queue_frame(c, PT_WSCLIENT_OP_TEXT, p, opts.size) < 0)
        return -1;
    c->waiting++;
    return 0;
}

/* The first reply to the hello makes the connection ready; push keeps it as the id. */
static void on_hello_reply(struct lg_conn *c, const struct pt_wsclient_frame *f)
{
    if (f->opcode != PT_WSCLIENT_OP_TEXT || f->payload_len == 0 || f->payload_len > LG_ID_MAX) {
        n_errors++;
        return;
    }
    if (opts.mode == LG_MODE_PUSH) {
        c->id = xmalloc(f->payload_len + 1);
        memcpy(c->id, f->payload, f->payload_len);
        c->id[f->payload_len] = '\0';
    }
    c->ready = 1;
    n_ready++;
    n_pending--;
}

static void on_message(struct lg_conn *c, const struct pt_wsclient_frame *f, uint64_t now)
{
    uint64_t sent;

    if (!c->ready) {
        on_hello_reply(c, f);
        return;
    }
    if (opts.mode == LG_MODE_PUSH || opts.mode == LG_MODE_SUB) {
        lg_fan_on_message(c, f, now);
        return;
    }
    if (opts.mode != LG_MODE_ECHO || f->payload_len != opts.size || !f->fin) {
        n_errors++;
        return;
    }
    sent = get_hex(f->payload, 16);
    if (sent > now || get_hex(f->payload + 17, 8) != (uint64_t)(c - conns)) {
        n_errors++;
        return;
    }
    c->waiting--;
    if (now >= measure_from_us && now < measure_to_us) {
        msgs++;
        pt_hist_add(&rtt_hist, now - sent);
    }
    if (sending && send_message(c, now) < 0)
        n_errors++;
}

/* ---- Reading ---- */

static int on_frame(struct lg_conn *c, const struct pt_wsclient_frame *f, uint64_t now)
{
    switch (f->opcode) {
    case PT_WSCLIENT_OP_PING:
        return conn_queue_frame(c, PT_WSCLIENT_OP_PONG, f->payload, f->payload_len);
    case PT_WSCLIENT_OP_CLOSE:
        return -1;
    case PT_WSCLIENT_OP_PONG:
        return 0;
    default:
        on_message(c, f, now);
        return 0;
    }
}

static int on_handshake_bytes(struct lg_conn *c, uint64_t now)
{
    int h = pt_wsclient_check_response((const char *)c->in, c->in_len, c->key);

    if (h <= 0)
        return h;
    memmove(c->in, c->in + h, c->in_len - (uint32_t)h);
    c->in_len -= (uint32_t)h;
    c->state = LG_OPEN;
    in_flight--;
    open_at_us[n_open + n_dropped] = now;
    n_open++;
    pt_hist_add(&hs_hist, now - c->started_us);
    if (opts.hello != NULL)
        return conn_queue_frame(c, PT_WSCLIENT_OP_TEXT, opts.hello, strlen(opts.hello));
    c->ready = 1;
    n_ready++;
    n_pending--;
    if (opts.mode == LG_MODE_ECHO && sending) {
        for (unsigned i = 0; i < opts.msgs_inflight; i++)
            if (send_message(c, now) < 0)
                return -1;
    }
    return 0;
}

static int on_frames(struct lg_conn *c, uint64_t now)
{
    uint32_t off = 0;
    struct pt_wsclient_frame f;
    long n;

    while ((n = pt_wsclient_parse(c->in + off, c->in_len - off, LG_IN_BYTES - 16, &f)) > 0) {
        if (on_frame(c, &f, now) < 0)
            return -1;
        off += (uint32_t)n;
    }
    if (n < 0)
        return -1;
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return 0;
}

static void on_readable(struct lg_conn *c)
{
    uint64_t now;
    ssize_t n;

    n = recv(c->fd, c->in + c->in_len, LG_IN_BYTES - c->in_len, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        conn_fail(c);
        return;
    }
    c->in_len += (uint32_t)n;
    now = now_us();
    if (c->state == LG_HANDSHAKE && on_handshake_bytes(c, now) < 0)
        goto fail;
    if (c->state == LG_OPEN && on_frames(c, now) < 0)
        goto fail;
    if (c->state == LG_HANDSHAKE && c->in_len == LG_IN_BYTES)
        goto fail;
    if (c->out_len > 0 && !c->pollout && conn_flush(c) < 0)
        goto fail;
    return;

fail:
    conn_fail(c);
}

/* ---- The loop ---- */

void run_events(int timeout_ms)
{
    struct epoll_event evs[LG_EVENTS];
    int n = epoll_wait(ep, evs, LG_EVENTS, timeout_ms);

    for (int i = 0; i < n; i++) {
        struct lg_conn *c;
        uint32_t e = evs[i].events;

        if (evs[i].data.u32 & LG_HTTP_TAG) {
            lg_http_event(evs[i].data.u32 & ~LG_HTTP_TAG, e);
            continue;
        }
        c = &conns[evs[i].data.u32];
        if (c->state == LG_CONNECTING) {
            on_connected(c);
            continue;
        }
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
            on_readable(c);
        if (c->state != LG_CLOSED && (e & EPOLLOUT) && conn_flush(c) < 0)
            conn_fail(c);
    }
}

/* Starts connections while the rate and the handshake window allow. */
static void pump_connects(uint64_t t0, uint64_t now)
{
    uint64_t allowed = opts.conns;

    if (opts.rate > 0)
        allowed = (now - t0) * opts.rate / 1000000u + 1;
    while (next_conn < opts.conns && next_conn < allowed && in_flight < opts.handshakes)
        if (conn_start(next_conn++) < 0)
            n_failed++;
}

/* Opens every connection or gives up at until_us; returns the seconds from *t0 (set here)
 * to the last successful handshake. */
double connect_all(uint64_t *t0, uint64_t until_us)
{
    uint64_t now = now_us();

    *t0 = now;

    while ((next_conn < opts.conns || n_pending > 0) && now < until_us && !stop_requested) {
        pump_connects(*t0, now);
        run_events(opts.rate > 0 ? 1 : 50);
        now = now_us();
    }
    for (unsigned i = 0; i < next_conn; i++)
        if (conns[i].state == LG_CONNECTING || conns[i].state == LG_HANDSHAKE ||
            (conns[i].state == LG_OPEN && !conns[i].ready))
            conn_fail(&conns[i]);
    return n_open + n_dropped > 0 ? (double)(open_at_us[n_open + n_dropped - 1] - *t0) / 1e6
                                  : (double)(now - *t0) / 1e6;
}

/* CPU seconds (user + system) this process has used, so a script can tell its own load
 * from other processes'. */
double cpu_s(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double window_rate(unsigned from, unsigned to, uint64_t t0)
{
    uint64_t start = from == 0 ? t0 : open_at_us[from - 1];
    uint64_t span = open_at_us[to - 1] - start;

    return span > 0 ? (double)(to - from) * 1e6 / (double)span : 0;
}

void close_all(void)
{
    for (unsigned i = 0; i < next_conn; i++)
        if (conns[i].state != LG_CLOSED && conns[i].fd >= 0)
            conn_close(&conns[i], 1);
}

static int mode_idle(void)
{
    uint64_t t0, hold_until;
    double secs = connect_all(&t0, deadline_us);
    unsigned done = n_open + n_dropped, w = opts.window < done ? opts.window : done;

    fprintf(stderr, "connected open=%u failed=%u\n", n_open, n_failed);
    fflush(stderr);
    hold_until = now_us() + (uint64_t)(opts.hold_s * 1e6);
    if (hold_until > deadline_us)
        hold_until = deadline_us;
    while (now_us() < hold_until && !stop_requested)
        run_events(100);
    printf("mode=idle conns=%u ok=%u fail=%u connect_s=%.3f rate=%.0f rate_first=%.0f "
           "rate_last=%.0f window=%u hs_p50_us=%" PRIu64 " hs_p99_us=%" PRIu64
           " held=%u dropped=%u cpu_s=%.2f\n",
           opts.conns, done, n_failed, secs, secs > 0 ? done / secs : 0,
           w ? window_rate(0, w, t0) : 0, w ? window_rate(done - w, done, t0) : 0, w,
           pt_hist_percentile(&hs_hist, 50), pt_hist_percentile(&hs_hist, 99), n_open, n_dropped,
           cpu_s());
    fflush(stdout);
    close_all();
    return n_failed > 0 || n_dropped > 0;
}

static int mode_echo(void)
{
    uint64_t t0, start, end;

    sending = 0;
    connect_all(&t0, deadline_us);
    if (n_open < opts.conns) {
        printf("mode=echo conns=%u ok=%u fail=%u error=connect\n", opts.conns, n_open, n_failed);
        close_all();
        return 1;
    }
    start = now_us();
    measure_from_us = start + (uint64_t)(opts.warmup_s * 1e6);
    measure_to_us = measure_from_us + (uint64_t)(opts.duration_s * 1e6);
    end = measure_to_us < deadline_us ? measure_to_us : deadline_us;
    sending = 1;
    for (unsigned i = 0; i < opts.conns; i++) {
        for (unsigned k = 0; k < opts.msgs_inflight; k++)
            if (conns[i].state == LG_OPEN && send_message(&conns[i], start) < 0)
                n_errors++;
        if (conns[i].state == LG_OPEN && conn_flush(&conns[i]) < 0)
            conn_fail(&conns[i]);
    }
    while (now_us() < end && !stop_requested)
        run_events(10);
    sending = 0;
    end = now_us() < measure_to_us ? now_us() : measure_to_us;
    printf("mode=echo conns=%u inflight=%u size=%u duration_s=%.2f msgs=%" PRIu64
           " msgs_per_s=%.0f p50_us=%" PRIu64 " p99_us=%" PRIu64 " max_us=%" PRIu64
           " errors=%u dropped=%u cpu_s=%.2f\n",
           opts.conns, opts.msgs_inflight, opts.size, (double)(end - measure_from_us) / 1e6, msgs,
           end > measure_from_us ? (double)msgs * 1e6 / (double)(end - measure_from_us) : 0,
           pt_hist_percentile(&rtt_hist, 50), pt_hist_percentile(&rtt_hist, 99), rtt_hist.max_us,
           n_errors, n_dropped, cpu_s());
    fflush(stdout);
    close_all();
    return n_errors > 0 || n_dropped > 0;
}

/* ---- Command line ---- */

static int parse_num(const char *arg, const char *name, double *out)
{
    size_t n = strlen(name);
    char *end;

    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return 0;
    *out = strtod(arg + n + 1, &end);
    return *end == '\0' && *out >= 0 ? 1 : -1;
}

static int parse_arg(const char *a)
{
    static const struct {
        const char *name;
        unsigned *u;
        double *d;
    } nums[] = {
        {"--conns", &opts.conns, NULL},
        {"--rate", &opts.rate, NULL},
        {"--handshakes", &opts.handshakes, NULL},
        {"--window", &opts.window, NULL},
        {"--inflight", &opts.msgs_inflight, NULL},
        {"--size", &opts.size, NULL},
        {"--hold", NULL, &opts.hold_s},
        {"--duration", NULL, &opts.duration_s},
        {"--warmup", NULL, &opts.warmup_s},
        {"--deadline", NULL, &opts.deadline_s},
        {"--id-base", &opts.id_base, NULL},
        {"--count", &opts.count, NULL},
        {"--grace", NULL, &opts.grace_s},
    };
    double v;
    int rc;

    if (strncmp(a, "--host=", 7) == 0)
        opts.host = a + 7;
    else if (strncmp(a, "--src=", 6) == 0)
        opts.src = a + 6;
    else if (strncmp(a, "--path=", 7) == 0)
        opts.path = a + 7;
    else if (strncmp(a, "--protocol=", 11) == 0)
        opts.protocol = a + 11;
    else if (strncmp(a, "--hello=", 8) == 0)
        opts.hello = a + 8;
    else if (strncmp(a, "--post-path=", 12) == 0)
        opts.post_path = a + 12;
    else if (strncmp(a, "--sign=", 7) == 0)
        opts.sign = a + 7;
    else if (strncmp(a, "--hist-out=", 11) == 0)
        opts.hist_out = a + 11;
    else if (strncmp(a, "--port=", 7) == 0)
        opts.port = atoi(a + 7);
    else if (strncmp(a, "--post-port=", 12) == 0)
        opts.post_port = atoi(a + 12);
    else {
        for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
            if ((rc = parse_num(a, nums[i].name, &v)) == 0)
                continue;
            if (rc < 0)
                return -1;
            if (nums[i].u != NULL)
                *nums[i].u = (unsigned)v;
            else
                *nums[i].d = v;
            return 0;
        }
        return -1;
    }
    return 0;
}

static int check_opts(void)
{
    struct rlimit rl;
    int fan = opts.mode == LG_MODE_PUSH || opts.mode == LG_MODE_PUB;

    if (opts.mode == LG_MODE_PUB)
        opts.conns = 0;
    if (opts.post_port == 0)
        opts.post_port = opts.port;
    if (opts.port <= 0 || opts.port > 65535 || opts.post_port <= 0 || opts.post_port > 65535 ||
        (opts.conns == 0 && opts.mode != LG_MODE_PUB) || opts.conns > LG_MAX_CONNS ||
        opts.handshakes == 0 || opts.msgs_inflight == 0 || opts.msgs_inflight > 256 ||
        opts.size < 32 || opts.size > 2048 || opts.count == 0 || opts.count > 1000000 ||
        (fan && opts.post_path == NULL) || (opts.hello != NULL && strlen(opts.hello) > 1024)) {
        fprintf(stderr,
                "loadgen: need 0<port<65536, 0<conns<=%d, handshakes>0, 0<inflight<=256, "
                "32<=size<=2048, 0<count<=1000000, --post-path for push and pub\n",
                LG_MAX_CONNS);
        return -1;
    }
    if (inet_pton(AF_INET, opts.host, &dst_addr.sin_addr) != 1 ||
        (opts.src != NULL && inet_pton(AF_INET, opts.src, &src_addr.sin_addr) != 1)) {
        fprintf(stderr, "loadgen: --host and --src take numeric IPv4 addresses\n");
        return -1;
    }
    dst_addr.sin_family = src_addr.sin_family = AF_INET;
    dst_addr.sin_port = htons((uint16_t)opts.port);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur < opts.conns + (fan ? opts.msgs_inflight : 0) + 16) {
        fprintf(stderr, "loadgen: open-file limit %lu is below conns+16\n",
                (unsigned long)rl.rlim_cur);
        return -1;
    }
    if (opts.deadline_s <= 0)
        opts.deadline_s =
            30 + (opts.mode == LG_MODE_IDLE ? opts.hold_s : opts.duration_s + opts.warmup_s);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"idle", "echo", "push", "sub", "pub"};
    struct sigaction sa;
    int m = -1;

    if (argc >= 2 && strcmp(argv[1], "hmerge") == 0)
        return mode_hmerge(argc - 2, argv + 2);
    for (int i = 0; argc >= 2 && i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcmp(argv[1], names[i]) == 0)
            m = i;
    if (m < 0)
        goto usage;
    opts.mode = (enum lg_mode)m;
    for (int i = 2; i < argc; i++)
        if (parse_arg(argv[i]) < 0)
            goto usage;
    if (check_opts() < 0)
        return 2;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait() returns EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rng_state ^= now_us() ^ ((uint64_t)getpid() << 32);
    deadline_us = now_us() + (uint64_t)(opts.deadline_s * 1e6);
    out_cap =
        512 + (opts.hello != NULL ? (uint32_t)strlen(opts.hello) + PT_WSCLIENT_FRAME_MAX : 0) +
        (opts.mode == LG_MODE_ECHO ? opts.msgs_inflight : 1) * (opts.size + PT_WSCLIENT_FRAME_MAX);
    conns = calloc(opts.conns + 1, sizeof(*conns));
    open_at_us = calloc(opts.conns + 1, sizeof(*open_at_us));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || open_at_us == NULL || ep < 0) {
        perror("loadgen: setup");
        return 1;
    }
    for (unsigned i = 0; i < opts.conns; i++)
        conns[i].fd = -1;
    switch (opts.mode) {
    case LG_MODE_IDLE:
        return mode_idle();
    case LG_MODE_ECHO:
        return mode_echo();
    case LG_MODE_PUSH:
        return mode_push();
    case LG_MODE_SUB:
        return mode_sub();
    default:
        return mode_pub();
    }

usage:
    fprintf(stderr, "usage: loadgen idle|echo|push|sub|pub --port=N [--host=IPv4] [--src=IPv4]\n"
                    "         [--path=/ ({i}: index + --id-base)] [--protocol=NAME] [--conns=N]\n"
                    "         [--handshakes=K] [--hello=TEXT] [--deadline=S]\n"
                    "  idle:  [--rate=R (0: as fast as possible)] [--hold=S] [--window=N]\n"
                    "  echo:  [--inflight=W] [--size=BYTES] [--duration=S] [--warmup=S]\n"
                    "  push:  --post-path=P ({id}, {i}) [--post-port=N] [--sign=AKID:SECRET]\n"
                    "         [--inflight=W] [--size=BYTES] [--grace=S]\n"
                    "  sub:   --count=MSGS [--hist-out=FILE]\n"
                    "  pub:   --post-path=P --count=MSGS [--post-port=N] [--sign=AKID:SECRET]\n"
                    "         [--inflight=W] [--size=BYTES]\n"
                    "       loadgen hmerge FILE...   (merged latency histograms of sub runs)\n");
    return 2;
}
