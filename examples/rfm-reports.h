/*
 * rfm-reports: the customer-value reports of the crm-rfm example (deciles,
 * F2, repeat rate, monthly cohorts with an SVG heatmap, CPM and CLV), each
 * printed as a small CSV table on standard output.
 *
 * Every report is made from the same three order columns crm-rfm reads;
 * nothing here knows about CSV input.
 */
#ifndef CRM_EXAMPLE_RFM_REPORTS_H
#define CRM_EXAMPLE_RFM_REPORTS_H

#include <crm.h>

/* The reports crm-rfm can print, as bits of report_options.reports. */
enum report_kind {
    REPORT_RFM = 1u << 0,     /* per-customer R, F, M scores (the default) */
    REPORT_DECILES = 1u << 1, /* customers and revenue per revenue decile */
    REPORT_F2 = 1u << 2,      /* second-purchase conversion within N days */
    REPORT_REPEAT = 1u << 3,  /* customers with two or more purchase days */
    REPORT_COHORTS = 1u << 4, /* monthly cohort retention matrix */
    REPORT_CPM = 1u << 5,     /* customer portfolio management groups */
    REPORT_CLV = 1u << 6      /* BG/NBD + Gamma-Gamma lifetime value */
};

typedef struct report_options {
    unsigned reports;        /* REPORT_* bits */
    const char *title;       /* shown in the heatmap (the input file name) */
    const char *cohort_svg;  /* heatmap file, NULL for none */
    unsigned cohort_months;  /* months since first purchase shown, 1..120 */
    unsigned clv_weeks;      /* horizon of the expected purchases */
    unsigned clv_months;     /* horizon of the lifetime value */
    double clv_penalty;      /* L2 penalty of the CLV fits, 0 for none */
    int32_t offset;          /* UTC offset of local days, minutes */
    int64_t as_of;           /* orders at or after it are ignored */
    crm_rfm_lang lang;       /* language of the CPM group names */
} report_options;

/* Sets *bit to the REPORT_* bit called `name`; -1 for an unknown name. */
int report_from_name(const char *name, unsigned *bit);

/*
 * Prints every report of opt->reports except REPORT_RFM for the n orders
 * given as columns, and writes the cohort heatmap when asked. Returns 0, or
 * 1 after printing the error on standard error.
 */
int print_reports(crm_ctx *ctx, const report_options *opt, const int64_t *id,
                  const int64_t *at, const int64_t *amount, size_t n);

/* Prints "crm-rfm: WHAT: status: message" on stderr and returns 1. */
int fail(crm_ctx *ctx, const char *what, crm_status status);

#endif
