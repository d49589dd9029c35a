/*
 * Check suite for the scenario module (include/crm/scenario.h) and the JSON
 * reader it introduced in src/core/json.h.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "crm/common.h"
#include "test_util.h"

/* ---- JSON reader ------------------------------------------------------- */

static crm_status json_parse_str(crm_ctx *ctx, crm_arena *arena, const char *s,
                                 const crm_json **out)
{
    return crm_json_parse(ctx, arena, s, strlen(s), NULL, out);
}

START_TEST(test_json_values)
{
    crm_ctx *ctx = NULL;
    crm_arena arena;
    const crm_json *root = NULL, *v;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_arena_init(&arena, ctx, 0);
    ck_assert_int_eq(json_parse_str(ctx, &arena,
        " {\"a\": [1, -2.5e1, 0.125, true, false, null],\n \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\","
        " \"big\": 12345678901234567890, \"neg\": -9223372036854775808, \"e\": {}} ", &root),
        CRM_OK);
    ck_assert_int_eq(root->type, CRM_JSON_OBJECT);
    ck_assert_uint_eq(root->count, 5);
    v = crm_json_get(root, "a");
    ck_assert_int_eq(v->type, CRM_JSON_ARRAY);
    ck_assert_uint_eq(v->count, 6);
    ck_assert_int_eq(v->items[0]->is_integer, 1);
    ck_assert_int_eq(v->items[0]->integer, 1);
    ck_assert_int_eq(v->items[1]->is_integer, 0);
    ck_assert(v->items[1]->number == -25.0);
    ck_assert(v->items[2]->number == 0.125);
    ck_assert_int_eq(v->items[3]->type, CRM_JSON_TRUE);
    ck_assert_int_eq(v->items[4]->type, CRM_JSON_FALSE);
    ck_assert_int_eq(v->items[5]->type, CRM_JSON_NULL);
    v = crm_json_get(root, "s");
    ck_assert_uint_eq(v->len, 1 + 2 + 4 + 2);
    ck_assert_int_eq(memcmp(v->text, "x\xc3\xa9\xf0\x9f\x98\x80\n\"", v->len), 0);
    ck_assert_uint_eq(v->line, 2);
    ck_assert_uint_eq(v->column, 7);
    v = crm_json_get(root, "big");
    ck_assert_int_eq(v->is_integer, 0);
    ck_assert(v->number > 1.2e19 && v->number < 1.24e19);
    v = crm_json_get(root, "neg");
    ck_assert_int_eq(v->is_integer, 1);
    ck_assert_int_eq(v->integer, INT64_MIN);
    ck_assert_uint_eq(crm_json_get(root, "e")->count, 0);
    ck_assert_ptr_null(crm_json_get(root, "missing"));
    ck_assert_ptr_null(crm_json_get(v, "a"));
    ck_assert_str_eq(crm_json_type_name(CRM_JSON_OBJECT), "object");
    crm_arena_free(&arena);
    crm_ctx_free(ctx);
}
END_TEST

static void expect_json_error(const char *text, size_t len, crm_status status,
                              uint32_t line, uint32_t column)
{
    crm_ctx *ctx = NULL;
    crm_arena arena;
    const crm_json *root = NULL;
    uint32_t l = 0, c = 0;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_arena_init(&arena, ctx, 0);
    ck_assert_msg(crm_json_parse(ctx, &arena, text, len, NULL, &root) == status,
                  "input %s: %s", text, crm_ctx_errmsg(ctx));
    ck_assert_ptr_null(root);
    crm_ctx_errpos(ctx, &l, &c);
    if (line) {
        ck_assert_uint_eq(l, line);
        ck_assert_uint_eq(c, column);
    }
    crm_arena_free(&arena);
    crm_ctx_free(ctx);
}

#define EXPECT_JSON_ERROR(s, st, l, c) expect_json_error(s, sizeof s - 1, st, l, c)

START_TEST(test_json_rejects_malformed)
{
    EXPECT_JSON_ERROR("", CRM_EPARSE, 1, 1);
    EXPECT_JSON_ERROR("{", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("[1,]", CRM_EPARSE, 1, 4);
    EXPECT_JSON_ERROR("{\"a\":1,}", CRM_EPARSE, 1, 8);
    EXPECT_JSON_ERROR("[01]", CRM_EPARSE, 1, 3);
    EXPECT_JSON_ERROR("[1.]", CRM_EPARSE, 1, 4);
    EXPECT_JSON_ERROR("[.5]", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("[+1]", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("[1e]", CRM_EPARSE, 1, 4);
    EXPECT_JSON_ERROR("[tru]", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("{'a':1}", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("{\"a\" 1}", CRM_EPARSE, 1, 6);
    EXPECT_JSON_ERROR("\"tab\there\"", CRM_EPARSE, 1, 5);
    EXPECT_JSON_ERROR("\"\\x\"", CRM_EPARSE, 1, 3);
    EXPECT_JSON_ERROR("\"\\ud800\"", CRM_EPARSE, 0, 0);
    EXPECT_JSON_ERROR("\"\\udc00\"", CRM_EPARSE, 0, 0);
    EXPECT_JSON_ERROR("\"\\u12g4\"", CRM_EPARSE, 0, 0);
    EXPECT_JSON_ERROR("1 2", CRM_EPARSE, 1, 3);
    EXPECT_JSON_ERROR("{\"a\":1,\"a\":2}", CRM_EPARSE, 1, 12);
    EXPECT_JSON_ERROR("\"\xc3\"", CRM_EUTF8, 1, 2);
    EXPECT_JSON_ERROR("\"\xed\xa0\x80\"", CRM_EUTF8, 1, 2);
    EXPECT_JSON_ERROR("\xef\xbb\xbf{}", CRM_EPARSE, 1, 1);
    EXPECT_JSON_ERROR("[\n  1,\n  x]", CRM_EPARSE, 3, 3);
    EXPECT_JSON_ERROR("[\"\xc3\xa9\xc3\xa9\", ?]", CRM_EPARSE, 1, 8);
    expect_json_error("[\0]", 3, CRM_EPARSE, 1, 2);
}
END_TEST

START_TEST(test_json_limits)
{
    crm_ctx *ctx = NULL;
    crm_arena arena;
    const crm_json *root = NULL;
    crm_json_limits limits = {8, 3};
    char deep[200];

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_arena_init(&arena, ctx, 0);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "[[[1]]]", 7, &limits, &root), CRM_OK);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "[[[[1]]]]", 9, &limits, &root), CRM_ELIMIT);
    limits.max_depth = 0;
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "[1,2,3,4,5]", 11, &limits, &root),
                     CRM_ELIMIT);
    memset(deep, '[', sizeof deep);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, deep, sizeof deep, NULL, &root), CRM_ELIMIT);
    ck_assert_int_eq(crm_json_parse(ctx, NULL, "1", 1, NULL, &root), CRM_EINVAL);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, NULL, 1, NULL, &root), CRM_EINVAL);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "1", 1, NULL, NULL), CRM_EINVAL);
    crm_arena_free(&arena);
    crm_ctx_free(ctx);
}
END_TEST

typedef struct json_fixture {
    crm_ctx *ctx;
    crm_arena arena;
    const crm_json *root;
} json_fixture;

static void *json_setup(crm_ctx *ctx)
{
    json_fixture *f = calloc(1, sizeof *f);

    f->ctx = ctx;
    crm_arena_init(&f->arena, ctx, 64);
    return f;
}

static crm_status json_run(void *fixture)
{
    json_fixture *f = fixture;
    static const char text[] = "{\"k\": [1, \"two\", {\"x\": null, \"y\": [true]}], \"z\": 3}";

    crm_arena_free(&f->arena);
    return crm_json_parse(f->ctx, &f->arena, text, sizeof text - 1, NULL, &f->root);
}

static void json_verify(void *fixture)
{
    json_fixture *f = fixture;

    ck_assert_uint_eq(crm_json_get(f->root, "k")->count, 3);
}

static void json_teardown(void *fixture)
{
    json_fixture *f = fixture;

    crm_arena_free(&f->arena);
    free(f);
}

START_TEST(test_json_allocation_failures)
{
    test_sweep sweep = {json_setup, json_run, json_verify, json_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 3);
}
END_TEST

static Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("scenario");

    tcase_add_test(tc, test_json_values);
    tcase_add_test(tc, test_json_rejects_malformed);
    tcase_add_test(tc, test_json_limits);
    tcase_add_test(tc, test_json_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(scenario_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
