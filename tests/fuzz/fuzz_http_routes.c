/* libFuzzer target: HTTP API route matching. The first line of the input is a list of route keys
 * separated by '|', added in that order; every further line is "METHOD path" to match. Each
 * answer of the trie is checked against a brute-force reference that scans every accepted route
 * and ranks the matches by the documented priority; any disagreement aborts. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_routes.h"

#define MAX_KEYS     64
#define MAX_REQUESTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the reference found for one route: the kinds of its segments (0 literal, 1 param,
 * 2 greedy), the method rank (0 exact, 1 ANY) and the parameter values. */
struct ref {
    int kinds[PT_HTTP_ROUTES_MAX_SEGMENTS + 1];
    size_t nkinds;
    int method_rank;
    const char *vals[PT_HTTP_ROUTES_MAX_PARAMS];
    size_t val_lens[PT_HTTP_ROUTES_MAX_PARAMS];
    size_t nvals;
};

static char *copy_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Whether route <key> (accepted by add(), not $default) matches the path, ignoring the method;
 * fills the kinds and values of <out>. */
static bool ref_path_matches(const char *key, const char *path, size_t len, struct ref *out)
{
    const char *rp = strchr(key, ' ') + 1; /* the route's path */
    size_t pos = 0, rlen, plen, seglen;
    const char *rseg, *rend, *pseg, *pend;
    bool path_root = len == 0 || (len == 1 && path[0] == '/');
    size_t i;

    out->nkinds = 0;
    out->nvals = 0;
    if (!path_root) {
        if (path[0] != '/')
            return false;
        for (i = 1; i < len; i++) {
            if (path[i] == '/' && path[i - 1] == '/')
                return false;
        }
    }
    if (strcmp(rp, "/") == 0)
        return path_root;
    if (path_root)
        return false;
    /* Both start with '/': walk segment by segment. */
    while (*rp == '/') {
        rseg = rp + 1;
        rend = strchr(rseg, '/');
        if (rend == NULL)
            rend = rseg + strlen(rseg);
        rlen = (size_t)(rend - rseg);
        if (pos >= len)
            return false; /* the path ended before the route did */
        pseg = path + pos + 1;
        pend = memchr(pseg, '/', len - pos - 1);
        if (pend == NULL)
            pend = path + len;
        plen = (size_t)(pend - pseg);
        if (rseg[0] == '{' && rseg[rlen - 2] == '+') {
            seglen = len - pos - 1; /* the rest of the path */
            if (seglen == 0)
                return false;
            out->kinds[out->nkinds++] = 2;
            out->vals[out->nvals] = pseg;
            out->val_lens[out->nvals++] = seglen;
            return true;
        }
        if (rseg[0] == '{') {
            if (plen == 0)
                return false;
            out->kinds[out->nkinds++] = 1;
            out->vals[out->nvals] = pseg;
            out->val_lens[out->nvals++] = plen;
        } else {
            if (plen != rlen || memcmp(pseg, rseg, rlen) != 0)
                return false;
            out->kinds[out->nkinds++] = 0;
        }
        pos = (size_t)(pend - path);
        rp = rend;
    }
    return pos == len;
}

/* <0 when a ranks before b, >0 after, 0 on a tie (which the priority rules never allow). */
static int ref_compare(const struct ref *a, const struct ref *b)
{
    size_t i, n = a->nkinds < b->nkinds ? a->nkinds : b->nkinds;

    for (i = 0; i < n; i++) {
        if (a->kinds[i] != b->kinds[i])
            return a->kinds[i] - b->kinds[i];
    }
    if (a->nkinds != b->nkinds)
        abort(); /* two matching routes of different length with the same prefix of kinds */
    return a->method_rank - b->method_rank;
}

static void check_request(const struct pt_http_routes *r, char **keys, size_t nkeys,
                          bool has_default, const char *method, const char *path, size_t len)
{
    struct pt_http_route_match m;
    struct ref cur, best;
    const char *best_key = NULL, *sp;
    bool path_matched = false;
    const void *v;
    size_t i, mlen;

    memset(&best, 0, sizeof(best)); /* read only once best_key is set; this quiets gcc -O2 */
    for (i = 0; i < nkeys; i++) {
        if (strcmp(keys[i], "$default") == 0 || !ref_path_matches(keys[i], path, len, &cur))
            continue;
        path_matched = true;
        sp = strchr(keys[i], ' ');
        mlen = (size_t)(sp - keys[i]);
        if (mlen == 3 && memcmp(keys[i], "ANY", 3) == 0)
            cur.method_rank = 1;
        else if (strlen(method) == mlen && memcmp(keys[i], method, mlen) == 0)
            cur.method_rank = 0;
        else
            continue;
        if (best_key != NULL && ref_compare(&cur, &best) == 0)
            abort();
        if (best_key == NULL || ref_compare(&cur, &best) < 0) {
            best = cur;
            best_key = keys[i];
        }
    }
    if (best_key == NULL && has_default)
        best_key = "$default";

    v = pt_http_routes_match(r, method, path, len, &m);
    if ((v == NULL) != (best_key == NULL) || (v != NULL && strcmp(v, best_key) != 0))
        abort();
    if (v == NULL || strcmp(v, "$default") == 0) {
        if (m.route_key != NULL && strcmp(m.route_key, "$default") != 0)
            abort();
        if (m.nparams != 0 || m.other_method != path_matched)
            abort();
        return;
    }
    if (strcmp(m.route_key, best_key) != 0 || m.nparams != best.nvals)
        abort();
    for (i = 0; i < m.nparams; i++) {
        if (m.params[i].value != best.vals[i] || m.params[i].value_len != best.val_lens[i] ||
            m.params[i].name == NULL || m.params[i].name[0] == '\0')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_http_routes *r = pt_http_routes_new();
    char *keys[MAX_KEYS], *method, *path, err[128];
    const uint8_t *nl = memchr(data, '\n', size), *p, *end, *bar, *line_end, *sp;
    size_t nkeys = 0, nreq = 0, i, plen;
    bool has_default = false;

    end = nl != NULL ? nl : data + size;
    for (p = data; p <= end && nkeys < MAX_KEYS; p = bar + 1) {
        bar = memchr(p, '|', (size_t)(end - p));
        if (bar == NULL)
            bar = end;
        keys[nkeys] = copy_bytes(p, (size_t)(bar - p));
        /* The value is the key itself, so an answer names its route. */
        if (pt_http_routes_add(r, keys[nkeys], keys[nkeys], err, sizeof(err)) == 0) {
            has_default |= strcmp(keys[nkeys], "$default") == 0;
            nkeys++;
        } else {
            if (err[0] == '\0')
                abort();
            free(keys[nkeys]);
        }
    }
    for (p = nl != NULL ? nl + 1 : data + size; p < data + size && nreq < MAX_REQUESTS;
         p = line_end + 1, nreq++) {
        line_end = memchr(p, '\n', (size_t)(data + size - p));
        if (line_end == NULL)
            line_end = data + size;
        sp = memchr(p, ' ', (size_t)(line_end - p));
        if (sp == NULL)
            sp = line_end;
        method = copy_bytes(p, (size_t)(sp - p));
        /* The path exactly as long as it is, with no NUL after it, so ASan sees overreads. */
        plen = sp < line_end ? (size_t)(line_end - sp - 1) : 0;
        path = malloc(plen ? plen : 1);
        if (path == NULL)
            abort();
        if (plen > 0)
            memcpy(path, sp + 1, plen);
        check_request(r, keys, nkeys, has_default, method, path, plen);
        free(method);
        free(path);
    }
    pt_http_routes_free(r);
    for (i = 0; i < nkeys; i++)
        free(keys[i]);
    return 0;
}
