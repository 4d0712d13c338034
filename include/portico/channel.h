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

typedef void pt_channel_done_fn(struct pt_call *call, long delivered);

/* Sends <len> bytes (text unless <binary>) to every subscriber of <channel> in <call>'s stage,
 * on every worker. Returns PT_EINVAL for a bad name (and <done> does not run), else 0: <done>
 * then runs once with the number of connections reached, before this returns when there is
 * one worker, later otherwise, unless pt_channel_publish_cancel() comes first. */
int pt_channel_publish(struct pt_call *call, const char *channel, const void *data, size_t len,
                       bool binary, pt_channel_done_fn *done);

/* The call is going away: <done> will not run (the deliveries still happen). */
void pt_channel_publish_cancel(struct pt_call *call);

#endif
