/* test_smtp.c - the e-mail transport's pure parts (outputs/smtp.h): the
 * address check, the From parse, and the message: Date, RFC 2047 subject,
 * quoted-printable body, CRLF, line lengths, refusals of CR/LF. */
#include "../../outputs/smtp.h"

#include <errno.h>
#include <stdlib.h>

#include "../../outputs/transport.h"
#include "testlib.h"

static void test_address_check_accepts_one_bare_address_only(void)
{
	CHECK(smtp_address_ok("an@farm.example.vn"));
	CHECK(smtp_address_ok("a.b+alarms@x.vn"));
	CHECK(!smtp_address_ok(""));
	CHECK(!smtp_address_ok("an"));
	CHECK(!smtp_address_ok("@x.vn"));
	CHECK(!smtp_address_ok("an@"));
	CHECK(!smtp_address_ok("a@b@c"));
	CHECK(!smtp_address_ok("an@x.vn\r\nRCPT TO:<e@x>"));
	CHECK(!smtp_address_ok("an@x.vn\n"));
	CHECK(!smtp_address_ok("an @x.vn"));
	CHECK(!smtp_address_ok("<an@x.vn>"));
	CHECK(!smtp_address_ok("an@x.vn,b@y.vn"));
	CHECK(!smtp_address_ok("\xc3\xa1n@x.vn"));
}

static void test_from_gives_the_angle_address_and_its_domain(void)
{
	char a[300], d[300];

	CHECK_INT(smtp_from_parse("coldchaind <alarms@example.vn>", a, sizeof(a), d, sizeof(d)), 0);
	CHECK_STR(a, "alarms@example.vn");
	CHECK_STR(d, "example.vn");
	CHECK_INT(smtp_from_parse("alarms@kho.vn", a, sizeof(a), d, sizeof(d)), 0);
	CHECK_STR(d, "kho.vn");
	CHECK_INT(smtp_from_parse("x <alarms@kho.vn>\r\nBcc: e@x", a, sizeof(a), d, sizeof(d)), -EINVAL);
	CHECK_INT(smtp_from_parse("x <alarms@kho.vn", a, sizeof(a), d, sizeof(d)), -EINVAL);
	CHECK_INT(smtp_from_parse("no address", a, sizeof(a), d, sizeof(d)), -EINVAL);
}

static char *build(const char *subject, const char *text, int rc_expected)
{
	struct transport_msg m = {.subject = subject, .text = text, .alarm_id = "7f3a", .critical = 1};
	char *out = NULL;
	size_t len = 0;

	CHECK_INT(smtp_message_build("Kho lạnh <alarms@kho.vn>", "an@kho.vn", &m, 1796324135, "1.2@kho.vn", &out,
				     &len),
		  rc_expected);
	if (out)
		CHECK_INT(strlen(out), len);
	return out;
}

/* Every line ends in CRLF, none longer than 76, no 8-bit byte. */
static void check_lines(const char *msg)
{
	const char *p = msg;

	while (*p) {
		const char *e = strstr(p, "\r\n");

		CHECK(e != NULL);
		if (!e)
			return;
		CHECK(e - p <= 76);
		for (const char *q = p; q < e; q++)
			CHECK(*q != '\n' && *q != '\r' && (unsigned char)*q < 0x80);
		p = e + 2;
	}
}

static void test_message_headers_date_subject_and_qp_body(void)
{
	char *m = build("Cảnh báo: nhiệt độ cao", "a=b\nline end \nx\n.dot\n", 0);

	CHECK(m && strstr(m, "Date: Thu, 03 Dec 2026 18:55:35 +0000\r\n"));
	CHECK(m && strstr(m, "From: =?UTF-8?B?S2hvIGzhuqFuaA==?= <alarms@kho.vn>\r\n"));
	CHECK(m && strstr(m, "To: an@kho.vn\r\n"));
	CHECK(m && strstr(m, "Subject: =?UTF-8?B?Q+G6o25oIGLDoW86IG5oaeG7h3QgxJHhu5kgY2Fv?=\r\n"));
	CHECK(m && strstr(m, "Message-ID: <1.2@kho.vn>\r\n"));
	CHECK(m && strstr(m, "Content-Type: text/plain; charset=UTF-8\r\n"));
	CHECK(m && strstr(m, "Content-Transfer-Encoding: quoted-printable\r\n"));
	CHECK(m && strstr(m, "X-Coldchaind-Alarm: 7f3a\r\nImportance: high\r\n"));
	/* '=' encoded, the trailing space encoded, the dot left to libcurl */
	CHECK(m && strstr(m, "\r\n\r\na=3Db\r\nline end=20\r\nx\r\n.dot\r\n"));
	if (m)
		check_lines(m);
	free(m);
}

static void test_long_subject_and_body_fold_within_76_without_splitting_a_character(void)
{
	char subject[600] = "", text[3000] = "";
	char *m;

	for (int i = 0; i < 60; i++)
		strcat(subject, "độ ");
	for (int i = 0; i < 300; i++)
		strcat(text, "Dài ");
	m = build(subject, text, 0);
	CHECK(m && strstr(m, "?=\r\n =?UTF-8?B?"));
	if (m)
		check_lines(m);
	free(m);
}

static void test_crlf_in_subject_or_address_is_refused(void)
{
	struct transport_msg msg = {.subject = "ok", .text = "x"};
	char *out = NULL;
	size_t len;

	CHECK(build("hi\r\nBcc: e@x.vn", "x", -EINVAL) == NULL);
	CHECK(build("hi\nBcc: e@x.vn", "x", -EINVAL) == NULL);
	CHECK_INT(smtp_message_build("a@kho.vn", "an@kho.vn\r\nBcc: e@x", &msg, 0, "1@kho.vn", &out, &len), -EINVAL);
	CHECK(out == NULL);
}

int main(void)
{
	tl_prog = "unit/smtp";
	RUN(test_address_check_accepts_one_bare_address_only);
	RUN(test_from_gives_the_angle_address_and_its_domain);
	RUN(test_message_headers_date_subject_and_qp_body);
	RUN(test_long_subject_and_body_fold_within_76_without_splitting_a_character);
	RUN(test_crlf_in_subject_or_address_is_refused);
	return TL_DONE();
}
