/* Allocate-or-die wrappers (see include/portico/xalloc.h). */
#include "portico/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t n)
{
    fprintf(stderr, "portico: out of memory allocating %zu bytes\n", n);
    abort();
}

void *pt_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        die_oom(n);
    return p;
}

void *pt_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        die_oom(n * size);
    return p;
}

void *pt_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        die_oom(n);
    return q;
}

char *pt_xstrdup(const char *s)
{
    return pt_xstrndup(s, strlen(s));
}

char *pt_xstrndup(const char *s, size_t n)
{
    char *p = pt_xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
