/*
 * Stable radix sort of int64 keys carrying a uint32 payload (an index).
 * O(n) LSD passes of 11 bits; a pass in which every key has the same
 * digit is skipped, so small value ranges (days, counts) cost two or three
 * passes.
 * Keys already in ascending order are left as they are, with no scratch.
 * Keys spanning less than 2^32 are sorted as 32-bit offsets from the
 * smallest key, which moves less memory per pass. Over 2^19 such keys
 * with a 64-bit payload and a span of 2^22 or more, one pass on the top
 * digit makes buckets that are each finished in cache.
 */
#ifndef CRM_CORE_RADIX_H
#define CRM_CORE_RADIX_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"

/*
 * Sorts keys[0..n) ascending (signed order), moving vals with them; equal
 * keys keep their input order. `vals` may be NULL. Allocates scratch of
 * at most n * 12 bytes. Returns 0, or -1 on allocation failure (arrays
 * unchanged).
 */
int crm_radix_sort_i64(crm_ctx *ctx, int64_t *keys, uint32_t *vals, size_t n);

/*
 * The same with a uint64_t payload (not NULL): at most n * 16 bytes of
 * scratch.
 * Carrying a record's packed fields spares a random gather after sorting.
 */
int crm_radix_sort_i64_u64(crm_ctx *ctx, int64_t *keys, uint64_t *vals,
                           size_t n);

/*
 * The same for a caller that already knows bounds of the keys (min <=
 * every key <= max, best the smallest and largest): spares the read of
 * the keys that finds them. Keys outside the bounds give an unspecified
 * order.
 */
int crm_radix_sort_i64_u64_within(crm_ctx *ctx, int64_t *keys, uint64_t *vals,
                                  size_t n, int64_t min, int64_t max);

#endif
