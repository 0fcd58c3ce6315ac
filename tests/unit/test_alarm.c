/* test_alarm.c - the alarm state machine, time passed in (no sleeps):
 * delays, deadband, chatter, ack, latch, shelve expiry, suppression,
 * re-notify, escalation, flood, rate limit, rate of change. */
#include "../../daemon/models/alarm.h"

#include <errno.h>

#include "testlib.h"

#define MIN (60 * 1000LL)

static struct alarm_event ev[ALARM_MAX_EVENTS];

static struct alarm_conf high(double limit, int64_t on, int64_t off)
{
	struct alarm_conf c = { .kind = ALARM_HIGH, .limit = limit, .deadband = 0.5, .on_delay_ms = on,
				.off_delay_ms = off, .severity = ALARM_SEV_WARNING };
	return c;
}

/* Feeds v at t; returns the type of the single event, -1 for none, -2 for more. */
static int feed(struct alarm *a, int64_t t, double v)
{
	size_t n = alarm_eval_value(a, t, v, ev);
	return n == 0 ? -1 : n == 1 ? (int)ev[0].type : -2;
}

static void test_on_delay_raises_only_after_the_delay(void)
{
	struct alarm_conf c = high(7.0, 15 * MIN, 0);
	struct alarm a;
	alarm_init(&a, &c);
	CHECK_INT(feed(&a, 0, 8.0), -1);
	CHECK_INT(feed(&a, 14 * MIN, 8.0), -1);
	CHECK_INT(alarm_state(&a), ALARM_INACTIVE);
	CHECK_INT(feed(&a, 15 * MIN, 8.0), AEV_RAISE);
	CHECK_INT(ev[0].state, ALARM_ACTIVE_UNACKED);
	CHECK(ev[0].annunciate);
	CHECK_NEAR(ev[0].value, 8.0, 0);
}

static void test_on_delay_is_cancelled_when_value_returns(void)
{
	struct alarm_conf c = high(7.0, 15 * MIN, 0);
	struct alarm a;
	alarm_init(&a, &c);
	feed(&a, 0, 8.0);    /* door opened: excursion */
	feed(&a, 10 * MIN, 6.0); /* back below */
	CHECK_INT(feed(&a, 12 * MIN, 8.0), -1); /* new excursion starts its own delay */
	CHECK_INT(feed(&a, 26 * MIN, 8.0), -1);
	CHECK_INT(feed(&a, 27 * MIN, 8.0), AEV_RAISE);
}

static void test_timer_tick_raises_without_a_new_sample(void)
{
	struct alarm_conf c = high(7.0, 15 * MIN, 0);
	struct alarm a;
	alarm_init(&a, &c);
	feed(&a, 0, 9.0);
	CHECK_INT(alarm_tick(&a, 10 * MIN, ev), 0);
	CHECK_INT(alarm_tick(&a, 15 * MIN, ev), 1);
	CHECK_INT(ev[0].type, AEV_RAISE);
}

static void test_deadband_suppresses_chatter_around_the_limit(void)
{
	struct alarm_conf c = high(7.0, 0, 0);
	struct alarm a;
	int transitions = 0;
	alarm_init(&a, &c);
	/* noise of ±0.3 K around the limit: one raise, no clear */
	for (int i = 0; i < 60; i++) {
		double v = 7.0 + ((i % 2) ? 0.3 : -0.3);
		if (feed(&a, i * 1000, v) != -1)
			transitions++;
	}
	CHECK_INT(transitions, 1);
	CHECK(a.active);
	/* below limit - deadband clears */
	CHECK_INT(feed(&a, 61000, 6.4), AEV_CLEAR);
	CHECK_INT(ev[0].state, ALARM_CLEARED_UNACKED);
}

static void test_off_delay_holds_alarm_through_short_returns(void)
{
	struct alarm_conf c = high(7.0, 0, 5 * MIN);
	struct alarm a;
	alarm_init(&a, &c);
	CHECK_INT(feed(&a, 0, 9.0), AEV_RAISE);
	CHECK_INT(feed(&a, 1 * MIN, 5.0), -1);
	CHECK_INT(feed(&a, 3 * MIN, 9.0), -1); /* back in alarm: no re-raise */
	CHECK_INT(feed(&a, 4 * MIN, 5.0), -1);
	CHECK_INT(feed(&a, 8 * MIN, 5.0), -1);
	CHECK_INT(feed(&a, 9 * MIN, 5.0), AEV_CLEAR);
}

static void test_low_and_low_low_levels(void)
{
	struct alarm_conf c = { .kind = ALARM_LOW, .limit = 2.0, .deadband = 0.5, .severity = ALARM_SEV_WARNING };
	struct alarm_conf cc = { .kind = ALARM_LOW_LOW, .limit = 1.0, .deadband = 0.5,
				 .severity = ALARM_SEV_CRITICAL };
	struct alarm lo, ll;
	alarm_init(&lo, &c);
	alarm_init(&ll, &cc);
	CHECK_INT(feed(&lo, 0, 1.5), AEV_RAISE);
	CHECK_INT(feed(&ll, 0, 1.5), -1);
	CHECK_INT(feed(&ll, 1, 0.5), AEV_RAISE);
	CHECK_INT(ev[0].sev, ALARM_SEV_CRITICAL);
	CHECK_INT(feed(&lo, 2, 2.3), -1);     /* inside deadband */
	CHECK_INT(feed(&lo, 3, 2.6), AEV_CLEAR);
}

static void test_ack_moves_through_the_four_states(void)
{
	struct alarm_conf c = high(7.0, 0, 0);
	struct alarm a;
	alarm_init(&a, &c);
	CHECK_INT(alarm_ack(&a, 0, "an", "", ev), -EALREADY);
	feed(&a, 0, 9);
	CHECK_INT(alarm_state(&a), ALARM_ACTIVE_UNACKED);
	CHECK_INT(alarm_ack(&a, 1, "an", "checking compressor", ev), 0);
	CHECK_INT(ev[0].type, AEV_ACK);
	CHECK_STR(ev[0].user, "an");
	CHECK_STR(ev[0].note, "checking compressor");
	CHECK_INT(ev[0].state, ALARM_ACTIVE_ACKED);
	CHECK_INT(feed(&a, 2, 5), AEV_CLEAR);
	CHECK_INT(ev[0].state, ALARM_INACTIVE);
	/* cleared before the ack: cleared-unacked, then ack -> inactive */
	feed(&a, 3, 9);
	feed(&a, 4, 5);
	CHECK_INT(alarm_state(&a), ALARM_CLEARED_UNACKED);
	CHECK_INT(alarm_ack(&a, 5, "binh", NULL, ev), 0);
	CHECK_INT(ev[0].state, ALARM_INACTIVE);
}

static void test_latched_alarm_stays_until_reset(void)
{
	struct alarm_conf c = high(7.0, 0, 0);
	struct alarm a;
	c.latched = 1;
	alarm_init(&a, &c);
	feed(&a, 0, 9);
	CHECK_INT(alarm_reset(&a, 1, "an", NULL, ev), -EBUSY); /* still in alarm */
	CHECK_INT(feed(&a, 2, 5), AEV_RETURN);
	CHECK(a.active);
	CHECK_INT(feed(&a, 3 * MIN, 5), -1);
	CHECK(a.active);
	CHECK_INT(alarm_ack(&a, 4 * MIN, "an", NULL, ev), 0);
	CHECK_INT(alarm_state(&a), ALARM_ACTIVE_ACKED);
	CHECK_INT(alarm_reset(&a, 5 * MIN, "an", "door seal replaced", ev), 0);
	CHECK_INT(ev[0].type, AEV_RESET);
	CHECK_INT(ev[0].state, ALARM_INACTIVE);
	CHECK_INT(alarm_reset(&a, 6 * MIN, "an", NULL, ev), -EALREADY);
}

static void test_shelved_alarm_is_evaluated_not_annunciated_and_shelve_expires(void)
{
	struct alarm_conf c = high(7.0, 0, 0);
	struct alarm a;
	alarm_init(&a, &c);
	CHECK_INT(alarm_shelve(&a, 0, 30 * MIN, "an", "sensor being replaced", ev), 0);
	CHECK_INT(ev[0].type, AEV_SHELVE);
	CHECK_INT(feed(&a, 1 * MIN, 9), AEV_RAISE);
	CHECK(!ev[0].annunciate); /* recorded, not annunciated */
	CHECK(a.active);
	CHECK_INT(alarm_tick(&a, 29 * MIN, ev), 0);
	CHECK_INT(alarm_tick(&a, 30 * MIN, ev), 1);
	CHECK_INT(ev[0].type, AEV_UNSHELVE);
	CHECK_STR(ev[0].user, "system");
	CHECK(ev[0].annunciate); /* still standing and unacked: announced now */
	CHECK_INT(alarm_shelve(&a, 31 * MIN, 0, "an", NULL, ev), -EINVAL);
	CHECK_INT(alarm_unshelve(&a, 31 * MIN, "an", NULL, ev), -EALREADY);
}

static void test_suppression_records_but_does_not_annunciate(void)
{
	struct alarm_conf c = high(7.0, 0, 0);
	struct alarm a;
	alarm_init(&a, &c);
	CHECK_INT(alarm_suppress(&a, 0, 1, "defrost", ev), 0);
	CHECK_INT(feed(&a, 1, 12), AEV_RAISE);
	CHECK(!ev[0].annunciate);
	CHECK_INT(alarm_suppress(&a, 2, 0, "defrost", ev), 0);
	CHECK_INT(ev[0].type, AEV_UNSUPPRESS);
	CHECK(ev[0].annunciate);
	CHECK_INT(alarm_suppress(&a, 3, 0, "defrost", ev), -EALREADY);
}

static void test_renotify_while_active_and_unacked(void)
{
	struct alarm_conf c = high(7.0, 0, 0);
	struct alarm a;
	c.renotify_ms = 30 * MIN;
	alarm_init(&a, &c);
	feed(&a, 0, 9);
	CHECK_INT(alarm_tick(&a, 29 * MIN, ev), 0);
	CHECK_INT(alarm_tick(&a, 30 * MIN, ev), 1);
	CHECK_INT(ev[0].type, AEV_RENOTIFY);
	CHECK_INT(alarm_tick(&a, 59 * MIN, ev), 0);
	CHECK_INT(alarm_tick(&a, 60 * MIN, ev), 1);
	alarm_ack(&a, 61 * MIN, "an", NULL, ev);
	CHECK_INT(alarm_tick(&a, 200 * MIN, ev), 0);
}

static void test_escalation_after_a_set_time_unacked(void)
{
	struct alarm_conf c = high(7.0, 0, 0);
	struct alarm a;
	c.escalate_ms = 60 * MIN;
	c.escalate_to = ALARM_SEV_CRITICAL;
	alarm_init(&a, &c);
	feed(&a, 0, 9);
	CHECK_INT(alarm_tick(&a, 59 * MIN, ev), 0);
	CHECK_INT(alarm_tick(&a, 60 * MIN, ev), 1);
	CHECK_INT(ev[0].type, AEV_ESCALATE);
	CHECK_INT(ev[0].sev, ALARM_SEV_CRITICAL);
	CHECK_INT(alarm_tick(&a, 120 * MIN, ev), 0); /* once */
	/* a new raise starts at the configured severity again */
	feed(&a, 121 * MIN, 5);
	feed(&a, 122 * MIN, 9);
	CHECK_INT(ev[0].sev, ALARM_SEV_WARNING);
}

/* Issue 12 item 5: readings that lie in the past (late = 1).  An excursion
 * that raised and cleared there is one historical event, never announced,
 * never re-notified or escalated however long it lasted. */
static void test_late_excursion_raised_and_cleared_is_one_historical_event(void)
{
	struct alarm_conf c = high(7.0, 15 * MIN, 0);
	struct alarm a;
	int other = 0;

	c.renotify_ms = 10 * MIN;
	c.escalate_ms = 20 * MIN;
	c.escalate_to = ALARM_SEV_CRITICAL;
	alarm_init(&a, &c);
	a.late = 1;
	CHECK_INT(feed(&a, 0, 8.0), -1);
	for (int64_t t = MIN; t <= 120 * MIN; t += MIN)
		other += feed(&a, t, 9.0) != -1;
	CHECK_INT(other, 0); /* no raise, renotify or escalation while late */
	CHECK(a.active && a.pending);
	CHECK_INT(feed(&a, 121 * MIN, 5.0), AEV_HISTORICAL);
	CHECK(!ev[0].annunciate);
	CHECK(ev[0].late);
	CHECK_INT(ev[0].since_ms, 15 * MIN);
	CHECK_INT(ev[0].ts_ms, 121 * MIN);
	CHECK_INT(ev[0].sev, ALARM_SEV_WARNING);
	CHECK_INT(alarm_state(&a), ALARM_INACTIVE); /* nobody was told: nothing to acknowledge */
	CHECK_INT(alarm_annunciate(&a, 200 * MIN, ev), 0);
}

/* Still active when the readings have caught up: announced once, with its
 * raise time; escalation then counts from the announcement. */
static void test_late_raise_still_active_is_annunciated_once_and_escalates_from_then(void)
{
	struct alarm_conf c = high(7.0, 15 * MIN, 0);
	struct alarm a;

	c.escalate_ms = 20 * MIN;
	c.escalate_to = ALARM_SEV_CRITICAL;
	alarm_init(&a, &c);
	a.late = 1;
	feed(&a, 0, 8.0);
	CHECK_INT(feed(&a, 60 * MIN, 8.0), -1);
	a.late = 0;
	CHECK_INT(alarm_annunciate(&a, 100 * MIN, ev), 1);
	CHECK_INT(ev[0].type, AEV_RAISE);
	CHECK(ev[0].annunciate);
	CHECK(ev[0].late);
	CHECK_INT(ev[0].ts_ms, 60 * MIN); /* the reading that found the on-delay passed */
	CHECK_INT(alarm_state(&a), ALARM_ACTIVE_UNACKED);
	CHECK_INT(alarm_annunciate(&a, 101 * MIN, ev), 0);
	CHECK_INT(feed(&a, 110 * MIN, 8.0), -1);       /* 10 min after the announcement */
	CHECK_INT(feed(&a, 120 * MIN, 8.0), AEV_ESCALATE); /* 20 min after it */
	CHECK_INT(feed(&a, 121 * MIN, 5.0), AEV_CLEAR);
	CHECK(ev[0].annunciate);
}

static void test_undelayed_critical_gas_condition(void)
{
	struct alarm_conf c = { .kind = ALARM_HIGH, .limit = 40000, .severity = ALARM_SEV_CRITICAL };
	struct alarm a;
	alarm_init(&a, &c);
	CHECK_INT(feed(&a, 0, 45000), AEV_RAISE);
	CHECK_INT(ev[0].sev, ALARM_SEV_CRITICAL);
}

static void test_condition_alarm_and_nan_is_ignored(void)
{
	struct alarm_conf c = { .kind = ALARM_COND, .on_delay_ms = 5 * MIN, .severity = ALARM_SEV_WARNING };
	struct alarm a;
	alarm_init(&a, &c);
	CHECK_INT(alarm_eval_cond(&a, 0, 1, 1, ev), 0);
	CHECK_INT(feed(&a, 1 * MIN, NAN), -1);
	CHECK_INT(alarm_eval_cond(&a, 5 * MIN, 1, 1, ev), 1);
	CHECK_INT(ev[0].type, AEV_RAISE);
	CHECK_INT(alarm_eval_cond(&a, 6 * MIN, 0, 0, ev), 1);
	CHECK_INT(ev[0].type, AEV_CLEAR);
}

static void test_flood_starts_above_10_in_10_min_and_ends_below_5(void)
{
	struct alarm_flood f;
	alarm_flood_init(&f, 10 * MIN, 10, 5);
	for (int i = 0; i < 10; i++) {
		alarm_flood_note(&f, i * 1000);
		CHECK_INT(alarm_flood_update(&f, i * 1000), 0);
	}
	alarm_flood_note(&f, 11000);
	CHECK_INT(alarm_flood_update(&f, 11000), 1);
	CHECK(f.active);
	CHECK_INT(alarm_flood_update(&f, 5 * MIN), 0);
	/* the window slides past them: fewer than 5 -> ends */
	CHECK_INT(alarm_flood_update(&f, 10 * MIN + 12000), -1);
	CHECK(!f.active);
}

static void test_rate_limit_allows_burst_then_one_per_interval(void)
{
	struct alarm_ratelimit r;
	int ok = 0;
	alarm_ratelimit_init(&r, 3, MIN);
	for (int i = 0; i < 10; i++)
		ok += alarm_ratelimit_allow(&r, 0);
	CHECK_INT(ok, 3);
	CHECK_INT(r.dropped, 7);
	CHECK_INT(alarm_ratelimit_allow(&r, 30000), 0);
	CHECK_INT(alarm_ratelimit_allow(&r, MIN), 1);
}

static void test_rate_of_change_over_window(void)
{
	struct alarm_roc r = { 0 };
	CHECK(isnan(alarm_roc_per_h(&r, 0, 30 * MIN)));
	for (int i = 0; i <= 60; i++)
		alarm_roc_add(&r, i * MIN, 2.0 + 0.1 * i); /* 6 K/h */
	CHECK_NEAR(alarm_roc_per_h(&r, 60 * MIN, 30 * MIN), 6.0, 1e-9);
	/* readings that span less than half the window say nothing */
	struct alarm_roc s = { 0 };
	alarm_roc_add(&s, 0, 1);
	alarm_roc_add(&s, MIN, 9);
	CHECK(isnan(alarm_roc_per_h(&s, MIN, 30 * MIN)));
}

/* The ring keeps its times as 32-bit ms from a base: readings at
 * wall-clock times give the same rate, and a gap past 2^31 ms (24.8 days)
 * drops the readings before it (the rate starts again) instead of
 * wrapping into nonsense. */
static void test_rate_of_change_at_wall_clock_times_and_after_a_month(void)
{
	const int64_t t0 = 1780000000123LL, month = 30LL * 24 * 60 * MIN;
	struct alarm_roc r = { 0 };

	for (int i = 0; i <= 60; i++)
		alarm_roc_add(&r, t0 + i * MIN, 2.0 - 0.05 * i); /* -3 K/h */
	CHECK_NEAR(alarm_roc_per_h(&r, t0 + 60 * MIN, 30 * MIN), -3.0, 1e-9);
	CHECK(isnan(alarm_roc_per_h(&r, t0 + 60 * MIN + month, 30 * MIN))); /* nothing inside the window */
	alarm_roc_add(&r, t0 + month, 5.0);
	CHECK_INT(r.n, 1); /* the month-old readings could not be told: dropped */
	CHECK(isnan(alarm_roc_per_h(&r, t0 + month, 30 * MIN)));
	for (int i = 1; i <= 30; i++)
		alarm_roc_add(&r, t0 + month + i * MIN, 5.0 + 0.2 * i); /* 12 K/h */
	CHECK_NEAR(alarm_roc_per_h(&r, t0 + month + 30 * MIN, 30 * MIN), 12.0, 1e-9);
	/* a reading 20 days on still fits: the ring keeps its readings */
	alarm_roc_add(&r, t0 + month + 20LL * 24 * 60 * MIN, 7.0);
	CHECK_INT(r.n, 32);
}

int main(void)
{
	tl_prog = "unit/alarm";
	RUN(test_on_delay_raises_only_after_the_delay);
	RUN(test_on_delay_is_cancelled_when_value_returns);
	RUN(test_timer_tick_raises_without_a_new_sample);
	RUN(test_deadband_suppresses_chatter_around_the_limit);
	RUN(test_off_delay_holds_alarm_through_short_returns);
	RUN(test_low_and_low_low_levels);
	RUN(test_ack_moves_through_the_four_states);
	RUN(test_latched_alarm_stays_until_reset);
	RUN(test_shelved_alarm_is_evaluated_not_annunciated_and_shelve_expires);
	RUN(test_suppression_records_but_does_not_annunciate);
	RUN(test_renotify_while_active_and_unacked);
	RUN(test_escalation_after_a_set_time_unacked);
	RUN(test_late_excursion_raised_and_cleared_is_one_historical_event);
	RUN(test_late_raise_still_active_is_annunciated_once_and_escalates_from_then);
	RUN(test_undelayed_critical_gas_condition);
	RUN(test_condition_alarm_and_nan_is_ignored);
	RUN(test_flood_starts_above_10_in_10_min_and_ends_below_5);
	RUN(test_rate_limit_allows_burst_then_one_per_interval);
	RUN(test_rate_of_change_over_window);
	RUN(test_rate_of_change_at_wall_clock_times_and_after_a_month);
	return TL_DONE();
}
