/*
 * Internals of crm_analytics shared by analytics.c (building) and
 * analytics_reports.c (answering reports).
 */
#ifndef CRM_RFM_ANALYTICS_INTERNAL_H
#define CRM_RFM_ANALYTICS_INTERNAL_H

#include <stdint.h>

#include "core/checked.h"
#include "crm/rfm.h"

/* first_day / second_day of a customer without that purchase. */
#define ANALYTICS_NO_DAY INT32_MAX

/* Per customer (an id with at least one purchase), in ascending id order. */
typedef struct analytics_customer {
    int64_t revenue;    /* net amounts of counted orders */
    int32_t first_day;  /* local day of the first purchase */
    int32_t second_day; /* first purchase day after first_day, or ANALYTICS_NO_DAY */
    int32_t last_day;   /* local day of the last purchase */
    uint8_t decile;     /* 1..10 */
} analytics_customer;

/* One cohort: customers whose first purchase fell in `month`. */
typedef struct analytics_cohort {
    int32_t month; /* month index: year * 12 + month - 1 */
    uint64_t size;
    uint64_t active[CRM_ANALYTICS_MAX_OFFSETS];
    int64_t revenue[CRM_ANALYTICS_MAX_OFFSETS];
} analytics_cohort;

struct crm_analytics {
    crm_ctx *ctx;
    int64_t as_of_day;  /* A: local day of as_of */
    int32_t last_month; /* month index of the last counted second (as_of - 1) */

    uint32_t churn_days;
    uint32_t tenure_short_days;
    uint32_t tenure_long_days;
    int64_t spend_threshold;

    size_t n_customers;
    int64_t *ids;                   /* ascending */
    analytics_customer *customers;  /* parallel to ids */

    int64_t revenue;                /* customers' net revenue */
    uint64_t repeaters;             /* customers with >= 2 occasions */
    uint64_t returns_only;          /* ids with counted orders, no purchase */
    int64_t returns_only_revenue;
    uint64_t ignored_orders;        /* ordered_at >= as_of */

    uint64_t decile_customers[CRM_ANALYTICS_DECILES];
    int64_t decile_revenue[CRM_ANALYTICS_DECILES];

    size_t n_cohorts;
    analytics_cohort *cohorts;      /* ascending month */
};

#endif
