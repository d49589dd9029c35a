/*
 * Internal structures of the scenario module: compiled definitions, the
 * decoded per-customer state and the timing helpers.
 */
#ifndef CRM_SCENARIO_INTERNAL_H
#define CRM_SCENARIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/civil.h"
#include "core/ctx.h"
#include "core/hash.h"
#include "crm/scenario.h"
#include "scenario/cond.h"

#define SCN_NONE UINT32_MAX
#define SCN_MAX_STEPS 1024u
#define SCN_MAX_SCENARIOS 256u
#define SCN_MAX_SENDS 256u
#define SCN_MAX_VARIANTS 16u

typedef enum scn_step_kind {
    SCN_SEND = 0,
    SCN_WAIT = 1,
    SCN_WAIT_EVENT = 2,
    SCN_BRANCH = 3,
    SCN_SPLIT = 4,
    SCN_EXIT = 5
} scn_step_kind;

typedef enum scn_wait_kind {
    SCN_WAIT_DURATION = 0, /* a fixed number of seconds */
    SCN_WAIT_DAYS_AT = 1,  /* N calendar days, then a local time of day */
    SCN_WAIT_WEEKDAY_AT = 2 /* until a weekday and a local time of day */
} scn_wait_kind;

typedef enum scn_trigger_kind {
    SCN_TRIGGER_EVENT = 0,
    SCN_TRIGGER_SEGMENT = 1,
    SCN_TRIGGER_DATE = 2
} scn_trigger_kind;

typedef enum scn_reentry {
    SCN_REENTRY_ONCE = 0,
    SCN_REENTRY_COOLDOWN = 1,
    SCN_REENTRY_ALWAYS = 2
} scn_reentry;

/* Channels are a closed set so the state can store them in one byte. */
typedef enum scn_channel {
    SCN_CHANNEL_EMAIL = 0,
    SCN_CHANNEL_LINE = 1,
    SCN_CHANNEL_SMS = 2,
    SCN_CHANNEL_PUSH = 3,
    SCN_CHANNEL_WEBHOOK = 4,
    SCN_CHANNEL_IN_APP = 5,
    SCN_CHANNEL_COUNT = 6
} scn_channel;

typedef struct scn_wait {
    int kind;        /* scn_wait_kind */
    int64_t seconds; /* SCN_WAIT_DURATION */
    int32_t days;    /* SCN_WAIT_DAYS_AT */
    int32_t weekday; /* SCN_WAIT_WEEKDAY_AT: 0 = Monday .. 6 = Sunday */
    int32_t at;      /* seconds after local midnight */
} scn_wait;

typedef struct scn_step {
    const char *id;
    size_t id_len;
    uint64_t id_hash; /* scn_hash64 of the id: feeds idempotency keys */
    int kind;       /* scn_step_kind */
    uint32_t next;  /* following step, SCN_NONE = journey completes */
    /* send */
    int channel;
    const char *channel_name; /* scn_channel_name(channel) */
    const char *template_id;
    const char *params; /* JSON object text */
    /* wait, and the timeout of wait_event */
    scn_wait wait;
    /* wait_event */
    const char *event;
    size_t event_len;   /* strlen(event): compared before the bytes */
    scn_cond *rule;     /* also the branch rule; NULL = true */
    uint32_t on_event;  /* also branch "then" */
    uint32_t on_other;  /* wait_event timeout, branch "else" */
    /* ab_split */
    uint32_t nvariants;
    uint32_t weights[SCN_MAX_VARIANTS];
    uint32_t targets[SCN_MAX_VARIANTS];
    uint32_t total_weight;
} scn_step;

typedef struct scn_def {
    crm_arena arena; /* every string and array below */
    const char *id;
    uint32_t id_hash;
    uint32_t version;
    uint64_t key_hash;         /* scn_hash64 of id and version: feeds keys */
    int trigger;               /* scn_trigger_kind */
    const char *trigger_event; /* SCN_TRIGGER_EVENT */
    size_t trigger_event_len;  /* strlen(trigger_event) */
    scn_cond *trigger_rule;    /* event rule or segment rule; NULL = true */
    const char *date_attr;     /* SCN_TRIGGER_DATE */
    uint32_t date_attr_index;  /* its index in the schema */
    int32_t date_days;         /* days after the date (negative: before) */
    int32_t date_at;           /* seconds after local midnight */
    int date_annual;           /* the date recurs every year (birthday) */
    scn_cond *entry_rule;      /* NULL = true */
    const char **exit_events;
    size_t *exit_event_lens;   /* strlen of each exit event */
    size_t n_exit_events;
    int reentry;               /* scn_reentry */
    int64_t cooldown;          /* seconds, SCN_REENTRY_COOLDOWN */
    scn_step *steps;
    size_t n_steps;
    scn_cond **conds;          /* every compiled rule, for freeing */
    size_t n_conds;
} scn_def;

/* Loads and validates a definition; see crm_scenario_engine_load. */
crm_status scn_def_load(crm_ctx *ctx, const crm_segment_schema *schema,
                        int32_t offset_min, const char *json, size_t len,
                        scn_def **out);
void scn_def_free(crm_ctx *ctx, scn_def *def);

/* Channel name <-> code; -1 for an unknown name. */
int scn_channel_from_name(const char *name, size_t len);
const char *scn_channel_name(int channel);

/* 32-bit FNV-1a of a scenario id: how the state names a scenario. */
uint32_t scn_hash32(const char *s, size_t len);

/* ---- per-customer state ---------------------------------------------- */

#define SCN_STATE_MAGIC 0xC5u
#define SCN_STATE_VERSION 1u

enum { SCN_FLAG_ACTIVE = 1, SCN_FLAG_MEMBER = 2, SCN_FLAG_ALL = 3 };

typedef struct scn_journey {
    uint32_t id_hash;
    uint32_t version;
    uint32_t flags;   /* SCN_FLAG_* */
    uint32_t step;    /* current step index while active */
    uint32_t seq;     /* entries made so far (1 for the first journey) */
    int64_t entered;  /* time of the latest entry */
    int64_t anchor;   /* when the current step started (or is due) */
    const struct scn_def *def; /* the loaded definition of id_hash and version,
                                  NULL if none; set by the engine, not stored */
    int64_t wake;     /* while active, when the current step wants to run;
                         set by the engine's run_journey, not stored */
} scn_journey;

typedef struct scn_send {
    int64_t time;
    uint32_t channel;
} scn_send;

typedef struct scn_state {
    size_t n_journeys;
    scn_journey journeys[SCN_MAX_SCENARIOS];
    size_t n_sends;
    scn_send sends[SCN_MAX_SENDS]; /* ascending time */
} scn_state;

/* Decodes bytes into *st. Errors: CRM_ECORRUPT, CRM_EVERSION (recorded on ctx). */
crm_status scn_state_decode(crm_ctx *ctx, const uint8_t *data, size_t len, scn_state *st);

/*
 * The largest encoding of a state holding at most `journeys` journeys and
 * at most `sends` send records, whatever their values.
 */
size_t scn_state_max_size(size_t journeys, size_t sends);

/* Encodes st into w (which must be empty). Journeys must be sorted by id_hash. */
void scn_state_encode(const scn_state *st, struct crm_writer *w);

/* ---- timing ------------------------------------------------------------ */

/* scn_wait_end of a SCN_WAIT_WEEKDAY_AT wait. */
int64_t scn_weekday_end(const scn_wait *wait, int64_t anchor, int32_t offset_min);

/*
 * When a wait that started at `anchor` ends, in a zone offset_min east of
 * UTC. Inline, as scn_quiet_end: the engine asks on every call.
 */
static inline int64_t scn_wait_end(const scn_wait *wait, int64_t anchor, int32_t offset_min)
{
    int64_t t;

    switch (wait->kind) {
    case SCN_WAIT_DAYS_AT:
        t = crm_local_midnight(crm_local_day(anchor, offset_min) + wait->days, offset_min) +
            wait->at;
        return t < anchor ? anchor : t; /* already past: no wait */
    case SCN_WAIT_WEEKDAY_AT:
        return scn_weekday_end(wait, anchor, offset_min);
    default:
        return anchor + wait->seconds;
    }
}

/*
 * When a send due at t may go out given quiet hours [start, end) in seconds
 * after local midnight (start == end: off): t itself, or the window's end.
 */
static inline int64_t scn_quiet_end(int64_t t, int32_t offset_min, int32_t start, int32_t end)
{
    int64_t s = crm_local_second_of_day(t, offset_min);

    if (start == end)
        return t;
    if (start < end)
        return s >= start && s < end ? t + (end - s) : t;
    if (s >= start)
        return t + (CRM_SECONDS_PER_DAY - s) + end;
    return s < end ? t + (end - s) : t;
}

/*
 * The fire time of a date trigger for the occurrence of (month, day) in
 * local year `year`: that date (29 February becomes 28 February in common
 * years) plus `days`, at `at` seconds after local midnight.
 */
int64_t scn_date_fire(int64_t year, unsigned month, unsigned day, int32_t days,
                      int32_t at, int32_t offset_min);

/* Deterministic 64-bit hashes: idempotency keys and A/B buckets. */
uint64_t scn_hash64(uint64_t h, const void *data, size_t len);


#endif
