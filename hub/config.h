/* The config: loaded from the JSON file of SPEC section 2 into an immutable snapshot with a
 * reference count. Runtime code never sees cJSON. A reload builds a new snapshot and swaps the
 * pointer; requests in flight keep the snapshot they started with. */
#ifndef PT_CONFIG_H
#define PT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "portico/backend.h"
#include "portico/kv.h"
#include "portico/tmpl.h"

struct pt_errors;
struct pt_http_routes;
struct pt_cors;
struct pt_jwks;

struct pt_listen {
    char *host;            /* owned; NULL for a unix socket */
    long long port;        /* 0 asks the kernel for a free port (logged at start) */
    char *unix_socket;     /* owned; absolute path; NULL for TCP */
    char *tls_certificate; /* owned, absolute; NULL: plain TCP */
    char *tls_private_key; /* owned, absolute */
    bool http2;            /* TLS listeners: offer HTTP/2 by ALPN (tls.http2, default true) */
};

/* accessLog (SPEC section 7). */
struct pt_alog_format;
struct pt_access_log {
    char *path;                    /* owned: absolute, or "-" for standard output */
    struct pt_alog_format *format; /* owned */
};

struct pt_key_usage;

/* cluster (SPEC section 8). */
struct pt_cluster_cfg {
    char *node_id;   /* owned: the node's name (default: the host name) */
    uint16_t node;   /* 1..65535: the node number in connection ids, from node_id */
    char *redis_url; /* owned: as written, for messages and reload comparisons */
    char *host;      /* owned: a numeric address, resolved when the config is loaded */
    int port;
    int db;
    char *password;    /* owned, or NULL; never logged */
    long long lease_s; /* a node silent this long is gone: its connections are reaped */
};

struct pt_limits {
    long long max_connections;
    long long message_bytes;
    long long frame_bytes; /* defaults to message_bytes */
    long long idle_timeout_s;
    long long max_connection_s;
    long long request_body_bytes;
    long long send_queue_bytes;
    long long drain_s;
    long long ping_interval_s; /* 0: no pings */
};

struct pt_credential {
    char *access_key_id;     /* owned */
    char *secret_access_key; /* owned; never logged */
};

/* A throttle (SPEC section 6): a token bucket's rate and size, and the bucket itself, which
 * lives in the usage store so that it outlives reloads (bound when served; NULL in --check). */
struct pt_throttle {
    bool on;
    struct pt_rate rate;
    struct pt_bucket *bucket;
};

/* stages.NAME.cache and routes.KEY.cache (SPEC section 6). */
enum pt_cache_strategy {
    PT_CACHE_FAIL_WITH_403,
    PT_CACHE_SUCCEED_WITH_RESPONSE_HEADER,
    PT_CACHE_SUCCEED_WITHOUT_RESPONSE_HEADER,
};

struct pt_cache;

struct pt_stage_cache {
    bool enabled;
    long long capacity_mb;
    bool require_authorization; /* requireAuthorizationForCacheControl */
    int unauthorized_strategy;  /* enum pt_cache_strategy */
    struct pt_cache *cache;     /* in the cache store; bound when served, NULL in --check */
};

struct pt_cache_param { /* one of a route's keyParameters */
    enum { PT_CACHE_PATH, PT_CACHE_QUERY, PT_CACHE_HEADER } kind;
    char *name; /* owned */
};

struct pt_route_cache {
    long long ttl_s; /* 0: not cached */
    struct pt_cache_param *params;
    size_t nparams;
};

struct pt_stage {
    char *name;         /* owned; "$default" has no URL segment */
    struct pt_kv *vars; /* owned array; the strings are owned too */
    size_t nvars;
    struct pt_throttle throttle; /* stages.NAME.throttle */
    struct pt_stage_cache cache;
    bool planned; /* a usage plan lists this stage: keys must belong to one */
};

enum pt_protocol { PT_PROTO_WEBSOCKET, PT_PROTO_HTTP };
enum pt_mgmt_auth { PT_MGMT_AWS_IAM, PT_MGMT_NONE };

enum pt_authz_type { PT_AUTHZ_JWT, PT_AUTHZ_REQUEST };

/* An identity source: "$request.header.NAME", "$request.querystring.NAME",
 * "$stageVariables.NAME" or "$context.NAME". */
struct pt_identity_source {
    enum { PT_IDS_HEADER, PT_IDS_QUERY, PT_IDS_STAGE_VAR, PT_IDS_CONTEXT } kind;
    char *name; /* owned */
};

struct pt_authorizer {
    char *name; /* owned */
    enum pt_authz_type type;
    struct pt_identity_source *sources; /* owned array */
    size_t nsources;
    /* JWT */
    char *issuer;    /* owned; NULL: any */
    char **audience; /* owned array of owned strings */
    size_t naudience;
    char *jwks_url;       /* owned: an http(s) JWKS URL, fetched and cached per worker */
    char *jwks_text;      /* owned: the JWKS file's contents, read at load */
    char *secret;         /* owned: HS256 secret; never logged */
    struct pt_jwks *jwks; /* owned reference: the keys of jwks_text, parsed at load */
    /* REQUEST */
    struct pt_integration *integration; /* borrowed from the api's integrations */
    long long ttl_s;                    /* resultTtlSeconds: 0 disables the cache */
    bool simple_responses;
};

struct pt_route {
    char *key;                              /* owned: "$connect", "sendmessage", ... */
    struct pt_integration *integration;     /* borrowed from the api's integrations; NULL: none */
    bool route_response;                    /* routeResponse: send the answer back to the caller */
    const struct pt_authorizer *authorizer; /* borrowed from the api; NULL: none */
    bool iam;                               /* authorizer "AWS_IAM": SigV4 against credentials */
    char **scopes;                          /* authorizationScopes, owned */
    size_t nscopes;
    bool api_key_required;
    bool reads_api_key; /* $connect, when a message route needs a key: one sent is checked */
    struct pt_route_cache cache;
};

struct pt_apikey {
    char *id;    /* owned */
    char *name;  /* owned */
    char *value; /* owned; compared in constant time, never logged */
    bool enabled;
};

/* usagePlans (SPEC section 6). Throttles and quotas count per API key of the plan. */
enum pt_quota_period { PT_QUOTA_DAY, PT_QUOTA_WEEK, PT_QUOTA_MONTH };

struct pt_plan_stage {
    const struct pt_api *api; /* borrowed from the config */
    const struct pt_stage *stage;
};

struct pt_plan_route { /* apiStages[].throttle.ROUTE, flattened */
    const struct pt_api *api;
    const struct pt_stage *stage;
    char *route_key; /* owned */
    struct pt_rate rate;
};

struct pt_plan_key {
    const struct pt_apikey *key;     /* borrowed from the config */
    struct pt_key_usage *usage;      /* in the usage store: bucket and daily counts; bound */
    struct pt_bucket **route_limits; /* owned array of nroutes, into the usage store; bound */
};

struct pt_plan {
    char *name; /* owned */
    struct pt_plan_key *keys;
    size_t nkeys;
    bool throttled;
    struct pt_rate rate;
    bool quota;
    long long quota_limit;
    enum pt_quota_period quota_period;
    struct pt_plan_stage *stages;
    size_t nstages;
    struct pt_plan_route *routes;
    size_t nroutes;
};

struct pt_api {
    char *name;
    enum pt_protocol protocol;
    char *base_path;                 /* owned; normalised: starts with '/', no trailing '/'
                                      * except the root "/" */
    struct pt_tmpl *route_selection; /* owned; default "$request.body.action" */
    enum pt_mgmt_auth management_auth;
    struct pt_stage *stages; /* owned array */
    size_t nstages;
    struct pt_integration *integrations; /* owned array; each conf released by its backend */
    size_t nintegrations;
    struct pt_route *routes; /* owned array, sorted by key (strcmp) for bsearch */
    size_t nroutes;
    struct pt_route *route_connect; /* borrowed pointers into routes, NULL when absent */
    struct pt_route *route_disconnect;
    struct pt_route *route_default;
    struct pt_http_routes *http_routes; /* owned: HTTP APIs' compiled route matcher */
    struct pt_authorizer *authorizers;  /* owned array */
    size_t nauthorizers;
    struct pt_identity_source api_key_source; /* apiKeySelectionExpression: a header, or
                                               * $context.authorizer.usageIdentifierKey */
    struct pt_cors *cors;                     /* owned: HTTP APIs' CORS, or NULL */
};

struct pt_config {
    int refs;                  /* the snapshot's reference count; see pt_config_ref/unref */
    char *path;                /* owned: the file as given */
    char *dir;                 /* owned: the file's folder, for relative paths */
    struct pt_listen *listens; /* owned array; default one: 127.0.0.1:8080 */
    size_t nlistens;
    long long workers; /* event-loop threads, 1..64 */
    struct pt_limits limits;
    struct pt_credential *credentials; /* owned array */
    size_t ncredentials;
    struct pt_listen admin;    /* the admin listener; admin.host is NULL when there is none */
    char *admin_token;         /* owned; NULL: no token; never logged */
    struct pt_apikey *apikeys; /* owned array */
    size_t napikeys;
    struct pt_api *apis; /* owned array */
    size_t napis;
    struct pt_access_log *access_log; /* owned; NULL: no access log */
    struct pt_throttle throttle;      /* the whole server's (top-level throttle) */
    struct pt_plan *plans;            /* owned array */
    size_t nplans;
    struct pt_cluster_cfg *cluster; /* owned; NULL: one node alone */
};

/* Loads and validates <path>. On success returns a snapshot with one reference; on failure
 * returns NULL with every problem in <errs> (JSON paths included). Reads the file: call it
 * before the loop starts or off the loop. */
struct pt_config *pt_config_load(const char *path, struct pt_errors *errs);
/* The same, from a JSON text; <name> is used in error messages and <dir> for relative paths. */
struct pt_config *pt_config_parse(const char *json, const char *name, const char *dir,
                                  struct pt_errors *errs);

struct pt_config *pt_config_ref(struct pt_config *c);
void pt_config_unref(struct pt_config *c);

/* Lookups; NULL when absent. pt_api_route() uses bsearch over the sorted routes. */
const struct pt_route *pt_api_route(const struct pt_api *api, const char *key);
const struct pt_stage *pt_api_stage(const struct pt_api *api, const char *name);
const char *pt_config_secret(const struct pt_config *c, const char *access_key_id);
/* The plan that lists <api> and <stage> and holds the key <key_id>, with the key's entry in
 * <*pk>; NULL when none does. */
const struct pt_plan *pt_config_plan_for(const struct pt_config *c, const struct pt_api *api,
                                         const struct pt_stage *stage, const char *key_id,
                                         const struct pt_plan_key **pk);
const struct pt_plan *pt_config_plan(const struct pt_config *c, const char *name);

/* ---- Internal to hub/config*.c and hub/conf_walk.c ---- */

struct cJSON;

/* Room for a JSON path in error messages; longer paths are cut. */
#define PT_CONFIG_PATH_LEN 512

/* Writes a short description of JSON value <v> (borrowed; NULL for an absent one) for error
 * messages: "\"big\"" (quoted, cut after 40 bytes), "1.5", "true", "null", "an object",
 * "an array". Defined in conf_walk.c. */
void pt_conf_describe(const struct cJSON *v, char *out, size_t outlen);

/* Reports at <path> that <v> is not <what>: "expected <what>, got <description of v>". */
void pt_conf_expected(const struct cJSON *v, const char *what, const char *path,
                      struct pt_errors *errs);

/* Parses the "apis" array (borrowed; NULL when absent) into c->apis and c->napis, resolving
 * each route's integration. Needs c->dir filled first. Every problem goes to <errs>. */
void pt_config_api_parse(struct pt_config *c, const struct cJSON *apis, struct pt_errors *errs);
/* The checks across APIs and listeners, once all is parsed (config_check.c): unique API names,
 * no two APIs on the same basePath and stage, managementAuth NONE only on loopback listeners. */
void pt_config_check_apis(const struct pt_config *c, struct pt_errors *errs);
/* A throttle object ({"rateLimit": N, "burstLimit": N}) at <path> into <t> (config_plans.c). */
void pt_config_parse_throttle(const struct cJSON *obj, const char *path, struct pt_throttle *t,
                              struct pt_errors *errs);
/* stages.NAME.cache and routes.KEY.cache of <api> (config_cache.c), and the route's cleanup. */
void pt_config_parse_stage_cache(const struct pt_api *api, struct pt_stage *st,
                                 const struct cJSON *obj, const char *path, struct pt_errors *errs);
void pt_config_parse_route_cache(const struct pt_api *api, struct pt_route *r,
                                 const struct cJSON *obj, const char *path, struct pt_errors *errs);
void pt_config_route_cache_cleanup(struct pt_route *r);

/* The cluster block (config_cluster.c); and its cleanup. */
void pt_config_parse_cluster(struct pt_config *c, const struct cJSON *obj, struct pt_errors *errs);
void pt_config_cluster_free(struct pt_cluster_cfg *cl);

/* usagePlans, once APIs and keys are parsed (config_plans.c); and their cleanup. */
void pt_config_plans_parse(struct pt_config *c, const struct cJSON *arr, struct pt_errors *errs);
void pt_config_plans_cleanup(struct pt_config *c);

/* Frees what <api> owns (not <api> itself), releasing each integration through its backend. */
void pt_config_api_cleanup(struct pt_api *api);

#endif
