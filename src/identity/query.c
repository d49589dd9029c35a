/*
 * Reading the graph: profile_of, lookup, counts, export, profile_values.
 */
#include <string.h>

#include "core/mem.h"
#include "core/memhint.h"
#include "core/radix.h"
#include "identity/identity_internal.h"

crm_status crm_identity_profile_of(const crm_identity *idn, int64_t source_id,
                                   int64_t *out_profile)
{
    uint32_t o;

    if (idn == NULL || out_profile == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_profile_of: NULL argument");
    o = crm_i64map_get(&idn->smap, source_id);
    if (o == CRM_I64MAP_NONE)
        return crm_error(idn->ctx, CRM_ENOTFOUND, "source_id %lld unknown",
                         (long long)source_id);
    *out_profile = idn->obs.src[idn_find_const(&idn->st, o)];
    return CRM_OK;
}

/* As idn_find_const, loading the source id of each ancestor while its
 * parent is checked: the root's is then read with its parent. */
static uint32_t find_root_prefetching_source(const crm_identity *idn,
                                             uint32_t x)
{
    const uint32_t *parent = idn->st.parent;

    for (;;) {
        crm_prefetch(&idn->obs.src[x]);
        if (parent[x] == x)
            return x;
        x = parent[x];
    }
}

crm_status crm_identity_lookup(const crm_identity *idn, int kind,
                               const char *raw, size_t len,
                               int64_t *out_profile)
{
    uint32_t v;
    crm_status s;

    if (idn == NULL || raw == NULL || out_profile == NULL ||
        !idn_kind_valid(idn, kind))
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_lookup: NULL or unknown kind");
    s = idn_value_find_raw(idn, kind, raw, len, &v);
    if (s != CRM_OK)
        return s;
    if (v == IDN_NONE || idn->st.vs[v].anchor == IDN_NONE ||
        (IDN_VSLOT_STATIC(idn->st.vs[v].flags) &
         (IDN_V_BLOCKED | IDN_V_PLACEHOLDER)) ||
        (idn->st.vs[v].flags & (IDN_F_SHARED | IDN_F_MULTI)))
        return crm_error(idn->ctx, CRM_ENOTFOUND,
                         "no single profile holds this value");
    *out_profile = idn->obs.src[find_root_prefetching_source(
        idn, idn->st.vs[v].anchor)];
    return CRM_OK;
}

crm_status crm_identity_counts(const crm_identity *idn, size_t *out_sources,
                               size_t *out_profiles)
{
    size_t i, roots = 0;

    if (idn == NULL)
        return CRM_EINVAL;
    if (out_profiles != NULL) {
        for (i = 0; i < idn->obs.nobs; i++)
            roots += !idn->obs.dead[i] && idn->st.parent[i] == i;
        *out_profiles = roots;
    }
    if (out_sources != NULL)
        *out_sources = idn->nlive;
    return CRM_OK;
}

crm_status crm_identity_export(const crm_identity *idn, int64_t *source_ids,
                               int64_t *profiles, size_t capacity,
                               size_t *out_n)
{
    int64_t *keys;
    uint32_t *obs;
    size_t i, n = 0;

    if (idn == NULL || out_n == NULL ||
        (capacity > 0 && (source_ids == NULL || profiles == NULL)))
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_export: NULL argument");
    if (capacity == 0) {
        *out_n = idn->nlive;
        return CRM_OK;
    }
    if (capacity < idn->nlive)
        return crm_error(idn->ctx, CRM_ELIMIT,
                         "capacity %zu below the %zu sources", capacity,
                         idn->nlive);
    keys = crm_mem_alloc_array(idn->ctx, idn->nlive + 1, sizeof *keys);
    obs = crm_mem_alloc_array(idn->ctx, idn->nlive + 1, sizeof *obs);
    if (keys == NULL || obs == NULL) {
        crm_mem_free(idn->ctx, keys);
        crm_mem_free(idn->ctx, obs);
        return crm_error_nomem(idn->ctx);
    }
    for (i = 0; i < idn->obs.nobs; i++) {
        if (!idn->obs.dead[i]) {
            keys[n] = idn->obs.src[i];
            obs[n++] = (uint32_t)i;
        }
    }
    if (crm_radix_sort_i64(idn->ctx, keys, obs, n) != 0) {
        crm_mem_free(idn->ctx, keys);
        crm_mem_free(idn->ctx, obs);
        return crm_error_nomem(idn->ctx);
    }
    for (i = 0; i < n; i++) {
        source_ids[i] = keys[i];
        profiles[i] = idn->obs.src[idn_find_const(&idn->st, obs[i])];
    }
    crm_mem_free(idn->ctx, keys);
    crm_mem_free(idn->ctx, obs);
    *out_n = n;
    return CRM_OK;
}

/* Collects the values of every member of root into *out (sorted, unique). */
static crm_status profile_value_list(const crm_identity *idn, uint32_t root,
                                     uint32_t **out, size_t *out_n)
{
    size_t n = 0, i, k = 0;
    uint32_t m = root, j, *ids, *tmp;

    do {
        n += idn->obs.istart[m + 1] - idn->obs.istart[m];
        m = idn->st.next[m];
    } while (m != root);
    ids = crm_mem_alloc_array(idn->ctx, n + 1, 4);
    tmp = crm_mem_alloc_array(idn->ctx, n + 1, 4);
    if (ids == NULL || tmp == NULL) {
        crm_mem_free(idn->ctx, ids);
        crm_mem_free(idn->ctx, tmp);
        return crm_error_nomem(idn->ctx);
    }
    n = 0;
    do {
        for (j = idn->obs.istart[m]; j < idn->obs.istart[m + 1]; j++)
            if (idn->obs.ival[j] != IDN_NONE)
                ids[n++] = idn->obs.ival[j];
        m = idn->st.next[m];
    } while (m != root);
    idn_sort_values(idn, ids, tmp, n);
    for (i = 0; i < n; i++)
        if (k == 0 || ids[k - 1] != ids[i])
            ids[k++] = ids[i];
    crm_mem_free(idn->ctx, tmp);
    *out = ids;
    *out_n = k;
    return CRM_OK;
}

crm_status crm_identity_profile_values(
    const crm_identity *idn, int64_t profile,
    int (*fn)(void *user, int kind, const char *value, size_t len),
    void *user)
{
    uint32_t o, *ids = NULL;
    size_t n = 0, i;
    crm_status s;

    if (idn == NULL || fn == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_profile_values: NULL argument");
    o = crm_i64map_get(&idn->smap, profile);
    if (o == CRM_I64MAP_NONE || idn->st.parent[o] != o)
        return crm_error(idn->ctx, CRM_ENOTFOUND, "no profile %lld",
                         (long long)profile);
    s = profile_value_list(idn, o, &ids, &n);
    if (s != CRM_OK)
        return s;
    for (i = 0; i < n; i++) {
        uint32_t v = ids[i];
        if (fn(user, idn->vals[v].kind, idn->bytes + idn->vals[v].off,
               idn->vals[v].len) != 0) {
            s = crm_error(idn->ctx, CRM_ECALLBACK,
                          "the value callback returned non-zero");
            break;
        }
    }
    crm_mem_free(idn->ctx, ids);
    return s;
}
