/* jsonscan.c - the in-place JSON reader of jsonscan.h.  One checking pass
 * (strict grammar, bounded depth, every read bounded by n), then lookups
 * that skip over values the checking pass has already proven well formed. */
#include "jsonscan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct scan {
	const char *p, *end;
	int depth, max_depth;
	struct jsonscan_index *ix; /* or NULL */
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int lit(struct scan *s, const char *w, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return -ENOTSUP;
	s->p += n;
	return 0;
}

static int digits(struct scan *s)
{
	const char *b = s->p;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > b ? 0 : -ENOTSUP;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct scan *s)
{
	const char *b = s->p;

	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (digits(s) < 0)
		return -ENOTSUP;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (digits(s) < 0)
			return -ENOTSUP;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) < 0)
			return -ENOTSUP;
	}
	return s->p - b > JSONSCAN_MAX_NUM ? -ENOTSUP : 0;
}

/* A string without escapes or control characters (UTF-8 is the caller's). */
static int string(struct scan *s)
{
	s->p++; /* the opening quote */
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\' || (unsigned char)*s->p < 0x20)
			return -ENOTSUP;
		s->p++;
	}
	if (s->p == s->end)
		return -ENOTSUP;
	s->p++;
	return 0;
}

static int value(struct scan *s);

/* A top-level member: its key k[0..klen), its value at s->p. */
static void member(struct scan *s, const char *k, size_t klen)
{
	struct jsonscan_index *ix = s->ix;

	if (ix->nm == JSONSCAN_MEMBERS) {
		ix->all = 0;
		return;
	}
	ix->m[ix->nm].key = k;
	ix->m[ix->nm].keylen = klen;
	ix->m[ix->nm].val = s->p;
	ix->nm++;
}

/* obj: 1 for an object (members "key": value), 0 for an array */
static int container(struct scan *s, int obj)
{
	char close = obj ? '}' : ']';

	if (++s->depth > s->max_depth)
		return -ENOTSUP;
	if (s->ix)
		s->ix->values++;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;;) {
		if (obj) {
			const char *k = s->p + 1;
			size_t klen;

			if (s->p >= s->end || *s->p != '"' || string(s) < 0)
				return -ENOTSUP;
			klen = (size_t)(s->p - 1 - k);
			ws(s);
			if (s->p >= s->end || *s->p != ':')
				return -ENOTSUP;
			s->p++;
			ws(s);
			if (s->depth == 1 && s->ix)
				member(s, k, klen);
		}
		if (value(s) < 0)
			return -ENOTSUP;
		ws(s);
		if (s->p >= s->end)
			return -ENOTSUP;
		if (*s->p == close) {
			s->p++;
			s->depth--;
			return 0;
		}
		if (*s->p != ',')
			return -ENOTSUP;
		if (s->ix)
			s->ix->values++;
		s->p++;
		ws(s);
	}
}

static int value(struct scan *s)
{
	if (s->p >= s->end)
		return -ENOTSUP;
	switch (*s->p) {
	case '{': return container(s, 1);
	case '[': return container(s, 0);
	case '"': return string(s);
	case 't': return lit(s, "true", 4);
	case 'f': return lit(s, "false", 5);
	case 'n': return lit(s, "null", 4);
	default: return number(s);
	}
}

int jsonscan_check_index(const char *p, size_t n, int max_depth, struct jsonscan_index *ix)
{
	struct scan s = { p, p + n, 0, max_depth, ix };

	if (ix) {
		ix->nm = 0;
		ix->all = 1;
		ix->values = 1;
	}
	ws(&s);
	if (s.p >= s.end || *s.p != '{' || value(&s) < 0)
		return -ENOTSUP;
	while (s.p < s.end && (*s.p == ' ' || *s.p == '\t' || *s.p == '\n' || *s.p == '\r' || *s.p == '\0'))
		s.p++;
	return s.p == s.end ? 0 : -ENOTSUP;
}

int jsonscan_check(const char *p, size_t n, int max_depth)
{
	return jsonscan_check_index(p, n, max_depth, NULL);
}

/* The value at s->p (checked document): its type and text; s->p after it. */
static void take(struct scan *s, struct jsonscan_val *v)
{
	const char *b = s->p;

	switch (*b) {
	case '{': v->type = JSONSCAN_OBJECT; break;
	case '[': v->type = JSONSCAN_ARRAY; break;
	case '"': v->type = JSONSCAN_STRING; break;
	case 't': v->type = JSONSCAN_TRUE; break;
	case 'f': v->type = JSONSCAN_FALSE; break;
	case 'n': v->type = JSONSCAN_NULL; break;
	default: v->type = JSONSCAN_NUMBER; break;
	}
	s->max_depth = 1 << 30; /* checked already */
	(void)value(s);
	v->p = v->type == JSONSCAN_STRING ? b + 1 : b;
	v->n = (size_t)(s->p - b) - (v->type == JSONSCAN_STRING ? 2 : 0);
}

void jsonscan_take(const char *p, size_t n, const char *at, struct jsonscan_val *v)
{
	struct scan s = { at, p + n, 0, 0, NULL };

	take(&s, v);
}

/* In the container at s->p: the member named seg (object) or the element
 * at index idx (array, idx >= 0); 0 with s->p at its value. */
static int step(struct scan *s, int obj, const char *seg, size_t seglen, long idx)
{
	struct jsonscan_val k;

	s->p++;
	ws(s);
	if (*s->p == (obj ? '}' : ']'))
		return -ENOENT;
	for (long i = 0;; i++) {
		int hit = 0;
		if (obj) {
			take(s, &k);
			hit = k.n == seglen && memcmp(k.p, seg, seglen) == 0;
			ws(s);
			s->p++; /* ':' */
			ws(s);
		} else {
			hit = i == idx;
		}
		if (hit)
			return 0;
		take(s, &k);
		ws(s);
		if (*s->p != ',')
			return -ENOENT;
		s->p++;
		ws(s);
	}
}

int jsonscan_get(const char *p, size_t n, const char *path, struct jsonscan_val *v)
{
	struct scan s = { p, p + n, 0, 0, NULL };

	ws(&s);
	while (*path) {
		size_t len = strcspn(path, ".");
		char seg[256];

		if (len == 0 || len >= sizeof(seg))
			return -ENOENT;
		memcpy(seg, path, len);
		seg[len] = '\0';
		if (*s.p == '[') {
			/* as payload.c's cJSON walk: strtol of the whole segment */
			char *e;
			long idx = strtol(seg, &e, 10);
			if (*e || idx < 0 || step(&s, 0, NULL, 0, idx) < 0)
				return -ENOENT;
		} else if (*s.p == '{') {
			if (step(&s, 1, seg, len, -1) < 0)
				return -ENOENT;
		} else {
			return -ENOENT;
		}
		path += len;
		if (*path == '.')
			path++;
	}
	take(&s, v);
	return 0;
}

/*
 * What sensors send (4.25, -18.5, 1733270000123456) without strtod, which
 * took most of a JSON message's decoding: m digits (m <= 2^53, so exact in
 * a double) with d <= 22 decimals (10^d exact) and no exponent is m / 10^d,
 * one correctly rounded IEEE division, the double strtod returns too
 * (Clinger's fast path).  The text was checked against JSON's grammar.
 * Returns 0, or -1 to take strtod.
 */
static int number_fast(const char *p, size_t n, double *out)
{
	static const double p10[] = { 1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	const char *e = p + n;
	uint64_t m = 0;
	int neg = 0, d = -1, nd = 0;

	if (p < e && *p == '-') {
		neg = 1;
		p++;
	}
	for (; p < e; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++nd > 19)
				return -1;
			m = m * 10 + (uint64_t)(*p - '0');
			if (d >= 0)
				d++;
		} else if (*p == '.' && d < 0) {
			d = 0;
		} else {
			return -1; /* an exponent */
		}
	}
	if (m > (1ULL << 53) || d > 22)
		return -1;
	*out = d > 0 ? (double)m / p10[d] : (double)m;
	if (neg)
		*out = -*out;
	return 0;
}

int jsonscan_number(const struct jsonscan_val *v, double *out)
{
	char buf[JSONSCAN_MAX_NUM + 1];

	if (v->type != JSONSCAN_NUMBER || v->n > JSONSCAN_MAX_NUM)
		return -EINVAL;
	if (number_fast(v->p, v->n, out) == 0)
		return 0;
	memcpy(buf, v->p, v->n);
	buf[v->n] = '\0';
	*out = strtod(buf, NULL);
	return isfinite(*out) ? 0 : -ERANGE;
}
