/*
 * Calendar arithmetic without a tz database: proleptic Gregorian dates,
 * local days from a UTC offset in minutes, weekdays. Day numbers count from
 * 1970-01-01 (day 0) and may be negative.
 */
#ifndef CRM_CORE_CIVIL_H
#define CRM_CORE_CIVIL_H

#include <stdint.h>

#define CRM_SECONDS_PER_DAY INT64_C(86400)

/*
 * Floor division and the matching non-negative remainder (d > 0). Inline,
 * so that a constant divisor (a day's seconds) compiles to a multiply in
 * the per-order loops. A negative n is folded onto ~n = -n - 1 >= 0, whose
 * quotient q gives floor(n / d) = -q - 1 = ~q: one unsigned division (a
 * multiply and a shift for a constant d), no remainder, no branch, and no
 * overflow for any n.
 */
static inline int64_t crm_floor_div(int64_t n, int64_t d)
{
    uint64_t fold = 0 - (uint64_t)(n < 0); /* all ones when n is negative */

    return (int64_t)(fold ^ (((uint64_t)n ^ fold) / (uint64_t)d));
}

static inline int64_t crm_floor_mod(int64_t n, int64_t d)
{
    return n - crm_floor_div(n, d) * d;
}

/* Day number of a civil date (month 1..12, day 1..31, not validated). */
int64_t crm_days_from_civil(int64_t year, unsigned month, unsigned day);

/*
 * Civil date of a day number. Inline: the scenario engine converts a date
 * trigger's day on every event. Within an era (400 years, 146097 days) the
 * year, month and day come from Neri and Schneider's Euclidean affine
 * functions ("Euclidean affine functions and their application to calendar
 * algorithms", 2022): each division by a calendar length becomes a
 * multiply and a shift, in unsigned 32-bit arithmetic because everything
 * inside an era is small and non-negative. Years of the era start on 1
 * March, so that a leap day ends its year; January and February belong to
 * the next calendar year.
 */
static inline void crm_civil_from_days(int64_t days, int64_t *year, unsigned *month,
                                       unsigned *day)
{
    int64_t z = days + 719468;
    int64_t era = crm_floor_div(z, 146097);
    uint32_t doe = (uint32_t)(z - era * 146097);        /* 0..146096 */
    uint32_t n1 = 4 * doe + 3;
    uint32_t century = n1 / 146097;                     /* 0..3 */
    uint32_t n2 = n1 % 146097 | 3;                      /* 4 * day of century + 3 */
    uint64_t p2 = UINT64_C(2939745) * n2;
    uint32_t yoc = (uint32_t)(p2 >> 32);                /* 0..99 */
    uint32_t doy = (uint32_t)p2 / 11758980;             /* 0..365 */
    uint32_t n3 = 2141 * doy + 197913;
    uint32_t jan_feb = doy >= 306;

    *day = (n3 & 0xFFFF) / 2141 + 1;
    *month = jan_feb ? (n3 >> 16) - 12 : n3 >> 16;
    *year = era * 400 + 100 * (int64_t)century + yoc + jan_feb;
}

/* 1 when year is a Gregorian leap year. */
int crm_is_leap_year(int64_t year);

/* Days in the given month of the given year (month 1..12). */
unsigned crm_days_in_month(int64_t year, unsigned month);

/* The local day number of Unix time t in a zone offset_min minutes east of UTC. */
static inline int64_t crm_local_day(int64_t t, int32_t offset_min)
{
    return crm_floor_div(t + (int64_t)offset_min * 60, CRM_SECONDS_PER_DAY);
}

/* Seconds since local midnight, 0..86399. */
static inline int64_t crm_local_second_of_day(int64_t t, int32_t offset_min)
{
    return crm_floor_mod(t + (int64_t)offset_min * 60, CRM_SECONDS_PER_DAY);
}

/* Weekday of a day number: 0 = Monday ... 6 = Sunday (ISO 8601). */
unsigned crm_weekday(int64_t days);

/* Unix time of local midnight starting day `days` in the given offset. */
static inline int64_t crm_local_midnight(int64_t days, int32_t offset_min)
{
    return days * CRM_SECONDS_PER_DAY - (int64_t)offset_min * 60;
}

#endif
