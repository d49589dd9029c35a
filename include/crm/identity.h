/*
 * libcrm: identity merging. One customer, one id.
 *
 * A shop sees one person as a guest checkout with an email, a member id, a
 * LINE user id, a phone number typed five different ways, a POS card. A
 * crm_identity handle turns those records into profiles, deterministically,
 * without over-merging, with every decision explainable and reversible.
 *
 *   crm_identity *idn;
 *   int member, email, phone;
 *   crm_identity_new(ctx, &idn);
 *   crm_identity_add_kind(idn, "member_id", CRM_NORMALIZE_EXACT, 0, 1, 1, &member);
 *   crm_identity_add_kind(idn, "email", CRM_NORMALIZE_EMAIL, 0, 1, 5, &email);
 *   crm_identity_add_kind(idn, "phone", CRM_NORMALIZE_PHONE_JP, 0, 1, 3, &phone);
 *   int kinds[2] = { email, phone };
 *   const char *values[2] = { "Taro.Yamada@Gmail.com", "090-1234-5678" };
 *   int64_t profile;
 *   crm_identity_observe(idn, 1001, at, 2, kinds, values, NULL, &profile);
 *   ...
 *   crm_identity_free(idn);
 *
 * Model.
 *   Kind         a sort of identifier (member id, email, phone, LINE id, POS
 *                card ...), registered by the caller with a normaliser,
 *                whether a shared value merges on its own, and a limit: the
 *                most distinct values one profile may hold (member_id 1,
 *                email 5; 0 = no limit). Kinds registered earlier have a
 *                higher priority. A composite kind (name + birthday + postal
 *                code) has a value only when an observation carries every
 *                part, and merges only when all parts match.
 *   Observation  (source_id, at, identifiers[]): a record the caller already
 *                has (an order, a customer row, a LINE follow). source_id is
 *                the caller's id of that record, unique per observation.
 *   Profile      a set of observations linked by shared normalised values of
 *                merging kinds. Its id is the source_id of its earliest
 *                observation (smallest at, then smallest source_id), so a
 *                shop's own customer number survives.
 *
 * Rules that stop over-merging.
 *   Limits       a link that would give a profile more distinct values of a
 *                limited kind than its limit (two member ids) is refused and
 *                reported as CRM_IDENTITY_CONFLICT; the link refused is the
 *                one through the observation's lowest-priority identifier.
 *                A non-merging kind with limit 1 (a name) counts the value
 *                a profile's records carry even when another profile holds
 *                it too, so two profiles with different names never merge.
 *   Shared value a value that would tie together more than K profiles that
 *                hold different values of a limited kind (a family's email,
 *                the shop's own phone typed at checkout, team@ addresses)
 *                stops merging and is reported as CRM_IDENTITY_SHARED
 *                (K = crm_identity_set_shared_limit, default 3).
 *   Cap          a profile holds at most crm_identity_set_profile_cap
 *                identifiers (default 1,000); links beyond are refused and
 *                reported as CRM_IDENTITY_CAPPED.
 *   Blocked      values never link: per-kind lists (crm_identity_block_value)
 *                and built-in placeholders (empty, all-same-digit phones,
 *                test@test.com, noreply@..., "none", "-" ...), reported as
 *                CRM_IDENTITY_BLOCKED. Values a normaliser rejects are
 *                reported as CRM_IDENTITY_REJECTED and ignored; the rest of
 *                the observation still counts.
 *
 * Batch and incremental.
 *   crm_identity_add records observations without linking (the fast path for
 *   a full load); crm_identity_resolve then replays every link in canonical
 *   order (by at, then source_id, then kind priority) and drops each link
 *   that would break a rule, so the result never depends on arrival order.
 *   crm_identity_observe records and links one observation at once and
 *   returns its profile id; merges are reported so the caller can re-key its
 *   storage. Where no link was refused, incremental equals batch; resolve
 *   recomputes in canonical order and reports every source whose profile
 *   changed (CRM_IDENTITY_MOVED).
 *
 * Events. The callback set with crm_identity_set_event_callback receives
 * every merge, split, move and refusal as it happens, with the arguments
 * listed at crm_identity_event. A non-zero return stops the operation,
 * which returns CRM_ECALLBACK and leaves the graph as it was before the
 * call.
 *
 * Errors are recorded on the crm_ctx the handle was made from
 * (crm_ctx_errmsg). A failed call changes nothing observable.
 *
 * Thread-safety: a crm_identity is used by one thread at a time (with its
 * ctx). crm_identity_normalize is thread-safe when each thread passes its
 * own ctx (or NULL).
 */
#ifndef CRM_IDENTITY_H
#define CRM_IDENTITY_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- normalisers ---- */

/*
 * How the values of a kind are normalised before they are compared. Every
 * normaliser requires valid UTF-8 and trims ASCII whitespace and U+3000
 * (ideographic space) at both ends; the README shows examples of each.
 *
 * EXACT     the bytes as given: "M-0001".
 * ICASE     as EXACT, ASCII letters lowercased: "LINE-U1A" -> "line-u1a".
 * EMAIL     full-width forms folded (＠ -> @, and 。 -> . as in IDNA),
 *           ASCII lowercased; rejects a missing or second '@', an empty
 *           local part or domain, a domain without a dot, an empty label
 *           or one starting or ending with '-', spaces and control
 *           characters inside. Dots in the local part are kept as written
 *           (a..b@docomo.ne.jp, x.@ezweb.ne.jp are real addresses). With
 *           CRM_NORMALIZE_FOLD_PROVIDER, aliases of one mailbox fold into
 *           one value.
 * PHONE_JP  E.164: "090-1234-5678" -> "+819012345678". Full-width digits
 *           are folded; hyphens and dashes of every sort, spaces, brackets
 *           and dots are dropped. A Japanese number (leading 0, or +81,
 *           0081 or 01081, "+81 (0)90" too) must have the length of its
 *           class, counting the leading 0: 11 digits for 060/070/080/090,
 *           050, 020 and 0800 numbers, 10 for landlines, 0120 and 0570.
 *           Another country code (after +, 00 or 010) gives + and 7 to 15
 *           digits. Numbers whose digits after the service prefix are all
 *           one digit (090-0000-0000, 0000000000) are rejected.
 * NAME_JA   a matching key for a Japanese name: full-width ASCII to ASCII,
 *           half-width katakana to full-width with voiced marks composed
 *           (ｶﾞ -> ガ, also カ + U+3099), spaces and ・ removed, ASCII
 *           lowercased, variant kanji folded (髙 -> 高, 﨑 -> 崎, 邊 -> 辺
 *           ...). With CRM_NORMALIZE_FOLD_KANA, hiragana become katakana.
 *           Never rejects a valid string.
 * POSTAL_JP exactly 7 digits after dropping 〒, hyphens, dashes and spaces
 *           and folding full-width digits: "〒100-0001" -> "1000001".
 */
typedef enum crm_identity_normalizer {
    CRM_NORMALIZE_EXACT = 0,     /* bytes as given (valid UTF-8), trimmed */
    CRM_NORMALIZE_ICASE = 1,     /* as EXACT, ASCII letters lowercased */
    CRM_NORMALIZE_EMAIL = 2,     /* trimmed, full-width folded, lowercased */
    CRM_NORMALIZE_PHONE_JP = 3,  /* E.164: 090-1234-5678 -> +819012345678 */
    CRM_NORMALIZE_NAME_JA = 4,   /* width/kana/variant-kanji folded, no spaces */
    CRM_NORMALIZE_POSTAL_JP = 5  /* exactly 7 digits: 〒100-0001 -> 1000001 */
} crm_identity_normalizer;

/* Flags apply to one normaliser each and are ignored by the others (so a
 * binding may pass one flags value for every kind); undefined bits are
 * rejected. */

/* CRM_NORMALIZE_EMAIL: fold provider aliases. gmail.com and
 * googlemail.com ignore dots and +tags in the local part (the domain
 * becomes gmail.com); outlook.com, hotmail.com, live.com, their Japanese
 * domains outlook.jp, hotmail.co.jp, live.jp, and icloud.com ignore
 * +tags. An address whose local part would become empty is kept. */
#define CRM_NORMALIZE_FOLD_PROVIDER 0x1u
/* CRM_NORMALIZE_NAME_JA: fold hiragana to katakana. */
#define CRM_NORMALIZE_FOLD_KANA 0x2u

/* Longest normalised value, in bytes (CRM_ELIMIT beyond). */
#define CRM_IDENTITY_MAX_VALUE 1024u

/*
 * crm_identity_normalize: writes the normalised form of raw[0..len) into
 * out (capacity cap bytes, not NUL-terminated) and its length to *out_len.
 * A cap of CRM_IDENTITY_MAX_VALUE bytes, or of 4 * len + 16, always
 * suffices; out may be NULL when cap is 0 (to ask for the size), raw may
 * be NULL when len is 0. Never allocates.
 *
 * Errors: CRM_EINVAL (NULL out_len, raw or out where not allowed; unknown
 * normaliser; an undefined flag bit; a value the normaliser rejects as
 * malformed, e.g. an email without '@' or a phone of the wrong length,
 * with the reason on ctx), CRM_EUTF8 (raw is not valid UTF-8:
 * overlong forms, surrogates, truncated sequences), CRM_ELIMIT (cap too
 * small: *out_len is set to the size needed; or the normalised value is
 * longer than CRM_IDENTITY_MAX_VALUE: *out_len is set to 0). On any error
 * out is left untouched, and *out_len too except on CRM_ELIMIT.
 * ctx may be NULL (no message is kept then); on success the ctx error is
 * left as it was.
 * Thread-safety: safe from any thread with distinct ctx values.
 */
CRM_API crm_status crm_identity_normalize(crm_ctx *ctx,
                                          crm_identity_normalizer normalizer,
                                          unsigned flags, const char *raw,
                                          size_t len, char *out, size_t cap,
                                          size_t *out_len);

/* ---- end normalisers ---- */

typedef struct crm_identity crm_identity;

/* What a crm_identity_event_fn reports. */
typedef enum crm_identity_event {
    /* profile `other` was merged into `profile` (re-key other -> profile) */
    CRM_IDENTITY_MERGED = 1,
    /* `other` split off from `profile` (forget, or resolve) and is now a
     * profile of its own */
    CRM_IDENTITY_SPLIT = 2,
    /* a link was refused: it would break a kind's limit in `profile`;
     * `other` is the profile it would have merged with (0 when the value
     * itself would exceed the limit); kind/value is the identifier the
     * refused link went through */
    CRM_IDENTITY_CONFLICT = 3,
    /* a value (kind, value) stopped merging: shared by too many profiles;
     * `profile` is the one holding it (0 in resolve) */
    CRM_IDENTITY_SHARED = 4,
    /* a value was ignored: blocked or a built-in placeholder */
    CRM_IDENTITY_BLOCKED = 5,
    /* a value was ignored: the normaliser rejected it (value is raw;
     * `profile` is the observation's source_id) */
    CRM_IDENTITY_REJECTED = 6,
    /* a link was refused: `profile` holds crm_identity_set_profile_cap
     * identifiers already */
    CRM_IDENTITY_CAPPED = 7,
    /* resolve: source `other` moved from profile `profile` to `to` */
    CRM_IDENTITY_MOVED = 8
} crm_identity_event;

/*
 * Event callback. profile, other and to are profile or source ids as
 * described at crm_identity_event (0 when not applicable); kind and
 * value/len name the identifier involved (-1 and NULL/0 when none). value
 * is valid only during the call. Return non-zero to stop the operation.
 * The callback must not call functions on the handle that reports.
 */
typedef int (*crm_identity_event_fn)(void *user, crm_identity_event event,
                                     int64_t profile, int64_t other,
                                     int64_t to, int kind, const char *value,
                                     size_t len);

/*
 * Explain callback: one step of a chain. Source from_source and source
 * to_source share the normalised value (kind, value/len). linked is 1 when
 * this link holds, 0 when it was refused; reason is then the event that
 * refused it (CRM_IDENTITY_CONFLICT, _SHARED, _BLOCKED or _CAPPED) and 0
 * when linked.
 */
typedef int (*crm_identity_explain_fn)(void *user, int64_t from_source,
                                       int64_t to_source, int kind,
                                       const char *value, size_t len,
                                       int linked, crm_identity_event reason);

/* Save/load streams. A write callback returns non-zero to stop. A read
 * callback fills buf with up to cap bytes, sets *got (0 at end) and
 * returns non-zero on a read error. */
typedef int (*crm_identity_write_fn)(void *user, const void *data, size_t len);
typedef int (*crm_identity_read_fn)(void *user, void *buf, size_t cap,
                                    size_t *got);

/*
 * crm_identity_new: an empty graph with no kinds, shared limit 3 and
 * profile cap 1,000. *out is owned by the caller (crm_identity_free) and
 * must not outlive ctx.
 * Errors: CRM_EINVAL (NULL), CRM_ENOMEM.
 */
CRM_API crm_status crm_identity_new(crm_ctx *ctx, crm_identity **out);

/* crm_identity_free: frees the handle and everything it holds. NULL is a
 * no-op. */
CRM_API void crm_identity_free(crm_identity *idn);

/*
 * crm_identity_add_kind: registers a kind named name (UTF-8, unique, at most
 * 64 bytes). merges non-zero: a shared value links observations on its own.
 * limit: most distinct values one profile may hold (0 = unlimited). Kinds
 * registered earlier have higher priority: register the most personal
 * identifiers first (member id, LINE id, phone, then email), because when
 * a link would break a limit the link through the lowest-priority
 * identifier is refused, and a household shares an email, not a phone.
 * *out_kind receives its number (0, 1, 2 ... in registration order).
 * Kinds are added before the first observation.
 * Errors: CRM_EINVAL (NULL, bad normaliser or flags), CRM_EEXIST (name
 * taken), CRM_ESTATE (observations already added), CRM_ELIMIT (more than
 * 64 kinds), CRM_EUTF8, CRM_ENOMEM.
 */
CRM_API crm_status crm_identity_add_kind(crm_identity *idn, const char *name,
                                         crm_identity_normalizer normalizer,
                                         unsigned flags, int merges,
                                         uint32_t limit, int *out_kind);

/*
 * crm_identity_add_composite_kind: registers a kind whose value is the
 * combination of the nparts kinds parts[] (2..8 distinct kinds, usually
 * non-merging ones such as a name, a birthday and a postal code). An
 * observation carrying every part gets a value of this kind (the smallest
 * normalised value of each part, joined by the byte 0x1f); it merges when
 * all parts match. Observations give values of the parts only, never of
 * the composite kind itself; lookup, block_value and forget_value take
 * the raw parts joined by 0x1f. Same rules and errors as
 * crm_identity_add_kind.
 */
CRM_API crm_status crm_identity_add_composite_kind(crm_identity *idn,
                                                   const char *name,
                                                   const int *parts,
                                                   size_t nparts, int merges,
                                                   uint32_t limit,
                                                   int *out_kind);

/* crm_identity_kind_find: the number of the kind called name.
 * Errors: CRM_EINVAL (NULL), CRM_ENOTFOUND. */
CRM_API crm_status crm_identity_kind_find(const crm_identity *idn,
                                          const char *name, int *out_kind);

/* crm_identity_set_shared_limit: K of the shared-value guard (>= 1,
 * default 3). Errors: CRM_EINVAL. */
CRM_API crm_status crm_identity_set_shared_limit(crm_identity *idn,
                                                 uint32_t k);

/* crm_identity_set_profile_cap: most identifiers one profile holds (>= 1,
 * default 1,000). Errors: CRM_EINVAL. */
CRM_API crm_status crm_identity_set_profile_cap(crm_identity *idn,
                                                uint32_t cap);

/*
 * crm_identity_block_value: values of kind that never link (normalised like
 * the input; a value the normaliser rejects gives its error). Blocking a
 * value already linking profiles takes effect at the next resolve.
 * Errors: CRM_EINVAL, CRM_EUTF8, CRM_ELIMIT, CRM_ENOMEM.
 */
CRM_API crm_status crm_identity_block_value(crm_identity *idn, int kind,
                                            const char *raw, size_t len);

/*
 * crm_identity_set_event_callback: fn(user, ...) receives the events of
 * every later call on idn (NULL: none). See crm_identity_event.
 * Errors: CRM_EINVAL (idn NULL).
 */
CRM_API crm_status crm_identity_set_event_callback(crm_identity *idn,
                                                   crm_identity_event_fn fn,
                                                   void *user);

/*
 * crm_identity_add: records observations without linking them (call
 * crm_identity_resolve afterwards). Observation i has source_ids[i], ats[i]
 * and the identifiers offsets[i] .. offsets[i+1]-1 of the columns kinds,
 * values and lens (lens NULL: values are NUL-terminated). offsets has
 * n_obs + 1 entries, offsets[0] = 0. Values are copied. Until the next
 * resolve each added observation is a profile of its own and its values
 * are not found by crm_identity_lookup. Rejected values are reported
 * (CRM_IDENTITY_REJECTED) and skipped.
 * Errors: CRM_EINVAL (NULL, unknown or composite kind, offsets not
 * increasing), CRM_EEXIST (a source_id already present, or twice in the
 * batch), CRM_EUTF8, CRM_ELIMIT (a value longer than
 * CRM_IDENTITY_MAX_VALUE, more than 1,024 identifiers in one observation),
 * CRM_ENOMEM, CRM_ECALLBACK. On error nothing is added.
 */
CRM_API crm_status crm_identity_add(crm_identity *idn, size_t n_obs,
                                    const int64_t *source_ids,
                                    const int64_t *ats, const size_t *offsets,
                                    const int *kinds,
                                    const char *const *values,
                                    const size_t *lens);

/*
 * crm_identity_observe: records one observation (n identifiers in the
 * columns kinds/values/lens, lens NULL for NUL-terminated values), links it
 * at once, and writes its profile id to *out_profile. Merges are reported
 * through the event callback (CRM_IDENTITY_MERGED, from -> into); when
 * the new observation joins an existing profile under its id, nothing is
 * reported.
 * Errors as crm_identity_add.
 */
CRM_API crm_status crm_identity_observe(crm_identity *idn, int64_t source_id,
                                        int64_t at, size_t n, const int *kinds,
                                        const char *const *values,
                                        const size_t *lens,
                                        int64_t *out_profile);

/*
 * crm_identity_resolve: recomputes every profile in canonical order. The
 * result depends only on the set of observations, kinds, blocked values and
 * limits, never on the order they came in. Sources whose profile changed
 * are reported as CRM_IDENTITY_MOVED, refusals as their events. A value
 * found shared stops merging for the whole replay, which is repeated until
 * no new shared value appears; after the first pass only the parts of the
 * graph that a newly shared value touches are replayed. Observations are
 * renumbered in canonical order; forgotten ones release their memory here.
 * Cost: O(n) time with a radix sort. Memory: without an event callback,
 * about 24 bytes per observation more than the graph holds (the sort;
 * resolve then works in place); with one, about twice the memory the
 * graph holds, so that a refusal can restore it.
 * Errors: CRM_EINVAL, CRM_ENOMEM, CRM_ECALLBACK.
 */
CRM_API crm_status crm_identity_resolve(crm_identity *idn);

/* crm_identity_profile_of: the profile of source_id.
 * Errors: CRM_EINVAL, CRM_ENOTFOUND. */
CRM_API crm_status crm_identity_profile_of(const crm_identity *idn,
                                           int64_t source_id,
                                           int64_t *out_profile);

/*
 * crm_identity_lookup: the profile holding the value raw of kind,
 * normalised like the input. On a graph far bigger than the caches a call
 * mostly waits on two reads of memory, one after the other (the value's
 * map slot, then its bytes); to look up many values, pass them to
 * crm_identity_lookup_many, which overlaps those reads.
 * Errors: CRM_EINVAL (NULL, unknown kind, rejected value), CRM_EUTF8,
 * CRM_ENOTFOUND (no profile holds it, or it is blocked or shared by
 * several profiles).
 * Thread-safety: as the handle (one thread at a time): a failure records
 * its message on the ctx.
 */
CRM_API crm_status crm_identity_lookup(const crm_identity *idn, int kind,
                                       const char *raw, size_t len,
                                       int64_t *out_profile);

/*
 * crm_identity_lookup_many: crm_identity_lookup for n values at once, and
 * several times faster per value on a graph far bigger than the caches:
 * the memory reads of 32 values at a time overlap instead of following
 * one another. Value i is (kinds[i], raws[i], lens[i]); lens NULL means
 * the values are NUL-terminated. out_status[i] receives what
 * crm_identity_lookup would return for value i (CRM_OK, CRM_ENOTFOUND,
 * CRM_EINVAL for a NULL value, an unknown kind or a rejected value,
 * CRM_EUTF8, CRM_ELIMIT) and out_profiles[i] its profile when that is
 * CRM_OK (untouched otherwise). Failures of single values are not
 * recorded on the ctx. The caller owns every array; nothing is kept.
 * Errors: CRM_EINVAL (idn NULL, or kinds, raws, out_profiles or
 * out_status NULL with n > 0).
 * Thread-safety: as crm_identity_lookup.
 */
CRM_API crm_status crm_identity_lookup_many(const crm_identity *idn, size_t n,
                                            const int *kinds,
                                            const char *const *raws,
                                            const size_t *lens,
                                            int64_t *out_profiles,
                                            crm_status *out_status);

/* crm_identity_counts: number of observations and of profiles (either out
 * pointer may be NULL). Errors: CRM_EINVAL (idn NULL). */
CRM_API crm_status crm_identity_counts(const crm_identity *idn,
                                       size_t *out_sources,
                                       size_t *out_profiles);

/*
 * crm_identity_export: writes up to capacity (source_id, profile) pairs,
 * ordered by source_id, into the caller's arrays; *out_n receives the
 * number written. With capacity 0 (arrays may be NULL) *out_n receives the
 * number of sources.
 * Errors: CRM_EINVAL, CRM_ELIMIT (capacity too small; nothing written),
 * CRM_ENOMEM.
 */
CRM_API crm_status crm_identity_export(const crm_identity *idn,
                                       int64_t *source_ids, int64_t *profiles,
                                       size_t capacity, size_t *out_n);

/*
 * crm_identity_profile_values: calls fn(user, kind, value, len) for every
 * normalised value profile holds (the values of all its observations),
 * ordered by kind then value. value is
 * valid only during the call; non-zero from fn stops with CRM_ECALLBACK.
 * Errors: CRM_EINVAL, CRM_ENOTFOUND, CRM_ENOMEM, CRM_ECALLBACK.
 */
CRM_API crm_status crm_identity_profile_values(
    const crm_identity *idn, int64_t profile,
    int (*fn)(void *user, int kind, const char *value, size_t len),
    void *user);

/*
 * crm_identity_forget_source: removes an observation (a deletion request
 * under Japan's APPI or the GDPR). Profiles that held together only
 * through it split; each split is reported as CRM_IDENTITY_SPLIT. The
 * members of the profile are replayed in canonical order without it, and
 * the bytes of values no other observation holds are erased.
 * Cost: O(observations + identifiers) per call.
 * Errors: CRM_EINVAL, CRM_ENOTFOUND, CRM_ENOMEM, CRM_ECALLBACK.
 */
CRM_API crm_status crm_identity_forget_source(crm_identity *idn,
                                              int64_t source_id);

/*
 * crm_identity_forget_value: removes every occurrence of the value raw of
 * kind (normalised like the input), with the same splitting as
 * crm_identity_forget_source. Errors as crm_identity_forget_source, plus
 * CRM_EUTF8.
 */
CRM_API crm_status crm_identity_forget_value(crm_identity *idn, int kind,
                                             const char *raw, size_t len);

/*
 * crm_identity_explain_sources: why sources a and b are in one profile (the
 * chain of links, in order from a to b) or why they are not (the refused
 * links that would have joined them). *out_linked is 1 when a and b share a
 * profile. Each step goes to fn.
 * Errors: CRM_EINVAL, CRM_ENOTFOUND (a source unknown), CRM_ENOMEM,
 * CRM_ECALLBACK.
 */
CRM_API crm_status crm_identity_explain_sources(const crm_identity *idn,
                                                int64_t a, int64_t b,
                                                crm_identity_explain_fn fn,
                                                void *user, int *out_linked);

/*
 * crm_identity_explain_values: as crm_identity_explain_sources, between
 * the sources holding the values (kind_a, raw_a) and (kind_b, raw_b).
 * Errors as crm_identity_explain_sources, plus CRM_EUTF8.
 */
CRM_API crm_status crm_identity_explain_values(
    const crm_identity *idn, int kind_a, const char *raw_a, size_t len_a,
    int kind_b, const char *raw_b, size_t len_b, crm_identity_explain_fn fn,
    void *user, int *out_linked);

/*
 * crm_identity_save: writes the whole graph (kinds, settings, blocked
 * values, observations, profiles) through write(user, data, len) in a
 * versioned, checksummed format.
 * Errors: CRM_EINVAL, CRM_ENOMEM, CRM_ECALLBACK (write returned non-zero).
 */
CRM_API crm_status crm_identity_save(const crm_identity *idn,
                                     crm_identity_write_fn write, void *user);

/*
 * crm_identity_load: reads a graph written by crm_identity_save into a new
 * handle *out (owned by the caller). Truncated or corrupted bytes give
 * CRM_ECORRUPT and never crash.
 * Errors: CRM_EINVAL, CRM_ECORRUPT, CRM_EVERSION (written by a newer
 * format), CRM_ENOMEM, CRM_ECALLBACK (read returned non-zero).
 */
CRM_API crm_status crm_identity_load(crm_ctx *ctx, crm_identity_read_fn read,
                                     void *user, crm_identity **out);

#ifdef __cplusplus
}
#endif

#endif /* CRM_IDENTITY_H */
