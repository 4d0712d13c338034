/*
 * wsclient: client side of RFC 6455 for the load generator (see wsclient.h). Pure.
 * SHA-1 and base64 for the accept check come from libcrypto.
 */
#include "wsclient.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 6455 section 1.3 */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void pt_wsclient_make_key(char key[PT_WSCLIENT_KEY_LEN + 1], const uint8_t rnd[16])
{
    EVP_EncodeBlock((unsigned char *)key, rnd, 16);
    key[PT_WSCLIENT_KEY_LEN] = '\0';
}

int pt_wsclient_request(char *buf, size_t cap, const char *host, const char *path,
                        const char *protocol, const char *key)
{
    int n = snprintf(buf, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s%s%s"
                     "\r\n",
                     path, host, key, protocol ? "Sec-WebSocket-Protocol: " : "",
                     protocol ? protocol : "", protocol ? "\r\n" : "");

    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Finds header name (case-insensitive) in the block and copies its trimmed value. */
static int header_value(const char *buf, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = buf, *end = buf + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t vlen;

        if (eol == NULL)
            return -1;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;

            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            vlen = (size_t)(eol - v);
            while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
                vlen--;
            if (vlen >= cap)
                return -1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p = eol + 1;
    }
    return -1;
}

int pt_wsclient_check_response(const char *buf, size_t len, const char *key)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    unsigned char digest[EVP_MAX_MD_SIZE];
    char src[PT_WSCLIENT_KEY_LEN + sizeof(ws_guid)], want[32], got[64];
    unsigned dlen = 0;
    size_t hlen;

    if (end == NULL)
        return len > 8192 ? -1 : 0;
    hlen = (size_t)(end - buf) + 4;
    if (hlen < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0)
        return -1;
    if (header_value(buf, hlen, "Sec-WebSocket-Accept", got, sizeof(got)) < 0)
        return -1;
    snprintf(src, sizeof(src), "%s%s", key, ws_guid);
    if (!EVP_Digest(src, strlen(src), digest, &dlen, EVP_sha1(), NULL))
        return -1;
    EVP_EncodeBlock((unsigned char *)want, digest, (int)dlen);
    return strcmp(want, got) == 0 ? (int)hlen : -1;
}

size_t pt_wsclient_frame(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask)
{
    const uint8_t *src = payload;
    uint8_t m[4];
    size_t h = 0;

    out[h++] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(m, &mask, 4);
    memcpy(out + h, m, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        out[h + i] = src[i] ^ m[i & 3];
    return h + len;
}

long pt_wsclient_parse(const uint8_t *buf, size_t len, size_t max_payload,
                       struct pt_wsclient_frame *f)
{
    uint64_t plen;
    size_t h = 2;

    if (len < 2)
        return 0;
    if ((buf[0] & 0x70) != 0 || (buf[1] & 0x80) != 0) /* RSV bits, or a masked server frame */
        return -1;
    f->fin = (buf[0] & 0x80) != 0;
    f->opcode = buf[0] & 0x0f;
    plen = buf[1] & 0x7f;
    if (plen == 126) {
        if (len < 4)
            return 0;
        plen = ((uint64_t)buf[2] << 8) | buf[3];
        h = 4;
    } else if (plen == 127) {
        if (len < 10)
            return 0;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = (plen << 8) | buf[2 + i];
        h = 10;
    }
    if ((f->opcode & 0x08) && (plen > 125 || !f->fin)) /* RFC 6455 5.5 */
        return -1;
    if (plen > max_payload)
        return -1;
    if (len < h + plen)
        return 0;
    f->payload = buf + h;
    f->payload_len = (size_t)plen;
    return (long)(h + plen);
}
