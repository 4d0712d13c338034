/*
 * lg_fanout: the load generator's server-to-client modes.
 *   push: --conns WebSocket receivers (each learns its connection id from the reply to
 *         --hello, or is named by {i} in its path), then one POST per receiver to
 *         --post-path with --inflight requests in flight on keep-alive connections, signed
 *         with SigV4 when --sign is given. Reports posts/s, the POSTs' answer latency, and
 *         the end-to-end latency from the moment a post is sent to its arrival on the
 *         receiver (the payload names the receiver). Every request is built and signed
 *         before the clock starts: the figures are the server's, not the signer's.
 *   sub:  --conns subscribers (joined with --hello, or by their path) that expect --count
 *         messages each; prints "ready" on stderr once all are subscribed, then counts
 *         arrivals per sequence number (lost and duplicate messages) and the latency from
 *         the publish time carried in each message. Ends when every subscriber has every
 *         message, at SIGUSR1 or at the deadline; --hist-out keeps the histogram.
 *   pub:  posts --count messages of --size bytes to --post-path with --inflight requests
 *         in flight, as fast as they are accepted.
 *   hmerge FILE...: merges the histograms of several sub processes, prints percentiles.
 * The clock is CLOCK_MONOTONIC, shared by every process on the machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_http.h"
#include "loadgen.h"

static unsigned next_target, answered, answered_ok, received, rx_errors, dups;
static uint64_t t_first, t_last_answer, t_first_rx, t_last_rx;
static struct pt_hist http_hist, e2e_hist;
static int posting;
static char **prebuilt; /* owned, push: the whole request per receiver */
static uint32_t *prebuilt_len;
static uint64_t *sent_at; /* owned, push: when each receiver's post was sent */

/* ---- Receiving (push and sub) ---- */

void lg_fan_on_message(struct lg_conn *c, const struct pt_wsclient_frame *f, uint64_t now)
{
    uint64_t sent, tag;

    if (f->payload_len != opts.size || !f->fin) {
        rx_errors++;
        return;
    }
    sent = get_hex(f->payload, 16);
    tag = get_hex(f->payload + 17, 8);
    if (sent > now || tag == UINT64_MAX) {
        rx_errors++;
        return;
    }
    if (opts.mode == LG_MODE_PUSH) {
        if (tag != (uint64_t)(c - conns) || c->rx > 0 || sent_at[tag] == 0) {
            rx_errors++;
            return;
        }
        sent = sent_at[tag];
    } else {
        if (tag >= opts.count || c->seen == NULL) {
            rx_errors++;
            return;
        }
        if (c->seen[tag >> 3] & (1u << (tag & 7))) {
            dups++;
            return;
        }
        c->seen[tag >> 3] |= (uint8_t)(1u << (tag & 7));
    }
    c->rx++;
    received++;
    if (t_first_rx == 0)
        t_first_rx = now;
    t_last_rx = now;
    pt_hist_add(&e2e_hist, now - sent);
}

/* ---- Posting (push and pub) ---- */

static void post_next(unsigned idx)
{
    static char body[2048];
    char path[512];
    unsigned total = opts.mode == LG_MODE_PUSH ? opts.conns : opts.count;

    while (posting && next_target < total) {
        unsigned t = next_target++;
        const struct lg_conn *c = opts.mode == LG_MODE_PUSH ? &conns[t] : NULL;
        uint64_t now = now_us();

        if (c != NULL && (c->state != LG_OPEN || !c->ready)) {
            answered++; /* a receiver that is gone: not posted, counted as lost */
            continue;
        }
        if (prebuilt != NULL) {
            if (prebuilt[t] == NULL) {
                answered++;
                continue;
            }
            if (t_first == 0)
                t_first = now;
            sent_at[t] = now;
            lg_http_send(idx, prebuilt[t], prebuilt_len[t], t);
            return;
        }
        if (lg_expand(path, sizeof(path), opts.post_path, c != NULL ? t : 0,
                      c != NULL ? c->id : NULL) < 0) {
            answered++;
            continue;
        }
        lg_payload(body, opts.size, now, t);
        if (t_first == 0)
            t_first = now;
        lg_http_post(idx, path, body, opts.size, t);
        return;
    }
}

static void on_answer(unsigned idx, int status, uint64_t tag, uint64_t sent_us, uint64_t now)
{
    if (status != 0) {
        answered++;
        t_last_answer = now;
        if (status >= 200 && status < 300) {
            answered_ok++;
            pt_hist_add(&http_hist, now - sent_us);
        } else if (answered - answered_ok <= 3) {
            fprintf(stderr, "loadgen: post %" PRIu64 " answered %d\n", tag, status);
        }
    }
    post_next(idx);
}

/* Opens the HTTP connections and posts until every post is answered, the connections are
 * all gone, or the deadline. */
static void post_all(unsigned total)
{
    struct sockaddr_in to = dst_addr;

    to.sin_port = htons((uint16_t)opts.post_port);
    posting = 1;
    if (lg_http_open(opts.msgs_inflight, &to, on_answer) < 0) {
        fprintf(stderr, "loadgen: cannot open HTTP connections\n");
        return;
    }
    while (answered < total && next_target <= total && now_us() < deadline_us && !stop_requested) {
        run_events(10);
        if (lg_http_failed >= opts.msgs_inflight)
            break;
        if (next_target >= total && answered + lg_http_failed >= total)
            break;
    }
    posting = 0;
}

static double per_s(unsigned n, uint64_t from, uint64_t to)
{
    return to > from ? (double)n * 1e6 / (double)(to - from) : 0;
}

static int http_setup(void)
{
    char host[64];

    snprintf(host, sizeof(host), "%s:%d", opts.host, opts.post_port);
    if (lg_http_setup(host, opts.sign) < 0) {
        fprintf(stderr, "loadgen: bad --sign (AKID:SECRET)\n");
        return -1;
    }
    return 0;
}

/* Builds (and signs) the post for every ready receiver. The payload's time field is 0: the
 * send time is kept here, since the receivers are in this process. */
static void prebuild(void)
{
    char path[512], body[2048], req[8192];

    prebuilt = calloc(opts.conns, sizeof(*prebuilt));
    prebuilt_len = calloc(opts.conns, sizeof(*prebuilt_len));
    sent_at = calloc(opts.conns, sizeof(*sent_at));
    if (prebuilt == NULL || prebuilt_len == NULL || sent_at == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    for (unsigned t = 0; t < opts.conns; t++) {
        int n;

        if (lg_expand(path, sizeof(path), opts.post_path, t, conns[t].id) < 0)
            continue;
        lg_payload(body, opts.size, 0, t);
        if ((n = lg_http_build(req, sizeof(req), path, body, opts.size)) < 0)
            continue;
        prebuilt[t] = xmalloc((size_t)n);
        memcpy(prebuilt[t], req, (size_t)n);
        prebuilt_len[t] = (uint32_t)n;
    }
}

int mode_push(void)
{
    uint64_t t0, grace_end;

    if (http_setup() < 0)
        return 2;

    connect_all(&t0, deadline_us);
    fprintf(stderr, "connected ready=%u failed=%u\n", n_ready, n_failed);
    if (n_ready < opts.conns) {
        printf("mode=push conns=%u ready=%u fail=%u error=connect\n", opts.conns, n_ready,
               n_failed);
        close_all();
        return 1;
    }
    prebuild();
    fprintf(stderr, "posting\n");
    fflush(stderr);
    post_all(opts.conns);
    grace_end = now_us() + (uint64_t)(opts.grace_s * 1e6);
    while (received < answered_ok && now_us() < grace_end && now_us() < deadline_us &&
           !stop_requested)
        run_events(10);
    printf("mode=push conns=%u inflight=%u size=%u signed=%d posts=%u ok=%u http_errors=%u "
           "posts_per_s=%.0f http_p50_us=%" PRIu64 " http_p99_us=%" PRIu64 " e2e_p50_us=%" PRIu64
           " e2e_p99_us=%" PRIu64 " e2e_max_us=%" PRIu64
           " received=%u lost=%u rx_errors=%u dropped=%u http_conns_lost=%u cpu_s=%.2f\n",
           opts.conns, opts.msgs_inflight, opts.size, opts.sign != NULL, answered, answered_ok,
           answered - answered_ok, per_s(answered_ok, t_first, t_last_answer),
           pt_hist_percentile(&http_hist, 50), pt_hist_percentile(&http_hist, 99),
           pt_hist_percentile(&e2e_hist, 50), pt_hist_percentile(&e2e_hist, 99), e2e_hist.max_us,
           received, opts.conns - received, rx_errors, n_dropped, lg_http_failed, cpu_s());
    fflush(stdout);
    lg_http_close();
    close_all();
    return answered_ok < opts.conns || received < opts.conns || rx_errors > 0;
}

static int write_hist(const char *file, const struct pt_hist *h)
{
    FILE *f = fopen(file, "w");

    if (f == NULL)
        return -1;
    fprintf(f, "max %" PRIu64 "\n", h->max_us);
    for (unsigned i = 0; i < PT_HIST_BUCKETS; i++)
        if (h->buckets[i] > 0)
            fprintf(f, "%u %" PRIu64 "\n", i, h->buckets[i]);
    return fclose(f);
}

int mode_sub(void)
{
    uint64_t t0, expected = (uint64_t)opts.conns * opts.count;

    connect_all(&t0, deadline_us);
    if (n_ready < opts.conns) {
        printf("mode=sub conns=%u ready=%u fail=%u error=connect\n", opts.conns, n_ready, n_failed);
        close_all();
        return 1;
    }
    for (unsigned i = 0; i < opts.conns; i++)
        conns[i].seen = calloc((opts.count + 7) / 8, 1);
    fprintf(stderr, "ready n=%u\n", n_ready);
    fflush(stderr);
    while (received < expected && now_us() < deadline_us && !stop_requested)
        run_events(50);
    printf("mode=sub conns=%u count=%u size=%u received=%u expected=%" PRIu64 " lost=%" PRIu64
           " dups=%u rx_errors=%u first_rx_us=%" PRIu64 " last_rx_us=%" PRIu64 " p50_us=%" PRIu64
           " p99_us=%" PRIu64 " max_us=%" PRIu64 " dropped=%u cpu_s=%.2f\n",
           opts.conns, opts.count, opts.size, received, expected, expected - received, dups,
           rx_errors, t_first_rx, t_last_rx, pt_hist_percentile(&e2e_hist, 50),
           pt_hist_percentile(&e2e_hist, 99), e2e_hist.max_us, n_dropped, cpu_s());
    fflush(stdout);
    if (opts.hist_out != NULL && write_hist(opts.hist_out, &e2e_hist) < 0)
        perror("loadgen: --hist-out");
    close_all();
    return received < expected || dups > 0 || rx_errors > 0;
}

int mode_pub(void)
{
    if (http_setup() < 0)
        return 2;
    post_all(opts.count);
    printf("mode=pub count=%u inflight=%u size=%u signed=%d posts=%u ok=%u http_errors=%u "
           "t_first_us=%" PRIu64 " t_last_us=%" PRIu64 " posts_per_s=%.0f http_p50_us=%" PRIu64
           " http_p99_us=%" PRIu64 " http_conns_lost=%u cpu_s=%.2f\n",
           opts.count, opts.msgs_inflight, opts.size, opts.sign != NULL, answered, answered_ok,
           answered - answered_ok, t_first, t_last_answer,
           per_s(answered_ok, t_first, t_last_answer), pt_hist_percentile(&http_hist, 50),
           pt_hist_percentile(&http_hist, 99), lg_http_failed, cpu_s());
    fflush(stdout);
    lg_http_close();
    return answered_ok < opts.count;
}

int mode_hmerge(int argc, char **argv)
{
    static struct pt_hist h;

    for (int i = 0; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        uint64_t max = 0, n;
        unsigned idx;

        if (f == NULL || fscanf(f, "max %" SCNu64, &max) != 1) {
            fprintf(stderr, "loadgen: hmerge: cannot read %s\n", argv[i]);
            if (f != NULL)
                fclose(f);
            return 1;
        }
        if (max > h.max_us)
            h.max_us = max;
        while (fscanf(f, "%u %" SCNu64, &idx, &n) == 2)
            if (idx < PT_HIST_BUCKETS) {
                h.buckets[idx] += n;
                h.count += n;
            }
        fclose(f);
    }
    printf("mode=hmerge files=%d count=%" PRIu64 " p50_us=%" PRIu64 " p99_us=%" PRIu64
           " max_us=%" PRIu64 "\n",
           argc, h.count, pt_hist_percentile(&h, 50), pt_hist_percentile(&h, 99), h.max_us);
    return h.count == 0;
}
