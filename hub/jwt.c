/* JWT verification (see jwt.h): compact JWS parsing, HS256, the claim rules and scopes.
 * Pure. Deliberately not handled: JWE, the JWS JSON serialization, unencoded payloads
 * (RFC 7797, which needs crit), and any key carried by the token itself (jwk, jku, x5u, x5c). */
#include "jwt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "portico/b64url.h"
#include "portico/err.h"
#include "portico/xalloc.h"
#include "utf8.h"

#define HS256_BYTES   32
#define SMALL_OBJECT  16 /* objects up to this many members are checked for duplicates in place */
#define MAX_ALG_BYTES 16

/* A token cut into its three segments; the decoded bytes live in mem, each NUL-terminated. */
struct parts {
    const char *signing_input; /* header "." payload, as received */
    size_t signing_len;
    char *header, *payload; /* decoded; point into mem */
    size_t header_len, payload_len;
    unsigned char *sig; /* decoded; points into mem */
    size_t sig_len;
    char *mem; /* owned */
};

static void set(struct pt_jwt_result *res, enum pt_jwt_status status, const char *reason)
{
    res->status = status;
    res->reason = reason;
}

/* ---- Base64url ---- */

int pt_jwt_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                         size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t i, n = 0, need;
    int v;

    *out_len = 0;
    /* One leftover character carries 6 bits: never a whole byte, so never valid. */
    if (len % 4 == 1)
        return PT_EINVAL;
    need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > cap)
        return PT_ETOOBIG;
    for (i = 0; i < len; i++) {
        if ((v = pt_b64url_value((unsigned char)in[i])) < 0)
            return PT_EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* RFC 4648 section 3.5: the unused bits must be zero, or one value has several spellings
     * (a signature could be altered without changing what it decodes to). */
    if (acc != 0)
        return PT_EINVAL;
    *out_len = n;
    return 0;
}

/* ---- Strict JSON ---- */

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The checks cJSON does not make: control characters (RFC 8259 section 7), "\u0000" (cJSON
 * would end the C string there, so "iss":"a\u0000b" would compare as "a"), a byte order mark
 * (cJSON skips one), and nesting depth, measured before cJSON recurses. Escapes are skipped
 * over, not validated: cJSON does that. */
static bool scan_json(const unsigned char *s, size_t len, int max_depth)
{
    bool in_string = false;
    int depth = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = s[i];

        if (in_string) {
            if (c < 0x20)
                return false;
            if (c == '"') {
                in_string = false;
            } else if (c == '\\') {
                if (i + 1 >= len)
                    return false;
                if (s[i + 1] == 'u') {
                    if (i + 5 >= len || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) ||
                        !is_hex(s[i + 4]) || !is_hex(s[i + 5]))
                        return false;
                    if (memcmp(s + i + 2, "0000", 4) == 0)
                        return false;
                    i += 4;
                }
                i++;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if (c == '}' || c == ']') {
            if (--depth < 0)
                return false;
        } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x80) {
            return false; /* outside strings JSON is ASCII: this also refuses a BOM */
        }
    }
    return !in_string && depth == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* RFC 7515 section 5.2 and RFC 7519 section 4: duplicate names must be rejected, or the last
 * one used. cJSON finds the first, so a parser that keeps the last would read another claim. */
static bool has_duplicates(const cJSON *item)
{
    const char *few[SMALL_OBJECT], **names;
    const cJSON *c;
    size_t n = 0, i, j;
    bool dup = false;

    for (c = item->child; c != NULL; c = c->next) {
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            if (has_duplicates(c))
                return true;
        }
        n++;
    }
    if (!cJSON_IsObject(item) || n < 2)
        return false;
    names = n <= SMALL_OBJECT ? few : pt_xmalloc(n * sizeof(*names));
    for (i = 0, c = item->child; c != NULL; c = c->next)
        names[i++] = c->string != NULL ? c->string : "";
    if (n <= SMALL_OBJECT) {
        for (i = 0; i < n && !dup; i++) {
            for (j = i + 1; j < n && !dup; j++)
                dup = strcmp(names[i], names[j]) == 0;
        }
    } else {
        qsort(names, n, sizeof(*names), compare_names);
        for (i = 1; i < n && !dup; i++)
            dup = strcmp(names[i - 1], names[i]) == 0;
        free(names);
    }
    return dup;
}

cJSON *pt_jwt_json_parse(const char *text, size_t len, int max_depth)
{
    const char *end = NULL;
    cJSON *root;

    if (text == NULL || len == 0)
        return NULL;
    if (pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)text, len) != PT_UTF8_ACCEPT)
        return NULL;
    if (!scan_json((const unsigned char *)text, len, max_depth))
        return NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL)
        return NULL;
    while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != text + len || has_duplicates(root)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ---- The compact serialization ---- */

/* Cuts token into parts, decoding each segment. Returns PT_JWT_OK or PT_JWT_MALFORMED. */
static enum pt_jwt_status split_token(const char *token, size_t len, struct parts *p,
                                      struct pt_jwt_result *res)
{
    const char *dot1, *dot2;
    size_t hlen, plen, slen, at = 0;

    dot1 = memchr(token, '.', len);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
        set(res, PT_JWT_MALFORMED, "the token is not a compact JWS");
        return res->status;
    }
    hlen = (size_t)(dot1 - token);
    plen = (size_t)(dot2 - dot1 - 1);
    slen = len - (size_t)(dot2 + 1 - token);
    p->signing_input = token;
    p->signing_len = (size_t)(dot2 - token);
    /* len is capped, so this is at most ~16 KiB: the decoded sizes plus three NULs. */
    p->mem = pt_xmalloc(len + 3);
    p->header = p->mem;
    if (pt_jwt_b64url_decode(token, hlen, (unsigned char *)p->header, hlen, &p->header_len) != 0)
        goto bad;
    p->header[p->header_len] = '\0';
    at = p->header_len + 1;
    p->payload = p->mem + at;
    if (pt_jwt_b64url_decode(dot1 + 1, plen, (unsigned char *)p->payload, plen, &p->payload_len))
        goto bad;
    p->payload[p->payload_len] = '\0';
    at += p->payload_len + 1;
    p->sig = (unsigned char *)p->mem + at;
    if (pt_jwt_b64url_decode(dot2 + 1, slen, p->sig, slen, &p->sig_len) != 0)
        goto bad;
    return PT_JWT_OK;
bad:
    set(res, PT_JWT_MALFORMED, "the token is not valid base64url");
    return res->status;
}

/* Reads the protected header: alg (returned in *alg), kid (*kid, pointing into *hdr). */
static enum pt_jwt_status read_header(const struct parts *p, cJSON **hdr, enum pt_jwt_alg *alg,
                                      const char **kid, struct pt_jwt_result *res)
{
    static const struct {
        const char *name;
        enum pt_jwt_alg alg;
    } algs[] = {
        {"HS256", PT_JWT_HS256},
        {"RS256", PT_JWT_RS256},
        {"PS256", PT_JWT_PS256},
        {"ES256", PT_JWT_ES256},
    };
    const cJSON *a, *k, *t;
    size_t i;

    *hdr = pt_jwt_json_parse(p->header, p->header_len, PT_JWT_MAX_DEPTH);
    if (!cJSON_IsObject(*hdr)) {
        set(res, PT_JWT_MALFORMED, "the token header is not a JSON object");
        return res->status;
    }
    a = cJSON_GetObjectItemCaseSensitive(*hdr, "alg");
    k = cJSON_GetObjectItemCaseSensitive(*hdr, "kid");
    t = cJSON_GetObjectItemCaseSensitive(*hdr, "typ");
    if (!cJSON_IsString(a) || (k != NULL && !cJSON_IsString(k)) ||
        (t != NULL && !cJSON_IsString(t))) {
        set(res, PT_JWT_MALFORMED, "the token header has no valid alg, kid or typ");
        return res->status;
    }
    /* RFC 7515 section 4.1.11: we understand no extension, so any crit is a reason to refuse. */
    if (cJSON_GetObjectItemCaseSensitive(*hdr, "crit") != NULL) {
        set(res, PT_JWT_MALFORMED, "the token header has an unsupported crit parameter");
        return res->status;
    }
    *kid = k != NULL ? k->valuestring : NULL;
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcmp(a->valuestring, algs[i].name) == 0) {
            *alg = algs[i].alg;
            return PT_JWT_OK;
        }
    }
    set(res, PT_JWT_ALG_REFUSED, "the token algorithm is not allowed");
    return res->status;
}

/* HS256 with the configured secret and nothing else: an RSA or EC public key is public, so a
 * verifier that let it serve as an HMAC key would accept tokens anyone can make. */
static enum pt_jwt_status verify_hs256(const struct pt_jwt_verifier *v, const struct parts *p,
                                       struct pt_jwt_result *res)
{
    unsigned char mac[HS256_BYTES];
    size_t mac_len = 0;

    /* A short secret is the config loader's error to report; a client learns nothing of it. */
    if (v->secret == NULL || v->secret_len < PT_JWT_MIN_SECRET_BYTES) {
        set(res, PT_JWT_ALG_REFUSED, "the token algorithm is not accepted here");
        return res->status;
    }
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, v->secret, v->secret_len,
                  (const unsigned char *)p->signing_input, p->signing_len, mac, sizeof(mac),
                  &mac_len) == NULL ||
        mac_len != HS256_BYTES || p->sig_len != HS256_BYTES ||
        CRYPTO_memcmp(mac, p->sig, HS256_BYTES) != 0) {
        set(res, PT_JWT_BAD_SIGNATURE, "the token signature is invalid");
        return res->status;
    }
    return PT_JWT_OK;
}

static enum pt_jwt_status verify_signature(const struct pt_jwt_verifier *v, const struct parts *p,
                                           enum pt_jwt_alg alg, const char *kid,
                                           struct pt_jwt_result *res)
{
    if (alg == PT_JWT_HS256)
        return verify_hs256(v, p, res);
    if (v->jwks == NULL) {
        set(res, PT_JWT_ALG_REFUSED, "the token algorithm is not accepted here");
        return res->status;
    }
    res->status = pt_jwks_verify(v->jwks, alg, kid, p->signing_input, p->signing_len, p->sig,
                                 p->sig_len, &res->reason);
    return res->status;
}

/* ---- Claims ---- */

/* A NumericDate claim: absent (true, *present false), a finite number, or an error. */
static bool read_date(const cJSON *claims, const char *name, double *t, bool *present)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(claims, name);

    *present = c != NULL;
    if (c == NULL)
        return true;
    if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble))
        return false;
    *t = c->valuedouble;
    return true;
}

static enum pt_jwt_status check_times(const cJSON *claims, int64_t now_s, int64_t leeway_s,
                                      struct pt_jwt_result *res)
{
    double now = (double)now_s, leeway = (double)leeway_s, exp = 0, nbf = 0, iat = 0;
    bool has_exp, has_nbf, has_iat;

    if (!read_date(claims, "exp", &exp, &has_exp) || !read_date(claims, "nbf", &nbf, &has_nbf) ||
        !read_date(claims, "iat", &iat, &has_iat)) {
        set(res, PT_JWT_MALFORMED, "the token has a time claim that is not a number");
        return res->status;
    }
    /* AWS rejects a token without exp; RFC 7519 4.1.4: now must be before exp. */
    if (!has_exp) {
        set(res, PT_JWT_MALFORMED, "the token has no exp claim");
        return res->status;
    }
    if (now >= exp + leeway) {
        set(res, PT_JWT_EXPIRED, "the token has expired");
        return res->status;
    }
    if (has_nbf && now + leeway < nbf) {
        set(res, PT_JWT_NOT_YET_VALID, "the token is not valid yet");
        return res->status;
    }
    if (has_iat && now + leeway < iat) {
        set(res, PT_JWT_NOT_YET_VALID, "the token was issued in the future");
        return res->status;
    }
    return PT_JWT_OK;
}

static bool is_audience(const struct pt_jwt_verifier *v, const char *s)
{
    size_t i;

    for (i = 0; i < v->n_audiences; i++) {
        if (v->audiences[i] != NULL && strcmp(v->audiences[i], s) == 0)
            return true;
    }
    return false;
}

/* AWS: aud must contain a configured audience; client_id counts only when aud is absent. */
static enum pt_jwt_status check_audience(const struct pt_jwt_verifier *v, const cJSON *claims,
                                         struct pt_jwt_result *res)
{
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud"), *c;
    bool found = false;

    if (aud == NULL) {
        c = cJSON_GetObjectItemCaseSensitive(claims, "client_id");
        found = cJSON_IsString(c) && is_audience(v, c->valuestring);
    } else if (cJSON_IsString(aud)) {
        found = is_audience(v, aud->valuestring);
    } else if (cJSON_IsArray(aud)) {
        cJSON_ArrayForEach(c, aud)
        {
            if (!cJSON_IsString(c)) {
                set(res, PT_JWT_MALFORMED, "the token aud is not a string or array of strings");
                return res->status;
            }
            found = found || is_audience(v, c->valuestring);
        }
    }
    if (!found) {
        set(res, PT_JWT_BAD_AUDIENCE, "the token does not have a valid audience");
        return res->status;
    }
    return PT_JWT_OK;
}

static enum pt_jwt_status check_claims(const struct pt_jwt_verifier *v, const cJSON *claims,
                                       int64_t now_s, struct pt_jwt_result *res)
{
    const cJSON *iss;

    if (check_times(claims, now_s, v->leeway_s, res) != PT_JWT_OK)
        return res->status;
    if (v->issuer != NULL) {
        iss = cJSON_GetObjectItemCaseSensitive(claims, "iss");
        if (!cJSON_IsString(iss) || strcmp(iss->valuestring, v->issuer) != 0) {
            set(res, PT_JWT_BAD_ISSUER, "the token does not have a valid issuer");
            return res->status;
        }
    }
    if (v->n_audiences > 0)
        return check_audience(v, claims, res);
    return PT_JWT_OK;
}

/* ---- Verification ---- */

enum pt_jwt_status pt_jwt_verify(const struct pt_jwt_verifier *v, const char *token, size_t len,
                                 int64_t now_s, struct pt_jwt_result *res)
{
    struct parts p = {0};
    cJSON *hdr = NULL, *claims = NULL;
    enum pt_jwt_alg alg = PT_JWT_HS256;
    const char *kid = NULL;

    set(res, PT_JWT_OK, "");
    res->claims = NULL;
    if (token == NULL || len == 0) {
        set(res, PT_JWT_MALFORMED, "there is no token");
        return res->status;
    }
    if (len > PT_JWT_MAX_TOKEN_BYTES) {
        set(res, PT_JWT_MALFORMED, "the token is larger than 16384 bytes");
        return res->status;
    }
    if (split_token(token, len, &p, res) != PT_JWT_OK ||
        read_header(&p, &hdr, &alg, &kid, res) != PT_JWT_OK ||
        verify_signature(v, &p, alg, kid, res) != PT_JWT_OK)
        goto done;
    /* Only an authentic payload gets parsed. */
    claims = pt_jwt_json_parse(p.payload, p.payload_len, PT_JWT_MAX_DEPTH);
    if (!cJSON_IsObject(claims)) {
        set(res, PT_JWT_MALFORMED, "the token claims are not a JSON object");
        goto done;
    }
    if (check_claims(v, claims, now_s, res) != PT_JWT_OK)
        goto done;
    set(res, PT_JWT_OK, "");
    res->claims = claims;
    claims = NULL;
done:
    cJSON_Delete(claims);
    cJSON_Delete(hdr);
    free(p.mem);
    return res->status;
}

/* ---- Scopes ---- */

/* Calls fn for each space-separated word of s until it returns true; returns that. */
static bool each_word(const char *s, bool (*fn)(const char *w, size_t n, void *ud), void *ud)
{
    const char *end;

    while (*s != '\0') {
        while (*s == ' ')
            s++;
        end = s;
        while (*end != '\0' && *end != ' ')
            end++;
        if (end > s && fn(s, (size_t)(end - s), ud))
            return true;
        s = end;
    }
    return false;
}

struct wanted {
    const char *const *scopes;
    size_t n;
};

static bool is_wanted(const char *w, size_t n, void *ud)
{
    const struct wanted *want = ud;
    size_t i;

    for (i = 0; i < want->n; i++) {
        if (want->scopes[i] != NULL && strlen(want->scopes[i]) == n &&
            memcmp(want->scopes[i], w, n) == 0)
            return true;
    }
    return false;
}

bool pt_jwt_has_scope(const cJSON *claims, const char *const *scopes, size_t n_scopes)
{
    struct wanted want = {scopes, n_scopes};
    const cJSON *scope, *scp, *c;

    if (n_scopes == 0)
        return true;
    scope = cJSON_GetObjectItemCaseSensitive(claims, "scope");
    scp = cJSON_GetObjectItemCaseSensitive(claims, "scp");
    if (cJSON_IsString(scope) && each_word(scope->valuestring, is_wanted, &want))
        return true;
    if (cJSON_IsString(scp))
        return each_word(scp->valuestring, is_wanted, &want);
    if (cJSON_IsArray(scp)) {
        cJSON_ArrayForEach(c, scp)
        {
            if (cJSON_IsString(c) && is_wanted(c->valuestring, strlen(c->valuestring), &want))
                return true;
        }
    }
    return false;
}

static bool add_word(const char *w, size_t n, void *ud)
{
    char *s = pt_xstrndup(w, n);

    cJSON_AddItemToArray(ud, cJSON_CreateString(s));
    free(s);
    return false;
}

cJSON *pt_jwt_scopes(const cJSON *claims)
{
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(claims, "scope");
    const cJSON *scp = cJSON_GetObjectItemCaseSensitive(claims, "scp"), *c;
    cJSON *out;

    if (!cJSON_IsString(scope) && !cJSON_IsString(scp) && !cJSON_IsArray(scp))
        return NULL;
    if ((out = cJSON_CreateArray()) == NULL)
        return NULL;
    if (cJSON_IsString(scope))
        each_word(scope->valuestring, add_word, out);
    if (cJSON_IsString(scp)) {
        each_word(scp->valuestring, add_word, out);
    } else if (cJSON_IsArray(scp)) {
        cJSON_ArrayForEach(c, scp)
        {
            if (cJSON_IsString(c))
                cJSON_AddItemToArray(out, cJSON_CreateString(c->valuestring));
        }
    }
    return out;
}
