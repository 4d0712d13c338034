/* The AWS error responses of the management API (SPEC section 3): one table of status,
 * x-amzn-ErrorType and default message, so no file invents its own error body. */
#ifndef PT_AWSERR_H
#define PT_AWSERR_H

struct pt_http;

enum pt_awserr {
    PT_AWSERR_GONE,                 /* 410, empty body */
    PT_AWSERR_BAD_REQUEST,          /* 400 */
    PT_AWSERR_MISSING_TOKEN,        /* 403 */
    PT_AWSERR_INCOMPLETE_SIGNATURE, /* 403 */
    PT_AWSERR_INVALID_SIGNATURE,    /* 403 */
    PT_AWSERR_UNRECOGNIZED_CLIENT,  /* 403 */
    PT_AWSERR_FORBIDDEN,            /* 403 */
    PT_AWSERR_PAYLOAD_TOO_LARGE,    /* 413 */
    PT_AWSERR_LIMIT_EXCEEDED,       /* 429 */
    PT_AWSERR_METHOD_NOT_ALLOWED,   /* 405 */
    PT_AWSERR_SERVICE_UNAVAILABLE,  /* 503: the cluster cannot reach the node that would answer */
};

/* Answers the HTTP request <h> with error <e>; <message> replaces the default
 * message when not NULL (it is JSON-escaped). */
void pt_awserr_respond(struct pt_http *h, enum pt_awserr e, const char *message);

#endif
