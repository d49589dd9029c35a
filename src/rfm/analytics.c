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

        if (analytics_add(&c->revenue, amount))
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
        if (analytics_add(&cohort->revenue[k], amount))
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
    if (analytics_add(total, c->revenue))
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
 * Puts revenue - low in the build's key array (free by now) and returns
 * low: sorting offsets from the lowest revenue (when they fit) spares the
 * radix passes that mixed signs would make non-trivial; order and ties
 * are unchanged.
 */
static int64_t revenue_keys(build *b)
{
    const crm_analytics *a = b->a;
    size_t n = a->n_customers, i;
    int64_t low = INT64_MAX, high = INT64_MIN;

    for (i = 0; i < n; i++) {
        int64_t r = a->customers[i].revenue;
        low = r < low ? r : low;
        high = r > high ? r : high;
    }
    if ((uint64_t)high - (uint64_t)low > (uint64_t)INT64_MAX)
        low = 0;
    for (i = 0; i < n; i++)
        b->keys[i] = a->customers[i].revenue - low;
    return low;
}

/*
 * Gives each customer the decile whose lowest key (floor_key) its key
 * reaches first from the top, among the deciles that have customers.
 * Those floors fall strictly, so the decile is the count of floors above
 * the key: ten comparisons and no branch, which revenues in random order
 * would mispredict.
 */
static void label_deciles(crm_analytics *a,
                          const int64_t floor_key[CRM_ANALYTICS_DECILES],
                          int64_t low)
{
    int64_t floors[CRM_ANALYTICS_DECILES];
    uint8_t number[CRM_ANALYTICS_DECILES];
    unsigned d, used = 0;
    size_t i;

    for (d = 0; d < CRM_ANALYTICS_DECILES; d++)
        if (a->decile_customers[d] != 0) {
            floors[used] = floor_key[d];
            number[used++] = (uint8_t)(d + 1);
        }
    for (d = used; d < CRM_ANALYTICS_DECILES; d++)
        floors[d] = INT64_MIN; /* never above a key */
    for (i = 0; i < a->n_customers; i++) {
        int64_t key = a->customers[i].revenue - low;
        unsigned above = 0;

        for (d = 0; d < CRM_ANALYTICS_DECILES; d++)
            above += key < floors[d];
        a->customers[i].decile = number[above];
    }
}

/*
 * Gives each customer its decile: 1 + floor(10 * h / N) with h the number
 * of customers with strictly higher revenue. The decile only falls as
 * revenue rises, so the sorted revenues give each decile's lowest key,
 * and one sequential pass over the customers compares against those
 * (no scattered writes).
 */
static crm_status assign_deciles(build *b)
{
    crm_analytics *a = b->a;
    int64_t *keys = b->keys;
    int64_t floor_key[CRM_ANALYTICS_DECILES] = {0};
    size_t n = a->n_customers, i, higher = 0;
    int64_t low = revenue_keys(b);

    if (crm_radix_sort_i64(a->ctx, keys, NULL, n) != 0)
        return crm_error_nomem(a->ctx);
    for (i = n; i > 0; i--) {
        size_t pos = i - 1;
        unsigned decile;

        if (pos + 1 < n && keys[pos] != keys[pos + 1])
            higher = n - 1 - pos;
        decile = (unsigned)(1 + (10 * (uint64_t)higher) / n);
        floor_key[decile - 1] = keys[pos];
        a->decile_customers[decile - 1]++;
        if (analytics_add(&a->decile_revenue[decile - 1], keys[pos] + low))
            return crm_error(a->ctx, CRM_EOVERFLOW,
                             "crm_analytics_new: a decile's revenue "
                             "overflows int64");
    }
    label_deciles(a, floor_key, low);
    return CRM_OK;
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
