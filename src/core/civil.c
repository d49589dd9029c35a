/*
 * Proleptic Gregorian calendar arithmetic (Howard Hinnant's days-from-civil;
 * civil-from-days is inline in civil.h) and the public time parser
 * crm_time_parse.
 */
#include "core/civil.h"
#include "crm/common.h"

int64_t crm_days_from_civil(int64_t year, unsigned month, unsigned day)
{
    int64_t y = month <= 2 ? year - 1 : year;
    int64_t era = crm_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = month > 2 ? (int64_t)month - 3 : (int64_t)month + 9;
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

int crm_is_leap_year(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned crm_days_in_month(int64_t year, unsigned month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31};

    if (month == 2 && crm_is_leap_year(year))
        return 29;
    return days[month - 1];
}

unsigned crm_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    return (unsigned)crm_floor_mod(days + 3, 7);
}

/* ---- crm_time_parse ---------------------------------------------------- */

typedef struct time_cursor {
    const char *s;
    size_t len;
    size_t pos;
} time_cursor;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits; -1 when they are not there. */
static int64_t read_digits(time_cursor *c, unsigned n)
{
    int64_t v = 0;
    unsigned i;

    if (c->len - c->pos < n)
        return -1;
    for (i = 0; i < n; i++) {
        char ch = c->s[c->pos + i];
        if (!is_digit(ch))
            return -1;
        v = v * 10 + (ch - '0');
    }
    c->pos += n;
    return v;
}

static int accept(time_cursor *c, char ch)
{
    if (c->pos < c->len && c->s[c->pos] == ch) {
        c->pos++;
        return 1;
    }
    return 0;
}

static crm_status parse_unix_seconds(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int negative = 0;
    uint64_t v = 0;

    if (s[0] == '-') {
        negative = 1;
        i = 1;
    }
    if (i == len)
        return CRM_EPARSE;
    for (; i < len; i++) {
        if (!is_digit(s[i]) || v > (UINT64_C(1) << 62) / 10)
            return CRM_EPARSE;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = negative ? -(int64_t)v : (int64_t)v;
    return CRM_OK;
}

/* Parses "Z", "+HH:MM", "+HHMM", "+HH" into minutes east of UTC. */
static int parse_offset(time_cursor *c, int32_t *offset_min)
{
    int sign;
    int64_t hh, mm = 0;

    if (accept(c, 'Z') || accept(c, 'z')) {
        *offset_min = 0;
        return 0;
    }
    if (accept(c, '+'))
        sign = 1;
    else if (accept(c, '-'))
        sign = -1;
    else
        return -1;
    hh = read_digits(c, 2);
    if (hh < 0 || hh > 23)
        return -1;
    if (c->pos < c->len) {
        accept(c, ':');
        mm = read_digits(c, 2);
        if (mm < 0 || mm > 59)
            return -1;
    }
    *offset_min = (int32_t)(sign * (hh * 60 + mm));
    return 0;
}

static int parse_clock(time_cursor *c, int64_t *seconds)
{
    int64_t hh, mm, ss = 0;

    hh = read_digits(c, 2);
    if (hh < 0 || hh > 23 || !accept(c, ':'))
        return -1;
    mm = read_digits(c, 2);
    if (mm < 0 || mm > 59)
        return -1;
    if (accept(c, ':')) {
        ss = read_digits(c, 2);
        if (ss < 0 || ss > 60)
            return -1;
        if (ss == 60)
            ss = 59; /* a leap second is kept inside its minute */
        if (accept(c, '.') || accept(c, ',')) {
            if (c->pos >= c->len || !is_digit(c->s[c->pos]))
                return -1;
            while (c->pos < c->len && is_digit(c->s[c->pos]))
                c->pos++;
        }
    }
    *seconds = hh * 3600 + mm * 60 + ss;
    return 0;
}

crm_status crm_time_parse(const char *text, size_t len,
                          int32_t default_offset_min, int64_t *out)
{
    time_cursor c = {text, len, 0};
    int64_t year, month, day, clock = 0;
    int32_t offset = default_offset_min;

    if (!text || !out || default_offset_min < -1440 || default_offset_min > 1440)
        return CRM_EINVAL;
    if (len == 0)
        return CRM_EPARSE;
    if (len < 10 || text[4] != '-')
        return parse_unix_seconds(text, len, out);
    year = read_digits(&c, 4);
    if (year < 1 || !accept(&c, '-'))
        return CRM_EPARSE;
    month = read_digits(&c, 2);
    if (month < 1 || month > 12 || !accept(&c, '-'))
        return CRM_EPARSE;
    day = read_digits(&c, 2);
    if (day < 1 || day > crm_days_in_month(year, (unsigned)month))
        return CRM_EPARSE;
    if (c.pos < len) {
        if (!accept(&c, 'T') && !accept(&c, 't') && !accept(&c, ' '))
            return CRM_EPARSE;
        if (parse_clock(&c, &clock) != 0)
            return CRM_EPARSE;
        if (c.pos < len && parse_offset(&c, &offset) != 0)
            return CRM_EPARSE;
        if (c.pos != len)
            return CRM_EPARSE;
    }
    *out = crm_days_from_civil(year, (unsigned)month, (unsigned)day) *
               CRM_SECONDS_PER_DAY +
           clock - (int64_t)offset * 60;
    return CRM_OK;
}
