/*
 * int64 -> uint32 hash map (see i64map.h).
 */
#include <string.h>

#include "core/i64map.h"
#include "core/mem.h"

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

void crm_i64map_init(crm_i64map *map)
{
    memset(map, 0, sizeof *map);
}

void crm_i64map_free(crm_ctx *ctx, crm_i64map *map)
{
    crm_mem_free(ctx, map->keys);
    crm_mem_free(ctx, map->vals);
    crm_i64map_init(map);
}

void crm_i64map_clear(crm_i64map *map)
{
    if (map->keys)
        memset(map->vals, 0xff, (map->mask + 1) * sizeof *map->vals);
    map->count = 0;
}

size_t crm_i64map_home(const crm_i64map *map, int64_t key)
{
    return (size_t)mix64((uint64_t)key) & map->mask;
}

static void insert_fresh(crm_i64map *map, int64_t key, uint32_t value)
{
    size_t i = crm_i64map_home(map, key);

    while (map->vals[i] != CRM_I64MAP_NONE)
        i = (i + 1) & map->mask;
    map->keys[i] = key;
    map->vals[i] = value;
    map->count++;
}

static int rehash(crm_ctx *ctx, crm_i64map *map, size_t capacity)
{
    crm_i64map old = *map;
    size_t i;

    map->keys = crm_mem_alloc_array(ctx, capacity, sizeof *map->keys);
    map->vals = crm_mem_alloc_array(ctx, capacity, sizeof *map->vals);
    if (!map->keys || !map->vals) {
        crm_mem_free(ctx, map->keys);
        crm_mem_free(ctx, map->vals);
        *map = old;
        return -1;
    }
    memset(map->vals, 0xff, capacity * sizeof *map->vals);
    map->mask = capacity - 1;
    map->count = 0;
    for (i = 0; old.keys && i <= old.mask; i++)
        if (old.vals[i] != CRM_I64MAP_NONE)
            insert_fresh(map, old.keys[i], old.vals[i]);
    crm_mem_free(ctx, old.keys);
    crm_mem_free(ctx, old.vals);
    return 0;
}

int crm_i64map_reserve(crm_ctx *ctx, crm_i64map *map, size_t n)
{
    size_t capacity = 16;

    if (map->keys && n <= (map->mask + 1) / 2)
        return 0;
    while (capacity / 2 < n) {
        if (capacity > SIZE_MAX / 4)
            return -1;
        capacity *= 2;
    }
    return rehash(ctx, map, capacity);
}

uint32_t crm_i64map_get(const crm_i64map *map, int64_t key)
{
    size_t i;

    if (!map->keys)
        return CRM_I64MAP_NONE;
    for (i = crm_i64map_home(map, key); map->vals[i] != CRM_I64MAP_NONE;
         i = (i + 1) & map->mask)
        if (map->keys[i] == key)
            return map->vals[i];
    return CRM_I64MAP_NONE;
}

int crm_i64map_upsert(crm_ctx *ctx, crm_i64map *map, int64_t key,
                      uint32_t value, uint32_t *found)
{
    uint32_t existing = crm_i64map_get(map, key);

    if (existing != CRM_I64MAP_NONE) {
        *found = existing;
        return 0;
    }
    if (crm_i64map_reserve(ctx, map, map->count + 1) != 0)
        return -1;
    insert_fresh(map, key, value);
    *found = value;
    return 1;
}

int crm_i64map_set(crm_ctx *ctx, crm_i64map *map, int64_t key, uint32_t value)
{
    size_t i;

    if (map->keys) {
        for (i = crm_i64map_home(map, key); map->vals[i] != CRM_I64MAP_NONE;
             i = (i + 1) & map->mask) {
            if (map->keys[i] == key) {
                map->vals[i] = value;
                return 0;
            }
        }
    }
    if (crm_i64map_reserve(ctx, map, map->count + 1) != 0)
        return -1;
    insert_fresh(map, key, value);
    return 0;
}

int crm_i64map_remove(crm_i64map *map, int64_t key)
{
    size_t hole, i, home;

    if (!map->keys)
        return 0;
    for (hole = crm_i64map_home(map, key); map->keys[hole] != key ||
                                           map->vals[hole] == CRM_I64MAP_NONE;
         hole = (hole + 1) & map->mask)
        if (map->vals[hole] == CRM_I64MAP_NONE)
            return 0;
    /* Backward shift: move later members of the cluster into the hole
     * when their home slot does not lie cyclically in (hole, i]. */
    for (i = (hole + 1) & map->mask; map->vals[i] != CRM_I64MAP_NONE;
         i = (i + 1) & map->mask) {
        home = crm_i64map_home(map, map->keys[i]);
        if (((i - home) & map->mask) >= ((i - hole) & map->mask)) {
            map->keys[hole] = map->keys[i];
            map->vals[hole] = map->vals[i];
            hole = i;
        }
    }
    map->vals[hole] = CRM_I64MAP_NONE;
    map->count--;
    return 1;
}
