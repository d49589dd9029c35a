/*
 * libFuzzer harness for the segment rule compiler: any bytes are compiled
 * against the standard schema (plus a dotted event attribute); a program
 * that compiles is evaluated on a record, explained, and evaluated as a
 * batch of three rows, which must agree with row-at-a-time evaluation.
 * Hostile input must give an error, never a crash, a hang or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crm/segment.h"

static const int64_t counts[3] = {0, 3, 12};
static const int64_t spent[3] = {-500, 20000, 7};
static const int64_t times[3] = {0, 1717200000, -86400};
static const int64_t points[3] = {5, 500, 5000};
static const uint8_t flags[3] = {0, 1, 1};
static const uint8_t valid_two[1] = {0x3};
static const int64_t str_offsets[4] = {0, 5, 5, 10};
static const char str_data[] = "TokyoOsaka";
static const int64_t tag_lists[4] = {0, 2, 2, 3};
static const int64_t tag_items[4] = {0, 3, 6, 9};
static const char tag_data[] = "vipnewGLD";

static void fill_record(crm_segment_record *r, size_t row)
{
    crm_segment_record_clear(r);
    if (row < 2)
        crm_segment_record_set_int(r, CRM_SEGMENT_STD_ORDER_COUNT, counts[row]);
    crm_segment_record_set_money(r, CRM_SEGMENT_STD_TOTAL_SPENT, spent[row]);
    crm_segment_record_set_time(r, CRM_SEGMENT_STD_LAST_ORDER_AT, times[row]);
    crm_segment_record_set_time(r, CRM_SEGMENT_STD_BIRTHDAY, times[row]);
    crm_segment_record_set_int(r, CRM_SEGMENT_STD_POINTS_BALANCE, points[row]);
    crm_segment_record_set_bool(r, CRM_SEGMENT_STD_EMAIL_OPT_IN, flags[row]);
    if (row < 2)
        crm_segment_record_set_string(r, CRM_SEGMENT_STD_PREFECTURE,
                                      str_data + str_offsets[row],
                                      (size_t)(str_offsets[row + 1] - str_offsets[row]));
    crm_segment_record_set_strings(r, CRM_SEGMENT_STD_TAGS, NULL, NULL, 0);
    for (int64_t i = tag_lists[row]; i < tag_lists[row + 1]; i++)
        crm_segment_record_add_string(r, CRM_SEGMENT_STD_TAGS, tag_data + tag_items[i],
                                      (size_t)(tag_items[i + 1] - tag_items[i]));
}

static int bind_all(crm_segment_batch *b)
{
    return crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_ORDER_COUNT, counts, valid_two) ||
           crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_TOTAL_SPENT, spent, NULL) ||
           crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_LAST_ORDER_AT, times, NULL) ||
           crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_BIRTHDAY, times, NULL) ||
           crm_segment_batch_bind_int64(b, CRM_SEGMENT_STD_POINTS_BALANCE, points, NULL) ||
           crm_segment_batch_bind_bool(b, CRM_SEGMENT_STD_EMAIL_OPT_IN, flags, NULL) ||
           crm_segment_batch_bind_string(b, CRM_SEGMENT_STD_PREFECTURE, str_offsets, str_data,
                                         valid_two) ||
           crm_segment_batch_bind_string_set(b, CRM_SEGMENT_STD_TAGS, tag_lists, tag_items,
                                             tag_data, NULL);
}

static void exercise(const crm_segment_schema *s, const crm_segment_program *p)
{
    crm_segment_record *r = NULL;
    crm_segment_batch *b = NULL;
    uint8_t match = 0, unknown = 0;
    int batch_ok;

    if (crm_segment_record_new(s, &r) != CRM_OK || crm_segment_batch_new(s, 3, &b) != CRM_OK)
        abort();
    batch_ok = bind_all(b) == 0 &&
               crm_segment_program_eval_batch(p, b, 1717200000, &match, &unknown) == CRM_OK;
    for (size_t row = 0; row < 3; row++) {
        crm_segment_result res, cres;
        size_t start, len, src_len;

        fill_record(r, row);
        if (crm_segment_program_eval(p, r, 1717200000, &res) != CRM_OK ||
            crm_segment_program_explain(p, r, 1717200000, &res, &cres, &start, &len) != CRM_OK)
            abort();
        crm_segment_program_source(p, &src_len);
        if (start + len > src_len)
            abort();
        if (batch_ok && (((match >> row) & 1) != (res == CRM_SEGMENT_TRUE) ||
                         ((unknown >> row) & 1) != (res == CRM_SEGMENT_UNKNOWN)))
            abort();
    }
    crm_segment_batch_free(b);
    crm_segment_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crm_ctx *ctx = NULL;
    crm_segment_schema *s = NULL;
    crm_segment_program *p = NULL;
    crm_status st;

    if (crm_ctx_new(&ctx) != CRM_OK || crm_segment_schema_new_standard(ctx, &s) != CRM_OK ||
        crm_segment_schema_add(s, "event.amount", CRM_SEGMENT_MONEY, NULL) != CRM_OK)
        abort();
    st = crm_segment_compile(s, (const char *)data, size, 540, &p);
    if (st == CRM_OK)
        exercise(s, p);
    else if (st != CRM_EPARSE && st != CRM_ETYPE && st != CRM_ELIMIT && st != CRM_EUTF8)
        abort();
    crm_segment_program_free(p);
    crm_segment_schema_free(s);
    crm_ctx_free(ctx);
    return 0;
}
