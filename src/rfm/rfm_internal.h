/*
 * Internal layout of the rfm module, shared by its source files (ingest,
 * scoring, output, segment maps and the customer-value analytics).
 */
#ifndef CRM_RFM_INTERNAL_H
#define CRM_RFM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/civil.h"
#include "core/ctx.h"
#include "core/i64map.h"
#include "crm/rfm.h"

/* Valid times: 0001-01-01T00:00:00Z <= t < 10000-01-01T00:00:00Z. */
#define RFM_TIME_MIN INT64_C(-62135596800)
#define RFM_TIME_MAX INT64_C(253402300800)

/*
 * A customer: its hash slot, 16 bytes, so that the table of 2M customers
 * is half the size it would be with full-width fields, and more of it
 * stays in the caches while orders arrive at random. The slot holds a
 * customer's values while they are small: a net sum that fits int32 and
 * at most RFM_SMALL_COUNT_MAX purchases. A customer that outgrows it
 * (and, once scored in days mode, every customer with purchase days) has
 * its net sum and count moved into an rfm_big record, whose index the
 * slot then holds. Its scores are not stored: they follow from its values
 * and the handle's cuts.
 */
typedef struct rfm_slot {
    int64_t id;
    int32_t total; /* net sum; with RFM_BIG, the index of its rfm_big */
    uint32_t meta; /* last purchase day (RFM_DAY_MASK), count (small
                      slots), RFM_NEW, RFM_BIG */
} rfm_slot;

#define RFM_DAY_MASK UINT32_C(0x3fffff)   /* day index, 0 = no purchase */
#define RFM_COUNT_SHIFT 22                /* purchases, small slots only */
#define RFM_SMALL_COUNT_MAX UINT32_C(255) /* 8 bits */
#define RFM_NEW (UINT32_C(1) << 30)       /* created by the batch in progress */
#define RFM_BIG (UINT32_C(1) << 31)       /* values live in an rfm_big */

/* The values of a customer that outgrew its slot. */
typedef struct rfm_big {
    int64_t total;      /* net sum of amounts */
    uint32_t count;     /* purchases (orders mode) or aggregate purchase days */
    uint32_t day_count; /* days mode: distinct purchase days, when scored */
} rfm_big;

/*
 * How a dimension turns a customer's key (higher is better; see
 * rfm_keys) into a score: 1 + the number of cuts below the key.
 */
typedef struct rfm_cuts {
    int strict; /* a cut is below a key when key > cut, else key >= cut */
    unsigned ncut;
    int64_t cut[CRM_RFM_MAX_BINS - 1];
} rfm_cuts;

/* Score options of one dimension. */
typedef struct rfm_dim_opts {
    int use_thresholds;
    int64_t thresholds[CRM_RFM_MAX_BINS - 1];
} rfm_dim_opts;

/* A change to undo when a batch fails: a customer's old last purchase day. */
typedef struct rfm_undo {
    int64_t id;
    uint32_t last_day;
} rfm_undo;

struct crm_rfm {
    crm_ctx *ctx;

    /* Options fixing which orders count (frozen once data is added). */
    int as_of_set;
    int64_t as_of;
    int64_t window;    /* seconds, 0 = none */
    int64_t window_lo; /* first counted second */
    int64_t offset_sec;
    uint32_t as_of_day;
    crm_rfm_frequency_mode frequency_mode;

    /* Scoring options. */
    unsigned bins;
    crm_rfm_monetary_mode monetary_mode;
    rfm_dim_opts dims[3];

    /* Customers: rfm_slot records keyed by id. A customer's index is its
     * slot index (below crm_i64map_slot_count), map.count their number. */
    crm_i64map map;
    rfm_big *big; /* values of the customers that outgrew their slots */
    size_t big_len;
    size_t big_cap;

    /* Days mode: (id, day) per purchase, deduplicated when scored. */
    int64_t *pair_ids;
    uint32_t *pair_days;
    size_t pairs_len;
    size_t pairs_cap;

    /* Batch in progress: undo log of existing customers' last purchase
     * days, the ids it created, and the existing customers it moved into
     * an rfm_big (all kept only when the handle was not empty at the start
     * of the batch). */
    rfm_undo *journal;
    size_t journal_len;
    size_t journal_cap;
    int64_t *created;
    size_t created_len;
    size_t created_cap;
    int64_t *grown;
    size_t grown_len;
    size_t grown_cap;

    int scored;         /* cuts match the data and options */
    rfm_cuts cuts[3];   /* r, f, m, when scored */
};

/* The day index of valid time t at UTC offset offset_sec (>= 1). */
static inline uint32_t rfm_day_at(int64_t offset_sec, int64_t t)
{
    const int64_t base = INT64_C(-719164) * 86400; /* two days before year 1 */

    return (uint32_t)((uint64_t)(t + offset_sec - base) / 86400u);
}

/* The local day index of t (>= 1 for valid times). */
static inline uint32_t rfm_day_index(const crm_rfm *rfm, int64_t t)
{
    return rfm_day_at(rfm->offset_sec, t);
}

/* The customer at slot index idx. */
static inline const rfm_slot *rfm_customer(const crm_rfm *rfm, size_t idx)
{
    return crm_i64map_slot(&rfm->map, idx);
}

static inline uint32_t rfm_last_day(const rfm_slot *c)
{
    return c->meta & RFM_DAY_MASK;
}

/* The rfm_big record of customer c (c->meta has RFM_BIG). */
static inline rfm_big *rfm_big_of(const crm_rfm *rfm, const rfm_slot *c)
{
    return &rfm->big[(uint32_t)c->total];
}

static inline int64_t rfm_total(const crm_rfm *rfm, const rfm_slot *c)
{
    return c->meta & RFM_BIG ? rfm_big_of(rfm, c)->total : c->total;
}

/* Purchases added (orders, or aggregate purchase days). */
static inline uint32_t rfm_count(const crm_rfm *rfm, const rfm_slot *c)
{
    return c->meta & RFM_BIG ? rfm_big_of(rfm, c)->count
                             : c->meta >> RFM_COUNT_SHIFT & RFM_SMALL_COUNT_MAX;
}

/* The frequency: purchases added, plus distinct purchase days once
 * scored in days mode. */
static inline int64_t rfm_frequency(const crm_rfm *rfm, const rfm_slot *c)
{
    const rfm_big *b;

    if (!(c->meta & RFM_BIG))
        return c->meta >> RFM_COUNT_SHIFT & RFM_SMALL_COUNT_MAX;
    b = rfm_big_of(rfm, c);
    return (int64_t)b->count + b->day_count;
}

/*
 * The keys of customer c's three dimensions, higher is better: minus the
 * recency days (INT64_MIN without purchase), frequency, monetary.
 */
static inline void rfm_keys(const crm_rfm *rfm, const rfm_slot *c,
                            int64_t key[3])
{
    int64_t f = rfm_frequency(rfm, c), total = rfm_total(rfm, c);
    uint32_t last = rfm_last_day(c);

    key[CRM_RFM_RECENCY] =
        last ? (int64_t)last - (int64_t)rfm->as_of_day : INT64_MIN;
    key[CRM_RFM_FREQUENCY] = f;
    key[CRM_RFM_MONETARY] =
        rfm->monetary_mode == CRM_RFM_MONETARY_MEAN && f > 0
            ? crm_floor_div(total, f)
            : total;
}

/*
 * Makes room for `more` rfm_big records, so that crm_rfm__make_big cannot
 * fail. Returns CRM_OK or CRM_ENOMEM (recorded).
 */
crm_status crm_rfm__reserve_big(crm_rfm *rfm, size_t more);

/* Moves small slot c's net sum and count into a new rfm_big (room
 * reserved). */
void crm_rfm__make_big(crm_rfm *rfm, rfm_slot *c);

/* Per-customer values (by slot index) as the public API reports them. */
int64_t crm_rfm__recency_days(const crm_rfm *rfm, size_t idx);
int64_t crm_rfm__frequency(const crm_rfm *rfm, size_t idx);
int64_t crm_rfm__monetary(const crm_rfm *rfm, size_t idx);

/* The r, f, m scores of the customer at slot index idx (handle scored). */
void crm_rfm__scores(const crm_rfm *rfm, size_t idx, uint8_t score[3]);

/* Records CRM_ESTATE unless the handle holds fresh scores. */
crm_status crm_rfm__require_scores(const crm_rfm *rfm);

/*
 * Customer slot indexes in ascending id order: *ids_out and *idx_out are new
 * arrays of crm_rfm_customer_count() elements (free both). Returns CRM_OK
 * or CRM_ENOMEM (recorded).
 */
crm_status crm_rfm__sorted_order(const crm_rfm *rfm, int64_t **ids_out,
                                 uint32_t **idx_out);

#endif
