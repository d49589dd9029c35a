/*
 * crm-segment: select customers with segment rules.
 *
 * Compiles a rule against the standard e-commerce schema, evaluates it on
 * a few customers (with the clause that decided each "no"), maps customers
 * to RFM groups with a first-match segment set, and runs the same rule over
 * columns of customers in one batch call.
 */
#include <stdio.h>
#include <string.h>

#include <crm.h>

#define NOW INT64_C(1717200000) /* 2024-06-01T00:00:00Z */
#define DAY INT64_C(86400)

static int fail(crm_ctx *ctx, const char *what)
{
    fprintf(stderr, "%s: %s\n", what, crm_ctx_errmsg(ctx));
    return 1;
}

static const char *result_name(crm_segment_result r)
{
    return r == CRM_SEGMENT_TRUE ? "TRUE" : r == CRM_SEGMENT_FALSE ? "FALSE" : "UNKNOWN";
}

/* Evaluates the rule on three customers and explains each result. */
static int show_customers(crm_ctx *ctx, crm_segment_schema *schema,
                          const crm_segment_program *rule)
{
    static const struct {
        const char *name;
        int64_t orders, spent, days_ago;
        const char *tag;
    } customers[] = {
        {"Sato", 5, 48000, 120, "vip"},
        {"Suzuki", 3, 8000, 200, "vip"},
        {"Tanaka", 1, 15000, 10, "new"},
    };
    crm_segment_record *rec = NULL;
    size_t i;

    if (crm_segment_record_new(schema, &rec) != CRM_OK)
        return fail(ctx, "record");
    for (i = 0; i < sizeof customers / sizeof customers[0]; i++) {
        crm_segment_result result, clause_result;
        size_t start, length;
        const char *source = crm_segment_program_source(rule, NULL);

        crm_segment_record_clear(rec);
        crm_segment_record_set_int(rec, CRM_SEGMENT_STD_ORDER_COUNT, customers[i].orders);
        crm_segment_record_set_money(rec, CRM_SEGMENT_STD_TOTAL_SPENT, customers[i].spent);
        crm_segment_record_set_time(rec, CRM_SEGMENT_STD_LAST_ORDER_AT,
                                    NOW - customers[i].days_ago * DAY);
        crm_segment_record_add_string_by_name(rec, "tags", customers[i].tag,
                                              strlen(customers[i].tag));
        if (crm_segment_program_explain(rule, rec, NOW, &result, &clause_result, &start,
                                        &length) != CRM_OK)
            return fail(ctx, "explain");
        printf("%-7s %-5s (decided by: %.*s -> %s)\n", customers[i].name, result_name(result),
               (int)length, source + start, result_name(clause_result));
    }
    crm_segment_record_free(rec);
    return 0;
}

/* An ordered RFM map: the first matching rule names the group. */
static int show_rfm_groups(crm_ctx *ctx, crm_segment_schema *schema)
{
    static const char *groups[][2] = {
        {"champions", "rfm_r >= 4 AND rfm_f >= 4 AND rfm_m >= 4"},
        {"loyal", "rfm_r >= 3 AND rfm_f >= 3"},
        {"new", "rfm_r >= 4 AND rfm_f <= 2"},
        {"at_risk", "rfm_r <= 2 AND rfm_f >= 3"},
        {"hibernating", "rfm_r <= 2"},
    };
    static const int64_t scores[][3] = {{5, 5, 4}, {5, 1, 2}, {1, 4, 5}, {3, 2, 2}};
    crm_segment_set *set = NULL;
    crm_segment_record *rec = NULL;
    size_t i;

    if (crm_segment_set_new(schema, &set) != CRM_OK ||
        crm_segment_record_new(schema, &rec) != CRM_OK)
        return fail(ctx, "set");
    for (i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        crm_segment_program *p = NULL;

        if (crm_segment_compile(schema, groups[i][1], strlen(groups[i][1]), 540, &p) != CRM_OK ||
            crm_segment_set_add(set, p, NULL) != CRM_OK)
            return fail(ctx, groups[i][0]);
        crm_segment_program_free(p);
    }
    for (i = 0; i < sizeof scores / sizeof scores[0]; i++) {
        int64_t group = -1;

        crm_segment_record_set_int(rec, CRM_SEGMENT_STD_RFM_R, scores[i][0]);
        crm_segment_record_set_int(rec, CRM_SEGMENT_STD_RFM_F, scores[i][1]);
        crm_segment_record_set_int(rec, CRM_SEGMENT_STD_RFM_M, scores[i][2]);
        crm_segment_set_first_match(set, rec, NOW, &group);
        printf("RFM %lld%lld%lld -> %s\n", (long long)scores[i][0], (long long)scores[i][1],
               (long long)scores[i][2], group < 0 ? "(no group)" : groups[group][0]);
    }
    crm_segment_record_free(rec);
    crm_segment_set_free(set);
    return 0;
}

/* The same rule over columns (zero copy), one bit per customer. */
static int show_batch(crm_ctx *ctx, crm_segment_schema *schema,
                      const crm_segment_program *rule)
{
    static const int64_t orders[4] = {5, 3, 1, 9};
    static const int64_t spent[4] = {48000, 8000, 15000, 30000};
    static const uint8_t last_valid[1] = {0x7}; /* customer 3 never ordered: NULL */
    int64_t last[4] = {NOW - 120 * DAY, NOW - 200 * DAY, NOW - 10 * DAY, 0};
    static const int64_t tag_lists[5] = {0, 1, 2, 3, 4};
    static const int64_t tag_items[5] = {0, 3, 6, 9, 12};
    static const char tags[] = "vipvipnewvip";
    crm_segment_batch *batch = NULL;
    uint8_t match = 0, unknown = 0;

    if (crm_segment_batch_new(schema, 4, &batch) != CRM_OK ||
        crm_segment_batch_bind_int64(batch, CRM_SEGMENT_STD_ORDER_COUNT, orders, NULL) ||
        crm_segment_batch_bind_int64(batch, CRM_SEGMENT_STD_TOTAL_SPENT, spent, NULL) ||
        crm_segment_batch_bind_int64(batch, CRM_SEGMENT_STD_LAST_ORDER_AT, last, last_valid) ||
        crm_segment_batch_bind_string_set(batch, CRM_SEGMENT_STD_TAGS, tag_lists, tag_items,
                                          tags, NULL) ||
        crm_segment_program_eval_batch(rule, batch, NOW, &match, &unknown) != CRM_OK)
        return fail(ctx, "batch");
    printf("batch: match bits 0x%x, unknown bits 0x%x\n", match, unknown);
    crm_segment_batch_free(batch);
    return match == 0x1 && unknown == 0x8 ? 0 : 1;
}

int main(void)
{
    const char *text = "order_count >= 2 AND total_spent > 10000\n"
                       "  AND last_order_at < -90d AND tags CONTAINS 'VIP'";
    const char *typo = "order_count >= 2 AND totl_spent > 10000";
    crm_ctx *ctx = NULL;
    crm_segment_schema *schema = NULL;
    crm_segment_program *rule = NULL, *bad = NULL;
    uint32_t line = 0, column = 0;
    int rc;

    if (crm_ctx_new(&ctx) != CRM_OK || crm_segment_schema_new_standard(ctx, &schema) != CRM_OK)
        return 1;
    if (crm_segment_compile(schema, text, strlen(text), 540, &rule) != CRM_OK)
        return fail(ctx, "compile");
    /* A typo gives a position and a suggestion. */
    if (crm_segment_compile(schema, typo, strlen(typo), 540, &bad) != CRM_EPARSE)
        return 1;
    crm_ctx_errpos(ctx, &line, &column);
    printf("rejected (line %u, column %u): %s\n", line, column, crm_ctx_errmsg(ctx));
    rc = show_customers(ctx, schema, rule) || show_rfm_groups(ctx, schema) ||
         show_batch(ctx, schema, rule);
    crm_segment_program_free(rule);
    crm_segment_schema_free(schema);
    crm_ctx_free(ctx);
    return rc;
}
