/* One timer per worker sweeps every connection once a second for idle, maximum duration,
 * keepalive and lingering-close deadlines, instead of one timer per socket. */
#ifndef PT_SWEEP_H
#define PT_SWEEP_H

struct pt_worker;

void pt_sweep_start(struct pt_worker *w);
void pt_sweep_stop(struct pt_worker *w);

#endif
