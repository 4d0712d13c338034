/* pt_hash_str(): 64-bit FNV-1a (see include/portico/hash.h). */
#include "portico/hash.h"

uint64_t pt_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}
