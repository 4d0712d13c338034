/* SigV4 signing and verification (see sigv4.h). Pure: no I/O, no clock, no globals.
 * Deliberately not handled: chunked payload signing (STREAMING-*), SigV4a, S3's
 * single-encoding path rule, and session-token validation (the token is only signed). */
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
#include "portico/xalloc.h"

#define ALGORITHM        "AWS4-HMAC-SHA256"
#define TERMINATOR       "aws4_request"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define MAX_CRED_BYTES   320 /* key id, date, region, service, terminator and slashes */
#define MAX_METHOD_BYTES 32
#define MAX_SECRET_BYTES 1024               /* config-provided, but HMAC() takes an int */
#define TIME_BOUND_S     ((int64_t)1 << 40) /* clamp for caller times: no overflow below */

/* Signed header names: point into a NUL-separated store owned by the caller of the parser. */
struct names {
    const char *name[PT_SIGV4_MAX_SIGNED_HEADERS];
    size_t n;
};

/* ---- Bytes ---- */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *a, const char *b)
{
    while (*a != '\0' && to_lower(*a) == to_lower(*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Appends s[0..n) with every byte that is not unreserved and not in keep as %XX. */
static void append_encoded(struct pt_buf *b, const char *s, size_t n, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c) || (c != '\0' && strchr(keep, c) != NULL)) {
            pt_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};

            pt_buf_append(b, e, sizeof(e));
        }
    }
}

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

static bool parse_digits(const char *s, size_t n, int *out)
{
    size_t i;

    *out = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *out = *out * 10 + (s[i] - '0');
    }
    return true;
}

/* Unix time from calendar fields; false unless they name a real moment (no normalising). */
static bool from_fields(int y, int mon, int d, int h, int mi, int s, int64_t *t)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    char back[17], want[64];

    if (y < 1970 || mon < 1 || mon > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
        return false;
    *t = (int64_t)timegm(&tm);
    snprintf(want, sizeof(want), "%04d%02d%02dT%02d%02d%02dZ", y, mon, d, h, mi, s);
    return format_amz_date(*t, back) && memcmp(back, want, 16) == 0;
}

/* "YYYYMMDDTHHMMSSZ" */
static bool parse_amz_date(const char *s, int64_t *t)
{
    int y, mon, d, h, mi, sec;

    if (strnlen(s, 17) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    if (!parse_digits(s, 4, &y) || !parse_digits(s + 4, 2, &mon) || !parse_digits(s + 6, 2, &d) ||
        !parse_digits(s + 9, 2, &h) || !parse_digits(s + 11, 2, &mi) ||
        !parse_digits(s + 13, 2, &sec))
        return false;
    return from_fields(y, mon, d, h, mi, sec, t);
}

/* RFC 7231 IMF-fixdate only: "Sun, 30 Aug 2015 12:36:00 GMT". */
static bool parse_http_date(const char *s, int64_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int y, mon, d, h, mi, sec;
    const char *m;

    if (strnlen(s, 30) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return false;
    for (m = months; *m != '\0' && strncmp(m, s + 8, 3) != 0; m += 3)
        ;
    if (*m == '\0')
        return false;
    mon = (int)((m - months) / 3) + 1;
    if (!parse_digits(s + 5, 2, &d) || !parse_digits(s + 12, 4, &y) ||
        !parse_digits(s + 17, 2, &h) || !parse_digits(s + 20, 2, &mi) ||
        !parse_digits(s + 23, 2, &sec))
        return false;
    return from_fields(y, mon, d, h, mi, sec, t);
}

/* ---- Canonical request pieces ---- */

void pt_sigv4_canonicalize_path(struct pt_buf *out, const char *wire_path)
{
    struct pt_buf norm;
    size_t len = strlen(wire_path), i = 0, nseg = 0;

    /* Dot and empty segments go as in botocore's and smithy-js's non-S3 normalisation:
     * "//a/./b/../" is "/a/"; a trailing '/' survives only if a segment remains. */
    pt_buf_init(&norm);
    while (i < len) {
        size_t j = i;

        while (j < len && wire_path[j] != '/')
            j++;
        if (j - i == 2 && wire_path[i] == '.' && wire_path[i + 1] == '.') {
            if (nseg > 0) {
                while (norm.len > 0 && norm.data[--norm.len] != '/')
                    ;
                nseg--;
            }
        } else if (j > i && !(j - i == 1 && wire_path[i] == '.')) {
            pt_buf_putc(&norm, '/');
            pt_buf_append(&norm, wire_path + i, j - i);
            nseg++;
        }
        i = j + 1;
    }
    if (nseg == 0)
        pt_buf_puts(out, "/");
    else
        append_encoded(out, norm.data, norm.len, "/");
    if (nseg > 0 && wire_path[len - 1] == '/')
        pt_buf_putc(out, '/');
    pt_buf_cleanup(&norm);
}

struct qparam {
    char *name;  /* owned, encoded */
    char *value; /* owned, encoded */
};

static int cmp_qparam(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

static char *encode_dup(const char *s)
{
    struct pt_buf b;

    pt_buf_init(&b);
    append_encoded(&b, s != NULL ? s : "", s != NULL ? strlen(s) : 0, "");
    return pt_buf_take(&b, NULL);
}

/* Appends the canonical query of decoded params q, leaving out X-Amz-Signature when
 * skip_signature. Returns 0, or -1 when q is over the bounds. */
static int canonical_query(struct pt_buf *out, const struct pt_kv *q, size_t n, bool skip_signature)
{
    struct qparam *p;
    size_t i, m = 0, total = 0;

    if (n > PT_SIGV4_MAX_PARAMS)
        return -1;
    for (i = 0; i < n; i++) {
        total += q[i].name ? strnlen(q[i].name, PT_SIGV4_MAX_QUERY_BYTES + 1) : 0;
        total += q[i].value ? strnlen(q[i].value, PT_SIGV4_MAX_QUERY_BYTES + 1) : 0;
        if (total > PT_SIGV4_MAX_QUERY_BYTES)
            return -1;
    }
    p = pt_xcalloc(n ? n : 1, sizeof(*p));
    for (i = 0; i < n; i++) {
        if (skip_signature && q[i].name != NULL && strcmp(q[i].name, "X-Amz-Signature") == 0)
            continue;
        p[m].name = encode_dup(q[i].name);
        p[m].value = encode_dup(q[i].value);
        m++;
    }
    qsort(p, m, sizeof(*p), cmp_qparam);
    for (i = 0; i < m; i++) {
        if (i > 0)
            pt_buf_putc(out, '&');
        pt_buf_puts(out, p[i].name);
        pt_buf_putc(out, '=');
        pt_buf_puts(out, p[i].value);
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
    return 0;
}

/* Trims v and collapses inner runs of whitespace to one space (botocore, smithy-js). */
static void append_trimmed(struct pt_buf *b, const char *v, size_t n)
{
    size_t i = 0;
    bool pending = false;

    while (i < n && is_space(v[i]))
        i++;
    for (; i < n; i++) {
        if (is_space(v[i])) {
            pending = true;
            continue;
        }
        if (pending)
            pt_buf_putc(b, ' ');
        pending = false;
        pt_buf_putc(b, v[i]);
    }
}

/* Appends "name:v1,v2\n" for each signed name, values from every header of that name in
 * arrival order. Returns 0, or -1 when a value is over PT_SIGV4_MAX_HEADER_BYTES. */
static int canonical_headers(struct pt_buf *b, const struct names *sh, const struct pt_kv *h,
                             size_t n)
{
    size_t i, j;

    for (i = 0; i < sh->n; i++) {
        bool first = true;

        pt_buf_puts(b, sh->name[i]);
        pt_buf_putc(b, ':');
        for (j = 0; j < n; j++) {
            size_t vlen;

            if (h[j].name == NULL || !ieq(h[j].name, sh->name[i]))
                continue;
            vlen = h[j].value ? strnlen(h[j].value, PT_SIGV4_MAX_HEADER_BYTES + 1) : 0;
            if (vlen > PT_SIGV4_MAX_HEADER_BYTES)
                return -1;
            if (!first)
                pt_buf_putc(b, ',');
            append_trimmed(b, h[j].value ? h[j].value : "", vlen);
            first = false;
        }
        pt_buf_putc(b, '\n');
    }
    return 0;
}

static void signed_list(struct pt_buf *b, const struct names *sh)
{
    size_t i;

    for (i = 0; i < sh->n; i++) {
        if (i > 0)
            pt_buf_putc(b, ';');
        pt_buf_puts(b, sh->name[i]);
    }
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts sh; returns false when a name repeats. */
static bool sort_names(struct names *sh)
{
    size_t i;

    qsort(sh->name, sh->n, sizeof(sh->name[0]), cmp_name);
    for (i = 1; i < sh->n; i++) {
        if (strcmp(sh->name[i - 1], sh->name[i]) == 0)
            return false;
    }
    return true;
}

static bool has_name(const struct names *sh, const char *name)
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

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date8), region), service), "aws4_request") */
static bool derive_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[32])
{
    char k0[4 + MAX_SECRET_BYTES];
    size_t n = strnlen(secret, MAX_SECRET_BYTES + 1);
    bool ok;

    if (n > MAX_SECRET_BYTES)
        return false;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n);
    ok = hmac256(k0, 4 + n, date8, 8, key) && hmac256(key, 32, region, strlen(region), key) &&
         hmac256(key, 32, service, strlen(service), key) &&
         hmac256(key, 32, TERMINATOR, strlen(TERMINATOR), key);
    OPENSSL_cleanse(k0, sizeof(k0));
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
    append_encoded(&b, decoded_path, len, "/@");
    pt_buf_append(&b, "", 1);
    off[1] = b.len;
    append_encoded(&b, decoded_path, len, "/");
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

static void init_sig(struct pt_sigv4_sig *s)
{
    memset(s->amz_date, 0, sizeof(s->amz_date));
    memset(s->signature, 0, sizeof(s->signature));
    pt_buf_init(&s->authorization);
    pt_buf_init(&s->canonical_request);
    pt_buf_init(&s->string_to_sign);
}

void pt_sigv4_cleanup_sig(struct pt_sigv4_sig *s)
{
    pt_buf_cleanup(&s->authorization);
    pt_buf_cleanup(&s->canonical_request);
    pt_buf_cleanup(&s->string_to_sign);
}

static bool is_scope_part(const char *s, size_t max)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;

    return n > 0 && n <= max && strchr(s, '/') == NULL && is_header_name(s);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX in s[0..n) into out; malformed escapes stay literal and '+' stays '+'. */
static void append_decoded(struct pt_buf *out, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int hi = -1, lo = -1;

        if (s[i] == '%' && i + 2 < n) {
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
        }
        if (hi >= 0 && lo >= 0) {
            pt_buf_putc(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            pt_buf_putc(out, s[i]);
        }
    }
}

/* Splits an encoded query string into decoded params; returns their count, or -1. */
static int split_query(const char *q, struct pt_kv *kv, struct pt_buf *store)
{
    size_t len = q != NULL ? strnlen(q, PT_SIGV4_MAX_QUERY_BYTES + 1) : 0, i = 0, n = 0;
    size_t offs[2 * PT_SIGV4_MAX_PARAMS];

    if (len > PT_SIGV4_MAX_QUERY_BYTES)
        return -1;
    pt_buf_reset(store);
    while (i < len) {
        size_t j = i, eq;

        while (j < len && q[j] != '&')
            j++;
        if (j > i) {
            if (n == PT_SIGV4_MAX_PARAMS)
                return -1;
            for (eq = i; eq < j && q[eq] != '='; eq++)
                ;
            offs[2 * n] = store->len;
            append_decoded(store, q + i, eq - i);
            pt_buf_append(store, "", 1);
            offs[2 * n + 1] = store->len;
            if (eq < j)
                append_decoded(store, q + eq + 1, j - eq - 1);
            pt_buf_append(store, "", 1);
            n++;
        }
        i = j + 1;
    }
    for (i = 0; i < n; i++) {
        kv[i].name = store->data + offs[2 * i];
        kv[i].value = store->data + offs[2 * i + 1];
    }
    return (int)n;
}

/* Appends "query\nheaders\nsigned\npayload": everything after the canonical URI line.
 * Returns 0, or -1 when the query or a signed header value is over its bound. */
static int append_rest(struct pt_buf *b, const struct pt_kv *q, size_t nq, bool presigned,
                       const struct names *sh, const struct pt_kv *h, size_t nh,
                       const char *payload_hash)
{
    if (canonical_query(b, q, nq, presigned) != 0)
        return -1;
    pt_buf_putc(b, '\n');
    if (canonical_headers(b, sh, h, nh) != 0)
        return -1;
    pt_buf_putc(b, '\n');
    signed_list(b, sh);
    pt_buf_putc(b, '\n');
    pt_buf_puts(b, payload_hash);
    return 0;
}

static const char *find_kv(const struct pt_kv *kv, size_t n, const char *name, bool icase,
                           size_t *count)
{
    const char *first = NULL;
    size_t i;

    *count = 0;
    for (i = 0; i < n; i++) {
        if (kv[i].name == NULL || !(icase ? ieq(kv[i].name, name) : !strcmp(kv[i].name, name)))
            continue;
        if ((*count)++ == 0)
            first = kv[i].value != NULL ? kv[i].value : "";
    }
    return first;
}

/* Lowercased header names of in into store, plus x-amz-date; h gets the headers to sign. */
static bool collect_names(const struct pt_sigv4_sign_req *in, struct names *sh, char *store,
                          size_t cap, struct pt_kv *h, size_t *nh)
{
    size_t i, k, used = 0;

    sh->n = 0;
    *nh = 0;
    for (i = 0; i < in->n_headers; i++) {
        const char *name = in->headers[i].name;
        size_t len = name != NULL ? strnlen(name, cap) : 0;

        if (name == NULL || !is_header_name(name) || used + len + 1 > cap)
            return false;
        if (ieq(name, "x-amz-date"))
            continue;
        h[(*nh)++] = in->headers[i];
        for (k = 0; k <= len; k++)
            store[used + k] = to_lower(name[k]);
        if (!has_name(sh, store + used))
            sh->name[sh->n++] = store + used;
        used += len + 1;
    }
    sh->name[sh->n++] = "x-amz-date";
    sort_names(sh);
    return has_name(sh, "host");
}

int pt_sigv4_sign(const struct pt_sigv4_sign_req *in, struct pt_sigv4_sig *out)
{
    struct pt_kv h[PT_SIGV4_MAX_SIGNED_HEADERS], q[PT_SIGV4_MAX_PARAMS];
    char store[PT_SIGV4_MAX_AUTH_BYTES], scope[MAX_CRED_BYTES], phash[65];
    struct names sh;
    struct pt_buf qstore, *creq = &out->canonical_request;
    const char *ph;
    size_t nh, count;
    unsigned char key[32];
    int nq, rc = PT_EINVAL;

    init_sig(out);
    if (in->method == NULL || strnlen(in->method, MAX_METHOD_BYTES + 1) > MAX_METHOD_BYTES ||
        in->path == NULL ||
        strnlen(in->path, PT_SIGV4_MAX_PATH_BYTES + 1) > PT_SIGV4_MAX_PATH_BYTES ||
        in->secret == NULL || !is_scope_part(in->access_key_id, PT_SIGV4_MAX_KEY_ID_BYTES) ||
        !is_scope_part(in->region, PT_SIGV4_MAX_REGION_BYTES) ||
        !is_scope_part(in->service, PT_SIGV4_MAX_REGION_BYTES) ||
        in->n_headers >= PT_SIGV4_MAX_SIGNED_HEADERS ||
        (in->n_headers > 0 && in->headers == NULL) || (in->body_len > 0 && in->body == NULL) ||
        !format_amz_date(in->now_s, out->amz_date) ||
        !collect_names(in, &sh, store, sizeof(store), h, &nh))
        return PT_EINVAL;
    h[nh++] = (struct pt_kv){.name = "x-amz-date", .value = out->amz_date};
    ph = find_kv(h, nh, "x-amz-content-sha256", true, &count);
    if (ph != NULL ? !(strlen(ph) < sizeof(phash) && strcpy(phash, ph))
                   : !sha256_hex(in->body, in->body_len, phash))
        return PT_EINVAL;
    pt_buf_init(&qstore);
    nq = split_query(in->query, q, &qstore);
    pt_buf_printf(creq, "%s\n", in->method);
    pt_sigv4_canonicalize_path(creq, in->path);
    pt_buf_putc(creq, '\n');
    if (nq < 0 || append_rest(creq, q, (size_t)nq, false, &sh, h, nh, phash) != 0)
        goto done;
    snprintf(scope, sizeof(scope), "%.8s/%s/%s/%s", out->amz_date, in->region, in->service,
             TERMINATOR);
    if (!derive_key(in->secret, out->amz_date, in->region, in->service, key) ||
        !sign_creq(key, out->amz_date, scope, creq, &out->string_to_sign, out->signature))
        goto done;
    pt_buf_printf(&out->authorization, "%s Credential=%s/%s, SignedHeaders=", ALGORITHM,
                  in->access_key_id, scope);
    signed_list(&out->authorization, &sh);
    pt_buf_printf(&out->authorization, ", Signature=%s", out->signature);
    rc = 0;
done:
    pt_buf_cleanup(&qstore);
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
    struct names sh;    /* into shdr: lowercase, sorted */
};

static enum pt_sigv4_status fail(struct pt_sigv4_result *res, enum pt_sigv4_status st,
                                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum pt_sigv4_status fail(struct pt_sigv4_result *res, enum pt_sigv4_status st,
                                 const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    res->status = st;
    return st;
}

static void add_msg(struct pt_sigv4_result *res, const char *what, const char *name)
{
    size_t used = strlen(res->message);

    snprintf(res->message + used, sizeof(res->message) - used, "%s%s '%s'%s.", used ? " " : "",
             what, name, what[0] == 'A' && what[1] == 'u' && name[0] != 'X' ? " parameter" : "");
}

static bool copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap);

    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
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
    } else if (!parse_http_date(date, &a->t_s) || !format_amz_date(a->t_s, a->amz_date)) {
        return fail(res, PT_SIGV4_MALFORMED,
                    "Date must be in the RFC 7231 format \"Sun, 30 Aug 2015 12:36:00 GMT\".");
    }
    return PT_SIGV4_OK;
}

static char *trim(char *s)
{
    size_t n;

    while (is_space(*s))
        s++;
    for (n = strlen(s); n > 0 && is_space(s[n - 1]); n--)
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
    while (*p != '\0' && !is_space(*p))
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
            add_msg(res, "Authorization header requires", keys[i]);
    }
    if (xd == NULL && date == NULL)
        add_msg(res, "Authorization header requires existence of either a",
                "X-Amz-Date' or a 'Date");
    if (res->message[0] != '\0')
        return fail(res, PT_SIGV4_MALFORMED, "%s", res->message);
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
        if (val[i] == NULL)
            add_msg(res, "AWS query-string parameters must include", keys[i]);
    }
    if (res->message[0] != '\0')
        return fail(res, PT_SIGV4_MALFORMED, "%s", res->message);
    if (strcmp(val[0], ALGORITHM) != 0)
        return fail(res, PT_SIGV4_MALFORMED, "X-Amz-Algorithm only supports \"%s\".", ALGORITHM);
    count = strnlen(val[4], 7);
    a->expires_s = atoi(val[4]);
    if (count == 0 || count > 6 || strspn(val[4], "0123456789") != count || a->expires_s < 1 ||
        a->expires_s > PT_SIGV4_MAX_EXPIRES_S)
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
    do {
        if ((end = strchr(p, ';')) != NULL)
            *end = '\0';
        for (c = p; *c != '\0'; c++)
            *c = to_lower(*c);
        if (!is_header_name(p))
            return fail(res, PT_SIGV4_MALFORMED,
                        "SignedHeaders must be header names joined by ';'.");
        if (a->sh.n == PT_SIGV4_MAX_SIGNED_HEADERS)
            return fail(res, PT_SIGV4_MALFORMED, "SignedHeaders may name at most %d headers.",
                        PT_SIGV4_MAX_SIGNED_HEADERS);
        a->sh.name[a->sh.n++] = p;
        p = end + 1;
    } while (end != NULL);
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

    /* Caller-provided, but clamped so that no sum below can overflow. */
    now_s = now_s < -TIME_BOUND_S ? -TIME_BOUND_S : now_s > TIME_BOUND_S ? TIME_BOUND_S : now_s;
    skew_s = skew_s < 0 ? 0 : skew_s > TIME_BOUND_S ? TIME_BOUND_S : skew_s;
    format_amz_date(now_s, now);
    if (a->t_s > now_s + skew_s) {
        format_amz_date(now_s + skew_s, edge);
        return fail(res, PT_SIGV4_EXPIRED,
                    "Signature not yet current: %s is still later than %s (%s + %lld min.)",
                    a->amz_date, edge, now, (long long)skew_s / 60);
    }
    if (!a->presigned && a->t_s < now_s - skew_s) {
        format_amz_date(now_s - skew_s, edge);
        return fail(res, PT_SIGV4_EXPIRED,
                    "Signature expired: %s is now earlier than %s (%s - %lld min.)", a->amz_date,
                    edge, now, (long long)skew_s / 60);
    }
    if (a->presigned && now_s > a->t_s + a->expires_s) {
        format_amz_date(now_s - a->expires_s, edge);
        return fail(res, PT_SIGV4_EXPIRED,
                    "Signature expired: %s is now earlier than %s (%s - %lld sec. X-Amz-Expires)",
                    a->amz_date, edge, now, (long long)a->expires_s);
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
    if (append_rest(&rest, req->query, req->n_query, a->presigned, &a->sh, req->headers,
                    req->n_headers, phash) != 0) {
        fail(res, PT_SIGV4_MALFORMED, "The query string or a signed header is too long.");
        goto done;
    }
    snprintf(scope, sizeof(scope), "%s/%s/%s/%s", a->date8, a->region, service, TERMINATOR);
    if (!derive_key(secret, a->date8, a->region, service, key))
        n = 0;
    for (i = 0; i < n && !match; i++) {
        const char *path = req->paths != NULL ? req->paths[i] : NULL;

        if (path == NULL || strnlen(path, PT_SIGV4_MAX_PATH_BYTES + 1) > PT_SIGV4_MAX_PATH_BYTES)
            continue;
        pt_buf_reset(&creq);
        pt_buf_printf(&creq, "%s\n", req->method != NULL ? req->method : "");
        pt_sigv4_canonicalize_path(&creq, path);
        pt_buf_putc(&creq, '\n');
        pt_buf_append(&creq, rest.data, rest.len);
        if (!sign_creq(key, a->amz_date, scope, &creq, &sts, sig))
            break;
        match = a->sig_len == 64 && CRYPTO_memcmp(sig, a->sig, 64) == 0;
    }
    if (match)
        res->status = PT_SIGV4_OK;
    else
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
