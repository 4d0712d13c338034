/* Host name resolution off the loop: getaddrinfo runs in the offload pool, and a small
 * per-worker cache keeps answers for a while. Numeric addresses never get here (the caller
 * uses inet_pton first). */
#ifndef PT_RESOLVE_H
#define PT_RESOLVE_H

#include <sys/socket.h>

#include <ev.h>

struct pt_offload_queue;
struct pt_resolver;
struct pt_resolve_req;

/* Runs on the loop with the first address of <host>, or err PT_ENOTFOUND. <sa> is borrowed
 * for the callback. */
typedef void pt_resolve_fn(void *ud, int err, const struct sockaddr *sa, socklen_t len);

struct pt_resolver *pt_resolver_new(struct ev_loop *loop, struct pt_offload_queue *q);
/* Frees the cache; lookups still in flight must have been cancelled (their jobs are freed by
 * the offload queue). */
void pt_resolver_free(struct pt_resolver *r);

/* Resolves <host> (port <port>); <cb> runs once, later, on the loop, unless cancelled. A cached
 * answer still arrives on a later loop turn, never from inside this call. */
struct pt_resolve_req *pt_resolve_start(struct pt_resolver *r, const char *host, int port,
                                        pt_resolve_fn *cb, void *ud);
void pt_resolve_cancel(struct pt_resolve_req *req);

#endif
