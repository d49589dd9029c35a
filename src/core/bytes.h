/*
 * Serialisation helpers for state the caller stores: a growable byte
 * writer, a bounds-checked reader, LEB128 varints (zigzag for signed) and
 * CRC-32C. A writer or reader that fails stays failed, so a sequence of puts
 * or gets is checked once at the end; a failed reader has nothing left.
 *
 * The puts and gets are inline: a put writes straight into spare capacity
 * after one room check per value, and a varint is read in place, unrolled
 * for values of up to 5 bytes; only growing a writer is out of line.
 * A record with a known bound is written faster still: crm_writer_begin
 * reserves the bound once, the crm_encode_* functions write through a plain
 * cursor with no check at all, and crm_writer_end keeps what was written.
 */
#ifndef CRM_CORE_BYTES_H
#define CRM_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"

#define CRM_UVARINT_MAX 10 /* longest LEB128 encoding of a uint64_t */

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
/* The slow path of crm_writer_reserve: grows the buffer. */
void crm_writer_grow(crm_writer *w, size_t n);
void crm_writer_put_bytes(crm_writer *w, const void *data, size_t len);
/* The slow path of crm_writer_put_uvarint: grows the buffer first. */
void crm_writer_put_uvarint_slow(crm_writer *w, uint64_t v);

/*
 * Reserves n bytes at the end and returns where they start, for the
 * crm_encode_* functions; crm_writer_end(w, cursor) then keeps the bytes
 * written, at most n. NULL (and the writer fails) on allocation failure.
 */
uint8_t *crm_writer_begin(crm_writer *w, size_t n);

static inline void crm_writer_end(crm_writer *w, const uint8_t *cursor)
{
    w->len = (size_t)(cursor - w->data);
}

/* Encoders into reserved space: each writes at p and returns the byte after. */
static inline uint8_t *crm_encode_u8(uint8_t *p, uint8_t v)
{
    *p = v;
    return p + 1;
}

static inline uint8_t *crm_encode_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return p + 4;
}

static inline uint8_t *crm_encode_uvarint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint8_t *crm_encode_svarint(uint8_t *p, int64_t v)
{
    return crm_encode_uvarint(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Whether n more bytes fit without growing; never true once failed. */
static inline int crm_writer_has_room(const crm_writer *w, size_t n)
{
    return !w->failed && w->cap - w->len >= n;
}

/* Makes room for n more bytes; on allocation failure the writer fails. */
static inline void crm_writer_reserve(crm_writer *w, size_t n)
{
    if (!crm_writer_has_room(w, n))
        crm_writer_grow(w, n);
}

static inline void crm_writer_put_u8(crm_writer *w, uint8_t v)
{
    if (crm_writer_has_room(w, 1))
        w->data[w->len++] = v;
    else
        crm_writer_put_bytes(w, &v, 1);
}

static inline void crm_writer_put_u32le(crm_writer *w, uint32_t v)
{
    uint8_t b[4];

    if (crm_writer_has_room(w, 4)) {
        crm_writer_end(w, crm_encode_u32le(w->data + w->len, v));
    } else {
        crm_encode_u32le(b, v);
        crm_writer_put_bytes(w, b, 4);
    }
}

static inline void crm_writer_put_uvarint(crm_writer *w, uint64_t v)
{
    if (crm_writer_has_room(w, CRM_UVARINT_MAX))
        crm_writer_end(w, crm_encode_uvarint(w->data + w->len, v));
    else
        crm_writer_put_uvarint_slow(w, v);
}

static inline void crm_writer_put_svarint(crm_writer *w, int64_t v)
{
    crm_writer_put_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/*
 * The reader is inline through and through, failing included: a reader on
 * the stack whose address no call takes stays in registers.
 */
static inline void crm_reader_init(crm_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p + len;
    r->failed = 0;
}

static inline size_t crm_reader_left(const crm_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Marks r failed (a truncated or malformed value): nothing is left to read. */
static inline void crm_reader_fail(crm_reader *r)
{
    r->failed = 1;
    r->p = r->end;
}

/* Returns a pointer to the next len bytes and skips them, NULL if truncated. */
static inline const uint8_t *crm_reader_get_bytes(crm_reader *r, size_t len)
{
    const uint8_t *at = r->p;

    if (r->failed || len > crm_reader_left(r)) {
        crm_reader_fail(r);
        return NULL;
    }
    r->p += len;
    return at;
}

static inline uint8_t crm_reader_get_u8(crm_reader *r)
{
    const uint8_t *b = crm_reader_left(r) >= 1 ? r->p++ : crm_reader_get_bytes(r, 1);

    return b ? b[0] : 0;
}

static inline uint32_t crm_reader_get_u32le(crm_reader *r)
{
    const uint8_t *b = r->p;

    if (crm_reader_left(r) >= 4)
        r->p += 4;
    else if ((b = crm_reader_get_bytes(r, 4)) == NULL)
        return 0;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

/*
 * Decodes a varint of at most 5 bytes (any value below 2^35: counts,
 * versions, Unix times) at p, which must have 5 bytes to read: returns its
 * length and sets *v, or returns 0 when the varint is longer. The fixed
 * bound lets the compiler unroll the loop and drop the per-byte checks.
 */
static inline size_t crm_decode_uvarint5(const uint8_t *p, uint64_t *v)
{
    uint64_t x = 0;
    size_t i;

    for (i = 0; i < 5; i++) {
        x |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (p[i] < 0x80) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* The general path of crm_reader_get_uvarint: any length, near the end too. */
static inline uint64_t crm_reader_get_uvarint_any(crm_reader *r)
{
    const uint8_t *p = r->p;
    size_t left = crm_reader_left(r);
    size_t n = left < CRM_UVARINT_MAX ? left : CRM_UVARINT_MAX, i;
    uint64_t v = 0;

    for (i = 0; i < n; i++) {
        v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (p[i] < 0x80) {
            if (i == CRM_UVARINT_MAX - 1 && p[i] > 1)
                break; /* bits beyond 64 */
            r->p = p + i + 1;
            return v;
        }
    }
    crm_reader_fail(r);
    return 0;
}

/*
 * One-byte values (counts, steps, flags: most of them) are tested on their
 * own first; sharing the unrolled loop's first test with the 5-byte times
 * made that branch harder to predict, and the reader slower.
 */
static inline uint64_t crm_reader_get_uvarint(crm_reader *r)
{
    const uint8_t *p = r->p;
    uint64_t v;
    size_t n;

    if (crm_reader_left(r) >= 1 && p[0] < 0x80) {
        r->p = p + 1;
        return p[0];
    }
    if (crm_reader_left(r) >= 5 && (n = crm_decode_uvarint5(p, &v)) > 0) {
        r->p = p + n;
        return v;
    }
    return crm_reader_get_uvarint_any(r);
}

static inline int64_t crm_reader_get_svarint(crm_reader *r)
{
    uint64_t u = crm_reader_get_uvarint(r);

    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/*
 * CRC-32C (Castagnoli) of data, continuing from crc (start with 0).
 * Thread-safe: the first call picks the CPU's fastest implementation
 * (SSE 4.2 or tables) once for the process.
 */
uint32_t crm_crc32c(uint32_t crc, const void *data, size_t len);

#endif
