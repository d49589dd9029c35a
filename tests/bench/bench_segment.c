/*
 * Benchmark of the segment module: compile time of a 5-clause rule,
 * row-at-a-time throughput, a 5-clause rule over 10M customers in columnar
 * batch, and 100 segments over one record. Prints `name: value unit`;
 * every figure is the median of 5 runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "crm/segment.h"

#define RUNS 5
#define BATCH_ROWS 10000000
#define ROW_RECORDS 1024
#define ROW_EVALS 10000000
#define NOW INT64_C(1717200000)

static const char rule5[] =
    "order_count >= 2 AND total_spent > 10000 AND last_order_at < -90d AND "
    "points_balance BETWEEN 100 AND 5000 AND email_opt_in";

static void die(const char *what, crm_ctx *ctx)
{
    fprintf(stderr, "%s failed: %s\n", what, crm_ctx_errmsg(ctx));
    exit(1);
}

static crm_segment_program *compile(crm_ctx *ctx, crm_segment_schema *s, const char *rule)
{
    crm_segment_program *p = NULL;

    if (crm_segment_compile(s, rule, strlen(rule), 540, &p) != CRM_OK)
        die("compile", ctx);
    return p;
}

static void bench_compile(crm_ctx *ctx, crm_segment_schema *s)
{
    double samples[RUNS];
    int run, i, n = 20000;

    for (run = 0; run < RUNS; run++) {
        double t0 = bench_now_ms();

        for (i = 0; i < n; i++)
            crm_segment_program_free(compile(ctx, s, rule5));
        samples[run] = (bench_now_ms() - t0) * 1000.0 / n;
    }
    bench_print("segment_compile_us", bench_median(samples, RUNS), "us");
}

static void fill_record(crm_segment_record *r, uint64_t *rng)
{
    crm_segment_record_clear(r);
    if (bench_rand(rng) % 10)
        crm_segment_record_set_int(r, CRM_SEGMENT_STD_ORDER_COUNT,
                                   (int64_t)(bench_rand(rng) % 10));
    crm_segment_record_set_money(r, CRM_SEGMENT_STD_TOTAL_SPENT,
                                 (int64_t)(bench_rand(rng) % 50000));
    crm_segment_record_set_time(r, CRM_SEGMENT_STD_LAST_ORDER_AT,
                                NOW - (int64_t)(bench_rand(rng) % (400 * 86400)));
    crm_segment_record_set_int(r, CRM_SEGMENT_STD_POINTS_BALANCE,
                               (int64_t)(bench_rand(rng) % 8000));
    crm_segment_record_set_bool(r, CRM_SEGMENT_STD_EMAIL_OPT_IN, (int)(bench_rand(rng) % 2));
    crm_segment_record_set_int(r, CRM_SEGMENT_STD_RFM_R, (int64_t)(bench_rand(rng) % 5) + 1);
    crm_segment_record_set_int(r, CRM_SEGMENT_STD_RFM_F, (int64_t)(bench_rand(rng) % 5) + 1);
    crm_segment_record_set_string(r, CRM_SEGMENT_STD_PREFECTURE, "Tokyo", 5);
    crm_segment_record_add_string(r, CRM_SEGMENT_STD_TAGS, bench_rand(rng) % 3 ? "vip" : "new",
                                  3);
}

static void bench_rows(crm_ctx *ctx, crm_segment_schema *s)
{
    crm_segment_record *recs[ROW_RECORDS];
    crm_segment_program *p = compile(ctx, s, rule5);
    double samples[RUNS];
    uint64_t rng = 1;
    size_t matches = 0;
    int run, i;

    for (i = 0; i < ROW_RECORDS; i++) {
        if (crm_segment_record_new(s, &recs[i]) != CRM_OK)
            die("record_new", ctx);
        fill_record(recs[i], &rng);
    }
    for (run = 0; run < RUNS; run++) {
        double t0 = bench_now_ms();

        for (i = 0; i < ROW_EVALS; i++) {
            crm_segment_result res;

            crm_segment_program_eval(p, recs[i % ROW_RECORDS], NOW, &res);
            matches += res == CRM_SEGMENT_TRUE;
        }
        samples[run] = ROW_EVALS / ((bench_now_ms() - t0) / 1000.0);
    }
    bench_print("segment_rows_per_s", bench_median(samples, RUNS), "rows/s");
    if (matches == 0)
        fprintf(stderr, "no row matched\n");
    for (i = 0; i < ROW_RECORDS; i++)
        crm_segment_record_free(recs[i]);
    crm_segment_program_free(p);
}

static void bench_set(crm_ctx *ctx, crm_segment_schema *s)
{
    static const char *templates[] = {
        "order_count >= %d AND total_spent > %d0",
        "rfm_r = %d AND rfm_f >= %d",
        "last_order_at < -%dd OR points_balance > %d00",
        "tags CONTAINS 'vip' AND order_count > %d AND total_spent < %d000",
        "prefecture IN ('Tokyo', 'Osaka') AND rfm_r >= %d AND NOT email_opt_in AND "
        "points_balance > %d",
    };
    crm_segment_set *set = NULL;
    crm_segment_record *r = NULL;
    double samples[RUNS];
    uint8_t bits[13];
    uint64_t rng = 9;
    char rule[256];
    int run, i, n = 100000;

    if (crm_segment_set_new(s, &set) != CRM_OK || crm_segment_record_new(s, &r) != CRM_OK)
        die("set_new", ctx);
    for (i = 0; i < 100; i++) {
        crm_segment_program *p;

        snprintf(rule, sizeof rule, templates[i % 5], i % 7 + 1, i + 3);
        p = compile(ctx, s, rule);
        if (crm_segment_set_add(set, p, NULL) != CRM_OK)
            die("set_add", ctx);
        crm_segment_program_free(p);
    }
    fill_record(r, &rng);
    for (run = 0; run < RUNS; run++) {
        double t0 = bench_now_ms();

        for (i = 0; i < n; i++)
            crm_segment_set_eval(set, r, NOW + i, bits, sizeof bits);
        samples[run] = (bench_now_ms() - t0) * 1000.0 / n;
    }
    bench_print("segment_100_set_us", bench_median(samples, RUNS), "us");
    crm_segment_record_free(r);
    crm_segment_set_free(set);
}

typedef struct batch_columns {
    int64_t *count, *spent, *last, *points;
    uint8_t *opt_in, *count_valid, *last_valid, *match;
} batch_columns;

static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static void make_columns(batch_columns *c)
{
    size_t r, nbytes = (BATCH_ROWS + 7) / 8;
    uint64_t rng = 5;

    c->count = xmalloc(BATCH_ROWS * sizeof(int64_t));
    c->spent = xmalloc(BATCH_ROWS * sizeof(int64_t));
    c->last = xmalloc(BATCH_ROWS * sizeof(int64_t));
    c->points = xmalloc(BATCH_ROWS * sizeof(int64_t));
    c->opt_in = xmalloc(BATCH_ROWS);
    c->count_valid = xmalloc(nbytes);
    c->last_valid = xmalloc(nbytes);
    c->match = xmalloc(nbytes);
    memset(c->count_valid, 0xff, nbytes);
    memset(c->last_valid, 0xff, nbytes);
    for (r = 0; r < BATCH_ROWS; r++) {
        uint64_t x = bench_rand(&rng);

        c->count[r] = (int64_t)(x % 10);
        c->spent[r] = (int64_t)((x >> 8) % 50000);
        c->last[r] = NOW - (int64_t)((x >> 24) % (400 * 86400));
        c->points[r] = (int64_t)((x >> 48) % 8000);
        c->opt_in[r] = (uint8_t)((x >> 62) & 1);
        if ((x >> 4) % 10 == 0)
            c->count_valid[r / 8] = (uint8_t)(c->count_valid[r / 8] & ~(1u << (r % 8)));
    }
}

static void bench_batch(crm_ctx *ctx, crm_segment_schema *s)
{
    batch_columns c;
    crm_segment_batch *b = NULL;
    crm_segment_program *p = compile(ctx, s, rule5);
    double samples[RUNS];
    size_t r, matches = 0;
    int run;

    make_columns(&c);
    if (crm_segment_batch_new(s, BATCH_ROWS, &b) != CRM_OK ||
        crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_ORDER_COUNT, c.count, c.count_valid) ||
        crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_TOTAL_SPENT, c.spent, NULL) ||
        crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_LAST_ORDER_AT, c.last, c.last_valid) ||
        crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_POINTS_BALANCE, c.points, NULL) ||
        crm_segment_batch_bind_bool(b, CRM_SEGMENT_STD_EMAIL_OPT_IN, c.opt_in, NULL))
        die("batch", ctx);
    for (run = 0; run < RUNS; run++) {
        double t0 = bench_now_ms();

        if (crm_segment_program_eval_batch(p, b, NOW, c.match, NULL) != CRM_OK)
            die("eval_batch", ctx);
        samples[run] = bench_now_ms() - t0;
    }
    for (r = 0; r < (BATCH_ROWS + 7) / 8; r++)
        matches += (size_t)__builtin_popcount(c.match[r]);
    bench_print("segment_10m_batch_ms", bench_median(samples, RUNS), "ms");
    bench_print("segment_10m_batch_matches", (double)matches, "rows");
    crm_segment_batch_free(b);
    crm_segment_program_free(p);
    free(c.count), free(c.spent), free(c.last), free(c.points), free(c.opt_in);
    free(c.count_valid), free(c.last_valid), free(c.match);
}

int main(void)
{
    crm_ctx *ctx = NULL;
    crm_segment_schema *s = NULL;

    if (crm_ctx_new(&ctx) != CRM_OK || crm_segment_schema_new_standard(ctx, &s) != CRM_OK)
        return 1;
    bench_compile(ctx, s);
    bench_rows(ctx, s);
    bench_set(ctx, s);
    bench_batch(ctx, s);
    bench_print("segment_peak_rss_mb", bench_peak_rss_mb(), "MiB");
    crm_segment_schema_free(s);
    crm_ctx_free(ctx);
    return 0;
}
