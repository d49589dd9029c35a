/*
 * Scoring (see crm/rfm.h for the formula).
 *
 * score = 1 + floor(bins * L / n), L = customers strictly worse, is a step
 * function of the customer's value: score >= k exactly when L >= c_k with
 * c_k = ceil((k - 1) * n / bins), i.e. when the value is greater than the
 * c_k-th smallest value. So a quantile dimension needs only bins - 1 order
 * statistics, its cuts, after which any customer is scored with at most 9
 * comparisons, like with thresholds. crm_rfm_score finds the cuts; a
 * customer's scores are computed from them whenever they are read, so
 * scoring writes nothing into the table.
 *
 * The order statistics come from radix selection, all three dimensions at
 * once: one read of the table finds the keys' ranges, a second builds
 * histograms of their top bits, and a third is needed only when a cut
 * falls in a bucket holding several values, to gather and sort those
 * buckets' keys.
 */
#include <string.h>

#include "core/civil.h"
#include "core/mem.h"
#include "core/radix.h"
#include "rfm/rfm_internal.h"

/* ---- Per-customer values ---------------------------------------------------- */

int64_t crm_rfm__recency_days(const crm_rfm *rfm, size_t idx)
{
    uint32_t last = rfm_last_day(rfm_customer(rfm, idx));

    return last ? (int64_t)rfm->as_of_day - (int64_t)last : -1;
}

int64_t crm_rfm__frequency(const crm_rfm *rfm, size_t idx)
{
    return rfm_frequency(rfm, rfm_customer(rfm, idx));
}

int64_t crm_rfm__monetary(const crm_rfm *rfm, size_t idx)
{
    int64_t total = rfm_total(rfm, rfm_customer(rfm, idx)), f;

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

void crm_rfm__scores(const crm_rfm *rfm, size_t idx, uint8_t score[3])
{
    int64_t key[3];
    unsigned d;

    rfm_keys(rfm, rfm_customer(rfm, idx), key);
    for (d = 0; d < 3; d++)
        score[d] = score_of(&rfm->cuts[d], key[d]);
}

/* ---- Days mode: distinct purchase days -------------------------------------- */

/* (slot index << 32 | day) of every pair, prefetching the slots ahead. */
static void pair_words(const crm_rfm *rfm, uint64_t *words)
{
    size_t i;

    for (i = 0; i < rfm->pairs_len; i++) {
        const rfm_slot *c = crm_i64map_find(&rfm->map, rfm->pair_ids[i]);
        if (i + 16 < rfm->pairs_len)
            crm_i64map_prefetch(&rfm->map, rfm->pair_ids[i + 16]);
        words[i] = (uint64_t)crm_i64map_index(&rfm->map, c) << 32 |
                   rfm->pair_days[i];
    }
}

/* Customers in small slots among the sorted pair words (one run each). */
static size_t small_customers(const crm_rfm *rfm, const uint64_t *words)
{
    size_t i, small = 0;

    for (i = 0; i < rfm->pairs_len; i++) {
        const rfm_slot *c;
        if (i > 0 && words[i - 1] >> 32 == words[i] >> 32)
            continue;
        c = rfm_customer(rfm, (size_t)(words[i] >> 32));
        small += !(c->meta & RFM_BIG);
    }
    return small;
}

/*
 * Counts each customer's distinct purchase days into its rfm_big (a
 * customer with purchase days gets one), and keeps only the distinct
 * pairs.
 */
static crm_status count_days(crm_rfm *rfm)
{
    uint64_t *words;
    size_t i, out = 0;
    crm_status status;

    if (rfm->frequency_mode != CRM_RFM_FREQUENCY_DAYS)
        return CRM_OK;
    words = crm_mem_alloc_array(rfm->ctx, rfm->pairs_len ? rfm->pairs_len : 1,
                                sizeof *words);
    if (!words)
        return crm_error_nomem(rfm->ctx);
    pair_words(rfm, words);
    status = crm_radix_sort_i64(rfm->ctx, (int64_t *)words, NULL,
                                rfm->pairs_len) != 0
                 ? crm_error_nomem(rfm->ctx)
                 : crm_rfm__reserve_big(rfm, small_customers(rfm, words));
    if (status != CRM_OK) {
        crm_mem_free(rfm->ctx, words);
        return status;
    }
    for (i = 0; i < rfm->big_len; i++)
        rfm->big[i].day_count = 0;
    for (i = 0; i < rfm->pairs_len; i++) {
        rfm_slot *c;
        if (i > 0 && words[i - 1] == words[i])
            continue;
        c = crm_i64map_slot(&rfm->map, (size_t)(words[i] >> 32));
        if (!(c->meta & RFM_BIG))
            crm_rfm__make_big(rfm, c);
        rfm->big[(uint32_t)c->total].day_count++;
        rfm->pair_ids[out] = c->id;
        rfm->pair_days[out++] = (uint32_t)words[i];
    }
    rfm->pairs_len = out;
    crm_mem_free(rfm->ctx, words);
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
    return ((uint64_t)(k + 1) * rfm->map.count + rfm->bins - 1) / rfm->bins;
}

/*
 * Quantile cuts by radix selection. A histogram of the keys' top bits (at
 * most RFM_HIST_BUCKETS buckets over the keys' range)
 * tells which bucket holds each needed order statistic. When a bucket is a
 * single value (days, counts) that is the cut. Otherwise a second read of
 * the table gathers the keys of the target buckets, which are sorted to
 * read the cuts. Recency keys equal to INT64_MIN (no purchase) are counted
 * apart, below all others.
 */
#define RFM_HIST_BUCKETS 65536

/* Where a cut lies: its bucket and its 1-based rank inside it. */
typedef struct rfm_target {
    size_t bucket;
    uint64_t rank;
    int bottom; /* the cut is INT64_MIN */
} rfm_target;

/* The selection state of one quantile dimension. */
typedef struct rfm_select {
    int active;
    int64_t lo, hi;  /* range of the keys other than INT64_MIN */
    unsigned shift;  /* bucket = (key - lo) >> shift */
    uint64_t bottom; /* recency keys equal to INT64_MIN */
    size_t nbuckets;
    uint32_t *count;
    unsigned ncut;
    rfm_target target[CRM_RFM_MAX_BINS - 1];
    uint8_t *is_target; /* per bucket: 1 when its keys are gathered */
    int64_t *pending;   /* the keys gathered */
    size_t npending;
} rfm_select;

static inline size_t bucket_of(const rfm_select *s, int64_t key)
{
    return (size_t)(((uint64_t)key - (uint64_t)s->lo) >> s->shift);
}

static crm_status hist_alloc(const crm_rfm *rfm, rfm_select *s)
{
    for (s->shift = 0;
         ((uint64_t)s->hi - (uint64_t)s->lo) >> s->shift >= RFM_HIST_BUCKETS;
         s->shift++)
        ;
    s->nbuckets = bucket_of(s, s->hi) + 1;
    s->count = crm_mem_calloc(rfm->ctx, s->nbuckets, sizeof *s->count);
    return s->count ? CRM_OK : crm_error_nomem(rfm->ctx);
}

/*
 * The scans below read every slot, a third of them empty at random, and
 * a branch on a slot's contents would mispredict about as often. So they
 * compute keys as rfm_keys does, but without a branch: *purchased is 1
 * when the customer has a purchase, and the recency key is meaningful
 * only then.
 */
static inline void scan_keys(const crm_rfm *rfm, const rfm_slot *c,
                             int64_t key[3], uint64_t *purchased)
{
    int64_t f = rfm_frequency(rfm, c), total = rfm_total(rfm, c);
    uint32_t last = rfm_last_day(c);

    *purchased = last != 0;
    key[CRM_RFM_RECENCY] = (int64_t)last - (int64_t)rfm->as_of_day;
    key[CRM_RFM_FREQUENCY] = f;
    key[CRM_RFM_MONETARY] = rfm->monetary_mode == CRM_RFM_MONETARY_MEAN
                                ? crm_floor_div(total, f + (f == 0))
                                : total;
}

/* The bucket of a recency key, or 0 without purchase. */
static inline size_t recency_bucket(const rfm_select *r, int64_t key,
                                    uint64_t purchased)
{
    return bucket_of(r, key) & (size_t)(0 - purchased);
}

/* The range of the customers' keys in each dimension. */
typedef struct rfm_ranges {
    uint32_t min_day_less1; /* least last_day - 1 of a buyer (UINT32_MAX:
                               none; an empty slot gives UINT32_MAX too) */
    uint32_t max_day;
    int64_t max_f, min_m, max_m;
} rfm_ranges;

static inline void widen_ranges(const crm_rfm *rfm, const rfm_slot *c,
                                rfm_ranges *g)
{
    uint32_t last = rfm_last_day(c), day_less1 = last - 1u;
    int64_t key[3];
    uint64_t purchased;

    scan_keys(rfm, c, key, &purchased);
    g->min_day_less1 =
        day_less1 < g->min_day_less1 ? day_less1 : g->min_day_less1;
    g->max_day = last > g->max_day ? last : g->max_day;
    g->max_f = key[CRM_RFM_FREQUENCY] > g->max_f ? key[CRM_RFM_FREQUENCY]
                                                  : g->max_f;
    g->min_m = key[CRM_RFM_MONETARY] < g->min_m ? key[CRM_RFM_MONETARY]
                                                 : g->min_m;
    g->max_m = key[CRM_RFM_MONETARY] > g->max_m ? key[CRM_RFM_MONETARY]
                                                 : g->max_m;
}

/*
 * One read of the table: the range of each dimension's keys (other than
 * INT64_MIN), which sizes its histogram. The monetary range always holds
 * 0, the monetary key of an empty slot (see uncount_empty_slots).
 */
static void scan_ranges(const crm_rfm *rfm, rfm_select sel[3])
{
    rfm_ranges g = {UINT32_MAX, 0, 0, 0, 0};
    const rfm_slot *slots = (const rfm_slot *)rfm->map.slots;
    size_t i, capacity = rfm->map.capacity;
    rfm_select *r = &sel[CRM_RFM_RECENCY];

    for (i = 0; i < capacity; i++)
        widen_ranges(rfm, &slots[i], &g);
    if (capacity > 0 && rfm->map.spare_used)
        widen_ranges(rfm, &slots[capacity], &g);
    r->lo = r->hi = 0;
    if (g.min_day_less1 != UINT32_MAX) {
        r->lo = (int64_t)g.min_day_less1 + 1 - (int64_t)rfm->as_of_day;
        r->hi = (int64_t)g.max_day - (int64_t)rfm->as_of_day;
    }
    sel[CRM_RFM_FREQUENCY].lo = 0;
    sel[CRM_RFM_FREQUENCY].hi = g.max_f;
    sel[CRM_RFM_MONETARY].lo = g.min_m;
    sel[CRM_RFM_MONETARY].hi = g.max_m;
}

/* Adds customer c's keys to the histograms of the active dimensions. */
static inline void count_customer(const crm_rfm *rfm, const rfm_slot *c,
                                  rfm_select *r, rfm_select *f,
                                  rfm_select *m)
{
    int64_t key[3];
    uint64_t purchased;

    scan_keys(rfm, c, key, &purchased);
    if (r->active) {
        r->count[recency_bucket(r, key[CRM_RFM_RECENCY], purchased)] +=
            (uint32_t)purchased;
        r->bottom += 1 - purchased;
    }
    if (f->active)
        f->count[bucket_of(f, key[CRM_RFM_FREQUENCY])]++;
    if (m->active)
        m->count[bucket_of(m, key[CRM_RFM_MONETARY])]++;
}

/*
 * An empty slot (all zero bytes) has the keys of a customer with nothing:
 * no purchase, frequency 0, monetary 0. Takes the empty slots counted by
 * scan_histograms back out.
 */
static void uncount_empty_slots(const crm_rfm *rfm, rfm_select sel[3])
{
    const crm_i64map *map = &rfm->map;
    size_t empty = map->capacity - (map->count - (size_t)map->spare_used);
    rfm_select *f = &sel[CRM_RFM_FREQUENCY], *m = &sel[CRM_RFM_MONETARY];

    if (sel[CRM_RFM_RECENCY].active)
        sel[CRM_RFM_RECENCY].bottom -= empty;
    if (f->active)
        f->count[bucket_of(f, 0)] -= (uint32_t)empty;
    if (m->active)
        m->count[bucket_of(m, 0)] -= (uint32_t)empty;
}

/*
 * One read of the table in slot order: the histograms of the active
 * dimensions. Every slot is counted, and the empty ones are taken out
 * afterwards (see scan_keys). The loop works on local copies of the
 * selection state, which the counts' stores cannot alias. The spare slot
 * (customer id 0) comes last, outside the loop.
 */
static void scan_histograms(const crm_rfm *rfm, rfm_select sel[3])
{
    rfm_select r = sel[0], f = sel[1], m = sel[2];
    const rfm_slot *slots = (const rfm_slot *)rfm->map.slots;
    size_t i, capacity = rfm->map.capacity;

    for (i = 0; i < capacity; i++)
        count_customer(rfm, &slots[i], &r, &f, &m);
    if (capacity > 0 && rfm->map.spare_used)
        count_customer(rfm, &slots[capacity], &r, &f, &m);
    sel[0] = r;
    sel[1] = f;
    sel[2] = m;
    uncount_empty_slots(rfm, sel);
}

static void find_targets(const crm_rfm *rfm, rfm_select *s)
{
    uint64_t before = s->bottom;
    size_t v = 0;
    unsigned k;

    for (k = 0; k < s->ncut; k++) {
        uint64_t need = cut_rank(rfm, k);
        rfm_target *t = &s->target[k];
        t->bottom = need <= s->bottom;
        if (t->bottom)
            continue;
        while (before + s->count[v] < need)
            before += s->count[v++];
        t->bucket = v;
        t->rank = need - before;
    }
}

/* Cuts that the histogram fixes exactly (INT64_MIN, or shift 0). */
static void exact_cuts(const rfm_select *s, rfm_cuts *c)
{
    unsigned k;

    for (k = 0; k < c->ncut; k++)
        if (s->target[k].bottom)
            c->cut[k] = INT64_MIN;
        else if (s->shift == 0)
            c->cut[k] = s->lo + (int64_t)s->target[k].bucket;
}

/*
 * When a cut lies in a bucket of several values (shift > 0): marks the
 * target buckets and makes room for their keys.
 */
static crm_status gather_prepare(const crm_rfm *rfm, rfm_select *s)
{
    size_t total = 0, b;
    unsigned k;

    if (s->shift == 0)
        return CRM_OK;
    s->is_target = crm_mem_calloc(rfm->ctx, s->nbuckets, 1);
    if (!s->is_target)
        return crm_error_nomem(rfm->ctx);
    for (k = 0; k < s->ncut; k++)
        if (!s->target[k].bottom)
            s->is_target[s->target[k].bucket] = 1;
    for (b = 0; b < s->nbuckets; b++)
        total += s->is_target[b] ? s->count[b] : 0;
    if (total == 0) {
        crm_mem_free(rfm->ctx, s->is_target);
        s->is_target = NULL;
        return CRM_OK;
    }
    s->npending = 0;
    s->pending = crm_mem_alloc_array(rfm->ctx, total, sizeof *s->pending);
    return s->pending ? CRM_OK : crm_error_nomem(rfm->ctx);
}

/*
 * Sets the key in `bucket` aside when that bucket is a target and the key
 * counts (`counts` is 0 or 1).
 */
static inline void gather_key(rfm_select *s, int64_t key, size_t bucket,
                              uint64_t counts)
{
    if (s->is_target[bucket] & counts)
        s->pending[s->npending++] = key;
}

static inline void gather_customer(const crm_rfm *rfm, const rfm_slot *c,
                                   uint64_t used, rfm_select *r,
                                   rfm_select *f, rfm_select *m)
{
    int64_t key[3];
    uint64_t purchased;

    scan_keys(rfm, c, key, &purchased);
    if (r->pending)
        gather_key(r, key[CRM_RFM_RECENCY],
                   recency_bucket(r, key[CRM_RFM_RECENCY], purchased),
                   purchased);
    if (f->pending)
        gather_key(f, key[CRM_RFM_FREQUENCY],
                   bucket_of(f, key[CRM_RFM_FREQUENCY]), used);
    if (m->pending)
        gather_key(m, key[CRM_RFM_MONETARY],
                   bucket_of(m, key[CRM_RFM_MONETARY]), used);
}

/* One more read of the table: the keys of the target buckets. */
static void scan_pending(const crm_rfm *rfm, rfm_select sel[3])
{
    rfm_select r = sel[0], f = sel[1], m = sel[2];
    const rfm_slot *slots = (const rfm_slot *)rfm->map.slots;
    size_t i, capacity = rfm->map.capacity;

    for (i = 0; i < capacity; i++)
        gather_customer(rfm, &slots[i],
                        slots[i].id != CRM_I64MAP_EMPTY_KEY, &r, &f, &m);
    if (capacity > 0 && rfm->map.spare_used)
        gather_customer(rfm, &slots[capacity], 1, &r, &f, &m);
    sel[0] = r;
    sel[1] = f;
    sel[2] = m;
}

/* Sorts a dimension's gathered keys and reads its remaining cuts. */
static crm_status gathered_cuts(const crm_rfm *rfm, rfm_select *s,
                                rfm_cuts *c)
{
    unsigned k;

    if (crm_radix_sort_i64(rfm->ctx, s->pending, NULL, s->npending) != 0)
        return crm_error_nomem(rfm->ctx);
    for (k = 0; k < c->ncut; k++) {
        size_t first = 0, b;
        if (s->target[k].bottom)
            continue;
        for (b = 0; b < s->target[k].bucket; b++)
            first += s->is_target[b] ? s->count[b] : 0;
        c->cut[k] = s->pending[first + s->target[k].rank - 1];
    }
    return CRM_OK;
}

/* The cuts of the quantile dimensions (sel[d].active). */
static crm_status select_cuts(const crm_rfm *rfm, rfm_select sel[3],
                              rfm_cuts cuts[3])
{
    crm_status status = CRM_OK;
    int gather = 0;
    unsigned d;

    scan_ranges(rfm, sel);
    for (d = 0; d < 3 && status == CRM_OK; d++)
        if (sel[d].active)
            status = hist_alloc(rfm, &sel[d]);
    if (status != CRM_OK)
        return status;
    scan_histograms(rfm, sel);
    for (d = 0; d < 3 && status == CRM_OK; d++) {
        if (!sel[d].active)
            continue;
        find_targets(rfm, &sel[d]);
        exact_cuts(&sel[d], &cuts[d]);
        status = gather_prepare(rfm, &sel[d]);
        gather |= sel[d].pending != NULL;
    }
    if (status != CRM_OK || !gather)
        return status;
    scan_pending(rfm, sel);
    for (d = 0; d < 3 && status == CRM_OK; d++)
        if (sel[d].pending)
            status = gathered_cuts(rfm, &sel[d], &cuts[d]);
    return status;
}

/* The cuts of every dimension. */
static crm_status find_cuts(const crm_rfm *rfm, rfm_select sel[3],
                            rfm_cuts cuts[3])
{
    unsigned d;

    for (d = 0; d < 3; d++) {
        cuts[d].ncut = rfm->bins - 1;
        if (rfm->dims[d].use_thresholds) {
            threshold_cuts(rfm, (crm_rfm_dimension)d, &cuts[d]);
            continue;
        }
        cuts[d].strict = 1;
        sel[d].active = rfm->map.count > 0;
        sel[d].ncut = cuts[d].ncut;
    }
    if (sel[0].active || sel[1].active || sel[2].active)
        return select_cuts(rfm, sel, cuts);
    return CRM_OK;
}

/*
 * Scores every customer: finds the cuts that its scores follow from.
 * Scores already fresh are kept as they are; a failure leaves the handle
 * without fresh scores, as it was.
 */
crm_status crm_rfm_score(crm_rfm *rfm)
{
    rfm_select sel[3];
    rfm_cuts cuts[3];
    crm_status status;
    unsigned d;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (rfm->scored)
        return CRM_OK;
    status = count_days(rfm);
    memset(sel, 0, sizeof sel);
    if (status == CRM_OK)
        status = find_cuts(rfm, sel, cuts);
    for (d = 0; d < 3; d++) {
        crm_mem_free(rfm->ctx, sel[d].count);
        crm_mem_free(rfm->ctx, sel[d].is_target);
        crm_mem_free(rfm->ctx, sel[d].pending);
    }
    if (status != CRM_OK)
        return status;
    memcpy(rfm->cuts, cuts, sizeof cuts);
    rfm->scored = 1;
    return CRM_OK;
}
