/* SigV4 signing and verification (see sigv4.h). Pure: no I/O, no clock, no globals. The
 * canonical URI, query and headers are built by sigv4_canon.c. Deliberately not handled: chunked
 * payload signing (STREAMING-*), SigV4a, S3's single-encoding path rule, and session-token
 * validation (the token is only signed). */
#include "sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "portico/err.h"
#include "sigv4_canon.h"

#define ALGORITHM        "AWS4-HMAC-SHA256"
#define TERMINATOR       "aws4_request"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define MAX_CRED_BYTES   320 /* key id, date, region, service, terminator and slashes */
#define MAX_METHOD_BYTES 32
#define MAX_SECRET_BYTES 1024               /* config-provided, but HMAC() takes an int */
#define TIME_BOUND_S     ((int64_t)1 << 40) /* clamp for caller times: no overflow below */

/* ---- Bytes ---- */

static void hex_lower(char *out, const unsigned char *in, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(n ? p : "", n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return false;
    hex_lower(out, md, 32);
    return true;
}

static bool hmac256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    unsigned char out[32])
{
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &len) == NULL || len != 32)
        return false;
    return true;
}

/* ---- Time ---- */

static bool format_amz_date(int64_t t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;
    char tmp[64];

    if (t < 0 || t > 253402300799 || gmtime_r(&tt, &tm) == NULL) /* 1970 .. 9999-12-31 */
        return false;
    snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(out, tmp, 17);
    return true;
}

/* "YYYYMMDDTHHMMSSZ" to unix time. Strict: the value must format back to itself. */
static bool parse_amz_date(const char *s, int64_t *t)
{
    struct tm tm = {0};
    const char *end;
    char back[17];

    if (strnlen(s, 17) != 16 || (end = strptime(s, "%Y%m%dT%H%M%SZ", &tm)) == NULL || *end != '\0')
        return false;
    *t = (int64_t)timegm(&tm);
    return format_amz_date(*t, back) && memcmp(back, s, 16) == 0;
}

/* RFC 7231 IMF-fixdate ("Sun, 30 Aug 2015 12:36:00 GMT", the weekday unchecked), rewritten
 * as an X-Amz-Date into amz. Month names by hand: strptime's %b follows the locale. */
static bool parse_http_date(const char *s, int64_t *t, char amz[17])
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *m = months;
    char tmp[64];

    if (strnlen(s, 30) != 29 || memcmp(s + 3, ", ", 2) != 0 || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return false;
    while (*m != '\0' && memcmp(m, s + 8, 3) != 0)
        m += 3;
    snprintf(tmp, sizeof(tmp), "%.4s%02d%.2sT%.2s%.2s%.2sZ", s + 12, (int)(m - months) / 3 + 1,
             s + 5, s + 17, s + 20, s + 23);
    memcpy(amz, tmp, 16);
    amz[16] = '\0';
    return *m != '\0' && strlen(tmp) == 16 && parse_amz_date(amz, t);
}

/* ---- Signed header names ---- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts sh; returns false when a name repeats. */
static bool sort_names(struct pt_sigv4_canon_names *sh)
{
    size_t i;

    qsort(sh->name, sh->n, sizeof(sh->name[0]), cmp_name);
    for (i = 1; i < sh->n; i++) {
        if (strcmp(sh->name[i - 1], sh->name[i]) == 0)
            return false;
    }
    return true;
}

static bool has_name(const struct pt_sigv4_canon_names *sh, const char *name)
{
    size_t i;

    for (i = 0; i < sh->n; i++) {
        if (strcmp(sh->name[i], name) == 0)
            return true;
    }
    return false;
}

/* A header name as SignedHeaders may carry it: a token without ';' or ':'. */
static bool is_header_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || *s == ';' || *s == ':')
            return false;
    }
    return true;
}

/* ---- Signature ---- */

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date8), region), service), "aws4_request").
 * Input and output never share a buffer: HMAC() does not promise to allow it. */
static bool derive_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[32])
{
    char k0[4 + MAX_SECRET_BYTES];
    unsigned char k1[32];
    size_t n = strnlen(secret, MAX_SECRET_BYTES + 1);
    bool ok;

    if (n > MAX_SECRET_BYTES)
        return false;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n);
    ok = hmac256(k0, 4 + n, date8, 8, k1) && hmac256(k1, 32, region, strlen(region), key) &&
         hmac256(key, 32, service, strlen(service), k1) &&
         hmac256(k1, 32, TERMINATOR, strlen(TERMINATOR), key);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(k1, sizeof(k1));
    return ok;
}

/* Fills sts from the finished canonical request and signs it; false on a crypto failure. */
static bool sign_creq(const unsigned char key[32], const char *amz_date, const char *scope,
                      const struct pt_buf *creq, struct pt_buf *sts, char sig[65])
{
    char h[65];
    unsigned char mac[32];

    if (!sha256_hex(creq->data, creq->len, h))
        return false;
    pt_buf_reset(sts);
    pt_buf_printf(sts, "%s\n%s\n%s\n%s", ALGORITHM, amz_date, scope, h);
    if (!hmac256(key, 32, sts->data, sts->len, mac))
        return false;
    hex_lower(sig, mac, 32);
    return true;
}

/* ---- Candidate wire paths ---- */

int pt_sigv4_build_paths(struct pt_sigv4_paths *p, const char *decoded_path)
{
    struct pt_buf b;
    size_t off[3], len, i, k;

    memset(p, 0, sizeof(*p));
    if (decoded_path == NULL)
        return PT_EINVAL;
    len = strnlen(decoded_path, PT_SIGV4_MAX_PATH_BYTES + 1);
    if (len > PT_SIGV4_MAX_PATH_BYTES)
        return PT_EINVAL;
    pt_buf_init(&b);
    off[0] = 0;
    pt_sigv4_canon_encode(&b, decoded_path, len, "/@");
    pt_buf_append(&b, "", 1);
    off[1] = b.len;
    pt_sigv4_canon_encode(&b, decoded_path, len, "/");
    pt_buf_append(&b, "", 1);
    off[2] = b.len;
    pt_buf_append(&b, decoded_path, len);
    p->_mem = pt_buf_take(&b, NULL);
    for (i = 0; i < 3; i++) {
        const char *s = p->_mem + off[i];

        for (k = 0; k < p->count && strcmp(p->path[k], s) != 0; k++)
            ;
        if (k == p->count)
            p->path[p->count++] = s;
    }
    return 0;
}

void pt_sigv4_cleanup_paths(struct pt_sigv4_paths *p)
{
    free(p->_mem);
    memset(p, 0, sizeof(*p));
}

/* ---- Signing ---- */

static bool copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap);

    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

void pt_sigv4_cleanup_sig(struct pt_sigv4_sig *s)
{
    pt_buf_cleanup(&s->authorization);
    pt_buf_cleanup(&s->query);
    pt_buf_cleanup(&s->canonical_request);
    pt_buf_cleanup(&s->string_to_sign);
}

static bool is_scope_part(const char *s, size_t max)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;

    return n > 0 && n <= max && strchr(s, '/') == NULL && is_header_name(s);
}

static const char *find_kv(const struct pt_kv *kv, size_t n, const char *name, bool icase,
                           size_t *count)
{
    const char *first = NULL;
    size_t i;

    *count = 0;
    for (i = 0; i < n; i++) {
        if (kv[i].name == NULL ||
            !(icase ? pt_sigv4_canon_ieq(kv[i].name, name) : !strcmp(kv[i].name, name)))
            continue;
        if ((*count)++ == 0)
            first = kv[i].value != NULL ? kv[i].value : "";
    }
    return first;
}

/* Lowercased header names of in into store, plus x-amz-date unless presigning; h gets the
 * headers to sign. */
static bool collect_names(const struct pt_sigv4_sign_req *in, struct pt_sigv4_canon_names *sh,
                          char *store, size_t cap, struct pt_kv *h, size_t *nh)
{
    size_t i, k, used = 0;

    sh->n = 0;
    *nh = 0;
    for (i = 0; i < in->n_headers; i++) {
        const char *name = in->headers[i].name;
        size_t len = name != NULL ? strnlen(name, cap) : 0;

        if (name == NULL || !is_header_name(name) || used + len + 1 > cap)
            return false;
        if (pt_sigv4_canon_ieq(name, "x-amz-date"))
            continue;
        h[(*nh)++] = in->headers[i];
        for (k = 0; k <= len; k++)
            store[used + k] = pt_sigv4_canon_lower(name[k]);
        if (!has_name(sh, store + used))
            sh->name[sh->n++] = store + used;
        used += len + 1;
    }
    if (!in->presign)
        sh->name[sh->n++] = "x-amz-date";
    sort_names(sh);
    return has_name(sh, "host");
}

/* Appends the X-Amz-* parameters of a presigned URL, all but X-Amz-Signature, to q. */
static void presign_query(struct pt_buf *q, const struct pt_sigv4_sign_req *in,
                          const char *amz_date, const char *scope,
                          const struct pt_sigv4_canon_names *sh)
{
    struct pt_buf v;

    pt_buf_init(&v);
    pt_buf_printf(&v, "%s/%s", in->access_key_id, scope);
    pt_buf_printf(q, "%sX-Amz-Algorithm=%s&X-Amz-Credential=", q->len > 0 ? "&" : "", ALGORITHM);
    pt_sigv4_canon_encode(q, v.data, v.len, "");
    pt_buf_printf(q, "&X-Amz-Date=%s", amz_date);
    if (in->expires_s > 0)
        pt_buf_printf(q, "&X-Amz-Expires=%lld", (long long)in->expires_s);
    pt_buf_reset(&v);
    pt_sigv4_canon_append_signed(&v, sh);
    pt_buf_puts(q, "&X-Amz-SignedHeaders=");
    pt_sigv4_canon_encode(q, v.data, v.len, "");
    pt_buf_cleanup(&v);
}

int pt_sigv4_sign(const struct pt_sigv4_sign_req *in, struct pt_sigv4_sig *out)
{
    struct pt_kv h[PT_SIGV4_MAX_SIGNED_HEADERS];
    char store[PT_SIGV4_MAX_AUTH_BYTES], scope[MAX_CRED_BYTES], phash[65];
    struct pt_sigv4_canon_names sh;
    struct pt_buf *creq = &out->canonical_request, *q = &out->query;
    const char *ph;
    size_t nh, count;
    unsigned char key[32];
    int rc = PT_EINVAL;

    memset(out, 0, sizeof(*out)); /* all-zero pt_bufs are initialised, empty ones */
    if (in->method == NULL || strnlen(in->method, MAX_METHOD_BYTES + 1) > MAX_METHOD_BYTES ||
        in->path == NULL ||
        strnlen(in->path, PT_SIGV4_MAX_PATH_BYTES + 1) > PT_SIGV4_MAX_PATH_BYTES ||
        in->secret == NULL || !is_scope_part(in->access_key_id, PT_SIGV4_MAX_KEY_ID_BYTES) ||
        !is_scope_part(in->region, PT_SIGV4_MAX_REGION_BYTES) ||
        !is_scope_part(in->service, PT_SIGV4_MAX_REGION_BYTES) ||
        in->n_headers >= PT_SIGV4_MAX_SIGNED_HEADERS ||
        (in->n_headers > 0 && in->headers == NULL) || (in->body_len > 0 && in->body == NULL) ||
        in->expires_s < 0 || in->expires_s > PT_SIGV4_MAX_EXPIRES_S ||
        !format_amz_date(in->now_s, out->amz_date) ||
        !collect_names(in, &sh, store, sizeof(store), h, &nh))
        return PT_EINVAL;
    if (!in->presign)
        h[nh++] = (struct pt_kv){.name = "x-amz-date", .value = out->amz_date};
    ph = find_kv(h, nh, "x-amz-content-sha256", true, &count);
    if (ph != NULL ? !copy_bounded(phash, sizeof(phash), ph)
                   : !sha256_hex(in->body, in->body_len, phash))
        return PT_EINVAL;
    snprintf(scope, sizeof(scope), "%.8s/%s/%s/%s", out->amz_date, in->region, in->service,
             TERMINATOR);
    pt_buf_puts(q, in->query != NULL ? in->query : "");
    if (in->presign)
        presign_query(q, in, out->amz_date, scope, &sh);
    pt_buf_printf(creq, "%s\n", in->method);
    pt_sigv4_canonicalize_path(creq, in->path);
    pt_buf_putc(creq, '\n');
    if (pt_sigv4_canon_append_query_string(creq, q->data) != 0 ||
        pt_sigv4_canon_append_headers(creq, &sh, h, nh, phash) != 0 ||
        !derive_key(in->secret, out->amz_date, in->region, in->service, key) ||
        !sign_creq(key, out->amz_date, scope, creq, &out->string_to_sign, out->signature))
        goto done;
    if (in->presign) {
        pt_buf_printf(q, "&X-Amz-Signature=%s", out->signature);
    } else {
        pt_buf_printf(&out->authorization, "%s Credential=%s/%s, SignedHeaders=", ALGORITHM,
                      in->access_key_id, scope);
        pt_sigv4_canon_append_signed(&out->authorization, &sh);
        pt_buf_printf(&out->authorization, ", Signature=%s", out->signature);
    }
    rc = 0;
done:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* ---- Verification ---- */

/* The authentication material of one request, from the header or the query string. */
struct auth {
    bool presigned;
    char cred[MAX_CRED_BYTES + 1];          /* split in place by parse_credential() */
    char shdr[PT_SIGV4_MAX_AUTH_BYTES + 1]; /* split in place by parse_signed() */
    char sig[65];
    size_t sig_len;     /* of the provided signature; only 64 can match */
    char amz_date[17];  /* the request time as X-Amz-Date, even when it came from Date */
    int64_t t_s;        /* the same as unix time */
    int64_t expires_s;  /* presigned only */
    const char *date8;  /* into cred */
    const char *region; /* into cred */
    struct pt_sigv4_canon_names sh; /* into shdr: lowercase, sorted */
};

/* Appends one sentence to res->message, space-separated, truncating at its size. */
static void add_msg(struct pt_sigv4_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_msg(struct pt_sigv4_result *res, const char *fmt, ...)
{
    size_t used = strlen(res->message);
    va_list ap;

    if (used > 0 && used + 1 < sizeof(res->message))
        res->message[used++] = ' ';
    va_start(ap, fmt);
    vsnprintf(res->message + used, sizeof(res->message) - used, fmt, ap);
    va_end(ap);
}

/* Sets the outcome and a message replacing any earlier one; returns st. */
static enum pt_sigv4_status fail(struct pt_sigv4_result *res, enum pt_sigv4_status st,
                                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum pt_sigv4_status fail(struct pt_sigv4_result *res, enum pt_sigv4_status st,
                                 const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    return res->status = st;
}

/* Copies the three values both forms share and parses the date; x_amz_date wins over date. */
static enum pt_sigv4_status take_parts(struct auth *a, const char *cred, const char *shdr,
                                       const char *sig, const char *x_amz_date, const char *date,
                                       struct pt_sigv4_result *res)
{
    if (!copy_bounded(a->cred, sizeof(a->cred), cred))
        return fail(res, PT_SIGV4_MALFORMED, "Credential is too long.");
    if (!copy_bounded(a->shdr, sizeof(a->shdr), shdr))
        return fail(res, PT_SIGV4_MALFORMED, "SignedHeaders is too long.");
    a->sig_len = strnlen(sig, sizeof(a->sig));
    memcpy(a->sig, sig, a->sig_len < sizeof(a->sig) ? a->sig_len : 0);
    if (x_amz_date != NULL) {
        if (!parse_amz_date(x_amz_date, &a->t_s))
            return fail(res, PT_SIGV4_MALFORMED,
                        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
        memcpy(a->amz_date, x_amz_date, 17);
    } else if (!parse_http_date(date, &a->t_s, a->amz_date)) {
        return fail(res, PT_SIGV4_MALFORMED,
                    "Date must be in the RFC 7231 format \"Sun, 30 Aug 2015 12:36:00 GMT\".");
    }
    return PT_SIGV4_OK;
}

static char *trim(char *s)
{
    size_t n;

    while (pt_sigv4_canon_is_space(*s))
        s++;
    for (n = strlen(s); n > 0 && pt_sigv4_canon_is_space(s[n - 1]); n--)
        s[n - 1] = '\0';
    return s;
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." in any order. */
static enum pt_sigv4_status parse_header_auth(const char *value, const struct pt_sigv4_request *req,
                                              struct auth *a, struct pt_sigv4_result *res)
{
    static const char *const keys[3] = {"Credential", "Signature", "SignedHeaders"};
    const char *part[3] = {NULL, NULL, NULL}, *xd, *date;
    char buf[PT_SIGV4_MAX_AUTH_BYTES + 1], *p = buf, *alg;
    size_t i, count;

    if (!copy_bounded(buf, sizeof(buf), value))
        return fail(res, PT_SIGV4_MALFORMED, "Authorization header is too long.");
    alg = p = trim(buf);
    while (*p != '\0' && !pt_sigv4_canon_is_space(*p))
        p++;
    if (*p != '\0')
        *p++ = '\0';
    while (*p != '\0') {
        char *end = strchr(p, ','), *eq;

        if (end != NULL)
            *end = '\0';
        if ((eq = strchr(p, '=')) != NULL) {
            *eq = '\0';
            for (i = 0; i < 3; i++) {
                if (strcmp(trim(p), keys[i]) != 0)
                    continue;
                if (part[i] != NULL)
                    return fail(res, PT_SIGV4_MALFORMED,
                                "Authorization header has more than one '%s' parameter.", keys[i]);
                part[i] = trim(eq + 1);
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    xd = find_kv(req->headers, req->n_headers, "x-amz-date", true, &count);
    date = find_kv(req->headers, req->n_headers, "date", true, &count);
    for (i = 0; i < 3; i++) {
        if (part[i] == NULL)
            add_msg(res, "Authorization header requires '%s' parameter.", keys[i]);
    }
    if (xd == NULL && date == NULL)
        add_msg(res, "Authorization header requires existence of either a 'X-Amz-Date' or a "
                     "'Date' header.");
    if (res->message[0] != '\0')
        return res->status = PT_SIGV4_MALFORMED;
    if (strcmp(alg, ALGORITHM) != 0)
        return fail(res, PT_SIGV4_MALFORMED, "Unsupported Authorization Type");
    return take_parts(a, part[0], part[2], part[1], xd, date, res);
}

static enum pt_sigv4_status parse_query_auth(const struct pt_sigv4_request *req, struct auth *a,
                                             struct pt_sigv4_result *res)
{
    static const char *const keys[6] = {"X-Amz-Algorithm", "X-Amz-Credential",
                                        "X-Amz-Date",      "X-Amz-SignedHeaders",
                                        "X-Amz-Expires",   "X-Amz-Signature"};
    const char *val[6];
    size_t i, count;

    for (i = 0; i < 6; i++) {
        val[i] = find_kv(req->query, req->n_query, keys[i], false, &count);
        if (count > 1)
            return fail(res, PT_SIGV4_MALFORMED, "Query parameter '%s' appears more than once.",
                        keys[i]);
        /* X-Amz-Expires is optional: the npm aws4 presigner omits it for services other
         * than s3. Without it the request is held to the clock-skew window. */
        if (val[i] == NULL && i != 4)
            add_msg(res, "AWS query-string parameters must include '%s'.", keys[i]);
    }
    if (res->message[0] != '\0')
        return res->status = PT_SIGV4_MALFORMED;
    if (strcmp(val[0], ALGORITHM) != 0)
        return fail(res, PT_SIGV4_MALFORMED, "X-Amz-Algorithm only supports \"%s\".", ALGORITHM);
    count = val[4] != NULL ? strnlen(val[4], 7) : 0;
    if (val[4] != NULL &&
        (count == 0 || count > 6 || strspn(val[4], "0123456789") != count ||
         (a->expires_s = atoi(val[4])) < 1 || a->expires_s > PT_SIGV4_MAX_EXPIRES_S))
        return fail(res, PT_SIGV4_MALFORMED,
                    "X-Amz-Expires must be a number of seconds from 1 to %d.",
                    PT_SIGV4_MAX_EXPIRES_S);
    return take_parts(a, val[1], val[3], val[5], val[2], NULL, res);
}

/* AKID/YYYYMMDD/region/service/aws4_request */
static enum pt_sigv4_status parse_credential(struct auth *a, const struct pt_sigv4_verifier *v,
                                             struct pt_sigv4_result *res)
{
    char *part[5], *p;
    size_t n = 1;

    part[0] = a->cred;
    for (p = a->cred; *p != '\0' && n <= 5; p++) {
        if (*p == '/') {
            *p = '\0';
            if (n < 5)
                part[n] = p + 1;
            n++;
        }
    }
    if (n != 5 || !is_scope_part(part[0], PT_SIGV4_MAX_KEY_ID_BYTES) || strlen(part[1]) != 8 ||
        strspn(part[1], "0123456789") != 8)
        return fail(res, PT_SIGV4_MALFORMED,
                    "Credential must have the form "
                    "<AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request.");
    memcpy(res->access_key_id, part[0], strlen(part[0]) + 1);
    if (strnlen(part[2], PT_SIGV4_MAX_REGION_BYTES + 1) > PT_SIGV4_MAX_REGION_BYTES ||
        *part[2] == '\0' ||
        strspn(part[2], "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(part[2]))
        return fail(res, PT_SIGV4_MALFORMED, "Credential should be scoped to a valid region.");
    memcpy(res->region, part[2], strlen(part[2]) + 1);
    if (strcmp(part[4], TERMINATOR) != 0)
        return fail(res, PT_SIGV4_MALFORMED,
                    "Credential should be scoped with a valid terminator: '%s'.", TERMINATOR);
    if (strcmp(part[3], v->service) != 0)
        return fail(res, PT_SIGV4_MISMATCH, "Credential should be scoped to correct service: '%s'.",
                    v->service);
    if (memcmp(part[1], a->amz_date, 8) != 0)
        return fail(res, PT_SIGV4_MISMATCH,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: '%s' != '%.8s', from '%s'.",
                    part[1], a->amz_date, a->amz_date);
    a->date8 = part[1];
    a->region = part[2];
    return PT_SIGV4_OK;
}

static enum pt_sigv4_status parse_signed(struct auth *a, struct pt_sigv4_result *res)
{
    char *p = a->shdr, *end, *c;

    a->sh.n = 0;
    for (;;) {
        if ((end = strchr(p, ';')) != NULL)
            *end = '\0';
        for (c = p; *c != '\0'; c++)
            *c = pt_sigv4_canon_lower(*c);
        if (!is_header_name(p))
            return fail(res, PT_SIGV4_MALFORMED,
                        "SignedHeaders must be header names joined by ';'.");
        if (a->sh.n == PT_SIGV4_MAX_SIGNED_HEADERS)
            return fail(res, PT_SIGV4_MALFORMED, "SignedHeaders may name at most %d headers.",
                        PT_SIGV4_MAX_SIGNED_HEADERS);
        a->sh.name[a->sh.n++] = p;
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (!sort_names(&a->sh))
        return fail(res, PT_SIGV4_MALFORMED, "SignedHeaders names a header twice.");
    if (!has_name(&a->sh, "host"))
        return fail(res, PT_SIGV4_MALFORMED,
                    "'Host' must be a 'SignedHeader' in the AWS Authorization.");
    return PT_SIGV4_OK;
}

static enum pt_sigv4_status check_time(const struct auth *a, int64_t skew_s, int64_t now_s,
                                       struct pt_sigv4_result *res)
{
    char now[17] = "?", edge[17] = "?";
    bool by_expires = a->expires_s > 0;
    int64_t window_s;

    /* Caller-provided, but clamped so that no sum below can overflow. */
    now_s = now_s < -TIME_BOUND_S ? -TIME_BOUND_S : now_s > TIME_BOUND_S ? TIME_BOUND_S : now_s;
    skew_s = skew_s < 0 ? 0 : skew_s > TIME_BOUND_S ? TIME_BOUND_S : skew_s;
    window_s = by_expires ? a->expires_s : skew_s;
    format_amz_date(now_s, now);
    if (a->t_s > now_s + skew_s) {
        format_amz_date(now_s + skew_s, edge);
        return fail(res, PT_SIGV4_EXPIRED,
                    "Signature not yet current: %s is still later than %s (%s + %lld min.)",
                    a->amz_date, edge, now, (long long)skew_s / 60);
    }
    if (a->t_s < now_s - window_s) {
        format_amz_date(now_s - window_s, edge);
        return fail(res, PT_SIGV4_EXPIRED,
                    "Signature expired: %s is now earlier than %s (%s - %lld %s)", a->amz_date,
                    edge, now, (long long)(by_expires ? window_s : window_s / 60),
                    by_expires ? "sec. X-Amz-Expires" : "min.");
    }
    return PT_SIGV4_OK;
}

/* The body's hex SHA-256, or the x-amz-content-sha256 header when it is UNSIGNED-PAYLOAD or
 * that same hash: a signed header must not vouch for a body it does not describe. */
static enum pt_sigv4_status payload_hash(const struct pt_sigv4_request *req, char out[65],
                                         struct pt_sigv4_result *res)
{
    size_t count;
    const char *h = find_kv(req->headers, req->n_headers, "x-amz-content-sha256", true, &count);

    if (!sha256_hex(req->body, req->body_len, out))
        return fail(res, PT_SIGV4_MISMATCH, "Could not hash the request body.");
    if (h == NULL || strcmp(h, out) == 0)
        return PT_SIGV4_OK;
    if (strcmp(h, UNSIGNED_PAYLOAD) == 0) {
        memcpy(out, UNSIGNED_PAYLOAD, sizeof(UNSIGNED_PAYLOAD));
        return PT_SIGV4_OK;
    }
    return fail(res, PT_SIGV4_MISMATCH,
                "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

static enum pt_sigv4_status check_signature(const struct pt_sigv4_request *req,
                                            const struct auth *a, const char *secret,
                                            const char *service, struct pt_sigv4_result *res)
{
    struct pt_buf rest, creq, sts;
    char scope[MAX_CRED_BYTES + 1], phash[65], sig[65];
    unsigned char key[32];
    size_t i, n = req->n_paths < PT_SIGV4_MAX_PATHS ? req->n_paths : PT_SIGV4_MAX_PATHS;
    bool match = false;

    if (payload_hash(req, phash, res) != PT_SIGV4_OK)
        return res->status;
    pt_buf_init(&rest);
    pt_buf_init(&creq);
    pt_buf_init(&sts);
    if (pt_sigv4_canon_append_query(&rest, req->query, req->n_query, a->presigned) != 0 ||
        pt_sigv4_canon_append_headers(&rest, &a->sh, req->headers, req->n_headers, phash) != 0) {
        fail(res, PT_SIGV4_MALFORMED, "The query string or a signed header is too long.");
        goto done;
    }
    snprintf(scope, sizeof(scope), "%s/%s/%s/%s", a->date8, a->region, service, TERMINATOR);
    if (!derive_key(secret, a->date8, a->region, service, key))
        goto mismatch;
    for (i = 0; i <= n && !match; i++) {
        const char *path = i < n ? (req->paths != NULL ? req->paths[i] : NULL) : req->verbatim_path;

        if (path == NULL || strnlen(path, PT_SIGV4_MAX_PATH_BYTES + 1) > PT_SIGV4_MAX_PATH_BYTES)
            continue;
        pt_buf_reset(&creq);
        pt_buf_printf(&creq, "%s\n", req->method != NULL ? req->method : "");
        if (i < n)
            pt_sigv4_canonicalize_path(&creq, path);
        else
            pt_buf_puts(&creq, path);
        pt_buf_putc(&creq, '\n');
        pt_buf_append(&creq, rest.data, rest.len);
        if (!sign_creq(key, a->amz_date, scope, &creq, &sts, sig))
            break;
        match = a->sig_len == 64 && CRYPTO_memcmp(sig, a->sig, 64) == 0;
    }
    if (match) {
        res->status = PT_SIGV4_OK;
        goto done;
    }
mismatch:
    fail(res, PT_SIGV4_MISMATCH,
         "The request signature we calculated does not match the signature you provided. "
         "Check your AWS Secret Access Key and signing method. Consult the service "
         "documentation for details.");
done:
    OPENSSL_cleanse(key, sizeof(key));
    pt_buf_cleanup(&rest);
    pt_buf_cleanup(&creq);
    pt_buf_cleanup(&sts);
    return res->status;
}

enum pt_sigv4_status pt_sigv4_verify(const struct pt_sigv4_verifier *v,
                                     const struct pt_sigv4_request *req, int64_t now_s,
                                     struct pt_sigv4_result *res)
{
    struct auth a;
    const char *authz, *qsig, *secret;
    size_t n_authz, n_qsig;
    enum pt_sigv4_status st;

    memset(res, 0, sizeof(*res));
    memset(&a, 0, sizeof(a));
    if (req->n_headers > PT_SIGV4_MAX_HEADERS || (req->n_headers > 0 && req->headers == NULL))
        return fail(res, PT_SIGV4_MALFORMED, "Too many request headers.");
    if (req->n_query > PT_SIGV4_MAX_PARAMS || (req->n_query > 0 && req->query == NULL))
        return fail(res, PT_SIGV4_MALFORMED, "Too many query parameters.");
    if ((req->method != NULL && strnlen(req->method, MAX_METHOD_BYTES + 1) > MAX_METHOD_BYTES) ||
        (req->body_len > 0 && req->body == NULL))
        return fail(res, PT_SIGV4_MALFORMED, "Malformed request.");
    authz = find_kv(req->headers, req->n_headers, "authorization", true, &n_authz);
    qsig = find_kv(req->query, req->n_query, "X-Amz-Signature", false, &n_qsig);
    if (authz == NULL && qsig == NULL)
        return fail(res, PT_SIGV4_MISSING, "Missing Authentication Token");
    if (n_authz > 1)
        return fail(res, PT_SIGV4_MALFORMED, "More than one Authorization header.");
    a.presigned = res->presigned = authz == NULL;
    st = a.presigned ? parse_query_auth(req, &a, res) : parse_header_auth(authz, req, &a, res);
    if (st == PT_SIGV4_OK)
        st = parse_credential(&a, v, res);
    if (st == PT_SIGV4_OK)
        st = parse_signed(&a, res);
    if (st == PT_SIGV4_OK)
        st = check_time(&a, v->skew_s, now_s, res);
    if (st != PT_SIGV4_OK)
        return st;
    secret = v->secret_fn != NULL ? v->secret_fn(v->ud, res->access_key_id) : NULL;
    if (secret == NULL)
        return fail(res, PT_SIGV4_UNKNOWN_KEY,
                    "The security token included in the request is invalid.");
    return check_signature(req, &a, secret, v->service, res);
}
