/* topic.c - MQTT topic patterns with named captures: parsing (for the
 * configuration checks and the driver) and matching of received topics. */
#include "topic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/util.h"

static const char *const cap_names[TOPIC_CAP_N] = { "site", "room", "sensor", "channel", "quantity" };

const char *topic_cap_name(enum topic_cap c)
{
	return (unsigned)c < TOPIC_CAP_N ? cap_names[c] : "?";
}

void topic_free(struct topic_pat *pat)
{
	free(pat->filter);
	free(pat->share_group);
	memset(pat, 0, sizeof(*pat));
}

/* A pattern is non-empty, at most 1024 bytes, without control characters. */
static int topic_check_chars(const char *pattern, const char **err)
{
	if (!*pattern) {
		*err = "must not be empty";
		return -EINVAL;
	}
	if (strlen(pattern) > 1024) {
		*err = "is longer than 1024 bytes";
		return -EINVAL;
	}
	for (const unsigned char *q = (const unsigned char *)pattern; *q; q++)
		if (*q < 0x20 || *q == 0x7f) {
			*err = "must not contain control characters";
			return -EINVAL;
		}
	return 0;
}

/* A leading "$share/GROUP/": pat->share_group is GROUP, the prefix is
 * copied to out (*o advanced) and *p moves to the filter after it. */
static int topic_parse_share(const char **p, struct topic_pat *pat, char *out, size_t *o, const char **err)
{
	const char *g = *p + 7, *slash = strchr(g, '/');

	if (!slash || slash == g) {
		*err = "a shared subscription is $share/GROUP/FILTER (GROUP non-empty)";
		return -EINVAL;
	}
	if (strcspn(g, "+#{}") < (size_t)(slash - g)) {
		*err = "the $share group name must not contain '+', '#', '{' or '}'";
		return -EINVAL;
	}
	pat->share_group = xasprintf("%.*s", (int)(slash - g), g);
	memcpy(out, *p, (size_t)(slash - *p) + 1);
	*o = (size_t)(slash - *p) + 1;
	*p = slash + 1;
	if (!**p) {
		*err = "a shared subscription needs a filter after $share/GROUP/";
		return -EINVAL;
	}
	return 0;
}

/* A capture level "{name}" (len bytes at p): its name's index, or -1. */
static int topic_cap_find(const char *p, size_t len)
{
	size_t nl = len - 2;

	for (int c = 0; c < TOPIC_CAP_N; c++)
		if (strlen(cap_names[c]) == nl && strncmp(p + 1, cap_names[c], nl) == 0)
			return c;
	return -1;
}

/* One level of the filter, len bytes at p (last: no level follows), parsed
 * into lv and written to out at *o as the broker sees it. */
static int topic_parse_level(const char *p, size_t len, int last, struct topic_pat *pat,
			     struct topic_level *lv, char *out, size_t *o, const char **err)
{
	if (len == 1 && (*p == '+' || *p == '#')) {
		if (*p == '#' && !last) {
			*err = "'#' must be the last level";
			return -EINVAL;
		}
		lv->kind = *p == '+' ? TOPIC_PLUS : TOPIC_HASH;
		out[(*o)++] = *p;
	} else if (len >= 2 && *p == '{' && p[len - 1] == '}') {
		int found = topic_cap_find(p, len);
		if (found < 0) {
			*err = "unknown capture name: use {site}, {room}, {sensor}, {channel} or {quantity}";
			return -EINVAL;
		}
		if (pat->has_cap[found]) {
			*err = "captures the same name twice";
			return -EINVAL;
		}
		pat->has_cap[found] = 1;
		lv->kind = TOPIC_CAPTURE;
		lv->cap = (enum topic_cap)found;
		out[(*o)++] = '+';
	} else {
		for (size_t i = 0; i < len; i++) {
			if (p[i] == '+' || p[i] == '#') {
				*err = "'+' and '#' must be a whole level (\"a/+/b\", \"a/#\")";
				return -EINVAL;
			}
			if (p[i] == '{' || p[i] == '}') {
				*err = "a capture must be a whole level, as in \"sensors/{sensor}/temp\" "
				       "(names: site, room, sensor, channel, quantity)";
				return -EINVAL;
			}
		}
		lv->kind = TOPIC_LIT;
		lv->off = *o;
		lv->len = len;
		memcpy(out + *o, p, len);
		*o += len;
	}
	return 0;
}

int topic_parse(const char *pattern, struct topic_pat *pat, const char **err)
{
	const char *p = pattern;
	char *out;
	size_t o = 0;

	memset(pat, 0, sizeof(*pat));
	if (topic_check_chars(pattern, err) < 0)
		return -EINVAL;
	out = xmalloc(strlen(pattern) + 1);
	if (strncmp(p, "$share/", 7) == 0 && topic_parse_share(&p, pat, out, &o, err) < 0)
		goto bad;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (pat->nlv == TOPIC_MAX_LEVELS) {
			*err = "has more than 32 levels";
			goto bad;
		}
		if (topic_parse_level(p, len, !end, pat, &pat->lv[pat->nlv++], out, &o, err) < 0)
			goto bad;
		if (!end)
			break;
		out[o++] = '/';
		p = end + 1;
	}
	out[o] = '\0';
	pat->filter = out;
	pat->match = pat->share_group ? strchr(out + 7, '/') + 1 : out;
	/* literal offsets were taken in out; make them relative to match */
	for (size_t i = 0; i < pat->nlv; i++)
		if (pat->lv[i].kind == TOPIC_LIT)
			pat->lv[i].off -= (size_t)(pat->match - out);
	return 0;
bad:
	free(out);
	free(pat->share_group);
	memset(pat, 0, sizeof(*pat));
	return -EINVAL;
}

int topic_match(const struct topic_pat *pat, const char *topic, size_t tlen, const char *vals[TOPIC_CAP_N],
		size_t lens[TOPIC_CAP_N])
{
	const char *p = topic, *end = topic + tlen;

	for (int c = 0; c < TOPIC_CAP_N; c++) {
		vals[c] = NULL;
		lens[c] = 0;
	}
	if (!pat->filter)
		return 0;
	for (size_t i = 0; i < pat->nlv; i++) {
		const struct topic_level *lv = &pat->lv[i];
		const char *slash;
		size_t len;

		if (lv->kind == TOPIC_HASH) {
			/* "a/#" also matches "a"; "#" never matches "$SYS/..." */
			return !(i == 0 && tlen > 0 && topic[0] == '$');
		}
		if (p > end)
			return 0; /* topic has fewer levels */
		slash = memchr(p, '/', (size_t)(end - p));
		len = slash ? (size_t)(slash - p) : (size_t)(end - p);
		switch (lv->kind) {
		case TOPIC_LIT:
			if (len != lv->len || memcmp(p, pat->match + lv->off, len) != 0)
				return 0;
			break;
		case TOPIC_PLUS:
		case TOPIC_CAPTURE:
			if (i == 0 && len > 0 && p[0] == '$')
				return 0;
			if (lv->kind == TOPIC_CAPTURE) {
				vals[lv->cap] = p;
				lens[lv->cap] = len;
			}
			break;
		case TOPIC_HASH:
			break;
		}
		p = slash ? slash + 1 : end + 1;
	}
	return p == end + 1; /* every level consumed, none left */
}
