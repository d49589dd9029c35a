/*
 * Reading results: export, lookup, ordered iteration, grid and group
 * summaries (see crm/rfm.h).
 */
#include <string.h>

#include "core/checked.h"
#include "core/mem.h"
#include "core/radix.h"
#include "rfm/rfm_internal.h"

crm_status crm_rfm__sorted_order(const crm_rfm *rfm, int64_t **ids_out,
                                 uint32_t **idx_out)
{
    size_t n = rfm->map.count ? rfm->map.count : 1, slot, at = 0;
    size_t slots = crm_i64map_slot_count(&rfm->map);
    int64_t *ids = crm_mem_alloc_array(rfm->ctx, n, sizeof *ids);
    uint32_t *idx = crm_mem_alloc_array(rfm->ctx, n, sizeof *idx);

    if (!ids || !idx)
        goto nomem;
    for (slot = 0; slot < slots; slot++) {
        if (!crm_i64map_used(&rfm->map, slot))
            continue;
        ids[at] = rfm_customer(rfm, slot)->id;
        idx[at++] = (uint32_t)slot;
    }
    if (crm_radix_sort_i64(rfm->ctx, ids, idx, at) != 0)
        goto nomem;
    *ids_out = ids;
    *idx_out = idx;
    return CRM_OK;
nomem:
    crm_mem_free(rfm->ctx, ids);
    crm_mem_free(rfm->ctx, idx);
    return crm_error_nomem(rfm->ctx);
}

static crm_status check_readable(const crm_rfm *rfm)
{
    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    return crm_rfm__require_scores(rfm);
}

crm_status crm_rfm_export(const crm_rfm *rfm, int64_t *customer_id,
                          int64_t *recency_days, int64_t *frequency,
                          int64_t *monetary, uint8_t *r, uint8_t *f,
                          uint8_t *m, size_t capacity)
{
    int64_t *ids;
    uint32_t *order;
    crm_status status = check_readable(rfm);
    size_t i;

    if (status != CRM_OK)
        return status;
    if (capacity < rfm->map.count)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "crm_rfm_export: capacity %zu is below the %zu "
                         "customers",
                         capacity, rfm->map.count);
    status = crm_rfm__sorted_order(rfm, &ids, &order);
    if (status != CRM_OK)
        return status;
    for (i = 0; i < rfm->map.count; i++) {
        size_t idx = order[i];
        uint8_t score[3];
        crm_rfm__scores(rfm, idx, score);
        if (customer_id)
            customer_id[i] = ids[i];
        if (recency_days)
            recency_days[i] = crm_rfm__recency_days(rfm, idx);
        if (frequency)
            frequency[i] = crm_rfm__frequency(rfm, idx);
        if (monetary)
            monetary[i] = crm_rfm__monetary(rfm, idx);
        if (r)
            r[i] = score[0];
        if (f)
            f[i] = score[1];
        if (m)
            m[i] = score[2];
    }
    crm_mem_free(rfm->ctx, ids);
    crm_mem_free(rfm->ctx, order);
    return CRM_OK;
}

crm_status crm_rfm_lookup(const crm_rfm *rfm, int64_t customer_id,
                          int64_t *recency_days, int64_t *frequency,
                          int64_t *monetary, int *r, int *f, int *m)
{
    crm_status status = check_readable(rfm);
    const rfm_slot *c;
    uint8_t score[3];
    size_t idx;

    if (status != CRM_OK)
        return status;
    c = crm_i64map_find(&rfm->map, customer_id);
    if (!c)
        return crm_error(rfm->ctx, CRM_ENOTFOUND, "no customer %lld",
                         (long long)customer_id);
    idx = crm_i64map_index(&rfm->map, c);
    crm_rfm__scores(rfm, idx, score);
    if (recency_days)
        *recency_days = crm_rfm__recency_days(rfm, idx);
    if (frequency)
        *frequency = crm_rfm__frequency(rfm, idx);
    if (monetary)
        *monetary = crm_rfm__monetary(rfm, idx);
    if (r)
        *r = score[0];
    if (f)
        *f = score[1];
    if (m)
        *m = score[2];
    return CRM_OK;
}

crm_status crm_rfm_foreach(const crm_rfm *rfm, crm_rfm_visit_fn visit,
                           void *user)
{
    int64_t *ids;
    uint32_t *order;
    crm_status status = check_readable(rfm);
    size_t i;

    if (status != CRM_OK)
        return status;
    if (!visit)
        return crm_error(rfm->ctx, CRM_EINVAL, "crm_rfm_foreach: NULL visit");
    status = crm_rfm__sorted_order(rfm, &ids, &order);
    if (status != CRM_OK)
        return status;
    for (i = 0; i < rfm->map.count && status == CRM_OK; i++) {
        size_t idx = order[i];
        uint8_t s[3];
        crm_rfm__scores(rfm, idx, s);
        if (visit(user, ids[i], crm_rfm__recency_days(rfm, idx),
                  crm_rfm__frequency(rfm, idx), crm_rfm__monetary(rfm, idx),
                  s[0], s[1], s[2]) != 0)
            status = crm_error(rfm->ctx, CRM_ECALLBACK,
                               "crm_rfm_foreach: stopped by the callback at "
                               "customer %lld",
                               (long long)ids[i]);
    }
    crm_mem_free(rfm->ctx, ids);
    crm_mem_free(rfm->ctx, order);
    return status;
}

/* ---- Summaries ------------------------------------------------------------ */

/* Sums customers and revenue into `ncell` cells chosen by cell_of(). */
static crm_status summarise(const crm_rfm *rfm, size_t ncell,
                            size_t (*cell_of)(const crm_rfm *, size_t),
                            uint64_t *customers, int64_t *revenue)
{
    uint64_t count[CRM_RFM_MAX_BINS * CRM_RFM_MAX_BINS];
    int64_t sum[CRM_RFM_MAX_BINS * CRM_RFM_MAX_BINS];
    size_t i, slots = crm_i64map_slot_count(&rfm->map);

    memset(count, 0, sizeof count);
    memset(sum, 0, sizeof sum);
    for (i = 0; i < slots; i++) {
        size_t cell;
        if (!crm_i64map_used(&rfm->map, i))
            continue;
        cell = cell_of(rfm, i);
        count[cell]++;
        if (crm_add_checked(&sum[cell],
                            rfm_total(rfm, rfm_customer(rfm, i))) != 0)
            return crm_error(rfm->ctx, CRM_EOVERFLOW,
                             "the revenue of cell %zu leaves int64", cell);
    }
    if (customers)
        memcpy(customers, count, ncell * sizeof *customers);
    if (revenue)
        memcpy(revenue, sum, ncell * sizeof *revenue);
    return CRM_OK;
}

static size_t grid_cell(const crm_rfm *rfm, size_t idx)
{
    uint8_t s[3];

    crm_rfm__scores(rfm, idx, s);
    return (size_t)(s[0] - 1) * rfm->bins + (size_t)(s[1] - 1);
}

crm_status crm_rfm_grid(const crm_rfm *rfm, uint64_t *customers,
                        int64_t *revenue, size_t cells)
{
    crm_status status = check_readable(rfm);
    size_t need;

    if (status != CRM_OK)
        return status;
    need = (size_t)rfm->bins * rfm->bins;
    if (cells < need)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "crm_rfm_grid: %zu cells given, %u bins need %zu",
                         cells, rfm->bins, need);
    return summarise(rfm, need, grid_cell, customers, revenue);
}

static size_t jp4_cell(const crm_rfm *rfm, size_t idx)
{
    uint8_t s[3];
    int group = 0;

    crm_rfm__scores(rfm, idx, s);
    crm_rfm_map_group(CRM_RFM_MAP_JP4, s[0], s[1], &group);
    return (size_t)group;
}

static size_t rf11_cell(const crm_rfm *rfm, size_t idx)
{
    uint8_t s[3];
    int group = 0;

    crm_rfm__scores(rfm, idx, s);
    crm_rfm_map_group(CRM_RFM_MAP_RF11, s[0], s[1], &group);
    return (size_t)group;
}

crm_status crm_rfm_group_summary(const crm_rfm *rfm, crm_rfm_map map,
                                 uint64_t *customers, int64_t *revenue,
                                 size_t groups)
{
    crm_status status = check_readable(rfm);
    unsigned need = crm_rfm_map_group_count(map);

    if (status != CRM_OK)
        return status;
    if (need == 0)
        return crm_error(rfm->ctx, CRM_EINVAL, "unknown segment map %d",
                         (int)map);
    if (groups < need)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "crm_rfm_group_summary: %zu groups given, the map "
                         "has %u",
                         groups, need);
    if (rfm->bins != 5)
        return crm_error(rfm->ctx, CRM_ESTATE,
                         "segment maps need 5 bins, not %u", rfm->bins);
    return summarise(rfm, need, map == CRM_RFM_MAP_JP4 ? jp4_cell : rf11_cell,
                     customers, revenue);
}
