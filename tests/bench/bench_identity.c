/*
 * Benchmark of identity merging: bench_identity [observations] (default
 * 10,000,000). It generates people with several messy records each
 * (emails in varying case and full-width, phones typed in different
 * formats, member ids on some, LINE ids on some, family emails shared by a
 * household, the shop's own phone typed at checkout, placeholders), knows
 * the person behind every record, and prints one figure per line as
 * `name: value unit`: bulk add, batch resolve, incremental observe, lookup
 * (one call per value, and 300,000 values per crm_identity_lookup_many;
 * and one call per value over 1,000 values that stay cached, which is
 * what a lookup costs apart from waiting on memory),
 * peak RSS (overall, and once the observations are added, before resolve),
 * and pairwise precision and recall over observations.
 * The kinds rank the most personal identifiers first, as README
 * recommends: member_id, line_id and phone (limit 1 each: every generated
 * person has one mobile), then email (limit 5), so a household's shared
 * email loses to its members' own phones.
 * A second graph adds each person's name (typed with or without a space,
 * with variant kanji, half-width kana; missing on one record in four) as a
 * non-merging kind with limit 1, and prints its precision and recall too.
 * A third graph ranks email before phone and lets a profile hold 3 phones,
 * to show what that costs in precision. Both extra graphs hold the first
 * million observations at most.
 * Times are CPU time of the process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "core/radix.h"
#include "crm/identity.h"

#define CHUNK 100000u
#define IDS_PER_OBS 3
#define MAX_IDS_PER_OBS (IDS_PER_OBS + 1) /* with a name */
#define RECORDS_PER_PERSON 4
#define SHOP_PHONES 50
#define NAMES_MAX_OBS 1000000u

/* The generator's kinds; each graph numbers them in its own rank order. */
enum { K_MEMBER, K_EMAIL, K_PHONE, K_LINE, K_NAME, K_COUNT };

/* ---- data generator ---- */

static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

typedef struct gen {
    uint64_t people;
    int names;       /* records carry the person's name (K_NAME) */
    int email_first; /* the graph ranks email before phone, phone limit 3 */
    int kind_of[K_COUNT]; /* the graph's number of each K_ kind */
    char text[CHUNK * MAX_IDS_PER_OBS][96];
    const char *values[CHUNK * MAX_IDS_PER_OBS];
    int kinds[CHUNK * MAX_IDS_PER_OBS];
    size_t offsets[CHUNK + 1];
    int64_t src[CHUNK], at[CHUNK];
} gen;

/* The person behind observation i. */
static uint32_t person_of(const gen *g, uint64_t i)
{
    return (uint32_t)(mix(i * 2 + 1) % g->people);
}

static int has_member(uint32_t p) { return mix(p ^ 0x11) % 10 < 4; }
static int has_line(uint32_t p) { return mix(p ^ 0x22) % 10 < 3; }
static int has_second_email(uint32_t p) { return mix(p ^ 0x33) % 10 < 3; }
/* One household in 20 (three people: p/3) shares a family email. */
static int in_family(uint32_t p) { return mix((p / 3) ^ 0x44) % 20 == 0; }
/* (example.* domains are placeholders: the generator uses real ones.) */

/* ASCII as full-width forms (U+FF01..U+FF5E). */
static size_t full_width(char *out, const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        unsigned cp = 0xFF01u + (unsigned)(*s - '!');
        out[n++] = (char)(0xE0 | (cp >> 12));
        out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[n++] = (char)(0x80 | (cp & 0x3F));
    }
    out[n] = 0;
    return n;
}

/* An email typed messily: case flipped at random, sometimes full-width. */
static void messy_email(char *out, const char *email, uint64_t r)
{
    char tmp[64];
    size_t i;

    for (i = 0; email[i]; i++) {
        char c = email[i];
        if (c >= 'a' && c <= 'z' && (mix(r + i) & 3) == 0)
            c = (char)(c - 'a' + 'A');
        tmp[i] = c;
    }
    tmp[i] = 0;
    if (r % 16 == 0)
        full_width(out, tmp);
    else
        strcpy(out, tmp);
}

static void person_email(char *out, uint32_t p, int which)
{
    static const char *domains[] = {"gmail.com", "yahoo.co.jp",
                                    "docomo.ne.jp", "icloud.com"};
    sprintf(out, "%s%ux%d@%s", which ? "alt" : "user", p, which,
            domains[mix(p ^ (uint64_t)which) % 4]);
}

/* Japanese mobile 0X0-NNNN-NNNN, typed in one of several formats. */
static void messy_phone(char *out, uint64_t number, uint64_t r)
{
    unsigned pre = 7 + (unsigned)(number % 3); /* 070, 080, 090 */
    unsigned a = (unsigned)(number / 3 % 10000);
    unsigned b = (unsigned)(number / 30000 % 10000);
    char tmp[64];

    switch (r % 6) {
    case 0:
        sprintf(out, "0%u0-%04u-%04u", pre, a, b);
        break;
    case 1:
        sprintf(out, "0%u0%04u%04u", pre, a, b);
        break;
    case 2:
        sprintf(out, "+81 %u0 %04u %04u", pre, a, b);
        break;
    case 3:
        sprintf(out, "(0%u0)%04u-%04u", pre, a, b);
        break;
    case 4:
        sprintf(tmp, "0%u0%04u%04u", pre, a, b);
        full_width(out, tmp);
        break;
    default:
        sprintf(out, "0%u0 %04u %04u", pre, a, b);
        break;
    }
}

/* A mobile number of its own for every person: p -> p * 1000003 + 12345
 * mod 3e8 is a bijection (1000003 is prime to 2, 3 and 5), so two people
 * never share one, as in life. */
static uint64_t mobile_number(uint32_t p)
{
    return ((uint64_t)p * 1000003u + 12345u) % 300000000u;
}

/* The shop's own landline, typed at checkout. */
static void shop_phone(char *out, unsigned shop, uint64_t r)
{
    if (r % 2)
        sprintf(out, "03-5555-%04u", shop);
    else
        sprintf(out, "0355550%03u", shop);
}

/* Fills identifier slot j of observation i (person p). */
static int identifier(char *out, uint32_t p, uint64_t i, int slot)
{
    uint64_t r = mix(i * 8 + (uint64_t)slot);
    char email[64];

    switch (slot) {
    case 0: /* an email: personal, second, family or a placeholder */
        if (r % 1000 < 3) {
            strcpy(out, r % 2 ? "test@test.com" : "noreply@example.com");
        } else if (in_family(p) && r % 10 < 3) {
            sprintf(email, "family%u@ezweb.ne.jp", p / 3);
            messy_email(out, email, r >> 8);
        } else {
            person_email(email, p, has_second_email(p) && (r >> 4) % 3 == 0);
            messy_email(out, email, r >> 8);
        }
        return K_EMAIL;
    case 1: /* a phone: own, or the shop's typed at checkout */
        if (r % 1000 < 5)
            shop_phone(out, (unsigned)(r / 1000 % SHOP_PHONES), r >> 20);
        else if (r % 1000 < 7)
            strcpy(out, "090-0000-0000");
        else
            messy_phone(out, mobile_number(p), r >> 20);
        return K_PHONE;
    default: /* member id, LINE id, or another email / phone */
        if (has_member(p) && r % 3 == 0) {
            sprintf(out, "M%08u", p);
            return K_MEMBER;
        }
        if (has_line(p) && r % 3 == 1) {
            sprintf(out, "U%016llx", (unsigned long long)mix(p ^ 0x66));
            return K_LINE;
        }
        return identifier(out, p, i + 0x9e37, (int)(r % 2));
    }
}

/* Family names: the usual form and the variant kanji some people write
 * (NULL when none is common). */
static const char *const family_names[][2] = {
    {"佐藤", NULL}, {"鈴木", NULL}, {"高橋", "髙橋"}, {"田中", NULL},
    {"伊藤", NULL}, {"渡辺", "渡邊"}, {"山本", NULL}, {"中村", NULL},
    {"小林", NULL}, {"加藤", NULL}, {"吉田", NULL}, {"山田", NULL},
    {"山崎", "山﨑"}, {"松本", NULL}, {"井上", NULL}, {"木村", NULL},
    {"斉藤", "齋藤"}, {"清水", NULL}, {"島田", "嶋田"}, {"長沢", "長澤"},
    {"池田", NULL}, {"橋本", NULL}, {"石川", NULL}, {"前田", NULL},
    {"藤田", NULL}, {"小川", NULL}, {"岡田", NULL}, {"後藤", NULL},
    {"長谷川", NULL}, {"村上", NULL}, {"近藤", NULL}, {"浜田", "濱田"},
};

/* Given names: the usual form and the half-width form a katakana name is
 * sometimes typed in (NULL for kanji and hiragana names). */
static const char *const given_names[][2] = {
    {"太郎", NULL}, {"花子", NULL}, {"翔太", NULL}, {"美咲", NULL},
    {"健太", NULL}, {"陽菜", NULL}, {"大輝", NULL}, {"結衣", NULL},
    {"蓮", NULL}, {"浩二", NULL}, {"恵子", NULL}, {"和也", NULL},
    {"直美", NULL}, {"誠", NULL}, {"裕子", NULL}, {"拓也", NULL},
    {"隆", NULL}, {"由美", NULL}, {"大和", NULL}, {"葵", NULL},
    {"悠斗", NULL}, {"凛", NULL}, {"博之", NULL}, {"明美", NULL},
    {"真一", NULL}, {"智子", NULL}, {"亮", NULL}, {"舞", NULL},
    {"さくら", NULL}, {"ひかり", NULL}, {"エミ", "ｴﾐ"}, {"ジュン", "ｼﾞｭﾝ"},
    {"ケン", "ｹﾝ"}, {"ナナ", "ﾅﾅ"}, {"リサ", "ﾘｻ"}, {"ユウキ", "ﾕｳｷ"},
};

#define N_FAMILY (sizeof family_names / sizeof family_names[0])
#define N_GIVEN (sizeof given_names / sizeof given_names[0])

/* Person p's name as typed on one record. The people of a household (p/3,
 * as for family emails) share a family name and have different given
 * names. Variants: no space, an ASCII space or U+3000 between the names;
 * variant kanji; half-width katakana. */
static void person_name(char *out, uint32_t p, uint64_t r)
{
    static const char *const spaces[] = {"", " ", "\xE3\x80\x80"};
    uint32_t h = p / 3;
    const char *const *family = family_names[mix(h ^ 0x55) % N_FAMILY];
    const char *const *given =
        given_names[(mix(h ^ 0x56) + (p % 3) * 7) % N_GIVEN];

    sprintf(out, "%s%s%s", family[family[1] && r % 3 == 0],
            spaces[(r >> 2) % 3], given[given[1] && (r >> 4) % 2 == 0]);
}

/* Generates observations first .. first + n - 1 (n <= CHUNK). */
static void generate(gen *g, uint64_t first, size_t n)
{
    size_t i, k = 0;
    int slot;

    g->offsets[0] = 0;
    for (i = 0; i < n; i++) {
        uint64_t obs = first + i;
        uint32_t p = person_of(g, obs);
        g->src[i] = (int64_t)obs + 1;
        g->at[i] = 1600000000 + (int64_t)(mix(obs ^ 0x77) % 100000000);
        for (slot = 0; slot < IDS_PER_OBS; slot++) {
            g->kinds[k] = g->kind_of[identifier(g->text[k], p, obs, slot)];
            g->values[k] = g->text[k];
            k++;
        }
        if (g->names && mix(obs ^ 0x88) % 4 != 0) {
            person_name(g->text[k], p, mix(obs ^ 0x99));
            g->kinds[k] = g->kind_of[K_NAME];
            g->values[k] = g->text[k];
            k++;
        }
        g->offsets[i + 1] = k;
    }
}

/* ---- measuring ---- */

static void check(crm_status s, crm_ctx *ctx, const char *what)
{
    if (s != CRM_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, crm_strerror(s),
                crm_ctx_errmsg(ctx));
        exit(1);
    }
}

/* Registers one kind and records its number in g->kind_of. */
static void add_kind(crm_identity *idn, crm_ctx *ctx, gen *g, int which,
                     const char *name, crm_identity_normalizer normalizer,
                     int merges, uint32_t limit)
{
    check(crm_identity_add_kind(idn, name, normalizer, 0, merges, limit,
                                &g->kind_of[which]),
          ctx, "kind");
}

/* A graph with the kinds of g's configuration, in rank order. */
static crm_identity *new_graph(crm_ctx *ctx, gen *g)
{
    crm_identity *idn;

    check(crm_identity_new(ctx, &idn), ctx, "new");
    add_kind(idn, ctx, g, K_MEMBER, "member_id", CRM_NORMALIZE_EXACT, 1, 1);
    if (g->email_first) {
        add_kind(idn, ctx, g, K_EMAIL, "email", CRM_NORMALIZE_EMAIL, 1, 5);
        add_kind(idn, ctx, g, K_PHONE, "phone", CRM_NORMALIZE_PHONE_JP, 1, 3);
        add_kind(idn, ctx, g, K_LINE, "line_id", CRM_NORMALIZE_EXACT, 1, 1);
    } else {
        add_kind(idn, ctx, g, K_LINE, "line_id", CRM_NORMALIZE_EXACT, 1, 1);
        add_kind(idn, ctx, g, K_PHONE, "phone", CRM_NORMALIZE_PHONE_JP, 1, 1);
        add_kind(idn, ctx, g, K_EMAIL, "email", CRM_NORMALIZE_EMAIL, 1, 5);
    }
    if (g->names)
        add_kind(idn, ctx, g, K_NAME, "name", CRM_NORMALIZE_NAME_JA, 0, 1);
    return idn;
}

static double pairs(uint64_t n)
{
    return (double)n * (double)(n - 1) / 2.0;
}

/* Pairwise precision and recall of the profiles against the people. */
static void quality(crm_ctx *ctx, const crm_identity *idn, const gen *g,
                    uint64_t n, const char *label)
{
    int64_t *src = malloc(n * 8), *profile = malloc(n * 8);
    uint32_t *count = calloc(n + 1, 4), *people = calloc(g->people, 4);
    size_t got, i, run = 0;
    double predicted = 0, truth = 0, both = 0;

    check(crm_identity_export(idn, src, profile, n, &got), ctx, "export");
    for (i = 0; i < got; i++) {
        count[profile[i]]++;
        people[person_of(g, (uint64_t)(src[i] - 1))]++;
        /* reuse src as the (profile, person) cell key */
        src[i] = profile[i] * (int64_t)g->people +
                 person_of(g, (uint64_t)(src[i] - 1));
    }
    for (i = 0; i <= n; i++)
        predicted += count[i] > 1 ? pairs(count[i]) : 0;
    for (i = 0; i < g->people; i++)
        truth += people[i] > 1 ? pairs(people[i]) : 0;
    if (crm_radix_sort_i64(ctx, src, NULL, got) != 0)
        exit(1);
    for (i = 0; i < got; i++) {
        run++;
        if (i + 1 == got || src[i + 1] != src[i]) {
            both += run > 1 ? pairs(run) : 0;
            run = 0;
        }
    }
    printf("identity%s_precision: %.5f ratio\n", label,
           predicted > 0 ? both / predicted : 1.0);
    printf("identity%s_recall: %.5f ratio\n", label,
           truth > 0 ? both / truth : 1.0);
    free(src);
    free(profile);
    free(count);
    free(people);
}

static double bench_lookup(crm_ctx *ctx, const crm_identity *idn, gen *g,
                           uint64_t n)
{
    size_t rounds = 10, i, r, found = 0;
    double t, spent = 0;
    int64_t profile;

    for (r = 0; r < rounds; r++) {
        generate(g, mix(r) % (n > CHUNK ? n - CHUNK : 1), CHUNK);
        t = bench_cpu_ms() / 1e3;
        for (i = 0; i < CHUNK * IDS_PER_OBS; i++)
            found += crm_identity_lookup(idn, g->kinds[i], g->values[i],
                                         strlen(g->values[i]),
                                         &profile) == CRM_OK;
        spent += bench_cpu_ms() / 1e3 - t;
    }
    (void)ctx;
    return (double)(rounds * CHUNK * IDS_PER_OBS) / spent +
           0 * (double)found;
}

/* Values bench_lookup_cached looks up again and again: few enough that
 * their map slots, bytes and profile ids stay in the caches. */
#define CACHED_VALUES 1000u

/* As bench_lookup over the same CACHED_VALUES values 3,000 times: what a
 * lookup costs apart from waiting on memory (normalising, hashing,
 * comparing). */
static double bench_lookup_cached(const crm_identity *idn, gen *g)
{
    size_t rounds = 3000, i, r, found = 0;
    int64_t profile;
    double t;

    generate(g, 0, CHUNK);
    t = bench_cpu_ms() / 1e3;
    for (r = 0; r < rounds; r++)
        for (i = 0; i < CACHED_VALUES; i++)
            found += crm_identity_lookup(idn, g->kinds[i], g->values[i],
                                         strlen(g->values[i]),
                                         &profile) == CRM_OK;
    t = bench_cpu_ms() / 1e3 - t;
    return (double)(rounds * CACHED_VALUES) / t + 0 * (double)found;
}

/* As bench_lookup, through crm_identity_lookup_many a chunk at a time. */
static double bench_lookup_many(crm_ctx *ctx, const crm_identity *idn,
                                gen *g, uint64_t n)
{
    static int64_t profiles[CHUNK * IDS_PER_OBS];
    static crm_status status[CHUNK * IDS_PER_OBS];
    size_t rounds = 10, r;
    double t, spent = 0;

    for (r = 0; r < rounds; r++) {
        generate(g, mix(r) % (n > CHUNK ? n - CHUNK : 1), CHUNK);
        t = bench_cpu_ms() / 1e3;
        check(crm_identity_lookup_many(idn, CHUNK * IDS_PER_OBS, g->kinds,
                                       g->values, NULL, profiles, status),
              ctx, "lookup_many");
        spent += bench_cpu_ms() / 1e3 - t;
    }
    return (double)(rounds * CHUNK * IDS_PER_OBS) / spent;
}

static double bench_observe(crm_ctx *ctx, gen *g, uint64_t n)
{
    crm_identity *idn = new_graph(ctx, g);
    uint64_t first;
    double spent = 0, t;
    int64_t profile;
    size_t i;

    for (first = 0; first < n; first += CHUNK) {
        size_t m = n - first < CHUNK ? (size_t)(n - first) : CHUNK;
        generate(g, first, m);
        t = bench_cpu_ms() / 1e3;
        for (i = 0; i < m; i++)
            check(crm_identity_observe(idn, g->src[i], g->at[i],
                                       g->offsets[i + 1] - g->offsets[i],
                                       g->kinds + g->offsets[i],
                                       g->values + g->offsets[i], NULL,
                                       &profile), ctx, "observe");
        spent += bench_cpu_ms() / 1e3 - t;
    }
    crm_identity_free(idn);
    return (double)n / spent;
}

/* Peak RSS in KiB when the last build had added its observations, before
 * resolve: says which of the two sets identity_peak_rss_mb. */
static long add_peak_rss_kb;

/* A graph of observations 0 .. n-1 added in chunks and resolved; CPU
 * seconds spent in add and resolve go to *add_s and *resolve_s. */
static crm_identity *build(crm_ctx *ctx, gen *g, uint64_t n, double *add_s,
                           double *resolve_s)
{
    struct rusage ru;
    crm_identity *idn = new_graph(ctx, g);
    uint64_t first;
    double t;

    *add_s = 0;
    for (first = 0; first < n; first += CHUNK) {
        size_t m = n - first < CHUNK ? (size_t)(n - first) : CHUNK;
        generate(g, first, m);
        t = bench_cpu_ms() / 1e3;
        check(crm_identity_add(idn, m, g->src, g->at, g->offsets, g->kinds,
                               g->values, NULL), ctx, "add");
        *add_s += bench_cpu_ms() / 1e3 - t;
    }
    getrusage(RUSAGE_SELF, &ru);
    add_peak_rss_kb = ru.ru_maxrss;
    t = bench_cpu_ms() / 1e3;
    check(crm_identity_resolve(idn), ctx, "resolve");
    *resolve_s = bench_cpu_ms() / 1e3 - t;
    return idn;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000u;
    gen *g = malloc(sizeof *g);
    crm_ctx *ctx;
    crm_identity *idn;
    double add_s, resolve_s, observe_rate, lookup_rate;
    struct rusage ru;
    size_t sources, profiles;
    char label[32];

    if (g == NULL || n < 1000 || crm_ctx_new(&ctx) != CRM_OK)
        return 1;
    g->people = n / RECORDS_PER_PERSON;
    g->names = 0;
    g->email_first = 0;
    if (n % 1000000 == 0)
        snprintf(label, sizeof label, "%llum", (unsigned long long)(n / 1000000));
    else
        snprintf(label, sizeof label, "%lluk", (unsigned long long)(n / 1000));
    idn = build(ctx, g, n, &add_s, &resolve_s);
    check(crm_identity_counts(idn, &sources, &profiles), ctx, "counts");
    getrusage(RUSAGE_SELF, &ru);
    printf("identity_observations: %llu count\n", (unsigned long long)n);
    printf("identity_people: %llu count\n", (unsigned long long)g->people);
    printf("identity_profiles: %zu count\n", profiles);
    printf("identity_%s_add_ms: %.0f ms\n", label, add_s * 1000);
    printf("identity_%s_resolve_ms: %.0f ms\n", label, resolve_s * 1000);
    printf("identity_peak_rss_mb: %.0f MB\n", (double)ru.ru_maxrss / 1024.0);
    printf("identity_add_peak_rss_mb: %.0f MB\n",
           (double)add_peak_rss_kb / 1024.0);
    quality(ctx, idn, g, n, "");
    lookup_rate = bench_lookup(ctx, idn, g, n);
    printf("identity_lookup_per_s: %.0f lookups/s\n", lookup_rate);
    printf("identity_lookup_many_per_s: %.0f lookups/s\n",
           bench_lookup_many(ctx, idn, g, n));
    printf("identity_lookup_cached_per_s: %.0f lookups/s\n",
           bench_lookup_cached(idn, g));
    crm_identity_free(idn);
    observe_rate = bench_observe(ctx, g, n < 1000000 ? n : 1000000);
    printf("identity_observe_per_s: %.0f observations/s\n", observe_rate);
    /* the names graph: quality only, so at most 1M observations */
    n = n < NAMES_MAX_OBS ? n : NAMES_MAX_OBS;
    g->people = n / RECORDS_PER_PERSON;
    g->names = 1;
    idn = build(ctx, g, n, &add_s, &resolve_s);
    quality(ctx, idn, g, n, "_names");
    crm_identity_free(idn);
    /* the same observations without names, email ranked before phone */
    g->names = 0;
    g->email_first = 1;
    idn = build(ctx, g, n, &add_s, &resolve_s);
    quality(ctx, idn, g, n, "_email_first");
    crm_identity_free(idn);
    crm_ctx_free(ctx);
    free(g);
    return 0;
}
