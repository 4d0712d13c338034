/* The asynchronous HTTP/1.1 client that backends use to call out (HTTP_PROXY, AWS_PROXY,
 * request authorizers, JWKS). It runs on the calling worker's loop: keep-alive connections are
 * pooled per upstream host and port, host names are resolved off the loop, and the request and
 * the response are bounded in size. Deadlines belong to the hub (the call's timeoutMs): when the
 * hub gives up on a call, the backend cancels the exchange. */
#ifndef PORTICO_UPSTREAM_H
#define PORTICO_UPSTREAM_H

#include <stddef.h>

#include "portico/kv.h"

struct pt_call;

struct pt_upstream_request {
    const char *method;          /* "POST" */
    const char *url;             /* "http://host[:port]/path[?query]" */
    const struct pt_kv *headers; /* extra headers; Host, Content-Length and Connection are ours */
    size_t nheaders;
    const void *body;
    size_t body_len;
    size_t max_response_bytes; /* 0: 10 MiB */
};

struct pt_upstream_response {
    int status;
    const struct pt_kv *headers; /* as received, duplicates kept */
    size_t nheaders;
    const char *body; /* NUL-terminated for convenience; body_len excludes the NUL */
    size_t body_len;
};

/* Runs once with the outcome: err 0 and a response, or PT_EUPSTREAM (cannot connect, reset,
 * malformed response), PT_ETOOBIG (response over the limit), PT_EINVAL (bad url). The response
 * is borrowed for the duration of the callback. */
typedef void pt_upstream_done_fn(struct pt_call *call, int err,
                                 const struct pt_upstream_response *res);

/* Sends <req> (copied: nothing of it needs to outlive this call) for <call>. <done> runs
 * exactly once, never before this returns, unless pt_upstream_cancel() comes first. One
 * exchange per call at a time. */
void pt_upstream_send(struct pt_call *call, const struct pt_upstream_request *req,
                      pt_upstream_done_fn *done);

/* Abandons the call's exchange, if any: <done> will not run. */
void pt_upstream_cancel(struct pt_call *call);

#endif
