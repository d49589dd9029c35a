/*
 * Scoring (see crm/rfm.h for the formula).
 *
 * score = 1 + floor(bins * L / n), L = customers strictly worse, is a step
 * function of the customer's value: score >= k exactly when L >= c_k with
 * c_k = ceil((k - 1) * n / bins), i.e. when the value is greater than the
 * c_k-th smallest value. So a quantile dimension needs only bins - 1 order
 * statistics, after which every customer is scored with at most 9
 * comparisons, like with thresholds.
 *
 * The order statistics come from radix selection, all three dimensions at
 * once, so the customer table is read a fixed number of times: once for
 * the value ranges, once for histograms of the values' top bits, once more
 * only when a cut falls in a bucket holding several values (to gather and
 * sort that bucket's values), and once to write the scores.
 */
#include <string.h>

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
    uint32_t last = rfm_customer(rfm, idx)->last_day;

    return last ? (int64_t)rfm->as_of_day - (int64_t)last : -1;
}

int64_t crm_rfm__frequency(const crm_rfm *rfm, size_t idx)
{
    const rfm_slot *c = rfm_customer(rfm, idx);

    return (int64_t)c->count + c->day_count;
}

int64_t crm_rfm__monetary(const crm_rfm *rfm, size_t idx)
{
    int64_t total = rfm_customer(rfm, idx)->total, f;

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

/*
 * The keys of the three dimensions, higher is better: minus the recency
 * days (INT64_MIN without purchase), frequency, monetary.
 */
static inline void customer_keys(const crm_rfm *rfm, const rfm_slot *c,
                                 int64_t key[3])
{
    int64_t f = (int64_t)c->count + c->day_count;

    key[CRM_RFM_RECENCY] = c->last_day
                               ? (int64_t)c->last_day - (int64_t)rfm->as_of_day
                               : INT64_MIN;
    key[CRM_RFM_FREQUENCY] = f;
    key[CRM_RFM_MONETARY] =
        rfm->monetary_mode == CRM_RFM_MONETARY_MEAN && f > 0
            ? crm_floor_div(c->total, f)
            : c->total;
}

static inline uint8_t score_of(const rfm_cuts *c, int64_t key)
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

/*
 * Counts each customer's distinct purchase days into its slot, and keeps
 * only the distinct pairs.
 */
static crm_status count_days(crm_rfm *rfm)
{
    uint64_t *words;
    size_t i, out = 0, slots = crm_i64map_slot_count(&rfm->map);

    if (rfm->frequency_mode != CRM_RFM_FREQUENCY_DAYS)
        return CRM_OK;
    words = crm_mem_alloc_array(rfm->ctx, rfm->pairs_len ? rfm->pairs_len : 1,
                                sizeof *words);
    if (!words)
        return crm_error_nomem(rfm->ctx);
    pair_words(rfm, words);
    if (crm_radix_sort_i64(rfm->ctx, (int64_t *)words, NULL,
                           rfm->pairs_len) != 0) {
        crm_mem_free(rfm->ctx, words);
        return crm_error_nomem(rfm->ctx);
    }
    for (i = 0; i < slots; i++)
        ((rfm_slot *)crm_i64map_slot(&rfm->map, i))->day_count = 0;
    for (i = 0; i < rfm->pairs_len; i++) {
        rfm_slot *c;
        if (i > 0 && words[i - 1] == words[i])
            continue;
        c = crm_i64map_slot(&rfm->map, (size_t)(words[i] >> 32));
        c->day_count++;
        if (c->day_count > rfm->bounds.max_day_count)
            rfm->bounds.max_day_count = c->day_count;
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
 * most RFM_HIST_BUCKETS buckets over the range the value bounds allow)
 * tells which bucket holds each needed order statistic. When a bucket is a
 * single value (days, counts) that is the cut. Otherwise the scoring pass
 * scores every key outside the target buckets from its bucket alone and
 * sets aside the few inside them, which are sorted to read the cuts and
 * scored last. Keys equal to INT64_MIN (no purchase) sit below all others.
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
    int64_t lo, hi;  /* bounds of the keys other than INT64_MIN */
    unsigned shift;  /* bucket = (key - lo) >> shift */
    uint64_t bottom; /* keys equal to INT64_MIN */
    size_t nbuckets;
    uint32_t *count;
    unsigned ncut;
    rfm_target target[CRM_RFM_MAX_BINS - 1];
    uint8_t *score;         /* per bucket: its keys' score, 0 = set aside */
    int64_t *pending;       /* keys in target buckets (when shift > 0) */
    uint32_t *pending_slot; /* and their customers' slot indexes */
    size_t npending;
} rfm_select;

static inline size_t bucket_of(const rfm_select *s, int64_t key)
{
    return (size_t)(((uint64_t)key - (uint64_t)s->lo) >> s->shift);
}

static int is_target(const rfm_select *s, size_t bucket)
{
    unsigned k;

    for (k = 0; k < s->ncut; k++)
        if (!s->target[k].bottom && s->target[k].bucket == bucket)
            return 1;
    return 0;
}

/* The key ranges the bounds allow, per dimension. */
static void bound_ranges(const crm_rfm *rfm, rfm_select sel[3])
{
    const rfm_bounds *b = &rfm->bounds;
    rfm_select *r = &sel[CRM_RFM_RECENCY], *f = &sel[CRM_RFM_FREQUENCY];
    rfm_select *m = &sel[CRM_RFM_MONETARY];

    r->lo = r->hi = 0;
    if (b->min_day <= b->max_day) {
        r->lo = (int64_t)b->min_day - (int64_t)rfm->as_of_day;
        r->hi = (int64_t)b->max_day - (int64_t)rfm->as_of_day;
    }
    f->lo = 0;
    f->hi = (int64_t)b->max_count + b->max_day_count;
    m->lo = b->min_total;
    m->hi = b->max_total;
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

/* Adds a key of an active dimension to its histogram. */
static inline void count_key(rfm_select *s, int64_t key)
{
    if (key == INT64_MIN)
        s->bottom++;
    else
        s->count[bucket_of(s, key)]++;
}

/* Adds customer c's keys to the histograms of the active dimensions. */
static inline void count_customer(const crm_rfm *rfm, const rfm_slot *c,
                                  rfm_select *r, rfm_select *f,
                                  rfm_select *m)
{
    int64_t key[3];

    customer_keys(rfm, c, key);
    if (r->active)
        count_key(r, key[CRM_RFM_RECENCY]);
    if (f->active)
        count_key(f, key[CRM_RFM_FREQUENCY]);
    if (m->active)
        count_key(m, key[CRM_RFM_MONETARY]);
}

/*
 * One read of the table in slot order: the histograms of the active
 * dimensions. Scoring is bound by instructions, not memory, so the scans
 * are plain loops with nothing called per customer, working on local
 * copies of the selection state that the counts' stores cannot alias.
 * The spare slot (customer id 0) comes last, outside the loop.
 */
static void scan_histograms(const crm_rfm *rfm, rfm_select sel[3])
{
    rfm_select r = sel[0], f = sel[1], m = sel[2];
    const rfm_slot *slots = (const rfm_slot *)rfm->map.slots;
    size_t i, capacity = rfm->map.capacity;

    for (i = 0; i < capacity; i++)
        if (slots[i].id != CRM_I64MAP_EMPTY_KEY)
            count_customer(rfm, &slots[i], &r, &f, &m);
    if (capacity > 0 && rfm->map.spare_used)
        count_customer(rfm, &slots[capacity], &r, &f, &m);
    sel[0] = r;
    sel[1] = f;
    sel[2] = m;
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

/* Room for the keys of the target buckets, set aside while scoring. */
static crm_status pending_alloc(const crm_rfm *rfm, rfm_select *s)
{
    size_t total = 0, b;

    for (b = 0; b < s->nbuckets; b++)
        if (is_target(s, b))
            total += s->count[b];
    s->npending = 0;
    s->pending = crm_mem_alloc_array(rfm->ctx, total ? total : 1,
                                     sizeof *s->pending);
    s->pending_slot = crm_mem_alloc_array(rfm->ctx, total ? total : 1,
                                          sizeof *s->pending_slot);
    if (!s->pending || !s->pending_slot)
        return crm_error_nomem(rfm->ctx);
    return CRM_OK;
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
 * The score of every bucket's keys: exact when the cuts are (shift 0);
 * otherwise cut k is below a key exactly when its bucket is, except in
 * the target buckets, whose keys are set aside (score 0 here).
 */
static crm_status bucket_scores(const crm_rfm *rfm, rfm_select *s,
                                const rfm_cuts *c)
{
    size_t b;
    unsigned k;

    s->score = crm_mem_alloc(rfm->ctx, s->nbuckets);
    if (!s->score)
        return crm_error_nomem(rfm->ctx);
    for (b = 0; b < s->nbuckets; b++) {
        unsigned score = 1;
        if (s->shift == 0) {
            s->score[b] = score_of(c, s->lo + (int64_t)b);
            continue;
        }
        for (k = 0; k < s->ncut; k++)
            score += s->target[k].bottom || b > s->target[k].bucket;
        s->score[b] = is_target(s, b) ? 0 : (uint8_t)score;
    }
    return CRM_OK;
}

/* Histograms, targets, exact cuts, bucket scores and room for the
 * pending keys. */
static crm_status select_prepare(const crm_rfm *rfm, rfm_select sel[3],
                                 rfm_cuts cuts[3])
{
    crm_status status = CRM_OK;
    unsigned d;

    bound_ranges(rfm, sel);
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
        status = bucket_scores(rfm, &sel[d], &cuts[d]);
        if (status == CRM_OK && sel[d].shift > 0)
            status = pending_alloc(rfm, &sel[d]);
    }
    return status;
}

/* The score of a key of an active dimension, or 0 after setting it aside. */
static inline uint8_t selected_score(rfm_select *s, int64_t key, size_t slot)
{
    uint8_t score;

    if (key == INT64_MIN)
        return 1;
    score = s->score[bucket_of(s, key)];
    if (score == 0) {
        s->pending[s->npending] = key;
        s->pending_slot[s->npending++] = (uint32_t)slot;
    }
    return score;
}

/* The score of a key of dimension s (active or not) for the customer in
 * slot i. */
static inline uint8_t dimension_score(rfm_select *s, const rfm_cuts *c,
                                      int64_t key, size_t i)
{
    return s->active ? selected_score(s, key, i) : score_of(c, key);
}

/* Writes the scores of the customer in slot i, except those set aside. */
static inline void score_customer(const crm_rfm *rfm, rfm_slot *c, size_t i,
                                  rfm_select *r, rfm_select *f, rfm_select *m,
                                  const rfm_cuts cuts[3])
{
    int64_t key[3];

    customer_keys(rfm, c, key);
    c->score[CRM_RFM_RECENCY] =
        dimension_score(r, &cuts[0], key[CRM_RFM_RECENCY], i);
    c->score[CRM_RFM_FREQUENCY] =
        dimension_score(f, &cuts[1], key[CRM_RFM_FREQUENCY], i);
    c->score[CRM_RFM_MONETARY] =
        dimension_score(m, &cuts[2], key[CRM_RFM_MONETARY], i);
}

/* One read of the table: every score, except those set aside (local
 * copies as in scan_histograms: the score bytes' stores alias anything). */
static void scan_scores(crm_rfm *rfm, rfm_select sel[3],
                        const rfm_cuts cuts[3])
{
    rfm_select r = sel[0], f = sel[1], m = sel[2];
    const rfm_cuts local[3] = {cuts[0], cuts[1], cuts[2]};
    rfm_slot *slots = (rfm_slot *)rfm->map.slots;
    size_t i, capacity = rfm->map.capacity;

    for (i = 0; i < capacity; i++)
        if (slots[i].id != CRM_I64MAP_EMPTY_KEY)
            score_customer(rfm, &slots[i], i, &r, &f, &m, local);
    if (capacity > 0 && rfm->map.spare_used)
        score_customer(rfm, &slots[capacity], capacity, &r, &f, &m, local);
    sel[0] = r;
    sel[1] = f;
    sel[2] = m;
}

/* Sorts a dimension's pending keys, reads its cuts, scores them. */
static crm_status score_pending(crm_rfm *rfm, rfm_select *s, rfm_cuts *c,
                                crm_rfm_dimension dim)
{
    size_t i;
    unsigned k;

    if (crm_radix_sort_i64(rfm->ctx, s->pending, s->pending_slot,
                           s->npending) != 0)
        return crm_error_nomem(rfm->ctx);
    for (k = 0; k < c->ncut; k++) {
        size_t first = 0, b;
        if (s->target[k].bottom)
            continue;
        for (b = 0; b < s->target[k].bucket; b++)
            if (is_target(s, b))
                first += s->count[b];
        c->cut[k] = s->pending[first + s->target[k].rank - 1];
    }
    for (i = 0; i < s->npending; i++) {
        rfm_slot *slot = crm_i64map_slot(&rfm->map, s->pending_slot[i]);
        slot->score[dim] = score_of(c, s->pending[i]);
    }
    return CRM_OK;
}

/* Cuts of every dimension and the scores written into the slots. */
static crm_status score_all(crm_rfm *rfm, rfm_select sel[3], rfm_cuts cuts[3])
{
    crm_status status = CRM_OK;
    unsigned d;

    for (d = 0; d < 3; d++) {
        crm_rfm_dimension dim = (crm_rfm_dimension)d;
        cuts[d].ncut = rfm->bins - 1;
        if (rfm->dims[d].use_thresholds) {
            threshold_cuts(rfm, dim, &cuts[d]);
            continue;
        }
        cuts[d].strict = 1;
        sel[d].active = rfm->map.count > 0;
        sel[d].ncut = cuts[d].ncut;
    }
    if (sel[0].active || sel[1].active || sel[2].active)
        status = select_prepare(rfm, sel, cuts);
    if (status != CRM_OK)
        return status;
    scan_scores(rfm, sel, cuts);
    for (d = 0; d < 3 && status == CRM_OK; d++)
        if (sel[d].pending)
            status = score_pending(rfm, &sel[d], &cuts[d],
                                   (crm_rfm_dimension)d);
    return status;
}

/*
 * Scores every customer. Scores already fresh are kept as they are; a
 * failure leaves the handle without fresh scores, as it was.
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
        status = score_all(rfm, sel, cuts);
    for (d = 0; d < 3; d++) {
        crm_mem_free(rfm->ctx, sel[d].count);
        crm_mem_free(rfm->ctx, sel[d].score);
        crm_mem_free(rfm->ctx, sel[d].pending);
        crm_mem_free(rfm->ctx, sel[d].pending_slot);
    }
    if (status == CRM_OK)
        rfm->scored = 1;
    return status;
}
