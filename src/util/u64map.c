/*
 * u64map.c - see u64map.h.  Growth doubles the table and reinserts every key; a map that fails to
 * grow is left exactly as it was, so an out-of-memory error never loses entries.  A map made with
 * u64map_init_set keeps no values (half the memory): its gets report presence only.
 *
 * Load factor: at most 7/10.  The tables of a large store are big (a million stored versions make
 * two tables of about 2 million slots); every slot costs a zeroed page at first touch, so a lower
 * load factor costs more in page faults than it saves in probes.
 */
#include "util/u64map.h"

#include <stdlib.h>

void u64map_init(u64map *m)
{
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
    m->keys_only = 0;
}

void u64map_init_set(u64map *m)
{
    u64map_init(m);
    m->keys_only = 1;
}

void u64map_free(u64map *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

static size_t slot_of(uint64_t key, size_t cap)
{
    /* keys are hashes; fold the high bits in anyway so that weak hashes still spread */
    return (size_t)((key ^ (key >> 29)) & (cap - 1));
}

static size_t find_slot(const uint64_t *keys, size_t cap, uint64_t key)
{
    size_t i = slot_of(key, cap);
    while (keys[i] && keys[i] != key)
        i = (i + 1) & (cap - 1);
    return i;
}

static int resize(u64map *m, size_t cap)
{
    uint64_t *keys = calloc(cap, sizeof(*keys));
    uint64_t *vals = m->keys_only ? NULL : malloc(cap * sizeof(*vals));
    if (!keys || (!m->keys_only && !vals)) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = find_slot(keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        if (vals)
            vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

static int over_load(size_t n, size_t cap)
{
    return n * 10 > cap * 7;
}

int u64map_reserve(u64map *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 1024;
    while (over_load(n, cap))
        cap *= 2;
    return cap == m->cap ? 0 : resize(m, cap);
}

int u64map_put(u64map *m, uint64_t key, uint64_t val)
{
    key = u64map_key(key);
    if ((!m->cap || over_load(m->n + 1, m->cap)) && resize(m, m->cap ? m->cap * 2 : 1024))
        return -1;
    size_t i = find_slot(m->keys, m->cap, key);
    if (!m->keys[i])
        m->n++;
    m->keys[i] = key;
    if (m->vals)
        m->vals[i] = val;
    return 0;
}

int u64map_get(const u64map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap)
        return 0;
    key = u64map_key(key);
    size_t i = find_slot(m->keys, m->cap, key);
    if (!m->keys[i])
        return 0;
    if (val)
        *val = m->vals ? m->vals[i] : 1;
    return 1;
}

void u64map_prefetch(const u64map *m, uint64_t key)
{
    if (!m->cap)
        return;
    size_t i = slot_of(u64map_key(key), m->cap);
    __builtin_prefetch(&m->keys[i], 1);
    if (m->vals)
        __builtin_prefetch(&m->vals[i], 1);
}
