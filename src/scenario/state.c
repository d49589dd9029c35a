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

size_t scn_state_max_size(size_t journeys, size_t sends)
{
    return HEADER_BYTES + COUNT_BYTES + journeys * JOURNEY_BYTES + COUNT_BYTES +
           sends * SEND_BYTES + CRC_BYTES;
}

void scn_state_encode(const scn_state *st, crm_writer *w)
{
    size_t i;
    int64_t prev = 0;

    crm_writer_reserve(w, scn_state_max_size(st->n_journeys, st->n_sends));
    crm_writer_put_u8(w, SCN_STATE_MAGIC);
    crm_writer_put_u8(w, SCN_STATE_VERSION);
    crm_writer_put_uvarint(w, st->n_journeys);
    for (i = 0; i < st->n_journeys; i++) {
        const scn_journey *j = &st->journeys[i];

        crm_writer_put_u32le(w, j->id_hash);
        crm_writer_put_uvarint(w, j->version);
        crm_writer_put_u8(w, (uint8_t)j->flags);
        crm_writer_put_uvarint(w, j->step);
        crm_writer_put_uvarint(w, j->seq);
        crm_writer_put_svarint(w, j->entered);
        crm_writer_put_svarint(w, j->anchor - j->entered);
    }
    crm_writer_put_uvarint(w, st->n_sends);
    for (i = 0; i < st->n_sends; i++) {
        crm_writer_put_u8(w, (uint8_t)st->sends[i].channel);
        crm_writer_put_svarint(w, st->sends[i].time - prev);
        prev = st->sends[i].time;
    }
    if (!w->failed)
        crm_writer_put_u32le(w, crm_crc32c(0, w->data, w->len));
}
