/*
 * RFM benchmark: 10M orders of about 2M customers (heavy-tailed repeat
 * behaviour, 5 orders per customer on average, shuffled) ingested in one
 * call and scored; then 2M per-customer aggregates scored. Prints medians
 * of 5 runs and the peak memory the library held per customer.
 * `bench_rfm --rows FILE` times per-row and bulk adds of the caller's rows
 * instead (see run_rows).
 */
#include <math.h>

#include "bench_util.h"
#include "crm/rfm.h"

#define ORDERS 10000000u
#define CUSTOMERS 2000000u
#define RUNS 5
#define AS_OF INT64_C(1735689600) /* 2025-01-01T00:00:00Z */

typedef struct orders {
    int64_t *id, *at, *amount;
    size_t n, customers;
} orders;

/* ---- A counting allocator: peak bytes held by the library ---------------- */

typedef struct counter {
    size_t live, peak;
} counter;

static void *count_malloc(void *user, size_t size)
{
    counter *c = user;
    size_t *p = malloc(size + 16);

    if (!p)
        return NULL;
    p[0] = size;
    c->live += size;
    if (c->live > c->peak)
        c->peak = c->live;
    return (char *)p + 16;
}

static void count_free(void *user, void *ptr)
{
    counter *c = user;

    if (ptr) {
        size_t *p = (size_t *)((char *)ptr - 16);
        c->live -= p[0];
        free(p);
    }
}

static void *count_realloc(void *user, void *ptr, size_t size)
{
    counter *c = user;
    size_t *p, old;

    if (!ptr)
        return count_malloc(user, size);
    p = (size_t *)((char *)ptr - 16);
    old = p[0];
    p = realloc(p, size + 16);
    if (!p)
        return NULL;
    p[0] = size;
    c->live = c->live - old + size;
    if (c->live > c->peak)
        c->peak = c->live;
    return (char *)p + 16;
}

/* ---- Data ------------------------------------------------------------------ */

/* Orders of one customer: 1 + a Pareto (alpha 1.5) tail. */
static size_t draw_order_count(uint64_t *rng)
{
    double u = 1.0 - bench_uniform(rng);
    double x = 2.6 * (pow(u, -1.0 / 1.5) - 1.0);

    return 1 + (size_t)(x > 5000 ? 5000 : x);
}

/* Heavy-tailed counts for CUSTOMERS customers, nudged to sum to ORDERS. */
static size_t *draw_counts(uint64_t *rng)
{
    size_t *count = malloc(CUSTOMERS * sizeof *count), total = 0, c;

    for (c = 0; c < CUSTOMERS; c++)
        total += count[c] = draw_order_count(rng);
    while (total != ORDERS) {
        c = (size_t)(bench_rand(rng) % CUSTOMERS);
        if (total > ORDERS && count[c] > 1) {
            count[c]--;
            total--;
        } else if (total < ORDERS) {
            count[c]++;
            total++;
        }
    }
    return count;
}

static void generate(orders *o, uint64_t seed)
{
    uint64_t rng = seed;
    size_t *count = draw_counts(&rng), i = 0, c, k;

    o->id = malloc(ORDERS * sizeof *o->id);
    o->at = malloc(ORDERS * sizeof *o->at);
    o->amount = malloc(ORDERS * sizeof *o->amount);
    for (c = 0; c < CUSTOMERS; c++) {
        int64_t id = (int64_t)(bench_rand(&rng) >> 1);
        int64_t first = AS_OF - 1 - (int64_t)(bench_uniform(&rng) * 3 * 365 * 86400.0);
        for (k = 0; k < count[c]; k++, i++) {
            o->id[i] = id;
            o->at[i] = first + (int64_t)(bench_uniform(&rng) * (double)(AS_OF - first));
            o->amount[i] = 500 + (int64_t)(bench_uniform(&rng) * bench_uniform(&rng) * 30000);
            if (bench_uniform(&rng) < 0.03)
                o->amount[i] = -o->amount[i];
        }
    }
    o->n = i;
    o->customers = CUSTOMERS;
    free(count);
    for (i = o->n - 1; i > 0; i--) {
        size_t j = (size_t)(bench_rand(&rng) % (i + 1));
        int64_t t;
        t = o->id[i]; o->id[i] = o->id[j]; o->id[j] = t;
        t = o->at[i]; o->at[i] = o->at[j]; o->at[j] = t;
        t = o->amount[i]; o->amount[i] = o->amount[j]; o->amount[j] = t;
    }
}

static void check(crm_status s, const char *what, crm_ctx *ctx)
{
    if (s != CRM_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, crm_strerror(s), crm_ctx_errmsg(ctx));
        exit(1);
    }
}

/* A fresh handle scoring as of AS_OF (exits on failure). */
static crm_rfm *new_rfm(crm_ctx *ctx)
{
    crm_rfm *rfm;

    check(crm_rfm_new(ctx, &rfm), "new", ctx);
    check(crm_rfm_set_as_of(rfm, AS_OF), "as_of", ctx);
    return rfm;
}

/*
 * One ingest + score of the orders into a fresh handle (reserving room for
 * the customers first when `reserve`). Returns wall ms; *cpu gets CPU ms,
 * *peak the most bytes the library held at once.
 */
static double run_orders(const orders *o, int reserve, double *cpu,
                         size_t *peak, size_t *customers)
{
    counter c = {0, 0};
    crm_ctx *ctx;
    crm_rfm *rfm;
    double t0, t1;

    if (crm_ctx_new_with_allocator(count_malloc, count_realloc, count_free, &c, &ctx) != CRM_OK)
        exit(1);
    rfm = new_rfm(ctx);
    t0 = bench_now_ms();
    *cpu = bench_cpu_ms();
    if (reserve)
        check(crm_rfm_reserve(rfm, o->customers), "reserve", ctx);
    check(crm_rfm_add_orders(rfm, o->id, o->at, o->amount, o->n), "add_orders", ctx);
    check(crm_rfm_score(rfm), "score", ctx);
    *cpu = bench_cpu_ms() - *cpu;
    t1 = bench_now_ms();
    *peak = c.peak;
    *customers = crm_rfm_customer_count(rfm);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
    return t1 - t0;
}

/*
 * RUNS ingest + score rounds into one handle emptied with crm_rfm_clear in
 * between, as a service rescoring nightly would: the tables are reused, so
 * no fresh pages are faulted in for them. Fills ms[] and cpu[].
 */
static void run_orders_reused(const orders *o, double *ms, double *cpu)
{
    crm_ctx *ctx;
    crm_rfm *rfm;
    size_t r;

    check(crm_ctx_new(&ctx), "ctx", NULL);
    rfm = new_rfm(ctx);
    for (r = 0; r <= RUNS; r++) {
        double t0, c0;
        check(crm_rfm_clear(rfm), "clear", ctx);
        t0 = bench_now_ms();
        c0 = bench_cpu_ms();
        check(crm_rfm_add_orders(rfm, o->id, o->at, o->amount, o->n), "add_orders", ctx);
        check(crm_rfm_score(rfm), "score", ctx);
        if (r > 0) { /* the first round only warms the tables */
            cpu[r - 1] = bench_cpu_ms() - c0;
            ms[r - 1] = bench_now_ms() - t0;
        }
    }
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}

/* Per-customer aggregates of the orders (computed here, not timed). */
static void aggregate(const orders *o, int64_t **ids, int64_t **last,
                      int64_t **count, int64_t **total, size_t *n)
{
    crm_ctx *ctx;
    crm_rfm *rfm;
    size_t k;
    int64_t *rec, *freq;

    check(crm_ctx_new(&ctx), "ctx", NULL);
    rfm = new_rfm(ctx);
    check(crm_rfm_add_orders(rfm, o->id, o->at, o->amount, o->n), "add", ctx);
    check(crm_rfm_score(rfm), "score", ctx);
    *n = crm_rfm_customer_count(rfm);
    *ids = malloc(*n * sizeof **ids);
    *last = malloc(*n * sizeof **last);
    *count = malloc(*n * sizeof **count);
    *total = malloc(*n * sizeof **total);
    rec = malloc(*n * sizeof *rec);
    freq = malloc(*n * sizeof *freq);
    check(crm_rfm_export(rfm, *ids, rec, freq, *total, NULL, NULL, NULL, *n), "export", ctx);
    for (k = 0; k < *n; k++) {
        (*count)[k] = freq[k];
        (*last)[k] = rec[k] < 0 ? 0 : AS_OF - 1 - rec[k] * 86400;
    }
    free(rec);
    free(freq);
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
}

static double run_aggregates(const int64_t *ids, const int64_t *last,
                             const int64_t *count, const int64_t *total, size_t n,
                             double *cpu)
{
    crm_ctx *ctx;
    crm_rfm *rfm;
    double t0, t1;

    check(crm_ctx_new(&ctx), "ctx", NULL);
    rfm = new_rfm(ctx);
    t0 = bench_now_ms();
    *cpu = bench_cpu_ms();
    check(crm_rfm_add_aggregates(rfm, ids, last, count, total, n), "add_aggregates", ctx);
    check(crm_rfm_score(rfm), "score", ctx);
    *cpu = bench_cpu_ms() - *cpu;
    t1 = bench_now_ms();
    crm_rfm_free(rfm);
    crm_ctx_free(ctx);
    return t1 - t0;
}

/*
 * bench_rfm --rows FILE: the C side of the bindings' per-row overhead
 * figure. FILE holds n ids, then n times, then n amounts (native int64);
 * prints the CPU ns per row of n crm_rfm_add_order calls and of one
 * crm_rfm_add_orders call, each into a fresh handle, medians of RUNS.
 */
static int run_rows(const char *path)
{
    FILE *f = fopen(path, "rb");
    double per_row[RUNS], bulk[RUNS];
    int64_t *col;
    long bytes;
    size_t n, i, r;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) <= 0 ||
        bytes % 24 != 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(col = malloc((size_t)bytes)) ||
        fread(col, 8, (size_t)bytes / 8, f) != (size_t)bytes / 8) {
        fprintf(stderr, "%s: not a file of three int64 columns\n", path);
        exit(1);
    }
    fclose(f);
    n = (size_t)bytes / 24;
    for (r = 0; r < RUNS; r++) {
        crm_ctx *ctx;
        crm_rfm *rfm;
        double t;

        check(crm_ctx_new(&ctx), "ctx", NULL);
        rfm = new_rfm(ctx);
        t = bench_cpu_ms();
        for (i = 0; i < n; i++)
            check(crm_rfm_add_order(rfm, col[i], col[n + i], col[2 * n + i]), "add_order", ctx);
        per_row[r] = (bench_cpu_ms() - t) * 1e6 / (double)n;
        crm_rfm_free(rfm);
        rfm = new_rfm(ctx);
        t = bench_cpu_ms();
        check(crm_rfm_add_orders(rfm, col, col + n, col + 2 * n, n), "add_orders", ctx);
        bulk[r] = (bench_cpu_ms() - t) * 1e6 / (double)n;
        crm_rfm_free(rfm);
        crm_ctx_free(ctx);
    }
    bench_print("rfm_rows_add_order_per_row_ns", bench_median(per_row, RUNS), "ns");
    bench_print("rfm_rows_add_orders_bulk_per_row_ns", bench_median(bulk, RUNS), "ns");
    free(col);
    return 0;
}

int main(int argc, char **argv)
{
    orders o;
    double ms[RUNS], cpu[RUNS], agg_ms[RUNS], median;
    size_t peak = 0, customers = 0, r, n;
    int64_t *ids, *last, *count, *total;

    if (argc == 3 && strcmp(argv[1], "--rows") == 0)
        return run_rows(argv[2]);
    generate(&o, 20240101);
    bench_print("rfm_orders", (double)o.n, "orders");
    for (r = 0; r < RUNS; r++)
        ms[r] = run_orders(&o, 0, &cpu[r], &peak, &customers);
    median = bench_median(ms, RUNS);
    bench_print("rfm_customers", (double)customers, "customers");
    bench_print("rfm_10m_orders_ms", median, "ms");
    bench_print("rfm_10m_orders_cpu_ms", bench_median(cpu, RUNS), "ms");
    bench_print("rfm_orders_per_s", (double)o.n / (median / 1000.0), "orders/s");
    bench_print("rfm_bytes_per_customer", (double)peak / (double)customers, "bytes");
    for (r = 0; r < RUNS; r++)
        ms[r] = run_orders(&o, 1, &cpu[r], &peak, &customers);
    median = bench_median(ms, RUNS);
    bench_print("rfm_10m_orders_reserved_ms", median, "ms");
    bench_print("rfm_10m_orders_reserved_cpu_ms", bench_median(cpu, RUNS), "ms");
    bench_print("rfm_reserved_bytes_per_customer", (double)peak / (double)customers, "bytes");
    run_orders_reused(&o, ms, cpu);
    bench_print("rfm_10m_orders_reused_ms", bench_median(ms, RUNS), "ms");
    bench_print("rfm_10m_orders_reused_cpu_ms", bench_median(cpu, RUNS), "ms");
    aggregate(&o, &ids, &last, &count, &total, &n);
    for (r = 0; r < RUNS; r++)
        agg_ms[r] = run_aggregates(ids, last, count, total, n, &cpu[r]);
    bench_print("rfm_2m_aggregates_ms", bench_median(agg_ms, RUNS), "ms");
    bench_print("rfm_2m_aggregates_cpu_ms", bench_median(cpu, RUNS), "ms");
    bench_print("rfm_peak_rss", bench_peak_rss_mb(), "MiB");
    free(ids); free(last); free(count); free(total);
    free(o.id); free(o.at); free(o.amount);
    return 0;
}
