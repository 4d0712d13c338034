/* The access log (SPEC section 7): one line per HTTP request, WebSocket connect, message and
 * disconnect. Workers render lines on their loops into a buffer of their own and hand it over
 * once per loop turn; one writer thread appends them to the file, so no loop ever waits for a
 * disk. A disk slower than the traffic costs lines (counted and reported), never latency. */
#ifndef PT_ACCESSLOG_H
#define PT_ACCESSLOG_H

#include <stddef.h>

#include "portico/buf.h"

struct pt_alog;
struct pt_worker;
struct pt_http;
struct pt_conn;
struct pt_callx;

/* ---- The writer (process-wide; created and reconfigured off the loops) ---- */

/* Starts the writer thread; lines go nowhere until pt_alog_open(). */
struct pt_alog *pt_alog_new(void);

/* Opens <path> for appending ("-": standard output; NULL: no log) and makes it where lines go
 * from now on; the writer closes the old file. Opening again the same path is how a rotated
 * file is let go (SIGHUP). Returns 0, or -errno with nothing changed. Blocks: never on a loop. */
int pt_alog_open(struct pt_alog *a, const char *path);

/* Writes everything queued, stops the thread, closes the file. */
void pt_alog_free(struct pt_alog *a);

/* ---- On a worker's loop ---- */

/* A line for request <h>, answered now with <status> and a body of <len> bytes. WebSocket
 * handshakes are logged as CONNECT events. */
void pt_accesslog_http(struct pt_http *h, int status, size_t len);

/* A line for a message of connection <c> answered with <status> (the integration's,
 * <integration_status>, or Portico's own); <x> is the call, NULL when none ran. */
void pt_accesslog_message(struct pt_conn *c, const struct pt_callx *x, const char *request_id,
                          int status, int integration_status, const char *error);

/* A line for the end of connection <c> (its close code is the disconnect status), with the
 * request id of its $disconnect call (NULL when none runs: a fresh one). */
void pt_accesslog_disconnect(struct pt_conn *c, const char *request_id);

/* Hands what the worker rendered this turn to the writer (once per loop turn, and at exit). */
void pt_accesslog_flush(struct pt_worker *w);

#endif
