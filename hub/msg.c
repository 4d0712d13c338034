/* Refcounted wire messages (see msg.h). */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

#include "portico/xalloc.h"
#include "wsframe.h"

struct pt_msg *pt_msg_new(size_t len)
{
    struct pt_msg *m = pt_xmalloc(sizeof(*m) + len);

    m->refs = 1;
    m->len = len;
    return m;
}

struct pt_msg *pt_msg_ws_frame(int opcode, const void *payload, size_t len)
{
    uint8_t hdr[PT_WS_MAX_HEADER];
    size_t hlen = pt_wsframe_header(hdr, opcode, 1, len);
    struct pt_msg *m = pt_msg_new(hlen + len);

    memcpy(m->data, hdr, hlen);
    if (len)
        memcpy(m->data + hlen, payload, len);
    return m;
}

void pt_msg_unref(struct pt_msg *m)
{
    if (m != NULL && --m->refs == 0)
        free(m);
}
