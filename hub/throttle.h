/* Throttles and quotas on the request path (SPEC section 6). Each request takes one token from
 * every level that applies: the whole server, its stage, its API key's plan and the plan's
 * route; then the plan's quota counts it. The server and stage come first, before any
 * authorizer runs, so a flood is turned away cheaply; the plan levels need the API key. */
#ifndef PT_THROTTLE_H
#define PT_THROTTLE_H

struct pt_config;
struct pt_api;
struct pt_stage;

enum pt_throttle_verdict {
    PT_THROTTLE_PASS = 0,
    PT_THROTTLE_LIMITED, /* 429 Too Many Requests, TooManyRequestsException */
    PT_THROTTLE_QUOTA,   /* 429 Limit Exceeded, LimitExceededException */
};

/* The server's bucket, then <stage>'s (NULL: the server's alone). */
enum pt_throttle_verdict pt_throttle_enter(const struct pt_config *cfg,
                                           const struct pt_stage *stage);

/* The plan that holds <key_id> (NULL: no key, nothing to check) on <api>/<stage>: its bucket
 * for the key, the bucket of <route_key> if the plan limits it, and the quota; the request is
 * counted for /admin/usage. <now> is the wall clock (epoch seconds), for the quota's day. */
enum pt_throttle_verdict pt_throttle_plan(const struct pt_config *cfg, const struct pt_api *api,
                                          const struct pt_stage *stage, const char *route_key,
                                          const char *key_id, double now);

/* The {"message"} text and x-amzn-ErrorType of a refusal. */
const char *pt_throttle_message(enum pt_throttle_verdict v);
const char *pt_throttle_error_type(enum pt_throttle_verdict v);

#endif
