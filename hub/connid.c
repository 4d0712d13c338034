/* Connection IDs (see connid.h) and the random bytes behind them. RAND_bytes is called once per
 * 4 KiB per thread, so an ID costs a memcpy; the buffer is discarded in a forked child so parent
 * and child never hand out the same bytes. */
#include "connid.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "portico/b64url.h"
#include "portico/err.h"

#define PT_CONNID_BYTES 16
#define RAND_POOL_BYTES 4096

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static _Thread_local unsigned char rand_pool[RAND_POOL_BYTES];
static _Thread_local size_t rand_pos = RAND_POOL_BYTES; /* bytes of rand_pool already used */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Runs in the child, in the thread that forked: the only pool the child still has. */
static void on_fork_child(void)
{
    rand_pos = RAND_POOL_BYTES;
}

static void register_atfork(void)
{
    if (pthread_atfork(NULL, NULL, on_fork_child) != 0) {
        fprintf(stderr, "portico: pthread_atfork failed\n");
        abort();
    }
}

static void rand_take(void *dst, size_t n)
{
    if (RAND_POOL_BYTES - rand_pos < n) {
        pthread_once(&atfork_once, register_atfork);
        if (RAND_bytes(rand_pool, RAND_POOL_BYTES) != 1) {
            /* IDs must be unguessable; a weaker generator would silently break that. */
            fprintf(stderr, "portico: RAND_bytes failed, cannot make unguessable IDs\n");
            abort();
        }
        rand_pos = 0;
    }
    memcpy(dst, rand_pool + rand_pos, n);
    rand_pos += n;
}

uint64_t pt_connid_random64(void)
{
    uint64_t v;

    rand_take(&v, sizeof(v));
    return v;
}

void pt_connid_request_id(char out[17])
{
    unsigned char b;
    int i = 0;

    while (i < 15) {
        rand_take(&b, 1);
        /* 248 = 4 * 62: bytes above it would favour the first 8 chars, so draw again. */
        if (b >= 248)
            continue;
        out[i++] = alnum[b % 62];
    }
    out[15] = '=';
    out[16] = '\0';
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

void pt_connid_encode(const struct pt_connid *id, char out[PT_CONNID_LEN + 1])
{
    unsigned char b[PT_CONNID_BYTES];
    uint32_t w;
    int i, o = 0;

    b[0] = PT_CONNID_VERSION;
    put_be(b + 1, id->node, 2);
    b[3] = id->worker;
    put_be(b + 4, id->slot, 4);
    put_be(b + 8, id->nonce, 8);
    for (i = 0; i + 3 <= PT_CONNID_BYTES; i += 3) {
        w = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        out[o++] = b64url[w >> 18];
        out[o++] = b64url[(w >> 12) & 63];
        out[o++] = b64url[(w >> 6) & 63];
        out[o++] = b64url[w & 63];
    }
    /* 16 = 5 * 3 + 1: the last byte takes two chars, the second with 4 zero bits. */
    out[o++] = b64url[b[15] >> 2];
    out[o++] = b64url[(b[15] & 3) << 4];
    out[o] = '\0';
}

int pt_connid_decode(const char *s, size_t len, struct pt_connid *out)
{
    unsigned char b[PT_CONNID_BYTES];
    int v[PT_CONNID_LEN];
    uint32_t w;
    int i, o = 0;

    if (len != PT_CONNID_LEN)
        return PT_EINVAL;
    for (i = 0; i < PT_CONNID_LEN; i++) {
        v[i] = pt_b64url_value((unsigned char)s[i]);
        if (v[i] < 0)
            return PT_EINVAL;
    }
    if (v[21] & 15)
        return PT_EINVAL;
    for (i = 0; i + 4 <= 20; i += 4) {
        w = (uint32_t)v[i] << 18 | (uint32_t)v[i + 1] << 12 | (uint32_t)v[i + 2] << 6 |
            (uint32_t)v[i + 3];
        b[o++] = (unsigned char)(w >> 16);
        b[o++] = (unsigned char)(w >> 8);
        b[o++] = (unsigned char)w;
    }
    b[15] = (unsigned char)(v[20] << 2 | v[21] >> 4);
    if (b[0] != PT_CONNID_VERSION)
        return PT_EINVAL;
    out->node = (uint16_t)get_be(b + 1, 2);
    out->worker = b[3];
    out->slot = (uint32_t)get_be(b + 4, 4);
    out->nonce = get_be(b + 8, 8);
    return 0;
}
