/* test_delivery.c - the delivery core (outputs/output.c) with an in-test
 * backend and a clock the test owns: backoff, Retry-After, commit only after
 * success, skipped events, and stop's drain and deadline, all in no real
 * time.  The real backends are test_output.c's (a scripted HTTP server). */
#include "../../outputs/backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../daemon/journal.h"
#include "../../daemon/pipeline.h"
#include "../../daemon/util.h"
#include "testlib.h"

#define SAFETY_MS 30000 /* real-time waits give up after this: a hang guard, not a speed limit */
#define T0 1000000      /* the fake clock's start */
#define MAX_ATTEMPTS 64

/* One lock and condition for the fake clock and the fake backend: the test
 * waits on it for what the sender thread did. */
static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tcv;

/* --- the fake clock: a finite wait jumps to its end at once (unless held:
 * then it waits to be woken, as an idle sender does) ------------------- */

static struct {
	int64_t now;
	int hold;    /* finite waits block until woken (output_stop, an append) */
	int waiting; /* the sender is blocked in wait() */
	int woken;   /* times an idle (unbounded) wait was woken */
} fclock;

static int64_t fake_mono_ms(void *arg)
{
	int64_t t;

	(void)arg;
	pthread_mutex_lock(&tlock);
	t = fclock.now;
	pthread_mutex_unlock(&tlock);
	return t;
}

static void fake_wait(void *arg, pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_ms)
{
	(void)arg;
	pthread_mutex_lock(&tlock);
	if (until_ms != INT64_MAX && !fclock.hold) {
		if (until_ms > fclock.now)
			fclock.now = until_ms;
		pthread_mutex_unlock(&tlock);
		return;
	}
	fclock.waiting++;
	pthread_cond_broadcast(&tcv);
	pthread_mutex_unlock(&tlock);
	pthread_cond_wait(cv, mu); /* mu is released only inside: no wake-up is lost */
	pthread_mutex_lock(&tlock);
	fclock.waiting--;
	fclock.woken += until_ms == INT64_MAX;
	pthread_mutex_unlock(&tlock);
}

static const struct output_clock fake_clock = { fake_mono_ms, fake_wait, NULL };

/* --- the fake backend: a script of outcomes, then success -------------- */

struct step {
	enum send_status status;
	int64_t retry_after_ms;
};

static struct {
	struct step script[MAX_ATTEMPTS];
	size_t nscript;
	int fail_always;       /* every attempt: SEND_RETRY */
	const char *reject_if; /* a batch holding this is refused (SEND_REJECT) */
	size_t attempts;
	int64_t at[MAX_ATTEMPTS];        /* the clock at each attempt */
	uint64_t pending_at[MAX_ATTEMPTS]; /* the output's uncommitted lines then */
	char got[4096];                  /* what was delivered */
	size_t got_len;
} fbe;

static void fake_send(void *be, struct output *o, const char *data, size_t len, size_t nlines,
		      struct send_result *r)
{
	struct output_stats st;
	size_t i;

	(void)be;
	output_get_stats(o, &st); /* the core's lock is free during send() */
	pthread_mutex_lock(&tlock);
	i = fbe.attempts++;
	if (i < MAX_ATTEMPTS) {
		fbe.at[i] = fclock.now;
		fbe.pending_at[i] = st.pending;
	}
	if (fbe.reject_if && memmem(data, len, fbe.reject_if, strlen(fbe.reject_if))) {
		r->status = SEND_REJECT;
		r->done = nlines;
		r->rejected = nlines;
		snprintf(r->error, sizeof(r->error), "refused by the test");
	} else if (fbe.fail_always || i < fbe.nscript) {
		r->status = fbe.fail_always ? SEND_RETRY : fbe.script[i].status;
		r->retry_after_ms = fbe.fail_always ? 0 : fbe.script[i].retry_after_ms;
		snprintf(r->error, sizeof(r->error), "attempt %zu fails", i + 1);
	} else {
		r->status = SEND_OK;
		r->done = nlines;
		if (fbe.got_len + len < sizeof(fbe.got)) {
			memcpy(fbe.got + fbe.got_len, data, len);
			fbe.got_len += len;
		}
	}
	pthread_cond_broadcast(&tcv);
	pthread_mutex_unlock(&tlock);
}

static int fake_same_destination(const void *a, const void *b)
{
	return a == b;
}

static void fake_free(void *be)
{
	(void)be;
}

static const struct output_ops lines_ops = {
	.send = fake_send, .same_destination = fake_same_destination, .free = fake_free
};
static const struct output_ops events_ops = {
	.events = 1, .send = fake_send, .same_destination = fake_same_destination, .free = fake_free
};

/* A backend with a tick (the notification channels' held messages): the
 * times of its first ticks; after 5 the clock is held so the sender blocks. */
static int64_t tick_at[8];
static int nticks;

static void fake_tick(void *be, struct output *o)
{
	(void)be;
	(void)o;
	pthread_mutex_lock(&tlock);
	if (nticks < 8)
		tick_at[nticks] = fclock.now;
	if (++nticks >= 5)
		fclock.hold = 1;
	pthread_mutex_unlock(&tlock);
}

static const struct output_ops tick_ops = {
	.events = 1, .send = fake_send, .tick = fake_tick, .same_destination = fake_same_destination, .free = fake_free
};

/* --- fixture: a fresh journal, clock and backend per test -------------- */

static struct journal *J;
static char jdir[64];

static void setup(void)
{
	struct journal_conf jc = { .dir = jdir, .max_size = 64 << 20, .segment_size = 16 << 20, .fsync_ms = 1000 };

	if (tl_mkdtemp(jdir, sizeof(jdir), "test-delivery") < 0 || !(J = journal_open(&jc)))
		abort();
	pipeline_set_journal(J); /* the output_unauthorised alert goes there */
	memset(&fclock, 0, sizeof(fclock));
	fclock.now = T0;
	memset(&fbe, 0, sizeof(fbe));
}

static void teardown(void)
{
	pipeline_set_journal(NULL);
	journal_close(J);
	J = NULL;
	tl_rmtree(jdir);
}

#define RUNF(fn)                                                                                  \
	do {                                                                                      \
		setup();                                                                          \
		RUN(fn);                                                                          \
		teardown();                                                                       \
	} while (0)

static void append(enum journal_type type, const char *s)
{
	uint32_t n = 0;

	if (type == JOURNAL_EVENT) { /* as the engine does: the alert outputs wake for it at once */
		pipeline_submit_event(s, strlen(s));
		return;
	}
	for (const char *p = s; type == JOURNAL_LINES && *p; p++)
		n += *p == '\n';
	CHECK_INT(journal_append(J, type, s, strlen(s), n), 0);
}

/* An output around the fake backend on the fake clock, started. */
static struct output *fake_output(const struct output_ops *ops, int batch, int64_t flush_ms, int64_t backoff_max_ms)
{
	struct output_limits lim = { .batch = batch, .flush_ms = flush_ms, .backoff_max_ms = backoff_max_ms,
				     .start_oldest = 1 };
	struct output *o = output_new("fake", "fake test", &lim, ops, &fbe);

	output_set_clock(o, &fake_clock);
	CHECK_INT(output_start(o, J), 0);
	return o;
}

/* Waits (in real time, bounded) until the sender is blocked in the clock's
 * wait after at least `attempts` attempts: with the clock not held, that
 * is the idle wait with nothing left to send. */
static int wait_sender_blocked(size_t attempts)
{
	struct timespec ts;
	int64_t until = time_mono_ms() + SAFETY_MS;
	int ok;

	ts.tv_sec = (time_t)(until / 1000);
	ts.tv_nsec = (long)(until % 1000) * 1000000L;
	pthread_mutex_lock(&tlock);
	while (!(fclock.waiting > 0 && fbe.attempts >= attempts))
		if (pthread_cond_timedwait(&tcv, &tlock, &ts) == ETIMEDOUT)
			break;
	ok = fclock.waiting > 0 && fbe.attempts >= attempts;
	pthread_mutex_unlock(&tlock);
	return ok;
}

static int64_t clamp_backoff(unsigned failures, int64_t max)
{
	int64_t b = (int64_t)1000 << (failures - 1);

	return b < max ? b : max;
}

/* --- tests --------------------------------------------------------------- */

static void test_retry_backoff_doubles_from_one_second_up_to_backoff_max_with_jitter_in_bounds(void)
{
	struct output_stats st;
	struct output *o;
	int jittered = 0;

	fbe.nscript = 9;
	for (size_t i = 0; i < fbe.nscript; i++)
		fbe.script[i].status = SEND_RETRY;
	append(JOURNAL_LINES, "m v=1 1\n");
	o = fake_output(&lines_ops, 10, 1, 16000);
	CHECK(wait_sender_blocked(10));
	CHECK_INT(fbe.attempts, 10);
	/* after failure f the wait is in [b/2, b], b = 1 s << (f - 1) up to 16 s */
	for (size_t i = 1; i < fbe.attempts; i++) {
		int64_t d = fbe.at[i] - fbe.at[i - 1], b = clamp_backoff((unsigned)i, 16000);

		if (d < b / 2 || d > b)
			printf("    wait after failure %zu: %lld ms, not in [%lld, %lld]\n", i, (long long)d,
			       (long long)(b / 2), (long long)b);
		CHECK(d >= b / 2 && d <= b);
		jittered |= d != b;
	}
	CHECK(jittered);
	output_get_stats(o, &st);
	CHECK_INT(st.retried, 9);
	CHECK_INT(st.written, 1);
	output_free(o);
}

static void test_a_destination_needing_an_operator_is_retried_every_backoff_max(void)
{
	struct output *o;

	fbe.nscript = 3;
	fbe.script[0].status = SEND_SLOW;
	fbe.script[1].status = SEND_AUTH;
	fbe.script[2].status = SEND_SLOW;
	append(JOURNAL_LINES, "m v=1 1\n");
	o = fake_output(&lines_ops, 10, 1, 60000);
	CHECK(wait_sender_blocked(4));
	for (size_t i = 1; i < 4; i++)
		CHECK(fbe.at[i] - fbe.at[i - 1] >= 30000 && fbe.at[i] - fbe.at[i - 1] <= 60000);
	output_free(o);
}

static void test_retry_after_is_honoured_over_a_shorter_backoff(void)
{
	struct output *o;

	fbe.nscript = 2;
	fbe.script[0] = (struct step){ SEND_RETRY, 30000 };
	fbe.script[1] = (struct step){ SEND_RETRY, 0 };
	append(JOURNAL_LINES, "m v=1 1\n");
	o = fake_output(&lines_ops, 10, 1, 60000);
	CHECK(wait_sender_blocked(3));
	CHECK_INT(fbe.at[1] - fbe.at[0], 30000); /* not the 1 s backoff */
	CHECK(fbe.at[2] - fbe.at[1] >= 1000 && fbe.at[2] - fbe.at[1] <= 2000); /* backoff again */
	output_free(o);
}

static void test_a_batch_is_committed_only_after_it_is_delivered(void)
{
	struct output_stats st;
	struct output *o;

	fbe.nscript = 2;
	fbe.script[0].status = SEND_RETRY;
	fbe.script[1].status = SEND_SLOW;
	append(JOURNAL_LINES, "m v=1 1\nm v=2 2\nm v=3 3\n");
	o = fake_output(&lines_ops, 10, 1, 60000);
	CHECK(wait_sender_blocked(3));
	CHECK_INT(fbe.attempts, 3);
	CHECK_INT(fbe.pending_at[0], 3);
	CHECK_INT(fbe.pending_at[1], 3); /* the failures moved nothing */
	CHECK_INT(fbe.pending_at[2], 3);
	output_get_stats(o, &st);
	CHECK_INT(st.pending, 0); /* the success did */
	CHECK_INT(st.written, 3);
	fbe.got[fbe.got_len] = '\0';
	CHECK_STR(fbe.got, "m v=1 1\nm v=2 2\nm v=3 3\n");
	output_free(o);
}

static void test_a_rejected_event_is_skipped_counted_and_the_next_one_delivered(void)
{
	struct output_stats st;
	struct output *o;

	fbe.reject_if = "\"bad\"";
	append(JOURNAL_EVENT, "{\"id\":\"one\"}");
	append(JOURNAL_LINES, "m v=1 1\n"); /* not for an event output */
	append(JOURNAL_EVENT, "{\"id\":\"bad\"}");
	append(JOURNAL_EVENT, "{\"id\":\"three\"}");
	o = fake_output(&events_ops, 1, 1, 60000);
	CHECK(wait_sender_blocked(3));
	CHECK_INT(fbe.attempts, 3); /* the refused one is not retried */
	output_get_stats(o, &st);
	CHECK_INT(st.rejected, 1);
	CHECK_INT(st.written, 2);
	CHECK_INT(st.retried, 0);
	CHECK_INT(st.pending, 0);
	fbe.got[fbe.got_len] = '\0';
	CHECK_STR(fbe.got, "{\"id\":\"one\"}\n{\"id\":\"three\"}\n");
	output_free(o);
}

static void test_stop_delivers_a_young_partial_batch_at_once(void)
{
	struct output_stats st;
	struct output *o;

	fclock.hold = 1;
	append(JOURNAL_LINES, "m v=1 1\nm v=2 2\n");
	o = fake_output(&lines_ops, 10, 60000, 60000); /* would wait a minute for more */
	CHECK(wait_sender_blocked(0));
	CHECK_INT(fbe.attempts, 0);
	output_stop(o, T0 + 5000);
	CHECK_INT(fbe.attempts, 1);
	CHECK_INT(fbe.at[0], T0);
	output_get_stats(o, &st);
	CHECK_INT(st.written, 2);
	CHECK_INT(st.pending, 0);
	output_free(o);
}

static void test_stop_retries_until_its_deadline_then_keeps_the_batch(void)
{
	struct output_stats st;
	struct output *o;
	size_t before;
	int64_t deadline;

	fclock.hold = 1;
	fbe.fail_always = 1;
	append(JOURNAL_LINES, "m v=1 1\n");
	o = fake_output(&lines_ops, 1, 1, 60000); /* batch 1: sent at once */
	CHECK(wait_sender_blocked(1)); /* failed once, waiting out its backoff */
	pthread_mutex_lock(&tlock);
	before = fbe.attempts;
	deadline = fclock.now + 10000;
	fclock.hold = 0;
	pthread_mutex_unlock(&tlock);
	output_stop(o, deadline);
	/* at once (the backoff is cut short), then after 1-2 s, 2-4 s: the
	 * next would pass the deadline */
	CHECK(fbe.attempts >= before + 3);
	CHECK(fbe.at[fbe.attempts - 1] <= deadline);
	CHECK_INT(fake_mono_ms(NULL), deadline);
	output_get_stats(o, &st);
	CHECK_INT(st.written, 0);
	CHECK_INT(st.pending, 1); /* kept in the journal for the next start */
	output_free(o);
}

static void test_an_idle_output_with_a_tick_is_called_every_second(void)
{
	struct output *o;

	nticks = 0;
	o = fake_output(&tick_ops, 1, 1, 60000);
	CHECK(wait_sender_blocked(0));
	CHECK_INT(nticks, 5);
	for (int i = 1; i < 5; i++)
		CHECK_INT(tick_at[i] - tick_at[i - 1], OUTPUT_TICK_MS);
	/* an event still goes out between ticks */
	pthread_mutex_lock(&tlock);
	fclock.hold = 0;
	nticks = 0;
	pthread_mutex_unlock(&tlock);
	append(JOURNAL_EVENT, "{\"id\":\"x\"}");
	CHECK(wait_sender_blocked(1));
	CHECK_INT(fbe.attempts, 1);
	output_free(o);
}

/* Issue 18: an alert output skips readings; woken for each append of them it
 * took a context switch per MQTT burst from the cores the alarm path needs.
 * It wakes at once for an event, and for readings only every 64th append (so
 * its journal position still moves on). */
static void test_an_alert_output_wakes_at_once_for_an_event_not_for_each_reading(void)
{
	struct output *o = fake_output(&events_ops, 1, 1, 60000);

	CHECK(wait_sender_blocked(0));
	pthread_mutex_lock(&tlock);
	fclock.woken = 0;
	pthread_mutex_unlock(&tlock);
	for (int i = 0; i < 40; i++)
		append(JOURNAL_LINES, "t,room=A value=4 1\n");
	CHECK(wait_sender_blocked(0));
	CHECK_INT(fclock.woken, 0);
	append(JOURNAL_EVENT, "{\"id\":\"A/temp_high\"}");
	CHECK(wait_sender_blocked(1));
	CHECK_INT(fbe.attempts, 1);
	CHECK(fclock.woken >= 1);
	output_free(o);
}

/* A sender holding part of a batch, waiting for more until its flush time,
 * wakes when the appends since it went to wait may complete the batch: it
 * slept until the flush timer (a minute here) with a full batch to send
 * (a lost wake-up: on_journal woke it only every 64th append). */
static void test_the_append_that_completes_a_batch_wakes_a_sender_holding_part_of_it(void)
{
	struct output *o;

	fclock.hold = 1; /* finite waits block until woken */
	o = fake_output(&lines_ops, 3, 60000, 60000);
	append(JOURNAL_LINES, "m v=1 1\nm v=2 2\n");
	CHECK(wait_sender_blocked(0)); /* holding 2 lines until T0 + 60 s */
	CHECK_INT(fbe.attempts, 0);
	append(JOURNAL_LINES, "m v=3 3\n");
	CHECK(wait_sender_blocked(1));
	CHECK_INT(fbe.attempts, 1);
	CHECK_INT(fbe.at[0], T0); /* at once, not at the flush time */
	output_free(o);
}

int main(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tcv, &ca);
	pthread_condattr_destroy(&ca);
	tl_prog = "unit/delivery";
	RUNF(test_retry_backoff_doubles_from_one_second_up_to_backoff_max_with_jitter_in_bounds);
	RUNF(test_a_destination_needing_an_operator_is_retried_every_backoff_max);
	RUNF(test_retry_after_is_honoured_over_a_shorter_backoff);
	RUNF(test_a_batch_is_committed_only_after_it_is_delivered);
	RUNF(test_a_rejected_event_is_skipped_counted_and_the_next_one_delivered);
	RUNF(test_stop_delivers_a_young_partial_batch_at_once);
	RUNF(test_stop_retries_until_its_deadline_then_keeps_the_batch);
	RUNF(test_an_idle_output_with_a_tick_is_called_every_second);
	RUNF(test_an_alert_output_wakes_at_once_for_an_event_not_for_each_reading);
	RUNF(test_the_append_that_completes_a_batch_wakes_a_sender_holding_part_of_it);
	return TL_DONE();
}
