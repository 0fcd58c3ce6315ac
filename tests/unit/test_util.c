/* test_util.c - strict duration, size and ISO 8601 time parsing. */
#include "../../daemon/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

static void test_duration_accepts_each_unit(void)
{
	int64_t ms = 0;
	CHECK_INT(parse_duration_ms("500ms", &ms), 0); CHECK_INT(ms, 500);
	CHECK_INT(parse_duration_ms("10s", &ms), 0); CHECK_INT(ms, 10000);
	CHECK_INT(parse_duration_ms("5m", &ms), 0); CHECK_INT(ms, 300000);
	CHECK_INT(parse_duration_ms("1h", &ms), 0); CHECK_INT(ms, 3600000);
	CHECK_INT(parse_duration_ms("7d", &ms), 0); CHECK_INT(ms, 7 * 86400000LL);
}

static void test_duration_rejects_sloppy_input(void)
{
	int64_t ms;
	const char *bad[] = { "", "10", "s", "-1s", "1.5s", " 10s", "10s ", "10 s", "10S", "10sec", "1h30m", "+5s", "0x10s" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(parse_duration_ms(bad[i], &ms) == -EINVAL);
	CHECK(parse_duration_ms("99999999999999999999s", &ms) == -ERANGE);
	CHECK(parse_duration_ms("9999999999999999d", &ms) == -ERANGE);
}

static void test_size_accepts_suffixes(void)
{
	uint64_t b = 0;
	CHECK_INT(parse_size("512M", &b), 0); CHECK(b == 512ULL << 20);
	CHECK_INT(parse_size("64K", &b), 0); CHECK(b == 64ULL << 10);
	CHECK_INT(parse_size("4096", &b), 0); CHECK(b == 4096);
	CHECK_INT(parse_size("2G", &b), 0); CHECK(b == 2ULL << 30);
	CHECK(parse_size("512MB", &b) == -EINVAL);
	CHECK(parse_size("512m", &b) == -EINVAL);
	CHECK(parse_size("1.5G", &b) == -EINVAL);
	CHECK(parse_size("", &b) == -EINVAL);
	CHECK(parse_size("99999999999T", &b) == -ERANGE);
}

static void test_duration_formats_back_exactly(void)
{
	char buf[32];
	format_duration_ms(3600000, buf, sizeof(buf)); CHECK_STR(buf, "1h");
	format_duration_ms(90000, buf, sizeof(buf)); CHECK_STR(buf, "90s");
	format_duration_ms(1500, buf, sizeof(buf)); CHECK_STR(buf, "1500ms");
	format_duration_ms(0, buf, sizeof(buf)); CHECK_STR(buf, "0s");
	format_size(512ULL << 20, buf, sizeof(buf)); CHECK_STR(buf, "512M");
	format_size(1000, buf, sizeof(buf)); CHECK_STR(buf, "1000");
}

static int iso(const char *s, int64_t *ns)
{
	return time_parse_iso8601(s, strlen(s), ns);
}

static void test_iso8601_accepts_each_form_with_its_exact_instant(void)
{
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {
		{ "2026-06-12T08:00:00+07:00", 1781226000LL * 1000000000 },
		{ "2026-06-12T01:00:00Z", 1781226000LL * 1000000000 },
		{ "2026-06-12t01:00:00z", 1781226000LL * 1000000000 },
		{ "2026-06-12 01:00:00Z", 1781226000LL * 1000000000 },
		{ "2026-06-12T08:00+07:00", 1781226000LL * 1000000000 },   /* seconds optional */
		{ "2026-06-12T01:00Z", 1781226000LL * 1000000000 },
		{ "2026-06-11T21:30:00-03:30", 1781226000LL * 1000000000 },
		{ "2026-06-12T01:00:00+00:00", 1781226000LL * 1000000000 },
		{ "2026-06-12T01:00:00-00:00", 1781226000LL * 1000000000 },
		{ "2026-06-12T15:00:00+14:00", 1781226000LL * 1000000000 },
		{ "2026-06-12T01:00:00.25Z", 1781226000LL * 1000000000 + 250000000 },
		{ "2026-06-12T01:00:00.123456789Z", 1781226000LL * 1000000000 + 123456789 },
		{ "2026-06-12T01:00:00.1234567891Z", 1781226000LL * 1000000000 + 123456789 }, /* past ns: ignored */
		{ "2026-06-12T08:00:00.5+07:00", 1781226000LL * 1000000000 + 500000000 },
		{ "2024-02-29T12:00:00-03:30", 1709220600LL * 1000000000 },
		{ "2000-02-29T00:00:00Z", 951782400LL * 1000000000 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2016-12-31T23:59:60Z", 1483228799LL * 1000000000 },      /* leap second: :59 */
		{ "2016-12-31T23:59:60.5Z", 1483228799LL * 1000000000 + 500000000 },
		{ "1678-01-01T00:00:00Z", -9214560000LL * 1000000000 },
		{ "2261-12-31T23:59:59Z", 9214646399LL * 1000000000 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		int64_t ns = -1;
		CHECK_INT(iso(ok[i].s, &ns), 0);
		CHECK_INT(ns, ok[i].ns);
	}
}

static void test_iso8601_refuses_other_forms_trailing_bytes_and_out_of_range_fields(void)
{
	static const char *bad[] = {
		"", "2026", "2026-06-12", "2026-06-12T08", "2026-06-12T08:00", /* no zone */
		"2026-06-12T08:00:00", "2026-06-12T08:00:00+0700", "2026-06-12T08:00:00+07", "2026-06-12T08:00:00+7:00",
		"2026-06-12T08:00:00+07:0", "2026-06-12T08:00:00+15:00", "2026-06-12T08:00:00+99:00",
		"2026-06-12T08:00:00-15:00", "2026-06-12T08:00:00+07:60", "2026-06-12T08:00:00+07:00 ",
		" 2026-06-12T08:00:00Z", "2026-06-12T08:00:00Zx", "2026-06-12T08:00:00ZZ", "2026-06-12T08:00:00+07:00:00",
		"2026-06-12X08:00:00Z", "2026-06-12T08:00:0Z", "2026-06-12T08:00:00.Z", "2026-06-12T08:00.5Z",
		"2026-06-12T08:0Z", "2026-6-12T08:00Z", "2026-+6-12T08:00Z", "2026-06-+2T08:00Z", "+202-06-12T08:00Z",
		"2026/06/12T08:00Z", "20260612T080000Z", "2026-00-12T08:00Z", "2026-13-12T08:00Z", "2026-06-00T08:00Z",
		"2026-06-31T08:00Z", "2025-02-29T08:00Z", "1900-02-29T08:00Z", "2026-06-12T24:00Z", "2026-06-12T08:60Z",
		"2026-06-12T08:00:61Z", "2026-06-12T08:00:00.5.5Z",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t ns = 42;
		if (iso(bad[i], &ns) != -EINVAL)
			printf("# accepted or misclassified: \"%s\"\n", bad[i]);
		CHECK_INT(iso(bad[i], &ns), -EINVAL);
		CHECK_INT(ns, 42);
	}
	int64_t ns = 42;
	CHECK_INT(iso("1677-12-31T23:59:59Z", &ns), -ERANGE);
	CHECK_INT(iso("2262-01-01T00:00:00Z", &ns), -ERANGE);
	CHECK_INT(iso("9999-12-31T23:59:59Z", &ns), -ERANGE);
	CHECK_INT(ns, 42);
	/* exactly n bytes: what follows them is not read */
	CHECK_INT(time_parse_iso8601("2026-06-12T01:00Zgarbage", 17, &ns), 0);
	CHECK_INT(ns, 1781226000LL * 1000000000);
	CHECK_INT(time_parse_iso8601("2026-06-12T01:00:00Z", 16, &ns), -EINVAL);
}

static void test_plural_is_singular_only_for_one(void)
{
	char b[64];

	CHECK_STR(plural(1, "bus", "buses"), "bus");
	CHECK_STR(plural(0, "bus", "buses"), "buses");
	CHECK_STR(plural(2, "bus", "buses"), "buses");
	CHECK_STR(plural(UINT64_MAX, "line", "lines"), "lines");
	snprintf(b, sizeof(b), "%d %s", 1, plural(1, "register", "registers"));
	CHECK_STR(b, "1 register");
}

/* "did you mean": the config's unknown keys, the control socket's hints */
static void test_edit_distance_counts_each_insertion_deletion_and_substitution(void)
{
	char a[EDIT_DISTANCE_MAX + 1], b[EDIT_DISTANCE_MAX];

	CHECK_INT((int)edit_distance("", ""), 0);
	CHECK_INT((int)edit_distance("LOT-017", "LOT-017"), 0);
	CHECK_INT((int)edit_distance("LOT-017x", "LOT-017"), 1); /* a deletion */
	CHECK_INT((int)edit_distance("LOT-17", "LOT-017"), 1);   /* an insertion */
	CHECK_INT((int)edit_distance("LOT-O17", "LOT-017"), 1);  /* a substitution */
	CHECK_INT((int)edit_distance("kitten", "sitting"), 3);
	CHECK_INT((int)edit_distance("", "abc"), 3);
	CHECK_INT((int)edit_distance("ab", "ba"), 2); /* a transposition is two */
	memset(b, 'x', sizeof(b) - 1);
	b[sizeof(b) - 1] = '\0'; /* 255 bytes: still a name */
	memcpy(a, b, sizeof(b));
	a[0] = 'y';
	CHECK_INT((int)edit_distance(a, b), 1);
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0'; /* 256 bytes: not */
	CHECK(edit_distance(a, b) == SIZE_MAX);
	CHECK(edit_distance(b, a) == SIZE_MAX);
}

int main(void)
{
	tl_prog = "unit/util";
	RUN(test_duration_accepts_each_unit);
	RUN(test_duration_rejects_sloppy_input);
	RUN(test_size_accepts_suffixes);
	RUN(test_duration_formats_back_exactly);
	RUN(test_iso8601_accepts_each_form_with_its_exact_instant);
	RUN(test_iso8601_refuses_other_forms_trailing_bytes_and_out_of_range_fields);
	RUN(test_plural_is_singular_only_for_one);
	RUN(test_edit_distance_counts_each_insertion_deletion_and_substitution);
	return TL_DONE();
}
