/* Channels (beyond AWS): named groups of WebSocket connections that one publish reaches. The
 * CHANNEL integration uses these on behalf of the connection its call came from. */
#ifndef PORTICO_CHANNEL_H
#define PORTICO_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

struct pt_call;

/* Subscribes or unsubscribes the connection of <call> (a WebSocket message). Returns 0,
 * PT_EINVAL for a bad channel name, or PT_EGONE when the connection is gone. */
int pt_channel_subscribe(struct pt_call *call, const char *channel);
int pt_channel_unsubscribe(struct pt_call *call, const char *channel);

/* Sends <len> bytes (text unless <binary>) to every subscriber of <channel> in <call>'s stage.
 * Returns the number of connections it was queued for, or PT_EINVAL for a bad name. */
long pt_channel_publish(struct pt_call *call, const char *channel, const void *data, size_t len,
                        bool binary);

#endif
