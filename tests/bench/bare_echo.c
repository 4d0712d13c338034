/*
 * bare_echo: a bare libwebsockets echo server, the floor under Portico's own stack.
 * One thread. The event loop is lws's own (poll), a foreign libev loop or a foreign libuv
 * loop, chosen by --loop; the foreign loops are created and run here, so other watchers
 * could share them. Every message is reassembled and echoed as-is, as one frame, from
 * WRITEABLE. Bench only: no TLS, no extensions, no limits beyond a small per-connection queue
 * with rx flow control and a message size cap.
 */
#include <ev.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

enum echo_loop { ECHO_LOOP_LWS, ECHO_LOOP_EV, ECHO_LOOP_UV };

struct echo_opts {
    enum echo_loop loop;
    int port;
    unsigned rx_buf_bytes;   /* protocols[].rx_buffer_size; 0 = lws default (pt_serv_buf_size) */
    unsigned serv_buf_bytes; /* info.pt_serv_buf_size; 0 = lws default (4096) */
    unsigned hdr_bytes;      /* info.max_http_header_data; 0 = lws default */
    unsigned queue_max;      /* messages queued per connection before rx pauses */
    int validity;            /* 1: lws's default per-connection validity (ping/hangup) timer */
};

#define ECHO_MSG_MAX (1 << 20) /* bytes; a longer message closes the connection */

/* One whole message waiting to go back out; payload starts after LWS_PRE of headroom. */
struct echo_msg {
    struct echo_msg *next;
    size_t len;
    size_t cap; /* payload bytes allocated */
    int type;   /* LWS_WRITE_TEXT or LWS_WRITE_BINARY */
    unsigned char buf[];
};

/* Per-session data: lws allocates it (size in the protocols table) and zeroes it. */
struct echo_conn {
    struct echo_msg *head, *tail; /* owned: whole messages to send */
    struct echo_msg *partial;     /* owned: message still arriving in fragments, or NULL */
    unsigned queued;              /* messages in the list */
    unsigned rx_paused : 1;
};

static struct echo_opts opts = {ECHO_LOOP_LWS, 7681, 0, 0, 0, 16, 1};

/* secs_since_valid_hangup 0 turns off lws's validity timer. By default (300 s ping, 310 s
 * hangup) every ws connection puts one on the thread's sorted timer list, and that insert
 * walks the whole list: connecting gets slower the more connections are held. */
static const lws_retry_bo_t no_validity_policy = {NULL, 0, 0, 0, 0, 0};
static struct lws_context *context;
static volatile sig_atomic_t interrupted;

static void queue_free(struct echo_conn *c)
{
    struct echo_msg *m;

    while ((m = c->head) != NULL) {
        c->head = m->next;
        free(m);
    }
    free(c->partial);
    c->partial = NULL;
    c->tail = NULL;
    c->queued = 0;
}

/* Appends len bytes to the message being assembled; lws hands over a message in pieces when
 * it spans frames or reads. The usual small message takes one exact allocation. */
static struct echo_msg *msg_append(struct echo_msg *m, int type, const void *in, size_t len)
{
    size_t need = (m != NULL ? m->len : 0) + len;

    if (need > ECHO_MSG_MAX) {
        free(m);
        return NULL;
    }
    if (m == NULL || need > m->cap) {
        size_t cap = m == NULL ? len : need * 2;
        struct echo_msg *n = realloc(m, sizeof(*n) + LWS_PRE + cap);

        if (n == NULL) {
            free(m);
            return NULL;
        }
        if (m == NULL) {
            n->len = 0;
            n->type = type;
        }
        n->cap = cap;
        m = n;
    }
    memcpy(m->buf + LWS_PRE + m->len, in, len);
    m->len += len;
    return m;
}

static int on_receive(struct lws *wsi, struct echo_conn *c, const void *in, size_t len)
{
    int type = lws_frame_is_binary(wsi) ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
    struct echo_msg *f;

    c->partial = msg_append(c->partial, type, in, len);
    if (c->partial == NULL)
        return -1;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return 0;
    f = c->partial;
    c->partial = NULL;
    f->next = NULL;
    if (c->tail != NULL)
        c->tail->next = f;
    else
        c->head = f;
    c->tail = f;
    if (++c->queued >= opts.queue_max && !c->rx_paused) {
        c->rx_paused = 1;
        lws_rx_flow_control(wsi, 0);
    }
    lws_callback_on_writable(wsi);
    return 0;
}

/* One lws_write() per WRITEABLE (lws README.coding.md); re-arm while frames remain. */
static int on_writeable(struct lws *wsi, struct echo_conn *c)
{
    struct echo_msg *f = c->head;
    int n;

    if (f == NULL)
        return 0;
    n = lws_write(wsi, f->buf + LWS_PRE, f->len, (enum lws_write_protocol)f->type);
    c->head = f->next;
    if (c->head == NULL)
        c->tail = NULL;
    c->queued--;
    free(f);
    if (n < 0)
        return -1;
    if (c->head != NULL)
        lws_callback_on_writable(wsi);
    if (c->rx_paused && c->queued <= opts.queue_max / 2) {
        c->rx_paused = 0;
        lws_rx_flow_control(wsi, 1);
    }
    return 0;
}

static int on_lws_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct echo_conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        return on_receive(wsi, c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, c);
    case LWS_CALLBACK_CLOSED:
        queue_free(c);
        break;
    default:
        break;
    }
    return 0;
}

static struct lws_protocols protocols[] = {
    {"echo", on_lws_event, sizeof(struct echo_conn), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- Loops ---- */

static void on_signal_plain(int signum)
{
    interrupted = 1;
}

static void on_ev_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

static uv_signal_t uv_sigs[2];

static void on_uv_signal(uv_signal_t *h, int signum)
{
    /* With a foreign uv loop lws closes its handles through the loop; ours go too, so
     * uv_run() returns once everything is closed. */
    lws_context_destroy(context);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&uv_sigs[i], NULL);
}

static int create_context(void *foreign_loop)
{
    struct lws_context_creation_info info;
    void *loops[1] = {foreign_loop};

    memset(&info, 0, sizeof(info));
    info.port = opts.port;
    info.protocols = protocols;
    info.pt_serv_buf_size = opts.serv_buf_bytes;
    info.max_http_header_data = (unsigned short)opts.hdr_bytes;
    info.pcontext = &context;
    if (!opts.validity)
        info.retry_and_idle_policy = &no_validity_policy;
    if (opts.loop == ECHO_LOOP_EV)
        info.options |= LWS_SERVER_OPTION_LIBEV;
    if (opts.loop == ECHO_LOOP_UV)
        info.options |= LWS_SERVER_OPTION_LIBUV;
    if (foreign_loop != NULL)
        info.foreign_loops = loops;
    context = lws_create_context(&info);
    if (context == NULL) {
        fprintf(stderr, "bare_echo: lws_create_context failed\n");
        return -1;
    }
    printf("ready loop=%s port=%d rx_buf=%u serv_buf=%u validity=%d\n",
           opts.loop == ECHO_LOOP_LWS  ? "lws"
           : opts.loop == ECHO_LOOP_EV ? "ev"
                                       : "uv",
           opts.port, opts.rx_buf_bytes, opts.serv_buf_bytes, opts.validity);
    fflush(stdout);
    return 0;
}

static int run_lws(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal_plain; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (create_context(NULL) < 0)
        return 1;
    while (!interrupted && lws_service(context, 0) >= 0)
        ;
    lws_context_destroy(context);
    return 0;
}

static int run_ev(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    ev_signal sig_int, sig_term;

    if (loop == NULL)
        return 1;
    fprintf(stderr, "bare_echo: libev backend %s\n",
            ev_backend(loop) == EVBACKEND_EPOLL ? "epoll" : "other");
    ev_signal_init(&sig_int, on_ev_signal, SIGINT);
    ev_signal_init(&sig_term, on_ev_signal, SIGTERM);
    ev_signal_start(loop, &sig_int);
    ev_signal_start(loop, &sig_term);
    if (create_context(loop) < 0)
        return 1;
    ev_run(loop, 0);
    lws_context_destroy(context);
    ev_signal_stop(loop, &sig_int);
    ev_signal_stop(loop, &sig_term);
    ev_loop_destroy(loop);
    return 0;
}

static int run_uv(void)
{
    uv_loop_t loop;
    int rc;

    if (uv_loop_init(&loop) != 0)
        return 1;
    uv_signal_init(&loop, &uv_sigs[0]);
    uv_signal_init(&loop, &uv_sigs[1]);
    uv_signal_start(&uv_sigs[0], on_uv_signal, SIGINT);
    uv_signal_start(&uv_sigs[1], on_uv_signal, SIGTERM);
    if (create_context(&loop) < 0)
        return 1;
    uv_run(&loop, UV_RUN_DEFAULT);
    if (context != NULL)
        lws_context_destroy(context);
    rc = uv_loop_close(&loop);
    if (rc != 0)
        fprintf(stderr, "bare_echo: uv_loop_close: %s\n", uv_strerror(rc));
    return rc != 0;
}

/* ---- Command line ---- */

static int parse_opt(const char *arg)
{
    const char *v = strchr(arg, '=');

    if (v == NULL)
        return -1;
    v++;
    if (strncmp(arg, "--loop=", 7) == 0) {
        if (strcmp(v, "lws") == 0)
            opts.loop = ECHO_LOOP_LWS;
        else if (strcmp(v, "ev") == 0)
            opts.loop = ECHO_LOOP_EV;
        else if (strcmp(v, "uv") == 0)
            opts.loop = ECHO_LOOP_UV;
        else
            return -1;
    } else if (strncmp(arg, "--port=", 7) == 0) {
        opts.port = atoi(v);
    } else if (strncmp(arg, "--rx-buf=", 9) == 0) {
        opts.rx_buf_bytes = (unsigned)atoi(v);
    } else if (strncmp(arg, "--serv-buf=", 11) == 0) {
        opts.serv_buf_bytes = (unsigned)atoi(v);
    } else if (strncmp(arg, "--hdr-data=", 11) == 0) {
        opts.hdr_bytes = (unsigned)atoi(v);
    } else if (strncmp(arg, "--validity=", 11) == 0) {
        opts.validity = atoi(v) != 0;
    } else if (strncmp(arg, "--queue=", 8) == 0) {
        opts.queue_max = (unsigned)atoi(v);
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (parse_opt(argv[i]) < 0) {
            fprintf(stderr,
                    "usage: bare_echo --loop=lws|ev|uv --port=N [--rx-buf=BYTES] "
                    "[--serv-buf=BYTES] [--hdr-data=BYTES] [--queue=FRAMES] [--validity=0|1]\n");
            return 2;
        }
    }
    if (opts.port <= 0 || opts.port > 65535 || opts.queue_max < 2 || opts.hdr_bytes > 65535) {
        fprintf(stderr, "bare_echo: bad --port, --queue or --hdr-data\n");
        return 2;
    }
    protocols[0].rx_buffer_size = opts.rx_buf_bytes;
    /* lws logs a notice per accepted socket and per watcher change on the libev loop. */
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    printf("pid=%d\n", (int)getpid());
    fflush(stdout);
    switch (opts.loop) {
    case ECHO_LOOP_EV:
        return run_ev();
    case ECHO_LOOP_UV:
        return run_uv();
    default:
        return run_lws();
    }
}
