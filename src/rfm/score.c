/*
 * Scoring (see crm/rfm.h for the formula).
 *
 * score = 1 + floor(bins * L / n), L = customers strictly worse, is a step
 * function of the customer's value: score >= k exactly when L >= c_k with
 * c_k = ceil((k - 1) * n / bins), i.e. when the value is greater than the
 * c_k-th smallest value. So a quantile dimension needs only bins - 1 order
 * statistics (read off one radix sort of the values), after which every
 * customer is scored with at most 9 comparisons, like with thresholds.
 */
#include "core/civil.h"
#include "core/mem.h"
#include "core/radix.h"
#include "rfm/rfm_internal.h"

/* How a dimension turns a key (higher is better) into a score. */
typedef struct rfm_cuts {
    int strict; /* score counts cuts with key > cut, else key >= cut */
    unsigned ncut;
    int64_t cut[CRM_RFM_MAX_BINS - 1];
} rfm_cuts;

/* ---- Per-customer values ---------------------------------------------------- */

int64_t crm_rfm__recency_days(const crm_rfm *rfm, size_t idx)
{
    uint32_t last = rfm->aggs[idx].last_day;

    return last ? (int64_t)rfm->as_of_day - (int64_t)last : -1;
}

int64_t crm_rfm__frequency(const crm_rfm *rfm, size_t idx)
{
    int64_t f = rfm->aggs[idx].count;

    if (rfm->frequency_mode == CRM_RFM_FREQUENCY_DAYS && rfm->day_counts)
        f += rfm->day_counts[idx];
    return f;
}

int64_t crm_rfm__monetary(const crm_rfm *rfm, size_t idx)
{
    int64_t total = rfm->aggs[idx].total, f;

    if (rfm->monetary_mode == CRM_RFM_MONETARY_TOTAL)
        return total;
    f = crm_rfm__frequency(rfm, idx);
    return f > 0 ? crm_floor_div(total, f) : total;
}

crm_status crm_rfm__require_scores(const crm_rfm *rfm)
{
    if (!rfm->scored)
        return crm_error(rfm->ctx, CRM_ESTATE,
                         "no fresh scores: call crm_rfm_score after adding "
                         "data or changing options");
    return CRM_OK;
}

/* The key of a dimension: higher is better. Recency: minus the days. */
static int64_t dim_key(const crm_rfm *rfm, crm_rfm_dimension dim, size_t idx)
{
    switch (dim) {
    case CRM_RFM_RECENCY:
        return rfm->aggs[idx].last_day ? -crm_rfm__recency_days(rfm, idx)
                                       : INT64_MIN;
    case CRM_RFM_FREQUENCY:
        return crm_rfm__frequency(rfm, idx);
    case CRM_RFM_MONETARY:
        break;
    }
    return crm_rfm__monetary(rfm, idx);
}

static uint8_t score_of(const rfm_cuts *c, int64_t key)
{
    unsigned k, s = 1;

    if (c->strict) {
        for (k = 0; k < c->ncut; k++)
            s += key > c->cut[k];
    } else {
        for (k = 0; k < c->ncut; k++)
            s += key >= c->cut[k];
    }
    return (uint8_t)s;
}

/* ---- Days mode: distinct purchase days -------------------------------------- */

/* Sorts and deduplicates the (customer, day) pairs, then counts them. */
static crm_status count_days(crm_rfm *rfm)
{
    uint32_t *counts;
    size_t i, out = 0;

    if (rfm->frequency_mode != CRM_RFM_FREQUENCY_DAYS)
        return CRM_OK;
    counts = crm_mem_calloc(rfm->ctx, rfm->count ? rfm->count : 1,
                            sizeof *counts);
    if (!counts ||
        crm_radix_sort_i64(rfm->ctx, (int64_t *)rfm->pairs, NULL,
                           rfm->pairs_len) != 0) {
        crm_mem_free(rfm->ctx, counts);
        return crm_error_nomem(rfm->ctx);
    }
    for (i = 0; i < rfm->pairs_len; i++) {
        if (out > 0 && rfm->pairs[out - 1] == rfm->pairs[i])
            continue;
        rfm->pairs[out++] = rfm->pairs[i];
        counts[rfm->pairs[i] >> 32]++;
    }
    rfm->pairs_len = out;
    crm_mem_free(rfm->ctx, rfm->day_counts);
    rfm->day_counts = counts;
    return CRM_OK;
}

/* ---- Cuts ------------------------------------------------------------------- */

static void threshold_cuts(const crm_rfm *rfm, crm_rfm_dimension dim,
                           rfm_cuts *c)
{
    unsigned k;

    c->ncut = rfm->bins - 1;
    c->strict = dim == CRM_RFM_RECENCY;
    for (k = 0; k < c->ncut; k++) {
        int64_t t = rfm->dims[dim].thresholds[k];
        /* recency_days < t  <=>  -recency_days > -t */
        c->cut[k] = dim == CRM_RFM_RECENCY ? -t : t;
    }
}

/* The 1-based rank whose value is the cut for score k + 2. */
static uint64_t cut_rank(const crm_rfm *rfm, unsigned k)
{
    return ((uint64_t)(k + 1) * rfm->count + rfm->bins - 1) / rfm->bins;
}

/*
 * Quantile cuts by radix selection. A histogram of the keys' top bits
 * (at most RFM_HIST_BUCKETS buckets) tells which bucket holds each needed
 * order statistic; when a bucket is a single value (days, counts) that is
 * the answer, otherwise only the keys of the target buckets are gathered
 * and sorted. Keys equal to INT64_MIN (no purchase) sit below all others.
 */
#define RFM_HIST_BUCKETS 65536

typedef struct rfm_hist {
    int64_t lo;
    unsigned shift;  /* bucket = (key - lo) >> shift */
    uint64_t bottom; /* keys equal to INT64_MIN */
    size_t nbuckets;
    uint32_t *count;
} rfm_hist;

static size_t bucket_of(const rfm_hist *h, int64_t key)
{
    return (size_t)(((uint64_t)key - (uint64_t)h->lo) >> h->shift);
}

static crm_status hist_build(const crm_rfm *rfm, crm_rfm_dimension dim,
                             rfm_hist *h)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN, key;
    size_t i;

    h->bottom = 0;
    for (i = 0; i < rfm->count; i++) {
        key = dim_key(rfm, dim, i);
        if (key == INT64_MIN) {
            h->bottom++;
            continue;
        }
        lo = key < lo ? key : lo;
        hi = key > hi ? key : hi;
    }
    if (h->bottom == rfm->count)
        lo = hi = 0;
    h->lo = lo;
    for (h->shift = 0;
         ((uint64_t)hi - (uint64_t)lo) >> h->shift >= RFM_HIST_BUCKETS;
         h->shift++)
        ;
    h->nbuckets = bucket_of(h, hi) + 1;
    h->count = crm_mem_calloc(rfm->ctx, h->nbuckets, sizeof *h->count);
    if (!h->count)
        return crm_error_nomem(rfm->ctx);
    for (i = 0; i < rfm->count; i++) {
        key = dim_key(rfm, dim, i);
        if (key != INT64_MIN)
            h->count[bucket_of(h, key)]++;
    }
    return CRM_OK;
}

/* Where each cut lies: its bucket and its 1-based rank inside it. */
typedef struct rfm_target {
    size_t bucket;
    uint64_t rank;
    int bottom; /* the cut is INT64_MIN */
} rfm_target;

static void hist_targets(const crm_rfm *rfm, const rfm_hist *h, unsigned ncut,
                         rfm_target *t)
{
    uint64_t before = h->bottom;
    size_t v = 0;
    unsigned k;

    for (k = 0; k < ncut; k++) {
        uint64_t need = cut_rank(rfm, k);
        t[k].bottom = need <= h->bottom;
        if (t[k].bottom)
            continue;
        while (before + h->count[v] < need)
            before += h->count[v++];
        t[k].bucket = v;
        t[k].rank = need - before;
    }
}

static int is_target(const rfm_target *t, unsigned ncut, size_t bucket)
{
    unsigned k;

    for (k = 0; k < ncut; k++)
        if (!t[k].bottom && t[k].bucket == bucket)
            return 1;
    return 0;
}

/* Gathers and sorts the keys of the target buckets, then reads the cuts. */
static crm_status refine_cuts(const crm_rfm *rfm, crm_rfm_dimension dim,
                              const rfm_hist *h, const rfm_target *t,
                              rfm_cuts *c)
{
    size_t total = 0, at = 0, i;
    int64_t *keys;
    unsigned k;

    for (i = 0; i < h->nbuckets; i++)
        if (is_target(t, c->ncut, i))
            total += h->count[i];
    keys = crm_mem_alloc_array(rfm->ctx, total ? total : 1, sizeof *keys);
    if (!keys)
        return crm_error_nomem(rfm->ctx);
    for (i = 0; i < rfm->count; i++) {
        int64_t key = dim_key(rfm, dim, i);
        if (key != INT64_MIN && is_target(t, c->ncut, bucket_of(h, key)))
            keys[at++] = key;
    }
    if (crm_radix_sort_i64(rfm->ctx, keys, NULL, at) != 0) {
        crm_mem_free(rfm->ctx, keys);
        return crm_error_nomem(rfm->ctx);
    }
    for (k = 0; k < c->ncut; k++) {
        size_t first = 0, b;
        if (t[k].bottom)
            continue;
        for (b = 0; b < t[k].bucket; b++)
            if (is_target(t, c->ncut, b))
                first += h->count[b];
        c->cut[k] = keys[first + t[k].rank - 1];
    }
    crm_mem_free(rfm->ctx, keys);
    return CRM_OK;
}

static crm_status quantile_cuts(const crm_rfm *rfm, crm_rfm_dimension dim,
                                rfm_cuts *c)
{
    rfm_target t[CRM_RFM_MAX_BINS - 1];
    rfm_hist h;
    crm_status status = hist_build(rfm, dim, &h);
    unsigned k;

    if (status != CRM_OK)
        return status;
    hist_targets(rfm, &h, c->ncut, t);
    for (k = 0; k < c->ncut; k++)
        if (t[k].bottom)
            c->cut[k] = INT64_MIN;
        else if (h.shift == 0)
            c->cut[k] = h.lo + (int64_t)t[k].bucket;
    if (h.shift > 0)
        status = refine_cuts(rfm, dim, &h, t, c);
    crm_mem_free(rfm->ctx, h.count);
    return status;
}

static crm_status compute_cuts(const crm_rfm *rfm, rfm_cuts cuts[3])
{
    crm_status status = CRM_OK;
    unsigned d;

    for (d = 0; d < 3 && status == CRM_OK; d++) {
        crm_rfm_dimension dim = (crm_rfm_dimension)d;
        if (rfm->dims[d].use_thresholds) {
            threshold_cuts(rfm, dim, &cuts[d]);
            continue;
        }
        cuts[d].ncut = rfm->bins - 1;
        cuts[d].strict = 1;
        if (rfm->count > 0)
            status = quantile_cuts(rfm, dim, &cuts[d]);
    }
    return status;
}

crm_status crm_rfm_score(crm_rfm *rfm)
{
    rfm_cuts cuts[3];
    uint8_t *scores;
    crm_status status;
    size_t i;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    status = count_days(rfm);
    if (status == CRM_OK)
        status = compute_cuts(rfm, cuts);
    if (status != CRM_OK)
        return status;
    scores = crm_mem_alloc_array(rfm->ctx, rfm->count ? rfm->count : 1, 3);
    if (!scores)
        return crm_error_nomem(rfm->ctx);
    for (i = 0; i < rfm->count; i++) {
        scores[3 * i] = score_of(&cuts[0], dim_key(rfm, CRM_RFM_RECENCY, i));
        scores[3 * i + 1] =
            score_of(&cuts[1], dim_key(rfm, CRM_RFM_FREQUENCY, i));
        scores[3 * i + 2] =
            score_of(&cuts[2], dim_key(rfm, CRM_RFM_MONETARY, i));
    }
    crm_mem_free(rfm->ctx, rfm->scores);
    rfm->scores = scores;
    rfm->scored = 1;
    return CRM_OK;
}
