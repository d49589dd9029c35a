/*
 * libcrm: common definitions shared by every module.
 *
 * This header defines the library version, the status codes every fallible
 * function returns, the root handle `crm_ctx` (allocator and last error) and
 * a few utilities (time parsing) that every binding needs.
 *
 * Conventions that hold for the whole library:
 *   - Every fallible function returns crm_status: CRM_OK (0) or a negative
 *     error. Results come back through out-parameters, which are left
 *     untouched when the call fails.
 *   - A failed call changes nothing the caller can observe, except the last
 *     error recorded on the crm_ctx (crm_ctx_errmsg).
 *   - Time is int64_t Unix seconds (UTC); no function reads the clock.
 *   - Money is int64_t in the currency's minor unit (yen: 1).
 *   - Strings are UTF-8; the library copies what it keeps.
 */
#ifndef CRM_COMMON_H
#define CRM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CRM_BUILDING_DLL)
#define CRM_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define CRM_API __attribute__((visibility("default")))
#else
#define CRM_API
#endif

#define CRM_VERSION_MAJOR 1
#define CRM_VERSION_MINOR 0
#define CRM_VERSION_PATCH 0
#define CRM_VERSION_STRING "1.0.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, comparable with crm_version_number(). */
#define CRM_VERSION_NUMBER 10000

/*
 * Status codes. Values are explicit and never change; new codes are only
 * appended (with the next negative value).
 */
typedef enum crm_status {
    CRM_OK = 0,
    CRM_EINVAL = -1,       /* invalid argument: NULL pointer, value out of range */
    CRM_ENOMEM = -2,       /* the allocator returned NULL */
    CRM_ECORRUPT = -3,     /* serialised bytes are truncated, corrupted or not ours */
    CRM_EPARSE = -4,       /* syntax error in a rule, definition or input text */
    CRM_ELIMIT = -5,       /* a documented size or nesting limit was exceeded */
    CRM_ECALLBACK = -6,    /* a caller's callback returned non-zero */
    CRM_ENOTFOUND = -7,    /* the id, name or value is not known */
    CRM_EVERSION = -8,     /* unknown options/state/format version */
    CRM_EUTF8 = -9,        /* a string is not valid UTF-8 */
    CRM_ETYPE = -10,       /* a type error (e.g. string compared with number) */
    CRM_ESTATE = -11,      /* the handle is not in a state that allows the call */
    CRM_EEXIST = -12,      /* the name or id is already registered */
    CRM_EOVERFLOW = -13,   /* an int64 result would overflow */
    CRM_ENOCONVERGE = -14  /* a numerical fit did not converge */
} crm_status;

/*
 * Returns a static, NUL-terminated English name for a status code
 * ("CRM_ENOMEM: out of memory"). Never returns NULL; unknown codes give
 * "unknown status". Thread-safe.
 */
CRM_API const char *crm_strerror(int status);

/* Returns the library's version string, e.g. "1.0.0". Thread-safe. */
CRM_API const char *crm_version(void);

/* Returns the library's version as MAJOR * 10000 + MINOR * 100 + PATCH. Thread-safe. */
CRM_API int crm_version_number(void);

/*
 * crm_ctx: the root handle. It owns the allocator every other handle uses
 * and records the last error (code, message and, for parse errors, the
 * 1-based line and column).
 *
 * Thread-safety: a crm_ctx and every mutable handle made from it are used by
 * one thread at a time. Immutable compiled objects (segment programs,
 * scenario definitions) document their own rules: they may be evaluated from
 * several threads at once and do not write to the ctx while doing so.
 */
typedef struct crm_ctx crm_ctx;

/*
 * Allocator hooks. `user` is passed back unchanged. realloc_fn and free_fn
 * receive pointers previously returned by malloc_fn/realloc_fn; free_fn may
 * be called with NULL and must ignore it. The library never asks for zero
 * bytes.
 */
typedef void *(*crm_malloc_fn)(void *user, size_t size);
typedef void *(*crm_realloc_fn)(void *user, void *ptr, size_t size);
typedef void (*crm_free_fn)(void *user, void *ptr);

/*
 * Creates a context that allocates with libc malloc/realloc/free (and
 * calloc for large hash tables, whose fresh pages need no zeroing).
 * On success *out owns a new context; free it with crm_ctx_free().
 * Errors: CRM_EINVAL (out is NULL), CRM_ENOMEM.
 */
CRM_API crm_status crm_ctx_new(crm_ctx **out);

/*
 * Creates a context whose every allocation (its own included) goes through
 * the given functions. All three functions must be given.
 * Errors: CRM_EINVAL (a NULL function or out), CRM_ENOMEM.
 */
CRM_API crm_status crm_ctx_new_with_allocator(crm_malloc_fn malloc_fn,
                                              crm_realloc_fn realloc_fn,
                                              crm_free_fn free_fn, void *user,
                                              crm_ctx **out);

/*
 * Frees a context. Accepts NULL. Every handle made from the context must be
 * freed first.
 */
CRM_API void crm_ctx_free(crm_ctx *ctx);

/*
 * Returns the status of the last failed call made with this context (or with
 * a handle made from it), CRM_OK if none failed yet. A successful call does
 * not clear it.
 */
CRM_API crm_status crm_ctx_errcode(const crm_ctx *ctx);

/*
 * Returns the message of the last error recorded on this context, "" when
 * there is none. The string is owned by the context and valid until the next
 * call that fails with it. Returns "" for a NULL ctx.
 */
CRM_API const char *crm_ctx_errmsg(const crm_ctx *ctx);

/*
 * Gives the 1-based line and column of the last parse error (segment rules,
 * scenario definitions), or 0 and 0 when the last error has no position.
 * Either out-pointer may be NULL.
 */
CRM_API void crm_ctx_errpos(const crm_ctx *ctx, uint32_t *line, uint32_t *column);

/*
 * Parses a time given as ISO-8601 / RFC 3339 or as Unix seconds and stores
 * Unix seconds (UTC) in *out.
 *
 * Accepted forms: "1700000000" (decimal seconds, optional '-'),
 * "YYYY-MM-DD" (midnight in the given default offset),
 * "YYYY-MM-DDTHH:MM[:SS[.fff]]" with 'T' or a space, followed by "Z",
 * "+HH:MM", "+HHMM", "+HH" or nothing (then default_offset_min applies).
 * Fractions of a second are truncated. Years 0001..9999.
 * `len` is the length of `text` in bytes (no NUL needed).
 * Errors: CRM_EINVAL (NULL text or out, offset outside -1440..1440),
 * CRM_EPARSE (anything else, including 2023-02-29). Thread-safe.
 */
CRM_API crm_status crm_time_parse(const char *text, size_t len,
                                  int32_t default_offset_min, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* CRM_COMMON_H */
