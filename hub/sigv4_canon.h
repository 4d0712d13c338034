/* SigV4 canonicalisation, private to hub/sigv4.c: percent-encoding, the canonical query and
 * the canonical headers of a canonical request. The canonical URI is the public
 * pt_sigv4_canonicalize_path() in sigv4.h. Pure: no I/O, no globals, nothing kept. */
#ifndef PT_SIGV4_CANON_H
#define PT_SIGV4_CANON_H

#include <stdbool.h>
#include <stddef.h>

#include "portico/buf.h"
#include "portico/kv.h"
#include "sigv4.h"

/* Signed header names: point into a NUL-separated store owned by the caller of the parser. */
struct pt_sigv4_canon_names {
    const char *name[PT_SIGV4_MAX_SIGNED_HEADERS];
    size_t n;
};

/* ASCII-only case folding and whitespace, whatever the locale. */
static inline char pt_sigv4_canon_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static inline bool pt_sigv4_canon_ieq(const char *a, const char *b)
{
    while (*a != '\0' && pt_sigv4_canon_lower(*a) == pt_sigv4_canon_lower(*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

static inline bool pt_sigv4_canon_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Appends s[0..n) to b with every byte that is not unreserved (A-Za-z0-9-._~) and not in
 * keep (a NUL-terminated set, may be "") as %XX, uppercase hex. A NUL byte in s is encoded. */
void pt_sigv4_canon_encode(struct pt_buf *b, const char *s, size_t n, const char *keep);

/* Appends the canonical query of the decoded params q[0..n) to out (names and values
 * RFC 3986-encoded, sorted by name then value, joined by '&'), leaving out X-Amz-Signature
 * when presigned. NULL names and values count as "". Returns 0, or -1 with out untouched when
 * n is over PT_SIGV4_MAX_PARAMS or the names and values over PT_SIGV4_MAX_QUERY_BYTES. */
int pt_sigv4_canon_append_query(struct pt_buf *out, const struct pt_kv *q, size_t n,
                                bool presigned);

/* The same for a query string q as it goes on the wire ("a=1&b=%20", without '?'), for
 * signing: each name and value is %XX-decoded first (malformed escapes stay literal; '+' is a
 * plus sign). Returns 0, or -1 when q is over PT_SIGV4_MAX_QUERY_BYTES or has more than
 * PT_SIGV4_MAX_PARAMS parameters; the parameters within the bounds are appended either way. */
int pt_sigv4_canon_append_query_string(struct pt_buf *out, const char *q);

/* Appends "\nheaders\nsigned\npayload_hash", everything after the canonical query: for each
 * name of sh (lowercase, sorted), "name:v1,v2\n" with the values of every header in h[0..nh)
 * of that name (any case) in arrival order, trimmed and with inner whitespace runs collapsed
 * to one space. Returns 0, or -1 (b partly appended) when a signed header value is over
 * PT_SIGV4_MAX_HEADER_BYTES. */
int pt_sigv4_canon_append_headers(struct pt_buf *b, const struct pt_sigv4_canon_names *sh,
                                  const struct pt_kv *h, size_t nh, const char *payload_hash);

/* Appends the names of sh joined by ';': the SignedHeaders value. */
void pt_sigv4_canon_append_signed(struct pt_buf *b, const struct pt_sigv4_canon_names *sh);

#endif
