/*
 * A strict RFC 8259 JSON reader that builds a small read-only DOM in a
 * crm_arena. Input must be valid UTF-8 (no BOM); strings are decoded to
 * UTF-8 (escapes resolved, lone surrogates rejected) and may hold NUL bytes,
 * so their length is always given. Duplicate object keys are rejected.
 * Every node records the 1-based line and column (in code points) where it
 * starts, so loaders can point at the offending value.
 *
 * Errors are recorded on the ctx with crm_error_at():
 *   CRM_EPARSE  syntax error (position of the offending byte),
 *   CRM_EUTF8   invalid UTF-8 in the input,
 *   CRM_ELIMIT  input longer than max_bytes or nesting deeper than max_depth,
 *   CRM_ENOMEM  the arena could not grow.
 */
#ifndef CRM_CORE_JSON_H
#define CRM_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/ctx.h"

typedef enum crm_json_type {
    CRM_JSON_NULL = 0,
    CRM_JSON_FALSE = 1,
    CRM_JSON_TRUE = 2,
    CRM_JSON_NUMBER = 3,
    CRM_JSON_STRING = 4,
    CRM_JSON_ARRAY = 5,
    CRM_JSON_OBJECT = 6
} crm_json_type;

typedef struct crm_json crm_json;

typedef struct crm_json_member {
    const char *key; /* decoded, NUL-terminated (may also hold NULs) */
    size_t key_len;
    crm_json *value;
} crm_json_member;

struct crm_json {
    crm_json_type type;
    uint32_t line;   /* 1-based */
    uint32_t column; /* 1-based, in code points */
    /* CRM_JSON_STRING: decoded text. CRM_JSON_NUMBER: the literal as written. */
    const char *text;
    size_t len;
    /* Every node: the byte range of its source text in the parsed input. */
    size_t src_offset;
    size_t src_len;
    /* CRM_JSON_NUMBER only. */
    double number;   /* nearest double (within one ulp) */
    int64_t integer; /* exact value when is_integer */
    int is_integer;  /* no fraction or exponent, and fits int64_t */
    /* CRM_JSON_ARRAY: items[0..count). CRM_JSON_OBJECT: members[0..count), in input order. */
    crm_json **items;
    crm_json_member *members;
    size_t count;
};

typedef struct crm_json_limits {
    size_t max_bytes;   /* longest accepted input; 0 means CRM_JSON_DEFAULT_MAX_BYTES */
    unsigned max_depth; /* deepest nesting of arrays/objects; 0 means the default */
} crm_json_limits;

#define CRM_JSON_DEFAULT_MAX_BYTES ((size_t)1 << 20)
#define CRM_JSON_DEFAULT_MAX_DEPTH 64u

/*
 * Parses text[0..len) (one JSON value with optional surrounding whitespace)
 * into nodes allocated from `arena`; *out receives the root. `limits` may be
 * NULL for the defaults. On failure *out is untouched and the arena may hold
 * garbage the caller frees with the arena.
 */
crm_status crm_json_parse(crm_ctx *ctx, crm_arena *arena, const char *text,
                          size_t len, const crm_json_limits *limits,
                          const crm_json **out);

/* The value of member `key` (NUL-terminated) of an object, or NULL. */
const crm_json *crm_json_get(const crm_json *object, const char *key);

/* A static name for a node type ("object", "string", ...). */
const char *crm_json_type_name(crm_json_type type);

#endif
