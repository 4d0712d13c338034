/* HTTP/2 (see h2.h). nghttp2 is driven in memory: received bytes go in with mem_recv, and
 * what it wants to send comes out of mem_send into the connection's send queue, so TLS and the
 * write coalescing of conn.c apply unchanged. */
#include "h2.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "config.h"
#include "conn.h"
#include "http.h"
#include "msg.h"
#include "portico/buf.h"
#include "portico/xalloc.h"
#include "worker.h"

#define HEAD_MAX_BYTES         16384
#define MAX_CONCURRENT_STREAMS 128

struct h2_stream {
    int32_t id;
    struct pt_conn *c;
    struct pt_buf head; /* the request rewritten as an HTTP/1.1 head */
    char *method, *path, *authority;
    struct pt_http *h; /* the request, from END_HEADERS until it is answered */
    struct pt_buf out; /* the response body being sent */
    size_t out_off;
    bool rejected;   /* answered early (too big, bad head): further data is ignored */
    bool dispatched; /* the whole request went to its destination */
    struct h2_stream *prev, *next;
};

struct pt_h2 {
    nghttp2_session *s;
    struct h2_stream *streams;
    bool in_recv; /* inside mem_recv: sending waits until it returns */
};

/* ---- Sending ---- */

static void flush(struct pt_conn *c)
{
    const uint8_t *data;
    struct pt_msg *m;
    ssize_t n;

    if (c->h2->in_recv)
        return; /* nghttp2 may not send from inside its receive callbacks */
    while ((n = nghttp2_session_mem_send(c->h2->s, &data)) > 0) {
        m = pt_msg_new((size_t)n);
        memcpy(m->data, data, (size_t)n);
        pt_conn_send(c, m);
        pt_msg_unref(m);
    }
    if (n < 0 || (!nghttp2_session_want_read(c->h2->s) && !nghttp2_session_want_write(c->h2->s)))
        pt_conn_close_after_flush(c);
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    struct h2_stream *st = src->ptr;
    size_t left = st->out.len - st->out_off;

    if (len > left)
        len = left;
    if (len > 0)
        memcpy(buf, st->out.data + st->out_off, len);
    st->out_off += len;
    if (st->out_off == st->out.len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)len;
}

static nghttp2_nv make_nv(const char *name, size_t nlen, const char *value)
{
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, nlen, strlen(value), NGHTTP2_NV_FLAG_NONE};

    return nv;
}

/* HTTP/2 header names are lower case, and connection-specific headers may not appear. */
static bool h2_forbidden(const char *name)
{
    static const char *const bad[] = {
        "connection",     "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
        "content-length", NULL};
    size_t i;

    for (i = 0; bad[i] != NULL; i++)
        if (strcmp(name, bad[i]) == 0)
            return true;
    return false;
}

void pt_h2_respond(struct pt_http *h, int status, const struct pt_kv *headers, size_t nheaders,
                   const char *content_type, const void *body, size_t len)
{
    struct pt_conn *c = h->conn;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(c->h2->s, h->stream_id);
    nghttp2_nv *nva = pt_xcalloc(nheaders + 3, sizeof(*nva));
    char status_text[8], length[24], *names;
    nghttp2_data_provider prd = {.read_callback = read_body};
    bool head = pt_http_method_is(h, "HEAD");
    size_t n = 0, i, off = 0, total = 1;

    snprintf(status_text, sizeof(status_text), "%d", status);
    snprintf(length, sizeof(length), "%lld",
             head && h->head_length > 0 ? h->head_length : (long long)len);
    nva[n++] = make_nv(":status", 7, status_text);
    if (content_type != NULL)
        nva[n++] = make_nv("content-type", 12, content_type);
    if (status != 204 && status != 304)
        nva[n++] = make_nv("content-length", 14, length);
    for (i = 0; i < nheaders; i++)
        total += strlen(headers[i].name) + 1;
    names = pt_xmalloc(total);
    for (i = 0; i < nheaders; i++) {
        size_t k, nl = strlen(headers[i].name);

        for (k = 0; k < nl; k++)
            names[off + k] = (char)tolower((unsigned char)headers[i].name[k]);
        names[off + nl] = '\0';
        if (!h2_forbidden(names + off))
            nva[n++] = make_nv(names + off, nl, headers[i].value);
        off += nl + 1;
    }
    if (st != NULL) {
        st->h = NULL;
        pt_buf_reset(&st->out);
        if (!head && len > 0)
            pt_buf_append(&st->out, body, len);
        prd.source.ptr = st;
        nghttp2_submit_response(c->h2->s, h->stream_id, nva, n, head || len == 0 ? NULL : &prd);
    }
    free(nva);
    free(names);
    pt_http_free(h);
    flush(c);
}

/* ---- Receiving ---- */

static void stream_free(struct pt_h2 *h2, struct h2_stream *st)
{
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        h2->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    if (st->h != NULL)
        pt_http_free(st->h); /* cancels its call: the stream went away first */
    pt_buf_cleanup(&st->head);
    pt_buf_cleanup(&st->out);
    free(st->method);
    free(st->path);
    free(st->authority);
    free(st);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    struct pt_conn *c = ud;
    struct h2_stream *st;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    st = pt_xcalloc(1, sizeof(*st));
    st->id = frame->hd.stream_id;
    st->c = c;
    pt_buf_init(&st->head);
    pt_buf_init(&st->out);
    st->next = c->h2->streams;
    if (st->next != NULL)
        st->next->prev = st;
    c->h2->streams = st;
    nghttp2_session_set_stream_user_data(s, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);

    if (st == NULL || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (st->head.len + nlen + vlen > HEAD_MAX_BYTES)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets just this stream */
    /* nghttp2 has checked names and values (no CR/LF, lower case): they fit an HTTP/1.1 head. */
    if (nlen == 7 && memcmp(name, ":method", 7) == 0)
        st->method = pt_xstrndup((const char *)value, vlen);
    else if (nlen == 5 && memcmp(name, ":path", 5) == 0)
        st->path = pt_xstrndup((const char *)value, vlen);
    else if (nlen == 10 && memcmp(name, ":authority", 10) == 0)
        st->authority = pt_xstrndup((const char *)value, vlen);
    else if (name[0] != ':' && !(nlen == 4 && memcmp(name, "host", 4) == 0)) {
        pt_buf_append(&st->head, name, nlen);
        pt_buf_puts(&st->head, ": ");
        pt_buf_append(&st->head, value, vlen);
        pt_buf_puts(&st->head, "\r\n");
    }
    return 0;
}

/* END_HEADERS: the request head is complete. */
static void start_stream_request(struct pt_conn *c, struct h2_stream *st, bool end_stream)
{
    struct pt_buf head;
    struct pt_http *h;

    if (st->method == NULL || st->path == NULL) {
        nghttp2_submit_rst_stream(c->h2->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return;
    }
    pt_buf_init(&head);
    pt_buf_printf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\n", st->method, st->path,
                  st->authority != NULL ? st->authority : "localhost");
    pt_buf_append(&head, st->head.data ? st->head.data : "", st->head.len);
    pt_buf_puts(&head, "\r\n");
    h = pt_http_begin(c, st->id, head.data, head.len);
    pt_buf_cleanup(&head);
    if (h == NULL) {
        st->rejected = true;
        return;
    }
    h->keep_alive = true;
    h->in_body = false; /* HTTP/2 frames the body itself: no Content-Length needed */
    h->body_left = 0;
    st->h = h;
    if (!pt_http_route_head(h)) {
        st->rejected = true;
        return;
    }
    if (end_stream) {
        st->dispatched = true;
        pt_http_dispatch(h);
    }
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    struct pt_conn *c = ud;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
    bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;

    if (st == NULL || st->rejected)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS) &&
        st->h == NULL) {
        start_stream_request(c, st, end_stream);
    } else if (end_stream && st->h != NULL && !st->dispatched) {
        /* The last DATA frame, or trailers. */
        st->dispatched = true;
        pt_http_dispatch(st->h);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, id);
    struct pt_http *h;

    if (st == NULL || st->rejected || (h = st->h) == NULL)
        return 0;
    if ((long long)(h->body.len + len) > h->body_limit) {
        st->rejected = true;
        pt_http_too_large(h);
        return 0;
    }
    pt_buf_append(&h->body, data, len);
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud)
{
    struct pt_conn *c = ud;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, id);

    if (st != NULL)
        stream_free(c->h2, st);
    return 0;
}

void pt_h2_start(struct pt_conn *c)
{
    nghttp2_session_callbacks *cb;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, HEAD_MAX_BYTES},
    };

    c->h2 = pt_xcalloc(1, sizeof(*c->h2));
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_server_new(&c->h2->s, cb, c);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(c->h2->s, NGHTTP2_FLAG_NONE, settings,
                            sizeof(settings) / sizeof(settings[0]));
    c->state = PT_CONN_H2;
    flush(c);
}

long pt_h2_process(struct pt_conn *c, uint8_t *p, size_t n)
{
    ssize_t used;

    c->h2->in_recv = true;
    used = nghttp2_session_mem_recv(c->h2->s, p, n);
    c->h2->in_recv = false;
    if (used < 0)
        return -1;
    if (c->state == PT_CONN_H2)
        flush(c);
    return (long)used;
}

void pt_h2_drain(struct pt_conn *c)
{
    nghttp2_submit_goaway(c->h2->s, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(c->h2->s), NGHTTP2_NO_ERROR, NULL,
                          0);
    /* Open streams finish; nghttp2 stops wanting to read once they have, and flush() closes. */
    flush(c);
}

void pt_h2_cleanup(struct pt_conn *c)
{
    struct pt_h2 *h2 = c->h2;

    nghttp2_session_del(h2->s); /* stream-close callbacks may run: they free the streams */
    while (h2->streams != NULL)
        stream_free(h2, h2->streams);
    free(h2);
    c->h2 = NULL;
}
