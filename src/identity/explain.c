/*
 * Explaining a decision: a breadth-first search over the graph of
 * observations and the merging values they hold. Between two sources of
 * one profile it follows links that hold; otherwise it also follows the
 * refused ones, which are what kept the sources apart.
 */
#include <string.h>

#include "core/mem.h"
#include "identity/identity_internal.h"

typedef struct explain_graph {
    uint32_t *start; /* per value + 1: postings of merging values */
    uint32_t *post_obs;
    uint8_t *post_state;
    uint32_t *prev;  /* per node (observations, then values) */
    uint8_t *prev_state; /* state of the edge that reached the node */
    uint32_t *queue;
} explain_graph;

static void graph_free(const crm_identity *idn, explain_graph *g)
{
    crm_mem_free(idn->ctx, g->start);
    crm_mem_free(idn->ctx, g->post_obs);
    crm_mem_free(idn->ctx, g->post_state);
    crm_mem_free(idn->ctx, g->prev);
    crm_mem_free(idn->ctx, g->prev_state);
    crm_mem_free(idn->ctx, g->queue);
}

static int edge_usable(const crm_identity *idn, uint32_t v, uint8_t state,
                       int linked_only)
{
    if (v == IDN_NONE || !idn->kinds[idn->vals[v].kind].merges)
        return 0;
    if (state == IDN_L_LINKED)
        return 1;
    return !linked_only && state >= IDN_L_CONFLICT;
}

/* Builds the postings of every merging value (by counting). */
static int graph_build(const crm_identity *idn, explain_graph *g,
                       int linked_only)
{
    size_t nodes = idn->obs.nobs + idn->nvals, v;
    uint32_t o, k;

    memset(g, 0, sizeof *g);
    g->start = crm_mem_calloc(idn->ctx, idn->nvals + 2, 4);
    g->post_obs = crm_mem_alloc_array(idn->ctx, idn->obs.nidents + 1, 4);
    g->post_state = crm_mem_alloc_array(idn->ctx, idn->obs.nidents + 1, 1);
    g->prev = crm_mem_alloc_array(idn->ctx, nodes + 1, 4);
    g->prev_state = crm_mem_alloc_array(idn->ctx, nodes + 1, 1);
    g->queue = crm_mem_alloc_array(idn->ctx, nodes + 1, 4);
    if (!g->start || !g->post_obs || !g->post_state || !g->prev ||
        !g->prev_state || !g->queue)
        return -1;
    for (k = 0; k < idn->obs.nidents; k++)
        if (edge_usable(idn, idn->obs.ival[k], idn->st.istate[k], linked_only))
            g->start[idn->obs.ival[k] + 2]++;
    for (v = 0; v < idn->nvals; v++)
        g->start[v + 2] += g->start[v + 1];
    for (o = 0; o < idn->obs.nobs; o++) {
        for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++) {
            uint32_t val = idn->obs.ival[k];
            if (!edge_usable(idn, val, idn->st.istate[k], linked_only))
                continue;
            g->post_obs[g->start[val + 1]] = o;
            g->post_state[g->start[val + 1]++] = idn->st.istate[k];
        }
    }
    for (v = 0; v < nodes; v++)
        g->prev[v] = IDN_NONE;
    return 0;
}

/* Breadth-first search from observation a; 1 when b was reached. */
static int search(const crm_identity *idn, explain_graph *g, uint32_t a,
                  uint32_t b, int linked_only)
{
    size_t head = 0, tail = 0;
    uint32_t nobs = (uint32_t)idn->obs.nobs, k, p;

    g->prev[a] = a;
    g->queue[tail++] = a;
    while (head < tail) {
        uint32_t node = g->queue[head++];
        if (node == b)
            return 1;
        if (node < nobs) {
            for (k = idn->obs.istart[node]; k < idn->obs.istart[node + 1]; k++) {
                uint32_t v = idn->obs.ival[k];
                if (!edge_usable(idn, v, idn->st.istate[k], linked_only) ||
                    g->prev[nobs + v] != IDN_NONE)
                    continue;
                g->prev[nobs + v] = node;
                g->prev_state[nobs + v] = idn->st.istate[k];
                g->queue[tail++] = nobs + v;
            }
            continue;
        }
        for (p = g->start[node - nobs]; p < g->start[node - nobs + 1]; p++) {
            uint32_t o = g->post_obs[p];
            if (g->prev[o] != IDN_NONE)
                continue;
            g->prev[o] = node;
            g->prev_state[o] = g->post_state[p];
            g->queue[tail++] = o;
        }
    }
    return 0;
}

/* Delivers the chain a .. b found by search, from a to b. */
static crm_status deliver(const crm_identity *idn, explain_graph *g,
                          uint32_t a, uint32_t b, crm_identity_explain_fn fn,
                          void *user)
{
    uint32_t nobs = (uint32_t)idn->obs.nobs, node = b;
    size_t n = 0, i;

    /* reverse the path into queue: observation, value, observation ... */
    while (node != a) {
        g->queue[n++] = node;
        node = g->prev[node];
    }
    g->queue[n++] = a;
    for (i = n - 1; i >= 2; i -= 2) {
        uint32_t from = g->queue[i], v = g->queue[i - 1] - nobs;
        uint32_t to = g->queue[i - 2];
        uint8_t s1 = g->prev_state[nobs + v], s2 = g->prev_state[to];
        int linked = s1 == IDN_L_LINKED && s2 == IDN_L_LINKED;
        crm_identity_event why =
            linked ? (crm_identity_event)0
                   : idn_state_event(s1 != IDN_L_LINKED ? s1 : s2);
        if (fn(user, idn->obs.src[from], idn->obs.src[to], idn->vals[v].kind,
               idn_value_bytes(idn, v), idn->vals[v].len, linked, why) != 0)
            return crm_error(idn->ctx, CRM_ECALLBACK,
                             "the explain callback returned non-zero");
    }
    return CRM_OK;
}

static crm_status explain_obs(const crm_identity *idn, uint32_t a, uint32_t b,
                              crm_identity_explain_fn fn, void *user,
                              int *out_linked)
{
    explain_graph g;
    int linked = idn_find_const(&idn->st, a) == idn_find_const(&idn->st, b);
    crm_status s = CRM_OK;

    if (a == b) {
        *out_linked = 1;
        return CRM_OK;
    }
    if (graph_build(idn, &g, linked) != 0) {
        graph_free(idn, &g);
        return crm_error_nomem(idn->ctx);
    }
    if (search(idn, &g, a, b, linked))
        s = deliver(idn, &g, a, b, fn, user);
    graph_free(idn, &g);
    if (s == CRM_OK)
        *out_linked = linked;
    return s;
}

crm_status crm_identity_explain_sources(const crm_identity *idn, int64_t a,
                                        int64_t b, crm_identity_explain_fn fn,
                                        void *user, int *out_linked)
{
    uint32_t oa, ob;

    if (idn == NULL || fn == NULL || out_linked == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_explain_sources: NULL argument");
    oa = crm_i64map_get(&idn->smap, a);
    ob = crm_i64map_get(&idn->smap, b);
    if (oa == CRM_I64MAP_NONE || ob == CRM_I64MAP_NONE)
        return crm_error(idn->ctx, CRM_ENOTFOUND, "source_id %lld unknown",
                         (long long)(oa == CRM_I64MAP_NONE ? a : b));
    return explain_obs(idn, oa, ob, fn, user, out_linked);
}

/* An observation holding value (kind, raw): its anchor, else the first. */
static crm_status holder_of(const crm_identity *idn, int kind,
                            const char *raw, size_t len, uint32_t *out)
{
    uint32_t v, o, k;
    crm_status s = idn_value_find_raw(idn, kind, raw, len, &v);

    if (s != CRM_OK)
        return s;
    if (v != IDN_NONE && idn->st.vs[v].anchor != IDN_NONE) {
        *out = idn->st.vs[v].anchor;
        return CRM_OK;
    }
    for (o = 0; v != IDN_NONE && o < idn->obs.nobs; o++) {
        for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++) {
            if (idn->obs.ival[k] == v) {
                *out = o;
                return CRM_OK;
            }
        }
    }
    return crm_error(idn->ctx, CRM_ENOTFOUND, "no source holds the value");
}

crm_status crm_identity_explain_values(
    const crm_identity *idn, int kind_a, const char *raw_a, size_t len_a,
    int kind_b, const char *raw_b, size_t len_b, crm_identity_explain_fn fn,
    void *user, int *out_linked)
{
    uint32_t oa, ob;
    crm_status s;

    if (idn == NULL || fn == NULL || out_linked == NULL || raw_a == NULL ||
        raw_b == NULL || !idn_kind_valid(idn, kind_a) ||
        !idn_kind_valid(idn, kind_b))
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_explain_values: NULL or unknown kind");
    s = holder_of(idn, kind_a, raw_a, len_a, &oa);
    if (s == CRM_OK)
        s = holder_of(idn, kind_b, raw_b, len_b, &ob);
    if (s != CRM_OK)
        return s;
    return explain_obs(idn, oa, ob, fn, user, out_linked);
}
