/* Blocking work (reading a file, resolving a name) done off the loop: work() runs on a helper
 * thread, then done() runs back on the loop of the worker that started it. */
#ifndef PORTICO_OFFLOAD_H
#define PORTICO_OFFLOAD_H

struct pt_call;
struct pt_offload;

typedef void pt_offload_fn(void *arg);

/* Starts a job for <call>'s worker. <work>(arg) runs on a helper thread and must touch only
 * <arg>. Then, on the loop and never before this returns, <done>(arg) runs; or, when the job
 * was cancelled meanwhile, <discard>(arg) runs instead, to free <arg>. Returns the job handle,
 * valid until done or discard has run. */
struct pt_offload *pt_offload_start(struct pt_call *call, pt_offload_fn *work, pt_offload_fn *done,
                                    pt_offload_fn *discard, void *arg);

/* From the loop: done() will not run (discard() will, once the work has returned). */
void pt_offload_cancel(struct pt_offload *job);

#endif
