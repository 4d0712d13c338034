/* libFuzzer target: JSONPath lookup and stringification. The first line of the input is the
 * path, the rest is the JSON document. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonpath.h"
#include "portico/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t plen = nl != NULL ? (size_t)(nl - in) : size;
    size_t jlen = nl != NULL ? size - plen - 1 : 0;
    const cJSON *node;
    struct pt_buf out;
    cJSON *root;

    root = cJSON_ParseWithLength(nl != NULL ? nl + 1 : in + size, jlen);
    node = pt_jsonpath_get(root, in, plen);
    pt_buf_init(&out);
    pt_jsonpath_stringify(node, &out);
    pt_buf_reset(&out);
    pt_jsonpath_stringify(root, &out);
    pt_buf_cleanup(&out);
    cJSON_Delete(root);
    return 0;
}
