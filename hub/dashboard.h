/* The admin listener's /dashboard page (see dashboard.c). */
#ifndef PT_DASHBOARD_H
#define PT_DASHBOARD_H

struct pt_http;

void pt_dashboard_serve(struct pt_http *h);

#endif
