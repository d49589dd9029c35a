/*
 * Pieces shared by the normalisers (normalize*.c): the scratch buffer a
 * value is built in, decoding of already validated UTF-8, and the character
 * classes several normalisers fold or drop.
 */
#ifndef CRM_IDENTITY_NORMALIZE_INTERNAL_H
#define CRM_IDENTITY_NORMALIZE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/utf8.h"
#include "crm/identity.h"
#include "identity/normalize.h"

/*
 * One normaliser: reads s[0..len) (valid UTF-8, ASCII whitespace and U+3000
 * already trimmed at both ends) and appends the normalised value to b. On
 * CRM_EINVAL or CRM_ELIMIT, *reason names the problem (a static string).
 */
typedef crm_status (*norm_fn)(const char *s, size_t len, unsigned flags,
                              norm_buf *b, const char **reason);

crm_status norm_email(const char *s, size_t len, unsigned flags, norm_buf *b,
                      const char **reason);
crm_status norm_phone_jp(const char *s, size_t len, unsigned flags,
                         norm_buf *b, const char **reason);
crm_status norm_postal_jp(const char *s, size_t len, unsigned flags,
                          norm_buf *b, const char **reason);
crm_status norm_name_ja(const char *s, size_t len, unsigned flags,
                        norm_buf *b, const char **reason);

/* A word of a table the normalisers compare values with, and its length
 * (so that a comparison starts with the lengths). */
typedef struct norm_word {
    const char *text;
    size_t len;
} norm_word;

#define NORM_WORD(literal) {literal, sizeof(literal) - 1}

/* s[0..len) is the word w. */
static inline int norm_word_equals(const norm_word *w, const char *s,
                                   size_t len)
{
    return w->len == len && memcmp(w->text, s, len) == 0;
}

/* Placeholder tests of already normalised values (see
 * crm_normalize_is_placeholder). */
int norm_email_is_placeholder(const char *value, size_t len);
int norm_phone_is_placeholder(const char *value, size_t len);
int norm_postal_is_placeholder(const char *value, size_t len);

/* Appends one byte to b. */
static inline void norm_put_byte(norm_buf *b, char c)
{
    if (b->len < sizeof b->data)
        b->data[b->len] = c;
    b->len++;
}

/* Appends s[0..n) to b. */
static inline void norm_put_bytes(norm_buf *b, const char *s, size_t n)
{
    if (n > 0 && b->len <= sizeof b->data && n <= sizeof b->data - b->len)
        memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Appends the UTF-8 form of cp >= 0x80 to b. */
void norm_put_utf8(norm_buf *b, uint32_t cp);

/* Appends the UTF-8 form of cp to b. */
static inline void norm_put_cp(norm_buf *b, uint32_t cp)
{
    if (cp < 0x80)
        norm_put_byte(b, (char)cp);
    else
        norm_put_utf8(b, cp);
}

/* CRM_ELIMIT with *reason set when b holds more than the longest value. */
crm_status norm_check_length(const norm_buf *b, const char **reason);

/* ASCII whitespace (space, \t, \n, \v, \f, \r) or U+3000. */
static inline int norm_is_space(uint32_t cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x3000;
}

/* Full-width ASCII (U+FF01..U+FF5E) to ASCII; other code points as given. */
static inline uint32_t norm_fold_width(uint32_t cp)
{
    return cp >= 0xFF01 && cp <= 0xFF5E ? cp - 0xFEE0 : cp;
}

/* ASCII A-Z lowercased; other code points as given. */
static inline uint32_t norm_ascii_lower(uint32_t cp)
{
    return cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
}

/* A hyphen, dash or long-vowel mark people type between digits. */
int norm_is_dash(uint32_t cp);

/* Full-width digits folded; the digit value 0..9, or -1. */
static inline int norm_digit_value(uint32_t cp)
{
    cp = norm_fold_width(cp);
    return cp >= '0' && cp <= '9' ? (int)(cp - '0') : -1;
}

#endif /* CRM_IDENTITY_NORMALIZE_INTERNAL_H */
