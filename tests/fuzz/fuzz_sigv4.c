/* libFuzzer target: SigV4 verification (hub/sigv4.c). The input is tried as an Authorization
 * header, as a presigned query string, and as a decoded path; nothing may crash or leak. Then
 * it becomes the path, a header value and the body of a request that is signed and verified
 * again, which must succeed: signer and verifier canonicalise the same way. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define HOST   "abc123.execute-api.us-east-1.amazonaws.com"
#define NOW_S  1440938160 /* 20150830T123600Z: the seeds' date, so they reach the HMAC */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup_secret(void *ud, const char *access_key_id)
{
    return strcmp(access_key_id, AKID) == 0 ? SECRET : NULL;
}

static const struct pt_sigv4_verifier verifier = {
    .service = "execute-api", .skew_s = 900, .secret_fn = lookup_secret};

/* s as the Authorization header (and the body), its candidate paths as the path. */
static void verify_header(const char *s)
{
    struct pt_kv h[3] = {{"Host", HOST}, {"X-Amz-Date", "20150830T123600Z"}, {"Authorization", s}};
    struct pt_sigv4_paths p;
    struct pt_sigv4_request req = {.method = "POST", .headers = h, .n_headers = 3};
    struct pt_sigv4_result res;

    pt_sigv4_build_paths(&p, s);
    req.paths = p.path;
    req.n_paths = p.count;
    req.verbatim_path = s;
    req.body = s;
    req.body_len = strlen(s);
    pt_sigv4_verify(&verifier, &req, NOW_S, &res);
    if (res.status != PT_SIGV4_OK && res.message[0] == '\0')
        abort();
    pt_sigv4_cleanup_paths(&p);
}

/* s split at '&' and '=' (in a copy) as decoded query parameters. */
static void verify_query(const char *s)
{
    struct pt_kv h[1] = {{"Host", HOST}}, q[PT_SIGV4_MAX_PARAMS + 1];
    const char *paths[1] = {"/prod"};
    struct pt_sigv4_request req = {
        .method = "GET", .paths = paths, .n_paths = 1, .query = q, .headers = h, .n_headers = 1};
    struct pt_sigv4_result res;
    char *copy = strdup(s), *p = copy, *amp, *eq;

    while (req.n_query < PT_SIGV4_MAX_PARAMS + 1) {
        if ((amp = strchr(p, '&')) != NULL)
            *amp = '\0';
        if ((eq = strchr(p, '=')) != NULL)
            *eq = '\0';
        q[req.n_query].name = p;
        q[req.n_query++].value = eq != NULL ? eq + 1 : "";
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    pt_sigv4_verify(&verifier, &req, NOW_S, &res);
    if (res.status != PT_SIGV4_OK && res.message[0] == '\0')
        abort();
    free(copy);
}

/* Whatever the signer accepts, the verifier must accept from the same parts. */
static void round_trip(const char *s)
{
    struct pt_kv h[4] = {{"Host", HOST}, {"X-Fuzz", s}};
    struct pt_sigv4_sign_req in = {
        .method = "PUT",
        .path = s,
        .headers = h,
        .n_headers = 2,
        .body = s,
        .body_len = strlen(s),
        .access_key_id = AKID,
        .secret = SECRET,
        .region = "us-east-1",
        .service = "execute-api",
        .now_s = NOW_S,
    };
    const char *paths[1] = {s};
    struct pt_sigv4_request req = {.method = "PUT", .paths = paths, .n_paths = 1, .headers = h};
    struct pt_sigv4_sig sig;
    struct pt_sigv4_result res;

    if (pt_sigv4_sign(&in, &sig) == 0) {
        h[2] = (struct pt_kv){"X-Amz-Date", sig.amz_date};
        h[3] = (struct pt_kv){"Authorization", sig.authorization.data};
        req.n_headers = 4;
        req.body = s;
        req.body_len = strlen(s);
        if (pt_sigv4_verify(&verifier, &req, NOW_S, &res) != PT_SIGV4_OK)
            abort();
    }
    pt_sigv4_cleanup_sig(&sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size > 2 * PT_SIGV4_MAX_AUTH_BYTES)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    verify_header(s);
    verify_query(s);
    round_trip(s);
    free(s);
    return 0;
}
