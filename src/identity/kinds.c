/*
 * Identity handle, kinds, composite kinds, settings and blocked values.
 */
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "identity/identity_internal.h"
#include "identity/normalize.h"

#define DEFAULT_SHARED_LIMIT 3u
#define DEFAULT_PROFILE_CAP 1000u
#define KNOWN_FLAGS (CRM_NORMALIZE_FOLD_PROVIDER | CRM_NORMALIZE_FOLD_KANA)

crm_status crm_identity_new(crm_ctx *ctx, crm_identity **out)
{
    crm_identity *idn;

    if (ctx == NULL || out == NULL)
        return crm_error(ctx, CRM_EINVAL, "crm_identity_new: NULL argument");
    idn = crm_mem_calloc(ctx, 1, sizeof *idn);
    if (idn == NULL)
        return crm_error_nomem(ctx);
    idn->ctx = ctx;
    idn->shared_limit = DEFAULT_SHARED_LIMIT;
    idn->profile_cap = DEFAULT_PROFILE_CAP;
    idn->profiles_current = 1;
    crm_i64map_init_slots(&idn->vmap, sizeof(idn_vmap_slot));
    crm_i64map_init(&idn->smap);
    idn->st.free_block = IDN_NONE;
    *out = idn;
    return CRM_OK;
}

static void free_state(crm_ctx *ctx, idn_state *st)
{
    crm_mem_free(ctx, st->node);
    crm_mem_free(ctx, st->cnt);
    crm_mem_free(ctx, st->vs);
    crm_mem_free(ctx, st->track_head);
    crm_mem_free(ctx, st->istate);
    crm_mem_free(ctx, st->pool);
    memset(st, 0, sizeof *st);
}

void idn_state_free(crm_identity *idn, idn_state *st)
{
    free_state(idn->ctx, st);
}

void crm_identity_free(crm_identity *idn)
{
    crm_ctx *ctx;

    if (idn == NULL)
        return;
    ctx = idn->ctx;
    crm_mem_free(ctx, idn->bytes);
    crm_mem_free(ctx, idn->vals);
    crm_mem_free(ctx, idn->vprofile);
    crm_i64map_free(ctx, &idn->vmap);
    crm_mem_free(ctx, idn->obs.src);
    crm_mem_free(ctx, idn->obs.at);
    crm_mem_free(ctx, idn->obs.istart);
    crm_mem_free(ctx, idn->obs.dead);
    crm_mem_free(ctx, idn->obs.ival);
    crm_i64map_free(ctx, &idn->smap);
    free_state(ctx, &idn->st);
    crm_mem_free(ctx, idn->undo);
    crm_mem_free(ctx, idn);
}

int idn_kind_valid(const crm_identity *idn, int kind)
{
    return kind >= 0 && (size_t)kind < idn->nkinds;
}

/* Checks what add_kind and add_composite_kind share. */
static crm_status check_new_kind(crm_identity *idn, const char *name,
                                 int *out_kind)
{
    size_t len, i;

    if (idn == NULL || name == NULL || out_kind == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_add_kind: NULL argument");
    len = strlen(name);
    if (len == 0 || len > IDN_MAX_NAME)
        return crm_error(idn->ctx, CRM_EINVAL,
                         "kind name must be 1..%d bytes", IDN_MAX_NAME);
    if (!crm_utf8_valid(name, len))
        return crm_error(idn->ctx, CRM_EUTF8, "kind name is not valid UTF-8");
    if (idn->frozen)
        return crm_error(idn->ctx, CRM_ESTATE,
                         "kinds must be added before the first observation");
    for (i = 0; i < idn->nkinds; i++)
        if (strcmp(idn->kinds[i].name, name) == 0)
            return crm_error(idn->ctx, CRM_EEXIST, "kind '%s' already exists",
                             name);
    if (idn->nkinds == IDN_MAX_KINDS)
        return crm_error(idn->ctx, CRM_ELIMIT, "more than %d kinds",
                         IDN_MAX_KINDS);
    return CRM_OK;
}

static idn_kind *append_kind(crm_identity *idn, const char *name, int merges,
                             uint32_t limit, int *out_kind)
{
    idn_kind *k = &idn->kinds[idn->nkinds];

    memset(k, 0, sizeof *k);
    memcpy(k->name, name, strlen(name) + 1);
    k->merges = merges != 0;
    k->limit = limit;
    *out_kind = (int)idn->nkinds++;
    return k;
}

crm_status crm_identity_add_kind(crm_identity *idn, const char *name,
                                 crm_identity_normalizer normalizer,
                                 unsigned flags, int merges, uint32_t limit,
                                 int *out_kind)
{
    crm_status s = check_new_kind(idn, name, out_kind);
    idn_kind *k;

    if (s != CRM_OK)
        return s;
    if ((unsigned)normalizer > (unsigned)CRM_NORMALIZE_POSTAL_JP ||
        (flags & ~KNOWN_FLAGS) != 0)
        return crm_error(idn->ctx, CRM_EINVAL,
                         "unknown normaliser %d or flags 0x%x",
                         (int)normalizer, flags);
    k = append_kind(idn, name, merges, limit, out_kind);
    k->normalizer = normalizer;
    k->flags = flags;
    return CRM_OK;
}

crm_status crm_identity_add_composite_kind(crm_identity *idn,
                                           const char *name, const int *parts,
                                           size_t nparts, int merges,
                                           uint32_t limit, int *out_kind)
{
    crm_status s = check_new_kind(idn, name, out_kind);
    idn_kind *k;
    size_t i, j;

    if (s != CRM_OK)
        return s;
    if (parts == NULL || nparts < 2 || nparts > IDN_MAX_PARTS)
        return crm_error(idn->ctx, CRM_EINVAL,
                         "a composite kind has 2..%d parts", IDN_MAX_PARTS);
    for (i = 0; i < nparts; i++) {
        if (!idn_kind_valid(idn, parts[i]) ||
            idn->kinds[parts[i]].nparts != 0)
            return crm_error(idn->ctx, CRM_EINVAL,
                             "part %zu is not a plain kind", i);
        for (j = 0; j < i; j++)
            if (parts[j] == parts[i])
                return crm_error(idn->ctx, CRM_EINVAL,
                                 "part %zu repeats a kind", i);
    }
    k = append_kind(idn, name, merges, limit, out_kind);
    k->nparts = (uint32_t)nparts;
    for (i = 0; i < nparts; i++)
        k->parts[i] = (uint8_t)parts[i];
    return CRM_OK;
}

crm_status crm_identity_kind_find(const crm_identity *idn, const char *name,
                                  int *out_kind)
{
    size_t i;

    if (idn == NULL || name == NULL || out_kind == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_kind_find: NULL argument");
    for (i = 0; i < idn->nkinds; i++) {
        if (strcmp(idn->kinds[i].name, name) == 0) {
            *out_kind = (int)i;
            return CRM_OK;
        }
    }
    return crm_error(idn->ctx, CRM_ENOTFOUND, "no kind named '%s'", name);
}

crm_status crm_identity_set_shared_limit(crm_identity *idn, uint32_t k)
{
    if (idn == NULL || k == 0)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "shared limit must be at least 1");
    idn->shared_limit = k;
    return CRM_OK;
}

crm_status crm_identity_set_profile_cap(crm_identity *idn, uint32_t cap)
{
    if (idn == NULL || cap == 0)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "profile cap must be at least 1");
    idn->profile_cap = cap;
    return CRM_OK;
}

crm_status crm_identity_set_event_callback(crm_identity *idn,
                                           crm_identity_event_fn fn,
                                           void *user)
{
    if (idn == NULL)
        return CRM_EINVAL;
    idn->event_fn = fn;
    idn->event_user = user;
    return CRM_OK;
}

void idn_freeze_kinds(crm_identity *idn)
{
    size_t i;
    uint32_t slot = 1;

    if (idn->frozen)
        return;
    idn->slot_limit[0] = idn->profile_cap;
    for (i = 0; i < idn->nkinds; i++) {
        idn->kinds[i].slot = 0;
        if (idn->kinds[i].limit > 0) {
            idn->kinds[i].slot = slot;
            idn->slot_held[slot] =
                !idn->kinds[i].merges && idn->kinds[i].limit == 1;
            idn->slot_limit[slot++] = idn->kinds[i].limit;
        }
    }
    idn->ncnt = slot;
    idn->frozen = 1;
}

/* Normalises one part of a composite raw value (parts separated by
 * IDN_PART_SEPARATOR) into out. */
static crm_status normalize_composite(const crm_identity *idn,
                                      const idn_kind *k, const char *raw,
                                      size_t len, char *out, size_t cap,
                                      size_t *out_len, const char **reason)
{
    size_t part = 0, pos = 0, used = 0;

    for (part = 0; part < k->nparts; part++) {
        const idn_kind *pk = &idn->kinds[k->parts[part]];
        const char *end = memchr(raw + pos, IDN_PART_SEPARATOR, len - pos);
        size_t plen = end ? (size_t)(end - (raw + pos)) : len - pos;
        size_t got = 0;
        crm_status s;

        if ((end == NULL) != (part + 1 == k->nparts)) {
            *reason = "a composite value needs one part per kind, "
                      "separated by 0x1f";
            return CRM_EINVAL;
        }
        if (part > 0) {
            if (used >= cap)
                return CRM_ELIMIT;
            out[used++] = IDN_PART_SEPARATOR;
        }
        s = crm_normalize_value(pk->normalizer, pk->flags, raw + pos, plen,
                                out + used, cap - used, &got, reason);
        if (s != CRM_OK)
            return s;
        used += got;
        pos += plen + 1;
    }
    *out_len = used;
    return used > CRM_IDENTITY_MAX_VALUE ? CRM_ELIMIT : CRM_OK;
}

/* The reason a value of kind could not be normalised, kept on the ctx. */
static crm_status normalize_error(const crm_identity *idn, int kind,
                                  crm_status s, const char *reason)
{
    return crm_error(idn->ctx, s, "kind '%s': %s", idn->kinds[kind].name,
                     reason ? reason : "value rejected");
}

/* Normalises raw for plain kind k into b, failing as
 * idn_normalize_for_kind does. */
static crm_status normalize_plain(const idn_kind *k, const char *raw,
                                  size_t len, norm_buf *b, const char **reason)
{
    crm_status s;

    *reason = "value rejected";
    s = crm_normalize_to_buf(k->normalizer, k->flags, raw, len, b, reason);
    if (s == CRM_ELIMIT)
        *reason = "value longer than CRM_IDENTITY_MAX_VALUE";
    return s;
}

crm_status idn_normalize_for_kind(const crm_identity *idn, int kind,
                                  const char *raw, size_t len, char *buf,
                                  size_t *out_len, const char **reason)
{
    const idn_kind *k = &idn->kinds[kind];
    norm_buf b;
    crm_status s;

    if (k->nparts == 0) {
        s = normalize_plain(k, raw, len, &b, reason);
        if (s == CRM_OK) {
            memcpy(buf, b.data, b.len);
            *out_len = b.len;
        }
        return s;
    }
    *reason = "value rejected";
    s = normalize_composite(idn, k, raw, len, buf, IDN_NORM_BUF, out_len,
                            reason);
    if (s == CRM_ELIMIT)
        *reason = "value longer than CRM_IDENTITY_MAX_VALUE";
    return s;
}

crm_status idn_normalize_checked(const crm_identity *idn, int kind,
                                 const char *raw, size_t len, char *buf,
                                 size_t *out_len)
{
    const char *reason = NULL;
    crm_status s = idn_normalize_for_kind(idn, kind, raw, len, buf, out_len,
                                          &reason);

    return s == CRM_OK ? CRM_OK : normalize_error(idn, kind, s, reason);
}

crm_status idn_value_find_raw(const crm_identity *idn, int kind,
                              const char *raw, size_t len, uint32_t *out_v)
{
    const idn_kind *k = &idn->kinds[kind];
    const char *reason = NULL;
    char buf[IDN_NORM_BUF];
    norm_buf b;
    size_t nlen;
    crm_status s;

    if (k->nparts != 0) {
        s = idn_normalize_checked(idn, kind, raw, len, buf, &nlen);
        if (s == CRM_OK)
            *out_v = idn_value_find(idn, kind, buf, nlen);
        return s;
    }
    /* a plain value is found where it was normalised, uncopied */
    s = normalize_plain(k, raw, len, &b, &reason);
    if (s != CRM_OK)
        return normalize_error(idn, kind, s, reason);
    *out_v = idn_value_find(idn, kind, b.data, b.len);
    return CRM_OK;
}

crm_status crm_identity_block_value(crm_identity *idn, int kind,
                                    const char *raw, size_t len)
{
    size_t nlen;
    uint32_t v;
    crm_status s;

    if (idn == NULL || raw == NULL || !idn_kind_valid(idn, kind))
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_block_value: NULL or unknown kind");
    s = idn_normalize_checked(idn, kind, raw, len, idn->scratch, &nlen);
    if (s != CRM_OK)
        return s;
    if (idn_value_intern(idn, kind, idn->scratch, nlen, &v) != 0)
        return crm_error_nomem(idn->ctx);
    idn->vals[v].flags |= IDN_V_BLOCKED;
    idn->st.vs[v].flags |= (uint32_t)IDN_V_BLOCKED << 16;
    return CRM_OK;
}

void idn_unfreeze_if_empty(crm_identity *idn)
{
    crm_ctx *ctx = idn->ctx;

    if (!idn->frozen || idn->obs.nobs > 0)
        return;
    crm_mem_free(ctx, idn->obs.src);
    crm_mem_free(ctx, idn->obs.at);
    crm_mem_free(ctx, idn->obs.istart);
    crm_mem_free(ctx, idn->obs.dead);
    crm_mem_free(ctx, idn->st.node);
    crm_mem_free(ctx, idn->st.cnt); /* blocks of ncnt, which may change */
    idn->obs.src = idn->obs.at = NULL;
    idn->obs.istart = idn->st.cnt = NULL;
    idn->st.node = NULL;
    idn->st.nblocks = idn->st.blocks_cap = 0;
    idn->st.free_block = IDN_NONE;
    idn->obs.dead = NULL;
    idn->obs.obs_cap = 0;
    idn->frozen = 0;
}
