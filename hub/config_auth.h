/* Loading the authorization part of the config (SPEC section 6); see config_auth.c. */
#ifndef PT_CONFIG_AUTH_H
#define PT_CONFIG_AUTH_H

struct cJSON;
struct pt_api;
struct pt_config;
struct pt_errors;
struct pt_identity_source;
struct pt_route;

/* Parses "$request.header.NAME" and friends into <out> (name owned). Returns 0 or -1. */
int pt_config_identity_source(const char *expr, struct pt_identity_source *out);

/* The API's authorizers and apiKeySelectionExpression; after its integrations. */
void pt_config_auth_parse_api(struct pt_api *api, const struct cJSON *obj, const char *apath,
                              const char *dir, struct pt_errors *errs);
/* A route's authorizer, authorizationScopes and apiKeyRequired; after the API's authorizers. */
void pt_config_auth_parse_route(struct pt_api *api, struct pt_route *r, const struct cJSON *obj,
                                const char *rpath, struct pt_errors *errs);
void pt_config_auth_parse_apikeys(struct pt_config *c, const struct cJSON *arr,
                                  struct pt_errors *errs);

void pt_config_auth_cleanup_route(struct pt_route *r);
void pt_config_auth_cleanup_api(struct pt_api *api);
void pt_config_auth_cleanup_apikeys(struct pt_config *c);

#endif
