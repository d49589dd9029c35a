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
    const idn_node *node = idn->st.node;

    for (;;) {
        crm_prefetch(&idn->obs.src[x]);
        if (node[x].parent == x)
            return x;
        x = node[x].parent;
    }
}

/* The status crm_identity_lookup gives for value v once found (or not). */
static crm_status held_by_one(const crm_identity *idn, uint32_t v)
{
    if (v == IDN_NONE || idn->st.vs[v].anchor == IDN_NONE ||
        (IDN_VSLOT_STATIC(idn->st.vs[v].flags) &
         (IDN_V_BLOCKED | IDN_V_PLACEHOLDER)) ||
        (idn->st.vs[v].flags & (IDN_F_SHARED | IDN_F_MULTI)))
        return CRM_ENOTFOUND;
    return CRM_OK;
}

/* The profile id of value v, which an anchor attaches to a profile. */
static int64_t profile_of_value(const crm_identity *idn, uint32_t v)
{
    if (idn->profiles_current)
        return idn->vprofile[v];
    return idn->obs.src[find_root_prefetching_source(idn,
                                                     idn->st.vs[v].anchor)];
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
    if (held_by_one(idn, v) != CRM_OK)
        return crm_error(idn->ctx, CRM_ENOTFOUND,
                         "no single profile holds this value");
    *out_profile = profile_of_value(idn, v);
    return CRM_OK;
}

/* Values looked up together: enough to keep the memory busy, few enough
 * that their lines stay cached between the steps. */
#define LOOKUP_BATCH 32
/* Normalised bytes of one batch (it ends early when a value might not fit). */
#define LOOKUP_BYTES 8192

/* One value of a crm_identity_lookup_many batch. */
typedef struct lookup_item {
    size_t index;  /* in the caller's arrays */
    uint64_t key;  /* idn_hash of the normalised value */
    size_t off, len; /* normalised bytes in the batch buffer */
    uint32_t node; /* found: an observation on the way to the root, else
                      IDN_NONE */
    int at_root;   /* node is the profile's root */
} lookup_item;

/*
 * Normalises values from *next on into buf until the batch is full, and
 * starts loading their map slots. Values that fail get their status at
 * once. Returns the number of items.
 */
static size_t lookup_stage(const crm_identity *idn, size_t n,
                           const int *kinds, const char *const *raws,
                           const size_t *lens, crm_status *status,
                           size_t *next, char *buf, lookup_item *items)
{
    size_t count = 0, used = 0;
    const char *reason;

    for (; *next < n && count < LOOKUP_BATCH &&
           used + IDN_NORM_BUF <= LOOKUP_BYTES;
         ++*next) {
        size_t i = *next, nlen;
        const char *raw = raws[i];
        lookup_item *it = &items[count];

        if (raw == NULL || !idn_kind_valid(idn, kinds[i])) {
            status[i] = CRM_EINVAL;
            continue;
        }
        status[i] = idn_normalize_for_kind(idn, kinds[i], raw,
                                           lens ? lens[i] : strlen(raw),
                                           buf + used, &nlen, &reason);
        if (status[i] != CRM_OK)
            continue;
        it->index = i;
        it->off = used;
        it->len = nlen;
        it->key = idn_hash(kinds[i], buf + used, nlen);
        crm_i64map_prefetch(&idn->vmap, (int64_t)it->key);
        used += nlen;
        count++;
    }
    return count;
}

/*
 * Walks the found items from their values' anchors up to their profile
 * roots in lockstep: each round reads the parents the round before
 * started loading, so the batch's chains are climbed side by side.
 */
static void lookup_roots(const crm_identity *idn, lookup_item *items,
                         size_t count)
{
    const idn_node *node = idn->st.node;
    size_t j, climbing = count;

    while (climbing > 0) {
        climbing = 0;
        for (j = 0; j < count; j++) {
            uint32_t x = items[j].node, up;
            if (x == IDN_NONE || items[j].at_root)
                continue;
            up = node[x].parent;
            if (up == x) {
                items[j].at_root = 1;
                crm_prefetch(&idn->obs.src[x]);
                continue;
            }
            items[j].node = up;
            crm_prefetch(&node[up]);
            climbing++;
        }
    }
}

/* Finishes a batch in steps, each reading what the one before loaded:
 * map slots, then values' bytes, links and profile ids, then (when those
 * are not current) profile roots. */
static void lookup_finish(const crm_identity *idn, const int *kinds,
                          const char *buf, lookup_item *items, size_t count,
                          int64_t *profiles, crm_status *status)
{
    size_t j;

    for (j = 0; j < count; j++)
        idn_value_prefetch(idn, items[j].key, IDN_PREFETCH_PROFILE);
    for (j = 0; j < count; j++) {
        lookup_item *it = &items[j];
        uint32_t v = idn_value_find_hashed(idn, it->key, kinds[it->index],
                                           buf + it->off, it->len);
        status[it->index] = held_by_one(idn, v);
        it->node = IDN_NONE;
        it->at_root = 0;
        if (status[it->index] == CRM_OK && idn->profiles_current) {
            profiles[it->index] = idn->vprofile[v];
        } else if (status[it->index] == CRM_OK) {
            it->node = idn->st.vs[v].anchor;
            crm_prefetch(&idn->st.node[it->node]);
        }
    }
    lookup_roots(idn, items, count);
    for (j = 0; j < count; j++)
        if (items[j].node != IDN_NONE)
            profiles[items[j].index] = idn->obs.src[items[j].node];
}

crm_status crm_identity_lookup_many(const crm_identity *idn, size_t n,
                                    const int *kinds,
                                    const char *const *raws,
                                    const size_t *lens, int64_t *out_profiles,
                                    crm_status *out_status)
{
    char buf[LOOKUP_BYTES];
    lookup_item items[LOOKUP_BATCH];
    size_t next = 0, count;

    if (idn == NULL || (n > 0 && (kinds == NULL || raws == NULL ||
                                  out_profiles == NULL || out_status == NULL)))
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_lookup_many: NULL argument");
    while (next < n) {
        count = lookup_stage(idn, n, kinds, raws, lens, out_status, &next,
                             buf, items);
        lookup_finish(idn, kinds, buf, items, count, out_profiles,
                      out_status);
    }
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
            roots += !idn->obs.dead[i] && idn->st.node[i].parent == i;
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
        m = idn->st.node[m].next;
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
        m = idn->st.node[m].next;
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
    if (o == CRM_I64MAP_NONE || idn->st.node[o].parent != o)
        return crm_error(idn->ctx, CRM_ENOTFOUND, "no profile %lld",
                         (long long)profile);
    s = profile_value_list(idn, o, &ids, &n);
    if (s != CRM_OK)
        return s;
    for (i = 0; i < n; i++) {
        uint32_t v = ids[i];
        if (fn(user, idn->vals[v].kind, idn_value_bytes(idn, v),
               idn->vals[v].len) != 0) {
            s = crm_error(idn->ctx, CRM_ECALLBACK,
                          "the value callback returned non-zero");
            break;
        }
    }
    crm_mem_free(idn->ctx, ids);
    return s;
}
