/* JWKS key sets (see jwt.h): RSA and P-256 public keys built from JWK members with OpenSSL 3's
 * EVP_PKEY_fromdata(), and signature checks with them. Pure: the document arrives as text.
 * Deliberately not handled: oct keys (an HS256 secret never comes from a JWKS), OKP keys,
 * curves other than P-256, x5c certificate chains. */
#include "jwt.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "portico/err.h"
#include "portico/xalloc.h"

#define RSA_MIN_BYTES 256  /* 2048 bits: RFC 7518 section 3.3 */
#define RSA_MAX_BYTES 1024 /* 8192 bits: bounds the cost of one verification */
#define RSA_MAX_E     8    /* bytes of public exponent, which also bounds verification cost */
#define P256_BYTES    32
#define ES256_SIG     64
#define ES256_DER_MAX 72 /* SEQUENCE of two INTEGERs of up to 33 bytes */

enum kty { KTY_RSA, KTY_EC };

struct jwk {
    char *kid; /* owned, or NULL when the JWK has none */
    enum kty kty;
    int alg;        /* the one enum pt_jwt_alg the JWK names, or -1: any of its kty */
    EVP_PKEY *pkey; /* owned; read-only once the set is built */
};

struct pt_jwks {
    atomic_uint refs;
    size_t n, skipped;
    struct jwk keys[PT_JWKS_MAX_KEYS];
};

/* ---- Building keys ---- */

/* Decodes the base64url string member name of jwk into out[0..cap). */
static bool member_bytes(const cJSON *jwk, const char *name, unsigned char *out, size_t cap,
                         size_t *len)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(jwk, name);

    return cJSON_IsString(m) &&
           pt_jwt_b64url_decode(m->valuestring, strlen(m->valuestring), out, cap, len) == 0;
}

/* Builds a public key of type name ("RSA", "EC") from bld's parameters; frees bld. */
static EVP_PKEY *from_params(const char *name, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL), *check = NULL;
    EVP_PKEY *pkey = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    /* OpenSSL 3.0's import already refuses EC points off the curve; the explicit check keeps
     * that true whatever the provider. RSA's check is a primality test of n, too slow for a
     * document whoever serves the JWKS URL controls, and gains nothing for verification. */
    if (pkey != NULL && strcmp(name, "EC") == 0) {
        check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (check == NULL || EVP_PKEY_public_check(check) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static EVP_PKEY *rsa_key(const cJSON *jwk)
{
    unsigned char n[RSA_MAX_BYTES + 8], e[RSA_MAX_E + 8];
    const unsigned char *pn = n, *pe = e;
    size_t n_len, e_len;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pkey = NULL;

    if (!member_bytes(jwk, "n", n, sizeof(n), &n_len) ||
        !member_bytes(jwk, "e", e, sizeof(e), &e_len))
        return NULL;
    /* RFC 7518 6.3.1 asks for minimal encodings; leading zeros are tolerated, not counted. */
    for (; n_len > 0 && *pn == 0; n_len--)
        pn++;
    for (; e_len > 0 && *pe == 0; e_len--)
        pe++;
    if (n_len < RSA_MIN_BYTES || (n_len == RSA_MIN_BYTES && (*pn & 0x80) == 0) ||
        n_len > RSA_MAX_BYTES || (pn[n_len - 1] & 1) == 0 || e_len == 0 || e_len > RSA_MAX_E ||
        (pe[e_len - 1] & 1) == 0 || (e_len == 1 && *pe == 1))
        return NULL;
    bld = OSSL_PARAM_BLD_new();
    bn_n = BN_bin2bn(pn, (int)n_len, NULL);
    bn_e = BN_bin2bn(pe, (int)e_len, NULL);
    if (bld != NULL && bn_n != NULL && bn_e != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        pkey = from_params("RSA", bld);
        bld = NULL;
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

static EVP_PKEY *ec_key(const cJSON *jwk)
{
    const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");
    unsigned char point[1 + 2 * P256_BYTES];
    size_t x_len, y_len;
    OSSL_PARAM_BLD *bld;

    if (!cJSON_IsString(crv) || strcmp(crv->valuestring, "P-256") != 0)
        return NULL;
    /* RFC 7518 6.2.1.2: x and y are the full 32 bytes, leading zeros included. */
    point[0] = 0x04; /* SEC 1 uncompressed point */
    if (!member_bytes(jwk, "x", point + 1, P256_BYTES, &x_len) || x_len != P256_BYTES ||
        !member_bytes(jwk, "y", point + 1 + P256_BYTES, P256_BYTES, &y_len) || y_len != P256_BYTES)
        return NULL;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL)
        return NULL;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point))) {
        OSSL_PARAM_BLD_free(bld);
        return NULL;
    }
    return from_params("EC", bld);
}

/* True when the optional string member name is absent or equal to want. */
static bool absent_or(const cJSON *jwk, const char *name, const char *want)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(jwk, name);

    return m == NULL || (cJSON_IsString(m) && strcmp(m->valuestring, want) == 0);
}

/* RFC 7517 section 4: use, key_ops and alg restrict what a key may do; kid names it. Fills
 * k->kty, k->alg and k->kid (owned) and returns true when the JWK may verify signatures. */
static bool read_meta(const cJSON *jwk, struct jwk *k)
{
    const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(jwk, "key_ops");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid"), *op;
    bool verify = ops == NULL;

    if (!cJSON_IsString(kty) || !absent_or(jwk, "use", "sig"))
        return false;
    if (strcmp(kty->valuestring, "RSA") == 0)
        k->kty = KTY_RSA;
    else if (strcmp(kty->valuestring, "EC") == 0)
        k->kty = KTY_EC;
    else
        return false;
    if (ops != NULL && !cJSON_IsArray(ops))
        return false;
    cJSON_ArrayForEach(op, ops)
    {
        verify = verify || (cJSON_IsString(op) && strcmp(op->valuestring, "verify") == 0);
    }
    if (!verify || (alg != NULL && !cJSON_IsString(alg)) || (kid != NULL && !cJSON_IsString(kid)))
        return false;
    k->alg = -1;
    if (alg != NULL) {
        if (k->kty == KTY_RSA && strcmp(alg->valuestring, "RS256") == 0)
            k->alg = PT_JWT_RS256;
        else if (k->kty == KTY_RSA && strcmp(alg->valuestring, "PS256") == 0)
            k->alg = PT_JWT_PS256;
        else if (k->kty == KTY_EC && strcmp(alg->valuestring, "ES256") == 0)
            k->alg = PT_JWT_ES256;
        else
            return false;
    }
    if (kid != NULL && strlen(kid->valuestring) > PT_JWKS_MAX_KID_BYTES)
        return false;
    k->kid = kid != NULL ? pt_xstrdup(kid->valuestring) : NULL;
    return true;
}

/* Fills k from one JWKS entry; returns false, with nothing in k to free, when it is unusable. */
static bool read_key(const cJSON *jwk, struct jwk *k)
{
    if (!cJSON_IsObject(jwk) || !read_meta(jwk, k))
        return false;
    k->pkey = k->kty == KTY_RSA ? rsa_key(jwk) : ec_key(jwk);
    if (k->pkey == NULL) {
        free(k->kid);
        memset(k, 0, sizeof(*k));
        return false;
    }
    return true;
}

int pt_jwks_parse(const char *json, size_t len, struct pt_jwks **out, const char **err)
{
    const char *msg = NULL;
    const cJSON *keys, *jwk;
    struct pt_jwks *ks;
    cJSON *root;

    *out = NULL;
    if (len > PT_JWKS_MAX_BYTES) {
        if (err != NULL)
            *err = "the JWKS is larger than 150000 bytes";
        return PT_ETOOBIG;
    }
    root = pt_jwt_json_parse(json, len, PT_JWKS_MAX_DEPTH);
    keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(keys)) {
        cJSON_Delete(root);
        if (err != NULL)
            *err = "the JWKS is not a JSON object with a keys array";
        return PT_EINVAL;
    }
    ks = pt_xcalloc(1, sizeof(*ks));
    atomic_init(&ks->refs, 1);
    /* A rejected key queues OpenSSL errors of no use to anyone: drop exactly those. */
    ERR_set_mark();
    cJSON_ArrayForEach(jwk, keys)
    {
        struct jwk k = {0};

        if (!read_key(jwk, &k)) {
            ks->skipped++;
        } else if (ks->n < PT_JWKS_MAX_KEYS) {
            ks->keys[ks->n++] = k;
        } else {
            free(k.kid);
            EVP_PKEY_free(k.pkey);
            msg = "the JWKS has more than 64 usable keys";
            break;
        }
    }
    ERR_pop_to_mark();
    cJSON_Delete(root);
    if (msg != NULL) {
        pt_jwks_unref(ks);
        if (err != NULL)
            *err = msg;
        return PT_EINVAL;
    }
    *out = ks;
    return 0;
}

struct pt_jwks *pt_jwks_ref(struct pt_jwks *ks)
{
    if (ks != NULL)
        atomic_fetch_add_explicit(&ks->refs, 1, memory_order_relaxed);
    return ks;
}

void pt_jwks_unref(struct pt_jwks *ks)
{
    size_t i;

    if (ks == NULL || atomic_fetch_sub_explicit(&ks->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (i = 0; i < ks->n; i++) {
        free(ks->keys[i].kid);
        EVP_PKEY_free(ks->keys[i].pkey);
    }
    free(ks);
}

size_t pt_jwks_count(const struct pt_jwks *ks)
{
    return ks != NULL ? ks->n : 0;
}

size_t pt_jwks_skipped(const struct pt_jwks *ks)
{
    return ks != NULL ? ks->skipped : 0;
}

/* ---- Verifying ---- */

/* Appends v[0..n) as a minimal DER INTEGER (X.690 8.3: no redundant leading zero octets, and
 * a zero octet in front of a set high bit); returns the bytes written (at most n + 3). */
static size_t der_integer(unsigned char *out, const unsigned char *v, size_t n)
{
    size_t pad;

    while (n > 1 && *v == 0) {
        v++;
        n--;
    }
    pad = (*v & 0x80) != 0;
    out[0] = 0x02;
    out[1] = (unsigned char)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, n);
    return 2 + pad + n;
}

/* RFC 7518 section 3.4: JWS carries R||S; OpenSSL wants ECDSA-Sig-Value in DER. */
static size_t es256_to_der(const unsigned char *rs, unsigned char *der)
{
    size_t n = der_integer(der + 2, rs, P256_BYTES);

    n += der_integer(der + 2 + n, rs + P256_BYTES, P256_BYTES);
    der[0] = 0x30;
    der[1] = (unsigned char)n;
    return n + 2;
}

static bool key_fits(const struct jwk *k, enum pt_jwt_alg alg)
{
    if (k->alg >= 0 && k->alg != (int)alg)
        return false;
    return alg == PT_JWT_ES256 ? k->kty == KTY_EC : k->kty == KTY_RSA;
}

static bool verify_with(EVP_PKEY *pkey, enum pt_jwt_alg alg, const void *input, size_t input_len,
                        const unsigned char *sig, size_t sig_len)
{
    unsigned char der[ES256_DER_MAX];
    EVP_MD_CTX *md;
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = false;

    if (alg == PT_JWT_ES256) {
        if (sig_len != ES256_SIG)
            return false;
        sig_len = es256_to_der(sig, der);
        sig = der;
    } else if (sig_len != (size_t)EVP_PKEY_get_size(pkey)) {
        return false;
    }
    if ((md = EVP_MD_CTX_new()) == NULL)
        return false;
    if (EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL, pkey, NULL) == 1) {
        if (alg == PT_JWT_PS256)
            ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) > 0 &&
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
        else if (alg == PT_JWT_RS256)
            ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
        else
            ok = true;
        ok = ok && EVP_DigestVerify(md, sig, sig_len, input, input_len) == 1;
    }
    EVP_MD_CTX_free(md);
    return ok;
}

enum pt_jwt_status pt_jwks_verify(const struct pt_jwks *ks, enum pt_jwt_alg alg, const char *kid,
                                  const void *input, size_t input_len, const unsigned char *sig,
                                  size_t sig_len, const char **reason)
{
    bool named = false, tried = false;
    size_t i;

    if (alg == PT_JWT_HS256) {
        *reason = "HS256 is never verified with a JWKS key";
        return PT_JWT_ALG_REFUSED;
    }
    /* A failed verification queues OpenSSL errors on this thread; the worker's TLS code reads
     * that queue, so take back exactly what we added. */
    ERR_set_mark();
    for (i = 0; i < ks->n; i++) {
        const struct jwk *k = &ks->keys[i];

        if (kid != NULL && (k->kid == NULL || strcmp(k->kid, kid) != 0))
            continue;
        named = true;
        if (!key_fits(k, alg))
            continue;
        tried = true;
        if (verify_with(k->pkey, alg, input, input_len, sig, sig_len)) {
            ERR_pop_to_mark();
            *reason = "";
            return PT_JWT_OK;
        }
    }
    ERR_pop_to_mark();
    if (tried) {
        *reason = "the token signature is invalid";
        return PT_JWT_BAD_SIGNATURE;
    }
    if (kid != NULL && named) {
        *reason = "the key named by kid does not fit the token algorithm";
        return PT_JWT_ALG_REFUSED;
    }
    *reason = kid != NULL ? "no key in the JWKS has the token kid"
                          : "no key in the JWKS fits the token algorithm";
    return PT_JWT_UNKNOWN_KID;
}
