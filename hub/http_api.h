/* Requests to HTTP APIs: CORS preflights, route matching, the integration call and the answer. */
#ifndef PT_HTTP_API_H
#define PT_HTTP_API_H

struct pt_http;
struct pt_route_match;

/* Serves the request <h>, whose path matched HTTP API <m>. */
void pt_http_api_handle(struct pt_http *h, const struct pt_route_match *m);

#endif
