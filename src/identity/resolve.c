/*
 * Batch resolution: every link replayed in canonical order (by at, then
 * source_id, then kind priority) into a fresh state, swapped in only after
 * every event was accepted.
 */
#include <string.h>

#include "core/mem.h"
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
        for (i = 0; i < idn->nobs; i++)
            if (!idn->dead[i])
                out[k++] = (uint32_t)i;
    for (i = 0; i < n; i++)
        keys[i] = idn->src[out[i]];
    if (crm_radix_sort_i64(idn->ctx, keys, out, n) == 0) {
        for (i = 0; i < n; i++)
            keys[i] = idn->at[out[i]];
        r = crm_radix_sort_i64(idn->ctx, keys, out, n);
    }
    crm_mem_free(idn->ctx, keys);
    return r;
}

static int state_alloc(crm_identity *idn, idn_state *st)
{
    crm_ctx *ctx = idn->ctx;
    size_t no = idn->obs_cap ? idn->obs_cap : 1;
    size_t nv = idn->vals_cap ? idn->vals_cap : 1;
    size_t ni = idn->idents_cap ? idn->idents_cap : 1;

    memset(st, 0, sizeof *st);
    st->parent = crm_mem_alloc_array(ctx, no, 4);
    st->next = crm_mem_alloc_array(ctx, no, 4);
    st->cnt = crm_mem_alloc_array(ctx, no * idn->ncnt, 4);
    st->anchor = crm_mem_alloc_array(ctx, nv, 4);
    st->vflags = crm_mem_calloc(ctx, nv, 4);
    st->track_head = crm_mem_alloc_array(ctx, nv, 4);
    st->istate = crm_mem_alloc_array(ctx, ni, 1);
    if (st->parent && st->next && st->cnt && st->anchor && st->vflags &&
        st->track_head && st->istate)
        return 0;
    idn_state_free(idn, st);
    return -1;
}

/* Every observation alone, nothing attached; only SHARED flags survive. */
static void state_reset(crm_identity *idn, idn_state *st)
{
    size_t i;

    for (i = 0; i < idn->nobs; i++) {
        st->parent[i] = (uint32_t)i;
        st->next[i] = (uint32_t)i;
    }
    memset(st->cnt, 0, idn->nobs * idn->ncnt * 4);
    for (i = 0; i < idn->nvals; i++) {
        st->anchor[i] = IDN_NONE;
        st->track_head[i] = IDN_NONE;
        st->vflags[i] &= IDN_F_SHARED;
    }
    memset(st->istate, IDN_L_NONE, idn->nidents);
    st->npool = 0;
}

static void replay(idn_run *run, const uint32_t *order, size_t n)
{
    size_t i;

    for (i = 0; i < n && !run->stopped; i++)
        idn_link_observation(run, order[i]);
}

static void emit_shared(idn_run *run)
{
    size_t v;

    for (v = 0; v < run->idn->nvals && !run->stopped; v++)
        if (run->st->vflags[v] & IDN_F_SHARED)
            idn_emit(run, CRM_IDENTITY_SHARED, 0, 0, 0, (uint32_t)v);
}

/* Replays until no new value becomes shared; then once more with events
 * when a callback listens. */
static crm_status replay_to_fixpoint(crm_identity *idn, idn_state *st,
                                     const uint32_t *order, size_t n)
{
    idn_run run;

    memset(&run, 0, sizeof run);
    run.idn = idn;
    run.st = st;
    run.fresh = IDN_NONE;
    do {
        run.new_shared = 0;
        state_reset(idn, st);
        replay(&run, order, n);
        if (idn->undo_failed)
            return CRM_ENOMEM;
    } while (run.new_shared);
    if (idn->event_fn == NULL)
        return CRM_OK;
    run.events = 1;
    state_reset(idn, st);
    emit_shared(&run);
    replay(&run, order, n);
    if (idn->undo_failed)
        return CRM_ENOMEM;
    return run.stopped ? CRM_ECALLBACK : CRM_OK;
}

static crm_status report_moves(crm_identity *idn, idn_state *st,
                               const uint32_t *order, size_t n)
{
    idn_run run;
    size_t i;

    if (idn->event_fn == NULL)
        return CRM_OK;
    memset(&run, 0, sizeof run);
    run.idn = idn;
    run.st = st;
    run.events = 1;
    for (i = 0; i < n && !run.stopped; i++) {
        uint32_t o = order[i];
        int64_t was = idn->src[idn_find_const(&idn->st, o)];
        int64_t now = idn->src[idn_find(&run, o)];
        if (was != now)
            idn_emit(&run, CRM_IDENTITY_MOVED, was, idn->src[o], now,
                     IDN_NONE);
    }
    return run.stopped ? CRM_ECALLBACK : CRM_OK;
}

crm_status crm_identity_resolve(crm_identity *idn)
{
    idn_state fresh;
    uint32_t *order;
    crm_status s;

    if (idn == NULL)
        return CRM_EINVAL;
    if (idn->nobs == 0)
        return CRM_OK;
    order = crm_mem_alloc_array(idn->ctx, idn->nlive ? idn->nlive : 1, 4);
    if (order == NULL)
        return crm_error_nomem(idn->ctx);
    if (idn_canonical_order(idn, NULL, idn->nlive, order) != 0 ||
        state_alloc(idn, &fresh) != 0) {
        crm_mem_free(idn->ctx, order);
        return crm_error_nomem(idn->ctx);
    }
    s = replay_to_fixpoint(idn, &fresh, order, idn->nlive);
    if (s == CRM_OK)
        s = report_moves(idn, &fresh, order, idn->nlive);
    crm_mem_free(idn->ctx, order);
    idn->undo_failed = 0;
    if (s != CRM_OK) {
        idn_state_free(idn, &fresh);
        if (s == CRM_ENOMEM)
            return crm_error_nomem(idn->ctx);
        return crm_error(idn->ctx, s, "the event callback returned non-zero");
    }
    idn_state_free(idn, &idn->st);
    idn->st = fresh;
    return CRM_OK;
}
