/* test_engine_publish.c - daemon/engine/publish.c without an engine: an
 * alarm and a transition made up here, and the alert record (line
 * protocol) and event (JSON) they are published as. */
#include "../../daemon/engine/engine_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/util.h"
#include "testlib.h"

#define T_MS 1780000000123LL /* 2026-05-28T20:26:40.123Z */

/* An alarm with its id in its text, as build_alarm_new makes it. */
union alarm_box {
	struct ealarm ea;
	char bytes[sizeof(struct ealarm) + 32];
};

static struct echan chan_a1 = { .id = "th-a1/temperature" };

static void alarm_make(struct ealarm *ea)
{
	static const struct econf c = {
		.c = { .kind = ALARM_HIGH, .limit = 7.0, .severity = ALARM_SEV_WARNING }, .rule = "temp_high"
	};

	memset(ea, 0, sizeof(union alarm_box));
	strcpy(ea->text, "A/temp_high");
	ea->room = "A";
	ea->src = &chan_a1; /* sensor th-a1 */
	ea->has_chan = 1;
	ea->msg = "room A: air temperature above 7";
	alarm_init(&ea->a, &c.c);
}

static char *line_of(const struct publication *p)
{
	struct lp_buf b;
	char *s;

	lp_buf_init(&b);
	CHECK_INT(publish_line(&b, p), 0);
	s = xasprintf("%.*s", (int)b.len, b.data);
	lp_buf_free(&b);
	return s;
}

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void test_a_raise_is_an_alert_line_and_an_event_with_its_time_to_the_nanosecond(void)
{
	union alarm_box box;
	struct ealarm *ea = &box.ea;
	struct alarm_event ev = { .type = AEV_RAISE, .ts_ms = T_MS, .state = ALARM_ACTIVE_UNACKED,
				  .sev = ALARM_SEV_WARNING, .value = 8.0, .annunciate = 1 };
	struct publication p = { .ea = ea, .ev = &ev, .site = "s", .ts_ns = T_MS * 1000000LL + 1, .annunciate = 1 };
	char *line, *js;
	cJSON *o;

	alarm_make(ea);
	line = line_of(&p);
	CHECK_STR(line, "alert,room=A,rule=temp_high,sensor=th-a1,severity=warning,site=s state=\"active\","
			"event=\"raise\",value=8,limit=7,message=\"room A: air temperature above 7\",id=\"A/temp_high\","
			"annunciated=true 1780000000123000001\n");
	free(line);
	js = publish_json(&p);
	CHECK(js != NULL);
	o = js ? cJSON_Parse(js) : NULL;
	CHECK(o != NULL);
	if (o) {
		CHECK_STR(str(o, "id"), "A/temp_high");
		CHECK_STR(str(o, "site"), "s");
		CHECK_STR(str(o, "room"), "A");
		CHECK_STR(str(o, "sensor"), "th-a1");
		CHECK_STR(str(o, "channel"), "th-a1/temperature");
		CHECK_STR(str(o, "rule"), "temp_high");
		CHECK_STR(str(o, "event"), "raise");
		CHECK_STR(str(o, "state"), "active");
		CHECK_STR(str(o, "severity"), "warning");
		CHECK_STR(str(o, "time"), "2026-05-28T20:26:40.123Z");
		CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "annunciate")));
		CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "shelved")));
		CHECK(!cJSON_GetObjectItemCaseSensitive(o, "note") && !cJSON_GetObjectItemCaseSensitive(o, "user"));
		CHECK(strstr(js, "\"time_ns\":1780000000123000001}") != NULL); /* not through a double */
		cJSON_Delete(o);
	}
	cJSON_free(js);
}

/* A lot's alarm is driven by its room's temperature channel (src) but names
 * no channel: its records carry no sensor and no channel (issue 18: both
 * are derived from src, only when the alarm names it). */
static void test_an_alarm_driven_by_a_channel_it_does_not_name_has_no_sensor_or_channel(void)
{
	union alarm_box box;
	struct ealarm *ea = &box.ea;
	struct alarm_event ev = { .type = AEV_RAISE, .ts_ms = T_MS, .state = ALARM_ACTIVE_UNACKED,
				  .sev = ALARM_SEV_WARNING, .value = 8.0, .annunciate = 1 };
	struct publication p = { .ea = ea, .ev = &ev, .site = "s", .ts_ns = T_MS * 1000000LL, .annunciate = 1 };
	char *line, *js;
	cJSON *o;

	alarm_make(ea);
	ea->has_chan = 0; /* src stays: the lot's room temperature */
	line = line_of(&p);
	CHECK(strncmp(line, "alert,room=A,rule=temp_high,severity=warning,site=s ", 52) == 0);
	free(line);
	js = publish_json(&p);
	o = js ? cJSON_Parse(js) : NULL;
	CHECK(o != NULL);
	if (o) {
		CHECK(!cJSON_GetObjectItemCaseSensitive(o, "sensor") && !cJSON_GetObjectItemCaseSensitive(o, "channel"));
		CHECK_STR(str(o, "rule"), "temp_high");
		cJSON_Delete(o);
	}
	cJSON_free(js);
}

/* A raise a flood withheld says so in its record; a historical alarm is
 * recorded with both of its times and marked late. */
static void test_a_grouped_raise_is_noted_and_a_historical_record_carries_both_times(void)
{
	union alarm_box box;
	struct ealarm *ea = &box.ea;
	struct alarm_event ev = { .type = AEV_RAISE, .ts_ms = T_MS, .state = ALARM_ACTIVE_UNACKED,
				  .sev = ALARM_SEV_WARNING, .value = 8.0, .annunciate = 1 };
	struct publication p = { .ea = ea, .ev = &ev, .site = "s", .ts_ns = T_MS * 1000000LL, .annunciate = 0 };
	char *line;

	alarm_make(ea);
	line = line_of(&p);
	CHECK(strstr(line, ",annunciated=false,note=\"grouped: alarm flood\" ") != NULL);
	free(line);
	ev.type = AEV_HISTORICAL;
	ev.state = ALARM_INACTIVE;
	ev.annunciate = 0;
	ev.late = 1;
	ev.since_ms = T_MS - 3600000;
	p.ts_ns = ev.since_ms * 1000000LL;
	line = line_of(&p);
	CHECK(strstr(line, "event=\"historical\"") != NULL);
	CHECK(strstr(line, ",annunciated=false,late=true,raised_ns=1779996400123000000i,"
			   "cleared_ns=1780000000123000000i 1779996400123000000\n") != NULL);
	CHECK(strstr(line, "note=") == NULL); /* not annunciated by the state machine: nothing withheld */
	free(line);
}

/* An operator's action names the operator and the note; a shelved alarm's
 * record shows "shelved". */
static void test_an_operator_action_carries_user_and_note_and_a_shelved_alarm_shows_shelved(void)
{
	union alarm_box box;
	struct ealarm *ea = &box.ea;
	struct alarm_event ev = { .type = AEV_SHELVE, .ts_ms = T_MS, .state = ALARM_ACTIVE_UNACKED,
				  .sev = ALARM_SEV_WARNING, .value = 8.0, .user = "binh", .note = "known" };
	struct publication p = { .ea = ea, .ev = &ev, .site = "s", .ts_ns = T_MS * 1000000LL, .annunciate = 0 };
	char *line, *js;
	cJSON *o;

	alarm_make(ea);
	ea->a.shelved_until_ms = T_MS + 60000;
	CHECK_STR(publish_state_shown(ea, &ev), "shelved");
	line = line_of(&p);
	CHECK(strstr(line, "state=\"shelved\",event=\"shelve\"") != NULL);
	CHECK(strstr(line, ",user=\"binh\",note=\"known\" ") != NULL);
	free(line);
	js = publish_json(&p);
	o = js ? cJSON_Parse(js) : NULL;
	CHECK(o != NULL);
	if (o) {
		CHECK_STR(str(o, "user"), "binh");
		CHECK_STR(str(o, "note"), "known");
		CHECK_STR(str(o, "state"), "active"); /* the event carries the alarm's own state */
		CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "shelved")));
		cJSON_Delete(o);
	}
	cJSON_free(js);
}

int main(void)
{
	tl_prog = "unit/engine_publish";
	RUN(test_a_raise_is_an_alert_line_and_an_event_with_its_time_to_the_nanosecond);
	RUN(test_an_alarm_driven_by_a_channel_it_does_not_name_has_no_sensor_or_channel);
	RUN(test_a_grouped_raise_is_noted_and_a_historical_record_carries_both_times);
	RUN(test_an_operator_action_carries_user_and_note_and_a_shelved_alarm_shows_shelved);
	return TL_DONE();
}
