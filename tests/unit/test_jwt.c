/* Unit tests for hub/jwt.c and hub/jwks.c: the RFC 7515 appendix A examples (HS256, RS256,
 * ES256), PS256/RS256/ES256 with keys generated at run time, tampering, alg none and algorithm
 * confusion, kid selection, the time/issuer/audience rules, scopes, strict parsing, JWKS rules. */
#include "jwt.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "harness.h"
#include "portico/err.h"

#define NOW 1700000000LL

/* ---- RFC 7515 appendix A: published test vectors ---- */

/* A.1: the HS256 key (a JWK "k") and the JWS. Its payload, shared by A.2 and A.3, is
 * {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}. */
#define RFC_EXP 1300819380LL
#define RFC_A1_K \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
#define RFC_PAYLOAD                                                                                \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl" \
    "fQ"
#define RFC_A1_TOKEN                                        \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." RFC_PAYLOAD \
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

/* A.2: RS256 with the RSA key's public part. */
#define RFC_A2_N                                                                                   \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"                        \
    "4qPCJrcS2mJPMEzP1Pt0Bm4d"                                                                     \
    "4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rex" \
    "MdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXF" \
    "vUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define RFC_A2_JWK "{\"kty\":\"RSA\",\"n\":\"" RFC_A2_N "\",\"e\":\"AQAB\"}"
#define RFC_A2_TOKEN                                                                               \
    "eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD                                                            \
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"       \
    "O8W2Fp5"                                                                                      \
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb" \
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO" \
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

/* A.3: ES256 with the P-256 key's public part. */
#define RFC_A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC_A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define RFC_A3_JWK \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}"
#define RFC_A3_TOKEN                    \
    "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD \
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

/* Keys made at run time by main(): private keys never live in the repository. */
static EVP_PKEY *rsa_key, *ec_key;
static struct pt_jwks *rt_jwks; /* rsa_key as kid "rsa1", ec_key as kid "ec1" */
static const char hs_secret[] = "a-test-secret-of-at-least-32-bytes!!";

/* ---- Helpers ---- */

static char *b64url(const void *data, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = data;
    char *out = malloc(n / 3 * 4 + 5), *o = out;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *o++ = abc[p[i] >> 2];
        *o++ = abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        *o++ = abc[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        *o++ = abc[p[i + 2] & 63];
    }
    if (n - i == 1) {
        *o++ = abc[p[i] >> 2];
        *o++ = abc[(p[i] & 3) << 4];
    } else if (n - i == 2) {
        *o++ = abc[p[i] >> 2];
        *o++ = abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        *o++ = abc[(p[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

struct signer {
    enum pt_jwt_alg alg;
    EVP_PKEY *pkey;     /* RS256, PS256, ES256 */
    const void *secret; /* HS256 */
    size_t secret_len;
    int pss_saltlen; /* 0: the digest's length, as RFC 7518 asks */
};

/* Signs in[0..n) into sig (JWS form: ES256 as R||S); returns the length. */
static size_t raw_sign(const struct signer *s, const char *in, size_t n, unsigned char *sig)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char der[128];
    const unsigned char *dp = der;
    size_t len = 512;
    ECDSA_SIG *es;

    if (s->alg == PT_JWT_HS256) {
        EVP_MD_CTX_free(md);
        if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s->secret, s->secret_len,
                      (const unsigned char *)in, n, sig, 32, &len) == NULL)
            abort();
        return len;
    }
    if (EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, s->pkey, NULL) != 1)
        abort();
    if (s->alg == PT_JWT_PS256 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, s->pss_saltlen ? s->pss_saltlen : 32) <= 0))
        abort();
    if (s->alg == PT_JWT_ES256) {
        len = sizeof(der);
        if (EVP_DigestSign(md, der, &len, (const unsigned char *)in, n) != 1)
            abort();
        es = d2i_ECDSA_SIG(NULL, &dp, (long)len);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
        ECDSA_SIG_free(es);
        len = 64;
    } else if (EVP_DigestSign(md, sig, &len, (const unsigned char *)in, n) != 1) {
        abort();
    }
    EVP_MD_CTX_free(md);
    return len;
}

/* header and claims JSON, signed by s: a compact JWS (heap). */
static char *sign_token(const struct signer *s, const char *header, const char *claims)
{
    char *h = b64url(header, strlen(header)), *p = b64url(claims, strlen(claims));
    char *input = fmt("%s.%s", h, p), *sig_b64, *tok;
    unsigned char sig[1024];
    size_t n = raw_sign(s, input, strlen(input), sig);

    sig_b64 = b64url(sig, n);
    tok = fmt("%s.%s", input, sig_b64);
    free(h);
    free(p);
    free(input);
    free(sig_b64);
    return tok;
}

static const struct signer hs = {
    .alg = PT_JWT_HS256, .secret = hs_secret, .secret_len = sizeof(hs_secret) - 1};

/* An HS256 token with the given claims (heap). */
static char *hs_token(const char *claims)
{
    return sign_token(&hs, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims);
}

static const struct pt_jwt_verifier hs_verifier = {
    .secret = hs_secret, .secret_len = sizeof(hs_secret) - 1, .leeway_s = PT_JWT_LEEWAY_S};

/* Verifies tok and checks the result's invariants; frees the claims. */
static enum pt_jwt_status verify_at(const struct pt_jwt_verifier *v, const char *tok, int64_t now)
{
    struct pt_jwt_result res;
    enum pt_jwt_status st = pt_jwt_verify(v, tok, strlen(tok), now, &res);

    CHECK(res.status == st);
    CHECK(res.reason != NULL && strchr(res.reason, '"') == NULL);
    CHECK((st == PT_JWT_OK) == (res.claims != NULL));
    CHECK(ERR_peek_error() == 0);
    cJSON_Delete(res.claims);
    return st;
}

/* Same, and frees tok. */
static enum pt_jwt_status verify_free(const struct pt_jwt_verifier *v, char *tok, int64_t now)
{
    enum pt_jwt_status st = verify_at(v, tok, now);

    free(tok);
    return st;
}

static struct pt_jwks *jwks_of(const char *json)
{
    struct pt_jwks *ks = NULL;
    const char *err = NULL;

    if (pt_jwks_parse(json, strlen(json), &ks, &err) != 0)
        fprintf(stderr, "jwks_of: %s\n", err);
    return ks;
}

/* A JWK (heap) for the public part of pkey; extra is spliced in as more members. */
static char *jwk_of(EVP_PKEY *pkey, const char *extra)
{
    BIGNUM *a = NULL, *b = NULL;
    unsigned char x[1024], y[32];
    char *ea, *eb, *out;
    int n;

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a);
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b);
        n = BN_bn2bin(a, x);
        ea = b64url(x, (size_t)n);
        n = BN_bn2bin(b, x);
        eb = b64url(x, (size_t)n);
        out = fmt("{\"kty\":\"RSA\",%s\"n\":\"%s\",\"e\":\"%s\"}", extra, ea, eb);
    } else {
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a);
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b);
        BN_bn2binpad(a, x, 32);
        BN_bn2binpad(b, y, 32);
        ea = b64url(x, 32);
        eb = b64url(y, 32);
        out = fmt("{\"kty\":\"EC\",%s\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", extra, ea, eb);
    }
    BN_free(a);
    BN_free(b);
    free(ea);
    free(eb);
    return out;
}

/* Claims valid at NOW, with extra members spliced in front (heap). */
static char *claims_now(const char *extra)
{
    return fmt("{%s\"sub\":\"u1\",\"exp\":%lld}", extra, NOW + 3600);
}

/* ---- Base64url ---- */

static void test_b64url_decode(void)
{
    unsigned char out[16];
    size_t n = 99;

    CHECK_EQ_INT(pt_jwt_b64url_decode("", 0, out, sizeof(out), &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zg", 2, out, sizeof(out), &n), 0);
    CHECK(n == 1 && out[0] == 'f');
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zm8", 3, out, sizeof(out), &n), 0);
    CHECK(n == 2 && memcmp(out, "fo", 2) == 0);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zm9vYg", 6, out, sizeof(out), &n), 0);
    CHECK(n == 4 && memcmp(out, "foob", 4) == 0);
    CHECK_EQ_INT(pt_jwt_b64url_decode("-_8", 3, out, sizeof(out), &n), 0);
    CHECK(n == 2 && out[0] == 0xfb && out[1] == 0xff);
    /* Non-canonical trailing bits, one lone character, padding, the base64 alphabet. */
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zh", 2, out, sizeof(out), &n), PT_EINVAL);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zm9", 3, out, sizeof(out), &n), PT_EINVAL);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Z", 1, out, sizeof(out), &n), PT_EINVAL);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zg==", 4, out, sizeof(out), &n), PT_EINVAL);
    CHECK_EQ_INT(pt_jwt_b64url_decode("+/8", 3, out, sizeof(out), &n), PT_EINVAL);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zm 9", 4, out, sizeof(out), &n), PT_EINVAL);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zm\09", 4, out, sizeof(out), &n), PT_EINVAL);
    CHECK_EQ_INT(pt_jwt_b64url_decode("Zm9vYg", 6, out, 3, &n), PT_ETOOBIG);
    CHECK_EQ_INT(n, 0);
}

/* ---- RFC 7515 appendix A ---- */

static void test_rfc7515_a1_hs256(void)
{
    unsigned char key[64];
    size_t key_len = 0;
    struct pt_jwt_verifier v = {.leeway_s = PT_JWT_LEEWAY_S};
    struct pt_jwt_result res;
    const cJSON *c;

    CHECK_EQ_INT(pt_jwt_b64url_decode(RFC_A1_K, strlen(RFC_A1_K), key, sizeof(key), &key_len), 0);
    CHECK_EQ_INT(key_len, 64);
    v.secret = key;
    v.secret_len = key_len;
    /* The signature, at a time inside the token's validity (exp = 1300819380). */
    CHECK_EQ_INT(pt_jwt_verify(&v, RFC_A1_TOKEN, strlen(RFC_A1_TOKEN), RFC_EXP - 3600, &res),
                 PT_JWT_OK);
    c = cJSON_GetObjectItemCaseSensitive(res.claims, "iss");
    CHECK(cJSON_IsString(c) && strcmp(c->valuestring, "joe") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res.claims, "http://example.com/is_root")));
    cJSON_Delete(res.claims);
    /* Then its time checks: the published token is long expired. */
    CHECK_EQ_INT(verify_at(&v, RFC_A1_TOKEN, RFC_EXP + 59), PT_JWT_OK);
    CHECK_EQ_INT(verify_at(&v, RFC_A1_TOKEN, RFC_EXP + 60), PT_JWT_EXPIRED);
    CHECK_EQ_INT(verify_at(&v, RFC_A1_TOKEN, NOW), PT_JWT_EXPIRED);
    v.issuer = "joe";
    CHECK_EQ_INT(verify_at(&v, RFC_A1_TOKEN, RFC_EXP), PT_JWT_OK);
    v.issuer = "jo";
    CHECK_EQ_INT(verify_at(&v, RFC_A1_TOKEN, RFC_EXP), PT_JWT_BAD_ISSUER);
    /* Another secret, or none. */
    v.issuer = NULL;
    key[0] ^= 1;
    CHECK_EQ_INT(verify_at(&v, RFC_A1_TOKEN, RFC_EXP), PT_JWT_BAD_SIGNATURE);
    v.secret = NULL;
    CHECK_EQ_INT(verify_at(&v, RFC_A1_TOKEN, RFC_EXP), PT_JWT_ALG_REFUSED);
}

static void test_rfc7515_a2_rs256(void)
{
    struct pt_jwks *ks = jwks_of("{\"keys\":[" RFC_A2_JWK "]}");
    struct pt_jwt_verifier v = {.jwks = ks, .leeway_s = PT_JWT_LEEWAY_S};
    struct pt_jwt_result res;
    char *doc;

    CHECK_EQ_INT(pt_jwks_count(ks), 1);
    CHECK_EQ_INT(pt_jwt_verify(&v, RFC_A2_TOKEN, strlen(RFC_A2_TOKEN), RFC_EXP, &res), PT_JWT_OK);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(res.claims, "exp")));
    cJSON_Delete(res.claims);
    CHECK_EQ_INT(verify_at(&v, RFC_A2_TOKEN, NOW), PT_JWT_EXPIRED);
    /* An HS256 secret alongside changes nothing for RS256. */
    v.secret = hs_secret;
    v.secret_len = sizeof(hs_secret) - 1;
    CHECK_EQ_INT(verify_at(&v, RFC_A2_TOKEN, RFC_EXP), PT_JWT_OK);
    /* The same key with use "enc" is no signing key. */
    pt_jwks_unref(ks);
    doc = fmt("{\"keys\":[{\"use\":\"enc\",%s]}", &RFC_A2_JWK[1]);
    ks = jwks_of(doc);
    free(doc);
    v.jwks = ks;
    CHECK_EQ_INT(pt_jwks_count(ks), 0);
    CHECK_EQ_INT(pt_jwks_skipped(ks), 1);
    CHECK_EQ_INT(verify_at(&v, RFC_A2_TOKEN, RFC_EXP), PT_JWT_UNKNOWN_KID);
    pt_jwks_unref(ks);
}

static void test_rfc7515_a3_es256(void)
{
    struct pt_jwks *ks = jwks_of("{\"keys\":[" RFC_A3_JWK "]}");
    struct pt_jwt_verifier v = {.jwks = ks, .leeway_s = PT_JWT_LEEWAY_S};

    CHECK_EQ_INT(pt_jwks_count(ks), 1);
    CHECK_EQ_INT(verify_at(&v, RFC_A3_TOKEN, RFC_EXP - 1), PT_JWT_OK);
    /* An RSA-only set has no key for ES256 and vice versa. */
    pt_jwks_unref(ks);
    ks = jwks_of("{\"keys\":[" RFC_A2_JWK "]}");
    v.jwks = ks;
    CHECK_EQ_INT(verify_at(&v, RFC_A3_TOKEN, RFC_EXP - 1), PT_JWT_UNKNOWN_KID);
    pt_jwks_unref(ks);
    /* Both RFC keys in one set, each token finds its own. */
    ks = jwks_of("{\"keys\":[" RFC_A3_JWK "," RFC_A2_JWK "]}");
    v.jwks = ks;
    CHECK_EQ_INT(verify_at(&v, RFC_A3_TOKEN, RFC_EXP - 1), PT_JWT_OK);
    CHECK_EQ_INT(verify_at(&v, RFC_A2_TOKEN, RFC_EXP - 1), PT_JWT_OK);
    pt_jwks_unref(ks);
}

/* ---- Tampering ---- */

/* tok with the character at i (counted from the end when i < 0) replaced by c (heap). */
static char *with_char(const char *tok, long i, char c)
{
    char *s = strdup(tok);

    s[i < 0 ? (long)strlen(s) + i : i] = c;
    return s;
}

static void test_tampered(void)
{
    struct pt_jwks *ks = jwks_of("{\"keys\":[" RFC_A3_JWK "," RFC_A2_JWK "]}");
    struct pt_jwt_verifier v = hs_verifier;
    long pay = (long)strlen("eyJhbGciOiJSUzI1NiJ9.") + 5;
    unsigned char zeros[64];
    char *tok, *sig;

    v.jwks = ks;
    /* One payload character, in each token. */
    CHECK_EQ_INT(verify_free(&v, with_char(RFC_A2_TOKEN, pay, 'A'), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    CHECK_EQ_INT(verify_free(&v, with_char(RFC_A3_TOKEN, pay, 'A'), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    CHECK_EQ_INT(verify_free(&v, with_char(RFC_A1_TOKEN, 50, 'A'), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    /* One signature character (keeping the trailing bits canonical). */
    CHECK_EQ_INT(verify_free(&v, with_char(RFC_A2_TOKEN, -5, 'A'), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    CHECK_EQ_INT(verify_free(&v, with_char(RFC_A3_TOKEN, -5, 'A'), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    CHECK_EQ_INT(verify_free(&v, with_char(RFC_A1_TOKEN, -5, 'A'), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    /* A signature one byte short, or long. */
    tok = strndup(RFC_A3_TOKEN, strlen(RFC_A3_TOKEN) - 2);
    CHECK_EQ_INT(verify_free(&v, tok, RFC_EXP), PT_JWT_BAD_SIGNATURE);
    CHECK_EQ_INT(verify_free(&v, fmt("%sAA", RFC_A3_TOKEN), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    CHECK_EQ_INT(verify_free(&v, fmt("%sAA", RFC_A2_TOKEN), RFC_EXP), PT_JWT_BAD_SIGNATURE);
    /* The header: another allowed alg over the same signature; an added kid. */
    tok = fmt("%s%s", "eyJhbGciOiJQUzI1NiJ9", strchr(RFC_A2_TOKEN, '.'));
    CHECK_EQ_INT(verify_free(&v, tok, RFC_EXP), PT_JWT_BAD_SIGNATURE);
    tok = fmt("%s%s", "eyJhbGciOiJIUzI1NiJ9", strchr(RFC_A2_TOKEN, '.'));
    CHECK_EQ_INT(verify_free(&v, tok, RFC_EXP), PT_JWT_BAD_SIGNATURE);
    /* Segments swapped between two valid tokens. */
    tok = fmt("eyJhbGciOiJFUzI1NiJ9.%s", strchr(RFC_A2_TOKEN, '.') + 1);
    CHECK_EQ_INT(verify_free(&v, tok, RFC_EXP), PT_JWT_BAD_SIGNATURE);
    /* An all-zero ES256 signature (r = s = 0), and r = s = n - 1 + 1 (all ones). */
    memset(zeros, 0, sizeof(zeros));
    sig = b64url(zeros, sizeof(zeros));
    tok = fmt("eyJhbGciOiJFUzI1NiJ9.%s.%s", RFC_PAYLOAD, sig);
    CHECK_EQ_INT(verify_free(&v, tok, RFC_EXP), PT_JWT_BAD_SIGNATURE);
    free(sig);
    memset(zeros, 0xff, sizeof(zeros));
    sig = b64url(zeros, sizeof(zeros));
    tok = fmt("eyJhbGciOiJFUzI1NiJ9.%s.%s", RFC_PAYLOAD, sig);
    CHECK_EQ_INT(verify_free(&v, tok, RFC_EXP), PT_JWT_BAD_SIGNATURE);
    free(sig);
    pt_jwks_unref(ks);
}

/* ---- Algorithms ---- */

static void test_alg_refused(void)
{
    static const char *const headers[] = {
        "{\"alg\":\"none\"}",  "{\"alg\":\"None\"}",  "{\"alg\":\"NONE\"}",   "{\"alg\":\"HS384\"}",
        "{\"alg\":\"HS512\"}", "{\"alg\":\"RS512\"}", "{\"alg\":\"ES384\"}",  "{\"alg\":\"EdDSA\"}",
        "{\"alg\":\"rs256\"}", "{\"alg\":\"\"}",      "{\"alg\":\"RS256 \"}",
    };
    struct pt_jwt_verifier v = hs_verifier;
    char *h, *p, *claims = claims_now("");
    const char *reason;
    size_t i;

    v.jwks = rt_jwks;
    p = b64url(claims, strlen(claims));
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        h = b64url(headers[i], strlen(headers[i]));
        /* Unsigned, as alg none has it, and with some signature bytes. */
        CHECK_EQ_INT(verify_free(&v, fmt("%s.%s.", h, p), NOW), PT_JWT_ALG_REFUSED);
        CHECK_EQ_INT(verify_free(&v, fmt("%s.%s.c2ln", h, p), NOW), PT_JWT_ALG_REFUSED);
        free(h);
    }
    /* alg missing or not a string is malformed, not merely refused. */
    h = b64url("{\"typ\":\"JWT\"}", 13);
    CHECK_EQ_INT(verify_free(&v, fmt("%s.%s.", h, p), NOW), PT_JWT_MALFORMED);
    free(h);
    h = b64url("{\"alg\":null}", 12);
    CHECK_EQ_INT(verify_free(&v, fmt("%s.%s.", h, p), NOW), PT_JWT_MALFORMED);
    free(h);
    /* A signed HS256 token with no secret configured; an RS256 token with no JWKS. */
    v.secret = NULL;
    CHECK_EQ_INT(verify_free(&v, hs_token(claims), NOW), PT_JWT_ALG_REFUSED);
    v = hs_verifier;
    CHECK_EQ_INT(verify_at(&v, RFC_A2_TOKEN, RFC_EXP), PT_JWT_ALG_REFUSED);
    /* A secret shorter than 256 bits is refused outright. */
    v.secret_len = PT_JWT_MIN_SECRET_BYTES - 1;
    CHECK_EQ_INT(verify_free(&v, hs_token(claims), NOW), PT_JWT_ALG_REFUSED);
    /* HS256 never reaches a JWKS key. */
    CHECK_EQ_INT(
        pt_jwks_verify(rt_jwks, PT_JWT_HS256, NULL, "a", 1, (const unsigned char *)"b", 1, &reason),
        PT_JWT_ALG_REFUSED);
    free(p);
    free(claims);
}

/* The classic confusion: the attacker signs HS256 with the server's RSA public key (its PEM,
 * or its JWK text) as the HMAC secret, hoping the verifier uses "the key" for whatever alg the
 * header names. */
static void test_alg_confusion(void)
{
    struct pt_jwt_verifier v = {.jwks = rt_jwks, .leeway_s = PT_JWT_LEEWAY_S};
    struct signer forger = {.alg = PT_JWT_HS256};
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem, *jwk = jwk_of(rsa_key, "\"kid\":\"rsa1\","), *claims = claims_now("");
    long pem_len;

    PEM_write_bio_PUBKEY(bio, rsa_key);
    pem_len = BIO_get_mem_data(bio, &pem);
    CHECK(pem_len > 0);
    forger.secret = pem;
    forger.secret_len = (size_t)pem_len;
    CHECK_EQ_INT(verify_free(&v, sign_token(&forger, "{\"alg\":\"HS256\"}", claims), NOW),
                 PT_JWT_ALG_REFUSED);
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&forger, "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", claims), NOW),
        PT_JWT_ALG_REFUSED);
    /* The same MAC under an RSA alg header is just a bad signature. */
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&forger, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", claims), NOW),
        PT_JWT_BAD_SIGNATURE);
    forger.secret = jwk;
    forger.secret_len = strlen(jwk);
    CHECK_EQ_INT(verify_free(&v, sign_token(&forger, "{\"alg\":\"HS256\"}", claims), NOW),
                 PT_JWT_ALG_REFUSED);
    /* With a (different) secret configured too, HS256 is checked against that secret only. */
    v.secret = hs_secret;
    v.secret_len = sizeof(hs_secret) - 1;
    CHECK_EQ_INT(verify_free(&v, sign_token(&forger, "{\"alg\":\"HS256\"}", claims), NOW),
                 PT_JWT_BAD_SIGNATURE);
    forger.secret = pem;
    forger.secret_len = (size_t)pem_len;
    CHECK_EQ_INT(verify_free(&v, sign_token(&forger, "{\"alg\":\"HS256\"}", claims), NOW),
                 PT_JWT_BAD_SIGNATURE);
    BIO_free(bio);
    free(jwk);
    free(claims);
}

/* PS256, RS256 and ES256 with keys generated now, signed here with EVP. */
static void test_runtime_keys(void)
{
    struct pt_jwt_verifier v = {.jwks = rt_jwks, .leeway_s = PT_JWT_LEEWAY_S};
    struct signer ps = {.alg = PT_JWT_PS256, .pkey = rsa_key};
    struct signer rs = {.alg = PT_JWT_RS256, .pkey = rsa_key};
    struct signer es = {.alg = PT_JWT_ES256, .pkey = ec_key};
    char *claims = claims_now("\"scope\":\"read\",");
    struct pt_jwt_result res;
    char *tok;

    tok = sign_token(&ps, "{\"alg\":\"PS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", claims);
    CHECK_EQ_INT(pt_jwt_verify(&v, tok, strlen(tok), NOW, &res), PT_JWT_OK);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res.claims, "sub")), "u1");
    cJSON_Delete(res.claims);
    free(tok);
    CHECK_EQ_INT(verify_free(&v, sign_token(&ps, "{\"alg\":\"PS256\"}", claims), NOW), PT_JWT_OK);
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&rs, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", claims), NOW),
        PT_JWT_OK);
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&es, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", claims), NOW),
        PT_JWT_OK);
    CHECK_EQ_INT(verify_free(&v, sign_token(&es, "{\"alg\":\"ES256\"}", claims), NOW), PT_JWT_OK);
    /* Padding swapped: a PKCS#1 v1.5 signature claimed as PSS and the reverse. */
    CHECK_EQ_INT(verify_free(&v, sign_token(&rs, "{\"alg\":\"PS256\"}", claims), NOW),
                 PT_JWT_BAD_SIGNATURE);
    CHECK_EQ_INT(verify_free(&v, sign_token(&ps, "{\"alg\":\"RS256\"}", claims), NOW),
                 PT_JWT_BAD_SIGNATURE);
    /* RFC 7518 3.5 fixes the salt at the hash's size; another length does not verify. */
    ps.pss_saltlen = 20;
    CHECK_EQ_INT(verify_free(&v, sign_token(&ps, "{\"alg\":\"PS256\"}", claims), NOW),
                 PT_JWT_BAD_SIGNATURE);
    /* Valid signature, expired claims: the claim checks still apply. */
    free(claims);
    claims = fmt("{\"exp\":%lld}", NOW - 61);
    CHECK_EQ_INT(verify_free(&v, sign_token(&es, "{\"alg\":\"ES256\"}", claims), NOW),
                 PT_JWT_EXPIRED);
    free(claims);
}

/* ---- Key selection ---- */

static void test_kid_selection(void)
{
    struct pt_jwt_verifier v = {.jwks = rt_jwks, .leeway_s = PT_JWT_LEEWAY_S};
    struct signer rs = {.alg = PT_JWT_RS256, .pkey = rsa_key};
    struct signer es = {.alg = PT_JWT_ES256, .pkey = ec_key};
    char *claims = claims_now(""), *jwk_rsa, *jwk_ec, *doc;
    struct pt_jwks *ks;

    CHECK_EQ_INT(
        verify_free(&v, sign_token(&rs, "{\"alg\":\"RS256\",\"kid\":\"nope\"}", claims), NOW),
        PT_JWT_UNKNOWN_KID);
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&rs, "{\"alg\":\"RS256\",\"kid\":\"RSA1\"}", claims), NOW),
        PT_JWT_UNKNOWN_KID);
    /* kid names a key of the other kty. */
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&rs, "{\"alg\":\"RS256\",\"kid\":\"ec1\"}", claims), NOW),
        PT_JWT_ALG_REFUSED);
    CHECK_EQ_INT(verify_free(&v, sign_token(&rs, "{\"alg\":\"RS256\",\"kid\":5}", claims), NOW),
                 PT_JWT_MALFORMED);
    /* Without kid, every RSA key is tried: the run-time key is the set's second RSA key. */
    jwk_rsa = jwk_of(rsa_key, "");
    jwk_ec = jwk_of(ec_key, "\"kid\":\"ec1\",\"alg\":\"ES256\",");
    doc = fmt("{\"keys\":[%s,%s,%s]}", RFC_A2_JWK, jwk_ec, jwk_rsa);
    ks = jwks_of(doc);
    v.jwks = ks;
    CHECK_EQ_INT(pt_jwks_count(ks), 3);
    CHECK_EQ_INT(verify_free(&v, sign_token(&rs, "{\"alg\":\"RS256\"}", claims), NOW), PT_JWT_OK);
    /* A token kid the set's kid-less keys cannot answer. */
    CHECK_EQ_INT(verify_free(&v, sign_token(&rs, "{\"alg\":\"RS256\",\"kid\":\"x\"}", claims), NOW),
                 PT_JWT_UNKNOWN_KID);
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&es, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", claims), NOW),
        PT_JWT_OK);
    pt_jwks_unref(ks);
    free(doc);
    free(jwk_rsa);
    /* A JWK restricted to RS256 does not verify PS256 and the reverse. */
    jwk_rsa = jwk_of(rsa_key, "\"kid\":\"r\",\"alg\":\"RS256\",");
    doc = fmt("{\"keys\":[%s]}", jwk_rsa);
    ks = jwks_of(doc);
    v.jwks = ks;
    rs.alg = PT_JWT_PS256;
    CHECK_EQ_INT(verify_free(&v, sign_token(&rs, "{\"alg\":\"PS256\",\"kid\":\"r\"}", claims), NOW),
                 PT_JWT_ALG_REFUSED);
    CHECK_EQ_INT(verify_free(&v, sign_token(&rs, "{\"alg\":\"PS256\"}", claims), NOW),
                 PT_JWT_UNKNOWN_KID);
    pt_jwks_unref(ks);
    /* An empty set knows no key at all. */
    ks = jwks_of("{\"keys\":[]}");
    v.jwks = ks;
    CHECK_EQ_INT(verify_at(&v, RFC_A2_TOKEN, RFC_EXP), PT_JWT_UNKNOWN_KID);
    pt_jwks_unref(ks);
    free(doc);
    free(jwk_rsa);
    free(jwk_ec);
    free(claims);
}

/* ---- Claims ---- */

static void test_time_leeway(void)
{
    const struct pt_jwt_verifier *v = &hs_verifier;
    char *c;

#define AT(claims_fmt, ...) verify_free(v, hs_token(c = fmt(claims_fmt, __VA_ARGS__)), NOW)
#define DONE                free(c)
    CHECK_EQ_INT(AT("{\"exp\":%lld}", NOW + 1), PT_JWT_OK);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld}", NOW), PT_JWT_OK);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld}", NOW - 59), PT_JWT_OK);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld}", NOW - 60), PT_JWT_EXPIRED);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld}", NOW - 61), PT_JWT_EXPIRED);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld.5}", NOW - 60), PT_JWT_OK);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld,\"nbf\":%lld}", NOW + 99, NOW + 59), PT_JWT_OK);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld,\"nbf\":%lld}", NOW + 99, NOW + 60), PT_JWT_OK);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld,\"nbf\":%lld}", NOW + 99, NOW + 61), PT_JWT_NOT_YET_VALID);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld,\"iat\":%lld}", NOW + 99, NOW + 59), PT_JWT_OK);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld,\"iat\":%lld}", NOW + 99, NOW + 61), PT_JWT_NOT_YET_VALID);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld}", NOW + 99, NOW - 9, NOW - 9),
                 PT_JWT_OK);
    DONE;
    /* exp is required; time claims must be finite numbers. */
    CHECK_EQ_INT(AT("{\"iat\":%lld}", NOW), PT_JWT_MALFORMED);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":\"%lld\"}", NOW + 99), PT_JWT_MALFORMED);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":%lld,\"nbf\":null}", NOW + 99), PT_JWT_MALFORMED);
    DONE;
    CHECK_EQ_INT(AT("{\"exp\":1e999,\"sub\":\"%s\"}", "x"), PT_JWT_MALFORMED);
    DONE;
    CHECK_EQ_INT(AT("{\"EXP\":%lld}", NOW + 99), PT_JWT_MALFORMED);
    DONE;
#undef AT
#undef DONE
    /* The leeway is the caller's: 0 makes exp exact. */
    {
        struct pt_jwt_verifier strict = hs_verifier;

        strict.leeway_s = 0;
        c = fmt("{\"exp\":%lld}", NOW - 1);
        CHECK_EQ_INT(verify_free(&strict, hs_token(c), NOW), PT_JWT_EXPIRED);
        free(c);
    }
}

static void test_issuer(void)
{
    struct pt_jwt_verifier v = hs_verifier;
    char *c;

    v.issuer = "https://issuer.example";
    CHECK_EQ_INT(
        verify_free(&v, hs_token(c = claims_now("\"iss\":\"https://issuer.example\",")), NOW),
        PT_JWT_OK);
    free(c);
    CHECK_EQ_INT(
        verify_free(&v, hs_token(c = claims_now("\"iss\":\"https://issuer.example/\",")), NOW),
        PT_JWT_BAD_ISSUER);
    free(c);
    CHECK_EQ_INT(
        verify_free(&v, hs_token(c = claims_now("\"iss\":\"HTTPS://issuer.example\",")), NOW),
        PT_JWT_BAD_ISSUER);
    free(c);
    CHECK_EQ_INT(
        verify_free(&v, hs_token(c = claims_now("\"iss\":[\"https://issuer.example\"],")), NOW),
        PT_JWT_BAD_ISSUER);
    free(c);
    CHECK_EQ_INT(verify_free(&v, hs_token(c = claims_now("")), NOW), PT_JWT_BAD_ISSUER);
    /* The classic truncation: a NUL escape would cut the string short inside cJSON. */
    free(c);
    CHECK_EQ_INT(
        verify_free(&v, hs_token(c = claims_now("\"iss\":\"https://issuer.example\\u0000.evil\",")),
                    NOW),
        PT_JWT_MALFORMED);
    free(c);
    v.issuer = NULL;
    CHECK_EQ_INT(verify_free(&v, hs_token(c = claims_now("\"iss\":\"anyone\",")), NOW), PT_JWT_OK);
    free(c);
}

static void test_audience(void)
{
    static const char *const auds[] = {"chat", "admin"};
    static const struct {
        const char *claims;
        enum pt_jwt_status want;
    } cases[] = {
        {"\"aud\":\"chat\",", PT_JWT_OK},
        {"\"aud\":\"admin\",", PT_JWT_OK},
        {"\"aud\":[\"x\",\"admin\"],", PT_JWT_OK},
        {"\"aud\":\"Chat\",", PT_JWT_BAD_AUDIENCE},
        {"\"aud\":\"chat \",", PT_JWT_BAD_AUDIENCE},
        {"\"aud\":[],", PT_JWT_BAD_AUDIENCE},
        {"\"aud\":[\"x\"],", PT_JWT_BAD_AUDIENCE},
        {"\"aud\":5,", PT_JWT_BAD_AUDIENCE},
        {"\"aud\":null,", PT_JWT_BAD_AUDIENCE},
        {"\"aud\":[\"chat\",5],", PT_JWT_MALFORMED},
        {"\"client_id\":\"chat\",", PT_JWT_OK},
        {"\"client_id\":\"other\",", PT_JWT_BAD_AUDIENCE},
        {"\"client_id\":[\"chat\"],", PT_JWT_BAD_AUDIENCE},
        /* AWS: client_id is only consulted when aud is absent. */
        {"\"aud\":\"other\",\"client_id\":\"chat\",", PT_JWT_BAD_AUDIENCE},
        {"\"aud\":\"chat\",\"client_id\":\"other\",", PT_JWT_OK},
        {"", PT_JWT_BAD_AUDIENCE},
    };
    struct pt_jwt_verifier v = hs_verifier;
    size_t i;
    char *c;

    v.audiences = auds;
    v.n_audiences = 2;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        c = claims_now(cases[i].claims);
        if (verify_free(&v, hs_token(c), NOW) != cases[i].want) {
            CHECK_EQ_STR(c, "(the expected outcome)");
        } else {
            CHECK(1);
        }
        free(c);
    }
    /* No audience configured: not checked. */
    v.n_audiences = 0;
    CHECK_EQ_INT(verify_free(&v, hs_token(c = claims_now("\"aud\":\"x\",")), NOW), PT_JWT_OK);
    free(c);
}

/* ---- Scopes ---- */

static bool scoped(const char *claims_json, const char *const *want, size_t n)
{
    cJSON *claims = cJSON_Parse(claims_json);
    bool ok = pt_jwt_has_scope(claims, want, n);

    cJSON_Delete(claims);
    return ok;
}

static void test_scopes(void)
{
    static const char *const write[] = {"write"};
    static const char *const two[] = {"admin", "chat:send"};
    cJSON *claims, *list;
    char *s;

    CHECK(scoped("{\"scope\":\"read write\"}", write, 1));
    CHECK(scoped("{\"scope\":\"  write  \"}", write, 1));
    CHECK(!scoped("{\"scope\":\"read writer\"}", write, 1));
    CHECK(!scoped("{\"scope\":\"readwrite\"}", write, 1));
    CHECK(!scoped("{\"scope\":\"WRITE\"}", write, 1));
    CHECK(!scoped("{\"scope\":[\"write\"]}", write, 1)); /* scope is a string claim */
    CHECK(scoped("{\"scp\":\"read write\"}", write, 1));
    CHECK(scoped("{\"scp\":[\"read\",\"write\"]}", write, 1));
    CHECK(!scoped("{\"scp\":[\"read write\"]}", write, 1));
    CHECK(scoped("{\"scope\":\"read\",\"scp\":[\"write\"]}", write, 1));
    CHECK(scoped("{\"scope\":\"x chat:send\"}", two, 2));
    CHECK(!scoped("{\"scope\":\"\"}", two, 2));
    CHECK(!scoped("{\"sub\":\"u\"}", write, 1));
    /* A route without authorizationScopes needs none. */
    CHECK(scoped("{\"sub\":\"u\"}", NULL, 0));

    claims = cJSON_Parse("{\"scope\":\" a  b\",\"scp\":[\"c\",1,\"d\"]}");
    list = pt_jwt_scopes(claims);
    s = cJSON_PrintUnformatted(list);
    CHECK_EQ_STR(s, "[\"a\",\"b\",\"c\",\"d\"]");
    free(s);
    cJSON_Delete(list);
    cJSON_Delete(claims);
    claims = cJSON_Parse("{\"sub\":\"u\"}");
    CHECK(pt_jwt_scopes(claims) == NULL);
    cJSON_Delete(claims);
}

/* ---- Strict parsing ---- */

static void test_malformed_token(void)
{
    struct pt_jwt_verifier v = hs_verifier;
    char *good = hs_token("{\"exp\":9999999999}");
    const char *sig = strrchr(good, '.');

    CHECK_EQ_INT(verify_at(&v, good, NOW), PT_JWT_OK);
    CHECK_EQ_INT(verify_at(&v, "", NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_at(&v, "abc", NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_at(&v, "a.b", NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_at(&v, "..", NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, fmt("%s.", good), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, fmt(".%s", good), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, fmt("%s.e30", good), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, fmt("%s=", good), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, fmt(" %s", good), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, fmt("%s\n", good), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, fmt("Bearer %s", good), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, with_char(good, 3, '+'), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, with_char(good, 3, '/'), NOW), PT_JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(&v, with_char(good, -1, '%'), NOW), PT_JWT_MALFORMED);
    /* 43 signature characters leave 2 unused bits: setting one is non-canonical, not merely
     * another (wrong) signature. */
    CHECK_EQ_INT(strlen(sig + 1), 43);
    CHECK_EQ_INT(verify_free(&v, with_char(RFC_A1_TOKEN, -1, 'l'), RFC_EXP), PT_JWT_MALFORMED);
    /* A segment of 4k+1 characters. */
    CHECK_EQ_INT(verify_free(&v, fmt("%sAA", good), NOW), PT_JWT_MALFORMED);
    /* An embedded NUL: the length, not the C string, is the token. */
    {
        struct pt_jwt_result res;
        size_t len = strlen(good);
        char *nul = fmt("%s", good);

        nul[10] = '\0';
        CHECK_EQ_INT(pt_jwt_verify(&v, nul, len, NOW, &res), PT_JWT_MALFORMED);
        free(nul);
        CHECK_EQ_INT(pt_jwt_verify(&v, NULL, 0, NOW, &res), PT_JWT_MALFORMED);
    }
    free(good);
}

/* Exactly PT_JWT_MAX_TOKEN_BYTES verifies; one byte more is never parsed. */
static void test_size_limit(void)
{
    /* The token is 36 (header) + 1 + payload + 1 + 43 (signature) characters, the payload
     * 4/3 of the claims: grow a pad claim from just below the limit until it is reached. */
    size_t k = (PT_JWT_MAX_TOKEN_BYTES - 81) / 4 * 3 - 40, len = 0;
    char *pad = malloc(PT_JWT_MAX_TOKEN_BYTES), *claims, *tok = NULL;

    for (; len < PT_JWT_MAX_TOKEN_BYTES; k++) {
        free(tok);
        memset(pad, 'x', k);
        pad[k] = '\0';
        claims = fmt("{\"exp\":9999999999,\"pad\":\"%s\"}", pad);
        tok = hs_token(claims);
        free(claims);
        len = strlen(tok);
    }
    CHECK_EQ_INT(len, PT_JWT_MAX_TOKEN_BYTES);
    CHECK_EQ_INT(verify_at(&hs_verifier, tok, NOW), PT_JWT_OK);
    free(tok);
    memset(pad, 'x', k);
    pad[k] = '\0';
    claims = fmt("{\"exp\":9999999999,\"pad\":\"%s\"}", pad);
    tok = hs_token(claims);
    CHECK(strlen(tok) > PT_JWT_MAX_TOKEN_BYTES);
    CHECK_EQ_INT(verify_at(&hs_verifier, tok, NOW), PT_JWT_MALFORMED);
    free(claims);
    free(tok);
    free(pad);
}

/* Headers and claims that are signed but not acceptable JSON. */
static void test_malformed_json(void)
{
    static const char *const bad_headers[] = {
        "",
        "[]",
        "\"HS256\"",
        "{\"alg\":\"HS256\"",
        "{\"alg\":\"HS256\"}x",
        "{\"alg\":\"HS256\"}{}",
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",
        "{\"alg\":\"none\",\"alg\":\"HS256\"}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"crit\":[]}",
        "{\"alg\":\"HS256\",\"typ\":1}",
        "{\"alg\":\"HS\\u0000256\"}",
        "{\"alg\":\"HS256\",\"x\":\"\xff\"}",
        "{\"alg\":\"HS256\",\"x\":\"\xc0\xaf\"}",
        "{\"alg\":\"HS256\",\"x\":\"a\tb\"}",
        "{\"alg\":\"HS256\",\"x\":\"\\ud800\"}",
        "\xef\xbb\xbf{\"alg\":\"HS256\"}",
    };
    static const char *const bad_claims[] = {
        "",
        "[]",
        "null",
        "9999999999",
        "{\"exp\":9999999999",
        "{\"exp\":9999999999,}",
        "{\"exp\":9999999999}garbage",
        "{\"exp\":9999999999,\"exp\":1}",
        "{\"exp\":9999999999,\"a\":{\"b\":1,\"b\":2}}",
        "{\"exp\":9999999999,\"a\":[{\"b\":1,\"b\":2}]}",
        "{\"exp\":9999999999,\"sub\":\"a\\u0000\"}",
        "{\"exp\":9999999999,\"a\\u0000\":1}",
        "{\"exp\":9999999999,\"sub\":\"\xed\xa0\x80\"}",
        "{\"exp\":9999999999,\"sub\":\"a\nb\"}",
    };
    struct pt_jwt_verifier v = hs_verifier;
    char *claims = claims_now(""), deep[128], *tok;
    size_t i, k;

    for (i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        tok = sign_token(&hs, bad_headers[i], claims);
        if (verify_free(&v, tok, NOW) != PT_JWT_MALFORMED)
            CHECK_EQ_STR(bad_headers[i], "(malformed)");
        else
            CHECK(1);
    }
    for (i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++) {
        tok = sign_token(&hs, "{\"alg\":\"HS256\"}", bad_claims[i]);
        if (verify_free(&v, tok, NOW) != PT_JWT_MALFORMED)
            CHECK_EQ_STR(bad_claims[i], "(malformed)");
        else
            CHECK(1);
    }
    /* Whitespace is JSON's business, as in the RFC's own CRLF-separated header. */
    CHECK_EQ_INT(verify_free(&v, sign_token(&hs, " \r\n{ \"alg\" : \"HS256\" }\t", claims), NOW),
                 PT_JWT_OK);
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&hs, "{\"alg\":\"HS256\",\"x\":\"\\\"}{\\\\\"}", claims), NOW),
        PT_JWT_OK);
    CHECK_EQ_INT(
        verify_free(&v, sign_token(&hs, "{\"alg\":\"HS256\",\"jku\":\"https://evil\"}", claims),
                    NOW),
        PT_JWT_OK);
    /* Nesting: PT_JWT_MAX_DEPTH levels in all (the claims object is one) pass, one more not. */
    for (k = PT_JWT_MAX_DEPTH - 1; k <= PT_JWT_MAX_DEPTH; k++) {
        size_t at = 0, j;

        at += (size_t)snprintf(deep, sizeof(deep), "{\"exp\":9999999999,\"d\":");
        for (j = 0; j < k; j++)
            deep[at++] = '[';
        for (j = 0; j < k; j++)
            deep[at++] = ']';
        deep[at++] = '}';
        deep[at] = '\0';
        CHECK_EQ_INT(verify_free(&v, sign_token(&hs, "{\"alg\":\"HS256\"}", deep), NOW),
                     k < PT_JWT_MAX_DEPTH ? PT_JWT_OK : PT_JWT_MALFORMED);
    }
    free(claims);
}

/* pt_jwt_json_parse() directly: lengths, not C strings. */
static void test_json_parse(void)
{
    static const struct {
        const char *text;
        size_t len;
        bool ok;
    } cases[] = {
        {"{\"a\":1}", 7, true},
        {"{\"a\":1} \r\n\t", 11, true},
        {"{\"a\":1}\0", 8, false},
        {"{\"a\":1}x", 8, false},
        {"{\"a\":1}x", 7, true}, /* only len bytes are read */
        {"{\"a\"\0:1}", 8, false},
        {"\xef\xbb\xbf{}", 5, false},
        {"{\"a\":\"\\u0000\"}", 14, false},
        {"{\"a\":\"\\\\u0000\"}", 15, true}, /* an escaped backslash, then text */
        {"{\"a\":\"\\u00e9\\u20AC\"}", 20, true},
        {"{\"a\":\"\\u12\"}", 12, false},
        {"{\"a\":\"\\", 7, false},
        {"{\"a\":1,\"b\":{\"a\":2}}", 19, true},
        {"{\"a\":1,\"b\":2,\"a\":3}", 19, false},
        {"[{\"a\":1},{\"a\":1}]", 17, true},
        {"{}", 2, true},
        {"]", 1, false},
        {"", 0, false},
    };
    /* More members than the in-place duplicate check handles: the sorted path. */
    char many[512];
    size_t i, at;
    cJSON *j;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        j = pt_jwt_json_parse(cases[i].text, cases[i].len, PT_JWT_MAX_DEPTH);
        if ((j != NULL) != cases[i].ok)
            CHECK_EQ_STR(cases[i].text, cases[i].ok ? "(accepted)" : "(refused)");
        else
            CHECK(1);
        cJSON_Delete(j);
    }
    at = (size_t)snprintf(many, sizeof(many), "{");
    for (i = 0; i < 40; i++)
        at += (size_t)snprintf(many + at, sizeof(many) - at, "\"k%zu\":%zu,", i, i);
    snprintf(many + at, sizeof(many) - at, "\"k0x\":0}");
    j = pt_jwt_json_parse(many, strlen(many), 2);
    CHECK(j != NULL);
    cJSON_Delete(j);
    snprintf(many + at, sizeof(many) - at, "\"k39\":0}");
    CHECK(pt_jwt_json_parse(many, strlen(many), 2) == NULL);
    CHECK(pt_jwt_json_parse("[[[]]]", 6, 2) == NULL);
    j = pt_jwt_json_parse("[[[]]]", 6, 3);
    CHECK(j != NULL);
    cJSON_Delete(j);
}

/* ---- JWKS documents ---- */

static void test_jwks_parse(void)
{
    static const char *const errors[] = {
        "", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[]", "{\"keys\":[],\"keys\":[]}", "null",
    };
    char *rsa_jwk = jwk_of(rsa_key, ""), *ec_jwk = jwk_of(ec_key, ""), *doc, *big;
    struct pt_jwks *ks;
    const char *err;
    size_t i;
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char *small_jwk = jwk_of(small, "");

    for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        err = NULL;
        ks = (struct pt_jwks *)1;
        CHECK_EQ_INT(pt_jwks_parse(errors[i], strlen(errors[i]), &ks, &err), PT_EINVAL);
        CHECK(ks == NULL && err != NULL);
    }
    /* Skipped without error: every entry below but the last two. */
    doc = fmt("{\"keys\":[1,\"k\",{},"
              "{\"kty\":\"oct\",\"k\":\"%s\"},"
              "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"},"
              "{\"use\":\"enc\",%s,"
              "{\"use\":1,%s,"
              "{\"key_ops\":[\"encrypt\"],%s,"
              "{\"key_ops\":\"verify\",%s,"
              "{\"alg\":\"RS512\",%s,"
              "{\"alg\":\"ES256\",%s,"
              "{\"alg\":\"RS256\",%s,"
              "{\"kid\":7,%s,"
              "{\"kty\":\"RSA\",\"kid\":\"e=1\",\"n\":\"%s\",\"e\":\"AQ\"},"
              "{\"kty\":\"RSA\",\"kid\":\"no-e\",\"n\":\"%s\"},"
              "{\"kty\":\"RSA\",\"kid\":\"pad\",\"n\":\"%s=\",\"e\":\"AQAB\"},"
              "{\"kty\":\"RSA\",\"kid\":\"2041-bit\",\"n\":\"A%s\",\"e\":\"AQAB\"},"
              "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"},"
              "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"%s\"},"
              "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"},"
              "%s,"
              "{\"kid\":\"a\",\"use\":\"sig\",\"key_ops\":[\"sign\",\"verify\"],"
              "\"alg\":\"RS256\",\"d\":\"private-members-are-ignored\",%s,"
              "{\"kid\":\"b\",%s]}",
              RFC_A1_K, RFC_A3_X, rsa_jwk + 1, rsa_jwk + 1, rsa_jwk + 1, rsa_jwk + 1, rsa_jwk + 1,
              rsa_jwk + 1, ec_jwk + 1, rsa_jwk + 1, RFC_A2_N, RFC_A2_N, RFC_A2_N, &RFC_A2_N[1],
              RFC_A3_X, RFC_A3_Y, RFC_A3_Y, RFC_A3_X, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE",
              small_jwk, rsa_jwk + 1, ec_jwk + 1);
    CHECK_EQ_INT(pt_jwks_parse(doc, strlen(doc), &ks, &err), 0);
    CHECK_EQ_INT(pt_jwks_count(ks), 2);
    CHECK_EQ_INT(pt_jwks_skipped(ks), 21);
    CHECK(ERR_peek_error() == 0);
    /* References: the set outlives the first unref. */
    CHECK(pt_jwks_ref(ks) == ks);
    pt_jwks_unref(ks);
    CHECK_EQ_INT(pt_jwks_count(ks), 2);
    pt_jwks_unref(ks);
    pt_jwks_unref(NULL);
    CHECK(pt_jwks_ref(NULL) == NULL);
    free(doc);
    /* Too many usable keys; as many unusable ones as anyone likes. */
    big = fmt("{\"keys\":[%s", ec_jwk);
    for (i = 1; i <= PT_JWKS_MAX_KEYS; i++) {
        doc = fmt("%s,%s", big, i < PT_JWKS_MAX_KEYS ? ec_jwk : "{\"kty\":\"oct\"}");
        free(big);
        big = doc;
    }
    doc = fmt("%s]}", big);
    CHECK_EQ_INT(pt_jwks_parse(doc, strlen(doc), &ks, &err), 0);
    CHECK_EQ_INT(pt_jwks_count(ks), PT_JWKS_MAX_KEYS);
    pt_jwks_unref(ks);
    free(doc);
    doc = fmt("%s,%s]}", big, ec_jwk);
    CHECK_EQ_INT(pt_jwks_parse(doc, strlen(doc), &ks, &err), PT_EINVAL);
    CHECK(ks == NULL);
    free(doc);
    free(big);
    /* Size limit, before parsing. */
    big = malloc(PT_JWKS_MAX_BYTES + 2);
    memset(big, ' ', PT_JWKS_MAX_BYTES + 1);
    memcpy(big, "{\"keys\":[]}", 11);
    CHECK_EQ_INT(pt_jwks_parse(big, PT_JWKS_MAX_BYTES, &ks, &err), 0);
    pt_jwks_unref(ks);
    CHECK_EQ_INT(pt_jwks_parse(big, PT_JWKS_MAX_BYTES + 1, &ks, &err), PT_ETOOBIG);
    CHECK(ks == NULL);
    free(big);
    /* A non-terminated buffer: only len bytes are read. */
    CHECK_EQ_INT(pt_jwks_parse("{\"keys\":[]}garbage", 11, &ks, NULL), 0);
    pt_jwks_unref(ks);
    EVP_PKEY_free(small);
    free(small_jwk);
    free(rsa_jwk);
    free(ec_jwk);
}

/* ---- Threads ---- */

#define THREADS     4
#define THREAD_RUNS 25

static char *thread_tokens[3];

static void *verify_many(void *arg)
{
    struct pt_jwt_verifier v = {.leeway_s = PT_JWT_LEEWAY_S};
    struct pt_jwt_result res;
    long bad = 0;
    int i, t;

    v.jwks = pt_jwks_ref(rt_jwks);
    for (i = 0; i < THREAD_RUNS; i++) {
        for (t = 0; t < 3; t++) {
            if (pt_jwt_verify(&v, thread_tokens[t], strlen(thread_tokens[t]), NOW, &res) !=
                PT_JWT_OK)
                bad++;
            cJSON_Delete(res.claims);
        }
    }
    pt_jwks_unref((struct pt_jwks *)v.jwks);
    return (void *)bad;
}

/* Workers share one key set: verifications run at once and take references. */
static void test_concurrent(void)
{
    struct signer rs = {.alg = PT_JWT_RS256, .pkey = rsa_key};
    struct signer ps = {.alg = PT_JWT_PS256, .pkey = rsa_key};
    struct signer es = {.alg = PT_JWT_ES256, .pkey = ec_key};
    char *claims = claims_now("");
    pthread_t th[THREADS];
    void *bad;
    int i;

    thread_tokens[0] = sign_token(&rs, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", claims);
    thread_tokens[1] = sign_token(&ps, "{\"alg\":\"PS256\"}", claims);
    thread_tokens[2] = sign_token(&es, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", claims);
    for (i = 0; i < THREADS; i++)
        CHECK_EQ_INT(pthread_create(&th[i], NULL, verify_many, NULL), 0);
    for (i = 0; i < THREADS; i++) {
        CHECK_EQ_INT(pthread_join(th[i], &bad), 0);
        CHECK_EQ_INT((long)bad, 0);
    }
    for (i = 0; i < 3; i++)
        free(thread_tokens[i]);
    free(claims);
}

int main(void)
{
    char *a, *b, *doc;

    rsa_key = EVP_RSA_gen(2048);
    ec_key = EVP_EC_gen("P-256");
    if (rsa_key == NULL || ec_key == NULL)
        return 1;
    a = jwk_of(rsa_key, "\"kid\":\"rsa1\",\"use\":\"sig\",");
    b = jwk_of(ec_key, "\"kid\":\"ec1\",");
    doc = fmt("{\"keys\":[%s,%s]}", a, b);
    rt_jwks = jwks_of(doc);
    free(a);
    free(b);
    free(doc);

    RUN(test_b64url_decode);
    RUN(test_rfc7515_a1_hs256);
    RUN(test_rfc7515_a2_rs256);
    RUN(test_rfc7515_a3_es256);
    RUN(test_tampered);
    RUN(test_alg_refused);
    RUN(test_alg_confusion);
    RUN(test_runtime_keys);
    RUN(test_kid_selection);
    RUN(test_time_leeway);
    RUN(test_issuer);
    RUN(test_audience);
    RUN(test_scopes);
    RUN(test_malformed_token);
    RUN(test_size_limit);
    RUN(test_json_parse);
    RUN(test_malformed_json);
    RUN(test_jwks_parse);
    RUN(test_concurrent);

    pt_jwks_unref(rt_jwks);
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(ec_key);
    return harness_finish("test_jwt");
}
