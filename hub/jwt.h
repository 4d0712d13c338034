/* JSON Web Tokens for JWT authorizers (SPEC section 6, AWS-BEHAVIOUR.md section 4.1): strict
 * compact JWS parsing, RS256/PS256/ES256 signatures against a JWKS key set, HS256 against a
 * configured secret, then the exp/nbf/iat/iss/aud/client_id claim rules and scope checks.
 * Pure: no I/O, no event loop, no clock (the caller passes the time). Fetching, caching and
 * refreshing the JWKS document is the caller's job; hub/jwks.c turns its text into keys. */
#ifndef PT_JWT_H
#define PT_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define PT_JWT_MAX_TOKEN_BYTES  16384  /* a longer token is MALFORMED, before any allocation */
#define PT_JWT_MAX_DEPTH        16     /* nesting of objects/arrays in the header and the claims */
#define PT_JWT_LEEWAY_S         60     /* SPEC section 6: exp, nbf and iat tolerance */
#define PT_JWT_MIN_SECRET_BYTES 32     /* RFC 7518 section 3.2: an HS256 key of >= 256 bits */
#define PT_JWKS_MAX_BYTES       150000 /* AWS's JWKS response limit; larger is PT_ETOOBIG */
#define PT_JWKS_MAX_DEPTH       16
#define PT_JWKS_MAX_KEYS        64  /* usable keys per set; more is PT_EINVAL */
#define PT_JWKS_MAX_KID_BYTES   256 /* a key with a longer kid is skipped */

/* The algorithms Portico verifies. Everything else ("none", HS384, RS512, ...) is refused. */
enum pt_jwt_alg {
    PT_JWT_HS256, /* only with pt_jwt_verifier.secret, never with a JWKS key */
    PT_JWT_RS256, /* RSASSA-PKCS1-v1_5 SHA-256, kty "RSA" */
    PT_JWT_PS256, /* RSASSA-PSS SHA-256, MGF1 SHA-256, 32-byte salt (RFC 7518 3.5), kty "RSA" */
    PT_JWT_ES256, /* ECDSA P-256 SHA-256, signature R||S (64 bytes), kty "EC" crv "P-256" */
};

/* Verification outcomes. Every status but OK means 401 {"message":"Unauthorized"}. */
enum pt_jwt_status {
    PT_JWT_OK = 0,
    PT_JWT_MALFORMED,     /* not a strict compact JWS, or header/claims not acceptable JSON,
                           * crit present, exp missing, a claim of the wrong type */
    PT_JWT_ALG_REFUSED,   /* alg not allowed, or nothing configured for it (HS256 without a
                           * secret, RS256 without a JWKS), or kid names a key of another kty */
    PT_JWT_UNKNOWN_KID,   /* no key in the set for this token: the caller may refetch the JWKS
                           * (at most once a minute) and verify again */
    PT_JWT_BAD_SIGNATURE, /* a candidate key (or the secret) was tried and did not verify */
    PT_JWT_EXPIRED,       /* now >= exp + leeway */
    PT_JWT_NOT_YET_VALID, /* now + leeway < nbf, or now + leeway < iat */
    PT_JWT_BAD_ISSUER,    /* iss missing or not exactly the configured issuer */
    PT_JWT_BAD_AUDIENCE,  /* aud (or client_id when aud is absent) matches no audience */
};

/* A parsed JWKS: immutable once built, reference counted (atomically), so one set may be used
 * by several workers at once and replaced by a refetch while verifications still hold it. */
struct pt_jwks;

/* What a JWT authorizer verifies against; typically built once from the config snapshot.
 * All pointers are borrowed for the duration of pt_jwt_verify(). */
struct pt_jwt_verifier {
    const struct pt_jwks *jwks;   /* RS256/PS256/ES256 keys, or NULL: those algs are refused */
    const void *secret;           /* HS256 key bytes, or NULL: HS256 is refused */
    size_t secret_len;            /* HS256 is refused when < PT_JWT_MIN_SECRET_BYTES */
    const char *issuer;           /* iss must equal it exactly; NULL: iss is not checked */
    const char *const *audiences; /* aud, else client_id, must equal one of them */
    size_t n_audiences;           /* 0: the audience is not checked */
    int64_t leeway_s;             /* PT_JWT_LEEWAY_S */
};

/* The verdict. Filled on every outcome. */
struct pt_jwt_result {
    enum pt_jwt_status status;
    const char *reason;   /* static text for logs and the www-authenticate error_description:
                           * never NULL, no quotes, never contains bytes of the token */
    struct cJSON *claims; /* PT_JWT_OK: the claims object, owned by the caller (cJSON_Delete);
                           * NULL on every other status */
};

/* Verifies token[0..len), a bare compact JWS (the caller strips "Bearer "), at now_s (unix
 * seconds). Strict: exactly three base64url segments without padding and with canonical
 * trailing bits, at most PT_JWT_MAX_TOKEN_BYTES; header and claims must be UTF-8 JSON objects
 * without duplicate member names, "\u0000" escapes or nesting over PT_JWT_MAX_DEPTH. The header
 * needs a string alg, may have string kid and typ, must not have crit; keys it names (jwk, jku,
 * x5u, x5c) are ignored. HS256 uses only v->secret; RS256, PS256 and ES256 use only v->jwks:
 * with a kid, only keys with that kid; without one, every key of the alg's kty (and whose own
 * alg, when the JWK has one, is this alg). The signature is checked before the claims are
 * parsed. Then exp is required; exp, nbf and iat are numbers checked with v->leeway_s; iss and
 * aud/client_id as described in struct pt_jwt_verifier.
 * Returns res->status. Thread-safe for concurrent calls sharing v and its key set. Never
 * crashes or reads out of bounds on any input; frees everything but res->claims. */
enum pt_jwt_status pt_jwt_verify(const struct pt_jwt_verifier *v, const char *token, size_t len,
                                 int64_t now_s, struct pt_jwt_result *res);

/* True when the claims grant at least one of scopes[0..n_scopes): "scope" is a space-separated
 * string, "scp" a space-separated string or an array of strings (AWS accepts either claim).
 * Comparison is exact. n_scopes 0 (a route without authorizationScopes) is always true. */
bool pt_jwt_has_scope(const struct cJSON *claims, const char *const *scopes, size_t n_scopes);

/* The token's scopes (from "scope", then "scp") as a new JSON array of strings owned by the
 * caller, for requestContext.authorizer.jwt.scopes; NULL when the claims carry neither. */
struct cJSON *pt_jwt_scopes(const struct cJSON *claims);

/* ---- Building blocks, shared with hub/jwks.c ---- */

/* Decodes strict base64url (RFC 4648 section 5, no padding, no whitespace, unused trailing
 * bits zero) into out[0..cap). Returns 0 and sets *out_len, or PT_EINVAL on a bad character
 * or length, or PT_ETOOBIG when the result does not fit in cap. Empty input decodes to 0 bytes. */
int pt_jwt_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                         size_t *out_len);

/* Parses text[0..len) (need not be NUL-terminated) as one JSON value, stricter than cJSON:
 * valid UTF-8, no control characters, no "\u0000" escape, nesting at most max_depth, no
 * duplicate member names in any object, nothing but whitespace after the value. Returns a
 * tree owned by the caller (cJSON_Delete), or NULL. */
struct cJSON *pt_jwt_json_parse(const char *text, size_t len, int max_depth);

/* ---- JWKS key sets (hub/jwks.c) ---- */

/* Parses a JWKS document ({"keys":[...]}, RFC 7517 section 5) of len bytes. Kept: kty "RSA"
 * keys (n, e; 2048 to 8192 bits) and kty "EC" keys (crv "P-256", x and y of 32 bytes, on the
 * curve), with optional string kid; use, when present, "sig"; key_ops, when present, holding
 * "verify"; alg, when present, RS256 or PS256 (RSA) or ES256 (EC). Every other entry, oct keys
 * above all, is skipped without error and counted in pt_jwks_skipped(); private members are
 * ignored. On success returns 0 and *out (one reference, owned by the caller; it may hold zero
 * keys). Otherwise *out is NULL, *err (may be NULL) a static message, and the return value
 * PT_ETOOBIG (over PT_JWKS_MAX_BYTES) or PT_EINVAL (not JSON, no "keys" array, more than
 * PT_JWKS_MAX_KEYS usable keys). Uses OpenSSL 3 EVP_PKEY_fromdata(); no I/O. */
int pt_jwks_parse(const char *json, size_t len, struct pt_jwks **out, const char **err);

/* Takes another reference; returns ks (NULL stays NULL). Any thread. */
struct pt_jwks *pt_jwks_ref(struct pt_jwks *ks);

/* Drops a reference; the last one frees the set and its keys. NULL is a no-op. Any thread. */
void pt_jwks_unref(struct pt_jwks *ks);

/* Usable keys in the set, and JWKS entries skipped as unusable. */
size_t pt_jwks_count(const struct pt_jwks *ks);
size_t pt_jwks_skipped(const struct pt_jwks *ks);

/* Verifies sig[0..sig_len) over input[0..input_len) with alg (not HS256, which is always
 * PT_JWT_ALG_REFUSED here) and the key selection rule of pt_jwt_verify() (kid may be NULL).
 * Returns PT_JWT_OK, PT_JWT_BAD_SIGNATURE, PT_JWT_UNKNOWN_KID or PT_JWT_ALG_REFUSED, with
 * *reason a static message. Leaves the thread's OpenSSL error queue as it found it. */
enum pt_jwt_status pt_jwks_verify(const struct pt_jwks *ks, enum pt_jwt_alg alg, const char *kid,
                                  const void *input, size_t input_len, const unsigned char *sig,
                                  size_t sig_len, const char **reason);

#endif
