/* HTTP/1.1 requests on a connection: reading the head and body, dispatching to the WebSocket
 * upgrade or the management API, and writing responses. One request at a time per
 * connection; pipelined requests wait in the connection's input. */
#ifndef PT_HTTP_H
#define PT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http1.h"
#include "portico/buf.h"
#include "portico/kv.h"

struct pt_conn;
struct pt_callx;
struct pt_policy;
struct pt_conn_op;
struct pt_fanout;
struct pt_list_job;
struct scrape;
struct pt_config;
struct pt_cache;
struct pt_cache_wait;

/* One HTTP request: on HTTP/1.1 the connection's current one, on HTTP/2 one per stream. */
struct pt_http {
    struct pt_conn *conn;    /* borrowed: the connection it came on */
    int32_t stream_id;       /* HTTP/2 stream, 0 on HTTP/1.1 */
    struct pt_http1_req req; /* slices point into head */
    char *head;              /* owned copy of the request head */
    char *path;              /* owned: the percent-decoded path */
    struct pt_buf body;
    long long body_left; /* Content-Length bytes still to come */
    long long body_limit;
    struct pt_http1_chunked chunked;
    bool keep_alive;
    bool in_body;
    char request_id[17];
    struct pt_callx *call;     /* the integration call serving this request, or NULL */
    struct pt_policy *policy;  /* the policy chain checking it, or NULL */
    struct pt_conn_op *remote; /* a connection operation on another worker, or NULL */
    struct pt_fanout *fanout;  /* a publish or presence gathering from the workers, or NULL */
    struct pt_list_job *list;  /* a connection listing going from worker to worker, or NULL */
    struct scrape *scrape;     /* a /metrics scrape gathering from the workers, or NULL */
    double started;            /* ev_now() when the head was read */
    struct pt_config *cfg;     /* a reference for the request's life: its api, stage, route */
    long long head_length;     /* HEAD answers: the Content-Length to announce, when known */
    /* For the access log: */
    const char *route_key;  /* the route that served it (in cfg), or NULL */
    const char *error;      /* Portico's own error message, or NULL; valid until answered */
    double integration_s;   /* how long its integration took, or -1 */
    int integration_status; /* what the integration answered, or 0 */
    /* A cacheable request (http_cache.h): */
    struct pt_cache *cache;           /* its stage's cache (in the cache store), or NULL */
    char *cache_key;                  /* owned; NULL when the route is not cached */
    long long cache_ttl_s;            /* how long its answer stays */
    bool cache_refresh;               /* Cache-Control: max-age=0 from a caller who may: refetch */
    const char *cache_warning;        /* the Warning of an ignored max-age=0, or NULL */
    struct pt_cache_wait *cache_wait; /* a shared-cache lookup or flush in flight, or NULL */
};

/* Starts a request on <c> from a complete request head (HTTP/1.1 text; HTTP/2 requests are
 * rewritten into one). For stream 0 it becomes c->http. Returns NULL when the head was bad:
 * it has then been answered with 400 already. */
struct pt_http *pt_http_begin(struct pt_conn *c, int32_t stream_id, const char *head, size_t len);

/* Checks the declared body size against the limit for its destination; answers 413 and
 * returns false when it is over. Sets h->body_limit. */
bool pt_http_route_head(struct pt_http *h);

/* Answers 413 in the destination's style (PayloadTooLargeException for @connections). */
void pt_http_too_large(struct pt_http *h);

/* Sends a complete request (head and body) to where it goes. */
void pt_http_dispatch(struct pt_http *h);

/* Reads requests from <p> (n bytes). Returns the bytes consumed or -1 to close. */
long pt_http_process(struct pt_conn *c, uint8_t *p, size_t n);

/* Frees the HTTP/1.1 request state of <c> (cancelling its call). */
void pt_http_cleanup(struct pt_conn *c);

/* Frees request <h> (cancelling its call); it must already be unlinked from its connection. */
void pt_http_free(struct pt_http *h);

/* Answers the current request and ends it: status, extra headers, and a body with its
 * Content-Type (NULL for none). Keeps the connection for the next request unless the
 * request or the status says otherwise. */
void pt_http_respond(struct pt_http *h, int status, const struct pt_kv *headers, size_t nheaders,
                     const char *content_type, const void *body, size_t len);

/* Appends "Date: ...\r\n" for now (formatted once per second). */
void pt_http_date_header(struct pt_buf *b);

const char *pt_http_status_text(int status);

/* True when <h>'s method is <method> (exactly, case-sensitive as HTTP methods are). */
bool pt_http_method_is(const struct pt_http *h, const char *method);

/* The first value of query parameter <name> of <h>, percent-decoded ('+' as space), owned by
 * the caller; NULL when absent, empty, malformed or holding a NUL. */
char *pt_http_query_value(const struct pt_http *h, const char *name);

/* A copy of header <name> of <req> (case-insensitive), owned by the caller, or NULL. */
char *pt_http_header_dup(const struct pt_http1_req *req, const char *name);

#endif
