/*
 * Check suite for the identifier normalisers (src/identity/normalize*.c)
 * and crm_identity_normalize.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crm/identity.h"
#include "identity/normalize.h"
#include "test_util.h"

/* One input and what the normaliser must give for it. */
typedef struct norm_case {
    const char *raw;
    crm_status status;
    const char *want; /* when status is CRM_OK */
} norm_case;

static void check_case(crm_identity_normalizer normalizer, unsigned flags,
                       const norm_case *c)
{
    char out[CRM_IDENTITY_MAX_VALUE];
    size_t out_len = 12345;
    const char *reason = NULL;
    crm_status st;

    st = crm_normalize_value(normalizer, flags, c->raw, strlen(c->raw), out,
                             sizeof out, &out_len, &reason);
    ck_assert_msg(st == c->status, "normaliser %d, \"%s\": status %d, want %d",
                  (int)normalizer, c->raw, (int)st, (int)c->status);
    if (st == CRM_OK) {
        ck_assert_msg(out_len == strlen(c->want) &&
                          memcmp(out, c->want, out_len) == 0,
                      "normaliser %d, \"%s\": got \"%.*s\", want \"%s\"",
                      (int)normalizer, c->raw, (int)out_len, out, c->want);
    } else {
        ck_assert_ptr_nonnull(reason);
        ck_assert_msg(reason[0] != '\0', "empty reason");
    }
}

static void check_cases(crm_identity_normalizer normalizer, unsigned flags,
                        const norm_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        check_case(normalizer, flags, &cases[i]);
}

#define CHECK_CASES(normalizer, flags, cases)                                  \
    check_cases(normalizer, flags, cases, sizeof cases / sizeof cases[0])

/* ---- EXACT and ICASE --------------------------------------------------- */

static const norm_case exact_cases[] = {
    {"M-0001", CRM_OK, "M-0001"},
    {"  M-0001\t\r\n", CRM_OK, "M-0001"},
    {"\xE3\x80\x80M-0001\xE3\x80\x80", CRM_OK, "M-0001"},
    {"Abc Def", CRM_OK, "Abc Def"},
    {"", CRM_OK, ""},
    {"   ", CRM_OK, ""},
    {"\xE3\x80\x80 \xE3\x80\x80", CRM_OK, ""},
    {"\xE5\xB1\xB1\xE7\x94\xB0", CRM_OK, "\xE5\xB1\xB1\xE7\x94\xB0"},
    {"U\xE3\x80\x80V", CRM_OK, "U\xE3\x80\x80V"},
    {"\xFF", CRM_EUTF8, NULL},
};

static const norm_case icase_cases[] = {
    {"LINE-U123ABC", CRM_OK, "line-u123abc"},
    {"  Ab\xC3\x89 ", CRM_OK, "ab\xC3\x89"},
    {"\xE3\x80\x80XyZ", CRM_OK, "xyz"},
    {"\xC0\xAF", CRM_EUTF8, NULL},
};

START_TEST(test_exact_and_icase)
{
    CHECK_CASES(CRM_NORMALIZE_EXACT, 0, exact_cases);
    CHECK_CASES(CRM_NORMALIZE_ICASE, 0, icase_cases);
}
END_TEST

static Suite *identity_normalize_suite(void)
{
    Suite *s = suite_create("identity_normalize");
    TCase *tc = tcase_create("normalize");

    tcase_add_test(tc, test_exact_and_icase);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(identity_normalize_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
