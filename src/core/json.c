/*
 * Strict JSON reader (see json.h). Recursive descent bounded by max_depth;
 * positions are tracked incrementally so minified input stays linear.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/utf8.h"

typedef struct parser {
    crm_ctx *ctx;
    crm_arena *arena;
    const char *s;
    size_t len;
    size_t pos;
    unsigned depth;
    unsigned max_depth;
    uint32_t line;
    size_t col_pos;  /* a position whose column is known */
    uint32_t col;    /* column of col_pos */
} parser;

/* Column (code points, 1-based) of position pos >= p->col_pos. */
static uint32_t column_at(parser *p, size_t pos)
{
    while (p->col_pos < pos) {
        if (((unsigned char)p->s[p->col_pos] & 0xC0) != 0x80)
            p->col++;
        p->col_pos++;
    }
    return p->col;
}

static crm_status fail_at(parser *p, crm_status status, size_t pos,
                          const char *what)
{
    return crm_error_at(p->ctx, status, p->line, column_at(p, pos),
                        "JSON: %s at line %u, column %u", what,
                        (unsigned)p->line, (unsigned)column_at(p, pos));
}

static crm_status fail(parser *p, const char *what)
{
    if (p->pos >= p->len)
        return fail_at(p, CRM_EPARSE, p->pos, "unexpected end of input");
    return fail_at(p, CRM_EPARSE, p->pos, what);
}

static crm_status nomem(parser *p)
{
    return crm_error_nomem(p->ctx);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];

        if (c == '\n') {
            p->pos++;
            p->line++;
            p->col_pos = p->pos;
            p->col = 1;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else {
            break;
        }
    }
}

static crm_json *new_node(parser *p, crm_json_type type)
{
    crm_json *node = crm_arena_alloc(p->arena, sizeof *node);

    if (!node)
        return NULL;
    memset(node, 0, sizeof *node);
    node->type = type;
    node->line = p->line;
    node->column = column_at(p, p->pos);
    return node;
}

static crm_status parse_value(parser *p, crm_json **out);

static crm_status parse_literal(parser *p, const char *word, crm_json_type type,
                                crm_json **out)
{
    size_t n = strlen(word);
    crm_json *node;

    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "invalid literal");
    node = new_node(p, type);
    if (!node)
        return nomem(p);
    p->pos += n;
    *out = node;
    return CRM_OK;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t skip_digits(parser *p)
{
    size_t start = p->pos;

    while (p->pos < p->len && is_digit(p->s[p->pos]))
        p->pos++;
    return p->pos - start;
}

/* Scans the number grammar; returns 0 or -1 with p->pos at the bad byte. */
static int scan_number(parser *p, int *integral)
{
    *integral = 1;
    if (p->pos < p->len && p->s[p->pos] == '-')
        p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0')
        p->pos++;
    else if (skip_digits(p) == 0)
        return -1;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        *integral = 0;
        if (skip_digits(p) == 0)
            return -1;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        *integral = 0;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (skip_digits(p) == 0)
            return -1;
    }
    return 0;
}

/* Exact int64 value of an integral literal; 0 when it does not fit. */
static int literal_to_int64(const char *t, size_t n, int64_t *out)
{
    int neg = t[0] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    size_t i;

    for (i = (size_t)neg; i < n; i++) {
        uint64_t d = (uint64_t)(t[i] - '0');

        if (v > (limit - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static double pow10_int(int e)
{
    double r = 1.0, b = 10.0;
    unsigned u = (unsigned)(e < 0 ? -e : e);

    for (; u; u >>= 1, b *= b)
        if (u & 1)
            r *= b;
    return e < 0 ? 1.0 / r : r;
}

/* Appends one decimal digit to a 19-digit mantissa, counting dropped digits. */
static void add_digit(uint64_t *mant, int *digits, long *dropped, char c)
{
    if (*digits < 19) {
        *mant = *mant * 10 + (uint64_t)(c - '0');
        if (*mant)
            (*digits)++;
    } else {
        (*dropped)++;
    }
}

/*
 * Locale-independent conversion of a validated literal to double: the first
 * 19 significant digits times a power of ten (within one ulp, not always
 * correctly rounded).
 */
static double literal_to_double(const char *t, size_t n)
{
    uint64_t mant = 0;
    long exp10 = 0, e = 0;
    int neg = t[0] == '-', eneg = 0, digits = 0;
    size_t i = (size_t)neg;
    double v;

    for (; i < n && is_digit(t[i]); i++)
        add_digit(&mant, &digits, &exp10, t[i]);
    if (i < n && t[i] == '.') {
        for (i++; i < n && is_digit(t[i]); i++) {
            long dropped = 0;

            add_digit(&mant, &digits, &dropped, t[i]);
            if (!dropped)
                exp10--;
        }
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (t[i] == '-' || t[i] == '+')
            eneg = t[i++] == '-';
        for (; i < n; i++)
            if (e < 100000)
                e = e * 10 + (t[i] - '0');
    }
    exp10 += eneg ? -e : e;
    if (exp10 < -400 || mant == 0)
        return neg ? -0.0 : 0.0;
    if (exp10 > 400)
        exp10 = 400;
    v = (double)mant;
    if (exp10 < -300)
        v = v * pow10_int(-300) * pow10_int((int)(exp10 + 300));
    else
        v = v * pow10_int((int)exp10);
    return neg ? -v : v;
}

static crm_status parse_number(parser *p, crm_json **out)
{
    size_t start = p->pos;
    int integral;
    crm_json *node = new_node(p, CRM_JSON_NUMBER);
    char *text;

    if (!node)
        return nomem(p);
    if (scan_number(p, &integral) != 0)
        return fail(p, "invalid number");
    text = crm_arena_strndup(p->arena, p->s + start, p->pos - start);
    if (!text)
        return nomem(p);
    node->text = text;
    node->len = p->pos - start;
    node->is_integer = integral && literal_to_int64(text, node->len, &node->integer);
    node->number = node->is_integer ? (double)node->integer
                                    : literal_to_double(text, node->len);
    *out = node;
    return CRM_OK;
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = s[i];
        uint32_t d;

        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* Reads \uXXXX (and its low half when a high surrogate); pos at 'u'. */
static crm_status parse_unicode_escape(parser *p, uint32_t *cp)
{
    uint32_t lo;

    if (p->len - p->pos < 5 || hex4(p->s + p->pos + 1, cp) != 0)
        return fail(p, "invalid \\u escape");
    p->pos += 5;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return fail(p, "lone low surrogate in \\u escape");
    if (*cp < 0xD800 || *cp > 0xDBFF)
        return CRM_OK;
    if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
        hex4(p->s + p->pos + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
        return fail(p, "lone high surrogate in \\u escape");
    p->pos += 6;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return CRM_OK;
}

static crm_status parse_escape(parser *p, char *buf, size_t *n)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    uint32_t cp = 0; /* set on success; GCC -O3 cannot tell */
    crm_status st;

    p->pos++; /* the backslash */
    if (p->pos >= p->len)
        return fail(p, "unterminated string");
    if (p->s[p->pos] == 'u') {
        st = parse_unicode_escape(p, &cp);
        if (st != CRM_OK)
            return st;
        *n += crm_utf8_encode(cp, buf + *n);
        return CRM_OK;
    }
    hit = p->s[p->pos] ? strchr(from, p->s[p->pos]) : NULL;
    if (!hit)
        return fail(p, "invalid escape");
    buf[(*n)++] = to[hit - from];
    p->pos++;
    return CRM_OK;
}

/* Parses a string at p->pos (the opening quote) into arena text. */
static crm_status parse_string_text(parser *p, const char **text, size_t *len)
{
    size_t start = ++p->pos, end = start, n = 0;
    char *buf;
    crm_status st;

    /* Decoded text is never longer than the raw text. */
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' && end + 1 < p->len ? 2 : 1;
    buf = crm_arena_alloc(p->arena, end - start + 1);
    if (!buf)
        return nomem(p);
    while (p->pos < p->len && p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos];
        uint32_t cp;
        size_t at = p->pos;

        if (c == '\\') {
            st = parse_escape(p, buf, &n);
            if (st != CRM_OK)
                return st;
        } else if (c < 0x20) {
            return fail(p, "control character in string");
        } else if (c < 0x80) {
            buf[n++] = (char)c;
            p->pos++;
        } else {
            if (crm_utf8_decode(p->s, p->len, &p->pos, &cp) != 0)
                return fail_at(p, CRM_EUTF8, at, "invalid UTF-8");
            memcpy(buf + n, p->s + at, p->pos - at);
            n += p->pos - at;
        }
    }
    if (p->pos >= p->len)
        return fail(p, "unterminated string");
    p->pos++;
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return CRM_OK;
}

static crm_status parse_string(parser *p, crm_json **out)
{
    crm_json *node = new_node(p, CRM_JSON_STRING);
    crm_status st;

    if (!node)
        return nomem(p);
    st = parse_string_text(p, &node->text, &node->len);
    if (st != CRM_OK)
        return st;
    *out = node;
    return CRM_OK;
}

/* A singly linked list of parsed children, turned into an array at the end. */
typedef struct child {
    struct child *next;
    crm_json_member member;
} child;

static crm_status enter(parser *p)
{
    if (p->depth >= p->max_depth)
        return fail_at(p, CRM_ELIMIT, p->pos, "nesting too deep");
    p->depth++;
    p->pos++;
    skip_ws(p);
    return CRM_OK;
}

static crm_status parse_member(parser *p, child *c);

/*
 * Parses the children of the array or object `node` from its opening
 * bracket up to and including `close`, into a list (*head) and
 * node->count.
 */
static crm_status parse_children(parser *p, crm_json *node, char close,
                                 child **head)
{
    child **tail = head, *c;
    crm_status st = enter(p);

    if (st != CRM_OK)
        return st;
    while (p->pos < p->len && p->s[p->pos] != close) {
        if (node->count > 0) {
            if (p->s[p->pos] != ',')
                return fail(p, close == ']' ? "expected ',' or ']'"
                                            : "expected ',' or '}'");
            p->pos++;
            skip_ws(p);
        }
        c = crm_arena_alloc(p->arena, sizeof *c);
        if (!c)
            return nomem(p);
        c->next = NULL;
        st = node->type == CRM_JSON_ARRAY ? parse_value(p, &c->member.value)
                                          : parse_member(p, c);
        if (st != CRM_OK)
            return st;
        *tail = c;
        tail = &c->next;
        node->count++;
        skip_ws(p);
    }
    if (p->pos >= p->len)
        return fail(p, close == ']' ? "unterminated array"
                                    : "unterminated object");
    p->pos++;
    p->depth--;
    return CRM_OK;
}

static crm_status parse_array(parser *p, crm_json **out)
{
    crm_json *node = new_node(p, CRM_JSON_ARRAY);
    child *head = NULL, *c;
    crm_status st;
    size_t i;

    if (!node)
        return nomem(p);
    st = parse_children(p, node, ']', &head);
    if (st != CRM_OK)
        return st;
    node->items = crm_arena_alloc(p->arena, (node->count + 1) * sizeof *node->items);
    if (!node->items)
        return nomem(p);
    for (i = 0, c = head; c; c = c->next)
        node->items[i++] = c->member.value;
    *out = node;
    return CRM_OK;
}

static int member_cmp(const void *a, const void *b)
{
    const crm_json_member *x = *(const crm_json_member *const *)a;
    const crm_json_member *y = *(const crm_json_member *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int r = memcmp(x->key, y->key, n);

    if (r != 0)
        return r;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Rejects duplicate keys: sorts pointers to the members, checks neighbours. */
static crm_status check_unique_keys(parser *p, const crm_json *node)
{
    const crm_json_member **sorted;
    size_t i;

    if (node->count < 2)
        return CRM_OK;
    sorted = crm_arena_alloc(p->arena, node->count * sizeof *sorted);
    if (!sorted)
        return nomem(p);
    for (i = 0; i < node->count; i++)
        sorted[i] = &node->members[i];
    qsort(sorted, node->count, sizeof *sorted, member_cmp);
    for (i = 1; i < node->count; i++) {
        if (member_cmp(&sorted[i - 1], &sorted[i]) == 0) {
            const crm_json *v = sorted[i - 1]->value > sorted[i]->value
                                    ? sorted[i - 1]->value
                                    : sorted[i]->value;
            return crm_error_at(p->ctx, CRM_EPARSE, v->line, v->column,
                                "JSON: duplicate key \"%.64s\" at line %u",
                                sorted[i]->key, (unsigned)v->line);
        }
    }
    return CRM_OK;
}

static crm_status parse_member(parser *p, child *c)
{
    crm_status st;

    if (p->pos >= p->len || p->s[p->pos] != '"')
        return fail(p, "expected a string key");
    st = parse_string_text(p, &c->member.key, &c->member.key_len);
    if (st != CRM_OK)
        return st;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':')
        return fail(p, "expected ':'");
    p->pos++;
    skip_ws(p);
    return parse_value(p, &c->member.value);
}

static crm_status parse_object(parser *p, crm_json **out)
{
    crm_json *node = new_node(p, CRM_JSON_OBJECT);
    child *head = NULL, *c;
    crm_status st;
    size_t i;

    if (!node)
        return nomem(p);
    st = parse_children(p, node, '}', &head);
    if (st != CRM_OK)
        return st;
    node->members = crm_arena_alloc(p->arena, (node->count + 1) * sizeof *node->members);
    if (!node->members)
        return nomem(p);
    for (i = 0, c = head; c; c = c->next)
        node->members[i++] = c->member;
    st = check_unique_keys(p, node);
    if (st != CRM_OK)
        return st;
    *out = node;
    return CRM_OK;
}

static crm_status parse_value_at(parser *p, crm_json **out);

static crm_status parse_value(parser *p, crm_json **out)
{
    size_t start = p->pos;
    crm_status st = parse_value_at(p, out);

    if (st == CRM_OK) {
        (*out)->src_offset = start;
        (*out)->src_len = p->pos - start;
    }
    return st;
}

static crm_status parse_value_at(parser *p, crm_json **out)
{
    if (p->pos >= p->len)
        return fail(p, "expected a value");
    switch (p->s[p->pos]) {
    case '{':
        return parse_object(p, out);
    case '[':
        return parse_array(p, out);
    case '"':
        return parse_string(p, out);
    case 't':
        return parse_literal(p, "true", CRM_JSON_TRUE, out);
    case 'f':
        return parse_literal(p, "false", CRM_JSON_FALSE, out);
    case 'n':
        return parse_literal(p, "null", CRM_JSON_NULL, out);
    default:
        if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
            return parse_number(p, out);
        return fail(p, "unexpected character");
    }
}

crm_status crm_json_parse(crm_ctx *ctx, crm_arena *arena, const char *text,
                          size_t len, const crm_json_limits *limits,
                          const crm_json **out)
{
    parser p;
    crm_json *root = NULL;
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes
                                                   : CRM_JSON_DEFAULT_MAX_BYTES;
    crm_status st;

    if (!arena || !out || (!text && len > 0))
        return crm_error(ctx, CRM_EINVAL, "JSON: NULL argument");
    if (len > max_bytes)
        return crm_error(ctx, CRM_ELIMIT, "JSON: input of %zu bytes exceeds the limit of %zu",
                         len, max_bytes);
    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    p.arena = arena;
    p.s = text ? text : "";
    p.len = len;
    p.max_depth = limits && limits->max_depth ? limits->max_depth
                                              : CRM_JSON_DEFAULT_MAX_DEPTH;
    p.line = 1;
    p.col = 1;
    skip_ws(&p);
    st = parse_value(&p, &root);
    if (st != CRM_OK)
        return st;
    skip_ws(&p);
    if (p.pos != p.len)
        return fail(&p, "trailing characters after the value");
    *out = root;
    return CRM_OK;
}

const crm_json *crm_json_get(const crm_json *object, const char *key)
{
    size_t i, n;

    if (!object || object->type != CRM_JSON_OBJECT || !key)
        return NULL;
    n = strlen(key);
    for (i = 0; i < object->count; i++)
        if (object->members[i].key_len == n &&
            memcmp(object->members[i].key, key, n) == 0)
            return object->members[i].value;
    return NULL;
}

const char *crm_json_type_name(crm_json_type type)
{
    switch (type) {
    case CRM_JSON_NULL:
        return "null";
    case CRM_JSON_FALSE:
    case CRM_JSON_TRUE:
        return "boolean";
    case CRM_JSON_NUMBER:
        return "number";
    case CRM_JSON_STRING:
        return "string";
    case CRM_JSON_ARRAY:
        return "array";
    case CRM_JSON_OBJECT:
        return "object";
    }
    return "unknown";
}
