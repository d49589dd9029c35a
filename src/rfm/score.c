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
 * once: one read of the table counts the keys into histograms of fixed
 * buckets, after which only the keys in the buckets that hold a cut are
 * gathered and sorted.
 */
#include <string.h>

#include "core/bits.h"
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
        rfm_big_of(rfm, c)->day_count++;
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
 * Quantile cuts by radix selection. Each dimension's keys fall into fixed
 * histogram buckets, in key order, so no pass over the table is needed to
 * find the keys' range first:
 *   - recency: one bucket per day for purchases up to RFM_SPAN - 1 days
 *     before as_of, one for all older ones;
 *   - frequency: one bucket per value below RFM_SPAN, one for the rest;
 *   - monetary: one bucket per value of magnitude below 512, then 512
 *     buckets per power of two (a relative width of 1/512), mirrored for
 *     negative values.
 * The histogram tells which bucket holds each needed order statistic.
 * When that bucket holds a single value, that is the cut. Otherwise the
 * keys of the target buckets are gathered (monetary ones from the slots
 * whose bucket, which the histogram read kept, is a target; the rare
 * recency and frequency ones from a second read of the table) and sorted
 * to read the cuts. Recency keys equal to INT64_MIN (no purchase) are
 * counted apart, below all others. Up to RFM_SORT_CUSTOMERS customers, the
 * keys are simply sorted.
 */
#define RFM_SPAN 65535
#define RFM_EXACT_BITS 9                                /* magnitudes < 512 */
#define RFM_M_HALF ((64 - RFM_EXACT_BITS + 1) << RFM_EXACT_BITS) /* 28672 */

static const size_t rfm_buckets[3] = {RFM_SPAN + 1, RFM_SPAN + 1,
                                      2 * RFM_M_HALF};
_Static_assert(2 * RFM_M_HALF <= UINT16_MAX + 1,
               "a monetary bucket index fits uint16_t");

/* The recency bucket of a key (minus the days), or 0 without purchase. */
static inline size_t recency_bucket(int64_t key, uint64_t purchased)
{
    uint64_t days = (uint64_t)-key;

    days = days < RFM_SPAN ? days : RFM_SPAN;
    return (size_t)(RFM_SPAN - days) & (size_t)(0 - purchased);
}

static inline size_t frequency_bucket(int64_t f)
{
    return f < RFM_SPAN ? (size_t)f : RFM_SPAN;
}

/*
 * The monetary bucket: for p = |k| (or -k - 1 below 0), p itself below
 * 512, else 512 * (bits of p - 9) + the 9 bits after p's leading one;
 * negative values mirror below RFM_M_HALF. Without a branch.
 */
static inline size_t monetary_bucket(int64_t k)
{
    uint64_t sign = (uint64_t)(k >> 63), p = (uint64_t)k ^ sign;
    unsigned bits = 64 - crm_clz64(p | 1);
    unsigned high = bits > RFM_EXACT_BITS ? bits : RFM_EXACT_BITS;
    unsigned shift = bits > RFM_EXACT_BITS + 1 ? bits - RFM_EXACT_BITS - 1 : 0;
    uint64_t code = (uint64_t)(high - RFM_EXACT_BITS) << RFM_EXACT_BITS |
                    (p >> shift & ((1u << RFM_EXACT_BITS) - 1));

    return (size_t)((int64_t)RFM_M_HALF + (int64_t)(code ^ sign));
}

/* When bucket b of dimension dim holds a single key: 1 and *key. */
static int bucket_key(crm_rfm_dimension dim, size_t b, int64_t *key)
{
    size_t code;

    switch (dim) {
    case CRM_RFM_RECENCY:
        *key = (int64_t)b - RFM_SPAN;
        return b > 0;
    case CRM_RFM_FREQUENCY:
        *key = (int64_t)b;
        return b < RFM_SPAN;
    default:
        code = b >= RFM_M_HALF ? b - RFM_M_HALF : RFM_M_HALF - 1 - b;
        *key = b >= RFM_M_HALF ? (int64_t)code : -1 - (int64_t)code;
        return code < (1u << RFM_EXACT_BITS);
    }
}

/* Where a cut lies: its bucket and its 1-based rank inside it. */
typedef struct rfm_target {
    size_t bucket;
    uint64_t rank;
    int bottom; /* the cut is INT64_MIN */
} rfm_target;

/* The selection state of one quantile dimension. */
typedef struct rfm_select {
    int active;
    uint64_t bottom; /* recency keys equal to INT64_MIN */
    uint32_t *count; /* per bucket */
    unsigned ncut;
    rfm_target target[CRM_RFM_MAX_BINS - 1];
    uint8_t *is_target; /* per bucket: 1 when its keys are gathered */
    int64_t *pending;   /* the keys gathered */
    size_t npending;
    uint16_t *slot_bucket; /* monetary: every slot's bucket */
} rfm_select;

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

/*
 * Adds the keys of the customer in slot idx to the histograms of the
 * active dimensions, and keeps its monetary bucket.
 */
static inline void count_customer(const crm_rfm *rfm, size_t idx,
                                  rfm_select *r, rfm_select *f, rfm_select *m)
{
    const rfm_slot *c = rfm_customer(rfm, idx);
    int64_t key[3];
    uint64_t purchased;

    scan_keys(rfm, c, key, &purchased);
    if (r->active) {
        r->count[recency_bucket(key[CRM_RFM_RECENCY], purchased)] +=
            (uint32_t)purchased;
        r->bottom += 1 - purchased;
    }
    if (f->active)
        f->count[frequency_bucket(key[CRM_RFM_FREQUENCY])]++;
    if (m->active) {
        size_t bucket = monetary_bucket(key[CRM_RFM_MONETARY]);
        m->count[bucket]++;
        m->slot_bucket[idx] = (uint16_t)bucket;
    }
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
        f->count[frequency_bucket(0)] -= (uint32_t)empty;
    if (m->active)
        m->count[monetary_bucket(0)] -= (uint32_t)empty;
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
    size_t i, capacity = rfm->map.capacity;

    for (i = 0; i < capacity; i++)
        count_customer(rfm, i, &r, &f, &m);
    if (capacity > 0 && rfm->map.spare_used)
        count_customer(rfm, capacity, &r, &f, &m);
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

/*
 * The cuts the histogram fixes (INT64_MIN, or a bucket of one key); marks
 * the other target buckets and makes room for their keys.
 */
static crm_status exact_cuts(const crm_rfm *rfm, crm_rfm_dimension dim,
                             rfm_select *s, rfm_cuts *c)
{
    size_t total = 0, b, nbuckets = rfm_buckets[dim];
    unsigned k;

    for (k = 0; k < c->ncut; k++) {
        if (s->target[k].bottom) {
            c->cut[k] = INT64_MIN;
            continue;
        }
        if (bucket_key(dim, s->target[k].bucket, &c->cut[k]))
            continue;
        if (!s->is_target &&
            !(s->is_target = crm_mem_calloc(rfm->ctx, nbuckets, 1)))
            return crm_error_nomem(rfm->ctx);
        s->is_target[s->target[k].bucket] = 1;
    }
    if (!s->is_target)
        return CRM_OK;
    for (b = 0; b < nbuckets; b++)
        total += s->is_target[b] ? s->count[b] : 0;
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
                                   rfm_select *f)
{
    int64_t key[3];
    uint64_t purchased;

    scan_keys(rfm, c, key, &purchased);
    if (r->pending)
        gather_key(r, key[CRM_RFM_RECENCY],
                   recency_bucket(key[CRM_RFM_RECENCY], purchased),
                   purchased);
    if (f->pending)
        gather_key(f, key[CRM_RFM_FREQUENCY],
                   frequency_bucket(key[CRM_RFM_FREQUENCY]), used);
}

/*
 * The monetary keys of the target buckets: those of the customers whose
 * slot's bucket, kept by the histogram scan, is a target. Only they are
 * read from the table.
 */
static void gather_monetary(const crm_rfm *rfm, rfm_select *m)
{
    size_t i, slots = crm_i64map_slot_count(&rfm->map);

    for (i = 0; i < slots; i++) {
        int64_t key[3];
        if (!m->is_target[m->slot_bucket[i]] ||
            !crm_i64map_used(&rfm->map, i))
            continue;
        rfm_keys(rfm, rfm_customer(rfm, i), key);
        m->pending[m->npending++] = key[CRM_RFM_MONETARY];
    }
}

/*
 * The keys of the target buckets: monetary ones by gather_monetary,
 * recency and frequency ones (rarely needed) from one more read of the
 * table.
 */
static void scan_pending(const crm_rfm *rfm, rfm_select sel[3])
{
    rfm_select r = sel[0], f = sel[1], m = sel[2];
    const rfm_slot *slots = (const rfm_slot *)rfm->map.slots;
    size_t i, capacity = rfm->map.capacity;

    if (m.pending)
        gather_monetary(rfm, &m);
    if (r.pending || f.pending) {
        for (i = 0; i < capacity; i++)
            gather_customer(rfm, &slots[i],
                            slots[i].id != CRM_I64MAP_EMPTY_KEY, &r, &f);
        if (capacity > 0 && rfm->map.spare_used)
            gather_customer(rfm, &slots[capacity], 1, &r, &f);
    }
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
        if (s->target[k].bottom || !s->is_target[s->target[k].bucket])
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

    for (d = 0; d < 3 && status == CRM_OK; d++)
        if (sel[d].active &&
            !(sel[d].count = crm_mem_calloc(rfm->ctx, rfm_buckets[d],
                                            sizeof *sel[d].count)))
            status = crm_error_nomem(rfm->ctx);
    if (status == CRM_OK && sel[CRM_RFM_MONETARY].active &&
        !(sel[CRM_RFM_MONETARY].slot_bucket = crm_mem_alloc_array(
              rfm->ctx, crm_i64map_slot_count(&rfm->map), sizeof(uint16_t))))
        status = crm_error_nomem(rfm->ctx);
    if (status != CRM_OK)
        return status;
    scan_histograms(rfm, sel);
    for (d = 0; d < 3 && status == CRM_OK; d++) {
        if (!sel[d].active)
            continue;
        find_targets(rfm, &sel[d]);
        status = exact_cuts(rfm, (crm_rfm_dimension)d, &sel[d], &cuts[d]);
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

/*
 * With few customers, clearing and walking the histograms (0.75 MB) costs
 * more than sorting: each quantile dimension's keys are gathered and
 * sorted, and its cuts read at their ranks.
 */
#define RFM_SORT_CUSTOMERS 32768

static crm_status sorted_cuts(const crm_rfm *rfm, const rfm_select sel[3],
                              rfm_cuts cuts[3])
{
    size_t i, at, slots = crm_i64map_slot_count(&rfm->map);
    int64_t *keys = crm_mem_alloc_array(rfm->ctx, rfm->map.count,
                                        sizeof *keys);
    unsigned d, k;

    if (!keys)
        return crm_error_nomem(rfm->ctx);
    for (d = 0; d < 3; d++) {
        if (!sel[d].active)
            continue;
        for (i = 0, at = 0; i < slots; i++) {
            int64_t key[3];
            if (!crm_i64map_used(&rfm->map, i))
                continue;
            rfm_keys(rfm, rfm_customer(rfm, i), key);
            keys[at++] = key[d];
        }
        if (crm_radix_sort_i64(rfm->ctx, keys, NULL, at) != 0) {
            crm_mem_free(rfm->ctx, keys);
            return crm_error_nomem(rfm->ctx);
        }
        for (k = 0; k < cuts[d].ncut; k++)
            cuts[d].cut[k] = keys[cut_rank(rfm, k) - 1];
    }
    crm_mem_free(rfm->ctx, keys);
    return CRM_OK;
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
    if (!sel[0].active && !sel[1].active && !sel[2].active)
        return CRM_OK;
    return rfm->map.count <= RFM_SORT_CUSTOMERS ? sorted_cuts(rfm, sel, cuts)
                                                : select_cuts(rfm, sel, cuts);
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
        crm_mem_free(rfm->ctx, sel[d].slot_bucket);
    }
    if (status != CRM_OK)
        return status;
    memcpy(rfm->cuts, cuts, sizeof cuts);
    rfm->scored = 1;
    return CRM_OK;
}
