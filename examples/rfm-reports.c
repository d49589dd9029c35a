/*
 * rfm-reports: the customer-value reports of crm-rfm (see rfm-reports.h).
 *
 * Output format: every report is one CSV table introduced by a line
 * "# NAME ..." and followed by an empty line, so a script can split the
 * output on empty lines and read each table with a CSV reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfm-reports.h"

/* ---- Report names --------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} report_names[] = {
    {"rfm", REPORT_RFM},         {"deciles", REPORT_DECILES},
    {"f2", REPORT_F2},           {"repeat", REPORT_REPEAT},
    {"cohorts", REPORT_COHORTS}, {"cpm", REPORT_CPM},
    {"clv", REPORT_CLV},
};

int report_from_name(const char *name, unsigned *bit)
{
    size_t i;

    for (i = 0; i < sizeof report_names / sizeof report_names[0]; i++) {
        if (strcmp(name, report_names[i].name) == 0) {
            *bit = report_names[i].bit;
            return 0;
        }
    }
    return -1;
}

/* ---- Totals, deciles, F2, repeat rate ------------------------------------ */

static int print_totals(crm_ctx *ctx, const crm_analytics *a)
{
    uint64_t customers, returns_only, ignored;
    int64_t revenue, returns_revenue;
    crm_status s = crm_analytics_totals(a, &customers, &revenue, &returns_only,
                                        &returns_revenue, &ignored);

    if (s != CRM_OK)
        return fail(ctx, "totals", s);
    printf("# totals\n"
           "customers,revenue,returns_only_customers,returns_only_revenue,"
           "ignored_orders\n%llu,%lld,%llu,%lld,%llu\n\n",
           (unsigned long long)customers, (long long)revenue,
           (unsigned long long)returns_only, (long long)returns_revenue,
           (unsigned long long)ignored);
    return 0;
}

/* Decile 1 holds the top spenders; equal revenues always share a decile. */
static int print_deciles(crm_ctx *ctx, const crm_analytics *a)
{
    uint64_t customers[CRM_ANALYTICS_DECILES];
    int64_t revenue[CRM_ANALYTICS_DECILES];
    double share[CRM_ANALYTICS_DECILES];
    crm_status s = crm_analytics_deciles(a, customers, revenue, share);
    int d;

    if (s != CRM_OK)
        return fail(ctx, "deciles", s);
    printf("# deciles\ndecile,customers,revenue,share\n");
    for (d = 0; d < CRM_ANALYTICS_DECILES; d++)
        printf("%d,%llu,%lld,%.4f\n", d + 1, (unsigned long long)customers[d],
               (long long)revenue[d], share[d]);
    printf("\n");
    return 0;
}

/*
 * F2 within 30, 60, 90, 180 and 365 days of the first purchase. Customers
 * whose window is not over yet at the as-of time are censored: they are
 * neither converted nor counted in the rate.
 */
static int print_f2(crm_ctx *ctx, const crm_analytics *a)
{
    static const uint32_t windows[] = {30, 60, 90, 180, 365};
    size_t i;

    printf("# f2\ndays,eligible,converted,censored,rate\n");
    for (i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        uint64_t eligible, converted, censored;
        double rate;
        crm_status s = crm_analytics_f2(a, windows[i], &eligible, &converted,
                                        &censored, &rate);
        if (s != CRM_OK)
            return fail(ctx, "f2", s);
        printf("%u,%llu,%llu,%llu,%.4f\n", (unsigned)windows[i],
               (unsigned long long)eligible, (unsigned long long)converted,
               (unsigned long long)censored, rate);
    }
    printf("\n");
    return 0;
}

static int print_repeat(crm_ctx *ctx, const crm_analytics *a)
{
    uint64_t customers, repeaters;
    double rate;
    crm_status s = crm_analytics_repeat_rate(a, &customers, &repeaters, &rate);

    if (s != CRM_OK)
        return fail(ctx, "repeat", s);
    printf("# repeat\ncustomers,repeaters,rate\n%llu,%llu,%.4f\n\n",
           (unsigned long long)customers, (unsigned long long)repeaters, rate);
    return 0;
}

/* ---- Monthly cohorts ------------------------------------------------------ */

/* The cohort matrix: cohorts (first-purchase months) down, months across. */
typedef struct cohort_table {
    size_t cohorts, months;
    int32_t *month;          /* YYYYMM of each cohort */
    uint64_t *new_customers; /* customers whose first purchase is that month */
    uint32_t *observed;      /* months observed up to the as-of month */
    uint64_t *active;        /* cohorts x months: customers who bought */
} cohort_table;

static void cohort_table_free(cohort_table *t)
{
    free(t->month);
    free(t->new_customers);
    free(t->observed);
    free(t->active);
}

static int cohort_table_load(crm_ctx *ctx, const crm_analytics *a,
                             unsigned months, cohort_table *t)
{
    crm_status s = crm_analytics_cohort_count(a, &t->cohorts);
    size_t n;

    if (s != CRM_OK)
        return fail(ctx, "cohorts", s);
    t->months = months;
    n = t->cohorts ? t->cohorts : 1; /* malloc(0) may return NULL */
    t->month = malloc(n * sizeof *t->month);
    t->new_customers = malloc(n * sizeof *t->new_customers);
    t->observed = malloc(n * sizeof *t->observed);
    t->active = malloc(n * months * sizeof *t->active);
    if (!t->month || !t->new_customers || !t->observed || !t->active) {
        fprintf(stderr, "crm-rfm: out of memory\n");
        return 1;
    }
    s = crm_analytics_cohorts(a, t->cohorts, months, t->month, t->new_customers,
                              t->observed, t->active, NULL);
    return s == CRM_OK ? 0 : fail(ctx, "cohorts", s);
}

/* Retention of cohort c in month k as a fraction, -1 when not observed. */
static double cohort_retention(const cohort_table *t, size_t c, size_t k)
{
    if (k >= t->observed[c] || t->new_customers[c] == 0)
        return -1;
    return (double)t->active[c * t->months + k] / (double)t->new_customers[c];
}

/* Cells not observed yet (the month is after the as-of month) stay empty. */
static void print_cohort_table(const cohort_table *t)
{
    size_t c, k;

    printf("# cohorts retention_percent\ncohort,new_customers,observed");
    for (k = 0; k < t->months; k++)
        printf(",m%zu", k);
    printf("\n");
    for (c = 0; c < t->cohorts; c++) {
        printf("%04d-%02d,%llu,%u", (int)(t->month[c] / 100),
               (int)(t->month[c] % 100),
               (unsigned long long)t->new_customers[c], (unsigned)t->observed[c]);
        for (k = 0; k < t->months; k++) {
            double r = cohort_retention(t, c, k);
            if (r < 0)
                printf(",");
            else
                printf(",%.1f", 100 * r);
        }
        printf("\n");
    }
    printf("\n");
}

/* Writes s with the five XML special characters escaped. */
static void xml_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* Heatmap geometry, in SVG user units. */
enum { CELL_W = 46, CELL_H = 24, LEFT = 130, TOP = 56 };

/* One cell: the darker the blue, the higher the retention. */
static void svg_cell(FILE *out, unsigned x, unsigned y, double retention)
{
    unsigned red = (unsigned)(235.0 - 200.0 * retention);
    unsigned green = (unsigned)(240.0 - 150.0 * retention);

    fprintf(out, "<rect x=\"%u\" y=\"%u\" width=\"%d\" height=\"%d\" "
                 "fill=\"rgb(%u,%u,255)\" stroke=\"white\"/>\n",
            x, y, CELL_W, CELL_H, red, green);
    fprintf(out, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"%s\">"
                 "%.1f</text>\n",
            x + CELL_W / 2, y + CELL_H / 2 + 4,
            retention > 0.5 ? "white" : "black", 100 * retention);
}

static void svg_labels(FILE *out, const cohort_table *t, const char *title)
{
    size_t c, k;

    fprintf(out, "<title>Monthly cohort retention: ");
    xml_escaped(out, title);
    fprintf(out, "</title>\n<text x=\"10\" y=\"20\" font-size=\"14\">"
                 "Retention (%%) by months since first purchase: ");
    xml_escaped(out, title);
    fprintf(out, "</text>\n");
    for (k = 0; k < t->months; k++)
        fprintf(out, "<text x=\"%zu\" y=\"%d\" text-anchor=\"middle\">M%zu</text>\n",
                LEFT + k * CELL_W + CELL_W / 2, TOP - 8, k);
    for (c = 0; c < t->cohorts; c++)
        fprintf(out, "<text x=\"10\" y=\"%zu\">%04d-%02d (%llu)</text>\n",
                TOP + c * CELL_H + CELL_H / 2 + 4, (int)(t->month[c] / 100),
                (int)(t->month[c] % 100), (unsigned long long)t->new_customers[c]);
}

/* Writes the matrix as a standalone SVG heatmap; returns 0 or 1. */
static int write_cohort_svg(const cohort_table *t, const char *path,
                            const char *title)
{
    FILE *out = fopen(path, "w");
    size_t c, k;

    if (!out) {
        perror(path);
        return 1;
    }
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" "
                 "height=\"%zu\" font-family=\"sans-serif\" font-size=\"11\">\n",
            LEFT + t->months * CELL_W + 10, TOP + t->cohorts * CELL_H + 10);
    svg_labels(out, t, title);
    for (c = 0; c < t->cohorts; c++)
        for (k = 0; k < t->months; k++)
            if (cohort_retention(t, c, k) >= 0)
                svg_cell(out, (unsigned)(LEFT + k * CELL_W),
                         (unsigned)(TOP + c * CELL_H), cohort_retention(t, c, k));
    fprintf(out, "</svg>\n");
    if (fclose(out) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

static int print_cohorts(crm_ctx *ctx, const crm_analytics *a,
                         const report_options *opt)
{
    cohort_table t = {0, 0, NULL, NULL, NULL, NULL};
    int rc = cohort_table_load(ctx, a, opt->cohort_months, &t);

    if (rc == 0)
        print_cohort_table(&t);
    if (rc == 0 && opt->cohort_svg)
        rc = write_cohort_svg(&t, opt->cohort_svg, opt->title);
    cohort_table_free(&t);
    return rc;
}

/* ---- CPM ------------------------------------------------------------------ */

/* Names of the ten CPM groups, indexed by crm_cpm_group. */
static const char *const cpm_keys[CRM_CPM_GROUP_COUNT] = {
    "first", "first_churned", "beginner", "beginner_churned", "steady",
    "steady_churned", "trendy", "trendy_churned", "loyal", "loyal_churned"};
static const char *const cpm_names_ja[CRM_CPM_GROUP_COUNT] = {
    "初回現役", "初回離脱", "よちよち現役", "よちよち離脱", "コツコツ現役",
    "コツコツ離脱", "流行現役", "流行離脱", "優良現役", "優良離脱"};
static const char *const cpm_names_en[CRM_CPM_GROUP_COUNT] = {
    "First-time", "First-time (churned)", "Beginner", "Beginner (churned)",
    "Steady", "Steady (churned)", "Trendy", "Trendy (churned)", "Loyal",
    "Loyal (churned)"};

static int print_cpm(crm_ctx *ctx, const crm_analytics *a, crm_rfm_lang lang)
{
    uint64_t customers[CRM_CPM_GROUP_COUNT];
    int64_t revenue[CRM_CPM_GROUP_COUNT], spend;
    uint32_t churn, tenure_short, tenure_long;
    crm_status s = crm_analytics_cpm_thresholds(a, &churn, &tenure_short,
                                                &tenure_long, &spend);
    int g;

    if (s == CRM_OK)
        s = crm_analytics_cpm(a, customers, revenue);
    if (s != CRM_OK)
        return fail(ctx, "cpm", s);
    printf("# cpm churn_days=%u tenure_short_days=%u tenure_long_days=%u "
           "spend_threshold=%lld\ngroup,name,customers,revenue\n",
           (unsigned)churn, (unsigned)tenure_short, (unsigned)tenure_long,
           (long long)spend);
    for (g = 0; g < CRM_CPM_GROUP_COUNT; g++)
        printf("%s,%s,%llu,%lld\n", cpm_keys[g],
               lang == CRM_RFM_LANG_JA ? cpm_names_ja[g] : cpm_names_en[g],
               (unsigned long long)customers[g], (long long)revenue[g]);
    printf("\n");
    return 0;
}

/* ---- CLV ------------------------------------------------------------------ */

/* One customer's summary and predictions, in weeks. */
typedef struct clv_row {
    int64_t id;
    double x, t_x, T, monetary;
    double p_alive, expected, value;
} clv_row;

/* Highest value first, then lowest id: a deterministic order. */
static int clv_row_compare(const void *pa, const void *pb)
{
    const clv_row *a = pa, *b = pb;

    if (a->value != b->value)
        return a->value > b->value ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/*
 * Fits a model of `kind` on the summary into *out (weeks). Data where
 * nobody seems to leave, or everybody spends alike, drive a parameter off
 * to 0 or infinity (CRM_ENOCONVERGE); a small L2 penalty, like lifetimes'
 * penalizer_coef, keeps them finite.
 */
static int fit_model(crm_ctx *ctx, const crm_clv_summary *sum, crm_clv_kind kind,
                     double penalty, crm_clv_model **out)
{
    crm_status s = crm_clv_model_new(ctx, kind, CRM_CLV_WEEKS, out);

    if (s == CRM_OK)
        s = crm_clv_model_set_penalty(*out, penalty);
    if (s == CRM_OK)
        s = crm_clv_model_fit(*out, sum);
    if (s == CRM_OK)
        return 0;
    fail(ctx, kind == CRM_CLV_BGNBD ? "BG/NBD fit" : "Gamma-Gamma fit", s);
    if (s == CRM_ENOCONVERGE)
        fprintf(stderr, "crm-rfm: a small penalty may help: --clv-penalty 0.001\n");
    return 1;
}

/* Fills the predictions of row r with the fitted models. */
static crm_status predict_row(const crm_clv_model *bg, const crm_clv_model *gg,
                              const report_options *opt, clv_row *r)
{
    crm_status s = crm_clv_model_alive(bg, r->x, r->t_x, r->T, &r->p_alive);

    if (s == CRM_OK)
        s = crm_clv_model_conditional(bg, opt->clv_weeks, r->x, r->t_x, r->T,
                                      &r->expected);
    if (s == CRM_OK) /* 1% monthly discount rate */
        s = crm_clv_value(bg, gg, opt->clv_months, 0.01, r->x, r->t_x, r->T,
                          r->monetary, &r->value);
    return s;
}

static int predict_all(crm_ctx *ctx, const crm_clv_summary *sum,
                       const crm_clv_model *bg, const crm_clv_model *gg,
                       const report_options *opt, clv_row *rows)
{
    size_t i, n = crm_clv_summary_count(sum);

    for (i = 0; i < n; i++) {
        clv_row *r = &rows[i];
        crm_status s = crm_clv_summary_row(sum, i, &r->id, &r->x, &r->t_x,
                                           &r->T, &r->monetary);
        if (s == CRM_OK)
            s = predict_row(bg, gg, opt, r);
        if (s != CRM_OK)
            return fail(ctx, "clv prediction", s);
    }
    qsort(rows, n, sizeof *rows, clv_row_compare);
    return 0;
}

static void print_params(const char *name, const crm_clv_model *m,
                         const char *const *labels, size_t n)
{
    double p[4];
    size_t i;

    if (crm_clv_model_get_params(m, p, n) != CRM_OK)
        return; /* cannot fail on a fitted model */
    printf(" %s", name);
    for (i = 0; i < n; i++)
        printf(" %s=%.4f", labels[i], p[i]);
}

/* The ten customers with the highest value, and the models' parameters. */
static void print_clv_table(const report_options *opt, const crm_clv_model *bg,
                            const crm_clv_model *gg, const clv_row *rows,
                            size_t n)
{
    static const char *const bg_labels[] = {"r", "alpha", "a", "b"};
    static const char *const gg_labels[] = {"p", "q", "gamma"};
    size_t i;

    printf("# clv customers=%zu penalty=%g", n, opt->clv_penalty);
    print_params("bgnbd", bg, bg_labels, 4);
    print_params("gammagamma", gg, gg_labels, 3);
    printf("\ncustomer_id,repeat_purchases,t_x_weeks,T_weeks,p_alive,"
           "expected_purchases_%uw,clv_%um\n", opt->clv_weeks, opt->clv_months);
    for (i = 0; i < n && i < 10; i++)
        printf("%lld,%.0f,%.2f,%.2f,%.4f,%.4f,%.0f\n", (long long)rows[i].id,
               rows[i].x, rows[i].t_x, rows[i].T, rows[i].p_alive,
               rows[i].expected, rows[i].value);
    printf("\n");
}

static int clv_from_summary(crm_ctx *ctx, const crm_clv_summary *sum,
                            const report_options *opt)
{
    size_t n = crm_clv_summary_count(sum);
    clv_row *rows = malloc((n ? n : 1) * sizeof *rows);
    crm_clv_model *bg = NULL, *gg = NULL;
    int rc = 1;

    if (!rows)
        fprintf(stderr, "crm-rfm: out of memory\n");
    else if (fit_model(ctx, sum, CRM_CLV_BGNBD, opt->clv_penalty, &bg) == 0 &&
             fit_model(ctx, sum, CRM_CLV_GAMMAGAMMA, opt->clv_penalty, &gg) == 0 &&
             predict_all(ctx, sum, bg, gg, opt, rows) == 0) {
        print_clv_table(opt, bg, gg, rows, n);
        rc = 0;
    }
    crm_clv_model_free(bg);
    crm_clv_model_free(gg);
    free(rows);
    return rc;
}

/*
 * CLV in weeks, the unit of the CDNOW literature. The summary counts the
 * whole local day of its as-of time, so it is given the last counted
 * second (as_of - 1) to ignore the same orders as the other reports.
 */
static int print_clv(crm_ctx *ctx, const report_options *opt, const int64_t *id,
                     const int64_t *at, const int64_t *amount, size_t n)
{
    crm_clv_summary *sum = NULL;
    crm_status s = crm_clv_summary_from_orders(ctx, id, at, amount, n,
                                               opt->as_of - 1, opt->offset,
                                               CRM_CLV_WEEKS, &sum);
    int rc;

    if (s != CRM_OK)
        return fail(ctx, "clv summary", s);
    rc = clv_from_summary(ctx, sum, opt);
    crm_clv_summary_free(sum);
    return rc;
}

/* ---- All reports ---------------------------------------------------------- */

static int print_analytics(crm_ctx *ctx, const crm_analytics *a,
                           const report_options *opt)
{
    unsigned r = opt->reports;
    int rc = print_totals(ctx, a);

    if (rc == 0 && (r & REPORT_DECILES))
        rc = print_deciles(ctx, a);
    if (rc == 0 && (r & REPORT_F2))
        rc = print_f2(ctx, a);
    if (rc == 0 && (r & REPORT_REPEAT))
        rc = print_repeat(ctx, a);
    if (rc == 0 && (r & REPORT_COHORTS))
        rc = print_cohorts(ctx, a, opt);
    if (rc == 0 && (r & REPORT_CPM))
        rc = print_cpm(ctx, a, opt->lang);
    return rc;
}

int print_reports(crm_ctx *ctx, const report_options *opt, const int64_t *id,
                  const int64_t *at, const int64_t *amount, size_t n)
{
    crm_analytics *a = NULL;
    crm_status s;
    int rc;

    s = crm_analytics_new(ctx, id, at, amount, n, opt->as_of, opt->offset, &a);
    if (s != CRM_OK)
        return fail(ctx, "analytics", s);
    rc = print_analytics(ctx, a, opt);
    crm_analytics_free(a);
    if (rc == 0 && (opt->reports & REPORT_CLV))
        rc = print_clv(ctx, opt, id, at, amount, n);
    return rc;
}
