/*
 * Segment schemas: the attributes a rule may name, the standard e-commerce
 * schema, name lookup and "did you mean" suggestions.
 */
#include <string.h>

#include "core/mem.h"
#include "segment/internal.h"

static const char *const keywords[] = {
    "and", "or", "not", "in", "between", "is", "null", "contains",
    "starts", "with", "true", "false", "now",
};

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

int seg_is_keyword(const char *name, size_t len)
{
    size_t k, i;

    for (k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
        if (strlen(keywords[k]) != len)
            continue;
        for (i = 0; i < len; i++)
            if (ascii_lower((unsigned char)name[i]) != keywords[k][i])
                break;
        if (i == len)
            return 1;
    }
    return 0;
}

const char *seg_type_phrase(crm_segment_type type)
{
    switch (type) {
    case CRM_SEGMENT_INT: return "a whole number";
    case CRM_SEGMENT_DECIMAL: return "a decimal number";
    case CRM_SEGMENT_MONEY: return "an amount of money (in minor units)";
    case CRM_SEGMENT_BOOL: return "true or false";
    case CRM_SEGMENT_STRING: return "text";
    case CRM_SEGMENT_TIME: return "a date and time";
    case CRM_SEGMENT_STRING_SET: return "a set of tags";
    }
    return "a value";
}

static int is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Identifiers joined by single dots, not a keyword. */
static int valid_name(const char *name, size_t len)
{
    size_t i;
    int at_start = 1;

    if (len == 0 || len > CRM_SEGMENT_MAX_NAME_BYTES || seg_is_keyword(name, len))
        return 0;
    for (i = 0; i < len; i++) {
        int c = (unsigned char)name[i];

        if (at_start) {
            if (!is_ident_start(c))
                return 0;
            at_start = 0;
        } else if (c == '.') {
            at_start = 1;
        } else if (!is_ident_char(c)) {
            return 0;
        }
    }
    return !at_start;
}

static int valid_type(crm_segment_type type)
{
    return type >= CRM_SEGMENT_INT && type <= CRM_SEGMENT_STRING_SET;
}

crm_status crm_segment_schema_new(crm_ctx *ctx, crm_segment_schema **out)
{
    crm_segment_schema *s;

    if (!ctx || !out)
        return crm_error(ctx, CRM_EINVAL, "crm_segment_schema_new: NULL argument");
    s = crm_mem_calloc(ctx, 1, sizeof *s);
    if (!s)
        return crm_error_nomem(ctx);
    s->ctx = ctx;
    *out = s;
    return CRM_OK;
}

void crm_segment_schema_free(crm_segment_schema *schema)
{
    size_t i;

    if (!schema)
        return;
    for (i = 0; i < schema->count; i++)
        crm_mem_free(schema->ctx, schema->attrs[i].name);
    crm_mem_free(schema->ctx, schema->attrs);
    crm_mem_free(schema->ctx, schema);
}

int64_t seg_schema_lookup(const crm_segment_schema *s, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < s->count; i++)
        if (s->attrs[i].name_len == len && memcmp(s->attrs[i].name, name, len) == 0)
            return (int64_t)i;
    return -1;
}

crm_status crm_segment_schema_add(crm_segment_schema *schema, const char *name,
                                  crm_segment_type type, uint32_t *index)
{
    size_t len;
    char *copy;

    if (!schema || !name)
        return crm_error(schema ? schema->ctx : NULL, CRM_EINVAL,
                         "crm_segment_schema_add: NULL argument");
    len = strlen(name);
    if (!valid_name(name, len))
        return crm_error(schema->ctx, CRM_EINVAL,
                         "attribute name '%.*s' is not valid: use letters, digits, "
                         "'_' and dots (event.amount), not a keyword, at most %d bytes",
                         (int)(len > 64 ? 64 : len), name, CRM_SEGMENT_MAX_NAME_BYTES);
    if (!valid_type(type))
        return crm_error(schema->ctx, CRM_EINVAL, "unknown attribute type %d", (int)type);
    if (seg_schema_lookup(schema, name, len) >= 0)
        return crm_error(schema->ctx, CRM_EEXIST, "attribute '%s' already exists", name);
    if (schema->count >= UINT32_MAX - 1)
        return crm_error(schema->ctx, CRM_ELIMIT, "too many attributes");
    if (crm_mem_grow(schema->ctx, (void **)&schema->attrs, &schema->cap,
                     schema->count + 1, sizeof *schema->attrs) != 0)
        return crm_error_nomem(schema->ctx);
    copy = crm_mem_strndup(schema->ctx, name, len);
    if (!copy)
        return crm_error_nomem(schema->ctx);
    schema->attrs[schema->count].name = copy;
    schema->attrs[schema->count].name_len = len;
    schema->attrs[schema->count].type = type;
    if (index)
        *index = (uint32_t)schema->count;
    schema->count++;
    return CRM_OK;
}

static const struct {
    const char *name;
    crm_segment_type type;
} standard_attrs[CRM_SEGMENT_STD_COUNT] = {
    {"order_count", CRM_SEGMENT_INT},
    {"total_spent", CRM_SEGMENT_MONEY},
    {"average_order_value", CRM_SEGMENT_MONEY},
    {"first_order_at", CRM_SEGMENT_TIME},
    {"last_order_at", CRM_SEGMENT_TIME},
    {"rfm_r", CRM_SEGMENT_INT},
    {"rfm_f", CRM_SEGMENT_INT},
    {"rfm_m", CRM_SEGMENT_INT},
    {"rfm_group", CRM_SEGMENT_STRING},
    {"predicted_clv", CRM_SEGMENT_MONEY},
    {"p_alive", CRM_SEGMENT_DECIMAL},
    {"tags", CRM_SEGMENT_STRING_SET},
    {"prefecture", CRM_SEGMENT_STRING},
    {"birthday", CRM_SEGMENT_TIME},
    {"gender", CRM_SEGMENT_STRING},
    {"points_balance", CRM_SEGMENT_INT},
    {"points_expire_at", CRM_SEGMENT_TIME},
    {"email_opt_in", CRM_SEGMENT_BOOL},
    {"line_linked", CRM_SEGMENT_BOOL},
    {"created_at", CRM_SEGMENT_TIME},
    {"last_visit_at", CRM_SEGMENT_TIME},
};

crm_status crm_segment_schema_new_standard(crm_ctx *ctx, crm_segment_schema **out)
{
    crm_segment_schema *s = NULL;
    crm_status st;
    size_t i;

    if (!ctx || !out)
        return crm_error(ctx, CRM_EINVAL, "crm_segment_schema_new_standard: NULL argument");
    st = crm_segment_schema_new(ctx, &s);
    for (i = 0; st == CRM_OK && i < CRM_SEGMENT_STD_COUNT; i++)
        st = crm_segment_schema_add(s, standard_attrs[i].name, standard_attrs[i].type,
                                    NULL);
    if (st != CRM_OK) {
        crm_segment_schema_free(s);
        return st;
    }
    *out = s;
    return CRM_OK;
}

size_t seg_edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t prev2[CRM_SEGMENT_MAX_NAME_BYTES + 1], prev[CRM_SEGMENT_MAX_NAME_BYTES + 1];
    size_t cur[CRM_SEGMENT_MAX_NAME_BYTES + 1];
    size_t i, j;

    if (alen > CRM_SEGMENT_MAX_NAME_BYTES || blen > CRM_SEGMENT_MAX_NAME_BYTES)
        return SIZE_MAX;
    for (j = 0; j <= blen; j++)
        prev[j] = j;
    prev2[0] = 0;
    for (i = 1; i <= alen; i++) {
        cur[0] = i;
        for (j = 1; j <= blen; j++) {
            size_t cost = ascii_lower((unsigned char)a[i - 1]) ==
                                  ascii_lower((unsigned char)b[j - 1])
                              ? 0
                              : 1;
            size_t best = prev[j - 1] + cost;

            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        memcpy(prev2, prev, (blen + 1) * sizeof *prev);
        memcpy(prev, cur, (blen + 1) * sizeof *cur);
    }
    return prev[blen];
}

const char *seg_schema_suggest(const crm_segment_schema *s, const char *name,
                               size_t len)
{
    size_t i, best = SIZE_MAX, limit = len / 3 > 2 ? len / 3 : 2;
    const char *found = NULL;

    for (i = 0; i < s->count; i++) {
        size_t d = seg_edit_distance(name, len, s->attrs[i].name, s->attrs[i].name_len);

        if (d < best) {
            best = d;
            found = s->attrs[i].name;
        }
    }
    return best <= limit ? found : NULL;
}

crm_status crm_segment_schema_find(const crm_segment_schema *schema, const char *name,
                                   uint32_t *index)
{
    int64_t i;
    const char *hint;

    if (!schema || !name || !index)
        return crm_error(schema ? schema->ctx : NULL, CRM_EINVAL,
                         "crm_segment_schema_find: NULL argument");
    i = seg_schema_lookup(schema, name, strlen(name));
    if (i < 0) {
        hint = seg_schema_suggest(schema, name, strlen(name));
        if (hint)
            return crm_error(schema->ctx, CRM_ENOTFOUND,
                             "unknown attribute '%.64s'; did you mean %s?", name, hint);
        return crm_error(schema->ctx, CRM_ENOTFOUND, "unknown attribute '%.64s'", name);
    }
    *index = (uint32_t)i;
    return CRM_OK;
}

uint32_t crm_segment_schema_count(const crm_segment_schema *schema)
{
    return schema ? (uint32_t)schema->count : 0;
}

crm_status crm_segment_schema_attr(const crm_segment_schema *schema, uint32_t index,
                                   const char **name, crm_segment_type *type)
{
    if (!schema)
        return crm_error(NULL, CRM_EINVAL, "crm_segment_schema_attr: NULL schema");
    if (index >= schema->count)
        return crm_error(schema->ctx, CRM_EINVAL,
                         "attribute index %u out of range (schema has %zu)",
                         (unsigned)index, schema->count);
    if (name)
        *name = schema->attrs[index].name;
    if (type)
        *type = schema->attrs[index].type;
    return CRM_OK;
}
