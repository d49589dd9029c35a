/*
 * Test helpers (see test_util.h).
 */
#include <check.h>
#include <stdlib.h>

#include "test_util.h"

static void *test_malloc(void *user, size_t size)
{
    test_alloc *ta = user;
    void *p;

    ta->calls++;
    if (ta->fail_at && ta->calls == ta->fail_at) {
        ta->failed++;
        return NULL;
    }
    p = malloc(size);
    if (p)
        ta->live++;
    return p;
}

static void *test_realloc(void *user, void *ptr, size_t size)
{
    test_alloc *ta = user;

    if (!ptr)
        return test_malloc(user, size);
    ta->calls++;
    if (ta->fail_at && ta->calls == ta->fail_at) {
        ta->failed++;
        return NULL;
    }
    return realloc(ptr, size);
}

static void test_free(void *user, void *ptr)
{
    test_alloc *ta = user;

    if (ptr) {
        ta->live--;
        free(ptr);
    }
}

crm_ctx *test_ctx_new(test_alloc *ta)
{
    crm_ctx *ctx = NULL;

    ta->calls = ta->fail_at = ta->failed = 0;
    ta->live = 0;
    ck_assert_int_eq(crm_ctx_new_with_allocator(test_malloc, test_realloc,
                                                test_free, ta, &ctx),
                     CRM_OK);
    return ctx;
}

void test_ctx_free_checked(crm_ctx *ctx, test_alloc *ta)
{
    crm_ctx_free(ctx);
    ck_assert_msg(ta->live == 0, "%ld allocations leaked", ta->live);
}

void test_alloc_fail_in(test_alloc *ta, size_t k)
{
    ta->fail_at = k ? ta->calls + k : 0;
    ta->failed = 0;
}

size_t test_sweep_alloc_failures(const test_sweep *sweep)
{
    size_t k;

    for (k = 1;; k++) {
        test_alloc ta;
        crm_ctx *ctx = test_ctx_new(&ta);
        void *fixture = sweep->setup(ctx);
        crm_status status;
        size_t failed;

        test_alloc_fail_in(&ta, k);
        status = sweep->run(fixture);
        failed = ta.failed;
        test_alloc_fail_in(&ta, 0);
        if (failed == 0) {
            ck_assert_msg(status == CRM_OK, "run without failure gave %s",
                          crm_strerror(status));
            sweep->verify(fixture);
            sweep->teardown(fixture);
            test_ctx_free_checked(ctx, &ta);
            return k - 1;
        }
        if (status != CRM_OK) {
            ck_assert_msg(status == CRM_ENOMEM,
                          "allocation %zu failed, status %s", k,
                          crm_strerror(status));
            ck_assert_int_eq(crm_ctx_errcode(ctx), CRM_ENOMEM);
            status = sweep->run(fixture);
            ck_assert_msg(status == CRM_OK,
                          "retry after failing allocation %zu gave %s", k,
                          crm_strerror(status));
        }
        sweep->verify(fixture);
        sweep->teardown(fixture);
        test_ctx_free_checked(ctx, &ta);
    }
}

const char *test_reference_data_dir(void)
{
    const char *dir = getenv("CRM_REFERENCE_DATA");

    return dir && *dir ? dir : NULL;
}
