/* topic.h - MQTT topic patterns with named captures, e.g.
 * "sensors/{room}/{sensor}/temperature" or "$share/cc/site/{site}/{room}/#".
 * A capture is a whole topic level; it subscribes as '+' and its value
 * becomes a tag.  Pure functions: no I/O, no allocation after topic_parse. */
#ifndef CC_TOPIC_H
#define CC_TOPIC_H

#include <stddef.h>

/* What a capture can name: the tags of a channel (sample.h). */
enum topic_cap { TOPIC_CAP_SITE, TOPIC_CAP_ROOM, TOPIC_CAP_SENSOR, TOPIC_CAP_CHANNEL, TOPIC_CAP_QUANTITY, TOPIC_CAP_N };

#define TOPIC_MAX_LEVELS 32
#define TOPIC_MAX_CAPTURE 128 /* bytes of a captured value */

enum topic_lvl { TOPIC_LIT, TOPIC_PLUS, TOPIC_HASH, TOPIC_CAPTURE };

struct topic_level {
	enum topic_lvl kind;
	enum topic_cap cap; /* TOPIC_CAPTURE */
	size_t off, len;    /* TOPIC_LIT: the literal within pat->filter */
};

struct topic_pat {
	char *filter;      /* what is subscribed: captures as '+', "$share/G/" kept */
	const char *match; /* filter without the "$share/GROUP/" prefix */
	char *share_group; /* NULL unless a shared subscription */
	struct topic_level lv[TOPIC_MAX_LEVELS];
	size_t nlv;
	int has_cap[TOPIC_CAP_N];
};

const char *topic_cap_name(enum topic_cap c);

/* Parses pattern.  0, or -EINVAL with a static message in *err. */
int topic_parse(const char *pattern, struct topic_pat *pat, const char **err);
void topic_free(struct topic_pat *pat);

/*
 * Matches a received topic against the pattern (its filter without the
 * $share prefix, with MQTT rules: '+' one level, '#' the rest, wildcards
 * never match a first level starting with '$').  On a match returns 1 and
 * points vals[c]/lens[c] at each capture's value inside topic (NULL when
 * not captured); 0 otherwise.
 */
int topic_match(const struct topic_pat *pat, const char *topic, size_t tlen, const char *vals[TOPIC_CAP_N],
		size_t lens[TOPIC_CAP_N]);

#endif
