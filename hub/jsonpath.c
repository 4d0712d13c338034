/* JSONPath lookup and AWS stringification for selection expressions (see jsonpath.h). Walks
 * the path without recursion; prints with recursion bounded by PT_JSONPATH_MAX_DEPTH. */
#include "jsonpath.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "portico/buf.h"

/* The first member of object <obj> named exactly <key> (as cJSON does with duplicate keys). */
static const cJSON *object_get(const cJSON *obj, const char *key, size_t len)
{
    const cJSON *c;

    if (!cJSON_IsObject(obj))
        return NULL;
    for (c = obj->child; c != NULL; c = c->next) {
        if (c->string != NULL && strnlen(c->string, len + 1) == len &&
            memcmp(c->string, key, len) == 0)
            return c;
    }
    return NULL;
}

/* Parses "[digits]" at path + *i and moves *i past it. Returns the index, or -1 when the
 * bracket is malformed or the index exceeds INT_MAX (no array that large exists). */
static long parse_index(const char *path, size_t len, size_t *i)
{
    size_t k = *i + 1;
    long idx = 0;

    if (k >= len || path[k] < '0' || path[k] > '9')
        return -1;
    for (; k < len && path[k] >= '0' && path[k] <= '9'; k++) {
        idx = idx * 10 + (path[k] - '0');
        if (idx > INT_MAX)
            return -1;
    }
    if (k >= len || path[k] != ']')
        return -1;
    *i = k + 1;
    return idx;
}

const cJSON *pt_jsonpath_get(const cJSON *root, const char *path, size_t len)
{
    const cJSON *cur = root;
    size_t i = 0, start;
    bool want_key;
    long idx;

    if (root == NULL || len == 0)
        return root;
    want_key = path[0] != '[';
    if (path[0] == '.')
        i = 1;
    for (;;) {
        if (want_key) {
            for (start = i; i < len && path[i] != '.' && path[i] != '['; i++)
                ;
            if (i == start)
                return NULL;
            cur = object_get(cur, path + start, i - start);
            if (cur == NULL)
                return NULL;
        }
        while (i < len && path[i] == '[') {
            idx = parse_index(path, len, &i);
            if (idx < 0 || !cJSON_IsArray(cur))
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)idx);
            if (cur == NULL)
                return NULL;
        }
        if (i == len)
            return cur;
        if (path[i] != '.')
            return NULL;
        i++;
        want_key = true;
    }
}

/* A finite number as JSON text: integers exactly, others in the shortest %g that reads back. */
static void put_number(struct pt_buf *out, double d)
{
    char tmp[40];
    int prec;

    if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(long long)d) {
        pt_buf_printf(out, "%lld", (long long)d);
        return;
    }
    for (prec = 15;; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    pt_buf_puts(out, tmp);
}

static void put_json_string(struct pt_buf *out, const char *s)
{
    pt_buf_putc(out, '"');
    if (s != NULL)
        pt_buf_json_escape(out, s, strlen(s));
    pt_buf_putc(out, '"');
}

/* Compact JSON, as cJSON_PrintUnformatted() would print it but with bounded depth. */
static void put_json(const cJSON *n, struct pt_buf *out, int depth)
{
    const cJSON *c;

    if (depth > PT_JSONPATH_MAX_DEPTH) {
        pt_buf_puts(out, "null");
        return;
    }
    switch (n->type & 0xff) {
    case cJSON_False:
        pt_buf_puts(out, "false");
        break;
    case cJSON_True:
        pt_buf_puts(out, "true");
        break;
    case cJSON_Number:
        if (isfinite(n->valuedouble))
            put_number(out, n->valuedouble);
        else
            pt_buf_puts(out, "null");
        break;
    case cJSON_String:
        put_json_string(out, n->valuestring);
        break;
    case cJSON_Raw:
        if (n->valuestring != NULL)
            pt_buf_puts(out, n->valuestring);
        break;
    case cJSON_Array:
        pt_buf_putc(out, '[');
        for (c = n->child; c != NULL; c = c->next) {
            put_json(c, out, depth + 1);
            if (c->next != NULL)
                pt_buf_putc(out, ',');
        }
        pt_buf_putc(out, ']');
        break;
    case cJSON_Object:
        pt_buf_putc(out, '{');
        for (c = n->child; c != NULL; c = c->next) {
            put_json_string(out, c->string);
            pt_buf_putc(out, ':');
            put_json(c, out, depth + 1);
            if (c->next != NULL)
                pt_buf_putc(out, ',');
        }
        pt_buf_putc(out, '}');
        break;
    default:
        pt_buf_puts(out, "null");
    }
}

/* AWS's text form; only arrays differ from JSON, and only at array level ("[1, two]"). */
static void put_aws(const cJSON *n, struct pt_buf *out, int depth)
{
    const cJSON *c;

    if (depth > PT_JSONPATH_MAX_DEPTH)
        return;
    switch (n->type & 0xff) {
    case cJSON_String:
    case cJSON_Raw:
        if (n->valuestring != NULL)
            pt_buf_puts(out, n->valuestring);
        break;
    case cJSON_Number:
        if (isfinite(n->valuedouble))
            put_number(out, n->valuedouble);
        break;
    case cJSON_Array:
        pt_buf_putc(out, '[');
        for (c = n->child; c != NULL; c = c->next) {
            put_aws(c, out, depth + 1);
            if (c->next != NULL)
                pt_buf_puts(out, ", ");
        }
        pt_buf_putc(out, ']');
        break;
    case cJSON_NULL:
    case cJSON_Invalid:
        break;
    default:
        put_json(n, out, depth);
    }
}

void pt_jsonpath_stringify(const cJSON *node, struct pt_buf *out)
{
    if (node != NULL)
        put_aws(node, out, 0);
}
