/* Access-log formats (see accesslog_format.h). A format compiles into a list of literal runs and
 * variables, so rendering a line is one pass with no lookups by name. */
#include "accesslog_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portico/xalloc.h"
#include "utf8.h"

enum var {
    V_REQUEST_ID,
    V_EXTENDED_REQUEST_ID,
    V_API_ID,
    V_STAGE,
    V_ROUTE_KEY,
    V_EVENT_TYPE,
    V_CONNECTION_ID,
    V_CONNECTED_AT,
    V_MESSAGE_ID,
    V_SOURCE_IP,
    V_USER_AGENT,
    V_DOMAIN_NAME,
    V_HTTP_METHOD,
    V_PATH,
    V_PROTOCOL,
    V_STATUS,
    V_RESPONSE_LENGTH,
    V_RESPONSE_LATENCY,
    V_INTEGRATION_LATENCY,
    V_INTEGRATION_STATUS,
    V_REQUEST_TIME,
    V_REQUEST_TIME_EPOCH,
    V_ERROR_MESSAGE,
    V_ERROR_MESSAGE_STRING,
    V_DISCONNECT_STATUS,
    V_DISCONNECT_REASON,
};

/* The names after "$context.", as AWS spells them (AWS-BEHAVIOUR section 7). */
static const struct {
    const char *name;
    enum var var;
} vars[] = {
    {"requestId", V_REQUEST_ID},
    {"extendedRequestId", V_EXTENDED_REQUEST_ID},
    {"apiId", V_API_ID},
    {"stage", V_STAGE},
    {"routeKey", V_ROUTE_KEY},
    {"eventType", V_EVENT_TYPE},
    {"connectionId", V_CONNECTION_ID},
    {"connectedAt", V_CONNECTED_AT},
    {"messageId", V_MESSAGE_ID},
    {"identity.sourceIp", V_SOURCE_IP},
    {"identity.userAgent", V_USER_AGENT},
    {"domainName", V_DOMAIN_NAME},
    {"httpMethod", V_HTTP_METHOD},
    {"path", V_PATH},
    {"protocol", V_PROTOCOL},
    {"status", V_STATUS},
    {"responseLength", V_RESPONSE_LENGTH},
    {"responseLatency", V_RESPONSE_LATENCY},
    {"integrationLatency", V_INTEGRATION_LATENCY},
    {"integration.latency", V_INTEGRATION_LATENCY},
    {"integration.status", V_INTEGRATION_STATUS},
    {"integrationStatus", V_INTEGRATION_STATUS},
    {"requestTime", V_REQUEST_TIME},
    {"requestTimeEpoch", V_REQUEST_TIME_EPOCH},
    {"error.message", V_ERROR_MESSAGE},
    {"error.messageString", V_ERROR_MESSAGE_STRING},
    {"disconnectStatusCode", V_DISCONNECT_STATUS},
    {"disconnectReason", V_DISCONNECT_REASON},
};

#define NVARS  (sizeof(vars) / sizeof(vars[0]))
#define PREFIX "$context."

struct part {
    size_t lit_off, lit_len; /* a literal run in text */
    int var;                 /* -1: a literal only */
};

struct pt_alog_format {
    char *text;
    struct part *parts;
    size_t nparts;
    bool json;
};

static int find_var(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NVARS; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return (int)vars[i].var;
    return -1;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_';
}

static void add_part(struct pt_alog_format *f, size_t off, size_t len, int var)
{
    f->parts = pt_xrealloc(f->parts, (f->nparts + 1) * sizeof(*f->parts));
    f->parts[f->nparts++] = (struct part){off, len, var};
}

struct pt_alog_format *pt_alog_format_compile(const char *text, char *err, size_t errlen)
{
    struct pt_alog_format *f = pt_xcalloc(1, sizeof(*f));
    size_t lit = 0, i = 0, n = strlen(text);

    f->text = pt_xstrdup(text);
    f->json = text[strspn(text, " \t")] == '{';
    while (i < n) {
        const char *p = strstr(text + i, PREFIX);
        size_t start, len;
        int var;

        if (p == NULL)
            break;
        start = (size_t)(p - text) + strlen(PREFIX);
        for (len = 0; is_name_char(text[start + len]); len++)
            ;
        while (len > 0 && text[start + len - 1] == '.') /* "$context.status." ends a sentence */
            len--;
        var = find_var(text + start, len);
        if (var < 0) {
            snprintf(err, errlen, "unknown variable $context.%.*s (known: %s)", (int)len,
                     text + start, pt_alog_format_names());
            pt_alog_format_free(f);
            return NULL;
        }
        add_part(f, lit, (size_t)(p - text) - lit, var);
        i = lit = start + len;
    }
    if (lit < n || f->nparts == 0)
        add_part(f, lit, n - lit, -1);
    return f;
}

void pt_alog_format_free(struct pt_alog_format *f)
{
    if (f == NULL)
        return;
    free(f->text);
    free(f->parts);
    free(f);
}

const char *pt_alog_format_names(void)
{
    static char names[1024];
    size_t i, off = 0;

    if (names[0] != '\0')
        return names;
    for (i = 0; i < NVARS && off < sizeof(names); i++)
        off +=
            (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? ", " : "", vars[i].name);
    return names;
}

/* ---- Rendering ---- */

/* A value that cannot break the line or the JSON around it. Bytes of invalid UTF-8 are
 * escaped too, so a hostile User-Agent cannot make the JSON unreadable. */
static void put_escaped(struct pt_buf *out, const char *s, bool json)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), i;
    bool utf8_ok = pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)s, n) == PT_UTF8_ACCEPT;

    if (json && utf8_ok) {
        pt_buf_json_escape(out, s, n);
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (c >= 0x80 && !utf8_ok)) {
            /* JSON: \u00HH; text: \xHH, as nginx escapes its log values */
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

            if (json)
                pt_buf_append(out, u, sizeof(u));
            else
                pt_buf_append(out, x, sizeof(x));
        } else {
            pt_buf_putc(out, (char)c);
        }
    }
}

static void put_text(struct pt_buf *out, const char *s, bool json)
{
    if (s == NULL || s[0] == '\0')
        pt_buf_putc(out, '-');
    else
        put_escaped(out, s, json);
}

static void put_int(struct pt_buf *out, long long v)
{
    if (v < 0)
        pt_buf_putc(out, '-');
    else
        pt_buf_printf(out, "%lld", v);
}

static long long ms(double seconds)
{
    return seconds < 0 ? -1 : (long long)(seconds * 1000.0 + 0.5);
}

/* CLF: 26/Nov/2026:10:00:00 +0000 */
static void put_clf_time(struct pt_buf *out, double t)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)t;
    struct tm tm;

    gmtime_r(&secs, &tm);
    pt_buf_printf(out, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon],
                  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_var(struct pt_buf *out, enum var v, const struct pt_alog_rec *r, bool json)
{
    switch (v) {
    case V_REQUEST_ID:
    case V_EXTENDED_REQUEST_ID:
        put_text(out, r->request_id, json);
        break;
    case V_API_ID:
        put_text(out, r->api, json);
        break;
    case V_STAGE:
        put_text(out, r->stage, json);
        break;
    case V_ROUTE_KEY:
        put_text(out, r->route_key, json);
        break;
    case V_EVENT_TYPE:
        put_text(out, r->event_type, json);
        break;
    case V_CONNECTION_ID:
        put_text(out, r->connection_id, json);
        break;
    case V_CONNECTED_AT:
        put_int(out, r->connected_at_ms > 0 ? r->connected_at_ms : -1);
        break;
    case V_MESSAGE_ID:
        put_text(out, r->message_id, json);
        break;
    case V_SOURCE_IP:
        put_text(out, r->source_ip, json);
        break;
    case V_USER_AGENT:
        put_text(out, r->user_agent, json);
        break;
    case V_DOMAIN_NAME:
        put_text(out, r->domain_name, json);
        break;
    case V_HTTP_METHOD:
        put_text(out, r->method, json);
        break;
    case V_PATH:
        put_text(out, r->path, json);
        break;
    case V_PROTOCOL:
        put_text(out, r->protocol, json);
        break;
    case V_STATUS:
        put_int(out, r->status > 0 ? r->status : -1);
        break;
    case V_RESPONSE_LENGTH:
        put_int(out, r->response_bytes);
        break;
    case V_RESPONSE_LATENCY:
        put_int(out, ms(r->latency_s));
        break;
    case V_INTEGRATION_LATENCY:
        put_int(out, ms(r->integration_s));
        break;
    case V_INTEGRATION_STATUS:
        put_int(out, r->integration_status > 0 ? r->integration_status : -1);
        break;
    case V_REQUEST_TIME:
        put_clf_time(out, r->request_time);
        break;
    case V_REQUEST_TIME_EPOCH:
        put_int(out, ms(r->request_time));
        break;
    case V_ERROR_MESSAGE:
        put_text(out, r->error_message, json);
        break;
    case V_ERROR_MESSAGE_STRING:
        /* The message in quotes, as AWS writes it, for use unquoted in a JSON format. */
        pt_buf_putc(out, '"');
        put_text(out, r->error_message, json);
        pt_buf_putc(out, '"');
        break;
    case V_DISCONNECT_STATUS:
        put_int(out, r->disconnect_status > 0 ? r->disconnect_status : -1);
        break;
    case V_DISCONNECT_REASON:
        put_text(out, r->disconnect_reason, json);
        break;
    }
}

void pt_alog_format_render(const struct pt_alog_format *f, const struct pt_alog_rec *r,
                           struct pt_buf *out)
{
    size_t i;

    for (i = 0; i < f->nparts; i++) {
        const struct part *p = &f->parts[i];

        pt_buf_append(out, f->text + p->lit_off, p->lit_len);
        if (p->var >= 0)
            put_var(out, (enum var)p->var, r, f->json);
    }
    pt_buf_putc(out, '\n');
}
