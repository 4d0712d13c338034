/* A growable byte buffer, always NUL-terminated so it can be used as a string. Owns its bytes. */
#ifndef PORTICO_BUF_H
#define PORTICO_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct pt_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
};

void pt_buf_init(struct pt_buf *b);
void pt_buf_cleanup(struct pt_buf *b);
void pt_buf_reset(struct pt_buf *b);
void pt_buf_append(struct pt_buf *b, const void *p, size_t n);
void pt_buf_puts(struct pt_buf *b, const char *s);
void pt_buf_putc(struct pt_buf *b, char c);
void pt_buf_printf(struct pt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as the inside of a JSON string (no quotes), escaping as RFC 8259 requires. */
void pt_buf_json_escape(struct pt_buf *b, const char *s, size_t n);
/* Takes the bytes out: the caller owns the returned pointer, and b is empty again. */
char *pt_buf_take(struct pt_buf *b, size_t *len);

#endif
