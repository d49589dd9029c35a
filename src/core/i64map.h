/*
 * An open-addressing hash table keyed by int64_t, with linear probing, a
 * load factor of at most 2/3, any capacity (the home slot comes from the
 * high bits of one multiply, scaled to the capacity) and backward-shift
 * deletion (no tombstones).
 *
 * A slot is the key followed by a payload; the whole slot is `slot_size`
 * bytes (a multiple of 8). Keeping a caller's record in the slot itself
 * means a lookup costs one cache miss, not two. Empty slots are all zero
 * bytes (key CRM_I64MAP_EMPTY_KEY), so an insert claims one by writing
 * its key; the real key of that value lives in one spare slot after the
 * others, so every int64 is a valid key.
 *
 * Two interfaces share the table:
 *   - slots: crm_i64map_init_slots, crm_i64map_find, crm_i64map_insert,
 *     crm_i64map_claim, iteration over crm_i64map_slot_count() slot
 *     indexes;
 *   - int64 -> uint32 values (crm_i64map_init, _get, _upsert, _set), where
 *     the payload is one uint32_t; values must be below CRM_I64MAP_NONE.
 * Slot pointers and indexes stay valid until the next insert that grows
 * the table, or the next remove.
 */
#ifndef CRM_CORE_I64MAP_H
#define CRM_CORE_I64MAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/memhint.h"

#define CRM_I64MAP_NONE UINT32_MAX
#define CRM_I64MAP_EMPTY_KEY 0

typedef struct crm_i64map {
    void *block;          /* the allocation holding the slots */
    unsigned char *slots; /* capacity + 1 slots, 64-byte aligned; the last
                             is the spare */
    size_t slot_size;
    size_t capacity;      /* 0 when slots == NULL */
    size_t count;
    int spare_used;       /* the key CRM_I64MAP_EMPTY_KEY is present */
} crm_i64map;

/* Leaves the map empty, with no memory, for int64 -> uint32 values. */
void crm_i64map_init(crm_i64map *map);

/* Leaves the map empty, with no memory, for slots of slot_size bytes
 * (a multiple of 8, at least 8) that start with the int64_t key. */
void crm_i64map_init_slots(crm_i64map *map, size_t slot_size);

/* Frees the map's memory and leaves it empty and reusable. */
void crm_i64map_free(crm_ctx *ctx, crm_i64map *map);

/* Removes every entry, keeping the memory. */
void crm_i64map_clear(crm_i64map *map);

/*
 * Makes room for `n` entries in total without further allocation.
 * Returns 0, or -1 on allocation failure (map unchanged).
 */
int crm_i64map_reserve(crm_ctx *ctx, crm_i64map *map, size_t n);

/* Entries the table holds before it grows (at most 2/3 full). */
static inline size_t crm_i64map_room(const crm_i64map *map)
{
    return map->capacity / 3 * 2;
}

/* Number of slot indexes (capacity + the spare), for iteration. */
static inline size_t crm_i64map_slot_count(const crm_i64map *map)
{
    return map->slots ? map->capacity + 1 : 0;
}

/* The slot at index i (< crm_i64map_slot_count). */
static inline void *crm_i64map_slot(const crm_i64map *map, size_t i)
{
    return map->slots + i * map->slot_size;
}

/* 1 when slot index i holds an entry. */
static inline int crm_i64map_used(const crm_i64map *map, size_t i)
{
    if (i == map->capacity)
        return map->spare_used;
    return *(const int64_t *)crm_i64map_slot(map, i) != CRM_I64MAP_EMPTY_KEY;
}

/* The index of a slot pointer. */
static inline size_t crm_i64map_index(const crm_i64map *map, const void *slot)
{
    return (size_t)((const unsigned char *)slot - map->slots) / map->slot_size;
}

/* The slot a key hashes to (capacity > 0). */
static inline size_t crm_i64map_home(const crm_i64map *map, int64_t key)
{
    uint64_t h = (uint64_t)key * UINT64_C(0x9e3779b97f4a7c15);

    return (size_t)(((h >> 32) * (uint64_t)map->capacity) >> 32);
}

/*
 * Starts loading the lines a lookup of key will most likely read: its
 * home slot's and the next one (probes run on past the home slot).
 */
static inline void crm_i64map_prefetch(const crm_i64map *map, int64_t key)
{
    const unsigned char *home;

    if (!map->capacity)
        return;
    home = crm_i64map_slot(map, crm_i64map_home(map, key));
    crm_prefetch(home);
    crm_prefetch(home + 64);
}

/* The slot holding key, or NULL. */
static inline void *crm_i64map_find(const crm_i64map *map, int64_t key)
{
    size_t i;

    if (!map->slots)
        return NULL;
    if (key == CRM_I64MAP_EMPTY_KEY)
        return map->spare_used ? crm_i64map_slot(map, map->capacity) : NULL;
    for (i = crm_i64map_home(map, key);;) {
        int64_t *slot = crm_i64map_slot(map, i);
        if (*slot == key)
            return slot;
        if (*slot == CRM_I64MAP_EMPTY_KEY)
            return NULL;
        if (++i == map->capacity)
            i = 0;
    }
}

/*
 * The slot holding key, or the empty slot where an insert of key would
 * put it, its key not yet written: the caller that fills it writes the
 * key and counts the entry in map->count. For loops that create entries
 * with values of their own; key is not CRM_I64MAP_EMPTY_KEY and the table
 * has room for one more entry.
 */
static inline void *crm_i64map_claim(const crm_i64map *map, int64_t key)
{
    size_t i;

    for (i = crm_i64map_home(map, key);;) {
        int64_t *slot = crm_i64map_slot(map, i);
        if (*slot == key || *slot == CRM_I64MAP_EMPTY_KEY)
            return slot;
        if (++i == map->capacity)
            i = 0;
    }
}

/* crm_i64map_insert when the table may have to grow, or key is the
 * empty key. */
void *crm_i64map_insert_slow(crm_ctx *ctx, crm_i64map *map, int64_t key,
                             int *inserted);

/*
 * The slot holding key, inserted with a zeroed payload when absent
 * (*inserted says which). Returns NULL on allocation failure (map
 * unchanged). Inline, for loops inserting millions of keys: in the usual
 * case the probe claims the empty slot where it ends (a removal or a
 * fresh table leaves empty slots all zero).
 */
static inline void *crm_i64map_insert(crm_ctx *ctx, crm_i64map *map,
                                      int64_t key, int *inserted)
{
    size_t i;

    if (key == CRM_I64MAP_EMPTY_KEY || !map->slots ||
        map->count >= crm_i64map_room(map))
        return crm_i64map_insert_slow(ctx, map, key, inserted);
    *inserted = 0;
    for (i = crm_i64map_home(map, key);;) {
        int64_t *slot = crm_i64map_slot(map, i);
        if (*slot == key)
            return slot;
        if (*slot == CRM_I64MAP_EMPTY_KEY) {
            *slot = key;
            map->count++;
            *inserted = 1;
            return slot;
        }
        if (++i == map->capacity)
            i = 0;
    }
}

/* Returns the key's value, or CRM_I64MAP_NONE. */
uint32_t crm_i64map_get(const crm_i64map *map, int64_t key);

/* The value stored in slot index i of an int64 -> uint32 map, for
 * iteration (crm_i64map_used(map, i) must hold); it may be overwritten. */
uint32_t *crm_i64map_value_at(const crm_i64map *map, size_t i);

/*
 * Finds `key`, inserting it with `value` when absent. *found receives the
 * value now stored (the old one when the key existed). Returns 1 when
 * inserted, 0 when it existed, -1 on allocation failure (map unchanged).
 */
int crm_i64map_upsert(crm_ctx *ctx, crm_i64map *map, int64_t key,
                      uint32_t value, uint32_t *found);

/* Sets key to value, inserting or overwriting. Returns 0 or -1 (ENOMEM). */
int crm_i64map_set(crm_ctx *ctx, crm_i64map *map, int64_t key, uint32_t value);

/* Removes key. Returns 1 when it was present, 0 otherwise. */
int crm_i64map_remove(crm_i64map *map, int64_t key);

/*
 * An estimate of the number of distinct keys in keys[0..n) (HyperLogLog,
 * about 1.6% standard error; from 2^20 keys on, of a sample of 1/8 of the
 * hash space, which adds under 1% above 10^5 distinct keys), from one
 * read of the keys and no allocation: for sizing a table before a large
 * batch.
 */
size_t crm_i64_estimate_distinct(const int64_t *keys, size_t n);

#endif
