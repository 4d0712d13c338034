/* libFuzzer target: a stream of client WebSocket frames (hub/wsframe.c). Each header is parsed,
 * its payload unmasked in two pieces and compared with a bytewise unmask, and close payloads are
 * parsed; whatever close payload we build from the bytes must parse back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portico/err.h"
#include "wsframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond)
        abort();
}

static void check_unmask(const uint8_t *p, size_t n, const uint8_t mask[4], size_t cut)
{
    uint8_t *fast = malloc(n + 1), *slow = malloc(n + 1);
    size_t i;

    memcpy(fast, p, n);
    memcpy(slow, p, n);
    if (cut > n)
        cut = n;
    pt_wsframe_unmask(fast, cut, mask, 0);
    pt_wsframe_unmask(fast + cut, n - cut, mask, cut);
    for (i = 0; i < n; i++)
        slow[i] ^= mask[i % 4];
    require(memcmp(fast, slow, n) == 0);
    free(fast);
    free(slow);
}

/* Our own close payload, built from any code and reason, must be one the parser accepts. */
static void check_close_roundtrip(const uint8_t *p, size_t n)
{
    char reason[200];
    uint8_t out[125];
    size_t k = n < sizeof(reason) - 1 ? n : sizeof(reason) - 1, len;
    int code = n >= 2 ? (p[0] << 8 | p[1]) : 1000, back = 0;

    memcpy(reason, p, k);
    reason[k] = '\0';
    len = pt_wsframe_close_payload(out, code, reason);
    require(len == 0 || (len >= 2 && len <= 125));
    require(pt_wsframe_parse_close(out, len, &back) == 0);
    require(back == (len == 0 ? 1005 : code));
}

static void check_header_roundtrip(const struct pt_wsframe *f)
{
    uint8_t h[PT_WS_MAX_HEADER];
    size_t n = pt_wsframe_header(h, f->opcode, f->fin, f->payload_len);

    require(n == (f->payload_len < 126 ? 2u : f->payload_len <= 0xffff ? 4u : 10u));
    require((h[0] & 0x0f) == f->opcode && ((h[0] & 0x80) != 0) == f->fin);
    require((h[1] & 0x80) == 0); /* a server never masks */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0, avail;
    struct pt_wsframe f;
    int rc, code;

    while (pos < size) {
        rc = pt_wsframe_parse(data + pos, size - pos, &f);
        require(rc == 0 || rc == PT_EPROTO || (rc >= 6 && rc <= PT_WS_MAX_HEADER));
        if (rc <= 0)
            break;
        require((size_t)rc == f.header_len && f.masked);
        require(pt_wsframe_parse(data + pos, (size_t)rc - 1, &f) == 0);
        rc = pt_wsframe_parse(data + pos, size - pos, &f);
        require(!(f.opcode & 8) || (f.fin && f.payload_len <= 125));
        require(f.payload_len < (1ULL << 63));
        check_header_roundtrip(&f);
        pos += (size_t)rc;

        avail = size - pos;
        if (f.payload_len < avail)
            avail = (size_t)f.payload_len;
        check_unmask(data + pos, avail, f.mask, data[pos - 1] % (avail + 1));
        if (f.opcode == PT_WS_CLOSE && avail == f.payload_len) {
            uint8_t payload[125];

            memcpy(payload, data + pos, avail);
            pt_wsframe_unmask(payload, avail, f.mask, 0);
            code = -1;
            rc = pt_wsframe_parse_close(payload, avail, &code);
            require(rc == PT_EPROTO || (rc == 0 && code >= 1000 && code <= 4999));
            check_close_roundtrip(payload, avail);
        }
        if (avail < f.payload_len)
            break;
        pos += avail;
    }
    check_close_roundtrip(data, size);
    {
        char key[29];

        pt_wsframe_accept_key((const char *)data, size < 64 ? size : 64, key);
        require(strlen(key) == 28);
    }
    return 0;
}
