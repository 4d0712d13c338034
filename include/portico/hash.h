/* One string hash for the hash tables (channels, response caches, the usage store) and the
 * node number of a cluster node's name: 64-bit FNV-1a. Fast on short keys; not for keys chosen
 * by an attacker to collide (none of these is). */
#ifndef PORTICO_HASH_H
#define PORTICO_HASH_H

#include <stdint.h>

uint64_t pt_hash_str(const char *s);

#endif
