/* sms.c - GSM 7-bit / UCS-2 detection, counting, splitting and the text-mode
 * encodings of an SMS (3GPP TS 23.038 alphabets, TS 27.005 text mode).
 *
 * Why text mode (AT+CMGF=1) and not PDU mode: every modem we target speaks
 * it the same way, the dialogue is readable in a log and a simulator, and
 * replies come back decoded.  Its price is that it cannot carry a user-data
 * header, so a long message cannot be a concatenated SMS that the phone joins:
 * it goes as standalone parts, each a full 160 septets / 70 code units
 * (no 7/3-unit header to pay for) and each prefixed "(k/n) " so the reader
 * can put them in order if the network delivers them out of it. */
#include "sms.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default alphabet, septet -> code point (0x1B: the escape, 0 here). */
static const uint16_t gsm_basic[128] = {
	0x40,  0xA3,  0x24,  0xA5,  0xE8,  0xE9,  0xF9,  0xEC,  0xF2,  0xC7,  0x0A,  0xD8,  0xF8,
	0x0D,  0xC5,  0xE5,  0x394, 0x5F,  0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398,
	0x39E, 0,     0xC6,  0xE6,  0xDF,  0xC9,  0x20,  0x21,  0x22,  0x23,  0xA4,  0x25,  0x26,
	0x27,  0x28,  0x29,  0x2A,  0x2B,  0x2C,  0x2D,  0x2E,  0x2F,  0x30,  0x31,  0x32,  0x33,
	0x34,  0x35,  0x36,  0x37,  0x38,  0x39,  0x3A,  0x3B,  0x3C,  0x3D,  0x3E,  0x3F,  0xA1,
	0x41,  0x42,  0x43,  0x44,  0x45,  0x46,  0x47,  0x48,  0x49,  0x4A,  0x4B,  0x4C,  0x4D,
	0x4E,  0x4F,  0x50,  0x51,  0x52,  0x53,  0x54,  0x55,  0x56,  0x57,  0x58,  0x59,  0x5A,
	0xC4,  0xD6,  0xD1,  0xDC,  0xA7,  0xBF,  0x61,  0x62,  0x63,  0x64,  0x65,  0x66,  0x67,
	0x68,  0x69,  0x6A,  0x6B,  0x6C,  0x6D,  0x6E,  0x6F,  0x70,  0x71,  0x72,  0x73,  0x74,
	0x75,  0x76,  0x77,  0x78,  0x79,  0x7A,  0xE4,  0xF6,  0xF1,  0xFC,  0xE0,
};

/* The extension table: code point -> septet after 0x1B. */
static const struct {
	uint16_t cp;
	uint8_t septet;
} gsm_ext[] = {
	{0x0C, 0x0A}, {'^', 0x14}, {'{', 0x28}, {'}', 0x29}, {'\\', 0x2F},
	{'[', 0x3C},  {'~', 0x3D}, {']', 0x3E}, {'|', 0x40}, {0x20AC, 0x65},
};

/* Decodes one UTF-8 character; returns its length or 0 if invalid. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t n, i;
	if (c < 0x80) {
		*cp = c;
		return c ? 1 : 0;
	}
	if ((c & 0xE0) == 0xC0)
		n = 2, c &= 0x1F;
	else if ((c & 0xF0) == 0xE0)
		n = 3, c &= 0x0F;
	else if ((c & 0xF8) == 0xF0)
		n = 4, c &= 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static size_t utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xC0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Septet of cp in the default alphabet (0..127), 0x100 | septet in the
 * extension table, -1 if not GSM-7. */
static int gsm_lookup(uint32_t cp)
{
	size_t i;
	for (i = 0; i < 128; i++)
		if (gsm_basic[i] == cp && i != 0x1B)
			return (int)i;
	for (i = 0; i < sizeof gsm_ext / sizeof gsm_ext[0]; i++)
		if (gsm_ext[i].cp == cp)
			return 0x100 | gsm_ext[i].septet;
	return -1;
}

int sms_is_gsm7(const char *utf8, size_t *septets)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t n = 0, k;
	uint32_t cp;
	while (*s) {
		int g;
		if (!(k = utf8_next(s, &cp)) || (g = gsm_lookup(cp)) < 0)
			return 0;
		n += (g & 0x100) ? 2 : 1;
		s += k;
	}
	if (septets)
		*septets = n;
	return 1;
}

enum sms_charset sms_charset_for(const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t k;
	uint32_t cp;
	if (!sms_is_gsm7(utf8, NULL))
		return SMS_UCS2;
	for (; *s; s += k) {
		int g;
		k = utf8_next(s, &cp);
		g = gsm_lookup(cp);
		if ((g & 0x100) || g == 0x00 || g == 0x1A)
			return SMS_UCS2;
	}
	return SMS_GSM7;
}

static int cp_units(uint32_t cp, enum sms_charset cs)
{
	if (cs == SMS_UCS2)
		return cp > 0xFFFF ? 2 : 1;
	return (gsm_lookup(cp) & 0x100) ? 2 : 1;
}

long sms_units(const char *utf8, enum sms_charset cs)
{
	const unsigned char *s = (const unsigned char *)utf8;
	long n = 0;
	size_t k;
	uint32_t cp;
	for (; *s; s += k) {
		if (!(k = utf8_next(s, &cp)))
			return -1;
		n += cp_units(cp, cs);
	}
	return n;
}

/* Bytes of s (from its start) that hold at most budget units, ending at a
 * word boundary when the rest does not fit; *used gets their units. */
static size_t take(const char *s, long budget, enum sms_charset cs, long *used)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, last_space = 0, prev_space = 0, k;
	long u = 0, u_at_space = 0, u_at_prev = 0;
	uint32_t cp;
	while (p[off]) {
		k = utf8_next(p + off, &cp);
		if (u + cp_units(cp, cs) > budget)
			break;
		if (cp == ' ' || cp == '\n') {
			prev_space = last_space;
			u_at_prev = u_at_space;
			last_space = off;
			u_at_space = u;
		}
		u += cp_units(cp, cs);
		off += k;
	}
	if (p[off] && p[off] != ' ' && p[off] != '\n' && last_space > 0) {
		/* never between "OK" and the alarm id: the reply hint stays whole */
		if (prev_space > 0 && last_space - prev_space == 3 && memcmp(s + prev_space + 1, "OK", 2) == 0) {
			*used = u_at_prev;
			return prev_space;
		}
		*used = u_at_space;
		return last_space;
	}
	*used = u;
	return off;
}

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\n')
		s++;
	return s;
}

/* Fills out with n parts (n > 1: prefixed) of text; returns 1 if all of
 * text fit, 0 if not (the last part then holds what fits plus the ellipsis
 * when cut is set), -ENOMEM. */
static int fill(const char *text, size_t n, int cut, struct sms_parts *out)
{
	long max = out->cs == SMS_GSM7 ? SMS_GSM7_MAX : SMS_UCS2_MAX;
	const char *ell = out->cs == SMS_GSM7 ? "..." : "\xE2\x80\xA6";
	const char *s = skip_blank(text);
	size_t k;
	for (k = 0; k < n; k++) {
		char pre[48] = "";
		long used, budget;
		size_t len, plen;
		int last_cut;
		if (n > 1)
			(void)snprintf(pre, sizeof pre, "(%zu/%zu) ", k + 1, n);
		plen = strlen(pre);
		budget = max - (long)plen;
		len = take(s, budget, out->cs, &used);
		last_cut = cut && k == n - 1 && s[len] && *skip_blank(s + len);
		if (last_cut)
			len = take(s, budget - sms_units(ell, out->cs), out->cs, &used);
		out->part[k] = malloc(plen + len + 4);
		if (!out->part[k])
			return -ENOMEM;
		out->n = k + 1;
		memcpy(out->part[k], pre, plen);
		memcpy(out->part[k] + plen, s, len);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n'))
			len--;
		strcpy(out->part[k] + plen + len, last_cut ? ell : "");
		if (last_cut)
			out->truncated = 1;
		s = skip_blank(s + len);
	}
	return *s ? 0 : 1;
}

static char *normalise_newlines(const char *in)
{
	char *o = malloc(strlen(in) + 1), *w = o;
	if (!o)
		return NULL;
	for (; *in; in++) {
		if (*in == '\r') {
			*w++ = '\n';
			if (in[1] == '\n')
				in++;
		} else {
			*w++ = *in;
		}
	}
	*w = 0;
	return o;
}

int sms_split(const char *utf8, int max_parts, struct sms_parts *out)
{
	char *text;
	long units;
	size_t n;
	int rc = -EINVAL;
	memset(out, 0, sizeof *out);
	if (max_parts < 1 || max_parts > SMS_MAX_PARTS)
		return -EINVAL;
	if (!(text = normalise_newlines(utf8)))
		return -ENOMEM;
	if ((units = sms_units(text, SMS_UCS2)) < 0)
		goto out;
	out->cs = sms_charset_for(text);
	/* The part count decides the prefix length: try 1, 2, ... parts. */
	for (n = 1; n <= (size_t)max_parts; n++) {
		rc = fill(text, n, n == (size_t)max_parts, out);
		if (rc != 0)
			break;
		sms_parts_free(out);
		out->cs = sms_charset_for(text);
	}
	if (rc == 0 || n > (size_t)max_parts)
		rc = fill(text, (size_t)max_parts, 1, out);
	rc = rc < 0 ? rc : 0;
out:
	if (rc < 0)
		sms_parts_free(out);
	free(text);
	return rc;
}

void sms_parts_free(struct sms_parts *p)
{
	size_t i;
	for (i = 0; i < p->n; i++)
		free(p->part[i]);
	p->n = 0;
	p->truncated = 0;
}

long sms_gsm_encode(const char *utf8, char *out, size_t n)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t o = 0, k;
	uint32_t cp;
	for (; *s; s += k) {
		int g;
		if (!(k = utf8_next(s, &cp)) || (g = gsm_lookup(cp)) < 0)
			return -EINVAL;
		if (o + 3 > n)
			return -ENOSPC;
		if (g & 0x100)
			out[o++] = 0x1B;
		out[o++] = (char)(g & 0x7F);
	}
	if (n == 0)
		return -ENOSPC;
	out[o] = 0;
	return (long)o;
}

long sms_gsm_decode(const char *gsm, size_t len, char *out, size_t n)
{
	size_t i, o = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)gsm[i] & 0x7F;
		uint32_t cp = gsm_basic[c];
		if (c == 0x1B && i + 1 < len) {
			size_t j;
			c = (unsigned char)gsm[++i] & 0x7F;
			cp = ' ';
			for (j = 0; j < sizeof gsm_ext / sizeof gsm_ext[0]; j++)
				if (gsm_ext[j].septet == c)
					cp = gsm_ext[j].cp;
		} else if (c == 0x1B) {
			cp = ' ';
		}
		if (o + 5 > n)
			return -ENOSPC;
		o += utf8_put(out + o, cp);
	}
	if (n == 0)
		return -ENOSPC;
	out[o] = 0;
	return (long)o;
}

char *sms_ucs2_hex(const char *utf8)
{
	static const char hx[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)utf8;
	char *o = malloc(strlen(utf8) * 4 + 1), *w = o; /* at most 4 hex digits a UTF-8 byte */
	size_t k;
	uint32_t cp;
	if (!o)
		return NULL;
	for (; *s; s += k) {
		uint16_t u[2];
		int nu = 1, i, b;
		if (!(k = utf8_next(s, &cp))) {
			free(o);
			errno = EINVAL;
			return NULL;
		}
		if (cp > 0xFFFF) {
			cp -= 0x10000;
			u[0] = (uint16_t)(0xD800 | (cp >> 10));
			u[1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
			nu = 2;
		} else {
			u[0] = (uint16_t)cp;
		}
		for (i = 0; i < nu; i++)
			for (b = 12; b >= 0; b -= 4)
				*w++ = hx[(u[i] >> b) & 0xF];
	}
	*w = 0;
	return o;
}

static int hex4(const char *h, uint32_t *v)
{
	int i;
	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = h[i];
		int d = c >= '0' && c <= '9' ? c - '0'
		      : c >= 'A' && c <= 'F' ? c - 'A' + 10
		      : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		*v = (*v << 4) | (uint32_t)d;
	}
	return 0;
}

char *sms_ucs2_unhex(const char *hex)
{
	size_t len = strlen(hex), i, o = 0;
	char *out;
	if (len % 4) {
		errno = EINVAL;
		return NULL;
	}
	if (!(out = malloc(len + 1)))
		return NULL;
	for (i = 0; i < len; i += 4) {
		uint32_t u, lo;
		if (hex4(hex + i, &u) < 0 || u == 0 || (u >= 0xDC00 && u <= 0xDFFF))
			goto bad;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (i + 8 > len || hex4(hex + i + 4, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
				goto bad;
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 4;
		}
		o += utf8_put(out + o, u);
	}
	out[o] = 0;
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

/* The digits of s (at most n-1), separators skipped; -1 on any other byte. */
static int number_digits(const char *s, char *out, size_t n)
{
	size_t k = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (k + 1 >= n)
				return -1;
			out[k++] = *s;
		} else if (!strchr(" -.()", *s)) {
			return -1;
		}
	}
	out[k] = '\0';
	return (int)k;
}

int sms_number_match(const char *e164, const char *reported)
{
	char want[24], got[24];
	const char *g = got;
	int nw, ng;

	if (!e164 || !reported || e164[0] != '+')
		return 0;
	while (*reported == ' ')
		reported++;
	if ((nw = number_digits(e164 + 1, want, sizeof(want))) < 4)
		return 0;
	if ((ng = number_digits(reported[0] == '+' ? reported + 1 : reported, got, sizeof(got))) < 4)
		return 0;
	if (reported[0] == '+')
		return strcmp(want, got) == 0 ? 2 : 0;
	if (strncmp(got, "00", 2) == 0)
		return strcmp(want, got + 2) == 0 ? 2 : 0;
	if (strcmp(want, got) == 0)
		return 2;
	if (got[0] != '0')
		return 0;
	g++, ng--; /* the national significant number */
	if (ng < 6 || nw - ng < 1 || nw - ng > 3)
		return 0;
	return strcmp(want + (nw - ng), g) == 0 ? 1 : 0;
}
