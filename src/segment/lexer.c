/*
 * Tokenizer of the segment rule language: numbers, decimals, dates,
 * date-times, durations, relative times, strings, operators, keywords.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/civil.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "segment/lexer.h"

/* 1-based line and column (in characters) of byte offset `at`. */
static void position_of(const seg_lexer *lx, size_t at, uint32_t *line, uint32_t *col)
{
    size_t i = 0;
    uint32_t l = 1, c = 1;
    uint32_t cp;

    while (i < at && i < lx->len) {
        if (lx->src[i] == '\n') {
            l++;
            c = 1;
            i++;
            continue;
        }
        if (crm_utf8_decode(lx->src, lx->len, &i, &cp) != 0)
            i++;
        c++;
    }
    *line = l;
    *col = c;
}

crm_status seg_lex_error(const seg_lexer *lx, crm_status status, size_t at,
                         const char *fmt, ...)
{
    char msg[CRM_ERRMSG_MAX];
    uint32_t line, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    position_of(lx, at, &line, &col);
    return crm_error_at(lx->ctx, status, line, col, "line %u, column %u: %s",
                        (unsigned)line, (unsigned)col, msg);
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(int c)
{
    return is_ident_start(c) || is_digit(c) || c == '.';
}

static int peek(const seg_lexer *lx, size_t at)
{
    return at < lx->len ? (unsigned char)lx->src[at] : -1;
}

static void skip_space_and_comments(seg_lexer *lx)
{
    for (;;) {
        int c = peek(lx, lx->pos);

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            lx->pos++;
        } else if (c == '-' && peek(lx, lx->pos + 1) == '-') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
                lx->pos++;
        } else {
            return;
        }
    }
}

static const struct {
    const char *word;
    enum seg_tok type;
} keyword_tokens[] = {
    {"and", TOK_AND},         {"or", TOK_OR},       {"not", TOK_NOT},
    {"in", TOK_IN},           {"between", TOK_BETWEEN}, {"is", TOK_IS},
    {"null", TOK_NULL},       {"contains", TOK_CONTAINS}, {"starts", TOK_STARTS},
    {"with", TOK_WITH},       {"true", TOK_TRUE},   {"false", TOK_FALSE},
    {"now", TOK_NOW},
};

static enum seg_tok keyword_type(const char *s, size_t len)
{
    size_t k, i;

    for (k = 0; k < sizeof keyword_tokens / sizeof keyword_tokens[0]; k++) {
        const char *w = keyword_tokens[k].word;

        if (strlen(w) != len)
            continue;
        for (i = 0; i < len; i++) {
            int c = (unsigned char)s[i];

            if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != w[i])
                break;
        }
        if (i == len)
            return keyword_tokens[k].type;
    }
    return TOK_IDENT;
}

static crm_status lex_ident(seg_lexer *lx, seg_token *tok)
{
    while (lx->pos < lx->len && is_ident_char((unsigned char)lx->src[lx->pos]))
        lx->pos++;
    tok->len = lx->pos - tok->start;
    tok->type = keyword_type(lx->src + tok->start, tok->len);
    return CRM_OK;
}

/* Appends bytes to the string pool. */
static int pool_put(seg_lexer *lx, const char *s, size_t n)
{
    if (crm_mem_grow(lx->ctx, (void **)&lx->chars, &lx->chars_cap, lx->nchars + n + 1,
                     1) != 0)
        return -1;
    memcpy(lx->chars + lx->nchars, s, n);
    lx->nchars += n;
    return 0;
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes \uXXXX at lx->pos (just after the 'u') into UTF-8. */
static crm_status lex_unicode_escape(seg_lexer *lx, size_t esc_at, char out[4],
                                     size_t *n)
{
    uint32_t cp = 0;
    int k;

    for (k = 0; k < 4; k++) {
        int h = hex_value(peek(lx, lx->pos + (size_t)k));

        if (h < 0)
            return seg_lex_error(lx, CRM_EPARSE, esc_at,
                                 "\\u must be followed by 4 hex digits");
        cp = cp * 16 + (uint32_t)h;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return seg_lex_error(lx, CRM_EPARSE, esc_at,
                             "\\u%04X is a surrogate, not a character", (unsigned)cp);
    lx->pos += 4;
    *n = crm_utf8_encode(cp, out);
    return CRM_OK;
}

static crm_status lex_escape(seg_lexer *lx, char out[4], size_t *n)
{
    size_t esc_at = lx->pos - 1;
    int c = peek(lx, lx->pos);

    lx->pos++;
    *n = 1;
    switch (c) {
    case '\\': out[0] = '\\'; return CRM_OK;
    case '\'': out[0] = '\''; return CRM_OK;
    case '"': out[0] = '"'; return CRM_OK;
    case 'n': out[0] = '\n'; return CRM_OK;
    case 't': out[0] = '\t'; return CRM_OK;
    case 'u': return lex_unicode_escape(lx, esc_at, out, n);
    default:
        return seg_lex_error(lx, CRM_EPARSE, esc_at,
                             "unknown escape '\\%c' in text (use \\\\ \\' \\\" \\n \\t "
                             "or \\uXXXX)",
                             c >= 0x20 && c < 0x7f ? c : '?');
    }
}

static crm_status lex_string(seg_lexer *lx, seg_token *tok)
{
    char quote = lx->src[lx->pos++];
    crm_status st;

    tok->type = TOK_STRING;
    tok->str_off = lx->nchars;
    for (;;) {
        size_t run = lx->pos;
        char buf[4];
        size_t n = 0;

        while (run < lx->len && lx->src[run] != quote && lx->src[run] != '\\')
            run++;
        if (pool_put(lx, lx->src + lx->pos, run - lx->pos) != 0)
            return crm_error_nomem(lx->ctx);
        lx->pos = run;
        if (run >= lx->len)
            return seg_lex_error(lx, CRM_EPARSE, tok->start,
                                 "text starting here is missing its closing %c", quote);
        lx->pos++;
        if (lx->src[run] == quote)
            break;
        st = lex_escape(lx, buf, &n);
        if (st != CRM_OK)
            return st;
        if (pool_put(lx, buf, n) != 0)
            return crm_error_nomem(lx->ctx);
    }
    tok->str_len = lx->nchars - tok->str_off;
    tok->len = lx->pos - tok->start;
    return CRM_OK;
}

/* Reads digits (with '_' separators) into *value; 0 if none were read. */
static int read_digits(seg_lexer *lx, int64_t *value, size_t *ndigits, int *overflow)
{
    int64_t v = 0;

    *ndigits = 0;
    while (lx->pos < lx->len) {
        int c = (unsigned char)lx->src[lx->pos];

        if (c == '_' && *ndigits > 0 && is_digit(peek(lx, lx->pos + 1))) {
            lx->pos++;
            continue;
        }
        if (!is_digit(c))
            break;
        if (v > (INT64_MAX - (c - '0')) / 10)
            *overflow = 1;
        else
            v = v * 10 + (c - '0');
        (*ndigits)++;
        lx->pos++;
    }
    *value = v;
    return *ndigits > 0;
}

static int64_t unit_seconds(int c)
{
    switch (c) {
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    case 'h': return 3600;
    case 'm': return 60;
    case 's': return 1;
    default: return 0;
    }
}

/* YYYY-MM-DD, optionally followed by THH:MM[:SS[.fff]] and Z or +HH:MM. */
static crm_status lex_date(seg_lexer *lx, seg_token *tok)
{
    size_t end = tok->start + 10;
    int64_t t;

    tok->type = TOK_DATE;
    if (peek(lx, end) == 'T' || peek(lx, end) == 't') {
        tok->type = TOK_DATETIME;
        end++;
        while (is_digit(peek(lx, end)) || peek(lx, end) == ':' || peek(lx, end) == '.')
            end++;
        if (peek(lx, end) == 'Z' || peek(lx, end) == 'z') {
            end++;
        } else if (peek(lx, end) == '+' || peek(lx, end) == '-') {
            end++;
            while (is_digit(peek(lx, end)) || peek(lx, end) == ':')
                end++;
        }
    }
    if (is_ident_char(peek(lx, end)) ||
        crm_time_parse(lx->src + tok->start, end - tok->start, lx->offset_min, &t) != CRM_OK)
        return seg_lex_error(lx, CRM_EPARSE, tok->start,
                             "'%.*s' is not a valid date (YYYY-MM-DD) or date-time "
                             "(2024-05-30T10:00:00+09:00)",
                             (int)(end - tok->start > 40 ? 40 : end - tok->start),
                             lx->src + tok->start);
    lx->pos = end;
    tok->len = end - tok->start;
    tok->ival = t;
    return CRM_OK;
}

static crm_status number_error(seg_lexer *lx, seg_token *tok, const char *what)
{
    size_t end = lx->pos;

    while (end < lx->len && is_ident_char((unsigned char)lx->src[end]))
        end++;
    return seg_lex_error(lx, CRM_EPARSE, tok->start, "'%.*s' %s",
                         (int)(end - tok->start > 40 ? 40 : end - tok->start),
                         lx->src + tok->start, what);
}

static crm_status lex_fraction(seg_lexer *lx, seg_token *tok, int negative, int64_t whole)
{
    int64_t frac = 0, scale = 10000;
    size_t nd = 0;

    lx->pos++; /* '.' */
    while (is_digit(peek(lx, lx->pos))) {
        if (nd == 4)
            return number_error(lx, tok, "has more than 4 digits after the decimal point");
        frac = frac * 10 + (lx->src[lx->pos] - '0');
        scale /= 10;
        nd++;
        lx->pos++;
    }
    if (whole > (INT64_MAX - 9999) / 10000)
        return number_error(lx, tok, "is too large");
    if (is_ident_char(peek(lx, lx->pos)))
        return number_error(lx, tok, "is not a number");
    tok->type = TOK_DECIMAL;
    tok->ival = whole * 10000 + frac * scale;
    if (negative)
        tok->ival = -tok->ival;
    tok->len = lx->pos - tok->start;
    return CRM_OK;
}

static crm_status lex_number(seg_lexer *lx, seg_token *tok)
{
    int negative = 0, signed_lit = 0, overflow = 0;
    int64_t v;
    size_t nd;
    int c;

    if (lx->src[lx->pos] == '-' || lx->src[lx->pos] == '+') {
        negative = lx->src[lx->pos] == '-';
        signed_lit = 1;
        lx->pos++;
    }
    read_digits(lx, &v, &nd, &overflow);
    if (overflow)
        return number_error(lx, tok, "is too large");
    c = peek(lx, lx->pos);
    if (!signed_lit && nd == 4 && c == '-' && is_digit(peek(lx, lx->pos + 1)))
        return lex_date(lx, tok);
    if (c == '.' && is_digit(peek(lx, lx->pos + 1)))
        return lex_fraction(lx, tok, negative, v);
    if (unit_seconds(c) && !is_ident_char(peek(lx, lx->pos + 1))) {
        if (v > INT64_MAX / unit_seconds(c) / 2)
            return number_error(lx, tok, "is too long a duration");
        lx->pos++;
        tok->type = signed_lit ? TOK_RELATIVE : TOK_DURATION;
        tok->ival = negative ? -v * unit_seconds(c) : v * unit_seconds(c);
        tok->len = lx->pos - tok->start;
        return CRM_OK;
    }
    if (is_ident_char(c))
        return number_error(lx, tok,
                            "is not a number or a duration (30d, 2w, 12h, 15m, 45s)");
    tok->type = TOK_INT;
    tok->ival = negative ? -v : v;
    tok->len = lx->pos - tok->start;
    return CRM_OK;
}

static int lex_operator(seg_lexer *lx, seg_token *tok)
{
    int c = peek(lx, lx->pos), d = peek(lx, lx->pos + 1);
    size_t n = 1;

    switch (c) {
    case '(': tok->type = TOK_LPAREN; break;
    case ')': tok->type = TOK_RPAREN; break;
    case ',': tok->type = TOK_COMMA; break;
    case '=': tok->type = TOK_EQ; n = d == '=' ? 2 : 1; break;
    case '!':
        if (d != '=')
            return 0;
        tok->type = TOK_NE;
        n = 2;
        break;
    case '<':
        tok->type = d == '=' ? TOK_LE : d == '>' ? TOK_NE : TOK_LT;
        n = (d == '=' || d == '>') ? 2 : 1;
        break;
    case '>':
        tok->type = d == '=' ? TOK_GE : TOK_GT;
        n = d == '=' ? 2 : 1;
        break;
    default: return 0;
    }
    lx->pos += n;
    tok->len = n;
    return 1;
}

static crm_status unexpected_char(seg_lexer *lx, seg_token *tok)
{
    size_t p = lx->pos;
    uint32_t cp = 0;

    if (crm_utf8_decode(lx->src, lx->len, &p, &cp) != 0)
        p = lx->pos + 1;
    return seg_lex_error(lx, CRM_EPARSE, tok->start, "unexpected character '%.*s'",
                         (int)(p - lx->pos), lx->src + lx->pos);
}

crm_status seg_lex_next(seg_lexer *lx, seg_token *tok)
{
    int c;

    skip_space_and_comments(lx);
    memset(tok, 0, sizeof *tok);
    tok->start = lx->pos;
    if (lx->pos >= lx->len) {
        tok->type = TOK_EOF;
        return CRM_OK;
    }
    c = (unsigned char)lx->src[lx->pos];
    if (is_ident_start(c))
        return lex_ident(lx, tok);
    if (is_digit(c) || ((c == '-' || c == '+') && is_digit(peek(lx, lx->pos + 1))))
        return lex_number(lx, tok);
    if (c == '\'' || c == '"')
        return lex_string(lx, tok);
    if (lex_operator(lx, tok))
        return CRM_OK;
    return unexpected_char(lx, tok);
}
