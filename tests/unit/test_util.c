/* test_util.c - strict duration and size parsing. */
#include "../../daemon/util.h"

#include <errno.h>

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

int main(void)
{
	tl_prog = "unit/util";
	RUN(test_duration_accepts_each_unit);
	RUN(test_duration_rejects_sloppy_input);
	RUN(test_size_accepts_suffixes);
	RUN(test_duration_formats_back_exactly);
	return TL_DONE();
}
