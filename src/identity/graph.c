/*
 * The identity graph: interned values, observation arrays, the undo log,
 * union-find with per-profile counters, and the linking of one
 * observation's identifiers (the rules of include/crm/identity.h).
 */
#define _DEFAULT_SOURCE 1 /* madvise, see core/memhint.h */
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"
#include "core/memhint.h"
#include "identity/identity_internal.h"
#include "identity/normalize.h"

/* ---- values ---- */

/* The low bits of a value's key hold its kind and length (below
 * IDN_KEY_TAG_BITS), so that equal keys mean equal kinds and lengths. */
#define IDN_KEY_LEN_BITS 11
#define IDN_KEY_TAG_BITS (IDN_KEY_LEN_BITS + 6)
#define IDN_KEY_TAG_MASK ((UINT64_C(1) << IDN_KEY_TAG_BITS) - 1)
_Static_assert(CRM_IDENTITY_MAX_VALUE < (1u << IDN_KEY_LEN_BITS),
               "a value's length fits its key's length bits");
_Static_assert(IDN_MAX_KINDS <= 64, "a kind fits its key's 6 kind bits");

uint64_t idn_hash(int kind, const char *s, size_t len)
{
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(kind + 1) ^ len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * UINT64_C(0x100000001b3);
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, s + i, len - i);
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    return (crm_mix64(h) & ~IDN_KEY_TAG_MASK) |
           (uint64_t)kind << IDN_KEY_LEN_BITS | len;
}

/* The next key of a collision chain (same kind and length). */
static uint64_t rehash(uint64_t key)
{
    return (crm_mix64(key + UINT64_C(0x9e3779b97f4a7c15)) & ~IDN_KEY_TAG_MASK) |
           (key & IDN_KEY_TAG_MASK);
}

static void slot_fill(const crm_identity *idn, idn_vmap_slot *slot, uint32_t v)
{
    uint64_t off = idn_value_off(&idn->vals[v]);

    slot->v = v;
    slot->off = off < IDN_NONE ? (uint32_t)off : IDN_NONE;
}

/* Whether the value in slot is (kind, s), whose key the slot holds. The
 * key fixes kind and length, and a slot with an offset holds a live value,
 * so the hit path reads the bytes alone. */
static int slot_equals(const crm_identity *idn, const idn_vmap_slot *slot,
                       int kind, const char *s, size_t len)
{
    const idn_value *val = &idn->vals[slot->v];

    if (slot->off != IDN_NONE)
        return memcmp(idn->bytes + slot->off, s, len) == 0;
    return val->kind == (uint8_t)kind && val->len == len &&
           (val->flags & IDN_V_DEAD) == 0 &&
           memcmp(idn->bytes + idn_value_off(val), s, len) == 0;
}

uint32_t idn_value_find(const crm_identity *idn, int kind, const char *s,
                        size_t len)
{
    return idn_value_find_hashed(idn, idn_hash(kind, s, len), kind, s, len);
}

uint32_t idn_value_find_hashed(const crm_identity *idn, uint64_t key,
                               int kind, const char *s, size_t len)
{
    for (;;) {
        const idn_vmap_slot *slot = crm_i64map_find(&idn->vmap, (int64_t)key);
        if (slot == NULL)
            return IDN_NONE;
        /* callers mostly read the value's link (and lookups its profile)
         * next: load them meanwhile */
        crm_prefetch(&idn->st.vs[slot->v]);
        if (idn->profiles_current)
            crm_prefetch(&idn->vprofile[slot->v]);
        if (slot_equals(idn, slot, kind, s, len))
            return slot->v;
        key = rehash(key);
    }
}

/* Arrays of at least this many bytes live in memory advised for huge
 * pages (resize). */
#define IDN_HUGE_ARRAY ((size_t)4 << 20)

/* Resizes *array to n elements of size bytes, keeping its first used
 * elements; 0 or -1 (array unchanged). Linking and lookups read the big
 * arrays at random places, where 4 KiB pages would cost a TLB miss nearly
 * every time: a big array moves into fresh memory advised for huge pages
 * before its first write. It is not grown by realloc, which moves a big
 * block with mremap and splits its huge pages when the new address is not
 * aligned like the old one (most of a grown array then ended up in 4 KiB
 * pages); the copy holds the used part twice for a moment, one array at
 * a time. */
static int resize(crm_identity *idn, void *array, size_t used, size_t n,
                  size_t size)
{
    void **slot = array;
    void *p;

    if (n * size < IDN_HUGE_ARRAY) {
        p = crm_mem_realloc_array(idn->ctx, *slot, n, size);
        if (p == NULL)
            return -1;
    } else {
        p = crm_mem_alloc_array(idn->ctx, n, size);
        if (p == NULL)
            return -1;
        crm_advise_huge_pages(p, n * size);
        if (*slot != NULL && used > 0)
            memcpy(p, *slot, (used < n ? used : n) * size);
        crm_mem_free(idn->ctx, *slot);
    }
    *slot = p;
    return 0;
}

static size_t next_cap(size_t cap, size_t need)
{
    size_t c = cap < 8 ? 8 : cap;

    while (c < need)
        c *= 2;
    return c;
}

static int grow_bytes(crm_identity *idn, size_t need)
{
    size_t c;

    if (need <= idn->bytes_cap)
        return 0;
    if (need > IDN_MAX_BYTES)
        return -1;
    c = next_cap(idn->bytes_cap, need);
    if (resize(idn, &idn->bytes, idn->nbytes, c, 1))
        return -1;
    idn->bytes_cap = c;
    return 0;
}

int idn_grow_values(crm_identity *idn, size_t need)
{
    size_t c;

    if (need <= idn->vals_cap)
        return 0;
    if (need >= IDN_NONE)
        return -1;
    c = next_cap(idn->vals_cap, need);
    if (resize(idn, &idn->vals, idn->nvals, c, sizeof *idn->vals) ||
        resize(idn, &idn->st.vs, idn->nvals, c, sizeof *idn->st.vs) ||
        resize(idn, &idn->st.track_head, idn->nvals, c, 4) ||
        resize(idn, &idn->vprofile, idn->nvals, c, 8))
        return -1;
    idn->vals_cap = c;
    return 0;
}

int idn_grow_obs(crm_identity *idn, size_t need)
{
    size_t c, used;

    if (need <= idn->obs.obs_cap && idn->obs.istart != NULL)
        return 0;
    if (need >= IDN_NONE)
        return -1;
    c = next_cap(idn->obs.obs_cap, need);
    used = idn->obs.nobs;
    if (resize(idn, &idn->obs.src, used, c, 8) ||
        resize(idn, &idn->obs.at, used, c, 8) ||
        resize(idn, &idn->obs.istart, used + 1, c + 1, 4) ||
        resize(idn, &idn->obs.dead, used, c, 1) ||
        resize(idn, &idn->st.node, used, c, sizeof *idn->st.node))
        return -1;
    if (idn->obs.obs_cap == 0)
        idn->obs.istart[0] = 0;
    idn->obs.obs_cap = c;
    return 0;
}

int idn_grow_idents(crm_identity *idn, size_t need)
{
    size_t c;

    if (need <= idn->obs.idents_cap)
        return 0;
    if (need >= IDN_NONE)
        return -1;
    c = next_cap(idn->obs.idents_cap, need);
    if (resize(idn, &idn->obs.ival, idn->obs.nidents, c, 4) ||
        resize(idn, &idn->st.istate, idn->obs.nidents, c, 1))
        return -1;
    idn->obs.idents_cap = c;
    return 0;
}

int idn_grow_pool(crm_identity *idn, idn_state *st, size_t need)
{
    void *p = st->pool;

    if (need <= st->pool_cap)
        return 0;
    if (crm_mem_grow(idn->ctx, &p, &st->pool_cap, need, sizeof *st->pool))
        return -1;
    st->pool = p;
    return 0;
}

/* Maps this large grow by a quarter; smaller ones double, since every
 * growth rehashes the whole map and memory is not what limits them. */
#define IDN_MAP_QUARTER_MIN ((size_t)1 << 22)

int idn_map_reserve(crm_identity *idn, crm_i64map *map, size_t extra)
{
    size_t count = map->count, need = count + extra;
    size_t step = count < IDN_MAP_QUARTER_MIN ? count : count / 4;

    if (need <= crm_i64map_room(map))
        return 0;
    if (need < count + step)
        need = count + step;
    return crm_i64map_reserve(idn->ctx, map, need);
}

int idn_grow_blocks(crm_identity *idn, idn_state *st, size_t need)
{
    size_t c;

    if (need <= st->blocks_cap)
        return 0;
    c = next_cap(st->blocks_cap, need);
    if (resize(idn, &st->cnt, st->nblocks, c, idn->ncnt * 4))
        return -1;
    st->blocks_cap = c;
    return 0;
}

/* The map slot of value (kind, s) along the collision chain of *key, or
 * NULL when it is not mapped: *key is then the chain's first free key. */
static idn_vmap_slot *map_probe(const crm_identity *idn, uint64_t *key,
                                int kind, const char *s, size_t len)
{
    for (;;) {
        idn_vmap_slot *slot = crm_i64map_find(&idn->vmap, (int64_t)*key);
        if (slot == NULL || slot_equals(idn, slot, kind, s, len))
            return slot;
        *key = rehash(*key);
    }
}

int idn_value_intern(crm_identity *idn, int kind, const char *s, size_t len,
                     uint32_t *out)
{
    return idn_value_intern_hashed(idn, idn_hash(kind, s, len), kind, s, len,
                                   out);
}

int idn_value_intern_hashed(crm_identity *idn, uint64_t key, int kind,
                            const char *s, size_t len, uint32_t *out)
{
    idn_vmap_slot *slot = map_probe(idn, &key, kind, s, len);
    uint32_t v;
    int inserted;

    if (slot != NULL) {
        *out = slot->v;
        return 0;
    }
    if (idn_grow_values(idn, idn->nvals + 1) ||
        grow_bytes(idn, idn->nbytes + len) ||
        idn_map_reserve(idn, &idn->vmap, 1))
        return -1;
    slot = crm_i64map_insert(idn->ctx, &idn->vmap, (int64_t)key, &inserted);
    if (slot == NULL)
        return -1;
    v = (uint32_t)idn->nvals++;
    memcpy(idn->bytes + idn->nbytes, s, len);
    idn_value_set_off(&idn->vals[v], idn->nbytes);
    idn->vals[v].len = (uint16_t)len;
    idn->vals[v].kind = (uint8_t)kind;
    idn->vals[v].flags = 0;
    slot_fill(idn, slot, v);
    idn->st.vs[v].anchor = IDN_NONE;
    idn->st.vs[v].flags = 0;
    idn->st.track_head[v] = IDN_NONE;
    if (idn->kinds[kind].nparts == 0 &&
        crm_normalize_is_placeholder(idn->kinds[kind].normalizer, s, len))
        idn->vals[v].flags = IDN_V_PLACEHOLDER;
    idn->st.vs[v].flags = idn_vslot_meta(&idn->vals[v]);
    idn->nbytes += len;
    *out = v;
    return 0;
}

int idn_value_map_insert(crm_identity *idn, uint32_t v)
{
    int inserted;
    const char *s = idn_value_bytes(idn, v);
    int kind = idn->vals[v].kind;
    size_t len = idn->vals[v].len;
    uint64_t key = idn_hash(kind, s, len);
    idn_vmap_slot *slot;

    if (map_probe(idn, &key, kind, s, len) != NULL)
        return 0;
    if (idn_map_reserve(idn, &idn->vmap, 1))
        return -1;
    slot = crm_i64map_insert(idn->ctx, &idn->vmap, (int64_t)key, &inserted);
    if (slot == NULL)
        return -1;
    slot_fill(idn, slot, v);
    return 0;
}

void idn_value_prefetch(const crm_identity *idn, uint64_t key,
                        idn_prefetch what)
{
    const idn_vmap_slot *slot = crm_i64map_find(&idn->vmap, (int64_t)key);

    if (slot == NULL)
        return;
    crm_prefetch(&idn->vals[slot->v]);
    if (slot->off != IDN_NONE)
        crm_prefetch(idn->bytes + slot->off);
    if (what != IDN_PREFETCH_VALUE)
        crm_prefetch(&idn->st.vs[slot->v]);
    if (what == IDN_PREFETCH_PROFILE && idn->profiles_current)
        crm_prefetch(&idn->vprofile[slot->v]);
}

/* The map slot of live value v, or NULL. */
static idn_vmap_slot *value_slot(crm_identity *idn, uint32_t v)
{
    uint64_t key = idn_hash(idn->vals[v].kind, idn_value_bytes(idn, v),
                            idn->vals[v].len);

    for (;;) {
        idn_vmap_slot *slot = crm_i64map_find(&idn->vmap, (int64_t)key);
        if (slot == NULL || slot->v == v)
            return slot;
        key = rehash(key);
    }
}

/* Removes value v (the last one interned) from the map. */
static void value_unmap(crm_identity *idn, uint32_t v)
{
    idn_vmap_slot *slot = value_slot(idn, v);

    if (slot != NULL)
        crm_i64map_remove(&idn->vmap, slot->key);
}

void idn_value_erase(crm_identity *idn, uint32_t v)
{
    idn_vmap_slot *slot;

    if (idn->vals[v].flags & IDN_V_DEAD)
        return;
    slot = value_slot(idn, v);
    if (slot != NULL)
        slot->off = IDN_NONE;
    memset(idn->bytes + idn_value_off(&idn->vals[v]), 0, idn->vals[v].len);
    idn->vals[v].len = 0;
    idn->vals[v].flags |= IDN_V_DEAD;
}

void idn_sort_values(const crm_identity *idn, uint32_t *ids, uint32_t *tmp,
                     size_t n)
{
    size_t width, lo;

    for (width = 1; width < n; width *= 2) {
        for (lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = idn_value_cmp(idn, ids[j], ids[i]) < 0 ? ids[j++]
                                                                 : ids[i++];
            while (i < mid)
                tmp[k++] = ids[i++];
            while (j < hi)
                tmp[k++] = ids[j++];
        }
        memcpy(ids, tmp, n * sizeof *ids);
    }
}

/* ---- operations: marks, undo log, rollback ---- */

idn_mark idn_mark_take(const crm_identity *idn)
{
    idn_mark m;

    m.nobs = idn->obs.nobs;
    m.nvals = idn->nvals;
    m.nbytes = idn->nbytes;
    m.nidents = idn->obs.nidents;
    m.npool = idn->st.npool;
    m.nlive = idn->nlive;
    m.nblocks = idn->st.nblocks;
    return m;
}

int idn_undo_reserve(crm_identity *idn, size_t extra)
{
    void *p = idn->undo;

    if (idn->nundo + extra <= idn->undo_cap)
        return 0;
    if (crm_mem_grow(idn->ctx, &p, &idn->undo_cap, idn->nundo + extra,
                     sizeof *idn->undo))
        return -1;
    idn->undo = p;
    return 0;
}

int idn_undo_push(crm_identity *idn, void *slot, uint32_t old, uint32_t width)
{
    if (idn->nundo == idn->undo_cap && idn_undo_reserve(idn, 1) != 0) {
        idn->undo_failed = 1;
        return -1;
    }
    idn->undo[idn->nundo].slot = slot;
    idn->undo[idn->nundo].old = old;
    idn->undo[idn->nundo].width = width;
    idn->nundo++;
    return 0;
}

void idn_rollback(crm_identity *idn, const idn_mark *m)
{
    size_t i;

    while (idn->nundo > 0) {
        idn_undo_entry *e = &idn->undo[--idn->nundo];
        if (e->width == 4)
            *(uint32_t *)e->slot = e->old;
        else
            *(uint8_t *)e->slot = (uint8_t)e->old;
    }
    for (i = idn->obs.nobs; i > m->nobs; i--)
        crm_i64map_remove(&idn->smap, idn->obs.src[i - 1]);
    for (i = idn->nvals; i > m->nvals; i--)
        value_unmap(idn, (uint32_t)(i - 1));
    idn->obs.nobs = m->nobs;
    idn->nvals = m->nvals;
    idn->nbytes = m->nbytes;
    idn->obs.nidents = m->nidents;
    idn->st.npool = m->npool;
    idn->st.nblocks = m->nblocks;
    idn->nlive = m->nlive;
    idn->undo_failed = 0;
}

void idn_commit(crm_identity *idn)
{
    idn->nundo = 0;
    idn->undo_failed = 0;
}

/* ---- union-find ---- */

uint32_t idn_find_const(const idn_state *st, uint32_t x)
{
    while (st->node[x].parent != x)
        x = st->node[x].parent;
    return x;
}

/* Path halving: every other node on the path skips to its grandparent.
 * A logged run logs these writes too, since a rollback may undo a union
 * that a halved path went through. */
uint32_t idn_find(idn_run *run, uint32_t x)
{
    idn_node *node = run->st->node;

    while (node[x].parent != x) {
        uint32_t up = node[node[x].parent].parent;
        if (up != node[x].parent && run->logged)
            idn_put32(run, &node[x].parent, up);
        else
            node[x].parent = up;
        x = up;
    }
    return x;
}

int idn_earlier(const crm_identity *idn, uint32_t a, uint32_t b)
{
    if (idn->obs.at[a] != idn->obs.at[b])
        return idn->obs.at[a] < idn->obs.at[b];
    return idn->obs.src[a] < idn->obs.src[b];
}

void idn_release_counters(idn_run *run, uint32_t o)
{
    idn_state *st = run->st;
    uint32_t b = st->node[o].block;

    if (b == IDN_NONE)
        return;
    idn_put32(run, &st->cnt[(size_t)b * run->idn->ncnt], st->free_block);
    idn_put32(run, &st->free_block, b);
    idn_put32(run, &st->node[o].block, IDN_NONE);
}

void idn_reset_observation(idn_run *run, uint32_t o)
{
    idn_state *st = run->st;

    idn_put32(run, &st->node[o].parent, o);
    idn_put32(run, &st->node[o].next, o);
    idn_release_counters(run, o);
}

/* ---- events ---- */

int idn_emit(idn_run *run, crm_identity_event ev, int64_t profile,
             int64_t other, int64_t to, uint32_t value)
{
    crm_identity *idn = run->idn;
    int kind = -1;
    const char *s = NULL;
    size_t len = 0;

    if (!run->events || idn->event_fn == NULL || run->stopped)
        return 0;
    if (value != IDN_NONE) {
        kind = idn->vals[value].kind;
        s = idn_value_bytes(idn, value);
        len = idn->vals[value].len;
    }
    if (idn->event_fn(idn->event_user, ev, profile, other, to, kind, s,
                      len) != 0)
        run->stopped = 1;
    return run->stopped;
}

int idn_emit_raw(idn_run *run, crm_identity_event ev, int64_t profile,
                 int kind, const char *s, size_t len)
{
    crm_identity *idn = run->idn;

    if (!run->events || idn->event_fn == NULL || run->stopped)
        return 0;
    if (idn->event_fn(idn->event_user, ev, profile, 0, 0, kind, s, len) != 0)
        run->stopped = 1;
    return run->stopped;
}

crm_identity_event idn_state_event(uint8_t state)
{
    switch (state) {
    case IDN_L_SHARED:
        return CRM_IDENTITY_SHARED;
    case IDN_L_BLOCKED:
        return CRM_IDENTITY_BLOCKED;
    case IDN_L_CAPPED:
        return CRM_IDENTITY_CAPPED;
    default:
        return CRM_IDENTITY_CONFLICT;
    }
}

/* ---- linking ---- */

/* Counters of a root without a block. */
static const uint32_t no_counters[IDN_MAX_KINDS + 1];

/* The counters of root, to read. */
static const uint32_t *counters(const idn_run *run, uint32_t root)
{
    uint32_t b = run->st->node[root].block;

    if (b == IDN_NONE)
        return no_counters;
    return run->st->cnt + (size_t)b * run->idn->ncnt;
}

/* A zeroed block from the free list, else a new one; IDN_NONE (and
 * undo_failed set) when there is no room. */
static uint32_t take_block(idn_run *run)
{
    crm_identity *idn = run->idn;
    idn_state *st = run->st;
    size_t j, k = idn->ncnt;
    uint32_t b = st->free_block, *c;

    if (b != IDN_NONE) {
        c = st->cnt + (size_t)b * k;
        idn_put32(run, &st->free_block, c[0]);
        for (j = 0; j < k; j++)
            idn_put32(run, &c[j], 0);
        return b;
    }
    if (st->nblocks == st->blocks_cap &&
        (run->logged || idn_grow_blocks(idn, st, st->nblocks + 1) != 0)) {
        idn->undo_failed = 1;
        return IDN_NONE;
    }
    b = (uint32_t)st->nblocks++;
    memset(st->cnt + (size_t)b * k, 0, k * 4);
    return b;
}

uint32_t *idn_counters_for_write(idn_run *run, uint32_t root)
{
    idn_state *st = run->st;
    uint32_t b = st->node[root].block;

    if (b == IDN_NONE) {
        b = take_block(run);
        if (b == IDN_NONE)
            return run->idn->spare_counters;
        idn_put32(run, &st->node[root].block, b);
    }
    return st->cnt + (size_t)b * run->idn->ncnt;
}

/* Whether a held slot (one value per profile) of root may take value v. */
static int held_fits(const uint32_t *c, uint32_t slot, uint32_t v)
{
    return c[slot] == 0 || c[slot] == v + 1;
}

/* Whether held slot j of roots a and b names two different values. */
static int held_differ(const uint32_t *ca, const uint32_t *cb, size_t j)
{
    return ca[j] != 0 && cb[j] != 0 && ca[j] != cb[j];
}

/* Whether root may take one more value v of kind: IDN_L_LINKED or the
 * refusing state. */
static uint8_t check_grow(idn_run *run, uint32_t root, int kind, uint32_t v)
{
    const crm_identity *idn = run->idn;
    const uint32_t *c = counters(run, root);
    uint32_t slot = idn->kinds[kind].slot;

    if (c[0] >= idn->profile_cap)
        return IDN_L_CAPPED;
    if (slot != 0 && idn->slot_held[slot])
        return held_fits(c, slot, v) ? IDN_L_LINKED : IDN_L_CONFLICT;
    if (slot != 0 && c[slot] >= idn->slot_limit[slot])
        return IDN_L_CONFLICT;
    return IDN_L_LINKED;
}

/* Whether roots a and b may merge. */
static uint8_t check_merge(idn_run *run, uint32_t a, uint32_t b)
{
    const crm_identity *idn = run->idn;
    const uint32_t *ca = counters(run, a), *cb = counters(run, b);
    size_t j;

    for (j = 1; j < idn->ncnt; j++) {
        if (idn->slot_held[j] ? held_differ(ca, cb, j)
                              : ca[j] > 0 && cb[j] > 0 &&
                                    ca[j] + cb[j] > idn->slot_limit[j])
            return IDN_L_CONFLICT;
    }
    if (ca[0] > 0 && cb[0] > 0 && ca[0] + cb[0] > idn->profile_cap)
        return IDN_L_CAPPED;
    return IDN_L_LINKED;
}

/* Whether roots a and b both hold values of one limited kind: a link
 * between them ties together profiles that hold different values of it,
 * which the shared-value guard counts. */
static int contested(idn_run *run, uint32_t a, uint32_t b)
{
    const uint32_t *ca = counters(run, a), *cb = counters(run, b);
    size_t j;

    for (j = 1; j < run->idn->ncnt; j++)
        if (run->idn->slot_held[j] ? held_differ(ca, cb, j)
                                   : ca[j] > 0 && cb[j] > 0)
            return 1;
    return 0;
}

static void attach(idn_run *run, uint32_t root, uint32_t o, uint32_t v,
                   int kind)
{
    uint32_t *c = idn_counters_for_write(run, root);
    uint32_t slot = run->idn->kinds[kind].slot;

    idn_put32(run, &run->st->vs[v].anchor, o);
    if (run->profiles)
        run->idn->vprofile[v] = run->idn->obs.src[root];
    idn_put32(run, &c[0], c[0] + 1);
    if (slot != 0 && run->idn->slot_held[slot])
        idn_put32(run, &c[slot], v + 1);
    else if (slot != 0)
        idn_put32(run, &c[slot], c[slot] + 1);
}

static void report_merge(idn_run *run, uint32_t winner, uint32_t loser)
{
    crm_identity *idn = run->idn;

    if (!run->merge_events)
        return;
    if (run->fresh == loser)
        return; /* the new observation joined an existing profile */
    idn_emit(run, CRM_IDENTITY_MERGED, idn->obs.src[winner], idn->obs.src[loser], 0,
             IDN_NONE);
}

/* Adds the counters of loser into winner's, both roots. A winner with no
 * counters takes the loser's block as it is. */
static void merge_counters(idn_run *run, uint32_t winner, uint32_t loser)
{
    idn_state *st = run->st;
    uint32_t bw = st->node[winner].block, bl = st->node[loser].block;
    uint32_t *cw, *cl;
    size_t j;

    if (bl == IDN_NONE)
        return;
    if (bw == IDN_NONE) {
        idn_put32(run, &st->node[winner].block, bl);
        idn_put32(run, &st->node[loser].block, IDN_NONE);
        return;
    }
    cw = st->cnt + (size_t)bw * run->idn->ncnt;
    cl = st->cnt + (size_t)bl * run->idn->ncnt;
    for (j = 0; j < run->idn->ncnt; j++) {
        if (!run->idn->slot_held[j])
            idn_put32(run, &cw[j], cw[j] + cl[j]);
        else if (cw[j] == 0)
            idn_put32(run, &cw[j], cl[j]);
    }
    idn_release_counters(run, loser);
}

/* The most identifiers rename_credit holds. */
#define IDN_RENAME_CREDIT_MAX 65536

void idn_rename_credit_add(crm_identity *idn, size_t n)
{
    size_t room = IDN_RENAME_CREDIT_MAX - idn->rename_credit;

    idn->rename_credit += n < room ? n : room;
}

/* Writes winner's profile id to vprofile for the values attached to the
 * profile of root loser (those its members linked or held), spending the
 * rename credit; when that runs out the upkeep stops instead (lookups
 * then climb to the root until the next resolve). */
static void rename_profile(idn_run *run, uint32_t loser, uint32_t winner)
{
    crm_identity *idn = run->idn;
    const idn_state *st = run->st;
    int64_t profile = idn->obs.src[winner];
    uint32_t m = loser, k, lo, hi;

    do {
        lo = idn->obs.istart[m];
        hi = idn->obs.istart[m + 1];
        if (hi - lo > idn->rename_credit) {
            idn->profiles_current = 0;
            run->profiles = 0;
            return;
        }
        idn->rename_credit -= hi - lo;
        for (k = lo; k < hi; k++)
            if (st->istate[k] == IDN_L_LINKED || st->istate[k] == IDN_L_HELD)
                idn->vprofile[idn->obs.ival[k]] = profile;
        m = st->node[m].next;
    } while (m != loser);
}

static void unite(idn_run *run, uint32_t a, uint32_t b)
{
    idn_state *st = run->st;
    int a_first = run->ordered ? a < b : idn_earlier(run->idn, a, b);
    uint32_t winner = a_first ? a : b;
    uint32_t loser = winner == a ? b : a;
    uint32_t na = st->node[a].next, nb = st->node[b].next;

    idn_put32(run, &st->node[loser].parent, winner);
    merge_counters(run, winner, loser);
    if (run->profiles)
        rename_profile(run, loser, winner);
    idn_put32(run, &st->node[a].next, nb);
    idn_put32(run, &st->node[b].next, na);
    report_merge(run, winner, loser);
    run->fresh = IDN_NONE;
}

/* Remembers that v tied profile root to owner's against a rule (a refused
 * link, or a link between profiles holding different values of a limited
 * kind); marks v shared when it tied more than K profiles so. Profiles are
 * counted when they are tied, so ties that merged still count. */
static void track_refusal(idn_run *run, uint32_t v, uint32_t owner,
                          uint32_t root)
{
    crm_identity *idn = run->idn;
    idn_state *st = run->st;
    uint32_t t, distinct = 1, seen_root = 0, e;

    for (t = st->track_head[v]; t != IDN_NONE; t = st->pool[t].next) {
        uint32_t r = idn_find(run, st->pool[t].obs);
        if (r == root)
            seen_root = 1;
        distinct++;
    }
    if (!seen_root) {
        if (st->npool == st->pool_cap &&
            (run->logged || idn_grow_pool(idn, st, st->npool + 1) != 0)) {
            idn->undo_failed = 1;
            return;
        }
        e = (uint32_t)st->npool++;
        st->pool[e].obs = root;
        st->pool[e].next = st->track_head[v];
        idn_put32(run, &st->track_head[v], e);
        distinct++;
    }
    if (distinct > idn->shared_limit &&
        (st->vs[v].flags & IDN_F_SHARED) == 0) {
        idn_put32(run, &st->vs[v].flags, st->vs[v].flags | IDN_F_SHARED);
        run->new_shared = 1;
        idn_emit(run, CRM_IDENTITY_SHARED, idn->obs.src[owner], 0, 0, v);
    }
}

static void mark_multi(idn_run *run, uint32_t v)
{
    uint32_t *f = &run->st->vs[v].flags;

    if ((*f & IDN_F_MULTI) == 0)
        idn_put32(run, f, *f | IDN_F_MULTI);
}

static uint8_t refuse(idn_run *run, uint8_t why, uint32_t root,
                      uint32_t other, uint32_t v)
{
    crm_identity *idn = run->idn;
    crm_identity_event ev = why == IDN_L_CAPPED ? CRM_IDENTITY_CAPPED
                                                : CRM_IDENTITY_CONFLICT;

    idn_emit(run, ev, idn->obs.src[root],
             other == IDN_NONE ? 0 : idn->obs.src[other], 0, v);
    if (other != IDN_NONE) {
        mark_multi(run, v);
        if (why == IDN_L_CONFLICT)
            track_refusal(run, v, other, root);
    }
    return why;
}

/* A non-merging value v another profile holds: a held slot of root still
 * takes it (or refuses it when root holds another value). */
static uint8_t hold_elsewhere(idn_run *run, uint32_t root, uint32_t v,
                              int kind)
{
    uint32_t slot = run->idn->kinds[kind].slot;
    const uint32_t *c = counters(run, root);

    if (slot == 0 || !run->idn->slot_held[slot])
        return IDN_L_ELSEWHERE;
    if (!held_fits(c, slot, v))
        return refuse(run, IDN_L_CONFLICT, root, IDN_NONE, v);
    if (c[slot] == 0)
        idn_put32(run, &idn_counters_for_write(run, root)[slot], v + 1);
    return IDN_L_ELSEWHERE;
}

/* Links observation o with value v; returns the link state. */
static uint8_t link_value(idn_run *run, uint32_t o, uint32_t v)
{
    crm_identity *idn = run->idn;
    idn_state *st = run->st;
    uint32_t flags = st->vs[v].flags;
    int kind = IDN_VSLOT_KIND(flags);
    int merges = idn->kinds[kind].merges;
    uint32_t root, owner;
    uint8_t why;

    if (IDN_VSLOT_STATIC(flags) & (IDN_V_BLOCKED | IDN_V_PLACEHOLDER)) {
        idn_emit(run, CRM_IDENTITY_BLOCKED, idn->obs.src[idn_find(run, o)], 0, 0,
                 v);
        return IDN_L_BLOCKED;
    }
    if (st->vs[v].flags & IDN_F_SHARED)
        return IDN_L_SHARED;
    root = idn_find(run, o);
    if (st->vs[v].anchor == IDN_NONE) {
        why = check_grow(run, root, kind, v);
        if (why != IDN_L_LINKED)
            return refuse(run, why, root, IDN_NONE, v);
        attach(run, root, o, v, kind);
        return merges ? IDN_L_LINKED : IDN_L_HELD;
    }
    owner = idn_find(run, st->vs[v].anchor);
    if (owner == root)
        return merges ? IDN_L_LINKED : IDN_L_HELD;
    if (!merges) {
        mark_multi(run, v);
        return hold_elsewhere(run, root, v, kind);
    }
    why = check_merge(run, root, owner);
    if (why != IDN_L_LINKED)
        return refuse(run, why, root, owner, v);
    if (contested(run, root, owner)) {
        track_refusal(run, v, owner, root);
        if (st->vs[v].flags & IDN_F_SHARED)
            return IDN_L_SHARED;
    }
    unite(run, root, owner);
    return IDN_L_LINKED;
}

/* First pass for value v that a profile holds already: when v is of a held
 * slot, o's profile takes it now (it is linked in the second pass). */
static void claim_held(idn_run *run, uint32_t o, uint32_t v)
{
    const crm_identity *idn = run->idn;
    uint32_t flags = run->st->vs[v].flags;
    uint32_t slot = idn->kinds[IDN_VSLOT_KIND(flags)].slot, root;

    if (slot == 0 || !idn->slot_held[slot] || (flags & IDN_F_SHARED) ||
        (IDN_VSLOT_STATIC(flags) & (IDN_V_BLOCKED | IDN_V_PLACEHOLDER)))
        return;
    root = idn_find(run, o);
    if (counters(run, root)[slot] == 0)
        idn_put32(run, &idn_counters_for_write(run, root)[slot], v + 1);
}

/* First attaches the values no profile holds yet (and claims held slots),
 * so that the record's own identifiers count when it is tied to other
 * profiles; then links the rest in kind priority order. */
void idn_link_observation(idn_run *run, uint32_t o)
{
    crm_identity *idn = run->idn;
    idn_state *st = run->st;
    uint32_t i;
    int pass;

    for (pass = 0; pass < 2; pass++) {
        for (i = idn->obs.istart[o]; i < idn->obs.istart[o + 1]; i++) {
            uint32_t v = idn->obs.ival[i];
            if (v == IDN_NONE || st->istate[i] != IDN_L_NONE)
                continue;
            if (pass == 0 && st->vs[v].anchor != IDN_NONE) {
                claim_held(run, o, v);
                continue;
            }
            idn_put8(run, &st->istate[i], link_value(run, o, v));
        }
    }
}

/* ---- profile ids of values ---- */

/* How many values ahead idn_profiles_refresh loads an anchor's node, and
 * then the source id of its parent (mostly the root). */
#define REFRESH_NODES_AHEAD 16
#define REFRESH_SOURCES_AHEAD 8

/* The anchor of value v, or IDN_NONE (also past the last value). */
static uint32_t anchor_of(const crm_identity *idn, size_t v)
{
    return v < idn->nvals ? idn->st.vs[v].anchor : IDN_NONE;
}

/* Starts loading the union-find entry of value v's anchor. */
static void prefetch_anchor_node(const crm_identity *idn, size_t v)
{
    uint32_t a = anchor_of(idn, v);

    if (a != IDN_NONE)
        crm_prefetch(&idn->st.node[a]);
}

/* Starts loading the source id of the parent of value v's anchor (mostly
 * the root), whose entry prefetch_anchor_node loaded. */
static void prefetch_anchor_source(const crm_identity *idn, size_t v)
{
    uint32_t a = anchor_of(idn, v);

    if (a != IDN_NONE)
        crm_prefetch(&idn->obs.src[idn->st.node[a].parent]);
}

void idn_profiles_refresh(crm_identity *idn)
{
    const idn_state *st = &idn->st;
    size_t v;

    for (v = 0; v < idn->nvals; v++) {
        uint32_t a = st->vs[v].anchor;
        prefetch_anchor_node(idn, v + REFRESH_NODES_AHEAD);
        prefetch_anchor_source(idn, v + REFRESH_SOURCES_AHEAD);
        if (a != IDN_NONE)
            idn->vprofile[v] = idn->obs.src[idn_find_const(st, a)];
    }
    idn->profiles_current = 1;
}
