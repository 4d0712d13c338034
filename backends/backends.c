/* The registry of integration types. Adding a type: one file in backends/ and one line here. */
#include "backends.h"

#include <stddef.h>
#include <string.h>

extern const struct pt_backend pt_backend_mock;
extern const struct pt_backend pt_backend_http_proxy;
extern const struct pt_backend pt_backend_aws_proxy;
extern const struct pt_backend pt_backend_channel;
extern const struct pt_backend pt_backend_static;

static const struct pt_backend *const backends[] = {
    &pt_backend_mock,    &pt_backend_http_proxy, &pt_backend_aws_proxy,
    &pt_backend_channel, &pt_backend_static,
};

const struct pt_backend *pt_backends_find(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->type, type) == 0)
            return backends[i];
    return NULL;
}
