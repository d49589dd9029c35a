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
 * hint: never needed for correct results. Memory kept per reserved
 * customer: 16 bytes plus 24 to 48 for the hash table (its size is a power
 * of two).
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
 * Scoring no customer is fine. Memory: the handle keeps about 43 bytes
 * per customer (hash table, aggregate, scores); quantile scoring gathers
 * the values near each cut while it runs (a few bytes per customer on
 * typical data, at most 16).
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

/* ---- Customer-value analytics: see below ---- */

#ifdef __cplusplus
}
#endif

#endif /* CRM_RFM_H */
