/* The response cache (see cache.h): a hash table over entries kept in LRU order, per stage. */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "portico/buf.h"
#include "portico/hash.h"
#include "portico/xalloc.h"

#define FIRST_BUCKETS 256

struct pt_cache {
    pthread_mutex_t lock;
    struct pt_cache_entry **table;
    size_t nbuckets; /* a power of two */
    size_t count;
    size_t bytes, capacity;
    struct pt_cache_entry *newest, *oldest; /* the LRU list */
    char *name;                             /* "api\x1fstage" */
    struct pt_cache *next;                  /* the store's list */
};

struct pt_cache_store {
    pthread_mutex_t lock; /* binding only */
    struct pt_cache *caches;
};

/* ---- Entries ---- */

void pt_cache_entry_unref(struct pt_cache_entry *e)
{
    if (e != NULL && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(e);
}

/* One block: the entry, its header array, then every string and the body. */
struct pt_cache_entry *pt_cache_entry_new(const char *key, int status, const struct pt_kv *headers,
                                          size_t nheaders, const void *body, size_t body_len)
{
    size_t size = sizeof(struct pt_cache_entry) + nheaders * sizeof(struct pt_kv) + strlen(key) +
                  1 + body_len + 1;
    struct pt_cache_entry *e;
    char *p;
    size_t i, n;

    for (i = 0; i < nheaders; i++)
        size += strlen(headers[i].name) + strlen(headers[i].value) + 2;
    e = pt_xcalloc(1, size);
    e->refs = 1;
    e->status = status;
    e->size = size;
    e->headers = (struct pt_kv *)(e + 1);
    e->nheaders = nheaders;
    p = (char *)(e->headers + nheaders);
    for (i = 0; i < nheaders; i++) {
        n = strlen(headers[i].name) + 1;
        e->headers[i].name = memcpy(p, headers[i].name, n);
        p += n;
        n = strlen(headers[i].value) + 1;
        e->headers[i].value = memcpy(p, headers[i].value, n);
        p += n;
    }
    n = strlen(key) + 1;
    e->key = memcpy(p, key, n);
    p += n;
    if (body_len > 0)
        memcpy(p, body, body_len);
    e->body = p;
    e->body_len = body_len;
    return e;
}

/* ---- The table and the LRU list (lock held) ---- */

static void lru_unlink(struct pt_cache *c, struct pt_cache_entry *e)
{
    if (e->lprev != NULL)
        e->lprev->lnext = e->lnext;
    else
        c->newest = e->lnext;
    if (e->lnext != NULL)
        e->lnext->lprev = e->lprev;
    else
        c->oldest = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void lru_push(struct pt_cache *c, struct pt_cache_entry *e)
{
    e->lprev = NULL;
    e->lnext = c->newest;
    if (c->newest != NULL)
        c->newest->lprev = e;
    c->newest = e;
    if (c->oldest == NULL)
        c->oldest = e;
}

static struct pt_cache_entry **slot_of(struct pt_cache *c, const char *key)
{
    struct pt_cache_entry **pp = &c->table[pt_hash_str(key) & (c->nbuckets - 1)];

    while (*pp != NULL && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->hnext;
    return pp;
}

static void drop(struct pt_cache *c, struct pt_cache_entry *e)
{
    struct pt_cache_entry **pp = slot_of(c, e->key);

    *pp = e->hnext;
    lru_unlink(c, e);
    c->bytes -= e->size;
    c->count--;
    pt_cache_entry_unref(e);
}

static void grow(struct pt_cache *c)
{
    size_t n = c->nbuckets * 2, i;
    struct pt_cache_entry **table = pt_xcalloc(n, sizeof(*table)), *e, *next;

    for (i = 0; i < c->nbuckets; i++) {
        for (e = c->table[i]; e != NULL; e = next) {
            next = e->hnext;
            e->hnext = table[pt_hash_str(e->key) & (n - 1)];
            table[pt_hash_str(e->key) & (n - 1)] = e;
        }
    }
    free(c->table);
    c->table = table;
    c->nbuckets = n;
}

/* ---- The cache ---- */

struct pt_cache_entry *pt_cache_get(struct pt_cache *c, const char *key, double now)
{
    struct pt_cache_entry *e;

    pthread_mutex_lock(&c->lock);
    e = *slot_of(c, key);
    if (e != NULL && e->expires <= now) {
        drop(c, e);
        e = NULL;
    }
    if (e != NULL) {
        lru_unlink(c, e);
        lru_push(c, e);
        __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&c->lock);
    return e;
}

bool pt_cache_put(struct pt_cache *c, const char *key, int status, const struct pt_kv *headers,
                  size_t nheaders, const void *body, size_t body_len, double ttl_s, double now)
{
    struct pt_cache_entry *e, *old;

    if (body_len > PT_CACHE_MAX_ENTRY_BYTES)
        return false;
    e = pt_cache_entry_new(key, status, headers, nheaders, body, body_len); /* outside the lock */
    e->expires = now + ttl_s;
    pthread_mutex_lock(&c->lock);
    if (e->size > c->capacity) {
        pthread_mutex_unlock(&c->lock);
        pt_cache_entry_unref(e);
        return false;
    }
    if ((old = *slot_of(c, key)) != NULL)
        drop(c, old);
    while (c->bytes + e->size > c->capacity && c->oldest != NULL)
        drop(c, c->oldest);
    if (c->count >= c->nbuckets * 2)
        grow(c);
    e->hnext = NULL;
    *slot_of(c, key) = e;
    lru_push(c, e);
    c->bytes += e->size;
    c->count++;
    pthread_mutex_unlock(&c->lock);
    return true;
}

size_t pt_cache_flush(struct pt_cache *c)
{
    size_t n;

    pthread_mutex_lock(&c->lock);
    n = c->count;
    while (c->oldest != NULL)
        drop(c, c->oldest);
    pthread_mutex_unlock(&c->lock);
    return n;
}

static void cache_free(struct pt_cache *c)
{
    pt_cache_flush(c);
    pthread_mutex_destroy(&c->lock);
    free(c->table);
    free(c->name);
    free(c);
}

/* ---- The store ---- */

struct pt_cache_store *pt_cache_store_new(void)
{
    struct pt_cache_store *s = pt_xcalloc(1, sizeof(*s));

    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void pt_cache_store_free(struct pt_cache_store *s)
{
    struct pt_cache *c, *next;

    if (s == NULL)
        return;
    for (c = s->caches; c != NULL; c = next) {
        next = c->next;
        cache_free(c);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static struct pt_cache *cache_named(struct pt_cache_store *s, const char *name)
{
    struct pt_cache *c;

    for (c = s->caches; c != NULL; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    c = pt_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->nbuckets = FIRST_BUCKETS;
    c->table = pt_xcalloc(c->nbuckets, sizeof(*c->table));
    c->name = pt_xstrdup(name);
    c->next = s->caches;
    s->caches = c;
    return c;
}

void pt_cache_bind(struct pt_cache_store *s, struct pt_config *cfg)
{
    struct pt_buf name;
    size_t i, j;

    pt_buf_init(&name);
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < cfg->napis; i++) {
        for (j = 0; j < cfg->apis[i].nstages; j++) {
            struct pt_stage *st = &cfg->apis[i].stages[j];
            struct pt_cache *c;

            if (!st->cache.enabled)
                continue;
            pt_buf_reset(&name);
            pt_buf_printf(&name, "%s\x1f%s", cfg->apis[i].name, st->name);
            c = cache_named(s, name.data);
            pthread_mutex_lock(&c->lock);
            c->capacity = (size_t)st->cache.capacity_mb << 20;
            while (c->bytes > c->capacity && c->oldest != NULL)
                drop(c, c->oldest); /* a smaller capacity takes effect now */
            pthread_mutex_unlock(&c->lock);
            st->cache.cache = c;
        }
    }
    pthread_mutex_unlock(&s->lock);
    pt_buf_cleanup(&name);
}
