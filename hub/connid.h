/* Connection IDs and request IDs. A connection ID names where the connection lives (node,
 * worker, slot) plus 64 random bits, so a post is routed without a lookup and a stale ID fails
 * the nonce check at its slot. Encoding is 16 bytes as 22 chars of unpadded base64url:
 *   [0] version 0x01, [1..2] node (big endian), [3] worker, [4..7] slot (big endian),
 *   [8..15] nonce.
 * The random source is OpenSSL's RAND_bytes, buffered per thread; any thread may call these. */
#ifndef PT_CONNID_H
#define PT_CONNID_H

#include <stddef.h>
#include <stdint.h>

#define PT_CONNID_LEN     22 /* chars of an encoded connection ID, without the NUL */
#define PT_CONNID_VERSION 0x01

struct pt_connid {
    uint16_t node;  /* cluster node number */
    uint8_t worker; /* worker thread on that node */
    uint32_t slot;  /* connection slot in that worker */
    uint64_t nonce; /* random; from pt_connid_random64() */
};

/* Writes <id> as PT_CONNID_LEN chars of [A-Za-z0-9_-] plus a NUL. Never fails. */
void pt_connid_encode(const struct pt_connid *id, char out[PT_CONNID_LEN + 1]);

/* Reads the <len> bytes at <s> (not necessarily NUL-terminated) into <out>. Returns 0, or
 * PT_EINVAL when <len> is not PT_CONNID_LEN, a char is outside base64url, the version byte is
 * not PT_CONNID_VERSION, or the last char carries non-zero padding bits (so every ID has exactly
 * one spelling). <out> is written only on success. */
int pt_connid_decode(const char *s, size_t len, struct pt_connid *out);

/* 64 uniformly random bits. Aborts the process if OpenSSL cannot supply randomness: there is
 * no weaker fallback. */
uint64_t pt_connid_random64(void);

/* Writes an AWS-shaped request ID: 15 uniformly random chars of [A-Za-z0-9], then '=' and a NUL
 * (AWS-BEHAVIOUR 1.7). Aborts as pt_connid_random64() does. */
void pt_connid_request_id(char out[17]);

#endif
