/* Config loading (SPEC section 2): reads the file, parses the JSON, fills the immutable snapshot
 * with the field-table walker (conf_walk.c) and frees it when the last reference goes. The top
 * level, listeners, limits and credentials are here; APIs are in config_api.c, checks across
 * them in config_check.c. Runs before the
 * loops start or on the reload thread: it reads files, so never on a worker loop. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "accesslog_format.h"
#include "config_auth.h"
#include "errors.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/xalloc.h"
#include "tls.h"

#define CONFIG_MAX_BYTES  (16 << 20) /* a config file larger than this is refused */
#define MAX_LISTENERS     64
#define MAX_MESSAGE_BYTES 134217728LL
#define MAX_BUFFER_BYTES  1073741824LL
#define MAX_TIMEOUT_S     31536000LL /* one year */
#define DEFAULT_HOST      "127.0.0.1"
#define DEFAULT_PORT      8080

static const struct pt_conf_field top_fields[] = {
    {"listen", PT_CONF_ANY},
    {"admin", PT_CONF_ANY},
    {"workers", PT_CONF_INT, offsetof(struct pt_config, workers), 1, 64, 1},
    {"cluster", PT_CONF_ANY},
    {"limits", PT_CONF_ANY},
    {"accessLog", PT_CONF_ANY},
    {"credentials", PT_CONF_ANY},
    {"throttle", PT_CONF_ANY},
    {"apiKeys", PT_CONF_ANY},
    {"usagePlans", PT_CONF_ANY},
    {"apis", PT_CONF_ANY, .required = true},
    {NULL},
};

#define LIM(member) offsetof(struct pt_limits, member)
static const struct pt_conf_field limits_fields[] = {
    {"maxConnections", PT_CONF_INT, LIM(max_connections), 1, 10000000, 100000},
    {"messageBytes", PT_CONF_INT, LIM(message_bytes), 1, MAX_MESSAGE_BYTES, 131072},
    /* 0, below the minimum, marks "absent": it then follows messageBytes (SPEC section 4) */
    {"frameBytes", PT_CONF_INT, LIM(frame_bytes), 1, MAX_MESSAGE_BYTES, 0},
    {"idleTimeoutSeconds", PT_CONF_INT, LIM(idle_timeout_s), 1, MAX_TIMEOUT_S, 600},
    {"maxConnectionSeconds", PT_CONF_INT, LIM(max_connection_s), 1, MAX_TIMEOUT_S, 7200},
    {"requestBodyBytes", PT_CONF_INT, LIM(request_body_bytes), 1, MAX_BUFFER_BYTES, 10485760},
    {"sendQueueBytes", PT_CONF_INT, LIM(send_queue_bytes), 1, MAX_BUFFER_BYTES, 1048576},
    {"drainSeconds", PT_CONF_INT, LIM(drain_s), 0, 3600, 10},
    {"pingIntervalSeconds", PT_CONF_INT, LIM(ping_interval_s), 0, 86400, 30},
    {NULL},
};
#undef LIM

#define LST(member) offsetof(struct pt_listen, member)
static const struct pt_conf_field listen_fields[] = {
    {"host", PT_CONF_STR, LST(host)},
    {"port", PT_CONF_INT, LST(port), 0, 65535, -1},
    {"unixSocket", PT_CONF_STR, LST(unix_socket)},
    {"tls", PT_CONF_ANY},
    {NULL},
};
#undef LST

struct tls_raw {
    char *certificate;
    char *private_key;
    bool http2;
};

#define TLS(member) offsetof(struct tls_raw, member)
static const struct pt_conf_field tls_fields[] = {
    {"certificate", PT_CONF_STR, TLS(certificate), .required = true},
    {"privateKey", PT_CONF_STR, TLS(private_key), .required = true},
    {"http2", PT_CONF_BOOL, TLS(http2), .def = 1},
    {NULL},
};
#undef TLS

#define CRED(member) offsetof(struct pt_credential, member)
static const struct pt_conf_field credential_fields[] = {
    {"accessKeyId", PT_CONF_STR, CRED(access_key_id), .required = true},
    {"secretAccessKey", PT_CONF_STR, CRED(secret_access_key), .required = true},
    {NULL},
};
#undef CRED

/* An object with no keys: walking it stores every default. */
static const cJSON empty_object = {.type = cJSON_Object};

static const cJSON *or_empty(const cJSON *obj)
{
    return obj != NULL ? obj : &empty_object;
}

/* Reports <v> at <path> unless it is a JSON array. */
static bool expect_array(const cJSON *v, const char *path, struct pt_errors *errs)
{
    if (cJSON_IsArray(v))
        return true;
    pt_conf_expected(v, "an array", path, errs);
    return false;
}

/* ---- Paths on disk ---- */

/* The absolute form of folder <dir> (NULL: the current folder). */
static char *absolute_dir(const char *dir)
{
    struct pt_buf b;
    char *cwd;

    if (dir != NULL && dir[0] == '/')
        return pt_xstrdup(dir);
    cwd = getcwd(NULL, 0);
    pt_buf_init(&b);
    pt_buf_puts(&b, cwd != NULL ? cwd : ".");
    free(cwd);
    if (dir != NULL && dir[0] != '\0' && strcmp(dir, ".") != 0) {
        if (strncmp(dir, "./", 2) == 0)
            dir += 2;
        if (b.len == 0 || b.data[b.len - 1] != '/')
            pt_buf_putc(&b, '/');
        pt_buf_puts(&b, dir);
    }
    return pt_buf_take(&b, NULL);
}

static char *resolve_path(const char *dir, const char *p)
{
    struct pt_buf b;

    if (p[0] == '/')
        return pt_xstrdup(p);
    pt_buf_init(&b);
    pt_buf_puts(&b, dir);
    if (b.len == 0 || b.data[b.len - 1] != '/')
        pt_buf_putc(&b, '/');
    pt_buf_puts(&b, p);
    return pt_buf_take(&b, NULL);
}

/* ---- Listeners ---- */

/* Loads the certificate and key once now, so that a bad pair is a config error with a path
 * rather than a failure at start. */
static void parse_tls(struct pt_config *c, struct pt_listen *l, const cJSON *obj, const char *path,
                      struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN], err[512];
    struct tls_raw raw = {0};
    SSL_CTX *ctx;

    pt_conf_path_key(kpath, sizeof(kpath), path, "tls");
    if (l->unix_socket != NULL) {
        pt_errors_add(errs, kpath, "TLS is for TCP listeners");
        return;
    }
    if (pt_conf_walk(obj, kpath, tls_fields, &raw, NULL, errs) > 0) {
        pt_conf_release(tls_fields, &raw);
        return;
    }
    l->tls_certificate = resolve_path(c->dir, raw.certificate);
    l->tls_private_key = resolve_path(c->dir, raw.private_key);
    l->http2 = raw.http2;
    pt_conf_release(tls_fields, &raw);
    ctx = pt_tls_ctx_new(l->tls_certificate, l->tls_private_key, l->http2, err, sizeof(err));
    if (ctx == NULL)
        pt_errors_add(errs, kpath, "%s", err);
    pt_tls_ctx_free(ctx);
}

static void check_listener(struct pt_config *c, struct pt_listen *l, const cJSON *obj,
                           const char *path, struct pt_errors *errs)
{
    bool has_host = cJSON_GetObjectItemCaseSensitive(obj, "host") != NULL;
    bool has_port = cJSON_GetObjectItemCaseSensitive(obj, "port") != NULL;
    bool has_unix = cJSON_GetObjectItemCaseSensitive(obj, "unixSocket") != NULL;
    char kpath[PT_CONFIG_PATH_LEN];
    char *abs;

    if (has_unix) {
        if (has_host || has_port)
            pt_errors_add(errs, path, "unixSocket excludes host and port");
        if (l->unix_socket == NULL)
            return;
        pt_conf_path_key(kpath, sizeof(kpath), path, "unixSocket");
        if (l->unix_socket[0] == '\0') {
            pt_errors_add(errs, kpath, "expected a non-empty path");
            return;
        }
        abs = resolve_path(c->dir, l->unix_socket);
        free(l->unix_socket);
        l->unix_socket = abs;
        if (strlen(abs) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
            pt_errors_add(errs, kpath, "\"%s\" is too long for a unix socket (at most %zu bytes)",
                          abs, sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
        return;
    }
    if (!has_host && !has_port)
        pt_errors_add(errs, path, "expected host and port, or unixSocket");
    else if (!has_host)
        pt_errors_add(errs, path, "missing required key \"host\"");
    else if (!has_port)
        pt_errors_add(errs, path, "missing required key \"port\"");
    if (l->host != NULL && l->host[0] == '\0') {
        pt_conf_path_key(kpath, sizeof(kpath), path, "host");
        pt_errors_add(errs, kpath, "expected a non-empty host");
    }
}

static bool same_listener(const struct pt_listen *a, const struct pt_listen *b)
{
    if (a->unix_socket != NULL || b->unix_socket != NULL)
        return a->unix_socket != NULL && b->unix_socket != NULL &&
               strcmp(a->unix_socket, b->unix_socket) == 0;
    /* Port 0 asks the kernel for a fresh port each time: never a clash. */
    return a->host != NULL && b->host != NULL && a->port > 0 && a->port == b->port &&
           strcmp(a->host, b->host) == 0;
}

static void parse_listen(struct pt_config *c, const cJSON *arr, struct pt_errors *errs)
{
    char ipath[PT_CONFIG_PATH_LEN];
    const cJSON *item;
    size_t i = 0, j, n;

    if (arr == NULL) {
        c->listens = pt_xcalloc(1, sizeof(*c->listens));
        c->nlistens = 1;
        c->listens[0].host = pt_xstrdup(DEFAULT_HOST);
        c->listens[0].port = DEFAULT_PORT;
        return;
    }
    if (!expect_array(arr, "listen", errs))
        return;
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0 || n > MAX_LISTENERS) {
        pt_errors_add(errs, "listen", "expected 1 to %d listeners, got %zu", MAX_LISTENERS, n);
        return;
    }
    c->listens = pt_xcalloc(n, sizeof(*c->listens));
    c->nlistens = n;
    cJSON_ArrayForEach(item, arr)
    {
        pt_conf_path_index(ipath, sizeof(ipath), "listen", i);
        if (pt_conf_walk(item, ipath, listen_fields, &c->listens[i], NULL, errs) == 0 ||
            cJSON_IsObject(item))
            check_listener(c, &c->listens[i], item, ipath, errs);
        if (cJSON_GetObjectItemCaseSensitive(item, "tls") != NULL)
            parse_tls(c, &c->listens[i], cJSON_GetObjectItemCaseSensitive(item, "tls"), ipath,
                      errs);
        for (j = 0; j < i; j++) {
            if (same_listener(&c->listens[j], &c->listens[i])) {
                pt_errors_add(errs, ipath, "the same address as listen[%zu]", j);
                break;
            }
        }
        i++;
    }
}

/* ---- The admin listener ---- */

struct admin_raw {
    char *host;
    long long port;
    char *token;
};

static const struct pt_conf_field admin_fields[] = {
    {"host", PT_CONF_STR, offsetof(struct admin_raw, host), .def_str = "127.0.0.1"},
    {"port", PT_CONF_INT, offsetof(struct admin_raw, port), 0, 65535, 9180},
    {"token", PT_CONF_ANY},
    {NULL},
};

static void parse_admin(struct pt_config *c, const cJSON *obj, struct pt_errors *errs)
{
    const cJSON *token;
    struct admin_raw raw = {0};

    if (obj == NULL)
        return;
    if (pt_conf_walk(obj, "admin", admin_fields, &raw, NULL, errs) > 0) {
        pt_conf_release(admin_fields, &raw);
        return;
    }
    token = cJSON_GetObjectItemCaseSensitive(obj, "token");
    if (cJSON_IsString(token) && token->valuestring[0] != '\0')
        c->admin_token = pt_xstrdup(token->valuestring);
    else if (token != NULL && !cJSON_IsNull(token))
        pt_errors_add(errs, "admin.token", "expected a non-empty string or null");
    c->admin.host = raw.host;
    c->admin.port = raw.port;
    raw.host = NULL;
    pt_conf_release(admin_fields, &raw);
}

/* ---- The access log ---- */

/* SPEC section 7's example, plus the event type that tells WebSocket lines apart. */
#define DEFAULT_ACCESS_LOG_FORMAT                                                         \
    "$context.requestId $context.identity.sourceIp $context.eventType $context.routeKey " \
    "$context.status $context.responseLatency"

struct access_log_raw {
    char *path;
    char *format;
};

static const struct pt_conf_field access_log_fields[] = {
    {"path", PT_CONF_STR, offsetof(struct access_log_raw, path), .def_str = "-"},
    {"format", PT_CONF_STR, offsetof(struct access_log_raw, format),
     .def_str = DEFAULT_ACCESS_LOG_FORMAT},
    {NULL},
};

static void parse_access_log(struct pt_config *c, const cJSON *obj, struct pt_errors *errs)
{
    struct access_log_raw raw = {0};
    struct pt_alog_format *format = NULL;
    char err[1400];

    if (obj == NULL)
        return;
    pt_conf_walk(obj, "accessLog", access_log_fields, &raw, NULL, errs);
    if (raw.path == NULL || raw.format == NULL) /* not an object, or a wrong type: reported */
        goto done;
    if (raw.path[0] == '\0')
        pt_errors_add(errs, "accessLog.path", "expected a file name, or \"-\" for standard output");
    if (strlen(raw.format) > 4096)
        pt_errors_add(errs, "accessLog.format", "longer than 4096 characters");
    else if ((format = pt_alog_format_compile(raw.format, err, sizeof(err))) == NULL)
        pt_errors_add(errs, "accessLog.format", "%s", err);
    if (format == NULL || raw.path[0] == '\0') {
        pt_alog_format_free(format);
        goto done;
    }
    c->access_log = pt_xcalloc(1, sizeof(*c->access_log));
    c->access_log->path =
        strcmp(raw.path, "-") == 0 ? pt_xstrdup("-") : resolve_path(c->dir, raw.path);
    c->access_log->format = format;
done:
    pt_conf_release(access_log_fields, &raw);
}

/* ---- Limits, workers, credentials ---- */

static void parse_limits(struct pt_config *c, const cJSON *obj, struct pt_errors *errs)
{
    pt_conf_walk(or_empty(obj), "limits", limits_fields, &c->limits, NULL, errs);
    if (c->limits.frame_bytes == 0) {
        c->limits.frame_bytes = c->limits.message_bytes;
    } else if (c->limits.frame_bytes > c->limits.message_bytes) {
        pt_errors_add(errs, "limits.frameBytes",
                      "%lld is larger than limits.messageBytes (%lld): a frame is part of a "
                      "message",
                      c->limits.frame_bytes, c->limits.message_bytes);
    }
}

static int cmp_credential_index(const void *a, const void *b, void *arg)
{
    const struct pt_credential *creds = arg;
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    int r;

    r = strcmp(creds[ia].access_key_id, creds[ib].access_key_id);
    if (r != 0)
        return r;
    return ia < ib ? -1 : ia > ib;
}

/* Duplicate access key ids: sorted, so a large list stays cheap. */
static void check_credential_ids(struct pt_config *c, struct pt_errors *errs)
{
    char ipath[PT_CONFIG_PATH_LEN];
    size_t *order, n = 0, i, first = 0;

    order = pt_xmalloc((c->ncredentials + 1) * sizeof(*order));
    for (i = 0; i < c->ncredentials; i++)
        if (c->credentials[i].access_key_id != NULL && c->credentials[i].access_key_id[0])
            order[n++] = i;
    qsort_r(order, n, sizeof(*order), cmp_credential_index, c->credentials);
    for (i = 1; i < n; i++) {
        if (strcmp(c->credentials[order[i]].access_key_id,
                   c->credentials[order[i - 1]].access_key_id) != 0) {
            first = i;
            continue;
        }
        pt_conf_path_index(ipath, sizeof(ipath), "credentials", order[i]);
        pt_conf_path_key(ipath, sizeof(ipath), ipath, "accessKeyId");
        pt_errors_add(errs, ipath, "duplicate access key id (also credentials[%zu])", order[first]);
    }
    free(order);
}

static void parse_credentials(struct pt_config *c, const cJSON *arr, struct pt_errors *errs)
{
    char ipath[PT_CONFIG_PATH_LEN], kpath[PT_CONFIG_PATH_LEN];
    struct pt_credential *cr;
    const cJSON *item;
    size_t i = 0;

    if (arr == NULL || !expect_array(arr, "credentials", errs))
        return;
    c->ncredentials = (size_t)cJSON_GetArraySize(arr);
    c->credentials = pt_xcalloc(c->ncredentials + 1, sizeof(*c->credentials));
    cJSON_ArrayForEach(item, arr)
    {
        cr = &c->credentials[i];
        pt_conf_path_index(ipath, sizeof(ipath), "credentials", i++);
        pt_conf_walk(item, ipath, credential_fields, cr, NULL, errs);
        if (cr->access_key_id != NULL && cr->access_key_id[0] == '\0') {
            pt_conf_path_key(kpath, sizeof(kpath), ipath, "accessKeyId");
            pt_errors_add(errs, kpath, "expected a non-empty string");
        }
        if (cr->secret_access_key != NULL && cr->secret_access_key[0] == '\0') {
            pt_conf_path_key(kpath, sizeof(kpath), ipath, "secretAccessKey");
            pt_errors_add(errs, kpath, "expected a non-empty string");
        }
    }
    check_credential_ids(c, errs);
}

static void parse_root(struct pt_config *c, const cJSON *root, struct pt_errors *errs)
{
    pt_conf_walk(root, "", top_fields, c, NULL, errs);
    if (!cJSON_IsObject(root)) {
        parse_limits(c, NULL, errs);
        return;
    }
    parse_listen(c, cJSON_GetObjectItemCaseSensitive(root, "listen"), errs);

    parse_limits(c, cJSON_GetObjectItemCaseSensitive(root, "limits"), errs);
    parse_credentials(c, cJSON_GetObjectItemCaseSensitive(root, "credentials"), errs);
    pt_config_auth_parse_apikeys(c, cJSON_GetObjectItemCaseSensitive(root, "apiKeys"), errs);
    parse_admin(c, cJSON_GetObjectItemCaseSensitive(root, "admin"), errs);
    parse_access_log(c, cJSON_GetObjectItemCaseSensitive(root, "accessLog"), errs);
    pt_config_api_parse(c, cJSON_GetObjectItemCaseSensitive(root, "apis"), errs);
    pt_config_check_apis(c, errs);
    if (cJSON_GetObjectItemCaseSensitive(root, "throttle") != NULL)
        pt_config_parse_throttle(cJSON_GetObjectItemCaseSensitive(root, "throttle"), "throttle",
                                 &c->throttle, errs);
    pt_config_plans_parse(c, cJSON_GetObjectItemCaseSensitive(root, "usagePlans"), errs);
    if (cJSON_GetObjectItemCaseSensitive(root, "cluster") != NULL)
        pt_config_parse_cluster(c, cJSON_GetObjectItemCaseSensitive(root, "cluster"), errs);
}

/* ---- Loading ---- */

/* "invalid JSON at line L, column C": columns count characters, not bytes. */
static void report_json_error(const char *json, const char *at, struct pt_errors *errs)
{
    size_t line = 1, col = 1;
    const char *p;

    for (p = json; at != NULL && p < at && *p != '\0'; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            col++;
        }
    }
    pt_errors_add(errs, "", "invalid JSON at line %zu, column %zu", line, col);
}

static void config_free(struct pt_config *c)
{
    size_t i;

    for (i = 0; i < c->nlistens; i++) {
        free(c->listens[i].host);
        free(c->listens[i].unix_socket);
        free(c->listens[i].tls_certificate);
        free(c->listens[i].tls_private_key);
    }
    free(c->listens);
    for (i = 0; i < c->ncredentials; i++) {
        free(c->credentials[i].access_key_id);
        free(c->credentials[i].secret_access_key);
    }
    free(c->credentials);
    free(c->admin.host);
    free(c->admin_token);
    if (c->access_log != NULL) {
        free(c->access_log->path);
        pt_alog_format_free(c->access_log->format);
        free(c->access_log);
    }
    pt_config_plans_cleanup(c);
    pt_config_cluster_free(c->cluster);
    pt_config_auth_cleanup_apikeys(c);
    for (i = 0; i < c->napis; i++)
        pt_config_api_cleanup(&c->apis[i]);
    free(c->apis);
    free(c->path);
    free(c->dir);
    free(c);
}

struct pt_config *pt_config_parse(const char *json, const char *name, const char *dir,
                                  struct pt_errors *errs)
{
    size_t before = errs->count;
    const char *end = NULL;
    struct pt_config *c;
    cJSON *root;

    if (errs->file == NULL)
        errs->file = name;
    c = pt_xcalloc(1, sizeof(*c));
    c->refs = 1;
    c->path = pt_xstrdup(name != NULL ? name : "config");
    c->dir = absolute_dir(dir);
    /* The parse end pointer, unlike cJSON_GetErrorPtr(), is not shared between threads. */
    root = cJSON_ParseWithOpts(json, &end, 1);
    if (root == NULL) {
        report_json_error(json, end, errs);
        goto fail;
    }
    parse_root(c, root, errs);
    cJSON_Delete(root);
    if (errs->count != before)
        goto fail;
    return c;

fail:
    config_free(c);
    return NULL;
}

/* Reads the whole file into a NUL-terminated string, or reports why not. */
static char *read_file(const char *path, struct pt_errors *errs)
{
    struct pt_buf b;
    char chunk[65536];
    size_t n;
    FILE *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        pt_errors_add(errs, "", "cannot open: %s", strerror(errno));
        return NULL;
    }
    pt_buf_init(&b);
    pt_buf_append(&b, "", 0);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > CONFIG_MAX_BYTES) {
            pt_errors_add(errs, "", "larger than %d bytes", CONFIG_MAX_BYTES);
            goto fail;
        }
        pt_buf_append(&b, chunk, n);
    }
    if (ferror(f)) {
        pt_errors_add(errs, "", "cannot read: %s", strerror(errno));
        goto fail;
    }
    if (memchr(b.data, '\0', b.len) != NULL) {
        pt_errors_add(errs, "", "invalid JSON: a NUL byte at offset %zu",
                      (size_t)((char *)memchr(b.data, '\0', b.len) - b.data));
        goto fail;
    }
    fclose(f);
    return pt_buf_take(&b, NULL);

fail:
    fclose(f);
    pt_buf_cleanup(&b);
    return NULL;
}

struct pt_config *pt_config_load(const char *path, struct pt_errors *errs)
{
    struct pt_config *c;
    const char *slash;
    char *text, *dir;

    if (errs->file == NULL)
        errs->file = path;
    text = read_file(path, errs);
    if (text == NULL)
        return NULL;
    slash = strrchr(path, '/');
    if (slash == NULL)
        dir = pt_xstrdup(".");
    else if (slash == path)
        dir = pt_xstrdup("/");
    else
        dir = pt_xstrndup(path, (size_t)(slash - path));
    c = pt_config_parse(text, path, dir, errs);
    free(dir);
    free(text);
    return c;
}

/* ---- References and lookups ---- */

struct pt_config *pt_config_ref(struct pt_config *c)
{
    if (c != NULL)
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void pt_config_unref(struct pt_config *c)
{
    if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
        config_free(c);
}

const char *pt_config_secret(const struct pt_config *c, const char *access_key_id)
{
    size_t i;

    for (i = 0; i < c->ncredentials; i++)
        if (strcmp(c->credentials[i].access_key_id, access_key_id) == 0)
            return c->credentials[i].secret_access_key;
    return NULL;
}
