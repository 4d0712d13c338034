/* The registry of integration types: the only place that lists them. */
#ifndef PT_BACKENDS_H
#define PT_BACKENDS_H

#include <stdbool.h>

#include "portico/backend.h"

/* The backend for config type <type>, or NULL when Portico has none. */
const struct pt_backend *pt_backends_find(const char *type);
/* True for a type the SPEC names that is not built yet ("not supported yet"). */
bool pt_backends_is_planned(const char *type);

#endif
