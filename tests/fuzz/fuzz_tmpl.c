/* libFuzzer target: template compile and render. The input is the template source; the
 * resolver echoes each variable's name, or fails after writing to test the rollback. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portico/buf.h"
#include "portico/err.h"
#include "portico/tmpl.h"
#include "portico/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int resolve_echo(void *ud, const char *var, size_t len, struct pt_buf *out)
{
    pt_buf_append(out, var, len);
    /* Every third variable is "unknown" after appending junk: it must render as "". */
    if ((len % 3) == 0) {
        pt_buf_puts(out, "junk");
        return PT_ENOTFOUND;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = pt_xstrndup((const char *)data, size);
    char err[256];
    struct pt_tmpl *t;
    struct pt_buf out;
    size_t i, n;

    t = pt_tmpl_compile(src, err, sizeof(err));
    if (t == NULL) {
        if (err[0] == '\0')
            abort(); /* a failed compile must say why */
        free(src);
        return 0;
    }
    if (strcmp(pt_tmpl_source(t), src) != 0)
        abort();
    n = pt_tmpl_nvars(t);
    for (i = 0; i < n; i++) {
        if (pt_tmpl_var(t, i) == NULL || pt_tmpl_var(t, i)[0] == '\0')
            abort();
    }
    if (pt_tmpl_var(t, n) != NULL)
        abort();
    pt_buf_init(&out);
    pt_tmpl_render(t, resolve_echo, NULL, &out);
    /* Rendering never produces more than the source plus echoed names. */
    if (out.len > strlen(src))
        abort();
    pt_buf_cleanup(&out);
    pt_tmpl_free(t);
    free(src);
    return 0;
}
