/* WebSocket framing (RFC 6455 section 5) for the server side. Parses client frame headers,
 * unmasks payloads, writes server headers, computes the handshake accept key and checks close
 * payloads. It never buffers: callers hand it what they have and keep the rest. */
#include "wsframe.h"

#include <string.h>

#include <openssl/evp.h>

#include "portico/err.h"
#include "utf8.h"

#define WS_FIN         0x80
#define WS_RSV_MASK    0x70
#define WS_OPCODE      0x0f
#define WS_MASKED      0x80
#define WS_LEN7        0x7f
#define WS_LEN16       126
#define WS_LEN64       127
#define WS_CONTROL     0x08 /* opcodes 0x8..0xF are control frames (section 5.5) */
#define WS_CONTROL_MAX 125
#define WS_MASK_LEN    4

/* Section 1.3: the GUID appended to the client's key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool opcode_known(int op)
{
    switch (op) {
    case PT_WS_CONT:
    case PT_WS_TEXT:
    case PT_WS_BINARY:
    case PT_WS_CLOSE:
    case PT_WS_PING:
    case PT_WS_PONG:
        return true;
    }
    return false;
}

int pt_wsframe_parse(const uint8_t *buf, size_t len, struct pt_wsframe *f)
{
    size_t ext, need, i;
    uint64_t n;
    int op;

    if (len < 2)
        return 0;
    op = buf[0] & WS_OPCODE;
    /* Everything the first two bytes can break is checked before waiting for the rest. */
    if ((buf[0] & WS_RSV_MASK) != 0 || !opcode_known(op))
        return PT_EPROTO;
    if ((op & WS_CONTROL) && (!(buf[0] & WS_FIN) || (buf[1] & WS_LEN7) > WS_CONTROL_MAX))
        return PT_EPROTO;
    /* Section 5.1: a server must close the connection on an unmasked client frame. */
    if (!(buf[1] & WS_MASKED))
        return PT_EPROTO;

    n = buf[1] & WS_LEN7;
    ext = n == WS_LEN16 ? 2 : n == WS_LEN64 ? 8 : 0;
    /* Section 5.2: the most significant bit of a 64-bit length must be 0. */
    if (ext == 8 && len > 2 && (buf[2] & 0x80))
        return PT_EPROTO;
    need = 2 + ext + WS_MASK_LEN;
    if (len < need)
        return 0;
    if (ext != 0) {
        n = 0;
        for (i = 0; i < ext; i++)
            n = n << 8 | buf[2 + i];
    }
    /* A length that could have been encoded shorter is accepted: the minimal-encoding rule binds
     * the sender, and refusing it protects nothing. */
    f->fin = (buf[0] & WS_FIN) != 0;
    f->opcode = op;
    f->masked = true;
    memcpy(f->mask, buf + 2 + ext, WS_MASK_LEN);
    f->payload_len = n;
    f->header_len = need;
    return (int)need;
}

void pt_wsframe_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
    uint8_t m[8];
    uint64_t m64, x;
    size_t i;

    /* The mask as seen from <p>: byte k of the payload uses mask[k % 4] (section 5.3). Built
     * bytewise and loaded with memcpy, so it is right on either byte order. */
    for (i = 0; i < sizeof(m); i++)
        m[i] = mask[(offset + i) & 3];
    memcpy(&m64, m, sizeof(m64));
    for (i = 0; n - i >= 8; i += 8) {
        memcpy(&x, p + i, sizeof(x));
        x ^= m64;
        memcpy(p + i, &x, sizeof(x));
    }
    for (; i < n; i++)
        p[i] ^= m[i & 3];
}

size_t pt_wsframe_header(uint8_t *out, int opcode, bool fin, uint64_t len)
{
    int i;

    out[0] = (uint8_t)((fin ? WS_FIN : 0) | (opcode & WS_OPCODE));
    if (len < WS_LEN16) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = WS_LEN16;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = WS_LEN64;
    for (i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

void pt_wsframe_accept_key(const char *key, size_t len, char out[29])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    /* On an OpenSSL failure the key is empty, which no client accepts: the handshake fails
     * closed instead of sending a wrong key. */
    out[0] = '\0';
    if (ctx == NULL)
        return;
    ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 && EVP_DigestUpdate(ctx, key, len) == 1 &&
         EVP_DigestUpdate(ctx, ws_guid, sizeof(ws_guid) - 1) == 1 &&
         EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
    EVP_MD_CTX_free(ctx);
    if (ok)
        EVP_EncodeBlock((unsigned char *)out, md, 20); /* 28 characters and a NUL */
}

/* Section 7.4 and the IANA registry: codes an endpoint may put in a close frame. 1004 is
 * reserved, 1005, 1006 and 1015 are for reporting only, 1016..2999 are unassigned, and nothing
 * above 4999 is defined. */
static bool close_code_sendable(int code)
{
    if (code >= 1000 && code <= 1003)
        return true;
    if (code >= 1007 && code <= 1014)
        return true;
    return code >= 3000 && code <= 4999;
}

size_t pt_wsframe_close_payload(uint8_t *out, int code, const char *reason)
{
    size_t n;

    /* A code that may not be sent becomes an empty payload, which the peer reads as 1005 (no
     * status); sending it would make the peer fail the connection instead. */
    if (!close_code_sendable(code))
        return 0;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    n = reason != NULL ? strnlen(reason, WS_CONTROL_MAX - 1) : 0;
    if (n > WS_CONTROL_MAX - 2) {
        /* Cut before the character that crosses the limit: back up over continuation bytes. */
        n = WS_CONTROL_MAX - 2;
        while (n > 0 && ((uint8_t)reason[n] & 0xc0) == 0x80)
            n--;
    }
    /* A reason that is not UTF-8 would fail the peer's check (section 8.1): drop it. */
    if (pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)reason, n) != PT_UTF8_ACCEPT)
        n = 0;
    if (n > 0)
        memcpy(out + 2, reason, n);
    return 2 + n;
}

int pt_wsframe_parse_close(const uint8_t *p, size_t n, int *code)
{
    int c;

    if (n == 0) {
        *code = 1005;
        return 0;
    }
    if (n == 1 || n > WS_CONTROL_MAX)
        return PT_EPROTO;
    c = p[0] << 8 | p[1];
    if (!close_code_sendable(c))
        return PT_EPROTO;
    if (pt_utf8_feed(PT_UTF8_ACCEPT, p + 2, n - 2) != PT_UTF8_ACCEPT)
        return PT_EPROTO;
    *code = c;
    return 0;
}
