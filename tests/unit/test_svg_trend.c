/* test_svg_trend.c - the room page's 24-hour chart (codec/svg_trend.c):
 * one shaded range and one mean line per run of buckets with data (a gap
 * breaks them, never bridged), the limits dashed, times in the site's zone,
 * the title escaped and the whole well-formed XML (python3's parser). */
#include "../../codec/svg_trend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define NP 288
#define STEP_NS (300LL * 1000000000LL)

static struct svg_trend_point pts[NP];
static char *out;
static size_t outlen;

static size_t count(const char *hay, const char *needle)
{
	size_t k = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		k++;
	return k;
}

static int render(const struct svg_trend *t)
{
	FILE *o;
	int rc;

	free(out);
	out = NULL;
	o = open_memstream(&out, &outlen);
	rc = svg_trend_write(o, t);
	fclose(o);
	return rc;
}

static int well_formed(const char *svg)
{
	char path[] = "/tmp/cc-svg-XXXXXX", *cmd;
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, svg, strlen(svg)) != (ssize_t)strlen(svg))
		return 0;
	close(fd);
	if (asprintf(&cmd, "python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' %s", path) < 0)
		return 0;
	rc = system(cmd);
	free(cmd);
	unlink(path);
	return rc == 0;
}

static struct svg_trend base(void)
{
	/* 2026-12-03T00:00:00Z: 07:00 in Vietnam */
	return (struct svg_trend){ .start_ns = 1796256000LL * 1000000000LL, .step_ns = STEP_NS, .p = pts, .n = NP,
				   .lim_lo = 1.0, .lim_hi = 7.0, .title = "Phòng <A> & \"B\": nhiệt độ, 24 giờ qua",
				   .unit = "°C", .cls = "temp", .no_data = "Không có dữ liệu" };
}

static void test_runs_of_data_are_drawn_and_a_gap_breaks_them(void)
{
	struct svg_trend t = base();

	memset(pts, 0, sizeof(pts));
	for (int i = 0; i < NP; i++)
		if (i < 100 || (i >= 130 && i < 200) || i == 250)
			pts[i] = (struct svg_trend_point){ .min = 3.0 + (i % 5) * 0.1, .max = 4.5, .mean = 4.0, .n = 30 };
	CHECK_INT(render(&t), 0);
	CHECK_INT(count(out, "<path class=\"range temp\""), 3);
	CHECK_INT(count(out, "<polyline class=\"mean temp\""), 3);
	CHECK_INT(count(out, "class=\"limit\" stroke-dasharray"), 2);
	CHECK(!strstr(out, "nodata"));
	CHECK(well_formed(out));
}

static void test_the_title_is_escaped_and_given_to_screen_readers(void)
{
	struct svg_trend t = base();

	CHECK_INT(render(&t), 0);
	CHECK(strstr(out, "<title>Phòng &lt;A&gt; &amp; &quot;B&quot;: nhiệt độ, 24 giờ qua</title>") != NULL);
	CHECK(strstr(out, "aria-label=\"Phòng &lt;A&gt; &amp; &quot;B&quot;") != NULL);
	CHECK(strstr(out, "role=\"img\"") != NULL);
	CHECK(!strstr(out, "<A>"));
}

static void test_time_ticks_are_in_the_sites_zone(void)
{
	struct svg_trend t = base();

	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	tzset();
	CHECK_INT(render(&t), 0);
	CHECK(strstr(out, ">03/12 07:00 (+07)</text>") != NULL);
	CHECK(strstr(out, ">13:00</text>") != NULL);
	CHECK(strstr(out, ">04/12 07:00 (+07)</text>") != NULL);
	CHECK(!strstr(out, "Z</text>"));
}

static void test_no_data_says_so_and_bad_input_is_refused(void)
{
	struct svg_trend t = base();

	memset(pts, 0, sizeof(pts));
	pts[10] = (struct svg_trend_point){ .min = NAN, .max = NAN, .mean = NAN, .n = 3 }; /* not drawn */
	CHECK_INT(render(&t), 0);
	CHECK(strstr(out, ">Không có dữ liệu</text>") != NULL);
	CHECK_INT(count(out, "<path class=\"range"), 0);
	CHECK(!strstr(out, "nan"));
	CHECK(well_formed(out));
	t.cls = "temp\" onload=\"x";
	CHECK_INT(render(&t), -EINVAL);
	t = base();
	t.n = 0;
	CHECK_INT(render(&t), -EINVAL);
	t = base();
	t.step_ns = 0;
	CHECK_INT(render(&t), -EINVAL);
}

int main(void)
{
	tl_prog = "unit/svg_trend";
	RUN(test_runs_of_data_are_drawn_and_a_gap_breaks_them);
	RUN(test_the_title_is_escaped_and_given_to_screen_readers);
	RUN(test_time_ticks_are_in_the_sites_zone);
	RUN(test_no_data_says_so_and_bad_input_is_refused);
	free(out);
	return TL_DONE();
}
