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

/*
 * The code point at s[*pos] of a string crm_utf8_valid accepted (so its
 * sequences are complete, shortest and in range); advances *pos. For loops
 * over text checked once, where crm_utf8_decode would check it again.
 */
static inline uint32_t crm_utf8_decode_valid(const char *s, size_t *pos)
{
    const unsigned char *p = (const unsigned char *)s + *pos;

    if (p[0] < 0x80) {
        *pos += 1;
        return p[0];
    }
    if (p[0] < 0xE0) {
        *pos += 2;
        return (uint32_t)(p[0] & 0x1F) << 6 | (uint32_t)(p[1] & 0x3F);
    }
    if (p[0] < 0xF0) {
        *pos += 3;
        return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 |
               (uint32_t)(p[2] & 0x3F);
    }
    *pos += 4;
    return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
           (uint32_t)(p[2] & 0x3F) << 6 | (uint32_t)(p[3] & 0x3F);
}

/* Writes cp (a valid scalar value) into out; returns the byte count 1..4. */
size_t crm_utf8_encode(uint32_t cp, char out[4]);

#endif
