/* Lambda proxy payloads for HTTP API routes (AWS-BEHAVIOUR 2.3 and 2.4): the event of payload
 * format 2.0 or 1.0 built from a request, and the function's result mapped to an HTTP answer.
 * Used by backends/aws_proxy.c; not a backend itself. Pure: no I/O, no loop. */
#ifndef PT_LAMBDA_HTTP_H
#define PT_LAMBDA_HTTP_H

#include <stddef.h>

#include "portico/backend.h"

struct cJSON;

/* payloadFormatVersion, numbered as aws_proxy's config enum lists them. */
enum pt_lambda_http_format {
    PT_LAMBDA_HTTP_V1 = 0, /* "1.0" */
    PT_LAMBDA_HTTP_V2 = 1, /* "2.0", the default */
};

/* What a mapped result borrows from: owned here, freed by pt_lambda_http_result_cleanup(). */
struct pt_lambda_http_result {
    struct cJSON *json;     /* the parsed result */
    struct pt_kv *headers;  /* the answer's headers; values point into json or are literals */
    unsigned char *decoded; /* a base64 body, decoded */
};

/* The event for HTTP request <r> (type PT_EVENT_HTTP) in format <fmt>. Returns an owned tree
 * (cJSON_Delete() it), or NULL when out of memory. */
struct cJSON *pt_lambda_http_event(const struct pt_request *r, enum pt_lambda_http_format fmt);

/* Maps the function's result, the <len> bytes at <body> that the Invoke API answered, to <res>
 * as AWS HTTP APIs do: 2.0 infers a 200 JSON answer for a result without statusCode and turns
 * cookies into Set-Cookie headers; 1.0 requires statusCode and merges multiValueHeaders over
 * headers. <lr> must be zeroed before; <res> borrows from <lr> and from <body> until
 * pt_lambda_http_result_cleanup(). Returns 0, or PT_EPROTO for a malformed result. */
int pt_lambda_http_read(struct pt_lambda_http_result *lr, enum pt_lambda_http_format fmt,
                        const char *body, size_t len, struct pt_result *res);

/* Frees what pt_lambda_http_read() kept and zeroes <lr>. */
void pt_lambda_http_result_cleanup(struct pt_lambda_http_result *lr);

/* Standard base64 of the <n> bytes at <p>: an owned NUL-terminated string. */
char *pt_lambda_http_base64(const void *p, size_t n);

/* Adds requestContext.authorizer (and identity.accessKey/apiKeyId where the format has them)
 * from the request's authorizer context: as it is for payload 2.0 ({"jwt":...}, {"lambda":...},
 * {"iam":...}), flattened for 1.0 and WebSocket events (principalId, the context's keys as
 * strings, and "claims" for a JWT), as AWS shapes each. */
void pt_lambda_add_authorizer(struct cJSON *ctx, const struct pt_request *r, bool flat);

/* Points <res>'s body at a Lambda result's "body" (a string; absent or null is no body), decoded
 * into *<decoded> (the caller's to free) when "isBase64Encoded" is true. Returns 1 with a body, 0
 * without, -1 when the body is not a string or not base64. */
int pt_lambda_result_body(const struct cJSON *result, struct pt_result *res,
                          unsigned char **decoded);

/* Formats epoch <ms> as AWS's requestTime: "20/Jan/2024:11:55:08 +0000". */
void pt_lambda_http_clf_time(char *out, size_t n, long long ms);

#endif
