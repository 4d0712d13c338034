/* AWS Signature Version 4 (AWS4-HMAC-SHA256): signing and verification of HTTP requests.
 * Pure: no I/O, no event loop, no clock; the caller passes the time. Canonicalisation follows
 * the non-S3 rules AWS applies to execute-api (shared/AWS-BEHAVIOUR.md section 3.5): the wire
 * path is normalised and percent-encoded once more, so "%3D" on the wire signs as "%253D". */
#ifndef PT_SIGV4_H
#define PT_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/buf.h"
#include "portico/kv.h"

/* Bounds on what a request may carry. A request over any of them is MALFORMED (verify) or
 * PT_EINVAL (sign); nothing larger is ever copied or allocated. */
#define PT_SIGV4_MAX_SIGNED_HEADERS 64    /* names in SignedHeaders */
#define PT_SIGV4_MAX_HEADERS        256   /* entries in the request's header list */
#define PT_SIGV4_MAX_AUTH_BYTES     4096  /* Authorization value, X-Amz-SignedHeaders */
#define PT_SIGV4_MAX_HEADER_BYTES   8192  /* one signed header value */
#define PT_SIGV4_MAX_PATH_BYTES     8192  /* one wire path */
#define PT_SIGV4_MAX_PARAMS         128   /* query parameters */
#define PT_SIGV4_MAX_QUERY_BYTES    16384 /* all query names and values together */
#define PT_SIGV4_MAX_KEY_ID_BYTES   128   /* access key id */
#define PT_SIGV4_MAX_REGION_BYTES   64
#define PT_SIGV4_MAX_EXPIRES_S      604800 /* X-Amz-Expires upper bound (7 days) */
#define PT_SIGV4_MAX_PATHS          4      /* candidate wire paths tried per request */
#define PT_SIGV4_MESSAGE_BYTES      320

/* Verification outcomes; the hub maps each to one AWS error, all of them 403. */
enum pt_sigv4_status {
    PT_SIGV4_OK = 0,
    PT_SIGV4_MISSING,     /* no Authorization, no X-Amz-Signature: MissingAuthenticationToken */
    PT_SIGV4_MALFORMED,   /* unparseable or incomplete: IncompleteSignatureException + message */
    PT_SIGV4_UNKNOWN_KEY, /* the secret callback returned NULL: UnrecognizedClientException */
    PT_SIGV4_EXPIRED,     /* outside the time window: InvalidSignatureException + message */
    PT_SIGV4_MISMATCH,    /* wrong signature or scope: InvalidSignatureException + message */
};

/* Returns the secret access key of access_key_id (borrowed: must stay valid until
 * pt_sigv4_verify() returns), or NULL when the key is unknown. Called at most once per
 * verification, synchronously, on the caller's thread. */
typedef const char *pt_sigv4_secret_fn(void *ud, const char *access_key_id);

/* What the verifier is configured with; typically built once from the config snapshot. */
struct pt_sigv4_verifier {
    const char *service;           /* borrowed: the only accepted scope service, "execute-api" */
    int64_t skew_s;                /* accepted |X-Amz-Date - now|, e.g. 900 */
    pt_sigv4_secret_fn *secret_fn; /* secret lookup */
    void *ud;                      /* borrowed: passed to secret_fn */
};

/* A received request, as the HTTP server hands it over. Every pointer is borrowed for the
 * duration of pt_sigv4_verify(). Header names have no trailing ':' (HTTP/2 ":authority"
 * must be passed as "host"). Query names and values are percent-DECODED; '+' is a literal
 * plus sign, as RFC 3986 and AWS have it. */
struct pt_sigv4_request {
    const char *method;          /* "GET", "POST", ... */
    const char *const *paths;    /* candidate wire paths (pt_sigv4_build_paths()) */
    size_t n_paths;              /* 0..PT_SIGV4_MAX_PATHS; candidates past the bound are ignored */
    const char *verbatim_path;   /* or NULL: also tried as the canonical URI exactly as it is,
                                  * neither normalised nor encoded: curl 7.88's --aws-sigv4
                                  * signs the wire path that way */
    const struct pt_kv *query;   /* decoded query parameters, any order, duplicates allowed */
    size_t n_query;              /* <= PT_SIGV4_MAX_PARAMS */
    const struct pt_kv *headers; /* request headers, names in any case, duplicates allowed */
    size_t n_headers;            /* <= PT_SIGV4_MAX_HEADERS */
    const void *body;            /* raw body; may be NULL when body_len is 0 */
    size_t body_len;
};

/* The verdict. Filled on every outcome. */
struct pt_sigv4_result {
    enum pt_sigv4_status status;
    bool presigned;                                    /* signature came from the query string */
    char access_key_id[PT_SIGV4_MAX_KEY_ID_BYTES + 1]; /* "" until the credential parsed */
    char region[PT_SIGV4_MAX_REGION_BYTES + 1];        /* from the credential scope, or "" */
    char message[PT_SIGV4_MESSAGE_BYTES];              /* AWS-style text for the error body; ""
                                                        * on OK. Never contains a secret. */
};

/* Verifies req against the Authorization header, or else against presigned query parameters
 * (X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Signature, and optionally -Expires
 * and -Security-Token). The date is X-Amz-Date (header or query) or the Date header; it must
 * not be more than v->skew_s after now_s (unix seconds), nor more than v->skew_s before it,
 * except that a presigned request with X-Amz-Expires (1..604800) lives that long instead.
 * Any region is accepted; the service must equal v->service; the scope date must be
 * X-Amz-Date's day; "host" must be signed. The payload hash is the body's SHA-256, or the
 * x-amz-content-sha256 header when present (either "UNSIGNED-PAYLOAD" or the body's hex
 * SHA-256; any other value is a MISMATCH). The request is accepted when any candidate path,
 * or verbatim_path, yields the signature (compared in constant time).
 * Returns res->status. Never crashes or reads out of bounds on any input; allocates
 * temporarily, frees everything before returning. */
enum pt_sigv4_status pt_sigv4_verify(const struct pt_sigv4_verifier *v,
                                     const struct pt_sigv4_request *req, int64_t now_s,
                                     struct pt_sigv4_result *res);

/* ---- Candidate wire paths ---- */

/* For HTTP layers that hand over the path percent-DECODED (lws does), while SigV4 signs it as
 * it was on the wire. These are the wire forms real clients send, in this order, duplicates
 * removed:
 *   1. bytes outside A-Za-z0-9-._~/@ percent-encoded (AWS SDKs: "/prod/@connections/ab%3D");
 *   2. the same with '@' as %40 (awscurl: "/prod/%40connections/ab%3D");
 *   3. the decoded path as is (clients that send '=' raw; curl --aws-sigv4 does, and signs it
 *      unencoded, so pass this one as verbatim_path too). */
struct pt_sigv4_paths {
    const char *path[PT_SIGV4_MAX_PATHS]; /* path[0..count): point into _mem */
    size_t count;
    char *_mem; /* owned */
};

/* Fills p (caller-provided storage) from the decoded path. Returns 0, or PT_EINVAL when
 * decoded_path is NULL or longer than PT_SIGV4_MAX_PATH_BYTES (then p->count is 0). Either
 * way p must be released with pt_sigv4_cleanup_paths(). */
int pt_sigv4_build_paths(struct pt_sigv4_paths *p, const char *decoded_path);
void pt_sigv4_cleanup_paths(struct pt_sigv4_paths *p);

/* ---- Signing ---- */

/* A request to sign. Every pointer is borrowed for the duration of pt_sigv4_sign(). */
struct pt_sigv4_sign_req {
    const char *method;
    const char *path;            /* wire path, exactly as it will be sent */
    const char *query;           /* encoded query string as it will be sent, without '?'; or NULL */
    const struct pt_kv *headers; /* must include host; all of them are signed, plus x-amz-date
                                  * from now_s (a caller's x-amz-date is dropped). An
                                  * x-amz-content-sha256 header replaces the body hash, as on
                                  * the verifying side. */
    size_t n_headers;            /* < PT_SIGV4_MAX_SIGNED_HEADERS */
    const void *body;            /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *access_key_id;
    const char *secret; /* secret access key; never copied into the output */
    const char *region;
    const char *service;
    int64_t now_s;     /* unix seconds: becomes X-Amz-Date */
    bool presign;      /* sign the query string (X-Amz-*) instead of adding a header */
    int64_t expires_s; /* presign: X-Amz-Expires, 1..604800, or 0 to leave it out */
};

/* The signature and every intermediate piece, for the sender and for known-answer tests. */
struct pt_sigv4_sig {
    char amz_date[17];               /* "YYYYMMDDTHHMMSSZ": send it as X-Amz-Date */
    char signature[65];              /* lowercase hex */
    struct pt_buf authorization;     /* owned: the Authorization header value; empty if presign */
    struct pt_buf query;             /* owned: the query string to send, without '?': the
                                      * caller's, plus X-Amz-* when presign */
    struct pt_buf canonical_request; /* owned */
    struct pt_buf string_to_sign;    /* owned */
};

/* Signs in and fills out (caller-provided storage, initialised here). Returns 0, or
 * PT_EINVAL on a missing field, no host header, a bound exceeded, or a time outside years
 * 1970..9999. Either way out must be released with pt_sigv4_cleanup_sig(). */
int pt_sigv4_sign(const struct pt_sigv4_sign_req *in, struct pt_sigv4_sig *out);
void pt_sigv4_cleanup_sig(struct pt_sigv4_sig *s);

/* Appends the canonical URI of wire_path to out: dot and empty segments removed (a trailing
 * '/' kept), then every byte outside A-Za-z0-9-._~/ percent-encoded with uppercase hex.
 * "/prod/@connections/ab%3D" gives "/prod/%40connections/ab%253D"; "" gives "/". */
void pt_sigv4_canonicalize_path(struct pt_buf *out, const char *wire_path);

#endif
