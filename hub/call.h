/* Integration calls as the hub sees them: a struct pt_call (what backends see) inside a
 * private struct that owns copies of everything the call's request points at, holds a
 * reference to the config snapshot, and carries the deadline. A call outlives its connection
 * when it must ($disconnect); other calls are cancelled when their connection closes. */
#ifndef PT_CALL_H
#define PT_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "portico/backend.h"
#include "portico/buf.h"

struct cJSON;
struct pt_config;
struct pt_conn;
struct pt_route;
struct pt_worker;
struct pt_callx;
struct pt_api;
struct pt_http;
struct pt_fanout;
struct pt_http1_req;

/* The hub's continuation: runs once with the integration's answer (or err PT_ETIMEDOUT);
 * the call is freed right after it returns. */
typedef void pt_callx_done_fn(struct pt_callx *x, const struct pt_result *res);

struct pt_callx {
    struct pt_call pub; /* first: backends see only this */
    struct pt_request req;
    struct pt_worker *w;
    struct pt_config *cfg; /* a reference for the call's life: the integration lives in it */
    const struct pt_route *route;
    struct pt_conn *conn; /* WebSocket calls: borrowed; NULL once the connection went away */
    struct pt_http *http; /* HTTP calls: the request it serves, borrowed; NULL once gone */
    struct pt_callx *conn_prev, *conn_next; /* the connection's list of calls */
    pt_callx_done_fn *on_done;
    ev_timer deadline;
    pt_call_fn *deferred; /* set while on the worker's defer list */
    struct pt_callx *defer_prev, *defer_next;
    double started;           /* ev_now() at invoke */
    int timeout_ms;           /* the deadline when not the integration's timeoutMs, else 0 */
    void *upstream;           /* the upstream exchange in flight (upstream.c), or NULL */
    struct pt_policy *policy; /* a REQUEST authorizer call: the policy it answers */
    struct cJSON *authorizer; /* owned: the context behind req.authorizer */
    struct pt_fanout *fanout; /* a CHANNEL publish waiting for other workers */
    void (*channel_done)(struct pt_call *call, long delivered);
    /* Owned storage behind req: */
    char connection_id[24];
    char request_id[17];
    char message_id[17];
    char source_ip[46];
    char *user_agent;
    char *body;
    struct cJSON *body_json;
    struct pt_kv *headers; /* CONNECT: names and values in one owned block each */
    char *headers_block;
    char *query;
    struct pt_kv *query_params; /* decoded from query */
    char *query_block;
    const struct pt_api *api; /* HTTP: borrowed from cfg */
    char *method;
    char *raw_path;
    char *route_path;
    char *host;
    struct pt_kv *path_params; /* names and values owned */
    size_t npath_params;
    char *disconnect_reason;
};

/* A new call of <route>'s integration for <type>, holding a reference to <cfg>. The caller
 * fills req fields and owned storage, then starts it with pt_callx_invoke(). */
struct pt_callx *pt_callx_new(struct pt_worker *w, struct pt_config *cfg,
                              const struct pt_route *route, enum pt_event_type type);

/* Starts the call: arms the deadline (timeoutMs) and hands it to the backend. */
void pt_callx_invoke(struct pt_callx *x, pt_callx_done_fn *on_done);

/* The connection went away: the backend is told to drop the call (cancel), no continuation
 * runs, and the call is freed. */
void pt_callx_cancel(struct pt_callx *x);

/* Copies the request's headers into the call (req.headers). */
void pt_callx_copy_headers(struct pt_callx *x, const struct pt_http1_req *req);

/* Splits x->query into decoded req.query_params. */
void pt_callx_parse_query(struct pt_callx *x);

/* Runs every deferred completion queued so far (the worker calls it once per loop turn). */
void pt_callx_run_deferred(struct pt_worker *w);

/* Resolves template variables against a request (also used by route selection). */
int pt_callx_resolve(void *ud, const char *var, size_t len, struct pt_buf *out);

#endif
