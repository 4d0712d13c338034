/* The shared response cache (see cache_shared.h). An entry is stored as one string: status,
 * headers and body, each length-prefixed. */
#include "cache_shared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cache.h"
#include "cluster.h"
#include "portico/buf.h"
#include "portico/xalloc.h"

#define PREFIX "portico:cache:"

/* Deletes every key of one stage's cache without blocking Redis on a KEYS; answers how many. */
static const char flush_script[] =
    "local n, cursor = 0, '0' "
    "repeat "
    "  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000) "
    "  cursor = r[1] "
    "  for _, k in ipairs(r[2]) do redis.call('UNLINK', k) n = n + 1 end "
    "until cursor == '0' "
    "return n";

static void key_of(struct pt_buf *b, const char *api, const char *stage, const char *key)
{
    pt_buf_printf(b, PREFIX "%s\x1f%s\x1f%s", api, stage, key);
}

static void put_u32(struct pt_buf *b, uint32_t v)
{
    char be[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

    pt_buf_append(b, be, 4);
}

static bool get_u32(const char **p, const char *end, uint32_t *v)
{
    if (end - *p < 4)
        return false;
    *v = (uint32_t)(uint8_t)(*p)[0] << 24 | (uint32_t)(uint8_t)(*p)[1] << 16 |
         (uint32_t)(uint8_t)(*p)[2] << 8 | (uint8_t)(*p)[3];
    *p += 4;
    return true;
}

/* The entry stored in <p> (<n> bytes), or NULL when it is not one. */
static struct pt_cache_entry *decode(const char *key, const char *p, size_t n)
{
    const char *end = p + n;
    struct pt_kv hdrs[64];
    char *strings[128];
    uint32_t status, count, len, i, j;
    struct pt_cache_entry *e = NULL;

    if (!get_u32(&p, end, &status) || !get_u32(&p, end, &count) || count > 64)
        return NULL;
    for (i = 0; i < count * 2; i++) {
        if (!get_u32(&p, end, &len) || (size_t)(end - p) < len)
            break;
        strings[i] = pt_xstrndup(p, len);
        p += len;
    }
    if (i == count * 2 && get_u32(&p, end, &len) && (size_t)(end - p) == len) {
        for (j = 0; j < count; j++)
            hdrs[j] = (struct pt_kv){strings[2 * j], strings[2 * j + 1]};
        e = pt_cache_entry_new(key, (int)status, hdrs, count, p, len);
    }
    for (j = 0; j < i; j++)
        free(strings[j]);
    return e;
}

struct lookup {
    pt_cache_shared_fn *fn;
    void *ud;
    char *key;
};

static void on_got(struct pt_worker *w, void *r, void *ud)
{
    struct lookup *l = ud;
    redisReply *reply = r;
    struct pt_cache_entry *e = NULL;

    if (reply != NULL && reply->type == REDIS_REPLY_STRING)
        e = decode(l->key, reply->str, reply->len);
    l->fn(w, l->ud, e);
    free(l->key);
    free(l);
}

void pt_cache_shared_get(struct pt_worker *w, const char *api, const char *stage, const char *key,
                         pt_cache_shared_fn *fn, void *ud)
{
    struct lookup *l = pt_xmalloc(sizeof(*l));
    struct pt_buf k;

    pt_buf_init(&k);
    key_of(&k, api, stage, key);
    *l = (struct lookup){fn, ud, pt_xstrdup(key)};
    if (!PT_CLUSTER_SEND(w, on_got, l, "GET", k.data)) {
        free(l->key);
        free(l);
        fn(w, ud, NULL); /* Redis down: a miss */
    }
    pt_buf_cleanup(&k);
}

void pt_cache_shared_put(struct pt_worker *w, const char *api, const char *stage, const char *key,
                         int status, const struct pt_kv *headers, size_t nheaders, const void *body,
                         size_t body_len, long long ttl_s)
{
    struct pt_buf k, v;
    char ttl[24];
    const char *argv[5];
    size_t lens[5], i;

    if (body_len > PT_CACHE_MAX_ENTRY_BYTES || nheaders > 64)
        return;
    pt_buf_init(&k);
    pt_buf_init(&v);
    key_of(&k, api, stage, key);
    put_u32(&v, (uint32_t)status);
    put_u32(&v, (uint32_t)nheaders);
    for (i = 0; i < nheaders; i++) {
        put_u32(&v, (uint32_t)strlen(headers[i].name));
        pt_buf_puts(&v, headers[i].name);
        put_u32(&v, (uint32_t)strlen(headers[i].value));
        pt_buf_puts(&v, headers[i].value);
    }
    put_u32(&v, (uint32_t)body_len);
    pt_buf_append(&v, body, body_len);
    snprintf(ttl, sizeof(ttl), "%lld", ttl_s);
    argv[0] = "SET";
    argv[1] = k.data;
    argv[2] = v.data;
    argv[3] = "EX";
    argv[4] = ttl;
    lens[0] = 3;
    lens[1] = k.len;
    lens[2] = v.len;
    lens[3] = 2;
    lens[4] = strlen(ttl);
    pt_cluster_command(w, NULL, NULL, 5, argv, lens);
    pt_buf_cleanup(&k);
    pt_buf_cleanup(&v);
}

/* <s> matched literally by SCAN's MATCH pattern. */
static void glob_escaped(struct pt_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (strchr("*?[]\\", *s) != NULL)
            pt_buf_putc(b, '\\');
        pt_buf_putc(b, *s);
    }
}

struct flush {
    pt_cache_flushed_fn *fn;
    void *ud;
};

static void on_flushed(struct pt_worker *w, void *r, void *ud)
{
    struct flush *f = ud;
    redisReply *reply = r;

    f->fn(w, f->ud,
          reply != NULL && reply->type == REDIS_REPLY_INTEGER ? (long)reply->integer : -1);
    free(f);
}

void pt_cache_shared_flush(struct pt_worker *w, const char *api, const char *stage,
                           pt_cache_flushed_fn *fn, void *ud)
{
    struct flush *f = pt_xmalloc(sizeof(*f));
    struct pt_buf pattern;

    pt_buf_init(&pattern);
    pt_buf_puts(&pattern, PREFIX);
    glob_escaped(&pattern, api);
    pt_buf_putc(&pattern, '\x1f');
    glob_escaped(&pattern, stage);
    pt_buf_puts(&pattern, "\x1f*");
    *f = (struct flush){fn, ud};
    if (!PT_CLUSTER_SEND(w, on_flushed, f, "EVAL", flush_script, "0", pattern.data)) {
        free(f);
        fn(w, ud, -1);
    }
    pt_buf_cleanup(&pattern);
}
