/* A refcounted, immutable chunk of bytes ready for the wire (a framed WebSocket message or an
 * HTTP response). A broadcast shares one msg among every receiver's send queue. */
#ifndef PT_MSG_H
#define PT_MSG_H

#include <stddef.h>
#include <stdint.h>

struct pt_msg {
    unsigned refs; /* one per queue slot holding it; touched by its worker only */
    size_t len;
    uint8_t data[]; /* len bytes */
};

/* A new msg of <len> bytes (uninitialised) with one reference. */
struct pt_msg *pt_msg_new(size_t len);
/* A new msg holding a server WebSocket frame (opcode, FIN set) around <payload>. */
struct pt_msg *pt_msg_ws_frame(int opcode, const void *payload, size_t len);
static inline struct pt_msg *pt_msg_ref(struct pt_msg *m)
{
    m->refs++;
    return m;
}
void pt_msg_unref(struct pt_msg *m);

#endif
