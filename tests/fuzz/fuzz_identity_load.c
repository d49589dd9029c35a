/*
 * Fuzz harness: identity graph state bytes (crm_identity_load). Any input
 * must give CRM_OK, CRM_ECORRUPT or CRM_EVERSION, never a crash. When the
 * first byte is odd the harness rewrites the trailing CRC-32C so mutations
 * reach the parser behind the checksum. An accepted graph is then used
 * (observe, resolve, lookup, lookup_many, explain, forget) and saved, and
 * what it saves must load again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "crm/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct stream {
    uint8_t *data;
    size_t len, cap, pos;
} stream;

static int stream_read(void *user, void *buf, size_t cap, size_t *got)
{
    stream *s = user;
    size_t n = s->len - s->pos < cap ? s->len - s->pos : cap;

    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    *got = n;
    return 0;
}

static int stream_write(void *user, const void *data, size_t len)
{
    stream *s = user;

    if (s->len + len > s->cap) {
        size_t cap = (s->len + len) * 2;
        uint8_t *p = realloc(s->data, cap);
        if (p == NULL)
            return 1;
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return 0;
}

static int ignore_step(void *user, int64_t from, int64_t to, int kind,
                       const char *value, size_t len, int linked,
                       crm_identity_event reason)
{
    (void)user, (void)from, (void)to, (void)kind, (void)value, (void)len;
    (void)linked, (void)reason;
    return 0;
}

/* Uses an accepted graph the way a caller would. */
static void exercise(crm_identity *idn)
{
    int kinds[2] = {0, 1};
    const char *values[2] = {"a@example.com", "090-1234-5678"};
    int64_t profile, src[4], found[2];
    crm_status status[2];
    size_t n = 0;
    int linked;

    crm_identity_observe(idn, INT64_MIN + 7, 0, 2, kinds, values, NULL,
                         &profile);
    crm_identity_lookup(idn, 0, values[0], strlen(values[0]), &profile);
    crm_identity_lookup_many(idn, 2, kinds, values, NULL, found, status);
    crm_identity_counts(idn, &n, NULL);
    if (crm_identity_export(idn, src, src + 2, 2, &n) == CRM_OK && n > 1) {
        crm_identity_explain_sources(idn, src[0], src[1], ignore_step, NULL,
                                     &linked);
        crm_identity_forget_source(idn, src[0]);
    }
    crm_identity_resolve(idn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crm_ctx *ctx = NULL;
    crm_identity *idn = NULL, *again = NULL;
    stream in = {0}, out = {0};
    crm_status st;

    if (crm_ctx_new(&ctx) != CRM_OK)
        return 0;
    in.data = malloc(size + 1);
    if (in.data == NULL) {
        crm_ctx_free(ctx);
        return 0;
    }
    memcpy(in.data, data, size);
    in.len = size;
    if (size > 4 && (data[0] & 1)) {
        uint32_t crc = crm_crc32c(0, in.data, size - 4);
        in.data[size - 4] = (uint8_t)crc;
        in.data[size - 3] = (uint8_t)(crc >> 8);
        in.data[size - 2] = (uint8_t)(crc >> 16);
        in.data[size - 1] = (uint8_t)(crc >> 24);
    }
    st = crm_identity_load(ctx, stream_read, &in, &idn);
    if (st != CRM_OK && st != CRM_ECORRUPT && st != CRM_EVERSION)
        abort();
    if (st == CRM_OK) {
        exercise(idn);
        if (crm_identity_save(idn, stream_write, &out) != CRM_OK ||
            crm_identity_load(ctx, stream_read, &out, &again) != CRM_OK)
            abort();
    }
    crm_identity_free(again);
    crm_identity_free(idn);
    free(in.data);
    free(out.data);
    crm_ctx_free(ctx);
    return 0;
}
