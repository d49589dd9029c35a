/*
 * CRM_NORMALIZE_EMAIL: full-width forms folded, ASCII lowercased, the shape
 * checked loosely enough for the legacy Japanese carrier addresses
 * (a..b@docomo.ne.jp, x.@ezweb.ne.jp), and optionally the aliases of the
 * big providers folded.
 */
#include <string.h>

#include "identity/normalize_internal.h"

/* Spaces other than ASCII ones and U+3000, common in pasted text. */
static int is_other_space(uint32_t cp)
{
    return cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0xFEFF;
}

static int is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
}

/* Ideographic full stops typed by a Japanese input method for '.': IDNA
 * (UTS #46) maps them to '.' in domain names too. */
static uint32_t fold_full_stop(uint32_t cp)
{
    return cp == 0x3002 || cp == 0xFF61 ? '.' : cp;
}

static crm_status reject_space(const char **reason)
{
    *reason = "email contains a space";
    return CRM_EINVAL;
}

static crm_status reject_control(const char **reason)
{
    *reason = "email contains a control character";
    return CRM_EINVAL;
}

/* Folds width and case into b; rejects spaces and control characters.
 * ASCII bytes (the common case) take a short path with the same result:
 * width folding and full stops never change them. */
static crm_status fold_email(const char *s, size_t len, norm_buf *b,
                             const char **reason)
{
    size_t pos = 0;

    while (pos < len) {
        uint32_t cp = (unsigned char)s[pos];

        if (cp < 0x80) {
            pos++;
            if (norm_is_space(cp))
                return reject_space(reason);
            if (is_control(cp))
                return reject_control(reason);
            norm_put_byte(b, (char)norm_ascii_lower(cp));
            continue;
        }
        cp = crm_utf8_decode_valid(s, &pos);

        cp = norm_ascii_lower(fold_full_stop(norm_fold_width(cp)));
        if (norm_is_space(cp) || is_other_space(cp))
            return reject_space(reason);
        if (is_control(cp))
            return reject_control(reason);
        norm_put_cp(b, cp);
    }
    return CRM_OK;
}

/* RFC 5322 specials: never valid unquoted in a local part (quoted local
 * parts are not accepted). */
static int is_local_special(char c)
{
    switch (c) {
    case '"': case '(': case ')': case ',': case ':': case ';':
    case '<': case '>': case '[': case '\\': case ']':
        return 1;
    default:
        return 0;
    }
}

static int is_domain_char(char c)
{
    unsigned char u = (unsigned char)c;

    return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-';
}

static crm_status check_local(const char *local, size_t len,
                              const char **reason)
{
    size_t i;

    if (len == 0) {
        *reason = "email local part (before '@') is empty";
        return CRM_EINVAL;
    }
    for (i = 0; i < len; i++) {
        if (is_local_special(local[i])) {
            *reason = "email local part contains one of \"(),:;<>[\\]";
            return CRM_EINVAL;
        }
    }
    return CRM_OK;
}

static crm_status check_label(const char *label, size_t len,
                              const char **reason)
{
    size_t i;

    if (len == 0) {
        *reason = "email domain has an empty label (two dots, or a dot at "
                  "an end)";
        return CRM_EINVAL;
    }
    if (label[0] == '-' || label[len - 1] == '-') {
        *reason = "email domain label starts or ends with '-'";
        return CRM_EINVAL;
    }
    for (i = 0; i < len; i++) {
        if (!is_domain_char(label[i])) {
            *reason = "email domain contains a character other than a "
                      "letter, digit, '-' or '.'";
            return CRM_EINVAL;
        }
    }
    return CRM_OK;
}

static crm_status check_domain(const char *domain, size_t len,
                               const char **reason)
{
    size_t start = 0, i;
    crm_status st;

    if (len == 0) {
        *reason = "email domain (after '@') is empty";
        return CRM_EINVAL;
    }
    if (!memchr(domain, '.', len)) {
        *reason = "email domain has no dot";
        return CRM_EINVAL;
    }
    for (i = 0; i <= len; i++) {
        if (i < len && domain[i] != '.')
            continue;
        st = check_label(domain + start, i - start, reason);
        if (st != CRM_OK)
            return st;
        start = i + 1;
    }
    return CRM_OK;
}

/* Index of the only '@' in value, or an error when there is none or more. */
static crm_status find_at(const char *value, size_t len, size_t *at,
                          const char **reason)
{
    const char *first = memchr(value, '@', len);

    if (!first) {
        *reason = "email has no '@'";
        return CRM_EINVAL;
    }
    *at = (size_t)(first - value);
    if (memchr(first + 1, '@', len - *at - 1)) {
        *reason = "email has more than one '@'";
        return CRM_EINVAL;
    }
    return CRM_OK;
}

/* ---- ASCII addresses --------------------------------------------------- */

/* Bytes an address that needs no folding but case may have in its local
 * part, lowercased: printable ASCII other than '@' and the RFC 5322
 * specials. 0 for any other byte (controls, space, >= 0x80). */
static const char local_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, '!', 0, '#', '$', '%', '&', '\'', 0, 0, '*', '+', 0, '-', '.', '/',
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, '=', 0, '?',
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, '^', '_',
    '`', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '{', '|', '}', '~', 0,
};

/* As local_byte for the domain: letters, digits, '-' and '.'. */
static const char domain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '-', '.', 0,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
};

/* A '.' or '-' after prev that leaves a domain label empty, or makes one
 * start or end with '-' (prev is '.' at the start of the domain). */
static int breaks_label(char prev, char c)
{
    if (c == '.')
        return prev == '.' || prev == '-';
    return c == '-' && prev == '.';
}

/* The domain s[start..len) lowercased into b->data at the same offsets,
 * when it is one norm_email accepts as it is; 0 otherwise. */
static int fold_ascii_domain(const char *s, size_t start, size_t len,
                             norm_buf *b)
{
    char prev = '.';
    size_t i, dots = 0;

    for (i = start; i < len; i++) {
        char c = domain_byte[(unsigned char)s[i]];

        if (c == 0)
            return 0;
        if (c < '0') { /* '-' or '.' */
            if (breaks_label(prev, c))
                return 0;
            dots += c == '.';
        }
        b->data[i] = c;
        prev = c;
    }
    return dots > 0 && prev != '.' && prev != '-';
}

/*
 * One pass over an ASCII address that norm_email accepts with nothing to
 * fold but case (the usual input): lowercases it into b and sets *at to
 * the index of its '@'. Returns 0, with b->len untouched, for anything
 * else (a byte >= 0x80, a space or control, a missing or second '@', a
 * malformed part), which the general path then folds or rejects.
 */
static int fold_ascii_email(const char *s, size_t len, norm_buf *b,
                            size_t *at)
{
    size_t i;

    if (len > sizeof b->data)
        return 0;
    for (i = 0; i < len; i++) {
        char c = local_byte[(unsigned char)s[i]];

        if (c == 0)
            break;
        b->data[i] = c;
    }
    if (i == 0 || i == len || s[i] != '@' ||
        !fold_ascii_domain(s, i + 1, len, b))
        return 0;
    b->data[i] = '@';
    b->len = len;
    *at = i;
    return 1;
}

/* ---- provider folding -------------------------------------------------- */

typedef struct provider {
    norm_word domain;
    norm_word canonical;   /* the domain the address is written with */
    int drop_dots;         /* dots in the local part are ignored */
} provider;

/*
 * Mailboxes that deliver user+tag@ to user@. Gmail also ignores dots and
 * answers for googlemail.com; Microsoft's consumer domains (with their
 * Japanese ones outlook.jp, hotmail.co.jp and live.jp) and iCloud
 * deliver +tags.
 */
static const provider providers[] = {
    {NORM_WORD("gmail.com"), NORM_WORD("gmail.com"), 1},
    {NORM_WORD("googlemail.com"), NORM_WORD("gmail.com"), 1},
    {NORM_WORD("hotmail.co.jp"), NORM_WORD("hotmail.co.jp"), 0},
    {NORM_WORD("hotmail.com"), NORM_WORD("hotmail.com"), 0},
    {NORM_WORD("icloud.com"), NORM_WORD("icloud.com"), 0},
    {NORM_WORD("live.com"), NORM_WORD("live.com"), 0},
    {NORM_WORD("live.jp"), NORM_WORD("live.jp"), 0},
    {NORM_WORD("outlook.com"), NORM_WORD("outlook.com"), 0},
    {NORM_WORD("outlook.jp"), NORM_WORD("outlook.jp"), 0},
};

static const provider *find_provider(const char *domain, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof providers / sizeof providers[0]; i++) {
        if (norm_word_equals(&providers[i].domain, domain, len))
            return &providers[i];
    }
    return NULL;
}

/* Rewrites b (a checked address with '@' at index at) in place. An address
 * whose local part would become empty (+tag@gmail.com) is kept as it is. */
static void fold_provider(norm_buf *b, size_t at)
{
    const provider *p = find_provider(b->data + at + 1, b->len - at - 1);
    size_t w = 0, r;

    if (!p)
        return;
    /* w <= r: the local part is rewritten over itself, and nothing is
     * written when every byte is dropped. */
    for (r = 0; r < at && b->data[r] != '+'; r++) {
        if (!(p->drop_dots && b->data[r] == '.'))
            b->data[w++] = b->data[r];
    }
    if (w == 0)
        return;
    b->data[w++] = '@';
    memcpy(b->data + w, p->canonical.text, p->canonical.len);
    b->len = w + p->canonical.len;
}

/* The general path: folds s into b and checks the address; *at is the
 * index of its '@'. */
static crm_status fold_and_check_email(const char *s, size_t len,
                                       norm_buf *b, size_t *at,
                                       const char **reason)
{
    crm_status st = fold_email(s, len, b, reason);

    if (st == CRM_OK)
        st = norm_check_length(b, reason);
    if (st == CRM_OK)
        st = find_at(b->data, b->len, at, reason);
    if (st == CRM_OK)
        st = check_local(b->data, *at, reason);
    if (st == CRM_OK)
        st = check_domain(b->data + *at + 1, b->len - *at - 1, reason);
    return st;
}

crm_status norm_email(const char *s, size_t len, unsigned flags, norm_buf *b,
                      const char **reason)
{
    size_t at = 0;
    crm_status st = CRM_OK;

    if (len == 0) {
        *reason = "email is empty";
        return CRM_EINVAL;
    }
    if (!fold_ascii_email(s, len, b, &at))
        st = fold_and_check_email(s, len, b, &at, reason);
    if (st == CRM_OK && (flags & CRM_NORMALIZE_FOLD_PROVIDER))
        fold_provider(b, at);
    return st;
}

/* ---- placeholders ------------------------------------------------------ */

static const norm_word placeholder_locals[] = {
    NORM_WORD("do-not-reply"), NORM_WORD("donotreply"), NORM_WORD("dummy"),
    NORM_WORD("example"),      NORM_WORD("no-reply"),   NORM_WORD("no_reply"),
    NORM_WORD("noreply"),      NORM_WORD("test"),
};

/* Reserved for documentation and testing (RFC 2606, RFC 6761), or owned
 * by someone who is not your customer. Subdomains count too. */
static const norm_word placeholder_domains[] = {
    NORM_WORD("example"),     NORM_WORD("example.co.jp"),
    NORM_WORD("example.com"), NORM_WORD("example.jp"),
    NORM_WORD("example.net"), NORM_WORD("example.org"),
    NORM_WORD("invalid"),     NORM_WORD("localhost"),
    NORM_WORD("test"),        NORM_WORD("test.co.jp"),
    NORM_WORD("test.com"),
};

/* domain is word or a subdomain of it. */
static int is_within(const char *domain, size_t len, const norm_word *word)
{
    size_t n = word->len;

    if (n == len)
        return memcmp(domain, word->text, n) == 0;
    return n < len && domain[len - n - 1] == '.' &&
           memcmp(domain + len - n, word->text, n) == 0;
}

int norm_email_is_placeholder(const char *value, size_t len)
{
    const char *at = memchr(value, '@', len);
    size_t local_len, i;

    if (!at)
        return 0;
    local_len = (size_t)(at - value);
    for (i = 0; i < sizeof placeholder_locals / sizeof placeholder_locals[0];
         i++) {
        if (norm_word_equals(&placeholder_locals[i], value, local_len))
            return 1;
    }
    for (i = 0;
         i < sizeof placeholder_domains / sizeof placeholder_domains[0]; i++) {
        if (is_within(at + 1, len - local_len - 1, &placeholder_domains[i]))
            return 1;
    }
    return 0;
}
