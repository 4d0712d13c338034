/* The per-worker side of the upstream client: pools of idle keep-alive connections, one per
 * upstream host and port. The interface for backends is include/portico/upstream.h. */
#ifndef PT_UPSTREAM_POOL_H
#define PT_UPSTREAM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct pt_worker;
struct uconn;

struct pt_upool {
    struct pt_worker *w;
    char host[256];
    int port;
    bool tls;                     /* https */
    struct sockaddr_storage addr; /* valid when addr_known */
    socklen_t addrlen;
    bool addr_known;    /* a numeric host; names are resolved per new connection (cached) */
    struct uconn *idle; /* idle connections, most recent first */
    size_t nidle;
    struct pt_upool *next;
};

/* Closes every idle connection and frees the pools of <w>. */
void pt_upstream_pool_cleanup(struct pt_worker *w);

#endif
