/* test_route.c - routing of alert events to people (outputs/route.c),
 * table-driven with a fixed clock in Asia/Ho_Chi_Minh: severities, rooms,
 * kinds, escalation chain steps, the ack to whoever was told, quiet hours
 * across midnight, the digest time. */
#include "../../outputs/route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "route_fixture.h"
#include "testlib.h"

#define NIGHT_END (T_MIDNIGHT_UTC + 23 * 3600)           /* 06:00+07 the next day, in s */
#define DIGEST_TODAY (T_MIDNIGHT_UTC + 10 * 3600)        /* 17:00+07 */
#define DIGEST_TOMORROW (DIGEST_TODAY + 86400)

struct row {
	const char *what, *event, *sev, *room, *rule, *state, *channel;
	int steps;
	int64_t now;
	const char *want; /* name:0 (now), name:SECONDS (held until), name:dSECONDS (digest) */
};

#define EV(e, sv, room, rule) e, sv, room, rule
static const struct row rows[] = {
	{ "warning raise by SMS", EV("raise", "warning", "B", "temp_high"), "active", "modem", 0, T_DAY,
	  "lan:0 minh:0" },
	{ "warning raise by mail: digest for the office", EV("raise", "warning", "B", "temp_high"), "active", "mail", 0,
	  T_DAY, "minh:0 office:d1796292000" },
	{ "info below ops' min_severity", EV("raise", "info", "B", "temp_high"), "active", "modem", 0, T_DAY, "" },
	{ "info door in room A", EV("raise", "info", "A", "door"), "active", "modem", 0, T_DAY, "tech:0" },
	{ "info door in room B: room filter", EV("raise", "info", "B", "door"), "active", "modem", 0, T_DAY, "" },
	{ "info temp in room A: kind filter", EV("raise", "info", "A", "temp_high"), "active", "modem", 0, T_DAY, "" },
	{ "critical: owner too, once", EV("raise", "critical", "A", "temp_high"), "active", "modem", 0, T_DAY,
	  "lan:0 minh:0 owner:0" },
	{ "warning at night: lan's quiet hours across midnight", EV("raise", "warning", "B", "temp_high"), "active",
	  "modem", 0, T_NIGHT, "lan:1796338800 minh:0" },
	{ "critical at night: nobody waits", EV("raise", "critical", "B", "temp_high"), "active", "modem", 0, T_NIGHT,
	  "lan:0 minh:0 owner:0" },
	{ "1st escalation adds chain[0]", EV("escalate", "warning", "B", "temp_high"), "active", "modem", 0, T_DAY,
	  "lan:0 minh:0 tech:0" },
	{ "2nd escalation adds chain[1]", EV("escalate", "warning", "B", "temp_high"), "active", "modem", 1, T_DAY,
	  "lan:0 minh:0 tech:0 owner:0" },
	{ "renotify past the chain's end", EV("renotify", "warning", "B", "temp_high"), "active", "modem", 5, T_DAY,
	  "lan:0 minh:0 tech:0 owner:0" },
	{ "renotify of an acked alarm adds nobody", EV("renotify", "warning", "B", "temp_high"), "acked", "modem", 1,
	  T_DAY, "lan:0 minh:0 tech:0" },
	{ "ack after one escalation: whoever was told", EV("ack", "warning", "B", "temp_high"), "acked", "modem", 1,
	  T_DAY, "lan:0 minh:0 tech:0" },
	{ "ack without escalation", EV("ack", "warning", "B", "temp_high"), "acked", "modem", 0, T_DAY,
	  "lan:0 minh:0" },
	{ "ack of a critical alarm at night waits for lan", EV("ack", "critical", "B", "temp_high"), "acked", "modem",
	  0, T_NIGHT, "lan:1796338800 minh:0 owner:0" },
	{ "shelve is not for people", EV("shelve", "critical", "B", "temp_high"), "active", "modem", 0, T_DAY, "" },
	{ "critical by mail: the digest recipient now", EV("raise", "critical", "B", "temp_high"), "active", "mail", 0,
	  T_DAY, "minh:0 office:0" },
	{ "return at night: tomorrow's digest", EV("return", "warning", "B", "temp_high"), "cleared_unacked", "mail", 0,
	  T_NIGHT, "minh:0 office:d1796378400" },
	{ "a channel no route uses", EV("raise", "critical", "B", "temp_high"), "active", "nochan", 0, T_DAY, "" },
};

static void render(const struct route_target *t, size_t n, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s:%s%lld", i ? " " : "", t[i].r->name,
					t[i].digest ? "d" : "", (long long)(t[i].hold_until_ns / S_NS));
}

static void test_route_table(void)
{
	struct cc_config *cfg = fixture_load();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct route_event ev;
		struct route_target t[ROUTE_MAX_TARGETS];
		char json[512], got[512];
		const char *kind = strcmp(r->channel, "mail") == 0 ? "email" : "sms";
		size_t n;

		snprintf(json, sizeof(json),
			 "{\"id\":\"%s/%s\",\"room\":\"%s\",\"rule\":\"%s\",\"event\":\"%s\",\"state\":\"%s\","
			 "\"severity\":\"%s\",\"value\":9.2,\"limit\":5,\"message\":\"m\",\"time_ns\":1}",
			 r->room, r->rule, r->room, r->rule, r->event, r->state, r->sev);
		CHECK_INT(route_event_parse(json, strlen(json), &ev), 0);
		n = route_plan(cfg, r->channel, kind, &ev, r->steps, r->now, t, ROUTE_MAX_TARGETS);
		render(t, n, got, sizeof(got));
		if (strcmp(got, r->want) != 0)
			fprintf(stderr, "    row %zu (%s): got \"%s\", want \"%s\"\n", i, r->what, got, r->want);
		CHECK_STR(got, r->want);
	}
	config_free(cfg);
}

static void test_quiet_hours_and_next_local(void)
{
	struct cc_recipient_conf r = { .quiet_start_min = 12 * 60, .quiet_end_min = 13 * 60 };

	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	tzset();
	/* a window inside one day: 11:59 no, 12:00 yes, 12:59 yes, 13:00 no */
	CHECK_INT(route_quiet_until(&r, (T_MIDNIGHT_UTC + 4 * 3600 + 59 * 60) * S_NS), 0);
	CHECK_INT(route_quiet_until(&r, (T_MIDNIGHT_UTC + 5 * 3600) * S_NS), (T_MIDNIGHT_UTC + 6 * 3600) * S_NS);
	CHECK_INT(route_quiet_until(&r, (T_MIDNIGHT_UTC + 5 * 3600 + 59 * 60) * S_NS), (T_MIDNIGHT_UTC + 6 * 3600) * S_NS);
	CHECK_INT(route_quiet_until(&r, (T_MIDNIGHT_UTC + 6 * 3600) * S_NS), 0);
	/* across midnight: 05:59 local still quiet, until 06:00 the same morning */
	r.quiet_start_min = 21 * 60, r.quiet_end_min = 6 * 60;
	CHECK_INT(route_quiet_until(&r, (T_MIDNIGHT_UTC - 3660) * S_NS), (T_MIDNIGHT_UTC - 3600) * S_NS);
	CHECK_INT(route_quiet_until(&r, (T_MIDNIGHT_UTC - 3600) * S_NS), 0); /* 06:00 */
	CHECK_INT(route_quiet_until(&r, T_NIGHT), NIGHT_END * S_NS);
	r.quiet_start_min = r.quiet_end_min = -1;
	CHECK_INT(route_quiet_until(&r, T_NIGHT), 0);
	/* the digest: later today, else tomorrow; never now */
	CHECK_INT(route_next_local(17 * 60, T_DAY), DIGEST_TODAY * S_NS);
	CHECK_INT(route_next_local(17 * 60, T_NIGHT), DIGEST_TOMORROW * S_NS);
	CHECK_INT(route_next_local(10 * 60, T_DAY), (T_DAY / S_NS + 86400) * S_NS);
}

static void test_event_parse(void)
{
	struct route_event ev;
	const char *j = "{\"id\":\"A/temp_high\",\"event\":\"raise\",\"severity\":\"bogus\"}";

	CHECK_INT(route_event_parse(j, strlen(j), &ev), 0);
	CHECK_INT(ev.sev, CC_SEV_CRITICAL); /* unknown: never dropped */
	CHECK_INT(ev.has_value, 0);
	CHECK_INT(route_event_parse("{\"event\":\"raise\"}", 17, &ev), -EINVAL);
	CHECK_INT(route_event_parse("not json", 8, &ev), -EINVAL);
}

int main(void)
{
	tl_prog = "unit/route";
	RUN(test_route_table);
	RUN(test_quiet_hours_and_next_local);
	RUN(test_event_parse);
	return TL_DONE();
}
