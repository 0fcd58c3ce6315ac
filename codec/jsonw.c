/* jsonw.c - the JSON writer of jsonw.h: appends into one buffer that
 * doubles as it grows, numbers by an exact decimal path where it applies
 * (readings m / 10^k) and printf's %g otherwise. */
#include "jsonw.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void jsonw_free(struct jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

char *jsonw_take(struct jsonw *w, size_t *len)
{
	char *s = w->err ? NULL : w->buf;

	if (len)
		*len = s ? w->len : 0;
	if (!s)
		free(w->buf);
	memset(w, 0, sizeof(*w));
	return s;
}

/* Room for n more bytes and the NUL; 0, or -1 (w->err set). */
static int reserve(struct jsonw *w, size_t n)
{
	size_t cap;
	char *b;

	if (w->err)
		return -1;
	if (w->len + n + 1 <= w->cap)
		return 0;
	cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n + 1) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	b = realloc(w->buf, cap);
	if (!b)
		goto fail;
	w->buf = b;
	w->cap = cap;
	return 0;
fail:
	w->err = -ENOMEM;
	return -1;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* The length of the valid UTF-8 sequence at p (no overlongs, surrogates or
 * code points past U+10FFFF), 0 when p does not start one. */
static size_t utf8_len(const unsigned char *p)
{
	uint32_t cp;
	size_t k;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 1, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 2, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 3, cp = p[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i <= k; i++) {
		if ((p[i] & 0xc0) != 0x80) /* the NUL ends it here too */
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

/* As cJSON's print_string_ptr: ", \ and the five short escapes, other
 * bytes below 0x20 as \u00xx, UTF-8 and DEL as they are; and, as the
 * control socket has always sent it, a byte that is not valid UTF-8 (names
 * from the configuration can hold any) as \ufffd. */
static void put_string(struct jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 2, k;
	char *o;

	for (const unsigned char *q = p; *q; q++)
		n += *q == '"' || *q == '\\' || *q < 0x20 || *q >= 0x80 ? 6 : 1;
	if (reserve(w, n) < 0)
		return;
	o = w->buf + w->len;
	*o++ = '"';
	for (; *p; p++) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			*o++ = (char)*p;
			continue;
		}
		if (*p >= 0x80) {
			if ((k = utf8_len(p)) > 0) {
				memcpy(o, p, k);
				o += k;
				p += k - 1;
			} else {
				memcpy(o, "\\ufffd", 6);
				o += 6;
			}
			continue;
		}
		*o++ = '\\';
		switch (*p) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hex[*p >> 4];
			o[4] = hex[*p & 15];
			o += 5;
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

/* The ',' and "key": before a value. */
static void lead(struct jsonw *w, const char *key)
{
	if (w->comma)
		put(w, ",", 1);
	if (key) {
		put_string(w, key);
		put(w, ":", 1);
	}
	w->comma = 1;
}

/* v = m / 10^k exactly as a double (1 <= k <= 6, m below 10^15): the
 * digits printed, in out, as %.15g would print them.  0 when v is not such
 * a number. */
static size_t fmt_decimal(double v, char *out)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };
	double a = fabs(v);
	char d[24];
	size_t n, o = 0;

	if (!(a >= 1e-4 && a < 1e9))
		return 0;
	for (int k = 1; k <= 6; k++) {
		double x = a * p10[k];
		uint64_t m;
		if (x != floor(x) || x >= 1e15 || x / p10[k] != a)
			continue;
		m = (uint64_t)x;
		if (m % 10 == 0) /* fewer digits did not read back: not this form */
			return 0;
		n = (size_t)snprintf(d, sizeof(d), "%0*llu", k + 1, (unsigned long long)m);
		if (v < 0)
			out[o++] = '-';
		memcpy(out + o, d, n - (size_t)k);
		o += n - (size_t)k;
		out[o++] = '.';
		memcpy(out + o, d + n - k, (size_t)k);
		o += (size_t)k;
		out[o] = '\0';
		return o;
	}
	return 0;
}

/* The forms both printers share: 0 when v needs digits searched. */
static size_t fmt_common(double v, char *out)
{
	if (!isfinite(v))
		return (size_t)snprintf(out, 32, "null");
	if (v == 0 && signbit(v)) /* as cJSON writes it */
		return (size_t)snprintf(out, 32, "-0");
	/* integers in int's range by %d, as cJSON */
	if (v >= INT_MIN && v <= INT_MAX && v == (double)(int)v)
		return (size_t)snprintf(out, 32, "%d", (int)v);
	return fmt_decimal(v, out);
}

size_t jsonw_fmt_num17(double v, char *out)
{
	size_t n = fmt_common(v, out);

	return n ? n : (size_t)snprintf(out, 32, "%1.17g", v);
}

size_t jsonw_fmt_num(double v, char *out)
{
	int n = (int)fmt_common(v, out);

	if (n > 0)
		return (size_t)n;
	n = snprintf(out, 32, "%1.15g", v);
	if (strtod(out, NULL) == v)
		return (size_t)n;
	/* 16 digits when they read back and are shorter than 17 (near 1e16
	 * the 16-digit form takes an exponent the 17-digit one does not) */
	{
		char b16[32];
		int n16 = snprintf(b16, sizeof(b16), "%1.16g", v);
		n = snprintf(out, 32, "%1.17g", v);
		if (n16 < n && strtod(b16, NULL) == v) {
			memcpy(out, b16, (size_t)n16 + 1);
			n = n16;
		}
	}
	return (size_t)n;
}

void jsonw_obj_begin(struct jsonw *w, const char *key)
{
	lead(w, key);
	put(w, "{", 1);
	w->comma = 0;
}

void jsonw_obj_end(struct jsonw *w)
{
	put(w, "}", 1);
	w->comma = 1;
}

void jsonw_arr_begin(struct jsonw *w, const char *key)
{
	lead(w, key);
	put(w, "[", 1);
	w->comma = 0;
}

void jsonw_arr_end(struct jsonw *w)
{
	put(w, "]", 1);
	w->comma = 1;
}

void jsonw_str(struct jsonw *w, const char *key, const char *s)
{
	lead(w, key);
	put_string(w, s ? s : "");
}

void jsonw_num(struct jsonw *w, const char *key, double v)
{
	char b[32];
	size_t n = jsonw_fmt_num(v, b);

	lead(w, key);
	put(w, b, n);
}

void jsonw_num17(struct jsonw *w, const char *key, double v)
{
	char b[32];
	size_t n = jsonw_fmt_num17(v, b);

	lead(w, key);
	put(w, b, n);
}

void jsonw_bool(struct jsonw *w, const char *key, int b)
{
	lead(w, key);
	if (b)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	lead(w, key);
	put(w, "null", 4);
}

void jsonw_raw(struct jsonw *w, const char *key, const char *json)
{
	lead(w, key);
	put(w, json, strlen(json));
}
