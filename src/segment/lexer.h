/*
 * Tokenizer of the segment rule language. Strings are decoded into the
 * parser's character pool as they are read.
 */
#ifndef CRM_SEGMENT_LEXER_H
#define CRM_SEGMENT_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"

enum seg_tok {
    TOK_EOF = 0,
    TOK_IDENT,
    TOK_INT,      /* ival */
    TOK_DECIMAL,  /* ival scaled by 10^4 */
    TOK_STRING,   /* chars pool: str_off, str_len */
    TOK_DATE,     /* ival: local midnight (start of the day) */
    TOK_DATETIME, /* ival: Unix seconds */
    TOK_DURATION, /* ival: seconds, unsigned literal */
    TOK_RELATIVE, /* ival: signed seconds from now */
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_COMMA,
    TOK_EQ,
    TOK_NE,
    TOK_LT,
    TOK_LE,
    TOK_GT,
    TOK_GE,
    TOK_AND,
    TOK_OR,
    TOK_NOT,
    TOK_IN,
    TOK_BETWEEN,
    TOK_IS,
    TOK_NULL,
    TOK_CONTAINS,
    TOK_STARTS,
    TOK_WITH,
    TOK_TRUE,
    TOK_FALSE,
    TOK_NOW
};

typedef struct seg_token {
    enum seg_tok type;
    size_t start; /* byte offset in the rule */
    size_t len;   /* bytes in the rule */
    int64_t ival;
    size_t str_off;
    size_t str_len;
} seg_token;

typedef struct seg_lexer {
    crm_ctx *ctx;
    const char *src;
    size_t len;
    size_t pos;
    int32_t offset_min;
    char *chars; /* decoded string literals, back to back */
    size_t nchars;
    size_t chars_cap;
} seg_lexer;

/*
 * Reads the next token into *tok. Returns CRM_OK, or an error recorded on
 * the ctx with its position (CRM_EPARSE, CRM_ENOMEM).
 */
crm_status seg_lex_next(seg_lexer *lx, seg_token *tok);

/* Records an error at byte offset `at` of the rule with its line and column. */
crm_status seg_lex_error(const seg_lexer *lx, crm_status status, size_t at,
                         const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
