/*
 * An open-addressing hash map from int64_t keys to uint32_t values (usually
 * an index into a module's own arrays). Linear probing, power-of-two
 * capacity, load factor at most 1/2, backward-shift deletion (no tombstones).
 * Values must be below CRM_I64MAP_NONE.
 */
#ifndef CRM_CORE_I64MAP_H
#define CRM_CORE_I64MAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"

#define CRM_I64MAP_NONE UINT32_MAX

typedef struct crm_i64map {
    int64_t *keys;
    uint32_t *vals; /* CRM_I64MAP_NONE marks an empty slot */
    size_t mask;    /* capacity - 1; capacity 0 when keys == NULL */
    size_t count;
} crm_i64map;

/* Leaves the map empty, with no memory. */
void crm_i64map_init(crm_i64map *map);

/* Frees the map's memory and leaves it empty and reusable. */
void crm_i64map_free(crm_ctx *ctx, crm_i64map *map);

/* Removes every entry, keeping the memory. */
void crm_i64map_clear(crm_i64map *map);

/*
 * Makes room for `n` entries in total without further allocation.
 * Returns 0, or -1 on allocation failure (map unchanged).
 */
int crm_i64map_reserve(crm_ctx *ctx, crm_i64map *map, size_t n);

/* The slot a key hashes to; for prefetching before a batch of lookups. */
size_t crm_i64map_home(const crm_i64map *map, int64_t key);

/* Returns the key's value, or CRM_I64MAP_NONE. */
uint32_t crm_i64map_get(const crm_i64map *map, int64_t key);

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

#endif
