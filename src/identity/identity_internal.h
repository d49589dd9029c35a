/*
 * Internal structures of the identity module (include/crm/identity.h).
 *
 * Values are interned once: their normalised bytes live in one growable
 * buffer, and a crm_i64map keyed by a 64-bit hash of (kind, bytes), whose
 * low bits are the kind and length, finds them; a hash collision moves on
 * to the key rehash(key), so the map holds chains of keys that are walked
 * until a key is missing. Observations are
 * flat arrays; their identifiers (value indices, sorted by kind then bytes)
 * are one column addressed by istart[].
 *
 * Profiles are union-find sets of observations. A profile's root is always
 * its earliest observation (by at, then source_id), so its id is src[root].
 * A value is attached to at most one profile: vs[v].anchor is an
 * observation of it, and vprofile[v] the profile's id, kept so that a
 * lookup need not climb to the root. Per root, a block of cnt[] counts
 * the values attached (slot 0, for the cap) and those of each limited
 * kind (slots 1..); each observation's union-find entry (idn_node) names
 * its block beside its parent, so that finding a root loads where its
 * counters are, and a root without one counts nothing yet (only roots need
 * counters, and most observations are not roots, or roots of nothing
 * until resolve). Their next fields link the members of a profile in a
 * cycle. These arrays form an idn_state, so that resolve can compute a
 * fresh one and swap it in only after every event was accepted; resolve
 * also renumbers observations in canonical order, so the root of two is
 * then simply the smaller index.
 * observe and forget change the live state and log each write in an undo
 * log instead (observe only when an event callback could stop it: without
 * one, its links cannot fail once their memory is reserved).
 */
#ifndef CRM_IDENTITY_INTERNAL_H
#define CRM_IDENTITY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/ctx.h"
#include "core/i64map.h"
#include "crm/identity.h"

#define IDN_MAX_KINDS 64
#define IDN_MAX_NAME 64
#define IDN_MAX_PARTS 8
#define IDN_NONE UINT32_MAX
/* Size of a buffer that holds any normalised value during normalisation. */
#define IDN_NORM_BUF (CRM_IDENTITY_MAX_VALUE * 2 + 16)
/* Most identifiers in one observation. */
#define IDN_MAX_IDENTS 1024
/* Byte joining the parts of a composite value (and of a composite raw value
 * given to lookup, block_value and forget_value). */
#define IDN_PART_SEPARATOR '\x1f'

/* Static value flags (idn_value.flags). */
#define IDN_V_BLOCKED 0x1u     /* crm_identity_block_value */
#define IDN_V_PLACEHOLDER 0x2u /* crm_normalize_is_placeholder */
#define IDN_V_DEAD 0x4u        /* forgotten: bytes erased, never found */

/* Dynamic value flags (idn_vslot.flags). */
#define IDN_F_SHARED 0x1u /* stopped merging: shared by too many profiles */
#define IDN_F_MULTI 0x2u  /* held by observations in several profiles */

/* Outcome of one identifier's link (istate[]). */
enum idn_link_state {
    IDN_L_NONE = 0,     /* not linked yet (crm_identity_add) */
    IDN_L_LINKED = 1,   /* merging value, joined to the profile */
    IDN_L_HELD = 2,     /* non-merging value attached to this profile */
    IDN_L_ELSEWHERE = 3, /* non-merging value attached to another profile */
    IDN_L_CONFLICT = 4,
    IDN_L_SHARED = 5,
    IDN_L_BLOCKED = 6,
    IDN_L_CAPPED = 7
};
#define IDN_L_MAX IDN_L_CAPPED

typedef struct idn_kind {
    char name[IDN_MAX_NAME + 1];
    crm_identity_normalizer normalizer;
    unsigned flags;
    int merges;
    uint32_t limit;
    uint32_t nparts; /* 0 for a plain kind */
    uint8_t parts[IDN_MAX_PARTS];
    uint32_t slot; /* counter slot of a limited kind, 0 when unlimited */
} idn_kind;

/* One refused profile remembered for the shared-value guard. */
typedef struct idn_track {
    uint32_t obs;
    uint32_t next;
} idn_track;

/* An interned value: bytes[off .. off+len), kind, static flags. The
 * offset is 48 bits (off_hi, off_lo), so that a value takes 12 bytes, not
 * 16 (6.8 million values at 10M observations). */
typedef struct idn_value {
    uint32_t off_lo;
    uint16_t off_hi;
    uint16_t len;
    uint8_t kind;
    uint8_t flags; /* IDN_V_* */
} idn_value;

/* Most bytes of values the 48-bit offsets reach. */
#define IDN_MAX_BYTES ((uint64_t)1 << 48)

static inline uint64_t idn_value_off(const idn_value *val)
{
    return (uint64_t)val->off_hi << 32 | val->off_lo;
}

static inline void idn_value_set_off(idn_value *val, uint64_t off)
{
    val->off_lo = (uint32_t)off;
    val->off_hi = (uint16_t)(off >> 32);
}

/* A slot of the value map (crm_identity.vmap): the key, the value's index
 * and, so that a hit reads the value's bytes without first reading
 * vals[v], its offset in bytes (IDN_NONE when the value is dead or the
 * offset does not fit in 32 bits: vals[v] then says all). */
typedef struct idn_vmap_slot {
    int64_t key;
    uint32_t v;
    uint32_t off;
} idn_vmap_slot;

/* Where a value is attached, its dynamic flags (IDN_F_*, bits 0-7) and,
 * so that a link reads one cache line, copies of its kind (bits 8-15) and
 * static flags (IDN_V_*, bits 16-23). */
typedef struct idn_vslot {
    uint32_t anchor; /* an observation of the profile, or IDN_NONE */
    uint32_t flags;
} idn_vslot;

#define IDN_F_MASK 0xffu
#define IDN_VSLOT_KIND(f) ((int)(((f) >> 8) & 0xffu))
#define IDN_VSLOT_STATIC(f) (((f) >> 16) & 0xffu)

/* The copied bits of idn_vslot.flags for value val. */
static inline uint32_t idn_vslot_meta(const idn_value *val)
{
    return (uint32_t)val->kind << 8 | (uint32_t)val->flags << 16;
}

/* The union-find entry of an observation: its parent, its counter block
 * (IDN_NONE when it has none), which only a root uses, and the next
 * member of its profile (a cycle). Kept side by side, a link finding a
 * root loads what a merge reads of it with its parent. */
typedef struct idn_node {
    uint32_t parent;
    uint32_t block;
    uint32_t next;
} idn_node;

typedef struct idn_state {
    idn_node *node;       /* per observation */
    uint32_t *cnt;        /* counter blocks, ncnt entries each */
    size_t nblocks, blocks_cap;
    uint32_t free_block;  /* a free block (its slot 0 links the next), or
                             IDN_NONE */
    idn_vslot *vs;        /* per value */
    uint32_t *track_head; /* per value: refused profiles (idn_track list) */
    uint8_t *istate;      /* per identifier: enum idn_link_state */
    idn_track *pool;
    size_t npool, pool_cap;
} idn_state;

typedef struct idn_undo_entry {
    void *slot;
    uint32_t old;
    uint32_t width; /* 4 or 1 */
} idn_undo_entry;

/* The observation columns; resolve builds a new table and swaps it in. */
typedef struct idn_obs_table {
    int64_t *src;
    int64_t *at;
    uint32_t *istart; /* nobs + 1 entries */
    uint32_t *ival;
    uint8_t *dead;
    size_t nobs, obs_cap;
    size_t nidents, idents_cap;
} idn_obs_table;

/* Room for identifiers normalised ahead of their interning. */
#define IDN_STAGE_BYTES 16384
#define IDN_STAGE_IDENTS 256

/* One identifier normalised ahead of its interning (observe.c). */
typedef struct idn_staged {
    uint64_t key;       /* idn_hash of the normalised value */
    const char *reason; /* why normalising failed */
    uint32_t off;       /* normalised bytes in crm_identity.stage_bytes */
    uint32_t len;
    crm_status status;  /* of normalising */
} idn_staged;

struct crm_identity {
    crm_ctx *ctx;
    idn_kind kinds[IDN_MAX_KINDS];
    size_t nkinds;
    uint32_t shared_limit;
    uint32_t profile_cap;
    crm_identity_event_fn event_fn;
    void *event_user;
    int frozen;                     /* kinds fixed: observations exist */
    size_t ncnt;                    /* counters per profile */
    uint32_t slot_limit[IDN_MAX_KINDS + 1];
    /* slot of a non-merging kind with limit 1: the counter holds the
     * profile's value + 1 (0 = none) instead of a count, so that a profile
     * counts a value other profiles hold too */
    uint8_t slot_held[IDN_MAX_KINDS + 1];

    /* values */
    char *bytes;
    size_t nbytes, bytes_cap;
    idn_value *vals;
    size_t nvals, vals_cap;
    crm_i64map vmap; /* slots: idn_vmap_slot */

    /* observations */
    idn_obs_table obs;
    size_t nlive;
    crm_i64map smap; /* source_id -> observation */

    idn_state st;

    /* Per value with an anchor: the id of its profile, so that a lookup
     * reads it beside the value's link instead of climbing to the root.
     * Exact while profiles_current: resolve and load fill it, observe and
     * forget keep it (see idn_run.profiles). Not saved. */
    int64_t *vprofile;
    int profiles_current;
    /* Identifiers the merges of observe and forget may still rename in
     * vprofile: each observe adds IDN_RENAME_CREDIT, each forget as many
     * as the graph holds (it reads them all anyway), up to a cap. Renames
     * then cost observe a constant on average and no call more than the
     * cap, even when merges keep renaming a huge profile. */
    size_t rename_credit;

    /* undo log of the running operation */
    idn_undo_entry *undo;
    size_t nundo, undo_cap;
    int undo_failed;

    /* counters written when no block could be had (the run then fails) */
    uint32_t spare_counters[IDN_MAX_KINDS + 1];

    /* scratch for normalising one value, and one observation's values */
    char scratch[IDN_NORM_BUF];
    uint32_t obs_values[IDN_MAX_IDENTS + IDN_MAX_KINDS];

    /* identifiers of the next observations, normalised ahead so that the
     * map lines they will read are loaded meanwhile (observe.c) */
    char stage_bytes[IDN_STAGE_BYTES];
    idn_staged stage[IDN_STAGE_IDENTS];
};

/* Marks of the appendable arrays at the start of an operation. */
typedef struct idn_mark {
    size_t nobs, nvals, nbytes, nidents, npool, nlive, nblocks;
} idn_mark;

/* One linking run over the state st (live or fresh). */
typedef struct idn_run {
    crm_identity *idn;
    idn_state *st;
    int logged;       /* log writes (path halving too) in the undo log */
    int events;       /* deliver refusal events */
    int merge_events; /* deliver MERGED events (observe) */
    int ordered;      /* observations are numbered canonically */
    uint32_t fresh;   /* observe: the new observation while alone, else IDN_NONE */
    int profiles;     /* keep idn->vprofile exact (observe, forget) */
    int stopped;      /* a callback returned non-zero */
    int new_shared;   /* a value became shared during the run */
} idn_run;

/* ---- kinds.c ---- */


/* Normalises raw for kind into buf (IDN_NORM_BUF bytes; composite kinds:
 * parts joined by IDN_PART_SEPARATOR). CRM_EINVAL with *reason for
 * rejected values, CRM_EUTF8, CRM_ELIMIT. */
crm_status idn_normalize_for_kind(const crm_identity *idn, int kind,
                                  const char *raw, size_t len, char *buf,
                                  size_t *out_len, const char **reason);
/* As idn_normalize_for_kind, recording any error on the ctx. */
crm_status idn_normalize_checked(const crm_identity *idn, int kind,
                                 const char *raw, size_t len, char *buf,
                                 size_t *out_len);
/* Normalises raw for kind and finds that value: *out_v is IDN_NONE when the
 * graph has never held it. Errors as idn_normalize_checked. */
crm_status idn_value_find_raw(const crm_identity *idn, int kind,
                              const char *raw, size_t len, uint32_t *out_v);
/* Fixes the counter slots; called before the first observation. */
void idn_freeze_kinds(crm_identity *idn);
/* Undoes idn_freeze_kinds when no observation was kept. */
void idn_unfreeze_if_empty(crm_identity *idn);
void idn_state_free(crm_identity *idn, idn_state *st);
int idn_kind_valid(const crm_identity *idn, int kind);

/* ---- graph.c ---- */

/* The bytes of value v. */
static inline const char *idn_value_bytes(const crm_identity *idn, uint32_t v)
{
    return idn->bytes + idn_value_off(&idn->vals[v]);
}

uint64_t idn_hash(int kind, const char *s, size_t len);
/* Index of value (kind, s), or IDN_NONE; dead values are skipped. */
uint32_t idn_value_find(const crm_identity *idn, int kind, const char *s,
                        size_t len);
/* As idn_value_find, given key = idn_hash(kind, s, len). */
uint32_t idn_value_find_hashed(const crm_identity *idn, uint64_t key,
                               int kind, const char *s, size_t len);
/* Orders values by kind, then bytes. */
static inline int idn_value_cmp(const crm_identity *idn, uint32_t a,
                                uint32_t b)
{
    const idn_value *va = &idn->vals[a], *vb = &idn->vals[b];
    size_t la = va->len, lb = vb->len;
    int c;

    if (va->kind != vb->kind)
        return va->kind < vb->kind ? -1 : 1;
    c = memcmp(idn->bytes + idn_value_off(va), idn->bytes + idn_value_off(vb),
               la < lb ? la : lb);
    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb;
}
/* Sorts ids[0..n) by idn_value_cmp (stable merge sort using tmp[0..n)). */
void idn_sort_values(const crm_identity *idn, uint32_t *ids, uint32_t *tmp,
                     size_t n);
/* Finds or appends value (kind, s); -1 on allocation failure. */
int idn_value_intern(crm_identity *idn, int kind, const char *s, size_t len,
                     uint32_t *out);
/* As idn_value_intern, given key = idn_hash(kind, s, len). */
int idn_value_intern_hashed(crm_identity *idn, uint64_t key, int kind,
                            const char *s, size_t len, uint32_t *out);
/* What idn_value_prefetch loads beside a value and its bytes. */
typedef enum idn_prefetch {
    IDN_PREFETCH_VALUE,  /* interning (add) */
    IDN_PREFETCH_LINK,   /* and its link slot (observe) */
    IDN_PREFETCH_PROFILE /* and its profile id (lookup_many) */
} idn_prefetch;

/* Starts loading what finding the value of key (idn_hash) and what
 * follows will read, when it is known (its map slot should be cached
 * already). */
void idn_value_prefetch(const crm_identity *idn, uint64_t key,
                        idn_prefetch what);
/* Adds existing value v to the map (loading), unless an equal value is
 * mapped; -1 on allocation failure. */
int idn_value_map_insert(crm_identity *idn, uint32_t v);
/* Erases the bytes of value v and marks it dead (never found again); its
 * key stays in the map, so that the collision chains through it hold. */
void idn_value_erase(crm_identity *idn, uint32_t v);
int idn_grow_values(crm_identity *idn, size_t need);
int idn_grow_obs(crm_identity *idn, size_t need);
int idn_grow_idents(crm_identity *idn, size_t need);
int idn_grow_pool(crm_identity *idn, idn_state *st, size_t need);
/* Makes room for need counter blocks in st (free ones included). */
int idn_grow_blocks(crm_identity *idn, idn_state *st, size_t need);
/* Makes room in map (the value or the source map) for extra more entries.
 * A map of 4M entries or more grows by a quarter at least: it then holds
 * up to twice its entries in slots (two thirds full at most), a third
 * less than when it doubles, and its old table, which a growing map keeps
 * until the new one is filled, is smaller at the peak. A smaller map
 * doubles, which rehashes it less often. 0 or -1 (map unchanged). */
int idn_map_reserve(crm_identity *idn, crm_i64map *map, size_t extra);
int idn_undo_reserve(crm_identity *idn, size_t extra);
idn_mark idn_mark_take(const crm_identity *idn);
/* Undoes everything since mark: the undo log, new values, observations. */
void idn_rollback(crm_identity *idn, const idn_mark *m);
/* Forgets the undo log (the operation committed). */
void idn_commit(crm_identity *idn);

uint32_t idn_find(idn_run *run, uint32_t x);
uint32_t idn_find_const(const idn_state *st, uint32_t x);
int idn_earlier(const crm_identity *idn, uint32_t a, uint32_t b);
/* Logs the old contents of slot (width 4 or 1 bytes) in the undo log; -1
 * (and undo_failed set) when the log cannot grow. */
int idn_undo_push(crm_identity *idn, void *slot, uint32_t old, uint32_t width);

/* Writes v to slot, logging the old value first when run is logged; the
 * write is skipped when the log cannot grow (the operation then fails). */
static inline void idn_put32(idn_run *run, uint32_t *slot, uint32_t v)
{
    if (run->logged && idn_undo_push(run->idn, slot, *slot, 4) != 0)
        return;
    *slot = v;
}

static inline void idn_put8(idn_run *run, uint8_t *slot, uint8_t v)
{
    if (run->logged && idn_undo_push(run->idn, slot, *slot, 1) != 0)
        return;
    *slot = v;
}
/* Links every identifier of observation o. */
void idn_link_observation(idn_run *run, uint32_t o);
/* Makes o a profile of its own with nothing attached. */
void idn_reset_observation(idn_run *run, uint32_t o);
/* Frees the counter block of observation o, if it has one. */
void idn_release_counters(idn_run *run, uint32_t o);
/* The counters of root, to write: a free block (else a new one, which a
 * logged run never makes: room is reserved before it) when it has none.
 * When none can be had, undo_failed is set and a spare block is given. */
uint32_t *idn_counters_for_write(idn_run *run, uint32_t root);
/* As idn_emit for a value that is not interned (raw bytes). */
int idn_emit_raw(idn_run *run, crm_identity_event ev, int64_t profile,
                 int kind, const char *s, size_t len);
int idn_emit(idn_run *run, crm_identity_event ev, int64_t profile,
             int64_t other, int64_t to, uint32_t value);
/* The event a refused link state stands for. */
crm_identity_event idn_state_event(uint8_t state);

/* Identifiers each observe adds to crm_identity.rename_credit. */
#define IDN_RENAME_CREDIT 64
/* Adds n identifiers to the rename credit (up to its cap). */
void idn_rename_credit_add(crm_identity *idn, size_t n);
/* Fills vprofile for every value with an anchor; profiles_current
 * then holds. */
void idn_profiles_refresh(crm_identity *idn);

/* ---- resolve.c ---- */

/* Writes to out[0..n) the observations in[0..n) (every live one when in
 * is NULL; n is then nlive) ordered by at, then source_id. 0 or -1. */
int idn_canonical_order(crm_identity *idn, const uint32_t *in, size_t n,
                        uint32_t *out);

#endif
