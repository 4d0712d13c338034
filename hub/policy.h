/* The policy chain in front of an integration (SPEC section 6): the route's authorizer
 * (AWS_IAM, JWT or REQUEST), then its API key. It runs for HTTP routes and for a WebSocket
 * API's $connect, and hands the caller the authorizer context that integrations receive. */
#ifndef PT_POLICY_H
#define PT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct pt_http;
struct pt_api;
struct pt_stage;
struct pt_route;
struct pt_policy;

struct pt_policy_result {
    int status;                   /* 0: allowed; else the HTTP status to answer (401, 403, 500) */
    const char *message;          /* the {"message"} text when refused */
    const char *type;             /* the x-amzn-ErrorType when refused */
    const char *www_authenticate; /* JWT refusals: the WWW-Authenticate value, or NULL */
    struct cJSON *authorizer;     /* allowed: the context (owned; the callee takes it), or NULL */
};

/* Runs once with the verdict; <data> is the caller's copy passed to pt_policy_start. */
typedef void pt_policy_done_fn(struct pt_http *h, struct pt_policy_result *res, void *data);

/* True when <route> has anything to check. */
bool pt_policy_needed(const struct pt_route *route);

/* Checks <route> of <api> and <stage> for request <h>. <done> runs exactly once: possibly
 * before this returns (nothing to wait for), else later on the loop, unless the request goes
 * away first (pt_http_free cancels the policy). <data> (<len> bytes) is copied and handed to
 * <done>. The caller must not touch <h> after this call. */
void pt_policy_start(struct pt_http *h, const struct pt_api *api, const struct pt_stage *stage,
                     const struct pt_route *route, pt_policy_done_fn *done, const void *data,
                     size_t len);

/* True when the API key <key_id> (NULL: none) still passes on <api>/<stage>: it exists, is
 * enabled, and belongs to a plan of the stage when plans list it. For WebSocket messages, which
 * carry the key their connection showed at the handshake, under the config of now. */
struct pt_config;
struct pt_apikey;
bool pt_policy_key_valid(const struct pt_config *cfg, const struct pt_api *api,
                         const struct pt_stage *stage, const char *key_id);

/* The configured key whose value is <value> (compared with every key in constant time), or
 * NULL. Enabled or not: the caller decides. */
const struct pt_apikey *pt_policy_key_by_value(const struct pt_config *cfg, const char *value);

/* The id of the API key the chain accepted, from the context it hands on; NULL when none. */
const char *pt_policy_api_key_id(const struct cJSON *authorizer);

/* The request went away: <done> will not run. */
void pt_policy_cancel(struct pt_policy *p);

/* Frees the worker's cache of REQUEST authorizer results. */
struct pt_worker;
void pt_policy_cache_cleanup(struct pt_worker *w);

#endif
