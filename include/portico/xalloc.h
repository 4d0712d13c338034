/* Allocate-or-die for small allocations whose size the code decides (never a size a peer chose
 * without a limit check first). Out of memory aborts with a message. */
#ifndef PORTICO_XALLOC_H
#define PORTICO_XALLOC_H

#include <stddef.h>

void *pt_xmalloc(size_t n);
void *pt_xcalloc(size_t n, size_t size);
void *pt_xrealloc(void *p, size_t n);
char *pt_xstrdup(const char *s);
char *pt_xstrndup(const char *s, size_t n);

#endif
