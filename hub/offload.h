/* The hub side of the offload pool (include/portico/offload.h): the shared helper threads, and
 * each worker's completion queue. */
#ifndef PT_OFFLOAD_H
#define PT_OFFLOAD_H

#include <ev.h>

#include "portico/offload.h"

struct pt_worker;
struct pt_offload_queue;

/* A worker's completion queue, woken through an ev_async on its loop. */
struct pt_offload_queue *pt_offload_queue_new(struct ev_loop *loop);
/* Discards this queue's jobs that have not started, waits for the ones running on helper
 * threads and hands them to their done functions, then frees the queue. */
void pt_offload_queue_free(struct pt_offload_queue *q);

/* Stops the helper threads once every worker's queue is freed (at exit). */
void pt_offload_shutdown(void);

/* Like pt_offload_start(), for hub code that has a queue rather than a call. */
struct pt_offload *pt_offload_submit(struct pt_offload_queue *q, pt_offload_fn *work,
                                     pt_offload_fn *done, pt_offload_fn *discard, void *arg);

#endif
