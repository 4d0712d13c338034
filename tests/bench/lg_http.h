/*
 * lg_http: the load generator's HTTP/1.1 client. Keep-alive connections on loadgen's epoll
 * loop, one request in flight on each (so W connections give W requests in flight), POST
 * only, answers read by Content-Length. With a key set, every request is signed with SigV4
 * (service execute-api, region us-east-1) by hub/sigv4.c, as a backend of ours would.
 */
#ifndef PT_BENCH_LG_HTTP_H
#define PT_BENCH_LG_HTTP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Called once per connection when it is connected and idle, and after each answer: the
 * caller may then start the next request on it with lg_http_post(). status is the answer's
 * status (0 on the first call); tag and sent_us are those of the request answered. */
typedef void lg_http_done_fn(unsigned idx, int status, uint64_t tag, uint64_t sent_us,
                             uint64_t now);

/* Sets the Host header and the key: sign is "AKID:SECRET" or NULL. Returns 0 or -1. */
int lg_http_setup(const char *host_header, const char *sign);
/* Opens n connections to dst (at most 256). Returns 0 or -1. */
int lg_http_open(unsigned n, const struct sockaddr_in *dst, lg_http_done_fn *done);
/* Writes a whole POST (signed when a key is set) into out. Returns its length, or -1. */
int lg_http_build(char *out, size_t cap, const char *path, const void *body, size_t len);
/* Sends one POST on connection idx, which must be idle: built here (post), or prebuilt with
 * lg_http_build() (send). Returns 0, or -1 (a dead connection counts in lg_http_failed). */
int lg_http_post(unsigned idx, const char *path, const void *body, size_t len, uint64_t tag);
int lg_http_send(unsigned idx, const char *req, size_t len, uint64_t tag);
/* An epoll event for connection idx. */
void lg_http_event(unsigned idx, uint32_t events);
/* Connections connected and not dead. */
unsigned lg_http_alive(void);
void lg_http_close(void);

extern unsigned lg_http_failed; /* connections lost, and answers that could not be parsed */

#endif
