/*
 * Check suite for the segment module (include/crm/segment.h): the rule
 * language, three-valued logic, local days, anniversaries, errors and
 * limits, records, sets, explain, batches (== row-at-a-time), threads and
 * allocation failures.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/segment.h"
#include "segment/internal.h"
#include "test_util.h"

#define T CRM_SEGMENT_TRUE
#define F CRM_SEGMENT_FALSE
#define U CRM_SEGMENT_UNKNOWN

static crm_ctx *ctx;
static crm_segment_schema *mix;
static crm_segment_record *rec;

enum { A_N, A_D, A_M, A_B, A_S, A_E, A_T, A_TAGS, A_NUL, A_EVT, A_X, A_Y, A_COUNT };

static int64_t at(const char *iso)
{
    int64_t t = 0;

    ck_assert_int_eq(crm_time_parse(iso, strlen(iso), 0, &t), CRM_OK);
    return t;
}

static void setup(void)
{
    static const struct {
        const char *name;
        crm_segment_type type;
    } attrs[A_COUNT] = {
        {"n", CRM_SEGMENT_INT},      {"d", CRM_SEGMENT_DECIMAL},
        {"m", CRM_SEGMENT_MONEY},    {"b", CRM_SEGMENT_BOOL},
        {"s", CRM_SEGMENT_STRING},   {"e", CRM_SEGMENT_STRING},
        {"t", CRM_SEGMENT_TIME},     {"tags", CRM_SEGMENT_STRING_SET},
        {"nul", CRM_SEGMENT_INT},    {"event.type", CRM_SEGMENT_STRING},
        {"x", CRM_SEGMENT_BOOL},     {"y", CRM_SEGMENT_BOOL},
    };
    const char *tags[] = {"VIP", "summer"};
    const char *escaped = "it's \"q\"\n\t\xc3\xbc";
    uint32_t i, idx;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_segment_schema_new(ctx, &mix), CRM_OK);
    for (i = 0; i < A_COUNT; i++) {
        ck_assert_int_eq(crm_segment_schema_add(mix, attrs[i].name, attrs[i].type, &idx),
                         CRM_OK);
        ck_assert_uint_eq(idx, i);
    }
    ck_assert_int_eq(crm_segment_record_new(mix, &rec), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_int(rec, A_N, 5), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_decimal(rec, A_D, 15000), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_money(rec, A_M, 12000), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_bool(rec, A_B, 7), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_string(rec, A_S, "Hello World", 11), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_string(rec, A_E, escaped, strlen(escaped)),
                     CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_time(rec, A_T, at("2024-05-30T01:00:00Z")),
                     CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_strings(rec, A_TAGS, tags, NULL, 2), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_string_by_name(rec, "event.type", "order", 5),
                     CRM_OK);
}

static void teardown(void)
{
    crm_segment_record_free(rec);
    crm_segment_schema_free(mix);
    crm_ctx_free(ctx);
}

static crm_segment_program *compile_ok(const crm_segment_schema *s, const char *rule)
{
    crm_segment_program *p = NULL;
    crm_status st = crm_segment_compile(s, rule, strlen(rule), 540, &p);

    ck_assert_msg(st == CRM_OK, "%s: %s", rule, crm_ctx_errmsg(ctx));
    return p;
}

static int eval_rule(const crm_segment_schema *s, const crm_segment_record *r,
                     const char *rule, int64_t now)
{
    crm_segment_program *p = compile_ok(s, rule);
    crm_segment_result res = U, inline_res = T;

    ck_assert_int_eq(crm_segment_program_eval(p, r, now, &res), CRM_OK);
    /* The inline path the scenario engine takes answers the same. */
    ck_assert_int_eq(seg_program_eval(p, r, now, &inline_res), CRM_OK);
    ck_assert_msg(inline_res == res, "%s: inline %d, general %d", rule, (int)inline_res,
                  (int)res);
    crm_segment_program_free(p);
    return (int)res;
}

typedef struct rule_case {
    const char *rule;
    int expect;
} rule_case;

static void check_cases(const rule_case *cases, size_t n, int64_t now)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int got = eval_rule(mix, rec, cases[i].rule, now);

        ck_assert_msg(got == cases[i].expect, "%s: got %d, want %d", cases[i].rule, got,
                      cases[i].expect);
    }
}

/* ---- schema ---------------------------------------------------------------- */

START_TEST(test_schema_standard)
{
    crm_segment_schema *s = NULL;
    const char *name = NULL;
    crm_segment_type type = 0;
    uint32_t idx = 99;

    ck_assert_int_eq(crm_segment_schema_new_standard(ctx, &s), CRM_OK);
    ck_assert_uint_eq(crm_segment_schema_count(s), CRM_SEGMENT_STD_COUNT);
    ck_assert_int_eq(crm_segment_schema_attr(s, CRM_SEGMENT_STD_TOTAL_SPENT, &name, &type),
                     CRM_OK);
    ck_assert_str_eq(name, "total_spent");
    ck_assert_int_eq(type, CRM_SEGMENT_MONEY);
    ck_assert_int_eq(crm_segment_schema_attr(s, CRM_SEGMENT_STD_TAGS, &name, &type), CRM_OK);
    ck_assert_int_eq(type, CRM_SEGMENT_STRING_SET);
    ck_assert_int_eq(crm_segment_schema_attr(s, CRM_SEGMENT_STD_COUNT, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_find(s, "line_linked", &idx), CRM_OK);
    ck_assert_uint_eq(idx, CRM_SEGMENT_STD_LINE_LINKED);
    ck_assert_int_eq(crm_segment_schema_find(s, "total_spnt", &idx), CRM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "did you mean total_spent?"));
    ck_assert_int_eq(crm_segment_schema_find(s, "zzzzzzzzzzzz", &idx), CRM_ENOTFOUND);
    ck_assert_ptr_null(strstr(crm_ctx_errmsg(ctx), "did you mean"));
    ck_assert_int_eq(crm_segment_schema_add(s, "event.amount", CRM_SEGMENT_MONEY, &idx), CRM_OK);
    ck_assert_uint_eq(idx, CRM_SEGMENT_STD_COUNT);
    crm_segment_schema_free(s);
    crm_segment_schema_free(NULL);
}
END_TEST

START_TEST(test_schema_bad_arguments)
{
    static const char *bad_names[] = {"", "1abc", "a..b", "a.", ".a", "and", "NOT",
                                      "with space", "caf\xc3\xa9", "a-b"};
    char long_name[CRM_SEGMENT_MAX_NAME_BYTES + 2];
    uint32_t idx = 7;
    size_t i;

    ck_assert_int_eq(crm_segment_schema_new(NULL, &mix), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_new(ctx, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_new_standard(ctx, NULL), CRM_EINVAL);
    for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        ck_assert_msg(crm_segment_schema_add(mix, bad_names[i], CRM_SEGMENT_INT, NULL) ==
                          CRM_EINVAL,
                      "%s accepted", bad_names[i]);
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    ck_assert_int_eq(crm_segment_schema_add(mix, long_name, CRM_SEGMENT_INT, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_add(mix, "ok_name", (crm_segment_type)0, NULL),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_add(mix, "ok_name", (crm_segment_type)8, NULL),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_add(mix, "n", CRM_SEGMENT_INT, &idx), CRM_EEXIST);
    ck_assert_uint_eq(idx, 7);
    ck_assert_int_eq(crm_segment_schema_add(NULL, "z", CRM_SEGMENT_INT, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_add(mix, NULL, CRM_SEGMENT_INT, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_find(NULL, "n", &idx), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_find(mix, NULL, &idx), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_find(mix, "n", NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_attr(NULL, 0, NULL, NULL), CRM_EINVAL);
    ck_assert_uint_eq(crm_segment_schema_count(NULL), 0);
    ck_assert_uint_eq(crm_segment_schema_count(mix), A_COUNT);
}
END_TEST

/* ---- the language ------------------------------------------------------------ */

START_TEST(test_numbers_and_bools)
{
    static const rule_case cases[] = {
        {"n = 5", T}, {"n == 5", T}, {"n != 5", F}, {"n <> 4", T}, {"n < 6", T},
        {"n < 5", F}, {"n <= 5", T}, {"n > 5", F}, {"n > 4", T}, {"n >= 5", T},
        {"n >= 6", F}, {"n = +5", T}, {"n > -5", T}, {"n = -5", F},
        {"n BETWEEN 1 AND 5", T}, {"n BETWEEN 5 AND 5", T}, {"n BETWEEN 6 AND 9", F},
        {"n NOT BETWEEN 1 AND 5", F}, {"n IN (1, 5, 9)", T}, {"n IN (1_000, 2)", F},
        {"n NOT IN (1, 2)", T}, {"n NOT IN (5)", F}, {"n IN (5, 5, 5)", T},
        {"n > 9223372036854775807", F}, {"n < -9223372036854775807", F},
        {"d = 1.5", T}, {"d = 1.50", T}, {"d = 1.5000", T}, {"d > 1.4999", T},
        {"d < 2", T}, {"d IN (1.5, 2)", T}, {"d BETWEEN 1 AND 1.5", T}, {"d = -1.5", F},
        {"m = 12000", T}, {"m > 10_000", T}, {"m BETWEEN 12000 AND 12001", T},
        {"b", T}, {"b = true", T}, {"b = TRUE", T}, {"b = false", F}, {"b != true", F},
        {"b != false", T}, {"NOT b", F},
    };

    check_cases(cases, sizeof cases / sizeof cases[0], 0);
}
END_TEST

START_TEST(test_strings_and_sets)
{
    static const rule_case cases[] = {
        {"s = 'Hello World'", T}, {"s = \"Hello World\"", T}, {"s = 'hello world'", F},
        {"s != 'hello world'", T}, {"s CONTAINS 'WORLD'", T}, {"s CONTAINS ''", T},
        {"s NOT CONTAINS 'xyz'", T}, {"s CONTAINS 'Worlds'", F},
        {"s STARTS WITH 'hello'", T}, {"s NOT STARTS WITH 'Hell'", F},
        {"s STARTS WITH 'World'", F}, {"s > 'Apple'", T}, {"s < 'Apple'", F},
        {"s <= 'Hello World'", T}, {"s >= 'Hello Worlds'", F},
        {"s IN ('a', 'Hello World')", T}, {"s NOT IN ('Hello World')", F},
        {"e = 'it\\'s \\\"q\\\"\\n\\t\\u00fc'", T}, {"e = \"it's \\\"q\\\"\\n\\t\\u00FC\"", T},
        {"e CONTAINS '\\\\'", F}, {"e CONTAINS '\xc3\xbc'", T},
        {"tags CONTAINS 'vip'", T}, {"tags CONTAINS 'VIP'", T}, {"tags CONTAINS 'vi'", F},
        {"tags CONTAINS 'winter'", F}, {"tags NOT CONTAINS 'winter'", T},
        {"tags NOT CONTAINS 'Summer'", F}, {"event.type = 'order'", T},
    };

    check_cases(cases, sizeof cases / sizeof cases[0], 0);
}
END_TEST

START_TEST(test_times_and_functions)
{
    /* t = 2024-05-30T01:00Z (10:00 in +540); now = 2024-06-10T00:00Z. */
    static const rule_case cases[] = {
        {"t = 2024-05-30", T}, {"t = 2024-05-29", F}, {"t != 2024-05-30", F},
        {"t > 2024-05-29", T}, {"t > 2024-05-30", F}, {"t >= 2024-05-30", T},
        {"t < 2024-05-31", T}, {"t < 2024-05-30", F}, {"t <= 2024-05-30", T},
        {"t <= 2024-05-29", F}, {"t = 2024-05-30T10:00:00+09:00", T},
        {"t = 2024-05-30T01:00:00Z", T}, {"t = 2024-05-30T01:00:00.999Z", T},
        {"t = 2024-05-30T10:00", T}, {"t = 2024-05-30T10:00:01", F},
        {"t > -30d", T}, {"t > -7d", F}, {"t < now", T}, {"t > NOW", F},
        {"t BETWEEN -2w AND now", T}, {"t > +1d", F}, {"t < +1d", T},
        {"t > -15000m", F}, {"t > -16000m", T}, {"t > -1000000s", T}, {"t < -1h", T},
        {"t > -264h", T}, {"t > -263h", F}, {"t >= -263h", T},
        {"t BETWEEN 2024-05-01 AND 2024-05-30", T}, {"t BETWEEN 2024-05-31 AND 2024-06-30", F},
        {"t NOT BETWEEN 2024-05-31 AND 2024-06-30", T},
        {"days_since(t) = 11", T}, {"days_until(t) = -11", T}, {"month(t) = 5", T},
        {"weekday(t) = 4", T}, {"hour(t) = 10", T}, {"days_since(t) BETWEEN 10 AND 12", T},
        {"month(t) IN (5, 6)", T}, {"month (t) = 5", T}, {"days_since(t) IS NULL", F},
        {"days_since(nul_t) > 1", U},
    };
    size_t i;
    uint32_t idx;

    ck_assert_int_eq(crm_segment_schema_add(mix, "nul_t", CRM_SEGMENT_TIME, &idx), CRM_OK);
    /* The record predates nul_t: it reads as NULL. */
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = eval_rule(mix, rec, cases[i].rule, at("2024-06-10T00:00:00Z"));

        ck_assert_msg(got == cases[i].expect, "%s: got %d want %d", cases[i].rule, got,
                      cases[i].expect);
    }
}
END_TEST

START_TEST(test_precedence_and_comments)
{
    static const rule_case cases[] = {
        {"n = 5 OR n = 1 AND b = false", T}, {"(n = 5 OR n = 1) AND b = false", F},
        {"NOT n = 1 AND n = 5", T}, {"NOT (n = 5 AND b)", F}, {"NOT NOT b", T},
        {"n between 1 and 9 or s is null", T}, {"n = 5 -- five\nAND b", T},
        {"\tn = 5\r\n  and\n b -- trailing", T}, {"((n = 5))", T},
        {"n = 1 OR n = 2 OR n = 5", T}, {"n = 5 AND b AND s = 'Hello World' AND d = 1.5", T},
        {"b AND NOT b OR b", T}, {"b AND (NOT b OR NOT b)", F},
    };

    check_cases(cases, sizeof cases / sizeof cases[0], 0);
}
END_TEST

START_TEST(test_three_valued_logic)
{
    /* x, y in {TRUE, FALSE, NULL}: SQL tables for AND, OR and NOT. */
    static const int vals[3] = {T, F, U};
    static const int and_table[3][3] = {{T, F, U}, {F, F, F}, {U, F, U}};
    static const int or_table[3][3] = {{T, T, T}, {T, F, U}, {T, U, U}};
    static const int not_table[3] = {F, T, U};
    int i, j;

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 3; j++) {
            if (vals[i] == U)
                crm_segment_record_set_null(rec, A_X);
            else
                crm_segment_record_set_bool(rec, A_X, vals[i] == T);
            if (vals[j] == U)
                crm_segment_record_set_null(rec, A_Y);
            else
                crm_segment_record_set_bool(rec, A_Y, vals[j] == T);
            ck_assert_int_eq(eval_rule(mix, rec, "x AND y", 0), and_table[i][j]);
            ck_assert_int_eq(eval_rule(mix, rec, "x OR y", 0), or_table[i][j]);
            ck_assert_int_eq(eval_rule(mix, rec, "NOT x", 0), not_table[i]);
            ck_assert_int_eq(eval_rule(mix, rec, "x IS NULL", 0), vals[i] == U ? T : F);
            ck_assert_int_eq(eval_rule(mix, rec, "x IS NOT NULL", 0), vals[i] == U ? F : T);
        }
    }
    /* Only IS [NOT] NULL tests NULL: != and NOT CONTAINS never match it. */
    crm_segment_record_set_null(rec, A_S);
    crm_segment_record_set_null(rec, A_TAGS);
    ck_assert_int_eq(eval_rule(mix, rec, "nul != 1", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "nul NOT IN (1)", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "nul NOT BETWEEN 1 AND 2", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "NOT nul = 1", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "s != 'x'", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "s NOT CONTAINS 'x'", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "s NOT STARTS WITH 'x'", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "tags NOT CONTAINS 'x'", 0), U);
    ck_assert_int_eq(eval_rule(mix, rec, "tags IS NULL", 0), T);
    /* An empty set is not NULL. */
    ck_assert_int_eq(crm_segment_record_set_strings(rec, A_TAGS, NULL, NULL, 0), CRM_OK);
    ck_assert_int_eq(eval_rule(mix, rec, "tags NOT CONTAINS 'x'", 0), T);
    ck_assert_int_eq(eval_rule(mix, rec, "tags IS NOT NULL", 0), T);
}
END_TEST

START_TEST(test_date_literal_is_local_day)
{
    /* In a +540 shop, 2024-05-30 is 2024-05-29T15:00Z up to 2024-05-30T15:00Z. */
    static const struct {
        const char *time;
        int eq, lt, le, gt, ge;
    } cases[] = {
        {"2024-05-29T14:59:59Z", F, T, T, F, F},
        {"2024-05-29T15:00:00Z", T, F, T, F, T},
        {"2024-05-30T14:59:59Z", T, F, T, F, T},
        {"2024-05-30T15:00:00Z", F, F, F, T, T},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        crm_segment_record_set_time(rec, A_T, at(cases[i].time));
        ck_assert_int_eq(eval_rule(mix, rec, "t = 2024-05-30", 0), cases[i].eq);
        ck_assert_int_eq(eval_rule(mix, rec, "t < 2024-05-30", 0), cases[i].lt);
        ck_assert_int_eq(eval_rule(mix, rec, "t <= 2024-05-30", 0), cases[i].le);
        ck_assert_int_eq(eval_rule(mix, rec, "t > 2024-05-30", 0), cases[i].gt);
        ck_assert_int_eq(eval_rule(mix, rec, "t >= 2024-05-30", 0), cases[i].ge);
        ck_assert_int_eq(eval_rule(mix, rec, "t BETWEEN 2024-05-30 AND 2024-05-30", 0),
                         cases[i].eq);
    }
}
END_TEST

START_TEST(test_anniversary)
{
    /* birthday local date, now (UTC; +540 local), 7-day window expected. */
    static const struct {
        const char *birthday, *now;
        int within7, within1;
    } cases[] = {
        {"1990-01-02T00:00:00+09:00", "2024-12-28T12:00:00+09:00", T, F}, /* over 31 Dec */
        {"1990-01-03T00:00:00+09:00", "2024-12-28T12:00:00+09:00", T, F}, /* 6 days on */
        {"1990-01-04T00:00:00+09:00", "2024-12-28T12:00:00+09:00", F, F}, /* 7: outside */
        {"1990-12-28T00:00:00+09:00", "2024-12-28T00:00:00+09:00", T, T}, /* today */
        {"1990-12-27T00:00:00+09:00", "2024-12-28T00:00:00+09:00", F, F}, /* yesterday */
        {"2000-02-29T00:00:00+09:00", "2023-02-25T00:00:00+09:00", T, F}, /* 28 Feb in 2023 */
        {"2000-02-29T00:00:00+09:00", "2023-02-28T08:00:00+09:00", T, T},
        {"2000-02-29T00:00:00+09:00", "2023-03-01T00:00:00+09:00", F, F},
        {"2000-02-29T00:00:00+09:00", "2024-02-29T00:00:00+09:00", T, T}, /* leap year */
        {"2000-02-29T00:00:00+09:00", "2024-02-28T00:00:00+09:00", T, F},
        {"2001-03-01T00:00:00+09:00", "2024-02-29T00:00:00+09:00", T, F},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t now = at(cases[i].now);

        crm_segment_record_set_time(rec, A_T, at(cases[i].birthday));
        ck_assert_msg(eval_rule(mix, rec, "anniversary_within(t, 7d)", now) == cases[i].within7,
                      "case %zu (7d)", i);
        ck_assert_msg(eval_rule(mix, rec, "anniversary_within(t, 1d)", now) == cases[i].within1,
                      "case %zu (1d)", i);
        ck_assert_int_eq(eval_rule(mix, rec, "anniversary_within(t, 1w) = false", now),
                         cases[i].within7 == T ? F : T);
        ck_assert_int_eq(eval_rule(mix, rec, "NOT anniversary_within(t, 7d)", now),
                         cases[i].within7 == T ? F : T);
    }
    ck_assert_int_eq(eval_rule(mix, rec, "anniversary_within(t, 366d)", 0), T);
    crm_segment_record_set_null(rec, A_T);
    ck_assert_int_eq(eval_rule(mix, rec, "anniversary_within(t, 7d)", 0), U);
}
END_TEST

START_TEST(test_extreme_values)
{
    crm_segment_record_set_time(rec, A_T, INT64_MAX);
    crm_segment_record_set_int(rec, A_N, INT64_MIN);
    ck_assert_int_eq(eval_rule(mix, rec, "t > -90d", INT64_MAX), T);
    ck_assert_int_eq(eval_rule(mix, rec, "t < +90d", INT64_MIN), F);
    ck_assert_int_eq(eval_rule(mix, rec, "days_since(t) < 0", INT64_MIN), T);
    ck_assert_int_ne(eval_rule(mix, rec, "anniversary_within(t, 7d)", INT64_MIN), U);
    ck_assert_int_eq(eval_rule(mix, rec, "n < -9223372036854775807", 0), T);
    ck_assert_int_eq(eval_rule(mix, rec, "n <= -9223372036854775807", 0), T);
    ck_assert_int_eq(eval_rule(mix, rec, "hour(t) BETWEEN 0 AND 23", INT64_MAX), T);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

typedef struct error_case {
    const char *rule;
    crm_status status;
    uint32_t line, column;
    const char *message;
} error_case;

START_TEST(test_compile_errors)
{
    static const error_case cases[] = {
        {"", CRM_EPARSE, 1, 1, "empty"},
        {"   -- only a comment", CRM_EPARSE, 1, 1, "empty"},
        {"totl_spent > 5", CRM_EPARSE, 1, 1, "unknown attribute 'totl_spent'; did you mean total_spent?"},
        {"order_count > 1 AND\n  total_spnt < 5", CRM_EPARSE, 2, 3, "did you mean total_spent?"},
        {"order_count > 'abc'", CRM_ETYPE, 1, 15, "order_count is a whole number and cannot be compared with 'abc' (text)"},
        {"order_count >", CRM_EPARSE, 1, 14, "found the end of the rule"},
        {"(order_count > 1", CRM_EPARSE, 1, 17, "')'"},
        {"order_count > 1)", CRM_EPARSE, 1, 16, "AND, OR or the end of the rule, found ')'"},
        {"order_count = NULL", CRM_EPARSE, 1, 15, "IS NULL"},
        {"last_order_at > 30d", CRM_ETYPE, 1, 17, "write -30d for 30 days ago"},
        {"total_spent > 1.5", CRM_ETYPE, 1, 15, "minor units"},
        {"order_count > 12x", CRM_EPARSE, 1, 15, "'12x' is not a number"},
        {"prefecture = 'Tokyo", CRM_EPARSE, 1, 14, "closing '"},
        {"prefecture = 'a\\q'", CRM_EPARSE, 1, 16, "unknown escape"},
        {"prefecture = '\\u12'", CRM_EPARSE, 1, 15, "4 hex digits"},
        {"prefecture = '\\uD800'", CRM_EPARSE, 1, 15, "surrogate"},
        {"order_count # 2", CRM_EPARSE, 1, 13, "unexpected character '#'"},
        {"last_order_at = 2023-02-29", CRM_EPARSE, 1, 17, "not a valid date"},
        {"last_order_at = 2023-02-28T25:00", CRM_EPARSE, 1, 17, "not a valid date"},
        {"last_order_at = 2023-02", CRM_EPARSE, 1, 17, "not a valid date"},
        {"dayz_since(last_order_at) > 3", CRM_EPARSE, 1, 1, "did you mean days_since?"},
        {"frobnicate(last_order_at) > 3", CRM_EPARSE, 1, 1, "unknown function 'frobnicate'"},
        {"days_since(tags) > 3", CRM_ETYPE, 1, 1, "needs a date"},
        {"days_since(last_order_at) > 'x'", CRM_ETYPE, 1, 29, "whole number"},
        {"anniversary_within(birthday, 12h)", CRM_ETYPE, 1, 30, "whole days"},
        {"anniversary_within(birthday)", CRM_EPARSE, 1, 28, "window"},
        {"anniversary_within(birthday, 7d) > 3", CRM_ETYPE, 1, 34, "only = true"},
        {"tags = 'vip'", CRM_ETYPE, 1, 6, "set of tags: test it with CONTAINS"},
        {"tags STARTS WITH 'v'", CRM_ETYPE, 1, 6, "STARTS WITH"},
        {"tags CONTAINS 3", CRM_ETYPE, 1, 15, "set of tags and cannot be compared with 3"},
        {"email_opt_in > true", CRM_ETYPE, 1, 14, "< <= > >="},
        {"email_opt_in = 1", CRM_ETYPE, 1, 16, "true or false"},
        {"email_opt_in IN (true)", CRM_ETYPE, 1, 14, "IN"},
        {"order_count IN ()", CRM_EPARSE, 1, 17, "expected a value"},
        {"order_count IN 1", CRM_EPARSE, 1, 16, "'('"},
        {"order_count IN (1 2)", CRM_EPARSE, 1, 19, "',' or ')'"},
        {"order_count IN (1, 'a')", CRM_ETYPE, 1, 20, "text"},
        {"prefecture = \xe6\x9d\xb1\xe4\xba\xac", CRM_EPARSE, 1, 14, "unexpected character '\xe6\x9d\xb1'"},
        {"prefecture = '\xe6\x9d\xb1\xe4\xba\xac' AND x", CRM_EPARSE, 1, 23, "unknown attribute 'x'"},
        {"prefecture = 3", CRM_ETYPE, 1, 14, "put text in quotes"},
        {"prefecture BETWEEN 'a' AND 'b'", CRM_ETYPE, 1, 12, "BETWEEN"},
        {"order_count BETWEEN 1 OR 2", CRM_EPARSE, 1, 23, "AND between"},
        {"last_order_at IN (2024-01-01)", CRM_ETYPE, 1, 15, "IN"},
        {"p_alive > 0.12345", CRM_EPARSE, 1, 11, "4 digits"},
        {"order_count > 99999999999999999999", CRM_EPARSE, 1, 15, "too large"},
        {"p_alive > 9999999999999999", CRM_EPARSE, 1, 11, "too large"},
        {"prefecture IS 'x'", CRM_EPARSE, 1, 15, "NULL or NOT NULL"},
        {"prefecture NOT LIKE 'x'", CRM_EPARSE, 1, 16, "IN, BETWEEN, CONTAINS or STARTS WITH"},
        {"prefecture STARTS 'x'", CRM_EPARSE, 1, 19, "WITH"},
        {"order_count", CRM_EPARSE, 1, 12, "a comparison"},
        {"AND", CRM_EPARSE, 1, 1, "an attribute name"},
        {"order_count > 1 email_opt_in", CRM_EPARSE, 1, 17, "AND, OR"},
        {"order_count > 1 AND NOT", CRM_EPARSE, 1, 24, "an attribute name"},
        {"order_count > 99999999999999w", CRM_EPARSE, 1, 15, "too long"},
    };
    crm_segment_schema *s = NULL;
    size_t i;

    ck_assert_int_eq(crm_segment_schema_new_standard(ctx, &s), CRM_OK);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        crm_segment_program *p = NULL;
        uint32_t line = 0, col = 0;
        crm_status st = crm_segment_compile(s, cases[i].rule, strlen(cases[i].rule), 540, &p);

        ck_assert_msg(st == cases[i].status, "%s: status %d (%s), want %d", cases[i].rule,
                      st, crm_ctx_errmsg(ctx), cases[i].status);
        ck_assert_ptr_null(p);
        crm_ctx_errpos(ctx, &line, &col);
        ck_assert_msg(line == cases[i].line && col == cases[i].column,
                      "%s: at %u:%u, want %u:%u (%s)", cases[i].rule, line, col,
                      cases[i].line, cases[i].column, crm_ctx_errmsg(ctx));
        ck_assert_msg(strstr(crm_ctx_errmsg(ctx), cases[i].message) != NULL,
                      "%s: message '%s' lacks '%s'", cases[i].rule, crm_ctx_errmsg(ctx),
                      cases[i].message);
    }
    crm_segment_schema_free(s);
}
END_TEST

START_TEST(test_compile_bad_arguments)
{
    crm_segment_program *p = NULL;

    ck_assert_int_eq(crm_segment_compile(NULL, "n = 1", 5, 0, &p), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_compile(mix, NULL, 5, 0, &p), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_compile(mix, "n = 1", 5, 0, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_compile(mix, "n = 1", 5, 1441, &p), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_compile(mix, "n = 1", 5, -1441, &p), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_compile(mix, "s = '\xff'", 7, 0, &p), CRM_EUTF8);
    {
        uint32_t line = 0, col = 0;

        crm_ctx_errpos(ctx, &line, &col);
        ck_assert_uint_eq(line, 1);
        ck_assert_uint_eq(col, 6);
        ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "0xFF"));
    }
    ck_assert_int_eq(crm_segment_compile(mix, "s = '\xc0\xaf'", 8, 0, &p), CRM_EUTF8);
    ck_assert_int_eq(crm_segment_compile(mix, "s = '\xed\xa0\x80'", 9, 0, &p), CRM_EUTF8);
    ck_assert_int_eq(crm_segment_compile(mix, "n = 1\0 AND", 10, 0, &p), CRM_EPARSE);
    ck_assert_ptr_null(p);
    /* Length counts: only the first 5 bytes are the rule. */
    p = NULL;
    ck_assert_int_eq(crm_segment_compile(mix, "n = 5 garbage", 5, 0, &p), CRM_OK);
    ck_assert_str_eq(crm_segment_program_source(p, NULL), "n = 5");
    crm_segment_program_free(p);
    crm_segment_program_free(NULL);
    ck_assert_str_eq(crm_segment_program_source(NULL, NULL), "");
}
END_TEST

static crm_status compile_text(const char *rule, size_t len)
{
    crm_segment_program *p = NULL;
    crm_status st = crm_segment_compile(mix, rule, len, 0, &p);

    crm_segment_program_free(p);
    return st;
}

START_TEST(test_limits)
{
    size_t cap = 2 * CRM_SEGMENT_MAX_RULE_BYTES, i, n;
    char *buf = malloc(cap + 64);
    uint32_t line, col;

    ck_assert_ptr_nonnull(buf);
    /* 64 levels of parentheses compile; 65 do not. */
    n = 0;
    for (i = 0; i < 64; i++)
        buf[n++] = '(';
    n += (size_t)sprintf(buf + n, "n = 5");
    for (i = 0; i < 64; i++)
        buf[n++] = ')';
    ck_assert_int_eq(compile_text(buf, n), CRM_OK);
    memmove(buf + 1, buf, n);
    buf[0] = '(';
    buf[n + 1] = ')';
    ck_assert_int_eq(compile_text(buf, n + 2), CRM_ELIMIT);
    crm_ctx_errpos(ctx, &line, &col);
    ck_assert_uint_eq(col, 65);
    /* Deep NOT chains and unbalanced parentheses stop at the limit, no overflow. */
    for (n = 0; n + 4 < CRM_SEGMENT_MAX_RULE_BYTES - 1; n += 4)
        memcpy(buf + n, "NOT ", 4);
    buf[n++] = 'b';
    ck_assert_int_eq(compile_text(buf, n), CRM_ELIMIT);
    memset(buf, '(', CRM_SEGMENT_MAX_RULE_BYTES);
    ck_assert_int_eq(compile_text(buf, CRM_SEGMENT_MAX_RULE_BYTES), CRM_ELIMIT);
    /* Rule length. */
    memset(buf, ' ', CRM_SEGMENT_MAX_RULE_BYTES + 1);
    memcpy(buf, "n = 5", 5);
    ck_assert_int_eq(compile_text(buf, CRM_SEGMENT_MAX_RULE_BYTES), CRM_OK);
    ck_assert_int_eq(compile_text(buf, CRM_SEGMENT_MAX_RULE_BYTES + 1), CRM_ELIMIT);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "65536"));
    /* IN lists: 10,000 items compile, 10,001 do not. */
    n = (size_t)sprintf(buf, "n IN (0");
    for (i = 1; i < CRM_SEGMENT_MAX_IN_ITEMS; i++)
        n += (size_t)sprintf(buf + n, ",%zu", i);
    buf[n] = ')';
    ck_assert_int_eq(compile_text(buf, n + 1), CRM_OK);
    n += (size_t)sprintf(buf + n, ",%d)", CRM_SEGMENT_MAX_IN_ITEMS);
    ck_assert_int_eq(compile_text(buf, n), CRM_ELIMIT);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "10000"));
    free(buf);
}
END_TEST

START_TEST(test_big_in_list_evaluates)
{
    char buf[64 * 1024];
    size_t n, i;

    n = (size_t)sprintf(buf, "n IN (");
    for (i = 0; i < 5000; i++)
        n += (size_t)sprintf(buf + n, "%s%zu", i ? "," : "", (i * 7919) % 10007);
    sprintf(buf + n, ")");
    crm_segment_record_set_int(rec, A_N, (1234 * 7919) % 10007);
    ck_assert_int_eq(eval_rule(mix, rec, buf, 0), T);
    crm_segment_record_set_int(rec, A_N, 10008);
    ck_assert_int_eq(eval_rule(mix, rec, buf, 0), F);
}
END_TEST

START_TEST(test_in_list_order_does_not_matter)
{
    static const char *const orders[] = {"n IN (1, 5, 9)", "n IN (9, 1, 5)", "n IN (5, 9, 1, 5)"};
    static const char *const text_orders[] = {"s IN ('x', 'Hello World', 'y')",
                                              "s IN ('Hello World', 'y', 'x')"};
    int64_t v;
    size_t i;

    for (v = -1; v <= 10; v++) {
        int first;

        crm_segment_record_set_int(rec, A_N, v);
        first = eval_rule(mix, rec, orders[0], 0);
        ck_assert_int_eq(first, (v == 1 || v == 5 || v == 9) ? T : F);
        for (i = 1; i < sizeof orders / sizeof orders[0]; i++)
            ck_assert_int_eq(eval_rule(mix, rec, orders[i], 0), first);
    }
    for (i = 0; i < sizeof text_orders / sizeof text_orders[0]; i++)
        ck_assert_int_eq(eval_rule(mix, rec, text_orders[i], 0), T);
}
END_TEST

/* ---- records ------------------------------------------------------------------ */

START_TEST(test_record_setters)
{
    const char *items[] = {"a", "b\xc3\xa9"};
    size_t lens[] = {1, 3};

    ck_assert_int_eq(crm_segment_record_set_int(rec, A_M, 1), CRM_ETYPE);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "'m' holds an amount of money"));
    ck_assert_int_eq(crm_segment_record_set_money(rec, A_N, 1), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_set_decimal(rec, A_N, 1), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_set_bool(rec, A_N, 1), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_set_time(rec, A_N, 1), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_set_string(rec, A_N, "x", 1), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_set_strings(rec, A_S, items, lens, 2), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_add_string(rec, A_S, "x", 1), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_set_int(rec, A_COUNT, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_set_null(rec, A_COUNT), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_set_int(NULL, A_N, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_set_null(NULL, A_N), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_set_string(rec, A_S, NULL, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_add_string(rec, A_TAGS, NULL, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_set_strings(rec, A_TAGS, NULL, NULL, 1), CRM_EINVAL);
    /* Invalid UTF-8 keeps the previous value. */
    ck_assert_int_eq(crm_segment_record_set_string(rec, A_S, "\xff", 1), CRM_EUTF8);
    ck_assert_int_eq(eval_rule(mix, rec, "s = 'Hello World'", 0), T);
    ck_assert_int_eq(crm_segment_record_add_string(rec, A_TAGS, "\xc3", 1), CRM_EUTF8);
    items[0] = "\xe3\x81";
    lens[0] = 2;
    ck_assert_int_eq(crm_segment_record_set_strings(rec, A_TAGS, items, lens, 2), CRM_EUTF8);
    ck_assert_int_eq(eval_rule(mix, rec, "tags CONTAINS 'summer'", 0), T);
    /* Sets: explicit lengths, add to a NULL set, reuse. */
    items[0] = "a";
    lens[0] = 1;
    ck_assert_int_eq(crm_segment_record_set_strings(rec, A_TAGS, items, lens, 2), CRM_OK);
    ck_assert_int_eq(eval_rule(mix, rec, "tags CONTAINS 'b\xc3\x89'", 0), F);
    ck_assert_int_eq(eval_rule(mix, rec, "tags CONTAINS 'B\xc3\xa9'", 0), T);
    ck_assert_int_eq(eval_rule(mix, rec, "tags CONTAINS 'b\xc3\xa9'", 0), T);
    ck_assert_int_eq(eval_rule(mix, rec, "tags CONTAINS 'summer'", 0), F);
    ck_assert_int_eq(crm_segment_record_set_null(rec, A_TAGS), CRM_OK);
    ck_assert_int_eq(crm_segment_record_add_string(rec, A_TAGS, "new", 3), CRM_OK);
    ck_assert_int_eq(crm_segment_record_add_string_by_name(rec, "tags", "more", 4), CRM_OK);
    ck_assert_int_eq(eval_rule(mix, rec, "tags CONTAINS 'NEW' AND tags CONTAINS 'more'", 0), T);
    ck_assert_int_eq(eval_rule(mix, rec, "tags CONTAINS 'a'", 0), F);
    ck_assert_int_eq(crm_segment_record_set_string(rec, A_S, "", 0), CRM_OK);
    ck_assert_int_eq(eval_rule(mix, rec, "s = ''", 0), T);
    /* By name. */
    ck_assert_int_eq(crm_segment_record_set_int_by_name(rec, "n", 9), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_decimal_by_name(rec, "d", 25000), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_money_by_name(rec, "m", 7), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_bool_by_name(rec, "b", 0), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_time_by_name(rec, "t", 86400), CRM_OK);
    ck_assert_int_eq(crm_segment_record_set_string_by_name(rec, "s", "z", 1), CRM_OK);
    ck_assert_int_eq(eval_rule(mix, rec, "n = 9 AND d = 2.5 AND m = 7 AND NOT b AND "
                                        "t = 1970-01-02T00:00:00Z AND s = 'z'", 0), T);
    ck_assert_int_eq(crm_segment_record_set_null_by_name(rec, "n"), CRM_OK);
    ck_assert_int_eq(eval_rule(mix, rec, "n IS NULL", 0), T);
    ck_assert_int_eq(crm_segment_record_set_int_by_name(rec, "nn", 1), CRM_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "did you mean n?"));
    ck_assert_int_eq(crm_segment_record_set_int_by_name(rec, NULL, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_set_string_by_name(rec, "n", "x", 1), CRM_ETYPE);
    /* Clear makes everything NULL; the record is reusable. */
    crm_segment_record_clear(rec);
    crm_segment_record_clear(NULL);
    ck_assert_int_eq(eval_rule(mix, rec, "s IS NULL AND tags IS NULL AND m IS NULL", 0), T);
    ck_assert_int_eq(crm_segment_record_set_string(rec, A_S, "again", 5), CRM_OK);
    ck_assert_int_eq(eval_rule(mix, rec, "s = 'again'", 0), T);
    ck_assert_int_eq(crm_segment_record_new(NULL, &rec), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_new(mix, NULL), CRM_EINVAL);
    crm_segment_record_free(NULL);
}
END_TEST

START_TEST(test_eval_bad_arguments)
{
    crm_segment_program *p = compile_ok(mix, "n = 5");
    crm_segment_schema *other = NULL;
    crm_segment_record *r2 = NULL;
    crm_segment_result res = U;

    ck_assert_int_eq(crm_segment_program_eval(NULL, rec, 0, &res), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_program_eval(p, NULL, 0, &res), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_program_eval(p, rec, 0, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_new(ctx, &other), CRM_OK);
    ck_assert_int_eq(crm_segment_record_new(other, &r2), CRM_OK);
    ck_assert_int_eq(crm_segment_program_eval(p, r2, 0, &res), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_program_explain(p, r2, 0, &res, NULL, NULL, NULL), CRM_EINVAL);
    /* The inline path takes the general one, and its errors, on bad arguments. */
    ck_assert_int_eq(seg_program_eval(NULL, rec, 0, &res), CRM_EINVAL);
    ck_assert_int_eq(seg_program_eval(p, NULL, 0, &res), CRM_EINVAL);
    ck_assert_int_eq(seg_program_eval(p, rec, 0, NULL), CRM_EINVAL);
    ck_assert_int_eq(seg_program_eval(p, r2, 0, &res), CRM_EINVAL);
    ck_assert_str_eq(crm_ctx_errmsg(ctx),
                     "the record was made from another schema than the program");
    ck_assert_int_eq(res, U);
    crm_segment_record_free(r2);
    crm_segment_schema_free(other);
    crm_segment_program_free(p);
}
END_TEST

START_TEST(test_inline_eval_on_nulls)
{
    /* Every predicate but IS NULL is UNKNOWN on NULL, also under NOT. */
    static const rule_case on_nulls[] = {
        {"n >= 5", U},          {"n != 5", U},           {"NOT n >= 5", U},
        {"n IS NULL", T},       {"n IS NOT NULL", F},    {"n >= 5 AND m > 0", U},
        {"n >= 5 OR m > 0", T}, {"nul IN (1, 2)", U},    {"t < -1d", U},
        {"s = 'x'", U},         {"late = 1", U},         {"late != 1", U},
        {"late IS NULL", T},    {"late = 1 OR n = 5", U}};

    crm_segment_record_set_null(rec, A_N);
    crm_segment_record_set_null(rec, A_S);
    crm_segment_record_set_null(rec, A_T);
    /* "late" is added after the record was made: NULL in it. */
    ck_assert_int_eq(crm_segment_schema_add(mix, "late", CRM_SEGMENT_INT, NULL), CRM_OK);
    check_cases(on_nulls, sizeof on_nulls / sizeof on_nulls[0], at("2024-05-30T00:00:00Z"));
}
END_TEST

/* ---- explain ------------------------------------------------------------------ */

static void check_explain(const char *rule, int result, int clause_result, const char *clause)
{
    crm_segment_program *p = compile_ok(mix, rule);
    crm_segment_result res = U, cres = U;
    size_t start = 99, len = 99;
    const char *src = crm_segment_program_source(p, NULL);

    ck_assert_int_eq(crm_segment_program_explain(p, rec, 0, &res, &cres, &start, &len), CRM_OK);
    ck_assert_int_eq(res, result);
    ck_assert_int_eq(cres, clause_result);
    ck_assert_msg(strlen(clause) == len && memcmp(src + start, clause, len) == 0,
                  "%s: explained '%.*s', want '%s'", rule, (int)len, src + start, clause);
    crm_segment_program_free(p);
}

START_TEST(test_explain)
{
    check_explain("n >= 2 AND m > 20000 AND tags CONTAINS 'vip'", F, F, "m > 20000");
    check_explain("n >= 2 AND m > 10000 AND tags CONTAINS 'vip'", T, T,
                  "n >= 2 AND m > 10000 AND tags CONTAINS 'vip'");
    check_explain("n = 1 OR (s = 'x' AND b)", F, F, "n = 1 OR (s = 'x' AND b)");
    check_explain("n = 1 OR (b AND s CONTAINS 'world')", T, T, "b AND s CONTAINS 'world'");
    check_explain("n = 1 OR (b AND s CONTAINS 'world' OR d > 9)", T, T,
                  "b AND s CONTAINS 'world'");
    check_explain("n = 1 OR (s CONTAINS 'world' OR d > 9)", T, T, "s CONTAINS 'world'");
    check_explain("NOT (b AND n = 5)", F, T, "b AND n = 5");
    check_explain("b AND nul > 3", U, U, "nul > 3");
    check_explain("nul > 3 OR n > 9", U, U, "nul > 3");
    check_explain("  n = 4  ", F, F, "n = 4");
    check_explain("n BETWEEN 6 AND 9 AND b", F, F, "n BETWEEN 6 AND 9");
    check_explain("b AND anniversary_within(t, 7d)", F, F, "anniversary_within(t, 7d)");
    {
        crm_segment_program *p = compile_ok(mix, "b");
        crm_segment_result res = U;

        ck_assert_int_eq(crm_segment_program_explain(p, rec, 0, &res, NULL, NULL, NULL), CRM_OK);
        ck_assert_int_eq(res, T);
        crm_segment_program_free(p);
    }
}
END_TEST

/* ---- sets --------------------------------------------------------------------- */

START_TEST(test_set_bitset_and_first_match)
{
    static const char *rules[] = {"n > 10", "b", "nul = 1", "s CONTAINS 'world'", "n = 5"};
    crm_segment_set *set = NULL;
    crm_segment_schema *other = NULL;
    crm_segment_program *p, *q;
    uint8_t bits[2] = {0xff, 0xff};
    int64_t first = 99;
    uint32_t i, idx;

    ck_assert_int_eq(crm_segment_set_new(mix, &set), CRM_OK);
    ck_assert_int_eq(crm_segment_set_first_match(set, rec, 0, &first), CRM_OK);
    ck_assert_int_eq(first, -1);
    ck_assert_int_eq(crm_segment_set_eval(set, rec, 0, bits, 0), CRM_OK);
    for (i = 0; i < 5; i++) {
        p = compile_ok(mix, rules[i]);
        ck_assert_int_eq(crm_segment_set_add(set, p, &idx), CRM_OK);
        ck_assert_uint_eq(idx, i);
        crm_segment_program_free(p); /* the set keeps its own copy */
    }
    ck_assert_uint_eq(crm_segment_set_count(set), 5);
    ck_assert_uint_eq(crm_segment_set_count(NULL), 0);
    ck_assert_int_eq(crm_segment_set_eval(set, rec, 0, bits, sizeof bits), CRM_OK);
    ck_assert_uint_eq(bits[0], 0x1a);
    ck_assert_uint_eq(bits[1], 0xff); /* untouched beyond (count + 7) / 8 */
    ck_assert_int_eq(crm_segment_set_first_match(set, rec, 0, &first), CRM_OK);
    ck_assert_int_eq(first, 1);
    crm_segment_record_set_bool(rec, A_B, 0);
    ck_assert_int_eq(crm_segment_set_first_match(set, rec, 0, &first), CRM_OK);
    ck_assert_int_eq(first, 3);
    crm_segment_record_clear(rec);
    ck_assert_int_eq(crm_segment_set_first_match(set, rec, 0, &first), CRM_OK);
    ck_assert_int_eq(first, -1);
    ck_assert_int_eq(crm_segment_set_eval(set, rec, 0, bits, sizeof bits), CRM_OK);
    ck_assert_uint_eq(bits[0], 0);
    /* Bad arguments. */
    ck_assert_int_eq(crm_segment_set_eval(set, rec, 0, bits, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_set_eval(set, NULL, 0, bits, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_set_eval(NULL, rec, 0, bits, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_set_first_match(set, rec, 0, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_set_add(set, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_set_add(NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_set_new(NULL, &set), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_schema_new_standard(ctx, &other), CRM_OK);
    q = compile_ok(other, "order_count > 1");
    ck_assert_int_eq(crm_segment_set_add(set, q, NULL), CRM_EINVAL);
    ck_assert_uint_eq(crm_segment_set_count(set), 5);
    crm_segment_program_free(q);
    crm_segment_schema_free(other);
    crm_segment_set_free(set);
    crm_segment_set_free(NULL);
}
END_TEST

START_TEST(test_set_rfm_groups_first_match)
{
    /* An ordered RFM map: the first matching group wins. */
    static const char *groups[] = {
        "rfm_r >= 4 AND rfm_f >= 4 AND rfm_m >= 4", /* champions */
        "rfm_r >= 3 AND rfm_f >= 3",                /* loyal */
        "rfm_r >= 4 AND rfm_f <= 2",                /* new */
        "rfm_r <= 2 AND rfm_f >= 3",                /* at risk */
        "rfm_r <= 2",                               /* hibernating */
    };
    static const int64_t rfm[][4] = {
        {5, 5, 5, 0}, {4, 4, 3, 1}, {5, 1, 1, 2}, {1, 4, 4, 3}, {1, 1, 1, 4}, {3, 2, 2, -1},
    };
    crm_segment_schema *s = NULL;
    crm_segment_set *set = NULL;
    crm_segment_record *r = NULL;
    size_t i;
    int64_t first;

    ck_assert_int_eq(crm_segment_schema_new_standard(ctx, &s), CRM_OK);
    ck_assert_int_eq(crm_segment_set_new(s, &set), CRM_OK);
    for (i = 0; i < 5; i++) {
        crm_segment_program *p = compile_ok(s, groups[i]);

        ck_assert_int_eq(crm_segment_set_add(set, p, NULL), CRM_OK);
        crm_segment_program_free(p);
    }
    ck_assert_int_eq(crm_segment_record_new(s, &r), CRM_OK);
    for (i = 0; i < sizeof rfm / sizeof rfm[0]; i++) {
        crm_segment_record_set_int(r, CRM_SEGMENT_STD_RFM_R, rfm[i][0]);
        crm_segment_record_set_int(r, CRM_SEGMENT_STD_RFM_F, rfm[i][1]);
        crm_segment_record_set_int(r, CRM_SEGMENT_STD_RFM_M, rfm[i][2]);
        ck_assert_int_eq(crm_segment_set_first_match(set, r, 0, &first), CRM_OK);
        ck_assert_int_eq(first, rfm[i][3]);
    }
    crm_segment_record_free(r);
    crm_segment_set_free(set);
    crm_segment_schema_free(s);
}
END_TEST

/* ---- batches ------------------------------------------------------------------ */

#define BATCH_ROWS 1500

typedef struct columns {
    int64_t n[BATCH_ROWS], d[BATCH_ROWS], m[BATCH_ROWS], t[BATCH_ROWS];
    uint8_t b[BATCH_ROWS];
    int64_t s_off[BATCH_ROWS + 1];
    char s_data[BATCH_ROWS * 8];
    int64_t tag_list[BATCH_ROWS + 1];
    int64_t tag_items[BATCH_ROWS * 3 + 1];
    char tag_data[BATCH_ROWS * 3 * 8];
    uint8_t valid[A_COUNT][(BATCH_ROWS + 7) / 8];
} columns;

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static const char *const words[] = {"vip", "VIP", "summer", "Tokyo", "osaka", "", "Hello",
                                    "hello world"};

static int valid_bit(const columns *c, int attr, size_t r)
{
    return (c->valid[attr][r / 8] >> (r % 8)) & 1;
}

static void fill_columns(columns *c)
{
    size_t r, k, sn = 0, tn = 0, items = 0;

    memset(c, 0, sizeof *c);
    for (r = 0; r < BATCH_ROWS; r++) {
        int a;

        for (a = 0; a < A_COUNT; a++)
            if (rng() % 5 != 0)
                c->valid[a][r / 8] = (uint8_t)(c->valid[a][r / 8] | (1u << (r % 8)));
        c->n[r] = (int64_t)(rng() % 12) - 2;
        c->d[r] = (int64_t)(rng() % 40000) - 10000;
        c->m[r] = (int64_t)(rng() % 30000);
        c->t[r] = at("2024-05-01T00:00:00Z") + (int64_t)(rng() % (90 * 86400));
        c->b[r] = (uint8_t)(rng() % 3);
        c->s_off[r] = (int64_t)sn;
        {
            const char *w = words[rng() % 8];

            memcpy(c->s_data + sn, w, strlen(w));
            sn += strlen(w);
        }
        c->tag_list[r] = (int64_t)items;
        for (k = rng() % 4; k > 0; k--) {
            const char *w = words[rng() % 5];

            c->tag_items[items++] = (int64_t)tn;
            memcpy(c->tag_data + tn, w, strlen(w));
            tn += strlen(w);
        }
    }
    c->s_off[BATCH_ROWS] = (int64_t)sn;
    c->tag_list[BATCH_ROWS] = (int64_t)items;
    c->tag_items[items] = (int64_t)tn;
}

/* Loads row r of the columns into the record. */
static void load_row(const columns *c, size_t r)
{
    crm_segment_record_clear(rec);
    if (valid_bit(c, A_N, r))
        crm_segment_record_set_int(rec, A_N, c->n[r]);
    if (valid_bit(c, A_D, r))
        crm_segment_record_set_decimal(rec, A_D, c->d[r]);
    if (valid_bit(c, A_M, r))
        crm_segment_record_set_money(rec, A_M, c->m[r]);
    if (valid_bit(c, A_T, r))
        crm_segment_record_set_time(rec, A_T, c->t[r]);
    if (valid_bit(c, A_B, r))
        crm_segment_record_set_bool(rec, A_B, c->b[r]);
    if (valid_bit(c, A_S, r))
        crm_segment_record_set_string(rec, A_S, c->s_data + c->s_off[r],
                                      (size_t)(c->s_off[r + 1] - c->s_off[r]));
    if (valid_bit(c, A_TAGS, r)) {
        int64_t i;

        crm_segment_record_set_strings(rec, A_TAGS, NULL, NULL, 0);
        for (i = c->tag_list[r]; i < c->tag_list[r + 1]; i++)
            crm_segment_record_add_string(rec, A_TAGS, c->tag_data + c->tag_items[i],
                                          (size_t)(c->tag_items[i + 1] - c->tag_items[i]));
    }
}

static crm_segment_batch *bind_columns(const columns *c, size_t rows)
{
    crm_segment_batch *b = NULL;

    ck_assert_int_eq(crm_segment_batch_new(mix, rows, &b), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_N, c->n, c->valid[A_N]), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_D, c->d, c->valid[A_D]), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_M, c->m, c->valid[A_M]), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_T, c->t, c->valid[A_T]), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_bool(b, A_B, c->b, c->valid[A_B]), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_string(b, A_S, c->s_off, c->s_data,
                                                   c->valid[A_S]), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_string_set(b, A_TAGS, c->tag_list, c->tag_items,
                                                       c->tag_data, c->valid[A_TAGS]), CRM_OK);
    return b;
}

static const char *const batch_rules[] = {
    "n >= 2 AND m > 10000 AND t < -30d AND tags CONTAINS 'vip' AND b",
    "n = 3 OR d > 1.5 OR NOT b",
    "NOT (n IN (1, 2, 3) AND s CONTAINS 'o') OR tags NOT CONTAINS 'summer'",
    "t = 2024-05-20 OR days_since(t) BETWEEN 10 AND 20 OR anniversary_within(t, 7d)",
    "s STARTS WITH 'hel' AND s != 'Hello' AND (m BETWEEN 100 AND 20000 OR n IS NULL)",
    "s IN ('Tokyo', 'osaka', '') OR s > 'Tokyo' OR weekday(t) = 6 OR hour(t) < 3",
    "b = false AND n != 4 AND d NOT BETWEEN 0 AND 1 AND t IS NOT NULL",
    "(n > 1 OR n < 0) AND (m > 5 OR m < 3) AND NOT (b OR tags IS NULL)",
    "n > 100 AND m > 1",
    "n <= 100 OR m > 1",
};

START_TEST(test_batch_equals_rows)
{
    static columns c;
    int64_t now = at("2024-07-01T03:00:00Z");
    size_t rows_cases[] = {BATCH_ROWS, 513, 512, 64, 7, 1, 0}, ri, i, r;

    rng_state = 42;
    fill_columns(&c);
    for (ri = 0; ri < sizeof rows_cases / sizeof rows_cases[0]; ri++) {
        size_t rows = rows_cases[ri];
        crm_segment_batch *b = bind_columns(&c, rows);

        for (i = 0; i < sizeof batch_rules / sizeof batch_rules[0]; i++) {
            crm_segment_program *p = compile_ok(mix, batch_rules[i]);
            uint8_t match[(BATCH_ROWS + 7) / 8 + 1], unknown[(BATCH_ROWS + 7) / 8 + 1];
            size_t seen_true = 0;

            memset(match, 0xee, sizeof match);
            memset(unknown, 0xee, sizeof unknown);
            ck_assert_int_eq(crm_segment_program_eval_batch(p, b, now, match, unknown), CRM_OK);
            ck_assert_uint_eq(match[(rows + 7) / 8], 0xee); /* nothing written past the end */
            for (r = 0; r < rows; r++) {
                crm_segment_result res;
                int bit = (match[r / 8] >> (r % 8)) & 1, ubit = (unknown[r / 8] >> (r % 8)) & 1;

                load_row(&c, r);
                ck_assert_int_eq(crm_segment_program_eval(p, rec, now, &res), CRM_OK);
                ck_assert_msg(bit == (res == T) && ubit == (res == U),
                              "rule %zu row %zu: batch %d/%d, row %d", i, r, bit, ubit, res);
                seen_true += res == T;
            }
            if (rows % 8)
                ck_assert_uint_eq(match[rows / 8] >> (rows % 8), 0);
            if (rows == BATCH_ROWS && i < 8)
                ck_assert_msg(seen_true > 0, "rule %zu never true: weak test data", i);
            ck_assert_int_eq(crm_segment_program_eval_batch(p, b, now, match, NULL), CRM_OK);
            crm_segment_program_free(p);
        }
        crm_segment_batch_free(b);
    }
}
END_TEST

START_TEST(test_batch_errors)
{
    static columns c;
    crm_segment_batch *b = NULL;
    crm_segment_program *p = compile_ok(mix, "n > 1 AND s = 'x'");
    uint8_t match[8];
    int64_t bad_offsets[11] = {5}; /* ends below its start */

    rng_state = 7;
    fill_columns(&c);
    ck_assert_int_eq(crm_segment_batch_new(mix, 10, &b), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_N, c.n, NULL), CRM_OK);
    ck_assert_int_eq(crm_segment_program_eval_batch(p, b, 0, match, NULL), CRM_ESTATE);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "'s'"));
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_S, c.n, NULL), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_batch_bind_bool(b, A_N, c.b, NULL), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_batch_bind_string(b, A_N, c.s_off, c.s_data, NULL), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_batch_bind_string_set(b, A_S, c.tag_list, c.tag_items,
                                                       c.tag_data, NULL), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_batch_bind_string(b, A_S, c.s_off, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_bind_string(b, A_S, bad_offsets, "abc", NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_bind_string_set(b, A_TAGS, c.tag_list, NULL, "", NULL),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_COUNT, c.n, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_N, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_bind_int64(NULL, A_N, c.n, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_bind_string(b, A_S, c.s_off, c.s_data, NULL), CRM_OK);
    ck_assert_int_eq(crm_segment_program_eval_batch(p, b, 0, match, NULL), CRM_OK);
    ck_assert_int_eq(crm_segment_program_eval_batch(p, b, 0, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_program_eval_batch(NULL, b, 0, match, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_program_eval_batch(p, NULL, 0, match, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_reset(b, 3), CRM_OK);
    ck_assert_int_eq(crm_segment_program_eval_batch(p, b, 0, match, NULL), CRM_ESTATE);
    ck_assert_int_eq(crm_segment_batch_reset(NULL, 3), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_new(NULL, 3, &b), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_batch_new(mix, 3, NULL), CRM_EINVAL);
    {
        crm_segment_schema *other = NULL;
        crm_segment_batch *ob = NULL;

        ck_assert_int_eq(crm_segment_schema_new(ctx, &other), CRM_OK);
        ck_assert_int_eq(crm_segment_batch_new(other, 3, &ob), CRM_OK);
        ck_assert_int_eq(crm_segment_program_eval_batch(p, ob, 0, match, NULL), CRM_EINVAL);
        crm_segment_batch_free(ob);
        crm_segment_schema_free(other);
    }
    crm_segment_batch_free(b);
    crm_segment_batch_free(NULL);
    crm_segment_program_free(p);
}
END_TEST

/* ---- threads ------------------------------------------------------------------ */

typedef struct thread_job {
    const crm_segment_program *program;
    const crm_segment_batch *batch;
    const columns *cols;
    crm_segment_record *record;
    size_t rows;
    uint8_t match[(BATCH_ROWS + 7) / 8];
    size_t row_matches;
    int status;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *job = arg;
    size_t r, k;

    for (k = 0; k < 20; k++) {
        job->row_matches = 0;
        if (crm_segment_program_eval_batch(job->program, job->batch, 0, job->match, NULL) !=
            CRM_OK)
            job->status = -1;
        for (r = 0; r < job->rows; r++) {
            crm_segment_result res = U;

            crm_segment_record_clear(job->record);
            if (valid_bit(job->cols, A_N, r))
                crm_segment_record_set_int(job->record, A_N, job->cols->n[r]);
            if (valid_bit(job->cols, A_M, r))
                crm_segment_record_set_money(job->record, A_M, job->cols->m[r]);
            if (crm_segment_program_eval(job->program, job->record, 0, &res) != CRM_OK)
                job->status = -1;
            job->row_matches += res == T;
        }
    }
    return NULL;
}

START_TEST(test_threads_share_a_program)
{
    static columns c;
    static thread_job jobs[4];
    crm_segment_program *p = compile_ok(mix, "n >= 2 AND m > 10000 OR n IS NULL");
    crm_segment_batch *b = NULL;
    pthread_t threads[4];
    size_t i, r, bits;

    rng_state = 3;
    fill_columns(&c);
    ck_assert_int_eq(crm_segment_batch_new(mix, BATCH_ROWS, &b), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_N, c.n, c.valid[A_N]), CRM_OK);
    ck_assert_int_eq(crm_segment_batch_bind_int64(b, A_M, c.m, c.valid[A_M]), CRM_OK);
    for (i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].program = p;
        jobs[i].batch = b;
        jobs[i].cols = &c;
        jobs[i].rows = BATCH_ROWS;
        ck_assert_int_eq(crm_segment_record_new(mix, &jobs[i].record), CRM_OK);
    }
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(jobs[i].status, 0);
        ck_assert_mem_eq(jobs[i].match, jobs[0].match, sizeof jobs[0].match);
        for (bits = 0, r = 0; r < BATCH_ROWS; r++)
            bits += (jobs[i].match[r / 8] >> (r % 8)) & 1;
        ck_assert_uint_eq(bits, jobs[i].row_matches);
        ck_assert_uint_gt(bits, 0);
        crm_segment_record_free(jobs[i].record);
    }
    crm_segment_batch_free(b);
    crm_segment_program_free(p);
}
END_TEST

/* ---- allocation failures -------------------------------------------------------- */

typedef struct sweep_fixture {
    crm_ctx *ctx;
    crm_segment_schema *schema;
    crm_segment_program *program;
    crm_segment_record *record;
    crm_segment_set *set;
    crm_segment_batch *batch;
} sweep_fixture;

static void *fixture_setup(crm_ctx *c)
{
    sweep_fixture *f = calloc(1, sizeof *f);

    ck_assert_ptr_nonnull(f);
    f->ctx = c;
    ck_assert_int_eq(crm_segment_schema_new_standard(c, &f->schema), CRM_OK);
    ck_assert_int_eq(crm_segment_record_new(f->schema, &f->record), CRM_OK);
    ck_assert_int_eq(crm_segment_set_new(f->schema, &f->set), CRM_OK);
    return f;
}

static void fixture_teardown(void *fx)
{
    sweep_fixture *f = fx;

    crm_segment_batch_free(f->batch);
    crm_segment_set_free(f->set);
    crm_segment_program_free(f->program);
    crm_segment_record_free(f->record);
    crm_segment_schema_free(f->schema);
    free(f);
}

static const char sweep_rule[] =
    "order_count >= 2 AND total_spent > 10000 AND last_order_at < -90d AND "
    "tags CONTAINS 'vip' AND prefecture IN ('Tokyo', 'Osaka', \"Kyoto\")";

static crm_status run_compile(void *fx)
{
    sweep_fixture *f = fx;

    return crm_segment_compile(f->schema, sweep_rule, strlen(sweep_rule), 540, &f->program);
}

static void verify_program(void *fx)
{
    sweep_fixture *f = fx;
    crm_segment_result res = T;

    ck_assert_ptr_nonnull(f->program);
    ck_assert_int_eq(crm_segment_program_eval(f->program, f->record, 0, &res), CRM_OK);
    ck_assert_int_eq(res, U);
}

START_TEST(test_sweep_compile)
{
    test_sweep sweep = {fixture_setup, run_compile, verify_program, fixture_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 2);
}
END_TEST

static crm_status run_record_values(void *fx)
{
    sweep_fixture *f = fx;
    const char *items[] = {"vip", "summer", "winter"};
    crm_status st;

    st = crm_segment_record_set_string(f->record, CRM_SEGMENT_STD_PREFECTURE, "Tokyo", 5);
    if (st == CRM_OK)
        st = crm_segment_record_set_strings(f->record, CRM_SEGMENT_STD_TAGS, items, NULL, 3);
    if (st == CRM_OK)
        st = crm_segment_record_add_string(f->record, CRM_SEGMENT_STD_TAGS, "gold", 4);
    return st;
}

static void verify_record(void *fx)
{
    sweep_fixture *f = fx;
    crm_segment_program *p = NULL;
    crm_segment_result res = F;
    const char *rule = "prefecture = 'Tokyo' AND tags CONTAINS 'gold' AND tags CONTAINS 'vip'";

    ck_assert_int_eq(crm_segment_compile(f->schema, rule, strlen(rule), 0, &p), CRM_OK);
    ck_assert_int_eq(crm_segment_program_eval(p, f->record, 0, &res), CRM_OK);
    ck_assert_int_eq(res, T);
    crm_segment_program_free(p);
}

START_TEST(test_sweep_record_values)
{
    test_sweep sweep = {fixture_setup, run_record_values, verify_record, fixture_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 2);
}
END_TEST

static crm_status run_new_objects(void *fx)
{
    sweep_fixture *f = fx;
    crm_segment_schema *s = NULL;
    crm_segment_record *r = NULL;
    crm_segment_set *set = NULL;
    crm_segment_batch *b = NULL;
    crm_status st = crm_segment_schema_new_standard(f->ctx, &s);

    if (st == CRM_OK)
        st = crm_segment_schema_add(s, "event.amount", CRM_SEGMENT_MONEY, NULL);
    if (st == CRM_OK)
        st = crm_segment_record_new(s, &r);
    if (st == CRM_OK)
        st = crm_segment_set_new(s, &set);
    if (st == CRM_OK)
        st = crm_segment_batch_new(s, 100, &b);
    if (st == CRM_OK)
        ck_assert_uint_eq(crm_segment_schema_count(s), CRM_SEGMENT_STD_COUNT + 1);
    crm_segment_batch_free(b);
    crm_segment_set_free(set);
    crm_segment_record_free(r);
    crm_segment_schema_free(s);
    return st;
}

static void verify_nothing_changed(void *fx)
{
    sweep_fixture *f = fx;

    ck_assert_uint_eq(crm_segment_schema_count(f->schema), CRM_SEGMENT_STD_COUNT);
}

START_TEST(test_sweep_constructors)
{
    test_sweep sweep = {fixture_setup, run_new_objects, verify_nothing_changed,
                        fixture_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 5);
}
END_TEST

static crm_status run_set_add(void *fx)
{
    sweep_fixture *f = fx;
    crm_status st = CRM_OK;
    int i;

    if (!f->program)
        st = run_compile(fx);
    for (i = 0; st == CRM_OK && crm_segment_set_count(f->set) < 12 && i < 12; i++)
        st = crm_segment_set_add(f->set, f->program, NULL);
    return st;
}

static void verify_set(void *fx)
{
    sweep_fixture *f = fx;
    uint8_t bits[2];
    int64_t first = 0;

    ck_assert_uint_eq(crm_segment_set_count(f->set), 12);
    ck_assert_int_eq(crm_segment_set_eval(f->set, f->record, 0, bits, 2), CRM_OK);
    ck_assert_int_eq(crm_segment_set_first_match(f->set, f->record, 0, &first), CRM_OK);
    ck_assert_int_eq(first, -1);
}

START_TEST(test_sweep_set_add)
{
    test_sweep sweep = {fixture_setup, run_set_add, verify_set, fixture_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 2);
}
END_TEST

static crm_status run_batch(void *fx)
{
    static const int64_t counts[3] = {1, 2, 3};
    static const int64_t spent[3] = {20000, 20000, 5};
    sweep_fixture *f = fx;
    uint8_t match = 0xff;
    crm_status st = CRM_OK;

    if (!f->program) {
        const char *rule = "order_count >= 2 AND total_spent > 10000";

        st = crm_segment_compile(f->schema, rule, strlen(rule), 0, &f->program);
    }
    if (st == CRM_OK && !f->batch)
        st = crm_segment_batch_new(f->schema, 3, &f->batch);
    if (st == CRM_OK)
        st = crm_segment_batch_bind_int64(f->batch, CRM_SEGMENT_STD_ORDER_COUNT, counts, NULL);
    if (st == CRM_OK)
        st = crm_segment_batch_bind_int64(f->batch, CRM_SEGMENT_STD_TOTAL_SPENT, spent, NULL);
    if (st == CRM_OK)
        st = crm_segment_program_eval_batch(f->program, f->batch, 0, &match, NULL);
    if (st == CRM_OK)
        ck_assert_uint_eq(match, 0x2);
    return st;
}

static void verify_batch(void *fx)
{
    sweep_fixture *f = fx;

    ck_assert_ptr_nonnull(f->batch);
}

START_TEST(test_sweep_batch)
{
    test_sweep sweep = {fixture_setup, run_batch, verify_batch, fixture_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 1);
}
END_TEST

static Suite *segment_suite(void)
{
    Suite *s = suite_create("segment");
    TCase *tc = tcase_create("segment");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_schema_standard);
    tcase_add_test(tc, test_schema_bad_arguments);
    tcase_add_test(tc, test_numbers_and_bools);
    tcase_add_test(tc, test_strings_and_sets);
    tcase_add_test(tc, test_times_and_functions);
    tcase_add_test(tc, test_precedence_and_comments);
    tcase_add_test(tc, test_three_valued_logic);
    tcase_add_test(tc, test_date_literal_is_local_day);
    tcase_add_test(tc, test_anniversary);
    tcase_add_test(tc, test_extreme_values);
    tcase_add_test(tc, test_compile_errors);
    tcase_add_test(tc, test_compile_bad_arguments);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_big_in_list_evaluates);
    tcase_add_test(tc, test_in_list_order_does_not_matter);
    tcase_add_test(tc, test_record_setters);
    tcase_add_test(tc, test_eval_bad_arguments);
    tcase_add_test(tc, test_inline_eval_on_nulls);
    tcase_add_test(tc, test_explain);
    tcase_add_test(tc, test_set_bitset_and_first_match);
    tcase_add_test(tc, test_set_rfm_groups_first_match);
    tcase_add_test(tc, test_batch_equals_rows);
    tcase_add_test(tc, test_batch_errors);
    tcase_add_test(tc, test_threads_share_a_program);
    tcase_add_test(tc, test_sweep_compile);
    tcase_add_test(tc, test_sweep_record_values);
    tcase_add_test(tc, test_sweep_constructors);
    tcase_add_test(tc, test_sweep_set_add);
    tcase_add_test(tc, test_sweep_batch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(segment_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
