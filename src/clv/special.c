/*
 * Special functions of the clv models (see special.h).
 */
#include "clv/special.h"

#include <math.h>

#define CLV_PI 3.14159265358979323846

double clv_digamma(double x)
{
    double shift = 0.0, f;
    int k;

    /* Six steps lift any x > 0 to 6 or beyond; the bound also ends the
     * loop for arguments outside the domain, where the result means nothing. */
    for (k = 0; k < 6 && x < 6.0; k++) {
        shift -= 1.0 / x;
        x += 1.0;
    }
    f = 1.0 / (x * x);
    return shift + log(x) - 0.5 / x -
           f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

double clv_log_add(double a, double b)
{
    double hi = a > b ? a : b, lo = a > b ? b : a;

    if (hi == -INFINITY)
        return -INFINITY;
    return hi + log1p(exp(lo - hi));
}

double clv_log_sub(double a, double b)
{
    if (b == -INFINITY)
        return a;
    if (a <= b)
        return -INFINITY;
    return a + log1p(-exp(b - a));
}

double clv_expm1_ratio(double u)
{
    if (fabs(u) < 1e-300)
        return 1.0;
    return expm1(u) / u;
}

double clv_logistic_neg(double l)
{
    double e;

    if (l > 0) {
        e = exp(-l);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(l));
}

#define TS_STEP (1.0 / 64.0)
#define TS_HALF_NODES 256 /* s runs over [-4, 4] */

/*
 * The integrand's log at the node pair +-s, stored at vals[+-k]: at y =
 * pi sinh(s) >= 0 the nodes are v = 1 / (1 + e) and v = e / (1 + e) with
 * e = exp(-y), so one exp and one log1p serve both (the pair's weights are
 * equal). *top is raised to the largest value.
 */
static void ts_node_pair(double (*log_f)(double v, double u, void *user),
                         void *user, int k, double *vals, double *top)
{
    double s = k * TS_STEP, y = CLV_PI * sinh(s), e = exp(-y);
    double l1 = log1p(e), big = 1.0 / (1.0 + e), small = e / (1.0 + e);
    double lw = log(TS_STEP * CLV_PI * cosh(s)) - y - 2.0 * l1;
    double val[2];
    int side;

    val[0] = lw + log_f(big, small, user);
    val[1] = k == 0 ? val[0] : lw + log_f(small, big, user);
    for (side = 0; side < 2; side++) {
        if (isnan(val[side]))
            val[side] = -INFINITY;
        if (val[side] > *top)
            *top = val[side];
    }
    vals[TS_HALF_NODES + k] = val[0];
    vals[TS_HALF_NODES - k] = val[1];
}

double clv_log_integral01(double (*log_f)(double v, double u, void *user),
                          void *user)
{
    double vals[2 * TS_HALF_NODES + 1];
    double top = -INFINITY, sum = 0.0;
    int k;

    for (k = 0; k <= TS_HALF_NODES; k++)
        ts_node_pair(log_f, user, k, vals, &top);
    if (top == -INFINITY || top == INFINITY)
        return top;
    for (k = 0; k < 2 * TS_HALF_NODES + 1; k++)
        sum += exp(vals[k] - top);
    return top + log(sum);
}

typedef struct hyp_integrand {
    double a, b, z, zc;
} hyp_integrand;

/* u^(a-1) (1 - z u)^(-b) with u = 1 - v, so 1 - z u = zc + z v. */
static double hyp_log_integrand(double v, double u, void *user)
{
    const hyp_integrand *h = user;

    return (h->a - 1.0) * log(u) - h->b * log(h->zc + h->z * v);
}

#define HYP_SERIES_MAX_TERMS 4000

/*
 * log of sum_n (B)_n / (C)_n z^n for 0 < B < C, 0 <= z < 1, zc = 1 - z;
 * NAN when the series needs more than HYP_SERIES_MAX_TERMS terms. The
 * term ratios rise towards z, so the tail after a term is at most
 * term * z / (1 - z): the sum stops when that is below 1e-17 of the sum.
 * The terms fall like n^(B - C) z^n: fast when C - B is large, even for z
 * near 1, and slowly only when C - B is small and z is near 1.
 */
static double hyp_euler_series_log(double B, double C, double z, double zc)
{
    double term = 1.0, sum = 1.0;
    int n;

    for (n = 0; n < HYP_SERIES_MAX_TERMS; n++) {
        term *= (B + n) / (C + n) * z;
        sum += term;
        if (term <= 1e-17 * sum * zc)
            return log(sum);
    }
    return NAN;
}

#define HYP_CF_MAX_STEPS 2000
#define HYP_CF_TINY 1e-300

/*
 * log of the same sum as hyp_euler_series_log, written as 2F1(p + q, 1;
 * p + 1; z) with p = C - 1 > 0 and q = B - C + 1, by Gauss's continued
 * fraction of the incomplete beta function (modified Lentz, as in Numerical
 * Recipes' betacf). It converges fast where the series is slow: z near 1
 * and C - B small. NAN when it needs more than HYP_CF_MAX_STEPS steps.
 */
static double hyp_gauss_cf_log(double B, double C, double z)
{
    double p = C - 1.0, q = B - C + 1.0, c = 1.0, d, h;
    int m;

    d = 1.0 - (p + q) * z / (p + 1.0);
    d = 1.0 / (fabs(d) < HYP_CF_TINY ? HYP_CF_TINY : d);
    h = d;
    for (m = 1; m <= HYP_CF_MAX_STEPS; m++) {
        double num[2], delta = 0.0;
        int half;

        num[0] = m * (q - m) * z / ((p + 2 * m - 1.0) * (p + 2 * m));
        num[1] = -(p + m) * (p + q + m) * z / ((p + 2 * m) * (p + 2 * m + 1.0));
        for (half = 0; half < 2; half++) {
            d = 1.0 + num[half] * d;
            c = 1.0 + num[half] / c;
            d = 1.0 / (fabs(d) < HYP_CF_TINY ? HYP_CF_TINY : d);
            c = fabs(c) < HYP_CF_TINY ? HYP_CF_TINY : c;
            delta = d * c;
            h *= delta;
        }
        if (fabs(delta - 1.0) <= 1e-16)
            return h > 0.0 && isfinite(h) ? log(h) : NAN;
    }
    return NAN;
}

/*
 * Whether the series of hyp_euler_series_log ends within its term limit:
 * its last allowed term, Gamma(B+N) Gamma(C) / (Gamma(B) Gamma(C+N)) z^N,
 * must be below the stopping threshold (the sum is at least 1).
 */
static int hyp_series_is_short(double B, double C, double z, double zc)
{
    double N = HYP_SERIES_MAX_TERMS, threshold = log(1e-17 * zc);

    if (N * log(z) < threshold)
        return 1; /* every term is below z^n */
    return lgamma(B + N) - lgamma(B) - lgamma(C + N) + lgamma(C) + N * log(z) <
           threshold;
}

/* Whether Gauss's continued fraction converges fast (Numerical Recipes). */
static int hyp_cf_is_short(double B, double C, double z)
{
    double p = C - 1.0, q = B - C + 1.0;

    return z < (p + 1.0) / (p + q + 2.0);
}

double clv_log_hyp2f1_a1(double a, double b, double z, double zc)
{
    double B = a + 1.0 - b;
    hyp_integrand h;

    if (z == 0.0)
        return 0.0;
    if (B > 0.0) {
        double s = NAN;

        if (hyp_series_is_short(B, a + 1.0, z, zc))
            s = hyp_euler_series_log(B, a + 1.0, z, zc);
        if (isnan(s) && hyp_cf_is_short(B, a + 1.0, z))
            s = hyp_gauss_cf_log(B, a + 1.0, z);
        if (!isnan(s))
            return (1.0 - b) * log(zc) + s;
    }
    h.a = a;
    h.b = b;
    h.z = z;
    h.zc = zc;
    return log(a) + clv_log_integral01(hyp_log_integrand, &h);
}
