/* test_jsonscan.c - the in-place JSON reader (codec/jsonscan.c): which
 * documents it reads itself and which it leaves to cJSON, and that on every
 * document and path payload_json_number/_time give through it exactly what
 * they give through cJSON (differential, table-driven, hostile inputs
 * included). */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/jsonscan.h"
#include "../../codec/payload.h"
#include "testlib.h"

struct doc {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int scanned; /* 1: jsonscan reads it in place; 0: it falls back to cJSON */
};

static const struct doc docs[] = {
	{ "{\"t\":4.25,\"rh\":93.1}", 0, 1 },
	{ "{\"time\":1764800000123456,\"t\":-0.5,\"rh\":9.31e1}", 0, 1 },
	/* ESP32 sketch, Zigbee2MQTT, Tasmota shapes */
	{ " {\"temperature\": 4.2, \"humidity\": 91, \"ok\": true}\r\n", 0, 1 },
	{ "{\"battery\":97,\"humidity\":91.5,\"linkquality\":120,\"temperature\":4.3,\"voltage\":3000,"
	  "\"update\":{\"state\":\"idle\",\"installed_version\":-1},\"power_outage_count\":null}", 0, 1 },
	{ "{\"Time\":\"2026-06-12T08:00:00Z\",\"AM2301\":{\"Temperature\":4.3,\"Humidity\":91.0},\"TempUnit\":\"C\"}", 0, 1 },
	{ "{\"list\":[{\"t\":1},{\"t\":2,\"x\":[[],{}]}],\"env\":{\"rh\":\"93.5\"},\"on\":\"ON\"}", 0, 1 },
	{ "{\"t\":1,\"t\":2}", 0, 1 },                       /* duplicate keys: the first, as cJSON */
	{ "{\"t\":1e999,\"rh\":-1e999}", 0, 1 },              /* huge numbers: not finite */
	{ "{\"t\":123456789012345678901234567890123456789012345678901234567890123}", 0, 1 }, /* 63 digits */
	{ "{\"t\":1}\0\0", 9, 1 },                            /* the NUL some C publishers append */
	{ "{}", 0, 1 },
	/* members past the 16 the check indexes, duplicates on both sides of it */
	{ "{\"a0\":0,\"rh\":5,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,"
	  "\"a10\":10,\"a11\":11,\"a12\":12,\"a13\":13,\"a14\":14,\"a15\":15,\"t\":1,\"rh\":6,\"t\":3,"
	  "\"time\":1764800000}", 0, 1 },
	{ " { \"tt\" : 1 ,\"t\"\t:\n\"4.5\" , \"rh\" :{ \"t\":2} ,\"\":7} ", 0, 1 },
	/* left to cJSON: escapes, long numbers, leniencies cJSON has */
	{ "{\"t\\u0041\":1,\"t\":2}", 0, 0 },
	{ "{\"s\":\"a\\\"b\",\"t\":3}", 0, 0 },
	{ "{\"t\":1234567890123456789012345678901234567890123456789012345678901234}", 0, 0 }, /* 64 digits */
	{ "{\"t\":01}", 0, 0 },
	{ "{\"t\":+1}", 0, 0 },
	{ "{\"t\":.5}", 0, 0 },
	{ "{\"t\":1.}", 0, 0 },
	{ "{\"t\":\x01 1}", 0, 0 },
	{ "\xef\xbb\xbf{\"t\":1}", 0, 0 },
	{ "[1,2]", 0, 0 },
	{ "4.5", 0, 0 },
	/* refused by both: truncated, garbage, trailing bytes, NUL inside */
	{ "{\"t\":1", 0, 0 },
	{ "{\"t\":", 0, 0 },
	{ "{\"t\"", 0, 0 },
	{ "{\"t", 0, 0 },
	{ "{", 0, 0 },
	{ "{\"t\":1}x", 0, 0 },
	{ "{\"t\":1}\0x", 9, 0 },
	{ "{\"t\":1,}", 0, 0 },
	{ "{\"t\":tru}", 0, 0 },
	{ "{\"t\":nul}", 0, 0 },
	{ "{\"t\" 1}", 0, 0 },
	{ "{t:1}", 0, 0 },
	{ "{\"t\":[1,2}", 0, 0 },
	{ "{\"t\":-}", 0, 0 },
	{ "{\"t\":1e}", 0, 0 },
	{ "{\"t\":\"abc}", 0, 0 },
	{ "garbage", 0, 0 },
};

static const char *const paths[] = { "t", "rh", "time", "temperature", "humidity", "ok", "update.state",
				     "update.installed_version", "power_outage_count", "AM2301.Temperature",
				     "Time", "list.0.t", "list.1.t", "list.2.t", "list.x", "list.-1.t", "env.rh",
				     "on", "x", "t.0", "", "list", "s" };

static size_t len_of(const struct doc *d)
{
	return d->len ? d->len : strlen(d->text);
}

static void test_scanner_reads_the_flat_shapes_and_declines_the_rest(void)
{
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int rc = jsonscan_check(docs[i].text, len_of(&docs[i]), PAYLOAD_JSON_MAX_DEPTH);
		if ((rc == 0) != docs[i].scanned)
			fprintf(stderr, "  doc %zu: %s\n", i, docs[i].text);
		CHECK_INT(rc == 0, docs[i].scanned);
	}
}

/* payload_json through the scanner (as opened) and through cJSON (forced)
 * agree on every path: return code, value, time. */
static void test_every_path_reads_the_same_through_the_scanner_as_through_cjson(void)
{
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct payload_json a, b;
		size_t n = len_of(&docs[i]);
		int rc = payload_json_open(&a, docs[i].text, n, NULL);

		if (rc < 0 || a.root) { /* refused, or through cJSON anyway */
			if (rc == 0)
				payload_json_close(&a);
			CHECK(!docs[i].scanned || rc < 0);
			continue;
		}
		b = a;
		b.root = cJSON_ParseWithLength(docs[i].text, n);
		CHECK(b.root != NULL);
		for (size_t k = 0; b.root && k < sizeof(paths) / sizeof(paths[0]); k++) {
			double va = -7, vb = -7;
			int64_t ta = -7, tb = -7;
			int ra = payload_json_number(&a, paths[k], &va, NULL);
			int rb = payload_json_number(&b, paths[k], &vb, NULL);
			if (ra != rb || (ra == 0 && va != vb))
				fprintf(stderr, "  doc %zu path %s: scan %d %g, cJSON %d %g\n", i, paths[k], ra, va, rb, vb);
			CHECK_INT(ra, rb);
			CHECK(ra != 0 || va == vb);
			ra = payload_json_time(&a, paths[k], PAYLOAD_T_AUTO, &ta, NULL);
			rb = payload_json_time(&b, paths[k], PAYLOAD_T_AUTO, &tb, NULL);
			CHECK_INT(ra, rb);
			CHECK(ra != 0 || ta == tb);
		}
		payload_json_close(&b);
		payload_json_close(&a);
	}
}

static void test_values_types_and_refusals_in_place(void)
{
	const char *t = "{\"t\":4.25,\"b\":false,\"o\":{},\"n\":null,\"s\":\"x\",\"big\":1e999}";
	struct payload_json j;
	double v;

	CHECK_INT(payload_json_open(&j, t, strlen(t), NULL), 0);
	CHECK(j.root == NULL); /* read in place: nothing allocated */
	CHECK_INT(payload_json_number(&j, "t", &v, NULL), 0);
	CHECK_NEAR(v, 4.25, 0);
	CHECK_INT(payload_json_number(&j, "b", &v, NULL), 0);
	CHECK_NEAR(v, 0, 0);
	CHECK_INT(payload_json_number(&j, "o", &v, NULL), -EDOM);
	CHECK_INT(payload_json_number(&j, "n", &v, NULL), -ENOENT);
	CHECK_INT(payload_json_number(&j, "missing", &v, NULL), -ENOENT);
	CHECK_INT(payload_json_number(&j, "s", &v, NULL), -EDOM);
	CHECK_INT(payload_json_number(&j, "big", &v, NULL), -ERANGE);
	payload_json_close(&j);
}

/* Deep nesting stops at the bound before any reading; just under it, the
 * scanner reads it; hostile depth never recurses past the bound. */
static void test_deep_nesting_is_bounded(void)
{
	char buf[512];
	size_t n = 0;
	struct payload_json j;
	double v;

	for (int i = 0; i < PAYLOAD_JSON_MAX_DEPTH - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"a\":");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"t\":1}");
	for (int i = 0; i < PAYLOAD_JSON_MAX_DEPTH - 1; i++)
		buf[n++] = '}';
	CHECK_INT(jsonscan_check(buf, n, PAYLOAD_JSON_MAX_DEPTH), 0);
	CHECK_INT(jsonscan_check(buf, n, PAYLOAD_JSON_MAX_DEPTH - 1), -ENOTSUP);
	CHECK_INT(payload_json_open(&j, buf, n, NULL), 0);
	CHECK_INT(payload_json_number(&j, "a.a.a", &v, NULL), -EDOM);
	payload_json_close(&j);
	{
		static char deep[100001];
		memset(deep, '[', sizeof(deep) - 1);
		CHECK_INT(jsonscan_check(deep, sizeof(deep) - 1, PAYLOAD_JSON_MAX_DEPTH), -ENOTSUP);
		memset(deep, '{', sizeof(deep) - 1);
		CHECK_INT(jsonscan_check(deep, sizeof(deep) - 1, PAYLOAD_JSON_MAX_DEPTH), -ENOTSUP);
	}
}

/* jsonscan_number's fast path (no strtod for plain decimals) gives the very
 * double strtod gives, bit for bit: edge cases around 2^53 and 22 decimals,
 * then 200,000 seeded random decimals of the shapes sensors send */
static int same_as_strtod(const char *t)
{
	struct jsonscan_val v = { .type = JSONSCAN_NUMBER, .p = t, .n = strlen(t) };
	double a, b = strtod(t, NULL);

	if (jsonscan_number(&v, &a) != 0)
		return !isfinite(b);
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static void test_numbers_read_bit_for_bit_as_strtod_reads_them(void)
{
	static const char *const edge[] = {
		"0", "-0", "0.0", "-0.0", "4.25", "-18.5", "93.1", "0.1", "0.3", "1e3", "9.31e1", "-1E-2",
		"9007199254740992", "9007199254740993", "9007199254740991.5", "18446744073709551615",
		"18446744073709551616", "99999999999999999999", "1764800000123456", "1764800000123.456",
		"0.0000000000000000000001", "0.00000000000000000000001", "123456789.0123456789012",
		"1.7976931348623157", "2.2250738585072014", "0.000123", "12345678901234567890.5",
	};
	char t[64];

	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		CHECK(same_as_strtod(edge[i]));
	srand(18);
	for (int i = 0; i < 200000; i++) {
		int ip = rand() % 4, dp = rand() % 24;
		long long a = (long long)rand() * rand() % (ip == 0 ? 1 : ip == 1 ? 100 : ip == 2 ? 100000 : 2000000000);
		int n = snprintf(t, sizeof(t), "%s%lld", rand() % 3 ? "" : "-", a);

		if (dp) {
			t[n++] = '.';
			for (int k = 0; k < dp; k++)
				t[n++] = (char)('0' + rand() % 10);
			t[n] = '\0';
		}
		if (!same_as_strtod(t)) {
			CHECK(same_as_strtod(t));
			return;
		}
	}
}

int main(void)
{
	tl_prog = "unit/test_jsonscan";
	RUN(test_scanner_reads_the_flat_shapes_and_declines_the_rest);
	RUN(test_every_path_reads_the_same_through_the_scanner_as_through_cjson);
	RUN(test_values_types_and_refusals_in_place);
	RUN(test_deep_nesting_is_bounded);
	RUN(test_numbers_read_bit_for_bit_as_strtod_reads_them);
	return TL_DONE();
}
