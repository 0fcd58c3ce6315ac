/* test_engine_idle_line.c - what a processor expects from an idle process
 * line: a channel only process lines read raises its stale and fault
 * alarms only while a batch runs on its line; the batch's stop clears them
 * with a note; a channel a room also reads keeps them whatever the line
 * does.  Engine with test callbacks, as test_engine_batch.c. */
#include "../../daemon/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/util.h"
#include "testlib.h"
#include "engine_collect.h"
#include "engine_fixture.h"

#define MIN_NS (60LL * 1000000000LL)

static int64_t T0;

/* Events of alarm id (exact) with the event name, and with also in them. */
static size_t count_ev(const char *id, const char *event, const char *also)
{
	char *a = xasprintf("\"id\":\"%s\"", id), *b = xasprintf("\"event\":\"%s\"", event);
	size_t k = 0;

	for (size_t i = 0; i < nevents; i++)
		k += strstr(events[i], a) && strstr(events[i], b) && (!also || strstr(events[i], also));
	free(a);
	free(b);
	return k;
}

static int load(void)
{
	/* precooler-2's medium is also room A's air temperature */
	return ef_load("c.conf",
		       "site = \"s\"; state_dir = \"%s\";\n"
		       "rooms = ( { name = \"A\"; temperature = \"th-a1/temperature\"; } );\n"
		       "process_profiles = ( { name = \"fa\"; version = \"v1\"; kind = \"precool\";\n"
		       "  precool = { target = (5.0, \"A: Sargent\"); target_margin = (1.0, \"D\"); c_ref = 0.5; }; } );\n"
		       "processes = ( { name = \"precooler-1\"; kind = \"precool\"; medium = \"pc1/air\";"
		       " probes = [ \"pc1/pulp1\" ]; },\n"
		       "  { name = \"precooler-2\"; kind = \"precool\"; medium = \"th-a1/temperature\";"
		       " probes = [ \"pc2/pulp1\" ]; } );\n"
		       "alarms = { stale_after = \"10m\"; fault_delay = \"1m\"; renotify = \"0s\"; escalate = \"0s\"; };\n"
		       "outputs = { file = ( { path = \"-\"; } ); };\n",
		       dir);
}

static struct cc_channel ch_pulp1 = { .id = "pc1/pulp1", .quantity = "temperature", .sensor = "pc1", .name = "pulp1" };

static void test_an_idle_line_with_no_readings_past_the_stale_limit_raises_no_alarm(void)
{
	struct cc_sample s = { .ch = &ch_pulp1, .ts_ns = T0 + 31 * MIN_NS, .value = NAN, .quality = CC_Q_COMM_ERROR };

	engine_tick(E, T0 + 30 * MIN_NS);
	engine_process(E, &s, 1); /* the load cell off, the probe unplugged */
	engine_tick(E, T0 + 40 * MIN_NS);
	CHECK_INT(count_ev("pc1/air:stale", "raise", NULL), 0);
	CHECK_INT(count_ev("pc1/pulp1:stale", "raise", NULL), 0);
	CHECK_INT(count_ev("pc2/pulp1:stale", "raise", NULL), 0);
	CHECK_INT(count_ev("pc1/pulp1:fault", "raise", NULL), 0);
	CHECK_STR(engine_alarm_state(E, "pc1/pulp1:stale"), "inactive");
	CHECK_STR(engine_alarm_state(E, "pc1/pulp1:fault"), "inactive");
	/* the room's channel, also precooler-2's medium, is watched as ever */
	CHECK_INT(count_ev("th-a1/temperature:stale", "raise", NULL), 1);
}

static void test_a_running_batch_with_silent_probes_raises_stale_for_its_channels(void)
{
	CHECK_INT(engine_batch_start(E, "precooler-1", "B1", "fa", T0 + 40 * MIN_NS, 0, 0, NAN, "t"), 0);
	/* the probes get one stale limit from the batch's start to report */
	engine_tick(E, T0 + 45 * MIN_NS);
	CHECK_INT(count_ev("pc1/pulp1:stale", "raise", NULL), 0);
	engine_tick(E, T0 + 55 * MIN_NS);
	CHECK_INT(count_ev("pc1/air:stale", "raise", NULL), 1);
	CHECK_INT(count_ev("pc1/pulp1:stale", "raise", NULL), 1);
	CHECK_STR(engine_alarm_state(E, "pc1/pulp1:stale"), "active");
	/* the other line stays idle */
	CHECK_INT(count_ev("pc2/pulp1:stale", "raise", NULL), 0);
}

static void test_stopping_the_batch_clears_its_lines_stale_alarms_with_a_note(void)
{
	CHECK_INT(engine_batch_stop(E, "B1", T0 + 60 * MIN_NS, "t"), 0);
	CHECK_INT(count_ev("pc1/air:stale", "clear", "\"note\":\"line idle: batch B1 stopped\""), 1);
	CHECK_INT(count_ev("pc1/pulp1:stale", "clear", "\"note\":\"line idle: batch B1 stopped\""), 1);
	CHECK(strcmp(engine_alarm_state(E, "pc1/pulp1:stale"), "active") != 0);
	engine_tick(E, T0 + 120 * MIN_NS);
	CHECK_INT(count_ev("pc1/pulp1:stale", "raise", NULL), 1); /* no new raise while idle */
}

static void test_a_channel_a_room_also_reads_keeps_its_stale_alarm_whatever_the_line_does(void)
{
	CHECK_INT(engine_batch_start(E, "precooler-2", "B2", "fa", T0 + 120 * MIN_NS, 0, 0, NAN, "t"), 0);
	engine_tick(E, T0 + 135 * MIN_NS);
	CHECK_INT(count_ev("pc2/pulp1:stale", "raise", NULL), 1);
	CHECK_INT(engine_batch_stop(E, "B2", T0 + 140 * MIN_NS, "t"), 0);
	CHECK_INT(count_ev("pc2/pulp1:stale", "clear", "line idle: batch B2 stopped"), 1);
	CHECK_INT(count_ev("th-a1/temperature:stale", "clear", NULL), 0);
	CHECK_STR(engine_alarm_state(E, "th-a1/temperature:stale"), "active");
	engine_tick(E, T0 + 150 * MIN_NS);
	CHECK_STR(engine_alarm_state(E, "th-a1/temperature:stale"), "active");
}

int main(void)
{
	tl_prog = "unit/engine_idle_line";
	T0 = time_now_ns();
	if (ef_setup("idle", load, &collect) < 0)
		return 1;
	RUN(test_an_idle_line_with_no_readings_past_the_stale_limit_raises_no_alarm);
	RUN(test_a_running_batch_with_silent_probes_raises_stale_for_its_channels);
	RUN(test_stopping_the_batch_clears_its_lines_stale_alarms_with_a_note);
	RUN(test_a_channel_a_room_also_reads_keeps_its_stale_alarm_whatever_the_line_does);
	collect_free();
	ef_teardown();
	return TL_DONE();
}
