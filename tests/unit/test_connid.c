/* Unit tests for hub/connid.c: encoding, every decode rejection, randomness shape. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connid.h"
#include "harness.h"
#include "portico/err.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_index(char c)
{
    const char *p = strchr(b64url, c);

    return (c != '\0' && p != NULL) ? (int)(p - b64url) : -1;
}

static int round_trips(uint16_t node, uint8_t worker, uint32_t slot, uint64_t nonce)
{
    struct pt_connid in = {node, worker, slot, nonce}, out;
    char s[PT_CONNID_LEN + 1];

    memset(&out, 0xa5, sizeof(out));
    pt_connid_encode(&in, s);
    if (strlen(s) != PT_CONNID_LEN || pt_connid_decode(s, strlen(s), &out) != 0)
        return 0;
    return out.node == node && out.worker == worker && out.slot == slot && out.nonce == nonce;
}

static void test_known_vectors(void)
{
    /* Expected strings from Python's base64.urlsafe_b64encode with '=' stripped. */
    struct pt_connid a = {0x0102, 0x03, 0x04050607, 0x08090a0b0c0d0e0fULL};
    struct pt_connid zero = {0, 0, 0, 0};
    struct pt_connid max = {0xffff, 0xff, 0xffffffffu, UINT64_MAX};
    char s[PT_CONNID_LEN + 1];

    pt_connid_encode(&a, s);
    CHECK_EQ_STR(s, "AQECAwQFBgcICQoLDA0ODw");
    pt_connid_encode(&zero, s);
    CHECK_EQ_STR(s, "AQAAAAAAAAAAAAAAAAAAAA");
    pt_connid_encode(&max, s);
    CHECK_EQ_STR(s, "Af___________________w");
}

static void test_round_trip_edges(void)
{
    CHECK(round_trips(0, 0, 0, 0));
    CHECK(round_trips(65535, 255, 0xffffffffu, UINT64_MAX));
    CHECK(round_trips(65535, 0, 0, 1));
    CHECK(round_trips(1, 7, 0xffffffffu, 0x8000000000000000ULL));
    CHECK(round_trips(0x1234, 0x56, 0x789abcde, 0xf0e1d2c3b4a59687ULL));
    CHECK(round_trips(0, 0, 0, pt_connid_random64()));
}

static void test_decode_does_not_need_nul(void)
{
    struct pt_connid out;
    char s[40];

    snprintf(s, sizeof(s), "%sTRAILING", "AQECAwQFBgcICQoLDA0ODw");
    CHECK_EQ_INT(pt_connid_decode(s, PT_CONNID_LEN, &out), 0);
    CHECK_EQ_INT(out.node, 0x0102);
    CHECK_EQ_INT(out.worker, 3);
    CHECK_EQ_INT(out.slot, 0x04050607);
    CHECK(out.nonce == 0x08090a0b0c0d0e0fULL);
}

static void test_decode_rejects_length(void)
{
    const char *good = "AQECAwQFBgcICQoLDA0ODw";
    struct pt_connid out;

    CHECK_EQ_INT(pt_connid_decode(good, 0, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode(good, 21, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode("AQECAwQFBgcICQoLDA0ODwA", 23, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode("AQECAwQFBgcICQoLDA0ODw==", 24, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode("", 0, &out), PT_EINVAL);
}

static void test_decode_rejects_characters(void)
{
    const char bad[] = {'=', '+', '/', '.', ' ', '~', '%', '\0', '\n', (char)0xc3};
    struct pt_connid out, before;
    char s[PT_CONNID_LEN + 1];
    size_t i;
    int pos;

    for (i = 0; i < sizeof(bad); i++) {
        for (pos = 0; pos < PT_CONNID_LEN; pos += 7) {
            memcpy(s, "AQECAwQFBgcICQoLDA0ODw", sizeof(s));
            s[pos] = bad[i];
            memset(&out, 0x5a, sizeof(out));
            before = out;
            CHECK_EQ_INT(pt_connid_decode(s, PT_CONNID_LEN, &out), PT_EINVAL);
            CHECK(memcmp(&out, &before, sizeof(out)) == 0);
        }
    }
}

static void test_decode_rejects_version(void)
{
    struct pt_connid out;
    char s[PT_CONNID_LEN + 1];

    /* Char 1 holds the low 2 bits of byte 0 in its top bits: index 16..31 means version 1. */
    memcpy(s, "AQECAwQFBgcICQoLDA0ODw", sizeof(s));
    CHECK_EQ_INT(b64_index(s[1]), 16);
    s[1] = b64url[b64_index(s[1]) + 16]; /* version 2 */
    CHECK_EQ_INT(pt_connid_decode(s, PT_CONNID_LEN, &out), PT_EINVAL);
    s[1] = b64url[0]; /* version 0 */
    CHECK_EQ_INT(pt_connid_decode(s, PT_CONNID_LEN, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode("AgAAAAAAAAAAAAAAAAAAAA", PT_CONNID_LEN, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode("AAAAAAAAAAAAAAAAAAAAAA", PT_CONNID_LEN, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode("_QAAAAAAAAAAAAAAAAAAAA", PT_CONNID_LEN, &out), PT_EINVAL);
    CHECK_EQ_INT(pt_connid_decode("AQAAAAAAAAAAAAAAAAAAAA", PT_CONNID_LEN, &out), 0);
}

static void test_decode_rejects_trailing_bits(void)
{
    struct pt_connid out;
    char s[PT_CONNID_LEN + 1];
    int low;

    /* The last char carries 2 bits of data and 4 that must be zero: only A, Q, g, w are valid. */
    for (low = 0; low < 64; low++) {
        memcpy(s, "AQECAwQFBgcICQoLDA0ODw", sizeof(s));
        s[21] = b64url[low];
        CHECK_EQ_INT(pt_connid_decode(s, PT_CONNID_LEN, &out), (low & 15) ? PT_EINVAL : 0);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_generated_ids_distinct_and_url_safe(void)
{
    enum { N = 10000 };
    char(*ids)[PT_CONNID_LEN + 1] = malloc(N * sizeof(*ids));
    struct pt_connid id;
    int i, dups = 0, bad = 0;

    for (i = 0; i < N; i++) {
        id.node = 3;
        id.worker = 1;
        id.slot = (uint32_t)(i % 16); /* reused slots: only the nonce tells them apart */
        id.nonce = pt_connid_random64();
        pt_connid_encode(&id, ids[i]);
        if (strlen(ids[i]) != PT_CONNID_LEN || strspn(ids[i], b64url) != PT_CONNID_LEN)
            bad++;
    }
    qsort(ids, N, sizeof(*ids), cmp_str);
    for (i = 1; i < N; i++)
        dups += strcmp(ids[i - 1], ids[i]) == 0;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(dups, 0);
    free(ids);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static void test_random64_distinct_and_varied(void)
{
    enum { N = 10000 };
    uint64_t *v = malloc(N * sizeof(*v)), ones = 0, zeros = 0;
    int i, dups = 0;

    /* 80 KB of draws: crosses many 4 KiB refills. */
    for (i = 0; i < N; i++) {
        v[i] = pt_connid_random64();
        ones |= v[i];
        zeros |= ~v[i];
    }
    qsort(v, N, sizeof(*v), cmp_u64);
    for (i = 1; i < N; i++)
        dups += v[i - 1] == v[i];
    CHECK_EQ_INT(dups, 0);
    CHECK(ones == UINT64_MAX); /* every bit was 1 somewhere and 0 somewhere */
    CHECK(zeros == UINT64_MAX);
    free(v);
}

static void test_request_id_shape(void)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char id[17], prev[17] = "";
    int i, bad = 0, same = 0;

    for (i = 0; i < 1000; i++) {
        memset(id, 'X', sizeof(id));
        pt_connid_request_id(id);
        if (strlen(id) != 16 || strspn(id, alnum) != 15 || id[15] != '=')
            bad++;
        same += strcmp(id, prev) == 0;
        memcpy(prev, id, sizeof(id));
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(same, 0);
}

/* Each of the 62 chars should appear about 150000/62 = 2419 times (standard deviation 49). The
 * bounds are 8 deviations either side, so chance never fails the test, while a plain "byte % 62"
 * mapping does: it gives the first 8 chars about 2930 each. */
static void test_request_id_uniform(void)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int counts[62] = {0}, i, j, lo = 1 << 30, hi = 0;
    char id[17];

    for (i = 0; i < 10000; i++) {
        pt_connid_request_id(id);
        for (j = 0; j < 15; j++)
            counts[strchr(alnum, id[j]) - alnum]++;
    }
    for (j = 0; j < 62; j++) {
        lo = counts[j] < lo ? counts[j] : lo;
        hi = counts[j] > hi ? counts[j] : hi;
    }
    CHECK(lo > 2030);
    CHECK(hi < 2810);
}

static void *draw_many(void *arg)
{
    uint64_t *v = arg;
    int i;

    for (i = 0; i < 2000; i++)
        v[i] = pt_connid_random64();
    return NULL;
}

static void test_threads_draw_distinct(void)
{
    uint64_t *v = malloc(4 * 2000 * sizeof(*v));
    pthread_t th[4];
    int i, dups = 0;

    for (i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, draw_many, v + i * 2000);
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    qsort(v, 4 * 2000, sizeof(*v), cmp_u64);
    for (i = 1; i < 4 * 2000; i++)
        dups += v[i - 1] == v[i];
    CHECK_EQ_INT(dups, 0);
    free(v);
}

int main(void)
{
    RUN(test_known_vectors);
    RUN(test_round_trip_edges);
    RUN(test_decode_does_not_need_nul);
    RUN(test_decode_rejects_length);
    RUN(test_decode_rejects_characters);
    RUN(test_decode_rejects_version);
    RUN(test_decode_rejects_trailing_bits);
    RUN(test_generated_ids_distinct_and_url_safe);
    RUN(test_random64_distinct_and_varied);
    RUN(test_request_id_shape);
    RUN(test_request_id_uniform);
    RUN(test_threads_draw_distinct);
    return harness_finish("test_connid");
}
