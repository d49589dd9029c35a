/*
 * Hints about memory access, for loops over tables far bigger than the
 * caches. Both are only hints: they never fault and never change memory.
 *
 * crm_advise_huge_pages needs madvise, which a strict C11 build declares
 * only with _DEFAULT_SOURCE: a .c file calling it defines _DEFAULT_SOURCE
 * before its first #include (elsewhere the hint compiles to nothing).
 */
#ifndef CRM_CORE_MEMHINT_H
#define CRM_CORE_MEMHINT_H

#include <stddef.h>
#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Starts loading the cache line at p, for an access a few steps ahead. */
static inline void crm_prefetch(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

/*
 * Asks Linux to back the whole 2 MiB pages inside [p, p + bytes) with huge
 * pages, best before the memory is first written. Random access to a
 * buffer of many megabytes (a hash table, the buckets of a radix sort)
 * otherwise misses the TLB nearly every time. The memory stays the
 * allocator's; nothing happens on other systems.
 */
static inline void crm_advise_huge_pages(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);

    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

#endif
