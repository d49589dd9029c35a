/*
 * Normalisers of identifier values (internal interface of the identity
 * module; crm_identity_normalize is the public wrapper).
 */
#ifndef CRM_IDENTITY_NORMALIZE_H
#define CRM_IDENTITY_NORMALIZE_H

#include <stddef.h>

#include "crm/identity.h"

/*
 * The value being built. At most CRM_IDENTITY_MAX_VALUE bytes are kept in
 * data; len counts every byte produced, so an over-long value is detected
 * after the fact (len > CRM_IDENTITY_MAX_VALUE).
 */
typedef struct norm_buf {
    size_t len;
    char data[CRM_IDENTITY_MAX_VALUE];
} norm_buf;

/*
 * crm_normalize_value: writes the normalised form of raw[0..len) into out
 * (capacity cap) and its length to *out_len. Never allocates, never reads
 * global state. On CRM_EINVAL (malformed or rejected value, unknown
 * normaliser or flag) and CRM_EUTF8, *reason points to a static message
 * for the user. On CRM_ELIMIT (cap too small, or value longer than
 * CRM_IDENTITY_MAX_VALUE) *out_len is the size needed when known.
 */
crm_status crm_normalize_value(crm_identity_normalizer normalizer,
                               unsigned flags, const char *raw, size_t len,
                               char *out, size_t cap, size_t *out_len,
                               const char **reason);

/*
 * crm_normalize_to_buf: as crm_normalize_value, leaving the value in
 * b->data[0 .. b->len) instead of copying it out (CRM_ELIMIT when it is
 * longer than CRM_IDENTITY_MAX_VALUE), for callers that only read it.
 */
crm_status crm_normalize_to_buf(crm_identity_normalizer normalizer,
                                unsigned flags, const char *raw, size_t len,
                                norm_buf *b, const char **reason);

/*
 * crm_normalize_is_placeholder: non-zero when an already normalised value
 * is a built-in placeholder that must never link profiles (empty, "none",
 * "-", all-same-digit phones, test@test.com, noreply@... and the like).
 */
int crm_normalize_is_placeholder(crm_identity_normalizer normalizer,
                                 const char *value, size_t len);

#endif /* CRM_IDENTITY_NORMALIZE_H */
