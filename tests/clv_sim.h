/*
 * A deterministic simulator of the BG/NBD purchase process, shared by the
 * clv tests and benchmark: each customer draws lambda ~ Gamma(r, alpha) and
 * p ~ Beta(a, b), buys at Poisson(lambda) times and drops out after each
 * repeat purchase with probability p. Times are whole days; the first purchase is
 * on day 0 and T is drawn uniformly from [t_min, t_max] days.
 */
#ifndef CRM_TEST_CLV_SIM_H
#define CRM_TEST_CLV_SIM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static inline uint64_t clv_sim_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static inline double clv_sim_uniform(uint64_t *state)
{
    return ((double)(clv_sim_next(state) >> 11) + 0.5) * 0x1.0p-53;
}

static inline double clv_sim_normal(uint64_t *state)
{
    double u = clv_sim_uniform(state), v = clv_sim_uniform(state);

    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Gamma(shape, 1) by Marsaglia and Tsang. */
static inline double clv_sim_gamma(uint64_t *state, double shape)
{
    double d, c;

    if (shape < 1.0)
        return clv_sim_gamma(state, shape + 1.0) *
               pow(clv_sim_uniform(state), 1.0 / shape);
    d = shape - 1.0 / 3.0;
    c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double z = clv_sim_normal(state), v = 1.0 + c * z, u;

        if (v <= 0.0)
            continue;
        v = v * v * v;
        u = clv_sim_uniform(state);
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
            return d * v;
    }
}

/* Fills x, t_x, T (days) for n customers from BG/NBD parameters p[4]. */
static inline void clv_sim_bgnbd(uint64_t seed, const double *p, size_t n,
                                 unsigned t_min, unsigned t_max, double *x,
                                 double *tx, double *T)
{
    uint64_t st = seed;
    size_t i;

    for (i = 0; i < n; i++) {
        double lambda = clv_sim_gamma(&st, p[0]) / p[1];
        double g1 = clv_sim_gamma(&st, p[2]), g2 = clv_sim_gamma(&st, p[3]);
        double drop = g1 / (g1 + g2), now = 0.0, age;
        double last = 0.0, count = 0.0;

        age = (double)(t_min + clv_sim_next(&st) % (t_max - t_min + 1));
        for (;;) { /* repeat purchases; dropout may follow each of them */
            now += -log(clv_sim_uniform(&st)) / lambda;
            if (floor(now) > age)
                break;
            if (floor(now) > last) { /* same-day purchases merge */
                last = floor(now);
                count += 1.0;
            }
            if (clv_sim_uniform(&st) < drop)
                break;
        }
        x[i] = count;
        tx[i] = last;
        T[i] = age;
    }
}

#endif
