/* test_report_labels.c - the lot report's labels for the profile numbers
 * (report/report_labels.c): a label for people, never the raw key, for the
 * storage and process groups, list elements numbered from 1, and a key with
 * no label of its own spelt out with its unit. */
#include "../../report/report_labels.h"

#include <string.h>

#include "testlib.h"

static int raw_key_in(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '_' || (*p == '.' && p[1] >= 'a' && p[1] <= 'z' && p > s && p[-1] >= 'a' && p[-1] <= 'z'))
			return 1;
	return 0;
}

static void test_storage_numbers_have_labels_for_people(void)
{
	char b[256];

	CHECK_STR(report_param_label("model", "ea", -1, b, sizeof(b)), "Shelf-life model: activation energy Ea (kJ/mol)");
	CHECK_STR(report_param_label("limits", "band_low", -1, b, sizeof(b)),
		  "Alarm limits: storage band, lower end (°C)");
	CHECK_STR(report_param_label("chill", "alarm_kh", -1, b, sizeof(b)), "Chilling injury: chilling dose alarm (K·h)");
}

static void test_list_elements_are_numbered_from_one(void)
{
	char b[256];

	CHECK_STR(report_param_label("drying.schedule", "duration", 1, b, sizeof(b)), "Drying, stage 2: planned length");
	CHECK_STR(report_param_label("fumigation.worker_limits", "twa", 0, b, sizeof(b)),
		  "Fumigation, worker exposure limits 1: time-weighted average limit (ppm)");
}

static void test_a_key_without_a_label_is_spelt_out(void)
{
	char b[256];

	CHECK_STR(report_param_label("processes", "free_volume", -1, b, sizeof(b)),
		  "Processing line: chamber free volume (m³)");
	CHECK_STR(report_param_label("processes", "spare_volume", -1, b, sizeof(b)), "Processing line: spare volume");
	CHECK_STR(report_param_label("new_group.sub", "core_max_c", -1, b, sizeof(b)), "New group sub: core max (°C)");
	report_key_words("model_ea_kj_mol", b, sizeof(b));
	CHECK_STR(b, "Model ea (kJ/mol)");
	CHECK(!raw_key_in(report_param_label("a_b.c_d", "e_f_g", 3, b, sizeof(b))));
	/* bounded: a label longer than the buffer is cut, never overflows */
	char tiny[8];
	report_param_label("model", "ea", -1, tiny, sizeof(tiny));
	CHECK_INT((long)strlen(tiny), 7);
}

int main(void)
{
	tl_prog = "unit/report_labels";
	RUN(test_storage_numbers_have_labels_for_people);
	RUN(test_list_elements_are_numbered_from_one);
	RUN(test_a_key_without_a_label_is_spelt_out);
	return TL_DONE();
}
