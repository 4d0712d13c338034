/* HTTP API route matcher (see http_routes.h): route-key parsing, the segment trie, and the
 * depth-first match. Pure and single-purpose: it knows nothing of APIs, stages or integrations;
 * the values it stores are the caller's. */
#include "http_routes.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/err.h"
#include "portico/xalloc.h"

#define ANY_METHOD  "ANY"
#define DEFAULT_KEY "$default"

enum seg_kind {
    SEG_LITERAL,
    SEG_PARAM,  /* {name} */
    SEG_GREEDY, /* {name+} */
};

/* One segment of a parsed route key; s is borrowed from the key. */
struct seg {
    enum seg_kind kind;
    const char *s; /* the literal, or the parameter name */
    size_t len;
};

struct route {
    char *key;          /* owned: the route key as added; method and names point after it */
    const char *method; /* into key's allocation, NUL-terminated */
    const char **names; /* owned array of nnames pointers into key's allocation */
    size_t nnames;
    void *value; /* borrowed */
};

struct lit {
    char *seg; /* owned: the literal's bytes, NUL-terminated */
    size_t len;
    struct node *child; /* owned */
};

struct node {
    struct lit *lits; /* owned, sorted by cmp_bytes(): found by binary search */
    size_t nlits, lits_cap;
    struct node *param;    /* owned: the {name} child, or NULL */
    struct node *greedy;   /* owned: the {name+} child (routes only, no children), or NULL */
    struct route **routes; /* owned, sorted by method (strcmp); ANY is not among them */
    size_t nroutes, routes_cap;
    struct route *any; /* owned: the ANY route ending here, or NULL */
};

struct pt_http_routes {
    struct node root;
    struct route *dflt; /* owned: the $default route, or NULL */
};

/* What one match carries down the trie. */
struct walk {
    const char *method; /* borrowed */
    const char *path;   /* borrowed */
    size_t len;
    struct pt_http_route_param vals[PT_HTTP_ROUTES_MAX_PARAMS]; /* values so far; names later */
    bool other_method;
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return PT_EINVAL;
}

/* Orders byte strings by their bytes, a proper prefix first. */
static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n > 0 ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* The index of literal <s> among n's children, or where it would be inserted (*found false). */
static size_t find_lit(const struct node *n, const char *s, size_t len, bool *found)
{
    size_t lo = 0, hi = n->nlits, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = cmp_bytes(n->lits[mid].seg, n->lits[mid].len, s, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* The index of <method> among n's routes, or where it would be inserted (*found false). */
static size_t find_method(const struct node *n, const char *method, bool *found)
{
    size_t lo = 0, hi = n->nroutes, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(n->routes[mid]->method, method);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* ---- Parsing route keys ---- */

/* HTTP tchar (RFC 9110 5.6.2) without lowercase letters: methods are uppercase. */
static bool is_method_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+.^_`|~-", c) != NULL);
}

static bool is_name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* Classifies the segment of <len> bytes at <s> into <sg>. */
static int parse_seg(const char *s, size_t len, struct seg *sg, char *err, size_t errlen)
{
    size_t i, nlen;

    if (len == 0)
        return fail(err, errlen, "empty path segment (\"//\" or a trailing '/')");
    if (memchr(s, '{', len) == NULL && memchr(s, '}', len) == NULL) {
        sg->kind = SEG_LITERAL;
        sg->s = s;
        sg->len = len;
        return 0;
    }
    if (s[0] != '{' || s[len - 1] != '}' || len < 3)
        return fail(err, errlen,
                    "bad path segment \"%.*s\": a parameter is a whole segment, {name} or {name+}",
                    (int)len, s);
    nlen = len - 2;
    sg->kind = SEG_PARAM;
    if (s[len - 2] == '+') {
        sg->kind = SEG_GREEDY;
        nlen--;
    }
    for (i = 0; i < nlen; i++) {
        if (!is_name_char((unsigned char)s[1 + i]))
            break;
    }
    if (nlen == 0 || i < nlen)
        return fail(err, errlen, "bad parameter name in \"%.*s\": expected [A-Za-z0-9_.-]+",
                    (int)len, s);
    sg->s = s + 1;
    sg->len = nlen;
    return 0;
}

/* Splits "METHOD /path" into the method's length and the path's segments. */
static int parse_key(const char *key, size_t *method_len, struct seg *segs, size_t *nsegs,
                     char *err, size_t errlen)
{
    const char *p, *end;
    size_t m = 0, n = 0, nparams = 0, i;
    int rc;

    /* A letter first, so that "$default /x" is not a custom method. */
    if (key[0] >= 'A' && key[0] <= 'Z') {
        while (key[m] != '\0' && is_method_char((unsigned char)key[m]))
            m++;
    }
    if (m == 0 || key[m] != ' ')
        return fail(err, errlen,
                    "bad route key \"%s\": expected $default or \"METHOD /path\" with ANY or an "
                    "uppercase method",
                    key);
    *method_len = m;
    p = key + m + 1;
    if (*p != '/')
        return fail(err, errlen, "bad route key \"%s\": the path must start with '/'", key);
    if (strcmp(p, "/") == 0) {
        *nsegs = 0;
        return 0;
    }
    while (*p == '/') {
        p++;
        end = p + strcspn(p, "/");
        if (n == PT_HTTP_ROUTES_MAX_SEGMENTS)
            return fail(err, errlen, "bad route key: more than %d path segments",
                        PT_HTTP_ROUTES_MAX_SEGMENTS);
        if (n > 0 && segs[n - 1].kind == SEG_GREEDY)
            return fail(err, errlen, "bad route key \"%s\": {%.*s+} must be the last segment", key,
                        (int)segs[n - 1].len, segs[n - 1].s);
        if ((rc = parse_seg(p, (size_t)(end - p), &segs[n], err, errlen)) != 0)
            return rc;
        if (segs[n].kind != SEG_LITERAL) {
            if (++nparams > PT_HTTP_ROUTES_MAX_PARAMS)
                return fail(err, errlen, "bad route key: more than %d path parameters",
                            PT_HTTP_ROUTES_MAX_PARAMS);
            for (i = 0; i < n; i++) {
                if (segs[i].kind != SEG_LITERAL && segs[i].len == segs[n].len &&
                    memcmp(segs[i].s, segs[n].s, segs[n].len) == 0)
                    return fail(err, errlen, "bad route key \"%s\": duplicate parameter \"%.*s\"",
                                key, (int)segs[n].len, segs[n].s);
            }
        }
        n++;
        p = end;
    }
    *nsegs = n;
    return 0;
}

/* ---- Building the trie ---- */

/* The child of <n> for segment <sg>; created when missing and <create>, else NULL. */
static struct node *child_for(struct node *n, const struct seg *sg, bool create)
{
    struct node **slot;
    struct lit *l;
    size_t i;
    bool found;

    if (sg->kind != SEG_LITERAL) {
        slot = sg->kind == SEG_PARAM ? &n->param : &n->greedy;
        if (*slot == NULL && create)
            *slot = pt_xcalloc(1, sizeof(**slot));
        return *slot;
    }
    i = find_lit(n, sg->s, sg->len, &found);
    if (found || !create)
        return found ? n->lits[i].child : NULL;
    if (n->nlits == n->lits_cap) {
        n->lits_cap = n->lits_cap ? n->lits_cap * 2 : 4;
        n->lits = pt_xrealloc(n->lits, n->lits_cap * sizeof(*n->lits));
    }
    memmove(&n->lits[i + 1], &n->lits[i], (n->nlits - i) * sizeof(*n->lits));
    n->nlits++;
    l = &n->lits[i];
    l->seg = pt_xstrndup(sg->s, sg->len);
    l->len = sg->len;
    l->child = pt_xcalloc(1, sizeof(*l->child));
    return l->child;
}

/* The route already stored at <n> for <method>, or NULL. */
static const struct route *route_at(const struct node *n, const char *method)
{
    size_t i;
    bool found;

    if (strcmp(method, ANY_METHOD) == 0)
        return n->any;
    i = find_method(n, method, &found);
    return found ? n->routes[i] : NULL;
}

/* A route for <key>, with copies of its method (the first <method_len> bytes) and of the names
 * of its parameter segments. */
static struct route *route_new(const char *key, size_t method_len, const struct seg *segs,
                               size_t nsegs, void *value)
{
    struct route *rt = pt_xcalloc(1, sizeof(*rt));
    size_t klen = strlen(key), total = klen + 1 + method_len + 1, i;
    char *p;

    for (i = 0; i < nsegs; i++) {
        if (segs[i].kind != SEG_LITERAL) {
            total += segs[i].len + 1;
            rt->nnames++;
        }
    }
    rt->key = pt_xmalloc(total);
    rt->names = pt_xcalloc(rt->nnames, sizeof(*rt->names));
    rt->value = value;
    memcpy(rt->key, key, klen + 1);
    p = rt->key + klen + 1;
    memcpy(p, key, method_len);
    p[method_len] = '\0';
    rt->method = p;
    p += method_len + 1;
    rt->nnames = 0;
    for (i = 0; i < nsegs; i++) {
        if (segs[i].kind != SEG_LITERAL) {
            memcpy(p, segs[i].s, segs[i].len);
            p[segs[i].len] = '\0';
            rt->names[rt->nnames++] = p;
            p += segs[i].len + 1;
        }
    }
    return rt;
}

static void route_free(struct route *rt)
{
    if (rt == NULL)
        return;
    free(rt->names);
    free(rt->key);
    free(rt);
}

/* Stores <rt> (takes ownership) at <n>; the caller checked that its method is free there. */
static void node_put(struct node *n, struct route *rt)
{
    size_t i;
    bool found;

    if (strcmp(rt->method, ANY_METHOD) == 0) {
        n->any = rt;
        return;
    }
    i = find_method(n, rt->method, &found);
    if (n->nroutes == n->routes_cap) {
        n->routes_cap = n->routes_cap ? n->routes_cap * 2 : 2;
        n->routes = pt_xrealloc(n->routes, n->routes_cap * sizeof(*n->routes));
    }
    memmove(&n->routes[i + 1], &n->routes[i], (n->nroutes - i) * sizeof(*n->routes));
    n->routes[i] = rt;
    n->nroutes++;
}

/* Frees what <n> owns (not <n> itself). Recursion depth is bounded by the segment limit. */
static void node_cleanup(struct node *n)
{
    size_t i;

    for (i = 0; i < n->nlits; i++) {
        node_cleanup(n->lits[i].child);
        free(n->lits[i].child);
        free(n->lits[i].seg);
    }
    free(n->lits);
    if (n->param != NULL)
        node_cleanup(n->param);
    free(n->param);
    if (n->greedy != NULL)
        node_cleanup(n->greedy);
    free(n->greedy);
    for (i = 0; i < n->nroutes; i++)
        route_free(n->routes[i]);
    free(n->routes);
    route_free(n->any);
}

struct pt_http_routes *pt_http_routes_new(void)
{
    return pt_xcalloc(1, sizeof(struct pt_http_routes));
}

void pt_http_routes_free(struct pt_http_routes *r)
{
    if (r == NULL)
        return;
    node_cleanup(&r->root);
    route_free(r->dflt);
    free(r);
}

int pt_http_routes_add(struct pt_http_routes *r, const char *route_key, void *value, char *err,
                       size_t errlen)
{
    struct seg segs[PT_HTTP_ROUTES_MAX_SEGMENTS];
    const struct route *old;
    struct node *n;
    size_t method_len = 0, nsegs = 0, i;
    char *method;
    int rc;

    if (route_key == NULL || value == NULL)
        return fail(err, errlen, "route key and value are required");
    if (strcmp(route_key, DEFAULT_KEY) == 0) {
        if (r->dflt != NULL)
            return fail(err, errlen, "duplicate route key \"%s\"", route_key);
        r->dflt = route_new(route_key, 0, NULL, 0, value);
        return 0;
    }
    if ((rc = parse_key(route_key, &method_len, segs, &nsegs, err, errlen)) != 0)
        return rc;
    /* Look first, build second, so that a duplicate leaves no empty nodes behind. */
    for (n = &r->root, i = 0; n != NULL && i < nsegs; i++)
        n = child_for(n, &segs[i], false);
    method = pt_xstrndup(route_key, method_len);
    old = n != NULL ? route_at(n, method) : NULL;
    free(method);
    if (old != NULL)
        return fail(err, errlen, "duplicate route key \"%s\": same method and path as \"%s\"",
                    route_key, old->key);
    for (n = &r->root, i = 0; i < nsegs; i++)
        n = child_for(n, &segs[i], true);
    node_put(n, route_new(route_key, method_len, segs, nsegs, value));
    return 0;
}

/* ---- Matching ---- */

/* The route for w's method at the end of the path, node <n>: the exact method, then ANY. */
static const struct route *at_end(const struct node *n, struct walk *w)
{
    size_t i;
    bool found;

    if (n->nroutes > 0) {
        i = find_method(n, w->method, &found);
        if (found)
            return n->routes[i];
    }
    if (n->any != NULL)
        return n->any;
    if (n->nroutes > 0)
        w->other_method = true;
    return NULL;
}

/* Matches the rest of the path from <pos> (the '/' that starts the next segment, or the end)
 * below <n>, with <nvals> parameter values taken so far. The order of the tries is the
 * priority: literal, then {param}, then {greedy+}. */
static const struct route *walk_node(const struct node *n, struct walk *w, size_t pos, size_t nvals)
{
    const struct route *rt;
    const char *seg, *slash;
    size_t seglen, i;
    bool found;

    if (pos == w->len)
        return at_end(n, w);
    seg = w->path + pos + 1;
    seglen = 0;
    if (pos + 1 < w->len) {
        slash = memchr(seg, '/', w->len - pos - 1);
        seglen = slash != NULL ? (size_t)(slash - seg) : w->len - pos - 1;
    }
    if (seglen > 0 && n->nlits > 0) {
        i = find_lit(n, seg, seglen, &found);
        if (found && (rt = walk_node(n->lits[i].child, w, pos + 1 + seglen, nvals)) != NULL)
            return rt;
    }
    /* nvals < MAX always holds below a param or greedy node (each route has at most MAX
     * parameters); the test keeps vals in bounds whatever the trie holds. */
    if (seglen > 0 && n->param != NULL && nvals < PT_HTTP_ROUTES_MAX_PARAMS) {
        w->vals[nvals].value = seg;
        w->vals[nvals].value_len = seglen;
        if ((rt = walk_node(n->param, w, pos + 1 + seglen, nvals + 1)) != NULL)
            return rt;
    }
    /* Greedy takes one or more segments: the rest after this '/', if it is not empty. */
    if (n->greedy != NULL && pos + 1 < w->len && nvals < PT_HTTP_ROUTES_MAX_PARAMS) {
        w->vals[nvals].value = seg;
        w->vals[nvals].value_len = w->len - pos - 1;
        if ((rt = at_end(n->greedy, w)) != NULL)
            return rt;
    }
    return NULL;
}

/* Whether <path> can match a route at all: it starts with '/' and has no empty segment before
 * its end (a trailing '/' is a path of its own). */
static bool path_is_routable(const char *path, size_t len)
{
    size_t i;

    if (len == 0 || path[0] != '/')
        return false;
    for (i = 1; i < len; i++) {
        if (path[i] == '/' && path[i - 1] == '/')
            return false;
    }
    return true;
}

const void *pt_http_routes_match(const struct pt_http_routes *r, const char *method,
                                 const char *path, size_t path_len, struct pt_http_route_match *m)
{
    struct walk w;
    const struct route *rt = NULL;
    size_t i;

    w.method = method;
    w.path = path;
    w.len = path_len;
    w.other_method = false;
    if (path_len == 0 || (path_len == 1 && path[0] == '/'))
        rt = at_end(&r->root, &w);
    else if (path_is_routable(path, path_len))
        rt = walk_node(&r->root, &w, 0, 0);
    if (rt == NULL)
        rt = r->dflt;
    if (m != NULL) {
        m->route_key = rt != NULL ? rt->key : NULL;
        m->nparams = rt != NULL ? rt->nnames : 0;
        m->other_method = w.other_method;
        for (i = 0; i < m->nparams; i++) {
            m->params[i].name = rt->names[i];
            m->params[i].value = w.vals[i].value;
            m->params[i].value_len = w.vals[i].value_len;
        }
    }
    return rt != NULL ? rt->value : NULL;
}
