/* CORS for HTTP APIs, as the SPEC's `cors` block and AWS HTTP APIs define it: preflights are
 * answered by Portico without calling the integration, and responses to allowed origins get
 * the Access-Control-* headers (the backend's own CORS headers are dropped, as AWS does). */
#ifndef PT_CORS_H
#define PT_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "portico/kv.h"

struct cJSON;
struct pt_errors;

struct pt_cors {
    char **origins; /* owned; "*" allows any */
    size_t norigins;
    char *methods;        /* owned, comma-joined, upper case; NULL: none configured */
    char *headers;        /* owned, comma-joined, lower case; NULL: none */
    char *expose_headers; /* owned, comma-joined; NULL: none */
    char max_age[24];     /* "" when not configured */
    bool credentials;
};

/* Parses a `cors` object at JSON path <path>. Returns an owned struct, or NULL after reporting
 * the problems to <errs>. */
struct pt_cors *pt_cors_parse(const struct cJSON *obj, const char *path, struct pt_errors *errs);
void pt_cors_free(struct pt_cors *c);

/* The largest number of headers the two functions below add. */
#define PT_CORS_MAX_HEADERS 5

/* Is this request a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)? */
bool pt_cors_is_preflight(const char *method, const char *origin, const char *request_method);

/* Headers for a preflight answer from <origin> (NULL when absent); fills <out> (room for
 * PT_CORS_MAX_HEADERS) with borrowed strings (from <c> or <origin>) and returns how many: 0 when
 * the origin is not allowed. */
size_t pt_cors_preflight(const struct pt_cors *c, const char *origin, struct pt_kv *out);

/* Headers added to an ordinary response for <origin>; 0 when not allowed. */
size_t pt_cors_response(const struct pt_cors *c, const char *origin, struct pt_kv *out);

/* True for a response header that CORS owns (the backend's copy is dropped). */
bool pt_cors_is_cors_header(const char *name);

#endif
