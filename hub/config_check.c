/* Config checks that span parts of the file, run once everything is parsed: API names are
 * unique, no two APIs answer the same URL (basePath and stage), and managementAuth NONE only
 * where no listener is reachable from outside. Pure. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "portico/conf.h"
#include "portico/xalloc.h"

/* ---- managementAuth ---- */

static bool is_loopback(const struct pt_listen *l)
{
    unsigned char a[16];

    if (l->unix_socket != NULL)
        return true;
    if (l->host == NULL)
        return false;
    if (strcmp(l->host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, l->host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, l->host, a) == 1) {
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        static const unsigned char one[16] = {[15] = 1};

        return memcmp(a, one, 16) == 0 || (memcmp(a, v4mapped, 12) == 0 && a[12] == 127);
    }
    return false;
}

static void check_management_auth(const struct pt_config *c, size_t a, struct pt_errors *errs)
{
    const struct pt_api *api = &c->apis[a];
    char kpath[PT_CONFIG_PATH_LEN];
    size_t i;

    if (api->management_auth != PT_MGMT_NONE)
        return;
    for (i = 0; i < c->nlistens; i++) {
        if (is_loopback(&c->listens[i]) || c->listens[i].host == NULL)
            continue;
        pt_conf_path_index(kpath, sizeof(kpath), "apis", a);
        pt_conf_path_key(kpath, sizeof(kpath), kpath, "managementAuth");
        pt_errors_add(errs, kpath,
                      "NONE is allowed only when every listener is on loopback or a unix socket, "
                      "but listen[%zu] is on \"%s\": anyone who reaches it could post to and "
                      "close any connection",
                      i, c->listens[i].host);
        return;
    }
}

/* ---- Across APIs ---- */

struct api_key {
    const char *a, *b; /* name, or basePath and stage */
    size_t api;
};

static int cmp_api_key(const void *x, const void *y)
{
    const struct api_key *p = x, *q = y;
    int r = strcmp(p->a, q->a);

    if (r == 0 && p->b != NULL)
        r = strcmp(p->b, q->b);
    if (r != 0)
        return r;
    return p->api < q->api ? -1 : p->api > q->api;
}

static void check_names(const struct pt_config *c, struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN];
    struct api_key *keys;
    size_t i, n = 0, first = 0;

    keys = pt_xcalloc(c->napis + 1, sizeof(*keys));
    for (i = 0; i < c->napis; i++)
        if (c->apis[i].name != NULL)
            keys[n++] = (struct api_key){c->apis[i].name, NULL, i};
    qsort(keys, n, sizeof(*keys), cmp_api_key);
    for (i = 1; i < n; i++) {
        if (strcmp(keys[i].a, keys[i - 1].a) != 0) {
            first = i;
            continue;
        }
        pt_conf_path_index(kpath, sizeof(kpath), "apis", keys[i].api);
        pt_conf_path_key(kpath, sizeof(kpath), kpath, "name");
        pt_errors_add(errs, kpath, "duplicate api name \"%s\" (also apis[%zu])", keys[i].a,
                      keys[first].api);
    }
    free(keys);
}

/* Two APIs may share a basePath only with different stage names: the URL names the stage. */
static void check_urls(const struct pt_config *c, struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN];
    struct api_key *keys;
    size_t i, j, n = 0;

    for (i = 0; i < c->napis; i++)
        n += c->apis[i].nstages;
    keys = pt_xcalloc(n + 1, sizeof(*keys));
    n = 0;
    for (i = 0; i < c->napis; i++) {
        if (c->apis[i].base_path == NULL)
            continue;
        for (j = 0; j < c->apis[i].nstages; j++)
            keys[n++] = (struct api_key){c->apis[i].base_path, c->apis[i].stages[j].name, i};
    }
    qsort(keys, n, sizeof(*keys), cmp_api_key);
    for (i = 1; i < n; i++) {
        if (strcmp(keys[i].a, keys[i - 1].a) != 0 || strcmp(keys[i].b, keys[i - 1].b) != 0 ||
            keys[i].api == keys[i - 1].api)
            continue;
        pt_conf_path_index(kpath, sizeof(kpath), "apis", keys[i].api);
        pt_conf_path_key(kpath, sizeof(kpath), kpath, "stages");
        pt_conf_path_key(kpath, sizeof(kpath), kpath, keys[i].b);
        pt_errors_add(errs, kpath,
                      "apis[%zu] has the same basePath \"%s\" and stage: the URL would be "
                      "ambiguous",
                      keys[i - 1].api, keys[i].a);
    }
    free(keys);
}

void pt_config_check_apis(const struct pt_config *c, struct pt_errors *errs)
{
    size_t i;

    for (i = 0; i < c->napis; i++)
        check_management_auth(c, i, errs);
    check_names(c, errs);
    check_urls(c, errs);
}
