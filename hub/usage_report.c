/* The usage report (see usage_report.h). It reads the counters the workers update, without a
 * lock: a request counted while the report is built is in it or in the next one. */
#include "usage_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "http.h"
#include "portico/buf.h"
#include "usage.h"

#define MAX_REPORT_DAYS 366

static void answer(struct pt_http *h, int status, const char *type, const char *message)
{
    struct pt_kv hdr = {"x-amzn-ErrorType", type};
    struct pt_buf b;

    pt_buf_init(&b);
    pt_buf_puts(&b, "{\"message\":\"");
    pt_buf_json_escape(&b, message, strlen(message));
    pt_buf_puts(&b, "\"}");
    pt_http_respond(h, status, &hdr, 1, "application/json", b.data, b.len);
    pt_buf_cleanup(&b);
}

/* "2026-11-26" as a day number; -1 when it is not a real date (2026-02-31 is not). */
static long long parse_date(const char *s)
{
    struct tm tm = {0}, back;
    int n = 0;
    time_t t;

    if (s == NULL || strlen(s) != 10 ||
        sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10 ||
        tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    back = tm;
    t = timegm(&back); /* normalises: the 31st of February becomes a day of March */
    if (t < 0 || back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon)
        return -1;
    return (long long)(t / 86400);
}

static void key_values(struct pt_buf *b, const struct pt_plan *p, const struct pt_plan_key *pk,
                       long long start, long long end)
{
    long long d;

    pt_buf_putc(b, '"');
    pt_buf_json_escape(b, pk->key->id, strlen(pk->key->id));
    pt_buf_puts(b, "\":[");
    for (d = start; d <= end; d++) {
        uint64_t used = pk->usage != NULL ? pt_usage_on(pk->usage, d) : 0;

        pt_buf_printf(b, "%s[%llu,", d > start ? "," : "", (unsigned long long)used);
        if (p->quota) {
            uint64_t spent =
                pk->usage != NULL ? pt_usage_in_period(pk->usage, (int)p->quota_period, d) : 0;

            pt_buf_printf(b, "%lld]",
                          spent >= (uint64_t)p->quota_limit ? 0
                                                            : p->quota_limit - (long long)spent);
        } else {
            pt_buf_puts(b, "null]"); /* no quota: nothing is "remaining" */
        }
    }
    pt_buf_putc(b, ']');
}

void pt_usage_report(struct pt_http *h)
{
    char *plan = pt_http_query_value(h, "plan"), *start = pt_http_query_value(h, "start");
    char *end = pt_http_query_value(h, "end"), *key = pt_http_query_value(h, "keyId");
    const struct pt_plan *p = plan != NULL ? pt_config_plan(h->cfg, plan) : NULL;
    long long first = parse_date(start), last = parse_date(end);
    struct pt_buf b;
    size_t i, n = 0;

    if (plan == NULL || start == NULL || end == NULL) {
        answer(h, 400, "BadRequestException", "plan, start and end are required");
    } else if (p == NULL) {
        answer(h, 404, "NotFoundException", "Invalid Usage Plan ID specified");
    } else if (first < 0 || last < 0) {
        answer(h, 400, "BadRequestException", "start and end are dates: YYYY-MM-DD");
    } else if (last < first || last - first >= MAX_REPORT_DAYS) {
        answer(h, 400, "BadRequestException",
               "end is before start, or more than 366 days after it");
    } else {
        pt_buf_init(&b);
        pt_buf_puts(&b, "{\"usagePlanId\":\"");
        pt_buf_json_escape(&b, p->name, strlen(p->name));
        pt_buf_printf(&b, "\",\"startDate\":\"%s\",\"endDate\":\"%s\",\"values\":{", start, end);
        for (i = 0; i < p->nkeys; i++) {
            if (key != NULL && strcmp(key, p->keys[i].key->id) != 0)
                continue;
            if (n++ > 0)
                pt_buf_putc(&b, ',');
            key_values(&b, p, &p->keys[i], first, last);
        }
        pt_buf_puts(&b, "}}");
        pt_http_respond(h, 200, NULL, 0, "application/json", b.data, b.len);
        pt_buf_cleanup(&b);
    }
    free(plan);
    free(start);
    free(end);
    free(key);
}
