/* A collector of config errors, each prefixed with the file and the JSON path, so that
 * `portico --check` can print every error at once. */
#ifndef PT_ERRORS_H
#define PT_ERRORS_H

#include <stddef.h>

struct pt_errors {
    const char *file; /* borrowed: the config file name printed before each path */
    char **lines;     /* owned: "file: path: problem" */
    size_t count;
    size_t cap;
};

void pt_errors_init(struct pt_errors *e, const char *file);
void pt_errors_cleanup(struct pt_errors *e);
/* Appends "file: <path>: <problem>". <path> may be "" for the document root. */
void pt_errors_add(struct pt_errors *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
