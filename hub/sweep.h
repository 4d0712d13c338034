/* One timer per worker sweeps every connection twice a second for idle, maximum duration,
 * keepalive and lingering-close deadlines, instead of one timer per socket. */
#ifndef PT_SWEEP_H
#define PT_SWEEP_H

struct pt_worker;

/* Deadlines are kept to within this period. Sweeping 15,000 connections takes about 100 us. */
#define PT_SWEEP_PERIOD_S 0.5

void pt_sweep_start(struct pt_worker *w);
void pt_sweep_stop(struct pt_worker *w);

#endif
