/*
 * clv_report: lifetime value from an order log.
 *
 *   clv_report [orders.csv [as_of_unix_seconds]]
 *
 * orders.csv has lines "customer_id,unix_seconds,amount_in_yen". Without a
 * file, the example makes up 3,000 customers' orders. It builds the
 * customer summary (days, Japan time), fits BG/NBD and Gamma-Gamma, and
 * prints each model's parameters and the ten customers with the highest
 * 12-month CLV (1% monthly discount) with P(alive) and expected purchases
 * in the next 90 days.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "crm.h"

typedef struct orders {
    size_t n, cap;
    int64_t *id, *at, *amount;
} orders;

static int orders_add(orders *o, int64_t id, int64_t at, int64_t amount)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 1024;
        int64_t *a = realloc(o->id, cap * sizeof *a), *b, *c;

        if (!a)
            return -1;
        o->id = a;
        if (!(b = realloc(o->at, cap * sizeof *b)))
            return -1;
        o->at = b;
        if (!(c = realloc(o->amount, cap * sizeof *c)))
            return -1;
        o->amount = c;
        o->cap = cap;
    }
    o->id[o->n] = id;
    o->at[o->n] = at;
    o->amount[o->n++] = amount;
    return 0;
}

static int orders_read(orders *o, const char *path)
{
    FILE *f = fopen(path, "r");
    long long id, at, amount;

    if (!f)
        return -1;
    while (fscanf(f, "%lld,%lld,%lld", &id, &at, &amount) == 3)
        if (orders_add(o, id, at, amount) != 0)
            break;
    fclose(f);
    return 0;
}

/* A uniform number in (0, 1) from a 64-bit LCG. */
static double uniform(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
}

/*
 * Made-up shop: customers arrive over a year, buy at random times (each at
 * their own pace) and leave after a purchase with their own probability.
 */
static int orders_invent(orders *o, int64_t start)
{
    const double end = 2 * 365 * 86400.0;
    unsigned long long s = 12345;
    int64_t c;

    for (c = 1; c <= 3000; c++) {
        double t = uniform(&s) * 365 * 86400.0;
        double mean_gap = (10.0 + 400.0 * uniform(&s) * uniform(&s)) * 86400.0;
        double leave = 0.02 + 0.5 * uniform(&s) * uniform(&s);
        double level = 1000.0 + 20000.0 * uniform(&s) * uniform(&s);

        while (t < end) {
            int64_t yen = (int64_t)(level * (0.5 + uniform(&s)));

            if (orders_add(o, c, start + (int64_t)t, yen) != 0)
                return -1;
            if (uniform(&s) < leave)
                break;
            t += -mean_gap * log(uniform(&s));
        }
    }
    return 0;
}

static int fail(crm_ctx *ctx, const char *what)
{
    fprintf(stderr, "%s: %s\n", what, crm_ctx_errmsg(ctx));
    return 1;
}

static void print_params(const char *name, const crm_clv_model *m, size_t n)
{
    double p[4];
    size_t i;

    crm_clv_model_get_params(m, p, n);
    printf("%s:", name);
    for (i = 0; i < n; i++)
        printf(" %.4g", p[i]);
    printf("\n");
}

static int report(crm_ctx *ctx, const crm_clv_summary *s)
{
    size_t n = crm_clv_summary_count(s), i, k;
    int64_t *id = malloc(n * sizeof *id);
    double *col = malloc(7 * n * sizeof *col);
    double *x = col, *tx = col + n, *T = col + 2 * n, *m = col + 3 * n;
    double *alive = col + 4 * n, *next = col + 5 * n, *value = col + 6 * n;
    crm_clv_model *bg = NULL, *gg = NULL;
    int rc = 1;

    if (!id || !col)
        goto done;
    crm_clv_summary_columns(s, id, x, tx, T, m);
    if (crm_clv_model_new(ctx, CRM_CLV_BGNBD, CRM_CLV_DAYS, &bg) != CRM_OK ||
        crm_clv_model_fit(bg, s) != CRM_OK)
        goto fail;
    if (crm_clv_model_new(ctx, CRM_CLV_GAMMAGAMMA, CRM_CLV_DAYS, &gg) != CRM_OK ||
        crm_clv_model_fit(gg, s) != CRM_OK)
        goto fail;
    if (crm_clv_model_alive_bulk(bg, x, tx, T, n, alive) != CRM_OK ||
        crm_clv_model_conditional_bulk(bg, 90, x, tx, T, n, next) != CRM_OK ||
        crm_clv_value_bulk(bg, gg, 12, 0.01, x, tx, T, m, n, value) != CRM_OK)
        goto fail;
    printf("%zu customers\n", n);
    print_params("BG/NBD r alpha a b", bg, 4);
    print_params("Gamma-Gamma p q gamma", gg, 3);
    printf("customer  repeats  P(alive)  next 90 days  CLV 12 months (yen)\n");
    for (k = 0; k < 10 && k < n; k++) { /* selection of the k-th best */
        size_t best = k;

        for (i = k + 1; i < n; i++)
            if (value[i] > value[best])
                best = i;
        printf("%8lld  %7.0f  %8.3f  %12.2f  %19.0f\n", (long long)id[best],
               x[best], alive[best], next[best], value[best]);
        value[best] = value[k], alive[best] = alive[k], next[best] = next[k];
        x[best] = x[k], id[best] = id[k];
    }
    rc = 0;
    goto done;
fail:
    rc = fail(ctx, "model");
done:
    crm_clv_model_free(bg);
    crm_clv_model_free(gg);
    free(id);
    free(col);
    return rc;
}

int main(int argc, char **argv)
{
    const int64_t start = 1672498800; /* 2023-01-01 00:00 JST */
    int64_t as_of = start + 2 * 365 * 86400 - 1;
    orders o = {0, 0, NULL, NULL, NULL};
    crm_ctx *ctx = NULL;
    crm_clv_summary *s = NULL;
    int rc;

    if (argc > 1 ? orders_read(&o, argv[1]) != 0 : orders_invent(&o, start) != 0) {
        fprintf(stderr, "cannot read the orders\n");
        return 1;
    }
    if (argc > 2)
        as_of = strtoll(argv[2], NULL, 10);
    if (crm_ctx_new(&ctx) != CRM_OK)
        return 1;
    if (crm_clv_summary_from_orders(ctx, o.id, o.at, o.amount, o.n, as_of, 540,
                                    CRM_CLV_DAYS, &s) != CRM_OK)
        rc = fail(ctx, "summary");
    else
        rc = report(ctx, s);
    crm_clv_summary_free(s);
    crm_ctx_free(ctx);
    free(o.id);
    free(o.at);
    free(o.amount);
    return rc;
}
