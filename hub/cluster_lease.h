/* A node's lease in the cluster's Redis, and the reaping of nodes whose lease lapsed (SPEC
 * section 8). Worker 0 of each node renews "portico:lease:NODE:RUN" three times per lease and,
 * as often, runs one atomic script that finds every node whose lease is gone and clears its
 * connections out of presence and the stages' sets, handing their records back; exactly one
 * survivor gets each, and runs each connection's $disconnect with code 1006. */
#ifndef PT_CLUSTER_LEASE_H
#define PT_CLUSTER_LEASE_H

struct pt_worker;

void pt_cluster_lease_start(struct pt_worker *w);
void pt_cluster_lease_stop(struct pt_worker *w);

#endif
