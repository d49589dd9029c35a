/*
 * Overflow-checked int64 addition, for every module that sums the
 * caller's amounts (RFM totals, analytics revenue, CLV spend).
 */
#ifndef CRM_CORE_CHECKED_H
#define CRM_CORE_CHECKED_H

#include <stdint.h>

/* 1 when a + b leaves the int64 range, else 0. */
static inline int crm_add_overflows(int64_t a, int64_t b)
{
#if defined(__GNUC__) || defined(__clang__)
    int64_t sum;

    return __builtin_add_overflow(a, b, &sum);
#else
    return b > 0 ? a > INT64_MAX - b : a < INT64_MIN - b;
#endif
}

/* Adds v to *acc and returns 0, or returns 1 and leaves *acc unchanged
 * when the sum leaves the int64 range. */
static inline int crm_add_checked(int64_t *acc, int64_t v)
{
    if (crm_add_overflows(*acc, v))
        return 1;
    *acc += v;
    return 0;
}

#endif
