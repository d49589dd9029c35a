/*
 * crm_clv_model: parameters, fitting and predictions (see crm/clv.h).
 */
#include <math.h>
#include <string.h>

#include "clv/clv_internal.h"
#include "core/mem.h"

/*
 * A log-parameter that ends this far from its start (which scales alpha and
 * beta to the mean age and gamma to the mean spend) runs off to 0 or
 * infinity: a factor of e^12 = 163,000.
 */
#define FIT_THETA_BOUND 12.0
#define FD_STEP 1e-5
#define MAX_MONTHS 1200u

static const char *const param_names[4][4] = {
    {"", "", "", ""},
    {"r", "alpha", "a", "b"},
    {"r", "alpha", "s", "beta"},
    {"p", "q", "gamma", ""},
};

size_t crm_clv_kind_param_count(crm_clv_kind kind)
{
    switch (kind) {
    case CRM_CLV_BGNBD:
    case CRM_CLV_PARETONBD:
        return 4;
    case CRM_CLV_GAMMAGAMMA:
        return 3;
    }
    return 0;
}

crm_status crm_clv_model_new(crm_ctx *ctx, crm_clv_kind kind, crm_clv_unit unit,
                             crm_clv_model **out)
{
    crm_clv_model *m;

    if (!ctx || !out)
        return crm_error(ctx, CRM_EINVAL, "NULL ctx or out");
    if (crm_clv_kind_param_count(kind) == 0)
        return crm_error(ctx, CRM_EINVAL, "unknown model kind %d", (int)kind);
    if (unit != CRM_CLV_DAYS && unit != CRM_CLV_WEEKS)
        return crm_error(ctx, CRM_EINVAL, "unknown unit %d", (int)unit);
    m = crm_mem_calloc(ctx, 1, sizeof *m);
    if (!m)
        return crm_error_nomem(ctx);
    m->ctx = ctx;
    m->kind = kind;
    m->unit = unit;
    *out = m;
    return CRM_OK;
}

void crm_clv_model_free(crm_clv_model *model)
{
    if (model)
        crm_mem_free(model->ctx, model);
}

crm_clv_kind crm_clv_model_kind(const crm_clv_model *model)
{
    return model ? model->kind : (crm_clv_kind)0;
}

static int params_valid(const double *params, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!(params[i] > 0.0 && isfinite(params[i])))
            return 0;
    return 1;
}

/* Checks the arguments of set_params/get_params. */
static crm_status check_param_args(const crm_clv_model *model,
                                   const double *params, size_t n)
{
    if (!model || !params)
        return crm_error(model ? model->ctx : NULL, CRM_EINVAL,
                         "NULL model or params");
    if (n != crm_clv_kind_param_count(model->kind))
        return crm_error(model->ctx, CRM_EINVAL, "expected %zu parameters, got %zu",
                         crm_clv_kind_param_count(model->kind), n);
    return CRM_OK;
}

crm_status crm_clv_model_set_params(crm_clv_model *model, const double *params,
                                    size_t n)
{
    crm_status st = check_param_args(model, params, n);

    if (st != CRM_OK)
        return st;
    if (!params_valid(params, n))
        return crm_error(model->ctx, CRM_EINVAL,
                         "parameters must be finite and > 0");
    memcpy(model->params, params, n * sizeof *params);
    model->has_params = 1;
    return CRM_OK;
}

crm_status crm_clv_model_get_params(const crm_clv_model *model, double *params,
                                    size_t n)
{
    crm_status st = check_param_args(model, params, n);

    if (st != CRM_OK)
        return st;
    if (!model->has_params)
        return crm_error(model->ctx, CRM_ESTATE, "the model has no parameters yet");
    memcpy(params, model->params, n * sizeof *params);
    return CRM_OK;
}

crm_status crm_clv_model_set_penalty(crm_clv_model *model, double lambda)
{
    if (!model)
        return CRM_EINVAL;
    if (!(lambda >= 0.0 && isfinite(lambda)))
        return crm_error(model->ctx, CRM_EINVAL,
                         "penalty must be finite and >= 0");
    model->penalty = lambda;
    return CRM_OK;
}

/* ---- fitting ------------------------------------------------------------ */

typedef struct fit_problem {
    crm_clv_kind kind;
    const clv_groups *g;
    double penalty;
    int dim;
} fit_problem;

/* Sum of log-likelihoods at params; d/dparams into grad when not NULL. */
static double fit_loglik(const fit_problem *fp, const double *params,
                         double *grad)
{
    switch (fp->kind) {
    case CRM_CLV_BGNBD:
        return clv_bgnbd_loglik(params, fp->g, grad);
    case CRM_CLV_PARETONBD:
        return clv_pnbd_loglik(params, fp->g);
    case CRM_CLV_GAMMAGAMMA:
        return clv_gg_loglik(params, fp->g, grad);
    }
    return NAN;
}

/* -(mean log-likelihood) + penalty * sum(param^2), at params = exp(theta). */
static double fit_value(const fit_problem *fp, const double *theta,
                        double *params, double *grad)
{
    double f, pen = 0.0;
    int i;

    for (i = 0; i < fp->dim; i++) {
        params[i] = exp(theta[i]);
        pen += params[i] * params[i];
    }
    f = -fit_loglik(fp, params, grad) / fp->g->total + fp->penalty * pen;
    return isnan(f) ? INFINITY : f;
}

/* The objective of clv_minimize; grad may be NULL (value only). */
static double fit_objective(void *user, const double *theta, double *grad)
{
    const fit_problem *fp = user;
    double params[4], gp[4], f;
    int i;

    if (!grad)
        return fit_value(fp, theta, params, NULL);
    if (fp->kind != CRM_CLV_PARETONBD) {
        f = fit_value(fp, theta, params, gp);
        for (i = 0; i < fp->dim; i++)
            grad[i] = -gp[i] * params[i] / fp->g->total +
                      2.0 * fp->penalty * params[i] * params[i];
        return f;
    }
    for (i = 0; i < fp->dim; i++) { /* central differences */
        double t[4], hi, lo;

        memcpy(t, theta, sizeof t);
        t[i] = theta[i] + FD_STEP;
        hi = fit_value(fp, t, params, NULL);
        t[i] = theta[i] - FD_STEP;
        lo = fit_value(fp, t, params, NULL);
        grad[i] = (hi - lo) / (2.0 * FD_STEP);
    }
    return fit_value(fp, theta, params, NULL);
}

/* Fixed, unit-free starting values. */
static void fit_start(const fit_problem *fp, double *theta)
{
    double mean_T = 0.0, mean_m = 0.0;
    size_t i;

    for (i = 0; i < fp->g->n; i++) {
        mean_T += fp->g->w[i] * fp->g->T[i];
        mean_m += fp->g->w[i] * fp->g->m[i];
    }
    mean_T = mean_T > 0.0 ? mean_T / fp->g->total : 1.0;
    mean_m = mean_m > 0.0 ? mean_m / fp->g->total : 1.0;
    theta[0] = 0.0;
    if (fp->kind == CRM_CLV_GAMMAGAMMA) {
        theta[1] = log(2.0);
        theta[2] = log(mean_m);
        return;
    }
    theta[1] = log(mean_T);
    theta[2] = 0.0;
    theta[3] = fp->kind == CRM_CLV_PARETONBD ? log(mean_T) : 0.0;
}

static crm_status fit_check_data(crm_clv_model *model, const clv_groups *g)
{
    size_t i;

    if (g->n == 0)
        return crm_error(model->ctx, CRM_EINVAL,
                         model->kind == CRM_CLV_GAMMAGAMMA
                             ? "no customer with x > 0 and monetary > 0 to fit"
                             : "the summary is empty");
    for (i = 0; i < g->n; i++)
        if (g->x[i] > 0.0)
            return CRM_OK;
    return crm_error(model->ctx, CRM_ENOCONVERGE,
                     "no customer made a repeat purchase: the parameters are "
                     "not identifiable");
}

static crm_status fit_run(crm_clv_model *model, const clv_groups *g)
{
    fit_problem fp;
    double theta[4], start[4];
    const char *why = NULL;
    int i, converged;

    fp.kind = model->kind;
    fp.g = g;
    fp.penalty = model->penalty;
    fp.dim = (int)crm_clv_kind_param_count(model->kind);
    fit_start(&fp, theta);
    memcpy(start, theta, sizeof start);
    converged = clv_minimize(fit_objective, &fp, fp.dim, theta, &why) == 0;
    for (i = 0; i < fp.dim; i++)
        if (fabs(theta[i] - start[i]) > FIT_THETA_BOUND)
            return crm_error(model->ctx, CRM_ENOCONVERGE,
                             "the fit did not converge: parameter %s runs off "
                             "to %s (degenerate data?)",
                             param_names[model->kind][i],
                             theta[i] > 0 ? "infinity" : "0");
    if (!converged)
        return crm_error(model->ctx, CRM_ENOCONVERGE, "the fit did not converge: %s",
                         why);
    for (i = 0; i < fp.dim; i++)
        model->params[i] = exp(theta[i]);
    model->has_params = 1;
    return CRM_OK;
}

static crm_status check_summary(const crm_clv_model *model,
                                const crm_clv_summary *summary)
{
    if (!summary)
        return crm_error(model->ctx, CRM_EINVAL, "NULL summary");
    if (summary->unit != model->unit)
        return crm_error(model->ctx, CRM_EINVAL,
                         "the summary's unit differs from the model's");
    return CRM_OK;
}

crm_status crm_clv_model_fit(crm_clv_model *model, const crm_clv_summary *summary)
{
    clv_groups g;
    crm_status st;

    if (!model)
        return CRM_EINVAL;
    st = check_summary(model, summary);
    if (st != CRM_OK)
        return st;
    st = clv_groups_build(model->ctx, summary, model->kind, &g);
    if (st != CRM_OK)
        return st;
    st = fit_check_data(model, &g);
    if (st == CRM_OK)
        st = fit_run(model, &g);
    clv_groups_free(model->ctx, &g);
    return st;
}

crm_status crm_clv_model_loglik(const crm_clv_model *model,
                                const crm_clv_summary *summary, double *out)
{
    fit_problem fp;
    clv_groups g;
    crm_status st;

    if (!model || !out)
        return crm_error(model ? model->ctx : NULL, CRM_EINVAL,
                         "NULL model or out");
    if (!model->has_params)
        return crm_error(model->ctx, CRM_ESTATE, "the model has no parameters yet");
    st = check_summary(model, summary);
    if (st != CRM_OK)
        return st;
    st = clv_groups_build(model->ctx, summary, model->kind, &g);
    if (st != CRM_OK)
        return st;
    fp.kind = model->kind;
    fp.g = &g;
    *out = fit_loglik(&fp, model->params, NULL);
    clv_groups_free(model->ctx, &g);
    return CRM_OK;
}

/* ---- predictions -------------------------------------------------------- */

static crm_status check_purchase_model(const crm_clv_model *model)
{
    if (!model)
        return CRM_EINVAL;
    if (model->kind == CRM_CLV_GAMMAGAMMA)
        return crm_error(model->ctx, CRM_EINVAL,
                         "a Gamma-Gamma model does not predict purchases");
    if (!model->has_params)
        return crm_error(model->ctx, CRM_ESTATE, "the model has no parameters yet");
    return CRM_OK;
}

static crm_status check_time(const crm_clv_model *model, double t)
{
    if (!(t >= 0.0 && isfinite(t)))
        return crm_error(model->ctx, CRM_EINVAL, "t must be finite and >= 0");
    return CRM_OK;
}

static int is_bgnbd(const crm_clv_model *model)
{
    return model->kind == CRM_CLV_BGNBD;
}

static double predict_conditional(const crm_clv_model *model, double t,
                                  double x, double tx, double T)
{
    return is_bgnbd(model) ? clv_bgnbd_conditional(model->params, t, x, tx, T)
                           : clv_pnbd_conditional(model->params, t, x, tx, T);
}

static double predict_alive(const crm_clv_model *model, double x, double tx,
                            double T)
{
    return is_bgnbd(model) ? clv_bgnbd_alive(model->params, x, tx, T)
                           : clv_pnbd_alive(model->params, x, tx, T);
}

crm_status crm_clv_model_expected(const crm_clv_model *model, double t,
                                  double *out)
{
    crm_status st = check_purchase_model(model);

    if (st == CRM_OK)
        st = check_time(model, t);
    if (st == CRM_OK && !out)
        st = crm_error(model->ctx, CRM_EINVAL, "NULL out");
    if (st != CRM_OK)
        return st;
    *out = is_bgnbd(model) ? clv_bgnbd_expected(model->params, t)
                           : clv_pnbd_expected(model->params, t);
    return CRM_OK;
}

crm_status crm_clv_model_prob_count(const crm_clv_model *model, double t,
                                    uint32_t k, double *out)
{
    crm_status st = check_purchase_model(model);

    if (st == CRM_OK)
        st = check_time(model, t);
    if (st == CRM_OK && !out)
        st = crm_error(model->ctx, CRM_EINVAL, "NULL out");
    if (st != CRM_OK)
        return st;
    *out = is_bgnbd(model) ? clv_bgnbd_pmf(model->params, t, k)
                           : clv_pnbd_pmf(model->params, t, k);
    return CRM_OK;
}

static crm_status check_rows(const crm_clv_model *model, const double *x,
                             const double *tx, const double *T, size_t n,
                             const double *out)
{
    size_t i;

    if (n > 0 && (!x || !tx || !T || !out))
        return crm_error(model->ctx, CRM_EINVAL, "NULL column");
    for (i = 0; i < n; i++) {
        crm_status st = clv_check_row(model->ctx, x[i], tx[i], T[i], i);

        if (st != CRM_OK)
            return st;
    }
    return CRM_OK;
}

crm_status crm_clv_model_conditional_bulk(const crm_clv_model *model, double t,
                                          const double *x, const double *t_x,
                                          const double *T, size_t n, double *out)
{
    crm_status st = check_purchase_model(model);
    size_t i;

    if (st == CRM_OK)
        st = check_time(model, t);
    if (st == CRM_OK)
        st = check_rows(model, x, t_x, T, n, out);
    if (st != CRM_OK)
        return st;
    for (i = 0; i < n; i++)
        out[i] = predict_conditional(model, t, x[i], t_x[i], T[i]);
    return CRM_OK;
}

crm_status crm_clv_model_conditional(const crm_clv_model *model, double t,
                                     double x, double t_x, double T, double *out)
{
    if (model && !out)
        return crm_error(model->ctx, CRM_EINVAL, "NULL out");
    return crm_clv_model_conditional_bulk(model, t, &x, &t_x, &T, 1, out);
}

crm_status crm_clv_model_alive_bulk(const crm_clv_model *model, const double *x,
                                    const double *t_x, const double *T, size_t n,
                                    double *out)
{
    crm_status st = check_purchase_model(model);
    size_t i;

    if (st == CRM_OK)
        st = check_rows(model, x, t_x, T, n, out);
    if (st != CRM_OK)
        return st;
    for (i = 0; i < n; i++)
        out[i] = predict_alive(model, x[i], t_x[i], T[i]);
    return CRM_OK;
}

crm_status crm_clv_model_alive(const crm_clv_model *model, double x, double t_x,
                               double T, double *out)
{
    if (model && !out)
        return crm_error(model->ctx, CRM_EINVAL, "NULL out");
    return crm_clv_model_alive_bulk(model, &x, &t_x, &T, 1, out);
}

/* ---- spend and CLV ------------------------------------------------------ */

static crm_status check_spend_model(const crm_clv_model *model)
{
    if (!model)
        return CRM_EINVAL;
    if (model->kind != CRM_CLV_GAMMAGAMMA)
        return crm_error(model->ctx, CRM_EINVAL,
                         "expected spend needs a Gamma-Gamma model");
    if (!model->has_params)
        return crm_error(model->ctx, CRM_ESTATE, "the model has no parameters yet");
    return CRM_OK;
}

static crm_status check_spend_row(const crm_clv_model *model, double x,
                                  double m, size_t i)
{
    if (!(x >= 0.0 && x <= CRM_CLV_MAX_X && x == floor(x)))
        return crm_error(model->ctx, CRM_EINVAL,
                         "row %zu: x must be a whole number in [0, 1e9]", i);
    if (!(m >= 0.0 && isfinite(m)))
        return crm_error(model->ctx, CRM_EINVAL,
                         "row %zu: monetary must be finite and >= 0", i);
    if (!(model->params[0] * x + model->params[1] > 1.0))
        return crm_error(model->ctx, CRM_EINVAL,
                         "row %zu: p x + q <= 1, the expected spend is infinite", i);
    return CRM_OK;
}

static double predict_spend(const crm_clv_model *model, double x, double m)
{
    const double *p = model->params;

    return p[0] * (p[2] + x * m) / (p[0] * x + p[1] - 1.0);
}

crm_status crm_clv_model_spend_bulk(const crm_clv_model *model, const double *x,
                                    const double *monetary, size_t n, double *out)
{
    crm_status st = check_spend_model(model);
    size_t i;

    if (st == CRM_OK && n > 0 && (!x || !monetary || !out))
        st = crm_error(model->ctx, CRM_EINVAL, "NULL column");
    for (i = 0; st == CRM_OK && i < n; i++)
        st = check_spend_row(model, x[i], monetary[i], i);
    if (st != CRM_OK)
        return st;
    for (i = 0; i < n; i++)
        out[i] = predict_spend(model, x[i], monetary[i]);
    return CRM_OK;
}

crm_status crm_clv_model_spend(const crm_clv_model *model, double x,
                               double monetary, double *out)
{
    if (model && !out)
        return crm_error(model->ctx, CRM_EINVAL, "NULL out");
    return crm_clv_model_spend_bulk(model, &x, &monetary, 1, out);
}

static double month_length(crm_clv_unit unit)
{
    return unit == CRM_CLV_WEEKS ? 4.345 : 30.0;
}

static double predict_value(const crm_clv_model *purchases,
                            const crm_clv_model *spend, uint32_t months,
                            double rate, double x, double tx, double T, double m)
{
    double s = predict_spend(spend, x, m), len = month_length(purchases->unit);
    double prev = 0.0, value = 0.0, discount = 1.0;
    uint32_t i;

    for (i = 1; i <= months; i++) {
        double cur = predict_conditional(purchases, i * len, x, tx, T);

        discount /= 1.0 + rate;
        value += s * (cur - prev) * discount;
        prev = cur;
    }
    return value;
}

static crm_status check_value_args(const crm_clv_model *purchases,
                                   const crm_clv_model *spend, uint32_t months,
                                   double rate)
{
    crm_status st = check_purchase_model(purchases);

    if (st == CRM_OK)
        st = check_spend_model(spend);
    if (st != CRM_OK)
        return st;
    if (months == 0 || months > MAX_MONTHS)
        return crm_error(purchases->ctx, CRM_EINVAL, "months must be in 1..1200");
    if (!(rate > -1.0 && isfinite(rate)))
        return crm_error(purchases->ctx, CRM_EINVAL,
                         "discount rate must be finite and > -1");
    return CRM_OK;
}

crm_status crm_clv_value_bulk(const crm_clv_model *purchases,
                              const crm_clv_model *spend, uint32_t months,
                              double discount_rate, const double *x,
                              const double *t_x, const double *T,
                              const double *monetary, size_t n, double *out)
{
    crm_status st = check_value_args(purchases, spend, months, discount_rate);
    size_t i;

    if (st == CRM_OK)
        st = check_rows(purchases, x, t_x, T, n, out);
    if (st == CRM_OK && n > 0 && !monetary)
        st = crm_error(purchases->ctx, CRM_EINVAL, "NULL monetary column");
    for (i = 0; st == CRM_OK && i < n; i++)
        st = check_spend_row(spend, x[i], monetary[i], i);
    if (st != CRM_OK)
        return st;
    for (i = 0; i < n; i++)
        out[i] = predict_value(purchases, spend, months, discount_rate, x[i],
                               t_x[i], T[i], monetary[i]);
    return CRM_OK;
}

crm_status crm_clv_value(const crm_clv_model *purchases,
                         const crm_clv_model *spend, uint32_t months,
                         double discount_rate, double x, double t_x, double T,
                         double monetary, double *out)
{
    if (purchases && !out)
        return crm_error(purchases->ctx, CRM_EINVAL, "NULL out");
    return crm_clv_value_bulk(purchases, spend, months, discount_rate, &x, &t_x,
                              &T, &monetary, 1, out);
}
