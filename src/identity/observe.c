/*
 * Recording observations: crm_identity_add (no linking) and
 * crm_identity_observe (linked at once, undone on a callback's refusal).
 */
#include <string.h>

#include "core/mem.h"
#include "core/memhint.h"
#include "identity/identity_internal.h"

/* Sorts ids[0..n) by kind then bytes and drops repeats; returns the new n. */
static size_t sort_unique(const crm_identity *idn, uint32_t *ids, size_t n)
{
    size_t i, j, out = 0;

    for (i = 1; i < n; i++) {
        uint32_t v = ids[i];
        for (j = i; j > 0 && idn_value_cmp(idn, ids[j - 1], v) > 0; j--)
            ids[j] = ids[j - 1];
        ids[j] = v;
    }
    for (i = 0; i < n; i++)
        if (out == 0 || ids[out - 1] != ids[i])
            ids[out++] = ids[i];
    return out;
}

/* The smallest value of kind among the sorted ids, or IDN_NONE. */
static uint32_t first_of_kind(const crm_identity *idn, const uint32_t *ids,
                              size_t n, int kind)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (idn->vals[ids[i]].kind == kind)
            return ids[i];
    return IDN_NONE;
}

/* Appends the value of composite kind k when every part is present. */
static int add_composite(crm_identity *idn, int k, uint32_t *ids, size_t *n)
{
    const idn_kind *kd = &idn->kinds[k];
    uint32_t part_vals[IDN_MAX_PARTS];
    size_t p, len = 0;

    for (p = 0; p < kd->nparts; p++) {
        part_vals[p] = first_of_kind(idn, ids, *n, kd->parts[p]);
        if (part_vals[p] == IDN_NONE ||
            (idn->vals[part_vals[p]].flags & IDN_V_PLACEHOLDER))
            return 0;
        len += idn->vals[part_vals[p]].len + (p > 0 ? 1u : 0u);
    }
    if (len > CRM_IDENTITY_MAX_VALUE)
        return 0;
    len = 0;
    for (p = 0; p < kd->nparts; p++) {
        uint32_t v = part_vals[p];
        if (p > 0)
            idn->scratch[len++] = IDN_PART_SEPARATOR;
        memcpy(idn->scratch + len, idn->bytes + idn->vals[v].off, idn->vals[v].len);
        len += idn->vals[v].len;
    }
    return idn_value_intern(idn, k, idn->scratch, len, &ids[(*n)++]);
}

/* Appends a new observation with no identifiers; its own profile. */
static crm_status append_observation(crm_identity *idn, int64_t source_id,
                                     int64_t at, uint32_t *out)
{
    uint32_t found, o = (uint32_t)idn->obs.nobs;
    size_t j;
    int r;

    if (idn_grow_obs(idn, idn->obs.nobs + 1) != 0)
        return crm_error_nomem(idn->ctx);
    r = crm_i64map_upsert(idn->ctx, &idn->smap, source_id, o, &found);
    if (r < 0)
        return crm_error_nomem(idn->ctx);
    if (r == 0)
        return crm_error(idn->ctx, CRM_EEXIST,
                         "source_id %lld is already present",
                         (long long)source_id);
    idn->obs.nobs++;
    idn->nlive++;
    idn->obs.src[o] = source_id;
    idn->obs.at[o] = at;
    idn->obs.dead[o] = 0;
    idn->obs.istart[o + 1] = idn->obs.istart[o];
    idn->st.parent[o] = o;
    idn->st.next[o] = o;
    for (j = 0; j < idn->ncnt; j++)
        idn->st.cnt[(size_t)o * idn->ncnt + j] = 0;
    *out = o;
    return CRM_OK;
}

/* Normalises and interns identifier i; *v is IDN_NONE when rejected. */
static crm_status intern_identifier(crm_identity *idn, idn_run *run,
                                    int64_t source_id, int kind,
                                    const char *raw, size_t len, uint32_t *v)
{
    const char *reason = NULL;
    size_t nlen;
    crm_status s;

    *v = IDN_NONE;
    s = idn_normalize_for_kind(idn, kind, raw, len, idn->scratch, &nlen,
                               &reason);
    if (s == CRM_EINVAL) {
        idn_emit_raw(run, CRM_IDENTITY_REJECTED, source_id, kind, raw, len);
        return CRM_OK;
    }
    if (s != CRM_OK)
        return crm_error(idn->ctx, s, "source_id %lld, kind '%s': %s",
                         (long long)source_id, idn->kinds[kind].name,
                         reason ? reason : "value rejected");
    if (idn_value_intern(idn, kind, idn->scratch, nlen, v) != 0)
        return crm_error_nomem(idn->ctx);
    return CRM_OK;
}

static crm_status check_identifiers(crm_identity *idn, size_t n,
                                    const int *kinds,
                                    const char *const *values)
{
    size_t i;

    if (n > IDN_MAX_IDENTS)
        return crm_error(idn->ctx, CRM_ELIMIT,
                         "more than %d identifiers in one observation",
                         IDN_MAX_IDENTS);
    if (n > 0 && (kinds == NULL || values == NULL))
        return crm_error(idn->ctx, CRM_EINVAL, "NULL identifier columns");
    for (i = 0; i < n; i++) {
        if (!idn_kind_valid(idn, kinds[i]) ||
            idn->kinds[kinds[i]].nparts != 0)
            return crm_error(idn->ctx, CRM_EINVAL,
                             "identifier %zu: unknown or composite kind %d", i,
                             kinds[i]);
        if (values[i] == NULL)
            return crm_error(idn->ctx, CRM_EINVAL,
                             "identifier %zu: NULL value", i);
    }
    return CRM_OK;
}

/* Records one observation (unlinked). Errors leave partial appends for the
 * caller's rollback. */
static crm_status ingest(crm_identity *idn, idn_run *run, int64_t source_id,
                         int64_t at, size_t n, const int *kinds,
                         const char *const *values, const size_t *lens,
                         uint32_t *out_obs)
{
    uint32_t *ids = idn->obs_values;
    size_t i, nids = 0;
    uint32_t o = 0;
    crm_status s = check_identifiers(idn, n, kinds, values);

    if (s == CRM_OK)
        s = append_observation(idn, source_id, at, &o);
    for (i = 0; s == CRM_OK && i < n; i++) {
        size_t len = lens ? lens[i] : strlen(values[i]);
        s = intern_identifier(idn, run, source_id, kinds[i], values[i], len,
                              &ids[nids]);
        nids += ids[nids] != IDN_NONE;
    }
    if (s != CRM_OK)
        return s;
    nids = sort_unique(idn, ids, nids);
    for (i = 0; i < idn->nkinds; i++)
        if (idn->kinds[i].nparts && add_composite(idn, (int)i, ids, &nids))
            return crm_error_nomem(idn->ctx);
    nids = sort_unique(idn, ids, nids);
    if (idn_grow_idents(idn, idn->obs.nidents + nids) != 0)
        return crm_error_nomem(idn->ctx);
    for (i = 0; i < nids; i++) {
        idn->obs.ival[idn->obs.nidents] = ids[i];
        idn->st.istate[idn->obs.nidents++] = IDN_L_NONE;
    }
    idn->obs.istart[o + 1] = (uint32_t)idn->obs.nidents;
    *out_obs = o;
    return CRM_OK;
}

static crm_status check_offsets(crm_identity *idn, size_t n_obs,
                                const size_t *offsets)
{
    size_t i;

    if (offsets[0] != 0)
        return crm_error(idn->ctx, CRM_EINVAL, "offsets[0] must be 0");
    for (i = 0; i < n_obs; i++)
        if (offsets[i + 1] < offsets[i] ||
            offsets[i + 1] - offsets[i] > IDN_MAX_IDENTS)
            return crm_error(idn->ctx, CRM_EINVAL,
                             "offsets[%zu] decreases or holds more than %d "
                             "identifiers", i + 1, IDN_MAX_IDENTS);
    return CRM_OK;
}

/* Ends an operation: commits on CRM_OK, else rolls back to m. */
static crm_status finish(crm_identity *idn, const idn_mark *m, idn_run *run,
                         crm_status s)
{
    if (s == CRM_OK && idn->undo_failed)
        s = crm_error_nomem(idn->ctx);
    if (s == CRM_OK && run->stopped)
        s = crm_error(idn->ctx, CRM_ECALLBACK,
                      "the event callback returned non-zero");
    if (s != CRM_OK) {
        idn_rollback(idn, m);
        idn_unfreeze_if_empty(idn);
        return s;
    }
    idn_commit(idn);
    return CRM_OK;
}

static void run_init(idn_run *run, crm_identity *idn)
{
    memset(run, 0, sizeof *run);
    run->idn = idn;
    run->st = &idn->st;
    run->events = 1;
    run->fresh = IDN_NONE;
}

/* How many observations ahead crm_identity_add prefetches the source map
 * slot each one will be inserted at. */
#define ADD_PREFETCH_AHEAD 8

static void prefetch_source(const crm_identity *idn, int64_t source_id)
{
    crm_i64map_prefetch(&idn->smap, source_id);
}

crm_status crm_identity_add(crm_identity *idn, size_t n_obs,
                            const int64_t *source_ids, const int64_t *ats,
                            const size_t *offsets, const int *kinds,
                            const char *const *values, const size_t *lens)
{
    idn_mark m;
    idn_run run;
    crm_status s = CRM_OK;
    size_t i;
    uint32_t o;

    if (idn == NULL || (n_obs > 0 && (source_ids == NULL || ats == NULL)) ||
        offsets == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_add: NULL argument");
    s = check_offsets(idn, n_obs, offsets);
    if (s != CRM_OK)
        return s;
    if (n_obs >= IDN_NONE - idn->obs.nobs)
        return crm_error(idn->ctx, CRM_ELIMIT, "too many observations");
    idn_freeze_kinds(idn);
    m = idn_mark_take(idn);
    run_init(&run, idn);
    if (idn_grow_obs(idn, idn->obs.nobs + n_obs) != 0 ||
        crm_i64map_reserve(idn->ctx, &idn->smap, idn->smap.count + n_obs))
        s = crm_error_nomem(idn->ctx);
    for (i = 0; s == CRM_OK && i < n_obs; i++) {
        size_t first = offsets[i];
        if (i + ADD_PREFETCH_AHEAD < n_obs)
            prefetch_source(idn, source_ids[i + ADD_PREFETCH_AHEAD]);
        s = ingest(idn, &run, source_ids[i], ats[i], offsets[i + 1] - first,
                   kinds ? kinds + first : NULL,
                   values ? values + first : NULL, lens ? lens + first : NULL,
                   &o);
        if (run.stopped)
            break;
    }
    return finish(idn, &m, &run, s);
}

crm_status crm_identity_observe(crm_identity *idn, int64_t source_id,
                                int64_t at, size_t n, const int *kinds,
                                const char *const *values, const size_t *lens,
                                int64_t *out_profile)
{
    idn_mark m;
    idn_run run;
    crm_status s;
    uint32_t o = 0;
    size_t nids;

    if (idn == NULL || out_profile == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_observe: NULL argument");
    idn_freeze_kinds(idn);
    m = idn_mark_take(idn);
    run_init(&run, idn);
    s = ingest(idn, &run, source_id, at, n, kinds, values, lens, &o);
    if (s == CRM_OK && !run.stopped) {
        nids = idn->obs.istart[o + 1] - idn->obs.istart[o];
        if (idn_undo_reserve(idn, nids * (idn->ncnt + 8) + 8) != 0 ||
            idn_grow_pool(idn, &idn->st, idn->st.npool + nids) != 0)
            s = crm_error_nomem(idn->ctx);
    }
    if (s == CRM_OK && !run.stopped) {
        run.logged = 1;
        run.merge_events = 1;
        run.fresh = o;
        idn_link_observation(&run, o);
    }
    s = finish(idn, &m, &run, s);
    if (s != CRM_OK)
        return s;
    run.logged = 0;
    *out_profile = idn->obs.src[idn_find(&run, o)];
    return CRM_OK;
}
