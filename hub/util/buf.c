/* Growable NUL-terminated byte buffer (see include/portico/buf.h). */
#include "portico/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/xalloc.h"

void pt_buf_init(struct pt_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void pt_buf_cleanup(struct pt_buf *b)
{
    free(b->data);
    pt_buf_init(b);
}

void pt_buf_reset(struct pt_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static void reserve(struct pt_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need <= b->cap)
        return;
    if (b->cap == 0)
        b->cap = 64;
    while (b->cap < need)
        b->cap *= 2;
    b->data = pt_xrealloc(b->data, b->cap);
}

void pt_buf_append(struct pt_buf *b, const void *p, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pt_buf_puts(struct pt_buf *b, const char *s)
{
    pt_buf_append(b, s, strlen(s));
}

void pt_buf_putc(struct pt_buf *b, char c)
{
    pt_buf_append(b, &c, 1);
}

void pt_buf_printf(struct pt_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pt_buf_json_escape(struct pt_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        switch (c) {
        case '"':
            pt_buf_puts(b, "\\\"");
            break;
        case '\\':
            pt_buf_puts(b, "\\\\");
            break;
        case '\n':
            pt_buf_puts(b, "\\n");
            break;
        case '\r':
            pt_buf_puts(b, "\\r");
            break;
        case '\t':
            pt_buf_puts(b, "\\t");
            break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

                pt_buf_append(b, u, sizeof(u));
            } else {
                pt_buf_putc(b, (char)c);
            }
        }
    }
}

char *pt_buf_take(struct pt_buf *b, size_t *len)
{
    char *p;

    if (b->data == NULL)
        pt_buf_append(b, "", 0);
    p = b->data;
    if (len != NULL)
        *len = b->len;
    pt_buf_init(b);
    return p;
}
