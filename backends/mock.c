/* MOCK: answers from the config without calling anything. response.statusCode (default 200)
 * and response.body, a template over the request ($request.body, $context.connectionId...);
 * a JSON object or array as body is taken as its JSON text. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "portico/backend.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/err.h"
#include "errors.h"
#include "portico/xalloc.h"

struct mock_conf {
    long long status;
    struct pt_tmpl *body; /* owned; NULL: no body */
};

struct mock_response {
    long long status;
};

static const struct pt_conf_field integration_fields[] = {
    {"response", PT_CONF_ANY},
    {NULL},
};

static const struct pt_conf_field response_fields[] = {
    {"statusCode", PT_CONF_INT, offsetof(struct mock_response, status), 100, 599, 200},
    {"body", PT_CONF_ANY},
    {NULL},
};

static const char *const ignored[] = {"type", "timeoutMs", NULL};

static int mock_configure(struct pt_integration *in, const cJSON *obj, const char *path,
                          struct pt_errors *errs)
{
    struct mock_conf *mc = pt_xcalloc(1, sizeof(*mc));
    struct mock_response r = {200};
    const cJSON *resp, *body;
    char rpath[512], bpath[512], err[256];
    char *text = NULL;
    int nerr;

    in->conf = mc;
    mc->status = 200;
    nerr = pt_conf_walk(obj, path, integration_fields, NULL, ignored, errs);
    resp = cJSON_GetObjectItemCaseSensitive(obj, "response");
    if (resp == NULL)
        return nerr ? PT_EINVAL : 0;
    pt_conf_path_key(rpath, sizeof(rpath), path, "response");
    nerr += pt_conf_walk(resp, rpath, response_fields, &r, NULL, errs);
    mc->status = r.status;
    body = cJSON_GetObjectItemCaseSensitive(resp, "body");
    if (body == NULL || cJSON_IsNull(body))
        return nerr ? PT_EINVAL : 0;
    pt_conf_path_key(bpath, sizeof(bpath), rpath, "body");
    if (cJSON_IsString(body))
        text = pt_xstrdup(body->valuestring);
    else if (cJSON_IsObject(body) || cJSON_IsArray(body))
        text = cJSON_PrintUnformatted(body);
    else {
        pt_errors_add(errs, bpath, "expected a string, object or array");
        return PT_EINVAL;
    }
    mc->body = pt_tmpl_compile(text, err, sizeof(err));
    free(text);
    if (mc->body == NULL) {
        pt_errors_add(errs, bpath, "%s", err);
        return PT_EINVAL;
    }
    if (pt_call_check_tmpl(mc->body, bpath, errs) != 0)
        nerr++;
    return nerr ? PT_EINVAL : 0;
}

static void mock_release(struct pt_integration *in)
{
    struct mock_conf *mc = in->conf;

    if (mc == NULL)
        return;
    pt_tmpl_free(mc->body);
    free(mc);
    in->conf = NULL;
}

static void mock_finish(struct pt_call *call)
{
    const struct mock_conf *mc = call->integration->conf;
    struct pt_buf body;
    struct pt_result res = {.status = (int)mc->status};

    pt_buf_init(&body);
    if (mc->body != NULL) {
        pt_call_render(call, mc->body, &body);
        res.body = body.data ? body.data : "";
        res.body_len = body.len;
        res.body_binary = call->req->body_binary;
    }
    pt_call_done(call, &res);
    pt_buf_cleanup(&body);
}

static void mock_invoke(struct pt_call *call)
{
    pt_call_defer(call, mock_finish);
}

const struct pt_backend pt_backend_mock = {
    .type = "MOCK",
    .configure = mock_configure,
    .release = mock_release,
    .invoke = mock_invoke,
};
