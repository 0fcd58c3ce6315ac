/* test_lineproto.c - the line-protocol encoder escapes every special
 * character, can never emit a second line, round-trips floats exactly, and
 * the parser gives back what the encoder wrote (and survives garbage). */
#include "../../codec/lineproto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../daemon/sample.h"
#include "../../daemon/pipeline.h"
#include "../../daemon/util.h"
#include "testlib.h"

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* Encodes one point; returns the line (without '\n') in a static buffer, or
 * NULL when lp_encode refused it. */
static const char *enc(const char *m, const struct lp_tag *t, size_t nt, const struct lp_field *f, size_t nf,
		       int64_t ts)
{
	static char out[4096];
	struct lp_buf b;
	const char *res = NULL;

	lp_buf_init(&b);
	if (lp_encode(&b, m, t, nt, f, nf, ts) == 0) {
		CHECK(b.lines == 1);
		CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
		CHECK_INT(count_char(b.data, b.len, '\n'), 1);
		CHECK_INT(count_char(b.data, b.len, '\r'), 0);
		if (b.len < sizeof(out)) {
			memcpy(out, b.data, b.len - 1);
			out[b.len - 1] = '\0';
			res = out;
		}
	}
	lp_buf_free(&b);
	return res;
}

/* Parses a copy of exactly len bytes on the heap, so ASan sees any read past it. */
static int parse_exact(const char *line, size_t len, struct lp_point *p, const char **err)
{
	char *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, line, len);
	r = lp_parse_line(copy, len, p, err);
	/* the point must not point into the caller's line */
	free(copy);
	return r;
}

static struct lp_field ffloat(const char *k, double v)
{
	struct lp_field f = { .key = k, .type = LP_FLOAT, .v.f = v };
	return f;
}

static struct lp_field fint(const char *k, int64_t v)
{
	struct lp_field f = { .key = k, .type = LP_INT, .v.i = v };
	return f;
}

static struct lp_field fstr(const char *k, const char *v)
{
	struct lp_field f = { .key = k, .type = LP_STRING, .v.s = v };
	return f;
}

/* The documented substitutions, written independently of the encoder:
 * '\n' and '\r' -> ' '; a backslash run at the end of a name or before a
 * character escaped (or, in field keys, unescaped) there -> '/' each. */
enum where { W_MEAS, W_TAG, W_FKEY, W_STR };

static int special_after_backslash(enum where w, char c)
{
	switch (w) {
	case W_MEAS: return c == ',' || c == ' ';
	case W_TAG: return c == ',' || c == ' ' || c == '=';
	case W_FKEY: return c == ',' || c == ' ' || c == '=' || c == '"';
	case W_STR: return 0;
	}
	return 0;
}

static char *expected(const char *s, enum where w)
{
	size_t n = strlen(s);
	char *o = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		o[i] = (s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
	o[n] = '\0';
	if (w == W_STR)
		return o;
	for (size_t i = 0; i < n;) {
		size_t j = i;

		if (o[i] != '\\') {
			i++;
			continue;
		}
		while (j < n && o[j] == '\\')
			j++;
		if (j == n || special_after_backslash(w, o[j]))
			memset(o + i, '/', j - i);
		i = j;
	}
	return o;
}

/* --- exact output ----------------------------------------------------- */

static void test_plain_point_is_written_as_documented(void)
{
	struct lp_tag t[] = { { "room", "A" }, { "site", "packhouse-1" } };
	struct lp_field f[] = { ffloat("value", 4.5) };

	CHECK_STR(enc("temperature", t, 2, f, 1, 1700000000000000000LL),
		  "temperature,room=A,site=packhouse-1 value=4.5 1700000000000000000");
}

static void test_measurement_escapes_comma_and_space_but_not_equals(void)
{
	struct lp_field f[] = { ffloat("v", 1) };

	CHECK_STR(enc("a,b c=d", NULL, 0, f, 1, 0), "a\\,b\\ c=d v=1 0");
	CHECK_STR(enc(" lead", NULL, 0, f, 1, 0), "\\ lead v=1 0");
}

static void test_tag_keys_and_values_escape_comma_equals_space(void)
{
	struct lp_tag t[] = { { "k,=  k", "v,= v" } };
	struct lp_field f[] = { ffloat("v", 1) };

	CHECK_STR(enc("m", t, 1, f, 1, 0), "m,k\\,\\=\\ \\ k=v\\,\\=\\ v v=1 0");
}

static void test_field_keys_escape_comma_equals_space_not_quote(void)
{
	struct lp_field f[] = { ffloat("a,b=c d\"e", 1) };

	CHECK_STR(enc("m", NULL, 0, f, 1, 0), "m a\\,b\\=c\\ d\"e=1 0");
}

static void test_string_field_escapes_quote_and_backslash(void)
{
	struct lp_field f[] = { fstr("msg", "say \"hi\" \\ ok, a=b \\") };

	CHECK_STR(enc("m", NULL, 0, f, 1, 0), "m msg=\"say \\\"hi\\\" \\\\ ok, a=b \\\\\" 0");
}

static void test_backslash_is_kept_where_influxdb_reads_it_literally(void)
{
	struct lp_tag t[] = { { "path", "C:\\data\\x" } };
	struct lp_field f[] = { ffloat("a\\b", 1) };

	CHECK_STR(enc("m\\n", t, 1, f, 1, 0), "m\\n,path=C:\\data\\x a\\b=1 0");
}

static void test_trailing_backslash_cannot_escape_the_delimiter(void)
{
	struct lp_tag t[] = { { "dir\\", "C:\\" }, { "x", "a\\,b" } };
	struct lp_field f[] = { ffloat("k\\\\", 1), fstr("s", "C:\\") };

	CHECK_STR(enc("m\\", t, 2, f, 2, 0), "m/,dir/=C:/,x=a/\\,b k//=1,s=\"C:\\\\\" 0");
}

/* --- one line, always ---------------------------------------------- */

static void test_measurement_with_newline_cannot_inject_a_line(void)
{
	struct lp_field f[] = { ffloat("v", 1) };
	struct lp_point p;
	const char *line = enc("a\nb,c=d x=1 0", NULL, 0, f, 1, 5), *err;

	CHECK_STR(line, "a\\ b\\,c=d\\ x=1\\ 0 v=1 5");
	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK_STR(p.measurement, "a b,c=d x=1 0");
	CHECK_INT(p.ntags, 0);
	CHECK_INT(p.nfields, 1);
	lp_point_free(&p);
}

static void test_tag_value_with_newline_cannot_inject_a_line(void)
{
	struct lp_tag t[] = { { "room", "A\nevil,room=B value=99 0\r\nx" } };
	struct lp_field f[] = { ffloat("value", 4) };
	struct lp_point p;
	const char *line = enc("temperature", t, 1, f, 1, 7), *err;

	CHECK(line != NULL);
	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK_INT(p.ntags, 1);
	CHECK_STR(p.tags[0].value, "A evil,room=B value=99 0  x");
	CHECK(p.nfields == 1 && p.fields[0].v.f == 4.0 && p.ts == 7);
	lp_point_free(&p);
}

static void test_tag_key_and_field_key_with_newline_cannot_inject_a_line(void)
{
	struct lp_tag t[] = { { "k\nm x=1 0\n", "v" } };
	struct lp_field f[] = { ffloat("f\r\nm y=2", 1) };
	struct lp_point p;
	const char *line = enc("m", t, 1, f, 1, 0), *err;

	CHECK(line != NULL);
	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK_STR(p.tags[0].key, "k m x=1 0 ");
	CHECK_STR(p.fields[0].key, "f  m y=2");
	lp_point_free(&p);
}

static void test_string_field_with_newline_cannot_inject_a_line(void)
{
	struct lp_field f[] = { fstr("msg", "door open\nalert,x=y v=1 0\r") };
	struct lp_point p;
	const char *line = enc("alert", NULL, 0, f, 1, 0), *err;

	CHECK(line != NULL);
	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK_STR(p.fields[0].v.s, "door open alert,x=y v=1 0 ");
	lp_point_free(&p);
}

/* Every special character, at the start, middle and end of every kind of
 * name: one line out, and the parser gives back the (substituted) name. */
static void test_every_special_char_in_every_position_round_trips(void)
{
	static const char specials[] = { ',', ' ', '=', '"', '\\', '\n', '\r', '#', '\t' };

	for (size_t k = 0; k < sizeof(specials); k++) {
		for (int place = 0; place < 3; place++) {
			char name[8];
			char *exp;

			if (place == 0)
				snprintf(name, sizeof(name), "%cab", specials[k]);
			else if (place == 1)
				snprintf(name, sizeof(name), "a%cb", specials[k]);
			else
				snprintf(name, sizeof(name), "ab%c", specials[k]);

			for (int which = 0; which < 5; which++) {
				/* 0 measurement, 1 tag key, 2 tag value, 3 field key, 4 string */
				enum where w = which == 0 ? W_MEAS : which <= 2 ? W_TAG : which == 3 ? W_FKEY : W_STR;
				struct lp_tag t[1] = { { "t", "v" } };
				struct lp_field f[1] = { ffloat("f", 1) };
				const char *m = "m", *line, *err;
				struct lp_point p;
				int ok = 0;

				if (w == W_MEAS)
					m = name;
				else if (which == 1)
					t[0].key = name;
				else if (which == 2)
					t[0].value = name;
				else if (w == W_FKEY)
					f[0].key = name;
				else
					f[0] = fstr("f", name);

				line = enc(m, t, 1, f, 1, 42);
				if (w == W_MEAS && place == 0 && (specials[k] == '#' || specials[k] == '\t')) {
					CHECK(line == NULL); /* a comment / stripped by InfluxDB */
					continue;
				}
				CHECK(line != NULL);
				if (!line)
					continue;
				if (lp_parse_line(line, strlen(line), &p, &err) != 0) {
					printf("    name \"%s\" at %d: %s: %s\n", name, which, line, err);
					CHECK(0);
					continue;
				}
				exp = expected(name, w);
				if (w == W_MEAS)
					ok = strcmp(p.measurement, exp) == 0;
				else if (which == 1)
					ok = strcmp(p.tags[0].key, exp) == 0;
				else if (which == 2)
					ok = strcmp(p.tags[0].value, exp) == 0;
				else if (w == W_FKEY)
					ok = strcmp(p.fields[0].key, exp) == 0;
				else
					ok = strcmp(p.fields[0].v.s, exp) == 0;
				if (!ok)
					printf("    name \"%s\" at %d: line %s\n", name, which, line);
				CHECK(ok);
				CHECK(p.ts == 42 && p.nfields == 1 && p.ntags == 1);
				free(exp);
				lp_point_free(&p);
			}
		}
	}
}

/* --- numbers -------------------------------------------------------- */

static int same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static int float_round_trips(double v)
{
	struct lp_field f[] = { ffloat("v", v) };
	struct lp_point p;
	const char *line = enc("m", NULL, 0, f, 1, 0), *err;
	int ok;

	if (!line || lp_parse_line(line, strlen(line), &p, &err) != 0)
		return 0;
	ok = p.nfields == 1 && p.fields[0].type == LP_FLOAT && same_double(p.fields[0].v.f, v);
	if (!ok)
		printf("    %.17g -> %s\n", v, line);
	lp_point_free(&p);
	return ok;
}

static void test_floats_use_the_shortest_exact_form(void)
{
	struct { double v; const char *s; } cases[] = {
		{ 0.1, "m v=0.1 0" },
		{ 1.0, "m v=1 0" },
		{ -0.0, "m v=-0 0" },
		{ 1e300, "m v=1e+300 0" },
		{ 1e20, "m v=1e+20 0" },
		{ 0.30000000000000004, "m v=0.30000000000000004 0" },
		{ 4.9406564584124654e-324, "m v=4.94065645841247e-324 0" }, /* subnormal: 15 digits suffice */
		{ -273.15, "m v=-273.15 0" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct lp_field f[] = { ffloat("v", cases[i].v) };
		CHECK_STR(enc("m", NULL, 0, f, 1, 0), cases[i].s);
	}
}

static void test_floats_round_trip_exactly(void)
{
	const double fixed[] = { 0.1, 0.2, 1e300, -1e300, -0.0, 0.0, 5e-324, 2.2250738585072009e-308,
				 2.2250738585072014e-308, 1.7976931348623157e308, 123456789012345678.0,
				 1.0 / 3.0, 2.0 / 3.0, 100.0, 1e15, 1e16, 1e17, 9007199254740993.0 };
	uint64_t rng = 20260612;
	int bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		CHECK(float_round_trips(fixed[i]));
	for (int i = 0; i < 100000 && bad < 5; i++) {
		uint64_t bits = ((uint64_t)rand_next(&rng) << 32) | rand_next(&rng);
		double v;

		if (i % 4 == 0)
			bits &= 0x800FFFFFFFFFFFFFULL; /* subnormals and zeros */
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		if (!float_round_trips(v))
			bad++;
	}
	for (int i = 0; i < 20000 && bad < 5; i++) /* sensor-like values */
		if (!float_round_trips((double)(int32_t)rand_next(&rng) / 1000.0))
			bad++;
	CHECK_INT(bad, 0);
}

/* The rule the encoder documents, done the slow way: the shortest of
 * %.15g, %.16g, %.17g that reads back as v. */
static void reference_double(char *buf, size_t len, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			return;
	}
}

/* The encoder's fast decimal path (sensor values) must print exactly what
 * the slow rule prints, at every scale and sign, and fall back right at the
 * edges of its range (1e-4, 1e15, 15 digits, 9 decimals). */
static void test_fast_float_path_prints_what_the_slow_rule_prints(void)
{
	static const double edge[] = { 1e-4, 9.999999999999999e-5, 0.00012, 0.0025, 0.5, 1, 9.95, 10, 99.99,
				       1e14, 999999999999999.0, 1e15, 123456789.123, 0.123456789, 0.1234567891,
				       4.25, -18.5, 93, -0.001, 1e-3, 12345678901234.5, 5e-5, 1.5e-5, 2e-7 };
	uint64_t rng = 7;
	int bad = 0;
	char want[40], line[80];

	for (int i = 0; i < 400000 && bad < 5; i++) {
		double v;
		struct lp_field f[1];
		const char *got;

		if (i < (int)ARRAY_SIZE(edge))
			v = edge[i];
		else if (i % 3 == 0) { /* m / 10^d: what sensors send */
			static const double p10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11 };
			int64_t m = (int64_t)((((uint64_t)rand_next(&rng) << 20) ^ rand_next(&rng)) %
					      (uint64_t)p10[1 + rand_next(&rng) % (ARRAY_SIZE(p10) - 1)] * 10000);
			v = (double)m / p10[rand_next(&rng) % ARRAY_SIZE(p10)];
		} else if (i % 3 == 1) {
			v = (double)(int32_t)rand_next(&rng) / 100.0;
		} else {
			uint64_t bits = ((uint64_t)rand_next(&rng) << 32) | rand_next(&rng);
			memcpy(&v, &bits, sizeof(v));
			if (!isfinite(v))
				continue;
		}
		if (i % 2)
			v = -v;
		f[0] = ffloat("v", v);
		reference_double(want, sizeof(want), v);
		snprintf(line, sizeof(line), "m v=%s 0", want);
		got = enc("m", NULL, 0, f, 1, 0);
		if (!got || strcmp(got, line) != 0) {
			printf("    %.17g: got %s, expected %s\n", v, got ? got : "(null)", line);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
}

static void test_integers_keep_their_extremes(void)
{
	struct lp_field f[] = { fint("min", INT64_MIN), fint("max", INT64_MAX),
				{ .key = "u", .type = LP_UINT, .v.u = UINT64_MAX }, fint("zero", 0) };
	struct lp_point p;
	const char *line = enc("m", NULL, 0, f, 4, INT64_MAX), *err;

	CHECK_STR(line, "m min=-9223372036854775808i,max=9223372036854775807i,u=18446744073709551615u,zero=0i "
			"9223372036854775807");
	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK(p.fields[0].type == LP_INT && p.fields[0].v.i == INT64_MIN);
	CHECK(p.fields[1].type == LP_INT && p.fields[1].v.i == INT64_MAX);
	CHECK(p.fields[2].type == LP_UINT && p.fields[2].v.u == UINT64_MAX);
	CHECK(p.ts == INT64_MAX);
	lp_point_free(&p);

	line = enc("m", NULL, 0, f, 1, INT64_MIN);
	CHECK_STR(line, "m min=-9223372036854775808i -9223372036854775808");
	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK(p.has_ts && p.ts == INT64_MIN);
	lp_point_free(&p);
}

static void test_bool_and_string_fields_are_typed(void)
{
	struct lp_field f[] = { { .key = "open", .type = LP_BOOL, .v.b = 1 },
				{ .key = "shut", .type = LP_BOOL, .v.b = 0 }, fstr("state", "") };

	CHECK_STR(enc("door", NULL, 0, f, 3, 1), "door open=true,shut=false,state=\"\" 1");
}

/* --- what is skipped or refused --------------------------------------- */

static void test_nan_and_infinite_fields_are_skipped(void)
{
	struct lp_field f[] = { ffloat("a", NAN), ffloat("b", 2), ffloat("c", INFINITY), ffloat("d", -INFINITY) };

	CHECK_STR(enc("m", NULL, 0, f, 4, 0), "m b=2 0");
}

static void test_point_without_fields_is_refused_and_leaves_no_trace(void)
{
	struct lp_field nan[] = { ffloat("a", NAN) };
	struct lp_field ok[] = { ffloat("a", 1) };
	struct lp_buf b;

	lp_buf_init(&b);
	CHECK_INT(lp_encode(&b, "m", NULL, 0, ok, 1, 0), 0);
	CHECK_INT(lp_encode(&b, "m", NULL, 0, nan, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "m", NULL, 0, NULL, 0, 0), -EINVAL);
	CHECK_STR(b.data, "m a=1 0\n");
	CHECK_INT(b.lines, 1);
	lp_buf_free(&b);
}

static void test_empty_or_null_tag_value_omits_the_tag(void)
{
	struct lp_tag t[] = { { "a", NULL }, { "b", "" }, { "c", "x" } };
	struct lp_field f[] = { ffloat("v", 1) };

	CHECK_STR(enc("m", t, 3, f, 1, 0), "m,c=x v=1 0");
}

static void test_invalid_names_are_refused(void)
{
	struct lp_field f[] = { ffloat("v", 1) };
	struct lp_tag empty_key[] = { { "", "x" } };
	struct lp_tag time_key[] = { { "time", "x" } };
	struct lp_tag dup[] = { { "a", "x" }, { "a", "y" } };
	struct lp_field empty_f[] = { ffloat("", 1) };
	struct lp_field time_f[] = { ffloat("time", 1) };
	struct lp_field null_s[] = { fstr("s", NULL) };
	struct lp_buf b;

	lp_buf_init(&b);
	CHECK_INT(lp_encode(&b, "", NULL, 0, f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, NULL, NULL, 0, f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "#comment", NULL, 0, f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "m", empty_key, 1, f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "m", time_key, 1, f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "m", dup, 2, f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "m", NULL, 0, empty_f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "m", NULL, 0, time_f, 1, 0), -EINVAL);
	CHECK_INT(lp_encode(&b, "m", NULL, 0, null_s, 1, 0), -EINVAL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.lines, 0);
	lp_buf_free(&b);
}

static void test_buffer_appends_lines_and_resets(void)
{
	struct lp_field f[] = { ffloat("v", 1) };
	struct lp_buf b;

	lp_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		CHECK_INT(lp_encode(&b, "m", NULL, 0, f, 1, i), 0);
	CHECK_INT(b.lines, 1000);
	CHECK_INT(count_char(b.data, b.len, '\n'), 1000);
	lp_buf_reset(&b);
	CHECK(b.len == 0 && b.lines == 0);
	CHECK_INT(lp_encode(&b, "m", NULL, 0, f, 1, 9), 0);
	CHECK_STR(b.data, "m v=1 9\n");
	lp_buf_free(&b);
}

/* --- encode -> parse on random points ------------------------------- */

static char *rand_name(uint64_t *rng, int allow_empty)
{
	static const char alphabet[] = "ab,= \"\\\n\r\t#xyz09_-.";
	size_t n = rand_next(rng) % 8 + (allow_empty ? 0 : 1);
	char *s = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = alphabet[rand_next(rng) % (sizeof(alphabet) - 1)];
	s[n] = '\0';
	if (n && (s[0] == '#' || s[0] == '\t'))
		s[0] = 'm';
	return s;
}

static void test_random_points_survive_encode_then_parse(void)
{
	uint64_t rng = 42;
	int bad = 0;

	for (int iter = 0; iter < 5000 && bad < 5; iter++) {
		struct lp_tag t[4];
		struct lp_field f[5];
		char *names[1 + 4 * 2 + 5 * 2];
		size_t nn = 0, nt = rand_next(&rng) % 4, nf = rand_next(&rng) % 5 + 1;
		char *m = names[nn++] = rand_name(&rng, 0);
		int64_t ts = (int64_t)(((uint64_t)rand_next(&rng) << 32) | rand_next(&rng));
		struct lp_buf b;
		struct lp_point p;
		const char *err;
		int r;

		for (size_t i = 0; i < nt; i++) {
			char *k = names[nn++] = rand_name(&rng, 0);
			k[0] = (char)('a' + i); /* distinct keys */
			t[i].key = k;
			t[i].value = names[nn++] = rand_name(&rng, 1);
		}
		for (size_t i = 0; i < nf; i++) {
			f[i].key = names[nn++] = rand_name(&rng, 0);
			switch (rand_next(&rng) % 4) {
			case 0: f[i].type = LP_FLOAT; f[i].v.f = (double)(int32_t)rand_next(&rng) / 7.0; break;
			case 1: f[i].type = LP_INT; f[i].v.i = (int32_t)rand_next(&rng); break;
			case 2: f[i].type = LP_BOOL; f[i].v.b = rand_next(&rng) & 1; break;
			default: f[i].type = LP_STRING; f[i].v.s = names[nn++] = rand_name(&rng, 1); break;
			}
		}
		lp_buf_init(&b);
		r = lp_encode(&b, m, t, nt, f, nf, ts);
		if (r != 0) {
			/* only a reserved key may be refused; the alphabet cannot build "time" */
			printf("    encode refused %s\n", m);
			bad++;
		} else if (count_char(b.data, b.len, '\n') != 1) {
			bad++;
		} else if (parse_exact(b.data, b.len, &p, &err) != 0) {
			printf("    parse: %s: %s", err, b.data);
			bad++;
		} else {
			char *e = expected(m, W_MEAS);
			size_t k = 0;
			int ok = strcmp(p.measurement, e) == 0 && p.has_ts && p.ts == ts && p.nfields == nf;
			free(e);
			for (size_t i = 0; i < nt; i++) {
				char *ek, *ev;
				if (!t[i].value[0])
					continue;
				if (k >= p.ntags) {
					ok = 0;
					break;
				}
				ek = expected(t[i].key, W_TAG);
				ev = expected(t[i].value, W_TAG);
				ok &= strcmp(p.tags[k].key, ek) == 0 && strcmp(p.tags[k].value, ev) == 0;
				free(ek);
				free(ev);
				k++;
			}
			ok &= k == p.ntags;
			for (size_t i = 0; ok && i < nf; i++) {
				char *ek = expected(f[i].key, W_FKEY);
				ok &= strcmp(p.fields[i].key, ek) == 0 && p.fields[i].type == f[i].type;
				free(ek);
				if (f[i].type == LP_STRING) {
					char *es = expected(f[i].v.s, W_STR);
					ok &= strcmp(p.fields[i].v.s, es) == 0;
					free(es);
				} else if (f[i].type == LP_FLOAT) {
					ok &= same_double(p.fields[i].v.f, f[i].v.f);
				} else if (f[i].type == LP_INT) {
					ok &= p.fields[i].v.i == f[i].v.i;
				} else {
					ok &= p.fields[i].v.b == f[i].v.b;
				}
			}
			if (!ok) {
				printf("    mismatch: %s", b.data);
				bad++;
			}
			lp_point_free(&p);
		}
		lp_buf_free(&b);
		for (size_t i = 0; i < nn; i++)
			free(names[i]);
	}
	CHECK_INT(bad, 0);
}

/* --- parser --------------------------------------------------------- */

static void test_parser_reads_every_escape_and_type(void)
{
	const char *line = "m\\,x\\ y=z,t\\=k=v\\ a\\,b\\=c f\\\"k=\"s \\\"q\\\" \\\\ e\\n\",i=-5i,u=7u,b=T,"
			   "n=1.5e3,z=-0,g=.5 -12";
	struct lp_point p;
	const char *err;

	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK_STR(p.measurement, "m,x y=z");
	CHECK_INT(p.ntags, 1);
	CHECK_STR(p.tags[0].key, "t=k");
	CHECK_STR(p.tags[0].value, "v a,b=c");
	CHECK_INT(p.nfields, 7);
	CHECK_STR(p.fields[0].key, "f\"k");
	CHECK_STR(p.fields[0].v.s, "s \"q\" \\ e\\n");
	CHECK(p.fields[1].type == LP_INT && p.fields[1].v.i == -5);
	CHECK(p.fields[2].type == LP_UINT && p.fields[2].v.u == 7);
	CHECK(p.fields[3].type == LP_BOOL && p.fields[3].v.b == 1);
	CHECK(p.fields[4].type == LP_FLOAT && p.fields[4].v.f == 1500.0);
	CHECK(p.fields[5].type == LP_FLOAT && same_double(p.fields[5].v.f, -0.0));
	CHECK(p.fields[6].type == LP_FLOAT && p.fields[6].v.f == 0.5);
	CHECK(p.has_ts && p.ts == -12);
	lp_point_free(&p);

	/* no timestamp, trailing '\n', leading whitespace, a literal backslash */
	line = "  \tcpu\\a v=1\n";
	CHECK_INT(lp_parse_line(line, strlen(line), &p, &err), 0);
	CHECK_STR(p.measurement, "cpu\\a");
	CHECK(!p.has_ts);
	lp_point_free(&p);
}

static void test_parser_rejects_garbage_with_a_message(void)
{
	const char *bad[] = {
		"", " ", "# comment", "m", "m ", "m,", "m, v=1", "m,t v=1", "m,t= v=1", "m,t=a=b v=1",
		"m,t=a", ",t=a v=1", " ,x v=1", "m v", "m v=", "m =1", "m v=1,", "m v=1,=2", "m v=abc",
		"m v=1.2.3", "m v=1e", "m v=e5", "m v=1x", "m v=+1", "m v=NaN", "m v=inf", "m v=0x10",
		"m v=1.5i", "m v=99999999999999999999i", "m v=-1u", "m v=1e999", "m v=\"abc", "m v=\"a\"b",
		"m v=tru", "m v=1 12a", "m v=1 1 2", "m v=1 99999999999999999999", "m v=1 -", "m,a=1,a=2 v=1",
		"m,t=a\nb v=1", "m v=\"a\nb\"", "m\r v=1", "m v=1 0\r",
	};
	struct lp_point p;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *err = NULL;
		int r = parse_exact(bad[i], strlen(bad[i]), &p, &err);

		if (r != -EINVAL || !err || !err[0])
			printf("    accepted \"%s\"\n", bad[i]);
		CHECK(r == -EINVAL && err && err[0]);
		CHECK(p.storage == NULL);
	}
}

static void test_parser_never_reads_past_the_line(void)
{
	struct lp_tag t[] = { { "ro om", "A,=\\" }, { "site", "x" } };
	struct lp_field f[] = { ffloat("v", 1.25), fstr("s", "q\"\\ ,="), fint("i", -3) };
	struct lp_buf b;
	uint64_t rng = 7;
	static const char junk[] = "\\\" ,=\n0i-ue.t";

	lp_buf_init(&b);
	CHECK_INT(lp_encode(&b, "me as", t, 2, f, 3, 123), 0);
	for (int iter = 0; iter < 50000; iter++) {
		size_t len = b.len - 1, cut;
		char *m = xmalloc(len);
		struct lp_point p;
		const char *err;

		memcpy(m, b.data, len);
		for (int k = rand_next(&rng) % 4; k >= 0; k--) {
			size_t at = rand_next(&rng) % len;
			m[at] = (rand_next(&rng) & 1) ? junk[rand_next(&rng) % (sizeof(junk) - 1)]
						     : (char)rand_next(&rng);
		}
		cut = rand_next(&rng) % (len + 1); /* every truncation, as its own exact-size buffer */
		if (parse_exact(m, cut, &p, &err) == 0) {
			CHECK(p.measurement != NULL && p.nfields >= 1);
			lp_point_free(&p);
		}
		free(m);
	}
	lp_buf_free(&b);
}

/* m,t0=v,...,t{ntags-1}=v f0=0,...,f{nfields-1}=0 */
static char *many(int ntags, int nfields)
{
	char *s = malloc((size_t)(ntags + nfields) * 16 + 16), *p = s;

	p += sprintf(p, "m");
	for (int i = 0; i < ntags; i++)
		p += sprintf(p, ",t%d=v", i);
	for (int i = 0; i < nfields; i++)
		p += sprintf(p, "%cf%d=0", i ? ',' : ' ', i);
	return s;
}

static void test_parser_bounds_tags_and_fields_per_line(void)
{
	struct lp_point p;
	const char *err = NULL;
	char *s;

	s = many(LP_MAX_TAGS, LP_MAX_FIELDS);
	CHECK_INT(parse_exact(s, strlen(s), &p, &err), 0);
	CHECK_INT(p.ntags, LP_MAX_TAGS);
	CHECK_INT(p.nfields, LP_MAX_FIELDS);
	lp_point_free(&p);
	free(s);
	s = many(LP_MAX_TAGS + 1, 1);
	CHECK_INT(parse_exact(s, strlen(s), &p, &err), -EINVAL);
	CHECK_STR(err, "too many tags");
	free(s);
	s = many(0, LP_MAX_FIELDS + 1);
	CHECK_INT(parse_exact(s, strlen(s), &p, &err), -EINVAL);
	CHECK_STR(err, "too many fields");
	free(s);
}

/* README, Data model: a physically impossible value (outside min..max,
 * NaN/Inf) is recorded with quality="out_of_range" and the decoded value,
 * never as a reading. */
static void test_out_of_range_sample_carries_the_decoded_value_even_when_nan(void)
{
	static const struct cc_channel ch = { .id = "ctl/air", .quantity = "temperature", .site = "s", .room = "A",
					      .sensor = "ctl", .name = "air", .unit = "C" };
	const double vals[] = { 99.5, NAN, INFINITY, -INFINITY };
	const char *want[] = {
		"temperature,channel=air,room=A,sensor=ctl,site=s,unit=C quality=\"out_of_range\",raw=99.5 1000\n",
		"temperature,channel=air,room=A,sensor=ctl,site=s,unit=C quality=\"out_of_range\",raw_text=\"NaN\" 1000\n",
		"temperature,channel=air,room=A,sensor=ctl,site=s,unit=C quality=\"out_of_range\",raw_text=\"+Inf\" 1000\n",
		"temperature,channel=air,room=A,sensor=ctl,site=s,unit=C quality=\"out_of_range\",raw_text=\"-Inf\" 1000\n",
	};

	for (size_t i = 0; i < 4; i++) {
		struct cc_sample smp = { .ch = &ch, .ts_ns = 1000, .value = vals[i], .quality = CC_Q_OUT_OF_RANGE };
		struct lp_buf b;
		char *line;

		lp_buf_init(&b);
		pipeline_encode(&b, &smp, 1);
		line = strndup(b.data ? b.data : "", b.len);
		CHECK_INT(b.lines, 1);
		CHECK_STR(line, want[i]);
		free(line);
		lp_buf_free(&b);
	}
}

int main(void)
{
	tl_prog = "unit/lineproto";
	RUN(test_plain_point_is_written_as_documented);
	RUN(test_measurement_escapes_comma_and_space_but_not_equals);
	RUN(test_tag_keys_and_values_escape_comma_equals_space);
	RUN(test_field_keys_escape_comma_equals_space_not_quote);
	RUN(test_string_field_escapes_quote_and_backslash);
	RUN(test_backslash_is_kept_where_influxdb_reads_it_literally);
	RUN(test_trailing_backslash_cannot_escape_the_delimiter);
	RUN(test_measurement_with_newline_cannot_inject_a_line);
	RUN(test_tag_value_with_newline_cannot_inject_a_line);
	RUN(test_tag_key_and_field_key_with_newline_cannot_inject_a_line);
	RUN(test_string_field_with_newline_cannot_inject_a_line);
	RUN(test_every_special_char_in_every_position_round_trips);
	RUN(test_floats_use_the_shortest_exact_form);
	RUN(test_floats_round_trip_exactly);
	RUN(test_fast_float_path_prints_what_the_slow_rule_prints);
	RUN(test_integers_keep_their_extremes);
	RUN(test_bool_and_string_fields_are_typed);
	RUN(test_nan_and_infinite_fields_are_skipped);
	RUN(test_point_without_fields_is_refused_and_leaves_no_trace);
	RUN(test_empty_or_null_tag_value_omits_the_tag);
	RUN(test_invalid_names_are_refused);
	RUN(test_buffer_appends_lines_and_resets);
	RUN(test_random_points_survive_encode_then_parse);
	RUN(test_parser_reads_every_escape_and_type);
	RUN(test_parser_rejects_garbage_with_a_message);
	RUN(test_parser_never_reads_past_the_line);
	RUN(test_parser_bounds_tags_and_fields_per_line);
	RUN(test_out_of_range_sample_carries_the_decoded_value_even_when_nan);
	return TL_DONE();
}
