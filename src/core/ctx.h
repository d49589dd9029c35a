/*
 * The crm_ctx structure and error recording, shared by every module.
 */
#ifndef CRM_CORE_CTX_H
#define CRM_CORE_CTX_H

#include "crm/common.h"

#define CRM_ERRMSG_MAX 256

struct crm_ctx {
    crm_malloc_fn malloc_fn;
    crm_realloc_fn realloc_fn;
    crm_free_fn free_fn;
    void *alloc_user;
    int libc_alloc; /* the hooks are the C library's (crm_ctx_new) */
    crm_status errcode;
    uint32_t errline;
    uint32_t errcolumn;
    char errmsg[CRM_ERRMSG_MAX];
};

/*
 * Records an error on ctx (printf-style message, truncated to fit) and
 * returns `status` so callers can write `return crm_error(ctx, ...)`.
 * Never allocates. A NULL ctx only returns the status.
 */
crm_status crm_error(crm_ctx *ctx, crm_status status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Like crm_error, and also records a 1-based line and column. */
crm_status crm_error_at(crm_ctx *ctx, crm_status status, uint32_t line,
                        uint32_t column, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Records CRM_ENOMEM with a standard message; returns CRM_ENOMEM. */
crm_status crm_error_nomem(crm_ctx *ctx);

#endif
