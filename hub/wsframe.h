/* WebSocket framing (RFC 6455) for the server side: parsing client frame headers, unmasking,
 * writing server frame headers, the handshake accept key, and close payloads. Pure: no I/O. */
#ifndef PT_WSFRAME_H
#define PT_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pt_ws_opcode {
    PT_WS_CONT = 0x0,
    PT_WS_TEXT = 0x1,
    PT_WS_BINARY = 0x2,
    PT_WS_CLOSE = 0x8,
    PT_WS_PING = 0x9,
    PT_WS_PONG = 0xA,
};

#define PT_WS_MAX_HEADER 14 /* 2 + 8 length bytes + 4 mask bytes */

struct pt_wsframe {
    bool fin;
    int opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t payload_len;
    size_t header_len; /* bytes of header consumed */
};

/* Parses a client frame header at <buf>. Returns the header length (2..14) when complete,
 * 0 when more bytes are needed, or PT_EPROTO when the frame breaks RFC 6455 for a client: an
 * RSV bit set (no extensions are negotiated), an unknown opcode, a control frame that is
 * fragmented or longer than 125 bytes, an unmasked frame, a 64-bit length with the top bit set,
 * or a non-minimal length encoding is NOT an error (accepted). */
int pt_wsframe_parse(const uint8_t *buf, size_t len, struct pt_wsframe *f);

/* XORs <n> bytes at <p> with <mask>, where <p> is at byte <offset> of the payload (so a payload
 * unmasked in several pieces stays correct). */
void pt_wsframe_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* Writes an unmasked server frame header for a payload of <len> bytes into <out> (room for
 * PT_WS_MAX_HEADER bytes); returns its length (2, 4 or 10). */
size_t pt_wsframe_header(uint8_t *out, int opcode, bool fin, uint64_t len);

/* Sec-WebSocket-Accept for client key <key> (<len> bytes): base64(SHA-1(key + GUID)), 28 chars
 * plus NUL into <out>. */
void pt_wsframe_accept_key(const char *key, size_t len, char out[29]);

/* Writes a close payload (2-byte code, then up to 123 bytes of <reason>, cut at a UTF-8
 * character boundary) into <out> (room for 125 bytes); returns its length. */
size_t pt_wsframe_close_payload(uint8_t *out, int code, const char *reason);

/* A close frame's payload from the client: sets *code (1005 when empty) and returns 0, or
 * PT_EPROTO when it is 1 byte long, carries a code that may not be sent (RFC 6455 7.4: below
 * 1000, 1004-1006, 1015, 1016-2999 unassigned) or a reason that is not UTF-8. */
int pt_wsframe_parse_close(const uint8_t *p, size_t n, int *code);

#endif
