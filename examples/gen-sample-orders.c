/*
 * gen-sample-orders: writes a small, deterministic orders CSV for the
 * crm-rfm example (about 2,000 customers and 7,000 orders of a shop selling
 * in yen during 2024, times in JST).
 *
 *   gen-sample-orders sample-orders.csv
 *
 * Customers arrive all through the year; most buy once, a few come back
 * every few weeks until they leave (or the year ends); about 4% of rows
 * are returns (negative amounts). Times are ISO-8601 with an offset or Unix seconds,
 * both of which crm-rfm reads. Two rows are deliberately broken so the
 * example can show how it reports bad rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CUSTOMERS 2000
#define YEAR_START INT64_C(1704034800) /* 2024-01-01T00:00:00+09:00 */
#define YEAR_SECONDS INT64_C(31622400)  /* 366 days */

static uint64_t next(uint64_t *state)
{
    *state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *state >> 33;
}

/* Orders of one customer: 55% once, then a long tail. */
static int order_count(uint64_t *state)
{
    unsigned roll = (unsigned)(next(state) % 100);

    if (roll < 55)
        return 1;
    if (roll < 75)
        return 2;
    if (roll < 87)
        return 3 + (int)(next(state) % 3);
    return 6 + (int)(next(state) % 20);
}

/* Writes t as ISO-8601 in JST (+09:00). */
static void write_iso_jst(FILE *out, int64_t t)
{
    time_t local = (time_t)(t + 9 * 3600);
    const struct tm *tm = gmtime(&local);
    char text[32];

    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+09:00", tm);
    fputs(text, out);
}

/* One order of about `level` yen (half to one and a half times it). */
static void write_order(FILE *out, uint64_t *state, int64_t customer,
                        int64_t t, int64_t level)
{
    int64_t amount = (level / 2 + (int64_t)(next(state) % 100) * level / 100)
                     / 100 * 100;

    if (next(state) % 25 == 0)
        amount = -amount;
    fprintf(out, "%lld,", (long long)customer);
    if (next(state) % 3 == 0)
        fprintf(out, "%lld", (long long)t);
    else
        write_iso_jst(out, t);
    fprintf(out, ",%lld\n", (long long)amount);
}

/*
 * Orders of one customer: a first purchase somewhere in the year, then a
 * repeat purchase every few weeks (each customer at their own pace and
 * spending level) until they have bought their number of orders and
 * leave, or the year ends.
 */
static void write_customer(FILE *out, uint64_t *state, int64_t customer)
{
    int n = order_count(state), k;
    int64_t t = YEAR_START + (int64_t)(next(state) % (uint64_t)YEAR_SECONDS);
    int64_t mean_gap = 86400 * (7 + (int64_t)(next(state) % 60));
    int64_t level = 1000 + (int64_t)(next(state) % 40) * (int64_t)(next(state) % 40) * 10;

    for (k = 0; k < n && t < YEAR_START + YEAR_SECONDS; k++) {
        write_order(out, state, customer, t, level);
        t += 3600 + (int64_t)(next(state) % (uint64_t)(2 * mean_gap));
    }
}

int main(int argc, char **argv)
{
    uint64_t state = 20240101;
    FILE *out;
    int c;

    if (argc != 2) {
        fprintf(stderr, "usage: gen-sample-orders OUTPUT.csv\n");
        return 2;
    }
    out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fprintf(out, "customer_id,ordered_at,amount\n");
    for (c = 1; c <= CUSTOMERS; c++) {
        write_customer(out, &state, 100000 + c);
        if (c == 700)
            fprintf(out, "100700,2024-02-30T10:00:00+09:00,1200\n");
        if (c == 1400)
            fprintf(out, "101400,2024-05-01T10:00:00+09:00,12.5\n");
    }
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
