/* pt_strerror(): messages from the one error table in include/portico/err.h. */
#include "portico/err.h"

const char *pt_strerror(int err)
{
    switch (err) {
#define X(name, val, msg) \
    case val:             \
        return msg;
        PT_ERR_MAP(X)
#undef X
    }
    return "unknown error";
}
