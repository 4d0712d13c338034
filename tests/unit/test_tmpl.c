/* Unit tests for hub/tmpl.c: the template grammar, rendering, limits and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "jsonpath.h"
#include "portico/buf.h"
#include "portico/err.h"
#include "portico/tmpl.h"

/* A resolver over a NULL-terminated list of name/value pairs. */
static int resolve_table(void *ud, const char *var, size_t len, struct pt_buf *out)
{
    const char *const *kv = ud;

    for (; kv[0] != NULL; kv += 2) {
        if (strlen(kv[0]) == len && memcmp(kv[0], var, len) == 0) {
            pt_buf_puts(out, kv[1]);
            return 0;
        }
    }
    return PT_ENOTFOUND;
}

/* Echoes the variable name in angle brackets. */
static int resolve_echo(void *ud, const char *var, size_t len, struct pt_buf *out)
{
    pt_buf_putc(out, '<');
    pt_buf_append(out, var, len);
    pt_buf_putc(out, '>');
    return 0;
}

/* Appends text and then fails: the partial text must not reach the output. */
static int resolve_fail_late(void *ud, const char *var, size_t len, struct pt_buf *out)
{
    pt_buf_puts(out, "garbage");
    return PT_EINVAL;
}

/* "request.body[.PATH]" through jsonpath over the parsed message in ud, as route selection does. */
static int resolve_body(void *ud, const char *var, size_t len, struct pt_buf *out)
{
    static const char prefix[] = "request.body";
    const size_t plen = sizeof(prefix) - 1;
    const cJSON *node;

    if (len < plen || memcmp(var, prefix, plen) != 0)
        return PT_ENOTFOUND;
    node = pt_jsonpath_get(ud, var + plen, len - plen);
    if (node == NULL)
        return PT_ENOTFOUND;
    pt_jsonpath_stringify(node, out);
    return 0;
}

/* Compiles src, renders it with fn, and returns the text (static storage) or "(error)". */
static const char *render(const char *src, pt_tmpl_resolve_fn *fn, void *ud)
{
    static char result[4096];
    char err[128];
    struct pt_tmpl *t;
    struct pt_buf b;

    t = pt_tmpl_compile(src, err, sizeof(err));
    if (t == NULL)
        return "(error)";
    pt_buf_init(&b);
    pt_buf_puts(&b, "");
    pt_tmpl_render(t, fn, ud, &b);
    snprintf(result, sizeof(result), "%s", b.data);
    pt_buf_cleanup(&b);
    pt_tmpl_free(t);
    return result;
}

/* The variables of src joined by '|', or "(error)". */
static const char *vars_of(const char *src)
{
    static char result[4096];
    struct pt_tmpl *t;
    size_t i, n = 0;

    t = pt_tmpl_compile(src, NULL, 0);
    if (t == NULL)
        return "(error)";
    result[0] = '\0';
    for (i = 0; i < pt_tmpl_nvars(t); i++)
        n += (size_t)snprintf(result + n, sizeof(result) - n, "%s%s", i ? "|" : "",
                              pt_tmpl_var(t, i));
    pt_tmpl_free(t);
    return result;
}

static void test_literal_only(void)
{
    struct pt_tmpl *t = pt_tmpl_compile("hello, world", NULL, 0);

    CHECK(t != NULL);
    CHECK_EQ_INT(pt_tmpl_nvars(t), 0);
    CHECK(pt_tmpl_var(t, 0) == NULL);
    CHECK_EQ_STR(pt_tmpl_source(t), "hello, world");
    pt_tmpl_free(t);
    CHECK_EQ_STR(render("hello, world", resolve_echo, NULL), "hello, world");
    CHECK_EQ_STR(render("", resolve_echo, NULL), "");
    CHECK_EQ_STR(render("{\"a\": 1}", resolve_echo, NULL), "{\"a\": 1}");
    CHECK_EQ_STR(render("action", resolve_echo, NULL), "action");
}

static void test_empty_template_renders_nothing(void)
{
    struct pt_tmpl *t = pt_tmpl_compile("", NULL, 0);
    struct pt_buf b;

    CHECK(t != NULL);
    CHECK_EQ_STR(pt_tmpl_source(t), "");
    pt_buf_init(&b);
    pt_tmpl_render(t, resolve_echo, NULL, &b);
    CHECK_EQ_INT(b.len, 0);
    pt_buf_cleanup(&b);
    pt_tmpl_free(t);
}

static void test_single_variable(void)
{
    const char *kv[] = {"request.body.action", "join", NULL};

    CHECK_EQ_STR(vars_of("$request.body.action"), "request.body.action");
    CHECK_EQ_STR(render("$request.body.action", resolve_table, kv), "join");
    CHECK_EQ_STR(render("x $request.body.action y", resolve_table, kv), "x join y");
}

static void test_escaped_dollar(void)
{
    CHECK_EQ_STR(vars_of("\\$default"), "");
    CHECK_EQ_STR(render("\\$default", resolve_echo, NULL), "$default");
    CHECK_EQ_STR(render("a\\$b\\$", resolve_echo, NULL), "a$b$");
    /* Only "\$" is an escape; other backslashes stay. */
    CHECK_EQ_STR(render("a\\nb\\", resolve_echo, NULL), "a\\nb\\");
    CHECK_EQ_STR(render("\\\\$x", resolve_echo, NULL), "\\$x");
    CHECK_EQ_STR(render("\\${x}", resolve_echo, NULL), "${x}");
}

static void test_braces(void)
{
    CHECK_EQ_STR(vars_of("${request.body.action}-x"), "request.body.action");
    CHECK_EQ_STR(render("${request.body.action}-x", resolve_echo, NULL), "<request.body.action>-x");
    CHECK_EQ_STR(render("${a}b", resolve_echo, NULL), "<a>b");
    CHECK_EQ_STR(render("${a.}", resolve_echo, NULL), "<a.>");
    CHECK_EQ_STR(render("${a b}", resolve_echo, NULL), "<a b>");
    CHECK_EQ_STR(render("pre${x}post", resolve_echo, NULL), "pre<x>post");
}

static void test_adjacent_variables(void)
{
    CHECK_EQ_STR(vars_of("$a$b"), "a|b");
    CHECK_EQ_STR(render("$a$b", resolve_echo, NULL), "<a><b>");
    CHECK_EQ_STR(render("${a}${b}", resolve_echo, NULL), "<a><b>");
    CHECK_EQ_STR(render("$a${b}$c", resolve_echo, NULL), "<a><b><c>");
    CHECK_EQ_STR(vars_of("$x $x"), "x|x");
}

static void test_missing_renders_empty(void)
{
    const char *kv[] = {"request.body.action", "join", NULL};

    CHECK_EQ_STR(render("${request.body.action}-${request.body.invalidPath}", resolve_table, kv),
                 "join-");
    CHECK_EQ_STR(render("[$nope]", resolve_table, kv), "[]");
    CHECK_EQ_STR(render("a${x}b", resolve_fail_late, NULL), "ab");
    CHECK_EQ_STR(render("$x", NULL, NULL), "");
}

static void test_with_jsonpath_resolver(void)
{
    cJSON *body =
        cJSON_Parse("{\"action\":\"join\",\"n\":5,\"list\":[1,\"two\"],\"o\":{\"k\":true}}");

    CHECK(body != NULL);
    CHECK_EQ_STR(render("${request.body.action}-${request.body.invalidPath}", resolve_body, body),
                 "join-");
    CHECK_EQ_STR(render("$request.body.n", resolve_body, body), "5");
    CHECK_EQ_STR(render("$request.body.list", resolve_body, body), "[1, two]");
    CHECK_EQ_STR(render("$request.body.list[1]!", resolve_body, body), "two!");
    CHECK_EQ_STR(render("$request.body.o", resolve_body, body), "{\"k\":true}");
    CHECK_EQ_STR(render("$request.body.o.k.", resolve_body, body), "true.");
    cJSON_Delete(body);
}

static void test_hyphenated_names(void)
{
    const char *kv[] = {"request.header.x-api-key", "K1", NULL};

    CHECK_EQ_STR(vars_of("$request.header.x-api-key"), "request.header.x-api-key");
    CHECK_EQ_STR(render("$request.header.x-api-key", resolve_table, kv), "K1");
    CHECK_EQ_STR(vars_of("$a_b-c9 d"), "a_b-c9");
    /* '-' belongs to names, so "$x-" is the variable "x-"; braces separate it. */
    CHECK_EQ_STR(vars_of("$x-y"), "x-y");
    CHECK_EQ_STR(vars_of("${x}-y"), "x");
}

static void test_trailing_dots(void)
{
    CHECK_EQ_STR(vars_of("$request.body.action."), "request.body.action");
    CHECK_EQ_STR(render("$request.body.action.", resolve_echo, NULL), "<request.body.action>.");
    CHECK_EQ_STR(render("$a...", resolve_echo, NULL), "<a>...");
    CHECK_EQ_STR(render("Hello $name. Bye", resolve_echo, NULL), "Hello <name>. Bye");
    CHECK_EQ_STR(render("$a.$b", resolve_echo, NULL), "<a>.<b>");
}

static void test_indexes(void)
{
    CHECK_EQ_STR(vars_of("$request.body.items[0].id"), "request.body.items[0].id");
    CHECK_EQ_STR(vars_of("$a[0][12]x"), "a[0][12]x");
    CHECK_EQ_STR(render("$a[0]", resolve_echo, NULL), "<a[0]>");
    /* Brackets that are not an index end the variable. */
    CHECK_EQ_STR(render("$a[x]", resolve_echo, NULL), "<a>[x]");
    CHECK_EQ_STR(render("$a[]", resolve_echo, NULL), "<a>[]");
    CHECK_EQ_STR(render("$a[1", resolve_echo, NULL), "<a>[1");
    CHECK_EQ_STR(render("$a[1].", resolve_echo, NULL), "<a[1]>.");
}

static void test_lone_dollar_is_text(void)
{
    CHECK_EQ_STR(vars_of("$"), "");
    CHECK_EQ_STR(render("$", resolve_echo, NULL), "$");
    CHECK_EQ_STR(render("cost: $ 5", resolve_echo, NULL), "cost: $ 5");
    CHECK_EQ_STR(render("$.action", resolve_echo, NULL), "$.action");
    CHECK_EQ_STR(render("$$a", resolve_echo, NULL), "$<a>");
    CHECK_EQ_STR(render("a$", resolve_echo, NULL), "a$");
}

static void test_errors(void)
{
    char err[128];

    err[0] = '\0';
    CHECK(pt_tmpl_compile("${request.body.action", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "unterminated") != NULL);
    CHECK(strstr(err, "offset 0") != NULL);
    CHECK(pt_tmpl_compile("abc ${", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "offset 4") != NULL);
    CHECK(pt_tmpl_compile("$a ${b", err, sizeof(err)) == NULL);
    CHECK(pt_tmpl_compile("x${}y", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "empty variable name") != NULL);
    CHECK(pt_tmpl_compile(NULL, err, sizeof(err)) == NULL);
    /* No error buffer, or a tiny one, is fine. */
    CHECK(pt_tmpl_compile("${", NULL, 0) == NULL);
    CHECK(pt_tmpl_compile("${", err, 1) == NULL);
    CHECK_EQ_STR(err, "");
}

static void test_size_limit(void)
{
    char err[128];
    char *src = malloc(65537 + 1);
    struct pt_tmpl *t;

    memset(src, 'a', 65536);
    src[65536] = '\0';
    t = pt_tmpl_compile(src, err, sizeof(err));
    CHECK(t != NULL);
    pt_tmpl_free(t);
    src[65536] = 'a';
    src[65537] = '\0';
    CHECK(pt_tmpl_compile(src, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "65536") != NULL);
    free(src);
}

static void test_variable_limit(void)
{
    char err[128];
    struct pt_buf src;
    struct pt_tmpl *t;
    int i;

    pt_buf_init(&src);
    for (i = 0; i < 256; i++)
        pt_buf_printf(&src, "${v%d}", i);
    t = pt_tmpl_compile(src.data, err, sizeof(err));
    CHECK(t != NULL);
    if (t != NULL) {
        CHECK_EQ_INT(pt_tmpl_nvars(t), 256);
        CHECK_EQ_STR(pt_tmpl_var(t, 255), "v255");
        CHECK(pt_tmpl_var(t, 256) == NULL);
    }
    pt_tmpl_free(t);
    pt_buf_puts(&src, "$one_more");
    CHECK(pt_tmpl_compile(src.data, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "256 variables") != NULL);
    pt_buf_cleanup(&src);
}

static void test_render_appends(void)
{
    struct pt_tmpl *t = pt_tmpl_compile("($x)", NULL, 0);
    struct pt_buf b;

    pt_buf_init(&b);
    pt_buf_puts(&b, "keep");
    pt_tmpl_render(t, resolve_echo, NULL, &b);
    pt_tmpl_render(t, resolve_fail_late, NULL, &b);
    CHECK_EQ_STR(b.data, "keep(<x>)()");
    pt_buf_cleanup(&b);
    pt_tmpl_free(t);
    pt_tmpl_free(NULL);
}

int main(void)
{
    RUN(test_literal_only);
    RUN(test_empty_template_renders_nothing);
    RUN(test_single_variable);
    RUN(test_escaped_dollar);
    RUN(test_braces);
    RUN(test_adjacent_variables);
    RUN(test_missing_renders_empty);
    RUN(test_with_jsonpath_resolver);
    RUN(test_hyphenated_names);
    RUN(test_trailing_dots);
    RUN(test_indexes);
    RUN(test_lone_dollar_is_text);
    RUN(test_errors);
    RUN(test_size_limit);
    RUN(test_variable_limit);
    RUN(test_render_appends);
    return harness_finish("test_tmpl");
}
