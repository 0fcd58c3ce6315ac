/* payload.c - pure MQTT payload parsers (see payload.h).  JSON by cJSON;
 * numbers by strtod on a bounded, checked copy; times by the program's one
 * ISO 8601 parser, time_parse_iso8601 (util.h). */
#include "payload.h"
#include "jsonscan.h"
#include "../daemon/util.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SET_ERR(m) do { if (err) *err = (m); } while (0)
#define STR(x) #x
#define XSTR(x) STR(x)

int payload_utf8_check(const void *buf, size_t n)
{
	const unsigned char *p = buf, *e = p + n;

	while (p < e) {
		unsigned c;
		size_t k;
		uint32_t cp;

		/* eight ASCII bytes at a time, none of them NUL (what sensors send) */
		while (e - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if ((w & 0x8080808080808080ULL) || ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
				break;
			p += 8;
		}
		if (p == e)
			break;
		c = *p;

		if (c == 0)
			return -EILSEQ;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return -EILSEQ;
		}
		if ((size_t)(e - p) <= k)
			return -EILSEQ;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -EILSEQ;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -EILSEQ;
		p += k + 1;
	}
	return 0;
}

/* Trims ASCII whitespace; returns the trimmed length and moves *p. */
static size_t trim(const char **p, size_t n)
{
	while (n && isspace((unsigned char)**p)) {
		(*p)++;
		n--;
	}
	while (n && isspace((unsigned char)(*p)[n - 1]))
		n--;
	return n;
}

static int number_text(const char *s, size_t n, double *out, const char **err)
{
	char buf[128], *end;
	double v;

	n = trim(&s, n);
	if (n == 0) {
		SET_ERR("empty");
		return -EINVAL;
	}
	if (n >= sizeof(buf)) {
		SET_ERR("number too long");
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (!(isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) {
			int alpha = isalpha((unsigned char)c);
			/* "nan", "inf", "Infinity": numbers, but not finite ones */
			if (alpha && (strncasecmp(buf + (buf[0] == '-' || buf[0] == '+'), "nan", 3) == 0 ||
				      strncasecmp(buf + (buf[0] == '-' || buf[0] == '+'), "inf", 3) == 0)) {
				SET_ERR("not a finite number");
				return -ERANGE;
			}
			SET_ERR("not a number");
			return -EDOM;
		}
	}
	errno = 0;
	v = strtod(buf, &end);
	if (end == buf || *end != '\0') {
		SET_ERR("not a number");
		return -EDOM;
	}
	if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0)) {
		SET_ERR("not a finite number");
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int payload_number(const void *p, size_t n, double *out, const char **err)
{
	return number_text(p, n, out, err);
}

static int bool_word(const char *s, size_t n, double *out)
{
	static const struct {
		const char *w;
		double v;
	} words[] = {
		{ "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 },
		{ "on", 1 },   { "off", 0 },   { "open", 1 }, { "closed", 0 },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].w) == n && strncasecmp(s, words[i].w, n) == 0) {
			*out = words[i].v;
			return 0;
		}
	return -1;
}

int payload_bool(const void *buf, size_t n, double *out, const char **err)
{
	const char *s = buf;

	n = trim(&s, n);
	if (n == 0) {
		SET_ERR("empty");
		return -EINVAL;
	}
	if (bool_word(s, n, out) == 0)
		return 0;
	SET_ERR("not a boolean (true/false, 1/0, on/off, open/closed)");
	return -EDOM;
}

/* --- time --------------------------------------------------------------- */

#define NS_PER_S 1000000000LL

int payload_epoch_ns(double v, enum payload_tunit u, int64_t *ns, const char **err)
{
	double mul;

	if (!isfinite(v)) {
		SET_ERR("time is not finite");
		return -ERANGE;
	}
	if (u == PAYLOAD_T_AUTO) {
		double a = fabs(v);
		u = a < 1e11 ? PAYLOAD_T_S : a < 1e14 ? PAYLOAD_T_MS : a < 1e17 ? PAYLOAD_T_US : PAYLOAD_T_NS;
	}
	switch (u) {
	case PAYLOAD_T_S: mul = 1e9; break;
	case PAYLOAD_T_MS: mul = 1e6; break;
	case PAYLOAD_T_US: mul = 1e3; break;
	default: mul = 1; break;
	}
	/* int64 ns covers 1678..2262 */
	if (!(v * mul > -9.2e18 && v * mul < 9.2e18)) {
		SET_ERR("time out of range");
		return -ERANGE;
	}
	/* integer part exactly, fraction separately: a ms epoch times 1e6 is
	 * past 2^53, where a double would lose the last digits */
	{
		double ip = trunc(v);
		*ns = (int64_t)ip * (int64_t)mul + (int64_t)llround((v - ip) * mul);
	}
	return 0;
}

/* The program's one ISO 8601 parser (util.c), after trimming the payload's
 * surrounding whitespace. */
int payload_rfc3339_ns(const void *buf, size_t n, int64_t *ns, const char **err)
{
	const char *s = buf;
	int rc;

	n = trim(&s, n);
	rc = time_parse_iso8601(s, n, ns);
	if (rc == -ERANGE)
		SET_ERR("time out of range");
	else if (rc < 0)
		SET_ERR("not an RFC 3339 time (2026-06-12T08:00:00Z, ...+07:00)");
	return rc;
}

int payload_time_ns(const void *buf, size_t n, enum payload_tunit u, int64_t *ns, const char **err)
{
	const char *s = buf;
	double v;
	size_t tn = trim(&s, n);

	if (tn >= 10 && s[4] == '-')
		return payload_rfc3339_ns(s, tn, ns, err);
	if (number_text(s, tn, &v, err) < 0) {
		SET_ERR("not a time (epoch number or RFC 3339)");
		return -EINVAL;
	}
	return payload_epoch_ns(v, u, ns, err);
}

size_t payload_excerpt(const void *buf, size_t n, size_t max_in, char *out, size_t outlen)
{
	const unsigned char *p = buf;
	size_t o = 0, i;

	if (outlen == 0)
		return 0;
	for (i = 0; i < n && i < max_in; i++) {
		char tmp[8];
		size_t k;
		unsigned c = p[i];

		if (c == '\\' || c == '"') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			k = 2;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			tmp[0] = '\\';
			tmp[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			k = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			k = 1;
		} else {
			static const char hex[] = "0123456789abcdef";
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15];
			k = 4;
		}
		if (o + k + 4 > outlen) /* room for "..." and NUL */
			break;
		memcpy(out + o, tmp, k);
		o += k;
	}
	if (i < n && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

/* --- JSON --------------------------------------------------------------- */

/* The bounds of payload.h, in one pass outside strings; unbalanced input is
 * left to cJSON to refuse. */
static int json_bounded(const char *p, size_t n, const char **err)
{
	size_t values = 1;
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		switch (ch) {
		case '"': in_str = 1; break;
		case '{':
		case '[':
			if (++depth > PAYLOAD_JSON_MAX_DEPTH) {
				SET_ERR("JSON nested deeper than " XSTR(PAYLOAD_JSON_MAX_DEPTH) " levels");
				return -E2BIG;
			}
			values++;
			break;
		case '}':
		case ']': depth--; break;
		case ',': values++; break;
		default: continue;
		}
		if (values > PAYLOAD_JSON_MAX_VALUES) {
			SET_ERR("JSON with more than " XSTR(PAYLOAD_JSON_MAX_VALUES) " values");
			return -E2BIG;
		}
	}
	return 0;
}

int payload_json_open(struct payload_json *j, const void *p, size_t n, const char **err)
{
	const char *end = NULL;
	cJSON *root;
	int rc;

	j->p = p;
	j->n = n;
	j->root = NULL;
	if (n == 0) {
		SET_ERR("empty");
		return -EINVAL;
	}
	/* the scanner bounds the depth as json_bounded does and counts what it
	 * counts: json_bounded's pass is needed only for what it refuses or
	 * leaves to cJSON */
	if (jsonscan_check_index(p, n, PAYLOAD_JSON_MAX_DEPTH, &j->ix) == 0 && j->ix.values <= PAYLOAD_JSON_MAX_VALUES)
		return 0;
	if ((rc = json_bounded(p, n, err)) < 0)
		return rc;
	root = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (!root) {
		SET_ERR("not valid JSON (truncated or malformed)");
		return -EINVAL;
	}
	/* trailing bytes after the document: only whitespace (and a NUL some
	 * publishers append) are tolerated */
	if (end) {
		const char *e = (const char *)p + n;
		while (end < e && (isspace((unsigned char)*end) || *end == '\0'))
			end++;
		if (end != e) {
			cJSON_Delete(root);
			SET_ERR("bytes after the JSON document");
			return -EINVAL;
		}
	}
	j->root = root;
	return 0;
}

void payload_json_close(struct payload_json *j)
{
	cJSON_Delete(j->root);
	j->root = NULL;
}

int payload_json_parse(const void *p, size_t n, struct payload_json **out, const char **err)
{
	struct payload_json j;
	int rc = payload_json_open(&j, p, n, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	*out = malloc(sizeof(**out));
	if (!*out) {
		payload_json_close(&j);
		SET_ERR("out of memory");
		return -ENOMEM;
	}
	**out = j;
	return 0;
}

void payload_json_free(struct payload_json *j)
{
	if (!j)
		return;
	payload_json_close(j);
	free(j);
}

/* The node at a dotted path; a numeric segment indexes an array. */
static const cJSON *json_at(const cJSON *node, const char *path)
{
	char seg[256];

	while (node && *path) {
		size_t len = strcspn(path, ".");
		if (len == 0 || len >= sizeof(seg))
			return NULL;
		memcpy(seg, path, len);
		seg[len] = '\0';
		if (cJSON_IsArray(node)) {
			char *end;
			long idx = strtol(seg, &end, 10);
			if (*end || idx < 0)
				return NULL;
			node = cJSON_GetArrayItem(node, (int)idx);
		} else if (cJSON_IsObject(node)) {
			node = cJSON_GetObjectItemCaseSensitive(node, seg);
		} else {
			return NULL;
		}
		path += len;
		if (*path == '.')
			path++;
	}
	return node;
}

/* A string's text as a number or a boolean word (both readers). */
static int json_string_number(const char *s, size_t n, double *out, const char **err)
{
	const char *t = s;
	size_t tn = trim(&t, n);

	if (tn && bool_word(t, tn, out) == 0)
		return 0;
	return number_text(s, n, out, err);
}

/* payload_json_number and _time on a document read in place: a plain key
 * from the members the check met, anything else by jsonscan_get (the same
 * answers: the first of duplicate keys; a segment of 256 bytes or more, or
 * an empty path, is jsonscan_get's to judge) */
static int scan_get(const struct payload_json *j, const char *path, struct jsonscan_val *v)
{
	size_t len = strlen(path);

	if (len && len < 256 && !memchr(path, '.', len)) {
		for (size_t i = 0; i < j->ix.nm; i++)
			if (j->ix.m[i].keylen == len && memcmp(j->ix.m[i].key, path, len) == 0) {
				jsonscan_take(j->p, j->n, j->ix.m[i].val, v);
				return 0;
			}
		if (j->ix.all)
			return -ENOENT;
	}
	return jsonscan_get(j->p, j->n, path, v);
}

static int scan_number(const struct payload_json *j, const char *path, double *out, const char **err)
{
	struct jsonscan_val v;

	if (scan_get(j, path, &v) < 0 || v.type == JSONSCAN_NULL) {
		SET_ERR("field absent");
		return -ENOENT;
	}
	switch (v.type) {
	case JSONSCAN_TRUE: *out = 1.0; return 0;
	case JSONSCAN_FALSE: *out = 0.0; return 0;
	case JSONSCAN_NUMBER:
		if (jsonscan_number(&v, out) < 0) {
			SET_ERR("not a finite number");
			return -ERANGE;
		}
		return 0;
	case JSONSCAN_STRING: return json_string_number(v.p, v.n, out, err);
	default: SET_ERR("not a number, boolean or numeric string"); return -EDOM;
	}
}

static int scan_time(const struct payload_json *j, const char *path, enum payload_tunit u, int64_t *ns,
		     const char **err)
{
	struct jsonscan_val v;
	double d;

	if (scan_get(j, path, &v) < 0 || v.type == JSONSCAN_NULL) {
		SET_ERR("time field absent");
		return -ENOENT;
	}
	if (v.type == JSONSCAN_NUMBER) {
		/* cJSON keeps inf; payload_epoch_ns refuses it */
		(void)jsonscan_number(&v, &d);
		return payload_epoch_ns(d, u, ns, err);
	}
	if (v.type == JSONSCAN_STRING)
		return payload_time_ns(v.p, v.n, u, ns, err);
	SET_ERR("time is neither a number nor a string");
	return -EDOM;
}

int payload_json_number(const struct payload_json *j, const char *path, double *out, const char **err)
{
	const cJSON *v;

	if (!j->root)
		return scan_number(j, path, out, err);
	v = json_at(j->root, path);

	if (!v || cJSON_IsNull(v)) {
		SET_ERR("field absent");
		return -ENOENT;
	}
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v) ? 1.0 : 0.0;
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		/* cJSON reads 1e999 as inf */
		if (!isfinite(v->valuedouble)) {
			SET_ERR("not a finite number");
			return -ERANGE;
		}
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && v->valuestring)
		return json_string_number(v->valuestring, strlen(v->valuestring), out, err);
	SET_ERR("not a number, boolean or numeric string");
	return -EDOM;
}

int payload_json_time(const struct payload_json *j, const char *path, enum payload_tunit u, int64_t *ns,
		      const char **err)
{
	const cJSON *v;

	if (!j->root)
		return scan_time(j, path, u, ns, err);
	v = json_at(j->root, path);
	if (!v || cJSON_IsNull(v)) {
		SET_ERR("time field absent");
		return -ENOENT;
	}
	if (cJSON_IsNumber(v))
		return payload_epoch_ns(v->valuedouble, u, ns, err);
	if (cJSON_IsString(v) && v->valuestring)
		return payload_time_ns(v->valuestring, strlen(v->valuestring), u, ns, err);
	SET_ERR("time is neither a number nor a string");
	return -EDOM;
}
