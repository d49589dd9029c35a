/*
 * Adding orders and aggregates to a crm_rfm (see crm/rfm.h).
 *
 * Rows are processed in blocks: the hash slots of a block's customer ids
 * are prefetched one block ahead, each row's customer is resolved (and
 * prefetched), then the block is applied. A 2M-customer table is far
 * bigger than the caches, so overlapping these misses is what makes ingest
 * fast.
 *
 * A batch is all-or-nothing. New customers are appended at the end, so on
 * failure they are removed again; changes to customers that existed before
 * the batch are undone by subtracting what was added and by restoring the
 * last purchase days from a small undo log.
 */
#include "core/mem.h"
#include "core/prefetch.h"
#include "rfm/rfm_internal.h"

#define RFM_BLOCK 32

/* One row reduced to what it adds to its customer. */
typedef struct rfm_delta {
    int64_t id;
    int64_t total;
    uint32_t count; /* purchases added to rfm_agg.count */
    uint32_t day;   /* day index of a purchase, 0 = not a purchase */
    int pair;       /* days mode: record (customer, day) */
    int skip;       /* outside the window: the row does not count */
} rfm_delta;

/* Columns of a batch and how to read one row. */
typedef struct rfm_source {
    const int64_t *id;
    const int64_t *a;
    const int64_t *b;
    const int64_t *c;
    int aggregates; /* rows are aggregates, not orders */
} rfm_source;

/* State to restore when a batch fails. */
typedef struct rfm_batch {
    size_t old_count;
    size_t old_pairs_len;
} rfm_batch;

static int time_valid(int64_t t)
{
    return t >= RFM_TIME_MIN && t < RFM_TIME_MAX;
}

/* ---- Decoding rows -------------------------------------------------------- */

static crm_status decode_order(const crm_rfm *rfm, const rfm_source *src,
                               size_t i, rfm_delta *d)
{
    int64_t t = src->a[i], amount = src->b[i];
    int purchase = amount >= 0;

    if (!time_valid(t))
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "row %zu: ordered_at %lld is outside years 0001..9999",
                         i, (long long)t);
    d->id = src->id[i];
    d->skip = t < rfm->window_lo || t >= rfm->as_of;
    d->total = amount;
    d->day = purchase ? rfm_day_index(rfm, t) : 0;
    d->pair = purchase && rfm->frequency_mode == CRM_RFM_FREQUENCY_DAYS;
    d->count = (uint32_t)(purchase && !d->pair);
    return CRM_OK;
}

static crm_status decode_aggregate(const crm_rfm *rfm, const rfm_source *src,
                                   size_t i, rfm_delta *d)
{
    int64_t last = src->a[i], count = src->b[i];

    if (count < 0 || count > (int64_t)UINT32_MAX)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "row %zu: purchase_count %lld is outside "
                         "0..4294967295",
                         i, (long long)count);
    if (count > 0 && (!time_valid(last) || last >= rfm->as_of))
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "row %zu: last_purchase_at %lld is not a time in "
                         "years 0001..9999 before as_of",
                         i, (long long)last);
    d->id = src->id[i];
    d->skip = 0;
    d->total = src->c[i];
    d->count = (uint32_t)count;
    d->day = count > 0 ? rfm_day_index(rfm, last) : 0;
    d->pair = 0;
    return CRM_OK;
}

/* Fills *d for row i; returns CRM_OK or records CRM_EINVAL. */
static crm_status decode(const crm_rfm *rfm, const rfm_source *src, size_t i,
                         rfm_delta *d)
{
    return src->aggregates ? decode_aggregate(rfm, src, i, d)
                           : decode_order(rfm, src, i, d);
}

/* ---- Rolling back ----------------------------------------------------------- */

/*
 * Undoes rows [0, applied_end), restores last purchase days, and forgets
 * the customers that rows [0, resolved_end) created. Returns `status`.
 */
static crm_status batch_abort(crm_rfm *rfm, const rfm_source *src,
                              const rfm_batch *b, size_t resolved_end,
                              size_t applied_end, crm_status status)
{
    rfm_delta d;
    size_t i;

    for (i = 0; i < applied_end; i++) {
        uint32_t idx;
        if (decode(rfm, src, i, &d) != CRM_OK || d.skip)
            continue;
        idx = crm_i64map_get(&rfm->map, d.id);
        if (idx < b->old_count) {
            rfm->aggs[idx].total -= d.total;
            rfm->aggs[idx].count -= d.count;
        }
    }
    while (rfm->journal_len > 0) {
        const rfm_undo *u = &rfm->journal[--rfm->journal_len];
        rfm->aggs[u->idx].last_day = u->last_day;
    }
    for (i = 0; i < resolved_end; i++) {
        uint32_t idx;
        if (decode(rfm, src, i, &d) != CRM_OK || d.skip)
            continue;
        idx = crm_i64map_get(&rfm->map, d.id);
        if (idx != CRM_I64MAP_NONE && idx >= b->old_count)
            crm_i64map_remove(&rfm->map, d.id);
    }
    rfm->count = b->old_count;
    rfm->pairs_len = b->old_pairs_len;
    return status;
}

/* ---- Resolving customers ---------------------------------------------------- */

/* Hash room for `len` more customers, so inserting into the map cannot fail. */
static crm_status reserve_block(crm_rfm *rfm, size_t len)
{
    if (crm_i64map_reserve(rfm->ctx, &rfm->map, rfm->count + len) != 0)
        return crm_error_nomem(rfm->ctx);
    return CRM_OK;
}

/* The index of customer `id`, created empty when new. */
static crm_status resolve(crm_rfm *rfm, int64_t id, uint32_t *idx)
{
    uint32_t found = crm_i64map_get(&rfm->map, id);
    rfm_agg *a;

    if (found != CRM_I64MAP_NONE) {
        *idx = found;
        return CRM_OK;
    }
    if (rfm->count >= CRM_RFM_MAX_CUSTOMERS)
        return crm_error(rfm->ctx, CRM_ELIMIT, "more than %u customers",
                         CRM_RFM_MAX_CUSTOMERS);
    if (rfm->count == rfm->cap &&
        crm_mem_grow(rfm->ctx, (void **)&rfm->aggs, &rfm->cap, rfm->count + 1,
                     sizeof *rfm->aggs) != 0)
        return crm_error_nomem(rfm->ctx);
    crm_i64map_upsert(rfm->ctx, &rfm->map, id, (uint32_t)rfm->count, &found);
    a = &rfm->aggs[rfm->count++];
    a->total = 0;
    a->last_day = 0;
    a->count = 0;
    *idx = found;
    return CRM_OK;
}

static void prefetch_homes(const crm_rfm *rfm, const int64_t *id, size_t n)
{
    size_t k;

    if (!rfm->map.keys)
        return;
    for (k = 0; k < n; k++) {
        size_t home = crm_i64map_home(&rfm->map, id[k]);
        crm_prefetch(&rfm->map.keys[home]);
        crm_prefetch(&rfm->map.vals[home]);
    }
}

/* ---- Applying rows ---------------------------------------------------------- */

static int add_overflows(int64_t a, int64_t b)
{
    return b > 0 ? a > INT64_MAX - b : a < INT64_MIN - b;
}

static crm_status push_undo(crm_rfm *rfm, uint32_t idx, uint32_t last_day)
{
    if (rfm->journal_len == rfm->journal_cap &&
        crm_mem_grow(rfm->ctx, (void **)&rfm->journal, &rfm->journal_cap,
                     rfm->journal_len + 1, sizeof *rfm->journal) != 0)
        return crm_error_nomem(rfm->ctx);
    rfm->journal[rfm->journal_len].idx = idx;
    rfm->journal[rfm->journal_len].last_day = last_day;
    rfm->journal_len++;
    return CRM_OK;
}

static crm_status push_pair(crm_rfm *rfm, uint32_t idx, uint32_t day)
{
    if (rfm->pairs_len == rfm->pairs_cap &&
        crm_mem_grow(rfm->ctx, (void **)&rfm->pairs, &rfm->pairs_cap,
                     rfm->pairs_len + 1, sizeof *rfm->pairs) != 0)
        return crm_error_nomem(rfm->ctx);
    rfm->pairs[rfm->pairs_len++] = (uint64_t)idx << 32 | day;
    return CRM_OK;
}

/* Adds row i (delta d) to customer idx, entirely or not at all. */
static crm_status apply(crm_rfm *rfm, const rfm_batch *b, size_t i,
                        uint32_t idx, const rfm_delta *d)
{
    rfm_agg *a = &rfm->aggs[idx];

    if (add_overflows(a->total, d->total))
        return crm_error(rfm->ctx, CRM_EOVERFLOW,
                         "row %zu: customer %lld's net sum leaves int64", i,
                         (long long)d->id);
    if (d->count > UINT32_MAX - a->count)
        return crm_error(rfm->ctx, CRM_EOVERFLOW,
                         "row %zu: customer %lld has more than 4294967295 "
                         "purchases",
                         i, (long long)d->id);
    if (d->day > a->last_day) {
        if (idx < b->old_count && push_undo(rfm, idx, a->last_day) != CRM_OK)
            return CRM_ENOMEM;
    }
    if (d->pair && push_pair(rfm, idx, d->day) != CRM_OK)
        return CRM_ENOMEM;
    if (d->day > a->last_day)
        a->last_day = d->day;
    a->total += d->total;
    a->count += d->count;
    return CRM_OK;
}

/* ---- The batch loop ------------------------------------------------------- */

static crm_status run_batch(crm_rfm *rfm, const rfm_source *src, size_t n)
{
    rfm_batch b;
    rfm_delta d[RFM_BLOCK];
    uint32_t idx[RFM_BLOCK];
    size_t start, k;
    crm_status status;

    b.old_count = rfm->count;
    b.old_pairs_len = rfm->pairs_len;
    rfm->journal_len = 0;
    prefetch_homes(rfm, src->id, n < RFM_BLOCK ? n : RFM_BLOCK);
    for (start = 0; start < n; start += RFM_BLOCK) {
        size_t len = n - start < RFM_BLOCK ? n - start : RFM_BLOCK;
        size_t next = n - start - len < RFM_BLOCK ? n - start - len : RFM_BLOCK;

        status = reserve_block(rfm, len);
        if (status != CRM_OK)
            return batch_abort(rfm, src, &b, start, start, status);
        for (k = 0; k < len; k++) {
            status = decode(rfm, src, start + k, &d[k]);
            if (status == CRM_OK && !d[k].skip)
                status = resolve(rfm, d[k].id, &idx[k]);
            if (status != CRM_OK)
                return batch_abort(rfm, src, &b, start + k, start, status);
            if (!d[k].skip)
                crm_prefetch(&rfm->aggs[idx[k]]);
        }
        prefetch_homes(rfm, src->id + start + len, next);
        for (k = 0; k < len; k++) {
            if (d[k].skip)
                continue;
            status = apply(rfm, &b, start + k, idx[k], &d[k]);
            if (status != CRM_OK)
                return batch_abort(rfm, src, &b, start + len, start + k,
                                   status);
        }
    }
    rfm->journal_len = 0;
    if (n > 0)
        rfm->scored = 0;
    return CRM_OK;
}

crm_status crm_rfm_reserve(crm_rfm *rfm, size_t customers)
{
    rfm_agg *aggs;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (customers > CRM_RFM_MAX_CUSTOMERS)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "crm_rfm_reserve: %zu customers is above the limit",
                         customers);
    if (crm_i64map_reserve(rfm->ctx, &rfm->map, customers) != 0)
        return crm_error_nomem(rfm->ctx);
    if (customers <= rfm->cap)
        return CRM_OK;
    aggs = crm_mem_realloc_array(rfm->ctx, rfm->aggs, customers, sizeof *aggs);
    if (!aggs)
        return crm_error_nomem(rfm->ctx);
    rfm->aggs = aggs;
    rfm->cap = customers;
    return CRM_OK;
}

static crm_status check_batch(crm_rfm *rfm, const int64_t *const *cols,
                              size_t ncols, size_t n, const char *what)
{
    size_t i;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (!rfm->as_of_set)
        return crm_error(rfm->ctx, CRM_ESTATE,
                         "%s: set the as-of time first (crm_rfm_set_as_of)",
                         what);
    if (n > SIZE_MAX / (4 * sizeof(int64_t)))
        return crm_error(rfm->ctx, CRM_EINVAL, "%s: n = %zu is too large",
                         what, n);
    for (i = 0; i < ncols; i++)
        if (n > 0 && !cols[i])
            return crm_error(rfm->ctx, CRM_EINVAL, "%s: column %zu is NULL",
                             what, i + 1);
    return CRM_OK;
}

crm_status crm_rfm_add_orders(crm_rfm *rfm, const int64_t *customer_id,
                              const int64_t *ordered_at, const int64_t *amount,
                              size_t n)
{
    const int64_t *cols[3] = {customer_id, ordered_at, amount};
    rfm_source src = {customer_id, ordered_at, amount, NULL, 0};
    crm_status status = check_batch(rfm, cols, 3, n, "crm_rfm_add_orders");

    if (status != CRM_OK)
        return status;
    return run_batch(rfm, &src, n);
}

crm_status crm_rfm_add_order(crm_rfm *rfm, int64_t customer_id,
                             int64_t ordered_at, int64_t amount)
{
    return crm_rfm_add_orders(rfm, &customer_id, &ordered_at, &amount, 1);
}

crm_status crm_rfm_add_aggregates(crm_rfm *rfm, const int64_t *customer_id,
                                  const int64_t *last_purchase_at,
                                  const int64_t *purchase_count,
                                  const int64_t *total, size_t n)
{
    const int64_t *cols[4] = {customer_id, last_purchase_at, purchase_count,
                              total};
    rfm_source src = {customer_id, last_purchase_at, purchase_count, total,
                      1};
    crm_status status = check_batch(rfm, cols, 4, n, "crm_rfm_add_aggregates");

    /* Aggregates are usually one row per customer: size the tables once. */
    if (status == CRM_OK && n > 1 && rfm->count + n <= CRM_RFM_MAX_CUSTOMERS)
        status = crm_rfm_reserve(rfm, rfm->count + n);
    if (status != CRM_OK)
        return status;
    return run_batch(rfm, &src, n);
}

crm_status crm_rfm_add_aggregate(crm_rfm *rfm, int64_t customer_id,
                                 int64_t last_purchase_at,
                                 int64_t purchase_count, int64_t total)
{
    return crm_rfm_add_aggregates(rfm, &customer_id, &last_purchase_at,
                                  &purchase_count, &total, 1);
}
