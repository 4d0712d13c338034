/* CHANNEL (beyond AWS): subscribe the calling connection to a channel, unsubscribe it, or
 * publish to every subscriber, from a WebSocket route, so a chat room needs no backend.
 *   {"type":"CHANNEL","action":"publish","channel":"$request.body.room","message":"$request.body.text"}
 * `channel` and `message` are templates as in MOCK; without `message` the whole message body
 * is published. The answer (sent back on a routeResponse route) says what happened:
 * {"subscribed":"room"}, {"unsubscribed":"room"} or {"delivered":N}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "errors.h"
#include "portico/backend.h"
#include "portico/buf.h"
#include "portico/channel.h"
#include "portico/conf.h"
#include "portico/err.h"
#include "portico/xalloc.h"

enum { ACTION_SUBSCRIBE, ACTION_UNSUBSCRIBE, ACTION_PUBLISH };

struct channel_conf {
    int action;
    char *channel;
    char *message;
    struct pt_tmpl *channel_tmpl; /* owned */
    struct pt_tmpl *message_tmpl; /* owned; NULL: the whole body */
};

static const char *const actions[] = {"subscribe", "unsubscribe", "publish", NULL};

#define CH(member) offsetof(struct channel_conf, member)
static const struct pt_conf_field fields[] = {
    {"action", PT_CONF_ENUM, CH(action), .enum_values = actions, .required = true},
    {"channel", PT_CONF_STR, CH(channel), .required = true},
    {"message", PT_CONF_STR, CH(message)},
    {NULL},
};
#undef CH

static const char *const ignored[] = {"type", "timeoutMs", NULL};

static struct pt_tmpl *compile(const char *src, const char *path, const char *key,
                               struct pt_errors *errs)
{
    char kpath[512], err[256];
    struct pt_tmpl *t;

    pt_conf_path_key(kpath, sizeof(kpath), path, key);
    t = pt_tmpl_compile(src, err, sizeof(err));
    if (t == NULL)
        pt_errors_add(errs, kpath, "%s", err);
    else if (pt_call_check_tmpl(t, kpath, errs) != 0) {
        pt_tmpl_free(t);
        t = NULL;
    }
    return t;
}

static int channel_configure(struct pt_integration *in, const cJSON *obj, const char *path,
                             struct pt_errors *errs)
{
    struct channel_conf *cc = pt_xcalloc(1, sizeof(*cc));

    in->conf = cc;
    if (pt_conf_walk(obj, path, fields, cc, ignored, errs) > 0)
        return PT_EINVAL;
    cc->channel_tmpl = compile(cc->channel, path, "channel", errs);
    if (cc->message != NULL) {
        cc->message_tmpl = compile(cc->message, path, "message", errs);
        if (cc->action != ACTION_PUBLISH) {
            char kpath[512];

            pt_conf_path_key(kpath, sizeof(kpath), path, "message");
            pt_errors_add(errs, kpath, "only \"publish\" sends a message");
            return PT_EINVAL;
        }
    }
    return cc->channel_tmpl != NULL && (cc->message == NULL || cc->message_tmpl != NULL)
               ? 0
               : PT_EINVAL;
}

static void channel_release(struct pt_integration *in)
{
    struct channel_conf *cc = in->conf;

    if (cc == NULL)
        return;
    free(cc->channel);
    free(cc->message);
    pt_tmpl_free(cc->channel_tmpl);
    pt_tmpl_free(cc->message_tmpl);
    free(cc);
    in->conf = NULL;
}

static void answer(struct pt_call *call, int status, struct pt_buf *body)
{
    struct pt_result res = {.status = status, .body = body->data, .body_len = body->len};

    pt_call_done(call, &res);
}

static void published(struct pt_call *call, long delivered)
{
    struct pt_result failed = {.err = PT_EUNAVAILABLE};
    struct pt_buf body;

    if (delivered < 0) { /* cluster mode with Redis down: an integration error for the caller */
        pt_call_done(call, &failed);
        return;
    }
    pt_buf_init(&body);
    pt_buf_printf(&body, "{\"delivered\":%ld}", delivered);
    answer(call, 200, &body);
    pt_buf_cleanup(&body);
}

static void channel_act(struct pt_call *call)
{
    const struct channel_conf *cc = call->integration->conf;
    const struct pt_request *r = call->req;
    struct pt_buf name, msg, body;
    int rc;

    pt_buf_init(&name);
    pt_buf_init(&msg);
    pt_buf_init(&body);
    pt_call_render(call, cc->channel_tmpl, &name);
    if (name.data == NULL)
        pt_buf_puts(&name, "");
    if (cc->action == ACTION_PUBLISH) {
        if (cc->message_tmpl != NULL) {
            pt_call_render(call, cc->message_tmpl, &msg);
            rc = pt_channel_publish(call, name.data, msg.data ? msg.data : "", msg.len, false,
                                    published);
        } else {
            rc = pt_channel_publish(call, name.data, r->body ? r->body : "", r->body_len,
                                    r->body_binary, published);
        }
        /* On success <published> answers, maybe already: the call must not be touched. */
    } else {
        rc = cc->action == ACTION_SUBSCRIBE ? pt_channel_subscribe(call, name.data)
                                            : pt_channel_unsubscribe(call, name.data);
        if (rc >= 0) {
            pt_buf_puts(&body, cc->action == ACTION_SUBSCRIBE ? "{\"subscribed\":\""
                                                              : "{\"unsubscribed\":\"");
            pt_buf_json_escape(&body, name.data, name.len);
            pt_buf_puts(&body, "\"}");
            answer(call, 200, &body);
        }
    }
    if (rc < 0) {
        /* A bad channel name from the message is the client's mistake, reported to it. */
        pt_buf_puts(&body, "{\"message\":\"Invalid channel name\"}");
        answer(call, 400, &body);
    }
    pt_buf_cleanup(&name);
    pt_buf_cleanup(&msg);
    pt_buf_cleanup(&body);
}

static void channel_invoke(struct pt_call *call)
{
    pt_call_defer(call, channel_act);
}

static void channel_cancel(struct pt_call *call)
{
    pt_channel_publish_cancel(call);
}

const struct pt_backend pt_backend_channel = {
    .type = "CHANNEL",
    .routes = PT_BACKEND_WEBSOCKET, /* it acts for the calling connection */
    .configure = channel_configure,
    .release = channel_release,
    .invoke = channel_invoke,
    .cancel = channel_cancel,
};
