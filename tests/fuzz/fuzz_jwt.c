/* libFuzzer target: JWT verification (hub/jwt.c, hub/jwks.c). The first byte picks the mode
 * (byte % 4): 0 and 1 verify the rest as token bytes against a fixed JWKS (the RFC 7515 A.2
 * and A.3 public keys) and the RFC A.1 HS256 secret; 2 and 3 read the rest as "header JSON \n
 * claims JSON", which the harness signs with HS256, so the claim rules and the scope helpers
 * see arbitrary JSON behind a valid signature. Odd modes also check iss and aud. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "jwt.h"

#define NOW_S 1300819000 /* inside the RFC example's validity (exp 1300819380) */
#define SECRET_K \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
#define JWKS                                                                                 \
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_" \
    "wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_" \
    "YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-"  \
    "UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"           \
    "DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\",\"e\":\"AQAB\"},"       \
    "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\",\"x\":"                                \
    "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":"                                 \
    "\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pt_jwks *jwks;
static unsigned char secret[64];
static size_t secret_len;

static void setup(void)
{
    if (jwks != NULL)
        return;
    if (pt_jwks_parse(JWKS, strlen(JWKS), &jwks, NULL) != 0 || pt_jwks_count(jwks) != 2 ||
        pt_jwt_b64url_decode(SECRET_K, strlen(SECRET_K), secret, sizeof(secret), &secret_len))
        abort();
}

static char *b64url(const void *data, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = data;
    char *out = malloc(n / 3 * 4 + 5), *o = out;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *o++ = abc[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        *o++ = abc[(acc << (6 - bits)) & 63];
    *o = '\0';
    return out;
}

/* Verifies and checks what every outcome promises. */
static void verify(const char *token, size_t len, bool checks)
{
    static const char *const auds[] = {"chat", "admin"};
    static const char *const scopes[] = {"read", "chat:send"};
    struct pt_jwt_verifier v = {
        .jwks = jwks, .secret = secret, .secret_len = secret_len, .leeway_s = PT_JWT_LEEWAY_S};
    struct pt_jwt_result res;
    cJSON *list;

    if (checks) {
        v.issuer = "joe";
        v.audiences = auds;
        v.n_audiences = 2;
    }
    if (pt_jwt_verify(&v, token, len, NOW_S, &res) != res.status || res.reason == NULL ||
        strchr(res.reason, '"') != NULL || (res.status == PT_JWT_OK) != (res.claims != NULL) ||
        ERR_peek_error() != 0)
        abort();
    if (res.claims != NULL) {
        pt_jwt_has_scope(res.claims, scopes, 2);
        if (!pt_jwt_has_scope(res.claims, NULL, 0))
            abort();
        list = pt_jwt_scopes(res.claims);
        cJSON_Delete(list);
        cJSON_Delete(res.claims);
    }
}

/* "header\nclaims", each base64url-encoded and the pair signed with the secret. */
static void verify_signed(const char *s, size_t n)
{
    const char *nl = memchr(s, '\n', n);
    unsigned char mac[32];
    size_t mac_len = 0, hlen = nl != NULL ? (size_t)(nl - s) : n;
    char *h = b64url(s, hlen), *p = b64url(nl != NULL ? nl + 1 : "", nl ? n - hlen - 1 : 0);
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *token = malloc(in_len + 1 + 45), *sig;

    memcpy(token, h, strlen(h));
    token[strlen(h)] = '.';
    memcpy(token + strlen(h) + 1, p, strlen(p) + 1);
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_len,
                  (const unsigned char *)token, in_len, mac, sizeof(mac), &mac_len) == NULL)
        abort();
    sig = b64url(mac, mac_len);
    token[in_len] = '.';
    memcpy(token + in_len + 1, sig, strlen(sig) + 1);
    verify(token, strlen(token), false);
    verify(token, strlen(token), true);
    free(sig);
    free(token);
    free(h);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char out[PT_JWT_MAX_TOKEN_BYTES];
    const char *s = (const char *)data + 1;
    size_t n = size - 1, out_len;
    cJSON *j;

    if (size == 0 || size > PT_JWT_MAX_TOKEN_BYTES + 2)
        return 0;
    setup();
    if (data[0] % 4 < 2) {
        verify(s, n, data[0] % 2 == 1);
        pt_jwt_b64url_decode(s, n, out, sizeof(out), &out_len);
        j = pt_jwt_json_parse(s, n, PT_JWT_MAX_DEPTH);
        cJSON_Delete(j);
    } else {
        verify_signed(s, n);
    }
    return 0;
}
