/* Throttles and usage plans in the config (SPEC section 6): the throttle objects of the top
 * level, the stages and the plans, and usagePlans with their keys, quota and API stages, checked
 * against the APIs and keys already parsed. Runs before the loops or on the reload thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "errors.h"
#include "portico/conf.h"
#include "portico/xalloc.h"

#define MAX_RATE  1e9 /* requests per second; far past anything one node serves */
#define MAX_BURST 1000000000LL

/* ---- Throttles ---- */

void pt_config_parse_throttle(const cJSON *obj, const char *path, struct pt_throttle *t,
                              struct pt_errors *errs)
{
    const cJSON *rate, *burst, *it;
    char kpath[PT_CONFIG_PATH_LEN];
    bool ok = true;

    if (!cJSON_IsObject(obj)) {
        pt_conf_expected(obj, "an object {\"rateLimit\": N, \"burstLimit\": N}", path, errs);
        return;
    }
    cJSON_ArrayForEach(it, obj)
    {
        if (strcmp(it->string, "rateLimit") != 0 && strcmp(it->string, "burstLimit") != 0) {
            pt_conf_path_key(kpath, sizeof(kpath), path, it->string);
            pt_errors_add(errs, kpath, "unknown key");
            ok = false;
        }
    }
    rate = cJSON_GetObjectItemCaseSensitive(obj, "rateLimit");
    burst = cJSON_GetObjectItemCaseSensitive(obj, "burstLimit");
    pt_conf_path_key(kpath, sizeof(kpath), path, "rateLimit");
    if (rate == NULL) {
        pt_errors_add(errs, path, "missing required key \"rateLimit\"");
        ok = false;
    } else if (!cJSON_IsNumber(rate) || !(rate->valuedouble >= 0) || rate->valuedouble > MAX_RATE) {
        pt_conf_expected(rate, "requests per second, 0 to 1e9", kpath, errs);
        ok = false;
    }
    pt_conf_path_key(kpath, sizeof(kpath), path, "burstLimit");
    if (burst == NULL) {
        pt_errors_add(errs, path, "missing required key \"burstLimit\"");
        ok = false;
    } else if (!cJSON_IsNumber(burst) || burst->valuedouble != floor(burst->valuedouble) ||
               burst->valuedouble < 0 || burst->valuedouble > (double)MAX_BURST) {
        pt_conf_expected(burst, "a whole number of requests, 0 to 1000000000", kpath, errs);
        ok = false;
    }
    if (!ok)
        return;
    t->on = true;
    t->rate.per_second = rate->valuedouble;
    t->rate.burst = (long long)burst->valuedouble;
}

/* ---- Usage plans ---- */

static const char *const periods[] = {"DAY", "WEEK", "MONTH", NULL};

struct quota_raw {
    long long limit;
    int period;
};

static const struct pt_conf_field quota_fields[] = {
    {"limit", PT_CONF_INT, offsetof(struct quota_raw, limit), 0, 1000000000000LL, 0,
     .required = true},
    {"period", PT_CONF_ENUM, offsetof(struct quota_raw, period), .enum_values = periods,
     .required = true},
    {NULL},
};

struct plan_raw {
    char *name;
};

static const struct pt_conf_field plan_fields[] = {
    {"name", PT_CONF_STR, offsetof(struct plan_raw, name), .required = true},
    {"apiKeys", PT_CONF_ANY},
    {"throttle", PT_CONF_ANY},
    {"quota", PT_CONF_ANY},
    {"apiStages", PT_CONF_ANY},
    {NULL},
};

struct stage_raw {
    char *api;
    char *stage;
};

static const struct pt_conf_field api_stage_fields[] = {
    {"api", PT_CONF_STR, offsetof(struct stage_raw, api), .required = true},
    {"stage", PT_CONF_STR, offsetof(struct stage_raw, stage), .required = true},
    {"throttle", PT_CONF_ANY},
    {NULL},
};

static const struct pt_api *find_api(const struct pt_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->napis; i++)
        if (c->apis[i].name != NULL && strcmp(c->apis[i].name, name) == 0)
            return &c->apis[i];
    return NULL;
}

static void parse_plan_keys(struct pt_config *c, struct pt_plan *p, const cJSON *arr,
                            const char *ppath, struct pt_errors *errs)
{
    char path[PT_CONFIG_PATH_LEN], ipath[PT_CONFIG_PATH_LEN];
    const cJSON *it;
    size_t i = 0, j, k;

    pt_conf_path_key(path, sizeof(path), ppath, "apiKeys");
    if (arr == NULL)
        return;
    if (!cJSON_IsArray(arr)) {
        pt_conf_expected(arr, "an array of apiKeys ids", path, errs);
        return;
    }
    p->keys = pt_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*p->keys));
    cJSON_ArrayForEach(it, arr)
    {
        const struct pt_apikey *key = NULL;

        pt_conf_path_index(ipath, sizeof(ipath), path, i++);
        if (!cJSON_IsString(it)) {
            pt_conf_expected(it, "the id of one of apiKeys", ipath, errs);
            continue;
        }
        for (k = 0; k < c->napikeys; k++)
            if (c->apikeys[k].id != NULL && strcmp(c->apikeys[k].id, it->valuestring) == 0)
                key = &c->apikeys[k];
        if (key == NULL) {
            pt_errors_add(errs, ipath, "no API key has the id \"%s\"", it->valuestring);
            continue;
        }
        for (j = 0; j < p->nkeys; j++)
            if (p->keys[j].key == key)
                break;
        if (j < p->nkeys) {
            pt_errors_add(errs, ipath, "\"%s\" is listed twice", it->valuestring);
            continue;
        }
        p->keys[p->nkeys++].key = key;
    }
}

static void parse_route_limits(struct pt_plan *p, const struct pt_api *api,
                               const struct pt_stage *stage, const cJSON *obj, const char *path,
                               struct pt_errors *errs)
{
    char rpath[PT_CONFIG_PATH_LEN];
    const cJSON *it;

    if (!cJSON_IsObject(obj)) {
        pt_conf_expected(obj, "an object of throttles by route key", path, errs);
        return;
    }
    cJSON_ArrayForEach(it, obj)
    {
        struct pt_throttle t = {0};

        pt_conf_path_key(rpath, sizeof(rpath), path, it->string);
        if (pt_api_route(api, it->string) == NULL) {
            pt_errors_add(errs, rpath, "the API \"%s\" has no route \"%s\"", api->name, it->string);
            continue;
        }
        pt_config_parse_throttle(it, rpath, &t, errs);
        if (!t.on)
            continue;
        p->routes = pt_xrealloc(p->routes, (p->nroutes + 1) * sizeof(*p->routes));
        p->routes[p->nroutes++] =
            (struct pt_plan_route){api, stage, pt_xstrdup(it->string), t.rate};
    }
}

static void parse_api_stages(struct pt_config *c, struct pt_plan *p, const cJSON *arr,
                             const char *ppath, struct pt_errors *errs)
{
    char path[PT_CONFIG_PATH_LEN], ipath[PT_CONFIG_PATH_LEN], kpath[PT_CONFIG_PATH_LEN];
    const cJSON *it;
    size_t i = 0, j;

    pt_conf_path_key(path, sizeof(path), ppath, "apiStages");
    if (arr == NULL)
        return;
    if (!cJSON_IsArray(arr)) {
        pt_conf_expected(arr, "an array of {\"api\", \"stage\"}", path, errs);
        return;
    }
    p->stages = pt_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*p->stages));
    cJSON_ArrayForEach(it, arr)
    {
        struct stage_raw raw = {0};
        const struct pt_api *api;
        const struct pt_stage *stage;

        pt_conf_path_index(ipath, sizeof(ipath), path, i++);
        if (pt_conf_walk(it, ipath, api_stage_fields, &raw, NULL, errs) > 0 || raw.api == NULL ||
            raw.stage == NULL)
            goto next;
        api = find_api(c, raw.api);
        stage = api != NULL ? pt_api_stage(api, raw.stage) : NULL;
        if (api == NULL) {
            pt_conf_path_key(kpath, sizeof(kpath), ipath, "api");
            pt_errors_add(errs, kpath, "no API is named \"%s\"", raw.api);
            goto next;
        }
        if (stage == NULL) {
            pt_conf_path_key(kpath, sizeof(kpath), ipath, "stage");
            pt_errors_add(errs, kpath, "the API \"%s\" has no stage \"%s\"", raw.api, raw.stage);
            goto next;
        }
        for (j = 0; j < p->nstages; j++)
            if (p->stages[j].stage == stage)
                break;
        if (j < p->nstages) {
            pt_errors_add(errs, ipath, "%s/%s is listed twice", raw.api, raw.stage);
            goto next;
        }
        p->stages[p->nstages++] = (struct pt_plan_stage){api, stage};
        api->stages[stage - api->stages].planned = true;
        if (cJSON_GetObjectItemCaseSensitive(it, "throttle") != NULL) {
            pt_conf_path_key(kpath, sizeof(kpath), ipath, "throttle");
            parse_route_limits(p, api, stage, cJSON_GetObjectItemCaseSensitive(it, "throttle"),
                               kpath, errs);
        }
    next:
        pt_conf_release(api_stage_fields, &raw);
    }
}

static void parse_plan(struct pt_config *c, struct pt_plan *p, const cJSON *obj, const char *ppath,
                       struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN];
    struct plan_raw raw = {0};
    struct quota_raw quota = {0};
    const cJSON *v;

    if (pt_conf_walk(obj, ppath, plan_fields, &raw, NULL, errs) > 0 && !cJSON_IsObject(obj))
        return;
    p->name = raw.name;
    parse_plan_keys(c, p, cJSON_GetObjectItemCaseSensitive(obj, "apiKeys"), ppath, errs);
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "throttle")) != NULL) {
        struct pt_throttle t = {0};

        pt_conf_path_key(kpath, sizeof(kpath), ppath, "throttle");
        pt_config_parse_throttle(v, kpath, &t, errs);
        p->throttled = t.on;
        p->rate = t.rate;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "quota")) != NULL) {
        pt_conf_path_key(kpath, sizeof(kpath), ppath, "quota");
        if (pt_conf_walk(v, kpath, quota_fields, &quota, NULL, errs) == 0) {
            p->quota = true;
            p->quota_limit = quota.limit;
            p->quota_period = (enum pt_quota_period)quota.period;
        }
    }
    parse_api_stages(c, p, cJSON_GetObjectItemCaseSensitive(obj, "apiStages"), ppath, errs);
}

/* AWS allows a key in several plans, but only one plan per API stage: otherwise which plan's
 * limits apply would be a guess. */
static void check_one_plan_per_stage(const struct pt_config *c, struct pt_errors *errs)
{
    char ppath[PT_CONFIG_PATH_LEN];
    size_t a, b, i, j, k, l;

    for (a = 0; a < c->nplans; a++)
        for (b = 0; b < a; b++)
            for (i = 0; i < c->plans[a].nkeys; i++)
                for (j = 0; j < c->plans[b].nkeys; j++) {
                    if (c->plans[a].keys[i].key != c->plans[b].keys[j].key)
                        continue;
                    for (k = 0; k < c->plans[a].nstages; k++)
                        for (l = 0; l < c->plans[b].nstages; l++)
                            if (c->plans[a].stages[k].stage == c->plans[b].stages[l].stage) {
                                pt_conf_path_index(ppath, sizeof(ppath), "usagePlans", a);
                                pt_errors_add(errs, ppath,
                                              "the key \"%s\" is also in usagePlans[%zu] for "
                                              "%s/%s: a key has one plan per API stage",
                                              c->plans[a].keys[i].key->id, b,
                                              c->plans[a].stages[k].api->name,
                                              c->plans[a].stages[k].stage->name);
                            }
                }
}

void pt_config_plans_parse(struct pt_config *c, const cJSON *arr, struct pt_errors *errs)
{
    char ppath[PT_CONFIG_PATH_LEN];
    const cJSON *it;
    size_t i = 0, j;

    if (arr == NULL)
        return;
    if (!cJSON_IsArray(arr)) {
        pt_conf_expected(arr, "an array", "usagePlans", errs);
        return;
    }
    c->plans = pt_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*c->plans));
    cJSON_ArrayForEach(it, arr)
    {
        pt_conf_path_index(ppath, sizeof(ppath), "usagePlans", i++);
        parse_plan(c, &c->plans[c->nplans++], it, ppath, errs);
        for (j = 0; j + 1 < c->nplans; j++)
            if (c->plans[j].name != NULL && c->plans[c->nplans - 1].name != NULL &&
                strcmp(c->plans[j].name, c->plans[c->nplans - 1].name) == 0)
                pt_errors_add(errs, ppath, "the same name as usagePlans[%zu]", j);
    }
    check_one_plan_per_stage(c, errs);
}

void pt_config_plans_cleanup(struct pt_config *c)
{
    size_t i, j;

    for (i = 0; i < c->nplans; i++) {
        struct pt_plan *p = &c->plans[i];

        free(p->name);
        for (j = 0; j < p->nkeys; j++)
            free(p->keys[j].route_limits);
        free(p->keys);
        free(p->stages);
        for (j = 0; j < p->nroutes; j++)
            free(p->routes[j].route_key);
        free(p->routes);
    }
    free(c->plans);
}

/* ---- Lookups ---- */

const struct pt_plan *pt_config_plan_for(const struct pt_config *c, const struct pt_api *api,
                                         const struct pt_stage *stage, const char *key_id,
                                         const struct pt_plan_key **pk)
{
    size_t i, j, k;

    for (i = 0; i < c->nplans; i++) {
        const struct pt_plan *p = &c->plans[i];

        for (j = 0; j < p->nstages; j++) {
            if (p->stages[j].stage != stage || p->stages[j].api != api)
                continue;
            for (k = 0; k < p->nkeys; k++) {
                if (strcmp(p->keys[k].key->id, key_id) == 0) {
                    *pk = &p->keys[k];
                    return p;
                }
            }
        }
    }
    return NULL;
}

const struct pt_plan *pt_config_plan(const struct pt_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nplans; i++)
        if (c->plans[i].name != NULL && strcmp(c->plans[i].name, name) == 0)
            return &c->plans[i];
    return NULL;
}
