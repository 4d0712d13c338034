/* libFuzzer target: the JSON config loader, walker and cross-reference checks. A config is either
 * accepted or refused with at least one error, never both, and every error names the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_errors errs;
    struct pt_config *c;
    char *text;
    size_t i;

    text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    pt_errors_init(&errs, "fuzz.json");
    c = pt_config_parse(text, "fuzz.json", "/srv/portico", &errs);
    if ((c == NULL) == (errs.count == 0))
        abort();
    for (i = 0; i < errs.count; i++)
        if (strncmp(errs.lines[i], "fuzz.json: ", 11) != 0)
            abort();
    if (c != NULL) {
        if (pt_config_ref(c) != c)
            abort();
        pt_config_unref(c);
    }
    pt_config_unref(c);
    pt_errors_cleanup(&errs);
    free(text);
    return 0;
}
