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
        memcpy(idn->scratch + len, idn_value_bytes(idn, v), idn->vals[v].len);
        len += idn->vals[v].len;
    }
    return idn_value_intern(idn, k, idn->scratch, len, &ids[(*n)++]);
}

/* Appends a new observation with no identifiers; its own profile. */
static crm_status append_observation(crm_identity *idn, int64_t source_id,
                                     int64_t at, uint32_t *out)
{
    uint32_t found, o = (uint32_t)idn->obs.nobs;
    int r;

    if (idn_grow_obs(idn, idn->obs.nobs + 1) != 0 ||
        idn_map_reserve(idn, &idn->smap, 1) != 0)
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
    idn->st.node[o].parent = o;
    idn->st.node[o].block = IDN_NONE;
    idn->st.node[o].next = o;
    *out = o;
    return CRM_OK;
}

/* Normalises identifier (kind, raw) into buf (IDN_NORM_BUF bytes) and
 * hashes it; a failure is kept in st for intern_staged to report. */
static void stage_identifier(const crm_identity *idn, int kind,
                             const char *raw, size_t len, char *buf,
                             idn_staged *st)
{
    size_t nlen = 0;

    st->reason = NULL;
    st->status = idn_normalize_for_kind(idn, kind, raw, len, buf, &nlen,
                                        &st->reason);
    st->len = (uint32_t)nlen;
    st->key = st->status == CRM_OK ? idn_hash(kind, buf, nlen) : 0;
}

/* Interns a staged identifier (its normalised bytes at norm; raw is *len
 * bytes long, or a C string when len is NULL); *v is IDN_NONE when it was
 * rejected. */
static crm_status intern_staged(crm_identity *idn, idn_run *run,
                                int64_t source_id, int kind, const char *raw,
                                const size_t *len, const idn_staged *st,
                                const char *norm, uint32_t *v)
{
    *v = IDN_NONE;
    if (st->status == CRM_EINVAL) {
        idn_emit_raw(run, CRM_IDENTITY_REJECTED, source_id, kind, raw,
                     len ? *len : strlen(raw));
        return CRM_OK;
    }
    if (st->status != CRM_OK)
        return crm_error(idn->ctx, st->status, "source_id %lld, kind '%s': %s",
                         (long long)source_id, idn->kinds[kind].name,
                         st->reason ? st->reason : "value rejected");
    if (idn_value_intern_hashed(idn, st->key, kind, norm, st->len, v) != 0)
        return crm_error_nomem(idn->ctx);
    return CRM_OK;
}

/* Whether kind is a known plain (not composite) kind. */
static int plain_kind(const crm_identity *idn, int kind)
{
    return idn_kind_valid(idn, kind) && idn->kinds[kind].nparts == 0;
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
        if (!plain_kind(idn, kinds[i]))
            return crm_error(idn->ctx, CRM_EINVAL,
                             "identifier %zu: unknown or composite kind %d", i,
                             kinds[i]);
        if (values[i] == NULL)
            return crm_error(idn->ctx, CRM_EINVAL,
                             "identifier %zu: NULL value", i);
    }
    return CRM_OK;
}

/* Stages the n identifiers of one observation at idn->stage[first ..],
 * their bytes from stage_bytes[*used ..], and starts loading their map
 * slots. Returns 0, or -1 (nothing kept) when they do not fit or are
 * invalid: ingest then normalises them itself and reports any error. */
static int stage_observation(crm_identity *idn, size_t first, size_t n,
                             const int *kinds, const char *const *values,
                             const size_t *lens, size_t *used)
{
    size_t i, at = *used;

    if (n > IDN_STAGE_IDENTS - first || (n > 0 && (!kinds || !values)))
        return -1;
    for (i = 0; i < n; i++) {
        idn_staged *st = &idn->stage[first + i];
        if (!plain_kind(idn, kinds[i]) || values[i] == NULL ||
            IDN_STAGE_BYTES - at < IDN_NORM_BUF)
            return -1;
        stage_identifier(idn, kinds[i], values[i],
                         lens ? lens[i] : strlen(values[i]),
                         idn->stage_bytes + at, st);
        st->off = (uint32_t)at;
        if (st->status == CRM_OK) {
            crm_i64map_prefetch(&idn->vmap, (int64_t)st->key);
            at += st->len;
        }
    }
    *used = at;
    return 0;
}

/* Once the map slots of the staged identifiers [0, n) are loaded, starts
 * loading the values they lead to (and what else idn_value_prefetch
 * says). */
static void prefetch_staged(const crm_identity *idn, size_t n,
                            idn_prefetch what)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (idn->stage[i].status == CRM_OK)
            idn_value_prefetch(idn, idn->stage[i].key, what);
}

/* Interns the identifiers of observation source_id into
 * idn->obs_values[0 .. *out_nids); they were staged at staged[0 .. n)
 * unless staged is NULL. Errors leave partial appends for the caller's
 * rollback. */
static crm_status intern_identifiers(crm_identity *idn, idn_run *run,
                                     int64_t source_id, size_t n,
                                     const int *kinds,
                                     const char *const *values,
                                     const size_t *lens,
                                     const idn_staged *staged,
                                     size_t *out_nids)
{
    uint32_t *ids = idn->obs_values;
    size_t i, nids = 0;
    crm_status s = CRM_OK;

    for (i = 0; s == CRM_OK && i < n; i++) {
        idn_staged here;
        const idn_staged *st = staged ? &staged[i] : &here;
        if (staged == NULL)
            stage_identifier(idn, kinds[i], values[i],
                             lens ? lens[i] : strlen(values[i]), idn->scratch,
                             &here);
        s = intern_staged(idn, run, source_id, kinds[i], values[i],
                          lens ? &lens[i] : NULL, st,
                          staged ? idn->stage_bytes + st->off : idn->scratch,
                          &ids[nids]);
        nids += ids[nids] != IDN_NONE;
    }
    *out_nids = nids;
    return s;
}

/* Records the values idn->obs_values[0 .. nids) and the composites they
 * make as the identifiers of the last observation o. */
static crm_status record_identifiers(crm_identity *idn, uint32_t o,
                                     size_t nids)
{
    uint32_t *ids = idn->obs_values;
    size_t i, plain;

    nids = sort_unique(idn, ids, nids);
    plain = nids;
    for (i = 0; i < idn->nkinds; i++)
        if (idn->kinds[i].nparts && add_composite(idn, (int)i, ids, &nids))
            return crm_error_nomem(idn->ctx);
    if (nids > plain)
        nids = sort_unique(idn, ids, nids);
    if (idn_grow_idents(idn, idn->obs.nidents + nids) != 0)
        return crm_error_nomem(idn->ctx);
    for (i = 0; i < nids; i++) {
        idn->obs.ival[idn->obs.nidents] = ids[i];
        idn->st.istate[idn->obs.nidents++] = IDN_L_NONE;
    }
    idn->obs.istart[o + 1] = (uint32_t)idn->obs.nidents;
    return CRM_OK;
}

/* Records one observation (unlinked); its identifiers were staged at
 * staged[0 .. n) unless staged is NULL (staging checked them). Errors
 * leave partial appends for the caller's rollback. */
static crm_status ingest(crm_identity *idn, idn_run *run, int64_t source_id,
                         int64_t at, size_t n, const int *kinds,
                         const char *const *values, const size_t *lens,
                         const idn_staged *staged, uint32_t *out_obs)
{
    size_t nids = 0;
    crm_status s = staged ? CRM_OK : check_identifiers(idn, n, kinds, values);

    if (s == CRM_OK)
        s = append_observation(idn, source_id, at, out_obs);
    if (s == CRM_OK)
        s = intern_identifiers(idn, run, source_id, n, kinds, values, lens,
                               staged, &nids);
    return s == CRM_OK ? record_identifiers(idn, *out_obs, nids) : s;
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
        if (run->profiles) /* the renames it made are not logged */
            idn->profiles_current = 0;
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

/* Stages the identifiers of observations first .. as many as fit, and
 * starts loading the source map slots they will be inserted at. Returns
 * the end of the staged run (first when observation first does not fit). */
static size_t stage_batch(crm_identity *idn, size_t first, size_t n_obs,
                          const int64_t *source_ids, const size_t *offsets,
                          const int *kinds, const char *const *values,
                          const size_t *lens)
{
    size_t o, used = 0, base = offsets[first];

    for (o = first; o < n_obs; o++) {
        size_t at = offsets[o];
        if (stage_observation(idn, at - base, offsets[o + 1] - at,
                              kinds ? kinds + at : NULL,
                              values ? values + at : NULL,
                              lens ? lens + at : NULL, &used) != 0)
            break;
        crm_i64map_prefetch(&idn->smap, source_ids[o]);
    }
    prefetch_staged(idn, offsets[o] - base, IDN_PREFETCH_VALUE);
    return o;
}

/* Ingests observations first .. end - 1, staged by stage_batch. */
static crm_status ingest_batch(crm_identity *idn, idn_run *run, size_t first,
                               size_t end, const int64_t *source_ids,
                               const int64_t *ats, const size_t *offsets,
                               const int *kinds, const char *const *values,
                               const size_t *lens)
{
    crm_status s = CRM_OK;
    size_t o;
    uint32_t added;

    for (o = first; s == CRM_OK && o < end && !run->stopped; o++) {
        size_t at = offsets[o];
        s = ingest(idn, run, source_ids[o], ats[o], offsets[o + 1] - at,
                   kinds ? kinds + at : NULL, values ? values + at : NULL,
                   lens ? lens + at : NULL,
                   idn->stage + (at - offsets[first]), &added);
    }
    return s;
}

crm_status crm_identity_add(crm_identity *idn, size_t n_obs,
                            const int64_t *source_ids, const int64_t *ats,
                            const size_t *offsets, const int *kinds,
                            const char *const *values, const size_t *lens)
{
    idn_mark m;
    idn_run run;
    crm_status s = CRM_OK;
    size_t i, end;
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
        idn_map_reserve(idn, &idn->smap, n_obs) != 0)
        s = crm_error_nomem(idn->ctx);
    for (i = 0; s == CRM_OK && i < n_obs && !run.stopped; i = end) {
        size_t first = offsets[i];
        end = stage_batch(idn, i, n_obs, source_ids, offsets, kinds, values,
                          lens);
        if (end > i) {
            s = ingest_batch(idn, &run, i, end, source_ids, ats, offsets,
                             kinds, values, lens);
            continue;
        }
        end = i + 1;
        s = ingest(idn, &run, source_ids[i], ats[i], offsets[i + 1] - first,
                   kinds ? kinds + first : NULL,
                   values ? values + first : NULL, lens ? lens + first : NULL,
                   NULL, &o);
    }
    return finish(idn, &m, &run, s);
}

/* Starts loading what linking reads of profile root x. */
static void prefetch_profile(const crm_identity *idn, uint32_t x)
{
    crm_prefetch(&idn->st.node[x]);
    crm_prefetch(&idn->obs.at[x]);
    crm_prefetch(&idn->obs.src[x]);
}

/* Starts loading the union-find parents of the observations that hold
 * the values ids[0 .. n) already (their anchors). */
static void prefetch_parents(const crm_identity *idn, const uint32_t *ids,
                             size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint32_t anchor = idn->st.vs[ids[i]].anchor;
        if (anchor != IDN_NONE)
            crm_prefetch(&idn->st.node[anchor]);
    }
}

/* Starts loading what linking o reads of the profiles its values lead to:
 * the parent of an anchor is mostly the root already. */
static void prefetch_roots(const crm_identity *idn, uint32_t o)
{
    uint32_t i;

    for (i = idn->obs.istart[o]; i < idn->obs.istart[o + 1]; i++) {
        uint32_t anchor = idn->st.vs[idn->obs.ival[i]].anchor;
        if (anchor != IDN_NONE)
            prefetch_profile(idn, idn->st.node[anchor].parent);
    }
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
    int staged;

    if (idn == NULL || out_profile == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_observe: NULL argument");
    idn_freeze_kinds(idn);
    m = idn_mark_take(idn);
    run_init(&run, idn);
    crm_i64map_prefetch(&idn->smap, source_id);
    nids = 0;
    staged = stage_observation(idn, 0, n, kinds, values, lens, &nids) == 0;
    s = staged ? CRM_OK : check_identifiers(idn, n, kinds, values);
    if (s == CRM_OK)
        s = append_observation(idn, source_id, at, &o);
    /* the map slots were loading meanwhile */
    if (s == CRM_OK && staged)
        prefetch_staged(idn, n, IDN_PREFETCH_LINK);
    if (s == CRM_OK)
        s = intern_identifiers(idn, &run, source_id, n, kinds, values, lens,
                               staged ? idn->stage : NULL, &nids);
    if (s == CRM_OK) {
        prefetch_parents(idn, idn->obs_values, nids);
        s = record_identifiers(idn, o, nids);
    }
    if (s == CRM_OK && !run.stopped) {
        /* Without a callback nothing can refuse the links, and the pool
         * and the counter blocks (one per identifier and pass at most)
         * are reserved: linking cannot fail, so it needs no undo log. */
        run.logged = idn->event_fn != NULL;
        nids = idn->obs.istart[o + 1] - idn->obs.istart[o];
        if ((run.logged &&
             idn_undo_reserve(idn, nids * (idn->ncnt + 8) + 8) != 0) ||
            idn_grow_pool(idn, &idn->st, idn->st.npool + nids) != 0 ||
            idn_grow_blocks(idn, &idn->st, idn->st.nblocks + 2 * nids + 1))
            s = crm_error_nomem(idn->ctx);
    }
    if (s == CRM_OK && !run.stopped) {
        run.merge_events = 1;
        run.profiles = idn->profiles_current;
        idn_rename_credit_add(idn, IDN_RENAME_CREDIT);
        run.fresh = o;
        prefetch_roots(idn, o);
        idn_link_observation(&run, o);
    }
    s = finish(idn, &m, &run, s);
    if (s != CRM_OK)
        return s;
    run.logged = 0;
    *out_profile = idn->obs.src[idn_find(&run, o)];
    return CRM_OK;
}
