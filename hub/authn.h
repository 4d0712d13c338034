/* SigV4 authentication of HTTP requests (authn.c). */
#ifndef PT_AUTHN_H
#define PT_AUTHN_H

#include <stdbool.h>

#include "sigv4.h"

struct pt_http;

/* Verifies <h>'s signature (Authorization header or presigned query string, 15-minute window,
 * any region, service execute-api). Fills <res> when not NULL. */
enum pt_sigv4_status pt_authn_sigv4(struct pt_http *h, struct pt_sigv4_result *res);

/* The same, answering <h> with the AWS error (403 MissingAuthenticationToken,
 * IncompleteSignature, UnrecognizedClient, InvalidSignature) and returning false on failure. */
bool pt_authn_sigv4_ok(struct pt_http *h, struct pt_sigv4_result *res);

#endif
