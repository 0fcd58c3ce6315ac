/* lineproto.c - InfluxDB line protocol: an encoder that can never emit more
 * than one line per point whatever the caller passes, and a strict parser for
 * one line that never reads outside [line, line + len). */
#include "lineproto.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Where a name sits decides what must be escaped there (InfluxDB 1.x,
 * models/points.go): measurement: comma, space; tag keys, tag values and
 * field keys: comma, equals, space.  InfluxDB also unescapes \" in field
 * keys (pkg/escape), so a backslash before '"' is ambiguous there.
 */
enum lp_pos { POS_MEAS, POS_TAG, POS_FKEY };

static int needs_escape(enum lp_pos pos, char c)
{
	if (c == ',' || c == ' ')
		return 1;
	return pos != POS_MEAS && c == '=';
}

/* The characters "\c" turns back into c when parsing. */
static int unescapes(enum lp_pos pos, char c)
{
	return needs_escape(pos, c) || (pos == POS_FKEY && c == '"');
}

/* Characters put_name may have to change (escape, replace): any position. */
static const unsigned char special_char[256] = {
	[','] = 1, [' '] = 1, ['='] = 1, ['\\'] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1,
};

/* Line protocol has no escape for a line break: '\n' and '\r' become ' '. */
static char no_newline(char c)
{
	return c == '\n' || c == '\r' ? ' ' : c;
}

void lp_buf_init(struct lp_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->lines = 0;
}

void lp_buf_reset(struct lp_buf *b)
{
	b->len = 0;
	b->lines = 0;
}

void lp_buf_free(struct lp_buf *b)
{
	free(b->data);
	lp_buf_init(b);
}

/* Room for n more bytes plus a terminating NUL (data is always a C string). */
static int buf_reserve(struct lp_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

static int put_mem(struct lp_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int put_str(struct lp_buf *b, const char *s)
{
	return put_mem(b, s, strlen(s));
}

/*
 * Writes a measurement, tag key, tag value or field key.  Besides escaping,
 * one thing InfluxDB 1.x cannot carry is handled here: a run of backslashes
 * at the end of the name or right before a character that gets escaped
 * (InfluxDB would read "a\\," or "a\ " differently in tags and in field keys),
 * so such a run is written as '/' characters instead.  Backslashes anywhere
 * else are literal and kept.
 */
static int put_name(struct lp_buf *b, const char *s, enum lp_pos pos)
{
	size_t n = 0;
	int plain = 1;
	char *o;

	/* the common case, a name with nothing to escape, is copied whole */
	for (; s[n]; n++)
		plain &= !special_char[(unsigned char)s[n]];
	if (plain)
		return put_mem(b, s, n);
	if (buf_reserve(b, 2 * n) < 0)
		return -ENOMEM;
	o = b->data + b->len;
	for (size_t i = 0; i < n;) {
		char c = no_newline(s[i]);

		if (c == '\\') {
			size_t j = i;
			char next;
			int ambiguous;

			while (j < n && s[j] == '\\')
				j++;
			next = j < n ? no_newline(s[j]) : '\0';
			ambiguous = next == '\0' || unescapes(pos, next);
			for (; i < j; i++)
				*o++ = ambiguous ? '/' : '\\';
			continue;
		}
		if (needs_escape(pos, c))
			*o++ = '\\';
		*o++ = c;
		i++;
	}
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

static int put_string_value(struct lp_buf *b, const char *s)
{
	size_t n = strlen(s);
	char *o;

	if (buf_reserve(b, 2 * n + 2) < 0)
		return -ENOMEM;
	o = b->data + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		char c = no_newline(s[i]);

		if (c == '"' || c == '\\')
			*o++ = '\\';
		*o++ = c;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

/* Decimal digits of v, written backwards ending before end; returns the
 * first digit. */
static char *digits_rev(char *end, uint64_t v)
{
	/* two digits per division: timestamps have 19 */
	static const char d2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				    "8081828384858687888990919293949596979899";

	while (v >= 100) {
		end -= 2;
		memcpy(end, d2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, d2 + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/* buf (at least 24 bytes) gets v in decimal, then suffix (one character or
 * none). */
static void format_i64(char *buf, int64_t v, char suffix)
{
	char tmp[24], *p = digits_rev(tmp + sizeof(tmp), v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	size_t n = (size_t)(tmp + sizeof(tmp) - p);

	if (v < 0)
		*buf++ = '-';
	memcpy(buf, p, n);
	buf[n] = suffix;
	buf[n + !!suffix] = '\0';
}

/*
 * The fast path of format_double, for what sensors send (4.25, -18.5, 93):
 * when v == m / 10^d exactly in double arithmetic for an integer m of at most
 * 15 digits and d <= 9, "m with d decimals" reads back as v (IEEE division
 * and strtod both round the same real number m/10^d correctly), and it is
 * what %.15g prints too (v is within 0.5 ulp of that decimal, and %.15g
 * rounds to 15 digits) - in the range where %.15g does not switch to an
 * exponent, 1e-4 <= |v| < 1e15.  Returns 0, or -1 to take the slow path.
 */
static int format_decimal(char *buf, double v)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double a = fabs(v);

	if (!(a >= 1e-4 && a < 1e15))
		return -1;
	for (int d = 0; d < (int)(sizeof(p10) / sizeof(p10[0])); d++) {
		double m = nearbyint(v * p10[d]);
		char tmp[24], *p, *o = buf;
		uint64_t u;
		size_t n;

		if (fabs(m) >= 1e15)
			return -1;
		if (m / p10[d] != v)
			continue;
		u = (uint64_t)fabs(m);
		p = digits_rev(tmp + sizeof(tmp), u);
		n = (size_t)(tmp + sizeof(tmp) - p);
		if (v < 0)
			*o++ = '-';
		if (n <= (size_t)d) { /* 0.0025: "0." and leading zeros */
			*o++ = '0';
			*o++ = '.';
			for (size_t z = n; z < (size_t)d; z++)
				*o++ = '0';
			memcpy(o, p, n);
			o += n;
		} else {
			memcpy(o, p, n - (size_t)d);
			o += n - (size_t)d;
			if (d) {
				*o++ = '.';
				memcpy(o, p + n - (size_t)d, (size_t)d);
				o += d;
			}
		}
		*o = '\0';
		return 0;
	}
	return -1;
}

/*
 * Shortest of %.15g, %.16g, %.17g that reads back as the same double (%.17g
 * always does).  An unsuffixed number is a float in line protocol, so "1" or
 * "1e+20" are floats to InfluxDB.  Assumes the C locale for LC_NUMERIC, which
 * the daemon never changes.  snprintf and strtod are slow (half the cost of
 * encoding a point), so the common case takes format_decimal.
 */
static void format_double(char *buf, size_t len, double v)
{
	if (len >= 32 && format_decimal(buf, v) == 0)
		return;
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			return;
	}
}

static int put_field_value(struct lp_buf *b, const struct lp_field *f)
{
	char num[40];

	switch (f->type) {
	case LP_FLOAT:
		format_double(num, sizeof(num), f->v.f);
		break;
	case LP_INT:
		format_i64(num, f->v.i, 'i');
		break;
	case LP_UINT:
		snprintf(num, sizeof(num), "%" PRIu64 "u", f->v.u);
		break;
	case LP_BOOL:
		snprintf(num, sizeof(num), "%s", f->v.b ? "true" : "false");
		break;
	case LP_STRING:
		return put_string_value(b, f->v.s);
	default:
		return -EINVAL;
	}
	return put_str(b, num);
}

static int field_valid(const struct lp_field *f)
{
	if (!f->key || !f->key[0] || strcmp(f->key, "time") == 0)
		return -EINVAL;
	switch (f->type) {
	case LP_FLOAT:
		return isfinite(f->v.f) ? 1 : 0; /* NaN/Inf: skipped, not an error */
	case LP_STRING:
		return f->v.s ? 1 : -EINVAL;
	case LP_INT:
	case LP_UINT:
	case LP_BOOL:
		return 1;
	}
	return -EINVAL;
}

static int tag_present(const struct lp_tag *t)
{
	return t->value && t->value[0];
}

/* Everything is checked before a byte is written, so a rejected point leaves
 * no trace in b. */
static int point_check(const char *measurement, const struct lp_tag *tags, size_t ntags,
		       const struct lp_field *fields, size_t nfields)
{
	size_t nvalid = 0;

	/* A line starting with '#' is a comment to InfluxDB, and leading tabs
	 * are stripped by it: neither can be escaped. */
	if (!measurement || !measurement[0] || measurement[0] == '#' || measurement[0] == '\t')
		return -EINVAL;
	if (ntags && !tags)
		return -EINVAL;
	for (size_t i = 0; i < ntags; i++) {
		if (!tags[i].key || !tags[i].key[0] || strcmp(tags[i].key, "time") == 0)
			return -EINVAL;
		if (!tag_present(&tags[i]))
			continue;
		for (size_t j = 0; j < i; j++) /* InfluxDB refuses duplicate tags */
			if (tags[i].key[0] == tags[j].key[0] && tag_present(&tags[j]) &&
			    strcmp(tags[i].key, tags[j].key) == 0)
				return -EINVAL;
	}
	if (nfields && !fields)
		return -EINVAL;
	for (size_t i = 0; i < nfields; i++) {
		int r = field_valid(&fields[i]);

		if (r < 0)
			return r;
		nvalid += (size_t)r;
	}
	return nvalid ? 0 : -EINVAL;
}

/* measurement and tags, the line's series key (checked by the caller) */
static int put_series(struct lp_buf *b, const char *measurement, const struct lp_tag *tags, size_t ntags)
{
	int r;

	if ((r = put_name(b, measurement, POS_MEAS)) < 0)
		return r;
	for (size_t i = 0; i < ntags; i++) {
		if (!tag_present(&tags[i]))
			continue;
		if ((r = put_mem(b, ",", 1)) < 0 || (r = put_name(b, tags[i].key, POS_TAG)) < 0 ||
		    (r = put_mem(b, "=", 1)) < 0 || (r = put_name(b, tags[i].value, POS_TAG)) < 0)
			return r;
	}
	return 0;
}

int lp_encode_series(struct lp_buf *b, const char *measurement, const struct lp_tag *tags, size_t ntags)
{
	static const struct lp_field probe = { .key = "value", .type = LP_INT };
	size_t start = b->len;
	int r = point_check(measurement, tags, ntags, &probe, 1);

	if (r < 0)
		return r;
	r = put_series(b, measurement, tags, ntags);
	if (r < 0 && b->data) {
		b->len = start;
		b->data[start] = '\0';
	}
	return r;
}

/* " TS\n": the points of one message (a JSON payload's fields) share their
 * time, so the last one written by this thread is kept (issue 18 target 1:
 * its digits were a tenth of a point's instructions). */
static void ts_text(char ts[32], int64_t ts_ns)
{
	static _Thread_local int64_t last_ns;
	static _Thread_local char last[32];

	if (ts_ns != last_ns || !last[0]) {
		last[0] = ' ';
		format_i64(last + 1, ts_ns, '\n');
		last_ns = ts_ns;
	}
	memcpy(ts, last, sizeof(last));
}

int lp_encode_float(struct lp_buf *b, const char *series, size_t n, const char *key, double v, int64_t ts_ns)
{
	const struct lp_field f = { .key = key, .type = LP_FLOAT, .v.f = v };
	size_t start = b->len, kn = 0;
	char num[40], ts[32];
	int r, plain = 1;

	if (!series || !n || field_valid(&f) != 1)
		return -EINVAL;
	format_double(num, sizeof(num), v);
	ts_text(ts, ts_ns);
	for (; key[kn]; kn++)
		plain &= !special_char[(unsigned char)key[kn]];
	if (plain) {
		/* a sample's line (pipeline.c, every message): one reservation
		 * and four copies instead of six appends (issue 18 target 1) */
		size_t nn = strlen(num), tn = strlen(ts);
		char *o;

		if (buf_reserve(b, n + kn + nn + tn + 2) < 0)
			return -ENOMEM;
		o = b->data + b->len;
		memcpy(o, series, n);
		o += n;
		*o++ = ' ';
		memcpy(o, key, kn);
		o += kn;
		*o++ = '=';
		memcpy(o, num, nn);
		o += nn;
		memcpy(o, ts, tn);
		o += tn;
		*o = '\0';
		b->len = (size_t)(o - b->data);
		b->lines++;
		return 0;
	}
	if ((r = put_mem(b, series, n)) < 0 || (r = put_mem(b, " ", 1)) < 0 || (r = put_name(b, key, POS_FKEY)) < 0 ||
	    (r = put_mem(b, "=", 1)) < 0 || (r = put_str(b, num)) < 0 || (r = put_str(b, ts)) < 0) {
		if (b->data) {
			b->len = start;
			b->data[start] = '\0';
		}
		return r;
	}
	b->lines++;
	return 0;
}

int lp_encode(struct lp_buf *b, const char *measurement, const struct lp_tag *tags, size_t ntags,
	      const struct lp_field *fields, size_t nfields, int64_t ts_ns)
{
	size_t start = b->len;
	int first = 1, r;
	char ts[32];

	r = point_check(measurement, tags, ntags, fields, nfields);
	if (r < 0)
		return r;
	if ((r = put_series(b, measurement, tags, ntags)) < 0)
		goto out;
	for (size_t i = 0; i < nfields; i++) {
		if (field_valid(&fields[i]) == 0)
			continue;
		if ((r = put_mem(b, first ? " " : ",", 1)) < 0 || (r = put_name(b, fields[i].key, POS_FKEY)) < 0 ||
		    (r = put_mem(b, "=", 1)) < 0 || (r = put_field_value(b, &fields[i])) < 0)
			goto out;
		first = 0;
	}
	ts[0] = ' ';
	format_i64(ts + 1, ts_ns, '\n');
	if ((r = put_str(b, ts)) < 0)
		goto out;
	b->lines++;
	r = 0;
out:
	if (r < 0 && b->data) {
		b->len = start;
		b->data[start] = '\0';
	}
	return r;
}

/* --- parser ------------------------------------------------------------ */

struct lp_scan {
	const char *s;
	size_t len, i;
	char *out, *end; /* write cursor in p->storage */
};

/*
 * Copies one name, unescaping, up to the first unescaped ',' or ' ' (and '='
 * outside the measurement).  Returns that delimiter, 0 at the end of the
 * line, or -1 on a byte no name may hold (a line break or NUL).  A backslash
 * before anything it does not escape is a literal backslash, as in InfluxDB.
 */
static int scan_name(struct lp_scan *sc, enum lp_pos pos)
{
	while (sc->i < sc->len) {
		char c = sc->s[sc->i];

		if (c == '\n' || c == '\r' || c == '\0')
			return -1;
		if (c == '\\' && sc->i + 1 < sc->len && unescapes(pos, sc->s[sc->i + 1])) {
			c = sc->s[sc->i + 1];
			sc->i += 2;
		} else if (needs_escape(pos, c)) {
			break;
		} else {
			sc->i++;
		}
		if (sc->out >= sc->end)
			return -1; /* cannot happen: unescaped text is never longer */
		*sc->out++ = c;
	}
	if (sc->out >= sc->end)
		return -1;
	*sc->out++ = '\0';
	return sc->i < sc->len ? sc->s[sc->i++] : 0;
}

/* A quoted string field; sc->i is on the opening quote. */
static const char *scan_string(struct lp_scan *sc)
{
	sc->i++;
	while (sc->i < sc->len) {
		char c = sc->s[sc->i];

		if (c == '"') {
			sc->i++;
			if (sc->out >= sc->end)
				return "internal error";
			*sc->out++ = '\0';
			return NULL;
		}
		if (c == '\n' || c == '\r' || c == '\0')
			return "line break or NUL in string field";
		if (c == '\\' && sc->i + 1 < sc->len && (sc->s[sc->i + 1] == '"' || sc->s[sc->i + 1] == '\\')) {
			c = sc->s[sc->i + 1];
			sc->i += 2;
		} else {
			sc->i++;
		}
		if (sc->out >= sc->end)
			return "internal error";
		*sc->out++ = c;
	}
	return "unbalanced quotes";
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* [-]digits[.digits][(e|E)[+|-]digits], at least one mantissa digit. */
static int float_syntax(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	if (i < n && s[i] == '-')
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!all_digits(s + i, n - i))
			return 0;
		i = n;
	}
	return i == n;
}

/* An unquoted field value: float, integer (i), unsigned (u) or boolean. */
static const char *parse_value(const char *s, size_t n, struct lp_field *f)
{
	static const char *const truth[] = { "t", "T", "true", "True", "TRUE" };
	static const char *const lies[] = { "f", "F", "false", "False", "FALSE" };
	char num[400];
	char *end;

	if (n == 0)
		return "missing field value";
	for (size_t k = 0; k < 5; k++) {
		if (strlen(truth[k]) == n && memcmp(s, truth[k], n) == 0) {
			f->type = LP_BOOL;
			f->v.b = 1;
			return NULL;
		}
		if (strlen(lies[k]) == n && memcmp(s, lies[k], n) == 0) {
			f->type = LP_BOOL;
			f->v.b = 0;
			return NULL;
		}
	}
	if (n >= sizeof(num))
		return "invalid number";
	memcpy(num, s, n);
	num[n] = '\0';
	errno = 0;
	if (s[n - 1] == 'i') {
		size_t neg = s[0] == '-';

		if (!all_digits(s + neg, n - 1 - neg))
			return "invalid integer";
		f->type = LP_INT;
		f->v.i = strtoll(num, &end, 10);
		return errno ? "integer out of range" : NULL;
	}
	if (s[n - 1] == 'u') {
		if (!all_digits(s, n - 1))
			return "invalid unsigned integer";
		f->type = LP_UINT;
		f->v.u = strtoull(num, &end, 10);
		return errno ? "unsigned integer out of range" : NULL;
	}
	if (!float_syntax(s, n))
		return "invalid number";
	f->type = LP_FLOAT;
	f->v.f = strtod(num, &end);
	/* glibc sets ERANGE for subnormals too; only overflow is an error */
	return isfinite(f->v.f) ? NULL : "float out of range";
}

static const char *parse_timestamp(struct lp_scan *sc, struct lp_point *p)
{
	size_t i = sc->i, start;
	int neg = 0;
	uint64_t v = 0;

	while (i < sc->len && sc->s[i] == ' ')
		i++;
	if (i == sc->len)
		return NULL; /* trailing spaces, no timestamp */
	if (sc->s[i] == '-')
		neg = 1, i++;
	start = i;
	while (i < sc->len && sc->s[i] >= '0' && sc->s[i] <= '9') {
		unsigned d = (unsigned)(sc->s[i] - '0');

		if (v > (UINT64_C(1) << 63) / 10 || v * 10 + d > (UINT64_C(1) << 63))
			return "timestamp out of range";
		v = v * 10 + d;
		i++;
	}
	if (i == start)
		return "bad timestamp";
	if (!neg && v > (uint64_t)INT64_MAX)
		return "timestamp out of range";
	while (i < sc->len && sc->s[i] == ' ')
		i++;
	if (i != sc->len)
		return "bad timestamp";
	p->has_ts = 1;
	p->ts = neg ? (v == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return NULL;
}

/* One tag after a ',' (key=value), appended to p->tags; *c is what ended
 * it: ',' another tag, ' ' the field set. */
static const char *parse_tag(struct lp_scan *sc, struct lp_point *p, int *c)
{
	struct lp_tag *t;

	if (p->ntags == LP_MAX_TAGS)
		return "too many tags";
	t = &p->tags[p->ntags];
	t->key = sc->out;
	*c = scan_name(sc, POS_TAG);
	if (*c < 0)
		return "line break or NUL in tag key";
	if (!t->key[0])
		return "missing tag key";
	if (*c != '=')
		return "missing tag value";
	t->value = sc->out;
	*c = scan_name(sc, POS_TAG);
	if (*c < 0)
		return "line break or NUL in tag value";
	if (!t->value[0])
		return "missing tag value";
	if (*c == '=')
		return "invalid tag format";
	if (*c == 0)
		return "missing fields";
	for (size_t j = 0; j < p->ntags; j++)
		if (strcmp(p->tags[j].key, t->key) == 0)
			return "duplicate tags";
	p->ntags++;
	return NULL;
}

/* One field (key=value), appended to p->fields; the scan stops on the ','
 * or ' ' after it, or at the end of the line. */
static const char *parse_field(struct lp_scan *sc, struct lp_point *p)
{
	struct lp_field *f;
	const char *e;
	size_t start;
	int c;

	if (p->nfields == LP_MAX_FIELDS)
		return "too many fields";
	f = &p->fields[p->nfields];
	f->key = sc->out;
	c = scan_name(sc, POS_FKEY);
	if (c < 0)
		return "line break or NUL in field key";
	if (!f->key[0])
		return "missing field key";
	if (c != '=')
		return "invalid field format";
	if (sc->i == sc->len)
		return "missing field value";
	if (sc->s[sc->i] == '"') {
		f->type = LP_STRING;
		f->v.s = sc->out;
		if ((e = scan_string(sc)) != NULL)
			return e;
	} else {
		start = sc->i;
		while (sc->i < sc->len && sc->s[sc->i] != ',' && sc->s[sc->i] != ' ')
			sc->i++;
		if ((e = parse_value(sc->s + start, sc->i - start, f)) != NULL)
			return e;
	}
	p->nfields++;
	return NULL;
}

static const char *parse(struct lp_scan *sc, struct lp_point *p)
{
	const char *e;
	int c;

	while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t'))
		sc->i++;
	if (sc->i == sc->len)
		return "empty line";
	if (sc->s[sc->i] == '#')
		return "comment line";

	p->measurement = sc->out;
	c = scan_name(sc, POS_MEAS);
	if (c < 0)
		return "line break or NUL in measurement";
	if (!p->measurement[0])
		return "missing measurement";
	if (c == 0)
		return "missing fields";
	while (c == ',')
		if ((e = parse_tag(sc, p, &c)) != NULL)
			return e;

	/* c == ' ': the field set follows */
	while (sc->i < sc->len && sc->s[sc->i] == ' ')
		sc->i++;
	for (;;) {
		if ((e = parse_field(sc, p)) != NULL)
			return e;
		if (sc->i == sc->len)
			return NULL;
		if (sc->s[sc->i] == ' ')
			break;
		if (sc->s[sc->i] != ',')
			return "invalid field format";
		sc->i++;
	}
	return parse_timestamp(sc, p);
}

int lp_parse_line(const char *line, size_t len, struct lp_point *p, const char **err)
{
	struct lp_scan sc;
	const char *e;

	memset(p, 0, sizeof(*p));
	if (len && line[len - 1] == '\n')
		len--;
	/* Unescaped names and strings are never longer than their source, and
	 * each one's NUL replaces its delimiter (or quote): len + 1 is enough. */
	p->storage = malloc(len + 1);
	if (!p->storage) {
		*err = "out of memory";
		return -ENOMEM;
	}
	sc.s = line;
	sc.len = len;
	sc.i = 0;
	sc.out = p->storage;
	sc.end = p->storage + len + 1;
	e = parse(&sc, p);
	if (e) {
		lp_point_free(p);
		*err = e;
		return -EINVAL;
	}
	return 0;
}

void lp_point_free(struct lp_point *p)
{
	free(p->storage);
	memset(p, 0, sizeof(*p));
}
