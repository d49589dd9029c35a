/*
 * libcrm: RFM scoring (recency, frequency, monetary) and customer-value
 * analytics.
 *
 * A crm_rfm handle collects orders (or per-customer aggregates), groups them
 * by customer id and scores every customer 1..bins on each dimension.
 *
 *   crm_rfm *rfm;
 *   crm_rfm_new(ctx, &rfm);
 *   crm_rfm_set_as_of(rfm, as_of);              (required, before adding)
 *   crm_rfm_add_orders(rfm, ids, times, amounts, n);
 *   crm_rfm_score(rfm);
 *   crm_rfm_export(rfm, ids_out, rec, freq, mon, r, f, m, capacity);
 *   crm_rfm_free(rfm);
 *
 * Which orders count. An order counts when as_of - window <= ordered_at <
 * as_of (half-open; without a window every order before as_of counts).
 * Orders at or after as_of are ignored, so data newer than the as-of time
 * never changes a score. ordered_at must lie in years 0001..9999.
 *
 * Purchases and returns. An amount >= 0 is a purchase (a zero-value order,
 * e.g. fully discounted, still counts). A negative amount is a return or a
 * refund: it lowers monetary and never counts as a purchase nor moves the
 * last purchase date.
 *
 * Per customer:
 *   recency_days  local calendar day of as_of minus local day of the last
 *                 purchase (0 = bought on the as-of day), in the UTC offset
 *                 set with crm_rfm_set_utc_offset (default 0). -1 when the
 *                 customer has no purchase (only returns).
 *   frequency     purchases (orders with amount >= 0), or with
 *                 CRM_RFM_FREQUENCY_DAYS the number of distinct local days
 *                 with a purchase (2024-01-01 08:00 JST, offset +540, is
 *                 1 January, not 31 December).
 *   monetary      CRM_RFM_MONETARY_TOTAL: the net sum of amounts, returns
 *                 included; CRM_RFM_MONETARY_MEAN: that net sum divided by
 *                 frequency, rounded toward negative infinity (the net sum
 *                 itself when frequency is 0).
 *
 * Quantile scoring (the default on every dimension). With n customers,
 *
 *     score = 1 + floor(bins * (number of customers strictly worse) / n)
 *
 * where "worse" is more recency_days (a customer without purchase is worse
 * than any buyer), lower frequency, lower monetary. Equal values therefore
 * always get equal scores, and no score depends on input order. This is on
 * purpose: SQL NTILE and pandas rank(method='first') put equal customers
 * into different bins depending on row order, so two customers with the
 * same history get different scores and reruns disagree. The price is that
 * bins can be uneven or empty when many customers tie (if 60% bought once,
 * they all get f = 1 and the next frequency gets f = 4 with 5 bins).
 *
 * Threshold scoring (crm_rfm_set_thresholds): bins - 1 strictly increasing
 * values t[0] < ... < t[bins-2] cut the axis into half-open intervals
 * (-inf, t[0]), [t[0], t[1]), ..., [t[bins-2], +inf). For frequency and
 * monetary the interval number (1-based) is the score. For recency the
 * thresholds are in days and the scale is inverted: recency_days < t[0]
 * scores bins, >= t[bins-2] scores 1; a customer without purchase scores 1.
 *
 * Customers with net <= 0 or only returns are kept and scored like every
 * other customer, they are part of n. A customer with purchases whose net
 * is 0 or below has monetary <= 0 and so ranks below every customer with a
 * positive net. A customer with only returns has recency_days -1,
 * frequency 0 and a negative monetary: r = 1 always, f = 1 with quantile
 * frequency (no one has fewer purchases), and m ranks their net among the
 * others.
 *
 * Segment maps (for 5 bins). Two built-in maps give a group for an (r, f)
 * pair; rows are r (recency score), columns f (frequency score).
 *
 * CRM_RFM_MAP_JP4, the four groups of Japanese EC practice:
 *
 *          f=1       f=2       f=3       f=4       f=5
 *   r=5    New       Regular   Regular   Best      Best
 *   r=4    New       Regular   Regular   Best      Best
 *   r=3    Regular   Regular   Regular   Regular   Regular
 *   r=2    Dormant   Dormant   Dormant   Dormant   Dormant
 *   r=1    Dormant   Dormant   Dormant   Dormant   Dormant
 *
 *   group 0 Best 優良顧客, 1 Regular 一般顧客, 2 New 新規顧客,
 *   3 Dormant 休眠顧客.
 *
 * CRM_RFM_MAP_RF11, the common 11-group R x F map:
 *
 *          f=1             f=2             f=3             f=4          f=5
 *   r=5    New             Potential l.    Potential l.    Champions    Champions
 *   r=4    Promising       Potential l.    Potential l.    Loyal        Loyal
 *   r=3    About to sleep  About to sleep  Need attention  Loyal        Loyal
 *   r=2    Hibernating     Hibernating     At risk         At risk      Can't lose
 *   r=1    Lost            Lost            At risk         At risk      Can't lose
 *
 *   group 0 Champions チャンピオン, 1 Loyal ロイヤル顧客,
 *   2 Potential loyalist ロイヤル候補, 3 New 新規顧客, 4 Promising 有望顧客,
 *   5 Need attention 要注意顧客, 6 About to sleep 休眠予備軍,
 *   7 At risk 離反危険顧客, 8 Can't lose 手放せない顧客,
 *   9 Hibernating 休眠顧客, 10 Lost 離反顧客.
 *
 * Errors are recorded on the crm_ctx the handle was made from
 * (crm_ctx_errmsg). A failed call changes nothing observable.
 *
 * Thread-safety: a crm_rfm is used by one thread at a time (with its ctx).
 * The map functions (crm_rfm_map_*, crm_rfm_group_name) are thread-safe.
 */
#ifndef CRM_RFM_H
#define CRM_RFM_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CRM_RFM_MIN_BINS 2
#define CRM_RFM_MAX_BINS 10
#define CRM_RFM_DEFAULT_BINS 5

/* Most customers one handle holds (CRM_ELIMIT beyond). */
#define CRM_RFM_MAX_CUSTOMERS 2147483647u

typedef struct crm_rfm crm_rfm;

typedef enum crm_rfm_dimension {
    CRM_RFM_RECENCY = 0,
    CRM_RFM_FREQUENCY = 1,
    CRM_RFM_MONETARY = 2
} crm_rfm_dimension;

typedef enum crm_rfm_frequency_mode {
    CRM_RFM_FREQUENCY_ORDERS = 0, /* number of purchases */
    CRM_RFM_FREQUENCY_DAYS = 1    /* number of distinct local purchase days */
} crm_rfm_frequency_mode;

typedef enum crm_rfm_monetary_mode {
    CRM_RFM_MONETARY_TOTAL = 0, /* net sum of amounts */
    CRM_RFM_MONETARY_MEAN = 1   /* net sum / frequency */
} crm_rfm_monetary_mode;

typedef enum crm_rfm_map {
    CRM_RFM_MAP_JP4 = 0, /* 優良 / 一般 / 新規 / 休眠 */
    CRM_RFM_MAP_RF11 = 1 /* Champions ... Lost */
} crm_rfm_map;

typedef enum crm_rfm_lang {
    CRM_RFM_LANG_EN = 0,
    CRM_RFM_LANG_JA = 1
} crm_rfm_lang;

/*
 * Creates an empty RFM handle: 5 bins, quantile scoring on every
 * dimension, frequency in orders, monetary as total, UTC offset 0, no
 * window, as-of time not set. *out owns the handle; free it with
 * crm_rfm_free() before the ctx.
 * Errors: CRM_EINVAL (NULL ctx or out), CRM_ENOMEM.
 */
CRM_API crm_status crm_rfm_new(crm_ctx *ctx, crm_rfm **out);

/* Frees the handle and everything it holds. Accepts NULL. */
CRM_API void crm_rfm_free(crm_rfm *rfm);

/*
 * Forgets every customer and score, keeping the options and the memory
 * for reuse. Options that fix which orders count can be set again after.
 * Errors: CRM_EINVAL (NULL rfm).
 */
CRM_API crm_status crm_rfm_clear(crm_rfm *rfm);

/*
 * Makes room for `customers` customers in total, so that a large batch does
 * not grow the tables step by step (fewer copies and page faults). Only a
 * hint: never needed for correct results (a large batch of orders sizes
 * the table itself from an estimate of its distinct customers). Memory
 * kept per reserved customer: about 24 bytes (16-byte hash slots, at most
 * 2/3 full).
 * Errors: CRM_EINVAL (NULL rfm, customers > CRM_RFM_MAX_CUSTOMERS),
 * CRM_ENOMEM.
 */
CRM_API crm_status crm_rfm_reserve(crm_rfm *rfm, size_t customers);

/* ---- Options that decide which orders count: set before adding data ---- */

/*
 * Sets the as-of time (Unix seconds, UTC): orders at or after it are
 * ignored and recency is measured to it. Required before adding data.
 * Errors: CRM_EINVAL (NULL rfm, as_of outside years 0001..9999),
 * CRM_ESTATE (data was already added; crm_rfm_clear first).
 */
CRM_API crm_status crm_rfm_set_as_of(crm_rfm *rfm, int64_t as_of);

/*
 * Sets the look-back window in seconds: only orders in
 * [as_of - window, as_of) count. 0 (the default) means no window. The
 * window does not apply to aggregates, which already summarise.
 * Errors: CRM_EINVAL (NULL rfm, negative window), CRM_ESTATE (data added).
 */
CRM_API crm_status crm_rfm_set_window(crm_rfm *rfm, int64_t window_seconds);

/*
 * Sets the UTC offset in minutes east of UTC (Japan: +540) that defines
 * local days for recency_days and for CRM_RFM_FREQUENCY_DAYS.
 * Errors: CRM_EINVAL (NULL rfm, offset outside -1440..1440), CRM_ESTATE
 * (data added).
 */
CRM_API crm_status crm_rfm_set_utc_offset(crm_rfm *rfm, int32_t offset_minutes);

/*
 * Chooses how frequency counts: purchases or distinct local purchase days.
 * Days mode keeps 8 bytes per purchase until scoring (then one per
 * distinct customer-day).
 * Errors: CRM_EINVAL (NULL rfm, unknown mode), CRM_ESTATE (data added).
 */
CRM_API crm_status crm_rfm_set_frequency_mode(crm_rfm *rfm,
                                              crm_rfm_frequency_mode mode);

/* ---- Options that decide scoring: may change at any time ---------------
 * Changing one makes the current scores stale: call crm_rfm_score again
 * before reading results. */

/*
 * Chooses monetary as net total or as mean per purchase.
 * Errors: CRM_EINVAL (NULL rfm, unknown mode).
 */
CRM_API crm_status crm_rfm_set_monetary_mode(crm_rfm *rfm,
                                             crm_rfm_monetary_mode mode);

/*
 * Sets the number of bins (scores run 1..bins), 2..10, default 5.
 * Errors: CRM_EINVAL (NULL rfm, bins out of range), CRM_ESTATE (a
 * dimension has thresholds for another number of bins: set it back to
 * quantile or give new thresholds first).
 */
CRM_API crm_status crm_rfm_set_bins(crm_rfm *rfm, unsigned bins);

/*
 * Scores `dim` with caller thresholds instead of quantiles (see the top of
 * this header for the half-open intervals; recency thresholds are days).
 * `count` must be bins - 1 and the values strictly increasing; recency
 * thresholds must be >= 0. The values are copied.
 * Errors: CRM_EINVAL (NULL rfm or thresholds, unknown dim, wrong count,
 * values not strictly increasing, negative recency threshold).
 */
CRM_API crm_status crm_rfm_set_thresholds(crm_rfm *rfm, crm_rfm_dimension dim,
                                          const int64_t *thresholds,
                                          size_t count);

/*
 * Scores `dim` by quantiles again (the default).
 * Errors: CRM_EINVAL (NULL rfm, unknown dim).
 */
CRM_API crm_status crm_rfm_set_quantile(crm_rfm *rfm, crm_rfm_dimension dim);

/* ---- Input -------------------------------------------------------------- */

/*
 * Adds n orders given as columns: customer_id[i] ordered ordered_at[i]
 * (Unix seconds) for amount[i] (minor currency unit; negative = return).
 * Orders outside [as_of - window, as_of) are skipped. Adding the same rows
 * in any order, in one call or many, or row by row gives identical
 * results. The arrays are only read during the call. n may be 0 (then the
 * arrays may be NULL).
 * Errors: CRM_EINVAL (NULL rfm or array, n too large for memory, an
 * ordered_at outside years 0001..9999: the message names the row),
 * CRM_ESTATE (as-of time not set), CRM_EOVERFLOW (a customer's net sum
 * leaves int64, or a purchase count exceeds 4294967295), CRM_ELIMIT (more
 * than CRM_RFM_MAX_CUSTOMERS customers), CRM_ENOMEM. On error no row of
 * the call is kept.
 */
CRM_API crm_status crm_rfm_add_orders(crm_rfm *rfm, const int64_t *customer_id,
                                      const int64_t *ordered_at,
                                      const int64_t *amount, size_t n);

/* Adds one order; same rules and errors as crm_rfm_add_orders. */
CRM_API crm_status crm_rfm_add_order(crm_rfm *rfm, int64_t customer_id,
                                     int64_t ordered_at, int64_t amount);

/*
 * Adds per-customer aggregates, as most cart platforms keep them:
 * last_purchase_at (Unix seconds, ignored when purchase_count is 0),
 * purchase_count (>= 0) and total (net sum, minor unit). A customer seen
 * again (in orders or aggregates) is merged: counts and totals add up, the
 * later last purchase wins. In days mode purchase_count is taken as a
 * number of purchase days. The window does not apply.
 * Errors: CRM_EINVAL (NULL rfm or array, n too large, purchase_count < 0
 * or > 4294967295, purchase_count > 0 with last_purchase_at outside years
 * 0001..9999 or not before as_of: the message names the row), CRM_ESTATE
 * (as-of time not set), CRM_EOVERFLOW, CRM_ELIMIT, CRM_ENOMEM. On error no
 * row of the call is kept.
 */
CRM_API crm_status crm_rfm_add_aggregates(crm_rfm *rfm,
                                          const int64_t *customer_id,
                                          const int64_t *last_purchase_at,
                                          const int64_t *purchase_count,
                                          const int64_t *total, size_t n);

/* Adds one aggregate; same rules and errors as crm_rfm_add_aggregates. */
CRM_API crm_status crm_rfm_add_aggregate(crm_rfm *rfm, int64_t customer_id,
                                         int64_t last_purchase_at,
                                         int64_t purchase_count, int64_t total);

/* ---- Scoring and output -------------------------------------------------- */

/*
 * Scores every customer with the current options. Must be called after
 * adding data or changing a scoring option and before reading results.
 * Scoring no customer is fine. Memory: the handle keeps about 26 bytes
 * per customer: a 16-byte hash slot (at most 2/3 full) with its totals,
 * and a 16-byte record more for a customer past 255 purchases or an int32
 * net sum, and in days mode for every customer with purchase days.
 * Scores are not stored but follow from the cuts this call finds. While
 * it runs, quantile scoring of more than 32,768 customers keeps the
 * monetary histogram bucket of every slot (2 bytes a slot, 3 a customer)
 * and the values near each cut (a few bytes per customer on typical data,
 * at most 8 more).
 * Deterministic: the same customers give the same scores in any order.
 * Errors: CRM_EINVAL (NULL rfm), CRM_ENOMEM (previous scores are kept).
 */
CRM_API crm_status crm_rfm_score(crm_rfm *rfm);

/* Number of customers held (0 for NULL). Thread-safety as the handle. */
CRM_API size_t crm_rfm_customer_count(const crm_rfm *rfm);

/*
 * Copies every customer's results into caller arrays, ordered by customer
 * id ascending. Each array may be NULL to skip that column; the others
 * must hold at least crm_rfm_customer_count() elements (`capacity`).
 * Errors: CRM_EINVAL (NULL rfm, capacity too small), CRM_ESTATE (not
 * scored since the last change), CRM_ENOMEM (nothing written).
 */
CRM_API crm_status crm_rfm_export(const crm_rfm *rfm, int64_t *customer_id,
                                  int64_t *recency_days, int64_t *frequency,
                                  int64_t *monetary, uint8_t *r, uint8_t *f,
                                  uint8_t *m, size_t capacity);

/*
 * Looks up one customer. Any out-pointer may be NULL.
 * Errors: CRM_EINVAL (NULL rfm), CRM_ESTATE (not scored), CRM_ENOTFOUND
 * (no such customer; outputs untouched).
 */
CRM_API crm_status crm_rfm_lookup(const crm_rfm *rfm, int64_t customer_id,
                                  int64_t *recency_days, int64_t *frequency,
                                  int64_t *monetary, int *r, int *f, int *m);

/*
 * Called once per customer by crm_rfm_foreach, in customer id order.
 * Return 0 to go on, non-zero to stop.
 */
typedef int (*crm_rfm_visit_fn)(void *user, int64_t customer_id,
                                int64_t recency_days, int64_t frequency,
                                int64_t monetary, int r, int f, int m);

/*
 * Calls `visit` for every customer in ascending customer id order.
 * Errors: CRM_EINVAL (NULL rfm or visit), CRM_ESTATE (not scored),
 * CRM_ECALLBACK (visit returned non-zero), CRM_ENOMEM (before any call).
 */
CRM_API crm_status crm_rfm_foreach(const crm_rfm *rfm, crm_rfm_visit_fn visit,
                                   void *user);

/*
 * The R x F grid for heatmaps: cell (r, f) is index (r - 1) * bins +
 * (f - 1). customers[] receives the number of customers in the cell and
 * revenue[] the sum of their net totals (returns included, whatever the
 * monetary mode). Either array may be NULL; `cells` must be >= bins * bins.
 * Errors: CRM_EINVAL (NULL rfm, cells too small), CRM_ESTATE (not scored),
 * CRM_EOVERFLOW (a cell's revenue leaves int64; nothing written).
 */
CRM_API crm_status crm_rfm_grid(const crm_rfm *rfm, uint64_t *customers,
                                int64_t *revenue, size_t cells);

/*
 * Customers and net revenue per group of a segment map (index = group).
 * Needs 5 bins. Either array may be NULL; `groups` must be >=
 * crm_rfm_map_group_count(map).
 * Errors: CRM_EINVAL (NULL rfm, unknown map, groups too small), CRM_ESTATE
 * (not scored, or bins is not 5), CRM_EOVERFLOW (nothing written).
 */
CRM_API crm_status crm_rfm_group_summary(const crm_rfm *rfm, crm_rfm_map map,
                                         uint64_t *customers, int64_t *revenue,
                                         size_t groups);

/*
 * The group of a 5-bin (r, f) pair in a segment map (tables above).
 * Errors: CRM_EINVAL (unknown map, r or f outside 1..5, NULL group).
 * Thread-safe; records no error (there is no ctx).
 */
CRM_API crm_status crm_rfm_map_group(crm_rfm_map map, int r, int f, int *group);

/* Number of groups of a map (4 or 11), 0 for an unknown map. Thread-safe. */
CRM_API unsigned crm_rfm_map_group_count(crm_rfm_map map);

/*
 * The static UTF-8 name of a group ("Champions", "休眠顧客"), NULL for an
 * unknown map, group or language. Thread-safe.
 */
CRM_API const char *crm_rfm_group_name(crm_rfm_map map, int group,
                                       crm_rfm_lang lang);

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
