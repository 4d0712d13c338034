/* Unit tests for hub/cache.c: lookups, expiry, replacement, LRU eviction within the capacity,
 * the size limit, flushing, and entries that outlive their eviction while a reader holds them. */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "harness.h"

/* A cache of <mb> megabytes, bound through a one-stage config as the server does. */
static struct pt_cache *make_cache(struct pt_cache_store **store, long long mb)
{
    static struct pt_stage stage;
    static struct pt_api api;
    static struct pt_config cfg;

    memset(&stage, 0, sizeof(stage));
    stage.name = (char *)"prod";
    stage.cache.enabled = true;
    stage.cache.capacity_mb = mb;
    api.name = (char *)"shop";
    api.stages = &stage;
    api.nstages = 1;
    cfg.apis = &api;
    cfg.napis = 1;
    *store = pt_cache_store_new();
    pt_cache_bind(*store, &cfg);
    return stage.cache.cache;
}

static bool put(struct pt_cache *c, const char *key, const char *body, double ttl, double now)
{
    struct pt_kv h = {"Content-Type", "text/plain"};

    return pt_cache_put(c, key, 200, &h, 1, body, strlen(body), ttl, now);
}

static void test_get_put_expire(void)
{
    struct pt_cache_store *s;
    struct pt_cache *c = make_cache(&s, 1);
    struct pt_cache_entry *e;

    CHECK(pt_cache_get(c, "a", 100) == NULL);
    CHECK(put(c, "a", "alpha", 10, 100));
    e = pt_cache_get(c, "a", 105);
    CHECK(e != NULL);
    if (e != NULL) {
        CHECK_EQ_INT(e->status, 200);
        CHECK_EQ_INT(e->nheaders, 1);
        CHECK_EQ_STR(e->headers[0].value, "text/plain");
        CHECK(e->body_len == 5 && memcmp(e->body, "alpha", 5) == 0);
    }
    pt_cache_entry_unref(e);
    CHECK(pt_cache_get(c, "a", 110) == NULL); /* expired */
    CHECK(put(c, "a", "one", 10, 200));
    CHECK(put(c, "a", "two", 10, 201)); /* replaces */
    e = pt_cache_get(c, "a", 202);
    CHECK(e != NULL && e->body_len == 3 && memcmp(e->body, "two", 3) == 0);
    pt_cache_entry_unref(e);
    CHECK_EQ_INT(pt_cache_flush(c), 1);
    CHECK(pt_cache_get(c, "a", 202) == NULL);
    pt_cache_store_free(s);
}

static void test_lru_within_capacity(void)
{
    static char big[300 * 1024 + 1];
    struct pt_cache_store *s;
    struct pt_cache *c = make_cache(&s, 1);
    struct pt_cache_entry *held;
    char key[16];
    int i;

    memset(big, 'x', sizeof(big) - 1);
    for (i = 1; i <= 3; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK(put(c, key, big, 60, 0));
    }
    held = pt_cache_get(c, "k1", 1); /* k1 becomes the newest; k2 is the oldest */
    CHECK(held != NULL);
    CHECK(put(c, "k4", big, 60, 2));
    CHECK(pt_cache_get(c, "k2", 3) == NULL);
    pt_cache_entry_unref(pt_cache_get(c, "k3", 3));
    CHECK_EQ_INT(pt_cache_flush(c), 3); /* k1, k3, k4 */
    /* A reader's reference outlives the flush. */
    CHECK(held != NULL && held->body_len == sizeof(big) - 1 && held->body[0] == 'x');
    pt_cache_entry_unref(held);
    pt_cache_store_free(s);
}

static void test_too_large(void)
{
    static char huge[PT_CACHE_MAX_ENTRY_BYTES + 2];
    struct pt_cache_store *s;
    struct pt_cache *c = make_cache(&s, 4);

    memset(huge, 'z', sizeof(huge) - 1);
    CHECK(!put(c, "h", huge, 60, 0));
    huge[PT_CACHE_MAX_ENTRY_BYTES - 100] = '\0';
    CHECK(put(c, "h", huge, 60, 0)); /* just under 1 MB */
    pt_cache_store_free(s);
}

static void test_many_keys_grow(void)
{
    struct pt_cache_store *s;
    struct pt_cache *c = make_cache(&s, 16);
    char key[32];
    int i, found = 0;

    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        put(c, key, key, 60, 0);
    }
    for (i = 0; i < 5000; i++) {
        struct pt_cache_entry *e;

        snprintf(key, sizeof(key), "key-%d", i);
        e = pt_cache_get(c, key, 1);
        found += e != NULL && e->body_len == strlen(key) && memcmp(e->body, key, e->body_len) == 0;
        pt_cache_entry_unref(e);
    }
    CHECK_EQ_INT(found, 5000);
    pt_cache_store_free(s);
}

int main(void)
{
    RUN(test_get_put_expire);
    RUN(test_lru_within_capacity);
    RUN(test_too_large);
    RUN(test_many_keys_grow);
    return harness_finish("test_cache");
}
