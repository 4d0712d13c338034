/* Response caching in the config (SPEC section 6): a stage's cache block and a route's ttl and
 * key parameters. Only HTTP APIs cache; a WebSocket API with either block is an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "errors.h"
#include "portico/conf.h"
#include "portico/xalloc.h"

#define DEFAULT_TTL_S       300
#define MAX_TTL_S           3600
#define DEFAULT_CAPACITY_MB 256
#define MAX_CAPACITY_MB     (1 << 20) /* a terabyte: the bound is the machine's, not ours */

static const char *const strategies[] = {"FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER",
                                         "SUCCEED_WITHOUT_RESPONSE_HEADER", NULL};

struct stage_cache_raw {
    bool enabled;
    long long capacity_mb;
    bool require_authorization;
    int strategy;
};

#define SC(member) offsetof(struct stage_cache_raw, member)
static const struct pt_conf_field stage_cache_fields[] = {
    {"enabled", PT_CONF_BOOL, SC(enabled), .def = 0},
    {"capacityMB", PT_CONF_INT, SC(capacity_mb), 1, MAX_CAPACITY_MB, DEFAULT_CAPACITY_MB},
    {"requireAuthorizationForCacheControl", PT_CONF_BOOL, SC(require_authorization), .def = 1},
    {"unauthorizedCacheControlHeaderStrategy", PT_CONF_ENUM, SC(strategy),
     .enum_values = strategies, .def = PT_CACHE_SUCCEED_WITH_RESPONSE_HEADER},
    {NULL},
};
#undef SC

static bool http_only(const struct pt_api *api, const char *path, struct pt_errors *errs)
{
    if (api->protocol == PT_PROTO_HTTP)
        return true;
    pt_errors_add(errs, path, "only HTTP APIs cache responses");
    return false;
}

void pt_config_parse_stage_cache(const struct pt_api *api, struct pt_stage *st, const cJSON *obj,
                                 const char *spath, struct pt_errors *errs)
{
    char path[PT_CONFIG_PATH_LEN];
    struct stage_cache_raw raw = {0};

    pt_conf_path_key(path, sizeof(path), spath, "cache");
    if (!http_only(api, path, errs) ||
        pt_conf_walk(obj, path, stage_cache_fields, &raw, NULL, errs))
        return;
    st->cache.enabled = raw.enabled;
    st->cache.capacity_mb = raw.capacity_mb;
    st->cache.require_authorization = raw.require_authorization;
    st->cache.unauthorized_strategy = raw.strategy;
}

/* "$request.path.id", "$request.querystring.q" or "$request.header.Accept". */
static bool parse_param(const struct pt_route *r, const cJSON *v, struct pt_cache_param *out,
                        const char *path, struct pt_errors *errs)
{
    static const struct {
        const char *prefix;
        int kind;
    } kinds[] = {{"$request.path.", PT_CACHE_PATH},
                 {"$request.querystring.", PT_CACHE_QUERY},
                 {"$request.header.", PT_CACHE_HEADER}};
    size_t i, n;

    if (!cJSON_IsString(v)) {
        pt_conf_expected(v, "$request.path.NAME, $request.querystring.NAME or $request.header.NAME",
                         path, errs);
        return false;
    }
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        n = strlen(kinds[i].prefix);
        if (strncmp(v->valuestring, kinds[i].prefix, n) != 0 || v->valuestring[n] == '\0')
            continue;
        out->kind = kinds[i].kind;
        out->name = pt_xstrdup(v->valuestring + n);
        if (out->kind == PT_CACHE_PATH) {
            char brace[256], greedy[256];

            snprintf(brace, sizeof(brace), "{%s}", out->name);
            snprintf(greedy, sizeof(greedy), "{%s+}", out->name);
            if (strstr(r->key, brace) == NULL && strstr(r->key, greedy) == NULL) {
                pt_errors_add(errs, path, "the route \"%s\" has no path parameter \"%s\"", r->key,
                              out->name);
                free(out->name);
                return false;
            }
        }
        return true;
    }
    pt_errors_add(errs, path,
                  "expected $request.path.NAME, $request.querystring.NAME or "
                  "$request.header.NAME, got \"%s\"",
                  v->valuestring);
    return false;
}

struct route_cache_raw {
    long long ttl_s;
};

static const struct pt_conf_field route_cache_fields[] = {
    {"ttlSeconds", PT_CONF_INT, offsetof(struct route_cache_raw, ttl_s), 0, MAX_TTL_S,
     DEFAULT_TTL_S},
    {"keyParameters", PT_CONF_ANY},
    {NULL},
};

void pt_config_parse_route_cache(const struct pt_api *api, struct pt_route *r, const cJSON *obj,
                                 const char *rpath, struct pt_errors *errs)
{
    char path[PT_CONFIG_PATH_LEN], kpath[PT_CONFIG_PATH_LEN], ipath[PT_CONFIG_PATH_LEN];
    struct route_cache_raw raw = {0};
    const cJSON *params, *it;
    size_t i = 0;

    r->cache.ttl_s = DEFAULT_TTL_S; /* a route of a caching stage is cached unless it says */
    if (obj == NULL)
        return;
    pt_conf_path_key(path, sizeof(path), rpath, "cache");
    if (!http_only(api, path, errs))
        return;
    if (pt_conf_walk(obj, path, route_cache_fields, &raw, NULL, errs) == 0)
        r->cache.ttl_s = raw.ttl_s;
    else if (!cJSON_IsObject(obj))
        return;
    params = cJSON_GetObjectItemCaseSensitive(obj, "keyParameters");
    if (params == NULL)
        return;
    pt_conf_path_key(kpath, sizeof(kpath), path, "keyParameters");
    if (!cJSON_IsArray(params)) {
        pt_conf_expected(params, "an array", kpath, errs);
        return;
    }
    r->cache.params = pt_xcalloc((size_t)cJSON_GetArraySize(params) + 1, sizeof(*r->cache.params));
    cJSON_ArrayForEach(it, params)
    {
        pt_conf_path_index(ipath, sizeof(ipath), kpath, i++);
        if (parse_param(r, it, &r->cache.params[r->cache.nparams], ipath, errs))
            r->cache.nparams++;
    }
}

void pt_config_route_cache_cleanup(struct pt_route *r)
{
    size_t i;

    for (i = 0; i < r->cache.nparams; i++)
        free(r->cache.params[i].name);
    free(r->cache.params);
}
