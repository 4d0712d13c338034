/* CORS (see cors.h). */
#include "cors.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "errors.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/xalloc.h"

struct cors_raw {
    long long max_age;
    bool credentials;
};

static const struct pt_conf_field fields[] = {
    {"allowOrigins", PT_CONF_ANY},
    {"allowMethods", PT_CONF_ANY},
    {"allowHeaders", PT_CONF_ANY},
    {"exposeHeaders", PT_CONF_ANY},
    {"maxAge", PT_CONF_INT, offsetof(struct cors_raw, max_age), -1, 86400, -1},
    {"allowCredentials", PT_CONF_BOOL, offsetof(struct cors_raw, credentials)},
    {NULL},
};

/* Reads an array of strings into a comma-joined string (NULL when absent), applying <fold>. */
static char *join_list(const cJSON *obj, const char *key, const char *path, int (*fold)(int),
                       char ***items, size_t *nitems, struct pt_errors *errs)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key), *it;
    char kpath[PT_CONFIG_PATH_LEN];
    struct pt_buf b;
    char *p;

    if (arr == NULL)
        return NULL;
    pt_conf_path_key(kpath, sizeof(kpath), path, key);
    if (!cJSON_IsArray(arr)) {
        pt_errors_add(errs, kpath, "expected an array of strings");
        return NULL;
    }
    pt_buf_init(&b);
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) || it->valuestring[0] == '\0' ||
            strpbrk(it->valuestring, "\r\n,") != NULL) {
            pt_errors_add(errs, kpath, "expected an array of non-empty strings without commas");
            pt_buf_cleanup(&b);
            return NULL;
        }
        if (items != NULL) {
            *items = pt_xrealloc(*items, (*nitems + 1) * sizeof(**items));
            (*items)[(*nitems)++] = pt_xstrdup(it->valuestring);
        }
        if (b.len > 0)
            pt_buf_putc(&b, ',');
        pt_buf_puts(&b, it->valuestring);
    }
    if (b.data == NULL)
        return NULL;
    if (fold != NULL)
        for (p = b.data; *p != '\0'; p++)
            *p = (char)fold((unsigned char)*p);
    return pt_buf_take(&b, NULL);
}

struct pt_cors *pt_cors_parse(const cJSON *obj, const char *path, struct pt_errors *errs)
{
    struct pt_cors *c;
    struct cors_raw raw;
    size_t before = errs->count;
    char *origins;

    if (pt_conf_walk(obj, path, fields, &raw, NULL, errs) > 0)
        return NULL;
    c = pt_xcalloc(1, sizeof(*c));
    origins = join_list(obj, "allowOrigins", path, NULL, &c->origins, &c->norigins, errs);
    free(origins);
    c->methods = join_list(obj, "allowMethods", path, toupper, NULL, NULL, errs);
    c->headers = join_list(obj, "allowHeaders", path, tolower, NULL, NULL, errs);
    c->expose_headers = join_list(obj, "exposeHeaders", path, NULL, NULL, NULL, errs);
    if (raw.max_age >= 0)
        snprintf(c->max_age, sizeof(c->max_age), "%lld", raw.max_age);
    c->credentials = raw.credentials;
    if (errs->count > before) {
        pt_cors_free(c);
        return NULL;
    }
    return c;
}

void pt_cors_free(struct pt_cors *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->norigins; i++)
        free(c->origins[i]);
    free(c->origins);
    free(c->methods);
    free(c->headers);
    free(c->expose_headers);
    free(c);
}

bool pt_cors_is_preflight(const char *method, const char *origin, const char *request_method)
{
    return strcmp(method, "OPTIONS") == 0 && origin != NULL && request_method != NULL;
}

/* The Access-Control-Allow-Origin value for <origin>, or NULL when it is not allowed. */
static const char *allowed_origin(const struct pt_cors *c, const char *origin)
{
    size_t i;

    if (origin == NULL)
        return NULL;
    for (i = 0; i < c->norigins; i++) {
        if (strcmp(c->origins[i], "*") == 0)
            return c->credentials ? origin : "*"; /* "*" may not go with credentials */
        if (strcasecmp(c->origins[i], origin) == 0)
            return origin;
    }
    return NULL;
}

size_t pt_cors_preflight(const struct pt_cors *c, const char *origin, struct pt_kv *out)
{
    const char *allow = allowed_origin(c, origin);
    size_t n = 0;

    if (allow == NULL)
        return 0;
    out[n++] = (struct pt_kv){"Access-Control-Allow-Origin", allow};
    if (c->methods != NULL)
        out[n++] = (struct pt_kv){"Access-Control-Allow-Methods", c->methods};
    if (c->headers != NULL)
        out[n++] = (struct pt_kv){"Access-Control-Allow-Headers", c->headers};
    if (c->max_age[0] != '\0')
        out[n++] = (struct pt_kv){"Access-Control-Max-Age", c->max_age};
    if (c->credentials)
        out[n++] = (struct pt_kv){"Access-Control-Allow-Credentials", "true"};
    return n;
}

size_t pt_cors_response(const struct pt_cors *c, const char *origin, struct pt_kv *out)
{
    const char *allow = allowed_origin(c, origin);
    size_t n = 0;

    if (allow == NULL)
        return 0;
    out[n++] = (struct pt_kv){"Access-Control-Allow-Origin", allow};
    if (c->expose_headers != NULL)
        out[n++] = (struct pt_kv){"Access-Control-Expose-Headers", c->expose_headers};
    if (c->credentials)
        out[n++] = (struct pt_kv){"Access-Control-Allow-Credentials", "true"};
    if (strcmp(allow, "*") != 0)
        out[n++] = (struct pt_kv){"Vary", "Origin"};
    return n;
}

bool pt_cors_is_cors_header(const char *name)
{
    return strncasecmp(name, "Access-Control-", 15) == 0;
}
