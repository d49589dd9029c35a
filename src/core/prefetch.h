/*
 * A hint to start loading the cache line at p, for loops whose next
 * accesses are random (hash slots, gathers) and known a few steps ahead.
 * Never faults, even on an address that is not mapped.
 */
#ifndef CRM_CORE_PREFETCH_H
#define CRM_CORE_PREFETCH_H

static inline void crm_prefetch(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

#endif
