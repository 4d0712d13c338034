/* Config loader tests: the sample loads, defaults apply, and every kind of error comes out with
 * its exact JSON path and message, all of them at once. JSON in this file is written with single
 * quotes, turned into double quotes before parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends.h"
#include "config.h"
#include "errors.h"
#include "harness.h"
#include "portico/conf.h"

#define FILE_NAME "portico.json"

/* A valid API around what the test puts in the middle. */
#define STAGES   "'stages':{'dev':{}}"
#define MOCK     "{'type':'MOCK','response':{'body':'x'}}"
#define INTEGS   "'integrations':{'m':" MOCK "}"
#define ROUTES   "'routes':{'$default':{'integration':'m'}}"
#define API_HEAD "{'name':'a','protocolType':'WEBSOCKET',"
#define API(...) API_HEAD __VA_ARGS__ STAGES "," INTEGS "," ROUTES "}"
#define ONE_API  "'apis':[" API() "]"

static char *dequote(const char *s)
{
    char *out = strdup(s), *p;

    for (p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static struct pt_config *parse(const char *json, struct pt_errors *errs)
{
    struct pt_config *c;
    char *text = dequote(json);

    pt_errors_init(errs, FILE_NAME);
    c = pt_config_parse(text, FILE_NAME, "/etc/portico", errs);
    free(text);
    return c;
}

static void print_errors(const struct pt_errors *errs)
{
    size_t i;

    for (i = 0; i < errs->count; i++)
        fprintf(stderr, "    got: %s\n", errs->lines[i]);
}

/* The config is refused with exactly <expected> (NULL-terminated), in this order. */
static void expect_errors_at(int line, const char *json, const char *const *expected)
{
    struct pt_errors errs;
    struct pt_config *c = parse(json, &errs);
    size_t n = 0, i;

    while (expected[n] != NULL)
        n++;
    CHECK(c == NULL);
    pt_config_unref(c);
    CHECK_EQ_INT(errs.count, n);
    for (i = 0; i < n && i < errs.count; i++)
        CHECK_EQ_STR(errs.lines[i], expected[i]);
    if (errs.count != n || c != NULL) {
        fprintf(stderr, "  (from line %d)\n", line);
        print_errors(&errs);
    }
    pt_errors_cleanup(&errs);
}

#define EXPECT_ERRORS(json, ...)                             \
    do {                                                     \
        const char *const expected_[] = {__VA_ARGS__, NULL}; \
        expect_errors_at(__LINE__, json, expected_);         \
    } while (0)

#define E(msg) FILE_NAME ": " msg

/* Parses <json>, which must be valid. */
static struct pt_config *parse_ok(const char *json)
{
    struct pt_errors errs;
    struct pt_config *c = parse(json, &errs);

    CHECK(c != NULL);
    CHECK_EQ_INT(errs.count, 0);
    print_errors(&errs);
    pt_errors_cleanup(&errs);
    return c;
}

/* ---- Loading ---- */

static void test_sample_loads(void)
{
    struct pt_errors errs;
    const struct pt_api *api;
    struct pt_config *c;

    pt_errors_init(&errs, "samples/echo/portico.json");
    c = pt_config_load("samples/echo/portico.json", &errs);
    print_errors(&errs);
    CHECK_EQ_INT(errs.count, 0);
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_EQ_INT(c->nlistens, 1);
        CHECK_EQ_STR(c->listens[0].host, "127.0.0.1");
        CHECK_EQ_INT(c->listens[0].port, 8080);
        CHECK_EQ_INT(c->napis, 1);
        CHECK(c->dir[0] == '/');
        CHECK_EQ_STR(pt_config_secret(c, "AKIDEXAMPLE"),
                     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        CHECK(pt_config_secret(c, "AKIDOTHER") == NULL);
        api = &c->apis[0];
        CHECK_EQ_STR(api->name, "echo");
        CHECK_EQ_INT(api->protocol, PT_PROTO_WEBSOCKET);
        CHECK_EQ_STR(api->base_path, "/");
        CHECK_EQ_INT(api->management_auth, PT_MGMT_AWS_IAM);
        CHECK(pt_api_stage(api, "dev") != NULL);
        CHECK(pt_api_stage(api, "prod") == NULL);
        CHECK_EQ_INT(api->nroutes, 2);
        CHECK_EQ_STR(api->routes[0].key, "$default");
        CHECK_EQ_STR(api->routes[1].key, "ping");
        CHECK(api->route_default == &api->routes[0]);
        CHECK(api->route_connect == NULL && api->route_disconnect == NULL);
        CHECK(api->route_default->route_response);
        CHECK_EQ_STR(api->route_default->integration->name, "echo");
        CHECK_EQ_STR(pt_api_route(api, "ping")->integration->name, "pong");
        CHECK(pt_api_route(api, "pong") == NULL);
        CHECK_EQ_INT(api->integrations[0].timeout_ms, 29000);
        CHECK_EQ_STR(api->integrations[0].backend->type, "MOCK");
        CHECK_EQ_STR(pt_tmpl_source(api->route_selection), "$request.body.action");
    }
    pt_config_unref(c);
    pt_errors_cleanup(&errs);
}

static void test_missing_file(void)
{
    struct pt_errors errs;

    pt_errors_init(&errs, "/nonexistent/portico.json");
    CHECK(pt_config_load("/nonexistent/portico.json", &errs) == NULL);
    CHECK_EQ_INT(errs.count, 1);
    if (errs.count == 1)
        CHECK_EQ_STR(errs.lines[0],
                     "/nonexistent/portico.json: cannot open: No such file or directory");
    pt_errors_cleanup(&errs);
}

static void test_defaults(void)
{
    struct pt_config *c = parse_ok("{" ONE_API "}");
    const struct pt_api *api;

    if (c == NULL)
        return;
    CHECK_EQ_INT(c->nlistens, 1);
    CHECK_EQ_STR(c->listens[0].host, "127.0.0.1");
    CHECK_EQ_INT(c->listens[0].port, 8080);
    CHECK(c->listens[0].unix_socket == NULL);
    CHECK_EQ_INT(c->workers, 1);
    CHECK_EQ_INT(c->limits.max_connections, 100000);
    CHECK_EQ_INT(c->limits.message_bytes, 131072);
    CHECK_EQ_INT(c->limits.frame_bytes, 131072);
    CHECK_EQ_INT(c->limits.idle_timeout_s, 600);
    CHECK_EQ_INT(c->limits.max_connection_s, 7200);
    CHECK_EQ_INT(c->limits.request_body_bytes, 10485760);
    CHECK_EQ_INT(c->limits.send_queue_bytes, 1048576);
    CHECK_EQ_INT(c->limits.drain_s, 10);
    CHECK_EQ_INT(c->limits.ping_interval_s, 30);
    CHECK_EQ_INT(c->ncredentials, 0);
    CHECK_EQ_STR(c->path, FILE_NAME);
    CHECK_EQ_STR(c->dir, "/etc/portico");
    api = &c->apis[0];
    CHECK_EQ_STR(api->base_path, "/");
    CHECK_EQ_INT(api->management_auth, PT_MGMT_AWS_IAM);
    CHECK_EQ_STR(pt_tmpl_source(api->route_selection), "$request.body.action");
    CHECK_EQ_INT(api->integrations[0].timeout_ms, 29000);
    CHECK_EQ_STR(api->integrations[0].config_dir, "/etc/portico");
    CHECK(!api->routes[0].route_response);
    CHECK(api->route_connect == NULL);
    CHECK_EQ_INT(api->stages[0].nvars, 0);
    pt_config_unref(c);
}

static void test_values_kept(void)
{
    struct pt_config *c = parse_ok(
        "{'listen':[{'host':'::1','port':0},{'unixSocket':'run/p.sock'},"
        "{'unixSocket':'/run/q.sock'}],"
        "'workers':1,"
        "'limits':{'messageBytes':1000,'pingIntervalSeconds':0,'drainSeconds':0},"
        "'credentials':[{'accessKeyId':'AK1','secretAccessKey':'s1'},"
        "{'accessKeyId':'AK2','secretAccessKey':'s2'}],"
        "'apis':[{'name':'a','protocolType':'WEBSOCKET','basePath':'/chat/',"
        "'routeSelectionExpression':'${request.body.kind}','managementAuth':'NONE',"
        "'stages':{'prod':{'variables':{'b':'2','a':'1'}},'$default':{}},"
        "'integrations':{'m':{'type':'MOCK','timeoutMs':50,'response':{'body':'x'}}},"
        "'routes':{'$connect':{'integration':'m'},'$disconnect':{'integration':'m'},"
        "'zz':{'integration':'m','routeResponse':true},'$default':{'integration':'m'}}}]}");
    const struct pt_api *api;
    const struct pt_stage *st;

    if (c == NULL)
        return;
    CHECK_EQ_INT(c->nlistens, 3);
    CHECK_EQ_STR(c->listens[0].host, "::1");
    CHECK_EQ_INT(c->listens[0].port, 0);
    CHECK(c->listens[1].host == NULL);
    CHECK_EQ_STR(c->listens[1].unix_socket, "/etc/portico/run/p.sock");
    CHECK_EQ_STR(c->listens[2].unix_socket, "/run/q.sock");
    CHECK_EQ_INT(c->limits.message_bytes, 1000);
    CHECK_EQ_INT(c->limits.frame_bytes, 1000);
    CHECK_EQ_INT(c->limits.ping_interval_s, 0);
    CHECK_EQ_INT(c->limits.drain_s, 0);
    CHECK_EQ_STR(pt_config_secret(c, "AK2"), "s2");
    api = &c->apis[0];
    CHECK_EQ_STR(api->base_path, "/chat");
    CHECK_EQ_INT(api->management_auth, PT_MGMT_NONE);
    CHECK_EQ_STR(pt_tmpl_var(api->route_selection, 0), "request.body.kind");
    CHECK_EQ_INT(api->integrations[0].timeout_ms, 50);
    CHECK_EQ_INT(api->nstages, 2);
    st = pt_api_stage(api, "prod");
    CHECK(st != NULL && pt_api_stage(api, "$default") != NULL);
    if (st != NULL && st->nvars == 2) {
        CHECK_EQ_STR(st->vars[0].name, "a");
        CHECK_EQ_STR(st->vars[0].value, "1");
        CHECK_EQ_STR(st->vars[1].name, "b");
    }
    CHECK_EQ_INT(api->nroutes, 4);
    CHECK(api->route_connect != NULL && strcmp(api->route_connect->key, "$connect") == 0);
    CHECK(api->route_disconnect != NULL && api->route_default != NULL);
    CHECK(pt_api_route(api, "zz") != NULL && pt_api_route(api, "zz")->route_response);
    CHECK(pt_api_route(api, "zz") == &api->routes[3]); /* sorted by strcmp */
    pt_config_unref(c);
}

static void test_frame_bytes_explicit(void)
{
    struct pt_config *c =
        parse_ok("{'limits':{'messageBytes':2000,'frameBytes':1000}," ONE_API "}");

    if (c != NULL)
        CHECK_EQ_INT(c->limits.frame_bytes, 1000);
    pt_config_unref(c);
}

static void test_refcount(void)
{
    struct pt_config *c = parse_ok("{" ONE_API "}");

    CHECK(pt_config_ref(c) == c);
    CHECK_EQ_INT(c->refs, 2);
    pt_config_unref(c);
    CHECK_EQ_INT(c->refs, 1);
    pt_config_unref(c);
    pt_config_unref(NULL);
}

static void test_shared_base_path_other_stages(void)
{
    struct pt_config *c = parse_ok(
        "{'apis':[" API() ",{'name':'b','protocolType':'WEBSOCKET','stages':{'prod':{}}," INTEGS
                          "," ROUTES "}]}");

    pt_config_unref(c);
}

/* An API without routes accepts connections and serves its management API only. */
static void test_no_routes(void)
{
    struct pt_config *c = parse_ok("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                                   ",'integrations':{},'routes':{}}]}");

    if (c != NULL) {
        CHECK_EQ_INT(c->apis[0].nroutes, 0);
        CHECK_EQ_INT(c->apis[0].nintegrations, 0);
        CHECK(pt_api_route(&c->apis[0], "$default") == NULL);
    }
    pt_config_unref(c);
}

static void test_management_none_local(void)
{
    struct pt_config *c =
        parse_ok("{'listen':[{'host':'127.0.0.2','port':1},{'host':'localhost','port':2},"
                 "{'host':'::1','port':3},{'unixSocket':'/tmp/x.sock'}],"
                 "'apis':[" API("'managementAuth':'NONE',") "]}");

    pt_config_unref(c);
}

/* ---- Errors ---- */

static void test_invalid_json(void)
{
    EXPECT_ERRORS("{\n  'apis': [\n    {,\n", E("invalid JSON at line 3, column 7"));
    EXPECT_ERRORS("", E("invalid JSON at line 1, column 1"));
    EXPECT_ERRORS("{'apis':[]} x", E("invalid JSON at line 1, column 13"));
    EXPECT_ERRORS("{'é': 1,\n 'x' 2}", E("invalid JSON at line 2, column 6"));
}

static void test_root_errors(void)
{
    EXPECT_ERRORS("[]", E("expected an object, got an array"));
    EXPECT_ERRORS("{}", E("missing required key \"apis\""));
    EXPECT_ERRORS("{'apis':{}}", E("apis: expected an array, got an object"));
    EXPECT_ERRORS("{'apis':[]}", E("apis: expected at least one api"));
    EXPECT_ERRORS("{" ONE_API "," ONE_API "}", E("apis: duplicate key"));
}

static void test_unknown_keys(void)
{
    EXPECT_ERRORS("{'listn':[]," ONE_API "}", E("listn: unknown key (did you mean \"listen\"?)"));
    EXPECT_ERRORS("{'foo':1," ONE_API "}", E("foo: unknown key"));
    EXPECT_ERRORS("{'limits':{'messageByte':1}," ONE_API "}",
                  E("limits.messageByte: unknown key (did you mean \"messageBytes\"?)"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES "," INTEGS
                  ",'routes':{'$default':{'integratoin':'m'}}}]}",
                  E("apis[0].routes[\"$default\"].integratoin: unknown key (did you mean "
                    "\"integration\"?)"),
                  E("apis[0].routes[\"$default\"]: missing required key \"integration\""));
    EXPECT_ERRORS("{'apis':[" API("'stage s':1,") "]}",
                  E("apis[0][\"stage s\"]: unknown key (did you mean \"stages\"?)"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET','stages':{'dev':{'vars':{}}},"
                  "" INTEGS "," ROUTES "}]}",
                  E("apis[0].stages.dev.vars: unknown key"));
}

static void test_wrong_types(void)
{
    EXPECT_ERRORS("{'limits':{'messageBytes':'big'}," ONE_API "}",
                  E("limits.messageBytes: expected an integer 1..134217728, got \"big\""));
    EXPECT_ERRORS("{'limits':{'idleTimeoutSeconds':1.5}," ONE_API "}",
                  E("limits.idleTimeoutSeconds: expected an integer 1..31536000, got 1.5"));
    EXPECT_ERRORS("{'limits':[]," ONE_API "}", E("limits: expected an object, got an array"));
    EXPECT_ERRORS("{'listen':{'host':'x'}," ONE_API "}",
                  E("listen: expected an array, got an object"));
    EXPECT_ERRORS("{'listen':['x']," ONE_API "}", E("listen[0]: expected an object, got \"x\""));
    EXPECT_ERRORS("{'apis':[{'name':5,'protocolType':'WS'," STAGES "," INTEGS "," ROUTES "}]}",
                  E("apis[0].name: expected a string, got 5"),
                  E("apis[0].protocolType: expected one of \"WEBSOCKET\", \"HTTP\", got \"WS\""));
    EXPECT_ERRORS("{'apis':[" API("'managementAuth':null,") "]}",
                  E("apis[0].managementAuth: expected one of \"AWS_IAM\", \"NONE\", got null"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES "," INTEGS
                  ",'routes':{'$default':{'integration':'m','routeResponse':'yes'}}}]}",
                  E("apis[0].routes[\"$default\"].routeResponse: expected true or false, got "
                    "\"yes\""));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET','stages':{'dev':"
                  "{'variables':{'x':5,'y':'ok'}}}," INTEGS "," ROUTES "}]}",
                  E("apis[0].stages.dev.variables.x: expected a string, got 5"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET','stages':[]," INTEGS "," ROUTES
                  "}]}",
                  E("apis[0].stages: expected an object, got an array"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                  ",'integrations':{'m':'MOCK'}," ROUTES "}]}",
                  E("apis[0].integrations.m: expected an object, got \"MOCK\""));
    EXPECT_ERRORS("{'apis':['"
                  "0123456789012345678901234567890123456789xyz"
                  "']}",
                  E("apis[0]: expected an object, got "
                    "\"0123456789012345678901234567890123456789...\""));
}

static void test_out_of_range(void)
{
    EXPECT_ERRORS("{'listen':[{'host':'127.0.0.1','port':70000}]," ONE_API "}",
                  E("listen[0].port: expected an integer 0..65535, got 70000"));
    EXPECT_ERRORS("{'workers':0," ONE_API "}", E("workers: expected an integer 1..64, got 0"));
    EXPECT_ERRORS("{'limits':{'messageBytes':134217729}," ONE_API "}",
                  E("limits.messageBytes: expected an integer 1..134217728, got 134217729"));
    EXPECT_ERRORS("{'limits':{'drainSeconds':-1,'pingIntervalSeconds':86401}," ONE_API "}",
                  E("limits.drainSeconds: expected an integer 0..3600, got -1"),
                  E("limits.pingIntervalSeconds: expected an integer 0..86400, got 86401"));
    EXPECT_ERRORS("{'limits':{'messageBytes':1000,'frameBytes':1001}," ONE_API "}",
                  E("limits.frameBytes: 1001 is larger than limits.messageBytes (1000): a frame "
                    "is part of a message"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                  ",'integrations':{'m':{'type':'MOCK','timeoutMs':10,'response':{'body':'x'}}},"
                  "" ROUTES "}]}",
                  E("apis[0].integrations.m.timeoutMs: expected an integer 50..30000, got 10"));
}

static void test_missing_required(void)
{
    EXPECT_ERRORS("{'apis':[{" STAGES "," INTEGS "," ROUTES "}]}",
                  E("apis[0]: missing required key \"name\""),
                  E("apis[0]: missing required key \"protocolType\""));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," INTEGS "}]}",
                  E("apis[0]: missing required key \"stages\""),
                  E("apis[0]: missing required key \"routes\""));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET','stages':{},'routes':{}}]}",
                  E("apis[0].stages: expected at least one stage"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                  ",'integrations':{'m':{'response':{}}}," ROUTES "}]}",
                  E("apis[0].integrations.m: missing required key \"type\""));
    EXPECT_ERRORS("{'listen':[{'port':1},{'host':'h'},{}]," ONE_API "}",
                  E("listen[0]: missing required key \"host\""),
                  E("listen[1]: missing required key \"port\""),
                  E("listen[2]: expected host and port, or unixSocket"));
    EXPECT_ERRORS("{'credentials':[{'accessKeyId':'AK'},{'secretAccessKey':'s'}]," ONE_API "}",
                  E("credentials[0]: missing required key \"secretAccessKey\""),
                  E("credentials[1]: missing required key \"accessKeyId\""));
}

static void test_access_log(void)
{
    struct pt_config *c = parse_ok("{" ONE_API "}");

    CHECK(c != NULL && c->access_log == NULL); /* off unless given */
    pt_config_unref(c);
    c = parse_ok("{'accessLog':{}," ONE_API "}");
    CHECK(c != NULL && c->access_log != NULL);
    if (c != NULL && c->access_log != NULL)
        CHECK_EQ_STR(c->access_log->path, "-");
    pt_config_unref(c);
    c = parse_ok("{'accessLog':{'path':'logs/a.log','format':'s=$context.status'}," ONE_API "}");
    CHECK(c != NULL && c->access_log != NULL);
    if (c != NULL && c->access_log != NULL) {
        size_t n = strlen(c->access_log->path);

        CHECK(n > 11 && strcmp(c->access_log->path + n - 11, "/logs/a.log") == 0);
    }
    pt_config_unref(c);
    EXPECT_ERRORS("{'accessLog':{'path':'','mode':1}," ONE_API "}",
                  E("accessLog.mode: unknown key"),
                  E("accessLog.path: expected a file name, or \"-\" for standard output"));
    EXPECT_ERRORS("{'accessLog':'-'," ONE_API "}", E("accessLog: expected an object, got \"-\""));
    {
        struct pt_errors errs;
        static const char want[] =
            E("accessLog.format: unknown variable $context.statuss (known: ");

        c = parse("{'accessLog':{'format':'$context.statuss'}," ONE_API "}", &errs);
        CHECK(c == NULL);
        CHECK_EQ_INT(errs.count, 1);
        CHECK(errs.count == 1 && strncmp(errs.lines[0], want, sizeof(want) - 1) == 0);
        pt_errors_cleanup(&errs);
    }
}

/* Errors inside blocks: missing keys, keys of the wrong protocol, bad TLS and authorizers. */
static void test_block_errors(void)
{
    EXPECT_ERRORS("{'cluster':{},'workers':2," ONE_API "}",
                  E("cluster: missing required key \"redis\""));
    EXPECT_ERRORS("{'listen':[{'host':'0.0.0.0','port':8443,'tls':{}}]," ONE_API "}",
                  E("listen[0].tls: missing required key \"certificate\""),
                  E("listen[0].tls: missing required key \"privateKey\""));
    EXPECT_ERRORS("{'apis':[" API("'apiKeySelectionExpression':'$request.querystring.k',"
                                  "'authorizers':[],'cors':{},") "]}",
                  E("apis[0].cors: only HTTP APIs have this key"),
                  E("apis[0].apiKeySelectionExpression: expected $request.header.NAME or "
                    "$context.authorizer.usageIdentifierKey"),
                  E("apis[0].authorizers: expected an object of authorizers by name"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET','stages':{'dev':"
                  "{'throttle':{},'cache':{}}}," INTEGS "," ROUTES "}]}",
                  E("apis[0].stages.dev.throttle: missing required key \"rateLimit\""),
                  E("apis[0].stages.dev.throttle: missing required key \"burstLimit\""),
                  E("apis[0].stages.dev.cache: only HTTP APIs cache responses"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES "," INTEGS
                  ",'routes':{'$connect':{'integration':'m','authorizer':'nobody',"
                  "'apiKeyRequired':true,'authorizationScopes':[],'cache':{}},"
                  "'hello':{'integration':'m','authorizer':'AWS_IAM'}}}]}",
                  E("apis[0].routes[\"$connect\"].authorizer: no authorizer named \"nobody\""),
                  E("apis[0].routes[\"$connect\"].cache: only HTTP APIs cache responses"),
                  E("apis[0].routes.hello.authorizer: on WebSocket APIs only $connect has an "
                    "authorizer"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'HTTP'," STAGES "," INTEGS
                  ",'routes':{'GET /a/{x}':{'integration':'m','routeResponse':true},"
                  "'GET /a/{y}':{'integration':'m'}}}]}",
                  E("apis[0].routes[\"GET /a/{x}\"].routeResponse: HTTP routes always answer: only "
                    "WEBSOCKET routes have this key"),
                  E("apis[0].routes[\"GET /a/{y}\"]: duplicate route key \"GET /a/{y}\": same "
                    "method and path as \"GET /a/{x}\""));
}

/* Upstream URLs: only http:// and https://, and their template variables must be known. */
static void test_upstream_urls(void)
{
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                  ",'integrations':{'h':{'type':'HTTP_PROXY','uri':'ftp://x/'},"
                  "'f':{'type':'AWS_PROXY','uri':'http://x/$context.nope'}},"
                  "'routes':{'$default':{'integration':'h'},'x':{'integration':'f'}}}]}",
                  E("apis[0].integrations.h.uri: expected the http:// or https:// URL of an "
                    "HTTP backend, got \"ftp://x/\""),
                  E("apis[0].integrations.f.uri: unknown template variable \"$context.nope\""));
}

static void test_integration_refs(void)
{
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                  ",'integrations':{'backend':" MOCK "},"
                  "'routes':{'$connect':{'integration':'backnd'}}}]}",
                  E("apis[0].routes[\"$connect\"].integration: no integration named \"backnd\""));
    /* Integrations belong to their API. */
    EXPECT_ERRORS("{'apis':[" API() ",{'name':'b','protocolType':'WEBSOCKET','basePath':'/b',"
                                    "" STAGES ",'routes':{'x':{'integration':'m'}}}]}",
                  E("apis[1].routes.x.integration: no integration named \"m\""));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                  ",'integrations':{'m':" MOCK ",'m':" MOCK "}," ROUTES "}]}",
                  E("apis[0].integrations.m: duplicate key"));
}

static void test_unknown_integration_type(void)
{
    static const char prefix[] =
        E("apis[0].integrations.m.type: unknown integration type \"FOO\" (known: MOCK");
    struct pt_errors errs;

    CHECK(parse("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES
                ",'integrations':{'m':{'type':'FOO'}}," ROUTES "}]}",
                &errs) == NULL);
    CHECK_EQ_INT(errs.count, 1);
    if (errs.count == 1) {
        CHECK(strncmp(errs.lines[0], prefix, strlen(prefix)) == 0);
        CHECK(strchr(errs.lines[0], ')') != NULL);
    } else {
        print_errors(&errs);
    }
    pt_errors_cleanup(&errs);
}

static void test_route_keys(void)
{
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES "," INTEGS
                  ",'routes':{'$conect':{'integration':'m'},'':{'integration':'m'},"
                  "'$disconnect':{'integration':'m','routeResponse':true}}}]}",
                  E("apis[0].routes[\"$conect\"]: route keys starting with '$' must be "
                    "$connect, $disconnect or $default"),
                  E("apis[0].routes[\"\"]: a route key cannot be empty"),
                  E("apis[0].routes[\"$disconnect\"].routeResponse: $disconnect cannot answer: "
                    "the client is gone"));
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET'," STAGES "," INTEGS
                  ",'routes':{'x':{'integration':'m'},'x':{'integration':'m'}}}]}",
                  E("apis[0].routes.x: duplicate key"));
}

static void test_management_auth_public(void)
{
    EXPECT_ERRORS("{'listen':[{'host':'127.0.0.1','port':1},{'host':'0.0.0.0','port':2}],"
                  "'apis':[" API("'managementAuth':'NONE',") "]}",
                  E("apis[0].managementAuth: NONE is allowed only when every listener is on "
                    "loopback or a unix socket, but listen[1] is on \"0.0.0.0\": anyone who "
                    "reaches it could post to and close any connection"));
    EXPECT_ERRORS("{'listen':[{'host':'::ffff:10.0.0.1','port':1}],"
                  "'apis':[" API("'managementAuth':'NONE',") "]}",
                  E("apis[0].managementAuth: NONE is allowed only when every listener is on "
                    "loopback or a unix socket, but listen[0] is on \"::ffff:10.0.0.1\": anyone "
                    "who reaches it could post to and close any connection"));
}

static void test_api_names_and_urls(void)
{
    EXPECT_ERRORS("{'apis':[" API("'basePath':'/x',") "," API() "," API("'basePath':'/y',") "]}",
                  E("apis[1].name: duplicate api name \"a\" (also apis[0])"),
                  E("apis[2].name: duplicate api name \"a\" (also apis[0])"));
    EXPECT_ERRORS("{'apis':[" API() ",{'name':'b','protocolType':'WEBSOCKET','basePath':'//',"
                                    "" STAGES "," INTEGS "," ROUTES "}]}",
                  E("apis[1].basePath: expected a URL path such as \"/\" or \"/chat\" (starting "
                    "with '/', no empty, '.' or '..' segment)"));
    EXPECT_ERRORS("{'apis':[" API() ",{'name':'b','protocolType':'WEBSOCKET','basePath':'/',"
                                    "" STAGES "," INTEGS "," ROUTES "}]}",
                  E("apis[1].stages.dev: apis[0] has the same basePath \"/\" and stage: the URL "
                    "would be ambiguous"));
    EXPECT_ERRORS("{'apis':[" API("'basePath':'/a/',") ",{'name':'b','protocolType':'WEBSOCKET',"
                                                       "'basePath':'/a'," STAGES "," INTEGS
                                                       "," ROUTES "}]}",
                  E("apis[1].stages.dev: apis[0] has the same basePath \"/a\" and stage: the URL "
                    "would be ambiguous"));
    EXPECT_ERRORS("{'apis':[" API("'basePath':'chat',") "]}",
                  E("apis[0].basePath: expected a URL path such as \"/\" or \"/chat\" (starting "
                    "with '/', no empty, '.' or '..' segment)"));
    EXPECT_ERRORS("{'apis':[" API("'name':'',") "]}", E("apis[0].name: duplicate key"));
    EXPECT_ERRORS("{'apis':[{'name':'','protocolType':'WEBSOCKET'," STAGES "," INTEGS "," ROUTES
                  "}]}",
                  E("apis[0].name: expected a non-empty string"));
}

static void test_stage_errors(void)
{
    EXPECT_ERRORS("{'apis':[{'name':'a','protocolType':'WEBSOCKET','stages':{'a b':{},"
                  "'$prod':{},'ok':{'variables':{'x-y':'1'}}}," INTEGS "," ROUTES "}]}",
                  E("apis[0].stages[\"a b\"]: stage names are 1 to 128 letters, digits, '-' or "
                    "'_' (or \"$default\")"),
                  E("apis[0].stages[\"$prod\"]: stage names are 1 to 128 letters, digits, '-' or "
                    "'_' (or \"$default\")"),
                  E("apis[0].stages.ok.variables[\"x-y\"]: variable names use letters, digits and "
                    "'_'"));
}

static void test_selection_expression(void)
{
    EXPECT_ERRORS("{'apis':[" API("'routeSelectionExpression':'$request.header.x',") "]}",
                  E("apis[0].routeSelectionExpression: only $request.body.PATH can select a "
                    "route, not $request.header.x"));
    EXPECT_ERRORS("{'apis':[" API("'routeSelectionExpression':'action',") "]}",
                  E("apis[0].routeSelectionExpression: expected $request.body.PATH (a field of "
                    "the message)"));
    EXPECT_ERRORS("{'apis':[" API("'routeSelectionExpression':'${request.body',") "]}",
                  E("apis[0].routeSelectionExpression: unterminated \"${\" at offset 0"));
}

static void test_listen_errors(void)
{
    EXPECT_ERRORS("{'listen':[]," ONE_API "}", E("listen: expected 1 to 64 listeners, got 0"));
    EXPECT_ERRORS("{'listen':[{'unixSocket':'x','port':1},{'unixSocket':''},{'host':'','port':1},"
                  "{'host':'h','port':5},{'host':'h','port':5}]," ONE_API "}",
                  E("listen[0]: unixSocket excludes host and port"),
                  E("listen[1].unixSocket: expected a non-empty path"),
                  E("listen[2].host: expected a non-empty host"),
                  E("listen[4]: the same address as listen[3]"));
}

static void test_credential_errors(void)
{
    EXPECT_ERRORS("{'credentials':[{'accessKeyId':'AK','secretAccessKey':'a'},"
                  "{'accessKeyId':'','secretAccessKey':''},"
                  "{'accessKeyId':'AK','secretAccessKey':'b'}]," ONE_API "}",
                  E("credentials[1].accessKeyId: expected a non-empty string"),
                  E("credentials[1].secretAccessKey: expected a non-empty string"),
                  E("credentials[2].accessKeyId: duplicate access key id (also credentials[0])"));
    EXPECT_ERRORS("{'credentials':{}," ONE_API "}",
                  E("credentials: expected an array, got an object"));
}

static void test_many_errors_at_once(void)
{
    EXPECT_ERRORS("{'listen':[{'host':'0.0.0.0','port':'80'}],'workers':4,"
                  "'limits':{'messageBytes':'big','frameBytez':1},'admin':{'port':-1},"
                  "'apis':[{'name':'chat','protocolType':'WEBSOCKET','managementAuth':'NONE',"
                  "'stages':{'dev':{}},'integrations':{'backend':" MOCK "},"
                  "'routes':{'$connect':{'integration':'backnd'},'$dflt':{'integration':'backend'}}"
                  "}]}",
                  E("listen[0].port: expected an integer 0..65535, got \"80\""),
                  E("limits.frameBytez: unknown key (did you mean \"frameBytes\"?)"),
                  E("limits.messageBytes: expected an integer 1..134217728, got \"big\""),
                  E("admin.port: expected an integer 0..65535, got -1"),
                  E("apis[0].routes[\"$connect\"].integration: no integration named \"backnd\""),
                  E("apis[0].routes[\"$dflt\"]: route keys starting with '$' must be $connect, "
                    "$disconnect or $default"),
                  E("apis[0].managementAuth: NONE is allowed only when every listener is on "
                    "loopback or a unix socket, but listen[0] is on \"0.0.0.0\": anyone who "
                    "reaches it could post to and close any connection"));
}

/* ---- The walker and paths directly ---- */

struct walk_target {
    long long n, u;
    bool b;
    char *s, *d;
    int e;
};

static void test_paths(void)
{
    char out[64];

    pt_conf_path_key(out, sizeof(out), "", "apis");
    CHECK_EQ_STR(out, "apis");
    pt_conf_path_key(out, sizeof(out), "", "$x");
    CHECK_EQ_STR(out, "[\"$x\"]");
    pt_conf_path_key(out, sizeof(out), "apis[0].routes", "$connect");
    CHECK_EQ_STR(out, "apis[0].routes[\"$connect\"]");
    pt_conf_path_key(out, sizeof(out), "a", "q\"b");
    CHECK_EQ_STR(out, "a[\"q\\\"b\"]");
    pt_conf_path_key(out, sizeof(out), "a", "_x9");
    CHECK_EQ_STR(out, "a._x9");
    pt_conf_path_key(out, sizeof(out), "a", "9x");
    CHECK_EQ_STR(out, "a[\"9x\"]");
    pt_conf_path_index(out, sizeof(out), "apis", 12);
    CHECK_EQ_STR(out, "apis[12]");
    pt_conf_path_index(out, sizeof(out), out, 3); /* in place */
    CHECK_EQ_STR(out, "apis[12][3]");
    pt_conf_path_key(out, 8, "abcdef", "ghijk"); /* cut, never overflowing */
    CHECK_EQ_STR(out, "abcdef.");
}

static void test_walker(void)
{
    static const char *const colours[] = {"red", "green", NULL};
    static const char *const ignore[] = {"i1", "i2", "i3", "i4", "i5",
                                         "i6", "i7", "i8", "i9", NULL};
    static const struct pt_conf_field fields[] = {
        {"n", PT_CONF_INT, offsetof(struct walk_target, n), 1, 10, 5},
        {"u", PT_CONF_INT, offsetof(struct walk_target, u)}, /* no bounds */
        {"b", PT_CONF_BOOL, offsetof(struct walk_target, b), .def = 1},
        {"s", PT_CONF_STR, offsetof(struct walk_target, s), .required = true},
        {"d", PT_CONF_STR, offsetof(struct walk_target, d), .def_str = "dflt"},
        {"e", PT_CONF_ENUM, offsetof(struct walk_target, e), .def = 1, .enum_values = colours},
        {NULL},
    };
    struct walk_target t;
    struct pt_errors errs;
    cJSON *obj;

    pt_errors_init(&errs, "f");
    obj = cJSON_Parse("{\"u\":-7000000000,\"s\":\"hi\",\"i9\":{},\"i1\":0,\"e\":\"red\"}");
    CHECK_EQ_INT(pt_conf_walk(obj, "x", fields, &t, ignore, &errs), 0);
    CHECK_EQ_INT(t.n, 5);
    CHECK_EQ_INT(t.u, -7000000000LL);
    CHECK(t.b);
    CHECK_EQ_STR(t.s, "hi");
    CHECK_EQ_STR(t.d, "dflt");
    CHECK_EQ_INT(t.e, 0);
    pt_conf_release(fields, &t);
    CHECK(t.s == NULL && t.d == NULL);
    cJSON_Delete(obj);

    obj = cJSON_Parse("{\"n\":11,\"u\":1e300,\"b\":0,\"e\":\"blue\",\"s\":\"a\","
                      "\"s\":\"b\",\"zzz\":1}");
    CHECK_EQ_INT(pt_conf_walk(obj, "", fields, &t, NULL, &errs), 6);
    CHECK_EQ_INT(t.n, 5); /* defaults after errors */
    CHECK_EQ_INT(t.e, 1);
    CHECK_EQ_STR(t.s, "a");
    pt_conf_release(fields, &t);
    cJSON_Delete(obj);
    if (errs.count == 6) {
        CHECK_EQ_STR(errs.lines[0], "f: s: duplicate key");
        CHECK_EQ_STR(errs.lines[1], "f: zzz: unknown key");
        CHECK_EQ_STR(errs.lines[2], "f: n: expected an integer 1..10, got 11");
        CHECK_EQ_STR(errs.lines[3], "f: u: expected an integer, got 1e+300");
        CHECK_EQ_STR(errs.lines[4], "f: b: expected true or false, got 0");
        CHECK_EQ_STR(errs.lines[5], "f: e: expected one of \"red\", \"green\", got \"blue\"");
    }
    if (errs.count != 6)
        print_errors(&errs);
    pt_errors_cleanup(&errs);

    pt_errors_init(&errs, "f");
    CHECK_EQ_INT(pt_conf_walk(NULL, "x", fields, &t, NULL, &errs), 1);
    CHECK_EQ_STR(t.d, "dflt");
    pt_conf_release(fields, &t);
    if (errs.count == 1)
        CHECK_EQ_STR(errs.lines[0], "f: x: expected an object, got nothing");
    pt_errors_cleanup(&errs);
}

int main(void)
{
    RUN(test_sample_loads);
    RUN(test_missing_file);
    RUN(test_defaults);
    RUN(test_values_kept);
    RUN(test_frame_bytes_explicit);
    RUN(test_refcount);
    RUN(test_shared_base_path_other_stages);
    RUN(test_no_routes);
    RUN(test_management_none_local);
    RUN(test_invalid_json);
    RUN(test_root_errors);
    RUN(test_unknown_keys);
    RUN(test_wrong_types);
    RUN(test_out_of_range);
    RUN(test_missing_required);
    RUN(test_access_log);
    RUN(test_block_errors);
    RUN(test_upstream_urls);
    RUN(test_integration_refs);
    RUN(test_unknown_integration_type);
    RUN(test_route_keys);
    RUN(test_management_auth_public);
    RUN(test_api_names_and_urls);
    RUN(test_stage_errors);
    RUN(test_selection_expression);
    RUN(test_listen_errors);
    RUN(test_credential_errors);
    RUN(test_many_errors_at_once);
    RUN(test_paths);
    RUN(test_walker);
    return harness_finish("test_config");
}
