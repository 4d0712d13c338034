/* AWS-shaped error responses (see awserr.h). The SDKs name the exception from the
 * x-amzn-ErrorType header, so that header matters more than the status. */
#include "awserr.h"

#include <string.h>

#include "conn.h"
#include "http.h"
#include "portico/buf.h"

static const struct {
    int status;
    const char *type;
    const char *message; /* NULL: an empty body, as AWS sends for 410 */
} errors[] = {
    [PT_AWSERR_GONE] = {410, "GoneException", NULL},
    [PT_AWSERR_BAD_REQUEST] = {400, "BadRequestException", "Bad Request"},
    [PT_AWSERR_MISSING_TOKEN] = {403, "MissingAuthenticationTokenException",
                                 "Missing Authentication Token"},
    [PT_AWSERR_INCOMPLETE_SIGNATURE] = {403, "IncompleteSignatureException",
                                        "Incomplete signature"},
    [PT_AWSERR_INVALID_SIGNATURE] = {403, "InvalidSignatureException",
                                     "The request signature we calculated does not match the "
                                     "signature you provided. Check your AWS Secret Access Key "
                                     "and signing method. Consult the service documentation for "
                                     "details."},
    [PT_AWSERR_UNRECOGNIZED_CLIENT] = {403, "UnrecognizedClientException",
                                       "The security token included in the request is invalid."},
    [PT_AWSERR_FORBIDDEN] = {403, "ForbiddenException", "Forbidden"},
    [PT_AWSERR_PAYLOAD_TOO_LARGE] = {413, "PayloadTooLargeException", "Request entity too large"},
    [PT_AWSERR_LIMIT_EXCEEDED] = {429, "LimitExceededException", "Limit Exceeded"},
    [PT_AWSERR_METHOD_NOT_ALLOWED] = {405, "MethodNotAllowedException", "Method Not Allowed"},
    [PT_AWSERR_SERVICE_UNAVAILABLE] = {503, "ServiceUnavailableException", "Service Unavailable"},
};

void pt_awserr_respond(struct pt_http *h, enum pt_awserr e, const char *message)
{
    struct pt_kv hdrs[2] = {
        {"x-amzn-ErrorType", errors[e].type},
        {"x-amzn-RequestId", h->request_id},
    };
    struct pt_buf body;
    const char *msg = message != NULL ? message : errors[e].message;

    pt_buf_init(&body);
    if (msg != NULL) {
        pt_buf_puts(&body, "{\"message\":\"");
        pt_buf_json_escape(&body, msg, strlen(msg));
        pt_buf_puts(&body, "\"}");
    }
    h->error = msg != NULL ? msg : errors[e].type;
    pt_http_respond(h, errors[e].status, hdrs, 2, msg != NULL ? "application/json" : NULL,
                    body.data, body.len);
    pt_buf_cleanup(&body);
}
