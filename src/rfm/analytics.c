/*
 * crm_analytics: building the per-customer aggregates and the cohort matrix
 * from the caller's order columns (see include/crm/rfm.h).
 *
 * One sequential read of the columns validates them and packs each counted
 * order's local day and amount into one word; the ids are radix-sorted
 * carrying that word, so every customer's orders become one run of words
 * read in order (no gather). Walking the runs folds each word into the
 * customer and, once the customer's first purchase month is known, into
 * its cohort's cells. The caller's columns are read once and never kept.
 */
#define _DEFAULT_SOURCE 1 /* madvise, see core/memhint.h */
#include <string.h>

#include "core/civil.h"
#include "core/mem.h"
#include "core/memhint.h"
#include "core/radix.h"
#include "rfm/analytics_internal.h"

#define NO_ROW UINT32_MAX
/*
 * A packed order: bits 42..63 hold local day + PACK_DAY_BIAS, bits 0..41
 * the amount field: amount + PACK_AMOUNT_BIAS below PACK_WIDE, or
 * PACK_WIDE + the index of an amount too wide for that in the build's
 * wide list.
 */
#define PACK_DAY_BIAS 719468
#define PACK_AMOUNT_BITS 42
#define PACK_AMOUNT_MASK ((UINT64_C(1) << PACK_AMOUNT_BITS) - 1)
#define PACK_WIDE (UINT64_C(1) << (PACK_AMOUNT_BITS - 1))
#define PACK_AMOUNT_BIAS (INT64_C(1) << (PACK_AMOUNT_BITS - 2))
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define TIME_MIN INT64_C(-62135596800)
#define TIME_MAX INT64_C(253402300799)

/* Everything the build needs besides the handle; freed when it ends. */
typedef struct build {
    crm_analytics *a;
    const int64_t *ids, *times, *amounts;
    size_t n;
    int64_t as_of;
    int32_t offset_min;
    int64_t *keys;        /* counted orders' ids, sorted */
    uint64_t *packed;     /* their days and amounts, sorted with them */
    size_t n_counted;
    int64_t *wide_amount; /* amounts too wide to pack */
    size_t n_wide, cap_wide;
    int32_t min_day, max_day; /* over counted rows */
    int32_t *month_of_day;    /* month index of min_day .. max_day */
    int32_t min_month;
    uint32_t *row_of_month;   /* cohort (in order of appearance) per month */
    size_t cap_cohorts;
} build;

/* Month index (year * 12 + month - 1) of a day number. */
static int32_t month_index_of_day(int64_t day)
{
    int64_t year;
    unsigned month, mday;

    crm_civil_from_days(day, &year, &month, &mday);
    return (int32_t)(year * 12 + (int64_t)month - 1);
}

static crm_status check_arguments(crm_ctx *ctx, const int64_t *ids,
                                  const int64_t *times, const int64_t *amounts,
                                  size_t n, int64_t as_of, int32_t offset,
                                  crm_analytics **out)
{
    if (!ctx)
        return CRM_EINVAL;
    if (!out)
        return crm_error(ctx, CRM_EINVAL, "crm_analytics_new: out is NULL");
    if (n > 0 && (!ids || !times || !amounts))
        return crm_error(ctx, CRM_EINVAL,
                         "crm_analytics_new: a column is NULL with n = %zu", n);
    if (offset < -1440 || offset > 1440)
        return crm_error(ctx, CRM_EINVAL,
                         "crm_analytics_new: utc_offset_min %d is outside "
                         "-1440..1440", (int)offset);
    if (as_of < TIME_MIN || as_of > TIME_MAX)
        return crm_error(ctx, CRM_EINVAL,
                         "crm_analytics_new: as_of %lld is outside years "
                         "0001..9999", (long long)as_of);
    if (n > UINT32_MAX)
        return crm_error(ctx, CRM_ELIMIT,
                         "crm_analytics_new: more than %lu orders in one call",
                         (unsigned long)UINT32_MAX);
    return CRM_OK;
}

/* Remembers an amount too wide to pack. */
static crm_status add_wide(build *b, int64_t amount)
{
    if (b->n_wide == b->cap_wide &&
        crm_mem_grow(b->a->ctx, (void **)&b->wide_amount, &b->cap_wide,
                     b->n_wide + 1, sizeof *b->wide_amount) != 0)
        return crm_error_nomem(b->a->ctx);
    b->wide_amount[b->n_wide++] = amount;
    return CRM_OK;
}

static crm_status pack(build *b, size_t at, int32_t day, int64_t amount)
{
    uint64_t field = PACK_WIDE + b->n_wide;

    if (amount >= -PACK_AMOUNT_BIAS && amount < PACK_AMOUNT_BIAS)
        field = (uint64_t)(amount + PACK_AMOUNT_BIAS);
    else if (add_wide(b, amount) != CRM_OK)
        return CRM_ENOMEM;
    b->packed[at] = (uint64_t)(day + PACK_DAY_BIAS) << PACK_AMOUNT_BITS | field;
    return CRM_OK;
}

static int32_t packed_day(uint64_t word)
{
    return (int32_t)(word >> PACK_AMOUNT_BITS) - PACK_DAY_BIAS;
}

static int64_t packed_amount(const build *b, uint64_t word)
{
    uint64_t field = word & PACK_AMOUNT_MASK;

    if (field < PACK_WIDE)
        return (int64_t)field - PACK_AMOUNT_BIAS;
    return b->wide_amount[field - PACK_WIDE];
}

static crm_status alloc_rows(build *b)
{
    size_t n = b->n ? b->n : 1;

    b->keys = crm_mem_alloc_array(b->a->ctx, n, sizeof *b->keys);
    b->packed = crm_mem_alloc_array(b->a->ctx, n, sizeof *b->packed);
    if (!b->keys || !b->packed)
        return crm_error_nomem(b->a->ctx);
    crm_advise_huge_pages(b->keys, n * sizeof *b->keys);
    crm_advise_huge_pages(b->packed, n * sizeof *b->packed);
    return CRM_OK;
}

/* Validates every row, packs the counted ones (t < as_of, amount != 0)
 * and sorts them by id. */
static crm_status collect_rows(build *b)
{
    size_t i, k = 0;
    int64_t min_id = INT64_MAX, max_id = INT64_MIN;
    crm_status status;

    if ((status = alloc_rows(b)) != CRM_OK)
        return status;
    b->min_day = INT32_MAX;
    b->max_day = INT32_MIN;
    for (i = 0; i < b->n; i++) {
        int64_t t = b->times[i];
        int32_t day;

        if (t < TIME_MIN || t > TIME_MAX)
            return crm_error(b->a->ctx, CRM_EINVAL,
                             "crm_analytics_new: ordered_at[%zu] = %lld is "
                             "outside years 0001..9999", i, (long long)t);
        if (t >= b->as_of) {
            b->a->ignored_orders++;
            continue;
        }
        if (b->amounts[i] == 0)
            continue;
        day = (int32_t)crm_local_day(t, b->offset_min);
        b->min_day = day < b->min_day ? day : b->min_day;
        b->max_day = day > b->max_day ? day : b->max_day;
        if ((status = pack(b, k, day, b->amounts[i])) != CRM_OK)
            return status;
        b->keys[k] = b->ids[i];
        min_id = b->keys[k] < min_id ? b->keys[k] : min_id;
        max_id = b->keys[k] > max_id ? b->keys[k] : max_id;
        k++;
    }
    b->n_counted = k;
    if (crm_radix_sort_i64_u64_within(b->a->ctx, b->keys, b->packed, k,
                                      min_id, max_id) != 0)
        return crm_error_nomem(b->a->ctx);
    return CRM_OK;
}

/* month_of_day[d - min_day] for every day of the counted orders. */
static crm_status build_month_table(build *b)
{
    size_t span, i;
    int64_t year;
    unsigned month, mday, month_days;
    int32_t index;

    if (b->n_counted == 0)
        return CRM_OK;
    span = (size_t)((int64_t)b->max_day - b->min_day + 1);
    b->month_of_day = crm_mem_alloc_array(b->a->ctx, span, sizeof(int32_t));
    if (!b->month_of_day)
        return crm_error_nomem(b->a->ctx);
    crm_civil_from_days(b->min_day, &year, &month, &mday);
    b->min_month = index = (int32_t)(year * 12 + (int64_t)month - 1);
    month_days = crm_days_in_month(year, month);
    for (i = 0; i < span; i++) {
        b->month_of_day[i] = index;
        if (++mday > month_days) {
            mday = 1;
            index++;
            year = crm_floor_div(index, 12);
            month = (unsigned)crm_floor_mod(index, 12) + 1;
            month_days = crm_days_in_month(year, month);
        }
    }
    span = (size_t)(index - b->min_month + 1);
    b->row_of_month = crm_mem_alloc_array(b->a->ctx, span, sizeof(uint32_t));
    if (!b->row_of_month)
        return crm_error_nomem(b->a->ctx);
    memset(b->row_of_month, 0xff, span * sizeof(uint32_t));
    return CRM_OK;
}

static int32_t month_of(const build *b, int32_t day)
{
    return b->month_of_day[day - b->min_day];
}

/* Counts the distinct ids and sizes the per-customer arrays for them. */
static crm_status alloc_customers(build *b)
{
    crm_analytics *a = b->a;
    size_t i, distinct = b->n_counted ? 1 : 0;

    for (i = 1; i < b->n_counted; i++)
        distinct += b->keys[i] != b->keys[i - 1];
    a->ids = crm_mem_alloc_array(a->ctx, distinct ? distinct : 1, sizeof *a->ids);
    a->customers = crm_mem_alloc_array(a->ctx, distinct ? distinct : 1,
                                       sizeof *a->customers);
    if (!a->ids || !a->customers)
        return crm_error_nomem(a->ctx);
    return CRM_OK;
}

static int32_t min_day(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

static int32_t max_day(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

/*
 * Folds a purchase on `day` into the customer's first/second/last day.
 * Orders come in input order, so the comparisons would mispredict: all
 * are minima and maxima (first < second always, so an earlier day makes
 * the old first day the second).
 */
static void note_purchase(analytics_customer *c, int32_t day)
{
    int32_t first = c->first_day;

    c->second_day = day == first
                        ? c->second_day
                        : min_day(c->second_day, max_day(day, first));
    c->first_day = min_day(first, day);
    c->last_day = max_day(c->last_day, day);
}

/* Folds the run of orders of one id, from start, into *c; *end is where
 * the next id starts. One loop both finds the run's end and folds it. */
static crm_status fold_run(build *b, size_t start, size_t *end,
                           analytics_customer *c)
{
    int64_t id = b->keys[start];
    size_t j;

    c->revenue = 0;
    c->first_day = c->second_day = ANALYTICS_NO_DAY;
    c->last_day = INT32_MIN;
    c->decile = 0;
    for (j = start; j < b->n_counted && b->keys[j] == id; j++) {
        uint64_t word = b->packed[j];
        int64_t amount = packed_amount(b, word);

        if (crm_add_checked(&c->revenue, amount))
            return crm_error(b->a->ctx, CRM_EOVERFLOW,
                             "crm_analytics_new: revenue of customer %lld "
                             "overflows int64", (long long)id);
        if (amount > 0)
            note_purchase(c, packed_day(word));
    }
    *end = j;
    return CRM_OK;
}

/* The cohort of `month`, created (in order of appearance) when new. */
static crm_status cohort_of(build *b, int32_t month, analytics_cohort **out)
{
    crm_analytics *a = b->a;
    uint32_t *row = &b->row_of_month[month - b->min_month];

    if (*row == NO_ROW) {
        if (a->n_cohorts == b->cap_cohorts &&
            crm_mem_grow(a->ctx, (void **)&a->cohorts, &b->cap_cohorts,
                         a->n_cohorts + 1, sizeof *a->cohorts) != 0)
            return crm_error_nomem(a->ctx);
        memset(&a->cohorts[a->n_cohorts], 0, sizeof *a->cohorts);
        a->cohorts[a->n_cohorts].month = month;
        *row = (uint32_t)a->n_cohorts++;
    }
    *out = &a->cohorts[*row];
    return CRM_OK;
}

/* Index of the lowest set bit of a non-zero word. */
static unsigned lowest_bit(uint64_t bits)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(bits);
#else
    unsigned bit = 0;

    while (!(bits >> bit & 1))
        bit++;
    return bit;
#endif
}

/* Adds the run of a customer whose first purchase is known to its cohort. */
static crm_status add_run_to_cohort(build *b, size_t start, size_t end,
                                    const analytics_customer *c)
{
    int32_t cohort_month = month_of(b, c->first_day);
    uint64_t active[(CRM_ANALYTICS_MAX_OFFSETS + 63) / 64] = {0};
    analytics_cohort *cohort = NULL;
    crm_status status;
    size_t j, w;

    if ((status = cohort_of(b, cohort_month, &cohort)) != CRM_OK)
        return status;
    cohort->size++;
    for (j = start; j < end; j++) {
        uint64_t word = b->packed[j];
        int64_t amount = packed_amount(b, word);
        int64_t k = (int64_t)month_of(b, packed_day(word)) - cohort_month;

        if (k < 0 || k >= CRM_ANALYTICS_MAX_OFFSETS)
            continue;
        if (crm_add_checked(&cohort->revenue[k], amount))
            return crm_error(b->a->ctx, CRM_EOVERFLOW,
                             "crm_analytics_new: a cohort's monthly revenue "
                             "overflows int64 (customer %lld)",
                             (long long)b->keys[start]);
        if (amount > 0)
            active[k / 64] |= UINT64_C(1) << (k % 64);
    }
    for (w = 0; w < sizeof active / sizeof active[0]; w++)
        for (; active[w]; active[w] &= active[w] - 1)
            cohort->active[w * 64 + lowest_bit(active[w])]++;
    return CRM_OK;
}

static crm_status add_to_totals(crm_analytics *a, const analytics_customer *c)
{
    int64_t *total = &a->revenue;

    if (c->first_day == ANALYTICS_NO_DAY) {
        a->returns_only++;
        total = &a->returns_only_revenue;
    }
    if (crm_add_checked(total, c->revenue))
        return crm_error(a->ctx, CRM_EOVERFLOW,
                         "crm_analytics_new: total revenue overflows int64");
    return CRM_OK;
}

/* Walks the runs of equal ids: customers, totals and cohort cells. */
static crm_status walk_runs(build *b)
{
    crm_analytics *a = b->a;
    size_t start, end = 0; /* set by fold_run */
    crm_status status;

    for (start = 0; start < b->n_counted; start = end) {
        analytics_customer c;

        if ((status = fold_run(b, start, &end, &c)) != CRM_OK ||
            (status = add_to_totals(a, &c)) != CRM_OK)
            return status;
        if (c.first_day == ANALYTICS_NO_DAY)
            continue;
        if ((status = add_run_to_cohort(b, start, end, &c)) != CRM_OK)
            return status;
        a->repeaters += c.second_day != ANALYTICS_NO_DAY;
        a->ids[a->n_customers] = b->keys[start];
        a->customers[a->n_customers++] = c;
    }
    return CRM_OK;
}

/* Puts the cohorts (created in order of appearance) in month order. */
static crm_status sort_cohorts(build *b)
{
    crm_analytics *a = b->a;
    analytics_cohort *sorted;
    size_t m, next = 0;

    if (a->n_cohorts == 0)
        return CRM_OK;
    sorted = crm_mem_alloc_array(a->ctx, a->n_cohorts, sizeof *sorted);
    if (!sorted)
        return crm_error_nomem(a->ctx);
    for (m = 0; next < a->n_cohorts; m++)
        if (b->row_of_month[m] != NO_ROW)
            sorted[next++] = a->cohorts[b->row_of_month[m]];
    crm_mem_free(a->ctx, a->cohorts);
    a->cohorts = sorted;
    return CRM_OK;
}

/*
 * Deciles. Customer c gets 1 + floor(10 * h / N), h the number of
 * customers with strictly higher revenue. floor(10 * h / N) >= d exactly
 * when h >= t_d = ceil(N * d / 10), that is when the t_d-th highest
 * revenue is above c's. So the revenues at those nine ranks label every
 * customer in one pass; they come from a histogram of the revenues' top
 * bits and a sort of only the buckets that hold them.
 */
#define DECILE_BUCKET_BITS 16
#define DECILE_BUCKETS ((size_t)1 << DECILE_BUCKET_BITS)
#define DECILE_RANKS (CRM_ANALYTICS_DECILES - 1)

/* Revenues as unsigned bits in the same order, bucketed from the lowest. */
typedef struct revenue_buckets {
    uint64_t low;
    unsigned shift;
    uint32_t *count;  /* customers per bucket */
    uint8_t *slot;    /* 1 + the gathered segment of a bucket holding a rank */
} revenue_buckets;

/* The revenue at one of the nine ranks: which bucket, where in it. */
typedef struct decile_rank {
    size_t bucket, index;
} decile_rank;

static uint64_t revenue_bits(int64_t revenue)
{
    return (uint64_t)revenue ^ (UINT64_C(1) << 63);
}

static size_t bucket_of(const revenue_buckets *rb, int64_t revenue)
{
    return (size_t)((revenue_bits(revenue) - rb->low) >> rb->shift);
}

/* Bucket width from the revenues' range, then the count per bucket. */
static void count_revenues(const crm_analytics *a, revenue_buckets *rb)
{
    uint64_t low = UINT64_MAX, high = 0;
    size_t i;

    for (i = 0; i < a->n_customers; i++) {
        uint64_t bits = revenue_bits(a->customers[i].revenue);
        low = bits < low ? bits : low;
        high = bits > high ? bits : high;
    }
    rb->low = low;
    rb->shift = 0;
    while (((high - low) >> rb->shift) >= DECILE_BUCKETS)
        rb->shift++;
    for (i = 0; i < a->n_customers; i++)
        rb->count[bucket_of(rb, a->customers[i].revenue)]++;
}

/* Where the t_d-th highest revenue lies, for d = 1..9 (rank[d - 1]). */
static void find_ranks(const crm_analytics *a, const revenue_buckets *rb,
                       decile_rank rank[DECILE_RANKS])
{
    uint64_t n = a->n_customers, before = 0;
    size_t bucket = 0;
    unsigned d;

    for (d = DECILE_RANKS; d >= 1; d--) { /* lowest ascending index first */
        uint64_t t = (n * d + 9) / 10;
        uint64_t ascending = n - t;

        while (before + rb->count[bucket] <= ascending)
            before += rb->count[bucket++];
        rank[d - 1].bucket = bucket;
        rank[d - 1].index = (size_t)(ascending - before);
    }
}

/*
 * Gathers the revenues of the buckets holding a rank into `scratch`
 * (N entries), one sorted segment per bucket, and reads the nine
 * revenues off them.
 */
static crm_status rank_revenues(build *b, revenue_buckets *rb,
                                const decile_rank rank[DECILE_RANKS],
                                int64_t threshold[DECILE_RANKS])
{
    crm_analytics *a = b->a;
    size_t start[DECILE_RANKS], at[DECILE_RANKS], used = 0, sum = 0, i;
    int64_t *scratch = b->keys;
    unsigned d, k;

    for (d = DECILE_RANKS; d >= 1; d--) {
        size_t bucket = rank[d - 1].bucket;

        if (rb->slot[bucket] == 0) {
            rb->slot[bucket] = (uint8_t)(used + 1);
            start[used] = at[used] = sum;
            sum += rb->count[bucket];
            used++;
        }
    }
    for (i = 0; i < a->n_customers; i++) {
        int64_t revenue = a->customers[i].revenue;
        unsigned s = rb->slot[bucket_of(rb, revenue)];

        if (s != 0)
            scratch[at[s - 1]++] = revenue;
    }
    for (k = 0; k < used; k++)
        if (crm_radix_sort_i64(a->ctx, scratch + start[k], NULL,
                               at[k] - start[k]) != 0)
            return crm_error_nomem(a->ctx);
    for (d = 0; d < DECILE_RANKS; d++)
        threshold[d] = scratch[start[rb->slot[rank[d].bucket] - 1] +
                               rank[d].index];
    return CRM_OK;
}

/* The revenues at the nine ranks t_d (threshold[d - 1]). */
static crm_status decile_thresholds(build *b, int64_t threshold[DECILE_RANKS])
{
    crm_ctx *ctx = b->a->ctx;
    revenue_buckets rb;
    decile_rank rank[DECILE_RANKS];
    crm_status status;

    rb.count = crm_mem_calloc(ctx, DECILE_BUCKETS, sizeof *rb.count);
    rb.slot = crm_mem_calloc(ctx, DECILE_BUCKETS, sizeof *rb.slot);
    if (!rb.count || !rb.slot) {
        status = crm_error_nomem(ctx);
    } else {
        count_revenues(b->a, &rb);
        find_ranks(b->a, &rb, rank);
        status = rank_revenues(b, &rb, rank, threshold);
    }
    crm_mem_free(ctx, rb.count);
    crm_mem_free(ctx, rb.slot);
    return status;
}

/*
 * A signed 128-bit sum in two words: int64 values add up in any order and
 * the total is checked once, at the end.
 */
typedef struct wide_sum {
    uint64_t low;
    int64_t high;
} wide_sum;

static void wide_add(wide_sum *s, int64_t v)
{
    uint64_t low = s->low + (uint64_t)v;

    s->high += (v < 0 ? -1 : 0) + (low < s->low);
    s->low = low;
}

/* 1 when the sum fits int64 (then *out is it). */
static int wide_value(wide_sum s, int64_t *out)
{
    if (s.high == 0 && s.low <= (uint64_t)INT64_MAX)
        *out = (int64_t)s.low;
    else if (s.high == -1 && s.low > (uint64_t)INT64_MAX)
        *out = -(int64_t)(~s.low) - 1;
    else
        return 0;
    return 1;
}

/*
 * Labels every customer: its decile is one more than the number of
 * thresholds above its revenue (nine comparisons, no branch: revenues come
 * in id order). Each decile's revenue is summed as if in falling order,
 * which overflows exactly when its positive revenues exceed INT64_MAX or
 * its total falls below INT64_MIN.
 */
static crm_status label_deciles(crm_analytics *a,
                                const int64_t threshold[DECILE_RANKS])
{
    wide_sum total[CRM_ANALYTICS_DECILES];
    int64_t positive[CRM_ANALYTICS_DECILES] = {0};
    int overflow = 0;
    size_t i;
    unsigned d;

    memset(total, 0, sizeof total);
    for (i = 0; i < a->n_customers; i++) {
        int64_t revenue = a->customers[i].revenue;
        unsigned above = 0;

        for (d = 0; d < DECILE_RANKS; d++)
            above += threshold[d] > revenue;
        a->customers[i].decile = (uint8_t)(above + 1);
        a->decile_customers[above]++;
        wide_add(&total[above], revenue);
        if (revenue > 0)
            overflow |= crm_add_checked(&positive[above], revenue);
    }
    for (d = 0; d < CRM_ANALYTICS_DECILES; d++)
        overflow |= !wide_value(total[d], &a->decile_revenue[d]);
    if (overflow)
        return crm_error(a->ctx, CRM_EOVERFLOW,
                         "crm_analytics_new: a decile's revenue overflows "
                         "int64");
    return CRM_OK;
}

static crm_status assign_deciles(build *b)
{
    int64_t threshold[DECILE_RANKS];
    crm_status status;

    if (b->a->n_customers == 0)
        return CRM_OK;
    if ((status = decile_thresholds(b, threshold)) != CRM_OK)
        return status;
    return label_deciles(b->a, threshold);
}

static crm_status run_build(build *b)
{
    crm_status status;

    if ((status = collect_rows(b)) != CRM_OK ||
        (status = build_month_table(b)) != CRM_OK ||
        (status = alloc_customers(b)) != CRM_OK ||
        (status = walk_runs(b)) != CRM_OK ||
        (status = sort_cohorts(b)) != CRM_OK)
        return status;
    return assign_deciles(b);
}

static void set_defaults(crm_analytics *a, int64_t as_of, int32_t offset)
{
    a->as_of_day = crm_local_day(as_of, offset);
    a->last_month = month_index_of_day(crm_local_day(as_of - 1, offset));
    a->churn_days = 240;
    a->tenure_short_days = 90;
    a->tenure_long_days = 210;
    a->spend_threshold = 70000;
}

crm_status crm_analytics_new(crm_ctx *ctx, const int64_t *customer_id,
                             const int64_t *ordered_at, const int64_t *amount,
                             size_t n, int64_t as_of, int32_t utc_offset_min,
                             crm_analytics **out)
{
    build b;
    crm_status status = check_arguments(ctx, customer_id, ordered_at, amount,
                                        n, as_of, utc_offset_min, out);

    if (status != CRM_OK)
        return status;
    memset(&b, 0, sizeof b);
    b.a = crm_mem_calloc(ctx, 1, sizeof *b.a);
    if (!b.a)
        return crm_error_nomem(ctx);
    b.a->ctx = ctx;
    set_defaults(b.a, as_of, utc_offset_min);
    b.ids = customer_id;
    b.times = ordered_at;
    b.amounts = amount;
    b.n = n;
    b.as_of = as_of;
    b.offset_min = utc_offset_min;
    status = run_build(&b);
    crm_mem_free(ctx, b.keys);
    crm_mem_free(ctx, b.packed);
    crm_mem_free(ctx, b.wide_amount);
    crm_mem_free(ctx, b.month_of_day);
    crm_mem_free(ctx, b.row_of_month);
    if (status != CRM_OK) {
        crm_analytics_free(b.a);
        return status;
    }
    *out = b.a;
    return CRM_OK;
}

void crm_analytics_free(crm_analytics *analytics)
{
    crm_ctx *ctx;

    if (!analytics)
        return;
    ctx = analytics->ctx;
    crm_mem_free(ctx, analytics->ids);
    crm_mem_free(ctx, analytics->customers);
    crm_mem_free(ctx, analytics->cohorts);
    crm_mem_free(ctx, analytics);
}
