/*
 * Conditions (see cond.h): segment rules compiled with crm_segment_compile
 * and evaluated with seg_program_eval (inline, in cond.h). The
 * constants "true" and "false" are understood without a schema. Everything
 * here goes through the public segment API except copy_error: the compiler
 * records its error on the schema's ctx, which only segment/internal.h
 * names.
 */
#include <string.h>

#include "core/mem.h"
#include "scenario/cond.h"
#include "segment/internal.h"

/* Moves an error the segment compiler recorded on the schema's ctx to ctx. */
static crm_status copy_error(crm_ctx *ctx, const crm_segment_schema *schema,
                             crm_status st, uint32_t *line, uint32_t *column)
{
    crm_ctx_errpos(schema->ctx, line, column);
    if (schema->ctx == ctx)
        return st;
    return crm_error_at(ctx, st, *line, *column, "%s", crm_ctx_errmsg(schema->ctx));
}

static int constant_of(const char *text, size_t len)
{
    if (len == 4 && memcmp(text, "true", 4) == 0)
        return 1;
    if (len == 5 && memcmp(text, "false", 5) == 0)
        return 0;
    return -1;
}

crm_status scn_cond_compile(crm_ctx *ctx, const crm_segment_schema *schema,
                            const char *text, size_t len, int32_t offset_min,
                            scn_cond **out, uint32_t *line, uint32_t *column)
{
    scn_cond *cond;
    crm_segment_program *program = NULL;
    int constant = constant_of(text, len);
    crm_status st;

    *line = 0;
    *column = 0;
    if (constant < 0 && !schema)
        return crm_error(ctx, CRM_EPARSE, "a rule naming attributes needs the engine's schema");
    if (constant < 0) {
        st = crm_segment_compile(schema, text, len, offset_min, &program);
        if (st != CRM_OK)
            return copy_error(ctx, schema, st, line, column);
    }
    cond = crm_mem_alloc(ctx, sizeof *cond);
    if (!cond) {
        crm_segment_program_free(program);
        return crm_error_nomem(ctx);
    }
    cond->constant = constant;
    cond->program = program;
    *out = cond;
    return CRM_OK;
}

void scn_cond_free(crm_ctx *ctx, scn_cond *cond)
{
    if (!cond)
        return;
    crm_segment_program_free(cond->program);
    crm_mem_free(ctx, cond);
}

int scn_time_attr_find(const crm_segment_schema *schema, const char *name, uint32_t *index)
{
    crm_segment_type type;

    return schema && crm_segment_schema_find(schema, name, index) == CRM_OK &&
           crm_segment_schema_attr(schema, *index, NULL, &type) == CRM_OK &&
           type == CRM_SEGMENT_TIME;
}
