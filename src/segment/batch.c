/*
 * Columnar batch evaluation: caller-owned columns (zero copy), evaluated
 * clause by clause over blocks of rows into pairs of bitmaps (known, true)
 * for three-valued logic. No allocation: block bitmaps live on the stack.
 */
#include <string.h>

#include "core/mem.h"
#include "segment/internal.h"

#define BLOCK_WORDS 8
#define BLOCK_ROWS (BLOCK_WORDS * 64)

/* A block's known and true bitmaps; true is a subset of known. */
typedef struct block_bits {
    uint64_t known[BLOCK_WORDS];
    uint64_t truth[BLOCK_WORDS];
} block_bits;

crm_status crm_segment_batch_new(const crm_segment_schema *schema, size_t rows,
                                 crm_segment_batch **out)
{
    crm_segment_batch *b;
    size_t i;

    if (!schema || !out)
        return crm_error(schema ? schema->ctx : NULL, CRM_EINVAL,
                         "crm_segment_batch_new: NULL argument");
    b = crm_mem_calloc(schema->ctx, 1, sizeof *b);
    if (!b)
        return crm_error_nomem(schema->ctx);
    b->ctx = schema->ctx;
    b->schema = schema;
    b->rows = rows;
    b->count = (uint32_t)schema->count;
    b->types = crm_mem_alloc_array(schema->ctx, schema->count, sizeof *b->types);
    b->columns = crm_mem_calloc(schema->ctx, schema->count, sizeof *b->columns);
    if (!b->types || !b->columns) {
        crm_segment_batch_free(b);
        return crm_error_nomem(schema->ctx);
    }
    for (i = 0; i < schema->count; i++)
        b->types[i] = schema->attrs[i].type;
    *out = b;
    return CRM_OK;
}

void crm_segment_batch_free(crm_segment_batch *batch)
{
    if (!batch)
        return;
    crm_mem_free(batch->ctx, batch->columns);
    crm_mem_free(batch->ctx, batch->types);
    crm_mem_free(batch->ctx, batch);
}

crm_status crm_segment_batch_reset(crm_segment_batch *batch, size_t rows)
{
    if (!batch)
        return crm_error(NULL, CRM_EINVAL, "crm_segment_batch_reset: NULL batch");
    memset(batch->columns, 0, batch->count * sizeof *batch->columns);
    batch->rows = rows;
    return CRM_OK;
}

/* Checks a bind call's batch, index, first pointer and type. */
static crm_status bind_check(crm_segment_batch *b, uint32_t attr, const void *values,
                             int (*accepts)(crm_segment_type))
{
    if (!b || !values)
        return crm_error(b ? b->ctx : NULL, CRM_EINVAL, "batch bind: NULL argument");
    if (attr >= b->count)
        return crm_error(b->ctx, CRM_EINVAL, "attribute index %u out of range",
                         (unsigned)attr);
    if (!accepts(b->types[attr]))
        return crm_error(b->ctx, CRM_ETYPE, "attribute '%s' holds %s; bind it with the "
                         "matching crm_segment_batch_bind_* function",
                         b->schema->attrs[attr].name, seg_type_phrase(b->types[attr]));
    return CRM_OK;
}

static int accepts_int64(crm_segment_type t)
{
    return t == CRM_SEGMENT_INT || t == CRM_SEGMENT_DECIMAL || t == CRM_SEGMENT_MONEY ||
           t == CRM_SEGMENT_TIME;
}

static int accepts_bool(crm_segment_type t)
{
    return t == CRM_SEGMENT_BOOL;
}

static int accepts_string(crm_segment_type t)
{
    return t == CRM_SEGMENT_STRING;
}

static int accepts_set(crm_segment_type t)
{
    return t == CRM_SEGMENT_STRING_SET;
}

/* Stores a checked column binding; every pointer is the caller's. */
static crm_status bind(crm_segment_batch *b, uint32_t attr, const void *first,
                       int (*accepts)(crm_segment_type), const seg_column *col)
{
    crm_status st = bind_check(b, attr, first, accepts);

    if (st != CRM_OK)
        return st;
    b->columns[attr] = *col;
    b->columns[attr].bound = 1;
    return CRM_OK;
}

crm_status crm_segment_batch_bind_int64(crm_segment_batch *batch, uint32_t attr,
                                        const int64_t *values, const uint8_t *validity)
{
    seg_column col;

    memset(&col, 0, sizeof col);
    col.i64 = values;
    col.validity = validity;
    return bind(batch, attr, values, accepts_int64, &col);
}

crm_status crm_segment_batch_bind_bool(crm_segment_batch *batch, uint32_t attr,
                                       const uint8_t *values, const uint8_t *validity)
{
    seg_column col;

    memset(&col, 0, sizeof col);
    col.bools = values;
    col.validity = validity;
    return bind(batch, attr, values, accepts_bool, &col);
}

/* Offsets must not start below 0 or end below their start. */
static crm_status check_offsets(crm_segment_batch *b, const int64_t *offsets,
                                const void *data)
{
    if (!b || !offsets)
        return CRM_OK; /* reported by bind_check */
    if (!data)
        return crm_error(b->ctx, CRM_EINVAL, "batch bind: NULL string data or item offsets");
    if (offsets[0] < 0 || offsets[b->rows] < offsets[0])
        return crm_error(b->ctx, CRM_EINVAL,
                         "offsets must start at 0 or more and never decrease");
    return CRM_OK;
}

crm_status crm_segment_batch_bind_string(crm_segment_batch *batch, uint32_t attr,
                                         const int64_t *offsets, const char *data,
                                         const uint8_t *validity)
{
    crm_status st = check_offsets(batch, offsets, data);
    seg_column col;

    if (st != CRM_OK)
        return st;
    memset(&col, 0, sizeof col);
    col.offsets = offsets;
    col.data = data;
    col.validity = validity;
    return bind(batch, attr, offsets, accepts_string, &col);
}

crm_status crm_segment_batch_bind_string_set(crm_segment_batch *batch, uint32_t attr,
                                             const int64_t *list_offsets,
                                             const int64_t *item_offsets, const char *data,
                                             const uint8_t *validity)
{
    crm_status st = check_offsets(batch, list_offsets, item_offsets && data ? data : NULL);
    seg_column col;

    if (st != CRM_OK)
        return st;
    memset(&col, 0, sizeof col);
    col.offsets = list_offsets;
    col.item_offsets = item_offsets;
    col.data = data;
    col.validity = validity;
    return bind(batch, attr, list_offsets, accepts_set, &col);
}

/* ---- evaluation --------------------------------------------------------------- */

static int row_valid(const seg_column *c, size_t r)
{
    return !c->validity || ((c->validity[r / 8] >> (r % 8)) & 1);
}

static void column_value(const seg_column *c, crm_segment_type type, size_t r, seg_value *v)
{
    v->present = row_valid(c, r);
    if (!v->present)
        return;
    switch (type) {
    case CRM_SEGMENT_BOOL: v->i = c->bools[r] != 0; break;
    case CRM_SEGMENT_STRING:
        v->s = c->data + c->offsets[r];
        v->len = (size_t)(c->offsets[r + 1] - c->offsets[r]);
        break;
    case CRM_SEGMENT_STRING_SET:
        v->s = c->data;
        v->items = c->item_offsets + c->offsets[r];
        v->nitems = (size_t)(c->offsets[r + 1] - c->offsets[r]);
        break;
    default: v->i = c->i64[r]; break;
    }
}

/* Any predicate, one row at a time through the shared leaf evaluator. */
static void leaf_generic(const crm_segment_program *p, const seg_node *n,
                         const crm_segment_batch *b, size_t base, size_t rows, int64_t now,
                         block_bits *out)
{
    const seg_column *c = &b->columns[n->attr];
    size_t i;
    seg_value v;

    memset(out, 0, sizeof *out);
    for (i = 0; i < rows; i++) {
        crm_segment_result res;

        column_value(c, b->types[n->attr], base + i, &v);
        res = seg_leaf_eval(p, n, &v, now);
        if (res != CRM_SEGMENT_UNKNOWN)
            out->known[i / 64] |= UINT64_C(1) << (i % 64);
        if (res == CRM_SEGMENT_TRUE)
            out->truth[i / 64] |= UINT64_C(1) << (i % 64);
    }
}

/* 64 validity bits starting at row r (a multiple of 64), 1 beyond the end. */
static uint64_t validity_word(const seg_column *c, size_t r, size_t rows_left)
{
    uint64_t w = 0;
    size_t k, nbytes = rows_left >= 64 ? 8 : (rows_left + 7) / 8;

    if (!c->validity)
        return ~UINT64_C(0);
    for (k = 0; k < nbytes; k++)
        w |= (uint64_t)c->validity[r / 8 + k] << (8 * k);
    return w;
}

/* lo <= value <= hi on a bool column (bytes, non-zero is 1). */
static void leaf_range_bool(const seg_node *n, const seg_column *c, size_t base, size_t rows,
                            block_bits *out)
{
    int one = n->lo <= 1 && 1 <= n->hi, zero = n->lo <= 0 && 0 <= n->hi;
    size_t w;

    for (w = 0; w * 64 < rows; w++) {
        const uint8_t *col = c->bools + base + w * 64;
        size_t j, m = rows - w * 64 < 64 ? rows - w * 64 : 64;
        uint64_t set = 0, known = validity_word(c, base + w * 64, rows - w * 64);

        for (j = 0; j < m; j++)
            set |= (uint64_t)(col[j] != 0) << j;
        set = (one ? set : 0) | (zero ? ~set : 0);
        if (n->flags & SEG_NEG)
            set = ~set;
        out->known[w] = known;
        out->truth[w] = set & known;
    }
}

/* The fast path: lo <= value <= hi on an int64 column. */
static void leaf_range_i64(const seg_node *n, const seg_column *c, size_t base, size_t rows,
                           int64_t now, block_bits *out)
{
    int64_t lo, hi;
    uint64_t width;
    size_t w;

    seg_range_bounds(n, now, &lo, &hi);
    width = (uint64_t)hi - (uint64_t)lo;

    for (w = 0; w * 64 < rows; w++) {
        const int64_t *col = c->i64 + base + w * 64;
        size_t j, m = rows - w * 64 < 64 ? rows - w * 64 : 64;
        uint64_t bits = 0, known = validity_word(c, base + w * 64, rows - w * 64);

        for (j = 0; j < m; j++)
            bits |= (uint64_t)((uint64_t)col[j] - (uint64_t)lo <= width) << j;
        if (lo > hi)
            bits = 0;
        if (n->flags & SEG_NEG)
            bits = ~bits;
        out->known[w] = known;
        out->truth[w] = bits & known;
    }
}

static void eval_block(const crm_segment_program *p, const seg_node *n,
                       const crm_segment_batch *b, size_t base, size_t rows, int64_t now,
                       block_bits *out);

static void combine(const crm_segment_program *p, const seg_node *n,
                    const crm_segment_batch *b, size_t base, size_t rows, int64_t now,
                    block_bits *out)
{
    const seg_node *child, *end = n + n->size;
    uint64_t decided[BLOCK_WORDS], all = 0;
    block_bits c;
    size_t w, nw = (rows + 63) / 64;
    int is_and = n->kind == SEG_AND;

    /* AND: TRUE needs every child TRUE, any FALSE decides; OR mirrors it. */
    for (w = 0; w < nw; w++) {
        out->truth[w] = is_and ? ~UINT64_C(0) : 0;
        decided[w] = 0; /* rows settled by a FALSE (AND) or TRUE (OR) child */
        out->known[w] = ~UINT64_C(0);
    }
    for (child = n + 1; child < end; child += child->size) {
        eval_block(p, child, b, base, rows, now, &c);
        all = ~UINT64_C(0);
        for (w = 0; w < nw; w++) {
            uint64_t settle = is_and ? (c.known[w] & ~c.truth[w]) : c.truth[w];

            decided[w] |= settle;
            out->known[w] &= c.known[w];
            out->truth[w] = is_and ? (out->truth[w] & c.truth[w]) : (out->truth[w] | c.truth[w]);
            all &= decided[w] | (w == nw - 1 && rows % 64 ? ~UINT64_C(0) << (rows % 64) : 0);
        }
        if (all == ~UINT64_C(0))
            break; /* every row already settled */
    }
    for (w = 0; w < nw; w++) {
        out->known[w] |= decided[w];
        out->truth[w] &= out->known[w];
    }
}

static void eval_block(const crm_segment_program *p, const seg_node *n,
                       const crm_segment_batch *b, size_t base, size_t rows, int64_t now,
                       block_bits *out)
{
    size_t w;

    switch (n->kind) {
    case SEG_AND:
    case SEG_OR: combine(p, n, b, base, rows, now, out); return;
    case SEG_NOT:
        eval_block(p, n + 1, b, base, rows, now, out);
        for (w = 0; w < (rows + 63) / 64; w++)
            out->truth[w] = out->known[w] & ~out->truth[w];
        return;
    case SEG_RANGE:
        if (n->fn == SEG_FN_NONE && b->columns[n->attr].i64) {
            leaf_range_i64(n, &b->columns[n->attr], base, rows, now, out);
            return;
        }
        if (n->fn == SEG_FN_NONE && b->columns[n->attr].bools) {
            leaf_range_bool(n, &b->columns[n->attr], base, rows, out);
            return;
        }
        break;
    default: break;
    }
    leaf_generic(p, n, b, base, rows, now, out);
}

static void store_bits(uint8_t *dst, const uint64_t *words, size_t rows)
{
    size_t i;

    for (i = 0; i < (rows + 7) / 8; i++) {
        uint8_t byte = (uint8_t)(words[i / 8] >> (8 * (i % 8)));

        if (i == (rows + 7) / 8 - 1 && rows % 8)
            byte = (uint8_t)(byte & ((1u << (rows % 8)) - 1));
        dst[i] = byte;
    }
}

static crm_status check_batch_args(const crm_segment_program *p, const crm_segment_batch *b,
                                   const uint8_t *match)
{
    uint32_t i;

    if (!p || !b || !match)
        return crm_error(p ? p->ctx : NULL, CRM_EINVAL, "batch evaluation: NULL argument");
    if (b->schema != p->schema)
        return crm_error(p->ctx, CRM_EINVAL,
                         "the batch was made from another schema than the program");
    for (i = 0; i < p->nnodes; i++) {
        const seg_node *n = &p->nodes[i];

        if (n->kind >= SEG_NULLTEST && (n->attr >= b->count || !b->columns[n->attr].bound))
            return crm_error(p->ctx, CRM_ESTATE, "the rule reads '%s' but no column is bound "
                             "to it", p->schema->attrs[n->attr].name);
    }
    return CRM_OK;
}

crm_status crm_segment_program_eval_batch(const crm_segment_program *program,
                                          const crm_segment_batch *batch, int64_t now,
                                          uint8_t *match, uint8_t *unknown)
{
    crm_status st = check_batch_args(program, batch, match);
    size_t base;
    block_bits bits;

    if (st != CRM_OK)
        return st;
    for (base = 0; base < batch->rows; base += BLOCK_ROWS) {
        size_t rows = batch->rows - base < BLOCK_ROWS ? batch->rows - base : BLOCK_ROWS;
        size_t w;

        eval_block(program, program->nodes, batch, base, rows, now, &bits);
        store_bits(match + base / 8, bits.truth, rows);
        if (unknown) {
            for (w = 0; w < (rows + 63) / 64; w++)
                bits.known[w] = ~bits.known[w];
            store_bits(unknown + base / 8, bits.known, rows);
        }
    }
    return CRM_OK;
}
