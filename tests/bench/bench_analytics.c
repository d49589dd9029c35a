/*
 * Benchmark of the customer-value analytics: 10M orders of about 2M
 * customers over three years (deterministic), ingested once and then every
 * report (deciles, F2 at 30 days and its 30..720-day curve, repeat rate,
 * cohort matrix and 12-month LTV, CPM, the per-customer export).
 * Prints `analytics_10m_orders_ms: N ms` (wall clock, median of 5 runs,
 * one core), the first run alone (fresh pages from the kernel), the ingest
 * alone, and the total in CPU time (the figure to trust when other jobs
 * share the machine).
 */
#define _DEFAULT_SOURCE 1 /* mallopt */
#include <malloc.h>

#include "bench_util.h"
#include "crm/rfm.h"

#define ORDERS 10000000u
#define CUSTOMERS 2000000u
#define RUNS 5
#define AS_OF INT64_C(1735657200) /* 2025-01-01T00:00+09:00 */
#define SPAN_SECONDS (INT64_C(3) * 365 * 86400)

typedef struct orders {
    int64_t *id, *at, *amount;
} orders;

/* Skewed customer choice (some buy often), times over three years, ~5% returns. */
static void generate(orders *o)
{
    uint64_t rng = 20240601;
    size_t i;

    for (i = 0; i < ORDERS; i++) {
        double u = bench_uniform(&rng);
        uint64_t customer = (uint64_t)(u * u * CUSTOMERS);
        int64_t amount = 500 + (int64_t)(bench_rand(&rng) % 30000);

        o->id[i] = (int64_t)(customer * UINT64_C(2654435761) % UINT64_C(1000000007));
        o->at[i] = AS_OF - SPAN_SECONDS + (int64_t)(bench_rand(&rng) % (uint64_t)SPAN_SECONDS);
        o->amount[i] = bench_rand(&rng) % 20 == 0 ? -amount / 2 : amount;
    }
}

static int run_reports(crm_analytics *a, int64_t *ids, int32_t *deciles,
                       int32_t *groups, size_t n_customers)
{
    uint64_t counts[10], e[24], c[24], z[24], active[120 * 64];
    int64_t revenue[10], cohort_revenue[120 * 64];
    double share[10], rate, ltv[64];
    size_t n_cohorts;
    int bad = 0;

    bad |= crm_analytics_deciles(a, counts, revenue, share);
    bad |= crm_analytics_f2(a, 30, NULL, NULL, NULL, &rate);
    bad |= crm_analytics_f2_curve(a, 30, 24, e, c, z);
    bad |= crm_analytics_repeat_rate(a, NULL, NULL, &rate);
    bad |= crm_analytics_cohort_count(a, &n_cohorts);
    if (n_cohorts > 64)
        n_cohorts = 64;
    bad |= crm_analytics_cohorts(a, n_cohorts, 120, NULL, NULL, NULL, active,
                                 cohort_revenue);
    bad |= crm_analytics_cohort_ltv(a, 12, n_cohorts, ltv, NULL);
    bad |= crm_analytics_cpm(a, counts, revenue);
    bad |= crm_analytics_customers(a, n_customers, ids, NULL, deciles, groups);
    return bad;
}

int main(void)
{
    orders o;
    crm_ctx *ctx = NULL;
    double samples[RUNS], ingest[RUNS], cpu[RUNS];
    int64_t *ids = malloc(CUSTOMERS * sizeof *ids);
    int32_t *deciles = malloc(CUSTOMERS * sizeof *deciles);
    int32_t *groups = malloc(CUSTOMERS * sizeof *groups);
    int run;
    uint64_t customers = 0;
    double first_run_ms = 0;

    o.id = malloc(ORDERS * sizeof *o.id);
    o.at = malloc(ORDERS * sizeof *o.at);
    o.amount = malloc(ORDERS * sizeof *o.amount);
    if (!o.id || !o.at || !o.amount || !ids || !deciles || !groups ||
        crm_ctx_new(&ctx) != CRM_OK)
        return 1;
    /* A long-running process keeps freed memory: no mmap for big blocks,
     * no trimming, so runs after the first reuse warm pages. */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT32_MAX);
    generate(&o);
    for (run = 0; run < RUNS; run++) {
        crm_analytics *a = NULL;
        double c0 = bench_cpu_ms(), t0 = bench_now_ms(), t1;

        if (crm_analytics_new(ctx, o.id, o.at, o.amount, ORDERS, AS_OF, 540,
                              &a) != CRM_OK)
            return 1;
        t1 = bench_now_ms();
        crm_analytics_totals(a, &customers, NULL, NULL, NULL, NULL);
        if (customers > CUSTOMERS ||
            run_reports(a, ids, deciles, groups, (size_t)customers) != 0)
            return 1;
        samples[run] = bench_now_ms() - t0;
        cpu[run] = bench_cpu_ms() - c0;
        if (run == 0)
            first_run_ms = samples[0];
        ingest[run] = t1 - t0;
        crm_analytics_free(a);
    }
    printf("analytics_customers: %llu customers\n", (unsigned long long)customers);
    bench_print("analytics_10m_orders_ms", bench_median(samples, RUNS), "ms");
    bench_print("analytics_10m_orders_first_run_ms", first_run_ms, "ms");
    bench_print("analytics_10m_ingest_ms", bench_median(ingest, RUNS), "ms");
    bench_print("analytics_10m_orders_cpu_ms", bench_median(cpu, RUNS), "ms");
    bench_print("analytics_peak_rss_mb", bench_peak_rss_mb(), "MiB");
    crm_ctx_free(ctx);
    free(o.id);
    free(o.at);
    free(o.amount);
    free(ids);
    free(deciles);
    free(groups);
    return 0;
}
