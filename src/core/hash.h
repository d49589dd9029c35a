/*
 * Hashing helpers shared by the modules.
 */
#ifndef CRM_CORE_HASH_H
#define CRM_CORE_HASH_H

#include <stdint.h>

/* The splitmix64 finaliser: a bijective mix of 64 bits, each output bit
 * depending on every input bit. Stable: outputs feed idempotency keys. */
static inline uint64_t crm_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

#endif
