/* MOCK: answers from the config without calling anything. response.statusCode (default 200),
 * response.body, a template over the request ($request.body, $context.connectionId...), and
 * response.headers, an object of header templates. A JSON object or array as body is taken as its
 * JSON text, and a JSON body (that, or text that starts with '{' or '[') is sent as
 * application/json unless the headers name a Content-Type. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "errors.h"
#include "portico/backend.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/err.h"
#include "portico/xalloc.h"

struct mock_header {
    char *name;            /* owned */
    struct pt_tmpl *value; /* owned */
};

struct mock_conf {
    long long status;
    struct pt_tmpl *body;        /* owned; NULL: no body */
    struct mock_header *headers; /* owned, nheaders of them */
    size_t nheaders;
    bool json_type; /* add Content-Type: application/json */
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
    {"headers", PT_CONF_ANY},
    {NULL},
};

static const char *const ignored[] = {"type", "timeoutMs", NULL};

/* An HTTP field name: a token (RFC 9110 5.1). */
static bool is_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s) != NULL))
            return false;
    return true;
}

/* Parses response.headers at <path>: each value a string template. Returns the error count. */
static int parse_headers(struct mock_conf *mc, const cJSON *obj, const char *path,
                         struct pt_errors *errs)
{
    char hpath[512], err[256];
    struct mock_header *h;
    const cJSON *item;
    int nerr = 0;

    if (!cJSON_IsObject(obj)) {
        pt_errors_add(errs, path, "expected an object of header names to strings");
        return 1;
    }
    mc->headers = pt_xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*mc->headers));
    cJSON_ArrayForEach(item, obj)
    {
        pt_conf_path_key(hpath, sizeof(hpath), path, item->string);
        if (!is_token(item->string)) {
            pt_errors_add(errs, hpath, "not a header name");
            nerr++;
            continue;
        }
        if (!cJSON_IsString(item)) {
            pt_errors_add(errs, hpath, "expected a string");
            nerr++;
            continue;
        }
        if (strpbrk(item->valuestring, "\r\n") != NULL) {
            pt_errors_add(errs, hpath, "a header value cannot hold a line break");
            nerr++;
            continue;
        }
        h = &mc->headers[mc->nheaders];
        if ((h->value = pt_tmpl_compile(item->valuestring, err, sizeof(err))) == NULL) {
            pt_errors_add(errs, hpath, "%s", err);
            nerr++;
            continue;
        }
        h->name = pt_xstrdup(item->string);
        mc->nheaders++;
        if (pt_call_check_tmpl(h->value, hpath, errs) != 0)
            nerr++;
    }
    return nerr;
}

static bool has_header(const struct mock_conf *mc, const char *name)
{
    size_t i;

    for (i = 0; i < mc->nheaders; i++)
        if (strcasecmp(mc->headers[i].name, name) == 0)
            return true;
    return false;
}

static int mock_configure(struct pt_integration *in, const cJSON *obj, const char *path,
                          struct pt_errors *errs)
{
    struct mock_conf *mc = pt_xcalloc(1, sizeof(*mc));
    struct mock_response r = {200};
    const cJSON *resp, *body, *headers;
    char rpath[512], bpath[512], err[256];
    char *text = NULL;
    const char *first;
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
    headers = cJSON_GetObjectItemCaseSensitive(resp, "headers");
    if (headers != NULL) {
        pt_conf_path_key(bpath, sizeof(bpath), rpath, "headers");
        nerr += parse_headers(mc, headers, bpath, errs);
    }
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
    first = text + strspn(text, " \t\r\n");
    mc->json_type = (*first == '{' || *first == '[') && !has_header(mc, "Content-Type");
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
    for (size_t i = 0; i < mc->nheaders; i++) {
        free(mc->headers[i].name);
        pt_tmpl_free(mc->headers[i].value);
    }
    free(mc->headers);
    free(mc);
    in->conf = NULL;
}

static void mock_finish(struct pt_call *call)
{
    const struct mock_conf *mc = call->integration->conf;
    struct pt_buf body, *values = pt_xcalloc(mc->nheaders + 1, sizeof(*values));
    struct pt_kv *hdrs = pt_xcalloc(mc->nheaders + 1, sizeof(*hdrs));
    struct pt_result res = {.status = (int)mc->status, .headers = hdrs};
    size_t i;

    pt_buf_init(&body);
    if (mc->body != NULL) {
        pt_call_render(call, mc->body, &body);
        res.body = body.data ? body.data : "";
        res.body_len = body.len;
        res.body_binary = call->req->body_binary;
    }
    for (i = 0; i < mc->nheaders; i++) {
        pt_buf_init(&values[i]);
        pt_call_render(call, mc->headers[i].value, &values[i]);
        hdrs[res.nheaders++] =
            (struct pt_kv){mc->headers[i].name, values[i].data ? values[i].data : ""};
    }
    if (mc->json_type)
        hdrs[res.nheaders++] = (struct pt_kv){"Content-Type", "application/json"};
    pt_call_done(call, &res);
    pt_buf_cleanup(&body);
    for (i = 0; i < mc->nheaders; i++)
        pt_buf_cleanup(&values[i]);
    free(values);
    free(hdrs);
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
