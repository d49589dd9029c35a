/*
 * A small BFGS minimiser for the model fits (dimension <= 4), working on
 * the logarithms of the parameters.
 */
#include <math.h>
#include <string.h>

#include "clv/clv_internal.h"

#define OPT_MAX_DIM 4
#define OPT_MAX_ITER 500
#define OPT_MAX_HALVINGS 40 /* line-search steps down to 2^-40 of the first */
#define OPT_STALL_ITER 5    /* iterations in a row without real progress */
#define OPT_GTOL 1e-7       /* largest gradient component at the optimum */
#define OPT_MAX_STEP 2.0    /* largest change of a log-parameter per step */
#define OPT_LOG_BOUND 30.0  /* a log-parameter this far from its start runs off */

static double opt_norm_inf(const double *v, int dim)
{
    double m = 0.0;
    int i;

    for (i = 0; i < dim; i++)
        if (fabs(v[i]) > m)
            m = fabs(v[i]);
    return m;
}

/* Largest |theta[i] - start[i]|. */
static double opt_distance(const double *theta, const double *start, int dim)
{
    double m = 0.0;
    int i;

    for (i = 0; i < dim; i++)
        if (fabs(theta[i] - start[i]) > m)
            m = fabs(theta[i] - start[i]);
    return m;
}

static void opt_identity(double h[OPT_MAX_DIM][OPT_MAX_DIM], int dim)
{
    int i, j;

    for (i = 0; i < dim; i++)
        for (j = 0; j < dim; j++)
            h[i][j] = i == j ? 1.0 : 0.0;
}

/* Inverse-Hessian BFGS update with s = step, y = change of gradient. */
static void opt_bfgs_update(double h[OPT_MAX_DIM][OPT_MAX_DIM], int dim,
                            const double *s, const double *y)
{
    double hy[OPT_MAX_DIM], sy = 0.0, yhy = 0.0;
    int i, j;

    for (i = 0; i < dim; i++)
        sy += s[i] * y[i];
    if (!(sy > 1e-14))
        return;
    for (i = 0; i < dim; i++) {
        hy[i] = 0.0;
        for (j = 0; j < dim; j++)
            hy[i] += h[i][j] * y[j];
        yhy += y[i] * hy[i];
    }
    for (i = 0; i < dim; i++)
        for (j = 0; j < dim; j++)
            h[i][j] += ((sy + yhy) * s[i] * s[j]) / (sy * sy) -
                       (hy[i] * s[j] + s[i] * hy[j]) / sy;
}

/* The search direction -H g, or -g when that is not a descent direction. */
static void opt_direction(double h[OPT_MAX_DIM][OPT_MAX_DIM], int dim,
                          const double *g, double *d)
{
    double slope = 0.0;
    int i, j;

    for (i = 0; i < dim; i++) {
        d[i] = 0.0;
        for (j = 0; j < dim; j++)
            d[i] -= h[i][j] * g[j];
        slope += d[i] * g[i];
    }
    if (!(slope < 0.0)) {
        opt_identity(h, dim);
        for (i = 0; i < dim; i++)
            d[i] = -g[i];
    }
}

/*
 * Backtracking (Armijo) line search from theta along d. The first trial,
 * usually accepted, gets its gradient at once; later trials cost one value
 * each and the gradient is evaluated only at the point accepted. A
 * step must lower f strictly: once the steps are too small to change f in
 * floating point, the search gives up instead of accepting a point equal to
 * theta. On success theta, *f and g hold the new point; returns 0, or -1
 * when no step decreases f.
 */
static int opt_line_search(clv_objective f, void *user, int dim, double *theta,
                           double *fval, double *g, const double *d)
{
    double step = 1.0, big = opt_norm_inf(d, dim), slope = 0.0;
    double trial[OPT_MAX_DIM], gt[OPT_MAX_DIM];
    int i, k;

    if (big > OPT_MAX_STEP)
        step = OPT_MAX_STEP / big;
    for (i = 0; i < dim; i++)
        slope += d[i] * g[i];
    for (k = 0; k < OPT_MAX_HALVINGS; k++, step *= 0.5) {
        double ft;

        for (i = 0; i < dim; i++)
            trial[i] = theta[i] + step * d[i];
        ft = f(user, trial, k == 0 ? gt : NULL);
        if (!(isfinite(ft) && ft < *fval && ft <= *fval + 1e-4 * step * slope))
            continue;
        if (k > 0)
            ft = f(user, trial, gt);
        if (!(isfinite(ft) && isfinite(opt_norm_inf(gt, dim))))
            continue;
        memcpy(theta, trial, sizeof(double) * (size_t)dim);
        memcpy(g, gt, sizeof(double) * (size_t)dim);
        *fval = ft;
        return 0;
    }
    return -1;
}

/* Whether the objective fell from before to after by more than rounding noise. */
static int opt_progressed(double before, double after)
{
    return before - after > 1e-14 * (1.0 + fabs(after));
}

/* The verdict when no step helps any more, from the gradient g there. */
static int opt_stuck(const double *g, int dim, const char **why)
{
    if (opt_norm_inf(g, dim) <= 1e3 * OPT_GTOL)
        return 0; /* at the optimum to rounding noise */
    *why = "the line search cannot decrease the objective";
    return -1;
}

int clv_minimize(clv_objective f, void *user, int dim, double *theta,
                 const char **why)
{
    double h[OPT_MAX_DIM][OPT_MAX_DIM], g[OPT_MAX_DIM], d[OPT_MAX_DIM];
    double prev[OPT_MAX_DIM], gprev[OPT_MAX_DIM], s[OPT_MAX_DIM], y[OPT_MAX_DIM];
    double start[OPT_MAX_DIM], fval = f(user, theta, g), fprev;
    int iter, i, stalled = 0;

    if (!isfinite(fval) || !isfinite(opt_norm_inf(g, dim))) {
        *why = "the likelihood is not finite at the starting point";
        return -1;
    }
    memcpy(start, theta, sizeof(double) * (size_t)dim);
    opt_identity(h, dim);
    for (iter = 0; iter < OPT_MAX_ITER; iter++) {
        if (opt_norm_inf(g, dim) <= OPT_GTOL)
            return 0;
        if (opt_distance(theta, start, dim) > OPT_LOG_BOUND) {
            *why = "a parameter runs off to 0 or infinity";
            return -1;
        }
        opt_direction(h, dim, g, d);
        memcpy(prev, theta, sizeof prev);
        memcpy(gprev, g, sizeof gprev);
        fprev = fval;
        if (opt_line_search(f, user, dim, theta, &fval, g, d) != 0)
            return opt_stuck(g, dim, why);
        stalled = opt_progressed(fprev, fval) ? 0 : stalled + 1;
        if (stalled >= OPT_STALL_ITER)
            return opt_stuck(g, dim, why);
        for (i = 0; i < dim; i++) {
            s[i] = theta[i] - prev[i];
            y[i] = g[i] - gprev[i];
        }
        opt_bfgs_update(h, dim, s, y);
    }
    *why = opt_distance(theta, start, dim) > 10.0
               ? "a parameter runs off to 0 or infinity"
               : "no convergence within 500 iterations";
    return -1;
}
