/* lineproto.h - a pure InfluxDB line-protocol encoder (and a parser used by
 * tests, fuzzers and the MQTT line-protocol format).  No I/O, no allocation
 * besides the growable buffer.  Escaping follows
 * https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/
 * and nothing a caller passes can ever inject a second line. */
#ifndef CC_LINEPROTO_H
#define CC_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

struct lp_buf {
	char *data;
	size_t len, cap;
	size_t lines; /* complete lines in data */
};

/* LP_UINT is written "123u": InfluxDB 1.x refuses it (it needs uint support
 * compiled in), so the daemon never uses it for 1.x outputs. */
enum lp_ftype { LP_FLOAT, LP_INT, LP_UINT, LP_STRING, LP_BOOL };

struct lp_tag {
	const char *key;
	const char *value; /* NULL or "" -> tag omitted (InfluxDB rejects empty tag values) */
};

struct lp_field {
	const char *key;
	enum lp_ftype type;
	union {
		double f;
		int64_t i;
		uint64_t u;
		const char *s;
		int b;
	} v;
};

void lp_buf_init(struct lp_buf *b);
void lp_buf_reset(struct lp_buf *b); /* len = lines = 0, keeps memory */
void lp_buf_free(struct lp_buf *b);

/*
 * Appends one line terminated by '\n'.  Tags are written in the order given
 * (callers pass them sorted by key: InfluxDB's preferred order).  A float
 * field that is NaN or infinite is skipped (line protocol cannot carry it);
 * if no field remains the line is not written and -EINVAL is returned.
 * Floats are printed with the shortest "%.17g"-class form that round-trips.
 * ts_ns is nanoseconds since the epoch.  Returns 0 or -errno.
 *
 * What line protocol cannot carry is substituted, never escaped into a
 * second line: '\n' and '\r' anywhere (names, tags, strings) become ' ';
 * in measurement, tag keys/values and field keys a run of backslashes at the
 * end or right before a character escaped there (or '"' in field keys) is
 * written as '/' characters, since InfluxDB would read it as an escape.
 * -EINVAL: empty/NULL measurement, one starting with '#' (a comment) or a
 * tab (stripped by InfluxDB), empty tag or field key, key "time" (reserved),
 * duplicate tag keys, NULL string value, no writable field.  On error b is
 * left exactly as it was.
 */
int lp_encode(struct lp_buf *b, const char *measurement, const struct lp_tag *tags, size_t ntags,
	      const struct lp_field *fields, size_t nfields, int64_t ts_ns);

/*
 * The same lines in two steps, for a writer that sends many points of one
 * series (issue 18: escaping the names was a third of an MQTT message's
 * cost): lp_encode_series appends the series key (measurement and tags,
 * escaped and checked as lp_encode does; no '\n', not counted as a line),
 * to be kept; lp_encode_float appends series[0..n), then what lp_encode
 * would write after it for the one float field key=v and ts_ns.  Both
 * leave b as it was on error (-EINVAL: as lp_encode; for lp_encode_float
 * also a NaN or infinite v, which lp_encode would skip).
 */
int lp_encode_series(struct lp_buf *b, const char *measurement, const struct lp_tag *tags, size_t ntags);
int lp_encode_float(struct lp_buf *b, const char *series, size_t n, const char *key, double v, int64_t ts_ns);

/*
 * Parsed line: pointers into a private buffer owned by the struct.
 * lp_parse_line() parses exactly one line (without its '\n'); returns 0, or
 * -EINVAL with *err set to a static message (-ENOMEM: "out of memory").
 * One trailing '\n' is allowed; a line break anywhere else is an error.
 * Unescaping follows InfluxDB 1.x: "\c" gives c only where c is escapable
 * (measurement: , and space; tags: , = space; field keys: , = space ");
 * elsewhere the backslash is literal.  p needs no initialisation and owns
 * nothing after an error; free it with lp_point_free() after success.
 * Used by tests and fuzzing to prove the encoder round-trips, and by the
 * MQTT line-protocol format.  Never reads outside [line, line + len).
 */
#define LP_MAX_TAGS 64
#define LP_MAX_FIELDS 64
struct lp_point {
	char *measurement;
	size_t ntags, nfields;
	struct lp_tag tags[LP_MAX_TAGS];
	struct lp_field fields[LP_MAX_FIELDS];
	int has_ts;
	int64_t ts;
	char *storage; /* unescaped copies live here */
};
int lp_parse_line(const char *line, size_t len, struct lp_point *p, const char **err);
void lp_point_free(struct lp_point *p);

#endif
