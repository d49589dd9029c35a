/*
 * Fuzz harness: scenario definitions (JSON) loaded into an engine whose
 * schema has the standard attributes. Any input must give CRM_OK or an
 * error, never a crash, a leak or a hang. A loaded definition is then run
 * for one customer through an event and a late advance.
 */
#include <stddef.h>
#include <stdint.h>

#include "crm/scenario.h"
#include "crm/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ignore(void *user, const crm_scenario_action *action)
{
    (void)user;
    (void)action;
    return 0;
}

static void exercise(crm_scenario_engine *engine, const crm_segment_record *record)
{
    uint8_t state[4096], next[4096];
    size_t len = 0, next_len = 0;
    int64_t wake = 0;

    if (crm_scenario_on_event(engine, 1, 540, NULL, 0, record, "go", 1700000000, ignore, NULL,
                              state, sizeof state, &len, &wake) != CRM_OK)
        return;
    crm_scenario_advance(engine, 1, 540, state, len, record, 1700000000 + 40 * 86400, ignore,
                         NULL, next, sizeof next, &next_len, &wake);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crm_ctx *ctx = NULL;
    crm_segment_schema *schema = NULL;
    crm_segment_record *record = NULL;
    crm_scenario_engine *engine = NULL;

    if (crm_ctx_new(&ctx) != CRM_OK)
        return 0;
    if (crm_segment_schema_new_standard(ctx, &schema) == CRM_OK &&
        crm_segment_record_new(schema, &record) == CRM_OK &&
        crm_scenario_engine_new(ctx, schema, &engine) == CRM_OK) {
        crm_segment_record_set_int_by_name(record, "order_count", 1);
        crm_segment_record_set_time_by_name(record, "birthday", 953251200);
        if (crm_scenario_engine_load(engine, (const char *)data, size) == CRM_OK)
            exercise(engine, record);
    }
    crm_scenario_engine_free(engine);
    crm_segment_record_free(record);
    crm_segment_schema_free(schema);
    crm_ctx_free(ctx);
    return 0;
}
