/* test_time_local.c - times for people in the site's zone
 * (time_fmt_local, daemon/util.c): Vietnam (+07, no DST) and Berlin (CET
 * and CEST: the offset follows the date), never bare UTC. */
#include "../../daemon/util.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "testlib.h"

#define S_NS 1000000000LL

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void test_vietnam_shows_plus_07(void)
{
	char b[64];
	int64_t t = 1796306709LL * S_NS; /* 2026-12-03T14:05:09Z */

	zone("Asia/Ho_Chi_Minh");
	CHECK_INT(time_fmt_local(t, b, sizeof(b), TIME_LOCAL_SHORT), 17);
	CHECK_STR(b, "03/12 21:05 (+07)");
	CHECK(time_fmt_local(t, b, sizeof(b), TIME_LOCAL_ISO) > 0);
	CHECK_STR(b, "2026-12-03T21:05:09+07:00");
	time_fmt_local(t, b, sizeof(b), TIME_LOCAL_HM);
	CHECK_STR(b, "21:05");
	time_fmt_local(t + 3 * 3600 * S_NS, b, sizeof(b), TIME_LOCAL_DAY); /* past local midnight */
	CHECK_STR(b, "04/12");
}

static void test_berlin_follows_summer_time(void)
{
	char b[64];

	zone("Europe/Berlin");
	time_fmt_local(1796306709LL * S_NS, b, sizeof(b), TIME_LOCAL_SHORT);
	CHECK_STR(b, "03/12 15:05 (+01)");
	time_fmt_local(1780272000LL * S_NS, b, sizeof(b), TIME_LOCAL_ISO); /* 2026-06-01T00:00:00Z */
	CHECK_STR(b, "2026-06-01T02:00:00+02:00");
	/* 2026-03-29 01:00Z: clocks go 02:00 -> 03:00 */
	time_fmt_local((1774746000LL - 1) * S_NS, b, sizeof(b), TIME_LOCAL_ISO);
	CHECK_STR(b, "2026-03-29T01:59:59+01:00");
	time_fmt_local(1774746000LL * S_NS, b, sizeof(b), TIME_LOCAL_ISO);
	CHECK_STR(b, "2026-03-29T03:00:00+02:00");
}

static void test_half_hour_zones_and_bad_arguments(void)
{
	char b[64], small[8];

	zone("Asia/Kolkata");
	time_fmt_local(1796306709LL * S_NS, b, sizeof(b), TIME_LOCAL_SHORT);
	CHECK_STR(b, "03/12 19:35 (+05:30)");
	zone("Asia/Ho_Chi_Minh");
	CHECK_INT(time_fmt_local(1796306709LL * S_NS - 1, b, sizeof(b), TIME_LOCAL_ISO), 25); /* floors */
	CHECK_STR(b, "2026-12-03T21:05:08+07:00");
	CHECK_INT(time_fmt_local(0, small, sizeof(small), TIME_LOCAL_SHORT), -ERANGE);
	CHECK_STR(small, "");
	CHECK_INT(time_fmt_local(0, b, sizeof(b), 99), -EINVAL);
	CHECK_INT(time_fmt_local(0, b, 0, TIME_LOCAL_HM), -EINVAL);
}

int main(void)
{
	tl_prog = "unit/time_local";
	RUN(test_vietnam_shows_plus_07);
	RUN(test_berlin_follows_summer_time);
	RUN(test_half_hour_zones_and_bad_arguments);
	return TL_DONE();
}
