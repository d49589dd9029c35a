/*
 * Internal structures and functions shared by the clv sources.
 */
#ifndef CRM_CLV_INTERNAL_H
#define CRM_CLV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "crm/clv.h"

struct crm_clv_summary {
    crm_ctx *ctx;
    crm_clv_unit unit;
    size_t n;
    int64_t *id;
    double *x, *tx, *T, *m;
    int64_t *sorted_id;   /* ids ascending (stable), for crm_clv_summary_find */
    uint32_t *sorted_row; /* the row of each sorted id */
};

struct crm_clv_model {
    crm_ctx *ctx;
    crm_clv_kind kind;
    crm_clv_unit unit;
    int has_params;
    double params[4];
    double penalty;
};

/* Distinct rows of a summary with their multiplicities, sorted by (x, t_x, T[, m]). */
typedef struct clv_groups {
    size_t n;
    double *x, *tx, *T, *m, *w;
    double total; /* sum of w */
} clv_groups;

/*
 * Groups the summary's rows for a fit of `kind`: (x, t_x, T) for the
 * purchase models; (x, m) over rows with x > 0 and m > 0 for Gamma-Gamma.
 * Returns CRM_OK or CRM_ENOMEM (recorded on ctx).
 */
crm_status clv_groups_build(crm_ctx *ctx, const crm_clv_summary *s,
                            crm_clv_kind kind, clv_groups *out);
void clv_groups_free(crm_ctx *ctx, clv_groups *g);

/* Checks one customer row; records CRM_EINVAL naming row `index`. */
crm_status clv_check_row(crm_ctx *ctx, double x, double t_x, double T,
                         size_t index);

/*
 * Log-likelihood sums over groups (weighted). When grad is not NULL it
 * receives the derivatives of the sum with respect to the parameters.
 */
double clv_bgnbd_loglik(const double *p, const clv_groups *g, double *grad);
double clv_pnbd_loglik(const double *p, const clv_groups *g);
double clv_gg_loglik(const double *p, const clv_groups *g, double *grad);

/* BG/NBD predictions (p = r, alpha, a, b). */
double clv_bgnbd_expected(const double *p, double t);
double clv_bgnbd_pmf(const double *p, double t, uint32_t k);
double clv_bgnbd_alive(const double *p, double x, double tx, double T);
double clv_bgnbd_conditional(const double *p, double t, double x, double tx,
                             double T);

/* Pareto/NBD predictions (p = r, alpha, s, beta). */
double clv_pnbd_expected(const double *p, double t);
double clv_pnbd_pmf(const double *p, double t, uint32_t k);
double clv_pnbd_alive(const double *p, double x, double tx, double T);
double clv_pnbd_conditional(const double *p, double t, double x, double tx,
                            double T);

/*
 * An objective for clv_minimize: the value at theta and, when grad is not
 * NULL, the gradient there (a NULL grad asks for the value only).
 */
typedef double (*clv_objective)(void *user, const double *theta, double *grad);

/*
 * Minimises f over theta[0..dim) (dim <= 4) by BFGS with a backtracking
 * line search, starting from theta. At most 500 iterations of at most 41
 * evaluations each; it also stops after 5 iterations in a row that lower f
 * by no more than rounding noise. Returns 0 when the gradient vanishes
 * (theta holds the optimum), -1 otherwise with a reason in `why`.
 */
int clv_minimize(clv_objective f, void *user, int dim, double *theta,
                 const char **why);

#endif
