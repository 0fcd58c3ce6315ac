/* test_thread.c - the alarm path's scheduling hint (daemon/thread.c, issue
 * 18): an alert output's sender thread runs with the short slice, a
 * readings output's does not; the hint keeps the thread's nice value. */
#include "../../daemon/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/journal.h"
#include "../../daemon/pipeline.h"
#include "../../outputs/backend.h"
#include "testlib.h"

#define SAFETY_S 30 /* a hang guard, not a speed limit */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int sent, slice_seen = -1;

/* runs on the output's sender thread: what slice does it have */
static void probe_send(void *be, struct output *o, const char *data, size_t len, size_t nlines,
		       struct send_result *r)
{
	(void)be;
	(void)o;
	(void)data;
	(void)len;
	pthread_mutex_lock(&mu);
	slice_seen = thread_has_latency_slice();
	sent++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	r->status = SEND_OK;
	r->done = nlines ? nlines : 1;
}

static int same(const void *a, const void *b)
{
	return a == b;
}

static void nofree(void *be)
{
	(void)be;
}

static const struct output_ops lines_ops = { .send = probe_send, .same_destination = same, .free = nofree };
static const struct output_ops events_ops = { .events = 1, .send = probe_send, .same_destination = same, .free = nofree };

/* Starts an output on a fresh journal, appends one record of its kind and
 * returns the slice its sender thread had when it sent it (-1: not sent). */
static int slice_of_sender(const struct output_ops *ops)
{
	char dir[64];
	struct journal_conf jc = { .dir = dir, .max_size = 64 << 20, .segment_size = 16 << 20, .fsync_ms = 1000 };
	struct output_limits lim = { .batch = 1, .flush_ms = 1, .backoff_max_ms = 1000, .start_oldest = 1 };
	struct timespec dl;
	struct journal *j;
	struct output *o;
	int r;

	if (tl_mkdtemp(dir, sizeof(dir), "test-thread") < 0 || !(j = journal_open(&jc)))
		abort();
	o = output_new("probe", "probe test", &lim, ops, NULL);
	sent = 0;
	slice_seen = -1;
	CHECK_INT(output_start(o, j), 0);
	if (ops->events)
		CHECK_INT(journal_append(j, JOURNAL_EVENT, "{\"id\":\"A/temp_high\"}", 20, 0), 0);
	else
		CHECK_INT(journal_append(j, JOURNAL_LINES, "t,room=A value=4 1\n", 19, 1), 0);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += SAFETY_S;
	pthread_mutex_lock(&mu);
	while (!sent && pthread_cond_timedwait(&cv, &mu, &dl) != ETIMEDOUT)
		;
	r = slice_seen;
	pthread_mutex_unlock(&mu);
	output_free(o);
	journal_close(j);
	tl_rmtree(dir);
	return r;
}

static void *try_hint(void *arg)
{
	int *ok = arg;

	*ok = thread_prefer_latency() == 0 && thread_has_latency_slice();
	return NULL;
}

/* A thread at nice 3 takes the hint: still nice 3 (no CPU share changes) */
static void *try_hint_niced(void *arg)
{
	int *nice_after = arg;
	pid_t tid = gettid();

	if (setpriority(PRIO_PROCESS, (id_t)tid, 3) < 0 || thread_prefer_latency() < 0 || !thread_has_latency_slice())
		return NULL;
	errno = 0;
	*nice_after = getpriority(PRIO_PROCESS, (id_t)tid);
	return NULL;
}

static void test_the_hint_gives_the_calling_thread_the_short_slice_and_keeps_its_nice(void)
{
	pthread_t t;
	int ok = 0, nice_after = -100;

	CHECK_INT(thread_has_latency_slice(), 0);
	CHECK_INT(pthread_create(&t, NULL, try_hint, &ok), 0);
	pthread_join(t, NULL);
	CHECK(ok);
	CHECK_INT(thread_has_latency_slice(), 0); /* another thread's hint is not this one's */
	CHECK_INT(pthread_create(&t, NULL, try_hint_niced, &nice_after), 0);
	pthread_join(t, NULL);
	CHECK_INT(nice_after, 3);
}

static void test_an_alert_outputs_sender_prefers_latency_a_readings_outputs_does_not(void)
{
	CHECK_INT(slice_of_sender(&events_ops), 1);
	CHECK_INT(slice_of_sender(&lines_ops), 0);
}

int main(void)
{
	pthread_t t;
	int ok = 0;

	tl_prog = "unit/thread";
	/* a kernel without EEVDF custom slices (< 6.12) ignores the hint */
	pthread_create(&t, NULL, try_hint, &ok);
	pthread_join(t, NULL);
	if (!ok) {
		printf("SKIP unit/thread: this kernel has no custom scheduler slices (sched_setattr sched_runtime)\n");
		return 0;
	}
	RUN(test_the_hint_gives_the_calling_thread_the_short_slice_and_keeps_its_nice);
	RUN(test_an_alert_outputs_sender_prefers_latency_a_readings_outputs_does_not);
	return TL_DONE();
}
