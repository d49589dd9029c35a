/*
 * Customer summaries (x, t_x, T, monetary) from orders or from columns.
 */
#include <math.h>
#include <string.h>

#include "clv/clv_internal.h"
#include "core/checked.h"
#include "core/civil.h"
#include "core/mem.h"
#include "core/radix.h"

#define SUMMARY_MAX_ROWS ((size_t)UINT32_MAX - 1)
#define SUMMARY_MAX_TIME (INT64_C(1) << 60)

static double unit_days(crm_clv_unit unit)
{
    return unit == CRM_CLV_WEEKS ? 7.0 : 1.0;
}

static int unit_valid(crm_clv_unit unit)
{
    return unit == CRM_CLV_DAYS || unit == CRM_CLV_WEEKS;
}

crm_status clv_check_row(crm_ctx *ctx, double x, double t_x, double T,
                         size_t index)
{
    if (!(x >= 0.0 && x <= CRM_CLV_MAX_X && x == floor(x)))
        return crm_error(ctx, CRM_EINVAL,
                         "row %zu: x must be a whole number in [0, 1e9]", index);
    if (!(t_x >= 0.0 && T >= 0.0 && isfinite(T)))
        return crm_error(ctx, CRM_EINVAL,
                         "row %zu: t_x and T must be finite and >= 0", index);
    if (t_x > T)
        return crm_error(ctx, CRM_EINVAL, "row %zu: t_x > T", index);
    if ((x > 0.0) != (t_x > 0.0))
        return crm_error(ctx, CRM_EINVAL,
                         "row %zu: t_x must be > 0 exactly when x > 0", index);
    return CRM_OK;
}

static void summary_release(crm_ctx *ctx, crm_clv_summary *s)
{
    crm_mem_free(ctx, s->id);
    crm_mem_free(ctx, s->x);
    crm_mem_free(ctx, s->tx);
    crm_mem_free(ctx, s->T);
    crm_mem_free(ctx, s->m);
    crm_mem_free(ctx, s->sorted_id);
    crm_mem_free(ctx, s->sorted_row);
    crm_mem_free(ctx, s);
}

void crm_clv_summary_free(crm_clv_summary *summary)
{
    if (summary)
        summary_release(summary->ctx, summary);
}

/* A summary with room for n rows (n >= 1 is allocated even when n = 0). */
static crm_clv_summary *summary_alloc(crm_ctx *ctx, size_t n, crm_clv_unit unit)
{
    crm_clv_summary *s = crm_mem_calloc(ctx, 1, sizeof *s);
    size_t cap = n ? n : 1;

    if (!s)
        return NULL;
    s->ctx = ctx;
    s->unit = unit;
    s->id = crm_mem_alloc_array(ctx, cap, sizeof *s->id);
    s->x = crm_mem_alloc_array(ctx, cap, sizeof *s->x);
    s->tx = crm_mem_alloc_array(ctx, cap, sizeof *s->tx);
    s->T = crm_mem_alloc_array(ctx, cap, sizeof *s->T);
    s->m = crm_mem_alloc_array(ctx, cap, sizeof *s->m);
    if (!s->id || !s->x || !s->tx || !s->T || !s->m) {
        summary_release(ctx, s);
        return NULL;
    }
    return s;
}

/* ---- from orders -------------------------------------------------------- */

/* One customer's orders, sorted by local day. */
typedef struct customer_scan {
    size_t occasions;
    int64_t first_day, last_day, repeat_spend;
} customer_scan;

/* Reads the orders idx[lo..hi) (one customer, days ascending). */
static int scan_customer(const uint32_t *idx, const int64_t *days,
                         const int64_t *amount, size_t lo, size_t hi,
                         customer_scan *cs)
{
    size_t i = lo;

    memset(cs, 0, sizeof *cs);
    while (i < hi) {
        int64_t day = days[i], day_spend = 0;
        int purchase = 0;

        for (; i < hi && days[i] == day; i++) {
            if (crm_add_checked(&day_spend, amount[idx[i]]) != 0)
                return -1;
            purchase |= amount[idx[i]] >= 0;
        }
        if (purchase && ++cs->occasions == 1)
            cs->first_day = day;
        if (purchase)
            cs->last_day = day;
        if (cs->occasions > 1 &&
            crm_add_checked(&cs->repeat_spend, day_spend) != 0)
            return -1;
    }
    return 0;
}

/* Sorts the kept orders by (customer, day); idx gets the order rows. */
static crm_status sort_orders(crm_ctx *ctx, const int64_t *customer_id,
                              const int64_t *ordered_at, size_t n,
                              int64_t last_day, int32_t offset_min,
                              int64_t **days_out, uint32_t **idx_out,
                              size_t *kept_out)
{
    int64_t *keys = crm_mem_alloc_array(ctx, n ? n : 1, sizeof *keys);
    int64_t *days = crm_mem_alloc_array(ctx, n ? n : 1, sizeof *days);
    uint32_t *idx = crm_mem_alloc_array(ctx, n ? n : 1, sizeof *idx);
    size_t i, kept = 0;

    if (!keys || !days || !idx)
        goto nomem;
    for (i = 0; i < n; i++) {
        int64_t day = crm_local_day(ordered_at[i], offset_min);

        if (day <= last_day) {
            keys[kept] = day;
            idx[kept++] = (uint32_t)i;
        }
    }
    if (crm_radix_sort_i64(ctx, keys, idx, kept) != 0)
        goto nomem;
    for (i = 0; i < kept; i++)
        keys[i] = customer_id[idx[i]];
    if (crm_radix_sort_i64(ctx, keys, idx, kept) != 0)
        goto nomem;
    for (i = 0; i < kept; i++)
        days[i] = crm_local_day(ordered_at[idx[i]], offset_min);
    crm_mem_free(ctx, keys);
    *days_out = days;
    *idx_out = idx;
    *kept_out = kept;
    return CRM_OK;
nomem:
    crm_mem_free(ctx, keys);
    crm_mem_free(ctx, days);
    crm_mem_free(ctx, idx);
    return crm_error_nomem(ctx);
}

static size_t count_customers(const int64_t *customer_id, const uint32_t *idx,
                              size_t kept)
{
    size_t i, count = kept ? 1 : 0;

    for (i = 1; i < kept; i++)
        count += customer_id[idx[i]] != customer_id[idx[i - 1]];
    return count;
}

/* Fills one row per customer with at least one purchase occasion. */
static crm_status fill_rows(crm_clv_summary *s, const int64_t *customer_id,
                            const int64_t *amount, const int64_t *days,
                            const uint32_t *idx, size_t kept, int64_t last_day)
{
    double unit = unit_days(s->unit);
    size_t lo = 0, rows = 0;

    while (lo < kept) {
        int64_t id = customer_id[idx[lo]];
        size_t hi = lo;
        customer_scan cs;

        while (hi < kept && customer_id[idx[hi]] == id)
            hi++;
        if (scan_customer(idx, days, amount, lo, hi, &cs) != 0)
            return crm_error(s->ctx, CRM_EOVERFLOW,
                             "customer %lld: spend overflows int64",
                             (long long)id);
        if (cs.occasions > 0) {
            double x = (double)(cs.occasions - 1);

            s->id[rows] = id;
            s->x[rows] = x;
            s->tx[rows] = (double)(cs.last_day - cs.first_day) / unit;
            s->T[rows] = (double)(last_day - cs.first_day) / unit;
            s->m[rows] = x > 0 && cs.repeat_spend > 0
                             ? (double)cs.repeat_spend / x
                             : 0.0;
            rows++;
        }
        lo = hi;
    }
    s->n = rows;
    return CRM_OK;
}

static crm_status check_order_args(crm_ctx *ctx, const int64_t *customer_id,
                                   const int64_t *ordered_at,
                                   const int64_t *amount, size_t n,
                                   int64_t as_of, int32_t offset_min,
                                   crm_clv_unit unit)
{
    size_t i;

    if (n > 0 && (!customer_id || !ordered_at || !amount))
        return crm_error(ctx, CRM_EINVAL, "NULL order column");
    if (offset_min < -1440 || offset_min > 1440)
        return crm_error(ctx, CRM_EINVAL, "UTC offset %d out of -1440..1440",
                         (int)offset_min);
    if (!unit_valid(unit))
        return crm_error(ctx, CRM_EINVAL, "unknown unit %d", (int)unit);
    if (n > SUMMARY_MAX_ROWS)
        return crm_error(ctx, CRM_EINVAL, "too many orders (%zu)", n);
    if (as_of > SUMMARY_MAX_TIME || as_of < -SUMMARY_MAX_TIME)
        return crm_error(ctx, CRM_EINVAL, "as_of out of range");
    for (i = 0; i < n; i++)
        if (ordered_at[i] > SUMMARY_MAX_TIME || ordered_at[i] < -SUMMARY_MAX_TIME)
            return crm_error(ctx, CRM_EINVAL, "order %zu: time out of range", i);
    return CRM_OK;
}

crm_status crm_clv_summary_from_orders(crm_ctx *ctx, const int64_t *customer_id,
                                       const int64_t *ordered_at,
                                       const int64_t *amount, size_t n,
                                       int64_t as_of, int32_t offset_min,
                                       crm_clv_unit unit, crm_clv_summary **out)
{
    int64_t last_day, *days = NULL;
    uint32_t *idx = NULL;
    size_t kept = 0;
    crm_clv_summary *s;
    crm_status st;

    if (!ctx || !out)
        return crm_error(ctx, CRM_EINVAL, "NULL ctx or out");
    st = check_order_args(ctx, customer_id, ordered_at, amount, n, as_of,
                          offset_min, unit);
    if (st != CRM_OK)
        return st;
    last_day = crm_local_day(as_of, offset_min);
    st = sort_orders(ctx, customer_id, ordered_at, n, last_day, offset_min,
                     &days, &idx, &kept);
    if (st != CRM_OK)
        return st;
    s = summary_alloc(ctx, count_customers(customer_id, idx, kept), unit);
    if (!s)
        st = crm_error_nomem(ctx);
    else
        st = fill_rows(s, customer_id, amount, days, idx, kept, last_day);
    crm_mem_free(ctx, days);
    crm_mem_free(ctx, idx);
    if (st != CRM_OK) {
        if (s)
            summary_release(ctx, s);
        return st;
    }
    *out = s; /* rows are sorted by id: find searches s->id directly */
    return CRM_OK;
}

/* ---- from columns ------------------------------------------------------- */

static crm_status build_id_index(crm_clv_summary *s)
{
    size_t i, cap = s->n ? s->n : 1;

    s->sorted_id = crm_mem_alloc_array(s->ctx, cap, sizeof *s->sorted_id);
    s->sorted_row = crm_mem_alloc_array(s->ctx, cap, sizeof *s->sorted_row);
    if (!s->sorted_id || !s->sorted_row)
        return crm_error_nomem(s->ctx);
    for (i = 0; i < s->n; i++) {
        s->sorted_id[i] = s->id[i];
        s->sorted_row[i] = (uint32_t)i;
    }
    if (crm_radix_sort_i64(s->ctx, s->sorted_id, s->sorted_row, s->n) != 0)
        return crm_error_nomem(s->ctx);
    return CRM_OK;
}

static crm_status check_columns(crm_ctx *ctx, const double *x, const double *t_x,
                                const double *T, const double *monetary,
                                size_t n)
{
    size_t i;

    if (n > 0 && (!x || !t_x || !T))
        return crm_error(ctx, CRM_EINVAL, "NULL x, t_x or T column");
    if (n > SUMMARY_MAX_ROWS)
        return crm_error(ctx, CRM_EINVAL, "too many rows (%zu)", n);
    for (i = 0; i < n; i++) {
        crm_status st = clv_check_row(ctx, x[i], t_x[i], T[i], i);

        if (st != CRM_OK)
            return st;
        if (monetary && !(monetary[i] >= 0.0 && isfinite(monetary[i])))
            return crm_error(ctx, CRM_EINVAL,
                             "row %zu: monetary must be finite and >= 0", i);
    }
    return CRM_OK;
}

crm_status crm_clv_summary_from_arrays(crm_ctx *ctx, const int64_t *customer_id,
                                       const double *x, const double *t_x,
                                       const double *T, const double *monetary,
                                       size_t n, crm_clv_unit unit,
                                       crm_clv_summary **out)
{
    crm_clv_summary *s;
    crm_status st;
    size_t i;

    if (!ctx || !out)
        return crm_error(ctx, CRM_EINVAL, "NULL ctx or out");
    if (!unit_valid(unit))
        return crm_error(ctx, CRM_EINVAL, "unknown unit %d", (int)unit);
    st = check_columns(ctx, x, t_x, T, monetary, n);
    if (st != CRM_OK)
        return st;
    s = summary_alloc(ctx, n, unit);
    if (!s)
        return crm_error_nomem(ctx);
    s->n = n;
    for (i = 0; i < n; i++) {
        s->id[i] = customer_id ? customer_id[i] : (int64_t)i;
        s->x[i] = x[i];
        s->tx[i] = t_x[i];
        s->T[i] = T[i];
        s->m[i] = monetary ? monetary[i] : 0.0;
    }
    st = build_id_index(s);
    if (st != CRM_OK) {
        summary_release(ctx, s);
        return st;
    }
    *out = s;
    return CRM_OK;
}

/* ---- accessors ---------------------------------------------------------- */

size_t crm_clv_summary_count(const crm_clv_summary *summary)
{
    return summary ? summary->n : 0;
}

crm_clv_unit crm_clv_summary_unit(const crm_clv_summary *summary)
{
    return summary ? summary->unit : (crm_clv_unit)0;
}

static void copy_column(void *dst, const void *src, size_t n, size_t size)
{
    if (dst && n)
        memcpy(dst, src, n * size);
}

crm_status crm_clv_summary_columns(const crm_clv_summary *summary,
                                   int64_t *customer_id, double *x, double *t_x,
                                   double *T, double *monetary)
{
    if (!summary)
        return CRM_EINVAL;
    copy_column(customer_id, summary->id, summary->n, sizeof(int64_t));
    copy_column(x, summary->x, summary->n, sizeof(double));
    copy_column(t_x, summary->tx, summary->n, sizeof(double));
    copy_column(T, summary->T, summary->n, sizeof(double));
    copy_column(monetary, summary->m, summary->n, sizeof(double));
    return CRM_OK;
}

crm_status crm_clv_summary_row(const crm_clv_summary *summary, size_t index,
                               int64_t *customer_id, double *x, double *t_x,
                               double *T, double *monetary)
{
    if (!summary)
        return CRM_EINVAL;
    if (index >= summary->n)
        return CRM_EINVAL;
    if (customer_id)
        *customer_id = summary->id[index];
    if (x)
        *x = summary->x[index];
    if (t_x)
        *t_x = summary->tx[index];
    if (T)
        *T = summary->T[index];
    if (monetary)
        *monetary = summary->m[index];
    return CRM_OK;
}

/* First position in sorted[0..n) whose value is >= key. */
static size_t lower_bound(const int64_t *sorted, size_t n, int64_t key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sorted[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

crm_status crm_clv_summary_find(const crm_clv_summary *summary,
                                int64_t customer_id, size_t *index)
{
    const int64_t *sorted;
    size_t pos;

    if (!summary || !index)
        return CRM_EINVAL;
    sorted = summary->sorted_id ? summary->sorted_id : summary->id;
    pos = lower_bound(sorted, summary->n, customer_id);
    if (pos == summary->n || sorted[pos] != customer_id)
        return CRM_ENOTFOUND;
    *index = summary->sorted_row ? summary->sorted_row[pos] : pos;
    return CRM_OK;
}
