/*
 * Stable radix sort (see radix.h).
 */
#define _DEFAULT_SOURCE 1 /* madvise, see core/memhint.h */
#include <string.h>

#include "core/mem.h"
#include "core/memhint.h"
#include "core/radix.h"

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6 /* ceil(64 / 11) */
#define NARROW_PASSES 3 /* ceil(32 / 11) */

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

/* Prefix sums of count[0..size) into at[0..size); 1 when one digit holds
 * all n (the pass would not move anything). */
static int bucket_starts(const size_t *count, size_t size, size_t n,
                         size_t *at)
{
    size_t sum = 0, d;
    int trivial = 0;

    for (d = 0; d < size; d++) {
        at[d] = sum;
        sum += count[d];
        trivial |= count[d] == n;
    }
    return trivial;
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
    size_t offset[RADIX_SIZE], i;

    bucket_starts(count, RADIX_SIZE, n, offset);
    for (i = 0; i < n; i++) {
        size_t at = offset[digit(sortable(src_keys[i]), pass)]++;
        dst_keys[at] = src_keys[i];
        move_val(src_vals, i, dst_vals, at, val_size);
    }
}

/* Sorts keys with a payload of val_size bytes each (0, 4 or 8). */
static int radix_sort_wide(crm_ctx *ctx, int64_t *keys, void *vals,
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

/*
 * Keys whose range fits 32 bits are sorted as 32-bit offsets from the
 * smallest key: each pass moves 4 key bytes instead of 8. The first pass
 * reads the caller's keys, the last writes them back.
 */
typedef struct narrow {
    int64_t *keys;
    int64_t min;
    size_t n, val_size;
    uint32_t *offsets[2];
    void *vals[2];
    size_t counts[NARROW_PASSES][RADIX_SIZE];
} narrow;

static uint32_t offset_of(int64_t key, int64_t min)
{
    return (uint32_t)((uint64_t)key - (uint64_t)min);
}

static void count_offset_digits(narrow *s)
{
    size_t i;
    unsigned pass;

    memset(s->counts, 0, sizeof s->counts);
    for (i = 0; i < s->n; i++) {
        uint32_t off = offset_of(s->keys[i], s->min);
        for (pass = 0; pass < NARROW_PASSES; pass++)
            s->counts[pass][digit(off, pass)]++;
    }
}

/* One pass from offsets[side] (or the caller's keys, from_keys) into the
 * other offsets (or the caller's keys, to_keys); payloads move from
 * vals[side] to the other side. */
static void scatter_narrow(narrow *s, int from_keys, int to_keys,
                           unsigned side, unsigned pass)
{
    size_t offset[RADIX_SIZE], i;
    const uint32_t *src = s->offsets[side];
    uint32_t *dst = s->offsets[!side];
    const void *src_vals = s->vals[side];
    void *dst_vals = s->vals[!side];

    bucket_starts(s->counts[pass], RADIX_SIZE, s->n, offset);
    for (i = 0; i < s->n; i++) {
        uint32_t off = from_keys ? offset_of(s->keys[i], s->min) : src[i];
        size_t at = offset[digit(off, pass)]++;

        if (to_keys)
            s->keys[at] = (int64_t)((uint64_t)s->min + off);
        else
            dst[at] = off;
        move_val(src_vals, i, dst_vals, at, s->val_size);
    }
}

static void sort_narrow(narrow *s)
{
    unsigned passes[NARROW_PASSES], m = 0, p, side = 0;
    size_t i;

    count_offset_digits(s);
    for (p = 0; p < NARROW_PASSES; p++)
        if (!pass_is_trivial(s->counts[p], s->n))
            passes[m++] = p;
    for (p = 0; p < m; p++) {
        scatter_narrow(s, p == 0, p + 1 == m && m > 1, side, passes[p]);
        side = !side;
    }
    if (m == 1)
        for (i = 0; i < s->n; i++)
            s->keys[i] = (int64_t)((uint64_t)s->min + s->offsets[1][i]);
    if (side == 1 && s->val_size)
        memcpy(s->vals[0], s->vals[1], s->n * s->val_size);
}

static int radix_sort_narrow(crm_ctx *ctx, int64_t *keys, void *vals,
                             size_t val_size, size_t n, int64_t min)
{
    narrow *s = crm_mem_alloc(ctx, sizeof *s);
    uint32_t *buffer = crm_mem_alloc_array(ctx, n, 2 * sizeof *buffer);
    void *tmp_vals = val_size ? crm_mem_alloc_array(ctx, n, val_size) : NULL;

    if (!s || !buffer || (val_size && !tmp_vals)) {
        crm_mem_free(ctx, s);
        crm_mem_free(ctx, buffer);
        crm_mem_free(ctx, tmp_vals);
        return -1;
    }
    crm_advise_huge_pages(buffer, n * 2 * sizeof *buffer);
    if (tmp_vals)
        crm_advise_huge_pages(tmp_vals, n * val_size);
    s->keys = keys;
    s->min = min;
    s->n = n;
    s->val_size = val_size;
    s->offsets[0] = buffer;
    s->offsets[1] = buffer + n;
    s->vals[0] = vals;
    s->vals[1] = tmp_vals;
    sort_narrow(s);
    crm_mem_free(ctx, s);
    crm_mem_free(ctx, buffer);
    crm_mem_free(ctx, tmp_vals);
    return 0;
}

/*
 * Large sorts with a 64-bit payload whose keys span 2^22 .. 2^32 (the
 * three-pass case): one pass on the offsets' top digit moves each key and
 * payload into one record (one write stream per bucket instead of two),
 * then each bucket is sorted on its two lower digits in cache and written
 * straight to the caller's arrays.
 */
#define MSD_MIN_N ((size_t)1 << 19) /* below, LSD passes are as fast */
#define MSD_MIN_BITS 23
/* The top digit's bits (more when the lower two digits would exceed 11
 * bits each): 512 buckets, each written as one stream and then sorted in
 * L2 through `spare`. */
#define MSD_TOP_BITS 9
#define BUCKET_CAP 32768

/* 12 bytes: the payload is copied in and out with memcpy (4-aligned). */
typedef struct record {
    uint32_t off;
    uint32_t val[2];
} record;

typedef struct msd {
    int64_t *keys;
    uint64_t *vals;
    int64_t min;
    unsigned low_bits, mid_bits; /* the in-bucket digits; the top digit is
                                  * off >> (low_bits + mid_bits) */
    record *records;             /* n, grouped by top digit */
    record *spare;               /* BUCKET_CAP */
    size_t count[RADIX_SIZE];    /* records per top digit */
    size_t at[RADIX_SIZE];       /* where the next record of a digit goes */
    size_t low_count[RADIX_SIZE], mid_count[RADIX_SIZE]; /* in one bucket */
    size_t low_at[RADIX_SIZE], mid_at[RADIX_SIZE];
} msd;

/* A digit of `bits` bits starting at bit `shift`. */
typedef struct digit_field {
    unsigned shift;
    uint32_t mask;
} digit_field;

static digit_field field_of(unsigned shift, unsigned bits)
{
    digit_field f;

    f.shift = shift;
    f.mask = ((uint32_t)1 << bits) - 1;
    return f;
}

static size_t field_digit(uint32_t off, digit_field f)
{
    return (off >> f.shift) & f.mask;
}

/* Moves the caller's layout (keys, vals) into records by digit f;
 * at[d] is where the next record of digit d goes. */
static void split_to_records(const int64_t *keys, const uint64_t *vals,
                             size_t n, int64_t min, digit_field f,
                             size_t *at, record *dst)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint32_t off = offset_of(keys[i], min);
        record *r = &dst[at[field_digit(off, f)]++];

        memcpy(r->val, &vals[i], sizeof vals[i]);
        r->off = off;
    }
}

static void records_to_records(const record *src, size_t n, digit_field f,
                               size_t *at, record *dst)
{
    size_t i;

    for (i = 0; i < n; i++)
        dst[at[field_digit(src[i].off, f)]++] = src[i];
}

static void records_to_split(const record *src, size_t n, digit_field f,
                             size_t *at, int64_t min, int64_t *keys,
                             uint64_t *vals)
{
    size_t i;

    for (i = 0; i < n; i++) {
        size_t to = at[field_digit(src[i].off, f)]++;

        keys[to] = (int64_t)((uint64_t)min + src[i].off);
        memcpy(&vals[to], src[i].val, sizeof vals[to]);
    }
}

static void copy_records_out(const record *src, size_t n, int64_t min,
                             int64_t *keys, uint64_t *vals)
{
    size_t i;

    for (i = 0; i < n; i++) {
        keys[i] = (int64_t)((uint64_t)min + src[i].off);
        memcpy(&vals[i], src[i].val, sizeof vals[i]);
    }
}

/* Sorts the m records of one bucket on the two lower digits, from
 * records[start..] to keys/vals[start..]. */
static void sort_bucket(msd *s, size_t start, size_t m)
{
    digit_field low = field_of(0, s->low_bits);
    digit_field mid = field_of(s->low_bits, s->mid_bits);
    size_t low_size = low.mask + (size_t)1, mid_size = mid.mask + (size_t)1;
    record *r = s->records + start;
    int64_t *keys = s->keys + start;
    uint64_t *vals = s->vals + start;
    int low_trivial, mid_trivial;
    size_t i;

    memset(s->low_count, 0, low_size * sizeof s->low_count[0]);
    memset(s->mid_count, 0, mid_size * sizeof s->mid_count[0]);
    for (i = 0; i < m; i++) {
        if (i % 8 == 0) { /* the passes write these lines at random */
            crm_prefetch(keys + i);
            crm_prefetch(vals + i);
        }
        s->low_count[field_digit(r[i].off, low)]++;
        s->mid_count[field_digit(r[i].off, mid)]++;
    }
    low_trivial = bucket_starts(s->low_count, low_size, m, s->low_at);
    mid_trivial = bucket_starts(s->mid_count, mid_size, m, s->mid_at);
    if (low_trivial && mid_trivial) {
        copy_records_out(r, m, s->min, keys, vals);
    } else if (mid_trivial || low_trivial) {
        records_to_split(r, m, mid_trivial ? low : mid,
                         mid_trivial ? s->low_at : s->mid_at, s->min, keys,
                         vals);
    } else if (m <= BUCKET_CAP) {
        records_to_records(r, m, low, s->low_at, s->spare);
        records_to_split(s->spare, m, mid, s->mid_at, s->min, keys, vals);
    } else { /* too big for the spare: through the caller's arrays */
        records_to_split(r, m, low, s->low_at, s->min, keys, vals);
        split_to_records(keys, vals, m, s->min, mid, s->mid_at, r);
        copy_records_out(r, m, s->min, keys, vals);
    }
}

static void sort_msd(msd *s, size_t n, unsigned bits)
{
    digit_field top = field_of(s->low_bits + s->mid_bits,
                               bits - s->low_bits - s->mid_bits);
    size_t start = 0, i;
    unsigned d;

    memset(s->count, 0, sizeof s->count);
    for (i = 0; i < n; i++)
        s->count[field_digit(offset_of(s->keys[i], s->min), top)]++;
    bucket_starts(s->count, RADIX_SIZE, n, s->at);
    split_to_records(s->keys, s->vals, n, s->min, top, s->at, s->records);
    for (d = 0; d < RADIX_SIZE; d++) {
        sort_bucket(s, start, s->count[d]);
        start += s->count[d];
    }
}

/* Sorts n >= MSD_MIN_N keys spanning `bits` (MSD_MIN_BITS..32) bits. */
static int radix_sort_msd(crm_ctx *ctx, int64_t *keys, uint64_t *vals,
                          size_t n, int64_t min, unsigned bits)
{
    msd *s = crm_mem_alloc(ctx, sizeof *s);
    record *records = crm_mem_alloc_array(ctx, n, sizeof *records);
    record *spare = crm_mem_alloc_array(ctx, BUCKET_CAP, sizeof *spare);
    unsigned top = bits - 2 * RADIX_BITS > MSD_TOP_BITS
                       ? bits - 2 * RADIX_BITS : MSD_TOP_BITS;
    unsigned lower = bits - top;

    if (!s || !records || !spare) {
        crm_mem_free(ctx, s);
        crm_mem_free(ctx, records);
        crm_mem_free(ctx, spare);
        return -1;
    }
    crm_advise_huge_pages(records, n * sizeof *records);
    s->keys = keys;
    s->vals = vals;
    s->min = min;
    s->low_bits = lower / 2;
    s->mid_bits = lower - lower / 2;
    s->records = records;
    s->spare = spare;
    sort_msd(s, n, bits);
    crm_mem_free(ctx, s);
    crm_mem_free(ctx, records);
    crm_mem_free(ctx, spare);
    return 0;
}

/* Bits needed to write `span` (0 for 0). */
static unsigned bit_width(uint64_t span)
{
    unsigned bits = 0;

    for (; span; span >>= 1)
        bits++;
    return bits;
}

/* Sorts keys all within [min, max]. */
static int radix_sort_within(crm_ctx *ctx, int64_t *keys, void *vals,
                             size_t val_size, size_t n, int64_t min,
                             int64_t max)
{
    unsigned bits = bit_width((uint64_t)max - (uint64_t)min);

    if (n < 2)
        return 0;
    if (val_size == sizeof(uint64_t) && n >= MSD_MIN_N &&
        bits >= MSD_MIN_BITS && bits <= 32)
        return radix_sort_msd(ctx, keys, vals, n, min, bits);
    if (bits <= 32)
        return radix_sort_narrow(ctx, keys, vals, val_size, n, min);
    return radix_sort_wide(ctx, keys, vals, val_size, n);
}

/* Keys already in order (records often arrive by id or by time) cost the
 * read that finds the bounds and nothing more. */
static int radix_sort(crm_ctx *ctx, int64_t *keys, void *vals,
                      size_t val_size, size_t n)
{
    int64_t min, max;
    size_t i, descents = 0;

    if (n < 2)
        return 0;
    min = max = keys[0];
    for (i = 1; i < n; i++) {
        descents += keys[i] < keys[i - 1];
        min = keys[i] < min ? keys[i] : min;
        max = keys[i] > max ? keys[i] : max;
    }
    if (descents == 0)
        return 0;
    return radix_sort_within(ctx, keys, vals, val_size, n, min, max);
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

int crm_radix_sort_i64_u64_within(crm_ctx *ctx, int64_t *keys, uint64_t *vals,
                                  size_t n, int64_t min, int64_t max)
{
    return radix_sort_within(ctx, keys, vals, sizeof *vals, n, min, max);
}
