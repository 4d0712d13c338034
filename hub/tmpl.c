/* Templates and selection expressions (see include/portico/tmpl.h): compiled once into a list of
 * literal and variable segments, rendered through a resolver. Knows nothing of what a variable
 * means; the caller's resolver does. Only "\$" is an escape: any other backslash is literal. */
#include "portico/tmpl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/xalloc.h"

#define PT_TMPL_MAX_BYTES 65536 /* longest source accepted, in bytes */
#define PT_TMPL_MAX_VARS  256

struct pt_tmpl_seg {
    const char *text; /* into the template's pool, NUL-terminated */
    size_t len;
    bool is_var; /* text is a variable name, handed to the resolver */
};

struct pt_tmpl {
    char *src;                /* owned copy of the source */
    char *pool;               /* owned: every segment's text, each followed by a NUL */
    struct pt_tmpl_seg *segs; /* owned */
    size_t nsegs;
    const char **vars; /* owned array of pointers into pool, one per variable occurrence */
    size_t nvars;
};

/* Compile-time state: segments hold pool offsets until the pool stops moving. */
struct pt_tmpl_build {
    struct pt_buf pool;
    size_t *offs;
    size_t cap;
    size_t lit_start; /* pool offset where the pending literal began */
};

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Length of the unbraced variable at p: name characters, dots and [digits] indexes, without
 * trailing dots. 0 when p does not start with a name character (the '$' is then literal). */
static size_t scan_name(const char *p, size_t n)
{
    size_t i = 0, end = 0, k;

    if (n == 0 || !is_name_char(p[0]))
        return 0;
    while (i < n) {
        if (is_name_char(p[i])) {
            end = ++i;
        } else if (p[i] == '.') {
            i++;
        } else if (p[i] == '[') {
            for (k = i + 1; k < n && p[k] >= '0' && p[k] <= '9'; k++)
                ;
            if (k == i + 1 || k >= n || p[k] != ']')
                break;
            end = i = k + 1;
        } else {
            break;
        }
    }
    return end;
}

static void add_seg(struct pt_tmpl *t, struct pt_tmpl_build *b, size_t off, size_t len, bool is_var)
{
    if (t->nsegs == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        t->segs = pt_xrealloc(t->segs, b->cap * sizeof(*t->segs));
        b->offs = pt_xrealloc(b->offs, b->cap * sizeof(*b->offs));
    }
    b->offs[t->nsegs] = off;
    t->segs[t->nsegs].text = NULL;
    t->segs[t->nsegs].len = len;
    t->segs[t->nsegs].is_var = is_var;
    t->nsegs++;
    pt_buf_putc(&b->pool, '\0');
    b->lit_start = b->pool.len;
}

static void flush_literal(struct pt_tmpl *t, struct pt_tmpl_build *b)
{
    if (b->pool.len > b->lit_start)
        add_seg(t, b, b->lit_start, b->pool.len - b->lit_start, false);
}

static int add_var(struct pt_tmpl *t, struct pt_tmpl_build *b, const char *name, size_t len)
{
    size_t off;

    if (t->nvars == PT_TMPL_MAX_VARS)
        return -1;
    flush_literal(t, b);
    off = b->pool.len;
    pt_buf_append(&b->pool, name, len);
    add_seg(t, b, off, len, true);
    t->nvars++;
    return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Splits s into segments. Returns 0, or -1 after writing a message to err. */
static int parse(struct pt_tmpl *t, struct pt_tmpl_build *b, const char *s, size_t n, char *err,
                 size_t errlen)
{
    size_t i = 0, len;
    const char *name, *close;
    bool braced;

    while (i < n) {
        if (s[i] == '\\' && i + 1 < n && s[i + 1] == '$') {
            pt_buf_putc(&b->pool, '$');
            i += 2;
            continue;
        }
        if (s[i] != '$') {
            pt_buf_putc(&b->pool, s[i++]);
            continue;
        }
        braced = i + 1 < n && s[i + 1] == '{';
        if (braced) {
            name = s + i + 2;
            close = memchr(name, '}', n - i - 2);
            if (close == NULL) {
                set_err(err, errlen, "unterminated \"${\" at offset %zu", i);
                return -1;
            }
            len = (size_t)(close - name);
            if (len == 0) {
                set_err(err, errlen, "empty variable name \"${}\" at offset %zu", i);
                return -1;
            }
        } else {
            name = s + i + 1;
            len = scan_name(name, n - i - 1);
            if (len == 0) {
                /* A '$' that starts no variable ("$ 5", "$.", a final "$") is text. */
                pt_buf_putc(&b->pool, s[i++]);
                continue;
            }
        }
        if (add_var(t, b, name, len) < 0) {
            set_err(err, errlen, "template has more than %d variables", PT_TMPL_MAX_VARS);
            return -1;
        }
        i = (size_t)(name - s) + len + (braced ? 1 : 0);
    }
    flush_literal(t, b);
    return 0;
}

struct pt_tmpl *pt_tmpl_compile(const char *src, char *err, size_t errlen)
{
    struct pt_tmpl *t;
    struct pt_tmpl_build b = {.offs = NULL, .cap = 0, .lit_start = 0};
    size_t n, i, v;

    if (src == NULL) {
        set_err(err, errlen, "no template");
        return NULL;
    }
    n = strnlen(src, PT_TMPL_MAX_BYTES + 1);
    if (n > PT_TMPL_MAX_BYTES) {
        set_err(err, errlen, "template longer than %d bytes", PT_TMPL_MAX_BYTES);
        return NULL;
    }
    t = pt_xcalloc(1, sizeof(*t));
    pt_buf_init(&b.pool);
    if (parse(t, &b, src, n, err, errlen) < 0) {
        pt_buf_cleanup(&b.pool);
        free(b.offs);
        free(t->segs);
        free(t);
        return NULL;
    }
    t->src = pt_xstrndup(src, n);
    t->pool = pt_buf_take(&b.pool, NULL);
    t->vars = pt_xcalloc(t->nvars ? t->nvars : 1, sizeof(*t->vars));
    for (i = 0, v = 0; i < t->nsegs; i++) {
        t->segs[i].text = t->pool + b.offs[i];
        if (t->segs[i].is_var)
            t->vars[v++] = t->segs[i].text;
    }
    free(b.offs);
    return t;
}

void pt_tmpl_free(struct pt_tmpl *t)
{
    if (t == NULL)
        return;
    free(t->src);
    free(t->pool);
    free(t->segs);
    free(t->vars);
    free(t);
}

void pt_tmpl_render(const struct pt_tmpl *t, pt_tmpl_resolve_fn *resolve, void *ud,
                    struct pt_buf *out)
{
    const struct pt_tmpl_seg *sg;
    size_t i, mark;

    for (i = 0; i < t->nsegs; i++) {
        sg = &t->segs[i];
        if (!sg->is_var) {
            pt_buf_append(out, sg->text, sg->len);
            continue;
        }
        if (resolve == NULL)
            continue;
        mark = out->len;
        if (resolve(ud, sg->text, sg->len, out) < 0 && out->len > mark) {
            /* An unknown variable renders as "", whatever the resolver appended first. */
            out->len = mark;
            out->data[mark] = '\0';
        }
    }
}

size_t pt_tmpl_nvars(const struct pt_tmpl *t)
{
    return t->nvars;
}

const char *pt_tmpl_var(const struct pt_tmpl *t, size_t i)
{
    return i < t->nvars ? t->vars[i] : NULL;
}

const char *pt_tmpl_source(const struct pt_tmpl *t)
{
    return t->src;
}
