/*
 * u64map.c - see u64map.h.  Growth doubles the table and reinserts every key; a map that fails to
 * grow is left exactly as it was, so an out-of-memory error never loses entries.
 */
#include "util/u64map.h"

#include <stdlib.h>

void u64map_init(u64map *m)
{
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

void u64map_free(u64map *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    u64map_init(m);
}

static size_t slot_of(uint64_t key, size_t cap)
{
    /* keys are hashes; fold the high bits in anyway so that weak hashes still spread */
    return (size_t)((key ^ (key >> 29)) & (cap - 1));
}

static void insert_raw(uint64_t *keys, uint64_t *vals, size_t cap, uint64_t key, uint64_t val)
{
    size_t i = slot_of(key, cap);
    while (keys[i] && keys[i] != key)
        i = (i + 1) & (cap - 1);
    keys[i] = key;
    vals[i] = val;
}

static int resize(u64map *m, size_t cap)
{
    uint64_t *keys = calloc(cap, sizeof(*keys));
    uint64_t *vals = malloc(cap * sizeof(*vals));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            insert_raw(keys, vals, cap, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int u64map_reserve(u64map *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 1024;
    while (cap < n * 2)
        cap *= 2;
    return cap == m->cap ? 0 : resize(m, cap);
}

int u64map_put(u64map *m, uint64_t key, uint64_t val)
{
    key = u64map_key(key);
    if ((m->n + 1) * 2 > m->cap && resize(m, m->cap ? m->cap * 2 : 1024))
        return -1;
    size_t i = slot_of(key, m->cap);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

int u64map_get(const u64map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap)
        return 0;
    key = u64map_key(key);
    size_t i = slot_of(key, m->cap);
    while (m->keys[i]) {
        if (m->keys[i] == key) {
            if (val)
                *val = m->vals[i];
            return 1;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return 0;
}
