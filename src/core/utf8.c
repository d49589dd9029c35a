/*
 * UTF-8 helpers (see utf8.h).
 */
#include <string.h>

#include "core/utf8.h"

static int is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

int crm_utf8_decode(const char *s, size_t len, size_t *pos, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s + *pos;
    size_t left = len - *pos, need, i;
    uint32_t value, min;

    if (p[0] < 0x80) {
        *cp = p[0];
        *pos += 1;
        return 0;
    }
    if ((p[0] & 0xE0) == 0xC0) {
        need = 2, value = p[0] & 0x1Fu, min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        need = 3, value = p[0] & 0x0Fu, min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        need = 4, value = p[0] & 0x07u, min = 0x10000;
    } else {
        return -1;
    }
    if (left < need)
        return -1;
    for (i = 1; i < need; i++) {
        if (!is_continuation(p[i]))
            return -1;
        value = (value << 6) | (p[i] & 0x3Fu);
    }
    if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return -1;
    *cp = value;
    *pos += need;
    return 0;
}

/* Every byte of s[0..len) is below 0x80 (the common case, checked eight
 * bytes at a time, the last eight overlapping when len is not a multiple). */
static int all_ascii(const char *s, size_t len)
{
    uint64_t seen = 0, word;
    size_t i;

    if (len < 8) {
        for (i = 0; i < len; i++)
            seen |= (unsigned char)s[i];
        return (seen & 0x80) == 0;
    }
    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&word, s + i, 8);
        seen |= word;
    }
    memcpy(&word, s + len - 8, 8);
    seen |= word;
    return (seen & UINT64_C(0x8080808080808080)) == 0;
}

/* Whether the three bytes at p, p[0] in E0..EF, are a well-formed
 * sequence: two continuation bytes, neither overlong (E0 needs A0..BF
 * next) nor a surrogate (ED needs 80..9F next). Japanese text is mostly
 * such sequences: kana, kanji and the full-width forms. */
static int valid_three(const unsigned char *p)
{
    unsigned lo = p[0] == 0xE0 ? 0xA0 : 0x80;
    unsigned hi = p[0] == 0xED ? 0x9F : 0xBF;

    return p[1] >= lo && p[1] <= hi && is_continuation(p[2]);
}

int crm_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t pos = 0;
    uint32_t cp;

    if (all_ascii(s, len))
        return 1;
    while (pos < len) {
        if (p[pos] < 0x80) {
            pos++;
        } else if ((p[pos] & 0xF0) == 0xE0 && len - pos >= 3) {
            if (!valid_three(p + pos))
                return 0;
            pos += 3;
        } else if (crm_utf8_decode(s, len, &pos, &cp) != 0) {
            return 0;
        }
    }
    return 1;
}

size_t crm_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
