/* test_alarm_history.c - the lot report's alarm rows: each episode's raise,
 * clear (the clear event's time, never the acknowledgement's), ack and
 * shelving, for every order the alert record can hold; and, on seeded
 * random runs of the real alarm state machine recorded as the engine records
 * them, every row checked against the events by an independent reading. */
#include "../../daemon/alarm_history.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "../../daemon/models/alarm.h"
#include "testlib.h"

#define MAXEV 4096

static struct alarm_history_event evs[MAXEV];
static size_t nev;

static void ev_add(int64_t t, const char *id, const char *event, const char *state, const char *user)
{
	evs[nev++] = (struct alarm_history_event){ .t_ms = t, .id = id, .event = event, .state = state,
						   .severity = "warning", .user = user, .value = 8.0, .limit = 7.0,
						   .message = "room A: air temperature above 7" };
}

static struct alarm_history build(int64_t from, int64_t end)
{
	struct alarm_history h;
	int rc = alarm_history_build(evs, nev, from, end, &h);
	CHECK_INT(rc, 0);
	return h;
}

static void test_cleared_then_acked_shows_the_clear_time_not_the_ack_time(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(2000, "A/temp_high", "clear", "cleared_unacked", NULL);
	ev_add(9000, "A/temp_high", "ack", "inactive", "qa");
	h = build(0, 10000);
	CHECK_INT(h.n, 1);
	CHECK_STR(h.ep[0].id, "A/temp_high");
	CHECK_INT(h.ep[0].raised_ms, 1000);
	CHECK_INT(h.ep[0].raised_before, 0);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].cleared_ms, 2000);
	CHECK_INT(h.ep[0].acked_ms, 9000);
	CHECK_STR(h.ep[0].acked_by, "qa");
	alarm_history_free(&h);
}

static void test_acked_then_cleared_shows_both_times(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(1500, "A/temp_high", "ack", "acked", "an");
	evs[nev - 1].note = "door checked";
	ev_add(2000, "A/temp_high", "clear", "inactive", NULL);
	h = build(0, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].cleared_ms, 2000);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].acked_ms, 1500);
	CHECK_STR(h.ep[0].acked_by, "an");
	CHECK_STR(h.ep[0].ack_note, "door checked");
	alarm_history_free(&h);
}

static void test_cleared_never_acked_is_cleared_not_active(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(2000, "A/temp_high", "clear", "cleared_unacked", NULL);
	h = build(0, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].cleared_ms, 2000);
	CHECK_INT(h.ep[0].acked_ms, 0);
	CHECK(h.ep[0].acked_by == NULL);
	alarm_history_free(&h);
}

static void test_still_active_at_the_end_has_no_clear_time(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(1500, "A/temp_high", "ack", "acked", "an");
	ev_add(12000, "A/temp_high", "clear", "inactive", NULL); /* after the end: not seen */
	h = build(0, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_ACTIVE);
	CHECK_INT(h.ep[0].cleared_ms, 0);
	CHECK_INT(h.ep[0].acked_ms, 1500);
	alarm_history_free(&h);
}

static void test_cleared_exactly_at_the_end_is_cleared(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(10000, "A/temp_high", "clear", "cleared_unacked", NULL);
	h = build(0, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].cleared_ms, 10000);
	alarm_history_free(&h);
	h = build(0, 9999);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_ACTIVE);
	alarm_history_free(&h);
}

static void test_raised_before_the_period_shows_its_clear(void)
{
	struct alarm_history h;

	/* Only the clear in the record given: raise unknown, before the period. */
	nev = 0;
	ev_add(3000, "A/temp_high", "clear", "cleared_unacked", NULL);
	ev_add(4000, "A/temp_high", "ack", "inactive", "qa");
	h = build(1000, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].raised_ms, 0);
	CHECK_INT(h.ep[0].raised_before, 1);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].cleared_ms, 3000);
	CHECK_INT(h.ep[0].acked_ms, 4000);
	alarm_history_free(&h);

	/* With its raise (looked up before the period): the real raise time. */
	ev_add(500, "A/temp_high", "raise", "active", NULL);
	h = build(1000, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].raised_ms, 500);
	CHECK_INT(h.ep[0].raised_before, 1);
	CHECK_INT(h.ep[0].cleared_ms, 3000);
	alarm_history_free(&h);

	/* Active through the start, acked in the period, still active. */
	nev = 0;
	ev_add(500, "A/temp_high", "raise", "active", NULL);
	ev_add(2000, "A/temp_high", "ack", "acked", "qa");
	h = build(1000, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].raised_ms, 500);
	CHECK_INT(h.ep[0].raised_before, 1);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_ACTIVE);
	alarm_history_free(&h);
}

static void test_episode_that_ended_before_the_period_is_not_a_row(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(100, "A/temp_high", "raise", "active", NULL);
	ev_add(200, "A/temp_high", "clear", "cleared_unacked", NULL);
	ev_add(2000, "A/temp_high", "ack", "inactive", "qa"); /* a late ack in the period */
	h = build(1000, 10000);
	CHECK_INT(h.n, 0);
	alarm_history_free(&h);

	/* The same with only the ack in the record: it left the alarm inactive. */
	nev = 0;
	ev_add(2000, "A/temp_high", "ack", "inactive", "qa");
	h = build(1000, 10000);
	CHECK_INT(h.n, 0);
	alarm_history_free(&h);
}

static void test_reraised_alarm_has_one_row_per_episode(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(2000, "A/temp_high", "clear", "cleared_unacked", NULL);
	ev_add(3000, "A/temp_high", "raise", "active", NULL); /* re-raised before anyone acked */
	ev_add(3500, "A/temp_high", "ack", "acked", "an");
	ev_add(4000, "A/temp_high", "clear", "inactive", NULL);
	ev_add(5000, "A/temp_high", "raise", "active", NULL);
	h = build(0, 10000);
	CHECK_INT(h.n, 3);
	CHECK_INT(h.ep[0].raised_ms, 1000);
	CHECK_INT(h.ep[0].cleared_ms, 2000);
	CHECK_INT(h.ep[0].acked_ms, 0);
	CHECK_INT(h.ep[1].raised_ms, 3000);
	CHECK_INT(h.ep[1].cleared_ms, 4000);
	CHECK_INT(h.ep[1].acked_ms, 3500);
	CHECK_INT(h.ep[2].raised_ms, 5000);
	CHECK_INT(h.ep[2].end, ALARM_HISTORY_ACTIVE);
	CHECK_INT(h.ep[2].acked_ms, 0);
	alarm_history_free(&h);
}

static void test_shelving_is_shown_on_the_episodes_it_covered(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(500, "A/temp_high", "shelve", "shelved", "tech");
	ev_add(1000, "A/temp_high", "raise", "shelved", NULL); /* raised while shelved */
	ev_add(2000, "A/temp_high", "clear", "shelved", NULL);   /* state shows "shelved", the event says clear */
	ev_add(2500, "A/temp_high", "unshelve", "cleared_unacked", "system");
	ev_add(3000, "A/temp_high", "raise", "active", NULL);
	ev_add(3200, "A/temp_high", "shelve", "shelved", "op");
	ev_add(3400, "A/temp_high", "shelve", "shelved", "op2");
	h = build(0, 10000);
	CHECK_INT(h.n, 2);
	CHECK_STR(h.ep[0].shelved_by, "tech");
	CHECK_INT(h.ep[0].shelved_ms, 500);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].cleared_ms, 2000);
	CHECK_STR(h.ep[1].shelved_by, "op");
	CHECK_INT(h.ep[1].shelved_ms, 3200);
	CHECK_INT(h.ep[1].end, ALARM_HISTORY_ACTIVE);
	alarm_history_free(&h);
}

static void test_latched_alarm_ends_at_its_reset_not_its_return(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "rule:co2", "raise", "active", NULL);
	ev_add(2000, "rule:co2", "return", "active", NULL);
	ev_add(2500, "rule:co2", "ack", "acked", "an");
	ev_add(3000, "rule:co2", "reset", "inactive", "an");
	h = build(0, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_RESET);
	CHECK_INT(h.ep[0].cleared_ms, 3000);
	CHECK_STR(h.ep[0].cleared_by, "an");
	alarm_history_free(&h);
}

static void test_escalation_and_late_flag_are_carried(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(1500, "A/temp_high", "renotify", "active", "system");
	ev_add(2000, "A/temp_high", "escalate", "active", "system");
	evs[nev - 1].severity = "critical";
	ev_add(3000, "A/temp_high", "clear", "cleared_unacked", NULL);
	ev_add(4000, "B/temp_low", "raise", "active", NULL);
	evs[nev - 1].late = 1;
	ev_add(4500, "B/temp_low", "clear", "cleared_unacked", NULL);
	evs[nev - 1].late = 1;
	/* escalated, raised before the period: the escalate opens its row */
	ev_add(5000, "C/temp_high", "escalate", "active", "system");
	evs[nev - 1].severity = "critical";
	h = build(0, 10000);
	CHECK_INT(h.n, 3);
	CHECK_STR(h.ep[0].severity, "critical");
	CHECK_INT(h.ep[0].late, 0);
	CHECK_INT(h.ep[0].cleared_ms, 3000);
	CHECK_STR(h.ep[1].id, "B/temp_low");
	CHECK_INT(h.ep[1].late, 1);
	CHECK_INT(h.ep[1].cleared_ms, 4500);
	CHECK_STR(h.ep[2].id, "C/temp_high");
	CHECK_INT(h.ep[2].raised_before, 1);
	CHECK_STR(h.ep[2].severity, "critical");
	CHECK_INT(h.ep[2].end, ALARM_HISTORY_ACTIVE);
	alarm_history_free(&h);
}

/* A backlog's alarm that raised and cleared in the past is one `historical`
 * event carrying both times: one cleared row, marked late, that leaves a
 * live episode of the same alarm open and ends nothing. */
static void test_historical_event_is_one_cleared_row_beside_the_live_episode(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(5000, "A/temp_high", "raise", "active", NULL);
	ev_add(1000, "A/temp_high", "historical", "inactive", NULL);
	evs[nev - 1].raised_ms = 1000;
	evs[nev - 1].cleared_ms = 3000;
	evs[nev - 1].late = 1;
	ev_add(2000, "B/temp_high", "historical", "inactive", NULL);
	evs[nev - 1].late = 1; /* no cleared_ns: the clear is unknown */
	ev_add(9000, "A/temp_high", "clear", "cleared_unacked", NULL);
	h = build(0, 10000);
	CHECK_INT(h.n, 3);
	CHECK_STR(h.ep[0].id, "A/temp_high");
	CHECK_INT(h.ep[0].raised_ms, 1000);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].cleared_ms, 3000);
	CHECK_INT(h.ep[0].late, 1);
	CHECK_STR(h.ep[1].id, "B/temp_high");
	CHECK_INT(h.ep[1].raised_ms, 2000);
	CHECK_INT(h.ep[1].end, ALARM_HISTORY_ACTIVE);
	CHECK_STR(h.ep[2].id, "A/temp_high");
	CHECK_INT(h.ep[2].raised_ms, 5000);
	CHECK_INT(h.ep[2].cleared_ms, 9000);
	CHECK_INT(h.ep[2].late, 0);
	alarm_history_free(&h);

	/* a historical episode that ended before the period is not a row */
	nev = 0;
	ev_add(1000, "A/temp_high", "historical", "inactive", NULL);
	evs[nev - 1].raised_ms = 1000;
	evs[nev - 1].cleared_ms = 3000;
	h = build(4000, 10000);
	CHECK_INT(h.n, 0);
	alarm_history_free(&h);
}

static void test_events_out_of_order_and_ties_keep_the_record_order(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(3000, "A/temp_high", "ack", "inactive", "qa");
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(1000, "A/temp_high", "clear", "cleared_unacked", NULL); /* same ms: after the raise */
	ev_add(1000, "A/rh_high", "raise", "active", NULL);
	h = build(0, 10000);
	CHECK_INT(h.n, 2);
	CHECK_STR(h.ep[0].id, "A/temp_high");
	CHECK_INT(h.ep[0].raised_ms, 1000);
	CHECK_INT(h.ep[0].cleared_ms, 1000);
	CHECK_INT(h.ep[0].end, ALARM_HISTORY_CLEARED);
	CHECK_INT(h.ep[0].acked_ms, 3000);
	CHECK_STR(h.ep[1].id, "A/rh_high");
	CHECK_INT(h.ep[1].end, ALARM_HISTORY_ACTIVE);
	alarm_history_free(&h);
}

static void test_a_second_raise_without_a_clear_keeps_the_first(void)
{
	struct alarm_history h;

	nev = 0;
	ev_add(1000, "A/temp_high", "raise", "active", NULL);
	ev_add(2000, "A/temp_high", "raise", "active", NULL);
	ev_add(3000, "A/temp_high", "clear", "cleared_unacked", NULL);
	ev_add(3100, "A/temp_high", "clear", "cleared_unacked", NULL);
	h = build(0, 10000);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.ep[0].raised_ms, 1000);
	CHECK_INT(h.ep[0].cleared_ms, 3000);
	alarm_history_free(&h);
}

static void test_bad_arguments_are_refused(void)
{
	struct alarm_history h = { .n = 7 };

	CHECK_INT(alarm_history_build(NULL, 3, 0, 10, &h), -EINVAL);
	CHECK_INT(h.n, 0);
	CHECK_INT(alarm_history_build(NULL, 0, 10, 0, &h), -EINVAL);
	CHECK_INT(alarm_history_build(NULL, 0, 0, 10, NULL), -EINVAL);
	CHECK_INT(alarm_history_build(NULL, 0, 0, 10, &h), 0);
	CHECK_INT(h.n, 0);
	alarm_history_free(&h);
}

/* ---- seeded random histories from the real state machine */

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Records an event as the engine does: the state shown is "shelved" while shelved. */
static void rec(const struct alarm *a, const struct alarm_event *e, const char *id)
{
	if (nev >= MAXEV)
		return;
	evs[nev] = (struct alarm_history_event){
		.t_ms = e->ts_ms, .id = id, .event = alarm_ev_name(e->type),
		.state = alarm_is_shelved(a, e->ts_ms) ? "shelved" : alarm_state_name(e->state),
		.severity = alarm_severity_name(e->sev), .user = e->user, .note = e->note, .value = e->value,
		.limit = a->c->limit,
	};
	nev++;
}

/* The independent reading: raises and clears of an alarm alternate, so
 * episode k is raise k .. clear k; an ack belongs to the episode of the
 * latest raise before it. */
static void check_against_events(const struct alarm_history *h, const char *id, int64_t end)
{
	int64_t raise[MAXEV], clear[MAXEV], ack[MAXEV];
	size_t nr = 0, nc = 0, k = 0;

	for (size_t i = 0; i < nev; i++) {
		const struct alarm_history_event *e = &evs[i];
		if (strcmp(e->id, id) != 0 || e->t_ms > end)
			continue;
		if (strcmp(e->event, "raise") == 0) {
			ack[nr] = 0;
			raise[nr++] = e->t_ms;
		} else if (strcmp(e->event, "clear") == 0) {
			clear[nc++] = e->t_ms;
		} else if (strcmp(e->event, "ack") == 0 && nr && !ack[nr - 1]) {
			ack[nr - 1] = e->t_ms;
		}
	}
	CHECK(nc == nr || nc + 1 == nr);
	for (size_t i = 0; i < h->n; i++) {
		const struct alarm_episode *ep = &h->ep[i];
		if (strcmp(ep->id, id) != 0)
			continue;
		if (k >= nr) {
			CHECK(k < nr);
			return;
		}
		CHECK_INT(ep->raised_ms, raise[k]);
		CHECK_INT(ep->end, k < nc ? ALARM_HISTORY_CLEARED : ALARM_HISTORY_ACTIVE);
		CHECK_INT(ep->cleared_ms, k < nc ? clear[k] : 0);
		CHECK_INT(ep->acked_ms, ack[k]);
		k++;
	}
	CHECK_INT(k, nr);
}

static void test_random_histories_match_their_alert_events(void)
{
	static const char *const ids[2] = { "A/temp_high", "A/rh_low" };
	size_t episodes = 0, acked_after_clear = 0, active_at_end = 0;

	for (int run = 0; run < 200; run++) {
		struct alarm a[2];
		struct alarm_conf c = { .kind = ALARM_HIGH, .limit = 7.0, .deadband = 0.5, .severity = ALARM_SEV_WARNING,
					.on_delay_ms = 1000 * rnd(3), .off_delay_ms = 1000 * rnd(3),
					.renotify_ms = 5000 * rnd(2), .escalate_ms = 7000 * rnd(2),
					.escalate_to = ALARM_SEV_CRITICAL };
		struct alarm_history h;
		int64_t t = 0, end;

		nev = 0;
		for (int j = 0; j < 2; j++)
			alarm_init(&a[j], &c);
		for (int step = 0; step < 300; step++) {
			struct alarm_event out[ALARM_MAX_EVENTS];
			int j = (int)rnd(2);
			size_t m = 0;
			t += 250 * (1 + rnd(8));
			switch (rnd(10)) {
			case 0:
				if (alarm_ack(&a[j], t, "qa", NULL, out) == 0)
					m = 1;
				break;
			case 1:
				if (alarm_shelve(&a[j], t, 3000, "tech", NULL, out) == 0)
					m = 1;
				break;
			default:
				m = alarm_eval_value(&a[j], t, rnd(3) ? 6.0 + rnd(4) : 4.0, out);
				break;
			}
			for (size_t x = 0; x < m; x++)
				rec(&a[j], &out[x], ids[j]);
		}
		end = t - 250 * (int64_t)rnd(400);
		h = build(0, end);
		check_against_events(&h, ids[0], end);
		check_against_events(&h, ids[1], end);
		for (size_t i = 0; i < h.n; i++) {
			episodes++;
			acked_after_clear += h.ep[i].end == ALARM_HISTORY_CLEARED && h.ep[i].acked_ms > h.ep[i].cleared_ms;
			active_at_end += h.ep[i].end == ALARM_HISTORY_ACTIVE;
		}
		alarm_history_free(&h);
		if (tl_cur_failed) {
			printf("    (run %d)\n", run);
			break;
		}
	}
	/* the runs cover the orders that matter */
	printf("    %zu episodes, %zu acknowledged after their clear, %zu active at the end\n", episodes,
	       acked_after_clear, active_at_end);
	CHECK(episodes > 1000);
	CHECK(acked_after_clear > 50);
	CHECK(active_at_end > 50);
}

int main(void)
{
	tl_prog = "unit/alarm_history";
	RUN(test_cleared_then_acked_shows_the_clear_time_not_the_ack_time);
	RUN(test_acked_then_cleared_shows_both_times);
	RUN(test_cleared_never_acked_is_cleared_not_active);
	RUN(test_still_active_at_the_end_has_no_clear_time);
	RUN(test_cleared_exactly_at_the_end_is_cleared);
	RUN(test_raised_before_the_period_shows_its_clear);
	RUN(test_episode_that_ended_before_the_period_is_not_a_row);
	RUN(test_reraised_alarm_has_one_row_per_episode);
	RUN(test_shelving_is_shown_on_the_episodes_it_covered);
	RUN(test_latched_alarm_ends_at_its_reset_not_its_return);
	RUN(test_escalation_and_late_flag_are_carried);
	RUN(test_historical_event_is_one_cleared_row_beside_the_live_episode);
	RUN(test_events_out_of_order_and_ties_keep_the_record_order);
	RUN(test_a_second_raise_without_a_clear_keeps_the_first);
	RUN(test_bad_arguments_are_refused);
	RUN(test_random_histories_match_their_alert_events);
	return TL_DONE();
}
