/*
 * The per-customer state codec. Layout (version 1):
 *   u8 magic 0xC5, u8 version,
 *   uvarint journey count, then per journey: u32le scenario id hash,
 *     uvarint version, u8 flags, uvarint step, uvarint entry sequence,
 *     svarint entered (Unix s), svarint anchor - entered,
 *   uvarint send count, then per send: u8 channel, svarint time delta
 *     from the previous send (the first from 0),
 *   u32le CRC-32C of everything before it.
 * Journeys are sorted by id hash, unique; sends ascending in time.
 */
#include <string.h>

#include "core/bytes.h"
#include "scenario/internal.h"

#define TIME_LIMIT (INT64_C(1) << 40) /* ~ 34,800 years: keeps arithmetic safe */

static crm_status corrupt(crm_ctx *ctx, const char *what)
{
    return crm_error(ctx, CRM_ECORRUPT, "scenario state: %s", what);
}

static int time_ok(int64_t t)
{
    return t > -TIME_LIMIT && t < TIME_LIMIT;
}

static crm_status decode_journeys(crm_ctx *ctx, crm_reader *r, scn_state *st)
{
    uint64_t n = crm_reader_get_uvarint(r), i;

    if (r->failed || n > SCN_MAX_SCENARIOS)
        return corrupt(ctx, "bad journey count");
    for (i = 0; i < n; i++) {
        scn_journey *j = &st->journeys[i];
        uint64_t version, step, seq;
        int64_t delta;

        j->id_hash = crm_reader_get_u32le(r);
        version = crm_reader_get_uvarint(r);
        j->flags = crm_reader_get_u8(r);
        step = crm_reader_get_uvarint(r);
        seq = crm_reader_get_uvarint(r);
        j->entered = crm_reader_get_svarint(r);
        delta = crm_reader_get_svarint(r);
        if (r->failed || version == 0 || version > UINT32_MAX || step >= SCN_MAX_STEPS ||
            seq > UINT32_MAX || (j->flags & ~(uint32_t)SCN_FLAG_ALL) ||
            !time_ok(j->entered) || !time_ok(delta))
            return corrupt(ctx, "bad journey");
        if (i > 0 && j->id_hash <= st->journeys[i - 1].id_hash)
            return corrupt(ctx, "journeys out of order");
        j->version = (uint32_t)version;
        j->step = (uint32_t)step;
        j->seq = (uint32_t)seq;
        j->anchor = j->entered + delta;
    }
    st->n_journeys = (size_t)n;
    return CRM_OK;
}

static crm_status decode_sends(crm_ctx *ctx, crm_reader *r, scn_state *st)
{
    uint64_t n = crm_reader_get_uvarint(r), i;
    int64_t t = 0;

    if (r->failed || n > SCN_MAX_SENDS)
        return corrupt(ctx, "bad send count");
    for (i = 0; i < n; i++) {
        uint32_t channel = crm_reader_get_u8(r);
        int64_t delta = crm_reader_get_svarint(r);

        if (r->failed || channel >= SCN_CHANNEL_COUNT || !time_ok(delta) ||
            (i > 0 && delta < 0) || !time_ok(t + delta))
            return corrupt(ctx, "bad send history");
        t += delta;
        st->sends[i].time = t;
        st->sends[i].channel = channel;
    }
    st->n_sends = (size_t)n;
    return CRM_OK;
}

crm_status scn_state_decode(crm_ctx *ctx, const uint8_t *data, size_t len, scn_state *st)
{
    crm_reader r;
    uint32_t crc;
    crm_status s;

    st->n_journeys = 0;
    st->n_sends = 0;
    if (len == 0)
        return CRM_OK;
    if (len < 2 + 2 + 4 || data[0] != SCN_STATE_MAGIC)
        return corrupt(ctx, "not scenario state");
    if (data[1] != SCN_STATE_VERSION)
        return crm_error(ctx, data[1] > SCN_STATE_VERSION ? CRM_EVERSION : CRM_ECORRUPT,
                         "scenario state: unknown format version %u", (unsigned)data[1]);
    crm_reader_init(&r, data + len - 4, 4);
    crc = crm_reader_get_u32le(&r);
    if (crc != crm_crc32c(0, data, len - 4))
        return corrupt(ctx, "checksum mismatch");
    crm_reader_init(&r, data + 2, len - 6);
    s = decode_journeys(ctx, &r, st);
    if (s == CRM_OK)
        s = decode_sends(ctx, &r, st);
    if (s == CRM_OK && crm_reader_left(&r) != 0)
        s = corrupt(ctx, "trailing bytes");
    if (s != CRM_OK) {
        st->n_journeys = 0;
        st->n_sends = 0;
    }
    return s;
}

/* Longest LEB128 encodings of the fields, as scn_state_encode writes them. */
enum {
    HEADER_BYTES = 2,
    COUNT_BYTES = 2, /* uvarint of a count up to 256 */
    CRC_BYTES = 4,
    JOURNEY_BYTES = 4 + 5 + 1 + 2 + 5 + 10 + 10, /* hash, version, flags, step, seq, two times */
    SEND_BYTES = 1 + 10                          /* channel, time delta */
};

/* scn_state_encode writes within this bound without checking each byte. */
_Static_assert(SCN_MAX_STEPS <= 1u << 14 && SCN_MAX_SCENARIOS < 1u << 14 &&
                   SCN_MAX_SENDS < 1u << 14,
               "steps and counts must fit the two-byte varints of the bound");

size_t scn_state_max_size(size_t journeys, size_t sends)
{
    return HEADER_BYTES + COUNT_BYTES + journeys * JOURNEY_BYTES + COUNT_BYTES +
           sends * SEND_BYTES + CRC_BYTES;
}

void scn_state_encode(const scn_state *st, crm_writer *w)
{
    uint8_t *start = crm_writer_begin(w, scn_state_max_size(st->n_journeys, st->n_sends));
    uint8_t *p = start;
    size_t i;
    int64_t prev = 0;

    if (!p)
        return;
    p = crm_encode_u8(p, SCN_STATE_MAGIC);
    p = crm_encode_u8(p, SCN_STATE_VERSION);
    p = crm_encode_uvarint(p, st->n_journeys);
    for (i = 0; i < st->n_journeys; i++) {
        const scn_journey *j = &st->journeys[i];

        p = crm_encode_u32le(p, j->id_hash);
        p = crm_encode_uvarint(p, j->version);
        p = crm_encode_u8(p, (uint8_t)j->flags);
        p = crm_encode_uvarint(p, j->step);
        p = crm_encode_uvarint(p, j->seq);
        p = crm_encode_svarint(p, j->entered);
        p = crm_encode_svarint(p, j->anchor - j->entered);
    }
    p = crm_encode_uvarint(p, st->n_sends);
    for (i = 0; i < st->n_sends; i++) {
        p = crm_encode_u8(p, (uint8_t)st->sends[i].channel);
        p = crm_encode_svarint(p, st->sends[i].time - prev);
        prev = st->sends[i].time;
    }
    p = crm_encode_u32le(p, crm_crc32c(0, start, (size_t)(p - start)));
    crm_writer_end(w, p);
}
