/* Unit tests for hub/wsframe.c: client header parsing (RFC 6455 section 5.2 and the examples of
 * section 5.7), unmasking in pieces, server headers, the handshake accept key (section 1.3) and
 * close payloads (sections 5.5.1 and 7.4). */
#include "wsframe.h"

#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "portico/err.h"

static void test_accept_key_rfc_example(void)
{
    static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
    char out[29];

    memset(out, 'x', sizeof(out));
    pt_wsframe_accept_key(key, strlen(key), out);
    CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_EQ_INT(strlen(out), 28);
    /* Only <len> bytes of the key count. */
    pt_wsframe_accept_key("dGhlIHNhbXBsZSBub25jZQ==trailing", 24, out);
    CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Section 5.7: a masked "Hello" from a client. */
static void test_parse_masked_hello(void)
{
    uint8_t frame[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    struct pt_wsframe f;
    size_t i;
    int rc;

    for (i = 0; i < 6; i++)
        CHECK_EQ_INT(pt_wsframe_parse(frame, i, &f), 0);
    rc = pt_wsframe_parse(frame, sizeof(frame), &f);
    CHECK_EQ_INT(rc, 6);
    CHECK_EQ_INT(f.header_len, 6);
    CHECK(f.fin);
    CHECK(f.masked);
    CHECK_EQ_INT(f.opcode, PT_WS_TEXT);
    CHECK_EQ_INT(f.payload_len, 5);
    CHECK_EQ_INT(memcmp(f.mask, "\x37\xfa\x21\x3d", 4), 0);
    pt_wsframe_unmask(frame + 6, 5, f.mask, 0);
    CHECK_EQ_INT(memcmp(frame + 6, "Hello", 5), 0);
}

static void test_parse_lengths(void)
{
    uint8_t b16[] = {0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4};
    uint8_t b64[] = {0x02, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 9, 8, 7, 6};
    uint8_t small16[] = {0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4};
    uint8_t max64[] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4};
    struct pt_wsframe f;
    size_t i;

    for (i = 0; i < sizeof(b16); i++)
        CHECK_EQ_INT(pt_wsframe_parse(b16, i, &f), 0);
    CHECK_EQ_INT(pt_wsframe_parse(b16, sizeof(b16), &f), 8);
    CHECK_EQ_INT(f.payload_len, 256);
    CHECK_EQ_INT(f.opcode, PT_WS_BINARY);

    for (i = 0; i < sizeof(b64); i++)
        CHECK_EQ_INT(pt_wsframe_parse(b64, i, &f), 0);
    CHECK_EQ_INT(pt_wsframe_parse(b64, sizeof(b64), &f), 14);
    CHECK_EQ_INT(f.payload_len, 1ULL << 32);
    CHECK(!f.fin);
    CHECK_EQ_INT(f.opcode, PT_WS_BINARY);
    CHECK_EQ_INT(memcmp(f.mask, "\x09\x08\x07\x06", 4), 0);

    /* A non-minimal length encoding is accepted, as the header says. */
    CHECK_EQ_INT(pt_wsframe_parse(small16, sizeof(small16), &f), 8);
    CHECK_EQ_INT(f.payload_len, 5);

    CHECK_EQ_INT(pt_wsframe_parse(max64, sizeof(max64), &f), 14);
    CHECK(f.payload_len == 0x7fffffffffffffffULL);
}

static void test_parse_errors(void)
{
    uint8_t b[14] = {0};
    struct pt_wsframe f;
    int op;

    /* RSV1..3 */
    b[1] = 0x80;
    b[0] = 0x81 | 0x40;
    CHECK_EQ_INT(pt_wsframe_parse(b, 2, &f), PT_EPROTO);
    b[0] = 0x81 | 0x20;
    CHECK_EQ_INT(pt_wsframe_parse(b, 2, &f), PT_EPROTO);
    b[0] = 0x81 | 0x10;
    CHECK_EQ_INT(pt_wsframe_parse(b, 2, &f), PT_EPROTO);

    /* Reserved opcodes, refused from the first two bytes. */
    for (op = 0; op < 16; op++) {
        int known = op <= 2 || (op >= 8 && op <= 10);

        b[0] = (uint8_t)(0x80 | op);
        b[1] = 0x80;
        CHECK_EQ_INT(pt_wsframe_parse(b, 2, &f), known ? 0 : PT_EPROTO);
    }

    /* Unmasked client frame. */
    b[0] = 0x81;
    b[1] = 0x05;
    CHECK_EQ_INT(pt_wsframe_parse(b, 2, &f), PT_EPROTO);

    /* Control frames: fragmented, or longer than 125. */
    b[0] = 0x09;
    b[1] = 0x80;
    CHECK_EQ_INT(pt_wsframe_parse(b, 6, &f), PT_EPROTO);
    b[0] = 0x88;
    b[1] = 0x80 | 126;
    CHECK_EQ_INT(pt_wsframe_parse(b, 2, &f), PT_EPROTO);
    b[1] = 0x80 | 127;
    CHECK_EQ_INT(pt_wsframe_parse(b, 2, &f), PT_EPROTO);
    b[1] = 0x80 | 125;
    CHECK_EQ_INT(pt_wsframe_parse(b, 6, &f), 6);
    CHECK_EQ_INT(f.payload_len, 125);

    /* 64-bit length with the top bit set, seen as soon as its first byte arrives. */
    b[0] = 0x82;
    b[1] = 0xff;
    b[2] = 0x80;
    CHECK_EQ_INT(pt_wsframe_parse(b, 3, &f), PT_EPROTO);
    CHECK_EQ_INT(pt_wsframe_parse(b, 14, &f), PT_EPROTO);
}

/* Reference: one byte at a time. */
static void unmask_slow(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] ^= mask[(offset + i) % 4];
}

static void test_unmask_offsets_and_pieces(void)
{
    static const uint8_t mask[4] = {0xa1, 0x5b, 0x3c, 0xe7};
    uint8_t data[80], fast[80], slow[80];
    size_t i, n, off, cut;
    int bad = 0;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 37 + 11);
    for (off = 0; off < 9; off++) {
        for (n = 0; n <= 64; n++) {
            /* Unaligned starts too: +1 and +3 into the buffer. */
            memcpy(fast, data, sizeof(data));
            memcpy(slow, data, sizeof(data));
            pt_wsframe_unmask(fast + (off & 3), n, mask, off);
            unmask_slow(slow + (off & 3), n, mask, off);
            bad += memcmp(fast, slow, sizeof(fast)) != 0;
        }
    }
    /* A payload unmasked in two pieces equals one pass. */
    for (cut = 0; cut <= 64; cut++) {
        memcpy(fast, data, 64);
        memcpy(slow, data, 64);
        pt_wsframe_unmask(fast, cut, mask, 0);
        pt_wsframe_unmask(fast + cut, 64 - cut, mask, cut);
        unmask_slow(slow, 64, mask, 0);
        bad += memcmp(fast, slow, 64) != 0;
    }
    /* Offsets beyond 32 bits still only matter modulo 4. */
    memcpy(fast, data, 20);
    memcpy(slow, data, 20);
    pt_wsframe_unmask(fast, 20, mask, (1ULL << 40) + 3);
    unmask_slow(slow, 20, mask, 3);
    bad += memcmp(fast, slow, 20) != 0;
    CHECK_EQ_INT(bad, 0);
}

static void test_server_header(void)
{
    uint8_t h[PT_WS_MAX_HEADER];

    CHECK_EQ_INT(pt_wsframe_header(h, PT_WS_TEXT, true, 0), 2);
    CHECK_EQ_INT(h[0], 0x81);
    CHECK_EQ_INT(h[1], 0x00);
    CHECK_EQ_INT(pt_wsframe_header(h, PT_WS_BINARY, false, 125), 2);
    CHECK_EQ_INT(h[0], 0x02);
    CHECK_EQ_INT(h[1], 125);
    CHECK_EQ_INT(pt_wsframe_header(h, PT_WS_TEXT, true, 126), 4);
    CHECK_EQ_INT(h[1], 126);
    CHECK_EQ_INT(h[2], 0);
    CHECK_EQ_INT(h[3], 126);
    CHECK_EQ_INT(pt_wsframe_header(h, PT_WS_TEXT, true, 65535), 4);
    CHECK_EQ_INT(h[2], 0xff);
    CHECK_EQ_INT(h[3], 0xff);
    CHECK_EQ_INT(pt_wsframe_header(h, PT_WS_CONT, true, 65536), 10);
    CHECK_EQ_INT(h[0], 0x80);
    CHECK_EQ_INT(h[1], 127);
    CHECK_EQ_INT(memcmp(h + 2, "\0\0\0\0\0\x01\0\0", 8), 0);
    CHECK_EQ_INT(pt_wsframe_header(h, PT_WS_PONG, true, 0x0102030405060708ULL), 10);
    CHECK_EQ_INT(h[0], 0x8a);
    CHECK_EQ_INT(memcmp(h + 2, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), 0);
}

static void test_close_payload(void)
{
    uint8_t out[125];
    char reason[200];
    int code = 0;
    size_t n;

    n = pt_wsframe_close_payload(out, 1000, "bye");
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(memcmp(out,
                        "\x03\xe8"
                        "bye",
                        5),
                 0);
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 4999, NULL), 2);
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1001, ""), 2);

    /* 123 bytes of reason at most. */
    memset(reason, 'r', sizeof(reason));
    reason[sizeof(reason) - 1] = '\0';
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1011, reason), 125);
    reason[123] = '\0';
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1011, reason), 125);
    reason[122] = '\0';
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1011, reason), 124);

    /* A 2-byte character across the limit is dropped whole... */
    memset(reason, 'r', sizeof(reason));
    memcpy(reason + 122, "\xc3\xa9", 2);
    reason[124] = '\0';
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1000, reason), 2 + 122);
    /* ...as is a 4-byte one, and one that just fits is kept. */
    memcpy(reason + 120, "\xf0\x9f\x98\x80", 4);
    reason[124] = '\0';
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1000, reason), 2 + 120);
    reason[123] = 'x';
    memcpy(reason + 119, "\xf0\x9f\x98\x80", 4);
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1000, reason), 2 + 123);
    CHECK_EQ_INT(pt_wsframe_parse_close(out, 125, &code), 0);
    CHECK_EQ_INT(code, 1000);

    /* A reason that is not UTF-8 is left out rather than sent. */
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1000, "bad \xff"), 2);
    /* A code that may not go on the wire gives an empty payload (read as 1005). */
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1005, "x"), 0);
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 1006, NULL), 0);
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 999, NULL), 0);
    CHECK_EQ_INT(pt_wsframe_close_payload(out, 5000, NULL), 0);
}

static void test_parse_close(void)
{
    static const int ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                             1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
    static const int bad[] = {0,    1,    999,  1004, 1005, 1006,  1015,
                              1016, 1100, 2000, 2999, 5000, 0xffff};
    uint8_t p[125];
    int code = -1;
    size_t i;

    CHECK_EQ_INT(pt_wsframe_parse_close(p, 0, &code), 0);
    CHECK_EQ_INT(code, 1005);
    p[0] = 0x03;
    CHECK_EQ_INT(pt_wsframe_parse_close(p, 1, &code), PT_EPROTO);
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        p[0] = (uint8_t)(ok[i] >> 8);
        p[1] = (uint8_t)ok[i];
        code = -1;
        CHECK_EQ_INT(pt_wsframe_parse_close(p, 2, &code), 0);
        CHECK_EQ_INT(code, ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p[0] = (uint8_t)(bad[i] >> 8);
        p[1] = (uint8_t)bad[i];
        CHECK_EQ_INT(pt_wsframe_parse_close(p, 2, &code), PT_EPROTO);
    }
    p[0] = 0x03;
    p[1] = 0xe8;
    memcpy(p + 2, "caf\xc3\xa9", 5);
    CHECK_EQ_INT(pt_wsframe_parse_close(p, 7, &code), 0);
    CHECK_EQ_INT(pt_wsframe_parse_close(p, 6, &code), PT_EPROTO); /* cut inside the char */
    memcpy(p + 2, "\xed\xa0\x80", 3);                             /* a surrogate */
    CHECK_EQ_INT(pt_wsframe_parse_close(p, 5, &code), PT_EPROTO);
    memset(p + 2, 'a', 123);
    CHECK_EQ_INT(pt_wsframe_parse_close(p, 125, &code), 0);
}

int main(void)
{
    RUN(test_accept_key_rfc_example);
    RUN(test_parse_masked_hello);
    RUN(test_parse_lengths);
    RUN(test_parse_errors);
    RUN(test_unmask_offsets_and_pieces);
    RUN(test_server_header);
    RUN(test_close_payload);
    RUN(test_parse_close);
    return harness_finish("test_wsframe");
}
