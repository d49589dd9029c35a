/*
 * BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy
 * way"): log-likelihood with its gradient, and predictions.
 */
#include <math.h>

#include "clv/clv_internal.h"
#include "clv/special.h"

/* Terms of the likelihood that depend on x only, and their derivatives. */
typedef struct bg_x_terms {
    double x, lead, log_ratio; /* log_ratio = log a - log(b + x - 1) */
    double d_r, d_a, d_b;
} bg_x_terms;

static void bg_x_terms_compute(const double *p, double x, const double *psi,
                               bg_x_terms *xt)
{
    double r = p[0], alpha = p[1], a = p[2], b = p[3];
    double psi_abx = clv_digamma(a + b + x);

    xt->x = x;
    xt->lead = lgamma(r + x) - lgamma(r) + r * log(alpha) + lgamma(a + b) +
               lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
    xt->log_ratio = x > 0 ? log(a) - log(b + x - 1.0) : -INFINITY;
    xt->d_r = clv_digamma(r + x) - psi[0] + log(alpha);
    xt->d_a = psi[1] - psi_abx;
    xt->d_b = psi[1] + clv_digamma(b + x) - psi[2] - psi_abx;
}

double clv_bgnbd_loglik(const double *p, const clv_groups *g, double *grad)
{
    double r = p[0], alpha = p[1], a = p[2], b = p[3];
    double psi[3] = {clv_digamma(r), clv_digamma(a + b), clv_digamma(b)};
    double sum = 0.0, gr = 0.0, gal = 0.0, ga = 0.0, gb = 0.0;
    bg_x_terms xt = {-1.0, 0, 0, 0, 0, 0};
    size_t i;

    for (i = 0; i < g->n; i++) {
        double x = g->x[i], w = g->w[i], rx = r + x;
        double lT = log(alpha + g->T[i]), a3 = -rx * lT;

        if (x != xt.x)
            bg_x_terms_compute(p, x, psi, &xt);
        if (x == 0.0) {
            sum += w * (xt.lead + a3);
            if (grad) {
                gr += w * (xt.d_r - lT);
                gal += w * (r / alpha - rx / (alpha + g->T[i]));
                ga += w * xt.d_a;
                gb += w * xt.d_b;
            }
        } else {
            double ltx = log(alpha + g->tx[i]);
            double a4 = xt.log_ratio - rx * ltx;
            double l = clv_log_add(a3, a4);

            sum += w * (xt.lead + l);
            if (grad) {
                double w4 = exp(a4 - l), w3 = 1.0 - w4;

                gr += w * (xt.d_r - w3 * lT - w4 * ltx);
                gal += w * (r / alpha - w3 * rx / (alpha + g->T[i]) -
                            w4 * rx / (alpha + g->tx[i]));
                ga += w * (xt.d_a + w4 / a);
                gb += w * (xt.d_b - w4 / (b + x - 1.0));
            }
        }
    }
    if (grad) {
        grad[0] = gr;
        grad[1] = gal;
        grad[2] = ga;
        grad[3] = gb;
    }
    return sum;
}

/* ---- E[X(t)] ------------------------------------------------------------ */

typedef struct bg_integrand {
    double r, ratio, a, b, lbeta;
} bg_integrand;

/* E[X(t) | p] = (1 - (1 + p t / alpha)^-r) / p, times the Beta(a, b) density. */
static double bg_log_integrand(double v, double u, void *user)
{
    const bg_integrand *q = user;
    double lv = log(v);

    return log(-expm1(-q->r * log1p(v * q->ratio))) - lv + (q->a - 1.0) * lv +
           (q->b - 1.0) * log(u) - q->lbeta;
}

static double bg_expected_quadrature(double r, double alpha, double a, double b,
                                     double t)
{
    bg_integrand q;

    q.r = r;
    q.ratio = t / alpha;
    q.a = a;
    q.b = b;
    q.lbeta = lgamma(a) + lgamma(b) - lgamma(a + b);
    return exp(clv_log_integral01(bg_log_integrand, &q));
}

/*
 * (a+b-1)/(a-1) [1 - (1-z)^r 2F1(r, b; a+b-1; z)] after Euler's
 * transformation, which removes the 0/0 at a = 1:
 *   c (1 - (1-z)^(a-1)) / (a-1) - (1-z)^(a-1) sum_{n>=1} c (c-r)_n (a)_{n-1} z^n / ((c)_n n!)
 * with c = a + b - 1. Returns NAN when the series converges too slowly.
 */
static double bg_expected_series(double r, double alpha, double a, double b,
                                 double t)
{
    double z = t / (alpha + t), L = -log1p(t / alpha);
    double c = a + b - 1.0, A = c - r;
    /* (1 - (1-z)^(a-1)) / (a-1) = -expm1(u) / (a-1) = expm1(u)/u * (-L) */
    double head = -c * clv_expm1_ratio((a - 1.0) * L) * L;
    double term = A * z, sum = term;
    int n;

    for (n = 1; n < 6000; n++) {
        term *= (A + n) * (a + n - 1.0) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if (fabs(term) <= 1e-17 * (fabs(head) + fabs(sum)))
            return head - exp((a - 1.0) * L) * sum;
    }
    return NAN;
}

static double bg_expected_general(double r, double alpha, double a, double b,
                                  double t)
{
    double e = NAN;

    if (t <= 0.0)
        return 0.0;
    if (t / (alpha + t) <= 0.98)
        e = bg_expected_series(r, alpha, a, b, t);
    if (!isfinite(e))
        e = bg_expected_quadrature(r, alpha, a, b, t);
    return e > 0.0 ? e : 0.0;
}

double clv_bgnbd_expected(const double *p, double t)
{
    return bg_expected_general(p[0], p[1], p[2], p[3], t);
}

double clv_bgnbd_alive(const double *p, double x, double tx, double T)
{
    double r = p[0], alpha = p[1], a = p[2], b = p[3], l;

    if (x == 0.0)
        return 1.0;
    l = log(a) - log(b + x - 1.0) +
        (r + x) * (log(alpha + T) - log(alpha + tx));
    return clv_logistic_neg(l);
}

double clv_bgnbd_conditional(const double *p, double t, double x, double tx,
                             double T)
{
    double e = bg_expected_general(p[0] + x, p[1] + T, p[2], p[3] + x, t);

    return e * clv_bgnbd_alive(p, x, tx, T);
}

/* ---- P(X(t) = k) (FHL 2005, eq. 8) --------------------------------------- */

/* 1 - sum_{j<k} NB(j; r, z): the upper tail of the negative binomial. */
static double bg_nb_tail(double r, double z, double lzc, uint32_t k)
{
    double term = exp(r * lzc), cdf = 0.0;
    uint32_t j;

    for (j = 0; j < k; j++) {
        cdf += term;
        if (cdf >= 1.0)
            return 0.0;
        term *= (r + j) / (j + 1.0) * z;
        if (term < 1e-300 && j > r)
            break;
    }
    return 1.0 - cdf;
}

double clv_bgnbd_pmf(const double *p, double t, uint32_t k)
{
    double r = p[0], alpha = p[1], a = p[2], b = p[3];
    double lbab = lgamma(a) + lgamma(b) - lgamma(a + b);
    double z = t / (alpha + t), lzc = -log1p(t / alpha);
    double lfirst, first, second = 0.0, res;

    if (t <= 0.0)
        return k == 0 ? 1.0 : 0.0;
    lfirst = lgamma(a) + lgamma(b + k) - lgamma(a + b + k) - lbab +
             lgamma(r + k) - lgamma(r) - lgamma(k + 1.0) + r * lzc;
    if (k > 0)
        lfirst += k * log(z);
    first = exp(lfirst);
    if (k > 0) {
        double lb = lgamma(a + 1.0) + lgamma(b + k - 1.0) - lgamma(a + b + k);

        second = exp(lb - lbab) * bg_nb_tail(r, z, lzc, k);
    }
    res = first + second;
    return res < 0.0 ? 0.0 : (res > 1.0 ? 1.0 : res);
}
