/* HTTP/1.1 request parsing: a complete header block is parsed in one pass into slices of the
 * caller's buffer (nothing is copied, nothing is decoded: the path is kept exactly as it came on
 * the wire, as SigV4 needs). Pure: no I/O. */
#ifndef PT_HTTP1_H
#define PT_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_HTTP1_MAX_HEADERS 64

struct pt_slice {
    const char *p; /* borrowed: points into the parsed buffer */
    size_t len;
};

struct pt_http1_header {
    struct pt_slice name;  /* as sent (any case) */
    struct pt_slice value; /* leading and trailing spaces/tabs trimmed */
};

struct pt_http1_req {
    struct pt_slice method;
    struct pt_slice target; /* the request target as sent: path plus '?' query */
    struct pt_slice path;   /* the target up to '?' (raw, percent-encoded as sent) */
    struct pt_slice query;  /* after '?', without it; len 0 when absent */
    int minor_version;      /* HTTP/1.<minor_version>: 0 or 1 */
    struct pt_http1_header headers[PT_HTTP1_MAX_HEADERS];
    size_t nheaders;
    /* Derived from the headers: */
    long long content_length; /* -1 when absent */
    bool chunked;             /* Transfer-Encoding: chunked (last coding) */
    bool keep_alive;          /* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
    bool upgrade_websocket;   /* "Upgrade: websocket" and "Connection" has the upgrade token */
};

/* Parses the request head at the start of <buf> (<len> bytes).
 * Returns the length of the head (through the blank line) when it is complete,
 * 0 when more bytes are needed (PT_EAGAIN is not used, to keep the sizes positive), or
 * PT_EPROTO for a malformed request (bad request line, a header without ':', control
 * characters, more than PT_HTTP1_MAX_HEADERS headers, both Content-Length and chunked,
 * conflicting or invalid Content-Length), or PT_ETOOBIG when no complete head fits in <max>
 * bytes (<len> >= <max>). Bare LF line endings are accepted. */
int pt_http1_parse_request(const char *buf, size_t len, size_t max, struct pt_http1_req *req);

/* The value of header <name> (case-insensitive), or NULL. With several, the first. */
const struct pt_slice *pt_http1_header(const struct pt_http1_req *req, const char *name);

/* Incremental in-place decoding of a chunked body. */
struct pt_http1_chunked {
    int state;          /* private */
    uint64_t remaining; /* private: bytes left in the current chunk */
};

/* Decodes the chunked bytes in <buf>[0..*len) in place: on return the first *len bytes of buf
 * are body data. Returns 1 when the terminating chunk (and trailers) have been consumed, with
 * *consumed set to the number of input bytes that belonged to the body (the rest is the next
 * request); 0 when more input is needed (all input consumed); PT_EPROTO on malformed input.
 * Chunk sizes beyond 2^62 are malformed. */
int pt_http1_chunked_decode(struct pt_http1_chunked *st, char *buf, size_t *len, size_t *consumed);

/* Percent-decodes <n> bytes of <s> into <out> (which has room for n + 1 bytes); returns the
 * decoded length, or PT_EINVAL on a malformed escape. With <plus_is_space>, '+' becomes ' '
 * (query strings). <out> is NUL-terminated. */
int pt_http1_percent_decode(const char *s, size_t n, char *out, bool plus_is_space);

/* ---- Responses (for the upstream client) ---- */

struct pt_http1_resp {
    int status;        /* 100..599 */
    int minor_version; /* HTTP/1.<minor_version> */
    struct pt_slice reason;
    struct pt_http1_header headers[PT_HTTP1_MAX_HEADERS];
    size_t nheaders;
    /* Derived from the headers: */
    long long content_length; /* -1 when absent */
    bool chunked;             /* Transfer-Encoding: chunked */
    bool keep_alive;          /* the connection may be reused after this response */
};

/* Parses a response head at the start of <buf> like pt_http1_parse_request(): returns the head
 * length when complete, 0 when more bytes are needed, PT_EPROTO when malformed (bad status
 * line, bad header, conflicting Content-Length, a Transfer-Encoding other than chunked), or
 * PT_ETOOBIG when no complete head fits in <max> bytes. The caller decides the body's framing:
 * none for 1xx, 204, 304 and responses to HEAD; chunked; Content-Length; else until close. */
int pt_http1_parse_response(const char *buf, size_t len, size_t max, struct pt_http1_resp *resp);

#endif
