/*
 * Internals of the segment module shared by its source files: the schema,
 * record, program, set and batch structures, and the evaluation of one
 * predicate on one value (used by every evaluation path so that row,
 * set and batch answers are identical).
 */
#ifndef CRM_SEGMENT_INTERNAL_H
#define CRM_SEGMENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "crm/segment.h"

typedef struct seg_attr {
    char *name;
    size_t name_len;
    crm_segment_type type;
} seg_attr;

struct crm_segment_schema {
    crm_ctx *ctx;
    seg_attr *attrs;
    size_t count;
    size_t cap;
};

/* String storage of one attribute in a record. Sets keep items back to back in `buf`
 * with nitems + 1 offsets in `items` (items[0] = 0). */
typedef struct seg_slot {
    char *buf;
    size_t len;
    size_t buf_cap;
    int64_t *items;
    size_t nitems;
    size_t items_cap;
} seg_slot;

struct crm_segment_record {
    crm_ctx *ctx;
    const crm_segment_schema *schema;
    uint32_t count;          /* attributes when the record was made */
    uint8_t *present;        /* 1 when the attribute has a value */
    int64_t *ivals;          /* int, decimal, money, bool and time values */
    crm_segment_type *types; /* copy of the schema's types */
    seg_slot *slots;
};

/* A value as one predicate sees it, from a record or from a batch row. */
typedef struct seg_value {
    int present;
    int64_t i;
    const char *s;        /* string bytes, or the data of a set's items */
    size_t len;
    const int64_t *items; /* set: nitems + 1 offsets into s */
    size_t nitems;
} seg_value;

/*
 * Node kinds, in prefix order; `size` counts the node and its subtree.
 * Kinds from SEG_RANGE on test a value and are UNKNOWN on NULL
 * (seg_eval_any relies on the order).
 */
enum seg_kind {
    SEG_AND = 1,
    SEG_OR = 2,
    SEG_NOT = 3,
    SEG_NULLTEST = 4,     /* IS NULL; NEG: IS NOT NULL */
    SEG_RANGE = 5,        /* lo <= f(v) <= hi */
    SEG_IN_INT = 6,       /* f(v) in sorted pool values */
    SEG_STR_IN = 7,       /* v equals one of the pool strings */
    SEG_STR_CMP = 8,      /* v <op> pool string, byte order */
    SEG_STR_CONTAINS = 9, /* pool string is a substring of v, ASCII case ignored */
    SEG_STR_PREFIX = 10,  /* v starts with pool string, ASCII case ignored */
    SEG_SET_CONTAINS = 11 /* v has an item equal to pool string, ASCII case ignored */
};

/* Transforms applied to an int64 value before a range or IN test. */
enum seg_fn {
    SEG_FN_NONE = 0,
    SEG_FN_DAYS_SINCE = 1,
    SEG_FN_DAYS_UNTIL = 2,
    SEG_FN_ANNIVERSARY = 3, /* days from today to the next anniversary */
    SEG_FN_MONTH = 4,
    SEG_FN_WEEKDAY = 5,
    SEG_FN_HOUR = 6
};

enum seg_flag {
    SEG_NEG = 1,    /* negate a known result */
    SEG_LO_REL = 2, /* lo is an offset from now */
    SEG_HI_REL = 4  /* hi is an offset from now */
};

enum seg_cmp { SEG_LT = 1, SEG_LE = 2, SEG_GT = 3, SEG_GE = 4 };

typedef struct seg_node {
    uint8_t kind;
    uint8_t fn;
    uint8_t flags;
    uint8_t cmp;
    uint32_t attr;
    uint32_t size;
    uint32_t src_start;
    uint32_t src_len;
    uint32_t pool;  /* first pool entry (strings: pairs offset, length) */
    uint32_t npool; /* pool entries (strings: number of strings) */
    int64_t lo;
    int64_t hi;
} seg_node;

struct crm_segment_program {
    crm_ctx *ctx;
    const crm_segment_schema *schema;
    int32_t offset_min;
    uint32_t nnodes;
    seg_node *nodes;
    int64_t *pool;
    size_t npool;
    char *chars;
    size_t nchars;
    char *source;
    size_t source_len;
};

struct crm_segment_set {
    crm_ctx *ctx;
    const crm_segment_schema *schema;
    crm_segment_program **programs;
    size_t count;
    size_t cap;
};

typedef struct seg_column {
    int bound;
    const int64_t *i64;
    const uint8_t *bools;
    const int64_t *offsets;
    const int64_t *item_offsets;
    const char *data;
    const uint8_t *validity;
} seg_column;

struct crm_segment_batch {
    crm_ctx *ctx;
    const crm_segment_schema *schema;
    size_t rows;
    uint32_t count;
    crm_segment_type *types;
    seg_column *columns;
};

/* Evaluates one predicate node on a value: CRM_SEGMENT_FALSE/TRUE/UNKNOWN. */
crm_segment_result seg_leaf_eval(const crm_segment_program *p, const seg_node *n,
                                 const seg_value *v, int64_t now);

/* Applies a node's function to an int64 value (offset and now as needed). */
int64_t seg_apply_fn(unsigned fn, int64_t v, int64_t now, int32_t offset_min);

/* a + b, saturated to the int64 range. Inline: relative range bounds use it. */
static inline int64_t seg_sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/*
 * A record's value of attribute `attr` as a predicate sees it. Inline:
 * every predicate other than a plain range reads its value through it.
 */
static inline void seg_record_value(const crm_segment_record *r, uint32_t attr, seg_value *v)
{
    const seg_slot *slot;

    if (attr >= r->count || !r->present[attr]) {
        v->present = 0;
        return;
    }
    slot = &r->slots[attr];
    v->present = 1;
    v->i = r->ivals[attr];
    v->s = slot->buf ? slot->buf : "";
    v->len = slot->len;
    v->items = slot->items;
    v->nitems = slot->nitems;
}

/*
 * crm_segment_record_get_time with its common case inline, for callers that
 * read a time on every call (the scenario engine's date triggers): a time
 * attribute the record has a slot for is read here; anything else (a NULL
 * argument, an index out of range, another type, an attribute added to the
 * schema after the record was made) takes the general path, which records
 * the error, if any, on the record's ctx. Same results and errors either way.
 */
static inline crm_status seg_record_get_time(const crm_segment_record *r, uint32_t attr,
                                             int64_t *unix_seconds, int *present)
{
    if (!r || !unix_seconds || !present || attr >= r->count ||
        r->types[attr] != CRM_SEGMENT_TIME)
        return crm_segment_record_get_time(r, attr, unix_seconds, present);
    *present = r->present[attr] != 0;
    *unix_seconds = *present ? r->ivals[attr] : 0;
    return CRM_OK;
}

/* Evaluates node n of program p (and its subtree) on record r, out of line. */
crm_segment_result seg_eval_node(const crm_segment_program *p, const seg_node *n,
                                 const crm_segment_record *r, int64_t now);

/* The bounds of a range node at time now (relative ones added to now). */
static inline void seg_range_bounds(const seg_node *n, int64_t now, int64_t *lo, int64_t *hi)
{
    *lo = (n->flags & SEG_LO_REL) ? seg_sat_add(now, n->lo) : n->lo;
    *hi = (n->flags & SEG_HI_REL) ? seg_sat_add(now, n->hi) : n->hi;
}

/* 1 when lo <= x <= hi for a range node, bounds relative to now as flagged. */
static inline int seg_range_test(const seg_node *n, int64_t x, int64_t now)
{
    int64_t lo, hi;

    seg_range_bounds(n, now, &lo, &hi);
    return x >= lo && x <= hi;
}

/* A range test without a function on a record's value: UNKNOWN when NULL. */
static inline crm_segment_result seg_eval_range(const seg_node *n, const crm_segment_record *r,
                                                int64_t now)
{
    if (n->attr >= r->count || !r->present[n->attr])
        return CRM_SEGMENT_UNKNOWN;
    return seg_range_test(n, r->ivals[n->attr], now) != ((n->flags & SEG_NEG) != 0)
               ? CRM_SEGMENT_TRUE
               : CRM_SEGMENT_FALSE;
}

/*
 * Any node. Here: a predicate other than IS NULL on a NULL value (UNKNOWN)
 * and a plain range, the most common predicate; the rest out of line.
 */
static inline crm_segment_result seg_eval_any(const crm_segment_program *p, const seg_node *n,
                                              const crm_segment_record *r, int64_t now)
{
    if (n->kind >= SEG_RANGE) {
        if (n->attr >= r->count || !r->present[n->attr])
            return CRM_SEGMENT_UNKNOWN;
        if (n->kind == SEG_RANGE && n->fn == SEG_FN_NONE)
            return seg_eval_range(n, r, now);
    }
    return seg_eval_node(p, n, r, now);
}

/*
 * An AND or OR node with SQL's three-valued logic: for AND, a FALSE child
 * settles it (OR: TRUE); otherwise an UNKNOWN child makes it UNKNOWN.
 */
static inline crm_segment_result seg_eval_chain(const crm_segment_program *p, const seg_node *n,
                                                const crm_segment_record *r, int64_t now)
{
    const seg_node *child, *end = n + n->size;
    crm_segment_result settles = n->kind == SEG_AND ? CRM_SEGMENT_FALSE : CRM_SEGMENT_TRUE;
    crm_segment_result res = n->kind == SEG_AND ? CRM_SEGMENT_TRUE : CRM_SEGMENT_FALSE, c;

    for (child = n + 1; child < end; child += child->size) {
        c = seg_eval_any(p, child, r, now);
        if (c == settles)
            return c;
        if (c == CRM_SEGMENT_UNKNOWN)
            res = CRM_SEGMENT_UNKNOWN;
    }
    return res;
}

/*
 * crm_segment_program_eval with its common cases inline, for callers that
 * evaluate on every call (the scenario engine's rules): a rule that is one
 * predicate on a NULL value, or one plain range, or an AND or OR of them
 * at the top, is evaluated here; anything else goes out of line. Bad
 * arguments take the general path, which records the error. Same results
 * and errors either way.
 */
static inline crm_status seg_program_eval(const crm_segment_program *p,
                                          const crm_segment_record *r, int64_t now,
                                          crm_segment_result *result)
{
    if (!p || !r || !result || r->schema != p->schema)
        return crm_segment_program_eval(p, r, now, result);
    if (p->nodes->kind == SEG_AND || p->nodes->kind == SEG_OR)
        *result = seg_eval_chain(p, p->nodes, r, now);
    else
        *result = seg_eval_any(p, p->nodes, r, now);
    return CRM_OK;
}

/* Smallest edit distance (optimal string alignment); large for long names. */
size_t seg_edit_distance(const char *a, size_t alen, const char *b, size_t blen);

/* The schema attribute with this exact name, or -1. */
int64_t seg_schema_lookup(const crm_segment_schema *s, const char *name, size_t len);

/* The closest attribute name for a "did you mean" hint, or NULL. */
const char *seg_schema_suggest(const crm_segment_schema *s, const char *name,
                               size_t len);

/* 1 when name (len bytes) is a rule keyword, compared ignoring ASCII case. */
int seg_is_keyword(const char *name, size_t len);

/* Returns a new copy of a program (for sets), or NULL when out of memory. */
crm_segment_program *seg_program_clone(const crm_segment_program *p);

/* Human names of types, for messages ("a whole number"). */
const char *seg_type_phrase(crm_segment_type type);

#endif
