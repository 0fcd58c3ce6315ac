/* test_i18n.c - the words people read, per request, with no locale
 * installed (daemon/i18n.c): the embedded catalogue is sound and every
 * word of the pages' table has its Vietnamese; English is the source;
 * Accept-Language picks the language by q-value. */
#include "../../daemon/i18n.h"

#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static void test_the_embedded_catalogue_is_a_sound_mo(void)
{
	CHECK_INT(i18n_check(I18N_VI), 0);
	CHECK_INT(i18n_check(I18N_EN), 0);
}

static void test_words_come_out_in_vietnamese_with_diacritics(void)
{
	CHECK_STR(i18n_tr(I18N_VI, "Cold store"), "Kho lạnh");
	CHECK_STR(i18n_tr(I18N_VI, "Room"), "Phòng");
	CHECK_STR(i18n_tr(I18N_VI, "Lot"), "Lô hàng");
	CHECK_STR(i18n_tr(I18N_VI, "Remaining shelf life"), "Hạn sử dụng còn lại");
	CHECK_STR(i18n_tr(I18N_VI, "Acknowledge"), "Xác nhận");
	CHECK_STR(i18n_tr(I18N_VI, "Shelved"), "Đang tạm hoãn");
	CHECK_STR(i18n_tr(I18N_VI, "%d min"), "%d phút");
	CHECK_STR(i18n_ntr(I18N_VI, "%lu lot", "%lu lots", 3), "%lu lô hàng");
}

static void test_every_word_of_the_pages_table_is_translated(void)
{
	size_t n = 0;

	for (const char *const *w = i18n_words; *w; w++, n++)
		if (strcmp(i18n_tr(I18N_VI, *w), *w) == 0) {
			printf("    no Vietnamese for \"%s\"\n", *w);
			tl_cur_failed = 1;
		}
	CHECK(n >= 40);
}

static void test_english_and_unknown_words_come_back_as_given(void)
{
	const char *w = "Room";

	CHECK(i18n_tr(I18N_EN, w) == w);
	CHECK_STR(i18n_tr(I18N_VI, "No such word here"), "No such word here");
	CHECK_STR(i18n_tr(I18N_VI, ""), "");
	CHECK(i18n_tr(I18N_VI, NULL) == NULL);
	CHECK(i18n_tr(42, w) == w);
	CHECK_STR(i18n_ntr(I18N_EN, "%lu lot", "%lu lots", 1), "%lu lot");
	CHECK_STR(i18n_ntr(I18N_EN, "%lu lot", "%lu lots", 2), "%lu lots");
}

static void test_accept_language_picks_by_q_value(void)
{
	CHECK_INT(i18n_lang_from_accept("vi"), I18N_VI);
	CHECK_INT(i18n_lang_from_accept("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7"), I18N_VI);
	CHECK_INT(i18n_lang_from_accept("en-US,en;q=0.9,vi;q=0.8"), I18N_EN);
	CHECK_INT(i18n_lang_from_accept("fr-FR, en;q=0.5, vi;q=0.4"), I18N_EN);
	CHECK_INT(i18n_lang_from_accept("en;q=0.4, vi;q=0.5"), I18N_VI);
	CHECK_INT(i18n_lang_from_accept("EN-gb"), I18N_EN);
	CHECK_INT(i18n_lang_from_accept("en;q=0, fr"), I18N_VI); /* q=0: not acceptable */
	CHECK_INT(i18n_lang_from_accept_or("de, *;q=0.1", I18N_EN), I18N_EN);
	CHECK_INT(i18n_lang_from_accept("fr"), I18N_VI);
	CHECK_INT(i18n_lang_from_accept_or(NULL, I18N_EN), I18N_EN);
	CHECK_INT(i18n_lang_from_accept_or("", I18N_EN), I18N_EN);
	CHECK_INT(i18n_lang_from_accept("venetian"), I18N_VI);
	CHECK_INT(i18n_lang_from_accept_or("vietnamese-x", I18N_EN), I18N_EN); /* not "vi" */
	CHECK_INT(i18n_lang_from_accept("en;q=2"), I18N_VI);     /* malformed weight: ignored */
	CHECK_INT(i18n_lang_from_accept("en;q=0.5x"), I18N_VI);
	CHECK_INT(i18n_lang_from_accept(";;,,, ,en"), I18N_EN);
	CHECK_STR(i18n_lang_code(I18N_VI), "vi");
	CHECK_STR(i18n_lang_code(I18N_EN), "en");
}

static void test_a_huge_accept_language_is_read_only_up_to_its_bound(void)
{
	size_t n = 100000;
	char *h = malloc(n + 8);

	/* "fr," repeated, then "en": past the item and byte bounds, not read */
	for (size_t i = 0; i + 3 <= n; i += 3)
		memcpy(h + i, "fr,", 3);
	strcpy(h + n - n % 3, "en");
	CHECK_INT(i18n_lang_from_accept("fr,fr,en"), I18N_EN);
	CHECK_INT(i18n_lang_from_accept(h), I18N_VI);
	free(h);
}

int main(void)
{
	tl_prog = "unit/i18n";
	RUN(test_the_embedded_catalogue_is_a_sound_mo);
	RUN(test_words_come_out_in_vietnamese_with_diacritics);
	RUN(test_every_word_of_the_pages_table_is_translated);
	RUN(test_english_and_unknown_words_come_back_as_given);
	RUN(test_accept_language_picks_by_q_value);
	RUN(test_a_huge_accept_language_is_read_only_up_to_its_bound);
	return TL_DONE();
}
