/*
 * Stable LSD radix sort (see radix.h).
 */
#define _DEFAULT_SOURCE 1 /* madvise, see core/memhint.h */
#include <string.h>

#include "core/mem.h"
#include "core/memhint.h"
#include "core/radix.h"

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6 /* ceil(64 / 11) */

static uint64_t sortable(int64_t key)
{
    return (uint64_t)key ^ (UINT64_C(1) << 63);
}

static unsigned digit(uint64_t key, unsigned pass)
{
    return (unsigned)(key >> (pass * RADIX_BITS)) & (RADIX_SIZE - 1);
}

/* Counts every pass's digits in one read of the keys. */
static void count_digits(const int64_t *keys, size_t n,
                         size_t counts[RADIX_PASSES][RADIX_SIZE])
{
    size_t i;
    unsigned pass;

    memset(counts, 0, sizeof(size_t) * RADIX_PASSES * RADIX_SIZE);
    for (i = 0; i < n; i++) {
        uint64_t key = sortable(keys[i]);
        for (pass = 0; pass < RADIX_PASSES; pass++)
            counts[pass][digit(key, pass)]++;
    }
}

static int pass_is_trivial(const size_t count[RADIX_SIZE], size_t n)
{
    unsigned d;

    for (d = 0; d < RADIX_SIZE; d++)
        if (count[d] != 0)
            return count[d] == n;
    return 1;
}

/* Copies payload element i of src to element at of dst (val_size 0, 4 or 8). */
static void move_val(const void *src, size_t i, void *dst, size_t at,
                     size_t val_size)
{
    if (val_size == sizeof(uint32_t))
        ((uint32_t *)dst)[at] = ((const uint32_t *)src)[i];
    else if (val_size == sizeof(uint64_t))
        ((uint64_t *)dst)[at] = ((const uint64_t *)src)[i];
}

static void scatter(const int64_t *src_keys, const void *src_vals,
                    int64_t *dst_keys, void *dst_vals, size_t val_size,
                    size_t n, unsigned pass, const size_t count[RADIX_SIZE])
{
    size_t offset[RADIX_SIZE];
    size_t sum = 0, i;
    unsigned d;

    for (d = 0; d < RADIX_SIZE; d++) {
        offset[d] = sum;
        sum += count[d];
    }
    for (i = 0; i < n; i++) {
        size_t at = offset[digit(sortable(src_keys[i]), pass)]++;
        dst_keys[at] = src_keys[i];
        move_val(src_vals, i, dst_vals, at, val_size);
    }
}

/* Sorts keys with a payload of val_size bytes each (0, 4 or 8). */
static int radix_sort(crm_ctx *ctx, int64_t *keys, void *vals,
                      size_t val_size, size_t n)
{
    size_t (*counts)[RADIX_SIZE];
    int64_t *tmp_keys, *src_keys = keys, *dst_keys;
    void *tmp_vals = NULL, *src_vals = vals, *dst_vals;
    unsigned pass;

    if (n < 2)
        return 0;
    counts = crm_mem_alloc_array(ctx, RADIX_PASSES, sizeof *counts);
    tmp_keys = crm_mem_alloc_array(ctx, n, sizeof *tmp_keys);
    if (val_size)
        tmp_vals = crm_mem_alloc_array(ctx, n, val_size);
    if (!counts || !tmp_keys || (val_size && !tmp_vals)) {
        crm_mem_free(ctx, counts);
        crm_mem_free(ctx, tmp_keys);
        crm_mem_free(ctx, tmp_vals);
        return -1;
    }
    /* Each pass writes to 2048 places at once: huge pages keep them in
     * the TLB. */
    crm_advise_huge_pages(tmp_keys, n * sizeof *tmp_keys);
    if (tmp_vals)
        crm_advise_huge_pages(tmp_vals, n * val_size);
    count_digits(keys, n, counts);
    dst_keys = tmp_keys;
    dst_vals = tmp_vals;
    for (pass = 0; pass < RADIX_PASSES; pass++) {
        int64_t *swap_keys = src_keys;
        void *swap_vals = src_vals;

        if (pass_is_trivial(counts[pass], n))
            continue;
        scatter(src_keys, src_vals, dst_keys, dst_vals, val_size, n, pass,
                counts[pass]);
        src_keys = dst_keys;
        src_vals = dst_vals;
        dst_keys = swap_keys;
        dst_vals = swap_vals;
    }
    if (src_keys != keys) {
        memcpy(keys, src_keys, n * sizeof *keys);
        if (val_size)
            memcpy(vals, src_vals, n * val_size);
    }
    crm_mem_free(ctx, counts);
    crm_mem_free(ctx, tmp_keys);
    crm_mem_free(ctx, tmp_vals);
    return 0;
}

int crm_radix_sort_i64(crm_ctx *ctx, int64_t *keys, uint32_t *vals, size_t n)
{
    return radix_sort(ctx, keys, vals, vals ? sizeof *vals : 0, n);
}

int crm_radix_sort_i64_u64(crm_ctx *ctx, int64_t *keys, uint64_t *vals,
                           size_t n)
{
    return radix_sort(ctx, keys, vals, sizeof *vals, n);
}
