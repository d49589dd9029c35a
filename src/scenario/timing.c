/*
 * Timing of weekday waits and date triggers, in a customer's local time
 * given as a fixed UTC offset (other waits and quiet hours are inline in
 * internal.h); and the module's deterministic hashes.
 */
#include "core/civil.h"
#include "scenario/internal.h"

int64_t scn_weekday_end(const scn_wait *wait, int64_t anchor, int32_t offset_min)
{
    int64_t day = crm_local_day(anchor, offset_min);
    int64_t ahead = ((int64_t)wait->weekday - (int64_t)crm_weekday(day) + 7) % 7;
    int64_t t = crm_local_midnight(day + ahead, offset_min) + wait->at;

    return t < anchor ? t + 7 * CRM_SECONDS_PER_DAY : t;
}

int64_t scn_date_fire(int64_t year, unsigned month, unsigned day, int32_t days,
                      int32_t at, int32_t offset_min)
{
    if (month == 2 && day == 29 && !crm_is_leap_year(year))
        day = 28;
    return crm_local_midnight(crm_days_from_civil(year, month, day) + days, offset_min) + at;
}

uint32_t scn_hash32(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

uint64_t scn_hash64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}
