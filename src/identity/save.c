/*
 * Saving and loading a graph. Format (version 1): the magic "CRMIDN\0\1",
 * then varint fields: settings, kinds, values (kind, bytes, flags, anchor,
 * refusal list head), the refusal pool, observations (source, at, dead,
 * root, identifiers with their link states), and a CRC-32C of everything
 * before it (u32 little-endian). Every count read is bounded by the bytes
 * left, every index is checked, so hostile bytes give CRM_ECORRUPT.
 */
#include <string.h>

#include "core/bytes.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "identity/identity_internal.h"

#define FORMAT_VERSION 1u
#define FLUSH_AT 65536u
#define READ_CHUNK 65536u

static const uint8_t magic[7] = {'C', 'R', 'M', 'I', 'D', 'N', 0};

typedef struct save_out {
    crm_writer w;
    crm_identity_write_fn write;
    void *user;
    uint32_t crc;
    int stopped;
} save_out;

static void flush(save_out *out)
{
    if (out->w.failed || out->stopped || out->w.len == 0)
        return;
    out->crc = crm_crc32c(out->crc, out->w.data, out->w.len);
    if (out->write(out->user, out->w.data, out->w.len) != 0)
        out->stopped = 1;
    out->w.len = 0;
}

static void maybe_flush(save_out *out)
{
    if (out->w.len >= FLUSH_AT)
        flush(out);
}

static void put_kinds(save_out *out, const crm_identity *idn)
{
    crm_writer *w = &out->w;
    size_t i, p;

    crm_writer_put_uvarint(w, idn->shared_limit);
    crm_writer_put_uvarint(w, idn->profile_cap);
    crm_writer_put_uvarint(w, idn->nkinds);
    for (i = 0; i < idn->nkinds; i++) {
        const idn_kind *k = &idn->kinds[i];
        size_t len = strlen(k->name);
        crm_writer_put_uvarint(w, len);
        crm_writer_put_bytes(w, k->name, len);
        crm_writer_put_u8(w, (uint8_t)k->normalizer);
        crm_writer_put_uvarint(w, k->flags);
        crm_writer_put_u8(w, (uint8_t)k->merges);
        crm_writer_put_uvarint(w, k->limit);
        crm_writer_put_uvarint(w, k->nparts);
        for (p = 0; p < k->nparts; p++)
            crm_writer_put_u8(w, k->parts[p]);
    }
}

/* IDN_NONE as 0, anything else as index + 1. */
static uint64_t opt_index(uint32_t i)
{
    return i == IDN_NONE ? 0 : (uint64_t)i + 1;
}

static void put_values(save_out *out, const crm_identity *idn)
{
    crm_writer *w = &out->w;
    size_t v;

    crm_writer_put_uvarint(w, idn->nvals);
    for (v = 0; v < idn->nvals; v++) {
        crm_writer_put_u8(w, idn->vals[v].kind);
        crm_writer_put_uvarint(w, idn->vals[v].len);
        crm_writer_put_bytes(w, idn_value_bytes(idn, (uint32_t)v),
                             idn->vals[v].len);
        crm_writer_put_u8(w, idn->vals[v].flags);
        crm_writer_put_uvarint(w, idn->st.vs[v].flags & IDN_F_MASK);
        crm_writer_put_uvarint(w, opt_index(idn->st.vs[v].anchor));
        crm_writer_put_uvarint(w, opt_index(idn->st.track_head[v]));
        maybe_flush(out);
    }
    crm_writer_put_uvarint(w, idn->st.npool);
    for (v = 0; v < idn->st.npool; v++) {
        crm_writer_put_uvarint(w, idn->st.pool[v].obs);
        crm_writer_put_uvarint(w, opt_index(idn->st.pool[v].next));
        maybe_flush(out);
    }
}

static void put_observations(save_out *out, const crm_identity *idn)
{
    crm_writer *w = &out->w;
    size_t o;
    uint32_t k;

    crm_writer_put_uvarint(w, idn->obs.nobs);
    for (o = 0; o < idn->obs.nobs; o++) {
        crm_writer_put_svarint(w, idn->obs.src[o]);
        crm_writer_put_svarint(w, idn->obs.at[o]);
        crm_writer_put_u8(w, idn->obs.dead[o]);
        crm_writer_put_uvarint(w, idn_find_const(&idn->st, (uint32_t)o));
        crm_writer_put_uvarint(w, idn->obs.istart[o + 1] - idn->obs.istart[o]);
        for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++) {
            crm_writer_put_uvarint(w, opt_index(idn->obs.ival[k]));
            crm_writer_put_u8(w, idn->st.istate[k]);
        }
        maybe_flush(out);
    }
}

crm_status crm_identity_save(const crm_identity *idn,
                             crm_identity_write_fn write, void *user)
{
    save_out out;
    uint8_t trailer[4];
    crm_status s = CRM_OK;

    if (idn == NULL || write == NULL)
        return crm_error(idn ? idn->ctx : NULL, CRM_EINVAL,
                         "crm_identity_save: NULL argument");
    memset(&out, 0, sizeof out);
    crm_writer_init(&out.w, idn->ctx);
    out.write = write;
    out.user = user;
    crm_writer_put_bytes(&out.w, magic, sizeof magic);
    crm_writer_put_u8(&out.w, FORMAT_VERSION);
    put_kinds(&out, idn);
    put_values(&out, idn);
    put_observations(&out, idn);
    flush(&out);
    if (!out.w.failed && !out.stopped) {
        trailer[0] = (uint8_t)out.crc;
        trailer[1] = (uint8_t)(out.crc >> 8);
        trailer[2] = (uint8_t)(out.crc >> 16);
        trailer[3] = (uint8_t)(out.crc >> 24);
        out.stopped = write(user, trailer, sizeof trailer) != 0;
    }
    if (out.w.failed)
        s = crm_error_nomem(idn->ctx);
    else if (out.stopped)
        s = crm_error(idn->ctx, CRM_ECALLBACK,
                      "the write callback returned non-zero");
    crm_writer_free(&out.w);
    return s;
}

/* ---- load ---- */

static crm_status read_all(crm_ctx *ctx, crm_identity_read_fn read,
                           void *user, uint8_t **out, size_t *out_len)
{
    void *buf = NULL;
    size_t len = 0, cap = 0, got;

    for (;;) {
        if (crm_mem_grow(ctx, &buf, &cap, len + READ_CHUNK, 1) != 0) {
            crm_mem_free(ctx, buf);
            return crm_error_nomem(ctx);
        }
        got = 0;
        if (read(user, (uint8_t *)buf + len, READ_CHUNK, &got) != 0) {
            crm_mem_free(ctx, buf);
            return crm_error(ctx, CRM_ECALLBACK,
                             "the read callback returned non-zero");
        }
        if (got > READ_CHUNK) {
            crm_mem_free(ctx, buf);
            return crm_error(ctx, CRM_EINVAL,
                             "the read callback reported more than cap");
        }
        if (got == 0)
            break;
        len += got;
    }
    *out = buf;
    *out_len = len;
    return CRM_OK;
}

static crm_status corrupt(crm_ctx *ctx, const char *what)
{
    return crm_error(ctx, CRM_ECORRUPT, "identity state: %s", what);
}

/* A count of items each taking at least min_bytes, bounded by what is left. */
static int get_count(crm_reader *r, size_t min_bytes, size_t limit,
                     size_t *out)
{
    uint64_t n = crm_reader_get_uvarint(r);

    if (r->failed || n > limit || n > crm_reader_left(r) / min_bytes)
        return -1;
    *out = (size_t)n;
    return 0;
}

static crm_status get_kind(crm_identity *idn, crm_reader *r)
{
    char name[IDN_MAX_NAME + 1];
    const uint8_t *p;
    uint64_t len, flags, limit, nparts;
    int normalizer, merges, parts[IDN_MAX_PARTS], kind;
    size_t i;
    crm_status s;

    len = crm_reader_get_uvarint(r);
    if (r->failed || len == 0 || len > IDN_MAX_NAME ||
        (p = crm_reader_get_bytes(r, (size_t)len)) == NULL ||
        memchr(p, 0, (size_t)len) != NULL)
        return corrupt(idn->ctx, "bad kind name");
    memcpy(name, p, (size_t)len);
    name[len] = 0;
    normalizer = crm_reader_get_u8(r);
    flags = crm_reader_get_uvarint(r);
    merges = crm_reader_get_u8(r);
    limit = crm_reader_get_uvarint(r);
    nparts = crm_reader_get_uvarint(r);
    if (r->failed || flags > UINT32_MAX || limit > UINT32_MAX || merges > 1 ||
        nparts > IDN_MAX_PARTS)
        return corrupt(idn->ctx, "bad kind");
    for (i = 0; i < nparts; i++)
        parts[i] = crm_reader_get_u8(r);
    if (r->failed)
        return corrupt(idn->ctx, "truncated kind");
    if (nparts == 0)
        s = crm_identity_add_kind(idn, name,
                                  (crm_identity_normalizer)normalizer,
                                  (unsigned)flags, merges, (uint32_t)limit,
                                  &kind);
    else
        s = crm_identity_add_composite_kind(idn, name, parts, (size_t)nparts,
                                            merges, (uint32_t)limit, &kind);
    if (s == CRM_ENOMEM)
        return s;
    return s == CRM_OK ? CRM_OK : corrupt(idn->ctx, "invalid kind");
}

static crm_status get_kinds(crm_identity *idn, crm_reader *r)
{
    uint64_t shared = crm_reader_get_uvarint(r);
    uint64_t cap = crm_reader_get_uvarint(r);
    size_t n, i;
    crm_status s;

    if (r->failed || shared == 0 || shared > UINT32_MAX || cap == 0 ||
        cap > UINT32_MAX || get_count(r, 5, IDN_MAX_KINDS, &n) != 0)
        return corrupt(idn->ctx, "bad settings");
    idn->shared_limit = (uint32_t)shared;
    idn->profile_cap = (uint32_t)cap;
    for (i = 0; i < n; i++) {
        s = get_kind(idn, r);
        if (s != CRM_OK)
            return s;
    }
    return CRM_OK;
}

/* Puts value v into the map; -1 when an equal live value is there, -2 on
 * allocation failure. */
static int map_value(crm_identity *idn, uint32_t v)
{
    const char *s = idn_value_bytes(idn, v);
    int kind = idn->vals[v].kind;
    uint32_t found = idn_value_find(idn, kind, s, idn->vals[v].len);

    if (found != IDN_NONE)
        return -1;
    return idn_value_map_insert(idn, v) == 0 ? 0 : -2;
}

static crm_status get_value(crm_identity *idn, crm_reader *r, uint32_t v)
{
    uint8_t kind = crm_reader_get_u8(r);
    uint64_t len = crm_reader_get_uvarint(r), flags, anchor, head;
    const uint8_t *p;
    uint8_t vstatic;

    if (r->failed || kind >= idn->nkinds || len > CRM_IDENTITY_MAX_VALUE ||
        (p = crm_reader_get_bytes(r, (size_t)len)) == NULL ||
        !crm_utf8_valid((const char *)p, (size_t)len))
        return corrupt(idn->ctx, "bad value");
    vstatic = crm_reader_get_u8(r);
    flags = crm_reader_get_uvarint(r);
    anchor = crm_reader_get_uvarint(r);
    head = crm_reader_get_uvarint(r);
    if (r->failed ||
        (vstatic & ~(IDN_V_BLOCKED | IDN_V_PLACEHOLDER | IDN_V_DEAD)) ||
        flags > (IDN_F_SHARED | IDN_F_MULTI) || anchor > UINT32_MAX ||
        head > UINT32_MAX || ((vstatic & IDN_V_DEAD) && len != 0))
        return corrupt(idn->ctx, "bad value flags");
    memcpy(idn->bytes + idn->nbytes, p, (size_t)len);
    idn_value_set_off(&idn->vals[v], idn->nbytes);
    idn->nbytes += (size_t)len;
    idn->vals[v].len = (uint16_t)len;
    idn->vals[v].kind = kind;
    idn->vals[v].flags = vstatic;
    idn->st.vs[v].flags = (uint32_t)flags | idn_vslot_meta(&idn->vals[v]);
    idn->st.vs[v].anchor = (uint32_t)anchor - 1;
    idn->st.track_head[v] = (uint32_t)head - 1;
    idn->nvals = (size_t)v + 1;
    if (vstatic & IDN_V_DEAD)
        return CRM_OK;
    switch (map_value(idn, v)) {
    case 0:
        return CRM_OK;
    case -1:
        return corrupt(idn->ctx, "a value appears twice");
    default:
        return crm_error_nomem(idn->ctx);
    }
}

static crm_status get_values(crm_identity *idn, crm_reader *r)
{
    size_t n, i;
    crm_status s;

    if (get_count(r, 5, IDN_NONE - 1, &n) != 0)
        return corrupt(idn->ctx, "bad value count");
    if (idn_grow_values(idn, n) != 0 ||
        crm_i64map_reserve(idn->ctx, &idn->vmap, n) != 0 ||
        (idn->bytes = crm_mem_alloc(idn->ctx, crm_reader_left(r))) == NULL)
        return crm_error_nomem(idn->ctx);
    idn->bytes_cap = crm_reader_left(r);
    for (i = 0; i < n; i++) {
        s = get_value(idn, r, (uint32_t)i);
        if (s != CRM_OK)
            return s;
    }
    if (get_count(r, 2, IDN_NONE - 1, &n) != 0)
        return corrupt(idn->ctx, "bad refusal pool");
    if (idn_grow_pool(idn, &idn->st, n) != 0)
        return crm_error_nomem(idn->ctx);
    for (i = 0; i < n; i++) {
        uint64_t obs = crm_reader_get_uvarint(r);
        uint64_t next = crm_reader_get_uvarint(r);
        if (r->failed || obs >= IDN_NONE || next > i)
            return corrupt(idn->ctx, "bad refusal list");
        idn->st.pool[i].obs = (uint32_t)obs;
        idn->st.pool[i].next = (uint32_t)next - 1;
    }
    idn->st.npool = n;
    return CRM_OK;
}

static crm_status get_observation(crm_identity *idn, crm_reader *r,
                                  uint32_t o, size_t nobs)
{
    int64_t src = crm_reader_get_svarint(r), at = crm_reader_get_svarint(r);
    uint8_t dead = crm_reader_get_u8(r);
    uint64_t root = crm_reader_get_uvarint(r);
    size_t n, i;
    uint32_t found;
    int ins;

    if (r->failed || dead > 1 || root >= nobs ||
        get_count(r, 2, IDN_MAX_IDENTS + IDN_MAX_KINDS, &n) != 0)
        return corrupt(idn->ctx, "bad observation");
    if (idn_grow_idents(idn, idn->obs.nidents + n) != 0)
        return crm_error_nomem(idn->ctx);
    idn->obs.src[o] = src;
    idn->obs.at[o] = at;
    idn->obs.dead[o] = dead;
    idn->st.node[o].parent = (uint32_t)root;
    idn->st.node[o].block = IDN_NONE;
    for (i = 0; i < n; i++) {
        uint64_t v = crm_reader_get_uvarint(r);
        uint8_t state = crm_reader_get_u8(r);
        if (r->failed || v > idn->nvals || state > IDN_L_MAX ||
            (dead && v != 0) ||
            (v != 0 && (idn->vals[v - 1].flags & IDN_V_DEAD)))
            return corrupt(idn->ctx, "bad identifier");
        idn->obs.ival[idn->obs.nidents] = (uint32_t)v - 1;
        idn->st.istate[idn->obs.nidents++] = state;
    }
    idn->obs.istart[o + 1] = (uint32_t)idn->obs.nidents;
    idn->obs.nobs = (size_t)o + 1;
    if (dead)
        return CRM_OK;
    idn->nlive++;
    ins = crm_i64map_upsert(idn->ctx, &idn->smap, src, o, &found);
    if (ins < 0)
        return crm_error_nomem(idn->ctx);
    return ins == 0 ? corrupt(idn->ctx, "a source_id appears twice") : CRM_OK;
}

/* The counters of root, to write (their blocks are reserved). */
static uint32_t *root_counters(crm_identity *idn, uint32_t root)
{
    idn_run run;

    memset(&run, 0, sizeof run);
    run.idn = idn;
    run.st = &idn->st;
    return idn_counters_for_write(&run, root);
}

/* Rebuilds the held slots: the value of every identifier whose link held
 * it (here or in another profile). */
static void set_held_slots(crm_identity *idn)
{
    idn_state *st = &idn->st;
    size_t o;
    uint32_t k, v, slot;

    for (o = 0; o < idn->obs.nobs; o++) {
        for (k = idn->obs.istart[o]; k < idn->obs.istart[o + 1]; k++) {
            v = idn->obs.ival[k];
            if (v == IDN_NONE || (st->istate[k] != IDN_L_HELD &&
                                  st->istate[k] != IDN_L_ELSEWHERE))
                continue;
            slot = idn->kinds[idn->vals[v].kind].slot;
            if (slot != 0 && idn->slot_held[slot])
                root_counters(idn, st->node[o].parent)[slot] = v + 1;
        }
    }
}

/* Checks roots, anchors and refusal lists; rebuilds member cycles and
 * counters. */
static crm_status link_structure(crm_identity *idn)
{
    idn_state *st = &idn->st;
    size_t i, roots = 0;

    for (i = 0; i < idn->obs.nobs; i++) {
        uint32_t r = st->node[i].parent;
        if (st->node[r].parent != r || (idn->obs.dead[i] && r != i) ||
            (!idn->obs.dead[i] && idn->obs.dead[r]) ||
            (r != i && idn_earlier(idn, (uint32_t)i, r)))
            return corrupt(idn->ctx, "bad profile root");
        st->node[i].next = (uint32_t)i;
        roots += r == i;
    }
    if (idn_grow_blocks(idn, st, roots) != 0)
        return crm_error_nomem(idn->ctx);
    for (i = 0; i < idn->obs.nobs; i++) {
        uint32_t r = st->node[i].parent;
        if (r != i) {
            st->node[i].next = st->node[r].next;
            st->node[r].next = (uint32_t)i;
        }
    }
    for (i = 0; i < idn->nvals; i++) {
        uint32_t a = st->vs[i].anchor, slot, *c;
        if (st->track_head[i] != IDN_NONE && st->track_head[i] >= st->npool)
            return corrupt(idn->ctx, "bad refusal list head");
        if (a == IDN_NONE)
            continue;
        if (a >= idn->obs.nobs || idn->obs.dead[a])
            return corrupt(idn->ctx, "bad anchor");
        slot = idn->kinds[idn->vals[i].kind].slot;
        c = root_counters(idn, st->node[a].parent);
        c[0]++;
        if (slot != 0 && !idn->slot_held[slot])
            c[slot]++;
    }
    set_held_slots(idn);
    for (i = 0; i < st->npool; i++)
        if (st->pool[i].obs >= idn->obs.nobs)
            return corrupt(idn->ctx, "bad refusal entry");
    return CRM_OK;
}

static crm_status get_observations(crm_identity *idn, crm_reader *r)
{
    size_t n, i;
    crm_status s;

    if (get_count(r, 5, IDN_NONE - 1, &n) != 0)
        return corrupt(idn->ctx, "bad observation count");
    if (n == 0)
        return crm_reader_left(r) == 0 ? CRM_OK
                                       : corrupt(idn->ctx, "trailing bytes");
    idn_freeze_kinds(idn);
    if (idn_grow_obs(idn, n) != 0 ||
        crm_i64map_reserve(idn->ctx, &idn->smap, n) != 0)
        return crm_error_nomem(idn->ctx);
    for (i = 0; i < n; i++) {
        s = get_observation(idn, r, (uint32_t)i, n);
        if (s != CRM_OK)
            return s;
    }
    if (crm_reader_left(r) != 0)
        return corrupt(idn->ctx, "trailing bytes");
    return link_structure(idn);
}

static crm_status parse(crm_identity *idn, const uint8_t *data, size_t len)
{
    crm_reader r;
    uint32_t crc;
    const uint8_t *t;
    crm_status s;

    if (len < sizeof magic + 1 + 4 || memcmp(data, magic, sizeof magic) != 0)
        return corrupt(idn->ctx, "not an identity state");
    t = data + len - 4;
    crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
          (uint32_t)t[3] << 24;
    if (data[sizeof magic] > FORMAT_VERSION)
        return crm_error(idn->ctx, CRM_EVERSION,
                         "identity state version %u is newer than %u",
                         data[sizeof magic], FORMAT_VERSION);
    if (crm_crc32c(0, data, len - 4) != crc)
        return corrupt(idn->ctx, "checksum mismatch");
    if (data[sizeof magic] != FORMAT_VERSION)
        return corrupt(idn->ctx, "unknown version");
    crm_reader_init(&r, data + sizeof magic + 1, len - sizeof magic - 1 - 4);
    s = get_kinds(idn, &r);
    if (s == CRM_OK)
        s = get_values(idn, &r);
    if (s == CRM_OK)
        s = get_observations(idn, &r);
    return s;
}

crm_status crm_identity_load(crm_ctx *ctx, crm_identity_read_fn read,
                             void *user, crm_identity **out)
{
    crm_identity *idn = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    crm_status s;

    if (ctx == NULL || read == NULL || out == NULL)
        return crm_error(ctx, CRM_EINVAL, "crm_identity_load: NULL argument");
    s = read_all(ctx, read, user, &data, &len);
    if (s == CRM_OK)
        s = crm_identity_new(ctx, &idn);
    if (s == CRM_OK)
        s = parse(idn, data, len);
    if (s == CRM_OK)
        idn_profiles_refresh(idn);
    crm_mem_free(ctx, data);
    if (s != CRM_OK) {
        crm_identity_free(idn);
        return s;
    }
    *out = idn;
    return CRM_OK;
}
