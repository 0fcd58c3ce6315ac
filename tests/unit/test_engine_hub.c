/* test_engine_hub.c - what the engine's hub-scale shortcuts (issue 18) must
 * not change: a sample reaches every room that reads its channel (through
 * the channel's own list, not a search of every room), a tick still raises
 * an alarm whose on-delay runs out without a new sample and still ends a
 * shelve of an alarm that is otherwise quiet (ticks skip quiet alarms), and
 * alarms naming the same room or channel share one copy of the name (the
 * engine's string table) while ids and messages stay each alarm's own, and
 * alarms with the same limits, delays and severity share one configuration
 * (build.c's conf_intern) while each keeps its own state; a room's and a
 * lot's page get one room's status (engine_lot_room, the room filter); a
 * typo's hint gets the ids alone (engine_ids). */
#include "../../daemon/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/engine/engine_int.h"
#include "../../daemon/util.h"
#include "testlib.h"
#include "engine_fixture.h"

#define MIN_NS (60LL * 1000000000LL)

static size_t unshelved; /* "unshelve" events seen */

static void got_lines(void *arg, const char *lines, size_t len, size_t nlines)
{
	(void)arg, (void)lines, (void)len, (void)nlines;
}

static void got_event(void *arg, const char *json, size_t len)
{
	(void)arg;
	if (memmem(json, len, "\"unshelve\"", 10))
		unshelved++;
}

static const struct engine_callbacks collect = { got_lines, got_event, NULL };
static struct cc_channel ch_t = { .id = "th-1/temperature", .quantity = "temperature", .site = "s", .room = "A",
				  .sensor = "th-1", .name = "temperature" };

/* Rooms A and B read the same temperature channel; C reads another. */
static int load(void)
{
	return ef_load("c.conf",
		       "site = \"s\"; state_dir = \"%s\";\n"
		       "profiles = ( { name = \"p\"; version = \"t1\";\n"
		       "  limits = { warn_high = 7.0; alarm_high = 10.0; warn_low = 2.0; on_delay = \"15m\"; }; } );\n"
		       "rooms = ( { name = \"A\"; temperature = \"th-1/temperature\"; profile = \"p\"; },\n"
		       "  { name = \"B\"; temperature = \"th-1/temperature\"; profile = \"p\"; },\n"
		       "  { name = \"C\"; temperature = \"th-2/temperature\"; profile = \"p\"; } );\n"
		       "alarms = { stuck_after = \"0s\"; rate_limit = 0.0; renotify = \"0s\"; escalate = \"0s\";"
		       " stale_after = \"1d\"; };\n"
		       "outputs = { file = ( { path = \"-\"; } ); };\n",
		       dir);
}

static void feed(int64_t ts, double v)
{
	struct cc_sample s = { .ch = &ch_t, .ts_ns = ts, .value = v, .quality = CC_Q_GOOD };
	engine_process(E, &s, 1);
}

static int64_t T0;

static void test_a_shared_channel_raises_in_every_room_that_reads_it_and_only_there(void)
{
	feed(T0, 8.0);
	engine_tick(E, T0 + 16 * MIN_NS); /* the on-delay runs out on the tick, no new sample */
	CHECK_STR(engine_alarm_state(E, "A/temp_high"), "active");
	CHECK_STR(engine_alarm_state(E, "B/temp_high"), "active");
	CHECK_STR(engine_alarm_state(E, "C/temp_high"), "inactive");
	feed(T0 + 17 * MIN_NS, 5.0);
	CHECK_STR(engine_alarm_state(E, "A/temp_high"), "cleared_unacked");
	CHECK_STR(engine_alarm_state(E, "B/temp_high"), "cleared_unacked");
}

static void test_a_quiet_alarms_shelve_still_expires_on_the_tick(void)
{
	int64_t now = time_now_ns();
	size_t before = unshelved;

	CHECK_STR(engine_alarm_state(E, "C/temp_low"), "inactive");
	CHECK_INT(engine_shelve(E, "C/temp_low", 60000, "an", "maintenance"), 0);
	engine_tick(E, now + 30 * 1000000000LL);
	CHECK_INT((int)(unshelved - before), 0);
	engine_tick(E, now + 2 * MIN_NS);
	CHECK_INT((int)(unshelved - before), 1);
}

static void test_alarms_share_their_names_and_keep_their_own_ids_and_messages(void)
{
	const struct ealarm *hi = NULL, *lo = NULL;

	for (size_t i = 0; i < E->nalarms; i++) {
		if (strcmp(ealarm_id(E->alarms[i]), "A/temp_high") == 0)
			hi = E->alarms[i];
		if (strcmp(ealarm_id(E->alarms[i]), "A/temp_low") == 0)
			lo = E->alarms[i];
	}
	CHECK(hi && lo);
	if (!hi || !lo)
		return;
	CHECK(hi->room == lo->room); /* one copy of "A" */
	CHECK(ealarm_channel(hi) == ealarm_channel(lo)); /* the channel's own id */
	CHECK_STR(ealarm_channel(hi), "th-1/temperature");
	{
		char sb[64];
		CHECK_STR(ealarm_sensor(hi, sb, sizeof(sb)), "th-1");
	}
	CHECK(hi->in_arena && lo->in_arena); /* configured: in the engine's alarm blocks */
	CHECK_STR(ealarm_rule(hi), "temp_high");
	{
		char m1[ALARM_MSG_MAX], m2[ALARM_MSG_MAX];
		CHECK_STR(build_alarm_message(hi, m1, sizeof(m1)), "room A: air temperature above 7");
		CHECK_STR(build_alarm_message(lo, m2, sizeof(m2)), "room A: air temperature below 2");
	}
	CHECK(hi->msg_split && hi->msg == lo->msg); /* "room A", once */
	CHECK(ealarm_conf(hi) != ealarm_conf(lo) && ealarm_conf(hi)->rule == ealarm_rule(hi));
	CHECK(build_intern(E, "A") == hi->room);
	CHECK(build_intern(E, NULL) == NULL);
}

/* The intern table (build.c) through the names: copies survive its growth
 * and its new blocks, a long name gets a block of its own and is found
 * again, and names that share a prefix stay apart. */
static void test_interned_names_survive_growth_and_long_names_are_found_again(void)
{
	enum { N = 3000 };
	static const char *first[N];
	char name[32], *longname = xmalloc(10001);
	const char *l1, *l2, *pre;

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "room-%d", i);
		first[i] = build_intern(E, name);
		if (strcmp(first[i], name) != 0) {
			CHECK_STR(first[i], name);
			break;
		}
	}
	memset(longname, 'x', 10000);
	longname[10000] = '\0';
	l1 = build_intern(E, longname);
	pre = build_intern(E, "room-1");
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "room-%d", i);
		if (build_intern(E, name) != first[i]) {
			CHECK(build_intern(E, name) == first[i]);
			break;
		}
	}
	l2 = build_intern(E, longname);
	CHECK(l1 == l2 && l1 != longname);
	CHECK(strlen(l1) == 10000);
	CHECK(pre == first[1] && pre != first[10] && pre != first[100]);
	CHECK_STR(first[10], "room-10");
	free(longname);
}

/* The channel index (build.c) keeps each id's hash beside it: every channel
 * is found again across the index's doublings, and ids that are not there
 * (one byte off, a prefix, one byte more: the misses most of a hub's
 * samples are) are not found. */
static void test_channel_index_finds_every_channel_after_growth_and_misses_near_ids(void)
{
	enum { N = 2000 };
	static struct echan *made[N];
	char id[64];
	int bad = 0;

	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "s%04d-k%02d/temperature", i / 50, i % 50);
		made[i] = build_chan_get(E, id, "A");
	}
	CHECK(E->nchans >= N && E->chan_index_size >= 2 * E->nchans);
	for (int i = 0; i < N && !bad; i++) {
		snprintf(id, sizeof(id), "s%04d-k%02d/temperature", i / 50, i % 50);
		bad |= build_chan_find(E, id) != made[i];
		bad |= build_chan_get(E, id, "A") != made[i];
		id[strlen(id) - 1] = 'X';
		bad |= build_chan_find(E, id) != NULL;
		id[strlen(id) - 1] = '\0';
		bad |= build_chan_find(E, id) != NULL;
		snprintf(id, sizeof(id), "s%04d-k%02d/temperaturex", i / 50, i % 50);
		bad |= build_chan_find(E, id) != NULL;
		if (bad)
			CHECK_STR(id, "found again, and its near ids not");
	}
	CHECK(build_chan_find(E, "th-1/temperature") != NULL);
	CHECK(build_chan_find(E, "") == NULL);
}

static const struct ealarm *alarm_find(const char *id)
{
	for (size_t i = 0; i < E->nalarms; i++)
		if (strcmp(ealarm_id(E->alarms[i]), id) == 0)
			return E->alarms[i];
	return NULL;
}

static void test_alarms_with_the_same_limits_share_one_configuration_and_keep_their_own_state(void)
{
	const struct ealarm *a = alarm_find("A/temp_high"), *c = alarm_find("C/temp_high"),
			    *alo = alarm_find("A/temp_low"), *ahh = alarm_find("A/temp_high_high");

	CHECK(a && c && alo && ahh);
	if (!a || !c || !alo || !ahh)
		return;
	CHECK(a->a.c == c->a.c); /* rooms A and C: one profile, one copy */
	CHECK(a->a.c != alo->a.c);
	CHECK(a->a.c != ahh->a.c);
	CHECK(a->a.c->limit == 7.0 && ahh->a.c->limit == 10.0 && alo->a.c->limit == 2.0);
	CHECK(a->a.c->kind == ALARM_HIGH && alo->a.c->kind == ALARM_LOW);
	/* the state is each alarm's own: A raised in the first test, C did not */
	CHECK(a->a.active == 0 && a->a.acked == 0);
	CHECK(c->a.active == 0 && c->a.acked == 1);
}

/* A hub's room and lot pages ask the engine for one room's status, not
 * every room's under its lock: engine_lot_room finds a lot's room, after a
 * move its new one; the room filter gives that room and its alarms only. */
static void test_a_lots_room_is_found_and_a_room_filter_gives_that_room_and_its_alarms_only(void)
{
	struct engine_status_filter f = { .room = "C" };
	char *room = NULL;
	cJSON *st, *x;
	int n = 0;

	CHECK_INT(engine_lot_load(E, "B", "L7", "p", T0, "t"), 0);
	CHECK_INT(engine_lot_room(E, "L7", &room), 0);
	CHECK_STR(room, "B");
	free(room);
	CHECK_INT(engine_lot_move(E, "L7", "C", "t"), 0);
	CHECK_INT(engine_lot_room(E, "L7", &room), 0);
	CHECK_STR(room, "C");
	free(room);
	CHECK_INT(engine_lot_room(E, "L8", &room), -ENOENT);
	CHECK(room == NULL);
	CHECK_INT(engine_lot_room(NULL, "L7", &room), -ESRCH);
	st = engine_status_json_filtered(E, 1, &f);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "rooms")), 1);
	x = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "rooms"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "name")), "C");
	x = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(x, "lots"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "id")), "L7");
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "alarms"))
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "room")), "C");
	cJSON_Delete(st);
	st = engine_status_json(E, 1); /* unfiltered: A's and B's alarms too */
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "alarms"))
		n += cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "room")) &&
		     strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "room")), "C") != 0;
	CHECK(n > 0);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "rooms")), 3);
	cJSON_Delete(st);
	CHECK_INT(engine_lot_unload(E, "L7", "t"), 0);
}

/* A typo's hint ("no alarm X": the active ones; "no lot Y": the lots) asks
 * the engine for ids only, not its whole status tree under its lock:
 * engine_ids gives exactly the ids the status lists, in its order, among
 * them a shelved quiet alarm and not an inactive one. */
static void test_the_ids_for_a_hint_are_those_the_status_lists_in_its_order(void)
{
	struct engine_ids ids;
	cJSON *st, *x, *y;
	size_t i = 0, lots = 0;

	feed(T0 + 20 * MIN_NS, 8.0);
	engine_tick(E, T0 + 36 * MIN_NS); /* A's and B's temp_high active again */
	CHECK_STR(engine_alarm_state(E, "A/temp_high"), "active");
	CHECK_INT(engine_shelve(E, "C/temp_low", 60000, "an", "t"), 0);
	CHECK_INT(engine_lot_load(E, "C", "L1", "p", T0, "t"), 0);
	CHECK_INT(engine_lot_load(E, "A", "L2", "p", T0, "t"), 0);
	st = engine_status_json(E, 1);
	CHECK_INT(engine_ids(E, 0, &ids), 0);
	CHECK(ids.n >= 3);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "alarms")) {
		CHECK(i < ids.n);
		if (i < ids.n)
			CHECK_STR(ids.v[i], cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "id")));
		i++;
	}
	CHECK_INT((int)i, (int)ids.n);
	for (i = 0; i < ids.n; i++)
		CHECK(strcmp(ids.v[i], "C/temp_high") != 0); /* inactive: not listed */
	engine_ids_free(&ids);
	CHECK(ids.v == NULL && ids.n == 0);
	CHECK_INT(engine_ids(E, 1, &ids), 0);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "rooms"))
		cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(x, "lots")) {
			CHECK(lots < ids.n);
			if (lots < ids.n)
				CHECK_STR(ids.v[lots], cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(y, "id")));
			lots++;
		}
	CHECK_INT((int)lots, 2);
	CHECK_INT((int)ids.n, 2);
	CHECK_STR(ids.v[0], "L2"); /* room A's, before C's: the status's order, not the loads' */
	engine_ids_free(&ids);
	cJSON_Delete(st);
	CHECK_INT(engine_ids(NULL, 1, &ids), -ESRCH);
	CHECK_INT(engine_lot_unload(E, "L1", "t"), 0);
	CHECK_INT(engine_lot_unload(E, "L2", "t"), 0);
	CHECK_INT(engine_unshelve(E, "C/temp_low", "an", "t"), 0);
}

int main(void)
{
	tl_prog = "unit/engine_hub";
	T0 = time_now_ns() - 1000 * MIN_NS;
	if (ef_setup("hub", load, &collect) < 0)
		return 1;
	RUN(test_a_shared_channel_raises_in_every_room_that_reads_it_and_only_there);
	RUN(test_a_quiet_alarms_shelve_still_expires_on_the_tick);
	RUN(test_alarms_share_their_names_and_keep_their_own_ids_and_messages);
	RUN(test_alarms_with_the_same_limits_share_one_configuration_and_keep_their_own_state);
	RUN(test_interned_names_survive_growth_and_long_names_are_found_again);
	RUN(test_channel_index_finds_every_channel_after_growth_and_misses_near_ids);
	RUN(test_a_lots_room_is_found_and_a_room_filter_gives_that_room_and_its_alarms_only);
	RUN(test_the_ids_for_a_hint_are_those_the_status_lists_in_its_order);
	ef_teardown();
	return TL_DONE();
}
