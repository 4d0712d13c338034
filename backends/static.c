/* STATIC (beyond AWS, SPEC section 5): serves the files under a root folder on HTTP routes. The
 * route's greedy parameter (or, on a route without one, the whole route path) names the file; a
 * folder gives its index file; ETag and Last-Modified make conditional GETs answer 304. The path
 * is not decoded again here (the hub decoded it once), and nothing outside root is ever read:
 * '.' and '..' segments are refused, and the real path of what is opened must lie under the real
 * root, so symlinks may point around inside root but never out of it. Opening, checking and
 * reading happen on a helper thread (pt_offload_start); there are no ranges and no listings. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "errors.h"
#include "portico/backend.h"
#include "portico/buf.h"
#include "portico/conf.h"
#include "portico/err.h"
#include "portico/log.h"
#include "portico/offload.h"
#include "portico/xalloc.h"

#define MAX_FILE_BYTES (64LL << 20) /* a bigger file is answered 500, never read */
#define READ_CHUNK     (1 << 20)    /* bytes per read(): a cancelled read stops between chunks */

struct static_conf {
    char *root;          /* owned: as configured, then replaced by its real path */
    char *index;         /* owned: the file served for a folder, a plain name */
    char *cache_control; /* owned: the Cache-Control value; "" sends none */
};

#define OFF(member) offsetof(struct static_conf, member)

static const struct pt_conf_field fields[] = {
    {"root", PT_CONF_STR, OFF(root), .required = true},
    {"index", PT_CONF_STR, OFF(index), .def_str = "index.html"},
    {"cacheControl", PT_CONF_STR, OFF(cache_control), .def_str = "no-cache"},
    {NULL},
};

#undef OFF

static const char *const ignored[] = {"type", "timeoutMs", NULL};

/* One request. The helper thread touches only the "in" and "out" parts, so every input is an
 * owned copy: a cancelled call and its config may be gone before the thread is done. */
struct static_job {
    struct pt_call *call;       /* borrowed; NULL once cancelled */
    struct pt_offload *offload; /* NULL for an answer decided in invoke() */
    atomic_bool abandoned;      /* set by cancel(): the helper thread may stop reading */
    /* In: */
    char *root;              /* owned: the real root */
    char *path;              /* owned: root, '/', the checked relative path */
    char *index;             /* owned */
    char *if_none_match;     /* owned, or NULL when absent */
    char *if_modified_since; /* owned, or NULL when absent */
    bool want_dir;           /* the request path ends with '/' */
    /* Out: */
    int status;    /* the HTTP status, or 0 with err set */
    int err;       /* a PT_E* code: the hub answers 500 */
    int sys_errno; /* with err: what the system said, for the log */
    char *data;    /* owned: the file's bytes for a 200 */
    size_t data_len;
    const char *content_type; /* static */
    char etag[48];            /* "" when there is no file to describe */
    char last_modified[32];
};

/* ---- Names and dates ---- */

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"}, /* RFC 9239 */
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"pdf", "application/pdf"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
};

static const char *const day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The content type for the last segment of <path>, by its extension (any case). */
static const char *content_type_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash != NULL ? slash : path, '.');
    size_t i;

    if (dot != NULL) {
        for (i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
            if (strcasecmp(dot + 1, content_types[i].ext) == 0)
                return content_types[i].type;
    }
    return "application/octet-stream";
}

/* Writes <t> as an IMF-fixdate (RFC 9110 5.6.7), independent of the locale; "" for a time
 * beyond what struct tm holds. */
static void format_http_date(time_t t, char *out, size_t outlen)
{
    struct tm tm;

    out[0] = '\0';
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
        return;
    snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[tm.tm_wday], tm.tm_mday,
             month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Parses the three HTTP-date forms a recipient must accept (RFC 9110 5.6.7): IMF-fixdate,
 * RFC 850 and asctime. Returns false for anything else. */
static bool parse_http_date(const char *s, time_t *out)
{
    char wday[10], mon[4], zone[4];
    struct tm tm = {0};
    int n = 0, m;

    if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &tm.tm_mday, mon, &tm.tm_year,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone, &n) == 8 &&
        s[n] == '\0') {
        tm.tm_year -= 1900;
    } else if (sscanf(s, "%9[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wday, &tm.tm_mday, mon,
                      &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone, &n) == 8 &&
               s[n] == '\0') {
        if (tm.tm_year < 70) /* two-digit years: RFC 9110 says past 50 years from now */
            tm.tm_year += 100;
    } else if (sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec, &tm.tm_year, &n) == 7 &&
               s[n] == '\0') {
        tm.tm_year -= 1900;
        strcpy(zone, "GMT");
    } else {
        return false;
    }
    if (strcmp(zone, "GMT") != 0)
        return false;
    for (m = 0; m < 12 && strcmp(mon, month_names[m]) != 0; m++)
        ;
    if (m == 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
        return false;
    tm.tm_mon = m;
    *out = timegm(&tm);
    return *out != (time_t)-1;
}

/* If-None-Match (RFC 9110 13.1.2): "*" or a list of entity tags, compared weakly (a W/ prefix
 * is ignored). A malformed list stops matching where it breaks. */
static bool etag_listed(const char *list, const char *etag)
{
    const char *p = list, *end;
    size_t len = strlen(etag);

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return false;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"' || (end = strchr(p + 1, '"')) == NULL)
            return false;
        end++;
        if ((size_t)(end - p) == len && memcmp(p, etag, len) == 0)
            return true;
        p = end;
    }
}

/* ---- The helper thread ---- */

static bool is_under(const char *root, const char *p)
{
    size_t n = strlen(root);

    if (strncmp(p, root, n) != 0)
        return false;
    return n == 1 || p[n] == '\0' || p[n] == '/'; /* a root of "/" ends with its slash */
}

/* Errors that mean "no such file here" to a client. */
static bool is_missing(int e)
{
    return e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG || e == ELOOP || e == EACCES ||
           e == ENXIO;
}

/* Opens <path>, a regular file or a folder, if its real path lies under the job's root; fills
 * <st>. Returns the descriptor, or -1 with job->status 404 (nothing there for this client) or
 * job->err set. Devices, FIFOs and sockets are never opened (opening some has side effects).
 * Whoever may write under root could swap a folder for a symlink between realpath() and open();
 * root is the operator's, so that is guarded against only by O_NOFOLLOW on the last name. */
static int open_under_root(struct static_job *job, const char *path, struct stat *st)
{
    char *real = realpath(path, NULL);
    int fd = -1, e = 0;

    if (real == NULL) {
        e = errno;
    } else if (!is_under(job->root, real) || lstat(real, st) != 0 ||
               !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) {
        e = ENOENT;
    } else if ((fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        e = errno;
    } else if (fstat(fd, st) != 0) {
        e = errno;
        close(fd);
        fd = -1;
    }
    free(real);
    if (fd >= 0)
        return fd;
    if (is_missing(e)) {
        job->status = 404;
    } else {
        job->err = e == ENOMEM ? PT_ENOMEM : PT_EINVAL;
        job->sys_errno = e;
    }
    return -1;
}

static bool not_modified(const struct static_job *job, const struct stat *st)
{
    time_t since;

    /* RFC 9110 13.2.2: If-None-Match, when present, decides alone. */
    if (job->if_none_match != NULL)
        return etag_listed(job->if_none_match, job->etag);
    return job->if_modified_since != NULL && parse_http_date(job->if_modified_since, &since) &&
           st->st_mtim.tv_sec <= since;
}

static void read_all(struct static_job *job, int fd, const struct stat *st)
{
    size_t want = (size_t)st->st_size, got = 0;
    ssize_t n;

    job->data = malloc(want > 0 ? want : 1);
    if (job->data == NULL) {
        job->err = PT_ENOMEM;
        return;
    }
    /* A file that shrinks meanwhile is served as read; growth past the size is left out. */
    while (got < want) {
        if (atomic_load_explicit(&job->abandoned, memory_order_relaxed))
            return; /* nobody will look at the answer */
        n = read(fd, job->data + got, want - got < READ_CHUNK ? want - got : READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            job->err = PT_EINVAL;
            job->sys_errno = errno;
            return;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    job->data_len = got;
    job->status = 200;
}

static void serve_file(void *arg)
{
    struct static_job *job = arg;
    const char *name = job->path;
    char *index_path = NULL;
    struct stat st;
    int fd;

    if ((fd = open_under_root(job, job->path, &st)) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        index_path = pt_xmalloc(strlen(job->path) + strlen(job->index) + 2);
        sprintf(index_path, "%s/%s", job->path, job->index);
        name = index_path;
        if ((fd = open_under_root(job, index_path, &st)) < 0)
            goto out;
    } else if (job->want_dir) {
        job->status = 404;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        job->status = 404;
        goto out;
    }
    snprintf(job->etag, sizeof(job->etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec);
    format_http_date(st.st_mtim.tv_sec, job->last_modified, sizeof(job->last_modified));
    job->content_type = content_type_of(name);
    if (not_modified(job, &st))
        job->status = 304;
    else if (st.st_size > MAX_FILE_BYTES)
        job->err = PT_ETOOBIG;
    else
        read_all(job, fd, &st);

out:
    if (fd >= 0)
        close(fd);
    free(index_path);
}

/* ---- The call ---- */

static void job_free(void *arg)
{
    struct static_job *job = arg;

    free(job->root);
    free(job->path);
    free(job->index);
    free(job->if_none_match);
    free(job->if_modified_since);
    free(job->data);
    free(job);
}

static void log_failure(const struct pt_call *call, const struct static_job *job)
{
    struct pt_buf path;

    if (job->offload == NULL) {
        pt_log(PT_LOG_WARN, "static", "integration %s serves HTTP routes only, not route %s",
               call->integration->name, call->req->route_key);
        return;
    }
    pt_buf_init(&path);
    pt_buf_json_escape(&path, job->path, strlen(job->path)); /* a name may hold a line break */
    pt_log(PT_LOG_WARN, "static", "cannot serve \"%s\": %s%s%s requestId=%s", path.data,
           pt_strerror(job->err), job->sys_errno ? ": " : "",
           job->sys_errno ? strerror(job->sys_errno) : "", call->req->request_id);
    pt_buf_cleanup(&path);
}

static void answer(struct pt_call *call, const struct static_job *job)
{
    const struct static_conf *sc = call->integration->conf;
    static const char not_found[] = "{\"message\":\"Not Found\"}";
    static const char not_allowed[] = "{\"message\":\"Method Not Allowed\"}";
    struct pt_result res = {.err = job->err, .status = job->status};
    struct pt_kv hdrs[5];
    size_t n = 0;

    if (job->err != 0) {
        log_failure(call, job);
    } else if (job->status == 404 || job->status == 405) {
        hdrs[n++] = (struct pt_kv){"Content-Type", "application/json"};
        if (job->status == 405)
            hdrs[n++] = (struct pt_kv){"Allow", "GET, HEAD"};
        res.body = job->status == 404 ? not_found : not_allowed;
        res.body_len = strlen(res.body);
    } else {
        if (job->status == 200)
            hdrs[n++] = (struct pt_kv){"Content-Type", job->content_type};
        hdrs[n++] = (struct pt_kv){"ETag", job->etag};
        if (job->last_modified[0] != '\0')
            hdrs[n++] = (struct pt_kv){"Last-Modified", job->last_modified};
        if (sc->cache_control[0] != '\0')
            hdrs[n++] = (struct pt_kv){"Cache-Control", sc->cache_control};
        if (job->status == 200) {
            res.body = job->data;
            res.body_len = job->data_len;
        }
    }
    res.headers = hdrs;
    res.nheaders = n;
    pt_call_done(call, &res);
}

static void on_served(void *arg)
{
    struct static_job *job = arg;

    job->call->backend_data = NULL;
    answer(job->call, job);
    job_free(job);
}

static void on_decided(struct pt_call *call)
{
    struct static_job *job = call->backend_data;

    call->backend_data = NULL;
    answer(call, job);
    job_free(job);
}

/* The part of the route path that names the file: the value of the route's greedy parameter
 * ("GET /site/{proxy+}"), else the whole route path. Borrowed from the request. */
static const char *wanted_path(const struct pt_request *req)
{
    const char *key = req->route_key, *open = strrchr(key, '{');
    size_t klen = strlen(key), nlen, i;

    if (open == NULL || klen < 2 || strcmp(key + klen - 2, "+}") != 0)
        return req->route_path != NULL ? req->route_path : "";
    nlen = (size_t)(key + klen - 2 - (open + 1));
    for (i = 0; i < req->npath_params; i++)
        if (strlen(req->path_params[i].name) == nlen &&
            memcmp(req->path_params[i].name, open + 1, nlen) == 0)
            return req->path_params[i].value;
    return req->route_path != NULL ? req->route_path : "";
}

/* Appends the segments of <p> to <out>, each after a '/', leaving out empty ones. Refuses (false)
 * a '.' or '..' segment and a backslash, which some systems take for a separator: no file under
 * root has such a path, so refusing them is the 404 the file system would give. */
static bool append_checked_path(struct pt_buf *out, const char *p, bool *want_dir)
{
    const char *seg = p, *end;
    size_t len;

    if (strchr(p, '\\') != NULL)
        return false;
    *want_dir = p[0] != '\0' && p[strlen(p) - 1] == '/';
    for (; *seg != '\0'; seg = *end != '\0' ? end + 1 : end) {
        end = strchrnul(seg, '/');
        len = (size_t)(end - seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (len == 0)
            continue;
        pt_buf_putc(out, '/');
        pt_buf_append(out, seg, len);
    }
    return true;
}

/* All the request's <name> headers joined by ", " (RFC 9110 5.3), or NULL. */
static char *header_join(const struct pt_request *req, const char *name)
{
    struct pt_buf b;
    size_t i;

    pt_buf_init(&b);
    for (i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].name, name) != 0)
            continue;
        if (b.data != NULL)
            pt_buf_puts(&b, ", ");
        pt_buf_puts(&b, req->headers[i].value);
    }
    return b.data;
}

static void static_invoke(struct pt_call *call)
{
    const struct static_conf *sc = call->integration->conf;
    const struct pt_request *req = call->req;
    struct static_job *job = pt_xcalloc(1, sizeof(*job));
    struct pt_buf path;

    job->call = call;
    call->backend_data = job;
    pt_buf_init(&path);
    pt_buf_puts(&path, sc->root);
    if (req->type != PT_EVENT_HTTP || req->method == NULL) {
        job->err = PT_EINVAL; /* configure() cannot know the route's protocol */
    } else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        job->status = 405;
    } else if (!append_checked_path(&path, wanted_path(req), &job->want_dir)) {
        job->status = 404;
    }
    job->path = pt_buf_take(&path, NULL);
    if (job->err != 0 || job->status != 0) {
        pt_call_defer(call, on_decided);
        return;
    }
    job->root = pt_xstrdup(sc->root);
    job->index = pt_xstrdup(sc->index);
    job->if_none_match = header_join(req, "If-None-Match");
    job->if_modified_since = header_join(req, "If-Modified-Since");
    job->offload = pt_offload_start(call, serve_file, on_served, job_free, job);
}

static void static_cancel(struct pt_call *call)
{
    struct static_job *job = call->backend_data;

    if (job == NULL)
        return;
    call->backend_data = NULL;
    if (job->offload == NULL) {
        job_free(job); /* the hub drops the pending deferral */
        return;
    }
    job->call = NULL;
    atomic_store_explicit(&job->abandoned, true, memory_order_relaxed);
    pt_offload_cancel(job->offload); /* job_free() runs once the thread is done with it */
}

/* ---- Config ---- */

static int check_root(struct static_conf *sc, const char *dir, const char *path,
                      struct pt_errors *errs)
{
    char rpath[512], *joined = NULL, *real;
    struct stat st;

    pt_conf_path_key(rpath, sizeof(rpath), path, "root");
    if (sc->root[0] == '\0') {
        pt_errors_add(errs, rpath, "expected a folder, got \"\"");
        return PT_EINVAL;
    }
    if (sc->root[0] != '/' && dir != NULL) {
        joined = pt_xmalloc(strlen(dir) + strlen(sc->root) + 2);
        sprintf(joined, "%s/%s", dir, sc->root);
    }
    real = realpath(joined != NULL ? joined : sc->root, NULL);
    if (real == NULL || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pt_errors_add(errs, rpath, "\"%s\" (%s): %s", sc->root, joined ? joined : sc->root,
                      real == NULL ? strerror(errno) : "not a folder");
        free(joined);
        free(real);
        return PT_EINVAL;
    }
    free(joined);
    free(sc->root);
    sc->root = real;
    return 0;
}

static int static_configure(struct pt_integration *in, const cJSON *obj, const char *path,
                            struct pt_errors *errs)
{
    struct static_conf *sc = pt_xcalloc(1, sizeof(*sc));
    char kpath[512];
    int nerr;

    in->conf = sc;
    nerr = pt_conf_walk(obj, path, fields, sc, ignored, errs);
    if (sc->root != NULL && check_root(sc, in->config_dir, path, errs) != 0)
        nerr++;
    if (sc->index != NULL && (sc->index[0] == '\0' || strcmp(sc->index, ".") == 0 ||
                              strcmp(sc->index, "..") == 0 || strpbrk(sc->index, "/\\") != NULL)) {
        pt_conf_path_key(kpath, sizeof(kpath), path, "index");
        pt_errors_add(errs, kpath, "expected a file name without '/', got \"%s\"", sc->index);
        nerr++;
    }
    if (sc->cache_control != NULL && strpbrk(sc->cache_control, "\r\n") != NULL) {
        pt_conf_path_key(kpath, sizeof(kpath), path, "cacheControl");
        pt_errors_add(errs, kpath, "a header value cannot hold a line break");
        nerr++;
    }
    return nerr ? PT_EINVAL : 0;
}

static void static_release(struct pt_integration *in)
{
    struct static_conf *sc = in->conf;

    if (sc == NULL)
        return;
    pt_conf_release(fields, sc);
    free(sc);
    in->conf = NULL;
}

const struct pt_backend pt_backend_static = {
    .type = "STATIC",
    .routes = PT_BACKEND_HTTP,
    .configure = static_configure,
    .release = static_release,
    .invoke = static_invoke,
    .cancel = static_cancel,
};
