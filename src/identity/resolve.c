/*
 * Batch resolution: every link replayed in canonical order (by at, then
 * source_id, then kind priority), again until no new value becomes shared.
 * With an event callback into a fresh state, swapped in only after every
 * event was accepted; without one in place. After the first pass only the
 * parts of the graph that a newly shared value touches are replayed.
 */
#define _DEFAULT_SOURCE 1 /* madvise, see core/memhint.h */
#include <string.h>

#include "core/mem.h"
#include "core/memhint.h"
#include "core/radix.h"
#include "identity/identity_internal.h"

/* How many observations ahead the gathers load a column entry, and then
 * an observation's identifiers (from its loaded istart). */
#define GATHER_COLUMNS_AHEAD 16
#define GATHER_IDENTS_AHEAD 8

/* out[i] = col[order[i]] for i < n. */
static void gather_i64(const int64_t *col, const uint32_t *order, size_t n,
                       int64_t *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i + GATHER_COLUMNS_AHEAD < n)
            crm_prefetch(&col[order[i + GATHER_COLUMNS_AHEAD]]);
        out[i] = col[order[i]];
    }
}

/* Runs of equal times at most this long are put in source_id order by
 * insertion, longer ones by a radix sort. */
#define TIES_INSERTION_MAX 16

/* Puts out[0..n), observations of one time, in source_id order, with
 * keys[0..n) as scratch. */
static int sort_ties(crm_identity *idn, uint32_t *out, size_t n,
                     int64_t *keys)
{
    const int64_t *src = idn->obs.src;
    size_t i, j;

    if (n > TIES_INSERTION_MAX) {
        gather_i64(src, out, n, keys);
        return crm_radix_sort_i64(idn->ctx, keys, out, n);
    }
    for (i = 1; i < n; i++) {
        uint32_t o = out[i];
        for (j = i; j > 0 && src[out[j - 1]] > src[o]; j--)
            out[j] = out[j - 1];
        out[j] = o;
    }
    return 0;
}

/* Sorts out[0..n) by at, then source_id, with keys[0..n) as scratch: by
 * time, then each run of equal times (few, and short, mostly) by
 * source_id, which spares a second sort of everything. */
static int sort_by_time(crm_identity *idn, uint32_t *out, size_t n,
                        int64_t *keys)
{
    size_t i, j;

    gather_i64(idn->obs.at, out, n, keys);
    if (crm_radix_sort_i64(idn->ctx, keys, out, n) != 0)
        return -1;
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && keys[j] == keys[i]; j++)
            continue;
        if (j - i > 1 && sort_ties(idn, out + i, j - i, keys + i) != 0)
            return -1;
    }
    return 0;
}

/* The live observations are first spread over this many buckets by the
 * top bits of their time, then sorted a run of buckets at a time: the
 * keys and the sort's scratch (20 bytes an observation) then cover a run
 * of at most a sixteenth of them (or ORDER_RUN_MIN), not all of them at
 * the peak of resolve. */
#define ORDER_BUCKETS 4096
#define ORDER_RUN_MIN ((size_t)1 << 16)

/* The earliest time of a live observation into *min, and the shift that
 * brings every live time's offset from it below ORDER_BUCKETS. */
static unsigned time_shift(const crm_identity *idn, int64_t *min)
{
    const idn_obs_table *obs = &idn->obs;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    unsigned shift = 0;
    size_t i;

    for (i = 0; i < obs->nobs; i++) {
        if (obs->dead[i])
            continue;
        lo = obs->at[i] < lo ? obs->at[i] : lo;
        hi = obs->at[i] > hi ? obs->at[i] : hi;
    }
    while ((((uint64_t)hi - (uint64_t)lo) >> shift) >= ORDER_BUCKETS)
        shift++;
    *min = lo;
    return shift;
}

static size_t time_bucket(int64_t at, int64_t min, unsigned shift)
{
    return (size_t)(((uint64_t)at - (uint64_t)min) >> shift);
}

/* Writes the live observations to out, bucket by bucket of their time
 * (in index order within one); start[b] is where bucket b begins
 * (ORDER_BUCKETS + 1 entries), cursor is scratch of as many. */
static void spread_by_time(const crm_identity *idn, uint32_t *out,
                           size_t *start, size_t *cursor)
{
    const idn_obs_table *obs = &idn->obs;
    int64_t min;
    unsigned shift = time_shift(idn, &min);
    size_t i, b;

    memset(start, 0, (ORDER_BUCKETS + 1) * sizeof *start);
    for (i = 0; i < obs->nobs; i++)
        if (!obs->dead[i])
            start[time_bucket(obs->at[i], min, shift) + 1]++;
    for (b = 1; b <= ORDER_BUCKETS; b++)
        start[b] += start[b - 1];
    memcpy(cursor, start, (ORDER_BUCKETS + 1) * sizeof *start);
    for (i = 0; i < obs->nobs; i++)
        if (!obs->dead[i])
            out[cursor[time_bucket(obs->at[i], min, shift)]++] = (uint32_t)i;
}

/* The end of the run of buckets from lo: at least one bucket, at most
 * limit observations otherwise. */
static size_t run_end(const size_t *start, size_t lo, size_t limit)
{
    size_t hi = lo + 1;

    while (hi < ORDER_BUCKETS && start[hi + 1] - start[lo] <= limit)
        hi++;
    return hi;
}

/* Every live observation (n of them) in canonical order into out. */
static int live_canonical_order(crm_identity *idn, size_t n, uint32_t *out)
{
    size_t *start = crm_mem_alloc_array(idn->ctx, 2 * (ORDER_BUCKETS + 1),
                                        sizeof *start);
    size_t limit = n / 16 > ORDER_RUN_MIN ? n / 16 : ORDER_RUN_MIN;
    size_t lo, hi, biggest = 0;
    int64_t *keys = NULL;
    int r = -1;

    if (start == NULL)
        return -1;
    spread_by_time(idn, out, start, start + ORDER_BUCKETS + 1);
    for (lo = 0; lo < ORDER_BUCKETS; lo = hi) {
        hi = run_end(start, lo, limit);
        biggest = start[hi] - start[lo] > biggest ? start[hi] - start[lo]
                                                  : biggest;
    }
    keys = crm_mem_alloc_array(idn->ctx, biggest ? biggest : 1, sizeof *keys);
    for (lo = 0, r = keys ? 0 : -1; r == 0 && lo < ORDER_BUCKETS; lo = hi) {
        hi = run_end(start, lo, limit);
        if (start[hi] - start[lo] > 1)
            r = sort_by_time(idn, out + start[lo], start[hi] - start[lo],
                             keys);
    }
    crm_mem_free(idn->ctx, keys);
    crm_mem_free(idn->ctx, start);
    return r;
}

int idn_canonical_order(crm_identity *idn, const uint32_t *in, size_t n,
                        uint32_t *out)
{
    int64_t *keys;
    int r;

    if (in == NULL)
        return n > 0 ? live_canonical_order(idn, n, out) : 0;
    keys = crm_mem_alloc_array(idn->ctx, n ? n : 1, sizeof *keys);
    if (keys == NULL)
        return -1;
    memmove(out, in, n * sizeof *out);
    r = sort_by_time(idn, out, n, keys);
    crm_mem_free(idn->ctx, keys);
    return r;
}

static int state_alloc(crm_identity *idn, idn_state *st)
{
    crm_ctx *ctx = idn->ctx;
    size_t no = idn->obs.obs_cap ? idn->obs.obs_cap : 1;
    size_t nv = idn->vals_cap ? idn->vals_cap : 1;
    size_t ni = idn->obs.idents_cap ? idn->obs.idents_cap : 1;

    memset(st, 0, sizeof *st);
    st->node = crm_mem_alloc_array(ctx, no, sizeof *st->node);
    st->free_block = IDN_NONE;
    st->vs = crm_mem_calloc(ctx, nv, sizeof *st->vs);
    st->track_head = crm_mem_alloc_array(ctx, nv, 4);
    st->istate = crm_mem_alloc_array(ctx, ni, 1);
    if (st->node && st->vs && st->track_head && st->istate)
        return 0;
    idn_state_free(idn, st);
    return -1;
}

/* Value v attached nowhere; of its dynamic flags only SHARED survives. */
static void reset_value(const crm_identity *idn, idn_state *st, size_t v)
{
    st->vs[v].anchor = IDN_NONE;
    st->track_head[v] = IDN_NONE;
    st->vs[v].flags = (st->vs[v].flags & IDN_F_SHARED) |
                      idn_vslot_meta(&idn->vals[v]);
}

/* Every observation alone, nothing attached; only SHARED flags survive. */
static void state_reset(crm_identity *idn, idn_state *st)
{
    size_t i;

    for (i = 0; i < idn->obs.nobs; i++) {
        st->node[i].parent = (uint32_t)i;
        st->node[i].block = IDN_NONE;
        st->node[i].next = (uint32_t)i;
    }
    st->nblocks = 0;
    st->free_block = IDN_NONE;
    for (i = 0; i < idn->nvals; i++)
        reset_value(idn, st, i);
    if (idn->obs.nidents > 0) /* istate is NULL when none was ever added */
        memset(st->istate, IDN_L_NONE, idn->obs.nidents);
    st->npool = 0;
}

/* Observation o alone, and the values it holds attached nowhere. */
static void reset_observation(idn_run *run, uint32_t o)
{
    crm_identity *idn = run->idn;
    idn_state *st = run->st;
    uint32_t k;

    st->node[o].parent = o;
    st->node[o].next = o;
    idn_release_counters(run, o);
    for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++) {
        st->istate[k] = IDN_L_NONE;
        if (idn->obs.ival[k] != IDN_NONE)
            reset_value(idn, st, idn->obs.ival[k]);
    }
}

/* How many observations ahead replay prefetches value slots, then the
 * stages of prefetch_profiles (each reading what the one before loaded). */
#define REPLAY_SLOTS_AHEAD 16
#define REPLAY_ANCHORS_AHEAD 8
#define REPLAY_OWNERS_AHEAD 4
#define REPLAY_COUNTERS_AHEAD 2

static void prefetch_slots(const idn_run *run, uint32_t o)
{
    const crm_identity *idn = run->idn;
    uint32_t i;

    for (i = idn->obs.istart[o]; i < idn->obs.istart[o + 1]; i++)
        if (idn->obs.ival[i] != IDN_NONE)
            crm_prefetch(&run->st->vs[idn->obs.ival[i]]);
}

/* What replay loads of the profiles an observation links to, a few
 * observations ahead of linking it: the anchors' union-find entries, then
 * (read from these) their parents', which are mostly the roots, with their
 * counter block index and member link, then (read from these) the counter
 * blocks, which a merge reads first. */
enum replay_stage { STAGE_ANCHORS, STAGE_OWNERS, STAGE_COUNTERS };

static void prefetch_profiles(const idn_run *run, uint32_t o,
                              enum replay_stage stage)
{
    const crm_identity *idn = run->idn;
    const idn_state *st = run->st;
    uint32_t i, anchor, block;

    for (i = idn->obs.istart[o]; i < idn->obs.istart[o + 1]; i++) {
        if (idn->obs.ival[i] == IDN_NONE)
            continue;
        anchor = st->vs[idn->obs.ival[i]].anchor;
        if (anchor == IDN_NONE)
            continue;
        if (stage == STAGE_ANCHORS) {
            crm_prefetch(&st->node[anchor]);
            continue;
        }
        if (stage == STAGE_OWNERS) {
            crm_prefetch(&st->node[st->node[anchor].parent]);
            continue;
        }
        block = st->node[st->node[anchor].parent].block;
        if (block != IDN_NONE)
            crm_prefetch(st->cnt + (size_t)block * idn->ncnt);
    }
}

/* Replays observations 0 .. n-1, which are in canonical order. Each link
 * reads a random value slot, a random parent and the counters of its
 * root: they are prefetched a few observations ahead. */
static void replay(idn_run *run, size_t n)
{
    size_t i;

    for (i = 0; i < n && !run->stopped; i++) {
        if (i + REPLAY_SLOTS_AHEAD < n)
            prefetch_slots(run, (uint32_t)(i + REPLAY_SLOTS_AHEAD));
        if (i + REPLAY_ANCHORS_AHEAD < n)
            prefetch_profiles(run, (uint32_t)(i + REPLAY_ANCHORS_AHEAD),
                              STAGE_ANCHORS);
        if (i + REPLAY_OWNERS_AHEAD < n)
            prefetch_profiles(run, (uint32_t)(i + REPLAY_OWNERS_AHEAD),
                              STAGE_OWNERS);
        if (i + REPLAY_COUNTERS_AHEAD < n)
            prefetch_profiles(run, (uint32_t)(i + REPLAY_COUNTERS_AHEAD),
                              STAGE_COUNTERS);
        idn_link_observation(run, (uint32_t)i);
    }
}

static void emit_shared(idn_run *run)
{
    size_t v;

    for (v = 0; v < run->idn->nvals && !run->stopped; v++)
        if (run->st->vs[v].flags & IDN_F_SHARED)
            idn_emit(run, CRM_IDENTITY_SHARED, 0, 0, 0, (uint32_t)v);
}

/*
 * Components of the value graph: observations joined by every value that
 * can link (all but blocked values and placeholders), whatever the rules
 * say. Replaying one component never reads or writes another's state, so
 * after a pass only the components holding a value that the pass newly
 * found shared need replaying: any other would come out the same again.
 */
typedef struct idn_components {
    uint32_t *root;      /* per observation: its component's root */
    uint32_t *holder;    /* per value: an observation holding it, or IDN_NONE */
    uint8_t *was_shared; /* per value: shared when the last pass started */
    uint8_t *dirty;      /* per component root: replay it */
} idn_components;

/* Bytes of the components of the current table (see components_carve). */
static size_t components_bytes(const crm_identity *idn)
{
    return idn->obs.nobs * 5 + idn->nvals * 5;
}

/* Lays the components out in block (components_bytes, 4-byte aligned). */
static void components_carve(const crm_identity *idn, void *block,
                             idn_components *cc)
{
    size_t n = idn->obs.nobs, nv = idn->nvals;

    cc->root = block;
    cc->holder = cc->root + n;
    cc->was_shared = (uint8_t *)(cc->holder + nv);
    cc->dirty = cc->was_shared + nv;
}

static uint32_t component_of(uint32_t *root, uint32_t o)
{
    while (root[o] != o) {
        root[o] = root[root[o]];
        o = root[o];
    }
    return o;
}

/* An observation holding v, known after components_build. */
static uint32_t holder_of(const idn_state *st, const idn_components *cc,
                          uint32_t v)
{
    return st->vs[v].anchor != IDN_NONE ? st->vs[v].anchor : cc->holder[v];
}

/* How many observations ahead components_build loads the parent of an
 * observation's parent (random, while the parents are read in order). */
#define COMPONENTS_AHEAD 16

/*
 * The components, from the state of a full pass: its profiles, joined
 * through every identifier that did not link into its own profile (a
 * linked one's value is attached there already).
 */
static void components_build(const crm_identity *idn, const idn_state *st,
                             idn_components *cc)
{
    const idn_obs_table *obs = &idn->obs;
    size_t o, v;
    uint32_t k;

    memset(cc->holder, 0xff, idn->nvals * sizeof *cc->holder);
    memset(cc->was_shared, 0, idn->nvals);
    for (o = 0; o < obs->nobs; o++) {
        if (o + COMPONENTS_AHEAD < obs->nobs)
            crm_prefetch(&st->node[st->node[o + COMPONENTS_AHEAD].parent]);
        cc->root[o] = idn_find_const(st, (uint32_t)o);
    }
    for (o = 0; o < obs->nobs; o++) {
        for (k = obs->istart[o]; k < obs->istart[o + 1]; k++) {
            uint8_t state = st->istate[k];
            uint32_t a, b;
            v = obs->ival[k];
            if (v == IDN_NONE || state == IDN_L_LINKED ||
                state == IDN_L_HELD || state == IDN_L_BLOCKED)
                continue;
            if (holder_of(st, cc, (uint32_t)v) == IDN_NONE) {
                cc->holder[v] = (uint32_t)o;
                continue;
            }
            a = component_of(cc->root, (uint32_t)o);
            b = component_of(cc->root, holder_of(st, cc, (uint32_t)v));
            cc->root[a > b ? a : b] = a > b ? b : a;
        }
    }
    for (o = 0; o < obs->nobs; o++) {
        if (o + COMPONENTS_AHEAD < obs->nobs)
            crm_prefetch(&cc->root[cc->root[o + COMPONENTS_AHEAD]]);
        cc->root[o] = component_of(cc->root, (uint32_t)o);
    }
}

/* dirty[] bits: on a component's root, replay the component; on every
 * observation of such a component, replay it. */
#define IDN_DIRTY_ROOT 1u
#define IDN_DIRTY_OBS 2u

/* Marks the components of the values shared since the last pass started,
 * then their observations; returns how many observations that is. */
static size_t mark_dirty(const crm_identity *idn, const idn_state *st,
                         idn_components *cc)
{
    size_t v, o, marked = 0;

    memset(cc->dirty, 0, idn->obs.nobs);
    for (v = 0; v < idn->nvals; v++) {
        if (!(st->vs[v].flags & IDN_F_SHARED) || cc->was_shared[v])
            continue;
        cc->was_shared[v] = 1;
        o = holder_of(st, cc, (uint32_t)v);
        if (o != IDN_NONE)
            cc->dirty[cc->root[o]] = IDN_DIRTY_ROOT;
    }
    for (o = 0; o < idn->obs.nobs; o++) {
        if (cc->dirty[cc->root[o]] & IDN_DIRTY_ROOT) {
            cc->dirty[o] |= IDN_DIRTY_OBS;
            marked++;
        }
    }
    return marked;
}

/* The first dirty observation at or after o (n when none). */
static size_t next_dirty(const idn_components *cc, size_t o, size_t n)
{
    while (o < n && !(cc->dirty[o] & IDN_DIRTY_OBS))
        o++;
    return o;
}

/* The dirty observation that comes distance dirty ones after the first
 * (n when none): where a cursor that far ahead starts. */
static size_t nth_dirty(const idn_components *cc, size_t distance, size_t n)
{
    size_t o = next_dirty(cc, 0, n), k;

    for (k = 0; k < distance && o < n; k++)
        o = next_dirty(cc, o + 1, n);
    return o;
}

/* The dirty observation at *cursor (n at the end); moves *cursor on. */
static size_t take_dirty(const idn_components *cc, size_t *cursor, size_t n)
{
    size_t o = *cursor;

    if (o < n)
        *cursor = next_dirty(cc, o + 1, n);
    return o;
}

/* An observation's own entries: its identifiers' start and its state. */
static void prefetch_observation(const idn_run *run, uint32_t o)
{
    const crm_identity *idn = run->idn;

    crm_prefetch(&idn->obs.istart[o]);
    crm_prefetch(&run->st->node[o]);
}

static void prefetch_identifiers(const idn_run *run, uint32_t o)
{
    const crm_identity *idn = run->idn;

    crm_prefetch(idn->obs.ival + idn->obs.istart[o]);
    crm_prefetch(run->st->istate + idn->obs.istart[o]);
}

/*
 * Resets, then links, the dirty observations in order. They lie scattered
 * over the table, so each one's own entries, then its identifiers, then
 * its value slots are loaded a few dirty observations ahead.
 */
static void relink_dirty(idn_run *run, const idn_components *cc)
{
    size_t o, own, ids, slots, cur, n = run->idn->obs.nobs;
    int phase;

    for (phase = 0; phase < 2; phase++) {
        own = nth_dirty(cc, REPLAY_SLOTS_AHEAD + 8, n);
        ids = nth_dirty(cc, REPLAY_SLOTS_AHEAD, n);
        slots = nth_dirty(cc, REPLAY_ANCHORS_AHEAD, n);
        cur = nth_dirty(cc, 0, n);
        while ((o = take_dirty(cc, &cur, n)) < n && !run->stopped) {
            size_t a = take_dirty(cc, &own, n), b = take_dirty(cc, &ids, n);
            size_t c = take_dirty(cc, &slots, n);
            if (a < n)
                prefetch_observation(run, (uint32_t)a);
            if (b < n)
                prefetch_identifiers(run, (uint32_t)b);
            if (c < n)
                prefetch_slots(run, (uint32_t)c);
            if (phase == 0)
                reset_observation(run, (uint32_t)o);
            else
                idn_link_observation(run, (uint32_t)o);
        }
    }
}

/*
 * Replays the dirty components (nobs observations). Replays everything
 * instead when they hold most observations, or when the refusal pool might
 * pass one entry per identifier (the most a full pass uses, which resolve
 * has room for): a partial pass leaves its components' old entries behind.
 */
static void replay_dirty(idn_run *run, const idn_components *cc, size_t nobs)
{
    crm_identity *idn = run->idn;
    size_t o, n = idn->obs.nobs, nids = 0;

    for (o = 0; o < n; o++)
        if (cc->dirty[o] & IDN_DIRTY_OBS)
            nids += idn->obs.istart[o + 1] - idn->obs.istart[o];
    if (nobs > n / 2 || run->st->npool + nids > idn->obs.nidents) {
        state_reset(idn, run->st);
        replay(run, n);
        return;
    }
    relink_dirty(run, cc);
}

/*
 * Replays until no new value becomes shared: a first pass over everything,
 * then over the components of the values found shared, using block
 * (components_bytes) for the components; then once more with events when
 * a callback listens.
 */
static crm_status replay_to_fixpoint(crm_identity *idn, idn_state *st,
                                     void *block)
{
    idn_components cc;
    idn_run run;
    size_t dirty;

    memset(&run, 0, sizeof run);
    run.idn = idn;
    run.st = st;
    run.ordered = 1;
    run.fresh = IDN_NONE;
    state_reset(idn, st);
    replay(&run, idn->obs.nobs);
    if (run.new_shared && !idn->undo_failed) {
        components_carve(idn, block, &cc);
        components_build(idn, st, &cc);
        while (!idn->undo_failed && (dirty = mark_dirty(idn, st, &cc)) > 0)
            replay_dirty(&run, &cc, dirty);
    }
    if (idn->undo_failed)
        return CRM_ENOMEM;
    if (idn->event_fn == NULL)
        return CRM_OK;
    run.events = 1;
    state_reset(idn, st);
    emit_shared(&run);
    replay(&run, idn->obs.nobs);
    if (idn->undo_failed)
        return CRM_ENOMEM;
    return run.stopped ? CRM_ECALLBACK : CRM_OK;
}

/* Reports every observation (now numbered canonically) whose profile id
 * differs from was[i]. */
static crm_status report_moves(crm_identity *idn, idn_state *st,
                               const int64_t *was)
{
    idn_run run;
    size_t i;

    if (was == NULL)
        return CRM_OK;
    memset(&run, 0, sizeof run);
    run.idn = idn;
    run.st = st;
    run.events = 1;
    for (i = 0; i < idn->obs.nobs && !run.stopped; i++) {
        int64_t now = idn->obs.src[idn_find(&run, (uint32_t)i)];
        if (was[i] != now)
            idn_emit(&run, CRM_IDENTITY_MOVED, was[i], idn->obs.src[i], now,
                     IDN_NONE);
    }
    return run.stopped ? CRM_ECALLBACK : CRM_OK;
}


static void table_free(crm_identity *idn, idn_obs_table *t)
{
    crm_mem_free(idn->ctx, t->src);
    crm_mem_free(idn->ctx, t->at);
    crm_mem_free(idn->ctx, t->istart);
    crm_mem_free(idn->ctx, t->ival);
    crm_mem_free(idn->ctx, t->dead);
}

/* The number of identifiers of live observations that are not forgotten
 * values (read in storage order, not in the new one). */
static size_t live_identifiers(const crm_identity *idn)
{
    size_t o, m = 0;
    uint32_t k;

    for (o = 0; o < idn->obs.nobs; o++)
        if (!idn->obs.dead[o])
            for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++)
                m += idn->obs.ival[k] != IDN_NONE;
    return m;
}

/* The identifiers of observations order[0..n), without forgotten values,
 * into ival, and where each observation's start into istart (n + 1
 * entries). Returns their number. */
static size_t gather_identifiers(const crm_identity *idn,
                                 const uint32_t *order, size_t n,
                                 uint32_t *ival, uint32_t *istart)
{
    const idn_obs_table *obs = &idn->obs;
    size_t i, m = 0;
    uint32_t k;

    istart[0] = 0;
    for (i = 0; i < n; i++) {
        uint32_t o = order[i];
        if (i + GATHER_COLUMNS_AHEAD < n)
            crm_prefetch(&obs->istart[order[i + GATHER_COLUMNS_AHEAD]]);
        if (i + GATHER_IDENTS_AHEAD < n)
            crm_prefetch(obs->ival + obs->istart[order[i + GATHER_IDENTS_AHEAD]]);
        for (k = obs->istart[o]; k < obs->istart[o + 1]; k++)
            if (obs->ival[k] != IDN_NONE)
                ival[m++] = obs->ival[k];
        istart[i + 1] = (uint32_t)m;
    }
    return m;
}

/* The live observations in the given order (every live one), without
 * forgotten values, as a new table. */
static int table_build(crm_identity *idn, const uint32_t *order, size_t n,
                       idn_obs_table *t)
{
    size_t m = live_identifiers(idn), cap = n < 8 ? 8 : n;

    memset(t, 0, sizeof *t);
    t->src = crm_mem_alloc_array(idn->ctx, cap, 8);
    t->at = crm_mem_alloc_array(idn->ctx, cap, 8);
    t->istart = crm_mem_alloc_array(idn->ctx, cap + 1, 4);
    t->dead = crm_mem_calloc(idn->ctx, cap, 1);
    t->ival = crm_mem_alloc_array(idn->ctx, m < 8 ? 8 : m, 4);
    if (!t->src || !t->at || !t->istart || !t->dead || !t->ival)
        return -1;
    gather_i64(idn->obs.src, order, n, t->src);
    gather_i64(idn->obs.at, order, n, t->at);
    t->nidents = gather_identifiers(idn, order, n, t->ival, t->istart);
    t->nobs = n;
    t->obs_cap = cap;
    t->idents_cap = m < 8 ? 8 : m;
    return 0;
}

/* Profile ids before resolve, in canonical order (only for events). */
static int64_t *profiles_before(crm_identity *idn, const uint32_t *order,
                                size_t n, int *failed)
{
    int64_t *was;
    size_t i;

    *failed = 0;
    if (idn->event_fn == NULL)
        return NULL;
    was = crm_mem_alloc_array(idn->ctx, n + 1, 8);
    if (was == NULL) {
        *failed = 1;
        return NULL;
    }
    for (i = 0; i < n; i++)
        was[i] = idn->obs.src[idn_find_const(&idn->st, order[i])];
    return was;
}

/* How many entries ahead remap_sources loads the new index it writes, and
 * then the one that a source map slot names. */
#define REMAP_AHEAD 16

/* Points the source map at the new numbering. */
static void remap_sources(crm_identity *idn, const uint32_t *order, size_t n,
                          uint32_t *newidx, size_t old_nobs)
{
    size_t i, slots = crm_i64map_slot_count(&idn->smap);

    for (i = 0; i < old_nobs; i++)
        newidx[i] = IDN_NONE;
    for (i = 0; i < n; i++) {
        if (i + REMAP_AHEAD < n)
            crm_prefetch(&newidx[order[i + REMAP_AHEAD]]);
        newidx[order[i]] = (uint32_t)i;
    }
    for (i = 0; i < slots; i++) {
        uint32_t *o;

        if (i + REMAP_AHEAD < slots && crm_i64map_used(&idn->smap, i + REMAP_AHEAD))
            crm_prefetch(&newidx[*crm_i64map_value_at(&idn->smap, i + REMAP_AHEAD)]);
        if (!crm_i64map_used(&idn->smap, i))
            continue;
        o = crm_i64map_value_at(&idn->smap, i);
        *o = newidx[*o];
    }
}

/* Replays the table t (installed in idn) into fresh; old is restored on
 * failure. */
static crm_status replay_table(crm_identity *idn, idn_obs_table *old,
                               idn_obs_table *t, const int64_t *was,
                               idn_state *fresh)
{
    crm_status s = CRM_ENOMEM;
    void *block;

    idn->obs = *t;
    block = crm_mem_alloc(idn->ctx, components_bytes(idn) + 8);
    if (block != NULL && state_alloc(idn, fresh) == 0) {
        s = replay_to_fixpoint(idn, fresh, block);
        if (s == CRM_OK)
            s = report_moves(idn, fresh, was);
        if (s != CRM_OK)
            idn_state_free(idn, fresh);
    }
    crm_mem_free(idn->ctx, block);
    idn->undo_failed = 0;
    if (s != CRM_OK) {
        idn->obs = *old;
        table_free(idn, t);
    }
    return s;
}

/*
 * Resolve when a callback listens: the new table and state are built
 * beside the live ones and swapped in only after every event was accepted.
 */
static crm_status resolve_beside(crm_identity *idn, const uint32_t *order,
                                 size_t n)
{
    idn_state fresh;
    idn_obs_table old = idn->obs, t;
    int64_t *was;
    int failed;
    crm_status s = CRM_ENOMEM;

    was = profiles_before(idn, order, n, &failed);
    memset(&t, 0, sizeof t);
    if (!failed && table_build(idn, order, n, &t) == 0)
        s = replay_table(idn, &old, &t, was, &fresh);
    else
        table_free(idn, &t);
    crm_mem_free(idn->ctx, was);
    if (s == CRM_OK) {
        /* the old istart (old.nobs + 1 entries) is scratch for the remap,
         * so committing allocates nothing */
        remap_sources(idn, order, n, old.istart, old.nobs);
        table_free(idn, &old);
        idn_state_free(idn, &idn->st);
        idn->st = fresh;
    }
    return s;
}

/* Forgets which values the live state found shared, so that a replay over
 * it starts from nothing, as over a fresh state. */
static void clear_shared(crm_identity *idn)
{
    size_t v;

    for (v = 0; v < idn->nvals; v++)
        idn->st.vs[v].flags &= ~IDN_F_SHARED;
}

/*
 * Resolve when no callback listens: nothing can refuse the result, so once
 * the scratch block, the new istart, the pool (one entry per
 * identifier at most) and the counter blocks (one per observation at
 * most) are allocated, nothing can fail. The columns are
 * then put in canonical order where they are, through the scratch block,
 * and the links replayed over the live state, with the scratch block
 * holding the components: no second table and state (about 700 MB at 10M
 * observations).
 */
static crm_status resolve_in_place(crm_identity *idn, const uint32_t *order,
                                   size_t n)
{
    idn_obs_table *obs = &idn->obs;
    size_t m = live_identifiers(idn), old_nobs = obs->nobs;
    size_t bytes = components_bytes(idn) + 8;
    void *scratch;
    uint32_t *istart;
    crm_status s;

    bytes = bytes > n * 8 ? bytes : n * 8;
    bytes = bytes > m * 4 ? bytes : m * 4;
    scratch = crm_mem_alloc(idn->ctx, bytes);
    if (scratch != NULL) /* the components are read at random */
        crm_advise_huge_pages(scratch, bytes);
    istart = crm_mem_alloc_array(idn->ctx, obs->obs_cap + 1, 4);
    if (!scratch || !istart || idn_grow_pool(idn, &idn->st, m) != 0 ||
        idn_grow_blocks(idn, &idn->st, n) != 0) {
        crm_mem_free(idn->ctx, scratch);
        crm_mem_free(idn->ctx, istart);
        return CRM_ENOMEM;
    }
    gather_identifiers(idn, order, n, scratch, istart);
    if (m > 0) /* ival is NULL when no identifier was ever added */
        memcpy(obs->ival, scratch, m * 4);
    gather_i64(obs->src, order, n, scratch);
    memcpy(obs->src, scratch, n * 8);
    gather_i64(obs->at, order, n, scratch);
    memcpy(obs->at, scratch, n * 8);
    memset(obs->dead, 0, n);
    /* the old istart (old_nobs + 1 entries) is scratch for the remap */
    remap_sources(idn, order, n, obs->istart, old_nobs);
    crm_mem_free(idn->ctx, obs->istart);
    obs->istart = istart;
    obs->nobs = n;
    obs->nidents = m;
    clear_shared(idn);
    s = replay_to_fixpoint(idn, &idn->st, scratch);
    crm_mem_free(idn->ctx, scratch);
    return s;
}

crm_status crm_identity_resolve(crm_identity *idn)
{
    uint32_t *order;
    size_t n;
    crm_status s = CRM_ENOMEM;

    if (idn == NULL)
        return CRM_EINVAL;
    if (idn->obs.nobs == 0)
        return CRM_OK;
    n = idn->nlive;
    order = crm_mem_alloc_array(idn->ctx, idn->obs.nobs + 1, 4);
    if (order != NULL && idn_canonical_order(idn, NULL, n, order) == 0)
        s = idn->event_fn == NULL ? resolve_in_place(idn, order, n)
                                  : resolve_beside(idn, order, n);
    crm_mem_free(idn->ctx, order);
    if (s == CRM_OK)
        idn_profiles_refresh(idn);
    if (s == CRM_ENOMEM)
        return crm_error_nomem(idn->ctx);
    if (s != CRM_OK)
        return crm_error(idn->ctx, s, "the event callback returned non-zero");
    return CRM_OK;
}
