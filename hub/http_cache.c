/* The request side of the response cache (see http_cache.h). */
#include "http_cache.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "authn.h"
#include "config.h"
#include "http.h"
#include "http_routes.h"
#include "policy.h"
#include "portico/buf.h"

bool pt_http_cache_applies(const struct pt_http *h, const struct pt_stage *stage,
                           const struct pt_route *route)
{
    return stage->cache.enabled && stage->cache.cache != NULL && route->cache.ttl_s > 0 &&
           pt_http_method_is(h, "GET");
}

/* The unit separator keeps "a" + "bc" apart from "ab" + "c". */
static void part(struct pt_buf *b, const char *p, size_t n)
{
    pt_buf_putc(b, '\x1f');
    pt_buf_append(b, p, n);
}

char *pt_http_cache_key(const struct pt_http *h, const struct pt_route *route,
                        const struct pt_http_route_match *rm)
{
    struct pt_buf b;
    size_t i, j;

    pt_buf_init(&b);
    pt_buf_append(&b, h->req.method.p, h->req.method.len);
    part(&b, h->path, strlen(h->path));
    for (i = 0; i < route->cache.nparams; i++) {
        const struct pt_cache_param *cp = &route->cache.params[i];
        const struct pt_slice *s;
        char *v;

        part(&b, cp->name, strlen(cp->name));
        pt_buf_putc(&b, '=');
        switch (cp->kind) {
        case PT_CACHE_PATH:
            for (j = 0; j < rm->nparams; j++)
                if (strcmp(rm->params[j].name, cp->name) == 0)
                    pt_buf_append(&b, rm->params[j].value, rm->params[j].value_len);
            break;
        case PT_CACHE_QUERY:
            v = pt_http_query_value(h, cp->name);
            if (v != NULL)
                pt_buf_puts(&b, v);
            free(v);
            break;
        case PT_CACHE_HEADER:
            s = pt_http1_header(&h->req, cp->name);
            if (s != NULL)
                pt_buf_append(&b, s->p, s->len);
            break;
        }
    }
    return pt_buf_take(&b, NULL);
}

bool pt_http_cache_wants_refresh(const struct pt_http *h)
{
    const struct pt_slice *cc = pt_http1_header(&h->req, "Cache-Control");
    size_t i;

    if (cc == NULL)
        return false;
    for (i = 0; i + 9 <= cc->len; i++) {
        if (strncasecmp(cc->p + i, "max-age=0", 9) == 0 &&
            (i == 0 || cc->p[i - 1] == ' ' || cc->p[i - 1] == ',') &&
            (i + 9 == cc->len || cc->p[i + 9] == ',' || cc->p[i + 9] == ' '))
            return true;
    }
    return false;
}

static bool has_plan_key(struct pt_http *h, const struct pt_api *api, const struct pt_stage *stage)
{
    const struct pt_identity_source *src = &api->api_key_source;
    const struct pt_slice *s;
    const struct pt_apikey *k;
    const struct pt_plan_key *pk;
    char value[160];

    if (src->kind != PT_IDS_HEADER || (s = pt_http1_header(&h->req, src->name)) == NULL ||
        s->len == 0 || s->len >= sizeof(value))
        return false;
    memcpy(value, s->p, s->len);
    value[s->len] = '\0';
    k = pt_policy_key_by_value(h->cfg, value);
    OPENSSL_cleanse(value, sizeof(value));
    return k != NULL && k->enabled && pt_config_plan_for(h->cfg, api, stage, k->id, &pk) != NULL;
}

bool pt_http_cache_may_invalidate(struct pt_http *h, const struct pt_api *api,
                                  const struct pt_stage *stage)
{
    struct pt_sigv4_result sig;

    if (!stage->cache.require_authorization)
        return true;
    return pt_authn_sigv4(h, &sig) == PT_SIGV4_OK || has_plan_key(h, api, stage);
}
