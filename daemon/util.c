/* util.c - clocks, strict duration/size parsing, allocation helpers. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* cnt decimal digits at s[at], all inside n.  0 or -1. */
static int iso_digits(const char *s, size_t n, size_t at, size_t cnt, int *out)
{
	int v = 0;

	if (at + cnt > n)
		return -1;
	for (size_t i = 0; i < cnt; i++) {
		if (!isdigit((unsigned char)s[at + i]))
			return -1;
		v = v * 10 + (s[at + i] - '0');
	}
	*out = v;
	return 0;
}

int time_parse_iso8601(const char *s, size_t n, int64_t *out_ns)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int Y, M, D, h, mi, sec = 0, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, t;
	size_t i = 16;

	if (iso_digits(s, n, 0, 4, &Y) || n < 17 || s[4] != '-' || iso_digits(s, n, 5, 2, &M) || s[7] != '-' ||
	    iso_digits(s, n, 8, 2, &D) || !(s[10] == 'T' || s[10] == 't' || s[10] == ' ') ||
	    iso_digits(s, n, 11, 2, &h) || s[13] != ':' || iso_digits(s, n, 14, 2, &mi))
		return -EINVAL;
	if (s[i] == ':') {
		if (iso_digits(s, n, i + 1, 2, &sec))
			return -EINVAL;
		i += 3;
		if (i < n && s[i] == '.') {
			int nd = 0;
			for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
				if (nd < 9) {
					frac = frac * 10 + (s[i] - '0');
					nd++;
				}
			}
			if (nd == 0)
				return -EINVAL;
			while (nd++ < 9)
				frac *= 10;
		}
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '-' ? -1 : 1;
		if (iso_digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' || iso_digits(s, n, i + 4, 2, &om))
			return -EINVAL;
		i += 6;
	} else {
		return -EINVAL;
	}
	if (i != n)
		return -EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || mi > 59 || sec > 60 || oh > 14 || om > 59)
		return -EINVAL;
	if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
		return -EINVAL;
	if (Y < 1678 || Y > 2261)
		return -ERANGE;
	if (sec == 60)
		sec = 59;
	t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*out_ns = t * 1000000000LL + frac;
	return 0;
}

/* Parses the leading unsigned decimal integer; *end points past it. */
static int parse_uint(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int parse_duration_ms(const char *s, int64_t *out_ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *end;
	uint64_t v;
	int rc;

	if (!s)
		return -EINVAL;
	rc = parse_uint(s, &v, &end);
	if (rc)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > (uint64_t)INT64_MAX / units[i].ms)
				return -ERANGE;
			*out_ms = (int64_t)(v * units[i].ms);
			return 0;
		}
	}
	return -EINVAL;
}

int parse_size(const char *s, uint64_t *out_bytes)
{
	const char *end;
	uint64_t v, mult = 1;
	int rc;

	if (!s)
		return -EINVAL;
	rc = parse_uint(s, &v, &end);
	if (rc)
		return rc;
	if (*end) {
		switch (*end) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		default: return -EINVAL;
		}
		if (end[1] != '\0')
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out_bytes = v * mult;
	return 0;
}

void format_duration_ms(int64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 86400000 == 0)
		snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
	else if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char sfx[] = "TGMK";
	for (int i = 0; i < 4; i++) {
		uint64_t m = 1ULL << (10 * (4 - i));
		if (bytes != 0 && bytes % m == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", bytes / m, sfx[i]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64, bytes);
}

static void oom(void)
{
	fputs("coldchaind: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	va_end(ap);
	return p;
}

size_t strlcpy_cc(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

uint32_t rand_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

/* "+07", "+05:30", "-03": the offset as a page shows it, short. */
static void fmt_offset(long off_s, char *buf, size_t n, int always_minutes)
{
	char sign = off_s < 0 ? '-' : '+';
	int a = (int)((off_s < 0 ? -off_s : off_s) % 86400); /* |offset| < 26 h in tzdata */

	if (a % 3600 || always_minutes)
		snprintf(buf, n, "%c%02d:%02d", sign, a / 3600, a / 60 % 60);
	else
		snprintf(buf, n, "%c%02d", sign, a / 3600);
}

int time_fmt_local(int64_t ns, char *buf, size_t n, int style)
{
	int64_t s = ns / 1000000000LL - (ns % 1000000000LL < 0); /* floor */
	time_t t = (time_t)s;
	struct tm tm;
	char off[32];
	int len;

	if (!buf || n == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (!localtime_r(&t, &tm))
		return -EOVERFLOW;
	fmt_offset(tm.tm_gmtoff, off, sizeof(off), style == TIME_LOCAL_ISO);
	switch (style) {
	case TIME_LOCAL_SHORT:
		len = snprintf(buf, n, "%02d/%02d %02d:%02d (%s)", tm.tm_mday, tm.tm_mon + 1, tm.tm_hour, tm.tm_min,
			       off);
		break;
	case TIME_LOCAL_ISO:
		len = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			       tm.tm_hour, tm.tm_min, tm.tm_sec, off);
		break;
	case TIME_LOCAL_HM:
		len = snprintf(buf, n, "%02d:%02d", tm.tm_hour, tm.tm_min);
		break;
	case TIME_LOCAL_DAY:
		len = snprintf(buf, n, "%02d/%02d", tm.tm_mday, tm.tm_mon + 1);
		break;
	default:
		return -EINVAL;
	}
	if (len < 0 || (size_t)len >= n) {
		buf[0] = '\0';
		return -ERANGE;
	}
	return len;
}

const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[EDIT_DISTANCE_MAX], cur[EDIT_DISTANCE_MAX];

	if (la >= EDIT_DISTANCE_MAX || lb >= EDIT_DISTANCE_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}
