/*
 * Check suite for the rfm module (include/crm/rfm.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/rfm.h"
#include "test_util.h"

#define DAY INT64_C(86400)
#define AS_OF INT64_C(1704067200) /* 2024-01-01T00:00:00Z */

/* ---- Helpers ---------------------------------------------------------------- */

typedef struct result {
    size_t n;
    int64_t *id, *rec, *freq, *mon;
    uint8_t *r, *f, *m;
} result;

static void result_free(result *res)
{
    free(res->id);
    free(res->rec);
    free(res->freq);
    free(res->mon);
    free(res->r);
    free(res->f);
    free(res->m);
    memset(res, 0, sizeof *res);
}

/* Scores and exports everything. */
static result score_and_export(crm_rfm *rfm)
{
    result res;
    size_t cap;

    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    res.n = crm_rfm_customer_count(rfm);
    cap = res.n ? res.n : 1;
    res.id = malloc(cap * sizeof(int64_t));
    res.rec = malloc(cap * sizeof(int64_t));
    res.freq = malloc(cap * sizeof(int64_t));
    res.mon = malloc(cap * sizeof(int64_t));
    res.r = malloc(cap);
    res.f = malloc(cap);
    res.m = malloc(cap);
    ck_assert_int_eq(crm_rfm_export(rfm, res.id, res.rec, res.freq, res.mon,
                                    res.r, res.f, res.m, res.n),
                     CRM_OK);
    return res;
}

static void assert_results_equal(const result *a, const result *b)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert(a->n == 0 || memcmp(a->id, b->id, a->n * 8) == 0);
    ck_assert(a->n == 0 || memcmp(a->rec, b->rec, a->n * 8) == 0);
    ck_assert(a->n == 0 || memcmp(a->freq, b->freq, a->n * 8) == 0);
    ck_assert(a->n == 0 || memcmp(a->mon, b->mon, a->n * 8) == 0);
    ck_assert(a->n == 0 || memcmp(a->r, b->r, a->n) == 0);
    ck_assert(a->n == 0 || memcmp(a->f, b->f, a->n) == 0);
    ck_assert(a->n == 0 || memcmp(a->m, b->m, a->n) == 0);
}

static crm_rfm *new_rfm(crm_ctx *ctx)
{
    crm_rfm *rfm = NULL;

    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF), CRM_OK);
    return rfm;
}

/* The formula, computed the slow way: values higher is better. */
static unsigned naive_score(const int64_t *v, size_t n, size_t i, unsigned bins)
{
    size_t j, worse = 0;

    for (j = 0; j < n; j++)
        worse += v[j] < v[i];
    return 1 + (unsigned)((uint64_t)bins * worse / n);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A random order set: n rows over `customers` ids, some returns. */
typedef struct orderset {
    size_t n;
    int64_t *id, *at, *amount;
} orderset;

static orderset make_orders(size_t n, size_t customers, uint64_t seed)
{
    orderset o;
    size_t i;

    o.n = n;
    o.id = malloc((n ? n : 1) * sizeof(int64_t));
    o.at = malloc((n ? n : 1) * sizeof(int64_t));
    o.amount = malloc((n ? n : 1) * sizeof(int64_t));
    for (i = 0; i < n; i++) {
        o.id[i] = (int64_t)(rng_next(&seed) % customers) * 1000 - 5000;
        o.at[i] = AS_OF - 400 * DAY + (int64_t)(rng_next(&seed) % (420 * DAY));
        o.amount[i] = (int64_t)(rng_next(&seed) % 50) * 100;
        if (rng_next(&seed) % 10 == 0)
            o.amount[i] = -o.amount[i];
    }
    return o;
}

static void shuffle(orderset *o, uint64_t seed)
{
    size_t i;

    for (i = o->n; i > 1; i--) {
        size_t j = (size_t)(rng_next(&seed) % i);
        int64_t t;
        t = o->id[i - 1]; o->id[i - 1] = o->id[j]; o->id[j] = t;
        t = o->at[i - 1]; o->at[i - 1] = o->at[j]; o->at[j] = t;
        t = o->amount[i - 1]; o->amount[i - 1] = o->amount[j]; o->amount[j] = t;
    }
}

static void orders_free(orderset *o)
{
    free(o->id);
    free(o->at);
    free(o->amount);
}

/* ---- Lifecycle and arguments ---------------------------------------------- */

START_TEST(test_new_free_and_null_arguments)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm = NULL;
    int64_t one = 1;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_rfm_new(NULL, &rfm), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_new(ctx, NULL), CRM_EINVAL);
    ck_assert_ptr_null(rfm);
    crm_rfm_free(NULL);
    ck_assert_int_eq(crm_rfm_clear(NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_as_of(NULL, AS_OF), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_window(NULL, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_utc_offset(NULL, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_frequency_mode(NULL, CRM_RFM_FREQUENCY_DAYS),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_monetary_mode(NULL, CRM_RFM_MONETARY_MEAN),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_bins(NULL, 5), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_thresholds(NULL, CRM_RFM_RECENCY, &one, 1),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_quantile(NULL, CRM_RFM_RECENCY), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_orders(NULL, &one, &one, &one, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_order(NULL, 1, 1, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_aggregates(NULL, &one, &one, &one, &one, 1),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_aggregate(NULL, 1, 1, 1, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_score(NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_reserve(NULL, 10), CRM_EINVAL);
    ck_assert_uint_eq(crm_rfm_customer_count(NULL), 0);
    ck_assert_int_eq(crm_rfm_export(NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL, 0),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_lookup(NULL, 1, NULL, NULL, NULL, NULL, NULL, NULL),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_grid(NULL, NULL, NULL, 25), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_group_summary(NULL, CRM_RFM_MAP_JP4, NULL, NULL, 4),
                     CRM_EINVAL);

    rfm = new_rfm(ctx);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, NULL, &one, &one, 1), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "NULL"));
    ck_assert_int_eq(crm_rfm_add_orders(rfm, &one, NULL, &one, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, &one, &one, NULL, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, NULL, NULL, NULL, 0), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, &one, &one, &one, SIZE_MAX / 2),
                     CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "too large"));
    ck_assert_int_eq(crm_rfm_add_aggregates(rfm, &one, &one, NULL, &one, 1),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_reserve(rfm, (size_t)CRM_RFM_MAX_CUSTOMERS + 1),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_reserve(rfm, 1000), CRM_OK);
    ck_assert_int_eq(crm_rfm_reserve(rfm, 10), CRM_OK);
    ck_assert_int_eq(crm_rfm_foreach(rfm, NULL, NULL), CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_foreach(rfm, NULL, NULL), CRM_EINVAL);
    ck_assert_uint_eq(crm_rfm_customer_count(rfm), 0);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_options_out_of_range)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm = NULL;
    int64_t t4[4] = {1, 2, 3, 4}, flat[4] = {1, 2, 2, 4}, neg[4] = {-1, 2, 3, 4};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    /* Adding before the as-of time is set. */
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - DAY, 100), CRM_ESTATE);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "as-of"));
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, INT64_C(-62135596801)), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, INT64_C(253402300800)), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_window(rfm, -1), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, 1441), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, -1441), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "-1440..1440"));
    ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, 540), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_frequency_mode(rfm, (crm_rfm_frequency_mode)7),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_monetary_mode(rfm, (crm_rfm_monetary_mode)-1),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 11), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "2..10"));
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 2), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 10), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 5), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, (crm_rfm_dimension)3, t4, 4),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_quantile(rfm, (crm_rfm_dimension)-1),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_MONETARY, NULL, 4),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_MONETARY, t4, 3),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_MONETARY, flat, 4),
                     CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "strictly increasing"));
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_RECENCY, neg, 4),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_MONETARY, neg, 4),
                     CRM_OK);
    /* Bins cannot change under thresholds made for 5 bins. */
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 3), CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_set_quantile(rfm, CRM_RFM_MONETARY), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 3), CRM_OK);
    /* Options fixing which orders count are frozen once data is in. */
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - DAY, 100), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF + DAY), CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_set_window(rfm, DAY), CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, 0), CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_set_frequency_mode(rfm, CRM_RFM_FREQUENCY_DAYS),
                     CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_clear(rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_window(rfm, DAY), CRM_OK);
    /* Out-of-range order times and aggregate counts. */
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, INT64_MIN, 100), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "row 0"));
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 1, AS_OF - DAY, -1, 0),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 1, AS_OF - DAY,
                                           INT64_C(4294967296), 0),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 1, AS_OF, 1, 0), CRM_EINVAL);
    ck_assert_uint_eq(crm_rfm_customer_count(rfm), 0);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Scores ------------------------------------------------------------------ */

/* Customers 1..10: 6 with one order, 2 with two, 1 with three, 1 with five. */
START_TEST(test_sixty_percent_single_order)
{
    static const int orders_of[10] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 5};
    static const int want_f[10] = {1, 1, 1, 1, 1, 1, 4, 4, 5, 5};
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    result res;
    int c, k;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    for (c = 0; c < 10; c++)
        for (k = 0; k < orders_of[c]; k++)
            ck_assert_int_eq(crm_rfm_add_order(rfm, c + 1, AS_OF - (k + 1) * DAY,
                                               1000),
                             CRM_OK);
    res = score_and_export(rfm);
    ck_assert_uint_eq(res.n, 10);
    for (c = 0; c < 10; c++) {
        ck_assert_int_eq(res.id[c], c + 1);
        ck_assert_int_eq(res.freq[c], orders_of[c]);
        ck_assert_int_eq(res.f[c], want_f[c]);
        ck_assert_int_eq(res.r[c], 1); /* everybody bought yesterday: a tie */
        ck_assert_int_eq(res.rec[c], 1);
        ck_assert_int_eq(res.mon[c], 1000 * orders_of[c]);
        ck_assert_int_eq(res.m[c], want_f[c]);
    }
    result_free(&res);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_all_values_equal_and_one_customer)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    result res;
    int64_t c;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    for (c = 0; c < 50; c++)
        ck_assert_int_eq(crm_rfm_add_order(rfm, c, AS_OF - 3 * DAY, 700), CRM_OK);
    res = score_and_export(rfm);
    for (i = 0; i < res.n; i++)
        ck_assert(res.r[i] == 1 && res.f[i] == 1 && res.m[i] == 1);
    result_free(&res);
    crm_rfm_clear(rfm);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 42, AS_OF - 1, 5), CRM_OK);
    res = score_and_export(rfm);
    ck_assert_uint_eq(res.n, 1);
    ck_assert_int_eq(res.id[0], 42);
    ck_assert_int_eq(res.rec[0], 1); /* the day before AS_OF */
    ck_assert(res.r[0] == 1 && res.f[0] == 1 && res.m[0] == 1);
    result_free(&res);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_empty_input)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    uint64_t cells[25];
    int64_t revenue[25];
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    ck_assert_uint_eq(crm_rfm_customer_count(rfm), 0);
    ck_assert_int_eq(crm_rfm_export(rfm, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL, 0),
                     CRM_OK);
    ck_assert_int_eq(crm_rfm_grid(rfm, cells, revenue, 25), CRM_OK);
    for (i = 0; i < 25; i++)
        ck_assert(cells[i] == 0 && revenue[i] == 0);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 1, NULL, NULL, NULL, NULL, NULL, NULL),
                     CRM_ENOTFOUND);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_returns_and_net_below_zero)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    int64_t rec, freq, mon;
    int r, f, m;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    /* 1: only returns. 2: bought then returned everything. 3, 4: buyers. */
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - DAY, -500), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - 2 * DAY, -300), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 2, AS_OF - 10 * DAY, 800), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 2, AS_OF - 1 * DAY, -800), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 3, AS_OF - 5 * DAY, 100), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 4, AS_OF - 5 * DAY, 900), CRM_OK);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 1, &rec, &freq, &mon, &r, &f, &m),
                     CRM_OK);
    ck_assert_int_eq(rec, -1);
    ck_assert_int_eq(freq, 0);
    ck_assert_int_eq(mon, -800);
    ck_assert(r == 1 && f == 1 && m == 1);
    /* The return does not move customer 2's last purchase (10 days ago). */
    ck_assert_int_eq(crm_rfm_lookup(rfm, 2, &rec, &freq, &mon, &r, &f, &m),
                     CRM_OK);
    ck_assert_int_eq(rec, 10);
    ck_assert_int_eq(freq, 1);
    ck_assert_int_eq(mon, 0);
    ck_assert_int_eq(r, 1 + 5 * 1 / 4); /* only customer 1 is worse */
    ck_assert_int_eq(m, 1 + 5 * 1 / 4);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 4, NULL, NULL, NULL, &r, &f, &m), CRM_OK);
    ck_assert_int_eq(r, 1 + 5 * 2 / 4);
    ck_assert_int_eq(f, 1 + 5 * 1 / 4);
    ck_assert_int_eq(m, 1 + 5 * 3 / 4);
    /* Mean per purchase: net / frequency, and the net itself without one. */
    ck_assert_int_eq(crm_rfm_set_monetary_mode(rfm, CRM_RFM_MONETARY_MEAN),
                     CRM_OK);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 1, NULL, NULL, &mon, NULL, NULL, NULL),
                     CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 1, NULL, NULL, &mon, NULL, NULL, NULL),
                     CRM_OK);
    ck_assert_int_eq(mon, -800);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_monetary_mean_rounds_down)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    int64_t mon;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    ck_assert_int_eq(crm_rfm_set_monetary_mode(rfm, CRM_RFM_MONETARY_MEAN), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 7, AS_OF - DAY, 100), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 7, AS_OF - DAY, 0), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 7, AS_OF - DAY, -200), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 8, AS_OF - DAY, 10), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 8, AS_OF - DAY, 11), CRM_OK);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 7, NULL, NULL, &mon, NULL, NULL, NULL),
                     CRM_OK);
    ck_assert_int_eq(mon, -50); /* -100 / 2 purchases (a 0 order counts) */
    ck_assert_int_eq(crm_rfm_lookup(rfm, 8, NULL, NULL, &mon, NULL, NULL, NULL),
                     CRM_OK);
    ck_assert_int_eq(mon, 10); /* floor(21 / 2) */
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_same_day_orders_in_day_mode_jst)
{
    /* 2024-01-01 08:00 and 20:00 JST; 2023-12-31T23:00Z and 11:00Z next day. */
    const int64_t jan1_0800_jst = INT64_C(1704063600);
    const int64_t jan1_2000_jst = INT64_C(1704106800);
    const int64_t as_of = INT64_C(1704207600); /* 2024-01-03 00:00 JST */
    int32_t offsets[2] = {540, 0};
    int64_t want_freq[2] = {1, 2}, want_rec[2] = {2, 1};
    crm_ctx *ctx = NULL;
    int k;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (k = 0; k < 2; k++) {
        crm_rfm *rfm = NULL;
        int64_t rec, freq;
        ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
        ck_assert_int_eq(crm_rfm_set_as_of(rfm, as_of), CRM_OK);
        ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, offsets[k]), CRM_OK);
        ck_assert_int_eq(crm_rfm_set_frequency_mode(rfm, CRM_RFM_FREQUENCY_DAYS),
                         CRM_OK);
        ck_assert_int_eq(crm_rfm_add_order(rfm, 5, jan1_0800_jst, 100), CRM_OK);
        ck_assert_int_eq(crm_rfm_add_order(rfm, 5, jan1_2000_jst, 100), CRM_OK);
        ck_assert_int_eq(crm_rfm_add_order(rfm, 5, jan1_2000_jst, 100), CRM_OK);
        ck_assert_int_eq(crm_rfm_add_order(rfm, 5, jan1_2000_jst, -50), CRM_OK);
        ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
        ck_assert_int_eq(crm_rfm_lookup(rfm, 5, &rec, &freq, NULL, NULL, NULL,
                                        NULL),
                         CRM_OK);
        ck_assert_int_eq(freq, want_freq[k]);
        ck_assert_int_eq(rec, want_rec[k]);
        /* Scoring twice (pairs already deduplicated) gives the same. */
        ck_assert_int_eq(crm_rfm_add_order(rfm, 5, jan1_0800_jst, 1), CRM_OK);
        ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
        ck_assert_int_eq(crm_rfm_lookup(rfm, 5, NULL, &freq, NULL, NULL, NULL,
                                        NULL),
                         CRM_OK);
        ck_assert_int_eq(freq, want_freq[k]);
        crm_rfm_free(rfm);
    }
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_thresholds_on_boundaries)
{
    const int64_t rt[4] = {7, 30, 90, 180}, ft[4] = {2, 3, 5, 8},
                  mt[4] = {1000, 5000, 10000, 50000};
    const int64_t days[6] = {0, 6, 7, 29, 30, 180};
    const int want_r[6] = {5, 5, 4, 4, 3, 1};
    const int64_t counts[6] = {1, 2, 3, 7, 8, 4};
    const int want_f[6] = {1, 2, 3, 4, 5, 3};
    const int64_t money[6] = {999, 1000, 4999, 5000, 50000, -1};
    const int want_m[6] = {1, 2, 2, 3, 5, 1};
    crm_ctx *ctx = NULL;
    crm_rfm *rfm = NULL;
    const int64_t noon = AS_OF + 12 * 3600;
    int64_t c;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, noon), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_RECENCY, rt, 4), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_FREQUENCY, ft, 4), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_thresholds(rfm, CRM_RFM_MONETARY, mt, 4), CRM_OK);
    for (c = 0; c < 6; c++)
        ck_assert_int_eq(crm_rfm_add_aggregate(rfm, c, noon - days[c] * DAY - 1,
                                               counts[c], money[c]),
                         CRM_OK);
    /* Only returns: r is 1 whatever the thresholds. */
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 99, 0, 0, -5), CRM_OK);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    for (c = 0; c < 6; c++) {
        int r, f, m;
        int64_t rec;
        ck_assert_int_eq(crm_rfm_lookup(rfm, c, &rec, NULL, NULL, &r, &f, &m),
                         CRM_OK);
        ck_assert_int_eq(rec, days[c]);
        ck_assert_int_eq(r, want_r[c]);
        ck_assert_int_eq(f, want_f[c]);
        ck_assert_int_eq(m, want_m[c]);
    }
    {
        int r, f;
        ck_assert_int_eq(crm_rfm_lookup(rfm, 99, NULL, NULL, NULL, &r, &f, NULL),
                         CRM_OK);
        ck_assert(r == 1 && f == 1);
    }
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

/* Quantile scores equal the formula computed naively, for every bins. */
START_TEST(test_quantile_matches_formula)
{
    crm_ctx *ctx = NULL;
    orderset o = make_orders(3000, 400, 7);
    unsigned bins;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (bins = 2; bins <= 10; bins++) {
        crm_rfm *rfm = new_rfm(ctx);
        result res;
        int64_t *rkey;
        size_t i;
        ck_assert_int_eq(crm_rfm_set_bins(rfm, bins), CRM_OK);
        if (bins % 2)
            ck_assert_int_eq(crm_rfm_set_monetary_mode(rfm, CRM_RFM_MONETARY_MEAN),
                             CRM_OK);
        if (bins == 6) /* wide monetary values: scored by sorting */
            for (i = 0; i < o.n; i++)
                o.amount[i] *= 1000;
        ck_assert_int_eq(crm_rfm_add_orders(rfm, o.id, o.at, o.amount, o.n),
                         CRM_OK);
        res = score_and_export(rfm);
        rkey = malloc(res.n * sizeof *rkey);
        for (i = 0; i < res.n; i++)
            rkey[i] = res.rec[i] < 0 ? INT64_MIN : -res.rec[i];
        for (i = 0; i < res.n; i++) {
            ck_assert_uint_eq(res.r[i], naive_score(rkey, res.n, i, bins));
            ck_assert_uint_eq(res.f[i], naive_score(res.freq, res.n, i, bins));
            ck_assert_uint_eq(res.m[i], naive_score(res.mon, res.n, i, bins));
        }
        free(rkey);
        result_free(&res);
        crm_rfm_free(rfm);
    }
    orders_free(&o);
    crm_ctx_free(ctx);
}
END_TEST

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The formula's score of every value, from a sorted copy (O(n log n)). */
static void formula_scores(const int64_t *v, size_t n, unsigned bins,
                           unsigned *score)
{
    int64_t *sorted = malloc(n * sizeof *sorted);
    size_t i;

    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_i64);
    for (i = 0; i < n; i++) {
        size_t lo = 0, hi = n; /* customers strictly worse: first >= v[i] */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] < v[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        score[i] = 1 + (unsigned)((uint64_t)bins * lo / n);
    }
    free(sorted);
}

/*
 * 15,000 aggregates of customers whose last purchase was over 65,535 days
 * before as_of and who bought over 65,535 times: bucket-sharing recency
 * and frequency values, where cuts fall with 5 bins.
 */
static void add_ancient_heavy_customers(crm_rfm *rfm)
{
    enum { N = 15000 };
    int64_t *id = malloc(N * sizeof *id), *last = malloc(N * sizeof *last);
    int64_t *count = malloc(N * sizeof *count), *total = malloc(N * sizeof *total);
    size_t i;

    for (i = 0; i < N; i++) {
        id[i] = INT64_C(1) << 40 | (int64_t)i;
        last[i] = AS_OF - (66000 + (int64_t)(i % 3000)) * DAY;
        count[i] = 65535 + (int64_t)(i % 5000);
        total[i] = (int64_t)(i % 7000) * 13;
    }
    ck_assert_int_eq(crm_rfm_add_aggregates(rfm, id, last, count, total, N),
                     CRM_OK);
    free(id);
    free(last);
    free(count);
    free(total);
}

/*
 * Moves the net sum of customer 0, whose slot is the table's spare one,
 * to the value just below the third cut of 10 bins (0-based rank q among
 * all customers), so that a gather that missed customer 0 would read the
 * cut one key too far. The cut lies in a bucket of many values, whose
 * keys are gathered.
 */
static void move_customer_zero_below_a_cut(crm_rfm *rfm)
{
    result res = score_and_export(rfm);
    int64_t *others = malloc(res.n * sizeof *others);
    int64_t last = 0, count = 0, id = 0, delta = 0;
    size_t q = (3 * res.n + 9) / 10 - 1, i, n = 0;

    for (i = 0; i < res.n; i++) {
        if (res.id[i] == 0)
            delta = -res.mon[i];
        else
            others[n++] = res.mon[i];
    }
    ck_assert_uint_eq(n, res.n - 1);
    qsort(others, n, sizeof *others, cmp_i64);
    ck_assert_int_gt(others[q - 1], 4096);
    ck_assert_int_lt(others[q - 1], others[q]);
    delta += others[q - 1];
    ck_assert_int_eq(crm_rfm_add_aggregates(rfm, &id, &last, &count, &delta,
                                            1),
                     CRM_OK);
    free(others);
    result_free(&res);
}

/*
 * With more customers than the library sorts outright (32,768), cuts come
 * from histograms and gathered keys: 40,000 customers, with amounts wide
 * enough for monetary cuts to fall in buckets of many values, and then
 * with recency and frequency cuts in buckets of many values too. One
 * round includes customer 0 with a gathered monetary key.
 */
START_TEST(test_quantile_many_customers)
{
    static const unsigned bins_of[4] = {3, 5, 10, 5};
    crm_ctx *ctx = NULL;
    orderset o = make_orders(200000, 40000, 9);
    size_t i, k;

    for (i = 0; i < o.n; i++)
        o.amount[i] = o.amount[i] * 977 + (int64_t)(i % 1000);
    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (k = 0; k < 4; k++) {
        crm_rfm *rfm = new_rfm(ctx);
        result res;
        int64_t *rkey;
        unsigned *want;
        ck_assert_int_eq(crm_rfm_set_bins(rfm, bins_of[k]), CRM_OK);
        if (k == 1)
            ck_assert_int_eq(crm_rfm_set_monetary_mode(rfm, CRM_RFM_MONETARY_MEAN),
                             CRM_OK);
        ck_assert_int_eq(crm_rfm_add_orders(rfm, o.id, o.at, o.amount, o.n),
                         CRM_OK);
        if (k == 2)
            move_customer_zero_below_a_cut(rfm);
        if (k == 3)
            add_ancient_heavy_customers(rfm);
        res = score_and_export(rfm);
        ck_assert_uint_gt(res.n, 32768);
        rkey = malloc(res.n * sizeof *rkey);
        want = malloc(res.n * sizeof *want);
        for (i = 0; i < res.n; i++)
            rkey[i] = res.rec[i] < 0 ? INT64_MIN : -res.rec[i];
        formula_scores(rkey, res.n, bins_of[k], want);
        for (i = 0; i < res.n; i++)
            ck_assert_uint_eq(res.r[i], want[i]);
        formula_scores(res.freq, res.n, bins_of[k], want);
        for (i = 0; i < res.n; i++)
            ck_assert_uint_eq(res.f[i], want[i]);
        formula_scores(res.mon, res.n, bins_of[k], want);
        for (i = 0; i < res.n; i++)
            ck_assert_uint_eq(res.m[i], want[i]);
        free(rkey);
        free(want);
        result_free(&res);
        crm_rfm_free(rfm);
    }
    orders_free(&o);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_window_and_future_orders_ignored)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    int64_t freq, mon;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_window(rfm, 30 * DAY), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - 30 * DAY, 10), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - 30 * DAY - 1, 20), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF, 40), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - 1, 80), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 2, AS_OF + 5, 80), CRM_OK);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    ck_assert_uint_eq(crm_rfm_customer_count(rfm), 1);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 1, NULL, &freq, &mon, NULL, NULL, NULL),
                     CRM_OK);
    ck_assert_int_eq(freq, 2);
    ck_assert_int_eq(mon, 90);
    ck_assert_int_eq(crm_rfm_lookup(rfm, 2, NULL, NULL, NULL, NULL, NULL, NULL),
                     CRM_ENOTFOUND);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Input forms and order ------------------------------------------------- */

static result run_bulk(crm_ctx *ctx, const orderset *o, crm_rfm_frequency_mode mode)
{
    crm_rfm *rfm = NULL;
    result res;

    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, 540), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_frequency_mode(rfm, mode), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, o->id, o->at, o->amount, o->n), CRM_OK);
    res = score_and_export(rfm);
    crm_rfm_free(rfm);
    return res;
}

START_TEST(test_bulk_per_row_and_shuffled_identical)
{
    crm_ctx *ctx = NULL;
    orderset o = make_orders(5000, 700, 11);
    int mode;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (mode = 0; mode < 2; mode++) {
        result bulk = run_bulk(ctx, &o, (crm_rfm_frequency_mode)mode), rows,
               shuffled;
        crm_rfm *rfm = NULL;
        size_t i;
        ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
        ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, 540), CRM_OK);
        ck_assert_int_eq(crm_rfm_set_frequency_mode(rfm, (crm_rfm_frequency_mode)mode),
                         CRM_OK);
        ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF), CRM_OK);
        for (i = 0; i < o.n; i++)
            ck_assert_int_eq(crm_rfm_add_order(rfm, o.id[i], o.at[i], o.amount[i]),
                             CRM_OK);
        rows = score_and_export(rfm);
        assert_results_equal(&bulk, &rows);
        crm_rfm_free(rfm);
        shuffle(&o, 99 + (uint64_t)mode);
        shuffled = run_bulk(ctx, &o, (crm_rfm_frequency_mode)mode);
        assert_results_equal(&bulk, &shuffled);
        result_free(&bulk);
        result_free(&rows);
        result_free(&shuffled);
    }
    orders_free(&o);
    crm_ctx_free(ctx);
}
END_TEST

/* Aggregates built from the export give the same results as the orders. */
START_TEST(test_aggregates_match_orders)
{
    crm_ctx *ctx = NULL;
    orderset o = make_orders(4000, 600, 21);
    result from_orders, from_aggs;
    int64_t *last, *count;
    crm_rfm *rfm = NULL;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    from_orders = run_bulk(ctx, &o, CRM_RFM_FREQUENCY_ORDERS);
    last = malloc(from_orders.n * sizeof *last);
    count = malloc(from_orders.n * sizeof *count);
    for (i = 0; i < from_orders.n; i++) {
        /* Any time on the right local (JST) day will do. */
        last[i] = AS_OF - from_orders.rec[i] * DAY - 32400;
        count[i] = from_orders.freq[i];
    }
    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_utc_offset(rfm, 540), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF), CRM_OK);
    /* In two halves, to exercise merging. */
    ck_assert_int_eq(crm_rfm_add_aggregates(rfm, from_orders.id, last, count,
                                            from_orders.mon, from_orders.n / 2),
                     CRM_OK);
    for (i = from_orders.n / 2; i < from_orders.n; i++)
        ck_assert_int_eq(crm_rfm_add_aggregate(rfm, from_orders.id[i], last[i],
                                               count[i], from_orders.mon[i]),
                         CRM_OK);
    from_aggs = score_and_export(rfm);
    assert_results_equal(&from_orders, &from_aggs);
    result_free(&from_orders);
    result_free(&from_aggs);
    free(last);
    free(count);
    crm_rfm_free(rfm);
    orders_free(&o);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_failed_batch_keeps_nothing)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    result before, after;
    int64_t id[4] = {1, 500, 2, 3}, at[4] = {AS_OF - DAY, AS_OF - 2, AS_OF - 3,
                                             INT64_MAX};
    int64_t amount[4] = {10, 20, 30, 40};
    orderset o = make_orders(2000, 300, 5);

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, o.id, o.at, o.amount, o.n), CRM_OK);
    before = score_and_export(rfm);
    /* A bad time in the last row: nothing of the call is kept. */
    ck_assert_int_eq(crm_rfm_add_orders(rfm, id, at, amount, 4), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "row 3"));
    after = score_and_export(rfm);
    assert_results_equal(&before, &after);
    result_free(&after);
    /* An overflowing net sum: CRM_EOVERFLOW and nothing kept. */
    at[3] = AS_OF - 5;
    amount[3] = INT64_MAX;
    id[3] = 1;
    ck_assert_int_eq(crm_rfm_add_orders(rfm, id, at, amount, 4), CRM_EOVERFLOW);
    after = score_and_export(rfm);
    assert_results_equal(&before, &after);
    result_free(&after);
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 1, AS_OF - 1, 1, INT64_MIN),
                     CRM_OK);
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 1, AS_OF - 1, 1, INT64_MIN),
                     CRM_EOVERFLOW);
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 1, AS_OF - 1, INT64_C(4294967295), 0),
                     CRM_EOVERFLOW);
    result_free(&before);
    orders_free(&o);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

/* A batch that creates many customers (growing the table) and then fails
 * leaves the fresh scores readable and unchanged, without rescoring. */
START_TEST(test_failed_batch_keeps_scores)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    orderset o = make_orders(3000, 500, 11), more = make_orders(20000, 9000, 12);
    result before, after;
    int64_t rec, freq, mon;
    int r, f, m;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, o.id, o.at, o.amount, o.n), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, INT64_MIN, AS_OF - DAY, 70), CRM_OK);
    before = score_and_export(rfm);
    more.id[0] = INT64_MIN;
    more.at[more.n - 1] = INT64_MIN; /* the last row is invalid */
    ck_assert_int_eq(crm_rfm_add_orders(rfm, more.id, more.at, more.amount, more.n),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_lookup(rfm, INT64_MIN, &rec, &freq, &mon, &r, &f, &m),
                     CRM_OK);
    ck_assert_int_eq(rec, 1);
    ck_assert_int_eq(freq, 1);
    ck_assert_int_eq(mon, 70);
    after = before;
    after.id = malloc(before.n * sizeof(int64_t));
    after.rec = malloc(before.n * sizeof(int64_t));
    after.freq = malloc(before.n * sizeof(int64_t));
    after.mon = malloc(before.n * sizeof(int64_t));
    after.r = malloc(before.n);
    after.f = malloc(before.n);
    after.m = malloc(before.n);
    ck_assert_uint_eq(crm_rfm_customer_count(rfm), before.n);
    ck_assert_int_eq(crm_rfm_export(rfm, after.id, after.rec, after.freq, after.mon,
                                    after.r, after.f, after.m, after.n),
                     CRM_OK);
    assert_results_equal(&before, &after);
    result_free(&before);
    result_free(&after);
    orders_free(&o);
    orders_free(&more);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Customers whose values outgrow a hash slot ------------------------------ */

/*
 * Orders of four customers: A buys 300 times (on 300 days) and returns 3
 * times, B's two same-day orders sum past INT32_MAX, C's return takes its
 * net below INT32_MIN, D buys twice. Shuffled.
 */
static orderset large_orders(void)
{
    orderset o = make_orders(310, 1, 1);
    size_t i;

    for (i = 0; i < 300; i++) {
        o.id[i] = 'A';
        o.at[i] = AS_OF - (int64_t)(i + 1) * DAY;
        o.amount[i] = 100;
    }
    for (; i < 303; i++) {
        o.id[i] = 'A';
        o.at[i] = AS_OF - 2 * DAY;
        o.amount[i] = -50;
    }
    o.id[303] = o.id[304] = 'B';
    o.at[303] = o.at[304] = AS_OF - 10 * DAY;
    o.amount[303] = o.amount[304] = INT64_C(2000000000);
    o.id[305] = o.id[306] = 'C';
    o.at[305] = o.at[306] = AS_OF - 20 * DAY;
    o.amount[305] = INT64_C(-3000000000);
    o.amount[306] = 10;
    for (i = 307; i < 310; i++) {
        o.id[i] = 'D';
        o.at[i] = AS_OF - (int64_t)(i - 300) * DAY;
        o.amount[i] = 1000;
    }
    o.amount[309] = -1000; /* D: two purchases, net 1000 */
    shuffle(&o, 7);
    return o;
}

static void assert_customer(crm_rfm *rfm, int64_t id, int64_t rec, int64_t freq,
                            int64_t mon)
{
    int64_t got_rec, got_freq, got_mon;
    int r, f, m;

    ck_assert_int_eq(crm_rfm_lookup(rfm, id, &got_rec, &got_freq, &got_mon, &r,
                                    &f, &m),
                     CRM_OK);
    ck_assert_int_eq(got_rec, rec);
    ck_assert_int_eq(got_freq, freq);
    ck_assert_int_eq(got_mon, mon);
}

/* The four customers' values (UTC; in days mode A has 300 purchase days
 * and B one). */
static void assert_large_customers(crm_rfm *rfm, int days)
{
    assert_customer(rfm, 'A', 1, 300, 300 * 100 - 150);
    assert_customer(rfm, 'B', 10, days ? 1 : 2, INT64_C(4000000000));
    assert_customer(rfm, 'C', 20, 1, INT64_C(-2999999990));
    assert_customer(rfm, 'D', 7, 2, 1000);
}

START_TEST(test_customers_outgrowing_their_slots)
{
    crm_ctx *ctx = NULL;
    orderset o = large_orders(), more = make_orders(20000, 9000, 12);
    result before, after;
    crm_rfm *rfm;
    int days;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (days = 0; days < 2; days++) {
        rfm = new_rfm(ctx);
        ck_assert_int_eq(crm_rfm_set_frequency_mode(
                             rfm, days ? CRM_RFM_FREQUENCY_DAYS
                                       : CRM_RFM_FREQUENCY_ORDERS),
                         CRM_OK);
        /* Two batches: the second merges into the first's customers. */
        ck_assert_int_eq(crm_rfm_add_orders(rfm, o.id, o.at, o.amount, 150),
                         CRM_OK);
        ck_assert_int_eq(crm_rfm_add_orders(rfm, o.id + 150, o.at + 150,
                                            o.amount + 150, o.n - 150),
                         CRM_OK);
        ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
        assert_large_customers(rfm, days);
        before = score_and_export(rfm);
        /* A failed batch that grows the table and takes D past 255
         * purchases and past INT32_MAX leaves everything as it was. */
        for (size_t i = 0; i < 400; i++) {
            more.id[i] = 'D';
            more.amount[i] = INT64_C(10000000);
        }
        more.at[more.n - 1] = INT64_MIN;
        ck_assert_int_eq(crm_rfm_add_orders(rfm, more.id, more.at, more.amount,
                                            more.n),
                         CRM_EINVAL);
        assert_large_customers(rfm, days);
        after = score_and_export(rfm);
        assert_results_equal(&before, &after);
        result_free(&before);
        result_free(&after);
        crm_rfm_free(rfm);
    }
    orders_free(&o);
    orders_free(&more);
    crm_ctx_free(ctx);
}
END_TEST

/* A customer as the naive model of test_random_batches keeps it. */
typedef struct model_customer {
    int seen;
    int64_t total, count, last_day; /* last_day: UTC day, -1 = none */
} model_customer;

/* Adds one row (an order, or an aggregate when `aggregate`) to the model. */
static void model_add(model_customer *c, int aggregate, int64_t at,
                      int64_t count, int64_t amount)
{
    int64_t day = at / DAY; /* times here are after 1970 */

    c->seen = 1;
    c->total += amount;
    if (aggregate) {
        c->count += count;
        if (count > 0 && day > c->last_day)
            c->last_day = day;
    } else if (amount >= 0) {
        c->count++;
        if (day > c->last_day)
            c->last_day = day;
    }
}

/*
 * Random batches of orders and aggregates over 40 customers (one of them
 * id 0), with amounts and counts that often take a customer past what its
 * slot holds, aggregates without purchases whose time is out of range,
 * and batches that fail on their last row: after each batch every
 * customer matches a naive model. Every seventh batch or so goes into an
 * emptied handle, half of those aggregates, which take their own loop
 * there.
 */
START_TEST(test_random_batches_match_model)
{
    enum { IDS = 40, ROWS = 60 };
    model_customer model[IDS], saved[IDS];
    int64_t id[ROWS], at[ROWS], count[ROWS], amount[ROWS];
    uint64_t seed = 4242;
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    int round;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    for (round = 0; round < 300; round++) {
        size_t n = 1 + rng_next(&seed) % ROWS, i, k;
        int fresh = round % 7 == 0;
        int aggregate = rng_next(&seed) % (fresh ? 2 : 4) == 0;
        int fail = rng_next(&seed) % 5 == 0;
        crm_status s;
        if (fresh) {
            ck_assert_int_eq(crm_rfm_clear(rfm), CRM_OK);
            memset(model, 0, sizeof model);
            for (k = 0; k < IDS; k++)
                model[k].last_day = -1;
        }
        memcpy(saved, model, sizeof model);
        for (i = 0; i < n; i++) {
            uint64_t big = rng_next(&seed) % 8;
            id[i] = ((int64_t)(rng_next(&seed) % IDS) - 14) * 7;
            at[i] = AS_OF - 1 - (int64_t)(rng_next(&seed) % (500 * DAY));
            count[i] = (int64_t)(rng_next(&seed) % (big ? 3 : 300));
            amount[i] = (int64_t)(rng_next(&seed) % 20000) - 2000;
            if (big == 0)
                amount[i] *= INT64_C(1000000); /* past int32 either way */
            if (aggregate && count[i] == 0 && big < 4)
                at[i] = INT64_MAX; /* no purchase: its time is not read */
            model_add(&model[id[i] / 7 + 14], aggregate, at[i], count[i],
                      amount[i]);
        }
        if (fail)
            at[n - 1] = aggregate ? AS_OF : INT64_MIN;
        if (fail && aggregate)
            count[n - 1] = 1;
        s = aggregate ? crm_rfm_add_aggregates(rfm, id, at, count, amount, n)
                      : crm_rfm_add_orders(rfm, id, at, amount, n);
        ck_assert_int_eq(s, fail ? CRM_EINVAL : CRM_OK);
        if (fail)
            memcpy(model, saved, sizeof model);
        ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
        for (k = 0; k < IDS; k++) {
            int64_t cid = ((int64_t)k - 14) * 7, rec, freq, mon;
            if (!model[k].seen) {
                ck_assert_int_eq(crm_rfm_lookup(rfm, cid, NULL, NULL, NULL,
                                                NULL, NULL, NULL),
                                 CRM_ENOTFOUND);
                continue;
            }
            ck_assert_int_eq(crm_rfm_lookup(rfm, cid, &rec, &freq, &mon, NULL,
                                            NULL, NULL),
                             CRM_OK);
            ck_assert_int_eq(mon, model[k].total);
            ck_assert_int_eq(freq, model[k].count);
            ck_assert_int_eq(rec, model[k].last_day < 0
                                      ? -1
                                      : AS_OF / DAY - model[k].last_day);
        }
    }
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Output ------------------------------------------------------------------ */

typedef struct visit_log {
    size_t calls, stop_at;
    int64_t last_id;
    int sorted;
} visit_log;

static int visit(void *user, int64_t id, int64_t rec, int64_t freq, int64_t mon,
                 int r, int f, int m)
{
    visit_log *log = user;

    (void)rec; (void)freq; (void)mon;
    if (log->calls > 0 && id <= log->last_id)
        log->sorted = 0;
    ck_assert(r >= 1 && r <= 5 && f >= 1 && f <= 5 && m >= 1 && m <= 5);
    log->last_id = id;
    return ++log->calls == log->stop_at;
}

START_TEST(test_export_lookup_foreach_grid)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    orderset o = make_orders(3000, 500, 3);
    visit_log log = {0, 0, 0, 1};
    uint64_t cells[25], groups[11], total_customers = 0;
    int64_t revenue[25], grevenue[11], total_revenue = 0, net = 0;
    result res;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, o.id, o.at, o.amount, o.n), CRM_OK);
    ck_assert_int_eq(crm_rfm_export(rfm, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL, 1000),
                     CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_grid(rfm, cells, revenue, 25), CRM_ESTATE);
    res = score_and_export(rfm);
    ck_assert_int_eq(crm_rfm_export(rfm, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL, res.n - 1),
                     CRM_EINVAL);
    for (i = 0; i < res.n; i++) {
        int64_t rec, freq, mon;
        int r, f, m;
        if (i > 0)
            ck_assert(res.id[i] > res.id[i - 1]);
        ck_assert_int_eq(crm_rfm_lookup(rfm, res.id[i], &rec, &freq, &mon, &r,
                                        &f, &m),
                         CRM_OK);
        ck_assert(rec == res.rec[i] && freq == res.freq[i] && mon == res.mon[i]);
        ck_assert(r == res.r[i] && f == res.f[i] && m == res.m[i]);
        net += res.mon[i];
    }
    ck_assert_int_eq(crm_rfm_lookup(rfm, 123456789, NULL, NULL, NULL, NULL,
                                    NULL, NULL),
                     CRM_ENOTFOUND);
    ck_assert_int_eq(crm_rfm_foreach(rfm, visit, &log), CRM_OK);
    ck_assert_uint_eq(log.calls, res.n);
    ck_assert(log.sorted);
    log.calls = 0;
    log.stop_at = 3;
    ck_assert_int_eq(crm_rfm_foreach(rfm, visit, &log), CRM_ECALLBACK);
    ck_assert_uint_eq(log.calls, 3);
    ck_assert_int_eq(crm_rfm_grid(rfm, cells, revenue, 24), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_grid(rfm, cells, revenue, 25), CRM_OK);
    for (i = 0; i < 25; i++) {
        total_customers += cells[i];
        total_revenue += revenue[i];
    }
    ck_assert_uint_eq(total_customers, res.n);
    ck_assert_int_eq(total_revenue, net);
    ck_assert_int_eq(crm_rfm_grid(rfm, NULL, NULL, 25), CRM_OK);
    ck_assert_int_eq(crm_rfm_group_summary(rfm, CRM_RFM_MAP_RF11, groups,
                                           grevenue, 10),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_group_summary(rfm, (crm_rfm_map)9, groups,
                                           grevenue, 11),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_group_summary(rfm, CRM_RFM_MAP_RF11, groups,
                                           grevenue, 11),
                     CRM_OK);
    total_customers = 0;
    total_revenue = 0;
    for (i = 0; i < 11; i++) {
        total_customers += groups[i];
        total_revenue += grevenue[i];
    }
    ck_assert_uint_eq(total_customers, res.n);
    ck_assert_int_eq(total_revenue, net);
    ck_assert_int_eq(crm_rfm_group_summary(rfm, CRM_RFM_MAP_JP4, groups,
                                           grevenue, 4),
                     CRM_OK);
    ck_assert_uint_eq(groups[0] + groups[1] + groups[2] + groups[3], res.n);
    ck_assert_int_eq(crm_rfm_set_bins(rfm, 4), CRM_OK);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_group_summary(rfm, CRM_RFM_MAP_JP4, groups,
                                           grevenue, 4),
                     CRM_ESTATE);
    ck_assert_int_eq(crm_rfm_grid(rfm, cells, revenue, 16), CRM_OK);
    result_free(&res);
    orders_free(&o);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_grid_revenue_overflow)
{
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    uint64_t cells[25];

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = new_rfm(ctx);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 1, AS_OF - DAY, INT64_MAX), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_order(rfm, 2, AS_OF - DAY, INT64_MAX), CRM_OK);
    ck_assert_int_eq(crm_rfm_score(rfm), CRM_OK);
    cells[0] = 77;
    ck_assert_int_eq(crm_rfm_grid(rfm, cells, NULL, 25), CRM_EOVERFLOW);
    ck_assert_uint_eq(cells[0], 77);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_segment_maps)
{
    static const char *const rf11_en[5][5] = {
        {"New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"},
        {"Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"},
        {"About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"},
        {"Hibernating", "Hibernating", "At risk", "At risk", "Can't lose"},
        {"Lost", "Lost", "At risk", "At risk", "Can't lose"},
    };
    static const char *const jp4_ja[5][5] = {
        {"新規顧客", "一般顧客", "一般顧客", "優良顧客", "優良顧客"},
        {"新規顧客", "一般顧客", "一般顧客", "優良顧客", "優良顧客"},
        {"一般顧客", "一般顧客", "一般顧客", "一般顧客", "一般顧客"},
        {"休眠顧客", "休眠顧客", "休眠顧客", "休眠顧客", "休眠顧客"},
        {"休眠顧客", "休眠顧客", "休眠顧客", "休眠顧客", "休眠顧客"},
    };
    int seen[11] = {0}, r, f, g;

    for (r = 1; r <= 5; r++) {
        for (f = 1; f <= 5; f++) {
            ck_assert_int_eq(crm_rfm_map_group(CRM_RFM_MAP_RF11, r, f, &g), CRM_OK);
            ck_assert_str_eq(crm_rfm_group_name(CRM_RFM_MAP_RF11, g, CRM_RFM_LANG_EN),
                             rf11_en[5 - r][f - 1]);
            seen[g] = 1;
            ck_assert_int_eq(crm_rfm_map_group(CRM_RFM_MAP_JP4, r, f, &g), CRM_OK);
            ck_assert_str_eq(crm_rfm_group_name(CRM_RFM_MAP_JP4, g, CRM_RFM_LANG_JA),
                             jp4_ja[5 - r][f - 1]);
        }
    }
    for (g = 0; g < 11; g++)
        ck_assert_msg(seen[g], "group %d is in no cell", g);
    ck_assert_uint_eq(crm_rfm_map_group_count(CRM_RFM_MAP_JP4), 4);
    ck_assert_uint_eq(crm_rfm_map_group_count(CRM_RFM_MAP_RF11), 11);
    ck_assert_uint_eq(crm_rfm_map_group_count((crm_rfm_map)5), 0);
    ck_assert_str_eq(crm_rfm_group_name(CRM_RFM_MAP_JP4, 0, CRM_RFM_LANG_EN), "Best");
    ck_assert_str_eq(crm_rfm_group_name(CRM_RFM_MAP_JP4, 3, CRM_RFM_LANG_EN), "Dormant");
    ck_assert_str_eq(crm_rfm_group_name(CRM_RFM_MAP_RF11, 10, CRM_RFM_LANG_JA), "離反顧客");
    ck_assert_ptr_null(crm_rfm_group_name(CRM_RFM_MAP_JP4, 4, CRM_RFM_LANG_EN));
    ck_assert_ptr_null(crm_rfm_group_name(CRM_RFM_MAP_JP4, -1, CRM_RFM_LANG_EN));
    ck_assert_ptr_null(crm_rfm_group_name(CRM_RFM_MAP_JP4, 0, (crm_rfm_lang)2));
    ck_assert_ptr_null(crm_rfm_group_name((crm_rfm_map)2, 0, CRM_RFM_LANG_EN));
    ck_assert_int_eq(crm_rfm_map_group(CRM_RFM_MAP_JP4, 0, 1, &g), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_map_group(CRM_RFM_MAP_JP4, 1, 6, &g), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_map_group((crm_rfm_map)3, 1, 1, &g), CRM_EINVAL);
    ck_assert_int_eq(crm_rfm_map_group(CRM_RFM_MAP_JP4, 1, 1, NULL), CRM_EINVAL);
}
END_TEST

/* ---- Allocation failures --------------------------------------------------- */

typedef struct fixture {
    crm_ctx *ctx;
    crm_rfm *rfm;
    orderset o;
    int mode; /* what the sweep runs */
    result expected;
} fixture;

enum { RUN_NEW, RUN_RESERVE, RUN_ORDERS, RUN_ORDERS_AGAIN, RUN_DAYS, RUN_SCORE,
       RUN_SCORE_DAYS, RUN_EXPORT, RUN_FOREACH };

static int sweep_mode;

static int count_visit(void *user, int64_t id, int64_t rec, int64_t freq,
                       int64_t mon, int r, int f, int m)
{
    (void)id; (void)rec; (void)freq; (void)mon; (void)r; (void)f; (void)m;
    ++*(size_t *)user;
    return 0;
}

static void *fx_setup(crm_ctx *ctx)
{
    fixture *fx = calloc(1, sizeof *fx);

    fx->ctx = ctx;
    fx->mode = sweep_mode;
    fx->o = make_orders(600, 150, 17);
    /* Every other row is one customer's: 300 purchases, crossing the 255 a
     * slot holds inside the swept call, and one amount past INT32_MAX. */
    for (size_t i = 0; i < fx->o.n; i += 2) {
        fx->o.id[i] = 777777;
        fx->o.amount[i] = i == 500 ? INT64_C(3000000000) : 100;
    }
    if (fx->mode == RUN_NEW)
        return fx;
    ck_assert_int_eq(crm_rfm_new(ctx, &fx->rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_utc_offset(fx->rfm, 540), CRM_OK);
    if (fx->mode == RUN_DAYS || fx->mode == RUN_SCORE_DAYS)
        ck_assert_int_eq(crm_rfm_set_frequency_mode(fx->rfm, CRM_RFM_FREQUENCY_DAYS),
                         CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(fx->rfm, AS_OF), CRM_OK);
    if (fx->mode == RUN_ORDERS_AGAIN) {
        /* Half the rows first: the swept call then merges into them. */
        ck_assert_int_eq(crm_rfm_add_orders(fx->rfm, fx->o.id, fx->o.at,
                                            fx->o.amount, fx->o.n / 2),
                         CRM_OK);
    }
    if (fx->mode >= RUN_SCORE) {
        ck_assert_int_eq(crm_rfm_add_orders(fx->rfm, fx->o.id, fx->o.at,
                                            fx->o.amount, fx->o.n),
                         CRM_OK);
    }
    if (fx->mode >= RUN_EXPORT)
        ck_assert_int_eq(crm_rfm_score(fx->rfm), CRM_OK);
    return fx;
}

static crm_status fx_run(void *p)
{
    fixture *fx = p;
    crm_status s;
    size_t n = fx->o.n, visits = 0;
    int64_t *ids;

    switch (fx->mode) {
    case RUN_NEW:
        return crm_rfm_new(fx->ctx, &fx->rfm);
    case RUN_RESERVE:
        s = crm_rfm_reserve(fx->rfm, 5000);
        if (s == CRM_OK)
            s = crm_rfm_add_orders(fx->rfm, fx->o.id, fx->o.at, fx->o.amount, n);
        return s;
    case RUN_ORDERS:
    case RUN_DAYS:
        return crm_rfm_add_orders(fx->rfm, fx->o.id, fx->o.at, fx->o.amount, n);
    case RUN_ORDERS_AGAIN:
        return crm_rfm_add_orders(fx->rfm, fx->o.id + n / 2, fx->o.at + n / 2,
                                  fx->o.amount + n / 2, n - n / 2);
    case RUN_SCORE:
    case RUN_SCORE_DAYS:
        return crm_rfm_score(fx->rfm);
    case RUN_EXPORT:
        ids = malloc(n * sizeof *ids);
        s = crm_rfm_export(fx->rfm, ids, NULL, NULL, NULL, NULL, NULL, NULL, n);
        free(ids);
        return s;
    default:
        return crm_rfm_foreach(fx->rfm, count_visit, &visits);
    }
}

static void fx_verify(void *p)
{
    fixture *fx = p;
    result got, want;
    crm_ctx *ref_ctx;

    if (fx->mode == RUN_NEW) {
        ck_assert_ptr_nonnull(fx->rfm);
        ck_assert_uint_eq(crm_rfm_customer_count(fx->rfm), 0);
        return;
    }
    got = score_and_export(fx->rfm);
    ck_assert_int_eq(crm_ctx_new(&ref_ctx), CRM_OK);
    want = run_bulk(ref_ctx, &fx->o,
                    (fx->mode == RUN_DAYS || fx->mode == RUN_SCORE_DAYS)
                        ? CRM_RFM_FREQUENCY_DAYS
                        : CRM_RFM_FREQUENCY_ORDERS);
    crm_ctx_free(ref_ctx);
    ck_assert_uint_eq(got.n, want.n);
    ck_assert(memcmp(got.id, want.id, got.n * 8) == 0);
    ck_assert(memcmp(got.freq, want.freq, got.n * 8) == 0);
    ck_assert(memcmp(got.mon, want.mon, got.n * 8) == 0);
    result_free(&got);
    result_free(&want);
}

static void fx_teardown(void *p)
{
    fixture *fx = p;

    crm_rfm_free(fx->rfm);
    orders_free(&fx->o);
    free(fx);
}

static void sweep(int mode)
{
    test_sweep s = {fx_setup, fx_run, fx_verify, fx_teardown};

    sweep_mode = mode;
    ck_assert_uint_gt(test_sweep_alloc_failures(&s), 0);
}

START_TEST(test_alloc_failures_new) { sweep(RUN_NEW); }
END_TEST
START_TEST(test_alloc_failures_reserve) { sweep(RUN_RESERVE); }
END_TEST
START_TEST(test_alloc_failures_add_orders) { sweep(RUN_ORDERS); }
END_TEST
START_TEST(test_alloc_failures_add_orders_merge) { sweep(RUN_ORDERS_AGAIN); }
END_TEST
START_TEST(test_alloc_failures_add_orders_days) { sweep(RUN_DAYS); }
END_TEST
START_TEST(test_alloc_failures_score) { sweep(RUN_SCORE); }
END_TEST
START_TEST(test_alloc_failures_score_days) { sweep(RUN_SCORE_DAYS); }
END_TEST
START_TEST(test_alloc_failures_export) { sweep(RUN_EXPORT); }
END_TEST
START_TEST(test_alloc_failures_foreach) { sweep(RUN_FOREACH); }
END_TEST

/* Aggregates: their own sweep, with a check of the merged values. */
static void *agg_setup(crm_ctx *ctx)
{
    crm_rfm *rfm = NULL;

    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, AS_OF), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_aggregate(rfm, 3, AS_OF - 9 * DAY, 2, 50), CRM_OK);
    return rfm;
}

static crm_status agg_run(void *p)
{
    static const int64_t id[5] = {1, 2, 3, 4, 5};
    static const int64_t last[5] = {AS_OF - DAY, AS_OF - 2 * DAY, AS_OF - DAY,
                                    0, AS_OF - 5 * DAY};
    static const int64_t count[5] = {1, 2, 3, 0, 4};
    static const int64_t total[5] = {10, 20, 30, -40, 50};

    return crm_rfm_add_aggregates(p, id, last, count, total, 5);
}

static void agg_verify(void *p)
{
    int64_t rec, freq, mon;

    ck_assert_int_eq(crm_rfm_score(p), CRM_OK);
    ck_assert_uint_eq(crm_rfm_customer_count(p), 5);
    ck_assert_int_eq(crm_rfm_lookup(p, 3, &rec, &freq, &mon, NULL, NULL, NULL),
                     CRM_OK);
    ck_assert(rec == 1 && freq == 5 && mon == 80);
}

static void agg_teardown(void *p)
{
    crm_rfm_free(p);
}

START_TEST(test_alloc_failures_add_aggregates)
{
    test_sweep s = {agg_setup, agg_run, agg_verify, agg_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&s), 0);
}
END_TEST

/* ---- CDNOW reference data ------------------------------------------------- */

typedef struct cdnow {
    size_t n;
    int64_t *id, *at, *amount;
} cdnow;

/* Day number by counting whole years and months: slow and obvious. */
static int64_t days_since_1970(int64_t y, int64_t mo, int64_t d)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
    int64_t days = 0, year, m;

    for (year = 1970; year < y; year++)
        days += (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 366 : 365;
    for (m = 1; m < mo; m++)
        days += month_days[m - 1] + (m == 2 && y % 4 == 0 && y % 100 != 0);
    return days + d - 1;
}

/* Reads "id YYYYMMDD quantity dollars" rows; amounts in cents. */
static int cdnow_load(const char *path, cdnow *c)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t cap = 80000;

    if (!f)
        return -1;
    c->n = 0;
    c->id = malloc(cap * 8);
    c->at = malloc(cap * 8);
    c->amount = malloc(cap * 8);
    while (fgets(line, sizeof line, f)) {
        long long id, date, qty;
        double dollars;
        int64_t y, mo, d;
        if (sscanf(line, "%lld %lld %lld %lf", &id, &date, &qty, &dollars) != 4)
            continue;
        ck_assert_uint_lt(c->n, cap);
        y = date / 10000;
        mo = (date / 100) % 100;
        d = date % 100;
        c->at[c->n] = days_since_1970(y, mo, d) * DAY + 12 * 3600;
        c->id[c->n] = id;
        c->amount[c->n] = (int64_t)(dollars * 100 + (dollars >= 0 ? 0.5 : -0.5));
        c->n++;
    }
    fclose(f);
    return 0;
}

typedef struct cust_ref {
    int64_t id, last, freq, mon;
} cust_ref;

static int cmp_ref(const void *a, const void *b)
{
    const cust_ref *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

START_TEST(test_cdnow_reference)
{
    const char *dir = test_reference_data_dir();
    char path[1024];
    cdnow c;
    cust_ref *ref;
    size_t nref = 0, i, j;
    int64_t as_of = INT64_C(899251200); /* 1998-07-01T00:00:00Z */
    int64_t *key;
    crm_ctx *ctx = NULL;
    crm_rfm *rfm;
    result res;

    if (!dir) {
        printf("test_cdnow_reference: skipped, CRM_REFERENCE_DATA is not set\n");
        return;
    }
    snprintf(path, sizeof path, "%s/cdnow_master.txt", dir);
    if (cdnow_load(path, &c) != 0) {
        printf("test_cdnow_reference: skipped, cannot open %s\n", path);
        return;
    }
    ck_assert_uint_eq(c.n, 69659);
    /* The straightforward recomputation: one pass per row into a sorted list. */
    ref = calloc(c.n, sizeof *ref);
    for (i = 0; i < c.n; i++) {
        ref[i].id = c.id[i];
        ref[i].last = c.at[i];
        ref[i].mon = c.amount[i];
        ref[i].freq = c.amount[i] >= 0;
    }
    qsort(ref, c.n, sizeof *ref, cmp_ref);
    for (i = 0; i < c.n; i++) {
        if (nref > 0 && ref[nref - 1].id == ref[i].id) {
            cust_ref *r = &ref[nref - 1];
            if (ref[i].freq && ref[i].last > r->last)
                r->last = ref[i].last;
            r->freq += ref[i].freq;
            r->mon += ref[i].mon;
        } else {
            ref[nref++] = ref[i];
        }
    }
    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    rfm = NULL;
    ck_assert_int_eq(crm_rfm_new(ctx, &rfm), CRM_OK);
    ck_assert_int_eq(crm_rfm_set_as_of(rfm, as_of), CRM_OK);
    ck_assert_int_eq(crm_rfm_add_orders(rfm, c.id, c.at, c.amount, c.n), CRM_OK);
    res = score_and_export(rfm);
    ck_assert_uint_eq(res.n, nref);
    ck_assert_uint_eq(nref, 23570);
    key = malloc(nref * sizeof *key);
    for (i = 0; i < nref; i++) {
        ck_assert_int_eq(res.id[i], ref[i].id);
        ck_assert_int_eq(res.freq[i], ref[i].freq);
        ck_assert_int_eq(res.mon[i], ref[i].mon);
        ck_assert_int_eq(res.rec[i], as_of / DAY - ref[i].last / DAY);
    }
    /* Scores: count strictly worse customers in a sorted copy. */
    for (j = 0; j < 3; j++) {
        int64_t *sorted = malloc(nref * sizeof *sorted);
        const uint8_t *got = j == 0 ? res.r : j == 1 ? res.f : res.m;
        for (i = 0; i < nref; i++)
            key[i] = j == 0 ? ref[i].last / DAY : j == 1 ? ref[i].freq : ref[i].mon;
        memcpy(sorted, key, nref * sizeof *sorted);
        qsort(sorted, nref, sizeof *sorted, cmp_i64);
        for (i = 0; i < nref; i++) {
            size_t lo = 0, hi = nref;
            while (lo < hi) { /* first element >= key[i] = number worse */
                size_t mid = lo + (hi - lo) / 2;
                if (sorted[mid] < key[i])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            ck_assert_uint_eq(got[i], 1 + 5 * lo / nref);
        }
        free(sorted);
    }
    free(key);
    result_free(&res);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
    free(ref);
    free(c.id);
    free(c.at);
    free(c.amount);
}
END_TEST

static Suite *rfm_suite(void)
{
    Suite *s = suite_create("rfm");
    TCase *tc = tcase_create("rfm");

    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_new_free_and_null_arguments);
    tcase_add_test(tc, test_options_out_of_range);
    tcase_add_test(tc, test_sixty_percent_single_order);
    tcase_add_test(tc, test_all_values_equal_and_one_customer);
    tcase_add_test(tc, test_empty_input);
    tcase_add_test(tc, test_returns_and_net_below_zero);
    tcase_add_test(tc, test_monetary_mean_rounds_down);
    tcase_add_test(tc, test_same_day_orders_in_day_mode_jst);
    tcase_add_test(tc, test_thresholds_on_boundaries);
    tcase_add_test(tc, test_quantile_matches_formula);
    tcase_add_test(tc, test_quantile_many_customers);
    tcase_add_test(tc, test_window_and_future_orders_ignored);
    tcase_add_test(tc, test_bulk_per_row_and_shuffled_identical);
    tcase_add_test(tc, test_aggregates_match_orders);
    tcase_add_test(tc, test_failed_batch_keeps_nothing);
    tcase_add_test(tc, test_failed_batch_keeps_scores);
    tcase_add_test(tc, test_customers_outgrowing_their_slots);
    tcase_add_test(tc, test_random_batches_match_model);
    tcase_add_test(tc, test_export_lookup_foreach_grid);
    tcase_add_test(tc, test_grid_revenue_overflow);
    tcase_add_test(tc, test_segment_maps);
    tcase_add_test(tc, test_alloc_failures_new);
    tcase_add_test(tc, test_alloc_failures_reserve);
    tcase_add_test(tc, test_alloc_failures_add_orders);
    tcase_add_test(tc, test_alloc_failures_add_orders_merge);
    tcase_add_test(tc, test_alloc_failures_add_orders_days);
    tcase_add_test(tc, test_alloc_failures_add_aggregates);
    tcase_add_test(tc, test_alloc_failures_score);
    tcase_add_test(tc, test_alloc_failures_score_days);
    tcase_add_test(tc, test_alloc_failures_export);
    tcase_add_test(tc, test_alloc_failures_foreach);
    tcase_add_test(tc, test_cdnow_reference);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rfm_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
