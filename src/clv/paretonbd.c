/*
 * Pareto/NBD (Schmittlein, Morrison and Colombo 1987) in the form of Fader
 * and Hardie's notes "A Note on Deriving the Pareto/NBD Model and Related
 * Expressions" (2005) and "Deriving an Expression for P(X(t) = x) Under the
 * Pareto/NBD Model" (2006), evaluated in log space.
 */
#include <math.h>

#include "clv/clv_internal.h"
#include "clv/special.h"

/*
 * log A0, where the likelihood is
 *   Gamma(r+x) a^r b^s / Gamma(r) [1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0].
 * -inf when t_x == T.
 */
static double pnbd_log_a0(const double *p, double x, double tx, double T)
{
    double r = p[0], alpha = p[1], s = p[2], beta = p[3];
    double lo = alpha < beta ? alpha : beta, hi = alpha < beta ? beta : alpha;
    double second = alpha < beta ? r + x : s + 1.0, rsx = r + s + x;
    double d = hi - lo, q1 = hi + tx, q2 = hi + T;
    double l1 = clv_log_hyp2f1_a1(rsx, second, d / q1, (lo + tx) / q1);
    double l2 = clv_log_hyp2f1_a1(rsx, second, d / q2, (lo + T) / q2);

    return clv_log_sub(l1 - rsx * log(q1), l2 - rsx * log(q2));
}

static double pnbd_row_loglik(const double *p, double x, double tx, double T)
{
    double r = p[0], alpha = p[1], s = p[2], beta = p[3], rsx = r + s + x;
    double alive = -(r + x) * log(alpha + T) - s * log(beta + T);
    double gone = log(s) - log(rsx) + pnbd_log_a0(p, x, tx, T);

    return lgamma(r + x) - lgamma(r) + r * log(alpha) + s * log(beta) +
           clv_log_add(alive, gone);
}

double clv_pnbd_loglik(const double *p, const clv_groups *g)
{
    double sum = 0.0;
    size_t i;

    for (i = 0; i < g->n; i++)
        sum += g->w[i] * pnbd_row_loglik(p, g->x[i], g->tx[i], g->T[i]);
    return sum;
}

double clv_pnbd_alive(const double *p, double x, double tx, double T)
{
    double r = p[0], alpha = p[1], s = p[2], beta = p[3], rsx = r + s + x;
    double l = log(s) - log(rsx) + (r + x) * log(alpha + T) + s * log(beta + T) +
               pnbd_log_a0(p, x, tx, T);

    return clv_logistic_neg(l);
}

/* r beta / (alpha (s-1)) [1 - (beta / (beta + t))^(s-1)], finite at s = 1. */
static double pnbd_expected_general(double r, double alpha, double s,
                                    double beta, double t)
{
    double L = -log1p(t / beta);
    double e = r * beta / alpha * -clv_expm1_ratio((s - 1.0) * L) * L;

    return e > 0.0 ? e : 0.0;
}

double clv_pnbd_expected(const double *p, double t)
{
    if (t <= 0.0)
        return 0.0;
    return pnbd_expected_general(p[0], p[1], p[2], p[3], t);
}

double clv_pnbd_conditional(const double *p, double t, double x, double tx,
                            double T)
{
    if (t <= 0.0)
        return 0.0;
    return pnbd_expected_general(p[0] + x, p[1] + T, p[2], p[3] + T, t) *
           clv_pnbd_alive(p, x, tx, T);
}

/* ---- P(X(t) = k) -------------------------------------------------------- */

/* log NB(k; r, alpha, tau): Poisson(lambda tau) mixed over Gamma(r, alpha). */
static double pnbd_log_nb(double r, double alpha, double lead, uint32_t k,
                          double tau)
{
    double l = lead - r * log1p(tau / alpha);

    if (k > 0)
        l += k * (log(tau) - log(alpha + tau));
    return l;
}

typedef struct pnbd_pmf_integrand {
    double r, alpha, s, beta, t, lead;
    uint32_t k;
} pnbd_pmf_integrand;

/* Death at tau = t v: density s beta^s / (beta + tau)^(s+1), times t. */
static double pnbd_pmf_log_integrand(double v, double u, void *user)
{
    const pnbd_pmf_integrand *q = user;
    double tau = q->t * v;

    (void)u;
    return log(q->s) + log(q->t) - log(q->beta) -
           (q->s + 1.0) * log1p(tau / q->beta) +
           pnbd_log_nb(q->r, q->alpha, q->lead, q->k, tau);
}

double clv_pnbd_pmf(const double *p, double t, uint32_t k)
{
    pnbd_pmf_integrand q;
    double alive, res;

    if (t <= 0.0)
        return k == 0 ? 1.0 : 0.0;
    q.r = p[0];
    q.alpha = p[1];
    q.s = p[2];
    q.beta = p[3];
    q.t = t;
    q.k = k;
    q.lead = lgamma(q.r + k) - lgamma(q.r) - lgamma(k + 1.0);
    alive = pnbd_log_nb(q.r, q.alpha, q.lead, k, t) - q.s * log1p(t / q.beta);
    res = exp(clv_log_add(alive,
                          clv_log_integral01(pnbd_pmf_log_integrand, &q)));
    return res < 0.0 ? 0.0 : (res > 1.0 ? 1.0 : res);
}
