/*
 * Batch resolution: every link replayed in canonical order (by at, then
 * source_id, then kind priority) into a fresh state, swapped in only after
 * every event was accepted.
 */
#include <string.h>

#include "core/mem.h"
#include "core/memhint.h"
#include "core/radix.h"
#include "identity/identity_internal.h"

int idn_canonical_order(crm_identity *idn, const uint32_t *in, size_t n,
                        uint32_t *out)
{
    int64_t *keys = crm_mem_alloc_array(idn->ctx, n ? n : 1, sizeof *keys);
    size_t i, k = 0;
    int r = -1;

    if (keys == NULL)
        return -1;
    if (in != NULL)
        memcpy(out, in, n * sizeof *out);
    else
        for (i = 0; i < idn->obs.nobs; i++)
            if (!idn->obs.dead[i])
                out[k++] = (uint32_t)i;
    for (i = 0; i < n; i++)
        keys[i] = idn->obs.src[out[i]];
    if (crm_radix_sort_i64(idn->ctx, keys, out, n) == 0) {
        for (i = 0; i < n; i++)
            keys[i] = idn->obs.at[out[i]];
        r = crm_radix_sort_i64(idn->ctx, keys, out, n);
    }
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
    st->parent = crm_mem_alloc_array(ctx, no, 4);
    st->next = crm_mem_alloc_array(ctx, no, 4);
    st->cnt = crm_mem_alloc_array(ctx, no * idn->ncnt, 4);
    st->vs = crm_mem_calloc(ctx, nv, sizeof *st->vs);
    st->track_head = crm_mem_alloc_array(ctx, nv, 4);
    st->istate = crm_mem_alloc_array(ctx, ni, 1);
    if (st->parent && st->next && st->cnt && st->vs &&
        st->track_head && st->istate)
        return 0;
    idn_state_free(idn, st);
    return -1;
}

/* Every observation alone, nothing attached; only SHARED flags survive. */
static void state_reset(crm_identity *idn, idn_state *st)
{
    size_t i;

    for (i = 0; i < idn->obs.nobs; i++) {
        st->parent[i] = (uint32_t)i;
        st->next[i] = (uint32_t)i;
    }
    memset(st->cnt, 0, idn->obs.nobs * idn->ncnt * 4);
    for (i = 0; i < idn->nvals; i++) {
        st->vs[i].anchor = IDN_NONE;
        st->track_head[i] = IDN_NONE;
        st->vs[i].flags = (st->vs[i].flags & IDN_F_SHARED) |
                          idn_vslot_meta(&idn->vals[i]);
    }
    memset(st->istate, IDN_L_NONE, idn->obs.nidents);
    st->npool = 0;
}

/* How many observations ahead replay prefetches value slots, then the
 * union-find entries of their anchors (read from the prefetched slots),
 * then the counters and member links of the anchors' parents. */
#define REPLAY_SLOTS_AHEAD 16
#define REPLAY_ANCHORS_AHEAD 8
#define REPLAY_OWNERS_AHEAD 4

static void prefetch_slots(const idn_run *run, uint32_t o)
{
    const crm_identity *idn = run->idn;
    uint32_t i;

    for (i = idn->obs.istart[o]; i < idn->obs.istart[o + 1]; i++)
        if (idn->obs.ival[i] != IDN_NONE)
            crm_prefetch(&run->st->vs[idn->obs.ival[i]]);
}

static void prefetch_anchors(const idn_run *run, uint32_t o)
{
    const crm_identity *idn = run->idn;
    uint32_t i, anchor;

    for (i = idn->obs.istart[o]; i < idn->obs.istart[o + 1]; i++) {
        if (idn->obs.ival[i] == IDN_NONE)
            continue;
        anchor = run->st->vs[idn->obs.ival[i]].anchor;
        if (anchor != IDN_NONE)
            crm_prefetch(&run->st->parent[anchor]);
    }
}

/* The parent of an anchor is mostly the root of the profile it links to,
 * whose counters and member link a merge reads. */
static void prefetch_owners(const idn_run *run, uint32_t o)
{
    const crm_identity *idn = run->idn;
    const idn_state *st = run->st;
    uint32_t i, anchor, owner;

    for (i = idn->obs.istart[o]; i < idn->obs.istart[o + 1]; i++) {
        if (idn->obs.ival[i] == IDN_NONE)
            continue;
        anchor = st->vs[idn->obs.ival[i]].anchor;
        if (anchor == IDN_NONE)
            continue;
        owner = st->parent[anchor];
        crm_prefetch(&st->cnt[(size_t)owner * idn->ncnt]);
        crm_prefetch(&st->next[owner]);
        crm_prefetch(&st->parent[owner]);
    }
}

/* Replays observations 0 .. n-1, which are in canonical order. Each link
 * reads a random value slot and a random parent: both are prefetched a few
 * observations ahead. */
static void replay(idn_run *run, size_t n)
{
    size_t i;

    for (i = 0; i < n && !run->stopped; i++) {
        if (i + REPLAY_SLOTS_AHEAD < n)
            prefetch_slots(run, (uint32_t)(i + REPLAY_SLOTS_AHEAD));
        if (i + REPLAY_ANCHORS_AHEAD < n)
            prefetch_anchors(run, (uint32_t)(i + REPLAY_ANCHORS_AHEAD));
        if (i + REPLAY_OWNERS_AHEAD < n)
            prefetch_owners(run, (uint32_t)(i + REPLAY_OWNERS_AHEAD));
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

/* Replays until no new value becomes shared; then once more with events
 * when a callback listens. */
static crm_status replay_to_fixpoint(crm_identity *idn, idn_state *st)
{
    idn_run run;

    memset(&run, 0, sizeof run);
    run.idn = idn;
    run.st = st;
    run.ordered = 1;
    run.fresh = IDN_NONE;
    do {
        run.new_shared = 0;
        state_reset(idn, st);
        replay(&run, idn->obs.nobs);
        if (idn->undo_failed)
            return CRM_ENOMEM;
    } while (run.new_shared);
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

/* How many observations ahead table_build loads an observation's columns,
 * and then its identifiers (from the loaded istart). */
#define GATHER_COLUMNS_AHEAD 16
#define GATHER_IDENTS_AHEAD 8

static void prefetch_columns(const crm_identity *idn, uint32_t o)
{
    crm_prefetch(&idn->obs.istart[o]);
    crm_prefetch(&idn->obs.src[o]);
    crm_prefetch(&idn->obs.at[o]);
}

/* The live observations in the given order (every live one), without
 * forgotten values. */
static int table_build(crm_identity *idn, const uint32_t *order, size_t n,
                       idn_obs_table *t)
{
    size_t i, m = live_identifiers(idn), cap = n < 8 ? 8 : n;
    uint32_t k;

    memset(t, 0, sizeof *t);
    t->src = crm_mem_alloc_array(idn->ctx, cap, 8);
    t->at = crm_mem_alloc_array(idn->ctx, cap, 8);
    t->istart = crm_mem_alloc_array(idn->ctx, cap + 1, 4);
    t->dead = crm_mem_calloc(idn->ctx, cap, 1);
    t->ival = crm_mem_alloc_array(idn->ctx, m < 8 ? 8 : m, 4);
    if (!t->src || !t->at || !t->istart || !t->dead || !t->ival)
        return -1;
    t->istart[0] = 0;
    for (i = 0; i < n; i++) {
        uint32_t o = order[i];
        if (i + GATHER_COLUMNS_AHEAD < n)
            prefetch_columns(idn, order[i + GATHER_COLUMNS_AHEAD]);
        if (i + GATHER_IDENTS_AHEAD < n)
            crm_prefetch(idn->obs.ival +
                         idn->obs.istart[order[i + GATHER_IDENTS_AHEAD]]);
        t->src[i] = idn->obs.src[o];
        t->at[i] = idn->obs.at[o];
        for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++)
            if (idn->obs.ival[k] != IDN_NONE)
                t->ival[t->nidents++] = idn->obs.ival[k];
        t->istart[i + 1] = (uint32_t)t->nidents;
    }
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

/* How many source map slots ahead remap_sources loads the new index of
 * the observation a slot holds. */
#define REMAP_AHEAD 16

/* Points the source map at the new numbering. */
static void remap_sources(crm_identity *idn, const uint32_t *order, size_t n,
                          uint32_t *newidx, size_t old_nobs)
{
    size_t i, slots = crm_i64map_slot_count(&idn->smap);

    for (i = 0; i < old_nobs; i++)
        newidx[i] = IDN_NONE;
    for (i = 0; i < n; i++)
        newidx[order[i]] = (uint32_t)i;
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

    idn->obs = *t;
    if (state_alloc(idn, fresh) == 0) {
        s = replay_to_fixpoint(idn, fresh);
        if (s == CRM_OK)
            s = report_moves(idn, fresh, was);
        if (s != CRM_OK)
            idn_state_free(idn, fresh);
    }
    idn->undo_failed = 0;
    if (s != CRM_OK) {
        idn->obs = *old;
        table_free(idn, t);
    }
    return s;
}

crm_status crm_identity_resolve(crm_identity *idn)
{
    idn_state fresh;
    idn_obs_table old, t;
    uint32_t *order;
    int64_t *was = NULL;
    size_t n;
    int failed;
    crm_status s = CRM_ENOMEM;

    if (idn == NULL)
        return CRM_EINVAL;
    if (idn->obs.nobs == 0)
        return CRM_OK;
    n = idn->nlive;
    old = idn->obs;
    order = crm_mem_alloc_array(idn->ctx, idn->obs.nobs + 1, 4);
    failed = order == NULL || idn_canonical_order(idn, NULL, n, order) != 0;
    if (!failed)
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
    crm_mem_free(idn->ctx, order);
    if (s == CRM_ENOMEM)
        return crm_error_nomem(idn->ctx);
    if (s != CRM_OK)
        return crm_error(idn->ctx, s, "the event callback returned non-zero");
    return CRM_OK;
}
