/* Lambda proxy payloads for HTTP API routes: the 2.0 and 1.0 events shaped as AWS HTTP APIs shape
 * them (AWS-BEHAVIOUR 2.3, 2.4, checked against captured events), and the mapping of a function's
 * result to the answer. No authorizer context yet: requestContext.authorizer is left out. */
#include "lambda_http.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "portico/buf.h"
#include "portico/err.h"
#include "portico/xalloc.h"

/* AWS puts the API owner's account here; a self-hosted gateway has none. */
#define ACCOUNT_ID "000000000000"

/* ---- Small helpers ---- */

char *pt_lambda_http_base64(const void *p, size_t n)
{
    char *out = pt_xmalloc(4 * ((n + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p, (int)n);
    return out;
}

/* Decodes the standard base64 <s> (<n> chars, padded): an owned buffer with its length in
 * <out_len>, or NULL when <s> is not base64. */
static unsigned char *unbase64(const char *s, size_t n, size_t *out_len)
{
    unsigned char *out = pt_xmalloc(n / 4 * 3 + 3);
    int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);

    if (len < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as bytes. */
    while (n > 0 && s[n - 1] == '=' && len > 0) {
        n--;
        len--;
    }
    *out_len = (size_t)len;
    return out;
}

int pt_lambda_result_body(const cJSON *result, struct pt_result *res, unsigned char **decoded)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(result, "body");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(result, "isBase64Encoded");

    if (body == NULL || cJSON_IsNull(body))
        return 0;
    if (!cJSON_IsString(body))
        return -1;
    if (cJSON_IsTrue(b64)) {
        *decoded = unbase64(body->valuestring, strlen(body->valuestring), &res->body_len);
        if (*decoded == NULL)
            return -1;
        res->body = (const char *)*decoded;
        res->body_binary = true;
    } else {
        res->body = body->valuestring;
        res->body_len = strlen(body->valuestring);
    }
    return 1;
}

void pt_lambda_http_clf_time(char *out, size_t n, long long ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(out, n, "%d/%b/%Y:%H:%M:%S +0000", &tm);
}

/* Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) without NUL, which
 * would end the event's C string early: such a body goes base64-encoded. */
static bool is_text(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;
    unsigned cp, min;

    while (i < n) {
        if (s[i] == 0)
            return false;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        len = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 0;
        if (len == 0 || s[i] >= 0xf8 || n - i < len)
            return false; /* a continuation byte first, a 5-byte form, or cut short */
        cp = s[i] & (0x7fu >> len);
        min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Media types whose bodies are text: text/..., JSON, XML, JavaScript and form posts. */
static bool is_text_type(const char *ct)
{
    static const char *const text[] = {"application/json",
                                       "application/xml",
                                       "application/javascript",
                                       "application/ecmascript",
                                       "application/x-www-form-urlencoded",
                                       NULL};
    size_t n = strcspn(ct, ";"), i;

    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (strncasecmp(ct, "text/", 5) == 0)
        return true;
    for (i = 0; text[i] != NULL; i++)
        if (strlen(text[i]) == n && strncasecmp(ct, text[i], n) == 0)
            return true;
    return (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0) ||
           (n > 4 && strncasecmp(ct + n - 4, "+xml", 4) == 0);
}

static const char *header(const struct pt_request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* A body goes base64-encoded when it is not UTF-8, or when its Content-Type says it is not text
 * (an upload sent as application/octet-stream arrives as bytes whatever they happen to be). A body
 * without a Content-Type is text when it is UTF-8. */
static bool body_is_binary(const struct pt_request *r)
{
    const char *ct = header(r, "Content-Type");

    if (!is_text((const unsigned char *)r->body, r->body_len))
        return true;
    return ct != NULL && !is_text_type(ct);
}

static void add_body(cJSON *ev, const struct pt_request *r, bool null_when_empty)
{
    bool binary = r->body_len > 0 && body_is_binary(r);

    if (r->body_len == 0) {
        if (null_when_empty)
            cJSON_AddNullToObject(ev, "body");
    } else if (binary) {
        char *b64 = pt_lambda_http_base64(r->body, r->body_len);

        cJSON_AddStringToObject(ev, "body", b64);
        free(b64);
    } else {
        cJSON_AddStringToObject(ev, "body", r->body);
    }
    cJSON_AddBoolToObject(ev, "isBase64Encoded", binary);
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The percent-decoded <s>; a '%' without two hex digits stays as it is. */
static char *percent_decode(const char *s)
{
    char *out = pt_xmalloc(strlen(s) + 1), *o = out;

    for (; *s != '\0'; s++) {
        if (*s == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
            *o++ = (char)(hex(s[1]) << 4 | hex(s[2]));
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* The port the client reached: from Host, else the scheme's. */
static const char *forwarded_port(const struct pt_request *r)
{
    const char *colon = r->host != NULL ? strrchr(r->host, ':') : NULL;

    if (colon != NULL && strchr(colon, ']') == NULL && colon[1] != '\0')
        return colon + 1;
    return strcmp(r->scheme != NULL ? r->scheme : "http", "https") == 0 ? "443" : "80";
}

/* ---- Headers and query strings ---- */

/* Adds <name>: <value> to <obj>, joining a repeated name's values with ','. */
static void add_joined(cJSON *obj, const char *name, const char *value)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, name);
    struct pt_buf b;

    if (old == NULL) {
        cJSON_AddStringToObject(obj, name, value);
        return;
    }
    pt_buf_init(&b);
    pt_buf_printf(&b, "%s,%s", old->valuestring, value);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, name, cJSON_CreateString(b.data));
    pt_buf_cleanup(&b);
}

/* Adds <name>: <value> to <single> (the last value wins) and to the array <name> of <multi>. */
static void add_multi(cJSON *single, cJSON *multi, const char *name, const char *value)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(multi, name);

    cJSON_DeleteItemFromObjectCaseSensitive(single, name);
    cJSON_AddStringToObject(single, name, value);
    if (arr == NULL)
        arr = cJSON_AddArrayToObject(multi, name);
    cJSON_AddItemToArray(arr, cJSON_CreateString(value));
}

/* The X-Forwarded-For, -Port and -Proto headers AWS adds to the client's: its address appended
 * to any X-Forwarded-For it sent, the others replaced. <xff> holds the new X-Forwarded-For. */
static void forwarded(const struct pt_request *r, struct pt_buf *xff, struct pt_kv out[3])
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, "X-Forwarded-For") == 0)
            pt_buf_printf(xff, "%s, ", r->headers[i].value);
    pt_buf_puts(xff, r->source_ip);
    out[0] = (struct pt_kv){"X-Forwarded-For", xff->data};
    out[1] = (struct pt_kv){"X-Forwarded-Port", forwarded_port(r)};
    out[2] = (struct pt_kv){"X-Forwarded-Proto", r->scheme != NULL ? r->scheme : "http"};
}

static bool is_forwarded(const char *name)
{
    return strcasecmp(name, "X-Forwarded-For") == 0 || strcasecmp(name, "X-Forwarded-Port") == 0 ||
           strcasecmp(name, "X-Forwarded-Proto") == 0;
}

/* Appends each cookie of a Cookie header's value "a=1; b=2" to <cookies>. */
static void split_cookies(cJSON *cookies, const char *v)
{
    size_t len, end;
    char *one;

    for (v += strspn(v, "; \t"); *v != '\0'; v += strspn(v, "; \t")) {
        len = end = strcspn(v, ";");
        while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        one = pt_xstrndup(v, end);
        cJSON_AddItemToArray(cookies, cJSON_CreateString(one));
        free(one);
        v += len;
    }
}

/* 2.0: names lowercased, repeats joined with ',', Cookie headers split into cookies[]. */
static void add_headers_v2(cJSON *ev, const struct pt_request *r)
{
    cJSON *h = cJSON_CreateObject(), *cookies = cJSON_CreateArray();
    struct pt_kv fwd[3], kv;
    struct pt_buf xff;
    char name[256];
    size_t i, k;

    pt_buf_init(&xff);
    forwarded(r, &xff, fwd);
    for (i = 0; i < r->nheaders + 3; i++) {
        kv = i < r->nheaders ? r->headers[i] : fwd[i - r->nheaders];
        if (i < r->nheaders && is_forwarded(kv.name))
            continue;
        if (strcasecmp(kv.name, "Cookie") == 0) {
            split_cookies(cookies, kv.value);
            continue;
        }
        for (k = 0; kv.name[k] != '\0' && k + 1 < sizeof(name); k++)
            name[k] = (char)tolower((unsigned char)kv.name[k]);
        name[k] = '\0';
        add_joined(h, name, kv.value);
    }
    pt_buf_cleanup(&xff);
    if (cJSON_GetArraySize(cookies) > 0)
        cJSON_AddItemToObject(ev, "cookies", cookies);
    else
        cJSON_Delete(cookies);
    cJSON_AddItemToObject(ev, "headers", h);
}

/* 1.0: names as sent, the last value in headers and every value in multiValueHeaders. */
static void add_headers_v1(cJSON *ev, const struct pt_request *r)
{
    cJSON *h = cJSON_AddObjectToObject(ev, "headers");
    cJSON *mh = cJSON_AddObjectToObject(ev, "multiValueHeaders");
    struct pt_kv fwd[3];
    struct pt_buf xff;
    size_t i;

    pt_buf_init(&xff);
    forwarded(r, &xff, fwd);
    for (i = 0; i < r->nheaders; i++)
        if (!is_forwarded(r->headers[i].name))
            add_multi(h, mh, r->headers[i].name, r->headers[i].value);
    for (i = 0; i < 3; i++)
        add_multi(h, mh, fwd[i].name, fwd[i].value);
    pt_buf_cleanup(&xff);
}

/* <key>: {name: value} from <kv> (the last value wins), omitted (2.0) or null (1.0) when empty. */
static void add_kv(cJSON *ev, const char *key, const struct pt_kv *kv, size_t n, bool v1)
{
    cJSON *obj;
    size_t i;

    if (n == 0) {
        if (v1)
            cJSON_AddNullToObject(ev, key);
        return;
    }
    obj = cJSON_AddObjectToObject(ev, key);
    for (i = 0; i < n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, kv[i].name);
        cJSON_AddStringToObject(obj, kv[i].name, kv[i].value);
    }
}

/* requestContext with the fields both formats start with. */
static cJSON *add_context(cJSON *ev, const struct pt_request *r)
{
    cJSON *ctx = cJSON_AddObjectToObject(ev, "requestContext");
    size_t len = strcspn(r->domain_name, ".:");
    char *prefix = pt_xstrndup(r->domain_name, len); /* "abc.example.com:80" -> "abc" */

    cJSON_AddStringToObject(ctx, "accountId", ACCOUNT_ID);
    cJSON_AddStringToObject(ctx, "apiId", r->api_name);
    cJSON_AddStringToObject(ctx, "domainName", r->domain_name);
    cJSON_AddStringToObject(ctx, "domainPrefix", prefix);
    free(prefix);
    return ctx;
}

/* ---- The authorizer's context ---- */

void pt_lambda_add_authorizer(cJSON *ctx, const struct pt_request *r, bool flat)
{
    static const char *const kinds[] = {"jwt", "lambda", "iam", NULL};
    const cJSON *a = r->authorizer, *lambda, *jwt, *it, *v;
    cJSON *out, *id;
    size_t i;

    if (a == NULL)
        return;
    if (!flat) {
        out = cJSON_AddObjectToObject(ctx, "authorizer");
        for (i = 0; kinds[i] != NULL; i++)
            if ((v = cJSON_GetObjectItemCaseSensitive(a, kinds[i])) != NULL)
                cJSON_AddItemToObject(out, kinds[i], cJSON_Duplicate(v, 1));
        return;
    }
    out = cJSON_AddObjectToObject(ctx, "authorizer");
    if ((v = cJSON_GetObjectItemCaseSensitive(a, "principalId")) != NULL && cJSON_IsString(v))
        cJSON_AddStringToObject(out, "principalId", v->valuestring);
    lambda = cJSON_GetObjectItemCaseSensitive(a, "lambda");
    cJSON_ArrayForEach(it, lambda)
    {
        /* REST and WebSocket authorizer context values reach functions as strings. */
        if (cJSON_IsString(it)) {
            cJSON_AddStringToObject(out, it->string, it->valuestring);
        } else if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
            char *text = cJSON_PrintUnformatted(it);

            cJSON_AddStringToObject(out, it->string, text);
            cJSON_free(text);
        }
    }
    jwt = cJSON_GetObjectItemCaseSensitive(a, "jwt");
    if ((v = cJSON_GetObjectItemCaseSensitive(jwt, "claims")) != NULL)
        cJSON_AddItemToObject(out, "claims", cJSON_Duplicate(v, 1));
    id = cJSON_GetObjectItemCaseSensitive(ctx, "identity");
    if (id == NULL)
        id = cJSON_AddObjectToObject(ctx, "identity");
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "iam"), "accessKey");
    if (cJSON_IsString(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(id, "accessKey");
        cJSON_AddStringToObject(id, "accessKey", v->valuestring);
    }
    v = cJSON_GetObjectItemCaseSensitive(a, "apiKeyId");
    if (cJSON_IsString(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(id, "apiKeyId");
        cJSON_AddStringToObject(id, "apiKeyId", v->valuestring);
    }
}

/* ---- The events ---- */

static cJSON *event_v2(const struct pt_request *r)
{
    cJSON *ev = cJSON_CreateObject(), *ctx, *http, *q;
    char when[40], *path = percent_decode(r->raw_path);
    size_t i;

    cJSON_AddStringToObject(ev, "version", "2.0");
    cJSON_AddStringToObject(ev, "routeKey", r->route_key);
    cJSON_AddStringToObject(ev, "rawPath", r->raw_path);
    cJSON_AddStringToObject(ev, "rawQueryString", r->query != NULL ? r->query : "");
    add_headers_v2(ev, r);
    if (r->nquery_params > 0) {
        q = cJSON_AddObjectToObject(ev, "queryStringParameters");
        for (i = 0; i < r->nquery_params; i++)
            add_joined(q, r->query_params[i].name, r->query_params[i].value);
    }
    add_kv(ev, "pathParameters", r->path_params, r->npath_params, false);
    add_kv(ev, "stageVariables", r->stage_vars, r->nstage_vars, false);
    ctx = add_context(ev, r);
    http = cJSON_AddObjectToObject(ctx, "http");
    cJSON_AddStringToObject(http, "method", r->method);
    cJSON_AddStringToObject(http, "path", path);
    cJSON_AddStringToObject(http, "protocol", r->protocol);
    cJSON_AddStringToObject(http, "sourceIp", r->source_ip);
    cJSON_AddStringToObject(http, "userAgent", r->user_agent != NULL ? r->user_agent : "");
    cJSON_AddStringToObject(ctx, "requestId", r->request_id);
    cJSON_AddStringToObject(ctx, "routeKey", r->route_key);
    cJSON_AddStringToObject(ctx, "stage", r->stage);
    pt_lambda_add_authorizer(ctx, r, false);
    pt_lambda_http_clf_time(when, sizeof(when), r->request_time_ms);
    cJSON_AddStringToObject(ctx, "time", when);
    cJSON_AddNumberToObject(ctx, "timeEpoch", (double)r->request_time_ms);
    add_body(ev, r, false);
    free(path);
    return ev;
}

static void add_identity_v1(cJSON *ctx, const struct pt_request *r)
{
    static const char *const nulls[] = {"accessKey",
                                        "accountId",
                                        "caller",
                                        "cognitoAmr",
                                        "cognitoAuthenticationProvider",
                                        "cognitoAuthenticationType",
                                        "cognitoIdentityId",
                                        "cognitoIdentityPoolId",
                                        "principalOrgId",
                                        NULL};
    cJSON *id = cJSON_AddObjectToObject(ctx, "identity");
    size_t i;

    for (i = 0; nulls[i] != NULL; i++)
        cJSON_AddNullToObject(id, nulls[i]);
    cJSON_AddStringToObject(id, "sourceIp", r->source_ip);
    cJSON_AddNullToObject(id, "user");
    cJSON_AddStringToObject(id, "userAgent", r->user_agent != NULL ? r->user_agent : "");
    cJSON_AddNullToObject(id, "userArn");
}

static cJSON *event_v1(const struct pt_request *r)
{
    cJSON *ev = cJSON_CreateObject(), *ctx, *q, *mq;
    const char *space = strchr(r->route_key, ' ');
    const char *resource = space != NULL ? space + 1 : r->route_key; /* "$default" as is */
    char when[40], *path = percent_decode(r->raw_path);
    size_t i;

    cJSON_AddStringToObject(ev, "version", "1.0");
    cJSON_AddStringToObject(ev, "resource", resource);
    cJSON_AddStringToObject(ev, "path", r->route_path);
    cJSON_AddStringToObject(ev, "httpMethod", r->method);
    add_headers_v1(ev, r);
    if (r->nquery_params > 0) {
        q = cJSON_AddObjectToObject(ev, "queryStringParameters");
        mq = cJSON_AddObjectToObject(ev, "multiValueQueryStringParameters");
        for (i = 0; i < r->nquery_params; i++)
            add_multi(q, mq, r->query_params[i].name, r->query_params[i].value);
    } else {
        cJSON_AddNullToObject(ev, "queryStringParameters");
        cJSON_AddNullToObject(ev, "multiValueQueryStringParameters");
    }
    ctx = add_context(ev, r);
    cJSON_AddStringToObject(ctx, "extendedRequestId", r->request_id);
    cJSON_AddStringToObject(ctx, "httpMethod", r->method);
    add_identity_v1(ctx, r);
    cJSON_AddStringToObject(ctx, "path", path); /* with the stage, as AWS sends it */
    cJSON_AddStringToObject(ctx, "protocol", r->protocol);
    cJSON_AddStringToObject(ctx, "requestId", r->request_id);
    pt_lambda_http_clf_time(when, sizeof(when), r->request_time_ms);
    cJSON_AddStringToObject(ctx, "requestTime", when);
    cJSON_AddNumberToObject(ctx, "requestTimeEpoch", (double)r->request_time_ms);
    cJSON_AddStringToObject(ctx, "resourceId", r->route_key);
    cJSON_AddStringToObject(ctx, "resourcePath", resource);
    cJSON_AddStringToObject(ctx, "stage", r->stage);
    pt_lambda_add_authorizer(ctx, r, true);
    add_kv(ev, "pathParameters", r->path_params, r->npath_params, true);
    add_kv(ev, "stageVariables", r->stage_vars, r->nstage_vars, true);
    add_body(ev, r, true);
    free(path);
    return ev;
}

struct cJSON *pt_lambda_http_event(const struct pt_request *r, enum pt_lambda_http_format fmt)
{
    return fmt == PT_LAMBDA_HTTP_V1 ? event_v1(r) : event_v2(r);
}

/* ---- The result ---- */

/* <item> of <parent> as a string item: a number or boolean is replaced in place by its JSON text,
 * so the tree owns it (the replacement keeps the item's key). NULL for anything else. */
static cJSON *as_string(cJSON *parent, cJSON *item)
{
    char *text;
    cJSON *s;

    if (cJSON_IsString(item))
        return item;
    if (!cJSON_IsNumber(item) && !cJSON_IsBool(item))
        return NULL;
    text = cJSON_PrintUnformatted(item);
    s = cJSON_CreateString(text != NULL ? text : "");
    cJSON_free(text);
    if (s == NULL)
        return NULL;
    s->string = item->string;
    item->string = NULL;
    cJSON_ReplaceItemViaPointer(parent, item, s);
    return s;
}

static bool in_object_nocase(const cJSON *obj, const char *name)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, obj)
    {
        if (strcasecmp(it->string, name) == 0)
            return true;
    }
    return false;
}

/* Fills lr->headers from headers, multiValueHeaders (1.0, winning over headers for the same
 * name) and cookies (2.0), with room for one more, and their count in <n_out>. Returns 0, or
 * PT_EPROTO for a malformed one. */
static int read_headers(struct pt_lambda_http_result *lr, bool v1, size_t *n_out)
{
    cJSON *h = cJSON_GetObjectItemCaseSensitive(lr->json, "headers");
    cJSON *mh = v1 ? cJSON_GetObjectItemCaseSensitive(lr->json, "multiValueHeaders") : NULL;
    cJSON *ck = v1 ? NULL : cJSON_GetObjectItemCaseSensitive(lr->json, "cookies");
    cJSON *it, *next, *v, *s;
    size_t n = 0, cap = 1;

    if ((h != NULL && !cJSON_IsNull(h) && !cJSON_IsObject(h)) ||
        (mh != NULL && !cJSON_IsNull(mh) && !cJSON_IsObject(mh)) ||
        (ck != NULL && !cJSON_IsNull(ck) && !cJSON_IsArray(ck)))
        return PT_EPROTO;
    cap += (size_t)cJSON_GetArraySize(h) + (size_t)cJSON_GetArraySize(ck);
    cJSON_ArrayForEach(it, mh)
    {
        if (!cJSON_IsArray(it))
            return PT_EPROTO;
        cap += (size_t)cJSON_GetArraySize(it);
    }
    lr->headers = pt_xcalloc(cap, sizeof(*lr->headers));
    for (it = h != NULL ? h->child : NULL; it != NULL; it = next) {
        next = it->next; /* as_string() may replace it */
        if (cJSON_IsNull(it) || (mh != NULL && in_object_nocase(mh, it->string)))
            continue;
        if ((s = as_string(h, it)) == NULL)
            return PT_EPROTO;
        lr->headers[n++] = (struct pt_kv){s->string, s->valuestring};
    }
    cJSON_ArrayForEach(it, mh)
    {
        for (v = it->child; v != NULL; v = next) {
            next = v->next;
            if ((s = as_string(it, v)) == NULL)
                return PT_EPROTO;
            lr->headers[n++] = (struct pt_kv){it->string, s->valuestring};
        }
    }
    cJSON_ArrayForEach(it, ck)
    {
        if (!cJSON_IsString(it))
            return PT_EPROTO;
        lr->headers[n++] = (struct pt_kv){"Set-Cookie", it->valuestring};
    }
    *n_out = n;
    return 0;
}

static bool has_header(const struct pt_result *res, const char *name)
{
    size_t i;

    for (i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return true;
    return false;
}

/* The full form {statusCode, headers, multiValueHeaders, cookies, body, isBase64Encoded}. */
static int read_full(struct pt_lambda_http_result *lr, bool v1, struct pt_result *res)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(lr->json, "statusCode");
    size_t n = 0;
    int rc;

    if (!cJSON_IsNumber(status) || status->valuedouble != (double)(int)status->valuedouble ||
        status->valuedouble < 100 || status->valuedouble > 599)
        return PT_EPROTO;
    res->status = (int)status->valuedouble;
    if (read_headers(lr, v1, &n) != 0)
        return PT_EPROTO;
    res->headers = lr->headers;
    res->nheaders = n;
    rc = pt_lambda_result_body(lr->json, res, &lr->decoded);
    if (rc < 0)
        return PT_EPROTO;
    /* HTTP APIs label an answer whose function named no type as text. */
    if (rc > 0 && !has_header(res, "Content-Type"))
        lr->headers[res->nheaders++] = (struct pt_kv){"content-type", "text/plain; charset=utf-8"};
    return 0;
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int pt_lambda_http_read(struct pt_lambda_http_result *lr, enum pt_lambda_http_format fmt,
                        const char *body, size_t len, struct pt_result *res)
{
    static const struct pt_kv json_type = {"content-type", "application/json"};
    bool v1 = fmt == PT_LAMBDA_HTTP_V1;

    lr->json = cJSON_ParseWithLength(body, len);
    if (lr->json == NULL)
        return PT_EPROTO;
    if (cJSON_IsObject(lr->json) && cJSON_GetObjectItemCaseSensitive(lr->json, "statusCode"))
        return read_full(lr, v1, res);
    if (v1)
        return PT_EPROTO; /* 1.0 infers nothing */
    /* 2.0 without statusCode: the result itself is a 200 JSON answer, a string its own text. */
    res->status = 200;
    res->headers = &json_type;
    res->nheaders = 1;
    if (cJSON_IsString(lr->json)) {
        res->body = lr->json->valuestring;
        res->body_len = strlen(lr->json->valuestring);
        return 0;
    }
    while (len > 0 && is_json_space(body[0])) {
        body++;
        len--;
    }
    while (len > 0 && is_json_space(body[len - 1]))
        len--;
    res->body = body;
    res->body_len = len;
    return 0;
}

void pt_lambda_http_result_cleanup(struct pt_lambda_http_result *lr)
{
    cJSON_Delete(lr->json);
    free(lr->headers);
    free(lr->decoded);
    *lr = (struct pt_lambda_http_result){0};
}
