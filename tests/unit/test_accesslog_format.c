/* Unit tests for hub/accesslog_format.c: compiling formats, rendering records, escaping. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accesslog_format.h"
#include "harness.h"
#include "portico/buf.h"

/* Renders <rec> with <fmt> into a fresh string (the caller frees it), or NULL when the format
 * does not compile. */
static char *render(const char *fmt, const struct pt_alog_rec *rec)
{
    char err[1400];
    struct pt_alog_format *f = pt_alog_format_compile(fmt, err, sizeof(err));
    struct pt_buf b;

    if (f == NULL)
        return NULL;
    pt_buf_init(&b);
    pt_alog_format_render(f, rec, &b);
    pt_alog_format_free(f);
    return pt_buf_take(&b, NULL);
}

static const struct pt_alog_rec sample = {
    .request_id = "Ab12Cd34Ef56Gh7=",
    .api = "chat",
    .stage = "dev",
    .route_key = "GET /pets/{id}",
    .source_ip = "192.0.2.7",
    .user_agent = "curl/8.0",
    .method = "GET",
    .path = "/dev/pets/7",
    .protocol = "HTTP/1.1",
    .request_time = 1795685400.25, /* 2026-11-26T09:30:00.250Z */
    .latency_s = 0.0123,
    .integration_s = -1,
    .status = 200,
    .response_bytes = 42,
};

static void test_plain_text(void)
{
    char *line = render("$context.requestId $context.identity.sourceIp [$context.requestTime] "
                        "\"$context.httpMethod $context.path $context.protocol\" $context.status "
                        "$context.responseLength $context.responseLatency ms",
                        &sample);

    CHECK_EQ_STR(line, "Ab12Cd34Ef56Gh7= 192.0.2.7 [26/Nov/2026:09:30:00 +0000] \"GET /dev/pets/7 "
                       "HTTP/1.1\" 200 42 12 ms\n");
    free(line);
}

static void test_absent_values_are_dashes(void)
{
    char *line = render("$context.connectionId|$context.integrationLatency|$context.eventType|"
                        "$context.error.message|$context.messageId|$context.disconnectStatusCode",
                        &sample);

    CHECK_EQ_STR(line, "-|-|-|-|-|-\n");
    free(line);
}

static void test_websocket_fields(void)
{
    struct pt_alog_rec r = {
        .request_id = "r",
        .event_type = "DISCONNECT",
        .route_key = "$disconnect",
        .connection_id = "AQAAAAAAAABoF5QDC9fySg",
        .connected_at_ms = 1795685400000LL,
        .disconnect_status = 1001,
        .disconnect_reason = "Going away",
        .status = 200,
        .request_time = 1795685401.0,
        .integration_s = 0.0045,
    };
    char *line =
        render("$context.eventType $context.routeKey $context.connectionId "
               "$context.connectedAt $context.requestTimeEpoch $context.integrationLatency "
               "$context.disconnectStatusCode \"$context.disconnectReason\"",
               &r);

    CHECK_EQ_STR(line,
                 "DISCONNECT $disconnect AQAAAAAAAABoF5QDC9fySg 1795685400000 1795685401000 5 "
                 "1001 \"Going away\"\n");
    free(line);
}

/* A value cannot end the line or forge a field: quotes, backslashes and control characters
 * are escaped in text formats. */
static void test_text_escaping(void)
{
    struct pt_alog_rec r = sample;
    char *line;

    r.user_agent = "a\"b\\c\nd\x7f";
    line = render("ua=\"$context.identity.userAgent\"", &r);
    CHECK_EQ_STR(line, "ua=\"a\\x22b\\x5cc\\x0ad\\x7f\"\n");
    free(line);
    r.user_agent = "caf\xc3\xa9 \xff"; /* invalid UTF-8: every high byte is escaped */
    line = render("$context.identity.userAgent", &r);
    CHECK_EQ_STR(line, "caf\\xc3\\xa9 \\xff\n");
    free(line);
    r.user_agent = "caf\xc3\xa9"; /* valid UTF-8 passes */
    line = render("$context.identity.userAgent", &r);
    CHECK_EQ_STR(line, "caf\xc3\xa9\n");
    free(line);
}

/* A JSON format gives one valid JSON document per line whatever the values hold. */
static void test_json(void)
{
    struct pt_alog_rec r = sample;
    cJSON *doc;
    char *line;

    r.user_agent = "a\"b\\c\nd\x01 \xff";
    r.error_message = "Not \"Found\"";
    line = render("{\"requestId\":\"$context.requestId\", \"ua\":\"$context.identity.userAgent\", "
                  "\"status\":$context.status, \"error\":$context.error.messageString, "
                  "\"integration\":\"$context.integration.status\"}",
                  &r);
    CHECK(line != NULL && strchr(line, '\n') == line + strlen(line) - 1);
    doc = line != NULL ? cJSON_Parse(line) : NULL;
    CHECK(doc != NULL);
    if (doc != NULL) {
        CHECK_EQ_STR(cJSON_GetObjectItem(doc, "requestId")->valuestring, "Ab12Cd34Ef56Gh7=");
        CHECK_EQ_STR(cJSON_GetObjectItem(doc, "ua")->valuestring, "a\"b\\c\nd\x01 \xc3\xbf");
        CHECK_EQ_INT(cJSON_GetObjectItem(doc, "status")->valueint, 200);
        CHECK_EQ_STR(cJSON_GetObjectItem(doc, "error")->valuestring, "Not \"Found\"");
    }
    cJSON_Delete(doc);
    free(line);
    /* messageString without a message is a JSON string too */
    line = render("{\"e\":$context.error.messageString}", &sample);
    CHECK_EQ_STR(line, "{\"e\":\"-\"}\n");
    free(line);
}

static void test_unknown_variable(void)
{
    char err[1400];
    struct pt_alog_format *f =
        pt_alog_format_compile("$context.status $context.sourceIp", err, sizeof(err));

    CHECK(f == NULL);
    CHECK(strstr(err, "$context.sourceIp") != NULL);
    CHECK(strstr(err, "identity.sourceIp") != NULL); /* the known names are listed */
    f = pt_alog_format_compile("$context.", err, sizeof(err));
    CHECK(f == NULL);
}

static void test_literals_only_and_dollars(void)
{
    char *line = render("static $5 $contextual $context.status. Done", &sample);

    CHECK_EQ_STR(line, "static $5 $contextual 200. Done\n");
    free(line);
    line = render("", &sample);
    CHECK_EQ_STR(line, "\n");
    free(line);
}

int main(void)
{
    RUN(test_plain_text);
    RUN(test_absent_values_are_dashes);
    RUN(test_websocket_fields);
    RUN(test_text_escaping);
    RUN(test_json);
    RUN(test_unknown_variable);
    RUN(test_literals_only_and_dollars);
    return harness_finish("test_accesslog_format");
}
