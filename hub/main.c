/* portico [--config] FILE | --check FILE | --version | --help (SPEC section 1). The only
 * place that may block: everything here runs before the loop starts. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "portico/log.h"
#include "server.h"

#define PORTICO_VERSION "0.1.0"

static void usage(FILE *out)
{
    fputs("usage: portico [--config] FILE    run with this config (default: ./portico.json)\n"
          "       portico --check FILE       validate the config; exit 0, or print every error\n"
          "       portico --version | --help\n",
          out);
}

static struct pt_config *load(const char *path)
{
    struct pt_errors errs;
    struct pt_config *cfg;
    size_t i;

    pt_errors_init(&errs, path);
    cfg = pt_config_load(path, &errs);
    for (i = 0; i < errs.count; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    pt_errors_cleanup(&errs);
    return cfg;
}

int main(int argc, char **argv)
{
    const char *path = "portico.json";
    struct pt_config *cfg;
    int rc;

    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("portico %s\n", PORTICO_VERSION);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--check") == 0) {
        if (argc != 3) {
            usage(stderr);
            return 2;
        }
        cfg = load(argv[2]);
        if (cfg == NULL)
            return 1;
        printf("%s: OK\n", argv[2]);
        pt_config_unref(cfg);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--config") == 0)
        path = argv[2];
    else if (argc == 2 && argv[1][0] != '-')
        path = argv[1];
    else if (argc != 1) {
        usage(stderr);
        return 2;
    }
    cfg = load(path);
    if (cfg == NULL)
        return 1;
    rc = pt_server_run(cfg, path);
    pt_config_unref(cfg);
    return rc;
}
