/*
 * Bit counting shared by the modules.
 */
#ifndef CRM_CORE_BITS_H
#define CRM_CORE_BITS_H

#include <stdint.h>

/* The number of leading zero bits of x, which must not be 0. */
static inline unsigned crm_clz64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_clzll(x);
#else
    unsigned n = 0;

    for (; !(x >> 63); x <<= 1)
        n++;
    return n;
#endif
}

#endif
