/*
 * Cart abandonment with libcrm's scenario engine: loads a scenario
 * definition (JSON), then replays one customer's week: a 6,800 yen cart
 * left at 20:00, the reminders the engine schedules (quiet hours
 * 21:00-09:00 push the first one to the morning) and what would be sent.
 * The caller keeps the state bytes and calls back at the wake-up time.
 *
 * Usage: scenario_cart examples/scenarios/cart_abandonment.json
 */
#include <stdio.h>
#include <stdlib.h>

#include "crm.h"

static int print_action(void *user, const crm_scenario_action *a)
{
    static const char *const kinds[] = {"SEND", "SKIPPED", "DEFERRED", "EXPIRED", "ENTERED",
                                        "ENDED"};

    (void)user;
    printf("  %-8s %s v%u step=%s channel=%s template=%s params=%s due=%lld key=%s\n",
           kinds[a->kind], a->scenario_id, (unsigned)a->scenario_version, a->step_id,
           a->channel, a->template_id, a->parameters, (long long)a->due, a->idempotency_key);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long size;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc(size > 0 ? (size_t)size : 1);
    if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        text = NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return text;
}

int main(int argc, char **argv)
{
    crm_ctx *ctx = NULL;
    crm_segment_schema *schema = NULL;
    crm_segment_record *record = NULL;
    crm_scenario_engine *engine = NULL;
    uint8_t state[256], next[256];
    size_t state_len = 0, next_len = 0, json_len = 0;
    int64_t now = 0, wake = 0;
    char *json = argc > 1 ? read_file(argv[1], &json_len) : NULL;
    int calls = 0, ok = 0;

    if (!json) {
        fprintf(stderr, "usage: %s cart_abandonment.json\n", argv[0]);
        return 1;
    }
    if (crm_ctx_new(&ctx) == CRM_OK &&
        crm_segment_schema_new_standard(ctx, &schema) == CRM_OK &&
        crm_segment_schema_add(schema, "cart_total", CRM_SEGMENT_MONEY, NULL) == CRM_OK &&
        crm_segment_record_new(schema, &record) == CRM_OK &&
        crm_segment_record_set_money_by_name(record, "cart_total", 6800) == CRM_OK &&
        crm_scenario_engine_new(ctx, schema, &engine) == CRM_OK &&
        crm_scenario_engine_set_default_offset(engine, 540) == CRM_OK &&
        crm_scenario_engine_set_quiet_hours(engine, 21 * 60, 9 * 60) == CRM_OK &&
        crm_scenario_engine_load(engine, json, json_len) == CRM_OK &&
        crm_time_parse("2024-05-10T20:00", 16, 540, &now) == CRM_OK) {
        printf("cart_abandoned at %lld\n", (long long)now);
        ok = crm_scenario_on_event(engine, 1001, CRM_SCENARIO_OFFSET_DEFAULT, NULL, 0, record,
                                   "cart_abandoned", now, print_action, NULL, state,
                                   sizeof state, &state_len, &wake) == CRM_OK;
        while (ok && wake != INT64_MAX && calls++ < 10) {
            printf("advance at %lld (state %zu bytes)\n", (long long)wake, state_len);
            ok = crm_scenario_advance(engine, 1001, CRM_SCENARIO_OFFSET_DEFAULT, state,
                                      state_len, record, wake, print_action, NULL, next,
                                      sizeof next, &next_len, &wake) == CRM_OK;
            for (state_len = 0; ok && state_len < next_len; state_len++)
                state[state_len] = next[state_len];
        }
    }
    if (!ok)
        fprintf(stderr, "error: %s\n", crm_ctx_errmsg(ctx));
    crm_scenario_engine_free(engine);
    crm_segment_record_free(record);
    crm_segment_schema_free(schema);
    crm_ctx_free(ctx);
    free(json);
    return ok ? 0 : 1;
}
