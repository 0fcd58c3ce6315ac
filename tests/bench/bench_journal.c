/* bench_journal.c - the journal on this machine's disk: appends with group
 * commit (the way sources submit: one record per poll of a device, 10
 * points each, from 4 threads), points per second; then recovery time of a
 * large journal (journal_open on BENCH_JOURNAL_MB, default 1024 MiB) and a
 * consumer reading all of it back.  Prints figures, asserts nothing.
 * BENCH_DIR chooses where (default /var/tmp: a real disk, not tmpfs). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/journal.h"
#include "../../daemon/log.h"
#include "../../daemon/util.h"

#define THREADS 4
#define PER_RECORD 10

static struct journal *J;
static long per_thread;

#define SEG_MB 64

/* The process's peak RSS (VmHWM) in MiB; reset_peak_rss() starts it afresh
 * (Linux: "5" to /proc/self/clear_refs). */
static double peak_rss_mib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	double kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %lf", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024;
}

static void reset_peak_rss(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One record = one device poll: PER_RECORD lines of a typical reading. */
static size_t make_record(char *buf, size_t cap, long i, int th)
{
	size_t n = 0;

	for (int k = 0; k < PER_RECORD; k++)
		n += (size_t)snprintf(buf + n, cap - n,
				      "temperature,channel=t%d,room=A,sensor=th-%d,site=lucngan-packhouse-1,unit=C "
				      "value=%ld.25 %ld\n",
				      k, th, i % 1000, 1780000000000000000L + i * 1000000000L);
	return n;
}

static void *appender(void *arg)
{
	int th = (int)(long)arg;
	char buf[PER_RECORD * 160];

	for (long i = 0; i < per_thread; i++) {
		size_t n = make_record(buf, sizeof(buf), i, th);
		if (journal_append(J, JOURNAL_LINES, buf, n, PER_RECORD) < 0)
			abort();
	}
	return NULL;
}

int main(void)
{
	const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/var/tmp";
	long big_mb = getenv("BENCH_JOURNAL_MB") ? atol(getenv("BENCH_JOURNAL_MB")) : 1024;
	char dir[256], cmd[300];
	struct journal_conf jc;
	struct journal_stats st;
	struct journal_consumer *c;
	struct journal_rec r;
	pthread_t t[THREADS];
	double t0, t1, rss0;
	long points, recs = 0;
	uint64_t bytes = 0;

	log_open(LOG_TARGET_STDERR, LOG_LVL_WARN);
	snprintf(dir, sizeof(dir), "%s/cc-bench-journal-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	jc.dir = dir;
	jc.max_size = (uint64_t)(big_mb + 256) << 20;
	jc.segment_size = (uint64_t)SEG_MB << 20;
	jc.fsync_ms = 1000;

	/* 1. append throughput, group commit every 1 s */
	J = journal_open(&jc);
	per_thread = 250000;
	t0 = now_s();
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, appender, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	journal_sync(J);
	t1 = now_s();
	journal_get_stats(J, &st);
	points = per_thread * THREADS * PER_RECORD;
	printf("  append (%d threads, %d points per record, fsync every 1s, then one at the end):\n", THREADS,
	       PER_RECORD);
	printf("    %ld points in %.2f s = %.0f points/s (%.0f MiB/s, %" PRIu64 " fsyncs)\n", points, t1 - t0,
	       (double)points / (t1 - t0), (double)st.bytes / (1 << 20) / (t1 - t0), st.fsyncs);
	journal_close(J);

	/* 2. grow it to big_mb, then recovery = journal_open of it */
	J = journal_open(&jc);
	{
		char buf[PER_RECORD * 160];
		long i = 0;
		do {
			size_t n = make_record(buf, sizeof(buf), i++, 9);
			journal_append(J, JOURNAL_LINES, buf, n, PER_RECORD);
			if ((i & 4095) == 0)
				journal_get_stats(J, &st);
		} while (st.bytes < (uint64_t)big_mb << 20);
	}
	journal_close(J);
	if (system("sync") != 0)
		return 1;
	reset_peak_rss();
	rss0 = peak_rss_mib();
	t0 = now_s();
	J = journal_open(&jc); /* CRC of every record, torn-tail check */
	t1 = now_s();
	journal_get_stats(J, &st);
	printf("  recovery of a %.0f MiB journal (%" PRIu64 " segments of %d MiB, page cache warm): %.2f s (%.0f MiB/s);"
	       " peak RSS %.1f -> %.1f MiB\n",
	       (double)st.bytes / (1 << 20), st.segments, SEG_MB, t1 - t0, (double)st.bytes / (1 << 20) / (t1 - t0),
	       rss0, peak_rss_mib());

	/* 3. one consumer reads it all back */
	c = journal_consumer_open(J, "bench", "bench reader", 1, NULL, NULL);
	t0 = now_s();
	while (journal_next(c, &r) == 1) {
		recs++;
		bytes += r.len;
	}
	t1 = now_s();
	printf("  read back: %ld records, %.0f MiB in %.2f s (%.0f MiB/s, %.0f points/s)\n", recs,
	       (double)bytes / (1 << 20), t1 - t0, (double)bytes / (1 << 20) / (t1 - t0),
	       (double)recs * PER_RECORD / (t1 - t0));
	journal_close(J);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
