/*
 * libcrm: the scenario module. Evaluates marketing journeys (step mails,
 * cart-abandonment reminders, reactivation ...) defined as JSON documents.
 *
 * The engine decides what to send to whom and when; the caller stores the
 * per-customer state bytes and does the sending. A call takes the state the
 * caller kept for one customer, the customer's record, an event or just the
 * current time, and gives back actions (through a callback), the new state
 * bytes and the next time the caller must call crm_scenario_advance() for
 * that customer. No function reads the clock: `now` is always an argument.
 *
 * Same inputs give the same outputs, bit for bit. Every send carries a
 * deterministic idempotency key (16 hex digits) so a sender can drop
 * duplicates when a call is replayed.
 *
 * Thread-safety: a crm_scenario_engine is used by one thread at a time
 * (it keeps scratch buffers). Use one engine per thread, loaded with the
 * same definitions, to evaluate in parallel.
 */
#ifndef CRM_SCENARIO_H
#define CRM_SCENARIO_H

#include "crm/common.h"
#include "crm/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct crm_scenario_engine crm_scenario_engine;

/* What an action reports. Values never change; new ones are appended. */
typedef enum crm_scenario_action_kind {
    CRM_SCENARIO_SEND = 0,          /* send this message now (due time may be past) */
    CRM_SCENARIO_SKIPPED = 1,       /* a send was skipped (reason says why) */
    CRM_SCENARIO_DEFERRED = 2,      /* a send was postponed to `due` */
    CRM_SCENARIO_EXPIRED = 3,       /* an overdue send was dropped (max lateness) */
    CRM_SCENARIO_ENTERED = 4,       /* the customer entered the journey */
    CRM_SCENARIO_ENDED = 5          /* the journey ended (reason says why) */
} crm_scenario_action_kind;

typedef enum crm_scenario_reason {
    CRM_SCENARIO_REASON_NONE = 0,
    CRM_SCENARIO_REASON_QUIET_HOURS = 1,     /* deferred to the end of quiet hours */
    CRM_SCENARIO_REASON_FREQUENCY_CAP = 2,   /* a channel or overall cap was reached */
    CRM_SCENARIO_REASON_MAX_LATENESS = 3,    /* the send was older than the limit */
    CRM_SCENARIO_REASON_EXIT_EVENT = 4,      /* an exit event arrived */
    CRM_SCENARIO_REASON_COMPLETED = 5,       /* the last step ran */
    CRM_SCENARIO_REASON_EXIT_STEP = 6,       /* an exit step ran */
    CRM_SCENARIO_REASON_VERSION_REMOVED = 7  /* the journey's version was unloaded */
} crm_scenario_reason;

/* How a send over a frequency cap is handled. */
typedef enum crm_scenario_cap_mode {
    CRM_SCENARIO_CAP_SKIP = 0,  /* skip the send, report it, go on */
    CRM_SCENARIO_CAP_DEFER = 1  /* wait until the rolling window has room */
} crm_scenario_cap_mode;

/* "No offset known for this customer": the engine's default applies. */
#define CRM_SCENARIO_OFFSET_DEFAULT INT32_MIN

/*
 * An action handed to the caller's callback. Valid only during the call.
 * `size` is sizeof the struct the library filled: the struct only ever
 * grows at the end, so a caller built against an older header reads the
 * fields it knows, and one built against a newer header checks `size`
 * (offsetof(crm_scenario_action, field) < size) before reading a field
 * added later. Strings are NUL-terminated UTF-8; `channel`, `template_id`
 * and `parameters` (a JSON object as text, "{}" when none) are "" for
 * actions other than sends. `idempotency_key` is 16 lowercase hex digits,
 * the same whenever the same journey reaches the same step at the same
 * time.
 */
typedef struct crm_scenario_action {
    size_t size; /* sizeof(crm_scenario_action) of the library that filled it */
    int kind;    /* crm_scenario_action_kind */
    int reason;  /* crm_scenario_reason */
    int64_t customer;
    const char *scenario_id;
    uint32_t scenario_version;
    const char *step_id;
    const char *channel;
    const char *template_id;
    const char *parameters;
    int64_t due; /* Unix seconds: when the send is (or was) due */
    const char *idempotency_key;
} crm_scenario_action;

/* Receives each action in order. Non-zero stops the call (CRM_ECALLBACK). */
typedef int (*crm_scenario_action_fn)(void *user, const crm_scenario_action *action);

/*
 * Creates an engine with no scenario loaded, default UTC offset 0, quiet
 * hours off, no frequency caps and no lateness limit. Rules in definitions
 * are segment rules compiled against `schema` (borrowed: it must outlive
 * the engine; may be NULL when no rule names an attribute). Free with
 * crm_scenario_engine_free(). Errors: CRM_EINVAL (NULL ctx or out),
 * CRM_ENOMEM. Thread-safe with respect to other engines.
 */
CRM_API crm_status crm_scenario_engine_new(crm_ctx *ctx, const crm_segment_schema *schema,
                                           crm_scenario_engine **out);

/* Frees an engine and every definition it holds. Accepts NULL. */
CRM_API void crm_scenario_engine_free(crm_scenario_engine *engine);

/*
 * Loads one scenario definition (JSON text of `len` bytes, schema in
 * README) into the engine. New entries use the highest loaded version of a
 * scenario id; journeys stay on the version they entered with while it is
 * loaded. On failure the engine is unchanged and the ctx holds a message
 * naming the JSON path (e.g. `steps[3].wait.days`), line and column.
 * Errors: CRM_EINVAL (NULL argument), CRM_EPARSE (bad JSON or schema),
 * CRM_EUTF8, CRM_ELIMIT (over 1 MiB, nesting over 64, over 1024 steps or
 * 256 scenarios), CRM_EEXIST (that id and version are already loaded),
 * CRM_ENOMEM.
 */
CRM_API crm_status crm_scenario_engine_load(crm_scenario_engine *engine,
                                            const char *json, size_t len);

/*
 * Unloads version `version` of scenario `id` (NUL-terminated). Journeys on
 * that version end, reported with CRM_SCENARIO_REASON_VERSION_REMOVED the
 * next time their customer's state is processed.
 * Errors: CRM_EINVAL (NULL argument), CRM_ENOTFOUND.
 */
CRM_API crm_status crm_scenario_engine_unload(crm_scenario_engine *engine,
                                              const char *id, uint32_t version);

/* Number of loaded definitions (every version counts). 0 for NULL. */
CRM_API size_t crm_scenario_engine_count(const crm_scenario_engine *engine);

/*
 * The most bytes of state any call on this engine can return with the
 * definitions and frequency caps it has now: given state this library
 * wrote, a state_out buffer of this size never gets CRM_ELIMIT. It is a worst case
 * (every journey and every remembered send with its longest encoding);
 * typical states are far smaller (README gives measured sizes), so use it
 * to size a scratch output buffer once rather than per-customer storage.
 * Loading a definition with a new scenario id or setting the first
 * frequency cap raises it; call it again after changing the engine.
 * Returns 0 for NULL. Never fails and never allocates. Thread-safety: as
 * the engine's other calls (one thread at a time).
 */
CRM_API size_t crm_scenario_engine_max_state(const crm_scenario_engine *engine);

/*
 * Sets the UTC offset (minutes east, -1440..1440) used for customers whose
 * offset is CRM_SCENARIO_OFFSET_DEFAULT. Rules are compiled with the offset
 * in force when their definition is loaded (it places date literals and
 * days_since() days), so set it before loading. Errors: CRM_EINVAL.
 */
CRM_API crm_status crm_scenario_engine_set_default_offset(crm_scenario_engine *engine,
                                                          int32_t offset_min);

/*
 * Sets quiet hours as a local window [start, end) in minutes after local
 * midnight (0..1439); a window may cross midnight (21:00-09:00 is
 * 1260, 540). A send due inside it is deferred to the window's end and
 * later waits count from the real send. start == end turns quiet hours off.
 * Errors: CRM_EINVAL.
 */
CRM_API crm_status crm_scenario_engine_set_quiet_hours(crm_scenario_engine *engine,
                                                       int32_t start_min, int32_t end_min);

/*
 * Caps sends at `max_sends` per rolling `window_seconds` on `channel`
 * (NUL-terminated, e.g. "email"), or over all channels when channel is
 * NULL. Setting a channel's cap again replaces it; max_sends 0 removes it.
 * The window covers the sends of every scenario of the customer.
 * Errors: CRM_EINVAL (NULL engine, unknown channel, window <= 0 or over
 * 366 days, max_sends over 255).
 */
CRM_API crm_status crm_scenario_engine_set_frequency_cap(crm_scenario_engine *engine,
                                                         const char *channel,
                                                         uint32_t max_sends,
                                                         int64_t window_seconds);

/* Chooses what happens to a capped send (crm_scenario_cap_mode). Errors: CRM_EINVAL. */
CRM_API crm_status crm_scenario_engine_set_cap_mode(crm_scenario_engine *engine, int mode);

/*
 * Sets the maximum lateness: a send found more than `seconds` overdue is
 * dropped and reported (CRM_SCENARIO_EXPIRED) instead of sent; the journey
 * goes on. 0 turns the limit off. Errors: CRM_EINVAL (negative).
 */
CRM_API crm_status crm_scenario_engine_set_max_lateness(crm_scenario_engine *engine,
                                                        int64_t seconds);

/*
 * Processes an event for one customer.
 *
 * `state`/`state_len` is what a previous call returned for this customer
 * (len 0 for a new customer). `offset_min` is the customer's UTC offset or
 * CRM_SCENARIO_OFFSET_DEFAULT. `record` is the customer record rules are
 * evaluated on, made from the engine's schema; the caller also puts the
 * event's properties there (e.g. attributes named event.cart_total). It may
 * be NULL: rules naming attributes are then not true. `event_type`
 * (NUL-terminated) names the event. Steps due up to `now` run first, then exit
 * events end journeys, waits for this event resume and triggers enter new
 * journeys (at most one journey per scenario at a time).
 *
 * Actions go to `cb` in order. The new state is written to
 * state_out[0..state_cap) and its length to *state_out_len; *next_wake
 * receives the next time advance must be called (INT64_MAX: never).
 * Nothing is reported to cb unless the state fits. state_out may be the
 * same buffer as state. When the call changes nothing, the new state is the
 * old one byte for byte (an empty state stays empty: a customer in no
 * scenario needs no storage).
 *
 * Errors: CRM_EINVAL (NULL engine, event_type, state_out_len or next_wake;
 * NULL state with len > 0; offset out of range), CRM_ECORRUPT or
 * CRM_EVERSION (state bytes not ours, damaged or from a newer library),
 * CRM_ELIMIT (state_cap too small: *state_out_len receives the size
 * needed, nothing else happens), CRM_ECALLBACK (cb returned non-zero:
 * *state_out_len and *next_wake untouched; the caller keeps its old state),
 * CRM_ENOMEM. Not thread-safe for one engine.
 */
CRM_API crm_status crm_scenario_on_event(crm_scenario_engine *engine, int64_t customer,
                                         int32_t offset_min, const uint8_t *state,
                                         size_t state_len,
                                         const crm_segment_record *record,
                                         const char *event_type, int64_t now, crm_scenario_action_fn cb, void *user,
                                         uint8_t *state_out, size_t state_cap,
                                         size_t *state_out_len, int64_t *next_wake);

/*
 * Runs every step due up to `now` and the triggers that depend on the
 * record or the date (segment entry, birthdays ...) for one customer. A
 * date trigger fires when advance runs within one day after its time (the
 * next wake-up includes it); a segment trigger fires when the record starts
 * matching its rule.
 * Arguments, outputs and errors as crm_scenario_on_event() without an event.
 */
CRM_API crm_status crm_scenario_advance(crm_scenario_engine *engine, int64_t customer,
                                        int32_t offset_min, const uint8_t *state,
                                        size_t state_len,
                                        const crm_segment_record *record, int64_t now,
                                        crm_scenario_action_fn cb, void *user,
                                        uint8_t *state_out, size_t state_cap,
                                        size_t *state_out_len, int64_t *next_wake);

/*
 * Checks that state bytes are well-formed (version, checksum, structure).
 * Errors: CRM_EINVAL (NULL ctx, NULL state with len > 0), CRM_ECORRUPT,
 * CRM_EVERSION, CRM_ENOMEM (it needs about 14 KiB of scratch).
 * Thread-safe for distinct ctx.
 */
CRM_API crm_status crm_scenario_state_check(crm_ctx *ctx, const uint8_t *state, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* CRM_SCENARIO_H */
