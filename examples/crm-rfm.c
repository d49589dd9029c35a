/*
 * crm-rfm: RFM scores from an orders CSV, with libcrm's public API only.
 *
 *   crm-rfm [options] ORDERS.csv
 *
 * ORDERS.csv has the columns customer_id, ordered_at, amount (a header
 * line is skipped). customer_id is an integer, ordered_at is ISO-8601
 * ("2024-03-01T10:00:00+09:00", "2024-03-01") or Unix seconds, amount is an
 * integer in the currency's minor unit (negative for a return).
 *
 * By default prints one CSV row per customer on stdout (customer_id,
 * recency_days, frequency, monetary, r, f, m, segment) and a summary by
 * segment on stderr. With --report it prints the reports asked for instead,
 * each as a CSV table after a "# NAME" line (see rfm-reports.c). Rows that
 * do not parse are reported with their line number and skipped, or stop the
 * program with --strict.
 *
 * Options:
 *   --as-of TIME      score as of TIME (default: the local midnight after
 *                     the latest order)
 *   --offset MINUTES  UTC offset of local days (default 540, Japan)
 *   --bins N          scores 1..N (default 5; segments need 5)
 *   --days            frequency counts distinct purchase days
 *   --mean            monetary is the mean per purchase, not the total
 *   --map jp4|rf11    segment map (default rf11)
 *   --lang en|ja      segment names (default en)
 *   --svg FILE        write the R x F grid as an SVG heatmap (implies
 *                     --report rfm)
 *   --strict          stop at the first bad row
 *   --report NAME     print report NAME; may be repeated. NAME is one of
 *                     rfm (the per-customer scores), deciles, f2, repeat,
 *                     cohorts, cpm, clv
 *   --cohort-svg FILE write the cohort retention matrix as an SVG heatmap
 *                     (implies --report cohorts)
 *   --cohort-months N months since the first purchase in the cohort
 *                     report (default 12)
 *   --clv-weeks N     CLV report: expected purchases over the next N weeks
 *                     (default 39)
 *   --clv-months N    CLV report: lifetime value over N months (default 12)
 *   --clv-penalty L   CLV report: L2 penalty of the model fits (default 0)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crm.h>

#include "rfm-reports.h"

typedef struct options {
    const char *input, *svg;
    const char *as_of_text;
    int32_t offset;
    unsigned bins;
    int days, mean, strict;
    crm_rfm_map map;
    crm_rfm_lang lang;
    report_options report; /* which reports; as_of is set once known */
} options;

typedef struct orders {
    int64_t *id, *at, *amount;
    size_t n, cap;
} orders;

static int usage(void)
{
    fprintf(stderr,
            "usage: crm-rfm [--as-of TIME] [--offset MIN] [--bins N] [--days] "
            "[--mean]\n"
            "               [--map jp4|rf11] [--lang en|ja] [--svg FILE] "
            "[--strict]\n"
            "               [--report rfm|deciles|f2|repeat|cohorts|cpm|clv]... "
            "[--cohort-svg FILE]\n"
            "               [--cohort-months N] [--clv-weeks N] [--clv-months N]\n"
            "               [--clv-penalty L] ORDERS.csv\n");
    return 2;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_penalty(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 100))
        return -1;
    *out = v;
    return 0;
}

/* Parses an option of the reports; returns -1 when it is invalid. */
static int parse_report_value(report_options *r, const char *name,
                              const char *val)
{
    unsigned bit;
    long v;

    if (strcmp(name, "--report") == 0 && report_from_name(val, &bit) == 0)
        r->reports |= bit;
    else if (strcmp(name, "--cohort-svg") == 0) {
        r->cohort_svg = val;
        r->reports |= REPORT_COHORTS;
    } else if (strcmp(name, "--cohort-months") == 0 &&
               parse_long(val, 1, CRM_ANALYTICS_MAX_OFFSETS, &v) == 0)
        r->cohort_months = (unsigned)v;
    else if (strcmp(name, "--clv-weeks") == 0 && parse_long(val, 1, 520, &v) == 0)
        r->clv_weeks = (unsigned)v;
    else if (strcmp(name, "--clv-months") == 0 && parse_long(val, 1, 1200, &v) == 0)
        r->clv_months = (unsigned)v;
    else if (strcmp(name, "--clv-penalty") == 0)
        return parse_penalty(val, &r->clv_penalty);
    else
        return -1;
    return 0;
}

/* Parses an option that takes a value; returns -1 when it is invalid. */
static int parse_value(options *o, const char *name, const char *val)
{
    long v;

    if (strncmp(name, "--report", 8) == 0 || strncmp(name, "--cohort-", 9) == 0 ||
        strncmp(name, "--clv-", 6) == 0)
        return parse_report_value(&o->report, name, val);
    if (strcmp(name, "--as-of") == 0)
        o->as_of_text = val;
    else if (strcmp(name, "--svg") == 0)
        o->svg = val;
    else if (strcmp(name, "--offset") == 0 && parse_long(val, -1440, 1440, &v) == 0)
        o->offset = (int32_t)v;
    else if (strcmp(name, "--bins") == 0 && parse_long(val, 2, 10, &v) == 0)
        o->bins = (unsigned)v;
    else if (strcmp(name, "--map") == 0 && strcmp(val, "jp4") == 0)
        o->map = CRM_RFM_MAP_JP4;
    else if (strcmp(name, "--map") == 0 && strcmp(val, "rf11") == 0)
        o->map = CRM_RFM_MAP_RF11;
    else if (strcmp(name, "--lang") == 0 && strcmp(val, "ja") == 0)
        o->lang = CRM_RFM_LANG_JA;
    else if (strcmp(name, "--lang") == 0 && strcmp(val, "en") == 0)
        o->lang = CRM_RFM_LANG_EN;
    else
        return -1;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    int i;

    memset(o, 0, sizeof *o);
    o->offset = 540;
    o->bins = 5;
    o->map = CRM_RFM_MAP_RF11;
    o->lang = CRM_RFM_LANG_EN;
    o->report.cohort_months = 12;
    o->report.clv_weeks = 39;
    o->report.clv_months = 12;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--days") == 0)
            o->days = 1;
        else if (strcmp(a, "--mean") == 0)
            o->mean = 1;
        else if (strcmp(a, "--strict") == 0)
            o->strict = 1;
        else if (a[0] == '-' && a[1] == '-' && i + 1 < argc) {
            if (parse_value(o, a, argv[++i]) != 0)
                return -1;
        } else if (a[0] != '-' && !o->input)
            o->input = a;
        else
            return -1;
    }
    if (!o->input)
        return -1;
    if (o->report.reports == 0 || o->svg) /* the scores are the default */
        o->report.reports |= REPORT_RFM;
    return 0;
}

/* ---- Reading the CSV ---------------------------------------------------------- */

static int push_order(orders *o, int64_t id, int64_t at, int64_t amount)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        int64_t *a = realloc(o->id, cap * sizeof *a);
        int64_t *b = a ? realloc(o->at, cap * sizeof *b) : NULL;
        int64_t *c = b ? realloc(o->amount, cap * sizeof *c) : NULL;
        if (a)
            o->id = a;
        if (b)
            o->at = b;
        if (!c)
            return -1;
        o->amount = c;
        o->cap = cap;
    }
    o->id[o->n] = id;
    o->at[o->n] = at;
    o->amount[o->n] = amount;
    o->n++;
    return 0;
}

/* Splits "a,b,c" in place into exactly three fields, trimming spaces. */
static int split3(char *line, char *field[3])
{
    int k;

    line[strcspn(line, "\r\n")] = '\0';
    for (k = 0; k < 3; k++) {
        char *end;
        while (*line == ' ')
            line++;
        field[k] = line;
        end = k < 2 ? strchr(line, ',') : line + strlen(line);
        if (!end || (k == 2 && strchr(line, ',')))
            return -1;
        line = end + (k < 2);
        *end = '\0';
        while (end > field[k] && end[-1] == ' ')
            *--end = '\0';
    }
    return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Parses one data line; prints why it is bad and returns -1 if it is. */
static int parse_row(char *line, unsigned long lineno, int32_t offset,
                     int64_t *id, int64_t *at, int64_t *amount)
{
    char *f[3];

    if (split3(line, f) != 0) {
        fprintf(stderr, "crm-rfm: line %lu: expected 3 fields\n", lineno);
        return -1;
    }
    if (parse_i64(f[0], id) != 0) {
        fprintf(stderr, "crm-rfm: line %lu: bad customer_id '%s'\n", lineno, f[0]);
        return -1;
    }
    if (crm_time_parse(f[1], strlen(f[1]), offset, at) != CRM_OK) {
        fprintf(stderr, "crm-rfm: line %lu: bad ordered_at '%s'\n", lineno, f[1]);
        return -1;
    }
    if (parse_i64(f[2], amount) != 0) {
        fprintf(stderr, "crm-rfm: line %lu: bad amount '%s' (an integer in "
                        "the minor unit)\n", lineno, f[2]);
        return -1;
    }
    return 0;
}

/* Reads every good row; returns the number of bad rows, -1 on a fatal error. */
static long read_orders(const options *opt, orders *o)
{
    FILE *in = fopen(opt->input, "r");
    char line[4096];
    unsigned long lineno = 0;
    long bad = 0;

    if (!in) {
        perror(opt->input);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        int64_t id, at, amount;
        lineno++;
        if (lineno == 1 && strncmp(line, "customer_id", 11) == 0)
            continue;
        if (parse_row(line, lineno, opt->offset, &id, &at, &amount) != 0) {
            bad++;
            if (opt->strict)
                break;
            continue;
        }
        if (push_order(o, id, at, amount) != 0) {
            fprintf(stderr, "crm-rfm: out of memory\n");
            bad = -1;
            break;
        }
    }
    fclose(in);
    return bad;
}

/* ---- Scoring and output -------------------------------------------------------- */

static int64_t default_as_of(const orders *o, int32_t offset)
{
    int64_t latest = o->at[0], local, day;
    size_t i;

    for (i = 1; i < o->n; i++)
        if (o->at[i] > latest)
            latest = o->at[i];
    local = latest + (int64_t)offset * 60;
    day = local / 86400 - (local % 86400 < 0);
    return (day + 1) * 86400 - (int64_t)offset * 60;
}

int fail(crm_ctx *ctx, const char *what, crm_status status)
{
    fprintf(stderr, "crm-rfm: %s: %s: %s\n", what, crm_strerror(status),
            crm_ctx_errmsg(ctx));
    return 1;
}

typedef struct printer {
    const options *opt;
} printer;

static int print_customer(void *user, int64_t id, int64_t rec, int64_t freq,
                          int64_t mon, int r, int f, int m)
{
    const printer *p = user;
    int group;

    printf("%lld,%lld,%lld,%lld,%d,%d,%d", (long long)id, (long long)rec,
           (long long)freq, (long long)mon, r, f, m);
    if (p->opt->bins == 5 && crm_rfm_map_group(p->opt->map, r, f, &group) == CRM_OK)
        printf(",%s", crm_rfm_group_name(p->opt->map, group, p->opt->lang));
    printf("\n");
    return 0;
}

static int print_summary(crm_ctx *ctx, const crm_rfm *rfm, const options *opt)
{
    uint64_t customers[11];
    int64_t revenue[11];
    unsigned g, groups = crm_rfm_map_group_count(opt->map);
    crm_status s;

    if (opt->bins != 5)
        return 0;
    s = crm_rfm_group_summary(rfm, opt->map, customers, revenue, groups);
    if (s != CRM_OK)
        return fail(ctx, "summary", s);
    fprintf(stderr, "segment,customers,revenue\n");
    for (g = 0; g < groups; g++)
        fprintf(stderr, "%s,%llu,%lld\n",
                crm_rfm_group_name(opt->map, (int)g, opt->lang),
                (unsigned long long)customers[g], (long long)revenue[g]);
    return 0;
}

/* Writes the R x F grid as an SVG heatmap: rows r = bins..1, columns f. */
static int write_svg(crm_ctx *ctx, const crm_rfm *rfm, const options *opt)
{
    uint64_t customers[100], most = 1;
    int64_t revenue[100];
    unsigned b = opt->bins, r, f, cell = 60, margin = 40;
    crm_status s = crm_rfm_grid(rfm, customers, revenue, 100);
    FILE *out;

    if (s != CRM_OK)
        return fail(ctx, "grid", s);
    out = fopen(opt->svg, "w");
    if (!out) {
        perror(opt->svg);
        return 1;
    }
    for (r = 0; r < b * b; r++)
        if (customers[r] > most)
            most = customers[r];
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
                 "height=\"%u\" font-family=\"sans-serif\" font-size=\"12\">\n",
            margin + b * cell + 10, margin + b * cell + 30);
    for (r = b; r >= 1; r--) {
        for (f = 1; f <= b; f++) {
            uint64_t n = customers[(r - 1) * b + (f - 1)];
            unsigned x = margin + (f - 1) * cell, y = 10 + (b - r) * cell;
            unsigned shade = (unsigned)(235 - 200 * n / most);
            fprintf(out, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
                         "fill=\"rgb(%u,%u,255)\" stroke=\"white\"/>\n",
                    x, y, cell, cell, shade, shade);
            fprintf(out, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">%llu</text>\n",
                    x + cell / 2, y + cell / 2 + 4, (unsigned long long)n);
        }
        fprintf(out, "<text x=\"%u\" y=\"%u\">R%u</text>\n", 8,
                10 + (b - r) * cell + cell / 2 + 4, r);
    }
    for (f = 1; f <= b; f++)
        fprintf(out, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">F%u</text>\n",
                margin + (f - 1) * cell + cell / 2, 10 + b * cell + 18, f);
    fprintf(out, "</svg>\n");
    if (fclose(out) != 0) {
        perror(opt->svg);
        return 1;
    }
    return 0;
}

/* The as-of time: --as-of, or the local midnight after the latest order. */
static int resolve_as_of(crm_ctx *ctx, const options *opt, const orders *o,
                         int64_t *as_of)
{
    crm_status s;

    if (!opt->as_of_text) {
        *as_of = o->n ? default_as_of(o, opt->offset) : 0;
        return 0;
    }
    s = crm_time_parse(opt->as_of_text, strlen(opt->as_of_text), opt->offset,
                       as_of);
    return s == CRM_OK ? 0 : fail(ctx, "--as-of", s);
}

static int configure(crm_ctx *ctx, crm_rfm *rfm, const options *opt,
                     int64_t as_of)
{
    crm_status s = crm_rfm_set_utc_offset(rfm, opt->offset);

    if (s == CRM_OK)
        s = crm_rfm_set_as_of(rfm, as_of);
    if (s == CRM_OK)
        s = crm_rfm_set_bins(rfm, opt->bins);
    if (s == CRM_OK && opt->days)
        s = crm_rfm_set_frequency_mode(rfm, CRM_RFM_FREQUENCY_DAYS);
    if (s == CRM_OK && opt->mean)
        s = crm_rfm_set_monetary_mode(rfm, CRM_RFM_MONETARY_MEAN);
    return s == CRM_OK ? 0 : fail(ctx, "options", s);
}

/* Scores the orders and prints the per-customer table and the summary. */
static int print_scores(crm_ctx *ctx, const options *opt, const orders *o,
                        int64_t as_of)
{
    crm_rfm *rfm = NULL;
    printer p = {opt};
    crm_status s = crm_rfm_new(ctx, &rfm);
    int rc = 1;

    if (s != CRM_OK)
        return fail(ctx, "crm_rfm_new", s);
    if (configure(ctx, rfm, opt, as_of) != 0)
        goto done;
    s = crm_rfm_add_orders(rfm, o->id, o->at, o->amount, o->n);
    if (s == CRM_OK)
        s = crm_rfm_score(rfm);
    if (s != CRM_OK) {
        fail(ctx, "scoring", s);
        goto done;
    }
    printf("customer_id,recency_days,frequency,monetary,r,f,m%s\n",
           opt->bins == 5 ? ",segment" : "");
    s = crm_rfm_foreach(rfm, print_customer, &p);
    if (s != CRM_OK) {
        fail(ctx, "output", s);
        goto done;
    }
    rc = print_summary(ctx, rfm, opt);
    if (rc == 0 && opt->svg)
        rc = write_svg(ctx, rfm, opt);
done:
    crm_rfm_free(rfm);
    return rc;
}

static int run(const options *opt, const orders *o)
{
    crm_ctx *ctx = NULL;
    report_options report = opt->report;
    int rc;

    if (crm_ctx_new(&ctx) != CRM_OK) {
        fprintf(stderr, "crm-rfm: out of memory\n");
        return 1;
    }
    rc = resolve_as_of(ctx, opt, o, &report.as_of);
    report.offset = opt->offset;
    report.lang = opt->lang;
    report.title = opt->input;
    if (rc == 0 && (report.reports & REPORT_RFM))
        rc = print_scores(ctx, opt, o, report.as_of);
    if (rc == 0 && (report.reports & ~(unsigned)REPORT_RFM))
        rc = print_reports(ctx, &report, o->id, o->at, o->amount, o->n);
    crm_ctx_free(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    options opt;
    orders o = {NULL, NULL, NULL, 0, 0};
    long bad;
    int rc;

    if (parse_args(argc, argv, &opt) != 0)
        return usage();
    bad = read_orders(&opt, &o);
    if (bad < 0 || (bad > 0 && opt.strict)) {
        if (bad > 0)
            fprintf(stderr, "crm-rfm: stopped at the first bad row (--strict)\n");
        rc = 1;
    } else {
        if (bad > 0)
            fprintf(stderr, "crm-rfm: %ld bad rows skipped\n", bad);
        rc = run(&opt, &o);
    }
    free(o.id);
    free(o.at);
    free(o.amount);
    return rc;
}
