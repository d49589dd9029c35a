/*
 * Evaluation of compiled segment programs on one record: predicates,
 * three-valued AND/OR/NOT, explain, and segment sets.
 */
#include <string.h>

#include "core/civil.h"
#include "core/mem.h"
#include "segment/internal.h"

/* Times are clamped to this range before calendar arithmetic (no overflow). */
#define SEG_TIME_LIMIT (INT64_C(1) << 52)

static int64_t clamp_time(int64_t t)
{
    return t > SEG_TIME_LIMIT ? SEG_TIME_LIMIT : t < -SEG_TIME_LIMIT ? -SEG_TIME_LIMIT : t;
}

/* The anniversary of (month, day) in `year`; 29 February is 28 February in
 * common years. */
static int64_t anniversary_day(int64_t year, unsigned month, unsigned day)
{
    if (month == 2 && day == 29 && !crm_is_leap_year(year))
        day = 28;
    return crm_days_from_civil(year, month, day);
}

static int64_t days_to_anniversary(int64_t t_day, int64_t today)
{
    int64_t year, by;
    unsigned m, d, bm, bd;
    int64_t next;

    crm_civil_from_days(today, &year, &m, &d);
    crm_civil_from_days(t_day, &by, &bm, &bd);
    next = anniversary_day(year, bm, bd);
    if (next < today)
        next = anniversary_day(year + 1, bm, bd);
    return next - today;
}

int64_t seg_apply_fn(unsigned fn, int64_t v, int64_t now, int32_t offset_min)
{
    int64_t t = clamp_time(v), n = clamp_time(now);
    int64_t year;
    unsigned month, day;

    switch (fn) {
    case SEG_FN_DAYS_SINCE: return crm_local_day(n, offset_min) - crm_local_day(t, offset_min);
    case SEG_FN_DAYS_UNTIL: return crm_local_day(t, offset_min) - crm_local_day(n, offset_min);
    case SEG_FN_ANNIVERSARY:
        return days_to_anniversary(crm_local_day(t, offset_min), crm_local_day(n, offset_min));
    case SEG_FN_MONTH:
        crm_civil_from_days(crm_local_day(t, offset_min), &year, &month, &day);
        return month;
    case SEG_FN_WEEKDAY: return (int64_t)crm_weekday(crm_local_day(t, offset_min)) + 1;
    case SEG_FN_HOUR: return crm_local_second_of_day(t, offset_min) / 3600;
    default: return v;
    }
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int equal_nocase(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int contains_nocase(const char *s, size_t len, const char *needle, size_t nlen)
{
    size_t i;

    if (nlen > len)
        return 0;
    for (i = 0; i + nlen <= len; i++)
        if (equal_nocase(s + i, needle, nlen))
            return 1;
    return 0;
}

static int compare_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

static int in_sorted(const int64_t *v, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == x;
}

static int string_in(const crm_segment_program *p, const seg_node *n, const seg_value *v)
{
    const int64_t *e = p->pool + n->pool;
    uint32_t k;

    for (k = 0; k < n->npool; k++, e += 2)
        if ((size_t)e[1] == v->len && memcmp(p->chars + e[0], v->s, v->len) == 0)
            return 1;
    return 0;
}

static int string_cmp(const crm_segment_program *p, const seg_node *n, const seg_value *v)
{
    const int64_t *e = p->pool + n->pool;
    int c = compare_bytes(v->s, v->len, p->chars + e[0], (size_t)e[1]);

    switch (n->cmp) {
    case SEG_LT: return c < 0;
    case SEG_LE: return c <= 0;
    case SEG_GT: return c > 0;
    default: return c >= 0;
    }
}

static int set_contains(const crm_segment_program *p, const seg_node *n, const seg_value *v)
{
    const int64_t *e = p->pool + n->pool;
    const char *needle = p->chars + e[0];
    size_t nlen = (size_t)e[1], k;

    for (k = 0; k < v->nitems; k++) {
        size_t len = (size_t)(v->items[k + 1] - v->items[k]);

        if (len == nlen && equal_nocase(v->s + v->items[k], needle, nlen))
            return 1;
    }
    return 0;
}

static int leaf_test(const crm_segment_program *p, const seg_node *n, const seg_value *v,
                     int64_t now)
{
    const int64_t *e = p->pool + n->pool;
    int64_t x;

    switch (n->kind) {
    case SEG_RANGE:
        x = n->fn ? seg_apply_fn(n->fn, v->i, now, p->offset_min) : v->i;
        return seg_range_test(n, x, now);
    case SEG_IN_INT:
        x = n->fn ? seg_apply_fn(n->fn, v->i, now, p->offset_min) : v->i;
        return in_sorted(e, n->npool, x);
    case SEG_STR_IN: return string_in(p, n, v);
    case SEG_STR_CMP: return string_cmp(p, n, v);
    case SEG_STR_CONTAINS: return contains_nocase(v->s, v->len, p->chars + e[0], (size_t)e[1]);
    case SEG_STR_PREFIX:
        return (size_t)e[1] <= v->len && equal_nocase(v->s, p->chars + e[0], (size_t)e[1]);
    default: return set_contains(p, n, v);
    }
}

crm_segment_result seg_leaf_eval(const crm_segment_program *p, const seg_node *n,
                                 const seg_value *v, int64_t now)
{
    int neg = (n->flags & SEG_NEG) != 0;

    if (n->kind == SEG_NULLTEST)
        return (v->present == neg) ? CRM_SEGMENT_TRUE : CRM_SEGMENT_FALSE;
    if (!v->present)
        return CRM_SEGMENT_UNKNOWN;
    return leaf_test(p, n, v, now) != neg ? CRM_SEGMENT_TRUE : CRM_SEGMENT_FALSE;
}

crm_segment_result seg_eval_node(const crm_segment_program *p, const seg_node *n,
                                 const crm_segment_record *r, int64_t now)
{
    crm_segment_result c;
    seg_value v;

    switch (n->kind) {
    case SEG_AND:
    case SEG_OR: return seg_eval_chain(p, n, r, now);
    case SEG_NOT:
        c = seg_eval_any(p, n + 1, r, now);
        return c == CRM_SEGMENT_UNKNOWN ? c : c == CRM_SEGMENT_TRUE ? CRM_SEGMENT_FALSE
                                                                     : CRM_SEGMENT_TRUE;
    case SEG_RANGE:
        if (n->fn == SEG_FN_NONE)
            return seg_eval_range(n, r, now);
        break;
    default: break;
    }
    seg_record_value(r, n->attr, &v);
    return seg_leaf_eval(p, n, &v, now);
}

static crm_status check_eval_args(const crm_segment_program *p, const crm_segment_record *r,
                                  const void *out)
{
    if (!p || !r || !out)
        return crm_error(p ? p->ctx : NULL, CRM_EINVAL, "segment evaluation: NULL argument");
    if (r->schema != p->schema)
        return crm_error(p->ctx, CRM_EINVAL,
                         "the record was made from another schema than the program");
    return CRM_OK;
}

crm_status crm_segment_program_eval(const crm_segment_program *program,
                                    const crm_segment_record *record, int64_t now,
                                    crm_segment_result *result)
{
    crm_status st = check_eval_args(program, record, result);

    if (st != CRM_OK)
        return st;
    *result = seg_eval_node(program, program->nodes, record, now);
    return CRM_OK;
}

/* Follows the child that alone settles a node's value down to the decider. */
static const seg_node *deciding_node(const crm_segment_program *p, const seg_node *n,
                                     const crm_segment_record *r, int64_t now)
{
    for (;;) {
        const seg_node *child, *end = n + n->size;
        crm_segment_result res = seg_eval_node(p, n, r, now), settles;

        if (n->kind == SEG_NOT) {
            n = n + 1;
            continue;
        }
        if (n->kind != SEG_AND && n->kind != SEG_OR)
            return n;
        settles = n->kind == SEG_AND ? CRM_SEGMENT_TRUE : CRM_SEGMENT_FALSE;
        if (res == settles)
            return n; /* every child took part */
        for (child = n + 1; child < end; child += child->size)
            if (seg_eval_node(p, child, r, now) == res)
                break;
        n = child;
    }
}

crm_status crm_segment_program_explain(const crm_segment_program *program,
                                       const crm_segment_record *record, int64_t now,
                                       crm_segment_result *result,
                                       crm_segment_result *clause_result, size_t *start,
                                       size_t *length)
{
    crm_status st = check_eval_args(program, record, result);
    const seg_node *d;

    if (st != CRM_OK)
        return st;
    d = deciding_node(program, program->nodes, record, now);
    *result = seg_eval_node(program, program->nodes, record, now);
    if (clause_result)
        *clause_result = seg_eval_node(program, d, record, now);
    if (start)
        *start = d->src_start;
    if (length)
        *length = d->src_len;
    return CRM_OK;
}

/* ---- sets ------------------------------------------------------------------ */

crm_status crm_segment_set_new(const crm_segment_schema *schema, crm_segment_set **out)
{
    crm_segment_set *s;

    if (!schema || !out)
        return crm_error(schema ? schema->ctx : NULL, CRM_EINVAL,
                         "crm_segment_set_new: NULL argument");
    s = crm_mem_calloc(schema->ctx, 1, sizeof *s);
    if (!s)
        return crm_error_nomem(schema->ctx);
    s->ctx = schema->ctx;
    s->schema = schema;
    *out = s;
    return CRM_OK;
}

void crm_segment_set_free(crm_segment_set *set)
{
    size_t i;

    if (!set)
        return;
    for (i = 0; i < set->count; i++)
        crm_segment_program_free(set->programs[i]);
    crm_mem_free(set->ctx, set->programs);
    crm_mem_free(set->ctx, set);
}

crm_status crm_segment_set_add(crm_segment_set *set, const crm_segment_program *program,
                               uint32_t *index)
{
    crm_segment_program *copy;

    if (!set || !program)
        return crm_error(set ? set->ctx : NULL, CRM_EINVAL, "crm_segment_set_add: NULL argument");
    if (program->schema != set->schema)
        return crm_error(set->ctx, CRM_EINVAL,
                         "the program was compiled against another schema than the set's");
    if (set->count >= INT32_MAX)
        return crm_error(set->ctx, CRM_ELIMIT, "a segment set holds at most %d programs",
                         INT32_MAX);
    if (crm_mem_grow(set->ctx, (void **)&set->programs, &set->cap, set->count + 1,
                     sizeof *set->programs) != 0)
        return crm_error_nomem(set->ctx);
    copy = seg_program_clone(program);
    if (!copy)
        return crm_error_nomem(set->ctx);
    set->programs[set->count] = copy;
    if (index)
        *index = (uint32_t)set->count;
    set->count++;
    return CRM_OK;
}

uint32_t crm_segment_set_count(const crm_segment_set *set)
{
    return set ? (uint32_t)set->count : 0;
}

static crm_status check_set_args(const crm_segment_set *set, const crm_segment_record *r,
                                 const void *out)
{
    if (!set || !r || !out)
        return crm_error(set ? set->ctx : NULL, CRM_EINVAL, "segment set: NULL argument");
    if (r->schema != set->schema)
        return crm_error(set->ctx, CRM_EINVAL,
                         "the record was made from another schema than the set");
    return CRM_OK;
}

crm_status crm_segment_set_eval(const crm_segment_set *set, const crm_segment_record *record,
                                int64_t now, uint8_t *bits, size_t bits_len)
{
    crm_status st = check_set_args(set, record, bits);
    size_t i;

    if (st != CRM_OK)
        return st;
    if (bits_len < (set->count + 7) / 8)
        return crm_error(set->ctx, CRM_EINVAL, "the bitset needs %zu bytes, got %zu",
                         (set->count + 7) / 8, bits_len);
    memset(bits, 0, (set->count + 7) / 8);
    for (i = 0; i < set->count; i++) {
        const crm_segment_program *p = set->programs[i];

        if (seg_eval_node(p, p->nodes, record, now) == CRM_SEGMENT_TRUE)
            bits[i / 8] = (uint8_t)(bits[i / 8] | (1u << (i % 8)));
    }
    return CRM_OK;
}

crm_status crm_segment_set_first_match(const crm_segment_set *set,
                                       const crm_segment_record *record, int64_t now,
                                       int64_t *index)
{
    crm_status st = check_set_args(set, record, index);
    size_t i;

    if (st != CRM_OK)
        return st;
    for (i = 0; i < set->count; i++) {
        const crm_segment_program *p = set->programs[i];

        if (seg_eval_node(p, p->nodes, record, now) == CRM_SEGMENT_TRUE) {
            *index = (int64_t)i;
            return CRM_OK;
        }
    }
    *index = -1;
    return CRM_OK;
}
