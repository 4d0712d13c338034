/* The AWS-compatible management API of a WebSocket stage (SPEC section 3):
 * POST, GET and DELETE on {basePath}/{stage}/@connections/{connectionId}, with SigV4. */
#ifndef PT_MGMT_H
#define PT_MGMT_H

struct pt_http;
struct pt_route_match;

/* Answers the HTTP request <h>, whose path matched <m> with a rest that starts
 * with "/@connections". */
void pt_mgmt_handle(struct pt_http *h, const struct pt_route_match *m);

#endif
