/*
 * u64map.h - an open-addressing hash map from non-zero 64-bit keys to 64-bit values.
 *
 * Keys are expected to be hashes already (accord feeds it XXH3 values), so the slot is taken from
 * the key's bits directly.  Linear probing, power-of-two capacity, load factor at most 7/10; no
 * deletion (the maps are rebuilt, never shrunk).  Key 0 is reserved for empty slots: callers map
 * a zero key to 1 with u64map_key().
 */
#ifndef ACCORD_UTIL_U64MAP_H
#define ACCORD_UTIL_U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct u64map {
    uint64_t *keys;
    uint64_t *vals;
    size_t cap; /* slots, a power of two, or 0 */
    size_t n;   /* keys stored */
    int keys_only; /* a set: vals is NULL */
} u64map;

static inline uint64_t u64map_key(uint64_t h)
{
    return h ? h : 1;
}

void u64map_init(u64map *m);
/* A map without values (a set): u64map_get then reports 1 as the value of every key. */
void u64map_init_set(u64map *m);
void u64map_free(u64map *m);
/* Grows the table to hold n keys without further growth; 0, or -1 when memory runs out. */
int u64map_reserve(u64map *m, size_t n);
/* Inserts or overwrites; 0, or -1 when memory runs out (the map is unchanged then). */
int u64map_put(u64map *m, uint64_t key, uint64_t val);
/* 1 with *val set when key is present, else 0.  val may be NULL. */
int u64map_get(const u64map *m, uint64_t key, uint64_t *val);
/*
 * Starts loading the slot where a get or put of key looks first (and its value), so that work
 * done in between hides the cache miss of a large map.  Changes nothing.
 */
void u64map_prefetch(const u64map *m, uint64_t key);

#endif
