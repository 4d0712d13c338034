/* HTTP/1.1 request heads (RFC 9112 sections 2-5) and chunked bodies (section 7.1), parsed in
 * place in one pass with no allocation. It is strict wherever leniency would let a proxy in front
 * of us frame a message differently: obs-fold, bare CR, whitespace before ':', conflicting
 * lengths, unknown transfer codings and bare LF inside chunked framing are all errors. */
#include "http1.h"

#include <limits.h>
#include <string.h>

#include "portico/err.h"

/* Internal result of the head parser when the window ends inside the head. */
#define INCOMPLETE 1

/* Bytes of framing (one chunk-size line with its extensions, or the whole trailer section) that
 * the chunked decoder accepts before it calls the body malformed. */
#define CHUNK_META_MAX 8192

/* Largest chunk size accepted (the header's contract). */
#define CHUNK_SIZE_MAX (1ULL << 62)

/* ---- Byte classes ---- */

/* RFC 9110 section 5.6.2 tchar. */
/* clang-format off */
static const unsigned char tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 20  !"#$%&'()*+,-./ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 30 0-9:;<=>? */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 @A-O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 50 P-Z[\]^_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 `a-o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 70 p-z{|}~DEL */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* a0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* b0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* c0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* d0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* e0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* f0 */
};
/* clang-format on */

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when some byte of <x> is below <n> (n <= 128). Exact as a yes/no answer: a borrow can
 * only start at a byte that really is below n. */
static inline uint64_t swar_has_below(uint64_t x, unsigned n)
{
    return (x - ONES * n) & ~x & HIGHS;
}

/* Nonzero when some byte of <x> equals <c>. */
static inline uint64_t swar_has_byte(uint64_t x, unsigned char c)
{
    uint64_t y = x ^ (ONES * c);

    return (y - ONES) & ~y & HIGHS;
}

static inline uint64_t load64(const char *p)
{
    uint64_t x;

    memcpy(&x, p, sizeof(x));
    return x;
}

/* First byte at or after <p> that may not appear in a field value (a control character or DEL;
 * tab, CR and LF are among them for the caller to sort out), or <end>. */
static const char *scan_field_value(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t x = load64(p);

        if ((swar_has_below(x, 0x20) | swar_has_byte(x, 0x7f)) != 0)
            break;
        p += 8;
    }
    while (p < end && (unsigned char)*p >= 0x20 && *p != 0x7f)
        p++;
    return p;
}

/* First byte at or after <p> that may not appear in a request target (anything outside
 * 0x21..0x7e: the SP that ends it, controls, DEL and raw non-ASCII), or <end>. */
static const char *scan_target(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t x = load64(p);

        if ((swar_has_below(x, 0x21) | swar_has_byte(x, 0x7f) | (x & HIGHS)) != 0)
            break;
        p += 8;
    }
    while (p < end && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
        p++;
    return p;
}

/* Parses a non-empty token at *<pp> ending in <delim> into <out> and leaves *<pp> on the
 * delimiter: the method before its SP, a field name before its colon (RFC 9110 section 5.6.2). */
static int parse_token(const char **pp, const char *end, char delim, struct pt_slice *out)
{
    const char *p = *pp, *start = p;

    while (p < end && tchar[(unsigned char)*p])
        p++;
    if (p == end)
        return INCOMPLETE;
    if (*p != delim || p == start)
        return PT_EPROTO;
    out->p = start;
    out->len = (size_t)(p - start);
    *pp = p;
    return 0;
}

static inline int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitive comparison of <s> with the <n> bytes at <t>. */
static bool slice_ieq(const struct pt_slice *s, const char *t, size_t n)
{
    size_t i;

    if (s->len != n)
        return false;
    for (i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s->p[i]) != ascii_lower((unsigned char)t[i]))
            return false;
    return true;
}

#define SLICE_IS(s, lit) slice_ieq((s), (lit), sizeof(lit) - 1)

/* Takes the next element of a comma-separated list (RFC 9110 section 5.6.1) from *<pp>, with
 * surrounding whitespace trimmed. Empty elements are returned too; callers skip them. Returns
 * false when the list is used up. */
static bool next_list_element(const char **pp, const char *end, struct pt_slice *el)
{
    const char *p = *pp, *q, *e;

    if (p == NULL)
        return false;
    q = memchr(p, ',', (size_t)(end - p));
    e = q != NULL ? q : end;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    el->p = p;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    el->len = (size_t)(e - p);
    *pp = q != NULL ? q + 1 : NULL;
    return true;
}

/* ---- Request line ---- */

#define VERSION_PREFIX     "HTTP/1."
#define VERSION_PREFIX_LEN (sizeof(VERSION_PREFIX) - 1)
#define VERSION_LEN        (VERSION_PREFIX_LEN + 1)

/* Checks the bytes of "HTTP/1.x" that are present: a mismatch is an error as soon as it shows. */
static int parse_version(const char *p, const char *end, int *minor)
{
    size_t avail = (size_t)(end - p);

    if (avail < VERSION_LEN) {
        if (memcmp(p, VERSION_PREFIX, avail < VERSION_PREFIX_LEN ? avail : VERSION_PREFIX_LEN))
            return PT_EPROTO;
        return INCOMPLETE;
    }
    if (memcmp(p, VERSION_PREFIX, VERSION_PREFIX_LEN) != 0)
        return PT_EPROTO;
    /* Only 1.0 and 1.1 exist; other minors are refused rather than guessed at. */
    if (p[VERSION_PREFIX_LEN] != '0' && p[VERSION_PREFIX_LEN] != '1')
        return PT_EPROTO;
    *minor = p[VERSION_PREFIX_LEN] - '0';
    return 0;
}

/* Consumes a line ending (CRLF or bare LF) at *<pp>. */
static int parse_eol(const char **pp, const char *end)
{
    const char *p = *pp;

    if (p == end)
        return INCOMPLETE;
    if (*p == '\n') {
        *pp = p + 1;
        return 0;
    }
    if (*p != '\r')
        return PT_EPROTO;
    if (p + 1 == end)
        return INCOMPLETE;
    if (p[1] != '\n')
        return PT_EPROTO;
    *pp = p + 2;
    return 0;
}

/* Sets target, path and query. Origin-form, or '*' for OPTIONS (RFC 9112 section 3.2). The
 * absolute-form is refused: the request has no field for its authority, which would have to
 * replace Host (section 3.2.2), so accepting only its path would route by the wrong host. */
static int split_target(struct pt_http1_req *req)
{
    const char *t = req->target.p, *q;
    size_t n = req->target.len;

    if (n == 1 && t[0] == '*') {
        if (!SLICE_IS(&req->method, "OPTIONS"))
            return PT_EPROTO;
        req->path = req->target;
        return 0;
    }
    if (t[0] != '/')
        return PT_EPROTO;
    q = memchr(t, '?', n);
    if (q == NULL) {
        req->path = req->target;
        return 0;
    }
    req->path.p = t;
    req->path.len = (size_t)(q - t);
    req->query.p = q + 1;
    req->query.len = n - req->path.len - 1;
    return 0;
}

static int parse_request_line(const char **pp, const char *end, struct pt_http1_req *req)
{
    const char *p = *pp, *start;
    int rc;

    /* RFC 9112 section 2.2: empty lines before the request line are ignored (clients send a
     * stray CRLF after a POST body). */
    while (p < end && (*p == '\r' || *p == '\n')) {
        if ((rc = parse_eol(&p, end)) != 0)
            return rc;
    }

    if ((rc = parse_token(&p, end, ' ', &req->method)) != 0)
        return rc;

    /* Only origin-form and '*' are accepted: refuse anything else before it is complete. */
    start = ++p;
    if (p < end && *p != '/' && *p != '*')
        return PT_EPROTO;
    p = scan_target(p, end);
    if (p == end)
        return INCOMPLETE;
    if (*p != ' ' || p == start)
        return PT_EPROTO;
    req->target.p = start;
    req->target.len = (size_t)(p - start);
    if ((rc = split_target(req)) != 0)
        return rc;

    p++;
    if ((rc = parse_version(p, end, &req->minor_version)) != 0)
        return rc;
    p += VERSION_LEN;
    if ((rc = parse_eol(&p, end)) != 0)
        return rc;
    *pp = p;
    return 0;
}

/* ---- Header fields ---- */

/* What the header fields say, gathered while they are parsed. */
struct framing {
    unsigned hosts;    /* Host fields seen */
    bool te_seen;      /* a Transfer-Encoding field was present */
    bool conn_close;   /* Connection: close */
    bool conn_keep;    /* Connection: keep-alive */
    bool conn_upgrade; /* Connection: upgrade */
    bool upgrade_ws;   /* Upgrade lists websocket */
};

static int parse_content_length(const struct pt_slice *v, struct pt_http1_req *req)
{
    long long n = 0;
    size_t i;

    /* 18 digits cannot overflow a long long. A list ("5, 5") is refused, not merged. */
    if (v->len == 0 || v->len > 18)
        return PT_EPROTO;
    for (i = 0; i < v->len; i++) {
        if (v->p[i] < '0' || v->p[i] > '9')
            return PT_EPROTO;
        n = n * 10 + (v->p[i] - '0');
    }
    if (req->content_length >= 0 && req->content_length != n)
        return PT_EPROTO;
    req->content_length = n;
    return 0;
}

/* Only "chunked", once, is understood. Any other coding ("gzip, chunked" included) would reach
 * the backend still encoded, so it is refused (RFC 9112 section 6.1 allows 501; we say 400). */
static int parse_transfer_encoding(const struct pt_slice *v, struct pt_http1_req *req,
                                   struct framing *fr)
{
    const char *p = v->p, *end = v->p + v->len;
    struct pt_slice el;

    fr->te_seen = true;
    while (next_list_element(&p, end, &el)) {
        if (el.len == 0)
            continue;
        if (req->chunked || !SLICE_IS(&el, "chunked"))
            return PT_EPROTO;
        req->chunked = true;
    }
    return 0;
}

static void parse_connection(const struct pt_slice *v, struct framing *fr)
{
    const char *p = v->p, *end = v->p + v->len;
    struct pt_slice el;

    while (next_list_element(&p, end, &el)) {
        if (SLICE_IS(&el, "close"))
            fr->conn_close = true;
        else if (SLICE_IS(&el, "keep-alive"))
            fr->conn_keep = true;
        else if (SLICE_IS(&el, "upgrade"))
            fr->conn_upgrade = true;
    }
}

static void parse_upgrade(const struct pt_slice *v, struct framing *fr)
{
    const char *p = v->p, *end = v->p + v->len;
    struct pt_slice el;

    while (next_list_element(&p, end, &el)) {
        if (SLICE_IS(&el, "websocket"))
            fr->upgrade_ws = true;
    }
}

/* Looks at the fields that decide framing and connection handling; the rest pass untouched.
 * Switching on the name length first keeps the common case to one compare. */
static int note_header(const struct pt_http1_header *h, struct pt_http1_req *req,
                       struct framing *fr)
{
    switch (h->name.len) {
    case 4:
        if (SLICE_IS(&h->name, "host"))
            fr->hosts++;
        break;
    case 7:
        if (SLICE_IS(&h->name, "upgrade"))
            parse_upgrade(&h->value, fr);
        break;
    case 10:
        if (SLICE_IS(&h->name, "connection"))
            parse_connection(&h->value, fr);
        break;
    case 14:
        if (SLICE_IS(&h->name, "content-length"))
            return parse_content_length(&h->value, req);
        break;
    case 17:
        if (SLICE_IS(&h->name, "transfer-encoding"))
            return parse_transfer_encoding(&h->value, req, fr);
        break;
    }
    return 0;
}

/* Parses one field line at *<pp> into <h>. */
static int parse_header_line(const char **pp, const char *end, struct pt_http1_header *h)
{
    const char *p = *pp, *start, *vend;
    int rc;

    /* No whitespace between name and colon (RFC 9112 section 5.1). */
    if ((rc = parse_token(&p, end, ':', &h->name)) != 0)
        return rc;

    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    start = p;
    for (;;) {
        p = scan_field_value(p, end);
        if (p == end)
            return INCOMPLETE;
        if (*p == '\t') {
            p++;
            continue;
        }
        vend = p;
        if (*p == '\n') {
            p++;
            break;
        }
        /* A CR is only allowed as part of CRLF; anything else here is a control character. */
        if (*p != '\r')
            return PT_EPROTO;
        if (p + 1 == end)
            return INCOMPLETE;
        if (p[1] != '\n')
            return PT_EPROTO;
        p += 2;
        break;
    }
    while (vend > start && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
    h->value.p = start;
    h->value.len = (size_t)(vend - start);
    *pp = p;
    return 0;
}

static int parse_headers(const char **pp, const char *end, struct pt_http1_req *req,
                         struct framing *fr)
{
    const char *p = *pp;
    int rc;

    for (;;) {
        if (p == end)
            return INCOMPLETE;
        if (*p == '\r' || *p == '\n')
            break;
        /* A line starting with whitespace is obs-fold, or (first line) an attempt to hide a
         * field from parsers that skip it: both are refused (RFC 9112 sections 2.2, 5.2). */
        if (*p == ' ' || *p == '\t')
            return PT_EPROTO;
        if (req->nheaders == PT_HTTP1_MAX_HEADERS)
            return PT_EPROTO;
        if ((rc = parse_header_line(&p, end, &req->headers[req->nheaders])) != 0)
            return rc;
        if ((rc = note_header(&req->headers[req->nheaders], req, fr)) != 0)
            return rc;
        req->nheaders++;
    }
    if ((rc = parse_eol(&p, end)) != 0)
        return rc;
    *pp = p;
    return 0;
}

/* Combines what the fields said, once the head is complete. */
static int finish_request(struct pt_http1_req *req, const struct framing *fr)
{
    bool v11 = req->minor_version == 1;

    /* RFC 9112 section 3.2: a 1.1 request has exactly one Host; 1.0 may have none. */
    if (fr->hosts > 1 || (v11 && fr->hosts == 0))
        return PT_EPROTO;
    if (fr->te_seen) {
        /* Section 6.1: Transfer-Encoding in a 1.0 request means the framing is faulty. An empty
         * field names no coding at all and is just as unusable. */
        if (!v11 || !req->chunked)
            return PT_EPROTO;
        if (req->content_length >= 0)
            return PT_EPROTO;
    }
    req->keep_alive = !fr->conn_close && (v11 || fr->conn_keep);
    /* RFC 9110 section 7.8: Upgrade in a 1.0 request is ignored. */
    req->upgrade_websocket = v11 && fr->upgrade_ws && fr->conn_upgrade;
    return 0;
}

int pt_http1_parse_request(const char *buf, size_t len, size_t max, struct pt_http1_req *req)
{
    size_t win = len < max ? len : max;
    const char *p = buf, *end;
    struct framing fr = {0};
    int rc;

    /* The head length is returned as an int. */
    if (win > INT_MAX)
        win = INT_MAX;
    end = buf + win;

    req->method.p = req->target.p = req->path.p = req->query.p = buf;
    req->method.len = req->target.len = req->path.len = req->query.len = 0;
    req->minor_version = 0;
    req->nheaders = 0;
    req->content_length = -1;
    req->chunked = false;
    req->keep_alive = false;
    req->upgrade_websocket = false;

    rc = parse_request_line(&p, end, req);
    if (rc == 0)
        rc = parse_headers(&p, end, req, &fr);
    if (rc == 0)
        rc = finish_request(req, &fr);
    if (rc == INCOMPLETE)
        return win < len || len >= max ? PT_ETOOBIG : 0;
    if (rc < 0)
        return rc;
    return (int)(p - buf);
}

const struct pt_slice *pt_http1_header(const struct pt_http1_req *req, const char *name)
{
    size_t i, n = strlen(name);

    for (i = 0; i < req->nheaders; i++)
        if (slice_ieq(&req->headers[i].name, name, n))
            return &req->headers[i].value;
    return NULL;
}

/* ---- Chunked bodies ---- */

/* Decoder states, kept in the low byte of st->state; the bytes above count framing bytes (see
 * CHUNK_META_MAX). A zeroed struct is at CH_SIZE_FIRST. */
enum {
    CH_SIZE_FIRST, /* first hex digit of a chunk size */
    CH_SIZE,       /* more hex digits, or what follows them */
    CH_SIZE_WS,    /* whitespace after the size: only ';' may follow */
    CH_EXT,        /* chunk extensions, skipped up to CR */
    CH_SIZE_LF,    /* LF of the size line */
    CH_DATA,       /* st->remaining bytes of data */
    CH_DATA_CR,    /* CR after the data */
    CH_DATA_LF,    /* LF after the data */
    CH_TRAILER,    /* start of a trailer field line, or the final CR */
    CH_TRAILER_NAME,
    CH_TRAILER_VALUE,
    CH_TRAILER_LF,
    CH_FINAL_LF,
    CH_DONE,
    CH_ERROR,
};

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)ascii_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static inline bool is_field_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* One framing byte: returns the next state, or CH_ERROR. */
static int chunk_step(int s, unsigned char c, uint64_t *remaining)
{
    int d;

    switch (s) {
    case CH_SIZE_FIRST:
        if ((d = hex_value(c)) < 0)
            return CH_ERROR;
        *remaining = (uint64_t)d;
        return CH_SIZE;
    case CH_SIZE:
        if ((d = hex_value(c)) >= 0) {
            if (*remaining > (CHUNK_SIZE_MAX - (uint64_t)d) / 16)
                return CH_ERROR;
            *remaining = *remaining * 16 + (uint64_t)d;
            return CH_SIZE;
        }
        if (c == ';')
            return CH_EXT;
        if (c == ' ' || c == '\t')
            return CH_SIZE_WS;
        return c == '\r' ? CH_SIZE_LF : CH_ERROR;
    case CH_SIZE_WS:
        if (c == ' ' || c == '\t')
            return CH_SIZE_WS;
        return c == ';' ? CH_EXT : CH_ERROR;
    case CH_EXT:
        if (c == '\r')
            return CH_SIZE_LF;
        return is_field_byte(c) ? CH_EXT : CH_ERROR;
    case CH_SIZE_LF:
        if (c != '\n')
            return CH_ERROR;
        return *remaining == 0 ? CH_TRAILER : CH_DATA;
    case CH_DATA_CR:
        return c == '\r' ? CH_DATA_LF : CH_ERROR;
    case CH_DATA_LF:
        return c == '\n' ? CH_SIZE_FIRST : CH_ERROR;
    case CH_TRAILER:
        if (c == '\r')
            return CH_FINAL_LF;
        return tchar[c] ? CH_TRAILER_NAME : CH_ERROR;
    case CH_TRAILER_NAME:
        if (c == ':')
            return CH_TRAILER_VALUE;
        return tchar[c] ? CH_TRAILER_NAME : CH_ERROR;
    case CH_TRAILER_VALUE:
        if (c == '\r')
            return CH_TRAILER_LF;
        return is_field_byte(c) ? CH_TRAILER_VALUE : CH_ERROR;
    case CH_TRAILER_LF:
        return c == '\n' ? CH_TRAILER : CH_ERROR;
    case CH_FINAL_LF:
        return c == '\n' ? CH_DONE : CH_ERROR;
    }
    return CH_ERROR;
}

int pt_http1_chunked_decode(struct pt_http1_chunked *st, char *buf, size_t *len, size_t *consumed)
{
    size_t in = 0, out = 0, n = *len;
    int s = st->state & 0xff, next;
    unsigned meta = (unsigned)st->state >> 8;
    int rc = 0;

    if (s == CH_DONE) {
        *len = 0;
        *consumed = 0;
        return 1;
    }
    while (in < n && s != CH_DONE && s != CH_ERROR) {
        if (s == CH_DATA) {
            size_t take = n - in;

            if (take > st->remaining)
                take = (size_t)st->remaining;
            /* The output never overtakes the input, so this stays inside the buffer. */
            if (out != in)
                memmove(buf + out, buf + in, take);
            in += take;
            out += take;
            st->remaining -= take;
            if (st->remaining == 0)
                s = CH_DATA_CR;
            continue;
        }
        next = chunk_step(s, (unsigned char)buf[in++], &st->remaining);
        /* The count restarts at each size line and once for the whole trailer section. */
        if ((s == CH_DATA_LF && next == CH_SIZE_FIRST) || (s == CH_SIZE_LF && next == CH_TRAILER))
            meta = 0;
        else if (++meta > CHUNK_META_MAX)
            next = CH_ERROR;
        s = next;
    }
    if (s == CH_ERROR)
        rc = PT_EPROTO;
    else if (s == CH_DONE)
        rc = 1;
    st->state = s | (int)(meta << 8);
    *len = out;
    *consumed = in;
    return rc;
}

/* ---- Percent-decoding ---- */

int pt_http1_percent_decode(const char *s, size_t n, char *out, bool plus_is_space)
{
    size_t i = 0, o = 0, run, k;
    const char *pct;
    int hi, lo;

    /* <out> may be <s> itself: the output never overtakes the input. */
    if (n > INT_MAX) {
        out[0] = '\0';
        return PT_EINVAL;
    }
    while (i < n) {
        pct = memchr(s + i, '%', n - i);
        run = pct != NULL ? (size_t)(pct - (s + i)) : n - i;
        if (out + o != s + i)
            memmove(out + o, s + i, run);
        if (plus_is_space) {
            for (k = o; k < o + run; k++) {
                if (out[k] == '+')
                    out[k] = ' ';
            }
        }
        i += run;
        o += run;
        if (pct == NULL)
            break;
        if (n - i < 3 || (hi = hex_value((unsigned char)s[i + 1])) < 0 ||
            (lo = hex_value((unsigned char)s[i + 2])) < 0) {
            out[0] = '\0';
            return PT_EINVAL;
        }
        out[o++] = (char)(hi << 4 | lo);
        i += 3;
    }
    out[o] = '\0';
    return (int)o;
}
