/*
 * Adding orders and aggregates to a crm_rfm (see crm/rfm.h).
 *
 * A customer's totals live in its hash slot, so a row costs one cache
 * miss; the slot of the row RFM_AHEAD rows on is prefetched, which keeps
 * that many misses in flight. A large batch of orders first sizes the
 * table from an estimate of its distinct customers, so it is not rehashed
 * step by step. The usual order (add_usual_order) takes a short inline
 * path, usual aggregates into an empty handle a loop of their own
 * (add_fresh_aggregates); every other row goes through decode, resolve
 * and apply.
 *
 * A batch is all-or-nothing. When the handle was empty, a failure just
 * empties it again. Otherwise the batch records the ids it creates (and
 * marks their slots), subtracts what it added to older customers and
 * restores their last purchase days from a small undo log.
 */
#include "core/checked.h"
#include "core/mem.h"
#include "rfm/rfm_internal.h"

/* Prefetch distance in rows. */
#define RFM_AHEAD 16
/* The same in add_fresh_aggregates, which spends less time on a row, so
 * it has to look further ahead to keep a memory latency's worth of rows
 * in flight (adding 2M aggregates: 38.6 ms at 24, 41.8 ms at 16). */
#define RFM_FRESH_AHEAD 24
/* Batches of at least this many orders size the table first. */
#define RFM_PRESIZE_ROWS 4096

/* One row reduced to what it adds to its customer. */
typedef struct rfm_delta {
    int64_t id;
    int64_t total;
    uint32_t count; /* purchases added to the customer's count */
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
    int fresh; /* the handle was empty: undo by emptying it */
    size_t old_pairs_len;
    size_t old_big_len;
} rfm_batch;

static int time_valid(int64_t t)
{
    return t >= RFM_TIME_MIN && t < RFM_TIME_MAX;
}

/* ---- Decoding rows -------------------------------------------------------- */

static inline crm_status decode_order(const crm_rfm *rfm,
                                      const rfm_source *src, size_t i,
                                      rfm_delta *d)
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

static inline crm_status decode_aggregate(const crm_rfm *rfm,
                                          const rfm_source *src, size_t i,
                                          rfm_delta *d)
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
static inline crm_status decode(const crm_rfm *rfm, const rfm_source *src,
                                size_t i, rfm_delta *d)
{
    return src->aggregates ? decode_aggregate(rfm, src, i, d)
                           : decode_order(rfm, src, i, d);
}

/* ---- Rolling back ----------------------------------------------------------- */

/* Takes a row that was added to customer c back out. */
static void unapply(crm_rfm *rfm, rfm_slot *c, const rfm_delta *d)
{
    rfm_big *b;
    uint32_t count;

    if (c->meta & RFM_BIG) {
        b = rfm_big_of(rfm, c);
        b->total -= d->total;
        b->count -= d->count;
        return;
    }
    count = (c->meta >> RFM_COUNT_SHIFT & RFM_SMALL_COUNT_MAX) - d->count;
    c->total = (int32_t)(c->total - d->total);
    c->meta = (c->meta & (RFM_DAY_MASK | RFM_NEW)) | count << RFM_COUNT_SHIFT;
}

/* Subtracts rows [0, applied_end) from the customers older than the batch. */
static void unapply_rows(crm_rfm *rfm, const rfm_source *src,
                         size_t applied_end)
{
    rfm_delta d = {0, 0, 0, 0, 0, 1};
    size_t i;

    for (i = 0; i < applied_end; i++) {
        rfm_slot *c;
        if (decode(rfm, src, i, &d) != CRM_OK || d.skip)
            continue;
        c = crm_i64map_find(&rfm->map, d.id);
        if (c && !(c->meta & RFM_NEW))
            unapply(rfm, c, &d);
    }
}

/*
 * Puts a customer the batch moved into an rfm_big back into its slot: its
 * values, back to what they were before the batch, fit it again (a
 * customer with purchase days already had its rfm_big).
 */
static void shrink(crm_rfm *rfm, rfm_slot *c)
{
    const rfm_big *b = rfm_big_of(rfm, c);

    c->total = (int32_t)b->total;
    c->meta = (c->meta & (RFM_DAY_MASK | RFM_NEW)) |
              b->count << RFM_COUNT_SHIFT;
}

/* Undoes rows [0, applied_end) of a failed batch. Returns `status`. */
static crm_status batch_abort(crm_rfm *rfm, const rfm_source *src,
                              const rfm_batch *b, size_t applied_end,
                              crm_status status)
{
    rfm->pairs_len = b->old_pairs_len;
    if (b->fresh) {
        crm_i64map_clear(&rfm->map);
        rfm->big_len = 0;
        return status;
    }
    unapply_rows(rfm, src, applied_end);
    while (rfm->journal_len > 0) {
        const rfm_undo *u = &rfm->journal[--rfm->journal_len];
        rfm_slot *c = crm_i64map_find(&rfm->map, u->id);
        c->meta = (c->meta & ~RFM_DAY_MASK) | u->last_day;
    }
    while (rfm->grown_len > 0)
        shrink(rfm, crm_i64map_find(&rfm->map, rfm->grown[--rfm->grown_len]));
    rfm->big_len = b->old_big_len;
    while (rfm->created_len > 0)
        crm_i64map_remove(&rfm->map, rfm->created[--rfm->created_len]);
    return status;
}

/* Ends a successful batch: its new customers are ordinary ones now. */
static void batch_commit(crm_rfm *rfm, size_t n)
{
    size_t i;

    for (i = 0; i < rfm->created_len; i++) {
        rfm_slot *c = crm_i64map_find(&rfm->map, rfm->created[i]);
        c->meta &= ~RFM_NEW;
    }
    rfm->created_len = 0;
    rfm->grown_len = 0;
    rfm->journal_len = 0;
    if (n > 0)
        rfm->scored = 0;
}

/* ---- Resolving customers ---------------------------------------------------- */

/* Appends id to a batch's list of ids (created or grown). */
static crm_status push_id(crm_rfm *rfm, int64_t **ids, size_t *len,
                          size_t *cap, int64_t id)
{
    if (*len == *cap &&
        crm_mem_grow(rfm->ctx, (void **)ids, cap, *len + 1, sizeof **ids) != 0)
        return crm_error_nomem(rfm->ctx);
    (*ids)[(*len)++] = id;
    return CRM_OK;
}

static crm_status push_created(crm_rfm *rfm, int64_t id)
{
    return push_id(rfm, &rfm->created, &rfm->created_len, &rfm->created_cap,
                   id);
}

/* Creates customer `id` (absent) with empty totals. */
static crm_status create(crm_rfm *rfm, const rfm_batch *b, int64_t id,
                         rfm_slot **out)
{
    rfm_slot *c;
    int inserted;

    if (rfm->map.count >= CRM_RFM_MAX_CUSTOMERS)
        return crm_error(rfm->ctx, CRM_ELIMIT, "more than %u customers",
                         CRM_RFM_MAX_CUSTOMERS);
    if (!b->fresh && push_created(rfm, id) != CRM_OK)
        return CRM_ENOMEM;
    c = crm_i64map_insert(rfm->ctx, &rfm->map, id, &inserted);
    if (!c) {
        rfm->created_len -= !b->fresh;
        return crm_error_nomem(rfm->ctx);
    }
    if (!b->fresh)
        c->meta |= RFM_NEW;
    *out = c;
    return CRM_OK;
}

/* The slot of customer `id`, created when new. */
static crm_status resolve(crm_rfm *rfm, const rfm_batch *b, int64_t id,
                          rfm_slot **out)
{
    *out = crm_i64map_find(&rfm->map, id);
    return *out ? CRM_OK : create(rfm, b, id, out);
}

/*
 * As resolve, in one probe where resolve takes two for a new customer: for
 * rows that are mostly new customers (aggregates).
 */
static crm_status resolve_new(crm_rfm *rfm, const rfm_batch *b, int64_t id,
                              rfm_slot **out)
{
    rfm_slot *c;
    int inserted;

    if (rfm->map.count >= CRM_RFM_MAX_CUSTOMERS)
        return resolve(rfm, b, id, out);
    c = crm_i64map_insert(rfm->ctx, &rfm->map, id, &inserted);
    if (!c)
        return crm_error_nomem(rfm->ctx);
    if (inserted && !b->fresh) {
        if (push_created(rfm, id) != CRM_OK) {
            crm_i64map_remove(&rfm->map, id);
            return CRM_ENOMEM;
        }
        c->meta |= RFM_NEW;
    }
    *out = c;
    return CRM_OK;
}

/* ---- Applying rows ---------------------------------------------------------- */

static crm_status push_undo(crm_rfm *rfm, int64_t id, uint32_t last_day)
{
    if (rfm->journal_len == rfm->journal_cap &&
        crm_mem_grow(rfm->ctx, (void **)&rfm->journal, &rfm->journal_cap,
                     rfm->journal_len + 1, sizeof *rfm->journal) != 0)
        return crm_error_nomem(rfm->ctx);
    rfm->journal[rfm->journal_len].id = id;
    rfm->journal[rfm->journal_len].last_day = last_day;
    rfm->journal_len++;
    return CRM_OK;
}

static crm_status push_pair(crm_rfm *rfm, int64_t id, uint32_t day)
{
    if (rfm->pairs_len == rfm->pairs_cap) {
        size_t cap = rfm->pairs_cap;
        if (crm_mem_grow(rfm->ctx, (void **)&rfm->pair_ids, &cap,
                         rfm->pairs_len + 1, sizeof *rfm->pair_ids) != 0 ||
            crm_mem_grow(rfm->ctx, (void **)&rfm->pair_days, &rfm->pairs_cap,
                         rfm->pairs_len + 1, sizeof *rfm->pair_days) != 0)
            return crm_error_nomem(rfm->ctx);
    }
    rfm->pair_ids[rfm->pairs_len] = id;
    rfm->pair_days[rfm->pairs_len++] = day;
    return CRM_OK;
}

/*
 * The customer's values after adding delta d, or a recorded
 * CRM_EOVERFLOW naming row i.
 */
static crm_status sums_after(crm_rfm *rfm, size_t i, const rfm_slot *c,
                             const rfm_delta *d, int64_t *total,
                             uint64_t *count)
{
    int64_t old = rfm_total(rfm, c);

    if (crm_add_overflows(old, d->total))
        return crm_error(rfm->ctx, CRM_EOVERFLOW,
                         "row %zu: customer %lld's net sum leaves int64", i,
                         (long long)d->id);
    *count = (uint64_t)rfm_count(rfm, c) + d->count;
    if (*count > UINT32_MAX)
        return crm_error(rfm->ctx, CRM_EOVERFLOW,
                         "row %zu: customer %lld has more than 4294967295 "
                         "purchases",
                         i, (long long)d->id);
    *total = old + d->total;
    return CRM_OK;
}

/* 1 when a net sum and count fit a small slot. */
static int fits_slot(int64_t total, uint64_t count)
{
    return total >= INT32_MIN && total <= INT32_MAX &&
           count <= RFM_SMALL_COUNT_MAX;
}

/* Writes a customer's values, moving them to an rfm_big (room reserved)
 * when they no longer fit the slot. */
static void store(crm_rfm *rfm, rfm_slot *c, int64_t total, uint64_t count,
                  uint32_t last_day)
{
    rfm_big *b;

    if (!(c->meta & RFM_BIG) && fits_slot(total, count)) {
        c->total = (int32_t)total;
        c->meta = (c->meta & RFM_NEW) | (uint32_t)count << RFM_COUNT_SHIFT |
                  last_day;
        return;
    }
    if (!(c->meta & RFM_BIG))
        crm_rfm__make_big(rfm, c);
    b = rfm_big_of(rfm, c);
    b->total = total;
    b->count = (uint32_t)count;
    c->meta = (c->meta & ~RFM_DAY_MASK) | last_day;
}

/*
 * Adds a net amount, purchases and a purchase day (0 = none) to customer
 * c in the usual case: c's values fit its slot before and after, and no
 * undo entry is due (the batch is `fresh`, c is new in it, or the day is
 * not later than c's last). Returns 0, changing nothing, otherwise. The
 * net sum is checked with a bias: c->total + amount fits int32 exactly
 * when the biased sum is at most UINT32_MAX (which also rules out an
 * int64 overflow).
 */
static inline int add_in_slot(rfm_slot *c, int64_t amount, uint32_t purchases,
                              uint32_t day, int fresh)
{
    uint32_t meta = c->meta, last = meta & RFM_DAY_MASK;
    uint64_t biased = (uint64_t)(int64_t)c->total + (uint64_t)amount +
                      (UINT64_C(1) << 31);
    uint64_t count =
        (meta >> RFM_COUNT_SHIFT & RFM_SMALL_COUNT_MAX) + (uint64_t)purchases;

    if ((meta & RFM_BIG) || biased > UINT32_MAX ||
        count > RFM_SMALL_COUNT_MAX ||
        (!fresh && day > last && !(meta & RFM_NEW)))
        return 0;
    c->total = (int32_t)((int64_t)biased - (INT64_C(1) << 31));
    /* Without a branch: whether a row is its customer's latest so far is
     * about as likely as not when rows come in no order. */
    c->meta = (meta & RFM_NEW) | (uint32_t)count << RFM_COUNT_SHIFT |
              (day > last ? day : last);
    return 1;
}

/*
 * Adds row i (delta d) to customer c, entirely or not at all, in any case
 * (see add_in_slot for the usual one).
 */
static crm_status apply(crm_rfm *rfm, const rfm_batch *b, size_t i,
                        rfm_slot *c, const rfm_delta *d)
{
    uint32_t last = rfm_last_day(c);
    int64_t total = 0;
    uint64_t count = 0;
    crm_status status = sums_after(rfm, i, c, d, &total, &count);

    if (status != CRM_OK)
        return status;
    if (!(c->meta & RFM_BIG) && !fits_slot(total, count) &&
        (crm_rfm__reserve_big(rfm, 1) != CRM_OK ||
         (!b->fresh && !(c->meta & RFM_NEW) &&
          push_id(rfm, &rfm->grown, &rfm->grown_len, &rfm->grown_cap,
                  d->id) != CRM_OK)))
        return CRM_ENOMEM;
    if (!b->fresh && d->day > last && !(c->meta & RFM_NEW) &&
        push_undo(rfm, d->id, last) != CRM_OK)
        return CRM_ENOMEM;
    if (d->pair && push_pair(rfm, d->id, d->day) != CRM_OK)
        return CRM_ENOMEM;
    store(rfm, c, total, count, d->day > last ? d->day : last);
    return CRM_OK;
}

/* ---- The batch loop ------------------------------------------------------- */

/* Sizes the table for a large batch of orders from its distinct ids. */
static crm_status presize(crm_rfm *rfm, const rfm_source *src, size_t n)
{
    size_t estimate, customers, room = crm_i64map_room(&rfm->map);

    if (src->aggregates || n < RFM_PRESIZE_ROWS)
        return CRM_OK;
    estimate = crm_i64_estimate_distinct(src->id, n);
    customers = rfm->map.count + estimate;
    /* 1/16 is four standard errors of the estimate: within that of the
     * room there is (as after crm_rfm_reserve), trust the room. */
    if (customers <= room + room / 16)
        return CRM_OK;
    customers += estimate / 16;
    if (customers > CRM_RFM_MAX_CUSTOMERS)
        customers = CRM_RFM_MAX_CUSTOMERS;
    if (crm_i64map_reserve(rfm->ctx, &rfm->map, customers) != 0)
        return crm_error_nomem(rfm->ctx);
    return CRM_OK;
}

/* Adds row i of a batch, whatever it holds. */
static crm_status add_row(crm_rfm *rfm, const rfm_batch *b,
                          const rfm_source *src, size_t i)
{
    rfm_delta d = {0, 0, 0, 0, 0, 1};
    rfm_slot *c;
    crm_status status = decode(rfm, src, i, &d);

    if (status != CRM_OK || d.skip)
        return status;
    status = src->aggregates ? resolve_new(rfm, b, d.id, &c)
                             : resolve(rfm, b, d.id, &c);
    if (status == CRM_OK &&
        (d.pair || !add_in_slot(c, d.total, d.count, d.day, b->fresh)))
        status = apply(rfm, b, i, c, &d);
    return status;
}

/*
 * Adds an order when it is the usual one: a time inside [lo, hi) (see
 * usual_window), a customer already present, values that stay in its
 * slot. Returns 0, changing nothing, otherwise. Inline: this is the loop
 * that 10M orders go through.
 */
static inline int add_usual_order(crm_rfm *rfm, const rfm_batch *b,
                                  int64_t id, int64_t t, int64_t amount,
                                  int64_t lo, int64_t hi)
{
    rfm_slot *c;
    uint32_t purchase = amount >= 0;

    if (t < lo || t >= hi)
        return 0;
    c = crm_i64map_find(&rfm->map, id);
    return c && add_in_slot(c, amount, purchase,
                            purchase ? rfm_day_index(rfm, t) : 0, b->fresh);
}

/*
 * Adds aggregates into an empty handle from row i on, as long as they are
 * the usual ones and the table has room, in a loop of its own. A usual
 * aggregate has up to RFM_SMALL_COUNT_MAX purchases, the last one (if
 * any) before as_of, and a net sum that fits a slot. A new customer's
 * slot is all zero, so its values are written, not added; a customer met
 * again is added to in its slot while its values fit. The loop works on
 * local copies of the table header and of the options, which the slot
 * stores cannot alias, and does little besides the one cache miss of the
 * slot. Returns the index of the first row it leaves to the general path
 * (n when none). This is the loop that 2M aggregates go through.
 */
static size_t add_fresh_aggregates(crm_rfm *rfm, const rfm_source *src,
                                   size_t i, size_t n)
{
    crm_i64map map = rfm->map;
    size_t room = crm_i64map_room(&map);
    int64_t offset_sec = rfm->offset_sec;
    int64_t last_end = rfm->as_of < RFM_TIME_MAX ? rfm->as_of : RFM_TIME_MAX;

    if (room > CRM_RFM_MAX_CUSTOMERS)
        room = CRM_RFM_MAX_CUSTOMERS;
    for (; i < n; i++) {
        int64_t id = src->id[i], last = src->a[i], count = src->b[i],
                total = src->c[i];
        rfm_slot *c;
        uint32_t day = 0;

        if (i + RFM_FRESH_AHEAD < n)
            crm_i64map_prefetch(&map, src->id[i + RFM_FRESH_AHEAD]);
        if ((uint64_t)count > RFM_SMALL_COUNT_MAX ||
            (count > 0 && (last < RFM_TIME_MIN || last >= last_end)) ||
            (uint64_t)total + (UINT64_C(1) << 31) > UINT32_MAX ||
            id == CRM_I64MAP_EMPTY_KEY || map.count >= room)
            break;
        if (count > 0)
            day = rfm_day_at(offset_sec, last);
        c = crm_i64map_claim(&map, id);
        if (c->id == id) {
            if (!add_in_slot(c, total, (uint32_t)count, day, 1))
                break;
            continue;
        }
        c->id = id;
        c->total = (int32_t)total;
        c->meta = (uint32_t)count << RFM_COUNT_SHIFT | day;
        map.count++;
    }
    rfm->map.count = map.count;
    return i;
}

/*
 * The times [lo, hi) of orders that can take add_usual_order: counted,
 * and valid. Empty in days mode, whose orders all take the general path.
 */
static void usual_window(const crm_rfm *rfm, int64_t *lo, int64_t *hi)
{
    *lo = rfm->window_lo > RFM_TIME_MIN ? rfm->window_lo : RFM_TIME_MIN;
    *hi = rfm->as_of < RFM_TIME_MAX ? rfm->as_of : RFM_TIME_MAX;
    if (rfm->frequency_mode != CRM_RFM_FREQUENCY_ORDERS)
        *hi = *lo;
}

/*
 * The rows of a batch of orders, in order. Returns CRM_OK, or the status
 * of the row that failed, whose index goes to *failed.
 */
static crm_status add_order_rows(crm_rfm *rfm, const rfm_batch *b,
                                 const rfm_source *src, size_t n,
                                 size_t *failed)
{
    size_t i;
    int64_t lo, hi;

    usual_window(rfm, &lo, &hi);
    for (i = 0; i < n; i++) {
        crm_status status;
        if (i + RFM_AHEAD < n)
            crm_i64map_prefetch(&rfm->map, src->id[i + RFM_AHEAD]);
        if (add_usual_order(rfm, b, src->id[i], src->a[i], src->b[i], lo, hi))
            continue;
        status = add_row(rfm, b, src, i);
        if (status != CRM_OK) {
            *failed = i;
            return status;
        }
    }
    return CRM_OK;
}

/* As add_order_rows, for a batch of aggregates. */
static crm_status add_aggregate_rows(crm_rfm *rfm, const rfm_batch *b,
                                     const rfm_source *src, size_t n,
                                     size_t *failed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        crm_status status;
        if (b->fresh) {
            i = add_fresh_aggregates(rfm, src, i, n);
            if (i == n)
                break;
        } else if (i + RFM_AHEAD < n) {
            crm_i64map_prefetch(&rfm->map, src->id[i + RFM_AHEAD]);
        }
        status = add_row(rfm, b, src, i);
        if (status != CRM_OK) {
            *failed = i;
            return status;
        }
    }
    return CRM_OK;
}

static crm_status run_batch(crm_rfm *rfm, const rfm_source *src, size_t n)
{
    rfm_batch b;
    size_t i, failed = 0;
    crm_status status = presize(rfm, src, n);

    if (status != CRM_OK)
        return status;
    b.fresh = rfm->map.count == 0;
    b.old_pairs_len = rfm->pairs_len;
    b.old_big_len = rfm->big_len;
    rfm->journal_len = 0;
    rfm->created_len = 0;
    rfm->grown_len = 0;
    for (i = 0; i < n && i < RFM_AHEAD; i++)
        crm_i64map_prefetch(&rfm->map, src->id[i]);
    status = src->aggregates ? add_aggregate_rows(rfm, &b, src, n, &failed)
                             : add_order_rows(rfm, &b, src, n, &failed);
    if (status != CRM_OK)
        return batch_abort(rfm, src, &b, failed, status);
    batch_commit(rfm, n);
    return CRM_OK;
}

crm_status crm_rfm_reserve(crm_rfm *rfm, size_t customers)
{
    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (customers > CRM_RFM_MAX_CUSTOMERS)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "crm_rfm_reserve: %zu customers is above the limit",
                         customers);
    if (crm_i64map_reserve(rfm->ctx, &rfm->map, customers) != 0)
        return crm_error_nomem(rfm->ctx);
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
    if (status == CRM_OK && n > 1 &&
        rfm->map.count + n <= CRM_RFM_MAX_CUSTOMERS)
        status = crm_rfm_reserve(rfm, rfm->map.count + n);
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
