/* The config field-table walker (include/portico/conf.h): type, range, enum and required-key
 * checks, unknown keys and keys of features not built yet, every problem reported with its JSON
 * path. Pure: no I/O, and it never recurses into values it does not know. */
#include "portico/conf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "errors.h"
#include "portico/buf.h"
#include "portico/xalloc.h"

#define DESCRIBE_LEN       96
#define DESCRIBE_STR_BYTES 40 /* a quoted string value is cut after this many bytes */
#define SUGGEST_MAX_LEN    64 /* no "did you mean" for keys longer than this */
#define IGNORE_SORT_MIN    8  /* from this many ignored keys on, look them up by bsearch */

/* ---- Describing values for error messages ---- */

static void describe_string(const char *s, char *out, size_t outlen)
{
    struct pt_buf b;
    size_t n = strlen(s), cut = n;

    if (cut > DESCRIBE_STR_BYTES) {
        cut = DESCRIBE_STR_BYTES;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--; /* never split a UTF-8 sequence */
    }
    pt_buf_init(&b);
    pt_buf_putc(&b, '"');
    pt_buf_json_escape(&b, s, cut);
    if (cut < n)
        pt_buf_puts(&b, "...");
    pt_buf_putc(&b, '"');
    snprintf(out, outlen, "%s", b.data);
    pt_buf_cleanup(&b);
}

void pt_conf_describe(const cJSON *v, char *out, size_t outlen)
{
    if (v == NULL)
        snprintf(out, outlen, "nothing");
    else if (cJSON_IsString(v) && v->valuestring != NULL)
        describe_string(v->valuestring, out, outlen);
    else if (cJSON_IsNumber(v))
        snprintf(out, outlen, "%.15g", v->valuedouble);
    else if (cJSON_IsTrue(v))
        snprintf(out, outlen, "true");
    else if (cJSON_IsFalse(v))
        snprintf(out, outlen, "false");
    else if (cJSON_IsNull(v))
        snprintf(out, outlen, "null");
    else if (cJSON_IsArray(v))
        snprintf(out, outlen, "an array");
    else if (cJSON_IsObject(v))
        snprintf(out, outlen, "an object");
    else
        snprintf(out, outlen, "an invalid value");
}

void pt_conf_expected(const cJSON *v, const char *what, const char *path, struct pt_errors *errs)
{
    char got[DESCRIBE_LEN];

    pt_conf_describe(v, got, sizeof(got));
    pt_errors_add(errs, path, "expected %s, got %s", what, got);
}

/* ---- JSON paths ---- */

static bool is_identifier(const char *key)
{
    const char *p;

    if (!((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_'))
        return false;
    for (p = key + 1; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* Built in a buffer first, so that <out> may be the same array as <path>. */
void pt_conf_path_key(char *out, size_t outlen, const char *path, const char *key)
{
    struct pt_buf b;

    pt_buf_init(&b);
    pt_buf_puts(&b, path);
    if (is_identifier(key)) {
        if (path[0] != '\0')
            pt_buf_putc(&b, '.');
        pt_buf_puts(&b, key);
    } else {
        pt_buf_puts(&b, "[\"");
        pt_buf_json_escape(&b, key, strlen(key));
        pt_buf_puts(&b, "\"]");
    }
    snprintf(out, outlen, "%s", b.data);
    pt_buf_cleanup(&b);
}

void pt_conf_path_index(char *out, size_t outlen, const char *path, size_t i)
{
    struct pt_buf b;

    pt_buf_init(&b);
    pt_buf_printf(&b, "%s[%zu]", path, i);
    snprintf(out, outlen, "%s", b.data);
    pt_buf_cleanup(&b);
}

/* ---- Unknown keys ---- */

/* Levenshtein distance of two short strings (both at most SUGGEST_MAX_LEN bytes). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t row[SUGGEST_MAX_LEN + 1], diag, up;

    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            up = row[j];
            row[j] = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < row[j])
                row[j] = up + 1;
            if (row[j - 1] + 1 < row[j])
                row[j] = row[j - 1] + 1;
            diag = up;
        }
    }
    return row[lb];
}

static void report_unknown(const char *kpath, const char *key, const struct pt_conf_field *fields,
                           struct pt_errors *errs)
{
    const char *best = NULL;
    size_t best_d = 3, d, i; /* suggest only within two edits */

    if (strlen(key) <= SUGGEST_MAX_LEN) {
        for (i = 0; fields[i].key != NULL; i++) {
            if (strlen(fields[i].key) > SUGGEST_MAX_LEN)
                continue;
            d = edit_distance(key, fields[i].key);
            if (d < best_d && d < strlen(key)) {
                best_d = d;
                best = fields[i].key;
            }
        }
    }
    if (best != NULL)
        pt_errors_add(errs, kpath, "unknown key (did you mean \"%s\"?)", best);
    else
        pt_errors_add(errs, kpath, "unknown key");
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ignore list, sorted when it is long (backends' integration objects pass every key the hub
 * does not read, so a hostile config must not make this quadratic). */
struct ignore_set {
    const char *const *list;
    const char **sorted; /* owned, or NULL for a short list */
    size_t n;
};

static void ignore_init(struct ignore_set *s, const char *const *ignore)
{
    s->list = ignore;
    s->sorted = NULL;
    s->n = 0;
    if (ignore == NULL)
        return;
    while (ignore[s->n] != NULL)
        s->n++;
    if (s->n >= IGNORE_SORT_MIN) {
        s->sorted = pt_xmalloc(s->n * sizeof(*s->sorted));
        memcpy(s->sorted, ignore, s->n * sizeof(*s->sorted));
        qsort(s->sorted, s->n, sizeof(*s->sorted), cmp_str_ptr);
    }
}

static bool ignore_has(const struct ignore_set *s, const char *key)
{
    size_t i;

    if (s->sorted != NULL)
        return bsearch(&key, s->sorted, s->n, sizeof(*s->sorted), cmp_str_ptr) != NULL;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->list[i], key) == 0)
            return true;
    return false;
}

/* ---- Storing values ---- */

static void *slot(void *target, const struct pt_conf_field *f)
{
    return (char *)target + f->offset;
}

static void store_default(const struct pt_conf_field *f, void *target)
{
    switch (f->type) {
    case PT_CONF_INT:
        *(long long *)slot(target, f) = f->def;
        break;
    case PT_CONF_BOOL:
        *(bool *)slot(target, f) = f->def != 0;
        break;
    case PT_CONF_STR:
        *(char **)slot(target, f) = f->def_str ? pt_xstrdup(f->def_str) : NULL;
        break;
    case PT_CONF_ENUM:
        *(int *)slot(target, f) = (int)f->def;
        break;
    case PT_CONF_ANY:
        break;
    }
}

static bool is_integer(double d)
{
    /* Integers beyond 2^53 are not exact in a double; no config value needs them. */
    return isfinite(d) && d == trunc(d) && d >= -9007199254740992.0 && d <= 9007199254740992.0;
}

static void store_int(const struct pt_conf_field *f, const cJSON *v, const char *kpath,
                      void *target, struct pt_errors *errs)
{
    bool bounded = !(f->min == 0 && f->max == 0); /* an all-zero table entry has no bounds */
    char got[DESCRIBE_LEN];
    long long n;

    if (cJSON_IsNumber(v) && is_integer(v->valuedouble)) {
        n = (long long)v->valuedouble;
        if (!bounded || (n >= f->min && n <= f->max)) {
            *(long long *)slot(target, f) = n;
            return;
        }
    }
    if (bounded) {
        pt_conf_describe(v, got, sizeof(got));
        pt_errors_add(errs, kpath, "expected an integer %lld..%lld, got %s", f->min, f->max, got);
    } else {
        pt_conf_expected(v, "an integer", kpath, errs);
    }
    store_default(f, target);
}

static void store_enum(const struct pt_conf_field *f, const cJSON *v, const char *kpath,
                       void *target, struct pt_errors *errs)
{
    struct pt_buf list;
    char got[DESCRIBE_LEN];
    size_t i;

    if (cJSON_IsString(v) && v->valuestring != NULL && f->enum_values != NULL) {
        for (i = 0; f->enum_values[i] != NULL; i++) {
            if (strcmp(f->enum_values[i], v->valuestring) == 0) {
                *(int *)slot(target, f) = (int)i;
                return;
            }
        }
    }
    pt_buf_init(&list);
    for (i = 0; f->enum_values != NULL && f->enum_values[i] != NULL; i++)
        pt_buf_printf(&list, "%s\"%s\"", i ? ", " : "", f->enum_values[i]);
    pt_conf_describe(v, got, sizeof(got));
    pt_errors_add(errs, kpath, "expected one of %s, got %s", list.data ? list.data : "", got);
    pt_buf_cleanup(&list);
    store_default(f, target);
}

static void store_value(const struct pt_conf_field *f, const cJSON *v, const char *kpath,
                        void *target, struct pt_errors *errs)
{
    switch (f->type) {
    case PT_CONF_INT:
        store_int(f, v, kpath, target, errs);
        return;
    case PT_CONF_ENUM:
        store_enum(f, v, kpath, target, errs);
        return;
    case PT_CONF_BOOL:
        if (cJSON_IsBool(v)) {
            *(bool *)slot(target, f) = cJSON_IsTrue(v);
            return;
        }
        pt_conf_expected(v, "true or false", kpath, errs);
        break;
    case PT_CONF_STR:
        if (cJSON_IsString(v) && v->valuestring != NULL) {
            *(char **)slot(target, f) = pt_xstrdup(v->valuestring);
            return;
        }
        pt_conf_expected(v, "a string", kpath, errs);
        break;
    case PT_CONF_ANY:
        return;
    }
    store_default(f, target);
}

/* ---- The walker ---- */

static long find_field(const struct pt_conf_field *fields, const char *key)
{
    long i;

    for (i = 0; fields[i].key != NULL; i++)
        if (strcmp(fields[i].key, key) == 0)
            return i;
    return -1;
}

/* First pass over the object's keys: unknown, duplicated and not-yet-supported ones. Marks in
 * <seen> the fields present. */
static void check_keys(const cJSON *obj, const char *path, const struct pt_conf_field *fields,
                       const struct ignore_set *ign, bool *seen, struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN];
    const cJSON *child;
    const char *key;
    long idx;

    cJSON_ArrayForEach(child, obj)
    {
        key = child->string ? child->string : "";
        if (ignore_has(ign, key))
            continue;
        pt_conf_path_key(kpath, sizeof(kpath), path, key);
        idx = find_field(fields, key);
        if (idx < 0) {
            report_unknown(kpath, key, fields, errs);
        } else if (seen[idx]) {
            pt_errors_add(errs, kpath, "duplicate key");
        } else {
            seen[idx] = true;
        }
    }
}

int pt_conf_walk(const cJSON *obj, const char *path, const struct pt_conf_field *fields,
                 void *target, const char *const *ignore, struct pt_errors *errs)
{
    char kpath[PT_CONFIG_PATH_LEN];
    size_t before = errs->count, nfields = 0, i;
    struct ignore_set ign;
    const cJSON *v;
    bool *seen;

    while (fields[nfields].key != NULL)
        nfields++;
    if (!cJSON_IsObject(obj)) {
        pt_conf_expected(obj, "an object", path, errs);
        for (i = 0; i < nfields; i++)
            store_default(&fields[i], target);
        return (int)(errs->count - before);
    }
    seen = pt_xcalloc(nfields + 1, sizeof(*seen));
    ignore_init(&ign, ignore);
    check_keys(obj, path, fields, &ign, seen, errs);
    for (i = 0; i < nfields; i++) {
        const struct pt_conf_field *f = &fields[i];

        if (!seen[i]) {
            if (f->required)
                pt_errors_add(errs, path, "missing required key \"%s\"", f->key);
            store_default(f, target);
            continue;
        }
        v = cJSON_GetObjectItemCaseSensitive(obj, f->key);
        pt_conf_path_key(kpath, sizeof(kpath), path, f->key);
        store_value(f, v, kpath, target, errs);
    }
    free(ign.sorted);
    free(seen);
    return (int)(errs->count - before);
}

void pt_conf_release(const struct pt_conf_field *fields, void *target)
{
    char **p;
    size_t i;

    for (i = 0; fields[i].key != NULL; i++) {
        if (fields[i].type != PT_CONF_STR)
            continue;
        p = slot(target, &fields[i]);
        free(*p);
        *p = NULL;
    }
}
