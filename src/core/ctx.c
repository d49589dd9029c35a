/*
 * crm_ctx: creation, the allocator it carries, the last error, status names
 * and the library version.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"

static void *libc_malloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void *libc_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    return realloc(ptr, size);
}

static void libc_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

crm_status crm_ctx_new(crm_ctx **out)
{
    crm_status status = crm_ctx_new_with_allocator(libc_malloc, libc_realloc,
                                                   libc_free, NULL, out);

    if (status == CRM_OK)
        (*out)->libc_alloc = 1;
    return status;
}

crm_status crm_ctx_new_with_allocator(crm_malloc_fn malloc_fn,
                                      crm_realloc_fn realloc_fn,
                                      crm_free_fn free_fn, void *user,
                                      crm_ctx **out)
{
    crm_ctx *ctx;

    if (!malloc_fn || !realloc_fn || !free_fn || !out)
        return CRM_EINVAL;
    ctx = malloc_fn(user, sizeof *ctx);
    if (!ctx)
        return CRM_ENOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->malloc_fn = malloc_fn;
    ctx->realloc_fn = realloc_fn;
    ctx->free_fn = free_fn;
    ctx->alloc_user = user;
    *out = ctx;
    return CRM_OK;
}

void crm_ctx_free(crm_ctx *ctx)
{
    if (ctx)
        ctx->free_fn(ctx->alloc_user, ctx);
}

crm_status crm_ctx_errcode(const crm_ctx *ctx)
{
    return ctx ? ctx->errcode : CRM_OK;
}

const char *crm_ctx_errmsg(const crm_ctx *ctx)
{
    return ctx ? ctx->errmsg : "";
}

void crm_ctx_errpos(const crm_ctx *ctx, uint32_t *line, uint32_t *column)
{
    if (line)
        *line = ctx ? ctx->errline : 0;
    if (column)
        *column = ctx ? ctx->errcolumn : 0;
}

static crm_status record_error(crm_ctx *ctx, crm_status status, uint32_t line,
                               uint32_t column, const char *fmt, va_list ap)
{
    if (!ctx)
        return status;
    ctx->errcode = status;
    ctx->errline = line;
    ctx->errcolumn = column;
    vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    return status;
}

crm_status crm_error(crm_ctx *ctx, crm_status status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    status = record_error(ctx, status, 0, 0, fmt, ap);
    va_end(ap);
    return status;
}

crm_status crm_error_at(crm_ctx *ctx, crm_status status, uint32_t line,
                        uint32_t column, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    status = record_error(ctx, status, line, column, fmt, ap);
    va_end(ap);
    return status;
}

crm_status crm_error_nomem(crm_ctx *ctx)
{
    return crm_error(ctx, CRM_ENOMEM, "out of memory");
}

const char *crm_strerror(int status)
{
    switch (status) {
    case CRM_OK: return "CRM_OK: success";
    case CRM_EINVAL: return "CRM_EINVAL: invalid argument";
    case CRM_ENOMEM: return "CRM_ENOMEM: out of memory";
    case CRM_ECORRUPT: return "CRM_ECORRUPT: corrupted or truncated data";
    case CRM_EPARSE: return "CRM_EPARSE: syntax error";
    case CRM_ELIMIT: return "CRM_ELIMIT: limit exceeded";
    case CRM_ECALLBACK: return "CRM_ECALLBACK: callback stopped the operation";
    case CRM_ENOTFOUND: return "CRM_ENOTFOUND: not found";
    case CRM_EVERSION: return "CRM_EVERSION: unsupported version";
    case CRM_EUTF8: return "CRM_EUTF8: invalid UTF-8";
    case CRM_ETYPE: return "CRM_ETYPE: type error";
    case CRM_ESTATE: return "CRM_ESTATE: operation not allowed in this state";
    case CRM_EEXIST: return "CRM_EEXIST: already exists";
    case CRM_EOVERFLOW: return "CRM_EOVERFLOW: integer overflow";
    case CRM_ENOCONVERGE: return "CRM_ENOCONVERGE: fit did not converge";
    default: return "unknown status";
    }
}

const char *crm_version(void)
{
    return CRM_VERSION_STRING;
}

int crm_version_number(void)
{
    return CRM_VERSION_MAJOR * 10000 + CRM_VERSION_MINOR * 100 +
           CRM_VERSION_PATCH;
}
