/*
 * crm_analytics reports: totals, deciles, F2, repeat rate, cohorts and CPM,
 * answered from the aggregates built by crm_analytics_new().
 */
#include <string.h>

#include "core/ctx.h"
#include "rfm/analytics_internal.h"

/* Longest F2 window: about 10,000 years of days. */
#define F2_MAX_DAYS UINT32_C(3660000)
/* F2 curve points computed per pass over the customers. */
#define F2_CHUNK 64

static double ratio(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

crm_status crm_analytics_totals(const crm_analytics *analytics,
                                uint64_t *customers, int64_t *revenue,
                                uint64_t *returns_only_customers,
                                int64_t *returns_only_revenue,
                                uint64_t *ignored_orders)
{
    if (!analytics)
        return CRM_EINVAL;
    if (customers)
        *customers = analytics->n_customers;
    if (revenue)
        *revenue = analytics->revenue;
    if (returns_only_customers)
        *returns_only_customers = analytics->returns_only;
    if (returns_only_revenue)
        *returns_only_revenue = analytics->returns_only_revenue;
    if (ignored_orders)
        *ignored_orders = analytics->ignored_orders;
    return CRM_OK;
}

crm_status crm_analytics_deciles(const crm_analytics *analytics,
                                 uint64_t *customers, int64_t *revenue,
                                 double *share)
{
    size_t d;

    if (!analytics)
        return CRM_EINVAL;
    for (d = 0; d < CRM_ANALYTICS_DECILES; d++) {
        if (customers)
            customers[d] = analytics->decile_customers[d];
        if (revenue)
            revenue[d] = analytics->decile_revenue[d];
        if (share)
            share[d] = analytics->revenue > 0
                           ? (double)analytics->decile_revenue[d] /
                                 (double)analytics->revenue
                           : 0.0;
    }
    return CRM_OK;
}

crm_status crm_analytics_repeat_rate(const crm_analytics *analytics,
                                     uint64_t *customers, uint64_t *repeaters,
                                     double *rate)
{
    if (!analytics)
        return CRM_EINVAL;
    if (customers)
        *customers = analytics->n_customers;
    if (repeaters)
        *repeaters = analytics->repeaters;
    if (rate)
        *rate = ratio(analytics->repeaters, analytics->n_customers);
    return CRM_OK;
}

/* ---- F2 ---------------------------------------------------------------- */

/*
 * Per customer, over the curve's points i = 0 .. n_points - 1 (window
 * step * (i + 1) days): eligible for i < eligible_points, converted for
 * first_converted <= i < eligible_points.
 */
typedef struct f2_span {
    uint64_t eligible_points;
    uint64_t first_converted;
} f2_span;

static f2_span f2_span_of(const analytics_customer *c, int64_t as_of_day,
                          uint32_t step)
{
    int64_t observed = as_of_day - c->first_day; /* eligible iff window < observed */
    f2_span span;

    span.eligible_points = observed > 1 ? (uint64_t)(observed - 1) / step : 0;
    if (c->second_day == ANALYTICS_NO_DAY) {
        span.first_converted = UINT64_MAX;
    } else {
        uint64_t gap = (uint64_t)((int64_t)c->second_day - c->first_day);
        span.first_converted = (gap + step - 1) / step - 1;
    }
    return span;
}

/* Adds +1 on [lo, hi) of the chunk [base, base + width) to a difference array. */
static void add_range(uint64_t *diff, uint64_t base, size_t width, uint64_t lo,
                      uint64_t hi)
{
    if (lo < base)
        lo = base;
    if (hi > base + width)
        hi = base + width;
    if (lo >= hi)
        return;
    diff[lo - base]++;
    diff[hi - base]--;
}

static void f2_chunk(const crm_analytics *a, uint32_t step, size_t base,
                     size_t width, uint64_t *eligible, uint64_t *converted,
                     uint64_t *censored)
{
    uint64_t diff_e[F2_CHUNK + 1], diff_c[F2_CHUNK + 1], run_e = 0, run_c = 0;
    size_t i;

    memset(diff_e, 0, sizeof diff_e);
    memset(diff_c, 0, sizeof diff_c);
    for (i = 0; i < a->n_customers; i++) {
        f2_span span = f2_span_of(&a->customers[i], a->as_of_day, step);

        add_range(diff_e, base, width, 0, span.eligible_points);
        add_range(diff_c, base, width, span.first_converted,
                  span.eligible_points);
    }
    for (i = 0; i < width; i++) {
        run_e += diff_e[i];
        run_c += diff_c[i];
        if (eligible)
            eligible[base + i] = run_e;
        if (converted)
            converted[base + i] = run_c;
        if (censored)
            censored[base + i] = a->n_customers - run_e;
    }
}

crm_status crm_analytics_f2_curve(const crm_analytics *analytics,
                                  uint32_t step_days, size_t n_points,
                                  uint64_t *eligible, uint64_t *converted,
                                  uint64_t *censored)
{
    size_t base;

    if (!analytics)
        return CRM_EINVAL;
    if (step_days == 0 || n_points == 0 ||
        n_points > F2_MAX_DAYS / step_days)
        return crm_error(analytics->ctx, CRM_EINVAL,
                         "crm_analytics_f2_curve: step_days %u and n_points "
                         "%zu must be >= 1 with a product <= %u",
                         (unsigned)step_days, n_points, (unsigned)F2_MAX_DAYS);
    for (base = 0; base < n_points; base += F2_CHUNK)
        f2_chunk(analytics, step_days, base,
                 n_points - base < F2_CHUNK ? n_points - base : F2_CHUNK,
                 eligible, converted, censored);
    return CRM_OK;
}

crm_status crm_analytics_f2(const crm_analytics *analytics, uint32_t days,
                            uint64_t *eligible, uint64_t *converted,
                            uint64_t *censored, double *rate)
{
    uint64_t e, c, z;

    if (!analytics)
        return CRM_EINVAL;
    if (days == 0 || days > F2_MAX_DAYS)
        return crm_error(analytics->ctx, CRM_EINVAL,
                         "crm_analytics_f2: days %u is outside 1..%u",
                         (unsigned)days, (unsigned)F2_MAX_DAYS);
    f2_chunk(analytics, days, 0, 1, &e, &c, &z);
    if (eligible)
        *eligible = e;
    if (converted)
        *converted = c;
    if (censored)
        *censored = z;
    if (rate)
        *rate = ratio(c, e);
    return CRM_OK;
}

/* ---- Cohorts ----------------------------------------------------------- */

crm_status crm_analytics_cohort_count(const crm_analytics *analytics,
                                      size_t *n_cohorts)
{
    if (!analytics)
        return CRM_EINVAL;
    if (!n_cohorts)
        return crm_error(analytics->ctx, CRM_EINVAL,
                         "crm_analytics_cohort_count: n_cohorts is NULL");
    *n_cohorts = analytics->n_cohorts;
    return CRM_OK;
}

static int32_t yyyymm(int32_t month_index)
{
    int32_t year = month_index >= 0 ? month_index / 12
                                    : -((11 - month_index) / 12);

    return year * 100 + (month_index - year * 12) + 1;
}

static uint32_t observed_months(const crm_analytics *a, size_t cohort)
{
    return (uint32_t)(a->last_month - a->cohorts[cohort].month + 1);
}

static void copy_cohort_row(const crm_analytics *a, size_t c, size_t n_offsets,
                            uint64_t *active, int64_t *revenue)
{
    const size_t to = c * n_offsets;

    if (active)
        memcpy(active + to, a->cohorts[c].active, n_offsets * sizeof *active);
    if (revenue)
        memcpy(revenue + to, a->cohorts[c].revenue,
               n_offsets * sizeof *revenue);
}

crm_status crm_analytics_cohorts(const crm_analytics *analytics,
                                 size_t n_cohorts, size_t n_offsets,
                                 int32_t *month, uint64_t *new_customers,
                                 uint32_t *observed, uint64_t *active,
                                 int64_t *revenue)
{
    size_t c;

    if (!analytics)
        return CRM_EINVAL;
    if (n_cohorts > analytics->n_cohorts ||
        n_offsets > CRM_ANALYTICS_MAX_OFFSETS)
        return crm_error(analytics->ctx, CRM_EINVAL,
                         "crm_analytics_cohorts: n_cohorts %zu must be <= "
                         "%zu and n_offsets %zu <= %d",
                         n_cohorts, analytics->n_cohorts, n_offsets,
                         CRM_ANALYTICS_MAX_OFFSETS);
    for (c = 0; c < n_cohorts; c++) {
        if (month)
            month[c] = yyyymm(analytics->cohorts[c].month);
        if (new_customers)
            new_customers[c] = analytics->cohorts[c].size;
        if (observed)
            observed[c] = observed_months(analytics, c);
        copy_cohort_row(analytics, c, n_offsets, active, revenue);
    }
    return CRM_OK;
}

crm_status crm_analytics_cohort_ltv(const crm_analytics *analytics,
                                    uint32_t months, size_t n_cohorts,
                                    double *ltv, uint8_t *complete)
{
    size_t c, k;

    if (!analytics)
        return CRM_EINVAL;
    if (months == 0 || months > CRM_ANALYTICS_MAX_OFFSETS ||
        n_cohorts > analytics->n_cohorts)
        return crm_error(analytics->ctx, CRM_EINVAL,
                         "crm_analytics_cohort_ltv: months %u must be 1..%d "
                         "and n_cohorts %zu <= %zu",
                         (unsigned)months, CRM_ANALYTICS_MAX_OFFSETS,
                         n_cohorts, analytics->n_cohorts);
    for (c = 0; c < n_cohorts; c++) {
        const int64_t *row = analytics->cohorts[c].revenue;
        double sum = 0;

        for (k = 0; k < months; k++)
            sum += (double)row[k];
        if (ltv)
            ltv[c] = sum / (double)analytics->cohorts[c].size;
        if (complete)
            complete[c] = observed_months(analytics, c) >= months;
    }
    return CRM_OK;
}

/* ---- CPM --------------------------------------------------------------- */

crm_status crm_analytics_set_cpm_thresholds(crm_analytics *analytics,
                                            uint32_t churn_days,
                                            uint32_t tenure_short_days,
                                            uint32_t tenure_long_days,
                                            int64_t spend_threshold)
{
    if (!analytics)
        return CRM_EINVAL;
    if (churn_days == 0 || tenure_short_days == 0 ||
        tenure_long_days < tenure_short_days || spend_threshold < 1)
        return crm_error(analytics->ctx, CRM_EINVAL,
                         "crm_analytics_set_cpm_thresholds: need churn_days "
                         ">= 1, 1 <= tenure_short_days <= tenure_long_days "
                         "and spend_threshold >= 1 (got %u, %u, %u, %lld)",
                         (unsigned)churn_days, (unsigned)tenure_short_days,
                         (unsigned)tenure_long_days,
                         (long long)spend_threshold);
    analytics->churn_days = churn_days;
    analytics->tenure_short_days = tenure_short_days;
    analytics->tenure_long_days = tenure_long_days;
    analytics->spend_threshold = spend_threshold;
    return CRM_OK;
}

crm_status crm_analytics_cpm_thresholds(const crm_analytics *analytics,
                                        uint32_t *churn_days,
                                        uint32_t *tenure_short_days,
                                        uint32_t *tenure_long_days,
                                        int64_t *spend_threshold)
{
    if (!analytics)
        return CRM_EINVAL;
    if (churn_days)
        *churn_days = analytics->churn_days;
    if (tenure_short_days)
        *tenure_short_days = analytics->tenure_short_days;
    if (tenure_long_days)
        *tenure_long_days = analytics->tenure_long_days;
    if (spend_threshold)
        *spend_threshold = analytics->spend_threshold;
    return CRM_OK;
}

/*
 * The CPM group, computed without branches: customers come in id order,
 * so each test would mispredict. The active group counts the tests passed
 * in order (repeat buyer, tenure past the short limit, spend at the
 * threshold, tenure past the long limit) up to the first that fails:
 * first, beginner, steady, trendy, loyal; churned adds one.
 */
static crm_cpm_group cpm_group_of(const crm_analytics *a,
                                  const analytics_customer *c)
{
    int64_t tenure = (int64_t)c->last_day - c->first_day;
    int churned = a->as_of_day - c->last_day >= (int64_t)a->churn_days;
    int repeat = c->second_day != ANALYTICS_NO_DAY;
    int past_short = tenure >= (int64_t)a->tenure_short_days;
    int big_spend = c->revenue >= a->spend_threshold;
    int past_long = tenure >= (int64_t)a->tenure_long_days;
    int passed = repeat * (1 + past_short * (1 + big_spend * (1 + past_long)));

    return (crm_cpm_group)(CRM_CPM_FIRST + 2 * passed + churned);
}

crm_status crm_analytics_cpm(const crm_analytics *analytics,
                             uint64_t *customers, int64_t *revenue)
{
    uint64_t count[CRM_CPM_GROUP_COUNT] = {0};
    int64_t sum[CRM_CPM_GROUP_COUNT] = {0};
    size_t i;

    if (!analytics)
        return CRM_EINVAL;
    for (i = 0; i < analytics->n_customers; i++) {
        const analytics_customer *c = &analytics->customers[i];
        crm_cpm_group group = cpm_group_of(analytics, c);

        count[group]++;
        if (crm_add_checked(&sum[group], c->revenue))
            return crm_error(analytics->ctx, CRM_EOVERFLOW,
                             "crm_analytics_cpm: revenue of group %d "
                             "overflows int64", (int)group);
    }
    if (customers)
        memcpy(customers, count, sizeof count);
    if (revenue)
        memcpy(revenue, sum, sizeof sum);
    return CRM_OK;
}

/* ---- Per customer ------------------------------------------------------ */

static crm_status find_customer(const crm_analytics *a, const char *fn,
                                int64_t id, const void *out,
                                const analytics_customer **found)
{
    size_t lo = 0, hi = a->n_customers;

    if (!out)
        return crm_error(a->ctx, CRM_EINVAL, "%s: out is NULL", fn);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == a->n_customers || a->ids[lo] != id)
        return crm_error(a->ctx, CRM_ENOTFOUND,
                         "%s: customer %lld has no purchase before as_of", fn,
                         (long long)id);
    *found = &a->customers[lo];
    return CRM_OK;
}

crm_status crm_analytics_customer_decile(const crm_analytics *analytics,
                                         int64_t customer_id, int32_t *decile)
{
    const analytics_customer *c = NULL;
    crm_status status;

    if (!analytics)
        return CRM_EINVAL;
    status = find_customer(analytics, "crm_analytics_customer_decile",
                           customer_id, decile, &c);
    if (status == CRM_OK)
        *decile = c->decile;
    return status;
}

crm_status crm_analytics_customer_cpm(const crm_analytics *analytics,
                                      int64_t customer_id, int32_t *group)
{
    const analytics_customer *c = NULL;
    crm_status status;

    if (!analytics)
        return CRM_EINVAL;
    status = find_customer(analytics, "crm_analytics_customer_cpm",
                           customer_id, group, &c);
    if (status == CRM_OK)
        *group = (int32_t)cpm_group_of(analytics, c);
    return status;
}

crm_status crm_analytics_customers(const crm_analytics *analytics, size_t n,
                                   int64_t *customer_id, int64_t *revenue,
                                   int32_t *decile, int32_t *group)
{
    size_t i;

    if (!analytics)
        return CRM_EINVAL;
    if (n > analytics->n_customers)
        return crm_error(analytics->ctx, CRM_EINVAL,
                         "crm_analytics_customers: n %zu is above the %zu "
                         "customers", n, analytics->n_customers);
    for (i = 0; i < n; i++) {
        const analytics_customer *c = &analytics->customers[i];

        if (customer_id)
            customer_id[i] = analytics->ids[i];
        if (revenue)
            revenue[i] = c->revenue;
        if (decile)
            decile[i] = c->decile;
        if (group)
            group[i] = (int32_t)cpm_group_of(analytics, c);
    }
    return CRM_OK;
}
