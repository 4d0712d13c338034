/* HTTP/2 on TLS connections whose ALPN chose h2, with libnghttp2 doing the framing, HPACK and
 * flow control. Each stream's request is rewritten into an HTTP/1.1 head and then follows the
 * same path as an HTTP/1.1 request (pt_http_begin, pt_http_dispatch). */
#ifndef PT_H2_H
#define PT_H2_H

#include <stddef.h>
#include <stdint.h>

#include "portico/kv.h"

struct pt_conn;
struct pt_http;

/* Switches <c> to HTTP/2 (after the TLS handshake chose h2) and sends the server preface. */
void pt_h2_start(struct pt_conn *c);

/* Feeds received bytes; returns how many were consumed, or -1 to close. */
long pt_h2_process(struct pt_conn *c, uint8_t *p, size_t n);

/* Answers request <h> on its stream and frees <h>. */
void pt_h2_respond(struct pt_http *h, int status, const struct pt_kv *headers, size_t nheaders,
                   const char *content_type, const void *body, size_t len);

/* Asks the client to stop opening streams (GOAWAY); the connection closes when the open
 * streams are done. */
void pt_h2_drain(struct pt_conn *c);

/* Frees the session and every stream (their requests are cancelled). */
void pt_h2_cleanup(struct pt_conn *c);

#endif
