/*
 * Serialisation helpers for state the caller stores: a growable byte
 * writer, a bounds-checked reader, LEB128 varints (zigzag for signed) and
 * CRC-32C. A writer or reader that fails stays failed, so a sequence of puts
 * or gets is checked once at the end.
 */
#ifndef CRM_CORE_BYTES_H
#define CRM_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"

typedef struct crm_writer {
    crm_ctx *ctx;
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* set on allocation failure */
} crm_writer;

typedef struct crm_reader {
    const uint8_t *p;
    const uint8_t *end;
    int failed; /* set on truncation or a malformed varint */
} crm_reader;

void crm_writer_init(crm_writer *w, crm_ctx *ctx);
void crm_writer_free(crm_writer *w);
void crm_writer_put_bytes(crm_writer *w, const void *data, size_t len);
void crm_writer_put_u8(crm_writer *w, uint8_t v);
void crm_writer_put_u32le(crm_writer *w, uint32_t v);
void crm_writer_put_uvarint(crm_writer *w, uint64_t v);
void crm_writer_put_svarint(crm_writer *w, int64_t v);

void crm_reader_init(crm_reader *r, const void *data, size_t len);
size_t crm_reader_left(const crm_reader *r);
/* Returns a pointer to the next len bytes and skips them, NULL if truncated. */
const uint8_t *crm_reader_get_bytes(crm_reader *r, size_t len);
uint8_t crm_reader_get_u8(crm_reader *r);
uint32_t crm_reader_get_u32le(crm_reader *r);
uint64_t crm_reader_get_uvarint(crm_reader *r);
int64_t crm_reader_get_svarint(crm_reader *r);

/* CRC-32C (Castagnoli) of data, continuing from crc (start with 0). */
uint32_t crm_crc32c(uint32_t crc, const void *data, size_t len);

#endif
