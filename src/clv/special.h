/*
 * Special functions of the clv models, in log space where it matters:
 * digamma, log-sum-exp, log-space tanh-sinh quadrature on (0, 1) and the
 * Gaussian hypergeometric function 2F1(a, b; a + 1; z) of Pareto/NBD.
 */
#ifndef CRM_CLV_SPECIAL_H
#define CRM_CLV_SPECIAL_H

/* Digamma (psi) for x > 0. */
double clv_digamma(double x);

/* log(exp(a) + exp(b)), exact for -inf arguments. */
double clv_log_add(double a, double b);

/* log(exp(a) - exp(b)) for a >= b; -inf when a == b. */
double clv_log_sub(double a, double b);

/* expm1(u) / u, with its limit 1 at u = 0. */
double clv_expm1_ratio(double u);

/* 1 / (1 + exp(l)), within [0, 1] for every l. */
double clv_logistic_neg(double l);

/*
 * The log of the integral over (0, 1) of exp(log_f(v, 1 - v, user)) dv by
 * double-exponential (tanh-sinh) quadrature. log_f gets v and 1 - v, each
 * computed without cancellation, so endpoint singularities and peaks near
 * either end are resolved.
 */
double clv_log_integral01(double (*log_f)(double v, double u, void *user),
                          void *user);

/*
 * log 2F1(a, b; a + 1; z) for a > 0, b > 0, 0 <= z < 1, with zc = 1 - z
 * given by the caller (computed without cancellation). The series after
 * Euler's transformation when it ends within 4000 terms (z <= 0.99, or b
 * large); else Gauss's continued fraction (at most 2000 steps) where it
 * converges fast; else the integral a * int_0^1 u^(a-1) (1 - z u)^-b by
 * tanh-sinh quadrature (513 nodes). Every loop is bounded, NaN included.
 */
double clv_log_hyp2f1_a1(double a, double b, double z, double zc);

#endif
