/* test_engine_trend.c - what the room page's 24-hour chart gets from the
 * engine (daemon/engine/trend.c): readings in 5-minute buckets by their
 * own times (min, max, mean), gaps left empty, late readings in their
 * bucket while still within the day, the day rolling over after 24 h,
 * and the rings kept across a restart through their file (trend.state),
 * written every 5 minutes and at a stop; a damaged one, or one of another
 * bucket size, starts the charts empty; a state file of a release that
 * kept the day in it still restores it; a day past the file's limit leaves
 * the last file written as it was, and a reload keeps it whole. */
#include "../../daemon/engine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/engine/engine_int.h"
#include "../../daemon/state.h"
#include "../../daemon/util.h"
#include "testlib.h"
#include "engine_fixture.h"

#define MIN_NS (60LL * 1000000000LL)
#define H_NS (60 * MIN_NS)
#define NB ENGINE_TREND_BUCKETS

static struct engine_trend *tr;
/* 2026-06-01T00:00:00Z: a bucket boundary */
static const int64_t T0 = 1780272000LL * 1000000000LL;

static int load(void)
{
	return ef_load("c.conf",
		       "site = \"s\"; state_dir = \"%s\";\n"
		       "profiles = ( { name = \"lychee\"; version = \"b1\";\n"
		       "  limits = { band_low = 2.0; band_high = 5.0; warn_high = 7.0; alarm_high = 10.0; warn_low = 1.0; };"
		       " } );\n"
		       "rooms = ( { name = \"A\"; profile = \"lychee\"; temperature = \"th-a1/temperature\";"
		       " humidity = \"th-a1/humidity\"; door = \"door-a/open\"; },\n"
		       "  { name = \"B\"; temperature = \"th-b1/temperature\"; },\n"
		       "  { name = \"C\"; temperature = \"th-c1/temperature\"; } );\n"
		       "outputs = { file = ( { path = \"-\"; } ); };\n",
		       dir);
}

static struct cc_channel ch_at = { .id = "th-a1/temperature", .quantity = "temperature", .sensor = "th-a1" };
static struct cc_channel ch_ah = { .id = "th-a1/humidity", .quantity = "humidity", .sensor = "th-a1" };
static struct cc_channel ch_bt = { .id = "th-b1/temperature", .quantity = "temperature", .sensor = "th-b1" };
static struct cc_channel ch_ct = { .id = "th-c1/temperature", .quantity = "temperature", .sensor = "th-c1" };

static void feed(struct cc_channel *ch, int64_t ts, double v, enum cc_quality q)
{
	struct cc_sample s = { .ch = ch, .ts_ns = ts, .value = v, .quality = q };
	engine_process(E, &s, 1);
}

static void test_readings_of_one_five_minute_bucket_give_its_min_max_and_mean(void)
{
	feed(&ch_at, T0 + 10 * 1000000000LL, 4.0, CC_Q_GOOD);
	feed(&ch_at, T0 + 100 * 1000000000LL, 6.0, CC_Q_GOOD);
	feed(&ch_at, T0 + 200 * 1000000000LL, 5.0, CC_Q_GOOD);
	feed(&ch_at, T0 + 250 * 1000000000LL, 99.0, CC_Q_OUT_OF_RANGE); /* not a reading of the room */
	feed(&ch_ah, T0 + 20 * 1000000000LL, 91.5, CC_Q_GOOD);
	feed(&ch_at, T0 + 5 * MIN_NS, 3.0, CC_Q_GOOD); /* the next bucket */
	CHECK_INT(engine_room_trend(E, "A", T0 + 6 * MIN_NS, tr), 0);
	CHECK_INT(tr->bucket_ns, 5 * MIN_NS);
	CHECK_INT(tr->start_ns, T0 + 5 * MIN_NS - (NB - 1) * 5 * MIN_NS);
	CHECK(tr->s[ENGINE_TREND_TEMP].present && tr->s[ENGINE_TREND_RH].present && tr->s[ENGINE_TREND_DOOR].present);
	CHECK(!tr->s[ENGINE_TREND_CO2].present);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 2].n, 3);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 2].min, 4.0, 1e-6);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 2].max, 6.0, 1e-6);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 2].mean, 5.0, 1e-6);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].mean, 3.0, 1e-6);
	CHECK_NEAR(tr->s[ENGINE_TREND_RH].b[NB - 2].mean, 91.5, 1e-4);
	CHECK_INT(tr->s[ENGINE_TREND_DOOR].b[NB - 2].n, 0);
	/* the room's band for drawing */
	CHECK_NEAR(tr->lim.band_low, 2.0, 1e-9);
	CHECK_NEAR(tr->lim.warn_high, 7.0, 1e-9);
	CHECK_INT(engine_room_trend(E, "nowhere", T0, tr), -ENOENT);
	CHECK_INT(engine_room_trend(NULL, "A", T0, tr), -ESRCH);
}

static void test_a_gap_stays_empty_not_interpolated(void)
{
	feed(&ch_bt, T0, 2.0, CC_Q_GOOD);
	feed(&ch_bt, T0 + 30 * MIN_NS, 8.0, CC_Q_GOOD);
	CHECK_INT(engine_room_trend(E, "B", T0 + 30 * MIN_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
	for (int i = NB - 6; i < NB - 1; i++)
		CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[i].n, 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 7].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 7].mean, 2.0, 1e-6);
}

static void test_a_late_reading_lands_in_its_bucket_while_within_the_day(void)
{
	feed(&ch_bt, T0 + 10 * MIN_NS, 5.0, CC_Q_GOOD); /* after 30 min: late, in the gap */
	feed(&ch_bt, T0 + 30 * MIN_NS - 25 * H_NS, 50.0, CC_Q_GOOD); /* a day older than the newest: dropped */
	CHECK_INT(engine_room_trend(E, "B", T0 + 30 * MIN_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 5].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 5].mean, 5.0, 1e-6);
	for (int i = 0; i < NB; i++)
		CHECK(tr->s[ENGINE_TREND_TEMP].b[i].n == 0 || tr->s[ENGINE_TREND_TEMP].b[i].max < 49.0);
}

static void test_after_24_hours_the_oldest_buckets_give_way(void)
{
	for (int64_t t = 0; t < 30 * H_NS; t += 5 * MIN_NS)
		feed(&ch_ct, T0 + t, (double)(t / H_NS), CC_Q_GOOD);
	CHECK_INT(engine_room_trend(E, "C", T0 + 30 * H_NS - 5 * MIN_NS, tr), 0);
	for (int i = 0; i < NB; i++)
		CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[i].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[0].mean, 6.0, 1e-6);    /* 6 h in: hours 0-5 gone */
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].mean, 29.0, 1e-6);
	/* asked 12 h later with nothing new: only the last 12 h remain */
	CHECK_INT(engine_room_trend(E, "C", T0 + 42 * H_NS - 5 * MIN_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB / 2 - 1].n, 1);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB / 2].n, 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[0].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[0].mean, 18.0, 1e-6);
}

static void test_a_restart_keeps_the_day_through_the_snapshot(void)
{
	struct engine_trend *before = xcalloc(1, sizeof(*before));
	int64_t now = T0 + 30 * H_NS - 5 * MIN_NS;

	feed(&ch_at, T0 + 29 * H_NS + 7, 4.25, CC_Q_GOOD);
	CHECK_INT(engine_room_trend(E, "A", now, before), 0);
	CHECK_INT(engine_room_trend(E, "C", now, tr), 0);
	engine_free(E); /* writes the snapshot */
	E = engine_new(cfg, NULL);
	{
		struct engine_trend *after = xcalloc(1, sizeof(*after));
		CHECK_INT(engine_room_trend(E, "A", now, after), 0);
		CHECK(memcmp(before->s, after->s, sizeof(before->s)) == 0);
		CHECK_INT(engine_room_trend(E, "C", now, after), 0);
		CHECK(memcmp(tr->s, after->s, sizeof(tr->s)) == 0);
		CHECK_INT(after->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
		free(after);
	}
	free(before);
}

static char *trend_path(void)
{
	return xasprintf("%s/trend.state", dir);
}

static int unlink_trend(void)
{
	char *p = trend_path();
	int rc = unlink(p) < 0 && errno != ENOENT ? -errno : 0;

	free(p);
	return rc;
}

static int trend_exists(void)
{
	char *p = trend_path();
	int ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

/* issue 18: the rooms' day has its own file (a hub's is 1.15 million
 * buckets after a day), written every 5 minutes and at a stop, not with
 * every snapshot of the alarms and lots. */
static void test_the_day_has_its_own_file_written_every_five_minutes_and_at_a_stop(void)
{
	int64_t now = time_now_ns();

	engine_free(E); /* a stop: both files */
	CHECK(trend_exists());
	E = engine_new(cfg, NULL);
	CHECK_INT(unlink_trend(), 0);
	feed(&ch_bt, T0 + 29 * H_NS, 3.5, CC_Q_GOOD);
	engine_tick(E, now + 61 * 1000000000LL); /* the minute's snapshot: engine.state only */
	CHECK(!trend_exists());
	engine_tick(E, now + 301 * 1000000000LL); /* 5 minutes: the day too */
	CHECK(trend_exists());
	/* a reload's hand-over keeps the schedule: the next save is 5 minutes
	 * after that one, not 5 minutes after the new engine was built */
	CHECK_INT(unlink_trend(), 0);
	E = engine_new_from(cfg, NULL, engine_free_saved(E));
	engine_tick(E, now + 310 * 1000000000LL);
	CHECK(!trend_exists());
	engine_tick(E, now + 602 * 1000000000LL);
	CHECK(trend_exists());
	engine_free(E);
	E = engine_new(cfg, NULL);
	CHECK_INT(engine_room_trend(E, "B", T0 + 29 * H_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].mean, 3.5, 1e-6);
}

/* A damaged trend file (a flipped byte: its CRC), or one of another bucket
 * size, starts the charts empty; nothing else is lost. */
static void test_a_damaged_trend_file_or_one_of_another_bucket_size_starts_the_charts_empty(void)
{
	static const unsigned char other[] = { 'C', 'C', 'T', 'R', 'E', 'N', 'D', '1', 60, 0, 0, 0, 32, 1, 0, 0, 0, 0, 0, 0 };
	char *p = trend_path(), *buf = NULL;
	size_t len = 0;
	FILE *f;

	engine_free(E);
	CHECK_INT(state_read(dir, "trend.state", &buf, &len), 0);
	CHECK(len > 40);
	if (buf && len > 40 && (f = fopen(p, "r+b"))) {
		fseek(f, (long)(len / 2), SEEK_SET);
		fputc(buf[len / 2] ^ 0x10, f);
		fclose(f);
	}
	E = engine_new(cfg, NULL);
	CHECK_INT(engine_room_trend(E, "B", T0 + 29 * H_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 0);
	feed(&ch_bt, T0 + 29 * H_NS, 2.5, CC_Q_GOOD);
	CHECK_INT(engine_room_trend(E, "B", T0 + 29 * H_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
	engine_free(E);
	CHECK_INT(state_write_sealed(dir, "trend.state", other, sizeof(other)), 0);
	E = engine_new(cfg, NULL);
	CHECK_INT(engine_room_trend(E, "B", T0 + 29 * H_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 0);
	free(buf);
	free(p);
}

static void test_a_snapshot_without_trend_or_with_a_damaged_one_loads(void)
{
	const char *old = "{\"version\": 1, \"saved_ms\": 0, \"alarms\": [], \"lots\": [],"
			  " \"trend\": {\"th-b1/temperature\": \"5934240 2 1 3 4;x y;-5 1 1 1 1;5934241 1 9 1 9\","
			  " \"gone/temperature\": \"5934240 1 1 1 1\"}}";

	engine_free(E);
	/* a state file of a release that kept the day in it: no trend.state */
	CHECK_INT(unlink_trend(), 0);
	CHECK_INT(state_write(dir, "engine.state", old, strlen(old)), 0);
	E = engine_new(cfg, NULL);
	CHECK_INT(engine_room_trend(E, "B", T0, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 2); /* the first bucket; parsing stops at the damage */
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].mean, 2.0, 1e-6);
	engine_free(E);
	old = "{\"version\": 1, \"saved_ms\": 0, \"alarms\": [], \"lots\": []}";
	CHECK_INT(unlink_trend(), 0);
	CHECK_INT(state_write(dir, "engine.state", old, strlen(old)), 0);
	E = engine_new(cfg, NULL);
	CHECK_INT(engine_room_trend(E, "B", T0, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 0);
	feed(&ch_bt, T0, 2.0, CC_Q_GOOD);
	CHECK_INT(engine_room_trend(E, "B", T0, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
}

/* put32/ring: a trend.state ring as trend.c writes it (little-endian) */
static unsigned char *put32(unsigned char *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*w++ = (unsigned char)(v >> (8 * i));
	return w;
}

static unsigned char *ring(unsigned char *w, const char *id, size_t idl, uint32_t slot, uint32_t n, float min,
			   float max, float sum)
{
	uint32_t u;

	*w++ = (unsigned char)idl;
	*w++ = (unsigned char)(idl >> 8);
	memcpy(w, id, idl);
	w = put32(put32(w + idl, 1), slot);
	w = put32(w, n);
	memcpy(&u, &min, 4);
	w = put32(w, u);
	memcpy(&u, &max, 4);
	w = put32(w, u);
	memcpy(&u, &sum, 4);
	return put32(w, u);
}

/* Rings of channels no room has any more, with ids of 300 and 65,535 bytes
 * (the longest the file can hold), are read past; the room's ring after
 * them is restored. */
static void test_rings_with_long_ids_of_gone_channels_are_read_past(void)
{
	const uint32_t slot = (uint32_t)(T0 / (5 * MIN_NS));
	size_t cap = 24 + 3 * (2 + 4 + 20) + 300 + 65535 + 32;
	unsigned char *buf = xmalloc(cap), *w = buf;
	char *id = xmalloc(65535);

	memset(id, 'x', 65535);
	memcpy(w, "CCTREND1", 8);
	w = put32(put32(put32(w + 8, 300), NB), 3);
	w = ring(w, id, 300, slot, 1, 9.0f, 9.0f, 9.0f);
	w = ring(w, id, 65535, slot, 1, 9.0f, 9.0f, 9.0f);
	w = ring(w, "th-b1/temperature", strlen("th-b1/temperature"), slot, 3, 1.0f, 2.0f, 4.5f);
	engine_free(E);
	CHECK_INT(state_write_sealed(dir, "trend.state", buf, (size_t)(w - buf)), 0);
	E = engine_new(cfg, NULL);
	CHECK_INT(engine_room_trend(E, "B", T0, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 3);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].mean, 1.5, 1e-6);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].max, 2.0, 1e-6);
	free(id);
	free(buf);
}

/* issue 18: a day past the file's limit (STATE_MAX_BYTES: about 11,000
 * full rings; here the size of the last file written) is not written: the
 * last file stays, so a restart starts the charts from it rather than
 * empty.  A reload's hand-over keeps every ring whatever its size. */
static void test_a_day_past_the_files_limit_leaves_the_last_file_and_a_reload_keeps_it_whole(void)
{
	char *before = NULL, *after = NULL;
	size_t lb = 0, la = 0;

	feed(&ch_bt, T0 + 29 * H_NS, 3.5, CC_Q_GOOD);
	engine_free(E); /* a stop: the file as it is now */
	CHECK_INT(state_read_sealed(dir, "trend.state", &before, &lb), 0);
	E = engine_new(cfg, NULL);
	E->trend_file_max = lb + 4; /* this file and its CRC: one bucket more is past it */
	feed(&ch_ct, T0 + 29 * H_NS, 7.5, CC_Q_GOOD);
	E = engine_new_from(cfg, NULL, engine_free_saved(E));
	CHECK_INT(engine_room_trend(E, "C", T0 + 29 * H_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].mean, 7.5, 1e-6);
	E->trend_file_max = lb + 4;
	engine_free(E); /* a stop past the limit */
	CHECK_INT(state_read_sealed(dir, "trend.state", &after, &la), 0);
	CHECK(la == lb && before && after && memcmp(before, after, lb) == 0);
	E = engine_new(cfg, NULL);
	CHECK_INT(engine_room_trend(E, "B", T0 + 29 * H_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 1);
	CHECK_NEAR(tr->s[ENGINE_TREND_TEMP].b[NB - 1].mean, 3.5, 1e-6);
	CHECK_INT(engine_room_trend(E, "C", T0 + 29 * H_NS, tr), 0);
	CHECK_INT(tr->s[ENGINE_TREND_TEMP].b[NB - 1].n, 0); /* the older day: not the last reading */
	free(before);
	free(after);
}

int main(void)
{
	tl_prog = "unit/engine_trend";
	tr = xcalloc(1, sizeof(*tr));
	if (ef_setup("trend", load, NULL) < 0)
		return 1;
	engine_tick(E, T0);
	RUN(test_readings_of_one_five_minute_bucket_give_its_min_max_and_mean);
	RUN(test_a_gap_stays_empty_not_interpolated);
	RUN(test_a_late_reading_lands_in_its_bucket_while_within_the_day);
	RUN(test_after_24_hours_the_oldest_buckets_give_way);
	RUN(test_a_restart_keeps_the_day_through_the_snapshot);
	RUN(test_the_day_has_its_own_file_written_every_five_minutes_and_at_a_stop);
	RUN(test_a_damaged_trend_file_or_one_of_another_bucket_size_starts_the_charts_empty);
	RUN(test_a_snapshot_without_trend_or_with_a_damaged_one_loads);
	RUN(test_rings_with_long_ids_of_gone_channels_are_read_past);
	RUN(test_a_day_past_the_files_limit_leaves_the_last_file_and_a_reload_keeps_it_whole);
	free(tr);
	ef_teardown();
	return TL_DONE();
}
