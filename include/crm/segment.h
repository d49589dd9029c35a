/*
 * libcrm: segment rules. Select customers with rules such as
 *
 *     order_count >= 2 AND total_spent > 10000
 *       AND last_order_at < -90d AND tags CONTAINS 'vip'
 *
 * compiled once against a schema into an immutable program, then evaluated
 * against one record, against many programs at once (a segment set), or
 * over columns of N customers (a batch).
 *
 * Objects
 *   crm_segment_schema   the attributes a rule may name, with their types.
 *   crm_segment_program  a compiled rule. Immutable; shareable across threads.
 *   crm_segment_record   one customer's values, built with typed setters and
 *                        reused from customer to customer.
 *   crm_segment_set      many programs evaluated over one record at once.
 *   crm_segment_batch    caller-owned columns (zero copy) for N customers.
 *
 * Values
 *   Every attribute is nullable. Types: int (int64), decimal (int64 scaled
 *   by CRM_SEGMENT_DECIMAL_SCALE = 10^4, so 1.5 is 15000: exact and
 *   deterministic), money (int64 in the currency's minor unit, yen: 1),
 *   bool, string (UTF-8), time (int64 Unix seconds, UTC) and string set
 *   (tags; an empty set is not NULL).
 *
 * Rule language (full grammar as EBNF in README.md)
 *   rule       = or_expr
 *   or_expr    = and_expr { OR and_expr }          AND binds tighter than OR
 *   and_expr   = not_expr { AND not_expr }
 *   not_expr   = NOT not_expr | primary
 *   primary    = "(" or_expr ")" | predicate
 *   predicate  = operand IS [NOT] NULL
 *              | operand ("="|"!="|"<>"|"<"|"<="|">"|">=") literal
 *              | operand [NOT] BETWEEN literal AND literal   (inclusive)
 *              | operand [NOT] IN "(" literal { "," literal } ")"
 *              | operand [NOT] CONTAINS string
 *              | operand [NOT] STARTS WITH string
 *              | operand                                 (bool attribute: = true)
 *   operand    = attribute | function "(" attribute [ "," duration ] ")"
 *   Keywords are case-insensitive; attribute names are case-sensitive and
 *   may contain dots (event.amount). Comments run from "--" to end of line.
 *   Literals: 42, -7, 10_000 (int; money is written in minor units),
 *   3.25 (decimal, at most 4 fractional digits), 'text' or "text" (escapes
 *   \\ \' \" \n \t \uXXXX), true, false, NULL (only in IS [NOT] NULL),
 *   2024-05-30 (a date: the whole local day in the shop's offset),
 *   2024-05-30T10:00:00+09:00 (a date-time; without offset the shop's),
 *   durations 30d 2w 12h 15m 45s, relative times -90d (now minus 90 days),
 *   +30d (now plus 30 days) and now.
 *   Functions: days_since(t) and days_until(t) (whole local days between
 *   t's date and today's), anniversary_within(t, 7d) (t's month and day,
 *   year ignored, falls in [today, today + 7 days); 29 February counts as
 *   28 February in common years), month(t) 1..12, weekday(t) 1 = Monday ..
 *   7 = Sunday, hour(t) 0..23 (all in the shop's offset).
 *   Strings: = and IN are exact (byte-wise); < <= > >= compare bytes;
 *   CONTAINS (substring) and STARTS WITH ignore ASCII case. String sets:
 *   CONTAINS tests membership ignoring ASCII case.
 *
 * Three-valued logic (SQL): a predicate on a NULL value is UNKNOWN, except
 * IS [NOT] NULL. NOT UNKNOWN is UNKNOWN; FALSE AND x is FALSE; TRUE OR x is
 * TRUE; otherwise UNKNOWN spreads. != and NOT CONTAINS never match NULL.
 * A record matches only when the whole rule is TRUE.
 *
 * Limits: a rule is at most 64 KiB, nests at most 64 levels (parentheses,
 * NOT, functions) and an IN list has at most 10,000 items; beyond that
 * compilation fails with CRM_ELIMIT, never with a stack overflow.
 */
#ifndef CRM_SEGMENT_H
#define CRM_SEGMENT_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Attribute types. Values are explicit and never change. */
typedef enum crm_segment_type {
    CRM_SEGMENT_INT = 1,
    CRM_SEGMENT_DECIMAL = 2,    /* int64 scaled by CRM_SEGMENT_DECIMAL_SCALE */
    CRM_SEGMENT_MONEY = 3,      /* int64 minor units */
    CRM_SEGMENT_BOOL = 4,
    CRM_SEGMENT_STRING = 5,
    CRM_SEGMENT_TIME = 6,       /* int64 Unix seconds, UTC */
    CRM_SEGMENT_STRING_SET = 7
} crm_segment_type;

/* Result of evaluating a rule on one record (SQL three-valued logic). */
typedef enum crm_segment_result {
    CRM_SEGMENT_FALSE = 0,
    CRM_SEGMENT_TRUE = 1,
    CRM_SEGMENT_UNKNOWN = 2
} crm_segment_result;

/* Decimals are int64 values scaled by this factor (1.5 -> 15000). */
enum { CRM_SEGMENT_DECIMAL_SCALE = 10000 };

/* Limits checked by crm_segment_compile (CRM_ELIMIT beyond them). */
enum {
    CRM_SEGMENT_MAX_RULE_BYTES = 65536,
    CRM_SEGMENT_MAX_NESTING = 64,
    CRM_SEGMENT_MAX_IN_ITEMS = 10000,
    CRM_SEGMENT_MAX_NAME_BYTES = 128
};

/*
 * Attribute indices of the standard e-commerce schema made by
 * crm_segment_schema_new_standard(). Name, type and meaning:
 */
typedef enum crm_segment_std_attr {
    CRM_SEGMENT_STD_ORDER_COUNT = 0,      /* order_count int: purchases, returns excluded */
    CRM_SEGMENT_STD_TOTAL_SPENT = 1,      /* total_spent money: net of returns */
    CRM_SEGMENT_STD_AVERAGE_ORDER = 2,    /* average_order_value money */
    CRM_SEGMENT_STD_FIRST_ORDER_AT = 3,   /* first_order_at time */
    CRM_SEGMENT_STD_LAST_ORDER_AT = 4,    /* last_order_at time */
    CRM_SEGMENT_STD_RFM_R = 5,            /* rfm_r int: recency score 1..5 (5 = most recent) */
    CRM_SEGMENT_STD_RFM_F = 6,            /* rfm_f int: frequency score 1..5 */
    CRM_SEGMENT_STD_RFM_M = 7,            /* rfm_m int: monetary score 1..5 */
    CRM_SEGMENT_STD_RFM_GROUP = 8,        /* rfm_group string: e.g. 'champions', 'at_risk' */
    CRM_SEGMENT_STD_PREDICTED_CLV = 9,    /* predicted_clv money: expected future spend */
    CRM_SEGMENT_STD_P_ALIVE = 10,         /* p_alive decimal: probability still active, 0..1 */
    CRM_SEGMENT_STD_TAGS = 11,            /* tags string set: shop-defined labels */
    CRM_SEGMENT_STD_PREFECTURE = 12,      /* prefecture string: e.g. 'Tokyo' or '東京都' */
    CRM_SEGMENT_STD_BIRTHDAY = 13,        /* birthday time: local midnight of the birth date */
    CRM_SEGMENT_STD_GENDER = 14,          /* gender string: as the shop records it */
    CRM_SEGMENT_STD_POINTS_BALANCE = 15,  /* points_balance int: loyalty points held */
    CRM_SEGMENT_STD_POINTS_EXPIRE_AT = 16,/* points_expire_at time: when points lapse */
    CRM_SEGMENT_STD_EMAIL_OPT_IN = 17,    /* email_opt_in bool: may receive marketing mail */
    CRM_SEGMENT_STD_LINE_LINKED = 18,     /* line_linked bool: LINE account connected */
    CRM_SEGMENT_STD_CREATED_AT = 19,      /* created_at time: account registration */
    CRM_SEGMENT_STD_LAST_VISIT_AT = 20,   /* last_visit_at time: last site visit or login */
    CRM_SEGMENT_STD_COUNT = 21
} crm_segment_std_attr;

typedef struct crm_segment_schema crm_segment_schema;
typedef struct crm_segment_program crm_segment_program;
typedef struct crm_segment_record crm_segment_record;
typedef struct crm_segment_set crm_segment_set;
typedef struct crm_segment_batch crm_segment_batch;

/* ---- schema ------------------------------------------------------------ */

/*
 * Creates an empty schema. Every object made from it (programs, records,
 * sets, batches) records its errors on `ctx`.
 * Errors: CRM_EINVAL (NULL ctx or out), CRM_ENOMEM.
 * Thread-safety: a schema is mutable; do not add attributes while another
 * thread compiles against it or creates a record from it.
 */
CRM_API crm_status crm_segment_schema_new(crm_ctx *ctx, crm_segment_schema **out);

/*
 * Creates a schema holding the standard e-commerce attributes listed in
 * crm_segment_std_attr, at those indices. More attributes may be added.
 * Errors: CRM_EINVAL, CRM_ENOMEM.
 */
CRM_API crm_status crm_segment_schema_new_standard(crm_ctx *ctx,
                                                   crm_segment_schema **out);

/* Frees a schema. Accepts NULL. Objects made from it must be freed first. */
CRM_API void crm_segment_schema_free(crm_segment_schema *schema);

/*
 * Adds an attribute (name copied) and stores its index in *index (may be
 * NULL). Names are identifiers [A-Za-z_][A-Za-z0-9_]* optionally joined by
 * dots (event.amount), at most CRM_SEGMENT_MAX_NAME_BYTES bytes, not a
 * keyword. Indices are given in order from 0. Records created before the
 * addition read the new attribute as NULL.
 * Errors: CRM_EINVAL (NULL schema or name, bad name, unknown type),
 * CRM_EEXIST (name already present), CRM_ENOMEM.
 */
CRM_API crm_status crm_segment_schema_add(crm_segment_schema *schema,
                                          const char *name,
                                          crm_segment_type type,
                                          uint32_t *index);

/*
 * Looks up an attribute by name (NUL-terminated) and stores its index.
 * Errors: CRM_EINVAL (NULL argument), CRM_ENOTFOUND (message suggests the
 * closest name).
 */
CRM_API crm_status crm_segment_schema_find(const crm_segment_schema *schema,
                                           const char *name, uint32_t *index);

/* Returns the number of attributes (0 for NULL). */
CRM_API uint32_t crm_segment_schema_count(const crm_segment_schema *schema);

/*
 * Gives the name (owned by the schema, valid until it is freed) and type of
 * attribute `index`. Either out-pointer may be NULL.
 * Errors: CRM_EINVAL (NULL schema, index out of range).
 */
CRM_API crm_status crm_segment_schema_attr(const crm_segment_schema *schema,
                                           uint32_t index, const char **name,
                                           crm_segment_type *type);

/* ---- compiling --------------------------------------------------------- */

/*
 * Compiles `rule` (len bytes of UTF-8; no NUL needed) against `schema`.
 * offset_min is the shop's UTC offset in minutes (-1440..1440, Japan +540):
 * it places date literals, days_since() days, hour() and friends. Relative
 * times (-90d, now) are resolved at evaluation from the `now` argument.
 * On success *out owns a new program (the rule text is copied); the schema
 * must outlive it.
 * Errors (message, 1-based line and column via crm_ctx_errpos, the
 * offending token quoted): CRM_EINVAL (NULL argument, bad offset),
 * CRM_EUTF8 (rule not valid UTF-8), CRM_EPARSE (syntax, unknown attribute
 * with "did you mean ...?", unknown function, bad literal), CRM_ETYPE (a
 * value of the wrong type, e.g. a string compared with a number),
 * CRM_ELIMIT (rule, nesting or IN-list limit), CRM_ENOMEM.
 * Thread-safety: uses the schema's ctx; one thread at a time per ctx.
 */
CRM_API crm_status crm_segment_compile(const crm_segment_schema *schema,
                                       const char *rule, size_t len,
                                       int32_t offset_min,
                                       crm_segment_program **out);

/* Frees a program. Accepts NULL. */
CRM_API void crm_segment_program_free(crm_segment_program *program);

/*
 * Returns the rule text the program was compiled from (owned by the
 * program, NUL-terminated) and stores its length in *len (may be NULL).
 */
CRM_API const char *crm_segment_program_source(const crm_segment_program *program,
                                               size_t *len);

/* ---- records ----------------------------------------------------------- */

/*
 * Creates a record for `schema` with every attribute NULL.
 * Errors: CRM_EINVAL, CRM_ENOMEM.
 * Thread-safety: a record is mutable: one thread at a time. Evaluating
 * programs from several threads against one record nobody writes is safe.
 */
CRM_API crm_status crm_segment_record_new(const crm_segment_schema *schema,
                                          crm_segment_record **out);

/* Frees a record. Accepts NULL. */
CRM_API void crm_segment_record_free(crm_segment_record *record);

/* Sets every attribute to NULL, keeping memory for reuse. Accepts NULL. */
CRM_API void crm_segment_record_clear(crm_segment_record *record);

/*
 * Typed setters by attribute index. Each replaces the attribute's value.
 * set_int: int attributes. set_decimal: decimal attributes, value already
 * scaled (1.5 -> 15000). set_money: money, minor units. set_bool: bool
 * (any non-zero is true). set_time: time, Unix seconds. set_string: string
 * attributes, `len` bytes copied (UTF-8). set_strings: string sets, n items
 * (lens may be NULL for NUL-terminated items; duplicates are kept but do
 * not change any result). add_string: adds one item to a string set (a
 * NULL set becomes a one-item set). set_null: any attribute.
 * Errors: CRM_EINVAL (NULL record or string, index out of range),
 * CRM_ETYPE (the attribute has another type), CRM_EUTF8, CRM_ENOMEM.
 * On error the attribute keeps its previous value.
 */
CRM_API crm_status crm_segment_record_set_null(crm_segment_record *record, uint32_t attr);
CRM_API crm_status crm_segment_record_set_int(crm_segment_record *record, uint32_t attr,
                                              int64_t value);
CRM_API crm_status crm_segment_record_set_decimal(crm_segment_record *record,
                                                  uint32_t attr, int64_t scaled);
CRM_API crm_status crm_segment_record_set_money(crm_segment_record *record,
                                                uint32_t attr, int64_t minor_units);
CRM_API crm_status crm_segment_record_set_bool(crm_segment_record *record, uint32_t attr,
                                               int value);
CRM_API crm_status crm_segment_record_set_time(crm_segment_record *record, uint32_t attr,
                                               int64_t unix_seconds);
CRM_API crm_status crm_segment_record_set_string(crm_segment_record *record,
                                                 uint32_t attr, const char *value,
                                                 size_t len);
CRM_API crm_status crm_segment_record_set_strings(crm_segment_record *record,
                                                  uint32_t attr,
                                                  const char *const *items,
                                                  const size_t *lens, size_t n);
CRM_API crm_status crm_segment_record_add_string(crm_segment_record *record,
                                                 uint32_t attr, const char *item,
                                                 size_t len);

/*
 * The same setters by attribute name (NUL-terminated), for convenience.
 * Errors: as above, plus CRM_ENOTFOUND (no such attribute).
 */
CRM_API crm_status crm_segment_record_set_null_by_name(crm_segment_record *record,
                                                       const char *name);
CRM_API crm_status crm_segment_record_set_int_by_name(crm_segment_record *record,
                                                      const char *name, int64_t value);
CRM_API crm_status crm_segment_record_set_decimal_by_name(crm_segment_record *record,
                                                          const char *name,
                                                          int64_t scaled);
CRM_API crm_status crm_segment_record_set_money_by_name(crm_segment_record *record,
                                                        const char *name,
                                                        int64_t minor_units);
CRM_API crm_status crm_segment_record_set_bool_by_name(crm_segment_record *record,
                                                       const char *name, int value);
CRM_API crm_status crm_segment_record_set_time_by_name(crm_segment_record *record,
                                                       const char *name,
                                                       int64_t unix_seconds);
CRM_API crm_status crm_segment_record_set_string_by_name(crm_segment_record *record,
                                                         const char *name,
                                                         const char *value, size_t len);
CRM_API crm_status crm_segment_record_add_string_by_name(crm_segment_record *record,
                                                         const char *name,
                                                         const char *item, size_t len);

/*
 * Reads time attribute `attr` of `record`: *present receives 1 and
 * *unix_seconds the value when the attribute is set, *present 0 and
 * *unix_seconds 0 when it is NULL (attributes added to the schema after the
 * record was made read as NULL). The record keeps ownership of everything.
 * Never allocates.
 * Errors: CRM_EINVAL (NULL argument, index out of range), CRM_ETYPE (the
 * attribute is not a time); on error the out-parameters are untouched.
 * Thread-safety: any number of threads may read a record nobody writes; a
 * successful call writes nothing shared (not even the ctx).
 */
CRM_API crm_status crm_segment_record_get_time(const crm_segment_record *record,
                                               uint32_t attr, int64_t *unix_seconds,
                                               int *present);

/* ---- evaluating one record --------------------------------------------- */

/*
 * Evaluates `program` on `record` at time `now` (Unix seconds) and stores
 * TRUE, FALSE or UNKNOWN in *result. The record matches when the result is
 * CRM_SEGMENT_TRUE. The record must come from the program's schema.
 * Never allocates.
 * Errors: CRM_EINVAL (NULL argument, record of another schema).
 * Thread-safety: a program may be evaluated from any number of threads at
 * once; a successful call writes nothing shared (not even the ctx).
 */
CRM_API crm_status crm_segment_program_eval(const crm_segment_program *program,
                                            const crm_segment_record *record,
                                            int64_t now, crm_segment_result *result);

/*
 * Like crm_segment_program_eval, and also names the clause that decided the
 * result: the smallest part of the rule whose own value alone settles the
 * whole rule (for a FALSE AND-chain, its first FALSE clause; for a TRUE
 * OR-chain, its first TRUE clause; an OR that is FALSE as a whole is named
 * whole). *start and *length give the clause as a byte range of
 * crm_segment_program_source(); *clause_result is that clause's own value
 * (under a NOT it is the opposite of the rule's). Out-pointers other than
 * `result` may be NULL.
 * Errors: as crm_segment_program_eval. Thread-safety: as eval.
 */
CRM_API crm_status crm_segment_program_explain(const crm_segment_program *program,
                                               const crm_segment_record *record,
                                               int64_t now, crm_segment_result *result,
                                               crm_segment_result *clause_result,
                                               size_t *start, size_t *length);

/* ---- segment sets ------------------------------------------------------ */

/*
 * Creates an empty set of programs over `schema`.
 * Errors: CRM_EINVAL, CRM_ENOMEM.
 * Thread-safety: adding is one thread at a time; once built, a set may be
 * evaluated from several threads at once.
 */
CRM_API crm_status crm_segment_set_new(const crm_segment_schema *schema,
                                       crm_segment_set **out);

/* Frees a set. Accepts NULL. */
CRM_API void crm_segment_set_free(crm_segment_set *set);

/*
 * Appends a copy of `program` (the caller keeps and frees its own) and
 * stores its position (0, 1, ...) in *index (may be NULL). Order matters
 * for crm_segment_set_first_match.
 * Errors: CRM_EINVAL (NULL argument, program of another schema), CRM_ENOMEM.
 */
CRM_API crm_status crm_segment_set_add(crm_segment_set *set,
                                       const crm_segment_program *program,
                                       uint32_t *index);

/* Returns the number of programs in the set (0 for NULL). */
CRM_API uint32_t crm_segment_set_count(const crm_segment_set *set);

/*
 * Evaluates every program on `record` and writes a bitset: bit i
 * (bits[i / 8] >> (i % 8) & 1, least significant bit first) is 1 when
 * program i is TRUE. bits_len is the size of `bits` in bytes and must be at
 * least (count + 7) / 8; unused high bits of the last byte are zeroed.
 * Never allocates.
 * Errors: CRM_EINVAL (NULL argument, bits too short, record of another
 * schema). Thread-safety: as crm_segment_program_eval.
 */
CRM_API crm_status crm_segment_set_eval(const crm_segment_set *set,
                                        const crm_segment_record *record, int64_t now,
                                        uint8_t *bits, size_t bits_len);

/*
 * First-match mode, for ordered maps (e.g. RFM groups): stores in *index
 * the position of the first program that is TRUE on `record`, or -1 when
 * none is. Programs after the first match are not evaluated.
 * Errors: CRM_EINVAL. Thread-safety: as crm_segment_program_eval.
 */
CRM_API crm_status crm_segment_set_first_match(const crm_segment_set *set,
                                               const crm_segment_record *record,
                                               int64_t now, int64_t *index);

/* ---- columnar batches -------------------------------------------------- */

/*
 * Creates a batch of `rows` customers over `schema` with no column bound.
 * Columns are bound with the crm_segment_batch_bind_* functions and are
 * never copied: they must stay valid and unchanged while the batch is
 * evaluated. Validity bitmaps follow Apache Arrow: bit r (validity[r / 8]
 * >> (r % 8) & 1) is 1 when row r has a value, 0 when it is NULL; a NULL
 * validity pointer means no NULLs.
 * Errors: CRM_EINVAL (NULL argument), CRM_ENOMEM.
 * Thread-safety: binding is one thread at a time; a bound batch may be
 * evaluated from several threads at once.
 */
CRM_API crm_status crm_segment_batch_new(const crm_segment_schema *schema, size_t rows,
                                         crm_segment_batch **out);

/* Frees a batch (never the caller's columns). Accepts NULL. */
CRM_API void crm_segment_batch_free(crm_segment_batch *batch);

/*
 * Unbinds every column and sets the row count, to reuse the batch for the
 * next chunk of customers. Errors: CRM_EINVAL (NULL batch).
 */
CRM_API crm_status crm_segment_batch_reset(crm_segment_batch *batch, size_t rows);

/*
 * Binds `values` (rows int64 values) to an int, decimal (scaled), money or
 * time attribute.
 * Errors: CRM_EINVAL (NULL batch or values, index out of range), CRM_ETYPE.
 */
CRM_API crm_status crm_segment_batch_bind_int64(crm_segment_batch *batch, uint32_t attr,
                                                const int64_t *values,
                                                const uint8_t *validity);

/*
 * Binds `values` (rows bytes, 0 = false, anything else true) to a bool
 * attribute. Errors: CRM_EINVAL, CRM_ETYPE.
 */
CRM_API crm_status crm_segment_batch_bind_bool(crm_segment_batch *batch, uint32_t attr,
                                               const uint8_t *values,
                                               const uint8_t *validity);

/*
 * Binds a string column the Arrow "large string" way: row r is
 * data[offsets[r] .. offsets[r + 1]); offsets has rows + 1 non-decreasing
 * entries. Strings are compared as bytes and not re-validated.
 * Errors: CRM_EINVAL (NULL pointer, offsets[0] < 0 or not non-decreasing
 * at the ends), CRM_ETYPE.
 */
CRM_API crm_status crm_segment_batch_bind_string(crm_segment_batch *batch, uint32_t attr,
                                                 const int64_t *offsets,
                                                 const char *data,
                                                 const uint8_t *validity);

/*
 * Binds a string-set column as an Arrow list of large strings: row r holds
 * items list_offsets[r] .. list_offsets[r + 1]) and item i is
 * data[item_offsets[i] .. item_offsets[i + 1]).
 * Errors: CRM_EINVAL, CRM_ETYPE.
 */
CRM_API crm_status crm_segment_batch_bind_string_set(crm_segment_batch *batch,
                                                     uint32_t attr,
                                                     const int64_t *list_offsets,
                                                     const int64_t *item_offsets,
                                                     const char *data,
                                                     const uint8_t *validity);

/*
 * Evaluates `program` over every row of `batch` clause by clause and
 * writes the match bitmap (bit r = 1 when row r is TRUE; least significant
 * bit first; (rows + 7) / 8 bytes, unused high bits zeroed). When `unknown`
 * is not NULL it receives the same-sized bitmap of rows that are UNKNOWN.
 * Gives exactly the answers of crm_segment_program_eval row by row. Never
 * allocates.
 * Errors: CRM_EINVAL (NULL argument, batch of another schema), CRM_ESTATE
 * (the rule reads an attribute that has no bound column).
 * Thread-safety: as crm_segment_program_eval.
 */
CRM_API crm_status crm_segment_program_eval_batch(const crm_segment_program *program,
                                                  const crm_segment_batch *batch,
                                                  int64_t now, uint8_t *match,
                                                  uint8_t *unknown);

#ifdef __cplusplus
}
#endif

#endif /* CRM_SEGMENT_H */
