/*
 * libcrm: the clv module -- customer lifetime-value models.
 *
 * A crm_clv_summary holds one row per customer: x (repeat purchase
 * occasions), t_x (time of the last purchase, counted from the first),
 * T (age: time from the first purchase to the end of observation) and the
 * mean spend of the repeat occasions, in days or weeks. A crm_clv_model is
 * a BG/NBD, Pareto/NBD or Gamma-Gamma model: its parameters are fitted by
 * maximum likelihood from a summary or set by the caller, and it predicts
 * E[X(t)], conditional expected purchases, P(alive), P(X(t) = k), expected
 * spend and discounted customer lifetime value.
 *
 * Thread-safety: a summary is immutable once built and may be read from
 * several threads (its accessors record no error on the crm_ctx). A model is
 * used by one thread at a time (a prediction records its errors on the
 * model's crm_ctx).
 */
#ifndef CRM_CLV_H
#define CRM_CLV_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The time unit of a summary and of a model's t, t_x and T. */
typedef enum crm_clv_unit {
    CRM_CLV_DAYS = 1,
    CRM_CLV_WEEKS = 2
} crm_clv_unit;

/*
 * The model kinds and their parameters (in this order in every parameter
 * array):
 *   CRM_CLV_BGNBD      r, alpha, a, b        (Fader, Hardie and Lee 2005)
 *   CRM_CLV_PARETONBD  r, alpha, s, beta     (Schmittlein et al. 1987)
 *   CRM_CLV_GAMMAGAMMA p, q, gamma           (Fader, Hardie and Lee 2005b)
 * Every parameter is strictly positive.
 */
typedef enum crm_clv_kind {
    CRM_CLV_BGNBD = 1,
    CRM_CLV_PARETONBD = 2,
    CRM_CLV_GAMMAGAMMA = 3
} crm_clv_kind;

/* The largest x accepted anywhere (repeat purchase occasions). */
#define CRM_CLV_MAX_X 1000000000.0

typedef struct crm_clv_summary crm_clv_summary;
typedef struct crm_clv_model crm_clv_model;

/* ---- summaries ---------------------------------------------------------- */

/*
 * Builds the summary of n orders given as columns: customer_id[i] placed an
 * order at Unix time ordered_at[i] for amount[i] (minor currency units).
 *
 * Days are local days in the zone offset_min minutes east of UTC. Orders
 * after the local day of as_of are ignored. The orders of one customer on
 * one local day with at least one non-negative amount make one purchase
 * occasion; a negative amount (a return or refund) never makes an occasion:
 * it lowers the spend of the customer's latest occasion on or before its day
 * (a return before the first purchase is ignored). For every customer with
 * at least one occasion:
 *   x        = occasions - 1 (repeat purchases);
 *   t_x      = (day of the last occasion - day of the first) / unit;
 *   T        = (local day of as_of - day of the first occasion) / unit;
 *   monetary = mean net spend of the repeat occasions (0 when x = 0),
 *              as `lifetimes` computes monetary_value, in minor units;
 * where unit is 1 day or 7 days. The observation of every customer starts
 * at their first purchase. Customers with returns only are left out. Rows
 * are sorted by customer id, so the result does not depend on input order.
 *
 * Ownership: the arrays are read during the call only; *out owns a new
 * summary (crm_clv_summary_free).
 * Errors: CRM_EINVAL (NULL ctx, out or column with n > 0, offset outside
 * -1440..1440, unknown unit, more than 2^32 - 2 orders, a time beyond
 * +/-2^60 seconds), CRM_EOVERFLOW
 * (a customer's spend overflows int64), CRM_ENOMEM.
 */
CRM_API crm_status crm_clv_summary_from_orders(crm_ctx *ctx,
                                               const int64_t *customer_id,
                                               const int64_t *ordered_at,
                                               const int64_t *amount, size_t n,
                                               int64_t as_of, int32_t offset_min,
                                               crm_clv_unit unit,
                                               crm_clv_summary **out);

/*
 * Builds a summary from per-customer columns the caller computed.
 * customer_id may be NULL (ids become 0..n-1); monetary may be NULL (all 0).
 * Each row must satisfy: x a whole number in [0, CRM_CLV_MAX_X];
 * 0 <= t_x <= T, all finite; t_x = 0 when x = 0 and t_x > 0 when x > 0;
 * monetary finite and >= 0. Rows keep the caller's order.
 * Errors: CRM_EINVAL (NULL ctx/out, NULL x/t_x/T with n > 0, unknown unit,
 * a row breaking a rule above: the message names the row), CRM_ENOMEM.
 */
CRM_API crm_status crm_clv_summary_from_arrays(crm_ctx *ctx,
                                               const int64_t *customer_id,
                                               const double *x,
                                               const double *t_x,
                                               const double *T,
                                               const double *monetary, size_t n,
                                               crm_clv_unit unit,
                                               crm_clv_summary **out);

/* Frees a summary. Accepts NULL. */
CRM_API void crm_clv_summary_free(crm_clv_summary *summary);

/* Number of customers (rows) in the summary; 0 for NULL. */
CRM_API size_t crm_clv_summary_count(const crm_clv_summary *summary);

/* The summary's time unit; 0 for NULL. */
CRM_API crm_clv_unit crm_clv_summary_unit(const crm_clv_summary *summary);

/*
 * Copies the summary's columns into caller arrays of crm_clv_summary_count()
 * elements. Any of the arrays may be NULL (that column is not copied).
 * Errors (returned, not recorded on the ctx): CRM_EINVAL (NULL summary).
 */
CRM_API crm_status crm_clv_summary_columns(const crm_clv_summary *summary,
                                           int64_t *customer_id, double *x,
                                           double *t_x, double *T,
                                           double *monetary);

/*
 * Gives row `index` of the summary. Any out-pointer may be NULL.
 * Errors (returned, not recorded on the ctx): CRM_EINVAL (NULL summary,
 * index out of range).
 */
CRM_API crm_status crm_clv_summary_row(const crm_clv_summary *summary,
                                       size_t index, int64_t *customer_id,
                                       double *x, double *t_x, double *T,
                                       double *monetary);

/*
 * Finds the row of a customer (the first, if the caller's columns repeated
 * an id) by binary search. Errors (returned, not recorded on the ctx):
 * CRM_EINVAL (NULL summary or index), CRM_ENOTFOUND.
 */
CRM_API crm_status crm_clv_summary_find(const crm_clv_summary *summary,
                                        int64_t customer_id, size_t *index);

/* ---- models ------------------------------------------------------------- */

/*
 * Creates a model of the given kind whose times are in `unit`. It has no
 * parameters until crm_clv_model_fit() or crm_clv_model_set_params().
 * Errors: CRM_EINVAL (NULL ctx or out, unknown kind or unit), CRM_ENOMEM.
 */
CRM_API crm_status crm_clv_model_new(crm_ctx *ctx, crm_clv_kind kind,
                                     crm_clv_unit unit, crm_clv_model **out);

/* Frees a model. Accepts NULL. */
CRM_API void crm_clv_model_free(crm_clv_model *model);

/* The model's kind; 0 for NULL. */
CRM_API crm_clv_kind crm_clv_model_kind(const crm_clv_model *model);

/* Number of parameters of a kind (4, 4, 3), 0 for an unknown kind. */
CRM_API size_t crm_clv_kind_param_count(crm_clv_kind kind);

/*
 * Sets the parameters (n must equal the kind's count, every value finite
 * and > 0). Errors: CRM_EINVAL (NULL model or params, wrong n, bad value).
 */
CRM_API crm_status crm_clv_model_set_params(crm_clv_model *model,
                                            const double *params, size_t n);

/*
 * Copies the parameters into params[0..n). n must equal the kind's count.
 * Errors: CRM_EINVAL (NULL, wrong n), CRM_ESTATE (no parameters yet).
 */
CRM_API crm_status crm_clv_model_get_params(const crm_clv_model *model,
                                            double *params, size_t n);

/*
 * Sets the L2 penalty lambda >= 0 (default 0) of later fits. The fit
 * minimises -(sum of log-likelihoods) / customers + lambda * sum(param^2),
 * as `lifetimes` does with penalizer_coef.
 * Errors: CRM_EINVAL (NULL model, lambda negative or not finite).
 */
CRM_API crm_status crm_clv_model_set_penalty(crm_clv_model *model,
                                             double lambda);

/*
 * Fits the parameters by maximum likelihood to a summary with the model's
 * unit. Identical rows are grouped and weighted, so the cost grows with the
 * number of distinct (x, t_x, T) rows. The optimiser (BFGS on the
 * logarithms of the parameters, so they stay positive; analytic gradients
 * for BG/NBD and Gamma-Gamma, central differences for Pareto/NBD) starts
 * from values scaled to the data (alpha and beta at the mean T, gamma at
 * the mean spend, the shapes at 1) and is deterministic: the result does
 * not depend on the order of the rows, and rescaling time or money only
 * rescales alpha, beta and gamma. Gamma-Gamma uses the rows with
 * x > 0 and monetary > 0 only.
 * On failure the previous parameters are kept.
 * Errors: CRM_EINVAL (NULL, unit mismatch, no usable row),
 * CRM_ENOCONVERGE (the optimum is not reached in 500 iterations, no step
 * lowers the objective beyond rounding for 5 iterations in a row away from
 * the optimum, or a parameter runs off to 0 or infinity -- more than a
 * factor e^12 from its start --, e.g. when nobody repeats, everybody
 * spends the same or purchases have no structure; the message names the
 * parameter), CRM_ENOMEM. Every loop of the fit is bounded: at most 500
 * iterations of at most 41 objective evaluations each.
 */
CRM_API crm_status crm_clv_model_fit(crm_clv_model *model,
                                     const crm_clv_summary *summary);

/*
 * The log-likelihood of the summary under the model's parameters (sum over
 * customers, no penalty; for Gamma-Gamma over rows with x > 0, monetary > 0).
 * Errors: CRM_EINVAL (NULL, unit mismatch), CRM_ESTATE (no parameters),
 * CRM_ENOMEM.
 */
CRM_API crm_status crm_clv_model_loglik(const crm_clv_model *model,
                                        const crm_clv_summary *summary,
                                        double *out);

/*
 * Predictions of the purchase models (BG/NBD, Pareto/NBD). Times are in the
 * model's unit; t >= 0, and (x, t_x, T) must satisfy the rules of
 * crm_clv_summary_from_arrays. Every result is finite; probabilities are
 * within [0, 1].
 *
 * crm_clv_model_expected:     E[X(t)], purchases of a new customer in (0, t].
 * crm_clv_model_prob_count:   P(X(t) = k).
 * crm_clv_model_conditional:  E[Y(t) | x, t_x, T], purchases in (T, T + t].
 * crm_clv_model_alive:        P(alive at T | x, t_x, T).
 * The _bulk variants fill out[0..n) from columns and give exactly the
 * per-customer results; on error out is left unchanged.
 *
 * Errors: CRM_EINVAL (NULL, bad t/x/t_x/T; a Gamma-Gamma model),
 * CRM_ESTATE (no parameters).
 */
CRM_API crm_status crm_clv_model_expected(const crm_clv_model *model, double t,
                                          double *out);
CRM_API crm_status crm_clv_model_prob_count(const crm_clv_model *model,
                                            double t, uint32_t k, double *out);
CRM_API crm_status crm_clv_model_conditional(const crm_clv_model *model,
                                             double t, double x, double t_x,
                                             double T, double *out);
CRM_API crm_status crm_clv_model_conditional_bulk(const crm_clv_model *model,
                                                  double t, const double *x,
                                                  const double *t_x,
                                                  const double *T, size_t n,
                                                  double *out);
CRM_API crm_status crm_clv_model_alive(const crm_clv_model *model, double x,
                                       double t_x, double T, double *out);
CRM_API crm_status crm_clv_model_alive_bulk(const crm_clv_model *model,
                                            const double *x, const double *t_x,
                                            const double *T, size_t n,
                                            double *out);

/*
 * Gamma-Gamma expected mean spend of a customer with x repeat purchases of
 * mean spend `monetary`: p (gamma + x m) / (p x + q - 1); for x = 0 this is
 * the population mean p gamma / (q - 1).
 * Errors: CRM_EINVAL (NULL, not a Gamma-Gamma model, x or monetary invalid,
 * p x + q <= 1: the mean is infinite), CRM_ESTATE (no parameters).
 */
CRM_API crm_status crm_clv_model_spend(const crm_clv_model *model, double x,
                                       double monetary, double *out);
CRM_API crm_status crm_clv_model_spend_bulk(const crm_clv_model *model,
                                            const double *x,
                                            const double *monetary, size_t n,
                                            double *out);

/*
 * Customer lifetime value over `months` months with a monthly discount rate,
 * as `lifetimes` computes it (discounted cash flow over monthly steps):
 *   CLV = sum_{i=1..months} S * (E[Y(i L)] - E[Y((i-1) L)]) / (1 + rate)^i
 * where E[Y(t)] is the purchase model's conditional expectation for the
 * customer, S the spend model's expected spend, and L the month length in
 * the model's unit: 30 days or 4.345 weeks.
 * Errors: CRM_EINVAL (NULL, wrong kinds, months 0 or above
 * 1200, rate not finite or <= -1, bad customer values), CRM_ESTATE.
 */
CRM_API crm_status crm_clv_value(const crm_clv_model *purchases,
                                 const crm_clv_model *spend, uint32_t months,
                                 double discount_rate, double x, double t_x,
                                 double T, double monetary, double *out);
CRM_API crm_status crm_clv_value_bulk(const crm_clv_model *purchases,
                                      const crm_clv_model *spend,
                                      uint32_t months, double discount_rate,
                                      const double *x, const double *t_x,
                                      const double *T, const double *monetary,
                                      size_t n, double *out);

#ifdef __cplusplus
}
#endif

#endif /* CRM_CLV_H */
