/*
 * The segment rule compiler: a recursive-descent parser with an explicit
 * depth limit that type-checks as it goes and emits a flat array of nodes
 * in prefix order (each node knows its subtree size), evaluated later
 * without allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "segment/internal.h"
#include "segment/lexer.h"

typedef struct parser {
    seg_lexer lx;
    const crm_segment_schema *schema;
    seg_token tok;
    size_t prev_end; /* end of the last consumed token */
    seg_node *nodes;
    size_t nnodes;
    size_t nodes_cap;
    int64_t *pool;
    size_t npool;
    size_t pool_cap;
} parser;

/* What a predicate tests: an attribute, possibly through a function. */
typedef struct operand {
    uint32_t attr;
    uint8_t fn;
    crm_segment_type type; /* type the comparison sees (int for functions) */
    int anniversary;       /* anniversary_within(): a bool-valued test */
    int64_t window_days;
    size_t start;
    const char *name;
} operand;

typedef struct literal {
    enum seg_tok type;
    int64_t a, b; /* the span of a value: a date covers its whole local day */
    int rel;      /* a and b are offsets from now */
    size_t str_off, str_len;
    size_t start, len;
} literal;

typedef struct fn_info {
    const char *name;
    uint8_t fn;
} fn_info;

static const fn_info functions[] = {
    {"days_since", SEG_FN_DAYS_SINCE}, {"days_until", SEG_FN_DAYS_UNTIL},
    {"anniversary_within", SEG_FN_ANNIVERSARY}, {"month", SEG_FN_MONTH},
    {"weekday", SEG_FN_WEEKDAY}, {"hour", SEG_FN_HOUR},
};

static crm_status parse_or(parser *p, unsigned depth);

/* ---- tokens --------------------------------------------------------------- */

static crm_status advance(parser *p)
{
    p->prev_end = p->tok.start + p->tok.len;
    return seg_lex_next(&p->lx, &p->tok);
}

/* The current token's text for messages, at most 40 bytes. */
static int tok_text_len(const parser *p)
{
    return (int)(p->tok.len > 40 ? 40 : p->tok.len);
}

static crm_status error_here(parser *p, crm_status st, const char *expected)
{
    if (p->tok.type == TOK_EOF)
        return seg_lex_error(&p->lx, st, p->tok.start, "expected %s, found the end of the rule",
                             expected);
    return seg_lex_error(&p->lx, st, p->tok.start, "expected %s, found '%.*s'", expected,
                         tok_text_len(p), p->lx.src + p->tok.start);
}

/* ---- node emission --------------------------------------------------------- */

static crm_status insert_node(parser *p, size_t at, const seg_node *n)
{
    if (p->nnodes >= UINT32_MAX / 2)
        return seg_lex_error(&p->lx, CRM_ELIMIT, p->tok.start, "the rule is too large");
    if (crm_mem_grow(p->lx.ctx, (void **)&p->nodes, &p->nodes_cap, p->nnodes + 1,
                     sizeof *p->nodes) != 0)
        return crm_error_nomem(p->lx.ctx);
    memmove(p->nodes + at + 1, p->nodes + at, (p->nnodes - at) * sizeof *p->nodes);
    p->nodes[at] = *n;
    p->nnodes++;
    return CRM_OK;
}

static crm_status push_pool(parser *p, int64_t v)
{
    if (crm_mem_grow(p->lx.ctx, (void **)&p->pool, &p->pool_cap, p->npool + 1,
                     sizeof *p->pool) != 0)
        return crm_error_nomem(p->lx.ctx);
    p->pool[p->npool++] = v;
    return CRM_OK;
}

static void set_span(parser *p, seg_node *n, size_t start)
{
    n->src_start = (uint32_t)start;
    n->src_len = (uint32_t)(p->prev_end - start);
}

static seg_node leaf_for(const operand *op, uint8_t kind)
{
    seg_node n;

    memset(&n, 0, sizeof n);
    n.kind = kind;
    n.fn = op->fn;
    n.attr = op->attr;
    n.size = 1;
    return n;
}

static crm_status emit_leaf(parser *p, seg_node *n, const operand *op)
{
    set_span(p, n, op->start);
    return insert_node(p, p->nnodes, n);
}

/* ---- literals --------------------------------------------------------------- */

static const char *literal_phrase(enum seg_tok t)
{
    switch (t) {
    case TOK_INT: return "a whole number";
    case TOK_DECIMAL: return "a decimal number";
    case TOK_STRING: return "text";
    case TOK_DATE:
    case TOK_DATETIME:
    case TOK_RELATIVE:
    case TOK_NOW: return "a date and time";
    case TOK_DURATION: return "a duration";
    case TOK_TRUE:
    case TOK_FALSE: return "true or false";
    default: return "a value";
    }
}

static crm_status parse_literal(parser *p, literal *lit)
{
    const seg_token *t = &p->tok;

    memset(lit, 0, sizeof *lit);
    lit->type = t->type;
    lit->start = t->start;
    lit->len = t->len;
    lit->a = lit->b = t->ival;
    switch (t->type) {
    case TOK_INT:
    case TOK_DECIMAL:
    case TOK_DATETIME:
    case TOK_DURATION: break;
    case TOK_DATE: lit->b = t->ival + 86399; break;
    case TOK_RELATIVE: lit->rel = 1; break;
    case TOK_NOW: lit->rel = 1; lit->a = lit->b = 0; break;
    case TOK_TRUE: lit->a = lit->b = 1; break;
    case TOK_FALSE: lit->a = lit->b = 0; break;
    case TOK_STRING:
        lit->str_off = t->str_off;
        lit->str_len = t->str_len;
        break;
    case TOK_NULL:
        return seg_lex_error(&p->lx, CRM_EPARSE, t->start,
                             "NULL cannot be compared: write IS NULL or IS NOT NULL");
    default: return error_here(p, CRM_EPARSE, "a value");
    }
    return advance(p);
}

static crm_status type_mismatch(parser *p, const operand *op, const literal *lit,
                                const char *hint)
{
    return seg_lex_error(&p->lx, CRM_ETYPE, lit->start,
                         "%s is %s and cannot be compared with %.*s (%s)%s", op->name,
                         seg_type_phrase(op->type), (int)(lit->len > 40 ? 40 : lit->len),
                         p->lx.src + lit->start, literal_phrase(lit->type), hint);
}

/* Converts a literal to the int64 span an int-like operand compares with. */
static crm_status literal_span(parser *p, const operand *op, const literal *lit,
                               literal *out)
{
    *out = *lit;
    switch (op->type) {
    case CRM_SEGMENT_INT:
    case CRM_SEGMENT_MONEY:
        if (lit->type == TOK_INT)
            return CRM_OK;
        return type_mismatch(p, op, lit,
                             op->type == CRM_SEGMENT_MONEY && lit->type == TOK_DECIMAL
                                 ? "; money is written in minor units (yen: 1, cents: "
                                   "1050 for 10.50)"
                                 : "");
    case CRM_SEGMENT_DECIMAL:
        if (lit->type == TOK_DECIMAL)
            return CRM_OK;
        if (lit->type != TOK_INT)
            return type_mismatch(p, op, lit, "");
        if (lit->a > INT64_MAX / 10000 || lit->a < INT64_MIN / 10000)
            return seg_lex_error(&p->lx, CRM_EPARSE, lit->start, "'%.*s' is too large",
                                 (int)(lit->len > 40 ? 40 : lit->len),
                                 p->lx.src + lit->start);
        out->a = out->b = lit->a * 10000;
        return CRM_OK;
    case CRM_SEGMENT_TIME:
        if (lit->type == TOK_DATE || lit->type == TOK_DATETIME ||
            lit->type == TOK_RELATIVE || lit->type == TOK_NOW)
            return CRM_OK;
        return type_mismatch(p, op, lit,
                             lit->type == TOK_DURATION
                                 ? "; write -30d for 30 days ago or +30d for 30 days from now"
                                 : "");
    case CRM_SEGMENT_BOOL:
        if (lit->type == TOK_TRUE || lit->type == TOK_FALSE)
            return CRM_OK;
        return type_mismatch(p, op, lit, "");
    default: return type_mismatch(p, op, lit, "");
    }
}

/* ---- predicates ------------------------------------------------------------- */

static int is_int_like(crm_segment_type t)
{
    return t == CRM_SEGMENT_INT || t == CRM_SEGMENT_DECIMAL || t == CRM_SEGMENT_MONEY ||
           t == CRM_SEGMENT_TIME || t == CRM_SEGMENT_BOOL;
}

static crm_status unsupported(parser *p, const operand *op, size_t at, const char *what)
{
    return seg_lex_error(&p->lx, CRM_ETYPE, at, "%s cannot be used with %s (%s)", what,
                         op->name, seg_type_phrase(op->type));
}

/* An anniversary test: days to the next anniversary in [0, window). */
static crm_status emit_anniversary(parser *p, const operand *op, int negate)
{
    seg_node n = leaf_for(op, SEG_RANGE);

    n.lo = 0;
    n.hi = op->window_days - 1;
    n.flags = negate ? SEG_NEG : 0;
    return emit_leaf(p, &n, op);
}

static crm_status emit_range(parser *p, const operand *op, enum seg_tok cmp,
                             const literal *v)
{
    seg_node n = leaf_for(op, SEG_RANGE);
    uint8_t rel = v->rel ? 1 : 0;

    n.lo = INT64_MIN;
    n.hi = INT64_MAX;
    switch (cmp) {
    case TOK_EQ:
    case TOK_NE:
        n.lo = v->a, n.hi = v->b;
        n.flags = (uint8_t)((cmp == TOK_NE ? SEG_NEG : 0) | (rel ? SEG_LO_REL | SEG_HI_REL : 0));
        break;
    case TOK_LT:
        if (v->a == INT64_MIN && !rel)
            n.lo = INT64_MAX, n.hi = INT64_MIN;
        else
            n.hi = v->a - 1, n.flags = rel ? SEG_HI_REL : 0;
        break;
    case TOK_LE: n.hi = v->b, n.flags = rel ? SEG_HI_REL : 0; break;
    case TOK_GT:
        if (v->b == INT64_MAX && !rel)
            n.lo = INT64_MAX, n.hi = INT64_MIN;
        else
            n.lo = v->b + 1, n.flags = rel ? SEG_LO_REL : 0;
        break;
    default: n.lo = v->a, n.flags = rel ? SEG_LO_REL : 0; break;
    }
    return emit_leaf(p, &n, op);
}

static crm_status emit_string_test(parser *p, const operand *op, uint8_t kind,
                                   uint8_t flags, uint8_t cmp, const literal *v)
{
    seg_node n = leaf_for(op, kind);
    crm_status st;

    n.flags = flags;
    n.cmp = cmp;
    n.pool = (uint32_t)p->npool;
    n.npool = 1;
    st = push_pool(p, (int64_t)v->str_off);
    if (st == CRM_OK)
        st = push_pool(p, (int64_t)v->str_len);
    return st != CRM_OK ? st : emit_leaf(p, &n, op);
}

static uint8_t string_cmp_code(enum seg_tok t)
{
    switch (t) {
    case TOK_LT: return SEG_LT;
    case TOK_LE: return SEG_LE;
    case TOK_GT: return SEG_GT;
    default: return SEG_GE;
    }
}

static crm_status parse_comparison(parser *p, const operand *op)
{
    enum seg_tok cmp = p->tok.type;
    size_t at = p->tok.start;
    literal lit, v;
    crm_status st;

    if ((st = advance(p)) != CRM_OK || (st = parse_literal(p, &lit)) != CRM_OK)
        return st;
    if (op->anniversary) {
        if ((cmp != TOK_EQ && cmp != TOK_NE) ||
            (lit.type != TOK_TRUE && lit.type != TOK_FALSE))
            return unsupported(p, op, at, "only = true / = false");
        return emit_anniversary(p, op, (cmp == TOK_NE) != (lit.type == TOK_FALSE));
    }
    if (op->type == CRM_SEGMENT_STRING) {
        if (lit.type != TOK_STRING)
            return type_mismatch(p, op, &lit, "; put text in quotes: 'like this'");
        if (cmp == TOK_EQ || cmp == TOK_NE)
            return emit_string_test(p, op, SEG_STR_IN, cmp == TOK_NE ? SEG_NEG : 0, 0, &lit);
        return emit_string_test(p, op, SEG_STR_CMP, 0, string_cmp_code(cmp), &lit);
    }
    if (op->type == CRM_SEGMENT_STRING_SET)
        return unsupported(p, op, at, "comparison operators; use CONTAINS");
    if (op->type == CRM_SEGMENT_BOOL && cmp != TOK_EQ && cmp != TOK_NE)
        return unsupported(p, op, at, "< <= > >=");
    if ((st = literal_span(p, op, &lit, &v)) != CRM_OK)
        return st;
    return emit_range(p, op, cmp, &v);
}

static crm_status parse_between(parser *p, const operand *op, int negate)
{
    literal lo, hi, a, b;
    seg_node n = leaf_for(op, SEG_RANGE);
    crm_status st;

    if (!is_int_like(op->type) || op->type == CRM_SEGMENT_BOOL || op->anniversary)
        return unsupported(p, op, p->tok.start, "BETWEEN");
    if ((st = advance(p)) != CRM_OK || (st = parse_literal(p, &lo)) != CRM_OK ||
        (st = literal_span(p, op, &lo, &a)) != CRM_OK)
        return st;
    if (p->tok.type != TOK_AND)
        return error_here(p, CRM_EPARSE, "AND between the two BETWEEN values");
    if ((st = advance(p)) != CRM_OK || (st = parse_literal(p, &hi)) != CRM_OK ||
        (st = literal_span(p, op, &hi, &b)) != CRM_OK)
        return st;
    n.lo = a.a;
    n.hi = b.b;
    n.flags = (uint8_t)((negate ? SEG_NEG : 0) | (a.rel ? SEG_LO_REL : 0) |
                        (b.rel ? SEG_HI_REL : 0));
    return emit_leaf(p, &n, op);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

/* Sorts and deduplicates the IN values pooled from `first`. */
static uint32_t sort_unique(int64_t *v, size_t n)
{
    size_t i, k = 0;

    qsort(v, n, sizeof *v, cmp_i64);
    for (i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    return (uint32_t)k;
}

static crm_status parse_in_item(parser *p, const operand *op, size_t *count)
{
    literal lit, v;
    crm_status st;

    if (*count >= CRM_SEGMENT_MAX_IN_ITEMS)
        return seg_lex_error(&p->lx, CRM_ELIMIT, p->tok.start,
                             "an IN list may hold at most %d values",
                             CRM_SEGMENT_MAX_IN_ITEMS);
    if ((st = parse_literal(p, &lit)) != CRM_OK)
        return st;
    (*count)++;
    if (op->type == CRM_SEGMENT_STRING) {
        if (lit.type != TOK_STRING)
            return type_mismatch(p, op, &lit, "");
        if ((st = push_pool(p, (int64_t)lit.str_off)) != CRM_OK)
            return st;
        return push_pool(p, (int64_t)lit.str_len);
    }
    if ((st = literal_span(p, op, &lit, &v)) != CRM_OK)
        return st;
    return push_pool(p, v.a);
}

static crm_status parse_in(parser *p, const operand *op, int negate)
{
    seg_node n;
    size_t first = p->npool, count = 0;
    crm_status st;

    if (op->anniversary || op->type == CRM_SEGMENT_TIME || op->type == CRM_SEGMENT_BOOL ||
        op->type == CRM_SEGMENT_STRING_SET)
        return unsupported(p, op, p->tok.start, "IN");
    if ((st = advance(p)) != CRM_OK)
        return st;
    if (p->tok.type != TOK_LPAREN)
        return error_here(p, CRM_EPARSE, "'(' to start the IN list");
    do {
        if ((st = advance(p)) != CRM_OK || (st = parse_in_item(p, op, &count)) != CRM_OK)
            return st;
    } while (p->tok.type == TOK_COMMA);
    if (p->tok.type != TOK_RPAREN)
        return error_here(p, CRM_EPARSE, "',' or ')' in the IN list");
    if ((st = advance(p)) != CRM_OK)
        return st;
    n = leaf_for(op, op->type == CRM_SEGMENT_STRING ? SEG_STR_IN : SEG_IN_INT);
    n.flags = negate ? SEG_NEG : 0;
    n.pool = (uint32_t)first;
    n.npool = op->type == CRM_SEGMENT_STRING ? (uint32_t)count
                                             : sort_unique(p->pool + first, count);
    return emit_leaf(p, &n, op);
}

static crm_status parse_text_op(parser *p, const operand *op, int negate, int prefix)
{
    literal lit;
    crm_status st;
    size_t at = p->tok.start;

    if ((st = advance(p)) != CRM_OK)
        return st;
    if (prefix) {
        if (p->tok.type != TOK_WITH)
            return error_here(p, CRM_EPARSE, "WITH after STARTS");
        if ((st = advance(p)) != CRM_OK)
            return st;
    }
    if ((st = parse_literal(p, &lit)) != CRM_OK)
        return st;
    if (op->type == CRM_SEGMENT_STRING_SET && !prefix && !op->fn)
        return lit.type == TOK_STRING
                   ? emit_string_test(p, op, SEG_SET_CONTAINS, negate ? SEG_NEG : 0, 0, &lit)
                   : type_mismatch(p, op, &lit, "");
    if (op->type != CRM_SEGMENT_STRING)
        return unsupported(p, op, at, prefix ? "STARTS WITH" : "CONTAINS");
    if (lit.type != TOK_STRING)
        return type_mismatch(p, op, &lit, "");
    return emit_string_test(p, op, prefix ? SEG_STR_PREFIX : SEG_STR_CONTAINS,
                            negate ? SEG_NEG : 0, 0, &lit);
}

static crm_status parse_null_test(parser *p, const operand *op)
{
    seg_node n = leaf_for(op, SEG_NULLTEST);
    crm_status st;

    n.fn = SEG_FN_NONE;
    if ((st = advance(p)) != CRM_OK)
        return st;
    if (p->tok.type == TOK_NOT) {
        n.flags = SEG_NEG;
        if ((st = advance(p)) != CRM_OK)
            return st;
    }
    if (p->tok.type != TOK_NULL)
        return error_here(p, CRM_EPARSE, "NULL or NOT NULL after IS");
    if ((st = advance(p)) != CRM_OK)
        return st;
    return emit_leaf(p, &n, op);
}

static crm_status parse_negated_op(parser *p, const operand *op)
{
    crm_status st = advance(p);

    if (st != CRM_OK)
        return st;
    switch (p->tok.type) {
    case TOK_IN: return parse_in(p, op, 1);
    case TOK_BETWEEN: return parse_between(p, op, 1);
    case TOK_CONTAINS: return parse_text_op(p, op, 1, 0);
    case TOK_STARTS: return parse_text_op(p, op, 1, 1);
    default: return error_here(p, CRM_EPARSE, "IN, BETWEEN, CONTAINS or STARTS WITH after NOT");
    }
}

static crm_status parse_test(parser *p, const operand *op)
{
    switch (p->tok.type) {
    case TOK_IS: return parse_null_test(p, op);
    case TOK_EQ:
    case TOK_NE:
    case TOK_LT:
    case TOK_LE:
    case TOK_GT:
    case TOK_GE: return parse_comparison(p, op);
    case TOK_BETWEEN: return parse_between(p, op, 0);
    case TOK_IN: return parse_in(p, op, 0);
    case TOK_CONTAINS: return parse_text_op(p, op, 0, 0);
    case TOK_STARTS: return parse_text_op(p, op, 0, 1);
    case TOK_NOT: return parse_negated_op(p, op);
    default: break;
    }
    if (op->anniversary)
        return emit_anniversary(p, op, 0);
    if (op->type == CRM_SEGMENT_BOOL) {
        seg_node n = leaf_for(op, SEG_RANGE);

        n.lo = n.hi = 1;
        return emit_leaf(p, &n, op);
    }
    return error_here(p, CRM_EPARSE, "a comparison (=, !=, <, >, IN, CONTAINS, IS NULL ...)");
}

/* ---- operands ---------------------------------------------------------------- */

static crm_status resolve_attribute(parser *p, operand *op)
{
    const char *name = p->lx.src + p->tok.start;
    int64_t i = seg_schema_lookup(p->schema, name, p->tok.len);
    const char *hint;

    if (i >= 0) {
        op->attr = (uint32_t)i;
        op->type = p->schema->attrs[i].type;
        op->name = p->schema->attrs[i].name;
        return advance(p);
    }
    if (p->tok.type != TOK_IDENT)
        return error_here(p, CRM_EPARSE, "an attribute name");
    hint = seg_schema_suggest(p->schema, name, p->tok.len);
    if (hint)
        return seg_lex_error(&p->lx, CRM_EPARSE, p->tok.start,
                             "unknown attribute '%.*s'; did you mean %s?", tok_text_len(p),
                             name, hint);
    return seg_lex_error(&p->lx, CRM_EPARSE, p->tok.start, "unknown attribute '%.*s'",
                         tok_text_len(p), name);
}

static crm_status unknown_function(parser *p)
{
    const char *name = p->lx.src + p->tok.start, *best = NULL;
    size_t k, d, best_d = 3;

    for (k = 0; k < sizeof functions / sizeof functions[0]; k++) {
        d = seg_edit_distance(name, p->tok.len, functions[k].name, strlen(functions[k].name));
        if (d < best_d)
            best_d = d, best = functions[k].name;
    }
    return seg_lex_error(&p->lx, CRM_EPARSE, p->tok.start,
                         "unknown function '%.*s'%s%s%s", tok_text_len(p), name,
                         best ? "; did you mean " : "", best ? best : "", best ? "?" : "");
}

static crm_status parse_window(parser *p, operand *op)
{
    crm_status st = advance(p);

    if (st != CRM_OK)
        return st;
    if (p->tok.type != TOK_DURATION || p->tok.ival % 86400 != 0 || p->tok.ival < 86400)
        return seg_lex_error(&p->lx, CRM_ETYPE, p->tok.start,
                             "the window of anniversary_within must be whole days, "
                             "like 7d or 2w");
    op->window_days = p->tok.ival / 86400;
    op->anniversary = 1;
    op->type = CRM_SEGMENT_BOOL;
    return advance(p);
}

static crm_status parse_function(parser *p, operand *op)
{
    size_t k, fn_at = p->tok.start;
    crm_status st;

    for (k = 0; k < sizeof functions / sizeof functions[0]; k++)
        if (strlen(functions[k].name) == p->tok.len &&
            memcmp(functions[k].name, p->lx.src + p->tok.start, p->tok.len) == 0)
            break;
    if (k == sizeof functions / sizeof functions[0])
        return unknown_function(p);
    op->fn = functions[k].fn;
    if ((st = advance(p)) != CRM_OK || (st = advance(p)) != CRM_OK ||
        (st = resolve_attribute(p, op)) != CRM_OK)
        return st;
    if (op->type != CRM_SEGMENT_TIME)
        return seg_lex_error(&p->lx, CRM_ETYPE, fn_at, "%s() needs a date and time, but %s is %s",
                             functions[k].name, op->name, seg_type_phrase(op->type));
    op->type = CRM_SEGMENT_INT;
    if (op->fn == SEG_FN_ANNIVERSARY) {
        if (p->tok.type != TOK_COMMA)
            return error_here(p, CRM_EPARSE, "',' and a window such as 7d");
        if ((st = parse_window(p, op)) != CRM_OK)
            return st;
    }
    if (p->tok.type != TOK_RPAREN)
        return error_here(p, CRM_EPARSE, "')'");
    return advance(p);
}

/* 1 when the next character after the current name, spaces skipped, is '('. */
static int name_is_call(const parser *p)
{
    size_t at = p->tok.start + p->tok.len;

    while (at < p->lx.len && (p->lx.src[at] == ' ' || p->lx.src[at] == '\t'))
        at++;
    return at < p->lx.len && p->lx.src[at] == '(';
}

static crm_status parse_predicate(parser *p)
{
    operand op;
    crm_status st;

    memset(&op, 0, sizeof op);
    op.start = p->tok.start;
    if (p->tok.type != TOK_IDENT)
        return error_here(p, CRM_EPARSE, "an attribute name");
    st = name_is_call(p) ? parse_function(p, &op) : resolve_attribute(p, &op);
    if (st != CRM_OK)
        return st;
    return parse_test(p, &op);
}

/* ---- boolean structure -------------------------------------------------------- */

static crm_status check_depth(parser *p, unsigned depth)
{
    if (depth > CRM_SEGMENT_MAX_NESTING)
        return seg_lex_error(&p->lx, CRM_ELIMIT, p->tok.start,
                             "the rule nests more than %d levels deep",
                             CRM_SEGMENT_MAX_NESTING);
    return CRM_OK;
}

static crm_status parse_primary(parser *p, unsigned depth)
{
    crm_status st;

    if (p->tok.type != TOK_LPAREN)
        return parse_predicate(p);
    if ((st = check_depth(p, depth + 1)) != CRM_OK || (st = advance(p)) != CRM_OK ||
        (st = parse_or(p, depth + 1)) != CRM_OK)
        return st;
    if (p->tok.type != TOK_RPAREN)
        return error_here(p, CRM_EPARSE, "')' to close the parenthesis");
    return advance(p);
}

static crm_status parse_not(parser *p, unsigned depth)
{
    size_t at = p->nnodes, start = p->tok.start;
    seg_node n;
    crm_status st;

    if (p->tok.type != TOK_NOT)
        return parse_primary(p, depth);
    if ((st = check_depth(p, depth + 1)) != CRM_OK || (st = advance(p)) != CRM_OK ||
        (st = parse_not(p, depth + 1)) != CRM_OK)
        return st;
    memset(&n, 0, sizeof n);
    n.kind = SEG_NOT;
    n.size = (uint32_t)(p->nnodes - at + 1);
    set_span(p, &n, start);
    return insert_node(p, at, &n);
}

/* Parses operands joined by `joiner`, flattened into one n-ary node. */
static crm_status parse_chain(parser *p, unsigned depth, enum seg_tok joiner, uint8_t kind)
{
    size_t at = p->nnodes, start = p->tok.start;
    seg_node n;
    crm_status st;

    st = joiner == TOK_AND ? parse_not(p, depth) : parse_chain(p, depth, TOK_AND, SEG_AND);
    if (st != CRM_OK || p->tok.type != joiner)
        return st;
    while (p->tok.type == joiner) {
        if ((st = advance(p)) != CRM_OK)
            return st;
        st = joiner == TOK_AND ? parse_not(p, depth) : parse_chain(p, depth, TOK_AND, SEG_AND);
        if (st != CRM_OK)
            return st;
    }
    memset(&n, 0, sizeof n);
    n.kind = kind;
    n.size = (uint32_t)(p->nnodes - at + 1);
    set_span(p, &n, start);
    return insert_node(p, at, &n);
}

static crm_status parse_or(parser *p, unsigned depth)
{
    return parse_chain(p, depth, TOK_OR, SEG_OR);
}

/* ---- the program ---------------------------------------------------------------- */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static crm_status build_program(parser *p, int32_t offset_min, crm_segment_program **out)
{
    crm_ctx *ctx = p->lx.ctx;
    size_t nodes_bytes = p->nnodes * sizeof(seg_node);
    size_t pool_bytes = p->npool * sizeof(int64_t);
    size_t total = sizeof(crm_segment_program) + nodes_bytes + pool_bytes +
                   align8(p->lx.nchars + 1) + p->lx.len + 1;
    crm_segment_program *prog = crm_mem_alloc(ctx, total);
    unsigned char *at;

    if (!prog)
        return crm_error_nomem(ctx);
    at = (unsigned char *)(prog + 1);
    prog->ctx = ctx;
    prog->schema = p->schema;
    prog->offset_min = offset_min;
    prog->nnodes = (uint32_t)p->nnodes;
    prog->nodes = (seg_node *)(void *)at;
    memcpy(at, p->nodes, nodes_bytes);
    at += nodes_bytes;
    prog->pool = (int64_t *)(void *)at;
    prog->npool = p->npool;
    if (pool_bytes)
        memcpy(at, p->pool, pool_bytes);
    at += pool_bytes;
    prog->chars = (char *)at;
    prog->nchars = p->lx.nchars;
    if (p->lx.nchars)
        memcpy(at, p->lx.chars, p->lx.nchars);
    at[p->lx.nchars] = '\0';
    at += align8(p->lx.nchars + 1);
    prog->source = (char *)at;
    prog->source_len = p->lx.len;
    memcpy(at, p->lx.src, p->lx.len);
    at[p->lx.len] = '\0';
    *out = prog;
    return CRM_OK;
}

crm_segment_program *seg_program_clone(const crm_segment_program *p)
{
    size_t total = sizeof *p + p->nnodes * sizeof(seg_node) + p->npool * sizeof(int64_t) +
                   align8(p->nchars + 1) + p->source_len + 1;
    crm_segment_program *c = crm_mem_alloc(p->ctx, total);

    if (!c)
        return NULL;
    memcpy(c, p, total);
    c->nodes = (seg_node *)(void *)(c + 1);
    c->pool = (int64_t *)(void *)(c->nodes + c->nnodes);
    c->chars = (char *)(c->pool + c->npool);
    c->source = c->chars + align8(c->nchars + 1);
    return c;
}

static crm_status parse_rule(parser *p)
{
    crm_status st = seg_lex_next(&p->lx, &p->tok);

    if (st != CRM_OK)
        return st;
    if (p->tok.type == TOK_EOF)
        return seg_lex_error(&p->lx, CRM_EPARSE, 0, "the rule is empty");
    if ((st = parse_or(p, 0)) != CRM_OK)
        return st;
    if (p->tok.type != TOK_EOF)
        return error_here(p, CRM_EPARSE, "AND, OR or the end of the rule");
    return CRM_OK;
}

static crm_status check_compile_args(const crm_segment_schema *schema, const char *rule,
                                     size_t len, int32_t offset_min,
                                     crm_segment_program **out)
{
    if (!schema || !rule || !out)
        return crm_error(schema ? schema->ctx : NULL, CRM_EINVAL,
                         "crm_segment_compile: NULL argument");
    if (offset_min < -1440 || offset_min > 1440)
        return crm_error(schema->ctx, CRM_EINVAL,
                         "UTC offset %d minutes is outside -1440..1440", (int)offset_min);
    if (len > CRM_SEGMENT_MAX_RULE_BYTES)
        return crm_error_at(schema->ctx, CRM_ELIMIT, 1, 1,
                            "the rule is %zu bytes long; the limit is %d bytes", len,
                            CRM_SEGMENT_MAX_RULE_BYTES);
    if (!crm_utf8_valid(rule, len))
        return crm_error(schema->ctx, CRM_EUTF8, "the rule is not valid UTF-8");
    return CRM_OK;
}

crm_status crm_segment_compile(const crm_segment_schema *schema, const char *rule,
                               size_t len, int32_t offset_min, crm_segment_program **out)
{
    parser p;
    crm_status st = check_compile_args(schema, rule, len, offset_min, out);

    if (st != CRM_OK)
        return st;
    memset(&p, 0, sizeof p);
    p.lx.ctx = schema->ctx;
    p.lx.src = rule;
    p.lx.len = len;
    p.lx.offset_min = offset_min;
    p.schema = schema;
    st = parse_rule(&p);
    if (st == CRM_OK)
        st = build_program(&p, offset_min, out);
    crm_mem_free(p.lx.ctx, p.nodes);
    crm_mem_free(p.lx.ctx, p.pool);
    crm_mem_free(p.lx.ctx, p.lx.chars);
    return st;
}

void crm_segment_program_free(crm_segment_program *program)
{
    if (program)
        crm_mem_free(program->ctx, program);
}

const char *crm_segment_program_source(const crm_segment_program *program, size_t *len)
{
    if (!program) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = program->source_len;
    return program->source;
}
