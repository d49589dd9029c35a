/*
 * CRM_NORMALIZE_PHONE_JP and CRM_NORMALIZE_POSTAL_JP: digits typed every
 * way people type them (full-width, with hyphens, dashes, long-vowel marks,
 * spaces, brackets, dots, a postal mark) reduced to E.164 phone numbers and
 * 7-digit postal codes.
 */
#include <string.h>

#include "identity/normalize_internal.h"

/* More digits than any number, with room for an international prefix. */
#define PHONE_MAX_DIGITS 24

typedef struct digits {
    char d[PHONE_MAX_DIGITS];
    size_t n;
    int plus; /* the number started with '+' */
} digits;

static int is_phone_separator(uint32_t cp)
{
    cp = norm_fold_width(cp);
    if (cp < 0x80)
        return cp == '-' || norm_is_space(cp) || cp == '(' || cp == ')' ||
               cp == '[' || cp == ']' || cp == '.';
    return norm_is_dash(cp) || norm_is_space(cp);
}

static crm_status read_phone_digits(const char *s, size_t len, digits *out,
                                    const char **reason)
{
    size_t pos = 0, n = 0;
    int plus = 0;

    while (pos < len) {
        uint32_t cp;
        int v;

        if (s[pos] >= '0' && s[pos] <= '9' && n < PHONE_MAX_DIGITS) {
            out->d[n++] = s[pos++]; /* the usual byte */
            continue;
        }
        cp = crm_utf8_decode_valid(s, &pos);
        v = norm_digit_value(cp);

        if (v >= 0 && n == PHONE_MAX_DIGITS) {
            *reason = "phone number has too many digits";
            return CRM_EINVAL;
        }
        if (v >= 0) {
            out->d[n++] = (char)('0' + v);
        } else if (norm_fold_width(cp) == '+' && n == 0 && !plus) {
            plus = 1;
        } else if (!is_phone_separator(cp)) {
            *reason = "phone number contains a character other than digits, "
                      "a leading '+', hyphens, spaces, brackets or dots";
            return CRM_EINVAL;
        }
    }
    if (n == 0) {
        *reason = "phone number has no digits";
        return CRM_EINVAL;
    }
    out->n = n;
    out->plus = plus;
    return CRM_OK;
}

static int all_same_digit(const char *d, size_t n)
{
    size_t i;

    for (i = 1; i < n; i++) {
        if (d[i] != d[0])
            return 0;
    }
    return 1;
}

/* ---- Japanese national numbers ----------------------------------------- */

/* A class of Japanese numbers, by the national digits after the leading 0. */
typedef struct jp_class {
    const char *prefix;
    size_t prefix_len;
    size_t digits; /* national digits, without the leading 0 */
    const char *length_reason;
} jp_class;

#define JP_MOBILE_REASON "mobile number (060/070/080/090) must have 11 digits"

/* By first digit, and longer prefixes first within one (0800 before 080).
 * The last class, with an empty prefix, is the geographic landline. */
static const jp_class jp_classes[] = {
    {"120", 3, 9, "freephone number (0120) must have 10 digits"},
    {"180", 3, 9, "number 0180 must have 10 digits"},
    {"20", 2, 10, "M2M/pager number (020) must have 11 digits"},
    {"570", 3, 9, "navi-dial number (0570) must have 10 digits"},
    {"50", 2, 10, "IP phone number (050) must have 11 digits"},
    {"60", 2, 10, JP_MOBILE_REASON},
    {"70", 2, 10, JP_MOBILE_REASON},
    {"800", 3, 10, "freephone number (0800) must have 11 digits"},
    {"80", 2, 10, JP_MOBILE_REASON},
    {"990", 3, 9, "number 0990 must have 10 digits"},
    {"90", 2, 10, JP_MOBILE_REASON},
    {"", 0, 9, "landline number must have 10 digits including the leading 0"},
};

#define JP_LANDLINE 11

/* For each first digit, the index of the first class whose prefix starts
 * with it (JP_LANDLINE when none does). */
static const unsigned char jp_first_class[10] = {
    JP_LANDLINE, 0, 2, JP_LANDLINE, JP_LANDLINE, 3, 5, 6, 7, 9,
};

static int has_prefix(const char *d, size_t n, const char *prefix,
                      size_t prefix_len)
{
    size_t i;

    if (n < prefix_len)
        return 0;
    for (i = 0; i < prefix_len; i++) {
        if (d[i] != prefix[i])
            return 0;
    }
    return 1;
}

/* national: n > 0 digits (every caller has one after the leading 0 or
 * the +81). */
static const jp_class *jp_class_of(const char *national, size_t n)
{
    unsigned digit = (unsigned)(unsigned char)national[0] - '0';
    const jp_class *c =
        &jp_classes[digit < 10 ? jp_first_class[digit] : JP_LANDLINE];

    for (; c->prefix_len > 0 && c->prefix[0] == national[0]; c++) {
        if (has_prefix(national, n, c->prefix, c->prefix_len))
            return c;
    }
    return &jp_classes[JP_LANDLINE];
}

/* The subscriber digits after the service prefix (or after the first digit
 * of a geographic area code) are all one digit: 090-0000-0000,
 * 03-1111-1111. */
static int is_repeated_subscriber(const jp_class *c, const char *national,
                                  size_t n)
{
    size_t skip = c->prefix_len > 0 ? c->prefix_len : 1;

    return n > skip && all_same_digit(national + skip, n - skip);
}

static crm_status put_japanese(const char *national, size_t n, norm_buf *b,
                               const char **reason)
{
    const jp_class *c;

    if (n == 0 || national[0] == '0') {
        *reason = "Japanese number needs an area code or service prefix "
                  "after the leading 0";
        return CRM_EINVAL;
    }
    c = jp_class_of(national, n);
    if (n != c->digits) {
        *reason = c->length_reason;
        return CRM_EINVAL;
    }
    if (is_repeated_subscriber(c, national, n)) {
        *reason = "placeholder phone number (subscriber digits all the same)";
        return CRM_EINVAL;
    }
    norm_put_bytes(b, "+81", 3);
    norm_put_bytes(b, national, n);
    return CRM_OK;
}

/* d: the digits after '+', 00 or 010. */
static crm_status put_international(const char *d, size_t n, norm_buf *b,
                                    const char **reason)
{
    if (n >= 2 && d[0] == '8' && d[1] == '1') {
        /* +81 (0)90 ...: a trunk 0 after the country code is dropped */
        size_t skip = n > 2 && d[2] == '0' ? 3 : 2;

        return put_japanese(d + skip, n - skip, b, reason);
    }
    if (n == 0 || d[0] == '0') {
        *reason = "international number needs a country code after the "
                  "prefix";
        return CRM_EINVAL;
    }
    if (n < 7 || n > 15) {
        *reason = "international number must have 7 to 15 digits";
        return CRM_EINVAL;
    }
    norm_put_byte(b, '+');
    norm_put_bytes(b, d, n);
    return CRM_OK;
}

crm_status norm_phone_jp(const char *s, size_t len, unsigned flags,
                         norm_buf *b, const char **reason)
{
    digits num;
    crm_status st;

    (void)flags;
    st = read_phone_digits(s, len, &num, reason);
    if (st != CRM_OK)
        return st;
    if (num.n > 1 && all_same_digit(num.d, num.n)) {
        *reason = "placeholder phone number (one digit repeated)";
        return CRM_EINVAL;
    }
    if (num.plus)
        return put_international(num.d, num.n, b, reason);
    /* 010 is the international prefix from Japan, 00 from most countries */
    if (has_prefix(num.d, num.n, "010", 3))
        return put_international(num.d + 3, num.n - 3, b, reason);
    if (has_prefix(num.d, num.n, "00", 2))
        return put_international(num.d + 2, num.n - 2, b, reason);
    if (num.d[0] == '0')
        return put_japanese(num.d + 1, num.n - 1, b, reason);
    *reason = "phone number must start with 0 (Japanese) or with +, 00 or "
              "010 and a country code";
    return CRM_EINVAL;
}

/* ---- phone placeholders ------------------------------------------------ */

/* d[0..n) continues start by steps of step (+1 or -1, modulo 10):
 * 0123456789, 1234567890, 9876543210. */
static int is_digit_run(int start, const char *d, size_t n, int step)
{
    int prev = start;
    size_t i;

    for (i = 0; i < n; i++) {
        int next = (prev + step + 10) % 10;

        if (d[i] - '0' != next)
            return 0;
        prev = next;
    }
    return 1;
}

static int is_sequence(int start, const char *d, size_t n)
{
    return is_digit_run(start, d, n, 1) || is_digit_run(start, d, n, -1);
}

/* national: the digits after +81. A sequence counts from the leading 0
 * people dial: 0123456789. */
static int is_japanese_placeholder(const char *national, size_t n)
{
    return all_same_digit(national, n) ||
           is_repeated_subscriber(jp_class_of(national, n), national, n) ||
           is_sequence(0, national, n);
}

int norm_phone_is_placeholder(const char *value, size_t len)
{
    const char *d = value + 1;
    size_t n = len - 1;

    if (len < 3 || value[0] != '+')
        return 0;
    if (all_same_digit(d, n) || is_sequence(d[0] - '0', d + 1, n - 1))
        return 1;
    if (d[0] != '8' || d[1] != '1' || n == 2)
        return 0;
    return is_japanese_placeholder(d + 2, n - 2);
}

/* ---- postal codes ------------------------------------------------------ */

#define POSTAL_DIGITS 7

static int is_postal_separator(uint32_t cp)
{
    return norm_is_dash(cp) || norm_is_space(cp) || cp == 0x3012 /* 〒 */ ||
           cp == 0x3036 /* 〶 */;
}

crm_status norm_postal_jp(const char *s, size_t len, unsigned flags,
                          norm_buf *b, const char **reason)
{
    size_t pos = 0, n = 0;

    (void)flags;
    while (pos < len) {
        uint32_t cp = crm_utf8_decode_valid(s, &pos);
        int v = norm_digit_value(cp);

        if (v >= 0) {
            norm_put_byte(b, (char)('0' + v));
            n++;
        } else if (!is_postal_separator(cp)) {
            *reason = "postal code contains a character other than digits, "
                      "hyphens, spaces or the postal mark";
            return CRM_EINVAL;
        }
    }
    if (n != POSTAL_DIGITS) {
        *reason = "postal code must have exactly 7 digits";
        return CRM_EINVAL;
    }
    return CRM_OK;
}

int norm_postal_is_placeholder(const char *value, size_t len)
{
    return len == POSTAL_DIGITS && memcmp(value, "0000000", len) == 0;
}
