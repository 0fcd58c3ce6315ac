/* test_promtext.c - the self-metrics as Prometheus text: names joined from
 * measurement and field, tags as labels with the format's escapes, HELP and
 * TYPE once per family (gauge or counter by the table), samples of a family
 * together, timestamps in ms, string fields left out, bad lines skipped. */
#include "../../codec/promtext.h"

#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static char *conv(const char *lp, size_t *skipped)
{
	struct lp_buf out;
	char *s;

	lp_buf_init(&out);
	CHECK_INT(prom_from_lineproto(lp, strlen(lp), &out, skipped), 0);
	s = strdup(out.data ? out.data : "");
	lp_buf_free(&out);
	return s;
}

static void test_output_point_becomes_one_family_per_numeric_field(void)
{
	size_t sk = 9;
	char *s = conv("coldchaind_output,output=influx,site=lucngan written=12i,pending=3i,oldest_age_s=1.5,"
		       "unauthorised=false,last_error=\"Connection refused\" 1796322796638000000\n",
		       &sk);

	CHECK_INT(sk, 0);
	CHECK(strstr(s, "# HELP coldchaind_output_written ") != NULL);
	CHECK(strstr(s, "# TYPE coldchaind_output_written counter\n"
			"coldchaind_output_written{output=\"influx\",site=\"lucngan\"} 12 1796322796638\n") != NULL);
	CHECK(strstr(s, "# TYPE coldchaind_output_pending gauge\n") != NULL);
	CHECK(strstr(s, "coldchaind_output_oldest_age_s{output=\"influx\",site=\"lucngan\"} 1.5 1796322796638\n") != NULL);
	CHECK(strstr(s, "coldchaind_output_unauthorised{output=\"influx\",site=\"lucngan\"} 0 ") != NULL);
	CHECK(strstr(s, "last_error") == NULL);
	CHECK(strstr(s, "Connection refused") == NULL);
	free(s);
}

static void test_label_values_are_escaped(void)
{
	/* line protocol: a backslash, a quote; the tag key "unit id" is no label name */
	char *s = conv("m,a=x\\y,b=say\"hi\",unit\\ id=5 v=1i 1000000\n", NULL);

	CHECK(strstr(s, "m_v{a=\"x\\\\y\",b=\"say\\\"hi\\\"\",unit_id=\"5\"} 1 1\n") != NULL);
	free(s);
}

static void test_samples_of_a_family_stay_together_in_line_order(void)
{
	char *s = conv("coldchaind_modbus,sensor=a requests=1i,down=true 2000000\n"
		       "coldchaind_journal bytes=10i 2000000\n"
		       "coldchaind_modbus,sensor=b requests=2i,down=false 2000000\n",
		       NULL);
	const char *a = strstr(s, "coldchaind_modbus_requests{sensor=\"a\"} 1 2\n");
	const char *b = strstr(s, "coldchaind_modbus_requests{sensor=\"b\"} 2 2\n");
	const char *j = strstr(s, "# TYPE coldchaind_journal_bytes gauge\n");

	CHECK(a && b && j);
	CHECK(a && b && b == a + strlen("coldchaind_modbus_requests{sensor=\"a\"} 1 2\n"));
	CHECK(strstr(s, "coldchaind_modbus_down{sensor=\"a\"} 1 2\n") != NULL);
	CHECK(strstr(s, "# TYPE coldchaind_modbus_down gauge\n") != NULL);
	/* one HELP and one TYPE per family */
	CHECK(strstr(strstr(s, "# TYPE coldchaind_modbus_requests") + 1, "# TYPE coldchaind_modbus_requests") == NULL);
	free(s);
}

static void test_floats_and_integers_print_exactly(void)
{
	char *s = conv("m f=0.1,g=-1e-300,i=-9223372036854775808i,u=18446744073709551615u 1\n", NULL);

	CHECK(strstr(s, "m_f 0.10000000000000001 0\n") != NULL);
	CHECK(strstr(s, "m_g -1e-300 0\n") != NULL);
	CHECK(strstr(s, "m_i -9223372036854775808 0\n") != NULL);
	CHECK(strstr(s, "m_u 18446744073709551615 0\n") != NULL);
	free(s);
}

static void test_timestamps_are_milliseconds_and_optional(void)
{
	char *s = conv("m v=1i 1796322796638999999\nn v=2i\nneg v=3i -1\n", NULL);

	CHECK(strstr(s, "m_v 1 1796322796638\n") != NULL);
	CHECK(strstr(s, "n_v 2\n") != NULL);
	CHECK(strstr(s, "neg_v 3 -1\n") != NULL);
	free(s);
}

static void test_bad_lines_are_skipped_and_counted(void)
{
	size_t sk = 0;
	char *s = conv("garbage\nm v=1i 1000000\n,=\n\n", &sk);

	CHECK_INT(sk, 2);
	CHECK(strstr(s, "m_v 1 1\n") != NULL);
	free(s);
	s = conv("", &sk);
	CHECK_STR(s, "");
	CHECK_INT(sk, 0);
	free(s);
}

static void test_gauge_table(void)
{
	CHECK_INT(prom_is_gauge("coldchaind_output", "pending"), 1);
	CHECK_INT(prom_is_gauge("coldchaind_output", "written"), 0);
	CHECK_INT(prom_is_gauge("coldchaind_mqtt", "connected"), 1);
	CHECK_INT(prom_is_gauge("coldchaind_web", "connections"), 1);
	CHECK_INT(prom_is_gauge("coldchaind_web", "requests_2xx"), 0);
}

int main(void)
{
	tl_prog = "unit/promtext";
	RUN(test_output_point_becomes_one_family_per_numeric_field);
	RUN(test_label_values_are_escaped);
	RUN(test_samples_of_a_family_stay_together_in_line_order);
	RUN(test_floats_and_integers_print_exactly);
	RUN(test_timestamps_are_milliseconds_and_optional);
	RUN(test_bad_lines_are_skipped_and_counted);
	RUN(test_gauge_table);
	return TL_DONE();
}
