/*
 * Conditions of scenario definitions (trigger rules, entry rules, branch
 * rules, wait-for-event rules) go through this small interface so that the
 * rule language lives in one place: cond.c, and the two calls made on
 * every event, inline below. Rules are segment-rule strings evaluated on a
 * crm_segment_record. The record's times are read, and rules evaluated,
 * through the segment module's inline paths (segment/internal.h), not a
 * call per read.
 */
#ifndef CRM_SCENARIO_COND_H
#define CRM_SCENARIO_COND_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "crm/segment.h"
#include "segment/internal.h"

/* A compiled rule; its fields are read only here and in cond.c. */
typedef struct scn_cond {
    int constant; /* -1: program; 0 or 1: that value */
    crm_segment_program *program;
} scn_cond;

/*
 * Compiles rule text[0..len) against schema (may be NULL when no rule needs
 * attributes) in the shop's default UTC offset. Records the error on ctx and
 * returns it (CRM_EPARSE, CRM_ETYPE, CRM_EUTF8, CRM_ELIMIT, CRM_ENOMEM).
 * The line and column outputs receive the error's position inside the
 * rule (1-based, 0 when unknown).
 */
crm_status scn_cond_compile(crm_ctx *ctx, const crm_segment_schema *schema,
                            const char *text, size_t len, int32_t offset_min,
                            scn_cond **out, uint32_t *line, uint32_t *column);

void scn_cond_free(crm_ctx *ctx, scn_cond *cond);

/*
 * 1 when the rule is TRUE on record at time now; 0 when FALSE or UNKNOWN.
 * Inline: the engine asks on every call.
 */
static inline int scn_cond_true(const scn_cond *cond, const crm_segment_record *record,
                                int64_t now)
{
    crm_segment_result result = CRM_SEGMENT_UNKNOWN;

    if (cond->constant >= 0)
        return cond->constant;
    if (!record || seg_program_eval(cond->program, record, now, &result) != CRM_OK)
        return 0;
    return result == CRM_SEGMENT_TRUE;
}

/*
 * Finds time attribute `name` (NUL-terminated) in schema (may be NULL).
 * Returns 1 and sets *index when it exists with type time, 0 otherwise.
 */
int scn_time_attr_find(const crm_segment_schema *schema, const char *name, uint32_t *index);

/*
 * Reads time attribute `index` of record into *out; 1 when set, 0 when NULL.
 * Inline: the engine reads date triggers' attributes on every call.
 */
static inline int scn_record_time(const crm_segment_record *record, uint32_t index,
                                  int64_t *out)
{
    int present = 0;

    return seg_record_get_time(record, index, out, &present) == CRM_OK && present;
}

#endif
