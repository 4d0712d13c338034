/* SigV4 canonicalisation: percent-encoding, and the canonical URI, query and headers of a
 * canonical request (see sigv4_canon.h and pt_sigv4_canonicalize_path() in sigv4.h). Pure: no
 * I/O, no clock, no globals. Signing, verification and the request's authentication material
 * stay in sigv4.c. */
#include "sigv4_canon.h"

#include <stdlib.h>
#include <string.h>

#include "portico/xalloc.h"
#include "sigv4.h"

/* ---- Percent-encoding ---- */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void pt_sigv4_canon_encode(struct pt_buf *b, const char *s, size_t n, const char *keep)
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

/* ---- Canonical URI ---- */

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
        pt_sigv4_canon_encode(out, norm.data, norm.len, "/");
    if (nseg > 0 && wire_path[len - 1] == '/')
        pt_buf_putc(out, '/');
    pt_buf_cleanup(&norm);
}

/* ---- Canonical query ---- */

static int hex_value(char c)
{
    static const char hex[] = "0123456789abcdef";
    const char *p = c != '\0' ? strchr(hex, pt_sigv4_canon_lower(c)) : NULL;

    return p != NULL ? (int)(p - hex) : -1;
}

/* One query name or value in canonical form: RFC 3986-encoded, after decoding %XX when
 * from_wire (malformed escapes stay literal; '+' is a plus sign, not a space). */
static char *canon_part(const char *s, size_t n, bool from_wire)
{
    struct pt_buf b;
    size_t i;

    pt_buf_init(&b);
    for (i = 0; i < n; i++) {
        char c = s[i];
        int hi, lo;

        if (from_wire && c == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
            (lo = hex_value(s[i + 2])) >= 0) {
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        pt_sigv4_canon_encode(&b, &c, 1, "");
    }
    return pt_buf_take(&b, NULL);
}

struct qparam {
    char *name;  /* owned, canonical */
    char *value; /* owned, canonical */
};

static int cmp_qparam(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

/* Sorts p[0..n) by name then value, appends them joined by '&', and frees them. */
static void join_params(struct pt_buf *out, struct qparam *p, size_t n)
{
    size_t i;

    qsort(p, n, sizeof(*p), cmp_qparam);
    for (i = 0; i < n; i++) {
        pt_buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", p[i].name, p[i].value);
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

int pt_sigv4_canon_append_query(struct pt_buf *out, const struct pt_kv *q, size_t n, bool presigned)
{
    struct qparam *p;
    size_t i, m = 0, total = 0;

    for (i = 0; i < n && total <= PT_SIGV4_MAX_QUERY_BYTES; i++) {
        total += q[i].name ? strnlen(q[i].name, PT_SIGV4_MAX_QUERY_BYTES + 1) : 0;
        total += q[i].value ? strnlen(q[i].value, PT_SIGV4_MAX_QUERY_BYTES + 1) : 0;
    }
    if (n > PT_SIGV4_MAX_PARAMS || total > PT_SIGV4_MAX_QUERY_BYTES)
        return -1;
    p = pt_xcalloc(n ? n : 1, sizeof(*p));
    for (i = 0; i < n; i++) {
        const char *k = q[i].name ? q[i].name : "", *v = q[i].value ? q[i].value : "";

        if (presigned && strcmp(k, "X-Amz-Signature") == 0)
            continue;
        p[m].name = canon_part(k, strlen(k), false);
        p[m++].value = canon_part(v, strlen(v), false);
    }
    join_params(out, p, m);
    return 0;
}

int pt_sigv4_canon_append_query_string(struct pt_buf *out, const char *q)
{
    struct qparam *p = pt_xcalloc(PT_SIGV4_MAX_PARAMS, sizeof(*p));
    size_t len = strnlen(q, PT_SIGV4_MAX_QUERY_BYTES + 1), i = 0, n = 0;

    while (i < len && len <= PT_SIGV4_MAX_QUERY_BYTES && n < PT_SIGV4_MAX_PARAMS) {
        size_t j = i + strcspn(q + i, "&"), eq = i + strcspn(q + i, "=&");

        if (j > i) {
            p[n].name = canon_part(q + i, eq - i, true);
            p[n++].value = canon_part(q + eq + (eq < j), j - eq - (eq < j), true);
        }
        i = j + 1;
    }
    join_params(out, p, n);
    return i < len || len > PT_SIGV4_MAX_QUERY_BYTES ? -1 : 0;
}

/* ---- Canonical headers ---- */

/* Trims v and collapses inner runs of whitespace to one space (botocore, smithy-js). */
static void append_trimmed(struct pt_buf *b, const char *v, size_t n)
{
    size_t i = 0;
    bool pending = false;

    while (i < n && pt_sigv4_canon_is_space(v[i]))
        i++;
    for (; i < n; i++) {
        if (pt_sigv4_canon_is_space(v[i])) {
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
static int canonical_headers(struct pt_buf *b, const struct pt_sigv4_canon_names *sh,
                             const struct pt_kv *h, size_t n)
{
    size_t i, j;

    for (i = 0; i < sh->n; i++) {
        bool first = true;

        pt_buf_puts(b, sh->name[i]);
        pt_buf_putc(b, ':');
        for (j = 0; j < n; j++) {
            size_t vlen;

            if (h[j].name == NULL || !pt_sigv4_canon_ieq(h[j].name, sh->name[i]))
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

void pt_sigv4_canon_append_signed(struct pt_buf *b, const struct pt_sigv4_canon_names *sh)
{
    size_t i;

    for (i = 0; i < sh->n; i++) {
        if (i > 0)
            pt_buf_putc(b, ';');
        pt_buf_puts(b, sh->name[i]);
    }
}

int pt_sigv4_canon_append_headers(struct pt_buf *b, const struct pt_sigv4_canon_names *sh,
                                  const struct pt_kv *h, size_t nh, const char *payload_hash)
{
    pt_buf_putc(b, '\n');
    if (canonical_headers(b, sh, h, nh) != 0)
        return -1;
    pt_buf_putc(b, '\n');
    pt_sigv4_canon_append_signed(b, sh);
    pt_buf_printf(b, "\n%s", payload_hash);
    return 0;
}
