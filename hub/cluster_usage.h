/* Usage-plan counts shared by the cluster (SPEC section 8): every second worker 0 adds this
 * node's new requests of each plan key to a Redis hash of day counts ("portico:usage:PLAN KEY",
 * HINCRBY answers the cluster's total), and now and then reads the days of the last month back,
 * so quotas and /admin/usage count every node. Between two syncs a node sees the others' use
 * up to a second late: a quota can be overrun by what the other nodes serve in that second. */
#ifndef PT_CLUSTER_USAGE_H
#define PT_CLUSTER_USAGE_H

struct pt_worker;

void pt_cluster_usage_start(struct pt_worker *w);
void pt_cluster_usage_stop(struct pt_worker *w);

#endif
