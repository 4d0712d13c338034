/* The integration interface: each integration type (MOCK, HTTP_PROXY, AWS_PROXY, ...) is one file
 * in backends/ that exports one const struct pt_backend, listed in backends/backends.c. The hub
 * never switches on a type name.
 *
 * The contract (house style 3.4):
 *  1. invoke() never completes before it returns; a backend that has its answer at once defers
 *     it with pt_call_defer(), which runs on the same loop turn, after the caller has returned.
 *  2. The hub owns deadlines: when a call's timeoutMs passes it calls cancel() and answers with
 *     the AWS timeout error.
 *  3. cancel() is a synchronous detach: afterwards the backend holds no pointer to the call and
 *     never completes it.
 *  4. Everything in struct pt_result is borrowed for the duration of pt_call_done() only.
 *  5. invoke, cancel and pt_call_done run on the worker thread that owns the call. */
#ifndef PORTICO_BACKEND_H
#define PORTICO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "portico/buf.h"
#include "portico/kv.h"
#include "portico/tmpl.h"

struct cJSON;
struct pt_errors;
struct pt_call;

enum pt_event_type {
    PT_EVENT_CONNECT,    /* WebSocket $connect */
    PT_EVENT_MESSAGE,    /* WebSocket message */
    PT_EVENT_DISCONNECT, /* WebSocket $disconnect */
    PT_EVENT_HTTP,       /* a request to an HTTP API route */
    PT_EVENT_AUTHORIZER, /* a REQUEST authorizer call: body is the authorizer event (JSON),
                          * to be sent as is; the answer's body is the authorizer's verdict */
    PT_EVENT_FETCH,      /* a GET of `url` for the hub (a JWKS): answer with the body */
};

/* "CONNECT", "MESSAGE" or "DISCONNECT", as AWS names WebSocket events (eventType). */
static inline const char *pt_event_type_name(enum pt_event_type t)
{
    return t == PT_EVENT_CONNECT ? "CONNECT" : t == PT_EVENT_DISCONNECT ? "DISCONNECT" : "MESSAGE";
}

/* What a call is about. Everything is borrowed and stays valid until the call ends (done or
 * cancelled). */
struct pt_request {
    enum pt_event_type type;
    const char *api_name;
    const char *stage;
    const char *route_key;
    const char *connection_id;
    const char *request_id;
    const char *message_id; /* NULL unless a MESSAGE */
    const char *domain_name;
    const char *body; /* the message; NULL on CONNECT and DISCONNECT */
    size_t body_len;
    bool body_binary;              /* a binary frame: integrations get it base64-encoded */
    const struct cJSON *body_json; /* the message parsed as JSON, or NULL */
    const struct pt_kv *headers;   /* CONNECT: the handshake headers */
    size_t nheaders;
    const char *query; /* CONNECT: the raw query string without '?', or NULL */
    const struct pt_kv *query_params;
    size_t nquery_params;
    const struct pt_kv *stage_vars;
    size_t nstage_vars;
    const char *source_ip;
    const char *user_agent;
    long long connected_at_ms; /* epoch ms */
    long long request_time_ms; /* epoch ms */
    int disconnect_status;     /* DISCONNECT: the close code */
    const char *disconnect_reason;

    /* HTTP only (headers, query and body above apply too): */
    const char *method;              /* "GET" */
    const char *raw_path;            /* the whole path as sent, percent-encoded, without query */
    const char *route_path;          /* decoded, after the base path and stage: "/pets/7" */
    const struct pt_kv *path_params; /* {param} and {proxy+} values, decoded */
    size_t npath_params;
    const char *protocol; /* "HTTP/1.1" */
    const char *host;     /* the Host header */
    const char *scheme;   /* "http" or "https" */

    /* What the authorizer established (SPEC section 6), or NULL: a JSON object shaped like
     * payload 2.0's requestContext.authorizer ({"jwt":{"claims":{},"scopes":[]}},
     * {"lambda":{...context}}, {"iam":{"accessKey":"..."}}), plus "principalId" and
     * "apiKeyId" when known. Borrowed for the call. */
    const struct cJSON *authorizer;
    const char *url; /* PT_EVENT_FETCH only */
};

/* The answer of an integration. Borrowed for the duration of pt_call_done(). */
struct pt_result {
    int err;    /* 0, or a negative PT_E* code: the integration failed */
    int status; /* HTTP-style status when err is 0 */
    const char *body;
    size_t body_len;
    bool body_binary;
    const struct pt_kv *headers; /* duplicates allowed (Set-Cookie) */
    size_t nheaders;
};

/* One configured integration. <conf> belongs to the backend, freed by its release(). */
struct pt_integration {
    const char *name;
    const struct pt_backend *backend;
    void *conf;
    int timeout_ms;
    const char *config_dir; /* the config file's folder, for relative paths */
};

/* Which routes a backend serves (struct pt_backend.routes); 0 means both. */
#define PT_BACKEND_WEBSOCKET 1u
#define PT_BACKEND_HTTP      2u

struct pt_backend {
    const char *type; /* the config's "type" */
    unsigned routes;  /* PT_BACKEND_WEBSOCKET, PT_BACKEND_HTTP, or 0 for both */
    bool authorizes;  /* can back a REQUEST authorizer (handles PT_EVENT_AUTHORIZER) */

    /* Parses this integration's JSON object (every key but "type"; "timeoutMs" is parsed by the
     * hub and may be ignored) at JSON path <path>, reporting every problem to <errs>. No I/O but
     * reading files the config names. Returns 0 or a negative PT_E* code. */
    int (*configure)(struct pt_integration *in, const struct cJSON *obj, const char *path,
                     struct pt_errors *errs);
    /* Frees what configure() allocated. May be NULL. */
    void (*release)(struct pt_integration *in);
    /* Starts a call; see the contract above. */
    void (*invoke)(struct pt_call *call);
    /* Detaches from a call the hub gave up on. May be NULL for backends that keep no state
     * beyond pt_call_defer(). */
    void (*cancel)(struct pt_call *call);
};

/* The part of a call a backend may use. The hub embeds it in a larger private struct. */
struct pt_call {
    const struct pt_integration *integration; /* borrowed from the config the call holds */
    const struct pt_request *req;             /* borrowed for the life of the call */
    void *backend_data;                       /* the backend's own state; it frees it */
};

typedef void pt_call_fn(struct pt_call *call);

/* Completes <call> exactly once. <res> is borrowed for the duration of this call. */
void pt_call_done(struct pt_call *call, const struct pt_result *res);

/* Runs <fn>(call) later on this loop turn, after the current callback has returned (before the
 * loop next waits). cancel() removes a pending deferral. */
void pt_call_defer(struct pt_call *call, pt_call_fn *fn);

/* Renders template <t> against the call: $request.body, $request.body.PATH, $context.X,
 * $stageVariables.NAME. Appends to <out>. */
void pt_call_render(const struct pt_call *call, const struct pt_tmpl *t, struct pt_buf *out);

/* Checks, at config time, that every variable of <t> is one pt_call_render() knows; reports
 * unknown ones to <errs> at <path>. Returns 0 or PT_EINVAL. */
int pt_call_check_tmpl(const struct pt_tmpl *t, const char *path, struct pt_errors *errs);

/* Compiles the upstream URL template <uri> of an integration into *<out>, checking that it is
 * http:// or https:// (<what> names the upstream in the error) and that its variables are known.
 * Errors go to <errs> at <path>. Returns 0 or PT_EINVAL; *<out> is the caller's either way. */
int pt_call_compile_url(const char *uri, const char *path, const char *what, struct pt_tmpl **out,
                        struct pt_errors *errs);

#endif
