/* test_engine_batch.c - precooling batches through the engine (issue 14):
 * processing.md's P3 samples on a configured precooler, the batch's status
 * and "process" point, the pulled-too-early alarm at stop, a restart from
 * the snapshot in the middle of the fit, the release into a lot, and
 * carcass chilling (K2 compliant, K3 early warning then missed).  What
 * the engine emits is collected by test callbacks: no journal, no sink. */
#include "../../daemon/engine.h"

#include <errno.h>
#include <inttypes.h>
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

#define H_NS (3600LL * 1000000000LL)

static int64_t START;
static double c_b1; /* B1's C after P3's six samples */

static int load(void)
{
	return ef_load("c.conf",
		       EF_CONF_LYCHEE_ROOM /* state_dir = dir */
		       "process_profiles = ( { name = \"fa\"; version = \"v1\"; kind = \"precool\";\n"
		       "  precool = { target = (5.0, \"A: Sargent\"); target_margin = (1.0, \"D\"); c_ref = 0.5; }; },\n"
		       " { name = \"air-chill\"; version = \"v1\"; kind = \"carcass_chill\";\n"
		       "  carcass_chill = { target = (4.0, \"D\"); max_gap = \"10m\"; min_probes = 1; weight_bands = ( { max_kg = 1.814; "
		       "deadline = \"4h\"; },\n   { max_kg = 3.629; deadline = \"6h\"; }, { deadline = \"8h\"; } ); }; },\n"
		       " { name = \"us-chill\"; version = \"v1\"; kind = \"carcass_chill\";\n"
		       "  carcass_chill = { target = (4.444, \"B: FSIS 40 F\"); max_gap = \"10m\"; min_probes = (3, \"D\"); fresh_min = -3.333;"
		       " giblets_deadline = \"2h\";\n   weight_bands = ( { max_kg = 1.814; deadline = \"4h\"; }, { deadline = \"8h\"; } ); }; } );\n"
		       "processes = ( { name = \"precooler-1\"; kind = \"precool\"; medium = \"pc1/air\";"
		       " probes = [ \"pc1/pulp1\" ]; },\n"
		       "  { name = \"precooler-2\"; kind = \"precool\"; medium = \"pc2/air\"; probes = [ \"pc2/pulp1\" ]; },\n"
		       "  { name = \"chiller-1\"; kind = \"carcass_chill\"; medium = \"ch1/air\"; probes = [ \"ch1/core1\" ]; },\n"
		       "  { name = \"chiller-2\"; kind = \"carcass_chill\"; medium = \"ch2/air\"; probes = [ \"ch2/core1\" ]; },\n"
		       "  { name = \"chiller-3\"; kind = \"carcass_chill\"; medium = \"ch3/air\"; probes = [ \"ch3/core1\", \"ch3/core2\" ];"
		       " giblets = [ \"ch3/giblet1\" ]; },\n"
		       "  { name = \"chiller-4\"; kind = \"carcass_chill\"; medium = \"ch4/air\"; probes = [ \"ch4/core1\" ];"
		       " giblets = [ \"ch4/giblet1\", \"ch4/giblet2\" ]; } );\n"
		       "alarms = { stale_after = \"1d\"; renotify = \"0s\"; escalate = \"0s\"; };\n"
		       "outputs = { file = ( { path = \"-\"; } ); };\n",
		       dir);
}

static struct cc_channel ch_air1 = { .id = "pc1/air", .quantity = "temperature", .sensor = "pc1", .name = "air" };
static struct cc_channel ch_pulp1 = { .id = "pc1/pulp1", .quantity = "temperature", .sensor = "pc1", .name = "pulp1" };
static struct cc_channel ch_air2 = { .id = "pc2/air", .quantity = "temperature", .sensor = "pc2", .name = "air" };
static struct cc_channel ch_pulp2 = { .id = "pc2/pulp1", .quantity = "temperature", .sensor = "pc2", .name = "pulp1" };

static struct cc_channel ch_cair1 = { .id = "ch1/air", .quantity = "temperature", .sensor = "ch1", .name = "air" };
static struct cc_channel ch_core1 = { .id = "ch1/core1", .quantity = "temperature", .sensor = "ch1", .name = "core1" };
static struct cc_channel ch_cair2 = { .id = "ch2/air", .quantity = "temperature", .sensor = "ch2", .name = "air" };
static struct cc_channel ch_core2 = { .id = "ch2/core1", .quantity = "temperature", .sensor = "ch2", .name = "core1" };

static struct cc_channel ch_cair3 = { .id = "ch3/air", .quantity = "temperature", .sensor = "ch3", .name = "air" };
static struct cc_channel ch_c31 = { .id = "ch3/core1", .quantity = "temperature", .sensor = "ch3", .name = "core1" };
static struct cc_channel ch_c32 = { .id = "ch3/core2", .quantity = "temperature", .sensor = "ch3", .name = "core2" };
static struct cc_channel ch_gib3 = { .id = "ch3/giblet1", .quantity = "temperature", .sensor = "ch3", .name = "giblet1" };

static struct cc_channel ch_gib41 = { .id = "ch4/giblet1", .quantity = "temperature", .sensor = "ch4", .name = "giblet1" };
static struct cc_channel ch_gib42 = { .id = "ch4/giblet2", .quantity = "temperature", .sensor = "ch4", .name = "giblet2" };

static void feed(struct cc_channel *ch, int64_t ts, double v)
{
	struct cc_sample s = { .ch = ch, .ts_ns = ts, .value = v, .quality = CC_Q_GOOD };
	engine_process(E, &s, 1);
}

/* processing.md P3: T0 30 °C, Tm 2 °C, then (t h, T °C). */
static const double p3_t[] = { 0.5, 1.0, 1.5, 2.0, 2.5, 3.0 };
static const double p3_c[] = { 27.1, 21.5, 17.2, 13.8, 11.2, 9.2 };

static void p3_feed(struct cc_channel *air, struct cc_channel *pulp, int from, int to)
{
	if (from == 0) {
		feed(air, START, 2.0);
		feed(pulp, START, 30.0);
	}
	for (int i = from; i < to; i++) {
		int64_t ts = START + (int64_t)(p3_t[i] * (double)H_NS);
		feed(air, ts, 2.0);
		feed(pulp, ts, p3_c[i]);
	}
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_p3_through_a_batch_gives_c_0_5000_j_1_149_in_the_status_and_a_process_line(void)
{
	cJSON *st;

	CHECK_INT(engine_batch_start(E, "precooler-1", "B1", "fa", START, START - H_NS, 0, NAN, "t"), 0);
	p3_feed(&ch_air1, &ch_pulp1, 0, 6);
	engine_tick(E, START + 3 * H_NS + 1000000);
	st = engine_batch_status_json(E, "B1");
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_NEAR(num(st, "C"), 0.5000, 0.00005);
	CHECK_NEAR(num(st, "j"), 1.149, 0.0005);
	CHECK_NEAR(num(st, "r2"), 1.000, 0.0005);
	CHECK_NEAR(num(st, "half_h"), 1.664, 0.0005);
	CHECK_NEAR(num(st, "seven_eighths_h"), 4.436, 0.0005);
	CHECK_INT((int)num(st, "n"), 6);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(st, "fit")->valuestring, "reliable");
	c_b1 = num(st, "C");
	cJSON_Delete(st);
	CHECK_INT(count_with(lines, nlines, "process,batch=B1,kind=precool,process=precooler-1,profile=fa", "C=0.5"), 1);
}

static void test_a_start_names_a_known_process_and_profile_and_one_batch_per_process(void)
{
	CHECK_INT(engine_batch_start(E, "nope", "B9", "fa", START, 0, 0, NAN, "t"), -ENOENT);
	CHECK_INT(engine_batch_start(E, "precooler-1", "B9", "nope", START, 0, 0, NAN, "t"), -ENOENT);
	CHECK_INT(engine_batch_start(E, "precooler-1", "B9", "fa", START, 0, 0, NAN, "t"), -EBUSY);
	CHECK_INT(engine_batch_start(E, "precooler-2", "B1", "fa", START, 0, 0, NAN, "t"), -EEXIST);
}

static void test_stopping_above_target_raises_pulled_early_once(void)
{
	const char *id = "\"id\":\"precooler-1/B1/pulled_early\"";

	CHECK_INT(engine_batch_stop(E, "B1", START + 3 * H_NS + 2000000, "t"), 0);
	CHECK_INT(count_with(events, nevents, id, "\"event\":\"raise\""), 1);
	CHECK(count_with(events, nevents, id, "D-graded, an estimate: target_margin") >= 1);
	CHECK_INT(engine_batch_stop(E, "B1", START + 3 * H_NS + 3000000, "t"), -EALREADY);
	engine_tick(E, START + 3 * H_NS + 4000000);
	CHECK_INT(count_with(events, nevents, id, "\"event\":\"raise\""), 1);
	CHECK(engine_alarm_state(E, "precooler-1/B1/pulled_early") != NULL);
}

static void test_a_batch_restored_from_the_snapshot_continues_its_fit_identically(void)
{
	cJSON *st;

	CHECK_INT(engine_batch_start(E, "precooler-2", "B2", "fa", START, 0, 0, NAN, "t"), 0);
	p3_feed(&ch_air2, &ch_pulp2, 0, 4);
	engine_tick(E, START + 2 * H_NS + 1000000);
	engine_free(E); /* as after kill -9: the last snapshot is what remains */
	E = engine_new(cfg, &collect);
	st = engine_batch_status_json(E, "B2");
	CHECK(st != NULL);
	if (st)
		CHECK_INT((int)num(st, "n"), 4);
	cJSON_Delete(st);
	p3_feed(&ch_air2, &ch_pulp2, 4, 6);
	engine_tick(E, START + 3 * H_NS + 1000000);
	st = engine_batch_status_json(E, "B2");
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_INT((int)num(st, "n"), 6);
	CHECK_NEAR(num(st, "C"), c_b1, 1e-12);
	CHECK_NEAR(num(st, "j"), 1.149, 0.0005);
	cJSON_Delete(st);
	st = engine_batch_status_json(E, "B1"); /* the stopped one came back too */
	CHECK(st && strcmp(cJSON_GetObjectItemCaseSensitive(st, "state")->valuestring, "stopped") == 0);
	cJSON_Delete(st);
}

static const cJSON *lot_of(const cJSON *status, const char *id)
{
	const cJSON *r, *l;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(status, "rooms"))
		cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(r, "lots"))
			if (strcmp(cJSON_GetObjectItemCaseSensitive(l, "id")->valuestring, id) == 0)
				return l;
	return NULL;
}

static void test_release_loads_the_lot_with_its_history_and_the_final_pulp_temperature(void)
{
	cJSON *st;
	const cJSON *l, *h;

	CHECK_INT(engine_batch_release(E, "B1", "L-B1", "nope", NULL, "t"), -ENOENT);
	CHECK_INT(engine_batch_release(E, "B1", "L-B1", "A", NULL, "t"), 0);
	CHECK_INT(engine_batch_release(E, "B1", "L-B1", "A", NULL, "t"), -EALREADY);
	st = engine_status_json(E, 1);
	l = lot_of(st, "L-B1");
	CHECK(l != NULL);
	if (l) {
		CHECK_STR(cJSON_GetObjectItemCaseSensitive(l, "product")->valuestring, "lychee");
		CHECK_NEAR(num(l, "pre_c"), 9.2, 1e-9);
		h = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(l, "history"), 0);
		CHECK(h != NULL);
		if (h) {
			CHECK_STR(cJSON_GetObjectItemCaseSensitive(h, "batch")->valuestring, "B1");
			CHECK_STR(cJSON_GetObjectItemCaseSensitive(h, "process")->valuestring, "precooler-1");
			CHECK_STR(cJSON_GetObjectItemCaseSensitive(h, "verdict")->valuestring, "pulled_early");
			CHECK_NEAR(num(h, "final_c"), 9.2, 1e-9);
			CHECK_NEAR(num(h, "C"), 0.5000, 0.00005);
		}
	}
	cJSON_Delete(st);
	/* the history survives a restart with the lot */
	engine_free(E);
	E = engine_new(cfg, &collect);
	st = engine_status_json(E, 1);
	l = lot_of(st, "L-B1");
	CHECK(l && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(l, "history")) == 1);
	CHECK(l && fabs(num(l, "pre_c") - 9.2) < 1e-9);
	cJSON_Delete(st);
	/* and a reload's hand-over in memory (issue 18): the lot, its history,
	 * its pre-monitoring temperature and the released batch */
	E = engine_new_from(cfg, &collect, engine_free_saved(E));
	st = engine_status_json(E, 1);
	l = lot_of(st, "L-B1");
	CHECK(l && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(l, "history")) == 1);
	CHECK(l && fabs(num(l, "pre_c") - 9.2) < 1e-9);
	cJSON_Delete(st);
	st = engine_batch_status_json(E, "B1");
	CHECK(st != NULL);
	cJSON_Delete(st);
}

/* The one line of v[0..n) holding a and b (NULL: none, or more than one). */
static const char *line_with(const char *a, const char *b)
{
	const char *found = NULL;

	for (size_t i = 0; i < nlines; i++)
		if (strstr(lines[i], a) && strstr(lines[i], b)) {
			if (found)
				return NULL;
			found = lines[i];
		}
	return found;
}

/* issue 14: the lot's history as lot_step points, each at a fixed time of
 * its step (a rewrite overwrites it), out through the engine's records:
 * the precool step at the batch's start with its figures, the room step at
 * the load with its start, and at the unload (after a restart) the same
 * room point again with its end. */
static void test_release_writes_the_lots_steps_as_lot_step_points(void)
{
	int64_t stop = START + 3 * H_NS + 2000000;
	char *times = xasprintf(" start=%" PRId64 "i,end=%" PRId64 "i,", START, stop);
	/* at whole milliseconds: the same after a restart (the snapshot keeps
	 * the load time as a double) */
	char *ts_start = xasprintf(" %" PRId64 "\n", START / 1000000 * 1000000);
	char *room = xasprintf(" start=%" PRId64 "i %" PRId64 "\n", stop, stop / 1000000 * 1000000);
	char *room_end = xasprintf("i %" PRId64 "\n", stop / 1000000 * 1000000);
	const char *l;

	l = line_with("lot_step,batch=B1,lot=L-B1,site=s,step=precool ", "process=\"precooler-1\"");
	CHECK(l != NULL);
	if (l) {
		CHECK(strstr(l, times) != NULL);
		CHECK(strstr(l, "verdict=\"pulled_early\"") != NULL);
		CHECK(strstr(l, "final_c=9.2") != NULL);
		CHECK(strstr(l, ",C=0.5") != NULL);
		CHECK(strstr(l, ts_start) != NULL);
	}
	l = line_with("lot_step,lot=L-B1,room=A,site=s,step=room ", " start=");
	CHECK(l != NULL && strstr(l, room) != NULL);
	CHECK_INT(engine_lot_unload(E, "L-B1", "t"), 0);
	l = line_with("lot_step,lot=L-B1,room=A,site=s,step=room ", " end=");
	CHECK(l != NULL && strstr(l, room_end) != NULL);
	free(times);
	free(ts_start);
	free(room);
	free(room_end);
}

/* processing.md K2/K3: T0 38 °C core, air -1 °C, j 1.3, C given; a
 * reading every 5 minutes from minute a to b (inclusive). */
static void k_feed(struct cc_channel *air, struct cc_channel *core, double c, int a, int b)
{
	for (int m = a; m <= b; m += 5) {
		double t = m / 60.0, y = 1.3 * exp(-c * t);
		int64_t ts = START + (int64_t)m * 60 * 1000000000LL;
		feed(air, ts, -1.0);
		feed(core, ts, -1.0 + 39.0 * (y < 1 ? y : 1));
	}
}

static void test_k2_a_1_6_kg_carcass_at_c_0_7_is_compliant_within_its_4_h_deadline(void)
{
	cJSON *st;
	const cJSON *v;

	CHECK_INT(engine_batch_start(E, "chiller-1", "K1", "air-chill", START, 0, 0, NAN, "t"), -EINVAL);
	CHECK_INT(engine_batch_start(E, "chiller-1", "K1", "fa", START, 0, 0, 1.6, "t"), -EMEDIUMTYPE);
	CHECK_INT(engine_batch_start(E, "chiller-1", "K2", "air-chill", START, 0, 0, 1.6, "t"), 0);
	k_feed(&ch_cair1, &ch_core1, 0.7, 0, 210);
	engine_tick(E, START + 210 * 60 * 1000000000LL + 1000000);
	st = engine_batch_status_json(E, "K2");
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_NEAR(num(st, "deadline_h"), 4.0, 1e-12);
	CHECK_NEAR(num(st, "C"), 0.7, 0.001);
	CHECK_NEAR(num(st, "j"), 1.3, 0.002);
	v = cJSON_GetObjectItemCaseSensitive(st, "verdict");
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(v, "compliance")->valuestring, "compliant");
	/* proven by the first reading at or below 4.0 °C: 3.309 h falls between
	 * the readings of minutes 195 and 200 */
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(st, "compliant_ns");
		double h = c && c->valuestring ? (double)(strtoll(c->valuestring, NULL, 10) - START) / (double)H_NS : NAN;
		CHECK_NEAR(h, 200.0 / 60.0, 1e-9);
		CHECK(h > 3.309);
	}
	cJSON_Delete(st);
	CHECK(engine_alarm_state(E, "chiller-1/K2/chill_missed") != NULL);
	CHECK_STR(engine_alarm_state(E, "chiller-1/K2/chill_missed"), "inactive");
	CHECK_STR(engine_alarm_state(E, "chiller-1/K2/chill_warning"), "inactive");
	CHECK_INT(count_with(lines, nlines, "process,batch=K2,kind=carcass_chill", "status=\"compliant\""), 1);
}

static void test_k3_an_overloaded_chiller_warns_once_the_fit_is_reliable_and_misses_at_4_h(void)
{
	const char *warn = "\"id\":\"chiller-2/K3/chill_warning\"", *missed = "\"id\":\"chiller-2/K3/chill_missed\"";

	CHECK_INT(engine_batch_start(E, "chiller-2", "K3", "air-chill", START, 0, 0, 1.6, "t"), 0);
	k_feed(&ch_cair2, &ch_core2, 0.5, 0, 120);
	engine_tick(E, START + 120 * 60 * 1000000000LL + 1000000);
	CHECK_INT(count_with(events, nevents, warn, "\"event\":\"raise\""), 1);
	CHECK_INT(count_with(events, nevents, missed, "\"event\":\"raise\""), 0);
	k_feed(&ch_cair2, &ch_core2, 0.5, 125, 240);
	engine_tick(E, START + 241 * 60 * 1000000000LL);
	CHECK_INT(count_with(events, nevents, missed, "\"event\":\"raise\""), 1);
	CHECK(count_with(events, nevents, missed, "\"severity\":\"critical\"") >= 1);
	/* latched: the core reaching the target later does not clear it */
	k_feed(&ch_cair2, &ch_core2, 0.5, 245, 300);
	engine_tick(E, START + 300 * 60 * 1000000000LL + 1000000);
	CHECK_STR(engine_alarm_state(E, "chiller-2/K3/chill_missed"), "active");
	/* and it survives a restart with its batch */
	engine_free(E);
	E = engine_new(cfg, &collect);
	CHECK_STR(engine_alarm_state(E, "chiller-2/K3/chill_missed"), "active");
	{
		cJSON *st = engine_batch_status_json(E, "K3");
		const cJSON *v = st ? cJSON_GetObjectItemCaseSensitive(st, "verdict") : NULL;
		CHECK(v && strcmp(cJSON_GetObjectItemCaseSensitive(v, "compliance")->valuestring, "missed") == 0);
		cJSON_Delete(st);
	}
}

/* The message of alarm id in the engine's status holds what. */
static int alarm_message_has(const char *id, const char *what)
{
	cJSON *st = engine_status_json(E, 0);
	const cJSON *a;
	int found = 0;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(st, "alarms"))
	{
		const cJSON *i = cJSON_GetObjectItemCaseSensitive(a, "id"), *m = cJSON_GetObjectItemCaseSensitive(a, "message");
		if (cJSON_IsString(i) && strcmp(i->valuestring, id) == 0 && cJSON_IsString(m))
			found = strstr(m->valuestring, what) != NULL;
	}
	cJSON_Delete(st);
	return found;
}

/* The profile's min_probes 3 on a 2-probe line, fresh_min -3.333 °C, giblets
 * within 2 h: the few-probes warning says how many report and follows the
 * count; the cores at the target in time are "not proven"; a giblet still
 * warm at 2 h raises the critical giblets_missed once, latched; a core
 * below -3.333 °C raises not_fresh, latched; both survive a restart. */
static void test_chill_min_probes_giblets_and_fresh_limit_through_a_batch(void)
{
	const char *few = "\"id\":\"chiller-3/K4/few_probes\"", *gib = "\"id\":\"chiller-3/K4/giblets_missed\"";
	const char *fresh = "\"id\":\"chiller-3/K4/not_fresh\"";
	cJSON *st;
	const cJSON *v;
	int m;

	CHECK_INT(engine_batch_start(E, "chiller-3", "K4", "us-chill", START, 0, 0, 1.6, "t"), 0);
	/* core1 alone for the first half hour */
	for (m = 0; m <= 30; m += 5) {
		int64_t ts = START + (int64_t)m * 60 * 1000000000LL;
		feed(&ch_cair3, ts, -1.0);
		feed(&ch_c31, ts, 30.0 - m * 0.2);
		feed(&ch_gib3, ts, 10.0);
	}
	engine_tick(E, START + 30 * 60 * 1000000000LL + 1000000);
	CHECK_STR(engine_alarm_state(E, "chiller-3/K4/few_probes"), "active");
	CHECK_INT(count_with(events, nevents, few, "only 1 of the required 3 core probes report"), 1);
	/* core2 joins: still too few, the message follows */
	for (; m <= 150; m += 5) {
		int64_t ts = START + (int64_t)m * 60 * 1000000000LL;
		feed(&ch_cair3, ts, -1.0);
		feed(&ch_c31, ts, m < 120 ? 20.0 : 3.0);
		feed(&ch_c32, ts, m < 120 ? 20.0 : 2.0);
		feed(&ch_gib3, ts, 10.0);
	}
	engine_tick(E, START + 150 * 60 * 1000000000LL + 1000000);
	CHECK_STR(engine_alarm_state(E, "chiller-3/K4/few_probes"), "active");
	CHECK_INT(count_with(events, nevents, few, "\"event\":\"raise\""), 1);
	st = engine_batch_status_json(E, "K4");
	CHECK(st != NULL);
	if (!st)
		return;
	v = cJSON_GetObjectItemCaseSensitive(st, "verdict");
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(v, "compliance")->valuestring, "not_proven");
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(v, "giblets")->valuestring, "missed");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(v, "not_fresh")));
	CHECK_NEAR(num(st, "probes_reporting"), 2, 0);
	cJSON_Delete(st);
	CHECK(alarm_message_has("chiller-3/K4/few_probes", "only 2 of the required 3 core probes report"));
	CHECK_INT(count_with(events, nevents, gib, "\"event\":\"raise\""), 1);
	CHECK(count_with(events, nevents, gib, "\"severity\":\"critical\"") >= 1);
	CHECK_INT(count_with(lines, nlines, "process,batch=K4,kind=carcass_chill", "status=\"not_proven\""), 1);
	CHECK_INT(count_with(lines, nlines, "process,batch=K4,kind=carcass_chill", "giblets=\"missed\""), 1);
	CHECK_STR(engine_alarm_state(E, "chiller-3/K4/not_fresh"), "inactive");
	/* the chiller air down to -6 °C: core1 cools 1 K per reading (not a
	 * probe pulled out) below the fresh limit, then back up: the fact stays */
	for (m = 155; m <= 195; m += 5) {
		int64_t ts = START + (int64_t)m * 60 * 1000000000LL;
		feed(&ch_cair3, ts, -6.0);
		feed(&ch_c31, ts, m < 190 ? 3.0 - (m - 150) / 5 : -1.0);
		feed(&ch_c32, ts, 2.0);
		feed(&ch_gib3, ts, 1.0);
	}
	engine_tick(E, START + 195 * 60 * 1000000000LL + 1000000);
	CHECK_INT(count_with(events, nevents, fresh, "\"event\":\"raise\""), 1);
	CHECK_INT(count_with(events, nevents, fresh, "cannot be sold as fresh"), 1);
	CHECK_STR(engine_alarm_state(E, "chiller-3/K4/not_fresh"), "active");
	CHECK_STR(engine_alarm_state(E, "chiller-3/K4/giblets_missed"), "active");
	engine_free(E);
	E = engine_new(cfg, &collect);
	CHECK_STR(engine_alarm_state(E, "chiller-3/K4/not_fresh"), "active");
	CHECK_STR(engine_alarm_state(E, "chiller-3/K4/giblets_missed"), "active");
	CHECK_INT(count_with(events, nevents, gib, "\"event\":\"raise\""), 1);
	st = engine_batch_status_json(E, "K4");
	v = st ? cJSON_GetObjectItemCaseSensitive(st, "verdict") : NULL;
	CHECK(v && strcmp(cJSON_GetObjectItemCaseSensitive(v, "giblets")->valuestring, "missed") == 0);
	CHECK(v && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "not_fresh")));
	cJSON_Delete(st);
}

/* A giblets proof that spans a restart: giblet 1 cold before it, giblet 2
 * after; the first one's reading comes back from the snapshot. */
static void test_chill_giblets_proof_goes_on_across_a_restart(void)
{
	cJSON *st;
	const cJSON *v;

	CHECK_INT(engine_batch_start(E, "chiller-4", "K5", "us-chill", START, 0, 0, 1.6, "t"), 0);
	feed(&ch_gib41, START + 10 * 60 * 1000000000LL, 2.0);
	feed(&ch_gib42, START + 10 * 60 * 1000000000LL, 12.0);
	engine_free(E);
	E = engine_new(cfg, &collect);
	feed(&ch_gib42, START + 12 * 60 * 1000000000LL, 3.0);
	engine_tick(E, START + 3 * H_NS);
	st = engine_batch_status_json(E, "K5");
	v = st ? cJSON_GetObjectItemCaseSensitive(st, "verdict") : NULL;
	CHECK(v != NULL);
	if (v)
		CHECK_STR(cJSON_GetObjectItemCaseSensitive(v, "giblets")->valuestring, "ok");
	cJSON_Delete(st);
	CHECK_STR(engine_alarm_state(E, "chiller-4/K5/giblets_missed"), "inactive");
}

int main(void)
{
	tl_prog = "unit/engine_batch";
	START = time_now_ns() - 10 * H_NS;
	if (ef_setup("batch", load, &collect) < 0)
		return 1;
	RUN(test_p3_through_a_batch_gives_c_0_5000_j_1_149_in_the_status_and_a_process_line);
	RUN(test_a_start_names_a_known_process_and_profile_and_one_batch_per_process);
	RUN(test_stopping_above_target_raises_pulled_early_once);
	RUN(test_a_batch_restored_from_the_snapshot_continues_its_fit_identically);
	RUN(test_release_loads_the_lot_with_its_history_and_the_final_pulp_temperature);
	RUN(test_release_writes_the_lots_steps_as_lot_step_points);
	RUN(test_k2_a_1_6_kg_carcass_at_c_0_7_is_compliant_within_its_4_h_deadline);
	RUN(test_chill_min_probes_giblets_and_fresh_limit_through_a_batch);
	RUN(test_chill_giblets_proof_goes_on_across_a_restart);
	RUN(test_k3_an_overloaded_chiller_warns_once_the_fit_is_reliable_and_misses_at_4_h);
	collect_free();
	ef_teardown();
	return TL_DONE();
}
