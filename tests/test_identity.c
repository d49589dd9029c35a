/*
 * Check suite for the identity graph (include/crm/identity.h, everything
 * but the normalisers, which test_identity_normalize.c covers).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/identity.h"
#include "test_util.h"

/* ---- Helpers ---------------------------------------------------------------- */

enum { MEMBER, EMAIL, PHONE, LINE, NAME };

/* member (limit 1), email (limit 5), phone (limit 3), line (no limit),
 * name (non-merging). */
static crm_identity *new_graph(crm_ctx *ctx)
{
    crm_identity *idn = NULL;
    int k;

    ck_assert_int_eq(crm_identity_new(ctx, &idn), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "member_id", CRM_NORMALIZE_EXACT, 0, 1, 1, &k), CRM_OK);
    ck_assert_int_eq(k, MEMBER);
    ck_assert_int_eq(crm_identity_add_kind(idn, "email", CRM_NORMALIZE_ICASE, 0, 1, 5, &k), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "phone", CRM_NORMALIZE_EXACT, 0, 1, 3, &k), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "line", CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "name", CRM_NORMALIZE_ICASE, 0, 0, 0, &k), CRM_OK);
    ck_assert_int_eq(k, NAME);
    return idn;
}

/* One observation: up to 4 identifiers, NULL value = absent. */
typedef struct obs {
    int64_t source, at;
    const char *member, *email, *phone, *line;
} obs;

static size_t obs_columns(const obs *o, int *kinds, const char **values)
{
    size_t n = 0;

    if (o->member) { kinds[n] = MEMBER; values[n++] = o->member; }
    if (o->email) { kinds[n] = EMAIL; values[n++] = o->email; }
    if (o->phone) { kinds[n] = PHONE; values[n++] = o->phone; }
    if (o->line) { kinds[n] = LINE; values[n++] = o->line; }
    return n;
}

static crm_status observe(crm_identity *idn, const obs *o, int64_t *profile)
{
    int kinds[4];
    const char *values[4];
    size_t n = obs_columns(o, kinds, values);
    int64_t p = 0;

    return crm_identity_observe(idn, o->source, o->at, n, kinds, values, NULL,
                                profile ? profile : &p);
}

/* crm_identity_add of observations os[order[i]]. */
static crm_status add_all(crm_identity *idn, const obs *os, const size_t *order, size_t n)
{
    int64_t *src = malloc((n + 1) * 8), *at = malloc((n + 1) * 8);
    size_t *off = malloc((n + 1) * sizeof *off);
    int *kinds = malloc((4 * n + 1) * sizeof *kinds);
    const char **values = malloc((4 * n + 1) * sizeof *values);
    size_t i;
    crm_status s;

    off[0] = 0;
    for (i = 0; i < n; i++) {
        const obs *o = &os[order ? order[i] : i];
        src[i] = o->source;
        at[i] = o->at;
        off[i + 1] = off[i] + obs_columns(o, kinds + off[i], values + off[i]);
    }
    s = crm_identity_add(idn, n, src, at, off, kinds, values, NULL);
    free(src);
    free(at);
    free(off);
    free(kinds);
    free(values);
    return s;
}

typedef struct snapshot {
    size_t n;
    int64_t *src, *profile;
} snapshot;

static snapshot take(const crm_identity *idn)
{
    snapshot s;

    ck_assert_int_eq(crm_identity_export(idn, NULL, NULL, 0, &s.n), CRM_OK);
    s.src = malloc((s.n + 1) * 8);
    s.profile = malloc((s.n + 1) * 8);
    if (s.n > 0)
        ck_assert_int_eq(crm_identity_export(idn, s.src, s.profile, s.n, &s.n), CRM_OK);
    return s;
}

static void snapshot_free(snapshot *s)
{
    free(s->src);
    free(s->profile);
}

static void assert_same(const snapshot *a, const snapshot *b)
{
    size_t i;

    ck_assert_uint_eq(a->n, b->n);
    for (i = 0; i < a->n; i++) {
        ck_assert_int_eq(a->src[i], b->src[i]);
        ck_assert_msg(a->profile[i] == b->profile[i],
                      "source %lld: profile %lld vs %lld", (long long)a->src[i],
                      (long long)a->profile[i], (long long)b->profile[i]);
    }
}

static int64_t profile_of(const crm_identity *idn, int64_t source)
{
    int64_t p = -1;

    ck_assert_int_eq(crm_identity_profile_of(idn, source, &p), CRM_OK);
    return p;
}

/* Events recorded by the callback; stop_at > 0 refuses that event. */
typedef struct event_log {
    int n;
    int stop_at;
    crm_identity_event ev[256];
    int64_t profile[256], other[256], to[256];
    int kind[256];
} event_log;

static int record_event(void *user, crm_identity_event ev, int64_t profile,
                        int64_t other, int64_t to, int kind, const char *value,
                        size_t len)
{
    event_log *log = user;

    (void)value;
    (void)len;
    if (log->n < 256) {
        log->ev[log->n] = ev;
        log->profile[log->n] = profile;
        log->other[log->n] = other;
        log->to[log->n] = to;
        log->kind[log->n] = kind;
    }
    log->n++;
    return log->stop_at > 0 && log->n >= log->stop_at;
}

static int count_events(const event_log *log, crm_identity_event ev)
{
    int i, c = 0;

    for (i = 0; i < log->n && i < 256; i++)
        c += log->ev[i] == ev;
    return c;
}

static uint64_t rng_state = 88172645463325252u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void shuffle(size_t *order, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        order[i] = i;
    for (i = n; i > 1; i--) {
        size_t j = (size_t)(rnd() % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* ---- Basic merging ------------------------------------------------------------ */

START_TEST(test_observe_merges_and_keeps_earliest_id)
{
    crm_ctx *ctx;
    crm_identity *idn;
    int64_t p;
    size_t ns, np;
    obs a = {101, 1000, NULL, "taro@example.com", NULL, NULL};
    obs b = {102, 2000, NULL, NULL, "0901234", "U1"};
    obs c = {103, 500, NULL, "TARO@example.com", "0901234", NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(p, 101);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(p, 102);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(p, 103); /* earliest at */
    ck_assert_int_eq(profile_of(idn, 101), 103);
    ck_assert_int_eq(profile_of(idn, 102), 103);
    ck_assert_int_eq(crm_identity_counts(idn, &ns, &np), CRM_OK);
    ck_assert_uint_eq(ns, 3);
    ck_assert_uint_eq(np, 1);
    ck_assert_int_eq(crm_identity_lookup(idn, EMAIL, "Taro@Example.COM", 16, &p), CRM_OK);
    ck_assert_int_eq(p, 103);
    ck_assert_int_eq(crm_identity_lookup(idn, LINE, "U2", 2, &p), CRM_ENOTFOUND);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_merge_events_rekey)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    int64_t p;
    obs a = {1, 100, NULL, "a@x", NULL, NULL};
    obs b = {2, 200, NULL, NULL, "p1", NULL};
    obs c = {3, 300, NULL, "a@x", "p1", NULL};
    obs d = {4, 50, NULL, NULL, "p1", NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(crm_identity_set_event_callback(idn, record_event, &log), CRM_OK);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(log.n, 0);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    ck_assert_int_eq(log.n, 1); /* profile 2 merged into 1 */
    ck_assert_int_eq(log.ev[0], CRM_IDENTITY_MERGED);
    ck_assert_int_eq(log.profile[0], 1);
    ck_assert_int_eq(log.other[0], 2);
    ck_assert_int_eq(observe(idn, &d, &p), CRM_OK);
    ck_assert_int_eq(p, 4); /* an earlier record re-keys profile 1 */
    ck_assert_int_eq(log.n, 2);
    ck_assert_int_eq(log.profile[1], 4);
    ck_assert_int_eq(log.other[1], 1);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_limit_refuses_lowest_priority_link)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    int64_t p;
    obs a = {1, 100, "M1", "fam@x", NULL, NULL};
    obs b = {2, 200, "M2", "fam@x", NULL, NULL};
    obs c = {3, 300, "M2", NULL, "p2", NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    crm_identity_set_event_callback(idn, record_event, &log);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(p, 2); /* email link refused: two member ids */
    ck_assert_int_eq(count_events(&log, CRM_IDENTITY_CONFLICT), 1);
    ck_assert_int_eq(log.kind[0], EMAIL);
    ck_assert_int_eq(log.profile[0], 2);
    ck_assert_int_eq(log.other[0], 1);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(p, 2); /* the member id still links */
    /* the email is held by two profiles: lookup refuses to pick one */
    ck_assert_int_eq(crm_identity_lookup(idn, EMAIL, "fam@x", 5, &p), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_lookup(idn, MEMBER, "M2", 2, &p), CRM_OK);
    ck_assert_int_eq(p, 2);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_observation_with_two_member_ids)
{
    crm_ctx *ctx;
    crm_identity *idn;
    int64_t p;
    int kinds[2] = {MEMBER, MEMBER};
    const char *values[2] = {"M1", "M2"};
    obs b = {2, 200, "M2", NULL, NULL, NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(crm_identity_observe(idn, 1, 100, 2, kinds, values, NULL, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(p, 2); /* M2 was refused to profile 1 */
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_shared_value_stops_merging)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    int64_t p;
    char member[16];
    int i;
    obs guest = {100, 5000, NULL, "family@x", NULL, NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    crm_identity_set_event_callback(idn, record_event, &log);
    for (i = 0; i < 5; i++) {
        obs o = {i + 1, 100 * (i + 1), member, "family@x", NULL, NULL};
        snprintf(member, sizeof member, "M%d", i);
        ck_assert_int_eq(observe(idn, &o, &p), CRM_OK);
        ck_assert_int_eq(p, i + 1);
    }
    ck_assert_int_eq(count_events(&log, CRM_IDENTITY_SHARED), 1);
    ck_assert_int_eq(observe(idn, &guest, &p), CRM_OK);
    ck_assert_int_eq(p, 100); /* the family email no longer merges */
    ck_assert_int_eq(crm_identity_lookup(idn, EMAIL, "family@x", 8, &p), CRM_ENOTFOUND);
    /* resolve recomputes without the shared email */
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 100), 100);
    ck_assert_int_eq(profile_of(idn, 1), 1);
    ck_assert_int_eq(crm_identity_set_shared_limit(idn, 0), CRM_EINVAL);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_family_email_ties_count_without_conflict)
{
    /* four people with their own emails share one home phone: no limit is
     * broken (email allows 5), but the phone ties four profiles holding
     * different emails */
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    char emails[4][8];
    size_t i, ns, np;
    int64_t p;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    crm_identity_set_event_callback(idn, record_event, &log);
    for (i = 0; i < 4; i++) {
        obs o = {(int64_t)i + 1, (int64_t)i, NULL, emails[i], "home", NULL};
        snprintf(emails[i], sizeof emails[i], "e%zu@x", i);
        ck_assert_int_eq(observe(idn, &o, &p), CRM_OK);
    }
    ck_assert_int_eq(count_events(&log, CRM_IDENTITY_SHARED), 1);
    ck_assert_int_eq(count_events(&log, CRM_IDENTITY_CONFLICT), 0);
    ck_assert_int_eq(profile_of(idn, 4), 4); /* the fourth tie was refused */
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_counts(idn, &ns, &np), CRM_OK);
    ck_assert_uint_eq(np, 4); /* and resolve undoes the first three */
    /* with a larger K the household stays one profile */
    ck_assert_int_eq(crm_identity_set_shared_limit(idn, 4), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_counts(idn, &ns, &np), CRM_OK);
    ck_assert_uint_eq(np, 1);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_shared_limit_retroactive_in_resolve)
{
    /* a shop phone typed by many customers: in batch it never merges */
    crm_ctx *ctx;
    crm_identity *idn;
    obs os[12];
    char emails[12][16];
    size_t i;
    size_t ns, np;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    for (i = 0; i < 12; i++) {
        snprintf(emails[i], sizeof emails[i], "c%zu@x", i);
        os[i] = (obs){(int64_t)i + 1, (int64_t)i, NULL, emails[i], "shop", NULL};
    }
    ck_assert_int_eq(add_all(idn, os, NULL, 12), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_counts(idn, &ns, &np), CRM_OK);
    ck_assert_uint_eq(np, 12);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_profile_cap)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    int64_t p;
    obs a = {1, 1, NULL, "a@x", NULL, "L1"};
    obs b = {2, 2, NULL, "b@x", NULL, "L1"};
    obs c = {3, 3, NULL, "c@x", NULL, "L2"};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(crm_identity_set_profile_cap(idn, 0), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_set_profile_cap(idn, 3), CRM_OK);
    crm_identity_set_event_callback(idn, record_event, &log);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(p, 1); /* 3 values: a@x, L1, b@x */
    c.line = "L1";
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(p, 3);
    ck_assert_int_ge(count_events(&log, CRM_IDENTITY_CAPPED), 1);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_blocked_and_placeholders)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    int64_t p;
    obs a = {1, 1, NULL, "shop@x", NULL, "none"};
    obs b = {2, 2, NULL, "SHOP@x", NULL, "NONE"};
    obs c = {3, 3, NULL, "", NULL, NULL};
    obs d = {4, 4, NULL, "", NULL, NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(crm_identity_block_value(idn, EMAIL, "Shop@X", 6), CRM_OK);
    ck_assert_int_eq(crm_identity_block_value(idn, 99, "x", 1), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_block_value(idn, EMAIL, "\xff", 1), CRM_EUTF8);
    crm_identity_set_event_callback(idn, record_event, &log);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(p, 2);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &d, &p), CRM_OK);
    ck_assert_int_eq(p, 4);
    ck_assert_int_ge(count_events(&log, CRM_IDENTITY_BLOCKED), 4);
    ck_assert_int_eq(crm_identity_lookup(idn, EMAIL, "shop@x", 6, &p), CRM_ENOTFOUND);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_block_after_link_takes_effect_at_resolve)
{
    crm_ctx *ctx;
    crm_identity *idn;
    int64_t p;
    obs a = {1, 1, NULL, "x@x", NULL, NULL};
    obs b = {2, 2, NULL, "x@x", NULL, NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    ck_assert_int_eq(crm_identity_block_value(idn, EMAIL, "x@x", 3), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 2), 1);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 2), 2);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_rejected_value_ignored)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    int k_mail, k_line, kinds[2];
    const char *values[2] = {"not an email", "U9"};
    int64_t p;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_identity_new(ctx, &idn), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "email", CRM_NORMALIZE_EMAIL, 0, 1, 5, &k_mail), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "line", CRM_NORMALIZE_EXACT, 0, 1, 0, &k_line), CRM_OK);
    crm_identity_set_event_callback(idn, record_event, &log);
    kinds[0] = k_mail;
    kinds[1] = k_line;
    ck_assert_int_eq(crm_identity_observe(idn, 7, 1, 2, kinds, values, NULL, &p), CRM_OK);
    ck_assert_int_eq(p, 7);
    ck_assert_int_eq(count_events(&log, CRM_IDENTITY_REJECTED), 1);
    ck_assert_int_eq(log.kind[0], k_mail);
    ck_assert_int_eq(crm_identity_lookup(idn, k_line, "U9", 2, &p), CRM_OK);
    ck_assert_int_eq(p, 7);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_composite_kind)
{
    crm_ctx *ctx;
    crm_identity *idn;
    int name, zip, combo, parts[2], kinds[2];
    const char *v1[2] = {"Yamada Taro", "1000001"};
    const char *v2[2] = {"yamada taro", "1000001"};
    const char *v3[1] = {"Yamada Taro"};
    int64_t p;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_identity_new(ctx, &idn), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "name", CRM_NORMALIZE_ICASE, 0, 0, 0, &name), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "zip", CRM_NORMALIZE_EXACT, 0, 0, 0, &zip), CRM_OK);
    parts[0] = name;
    parts[1] = name;
    ck_assert_int_eq(crm_identity_add_composite_kind(idn, "nz", parts, 2, 1, 0, &combo), CRM_EINVAL);
    parts[1] = zip;
    ck_assert_int_eq(crm_identity_add_composite_kind(idn, "nz", parts, 1, 1, 0, &combo), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_add_composite_kind(idn, "nz", parts, 2, 1, 0, &combo), CRM_OK);
    ck_assert_int_eq(crm_identity_add_composite_kind(idn, "nz", parts, 2, 1, 0, &combo), CRM_EEXIST);
    kinds[0] = name;
    kinds[1] = zip;
    ck_assert_int_eq(crm_identity_observe(idn, 1, 1, 2, kinds, v1, NULL, &p), CRM_OK);
    ck_assert_int_eq(crm_identity_observe(idn, 2, 2, 2, kinds, v2, NULL, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    ck_assert_int_eq(crm_identity_observe(idn, 3, 3, 1, kinds, v3, NULL, &p), CRM_OK);
    ck_assert_int_eq(p, 3); /* a name alone does not merge */
    ck_assert_int_eq(crm_identity_lookup(idn, combo, "YAMADA TARO\x1f" "1000001", 19, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    ck_assert_int_eq(crm_identity_lookup(idn, combo, "YAMADA TARO", 11, &p), CRM_EINVAL);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Batch = canonical, for every arrival order --------------------------------- */

#define RANDOM_N 300

/* Random observations over small value universes, so that merges,
 * conflicts and shared values all happen. */
static obs *random_observations(size_t n, int with_members, char (*buf)[4][16])
{
    obs *os = calloc(n, sizeof *os);
    size_t i;

    for (i = 0; i < n; i++) {
        os[i].source = (int64_t)(i * 7 + 3);
        os[i].at = (int64_t)(rnd() % 50);
        if (with_members && rnd() % 3 == 0) {
            snprintf(buf[i][0], 16, "M%u", (unsigned)(rnd() % 40));
            os[i].member = buf[i][0];
        }
        if (rnd() % 4 != 0) {
            snprintf(buf[i][1], 16, "e%u@x", (unsigned)(rnd() % 150));
            os[i].email = buf[i][1];
        }
        if (rnd() % 2 == 0) {
            snprintf(buf[i][2], 16, "p%u", (unsigned)(rnd() % 120));
            os[i].phone = buf[i][2];
        }
        if (rnd() % 5 == 0) {
            snprintf(buf[i][3], 16, "L%u", (unsigned)(rnd() % 100));
            os[i].line = buf[i][3];
        }
    }
    return os;
}

START_TEST(test_resolve_independent_of_order)
{
    char (*buf)[4][16] = calloc(RANDOM_N, sizeof *buf);
    obs *os = random_observations(RANDOM_N, 1, buf);
    size_t order[RANDOM_N];
    snapshot first = {0}, again;
    crm_ctx *ctx;
    int round;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (round = 0; round < 40; round++) {
        crm_identity *idn = new_graph(ctx);
        size_t half = RANDOM_N / 3;
        shuffle(order, RANDOM_N);
        /* some rounds mix observe, add and resolve */
        if (round % 3 == 1) {
            size_t i;
            for (i = 0; i < half; i++)
                ck_assert_int_eq(observe(idn, &os[order[i]], NULL), CRM_OK);
            ck_assert_int_eq(add_all(idn, os, order + half, RANDOM_N - half), CRM_OK);
        } else {
            ck_assert_int_eq(add_all(idn, os, order, RANDOM_N), CRM_OK);
        }
        ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
        again = take(idn);
        if (round == 0)
            first = again;
        else {
            assert_same(&first, &again);
            snapshot_free(&again);
        }
        /* resolving twice changes nothing */
        ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
        again = take(idn);
        assert_same(&first, &again);
        snapshot_free(&again);
        crm_identity_free(idn);
    }
    snapshot_free(&first);
    crm_ctx_free(ctx);
    free(os);
    free(buf);
}
END_TEST

/* Observations of one time, more of them than ties are put in order by
 * insertion, are ordered by source_id: their profile is the smallest's,
 * whatever order they came in. */
START_TEST(test_resolve_orders_long_ties_by_source)
{
    enum { TIES = 40 };
    obs os[TIES];
    size_t order[TIES], i;
    crm_ctx *ctx;
    int round;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    memset(os, 0, sizeof os);
    for (i = 0; i < TIES; i++) {
        os[i].source = (int64_t)(1000 - 7 * i);
        os[i].at = 5;
        os[i].line = "L1";
    }
    for (round = 0; round < 5; round++) {
        crm_identity *idn = new_graph(ctx);
        shuffle(order, TIES);
        ck_assert_int_eq(add_all(idn, os, order, TIES), CRM_OK);
        ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
        for (i = 0; i < TIES; i++)
            ck_assert_int_eq(profile_of(idn, os[i].source),
                             1000 - 7 * (TIES - 1));
        crm_identity_free(idn);
    }
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_incremental_equals_batch_without_conflicts)
{
    char (*buf)[4][16] = calloc(RANDOM_N, sizeof *buf);
    obs *os = random_observations(RANDOM_N, 0, buf);
    size_t order[RANDOM_N], i;
    crm_ctx *ctx;
    int round, k;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (round = 0; round < 20; round++) {
        crm_identity *inc, *bat;
        event_log log = {0};
        snapshot a, b;
        /* no limits: nothing is ever refused */
        ck_assert_int_eq(crm_identity_new(ctx, &inc), CRM_OK);
        ck_assert_int_eq(crm_identity_new(ctx, &bat), CRM_OK);
        for (k = 0; k < 4; k++) {
            static const char *names[4] = {"member_id", "email", "phone", "line"};
            int got;
            ck_assert_int_eq(crm_identity_add_kind(inc, names[k], CRM_NORMALIZE_EXACT, 0, 1, 0, &got), CRM_OK);
            ck_assert_int_eq(crm_identity_add_kind(bat, names[k], CRM_NORMALIZE_EXACT, 0, 1, 0, &got), CRM_OK);
        }
        shuffle(order, RANDOM_N);
        for (i = 0; i < RANDOM_N; i++)
            ck_assert_int_eq(observe(inc, &os[order[i]], NULL), CRM_OK);
        shuffle(order, RANDOM_N);
        ck_assert_int_eq(add_all(bat, os, order, RANDOM_N), CRM_OK);
        ck_assert_int_eq(crm_identity_resolve(bat), CRM_OK);
        a = take(inc);
        b = take(bat);
        assert_same(&a, &b);
        crm_identity_set_event_callback(inc, record_event, &log);
        ck_assert_int_eq(crm_identity_resolve(inc), CRM_OK);
        ck_assert_int_eq(count_events(&log, CRM_IDENTITY_MOVED), 0);
        snapshot_free(&a);
        snapshot_free(&b);
        crm_identity_free(inc);
        crm_identity_free(bat);
    }
    crm_ctx_free(ctx);
    free(os);
    free(buf);
}
END_TEST

START_TEST(test_resolve_reports_moves)
{
    /* arrival b, a, c: b and a link through the phone, c's email link is
     * refused (M1 vs M2). Canonical order c, a, b: b joins c through the
     * email first, and its phone link to a is the one refused. */
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    obs a = {1, 10, "M1", NULL, "p", NULL};
    obs b = {2, 20, NULL, "e@x", "p", NULL};
    obs c = {3, 5, "M2", "e@x", NULL, NULL};
    int64_t p;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(p, 3);
    ck_assert_int_eq(profile_of(idn, 2), 1);
    crm_identity_set_event_callback(idn, record_event, &log);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 2), 3);
    ck_assert_int_eq(profile_of(idn, 1), 1);
    ck_assert_int_eq(count_events(&log, CRM_IDENTITY_MOVED), 1);
    ck_assert_int_eq(log.ev[log.n - 1], CRM_IDENTITY_MOVED);
    ck_assert_int_eq(log.profile[log.n - 1], 1);
    ck_assert_int_eq(log.other[log.n - 1], 2);
    ck_assert_int_eq(log.to[log.n - 1], 3);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Callbacks that refuse leave the graph unchanged ------------------------ */

START_TEST(test_callback_refusal_changes_nothing)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    snapshot before, after;
    int64_t p;
    obs a = {1, 10, "M1", "a@x", NULL, NULL};
    obs b = {2, 20, NULL, NULL, "p", NULL};
    obs c = {3, 5, "M2", "a@x", "p", NULL};
    obs d = {4, 1, NULL, "a@x", "p", NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    before = take(idn);
    crm_identity_set_event_callback(idn, record_event, &log);
    log.stop_at = 1;
    ck_assert_int_eq(observe(idn, &d, &p), CRM_ECALLBACK);
    ck_assert_int_eq(crm_identity_profile_of(idn, 4, &p), CRM_ENOTFOUND);
    after = take(idn);
    assert_same(&before, &after);
    snapshot_free(&after);
    log.n = 0;
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_ECALLBACK);
    after = take(idn);
    assert_same(&before, &after);
    snapshot_free(&after);
    log.n = 0;
    ck_assert_int_eq(crm_identity_forget_source(idn, 3), CRM_ECALLBACK);
    after = take(idn);
    assert_same(&before, &after);
    snapshot_free(&after);
    /* and the graph still works */
    log.stop_at = 0;
    ck_assert_int_eq(observe(idn, &d, &p), CRM_OK);
    ck_assert_int_eq(p, 4);
    snapshot_free(&before);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Forget ------------------------------------------------------------------ */

START_TEST(test_forget_source_splits)
{
    crm_ctx *ctx;
    crm_identity *idn;
    event_log log = {0};
    int64_t p;
    size_t ns, np;
    obs a = {1, 10, NULL, "a@x", NULL, NULL};
    obs b = {2, 20, NULL, "a@x", "p", NULL};
    obs c = {3, 30, NULL, NULL, "p", "L"};
    obs d = {4, 40, NULL, NULL, NULL, "L"};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &d, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    crm_identity_set_event_callback(idn, record_event, &log);
    ck_assert_int_eq(crm_identity_forget_source(idn, 2), CRM_OK);
    ck_assert_int_eq(crm_identity_forget_source(idn, 2), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_profile_of(idn, 2, &p), CRM_ENOTFOUND);
    ck_assert_int_eq(profile_of(idn, 1), 1);
    ck_assert_int_eq(profile_of(idn, 3), 3);
    ck_assert_int_eq(profile_of(idn, 4), 3);
    ck_assert_int_eq(count_events(&log, CRM_IDENTITY_SPLIT), 1);
    ck_assert_int_eq(log.profile[0], 1);
    ck_assert_int_eq(log.other[0], 3);
    ck_assert_int_eq(crm_identity_counts(idn, &ns, &np), CRM_OK);
    ck_assert_uint_eq(ns, 3);
    ck_assert_uint_eq(np, 2);
    /* a value only the forgotten record held is gone */
    ck_assert_int_eq(crm_identity_lookup(idn, PHONE, "p", 1, &p), CRM_OK);
    ck_assert_int_eq(p, 3);
    ck_assert_int_eq(crm_identity_forget_source(idn, 3), CRM_OK);
    ck_assert_int_eq(crm_identity_lookup(idn, PHONE, "p", 1, &p), CRM_ENOTFOUND);
    ck_assert_int_eq(profile_of(idn, 4), 4);
    /* the same record may come back */
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    /* resolve drops the forgotten records and renumbers the rest */
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_counts(idn, &ns, &np), CRM_OK);
    ck_assert_uint_eq(ns, 3);
    ck_assert_uint_eq(np, 2);
    ck_assert_int_eq(profile_of(idn, 2), 1);
    ck_assert_int_eq(profile_of(idn, 4), 4);
    ck_assert_int_eq(crm_identity_profile_of(idn, 3, &p), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_lookup(idn, LINE, "L", 1, &p), CRM_OK);
    ck_assert_int_eq(p, 4);
    ck_assert_int_eq(crm_identity_forget_source(idn, 1), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 2), 2);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_forget_value_splits)
{
    crm_ctx *ctx;
    crm_identity *idn;
    int64_t p;
    obs a = {1, 10, NULL, "a@x", "p", NULL};
    obs b = {2, 20, NULL, "a@x", NULL, NULL};
    obs c = {3, 30, NULL, NULL, "p", NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 3), 1);
    ck_assert_int_eq(crm_identity_forget_value(idn, PHONE, "p", 1), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 2), 1);
    ck_assert_int_eq(profile_of(idn, 3), 3);
    ck_assert_int_eq(crm_identity_lookup(idn, PHONE, "p", 1, &p), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_forget_value(idn, PHONE, "p", 1), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_forget_value(idn, 42, "p", 1), CRM_EINVAL);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Explain, values, export ----------------------------------------------------- */

typedef struct chain {
    int n;
    int64_t from[16], to[16];
    int kind[16], linked[16];
    crm_identity_event reason[16];
} chain;

static int record_step(void *user, int64_t from, int64_t to, int kind,
                       const char *value, size_t len, int linked,
                       crm_identity_event reason)
{
    chain *c = user;

    (void)value;
    (void)len;
    if (c->n < 16) {
        c->from[c->n] = from;
        c->to[c->n] = to;
        c->kind[c->n] = kind;
        c->linked[c->n] = linked;
        c->reason[c->n] = reason;
    }
    c->n++;
    return 0;
}

START_TEST(test_explain)
{
    crm_ctx *ctx;
    crm_identity *idn;
    chain c = {0};
    int linked = -1;
    int64_t p;
    obs a = {1, 10, "M1", "a@x", NULL, NULL};
    obs b = {2, 20, NULL, "a@x", "p", NULL};
    obs d = {3, 30, NULL, NULL, "p", NULL};
    obs e = {4, 40, "M2", NULL, "p", NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &d, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &e, &p), CRM_OK);
    ck_assert_int_eq(p, 4);
    ck_assert_int_eq(crm_identity_explain_sources(idn, 1, 3, record_step, &c, &linked), CRM_OK);
    ck_assert_int_eq(linked, 1);
    ck_assert_int_eq(c.n, 2);
    ck_assert_int_eq(c.from[0], 1);
    ck_assert_int_eq(c.to[0], 2);
    ck_assert_int_eq(c.kind[0], EMAIL);
    ck_assert_int_eq(c.from[1], 2);
    ck_assert_int_eq(c.to[1], 3);
    ck_assert_int_eq(c.kind[1], PHONE);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(crm_identity_explain_sources(idn, 1, 4, record_step, &c, &linked), CRM_OK);
    ck_assert_int_eq(linked, 0);
    ck_assert_int_ge(c.n, 1);
    ck_assert_int_eq(c.linked[c.n - 1], 0);
    ck_assert_int_eq(c.reason[c.n - 1], CRM_IDENTITY_CONFLICT);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(crm_identity_explain_values(idn, MEMBER, "M1", 2, PHONE, "p", 1,
                                                 record_step, &c, &linked), CRM_OK);
    ck_assert_int_eq(linked, 1);
    ck_assert_int_eq(crm_identity_explain_sources(idn, 1, 99, record_step, &c, &linked), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_explain_values(idn, MEMBER, "M9", 2, PHONE, "p", 1,
                                                 record_step, &c, &linked), CRM_ENOTFOUND);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

typedef struct value_list {
    int n;
    int kind[16];
    char value[16][32];
} value_list;

static int record_value(void *user, int kind, const char *value, size_t len)
{
    value_list *l = user;

    if (l->n < 16) {
        l->kind[l->n] = kind;
        snprintf(l->value[l->n], 32, "%.*s", (int)len, value);
    }
    l->n++;
    return 0;
}

static int refuse_value(void *user, int kind, const char *value, size_t len)
{
    (void)user;
    (void)kind;
    (void)value;
    (void)len;
    return 1;
}

START_TEST(test_profile_values_and_export)
{
    crm_ctx *ctx;
    crm_identity *idn;
    value_list l = {0};
    int64_t p, src[4], prof[4];
    size_t n;
    obs a = {30, 10, NULL, "B@x", "p", NULL};
    obs b = {10, 20, NULL, "b@x", NULL, "L"};
    obs c = {20, 30, NULL, "a@x", "p", NULL};

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &b, &p), CRM_OK);
    ck_assert_int_eq(observe(idn, &c, &p), CRM_OK);
    ck_assert_int_eq(crm_identity_profile_values(idn, 30, record_value, &l), CRM_OK);
    ck_assert_int_eq(l.n, 4);
    ck_assert_int_eq(l.kind[0], EMAIL);
    ck_assert_str_eq(l.value[0], "a@x");
    ck_assert_str_eq(l.value[1], "b@x");
    ck_assert_int_eq(l.kind[2], PHONE);
    ck_assert_int_eq(l.kind[3], LINE);
    ck_assert_int_eq(crm_identity_profile_values(idn, 10, record_value, &l), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_profile_values(idn, 30, refuse_value, NULL), CRM_ECALLBACK);
    ck_assert_int_eq(crm_identity_export(idn, src, prof, 2, &n), CRM_ELIMIT);
    ck_assert_int_eq(crm_identity_export(idn, src, prof, 4, &n), CRM_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(src[0], 10);
    ck_assert_int_eq(src[1], 20);
    ck_assert_int_eq(src[2], 30);
    ck_assert_int_eq(prof[0], 30);
    ck_assert_int_eq(prof[1], 30);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Bad input ------------------------------------------------------------------ */

START_TEST(test_bad_input)
{
    crm_ctx *ctx;
    crm_identity *idn;
    int k, kinds[2] = {EMAIL, 17};
    const char *values[2] = {"a@x", "b"};
    const char *bad_utf8[1] = {"\xc3\x28"};
    const char *null_value[1] = {NULL};
    int64_t src[2] = {1, 1}, at[2] = {0, 0}, p;
    size_t off[3] = {0, 1, 2}, bad_off[3] = {0, 2, 1};
    char big[2001];
    snapshot s;

    memset(big, 'a', sizeof big);
    big[2000] = 0;
    ck_assert_int_eq(crm_identity_new(NULL, &idn), CRM_EINVAL);
    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_identity_new(ctx, NULL), CRM_EINVAL);
    crm_identity_free(NULL);
    idn = new_graph(ctx);
    ck_assert_int_eq(crm_identity_add_kind(idn, "email", CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_EEXIST);
    ck_assert_int_eq(crm_identity_add_kind(idn, "x", (crm_identity_normalizer)9, 0, 1, 0, &k), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_add_kind(idn, "x", CRM_NORMALIZE_EXACT, 0x80, 1, 0, &k), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_add_kind(idn, "\xff", CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_EUTF8);
    ck_assert_int_eq(crm_identity_add_kind(idn, "", CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_add_kind(idn, NULL, CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_kind_find(idn, "phone", &k), CRM_OK);
    ck_assert_int_eq(k, PHONE);
    ck_assert_int_eq(crm_identity_kind_find(idn, "fax", &k), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_add(idn, 2, src, at, off, kinds, values, NULL), CRM_EINVAL);
    kinds[1] = PHONE;
    ck_assert_int_eq(crm_identity_add(idn, 2, src, at, off, kinds, values, NULL), CRM_EEXIST);
    ck_assert_int_eq(crm_identity_add(idn, 2, src, at, bad_off, kinds, values, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_add(idn, 2, NULL, at, off, kinds, values, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_observe(idn, 5, 0, 1, kinds, bad_utf8, NULL, &p), CRM_EUTF8);
    ck_assert_int_eq(crm_identity_observe(idn, 5, 0, 1, kinds, null_value, NULL, &p), CRM_EINVAL);
    values[0] = big;
    ck_assert_int_eq(crm_identity_observe(idn, 5, 0, 1, kinds, values, NULL, &p), CRM_ELIMIT);
    ck_assert_int_eq(crm_identity_observe(idn, 5, 0, 2000, kinds, values, NULL, &p), CRM_ELIMIT);
    ck_assert_int_eq(crm_identity_observe(idn, 5, 0, 1, kinds, values, NULL, NULL), CRM_EINVAL);
    ck_assert_str_ne(crm_ctx_errmsg(ctx), "");
    s = take(idn);
    ck_assert_uint_eq(s.n, 0);
    snapshot_free(&s);
    /* kinds may still be added: nothing was observed */
    ck_assert_int_eq(crm_identity_add_kind(idn, "pos", CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_OK);
    values[0] = "a@x";
    ck_assert_int_eq(crm_identity_observe(idn, 5, 0, 1, kinds, values, NULL, &p), CRM_OK);
    ck_assert_int_eq(crm_identity_observe(idn, 5, 0, 1, kinds, values, NULL, &p), CRM_EEXIST);
    ck_assert_int_eq(crm_identity_add_kind(idn, "late", CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_ESTATE);
    ck_assert_int_eq(crm_identity_profile_of(idn, 6, &p), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_profile_of(NULL, 6, &p), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_lookup(idn, EMAIL, NULL, 0, &p), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_lookup(idn, -1, "a", 1, &p), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_counts(NULL, NULL, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_resolve(NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_set_event_callback(NULL, NULL, NULL), CRM_EINVAL);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Save and load ----------------------------------------------------------------- */

typedef struct membuf {
    unsigned char *data;
    size_t len, cap, pos;
    int fail_write;
} membuf;

static int mem_write(void *user, const void *data, size_t len)
{
    membuf *m = user;

    if (m->fail_write)
        return 1;
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->data = realloc(m->data, m->cap);
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    return 0;
}

static int mem_read(void *user, void *buf, size_t cap, size_t *got)
{
    membuf *m = user;
    size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;

    if (n > 7)
        n = n / 2 + 1; /* short reads */
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    *got = n;
    return 0;
}

static int failing_read(void *user, void *buf, size_t cap, size_t *got)
{
    (void)user;
    (void)buf;
    (void)cap;
    (void)got;
    return 1;
}

static crm_identity *random_graph(crm_ctx *ctx)
{
    static char buf[RANDOM_N][4][16];
    obs *os = random_observations(RANDOM_N, 1, buf);
    crm_identity *idn = new_graph(ctx);
    size_t i;

    for (i = 0; i < RANDOM_N / 2; i++)
        ck_assert_int_eq(observe(idn, &os[i], NULL), CRM_OK);
    ck_assert_int_eq(add_all(idn, os + RANDOM_N / 2, NULL, RANDOM_N - RANDOM_N / 2), CRM_OK);
    ck_assert_int_eq(crm_identity_block_value(idn, EMAIL, "e1@x", 4), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_forget_source(idn, os[5].source), CRM_OK);
    ck_assert_int_eq(crm_identity_forget_source(idn, os[6].source), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_forget_source(idn, os[7].source), CRM_OK);
    for (i = 8; os[i].email == NULL; i++)
        ;
    ck_assert_int_eq(crm_identity_forget_value(idn, EMAIL, os[i].email, strlen(os[i].email)), CRM_OK);
    free(os);
    return idn;
}

/* Every value of a random graph (blocked, shared, forgotten and unknown
 * ones too) plus bad arguments: lookup_many gives, value by value, what
 * lookup gives, across several batches and with lens given or not. */
START_TEST(test_lookup_many_matches_lookup)
{
    enum { N = 4 * 160 + 4 };
    static char text[N][24];
    const char *raws[N];
    int kinds[N];
    size_t lens[N], i, found = 0;
    int64_t profiles[N], single;
    crm_status status[N], status_nolens[N];
    crm_ctx *ctx;
    crm_identity *idn;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = random_graph(ctx);
    for (i = 0; i < 4 * 160; i++) {
        static const char *const fmt[] = {"M%u", "E%u@X", "p%u", "L%u"};
        kinds[i] = (int)(i % 4) == 0 ? MEMBER : (int)(i % 4) == 1 ? EMAIL
                 : (int)(i % 4) == 2 ? PHONE : LINE;
        snprintf(text[i], sizeof text[i], fmt[i % 4], (unsigned)(i / 4));
        raws[i] = text[i];
    }
    kinds[i] = EMAIL, raws[i++] = NULL;          /* NULL value */
    kinds[i] = 99, raws[i++] = "e1@x";           /* unknown kind */
    kinds[i] = EMAIL, raws[i++] = "\xff@x";      /* invalid UTF-8 */
    kinds[i] = EMAIL, raws[i++] = "e1@x";        /* blocked */
    for (i = 0; i < N; i++)
        lens[i] = raws[i] ? strlen(raws[i]) : 0;
    for (i = 0; i < N; i++)
        profiles[i] = -7;
    ck_assert_int_eq(crm_identity_lookup_many(idn, N, kinds, raws, lens, profiles, status), CRM_OK);
    ck_assert_int_eq(crm_identity_lookup_many(idn, N, kinds, raws, NULL, profiles, status_nolens), CRM_OK);
    for (i = 0; i < N; i++) {
        crm_status want = crm_identity_lookup(idn, kinds[i], raws[i], lens[i], &single);
        found += want == CRM_OK;
        ck_assert_int_eq(status[i], want);
        ck_assert_int_eq(status_nolens[i], want);
        if (want == CRM_OK)
            ck_assert_int_eq(profiles[i], single);
        else
            ck_assert_int_eq(profiles[i], -7);
    }
    ck_assert_uint_gt(found, 100);
    ck_assert_uint_lt(found, 4 * 160);
    ck_assert_int_eq(status[N - 4], CRM_EINVAL);
    ck_assert_int_eq(status[N - 3], CRM_EINVAL);
    ck_assert_int_eq(status[N - 2], CRM_EUTF8);
    ck_assert_int_eq(status[N - 1], CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_lookup_many(idn, 0, NULL, NULL, NULL, NULL, NULL), CRM_OK);
    ck_assert_int_eq(crm_identity_lookup_many(NULL, 1, kinds, raws, NULL, profiles, status), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_lookup_many(idn, 1, kinds, raws, NULL, profiles, NULL), CRM_EINVAL);
    ck_assert_int_eq(crm_identity_lookup_many(idn, 1, NULL, raws, NULL, profiles, status), CRM_EINVAL);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* Values long enough that a batch ends on its byte budget, not its count. */
START_TEST(test_lookup_many_long_values)
{
    enum { N = 40 };
    static char text[N][1100];
    const char *raws[N];
    int kinds[N], k;
    int64_t profiles[N], p;
    crm_status status[N];
    crm_ctx *ctx;
    crm_identity *idn;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_identity_new(ctx, &idn), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "pos", CRM_NORMALIZE_EXACT, 0, 1, 0, &k), CRM_OK);
    for (i = 0; i < N; i++) {
        memset(text[i], 'a' + (int)(i % 26), 1000);
        snprintf(text[i] + 1000, 100, "%zu", i);
        raws[i] = text[i];
        kinds[i] = k;
        if (i % 2 == 0)
            ck_assert_int_eq(crm_identity_observe(idn, (int64_t)i + 1, 0, 1, &kinds[i], &raws[i], NULL, &p), CRM_OK);
    }
    memset(text[N - 1], 'z', 1099); /* longer than CRM_IDENTITY_MAX_VALUE */
    text[N - 1][1099] = 0;
    ck_assert_int_eq(crm_identity_lookup_many(idn, N, kinds, raws, NULL, profiles, status), CRM_OK);
    for (i = 0; i + 1 < N; i++) {
        ck_assert_int_eq(status[i], i % 2 == 0 ? CRM_OK : CRM_ENOTFOUND);
        if (i % 2 == 0)
            ck_assert_int_eq(profiles[i], (int64_t)i + 1);
    }
    ck_assert_int_eq(status[N - 1], CRM_ELIMIT);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* A non-merging kind with limit 1 (a person's name): a profile counts the
 * name its records carry even when another profile holds it first, so a
 * family email does not tie together two people with different names. */
static crm_identity *named_graph(crm_ctx *ctx)
{
    crm_identity *idn = NULL;
    int k;

    ck_assert_int_eq(crm_identity_new(ctx, &idn), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "email", CRM_NORMALIZE_ICASE, 0, 1, 5, &k), CRM_OK);
    ck_assert_int_eq(crm_identity_add_kind(idn, "name", CRM_NORMALIZE_ICASE, 0, 0, 1, &k), CRM_OK);
    return idn;
}

static int64_t observe_named(crm_identity *idn, int64_t source,
                             const char *email, const char *name)
{
    int kinds[2] = {0, 1};
    const char *values[2] = {email, name};
    int64_t profile = 0;

    ck_assert_int_eq(crm_identity_observe(idn, source, source, name ? 2 : 1,
                                          kinds, values, NULL, &profile),
                     CRM_OK);
    return profile;
}

START_TEST(test_held_name_keeps_family_apart)
{
    static const char *const emails[] = {"fam@x", "other@x", "fam@x",
                                         "fam@x", "fam@x"};
    static const char *const names[] = {"Taro", "Hanako", "Hanako", "taro",
                                        NULL};
    static const int64_t want[] = {1, 2, 3, 1, 1};
    crm_ctx *ctx;
    crm_identity *idn, *batch, *back = NULL;
    membuf m = {0};
    int64_t src[5], at[5], p;
    size_t off[6], i, n = 0;
    int kinds[10];
    const char *values[10];

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = named_graph(ctx);
    batch = named_graph(ctx);
    off[0] = 0;
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(observe_named(idn, (int64_t)i + 1, emails[i], names[i]), want[i]);
        src[i] = at[i] = (int64_t)i + 1;
        kinds[n] = 0;
        values[n++] = emails[i];
        if (names[i]) {
            kinds[n] = 1;
            values[n++] = names[i];
        }
        off[i + 1] = n;
    }
    ck_assert_int_eq(crm_identity_add(batch, 5, src, at, off, kinds, values, NULL), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(batch), CRM_OK);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(profile_of(batch, (int64_t)i + 1), want[i]);
    /* the held names survive saving: Hanako still cannot join Taro */
    ck_assert_int_eq(crm_identity_save(batch, mem_write, &m), CRM_OK);
    ck_assert_int_eq(crm_identity_load(ctx, mem_read, &m, &back), CRM_OK);
    ck_assert_int_eq(observe_named(back, 6, "fam@x", "HANAKO"), 6);
    ck_assert_int_eq(observe_named(back, 7, "fam@x", "TARO"), 1);
    ck_assert_int_eq(crm_identity_lookup(back, 1, "taro", 4, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    crm_identity_free(back);
    crm_identity_free(batch);
    crm_identity_free(idn);
    free(m.data);
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_save_load_round_trip)
{
    crm_ctx *ctx;
    crm_identity *idn, *back = NULL;
    membuf m = {0}, m2 = {0};
    snapshot a, b;
    obs extra = {999999, 7, "M7", "e7@x", "p7", NULL};
    int64_t p1, p2;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = random_graph(ctx);
    ck_assert_int_eq(crm_identity_save(idn, mem_write, &m), CRM_OK);
    ck_assert_int_eq(crm_identity_load(ctx, mem_read, &m, &back), CRM_OK);
    a = take(idn);
    b = take(back);
    assert_same(&a, &b);
    snapshot_free(&a);
    snapshot_free(&b);
    /* the loaded graph saves to the same bytes and behaves the same */
    ck_assert_int_eq(crm_identity_save(back, mem_write, &m2), CRM_OK);
    ck_assert_uint_eq(m.len, m2.len);
    ck_assert(memcmp(m.data, m2.data, m.len) == 0);
    ck_assert_int_eq(observe(idn, &extra, &p1), CRM_OK);
    ck_assert_int_eq(observe(back, &extra, &p2), CRM_OK);
    ck_assert_int_eq(p1, p2);
    ck_assert_int_eq(crm_identity_lookup(back, EMAIL, "e1@x", 4, &p1), CRM_ENOTFOUND);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(back), CRM_OK);
    a = take(idn);
    b = take(back);
    assert_same(&a, &b);
    snapshot_free(&a);
    snapshot_free(&b);
    m2.fail_write = 1;
    ck_assert_int_eq(crm_identity_save(back, mem_write, &m2), CRM_ECALLBACK);
    ck_assert_int_eq(crm_identity_load(ctx, failing_read, NULL, &back), CRM_ECALLBACK);
    crm_identity_free(back);
    crm_identity_free(idn);
    free(m.data);
    free(m2.data);
    crm_ctx_free(ctx);
}
END_TEST

/* Whether graphs a and b give every value of os the same lookup. */
static void assert_same_lookups(const crm_identity *a, const crm_identity *b,
                                const obs *os, size_t n)
{
    size_t i, k, m;

    for (i = 0; i < n; i++) {
        int kinds[4];
        const char *values[4];
        m = obs_columns(&os[i], kinds, values);
        for (k = 0; k < m; k++) {
            int64_t pa = 0, pb = 0;
            crm_status sa = crm_identity_lookup(a, kinds[k], values[k], strlen(values[k]), &pa);
            crm_status sb = crm_identity_lookup(b, kinds[k], values[k], strlen(values[k]), &pb);
            ck_assert_int_eq(sa, sb);
            ck_assert_int_eq(pa, pb);
        }
    }
}

/* ---- Lookups follow merges, splits and reloads ------------------------------ */

/* Whether observation o holds the value (kind, value). */
static int holds(const obs *o, int kind, const char *value)
{
    int kinds[4];
    const char *values[4];
    size_t k, m = obs_columns(o, kinds, values);

    for (k = 0; k < m; k++)
        if (kinds[k] == kind && strcmp(values[k], value) == 0)
            return 1;
    return 0;
}

/* Every value of os[0..n) that lookup finds (held by one profile) is in
 * the profile of each live source holding it. */
static void assert_lookups_follow_profiles(const crm_identity *idn,
                                           const obs *os, size_t n)
{
    size_t i, j, k, m;

    for (i = 0; i < n; i++) {
        int kinds[4];
        const char *values[4];
        m = obs_columns(&os[i], kinds, values);
        for (k = 0; k < m; k++) {
            int64_t p = 0, q = 0;
            if (crm_identity_lookup(idn, kinds[k], values[k], strlen(values[k]), &p) != CRM_OK)
                continue;
            for (j = 0; j < n; j++)
                if (holds(&os[j], kinds[k], values[k]) &&
                    crm_identity_profile_of(idn, os[j].source, &q) == CRM_OK)
                    ck_assert_msg(p == q, "%s: lookup %lld, source %lld in %lld", values[k],
                                  (long long)p, (long long)os[j].source, (long long)q);
        }
    }
}

/* lookup_many gives, value by value, what lookup gives for os[0..n). */
static void assert_many_matches_single(const crm_identity *idn, const obs *os,
                                       size_t n)
{
    size_t i, k, m;

    for (i = 0; i < n; i++) {
        int kinds[4];
        const char *values[4];
        int64_t many[4], single;
        crm_status status[4];
        m = obs_columns(&os[i], kinds, values);
        ck_assert_int_eq(crm_identity_lookup_many(idn, m, kinds, values, NULL, many, status), CRM_OK);
        for (k = 0; k < m; k++) {
            ck_assert_int_eq(status[k], crm_identity_lookup(idn, kinds[k], values[k], strlen(values[k]), &single));
            if (status[k] == CRM_OK)
                ck_assert_int_eq(many[k], single);
        }
    }
}

/* Observations that come in later but happened earlier take over the
 * profiles they join: a lookup then gives the new id, for the values of
 * the profile that lost too. */
START_TEST(test_lookup_follows_observe_merges)
{
    static char buf[RANDOM_N][4][16];
    crm_ctx *ctx;
    crm_identity *idn;
    obs *os = random_observations(RANDOM_N, 1, buf);
    obs joins[] = {
        {100001, 100, NULL, "a@x", "p1", NULL},
        {100002, 90, NULL, NULL, "p1", "L1"},
        {100003, 80, NULL, "b@x", NULL, "L1"},
        {100004, 70, NULL, "b@x", "p2", NULL},
    };
    int64_t p;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(observe(idn, &joins[i], &p), CRM_OK);
        ck_assert_int_eq(p, joins[i].source);
        ck_assert_int_eq(crm_identity_lookup(idn, EMAIL, "a@x", 3, &p), CRM_OK);
        ck_assert_int_eq(p, joins[i].source);
        assert_lookups_follow_profiles(idn, joins, i + 1);
    }
    for (i = 0; i < RANDOM_N; i++) {
        ck_assert_int_eq(observe(idn, &os[i], NULL), CRM_OK);
        if (i % 50 == 49)
            assert_lookups_follow_profiles(idn, os, i + 1);
    }
    assert_many_matches_single(idn, os, RANDOM_N);
    free(os);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* Merges that keep renaming a profile of many identifiers (each new
 * observation is earlier than the profile's root) spend the credit for
 * renames (64 identifiers per observe): the profile ids beside the values
 * are then no longer kept (lookups climb to the root instead) until
 * resolve fills them again. Lookups give the same answers all along. */
START_TEST(test_lookup_after_merging_a_big_profile)
{
    enum { N = 400, EARLIER = 60 };
    static char lines[N][16];
    static obs os[N + EARLIER];
    crm_ctx *ctx;
    crm_identity *idn;
    int64_t p;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    for (i = 0; i < N; i++) {
        snprintf(lines[i], sizeof lines[i], "L%u", (unsigned)i);
        os[i] = (obs){(int64_t)i + 1000, 1000 + (int64_t)i, NULL, NULL, "p", lines[i]};
        ck_assert_int_eq(observe(idn, &os[i], NULL), CRM_OK);
    }
    ck_assert_int_eq(crm_identity_lookup(idn, LINE, "L399", 4, &p), CRM_OK);
    ck_assert_int_eq(p, 1000);
    /* each renames about 2 * N identifiers: 60 of them need 48,000, more
     * than the 400 + 60 observes gave */
    for (i = N; i < N + EARLIER; i++) {
        os[i] = (obs){(int64_t)i, 1000 - (int64_t)i, NULL, NULL, "p", NULL};
        ck_assert_int_eq(observe(idn, &os[i], &p), CRM_OK);
        ck_assert_int_eq(p, (int64_t)i);
        ck_assert_int_eq(crm_identity_lookup(idn, LINE, "L399", 4, &p), CRM_OK);
        ck_assert_int_eq(p, (int64_t)i);
    }
    assert_lookups_follow_profiles(idn, os, N + EARLIER);
    assert_many_matches_single(idn, os, N + EARLIER);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    ck_assert_int_eq(crm_identity_lookup(idn, LINE, "L0", 2, &p), CRM_OK);
    ck_assert_int_eq(p, N + EARLIER - 1);
    assert_lookups_follow_profiles(idn, os, N + EARLIER);
    assert_many_matches_single(idn, os, N + EARLIER);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* Forgetting a source can let its profile's other records merge with a
 * profile that a conflict kept apart, and take it over: a lookup of a
 * value of that profile gives the new id. */
START_TEST(test_lookup_after_forget_joins_profiles)
{
    crm_ctx *ctx;
    crm_identity *idn;
    obs os[] = {
        {5, 50, "M2", NULL, "q", NULL},
        {1, 10, "M1", "a@x", NULL, NULL},
        {3, 30, NULL, "a@x", "q", NULL}, /* joins 1; q refused: M1 vs M2 */
    };
    int64_t p;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(observe(idn, &os[i], NULL), CRM_OK);
    ck_assert_int_eq(crm_identity_lookup(idn, MEMBER, "M2", 2, &p), CRM_OK);
    ck_assert_int_eq(p, 5);
    ck_assert_int_eq(crm_identity_forget_source(idn, 1), CRM_OK);
    ck_assert_int_eq(profile_of(idn, 5), 3);
    ck_assert_int_eq(crm_identity_lookup(idn, MEMBER, "M2", 2, &p), CRM_OK);
    ck_assert_int_eq(p, 3);
    assert_lookups_follow_profiles(idn, os, 3);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* An observe refused after it renamed a profile leaves every lookup as it
 * was; so do forget (which splits profiles) and a save and load. */
START_TEST(test_lookup_after_refusal_forget_and_load)
{
    static char buf[RANDOM_N][4][16];
    crm_ctx *ctx;
    crm_identity *idn, *back;
    event_log log = {0};
    membuf saved = {0};
    obs *os = random_observations(RANDOM_N, 1, buf);
    obs a = {1, 10, NULL, "a@x", "p", NULL};
    obs earlier = {2, 5, NULL, "a@x", NULL, NULL};
    int64_t p;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    ck_assert_int_eq(observe(idn, &a, &p), CRM_OK);
    crm_identity_set_event_callback(idn, record_event, &log);
    log.stop_at = 1; /* MERGED: profile 1 into 2 */
    ck_assert_int_eq(observe(idn, &earlier, &p), CRM_ECALLBACK);
    ck_assert_int_eq(log.ev[0], CRM_IDENTITY_MERGED);
    ck_assert_int_eq(crm_identity_lookup(idn, PHONE, "p", 1, &p), CRM_OK);
    ck_assert_int_eq(p, 1);
    crm_identity_set_event_callback(idn, NULL, NULL);
    for (i = 0; i < RANDOM_N; i++)
        ck_assert_int_eq(observe(idn, &os[i], NULL), CRM_OK);
    assert_lookups_follow_profiles(idn, os, RANDOM_N);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    for (i = 0; i < 20; i++)
        ck_assert_int_eq(crm_identity_forget_source(idn, os[i * 13].source), CRM_OK);
    for (i = 0; os[i].email == NULL || crm_identity_profile_of(idn, os[i].source, &p) != CRM_OK; i++)
        ;
    ck_assert_int_eq(crm_identity_forget_value(idn, EMAIL, os[i].email, strlen(os[i].email)), CRM_OK);
    assert_lookups_follow_profiles(idn, os, RANDOM_N);
    ck_assert_int_eq(crm_identity_save(idn, mem_write, &saved), CRM_OK);
    ck_assert_int_eq(crm_identity_load(ctx, mem_read, &saved, &back), CRM_OK);
    assert_lookups_follow_profiles(back, os, RANDOM_N);
    assert_same_lookups(idn, back, os, RANDOM_N);
    free(saved.data);
    free(os);
    crm_identity_free(back);
    crm_identity_free(idn);
    crm_ctx_free(ctx);
}
END_TEST

/* Without a callback resolve works over the live columns and state, and
 * replays again only the parts that a newly shared value touches; with
 * one it builds new ones beside and replays everything once more to
 * report. Both give the same profiles and the same answer for every
 * value, from incremental states holding conflicts, shared values and
 * forgotten records. */
START_TEST(test_resolve_in_place_equals_beside)
{
    char (*buf)[4][16] = calloc(RANDOM_N, sizeof *buf);
    obs *os = random_observations(RANDOM_N, 1, buf);
    obs extra = {999999, 7, "M7", "e7@x", "p7", NULL};
    size_t order[RANDOM_N], i;
    crm_ctx *ctx;
    int round;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (round = 0; round < 10; round++) {
        crm_identity *g[2];
        event_log log = {0};
        snapshot snap[2];
        int64_t p[2];
        int k;
        shuffle(order, RANDOM_N);
        for (k = 0; k < 2; k++) {
            g[k] = new_graph(ctx);
            for (i = 0; i < RANDOM_N; i++)
                ck_assert_int_eq(observe(g[k], &os[order[i]], NULL), CRM_OK);
            ck_assert_int_eq(crm_identity_forget_source(g[k], os[order[0]].source), CRM_OK);
        }
        ck_assert_int_eq(crm_identity_set_event_callback(g[1], record_event, &log), CRM_OK);
        for (k = 0; k < 2; k++) {
            ck_assert_int_eq(crm_identity_resolve(g[k]), CRM_OK);
            ck_assert_int_eq(crm_identity_set_event_callback(g[k], NULL, NULL), CRM_OK);
            snap[k] = take(g[k]);
        }
        assert_same(&snap[0], &snap[1]);
        assert_same_lookups(g[0], g[1], os, RANDOM_N);
        for (k = 0; k < 2; k++) {
            ck_assert_int_eq(observe(g[k], &extra, &p[k]), CRM_OK);
            snapshot_free(&snap[k]);
            crm_identity_free(g[k]);
        }
        ck_assert_int_eq(p[0], p[1]);
    }
    crm_ctx_free(ctx);
    free(os);
    free(buf);
}
END_TEST

#define CLUSTERS 8
#define CLUSTER_N 40

/* Observations of cluster c: values of their own (prefix c). One cluster
 * in four draws them from small universes, so that conflicts and shared
 * values happen; the others hold only a few emails, which just merge. */
static void cluster_observations(int c, obs *os, char (*buf)[4][16])
{
    int rough = c % 4 == 0;
    size_t i;

    for (i = 0; i < CLUSTER_N; i++) {
        os[i].source = (int64_t)(c * 1000 + (int)i + 1);
        os[i].at = (int64_t)(rnd() % 30);
        os[i].member = os[i].email = os[i].phone = os[i].line = NULL;
        snprintf(buf[i][1], 16, "%de%u@x", c, (unsigned)(rnd() % (rough ? 20 : 4)));
        os[i].email = buf[i][1];
        if (!rough)
            continue;
        if (rnd() % 2 == 0) {
            snprintf(buf[i][0], 16, "%dM%u", c, (unsigned)(rnd() % 12));
            os[i].member = buf[i][0];
        }
        if (rnd() % 3 != 0) {
            snprintf(buf[i][2], 16, "%dp%u", c, (unsigned)(rnd() % 4));
            os[i].phone = buf[i][2];
        }
    }
}

/* idn saves, loads back and saves the same bytes again, with the same
 * profiles (a partial replay leaves unused refusal entries behind). */
static void assert_saves_and_loads(crm_ctx *ctx, const crm_identity *idn)
{
    membuf m = {0}, m2 = {0};
    crm_identity *back = NULL;
    snapshot a, b;

    ck_assert_int_eq(crm_identity_save(idn, mem_write, &m), CRM_OK);
    ck_assert_int_eq(crm_identity_load(ctx, mem_read, &m, &back), CRM_OK);
    ck_assert_int_eq(crm_identity_save(back, mem_write, &m2), CRM_OK);
    ck_assert_uint_eq(m.len, m2.len);
    ck_assert(memcmp(m.data, m2.data, m.len) == 0);
    a = take(idn);
    b = take(back);
    assert_same(&a, &b);
    snapshot_free(&a);
    snapshot_free(&b);
    crm_identity_free(back);
    free(m.data);
    free(m2.data);
}

/* Clusters share no value, so each resolves in the whole graph as it does
 * alone. In the whole graph a value found shared makes resolve replay only
 * its cluster again, alone it replays everything: both must agree. */
START_TEST(test_resolve_replays_only_touched_parts)
{
    static obs os[CLUSTERS * CLUSTER_N];
    static char buf[CLUSTERS * CLUSTER_N][4][16];
    size_t order[CLUSTERS * CLUSTER_N], i;
    crm_identity *all, *alone;
    crm_ctx *ctx;
    int c, round;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (round = 0; round < 10; round++) {
        for (c = 0; c < CLUSTERS; c++)
            cluster_observations(c, os + c * CLUSTER_N, buf + c * CLUSTER_N);
        all = new_graph(ctx);
        shuffle(order, CLUSTERS * CLUSTER_N);
        ck_assert_int_eq(add_all(all, os, order, CLUSTERS * CLUSTER_N), CRM_OK);
        ck_assert_int_eq(crm_identity_resolve(all), CRM_OK);
        for (c = 0; c < CLUSTERS; c++) {
            const obs *part = os + c * CLUSTER_N;
            alone = new_graph(ctx);
            ck_assert_int_eq(add_all(alone, part, NULL, CLUSTER_N), CRM_OK);
            ck_assert_int_eq(crm_identity_resolve(alone), CRM_OK);
            for (i = 0; i < CLUSTER_N; i++)
                ck_assert_int_eq(profile_of(all, part[i].source),
                                 profile_of(alone, part[i].source));
            assert_same_lookups(all, alone, part, CLUSTER_N);
            crm_identity_free(alone);
        }
        assert_saves_and_loads(ctx, all);
        crm_identity_free(all);
    }
    crm_ctx_free(ctx);
}
END_TEST

START_TEST(test_load_rejects_damage)
{
    crm_ctx *ctx;
    crm_identity *idn, *back = NULL;
    membuf m = {0}, d;
    size_t cut, i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = random_graph(ctx);
    ck_assert_int_eq(crm_identity_save(idn, mem_write, &m), CRM_OK);
    for (cut = 0; cut < m.len; cut += 1 + cut / 16) {
        d = m;
        d.len = cut;
        d.pos = 0;
        ck_assert_int_eq(crm_identity_load(ctx, mem_read, &d, &back), CRM_ECORRUPT);
    }
    for (i = 0; i < 200; i++) {
        size_t at = (size_t)(rnd() % m.len);
        unsigned char bit = (unsigned char)(1u << (rnd() % 8));
        m.data[at] ^= bit;
        d = m;
        d.pos = 0;
        ck_assert_int_eq(crm_identity_load(ctx, mem_read, &d, &back), CRM_ECORRUPT);
        m.data[at] ^= bit;
    }
    m.data[7] = 2; /* a newer format */
    d = m;
    d.pos = 0;
    ck_assert_int_eq(crm_identity_load(ctx, mem_read, &d, &back), CRM_EVERSION);
    ck_assert_int_eq(crm_identity_load(ctx, NULL, &d, &back), CRM_EINVAL);
    crm_identity_free(idn);
    free(m.data);
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Allocation failures ------------------------------------------------------------ */

enum {
    RUN_NEW, RUN_ADD_KIND, RUN_BLOCK, RUN_ADD, RUN_OBSERVE, RUN_RESOLVE,
    RUN_FORGET_SOURCE, RUN_FORGET_VALUE, RUN_EXPORT, RUN_VALUES, RUN_EXPLAIN,
    RUN_SAVE, RUN_LOAD
};

static int sweep_mode;

typedef struct fixture {
    int mode;
    crm_ctx *ctx;
    crm_identity *idn;
    crm_identity *made;
    membuf saved;
    snapshot before;
} fixture;

static const obs sweep_obs[] = {
    {1, 10, "M1", "a@x", NULL, NULL}, {2, 20, NULL, "a@x", "p", NULL},
    {3, 5, "M2", NULL, "p", "L"},     {4, 40, NULL, "b@x", NULL, "L"},
    {5, 50, NULL, "c@x", "q", NULL},  {6, 60, NULL, "c@x", "q", "none"},
};
static const obs sweep_new = {7, 1, NULL, "b@x", "q", NULL};

static void *fx_setup(crm_ctx *ctx)
{
    fixture *fx = calloc(1, sizeof *fx);
    size_t i;

    fx->mode = sweep_mode;
    fx->ctx = ctx;
    if (fx->mode == RUN_NEW)
        return fx;
    fx->idn = new_graph(ctx);
    if (fx->mode == RUN_ADD_KIND)
        return fx;
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(observe(fx->idn, &sweep_obs[i], NULL), CRM_OK);
    if (fx->mode != RUN_ADD)
        ck_assert_int_eq(add_all(fx->idn, sweep_obs + 4, NULL, 2), CRM_OK);
    if (fx->mode == RUN_LOAD)
        ck_assert_int_eq(crm_identity_save(fx->idn, mem_write, &fx->saved), CRM_OK);
    fx->before = take(fx->idn);
    return fx;
}

static int ignore_step(void *user, int64_t from, int64_t to, int kind,
                       const char *value, size_t len, int linked,
                       crm_identity_event reason)
{
    (void)user, (void)from, (void)to, (void)kind, (void)value, (void)len;
    (void)linked, (void)reason;
    return 0;
}

static crm_status fx_run(void *p)
{
    fixture *fx = p;
    int k, linked;
    int64_t prof, src[8], profs[8];
    size_t n;
    value_list l = {0};
    crm_status s;

    switch (fx->mode) {
    case RUN_NEW:
        return crm_identity_new(fx->ctx, &fx->made);
    case RUN_ADD_KIND:
        return crm_identity_add_kind(fx->idn, "pos", CRM_NORMALIZE_EXACT, 0, 1, 0, &k);
    case RUN_BLOCK:
        return crm_identity_block_value(fx->idn, PHONE, "zzz", 3);
    case RUN_ADD:
        return add_all(fx->idn, sweep_obs + 4, NULL, 2);
    case RUN_OBSERVE:
        return observe(fx->idn, &sweep_new, &prof);
    case RUN_RESOLVE:
        return crm_identity_resolve(fx->idn);
    case RUN_FORGET_SOURCE:
        return crm_identity_forget_source(fx->idn, 2);
    case RUN_FORGET_VALUE:
        return crm_identity_forget_value(fx->idn, EMAIL, "a@x", 3);
    case RUN_EXPORT:
        return crm_identity_export(fx->idn, src, profs, 8, &n);
    case RUN_VALUES:
        return crm_identity_profile_values(fx->idn, 3, record_value, &l);
    case RUN_EXPLAIN:
        return crm_identity_explain_sources(fx->idn, 1, 4, ignore_step, NULL, &linked);
    case RUN_SAVE:
        s = crm_identity_save(fx->idn, mem_write, &fx->saved);
        fx->saved.len = 0;
        return s;
    default:
        fx->saved.pos = 0;
        return crm_identity_load(fx->ctx, mem_read, &fx->saved, &fx->made);
    }
}

static void fx_verify(void *p)
{
    fixture *fx = p;
    snapshot now;
    int64_t prof;

    if (fx->mode == RUN_NEW) {
        ck_assert_ptr_nonnull(fx->made);
        return;
    }
    if (fx->mode == RUN_ADD_KIND)
        return;
    if (fx->mode == RUN_LOAD) {
        now = take(fx->made);
        assert_same(&fx->before, &now);
        snapshot_free(&now);
        return;
    }
    /* the graph still works after the operation */
    if (fx->mode != RUN_OBSERVE)
        ck_assert_int_eq(observe(fx->idn, &sweep_new, &prof), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(fx->idn), CRM_OK);
}

static void fx_teardown(void *p)
{
    fixture *fx = p;

    crm_identity_free(fx->made);
    crm_identity_free(fx->idn);
    snapshot_free(&fx->before);
    free(fx->saved.data);
    free(fx);
}

/* A failed run left the graph exactly as it was. */
static crm_status fx_run_checked(void *p)
{
    fixture *fx = p;
    crm_status s = fx_run(p);
    snapshot now;

    if (s == CRM_ENOMEM && fx->idn != NULL && fx->before.src != NULL) {
        now = take(fx->idn);
        assert_same(&fx->before, &now);
        snapshot_free(&now);
    }
    if (s == CRM_ENOMEM && (fx->mode == RUN_NEW || fx->mode == RUN_LOAD))
        ck_assert_ptr_null(fx->made);
    return s;
}

static void sweep(int mode)
{
    test_sweep s = {fx_setup, fx_run_checked, fx_verify, fx_teardown};

    sweep_mode = mode;
    test_sweep_alloc_failures(&s);
}

START_TEST(test_alloc_failures)
{
    sweep(_i);
}
END_TEST

/* ---- Observe with and without a callback ------------------------------------------ */

/* The identifier of kind in observation i of a stream over small value
 * pools, or NULL when absent. Over 3000 observations, profiles merge
 * (about 190 MERGED events), refuse links by limit (500 CONFLICT) and by
 * the profile cap 8 (30 CAPPED), values turn shared (180 SHARED) and names
 * are held. */
static const char *stream_value(char *buf, uint64_t i, int kind)
{
    static const char *const fmt[] = {"M%u", "e%u@x", "p%u", "L%u", "n%u"};
    static const unsigned pool[] = {40, 90, 60, 30, 25};
    uint64_t r = (i * 6364136223846793005u + (uint64_t)kind * 1442695040888963407u) >> 17;

    r ^= r >> 11;
    if ((r & 7) < 3)
        return NULL;
    sprintf(buf, fmt[kind], (unsigned)((r >> 3) % pool[kind]));
    return buf;
}

static int ignore_event(void *user, crm_identity_event ev, int64_t profile,
                        int64_t other, int64_t to, int kind, const char *value,
                        size_t len)
{
    (void)user, (void)ev, (void)profile, (void)other, (void)to, (void)kind;
    (void)value, (void)len;
    return 0;
}

static crm_identity *stream_graph(crm_ctx *ctx, int with_callback)
{
    crm_identity *idn = new_graph(ctx);

    ck_assert_int_eq(crm_identity_set_shared_limit(idn, 3), CRM_OK);
    ck_assert_int_eq(crm_identity_set_profile_cap(idn, 8), CRM_OK);
    if (with_callback)
        ck_assert_int_eq(crm_identity_set_event_callback(idn, ignore_event, NULL), CRM_OK);
    return idn;
}

/* observe links without its undo log when no callback is set: the graph
 * must come out the same, byte for byte, as when every write is logged. */
START_TEST(test_observe_same_with_and_without_callback)
{
    crm_ctx *ctx;
    crm_identity *quiet, *logged;
    membuf a = {0}, b = {0};
    char text[5][32];
    uint64_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    quiet = stream_graph(ctx, 0);
    logged = stream_graph(ctx, 1);
    for (i = 0; i < 3000; i++) {
        int kinds[5];
        const char *values[5];
        size_t n = 0;
        int k;
        int64_t pq = 0, pl = 0, at = (int64_t)((i * 7919) % 1000);
        for (k = MEMBER; k <= NAME; k++)
            if ((values[n] = stream_value(text[k], i, k)) != NULL)
                kinds[n++] = k;
        ck_assert_int_eq(crm_identity_observe(quiet, (int64_t)i + 1, at, n, kinds, values, NULL, &pq), CRM_OK);
        ck_assert_int_eq(crm_identity_observe(logged, (int64_t)i + 1, at, n, kinds, values, NULL, &pl), CRM_OK);
        ck_assert_int_eq(pq, pl);
    }
    ck_assert_int_eq(crm_identity_save(quiet, mem_write, &a), CRM_OK);
    ck_assert_int_eq(crm_identity_save(logged, mem_write, &b), CRM_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert(memcmp(a.data, b.data, a.len) == 0);
    free(a.data);
    free(b.data);
    crm_identity_free(quiet);
    crm_identity_free(logged);
    crm_ctx_free(ctx);
}
END_TEST

/* Arrays of 4 MiB or more grow into fresh memory (graph.c): a graph that
 * grows past that by add and then by observe keeps every observation,
 * value and link. Observations 2k and 2k+1 share an email. */
START_TEST(test_big_arrays_keep_their_contents)
{
    enum { N = 300000 };
    crm_ctx *ctx;
    crm_identity *idn = NULL;
    int64_t *src = malloc(N * 8), *at = malloc(N * 8), p;
    size_t *off = malloc((N + 1) * sizeof *off);
    int *kinds = malloc(N * sizeof *kinds);
    char (*text)[48] = malloc((size_t)N * sizeof *text);
    const char **values = malloc(N * sizeof *values);
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    idn = new_graph(ctx);
    off[0] = 0;
    for (i = 0; i < N; i++) {
        src[i] = (int64_t)i + 1;
        at[i] = (int64_t)i;
        kinds[i] = EMAIL;
        sprintf(text[i], "customer-number-%07zu@long-domain-name.co.jp", i / 2);
        values[i] = text[i];
        off[i + 1] = i + 1;
    }
    ck_assert_int_eq(crm_identity_add(idn, N / 2, src, at, off, kinds, values, NULL), CRM_OK);
    ck_assert_int_eq(crm_identity_resolve(idn), CRM_OK);
    for (i = N / 2; i < N; i++)
        ck_assert_int_eq(crm_identity_observe(idn, src[i], at[i], 1, kinds + i, values + i, NULL, &p), CRM_OK);
    for (i = 0; i < N; i++)
        ck_assert_int_eq(profile_of(idn, src[i]), (int64_t)(i / 2 * 2 + 1));
    for (i = 0; i < N; i += 997) {
        ck_assert_int_eq(crm_identity_lookup(idn, EMAIL, values[i], strlen(values[i]), &p), CRM_OK);
        ck_assert_int_eq(p, (int64_t)(i / 2 * 2 + 1));
    }
    crm_identity_free(idn);
    crm_ctx_free(ctx);
    free(src);
    free(at);
    free(off);
    free(kinds);
    free(text);
    free(values);
}
END_TEST

/* ---- Normalisers: messy values against the recorded results ----------------- */

/*
 * A generator of messy identifier values (case, full-width forms,
 * ideographic and other spaces, dots and ideographic full stops, +tags,
 * provider and carrier domains, placeholders, controls, invalid UTF-8,
 * missing or doubled '@', phones typed every way) run through
 * crm_identity_normalize. Every outcome (status, bytes, message) goes into
 * one FNV-1a digest, recorded from the normalisers before their ASCII fast
 * paths: any change in a normalised byte or an error message changes it.
 * And since full-width ASCII folds to ASCII before anything else is
 * checked, an ASCII email or phone with one character written full-width
 * (which takes the general path) must give exactly what the ASCII value
 * gives.
 */

typedef struct messy {
    uint64_t state;
    char text[256];
    size_t len;
} messy;

static uint64_t messy_next(messy *m)
{
    uint64_t x = (m->state += UINT64_C(0x9e3779b97f4a7c15));

    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static unsigned messy_below(messy *m, unsigned n)
{
    return (unsigned)(messy_next(m) % n);
}

static void messy_put(messy *m, const char *s)
{
    size_t n = strlen(s);

    if (m->len + n < sizeof m->text - 1) {
        memcpy(m->text + m->len, s, n);
        m->len += n;
    }
}

static void messy_put_byte(messy *m, char c)
{
    char s[2] = {c, 0};

    messy_put(m, s);
}

/* One piece of an email, picked from pieces people type and break. */
static void messy_email_piece(messy *m, int in_domain)
{
    static const char *const local[] = {
        "user", "Taro.Yamada", "a..b", "x.", ".x", "foo+tag", "+tag",
        "no-reply", "NoReply", "test", "dummy", "do-not-reply", "info_01",
        "o'brien", "a\"b", "a(b)", "a,b", "a;b", "a<b>", "a[b]", "a\\b",
        "a:b", "a b", "a\tb", "a\x01" "b", "a\x7f" "b", "!#$%&*/=?^`{|}~",
        "\xEF\xBD\x95\xEF\xBD\x93\xEF\xBD\x85\xEF\xBD\x92", /* ｕｓｅｒ */
        "\xE3\x82\xB5\xE3\x83\xB3", /* サン */
        "\xC2\xA0", "\xE2\x80\x8B", "\xEF\xBB\xBF", "\xC2\x85",
        "\xFF", "\xC0\xAF", "\xE3\x80", "\xED\xA0\x80",
    };
    static const char *const domain[] = {
        "gmail.com", "GoogleMail.com", "hotmail.co.jp", "hotmail.com",
        "icloud.com", "live.com", "live.jp", "outlook.com", "outlook.jp",
        "docomo.ne.jp", "ezweb.ne.jp", "softbank.ne.jp", "yahoo.co.jp",
        "example.com", "sub.example.co.jp", "test", "test.com", "localhost",
        "invalid", "mail.invalid", "example", "a-b.jp", "-ab.jp", "ab-.jp",
        "a..jp", ".jp", "jp.", "nodot", "", "x_y.com", "a b.com",
        "gmail\xE3\x80\x82" "com",                   /* 。 */
        "gmail\xEF\xBD\xA1" "com",                   /* ｡ */
        "gmail\xEF\xBC\x8E" "com",                   /* ． */
        "\xEF\xBD\x87\xEF\xBD\x8D\xEF\xBD\x81\xEF\xBD\x89\xEF\xBD\x8C.com",
        "\xE4\xBE\x8B.jp",                           /* 例.jp */
        "\xE3\x80\x80" "gmail.com",                  /* U+3000 */
    };
    static const char *const ats[] = {
        "@", "@", "@", "@", "\xEF\xBC\xA0", "@@", "", "@x@",
    };

    if (in_domain) {
        messy_put(m, ats[messy_below(m, 8)]);
        messy_put(m, domain[messy_below(m, sizeof domain / sizeof domain[0])]);
    } else {
        messy_put(m, local[messy_below(m, sizeof local / sizeof local[0])]);
        if (messy_below(m, 3) == 0)
            messy_put(m, local[messy_below(m, 4)]);
    }
}

/* Flips the case of some ASCII letters. */
static void messy_flip_case(messy *m)
{
    size_t i;

    for (i = 0; i < m->len; i++) {
        char c = m->text[i];
        if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) &&
            messy_below(m, 3) == 0)
            m->text[i] = (char)(c ^ 0x20);
    }
}

/* Spaces people leave around a value: ASCII ones, tabs, U+3000. */
static void messy_pad(messy *m)
{
    static const char *const pads[] = {"", "", "", " ", "\t", "\r\n",
                                       "\xE3\x80\x80", " \xE3\x80\x80 "};

    messy_put(m, pads[messy_below(m, 8)]);
}

static void messy_email(messy *m)
{
    m->len = 0;
    messy_pad(m);
    messy_email_piece(m, 0);
    messy_email_piece(m, 1);
    messy_flip_case(m);
    messy_pad(m);
}

static void messy_digits(messy *m, unsigned n)
{
    static const char *const fw[] = {
        "\xEF\xBC\x90", "\xEF\xBC\x91", "\xEF\xBC\x92", "\xEF\xBC\x93",
        "\xEF\xBC\x94", "\xEF\xBC\x95", "\xEF\xBC\x96", "\xEF\xBC\x97",
        "\xEF\xBC\x98", "\xEF\xBC\x99",
    };
    static const char *const seps[] = {
        "-", "-", " ", "(", ")", ".", "[", "]", "\xE3\x83\xBC", /* ー */
        "\xE2\x88\x92", "\xEF\xBC\x8D", "\xE2\x80\x90", "\xE3\x80\x80",
        "/", "x", "+", "\xEF\xBD\xB0", "\xEF\xBC\x88", "\t", "\x01",
    };
    unsigned i, same = messy_below(m, 8) == 0, d = messy_below(m, 10);

    for (i = 0; i < n; i++) {
        if (!same)
            d = messy_below(m, 10);
        if (messy_below(m, 12) == 0)
            messy_put(m, fw[d]);
        else
            messy_put_byte(m, (char)('0' + d));
        if (messy_below(m, 6) == 0)
            messy_put(m, seps[messy_below(m, sizeof seps / sizeof seps[0])]);
    }
}

static void messy_phone(messy *m)
{
    static const char *const prefixes[] = {
        "0", "0", "0", "090", "080", "070", "060", "050", "020", "0120",
        "0800", "0570", "0180", "0990", "03", "+81", "+81 ", "+81 (0)",
        "0081", "01081", "+1 ", "00", "010", "+", ("\xEF\xBC\x8B" "81"),
        "++", "", "(0", "0-",
    };

    m->len = 0;
    messy_pad(m);
    messy_put(m, prefixes[messy_below(m, sizeof prefixes /
                                             sizeof prefixes[0])]);
    messy_digits(m, messy_below(m, 14));
    messy_pad(m);
}

/* Anything at all: short runs of random bytes, mostly ASCII. */
static void messy_bytes(messy *m)
{
    unsigned n = messy_below(m, 24), i;

    m->len = 0;
    for (i = 0; i < n; i++) {
        unsigned r = messy_below(m, 16);
        messy_put_byte(m, (char)(r < 12 ? 0x20 + messy_below(m, 0x5F)
                                         : messy_below(m, 256)));
    }
}

/* The outcome of normalising one value: status, bytes or message. */
typedef struct norm_outcome {
    crm_status status;
    size_t len;
    char out[4 * 256 + 16];
    char msg[256];
} norm_outcome;

static void normalize_outcome(crm_ctx *ctx, crm_identity_normalizer nz,
                              unsigned flags, const char *raw, size_t len,
                              norm_outcome *o)
{
    size_t cap = 4 * len + 16;

    memset(o, 0, sizeof *o);
    memset(o->out, 0x5a, sizeof o->out);
    o->status = crm_identity_normalize(ctx, nz, flags, raw, len, o->out, cap,
                                       &o->len);
    if (o->status != CRM_OK) {
        size_t i, written = 0;
        for (i = 0; i < sizeof o->out; i++)
            written += o->out[i] != 0x5a;
        if (written > 0)
            ck_abort_msg("out written on error");
        snprintf(o->msg, sizeof o->msg, "%s", crm_ctx_errmsg(ctx));
        o->len = 0;
    }
}

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t fnv_outcome(uint64_t h, const norm_outcome *o)
{
    unsigned char st = (unsigned char)-o->status; /* 0 or a small code */

    h = fnv_bytes(h, &st, 1);
    h = fnv_bytes(h, o->out, o->len);
    return fnv_bytes(h, o->msg, strlen(o->msg) + 1);
}

static int is_ascii_text(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* s with the first printable ASCII character at or after `from` written
 * full-width; 0 when there is none. */
static int widen_one(const char *s, size_t len, size_t from, messy *wide)
{
    size_t i;

    for (i = from; i < len; i++) {
        unsigned cp = (unsigned char)s[i];
        if (cp < 0x21 || cp > 0x7e)
            continue;
        cp += 0xFEE0u;
        memcpy(wide->text, s, i);
        wide->text[i] = (char)(0xE0 | (cp >> 12));
        wide->text[i + 1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        wide->text[i + 2] = (char)(0x80 | (cp & 0x3F));
        memcpy(wide->text + i + 3, s + i + 1, len - i - 1);
        wide->len = len + 2;
        return 1;
    }
    return 0;
}

static void assert_same_outcome(const norm_outcome *a, const norm_outcome *b,
                                const char *raw, size_t len)
{
    if (a->status != b->status || a->len != b->len ||
        memcmp(a->out, b->out, a->len) != 0 || strcmp(a->msg, b->msg) != 0)
        ck_abort_msg("\"%.*s\": %d \"%.*s\" %s vs full-width %d \"%.*s\" %s",
                     (int)len, raw, a->status, (int)a->len, a->out, a->msg,
                     b->status, (int)b->len, b->out, b->msg);
}

/* The full-width twin of an ASCII value gives the same outcome. */
static void check_full_width_twin(crm_ctx *ctx, crm_identity_normalizer nz,
                                  unsigned flags, const messy *m,
                                  const norm_outcome *ascii)
{
    messy wide;
    norm_outcome o;
    size_t from = (size_t)(m->state % (m->len + 1));

    if (!is_ascii_text(m->text, m->len) ||
        !widen_one(m->text, m->len, from, &wide))
        return;
    normalize_outcome(ctx, nz, flags, wide.text, wide.len, &o);
    assert_same_outcome(ascii, &o, m->text, m->len);
}

#define MESSY_VALUES 40000

/* Runs MESSY_VALUES values of gen through normaliser nz; the digest. */
static uint64_t messy_digest(crm_ctx *ctx, crm_identity_normalizer nz,
                             unsigned flags, void (*gen)(messy *),
                             uint64_t seed, int twins)
{
    static norm_outcome o;
    messy m;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t i;

    m.state = seed;
    for (i = 0; i < MESSY_VALUES; i++) {
        gen(&m);
        normalize_outcome(ctx, nz, flags, m.text, m.len, &o);
        h = fnv_outcome(h, &o);
        if (twins)
            check_full_width_twin(ctx, nz, flags, &m, &o);
    }
    return h;
}

START_TEST(test_normalizers_keep_recorded_results)
{
    static const struct {
        crm_identity_normalizer nz;
        unsigned flags;
        void (*gen)(messy *);
        int twins;
    } runs[] = {
        {CRM_NORMALIZE_EMAIL, 0, messy_email, 1},
        {CRM_NORMALIZE_EMAIL, CRM_NORMALIZE_FOLD_PROVIDER, messy_email, 1},
        {CRM_NORMALIZE_EMAIL, 0, messy_bytes, 1},
        {CRM_NORMALIZE_PHONE_JP, 0, messy_phone, 1},
        {CRM_NORMALIZE_PHONE_JP, 0, messy_bytes, 1},
        {CRM_NORMALIZE_POSTAL_JP, 0, messy_phone, 0},
        {CRM_NORMALIZE_EXACT, 0, messy_email, 0},
        {CRM_NORMALIZE_ICASE, 0, messy_bytes, 0},
        {CRM_NORMALIZE_NAME_JA, CRM_NORMALIZE_FOLD_KANA, messy_email, 0},
    };
    /* one per run, from the normalisers of b05961d */
    static const uint64_t recorded[] = {
        UINT64_C(0x5df985fc6c050aa8), UINT64_C(0x3bfc772302d00860),
        UINT64_C(0x0f634c074f312b9f), UINT64_C(0x56e12aa754676e3d),
        UINT64_C(0x98265f03c118e84c), UINT64_C(0x0518deac15977c5d),
        UINT64_C(0x15668e1bc406b50f), UINT64_C(0xe1a4cca0054091d8),
        UINT64_C(0xc9256f743f4f43b6),
    };
    crm_ctx *ctx = NULL;
    size_t i;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        uint64_t h = messy_digest(ctx, runs[i].nz, runs[i].flags, runs[i].gen,
                                  i + 1, runs[i].twins);
        ck_assert_msg(h == recorded[i],
                      "run %zu (normaliser %d): digest %016llx, recorded "
                      "%016llx", i, (int)runs[i].nz, (unsigned long long)h,
                      (unsigned long long)recorded[i]);
    }
    crm_ctx_free(ctx);
}
END_TEST

/* ---- Suite ------------------------------------------------------------------------ */

static Suite *identity_suite(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("graph");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_observe_merges_and_keeps_earliest_id);
    tcase_add_test(tc, test_lookup_many_matches_lookup);
    tcase_add_test(tc, test_lookup_many_long_values);
    tcase_add_test(tc, test_lookup_follows_observe_merges);
    tcase_add_test(tc, test_lookup_after_merging_a_big_profile);
    tcase_add_test(tc, test_lookup_after_forget_joins_profiles);
    tcase_add_test(tc, test_lookup_after_refusal_forget_and_load);
    tcase_add_test(tc, test_merge_events_rekey);
    tcase_add_test(tc, test_limit_refuses_lowest_priority_link);
    tcase_add_test(tc, test_observation_with_two_member_ids);
    tcase_add_test(tc, test_shared_value_stops_merging);
    tcase_add_test(tc, test_family_email_ties_count_without_conflict);
    tcase_add_test(tc, test_shared_limit_retroactive_in_resolve);
    tcase_add_test(tc, test_profile_cap);
    tcase_add_test(tc, test_blocked_and_placeholders);
    tcase_add_test(tc, test_block_after_link_takes_effect_at_resolve);
    tcase_add_test(tc, test_rejected_value_ignored);
    tcase_add_test(tc, test_composite_kind);
    tcase_add_test(tc, test_resolve_independent_of_order);
    tcase_add_test(tc, test_resolve_orders_long_ties_by_source);
    tcase_add_test(tc, test_resolve_in_place_equals_beside);
    tcase_add_test(tc, test_resolve_replays_only_touched_parts);
    tcase_add_test(tc, test_incremental_equals_batch_without_conflicts);
    tcase_add_test(tc, test_resolve_reports_moves);
    tcase_add_test(tc, test_callback_refusal_changes_nothing);
    tcase_add_test(tc, test_forget_source_splits);
    tcase_add_test(tc, test_forget_value_splits);
    tcase_add_test(tc, test_explain);
    tcase_add_test(tc, test_profile_values_and_export);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_held_name_keeps_family_apart);
    tcase_add_test(tc, test_save_load_round_trip);
    tcase_add_test(tc, test_load_rejects_damage);
    tcase_add_loop_test(tc, test_alloc_failures, RUN_NEW, RUN_LOAD + 1);
    tcase_add_test(tc, test_observe_same_with_and_without_callback);
    tcase_add_test(tc, test_big_arrays_keep_their_contents);
    tcase_add_test(tc, test_normalizers_keep_recorded_results);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(identity_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
