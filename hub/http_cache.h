/* How an HTTP API request meets its stage's response cache (SPEC section 6): whether it is
 * cacheable, its key, and whether its Cache-Control: max-age=0 may refetch the entry. The
 * answering itself is http_api.c's. */
#ifndef PT_HTTP_CACHE_H
#define PT_HTTP_CACHE_H

#include <stdbool.h>

struct pt_http;
struct pt_api;
struct pt_stage;
struct pt_route;
struct pt_http_route_match;

/* True when <stage> caches and <route> answers a GET with a ttl above 0. */
bool pt_http_cache_applies(const struct pt_http *h, const struct pt_stage *stage,
                           const struct pt_route *route);

/* The key (owned): method, path, then each of the route's keyParameters with its value. */
char *pt_http_cache_key(const struct pt_http *h, const struct pt_route *route,
                        const struct pt_http_route_match *rm);

/* The request says Cache-Control: max-age=0. */
bool pt_http_cache_wants_refresh(const struct pt_http *h);

/* May this caller make the cache refetch? Anyone, unless the stage requires authorization:
 * then a valid SigV4 signature against credentials, or an enabled API key of a plan of the
 * stage. */
bool pt_http_cache_may_invalidate(struct pt_http *h, const struct pt_api *api,
                                  const struct pt_stage *stage);

#endif
