/* Throttles and quotas on the request path (see throttle.h). */
#include "throttle.h"

#include <string.h>
#include <time.h>

#include "config.h"
#include "usage.h"

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A throttle not bound to the usage store (--check, unit tests) limits nothing. */
static bool take(struct pt_bucket *b, const struct pt_rate *r, int64_t now)
{
    return b == NULL || pt_bucket_take(b, r, now);
}

enum pt_throttle_verdict pt_throttle_enter(const struct pt_config *cfg,
                                           const struct pt_stage *stage)
{
    int64_t now;

    if (!cfg->throttle.on && (stage == NULL || !stage->throttle.on))
        return PT_THROTTLE_PASS;
    now = monotonic_ns();
    if (cfg->throttle.on && !take(cfg->throttle.bucket, &cfg->throttle.rate, now))
        return PT_THROTTLE_LIMITED;
    if (stage != NULL && stage->throttle.on &&
        !take(stage->throttle.bucket, &stage->throttle.rate, now))
        return PT_THROTTLE_LIMITED;
    return PT_THROTTLE_PASS;
}

enum pt_throttle_verdict pt_throttle_plan(const struct pt_config *cfg, const struct pt_api *api,
                                          const struct pt_stage *stage, const char *route_key,
                                          const char *key_id, double now)
{
    const struct pt_plan_key *pk = NULL;
    const struct pt_plan *p;
    int64_t mono;
    size_t i;

    if (key_id == NULL || !stage->planned)
        return PT_THROTTLE_PASS;
    p = pt_config_plan_for(cfg, api, stage, key_id, &pk);
    if (p == NULL || pk->usage == NULL)
        return PT_THROTTLE_PASS;
    mono = monotonic_ns();
    if (p->throttled && !pt_bucket_take(&pk->usage->bucket, &p->rate, mono))
        return PT_THROTTLE_LIMITED;
    for (i = 0; i < p->nroutes; i++)
        if (p->routes[i].stage == stage && p->routes[i].api == api &&
            strcmp(p->routes[i].route_key, route_key) == 0 &&
            !take(pk->route_limits[i], &p->routes[i].rate, mono))
            return PT_THROTTLE_LIMITED;
    if (!pt_usage_take(pk->usage, p->quota ? p->quota_limit : -1, (int)p->quota_period,
                       pt_usage_day(now)))
        return PT_THROTTLE_QUOTA;
    return PT_THROTTLE_PASS;
}

const char *pt_throttle_message(enum pt_throttle_verdict v)
{
    return v == PT_THROTTLE_QUOTA ? "Limit Exceeded" : "Too Many Requests";
}

const char *pt_throttle_error_type(enum pt_throttle_verdict v)
{
    return v == PT_THROTTLE_QUOTA ? "LimitExceededException" : "TooManyRequestsException";
}
