/* payload.h - pure parsers for MQTT payloads: plain numbers, booleans,
 * JSON (cJSON) with dotted paths, timestamps (epoch s/ms/us/ns, RFC 3339),
 * plus the checks and the safe excerpt used when a payload is refused.
 * No I/O, no global state; every function takes any bytes.
 *
 * Return values: 0, or a negative errno that says what was wrong, so the
 * driver can count refusals by reason:
 *   -EINVAL  not parseable (garbage, truncated JSON, trailing bytes)
 *   -EDOM    wrong type (an object where a number was expected, "abc")
 *   -ERANGE  not finite (NaN, Inf, overflow) or a time out of range
 *   -ENOENT  the JSON path is absent (or null)
 *   -EILSEQ  invalid UTF-8 or a NUL byte
 *   -E2BIG   JSON nested deeper than PAYLOAD_JSON_MAX_DEPTH, or with more
 *            than PAYLOAD_JSON_MAX_VALUES values
 * and *err (when err is not NULL) points at a static message. */
#ifndef CC_PAYLOAD_H
#define CC_PAYLOAD_H

#include "jsonscan.h"

#include <stddef.h>
#include <stdint.h>

/* 0 when p[0..n) is valid UTF-8 (no overlongs, no surrogates) without NUL. */
int payload_utf8_check(const void *p, size_t n);

/* A decimal number, surrounding ASCII whitespace allowed ("3.5", "-1e3").
 * No hex, no "nan"/"inf" (-ERANGE), nothing after it. */
int payload_number(const void *p, size_t n, double *out, const char **err);

/* true/false, 1/0, on/off, open/closed (any case) -> 1.0 / 0.0. */
int payload_bool(const void *p, size_t n, double *out, const char **err);

enum payload_tunit { PAYLOAD_T_AUTO, PAYLOAD_T_S, PAYLOAD_T_MS, PAYLOAD_T_US, PAYLOAD_T_NS };

/* An epoch number in unit u (AUTO: by magnitude: below 1e11 seconds, below
 * 1e14 ms, below 1e17 us, else ns) -> ns since the epoch. */
int payload_epoch_ns(double v, enum payload_tunit u, int64_t *ns, const char **err);
/* RFC 3339: 2026-06-12T08:00:00Z, ...:00.123+07:00 ('T' or ' ', any case),
 * surrounding whitespace allowed; the forms of time_parse_iso8601 (util.h). */
int payload_rfc3339_ns(const void *p, size_t n, int64_t *ns, const char **err);
/* Either of the two above, from text. */
int payload_time_ns(const void *p, size_t n, enum payload_tunit u, int64_t *ns, const char **err);

/* Writes a short excerpt of p for a log line: printable ASCII as is,
 * anything else as \xHH (\n, \r, \t, \\, \" as such), at most max_in input
 * bytes, "..." when cut.  out always NUL-terminated; returns strlen(out). */
size_t payload_excerpt(const void *p, size_t n, size_t max_in, char *out, size_t outlen);

/* JSON: one parsed document, then values by path ("env.rh", "list.0.t").
 * Bounds checked before cJSON allocates anything, so a message's memory does
 * not grow with max_payload: at most PAYLOAD_JSON_MAX_VALUES values (objects,
 * arrays, members and elements; counted as commas + brackets + 1) and
 * PAYLOAD_JSON_MAX_DEPTH levels of nesting.  Sensor payloads (Tasmota,
 * Zigbee2MQTT, ESP32 sketches) use tens of values and a few levels. */
#define PAYLOAD_JSON_MAX_DEPTH 32
#define PAYLOAD_JSON_MAX_VALUES 10000
/* The flat objects sensors send are read in place (codec/jsonscan.c, no
 * allocation); other documents through cJSON, with the same results. */
struct payload_json {
	const char *p;
	size_t n;
	void *root; /* cJSON *: the document is outside jsonscan's subset; NULL: read in place */
	struct jsonscan_index ix; /* read in place: the top-level members */
};
/* Into caller's storage (p must outlive j); payload_json_close after a 0. */
int payload_json_open(struct payload_json *j, const void *p, size_t n, const char **err);
void payload_json_close(struct payload_json *j);
/* The same, allocated (NULL: nothing to free). */
int payload_json_parse(const void *p, size_t n, struct payload_json **out, const char **err);
void payload_json_free(struct payload_json *j);
/* A number, a boolean (1/0), or a string holding a number or a boolean word. */
int payload_json_number(const struct payload_json *j, const char *path, double *out, const char **err);
/* A number (epoch in unit u) or a string (RFC 3339 or an epoch number). */
int payload_json_time(const struct payload_json *j, const char *path, enum payload_tunit u, int64_t *ns,
		      const char **err);

#endif
