/*
 * Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV: using
 * iso-value curves for customer base analysis"; the likelihood of the mean
 * spend m of x transactions, as `lifetimes` writes it).
 */
#include <math.h>

#include "clv/clv_internal.h"
#include "clv/special.h"

double clv_gg_loglik(const double *p, const clv_groups *g, double *grad)
{
    double pp = p[0], q = p[1], v = p[2];
    double lgq = lgamma(q), psiq = clv_digamma(q), lv = log(v);
    double sum = 0.0, gp = 0.0, gq = 0.0, gv = 0.0;
    size_t i;

    for (i = 0; i < g->n; i++) {
        double x = g->x[i], m = g->m[i], w = g->w[i], px = pp * x;
        double lm = log(m), lx = log(x), lxmv = log(x * m + v);

        sum += w * (lgamma(px + q) - lgamma(px) - lgq + q * lv +
                    (px - 1.0) * lm + px * lx - (px + q) * lxmv);
        if (grad) {
            double psipxq = clv_digamma(px + q);

            gp += w * x * (psipxq - clv_digamma(px) + lm + lx - lxmv);
            gq += w * (psipxq - psiq + lv - lxmv);
            gv += w * (q / v - (px + q) / (x * m + v));
        }
    }
    if (grad) {
        grad[0] = gp;
        grad[1] = gq;
        grad[2] = gv;
    }
    return sum;
}
