/* SigV4 authentication of an HTTP request against the config's credentials (SPEC sections 3
 * and 6): one implementation for the management API and for AWS_IAM routes. */
#include "authn.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awserr.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "portico/xalloc.h"
#include "worker.h"

#define SIGV4_SKEW_S 900 /* the 15-minute window */

static const char *lookup_secret(void *ud, const char *access_key_id)
{
    return pt_config_secret(ud, access_key_id);
}

/* Splits a raw query string into decoded name/value pairs stored in <block>. */
static size_t parse_query(const struct pt_slice *q, struct pt_kv *out, size_t max, char *block)
{
    const char *p = q->p, *end = q->p + q->len;
    size_t n = 0, off = 0;

    while (p < end && n < max) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *name_end = eq ? eq : stop;
        int len;

        if (stop > p) {
            len = pt_http1_percent_decode(p, (size_t)(name_end - p), block + off, false);
            out[n].name = block + off;
            off += len < 0 ? 1 : (size_t)len + 1;
            if (len < 0)
                block[off - 1] = '\0';
            if (eq != NULL) {
                len = pt_http1_percent_decode(eq + 1, (size_t)(stop - eq - 1), block + off, false);
                out[n].value = block + off;
                off += len < 0 ? 1 : (size_t)len + 1;
                if (len < 0)
                    block[off - 1] = '\0';
            } else {
                out[n].value = block + off;
                block[off++] = '\0';
            }
            n++;
        }
        p = stop + 1;
    }
    return n;
}

enum pt_sigv4_status pt_authn_sigv4(struct pt_http *h, struct pt_sigv4_result *res_out)
{
    struct pt_conn *c = h->conn;
    const struct pt_http1_req *r = &h->req;
    struct pt_kv headers[PT_HTTP1_MAX_HEADERS], query[PT_SIGV4_MAX_PARAMS];
    struct pt_sigv4_verifier v = {"execute-api", SIGV4_SKEW_S, lookup_secret, c->w->cfg};
    struct pt_sigv4_request req = {0};
    struct pt_sigv4_result res;
    char *hblock, *qblock, *method, *path;
    const char *paths[1];
    size_t i, off = 0, total = 0;

    for (i = 0; i < r->nheaders; i++)
        total += r->headers[i].name.len + r->headers[i].value.len + 2;
    hblock = pt_xmalloc(total + 1);
    for (i = 0; i < r->nheaders; i++) {
        headers[i].name = hblock + off;
        memcpy(hblock + off, r->headers[i].name.p, r->headers[i].name.len);
        off += r->headers[i].name.len;
        hblock[off++] = '\0';
        headers[i].value = hblock + off;
        memcpy(hblock + off, r->headers[i].value.p, r->headers[i].value.len);
        off += r->headers[i].value.len;
        hblock[off++] = '\0';
    }
    qblock = pt_xmalloc(r->query.len * 2 + 2 * PT_SIGV4_MAX_PARAMS + 1);
    method = pt_xstrndup(r->method.p, r->method.len);
    path = pt_xstrndup(r->path.p, r->path.len);
    paths[0] = path;
    req.method = method;
    req.paths = paths;
    req.n_paths = 1;
    req.verbatim_path = path;
    req.query = query;
    req.n_query = parse_query(&r->query, query, PT_SIGV4_MAX_PARAMS, qblock);
    req.headers = headers;
    req.n_headers = r->nheaders;
    req.body = h->body.data;
    req.body_len = h->body.len;
    pt_sigv4_verify(&v, &req, (int64_t)time(NULL), &res);
    free(hblock);
    free(qblock);
    free(method);
    free(path);
    if (res_out != NULL)
        *res_out = res;
    return res.status;
}

bool pt_authn_sigv4_ok(struct pt_http *h, struct pt_sigv4_result *res_out)
{
    struct pt_sigv4_result res;

    switch (pt_authn_sigv4(h, &res)) {
    case PT_SIGV4_OK:
        if (res_out != NULL)
            *res_out = res;
        return true;
    case PT_SIGV4_MISSING:
        pt_awserr_respond(h, PT_AWSERR_MISSING_TOKEN, NULL);
        break;
    case PT_SIGV4_MALFORMED:
        pt_awserr_respond(h, PT_AWSERR_INCOMPLETE_SIGNATURE, res.message[0] ? res.message : NULL);
        break;
    case PT_SIGV4_UNKNOWN_KEY:
        pt_awserr_respond(h, PT_AWSERR_UNRECOGNIZED_CLIENT, NULL);
        break;
    default:
        pt_awserr_respond(h, PT_AWSERR_INVALID_SIGNATURE, res.message[0] ? res.message : NULL);
        break;
    }
    return false;
}
