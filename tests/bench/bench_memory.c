/*
 * The machine's memory latency, to read the other benchmarks by:
 * bench_memory [MiB] (default 512). Hash-table work on big inputs (RFM
 * ingest, identity lookups) waits on random reads of memory far bigger
 * than the caches, and what one such read costs differs widely between
 * machines and, on a virtual machine, from hour to hour.
 *
 * It links every cache line of a buffer (advised for huge pages, like
 * the library's big tables) into one random cycle and follows it:
 * - `memory_dependent_miss_ns`: one chain, each read waiting for the
 *   previous one, as a lookup's map slot and then its value's bytes do;
 * - `memory_parallel_miss_ns`: 16 chains in step, the time per read when
 *   the CPU may keep 16 misses in flight, as a batched or prefetching
 *   loop does.
 * Each is the median of 5 runs of 4M reads, in nanoseconds of CPU time.
 */
#define _DEFAULT_SOURCE 1 /* madvise, see core/memhint.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "core/memhint.h"

#define LINE_WORDS 8 /* 64-byte cache lines of uint64_t */
#define CHAINS 16
#define READS 4000000u
#define RUNS 5

/* Links the lines of buf into one random cycle (Sattolo's shuffle): the
 * first word of each line holds the index of the next line's. */
static void link_cycle(uint64_t *buf, size_t lines)
{
    uint32_t *order = malloc(lines * sizeof *order);
    uint64_t seed = 20261207;
    size_t i;

    if (order == NULL) {
        fprintf(stderr, "bench_memory: out of memory\n");
        exit(1);
    }
    for (i = 0; i < lines; i++)
        order[i] = (uint32_t)i;
    for (i = lines - 1; i > 0; i--) {
        size_t j = (size_t)(bench_rand(&seed) % i);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (i = 0; i < lines; i++)
        buf[(size_t)order[i] * LINE_WORDS] =
            (uint64_t)order[(i + 1) % lines] * LINE_WORDS;
    free(order);
}

/* Nanoseconds per read following `chains` chains in step, starting at
 * lines spread over the cycle. */
static double follow(const uint64_t *buf, size_t lines, size_t chains)
{
    uint64_t at[CHAINS], sum = 0;
    size_t steps = READS / chains, i, c;
    double t;

    for (c = 0; c < chains; c++)
        at[c] = (uint64_t)(lines / chains * c) * LINE_WORDS;
    t = bench_cpu_ms();
    for (i = 0; i < steps; i++)
        for (c = 0; c < chains; c++)
            at[c] = buf[at[c]];
    t = bench_cpu_ms() - t;
    for (c = 0; c < chains; c++)
        sum += at[c];
    if (sum == UINT64_MAX) /* keeps the reads */
        printf("#\n");
    return t * 1e6 / (double)(steps * chains);
}

static double median_of_runs(const uint64_t *buf, size_t lines,
                             size_t chains)
{
    double runs[RUNS];
    size_t r;

    for (r = 0; r < RUNS; r++)
        runs[r] = follow(buf, lines, chains);
    return bench_median(runs, RUNS);
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;
    size_t bytes = mib << 20, lines = bytes / 64;
    size_t huge = (size_t)1 << 21;
    uint64_t *buf;

    if (mib < 1 || mib > 65536 || lines > UINT32_MAX) {
        fprintf(stderr, "usage: bench_memory [MiB, 1 to 65536]\n");
        return 2;
    }
    /* aligned_alloc wants a multiple of the alignment */
    buf = aligned_alloc(huge, (bytes + huge - 1) / huge * huge);
    if (buf == NULL) {
        fprintf(stderr, "bench_memory: out of memory\n");
        return 1;
    }
    crm_advise_huge_pages(buf, bytes);
    link_cycle(buf, lines);
    bench_print("memory_buffer_mib", (double)mib, "MiB");
    bench_print("memory_dependent_miss_ns", median_of_runs(buf, lines, 1),
                "ns");
    bench_print("memory_parallel_miss_ns",
                median_of_runs(buf, lines, CHAINS), "ns");
    free(buf);
    return 0;
}
