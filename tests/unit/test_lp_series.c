/* test_lp_series.c - a line written in two steps (lp_encode_series once per
 * channel, then lp_encode_float per sample; pipeline_encode_with_series, as
 * the MQTT driver writes its batches) is byte for byte the line lp_encode /
 * pipeline_encode write, names needing escapes and substitutions included;
 * and what cannot be encoded is refused the same way. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/lineproto.h"
#include "../../daemon/pipeline.h"
#include "testlib.h"

static const char *const names[] = {
	"temperature", "air temp", "a,b", "a=b", "x\\", "x\\ y", "\\\\", "line\nbreak", "r\"q", "Bố Hạ", "#c", "t\tab",
	"", NULL,
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void test_series_then_float_is_what_lp_encode_writes(void)
{
	static const double vals[] = { 4.25, -18.5, 0, -0.0, 93.1, 1e-7, 123456789.125, 1e300, NAN, INFINITY };
	struct lp_buf a, b, s;
	size_t same = 0;

	lp_buf_init(&a);
	lp_buf_init(&b);
	lp_buf_init(&s);
	for (size_t m = 0; m < NNAMES; m++)
		for (size_t t = 0; t < NNAMES; t++)
			for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
				struct lp_tag tags[] = { { "channel", names[t] }, { "room", "A" }, { "site", names[(t + 3) % NNAMES] } };
				struct lp_field f = { .key = "value", .type = LP_FLOAT, .v.f = vals[v] };
				int64_t ts = (int64_t)(m * 7919 + t) * 1000003 - 5;
				int ra, rs, rb = -EINVAL;

				lp_buf_reset(&a);
				lp_buf_reset(&b);
				lp_buf_reset(&s);
				ra = lp_encode(&a, names[m], tags, 3, &f, 1, ts);
				rs = lp_encode_series(&s, names[m], tags, 3);
				if (rs == 0) {
					CHECK_INT(s.lines, 0);
					rb = lp_encode_float(&b, s.data, s.len, "value", vals[v], ts);
				}
				CHECK_INT(rb, ra);
				CHECK_INT(b.len, a.len);
				CHECK_INT(b.lines, a.lines);
				if (ra == 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0)
					same++;
				else if (ra == 0)
					CHECK_STR(b.data, a.data);
			}
	CHECK(same > 500);
	lp_buf_free(&a);
	lp_buf_free(&b);
	lp_buf_free(&s);
}

static void test_pipeline_writes_the_same_lines_with_a_kept_series(void)
{
	struct cc_channel ch = { .site = "hub", .room = "r 1", .sensor = "s,1", .name = "temperature",
				 .quantity = "temperature", .unit = "C", .id = "s,1/temperature" };
	struct cc_sample smp[] = {
		{ .ch = &ch, .ts_ns = 1764800000123456000, .value = 4.25, .quality = CC_Q_GOOD },
		{ .ch = &ch, .ts_ns = 1764800000123456001, .value = 40.5, .quality = CC_Q_OUT_OF_RANGE },
		{ .ch = &ch, .ts_ns = 1764800000123456002, .value = -1, .quality = CC_Q_GOOD },
	};
	struct lp_buf a, b, s;

	lp_buf_init(&a);
	lp_buf_init(&b);
	lp_buf_init(&s);
	pipeline_encode(&a, smp, 3);
	CHECK_INT(pipeline_encode_series(&s, &ch), 0);
	for (int i = 0; i < 3; i++)
		pipeline_encode_with_series(&b, s.data, s.len, &smp[i]);
	CHECK_INT(b.lines, 3);
	CHECK_STR(b.data, a.data);
	ch.quantity = "";
	lp_buf_reset(&s);
	CHECK_INT(pipeline_encode_series(&s, &ch), -EINVAL);
	CHECK_INT(s.len, 0);
	lp_buf_free(&a);
	lp_buf_free(&b);
	lp_buf_free(&s);
}

/* Every field key, plain ("value": one reservation and copies) or needing
 * escapes (the appends), appended after lines already in the buffer: the
 * same bytes as lp_encode, the earlier lines untouched. */
static void test_float_lines_with_any_key_append_what_lp_encode_writes(void)
{
	struct lp_buf a, b, s;
	size_t same = 0;

	lp_buf_init(&a);
	lp_buf_init(&b);
	lp_buf_init(&s);
	CHECK_INT(lp_encode_series(&s, "m", NULL, 0), 0);
	for (size_t k = 0; k < NNAMES; k++) {
		struct lp_field f = { .key = names[k], .type = LP_FLOAT, .v.f = 4.25 + (double)k };
		int64_t ts = 1764800000123456000 + (int64_t)k;
		size_t before = a.len;
		int ra = lp_encode(&a, "m", NULL, 0, &f, 1, ts);
		int rb = lp_encode_float(&b, s.data, s.len, names[k], f.v.f, ts);

		CHECK_INT(rb, ra);
		CHECK_INT(b.len, a.len);
		CHECK_INT(b.lines, a.lines);
		if (a.len == b.len && memcmp(a.data, b.data, a.len) == 0 && b.data[b.len] == '\0')
			same += ra == 0 && a.len > before;
		else
			CHECK_STR(b.data, a.data);
	}
	CHECK(same >= 10);
	lp_buf_free(&a);
	lp_buf_free(&b);
	lp_buf_free(&s);
}

int main(void)
{
	tl_prog = "unit/test_lp_series";
	RUN(test_series_then_float_is_what_lp_encode_writes);
	RUN(test_pipeline_writes_the_same_lines_with_a_kept_series);
	RUN(test_float_lines_with_any_key_append_what_lp_encode_writes);
	return TL_DONE();
}
