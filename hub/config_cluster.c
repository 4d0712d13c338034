/* The cluster block (SPEC section 8): which Redis the nodes meet in, and this node's name.
 * The Redis host is resolved here, when the config is loaded (before the loops or on the reload
 * thread), so the loops only ever connect to a numeric address. */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "errors.h"
#include "portico/conf.h"
#include "portico/hash.h"
#include "portico/xalloc.h"

static const struct pt_conf_field cluster_fields[] = {
    {"redis", PT_CONF_ANY, .required = true},
    {"nodeId", PT_CONF_ANY},
    {"leaseSeconds", PT_CONF_ANY},
    {NULL},
};

void pt_config_cluster_free(struct pt_cluster_cfg *cl)
{
    if (cl == NULL)
        return;
    free(cl->node_id);
    free(cl->redis_url);
    free(cl->host);
    free(cl->password);
    free(cl);
}

/* redis://[:password@]host[:port][/db] into <cl>; false with <why> set when it is not one. */
static bool parse_url(const char *url, struct pt_cluster_cfg *cl, const char **why)
{
    const char *p = url, *at, *end, *colon, *slash;
    char host[256];
    size_t n;

    *why = "expected redis://[:password@]host[:port][/db]";
    if (strncmp(p, "redis://", 8) != 0)
        return false;
    p += 8;
    slash = strchr(p, '/');
    end = slash != NULL ? slash : p + strlen(p);
    at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL) {
        const char *pw = memchr(p, ':', (size_t)(at - p));

        if (pw == NULL || pw + 1 == at)
            return false;
        cl->password = pt_xstrndup(pw + 1, (size_t)(at - pw - 1));
        p = at + 1;
    }
    colon = memchr(p, ':', (size_t)(end - p));
    n = (size_t)((colon != NULL ? colon : end) - p);
    if (n == 0 || n >= sizeof(host))
        return false;
    memcpy(host, p, n);
    host[n] = '\0';
    cl->port = 6379;
    if (colon != NULL) {
        char *e;
        long port = strtol(colon + 1, &e, 10);

        if (e != end || port < 1 || port > 65535)
            return false;
        cl->port = (int)port;
    }
    if (slash != NULL && slash[1] != '\0') {
        char *e;
        long db = strtol(slash + 1, &e, 10);

        if (*e != '\0' || db < 0 || db > 15)
            return false;
        cl->db = (int)db;
    }
    {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
        char ip[INET_ADDRSTRLEN];

        if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
            *why = "cannot resolve the Redis host";
            return false;
        }
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, sizeof(ip));
        freeaddrinfo(res);
        cl->host = pt_xstrdup(ip);
    }
    return true;
}

/* The node number in connection ids: a hash of the node's name, never 0 (a node alone). Two
 * names that collide are found at start (their leases meet in Redis) and reported. */
static uint16_t node_number(const char *id)
{
    return (uint16_t)(pt_hash_str(id) % 65535u + 1u);
}

/* Every key is checked, so that --check names every problem at once. */
void pt_config_parse_cluster(struct pt_config *c, const cJSON *obj, struct pt_errors *errs)
{
    const cJSON *redis, *node_id, *lease;
    struct pt_cluster_cfg *cl;
    size_t before = errs->count;
    const char *why;
    char name[256];

    if (pt_conf_walk(obj, "cluster", cluster_fields, NULL, NULL, errs) > 0)
        return;
    redis = cJSON_GetObjectItemCaseSensitive(obj, "redis");
    node_id = cJSON_GetObjectItemCaseSensitive(obj, "nodeId");
    lease = cJSON_GetObjectItemCaseSensitive(obj, "leaseSeconds");
    if (cJSON_IsArray(redis) && cJSON_GetArraySize(redis) == 1)
        redis = cJSON_GetArrayItem(redis, 0);
    if (cJSON_IsArray(redis))
        pt_errors_add(errs, "cluster.redis",
                      "a list of several Redis servers is not supported yet: give one");
    else if (!cJSON_IsString(redis))
        pt_conf_expected(redis, "a redis:// URL", "cluster.redis", errs);
    if (node_id != NULL && (!cJSON_IsString(node_id) || node_id->valuestring[0] == '\0' ||
                            strlen(node_id->valuestring) > 128))
        pt_conf_expected(node_id, "a name of 1 to 128 characters", "cluster.nodeId", errs);
    if (lease != NULL &&
        (!cJSON_IsNumber(lease) || !(lease->valuedouble >= 3) || lease->valuedouble > 300 ||
         lease->valuedouble != (double)(int)lease->valuedouble))
        pt_conf_expected(lease, "whole seconds, 3 to 300", "cluster.leaseSeconds", errs);
    cl = pt_xcalloc(1, sizeof(*cl));
    if (cJSON_IsString(redis) && !parse_url(redis->valuestring, cl, &why))
        pt_errors_add(errs, "cluster.redis", "%s, got \"%s\"", why, redis->valuestring);
    if (errs->count > before) {
        pt_config_cluster_free(cl);
        return;
    }
    if (node_id != NULL) {
        cl->node_id = pt_xstrdup(node_id->valuestring);
    } else {
        if (gethostname(name, sizeof(name)) != 0)
            strcpy(name, "portico");
        name[sizeof(name) - 1] = '\0';
        cl->node_id = pt_xstrdup(name);
    }
    cl->node = node_number(cl->node_id);
    cl->lease_s = lease != NULL ? lease->valueint : 15;
    cl->redis_url = pt_xstrdup(redis->valuestring);
    c->cluster = cl;
}
