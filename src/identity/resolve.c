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
 * the scratch column, the new istart and the pool (one entry per
 * identifier at most) are allocated, nothing can fail. The columns are
 * then put in canonical order where they are, through the scratch column,
 * and the links replayed over the live state: no second table and state
 * (about 700 MB at 10M observations).
 */
static crm_status resolve_in_place(crm_identity *idn, const uint32_t *order,
                                   size_t n)
{
    idn_obs_table *obs = &idn->obs;
    size_t m = live_identifiers(idn), old_nobs = obs->nobs;
    size_t bytes = n * 8 > m * 4 ? n * 8 : m * 4;
    void *scratch = crm_mem_alloc(idn->ctx, bytes ? bytes : 8);
    uint32_t *istart = crm_mem_alloc_array(idn->ctx, obs->obs_cap + 1, 4);

    if (!scratch || !istart || idn_grow_pool(idn, &idn->st, m) != 0) {
        crm_mem_free(idn->ctx, scratch);
        crm_mem_free(idn->ctx, istart);
        return CRM_ENOMEM;
    }
    gather_identifiers(idn, order, n, scratch, istart);
    memcpy(obs->ival, scratch, m * 4);
    gather_i64(obs->src, order, n, scratch);
    memcpy(obs->src, scratch, n * 8);
    gather_i64(obs->at, order, n, scratch);
    memcpy(obs->at, scratch, n * 8);
    memset(obs->dead, 0, n);
    crm_mem_free(idn->ctx, scratch);
    /* the old istart (old_nobs + 1 entries) is scratch for the remap */
    remap_sources(idn, order, n, obs->istart, old_nobs);
    crm_mem_free(idn->ctx, obs->istart);
    obs->istart = istart;
    obs->nobs = n;
    obs->nidents = m;
    clear_shared(idn);
    return replay_to_fixpoint(idn, &idn->st);
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
    if (s == CRM_ENOMEM)
        return crm_error_nomem(idn->ctx);
    if (s != CRM_OK)
        return crm_error(idn->ctx, s, "the event callback returned non-zero");
    return CRM_OK;
}
