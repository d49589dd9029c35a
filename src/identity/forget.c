/*
 * Forgetting a source or a value: the profiles that held it are replayed
 * without it in canonical order; each part that ends up under another
 * profile id is reported as CRM_IDENTITY_SPLIT. Writes go through the undo
 * log, so a callback's refusal restores everything.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "identity/identity_internal.h"

typedef struct forget_job {
    uint32_t *roots; /* sorted */
    size_t nroots;
    uint32_t *members;
    size_t nmembers;
    int64_t *old_profile; /* per member */
    uint32_t *order;
} forget_job;

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int is_root(const forget_job *job, uint32_t r)
{
    return bsearch(&r, job->roots, job->nroots, sizeof r, u32_cmp) != NULL;
}

static void job_free(crm_identity *idn, forget_job *job)
{
    crm_mem_free(idn->ctx, job->roots);
    crm_mem_free(idn->ctx, job->members);
    crm_mem_free(idn->ctx, job->old_profile);
    crm_mem_free(idn->ctx, job->order);
}

/* Lists the members of every root, and their profile ids now. */
static int collect_members(crm_identity *idn, forget_job *job)
{
    size_t i, n = 0;

    qsort(job->roots, job->nroots, sizeof *job->roots, u32_cmp);
    for (i = 0; i < idn->obs.nobs; i++)
        n += !idn->obs.dead[i] && is_root(job, idn_find_const(&idn->st,
                                                          (uint32_t)i));
    job->members = crm_mem_alloc_array(idn->ctx, n ? n : 1, 4);
    job->old_profile = crm_mem_alloc_array(idn->ctx, n ? n : 1, 8);
    job->order = crm_mem_alloc_array(idn->ctx, n ? n : 1, 4);
    if (!job->members || !job->old_profile || !job->order)
        return -1;
    for (i = 0; i < job->nroots; i++) {
        uint32_t r = job->roots[i], m = r;
        do {
            job->old_profile[job->nmembers] = idn->obs.src[r];
            job->members[job->nmembers++] = m;
            m = idn->st.node[m].next;
        } while (m != r);
    }
    return 0;
}

/* Makes room for the counter blocks that replaying the members may take
 * (one per identifier and pass at most) before the first logged write:
 * growing moves them. */
static int reserve_counters(crm_identity *idn, const forget_job *job)
{
    size_t i, nids = 0;

    for (i = 0; i < job->nmembers; i++)
        nids += idn->obs.istart[job->members[i] + 1] -
                idn->obs.istart[job->members[i]];
    return idn_grow_blocks(idn, &idn->st, idn->st.nblocks + 2 * nids + 1);
}

/* Detaches every value attached to the profiles, then makes each member a
 * profile of its own. */
static void reset_members(idn_run *run, const forget_job *job)
{
    crm_identity *idn = run->idn;
    size_t i;
    uint32_t k;

    for (i = 0; i < job->nmembers; i++) {
        uint32_t m = job->members[i];
        for (k = idn->obs.istart[m]; k < idn->obs.istart[m + 1]; k++) {
            uint32_t v = idn->obs.ival[k];
            idn_put8(run, &idn->st.istate[k], IDN_L_NONE);
            if (v != IDN_NONE && idn->st.vs[v].anchor != IDN_NONE &&
                is_root(job, idn_find_const(&idn->st, idn->st.vs[v].anchor)))
                idn_put32(run, &idn->st.vs[v].anchor, IDN_NONE);
        }
    }
    for (i = 0; i < job->nmembers; i++)
        idn_reset_observation(run, job->members[i]);
}

static void report_splits(idn_run *run, const forget_job *job)
{
    crm_identity *idn = run->idn;
    size_t i, j;

    for (i = 0; i < job->nmembers && !run->stopped; i++) {
        uint32_t m = job->members[i];
        uint32_t r = idn_find_const(&idn->st, m);
        int seen = 0;
        if (idn->obs.dead[m] || idn->obs.src[r] == job->old_profile[i])
            continue;
        for (j = 0; j < i && !seen; j++)
            seen = !idn->obs.dead[job->members[j]] &&
                   idn_find_const(&idn->st, job->members[j]) == r;
        if (!seen)
            idn_emit(run, CRM_IDENTITY_SPLIT, job->old_profile[i], idn->obs.src[r],
                     0, IDN_NONE);
    }
}

/* Whether any live identifier still refers to v. */
static int value_held(const crm_identity *idn, uint32_t v)
{
    size_t i;

    for (i = 0; i < idn->obs.nidents; i++)
        if (idn->obs.ival[i] == v)
            return 1;
    return 0;
}

static void erase_value(crm_identity *idn, uint32_t v)
{
    if (idn->vals[v].flags & IDN_V_BLOCKED)
        return;
    idn_value_erase(idn, v);
    idn->st.vs[v].anchor = IDN_NONE;
}

/* Replays the members of job (minus what was removed) and reports splits.
 * The removals were logged by the caller. */
static crm_status replay_members(crm_identity *idn, idn_run *run,
                                 forget_job *job)
{
    size_t i, n = 0, nids = 0;

    for (i = 0; i < job->nmembers; i++) {
        uint32_t m = job->members[i];
        if (!idn->obs.dead[m]) {
            job->order[n++] = m;
            nids += idn->obs.istart[m + 1] - idn->obs.istart[m];
        }
    }
    if (idn_canonical_order(idn, job->order, n, job->order) != 0 ||
        idn_grow_pool(idn, &idn->st, idn->st.npool + nids) != 0)
        return crm_error_nomem(idn->ctx);
    for (i = 0; i < n; i++)
        idn_link_observation(run, job->order[i]);
    run->events = 1;
    report_splits(run, job);
    if (idn->undo_failed)
        return crm_error_nomem(idn->ctx);
    if (run->stopped)
        return crm_error(idn->ctx, CRM_ECALLBACK,
                         "the event callback returned non-zero");
    return CRM_OK;
}

/* Removes observation dead_obs (or IDN_NONE) and every occurrence of value
 * dead_val (or IDN_NONE) from the profiles roots. */
static crm_status forget(crm_identity *idn, uint32_t dead_obs,
                         uint32_t dead_val, forget_job *job)
{
    idn_mark m = idn_mark_take(idn);
    idn_run run;
    crm_status s;
    uint32_t k, lo = 0, hi = 0;

    memset(&run, 0, sizeof run);
    run.idn = idn;
    run.st = &idn->st;
    run.logged = 1;
    run.fresh = IDN_NONE;
    run.profiles = idn->profiles_current;
    idn_rename_credit_add(idn, idn->obs.nidents);
    if (collect_members(idn, job) != 0 || reserve_counters(idn, job) != 0)
        return crm_error_nomem(idn->ctx);
    reset_members(&run, job);
    if (dead_obs != IDN_NONE) {
        lo = idn->obs.istart[dead_obs];
        hi = idn->obs.istart[dead_obs + 1];
        idn_put8(&run, &idn->obs.dead[dead_obs], 1);
        idn->nlive--;
    }
    for (k = 0; k < idn->obs.nidents; k++)
        if ((k >= lo && k < hi) || (dead_val != IDN_NONE &&
                                    idn->obs.ival[k] == dead_val))
            idn_put32(&run, &idn->obs.ival[k], IDN_NONE);
    s = replay_members(idn, &run, job);
    if (s != CRM_OK) {
        if (run.profiles) /* the renames it made are not logged */
            idn->profiles_current = 0;
        idn_rollback(idn, &m);
        return s;
    }
    return CRM_OK;
}

/* After commit: erases the bytes of values no longer held by anyone. */
static void erase_unheld(crm_identity *idn, const uint32_t *vals, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (vals[i] != IDN_NONE && !value_held(idn, vals[i]))
            erase_value(idn, vals[i]);
}

crm_status crm_identity_forget_source(crm_identity *idn, int64_t source_id)
{
    forget_job job;
    uint32_t o, root, *vals = NULL;
    size_t nvals;
    crm_status s;

    if (idn == NULL)
        return CRM_EINVAL;
    o = crm_i64map_get(&idn->smap, source_id);
    if (o == CRM_I64MAP_NONE)
        return crm_error(idn->ctx, CRM_ENOTFOUND, "source_id %lld unknown",
                         (long long)source_id);
    memset(&job, 0, sizeof job);
    root = idn_find_const(&idn->st, o);
    nvals = idn->obs.istart[o + 1] - idn->obs.istart[o];
    vals = crm_mem_alloc_array(idn->ctx, nvals ? nvals : 1, 4);
    job.roots = crm_mem_alloc_array(idn->ctx, 1, 4);
    if (vals == NULL || job.roots == NULL) {
        crm_mem_free(idn->ctx, vals);
        job_free(idn, &job);
        return crm_error_nomem(idn->ctx);
    }
    if (nvals > 0)
        memcpy(vals, idn->obs.ival + idn->obs.istart[o], nvals * 4);
    job.roots[job.nroots++] = root;
    s = forget(idn, o, IDN_NONE, &job);
    if (s == CRM_OK) {
        idn_commit(idn);
        crm_i64map_remove(&idn->smap, source_id);
        erase_unheld(idn, vals, nvals);
    }
    crm_mem_free(idn->ctx, vals);
    job_free(idn, &job);
    return s;
}

/* The roots of every profile holding v. */
static int roots_holding(crm_identity *idn, uint32_t v, forget_job *job)
{
    size_t o, cap = 0;
    uint32_t k;

    for (o = 0; o < idn->obs.nobs; o++) {
        for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++) {
            if (idn->obs.ival[k] != v)
                continue;
            void *p = job->roots;
            if (crm_mem_grow(idn->ctx, &p, &cap, job->nroots + 1, 4) != 0)
                return -1;
            job->roots = p;
            job->roots[job->nroots++] =
                idn_find_const(&idn->st, (uint32_t)o);
        }
    }
    qsort(job->roots, job->nroots, 4, u32_cmp);
    for (o = 0, k = 0; o < job->nroots; o++)
        if (k == 0 || job->roots[k - 1] != job->roots[o])
            job->roots[k++] = job->roots[o];
    job->nroots = k;
    return 0;
}

crm_status crm_identity_forget_value(crm_identity *idn, int kind,
                                     const char *raw, size_t len)
{
    forget_job job;
    uint32_t v;
    crm_status s;

    if (idn == NULL || raw == NULL || !idn_kind_valid(idn, kind))
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_forget_value: NULL or unknown kind");
    s = idn_value_find_raw(idn, kind, raw, len, &v);
    if (s != CRM_OK)
        return s;
    if (v == IDN_NONE)
        return crm_error(idn->ctx, CRM_ENOTFOUND, "value not present");
    memset(&job, 0, sizeof job);
    if (roots_holding(idn, v, &job) != 0) {
        job_free(idn, &job);
        return crm_error_nomem(idn->ctx);
    }
    s = forget(idn, IDN_NONE, v, &job);
    if (s == CRM_OK) {
        idn_commit(idn);
        erase_value(idn, v);
    }
    job_free(idn, &job);
    return s;
}
