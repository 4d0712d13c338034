/* Running Portico: the loop, the listeners, the signals (SIGTERM/SIGINT drain, SIGHUP reload)
 * and the drain. */
#ifndef PT_SERVER_H
#define PT_SERVER_H

struct pt_config;

/* Serves <cfg> (takes a reference) until drained. <path> is the config file for reloads.
 * Returns the process exit status. */
int pt_server_run(struct pt_config *cfg, const char *path);

#endif
