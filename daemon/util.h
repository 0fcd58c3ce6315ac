/* util.h - small helpers shared by the daemon and the drivers: clocks,
 * strict duration/size parsing, string helpers.  No I/O beyond clocks. */
#ifndef CC_UTIL_H
#define CC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Wall clock, UTC, nanoseconds since the epoch (sample timestamps). */
int64_t time_now_ns(void);
/* Monotonic clock in milliseconds (scheduling, timeouts, backoff). */
int64_t time_mono_ms(void);

/*
 * The one ISO 8601 / RFC 3339 time parser of the program (config lot times,
 * report --from/--to, lot load --at, MQTT payload times).  Exactly the n
 * bytes of s, nothing around them:
 *   YYYY-MM-DD('T'|'t'|' ')hh:mm[:ss[.fraction]](Z|z|+hh:mm|-hh:mm)
 * The zone is required (a time without one is some device's local time);
 * seconds are optional, a fraction only follows seconds (digits past the
 * ninth are ignored).  Refused: a date alone, a basic-format offset
 * ("+0700"), an offset past 14:59, a day the month does not have, hour > 23,
 * minute > 59, second > 60.  A leap second (:60) is the last instant of its
 * minute (:59.fraction).  Years 1678..2261, the ones int64 nanoseconds hold.
 * Return 0 and *out_ns (ns since the epoch, UTC), -EINVAL (not such a time)
 * or -ERANGE (year out of range).
 */
int time_parse_iso8601(const char *s, size_t n, int64_t *out_ns);

/*
 * Strict parsers.  Durations: an integer followed by one unit of
 * ms, s, m, h, d ("500ms", "10s", "5m", "1h", "7d"); no unit, no sign, no
 * spaces, no fraction.  Sizes: an integer with an optional K, M, G, T suffix
 * (powers of 1024) or none for bytes ("512M", "64K", "4096").
 * Return 0 or -EINVAL / -ERANGE.
 */
int parse_duration_ms(const char *s, int64_t *out_ms);
int parse_size(const char *s, uint64_t *out_bytes);
/* Formats ms back into the largest exact unit ("90s" -> "90s", 3600000 -> "1h"). */
void format_duration_ms(int64_t ms, char *buf, size_t len);
void format_size(uint64_t bytes, char *buf, size_t len);

/* malloc/strdup that abort on OOM; a daemon that cannot allocate a few bytes
 * cannot do anything useful and must restart (systemd Restart=on-failure). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The word for a count, for messages people read: plural(1, "bus", "buses")
 * is "bus", any other n the plural ("0 buses", "2 buses"). */
const char *plural(uint64_t n, const char *one, const char *many);

/* The edit (Levenshtein) distance between two names, for "did you mean":
 * insertions, deletions and substitutions of a byte, each 1.  SIZE_MAX
 * when either is EDIT_DISTANCE_MAX bytes or longer (no name people type). */
#define EDIT_DISTANCE_MAX 256
size_t edit_distance(const char *a, const char *b);

/* Copy with truncation, always NUL-terminates; returns strlen(src). */
size_t strlcpy_cc(char *dst, const char *src, size_t size);

/* Deterministic xorshift PRNG for jitter (seedable so tests repeat). */
uint32_t rand_next(uint64_t *state);

/* A time for people, in the site's zone (the process's TZ: the root key
 * `timezone` sets it at start-up; call tzset() after changing TZ), never
 * bare UTC.  Styles: TIME_LOCAL_SHORT "03/12 14:05 (+07)" (day/month, as
 * read in Vietnam, and the offset: a page's times), TIME_LOCAL_ISO
 * "2026-12-03T14:05:09+07:00" (a title, a tooltip), TIME_LOCAL_HM "14:05"
 * and TIME_LOCAL_DAY "03/12" (a chart's axis).  The length written, or
 * -EINVAL (unknown style, n 0), -ERANGE (buf too small: buf holds ""),
 * -EOVERFLOW (a time localtime_r cannot convert). */
enum time_local_style { TIME_LOCAL_SHORT, TIME_LOCAL_ISO, TIME_LOCAL_HM, TIME_LOCAL_DAY };
int time_fmt_local(int64_t ns, char *buf, size_t n, int style);

#endif
