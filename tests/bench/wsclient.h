/*
 * wsclient: the client side of RFC 6455 for the load generator: the upgrade request, the
 * check of the server's 101 answer, masked client frames and parsing of server frames.
 * Pure: works on caller buffers only, no sockets, no clock. No extensions, no TLS.
 */
#ifndef PT_BENCH_WSCLIENT_H
#define PT_BENCH_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#define PT_WSCLIENT_KEY_LEN   24 /* base64 of 16 random bytes */
#define PT_WSCLIENT_FRAME_MAX 14 /* header bytes a client frame can need */

enum pt_wsclient_op {
    PT_WSCLIENT_OP_CONT = 0x0,
    PT_WSCLIENT_OP_TEXT = 0x1,
    PT_WSCLIENT_OP_BINARY = 0x2,
    PT_WSCLIENT_OP_CLOSE = 0x8,
    PT_WSCLIENT_OP_PING = 0x9,
    PT_WSCLIENT_OP_PONG = 0xa,
};

/* One parsed server frame; payload is borrowed from the buffer given to the parser. */
struct pt_wsclient_frame {
    int fin;
    int opcode;
    const uint8_t *payload;
    size_t payload_len;
};

/* Writes a fresh Sec-WebSocket-Key (NUL-terminated) made from 16 bytes of rnd. */
void pt_wsclient_make_key(char key[PT_WSCLIENT_KEY_LEN + 1], const uint8_t rnd[16]);

/* Writes the HTTP/1.1 upgrade request into buf. Returns its length, or -1 if cap is too
 * small. protocol may be NULL (no Sec-WebSocket-Protocol header). */
int pt_wsclient_request(char *buf, size_t cap, const char *host, const char *path,
                        const char *protocol, const char *key);

/* Checks the server's answer in buf[0..len). Returns the length of the header block when
 * it is complete and is a 101 with the right Sec-WebSocket-Accept for key, 0 when more
 * bytes are needed, -1 when it is anything else. */
int pt_wsclient_check_response(const char *buf, size_t len, const char *key);

/* Writes one masked frame (FIN set) into out, which must hold len + PT_WSCLIENT_FRAME_MAX
 * bytes. Returns the number of bytes written. */
size_t pt_wsclient_frame(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask);

/* Parses one server frame at buf[0..len). Returns the bytes it spans when complete (f is
 * filled), 0 when more bytes are needed, -1 for a protocol error (masked server frame,
 * reserved bits, oversized control frame, length over max_payload). */
long pt_wsclient_parse(const uint8_t *buf, size_t len, size_t max_payload,
                       struct pt_wsclient_frame *f);

#endif
