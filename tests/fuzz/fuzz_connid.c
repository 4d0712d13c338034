/* libFuzzer target: connection-ID decode. Whatever decodes must encode back to the same text,
 * since every ID has exactly one spelling. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_connid id;
    char again[PT_CONNID_LEN + 1];

    if (pt_connid_decode((const char *)data, size, &id) != 0)
        return 0;
    pt_connid_encode(&id, again);
    if (size != PT_CONNID_LEN || memcmp(again, data, size) != 0)
        abort();
    return 0;
}
