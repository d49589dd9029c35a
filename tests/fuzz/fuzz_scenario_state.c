/*
 * Fuzz harness: per-customer scenario state bytes. Any input must give
 * CRM_OK or CRM_ECORRUPT / CRM_EVERSION, never a crash. Accepted bytes are
 * run through the engine (whose definitions may not match them) and the
 * state it writes must be accepted again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crm/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char definition[] =
    "{\"id\": \"f\", \"version\": 1, \"trigger\": {\"event\": \"go\"}, \"exit_events\": [\"stop\"],"
    " \"reentry\": \"always\", \"steps\": ["
    "{\"id\": \"a\", \"send\": {\"channel\": \"email\", \"template\": \"t\"}},"
    "{\"id\": \"w\", \"wait_for_event\": {\"event\": \"order\", \"timeout\": {\"days\": 3},"
    " \"on_event\": \"b\", \"on_timeout\": \"c\"}},"
    "{\"id\": \"b\", \"send\": {\"channel\": \"line\", \"template\": \"t\"}, \"next\": \"x\"},"
    "{\"id\": \"c\", \"wait\": {\"days\": 1, \"at\": \"10:00\"}},"
    "{\"id\": \"x\", \"exit\": {}}]}";

static int ignore(void *user, const crm_scenario_action *action)
{
    (void)user;
    (void)action;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crm_ctx *ctx = NULL;
    crm_scenario_engine *engine = NULL;
    uint8_t out[8192];
    size_t len = 0;
    int64_t wake = 0;
    crm_status st;

    if (crm_ctx_new(&ctx) != CRM_OK)
        return 0;
    st = crm_scenario_state_check(ctx, data, size);
    if (st != CRM_OK && st != CRM_ECORRUPT && st != CRM_EVERSION)
        abort();
    if (crm_scenario_engine_new(ctx, NULL, &engine) == CRM_OK &&
        crm_scenario_engine_load(engine, definition, strlen(definition)) == CRM_OK &&
        crm_scenario_engine_set_frequency_cap(engine, NULL, 2, 86400) == CRM_OK &&
        crm_scenario_engine_set_quiet_hours(engine, 1260, 540) == CRM_OK) {
        st = crm_scenario_on_event(engine, 7, 540, data, size, NULL, "order", 1700000000,
                                   ignore, NULL, out, sizeof out, &len, &wake);
        if (st == CRM_OK && crm_scenario_state_check(ctx, out, len) != CRM_OK)
            abort();
    }
    crm_scenario_engine_free(engine);
    crm_ctx_free(ctx);
    return 0;
}
