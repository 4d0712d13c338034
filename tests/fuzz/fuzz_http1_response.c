/* libFuzzer target: HTTP/1.x response heads (hub/http1_response.c). A parsed head must lie inside
 * the input, hold only well-formed pieces, and agree with its own fields; every prefix must give
 * the same answer or ask for more; and the size limit must cut exactly at the head's length. */
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

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int name_is(const struct pt_slice *s, const char *name)
{
    size_t i, n = strlen(name);

    if (s->len != n)
        return 0;
    for (i = 0; i < n; i++) {
        if (lower((unsigned char)s->p[i]) != name[i])
            return 0;
    }
    return 1;
}

static void check_slice(const struct pt_slice *s, const char *buf, int head_len)
{
    require(s->p >= buf && s->p + s->len <= buf + head_len);
}

/* Text of a reason or a field value: no CR, LF or other controls but HTAB. */
static void check_text(const struct pt_slice *s)
{
    size_t i;

    for (i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->p[i];

        require(c == '\t' || (c >= 0x20 && c != 0x7f));
    }
}

static void check_head(const char *buf, size_t size, int len, const struct pt_http1_resp *resp)
{
    struct pt_http1_resp again;
    long long cl = -1;
    int has_connection = 0;
    size_t i;

    require((size_t)len <= size && len >= (int)sizeof("HTTP/1.1 200\n\n") - 1);
    require(memcmp(buf, "HTTP/1.", 7) == 0);
    require(resp->status >= 100 && resp->status <= 599);
    require(resp->minor_version >= 0 && resp->minor_version <= 9);
    check_slice(&resp->reason, buf, len);
    check_text(&resp->reason);
    require(resp->nheaders <= PT_HTTP1_MAX_HEADERS);
    for (i = 0; i < resp->nheaders; i++) {
        const struct pt_http1_header *h = &resp->headers[i];

        check_slice(&h->name, buf, len);
        check_slice(&h->value, buf, len);
        check_text(&h->value);
        require(h->name.len > 0 && memchr(h->name.p, ':', h->name.len) == NULL);
        if (h->value.len > 0) {
            require(h->value.p[0] != ' ' && h->value.p[0] != '\t');
            require(h->value.p[h->value.len - 1] != ' ' && h->value.p[h->value.len - 1] != '\t');
        }
        if (name_is(&h->name, "content-length")) {
            long long n = 0;
            size_t k;

            for (k = 0; k < h->value.len; k++) {
                require(h->value.p[k] >= '0' && h->value.p[k] <= '9');
                n = n * 10 + (h->value.p[k] - '0');
            }
            require(h->value.len > 0 && h->value.len <= 18 && (cl < 0 || cl == n));
            cl = n;
        }
        if (name_is(&h->name, "connection"))
            has_connection = 1;
    }
    require(resp->content_length == cl);
    require(!(resp->chunked && resp->content_length >= 0));
    require(!resp->chunked || resp->minor_version >= 1);
    /* Without a Connection field, the version alone decides reuse. */
    if (!has_connection)
        require(resp->keep_alive == (resp->minor_version >= 1));

    /* Exactly enough room parses the same; one byte less is too big; a byte less of input
     * asks for more. */
    require(pt_http1_parse_response(buf, size, (size_t)len, &again) == len);
    require(again.status == resp->status && again.nheaders == resp->nheaders);
    require(again.content_length == resp->content_length && again.chunked == resp->chunked);
    require(again.keep_alive == resp->keep_alive);
    require(pt_http1_parse_response(buf, size, (size_t)len - 1, &again) == PT_ETOOBIG);
    require(pt_http1_parse_response(buf, (size_t)len - 1, (size_t)len, &again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct pt_http1_resp resp, part;
    size_t cut;
    int rc, prc;

    rc = pt_http1_parse_response(buf, size, size + 1, &resp);
    require(rc == 0 || rc == PT_EPROTO || rc > 0);
    if (rc > 0)
        check_head(buf, size, rc, &resp);
    /* With no room to spare, an incomplete head is too big instead of pending. */
    if (rc == 0)
        require(pt_http1_parse_response(buf, size, size, &resp) == PT_ETOOBIG);

    /* A prefix chosen by the first two bytes: it gives the same answer, or asks for more. */
    cut = size >= 2 ? ((size_t)data[0] << 8 | data[1]) % (size + 1) : 0;
    prc = pt_http1_parse_response(buf, cut, size + 1, &part);
    if (rc > 0)
        require(prc == ((size_t)rc <= cut ? rc : 0));
    else
        require(prc == 0 || prc == rc);
    return 0;
}
