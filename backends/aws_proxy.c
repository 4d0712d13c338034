/* AWS_PROXY: Lambda's Invoke API over HTTP (POST .../2015-03-31/functions/NAME/invocations),
 * as the Lambda runtime interface emulator and `sam local start-lambda` speak it. The event is
 * shaped exactly as AWS shapes it: the WebSocket proxy event here (AWS-BEHAVIOUR 2.1), the HTTP
 * API payload 2.0 or 1.0 in lambda_http.c; the result {statusCode, headers, body,
 * isBase64Encoded} is the answer. A function error (X-Amz-Function-Error) or a malformed result
 * is an integration error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "errors.h"
#include "lambda_http.h"
#include "portico/backend.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/err.h"
#include "portico/upstream.h"
#include "portico/xalloc.h"

#define MAX_RESULT_HEADERS 64

struct aws_proxy_conf {
    char *uri;
    struct pt_tmpl *uri_tmpl; /* owned */
    int format; /* payloadFormatVersion: an enum pt_lambda_http_format, the index in formats */
};

static const char *const formats[] = {"1.0", "2.0", NULL};

static const struct pt_conf_field fields[] = {
    {"uri", PT_CONF_STR, offsetof(struct aws_proxy_conf, uri), .required = true},
    {"payloadFormatVersion", PT_CONF_ENUM, offsetof(struct aws_proxy_conf, format),
     .def = PT_LAMBDA_HTTP_V2, .enum_values = formats},
    {NULL},
};

static const char *const ignored[] = {"type", "timeoutMs", NULL};

/* Per-call state: the parsed result lives until pt_call_done() returns. */
struct invocation {
    cJSON *result;
    struct pt_kv headers[MAX_RESULT_HEADERS];
    unsigned char *decoded;            /* a base64 body, decoded */
    struct pt_lambda_http_result http; /* the result on HTTP routes */
};

static int aws_proxy_configure(struct pt_integration *in, const cJSON *obj, const char *path,
                               struct pt_errors *errs)
{
    struct aws_proxy_conf *ac = pt_xcalloc(1, sizeof(*ac));
    char upath[512];

    in->conf = ac;
    if (pt_conf_walk(obj, path, fields, ac, ignored, errs) > 0)
        return PT_EINVAL;
    pt_conf_path_key(upath, sizeof(upath), path, "uri");
    return pt_call_compile_url(ac->uri, upath, "a Lambda Invoke API endpoint", &ac->uri_tmpl, errs);
}

static void aws_proxy_release(struct pt_integration *in)
{
    struct aws_proxy_conf *ac = in->conf;

    if (ac == NULL)
        return;
    free(ac->uri);
    pt_tmpl_free(ac->uri_tmpl);
    free(ac);
    in->conf = NULL;
}

/* ---- The WebSocket event ---- */

/* Adds {name: value} (the last value wins) and {name: [values...]} maps for <kv>. */
static void add_maps(cJSON *ev, const char *single, const char *multi, const struct pt_kv *kv,
                     size_t n)
{
    cJSON *one = cJSON_AddObjectToObject(ev, single);
    cJSON *many = cJSON_AddObjectToObject(ev, multi);
    size_t i;

    for (i = 0; i < n; i++) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(many, kv[i].name);

        cJSON_DeleteItemFromObjectCaseSensitive(one, kv[i].name);
        cJSON_AddStringToObject(one, kv[i].name, kv[i].value);
        if (arr == NULL)
            arr = cJSON_AddArrayToObject(many, kv[i].name);
        cJSON_AddItemToArray(arr, cJSON_CreateString(kv[i].value));
    }
}

/* The handshake headers, as AWS passes them to a $connect integration: without the hop-by-hop
 * Connection and Upgrade headers (AWS-BEHAVIOUR 2.1). */
static void add_handshake_headers(cJSON *ev, const struct pt_request *r)
{
    struct pt_kv *kv = pt_xcalloc(r->nheaders + 1, sizeof(*kv));
    size_t i, n = 0;

    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, "Connection") != 0 &&
            strcasecmp(r->headers[i].name, "Upgrade") != 0)
            kv[n++] = r->headers[i];
    add_maps(ev, "headers", "multiValueHeaders", kv, n);
    free(kv);
}

static cJSON *websocket_event(const struct pt_request *r)
{
    cJSON *ev = cJSON_CreateObject(), *ctx, *id;
    char when[40];

    ctx = cJSON_AddObjectToObject(ev, "requestContext");
    cJSON_AddStringToObject(ctx, "routeKey", r->route_key);
    if (r->message_id != NULL)
        cJSON_AddStringToObject(ctx, "messageId", r->message_id);
    cJSON_AddStringToObject(ctx, "eventType", pt_event_type_name(r->type));
    cJSON_AddStringToObject(ctx, "extendedRequestId", r->request_id);
    pt_lambda_http_clf_time(when, sizeof(when), r->request_time_ms);
    cJSON_AddStringToObject(ctx, "requestTime", when);
    cJSON_AddStringToObject(ctx, "messageDirection", "IN");
    cJSON_AddStringToObject(ctx, "stage", r->stage);
    cJSON_AddNumberToObject(ctx, "connectedAt", (double)r->connected_at_ms);
    cJSON_AddNumberToObject(ctx, "requestTimeEpoch", (double)r->request_time_ms);
    id = cJSON_AddObjectToObject(ctx, "identity");
    cJSON_AddStringToObject(id, "sourceIp", r->source_ip);
    if (r->user_agent != NULL)
        cJSON_AddStringToObject(id, "userAgent", r->user_agent);
    cJSON_AddStringToObject(ctx, "requestId", r->request_id);
    cJSON_AddStringToObject(ctx, "domainName", r->domain_name);
    cJSON_AddStringToObject(ctx, "connectionId", r->connection_id);
    cJSON_AddStringToObject(ctx, "apiId", r->api_name);
    pt_lambda_add_authorizer(ctx, r, true);
    if (r->type == PT_EVENT_DISCONNECT) {
        cJSON_AddNumberToObject(ctx, "disconnectStatusCode", r->disconnect_status);
        cJSON_AddStringToObject(ctx, "disconnectReason", r->disconnect_reason);
    }
    if (r->type == PT_EVENT_CONNECT) {
        add_handshake_headers(ev, r);
        if (r->nquery_params > 0)
            add_maps(ev, "queryStringParameters", "multiValueQueryStringParameters",
                     r->query_params, r->nquery_params);
    } else if (r->type == PT_EVENT_DISCONNECT) {
        /* AWS sends these placeholders on $disconnect (AWS-BEHAVIOUR 2.1). */
        struct pt_kv h[4] = {{"Host", r->domain_name},
                             {"x-api-key", ""},
                             {"X-Forwarded-For", ""},
                             {"x-restapi", ""}};

        add_maps(ev, "headers", "multiValueHeaders", h, 4);
    }
    if (r->type == PT_EVENT_MESSAGE) {
        if (r->body_binary) {
            char *b64 = pt_lambda_http_base64(r->body, r->body_len);

            cJSON_AddStringToObject(ev, "body", b64);
            free(b64);
        } else {
            cJSON_AddStringToObject(ev, "body", r->body);
        }
    }
    cJSON_AddBoolToObject(ev, "isBase64Encoded", r->type == PT_EVENT_MESSAGE && r->body_binary);
    return ev;
}

/* ---- The result ---- */

/* True when the function raised an error (X-Amz-Function-Error) or the Invoke API itself
 * refused the call (no such function, throttled). */
static bool invoke_failed(const struct pt_upstream_response *up)
{
    size_t i;

    for (i = 0; i < up->nheaders; i++)
        if (strcasecmp(up->headers[i].name, "X-Amz-Function-Error") == 0)
            return true;
    return up->status != 200 && up->status != 202;
}

static int read_result(struct invocation *inv, const struct pt_upstream_response *up,
                       struct pt_result *res)
{
    const cJSON *status, *headers, *h;
    size_t n = 0;

    if (invoke_failed(up))
        return PT_EUPSTREAM;
    inv->result = cJSON_ParseWithLength(up->body, up->body_len);
    if (inv->result == NULL)
        return PT_EUPSTREAM;
    res->status = 200;
    if (cJSON_IsNull(inv->result))
        return 0; /* the function returned nothing */
    if (!cJSON_IsObject(inv->result))
        return PT_EUPSTREAM;
    status = cJSON_GetObjectItemCaseSensitive(inv->result, "statusCode");
    if (status != NULL) {
        if (!cJSON_IsNumber(status) || status->valuedouble < 100 || status->valuedouble > 599)
            return PT_EUPSTREAM;
        res->status = (int)status->valuedouble;
    }
    headers = cJSON_GetObjectItemCaseSensitive(inv->result, "headers");
    cJSON_ArrayForEach(h, headers)
    {
        if (cJSON_IsString(h) && n < MAX_RESULT_HEADERS)
            inv->headers[n++] = (struct pt_kv){h->string, h->valuestring};
    }
    res->headers = inv->headers;
    res->nheaders = n;
    if (pt_lambda_result_body(inv->result, res, &inv->decoded) < 0)
        return PT_EUPSTREAM;
    return 0;
}

static void free_invocation(struct invocation *inv)
{
    if (inv == NULL)
        return;
    cJSON_Delete(inv->result);
    free(inv->decoded);
    pt_lambda_http_result_cleanup(&inv->http);
    free(inv);
}

/* On HTTP routes AWS answers 500 for every failure of the function: an error it raised
 * (X-Amz-Function-Error), a result of the wrong shape, an Invoke API that refused the call (no
 * such function, throttled) or a result over the size limit. These are PT_EPROTO, which the hub
 * answers with 500 {"message":"Internal Server Error"}. An Invoke endpoint that cannot be reached
 * at all stays PT_EUPSTREAM (502 Bad Gateway): the gateway, not the function, failed. */
static int read_http_result(struct pt_call *call, int err, const struct pt_upstream_response *up,
                            struct pt_result *res)
{
    const struct aws_proxy_conf *ac = call->integration->conf;
    struct invocation *inv = call->backend_data;

    if (err == PT_ETOOBIG)
        return PT_EPROTO;
    if (err != 0)
        return err;
    if (invoke_failed(up))
        return PT_EPROTO;
    return pt_lambda_http_read(&inv->http, ac->format, up->body, up->body_len, res);
}

/* A REQUEST authorizer's verdict is the function's raw result; the hub reads it. */
static int read_authorizer_result(int err, const struct pt_upstream_response *up,
                                  struct pt_result *res)
{
    if (err != 0)
        return err;
    if (invoke_failed(up))
        return PT_EPROTO;
    res->status = 200;
    res->body = up->body;
    res->body_len = up->body_len;
    return 0;
}

static void on_response(struct pt_call *call, int err, const struct pt_upstream_response *up)
{
    struct invocation *inv = call->backend_data;
    struct pt_result res = {0};

    if (call->req->type == PT_EVENT_HTTP)
        res.err = read_http_result(call, err, up, &res);
    else if (call->req->type == PT_EVENT_AUTHORIZER)
        res.err = read_authorizer_result(err, up, &res);
    else
        res.err = err != 0 ? err : read_result(inv, up, &res);
    if (res.err != 0)
        res = (struct pt_result){.err = res.err};
    /* pt_call_done() frees the call: the result it borrows lives in inv, freed after it. */
    call->backend_data = NULL;
    pt_call_done(call, &res);
    free_invocation(inv);
}

static void aws_proxy_invoke(struct pt_call *call)
{
    const struct aws_proxy_conf *ac = call->integration->conf;
    struct pt_upstream_request req = {.method = "POST"};
    struct pt_kv headers[1] = {{"Content-Type", "application/json"}};
    struct pt_buf url;
    const struct pt_request *r = call->req;
    cJSON *ev = r->type == PT_EVENT_AUTHORIZER ? NULL
                : r->type == PT_EVENT_HTTP     ? pt_lambda_http_event(r, ac->format)
                                               : websocket_event(r);
    /* An authorizer's event is built by the hub and sent as it is. */
    char *body = ev != NULL ? cJSON_PrintUnformatted(ev) : pt_xstrndup(r->body, r->body_len);

    call->backend_data = pt_xcalloc(1, sizeof(struct invocation));
    pt_buf_init(&url);
    pt_call_render(call, ac->uri_tmpl, &url);
    req.url = url.data;
    req.headers = headers;
    req.nheaders = 1;
    req.body = body;
    req.body_len = strlen(body);
    pt_upstream_send(call, &req, on_response);
    pt_buf_cleanup(&url);
    free(body); /* cJSON's allocator is the C library's */
    cJSON_Delete(ev);
}

static void aws_proxy_cancel(struct pt_call *call)
{
    pt_upstream_cancel(call);
    free_invocation(call->backend_data);
    call->backend_data = NULL;
}

const struct pt_backend pt_backend_aws_proxy = {
    .type = "AWS_PROXY",
    .authorizes = true,
    .configure = aws_proxy_configure,
    .release = aws_proxy_release,
    .invoke = aws_proxy_invoke,
    .cancel = aws_proxy_cancel,
};
