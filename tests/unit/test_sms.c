/* test_sms.c - codec/sms.c: GSM-7 detection and counting, UCS-2 hex both
 * ways (Vietnamese, an emoji as a surrogate pair), splitting with "(k/n) "
 * prefixes at word boundaries, max_parts and the ellipsis. */
#include "../../codec/sms.h"
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>

static void test_gsm7_detection_counts_extension_chars_twice(void)
{
	size_t n = 0;
	CHECK(sms_is_gsm7("Kho 2: 9.5 C > 8 C", &n));
	CHECK_INT(n, 18);
	CHECK(sms_is_gsm7("{x} 5\xE2\x82\xAC", &n)); /* { } € are extension characters */
	CHECK_INT(n, 9);
	CHECK(sms_is_gsm7("@\xC3\xA9\xC3\x9F\xCE\x94_", &n)); /* @ é ß Δ _ */
	CHECK_INT(n, 5);
	CHECK(!sms_is_gsm7("Nhi\xE1\xBB\x87t \xC4\x91\xE1\xBB\x99 cao", &n)); /* Nhiệt độ */
	CHECK(!sms_is_gsm7("\xC3\xA1", &n)); /* á is not in the alphabet */
	CHECK(!sms_is_gsm7("`", &n));
	CHECK(!sms_is_gsm7("\xC3", &n)); /* truncated UTF-8 */
	CHECK_INT(sms_units("a[b]", SMS_GSM7), 6);
	CHECK_INT(sms_units("\xF0\x9F\xA5\xB6x", SMS_UCS2), 3); /* 🥶 is a surrogate pair */
}

static void test_charset_for_text_mode_avoids_unsafe_codes(void)
{
	CHECK_INT(sms_charset_for("Cold room 2: 9.5 C"), SMS_GSM7);
	CHECK_INT(sms_charset_for("Ph\xC3\xB2ng l\xE1\xBA\xA1nh"), SMS_UCS2);
	CHECK_INT(sms_charset_for("a [b]"), SMS_UCS2); /* ESC cancels text input */
	CHECK_INT(sms_charset_for("a@b"), SMS_UCS2);   /* '@' is 0x00 */
	CHECK_INT(sms_charset_for("\xCE\x9E"), SMS_UCS2); /* Ξ is 0x1A, Ctrl-Z */
}

static void test_gsm_encoding_round_trips(void)
{
	char b[64], u[128];
	long n = sms_gsm_encode("$_\xC3\xA9{", b, sizeof b);
	CHECK_INT(n, 5);
	CHECK(b[0] == 0x02 && b[1] == 0x11 && b[2] == 0x05 && b[3] == 0x1B && b[4] == 0x28);
	CHECK_INT(sms_gsm_decode(b, (size_t)n, u, sizeof u), 5);
	CHECK_STR(u, "$_\xC3\xA9{");
	CHECK_INT(sms_gsm_encode("\xE1\xBA\xA1", b, sizeof b), -EINVAL);
	CHECK_INT(sms_gsm_encode("abcdef", b, 4), -ENOSPC);
}

static void test_ucs2_vietnamese_and_emoji(void)
{
	const char *vi = "Nhi\xE1\xBB\x87t \xC4\x91\xE1\xBB\x99 \xC6\xB0"; /* Nhiệt độ ư */
	char *h = sms_ucs2_hex(vi), *back;
	CHECK_STR(h, "004E006800691EC70074002001111ED9002001B0");
	free(h);
	h = sms_ucs2_hex("\xE1\xBB\x87\xF0\x9F\xA5\xB6"); /* ệ 🥶 */
	CHECK_STR(h, "1EC7D83EDD76");
	back = sms_ucs2_unhex(h);
	CHECK_STR(back, "\xE1\xBB\x87\xF0\x9F\xA5\xB6");
	free(back);
	free(h);
	back = sms_ucs2_unhex("00e1");
	CHECK_STR(back, "\xC3\xA1");
	free(back);
	CHECK(sms_ucs2_unhex("D83E") == NULL);  /* lone high surrogate */
	CHECK(sms_ucs2_unhex("DD76") == NULL);  /* lone low surrogate */
	CHECK(sms_ucs2_unhex("00G1") == NULL);
	CHECK(sms_ucs2_unhex("004") == NULL);
	CHECK(sms_ucs2_hex("\xFF") == NULL);
}

static void test_short_text_is_one_part_without_prefix(void)
{
	struct sms_parts p;
	char t[161];
	memset(t, 'x', 160);
	t[160] = 0;
	CHECK_INT(sms_split(t, 3, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK_INT(p.cs, SMS_GSM7);
	CHECK_STR(p.part[0], t);
	sms_parts_free(&p);
}

static void check_parts_fit(const struct sms_parts *p)
{
	size_t i;
	for (i = 0; i < p->n; i++)
		CHECK(sms_units(p->part[i], p->cs) <= (p->cs == SMS_GSM7 ? SMS_GSM7_MAX : SMS_UCS2_MAX));
}

static void test_long_text_splits_at_words_with_prefixes(void)
{
	struct sms_parts p;
	char t[400] = "";
	int i;
	for (i = 0; i < 40; i++)
		strcat(t, "word"), strcat(t, i % 2 ? "s " : " ");
	/* 40 words, 200 septets -> 2 parts of at most 160 including "(k/2) " */
	CHECK_INT(sms_split(t, 3, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK(!p.truncated);
	CHECK(strncmp(p.part[0], "(1/2) word words", 16) == 0);
	CHECK(strncmp(p.part[1], "(2/2) ", 6) == 0);
	CHECK(p.part[0][strlen(p.part[0]) - 1] != ' ');
	CHECK(p.part[1][6] == 'w');
	CHECK_INT(strlen(p.part[0]) - 6 + 1 + strlen(p.part[1]) - 6, strlen(t) - 1);
	check_parts_fit(&p);
	sms_parts_free(&p);
}

static void test_vietnamese_long_text_splits_in_ucs2_units(void)
{
	struct sms_parts p;
	char t[1024] = "";
	int i;
	for (i = 0; i < 20; i++)
		strcat(t, "nhi\xE1\xBB\x87t \xC4\x91\xE1\xBB\x99 "); /* "nhiệt độ " = 9 units */
	CHECK_INT(sms_split(t, 5, &p), 0);
	CHECK_INT(p.cs, SMS_UCS2);
	CHECK_INT(p.n, 3); /* 179 units, 64 a part after "(k/3) " */
	check_parts_fit(&p);
	CHECK(strncmp(p.part[2], "(3/3) ", 6) == 0);
	sms_parts_free(&p);
}

static void test_max_parts_cuts_with_an_ellipsis(void)
{
	struct sms_parts p;
	char t[2000] = "";
	int i;
	for (i = 0; i < 100; i++)
		strcat(t, "L\xC3\xB4 h\xC3\xA0ng "); /* Lô hàng */
	CHECK_INT(sms_split(t, 2, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK(p.truncated);
	CHECK(strstr(p.part[1], "\xE2\x80\xA6") != NULL);
	check_parts_fit(&p);
	sms_parts_free(&p);
	memset(t, 'a', 600);
	t[600] = 0;
	CHECK_INT(sms_split(t, 3, &p), 0); /* one 600-letter word: cut between letters */
	CHECK_INT(p.n, 3);
	CHECK(p.truncated);
	CHECK_INT(strlen(p.part[0]), 160);
	CHECK_STR(p.part[2] + strlen(p.part[2]) - 3, "...");
	check_parts_fit(&p);
	sms_parts_free(&p);
	CHECK_INT(sms_split("x", 0, &p), -EINVAL);
	CHECK_INT(sms_split("\xC3", 1, &p), -EINVAL);
}

static void test_the_reply_hint_is_never_split(void)
{
	struct sms_parts p;
	char t[256];
	/* 146 letters, then " Tra OK 67f0 ...": the first part's 154 units after
	 * "(1/2) " end right after "OK"; the split goes before it instead */
	memset(t, 'x', 146);
	strcpy(t + 146, " Tra OK 67f0 de xac nhan.");
	CHECK_INT(sms_split(t, 3, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK_STR(p.part[1], "(2/2) OK 67f0 de xac nhan.");
	check_parts_fit(&p);
	sms_parts_free(&p);
}

static void test_emoji_is_never_split_inside_its_pair(void)
{
	struct sms_parts p;
	char t[1024] = "";
	int i;
	for (i = 0; i < 50; i++)
		strcat(t, "\xF0\x9F\xA5\xB6"); /* 100 units, no spaces */
	CHECK_INT(sms_split(t, 3, &p), 0);
	CHECK_INT(p.n, 2);
	check_parts_fit(&p);
	for (i = 0; i < (int)p.n; i++)
		CHECK(sms_units(p.part[i], SMS_UCS2) % 2 == 0);
	sms_parts_free(&p);
}

/* A modem's sender in the forms it may take, for a recipient configured in E.164. */
static void test_number_match_full_national_and_foreign(void)
{
	CHECK_INT(sms_number_match("+84987654321", "+84987654321"), 2);
	CHECK_INT(sms_number_match("+84987654321", "84987654321"), 2);
	CHECK_INT(sms_number_match("+84987654321", "0084987654321"), 2);
	CHECK_INT(sms_number_match("+84987654321", "+84 987-654.321"), 2);
	CHECK_INT(sms_number_match("+84987654321", "0987654321"), 1);
	CHECK_INT(sms_number_match("+84987654321", "0987 654 321"), 1);
	/* another number, another country written in full, a short code */
	CHECK_INT(sms_number_match("+84987654321", "0987654322"), 0);
	CHECK_INT(sms_number_match("+84987654321", "+85987654321"), 0);
	CHECK_INT(sms_number_match("+84987654321", "+4987654321"), 0);
	CHECK_INT(sms_number_match("+84987654321", "0054321"), 0);
	CHECK_INT(sms_number_match("+84987654321", "054321"), 0);
	/* a national form that would leave no country code, or 4 digits of it */
	CHECK_INT(sms_number_match("+84987654321", "084987654321"), 0);
	CHECK_INT(sms_number_match("+8412987654321", "0987654321"), 0);
	/* not a number at all; nothing configured in E.164 */
	CHECK_INT(sms_number_match("+84987654321", "Viettel"), 0);
	CHECK_INT(sms_number_match("+84987654321", ""), 0);
	CHECK_INT(sms_number_match("84987654321", "84987654321"), 0);
	CHECK_INT(sms_number_match(NULL, "0987654321"), 0);
}

int main(void)
{
	tl_prog = "sms";
	RUN(test_number_match_full_national_and_foreign);
	RUN(test_gsm7_detection_counts_extension_chars_twice);
	RUN(test_charset_for_text_mode_avoids_unsafe_codes);
	RUN(test_gsm_encoding_round_trips);
	RUN(test_ucs2_vietnamese_and_emoji);
	RUN(test_short_text_is_one_part_without_prefix);
	RUN(test_long_text_splits_at_words_with_prefixes);
	RUN(test_vietnamese_long_text_splits_in_ucs2_units);
	RUN(test_max_parts_cuts_with_an_ellipsis);
	RUN(test_the_reply_hint_is_never_split);
	RUN(test_emoji_is_never_split_inside_its_pair);
	return TL_DONE();
}
