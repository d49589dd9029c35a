/*
 * Benchmark of the scenario engine: N customers (default 1M), M mixed
 * events (default 10M) over 90 simulated days, the six ready-made
 * scenarios of examples/scenarios loaded, each customer's state decoded
 * and encoded on every event. Prints `name: value unit` lines.
 *
 * Usage: bench_scenario [customers] [events]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "crm/scenario.h"
#include "crm/segment.h"

#define SLOT 160 /* bytes kept per customer; the engine's state must fit */
#define RUNS 5
#define PREFETCH 16 /* events looked ahead */

static const char *const scenario_files[] = {
    "cart_abandonment.json", "f2_followup.json",  "dormant_reactivation.json",
    "birthday_coupon.json",  "point_expiry.json", "best_customer_welcome.json"};

typedef struct world {
    crm_ctx *ctx;
    crm_segment_schema *schema;
    crm_segment_record *record;
    crm_scenario_engine *engine;
    size_t customers;
    uint8_t *states; /* customers * SLOT */
    uint8_t *lens;
    uint64_t sends;
} world;

static int count_action(void *user, const crm_scenario_action *action)
{
    world *w = user;

    w->sends += action->kind == CRM_SCENARIO_SEND;
    return 0;
}

static char *read_file(const char *name, size_t *len)
{
    char path[512];
    const char *tail = strstr(__FILE__, "tests/bench/bench_scenario.c");
    FILE *f;
    char *text;
    long size;

    snprintf(path, sizeof path, "%.*sexamples/scenarios/%s",
             tail ? (int)(tail - __FILE__) : 0, __FILE__, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)size);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size)
        exit(1);
    fclose(f);
    *len = (size_t)size;
    return text;
}

static void check(crm_status st, world *w, const char *what)
{
    if (st != CRM_OK) {
        fprintf(stderr, "%s: %s\n", what, crm_ctx_errmsg(w->ctx));
        exit(1);
    }
}

static void world_init(world *w, size_t customers)
{
    size_t i, len;

    memset(w, 0, sizeof *w);
    check(crm_ctx_new(&w->ctx), w, "ctx");
    check(crm_segment_schema_new_standard(w->ctx, &w->schema), w, "schema");
    check(crm_segment_schema_add(w->schema, "cart_total", CRM_SEGMENT_MONEY, NULL), w, "attr");
    check(crm_segment_record_new(w->schema, &w->record), w, "record");
    check(crm_scenario_engine_new(w->ctx, w->schema, &w->engine), w, "engine");
    check(crm_scenario_engine_set_default_offset(w->engine, 540), w, "offset");
    check(crm_scenario_engine_set_quiet_hours(w->engine, 21 * 60, 9 * 60), w, "quiet");
    check(crm_scenario_engine_set_frequency_cap(w->engine, NULL, 3, 7 * 86400), w, "cap");
    for (i = 0; i < sizeof scenario_files / sizeof scenario_files[0]; i++) {
        char *json = read_file(scenario_files[i], &len);

        check(crm_scenario_engine_load(w->engine, json, len), w, scenario_files[i]);
        free(json);
    }
    w->customers = customers;
    w->states = calloc(customers, SLOT);
    w->lens = calloc(customers, 1);
    if (!w->states || !w->lens)
        exit(1);
}

static void world_free(world *w)
{
    crm_scenario_engine_free(w->engine);
    crm_segment_record_free(w->record);
    crm_segment_schema_free(w->schema);
    crm_ctx_free(w->ctx);
    free(w->states);
    free(w->lens);
}

/*
 * The customer's record as the shop would fill it before a call: stable
 * per customer (orders, birthday, points), the cart total of this event.
 */
static void fill_record(world *w, uint64_t customer, uint64_t r)
{
    crm_segment_record *rec = w->record;

    crm_segment_record_clear(rec);
    crm_segment_record_set_int(rec, CRM_SEGMENT_STD_ORDER_COUNT, (int64_t)(customer % 4));
    crm_segment_record_set_time(rec, CRM_SEGMENT_STD_LAST_ORDER_AT,
                                1714521600 - (int64_t)(customer % 200) * 86400);
    crm_segment_record_set_time(rec, CRM_SEGMENT_STD_BIRTHDAY,
                                631152000 + (int64_t)(customer % 365) * 86400);
    crm_segment_record_set_bool(rec, CRM_SEGMENT_STD_EMAIL_OPT_IN, 1);
    crm_segment_record_set_int(rec, CRM_SEGMENT_STD_POINTS_BALANCE, (int64_t)(customer % 1000));
    crm_segment_record_set_time(rec, CRM_SEGMENT_STD_POINTS_EXPIRE_AT,
                                1714521600 + (int64_t)(customer % 120) * 86400);
    if (customer % 10 == 0)
        crm_segment_record_set_string(rec, CRM_SEGMENT_STD_RFM_GROUP, "champions", 9);
    crm_segment_record_set_money(rec, CRM_SEGMENT_STD_COUNT, (int64_t)(r % 10000));
}

/* CPU time of this process in ms: the figure that does not depend on other load. */
static double cpu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double run(world *w, size_t events, uint64_t seed, double *cpu_ms)
{
    static const char *const types[] = {"page_view", "cart_abandoned", "order_placed",
                                        "page_view", "cart_abandoned", "page_view"};
    const int64_t t0 = 1714521600; /* 2024-05-01 */
    const int64_t span = 90 * 86400;
    size_t out_cap = crm_scenario_engine_max_state(w->engine);
    uint8_t *out = malloc(out_cap);
    size_t i, len;
    int64_t wake;
    double start;

    uint64_t ahead[PREFETCH];

    if (!out)
        exit(1);
    memset(w->lens, 0, w->customers);
    for (i = 0; i < PREFETCH; i++)
        ahead[i] = bench_rand(&seed);
    *cpu_ms = cpu_now_ms();
    start = bench_now_ms();
    for (i = 0; i < events; i++) {
        uint64_t r = ahead[i % PREFETCH];
        uint64_t c = r % w->customers;
        int64_t now = t0 + (int64_t)((double)span * (double)i / (double)events);
        uint8_t *slot = w->states + c * SLOT;
        crm_status st;

        /* A shop's store would fetch the coming customers' states ahead too. */
        ahead[i % PREFETCH] = bench_rand(&seed);
        __builtin_prefetch(w->states + (ahead[i % PREFETCH] % w->customers) * SLOT);
        __builtin_prefetch(w->lens + ahead[i % PREFETCH] % w->customers);
        fill_record(w, c, r >> 20);
        if ((r >> 8) % 10 == 0)
            st = crm_scenario_advance(w->engine, (int64_t)c, CRM_SCENARIO_OFFSET_DEFAULT, slot,
                                      w->lens[c], w->record, now, count_action, w, out,
                                      out_cap, &len, &wake);
        else
            st = crm_scenario_on_event(w->engine, (int64_t)c, CRM_SCENARIO_OFFSET_DEFAULT, slot,
                                       w->lens[c], w->record, types[(r >> 12) % 6], now,
                                       count_action, w, out, out_cap, &len, &wake);
        check(st, w, "event");
        if (len > SLOT) {
            fprintf(stderr, "state of %zu bytes exceeds the %d-byte slot\n", len, SLOT);
            exit(1);
        }
        memcpy(slot, out, len);
        w->lens[c] = (uint8_t)len;
    }
    *cpu_ms = cpu_now_ms() - *cpu_ms;
    free(out);
    return bench_now_ms() - start;
}

static double state_percentile(const world *w, double q)
{
    size_t counts[SLOT + 1] = {0}, i, seen = 0, n = 0;

    for (i = 0; i < w->customers; i++)
        if (w->lens[i] > 0) {
            counts[w->lens[i]]++;
            n++;
        }
    for (i = 0; i <= SLOT; i++) {
        seen += counts[i];
        if (n > 0 && (double)seen >= q * (double)n)
            return (double)i;
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t customers = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    size_t events = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 10000000;
    double ms[RUNS], cpu[RUNS];
    world w;
    int k;

    world_init(&w, customers);
    for (k = 0; k < RUNS; k++) {
        w.sends = 0;
        ms[k] = run(&w, events, 42, &cpu[k]);
    }
    bench_print("scenario_customers", (double)customers, "customers");
    bench_print("scenario_events", (double)events, "events");
    bench_print("scenario_events_per_s", (double)events / (bench_median(ms, RUNS) / 1e3),
                "events/s");
    bench_print("scenario_events_per_cpu_s", (double)events / (bench_median(cpu, RUNS) / 1e3),
                "events/s");
    bench_print("scenario_sends", (double)w.sends, "sends");
    bench_print("scenario_state_bytes_p50", state_percentile(&w, 0.5), "bytes");
    bench_print("scenario_state_bytes_p99", state_percentile(&w, 0.99), "bytes");
    bench_print("scenario_state_bytes_bound", (double)crm_scenario_engine_max_state(w.engine),
                "bytes");
    bench_print("scenario_peak_rss_mb", bench_peak_rss_mb(), "MiB");
    world_free(&w);
    return 0;
}
