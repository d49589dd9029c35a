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
    return norm_is_dash(cp) || norm_is_space(cp) || cp == '(' || cp == ')' ||
           cp == '[' || cp == ']' || cp == '.';
}

static crm_status read_phone_digits(const char *s, size_t len, digits *out,
                                    const char **reason)
{
    size_t pos = 0;

    while (pos < len) {
        uint32_t cp = norm_decode(s, len, &pos);
        int v = norm_digit_value(cp);

        if (v >= 0 && out->n == PHONE_MAX_DIGITS) {
            *reason = "phone number has too many digits";
            return CRM_EINVAL;
        }
        if (v >= 0) {
            out->d[out->n++] = (char)('0' + v);
        } else if (norm_fold_width(cp) == '+' && out->n == 0 && !out->plus) {
            out->plus = 1;
        } else if (!is_phone_separator(cp)) {
            *reason = "phone number contains a character other than digits, "
                      "a leading '+', hyphens, spaces, brackets or dots";
            return CRM_EINVAL;
        }
    }
    if (out->n == 0) {
        *reason = "phone number has no digits";
        return CRM_EINVAL;
    }
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
    size_t digits;        /* national digits, without the leading 0 */
    const char *length_reason;
} jp_class;

/* Longer prefixes first (0800 before 080). A national number matching none
 * is a geographic landline whose area code starts with its first digit. */
static const jp_class jp_classes[] = {
    {"120", 9, "freephone number (0120) must have 10 digits"},
    {"800", 10, "freephone number (0800) must have 11 digits"},
    {"570", 9, "navi-dial number (0570) must have 10 digits"},
    {"180", 9, "number 0180 must have 10 digits"},
    {"990", 9, "number 0990 must have 10 digits"},
    {"20", 10, "M2M/pager number (020) must have 11 digits"},
    {"50", 10, "IP phone number (050) must have 11 digits"},
    {"60", 10, "mobile number (060/070/080/090) must have 11 digits"},
    {"70", 10, "mobile number (060/070/080/090) must have 11 digits"},
    {"80", 10, "mobile number (060/070/080/090) must have 11 digits"},
    {"90", 10, "mobile number (060/070/080/090) must have 11 digits"},
    {"", 9, "landline number must have 10 digits including the leading 0"},
};

static const jp_class *jp_class_of(const char *national, size_t n)
{
    size_t i = 0;

    while (jp_classes[i].prefix[0] != '\0') {
        size_t plen = strlen(jp_classes[i].prefix);

        if (n >= plen && memcmp(national, jp_classes[i].prefix, plen) == 0)
            break;
        i++;
    }
    return &jp_classes[i];
}

/* The subscriber digits after the service prefix (or after the first digit
 * of a geographic area code) are all one digit: 090-0000-0000,
 * 03-1111-1111. */
static int is_repeated_subscriber(const char *national, size_t n)
{
    size_t plen = strlen(jp_class_of(national, n)->prefix);

    if (plen == 0)
        plen = 1;
    return n > plen && all_same_digit(national + plen, n - plen);
}

static crm_status put_japanese(const char *national, size_t n, norm_buf *b,
                               const char **reason)
{
    const jp_class *c;
    size_t i;

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
    if (is_repeated_subscriber(national, n)) {
        *reason = "placeholder phone number (subscriber digits all the same)";
        return CRM_EINVAL;
    }
    norm_put_byte(b, '+');
    norm_put_byte(b, '8');
    norm_put_byte(b, '1');
    for (i = 0; i < n; i++)
        norm_put_byte(b, national[i]);
    return CRM_OK;
}

/* d: the digits after '+', 00 or 010. */
static crm_status put_international(const char *d, size_t n, norm_buf *b,
                                    const char **reason)
{
    size_t i;

    if (n >= 2 && d[0] == '8' && d[1] == '1') {
        d += 2, n -= 2;
        if (n > 0 && d[0] == '0') /* +81 (0)90 ...: the trunk 0 is dropped */
            d++, n--;
        return put_japanese(d, n, b, reason);
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
    for (i = 0; i < n; i++)
        norm_put_byte(b, d[i]);
    return CRM_OK;
}

static int starts_with(const digits *num, const char *prefix)
{
    size_t n = strlen(prefix);

    return num->n >= n && memcmp(num->d, prefix, n) == 0;
}

crm_status norm_phone_jp(const char *s, size_t len, unsigned flags,
                         norm_buf *b, const char **reason)
{
    digits num;
    crm_status st;

    (void)flags;
    memset(&num, 0, sizeof num);
    st = read_phone_digits(s, len, &num, reason);
    if (st != CRM_OK)
        return st;
    if (num.n > 1 && all_same_digit(num.d, num.n)) {
        *reason = "placeholder phone number (one digit repeated)";
        return CRM_EINVAL;
    }
    if (num.plus)
        return put_international(num.d, num.n, b, reason);
    if (starts_with(&num, "010")) /* the international prefix from Japan */
        return put_international(num.d + 3, num.n - 3, b, reason);
    if (starts_with(&num, "00"))
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
    /* Japanese: the national number with its leading 0 put back */
    return all_same_digit(d + 2, n - 2) || is_repeated_subscriber(d + 2, n - 2) ||
           is_sequence(0, d + 2, n - 2);
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
        uint32_t cp = norm_decode(s, len, &pos);
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
