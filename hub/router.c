/* API and stage selection by path (see router.h). A handful of APIs is the norm, so a scan that
 * keeps the longest matching base path is both simple and fast. */
#include "router.h"

#include <string.h>

#include "config.h"
#include "portico/err.h"

/* The rest of <path> after base path <base>, or NULL when <base> is not a prefix of it at a
 * segment boundary. */
static const char *after_base(const char *path, const char *base)
{
    size_t n = strlen(base);

    if (strcmp(base, "/") == 0)
        return path;
    if (strncmp(path, base, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return NULL;
    return path + n;
}

static const struct pt_stage *stage_by_segment(const struct pt_api *api, const char *rest,
                                               const char **after)
{
    const char *seg, *end;
    size_t i, n;

    if (rest[0] == '/') {
        seg = rest + 1;
        end = strchr(seg, '/');
        n = end ? (size_t)(end - seg) : strlen(seg);
        for (i = 0; i < api->nstages; i++)
            if (strlen(api->stages[i].name) == n && memcmp(api->stages[i].name, seg, n) == 0 &&
                strcmp(api->stages[i].name, "$default") != 0) {
                *after = seg + n;
                return &api->stages[i];
            }
    }
    for (i = 0; i < api->nstages; i++)
        if (strcmp(api->stages[i].name, "$default") == 0) {
            *after = rest;
            return &api->stages[i];
        }
    return NULL;
}

int pt_router_match(const struct pt_config *cfg, const char *path, struct pt_route_match *m)
{
    size_t i, best_len = 0;
    bool found = false;

    for (i = 0; i < cfg->napis; i++) {
        const struct pt_api *api = &cfg->apis[i];
        const struct pt_stage *stage;
        const char *rest = after_base(path, api->base_path), *after;
        size_t len = strlen(api->base_path);

        if (rest == NULL || (found && len <= best_len))
            continue;
        stage = stage_by_segment(api, rest, &after);
        if (stage == NULL)
            continue;
        m->api = api;
        m->stage = stage;
        m->rest = after;
        best_len = len;
        found = true;
    }
    return found ? 0 : PT_ENOTFOUND;
}
