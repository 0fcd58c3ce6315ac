/* test_journal_idle.c - the journal's sync thread costs nothing when
 * nothing happens (issue 18, the small gateway: wake-ups per second), and
 * still writes what comes: a position committed on an idle journal reaches
 * its file within fsync, without a close. */
#include "../../daemon/journal.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/util.h"
#include "testlib.h"

#define JOURNAL_DIR_TAG "test-jidle"
#include "journal_dir.h"

#define FSYNC_MS 20

static struct journal *jopen(void)
{
	struct journal_conf c = { .dir = dir, .max_size = 64 << 20, .segment_size = 16 << 20, .fsync_ms = FSYNC_MS };
	return journal_open(&c);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Context switches (voluntary + involuntary) of every thread of this
 * process but the calling one: each is a time a thread slept or was
 * preempted, i.e. a wake-up. */
static long other_threads_switches(void)
{
	char path[300], line[128];
	long total = 0, self = (long)gettid();
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		if (e->d_name[0] == '.' || atol(e->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			long v;
			if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
				total += v;
		}
		fclose(f);
	}
	closedir(d);
	return total;
}

static void append_one(struct journal *j, int i)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "m v=%d %d\n", i, i);

	CHECK_INT(journal_append(j, JOURNAL_LINES, line, (size_t)n, 1), 0);
}

/* fsyncs reach n within 5 s (polled: the sync thread's own pace) */
static int fsyncs_reach(struct journal *j, uint64_t n)
{
	struct journal_stats st;

	for (int i = 0; i < 500; i++) {
		journal_get_stats(j, &st);
		if (st.fsyncs >= n)
			return 1;
		nap_ms(10);
	}
	return 0;
}

static void test_an_idle_journal_thread_sleeps_until_there_is_something_to_sync(void)
{
	struct journal *j;
	long before, after;

	fresh_dir();
	j = jopen();
	CHECK(j != NULL);
	if (!j)
		return;
	append_one(j, 1);
	CHECK(fsyncs_reach(j, 1));
	nap_ms(5 * FSYNC_MS); /* the turn after the sync finds nothing and sleeps */
	before = other_threads_switches();
	nap_ms(25 * FSYNC_MS);
	after = other_threads_switches();
	/* it ticked every fsync before: 25 wake-ups here */
	if (after - before > 2)
		printf("    the sync thread woke %ld times in %d ms with nothing to sync\n", after - before, 25 * FSYNC_MS);
	CHECK(before >= 0 && after - before <= 2);
	/* and it wakes for work again */
	append_one(j, 2);
	CHECK(fsyncs_reach(j, 2));
	journal_close(j);
}

/* The position file's "lsn N" line, or -1. */
static long long pos_file_lsn(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long long lsn = -1;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[320], buf[512];
		FILE *f;
		size_t n;
		const char *p;
		if (strncmp(e->d_name, "pos-a-", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		if ((p = strstr(buf, "\nlsn ")))
			lsn = atoll(p + 5);
	}
	closedir(d);
	return lsn;
}

static void test_a_position_committed_on_an_idle_journal_reaches_its_file_within_fsync(void)
{
	struct journal *j;
	struct journal_consumer *c;
	struct journal_rec r;
	long long got = -1;

	fresh_dir();
	j = jopen();
	CHECK(j != NULL);
	if (!j)
		return;
	c = journal_consumer_open(j, "a", "test a", 1, NULL, NULL);
	CHECK(c != NULL);
	append_one(j, 1);
	CHECK(fsyncs_reach(j, 1));
	nap_ms(5 * FSYNC_MS); /* idle: the sync thread waits for work */
	CHECK_INT(journal_next(c, &r), 1);
	journal_commit(c, r.end_lsn, r.end_seq);
	for (int i = 0; i < 200 && (got = pos_file_lsn()) != (long long)r.end_lsn; i++)
		nap_ms(10); /* at most 2 s: 100 times fsync */
	if (got != (long long)r.end_lsn)
		printf("    position file lsn %lld, committed %llu\n", got, (unsigned long long)r.end_lsn);
	CHECK(got == (long long)r.end_lsn);
	journal_consumer_close(c);
	journal_close(j);
}

int main(void)
{
	tl_prog = "unit/journal_idle";
	RUN(test_an_idle_journal_thread_sleeps_until_there_is_something_to_sync);
	RUN(test_a_position_committed_on_an_idle_journal_reaches_its_file_within_fsync);
	if (drop_dir() != 0)
		return 1;
	return TL_DONE();
}
