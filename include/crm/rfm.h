/*
 * libcrm: the rfm module. (Its API is added by the module's issue.)
 */
#ifndef CRM_RFM_H
#define CRM_RFM_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Customer-value analytics: deciles, F2, repeat rate, cohorts, CPM ---- */

/*
 * crm_analytics: the reports a Japanese e-commerce operator reads every
 * month, computed from the caller's order columns in one call. Built once
 * with crm_analytics_new(); every report is then answered from per-customer
 * aggregates without reading the orders again.
 *
 * Definitions shared by every report (README "Customer-value analytics"):
 *   - An order counts when ordered_at < as_of (half-open; orders at or after
 *     as_of are ignored and counted). Days and months are local to the shop's
 *     UTC offset.
 *   - A purchase is an order with amount > 0. Returns are negative amounts:
 *     they lower revenue and never count as a purchase. Zero amounts are
 *     ignored. A purchase occasion is a local day with at least one purchase
 *     (several orders on one day are one occasion).
 *   - A customer is an id with at least one purchase. Ids with only returns
 *     are not customers of any report; crm_analytics_totals() counts them.
 *   - Revenue is the net sum of amounts (purchases plus returns).
 *   - A = the local day of as_of; "the as_of month" is the local month of
 *     the last counted second (as_of - 1).
 *
 * Thread-safety: a crm_analytics is immutable after crm_analytics_new()
 * except for crm_analytics_set_cpm_thresholds(); reports never allocate and
 * may run from several threads at once while no thread changes the
 * thresholds. A report that fails records its message on the handle's ctx,
 * which is shared: concurrent failures may overwrite each other's message.
 */
typedef struct crm_analytics crm_analytics;

/* Number of deciles and CPM groups (array sizes of the reports). */
#define CRM_ANALYTICS_DECILES 10
#define CRM_CPM_GROUP_COUNT 10
/* The cohort matrix keeps months since the first purchase 0 .. 119. */
#define CRM_ANALYTICS_MAX_OFFSETS 120

/*
 * The ten CPM groups of LTV-Lab (customer portfolio management). Values
 * index the arrays of crm_analytics_cpm(); an odd value is the churned
 * (離脱) twin of the active group before it.
 */
typedef enum crm_cpm_group {
    CRM_CPM_FIRST = 0,             /* 初回現役 */
    CRM_CPM_FIRST_CHURNED = 1,     /* 初回離脱 */
    CRM_CPM_BEGINNER = 2,          /* よちよち現役 */
    CRM_CPM_BEGINNER_CHURNED = 3,  /* よちよち離脱 */
    CRM_CPM_STEADY = 4,            /* コツコツ現役 */
    CRM_CPM_STEADY_CHURNED = 5,    /* コツコツ離脱 */
    CRM_CPM_TRENDY = 6,            /* 流行現役 */
    CRM_CPM_TRENDY_CHURNED = 7,    /* 流行離脱 */
    CRM_CPM_LOYAL = 8,             /* 優良現役 */
    CRM_CPM_LOYAL_CHURNED = 9      /* 優良離脱 */
} crm_cpm_group;

/*
 * Builds the analytics of n orders given as columns: customer_id[i],
 * ordered_at[i] (Unix seconds), amount[i] (minor units, negative for a
 * return). The columns are read during the call only (no copy is kept); the
 * order of rows does not matter. as_of is the exclusive end of the
 * observation; utc_offset_min the shop's offset (Japan: 540). The CPM
 * thresholds start at their defaults (240, 90, 210, 70000).
 * On success *out owns a new handle; free it with crm_analytics_free().
 * Errors: CRM_EINVAL (NULL ctx or out, a NULL column with n > 0, offset
 * outside -1440..1440, as_of or an ordered_at outside years 0001..9999 UTC:
 * the message names the row), CRM_EOVERFLOW (a customer's revenue, a
 * total or a cohort cell would overflow int64), CRM_ELIMIT (n above
 * 4,294,967,295 rows), CRM_ENOMEM. Memory while building: about 32 bytes
 * per counted order; kept afterwards: 32 bytes per customer and 1.9 KiB
 * per cohort.
 */
CRM_API crm_status crm_analytics_new(crm_ctx *ctx, const int64_t *customer_id,
                                     const int64_t *ordered_at,
                                     const int64_t *amount, size_t n,
                                     int64_t as_of, int32_t utc_offset_min,
                                     crm_analytics **out);

/* Frees the handle. Accepts NULL. */
CRM_API void crm_analytics_free(crm_analytics *analytics);

/*
 * Totals: customers (ids with a purchase), their net revenue, ids with
 * returns only and those returns' sum (<= 0), and how many orders were
 * ignored because ordered_at >= as_of. Every out-pointer may be NULL.
 * Errors: CRM_EINVAL (NULL analytics). Never allocates.
 */
CRM_API crm_status crm_analytics_totals(const crm_analytics *analytics,
                                        uint64_t *customers, int64_t *revenue,
                                        uint64_t *returns_only_customers,
                                        int64_t *returns_only_revenue,
                                        uint64_t *ignored_orders);

/*
 * Decile analysis. A customer's decile is 1 + floor(10 * h / N), where N is
 * the number of customers and h the number of customers whose revenue is
 * strictly higher: decile 1 holds the top spenders, equal revenues always
 * share a decile, groups are as equal in size as ties allow, and nothing
 * depends on row order. Fills index d - 1 of each array (10 entries) with
 * decile d's customers, revenue and share of the customers' total revenue
 * (0 when that total is <= 0). Any array may be NULL.
 * Errors: CRM_EINVAL (NULL analytics). Never allocates.
 */
CRM_API crm_status crm_analytics_deciles(const crm_analytics *analytics,
                                         uint64_t *customers, int64_t *revenue,
                                         double *share);

/*
 * F2 conversion within `days` days. For a customer with first purchase day
 * d1 and next purchase occasion d2 (a later local day; a second order on
 * d1 itself does not count): censored when A - d1 <= days (the window
 * d1+1 .. d1+days is not fully observed before as_of), otherwise eligible,
 * and converted when eligible and d2 - d1 <= days. eligible + censored =
 * customers. *rate = converted / eligible (0 when none is eligible).
 * Every out-pointer may be NULL.
 * Errors: CRM_EINVAL (NULL analytics, days 0 or above 3,660,000). Never allocates.
 */
CRM_API crm_status crm_analytics_f2(const crm_analytics *analytics,
                                    uint32_t days, uint64_t *eligible,
                                    uint64_t *converted, uint64_t *censored,
                                    double *rate);

/*
 * F2 curve: point i (0-based) is crm_analytics_f2() with days =
 * step_days * (i + 1), written to eligible[i], converted[i], censored[i]
 * (arrays of n_points; any may be NULL). The usual curve is step 30 and
 * 24 points (30 .. 720 days).
 * Errors: CRM_EINVAL (NULL analytics, step_days or n_points 0,
 * step_days * n_points above 3,660,000). Never allocates.
 */
CRM_API crm_status crm_analytics_f2_curve(const crm_analytics *analytics,
                                          uint32_t step_days, size_t n_points,
                                          uint64_t *eligible,
                                          uint64_t *converted,
                                          uint64_t *censored);

/*
 * Repeat rate: customers with two or more purchase occasions out of all
 * customers (*rate 0 when there are none). Every out-pointer may be NULL.
 * Errors: CRM_EINVAL (NULL analytics). Never allocates.
 */
CRM_API crm_status crm_analytics_repeat_rate(const crm_analytics *analytics,
                                             uint64_t *customers,
                                             uint64_t *repeaters, double *rate);

/*
 * Number of cohorts: the distinct local months in which customers made
 * their first purchase. Errors: CRM_EINVAL (NULL argument).
 */
CRM_API crm_status crm_analytics_cohort_count(const crm_analytics *analytics,
                                              size_t *n_cohorts);

/*
 * Monthly cohort matrix, oldest cohort first, for the first n_cohorts
 * cohorts (n_cohorts <= crm_analytics_cohort_count()) and months since the
 * first purchase 0 .. n_offsets - 1 (n_offsets <= 120). Per cohort c:
 * month[c] as YYYYMM (e.g. 202401), new_customers[c], observed[c] = months
 * from the cohort month to the as_of month inclusive (may exceed
 * n_offsets). Per cell c * n_offsets + k: active = customers of the cohort
 * with a purchase in month c + k (retention = active / new_customers),
 * revenue = the cohort's net amounts in that month. Cells not yet observed
 * are 0. Returns dated before a customer's first purchase month are in
 * no cell. Any array may be NULL.
 * Errors: CRM_EINVAL (NULL analytics, n_cohorts or n_offsets out of range).
 * Never allocates.
 */
CRM_API crm_status crm_analytics_cohorts(const crm_analytics *analytics,
                                         size_t n_cohorts, size_t n_offsets,
                                         int32_t *month,
                                         uint64_t *new_customers,
                                         uint32_t *observed, uint64_t *active,
                                         int64_t *revenue);

/*
 * Cohort LTV: the net revenue of months 0 .. months - 1 since the first
 * purchase per new customer of each of the first n_cohorts cohorts
 * (ltv[c]); complete[c] is 1 when all those months are observed, else 0.
 * months = 12 gives the usual 12-month LTV. Either array may be NULL.
 * Errors: CRM_EINVAL (NULL analytics, months 0 or above 120, n_cohorts
 * above the cohort count). Never allocates.
 */
CRM_API crm_status crm_analytics_cohort_ltv(const crm_analytics *analytics,
                                            uint32_t months, size_t n_cohorts,
                                            double *ltv, uint8_t *complete);

/*
 * Sets the CPM thresholds (defaults 240, 90, 210, 70000). With tenure =
 * last - first purchase day, recency = A - last purchase day and spend =
 * revenue: one occasion -> 初回; otherwise tenure < tenure_short_days ->
 * よちよち; else spend < spend_threshold -> コツコツ; else tenure <
 * tenure_long_days -> 流行; else 優良. Each is 離脱 (churned) when
 * recency >= churn_days.
 * Errors: CRM_EINVAL (NULL analytics, churn_days or tenure_short_days 0,
 * tenure_long_days < tenure_short_days, spend_threshold < 1); the
 * thresholds are then unchanged.
 */
CRM_API crm_status crm_analytics_set_cpm_thresholds(crm_analytics *analytics,
                                                    uint32_t churn_days,
                                                    uint32_t tenure_short_days,
                                                    uint32_t tenure_long_days,
                                                    int64_t spend_threshold);

/*
 * Reads the CPM thresholds in force (the defaults until changed). Every
 * out-pointer may be NULL. Errors: CRM_EINVAL (NULL analytics).
 */
CRM_API crm_status crm_analytics_cpm_thresholds(const crm_analytics *analytics,
                                                uint32_t *churn_days,
                                                uint32_t *tenure_short_days,
                                                uint32_t *tenure_long_days,
                                                int64_t *spend_threshold);

/*
 * CPM report: customers and net revenue of each group, indexed by
 * crm_cpm_group (10 entries each; either array may be NULL).
 * Errors: CRM_EINVAL (NULL analytics), CRM_EOVERFLOW (a group's revenue
 * overflows int64; arrays untouched). Never allocates.
 */
CRM_API crm_status crm_analytics_cpm(const crm_analytics *analytics,
                                     uint64_t *customers, int64_t *revenue);

/*
 * Per customer: the decile (1..10) and the CPM group of one customer id.
 * Errors: CRM_EINVAL (NULL argument), CRM_ENOTFOUND (the id has no
 * purchase before as_of). Never allocates.
 */
CRM_API crm_status crm_analytics_customer_decile(const crm_analytics *analytics,
                                                 int64_t customer_id,
                                                 int32_t *decile);
CRM_API crm_status crm_analytics_customer_cpm(const crm_analytics *analytics,
                                              int64_t customer_id,
                                              int32_t *group);

/*
 * Bulk per customer: the first n customers in ascending id order (n <= the
 * customer count), with id, revenue, decile (1..10) and CPM group. Any
 * array may be NULL. Gives the same answers as the per-customer calls.
 * Errors: CRM_EINVAL (NULL analytics, n above the customer count).
 * Never allocates.
 */
CRM_API crm_status crm_analytics_customers(const crm_analytics *analytics,
                                           size_t n, int64_t *customer_id,
                                           int64_t *revenue, int32_t *decile,
                                           int32_t *group);

#ifdef __cplusplus
}
#endif

#endif /* CRM_RFM_H */
