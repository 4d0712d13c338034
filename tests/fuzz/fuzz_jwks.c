/* libFuzzer target: JWKS parsing (hub/jwks.c). Whatever parses must hold at most
 * PT_JWKS_MAX_KEYS keys, survive a reference taken and dropped, and verify the RFC 7515 A.2
 * (RS256) and A.3 (ES256) tokens without crashing or leaving OpenSSL errors behind. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>

#include "jwt.h"

#define NOW_S 1300819000
#define PAYLOAD                                                                                    \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl" \
    "fQ"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tokens[] = {
    "eyJhbGciOiJSUzI1NiJ9." PAYLOAD
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw",
    "eyJhbGciOiJFUzI1NiJ9." PAYLOAD
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    /* {"alg":"RS256","kid":"1"} and {"alg":"ES256","kid":"1"} over the same payload */
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ." PAYLOAD ".AAAA",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEifQ." PAYLOAD ".AAAA",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_jwt_verifier v = {.leeway_s = PT_JWT_LEEWAY_S};
    struct pt_jwt_result res;
    struct pt_jwks *ks = (struct pt_jwks *)&v;
    const char *err = NULL;
    size_t i;
    int rc;

    rc = pt_jwks_parse((const char *)data, size, &ks, &err);
    if (ERR_peek_error() != 0)
        abort();
    if (rc != 0) {
        if (ks != NULL || err == NULL)
            abort();
        return 0;
    }
    if (ks == NULL || pt_jwks_count(ks) > PT_JWKS_MAX_KEYS)
        abort();
    pt_jwks_unref(pt_jwks_ref(ks));
    v.jwks = ks;
    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        pt_jwt_verify(&v, tokens[i], strlen(tokens[i]), NOW_S, &res);
        if ((res.status == PT_JWT_OK) != (res.claims != NULL) || ERR_peek_error() != 0)
            abort();
        cJSON_Delete(res.claims);
    }
    pt_jwks_unref(ks);
    return 0;
}
