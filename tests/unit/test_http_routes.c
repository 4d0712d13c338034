/* Unit tests for hub/http_routes.c: priority in every insertion order, parameters, greedy and
 * trailing-slash edges, methods, every add() error, and speed with 1000 routes. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "http_routes.h"
#include "portico/err.h"

#define NONE "(none)"

/* A request and the route key it must match (NONE: no match); other is the expected
 * other_method flag, or -1 for "don't care". */
struct expect {
    const char *method;
    const char *path;
    const char *key;
    int other;
};

/* Adds every key with the key itself as value; returns the number added. */
static size_t add_all(struct pt_http_routes *r, const char *const *keys, size_t n)
{
    char err[256];
    size_t i, ok = 0;

    for (i = 0; i < n; i++) {
        if (pt_http_routes_add(r, keys[i], (void *)keys[i], err, sizeof(err)) == 0)
            ok++;
        else
            fprintf(stderr, "add \"%s\": %s\n", keys[i], err);
    }
    return ok;
}

/* The route key <method> <path> matches, or NONE; checks that the value agrees with the key. */
static const char *match_key(const struct pt_http_routes *r, const char *method, const char *path,
                             struct pt_http_route_match *m)
{
    const void *v = pt_http_routes_match(r, method, path, strlen(path), m);

    if (v == NULL) {
        CHECK(m->route_key == NULL);
        return NONE;
    }
    CHECK_EQ_STR((const char *)v, m->route_key);
    return m->route_key;
}

/* The value of parameter <name> in <m> as a string (in a static buffer), or NONE. */
static const char *param(const struct pt_http_route_match *m, const char *name)
{
    static char buf[256];
    size_t i;

    for (i = 0; i < m->nparams; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            snprintf(buf, sizeof(buf), "%.*s", (int)m->params[i].value_len, m->params[i].value);
            return buf;
        }
    }
    return NONE;
}

static void check_expectations(const struct pt_http_routes *r, const struct expect *ex, size_t nex)
{
    struct pt_http_route_match m;
    size_t i;

    for (i = 0; i < nex; i++) {
        CHECK_EQ_STR(match_key(r, ex[i].method, ex[i].path, &m), ex[i].key);
        if (ex[i].other >= 0)
            CHECK_EQ_INT(m.other_method, ex[i].other);
    }
}

/* Rearranges idx[0..n) into the next permutation in lexicographic order; false after the last. */
static bool next_permutation(size_t *idx, size_t n)
{
    size_t i, j, t;

    if (n < 2)
        return false;
    i = n - 1;
    while (i > 0 && idx[i - 1] >= idx[i])
        i--;
    if (i == 0)
        return false;
    j = n - 1;
    while (idx[j] <= idx[i - 1])
        j--;
    t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
    for (j = n - 1; i < j; i++, j--) {
        t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return true;
}

/* Builds a table from <keys> in every order and checks <ex> against each. */
static void check_every_order(const char *const *keys, size_t n, const struct expect *ex,
                              size_t nex)
{
    const char *order[8];
    size_t idx[8], i, perms = 0;
    struct pt_http_routes *r;

    for (i = 0; i < n; i++)
        idx[i] = i;
    do {
        for (i = 0; i < n; i++)
            order[i] = keys[idx[i]];
        r = pt_http_routes_new();
        CHECK_EQ_INT(add_all(r, order, n), n);
        check_expectations(r, ex, nex);
        pt_http_routes_free(r);
        perms++;
    } while (next_permutation(idx, n));
    CHECK(perms > 1);
}

static void test_priority_path(void)
{
    static const char *const keys[] = {
        "GET /pets/dog", "GET /pets/{id}", "GET /pets/{proxy+}",
        "ANY /pets/dog", "ANY /{proxy+}",  "$default",
    };
    static const struct expect ex[] = {
        {"GET", "/pets/dog", "GET /pets/dog", -1},
        {"POST", "/pets/dog", "ANY /pets/dog", -1},
        {"HEAD", "/pets/dog", "ANY /pets/dog", -1},
        {"get", "/pets/dog", "ANY /pets/dog", -1},
        {"GET", "/pets/cat", "GET /pets/{id}", -1},
        {"POST", "/pets/cat", "ANY /{proxy+}", -1},
        {"GET", "/pets/cat/1", "GET /pets/{proxy+}", -1},
        {"GET", "/pets/dog/1", "GET /pets/{proxy+}", -1},
        {"PUT", "/pets/dog/1", "ANY /{proxy+}", -1},
        {"GET", "/pets", "ANY /{proxy+}", -1},
        {"GET", "/pets/", "ANY /{proxy+}", -1},
        {"GET", "/Pets/dog", "ANY /{proxy+}", -1},
        {"GET", "/", "$default", 0},
        {"GET", "", "$default", 0},
        {"GET", "/pets//dog", "$default", 0},
        {"GET", "pets/dog", "$default", 0},
    };

    check_every_order(keys, sizeof(keys) / sizeof(keys[0]), ex, sizeof(ex) / sizeof(ex[0]));
}

/* The path decides before the method: a literal with ANY beats a parameter with the method. */
static void test_priority_path_before_method(void)
{
    static const char *const keys[] = {"ANY /pets/dog", "GET /pets/{id}", "GET /{proxy+}"};
    static const struct expect ex[] = {
        {"GET", "/pets/dog", "ANY /pets/dog", -1},
        {"GET", "/pets/cat", "GET /pets/{id}", -1},
        {"GET", "/pets/cat/x", "GET /{proxy+}", -1},
        {"POST", "/pets/cat", NONE, 1},
        {"POST", "/x", NONE, 1},
        {"POST", "/", NONE, 0},
    };

    check_every_order(keys, 3, ex, sizeof(ex) / sizeof(ex[0]));
}

static void test_priority_method(void)
{
    static const char *const keys[] = {"GET /x", "ANY /x", "POST /x", "$default", "GET /{p}"};
    static const struct expect ex[] = {
        {"GET", "/x", "GET /x", -1},    {"POST", "/x", "POST /x", -1},
        {"PUT", "/x", "ANY /x", -1},    {"HEAD", "/x", "ANY /x", -1},
        {"Get", "/x", "ANY /x", -1},    {"ANY", "/x", "ANY /x", -1},
        {"GET", "/y", "GET /{p}", -1},  {"PUT", "/y", "$default", 1},
        {"GET", "/x/", "$default", 0},  {"GET", "/X", "GET /{p}", -1},
        {"GET", "/x/y", "$default", 0},
    };

    check_every_order(keys, 5, ex, sizeof(ex) / sizeof(ex[0]));
}

/* Backtracking: a literal branch that fails deeper gives way to the parameter, then greedy. */
static void test_priority_backtracking(void)
{
    static const char *const keys[] = {
        "GET /a/b/c", "GET /a/{x}/d", "GET /{y}/b/d", "POST /a/b/{z}", "GET /a/{proxy+}",
    };
    static const struct expect ex[] = {
        {"GET", "/a/b/c", "GET /a/b/c", -1},
        {"GET", "/a/b/d", "GET /a/{x}/d", -1},
        {"POST", "/a/b/d", "POST /a/b/{z}", -1},
        {"GET", "/a/b/e", "GET /a/{proxy+}", -1},
        {"GET", "/q/b/d", "GET /{y}/b/d", -1},
        {"GET", "/q/b/c", NONE, 0},
        {"DELETE", "/a/b/c", NONE, 1},
        {"GET", "/a", NONE, 0},
        {"GET", "/a/", NONE, 0},
        {"GET", "/a/b/c/", "GET /a/{proxy+}", -1},
        {"GET", "/a/b/c/d/e", "GET /a/{proxy+}", -1},
    };

    check_every_order(keys, 5, ex, sizeof(ex) / sizeof(ex[0]));
}

static void test_params(void)
{
    static const char *const keys[] = {
        "GET /users/{userId}/posts/{postId}",
        "ANY /files/{dir}/{path+}",
        "GET /a/{x}",
        "POST /a/{y}",
        "GET /b/{p}/{q}/z",
        "GET /b/{r}/{rest+}",
    };
    struct pt_http_routes *r = pt_http_routes_new();
    struct pt_http_route_match m;
    static const char nul_path[] = "/a/x\0y";
    const char *p;

    CHECK_EQ_INT(add_all(r, keys, 6), 6);

    CHECK_EQ_STR(match_key(r, "GET", "/users/42/posts/abc", &m),
                 "GET /users/{userId}/posts/{postId}");
    CHECK_EQ_INT(m.nparams, 2);
    CHECK_EQ_STR(m.params[0].name, "userId");
    CHECK_EQ_STR(param(&m, "userId"), "42");
    CHECK_EQ_STR(m.params[1].name, "postId");
    CHECK_EQ_STR(param(&m, "postId"), "abc");

    CHECK_EQ_STR(match_key(r, "PATCH", "/files/docs/a/b/c.txt", &m), "ANY /files/{dir}/{path+}");
    CHECK_EQ_INT(m.nparams, 2);
    CHECK_EQ_STR(param(&m, "dir"), "docs");
    CHECK_EQ_STR(param(&m, "path"), "a/b/c.txt");

    /* Decoded bytes are values like any other. */
    CHECK_EQ_STR(match_key(r, "GET", "/users/a b%?#/posts/\xc3\xa9", &m),
                 "GET /users/{userId}/posts/{postId}");
    CHECK_EQ_STR(param(&m, "userId"), "a b%?#");
    CHECK_EQ_STR(param(&m, "postId"), "\xc3\xa9");
    CHECK(pt_http_routes_match(r, "GET", nul_path, sizeof(nul_path) - 1, &m) == keys[2]);
    CHECK_EQ_INT(m.params[0].value_len, 3);
    CHECK(memcmp(m.params[0].value, "x\0y", 3) == 0);

    /* Values point into the path; only path_len bytes count. */
    p = "/a/123/ignored";
    CHECK(pt_http_routes_match(r, "GET", p, 6, &m) == keys[2]);
    CHECK(m.params[0].value == p + 3);
    CHECK_EQ_INT(m.params[0].value_len, 3);

    /* Same shape, different names per method. */
    CHECK_EQ_STR(match_key(r, "GET", "/a/1", &m), "GET /a/{x}");
    CHECK_EQ_STR(param(&m, "x"), "1");
    CHECK_EQ_STR(match_key(r, "POST", "/a/1", &m), "POST /a/{y}");
    CHECK_EQ_STR(param(&m, "y"), "1");
    CHECK_EQ_STR(param(&m, "x"), NONE);

    /* A deeper branch that failed must not leave its values behind. */
    CHECK_EQ_STR(match_key(r, "GET", "/b/1/2/z", &m), "GET /b/{p}/{q}/z");
    CHECK_EQ_STR(param(&m, "p"), "1");
    CHECK_EQ_STR(param(&m, "q"), "2");
    CHECK_EQ_STR(match_key(r, "GET", "/b/1/2/y", &m), "GET /b/{r}/{rest+}");
    CHECK_EQ_INT(m.nparams, 2);
    CHECK_EQ_STR(param(&m, "r"), "1");
    CHECK_EQ_STR(param(&m, "rest"), "2/y");

    /* No outputs wanted. */
    CHECK(pt_http_routes_match(r, "GET", "/a/1", 4, NULL) == keys[2]);
    CHECK(pt_http_routes_match(r, "GET", "/nothing", 8, NULL) == NULL);
    pt_http_routes_free(r);
}

static void test_greedy_edges(void)
{
    static const char *const keys[] = {"GET /pets/{proxy+}", "GET /{all+}"};
    struct pt_http_routes *r = pt_http_routes_new();
    struct pt_http_route_match m;

    CHECK_EQ_INT(add_all(r, keys, 1), 1);
    CHECK_EQ_STR(match_key(r, "GET", "/pets", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "/pets/", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "/pets/a", &m), "GET /pets/{proxy+}");
    CHECK_EQ_STR(param(&m, "proxy"), "a");
    CHECK_EQ_STR(match_key(r, "GET", "/pets/a/b", &m), "GET /pets/{proxy+}");
    CHECK_EQ_STR(param(&m, "proxy"), "a/b");
    CHECK_EQ_STR(match_key(r, "GET", "/pets/a/", &m), "GET /pets/{proxy+}");
    CHECK_EQ_STR(param(&m, "proxy"), "a/");
    CHECK_EQ_STR(match_key(r, "GET", "/pets//a", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "/pets/a//b", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "/petsx/a", &m), NONE);
    CHECK_EQ_STR(match_key(r, "HEAD", "/pets/a", &m), NONE);
    CHECK_EQ_INT(m.other_method, 1);

    CHECK_EQ_INT(add_all(r, keys + 1, 1), 1);
    CHECK_EQ_STR(match_key(r, "GET", "/", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "/x", &m), "GET /{all+}");
    CHECK_EQ_STR(param(&m, "all"), "x");
    CHECK_EQ_STR(match_key(r, "GET", "/pets", &m), "GET /{all+}");
    CHECK_EQ_STR(param(&m, "all"), "pets");
    CHECK_EQ_STR(match_key(r, "GET", "/pets/", &m), "GET /{all+}");
    CHECK_EQ_STR(param(&m, "all"), "pets/");
    CHECK_EQ_STR(match_key(r, "GET", "/pets/a", &m), "GET /pets/{proxy+}");
    CHECK_EQ_STR(match_key(r, "GET", "//", &m), NONE);
    pt_http_routes_free(r);
}

static void test_root_and_trailing_slash(void)
{
    static const char *const keys[] = {"GET /", "GET /pets", "GET /pets/{id}"};
    struct pt_http_routes *r = pt_http_routes_new();
    struct pt_http_route_match m;

    CHECK_EQ_INT(add_all(r, keys, 3), 3);
    CHECK_EQ_STR(match_key(r, "GET", "/", &m), "GET /");
    CHECK_EQ_INT(m.nparams, 0);
    CHECK_EQ_STR(match_key(r, "GET", "", &m), "GET /");
    CHECK_EQ_STR(match_key(r, "GET", "/pets", &m), "GET /pets");
    CHECK_EQ_STR(match_key(r, "GET", "/pets/", &m), NONE);
    CHECK_EQ_INT(m.other_method, 0);
    CHECK_EQ_STR(match_key(r, "GET", "/pets/1/", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "/pets/1", &m), "GET /pets/{id}");
    CHECK_EQ_STR(match_key(r, "GET", "/pets//", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "/x", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GET", "x", &m), NONE);
    CHECK_EQ_STR(match_key(r, "POST", "/", &m), NONE);
    CHECK_EQ_INT(m.other_method, 1);
    pt_http_routes_free(r);
}

static void test_methods(void)
{
    static const char *const keys[] = {"GET /x", "OPTIONS /x", "M-SEARCH /x", "PROPFIND /x"};
    struct pt_http_routes *r = pt_http_routes_new();
    struct pt_http_route_match m;

    CHECK_EQ_INT(add_all(r, keys, 4), 4);
    CHECK_EQ_STR(match_key(r, "GET", "/x", &m), "GET /x");
    CHECK_EQ_STR(match_key(r, "HEAD", "/x", &m), NONE);
    CHECK_EQ_INT(m.other_method, 1);
    CHECK_EQ_STR(match_key(r, "get", "/x", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GE", "/x", &m), NONE);
    CHECK_EQ_STR(match_key(r, "GETX", "/x", &m), NONE);
    CHECK_EQ_STR(match_key(r, "", "/x", &m), NONE);
    CHECK_EQ_STR(match_key(r, "OPTIONS", "/x", &m), "OPTIONS /x");
    CHECK_EQ_STR(match_key(r, "M-SEARCH", "/x", &m), "M-SEARCH /x");
    CHECK_EQ_STR(match_key(r, "PROPFIND", "/x", &m), "PROPFIND /x");
    pt_http_routes_free(r);
}

/* Every add() error returns PT_EINVAL with a message naming the problem, and changes nothing. */
static void test_add_errors(void)
{
    static const struct {
        const char *key;
        const char *msg;
    } bad[] = {
        {"", "bad route key"},
        {"GET", "bad route key"},
        {"get /a", "bad route key"},
        {"Get /a", "bad route key"},
        {"G\xc3\x89T /a", "bad route key"},
        {"GET\t/a", "bad route key"},
        {"$default /a", "bad route key"},
        {"$connect", "bad route key"},
        {" GET /a", "bad route key"},
        {"GET  /a", "must start with '/'"},
        {"GET a", "must start with '/'"},
        {"GET ", "must start with '/'"},
        {"GET /a/", "empty path segment"},
        {"GET /a//b", "empty path segment"},
        {"GET //", "empty path segment"},
        {"GET /a{b}", "bad path segment"},
        {"GET /{a}b", "bad path segment"},
        {"GET /a}", "bad path segment"},
        {"GET /{a", "bad path segment"},
        {"GET /{}", "bad path segment"},
        {"GET /{+}", "bad parameter name"},
        {"GET /{a b}", "bad parameter name"},
        {"GET /{a}}", "bad parameter name"},
        {"GET /{{a}", "bad parameter name"},
        {"GET /{a++}", "bad parameter name"},
        {"GET /{proxy+}/x", "must be the last segment"},
        {"GET /{proxy+}/{x+}", "must be the last segment"},
        {"GET /{a}/{a}", "duplicate parameter"},
        {"GET /{a}/x/{a+}", "duplicate parameter"},
        {"GET /a/{x}", "duplicate route key"},
        {"GET /a/{y}", "duplicate route key"},
        {"ANY /a", "duplicate route key"},
        {"GET /", "duplicate route key"},
        {"$default", "duplicate route key"},
    };
    static const char *const existing[] = {"GET /a/{x}", "ANY /a", "GET /", "$default"};
    struct pt_http_routes *r = pt_http_routes_new();
    struct pt_http_route_match m;
    char err[256], key[1024], small[8];
    size_t i;
    int v = 1;

    CHECK_EQ_INT(add_all(r, existing, 4), 4);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK_EQ_INT(pt_http_routes_add(r, bad[i].key, &v, err, sizeof(err)), PT_EINVAL);
        if (strstr(err, bad[i].msg) == NULL) {
            harness_failed++;
            fprintf(stderr, "add \"%s\": message \"%s\" lacks \"%s\"\n", bad[i].key, err,
                    bad[i].msg);
        }
    }
    CHECK_EQ_INT(pt_http_routes_add(r, NULL, &v, err, sizeof(err)), PT_EINVAL);
    CHECK(strstr(err, "required") != NULL);
    CHECK_EQ_INT(pt_http_routes_add(r, "GET /b", NULL, err, sizeof(err)), PT_EINVAL);
    CHECK(strstr(err, "required") != NULL);

    /* Too many parameters, too many segments. */
    key[0] = '\0';
    strcat(key, "GET ");
    for (i = 0; i < PT_HTTP_ROUTES_MAX_PARAMS + 1; i++)
        snprintf(key + strlen(key), sizeof(key) - strlen(key), "/{p%zu}", i);
    CHECK_EQ_INT(pt_http_routes_add(r, key, &v, err, sizeof(err)), PT_EINVAL);
    CHECK(strstr(err, "more than 16 path parameters") != NULL);
    *strrchr(key, '/') = '\0';
    CHECK_EQ_INT(pt_http_routes_add(r, key, &v, err, sizeof(err)), 0);
    strcpy(key, "GET ");
    for (i = 0; i < PT_HTTP_ROUTES_MAX_SEGMENTS + 1; i++)
        strcat(key, "/s");
    CHECK_EQ_INT(pt_http_routes_add(r, key, &v, err, sizeof(err)), PT_EINVAL);
    CHECK(strstr(err, "more than 128 path segments") != NULL);
    *strrchr(key, '/') = '\0';
    CHECK_EQ_INT(pt_http_routes_add(r, key, &v, err, sizeof(err)), 0);

    /* Messages are truncated to errlen, and err may be NULL. */
    CHECK_EQ_INT(pt_http_routes_add(r, "get /a", &v, small, sizeof(small)), PT_EINVAL);
    CHECK_EQ_INT(strlen(small), sizeof(small) - 1);
    CHECK_EQ_INT(pt_http_routes_add(r, "get /a", &v, NULL, 0), PT_EINVAL);
    CHECK_EQ_INT(pt_http_routes_add(r, "get /a", &v, small, 0), PT_EINVAL);

    /* The failed adds changed nothing; other shapes and methods are not duplicates. */
    CHECK_EQ_STR(match_key(r, "GET", "/a/1", &m), "GET /a/{x}");
    CHECK_EQ_STR(param(&m, "x"), "1");
    CHECK_EQ_STR(match_key(r, "GET", "/a", &m), "ANY /a");
    CHECK_EQ_STR(match_key(r, "GET", "/zzz", &m), "$default");
    CHECK_EQ_INT(pt_http_routes_add(r, "GET /a/{x+}", &v, err, sizeof(err)), 0);
    CHECK_EQ_INT(pt_http_routes_add(r, "POST /a/{y}", &v, err, sizeof(err)), 0);
    CHECK_EQ_INT(pt_http_routes_add(r, "GET /a", &v, err, sizeof(err)), 0);
    CHECK_EQ_INT(pt_http_routes_add(r, "GET /a/x", &v, err, sizeof(err)), 0);
    CHECK_EQ_INT(pt_http_routes_add(r, "GET /a/{x}/b", &v, err, sizeof(err)), 0);
    pt_http_routes_free(r);
    pt_http_routes_free(NULL);
}

#define NROUTES 1000
#define NMATCH  1000000

/* The bound is one second; sanitizer builds (make asan) run the same loop 2-3 times slower, so
 * they get three, which still fails a per-request scan of every route. */
#if defined(__SANITIZE_ADDRESS__)
#define MATCH_BUDGET_S 3.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MATCH_BUDGET_S 3.0
#endif
#endif
#ifndef MATCH_BUDGET_S
#define MATCH_BUDGET_S 1.0
#endif

/* PORTICO_TIME_FACTOR (as for the integration tests) stretches the bound where everything runs
 * slower: under valgrind, `make valgrind` sets it. */
static double time_factor(void)
{
    const char *f = getenv("PORTICO_TIME_FACTOR");
    double v = f != NULL ? atof(f) : 1.0;

    return v >= 1.0 ? v : 1.0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1000 routes in four families under one node with 1000 literal children, each reached by one
 * request; then 1e6 matches, which must take under a second (a scan of every route would not). */
static void test_many_routes(void)
{
    /* key: "<key_method> /r/k<n><key_tail>"; request: <method> "/r/k<n><path_tail>" */
    static const struct {
        const char *key_method, *key_tail, *path_tail;
    } fam[] = {
        {"GET", "", ""},
        {"POST", "/{id}", "/77"},
        {"ANY", "/{id}/items/{rest+}", "/77/items/a/b"},
        {"DELETE", "/sub/x", "/sub/x"},
    };
    static const char *const method[] = {"GET", "POST", "PUT", "DELETE"};
    static char keys[NROUTES][64], paths[NROUTES][64];
    static size_t lens[NROUTES];
    struct pt_http_routes *r = pt_http_routes_new();
    struct pt_http_route_match m;
    char err[256];
    size_t i, wrong = 0;
    double t0, dt;
    int added = 0;

    for (i = 0; i < NROUTES; i++) {
        /* Spread the insertion order over the literal array. */
        int k = (int)((i * 7919) % NROUTES);

        snprintf(keys[i], sizeof(keys[i]), "%s /r/k%d%s", fam[k % 4].key_method, k,
                 fam[k % 4].key_tail);
        snprintf(paths[i], sizeof(paths[i]), "/r/k%d%s", k, fam[k % 4].path_tail);
        lens[i] = strlen(paths[i]);
        added += pt_http_routes_add(r, keys[i], keys[i], err, sizeof(err)) == 0;
    }
    CHECK_EQ_INT(added, NROUTES);
    for (i = 0; i < NROUTES; i++) {
        int k = (int)((i * 7919) % NROUTES);

        if (pt_http_routes_match(r, method[k % 4], paths[i], lens[i], &m) != keys[i])
            wrong++;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_STR(match_key(r, "PUT", "/r/k2/x/items/y", &m), "ANY /r/k2/{id}/items/{rest+}");
    CHECK_EQ_STR(param(&m, "rest"), "y");
    CHECK_EQ_STR(match_key(r, "GET", "/r/k1000", &m), NONE);

    t0 = now_s();
    for (i = 0; i < NMATCH; i++) {
        size_t j = i % NROUTES;
        int k = (int)((j * 7919) % NROUTES);

        if (pt_http_routes_match(r, method[k % 4], paths[j], lens[j], &m) != keys[j])
            wrong++;
    }
    dt = now_s() - t0;
    CHECK_EQ_INT(wrong, 0);
    printf("test_http_routes: %d matches against %d routes in %.3f s\n", NMATCH, NROUTES, dt);
    CHECK(dt < MATCH_BUDGET_S * time_factor());
    pt_http_routes_free(r);
}

int main(void)
{
    RUN(test_priority_path);
    RUN(test_priority_path_before_method);
    RUN(test_priority_method);
    RUN(test_priority_backtracking);
    RUN(test_params);
    RUN(test_greedy_edges);
    RUN(test_root_and_trailing_slash);
    RUN(test_methods);
    RUN(test_add_errors);
    RUN(test_many_routes);
    return harness_finish("test_http_routes");
}
