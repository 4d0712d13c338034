/* Which API and stage a request path belongs to (SPEC section 3): an API is mounted at its
 * basePath, a stage is the next segment, the stage "$default" has no segment, and when base
 * paths nest the longest one whose stage matches wins. */
#ifndef PT_ROUTER_H
#define PT_ROUTER_H

struct pt_config;
struct pt_api;
struct pt_stage;

struct pt_route_match {
    const struct pt_api *api;     /* borrowed from the config */
    const struct pt_stage *stage; /* borrowed from the config */
    const char *rest; /* borrowed: the part of the path after the stage ("" or "/...") */
};

/* Matches the percent-decoded <path>. Returns 0, or PT_ENOTFOUND. */
int pt_router_match(const struct pt_config *cfg, const char *path, struct pt_route_match *m);

#endif
