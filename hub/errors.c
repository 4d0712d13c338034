/* The config error collector (see errors.h). */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "portico/buf.h"
#include "portico/xalloc.h"

void pt_errors_init(struct pt_errors *e, const char *file)
{
    e->file = file;
    e->lines = NULL;
    e->count = 0;
    e->cap = 0;
}

void pt_errors_cleanup(struct pt_errors *e)
{
    size_t i;

    for (i = 0; i < e->count; i++)
        free(e->lines[i]);
    free(e->lines);
    e->lines = NULL;
    e->count = e->cap = 0;
}

void pt_errors_add(struct pt_errors *e, const char *path, const char *fmt, ...)
{
    struct pt_buf b;
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pt_buf_init(&b);
    pt_buf_printf(&b, "%s: ", e->file ? e->file : "config");
    if (path != NULL && path[0] != '\0')
        pt_buf_printf(&b, "%s: ", path);
    pt_buf_puts(&b, msg);
    if (e->count == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->lines = pt_xrealloc(e->lines, e->cap * sizeof(*e->lines));
    }
    e->lines[e->count++] = pt_buf_take(&b, NULL);
}
