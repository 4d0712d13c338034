/* libFuzzer target: HTTP/1.1 request heads and chunked bodies (hub/http1.c). A parsed head must
 * lie inside the input and every proper prefix of it must ask for more bytes. The bytes after the
 * head (or all of them) are then chunk-decoded whole and in pieces, which must agree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "portico/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond)
        abort();
}

static void check_slice(const struct pt_slice *s, const char *buf, int head_len)
{
    require(s->p >= buf && s->p + s->len <= buf + head_len);
}

static void check_head(const char *buf, size_t size, int len, const struct pt_http1_req *req)
{
    struct pt_http1_req again;
    size_t i;

    require((size_t)len <= size);
    check_slice(&req->method, buf, len);
    check_slice(&req->target, buf, len);
    check_slice(&req->path, buf, len);
    check_slice(&req->query, buf, len);
    require(req->method.len > 0 && req->target.len > 0);
    require(req->path.p == req->target.p);
    require(req->target.len == req->path.len ||
            req->target.len == req->path.len + 1 + req->query.len);
    require(req->minor_version == 0 || req->minor_version == 1);
    require(req->nheaders <= PT_HTTP1_MAX_HEADERS);
    for (i = 0; i < req->nheaders; i++) {
        check_slice(&req->headers[i].name, buf, len);
        check_slice(&req->headers[i].value, buf, len);
        require(req->headers[i].name.len > 0);
    }
    require(!(req->chunked && req->content_length >= 0));
    require(req->content_length >= -1);
    require(!req->upgrade_websocket || req->minor_version == 1);

    /* Prefixes wait for more; the same head with exactly enough room parses the same. */
    require(pt_http1_parse_request(buf, (size_t)len - 1, (size_t)len, &again) == 0);
    require(pt_http1_parse_request(buf, (size_t)len / 2, (size_t)len, &again) == 0);
    require(pt_http1_parse_request(buf, size, (size_t)len, &again) == len);
    require(again.nheaders == req->nheaders && again.content_length == req->content_length);
    /* A 1.1 request has its Host, and the lookup finds it. */
    require(req->minor_version == 0 || pt_http1_header(req, "HOST") != NULL);
}

struct decoded {
    int rc;
    size_t out_len, consumed;
};

/* Decodes <in> in pieces of at most <piece> bytes into <out>. */
static struct decoded decode(const char *in, size_t n, size_t piece, char *out, char *scratch)
{
    struct pt_http1_chunked st = {0};
    struct decoded d = {0, 0, 0};
    size_t off = 0;

    while (off < n) {
        size_t k = n - off < piece ? n - off : piece, len = k, used = 0;

        memcpy(scratch, in + off, k);
        d.rc = pt_http1_chunked_decode(&st, scratch, &len, &used);
        require(len <= used && used <= k);
        memcpy(out + d.out_len, scratch, len);
        d.out_len += len;
        if (d.rc != 0) {
            require(d.rc == 1 || d.rc == PT_EPROTO);
            d.consumed = off + used;
            return d;
        }
        require(used == k);
        off += k;
    }
    d.consumed = n;
    return d;
}

static void check_chunked(const char *in, size_t n, size_t piece)
{
    char *out1 = malloc(n + 1), *out2 = malloc(n + 1), *scratch = malloc(n + 1);
    struct decoded a, b;

    a = decode(in, n, n + 1, out1, scratch);
    b = decode(in, n, piece, out2, scratch);
    require(a.rc == b.rc);
    if (a.rc == 1) {
        require(a.consumed == b.consumed && a.out_len == b.out_len);
        require(memcmp(out1, out2, a.out_len) == 0);
    }
    free(out1);
    free(out2);
    free(scratch);
}

static void check_percent(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    int rc = pt_http1_percent_decode(s, n, out, n & 1);

    require(rc == PT_EINVAL || (rc >= 0 && (size_t)rc <= n && out[rc] == '\0'));
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct pt_http1_req req;
    size_t body_off = 0, piece;
    int len;

    len = pt_http1_parse_request(buf, size, size + 1, &req);
    require(len == 0 || len == PT_EPROTO || len > 0);
    if (len > 0) {
        check_head(buf, size, len, &req);
        check_percent(req.path.p, req.path.len);
        body_off = (size_t)len;
    }
    /* With no room to spare, an incomplete head is too big instead of pending. */
    if (len == 0)
        require(pt_http1_parse_request(buf, size, size, &req) == PT_ETOOBIG);

    /* The first byte picks the piece size for the split decode (1..16 bytes). */
    piece = size > 0 ? (size_t)(data[0] & 15) + 1 : 1;
    check_chunked(buf + body_off, size - body_off, piece);
    check_chunked(buf + body_off, size - body_off, 1);
    check_percent(buf, size);
    return 0;
}
