#include "timestamp.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

/* Fixed English names: strftime's %a/%b would follow the locale. */
static const char weekday_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int64_t timestamp_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Floor division, so that times before the epoch land in the right second. */
static void split_us(int64_t us, struct tm *tm, int *frac_us)
{
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        sec--;
    }
    time_t t = (time_t)sec;
    gmtime_r(&t, tm);
    *frac_us = (int)rem;
}

static char *put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* "YYYY-MM-DD HH:MM:SS"; years outside 0..9999 are not representable and are clamped. */
static char *put_date_time(char *p, const struct tm *tm)
{
    int year = tm->tm_year + 1900;
    if (year < 0)
        year = 0;
    if (year > 9999)
        year = 9999;
    p = put_digits(p, (unsigned)year, 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm->tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm->tm_mday, 2);
    *p++ = ' ';
    p = put_digits(p, (unsigned)tm->tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm->tm_min, 2);
    *p++ = ':';
    return put_digits(p, (unsigned)tm->tm_sec, 2);
}

/*
 * Per-thread cache of the formatted whole seconds: events are stamped at "now", so consecutive calls
 * mostly fall in the same second and only the 6 fraction digits change (no gmtime_r per event).
 */
static _Thread_local int64_t event_cache_sec = INT64_MIN; /* no us maps to this second */
static _Thread_local char event_cache_text[TIMESTAMP_WINDOW_LEN];

void timestamp_format_event(int64_t us, char *out)
{
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        sec--;
    }
    if (sec != event_cache_sec) {
        struct tm tm;
        time_t t = (time_t)sec;
        gmtime_r(&t, &tm);
        put_date_time(event_cache_text, &tm);
        event_cache_sec = sec;
    }
    memcpy(out, event_cache_text, TIMESTAMP_WINDOW_LEN);
    out[TIMESTAMP_WINDOW_LEN] = '.';
    put_digits(out + TIMESTAMP_WINDOW_LEN + 1, (unsigned)rem, 6);
    out[TIMESTAMP_EVENT_LEN] = '\0';
}

void timestamp_format_window(int64_t us, char *out)
{
    struct tm tm;
    int frac;
    split_us(us, &tm, &frac);
    *put_date_time(out, &tm) = '\0';
}

void timestamp_format_http(int64_t us, char *out)
{
    struct tm tm;
    int frac;
    split_us(us, &tm, &frac);
    char *p = out;
    const char *wd = weekday_names[tm.tm_wday], *mon = month_names[tm.tm_mon];
    *p++ = wd[0], *p++ = wd[1], *p++ = wd[2];
    *p++ = ',', *p++ = ' ';
    p = put_digits(p, (unsigned)tm.tm_mday, 2);
    *p++ = ' ';
    *p++ = mon[0], *p++ = mon[1], *p++ = mon[2];
    *p++ = ' ';
    int year = tm.tm_year + 1900;
    p = put_digits(p, (unsigned)(year < 0 ? 0 : year > 9999 ? 9999 : year), 4);
    *p++ = ' ';
    p = put_digits(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_sec, 2);
    *p++ = ' ', *p++ = 'G', *p++ = 'M', *p++ = 'T';
    *p = '\0';
}

static bool read_digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil): the
 * decoder calls this per message, and timegm() would normalize and consult TZ state for nothing.
 */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

int timestamp_parse_event(const char *s, size_t len, int64_t *us)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, frac = 0;

    if (len < TIMESTAMP_WINDOW_LEN || len > TIMESTAMP_EVENT_LEN)
        return -1;
    if (!read_digits(s, 4, &y) || s[4] != '-' || !read_digits(s + 5, 2, &mo) || s[7] != '-' ||
        !read_digits(s + 8, 2, &d) || s[10] != ' ' || !read_digits(s + 11, 2, &h) || s[13] != ':' ||
        !read_digits(s + 14, 2, &mi) || s[16] != ':' || !read_digits(s + 17, 2, &sec))
        return -1;
    if (len > TIMESTAMP_WINDOW_LEN) {
        if (s[19] != '.')
            return -1;
        int ndigits = (int)len - 20;
        if (ndigits > 0 && !read_digits(s + 20, ndigits, &frac))
            return -1;
        for (int i = ndigits; i < 6; i++)
            frac *= 10;
    }
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return -1;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *us = secs * 1000000 + frac;
    return 0;
}
