/*
 * Check suite for src/core and include/crm/common.h.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/civil.h"
#include "core/ctx.h"
#include "core/i64map.h"
#include "core/mem.h"
#include "core/radix.h"
#include "core/utf8.h"
#include "crm/common.h"
#include "test_util.h"

/* ---- ctx, status, version ---------------------------------------------- */

START_TEST(test_ctx_lifecycle)
{
    crm_ctx *ctx = NULL;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(crm_ctx_errcode(ctx), CRM_OK);
    ck_assert_str_eq(crm_ctx_errmsg(ctx), "");
    crm_ctx_free(ctx);
    crm_ctx_free(NULL);
}
END_TEST

START_TEST(test_ctx_bad_arguments)
{
    crm_ctx *ctx = NULL;
    test_alloc ta;

    ck_assert_int_eq(crm_ctx_new(NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_ctx_new_with_allocator(NULL, NULL, NULL, NULL, &ctx),
                     CRM_EINVAL);
    ck_assert_ptr_null(ctx);
    ck_assert_str_eq(crm_ctx_errmsg(NULL), "");
    ck_assert_int_eq(crm_ctx_errcode(NULL), CRM_OK);
    /* The ctx's own allocation failing gives ENOMEM and no ctx. */
    ctx = test_ctx_new(&ta);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

START_TEST(test_ctx_error_recording)
{
    crm_ctx *ctx = NULL;
    uint32_t line = 9, column = 9;
    char longmsg[600];

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_error(ctx, CRM_EINVAL, "bad %s", "thing"), CRM_EINVAL);
    ck_assert_int_eq(crm_ctx_errcode(ctx), CRM_EINVAL);
    ck_assert_str_eq(crm_ctx_errmsg(ctx), "bad thing");
    crm_ctx_errpos(ctx, &line, &column);
    ck_assert_uint_eq(line, 0);
    ck_assert_uint_eq(column, 0);
    crm_error_at(ctx, CRM_EPARSE, 3, 14, "unexpected '%c'", ')');
    crm_ctx_errpos(ctx, &line, &column);
    ck_assert_uint_eq(line, 3);
    ck_assert_uint_eq(column, 14);
    crm_ctx_errpos(ctx, NULL, NULL);
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    crm_error(ctx, CRM_ELIMIT, "%s", longmsg);
    ck_assert_uint_eq(strlen(crm_ctx_errmsg(ctx)), CRM_ERRMSG_MAX - 1);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_strerror_names_every_status)
{
    int s;

    for (s = CRM_OK; s >= CRM_ENOCONVERGE; s--)
        ck_assert_str_ne(crm_strerror(s), "unknown status");
    ck_assert_str_eq(crm_strerror(1), "unknown status");
    ck_assert_str_eq(crm_strerror(-1000), "unknown status");
    ck_assert_ptr_nonnull(strstr(crm_strerror(CRM_ENOMEM), "CRM_ENOMEM"));
}
END_TEST

START_TEST(test_version)
{
    ck_assert_str_eq(crm_version(), CRM_VERSION_STRING);
    ck_assert_int_eq(crm_version_number(), CRM_VERSION_NUMBER);
}
END_TEST

/* ---- mem --------------------------------------------------------------- */

START_TEST(test_mem_overflow_and_grow)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    void *array = NULL;
    size_t cap = 0;
    char *s;

    ck_assert_ptr_null(crm_mem_alloc_array(ctx, SIZE_MAX / 2, 4));
    ck_assert_ptr_null(crm_mem_calloc(ctx, SIZE_MAX / 2, 4));
    ck_assert_int_eq(crm_mem_grow(ctx, &array, &cap, 3, sizeof(int)), 0);
    ck_assert_uint_eq(cap, 8);
    ck_assert_int_eq(crm_mem_grow(ctx, &array, &cap, 100, sizeof(int)), 0);
    ck_assert_uint_eq(cap, 128);
    test_alloc_fail_in(&ta, 1);
    ck_assert_int_eq(crm_mem_grow(ctx, &array, &cap, 1000, sizeof(int)), -1);
    ck_assert_uint_eq(cap, 128);
    s = crm_mem_strndup(ctx, "abcdef", 3);
    ck_assert_str_eq(s, "abc");
    crm_mem_free(ctx, s);
    crm_mem_free(ctx, array);
    crm_mem_free(ctx, NULL);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* ---- i64map ------------------------------------------------------------ */

START_TEST(test_i64map_against_reference)
{
    crm_ctx *ctx = NULL;
    crm_i64map map;
    enum { N = 4000, KEYSPACE = 1500 };
    uint32_t *reference = malloc(KEYSPACE * sizeof *reference);
    uint64_t seed = 42;
    size_t i, live = 0;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_i64map_init(&map);
    ck_assert_uint_eq(crm_i64map_get(&map, 5), CRM_I64MAP_NONE);
    ck_assert_int_eq(crm_i64map_remove(&map, 5), 0);
    for (i = 0; i < KEYSPACE; i++)
        reference[i] = CRM_I64MAP_NONE;
    for (i = 0; i < N * 10; i++) {
        int64_t key;
        size_t slot;
        uint32_t found;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        slot = (size_t)((seed >> 33) % KEYSPACE);
        key = (int64_t)slot * 7919 - 5000000; /* negative keys too */
        switch ((seed >> 20) % 4) {
        case 0:
            ck_assert_int_eq(crm_i64map_upsert(ctx, &map, key, (uint32_t)i, &found),
                             reference[slot] == CRM_I64MAP_NONE);
            if (reference[slot] == CRM_I64MAP_NONE) {
                reference[slot] = (uint32_t)i;
                live++;
            }
            ck_assert_uint_eq(found, reference[slot]);
            break;
        case 1:
            ck_assert_int_eq(crm_i64map_set(ctx, &map, key, (uint32_t)i), 0);
            live += reference[slot] == CRM_I64MAP_NONE;
            reference[slot] = (uint32_t)i;
            break;
        case 2:
            ck_assert_int_eq(crm_i64map_remove(&map, key),
                             reference[slot] != CRM_I64MAP_NONE);
            live -= reference[slot] != CRM_I64MAP_NONE;
            reference[slot] = CRM_I64MAP_NONE;
            break;
        default:
            ck_assert_uint_eq(crm_i64map_get(&map, key), reference[slot]);
        }
        ck_assert_uint_eq(map.count, live);
    }
    for (i = 0; i < KEYSPACE; i++)
        ck_assert_uint_eq(crm_i64map_get(&map, (int64_t)i * 7919 - 5000000),
                          reference[i]);
    crm_i64map_clear(&map);
    ck_assert_uint_eq(map.count, 0);
    ck_assert_uint_eq(crm_i64map_get(&map, -5000000), CRM_I64MAP_NONE);
    crm_i64map_free(ctx, &map);
    crm_ctx_free(ctx);
    free(reference);
}
END_TEST

/* Slots with a payload, the key INT64_MIN (kept in the spare slot) and
 * iteration over every slot index. */
typedef struct test_slot {
    int64_t key;
    int64_t sum;
} test_slot;

START_TEST(test_i64map_slots_and_every_key)
{
    crm_ctx *ctx = NULL;
    crm_i64map map;
    const int64_t keys[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1};
    size_t i, k, seen = 0;
    int inserted;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_i64map_init_slots(&map, sizeof(test_slot));
    ck_assert_ptr_null(crm_i64map_find(&map, INT64_MIN));
    for (k = 0; k < 2000; k++) {
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            int64_t key = keys[i] + (int64_t)(k * 7919) * (keys[i] < 0 ? 1 : -1);
            test_slot *slot = crm_i64map_insert(ctx, &map, key, &inserted);
            ck_assert_ptr_nonnull(slot);
            ck_assert_int_eq(slot->key, key);
            ck_assert_int_eq(inserted, slot->sum == 0);
            slot->sum += 3;
        }
    }
    ck_assert_uint_eq(map.count, 6 * 2000);
    for (i = 0; i < crm_i64map_slot_count(&map); i++) {
        const test_slot *slot = crm_i64map_slot(&map, i);
        if (!crm_i64map_used(&map, i))
            continue;
        seen++;
        ck_assert_int_eq(slot->sum, 3);
        ck_assert_ptr_eq(crm_i64map_find(&map, slot->key), slot);
        ck_assert_uint_eq(crm_i64map_index(&map, slot), i);
    }
    ck_assert_uint_eq(seen, map.count);
    ck_assert_int_eq(crm_i64map_remove(&map, INT64_MIN), 1);
    ck_assert_int_eq(crm_i64map_remove(&map, INT64_MIN), 0);
    ck_assert_ptr_null(crm_i64map_find(&map, INT64_MIN));
    ck_assert_ptr_nonnull(crm_i64map_find(&map, INT64_MAX));
    for (k = 0; k < 2000; k++)
        ck_assert_int_eq(crm_i64map_remove(&map, INT64_MAX - (int64_t)(k * 7919)), 1);
    ck_assert_uint_eq(map.count, 5 * 2000 - 1);
    ck_assert_ptr_nonnull(crm_i64map_find(&map, INT64_MIN + 1));
    crm_i64map_free(ctx, &map);
    crm_ctx_free(ctx);
}
END_TEST

/*
 * crm_i64map_claim gives an absent key the empty slot an insert would
 * use, and a present key its slot; a fresh table from calloc is empty.
 */
START_TEST(test_i64map_claim)
{
    crm_ctx *ctx = NULL;
    crm_i64map map;
    int64_t key;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_i64map_init_slots(&map, sizeof(test_slot));
    ck_assert_int_eq(crm_i64map_reserve(ctx, &map, 3000), 0);
    for (key = 1; key <= 3000; key++) {
        test_slot *slot = crm_i64map_claim(&map, key * 7919);
        ck_assert_int_eq(slot->key, 0);
        ck_assert_int_eq(slot->sum, 0);
        slot->key = key * 7919;
        slot->sum = key;
        map.count++;
    }
    for (key = 1; key <= 3000; key++) {
        test_slot *slot = crm_i64map_claim(&map, key * 7919);
        ck_assert_ptr_eq(slot, crm_i64map_find(&map, key * 7919));
        ck_assert_int_eq(slot->sum, key);
    }
    ck_assert_ptr_null(crm_i64map_find(&map, 7918));
    crm_i64map_free(ctx, &map);
    crm_ctx_free(ctx);
}
END_TEST

/* Slots vacated by removes are reused with a zeroed payload. */
START_TEST(test_i64map_insert_after_remove_zeroes_payload)
{
    crm_ctx *ctx = NULL;
    crm_i64map map;
    int64_t key;
    int inserted;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_i64map_init_slots(&map, sizeof(test_slot));
    ck_assert_int_eq(crm_i64map_reserve(ctx, &map, 1000), 0);
    for (key = 0; key < 1000; key++) {
        test_slot *slot = crm_i64map_insert(ctx, &map, key * 7919, &inserted);
        ck_assert_ptr_nonnull(slot);
        slot->sum = key + 1;
    }
    for (key = 0; key < 1000; key++)
        ck_assert_int_eq(crm_i64map_remove(&map, key * 7919), 1);
    ck_assert_uint_eq(map.count, 0);
    for (key = 0; key < 1000; key++) {
        test_slot *slot = crm_i64map_insert(ctx, &map, key * 7907, &inserted);
        ck_assert_ptr_nonnull(slot);
        ck_assert_int_eq(inserted, 1);
        ck_assert_int_eq(slot->sum, 0);
    }
    crm_i64map_free(ctx, &map);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_i64map_distinct_estimate)
{
    enum { N = 200000 };
    int64_t *keys = malloc(N * sizeof *keys);
    size_t i, distinct, estimate;

    ck_assert_uint_eq(crm_i64_estimate_distinct(NULL, 0), 0);
    for (distinct = 10; distinct <= 100000; distinct *= 10) {
        for (i = 0; i < N; i++)
            keys[i] = (int64_t)(i % distinct) * 104729 - 77;
        estimate = crm_i64_estimate_distinct(keys, N);
        ck_assert(estimate >= distinct - distinct / 20 &&
                  estimate <= distinct + distinct / 20);
    }
    free(keys);
}
END_TEST

/* From 2^20 keys on the estimate comes from a sample: consecutive ids,
 * spread ids and all-distinct keys stay within 5%. */
START_TEST(test_i64map_distinct_estimate_sampled)
{
    enum { N = 1 << 21 };
    const size_t distincts[3] = {100000, 500000, N};
    int64_t *keys = malloc(N * sizeof *keys);
    size_t i, k, distinct, estimate;
    int spread;

    for (spread = 0; spread < 2; spread++) {
        for (k = 0; k < 3; k++) {
            distinct = distincts[k];
            for (i = 0; i < N; i++)
                keys[i] = spread ? (int64_t)(i % distinct) * 104729 - 77
                                 : (int64_t)(i % distinct) + 1;
            estimate = crm_i64_estimate_distinct(keys, N);
            ck_assert_msg(estimate >= distinct - distinct / 20 &&
                              estimate <= distinct + distinct / 20,
                          "%zu distinct estimated as %zu", distinct, estimate);
        }
    }
    free(keys);
}
END_TEST

typedef struct map_fixture {
    crm_ctx *ctx;
    crm_i64map map;
} map_fixture;

static void *map_setup(crm_ctx *ctx)
{
    map_fixture *f = calloc(1, sizeof *f);

    f->ctx = ctx;
    crm_i64map_init(&f->map);
    ck_assert_int_eq(crm_i64map_set(ctx, &f->map, 1, 10), 0);
    return f;
}

static crm_status map_run(void *fixture)
{
    map_fixture *f = fixture;
    int64_t key;

    for (key = 2; key <= 100; key++)
        if (crm_i64map_set(f->ctx, &f->map, key, (uint32_t)key * 10) != 0)
            return crm_error_nomem(f->ctx);
    return CRM_OK;
}

static void map_verify(void *fixture)
{
    map_fixture *f = fixture;
    int64_t key;

    for (key = 1; key <= 100; key++)
        ck_assert_uint_eq(crm_i64map_get(&f->map, key), (uint32_t)key * 10);
}

static void map_teardown(void *fixture)
{
    map_fixture *f = fixture;

    crm_i64map_free(f->ctx, &f->map);
    free(f);
}

START_TEST(test_i64map_allocation_failures)
{
    test_sweep sweep = {map_setup, map_run, map_verify, map_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 0);
}
END_TEST

/* ---- radix sort -------------------------------------------------------- */

typedef struct keyed {
    int64_t key;
    uint32_t val;
} keyed;

static int cmp_keyed_stable(const void *a, const void *b)
{
    const keyed *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->val < y->val ? -1 : x->val > y->val;
}

static void check_radix(size_t n, uint64_t range, int with_negative)
{
    crm_ctx *ctx = NULL;
    int64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    uint32_t *vals = malloc((n ? n : 1) * sizeof *vals);
    keyed *ref = malloc((n ? n : 1) * sizeof *ref);
    uint64_t seed = n + range;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        keys[i] = (int64_t)((seed >> 11) % range);
        if (with_negative && (seed & 1))
            keys[i] = -keys[i] - 1;
        if (range == 0xFFFFFFFFFFFFFFFFu)
            keys[i] = (int64_t)seed;
        vals[i] = (uint32_t)i;
        ref[i].key = keys[i];
        ref[i].val = (uint32_t)i;
    }
    qsort(ref, n, sizeof *ref, cmp_keyed_stable);
    ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, vals, n), 0);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(keys[i], ref[i].key);
        ck_assert_uint_eq(vals[i], ref[i].val); /* stable */
    }
    ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, NULL, n), 0);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(keys[i], ref[i].key);
    crm_ctx_free(ctx);
    free(keys);
    free(vals);
    free(ref);
}

START_TEST(test_radix_sort_matches_qsort)
{
    check_radix(0, 10, 0);
    check_radix(1, 10, 0);
    check_radix(1000, 1, 0);          /* all equal */
    check_radix(5000, 7, 0);          /* many ties */
    check_radix(5000, 100000, 1);     /* negative keys */
    check_radix(20000, 0xFFFFFFFFFFFFFFFFu, 0); /* full 64-bit range */
}
END_TEST

START_TEST(test_radix_sort_extremes)
{
    crm_ctx *ctx = NULL;
    int64_t keys[] = {INT64_MAX, 0, INT64_MIN, -1, 1, INT64_MIN, INT64_MAX};
    int64_t sorted[] = {INT64_MIN, INT64_MIN, -1, 0, 1, INT64_MAX, INT64_MAX};
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, NULL, 7), 0);
    for (i = 0; i < 7; i++)
        ck_assert_int_eq(keys[i], sorted[i]);
    crm_ctx_free(ctx);
}
END_TEST

/* Keys base + r * stride (r < count, from a fixed sequence) sorted with a
 * 64-bit payload, against qsort; the ends of the span are always present. */
static void check_radix_span(int64_t base, uint64_t count, uint64_t stride)
{
    enum { N = 6000 };
    crm_ctx *ctx = NULL;
    int64_t *keys = malloc(N * sizeof *keys);
    uint64_t *vals = malloc(N * sizeof *vals);
    keyed *ref = malloc(N * sizeof *ref);
    uint64_t seed = count ^ stride;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (i = 0; i < N; i++) {
        uint64_t r = (seed >> 11) % count;

        seed = seed * 6364136223846793005u + 1442695040888963407u;
        if (i == 7 || i == 11)
            r = i == 7 ? 0 : count - 1;
        keys[i] = (int64_t)((uint64_t)base + r * stride);
    }
    for (i = 0; i < N; i++) {
        vals[i] = (uint64_t)i << 40 | (uint64_t)i;
        ref[i] = (keyed){keys[i], (uint32_t)i};
    }
    qsort(ref, N, sizeof *ref, cmp_keyed_stable);
    ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, keys, vals, N), 0);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(keys[i], ref[i].key);
        ck_assert_uint_eq(vals[i], (uint64_t)ref[i].val << 40 | ref[i].val);
    }
    crm_ctx_free(ctx);
    free(keys);
    free(vals);
    free(ref);
}

START_TEST(test_radix_sort_narrow_spans)
{
    check_radix_span(INT64_MIN, 1000, 1);           /* one pass, at INT64_MIN */
    check_radix_span(INT64_MAX - 999, 1000, 1);     /* one pass, at INT64_MAX */
    check_radix_span(-500000, 1000, UINT64_C(1) << 22); /* only the top digit */
    check_radix_span(-3, 1u << 15, 2048);           /* the upper two digits */
    check_radix_span(INT64_MIN, 3, 0x7FFFFFFF);     /* span 2^32 - 2 */
    check_radix_span(INT64_MAX - 0xFFFFFFFF, 2, 0xFFFFFFFF); /* span 2^32 - 1 */
    check_radix_span(-7, 2, UINT64_C(0x100000000)); /* span 2^32: 64-bit path */
    check_radix_span(42, 1, 1);                     /* all equal */
}
END_TEST

START_TEST(test_radix_sort_allocation_failure)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    int64_t keys[] = {3, 1, 2};
    uint32_t vals[] = {0, 1, 2};
    size_t k;

    for (k = 1; k <= 3; k++) {
        test_alloc_fail_in(&ta, k);
        ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, vals, 3), -1);
        ck_assert_int_eq(keys[0], 3); /* unchanged */
        ck_assert_uint_eq(vals[0], 0);
    }
    test_alloc_fail_in(&ta, 0);
    ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, vals, 3), 0);
    ck_assert_int_eq(keys[0], 1);
    ck_assert_uint_eq(vals[0], 1);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* Sorted keys (ties included) need no scratch: they succeed while the next
 * allocation is set to fail, and keep their payload where it is. */
START_TEST(test_radix_sort_sorted_input_allocates_nothing)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    int64_t keys[] = {-5, -5, 0, 7, 7, 7, INT64_MAX};
    uint32_t vals[] = {6, 5, 4, 3, 2, 1, 0};
    uint64_t wide[] = {6, 5, 4, 3, 2, 1, 0};
    size_t i;

    test_alloc_fail_in(&ta, 1);
    ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, vals, 7), 0);
    ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, keys, wide, 7), 0);
    for (i = 0; i < 7; i++) {
        ck_assert_uint_eq(vals[i], 6 - i);
        ck_assert_uint_eq(wide[i], 6 - i);
    }
    keys[6] = -6; /* one descent: a real sort, which now fails */
    ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, vals, 7), -1);
    test_alloc_fail_in(&ta, 0);
    ck_assert_int_eq(crm_radix_sort_i64(ctx, keys, vals, 7), 0);
    ck_assert_int_eq(keys[0], -6);
    ck_assert_uint_eq(vals[0], 0);
    ck_assert_uint_eq(vals[1], 6); /* stable: the first -5 stays first */
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* Keys spanning more than 2^32 take the 64-bit path: its allocations too. */
START_TEST(test_radix_sort_wide_allocation_failure)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    int64_t keys[] = {INT64_MAX, INT64_MIN, 0};
    uint64_t vals[] = {0, 1, 2};
    size_t k;

    for (k = 1; k <= 3; k++) {
        test_alloc_fail_in(&ta, k);
        ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, keys, vals, 3), -1);
        ck_assert_int_eq(keys[0], INT64_MAX); /* unchanged */
        ck_assert_uint_eq(vals[0], 0);
    }
    test_alloc_fail_in(&ta, 0);
    ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, keys, vals, 3), 0);
    ck_assert_int_eq(keys[0], INT64_MIN);
    ck_assert_uint_eq(vals[0], 1);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/*
 * Large sorts with a 64-bit payload (n >= 2^19, keys spanning 2^22 ..
 * 2^32) take one pass on the top digit (9 bits, 10 for a 32-bit span),
 * then sort each bucket on its two lower digits (for 30 bits: bits 0..9
 * and 10..20). Key shapes reaching each way a bucket is finished; r is a
 * random word, i the element's index.
 */
enum {
    SHAPE_UNIFORM_30,  /* buckets of ~2000, both lower digits */
    SHAPE_FULL_32,     /* span 2^32 - 1, both ends present */
    SHAPE_SPAN_2_22,   /* span exactly 2^22: the narrowest such sort */
    SHAPE_LOW_FIXED,   /* lowest digit always 0: one pass per bucket */
    SHAPE_MID_FIXED,   /* middle digit always 0: one pass per bucket */
    SHAPE_FEW_KEYS,    /* 500 keys repeated, one per bucket */
    SHAPE_ONE_BIG,     /* 3/8 of the keys in the first bucket (too big
                        * for the spare), many of them equal */
    SHAPE_SKEWED,      /* 15/16 of the keys in the first bucket */
    SHAPE_COUNT
};

static uint64_t shaped_key(int shape, uint64_t r, size_t i)
{
    switch (shape) {
    case SHAPE_UNIFORM_30:
        return r % (UINT64_C(1) << 30);
    case SHAPE_FULL_32:
        return i == 5 ? 0 : i == 9 ? UINT32_MAX : r % (UINT64_C(1) << 32);
    case SHAPE_SPAN_2_22:
        return i == 5 ? 0 : i == 9 ? UINT64_C(1) << 22 : r % (1u << 22);
    case SHAPE_LOW_FIXED:
        return (r % (1u << 20)) << 10;
    case SHAPE_MID_FIXED: /* the smallest offset is 0 */
        return i == 5 ? 0 : (r & 1023) | ((r >> 10) % 512) << 21;
    case SHAPE_FEW_KEYS: /* 31 bits: top digit bits 22..30 */
        return (r % 500) << 22;
    case SHAPE_ONE_BIG:
        return r % 8 < 3 ? (r >> 3) % 100000 : (r >> 3) % (UINT64_C(1) << 30);
    default:
        return r % 16 ? (r >> 4) % 100000 : (r >> 4) % (UINT64_C(1) << 30);
    }
}

/* Sorts n shaped keys (plus base) carrying their index and checks the
 * result is ordered, stable and a permutation of the input. */
static void check_radix_large(size_t n, int shape, int64_t base)
{
    crm_ctx *ctx = NULL;
    int64_t *keys = malloc(n * sizeof *keys);
    int64_t *input = malloc(n * sizeof *input);
    uint64_t *vals = malloc(n * sizeof *vals);
    unsigned char *seen = calloc(n, 1);
    uint64_t seed = n * 31 + (uint64_t)shape;
    size_t i, bad = 0;

    ck_assert_ptr_nonnull(seen);
    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        input[i] = keys[i] = (int64_t)((uint64_t)base +
                                       shaped_key(shape, seed >> 11, i));
        vals[i] = (uint64_t)i << 32 | (uint32_t)~i;
    }
    ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, keys, vals, n), 0);
    for (i = 0; i < n; i++) { /* one assert at the end: 10^6 are slow */
        size_t from = (size_t)(vals[i] >> 32);

        bad += from >= n || (uint32_t)vals[i] != (uint32_t)~from;
        if (from >= n)
            continue;
        bad += seen[from] || keys[i] != input[from];
        seen[from] = 1;
        if (i > 0)
            bad += keys[i - 1] > keys[i] ||
                   (keys[i - 1] == keys[i] && vals[i - 1] >> 32 >= from);
    }
    ck_assert_uint_eq(bad, 0);
    crm_ctx_free(ctx);
    free(keys);
    free(input);
    free(vals);
    free(seen);
}

START_TEST(test_radix_sort_large_shapes)
{
    const size_t large = (size_t)1 << 19;
    int shape;

    for (shape = 0; shape < SHAPE_COUNT; shape++)
        check_radix_large(large + 12345, shape, -(INT64_C(1) << 29));
    check_radix_large(large, SHAPE_UNIFORM_30, INT64_MIN);
    check_radix_large(large, SHAPE_FULL_32, INT64_MAX - UINT32_MAX);
    check_radix_large(large - 1, SHAPE_UNIFORM_30, 0); /* the 3-pass LSD */
}
END_TEST

/* Sorting within given bounds (exact or loose) matches the plain sort, on
 * the one-pass-then-buckets, 32-bit and 64-bit paths. */
static void check_radix_within(size_t n, uint64_t range, int64_t below,
                               int64_t above)
{
    crm_ctx *ctx = NULL;
    int64_t *keys = malloc(n * sizeof *keys);
    int64_t *expect = malloc(n * sizeof *expect);
    uint64_t *vals = malloc(n * sizeof *vals);
    uint64_t *expect_vals = malloc(n * sizeof *expect_vals);
    int64_t min = INT64_MAX, max = INT64_MIN;
    uint64_t seed = n ^ range;
    size_t i, bad = 0;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        expect[i] = keys[i] = (int64_t)((seed >> 11) % range) - 1000;
        expect_vals[i] = vals[i] = i;
        min = keys[i] < min ? keys[i] : min;
        max = keys[i] > max ? keys[i] : max;
    }
    ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, expect, expect_vals, n), 0);
    ck_assert_int_eq(crm_radix_sort_i64_u64_within(ctx, keys, vals, n,
                                                   min - below, max + above), 0);
    for (i = 0; i < n; i++)
        bad += keys[i] != expect[i] || vals[i] != expect_vals[i];
    ck_assert_uint_eq(bad, 0);
    crm_ctx_free(ctx);
    free(keys);
    free(expect);
    free(vals);
    free(expect_vals);
}

START_TEST(test_radix_sort_within_bounds)
{
    check_radix_within((size_t)1 << 19, UINT64_C(1) << 30, 0, 0);
    check_radix_within((size_t)1 << 19, UINT64_C(1) << 30, 5, 1 << 20);
    check_radix_within(5000, 100000, 0, 0);
    check_radix_within(5000, 100000, 3, 70000); /* loose: more passes */
    check_radix_within(5000, UINT64_C(1) << 40, 0, 0);
    check_radix_within(1, 10, 0, 0);
}
END_TEST

/* Distinct keys below 10^9 + 7 in no order. */
static int64_t scrambled(size_t i)
{
    return (int64_t)((i * UINT64_C(2654435761)) % 1000000007u);
}

/* The large path's allocations fail cleanly too. */
START_TEST(test_radix_sort_large_allocation_failure)
{
    const size_t n = (size_t)1 << 19;
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    int64_t *keys = malloc(n * sizeof *keys);
    uint64_t *vals = malloc(n * sizeof *vals);
    size_t i, k, changed = 0;

    for (i = 0; i < n; i++) {
        keys[i] = scrambled(i);
        vals[i] = i;
    }
    for (k = 1; k <= 3; k++) {
        test_alloc_fail_in(&ta, k);
        ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, keys, vals, n), -1);
        for (i = 0; i < n; i++) /* unchanged */
            changed += keys[i] != scrambled(i) || vals[i] != i;
    }
    ck_assert_uint_eq(changed, 0);
    test_alloc_fail_in(&ta, 0);
    ck_assert_int_eq(crm_radix_sort_i64_u64(ctx, keys, vals, n), 0);
    for (i = 1; i < n; i++)
        changed += keys[i - 1] >= keys[i];
    ck_assert_uint_eq(changed, 0);
    test_ctx_free_checked(ctx, &ta);
    free(keys);
    free(vals);
}
END_TEST

/* ---- utf8 -------------------------------------------------------------- */

START_TEST(test_utf8_validation)
{
    static const struct {
        const char *s;
        int valid;
    } cases[] = {
        {"", 1},
        {"plain ascii", 1},
        {"\xe5\xb1\xb1\xe7\x94\xb0", 1},     /* 山田 */
        {"\xef\xbd\xb6\xef\xbe\x9e", 1},     /* ｶﾞ (half-width) */
        {"\xf0\x9f\x98\x80", 1},             /* emoji U+1F600 */
        {"\xc3\x28", 0},                     /* bad continuation */
        {"\xe3\x81", 0},                     /* truncated */
        {"\xc0\xaf", 0},                     /* overlong '/' */
        {"\xe0\x80\xaf", 0},                 /* overlong 3-byte */
        {"\xed\xa0\x80", 0},                 /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 0},             /* above U+10FFFF */
        {"\xff", 0},
        {"\x80", 0},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(crm_utf8_valid(cases[i].s, strlen(cases[i].s)) ==
                          cases[i].valid,
                      "case %zu", i);
}
END_TEST

/* ASCII is checked eight bytes at a time: a bad or good sequence at every
 * place of strings of every length up to 24 is still found. */
START_TEST(test_utf8_validation_at_every_offset)
{
    char s[32];
    size_t len, at;

    for (len = 1; len <= 24; len++) {
        for (at = 0; at < len; at++) {
            memset(s, 'a', len);
            s[at] = '\x80'; /* a lone continuation byte */
            ck_assert_msg(!crm_utf8_valid(s, len), "bad at %zu of %zu", at, len);
            if (at + 1 < len) {
                s[at] = '\xc3'; /* é */
                s[at + 1] = '\xa9';
                ck_assert_msg(crm_utf8_valid(s, len), "good at %zu of %zu", at, len);
            }
        }
    }
}
END_TEST

/* Every 3-byte sequence (lead byte E0..EF) is judged as decoding it
 * judges it: crm_utf8_valid checks these without decoding. */
START_TEST(test_utf8_validation_of_three_byte_sequences)
{
    char s[4];
    unsigned lead, second, third;

    for (lead = 0xE0; lead <= 0xEF; lead++)
        for (second = 0; second < 256; second++)
            for (third = 0; third < 256; third++) {
                size_t pos = 0;
                uint32_t cp;
                int decodes;
                s[0] = (char)lead;
                s[1] = (char)second;
                s[2] = (char)third;
                s[3] = 'a';
                decodes = crm_utf8_decode(s, 3, &pos, &cp) == 0 && pos == 3;
                ck_assert_int_eq(crm_utf8_valid(s, 4), decodes);
            }
}
END_TEST

START_TEST(test_utf8_roundtrip)
{
    uint32_t samples[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0x3000, 0xFFFD,
                          0xFFFF, 0x10000, 0x10FFFF};
    size_t i;

    for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char buf[4];
        size_t len = crm_utf8_encode(samples[i], buf), pos = 0;
        uint32_t cp = 0;

        ck_assert_int_eq(crm_utf8_decode(buf, len, &pos, &cp), 0);
        ck_assert_uint_eq(cp, samples[i]);
        ck_assert_uint_eq(pos, len);
    }
}
END_TEST

/* ---- bytes ------------------------------------------------------------- */

START_TEST(test_bytes_roundtrip)
{
    crm_ctx *ctx = NULL;
    crm_writer w;
    crm_reader r;
    uint64_t u[] = {0, 1, 127, 128, 300, UINT32_MAX, UINT64_MAX};
    int64_t s[] = {0, -1, 1, -64, 64, INT64_MIN, INT64_MAX};
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_writer_init(&w, ctx);
    for (i = 0; i < 7; i++) {
        crm_writer_put_uvarint(&w, u[i]);
        crm_writer_put_svarint(&w, s[i]);
    }
    crm_writer_put_u32le(&w, 0xDEADBEEF);
    crm_writer_put_u8(&w, 7);
    ck_assert_int_eq(w.failed, 0);
    crm_reader_init(&r, w.data, w.len);
    for (i = 0; i < 7; i++) {
        ck_assert_uint_eq(crm_reader_get_uvarint(&r), u[i]);
        ck_assert_int_eq(crm_reader_get_svarint(&r), s[i]);
    }
    ck_assert_uint_eq(crm_reader_get_u32le(&r), 0xDEADBEEF);
    ck_assert_uint_eq(crm_reader_get_u8(&r), 7);
    ck_assert_int_eq(r.failed, 0);
    ck_assert_uint_eq(crm_reader_left(&r), 0);
    /* Reading past the end fails and stays failed. */
    ck_assert_uint_eq(crm_reader_get_u8(&r), 0);
    ck_assert_int_eq(r.failed, 1);
    /* Every truncation of the stream is detected. */
    for (i = 0; i < w.len; i++) {
        size_t k;
        crm_reader_init(&r, w.data, i);
        for (k = 0; k < 7; k++) {
            crm_reader_get_uvarint(&r);
            crm_reader_get_svarint(&r);
        }
        crm_reader_get_u32le(&r);
        crm_reader_get_u8(&r);
        ck_assert_int_eq(r.failed, 1);
    }
    crm_writer_free(&w);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_bytes_malformed_varint)
{
    uint8_t eleven[11];
    uint8_t too_big[10];
    crm_reader r;

    memset(eleven, 0x80, sizeof eleven);
    crm_reader_init(&r, eleven, sizeof eleven);
    crm_reader_get_uvarint(&r);
    ck_assert_int_eq(r.failed, 1);
    memset(too_big, 0xFF, sizeof too_big);
    too_big[9] = 0x02; /* bit 64 set */
    crm_reader_init(&r, too_big, sizeof too_big);
    crm_reader_get_uvarint(&r);
    ck_assert_int_eq(r.failed, 1);
}
END_TEST

START_TEST(test_crc32c_known_vectors)
{
    ck_assert_uint_eq(crm_crc32c(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(crm_crc32c(0, "", 0), 0);
    /* Incremental equals one-shot. */
    ck_assert_uint_eq(crm_crc32c(crm_crc32c(0, "1234", 4), "56789", 5),
                      0xE3069283u);
}
END_TEST

START_TEST(test_writer_allocation_failure)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    crm_writer w;

    crm_writer_init(&w, ctx);
    test_alloc_fail_in(&ta, 1);
    crm_writer_put_u32le(&w, 1);
    crm_writer_put_u8(&w, 1);
    ck_assert_int_eq(w.failed, 1);
    ck_assert_uint_eq(w.len, 0);
    crm_writer_free(&w);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* Every varint length, each value read back whole, at any buffer end. */
START_TEST(test_bytes_varint_lengths)
{
    crm_ctx *ctx = NULL;
    crm_writer w;
    crm_reader r;
    unsigned bits;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_writer_init(&w, ctx);
    for (bits = 1; bits <= 64; bits++) {
        uint64_t top = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        uint64_t v[3] = {top, top >> 1, top ^ (top >> 1)};
        size_t k;

        for (k = 0; k < 3; k++) {
            w.len = 0;
            crm_writer_put_uvarint(&w, v[k]);
            crm_reader_init(&r, w.data, w.len);
            ck_assert_uint_eq(crm_reader_get_uvarint(&r), v[k]);
            ck_assert_int_eq(r.failed, 0);
            ck_assert_uint_eq(crm_reader_left(&r), 0);
            /* The same bytes one short: a truncated varint, not a shorter one. */
            crm_reader_init(&r, w.data, w.len - 1);
            ck_assert_uint_eq(crm_reader_get_uvarint(&r), 0);
            ck_assert_int_eq(r.failed, 1);
            ck_assert_uint_eq(crm_reader_left(&r), 0);
            /* Followed by continuation bytes (the 5-byte fast path reads
               ahead): the value still ends where it should. */
            crm_writer_put_bytes(&w, "\x80\x80\x80\x80\x80\x80\x80\x80", 8);
            crm_reader_init(&r, w.data, w.len);
            ck_assert_uint_eq(crm_reader_get_uvarint(&r), v[k]);
            ck_assert_int_eq(r.failed, 0);
            ck_assert_uint_eq(crm_reader_left(&r), 8);
        }
    }
    ck_assert_int_eq(w.failed, 0);
    crm_writer_free(&w);
    crm_ctx_free(ctx);
}
END_TEST

/* After crm_writer_reserve(n), puts totalling n bytes never allocate. */
START_TEST(test_writer_reserve)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    crm_writer w;
    size_t calls;

    crm_writer_init(&w, ctx);
    crm_writer_reserve(&w, 64);
    ck_assert_int_eq(w.failed, 0);
    ck_assert_uint_ge(w.cap, 64);
    calls = ta.calls;
    crm_writer_put_u8(&w, 1);
    crm_writer_put_u32le(&w, 2);
    crm_writer_put_uvarint(&w, UINT64_MAX);
    crm_writer_put_svarint(&w, INT64_MIN);
    crm_writer_put_bytes(&w, "0123456789", 10);
    ck_assert_uint_eq(ta.calls, calls);
    ck_assert_uint_eq(w.len, 1 + 4 + 10 + 10 + 10);
    /* A failed reserve fails the writer, and later puts are no-ops. */
    test_alloc_fail_in(&ta, 1);
    crm_writer_reserve(&w, w.cap);
    ck_assert_int_eq(w.failed, 1);
    crm_writer_put_u8(&w, 1);
    crm_writer_put_uvarint(&w, 1);
    ck_assert_uint_eq(w.len, 35);
    crm_writer_free(&w);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* begin/encode/end writes what the puts write; a failed begin keeps nothing. */
START_TEST(test_writer_begin_encode_end)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    crm_writer a, b;
    uint8_t *p;

    crm_writer_init(&a, ctx);
    crm_writer_init(&b, ctx);
    crm_writer_put_u8(&a, 9);
    crm_writer_put_u32le(&a, 0xA1B2C3D4u);
    crm_writer_put_uvarint(&a, 300);
    crm_writer_put_svarint(&a, -1714521600);
    crm_writer_put_u8(&b, 9);
    p = crm_writer_begin(&b, 1 + 4 + 2 * CRM_UVARINT_MAX);
    ck_assert_ptr_nonnull(p);
    p = crm_encode_u32le(p, 0xA1B2C3D4u);
    p = crm_encode_uvarint(p, 300);
    p = crm_encode_svarint(p, -1714521600);
    crm_writer_end(&b, p);
    ck_assert_uint_eq(b.len, a.len);
    ck_assert_mem_eq(b.data, a.data, a.len);
    test_alloc_fail_in(&ta, 1);
    ck_assert_ptr_null(crm_writer_begin(&b, b.cap));
    ck_assert_int_eq(b.failed, 1);
    ck_assert_uint_eq(b.len, a.len);
    crm_writer_free(&a);
    crm_writer_free(&b);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* ---- arena ------------------------------------------------------------- */

START_TEST(test_arena)
{
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    crm_arena arena;
    char *a, *b, *big;
    size_t i;

    crm_arena_init(&arena, ctx, 64);
    a = crm_arena_strndup(&arena, "hello", 5);
    b = crm_arena_alloc(&arena, 3);
    ck_assert_str_eq(a, "hello");
    ck_assert_uint_eq((uintptr_t)b % _Alignof(max_align_t), 0);
    big = crm_arena_alloc(&arena, 1000);
    ck_assert_ptr_nonnull(big);
    memset(big, 1, 1000);
    for (i = 0; i < 100; i++)
        ck_assert_ptr_nonnull(crm_arena_alloc(&arena, 24));
    ck_assert_str_eq(a, "hello");
    test_alloc_fail_in(&ta, 1);
    ck_assert_ptr_null(crm_arena_alloc(&arena, 5000));
    test_alloc_fail_in(&ta, 0);
    ck_assert_ptr_null(crm_arena_alloc(&arena, SIZE_MAX));
    crm_arena_free(&arena);
    ck_assert_ptr_nonnull(crm_arena_alloc(&arena, 8));
    crm_arena_free(&arena);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* ---- civil time and crm_time_parse ------------------------------------- */

START_TEST(test_floor_div_and_mod)
{
    static const int64_t divisors[] = {1, 7, 12, 400, 86400, 146097, INT64_MAX};
    static const int64_t edges[] = {-(INT64_C(1) << 62) - 1, -(INT64_C(1) << 62), -86401,
                                    -86400, -86399, -1, 0, 1, 86399, 86400,
                                    INT64_MAX - 1, INT64_MAX};
    size_t i, k;
    int64_t n;

    for (i = 0; i < sizeof divisors / sizeof divisors[0]; i++) {
        int64_t d = divisors[i];

        for (k = 0; k < sizeof edges / sizeof edges[0] + 2001; k++) {
            int64_t q, want;

            n = k < sizeof edges / sizeof edges[0]
                    ? edges[k]
                    : (int64_t)(k - sizeof edges / sizeof edges[0]) - 1000;
            q = crm_floor_div(n, d);
            want = n / d - (n / d * d > n); /* the largest q with q * d <= n */
            ck_assert_int_eq(q, want);
            ck_assert_int_eq(crm_floor_mod(n, d), n - want * d);
            ck_assert(crm_floor_mod(n, d) >= 0 && crm_floor_mod(n, d) < d);
        }
    }
    ck_assert_int_eq(crm_floor_div(INT64_MIN, 86400), INT64_MIN / 86400 - 1);
    ck_assert_int_eq(crm_floor_div(INT64_MIN, 1), INT64_MIN);
}
END_TEST

/* civil_from_days gives a valid date that days_from_civil maps back to day,
 * and the next day follows it. */
static void check_civil_round_trip(int64_t day)
{
    int64_t y, y2;
    unsigned m, d, m2, d2;

    crm_civil_from_days(day, &y, &m, &d);
    ck_assert_msg(m >= 1 && m <= 12 && d >= 1 && d <= crm_days_in_month(y, m),
                  "day %lld: %lld-%u-%u", (long long)day, (long long)y, m, d);
    ck_assert_int_eq(crm_days_from_civil(y, m, d), day);
    crm_civil_from_days(day + 1, &y2, &m2, &d2);
    if (d < crm_days_in_month(y, m))
        ck_assert(y2 == y && m2 == m && d2 == d + 1);
    else if (m < 12)
        ck_assert(y2 == y && m2 == m + 1 && d2 == 1);
    else
        ck_assert(y2 == y + 1 && m2 == 1 && d2 == 1);
}

START_TEST(test_civil_known_dates)
{
    int64_t y;
    unsigned m, d;
    int64_t day;

    ck_assert_int_eq(crm_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(crm_days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(crm_days_from_civil(1969, 12, 31), -1);
    ck_assert_int_eq(crm_days_from_civil(2024, 2, 29), 19782);
    for (day = -800000; day <= 800000; day += 97)
        check_civil_round_trip(day);
    /* Every day of two eras, then windows far out (the clamped times reach
       about 2^52 s, 5.2e10 days, either way). */
    for (day = -146097; day < 146097; day++)
        check_civil_round_trip(day);
    for (day = -(INT64_C(1) << 36) - 800; day < -(INT64_C(1) << 36) + 800; day++)
        check_civil_round_trip(day);
    for (day = (INT64_C(1) << 36) - 800; day < (INT64_C(1) << 36) + 800; day++)
        check_civil_round_trip(day);
    crm_civil_from_days(-719468, &y, &m, &d); /* 0000-03-01 */
    ck_assert(y == 0 && m == 3 && d == 1);
    crm_civil_from_days(-719469, &y, &m, &d);
    ck_assert(y == 0 && m == 2 && d == 29);
    crm_civil_from_days(10956, &y, &m, &d);
    ck_assert(y == 1999 && m == 12 && d == 31);
    ck_assert_uint_eq(crm_weekday(0), 3);     /* Thursday */
    ck_assert_uint_eq(crm_weekday(19782), 3); /* 2024-02-29: Thursday */
    ck_assert_uint_eq(crm_weekday(-1), 2);
    ck_assert_uint_eq(crm_days_in_month(2024, 2), 29);
    ck_assert_uint_eq(crm_days_in_month(1900, 2), 28);
    ck_assert_uint_eq(crm_days_in_month(2000, 2), 29);
}
END_TEST

START_TEST(test_local_day_with_offset)
{
    /* 2024-01-01 08:00 JST = 2023-12-31T23:00Z: 1 January in Japan. */
    int64_t t = 1704063600;

    ck_assert_int_eq(crm_local_day(t, 0), crm_days_from_civil(2023, 12, 31));
    ck_assert_int_eq(crm_local_day(t, 540), crm_days_from_civil(2024, 1, 1));
    ck_assert_int_eq(crm_local_second_of_day(t, 540), 8 * 3600);
    ck_assert_int_eq(crm_local_day(-1, 0), -1);
    ck_assert_int_eq(crm_local_midnight(crm_days_from_civil(2024, 1, 1), 540),
                     1704034800);
}
END_TEST

START_TEST(test_time_parse_forms)
{
    static const struct {
        const char *text;
        int64_t expected;
    } ok[] = {
        {"1700000000", 1700000000},
        {"-5", -5},
        {"2024-01-01T00:00:00Z", 1704067200},
        {"2024-01-01T09:00:00+09:00", 1704067200},
        {"2024-01-01 09:00:00+0900", 1704067200},
        {"2024-01-01T09:00+09", 1704067200},
        {"2024-01-01T00:00:00.999Z", 1704067200},
        {"2023-12-31T19:00:00-05:00", 1704067200},
        {"2024-01-01", 1704034800}, /* midnight at the default +540 */
        {"2024-01-01T09:00:00", 1704067200},
        {"2024-02-29T00:00:00Z", 1709164800},
    };
    static const char *bad[] = {
        "", "abc", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32",
        "2024-01-01T25:00:00Z", "2024-01-01T10:00:00+25:00", "2024-01-01X",
        "2024-01-01T10", "2024-01-01T10:00:00Zjunk", "12a", "-",
        "2024-1-01T00:00Z", "99999999999999999999999",
    };
    size_t i;
    int64_t out = 123;

    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(crm_time_parse(ok[i].text, strlen(ok[i].text), 540,
                                     &out) == CRM_OK,
                      "rejected %s", ok[i].text);
        ck_assert_msg(out == ok[i].expected, "%s gave %lld", ok[i].text,
                      (long long)out);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = 123;
        ck_assert_msg(crm_time_parse(bad[i], strlen(bad[i]), 540, &out) ==
                          CRM_EPARSE,
                      "accepted %s", bad[i]);
        ck_assert_int_eq(out, 123);
    }
    ck_assert_int_eq(crm_time_parse(NULL, 0, 0, &out), CRM_EINVAL);
    ck_assert_int_eq(crm_time_parse("1", 1, 0, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_time_parse("1", 1, 5000, &out), CRM_EINVAL);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ctx_lifecycle);
    tcase_add_test(tc, test_ctx_bad_arguments);
    tcase_add_test(tc, test_ctx_error_recording);
    tcase_add_test(tc, test_strerror_names_every_status);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_mem_overflow_and_grow);
    tcase_add_test(tc, test_i64map_against_reference);
    tcase_add_test(tc, test_i64map_allocation_failures);
    tcase_add_test(tc, test_i64map_slots_and_every_key);
    tcase_add_test(tc, test_i64map_insert_after_remove_zeroes_payload);
    tcase_add_test(tc, test_i64map_claim);
    tcase_add_test(tc, test_i64map_distinct_estimate);
    tcase_add_test(tc, test_i64map_distinct_estimate_sampled);
    tcase_add_test(tc, test_radix_sort_matches_qsort);
    tcase_add_test(tc, test_radix_sort_extremes);
    tcase_add_test(tc, test_radix_sort_narrow_spans);
    tcase_add_test(tc, test_radix_sort_wide_allocation_failure);
    tcase_add_test(tc, test_radix_sort_allocation_failure);
    tcase_add_test(tc, test_radix_sort_sorted_input_allocates_nothing);
    tcase_add_test(tc, test_radix_sort_large_shapes);
    tcase_add_test(tc, test_radix_sort_large_allocation_failure);
    tcase_add_test(tc, test_radix_sort_within_bounds);
    tcase_add_test(tc, test_utf8_validation);
    tcase_add_test(tc, test_utf8_validation_at_every_offset);
    tcase_add_test(tc, test_utf8_validation_of_three_byte_sequences);
    tcase_add_test(tc, test_utf8_roundtrip);
    tcase_add_test(tc, test_bytes_roundtrip);
    tcase_add_test(tc, test_bytes_malformed_varint);
    tcase_add_test(tc, test_crc32c_known_vectors);
    tcase_add_test(tc, test_writer_allocation_failure);
    tcase_add_test(tc, test_bytes_varint_lengths);
    tcase_add_test(tc, test_writer_reserve);
    tcase_add_test(tc, test_writer_begin_encode_end);
    tcase_add_test(tc, test_arena);
    tcase_add_test(tc, test_floor_div_and_mod);
    tcase_add_test(tc, test_civil_known_dates);
    tcase_add_test(tc, test_local_day_with_offset);
    tcase_add_test(tc, test_time_parse_forms);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(core_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
