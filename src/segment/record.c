/*
 * Segment records: one customer's values, set with typed setters and reused.
 */
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "segment/internal.h"

crm_status crm_segment_record_new(const crm_segment_schema *schema,
                                  crm_segment_record **out)
{
    crm_segment_record *r;
    size_t i, n;

    if (!schema || !out)
        return crm_error(schema ? schema->ctx : NULL, CRM_EINVAL,
                         "crm_segment_record_new: NULL argument");
    n = schema->count;
    r = crm_mem_calloc(schema->ctx, 1, sizeof *r);
    if (!r)
        return crm_error_nomem(schema->ctx);
    r->ctx = schema->ctx;
    r->schema = schema;
    r->count = (uint32_t)n;
    r->present = crm_mem_calloc(schema->ctx, n, 1);
    r->ivals = crm_mem_calloc(schema->ctx, n, sizeof *r->ivals);
    r->types = crm_mem_alloc_array(schema->ctx, n, sizeof *r->types);
    r->slots = crm_mem_calloc(schema->ctx, n, sizeof *r->slots);
    if (!r->present || !r->ivals || !r->types || !r->slots) {
        crm_segment_record_free(r);
        return crm_error_nomem(schema->ctx);
    }
    for (i = 0; i < n; i++)
        r->types[i] = schema->attrs[i].type;
    *out = r;
    return CRM_OK;
}

void crm_segment_record_free(crm_segment_record *record)
{
    uint32_t i;

    if (!record)
        return;
    if (record->slots)
        for (i = 0; i < record->count; i++) {
            crm_mem_free(record->ctx, record->slots[i].buf);
            crm_mem_free(record->ctx, record->slots[i].items);
        }
    crm_mem_free(record->ctx, record->slots);
    crm_mem_free(record->ctx, record->types);
    crm_mem_free(record->ctx, record->ivals);
    crm_mem_free(record->ctx, record->present);
    crm_mem_free(record->ctx, record);
}

void crm_segment_record_clear(crm_segment_record *record)
{
    if (record)
        memset(record->present, 0, record->count);
}

/*
 * Checks the record, the index and the type; records the error. Kept out of
 * line so that the setters' valid path (attr_ok) saves no registers for it.
 */
static crm_status check_attr(crm_segment_record *r, uint32_t attr, crm_segment_type type)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noinline))
#endif
    ;

static crm_status check_attr(crm_segment_record *r, uint32_t attr, crm_segment_type type)
{
    if (!r)
        return crm_error(NULL, CRM_EINVAL, "segment record is NULL");
    if (attr >= r->count)
        return crm_error(r->ctx, CRM_EINVAL,
                         "attribute index %u out of range (record has %u)",
                         (unsigned)attr, (unsigned)r->count);
    if (r->types[attr] != type)
        return crm_error(r->ctx, CRM_ETYPE, "attribute '%s' holds %s, not %s",
                         r->schema->attrs[attr].name, seg_type_phrase(r->types[attr]),
                         seg_type_phrase(type));
    return CRM_OK;
}

/* check_attr's answer when it is CRM_OK, without a call: the setters' fast test. */
static int attr_ok(const crm_segment_record *r, uint32_t attr, crm_segment_type type)
{
    return r && attr < r->count && r->types[attr] == type;
}

/*
 * Sets an int64 value. A caller fills a record on every call, so the valid
 * case is tested first and check_attr, with its error reporting, is only
 * called to report the error.
 */
static crm_status set_i64(crm_segment_record *r, uint32_t attr, crm_segment_type type,
                          int64_t value)
{
    if (!attr_ok(r, attr, type))
        return check_attr(r, attr, type);
    r->ivals[attr] = value;
    r->present[attr] = 1;
    return CRM_OK;
}

crm_status crm_segment_record_set_null(crm_segment_record *record, uint32_t attr)
{
    if (!record)
        return crm_error(NULL, CRM_EINVAL, "segment record is NULL");
    if (attr >= record->count)
        return crm_error(record->ctx, CRM_EINVAL, "attribute index %u out of range",
                         (unsigned)attr);
    record->present[attr] = 0;
    return CRM_OK;
}

crm_status crm_segment_record_set_int(crm_segment_record *record, uint32_t attr,
                                      int64_t value)
{
    return set_i64(record, attr, CRM_SEGMENT_INT, value);
}

crm_status crm_segment_record_set_decimal(crm_segment_record *record, uint32_t attr,
                                          int64_t scaled)
{
    return set_i64(record, attr, CRM_SEGMENT_DECIMAL, scaled);
}

crm_status crm_segment_record_set_money(crm_segment_record *record, uint32_t attr,
                                        int64_t minor_units)
{
    return set_i64(record, attr, CRM_SEGMENT_MONEY, minor_units);
}

crm_status crm_segment_record_set_bool(crm_segment_record *record, uint32_t attr,
                                       int value)
{
    return set_i64(record, attr, CRM_SEGMENT_BOOL, value != 0);
}

crm_status crm_segment_record_set_time(crm_segment_record *record, uint32_t attr,
                                       int64_t unix_seconds)
{
    return set_i64(record, attr, CRM_SEGMENT_TIME, unix_seconds);
}

crm_status crm_segment_record_get_time(const crm_segment_record *record, uint32_t attr,
                                       int64_t *unix_seconds, int *present)
{
    if (!record || !unix_seconds || !present)
        return crm_error(record ? record->ctx : NULL, CRM_EINVAL,
                         "crm_segment_record_get_time: NULL argument");
    if (attr >= record->schema->count)
        return crm_error(record->ctx, CRM_EINVAL, "attribute index %u out of range",
                         (unsigned)attr);
    if (record->schema->attrs[attr].type != CRM_SEGMENT_TIME)
        return crm_error(record->ctx, CRM_ETYPE, "attribute '%s' holds %s, not %s",
                         record->schema->attrs[attr].name,
                         seg_type_phrase(record->schema->attrs[attr].type),
                         seg_type_phrase(CRM_SEGMENT_TIME));
    *present = attr < record->count && record->present[attr];
    *unix_seconds = *present ? record->ivals[attr] : 0;
    return CRM_OK;
}

/* Makes room for `need` bytes of string data in the slot; unchanged on failure. */
static int reserve_buf(crm_ctx *ctx, seg_slot *slot, size_t need)
{
    return crm_mem_grow(ctx, (void **)&slot->buf, &slot->buf_cap, need, 1);
}

crm_status crm_segment_record_set_string(crm_segment_record *record, uint32_t attr,
                                         const char *value, size_t len)
{
    crm_status st = check_attr(record, attr, CRM_SEGMENT_STRING);
    seg_slot *slot;

    if (st != CRM_OK)
        return st;
    if (!value)
        return crm_error(record->ctx, CRM_EINVAL, "string value is NULL");
    if (!crm_utf8_valid(value, len))
        return crm_error(record->ctx, CRM_EUTF8, "value for '%s' is not valid UTF-8",
                         record->schema->attrs[attr].name);
    slot = &record->slots[attr];
    if (reserve_buf(record->ctx, slot, len) != 0)
        return crm_error_nomem(record->ctx);
    if (len)
        memcpy(slot->buf, value, len);
    slot->len = len;
    record->present[attr] = 1;
    return CRM_OK;
}

static size_t item_len(const char *const *items, const size_t *lens, size_t k)
{
    return lens ? lens[k] : strlen(items[k]);
}

crm_status crm_segment_record_set_strings(crm_segment_record *record, uint32_t attr,
                                          const char *const *items, const size_t *lens,
                                          size_t n)
{
    crm_status st = check_attr(record, attr, CRM_SEGMENT_STRING_SET);
    seg_slot *slot;
    size_t k, total = 0, at = 0;

    if (st != CRM_OK)
        return st;
    if (!items && n > 0)
        return crm_error(record->ctx, CRM_EINVAL, "string set items are NULL");
    for (k = 0; k < n; k++) {
        if (!items[k])
            return crm_error(record->ctx, CRM_EINVAL, "string set item %zu is NULL", k);
        if (!crm_utf8_valid(items[k], item_len(items, lens, k)))
            return crm_error(record->ctx, CRM_EUTF8, "item %zu for '%s' is not valid UTF-8",
                             k, record->schema->attrs[attr].name);
        total += item_len(items, lens, k);
    }
    slot = &record->slots[attr];
    if (reserve_buf(record->ctx, slot, total) != 0 ||
        crm_mem_grow(record->ctx, (void **)&slot->items, &slot->items_cap, n + 1,
                     sizeof *slot->items) != 0)
        return crm_error_nomem(record->ctx);
    slot->items[0] = 0;
    for (k = 0; k < n; k++) {
        size_t l = item_len(items, lens, k);

        if (l)
            memcpy(slot->buf + at, items[k], l);
        at += l;
        slot->items[k + 1] = (int64_t)at;
    }
    slot->len = at;
    slot->nitems = n;
    record->present[attr] = 1;
    return CRM_OK;
}

crm_status crm_segment_record_add_string(crm_segment_record *record, uint32_t attr,
                                         const char *item, size_t len)
{
    crm_status st = check_attr(record, attr, CRM_SEGMENT_STRING_SET);
    seg_slot *slot;
    size_t base, n;

    if (st != CRM_OK)
        return st;
    if (!item)
        return crm_error(record->ctx, CRM_EINVAL, "string set item is NULL");
    if (!crm_utf8_valid(item, len))
        return crm_error(record->ctx, CRM_EUTF8, "item for '%s' is not valid UTF-8",
                         record->schema->attrs[attr].name);
    slot = &record->slots[attr];
    base = record->present[attr] ? slot->len : 0;
    n = record->present[attr] ? slot->nitems : 0;
    if (reserve_buf(record->ctx, slot, base + len) != 0 ||
        crm_mem_grow(record->ctx, (void **)&slot->items, &slot->items_cap, n + 2,
                     sizeof *slot->items) != 0)
        return crm_error_nomem(record->ctx);
    if (len)
        memcpy(slot->buf + base, item, len);
    slot->items[0] = 0;
    slot->items[n + 1] = (int64_t)(base + len);
    slot->nitems = n + 1;
    slot->len = base + len;
    record->present[attr] = 1;
    return CRM_OK;
}

/* Resolves a name to an index for the *_by_name setters. */
static crm_status attr_by_name(crm_segment_record *r, const char *name, uint32_t *attr)
{
    int64_t i;
    const char *hint;

    if (!r || !name)
        return crm_error(r ? r->ctx : NULL, CRM_EINVAL, "NULL record or attribute name");
    i = seg_schema_lookup(r->schema, name, strlen(name));
    if (i < 0 || i >= (int64_t)r->count) {
        hint = seg_schema_suggest(r->schema, name, strlen(name));
        return crm_error(r->ctx, CRM_ENOTFOUND, "unknown attribute '%.64s'%s%s%s", name,
                         hint ? "; did you mean " : "", hint ? hint : "", hint ? "?" : "");
    }
    *attr = (uint32_t)i;
    return CRM_OK;
}

crm_status crm_segment_record_set_null_by_name(crm_segment_record *record,
                                               const char *name)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_set_null(record, a);
}

crm_status crm_segment_record_set_int_by_name(crm_segment_record *record,
                                              const char *name, int64_t value)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_set_int(record, a, value);
}

crm_status crm_segment_record_set_decimal_by_name(crm_segment_record *record,
                                                  const char *name, int64_t scaled)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_set_decimal(record, a, scaled);
}

crm_status crm_segment_record_set_money_by_name(crm_segment_record *record,
                                                const char *name, int64_t minor_units)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_set_money(record, a, minor_units);
}

crm_status crm_segment_record_set_bool_by_name(crm_segment_record *record,
                                               const char *name, int value)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_set_bool(record, a, value);
}

crm_status crm_segment_record_set_time_by_name(crm_segment_record *record,
                                               const char *name, int64_t unix_seconds)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_set_time(record, a, unix_seconds);
}

crm_status crm_segment_record_set_string_by_name(crm_segment_record *record,
                                                 const char *name, const char *value,
                                                 size_t len)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_set_string(record, a, value, len);
}

crm_status crm_segment_record_add_string_by_name(crm_segment_record *record,
                                                 const char *name, const char *item,
                                                 size_t len)
{
    uint32_t a = 0;
    crm_status st = attr_by_name(record, name, &a);

    return st != CRM_OK ? st : crm_segment_record_add_string(record, a, item, len);
}
