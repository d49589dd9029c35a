/*
 * libFuzzer harness for the identity normalisers: the first byte picks the
 * normaliser and flags, the rest is the raw value. Checks what
 * crm_identity_normalize promises: a result is valid UTF-8 of at most
 * CRM_IDENTITY_MAX_VALUE bytes, an error leaves out untouched, asking with
 * a short buffer gives the size that then suffices, and (for emails and
 * phones, which fold full-width forms) writing one ASCII character
 * full-width changes neither the status nor the result. Hostile input must give
 * an error, never a crash or a read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "crm/identity.h"

#define MAX_RAW 4096
#define OUT_CAP (4 * MAX_RAW + 16)
#define UNTOUCHED 0xA5

typedef struct result {
    crm_status status;
    size_t len;
    char out[OUT_CAP];
} result;

static void normalize(crm_identity_normalizer nz, unsigned flags,
                      const char *raw, size_t len, result *r)
{
    memset(r->out, UNTOUCHED, sizeof r->out);
    r->len = 0;
    r->status = crm_identity_normalize(NULL, nz, flags, raw, len, r->out,
                                       4 * len + 16, &r->len);
}

static int untouched(const result *r)
{
    size_t i;

    for (i = 0; i < sizeof r->out; i++)
        if ((unsigned char)r->out[i] != UNTOUCHED)
            return 0;
    return 1;
}

/* A short buffer gives CRM_ELIMIT and the size, which then suffices. */
static void check_sizing(crm_identity_normalizer nz, unsigned flags,
                         const char *raw, size_t len, const result *full)
{
    char small[1];
    size_t need = 0;
    crm_status s;

    if (full->len == 0)
        return;
    s = crm_identity_normalize(NULL, nz, flags, raw, len, small, 0, &need);
    if (s != CRM_ELIMIT || need != full->len)
        abort();
}

/* raw with its first ASCII graphic character written full-width
 * (U+FF01..U+FF5E), or 0 when it has none. */
static size_t full_width_twin(const char *raw, size_t len, char *twin)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        unsigned cp;
        if (c < 0x21 || c > 0x7E)
            continue;
        cp = 0xFF01u + (c - 0x21u);
        memcpy(twin, raw, i);
        twin[i] = (char)(0xE0 | (cp >> 12));
        twin[i + 1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        twin[i + 2] = (char)(0x80 | (cp & 0x3F));
        memcpy(twin + i + 3, raw + i + 1, len - i - 1);
        return len + 2;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static result r, t;
    static char twin[MAX_RAW + 2];
    crm_identity_normalizer nz;
    unsigned flags;
    const char *raw;
    size_t len, twin_len;

    if (size < 1 || size > MAX_RAW + 1)
        return 0;
    nz = (crm_identity_normalizer)((data[0] & 7) % 6);
    flags = (data[0] >> 3) & 0x3u;
    raw = (const char *)data + 1;
    len = size - 1;
    normalize(nz, flags, raw, len, &r);
    if (r.status != CRM_OK && !untouched(&r))
        abort();
    if (r.status == CRM_OK) {
        if (r.len > CRM_IDENTITY_MAX_VALUE || !crm_utf8_valid(r.out, r.len))
            abort();
        check_sizing(nz, flags, raw, len, &r);
    }
    if (nz != CRM_NORMALIZE_EMAIL && nz != CRM_NORMALIZE_PHONE_JP)
        return 0;
    twin_len = full_width_twin(raw, len, twin);
    if (twin_len == 0)
        return 0;
    normalize(nz, flags, twin, twin_len, &t);
    if (t.status != r.status ||
        (r.status == CRM_OK &&
         (t.len != r.len || memcmp(t.out, r.out, r.len) != 0)))
        abort();
    return 0;
}
