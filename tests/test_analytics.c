/*
 * Check suite for the customer-value analytics of include/crm/rfm.h
 * (deciles, F2, repeat rate, cohorts, CPM). Every expected figure below is
 * computed by hand from the listed orders.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/civil.h"
#include "crm/rfm.h"
#include "test_util.h"

#define JST 540
#define MAX_ROWS 256

/* A small order table built row by row. */
typedef struct table {
    int64_t id[MAX_ROWS], at[MAX_ROWS], amount[MAX_ROWS];
    size_t n;
} table;

/* Unix time of a JST wall-clock time. */
static int64_t jst(int64_t y, unsigned m, unsigned d, int hh, int mm)
{
    return crm_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 -
           JST * 60;
}

/* Unix time of JST noon on local day `day`. */
static int64_t noon(int64_t day)
{
    return crm_local_midnight(day, JST) + 12 * 3600;
}

static void add(table *t, int64_t id, int64_t at, int64_t amount)
{
    ck_assert_uint_lt(t->n, MAX_ROWS);
    t->id[t->n] = id;
    t->at[t->n] = at;
    t->amount[t->n++] = amount;
}

static crm_analytics *build(crm_ctx *ctx, const table *t, int64_t as_of)
{
    crm_analytics *a = NULL;

    ck_assert_msg(crm_analytics_new(ctx, t->id, t->at, t->amount, t->n, as_of,
                                    JST, &a) == CRM_OK,
                  "%s", crm_ctx_errmsg(ctx));
    return a;
}

static crm_ctx *new_ctx(void)
{
    crm_ctx *ctx = NULL;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    return ctx;
}

/* ---- deciles ----------------------------------------------------------- */

START_TEST(test_deciles_distinct_spend)
{
    crm_ctx *ctx = new_ctx();
    table t = {0};
    uint64_t customers[10];
    int64_t revenue[10];
    double share[10];
    int32_t decile;
    crm_analytics *a;
    int i;

    /* Customers 1..20 spend 1..20 yen: two per decile, top spenders first. */
    for (i = 1; i <= 20; i++)
        add(&t, i, jst(2024, 1, 10, 12, 0), i);
    a = build(ctx, &t, jst(2024, 3, 1, 0, 0));
    ck_assert_int_eq(crm_analytics_deciles(a, customers, revenue, share), CRM_OK);
    for (i = 0; i < 10; i++) {
        ck_assert_uint_eq(customers[i], 2);
        ck_assert_int_eq(revenue[i], (20 - 2 * i) + (19 - 2 * i));
        ck_assert_double_eq_tol(share[i], (double)revenue[i] / 210.0, 1e-12);
    }
    ck_assert_int_eq(crm_analytics_customer_decile(a, 20, &decile), CRM_OK);
    ck_assert_int_eq(decile, 1);
    ck_assert_int_eq(crm_analytics_customer_decile(a, 1, &decile), CRM_OK);
    ck_assert_int_eq(decile, 10);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_deciles_never_split_ties)
{
    crm_ctx *ctx = new_ctx();
    table t = {0};
    uint64_t customers[10];
    int64_t revenue[10];
    int32_t decile;
    crm_analytics *a;

    /* Spends 100, 100, 100, 50, 10 (N = 5): h = 0 -> decile 1 for all
     * three ties; 50 has h = 3 -> 1 + 30/5 = 7; 10 has h = 4 -> 9. */
    add(&t, 1, jst(2024, 1, 5, 9, 0), 100);
    add(&t, 2, jst(2024, 1, 6, 9, 0), 60);
    add(&t, 2, jst(2024, 1, 7, 9, 0), 40);
    add(&t, 3, jst(2024, 1, 8, 9, 0), 100);
    add(&t, 4, jst(2024, 1, 9, 9, 0), 50);
    add(&t, 5, jst(2024, 1, 9, 9, 0), 10);
    a = build(ctx, &t, jst(2024, 3, 1, 0, 0));
    ck_assert_int_eq(crm_analytics_deciles(a, customers, revenue, NULL), CRM_OK);
    ck_assert_uint_eq(customers[0], 3);
    ck_assert_int_eq(revenue[0], 300);
    ck_assert_uint_eq(customers[6], 1);
    ck_assert_int_eq(revenue[6], 50);
    ck_assert_uint_eq(customers[8], 1);
    ck_assert_int_eq(revenue[8], 10);
    ck_assert_uint_eq(customers[1] + customers[2] + customers[3] + customers[4] +
                          customers[5] + customers[7] + customers[9],
                      0);
    ck_assert_int_eq(crm_analytics_customer_decile(a, 2, &decile), CRM_OK);
    ck_assert_int_eq(decile, 1);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/* Every customer's decile is 1 + floor(10 * h / N), h counting strictly
 * higher revenues: many ties, negative revenues, an uneven N. */
START_TEST(test_deciles_match_definition)
{
    enum { N = 137 };
    crm_ctx *ctx = new_ctx();
    static table t;
    int64_t spend[N];
    uint64_t seed = 7;
    size_t i, j;
    crm_analytics *a;

    t.n = 0;
    for (i = 0; i < N; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        spend[i] = 100 * (int64_t)(1 + (seed >> 33) % 9);
        add(&t, (int64_t)i * 1000 - 50000, jst(2024, 1, 5, 9, 0), spend[i]);
        if (seed >> 20 & 1) {
            add(&t, (int64_t)i * 1000 - 50000, jst(2024, 1, 6, 9, 0), -250);
            spend[i] -= 250;
        }
    }
    a = build(ctx, &t, jst(2024, 3, 1, 0, 0));
    for (i = 0; i < N; i++) {
        size_t higher = 0;
        int32_t decile;

        for (j = 0; j < N; j++)
            higher += spend[j] > spend[i];
        ck_assert_int_eq(crm_analytics_customer_decile(
                             a, (int64_t)i * 1000 - 50000, &decile),
                         CRM_OK);
        ck_assert_int_eq(decile, (int32_t)(1 + 10 * higher / N));
    }
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_returns_and_as_of)
{
    crm_ctx *ctx = new_ctx();
    table t = {0};
    int64_t as_of = jst(2024, 3, 1, 0, 0), revenue, returns_revenue;
    uint64_t customers, returns_only, ignored, repeaters;
    uint64_t counts[10];
    int32_t decile;
    double rate;
    crm_analytics *a;

    add(&t, 1, jst(2024, 1, 5, 9, 0), 1000);  /* purchase ... */
    add(&t, 1, jst(2024, 1, 20, 9, 0), -300); /* ... and a return: not a repeat */
    add(&t, 2, jst(2024, 1, 8, 9, 0), -500);  /* returns only */
    add(&t, 3, jst(2024, 1, 9, 9, 0), 200);
    add(&t, 3, jst(2024, 1, 10, 9, 0), -500); /* net -300, still a customer */
    add(&t, 4, as_of, 999);                    /* at as_of: ignored */
    add(&t, 4, as_of + 86400, 999);            /* after as_of: ignored */
    add(&t, 5, as_of - 1, 70);                 /* last counted second */
    add(&t, 6, jst(2024, 1, 9, 9, 0), 0);      /* zero amounts are ignored */
    a = build(ctx, &t, as_of);
    ck_assert_int_eq(crm_analytics_totals(a, &customers, &revenue, &returns_only,
                                          &returns_revenue, &ignored),
                     CRM_OK);
    ck_assert_uint_eq(customers, 3);
    ck_assert_int_eq(revenue, 700 - 300 + 70);
    ck_assert_uint_eq(returns_only, 1);
    ck_assert_int_eq(returns_revenue, -500);
    ck_assert_uint_eq(ignored, 2);
    ck_assert_int_eq(crm_analytics_totals(a, NULL, NULL, NULL, NULL, NULL), CRM_OK);
    ck_assert_int_eq(crm_analytics_repeat_rate(a, &customers, &repeaters, &rate),
                     CRM_OK);
    ck_assert_uint_eq(repeaters, 0);
    ck_assert_double_eq(rate, 0.0);
    ck_assert_int_eq(crm_analytics_customer_decile(a, 2, &decile), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_analytics_customer_decile(a, 4, &decile), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_analytics_customer_decile(a, 6, &decile), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_analytics_customer_decile(a, 3, &decile), CRM_OK);
    ck_assert_int_eq(decile, 7); /* h = 2 of N = 3: 1 + 20/3 */
    ck_assert_int_eq(crm_analytics_deciles(a, counts, NULL, NULL), CRM_OK);
    ck_assert_uint_eq(counts[0] + counts[3] + counts[6], 3);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- F2 and repeat rate ------------------------------------------------ */

/* as_of is JST midnight starting day A = 2024-03-01; N = 30. */
static crm_analytics *f2_fixture(crm_ctx *ctx)
{
    int64_t A = crm_days_from_civil(2024, 3, 1);
    table t = {0};

    add(&t, 1, noon(A - 31), 100); /* observed A - d1 = 31 > 30: eligible */
    add(&t, 1, noon(A - 1), 100);  /* gap 30 <= 30: converted */
    add(&t, 2, noon(A - 30), 100); /* A - d1 = 30: censored ... */
    add(&t, 2, noon(A - 25), 100); /* ... although it bought again */
    add(&t, 3, noon(A - 100), 100);
    add(&t, 3, noon(A - 69), 100); /* gap 31: not within 30, within 60 */
    add(&t, 4, noon(A - 100), 100);
    add(&t, 4, noon(A - 100) + 3600, 100); /* same day: not a second purchase */
    add(&t, 5, noon(A - 100), 100);
    add(&t, 5, noon(A - 100) + 60, 100);
    add(&t, 5, noon(A - 90), 100); /* gap 10: converted */
    return build(ctx, &t, crm_local_midnight(A, JST));
}

START_TEST(test_f2_censoring_boundaries)
{
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = f2_fixture(ctx);
    uint64_t e, c, z, ce[3], cc[3], cz[3], customers, repeaters;
    double rate;

    ck_assert_int_eq(crm_analytics_f2(a, 30, &e, &c, &z, &rate), CRM_OK);
    ck_assert_uint_eq(e, 4);
    ck_assert_uint_eq(c, 2);
    ck_assert_uint_eq(z, 1);
    ck_assert_double_eq_tol(rate, 0.5, 1e-15);
    ck_assert_int_eq(crm_analytics_f2_curve(a, 30, 3, ce, cc, cz), CRM_OK);
    ck_assert_uint_eq(ce[0], 4);
    ck_assert_uint_eq(cc[0], 2);
    ck_assert_uint_eq(cz[0], 1);
    /* 60 and 90 days: customer 1 (31 days observed) is censored too. */
    ck_assert_uint_eq(ce[1], 3);
    ck_assert_uint_eq(cc[1], 2);
    ck_assert_uint_eq(cz[1], 2);
    ck_assert_uint_eq(ce[2], 3);
    ck_assert_uint_eq(cc[2], 2);
    ck_assert_uint_eq(cz[2], 2);
    /* 100 days: nobody has more than 100 days observed. */
    ck_assert_int_eq(crm_analytics_f2(a, 100, &e, &c, &z, &rate), CRM_OK);
    ck_assert_uint_eq(e, 0);
    ck_assert_uint_eq(z, 5);
    ck_assert_double_eq(rate, 0.0);
    ck_assert_int_eq(crm_analytics_f2(a, 99, &e, &c, NULL, NULL), CRM_OK);
    ck_assert_uint_eq(e, 3);
    ck_assert_uint_eq(c, 2);
    /* Repeat rate: customers 1, 2, 3, 5 have two occasions; 4 has one. */
    ck_assert_int_eq(crm_analytics_repeat_rate(a, &customers, &repeaters, &rate),
                     CRM_OK);
    ck_assert_uint_eq(customers, 5);
    ck_assert_uint_eq(repeaters, 4);
    ck_assert_double_eq_tol(rate, 0.8, 1e-15);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_f2_curve_matches_single_windows)
{
    crm_ctx *ctx = new_ctx();
    table t = {0};
    uint64_t ce[150], cc[150], cz[150], e, c, z;
    uint64_t rng = 7;
    crm_analytics *a;
    size_t i;

    for (i = 0; i < 200; i++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        add(&t, (int64_t)(rng >> 60), jst(2023, 1, 1, 0, 0) + (int64_t)(rng >> 40) % (400 * 86400),
            (int64_t)(rng >> 50) % 1000 - 100);
    }
    a = build(ctx, &t, jst(2024, 3, 1, 0, 0));
    ck_assert_int_eq(crm_analytics_f2_curve(a, 3, 150, ce, cc, cz), CRM_OK);
    for (i = 0; i < 150; i++) {
        ck_assert_int_eq(crm_analytics_f2(a, (uint32_t)(3 * (i + 1)), &e, &c, &z,
                                          NULL),
                         CRM_OK);
        ck_assert_uint_eq(ce[i], e);
        ck_assert_uint_eq(cc[i], c);
        ck_assert_uint_eq(cz[i], z);
    }
    ck_assert_int_eq(crm_analytics_f2_curve(a, 30, 24, NULL, NULL, NULL), CRM_OK);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- cohorts ----------------------------------------------------------- */

START_TEST(test_cohorts_across_year_end_in_jst)
{
    crm_ctx *ctx = new_ctx();
    table t = {0};
    size_t n;
    int32_t month[2];
    uint64_t size[2], active[2 * 4];
    uint32_t observed[2];
    int64_t revenue[2 * 4];
    double ltv[2];
    uint8_t complete[2];
    crm_analytics *a;

    /* 2023-12-31 23:59 JST is December; 00:30 the next day is January,
     * although both are 2023-12-31 in UTC. */
    add(&t, 1, jst(2023, 12, 31, 23, 59), 1000);
    add(&t, 1, jst(2024, 1, 1, 0, 30), 500);
    add(&t, 1, jst(2024, 1, 15, 0, 30), -200);
    add(&t, 2, jst(2024, 1, 1, 0, 30), 300);
    add(&t, 3, jst(2024, 1, 20, 10, 0), 400);
    add(&t, 3, jst(2024, 2, 29, 23, 59), 100);
    add(&t, 4, jst(2023, 12, 10, 10, 0), -50); /* returns only: no cohort */
    a = build(ctx, &t, jst(2024, 3, 1, 0, 0));
    ck_assert_int_eq(crm_analytics_cohort_count(a, &n), CRM_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(crm_analytics_cohorts(a, 2, 4, month, size, observed,
                                           active, revenue),
                     CRM_OK);
    ck_assert_int_eq(month[0], 202312);
    ck_assert_int_eq(month[1], 202401);
    ck_assert_uint_eq(size[0], 1);
    ck_assert_uint_eq(size[1], 2);
    ck_assert_uint_eq(observed[0], 3); /* December, January, February */
    ck_assert_uint_eq(observed[1], 2);
    /* Cohort 2023-12: customer 1 active in months 0 and 1. */
    ck_assert_uint_eq(active[0], 1);
    ck_assert_uint_eq(active[1], 1);
    ck_assert_uint_eq(active[2], 0);
    ck_assert_int_eq(revenue[0], 1000);
    ck_assert_int_eq(revenue[1], 300);
    ck_assert_int_eq(revenue[2], 0);
    ck_assert_int_eq(revenue[3], 0);
    /* Cohort 2024-01: customers 2 and 3; only 3 buys again in February. */
    ck_assert_uint_eq(active[4], 2);
    ck_assert_uint_eq(active[5], 1);
    ck_assert_int_eq(revenue[4], 700);
    ck_assert_int_eq(revenue[5], 100);
    ck_assert_int_eq(revenue[6], 0);
    ck_assert_int_eq(crm_analytics_cohort_ltv(a, 12, 2, ltv, complete), CRM_OK);
    ck_assert_double_eq_tol(ltv[0], 1300.0, 1e-9);
    ck_assert_double_eq_tol(ltv[1], 400.0, 1e-9);
    ck_assert_uint_eq(complete[0], 0);
    ck_assert_int_eq(crm_analytics_cohort_ltv(a, 2, 2, ltv, complete), CRM_OK);
    ck_assert_uint_eq(complete[0], 1);
    ck_assert_uint_eq(complete[1], 1);
    ck_assert_int_eq(crm_analytics_cohort_ltv(a, 1, 1, ltv, NULL), CRM_OK);
    ck_assert_double_eq_tol(ltv[0], 1000.0, 1e-9);
    ck_assert_int_eq(crm_analytics_cohorts(a, 1, 120, NULL, NULL, NULL, NULL,
                                           NULL),
                     CRM_OK);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- CPM --------------------------------------------------------------- */

/* Customer `id` with purchases on A - first_ago and A - last_ago. */
static void add_span(table *t, int64_t id, int64_t A, int64_t first_ago,
                     int64_t last_ago, int64_t spend)
{
    if (first_ago == last_ago) {
        add(t, id, noon(A - first_ago), spend);
        return;
    }
    add(t, id, noon(A - first_ago), spend - 1);
    add(t, id, noon(A - last_ago), 1);
}

START_TEST(test_cpm_boundaries)
{
    int64_t A = crm_days_from_civil(2024, 6, 1);
    crm_ctx *ctx = new_ctx();
    table t = {0};
    uint64_t customers[10];
    int64_t revenue[10];
    int32_t group;
    uint32_t churn, tenure_short, tenure_long;
    int64_t spend;
    crm_analytics *a;
    static const struct {
        int64_t id, first_ago, last_ago, spend;
        int32_t group;
    } cases[] = {
        {1, 239, 239, 5000, CRM_CPM_FIRST},            /* recency 239 */
        {2, 240, 240, 5000, CRM_CPM_FIRST_CHURNED},    /* recency 240 */
        {3, 100, 11, 100000, CRM_CPM_BEGINNER},        /* tenure 89 */
        {4, 101, 11, 69999, CRM_CPM_STEADY},           /* tenure 90 */
        {5, 101, 11, 70000, CRM_CPM_TRENDY},           /* tenure 90, 70,000 */
        {6, 220, 11, 70000, CRM_CPM_TRENDY},           /* tenure 209 */
        {7, 221, 11, 70000, CRM_CPM_LOYAL},            /* tenure 210 */
        {8, 450, 240, 90000, CRM_CPM_LOYAL_CHURNED},   /* tenure 210, recency 240 */
        {9, 400, 239, 90000, CRM_CPM_TRENDY},          /* tenure 161, recency 239 */
        {10, 330, 241, 5000, CRM_CPM_BEGINNER_CHURNED},/* tenure 89 */
        {11, 500, 300, 5000, CRM_CPM_STEADY_CHURNED},
        {12, 520, 300, 70000, CRM_CPM_LOYAL_CHURNED},  /* tenure 220 */
        {13, 400, 300, 70000, CRM_CPM_TRENDY_CHURNED},
    };
    size_t i, n = sizeof cases / sizeof cases[0];

    for (i = 0; i < n; i++)
        add_span(&t, cases[i].id, A, cases[i].first_ago, cases[i].last_ago,
                 cases[i].spend);
    a = build(ctx, &t, crm_local_midnight(A, JST));
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(crm_analytics_customer_cpm(a, cases[i].id, &group), CRM_OK);
        ck_assert_msg(group == cases[i].group, "customer %lld: group %d, want %d",
                      (long long)cases[i].id, (int)group, (int)cases[i].group);
    }
    ck_assert_int_eq(crm_analytics_cpm(a, customers, revenue), CRM_OK);
    ck_assert_uint_eq(customers[CRM_CPM_FIRST], 1);
    ck_assert_uint_eq(customers[CRM_CPM_FIRST_CHURNED], 1);
    ck_assert_uint_eq(customers[CRM_CPM_BEGINNER], 1);
    ck_assert_uint_eq(customers[CRM_CPM_BEGINNER_CHURNED], 1);
    ck_assert_uint_eq(customers[CRM_CPM_STEADY], 1);
    ck_assert_uint_eq(customers[CRM_CPM_STEADY_CHURNED], 1);
    ck_assert_uint_eq(customers[CRM_CPM_TRENDY], 3);
    ck_assert_uint_eq(customers[CRM_CPM_TRENDY_CHURNED], 1);
    ck_assert_uint_eq(customers[CRM_CPM_LOYAL], 1);
    ck_assert_uint_eq(customers[CRM_CPM_LOYAL_CHURNED], 2);
    ck_assert_int_eq(revenue[CRM_CPM_TRENDY], 70000 + 70000 + 90000);
    ck_assert_int_eq(revenue[CRM_CPM_LOYAL_CHURNED], 160000);
    ck_assert_int_eq(crm_analytics_cpm_thresholds(a, &churn, &tenure_short,
                                                  &tenure_long, &spend),
                     CRM_OK);
    ck_assert_uint_eq(churn, 240);
    ck_assert_uint_eq(tenure_short, 90);
    ck_assert_uint_eq(tenure_long, 210);
    ck_assert_int_eq(spend, 70000);
    ck_assert_int_eq(crm_analytics_cpm_thresholds(a, NULL, NULL, NULL, NULL), CRM_OK);
    ck_assert_int_eq(crm_analytics_cpm_thresholds(NULL, &churn, NULL, NULL, NULL),
                     CRM_EINVAL);
    /* Configurable: churn after 300 days, tenure 60/120, 50,000 yen. */
    ck_assert_int_eq(crm_analytics_set_cpm_thresholds(a, 300, 60, 120, 50000),
                     CRM_OK);
    ck_assert_int_eq(crm_analytics_customer_cpm(a, 2, &group), CRM_OK);
    ck_assert_int_eq(group, CRM_CPM_FIRST);
    ck_assert_int_eq(crm_analytics_customer_cpm(a, 3, &group), CRM_OK);
    ck_assert_int_eq(group, CRM_CPM_TRENDY); /* tenure 89: >= 60, < 120; 100,000 yen */
    ck_assert_int_eq(crm_analytics_customer_cpm(a, 4, &group), CRM_OK);
    ck_assert_int_eq(group, CRM_CPM_TRENDY);
    ck_assert_int_eq(crm_analytics_customer_cpm(a, 11, &group), CRM_OK);
    ck_assert_int_eq(group, CRM_CPM_STEADY_CHURNED); /* recency 300 >= 300 */
    /* Bad thresholds are rejected and change nothing. */
    ck_assert_int_eq(crm_analytics_set_cpm_thresholds(a, 0, 90, 210, 70000), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_set_cpm_thresholds(a, 240, 0, 210, 70000), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_set_cpm_thresholds(a, 240, 90, 89, 70000), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_set_cpm_thresholds(a, 240, 90, 210, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_set_cpm_thresholds(NULL, 240, 90, 210, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_customer_cpm(a, 4, &group), CRM_OK);
    ck_assert_int_eq(group, CRM_CPM_TRENDY);
    ck_assert_int_eq(crm_analytics_cpm_thresholds(a, &churn, &tenure_short,
                                                  &tenure_long, &spend),
                     CRM_OK);
    ck_assert_uint_eq(churn, 300);
    ck_assert_uint_eq(tenure_short, 60);
    ck_assert_uint_eq(tenure_long, 120);
    ck_assert_int_eq(spend, 50000);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- determinism, bulk vs per customer ---------------------------------- */

#define RANDOM_ROWS 3000

typedef struct random_orders {
    int64_t id[RANDOM_ROWS], at[RANDOM_ROWS], amount[RANDOM_ROWS];
} random_orders;

static uint64_t next_random(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return *state >> 33;
}

/* 3000 orders of 400 customers over 2022..2024 with returns and ties,
 * plus returns-only ids. */
static void make_random(random_orders *r)
{
    uint64_t state = 42;
    size_t i;

    for (i = 0; i < RANDOM_ROWS; i++) {
        r->id[i] = (int64_t)(next_random(&state) % 400) - 50;
        r->at[i] = jst(2022, 1, 1, 0, 0) + (int64_t)(next_random(&state) % (900 * 86400));
        r->amount[i] = (int64_t)(next_random(&state) % 12) * 1000 - 1000;
        if (i % 97 == 0) { /* a return by an id that never buys */
            r->id[i] = 100000 + (int64_t)i;
            r->amount[i] = -500;
        }
    }
}

/* Every report of a handle, flattened for comparison. */
typedef struct report {
    uint64_t totals[3], deciles[10], cpm[10], f2e[24], f2c[24], f2z[24];
    int64_t revenue[2], decile_revenue[10], cpm_revenue[10];
    size_t n_cohorts;
    int32_t month[64];
    uint64_t size[64], active[64 * 120];
    int64_t cohort_revenue[64 * 120];
    int64_t ids[400], customer_revenue[400];
    int32_t decile[400], group[400];
} report;

static void take_report(const crm_analytics *a, report *r)
{
    uint64_t customers;

    memset(r, 0, sizeof *r);
    ck_assert_int_eq(crm_analytics_totals(a, &r->totals[0], &r->revenue[0],
                                          &r->totals[1], &r->revenue[1],
                                          &r->totals[2]),
                     CRM_OK);
    ck_assert_int_eq(crm_analytics_deciles(a, r->deciles, r->decile_revenue, NULL), CRM_OK);
    ck_assert_int_eq(crm_analytics_cpm(a, r->cpm, r->cpm_revenue), CRM_OK);
    ck_assert_int_eq(crm_analytics_f2_curve(a, 30, 24, r->f2e, r->f2c, r->f2z), CRM_OK);
    ck_assert_int_eq(crm_analytics_cohort_count(a, &r->n_cohorts), CRM_OK);
    ck_assert_uint_le(r->n_cohorts, 64);
    ck_assert_int_eq(crm_analytics_cohorts(a, r->n_cohorts, 120, r->month, r->size,
                                           NULL, r->active, r->cohort_revenue),
                     CRM_OK);
    customers = r->totals[0];
    ck_assert_uint_le(customers, 400);
    ck_assert_int_eq(crm_analytics_customers(a, (size_t)customers, r->ids,
                                             r->customer_revenue, r->decile,
                                             r->group),
                     CRM_OK);
}

START_TEST(test_shuffled_input_gives_identical_reports)
{
    static random_orders r, s;
    static report before, after;
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = NULL, *b = NULL;
    uint64_t state = 99;
    size_t i;

    make_random(&r);
    s = r;
    for (i = RANDOM_ROWS - 1; i > 0; i--) {
        size_t j = next_random(&state) % (i + 1);
        int64_t tmp;
        tmp = s.id[i]; s.id[i] = s.id[j]; s.id[j] = tmp;
        tmp = s.at[i]; s.at[i] = s.at[j]; s.at[j] = tmp;
        tmp = s.amount[i]; s.amount[i] = s.amount[j]; s.amount[j] = tmp;
    }
    ck_assert_int_eq(crm_analytics_new(ctx, r.id, r.at, r.amount, RANDOM_ROWS,
                                       jst(2024, 6, 1, 0, 0), JST, &a), CRM_OK);
    ck_assert_int_eq(crm_analytics_new(ctx, s.id, s.at, s.amount, RANDOM_ROWS,
                                       jst(2024, 6, 1, 0, 0), JST, &b), CRM_OK);
    take_report(a, &before);
    take_report(b, &after);
    ck_assert_uint_gt(before.totals[0], 300);
    ck_assert_uint_gt(before.totals[1], 0);  /* some returns-only ids */
    ck_assert_uint_gt(before.totals[2], 0);  /* some orders after as_of */
    ck_assert_int_eq(memcmp(&before, &after, sizeof before), 0);
    crm_analytics_free(a);
    crm_analytics_free(b);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_bulk_matches_per_customer)
{
    static random_orders r;
    static report rep;
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = NULL;
    uint64_t per_decile[10] = {0}, per_group[10] = {0};
    size_t i;

    make_random(&r);
    ck_assert_int_eq(crm_analytics_new(ctx, r.id, r.at, r.amount, RANDOM_ROWS,
                                       jst(2024, 6, 1, 0, 0), JST, &a), CRM_OK);
    take_report(a, &rep);
    for (i = 0; i < rep.totals[0]; i++) {
        int32_t decile, group;

        if (i > 0)
            ck_assert_int_lt(rep.ids[i - 1], rep.ids[i]);
        ck_assert_int_eq(crm_analytics_customer_decile(a, rep.ids[i], &decile), CRM_OK);
        ck_assert_int_eq(crm_analytics_customer_cpm(a, rep.ids[i], &group), CRM_OK);
        ck_assert_int_eq(decile, rep.decile[i]);
        ck_assert_int_eq(group, rep.group[i]);
        per_decile[decile - 1]++;
        per_group[group]++;
    }
    ck_assert_int_eq(memcmp(per_decile, rep.deciles, sizeof per_decile), 0);
    ck_assert_int_eq(memcmp(per_group, rep.cpm, sizeof per_group), 0);
    /* Equal spenders share a decile; higher spenders never rank lower. */
    for (i = 0; i < rep.totals[0]; i++) {
        size_t j;
        for (j = 0; j < rep.totals[0]; j++)
            if (rep.customer_revenue[i] > rep.customer_revenue[j])
                ck_assert_int_le(rep.decile[i], rep.decile[j]);
            else if (rep.customer_revenue[i] == rep.customer_revenue[j])
                ck_assert_int_eq(rep.decile[i], rep.decile[j]);
    }
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_empty_input)
{
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = NULL;
    uint64_t customers[10], e, z;
    size_t n = 9;
    double rate = 1;

    ck_assert_int_eq(crm_analytics_new(ctx, NULL, NULL, NULL, 0, 0, JST, &a), CRM_OK);
    ck_assert_int_eq(crm_analytics_deciles(a, customers, NULL, NULL), CRM_OK);
    ck_assert_uint_eq(customers[0], 0);
    ck_assert_int_eq(crm_analytics_cohort_count(a, &n), CRM_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(crm_analytics_f2(a, 30, &e, NULL, &z, &rate), CRM_OK);
    ck_assert_uint_eq(e + z, 0);
    ck_assert_double_eq(rate, 0.0);
    ck_assert_int_eq(crm_analytics_repeat_rate(a, NULL, NULL, &rate), CRM_OK);
    ck_assert_double_eq(rate, 0.0);
    ck_assert_int_eq(crm_analytics_customers(a, 0, NULL, NULL, NULL, NULL), CRM_OK);
    crm_analytics_free(a);
    crm_analytics_free(NULL);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- bad input --------------------------------------------------------- */

START_TEST(test_bad_arguments)
{
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = NULL, *sentinel = (crm_analytics *)&ctx;
    int64_t id[2] = {1, 2}, at[2], amount[2] = {100, 200};
    uint64_t u;
    size_t n;
    int32_t i32 = 77;
    double d;

    at[0] = jst(2024, 1, 1, 0, 0);
    at[1] = INT64_MAX;
    a = sentinel;
    ck_assert_int_eq(crm_analytics_new(NULL, id, at, amount, 1, at[0] + 1, JST, &a), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 1, at[0] + 1, JST, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_new(ctx, NULL, at, amount, 1, at[0] + 1, JST, &a), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_new(ctx, id, NULL, amount, 1, at[0] + 1, JST, &a), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, NULL, 1, at[0] + 1, JST, &a), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 1, at[0] + 1, 1441, &a), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "utc_offset_min"));
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 1, INT64_MIN, JST, &a), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "as_of"));
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 2, at[0] + 1, JST, &a), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "ordered_at[1]"));
#if SIZE_MAX > UINT32_MAX
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, (size_t)UINT32_MAX + 1,
                                       at[0] + 1, JST, &a),
                     CRM_ELIMIT);
#endif
    ck_assert_ptr_eq(a, sentinel);
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 1, at[0] + 1, JST, &a), CRM_OK);

    ck_assert_int_eq(crm_analytics_totals(NULL, &u, NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_deciles(NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_repeat_rate(NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2(NULL, 30, NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2(a, 0, NULL, NULL, NULL, &d), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2(a, 3660001, NULL, NULL, NULL, &d), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2_curve(NULL, 30, 24, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2_curve(a, 0, 24, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2_curve(a, 30, 0, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2_curve(a, 4000000000u, 2, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_f2_curve(a, 30, (size_t)-1, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "n_points"));
    ck_assert_int_eq(crm_analytics_cohort_count(NULL, &n), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohort_count(a, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohorts(NULL, 0, 0, NULL, NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohorts(a, 2, 12, NULL, NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohorts(a, 1, 121, NULL, NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohort_ltv(NULL, 12, 0, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohort_ltv(a, 0, 1, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohort_ltv(a, 121, 1, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cohort_ltv(a, 12, 2, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_cpm(NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_customer_decile(NULL, 1, &i32), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_customer_decile(a, 1, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_customer_cpm(NULL, 1, &i32), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_customer_cpm(a, 1, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_customer_cpm(a, 2, &i32), CRM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "customer 2"));
    ck_assert_int_eq(i32, 77);
    ck_assert_int_eq(crm_analytics_customers(NULL, 0, NULL, NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_analytics_customers(a, 2, NULL, NULL, NULL, NULL), CRM_EINVAL);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/* Amounts on both sides of every packing boundary, several of them wide,
 * in an order where the customers' rows interleave: exact revenues. */
START_TEST(test_amounts_around_packing_limits)
{
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = NULL;
    int64_t t0 = jst(2024, 1, 1, 0, 0);
    const int64_t p40 = INT64_C(1) << 40;
    int64_t amount[8] = {p40 - 1, p40, -p40, -p40 - 1, 7, -(p40 * 3), p40 * 4, 1};
    int64_t id[8] = {1, 2, 3, 4, 1, 2, 3, 4}, at[8], revenue[4];
    size_t i;

    for (i = 0; i < 8; i++)
        at[i] = t0 + (int64_t)i * 86400;
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 8, t0 + 10 * 86400, JST, &a),
                     CRM_OK);
    ck_assert_int_eq(crm_analytics_customers(a, 4, NULL, revenue, NULL, NULL), CRM_OK);
    ck_assert_int_eq(revenue[0], p40 + 6);
    ck_assert_int_eq(revenue[1], -(p40 * 2));
    ck_assert_int_eq(revenue[2], p40 * 3);
    ck_assert_int_eq(revenue[3], -p40);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_overflow)
{
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = NULL;
    int64_t t0 = jst(2024, 1, 1, 0, 0);
    int64_t id[3] = {1, 1, 2}, at[3] = {t0, t0 + 86400, t0};
    int64_t amount[3] = {INT64_MAX / 2 + 1, INT64_MAX / 2 + 1, 5};
    int64_t total = 0, revenue[2];

    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 3, t0 + 10 * 86400, JST, &a),
                     CRM_EOVERFLOW);
    ck_assert_ptr_null(a);
    id[1] = 3; /* two customers each below the limit, total above */
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 3, t0 + 10 * 86400, JST, &a),
                     CRM_EOVERFLOW);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "overflows"));
    amount[0] = INT64_MAX / 2; /* total INT64_MAX - 6: fits */
    amount[1] = INT64_MAX / 2 - 10;
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 3, t0 + 10 * 86400, JST, &a),
                     CRM_OK);
    ck_assert_int_eq(crm_analytics_totals(a, NULL, &total, NULL, NULL, NULL), CRM_OK);
    ck_assert_int_eq(total, INT64_MAX - 6);
    crm_analytics_free(a);
    /* Amounts beyond 2^41 (stored aside internally) keep their exact value. */
    amount[0] = INT64_C(5000000000000001);
    amount[1] = -INT64_C(3000000000000000);
    amount[2] = INT64_C(1) << 41;
    id[1] = 1;
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, 3, t0 + 10 * 86400, JST, &a),
                     CRM_OK);
    ck_assert_int_eq(crm_analytics_customers(a, 2, NULL, revenue, NULL, NULL), CRM_OK);
    ck_assert_int_eq(revenue[0], INT64_C(2000000000000001));
    ck_assert_int_eq(revenue[1], INT64_C(1) << 41);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/*
 * A decile's revenue is summed from its highest revenue down: it overflows
 * when its positive revenues pass INT64_MAX, even if its negative ones
 * would bring the total back. Decile 1 of these 21 customers holds the two
 * top spenders and the third (-10); the grand total, summed in id order
 * from the negative customers up, fits.
 */
static crm_status new_with_top_two(crm_ctx *ctx, int64_t top,
                                   crm_analytics **a)
{
    int64_t t0 = jst(2024, 1, 1, 0, 0);
    int64_t id[42], at[42], amount[42];
    size_t c;

    for (c = 0; c < 21; c++) {
        int64_t revenue = c == 0 ? -10 : c < 19 ? -20 : top;

        id[2 * c] = id[2 * c + 1] = (int64_t)c + 1;
        at[2 * c] = at[2 * c + 1] = t0;
        amount[2 * c] = 1; /* a purchase, so the customer counts */
        amount[2 * c + 1] = revenue - 1;
    }
    return crm_analytics_new(ctx, id, at, amount, 42, t0 + 86400, JST, a);
}

START_TEST(test_decile_revenue_overflow)
{
    crm_ctx *ctx = new_ctx();
    crm_analytics *a = NULL;
    uint64_t counts[10];
    int64_t revenue[10];

    ck_assert_int_eq(new_with_top_two(ctx, INT64_MAX / 2 + 1, &a), CRM_EOVERFLOW);
    ck_assert_ptr_null(a);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "decile"));
    ck_assert_int_eq(new_with_top_two(ctx, INT64_MAX / 2 - 5, &a), CRM_OK);
    ck_assert_int_eq(crm_analytics_deciles(a, counts, revenue, NULL), CRM_OK);
    ck_assert_uint_eq(counts[0], 3);
    ck_assert_int_eq(revenue[0], INT64_MAX - 11 - 10);
    ck_assert_uint_eq(counts[1], 18);
    ck_assert_int_eq(revenue[1], -20 * 18);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- allocation failures ----------------------------------------------- */

typedef struct sweep_fixture {
    crm_ctx *ctx;
    crm_analytics *a;
    random_orders orders;
} sweep_fixture;

static void *sweep_setup(crm_ctx *ctx)
{
    sweep_fixture *f = calloc(1, sizeof *f);

    ck_assert_ptr_nonnull(f);
    f->ctx = ctx;
    make_random(&f->orders);
    return f;
}

static crm_status sweep_run(void *fixture)
{
    sweep_fixture *f = fixture;
    crm_analytics *a = NULL;
    crm_status status = crm_analytics_new(f->ctx, f->orders.id, f->orders.at,
                                          f->orders.amount, RANDOM_ROWS,
                                          jst(2024, 6, 1, 0, 0), JST, &a);

    if (status == CRM_OK) {
        crm_analytics_free(f->a);
        f->a = a;
    } else {
        ck_assert_ptr_null(a);
    }
    return status;
}

static void sweep_verify(void *fixture)
{
    sweep_fixture *f = fixture;
    uint64_t customers = 0;
    size_t n = 0;

    ck_assert_ptr_nonnull(f->a);
    ck_assert_int_eq(crm_analytics_totals(f->a, &customers, NULL, NULL, NULL, NULL), CRM_OK);
    ck_assert_uint_gt(customers, 300);
    ck_assert_int_eq(crm_analytics_cohort_count(f->a, &n), CRM_OK);
    ck_assert_uint_gt(n, 20);
}

static void sweep_teardown(void *fixture)
{
    sweep_fixture *f = fixture;

    crm_analytics_free(f->a);
    free(f);
}

START_TEST(test_new_under_allocation_failure)
{
    const test_sweep sweep = {sweep_setup, sweep_run, sweep_verify, sweep_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 5);
}
END_TEST

/* ---- reference data: CDNOW ---------------------------------------------- */

typedef struct cdnow_customer {
    int64_t revenue; /* cents */
    int32_t days[64];
    int n_days;
    int purchased;
} cdnow_customer;

#define CDNOW_IDS 23571

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

/* Reads cdnow_master.txt into columns (dollars -> cents, dates -> UTC midnight). */
static size_t read_cdnow(const char *dir, int64_t **id, int64_t **at, int64_t **amount)
{
    char path[1024], line[256];
    size_t n = 0, cap = 80000;
    FILE *f;

    snprintf(path, sizeof path, "%s/cdnow_master.txt", dir);
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    *id = malloc(cap * sizeof **id);
    *at = malloc(cap * sizeof **at);
    *amount = malloc(cap * sizeof **amount);
    ck_assert(*id && *at && *amount);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        long long cid, date, qty, dollars, cents;
        if (sscanf(line, "%lld %lld %lld %lld.%lld", &cid, &date, &qty, &dollars, &cents) != 5)
            continue;
        ck_assert_uint_lt(n, cap);
        (*id)[n] = cid;
        (*at)[n] = crm_days_from_civil(date / 10000, (unsigned)(date / 100 % 100),
                                       (unsigned)(date % 100)) * 86400;
        (*amount)[n++] = dollars * 100 + cents;
    }
    fclose(f);
    return n;
}

START_TEST(test_cdnow_reference)
{
    const char *dir = test_reference_data_dir();
    static cdnow_customer cust[CDNOW_IDS];
    static int64_t spend[CDNOW_IDS];
    int64_t *id, *at, *amount, expect_revenue[10] = {0}, total = 0;
    uint64_t expect_count[10] = {0}, customers[10], repeaters = 0, got_repeaters, n_cust = 0;
    int64_t revenue[10];
    crm_analytics *a = NULL;
    crm_ctx *ctx;
    size_t n, i;
    int d;

    if (!dir) {
        printf("test_cdnow_reference: CRM_REFERENCE_DATA unset, skipped\n");
        return;
    }
    n = read_cdnow(dir, &id, &at, &amount);
    ck_assert_uint_eq(n, 69659);
    /* Independent recomputation: spend per id and distinct purchase days. */
    memset(cust, 0, sizeof cust);
    for (i = 0; i < n; i++) {
        cdnow_customer *c = &cust[id[i]];
        int32_t day = (int32_t)(at[i] / 86400), k;
        int seen = 0;

        ck_assert_int_lt(id[i], CDNOW_IDS);
        c->revenue += amount[i];
        if (amount[i] <= 0)
            continue;
        c->purchased = 1;
        for (k = 0; k < c->n_days; k++)
            seen |= c->days[k] == day;
        if (!seen && c->n_days < 64)
            c->days[c->n_days++] = day;
    }
    for (i = 0; i < CDNOW_IDS; i++)
        if (cust[i].purchased) {
            spend[n_cust++] = cust[i].revenue;
            repeaters += cust[i].n_days >= 2;
            total += cust[i].revenue;
        }
    qsort(spend, (size_t)n_cust, sizeof *spend, cmp_i64);
    for (i = 0; i < n_cust; i++) {
        /* strictly higher = customers after the last equal value */
        size_t last = i;
        while (last + 1 < n_cust && spend[last + 1] == spend[i])
            last++;
        d = (int)((10 * (n_cust - 1 - last)) / n_cust);
        expect_count[d]++;
        expect_revenue[d] += spend[i];
    }
    ctx = new_ctx();
    ck_assert_int_eq(crm_analytics_new(ctx, id, at, amount, n,
                                       crm_days_from_civil(1998, 7, 1) * 86400, 0, &a),
                     CRM_OK);
    ck_assert_int_eq(crm_analytics_deciles(a, customers, revenue, NULL), CRM_OK);
    for (d = 0; d < 10; d++) {
        ck_assert_uint_eq(customers[d], expect_count[d]);
        ck_assert_int_eq(revenue[d], expect_revenue[d]);
    }
    ck_assert_int_eq(crm_analytics_repeat_rate(a, &customers[0], &got_repeaters, NULL), CRM_OK);
    ck_assert_uint_eq(customers[0], n_cust);
    ck_assert_uint_eq(got_repeaters, repeaters);
    ck_assert_uint_gt(n_cust, 23000);
    ck_assert_int_eq(crm_analytics_totals(a, NULL, &revenue[0], NULL, NULL, NULL), CRM_OK);
    ck_assert_int_eq(revenue[0], total);
    crm_analytics_free(a);
    crm_ctx_free(ctx);
    free(id);
    free(at);
    free(amount);
}
END_TEST

static Suite *analytics_suite(void)
{
    Suite *s = suite_create("analytics");
    TCase *tc = tcase_create("reports");

    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_deciles_distinct_spend);
    tcase_add_test(tc, test_amounts_around_packing_limits);
    tcase_add_test(tc, test_deciles_never_split_ties);
    tcase_add_test(tc, test_deciles_match_definition);
    tcase_add_test(tc, test_returns_and_as_of);
    tcase_add_test(tc, test_f2_censoring_boundaries);
    tcase_add_test(tc, test_f2_curve_matches_single_windows);
    tcase_add_test(tc, test_cohorts_across_year_end_in_jst);
    tcase_add_test(tc, test_cpm_boundaries);
    tcase_add_test(tc, test_shuffled_input_gives_identical_reports);
    tcase_add_test(tc, test_bulk_matches_per_customer);
    tcase_add_test(tc, test_empty_input);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_decile_revenue_overflow);
    tcase_add_test(tc, test_new_under_allocation_failure);
    tcase_add_test(tc, test_cdnow_reference);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(analytics_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
