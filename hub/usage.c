/* Usage state (see usage.h): the store, binding snapshots to it, and the daily counts. */
#include "usage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "portico/buf.h"
#include "portico/hash.h"
#include "portico/xalloc.h"

#define STORE_BUCKETS 1024
#define COUNT_BITS    40
#define COUNT_MASK    ((UINT64_C(1) << COUNT_BITS) - 1)

struct entry {
    char *name;
    void *obj; /* a struct pt_bucket or a struct pt_key_usage, by the name's first word */
    struct entry *next;
};

struct pt_usage_store {
    pthread_mutex_t lock; /* taken when binding a snapshot, never per request */
    struct entry *table[STORE_BUCKETS];
};

struct pt_usage_store *pt_usage_store_new(void)
{
    struct pt_usage_store *s = pt_xcalloc(1, sizeof(*s));

    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void pt_usage_store_free(struct pt_usage_store *s)
{
    struct entry *e, *next;
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < STORE_BUCKETS; i++) {
        for (e = s->table[i]; e != NULL; e = next) {
            next = e->next;
            free(e->name);
            free(e->obj);
            free(e);
        }
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The object named <name> (size <size>, zeroed when new). Call with the lock held. */
static void *lookup(struct pt_usage_store *s, const char *name, size_t size)
{
    uint64_t h = pt_hash_str(name);
    struct entry *e;

    for (e = s->table[h % STORE_BUCKETS]; e != NULL; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e->obj;
    e = pt_xmalloc(sizeof(*e));
    e->name = pt_xstrdup(name);
    e->obj = pt_xcalloc(1, size);
    e->next = s->table[h % STORE_BUCKETS];
    s->table[h % STORE_BUCKETS] = e;
    return e->obj;
}

/* Names join their parts with the unit separator, which no name in a config can hold unseen. */
static void *lookup_parts(struct pt_usage_store *s, size_t size, const char *const *parts)
{
    struct pt_buf b;
    void *obj;

    pt_buf_init(&b);
    for (; *parts != NULL; parts++) {
        pt_buf_puts(&b, *parts);
        pt_buf_putc(&b, '\x1f');
    }
    obj = lookup(s, b.data, size);
    pt_buf_cleanup(&b);
    return obj;
}

#define BUCKET(s, ...)                                               \
    ((struct pt_bucket *)lookup_parts((s), sizeof(struct pt_bucket), \
                                      (const char *const[]){__VA_ARGS__, NULL}))

void pt_usage_bind(struct pt_usage_store *s, struct pt_config *cfg)
{
    size_t i, j, k, r;

    pthread_mutex_lock(&s->lock);
    cfg->throttle.bucket = BUCKET(s, "throttle");
    for (i = 0; i < cfg->napis; i++)
        for (j = 0; j < cfg->apis[i].nstages; j++)
            cfg->apis[i].stages[j].throttle.bucket =
                BUCKET(s, "stage", cfg->apis[i].name, cfg->apis[i].stages[j].name);
    for (i = 0; i < cfg->nplans; i++) {
        struct pt_plan *p = &cfg->plans[i];

        for (k = 0; k < p->nkeys; k++) {
            struct pt_plan_key *pk = &p->keys[k];

            pk->usage = lookup_parts(s, sizeof(struct pt_key_usage),
                                     (const char *const[]){"plan", p->name, pk->key->id, NULL});
            free(pk->route_limits);
            pk->route_limits = pt_xcalloc(p->nroutes + 1, sizeof(*pk->route_limits));
            for (r = 0; r < p->nroutes; r++)
                pk->route_limits[r] =
                    BUCKET(s, "route", p->name, pk->key->id, p->routes[r].api->name,
                           p->routes[r].stage->name, p->routes[r].route_key);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- Daily counts ---- */

int64_t pt_usage_day(double t)
{
    return (int64_t)(t / 86400.0);
}

int64_t pt_usage_period_start(int period, int64_t day)
{
    time_t secs = (time_t)(day * 86400);
    struct tm tm;

    switch (period) {
    case PT_QUOTA_WEEK:
        return day - (day + 3) % 7; /* 1970-01-01 was a Thursday; weeks start on Monday */
    case PT_QUOTA_MONTH:
        gmtime_r(&secs, &tm);
        return day - (tm.tm_mday - 1);
    default:
        return day;
    }
}

/* The count of <day> in a packed slot of <slots>, 0 when the slot holds another day. */
static uint64_t slot_on(const uint64_t *slots, int64_t day)
{
    uint64_t v = __atomic_load_n(&slots[day % PT_USAGE_DAYS], __ATOMIC_RELAXED);

    return (int64_t)(v >> COUNT_BITS) == day ? v & COUNT_MASK : 0;
}

static void slot_set(uint64_t *slots, int64_t day, uint64_t n)
{
    __atomic_store_n(&slots[day % PT_USAGE_DAYS], ((uint64_t)day << COUNT_BITS) | (n & COUNT_MASK),
                     __ATOMIC_RELAXED);
}

uint64_t pt_usage_unpushed(const struct pt_key_usage *u, int64_t day)
{
    uint64_t local = slot_on(u->days, day), pushed = slot_on(u->pushed, day);

    return local > pushed ? local - pushed : 0;
}

uint64_t pt_usage_on(const struct pt_key_usage *u, int64_t day)
{
    /* Alone, shared and pushed stay 0 and this is the local count. */
    return slot_on(u->shared, day) + pt_usage_unpushed(u, day);
}

void pt_usage_synced(struct pt_key_usage *u, int64_t day, uint64_t pushed_now, uint64_t total)
{
    slot_set(u->pushed, day, slot_on(u->pushed, day) + pushed_now);
    slot_set(u->shared, day, total);
}

void pt_usage_each(struct pt_usage_store *s, pt_usage_each_fn *fn, void *ud)
{
    struct entry *e;
    size_t i;

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < STORE_BUCKETS; i++) {
        for (e = s->table[i]; e != NULL; e = e->next) {
            /* "plan\x1fPLAN\x1fKEY\x1f" */
            const char *plan, *key, *end;

            if (strncmp(e->name, "plan\x1f", 5) != 0)
                continue;
            plan = e->name + 5;
            key = strchr(plan, '\x1f');
            end = key != NULL ? strchr(key + 1, '\x1f') : NULL;
            if (end == NULL)
                continue;
            {
                char *p = pt_xstrndup(plan, (size_t)(key - plan));
                char *k = pt_xstrndup(key + 1, (size_t)(end - key - 1));

                fn(p, k, e->obj, ud);
                free(p);
                free(k);
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
}

uint64_t pt_usage_in_period(const struct pt_key_usage *u, int period, int64_t day)
{
    int64_t d;
    uint64_t n = 0;

    for (d = pt_usage_period_start(period, day); d <= day; d++)
        n += pt_usage_on(u, d);
    return n;
}

static void add(struct pt_key_usage *u, int64_t day, int delta)
{
    uint64_t *slot = &u->days[day % PT_USAGE_DAYS];
    uint64_t old = __atomic_load_n(slot, __ATOMIC_RELAXED), next;

    do {
        if ((int64_t)(old >> COUNT_BITS) == day)
            next = delta > 0 ? old + 1 : (old & COUNT_MASK) > 0 ? old - 1 : old;
        else if (delta > 0)
            next = ((uint64_t)day << COUNT_BITS) | 1; /* the slot held a day long gone */
        else
            return;
    } while (
        !__atomic_compare_exchange_n(slot, &old, next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

bool pt_usage_take(struct pt_key_usage *u, long long limit, int period, int64_t day)
{
    if (limit >= 0 && pt_usage_in_period(u, period, day) >= (uint64_t)limit)
        return false;
    add(u, day, +1);
    /* Two workers may both have seen room for one: the one that went past gives it back. */
    if (limit >= 0 && pt_usage_in_period(u, period, day) > (uint64_t)limit) {
        add(u, day, -1);
        return false;
    }
    return true;
}
