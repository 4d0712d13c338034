/* Unit tests for hub/http1_response.c: response heads from upstreams. Every valid head is also
 * fed at every split point (each proper prefix must ask for more), every malformed one must never
 * parse at any split, and the size limit is checked on both sides of the boundary. */
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "portico/err.h"

#define MAX_HEAD 8192

static struct pt_http1_resp resp;

static int parse_n(const char *s, size_t n)
{
    return pt_http1_parse_response(s, n, MAX_HEAD, &resp);
}

static int parse(const char *s)
{
    return parse_n(s, strlen(s));
}

static int slice_eq(struct pt_slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* The head must parse in full, every proper prefix must ask for more bytes, and the same head
 * copied to a buffer of exactly its size (so ASan sees any overread) must parse the same. The
 * final parse of <s> is left in resp for the caller's checks. */
static void check_complete(const char *s)
{
    size_t n = strlen(s), i;
    char *copy = malloc(n);
    int more = 0;

    for (i = 0; i < n; i++) {
        memcpy(copy, s, i);
        more += pt_http1_parse_response(copy, i, MAX_HEAD, &resp) == 0;
    }
    CHECK_EQ_INT(more, n);
    memcpy(copy, s, n);
    CHECK_EQ_INT(pt_http1_parse_response(copy, n, MAX_HEAD, &resp), n);
    free(copy);
    CHECK_EQ_INT(parse(s), n);
}

/* The head is malformed: the whole input says PT_EPROTO, and no prefix ever succeeds. */
static void check_malformed(const char *s)
{
    size_t n = strlen(s), i;
    int bad = 0, rc;

    for (i = 0; i < n; i++) {
        rc = parse_n(s, i);
        bad += rc != 0 && rc != PT_EPROTO;
    }
    CHECK_EQ_INT(bad, 0);
    rc = parse(s);
    if (rc != PT_EPROTO)
        fprintf(stderr, "  expected PT_EPROTO for \"%s\"\n", s);
    CHECK_EQ_INT(rc, PT_EPROTO);
}

/* ---- Status line ---- */

static void test_simple_200(void)
{
    static const char r[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: 13\r\n"
                            "X-Pad:   padded value \t \r\n"
                            "Empty:\r\n"
                            "\r\n";

    check_complete(r);
    CHECK_EQ_INT(resp.status, 200);
    CHECK_EQ_INT(resp.minor_version, 1);
    CHECK(slice_eq(resp.reason, "OK"));
    CHECK_EQ_INT(resp.nheaders, 4);
    CHECK(slice_eq(resp.headers[0].name, "Content-Type"));
    CHECK(slice_eq(resp.headers[0].value, "application/json"));
    CHECK(slice_eq(resp.headers[1].name, "Content-Length"));
    CHECK(slice_eq(resp.headers[1].value, "13"));
    CHECK(slice_eq(resp.headers[2].value, "padded value"));
    CHECK(slice_eq(resp.headers[3].value, ""));
    CHECK_EQ_INT(resp.content_length, 13);
    CHECK(!resp.chunked);
    CHECK(resp.keep_alive);
}

static void test_body_not_consumed(void)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbodyHTTP/1.1 ";

    CHECK_EQ_INT(parse(r), strlen(r) - strlen("bodyHTTP/1.1 "));
    CHECK_EQ_INT(resp.content_length, 4);
}

static void test_reason_forms(void)
{
    check_complete("HTTP/1.1 200\r\n\r\n");
    CHECK_EQ_INT(resp.status, 200);
    CHECK(slice_eq(resp.reason, ""));

    check_complete("HTTP/1.1 200 \r\n\r\n");
    CHECK(slice_eq(resp.reason, ""));

    check_complete("HTTP/1.1 404 Not  Found\r\n\r\n");
    CHECK_EQ_INT(resp.status, 404);
    CHECK(slice_eq(resp.reason, "Not  Found"));

    /* HTAB and obs-text are allowed in a reason phrase, and it is kept as sent. */
    check_complete("HTTP/1.1 500 Int\terno \xc3\xa9rror \r\n\r\n");
    CHECK_EQ_INT(resp.status, 500);
    CHECK(slice_eq(resp.reason, "Int\terno \xc3\xa9rror "));

    /* A reason long enough for the word-at-a-time scan, with a stop in each lane. */
    check_complete("HTTP/1.1 200 abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH\r\n\r\n");
    CHECK(slice_eq(resp.reason, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"));
}

static void test_status_range(void)
{
    check_complete("HTTP/1.1 100 Continue\r\n\r\n");
    CHECK_EQ_INT(resp.status, 100);
    check_complete("HTTP/1.1 599 Custom\r\n\r\n");
    CHECK_EQ_INT(resp.status, 599);
    check_complete("HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n");
    CHECK_EQ_INT(resp.status, 302);

    check_malformed("HTTP/1.1 000 Zero\r\n\r\n");
    check_malformed("HTTP/1.1 099 Low\r\n\r\n");
    check_malformed("HTTP/1.1 600 High\r\n\r\n");
    check_malformed("HTTP/1.1 999 High\r\n\r\n");
}

static void test_status_line_errors(void)
{
    check_malformed("HTTP/1.1 20\r\n\r\n");
    check_malformed("HTTP/1.1 2000 OK\r\n\r\n");
    check_malformed("HTTP/1.1 200OK\r\n\r\n");
    check_malformed("HTTP/1.1  200 OK\r\n\r\n");
    check_malformed("HTTP/1.1\t200 OK\r\n\r\n");
    check_malformed("HTTP/1.1 2x0 OK\r\n\r\n");
    check_malformed("HTTP/1.1 -20 OK\r\n\r\n");
    check_malformed("HTTP/1.1 abc\r\n\r\n");
    check_malformed("HTTP/1.1\r\n\r\n");
    check_malformed("HTTP/1.1200 OK\r\n\r\n");
    check_malformed("http/1.1 200 OK\r\n\r\n");
    check_malformed("HTTP/2 200 OK\r\n\r\n");
    check_malformed("HTTP/2.0 200 OK\r\n\r\n");
    check_malformed("HTTP/1.x 200 OK\r\n\r\n");
    check_malformed("HTTP/1. 200 OK\r\n\r\n");
    check_malformed("HTTP/11 200 OK\r\n\r\n");
    check_malformed("HTTP/1.11 200 OK\r\n\r\n");
    check_malformed("ICY 200 OK\r\n\r\n");
    check_malformed(" HTTP/1.1 200 OK\r\n\r\n");
    /* No empty lines are skipped before a response, unlike before a request. */
    check_malformed("\r\nHTTP/1.1 200 OK\r\n\r\n");
    check_malformed("\nHTTP/1.1 200 OK\r\n\r\n");
    /* Control characters and a bare CR in the reason. */
    check_malformed("HTTP/1.1 200 O\x01K\r\n\r\n");
    check_malformed("HTTP/1.1 200 O\x7fK\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\rX\r\n\r\n");
    check_malformed("HTTP/1.1 200\rX\r\n\r\n");
    check_malformed("HTTP/1.1 200 abcdefghijkl\x1fmnopqrstuvwxyz\r\n\r\n");
}

/* Garbage fails as soon as the offending byte is there, without waiting for the line. */
static void test_early_errors(void)
{
    CHECK_EQ_INT(parse_n("X", 1), PT_EPROTO);
    CHECK_EQ_INT(parse_n("HTTX", 4), PT_EPROTO);
    CHECK_EQ_INT(parse_n("HTTP/2", 6), PT_EPROTO);
    CHECK_EQ_INT(parse_n("HTTP/1.1 6", 10), PT_EPROTO);
    CHECK_EQ_INT(parse_n("HTTP/1.1 0", 10), PT_EPROTO);
    CHECK_EQ_INT(parse_n("HTTP/1.1 2000", 13), PT_EPROTO);
    CHECK_EQ_INT(parse_n("HTTP/1.1 200 OK\r\nBad Name: x", 22), PT_EPROTO);
    CHECK_EQ_INT(parse_n("", 0), 0);
    CHECK_EQ_INT(pt_http1_parse_response(NULL, 0, MAX_HEAD, &resp), 0);
    CHECK_EQ_INT(parse_n("HTTP/1.1 1", 10), 0);
    CHECK_EQ_INT(parse_n("HTTP/1.1 200 OK\r", 16), 0);
}

static void test_versions(void)
{
    check_complete("HTTP/1.0 200 OK\r\n\r\n");
    CHECK_EQ_INT(resp.minor_version, 0);
    check_complete("HTTP/1.1 200 OK\r\n\r\n");
    CHECK_EQ_INT(resp.minor_version, 1);
    /* RFC 9110 section 2.5: a higher 1.x minor is handled as 1.1 and reported as sent. */
    check_complete("HTTP/1.2 200 OK\r\n\r\n");
    CHECK_EQ_INT(resp.minor_version, 2);
    CHECK(resp.keep_alive);
}

static void test_line_endings(void)
{
    check_complete("HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\n");
    CHECK_EQ_INT(resp.content_length, 2);
    CHECK(slice_eq(resp.headers[1].value, "y"));
    CHECK(slice_eq(resp.reason, "OK"));
    check_complete("HTTP/1.1 204\n\n");
    check_complete("HTTP/1.1 200 OK\r\nA: b\n\r\n");
    CHECK(slice_eq(resp.headers[0].value, "b"));

    check_malformed("HTTP/1.1 200 OK\r\n\r\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\n\rX");
}

/* ---- Interim and bodiless responses ---- */

static void test_interim_1xx(void)
{
    static const char r[] = "HTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    size_t first = strlen("HTTP/1.1 100 Continue\r\n\r\n");
    int rc;

    rc = parse(r);
    CHECK_EQ_INT(rc, first);
    CHECK_EQ_INT(resp.status, 100);
    CHECK_EQ_INT(resp.nheaders, 0);
    CHECK_EQ_INT(resp.content_length, -1);

    rc = parse(r + first);
    CHECK_EQ_INT(rc, strlen(r + first) - 2);
    CHECK_EQ_INT(resp.status, 200);
    CHECK_EQ_INT(resp.content_length, 2);

    check_complete("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
    CHECK_EQ_INT(resp.status, 103);
    CHECK(slice_eq(resp.headers[0].value, "</s.css>; rel=preload"));

    check_complete("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\n\r\n");
    CHECK_EQ_INT(resp.status, 101);
    CHECK(resp.keep_alive);
}

static void test_no_content(void)
{
    check_complete("HTTP/1.1 204 No Content\r\nX-Request-Id: abc\r\n\r\n");
    CHECK_EQ_INT(resp.status, 204);
    CHECK_EQ_INT(resp.content_length, -1);
    CHECK(!resp.chunked);
    CHECK(resp.keep_alive);

    check_complete("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
    CHECK_EQ_INT(resp.status, 304);
    CHECK(slice_eq(resp.headers[0].value, "\"x\""));

    /* The parser reports what was sent; the caller knows 204 has no body. */
    check_complete("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(resp.content_length, 0);
}

/* ---- Framing fields ---- */

static void test_chunked(void)
{
    check_complete("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK(resp.chunked);
    CHECK_EQ_INT(resp.content_length, -1);
    check_complete("HTTP/1.1 200 OK\r\ntransfer-encoding:   CHUNKED  \r\n\r\n");
    CHECK(resp.chunked);
    /* Empty list elements are not codings (RFC 9110 section 5.6.1). */
    check_complete("HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked,\r\n\r\n");
    CHECK(resp.chunked);

    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedx\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: \"chunked\"\r\n\r\n");
    /* Faulty framing in a 1.0 message (RFC 9112 section 6.1). */
    check_malformed("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    /* Both framings, in either order. */
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
    /* A name that only looks similar is an ordinary field. */
    check_complete("HTTP/1.1 200 OK\r\nTransfer-Encodings: gzip\r\n\r\n");
    CHECK(!resp.chunked);
}

static void test_content_length(void)
{
    check_complete("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(resp.content_length, 0);
    check_complete("HTTP/1.1 200 OK\r\ncontent-length:  42 \r\n\r\n");
    CHECK_EQ_INT(resp.content_length, 42);
    check_complete("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n");
    CHECK_EQ_INT(resp.content_length, 7);
    check_complete("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n");
    CHECK_EQ_INT(resp.content_length, 999999999999999999LL);
    /* Duplicates that agree are one value. */
    check_complete("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\nCONTENT-LENGTH: 5\r\n\r\n");
    CHECK_EQ_INT(resp.content_length, 5);
    CHECK_EQ_INT(resp.nheaders, 3);

    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 05x\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n");
}

static void test_keep_alive(void)
{
    check_complete("HTTP/1.1 200 OK\r\n\r\n");
    CHECK(resp.keep_alive);
    check_complete("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    CHECK(!resp.keep_alive);
    check_complete("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\n\r\n");
    CHECK(!resp.keep_alive);
    check_complete("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection:  Close \r\n\r\n");
    CHECK(!resp.keep_alive);
    check_complete("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n");
    CHECK(resp.keep_alive);
    /* Tokens are whole list elements: "closed" and "close-ish" do not close. */
    check_complete("HTTP/1.1 200 OK\r\nConnection: closed, close-ish\r\n\r\n");
    CHECK(resp.keep_alive);
    /* Only the Connection field counts. */
    check_complete("HTTP/1.1 200 OK\r\nX-Connection: close\r\nKeep-Alive: close\r\n\r\n");
    CHECK(resp.keep_alive);

    check_complete("HTTP/1.0 200 OK\r\n\r\n");
    CHECK(!resp.keep_alive);
    check_complete("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
    CHECK(resp.keep_alive);
    check_complete("HTTP/1.0 200 OK\r\nConnection: X, KEEP-ALIVE\r\nKeep-Alive: timeout=5\r\n\r\n");
    CHECK(resp.keep_alive);
    check_complete("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n");
    CHECK(!resp.keep_alive);
    check_complete("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n");
    CHECK(!resp.keep_alive);
    check_complete("HTTP/1.0 200 OK\r\nConnection: keepalive\r\n\r\n");
    CHECK(!resp.keep_alive);
}

/* ---- Header fields ---- */

static void test_header_errors(void)
{
    /* obs-fold, and whitespace before the first field. */
    check_malformed("HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nX-A: one\r\n\ttwo\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\n Content-Length: 5\r\n\r\n");
    /* Whitespace before the colon, no colon, an empty name, a non-token name. */
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\n: empty\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nBad(Name): x\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nBad\xc3\xa9: x\r\n\r\n");
    /* Control characters and a bare CR in values. */
    check_malformed("HTTP/1.1 200 OK\r\nX: a\x01"
                    "b\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n");
    check_malformed("HTTP/1.1 200 OK\r\nX: 0123456789abcdef\x1f 0123456789\r\n\r\n");
}

static void test_header_values(void)
{
    check_complete("HTTP/1.1 200 OK\r\n"
                   "A:no-space\r\n"
                   "B: \t tabs\tinside \t\r\n"
                   "C: caf\xc3\xa9\r\n"
                   "D:    \r\n"
                   "E: a value long enough for several eight-byte words, and more\r\n"
                   "!#$%&'*+-.^_`|~09AZaz: tokens\r\n"
                   "\r\n");
    CHECK_EQ_INT(resp.nheaders, 6);
    CHECK(slice_eq(resp.headers[0].value, "no-space"));
    CHECK(slice_eq(resp.headers[1].value, "tabs\tinside"));
    CHECK(slice_eq(resp.headers[2].value, "caf\xc3\xa9"));
    CHECK(slice_eq(resp.headers[3].value, ""));
    CHECK(slice_eq(resp.headers[4].value,
                   "a value long enough for several eight-byte words, and more"));
    CHECK(slice_eq(resp.headers[5].name, "!#$%&'*+-.^_`|~09AZaz"));
}

static void test_header_count_limit(void)
{
    char buf[4096];
    size_t n;
    int i;

    n = (size_t)snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < PT_HTTP1_MAX_HEADERS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "H%d: %d\r\n", i, i);
    snprintf(buf + n, sizeof(buf) - n, "\r\n");
    CHECK_EQ_INT(parse(buf), strlen(buf));
    CHECK_EQ_INT(resp.nheaders, PT_HTTP1_MAX_HEADERS);
    CHECK(slice_eq(resp.headers[PT_HTTP1_MAX_HEADERS - 1].name, "H63"));

    snprintf(buf + n, sizeof(buf) - n, "One-More: x\r\n\r\n");
    CHECK_EQ_INT(parse(buf), PT_EPROTO);
}

/* ---- Size limit ---- */

static void test_too_big(void)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    size_t head = strlen(r) - 3;
    char big[600];

    /* Exactly enough room, with or without body bytes after it. */
    CHECK_EQ_INT(pt_http1_parse_response(r, head, head, &resp), head);
    CHECK_EQ_INT(pt_http1_parse_response(r, strlen(r), head, &resp), head);
    CHECK_EQ_INT(pt_http1_parse_response(r, strlen(r), head + 1, &resp), head);
    /* One byte short: whether or not more bytes have arrived, the head cannot fit. */
    CHECK_EQ_INT(pt_http1_parse_response(r, head - 1, head - 1, &resp), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_response(r, strlen(r), head - 1, &resp), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_response(r, head - 1, head, &resp), 0);
    CHECK_EQ_INT(pt_http1_parse_response(r, 10, 10, &resp), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_response(r, 1, 0, &resp), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_response(r, 0, 0, &resp), PT_ETOOBIG);

    /* An endless header: too big at the limit, not before. */
    memset(big, 'a', sizeof(big));
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    CHECK_EQ_INT(pt_http1_parse_response(big, sizeof(big), 512, &resp), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_response(big, 511, 512, &resp), 0);
    /* A malformed head inside the window is malformed, not too big. */
    big[100] = '\x01';
    CHECK_EQ_INT(pt_http1_parse_response(big, sizeof(big), 512, &resp), PT_EPROTO);
    /* ...but one beyond the window is never looked at. */
    CHECK_EQ_INT(pt_http1_parse_response(big, sizeof(big), 64, &resp), PT_ETOOBIG);
}

/* ---- Splits ---- */

/* A chunked head and its body arriving in two pieces at every split point: the head is found
 * as soon as its last byte arrives and never earlier. */
static void test_every_split(void)
{
    static const char r[] = "HTTP/1.1 200 OK\r\n"
                            "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
                            "Transfer-Encoding: chunked\r\n"
                            "Connection: keep-alive\r\n"
                            "\r\n"
                            "5\r\nhello\r\n0\r\n\r\n";
    size_t head = strlen(r) - strlen("5\r\nhello\r\n0\r\n\r\n"), i;
    int wrong = 0, rc;

    for (i = 0; i <= strlen(r); i++) {
        rc = parse_n(r, i);
        wrong += i < head ? rc != 0 : rc != (int)head;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(resp.chunked);
    CHECK(resp.keep_alive);
    CHECK_EQ_INT(resp.nheaders, 3);
}

/* The same response with each of its bytes in turn replaced by a NUL: never accepted. */
static void test_nul_anywhere(void)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\n";
    char buf[sizeof(r)];
    size_t i;
    int accepted = 0;

    for (i = 0; i < sizeof(r) - 1; i++) {
        memcpy(buf, r, sizeof(r));
        buf[i] = '\0';
        accepted += parse_n(buf, sizeof(r) - 1) > 0;
    }
    CHECK_EQ_INT(accepted, 0);
}

int main(void)
{
    RUN(test_simple_200);
    RUN(test_body_not_consumed);
    RUN(test_reason_forms);
    RUN(test_status_range);
    RUN(test_status_line_errors);
    RUN(test_early_errors);
    RUN(test_versions);
    RUN(test_line_endings);
    RUN(test_interim_1xx);
    RUN(test_no_content);
    RUN(test_chunked);
    RUN(test_content_length);
    RUN(test_keep_alive);
    RUN(test_header_errors);
    RUN(test_header_values);
    RUN(test_header_count_limit);
    RUN(test_too_big);
    RUN(test_every_split);
    RUN(test_nul_anywhere);
    return harness_finish("test_http1_response");
}
