/* test_payload.c - the MQTT payload parsers and topic patterns: what each
 * accepts, what it refuses and with which reason. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/payload.h"
#include "../../codec/topic.h"
#include "testlib.h"

static int num(const char *s, double *v)
{
	return payload_number(s, strlen(s), v, NULL);
}

static void test_number_accepts_decimal_text_with_spaces(void)
{
	double v = 0;
	CHECK_INT(num("3.5", &v), 0);
	CHECK_NEAR(v, 3.5, 0);
	CHECK_INT(num("  -200\n", &v), 0);
	CHECK_NEAR(v, -200, 0);
	CHECK_INT(num("1e3", &v), 0);
	CHECK_NEAR(v, 1000, 0);
}

static void test_number_refuses_garbage_nan_inf_hex_and_trailing_bytes(void)
{
	double v;
	CHECK_INT(num("", &v), -EINVAL);
	CHECK_INT(num("   ", &v), -EINVAL);
	CHECK_INT(num("abc", &v), -EDOM);
	CHECK_INT(num("3.5C", &v), -EDOM);
	CHECK_INT(num("0x1A", &v), -EDOM);
	CHECK_INT(num("NaN", &v), -ERANGE);
	CHECK_INT(num("-inf", &v), -ERANGE);
	CHECK_INT(num("1e999", &v), -ERANGE);
	CHECK_INT(num("1 2", &v), -EDOM);
}

static void test_bool_words(void)
{
	const char *t[] = { "true", "1", "ON", "open", " On " }, *f[] = { "false", "0", "OFF", "Closed" };
	double v;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_INT(payload_bool(t[i], strlen(t[i]), &v, NULL), 0);
		CHECK_NEAR(v, 1, 0);
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		CHECK_INT(payload_bool(f[i], strlen(f[i]), &v, NULL), 0);
		CHECK_NEAR(v, 0, 0);
	}
	CHECK_INT(payload_bool("ajar", 4, &v, NULL), -EDOM);
	CHECK_INT(payload_bool("", 0, &v, NULL), -EINVAL);
}

static void test_utf8_check(void)
{
	CHECK_INT(payload_utf8_check("Lục Ngạn", strlen("Lục Ngạn")), 0);
	CHECK_INT(payload_utf8_check("\xc3\x28", 2), -EILSEQ);       /* bad continuation */
	CHECK_INT(payload_utf8_check("\xc0\xaf", 2), -EILSEQ);       /* overlong */
	CHECK_INT(payload_utf8_check("\xed\xa0\x80", 3), -EILSEQ);   /* surrogate */
	CHECK_INT(payload_utf8_check("\xe2\x82", 2), -EILSEQ);       /* truncated */
	CHECK_INT(payload_utf8_check("a\0b", 3), -EILSEQ);           /* NUL */
	CHECK_INT(payload_utf8_check("\xf4\x90\x80\x80", 4), -EILSEQ); /* > U+10FFFF */
	/* the eight-bytes-at-a-time ASCII path: a NUL, a bad or a good sequence
	 * at every place of longer payloads */
	for (size_t len = 0; len < 40; len++)
		for (size_t at = 0; at + 3 <= len; at++) {
			char b[40];

			memset(b, 'a', len);
			b[at] = '\0';
			CHECK_INT(payload_utf8_check(b, len), -EILSEQ);
			memcpy(b + at, "\xc3\x28" "a", 3);
			CHECK_INT(payload_utf8_check(b, len), -EILSEQ);
			memcpy(b + at, "\xe1\xbb\x91", 3); /* ố */
			CHECK_INT(payload_utf8_check(b, len), 0);
			if (at + 3 < len) { /* a lone continuation byte at the end */
				b[len - 1] = '\x80';
				CHECK_INT(payload_utf8_check(b, len), -EILSEQ);
			}
		}
}

static void test_epoch_units_by_magnitude(void)
{
	int64_t ns;
	CHECK_INT(payload_epoch_ns(1781251200, PAYLOAD_T_AUTO, &ns, NULL), 0);
	CHECK_INT(ns, 1781251200LL * 1000000000);
	CHECK_INT(payload_epoch_ns(1781251200123.0, PAYLOAD_T_AUTO, &ns, NULL), 0);
	CHECK_INT(ns, 1781251200123LL * 1000000);
	CHECK_INT(payload_epoch_ns(1781251200123456.0, PAYLOAD_T_AUTO, &ns, NULL), 0);
	CHECK_INT(ns, 1781251200123456LL * 1000);
	CHECK_INT(payload_epoch_ns(1781251200.5, PAYLOAD_T_S, &ns, NULL), 0);
	CHECK_INT(ns, 1781251200500000000LL);
	CHECK_INT(payload_epoch_ns(1e30, PAYLOAD_T_S, &ns, NULL), -ERANGE);
}

static void test_rfc3339(void)
{
	int64_t ns;
	const char *s = "2026-06-12T08:00:00+07:00";
	CHECK_INT(payload_rfc3339_ns(s, strlen(s), &ns, NULL), 0);
	CHECK_INT(ns, 1781226000LL * 1000000000); /* 01:00 UTC */
	s = "2026-06-12 01:00:00.25Z";
	CHECK_INT(payload_rfc3339_ns(s, strlen(s), &ns, NULL), 0);
	CHECK_INT(ns, 1781226000LL * 1000000000 + 250000000);
	s = "1970-01-01T00:00:00Z";
	CHECK_INT(payload_rfc3339_ns(s, strlen(s), &ns, NULL), 0);
	CHECK_INT(ns, 0);
	s = "2026-06-12T08:00:00"; /* no offset: local time of some device, refused */
	CHECK_INT(payload_rfc3339_ns(s, strlen(s), &ns, NULL), -EINVAL);
	s = "2025-02-29T00:00:00Z";
	CHECK_INT(payload_rfc3339_ns(s, strlen(s), &ns, NULL), -EINVAL);
	s = "2026-13-01T00:00:00Z";
	CHECK_INT(payload_rfc3339_ns(s, strlen(s), &ns, NULL), -EINVAL);
	s = "3000-01-01T00:00:00Z";
	CHECK_INT(payload_rfc3339_ns(s, strlen(s), &ns, NULL), -ERANGE);
	CHECK_INT(payload_time_ns("1781226000", 10, PAYLOAD_T_AUTO, &ns, NULL), 0);
	CHECK_INT(ns, 1781226000LL * 1000000000);
}

static void test_json_paths_types_and_refusals(void)
{
	const char *doc = "{\"t\": 4.25, \"env\": {\"rh\": \"92.5\"}, \"door\": true, \"st\": \"OFF\", \"list\": [1, {\"x\": 7}],"
			  " \"o\": {}, \"n\": null, \"ts\": \"2026-06-12T01:00:00Z\"}";
	struct payload_json *j;
	double v;
	int64_t ns;

	CHECK_INT(payload_json_parse(doc, strlen(doc), &j, NULL), 0);
	if (!j)
		return;
	CHECK_INT(payload_json_number(j, "t", &v, NULL), 0);
	CHECK_NEAR(v, 4.25, 0);
	CHECK_INT(payload_json_number(j, "env.rh", &v, NULL), 0);
	CHECK_NEAR(v, 92.5, 0);
	CHECK_INT(payload_json_number(j, "door", &v, NULL), 0);
	CHECK_NEAR(v, 1, 0);
	CHECK_INT(payload_json_number(j, "st", &v, NULL), 0);
	CHECK_NEAR(v, 0, 0);
	CHECK_INT(payload_json_number(j, "list.1.x", &v, NULL), 0);
	CHECK_NEAR(v, 7, 0);
	CHECK_INT(payload_json_number(j, "o", &v, NULL), -EDOM);
	CHECK_INT(payload_json_number(j, "n", &v, NULL), -ENOENT);
	CHECK_INT(payload_json_number(j, "nope.x", &v, NULL), -ENOENT);
	CHECK_INT(payload_json_number(j, "list.9", &v, NULL), -ENOENT);
	CHECK_INT(payload_json_time(j, "ts", PAYLOAD_T_AUTO, &ns, NULL), 0);
	CHECK_INT(ns, 1781226000LL * 1000000000);
	payload_json_free(j);

	CHECK_INT(payload_json_parse("{\"t\": 4", 7, &j, NULL), -EINVAL);
	CHECK(j == NULL);
	CHECK_INT(payload_json_parse("{} x", 4, &j, NULL), -EINVAL);
	CHECK_INT(payload_json_parse("", 0, &j, NULL), -EINVAL);
	CHECK_INT(payload_json_parse("{\"t\": 1e999}", 12, &j, NULL), 0);
	if (j) {
		CHECK_INT(payload_json_number(j, "t", &v, NULL), -ERANGE);
		payload_json_free(j);
	}
}

/* {"v":[[[...[1]...]]]} with `levels` levels of nesting in all */
static char *nested(int levels)
{
	char *s = malloc((size_t)levels * 2 + 16), *p = s;

	p += sprintf(p, "{\"v\":");
	for (int i = 1; i < levels; i++)
		*p++ = '[';
	*p++ = '1';
	for (int i = 1; i < levels; i++)
		*p++ = ']';
	strcpy(p, "}");
	return s;
}

/* [0,0,...,0]: an array and n - 1 elements, n values */
static char *wide(int n)
{
	char *s = malloc((size_t)n * 2 + 4), *p = s;

	*p++ = '[';
	for (int i = 0; i < n - 1; i++)
		p += sprintf(p, i ? ",0" : "0");
	strcpy(p, "]");
	return s;
}

static void test_json_depth_and_value_count_are_bounded_before_parsing(void)
{
	struct payload_json *j = NULL;
	const char *err = NULL;
	char *s;
	double v;

	s = nested(PAYLOAD_JSON_MAX_DEPTH);
	CHECK_INT(payload_json_parse(s, strlen(s), &j, NULL), 0);
	payload_json_free(j);
	free(s);
	s = nested(PAYLOAD_JSON_MAX_DEPTH + 1);
	CHECK_INT(payload_json_parse(s, strlen(s), &j, &err), -E2BIG);
	CHECK(j == NULL);
	CHECK_STR(err, "JSON nested deeper than 32 levels");
	free(s);

	s = wide(PAYLOAD_JSON_MAX_VALUES);
	CHECK_INT(payload_json_parse(s, strlen(s), &j, NULL), 0);
	payload_json_free(j);
	free(s);
	s = wide(PAYLOAD_JSON_MAX_VALUES + 1);
	CHECK_INT(payload_json_parse(s, strlen(s), &j, &err), -E2BIG);
	CHECK(j == NULL);
	CHECK_STR(err, "JSON with more than 10000 values");
	free(s);

	/* the same bound on an object the in-place reader takes (it counts
	 * the values itself): {"v":[0,...]} is k + 2 values */
	for (int k = PAYLOAD_JSON_MAX_VALUES - 2; k <= PAYLOAD_JSON_MAX_VALUES - 1; k++) {
		char *p = s = malloc((size_t)k * 2 + 16);

		p += sprintf(p, "{\"v\":[");
		for (int i = 0; i < k; i++)
			p += sprintf(p, i ? ",0" : "0");
		strcpy(p, "]}");
		if (k + 2 <= PAYLOAD_JSON_MAX_VALUES) {
			CHECK_INT(payload_json_parse(s, strlen(s), &j, NULL), 0);
			CHECK(j && j->root == NULL);
			payload_json_free(j);
		} else {
			CHECK_INT(payload_json_parse(s, strlen(s), &j, &err), -E2BIG);
			CHECK_STR(err, "JSON with more than 10000 values");
		}
		free(s);
	}

	/* brackets and commas inside strings (escaped quotes too) are text */
	{
		char *p = s = malloc(2 * PAYLOAD_JSON_MAX_VALUES + 64);
		p += sprintf(p, "{\"s\": \"\\\"");
		for (int i = 0; i < 2 * PAYLOAD_JSON_MAX_VALUES; i++)
			*p++ = i % 2 ? ',' : '[';
		strcpy(p, "\", \"t\": 4.5}");
	}
	CHECK_INT(payload_json_parse(s, strlen(s), &j, &err), 0);
	if (j) {
		CHECK_INT(payload_json_number(j, "t", &v, NULL), 0);
		CHECK_NEAR(v, 4.5, 0);
		payload_json_free(j);
	}
	free(s);
}

static void test_excerpt_escapes_and_truncates(void)
{
	char out[64];
	payload_excerpt("a\"b\\\n\x01\xff", 7, 64, out, sizeof(out));
	CHECK_STR(out, "a\\\"b\\\\\\n\\x01\\xff");
	payload_excerpt("0123456789", 10, 4, out, sizeof(out));
	CHECK_STR(out, "0123...");
	payload_excerpt("\x01\x01\x01\x01\x01\x01", 6, 64, out, 12);
	CHECK(strlen(out) < 12);
}

static int match(const struct topic_pat *p, const char *t, const char *vals[], size_t lens[])
{
	return topic_match(p, t, strlen(t), vals, lens);
}

static void test_topic_captures_and_wildcards(void)
{
	struct topic_pat p;
	const char *err, *v[TOPIC_CAP_N];
	size_t l[TOPIC_CAP_N];

	CHECK_INT(topic_parse("sensors/{room}/{sensor}/temperature", &p, &err), 0);
	CHECK_STR(p.filter, "sensors/+/+/temperature");
	CHECK_INT(match(&p, "sensors/A/th-1/temperature", v, l), 1);
	CHECK(l[TOPIC_CAP_ROOM] == 1 && strncmp(v[TOPIC_CAP_ROOM], "A", 1) == 0);
	CHECK(l[TOPIC_CAP_SENSOR] == 4 && strncmp(v[TOPIC_CAP_SENSOR], "th-1", 4) == 0);
	CHECK_INT(match(&p, "sensors/A/th-1/humidity", v, l), 0);
	CHECK_INT(match(&p, "sensors/A/th-1/temperature/x", v, l), 0);
	CHECK_INT(match(&p, "sensors/A/temperature", v, l), 0);
	topic_free(&p);

	CHECK_INT(topic_parse("$share/cc/site/{site}/{room}/#", &p, &err), 0);
	CHECK_STR(p.filter, "$share/cc/site/+/+/#");
	CHECK_STR(p.share_group, "cc");
	CHECK_INT(match(&p, "site/s1/R2/a/b", v, l), 1);
	CHECK(l[TOPIC_CAP_SITE] == 2);
	CHECK_INT(match(&p, "site/s1/R2", v, l), 1); /* '#' includes the parent */
	CHECK_INT(match(&p, "site/s1", v, l), 0);
	topic_free(&p);

	CHECK_INT(topic_parse("#", &p, &err), 0);
	CHECK_INT(match(&p, "$SYS/broker/uptime", v, l), 0);
	CHECK_INT(match(&p, "a/b", v, l), 1);
	topic_free(&p);
}

static void test_topic_refusals(void)
{
	const char *bad[] = { "", "a/#/b", "a/b#", "a+/b", "a/th-{sensor}", "a/{nope}", "a/{room}/{room}",
			      "$share//a", "$share/g", "$share/g/", "a/{room" };
	struct topic_pat p;
	const char *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		CHECK_INT(topic_parse(bad[i], &p, &err), -EINVAL);
		CHECK(err != NULL);
	}
}

int main(void)
{
	tl_prog = "unit/test_payload";
	RUN(test_number_accepts_decimal_text_with_spaces);
	RUN(test_number_refuses_garbage_nan_inf_hex_and_trailing_bytes);
	RUN(test_bool_words);
	RUN(test_utf8_check);
	RUN(test_epoch_units_by_magnitude);
	RUN(test_rfc3339);
	RUN(test_json_paths_types_and_refusals);
	RUN(test_json_depth_and_value_count_are_bounded_before_parsing);
	RUN(test_excerpt_escapes_and_truncates);
	RUN(test_topic_captures_and_wildcards);
	RUN(test_topic_refusals);
	return TL_DONE();
}
