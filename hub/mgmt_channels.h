/* The management API's channel calls (beyond AWS, SPEC section 3): subscriptions, publish,
 * presence, and the stage's connection listing. Authentication is done by mgmt.c. */
#ifndef PT_MGMT_CHANNELS_H
#define PT_MGMT_CHANNELS_H

struct pt_http;
struct pt_conn;
struct pt_route_match;

/* PUT (subscribe) or DELETE (unsubscribe) .../@connections/{id}/channels/{name} for <target>. */
void pt_mgmt_subscription(struct pt_http *h, struct pt_conn *target, const char *name);

/* POST (publish) or GET (presence) .../@channels/{name}. */
void pt_mgmt_channel(struct pt_http *h, const struct pt_route_match *m, const char *name);

/* GET .../@connections?limit=&next=: the stage's connections, a page at a time. */
void pt_mgmt_list(struct pt_http *h, const struct pt_route_match *m);

#endif
