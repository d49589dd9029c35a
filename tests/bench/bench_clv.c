/*
 * Benchmarks of the clv module. Prints `name: value unit` lines:
 *   bgnbd_cdnow_fit_ms   BG/NBD fit on the CDNOW summary (needs
 *                        CRM_REFERENCE_DATA; skipped otherwise)
 *   bgnbd_1m_fit_ms      BG/NBD fit on 1M customers simulated from the
 *                        BG/NBD process (deterministic), days
 *   clv_predict_per_s    customers per second of conditional expected
 *                        purchases (bulk, 90-day horizon) on those customers
 *   clv_alive_per_s, clv_value_per_s (12 months), peak_rss_mb
 * Every time is the median of 5 runs, single-threaded, measured as the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID) so that other processes on a
 * shared machine do not inflate it; wall-clock equals it on an idle core.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../clv_sim.h"
#include "bench_util.h"
#include "crm/clv.h"

#define RUNS 5
#define SYNTH_N 1000000

static double cpu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void check(crm_status st, crm_ctx *ctx, const char *what)
{
    if (st != CRM_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, crm_strerror(st),
                crm_ctx_errmsg(ctx));
        exit(1);
    }
}

static double median_fit_ms(crm_ctx *ctx, crm_clv_unit unit,
                            const crm_clv_summary *s)
{
    double times[RUNS];
    int i;

    for (i = 0; i < RUNS; i++) {
        crm_clv_model *m = NULL;
        double t0;

        check(crm_clv_model_new(ctx, CRM_CLV_BGNBD, unit, &m), ctx, "model_new");
        t0 = cpu_now_ms();
        check(crm_clv_model_fit(m, s), ctx, "fit");
        times[i] = cpu_now_ms() - t0;
        crm_clv_model_free(m);
    }
    return bench_median(times, RUNS);
}

static void bench_cdnow(crm_ctx *ctx)
{
    static double x[4000], tx[4000], T[4000];
    const char *dir = getenv("CRM_REFERENCE_DATA");
    char path[4096], line[256];
    crm_clv_summary *s = NULL;
    size_t n = 0;
    FILE *f;

    if (!dir) {
        printf("# bgnbd_cdnow_fit_ms skipped: CRM_REFERENCE_DATA is not set\n");
        return;
    }
    snprintf(path, sizeof path, "%s/cdnow_summary.csv", dir);
    f = fopen(path, "r");
    if (!f || !fgets(line, sizeof line, f)) {
        printf("# bgnbd_cdnow_fit_ms skipped: cannot read %s\n", path);
        if (f)
            fclose(f);
        return;
    }
    while (n < 4000 && fgets(line, sizeof line, f)) {
        int id;
        double zbar;

        if (sscanf(line, "%d,%lf,%lf,%lf,%lf", &id, &x[n], &tx[n], &T[n], &zbar) == 5)
            n++;
    }
    fclose(f);
    check(crm_clv_summary_from_arrays(ctx, NULL, x, tx, T, NULL, n, CRM_CLV_WEEKS, &s),
          ctx, "summary");
    bench_print("bgnbd_cdnow_fit_ms", median_fit_ms(ctx, CRM_CLV_WEEKS, s), "ms");
    crm_clv_summary_free(s);
}

/* Customers per second of a bulk prediction (median of RUNS). */
static double predict_rate(crm_ctx *ctx, const crm_clv_model *pm,
                           const crm_clv_model *sm, int what, const double *x,
                           const double *tx, const double *T, const double *m,
                           size_t n, double *out)
{
    double times[RUNS];
    int i;

    for (i = 0; i < RUNS; i++) {
        double t0 = cpu_now_ms();

        if (what == 0)
            check(crm_clv_model_conditional_bulk(pm, 90, x, tx, T, n, out), ctx, "predict");
        else if (what == 1)
            check(crm_clv_model_alive_bulk(pm, x, tx, T, n, out), ctx, "alive");
        else
            check(crm_clv_value_bulk(pm, sm, 12, 0.01, x, tx, T, m, n, out), ctx, "value");
        times[i] = cpu_now_ms() - t0;
    }
    return (double)n / (bench_median(times, RUNS) / 1e3);
}

static void bench_synthetic(crm_ctx *ctx)
{
    static const double truth[4] = {0.25, 30.0, 0.8, 2.5};
    static const double spend[3] = {6.25, 3.74, 15.44};
    double *x = malloc(SYNTH_N * sizeof *x), *tx = malloc(SYNTH_N * sizeof *tx);
    double *T = malloc(SYNTH_N * sizeof *T), *m = malloc(SYNTH_N * sizeof *m);
    double *out = malloc(SYNTH_N * sizeof *out);
    crm_clv_summary *s = NULL;
    crm_clv_model *pm = NULL, *sm = NULL;
    size_t i, value_n = SYNTH_N / 10;

    if (!x || !tx || !T || !m || !out)
        exit(1);
    clv_sim_bgnbd(2024, truth, SYNTH_N, 30, 365, x, tx, T);
    for (i = 0; i < SYNTH_N; i++)
        m[i] = x[i] > 0 ? (double)(1000 + i % 9000) : 0.0;
    check(crm_clv_summary_from_arrays(ctx, NULL, x, tx, T, m, SYNTH_N, CRM_CLV_DAYS, &s),
          ctx, "summary");
    bench_print("bgnbd_1m_fit_ms", median_fit_ms(ctx, CRM_CLV_DAYS, s), "ms");
    check(crm_clv_model_new(ctx, CRM_CLV_BGNBD, CRM_CLV_DAYS, &pm), ctx, "model");
    check(crm_clv_model_fit(pm, s), ctx, "fit");
    check(crm_clv_model_new(ctx, CRM_CLV_GAMMAGAMMA, CRM_CLV_DAYS, &sm), ctx, "model");
    check(crm_clv_model_set_params(sm, spend, 3), ctx, "params");
    bench_print("clv_predict_per_s",
                predict_rate(ctx, pm, sm, 0, x, tx, T, m, SYNTH_N, out), "customers/s");
    bench_print("clv_alive_per_s",
                predict_rate(ctx, pm, sm, 1, x, tx, T, m, SYNTH_N, out), "customers/s");
    bench_print("clv_value_per_s",
                predict_rate(ctx, pm, sm, 2, x, tx, T, m, value_n, out), "customers/s");
    crm_clv_model_free(pm);
    crm_clv_model_free(sm);
    crm_clv_summary_free(s);
    free(x);
    free(tx);
    free(T);
    free(m);
    free(out);
}

int main(void)
{
    crm_ctx *ctx = NULL;

    if (crm_ctx_new(&ctx) != CRM_OK)
        return 1;
    bench_cdnow(ctx);
    bench_synthetic(ctx);
    bench_print("peak_rss_mb", bench_peak_rss_mb(), "MiB");
    crm_ctx_free(ctx);
    return 0;
}
