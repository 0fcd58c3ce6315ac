/* jsonscan.h - reads values out of the flat JSON objects sensors send
 * (ESP32 sketches, Zigbee2MQTT, Tasmota) in place, without allocating.  It
 * reads a strict subset of JSON only: a top-level object, no backslash
 * anywhere, no number longer than JSONSCAN_MAX_NUM bytes, whitespace only
 * space, tab, CR, LF.  Anything else it declines (-ENOTSUP) and the caller
 * falls back to a full parser (cJSON in payload.c), which then decides;
 * so this never refuses what cJSON would take, and on the subset it reads
 * it gives what cJSON gives.  Pure: no I/O, no global state. */
#ifndef CC_JSONSCAN_H
#define CC_JSONSCAN_H

#include <stddef.h>

#define JSONSCAN_MAX_NUM 63 /* cJSON 1.7 reads at most 63 bytes of a number */

enum jsonscan_type { JSONSCAN_NULL, JSONSCAN_FALSE, JSONSCAN_TRUE, JSONSCAN_NUMBER, JSONSCAN_STRING,
		     JSONSCAN_OBJECT, JSONSCAN_ARRAY };

struct jsonscan_val {
	enum jsonscan_type type;
	const char *p; /* the value's text: a string's without its quotes */
	size_t n;
};

/* 0 when p[0..n) is one object of the subset above followed only by
 * whitespace (or NUL bytes), nested at most max_depth levels; -ENOTSUP
 * otherwise. */
int jsonscan_check(const char *p, size_t n, int max_depth);
/* The value at a dotted path ("env.rh", "list.0.t": a numeric segment
 * indexes an array) of a document jsonscan_check accepted: 0 and *v, or
 * -ENOENT.  The first of duplicate keys, as cJSON. */
int jsonscan_get(const char *p, size_t n, const char *path, struct jsonscan_val *v);
/* The top-level object's members as the checking pass met them (key
 * without its quotes; val: the value's first byte), so that plain keys are
 * found without scanning the document again (issue 18: three lookups cost
 * three times the check). */
#define JSONSCAN_MEMBERS 16
struct jsonscan_member {
	const char *key, *val;
	size_t keylen;
};
struct jsonscan_index {
	struct jsonscan_member m[JSONSCAN_MEMBERS]; /* the first members */
	size_t nm;
	int all; /* 1: m holds every member */
	/* 1 + the '{', '[' and ',' outside strings: payload.c's bound */
	size_t values;
};
/* jsonscan_check that also fills ix. */
int jsonscan_check_index(const char *p, size_t n, int max_depth, struct jsonscan_index *ix);
/* The value starting at `at` (a member's val) of a checked document p[0..n). */
void jsonscan_take(const char *p, size_t n, const char *at, struct jsonscan_val *v);
/* A JSONSCAN_NUMBER's value (strtod of its text, as cJSON): 0, or -ERANGE
 * when not finite (1e999). */
int jsonscan_number(const struct jsonscan_val *v, double *out);

#endif
