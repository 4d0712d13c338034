/* The admin listener (SPEC section 3): GET /healthz, GET /metrics, POST /admin/reload, behind
 * `Authorization: Bearer <admin.token>` when a token is set. */
#ifndef PT_ADMIN_H
#define PT_ADMIN_H

struct pt_http;

/* Answers request <h>, which came on the admin listener. */
void pt_admin_handle(struct pt_http *h);

#endif
