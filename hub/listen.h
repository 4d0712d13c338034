/* Listening sockets (TCP and unix) and their accept watchers on a worker's loop. */
#ifndef PT_LISTEN_H
#define PT_LISTEN_H

#include <stddef.h>

struct pt_config;
struct pt_worker;
struct pt_listener;

/* Opens every listener of <cfg>. Before the loops run (resolves host names, may block).
 * With <first> (the first worker's listeners), opens the same TCP ports again with
 * SO_REUSEPORT so that the kernel spreads connections over the workers; unix sockets stay with
 * the first worker. Returns NULL with a message logged when one cannot be opened. */
struct pt_listener *pt_listen_open(const struct pt_config *cfg, const struct pt_listener *first,
                                   size_t *count);

/* Starts accepting on <w>'s loop. */
void pt_listen_start(struct pt_listener *ls, size_t count, struct pt_worker *w);

/* Stops accepting on the API listeners (a drain); the admin listener stays for /healthz. */
void pt_listen_close_api(struct pt_listener *ls, size_t count, struct pt_worker *w);

/* Stops accepting and closes the sockets; frees <ls>. */
void pt_listen_close(struct pt_listener *ls, size_t count, struct pt_worker *w);

#endif
