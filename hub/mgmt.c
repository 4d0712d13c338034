/* The management API of a WebSocket stage: authentication, then the operation. A connection
 * ID says which worker holds the connection, so there is no global lookup (conn_ops.c); channel
 * calls and the listing are in mgmt_channels.c. */
#include "mgmt.h"

#include <string.h>

#include "authn.h"
#include "awserr.h"
#include "channel.h"
#include "config.h"
#include "conn_ops.h"
#include "http.h"
#include "mgmt_channels.h"
#include "router.h"

void pt_mgmt_handle(struct pt_http *h, const struct pt_route_match *m)
{
    const char *rest = m->rest, *id, *slash, *name;
    enum pt_conn_op_kind kind;

    if (m->api->management_auth == PT_MGMT_AWS_IAM && !pt_authn_sigv4_ok(h, NULL))
        return;
    if (strncmp(rest, "/@channels/", 11) == 0) {
        pt_mgmt_channel(h, m, rest + 11);
        return;
    }
    id = rest + 13; /* after "/@connections" */
    if (*id == '\0' || strcmp(id, "/") == 0) {
        pt_mgmt_list(h, m);
        return;
    }
    id++;
    slash = strchr(id, '/');
    if (slash == NULL) {
        if (pt_http_method_is(h, "POST"))
            kind = PT_CONN_OP_POST;
        else if (pt_http_method_is(h, "GET"))
            kind = PT_CONN_OP_GET;
        else if (pt_http_method_is(h, "DELETE"))
            kind = PT_CONN_OP_DELETE;
        else {
            pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
            return;
        }
        pt_conn_op_start(h, kind, m->api->name, m->stage->name, id, strlen(id), NULL);
        return;
    }
    name = slash + 10;
    if (strncmp(slash, "/channels/", 10) != 0) {
        pt_awserr_respond(h, PT_AWSERR_FORBIDDEN, NULL);
        return;
    }
    if (!pt_channel_name_ok(name)) {
        pt_awserr_respond(h, PT_AWSERR_BAD_REQUEST, "Invalid channel name");
        return;
    }
    if (!pt_http_method_is(h, "PUT") && !pt_http_method_is(h, "DELETE")) {
        pt_awserr_respond(h, PT_AWSERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    pt_conn_op_start(h, pt_http_method_is(h, "PUT") ? PT_CONN_OP_SUBSCRIBE : PT_CONN_OP_UNSUBSCRIBE,
                     m->api->name, m->stage->name, id, (size_t)(slash - id), name);
}
