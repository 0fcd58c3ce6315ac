/* test_engine_batch2.c - fumigation and drying batches through the engine
 * (issue 14): processing.md's S2 samples on an outside sensor (STEL 5.667
 * ppm, a latched stel alarm), S3's chamber readings (CT 3750 ppm·h), D1's
 * load-cell mass (MC 28.00 % wb), a kiln unloaded wet (pulled_wet), and a
 * restart from the snapshot in the middle of each that continues with the
 * same figures.  What the engine emits is collected by test callbacks. */
#include "../../daemon/engine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/util.h"
#include "testlib.h"
#include "engine_collect.h"
#include "engine_fixture.h"

#include <cjson/cJSON.h>

#define MIN_NS (60LL * 1000000000LL)
#define H_NS (60 * MIN_NS)

static int64_t START;

static int load(void)
{
	return ef_load("c.conf",
		       EF_CONF_LYCHEE_ROOM /* state_dir = dir */
		       "process_profiles = ( { name = \"fum\"; version = \"v1\"; kind = \"fumigation\";\n"
		       "  fumigation = { entry_limit = (2.0, \"D\"); exposure_max_gap = \"2m\"; worker_limit = \"niosh-rel\";\n"
		       "    worker_limits = ( { name = \"niosh-rel\"; twa = (2.0, \"A: NIOSH\"); twa_period = (\"10h\", \"A: NIOSH\");\n"
		       "      stel = (5.0, \"A: NIOSH\"); } ); }; },\n"
		       " { name = \"kiln\"; version = \"v1\"; kind = \"drying\";\n"
		       "  drying = { target_mc_wb = (22.5, \"D\"); mass_ratio = (0.3333, \"B: Luc Ngan\"); scorch_limit = (80.0, \"A: x\");\n"
		       "    schedule = ( { name = \"kiln\"; duration = (\"4d\", \"B: x\"); air_min = (45.0, \"D\"); air_max = (65.0, \"B: x\"); } ); }; } );\n"
		       "processes = ( { name = \"chamber-1\"; kind = \"fumigation\"; chamber = \"fc1/so2\"; outside = [ \"fc1/door_so2\" ]; },\n"
		       "  { name = \"chamber-2\"; kind = \"fumigation\"; chamber = \"fc2/so2\"; outside = [ \"fc2/door_so2\" ];\n"
		       "    free_volume = (60.0, \"D\"); sulphur_dose = (1.25, \"A: Kremer-Koehne\"); air_changes = (10.0, \"D\"); },\n"
		       "  { name = \"chamber-3\"; kind = \"fumigation\"; chamber = \"fc3/so2\"; outside = [ \"fc3/door_so2\" ];\n"
		       "    purge_fan = \"fc3/fan\"; door = \"fc3/door\"; air_changes = (10.0, \"D\"); },\n"
		       "  { name = \"kiln-1\"; kind = \"drying\"; air = \"k1/air\"; loadcell = \"k1/mass\"; },\n"
		       "  { name = \"kiln-2\"; kind = \"drying\"; air = \"k2/air\"; loadcell = \"k2/mass\"; } );\n"
		       "alarms = { stale_after = \"1d\"; renotify = \"0s\"; escalate = \"0s\"; };\n"
		       "outputs = { file = ( { path = \"-\"; } ); };\n",
		       dir);
}

static struct cc_channel ch_out_1 = { .id = "fc1/door_so2", .quantity = "so2", .sensor = "fc1", .name = "door_so2" };
static struct cc_channel ch_so2_2 = { .id = "fc2/so2", .quantity = "so2", .sensor = "fc2", .name = "so2" };
static struct cc_channel ch_out_2 = { .id = "fc2/door_so2", .quantity = "so2", .sensor = "fc2", .name = "door_so2" };
static struct cc_channel ch_so2_3 = { .id = "fc3/so2", .quantity = "so2", .sensor = "fc3", .name = "so2" };
static struct cc_channel ch_fan_3 = { .id = "fc3/fan", .quantity = "fan", .sensor = "fc3", .name = "fan" };
static struct cc_channel ch_door_3 = { .id = "fc3/door", .quantity = "door", .sensor = "fc3", .name = "door" };
static struct cc_channel ch_air_1 = { .id = "k1/air", .quantity = "temperature", .sensor = "k1", .name = "air" };
static struct cc_channel ch_mass_1 = { .id = "k1/mass", .quantity = "mass", .sensor = "k1", .name = "mass" };
static struct cc_channel ch_mass_2 = { .id = "k2/mass", .quantity = "mass", .sensor = "k2", .name = "mass" };

static void feed(struct cc_channel *ch, int64_t ts, double v)
{
	struct cc_sample s = { .ch = ch, .ts_ns = ts, .value = v, .quality = CC_Q_GOOD };
	engine_process(E, &s, 1);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const cJSON *outside0(const cJSON *st)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "outside"), 0);
}

/* S2: 1-min samples 5 × 1 ppm, 10 × 8 ppm, 5 × 1 ppm from minute `from`
 * up to (not including) minute `to`. */
static double s2_ppm(int i)
{
	return i >= 5 && i < 15 ? 8.0 : 1.0;
}

static void s2_feed(struct cc_channel *ch, int from, int to)
{
	for (int i = from; i < to; i++)
		feed(ch, START + i * MIN_NS, s2_ppm(i));
}

static void test_s2_samples_outside_give_stel_5_667_in_the_status_and_a_latched_stel_alarm(void)
{
	const char *id = "\"id\":\"chamber-1/F1/stel\"";
	struct engine_batch_opts o;
	cJSON *st;

	engine_batch_opts_init(&o, START);
	o.tonnes = 2;
	CHECK_INT(engine_batch_start_opts(E, "chamber-1", "F1", "fum", &o, "t"), 0);
	s2_feed(&ch_out_1, 0, 20);
	engine_tick(E, START + 20 * MIN_NS);
	st = engine_batch_status_json(E, "F1");
	CHECK(st && outside0(st));
	if (st && outside0(st))
		CHECK_NEAR(num(outside0(st), "stel_max_ppm"), 85.0 / 15.0, 1e-9);
	cJSON_Delete(st);
	CHECK_INT(count_with(events, nevents, id, "\"event\":\"raise\""), 1);
	CHECK_INT(count_with(lines, nlines, "process,batch=F1,kind=fumigation,process=chamber-1,profile=fum,"
					    "profile_version=v1,sensor=fc1/door_so2",
			     "stel_max_ppm=5.66666"),
		  1);
	/* a compliance alarm: the air clearing does not clear it */
	for (int i = 20; i < 60; i++)
		feed(&ch_out_1, START + i * MIN_NS, 0.2);
	engine_tick(E, START + 60 * MIN_NS);
	CHECK_STR(engine_alarm_state(E, "chamber-1/F1/stel"), "active");
	CHECK_INT(count_with(events, nevents, id, "\"event\":\"raise\""), 1);
}

/* S3: chamber readings every 5 min over 0-30 min. */
static const double s3_ppm[] = { 0, 4000, 9000, 11000, 10000, 8000, 6000 };

static void test_s3_chamber_readings_give_ct_3750_ppm_h_and_a_restart_continues_the_dose_and_the_stel(void)
{
	struct engine_batch_opts o;
	cJSON *st;

	engine_batch_opts_init(&o, START);
	o.tonnes = 2;
	CHECK_INT(engine_batch_start_opts(E, "chamber-2", "F2", "fum", &o, "t"), 0);
	CHECK_INT(engine_batch_phase(E, "F2", "burning", START, "t"), 0);
	CHECK_INT(engine_batch_phase(E, "F2", "smoking", START, "t"), -EINVAL);
	for (int i = 0; i < 4; i++)
		feed(&ch_so2_2, START + i * 5 * MIN_NS, s3_ppm[i]);
	s2_feed(&ch_out_2, 0, 10);
	engine_tick(E, START + 16 * MIN_NS);
	engine_free(E); /* as after kill -9: the last snapshot is what remains */
	E = engine_new(cfg, &collect);
	for (int i = 4; i < 7; i++)
		feed(&ch_so2_2, START + i * 5 * MIN_NS, s3_ppm[i]);
	s2_feed(&ch_out_2, 10, 20);
	engine_tick(E, START + 31 * MIN_NS);
	st = engine_batch_status_json(E, "F2");
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_NEAR(num(st, "ct_ppmh"), 3750.0, 1e-9);
	CHECK_NEAR(num(st, "ct_g_h_m3"), 9.826, 0.0005);
	CHECK_NEAR(num(st, "peak_ppm"), 11000.0, 0);
	/* 1.25 kg S/t × 2 t in 60 m³: 83.26 g/m³ (processing.md S3) */
	CHECK_NEAR(num(st, "nominal_g_m3"), 83.26, 0.005);
	CHECK(outside0(st) != NULL);
	if (outside0(st))
		CHECK_NEAR(num(outside0(st), "stel_max_ppm"), 85.0 / 15.0, 1e-9);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(st, "phase")->valuestring, "burning");
	cJSON_Delete(st);
	/* at its end the dose goes with the lot */
	CHECK_INT(engine_batch_stop(E, "F2", START + 31 * MIN_NS, "t"), 0);
	CHECK_INT(engine_batch_release(E, "F2", "L-F2", "A", NULL, "t"), 0);
	st = engine_batch_status_json(E, "F2");
	CHECK(st && strcmp(cJSON_GetObjectItemCaseSensitive(st, "phase")->valuestring, "done") == 0);
	cJSON_Delete(st);
}

/* D1: 100 kg fresh at 82 % wb, a load cell reading 25 kg. */
/* The purge fan's switch-on enters purge at its own reading's time, with
 * the chamber's concentration then (S3: 10000 ppm at 10 air changes/h,
 * 0.8517 h to 2 ppm); the door opened above the entry limit is a critical
 * alarm, and the status says re-entry is not allowed. */
static void test_the_purge_fan_enters_purge_at_its_switch_on_and_the_door_alarm_is_critical(void)
{
	const char *door = "\"id\":\"chamber-3/F3/door_open_above_entry\"";
	struct engine_batch_opts o;
	cJSON *st;

	engine_batch_opts_init(&o, START);
	CHECK_INT(engine_batch_start_opts(E, "chamber-3", "F3", "fum", &o, "t"), 0);
	CHECK_INT(engine_batch_phase(E, "F3", "burning", START, "t"), 0);
	feed(&ch_fan_3, START, 0);
	feed(&ch_door_3, START, 0);
	for (int i = 0; i < 4; i++)
		feed(&ch_so2_3, START + i * 5 * MIN_NS, s3_ppm[i]);
	feed(&ch_door_3, START + 16 * MIN_NS, 1);
	engine_tick(E, START + 16 * MIN_NS);
	CHECK_INT(count_with(events, nevents, door, "\"event\":\"raise\""), 1);
	CHECK(count_with(events, nevents, door, "\"severity\":\"critical\"") >= 1);
	st = engine_batch_status_json(E, "F3");
	CHECK(st && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "entry_allowed")));
	CHECK(st && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "entry_limit_estimate")));
	if (st)
		CHECK_NEAR(num(st, "entry_limit_ppm"), 2.0, 0);
	cJSON_Delete(st);
	feed(&ch_door_3, START + 17 * MIN_NS, 0);
	feed(&ch_so2_3, START + 20 * MIN_NS, 10000);
	feed(&ch_fan_3, START + 21 * MIN_NS, 1);
	feed(&ch_so2_3, START + 22 * MIN_NS, 9000); /* the sample after: not the start */
	engine_tick(E, START + 22 * MIN_NS);
	st = engine_batch_status_json(E, "F3");
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(st, "phase")->valuestring, "purge");
	CHECK_NEAR(num(st, "purge_start_ns"), (double)(START + 21 * MIN_NS), 1e3);
	CHECK_NEAR(num(st, "purge_estimate_h"), 0.8517, 0.00005);
	CHECK_NEAR(num(st, "purge_h"), 1.0 / 60, 1e-6); /* the status is taken at the engine clock, ms */
	cJSON_Delete(st);
}

static void test_d1_load_cell_at_25_kg_gives_28_00_percent_wb_and_a_restart_keeps_it(void)
{
	struct engine_batch_opts o;
	cJSON *st;

	engine_batch_opts_init(&o, START);
	o.mass_kg = 100;
	o.moisture_pct = 82;
	CHECK_INT(engine_batch_start_opts(E, "kiln-1", "D1", "kiln", &o, "t"), 0);
	for (int i = 1; i <= 5; i++) {
		feed(&ch_air_1, START + i * MIN_NS, 55.0);
		feed(&ch_mass_1, START + i * MIN_NS, 25.0);
	}
	engine_tick(E, START + 6 * MIN_NS);
	engine_free(E);
	E = engine_new(cfg, &collect);
	for (int i = 6; i <= 10; i++) {
		feed(&ch_air_1, START + i * MIN_NS, 55.0);
		feed(&ch_mass_1, START + i * MIN_NS, 25.0);
	}
	engine_tick(E, START + 11 * MIN_NS);
	st = engine_batch_status_json(E, "D1");
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_NEAR(num(st, "mc_wb"), 28.00, 1e-9);
	CHECK_NEAR(num(st, "mc_db"), 0.3889, 0.00005);
	CHECK_NEAR(num(st, "mass_ratio"), 0.25, 1e-12);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(st, "stage")->valuestring, "kiln");
	cJSON_Delete(st);
	CHECK_INT(count_with(lines, nlines, "process,batch=D1,kind=drying", "mc_wb=28"), 1);
}

static void test_a_kiln_unloaded_at_55_percent_wb_raises_pulled_wet_latched(void)
{
	const char *id = "\"id\":\"kiln-2/D2/pulled_wet\"";
	struct engine_batch_opts o;

	engine_batch_opts_init(&o, START);
	o.mass_kg = 100;
	o.moisture_pct = 82;
	CHECK_INT(engine_batch_start_opts(E, "kiln-2", "D2", "kiln", &o, "t"), 0);
	for (int i = 1; i <= 10; i++)
		feed(&ch_mass_2, START + i * MIN_NS, 40.0); /* 1 - 18/40 = 55 % wb */
	engine_tick(E, START + 11 * MIN_NS);
	CHECK_INT(count_with(events, nevents, id, "\"event\":\"raise\""), 0);
	CHECK_INT(engine_batch_stop(E, "D2", START + 11 * MIN_NS, "t"), 0);
	CHECK_INT(count_with(events, nevents, id, "\"event\":\"raise\""), 1);
	CHECK_STR(engine_alarm_state(E, "kiln-2/D2/pulled_wet"), "active");
	CHECK(engine_alarm_state(E, "kiln-1/D1/pulled_wet") != NULL);
	CHECK_STR(engine_alarm_state(E, "kiln-1/D1/pulled_wet"), "inactive");
}

int main(void)
{
	tl_prog = "unit/engine_batch2";
	START = time_now_ns() - 10 * H_NS;
	if (ef_setup("batch2", load, &collect) < 0)
		return 1;
	RUN(test_s2_samples_outside_give_stel_5_667_in_the_status_and_a_latched_stel_alarm);
	RUN(test_s3_chamber_readings_give_ct_3750_ppm_h_and_a_restart_continues_the_dose_and_the_stel);
	RUN(test_the_purge_fan_enters_purge_at_its_switch_on_and_the_door_alarm_is_critical);
	RUN(test_d1_load_cell_at_25_kg_gives_28_00_percent_wb_and_a_restart_keeps_it);
	RUN(test_a_kiln_unloaded_at_55_percent_wb_raises_pulled_wet_latched);
	collect_free();
	ef_teardown();
	return TL_DONE();
}
