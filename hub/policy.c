/* The policy chain (see policy.h): authorizer, then API key. Each step either decides at once
 * or waits (a JWKS fetch, a REQUEST authorizer call) and resumes from its callback. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>

#include "authn.h"
#include "call.h"
#include "cluster.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "jwks_cache.h"
#include "jwt.h"
#include "portico/buf.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "worker.h"

#define AUTHZ_TIMEOUT_MS 10000 /* AWS's limit for authorizer calls */
#define AUTHZ_CACHE_MAX  10000

struct pt_policy {
    struct pt_http *h;
    struct pt_worker *w;
    struct pt_config *cfg; /* a reference: api, stage and route live in it */
    const struct pt_api *api;
    const struct pt_stage *stage;
    const struct pt_route *route;
    pt_policy_done_fn *done;
    cJSON *ctx;  /* the authorizer context being built (owned) */
    char *token; /* JWT: kept to verify again after a JWKS refetch */
    struct pt_jwks_waiter jwks_wait;
    struct pt_callx *call;       /* a REQUEST authorizer call in flight */
    struct pt_route authz_route; /* what that call runs */
    char *cache_key;             /* REQUEST: the identity values, joined */
    struct shared_wait *shared;  /* cluster mode: a lookup in Redis in flight, or NULL */
    char **values;               /* REQUEST: the identity values while that lookup runs */
    unsigned char data[];        /* the caller's copy */
};

/* A Redis lookup of a REQUEST authorizer result; <p> is cleared if the policy goes first. */
struct shared_wait {
    struct pt_policy *p;
};

/* ---- REQUEST authorizer results, per worker ---- */

struct authz_entry {
    char *key;
    double expires;
    bool allow;
    cJSON *ctx; /* owned */
    struct authz_entry *next;
};

struct pt_authz_cache {
    struct authz_entry *head;
    size_t n;
};

static struct authz_entry *cache_find(struct pt_worker *w, const char *key, double now)
{
    struct authz_entry **pp, *e;

    if (w->authz == NULL)
        return NULL;
    for (pp = &w->authz->head; (e = *pp) != NULL;) {
        if (e->expires <= now) {
            *pp = e->next;
            w->authz->n--;
            free(e->key);
            cJSON_Delete(e->ctx);
            free(e);
            continue;
        }
        if (strcmp(e->key, key) == 0)
            return e;
        pp = &e->next;
    }
    return NULL;
}

static void cache_put(struct pt_worker *w, const char *key, double expires, bool allow,
                      const cJSON *ctx)
{
    struct authz_entry *e;

    if (w->authz == NULL)
        w->authz = pt_xcalloc(1, sizeof(*w->authz));
    if (w->authz->n >= AUTHZ_CACHE_MAX)
        return; /* full of live entries: serve uncached rather than grow without bound */
    e = pt_xcalloc(1, sizeof(*e));
    e->key = pt_xstrdup(key);
    e->expires = expires;
    e->allow = allow;
    e->ctx = ctx ? cJSON_Duplicate(ctx, 1) : NULL;
    e->next = w->authz->head;
    w->authz->head = e;
    w->authz->n++;
}

void pt_policy_cache_cleanup(struct pt_worker *w)
{
    struct authz_entry *e, *next;

    if (w->authz == NULL)
        return;
    for (e = w->authz->head; e != NULL; e = next) {
        next = e->next;
        free(e->key);
        cJSON_Delete(e->ctx);
        free(e);
    }
    free(w->authz);
    w->authz = NULL;
}

static void free_values(struct pt_policy *p)
{
    size_t i;

    for (i = 0; p->values != NULL && p->values[i] != NULL; i++)
        free(p->values[i]);
    free(p->values);
    p->values = NULL;
}

/* ---- Finishing ---- */

static void policy_free(struct pt_policy *p)
{
    if (p->call != NULL)
        pt_callx_cancel(p->call);
    pt_jwks_cache_unwait(&p->jwks_wait);
    if (p->shared != NULL)
        p->shared->p = NULL;
    free_values(p);
    if (p->h != NULL && p->h->policy == p)
        p->h->policy = NULL;
    cJSON_Delete(p->ctx);
    free(p->token);
    free(p->cache_key);
    pt_config_unref(p->cfg);
    free(p);
}

void pt_policy_cancel(struct pt_policy *p)
{
    p->h = NULL;
    policy_free(p);
}

static void finish(struct pt_policy *p, int status, const char *message, const char *type,
                   const char *www)
{
    struct pt_policy_result res = {status, message, type, www, NULL};
    struct pt_http *h = p->h;

    if (status == 0) {
        res.authorizer = p->ctx;
        p->ctx = NULL;
    }
    if (h->policy == p)
        h->policy = NULL;
    p->h = NULL;
    p->done(h, &res, p->data);
    cJSON_Delete(res.authorizer); /* unless the caller took it */
    policy_free(p);
}

static void unauthorized(struct pt_policy *p, const char *www)
{
    finish(p, 401, "Unauthorized", "UnauthorizedException", www);
}

static void forbidden(struct pt_policy *p)
{
    finish(p, 403, "Forbidden", "ForbiddenException", NULL);
}

/* ---- Identity sources ---- */

/* The value of <src> for the request (owned), or NULL when absent or empty. */
static char *identity_value(struct pt_policy *p, const struct pt_identity_source *src)
{
    struct pt_http *h = p->h;
    const struct pt_slice *s;
    size_t i;

    switch (src->kind) {
    case PT_IDS_HEADER:
        s = pt_http1_header(&h->req, src->name);
        return s != NULL && s->len > 0 ? pt_xstrndup(s->p, s->len) : NULL;
    case PT_IDS_QUERY:
        return pt_http_query_value(h, src->name);
    case PT_IDS_STAGE_VAR:
        for (i = 0; i < p->stage->nvars; i++)
            if (strcmp(p->stage->vars[i].name, src->name) == 0 && p->stage->vars[i].value[0])
                return pt_xstrdup(p->stage->vars[i].value);
        return NULL;
    default:
        if (strcmp(src->name, "routeKey") == 0)
            return pt_xstrdup(p->route->key);
        if (strcmp(src->name, "stage") == 0)
            return pt_xstrdup(p->stage->name);
        if (strcmp(src->name, "identity.sourceIp") == 0) {
            char ip[46];

            pt_conn_peer_ip(h->conn, ip);
            return pt_xstrdup(ip);
        }
        return NULL;
    }
}

/* ---- API keys (the last step) ---- */

static void step_api_key(struct pt_policy *p)
{
    const struct pt_identity_source *src = &p->api->api_key_source;
    const struct pt_config *cfg = p->cfg;
    const struct pt_apikey *found = NULL;
    const struct pt_plan_key *pk;
    char *value = NULL;

    if (!p->route->api_key_required && !p->route->reads_api_key) {
        finish(p, 0, NULL, NULL, NULL);
        return;
    }
    if (src->kind == PT_IDS_CONTEXT) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(p->ctx, "usageIdentifierKey");

        value = cJSON_IsString(k) ? pt_xstrdup(k->valuestring) : NULL;
    } else {
        value = identity_value(p, src);
    }
    if (value == NULL) {
        /* A $connect that reads a key for later routes lets a connection without one in. */
        if (p->route->api_key_required)
            forbidden(p);
        else
            finish(p, 0, NULL, NULL, NULL);
        return;
    }
    found = pt_policy_key_by_value(cfg, value);
    OPENSSL_cleanse(value, strlen(value));
    free(value);
    /* Once a usage plan lists the stage, only the keys of its plans pass there (SPEC 6). */
    if (found == NULL || !found->enabled ||
        (p->stage->planned && pt_config_plan_for(cfg, p->api, p->stage, found->id, &pk) == NULL)) {
        forbidden(p);
        return;
    }
    if (p->ctx == NULL)
        p->ctx = cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(p->ctx, "apiKeyId");
    cJSON_AddStringToObject(p->ctx, "apiKeyId", found->id);
    finish(p, 0, NULL, NULL, NULL);
}

const char *pt_policy_api_key_id(const cJSON *authorizer)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(authorizer, "apiKeyId");

    return cJSON_IsString(id) ? id->valuestring : NULL;
}

const struct pt_apikey *pt_policy_key_by_value(const struct pt_config *cfg, const char *value)
{
    const struct pt_apikey *found = NULL;
    size_t i, len = strlen(value);

    /* Every key is compared, in constant time, so timing says nothing about which is close. */
    for (i = 0; i < cfg->napikeys; i++) {
        const struct pt_apikey *k = &cfg->apikeys[i];

        if (strlen(k->value) == len && CRYPTO_memcmp(k->value, value, len) == 0)
            found = k;
    }
    return found;
}

bool pt_policy_key_valid(const struct pt_config *cfg, const struct pt_api *api,
                         const struct pt_stage *stage, const char *key_id)
{
    const struct pt_plan_key *pk;
    size_t i;

    if (key_id == NULL)
        return false;
    for (i = 0; i < cfg->napikeys; i++)
        if (strcmp(cfg->apikeys[i].id, key_id) == 0)
            return cfg->apikeys[i].enabled &&
                   (!stage->planned || pt_config_plan_for(cfg, api, stage, key_id, &pk) != NULL);
    return false;
}

/* ---- AWS_IAM ---- */

static void step_iam(struct pt_policy *p)
{
    struct pt_sigv4_result res;
    cJSON *iam;

    switch (pt_authn_sigv4(p->h, &res)) {
    case PT_SIGV4_OK:
        break;
    case PT_SIGV4_MISSING:
        finish(p, 403, "Missing Authentication Token", "MissingAuthenticationTokenException", NULL);
        return;
    case PT_SIGV4_UNKNOWN_KEY:
        finish(p, 403, "The security token included in the request is invalid.",
               "UnrecognizedClientException", NULL);
        return;
    case PT_SIGV4_MALFORMED:
        finish(p, 403, "Incomplete signature", "IncompleteSignatureException", NULL);
        return;
    default:
        finish(p, 403,
               "The request signature we calculated does not match the signature you "
               "provided.",
               "InvalidSignatureException", NULL);
        return;
    }
    p->ctx = cJSON_CreateObject();
    iam = cJSON_AddObjectToObject(p->ctx, "iam");
    cJSON_AddStringToObject(iam, "accessKey", res.access_key_id);
    cJSON_AddNullToObject(iam, "accountId");
    cJSON_AddNullToObject(iam, "userId");
    step_api_key(p);
}

/* ---- JWT ---- */

static void jwt_verify(struct pt_policy *p, const struct pt_jwks *keys, bool may_refetch);

static void on_jwks(void *ud, struct pt_jwks *keys)
{
    jwt_verify(ud, keys, false);
}

static void jwt_verify(struct pt_policy *p, const struct pt_jwks *keys, bool may_refetch)
{
    const struct pt_authorizer *a = p->route->authorizer;
    struct pt_jwt_verifier v = {
        .jwks = keys,
        .secret = a->secret,
        .secret_len = a->secret ? strlen(a->secret) : 0,
        .issuer = a->issuer,
        .audiences = (const char *const *)a->audience,
        .n_audiences = a->naudience,
        .leeway_s = PT_JWT_LEEWAY_S,
    };
    struct pt_jwt_result res;
    char www[256];
    cJSON *jwt;

    pt_jwt_verify(&v, p->token, strlen(p->token), (int64_t)time(NULL), &res);
    if (res.status == PT_JWT_UNKNOWN_KID && may_refetch && a->jwks_url != NULL &&
        pt_jwks_cache_refresh(p->w, a->jwks_url, &p->jwks_wait, on_jwks, p))
        return; /* verified again when the fresh keys are in */
    if (res.status != PT_JWT_OK) {
        snprintf(www, sizeof(www),
                 "Bearer scope=\"\" error=\"invalid_token\" "
                 "error_description=\"%s\"",
                 res.reason);
        unauthorized(p, www);
        return;
    }
    if (p->route->nscopes > 0 &&
        !pt_jwt_has_scope(res.claims, (const char *const *)p->route->scopes, p->route->nscopes)) {
        cJSON_Delete(res.claims);
        finish(p, 403, "Forbidden", "ForbiddenException",
               "Bearer scope=\"\" error=\"insufficient_scope\" error_description=\"the token "
               "does not have the scope the route requires\"");
        return;
    }
    p->ctx = cJSON_CreateObject();
    jwt = cJSON_AddObjectToObject(p->ctx, "jwt");
    cJSON_AddItemToObject(jwt, "scopes", pt_jwt_scopes(res.claims));
    cJSON_AddItemToObject(jwt, "claims", res.claims);
    step_api_key(p);
}

static void step_jwt(struct pt_policy *p)
{
    const struct pt_authorizer *a = p->route->authorizer;
    char *token = identity_value(p, &a->sources[0]);
    const struct pt_jwks *keys = a->jwks;

    if (token == NULL) {
        unauthorized(p, "Bearer");
        return;
    }
    if (strncasecmp(token, "Bearer ", 7) == 0)
        memmove(token, token + 7, strlen(token + 7) + 1);
    p->token = token;
    if (a->jwks_url != NULL) {
        keys = pt_jwks_cache_get(p->w, a->jwks_url);
        if (keys == NULL && pt_jwks_cache_refresh(p->w, a->jwks_url, &p->jwks_wait, on_jwks, p))
            return; /* the first request waits for the first fetch */
    }
    jwt_verify(p, keys, true);
}

/* ---- REQUEST authorizers ---- */

static void request_verdict(struct pt_policy *p, bool allow, const cJSON *ctx)
{
    if (!allow) {
        forbidden(p);
        return;
    }
    p->ctx = ctx ? cJSON_Duplicate(ctx, 1) : cJSON_CreateObject();
    step_api_key(p);
}

/* Does an IAM policy document allow execute-api:Invoke here? Deny wins over Allow. */
static bool policy_allows(const cJSON *doc)
{
    const cJSON *st, *stmts = cJSON_GetObjectItemCaseSensitive(doc, "Statement");
    bool allow = false;

    cJSON_ArrayForEach(st, stmts)
    {
        const cJSON *effect = cJSON_GetObjectItemCaseSensitive(st, "Effect");
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(st, "Action");
        bool invoke = false;
        const cJSON *a;

        if (cJSON_IsString(action))
            invoke = strcmp(action->valuestring, "execute-api:Invoke") == 0 ||
                     strcmp(action->valuestring, "execute-api:*") == 0 ||
                     strcmp(action->valuestring, "*") == 0;
        const cJSON *actions = cJSON_IsArray(action) ? action : NULL;

        cJSON_ArrayForEach(a, actions)
        {
            if (cJSON_IsString(a) && (strcmp(a->valuestring, "execute-api:Invoke") == 0 ||
                                      strcmp(a->valuestring, "execute-api:*") == 0))
                invoke = true;
        }
        if (!invoke || !cJSON_IsString(effect))
            continue;
        if (strcmp(effect->valuestring, "Deny") == 0)
            return false;
        if (strcmp(effect->valuestring, "Allow") == 0)
            allow = true;
    }
    return allow;
}

/* Reads the authorizer's answer: a simple response or an IAM policy. Returns -1 when it is
 * malformed (a 500, as AWS answers AUTHORIZER_CONFIGURATION_ERROR). */
static int read_verdict(struct pt_policy *p, const cJSON *r, bool *allow, cJSON **ctx_out)
{
    const struct pt_authorizer *a = p->route->authorizer;
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(r, "context");
    const cJSON *principal = NULL, *usage = NULL; /* only in IAM policy responses */
    cJSON *out;

    if (!cJSON_IsObject(r))
        return -1;
    if (a->simple_responses) {
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r, "isAuthorized");

        if (!cJSON_IsBool(ok))
            return -1;
        *allow = cJSON_IsTrue(ok);
    } else {
        const cJSON *doc = cJSON_GetObjectItemCaseSensitive(r, "policyDocument");

        if (!cJSON_IsObject(doc))
            return -1;
        *allow = policy_allows(doc);
        principal = cJSON_GetObjectItemCaseSensitive(r, "principalId");
        usage = cJSON_GetObjectItemCaseSensitive(r, "usageIdentifierKey");
    }
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "lambda",
                          cJSON_IsObject(ctx) ? cJSON_Duplicate(ctx, 1) : cJSON_CreateObject());
    if (cJSON_IsString(principal))
        cJSON_AddStringToObject(out, "principalId", principal->valuestring);
    if (cJSON_IsString(usage))
        cJSON_AddStringToObject(out, "usageIdentifierKey", usage->valuestring);
    *ctx_out = out;
    return 0;
}

/* Cluster mode: the result goes to Redis too, for the other nodes. */
static void share_result(struct pt_policy *p, double expires, bool allow, const cJSON *ctx)
{
    struct pt_buf k, v;
    char *json = ctx != NULL ? cJSON_PrintUnformatted(ctx) : NULL;
    char px[24];

    pt_buf_init(&k);
    pt_buf_init(&v);
    pt_buf_printf(&k, "portico:authz:%s", p->cache_key);
    pt_buf_printf(&v, "%lld %d %s", (long long)(expires * 1000.0), allow ? 1 : 0,
                  json != NULL ? json : "null");
    snprintf(px, sizeof(px), "%lld", (long long)p->route->authorizer->ttl_s * 1000);
    PT_CLUSTER_SEND(p->w, NULL, NULL, "SET", k.data, v.data, "PX", px);
    free(json);
    pt_buf_cleanup(&k);
    pt_buf_cleanup(&v);
}

static void on_authorizer_done(struct pt_callx *x, const struct pt_result *res)
{
    struct pt_policy *p = x->policy;
    const struct pt_authorizer *a = p->route->authorizer;
    cJSON *r = NULL, *ctx = NULL;
    bool allow = false;

    p->call = NULL;
    if (res->err != 0 || res->status < 200 || res->status > 299 || res->body == NULL ||
        (r = cJSON_ParseWithLength(res->body, res->body_len)) == NULL ||
        read_verdict(p, r, &allow, &ctx) != 0) {
        cJSON_Delete(r);
        finish(p, 500, "Internal Server Error", "AuthorizerConfigurationException", NULL);
        return;
    }
    cJSON_Delete(r);
    if (a->ttl_s > 0) {
        double expires = ev_now(p->w->loop) + (double)a->ttl_s;

        cache_put(p->w, p->cache_key, expires, allow, ctx);
        if (p->w->cluster != NULL)
            share_result(p, expires, allow, ctx);
    }
    request_verdict(p, allow, ctx);
    cJSON_Delete(ctx);
}

/* The event AWS sends a REQUEST authorizer (payload 2.0 shape for HTTP APIs, the WebSocket
 * $connect shape for WebSocket APIs), as JSON text. */
static char *authorizer_event(struct pt_policy *p, char **values, size_t nvalues)
{
    struct pt_http *h = p->h;
    cJSON *ev = cJSON_CreateObject(), *hdrs = cJSON_AddObjectToObject(ev, "headers"), *ids;
    cJSON *ctx, *vars;
    char arn[512], method[16], ip[46];
    size_t i;
    char *text;

    snprintf(method, sizeof(method), "%.*s", (int)h->req.method.len, h->req.method.p);
    for (i = 0; i < h->req.nheaders; i++) {
        char *name = pt_xstrndup(h->req.headers[i].name.p, h->req.headers[i].name.len);
        char *value = pt_xstrndup(h->req.headers[i].value.p, h->req.headers[i].value.len);
        size_t k;

        for (k = 0; name[k]; k++)
            name[k] = (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
        cJSON_DeleteItemFromObjectCaseSensitive(hdrs, name);
        cJSON_AddStringToObject(hdrs, name, value);
        free(name);
        free(value);
    }
    cJSON_AddStringToObject(ev, "type", "REQUEST");
    if (p->api->protocol == PT_PROTO_HTTP) {
        snprintf(arn, sizeof(arn), "arn:aws:execute-api:local:000000000000:%s/%s/%s%s",
                 p->api->name, p->stage->name, method, h->path);
        cJSON_AddStringToObject(ev, "version", "2.0");
        cJSON_AddStringToObject(ev, "routeArn", arn);
        cJSON_AddStringToObject(ev, "rawPath", h->path);
    } else {
        snprintf(arn, sizeof(arn), "arn:aws:execute-api:local:000000000000:%s/%s/$connect",
                 p->api->name, p->stage->name);
        cJSON_AddStringToObject(ev, "methodArn", arn);
    }
    ids = cJSON_AddArrayToObject(ev, "identitySource");
    for (i = 0; i < nvalues; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(values[i]));
    cJSON_AddStringToObject(ev, "routeKey", p->route->key);
    text = pt_xstrndup(h->req.query.p, h->req.query.len);
    cJSON_AddStringToObject(ev, "rawQueryString", text);
    free(text);
    vars = cJSON_AddObjectToObject(ev, "stageVariables");
    for (i = 0; i < p->stage->nvars; i++)
        cJSON_AddStringToObject(vars, p->stage->vars[i].name, p->stage->vars[i].value);
    ctx = cJSON_AddObjectToObject(ev, "requestContext");
    cJSON_AddStringToObject(ctx, "apiId", p->api->name);
    cJSON_AddStringToObject(ctx, "stage", p->stage->name);
    cJSON_AddStringToObject(ctx, "routeKey", p->route->key);
    cJSON_AddStringToObject(ctx, "requestId", h->request_id);
    pt_conn_peer_ip(h->conn, ip);
    if (p->api->protocol == PT_PROTO_HTTP) {
        cJSON *http = cJSON_AddObjectToObject(ctx, "http");

        cJSON_AddStringToObject(http, "method", method);
        cJSON_AddStringToObject(http, "path", h->path);
        cJSON_AddStringToObject(http, "sourceIp", ip);
    } else {
        cJSON *id = cJSON_AddObjectToObject(ctx, "identity");

        cJSON_AddStringToObject(ctx, "eventType", "CONNECT");
        cJSON_AddStringToObject(id, "sourceIp", ip);
    }
    text = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    return text;
}

/* Calls the REQUEST authorizer's integration with p->values; on_authorizer_done goes on. */
static void call_authorizer(struct pt_policy *p)
{
    const struct pt_authorizer *a = p->route->authorizer;
    struct pt_callx *x;
    char *event = authorizer_event(p, p->values, a->nsources);

    free_values(p);
    p->authz_route.key = p->route->key;
    p->authz_route.integration = a->integration;
    x = pt_callx_new(p->w, p->cfg, &p->authz_route, PT_EVENT_AUTHORIZER);
    x->policy = p;
    if (a->integration->timeout_ms > AUTHZ_TIMEOUT_MS)
        x->timeout_ms = AUTHZ_TIMEOUT_MS; /* AWS gives authorizers 10 s */
    x->req.api_name = p->api->name;
    x->req.stage = p->stage->name;
    x->req.stage_vars = p->stage->vars;
    x->req.nstage_vars = p->stage->nvars;
    memcpy(x->request_id, p->h->request_id, sizeof(x->request_id));
    pt_conn_peer_ip(p->h->conn, x->source_ip);
    x->body = event;
    x->req.body = event;
    x->req.body_len = strlen(event);
    p->call = x;
    pt_callx_invoke(x, on_authorizer_done);
}

/* ---- Cluster mode: results shared through Redis, "EXPIRES_MS ALLOW CONTEXT-JSON" ---- */

static void on_shared(struct pt_worker *w, void *r, void *ud)
{
    struct shared_wait *sw = ud;
    struct pt_policy *p = sw->p;
    redisReply *reply = r;
    long long expires_ms = 0;
    int allow = 0, used = 0;
    cJSON *ctx = NULL;

    free(sw);
    if (p == NULL)
        return; /* the request went away */
    p->shared = NULL;
    if (reply != NULL && reply->type == REDIS_REPLY_STRING &&
        sscanf(reply->str, "%lld %d %n", &expires_ms, &allow, &used) == 2 && used > 0 &&
        (double)expires_ms / 1000.0 > ev_now(w->loop)) {
        ctx = cJSON_Parse(reply->str + used);
        cache_put(w, p->cache_key, (double)expires_ms / 1000.0, allow != 0, ctx);
        free_values(p);
        request_verdict(p, allow != 0, ctx);
        cJSON_Delete(ctx);
        return;
    }
    call_authorizer(p); /* a miss, or Redis down: ask the authorizer */
}

static void lookup_shared(struct pt_policy *p)
{
    struct shared_wait *sw = pt_xmalloc(sizeof(*sw));
    struct pt_buf k;

    sw->p = p;
    p->shared = sw;
    pt_buf_init(&k);
    pt_buf_printf(&k, "portico:authz:%s", p->cache_key);
    if (!PT_CLUSTER_SEND(p->w, on_shared, sw, "GET", k.data)) {
        p->shared = NULL;
        free(sw);
        call_authorizer(p);
    }
    pt_buf_cleanup(&k);
}

static void step_request(struct pt_policy *p)
{
    const struct pt_authorizer *a = p->route->authorizer;
    char **values = pt_xcalloc(a->nsources + 1, sizeof(*values));
    struct authz_entry *hit;
    struct pt_buf key;
    size_t i;

    pt_buf_init(&key);
    pt_buf_printf(&key, "%s\n%s\n%s", p->api->name, p->stage->name, a->name);
    for (i = 0; i < a->nsources; i++) {
        values[i] = identity_value(p, &a->sources[i]);
        if (values[i] == NULL)
            break;
        /* Length-prefixed, so that no two lists of values make the same key. */
        pt_buf_printf(&key, "\n%zu:", strlen(values[i]));
        pt_buf_puts(&key, values[i]);
    }
    if (i < a->nsources) {
        /* A missing identity source is refused without calling the authorizer. */
        for (i = 0; values[i] != NULL; i++)
            free(values[i]);
        free(values);
        pt_buf_cleanup(&key);
        unauthorized(p, NULL);
        return;
    }
    p->cache_key = pt_buf_take(&key, NULL);
    p->values = values;
    hit = a->ttl_s > 0 ? cache_find(p->w, p->cache_key, ev_now(p->w->loop)) : NULL;
    if (hit != NULL) {
        free_values(p);
        request_verdict(p, hit->allow, hit->ctx);
        return;
    }
    if (a->ttl_s > 0 && p->w->cluster != NULL) {
        lookup_shared(p); /* the other nodes' answers, through Redis */
        return;
    }
    call_authorizer(p);
}

/* ---- The chain ---- */

bool pt_policy_needed(const struct pt_route *route)
{
    return route->iam || route->authorizer != NULL || route->api_key_required ||
           route->reads_api_key;
}

void pt_policy_start(struct pt_http *h, const struct pt_api *api, const struct pt_stage *stage,
                     const struct pt_route *route, pt_policy_done_fn *done, const void *data,
                     size_t len)
{
    struct pt_policy *p = pt_xcalloc(1, sizeof(*p) + len);

    p->h = h;
    p->w = h->conn->w;
    p->cfg = pt_config_ref(p->w->cfg);
    p->api = api;
    p->stage = stage;
    p->route = route;
    p->done = done;
    if (len > 0)
        memcpy(p->data, data, len);
    h->policy = p; /* cleared when it finishes; pt_http_free cancels it meanwhile */
    if (route->iam)
        step_iam(p);
    else if (route->authorizer != NULL && route->authorizer->type == PT_AUTHZ_JWT)
        step_jwt(p);
    else if (route->authorizer != NULL)
        step_request(p);
    else
        step_api_key(p);
}
