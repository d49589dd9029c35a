/*
 * Loading and validating scenario definitions (JSON schema in README.md).
 * Every error names the JSON path (steps[3].wait.days) and the line and
 * column of the offending value.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"
#include "scenario/internal.h"

#define PATH_MAX_LEN 160

typedef struct loader {
    crm_ctx *ctx;
    scn_def *def;
    const crm_segment_schema *schema;
    int32_t offset_min;
    const char *json;
} loader;

static crm_status bad(loader *L, const crm_json *node, const char *path,
                      const char *msg)
{
    return crm_error_at(L->ctx, CRM_EPARSE, node->line, node->column,
                        "scenario: %s: %s (line %u, column %u)", path, msg,
                        (unsigned)node->line, (unsigned)node->column);
}

static crm_status nomem(loader *L)
{
    return crm_error_nomem(L->ctx);
}

/* Formats a JSON path into out[PATH_MAX_LEN], truncating silently. */
static void path_printf(char *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, PATH_MAX_LEN, fmt, ap);
    va_end(ap);
}

static void join(char *out, const char *path, const char *key)
{
    path_printf(out, "%s%s%s", path, path[0] ? "." : "", key);
}

/* Rejects members of obj not listed in allowed (NULL-terminated). */
static crm_status check_keys(loader *L, const crm_json *obj, const char *path,
                             const char *const *allowed)
{
    size_t i, k;
    char child[PATH_MAX_LEN];

    for (i = 0; i < obj->count; i++) {
        const crm_json_member *m = &obj->members[i];

        for (k = 0; allowed[k]; k++)
            if (strlen(allowed[k]) == m->key_len && memcmp(allowed[k], m->key, m->key_len) == 0)
                break;
        if (!allowed[k]) {
            join(child, path, m->key);
            return bad(L, m->value, child, "unknown field");
        }
    }
    return CRM_OK;
}

/* Finds obj.key of the given type; *out NULL when absent and optional. */
static crm_status member(loader *L, const crm_json *obj, const char *path,
                         const char *key, crm_json_type type, int required,
                         const crm_json **out)
{
    const crm_json *v = crm_json_get(obj, key);
    char child[PATH_MAX_LEN], msg[64];

    *out = NULL;
    join(child, path, key);
    if (!v) {
        if (required)
            return crm_error_at(L->ctx, CRM_EPARSE, obj->line, obj->column,
                                "scenario: %s: missing field (line %u, column %u)", child,
                                (unsigned)obj->line, (unsigned)obj->column);
        return CRM_OK;
    }
    if (v->type != type && !(type == CRM_JSON_TRUE && v->type == CRM_JSON_FALSE)) {
        snprintf(msg, sizeof msg, "expected %s, found %s", crm_json_type_name(type),
                 crm_json_type_name(v->type));
        return bad(L, v, child, msg);
    }
    *out = v;
    return CRM_OK;
}

static crm_status get_string(loader *L, const crm_json *obj, const char *path,
                             const char *key, int required, const char **out,
                             size_t *len)
{
    const crm_json *v;
    char child[PATH_MAX_LEN];
    crm_status st = member(L, obj, path, key, CRM_JSON_STRING, required, &v);
    char *copy;

    if (st != CRM_OK || !v)
        return st;
    join(child, path, key);
    if (v->len == 0 || memchr(v->text, '\0', v->len))
        return bad(L, v, child, "must be a non-empty string without NUL");
    copy = crm_arena_strndup(&L->def->arena, v->text, v->len);
    if (!copy)
        return nomem(L);
    *out = copy;
    if (len)
        *len = v->len;
    return CRM_OK;
}

static crm_status get_int(loader *L, const crm_json *obj, const char *path,
                          const char *key, int64_t lo, int64_t hi, int64_t *out,
                          int *present)
{
    const crm_json *v;
    char child[PATH_MAX_LEN], msg[96];
    crm_status st = member(L, obj, path, key, CRM_JSON_NUMBER, 0, &v);

    *present = v != NULL;
    if (st != CRM_OK || !v)
        return st;
    join(child, path, key);
    if (!v->is_integer || v->integer < lo || v->integer > hi) {
        snprintf(msg, sizeof msg, "must be an integer in %lld..%lld", (long long)lo,
                 (long long)hi);
        return bad(L, v, child, msg);
    }
    *out = v->integer;
    return CRM_OK;
}

/* "HH:MM" (00:00..23:59) -> seconds after midnight. */
static crm_status get_time_of_day(loader *L, const crm_json *obj, const char *path,
                                  int required, int32_t *out, int *present)
{
    const crm_json *v;
    char child[PATH_MAX_LEN];
    crm_status st = member(L, obj, path, "at", CRM_JSON_STRING, required, &v);
    const char *t;

    *present = v != NULL;
    if (st != CRM_OK || !v)
        return st;
    join(child, path, "at");
    t = v->text;
    if (v->len != 5 || t[2] != ':' || t[0] < '0' || t[0] > '2' || t[1] < '0' ||
        t[1] > '9' || t[3] < '0' || t[3] > '5' || t[4] < '0' || t[4] > '9' ||
        (t[0] - '0') * 10 + (t[1] - '0') > 23)
        return bad(L, v, child, "must be a local time \"HH:MM\" (00:00..23:59)");
    *out = (int32_t)((((t[0] - '0') * 10 + (t[1] - '0')) * 60 +
                      (t[3] - '0') * 10 + (t[4] - '0')) * 60);
    return CRM_OK;
}

static crm_status compile_rule(loader *L, const crm_json *obj, const char *path,
                               const char *key, scn_cond **out)
{
    const crm_json *v;
    char child[PATH_MAX_LEN], msg[CRM_ERRMSG_MAX];
    crm_status st = member(L, obj, path, key, CRM_JSON_STRING, 0, &v);
    uint32_t line = 0, column = 0;
    scn_cond *cond = NULL;

    *out = NULL;
    if (st != CRM_OK || !v)
        return st;
    join(child, path, key);
    st = scn_cond_compile(L->ctx, L->schema, v->text, v->len, L->offset_min, &cond,
                          &line, &column);
    if (st == CRM_ENOMEM)
        return st;
    if (st != CRM_OK) {
        snprintf(msg, sizeof msg, "%s", crm_ctx_errmsg(L->ctx));
        return crm_error_at(L->ctx, st, v->line, v->column,
                            "scenario: %s: bad rule: %s (line %u, column %u)", child,
                            msg, (unsigned)v->line, (unsigned)v->column);
    }
    L->def->conds[L->def->n_conds++] = cond;
    *out = cond;
    return CRM_OK;
}

/* ---- durations and waits ---------------------------------------------- */

static crm_status parse_duration(loader *L, const crm_json *obj, const char *path,
                                 int64_t *seconds)
{
    static const char *const units[] = {"weeks", "days", "hours", "minutes", "seconds"};
    static const int64_t scale[] = {604800, 86400, 3600, 60, 1};
    int64_t total = 0, v = 0;
    int present, any = 0;
    size_t i;
    crm_status st;

    for (i = 0; i < 5; i++) {
        st = get_int(L, obj, path, units[i], 0, 3660, &v, &present);
        if (st != CRM_OK)
            return st;
        any |= present;
        if (present)
            total += v * scale[i];
    }
    if (!any)
        return bad(L, obj, path, "needs one of weeks, days, hours, minutes, seconds");
    *seconds = total;
    return CRM_OK;
}

static int weekday_from_name(const char *s, size_t len)
{
    static const char *const names[] = {"monday", "tuesday", "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    int i;

    for (i = 0; i < 7; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

static crm_status parse_wait(loader *L, const crm_json *obj, const char *path,
                             scn_wait *w)
{
    static const char *const keys[] = {"weeks", "days", "hours", "minutes", "seconds",
                                       "at", "weekday", NULL};
    const crm_json *wd;
    int has_at, present;
    int64_t days = 0;
    crm_status st = check_keys(L, obj, path, keys);
    char child[PATH_MAX_LEN];

    if (st == CRM_OK)
        st = get_time_of_day(L, obj, path, 0, &w->at, &has_at);
    if (st == CRM_OK)
        st = member(L, obj, path, "weekday", CRM_JSON_STRING, 0, &wd);
    if (st != CRM_OK)
        return st;
    if (wd) {
        join(child, path, "weekday");
        w->kind = SCN_WAIT_WEEKDAY_AT;
        w->weekday = weekday_from_name(wd->text, wd->len);
        if (w->weekday < 0)
            return bad(L, wd, child, "must be a weekday name such as \"monday\"");
        if (!has_at || obj->count != 2)
            return bad(L, obj, path, "a weekday wait takes exactly weekday and at");
        return CRM_OK;
    }
    if (has_at) {
        w->kind = SCN_WAIT_DAYS_AT;
        st = get_int(L, obj, path, "days", 0, 3660, &days, &present);
        if (st != CRM_OK)
            return st;
        if (obj->count != (size_t)(1 + present))
            return bad(L, obj, path, "a wait with \"at\" takes only days");
        w->days = (int32_t)days;
        return CRM_OK;
    }
    w->kind = SCN_WAIT_DURATION;
    return parse_duration(L, obj, path, &w->seconds);
}

/* ---- steps ------------------------------------------------------------- */

static uint32_t find_step(const scn_def *def, const char *id, size_t len)
{
    size_t i;

    for (i = 0; i < def->n_steps; i++)
        if (def->steps[i].id_len == len && memcmp(def->steps[i].id, id, len) == 0)
            return (uint32_t)i;
    return SCN_NONE;
}

static crm_status get_target(loader *L, const crm_json *obj, const char *path,
                             const char *key, int required, uint32_t *out)
{
    const crm_json *v;
    char child[PATH_MAX_LEN];
    crm_status st = member(L, obj, path, key, CRM_JSON_STRING, required, &v);

    if (st != CRM_OK || !v)
        return st;
    join(child, path, key);
    *out = find_step(L->def, v->text, v->len);
    if (*out == SCN_NONE)
        return bad(L, v, child, "unknown step id");
    return CRM_OK;
}

static crm_status parse_send(loader *L, const crm_json *obj, const char *path,
                             scn_step *s)
{
    static const char *const keys[] = {"channel", "template", "params", NULL};
    const char *channel;
    const crm_json *params, *ch;
    size_t len;
    char *text;
    char child[PATH_MAX_LEN];
    crm_status st = check_keys(L, obj, path, keys);

    if (st == CRM_OK)
        st = get_string(L, obj, path, "channel", 1, &channel, &len);
    if (st == CRM_OK)
        st = get_string(L, obj, path, "template", 1, &s->template_id, NULL);
    if (st == CRM_OK)
        st = member(L, obj, path, "params", CRM_JSON_OBJECT, 0, &params);
    if (st != CRM_OK)
        return st;
    s->channel = scn_channel_from_name(channel, len);
    if (s->channel < 0) {
        ch = crm_json_get(obj, "channel");
        join(child, path, "channel");
        return bad(L, ch, child, "unknown channel (email, line, sms, push, webhook, in_app)");
    }
    s->channel_name = scn_channel_name(s->channel);
    text = params ? crm_arena_strndup(&L->def->arena, L->json + params->src_offset,
                                      params->src_len)
                  : crm_arena_strndup(&L->def->arena, "{}", 2);
    if (!text)
        return nomem(L);
    s->params = text;
    return CRM_OK;
}

static crm_status parse_wait_event(loader *L, const crm_json *obj, const char *path,
                                   scn_step *s)
{
    static const char *const keys[] = {"event", "rule", "timeout", "on_event",
                                       "on_timeout", NULL};
    const crm_json *timeout;
    char child[PATH_MAX_LEN];
    crm_status st = check_keys(L, obj, path, keys);

    if (st == CRM_OK)
        st = get_string(L, obj, path, "event", 1, &s->event, &s->event_len);
    if (st == CRM_OK)
        st = compile_rule(L, obj, path, "rule", &s->rule);
    if (st == CRM_OK)
        st = member(L, obj, path, "timeout", CRM_JSON_OBJECT, 1, &timeout);
    if (st == CRM_OK) {
        join(child, path, "timeout");
        st = parse_wait(L, timeout, child, &s->wait);
    }
    if (st == CRM_OK)
        st = get_target(L, obj, path, "on_event", 1, &s->on_event);
    if (st == CRM_OK)
        st = get_target(L, obj, path, "on_timeout", 1, &s->on_other);
    return st;
}

static crm_status parse_branch(loader *L, const crm_json *obj, const char *path,
                               scn_step *s)
{
    static const char *const keys[] = {"rule", "then", "else", NULL};
    crm_status st = check_keys(L, obj, path, keys);

    if (st == CRM_OK && !crm_json_get(obj, "rule"))
        return member(L, obj, path, "rule", CRM_JSON_STRING, 1, &(const crm_json *){NULL});
    if (st == CRM_OK)
        st = compile_rule(L, obj, path, "rule", &s->rule);
    if (st == CRM_OK)
        st = get_target(L, obj, path, "then", 1, &s->on_event);
    if (st == CRM_OK)
        st = get_target(L, obj, path, "else", 1, &s->on_other);
    return st;
}

static crm_status parse_split(loader *L, const crm_json *arr, const char *path,
                              scn_step *s)
{
    static const char *const keys[] = {"weight", "next", NULL};
    char item[PATH_MAX_LEN];
    int64_t weight = 0;
    int present;
    size_t i;
    crm_status st;

    if (arr->count < 2 || arr->count > SCN_MAX_VARIANTS)
        return bad(L, arr, path, "needs 2..16 variants");
    for (i = 0; i < arr->count; i++) {
        const crm_json *v = arr->items[i];

        path_printf(item, "%s[%zu]", path, i);
        if (v->type != CRM_JSON_OBJECT)
            return bad(L, v, item, "expected object");
        st = check_keys(L, v, item, keys);
        if (st == CRM_OK)
            st = get_int(L, v, item, "weight", 1, 1000000, &weight, &present);
        if (st == CRM_OK && !present)
            return member(L, v, item, "weight", CRM_JSON_NUMBER, 1, &(const crm_json *){NULL});
        if (st == CRM_OK)
            st = get_target(L, v, item, "next", 1, &s->targets[i]);
        if (st != CRM_OK)
            return st;
        s->weights[i] = (uint32_t)weight;
        s->total_weight += (uint32_t)weight;
    }
    s->nvariants = (uint32_t)arr->count;
    return CRM_OK;
}

static const char *const step_kinds[] = {"send", "wait", "wait_for_event", "branch",
                                         "ab_split", "exit"};

/* Finds the one kind member of a step object. */
static crm_status step_kind(loader *L, const crm_json *obj, const char *path,
                            int *kind, const crm_json **body)
{
    int k, found = -1;

    for (k = 0; k < 6; k++) {
        const crm_json *v = crm_json_get(obj, step_kinds[k]);

        if (!v)
            continue;
        if (found >= 0)
            return bad(L, v, path, "a step has exactly one kind");
        found = k;
        *body = v;
    }
    if (found < 0)
        return bad(L, obj, path,
                   "needs one of send, wait, wait_for_event, branch, ab_split, exit");
    *kind = found;
    return CRM_OK;
}

static crm_status parse_step_body(loader *L, const crm_json *body, const char *path,
                                  scn_step *s)
{
    char child[PATH_MAX_LEN];
    crm_json_type want = s->kind == SCN_SPLIT ? CRM_JSON_ARRAY : CRM_JSON_OBJECT;
    static const char *const none[] = {NULL};

    join(child, path, step_kinds[s->kind]);
    if (body->type != want)
        return bad(L, body, child, want == CRM_JSON_ARRAY ? "expected array" : "expected object");
    switch (s->kind) {
    case SCN_SEND:
        return parse_send(L, body, child, s);
    case SCN_WAIT:
        return parse_wait(L, body, child, &s->wait);
    case SCN_WAIT_EVENT:
        return parse_wait_event(L, body, child, s);
    case SCN_BRANCH:
        return parse_branch(L, body, child, s);
    case SCN_SPLIT:
        return parse_split(L, body, child, s);
    default:
        return check_keys(L, body, child, none);
    }
}

static crm_status parse_step(loader *L, const crm_json *obj, const char *path,
                             size_t index)
{
    static const char *const keys[] = {"id", "next", "send", "wait", "wait_for_event",
                                       "branch", "ab_split", "exit", NULL};
    scn_step *s = &L->def->steps[index];
    const crm_json *body = NULL;
    int kind = 0;
    crm_status st = check_keys(L, obj, path, keys);

    if (st == CRM_OK)
        st = step_kind(L, obj, path, &kind, &body);
    if (st != CRM_OK)
        return st;
    s->kind = kind;
    s->next = index + 1 < L->def->n_steps ? (uint32_t)(index + 1) : SCN_NONE;
    if (kind == SCN_SEND || kind == SCN_WAIT)
        st = get_target(L, obj, path, "next", 0, &s->next);
    else if (crm_json_get(obj, "next"))
        return bad(L, crm_json_get(obj, "next"), path,
                   "next is only allowed on send and wait steps");
    if (st != CRM_OK)
        return st;
    return parse_step_body(L, body, path, s);
}

/* First pass: every step is an object with a unique id. */
static crm_status collect_step_ids(loader *L, const crm_json *steps)
{
    char path[PATH_MAX_LEN];
    size_t i;
    crm_status st;

    for (i = 0; i < steps->count; i++) {
        const crm_json *obj = steps->items[i];
        scn_step *s = &L->def->steps[i];

        path_printf(path, "steps[%zu]", i);
        if (obj->type != CRM_JSON_OBJECT)
            return bad(L, obj, path, "expected object");
        st = get_string(L, obj, path, "id", 1, &s->id, &s->id_len);
        if (st != CRM_OK)
            return st;
        s->id_hash = scn_hash64(UINT64_C(0xcbf29ce484222325), s->id, s->id_len);
        L->def->n_steps = i;
        if (find_step(L->def, s->id, s->id_len) != SCN_NONE)
            return bad(L, crm_json_get(obj, "id"), path, "duplicate step id");
    }
    L->def->n_steps = steps->count;
    return CRM_OK;
}

/* ---- graph checks ------------------------------------------------------ */

/* The steps reachable from step i, without passing time (-1 terminated). */
static size_t instant_edges(const scn_step *s, uint32_t *out)
{
    size_t n = 0, k;

    switch (s->kind) {
    case SCN_SEND:
        if (s->next != SCN_NONE)
            out[n++] = s->next;
        break;
    case SCN_BRANCH:
        out[n++] = s->on_event;
        out[n++] = s->on_other;
        break;
    case SCN_SPLIT:
        for (k = 0; k < s->nvariants; k++)
            out[n++] = s->targets[k];
        break;
    default:
        break;
    }
    return n;
}

static size_t all_edges(const scn_step *s, uint32_t *out)
{
    size_t n = instant_edges(s, out);

    if (s->kind == SCN_WAIT && s->next != SCN_NONE)
        out[n++] = s->next;
    if (s->kind == SCN_WAIT_EVENT) {
        out[n++] = s->on_event;
        out[n++] = s->on_other;
    }
    return n;
}

static crm_status step_error(loader *L, const crm_json *steps, uint32_t i, const char *msg)
{
    char path[PATH_MAX_LEN];

    path_printf(path, "steps[%u]", (unsigned)i);
    return bad(L, steps->items[i], path, msg);
}

/* Every step must be reachable from the first one. */
static crm_status check_reachable(loader *L, const crm_json *steps, uint8_t *mark,
                                  uint32_t *stack)
{
    const scn_def *def = L->def;
    size_t top = 0, n, k, i;
    uint32_t edges[SCN_MAX_VARIANTS + 2];

    memset(mark, 0, def->n_steps);
    stack[top++] = 0;
    mark[0] = 1;
    while (top > 0) {
        const scn_step *s = &def->steps[stack[--top]];

        n = all_edges(s, edges);
        for (k = 0; k < n; k++)
            if (!mark[edges[k]]) {
                mark[edges[k]] = 1;
                stack[top++] = edges[k];
            }
    }
    for (i = 0; i < def->n_steps; i++)
        if (!mark[i])
            return step_error(L, steps, (uint32_t)i, "unreachable step");
    return CRM_OK;
}

/*
 * No cycle may run without a wait: depth-first search over the instant
 * edges with colours (0 new, 1 on the path, 2 done). iter[] keeps each
 * node's next edge so the search needs no recursion.
 */
static crm_status check_instant_cycles(loader *L, const crm_json *steps, uint8_t *color,
                                       uint32_t *stack)
{
    const scn_def *def = L->def;
    uint32_t edges[SCN_MAX_VARIANTS + 2];
    uint8_t iter[SCN_MAX_STEPS];
    size_t root, top, n;

    memset(color, 0, def->n_steps);
    for (root = 0; root < def->n_steps; root++) {
        if (color[root])
            continue;
        top = 0;
        stack[top++] = (uint32_t)root;
        color[root] = 1;
        iter[root] = 0;
        while (top > 0) {
            uint32_t u = stack[top - 1];

            n = instant_edges(&def->steps[u], edges);
            if (iter[u] >= n) {
                color[u] = 2;
                top--;
                continue;
            }
            {
                uint32_t v = edges[iter[u]++];

                if (color[v] == 1)
                    return step_error(L, steps, v, "cycle without a wait");
                if (color[v] == 0) {
                    color[v] = 1;
                    iter[v] = 0;
                    stack[top++] = v;
                }
            }
        }
    }
    return CRM_OK;
}

static crm_status check_graph(loader *L, const crm_json *steps)
{
    uint8_t mark[SCN_MAX_STEPS];
    uint32_t stack[SCN_MAX_STEPS];
    crm_status st = check_reachable(L, steps, mark, stack);

    if (st == CRM_OK)
        st = check_instant_cycles(L, steps, mark, stack);
    return st;
}

static crm_status parse_steps(loader *L, const crm_json *root)
{
    const crm_json *steps;
    char path[PATH_MAX_LEN];
    size_t i;
    crm_status st = member(L, root, "", "steps", CRM_JSON_ARRAY, 1, &steps);

    if (st != CRM_OK)
        return st;
    if (steps->count == 0)
        return bad(L, steps, "steps", "needs at least one step");
    if (steps->count > SCN_MAX_STEPS)
        return crm_error_at(L->ctx, CRM_ELIMIT, steps->line, steps->column,
                            "scenario: steps: more than %u steps", SCN_MAX_STEPS);
    L->def->steps = crm_arena_alloc(&L->def->arena, steps->count * sizeof *L->def->steps);
    L->def->conds = crm_arena_alloc(&L->def->arena, (steps->count * 2 + 2) * sizeof *L->def->conds);
    if (!L->def->steps || !L->def->conds)
        return nomem(L);
    memset(L->def->steps, 0, steps->count * sizeof *L->def->steps);
    st = collect_step_ids(L, steps);
    for (i = 0; st == CRM_OK && i < steps->count; i++) {
        path_printf(path, "steps[%zu]", i);
        st = parse_step(L, steps->items[i], path, i);
    }
    if (st == CRM_OK)
        st = check_graph(L, steps);
    return st;
}

/* ---- header: id, version, trigger, entry, exit, re-entry ------------- */

static crm_status parse_date_trigger(loader *L, const crm_json *obj, const char *path)
{
    static const char *const keys[] = {"attribute", "days_before", "days_after", "at",
                                       "annual", NULL};
    scn_def *def = L->def;
    int64_t before = 0, after = 0;
    int has_before, has_after, has_at;
    const crm_json *annual;
    crm_status st = check_keys(L, obj, path, keys);

    if (st == CRM_OK)
        st = get_string(L, obj, path, "attribute", 1, &def->date_attr, NULL);
    if (st == CRM_OK)
        st = get_int(L, obj, path, "days_before", 0, 366, &before, &has_before);
    if (st == CRM_OK)
        st = get_int(L, obj, path, "days_after", 0, 366, &after, &has_after);
    if (st == CRM_OK)
        st = get_time_of_day(L, obj, path, 1, &def->date_at, &has_at);
    if (st == CRM_OK)
        st = member(L, obj, path, "annual", CRM_JSON_TRUE, 0, &annual);
    if (st != CRM_OK)
        return st;
    if (has_before && has_after)
        return bad(L, obj, path, "days_before and days_after exclude each other");
    if (!scn_time_attr_find(L->schema, def->date_attr, &def->date_attr_index))
        return bad(L, crm_json_get(obj, "attribute"), "trigger.date.attribute",
                   "not a time attribute of the engine's schema");
    def->date_days = (int32_t)(after - before);
    def->date_annual = annual && annual->type == CRM_JSON_TRUE;
    return CRM_OK;
}

static crm_status parse_trigger(loader *L, const crm_json *root)
{
    static const char *const keys[] = {"event", "rule", "segment", "date", NULL};
    const crm_json *trig, *date;
    scn_def *def = L->def;
    int kinds;
    crm_status st = member(L, root, "", "trigger", CRM_JSON_OBJECT, 1, &trig);

    if (st == CRM_OK)
        st = check_keys(L, trig, "trigger", keys);
    if (st != CRM_OK)
        return st;
    kinds = !!crm_json_get(trig, "event") + !!crm_json_get(trig, "segment") +
            !!crm_json_get(trig, "date");
    if (kinds != 1)
        return bad(L, trig, "trigger", "needs exactly one of event, segment, date");
    if (crm_json_get(trig, "event")) {
        def->trigger = SCN_TRIGGER_EVENT;
        st = get_string(L, trig, "trigger", "event", 1, &def->trigger_event,
                        &def->trigger_event_len);
        if (st == CRM_OK)
            st = compile_rule(L, trig, "trigger", "rule", &def->trigger_rule);
        return st;
    }
    if (crm_json_get(trig, "rule"))
        return bad(L, crm_json_get(trig, "rule"), "trigger.rule",
                   "rule is only allowed with an event trigger");
    if (crm_json_get(trig, "segment")) {
        def->trigger = SCN_TRIGGER_SEGMENT;
        st = member(L, trig, "trigger", "segment", CRM_JSON_STRING, 1, &date);
        if (st == CRM_OK)
            st = compile_rule(L, trig, "trigger", "segment", &def->trigger_rule);
        return st;
    }
    def->trigger = SCN_TRIGGER_DATE;
    st = member(L, trig, "trigger", "date", CRM_JSON_OBJECT, 1, &date);
    if (st == CRM_OK)
        st = parse_date_trigger(L, date, "trigger.date");
    return st;
}

static crm_status parse_exit_events(loader *L, const crm_json *root)
{
    const crm_json *arr;
    char path[PATH_MAX_LEN];
    size_t i;
    crm_status st = member(L, root, "", "exit_events", CRM_JSON_ARRAY, 0, &arr);

    if (st != CRM_OK || !arr)
        return st;
    L->def->exit_events = crm_arena_alloc(&L->def->arena, (arr->count + 1) * sizeof(char *));
    L->def->exit_event_lens = crm_arena_alloc(&L->def->arena, (arr->count + 1) * sizeof(size_t));
    if (!L->def->exit_events || !L->def->exit_event_lens)
        return nomem(L);
    for (i = 0; i < arr->count; i++) {
        const crm_json *v = arr->items[i];

        path_printf(path, "exit_events[%zu]", i);
        if (v->type != CRM_JSON_STRING || v->len == 0 || memchr(v->text, '\0', v->len))
            return bad(L, v, path, "expected a non-empty event name");
        L->def->exit_events[i] = crm_arena_strndup(&L->def->arena, v->text, v->len);
        if (!L->def->exit_events[i])
            return nomem(L);
        L->def->exit_event_lens[i] = v->len;
    }
    L->def->n_exit_events = arr->count;
    return CRM_OK;
}

static crm_status parse_reentry(loader *L, const crm_json *root)
{
    static const char *const keys[] = {"cooldown", NULL};
    const crm_json *v = crm_json_get(root, "reentry"), *cd;
    crm_status st;

    L->def->reentry = SCN_REENTRY_ONCE;
    if (!v)
        return CRM_OK;
    if (v->type == CRM_JSON_STRING && v->len == 4 && memcmp(v->text, "once", 4) == 0)
        return CRM_OK;
    if (v->type == CRM_JSON_STRING && v->len == 6 && memcmp(v->text, "always", 6) == 0) {
        L->def->reentry = SCN_REENTRY_ALWAYS;
        return CRM_OK;
    }
    if (v->type != CRM_JSON_OBJECT)
        return bad(L, v, "reentry", "expected \"once\", \"always\" or {\"cooldown\": {...}}");
    L->def->reentry = SCN_REENTRY_COOLDOWN;
    st = check_keys(L, v, "reentry", keys);
    if (st == CRM_OK)
        st = member(L, v, "reentry", "cooldown", CRM_JSON_OBJECT, 1, &cd);
    if (st == CRM_OK)
        st = parse_duration(L, cd, "reentry.cooldown", &L->def->cooldown);
    return st;
}

static crm_status parse_header(loader *L, const crm_json *root)
{
    static const char *const keys[] = {"id", "version", "name", "trigger", "entry_rule",
                                       "exit_events", "reentry", "steps", NULL};
    int64_t version = 0;
    int present;
    size_t len = 0;
    const crm_json *name;
    crm_status st;

    if (root->type != CRM_JSON_OBJECT)
        return bad(L, root, "$", "a scenario is a JSON object");
    st = check_keys(L, root, "", keys);
    if (st == CRM_OK)
        st = get_string(L, root, "", "id", 1, &L->def->id, &len);
    if (st == CRM_OK)
        st = get_int(L, root, "", "version", 1, UINT32_MAX, &version, &present);
    if (st == CRM_OK && !present)
        st = member(L, root, "", "version", CRM_JSON_NUMBER, 1, &name);
    if (st == CRM_OK)
        st = member(L, root, "", "name", CRM_JSON_STRING, 0, &name);
    if (st != CRM_OK)
        return st;
    if (len > 128)
        return bad(L, crm_json_get(root, "id"), "id", "longer than 128 bytes");
    L->def->id_hash = scn_hash32(L->def->id, len);
    L->def->version = (uint32_t)version;
    L->def->key_hash = scn_hash64(scn_hash64(UINT64_C(0xcbf29ce484222325), L->def->id, len + 1),
                                  &(uint8_t[4]){(uint8_t)version, (uint8_t)(version >> 8),
                                                (uint8_t)(version >> 16),
                                                (uint8_t)(version >> 24)},
                                  4);
    return CRM_OK;
}

static crm_status parse_definition(loader *L, const crm_json *root)
{
    crm_status st = parse_header(L, root);

    if (st == CRM_OK)
        st = parse_steps(L, root);
    if (st == CRM_OK)
        st = parse_trigger(L, root);
    if (st == CRM_OK)
        st = compile_rule(L, root, "", "entry_rule", &L->def->entry_rule);
    if (st == CRM_OK)
        st = parse_exit_events(L, root);
    if (st == CRM_OK)
        st = parse_reentry(L, root);
    return st;
}

crm_status scn_def_load(crm_ctx *ctx, const crm_segment_schema *schema,
                        int32_t offset_min, const char *json, size_t len,
                        scn_def **out)
{
    loader L;
    crm_arena scratch;
    const crm_json *root = NULL;
    scn_def *def = crm_mem_calloc(ctx, 1, sizeof *def);
    crm_status st;

    if (!def)
        return crm_error_nomem(ctx);
    crm_arena_init(&def->arena, ctx, 1024);
    crm_arena_init(&scratch, ctx, 4096);
    L.ctx = ctx;
    L.def = def;
    L.schema = schema;
    L.offset_min = offset_min;
    L.json = json;
    st = crm_json_parse(ctx, &scratch, json, len, NULL, &root);
    if (st == CRM_OK)
        st = parse_definition(&L, root);
    crm_arena_free(&scratch);
    if (st != CRM_OK) {
        scn_def_free(ctx, def);
        return st;
    }
    *out = def;
    return CRM_OK;
}

void scn_def_free(crm_ctx *ctx, scn_def *def)
{
    size_t i;

    if (!def)
        return;
    for (i = 0; i < def->n_conds; i++)
        scn_cond_free(ctx, def->conds[i]);
    crm_arena_free(&def->arena);
    crm_mem_free(ctx, def);
}

int scn_channel_from_name(const char *name, size_t len)
{
    int c;

    for (c = 0; c < SCN_CHANNEL_COUNT; c++)
        if (strlen(scn_channel_name(c)) == len && memcmp(scn_channel_name(c), name, len) == 0)
            return c;
    return -1;
}

const char *scn_channel_name(int channel)
{
    static const char *const names[SCN_CHANNEL_COUNT] = {"email", "line", "sms",
                                                          "push", "webhook", "in_app"};

    return channel >= 0 && channel < SCN_CHANNEL_COUNT ? names[channel] : "";
}
