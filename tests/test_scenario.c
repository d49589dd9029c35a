/*
 * Check suite for the scenario module (include/crm/scenario.h) and the JSON
 * reader it introduced in src/core/json.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/json.h"
#include "crm/common.h"
#include "crm/scenario.h"
#include "crm/segment.h"
#include "scenario/internal.h"
#include "test_util.h"

/* ---- JSON reader ------------------------------------------------------- */

static crm_status json_parse_str(crm_ctx *ctx, crm_arena *arena, const char *s,
                                 const crm_json **out)
{
    return crm_json_parse(ctx, arena, s, strlen(s), NULL, out);
}

START_TEST(test_json_values)
{
    crm_ctx *ctx = NULL;
    crm_arena arena;
    const crm_json *root = NULL, *v;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_arena_init(&arena, ctx, 0);
    ck_assert_int_eq(json_parse_str(ctx, &arena,
        " {\"a\": [1, -2.5e1, 0.125, true, false, null],\n \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\","
        " \"big\": 12345678901234567890, \"neg\": -9223372036854775808, \"e\": {}} ", &root),
        CRM_OK);
    ck_assert_int_eq(root->type, CRM_JSON_OBJECT);
    ck_assert_uint_eq(root->count, 5);
    v = crm_json_get(root, "a");
    ck_assert_int_eq(v->type, CRM_JSON_ARRAY);
    ck_assert_uint_eq(v->count, 6);
    ck_assert_int_eq(v->items[0]->is_integer, 1);
    ck_assert_int_eq(v->items[0]->integer, 1);
    ck_assert_int_eq(v->items[1]->is_integer, 0);
    ck_assert(v->items[1]->number == -25.0);
    ck_assert(v->items[2]->number == 0.125);
    ck_assert_int_eq(v->items[3]->type, CRM_JSON_TRUE);
    ck_assert_int_eq(v->items[4]->type, CRM_JSON_FALSE);
    ck_assert_int_eq(v->items[5]->type, CRM_JSON_NULL);
    v = crm_json_get(root, "s");
    ck_assert_uint_eq(v->len, 1 + 2 + 4 + 2);
    ck_assert_int_eq(memcmp(v->text, "x\xc3\xa9\xf0\x9f\x98\x80\n\"", v->len), 0);
    ck_assert_uint_eq(v->line, 2);
    ck_assert_uint_eq(v->column, 7);
    v = crm_json_get(root, "big");
    ck_assert_int_eq(v->is_integer, 0);
    ck_assert(v->number > 1.2e19 && v->number < 1.24e19);
    v = crm_json_get(root, "neg");
    ck_assert_int_eq(v->is_integer, 1);
    ck_assert_int_eq(v->integer, INT64_MIN);
    ck_assert_uint_eq(crm_json_get(root, "e")->count, 0);
    ck_assert_ptr_null(crm_json_get(root, "missing"));
    ck_assert_ptr_null(crm_json_get(v, "a"));
    ck_assert_str_eq(crm_json_type_name(CRM_JSON_OBJECT), "object");
    crm_arena_free(&arena);
    crm_ctx_free(ctx);
}
END_TEST

static void expect_json_error(const char *text, size_t len, crm_status status,
                              uint32_t line, uint32_t column)
{
    crm_ctx *ctx = NULL;
    crm_arena arena;
    const crm_json *root = NULL;
    uint32_t l = 0, c = 0;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_arena_init(&arena, ctx, 0);
    ck_assert_msg(crm_json_parse(ctx, &arena, text, len, NULL, &root) == status,
                  "input %s: %s", text, crm_ctx_errmsg(ctx));
    ck_assert_ptr_null(root);
    crm_ctx_errpos(ctx, &l, &c);
    if (line) {
        ck_assert_uint_eq(l, line);
        ck_assert_uint_eq(c, column);
    }
    crm_arena_free(&arena);
    crm_ctx_free(ctx);
}

#define EXPECT_JSON_ERROR(s, st, l, c) expect_json_error(s, sizeof s - 1, st, l, c)

START_TEST(test_json_rejects_malformed)
{
    EXPECT_JSON_ERROR("", CRM_EPARSE, 1, 1);
    EXPECT_JSON_ERROR("{", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("[1,]", CRM_EPARSE, 1, 4);
    EXPECT_JSON_ERROR("{\"a\":1,}", CRM_EPARSE, 1, 8);
    EXPECT_JSON_ERROR("[01]", CRM_EPARSE, 1, 3);
    EXPECT_JSON_ERROR("[1.]", CRM_EPARSE, 1, 4);
    EXPECT_JSON_ERROR("[.5]", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("[+1]", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("[1e]", CRM_EPARSE, 1, 4);
    EXPECT_JSON_ERROR("[tru]", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("{'a':1}", CRM_EPARSE, 1, 2);
    EXPECT_JSON_ERROR("{\"a\" 1}", CRM_EPARSE, 1, 6);
    EXPECT_JSON_ERROR("\"tab\there\"", CRM_EPARSE, 1, 5);
    EXPECT_JSON_ERROR("\"\\x\"", CRM_EPARSE, 1, 3);
    EXPECT_JSON_ERROR("\"\\ud800\"", CRM_EPARSE, 0, 0);
    EXPECT_JSON_ERROR("\"\\udc00\"", CRM_EPARSE, 0, 0);
    EXPECT_JSON_ERROR("\"\\u12g4\"", CRM_EPARSE, 0, 0);
    EXPECT_JSON_ERROR("1 2", CRM_EPARSE, 1, 3);
    EXPECT_JSON_ERROR("{\"a\":1,\"a\":2}", CRM_EPARSE, 1, 12);
    EXPECT_JSON_ERROR("\"\xc3\"", CRM_EUTF8, 1, 2);
    EXPECT_JSON_ERROR("\"\xed\xa0\x80\"", CRM_EUTF8, 1, 2);
    EXPECT_JSON_ERROR("\xef\xbb\xbf{}", CRM_EPARSE, 1, 1);
    EXPECT_JSON_ERROR("[\n  1,\n  x]", CRM_EPARSE, 3, 3);
    EXPECT_JSON_ERROR("[\"\xc3\xa9\xc3\xa9\", ?]", CRM_EPARSE, 1, 8);
    expect_json_error("[\0]", 3, CRM_EPARSE, 1, 2);
}
END_TEST

START_TEST(test_json_limits)
{
    crm_ctx *ctx = NULL;
    crm_arena arena;
    const crm_json *root = NULL;
    crm_json_limits limits = {8, 3};
    char deep[200];

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    crm_arena_init(&arena, ctx, 0);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "[[[1]]]", 7, &limits, &root), CRM_OK);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "[[[[1]]]]", 9, &limits, &root), CRM_ELIMIT);
    limits.max_depth = 0;
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "[1,2,3,4,5]", 11, &limits, &root),
                     CRM_ELIMIT);
    memset(deep, '[', sizeof deep);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, deep, sizeof deep, NULL, &root), CRM_ELIMIT);
    ck_assert_int_eq(crm_json_parse(ctx, NULL, "1", 1, NULL, &root), CRM_EINVAL);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, NULL, 1, NULL, &root), CRM_EINVAL);
    ck_assert_int_eq(crm_json_parse(ctx, &arena, "1", 1, NULL, NULL), CRM_EINVAL);
    crm_arena_free(&arena);
    crm_ctx_free(ctx);
}
END_TEST

typedef struct json_fixture {
    crm_ctx *ctx;
    crm_arena arena;
    const crm_json *root;
} json_fixture;

static void *json_setup(crm_ctx *ctx)
{
    json_fixture *f = calloc(1, sizeof *f);

    f->ctx = ctx;
    crm_arena_init(&f->arena, ctx, 64);
    return f;
}

static crm_status json_run(void *fixture)
{
    json_fixture *f = fixture;
    static const char text[] = "{\"k\": [1, \"two\", {\"x\": null, \"y\": [true]}], \"z\": 3}";

    crm_arena_free(&f->arena);
    return crm_json_parse(f->ctx, &f->arena, text, sizeof text - 1, NULL, &f->root);
}

static void json_verify(void *fixture)
{
    json_fixture *f = fixture;

    ck_assert_uint_eq(crm_json_get(f->root, "k")->count, 3);
}

static void json_teardown(void *fixture)
{
    json_fixture *f = fixture;

    crm_arena_free(&f->arena);
    free(f);
}

START_TEST(test_json_allocation_failures)
{
    test_sweep sweep = {json_setup, json_run, json_verify, json_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 3);
}
END_TEST

/* ---- definitions ------------------------------------------------------ */

typedef struct recorded {
    int kind;
    int reason;
    char step[32];
    char scenario[32];
    uint32_t version;
    char channel[16];
    char params[64];
    int64_t due;
    char key[17];
} recorded;

typedef struct sim {
    crm_ctx *ctx;
    crm_scenario_engine *engine;
    int64_t customer;
    int32_t offset;
    uint8_t state[512];
    size_t state_len;
    int64_t wake;
    recorded actions[64];
    size_t n_actions;
    int stop_after; /* callback returns non-zero at this action (1-based); 0 never */
} sim;

static int collect(void *user, const crm_scenario_action *a)
{
    sim *s = user;
    recorded *r;

    if (s->stop_after && (int)s->n_actions + 1 >= s->stop_after)
        return 1;
    ck_assert_uint_lt(s->n_actions, 64);
    r = &s->actions[s->n_actions++];
    r->kind = a->kind;
    r->reason = a->reason;
    snprintf(r->step, sizeof r->step, "%s", a->step_id);
    snprintf(r->scenario, sizeof r->scenario, "%s", a->scenario_id);
    r->version = a->scenario_version;
    snprintf(r->channel, sizeof r->channel, "%s", a->channel);
    snprintf(r->params, sizeof r->params, "%s", a->parameters);
    r->due = a->due;
    ck_assert_uint_eq(strlen(a->idempotency_key), 16);
    ck_assert_uint_eq(strspn(a->idempotency_key, "0123456789abcdef"), 16);
    memcpy(r->key, a->idempotency_key, 17);
    ck_assert_int_eq(a->customer, s->customer);
    ck_assert_uint_eq(a->size, sizeof *a);
    return 0;
}

static int64_t at(const char *iso)
{
    int64_t t = 0;

    ck_assert_int_eq(crm_time_parse(iso, strlen(iso), 540, &t), CRM_OK);
    return t;
}

static void sim_init(sim *s, const char *const *defs)
{
    memset(s, 0, sizeof *s);
    ck_assert_int_eq(crm_ctx_new(&s->ctx), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_new(s->ctx, NULL, &s->engine), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_set_default_offset(s->engine, 540), CRM_OK);
    for (; defs && *defs; defs++)
        ck_assert_msg(crm_scenario_engine_load(s->engine, *defs, strlen(*defs)) == CRM_OK,
                      "%s", crm_ctx_errmsg(s->ctx));
    s->customer = 42;
    s->offset = CRM_SCENARIO_OFFSET_DEFAULT;
}

static void sim_free(sim *s)
{
    crm_scenario_engine_free(s->engine);
    crm_ctx_free(s->ctx);
}

static void sim_step(sim *s, const char *event, int64_t now)
{
    uint8_t out[512];
    size_t len = 0;
    int64_t wake = 0;
    crm_status st;

    s->n_actions = 0;
    if (event)
        st = crm_scenario_on_event(s->engine, s->customer, s->offset, s->state, s->state_len,
                                   NULL, event, now, collect, s, out, sizeof out, &len, &wake);
    else
        st = crm_scenario_advance(s->engine, s->customer, s->offset, s->state, s->state_len,
                                  NULL, now, collect, s, out, sizeof out, &len, &wake);
    ck_assert_msg(st == CRM_OK, "%s", crm_ctx_errmsg(s->ctx));
    ck_assert_int_eq(crm_scenario_state_check(s->ctx, out, len), CRM_OK);
    memcpy(s->state, out, len);
    s->state_len = len;
    s->wake = wake;
}

/* Counts recorded actions of a kind (and step, when not NULL). */
static size_t count_kind(const sim *s, int kind, const char *step)
{
    size_t i, n = 0;

    for (i = 0; i < s->n_actions; i++)
        if (s->actions[i].kind == kind && (!step || strcmp(s->actions[i].step, step) == 0))
            n++;
    return n;
}

static const recorded *find_action(const sim *s, int kind, const char *step)
{
    size_t i;

    for (i = 0; i < s->n_actions; i++)
        if (s->actions[i].kind == kind && (!step || strcmp(s->actions[i].step, step) == 0))
            return &s->actions[i];
    return NULL;
}

static const char full_def[] =
    "{\"id\": \"full\", \"version\": 1, \"name\": \"every step kind\",\n"
    " \"trigger\": {\"event\": \"signup\", \"rule\": \"true\"},\n"
    " \"entry_rule\": \"true\", \"exit_events\": [\"unsubscribe\"],\n"
    " \"reentry\": {\"cooldown\": {\"days\": 30}},\n"
    " \"steps\": [\n"
    "  {\"id\": \"hello\", \"send\": {\"channel\": \"email\", \"template\": \"welcome\",\n"
    "                           \"params\": {\"coupon\": \"WELCOME10\"}}},\n"
    "  {\"id\": \"pause\", \"wait\": {\"days\": 1, \"at\": \"10:00\"}},\n"
    "  {\"id\": \"split\", \"ab_split\": [{\"weight\": 1, \"next\": \"a\"}, {\"weight\": 1, \"next\": \"b\"}]},\n"
    "  {\"id\": \"a\", \"send\": {\"channel\": \"line\", \"template\": \"a\"}, \"next\": \"buy\"},\n"
    "  {\"id\": \"b\", \"send\": {\"channel\": \"sms\", \"template\": \"b\"}},\n"
    "  {\"id\": \"buy\", \"wait_for_event\": {\"event\": \"order\", \"timeout\": {\"weeks\": 1},\n"
    "                                    \"on_event\": \"thanks\", \"on_timeout\": \"check\"}},\n"
    "  {\"id\": \"check\", \"branch\": {\"rule\": \"false\", \"then\": \"thanks\", \"else\": \"monday\"}},\n"
    "  {\"id\": \"monday\", \"wait\": {\"weekday\": \"monday\", \"at\": \"09:30\"}},\n"
    "  {\"id\": \"nudge\", \"send\": {\"channel\": \"push\", \"template\": \"nudge\"}, \"next\": \"done\"},\n"
    "  {\"id\": \"thanks\", \"send\": {\"channel\": \"email\", \"template\": \"thanks\"}},\n"
    "  {\"id\": \"done\", \"exit\": {}}\n"
    " ]}";

START_TEST(test_definition_loads_every_step_kind)
{
    const char *defs[] = {full_def, NULL};
    sim s;

    sim_init(&s, defs);
    ck_assert_uint_eq(crm_scenario_engine_count(s.engine), 1);
    ck_assert_int_eq(crm_scenario_engine_load(s.engine, full_def, strlen(full_def)), CRM_EEXIST);
    ck_assert_uint_eq(crm_scenario_engine_count(s.engine), 1);
    ck_assert_int_eq(crm_scenario_engine_unload(s.engine, "full", 2), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_scenario_engine_unload(s.engine, "full", 1), CRM_OK);
    ck_assert_uint_eq(crm_scenario_engine_count(s.engine), 0);
    ck_assert_uint_eq(crm_scenario_engine_count(NULL), 0);
    sim_free(&s);
}
END_TEST

typedef struct bad_def {
    const char *json;
    crm_status status;
    const char *message; /* substring of the error message */
    uint32_t line, column;
} bad_def;

#define STEPS_OK "\"steps\": [{\"id\": \"s\", \"exit\": {}}]"
#define HEAD "{\"id\": \"x\", \"version\": 1, \"trigger\": {\"event\": \"e\"}, "

static const bad_def bad_defs[] = {
    {"[]", CRM_EPARSE, "a scenario is a JSON object", 1, 1},
    {"{\"version\": 1, \"trigger\": {\"event\": \"e\"}, " STEPS_OK "}", CRM_EPARSE,
     "id: missing field", 1, 1},
    {"{\"id\": \"x\", \"trigger\": {\"event\": \"e\"}, " STEPS_OK "}", CRM_EPARSE,
     "version: missing field", 1, 1},
    {"{\"id\": \"x\", \"version\": 0, " STEPS_OK "}", CRM_EPARSE, "version: must be", 1, 24},
    {"{\"id\": \"x\", \"version\": 1, " STEPS_OK "}", CRM_EPARSE, "trigger: missing field", 1, 1},
    {"{\"id\": 7, \"version\": 1, " STEPS_OK "}", CRM_EPARSE, "id: expected string", 1, 8},
    {HEAD "\"colour\": 1, " STEPS_OK "}", CRM_EPARSE, "colour: unknown field", 1, 64},
    {HEAD "\"steps\": []}", CRM_EPARSE, "steps: needs at least one step", 1, 63},
    {HEAD "\"steps\": [\n {\"id\": \"a\", \"wait\": {\"days\": -1}}]}", CRM_EPARSE,
     "steps[0].wait.days: must be an integer", 2, 31},
    {HEAD "\"steps\": [{\"id\": \"a\", \"send\": {\"channel\": \"email\", \"template\": \"t\"}},\n"
          " {\"id\": \"b\", \"wait\": {\"days\": 1}},\n {\"id\": \"c\", \"wait\": {\"days\": 1.5}},\n"
          " {\"id\": \"d\", \"wait\": {\"hours\": 1}}]}",
     CRM_EPARSE, "steps[2].wait.days", 3, 31},
    {HEAD "\"steps\": [{\"id\": \"a\", \"send\": {\"channel\": \"fax\", \"template\": \"t\"}}]}",
     CRM_EPARSE, "steps[0].send.channel: unknown channel", 1, 96},
    {HEAD "\"steps\": [{\"id\": \"a\", \"send\": {\"channel\": \"email\"}}]}", CRM_EPARSE,
     "steps[0].send.template: missing field", 1, 84},
    {HEAD "\"steps\": [{\"id\": \"a\", \"wait\": {\"hours\": 1}, \"next\": \"zz\"}]}", CRM_EPARSE,
     "steps[0].next: unknown step id", 1, 106},
    {HEAD "\"steps\": [{\"id\": \"a\", \"exit\": {}}, {\"id\": \"a\", \"exit\": {}}]}", CRM_EPARSE,
     "steps[1]: duplicate step id", 1, 96},
    {HEAD "\"steps\": [{\"id\": \"a\", \"exit\": {}}, {\"id\": \"b\", \"exit\": {}}]}", CRM_EPARSE,
     "steps[1]: unreachable step", 1, 89},
    {HEAD "\"steps\": [{\"id\": \"a\", \"send\": {\"channel\": \"email\", \"template\": \"t\"}},\n"
          " {\"id\": \"b\", \"branch\": {\"rule\": \"true\", \"then\": \"a\", \"else\": \"c\"}},\n"
          " {\"id\": \"c\", \"exit\": {}}]}",
     CRM_EPARSE, "cycle without a wait", 0, 0},
    {HEAD "\"steps\": [{\"id\": \"a\", \"wait\": {}}]}", CRM_EPARSE,
     "steps[0].wait: needs one of", 1, 84},
    {HEAD "\"steps\": [{\"id\": \"a\", \"wait\": {\"days\": 1, \"at\": \"24:00\"}}]}", CRM_EPARSE,
     "steps[0].wait.at: must be a local time", 0, 0},
    {HEAD "\"steps\": [{\"id\": \"a\", \"wait\": {\"weekday\": \"someday\", \"at\": \"10:00\"}}]}",
     CRM_EPARSE, "steps[0].wait.weekday", 0, 0},
    {HEAD "\"steps\": [{\"id\": \"a\", \"wait\": {\"hours\": 2, \"at\": \"10:00\"}}]}", CRM_EPARSE,
     "a wait with \"at\" takes only days", 0, 0},
    {HEAD "\"steps\": [{\"id\": \"a\", \"exit\": {}, \"wait\": {\"hours\": 1}}]}", CRM_EPARSE,
     "a step has exactly one kind", 0, 0},
    {HEAD "\"steps\": [{\"id\": \"a\", \"ab_split\": [{\"weight\": 1, \"next\": \"a\"}]}]}",
     CRM_EPARSE, "steps[0].ab_split: needs 2..16 variants", 0, 0},
    {HEAD "\"steps\": [{\"id\": \"a\", \"branch\": {\"then\": \"a\", \"else\": \"a\"}}]}",
     CRM_EPARSE, "steps[0].branch.rule: missing field", 0, 0},
    {HEAD "\"reentry\": \"sometimes\", " STEPS_OK "}", CRM_EPARSE, "reentry: expected", 0, 0},
    {"{\"id\": \"x\", \"version\": 1, \"trigger\": {\"event\": \"e\", \"segment\": \"true\"}, "
     STEPS_OK "}", CRM_EPARSE, "trigger: needs exactly one of", 0, 0},
    {"{\"id\": \"x\", \"version\": 1, \"trigger\": {\"date\": {\"attribute\": \"birthday\"}}, "
     STEPS_OK "}", CRM_EPARSE, "trigger.date.at: missing field", 0, 0},
    {HEAD "\"exit_events\": [\"\"], " STEPS_OK "}", CRM_EPARSE, "exit_events[0]", 0, 0},
    {"{\"id\": \"x\", \"id\": \"y\"}", CRM_EPARSE, "duplicate key", 1, 19},
    {"{\"id\": \"\xff\"}", CRM_EUTF8, "invalid UTF-8", 1, 9},
};

START_TEST(test_definition_errors_name_path_and_position)
{
    const bad_def *b = &bad_defs[_i];
    sim s;
    uint32_t line = 0, column = 0;
    crm_status st;

    sim_init(&s, NULL);
    st = crm_scenario_engine_load(s.engine, b->json, strlen(b->json));
    ck_assert_msg(st == b->status, "case %d: status %d, %s", _i, st, crm_ctx_errmsg(s.ctx));
    ck_assert_msg(strstr(crm_ctx_errmsg(s.ctx), b->message) != NULL, "case %d: %s", _i,
                  crm_ctx_errmsg(s.ctx));
    crm_ctx_errpos(s.ctx, &line, &column);
    if (b->line) {
        ck_assert_msg(line == b->line && column == b->column, "case %d: %u:%u", _i, line,
                      column);
    }
    ck_assert_uint_eq(crm_scenario_engine_count(s.engine), 0);
    sim_free(&s);
}
END_TEST

START_TEST(test_engine_bad_arguments)
{
    sim s;
    uint8_t out[64];
    size_t len = 99;
    int64_t wake = 5;
    static const uint8_t junk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    sim_init(&s, NULL);
    ck_assert_int_eq(crm_scenario_engine_new(NULL, NULL, &s.engine), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_new(s.ctx, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_load(NULL, "{}", 2), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_load(s.engine, NULL, 2), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_unload(s.engine, NULL, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_default_offset(s.engine, 1441), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_default_offset(NULL, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_quiet_hours(s.engine, -1, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_quiet_hours(s.engine, 0, 1440), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, "fax", 1, 60), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, NULL, 1, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, NULL, 256, 60), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_cap_mode(s.engine, 7), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_engine_set_max_lateness(s.engine, -1), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_on_event(NULL, 1, 0, NULL, 0, NULL, "e", 0, NULL, NULL, out,
                                           sizeof out, &len, &wake), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_on_event(s.engine, 1, 0, NULL, 0, NULL, NULL, 0, NULL, NULL,
                                           out, sizeof out, &len, &wake), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_on_event(s.engine, 1, 0, NULL, 3, NULL, "e", 0, NULL, NULL,
                                           out, sizeof out, &len, &wake), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_advance(s.engine, 1, 2000, NULL, 0, NULL, 0, NULL, NULL, out,
                                          sizeof out, &len, &wake), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_advance(s.engine, 1, 0, NULL, 0, NULL, 0, NULL, NULL, out,
                                          sizeof out, NULL, &wake), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_advance(s.engine, 1, 0, junk, sizeof junk, NULL, 0, NULL,
                                          NULL, out, sizeof out, &len, &wake), CRM_ECORRUPT);
    ck_assert_uint_eq(len, 99);
    ck_assert_int_eq(wake, 5);
    ck_assert_int_eq(crm_scenario_state_check(s.ctx, NULL, 1), CRM_EINVAL);
    ck_assert_int_eq(crm_scenario_state_check(s.ctx, NULL, 0), CRM_OK);
    crm_scenario_engine_free(NULL);
    sim_free(&s);
}
END_TEST

/* ---- engine: timing edge cases ------------------------------------------- */

#define DEF(id, reentry, steps)                                                         \
    "{\"id\": \"" id "\", \"version\": 1, \"trigger\": {\"event\": \"go\"},"           \
    " \"exit_events\": [\"stop\"], \"reentry\": " reentry ", \"steps\": [" steps "]}"
#define SEND(id, ch) "{\"id\": \"" id "\", \"send\": {\"channel\": \"" ch "\", \"template\": \"" id "\"}}"
#define WAIT(id, body) "{\"id\": \"" id "\", \"wait\": " body "}"
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)

static void sim_one(sim *s, const char *def)
{
    const char *defs[] = {def, NULL};

    sim_init(s, defs);
}

START_TEST(test_wait_1_day_until_1500_from_1400_is_25h)
{
    sim s;
    int64_t t0 = at("2024-01-15T14:00");

    sim_one(&s, DEF("w", "\"always\"", WAIT("w", "{\"days\": 1, \"at\": \"15:00\"}") ","
                                       SEND("mail", "email")));
    sim_step(&s, "go", t0);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_ENTERED, NULL), 1);
    ck_assert_int_eq(s.wake - t0, 25 * HOUR);
    sim_step(&s, NULL, s.wake - 1);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, NULL), 0);
    sim_step(&s, NULL, t0 + 25 * HOUR);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "mail")->due, t0 + 25 * HOUR);
    sim_free(&s);
}
END_TEST

START_TEST(test_wait_1_day_until_1500_from_1600_is_23h)
{
    sim s;
    int64_t t0 = at("2024-01-15T16:00");

    sim_one(&s, DEF("w", "\"always\"", WAIT("w", "{\"days\": 1, \"at\": \"15:00\"}") ","
                                       SEND("mail", "email")));
    sim_step(&s, "go", t0);
    ck_assert_int_eq(s.wake - t0, 23 * HOUR);
    sim_free(&s);
}
END_TEST

START_TEST(test_wait_until_already_past)
{
    sim s;
    int64_t t0 = at("2024-01-15T11:00"); /* a Monday */

    sim_one(&s, DEF("w", "\"always\"", WAIT("today", "{\"days\": 0, \"at\": \"10:00\"}") ","
                                       SEND("mail", "email") ","
                                       WAIT("monday", "{\"weekday\": \"monday\", \"at\": \"10:00\"}") ","
                                       SEND("later", "email")));
    sim_step(&s, "go", t0);
    /* 10:00 today has passed: no wait at all. */
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "mail")->due, t0);
    /* Monday 10:00 has passed too: the next Monday. */
    ck_assert_int_eq(s.wake, at("2024-01-22T10:00"));
    sim_free(&s);
}
END_TEST

START_TEST(test_delay_as_the_last_step)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");

    sim_one(&s, DEF("w", "\"always\"", SEND("mail", "email") "," WAIT("tail", "{\"days\": 2}")));
    sim_step(&s, "go", t0);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "mail"), 1);
    ck_assert_int_eq(s.wake, t0 + 2 * DAY);
    sim_step(&s, NULL, t0 + 2 * DAY);
    ck_assert_uint_eq(s.n_actions, 1);
    ck_assert_int_eq(s.actions[0].kind, CRM_SCENARIO_ENDED);
    ck_assert_int_eq(s.actions[0].reason, CRM_SCENARIO_REASON_COMPLETED);
    ck_assert_int_eq(s.wake, INT64_MAX);
    sim_free(&s);
}
END_TEST

START_TEST(test_exit_event_during_30_day_wait)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");

    sim_one(&s, DEF("w", "\"always\"", SEND("a", "email") "," WAIT("long", "{\"days\": 30}") ","
                                       SEND("b", "email")));
    sim_step(&s, "go", t0);
    ck_assert_int_eq(s.wake, t0 + 30 * DAY);
    sim_step(&s, "stop", t0 + 10 * DAY);
    ck_assert_uint_eq(s.n_actions, 1);
    ck_assert_int_eq(s.actions[0].kind, CRM_SCENARIO_ENDED);
    ck_assert_int_eq(s.actions[0].reason, CRM_SCENARIO_REASON_EXIT_EVENT);
    ck_assert_int_eq(s.actions[0].due, t0 + 10 * DAY);
    ck_assert_int_eq(s.wake, INT64_MAX);
    sim_step(&s, NULL, t0 + 31 * DAY);
    ck_assert_uint_eq(s.n_actions, 0);
    sim_free(&s);
}
END_TEST

START_TEST(test_quiet_hours_deferral_pushes_later_steps)
{
    sim s;
    int64_t t0 = at("2024-01-15T20:00");

    sim_one(&s, DEF("q", "\"always\"", WAIT("w1", "{\"hours\": 2}") "," SEND("a", "email") ","
                                       WAIT("w2", "{\"hours\": 1}") "," SEND("b", "line")));
    ck_assert_int_eq(crm_scenario_engine_set_quiet_hours(s.engine, 21 * 60, 9 * 60), CRM_OK);
    sim_step(&s, "go", t0);
    ck_assert_int_eq(s.wake, t0 + 2 * HOUR);
    sim_step(&s, NULL, t0 + 2 * HOUR);
    ck_assert_uint_eq(s.n_actions, 1);
    ck_assert_int_eq(s.actions[0].kind, CRM_SCENARIO_DEFERRED);
    ck_assert_int_eq(s.actions[0].reason, CRM_SCENARIO_REASON_QUIET_HOURS);
    ck_assert_int_eq(s.actions[0].due, at("2024-01-16T09:00"));
    ck_assert_int_eq(s.wake, at("2024-01-16T09:00"));
    sim_step(&s, NULL, at("2024-01-16T09:00"));
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "a")->due, at("2024-01-16T09:00"));
    /* The next wait counts from the real send. */
    ck_assert_int_eq(s.wake, at("2024-01-16T10:00"));
    sim_step(&s, NULL, s.wake);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "b")->due, at("2024-01-16T10:00"));
    sim_free(&s);
}
END_TEST

START_TEST(test_quiet_window_start_equals_end_is_off)
{
    sim s;
    int64_t t0 = at("2024-01-15T23:30");

    sim_one(&s, DEF("q", "\"always\"", SEND("a", "email")));
    ck_assert_int_eq(crm_scenario_engine_set_quiet_hours(s.engine, 600, 600), CRM_OK);
    sim_step(&s, "go", t0);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "a")->due, t0);
    sim_free(&s);
}
END_TEST

START_TEST(test_capped_send_skipped_or_deferred)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    const char *def = DEF("c", "\"always\"", SEND("a", "email") "," WAIT("w", "{\"hours\": 1}") ","
                                             SEND("b", "email") "," SEND("c", "sms"));

    sim_one(&s, def);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, "email", 1, DAY), CRM_OK);
    sim_step(&s, "go", t0);
    sim_step(&s, NULL, t0 + HOUR);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SKIPPED, "b")->reason,
                     CRM_SCENARIO_REASON_FREQUENCY_CAP);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "c"), 1);
    sim_free(&s);

    sim_one(&s, def);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, "email", 1, DAY), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_set_cap_mode(s.engine, CRM_SCENARIO_CAP_DEFER), CRM_OK);
    sim_step(&s, "go", t0);
    sim_step(&s, NULL, t0 + HOUR);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_DEFERRED, "b")->due, t0 + DAY);
    ck_assert_int_eq(s.wake, t0 + DAY);
    sim_step(&s, NULL, t0 + DAY);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "b"), 1);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "c"), 1);
    /* An overall cap counts every channel; removing it lifts it. */
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, NULL, 2, DAY), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, NULL, 0, DAY), CRM_OK);
    sim_free(&s);
}
END_TEST

START_TEST(test_trigger_while_already_in_journey)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");

    sim_one(&s, DEF("t", "\"always\"", SEND("a", "email") "," WAIT("w", "{\"days\": 3}") ","
                                       SEND("b", "email")));
    sim_step(&s, "go", t0);
    sim_step(&s, "go", t0 + HOUR);
    ck_assert_uint_eq(s.n_actions, 0);
    ck_assert_int_eq(s.wake, t0 + 3 * DAY);
    sim_free(&s);
}
END_TEST

START_TEST(test_same_event_delivered_twice)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    uint8_t before[512];
    size_t before_len;
    recorded first;

    sim_one(&s, DEF("t", "\"always\"", SEND("a", "email") "," WAIT("w", "{\"days\": 3}")));
    memcpy(before, s.state, s.state_len);
    before_len = s.state_len;
    sim_step(&s, "go", t0);
    first = *find_action(&s, CRM_SCENARIO_SEND, "a");
    /* Keys stay the same from one build and platform to the next: callers
     * drop duplicates by them. */
    ck_assert_str_eq(first.key, "9da51f1ea1bc9eec");
    /* Replaying the call from the same state gives the same key and state. */
    {
        uint8_t after[512];
        size_t after_len = s.state_len;

        memcpy(after, s.state, s.state_len);
        memcpy(s.state, before, before_len);
        s.state_len = before_len;
        sim_step(&s, "go", t0);
        ck_assert_str_eq(find_action(&s, CRM_SCENARIO_SEND, "a")->key, first.key);
        ck_assert_uint_eq(s.state_len, after_len);
        ck_assert_int_eq(memcmp(s.state, after, after_len), 0);
    }
    /* Delivering it again on the new state sends nothing more. */
    sim_step(&s, "go", t0);
    ck_assert_uint_eq(s.n_actions, 0);
    sim_free(&s);
    /* Even when the journey already completed and re-entry is "always". */
    sim_one(&s, DEF("t", "\"always\"", SEND("a", "email")));
    sim_step(&s, "go", t0);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "a"), 1);
    sim_step(&s, "go", t0);
    ck_assert_uint_eq(s.n_actions, 0);
    sim_free(&s);
}
END_TEST

START_TEST(test_advance_called_3_days_late)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    const char *def = DEF("late", "\"always\"",
        SEND("a", "email") "," WAIT("w1", "{\"days\": 1}") "," SEND("b", "email") ","
        WAIT("w2", "{\"days\": 1}") "," SEND("c", "email") "," WAIT("w3", "{\"days\": 1}") ","
        SEND("d", "email"));

    sim_one(&s, def);
    sim_step(&s, "go", t0);
    sim_step(&s, NULL, t0 + 4 * DAY);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "b")->due, t0 + DAY);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "d")->due, t0 + 3 * DAY);
    sim_free(&s);

    sim_one(&s, def);
    ck_assert_int_eq(crm_scenario_engine_set_max_lateness(s.engine, DAY), CRM_OK);
    sim_step(&s, "go", t0);
    sim_step(&s, NULL, t0 + 4 * DAY);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_EXPIRED, "b")->reason,
                     CRM_SCENARIO_REASON_MAX_LATENESS);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_EXPIRED, "c"), 1);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "d"), 1);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, NULL), 1);
    sim_free(&s);
}
END_TEST

START_TEST(test_birthday_on_29_february)
{
    /* 7 days before, 10:00 JST: 28 Feb stands in for 29 Feb in common years. */
    ck_assert_int_eq(scn_date_fire(2023, 2, 29, -7, 36000, 540), at("2023-02-21T10:00"));
    ck_assert_int_eq(scn_date_fire(2024, 2, 29, -7, 36000, 540), at("2024-02-22T10:00"));
    ck_assert_int_eq(scn_date_fire(2100, 2, 29, 0, 0, 540), at("2100-02-28T00:00"));
}
END_TEST

START_TEST(test_birthday_across_31_december)
{
    /* A 3 January birthday, 7 days before: 27 December of the year before. */
    ck_assert_int_eq(scn_date_fire(2025, 1, 3, -7, 36000, 540), at("2024-12-27T10:00"));
    ck_assert_int_eq(scn_date_fire(2024, 12, 30, 5, 0, -300), at("2025-01-04T00:00-05:00"));
}
END_TEST

START_TEST(test_customer_offset_changes_mid_wait)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");

    sim_one(&s, DEF("o", "\"always\"", WAIT("w", "{\"days\": 1, \"at\": \"10:00\"}") ","
                                       SEND("a", "email")));
    s.offset = 540;
    sim_step(&s, "go", t0);
    ck_assert_int_eq(s.wake, at("2024-01-16T10:00"));
    s.offset = 0; /* moved to London: 10:00 is now 10:00 UTC */
    sim_step(&s, NULL, at("2024-01-16T10:00"));
    ck_assert_uint_eq(s.n_actions, 0);
    ck_assert_int_eq(s.wake, at("2024-01-16T10:00Z"));
    sim_step(&s, NULL, s.wake);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "a")->due, at("2024-01-16T10:00Z"));
    sim_free(&s);
}
END_TEST

START_TEST(test_definition_version_change_mid_journey)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    const char *v2 = "{\"id\": \"v\", \"version\": 2, \"trigger\": {\"event\": \"go\"}, \"reentry\": \"always\","
                     " \"steps\": [" SEND("x", "email") "," WAIT("w", "{\"days\": 1}") ","
                     SEND("y", "email") "]}";
    uint8_t saved[512];
    size_t saved_len;

    sim_one(&s, DEF("v", "\"always\"", SEND("a", "email") "," WAIT("w", "{\"days\": 1}") ","
                                       SEND("b", "email")));
    sim_step(&s, "go", t0);
    memcpy(saved, s.state, s.state_len);
    saved_len = s.state_len;
    ck_assert_int_eq(crm_scenario_engine_load(s.engine, v2, strlen(v2)), CRM_OK);
    /* The journey stays on version 1 while it is loaded. */
    sim_step(&s, NULL, t0 + DAY);
    ck_assert_uint_eq(find_action(&s, CRM_SCENARIO_SEND, "b")->version, 1);
    /* A new entry takes version 2. */
    sim_step(&s, "go", t0 + 2 * DAY);
    ck_assert_uint_eq(find_action(&s, CRM_SCENARIO_SEND, "x")->version, 2);
    /* Unloading version 1 ends the journeys still on it, with a reason. */
    memcpy(s.state, saved, saved_len);
    s.state_len = saved_len;
    ck_assert_int_eq(crm_scenario_engine_unload(s.engine, "v", 1), CRM_OK);
    sim_step(&s, NULL, t0 + HOUR);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_ENDED, NULL)->reason,
                     CRM_SCENARIO_REASON_VERSION_REMOVED);
    ck_assert_str_eq(find_action(&s, CRM_SCENARIO_ENDED, NULL)->scenario, "v");
    ck_assert_int_eq(s.wake, INT64_MAX);
    sim_free(&s);
}
END_TEST

/* ---- engine: steps, policies and state ------------------------------------ */

START_TEST(test_wait_for_event_both_branches)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    const char *def = DEF("f", "\"once\"", SEND("a", "email") ","
        "{\"id\": \"buy\", \"wait_for_event\": {\"event\": \"order\", \"timeout\": {\"days\": 3},"
        " \"on_event\": \"thanks\", \"on_timeout\": \"remind\"}},"
        SEND("remind", "email") "," "{\"id\": \"end\", \"exit\": {}}," SEND("thanks", "line"));

    sim_one(&s, def);
    sim_step(&s, "go", t0);
    ck_assert_int_eq(s.wake, t0 + 3 * DAY);
    sim_step(&s, "order", t0 + DAY);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_SEND, "thanks")->due, t0 + DAY);
    ck_assert_str_eq(find_action(&s, CRM_SCENARIO_SEND, "thanks")->channel, "line");
    ck_assert_int_eq(s.wake, INT64_MAX);
    sim_free(&s);

    sim_one(&s, def);
    sim_step(&s, "go", t0);
    sim_step(&s, NULL, t0 + 3 * DAY);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "remind"), 1);
    ck_assert_int_eq(find_action(&s, CRM_SCENARIO_ENDED, NULL)->reason,
                     CRM_SCENARIO_REASON_EXIT_STEP);
    /* Re-entry "once": never again. */
    sim_step(&s, "go", t0 + 30 * DAY);
    ck_assert_uint_eq(s.n_actions, 0);
    sim_free(&s);
}
END_TEST

START_TEST(test_ab_split_is_deterministic_per_customer)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    const char *defs[] = {full_def, NULL};
    size_t a = 0, b = 0, i;
    char first_keys[200][17];

    sim_init(&s, defs);
    for (i = 0; i < 400; i++) {
        s.customer = (int64_t)i;
        s.state_len = 0;
        sim_step(&s, "signup", t0);
        ck_assert_str_eq(find_action(&s, CRM_SCENARIO_SEND, "hello")->params,
                         "{\"coupon\": \"WELCOME10\"}");
        sim_step(&s, NULL, s.wake);
        a += count_kind(&s, CRM_SCENARIO_SEND, "a");
        b += count_kind(&s, CRM_SCENARIO_SEND, "b");
        if (i < 200)
            memcpy(first_keys[i], s.actions[0].key, 17);
    }
    ck_assert_uint_eq(a + b, 400);
    ck_assert_uint_gt(a, 150);
    ck_assert_uint_gt(b, 150);
    /* Same customers again: same variants, same keys; keys differ per customer. */
    for (i = 0; i < 200; i++) {
        s.customer = (int64_t)i;
        s.state_len = 0;
        sim_step(&s, "signup", t0);
        sim_step(&s, NULL, s.wake);
        ck_assert_str_eq(s.actions[0].key, first_keys[i]);
        if (i > 0)
            ck_assert_str_ne(first_keys[i], first_keys[i - 1]);
    }
    sim_free(&s);
}
END_TEST

START_TEST(test_reentry_cooldown_and_always)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");

    sim_one(&s, DEF("r", "{\"cooldown\": {\"days\": 30}}", SEND("a", "email")));
    sim_step(&s, "go", t0);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "a"), 1);
    sim_step(&s, "go", t0 + 10 * DAY);
    ck_assert_uint_eq(s.n_actions, 0);
    sim_step(&s, "go", t0 + 30 * DAY);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "a"), 1);
    sim_free(&s);

    sim_one(&s, DEF("r", "\"always\"", SEND("a", "email")));
    sim_step(&s, "go", t0);
    sim_step(&s, "go", t0 + 1);
    ck_assert_uint_eq(count_kind(&s, CRM_SCENARIO_SEND, "a"), 1);
    sim_free(&s);
}
END_TEST

START_TEST(test_state_is_compact_and_checked)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    uint8_t bad[512];
    size_t i;
    int bit;

    sim_one(&s, DEF("compact", "\"always\"", SEND("a", "email") "," WAIT("w", "{\"days\": 30}") ","
                                             SEND("b", "email")));
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, NULL, 3, 7 * DAY), CRM_OK);
    sim_step(&s, "go", t0);
    ck_assert_uint_le(s.state_len, 64);
    for (i = 0; i < s.state_len; i++) {
        for (bit = 0; bit < 8; bit++) {
            crm_status st;

            memcpy(bad, s.state, s.state_len);
            bad[i] ^= (uint8_t)(1u << bit);
            st = crm_scenario_state_check(s.ctx, bad, s.state_len);
            ck_assert(st == CRM_ECORRUPT || st == CRM_EVERSION);
        }
        ck_assert_int_eq(crm_scenario_state_check(s.ctx, s.state, i), i == 0 ? CRM_OK : CRM_ECORRUPT);
    }
    memcpy(bad, s.state, s.state_len);
    bad[1] = 9;
    ck_assert_int_eq(crm_scenario_state_check(s.ctx, bad, s.state_len), CRM_EVERSION);
    sim_free(&s);
}
END_TEST

START_TEST(test_max_state_bounds_every_state)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    const char *a2 = "{\"id\": \"a\", \"version\": 2, \"trigger\": {\"event\": \"go\"}, "
                     "\"steps\": [" SEND("x", "email") "]}";
    const char *b = "{\"id\": \"b\", \"version\": 1, \"trigger\": {\"event\": \"go\"}, "
                    "\"reentry\": \"always\", \"steps\": [" SEND("y", "sms") "]}";
    size_t empty, one, max, len;
    uint8_t out[4096];
    int64_t wake;
    int i;

    ck_assert_uint_eq(crm_scenario_engine_max_state(NULL), 0);
    sim_init(&s, NULL);
    empty = crm_scenario_engine_max_state(s.engine);
    ck_assert_uint_gt(empty, 0);
    ck_assert_int_eq(crm_scenario_engine_load(s.engine, DEF("a", "\"always\"", SEND("a", "email")),
                                              strlen(DEF("a", "\"always\"", SEND("a", "email")))),
                     CRM_OK);
    one = crm_scenario_engine_max_state(s.engine);
    ck_assert_uint_gt(one, empty);
    /* A second version of the same id adds no journey; a new id does. */
    ck_assert_int_eq(crm_scenario_engine_load(s.engine, a2, strlen(a2)), CRM_OK);
    ck_assert_uint_eq(crm_scenario_engine_max_state(s.engine), one);
    ck_assert_int_eq(crm_scenario_engine_load(s.engine, b, strlen(b)), CRM_OK);
    ck_assert_uint_eq(crm_scenario_engine_max_state(s.engine), 2 * one - empty);
    /* A cap makes the engine remember sends. */
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, NULL, 255, 366 * DAY), CRM_OK);
    max = crm_scenario_engine_max_state(s.engine);
    ck_assert_uint_gt(max, 2 * one - empty);
    ck_assert_uint_le(max, sizeof out);
    /* Times far from 1970 have long encodings; every state fits. */
    for (i = 0; i < 300; i++) {
        int64_t now = (i % 2 ? -1 : 1) * (INT64_C(1) << 39) / 2 + i * 1000;

        ck_assert_int_eq(crm_scenario_on_event(s.engine, INT64_MIN, 1440, s.state, s.state_len,
                                               NULL, "go", now, NULL, NULL, out, max, &len, &wake),
                         CRM_OK);
        ck_assert_uint_le(len, max);
        ck_assert_uint_le(len, sizeof s.state);
        memcpy(s.state, out, len);
        s.state_len = len;
    }
    /* Without caps the sends are forgotten and the bound drops back. */
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(s.engine, NULL, 0, DAY), CRM_OK);
    ck_assert_uint_eq(crm_scenario_engine_max_state(s.engine), 2 * one - empty);
    sim_step(&s, NULL, t0);
    ck_assert_uint_le(s.state_len, 2 * one - empty);
    sim_free(&s);
}
END_TEST

/* Bit-at-a-time CRC-32C: the definition the sliced tables must agree with. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    int k;

    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

START_TEST(test_state_checksum_is_crc32c)
{
    uint8_t buf[80];
    size_t i, off, len;

    for (i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131u + 7u);
    ck_assert_uint_eq(crm_crc32c(0, "123456789", 9), 0xE3069283u);
    for (off = 0; off < 8; off++)
        for (len = 0; off + len <= 72; len++) {
            ck_assert_uint_eq(crm_crc32c(0, buf + off, len), crc32c_bitwise(0, buf + off, len));
            ck_assert_uint_eq(crm_crc32c(crm_crc32c(0, buf + off, len / 3), buf + off + len / 3,
                                         len - len / 3),
                              crc32c_bitwise(0, buf + off, len));
        }
}
END_TEST

START_TEST(test_callback_stop_and_small_buffer_change_nothing)
{
    sim s;
    int64_t t0 = at("2024-01-15T12:00");
    uint8_t out[8];
    size_t len = 77;
    int64_t wake = 5;

    sim_one(&s, DEF("cb", "\"always\"", SEND("a", "email")));
    s.stop_after = 2;
    ck_assert_int_eq(crm_scenario_on_event(s.engine, s.customer, CRM_SCENARIO_OFFSET_DEFAULT, NULL, 0, NULL,
                                           "go", t0, collect, &s, s.state, sizeof s.state, &len,
                                           &wake), CRM_ECALLBACK);
    ck_assert_uint_eq(len, 77);
    ck_assert_int_eq(wake, 5);
    s.stop_after = 0;
    s.n_actions = 0;
    ck_assert_int_eq(crm_scenario_on_event(s.engine, s.customer, CRM_SCENARIO_OFFSET_DEFAULT, NULL, 0, NULL,
                                           "go", t0, collect, &s, out, sizeof out, &len, &wake),
                     CRM_ELIMIT);
    ck_assert_uint_gt(len, sizeof out);
    ck_assert_uint_eq(s.n_actions, 0);
    ck_assert_int_eq(wake, 5);
    sim_free(&s);
}
END_TEST

typedef struct engine_fixture {
    crm_ctx *ctx;
    crm_scenario_engine *engine;
    size_t sent;
} engine_fixture;

static int count_sends(void *user, const crm_scenario_action *a)
{
    engine_fixture *f = user;

    f->sent += a->kind == CRM_SCENARIO_SEND;
    return 0;
}

static void *engine_setup(crm_ctx *ctx)
{
    engine_fixture *f = calloc(1, sizeof *f);

    f->ctx = ctx;
    ck_assert_int_eq(crm_scenario_engine_new(ctx, NULL, &f->engine), CRM_OK);
    return f;
}

static crm_status engine_load_run(void *fixture)
{
    engine_fixture *f = fixture;

    crm_scenario_engine_unload(f->engine, "full", 1);
    return crm_scenario_engine_load(f->engine, full_def, strlen(full_def));
}

static void engine_load_verify(void *fixture)
{
    ck_assert_uint_eq(crm_scenario_engine_count(((engine_fixture *)fixture)->engine), 1);
}

static void engine_teardown(void *fixture)
{
    engine_fixture *f = fixture;

    crm_scenario_engine_free(f->engine);
    free(f);
}

START_TEST(test_load_allocation_failures)
{
    test_sweep sweep = {engine_setup, engine_load_run, engine_load_verify, engine_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 3);
}
END_TEST

static void *engine_loaded_setup(crm_ctx *ctx)
{
    engine_fixture *f = engine_setup(ctx);

    ck_assert_int_eq(crm_scenario_engine_load(f->engine, full_def, strlen(full_def)), CRM_OK);
    return f;
}

static crm_status engine_event_run(void *fixture)
{
    engine_fixture *f = fixture;
    uint8_t out[128];
    size_t len;
    int64_t wake;

    f->sent = 0;
    return crm_scenario_on_event(f->engine, 7, 540, NULL, 0, NULL, "signup", 1700000000,
                                 count_sends, f, out, sizeof out, &len, &wake);
}

static void engine_event_verify(void *fixture)
{
    ck_assert_uint_eq(((engine_fixture *)fixture)->sent, 1);
}

START_TEST(test_on_event_allocation_failures)
{
    test_sweep sweep = {engine_loaded_setup, engine_event_run, engine_event_verify,
                        engine_teardown};

    ck_assert_uint_gt(test_sweep_alloc_failures(&sweep), 0);
}
END_TEST

/* ---- the ready-made scenarios of examples/scenarios ------------------------ */

/* examples/scenarios/<name>, found from this file's path (tests run in the build dir). */
static char *read_example(const char *name, size_t *len)
{
    char path[512];
    const char *tail = strstr(__FILE__, "tests/test_scenario.c");
    FILE *f;
    char *text;
    long size;

    ck_assert_ptr_nonnull(tail);
    snprintf(path, sizeof path, "%.*sexamples/scenarios/%s", (int)(tail - __FILE__), __FILE__,
             name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)size + 1);
    ck_assert_uint_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return text;
}

typedef struct example {
    sim s;
    crm_segment_schema *schema;
    crm_segment_record *record;
} example;

static void example_init(example *x, const char *file)
{
    char *json;
    size_t len;

    sim_init(&x->s, NULL);
    ck_assert_int_eq(crm_segment_schema_new_standard(x->s.ctx, &x->schema), CRM_OK);
    ck_assert_int_eq(crm_segment_schema_add(x->schema, "cart_total", CRM_SEGMENT_MONEY, NULL),
                     CRM_OK);
    ck_assert_int_eq(crm_segment_record_new(x->schema, &x->record), CRM_OK);
    crm_scenario_engine_free(x->s.engine);
    ck_assert_int_eq(crm_scenario_engine_new(x->s.ctx, x->schema, &x->s.engine), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_set_default_offset(x->s.engine, 540), CRM_OK);
    json = read_example(file, &len);
    ck_assert_msg(crm_scenario_engine_load(x->s.engine, json, len) == CRM_OK, "%s: %s", file,
                  crm_ctx_errmsg(x->s.ctx));
    free(json);
}

/* Starts a new customer: empty state, cleared record. */
static void example_customer(example *x, int64_t customer)
{
    x->s.customer = customer;
    x->s.state_len = 0;
    crm_segment_record_clear(x->record);
}

static void example_step(example *x, const char *event, int64_t now)
{
    uint8_t out[512];
    size_t len = 0;
    int64_t wake = 0;
    crm_status st;
    sim *s = &x->s;

    s->n_actions = 0;
    if (event)
        st = crm_scenario_on_event(s->engine, s->customer, s->offset, s->state, s->state_len,
                                   x->record, event, now, collect, s, out, sizeof out, &len, &wake);
    else
        st = crm_scenario_advance(s->engine, s->customer, s->offset, s->state, s->state_len,
                                  x->record, now, collect, s, out, sizeof out, &len, &wake);
    ck_assert_msg(st == CRM_OK, "%s", crm_ctx_errmsg(s->ctx));
    ck_assert_uint_le(len, 64);
    memcpy(s->state, out, len);
    s->state_len = len;
    s->wake = wake;
}

static void example_free(example *x)
{
    crm_scenario_engine_free(x->s.engine);
    x->s.engine = NULL;
    crm_segment_record_free(x->record);
    crm_segment_schema_free(x->schema);
    sim_free(&x->s);
}

static void set_int(example *x, const char *name, int64_t v)
{
    ck_assert_int_eq(crm_segment_record_set_int_by_name(x->record, name, v), CRM_OK);
}

static void set_time(example *x, const char *name, int64_t v)
{
    ck_assert_int_eq(crm_segment_record_set_time_by_name(x->record, name, v), CRM_OK);
}

START_TEST(test_example_cart_abandonment)
{
    example x;
    int64_t t0 = at("2024-05-10T12:00");

    example_init(&x, "cart_abandonment.json");
    /* A 6,000 yen cart: reminder after 1 h, coupon after 24 h. */
    example_customer(&x, 1);
    ck_assert_int_eq(crm_segment_record_set_money_by_name(x.record, "cart_total", 6000), CRM_OK);
    example_step(&x, "cart_abandoned", t0);
    ck_assert_int_eq(x.s.wake, t0 + HOUR);
    example_step(&x, NULL, t0 + HOUR);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "reminder"), 1);
    example_step(&x, NULL, t0 + 24 * HOUR);
    ck_assert_str_eq(find_action(&x.s, CRM_SCENARIO_SEND, "coupon")->params,
                     "{\"coupon\": \"CART500\", \"valid_days\": 3}");
    ck_assert_int_eq(find_action(&x.s, CRM_SCENARIO_SEND, "coupon")->due, t0 + 24 * HOUR);
    /* A 3,000 yen cart: the reminder only. */
    example_customer(&x, 2);
    ck_assert_int_eq(crm_segment_record_set_money_by_name(x.record, "cart_total", 3000), CRM_OK);
    example_step(&x, "cart_abandoned", t0);
    example_step(&x, NULL, t0 + HOUR);
    example_step(&x, NULL, t0 + 24 * HOUR);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, NULL), 0);
    ck_assert_int_eq(find_action(&x.s, CRM_SCENARIO_ENDED, NULL)->reason,
                     CRM_SCENARIO_REASON_EXIT_STEP);
    /* An order ends the journey at once. */
    example_customer(&x, 3);
    example_step(&x, "cart_abandoned", t0);
    example_step(&x, "order_placed", t0 + 30 * 60);
    ck_assert_int_eq(find_action(&x.s, CRM_SCENARIO_ENDED, NULL)->reason,
                     CRM_SCENARIO_REASON_EXIT_EVENT);
    example_step(&x, NULL, t0 + 2 * DAY);
    ck_assert_uint_eq(x.s.n_actions, 0);
    example_free(&x);
}
END_TEST

START_TEST(test_example_f2_followup)
{
    example x;
    int64_t t0 = at("2024-03-01T15:00");

    example_init(&x, "f2_followup.json");
    example_customer(&x, 1);
    set_int(&x, "order_count", 1);
    example_step(&x, "order_placed", t0);
    ck_assert_int_eq(x.s.wake, at("2024-03-02T10:00"));
    example_step(&x, NULL, x.s.wake);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "thanks"), 1);
    ck_assert_int_eq(x.s.wake, at("2024-03-15T10:00"));
    example_step(&x, NULL, x.s.wake);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "cross_sell"), 1);
    ck_assert_int_eq(x.s.wake, at("2024-03-31T10:00"));
    example_step(&x, NULL, x.s.wake);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "coupon"), 1);
    /* A second order before day 30: no coupon, and no second journey. */
    example_customer(&x, 2);
    set_int(&x, "order_count", 1);
    example_step(&x, "order_placed", t0);
    set_int(&x, "order_count", 2);
    example_step(&x, "order_placed", t0 + 5 * DAY);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_ENTERED, NULL), 0);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "thanks"), 1); /* due on day 1 */
    example_step(&x, NULL, at("2024-03-31T10:00"));
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "coupon"), 0);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "cross_sell"), 1);
    example_free(&x);
}
END_TEST

START_TEST(test_example_dormant_reactivation)
{
    example x;
    int64_t t0 = at("2024-05-10T09:00");

    example_init(&x, "dormant_reactivation.json");
    example_customer(&x, 1);
    set_int(&x, "order_count", 3);
    set_time(&x, "last_order_at", t0 - 80 * DAY);
    example_step(&x, NULL, t0);
    ck_assert_uint_eq(x.s.n_actions, 0);
    example_step(&x, NULL, t0 + 11 * DAY);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "we_miss_you"), 1);
    example_step(&x, NULL, t0 + 12 * DAY); /* still in the segment: no new entry */
    ck_assert_uint_eq(x.s.n_actions, 0);
    example_step(&x, NULL, at("2024-06-04T10:00"));
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "line_coupon"), 1);
    example_free(&x);
}
END_TEST

START_TEST(test_example_birthday_coupon)
{
    example x;

    example_init(&x, "birthday_coupon.json");
    /* Born 29 February: 28 February stands in, so 21 February 10:00 in 2023. */
    example_customer(&x, 1);
    set_time(&x, "birthday", at("2000-02-29T00:00"));
    ck_assert_int_eq(crm_segment_record_set_bool_by_name(x.record, "email_opt_in", 1), CRM_OK);
    example_step(&x, NULL, at("2023-02-01T00:00"));
    ck_assert_int_eq(x.s.wake, at("2023-02-21T10:00"));
    example_step(&x, NULL, at("2023-02-21T10:00"));
    ck_assert_int_eq(find_action(&x.s, CRM_SCENARIO_SEND, "coupon")->due, at("2023-02-21T10:00"));
    example_step(&x, NULL, at("2023-02-21T18:00"));
    ck_assert_uint_eq(x.s.n_actions, 0);
    ck_assert_int_eq(x.s.wake, at("2024-02-22T10:00"));
    example_step(&x, NULL, at("2024-02-22T10:05"));
    ck_assert_int_eq(find_action(&x.s, CRM_SCENARIO_SEND, "coupon")->due, at("2024-02-22T10:00"));
    /* Born 3 January: the coupon goes on 27 December of the year before. */
    example_customer(&x, 2);
    set_time(&x, "birthday", at("1990-01-03T00:00"));
    ck_assert_int_eq(crm_segment_record_set_bool_by_name(x.record, "email_opt_in", 1), CRM_OK);
    example_step(&x, NULL, at("2024-12-20T00:00"));
    ck_assert_int_eq(x.s.wake, at("2024-12-27T10:00"));
    example_step(&x, NULL, at("2024-12-27T10:30"));
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "coupon"), 1);
    /* Not opted in: nothing. */
    example_customer(&x, 3);
    set_time(&x, "birthday", at("1990-01-03T00:00"));
    example_step(&x, NULL, at("2024-12-27T10:30"));
    ck_assert_uint_eq(x.s.n_actions, 0);
    example_free(&x);
}
END_TEST

START_TEST(test_example_point_expiry)
{
    example x;

    example_init(&x, "point_expiry.json");
    example_customer(&x, 1);
    set_int(&x, "points_balance", 500);
    set_time(&x, "points_expire_at", at("2024-06-30T00:00"));
    example_step(&x, NULL, at("2024-05-01T00:00"));
    ck_assert_int_eq(x.s.wake, at("2024-05-31T10:00"));
    example_step(&x, NULL, x.s.wake);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "notice_30"), 1);
    ck_assert_int_eq(x.s.wake, at("2024-06-23T10:00"));
    example_step(&x, NULL, x.s.wake);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "notice_7"), 1);
    example_free(&x);
}
END_TEST

START_TEST(test_example_best_customer_welcome)
{
    example x;
    int64_t t0 = at("2024-05-10T12:00");

    example_init(&x, "best_customer_welcome.json");
    example_customer(&x, 1);
    ck_assert_int_eq(crm_segment_record_set_string_by_name(x.record, "rfm_group", "champions", 9),
                     CRM_OK);
    example_step(&x, NULL, t0);
    ck_assert_str_eq(find_action(&x.s, CRM_SCENARIO_SEND, "welcome")->channel, "line");
    ck_assert_int_eq(x.s.wake, at("2024-05-13T10:00"));
    example_step(&x, NULL, x.s.wake);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "perks"), 1);
    /* Leaving and coming back within the 90-day cooldown: no second welcome. */
    ck_assert_int_eq(crm_segment_record_set_string_by_name(x.record, "rfm_group", "loyal", 5),
                     CRM_OK);
    example_step(&x, NULL, t0 + 10 * DAY);
    ck_assert_int_eq(crm_segment_record_set_string_by_name(x.record, "rfm_group", "champions", 9),
                     CRM_OK);
    example_step(&x, NULL, t0 + 20 * DAY);
    ck_assert_uint_eq(x.s.n_actions, 0);
    ck_assert_int_eq(crm_segment_record_set_string_by_name(x.record, "rfm_group", "loyal", 5),
                     CRM_OK);
    example_step(&x, NULL, t0 + 95 * DAY);
    ck_assert_int_eq(crm_segment_record_set_string_by_name(x.record, "rfm_group", "champions", 9),
                     CRM_OK);
    example_step(&x, NULL, t0 + 96 * DAY);
    ck_assert_uint_eq(count_kind(&x.s, CRM_SCENARIO_SEND, "welcome"), 1);
    example_free(&x);
}
END_TEST

/* Loading order does not matter: the same calls give the same actions and state. */
START_TEST(test_load_order_does_not_change_outputs)
{
    const char *a = DEF("alpha", "\"always\"", SEND("a1", "email") "," WAIT("w", "{\"hours\": 5}") ","
                                              SEND("a2", "line"));
    const char *b = DEF("beta", "\"always\"", WAIT("w", "{\"hours\": 2}") "," SEND("b1", "sms"));
    const char *order1[] = {a, b, full_def, NULL}, *order2[] = {full_def, b, a, NULL};
    sim s1, s2;
    int64_t t0 = at("2024-01-15T12:00"), times[] = {0, 2 * HOUR, 5 * HOUR, 2 * DAY};
    size_t k, i;

    sim_init(&s1, order1);
    sim_init(&s2, order2);
    for (k = 0; k < 4; k++) {
        const char *event = k == 0 ? "go" : NULL;

        sim_step(&s1, event, t0 + times[k]);
        sim_step(&s2, event, t0 + times[k]);
        if (k == 0) {
            sim_step(&s1, "signup", t0);
            sim_step(&s2, "signup", t0);
        }
        ck_assert_uint_eq(s1.n_actions, s2.n_actions);
        for (i = 0; i < s1.n_actions; i++) {
            ck_assert_str_eq(s1.actions[i].key, s2.actions[i].key);
            ck_assert_str_eq(s1.actions[i].step, s2.actions[i].step);
        }
        ck_assert_uint_eq(s1.state_len, s2.state_len);
        ck_assert_int_eq(memcmp(s1.state, s2.state, s1.state_len), 0);
        ck_assert_int_eq(s1.wake, s2.wake);
    }
    sim_free(&s1);
    sim_free(&s2);
}
END_TEST

typedef struct check_fixture {
    crm_ctx *ctx;
    uint8_t state[64];
    size_t len;
} check_fixture;

static void *check_setup(crm_ctx *ctx)
{
    check_fixture *f = calloc(1, sizeof *f);
    crm_scenario_engine *engine = NULL;
    int64_t wake;

    f->ctx = ctx;
    ck_assert_int_eq(crm_scenario_engine_new(ctx, NULL, &engine), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_load(engine, full_def, strlen(full_def)), CRM_OK);
    ck_assert_int_eq(crm_scenario_on_event(engine, 3, 540, NULL, 0, NULL, "signup", 1700000000,
                                           NULL, NULL, f->state, sizeof f->state, &f->len,
                                           &wake), CRM_OK);
    crm_scenario_engine_free(engine);
    return f;
}

static crm_status check_run(void *fixture)
{
    check_fixture *f = fixture;

    return crm_scenario_state_check(f->ctx, f->state, f->len);
}

static void check_verify(void *fixture)
{
    ck_assert_uint_gt(((check_fixture *)fixture)->len, 0);
}

static void check_teardown(void *fixture)
{
    free(fixture);
}

START_TEST(test_state_check_allocation_failures)
{
    test_sweep sweep = {check_setup, check_run, check_verify, check_teardown};

    ck_assert_uint_eq(test_sweep_alloc_failures(&sweep), 1);
}
END_TEST

START_TEST(test_rule_errors_and_limits)
{
    example x;
    char json[256];
    const char *bad_rule = HEAD "\"steps\": [{\"id\": \"a\", \"branch\": {\"rule\": \"order_count >\","
                                " \"then\": \"b\", \"else\": \"b\"}}, {\"id\": \"b\", \"exit\": {}}]}";
    const char *type_error = "{\"id\": \"x\", \"version\": 1, \"trigger\": {\"segment\": \"rfm_group > 3\"}, "
                             STEPS_OK "}";
    const char *not_time = "{\"id\": \"x\", \"version\": 1, \"trigger\": {\"date\": {\"attribute\": "
                           "\"order_count\", \"at\": \"10:00\"}}, " STEPS_OK "}";
    int i;

    example_init(&x, "f2_followup.json");
    ck_assert_int_eq(crm_scenario_engine_load(x.s.engine, bad_rule, strlen(bad_rule)), CRM_EPARSE);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(x.s.ctx), "steps[0].branch.rule: bad rule"));
    ck_assert_int_eq(crm_scenario_engine_load(x.s.engine, type_error, strlen(type_error)),
                     CRM_ETYPE);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(x.s.ctx), "trigger.segment"));
    ck_assert_int_eq(crm_scenario_engine_load(x.s.engine, not_time, strlen(not_time)), CRM_EPARSE);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(x.s.ctx), "trigger.date.attribute"));
    ck_assert_uint_eq(crm_scenario_engine_count(x.s.engine), 1);
    /* At most 256 definitions; one cap per channel plus an overall one. */
    for (i = 2; i <= 256; i++) {
        snprintf(json, sizeof json, "{\"id\": \"s%d\", \"version\": 1, \"trigger\": {\"event\": \"e\"}, "
                 STEPS_OK "}", i);
        ck_assert_int_eq(crm_scenario_engine_load(x.s.engine, json, strlen(json)), CRM_OK);
    }
    snprintf(json, sizeof json, "{\"id\": \"s999\", \"version\": 1, \"trigger\": {\"event\": \"e\"}, "
             STEPS_OK "}");
    ck_assert_int_eq(crm_scenario_engine_load(x.s.engine, json, strlen(json)), CRM_ELIMIT);
    ck_assert_uint_eq(crm_scenario_engine_count(x.s.engine), 256);
    for (i = 0; i < 6; i++)
        ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(x.s.engine, scn_channel_name(i), 1,
                                                               DAY), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(x.s.engine, NULL, 1, DAY), CRM_OK);
    ck_assert_int_eq(crm_scenario_engine_set_frequency_cap(x.s.engine, "email", 2, DAY), CRM_OK);
    example_free(&x);
}
END_TEST

/* ---- the segment record getter the engine reads date triggers with ------ */

START_TEST(test_segment_record_get_time)
{
    crm_ctx *ctx;
    crm_segment_schema *schema;
    crm_segment_record *record;
    uint32_t late = 0;
    int64_t t = 7;
    int present = 7;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_segment_schema_new_standard(ctx, &schema), CRM_OK);
    ck_assert_int_eq(crm_segment_record_new(schema, &record), CRM_OK);
    /* NULL first, then the value set. */
    ck_assert_int_eq(crm_segment_record_get_time(record, CRM_SEGMENT_STD_BIRTHDAY, &t, &present),
                     CRM_OK);
    ck_assert_int_eq(present, 0);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(crm_segment_record_set_time(record, CRM_SEGMENT_STD_BIRTHDAY, -86400),
                     CRM_OK);
    ck_assert_int_eq(crm_segment_record_get_time(record, CRM_SEGMENT_STD_BIRTHDAY, &t, &present),
                     CRM_OK);
    ck_assert_int_eq(present, 1);
    ck_assert_int_eq(t, -86400);
    crm_segment_record_clear(record);
    ck_assert_int_eq(crm_segment_record_get_time(record, CRM_SEGMENT_STD_BIRTHDAY, &t, &present),
                     CRM_OK);
    ck_assert_int_eq(present, 0);
    /* An attribute added after the record was made reads as NULL. */
    ck_assert_int_eq(crm_segment_schema_add(schema, "event.at", CRM_SEGMENT_TIME, &late), CRM_OK);
    present = 7;
    ck_assert_int_eq(crm_segment_record_get_time(record, late, &t, &present), CRM_OK);
    ck_assert_int_eq(present, 0);
    /* Errors leave the outputs alone. */
    t = 5;
    present = 5;
    ck_assert_int_eq(crm_segment_record_get_time(record, CRM_SEGMENT_STD_ORDER_COUNT, &t,
                                                 &present), CRM_ETYPE);
    ck_assert_int_eq(crm_segment_record_get_time(record, late + 1, &t, &present), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_get_time(NULL, 0, &t, &present), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_get_time(record, CRM_SEGMENT_STD_BIRTHDAY, NULL,
                                                 &present), CRM_EINVAL);
    ck_assert_int_eq(crm_segment_record_get_time(record, CRM_SEGMENT_STD_BIRTHDAY, &t, NULL),
                     CRM_EINVAL);
    ck_assert_int_eq(t, 5);
    ck_assert_int_eq(present, 5);
    crm_segment_record_free(record);
    crm_segment_schema_free(schema);
    crm_ctx_free(ctx);
}
END_TEST

/*
 * state_out may be the state's own buffer: a call that changes the state
 * must leave the new bytes there, as a call into a separate buffer does.
 */
START_TEST(test_state_updated_in_place)
{
    static const char *const events[] = {"signup", NULL, "order", NULL, "unsubscribe", "signup"};
    const char *defs[] = {full_def, NULL};
    uint8_t state[512];
    size_t len = 0, k;
    int64_t now = at("2024-05-01T12:00"), wake = 0;
    sim s;

    sim_init(&s, defs);
    for (k = 0; k < sizeof events / sizeof events[0]; k++, now += 2 * 86400) {
        size_t out_len = 0;
        crm_status st;

        if (events[k])
            st = crm_scenario_on_event(s.engine, s.customer, s.offset, state, len, NULL,
                                       events[k], now, NULL, NULL, state, sizeof state,
                                       &out_len, &wake);
        else
            st = crm_scenario_advance(s.engine, s.customer, s.offset, state, len, NULL, now,
                                      NULL, NULL, state, sizeof state, &out_len, &wake);
        ck_assert_int_eq(st, CRM_OK);
        sim_step(&s, events[k], now);
        ck_assert_uint_eq(out_len, s.state_len);
        ck_assert_int_eq(memcmp(state, s.state, out_len), 0);
        ck_assert_int_eq(wake, s.wake);
        len = out_len;
    }
    ck_assert_uint_gt(len, 0);
    sim_free(&s);
}
END_TEST

static Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("scenario");

    tcase_add_test(tc, test_json_values);
    tcase_add_test(tc, test_json_rejects_malformed);
    tcase_add_test(tc, test_json_limits);
    tcase_add_test(tc, test_json_allocation_failures);
    tcase_add_test(tc, test_definition_loads_every_step_kind);
    tcase_add_loop_test(tc, test_definition_errors_name_path_and_position, 0,
                        (int)(sizeof bad_defs / sizeof bad_defs[0]));
    tcase_add_test(tc, test_engine_bad_arguments);
    tcase_add_test(tc, test_wait_1_day_until_1500_from_1400_is_25h);
    tcase_add_test(tc, test_wait_1_day_until_1500_from_1600_is_23h);
    tcase_add_test(tc, test_wait_until_already_past);
    tcase_add_test(tc, test_delay_as_the_last_step);
    tcase_add_test(tc, test_exit_event_during_30_day_wait);
    tcase_add_test(tc, test_quiet_hours_deferral_pushes_later_steps);
    tcase_add_test(tc, test_quiet_window_start_equals_end_is_off);
    tcase_add_test(tc, test_capped_send_skipped_or_deferred);
    tcase_add_test(tc, test_trigger_while_already_in_journey);
    tcase_add_test(tc, test_same_event_delivered_twice);
    tcase_add_test(tc, test_advance_called_3_days_late);
    tcase_add_test(tc, test_birthday_on_29_february);
    tcase_add_test(tc, test_birthday_across_31_december);
    tcase_add_test(tc, test_customer_offset_changes_mid_wait);
    tcase_add_test(tc, test_definition_version_change_mid_journey);
    tcase_add_test(tc, test_wait_for_event_both_branches);
    tcase_add_test(tc, test_ab_split_is_deterministic_per_customer);
    tcase_add_test(tc, test_reentry_cooldown_and_always);
    tcase_add_test(tc, test_state_is_compact_and_checked);
    tcase_add_test(tc, test_max_state_bounds_every_state);
    tcase_add_test(tc, test_state_checksum_is_crc32c);
    tcase_add_test(tc, test_callback_stop_and_small_buffer_change_nothing);
    tcase_add_test(tc, test_load_allocation_failures);
    tcase_add_test(tc, test_load_order_does_not_change_outputs);
    tcase_add_test(tc, test_rule_errors_and_limits);
    tcase_add_test(tc, test_state_check_allocation_failures);
    tcase_add_test(tc, test_example_cart_abandonment);
    tcase_add_test(tc, test_example_f2_followup);
    tcase_add_test(tc, test_example_dormant_reactivation);
    tcase_add_test(tc, test_example_birthday_coupon);
    tcase_add_test(tc, test_example_point_expiry);
    tcase_add_test(tc, test_example_best_customer_welcome);
    tcase_add_test(tc, test_on_event_allocation_failures);
    tcase_add_test(tc, test_segment_record_get_time);
    tcase_add_test(tc, test_state_updated_in_place);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(scenario_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
