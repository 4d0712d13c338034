/* The registry of integration types: the only place that lists them. */
#ifndef PT_BACKENDS_H
#define PT_BACKENDS_H

#include "portico/backend.h"

/* The backend for config type <type>, or NULL when Portico has none. */
const struct pt_backend *pt_backends_find(const char *type);

#endif
