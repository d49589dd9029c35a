/*
 * Conditions (see cond.h). Until the segment module's compiler is linked
 * in, only the constant rules "true" and "false" are understood; wiring the
 * real compiler is a change to this file only.
 */
#include <string.h>

#include "core/mem.h"
#include "scenario/cond.h"

struct scn_cond {
    int value;
};

crm_status scn_cond_compile(crm_ctx *ctx, const crm_segment_schema *schema,
                            const char *text, size_t len, int32_t offset_min,
                            scn_cond **out, uint32_t *line, uint32_t *column)
{
    scn_cond *cond;
    int value;

    (void)schema;
    (void)offset_min;
    *line = 1;
    *column = 1;
    if (len == 4 && memcmp(text, "true", 4) == 0)
        value = 1;
    else if (len == 5 && memcmp(text, "false", 5) == 0)
        value = 0;
    else
        return crm_error(ctx, CRM_EPARSE,
                         "rule \"%.40s\" needs the segment rule compiler", text);
    cond = crm_mem_alloc(ctx, sizeof *cond);
    if (!cond)
        return crm_error_nomem(ctx);
    cond->value = value;
    *out = cond;
    return CRM_OK;
}

void scn_cond_free(crm_ctx *ctx, scn_cond *cond)
{
    crm_mem_free(ctx, cond);
}

int scn_cond_true(const scn_cond *cond, const crm_segment_record *record, int64_t now)
{
    (void)record;
    (void)now;
    return cond->value;
}

int scn_record_time(const crm_segment_schema *schema, const crm_segment_record *record,
                    const char *attr, int64_t *out)
{
    (void)schema;
    (void)record;
    (void)attr;
    (void)out;
    return 0;
}
