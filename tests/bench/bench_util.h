/*
 * Shared by the benchmarks: a monotonic clock, CPU time, medians, peak RSS, a
 * deterministic random generator and the `name: value unit` output format.
 * Include from a benchmark built with _POSIX_C_SOURCE=200809L.
 */
#ifndef CRM_BENCH_UTIL_H
#define CRM_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of this process in ms: the figure other load on the machine
 * changes least. */
static inline double bench_cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median of n samples (sorts them in place). */
static inline double bench_median(double *samples, size_t n)
{
    qsort(samples, n, sizeof *samples, bench_cmp_double);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

/* Peak resident set size of this process in MiB, from /proc (0 if unknown). */
static inline double bench_peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtod(line + 6, NULL);
    fclose(f);
    return kb / 1024.0;
}

/* xoshiro-style splitmix64: deterministic, seedable. */
static inline uint64_t bench_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static inline double bench_uniform(uint64_t *state)
{
    return (double)(bench_rand(state) >> 11) * 0x1.0p-53;
}

static inline void bench_print(const char *name, double value, const char *unit)
{
    printf("%s: %.6g %s\n", name, value, unit);
    fflush(stdout);
}

#endif
