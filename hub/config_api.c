/* Config loading, the "apis" part (SPEC section 2): each API's stages, integrations (configured
 * by their backends) and routes, then the cross reference route -> integration within the API.
 * What spans APIs is checked in config_check.c. Pure apart from files backends read. */
#include "config.h"
#include "config_auth.h"
#include "cors.h"
#include "http_routes.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends.h"
#include "errors.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/tmpl.h"
#include "portico/xalloc.h"

#define MAX_STAGE_NAME   128
#define DEFAULT_TIMEOUT  29000
#define SELECTION_PREFIX "request.body."

/* Integration types of SPEC section 5, only to name the built ones in an error message. */
static const char *const spec_types[] = {"MOCK", "HTTP_PROXY", "AWS_PROXY", "CHANNEL", "STATIC"};

/* What the walker fills for an API before it moves into struct pt_api. */
struct api_raw {
    char *name;
    int protocol;
    char *base_path;
    char *route_selection;
    int management_auth;
};

/* Same order as enum pt_protocol and enum pt_mgmt_auth. */
static const char *const protocol_values[] = {"WEBSOCKET", "HTTP", NULL};
static const char *const mgmt_auth_values[] = {"AWS_IAM", "NONE", NULL};

#define RAW(member) offsetof(struct api_raw, member)
static const struct pt_conf_field api_fields[] = {
    {"name", PT_CONF_STR, RAW(name), .required = true},
    {"protocolType", PT_CONF_ENUM, RAW(protocol), .enum_values = protocol_values, .required = true},
    {"basePath", PT_CONF_STR, RAW(base_path), .def_str = "/"},
    {"routeSelectionExpression", PT_CONF_STR, RAW(route_selection),
     .def_str = "$request.body.action"},
    {"apiKeySelectionExpression", PT_CONF_ANY},
    {"managementAuth", PT_CONF_ENUM, RAW(management_auth), .enum_values = mgmt_auth_values},
    {"stages", PT_CONF_ANY, .required = true},
    {"authorizers", PT_CONF_ANY},
    {"integrations", PT_CONF_ANY},
    {"routes", PT_CONF_ANY, .required = true},
    {"cors", PT_CONF_ANY},
    {NULL},
};
#undef RAW

static const struct pt_conf_field stage_fields[] = {
    {"variables", PT_CONF_ANY},
    {"throttle", PT_CONF_ANY},
    {"cache", PT_CONF_ANY},
    {NULL},
};

struct integration_raw {
    char *type;
    long long timeout_ms;
};

#define INR(member) offsetof(struct integration_raw, member)
static const struct pt_conf_field integration_fields[] = {
    {"type", PT_CONF_STR, INR(type), .required = true},
    {"timeoutMs", PT_CONF_INT, INR(timeout_ms), 50, 30000, DEFAULT_TIMEOUT},
    {NULL},
};
#undef INR

struct route_raw {
    char *integration;
    bool route_response;
};

#define RTR(member) offsetof(struct route_raw, member)
static const struct pt_conf_field route_fields[] = {
    {"integration", PT_CONF_STR, RTR(integration), .required = true},
    {"routeResponse", PT_CONF_BOOL, RTR(route_response)},
    {"authorizer", PT_CONF_ANY},
    {"apiKeyRequired", PT_CONF_ANY},
    {"authorizationScopes", PT_CONF_ANY},
    {"cache", PT_CONF_ANY},
    {NULL},
};
#undef RTR

static bool expect_object(const cJSON *v, const char *path, struct pt_errors *errs)
{
    if (cJSON_IsObject(v))
        return true;
    pt_conf_expected(v, "an object", path, errs);
    return false;
}

static const char *key_of(const cJSON *item)
{
    return item->string != NULL ? item->string : "";
}

static bool is_word(const char *s, bool hyphen)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (hyphen && *s == '-')))
            return false;
    return true;
}

/* ---- basePath and the selection expression ---- */

/* Characters RFC 3986 allows in a path segment, '%' included for escapes. */
static bool is_path_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("-._~!$&'()*+,;=:@%", ch) != NULL);
}

/* Checks and normalises <p> in place: one trailing '/' goes, except for the root. */
static bool normalise_base_path(char *p)
{
    size_t n = strlen(p), seg;
    const char *s;

    if (p[0] != '/' || strstr(p, "//") != NULL)
        return false;
    if (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    if (n == 1)
        return true;
    for (s = p; *s; s += seg) {
        s++; /* the '/' */
        seg = strcspn(s, "/");
        if (seg == 0 || (seg == 1 && s[0] == '.') || (seg == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        for (size_t i = 0; i < seg; i++)
            if (!is_path_char(s[i]))
                return false;
    }
    return true;
}

static void parse_base_path(struct pt_api *api, char *raw, const char *apath,
                            struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN];

    api->base_path = raw;
    if (raw == NULL || normalise_base_path(raw))
        return;
    pt_conf_path_key(kpath, sizeof(kpath), apath, "basePath");
    pt_errors_add(errs, kpath,
                  "expected a URL path such as \"/\" or \"/chat\" (starting with '/', no empty, "
                  "'.' or '..' segment)");
}

static void parse_selection(struct pt_api *api, const char *src, const char *apath,
                            struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN], err[256];
    const char *var;
    size_t i, n;

    if (src == NULL)
        return;
    pt_conf_path_key(kpath, sizeof(kpath), apath, "routeSelectionExpression");
    api->route_selection = pt_tmpl_compile(src, err, sizeof(err));
    if (api->route_selection == NULL) {
        pt_errors_add(errs, kpath, "%s", err);
        return;
    }
    if (api->protocol != PT_PROTO_WEBSOCKET)
        return;
    /* SPEC section 4: the expression reads a field of the JSON message. */
    n = pt_tmpl_nvars(api->route_selection);
    if (n == 0)
        pt_errors_add(errs, kpath, "expected $request.body.PATH (a field of the message)");
    for (i = 0; i < n; i++) {
        var = pt_tmpl_var(api->route_selection, i);
        if (strncmp(var, SELECTION_PREFIX, strlen(SELECTION_PREFIX)) != 0 ||
            var[strlen(SELECTION_PREFIX)] == '\0')
            pt_errors_add(errs, kpath, "only $request.body.PATH can select a route, not $%s", var);
    }
}

/* ---- Stages ---- */

static int cmp_var(const void *a, const void *b)
{
    return strcmp(((const struct pt_kv *)a)->name, ((const struct pt_kv *)b)->name);
}

/* Stage variables, sorted by name; a name given twice is an error. */
static void parse_variables(struct pt_stage *st, const cJSON *obj, const char *spath,
                            struct pt_errors *errs)
{
    char vpath[PT_CONFIG_PATH_LEN], kpath[PT_CONFIG_PATH_LEN];
    const cJSON *v;
    size_t i;

    pt_conf_path_key(vpath, sizeof(vpath), spath, "variables");
    if (!expect_object(obj, vpath, errs))
        return;
    st->vars = pt_xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*st->vars));
    cJSON_ArrayForEach(v, obj)
    {
        pt_conf_path_key(kpath, sizeof(kpath), vpath, key_of(v));
        if (!is_word(key_of(v), false))
            pt_errors_add(errs, kpath, "variable names use letters, digits and '_'");
        if (!cJSON_IsString(v) || v->valuestring == NULL) {
            pt_conf_expected(v, "a string", kpath, errs);
            continue;
        }
        st->vars[st->nvars].name = pt_xstrdup(key_of(v));
        st->vars[st->nvars].value = pt_xstrdup(v->valuestring);
        st->nvars++;
    }
    qsort(st->vars, st->nvars, sizeof(*st->vars), cmp_var);
    for (i = 1; i < st->nvars; i++) {
        if (strcmp(st->vars[i].name, st->vars[i - 1].name) == 0) {
            pt_conf_path_key(kpath, sizeof(kpath), vpath, st->vars[i].name);
            pt_errors_add(errs, kpath, "duplicate key");
        }
    }
}

static int cmp_stage(const void *a, const void *b)
{
    return strcmp(((const struct pt_stage *)a)->name, ((const struct pt_stage *)b)->name);
}

static void parse_stages(struct pt_api *api, const cJSON *obj, const char *apath,
                         struct pt_errors *errs)
{
    char path[PT_CONFIG_PATH_LEN], spath[PT_CONFIG_PATH_LEN];
    struct pt_stage *st;
    const cJSON *item;
    char dummy;
    size_t i;

    pt_conf_path_key(path, sizeof(path), apath, "stages");
    if (obj == NULL || !expect_object(obj, path, errs))
        return;
    if (obj->child == NULL) {
        pt_errors_add(errs, path, "expected at least one stage");
        return;
    }
    api->stages = pt_xcalloc((size_t)cJSON_GetArraySize(obj), sizeof(*api->stages));
    cJSON_ArrayForEach(item, obj)
    {
        st = &api->stages[api->nstages++];
        st->name = pt_xstrdup(key_of(item));
        pt_conf_path_key(spath, sizeof(spath), path, st->name);
        if (strcmp(st->name, "$default") != 0 &&
            (!is_word(st->name, true) || strlen(st->name) > MAX_STAGE_NAME))
            pt_errors_add(errs, spath,
                          "stage names are 1 to %d letters, digits, '-' or '_' (or \"$default\")",
                          MAX_STAGE_NAME);
        pt_conf_walk(item, spath, stage_fields, &dummy, NULL, errs);
        if (cJSON_IsObject(item) && cJSON_GetObjectItemCaseSensitive(item, "variables") != NULL)
            parse_variables(st, cJSON_GetObjectItemCaseSensitive(item, "variables"), spath, errs);
        if (cJSON_IsObject(item) && cJSON_GetObjectItemCaseSensitive(item, "throttle") != NULL) {
            char tpath[PT_CONFIG_PATH_LEN];

            pt_conf_path_key(tpath, sizeof(tpath), spath, "throttle");
            pt_config_parse_throttle(cJSON_GetObjectItemCaseSensitive(item, "throttle"), tpath,
                                     &st->throttle, errs);
        }
        if (cJSON_IsObject(item) && cJSON_GetObjectItemCaseSensitive(item, "cache") != NULL)
            pt_config_parse_stage_cache(api, st, cJSON_GetObjectItemCaseSensitive(item, "cache"),
                                        spath, errs);
    }
    /* Sorted for pt_api_stage(); equal neighbours are keys given twice. */
    qsort(api->stages, api->nstages, sizeof(*api->stages), cmp_stage);
    for (i = 1; i < api->nstages; i++) {
        if (strcmp(api->stages[i].name, api->stages[i - 1].name) == 0) {
            pt_conf_path_key(spath, sizeof(spath), path, api->stages[i].name);
            pt_errors_add(errs, spath, "duplicate key");
        }
    }
}

/* ---- Integrations ---- */

static void report_type(const char *type, const char *path, struct pt_errors *errs)
{
    char tpath[PT_CONFIG_PATH_LEN];
    struct pt_buf known;
    size_t i;

    pt_conf_path_key(tpath, sizeof(tpath), path, "type");
    pt_buf_init(&known);
    for (i = 0; i < sizeof(spec_types) / sizeof(spec_types[0]); i++)
        if (pt_backends_find(spec_types[i]) != NULL)
            pt_buf_printf(&known, "%s%s", known.len ? ", " : "", spec_types[i]);
    pt_errors_add(errs, tpath, "unknown integration type \"%s\" (known: %s)", type,
                  known.data ? known.data : "none");
    pt_buf_cleanup(&known);
}

/* The hub reads "type" and "timeoutMs"; every other key is the backend's to check. */
static void parse_integration(struct pt_integration *in, const cJSON *obj, const char *path,
                              struct pt_errors *errs)
{
    struct integration_raw raw;
    const char **others;
    const cJSON *item;
    size_t n = 0;

    others = pt_xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*others));
    cJSON_ArrayForEach(item, obj)
    {
        if (strcmp(key_of(item), "type") != 0 && strcmp(key_of(item), "timeoutMs") != 0)
            others[n++] = key_of(item);
    }
    pt_conf_walk(obj, path, integration_fields, &raw, others, errs);
    free(others);
    in->timeout_ms = (int)raw.timeout_ms;
    if (raw.type != NULL && cJSON_IsObject(obj)) {
        in->backend = pt_backends_find(raw.type);
        if (in->backend == NULL)
            report_type(raw.type, path, errs);
        else
            in->backend->configure(in, obj, path, errs);
    }
    pt_conf_release(integration_fields, &raw);
}

static int cmp_integration_index(const void *a, const void *b, void *arg)
{
    const struct pt_integration *ins = arg;
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    int r = strcmp(ins[ia].name, ins[ib].name);

    if (r != 0)
        return r;
    return ia < ib ? -1 : ia > ib;
}

/* Fills <order> with the integrations' indexes sorted by name, for find_integration(), and
 * reports names given twice. Integrations never move: backends may keep pointers to them. */
static void parse_integrations(struct pt_api *api, const cJSON *obj, const char *dir,
                               const char *apath, size_t *order, struct pt_errors *errs)
{
    char path[PT_CONFIG_PATH_LEN], ipath[PT_CONFIG_PATH_LEN];
    struct pt_integration *in;
    const cJSON *item;
    size_t i;

    pt_conf_path_key(path, sizeof(path), apath, "integrations");
    if (obj == NULL || !expect_object(obj, path, errs))
        return;
    api->integrations = pt_xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*in));
    cJSON_ArrayForEach(item, obj)
    {
        in = &api->integrations[api->nintegrations];
        in->name = pt_xstrdup(key_of(item));
        in->config_dir = dir;
        in->timeout_ms = DEFAULT_TIMEOUT;
        order[api->nintegrations] = api->nintegrations;
        api->nintegrations++;
        pt_conf_path_key(ipath, sizeof(ipath), path, in->name);
        parse_integration(in, item, ipath, errs);
    }
    qsort_r(order, api->nintegrations, sizeof(*order), cmp_integration_index, api->integrations);
    for (i = 1; i < api->nintegrations; i++) {
        if (strcmp(api->integrations[order[i]].name, api->integrations[order[i - 1]].name) == 0) {
            pt_conf_path_key(ipath, sizeof(ipath), path, api->integrations[order[i]].name);
            pt_errors_add(errs, ipath, "duplicate key");
        }
    }
}

struct integration_key {
    const char *name;
    const struct pt_integration *ins;
};

static int cmp_integration_key(const void *k, const void *elem)
{
    const struct integration_key *key = k;

    return strcmp(key->name, key->ins[*(const size_t *)elem].name);
}

static struct pt_integration *find_integration(struct pt_api *api, const size_t *order,
                                               const char *name)
{
    struct integration_key key = {name, api->integrations};
    const size_t *hit;

    hit = bsearch(&key, order, api->nintegrations, sizeof(*order), cmp_integration_key);
    return hit != NULL ? &api->integrations[*hit] : NULL;
}

/* ---- Routes ---- */

static void check_route_key(const struct pt_api *api, const char *key, const char *rpath,
                            struct pt_errors *errs)
{
    if (api->protocol == PT_PROTO_HTTP)
        return; /* the HTTP route matcher checks its keys when they are added */
    if (key[0] == '\0')
        pt_errors_add(errs, rpath, "a route key cannot be empty");
    else if (key[0] == '$' && strcmp(key, "$connect") != 0 && strcmp(key, "$disconnect") != 0 &&
             strcmp(key, "$default") != 0)
        pt_errors_add(errs, rpath,
                      "route keys starting with '$' must be $connect, $disconnect or $default");
}

/* HTTP APIs match routes with a compiled structure (http_routes.c), built once here. */
/* A WebSocket message carries no headers: a route that needs an API key checks the one the
 * connection presented at the handshake, so $connect reads a key whenever a route needs one. */
static void link_message_keys(struct pt_api *api, const char *path, struct pt_errors *errs)
{
    char rpath[PT_CONFIG_PATH_LEN];
    size_t i;

    for (i = 0; i < api->nroutes; i++) {
        const struct pt_route *r = &api->routes[i];

        if (!r->api_key_required || r == api->route_connect)
            continue;
        if (api->route_connect == NULL) {
            pt_conf_path_key(rpath, sizeof(rpath), path, r->key);
            pt_errors_add(errs, rpath,
                          "apiKeyRequired on a message route needs a $connect route, where the "
                          "key is read from the handshake");
            return;
        }
        api->route_connect->reads_api_key = true;
    }
}

static void compile_http_routes(struct pt_api *api, const char *path, struct pt_errors *errs)
{
    char rpath[PT_CONFIG_PATH_LEN], err[256];
    size_t i;

    api->http_routes = pt_http_routes_new();
    for (i = 0; i < api->nroutes; i++) {
        if (pt_http_routes_add(api->http_routes, api->routes[i].key, &api->routes[i], err,
                               sizeof(err)) != 0) {
            pt_conf_path_key(rpath, sizeof(rpath), path, api->routes[i].key);
            pt_errors_add(errs, rpath, "%s", err);
        }
    }
}

static int cmp_route(const void *a, const void *b)
{
    return strcmp(((const struct pt_route *)a)->key, ((const struct pt_route *)b)->key);
}

/* Parses the routes, then resolves each integration name against this API's integrations
 * (already all parsed: this is the second pass), then sorts the routes by key. */
static void parse_routes(struct pt_api *api, const cJSON *obj, const size_t *order,
                         const char *apath, struct pt_errors *errs)
{
    char path[PT_CONFIG_PATH_LEN], rpath[PT_CONFIG_PATH_LEN], kpath[PT_CONFIG_PATH_LEN];
    struct route_raw raw;
    struct pt_route *r;
    const cJSON *item;
    size_t i;

    pt_conf_path_key(path, sizeof(path), apath, "routes");
    if (obj == NULL || !expect_object(obj, path, errs))
        return;
    /* No routes is valid: connections are accepted and only the management API acts. */
    api->routes = pt_xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*api->routes));
    cJSON_ArrayForEach(item, obj)
    {
        r = &api->routes[api->nroutes++];
        r->key = pt_xstrdup(key_of(item));
        pt_conf_path_key(rpath, sizeof(rpath), path, r->key);
        check_route_key(api, r->key, rpath, errs);
        pt_conf_walk(item, rpath, route_fields, &raw, NULL, errs);
        r->route_response = raw.route_response;
        if (raw.route_response && strcmp(r->key, "$disconnect") == 0) {
            pt_conf_path_key(kpath, sizeof(kpath), rpath, "routeResponse");
            pt_errors_add(errs, kpath, "$disconnect cannot answer: the client is gone");
        }
        if (raw.route_response && api->protocol == PT_PROTO_HTTP) {
            pt_conf_path_key(kpath, sizeof(kpath), rpath, "routeResponse");
            pt_errors_add(errs, kpath,
                          "HTTP routes always answer: only WEBSOCKET routes have this key");
        }
        if (raw.integration != NULL) {
            r->integration = find_integration(api, order, raw.integration);
            pt_conf_path_key(kpath, sizeof(kpath), rpath, "integration");
            if (r->integration == NULL)
                pt_errors_add(errs, kpath, "no integration named \"%s\"", raw.integration);
            else if (r->integration->backend != NULL && r->integration->backend->routes != 0 &&
                     !(r->integration->backend->routes &
                       (api->protocol == PT_PROTO_HTTP ? PT_BACKEND_HTTP : PT_BACKEND_WEBSOCKET)))
                pt_errors_add(errs, kpath, "a %s integration cannot serve %s routes",
                              r->integration->backend->type,
                              api->protocol == PT_PROTO_HTTP ? "HTTP" : "WebSocket");
            else if (api->protocol == PT_PROTO_WEBSOCKET && r->integration->timeout_ms > 29000)
                pt_errors_add(errs, kpath,
                              "integration \"%s\" has timeoutMs %d: WebSocket routes allow at "
                              "most 29000",
                              raw.integration, r->integration->timeout_ms);
        }
        pt_conf_release(route_fields, &raw);
        if (cJSON_IsObject(item))
            pt_config_auth_parse_route(api, r, item, rpath, errs);
        pt_config_parse_route_cache(
            api, r, cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "cache") : NULL,
            rpath, errs);
    }
    qsort(api->routes, api->nroutes, sizeof(*api->routes), cmp_route);
    for (i = 1; i < api->nroutes && api->protocol == PT_PROTO_WEBSOCKET; i++) {
        if (strcmp(api->routes[i].key, api->routes[i - 1].key) == 0) {
            pt_conf_path_key(rpath, sizeof(rpath), path, api->routes[i].key);
            pt_errors_add(errs, rpath, "duplicate key");
        }
    }
    if (api->protocol == PT_PROTO_HTTP)
        compile_http_routes(api, path, errs);
    api->route_connect = (struct pt_route *)pt_api_route(api, "$connect");
    api->route_disconnect = (struct pt_route *)pt_api_route(api, "$disconnect");
    api->route_default = (struct pt_route *)pt_api_route(api, "$default");
    if (api->protocol == PT_PROTO_WEBSOCKET)
        link_message_keys(api, path, errs);
}

/* ---- Keys that belong to one protocol ---- */

static void check_protocol_keys(struct pt_api *api, const cJSON *obj, const char *apath,
                                struct pt_errors *errs)
{
    static const char *const ws_only[] = {"routeSelectionExpression", "managementAuth", NULL};
    const char *const *k;
    const cJSON *cors = cJSON_GetObjectItemCaseSensitive(obj, "cors");
    char kpath[PT_CONFIG_PATH_LEN];

    if (api->protocol == PT_PROTO_HTTP) {
        for (k = ws_only; *k != NULL; k++)
            if (cJSON_GetObjectItemCaseSensitive(obj, *k) != NULL) {
                pt_conf_path_key(kpath, sizeof(kpath), apath, *k);
                pt_errors_add(errs, kpath, "only WEBSOCKET APIs have this key");
            }
    }
    if (cors == NULL)
        return;
    pt_conf_path_key(kpath, sizeof(kpath), apath, "cors");
    if (api->protocol != PT_PROTO_HTTP)
        pt_errors_add(errs, kpath, "only HTTP APIs have this key");
    else
        api->cors = pt_cors_parse(cors, kpath, errs);
}

/* ---- One API ---- */

static void parse_api(struct pt_config *c, struct pt_api *api, const cJSON *obj, const char *apath,
                      struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN];
    const cJSON *integrations;
    struct api_raw raw;
    size_t *order;

    pt_conf_walk(obj, apath, api_fields, &raw, NULL, errs);
    api->name = raw.name;
    api->protocol = raw.protocol == 1 ? PT_PROTO_HTTP : PT_PROTO_WEBSOCKET;
    api->management_auth = raw.management_auth == 1 ? PT_MGMT_NONE : PT_MGMT_AWS_IAM;
    if (api->name != NULL && api->name[0] == '\0') {
        pt_conf_path_key(kpath, sizeof(kpath), apath, "name");
        pt_errors_add(errs, kpath, "expected a non-empty string");
    }
    parse_base_path(api, raw.base_path, apath, errs);
    if (api->protocol == PT_PROTO_WEBSOCKET)
        parse_selection(api, raw.route_selection, apath, errs);
    free(raw.route_selection);
    if (!cJSON_IsObject(obj))
        return;
    check_protocol_keys(api, obj, apath, errs);
    parse_stages(api, cJSON_GetObjectItemCaseSensitive(obj, "stages"), apath, errs);
    integrations = cJSON_GetObjectItemCaseSensitive(obj, "integrations");
    order = pt_xcalloc((size_t)cJSON_GetArraySize(integrations) + 1, sizeof(*order));
    parse_integrations(api, integrations, c->dir, apath, order, errs);
    pt_config_auth_parse_api(api, obj, apath, c->dir, errs);
    parse_routes(api, cJSON_GetObjectItemCaseSensitive(obj, "routes"), order, apath, errs);
    free(order);
}

void pt_config_api_parse(struct pt_config *c, const cJSON *apis, struct pt_errors *errs)
{
    char apath[PT_CONFIG_PATH_LEN];
    const cJSON *item;

    if (apis == NULL)
        return; /* the walker reported the missing key */
    if (!cJSON_IsArray(apis)) {
        pt_conf_expected(apis, "an array", "apis", errs);
        return;
    }
    if (apis->child == NULL) {
        pt_errors_add(errs, "apis", "expected at least one api");
        return;
    }
    c->apis = pt_xcalloc((size_t)cJSON_GetArraySize(apis), sizeof(*c->apis));
    cJSON_ArrayForEach(item, apis)
    {
        pt_conf_path_index(apath, sizeof(apath), "apis", c->napis);
        parse_api(c, &c->apis[c->napis++], item, apath, errs);
    }
}

/* ---- Cleanup and lookups ---- */

void pt_config_api_cleanup(struct pt_api *api)
{
    struct pt_integration *in;
    size_t i, j;

    free(api->name);
    free(api->base_path);
    pt_tmpl_free(api->route_selection);
    for (i = 0; i < api->nstages; i++) {
        for (j = 0; j < api->stages[i].nvars; j++) {
            free((char *)api->stages[i].vars[j].name);
            free((char *)api->stages[i].vars[j].value);
        }
        free(api->stages[i].vars);
        free(api->stages[i].name);
    }
    free(api->stages);
    for (i = 0; i < api->nintegrations; i++) {
        in = &api->integrations[i];
        if (in->backend != NULL && in->backend->release != NULL)
            in->backend->release(in);
        free((char *)in->name);
    }
    free(api->integrations);
    for (i = 0; i < api->nroutes; i++) {
        free(api->routes[i].key);
        pt_config_auth_cleanup_route(&api->routes[i]);
        pt_config_route_cache_cleanup(&api->routes[i]);
    }
    pt_config_auth_cleanup_api(api);
    free(api->routes);
    pt_http_routes_free(api->http_routes);
    pt_cors_free(api->cors);
}

const struct pt_route *pt_api_route(const struct pt_api *api, const char *key)
{
    struct pt_route probe = {.key = (char *)key};

    if (api->nroutes == 0)
        return NULL;
    return bsearch(&probe, api->routes, api->nroutes, sizeof(*api->routes), cmp_route);
}

const struct pt_stage *pt_api_stage(const struct pt_api *api, const char *name)
{
    struct pt_stage probe = {.name = (char *)name};

    if (api->nstages == 0)
        return NULL;
    return bsearch(&probe, api->stages, api->nstages, sizeof(*api->stages), cmp_stage);
}
