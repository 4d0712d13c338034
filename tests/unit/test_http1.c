/* Unit tests for hub/http1.c: request heads (RFC 9112 sections 2-5, RFC 9110 fields), the
 * chunked decoder fed whole, byte by byte and in random splits, and percent-decoding. */
#include "http1.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "portico/err.h"

#define MAX_HEAD 8192

static struct pt_http1_req req;

static int parse(const char *s)
{
    return pt_http1_parse_request(s, strlen(s), MAX_HEAD, &req);
}

static int slice_eq(struct pt_slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* The request must parse in full, and every proper prefix must ask for more bytes. */
static void check_complete(const char *s)
{
    size_t n = strlen(s), i;
    int more = 0;

    for (i = 0; i < n; i++)
        more += pt_http1_parse_request(s, i, MAX_HEAD, &req) == 0;
    CHECK_EQ_INT(more, n);
    CHECK_EQ_INT(parse(s), n);
}

/* ---- Request heads ---- */

static void test_simple_get(void)
{
    static const char r[] = "GET /stage/items?id=7&x=%20 HTTP/1.1\r\n"
                            "Host: api.example.com\r\n"
                            "X-Spaces:   padded value \t \r\n"
                            "Empty:\r\n"
                            "\r\n";

    check_complete(r);
    CHECK(slice_eq(req.method, "GET"));
    CHECK(slice_eq(req.target, "/stage/items?id=7&x=%20"));
    CHECK(slice_eq(req.path, "/stage/items"));
    CHECK(slice_eq(req.query, "id=7&x=%20"));
    CHECK_EQ_INT(req.minor_version, 1);
    CHECK_EQ_INT(req.nheaders, 3);
    CHECK(slice_eq(req.headers[0].name, "Host"));
    CHECK(slice_eq(req.headers[0].value, "api.example.com"));
    CHECK(slice_eq(req.headers[1].value, "padded value"));
    CHECK(slice_eq(req.headers[2].value, ""));
    CHECK_EQ_INT(req.content_length, -1);
    CHECK(!req.chunked);
    CHECK(req.keep_alive);
    CHECK(!req.upgrade_websocket);
}

static void test_following_bytes_not_consumed(void)
{
    static const char r[] = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET /";

    CHECK_EQ_INT(parse(r), strlen(r) - strlen("bodyGET /"));
    CHECK_EQ_INT(req.content_length, 4);
    CHECK(slice_eq(req.query, ""));
}

static void test_line_endings(void)
{
    static const char lf[] = "GET / HTTP/1.1\nHost: h\n\n";
    static const char lead[] = "\r\n\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n";

    check_complete(lf);
    CHECK(slice_eq(req.headers[0].value, "h"));
    check_complete(lead);
    CHECK(slice_eq(req.path, "/a"));
    /* A bare CR is a control character, wherever it is. */
    CHECK_EQ_INT(parse("GET / HTTP/1.1\rHost: h\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: h\rx\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: h\r\n\rx"), PT_EPROTO);
    CHECK_EQ_INT(parse("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), PT_EPROTO);
}

static void test_request_line_errors(void)
{
    static const char *const bad[] = {
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",         /* two spaces */
        "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",         /* trailing space */
        " GET / HTTP/1.1\r\nHost: h\r\n\r\n",         /* leading space */
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",          /* not a token */
        "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",         /* tab as separator */
        "GET x HTTP/1.1\r\nHost: h\r\n\r\n",          /* not origin-form */
        "GET * HTTP/1.1\r\nHost: h\r\n\r\n",          /* '*' is for OPTIONS only */
        "GET http://h/p HTTP/1.1\r\nHost: h\r\n\r\n", /* absolute-form */
        "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",       /* space in target */
        "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n",      /* control in target */
        "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",      /* DEL in target */
        "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",  /* raw non-ASCII in target */
        "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
        "GET / http/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1x\r\nHost: h\r\n\r\n",
        "GET / HTTP/1\r\nHost: h\r\n\r\n",
        "GET /\r\n\r\n",                    /* HTTP/0.9 */
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", /* the HTTP/2 preface */
        " / HTTP/1.1\r\nHost: h\r\n\r\n",   /* empty method */
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(bad[i]);

        if (rc != PT_EPROTO)
            fprintf(stderr, "bad request line %zu accepted (%d)\n", i, rc);
        CHECK_EQ_INT(rc, PT_EPROTO);
    }
    /* Errors show before the head is complete. */
    CHECK_EQ_INT(parse("GET / HTTX"), PT_EPROTO);
    CHECK_EQ_INT(parse("GET x"), PT_EPROTO);
    CHECK_EQ_INT(parse("GE{"), PT_EPROTO);
}

static void test_request_line_forms(void)
{
    check_complete("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(slice_eq(req.target, "*"));
    CHECK(slice_eq(req.path, "*"));
    check_complete("GET /?only=query HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(slice_eq(req.path, "/"));
    CHECK(slice_eq(req.query, "only=query"));
    check_complete("GET /x? HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(slice_eq(req.path, "/x"));
    CHECK(slice_eq(req.query, ""));
    check_complete("GET /a?b?c HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(slice_eq(req.path, "/a"));
    CHECK(slice_eq(req.query, "b?c"));
    /* Any token is a method; the router decides what it supports. */
    check_complete("M-SEARCH /%2F%zz HTTP/1.0\r\n\r\n");
    CHECK(slice_eq(req.method, "M-SEARCH"));
    CHECK(slice_eq(req.path, "/%2F%zz")); /* kept as sent */
    CHECK_EQ_INT(req.minor_version, 0);
    CHECK(!req.keep_alive);
}

static void test_header_errors(void)
{
    static const char *const bad[] = {
        "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",  /* obs-fold */
        "GET / HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n", /* obs-fold with tab */
        "GET / HTTP/1.1\r\n Host: h\r\n\r\n",            /* whitespace before first */
        "GET / HTTP/1.1\r\nHost : h\r\n\r\n",            /* space before colon */
        "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost h\r\n\r\n",                              /* no colon */
        "GET / HTTP/1.1\r\n: h\r\nHost: h\r\n\r\n",                      /* empty name */
        "GET / HTTP/1.1\r\nHo(st: h\r\n\r\n",                            /* not a token */
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n",                /* control in value */
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n",                /* DEL in value */
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b[0m\r\n\r\n",              /* escape in value */
        "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdef\x0b!\r\n\r\n", /* after 8-byte run */
        "GET / HTTP/1.1\r\n\r\n",                                        /* 1.1 without Host */
        "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",                  /* two Hosts */
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(bad[i]);

        if (rc != PT_EPROTO)
            fprintf(stderr, "bad header %zu accepted (%d)\n", i, rc);
        CHECK_EQ_INT(rc, PT_EPROTO);
    }
    /* A NUL inside a value, which strlen() would hide. */
    {
        static const char nul[] = "GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n";

        CHECK_EQ_INT(pt_http1_parse_request(nul, sizeof(nul) - 1, MAX_HEAD, &req), PT_EPROTO);
    }
}

static void test_header_values(void)
{
    check_complete("GET / HTTP/1.1\r\nHost: h\r\nX: \xc3\xa9t\xc3\xa9 \x80\xff\r\n"
                   "Y: a\tb\r\nZ:\t\t\r\n\r\n");
    CHECK(slice_eq(req.headers[1].value, "\xc3\xa9t\xc3\xa9 \x80\xff")); /* obs-text */
    CHECK(slice_eq(req.headers[2].value, "a\tb"));
    CHECK(slice_eq(req.headers[3].value, ""));
}

/* Every byte as a one-character header name: exactly RFC 9110's tchar are accepted. */
static void test_tchar_names(void)
{
    static const char tchars[] = "!#$%&'*+-.^_`|~0123456789"
                                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char r[64];
    int c, wrong = 0;

    for (c = 0; c < 256; c++) {
        int want, rc, n;

        n = snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: h\r\n%c: v\r\n\r\n", c);
        rc = pt_http1_parse_request(r, (size_t)n, MAX_HEAD, &req);
        want = c != 0 && strchr(tchars, c) != NULL;
        if (c == '\r' || c == '\n')
            continue; /* that line is the end of the head */
        wrong += want ? rc != n : rc != PT_EPROTO;
    }
    CHECK_EQ_INT(wrong, 0);
}

static void test_header_count_limit(void)
{
    char r[4096];
    size_t n;
    int i;

    n = (size_t)snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: h\r\n");
    for (i = 1; i < PT_HTTP1_MAX_HEADERS; i++)
        n += (size_t)snprintf(r + n, sizeof(r) - n, "X-%d: %d\r\n", i, i);
    strcpy(r + n, "\r\n");
    CHECK_EQ_INT(parse(r), n + 2);
    CHECK_EQ_INT(req.nheaders, PT_HTTP1_MAX_HEADERS);
    strcpy(r + n, "One-Too-Many: x\r\n\r\n");
    CHECK_EQ_INT(parse(r), PT_EPROTO);
}

static void test_size_limit(void)
{
    static const char r[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t n = strlen(r);

    /* A head of exactly <max> bytes fits; one byte less of room does not. */
    CHECK_EQ_INT(pt_http1_parse_request(r, n, n, &req), n);
    CHECK_EQ_INT(pt_http1_parse_request(r, n, n - 1, &req), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_request(r, n - 1, n - 1, &req), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_request(r, n - 2, n - 1, &req), 0);
    CHECK_EQ_INT(pt_http1_parse_request(r, 0, 0, &req), PT_ETOOBIG);
    CHECK_EQ_INT(pt_http1_parse_request(r, 0, 100, &req), 0);
    /* A malformed line inside the window is still reported as malformed. */
    CHECK_EQ_INT(pt_http1_parse_request("GET / HTTP/1.1\r\nBad Name: x\r\n", 29, 29, &req),
                 PT_EPROTO);
}

static void test_content_length(void)
{
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") > 0, 1);
    CHECK_EQ_INT(req.content_length, 0);
    CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 999999999999999999\r\n\r\n") > 0);
    CHECK(req.content_length == 999999999999999999LL);
    CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nCONTENT-LENGTH: 005\r\n\r\n") >
          0);
    CHECK_EQ_INT(req.content_length, 5);

    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000000000000\r\n\r\n"),
                 PT_EPROTO); /* 19 digits */
    CHECK_EQ_INT(
        parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
        PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"), PT_EPROTO);
}

static void test_transfer_encoding(void)
{
    CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
    CHECK(req.chunked);
    CHECK_EQ_INT(req.content_length, -1);
    CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding:  ChunKed , \r\n\r\n") > 0);
    CHECK(req.chunked);

    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Length: 3\r\n\r\n"),
                 PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"),
                 PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
                 PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
                 PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"),
                 PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"),
                 PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"), PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n"),
                 PT_EPROTO);
    CHECK_EQ_INT(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), PT_EPROTO);
}

static void test_keep_alive(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    CHECK(req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") > 0);
    CHECK(!req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n") > 0);
    CHECK(!req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n"
                "Connection: close\r\n\r\n") > 0);
    CHECK(!req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n") > 0);
    CHECK(req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0);
    CHECK(!req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
    CHECK(req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") > 0);
    CHECK(!req.keep_alive);
}

static void test_upgrade_websocket(void)
{
    static const char *const yes[] = {
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: h\r\nupgrade: WebSocket\r\nconnection: keep-alive, "
        "upgrade\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: UPGRADE\r\nUpgrade: h2c, websocket\r\n\r\n",
        ("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: x\r\nUpgrade: websocket\r\n"
         "Connection: upgrade\r\n\r\n"),
    };
    static const char *const no[] = {
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websockets\r\nConnection: upgrade\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgraded\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket/13\r\nConnection: upgrade\r\n\r\n",
        /* RFC 9110 section 7.8: Upgrade is ignored in a 1.0 request. */
        "GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    };
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        CHECK(parse(yes[i]) > 0);
        CHECK(req.upgrade_websocket);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        CHECK(parse(no[i]) > 0);
        CHECK(!req.upgrade_websocket);
    }
}

static void test_header_lookup(void)
{
    const struct pt_slice *v;

    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX-Dup: one\r\nx-dup: two\r\n"
                "Sec-WebSocket-Key: k\r\n\r\n") > 0);
    v = pt_http1_header(&req, "x-DUP");
    CHECK(v != NULL && slice_eq(*v, "one"));
    v = pt_http1_header(&req, "sec-websocket-key");
    CHECK(v != NULL && slice_eq(*v, "k"));
    CHECK(pt_http1_header(&req, "x-du") == NULL);
    CHECK(pt_http1_header(&req, "x-dupe") == NULL);
    CHECK(pt_http1_header(&req, "") == NULL);
}

/* ---- Chunked bodies ---- */

struct decoded {
    int rc;
    char *out; /* malloc'd by decode_pieces(), freed by the caller */
    size_t out_len;
    size_t consumed; /* input bytes taken in total, when rc == 1 */
};

/* Feeds <in> to a fresh decoder in pieces whose sizes come from <next_piece>, as a socket would
 * deliver it, and collects the output. */
static struct decoded decode_pieces(const char *in, size_t n, size_t (*next_piece)(size_t left))
{
    struct pt_http1_chunked st = {0};
    struct decoded d = {0};
    char *piece = malloc(n + 1);
    size_t off = 0;

    d.out = malloc(n + 1);
    while (off < n) {
        size_t k = next_piece(n - off), len = k, used = 0;

        memcpy(piece, in + off, k);
        d.rc = pt_http1_chunked_decode(&st, piece, &len, &used);
        memcpy(d.out + d.out_len, piece, len);
        d.out_len += len;
        if (d.rc != 0) {
            d.consumed = off + used;
            break;
        }
        off += k;
    }
    free(piece);
    return d;
}

/* Nonzero when two runs disagree. */
static int differ(const struct decoded *a, const struct decoded *b)
{
    if (a->rc != b->rc)
        return 1;
    if (a->rc != 1)
        return 0;
    return a->out_len != b->out_len || memcmp(a->out, b->out, a->out_len) != 0 ||
           a->consumed != b->consumed;
}

static size_t piece_all(size_t left)
{
    return left;
}

static size_t piece_one(size_t left)
{
    return 1;
}

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t piece_random(size_t left)
{
    size_t k = 1 + rng() % 7;

    return k < left ? k : left;
}

static size_t split_at;

static size_t piece_split(size_t left)
{
    size_t k = split_at;

    split_at = (size_t)-1;
    return k < left ? k : left;
}

/* Checks one body fed whole, byte by byte, at two-way splits and in random pieces. */
static void check_body(const char *in, size_t n, int want_rc, const char *want_out,
                       size_t want_consumed)
{
    struct decoded d, e;
    size_t s, step = n > 600 ? 97 : 1;
    int round, wrong = 0;

    d = decode_pieces(in, n, piece_all);
    CHECK_EQ_INT(d.rc, want_rc);
    if (want_rc == 1) {
        CHECK_EQ_INT(d.out_len, strlen(want_out));
        CHECK_EQ_INT(memcmp(d.out, want_out, d.out_len), 0);
        CHECK_EQ_INT(d.consumed, want_consumed);
    }
    for (round = 0; round < 40; round++) {
        e = decode_pieces(in, n, round == 0 ? piece_one : piece_random);
        wrong += differ(&d, &e);
        free(e.out);
    }
    for (s = 0; s <= n; s += step) {
        split_at = s;
        e = decode_pieces(in, n, piece_split);
        wrong += differ(&d, &e);
        free(e.out);
    }
    free(d.out);
    CHECK_EQ_INT(wrong, 0);
}

#define BODY(s) s, sizeof(s) - 1

static void test_chunked_basic(void)
{
    static const char b[] = "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n";

    check_body(BODY(b), 1, "Wikipedia in\r\n\r\nchunks.", sizeof(b) - 1);
    check_body(BODY("0\r\n\r\n"), 1, "", 5);
    check_body(BODY("a\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), 1, "0123456789", 20);
    check_body(BODY("00003\r\nabc\r\n000\r\n\r\n"), 1, "abc", 19);
}

static void test_chunked_extensions_and_trailers(void)
{
    check_body(BODY("3;name=value\r\nabc\r\n0;last\r\n\r\n"), 1, "abc", 29);
    check_body(BODY("3 ;q=\"x y\"\r\nabc\r\n0\r\n\r\n"), 1, "abc", 22);
    check_body(BODY("3\r\nabc\r\n0\r\nChecksum: 1234\r\nX: \r\n\r\nNEXT"), 1, "abc", 34);
}

static void test_chunked_errors(void)
{
    static const char *const bad[] = {
        "\r\n",                        /* no size */
        "g\r\n",                       /* not hex */
        "-1\r\n",                      /* sign */
        "0x3\r\nabc\r\n0\r\n\r\n",     /* 0x prefix */
        "3\r\nabcd\r\n0\r\n\r\n",      /* data longer than announced */
        "3\nabc\r\n0\r\n\r\n",         /* bare LF after the size */
        "3\r\nabc\n0\r\n\r\n",         /* bare LF after the data */
        "3\r\nabc\r\n0\r\n\n",         /* bare LF at the end */
        "3 \r\nabc\r\n0\r\n\r\n",      /* whitespace not followed by ';' */
        "3;a\x01\r\nabc\r\n0\r\n\r\n", /* control in an extension */
        "3\rxabc\r\n0\r\n\r\n",        /* CR without LF */
        "0\r\n folded: x\r\n\r\n",     /* trailer starting with whitespace */
        "0\r\nNo colon\r\n\r\n",
        "0\r\nX: a\x7f\r\n\r\n",
        "4000000000000001\r\n", /* beyond 2^62 */
        "10000000000000000\r\n",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_body(bad[i], strlen(bad[i]), PT_EPROTO, NULL, 0);
    /* 2^62 itself is allowed, so it waits for data. */
    check_body(BODY("4000000000000000\r\nabc"), 0, NULL, 0);
}

static void test_chunked_meta_limit(void)
{
    static char b[20000];
    size_t n;

    /* A size line of 8 KiB of leading zeros is refused... */
    memset(b, '0', 9000);
    memcpy(b + 9000, "1\r\nx\r\n0\r\n\r\n", 11);
    check_body(b, 9011, PT_EPROTO, NULL, 0);
    /* ...and so are endless trailers, though each line is short. */
    n = (size_t)snprintf(b, sizeof(b), "0\r\n");
    while (n < 9000)
        n += (size_t)snprintf(b + n, sizeof(b) - n, "T: v\r\n");
    memcpy(b + n, "\r\n", 2);
    check_body(b, n + 2, PT_EPROTO, NULL, 0);
    /* Long data is not framing: a 16 KiB chunk is fine. */
    {
        static char big[16384 + 32];
        struct pt_http1_chunked st = {0};
        size_t len, used;

        n = (size_t)snprintf(big, sizeof(big), "4000\r\n");
        memset(big + n, 'd', 16384);
        n += 16384;
        memcpy(big + n, "\r\n0\r\n\r\n", 7);
        len = n + 7;
        CHECK_EQ_INT(pt_http1_chunked_decode(&st, big, &len, &used), 1);
        CHECK_EQ_INT(len, 16384);
        CHECK_EQ_INT(used, n + 7);
    }
}

static void test_chunked_state_after_end(void)
{
    struct pt_http1_chunked st = {0};
    char b[] = "1\r\nz\r\n0\r\n\r\n", more[] = "GET";
    size_t len = sizeof(b) - 1, used = 0;

    CHECK_EQ_INT(pt_http1_chunked_decode(&st, b, &len, &used), 1);
    CHECK_EQ_INT(len, 1);
    CHECK_EQ_INT(b[0], 'z');
    len = 3;
    CHECK_EQ_INT(pt_http1_chunked_decode(&st, more, &len, &used), 1);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(used, 0);
    CHECK_EQ_INT(memcmp(more, "GET", 3), 0);

    /* An error is sticky. */
    memset(&st, 0, sizeof(st));
    len = 1;
    CHECK_EQ_INT(pt_http1_chunked_decode(&st, more, &len, &used), PT_EPROTO);
    len = 0;
    CHECK_EQ_INT(pt_http1_chunked_decode(&st, more, &len, &used), PT_EPROTO);

    /* Empty input asks for more and changes nothing. */
    memset(&st, 0, sizeof(st));
    len = 0;
    CHECK_EQ_INT(pt_http1_chunked_decode(&st, b, &len, &used), 0);
    CHECK_EQ_INT(used, 0);
}

/* ---- Percent-decoding ---- */

static void test_percent_decode(void)
{
    char out[64], inplace[] = "a%2Fb%20c";
    int n;

    n = pt_http1_percent_decode("/a%2fb%2Fc%7E", 13, out, false);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_STR(out, "/a/b/c~");
    n = pt_http1_percent_decode("a+b%2B", 6, out, true);
    CHECK_EQ_STR(out, "a b+");
    CHECK_EQ_INT(n, 4);
    n = pt_http1_percent_decode("a+b", 3, out, false);
    CHECK_EQ_STR(out, "a+b");
    n = pt_http1_percent_decode("", 0, out, false);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_STR(out, "");
    /* Only <n> bytes are read. */
    n = pt_http1_percent_decode("ab%41cd", 6, out, false);
    CHECK_EQ_STR(out, "abAc");
    CHECK_EQ_INT(n, 4);
    /* %00 decodes: the caller decides whether a NUL is acceptable. */
    n = pt_http1_percent_decode("x%00y", 5, out, false);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(memcmp(out, "x\0y", 4), 0);
    /* In place. */
    n = pt_http1_percent_decode(inplace, strlen(inplace), inplace, false);
    CHECK_EQ_STR(inplace, "a/b c");

    CHECK_EQ_INT(pt_http1_percent_decode("%zz", 3, out, false), PT_EINVAL);
    CHECK_EQ_INT(pt_http1_percent_decode("%4", 2, out, false), PT_EINVAL);
    CHECK_EQ_INT(pt_http1_percent_decode("ab%", 3, out, false), PT_EINVAL);
    CHECK_EQ_INT(pt_http1_percent_decode("%4g", 3, out, false), PT_EINVAL);
    CHECK_EQ_INT(pt_http1_percent_decode("%g4", 3, out, false), PT_EINVAL);
    /* A truncated escape even when more bytes follow past <n>. */
    CHECK_EQ_INT(pt_http1_percent_decode("%41", 2, out, false), PT_EINVAL);
}

int main(void)
{
    RUN(test_simple_get);
    RUN(test_following_bytes_not_consumed);
    RUN(test_line_endings);
    RUN(test_request_line_errors);
    RUN(test_request_line_forms);
    RUN(test_header_errors);
    RUN(test_header_values);
    RUN(test_tchar_names);
    RUN(test_header_count_limit);
    RUN(test_size_limit);
    RUN(test_content_length);
    RUN(test_transfer_encoding);
    RUN(test_keep_alive);
    RUN(test_upgrade_websocket);
    RUN(test_header_lookup);
    RUN(test_chunked_basic);
    RUN(test_chunked_extensions_and_trailers);
    RUN(test_chunked_errors);
    RUN(test_chunked_meta_limit);
    RUN(test_chunked_state_after_end);
    RUN(test_percent_decode);
    return harness_finish("test_http1");
}
