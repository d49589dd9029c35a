/*
 * Grouping identical summary rows so a fit costs per distinct row.
 */
#include <string.h>

#include "clv/clv_internal.h"
#include "core/mem.h"
#include "core/radix.h"

/* An int64 with the order of a non-negative double (-0 becomes +0). */
static int64_t order_key(double v)
{
    int64_t k;

    v += 0.0;
    memcpy(&k, &v, sizeof k);
    return k;
}

static int uses_row(const crm_clv_summary *s, crm_clv_kind kind, size_t i)
{
    return kind != CRM_CLV_GAMMAGAMMA || (s->x[i] > 0.0 && s->m[i] > 0.0);
}

/* Sorts perm[0..n) by the columns cols[0..ncols), the first most significant. */
static int sort_rows(crm_ctx *ctx, const double *const *cols, int ncols,
                     uint32_t *perm, size_t n)
{
    int64_t *keys = crm_mem_alloc_array(ctx, n ? n : 1, sizeof *keys);
    int c;
    size_t i;

    if (!keys)
        return -1;
    for (c = ncols - 1; c >= 0; c--) {
        for (i = 0; i < n; i++)
            keys[i] = order_key(cols[c][perm[i]]);
        if (crm_radix_sort_i64(ctx, keys, perm, n) != 0) {
            crm_mem_free(ctx, keys);
            return -1;
        }
    }
    crm_mem_free(ctx, keys);
    return 0;
}

/* Rows that give the same likelihood term: (x, t_x, T), or (x, m) for spend. */
static int same_row(const crm_clv_summary *s, crm_clv_kind kind, uint32_t i,
                    uint32_t j)
{
    if (kind == CRM_CLV_GAMMAGAMMA)
        return s->x[i] == s->x[j] && s->m[i] == s->m[j];
    return s->x[i] == s->x[j] && s->tx[i] == s->tx[j] && s->T[i] == s->T[j];
}

void clv_groups_free(crm_ctx *ctx, clv_groups *g)
{
    crm_mem_free(ctx, g->x);
    crm_mem_free(ctx, g->tx);
    crm_mem_free(ctx, g->T);
    crm_mem_free(ctx, g->m);
    crm_mem_free(ctx, g->w);
    memset(g, 0, sizeof *g);
}

static int groups_alloc(crm_ctx *ctx, clv_groups *g, size_t n)
{
    size_t cap = n ? n : 1;

    memset(g, 0, sizeof *g);
    g->x = crm_mem_alloc_array(ctx, cap, sizeof *g->x);
    g->tx = crm_mem_alloc_array(ctx, cap, sizeof *g->tx);
    g->T = crm_mem_alloc_array(ctx, cap, sizeof *g->T);
    g->m = crm_mem_alloc_array(ctx, cap, sizeof *g->m);
    g->w = crm_mem_alloc_array(ctx, cap, sizeof *g->w);
    if (!g->x || !g->tx || !g->T || !g->m || !g->w) {
        clv_groups_free(ctx, g);
        return -1;
    }
    return 0;
}

/* Collapses runs of identical rows of the sorted perm into g. */
static void collapse(const crm_clv_summary *s, crm_clv_kind kind,
                     const uint32_t *perm, size_t n, clv_groups *g)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint32_t r = perm[i];

        if (g->n > 0 && same_row(s, kind, perm[i - 1], r)) {
            g->w[g->n - 1] += 1.0;
        } else {
            g->x[g->n] = s->x[r];
            g->tx[g->n] = s->tx[r];
            g->T[g->n] = s->T[r];
            g->m[g->n] = s->m[r];
            g->w[g->n] = 1.0;
            g->n++;
        }
        g->total += 1.0;
    }
}

static size_t count_distinct(const crm_clv_summary *s, crm_clv_kind kind,
                             const uint32_t *perm, size_t n)
{
    size_t i, count = n ? 1 : 0;

    for (i = 1; i < n; i++)
        count += !same_row(s, kind, perm[i - 1], perm[i]);
    return count;
}

crm_status clv_groups_build(crm_ctx *ctx, const crm_clv_summary *s,
                            crm_clv_kind kind, clv_groups *out)
{
    const double *purchase_cols[3] = {s->x, s->tx, s->T};
    const double *spend_cols[2] = {s->x, s->m};
    uint32_t *perm = crm_mem_alloc_array(ctx, s->n ? s->n : 1, sizeof *perm);
    size_t i, n = 0;
    int rc;

    if (!perm)
        return crm_error_nomem(ctx);
    for (i = 0; i < s->n; i++)
        if (uses_row(s, kind, i))
            perm[n++] = (uint32_t)i;
    if (kind == CRM_CLV_GAMMAGAMMA)
        rc = sort_rows(ctx, spend_cols, 2, perm, n);
    else
        rc = sort_rows(ctx, purchase_cols, 3, perm, n);
    if (rc != 0 || groups_alloc(ctx, out, count_distinct(s, kind, perm, n)) != 0) {
        crm_mem_free(ctx, perm);
        return crm_error_nomem(ctx);
    }
    collapse(s, kind, perm, n, out);
    crm_mem_free(ctx, perm);
    return CRM_OK;
}
