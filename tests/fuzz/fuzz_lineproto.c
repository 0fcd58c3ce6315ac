/* fuzz_lineproto.c - the line-protocol parser must survive any bytes, and
 * the encoder's invariant must hold for whatever the parser accepts:
 * re-encoding a parsed point gives exactly one line that parses back to the
 * same measurement, tags and field count. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/lineproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_point p, q;
	struct lp_buf b;
	const char *err;

	memset(&p, 0, sizeof(p));
	if (lp_parse_line((const char *)data, size, &p, &err) != 0)
		return 0; /* p owns nothing after an error */
	lp_buf_init(&b);
	if (lp_encode(&b, p.measurement, p.tags, p.ntags, p.fields, p.nfields, p.has_ts ? p.ts : 0) == 0) {
		/* exactly one line, ending with the only newline */
		if (b.lines != 1 || memchr(b.data, '\n', b.len) != b.data + b.len - 1)
			abort();
		memset(&q, 0, sizeof(q));
		if (lp_parse_line(b.data, b.len - 1, &q, &err) != 0)
			abort();
		/* A backslash run the encoder had to rewrite as '/' (see
		 * lineproto.h) is the one documented difference. */
		if ((!strchr(p.measurement, '\\') && strcmp(p.measurement, q.measurement) != 0) ||
		    q.ntags != p.ntags || q.nfields > p.nfields)
			abort();
		lp_point_free(&q);
	}
	lp_buf_free(&b);
	lp_point_free(&p);
	return 0;
}
