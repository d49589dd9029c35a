/*
 * UTF-8 validation, decoding and encoding (RFC 3629: no surrogates, no
 * overlong forms, nothing above U+10FFFF).
 */
#ifndef CRM_CORE_UTF8_H
#define CRM_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 when s[0..len) is valid UTF-8, 0 otherwise. */
int crm_utf8_valid(const char *s, size_t len);

/*
 * Decodes the code point at s[*pos] (pos < len), stores it in *cp and
 * advances *pos. Returns 0, or -1 on an invalid or truncated sequence
 * (*pos and *cp unchanged).
 */
int crm_utf8_decode(const char *s, size_t len, size_t *pos, uint32_t *cp);

/* Writes cp (a valid scalar value) into out; returns the byte count 1..4. */
size_t crm_utf8_encode(uint32_t cp, char out[4]);

#endif
