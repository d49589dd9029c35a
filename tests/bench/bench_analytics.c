/*
 * Benchmark of the customer-value analytics: 10M orders of about 2M
 * customers over three years (deterministic), ingested once and then every
 * report (deciles, F2 at 30 days and its 30..720-day curve, repeat rate,
 * cohort matrix and 12-month LTV, CPM, the per-customer export).
 * Prints `analytics_10m_orders_ms: N ms` (wall clock, median of 5 runs,
 * one core), the ingest alone, and the same total in CPU time (the figure
 * to trust when other jobs share the machine).
 */
#define _DEFAULT_SOURCE 1 /* madvise, MADV_HUGEPAGE */
#include <sys/mman.h>

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

/*
 * An allocator that asks for transparent huge pages on large blocks, as a
 * caller on Linux may do: random access over tens of MiB is dominated by
 * TLB misses with 4 KiB pages. Each block carries its size in front.
 */
#define HUGE_ALIGN ((size_t)2 << 20)
#define HEADER ((size_t)64)

static void *huge_malloc(void *user, size_t size)
{
    size_t total = size + HEADER;
    char *p;

    (void)user;
    if (total >= HUGE_ALIGN) {
        total = (total + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
        p = aligned_alloc(HUGE_ALIGN, total);
        if (p)
            madvise(p, total, MADV_HUGEPAGE);
    } else {
        p = malloc(total);
    }
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    return p + HEADER;
}

static void huge_free(void *user, void *ptr)
{
    (void)user;
    if (ptr)
        free((char *)ptr - HEADER);
}

static void *huge_realloc(void *user, void *ptr, size_t size)
{
    size_t old;
    void *fresh;

    if (!ptr)
        return huge_malloc(user, size);
    memcpy(&old, (char *)ptr - HEADER, sizeof old);
    fresh = huge_malloc(user, size);
    if (!fresh)
        return NULL;
    memcpy(fresh, ptr, old < size ? old : size);
    huge_free(user, ptr);
    return fresh;
}

/* CPU time of this process in ms: robust when other jobs share the core. */
static double cpu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

    o.id = huge_malloc(NULL, ORDERS * sizeof *o.id);
    o.at = huge_malloc(NULL, ORDERS * sizeof *o.at);
    o.amount = huge_malloc(NULL, ORDERS * sizeof *o.amount);
    if (!o.id || !o.at || !o.amount || !ids || !deciles || !groups ||
        crm_ctx_new_with_allocator(huge_malloc, huge_realloc, huge_free, NULL,
                                   &ctx) != CRM_OK)
        return 1;
    generate(&o);
    for (run = 0; run < RUNS; run++) {
        crm_analytics *a = NULL;
        uint64_t customers = 0;
        double c0 = cpu_now_ms(), t0 = bench_now_ms(), t1;

        if (crm_analytics_new(ctx, o.id, o.at, o.amount, ORDERS, AS_OF, 540,
                              &a) != CRM_OK)
            return 1;
        t1 = bench_now_ms();
        crm_analytics_totals(a, &customers, NULL, NULL, NULL, NULL);
        if (customers > CUSTOMERS ||
            run_reports(a, ids, deciles, groups, (size_t)customers) != 0)
            return 1;
        samples[run] = bench_now_ms() - t0;
        cpu[run] = cpu_now_ms() - c0;
        ingest[run] = t1 - t0;
        crm_analytics_free(a);
    }
    bench_print("analytics_10m_orders_ms", bench_median(samples, RUNS), "ms");
    bench_print("analytics_10m_ingest_ms", bench_median(ingest, RUNS), "ms");
    bench_print("analytics_10m_orders_cpu_ms", bench_median(cpu, RUNS), "ms");
    bench_print("analytics_peak_rss_mb", bench_peak_rss_mb(), "MiB");
    crm_ctx_free(ctx);
    huge_free(NULL, o.id);
    huge_free(NULL, o.at);
    huge_free(NULL, o.amount);
    free(ids);
    free(deciles);
    free(groups);
    return 0;
}
