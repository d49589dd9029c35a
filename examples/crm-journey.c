/*
 * crm-journey: every libcrm module in one small program, on a shop's data.
 *
 *   crm-journey DATA_DIR SCENARIO.json...
 *   crm-journey examples/data examples/scenarios/cart_abandonment.json ...
 *
 * DATA_DIR holds three CSV files (examples/data has a small hand-written
 * set):
 *   customers.csv  source_id, registered_at, member_id, email, phone,
 *                  line_id, birthday, prefecture, email_opt_in,
 *                  points_balance, points_expire_at: one row per record the
 *                  shop holds (a member, a guest checkout, a LINE follow),
 *                  identifiers typed every which way.
 *   orders.csv     order_id, source_id, ordered_at, amount (yen): orders
 *                  keyed by the record that placed them.
 *   events.csv     at, source_id, event, cart_total: site events such as
 *                  cart_abandoned.
 *
 * What it does, one module after the other:
 *   1. identity: merges the customer records into profiles (crm/identity.h)
 *      and prints each merge and each refused link.
 *   2. re-keys orders and events from record ids to profile ids.
 *   3. loads the scenarios into an engine over the standard segment schema
 *      plus cart_total (crm/scenario.h, crm/segment.h).
 *   4. simulates 90 days from 2024-06-01 (JST): every night RFM is scored
 *      as of midnight (crm/rfm.h); at 09:00 every customer is advanced, so
 *      that triggers depending on the date fire (a customer turning
 *      dormant); customers are also advanced at the wake-up time the engine
 *      asked for; events and the orders placed during the 90 days go to
 *      crm_scenario_on_event. The customer's segment record is rebuilt
 *      before every call.
 * It prints one line per send (time, customer, scenario/step, channel,
 * template) and per event, and a summary line for every day with a send.
 * The output is the same on every run: time is simulated, never read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <crm.h>

#define OFFSET_MIN 540 /* Japan */
#define SIM_START "2024-06-01T00:00:00+09:00"
#define SIM_DAYS 90
#define MAX_SOURCES 128
#define MAX_ORDERS 1024
#define MAX_EVENTS 1024
#define STATE_CAP 1024
#define FIELD_CAP 128

/* Columns of customers.csv, in file order. */
enum customer_column {
    COL_SOURCE_ID, COL_REGISTERED_AT, COL_MEMBER_ID, COL_EMAIL, COL_PHONE,
    COL_LINE_ID, COL_BIRTHDAY, COL_PREFECTURE, COL_EMAIL_OPT_IN, COL_POINTS,
    COL_POINTS_EXPIRE_AT, CUSTOMER_COLUMNS
};

/* One customer record as the shop holds it. */
typedef struct source {
    char field[CUSTOMER_COLUMNS][FIELD_CAP];
    int64_t id, registered_at;
    int64_t profile; /* after merging */
} source;

/* Something that happens to a customer during the simulation. */
typedef struct event {
    int64_t at, source, profile;
    int64_t cart_total; /* -1: none */
    char type[32];
} event;

/* A profile: the customer the scenarios talk to. */
typedef struct customer {
    int64_t id;
    int r, f, m; /* last night's RFM scores, 0 before the first purchase */
    int64_t cart_total; /* of the last abandoned cart, -1: none */
    uint8_t state[STATE_CAP];
    size_t state_len;
    int64_t wake; /* when the engine wants to be called, INT64_MAX: never */
} customer;

/* Sends of one day (or of the whole run), by channel. */
typedef struct tally {
    unsigned sends, email, line, other;
} tally;

typedef struct journey {
    crm_ctx *ctx;
    source sources[MAX_SOURCES];
    size_t n_sources;
    /* orders as columns, the way crm_rfm_add_orders takes them */
    int64_t order_source[MAX_ORDERS], order_profile[MAX_ORDERS];
    int64_t order_at[MAX_ORDERS], order_amount[MAX_ORDERS];
    size_t n_orders;
    event events[MAX_EVENTS];
    size_t n_events;
    customer customers[MAX_SOURCES];
    size_t n_customers;
    crm_segment_schema *schema;
    crm_segment_record *record;
    uint32_t cart_total_attr;
    crm_scenario_engine *engine;
    tally day, total;
} journey;

/* ---- Errors and small helpers --------------------------------------------- */

static int fail(crm_ctx *ctx, const char *what, crm_status status)
{
    fprintf(stderr, "crm-journey: %s: %s: %s\n", what, crm_strerror(status),
            crm_ctx_errmsg(ctx));
    return 1;
}

/* Formats t as local "YYYY-MM-DD HH:MM" in the shop's offset. */
static const char *local_time(int64_t t, char buf[32])
{
    time_t local = (time_t)(t + OFFSET_MIN * 60);
    const struct tm *tm = gmtime(&local);

    if (!tm || strftime(buf, 32, "%Y-%m-%d %H:%M", tm) == 0)
        snprintf(buf, 32, "%lld", (long long)t);
    return buf;
}

static int parse_time(const char *text, int64_t *out)
{
    return crm_time_parse(text, strlen(text), OFFSET_MIN, out) == CRM_OK ? 0 : -1;
}

static int parse_int(const char *text, int64_t *out)
{
    char *end;
    long long v = strtoll(text, &end, 10);

    if (end == text || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* ---- Reading the CSV files ------------------------------------------------ */

/* Splits a line at commas (no quoting) into at most max fields. */
static size_t split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        fields[n++] = line;
        line = strchr(line, ',');
        if (!line)
            break;
        *line++ = '\0';
    }
    return line ? max + 1 : n; /* max + 1: too many fields */
}

typedef int (*row_fn)(journey *j, char **fields, size_t n);

/* Calls row() for every line after the header; reports the bad line. */
static int read_csv(journey *j, const char *dir, const char *name, size_t columns,
                    row_fn row)
{
    char path[1024], line[2048], *fields[CUSTOMER_COLUMNS];
    unsigned long lineno = 0;
    FILE *in;
    int rc = 0;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    in = fopen(path, "r");
    if (!in) {
        perror(path);
        return 1;
    }
    while (rc == 0 && fgets(line, sizeof line, in)) {
        if (++lineno == 1)
            continue; /* the header */
        if (split_fields(line, fields, columns) != columns || row(j, fields, columns) != 0) {
            fprintf(stderr, "crm-journey: %s:%lu: bad row\n", path, lineno);
            rc = 1;
        }
    }
    fclose(in);
    return rc;
}

static int add_source(journey *j, char **fields, size_t n)
{
    source *s = &j->sources[j->n_sources];
    size_t k;

    if (j->n_sources == MAX_SOURCES)
        return -1;
    for (k = 0; k < n; k++) {
        if (strlen(fields[k]) >= FIELD_CAP)
            return -1;
        strcpy(s->field[k], fields[k]);
    }
    if (parse_int(fields[COL_SOURCE_ID], &s->id) != 0 ||
        parse_time(fields[COL_REGISTERED_AT], &s->registered_at) != 0)
        return -1;
    s->profile = s->id;
    j->n_sources++;
    return 0;
}

static int add_order(journey *j, char **fields, size_t n)
{
    size_t i = j->n_orders;
    int64_t order_id;

    (void)n;
    if (i == MAX_ORDERS || parse_int(fields[0], &order_id) != 0 ||
        parse_int(fields[1], &j->order_source[i]) != 0 ||
        parse_time(fields[2], &j->order_at[i]) != 0 ||
        parse_int(fields[3], &j->order_amount[i]) != 0)
        return -1;
    j->n_orders++;
    return 0;
}

static int add_event(journey *j, const char *type, int64_t at, int64_t source_id,
                     int64_t cart_total)
{
    event *e = &j->events[j->n_events];

    if (j->n_events == MAX_EVENTS || strlen(type) >= sizeof e->type)
        return -1;
    strcpy(e->type, type);
    e->at = at;
    e->source = source_id;
    e->profile = source_id;
    e->cart_total = cart_total;
    j->n_events++;
    return 0;
}

static int add_event_row(journey *j, char **fields, size_t n)
{
    int64_t at, source_id, cart_total = -1;

    (void)n;
    if (parse_time(fields[0], &at) != 0 || parse_int(fields[1], &source_id) != 0 ||
        (fields[3][0] && parse_int(fields[3], &cart_total) != 0))
        return -1;
    return add_event(j, fields[2], at, source_id, cart_total);
}

/* Oldest registration first, then lowest id. */
static int source_compare(const void *pa, const void *pb)
{
    const source *a = pa, *b = pb;

    if (a->registered_at != b->registered_at)
        return a->registered_at < b->registered_at ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

static int load_data(journey *j, const char *dir)
{
    if (read_csv(j, dir, "customers.csv", CUSTOMER_COLUMNS, add_source) != 0 ||
        read_csv(j, dir, "orders.csv", 4, add_order) != 0 ||
        read_csv(j, dir, "events.csv", 4, add_event_row) != 0)
        return 1;
    qsort(j->sources, j->n_sources, sizeof j->sources[0], source_compare);
    return 0;
}

/* ---- 1. Identity: records -> profiles ------------------------------------- */

/* The identifier columns and how they merge, highest priority first. */
static const struct {
    int column;
    const char *name;
    crm_identity_normalizer normalizer;
    unsigned flags;
    uint32_t limit; /* most distinct values one profile may hold */
} identifier_kinds[] = {
    {COL_MEMBER_ID, "member_id", CRM_NORMALIZE_EXACT, 0, 1},
    {COL_LINE_ID, "line_id", CRM_NORMALIZE_EXACT, 0, 1},
    /* a phone outranks an email: households share emails, not phones */
    {COL_PHONE, "phone", CRM_NORMALIZE_PHONE_JP, 0, 3},
    /* Taro.Yamada@gmail.com and taroyamada@GMAIL.com are one mailbox */
    {COL_EMAIL, "email", CRM_NORMALIZE_EMAIL, CRM_NORMALIZE_FOLD_PROVIDER, 5},
};
#define IDENTIFIER_KINDS (sizeof identifier_kinds / sizeof identifier_kinds[0])

/* Prints what the identity graph decides while it links. */
static int print_identity_event(void *user, crm_identity_event what,
                                int64_t profile, int64_t other, int64_t to,
                                int kind, const char *value, size_t len)
{
    const char *kind_name = kind >= 0 && (size_t)kind < IDENTIFIER_KINDS
                                ? identifier_kinds[kind].name : "-";

    (void)user;
    (void)to;
    if (what == CRM_IDENTITY_MERGED)
        printf("identity: record %lld joins profile %lld (%s %.*s)\n",
               (long long)other, (long long)profile, kind_name, (int)len, value);
    else if (what == CRM_IDENTITY_CONFLICT)
        printf("identity: profiles %lld and %lld kept apart despite %s %.*s "
               "(a limit would break)\n", (long long)profile, (long long)other,
               kind_name, (int)len, value);
    else if (what == CRM_IDENTITY_BLOCKED || what == CRM_IDENTITY_REJECTED)
        printf("identity: %s '%.*s' of %lld ignored (%s)\n", kind_name, (int)len,
               value, (long long)profile,
               what == CRM_IDENTITY_BLOCKED ? "placeholder" : "malformed");
    return 0;
}

static int register_kinds(crm_identity *idn, crm_ctx *ctx)
{
    size_t k;

    for (k = 0; k < IDENTIFIER_KINDS; k++) {
        int kind;
        crm_status s = crm_identity_add_kind(idn, identifier_kinds[k].name,
                                             identifier_kinds[k].normalizer,
                                             identifier_kinds[k].flags, 1,
                                             identifier_kinds[k].limit, &kind);
        if (s != CRM_OK)
            return fail(ctx, "crm_identity_add_kind", s);
    }
    return 0;
}

/* Links one record (its non-empty identifiers) into the graph. */
static int observe_source(crm_identity *idn, crm_ctx *ctx, const source *src)
{
    int kinds[IDENTIFIER_KINDS];
    const char *values[IDENTIFIER_KINDS];
    size_t k, n = 0;
    int64_t profile;
    crm_status s;

    for (k = 0; k < IDENTIFIER_KINDS; k++) {
        if (src->field[identifier_kinds[k].column][0]) {
            kinds[n] = (int)k; /* kinds are numbered in registration order */
            values[n++] = src->field[identifier_kinds[k].column];
        }
    }
    s = crm_identity_observe(idn, src->id, src->registered_at, n, kinds, values,
                             NULL, &profile);
    return s == CRM_OK ? 0 : fail(ctx, "crm_identity_observe", s);
}

/* Observes every record in registration order, then reads the profiles. */
static int merge_identities(journey *j)
{
    crm_identity *idn = NULL;
    crm_status s = crm_identity_new(j->ctx, &idn);
    size_t i, profiles = 0;
    int rc = 0;

    if (s != CRM_OK)
        return fail(j->ctx, "crm_identity_new", s);
    rc = register_kinds(idn, j->ctx);
    if (rc == 0 && (s = crm_identity_set_event_callback(idn, print_identity_event,
                                                        NULL)) != CRM_OK)
        rc = fail(j->ctx, "crm_identity_set_event_callback", s);
    for (i = 0; rc == 0 && i < j->n_sources; i++)
        rc = observe_source(idn, j->ctx, &j->sources[i]);
    for (i = 0; rc == 0 && i < j->n_sources; i++) {
        s = crm_identity_profile_of(idn, j->sources[i].id, &j->sources[i].profile);
        if (s != CRM_OK)
            rc = fail(j->ctx, "crm_identity_profile_of", s);
    }
    if (rc == 0 && crm_identity_counts(idn, NULL, &profiles) == CRM_OK)
        printf("identity: %zu records -> %zu profiles\n", j->n_sources, profiles);
    crm_identity_free(idn);
    return rc;
}

/* ---- 2. Re-keying orders and events to profiles --------------------------- */

static int profile_of(const journey *j, int64_t source_id, int64_t *profile)
{
    size_t i;

    for (i = 0; i < j->n_sources; i++) {
        if (j->sources[i].id == source_id) {
            *profile = j->sources[i].profile;
            return 0;
        }
    }
    fprintf(stderr, "crm-journey: unknown source_id %lld\n", (long long)source_id);
    return 1;
}

/* Earliest first; at equal times by profile, then by type. */
static int event_compare(const void *pa, const void *pb)
{
    const event *a = pa, *b = pb;

    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->profile != b->profile)
        return a->profile < b->profile ? -1 : 1;
    return strcmp(a->type, b->type);
}

/*
 * Gives every order and event its profile, turns the orders placed during
 * the simulation into order_placed events, and sorts the events by time.
 */
static int rekey(journey *j, int64_t start)
{
    size_t i;

    for (i = 0; i < j->n_orders; i++) {
        if (profile_of(j, j->order_source[i], &j->order_profile[i]) != 0)
            return 1;
        if (j->order_at[i] >= start &&
            add_event(j, "order_placed", j->order_at[i], j->order_source[i], -1) != 0)
            return 1;
    }
    for (i = 0; i < j->n_events; i++)
        if (profile_of(j, j->events[i].source, &j->events[i].profile) != 0)
            return 1;
    qsort(j->events, j->n_events, sizeof j->events[0], event_compare);
    return 0;
}

/* One customer per distinct profile, in ascending id order. */
static void collect_customers(journey *j)
{
    size_t i, k;

    for (i = 0; i < j->n_sources; i++) {
        int64_t id = j->sources[i].profile;
        for (k = 0; k < j->n_customers && j->customers[k].id < id; k++)
            ;
        if (k < j->n_customers && j->customers[k].id == id)
            continue;
        memmove(&j->customers[k + 1], &j->customers[k],
                (j->n_customers - k) * sizeof j->customers[0]);
        memset(&j->customers[k], 0, sizeof j->customers[0]);
        j->customers[k].id = id;
        j->n_customers++;
    }
}

/* Prints each profile with the records merged into it. */
static void print_profiles(const journey *j)
{
    size_t i, k;

    for (i = 0; i < j->n_customers; i++) {
        printf("  profile %lld:", (long long)j->customers[i].id);
        for (k = 0; k < j->n_sources; k++)
            if (j->sources[k].profile == j->customers[i].id)
                printf(" %lld", (long long)j->sources[k].id);
        printf("\n");
    }
    printf("\n");
}

/* ---- 3. Segment records ---------------------------------------------------- */

/* A profile's value of a column: the first non-empty one of its records. */
static const char *profile_field(const journey *j, int64_t profile, int column)
{
    size_t i;

    for (i = 0; i < j->n_sources; i++)
        if (j->sources[i].profile == profile && j->sources[i].field[column][0])
            return j->sources[i].field[column];
    return NULL;
}

/* "Can't lose" -> "cant_lose": the rfm_group values the rules compare. */
static void group_key(int r, int f, char *key, size_t cap)
{
    const char *name;
    int group;
    size_t n = 0;

    key[0] = '\0';
    if (crm_rfm_map_group(CRM_RFM_MAP_RF11, r, f, &group) != CRM_OK)
        return;
    name = crm_rfm_group_name(CRM_RFM_MAP_RF11, group, CRM_RFM_LANG_EN);
    for (; *name && n + 1 < cap; name++) {
        if (*name == ' ')
            key[n++] = '_';
        else if (*name >= 'A' && *name <= 'Z')
            key[n++] = (char)(*name - 'A' + 'a');
        else if (*name != '\'')
            key[n++] = *name;
    }
    key[n] = '\0';
}

/* Sets a time attribute from a profile's column, when it has one. */
static crm_status set_time_field(const journey *j, int64_t profile, int column,
                                 uint32_t attr)
{
    const char *text = profile_field(j, profile, column);
    int64_t t;

    if (!text)
        return CRM_OK;
    if (parse_time(text, &t) != 0)
        return CRM_EINVAL;
    return crm_segment_record_set_time(j->record, attr, t);
}

static crm_status set_profile_attributes(const journey *j, int64_t profile)
{
    const char *text;
    int64_t v;
    crm_status s = CRM_OK;

    if ((text = profile_field(j, profile, COL_PREFECTURE)))
        s = crm_segment_record_set_string(j->record, CRM_SEGMENT_STD_PREFECTURE,
                                          text, strlen(text));
    if (s == CRM_OK && (text = profile_field(j, profile, COL_EMAIL_OPT_IN)))
        s = crm_segment_record_set_bool(j->record, CRM_SEGMENT_STD_EMAIL_OPT_IN,
                                        strcmp(text, "1") == 0);
    if (s == CRM_OK)
        s = crm_segment_record_set_bool(j->record, CRM_SEGMENT_STD_LINE_LINKED,
                                        profile_field(j, profile, COL_LINE_ID) != NULL);
    if (s == CRM_OK && (text = profile_field(j, profile, COL_POINTS)))
        s = parse_int(text, &v) == 0
                ? crm_segment_record_set_int(j->record, CRM_SEGMENT_STD_POINTS_BALANCE, v)
                : CRM_EINVAL;
    if (s == CRM_OK)
        s = set_time_field(j, profile, COL_POINTS_EXPIRE_AT,
                           CRM_SEGMENT_STD_POINTS_EXPIRE_AT);
    if (s == CRM_OK)
        s = set_time_field(j, profile, COL_BIRTHDAY, CRM_SEGMENT_STD_BIRTHDAY);
    if (s == CRM_OK)
        s = set_time_field(j, profile, COL_REGISTERED_AT, CRM_SEGMENT_STD_CREATED_AT);
    return s;
}

/* Order aggregates of the orders placed up to now (returns lower the total). */
static crm_status set_order_attributes(const journey *j, int64_t profile, int64_t now)
{
    int64_t count = 0, total = 0, first = 0, last = 0;
    crm_status s = CRM_OK;
    size_t i;

    for (i = 0; i < j->n_orders; i++) {
        if (j->order_profile[i] != profile || j->order_at[i] > now)
            continue;
        total += j->order_amount[i];
        if (j->order_amount[i] < 0)
            continue;
        if (count == 0 || j->order_at[i] < first)
            first = j->order_at[i];
        if (count == 0 || j->order_at[i] > last)
            last = j->order_at[i];
        count++;
    }
    s = crm_segment_record_set_int(j->record, CRM_SEGMENT_STD_ORDER_COUNT, count);
    if (s == CRM_OK)
        s = crm_segment_record_set_money(j->record, CRM_SEGMENT_STD_TOTAL_SPENT, total);
    if (s == CRM_OK && count > 0)
        s = crm_segment_record_set_money(j->record, CRM_SEGMENT_STD_AVERAGE_ORDER,
                                         total / count);
    if (s == CRM_OK && count > 0)
        s = crm_segment_record_set_time(j->record, CRM_SEGMENT_STD_FIRST_ORDER_AT, first);
    if (s == CRM_OK && count > 0)
        s = crm_segment_record_set_time(j->record, CRM_SEGMENT_STD_LAST_ORDER_AT, last);
    return s;
}

static crm_status set_rfm_attributes(const journey *j, const customer *c)
{
    char key[64];
    crm_status s;

    if (c->r == 0)
        return CRM_OK; /* no purchase yet: the RFM attributes stay NULL */
    group_key(c->r, c->f, key, sizeof key);
    s = crm_segment_record_set_int(j->record, CRM_SEGMENT_STD_RFM_R, c->r);
    if (s == CRM_OK)
        s = crm_segment_record_set_int(j->record, CRM_SEGMENT_STD_RFM_F, c->f);
    if (s == CRM_OK)
        s = crm_segment_record_set_int(j->record, CRM_SEGMENT_STD_RFM_M, c->m);
    if (s == CRM_OK)
        s = crm_segment_record_set_string(j->record, CRM_SEGMENT_STD_RFM_GROUP, key,
                                          strlen(key));
    return s;
}

/*
 * Rebuilds the one record every engine call reads. Event properties stay on
 * the customer (cart_total), so that later steps of the journey (the
 * cart-abandonment branch a day later) still see them.
 */
static int fill_record(journey *j, const customer *c, int64_t now)
{
    crm_status s;

    crm_segment_record_clear(j->record);
    s = set_profile_attributes(j, c->id);
    if (s == CRM_OK)
        s = set_order_attributes(j, c->id, now);
    if (s == CRM_OK)
        s = set_rfm_attributes(j, c);
    if (s == CRM_OK && c->cart_total >= 0)
        s = crm_segment_record_set_money(j->record, j->cart_total_attr, c->cart_total);
    return s == CRM_OK ? 0 : fail(j->ctx, "customer record", s);
}

/* ---- 4. RFM, every night ---------------------------------------------------- */

static int score_customers(journey *j, const crm_rfm *rfm)
{
    size_t i;

    for (i = 0; i < j->n_customers; i++) {
        customer *c = &j->customers[i];
        crm_status s = crm_rfm_lookup(rfm, c->id, NULL, NULL, NULL, &c->r, &c->f, &c->m);
        if (s == CRM_ENOTFOUND)
            c->r = c->f = c->m = 0;
        else if (s != CRM_OK)
            return fail(j->ctx, "crm_rfm_lookup", s);
    }
    return 0;
}

/* Scores every profile on the orders before as_of (the handle skips later ones). */
static int score_rfm(journey *j, int64_t as_of)
{
    crm_rfm *rfm = NULL;
    crm_status s = crm_rfm_new(j->ctx, &rfm);
    int rc;

    if (s == CRM_OK)
        s = crm_rfm_set_utc_offset(rfm, OFFSET_MIN);
    if (s == CRM_OK)
        s = crm_rfm_set_as_of(rfm, as_of);
    if (s == CRM_OK)
        s = crm_rfm_add_orders(rfm, j->order_profile, j->order_at, j->order_amount,
                               j->n_orders);
    if (s == CRM_OK)
        s = crm_rfm_score(rfm);
    rc = s == CRM_OK ? score_customers(j, rfm) : fail(j->ctx, "rfm", s);
    crm_rfm_free(rfm);
    return rc;
}

static void print_rfm(const journey *j)
{
    char key[64];
    size_t i;

    printf("rfm as of %s:\n", SIM_START);
    for (i = 0; i < j->n_customers; i++) {
        const customer *c = &j->customers[i];
        group_key(c->r, c->f, key, sizeof key);
        printf("  customer %lld  r=%d f=%d m=%d  %s\n", (long long)c->id, c->r, c->f,
               c->m, c->r ? key : "(no purchase yet)");
    }
    printf("\n");
}

/* ---- 5. Scenarios ------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) &&
        fread(text, 1, (size_t)size, f) == (size_t)size) {
        *len = (size_t)size;
    } else {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

static int load_scenario(journey *j, const char *path)
{
    size_t len;
    char *json = read_file(path, &len);
    crm_status s;

    if (!json) {
        perror(path);
        return 1;
    }
    s = crm_scenario_engine_load(j->engine, json, len);
    free(json);
    /* the message names the JSON path, line and column of a bad definition */
    return s == CRM_OK ? 0 : fail(j->ctx, path, s);
}

/* Schema, record and engine: JST, quiet 21:00-09:00, 3 emails a week. */
static int make_engine(journey *j, int n_files, char **files)
{
    crm_status s = crm_segment_schema_new_standard(j->ctx, &j->schema);
    int i;

    if (s == CRM_OK)
        s = crm_segment_schema_add(j->schema, "cart_total", CRM_SEGMENT_MONEY,
                                   &j->cart_total_attr);
    if (s == CRM_OK)
        s = crm_segment_record_new(j->schema, &j->record);
    if (s == CRM_OK)
        s = crm_scenario_engine_new(j->ctx, j->schema, &j->engine);
    if (s == CRM_OK)
        s = crm_scenario_engine_set_default_offset(j->engine, OFFSET_MIN);
    if (s == CRM_OK)
        s = crm_scenario_engine_set_quiet_hours(j->engine, 21 * 60, 9 * 60);
    if (s == CRM_OK)
        s = crm_scenario_engine_set_frequency_cap(j->engine, "email", 3, 7 * 86400);
    if (s != CRM_OK)
        return fail(j->ctx, "engine", s);
    for (i = 0; i < n_files; i++)
        if (load_scenario(j, files[i]) != 0)
            return 1;
    return 0;
}

/* ---- 6. The simulation ---------------------------------------------------- */

static void count_send(tally *t, const char *channel)
{
    t->sends++;
    if (strcmp(channel, "email") == 0)
        t->email++;
    else if (strcmp(channel, "line") == 0)
        t->line++;
    else
        t->other++;
}

/* Prints sends and skipped sends; the other actions are bookkeeping. */
static int on_action(void *user, const crm_scenario_action *a)
{
    journey *j = user;
    char when[32];

    if (a->kind == CRM_SCENARIO_SEND) {
        printf("%s  customer %lld  %s/%s  %s  %s\n", local_time(a->due, when),
               (long long)a->customer, a->scenario_id, a->step_id, a->channel,
               a->template_id);
        count_send(&j->day, a->channel);
        count_send(&j->total, a->channel);
    } else if (a->kind == CRM_SCENARIO_SKIPPED) {
        printf("%s  customer %lld  %s/%s  skipped (frequency cap)\n",
               local_time(a->due, when), (long long)a->customer, a->scenario_id,
               a->step_id);
    }
    return 0;
}

static customer *find_customer(journey *j, int64_t id)
{
    size_t i;

    for (i = 0; i < j->n_customers; i++)
        if (j->customers[i].id == id)
            return &j->customers[i];
    return NULL;
}

/* Calls the engine for c at `now`: advance, or on_event when e is given. */
static int call_engine(journey *j, customer *c, int64_t now, const event *e)
{
    uint8_t out[STATE_CAP];
    size_t out_len;
    int64_t wake;
    crm_status s;

    if (e && e->cart_total >= 0)
        c->cart_total = e->cart_total;
    if (fill_record(j, c, now) != 0)
        return 1;
    if (e)
        s = crm_scenario_on_event(j->engine, c->id, CRM_SCENARIO_OFFSET_DEFAULT,
                                  c->state, c->state_len, j->record, e->type, now,
                                  on_action, j, out, sizeof out, &out_len, &wake);
    else
        s = crm_scenario_advance(j->engine, c->id, CRM_SCENARIO_OFFSET_DEFAULT,
                                 c->state, c->state_len, j->record, now, on_action,
                                 j, out, sizeof out, &out_len, &wake);
    if (s != CRM_OK)
        return fail(j->ctx, e ? "crm_scenario_on_event" : "crm_scenario_advance", s);
    memcpy(c->state, out, out_len); /* the caller keeps the state bytes */
    c->state_len = out_len;
    c->wake = wake;
    return 0;
}

static int deliver_event(journey *j, const event *e)
{
    char when[32];
    customer *c;

    printf("%s  customer %lld  event %s", local_time(e->at, when),
           (long long)e->profile, e->type);
    if (e->cart_total >= 0)
        printf(" cart_total=%lld", (long long)e->cart_total);
    printf("\n");
    c = find_customer(j, e->profile);
    return c ? call_engine(j, c, e->at, e) : 1; /* rekey() gave every event a profile */
}

/* The customer whose wake-up comes first before `end`, or NULL. */
static customer *next_wake(journey *j, int64_t end)
{
    customer *best = NULL;
    size_t i;

    for (i = 0; i < j->n_customers; i++)
        if (j->customers[i].wake < end && (!best || j->customers[i].wake < best->wake))
            best = &j->customers[i];
    return best;
}

static void print_day_summary(const journey *j, int day, int64_t day_start)
{
    char when[32];

    if (j->day.sends == 0)
        return;
    local_time(day_start, when);
    when[10] = '\0';
    printf("-- day %d (%s): %u send%s (email %u, line %u)\n\n", day + 1, when,
           j->day.sends, j->day.sends == 1 ? "" : "s", j->day.email, j->day.line);
}

/*
 * One simulated day: RFM is scored as of midnight, every customer gets a
 * call at 09:00, then wake-ups and events are handled in time order
 * (a wake-up before an event at the same second).
 */
static int simulate_day(journey *j, int day, int64_t start, size_t *next_event)
{
    int64_t day_start = start + (int64_t)day * 86400, end = day_start + 86400;
    size_t i;
    int rc = score_rfm(j, day_start);

    memset(&j->day, 0, sizeof j->day);
    for (i = 0; i < j->n_customers; i++)
        if (j->customers[i].wake > day_start + 9 * 3600)
            j->customers[i].wake = day_start + 9 * 3600;
    while (rc == 0) {
        customer *c = next_wake(j, end);
        const event *e = *next_event < j->n_events ? &j->events[*next_event] : NULL;
        if (e && e->at >= end)
            e = NULL;
        if (c && (!e || c->wake <= e->at))
            rc = call_engine(j, c, c->wake, NULL);
        else if (e)
            rc = deliver_event(j, &j->events[(*next_event)++]);
        else
            break;
    }
    print_day_summary(j, day, day_start);
    return rc;
}

static int simulate(journey *j, int64_t start)
{
    size_t next_event = 0, i;
    int day, rc = 0;

    for (i = 0; i < j->n_customers; i++) {
        j->customers[i].wake = INT64_MAX;
        j->customers[i].cart_total = -1;
    }
    while (next_event < j->n_events && j->events[next_event].at < start)
        next_event++; /* before the simulation: already history */
    for (day = 0; rc == 0 && day < SIM_DAYS; day++)
        rc = simulate_day(j, day, start, &next_event);
    if (rc == 0)
        printf("%d days: %u sends (email %u, line %u)\n", SIM_DAYS, j->total.sends,
               j->total.email, j->total.line);
    return rc;
}

/* ---- main ---------------------------------------------------------------- */

static int run(journey *j, const char *dir, int n_files, char **files)
{
    int64_t start;

    if (parse_time(SIM_START, &start) != 0 || load_data(j, dir) != 0 ||
        merge_identities(j) != 0 || rekey(j, start) != 0)
        return 1;
    collect_customers(j);
    print_profiles(j);
    if (make_engine(j, n_files, files) != 0 || score_rfm(j, start) != 0)
        return 1;
    print_rfm(j);
    return simulate(j, start);
}

int main(int argc, char **argv)
{
    journey *j;
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: crm-journey DATA_DIR SCENARIO.json...\n");
        return 2;
    }
    j = calloc(1, sizeof *j);
    if (!j || crm_ctx_new(&j->ctx) != CRM_OK) {
        fprintf(stderr, "crm-journey: out of memory\n");
        free(j);
        return 1;
    }
    rc = run(j, argv[1], argc - 2, argv + 2);
    crm_scenario_engine_free(j->engine);
    crm_segment_record_free(j->record);
    crm_segment_schema_free(j->schema);
    crm_ctx_free(j->ctx);
    free(j);
    return rc;
}
