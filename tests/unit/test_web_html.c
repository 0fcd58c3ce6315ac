/* test_web_html.c - the pages' small writers (daemon/web/html.c): the
 * contract's DOM ids, redirect targets kept on the site, numbers in the
 * page's language with their unit, URL path segments, and the token
 * comparison behind the login form's CSRF pair. */
#include "../../daemon/web/web_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/i18n.h"
#include "testlib.h"

static char *out;
static size_t outlen;

static FILE *mem(void)
{
	free(out);
	out = NULL;
	return open_memstream(&out, &outlen);
}

static void test_dom_id_replaces_anything_outside_the_safe_set(void)
{
	char b[16];

	web_dom_id("Phòng A/1 \"x\"", b, sizeof(b));
	CHECK_STR(b, "Ph__ng_A_1__x_");
	web_dom_id("A-b_9", b, sizeof(b));
	CHECK_STR(b, "A-b_9");
	web_dom_id("abcdefghijklmnopqrstuvwxyz", b, 8);
	CHECK_STR(b, "abcdefg");
}

static void test_next_stays_on_this_site(void)
{
	CHECK(web_next_ok("/alarms"));
	CHECK(web_next_ok("/room/A?x=1"));
	CHECK(!web_next_ok("//evil.example/"));
	CHECK(!web_next_ok("/\\evil.example"));
	CHECK(!web_next_ok("https://evil.example/"));
	CHECK(!web_next_ok("/a\r\nSet-Cookie: x=1"));
	CHECK(!web_next_ok(""));
	CHECK(!web_next_ok(NULL));
}

static void test_numbers_follow_the_language_and_carry_units(void)
{
	FILE *o = mem();

	web_num(o, I18N_VI, 4.25, 1, "°C");
	fputc('|', o);
	web_num(o, I18N_EN, 4.25, 1, "°C");
	fputc('|', o);
	web_num(o, I18N_VI, NAN, 1, "°C");
	fputc('|', o);
	web_num(o, I18N_EN, 91.6, 0, "%");
	fclose(o);
	/* %.1f of 4.25 rounds to even: 4.2 */
	CHECK_STR(out, "4,2 °C|4.2 °C|–|92 %");
}

static void test_url_segments_are_percent_encoded(void)
{
	FILE *o = mem();

	web_url_seg(o, "LOT 1/ä&\"");
	fputc('|', o);
	web_url_path(o, "/room/Kho 1/ä?x");
	fclose(o);
	CHECK_STR(out, "LOT%201%2F%C3%A4%26%22|/room/Kho%201/%C3%A4%3Fx");
}

static void test_token_compare_needs_equal_nonempty_strings(void)
{
	CHECK(web_token_eq("abc", "abc"));
	CHECK(!web_token_eq("abc", "abd"));
	CHECK(!web_token_eq("abc", "abcd"));
	CHECK(!web_token_eq("abcd", "abc"));
	CHECK(!web_token_eq("", ""));
	CHECK(!web_token_eq(NULL, "abc"));
	CHECK(!web_token_eq("abc", NULL));
}

int main(void)
{
	tl_prog = "unit/web_html";
	RUN(test_dom_id_replaces_anything_outside_the_safe_set);
	RUN(test_next_stays_on_this_site);
	RUN(test_numbers_follow_the_language_and_carry_units);
	RUN(test_url_segments_are_percent_encoded);
	RUN(test_token_compare_needs_equal_nonempty_strings);
	free(out);
	return TL_DONE();
}
