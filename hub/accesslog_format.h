/* Access-log lines (SPEC section 7): a format with AWS `$context` variables, compiled once
 * with the config, and rendered for one record. Pure: no I/O, no clock, no loop. */
#ifndef PT_ACCESSLOG_FORMAT_H
#define PT_ACCESSLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "portico/buf.h"

/* What one line tells: a request, a WebSocket connect, message or disconnect. Absent text is
 * NULL, absent numbers are negative; both render as "-". Everything is borrowed. */
struct pt_alog_rec {
    const char *request_id;
    const char *api; /* the API's name: $context.apiId */
    const char *stage;
    const char *route_key;
    const char *event_type; /* "CONNECT", "MESSAGE", "DISCONNECT"; NULL on HTTP requests */
    const char *connection_id;
    const char *message_id;
    const char *source_ip;
    const char *user_agent;
    const char *domain_name;
    const char *method;
    const char *path;
    const char *protocol;
    const char *error_message;
    const char *disconnect_reason;
    double request_time;      /* epoch seconds */
    double latency_s;         /* responseLatency */
    double integration_s;     /* integrationLatency */
    int status;               /* the answer's status */
    int integration_status;   /* what the integration answered */
    int disconnect_status;    /* the close code */
    long long response_bytes; /* responseLength */
    long long connected_at_ms;
};

struct pt_alog_format;

/* Compiles <text>. On an unknown variable returns NULL and writes why into <err>. A text that
 * starts with '{' is JSON: values are escaped as JSON string contents. */
struct pt_alog_format *pt_alog_format_compile(const char *text, char *err, size_t errlen);
void pt_alog_format_free(struct pt_alog_format *f);

/* Appends the line for <r>, newline included. Values never break the line: control
 * characters, quotes and backslashes are escaped. */
void pt_alog_format_render(const struct pt_alog_format *f, const struct pt_alog_rec *r,
                           struct pt_buf *out);

/* The variables a format may use, for error messages and docs: "requestId, ...". */
const char *pt_alog_format_names(void);

#endif
