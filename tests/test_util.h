/*
 * Test helpers shared by the Check suites: a counting allocator that can be
 * told to fail the k-th allocation, and a sweep that runs an allocating
 * operation with every k in turn.
 */
#ifndef CRM_TEST_UTIL_H
#define CRM_TEST_UTIL_H

#include <stddef.h>

#include "crm/common.h"

typedef struct test_alloc {
    size_t calls;   /* allocations attempted (malloc and realloc) */
    size_t fail_at; /* 1-based index of the call that fails; 0 = never */
    size_t failed;  /* how many calls were failed */
    long live;      /* blocks allocated and not yet freed */
} test_alloc;

/* A context whose allocations go through `ta`. Asserts on failure. */
crm_ctx *test_ctx_new(test_alloc *ta);

/* Frees ctx and asserts that nothing it allocated is still live. */
void test_ctx_free_checked(crm_ctx *ctx, test_alloc *ta);

/* Makes the k-th allocation from now fail (k >= 1); 0 disables failures. */
void test_alloc_fail_in(test_alloc *ta, size_t k);

/*
 * An allocating operation under test. setup() builds whatever the operation
 * works on (with failures off); run() is the call under test; verify()
 * asserts on the fixture after run() succeeded; teardown() frees it all.
 */
typedef struct test_sweep {
    void *(*setup)(crm_ctx *ctx);
    crm_status (*run)(void *fixture);
    void (*verify)(void *fixture);
    void (*teardown)(void *fixture);
} test_sweep;

/*
 * For k = 1, 2, ...: fails the k-th allocation of run(), asserts that it
 * returned CRM_ENOMEM, that the fixture is still usable (run() again
 * without failures succeeds and verify() passes) and that teardown leaves
 * nothing allocated; stops at the first k that run() does not reach.
 * Returns the number of allocation points swept.
 */
size_t test_sweep_alloc_failures(const test_sweep *sweep);

/* The directory of the reference data (CRM_REFERENCE_DATA), or NULL. */
const char *test_reference_data_dir(void);

#endif
