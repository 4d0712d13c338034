/* Templates and selection expressions: literal text with variables, as AWS writes them.
 *
 *   "$request.body.action"          one variable
 *   "${request.body.action}-x"      braces end a variable explicitly
 *   "\$default"                     a backslash makes the dollar literal
 *
 * An unbraced variable runs over [A-Za-z0-9_-] and dots (a trailing dot is not part of it), and
 * over bracketed indexes such as [0]. The variable text handed to the resolver has no leading '$'
 * and no braces: "request.body.action". Pure: no I/O, no loop. */
#ifndef PORTICO_TMPL_H
#define PORTICO_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "portico/buf.h"

struct pt_tmpl;

/* Compiles <src>. Returns an owned template, or NULL with a message in <err> (an unterminated
 * "${", an empty variable name). */
struct pt_tmpl *pt_tmpl_compile(const char *src, char *err, size_t errlen);
void pt_tmpl_free(struct pt_tmpl *t);

/* Appends the value of variable <var> (<len> bytes, not NUL-terminated) to <out> and returns 0,
 * or returns a negative PT_E* code when the variable is unknown; it then renders as "". */
typedef int pt_tmpl_resolve_fn(void *ud, const char *var, size_t len, struct pt_buf *out);

/* Appends the rendering of <t> to <out>. */
void pt_tmpl_render(const struct pt_tmpl *t, pt_tmpl_resolve_fn *resolve, void *ud,
                    struct pt_buf *out);

/* The template's variables, for checks at config time: 0 <= i < pt_tmpl_nvars(t). */
size_t pt_tmpl_nvars(const struct pt_tmpl *t);
const char *pt_tmpl_var(const struct pt_tmpl *t, size_t i);
/* The source text the template was compiled from (owned by the template). */
const char *pt_tmpl_source(const struct pt_tmpl *t);

#endif
