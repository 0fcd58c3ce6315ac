/* promtext.c - self-metrics from line protocol to the Prometheus text
 * format 0.0.4 (see promtext.h): the same names as in InfluxDB with the
 * field joined on, tags as labels, the points' own timestamps. */
#include "promtext.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fields that go up and down; every other numeric field is a counter
 * (a count since start).  MEASUREMENT NULL: that field in every one. */
static const struct {
	const char *measurement, *field;
} gauges[] = {
	{ "coldchaind_modbus", "rtt_ms" },        { "coldchaind_modbus", "down" },
	{ "coldchaind_output", "pending" },       { "coldchaind_output", "pending_bytes" },
	{ "coldchaind_output", "oldest_age_s" },  { "coldchaind_output", "unauthorised" },
	{ "coldchaind_journal", "bytes" },        { "coldchaind_journal", "segments" },
	{ "coldchaind_mqtt", "connected" },       { "coldchaind_mqtt", "max_stall_ms" },
	{ "coldchaind_web", "connections" },    { "coldchaind_web", "sessions" },
	{ "coldchaind_web", "users" },          { "coldchaind_web", "live_streams" },
};

int prom_is_gauge(const char *measurement, const char *field)
{
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		if ((!gauges[i].measurement || strcmp(gauges[i].measurement, measurement) == 0) &&
		    strcmp(gauges[i].field, field) == 0)
			return 1;
	return 0;
}

static int put(struct lp_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *d;
		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

__attribute__((format(printf, 2, 3))) static int putf(struct lp_buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return n < 0 ? -EINVAL : put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A metric or label name: [A-Za-z_:][A-Za-z0-9_:]*, others as '_'. */
static int put_name(struct lp_buf *b, const char *s, int colon_ok)
{
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':') ||
			 (i > 0 && c >= '0' && c <= '9');
		if (put(b, ok ? &c : "_", 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int put_label_value(struct lp_buf *b, const char *s)
{
	for (; *s; s++) {
		int rc = *s == '\\' ? put(b, "\\\\", 2) : *s == '"' ? put(b, "\\\"", 2) : *s == '\n' ? put(b, "\\n", 2)
													   : put(b, s, 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int put_family_head(struct lp_buf *b, const char *m, const char *f)
{
	const char *type = prom_is_gauge(m, f) ? "gauge" : "counter";
	int rc = 0;

	rc |= put(b, "# HELP ", 7);
	rc |= put_name(b, m, 1);
	rc |= put(b, "_", 1);
	rc |= put_name(b, f, 1);
	rc |= putf(b, " coldchaind self-metric: measurement %s, field %s\n# TYPE ", m, f);
	rc |= put_name(b, m, 1);
	rc |= put(b, "_", 1);
	rc |= put_name(b, f, 1);
	rc |= putf(b, " %s\n", type);
	return rc ? -ENOMEM : 0;
}

static int put_value(struct lp_buf *b, const struct lp_field *f)
{
	switch (f->type) {
	case LP_INT: return putf(b, "%" PRId64, f->v.i);
	case LP_UINT: return putf(b, "%" PRIu64, f->v.u);
	case LP_BOOL: return putf(b, "%d", f->v.b ? 1 : 0);
	case LP_FLOAT:
		if (isnan(f->v.f))
			return putf(b, "NaN");
		if (isinf(f->v.f))
			return putf(b, f->v.f > 0 ? "+Inf" : "-Inf");
		return putf(b, "%.17g", f->v.f);
	default: return -EINVAL;
	}
}

static int put_sample(struct lp_buf *b, const struct lp_point *p, const struct lp_field *f)
{
	int rc = 0;

	rc |= put_name(b, p->measurement, 1);
	rc |= put(b, "_", 1);
	rc |= put_name(b, f->key, 1);
	for (size_t t = 0; t < p->ntags; t++) {
		rc |= put(b, t ? "," : "{", 1);
		rc |= put_name(b, p->tags[t].key, 0);
		rc |= put(b, "=\"", 2);
		rc |= put_label_value(b, p->tags[t].value);
		rc |= put(b, "\"", 1);
	}
	if (p->ntags)
		rc |= put(b, "}", 1);
	rc |= put(b, " ", 1);
	rc |= put_value(b, f);
	if (p->has_ts) {
		/* floor division: a point before 1970 keeps its millisecond */
		int64_t ms = p->ts / 1000000 - (p->ts % 1000000 < 0);
		rc |= putf(b, " %" PRId64, ms);
	}
	rc |= put(b, "\n", 1);
	return rc ? -ENOMEM : 0;
}

/* Index of the first field (point i, field j) of the same family seen
 * before (i, j), or 0 when (i, j) is the first of its family. */
static int seen_before(const struct lp_point *pts, size_t i, size_t j)
{
	for (size_t a = 0; a <= i; a++)
		for (size_t k = 0; k < (a == i ? j : pts[a].nfields); k++)
			if (pts[a].fields[k].type != LP_STRING &&
			    strcmp(pts[a].measurement, pts[i].measurement) == 0 &&
			    strcmp(pts[a].fields[k].key, pts[i].fields[j].key) == 0)
				return 1;
	return 0;
}

/* Every sample of the family of (point i, field j), from point i on. */
static int put_family(struct lp_buf *b, const struct lp_point *pts, size_t n, size_t i, size_t j)
{
	const char *m = pts[i].measurement, *f = pts[i].fields[j].key;
	int rc = put_family_head(b, m, f);

	for (size_t a = i; a < n && rc == 0; a++) {
		if (strcmp(pts[a].measurement, m) != 0)
			continue;
		for (size_t k = 0; k < pts[a].nfields && rc == 0; k++)
			if (pts[a].fields[k].type != LP_STRING && strcmp(pts[a].fields[k].key, f) == 0)
				rc = put_sample(b, &pts[a], &pts[a].fields[k]);
	}
	return rc;
}

int prom_from_lineproto(const char *lines, size_t len, struct lp_buf *out, size_t *skipped)
{
	struct lp_point *pts = NULL;
	size_t n = 0, cap = 0, bad = 0;
	const char *p = lines, *end = lines + len;
	int rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *err;
		if (l > 0) {
			if (n == cap) {
				struct lp_point *np = realloc(pts, (cap ? cap * 2 : 16) * sizeof(*pts));
				if (!np) {
					rc = -ENOMEM;
					goto out;
				}
				pts = np;
				cap = cap ? cap * 2 : 16;
			}
			if (lp_parse_line(p, l, &pts[n], &err) == 0)
				n++;
			else
				bad++;
		}
		p += l + 1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t j = 0; j < pts[i].nfields && rc == 0; j++)
			if (pts[i].fields[j].type != LP_STRING && !seen_before(pts, i, j))
				rc = put_family(out, pts, n, i, j);
out:
	for (size_t i = 0; i < n; i++)
		lp_point_free(&pts[i]);
	free(pts);
	if (skipped)
		*skipped = bad;
	return rc;
}
