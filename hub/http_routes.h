/* Route matching for HTTP APIs (SPEC section 3, AWS-BEHAVIOUR section 8). Pure: no I/O, no loop,
 * no allocation while matching. Route keys are compiled into a trie over path segments; each node
 * has its literal children in an array sorted by bytes (binary search, never a scan), at most one
 * {param} child and at most one {greedy+} child, and at each end of a path its routes sorted by
 * method plus an optional ANY route. Matching walks the trie depth first, literal child first,
 * then the parameter child, then the greedy child, and at the end of the path the exact method
 * before ANY; the first route found wins. Every node is visited at most once per match, since a
 * node's depth fixes the segment it consumes.
 *
 * Priority, independent of the order routes were added:
 *  1. at the first segment where two matching routes differ, a literal beats {param}, which beats
 *     {greedy+} (so "ANY /pets/dog" beats "GET /pets/{id}" for GET /pets/dog: the path decides
 *     before the method);
 *  2. for the same path shape, the exact method beats ANY (case-sensitive: HEAD does not match
 *     GET, "get" does not match GET);
 *  3. $default, when nothing else matches.
 *
 * Paths: "/pets/" is not "/pets" (AWS treats them as different paths); {param} matches one
 * non-empty segment; {greedy+} matches one or more segments, so "/pets/{proxy+}" matches /pets/a
 * and /pets/a/b (and /pets/a/, value "a/") but neither /pets nor /pets/. A path with an empty
 * segment before its end ("/a//b", "/a//"), or that does not start with '/', matches only
 * $default. The empty path is the root "/" (a $default stage invoked without a slash). */
#ifndef PT_HTTP_ROUTES_H
#define PT_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#define PT_HTTP_ROUTES_MAX_PARAMS   16  /* {param} and {greedy+} per route key */
#define PT_HTTP_ROUTES_MAX_SEGMENTS 128 /* segments per route key: bounds the match recursion */

struct pt_http_routes;

struct pt_http_route_param {
    const char *name;  /* borrowed from the table: NUL-terminated, without braces or '+' */
    const char *value; /* borrowed from the matched path: value_len bytes, not NUL-terminated */
    size_t value_len;  /* > 0; a greedy value is the rest of the path without its leading '/' */
};

struct pt_http_route_match {
    const char *route_key; /* borrowed from the table: the key exactly as added, or "$default" */
    struct pt_http_route_param params[PT_HTTP_ROUTES_MAX_PARAMS]; /* in path order */
    size_t nparams;
    bool other_method; /* set when no route matched the method but some route matched the path
                        * with another one (a 405 candidate; AWS answers 404 either way). Only
                        * meaningful when the result is NULL or $default. */
};

/* An empty table. Never fails (allocate-or-die). */
struct pt_http_routes *pt_http_routes_new(void);

/* Frees <r> and everything it owns; the values are borrowed and not freed. NULL is a no-op. */
void pt_http_routes_free(struct pt_http_routes *r);

/* Adds the route key <route_key> (copied) with <value> (borrowed, must not be NULL: NULL from
 * pt_http_routes_match() means "no route"). A key is "$default" or "METHOD /path":
 *  - METHOD is ANY or a token of [A-Z0-9!#$%&'*+.^_`|~-] (HTTP tchars without lowercase)
 *    that starts with a letter, followed by exactly one space;
 *  - the path starts with '/'; it is "/" alone or segments separated by single '/', with no
 *    trailing '/'; a segment is a literal (any bytes but '/', '{' and '}'), "{name}" or, only as
 *    the last segment, "{name+}"; a name is [A-Za-z0-9_.-]+, unique within the key; at most
 *    PT_HTTP_ROUTES_MAX_PARAMS parameters and PT_HTTP_ROUTES_MAX_SEGMENTS segments.
 * Returns 0, or PT_EINVAL with a one-line message in <err> (truncated to <errlen>; <err> may be
 * NULL) for a malformed key, or a duplicate: the same method and the same path shape as a key
 * already added ("GET /a/{x}" and "GET /a/{y}" are duplicates). A failed add changes nothing. */
int pt_http_routes_add(struct pt_http_routes *r, const char *route_key, void *value, char *err,
                       size_t errlen);

/* Finds the route for <method> (NUL-terminated, compared exactly) and the <path_len> bytes at
 * <path>: the percent-decoded route path, after the base path and stage, without the query;
 * it may contain any byte, NUL included. Fills <m> (may be NULL) and returns the route's value,
 * or NULL when no route matches and there is no $default. Slices in <m> point into <path> and
 * the table: valid while both are. Does not allocate; safe to call from several threads at once
 * on a table that is no longer being added to. */
const void *pt_http_routes_match(const struct pt_http_routes *r, const char *method,
                                 const char *path, size_t path_len, struct pt_http_route_match *m);

#endif
