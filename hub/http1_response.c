/* HTTP/1.x response heads from upstreams (RFC 9112 sections 4-6), parsed in place in one pass
 * with no allocation, for the upstream client. The rules match the request parser in http1.c:
 * a pooled upstream connection that we frame differently from the upstream is a desync, so
 * obs-fold, bare CR, whitespace before ':', conflicting lengths and unknown transfer codings are
 * errors. Body framing (none for 1xx, 204, 304 and HEAD, else chunked, Content-Length or until
 * close) is the caller's, as is dropping keep-alive for a body that ends at close. */
#include "http1.h"

#include <limits.h>
#include <string.h>

#include "portico/err.h"

/* Internal result of a step when the window ends inside the head. Positive, so it never
 * collides with PT_E* codes. */
#define MORE 1

/* ---- Byte classes ---- */

/* RFC 9110 section 5.6.2 tchar as a 256-bit set: bit (c & 63) of word (c >> 6). Words 0 and 1
 * hold "!#$%&'*+-." with the digits, and the letters with "^_`|~"; bytes >= 0x80 are not tokens. */
static const uint64_t token_set[4] = {
    0x03ff6cfa00000000ULL,
    0x57ffffffc7fffffeULL,
    0,
    0,
};

static inline bool is_token_byte(unsigned char c)
{
    return (token_set[c >> 6] >> (c & 63)) & 1;
}

static inline bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static inline unsigned char to_lower(unsigned char c)
{
    return (unsigned char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

/* Case-insensitive: do the <n> bytes at <p> spell the lowercase literal <lit> of length <litn>? */
static bool ieq(const char *p, size_t n, const char *lit, size_t litn)
{
    size_t i;

    if (n != litn)
        return false;
    for (i = 0; i < n; i++) {
        if (to_lower((unsigned char)p[i]) != (unsigned char)lit[i])
            return false;
    }
    return true;
}

#define IEQ(s, lit) ieq((s)->p, (s)->len, (lit), sizeof(lit) - 1)

/* Eight bytes at a time: does a word hold a "stop" byte, one below 0x20 or equal to 0x7f?
 * Subtracting 0x20 from every lane borrows out of a lane's high bit only where a byte below 0x20
 * starts the borrow, and "& ~w" drops lanes that had the high bit set already (obs-text), so the
 * first test has no false positives. DEL is found the same way as a zero lane of w ^ 0x7f..7f.
 * The exact position is then found bytewise, within the same eight bytes. */
#define LANES(b) (0x0101010101010101ULL * (b))

static inline bool word_has_stop(uint64_t w)
{
    uint64_t del = w ^ LANES(0x7f);
    uint64_t low = (w - LANES(0x20)) & ~w;

    return ((low | ((del - LANES(0x01)) & ~del)) & LANES(0x80)) != 0;
}

/* First byte at or after <p> that may not appear inside a field value or reason phrase as is
 * (a control character or DEL: HTAB, CR and LF among them, for the caller), or <end>. */
static const char *skip_text(const char *p, const char *end)
{
    uint64_t w;

    while (end - p >= 8) {
        memcpy(&w, p, sizeof(w));
        if (word_has_stop(w))
            break;
        p += 8;
    }
    while (p < end) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c == 0x7f)
            break;
        p++;
    }
    return p;
}

/* Consumes one line ending, CRLF or bare LF, at *<pp>. */
static int take_eol(const char **pp, const char *end)
{
    const char *p = *pp;

    if (p == end)
        return MORE;
    if (*p == '\r') {
        if (++p == end)
            return MORE;
        if (*p != '\n')
            return PT_EPROTO;
    } else if (*p != '\n') {
        return PT_EPROTO;
    }
    *pp = p + 1;
    return 0;
}

/* Reads text up to the end of the line at *<pp>: HTAB, SP, visible ASCII and obs-text (RFC 9110
 * section 5.5), ending at CRLF or LF. Sets *<text_end> to the end of the text and moves *<pp>
 * past the line ending. */
static int take_text_line(const char **pp, const char *end, const char **text_end)
{
    const char *p = *pp;
    int rc;

    for (;;) {
        p = skip_text(p, end);
        if (p == end)
            return MORE;
        if (*p != '\t')
            break;
        p++;
    }
    *text_end = p;
    if ((rc = take_eol(&p, end)) != 0)
        return rc;
    *pp = p;
    return 0;
}

/* ---- Status line: HTTP-version SP 3DIGIT SP [reason], or with no SP after the code ---- */

#define PROTO     "HTTP/1."
#define PROTO_LEN (sizeof(PROTO) - 1)

static int parse_status_line(const char **pp, const char *end, struct pt_http1_resp *resp)
{
    const char *p = *pp, *reason, *reason_end;
    size_t have = (size_t)(end - p);
    int i, rc;

    /* Every byte is checked as soon as it is there, so garbage fails without waiting. */
    if (memcmp(p, PROTO, have < PROTO_LEN ? have : PROTO_LEN) != 0)
        return PT_EPROTO;
    if (have < PROTO_LEN)
        return MORE;
    p += PROTO_LEN;

    /* RFC 9110 section 2.5: a higher minor of a major we speak is handled as the highest minor
     * we know, 1.1; minor_version still says what was sent. */
    if (p == end)
        return MORE;
    if (*p < '0' || *p > '9')
        return PT_EPROTO;
    resp->minor_version = *p++ - '0';
    if (p == end)
        return MORE;
    if (*p++ != ' ')
        return PT_EPROTO;

    /* 3DIGIT allows 000..999, but only the classes 1xx to 5xx exist (RFC 9110 section 15):
     * the first digit alone keeps the code within 100..599. */
    resp->status = 0;
    for (i = 0; i < 3; i++, p++) {
        if (p == end)
            return MORE;
        if (*p < (i == 0 ? '1' : '0') || *p > (i == 0 ? '5' : '9'))
            return PT_EPROTO;
        resp->status = resp->status * 10 + (*p - '0');
    }

    if (p == end)
        return MORE;
    if (*p == ' ')
        p++;
    else if (*p != '\r' && *p != '\n')
        return PT_EPROTO; /* a fourth digit, or text glued to the code */
    reason = p;
    if ((rc = take_text_line(&p, end, &reason_end)) != 0)
        return rc;
    resp->reason.p = reason;
    resp->reason.len = (size_t)(reason_end - reason);
    *pp = p;
    return 0;
}

/* ---- Header fields ---- */

/* What the framing fields said, gathered while they are parsed. */
struct resp_fields {
    bool te_seen;    /* a Transfer-Encoding field was present */
    bool conn_close; /* Connection lists close */
    bool conn_keep;  /* Connection lists keep-alive */
};

/* Walks a comma-separated list (RFC 9110 section 5.6.1): each call yields the next element with
 * its surrounding whitespace trimmed, empty ones included. False when the list is used up. */
struct list_iter {
    const char *p, *end;
    bool done;
};

static bool list_next(struct list_iter *it, struct pt_slice *el)
{
    const char *s = it->p, *e;

    if (it->done)
        return false;
    e = memchr(s, ',', (size_t)(it->end - s));
    if (e == NULL) {
        e = it->end;
        it->done = true;
    } else {
        it->p = e + 1;
    }
    while (s < e && is_ows(*s))
        s++;
    while (e > s && is_ows(e[-1]))
        e--;
    el->p = s;
    el->len = (size_t)(e - s);
    return true;
}

static void list_start(struct list_iter *it, const struct pt_slice *v)
{
    it->p = v->p;
    it->end = v->p + v->len;
    it->done = false;
}

/* 1*DIGIT, at most 18 of them so the value fits a long long; a repeat must say the same number
 * (RFC 9112 section 6.3 item 5). A list such as "5, 5" is refused rather than merged. */
static int on_content_length(const struct pt_slice *v, struct pt_http1_resp *resp)
{
    long long n = 0;
    size_t i;

    if (v->len == 0 || v->len > 18)
        return PT_EPROTO;
    for (i = 0; i < v->len; i++) {
        unsigned d = (unsigned)((unsigned char)v->p[i] - '0');

        if (d > 9)
            return PT_EPROTO;
        n = n * 10 + (long long)d;
    }
    if (resp->content_length >= 0 && resp->content_length != n)
        return PT_EPROTO;
    resp->content_length = n;
    return 0;
}

/* Only a single "chunked" coding is understood, across all Transfer-Encoding fields. Anything
 * else (gzip, identity, chunked twice) would hand the backend a body we cannot frame. */
static int on_transfer_encoding(const struct pt_slice *v, struct pt_http1_resp *resp,
                                struct resp_fields *f)
{
    struct list_iter it;
    struct pt_slice el;

    f->te_seen = true;
    list_start(&it, v);
    while (list_next(&it, &el)) {
        if (el.len == 0)
            continue;
        if (resp->chunked || !IEQ(&el, "chunked"))
            return PT_EPROTO;
        resp->chunked = true;
    }
    return 0;
}

static void on_connection(const struct pt_slice *v, struct resp_fields *f)
{
    struct list_iter it;
    struct pt_slice el;

    list_start(&it, v);
    while (list_next(&it, &el)) {
        if (IEQ(&el, "close"))
            f->conn_close = true;
        else if (IEQ(&el, "keep-alive"))
            f->conn_keep = true;
    }
}

/* Looks at the fields that decide framing and reuse; a length switch keeps the rest to one
 * comparison of two integers. */
static int on_field(const struct pt_http1_header *h, struct pt_http1_resp *resp,
                    struct resp_fields *f)
{
    switch (h->name.len) {
    case sizeof("connection") - 1:
        if (IEQ(&h->name, "connection"))
            on_connection(&h->value, f);
        break;
    case sizeof("content-length") - 1:
        if (IEQ(&h->name, "content-length"))
            return on_content_length(&h->value, resp);
        break;
    case sizeof("transfer-encoding") - 1:
        if (IEQ(&h->name, "transfer-encoding"))
            return on_transfer_encoding(&h->value, resp, f);
        break;
    }
    return 0;
}

/* One field line at *<pp>: token ':' OWS value OWS EOL, with no whitespace before the colon
 * (RFC 9112 section 5.1). */
static int parse_field(const char **pp, const char *end, struct pt_http1_header *h)
{
    const char *p = *pp, *name = p, *value, *vend;
    int rc;

    while (p < end && is_token_byte((unsigned char)*p))
        p++;
    if (p == end)
        return MORE;
    if (*p != ':' || p == name)
        return PT_EPROTO;
    h->name.p = name;
    h->name.len = (size_t)(p - name);

    p++;
    while (p < end && is_ows(*p))
        p++;
    value = p;
    if ((rc = take_text_line(&p, end, &vend)) != 0)
        return rc;
    while (vend > value && is_ows(vend[-1]))
        vend--;
    h->value.p = value;
    h->value.len = (size_t)(vend - value);
    *pp = p;
    return 0;
}

static int parse_fields(const char **pp, const char *end, struct pt_http1_resp *resp,
                        struct resp_fields *f)
{
    const char *p = *pp;
    struct pt_http1_header *h;
    int rc;

    for (;;) {
        if (p == end)
            return MORE;
        if (*p == '\r' || *p == '\n')
            break;
        /* Leading whitespace is obs-fold, or on the first line a field hidden from parsers
         * that skip it (RFC 9112 sections 2.2 and 5.2): refused either way. */
        if (is_ows(*p))
            return PT_EPROTO;
        if (resp->nheaders == PT_HTTP1_MAX_HEADERS)
            return PT_EPROTO;
        h = &resp->headers[resp->nheaders];
        if ((rc = parse_field(&p, end, h)) != 0)
            return rc;
        if ((rc = on_field(h, resp, f)) != 0)
            return rc;
        resp->nheaders++;
    }
    if ((rc = take_eol(&p, end)) != 0)
        return rc;
    *pp = p;
    return 0;
}

/* Combines what the fields said once the head is complete. */
static int finish_response(struct pt_http1_resp *resp, const struct resp_fields *f)
{
    bool v10 = resp->minor_version == 0;

    if (f->te_seen) {
        /* RFC 9112 section 6.1: Transfer-Encoding in a 1.0 message means faulty framing. An
         * empty field names no coding at all. Section 6.3 item 3: with Content-Length too it
         * "ought to be handled as an error", and on a pooled connection it must be. */
        if (v10 || !resp->chunked || resp->content_length >= 0)
            return PT_EPROTO;
    }
    resp->keep_alive = !f->conn_close && (!v10 || f->conn_keep);
    return 0;
}

int pt_http1_parse_response(const char *buf, size_t len, size_t max, struct pt_http1_resp *resp)
{
    size_t win = len < max ? len : max;
    const char *p = buf, *end;
    struct resp_fields f = {false, false, false};
    int rc;

    resp->status = 0;
    resp->minor_version = 0;
    resp->reason.p = buf;
    resp->reason.len = 0;
    resp->nheaders = 0;
    resp->content_length = -1;
    resp->chunked = false;
    resp->keep_alive = false;

    /* An empty window may come with a NULL buffer, where even buf + 0 is undefined. */
    if (win == 0)
        return len >= max ? PT_ETOOBIG : 0;
    /* The head length is returned as an int. */
    if (win > INT_MAX)
        win = INT_MAX;
    end = buf + win;

    rc = parse_status_line(&p, end, resp);
    if (rc == 0)
        rc = parse_fields(&p, end, resp, &f);
    if (rc == 0)
        rc = finish_response(resp, &f);
    if (rc == MORE)
        return win < len || len >= max ? PT_ETOOBIG : 0;
    if (rc < 0)
        return rc;
    return (int)(p - buf);
}
