/*
 * Normalisers of identifier values: the dispatcher, the trivial EXACT and
 * ICASE normalisers, the helpers the others share, the placeholder test and
 * the public crm_identity_normalize.
 */
#include <string.h>

#include "core/ctx.h"
#include "core/utf8.h"
#include "identity/normalize.h"
#include "identity/normalize_internal.h"

/* ---- shared helpers ---------------------------------------------------- */

void norm_put_utf8(norm_buf *b, uint32_t cp)
{
    char bytes[4];
    size_t n;

    n = crm_utf8_encode(cp, bytes);
    if (b->len + n <= sizeof b->data)
        memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

crm_status norm_check_length(const norm_buf *b, const char **reason)
{
    if (b->len <= CRM_IDENTITY_MAX_VALUE)
        return CRM_OK;
    *reason = "normalised value is longer than CRM_IDENTITY_MAX_VALUE bytes";
    return CRM_ELIMIT;
}

int norm_is_dash(uint32_t cp)
{
    switch (cp) {
    case '-':    /* hyphen-minus */
    case 0x2010: /* hyphen */
    case 0x2011: /* non-breaking hyphen */
    case 0x2012: /* figure dash */
    case 0x2013: /* en dash */
    case 0x2014: /* em dash */
    case 0x2015: /* horizontal bar */
    case 0x2212: /* minus sign */
    case 0x30FC: /* katakana prolonged sound mark */
    case 0xFE63: /* small hyphen-minus */
    case 0xFF0D: /* full-width hyphen-minus */
    case 0xFF70: /* half-width prolonged sound mark */
        return 1;
    default:
        return 0;
    }
}

/* ---- EXACT and ICASE --------------------------------------------------- */

static crm_status norm_exact(const char *s, size_t len, unsigned flags,
                             norm_buf *b, const char **reason)
{
    (void)flags;
    (void)reason;
    norm_put_bytes(b, s, len);
    return CRM_OK;
}

static crm_status norm_icase(const char *s, size_t len, unsigned flags,
                             norm_buf *b, const char **reason)
{
    size_t i;

    (void)flags;
    (void)reason;
    for (i = 0; i < len; i++)
        norm_put_byte(b, (char)norm_ascii_lower((unsigned char)s[i]));
    return CRM_OK;
}

/* ---- dispatch ---------------------------------------------------------- */

/* Every flag defined in crm/identity.h. A flag that does not apply to a
 * normaliser is ignored, so one flags value can serve every kind. */
#define NORM_KNOWN_FLAGS (CRM_NORMALIZE_FOLD_PROVIDER | CRM_NORMALIZE_FOLD_KANA)

typedef struct norm_rule {
    norm_fn fn;
    unsigned flags; /* the flags this normaliser uses */
} norm_rule;

/* Indexed by crm_identity_normalizer. */
static const norm_rule norm_rules[] = {
    {norm_exact, 0},
    {norm_icase, 0},
    {norm_email, CRM_NORMALIZE_FOLD_PROVIDER},
    {norm_phone_jp, 0},
    {norm_name_ja, CRM_NORMALIZE_FOLD_KANA},
    {norm_postal_jp, 0},
};

static const norm_rule *norm_rule_of(crm_identity_normalizer normalizer)
{
    unsigned i = (unsigned)normalizer;

    return i < sizeof norm_rules / sizeof norm_rules[0] ? &norm_rules[i]
                                                         : NULL;
}

static int is_trimmed_at_start(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;

    if (len >= 1 && norm_is_space(p[0]))
        return 0;
    return !(len >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80);
}

static int is_trimmed_at_end(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;

    if (len >= 1 && norm_is_space(p[len - 1]))
        return 0;
    return !(len >= 3 && p[len - 3] == 0xE3 && p[len - 2] == 0x80 &&
             p[len - 1] == 0x80);
}

/* Narrows s[*begin..*end) past ASCII whitespace and U+3000 at both ends. */
static void trim_spaces(const char *s, size_t *begin, size_t *end)
{
    while (!is_trimmed_at_start(s + *begin, *end - *begin))
        *begin += (unsigned char)s[*begin] < 0x80 ? 1 : 3;
    while (!is_trimmed_at_end(s + *begin, *end - *begin))
        *end -= (unsigned char)s[*end - 1] < 0x80 ? 1 : 3;
}

static crm_status fail(crm_status status, const char *why,
                       const char **reason)
{
    if (reason)
        *reason = why;
    return status;
}

static crm_status copy_out(const norm_buf *b, char *out, size_t cap,
                           size_t *out_len, const char **reason)
{
    const char *why = NULL;

    if (norm_check_length(b, &why) != CRM_OK) {
        *out_len = 0;
        return fail(CRM_ELIMIT, why, reason);
    }
    *out_len = b->len;
    if (b->len > cap)
        return fail(CRM_ELIMIT, "output buffer too small", reason);
    if (b->len > 0)
        memcpy(out, b->data, b->len);
    return CRM_OK;
}

/* Normalises raw[0..len) (not NULL when len > 0) into b, without
 * checking its length. */
static crm_status normalize_unchecked(crm_identity_normalizer normalizer,
                                      unsigned flags, const char *raw,
                                      size_t len, norm_buf *b,
                                      const char **reason)
{
    const norm_rule *rule = norm_rule_of(normalizer);
    const char *why = NULL;
    size_t begin = 0, end = len;
    crm_status st;

    if (!rule)
        return fail(CRM_EINVAL, "unknown normaliser", reason);
    if (flags & ~NORM_KNOWN_FLAGS)
        return fail(CRM_EINVAL, "unknown flag", reason);
    if (len > 0)
        trim_spaces(raw, &begin, &end);
    if (!crm_utf8_valid(raw + begin, end - begin))
        return fail(CRM_EUTF8, "value is not valid UTF-8", reason);
    b->len = 0;
    st = rule->fn(raw + begin, end - begin, flags & rule->flags, b, &why);
    if (st != CRM_OK)
        return fail(st, why, reason);
    return CRM_OK;
}

crm_status crm_normalize_value(crm_identity_normalizer normalizer,
                               unsigned flags, const char *raw, size_t len,
                               char *out, size_t cap, size_t *out_len,
                               const char **reason)
{
    norm_buf b;
    crm_status st;

    if (!out_len || (!raw && len > 0) || (!out && cap > 0))
        return fail(CRM_EINVAL, "NULL argument", reason);
    st = normalize_unchecked(normalizer, flags, raw, len, &b, reason);
    if (st != CRM_OK)
        return st;
    return copy_out(&b, out, cap, out_len, reason);
}

crm_status crm_normalize_to_buf(crm_identity_normalizer normalizer,
                                unsigned flags, const char *raw, size_t len,
                                norm_buf *b, const char **reason)
{
    const char *why = NULL;
    crm_status st;

    if (!raw && len > 0)
        return fail(CRM_EINVAL, "NULL argument", reason);
    st = normalize_unchecked(normalizer, flags, raw, len, b, reason);
    if (st == CRM_OK && norm_check_length(b, &why) != CRM_OK)
        return fail(CRM_ELIMIT, why, reason);
    return st;
}

/* ---- placeholders ------------------------------------------------------ */

/* Values people type when they have nothing to give, compared with ASCII
 * case folded. */
static const norm_word placeholder_words[] = {
    NORM_WORD("-"),    NORM_WORD("--"),   NORM_WORD("n/a"),
    NORM_WORD("na"),   NORM_WORD("none"), NORM_WORD("null"),
    NORM_WORD("unknown"), NORM_WORD("x"),
    NORM_WORD("\xE3\x81\xAA\xE3\x81\x97"), /* なし */
    NORM_WORD("\xE7\x84\xA1\xE3\x81\x97"), /* 無し */
    NORM_WORD("\xE3\x83\x8A\xE3\x82\xB7"), /* ナシ (なし with kana folded) */
};

static int equals_ignoring_ascii_case(const char *a, size_t len,
                                      const norm_word *word)
{
    size_t i;

    if (word->len != len)
        return 0;
    for (i = 0; i < len; i++) {
        if (norm_ascii_lower((unsigned char)a[i]) !=
            (unsigned char)word->text[i])
            return 0;
    }
    return 1;
}

static int is_placeholder_word(const char *value, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof placeholder_words / sizeof placeholder_words[0];
         i++) {
        if (equals_ignoring_ascii_case(value, len, &placeholder_words[i]))
            return 1;
    }
    return 0;
}

int crm_normalize_is_placeholder(crm_identity_normalizer normalizer,
                                 const char *value, size_t len)
{
    if (!value || len == 0)
        return 1;
    switch (normalizer) {
    case CRM_NORMALIZE_EXACT:
    case CRM_NORMALIZE_ICASE:
    case CRM_NORMALIZE_NAME_JA:
        return is_placeholder_word(value, len);
    case CRM_NORMALIZE_EMAIL:
        return norm_email_is_placeholder(value, len);
    case CRM_NORMALIZE_PHONE_JP:
        return norm_phone_is_placeholder(value, len);
    case CRM_NORMALIZE_POSTAL_JP:
        return norm_postal_is_placeholder(value, len);
    default:
        return 0;
    }
}

/* ---- public wrapper ---------------------------------------------------- */

crm_status crm_identity_normalize(crm_ctx *ctx,
                                  crm_identity_normalizer normalizer,
                                  unsigned flags, const char *raw, size_t len,
                                  char *out, size_t cap, size_t *out_len)
{
    const char *why = NULL;
    crm_status st;

    st = crm_normalize_value(normalizer, flags, raw, len, out, cap, out_len,
                             &why);
    if (st == CRM_ELIMIT && out_len && *out_len > cap)
        return crm_error(ctx, st, "%s: %zu bytes needed, %zu given", why,
                         *out_len, cap);
    if (st != CRM_OK)
        return crm_error(ctx, st, "%s", why);
    return CRM_OK;
}
