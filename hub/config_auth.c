/* The config of authorization (SPEC section 6): apiKeys, each API's authorizers and
 * apiKeySelectionExpression, and each route's authorizer, authorizationScopes and
 * apiKeyRequired. Runs at load, off the loop: a JWKS file is read here. */
#include "config_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "errors.h"
#include "jwt.h"
#include "portico/conf.h"
#include "portico/xalloc.h"

#define JWKS_MAX_BYTES (1 << 20)

/* ---- Identity sources ---- */

int pt_config_identity_source(const char *expr, struct pt_identity_source *out)
{
    static const struct {
        const char *prefix;
        int kind;
    } kinds[] = {
        {"$request.header.", PT_IDS_HEADER},
        {"$request.querystring.", PT_IDS_QUERY},
        {"$stageVariables.", PT_IDS_STAGE_VAR},
        {"$context.", PT_IDS_CONTEXT},
    };
    size_t i, n;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        n = strlen(kinds[i].prefix);
        if (kinds[i].kind == PT_IDS_CONTEXT && strcmp(expr, "$context.routeKey") != 0 &&
            strcmp(expr, "$context.stage") != 0 && strcmp(expr, "$context.identity.sourceIp") != 0)
            continue; /* the $context values an identity source can use */
        if (strncmp(expr, kinds[i].prefix, n) == 0 && expr[n] != '\0') {
            out->kind = kinds[i].kind;
            out->name = pt_xstrdup(expr + n);
            return 0;
        }
    }
    return -1;
}

static void parse_sources(struct pt_authorizer *a, const cJSON *v, const char *path,
                          struct pt_errors *errs)
{
    const cJSON *it;
    size_t n;

    if (v == NULL) {
        pt_errors_add(errs, path, "missing required key \"identitySource\"");
        return;
    }
    if (cJSON_IsString(v)) {
        a->sources = pt_xcalloc(1, sizeof(*a->sources));
        if (pt_config_identity_source(v->valuestring, &a->sources[0]) != 0)
            goto bad;
        a->nsources = 1;
        return;
    }
    if (!cJSON_IsArray(v) || (n = (size_t)cJSON_GetArraySize(v)) == 0)
        goto bad;
    a->sources = pt_xcalloc(n, sizeof(*a->sources));
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) ||
            pt_config_identity_source(it->valuestring, &a->sources[a->nsources]) != 0)
            goto bad;
        a->nsources++;
    }
    return;
bad:
    pt_errors_add(errs, path,
                  "expected $request.header.NAME, $request.querystring.NAME, $stageVariables.NAME, "
                  "$context.routeKey, $context.stage or $context.identity.sourceIp (or an array of "
                  "them)");
}

static char **string_array(const cJSON *v, size_t *n, const char *path, struct pt_errors *errs)
{
    const cJSON *it;
    char **out;

    *n = 0;
    if (v == NULL)
        return NULL;
    if (!cJSON_IsArray(v)) {
        pt_errors_add(errs, path, "expected an array of strings");
        return NULL;
    }
    out = pt_xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*out));
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) || it->valuestring[0] == '\0') {
            pt_errors_add(errs, path, "expected an array of non-empty strings");
            continue;
        }
        out[(*n)++] = pt_xstrdup(it->valuestring);
    }
    return out;
}

static void free_strings(char **s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

/* ---- Authorizers ---- */

struct authz_raw {
    int type;
    char *issuer;
    char *jwks;
    char *secret;
    char *integration;
    long long ttl_s;
    bool simple;
};

static const char *const authz_types[] = {"JWT", "REQUEST", NULL};

#define AR(member) offsetof(struct authz_raw, member)
static const struct pt_conf_field jwt_fields[] = {
    {"type", PT_CONF_ENUM, AR(type), .enum_values = authz_types, .required = true},
    {"identitySource", PT_CONF_ANY},
    {"issuer", PT_CONF_STR, AR(issuer)},
    {"audience", PT_CONF_ANY},
    {"jwks", PT_CONF_STR, AR(jwks)},
    {"secret", PT_CONF_STR, AR(secret)},
    {NULL},
};

static const struct pt_conf_field request_fields[] = {
    {"type", PT_CONF_ENUM, AR(type), .enum_values = authz_types, .required = true},
    {"identitySource", PT_CONF_ANY},
    {"integration", PT_CONF_STR, AR(integration), .required = true},
    {"resultTtlSeconds", PT_CONF_INT, AR(ttl_s), 0, 3600, 300},
    {"simpleResponses", PT_CONF_BOOL, AR(simple)},
    {NULL},
};
#undef AR

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL) {
        snprintf(err, errlen, "cannot read \"%s\"", path);
        return NULL;
    }
    buf = pt_xmalloc(JWKS_MAX_BYTES + 1);
    n = fread(buf, 1, JWKS_MAX_BYTES + 1, f);
    fclose(f);
    if (n > JWKS_MAX_BYTES) {
        snprintf(err, errlen, "\"%s\" is larger than %d bytes", path, JWKS_MAX_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void parse_jwt(struct pt_authorizer *a, const struct authz_raw *raw, const cJSON *obj,
                      const char *path, const char *dir, struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN], err[PT_CONFIG_PATH_LEN + 64];

    pt_conf_path_key(kpath, sizeof(kpath), path, "audience");
    a->audience =
        string_array(cJSON_GetObjectItemCaseSensitive(obj, "audience"), &a->naudience, kpath, errs);
    a->issuer = raw->issuer ? pt_xstrdup(raw->issuer) : NULL;
    a->secret = raw->secret ? pt_xstrdup(raw->secret) : NULL;
    pt_conf_path_key(kpath, sizeof(kpath), path, "jwks");
    if (raw->jwks == NULL && raw->secret == NULL) {
        pt_errors_add(errs, path,
                      "a JWT authorizer needs \"jwks\" (RS256, PS256, ES256) or "
                      "\"secret\" (HS256)");
    } else if (raw->jwks != NULL &&
               (strncmp(raw->jwks, "http://", 7) == 0 || strncmp(raw->jwks, "https://", 8) == 0)) {
        a->jwks_url = pt_xstrdup(raw->jwks);
    } else if (raw->jwks != NULL) {
        char *file = raw->jwks[0] == '/' ? pt_xstrdup(raw->jwks) : NULL;

        if (file == NULL) {
            file = pt_xmalloc(strlen(dir) + strlen(raw->jwks) + 2);
            sprintf(file, "%s/%s", dir, raw->jwks);
        }
        a->jwks_text = read_file(file, err, sizeof(err));
        if (a->jwks_text == NULL) {
            pt_errors_add(errs, kpath, "%s", err);
        } else {
            const char *why = NULL;

            if (pt_jwks_parse(a->jwks_text, strlen(a->jwks_text), &a->jwks, &why) != 0)
                pt_errors_add(errs, kpath, "\"%s\" is not a usable JWKS: %s", file,
                              why ? why : "no keys");
        }
        free(file);
    }
    /* As AWS requires: without them iss and aud would go unchecked. */
    if (raw->issuer == NULL || raw->issuer[0] == '\0')
        pt_errors_add(errs, path, "a JWT authorizer needs an \"issuer\"");
    if (a->naudience == 0)
        pt_errors_add(errs, path, "a JWT authorizer needs an \"audience\" with at least one entry");
    if (raw->secret != NULL && strlen(raw->secret) < 32) {
        pt_conf_path_key(kpath, sizeof(kpath), path, "secret");
        pt_errors_add(errs, kpath, "an HS256 secret must be at least 32 bytes");
    }
}

static struct pt_integration *integration_named(struct pt_api *api, const char *name)
{
    size_t i;

    for (i = 0; i < api->nintegrations; i++)
        if (strcmp(api->integrations[i].name, name) == 0)
            return &api->integrations[i];
    return NULL;
}

static void parse_authorizer(struct pt_api *api, struct pt_authorizer *a, const cJSON *obj,
                             const char *path, const char *dir, struct pt_errors *errs)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    bool is_request = cJSON_IsString(type) && strcmp(type->valuestring, "REQUEST") == 0;
    char kpath[PT_CONFIG_PATH_LEN];
    struct authz_raw raw = {0};

    pt_conf_walk(obj, path, is_request ? request_fields : jwt_fields, &raw, NULL, errs);
    a->type = raw.type == 1 ? PT_AUTHZ_REQUEST : PT_AUTHZ_JWT;
    pt_conf_path_key(kpath, sizeof(kpath), path, "identitySource");
    if (cJSON_IsObject(obj))
        parse_sources(a, cJSON_GetObjectItemCaseSensitive(obj, "identitySource"), kpath, errs);
    if (a->type == PT_AUTHZ_JWT) {
        parse_jwt(a, &raw, obj, path, dir, errs);
    } else if (raw.integration != NULL) {
        a->ttl_s = raw.ttl_s;
        a->simple_responses = raw.simple;
        a->integration = integration_named(api, raw.integration);
        pt_conf_path_key(kpath, sizeof(kpath), path, "integration");
        if (a->integration == NULL)
            pt_errors_add(errs, kpath, "no integration named \"%s\"", raw.integration);
        else if (a->integration->backend != NULL && !a->integration->backend->authorizes)
            pt_errors_add(errs, kpath,
                          "a %s integration cannot be an authorizer (use AWS_PROXY "
                          "or HTTP_PROXY)",
                          a->integration->backend->type);
    }
    pt_conf_release(is_request ? request_fields : jwt_fields, &raw);
}

void pt_config_auth_parse_api(struct pt_api *api, const cJSON *obj, const char *apath,
                              const char *dir, struct pt_errors *errs)
{
    const cJSON *authz = cJSON_GetObjectItemCaseSensitive(obj, "authorizers"), *it;
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(obj, "apiKeySelectionExpression");
    char path[PT_CONFIG_PATH_LEN], ipath[PT_CONFIG_PATH_LEN];

    if (sel == NULL) {
        api->api_key_source.kind = PT_IDS_HEADER;
        api->api_key_source.name = pt_xstrdup("x-api-key");
    } else if (cJSON_IsString(sel) &&
               strcmp(sel->valuestring, "$context.authorizer.usageIdentifierKey") == 0) {
        api->api_key_source.kind = PT_IDS_CONTEXT;
        api->api_key_source.name = pt_xstrdup("authorizer.usageIdentifierKey");
    } else if (!cJSON_IsString(sel) || strncmp(sel->valuestring, "$request.header.", 16) != 0 ||
               pt_config_identity_source(sel->valuestring, &api->api_key_source) != 0) {
        pt_conf_path_key(path, sizeof(path), apath, "apiKeySelectionExpression");
        pt_errors_add(errs, path,
                      "expected $request.header.NAME or $context.authorizer.usageIdentifierKey");
    }
    if (authz == NULL)
        return;
    pt_conf_path_key(path, sizeof(path), apath, "authorizers");
    if (!cJSON_IsObject(authz)) {
        pt_errors_add(errs, path, "expected an object of authorizers by name");
        return;
    }
    api->authorizers = pt_xcalloc((size_t)cJSON_GetArraySize(authz) + 1, sizeof(*api->authorizers));
    cJSON_ArrayForEach(it, authz)
    {
        struct pt_authorizer *a = &api->authorizers[api->nauthorizers++];

        a->name = pt_xstrdup(it->string);
        pt_conf_path_key(ipath, sizeof(ipath), path, a->name);
        if (strcmp(a->name, "AWS_IAM") == 0)
            pt_errors_add(errs, ipath, "AWS_IAM is built in: routes name it directly");
        parse_authorizer(api, a, it, ipath, dir, errs);
    }
}

/* ---- Routes ---- */

void pt_config_auth_parse_route(struct pt_api *api, struct pt_route *r, const cJSON *obj,
                                const char *rpath, struct pt_errors *errs)
{
    const cJSON *authz = cJSON_GetObjectItemCaseSensitive(obj, "authorizer");
    const cJSON *scopes = cJSON_GetObjectItemCaseSensitive(obj, "authorizationScopes");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, "apiKeyRequired");
    char kpath[PT_CONFIG_PATH_LEN];
    size_t i;

    if (key != NULL) {
        pt_conf_path_key(kpath, sizeof(kpath), rpath, "apiKeyRequired");
        if (!cJSON_IsBool(key))
            pt_errors_add(errs, kpath, "expected true or false");
        r->api_key_required = cJSON_IsTrue(key);
    }
    pt_conf_path_key(kpath, sizeof(kpath), rpath, "authorizationScopes");
    r->scopes = string_array(scopes, &r->nscopes, kpath, errs);
    if (authz == NULL) {
        if (r->nscopes > 0)
            pt_errors_add(errs, kpath, "scopes need a JWT authorizer on the route");
        return;
    }
    pt_conf_path_key(kpath, sizeof(kpath), rpath, "authorizer");
    if (!cJSON_IsString(authz)) {
        pt_errors_add(errs, kpath, "expected the name of an authorizer, or \"AWS_IAM\"");
        return;
    }
    if (api->protocol == PT_PROTO_WEBSOCKET && strcmp(r->key, "$connect") != 0)
        pt_errors_add(errs, kpath, "on WebSocket APIs only $connect has an authorizer");
    if (strcmp(authz->valuestring, "AWS_IAM") == 0) {
        r->iam = true;
        return;
    }
    for (i = 0; i < api->nauthorizers; i++)
        if (strcmp(api->authorizers[i].name, authz->valuestring) == 0)
            r->authorizer = &api->authorizers[i];
    if (r->authorizer == NULL)
        pt_errors_add(errs, kpath, "no authorizer named \"%s\"", authz->valuestring);
    else if (r->nscopes > 0 && r->authorizer->type != PT_AUTHZ_JWT)
        pt_errors_add(errs, rpath, "authorizationScopes need a JWT authorizer");
}

void pt_config_auth_cleanup_route(struct pt_route *r)
{
    free_strings(r->scopes, r->nscopes);
}

void pt_config_auth_cleanup_api(struct pt_api *api)
{
    size_t i, j;

    for (i = 0; i < api->nauthorizers; i++) {
        struct pt_authorizer *a = &api->authorizers[i];

        for (j = 0; j < a->nsources; j++)
            free(a->sources[j].name);
        free(a->sources);
        free(a->name);
        free(a->issuer);
        free_strings(a->audience, a->naudience);
        free(a->jwks_url);
        free(a->jwks_text);
        pt_jwks_unref(a->jwks);
        free(a->secret);
    }
    free(api->authorizers);
    free(api->api_key_source.name);
}

/* ---- API keys ---- */

struct apikey_raw {
    char *id, *name, *value;
    bool enabled;
};

#define AK(member) offsetof(struct pt_apikey, member)
static const struct pt_conf_field apikey_fields[] = {
    {"id", PT_CONF_STR, AK(id), .required = true},
    {"name", PT_CONF_STR, AK(name)},
    {"value", PT_CONF_STR, AK(value), .required = true},
    {"enabled", PT_CONF_BOOL, AK(enabled), .def = 1},
    {NULL},
};
#undef AK

void pt_config_auth_parse_apikeys(struct pt_config *c, const cJSON *arr, struct pt_errors *errs)
{
    char ipath[PT_CONFIG_PATH_LEN], kpath[PT_CONFIG_PATH_LEN];
    const cJSON *it;
    size_t i, j;

    if (arr == NULL)
        return;
    if (!cJSON_IsArray(arr)) {
        pt_errors_add(errs, "apiKeys", "expected an array");
        return;
    }
    c->apikeys = pt_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*c->apikeys));
    cJSON_ArrayForEach(it, arr)
    {
        struct pt_apikey *k = &c->apikeys[c->napikeys];

        pt_conf_path_index(ipath, sizeof(ipath), "apiKeys", c->napikeys++);
        pt_conf_walk(it, ipath, apikey_fields, k, NULL, errs);
        pt_conf_path_key(kpath, sizeof(kpath), ipath, "value");
        if (k->value != NULL && (strlen(k->value) < 20 || strlen(k->value) > 128))
            pt_errors_add(errs, kpath, "an API key value has 20 to 128 characters");
    }
    for (i = 0; i < c->napikeys; i++)
        for (j = 0; j < i; j++) {
            pt_conf_path_index(ipath, sizeof(ipath), "apiKeys", i);
            if (c->apikeys[i].id && c->apikeys[j].id &&
                strcmp(c->apikeys[i].id, c->apikeys[j].id) == 0)
                pt_errors_add(errs, ipath, "the same id as apiKeys[%zu]", j);
            if (c->apikeys[i].value && c->apikeys[j].value &&
                strcmp(c->apikeys[i].value, c->apikeys[j].value) == 0)
                pt_errors_add(errs, ipath, "the same value as apiKeys[%zu]", j);
        }
}

void pt_config_auth_cleanup_apikeys(struct pt_config *c)
{
    size_t i;

    for (i = 0; i < c->napikeys; i++)
        pt_conf_release(apikey_fields, &c->apikeys[i]);
    free(c->apikeys);
}
