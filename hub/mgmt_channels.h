/* The management API's channel calls (beyond AWS, SPEC section 3): subscriptions, publish,
 * presence, and the stage's connection listing. Authentication is done by mgmt.c. */
#ifndef PT_MGMT_CHANNELS_H
#define PT_MGMT_CHANNELS_H

struct pt_http;
struct pt_conn;
struct pt_route_match;

/* POST (publish) or GET (presence) .../@channels/{name}. */
void pt_mgmt_channel(struct pt_http *h, const struct pt_route_match *m, const char *name);

/* GET .../@connections?limit=&next=: the stage's connections, a page at a time, gathered
 * from one worker after another. */
void pt_mgmt_list(struct pt_http *h, const struct pt_route_match *m);

/* The request went away: the listing, when done, is dropped. */
struct pt_list_job;
void pt_mgmt_list_detach(struct pt_list_job *j);

#endif
