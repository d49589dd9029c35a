/*
 * The scenario engine: loaded definitions, policies, and the evaluation of
 * one customer's state against an event or the passing of time.
 */
#include <string.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define RENDER_KEY_SSE2 1
#endif

#include "core/civil.h"
#include "core/mem.h"
#include "scenario/internal.h"

#define RUN_BUDGET (4 * SCN_MAX_STEPS)
#define DEF_TABLE (2 * SCN_MAX_SCENARIOS) /* slots of the (id, version) hash table */
#define DATE_FIRE_WINDOW CRM_SECONDS_PER_DAY

typedef struct scn_name {
    uint32_t hash;
    char *id;
} scn_name;

typedef struct scn_cap {
    int channel; /* -1: every channel */
    uint32_t max_sends;
    int64_t window;
} scn_cap;

typedef struct scn_pending {
    crm_scenario_action action;
    uint64_t key;
} scn_pending;

struct crm_scenario_engine {
    crm_ctx *ctx;
    const crm_segment_schema *schema;
    scn_def **defs; /* sorted by id, then version */
    size_t n_defs, cap_defs;
    uint64_t keys[SCN_MAX_SCENARIOS];     /* def_key of defs[i], kept contiguous for lookups */
    uint16_t def_table[DEF_TABLE];        /* 1 + i for defs[i] at def_home(keys[i]) or the
                                             next free slot after it; 0 = free */
    const scn_def *latest[SCN_MAX_SCENARIOS]; /* each id's highest version */
    uint32_t latest_slot[SCN_MAX_SCENARIOS]; /* defs[i]'s id is named by latest[latest_slot[i]] */
    size_t n_latest;
    scn_name *names; /* every id ever loaded: names ended journeys */
    size_t n_names, cap_names;
    int32_t default_offset;
    int32_t quiet_start, quiet_end; /* seconds after local midnight */
    scn_cap caps[SCN_CHANNEL_COUNT + 1]; /* one per channel and one overall */
    size_t n_caps;
    int64_t longest_window; /* of the caps, 0 when none: older sends are dropped */
    int cap_mode;
    int64_t max_lateness;
    /* the local year of the day an annual date was last placed in, and the
       day numbers of the first of each month of that year and the years
       either side (then 1 January after them): `now` moves slowly from call
       to call, so the calendar arithmetic is rarely redone */
    int64_t year_day, year_of_day;
    int has_year;
    int64_t month_starts[3 * 12 + 1];
    /* scratch of one call */
    scn_state st;
    scn_state before; /* st as decoded: unchanged state is handed back as is */
    scn_journey *slot_journey[SCN_MAX_SCENARIOS]; /* the journey in st of latest[k]'s id,
                                                     NULL if it has none */
    scn_pending *pending;
    size_t n_pending, cap_pending;
    crm_writer out;
};

/* What one call works on. */
typedef struct call {
    crm_scenario_engine *e;
    int64_t customer;
    uint64_t customer_mix; /* crm_mix64(customer): every key and A/B bucket starts with it */
    int32_t offset;
    const crm_segment_record *record;
    const char *event;
    size_t event_len;    /* strlen(event) */
    int64_t now;
    int64_t wake;
    crm_status status;
} call;

/* ---- engine lifecycle and policies ------------------------------------ */

crm_status crm_scenario_engine_new(crm_ctx *ctx, const crm_segment_schema *schema,
                                   crm_scenario_engine **out)
{
    crm_scenario_engine *e;

    if (!ctx || !out)
        return crm_error(ctx, CRM_EINVAL, "crm_scenario_engine_new: NULL argument");
    e = crm_mem_calloc(ctx, 1, sizeof *e);
    if (!e)
        return crm_error_nomem(ctx);
    e->ctx = ctx;
    e->schema = schema;
    crm_writer_init(&e->out, ctx);
    *out = e;
    return CRM_OK;
}

void crm_scenario_engine_free(crm_scenario_engine *e)
{
    size_t i;

    if (!e)
        return;
    for (i = 0; i < e->n_defs; i++)
        scn_def_free(e->ctx, e->defs[i]);
    for (i = 0; i < e->n_names; i++)
        crm_mem_free(e->ctx, e->names[i].id);
    crm_mem_free(e->ctx, e->defs);
    crm_mem_free(e->ctx, e->names);
    crm_mem_free(e->ctx, e->pending);
    crm_writer_free(&e->out);
    crm_mem_free(e->ctx, e);
}

static const char *name_of(const crm_scenario_engine *e, uint32_t hash)
{
    size_t i;

    for (i = 0; i < e->n_names; i++)
        if (e->names[i].hash == hash)
            return e->names[i].id;
    return NULL;
}

/* Position where (id, version) is or would go in the sorted defs. */
static size_t def_position(const crm_scenario_engine *e, const char *id,
                           uint32_t version, int *found)
{
    size_t i;

    *found = 0;
    for (i = 0; i < e->n_defs; i++) {
        int c = strcmp(e->defs[i]->id, id);

        if (c > 0 || (c == 0 && e->defs[i]->version >= version)) {
            *found = c == 0 && e->defs[i]->version == version;
            return i;
        }
    }
    return i;
}

static crm_status check_new_def(crm_scenario_engine *e, const scn_def *def)
{
    const char *known = name_of(e, def->id_hash);
    int found;

    if (known && strcmp(known, def->id) != 0)
        return crm_error(e->ctx, CRM_EEXIST,
                         "scenario: id \"%s\" collides with \"%s\"; rename one", def->id, known);
    def_position(e, def->id, def->version, &found);
    if (found)
        return crm_error(e->ctx, CRM_EEXIST, "scenario: \"%s\" version %u is already loaded",
                         def->id, (unsigned)def->version);
    if (e->n_defs >= SCN_MAX_SCENARIOS)
        return crm_error(e->ctx, CRM_ELIMIT, "scenario: more than %u definitions loaded",
                         SCN_MAX_SCENARIOS);
    return CRM_OK;
}

/* A definition's id hash and version in one value: one comparison finds it. */
static uint64_t def_key(uint32_t id_hash, uint32_t version)
{
    return (uint64_t)id_hash << 32 | version;
}

/* Where the search for a def_key starts in def_table: its high bits, well mixed. */
static size_t def_home(uint64_t key)
{
    return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) % DEF_TABLE;
}

/* Rebuilds keys, latest and def_table from defs after a load or an unload. */
static void index_defs(crm_scenario_engine *e)
{
    size_t i, h;

    e->n_latest = 0;
    memset(e->def_table, 0, sizeof e->def_table);
    for (i = 0; i < e->n_defs; i++) {
        e->keys[i] = def_key(e->defs[i]->id_hash, e->defs[i]->version);
        e->latest_slot[i] = (uint32_t)e->n_latest;
        if (i + 1 == e->n_defs || e->defs[i + 1]->id_hash != e->defs[i]->id_hash)
            e->latest[e->n_latest++] = e->defs[i];
        for (h = def_home(e->keys[i]); e->def_table[h] != 0; h = (h + 1) % DEF_TABLE)
            ;
        e->def_table[h] = (uint16_t)(i + 1);
    }
}

/* Makes room for one more def and one more name; nothing changes on failure. */
static crm_status reserve(crm_scenario_engine *e)
{
    void *defs = e->defs, *names = e->names;

    if (crm_mem_grow(e->ctx, &defs, &e->cap_defs, e->n_defs + 1, sizeof *e->defs) != 0)
        return crm_error_nomem(e->ctx);
    e->defs = defs;
    if (crm_mem_grow(e->ctx, &names, &e->cap_names, e->n_names + 1, sizeof *e->names) != 0)
        return crm_error_nomem(e->ctx);
    e->names = names;
    return CRM_OK;
}

crm_status crm_scenario_engine_load(crm_scenario_engine *e, const char *json, size_t len)
{
    scn_def *def = NULL;
    char *name = NULL;
    size_t pos;
    int found;
    crm_status st;

    if (!e || (!json && len > 0))
        return crm_error(e ? e->ctx : NULL, CRM_EINVAL,
                         "crm_scenario_engine_load: NULL argument");
    st = scn_def_load(e->ctx, e->schema, e->default_offset, json, len, &def);
    if (st == CRM_OK)
        st = check_new_def(e, def);
    if (st == CRM_OK)
        st = reserve(e);
    if (st == CRM_OK && !name_of(e, def->id_hash)) {
        name = crm_mem_strndup(e->ctx, def->id, strlen(def->id));
        if (!name)
            st = crm_error_nomem(e->ctx);
    }
    if (st != CRM_OK) {
        scn_def_free(e->ctx, def);
        return st;
    }
    if (name) {
        e->names[e->n_names].hash = def->id_hash;
        e->names[e->n_names++].id = name;
    }
    pos = def_position(e, def->id, def->version, &found);
    memmove(e->defs + pos + 1, e->defs + pos, (e->n_defs - pos) * sizeof *e->defs);
    e->defs[pos] = def;
    e->n_defs++;
    index_defs(e);
    return CRM_OK;
}

crm_status crm_scenario_engine_unload(crm_scenario_engine *e, const char *id,
                                      uint32_t version)
{
    size_t pos;
    int found;

    if (!e || !id)
        return crm_error(e ? e->ctx : NULL, CRM_EINVAL,
                         "crm_scenario_engine_unload: NULL argument");
    pos = def_position(e, id, version, &found);
    if (!found)
        return crm_error(e->ctx, CRM_ENOTFOUND, "scenario: \"%.128s\" version %u is not loaded",
                         id, (unsigned)version);
    scn_def_free(e->ctx, e->defs[pos]);
    memmove(e->defs + pos, e->defs + pos + 1, (e->n_defs - pos - 1) * sizeof *e->defs);
    e->n_defs--;
    index_defs(e);
    return CRM_OK;
}

size_t crm_scenario_engine_count(const crm_scenario_engine *e)
{
    return e ? e->n_defs : 0;
}

/* Scenario ids loaded (versions of one id count once): the most journeys a state keeps. */
static size_t loaded_ids(const crm_scenario_engine *e)
{
    size_t i, n = 0;

    for (i = 0; i < e->n_defs; i++)
        if (i == 0 || e->defs[i]->id_hash != e->defs[i - 1]->id_hash)
            n++;
    return n;
}

size_t crm_scenario_engine_max_state(const crm_scenario_engine *e)
{
    if (!e)
        return 0;
    return scn_state_max_size(loaded_ids(e), e->n_caps > 0 ? SCN_MAX_SENDS : 0);
}

static int offset_valid(int32_t offset_min)
{
    return offset_min >= -1440 && offset_min <= 1440;
}

crm_status crm_scenario_engine_set_default_offset(crm_scenario_engine *e, int32_t offset_min)
{
    if (!e || !offset_valid(offset_min))
        return crm_error(e ? e->ctx : NULL, CRM_EINVAL,
                         "scenario: offset must be -1440..1440 minutes");
    e->default_offset = offset_min;
    return CRM_OK;
}

crm_status crm_scenario_engine_set_quiet_hours(crm_scenario_engine *e, int32_t start_min,
                                               int32_t end_min)
{
    if (!e || start_min < 0 || start_min > 1439 || end_min < 0 || end_min > 1439)
        return crm_error(e ? e->ctx : NULL, CRM_EINVAL,
                         "scenario: quiet hours must be minutes 0..1439");
    e->quiet_start = start_min * 60;
    e->quiet_end = end_min * 60;
    return CRM_OK;
}

static scn_cap *find_cap(crm_scenario_engine *e, int channel)
{
    size_t i;

    for (i = 0; i < e->n_caps; i++)
        if (e->caps[i].channel == channel)
            return &e->caps[i];
    return NULL;
}

/* Keeps e->longest_window for prune_sends, which runs on every call. */
static void note_longest_window(crm_scenario_engine *e)
{
    size_t k;

    e->longest_window = 0;
    for (k = 0; k < e->n_caps; k++)
        if (e->caps[k].window > e->longest_window)
            e->longest_window = e->caps[k].window;
}

crm_status crm_scenario_engine_set_frequency_cap(crm_scenario_engine *e, const char *channel,
                                                 uint32_t max_sends, int64_t window_seconds)
{
    int code = -1;
    scn_cap *cap;

    if (!e)
        return crm_error(NULL, CRM_EINVAL, "scenario: NULL engine");
    if (channel && (code = scn_channel_from_name(channel, strlen(channel))) < 0)
        return crm_error(e->ctx, CRM_EINVAL, "scenario: unknown channel \"%.32s\"", channel);
    if (window_seconds <= 0 || window_seconds > 366 * CRM_SECONDS_PER_DAY || max_sends > 255)
        return crm_error(e->ctx, CRM_EINVAL,
                         "scenario: a cap needs 0..255 sends and a window of 1 s..366 days");
    cap = find_cap(e, code);
    if (max_sends == 0) {
        if (cap)
            *cap = e->caps[--e->n_caps];
        note_longest_window(e);
        return CRM_OK;
    }
    if (!cap) {
        cap = &e->caps[e->n_caps++];
        cap->channel = code;
    }
    cap->max_sends = max_sends;
    cap->window = window_seconds;
    note_longest_window(e);
    return CRM_OK;
}

crm_status crm_scenario_engine_set_cap_mode(crm_scenario_engine *e, int mode)
{
    if (!e || (mode != CRM_SCENARIO_CAP_SKIP && mode != CRM_SCENARIO_CAP_DEFER))
        return crm_error(e ? e->ctx : NULL, CRM_EINVAL, "scenario: unknown cap mode");
    e->cap_mode = mode;
    return CRM_OK;
}

crm_status crm_scenario_engine_set_max_lateness(crm_scenario_engine *e, int64_t seconds)
{
    if (!e || seconds < 0)
        return crm_error(e ? e->ctx : NULL, CRM_EINVAL, "scenario: lateness must be >= 0");
    e->max_lateness = seconds;
    return CRM_OK;
}

/* ---- reporting ---------------------------------------------------------- */

/*
 * The idempotency key: customer, scenario id and version, step id, entry
 * sequence, due time and action kind, mixed into 64 bits. The id parts are
 * hashed once at load (scn_def.key_hash, scn_step.id_hash).
 */
static uint64_t action_key(const call *c, uint64_t scenario_hash, uint64_t step_hash,
                           uint32_t seq, int64_t due, int kind)
{
    uint64_t h = crm_mix64(scenario_hash ^ c->customer_mix);

    h = crm_mix64(h ^ step_hash);
    h = crm_mix64(h ^ ((uint64_t)seq << 8 | (uint64_t)kind));
    return crm_mix64(h ^ (uint64_t)due);
}

/* Queues an action; sends carry their step's channel, template and params. */
static void report(call *c, int kind, int reason, const char *id, uint32_t version,
                   uint64_t scenario_hash, const scn_step *step, uint32_t seq, int64_t due)
{
    crm_scenario_engine *e = c->e;
    scn_pending *p;
    void *arr = e->pending;
    int is_send = step && step->kind == SCN_SEND && kind <= CRM_SCENARIO_EXPIRED;

    if (c->status != CRM_OK)
        return;
    if (e->n_pending == e->cap_pending &&
        crm_mem_grow(e->ctx, &arr, &e->cap_pending, e->n_pending + 1, sizeof *e->pending)) {
        c->status = crm_error_nomem(e->ctx);
        return;
    }
    e->pending = arr;
    p = &e->pending[e->n_pending++];
    p->action.size = sizeof p->action;
    p->action.kind = kind;
    p->action.reason = reason;
    p->action.customer = c->customer;
    p->action.scenario_id = id;
    p->action.scenario_version = version;
    p->action.step_id = step ? step->id : "";
    p->action.channel = is_send ? step->channel_name : "";
    p->action.template_id = is_send ? step->template_id : "";
    p->action.parameters = is_send ? step->params : "{}";
    p->action.due = due;
    p->action.idempotency_key = NULL;
    p->key = action_key(c, scenario_hash, step ? step->id_hash : 0, seq, due, kind);
}

static void report_step(call *c, int kind, int reason, const scn_def *def,
                        const scn_journey *j, int64_t due)
{
    report(c, kind, reason, def->id, def->version, def->key_hash, &def->steps[j->step], j->seq,
           due);
}

static void end_journey(call *c, scn_journey *j, const scn_def *def, int reason, int64_t at)
{
    report(c, CRM_SCENARIO_ENDED, reason, def->id, def->version, def->key_hash,
           j->step < def->n_steps ? &def->steps[j->step] : NULL, j->seq, at);
    j->flags &= ~(uint32_t)SCN_FLAG_ACTIVE;
    j->step = 0;
}

/* ---- frequency caps ---------------------------------------------------- */

/* 0 when a send on channel at `due` fits every cap, else when room frees. */
static int64_t cap_block(const call *c, int channel, int64_t due)
{
    const crm_scenario_engine *e = c->e;
    const scn_state *st = &e->st;
    int64_t until = 0;
    size_t k, i;

    for (k = 0; k < e->n_caps; k++) {
        const scn_cap *cap = &e->caps[k];
        size_t first = SIZE_MAX, count = 0;

        if (cap->channel >= 0 && cap->channel != channel)
            continue;
        for (i = 0; i < st->n_sends; i++) {
            const scn_send *s = &st->sends[i];

            if (s->time > due - cap->window && s->time <= due &&
                (cap->channel < 0 || (int)s->channel == cap->channel)) {
                if (count == 0)
                    first = i;
                count++;
            }
        }
        if (count >= cap->max_sends) {
            /* The (count - max + 1)-th oldest must leave the window. */
            size_t need = count - cap->max_sends, seen = 0;

            for (i = first; i < st->n_sends; i++) {
                const scn_send *s = &st->sends[i];

                if (cap->channel >= 0 && (int)s->channel != cap->channel)
                    continue;
                if (seen++ == need) {
                    if (s->time + cap->window > until)
                        until = s->time + cap->window;
                    break;
                }
            }
        }
    }
    return until;
}

static void record_send(call *c, int channel, int64_t t)
{
    scn_state *st = &c->e->st;
    size_t i;

    if (c->e->n_caps == 0)
        return;
    if (st->n_sends == SCN_MAX_SENDS) {
        memmove(st->sends, st->sends + 1, (SCN_MAX_SENDS - 1) * sizeof *st->sends);
        st->n_sends--;
    }
    i = st->n_sends;
    while (i > 0 && st->sends[i - 1].time > t) {
        st->sends[i] = st->sends[i - 1];
        i--;
    }
    st->sends[i].time = t;
    st->sends[i].channel = (uint32_t)channel;
    st->n_sends++;
}

/* Drops sends no cap can see any more (all of them when no cap is set). */
static void prune_sends(crm_scenario_engine *e, int64_t now)
{
    scn_state *st = &e->st;
    size_t drop = 0;

    if (e->n_caps == 0)
        drop = st->n_sends;
    while (drop < st->n_sends && st->sends[drop].time <= now - e->longest_window)
        drop++;
    if (drop == 0)
        return;
    memmove(st->sends, st->sends + drop, (st->n_sends - drop) * sizeof *st->sends);
    st->n_sends -= drop;
}

/* ---- running a journey ------------------------------------------------- */

static void go_next(call *c, scn_journey *j, const scn_def *def, uint32_t next, int64_t at)
{
    j->anchor = at;
    if (next == SCN_NONE)
        end_journey(c, j, def, CRM_SCENARIO_REASON_COMPLETED, at);
    else
        j->step = next;
}

/* Returns 1 when the send step is finished, 0 when it now waits. */
static int run_send(call *c, scn_journey *j, const scn_def *def, const scn_step *s)
{
    crm_scenario_engine *e = c->e;
    int64_t due = j->anchor, later;

    if (e->max_lateness > 0 && c->now - due > e->max_lateness) {
        report_step(c, CRM_SCENARIO_EXPIRED, CRM_SCENARIO_REASON_MAX_LATENESS, def, j, due);
        go_next(c, j, def, s->next, due);
        return 1;
    }
    later = scn_quiet_end(due, c->offset, e->quiet_start, e->quiet_end);
    if (later != due) {
        report_step(c, CRM_SCENARIO_DEFERRED, CRM_SCENARIO_REASON_QUIET_HOURS, def, j, later);
        j->anchor = later;
        return 0;
    }
    later = cap_block(c, s->channel, due);
    if (later != 0 && e->cap_mode == CRM_SCENARIO_CAP_SKIP) {
        report_step(c, CRM_SCENARIO_SKIPPED, CRM_SCENARIO_REASON_FREQUENCY_CAP, def, j, due);
        go_next(c, j, def, s->next, due);
        return 1;
    }
    if (later != 0) {
        report_step(c, CRM_SCENARIO_DEFERRED, CRM_SCENARIO_REASON_FREQUENCY_CAP, def, j, later);
        j->anchor = later;
        return 0;
    }
    report_step(c, CRM_SCENARIO_SEND, CRM_SCENARIO_REASON_NONE, def, j, due);
    record_send(c, s->channel, due);
    go_next(c, j, def, s->next, due);
    return 1;
}

static uint32_t split_target(const call *c, const scn_def *def, const scn_step *s)
{
    uint64_t h = crm_mix64(c->customer_mix ^ def->key_hash) ^ s->id_hash;
    uint64_t point = crm_mix64(h) % s->total_weight;
    uint32_t k;
    for (k = 0; k + 1 < s->nvariants && point >= s->weights[k]; k++)
        point -= s->weights[k];
    return s->targets[k];
}

static int rule_true(const call *c, const scn_cond *rule)
{
    return !rule || scn_cond_true(rule, c->record, c->now);
}

/* The time the journey's current step wants to run at. */
static int64_t step_wake(const call *c, const scn_journey *j, const scn_def *def)
{
    const scn_step *s = &def->steps[j->step];

    if (s->kind == SCN_WAIT || s->kind == SCN_WAIT_EVENT)
        return scn_wait_end(&s->wait, j->anchor, c->offset);
    if (s->kind == SCN_SEND)
        return j->anchor;
    return c->now;
}

/*
 * Runs the journey's steps that are due at c->now. A journey left active
 * keeps the time its step wants to run at in j->wake, for journey_wakes:
 * every active journey is run on every call, and last changed here.
 */
static void run_journey(call *c, scn_journey *j, const scn_def *def)
{
    int budget = RUN_BUDGET;

    while ((j->flags & SCN_FLAG_ACTIVE) && budget-- > 0) {
        const scn_step *s = &def->steps[j->step];
        int64_t t = step_wake(c, j, def);

        if (t > c->now) {
            j->wake = t;
            return;
        }
        switch (s->kind) {
        case SCN_SEND:
            if (!run_send(c, j, def, s))
                continue;
            break;
        case SCN_WAIT:
            go_next(c, j, def, s->next, t);
            break;
        case SCN_WAIT_EVENT:
            go_next(c, j, def, s->on_other, t);
            break;
        case SCN_BRANCH:
            j->step = rule_true(c, s->rule) ? s->on_event : s->on_other;
            break;
        case SCN_SPLIT:
            j->step = split_target(c, def, s);
            break;
        default:
            end_journey(c, j, def, CRM_SCENARIO_REASON_EXIT_STEP, j->anchor);
            break;
        }
    }
    if (j->flags & SCN_FLAG_ACTIVE)
        j->wake = step_wake(c, j, def); /* out of budget: due now */
}

/* ---- journeys in the state -------------------------------------------- */

/* The index in defs of (hash, version), SIZE_MAX if not loaded. */
static size_t find_def(const crm_scenario_engine *e, uint32_t hash, uint32_t version)
{
    uint64_t key = def_key(hash, version);
    size_t h;

    for (h = def_home(key); e->def_table[h] != 0; h = (h + 1) % DEF_TABLE)
        if (e->keys[e->def_table[h] - 1] == key)
            return e->def_table[h] - 1u;
    return SIZE_MAX;
}

/* The slot in latest of id `hash`, SCN_NONE if no version of it is loaded. */
static uint32_t id_slot(const crm_scenario_engine *e, uint32_t hash)
{
    size_t i;

    for (i = 0; i < e->n_defs; i++)
        if (e->keys[i] >> 32 == hash)
            return e->latest_slot[i];
    return SCN_NONE;
}

/*
 * A new journey goes at the end, so that the journeys the slots point at
 * stay where they are; sort_new_journeys puts it in its place afterwards.
 */
static scn_journey *add_journey(scn_state *st, uint32_t hash)
{
    scn_journey *j = &st->journeys[st->n_journeys++];

    memset(j, 0, sizeof *j);
    j->id_hash = hash;
    return j;
}

/* Inserts the journeys added after the first `sorted` in id hash order. */
static void sort_new_journeys(scn_state *st, size_t sorted)
{
    size_t i, k;

    for (i = sorted; i < st->n_journeys; i++) {
        scn_journey j = st->journeys[i];

        for (k = i; k > 0 && st->journeys[k - 1].id_hash > j.id_hash; k--)
            st->journeys[k] = st->journeys[k - 1];
        st->journeys[k] = j;
    }
}

/*
 * Journeys on a version no longer loaded end (reported once); records of
 * scenarios no longer loaded at all are dropped. Steps out of range mean
 * the bytes are not what this engine wrote.
 */
static void settle_orphans(call *c)
{
    crm_scenario_engine *e = c->e;
    scn_state *st = &e->st;
    size_t i, kept = 0;

    for (i = 0; i < e->n_latest; i++)
        e->slot_journey[i] = NULL;
    for (i = 0; i < st->n_journeys; i++) {
        scn_journey *j = &st->journeys[i];
        size_t d = find_def(e, j->id_hash, j->version);
        const scn_def *def = d == SIZE_MAX ? NULL : e->defs[d];
        uint32_t slot;

        j->def = def;
        if ((j->flags & SCN_FLAG_ACTIVE) && def && j->step >= def->n_steps) {
            c->status = crm_error(e->ctx, CRM_ECORRUPT, "scenario state: step out of range");
            return;
        }
        if ((j->flags & SCN_FLAG_ACTIVE) && !def) {
            const char *id = name_of(e, j->id_hash);

            report(c, CRM_SCENARIO_ENDED, CRM_SCENARIO_REASON_VERSION_REMOVED, id ? id : "",
                   j->version, j->id_hash, NULL, j->seq, c->now);
            j->flags &= ~(uint32_t)SCN_FLAG_ACTIVE;
        }
        slot = def ? e->latest_slot[d] : id_slot(e, j->id_hash);
        if (slot == SCN_NONE)
            continue;
        if (kept != i)
            st->journeys[kept] = *j;
        e->slot_journey[slot] = &st->journeys[kept++];
    }
    st->n_journeys = kept;
}

/*
 * Whether the call's event is `name` (`len` bytes). Names of other lengths,
 * most of them, are told apart without reading a byte.
 */
static int event_is(const call *c, const char *name, size_t len)
{
    return c->event && c->event_len == len && memcmp(c->event, name, len) == 0;
}

static int is_exit_event(const call *c, const scn_def *def)
{
    size_t i;

    for (i = 0; i < def->n_exit_events; i++)
        if (event_is(c, def->exit_events[i], def->exit_event_lens[i]))
            return 1;
    return 0;
}

/* Due steps, then the event: exit, or resume a wait for it. */
static void run_active(call *c, scn_journey *j)
{
    const scn_def *def = j->def;
    const scn_step *s;

    run_journey(c, j, def);
    if (!c->event || !(j->flags & SCN_FLAG_ACTIVE) || c->status != CRM_OK)
        return;
    if (is_exit_event(c, def)) {
        end_journey(c, j, def, CRM_SCENARIO_REASON_EXIT_EVENT, c->now);
        return;
    }
    s = &def->steps[j->step];
    if (s->kind == SCN_WAIT_EVENT && event_is(c, s->event, s->event_len) &&
        rule_true(c, s->rule)) {
        go_next(c, j, def, s->on_event, c->now);
        run_journey(c, j, def);
    }
}

static int may_enter(const scn_def *def, const scn_journey *j, int64_t at)
{
    if (!j)
        return 1;
    if (j->flags & SCN_FLAG_ACTIVE)
        return 0;
    if (j->seq > 0 && at == j->entered)
        return 0; /* the same trigger delivered twice: one journey */
    if (j->seq == 0 || def->reentry == SCN_REENTRY_ALWAYS)
        return 1;
    if (def->reentry == SCN_REENTRY_ONCE)
        return 0;
    return at - j->entered >= def->cooldown;
}

static void enter(call *c, const scn_def *def, scn_journey *j, int64_t at)
{
    /* The cheap test first: a rule's value changes nothing else. */
    if (!may_enter(def, j, at) || !rule_true(c, def->entry_rule))
        return;
    if (!j)
        j = add_journey(&c->e->st, def->id_hash);
    j->version = def->version;
    j->def = def;
    j->flags |= SCN_FLAG_ACTIVE;
    j->step = 0;
    j->seq++;
    j->entered = at;
    j->anchor = at;
    report(c, CRM_SCENARIO_ENTERED, CRM_SCENARIO_REASON_NONE, def->id, def->version,
           def->key_hash, &def->steps[0], j->seq, at);
    run_journey(c, j, def);
}

/* A one-time date fires once, `date_days` after the date's local day. */
static void once_fires(const call *c, const scn_def *def, int64_t day, int64_t *last,
                       int64_t *next)
{
    int64_t f = crm_local_midnight(day + def->date_days, c->offset) + def->date_at;

    *last = f <= c->now ? f : INT64_MIN;
    *next = f <= c->now ? INT64_MAX : f;
}

/* Fills e->month_starts for the years around e->year_of_day. */
static void place_months(crm_scenario_engine *e)
{
    unsigned k;

    for (k = 0; k < 3 * 12; k++)
        e->month_starts[k] = crm_days_from_civil(e->year_of_day - 1 + k / 12, k % 12 + 1, 1);
    e->month_starts[3 * 12] = crm_days_from_civil(e->year_of_day + 2, 1, 1);
}

/* The year of local day `day`, remembered with its months for the next call. */
static int64_t local_year(crm_scenario_engine *e, int64_t day)
{
    int64_t year;
    unsigned month, mday;

    if (!e->has_year || e->year_day != day) {
        crm_civil_from_days(day, &year, &month, &mday);
        e->year_day = day;
        if (!e->has_year || year != e->year_of_day) {
            e->year_of_day = year;
            place_months(e);
        }
        e->has_year = 1;
    }
    return e->year_of_day;
}

/*
 * The fire time in the month that month_starts[k] starts: on day mday, or the
 * month's last day when the month is shorter (29 February in a common year).
 */
static int64_t fire_in_month(const call *c, const scn_def *def, size_t k, unsigned mday)
{
    const int64_t *starts = c->e->month_starts;
    int64_t day = starts[k] + mday - 1;

    if (day >= starts[k + 1])
        day = starts[k + 1] - 1;
    return crm_local_midnight(day + def->date_days, c->offset) + def->date_at;
}

/* scn_date_fire for year, read from the months placed by local_year when it can. */
static int64_t annual_fire(const call *c, const scn_def *def, int64_t year, unsigned month,
                           unsigned mday)
{
    const crm_scenario_engine *e = c->e;

    if (year < e->year_of_day - 1 || year > e->year_of_day + 1)
        return scn_date_fire(year, month, mday, def->date_days, def->date_at, c->offset);
    return fire_in_month(c, def, (size_t)((year - e->year_of_day + 1) * 12) + month - 1, mday);
}

/*
 * An annual date fires once a year and fire times grow with the year, so
 * the search starts at this year and steps one year at a time. As a rule
 * this year's fire and one neighbour's settle it, both read from the
 * months local_year placed; the steps are for a fire far from the date.
 */
static void annual_fires(call *c, const scn_def *def, int64_t day, int64_t *last,
                         int64_t *next)
{
    int64_t year, y, f, g;
    unsigned month, mday;
    size_t k;

    crm_civil_from_days(day, &year, &month, &mday);
    y = local_year(c->e, crm_local_day(c->now, c->offset));
    k = 12 + month - 1; /* this year's month in month_starts */
    f = fire_in_month(c, def, k, mday);
    g = fire_in_month(c, def, f > c->now ? k - 12 : k + 12, mday);
    if (f > c->now && g <= c->now) {
        *last = g;
        *next = f;
        return;
    }
    if (f <= c->now && g > c->now) {
        *last = f;
        *next = g;
        return;
    }
    *next = INT64_MAX;
    while (f > c->now) {
        *next = f;
        f = annual_fire(c, def, --y, month, mday);
    }
    *last = f;
    while (*next == INT64_MAX) {
        f = annual_fire(c, def, ++y, month, mday);
        if (f > c->now)
            *next = f;
        else
            *last = f;
    }
}

/*
 * The latest fire time of a date trigger at or before now (*last,
 * INT64_MIN if none) and the first after it (*next, INT64_MAX if none).
 * Returns 0 when the record has no such date.
 */
static int date_fires(call *c, const scn_def *def, int64_t *last, int64_t *next)
{
    int64_t t;

    if (!c->record || !scn_record_time(c->record, def->date_attr_index, &t))
        return 0;
    if (def->date_annual)
        annual_fires(c, def, crm_local_day(t, c->offset), last, next);
    else
        once_fires(c, def, crm_local_day(t, c->offset), last, next);
    return 1;
}

static void wake_at(call *c, int64_t t)
{
    if (t < c->wake)
        c->wake = t;
}

/* Entry by the scenario's trigger, for the latest loaded version. */
static void trigger(call *c, const scn_def *def, scn_journey *j)
{
    int64_t last, next;
    int match;

    switch (def->trigger) {
    case SCN_TRIGGER_EVENT:
        if (event_is(c, def->trigger_event, def->trigger_event_len) &&
            may_enter(def, j, c->now) && rule_true(c, def->trigger_rule))
            enter(c, def, j, c->now);
        break;
    case SCN_TRIGGER_SEGMENT:
        match = c->record && rule_true(c, def->trigger_rule);
        if (j && (j->flags & SCN_FLAG_MEMBER)) {
            if (!match)
                j->flags &= ~(uint32_t)SCN_FLAG_MEMBER;
            break;
        }
        if (!match)
            break;
        if (!j)
            j = add_journey(&c->e->st, def->id_hash);
        j->flags |= SCN_FLAG_MEMBER;
        if (j->seq == 0) {
            j->version = def->version;
            j->def = def;
        }
        enter(c, def, j, c->now);
        break;
    default:
        if (!date_fires(c, def, &last, &next))
            break;
        wake_at(c, next);
        if (last != INT64_MIN && c->now - last < DATE_FIRE_WINDOW &&
            !(j && j->seq > 0 && j->entered == last))
            enter(c, def, j, last);
        break;
    }
}

static void journey_wakes(call *c)
{
    const scn_state *st = &c->e->st;
    size_t i;

    for (i = 0; i < st->n_journeys; i++) {
        const scn_journey *j = &st->journeys[i];

        if (j->flags & SCN_FLAG_ACTIVE)
            wake_at(c, j->wake);
    }
}

/*
 * Runs one call over the decoded state in e->st. Once report has failed
 * to allocate, the call runs to its end without adding actions (nothing
 * is tested for it in the loops) and run_call returns the error with
 * nothing handed back.
 */
static void evaluate(call *c)
{
    crm_scenario_engine *e = c->e;
    size_t i, sorted;

    settle_orphans(c);
    if (c->status != CRM_OK)
        return; /* a step out of range: the state is not ours */
    sorted = e->st.n_journeys;
    /* Journeys on an older version run with their id's latest version. */
    for (i = 0; i < e->n_latest; i++) {
        const scn_def *latest = e->latest[i];
        scn_journey *j = e->slot_journey[i];

        if (j && (j->flags & SCN_FLAG_ACTIVE))
            run_active(c, j);
        trigger(c, latest, j);
    }
    sort_new_journeys(&e->st, sorted);
    prune_sends(e, c->now);
    journey_wakes(c);
}

/* ---- the public calls --------------------------------------------------- */

static void snapshot(crm_scenario_engine *e)
{
    const scn_state *st = &e->st;

    e->before.n_journeys = st->n_journeys;
    e->before.n_sends = st->n_sends;
    memcpy(e->before.journeys, st->journeys, st->n_journeys * sizeof *st->journeys);
    memcpy(e->before.sends, st->sends, st->n_sends * sizeof *st->sends);
}

static int journey_equal(const scn_journey *a, const scn_journey *b)
{
    return a->id_hash == b->id_hash && a->version == b->version && a->flags == b->flags &&
           a->step == b->step && a->seq == b->seq && a->entered == b->entered &&
           a->anchor == b->anchor;
}

/* 1 when the call left the decoded state exactly as it was. */
static int unchanged(const crm_scenario_engine *e)
{
    const scn_state *a = &e->st, *b = &e->before;
    size_t i;

    if (a->n_journeys != b->n_journeys || a->n_sends != b->n_sends)
        return 0;
    for (i = 0; i < a->n_journeys; i++)
        if (!journey_equal(&a->journeys[i], &b->journeys[i]))
            return 0;
    for (i = 0; i < a->n_sends; i++)
        if (a->sends[i].time != b->sends[i].time || a->sends[i].channel != b->sends[i].channel)
            return 0;
    return 1;
}

/*
 * The new state bytes: the input itself when nothing changed (empty stays
 * empty), otherwise a fresh encoding in e->out.
 */
static crm_status new_state(crm_scenario_engine *e, const uint8_t *state, size_t state_len,
                            const uint8_t **bytes, size_t *len)
{
    if (unchanged(e)) {
        *bytes = state;
        *len = state_len;
        return CRM_OK;
    }
    e->out.len = 0;
    e->out.failed = 0;
    scn_state_encode(&e->st, &e->out);
    if (e->out.failed)
        return crm_error_nomem(e->ctx);
    *bytes = e->out.data;
    *len = e->out.len;
    return CRM_OK;
}

#ifdef RENDER_KEY_SSE2
/* v with its bytes in reverse order (compilers make this one instruction). */
static uint64_t byte_swap64(uint64_t v)
{
    return v >> 56 | (v >> 40 & 0xFF00) | (v >> 24 & 0xFF0000) | (v >> 8 & 0xFF000000) |
           (v << 8 & UINT64_C(0xFF00000000)) | (v << 24 & UINT64_C(0xFF0000000000)) |
           (v << 40 & UINT64_C(0xFF000000000000)) | v << 56;
}

/*
 * The key as 16 lowercase hex digits, most significant first, in one SSE2
 * register (every x86-64 CPU has it): the key's bytes, most significant
 * first, are split into their high and low nibbles, interleaved, and each
 * nibble becomes '0' + n, plus the gap to 'a' when n > 9. A key goes with
 * every action, and the byte-by-byte table below costs three times as many
 * instructions.
 */
static void render_key(uint64_t key, char out[17])
{
    __m128i bytes = _mm_cvtsi64_si128((long long)byte_swap64(key));
    __m128i low4 = _mm_set1_epi8(0x0F);
    __m128i nibbles = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4),
                                        _mm_and_si128(bytes, low4));
    __m128i letters = _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)),
                                    _mm_set1_epi8('a' - '0' - 10));

    _mm_storeu_si128((__m128i *)(void *)out,
                     _mm_add_epi8(nibbles, _mm_add_epi8(letters, _mm_set1_epi8('0'))));
    out[16] = '\0';
}
#else
/* "00" to "ff": the two hex digits of every byte value. */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f"
    "101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f"
    "303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f"
    "505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f"
    "707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f"
    "909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
    "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/*
 * The 8 hex digits of v, most significant first, written out byte by byte:
 * a loop here, inlined into deliver's loop, is not unrolled by the compiler.
 */
static void render_u32(uint32_t v, char out[8])
{
    memcpy(out, hex_pairs + 2 * (v >> 24), 2);
    memcpy(out + 2, hex_pairs + 2 * (v >> 16 & 255), 2);
    memcpy(out + 4, hex_pairs + 2 * (v >> 8 & 255), 2);
    memcpy(out + 6, hex_pairs + 2 * (v & 255), 2);
}

/* The key as 16 lowercase hex digits, most significant first. */
static void render_key(uint64_t key, char out[17])
{
    render_u32((uint32_t)(key >> 32), out);
    render_u32((uint32_t)key, out + 8);
    out[16] = '\0';
}
#endif

static crm_status deliver(crm_scenario_engine *e, crm_scenario_action_fn cb, void *user)
{
    char key[17];
    size_t i;

    for (i = 0; i < e->n_pending; i++) {
        render_key(e->pending[i].key, key);
        e->pending[i].action.idempotency_key = key;
        if (cb && cb(user, &e->pending[i].action) != 0)
            return crm_error(e->ctx, CRM_ECALLBACK, "scenario: the action callback stopped the call");
    }
    return CRM_OK;
}

static crm_status run_call(call *c, const uint8_t *state, size_t state_len,
                           crm_scenario_action_fn cb, void *user, uint8_t *state_out,
                           size_t state_cap, size_t *state_out_len, int64_t *next_wake)
{
    crm_scenario_engine *e = c->e;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    crm_status st;

    if (c->offset == CRM_SCENARIO_OFFSET_DEFAULT)
        c->offset = e->default_offset;
    else if (!offset_valid(c->offset))
        return crm_error(e->ctx, CRM_EINVAL, "scenario: offset must be -1440..1440 minutes");
    st = scn_state_decode(e->ctx, state, state_len, &e->st);
    if (st != CRM_OK)
        return st;
    snapshot(e);
    e->n_pending = 0;
    c->wake = INT64_MAX;
    c->status = CRM_OK;
    evaluate(c);
    if (c->status != CRM_OK)
        return c->status;
    st = new_state(e, state, state_len, &bytes, &len);
    if (st != CRM_OK)
        return st;
    if (len > state_cap || (!state_out && len > 0)) {
        *state_out_len = len;
        return crm_error(e->ctx, CRM_ELIMIT, "scenario: state needs %zu bytes, buffer has %zu",
                         len, state_cap);
    }
    st = deliver(e, cb, user);
    if (st != CRM_OK)
        return st;
    if (len > 0 && bytes != state_out)
        memmove(state_out, bytes, len);
    *state_out_len = len;
    *next_wake = c->wake;
    return CRM_OK;
}

crm_status crm_scenario_on_event(crm_scenario_engine *engine, int64_t customer,
                                 int32_t offset_min, const uint8_t *state, size_t state_len,
                                 const crm_segment_record *record, const char *event_type,
                                 int64_t now, crm_scenario_action_fn cb, void *user,
                                 uint8_t *state_out, size_t state_cap, size_t *state_out_len,
                                 int64_t *next_wake)
{
    call c;

    if (!engine || !event_type || !state_out_len || !next_wake || (!state && state_len > 0))
        return crm_error(engine ? engine->ctx : NULL, CRM_EINVAL,
                         "crm_scenario_on_event: NULL argument");
    c.e = engine; /* every field is set here or by run_call */
    c.customer = customer;
    c.customer_mix = crm_mix64((uint64_t)customer);
    c.offset = offset_min;
    c.record = record;
    c.event = event_type;
    c.event_len = strlen(event_type);
    c.now = now;
    return run_call(&c, state, state_len, cb, user, state_out, state_cap, state_out_len,
                    next_wake);
}

crm_status crm_scenario_advance(crm_scenario_engine *engine, int64_t customer,
                                int32_t offset_min, const uint8_t *state, size_t state_len,
                                const crm_segment_record *record, int64_t now,
                                crm_scenario_action_fn cb, void *user, uint8_t *state_out,
                                size_t state_cap, size_t *state_out_len, int64_t *next_wake)
{
    call c;

    if (!engine || !state_out_len || !next_wake || (!state && state_len > 0))
        return crm_error(engine ? engine->ctx : NULL, CRM_EINVAL,
                         "crm_scenario_advance: NULL argument");
    c.e = engine; /* every field is set here or by run_call */
    c.customer = customer;
    c.customer_mix = crm_mix64((uint64_t)customer);
    c.offset = offset_min;
    c.record = record;
    c.event = NULL;
    c.event_len = 0;
    c.now = now;
    return run_call(&c, state, state_len, cb, user, state_out, state_cap, state_out_len,
                    next_wake);
}

crm_status crm_scenario_state_check(crm_ctx *ctx, const uint8_t *state, size_t len)
{
    scn_state *st;
    crm_status s;

    if (!state && len > 0)
        return crm_error(ctx, CRM_EINVAL, "crm_scenario_state_check: NULL state");
    st = ctx ? crm_mem_alloc(ctx, sizeof *st) : NULL;
    if (ctx && !st)
        return crm_error_nomem(ctx);
    if (!st)
        return CRM_EINVAL;
    s = scn_state_decode(ctx, state, len, st);
    crm_mem_free(ctx, st);
    return s;
}
