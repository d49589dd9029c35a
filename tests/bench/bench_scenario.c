/*
 * Benchmark of the scenario engine: N customers (default 1M), M mixed
 * events (default 10M) over 90 simulated days, the six ready-made
 * scenarios of examples/scenarios loaded, each customer's state decoded
 * and encoded on every event. Prints `name: value unit` lines.
 *
 * The states live where a shop's in-memory store would keep them: one
 * fixed slot per customer holding a length byte and the state, in a column
 * the benchmark asks the kernel to back with transparent huge pages (2 MiB),
 * so that random access to a 160 MB column costs a cache miss, not also a
 * TLB miss. Passing "plain" as the third argument keeps the earlier layout
 * for comparison: a separate length column and ordinary 4 KiB pages.
 *
 * Usage: bench_scenario [customers] [events] [huge|plain]
 */
#define _DEFAULT_SOURCE /* madvise */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "crm/scenario.h"
#include "crm/segment.h"

#define SLOT 160 /* bytes kept per customer: a length byte, then the state */
#define HUGE_PAGE ((size_t)2 << 20)
#define RUNS 5
#define BATCH 16 /* events whose states are fetched together, one batch ahead */

static const char *const scenario_files[] = {
    "cart_abandonment.json", "f2_followup.json",  "dormant_reactivation.json",
    "birthday_coupon.json",  "point_expiry.json", "best_customer_welcome.json"};

typedef struct world {
    crm_ctx *ctx;
    crm_segment_schema *schema;
    crm_segment_record *record;
    crm_scenario_engine *engine;
    size_t customers;
    int huge;        /* slots hold their length and sit on huge pages */
    uint8_t *states; /* customers * SLOT */
    uint8_t *lens;   /* "plain" layout only: the length of each state */
    uint64_t sends;
} world;

/* One event drawn ahead: its random bits and its customer. */
typedef struct draw {
    uint64_t r;
    uint64_t customer;
} draw;

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

/*
 * The state column: with huge pages, aligned to 2 MiB and advised to the
 * kernel (which may still decline: the figures then match "plain").
 */
static uint8_t *alloc_states(size_t customers, int huge)
{
    size_t size = customers * SLOT;
    uint8_t *p;

    if (!huge)
        return calloc(customers, SLOT);
    size = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    p = aligned_alloc(HUGE_PAGE, size);
    if (!p)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);
#endif
    memset(p, 0, size);
    return p;
}

static void world_init(world *w, size_t customers, int huge)
{
    size_t i, len;

    memset(w, 0, sizeof *w);
    check(crm_ctx_new(&w->ctx), w, "ctx");
    check(crm_segment_schema_new_standard(w->ctx, &w->schema), w, "schema");
    check(crm_segment_schema_add(w->schema, "cart_total", CRM_SEGMENT_MONEY, NULL), w, "attr");
    check(crm_segment_record_new(w->schema, &w->record), w, "record");
    /* The same for every customer: set once, like any field that does not change. */
    check(crm_segment_record_set_bool(w->record, CRM_SEGMENT_STD_EMAIL_OPT_IN, 1), w, "opt-in");
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
    w->huge = huge;
    w->states = alloc_states(customers, huge);
    w->lens = huge ? NULL : calloc(customers, 1);
    if (!w->states || (!huge && !w->lens))
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
 * One record serves every call, as a caller would reuse it: each field
 * that differs between customers is set (or nulled) for this one, so no
 * clearing is needed; the opt-in, the same for all, was set once in
 * world_init. (Testing each field against the previous customer's value
 * costs more than setting it: the values change from call to call.)
 */
static void fill_record(world *w, uint64_t customer, uint64_t r)
{
    crm_segment_record *rec = w->record;

    crm_segment_record_set_int(rec, CRM_SEGMENT_STD_ORDER_COUNT, (int64_t)(customer % 4));
    crm_segment_record_set_time(rec, CRM_SEGMENT_STD_LAST_ORDER_AT,
                                1714521600 - (int64_t)(customer % 200) * 86400);
    crm_segment_record_set_time(rec, CRM_SEGMENT_STD_BIRTHDAY,
                                631152000 + (int64_t)(customer % 365) * 86400);
    crm_segment_record_set_int(rec, CRM_SEGMENT_STD_POINTS_BALANCE, (int64_t)(customer % 1000));
    crm_segment_record_set_time(rec, CRM_SEGMENT_STD_POINTS_EXPIRE_AT,
                                1714521600 + (int64_t)(customer % 120) * 86400);
    if (customer % 10 == 0)
        crm_segment_record_set_string(rec, CRM_SEGMENT_STD_RFM_GROUP, "champions", 9);
    else
        crm_segment_record_set_null(rec, CRM_SEGMENT_STD_RFM_GROUP);
    crm_segment_record_set_money(rec, CRM_SEGMENT_STD_COUNT, (int64_t)(r % 10000));
}

/* Every customer starts with no state. */
static void clear_states(world *w)
{
    size_t i;

    if (!w->huge) {
        memset(w->lens, 0, w->customers);
        return;
    }
    for (i = 0; i < w->customers; i++)
        w->states[i * SLOT] = 0;
}

/*
 * Draws the next batch of events and prefetches their states, as a shop's
 * store would fetch the coming customers' states ahead. Issued together,
 * the fetches (and their address translations) overlap one another.
 */
static void fetch_batch(const world *w, draw *batch, uint64_t *seed)
{
    size_t k;

    for (k = 0; k < BATCH; k++) {
        uint64_t c = batch[k].customer = (batch[k].r = bench_rand(seed)) % w->customers;

        /* The slot's first 64 bytes (one cache line or two): most states whole. */
        __builtin_prefetch(w->states + c * SLOT);
        __builtin_prefetch(w->states + c * SLOT + 63);
        if (!w->huge)
            __builtin_prefetch(w->lens + c);
    }
}

static double run(world *w, size_t events, uint64_t seed, double *cpu_ms)
{
    static const char *const types[] = {"page_view", "cart_abandoned", "order_placed",
                                        "page_view", "cart_abandoned", "page_view"};
    const int64_t t0 = 1714521600; /* 2024-05-01 */
    const int64_t span = 90 * 86400;
    size_t cap = (size_t)SLOT - (size_t)w->huge; /* room for a state in a slot */
    size_t i, len;
    int64_t wake;
    double start;

    draw ahead[2 * BATCH]; /* this batch of events and the next */

    clear_states(w);
    fetch_batch(w, ahead, &seed);
    *cpu_ms = bench_cpu_ms();
    start = bench_now_ms();
    for (i = 0; i < events; i++) {
        uint64_t r = ahead[i % (2 * BATCH)].r;
        uint64_t c = ahead[i % (2 * BATCH)].customer;
        int64_t now = t0 + (int64_t)((double)span * (double)i / (double)events);
        uint8_t *slot = w->states + c * SLOT;
        uint8_t *len_at = w->huge ? slot++ : &w->lens[c];
        crm_status st;

        if (i % BATCH == 0)
            fetch_batch(w, ahead + (i + BATCH) % (2 * BATCH), &seed);
        fill_record(w, c, r >> 20);
        /* The state is updated in place, in its slot (a state too big for the
           slot would fail the call with CRM_ELIMIT). */
        if ((r >> 8) % 10 == 0)
            st = crm_scenario_advance(w->engine, (int64_t)c, CRM_SCENARIO_OFFSET_DEFAULT, slot,
                                      *len_at, w->record, now, count_action, w, slot, cap,
                                      &len, &wake);
        else
            st = crm_scenario_on_event(w->engine, (int64_t)c, CRM_SCENARIO_OFFSET_DEFAULT, slot,
                                       *len_at, w->record, types[(r >> 12) % 6], now,
                                       count_action, w, slot, cap, &len, &wake);
        check(st, w, "event");
        *len_at = (uint8_t)len;
    }
    *cpu_ms = bench_cpu_ms() - *cpu_ms;
    return bench_now_ms() - start;
}

static size_t state_len(const world *w, size_t customer)
{
    return w->huge ? w->states[customer * SLOT] : w->lens[customer];
}

static double state_percentile(const world *w, double q)
{
    size_t counts[SLOT + 1] = {0}, i, seen = 0, n = 0;

    for (i = 0; i < w->customers; i++)
        if (state_len(w, i) > 0) {
            counts[state_len(w, i)]++;
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
    int huge = argc > 3 ? strcmp(argv[3], "plain") != 0 : 1;
    double ms[RUNS], cpu[RUNS];
    world w;
    int k;

    world_init(&w, customers, huge);
    for (k = 0; k < RUNS; k++) {
        w.sends = 0;
        ms[k] = run(&w, events, 42, &cpu[k]);
    }
    bench_print("scenario_customers", (double)customers, "customers");
    bench_print("scenario_events", (double)events, "events");
    bench_print("scenario_huge_pages", (double)huge, "bool");
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
