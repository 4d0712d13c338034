/* Unit tests for hub/jsonpath.c: path lookup and AWS stringification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "jsonpath.h"
#include "portico/buf.h"

static cJSON *doc;

static const cJSON *get(const char *path)
{
    return pt_jsonpath_get(doc, path, strlen(path));
}

/* Stringifies node into static storage; "(absent)" for a NULL node. */
static const char *str_of(const cJSON *node)
{
    static char result[4096];
    struct pt_buf b;

    if (node == NULL)
        return "(absent)";
    pt_buf_init(&b);
    pt_buf_puts(&b, "");
    pt_jsonpath_stringify(node, &b);
    snprintf(result, sizeof(result), "%s", b.data);
    pt_buf_cleanup(&b);
    return result;
}

/* Parses json and stringifies the whole document. */
static const char *str_json(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    const char *s;

    if (j == NULL)
        return "(bad json)";
    s = str_of(j);
    cJSON_Delete(j);
    return s;
}

static void test_nested_objects(void)
{
    CHECK_EQ_STR(str_of(get("action")), "join");
    CHECK_EQ_STR(str_of(get("data.room")), "lobby");
    CHECK_EQ_STR(str_of(get("data.meta.deep.x")), "1");
    CHECK_EQ_STR(str_of(get("x-api-key")), "k");
    CHECK(get("data") == cJSON_GetObjectItemCaseSensitive(doc, "data"));
}

static void test_empty_path_is_root(void)
{
    CHECK(pt_jsonpath_get(doc, "", 0) == doc);
    CHECK(pt_jsonpath_get(doc, "action", 0) == doc);
    CHECK(pt_jsonpath_get(NULL, "", 0) == NULL);
    CHECK(pt_jsonpath_get(NULL, "a", 1) == NULL);
}

static void test_leading_dot(void)
{
    CHECK_EQ_STR(str_of(get(".action")), "join");
    CHECK_EQ_STR(str_of(get(".data.room")), "lobby");
    CHECK(get("..action") == NULL);
    CHECK(get(".") == NULL);
}

static void test_arrays(void)
{
    CHECK_EQ_STR(str_of(get("list[0]")), "1");
    CHECK_EQ_STR(str_of(get("list[1]")), "two");
    CHECK_EQ_STR(str_of(get("list[2].k")), "v");
    CHECK_EQ_STR(str_of(get("list[3][1]")), "b");
    CHECK_EQ_STR(str_of(get("list[03][01]")), "b");
    CHECK(get("list[4]") == NULL);
    CHECK(get("list[99999999999999999999]") == NULL);
    CHECK(get("list[2147483648]") == NULL);
    CHECK(get("list[2147483647]") == NULL);
}

static void test_root_array(void)
{
    cJSON *arr = cJSON_Parse("[{\"a\":\"x\"},[5]]");

    CHECK_EQ_STR(str_of(pt_jsonpath_get(arr, "[0].a", 5)), "x");
    CHECK_EQ_STR(str_of(pt_jsonpath_get(arr, "[1][0]", 6)), "5");
    CHECK_EQ_STR(str_of(pt_jsonpath_get(arr, ".[0]", 4)), "(absent)");
    CHECK(pt_jsonpath_get(arr, "a", 1) == NULL);
    cJSON_Delete(arr);
}

static void test_missing_keys(void)
{
    CHECK(get("nope") == NULL);
    CHECK(get("data.nope") == NULL);
    CHECK(get("data.room.nope") == NULL);
    CHECK(get("Action") == NULL);
    CHECK(get("actio") == NULL);
    CHECK(get("actionx") == NULL);
}

static void test_non_objects_along_path(void)
{
    CHECK(get("action.x") == NULL);
    CHECK(get("n.x") == NULL);
    CHECK(get("t.x") == NULL);
    CHECK(get("nul.x") == NULL);
    CHECK(get("list.x") == NULL);
    CHECK(get("list.0") == NULL);
    CHECK(get("data[0]") == NULL);
    CHECK(get("action[0]") == NULL);
    CHECK(get("n[0]") == NULL);
}

static void test_malformed_paths(void)
{
    CHECK(get("data..room") == NULL);
    CHECK(get("data.") == NULL);
    CHECK(get("list[") == NULL);
    CHECK(get("list[]") == NULL);
    CHECK(get("list[x]") == NULL);
    CHECK(get("list[0") == NULL);
    CHECK(get("list[-1]") == NULL);
    CHECK(get("list[ 0]") == NULL);
    CHECK(get("list[0]x") == NULL);
    CHECK(get("list[0].") == NULL);
    CHECK(get("[") == NULL);
    CHECK(get("]") == NULL);
    /* A NUL inside the path never matches a key (keys are C strings). */
    CHECK(pt_jsonpath_get(doc, "action\0x", 8) == NULL);
    CHECK(pt_jsonpath_get(doc, "act", 3) == NULL);
    CHECK_EQ_STR(str_of(pt_jsonpath_get(doc, "actionXYZ", 6)), "join");
}

static void test_duplicate_keys_first_wins(void)
{
    cJSON *j = cJSON_Parse("{\"a\":1,\"a\":2}");

    CHECK_EQ_STR(str_of(pt_jsonpath_get(j, "a", 1)), "1");
    cJSON_Delete(j);
}

static void test_stringify_scalars(void)
{
    CHECK_EQ_STR(str_json("5"), "5");
    CHECK_EQ_STR(str_json("-3"), "-3");
    CHECK_EQ_STR(str_json("0"), "0");
    CHECK_EQ_STR(str_json("-0"), "0");
    CHECK_EQ_STR(str_json("5.0"), "5");
    CHECK_EQ_STR(str_json("1.5"), "1.5");
    CHECK_EQ_STR(str_json("0.1"), "0.1");
    CHECK_EQ_STR(str_json("-2.25"), "-2.25");
    CHECK_EQ_STR(str_json("1e3"), "1000");
    CHECK_EQ_STR(str_json("12345678901234"), "12345678901234");
    CHECK_EQ_STR(str_json("9007199254740992"), "9007199254740992");
    CHECK_EQ_STR(str_json("0.30000000000000004"), "0.30000000000000004");
    CHECK_EQ_STR(str_json("true"), "true");
    CHECK_EQ_STR(str_json("false"), "false");
    CHECK_EQ_STR(str_json("null"), "");
    CHECK_EQ_STR(str_json("\"raw \\\"text\\\"\\n\""), "raw \"text\"\n");
    CHECK_EQ_STR(str_json("\"\""), "");
    CHECK_EQ_STR(str_json("\"caf\\u00e9\""), "caf\xc3\xa9");
}

static void test_stringify_null_node(void)
{
    struct pt_buf b;

    pt_buf_init(&b);
    pt_buf_puts(&b, "x");
    pt_jsonpath_stringify(NULL, &b);
    pt_jsonpath_stringify(get("nul"), &b);
    CHECK_EQ_STR(b.data, "x");
    pt_buf_cleanup(&b);
}

static void test_stringify_objects(void)
{
    CHECK_EQ_STR(str_json("{}"), "{}");
    CHECK_EQ_STR(str_json("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }"), "{\"a\":1,\"b\":[1,2]}");
    CHECK_EQ_STR(str_json("{\"s\":\"q\\\"\\\\\\n\",\"t\":true,\"n\":null,\"f\":1.5}"),
                 "{\"s\":\"q\\\"\\\\\\n\",\"t\":true,\"n\":null,\"f\":1.5}");
    CHECK_EQ_STR(str_json("{\"k\\\"ey\":{}}"), "{\"k\\\"ey\":{}}");
    CHECK_EQ_STR(str_of(get("data")), "{\"room\":\"lobby\",\"meta\":{\"deep\":{\"x\":1}}}");
}

static void test_stringify_arrays(void)
{
    CHECK_EQ_STR(str_json("[1,\"two\"]"), "[1, two]");
    CHECK_EQ_STR(str_json("[]"), "[]");
    CHECK_EQ_STR(str_json("[\"a\"]"), "[a]");
    CHECK_EQ_STR(str_json("[true,false,1.5]"), "[true, false, 1.5]");
    CHECK_EQ_STR(str_json("[[1,2],[\"x\"]]"), "[[1, 2], [x]]");
    CHECK_EQ_STR(str_json("[{\"a\":[1,\"b\"]}]"), "[{\"a\":[1,\"b\"]}]");
    /* null items print as null does at the top level: nothing. */
    CHECK_EQ_STR(str_json("[1,null,2]"), "[1, , 2]");
    CHECK_EQ_STR(str_of(get("list")), "[1, two, {\"k\":\"v\"}, [a, b]]");
}

/* Nesting far past the limit is cut, not recursed into. */
static void test_depth_bound(void)
{
    struct pt_buf src;
    const char *s;
    size_t i, opens = 0;
    int d;

    pt_buf_init(&src);
    for (d = 0; d < 500; d++)
        pt_buf_puts(&src, "[");
    for (d = 0; d < 500; d++)
        pt_buf_puts(&src, "]");
    s = str_json(src.data);
    for (i = 0; s[i] != '\0'; i++)
        opens += s[i] == '[';
    CHECK_EQ_INT(opens, PT_JSONPATH_MAX_DEPTH + 1);
    CHECK_EQ_INT(strlen(s), 2 * (PT_JSONPATH_MAX_DEPTH + 1));

    pt_buf_reset(&src);
    for (d = 0; d < 500; d++)
        pt_buf_puts(&src, "{\"a\":");
    pt_buf_puts(&src, "1");
    for (d = 0; d < 500; d++)
        pt_buf_puts(&src, "}");
    s = str_json(src.data);
    CHECK(strstr(s, "null") != NULL);
    CHECK(strstr(s, "1") == NULL);
    opens = 0;
    for (i = 0; s[i] != '\0'; i++)
        opens += s[i] == '{';
    CHECK_EQ_INT(opens, PT_JSONPATH_MAX_DEPTH + 1);
    pt_buf_cleanup(&src);
}

/* A path can reach past the stringify limit: lookups are iterative. */
static void test_deep_lookup(void)
{
    struct pt_buf src, path;
    cJSON *j;
    int d;

    pt_buf_init(&src);
    pt_buf_init(&path);
    for (d = 0; d < 200; d++) {
        pt_buf_puts(&src, "{\"a\":");
        pt_buf_puts(&path, d ? ".a" : "a");
    }
    pt_buf_puts(&src, "\"bottom\"");
    for (d = 0; d < 200; d++)
        pt_buf_puts(&src, "}");
    j = cJSON_Parse(src.data);
    CHECK(j != NULL);
    CHECK_EQ_STR(str_of(pt_jsonpath_get(j, path.data, path.len)), "bottom");
    cJSON_Delete(j);
    pt_buf_cleanup(&src);
    pt_buf_cleanup(&path);
}

int main(void)
{
    doc = cJSON_Parse("{\"action\":\"join\",\"n\":5,\"t\":true,\"nul\":null,"
                      "\"x-api-key\":\"k\",\"list\":[1,\"two\",{\"k\":\"v\"},[\"a\",\"b\"]],"
                      "\"data\":{\"room\":\"lobby\",\"meta\":{\"deep\":{\"x\":1}}}}");
    if (doc == NULL) {
        fprintf(stderr, "test document did not parse\n");
        return 1;
    }
    RUN(test_nested_objects);
    RUN(test_empty_path_is_root);
    RUN(test_leading_dot);
    RUN(test_arrays);
    RUN(test_root_array);
    RUN(test_missing_keys);
    RUN(test_non_objects_along_path);
    RUN(test_malformed_paths);
    RUN(test_duplicate_keys_first_wins);
    RUN(test_stringify_scalars);
    RUN(test_stringify_null_node);
    RUN(test_stringify_objects);
    RUN(test_stringify_arrays);
    RUN(test_depth_bound);
    RUN(test_deep_lookup);
    cJSON_Delete(doc);
    return harness_finish("test_jsonpath");
}
