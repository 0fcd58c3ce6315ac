/* test_journal.c - the journal's contract: what is appended is read back
 * once per consumer across restarts, positions survive, consumed segments
 * go, and damaged files (torn tail, flipped byte, garbage) are repaired,
 * counted and never stop the journal from opening. */
#include "../../daemon/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/util.h"
#include "testlib.h"

static char dir[64];

static void fresh_dir(void)
{
	char cmd[128];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("    cannot remove %s\n", dir);
	}
	snprintf(dir, sizeof(dir), "/tmp/cc-test-journal-XXXXXX");
	if (!mkdtemp(dir))
		abort();
}

static struct journal *jopen(uint64_t max_size, uint64_t seg)
{
	struct journal_conf c = { .dir = dir, .max_size = max_size, .segment_size = seg, .fsync_ms = 1000 };
	return journal_open(&c);
}

/* Sizes no test fills: only the tests about caps and pruning choose others. */
#define ROOMY_MAX (64 << 20)
#define ROOMY_SEG (16 << 20)

static struct journal_consumer *open_a(struct journal *j)
{
	return journal_consumer_open(j, "a", "test a", 0, NULL, NULL);
}

static void append_n(struct journal *j, int from, int to)
{
	char line[64];

	for (int i = from; i < to; i++) {
		int n = snprintf(line, sizeof(line), "m v=%d %d\n", i, i);
		CHECK_INT(journal_append(j, JOURNAL_LINES, line, (size_t)n, 1), 0);
	}
}

/* Reads everything past c's position; returns the count, commits if asked.
 * first, last: the v of the first and last line read. */
static int read_all(struct journal_consumer *c, int commit, int *first, int *last)
{
	struct journal_rec r;
	int n = 0;

	while (journal_next(c, &r) == 1) {
		if (r.type != JOURNAL_LINES)
			continue;
		int v = atoi(r.data + 4);
		if (n == 0 && first)
			*first = v;
		if (last)
			*last = v;
		n++;
		if (commit)
			journal_commit(c, r.end_lsn, r.end_seq);
	}
	return n;
}

/* The only segment file other than the active (newest) one, or the oldest. */
static void seg_name(int which, char *out, size_t len)
{
	char cmd[160];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/*.seg | sort | sed -n %dp", dir, which);
	p = popen(cmd, "r");
	out[0] = '\0';
	if (p && fgets(out, (int)len, p))
		out[strcspn(out, "\n")] = '\0';
	if (p)
		pclose(p);
}

/* Arrange: a fresh dir holding a journal (max_size in seg-byte segments),
 * consumer "a" opened first so that it sees every line (returned in *a
 * unless a is NULL), then the lines v=0..n-1. */
static struct journal *journal_with_lines(uint64_t max_size, uint64_t seg, int n, struct journal_consumer **a)
{
	struct journal *j;
	struct journal_consumer *c;

	fresh_dir();
	j = jopen(max_size, seg);
	CHECK(j != NULL);
	c = open_a(j);
	CHECK(c != NULL);
	if (a)
		*a = c;
	append_n(j, 0, n);
	return j;
}

/* The oldest segment file, opened with flags to damage it (-1 on error). */
static int open_first_segment(int flags)
{
	char seg[256];

	seg_name(1, seg, sizeof(seg));
	return open(seg, flags);
}

/* A restart: the journal opened again at the roomy sizes, its stats (what
 * recovery repaired and counted) in *st. */
static struct journal *reopen(struct journal_stats *st)
{
	struct journal *j = jopen(ROOMY_MAX, ROOMY_SEG);

	CHECK(j != NULL);
	journal_get_stats(j, st);
	return j;
}

/* After record 50 of lines v=0..99 was damaged on disk: recovery skipped and
 * counted that record alone, and consumer "a" reads the other 99 in order. */
static void check_only_record_50_is_lost(struct journal *j, const struct journal_stats *st)
{
	int first = -1, last = -1;

	CHECK_INT(st->corrupt_skipped, 1);
	CHECK_INT(read_all(open_a(j), 1, &first, &last), 99);
	CHECK_INT(first, 0);
	CHECK_INT(last, 99);
}

static void test_appended_records_are_read_back_in_order_after_a_restart(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, ROOMY_SEG, 1000, NULL);
	struct journal_stats st;
	int first = -1, last = -1;

	CHECK_INT(journal_append(j, JOURNAL_EVENT, "{\"rule\":\"x\"}", 12, 0), 0);
	journal_close(j);
	j = reopen(&st);
	CHECK_INT(read_all(open_a(j), 1, &first, &last), 1000);
	CHECK_INT(first, 0);
	CHECK_INT(last, 999);
	journal_close(j);
}

static void test_a_committed_position_survives_a_restart_and_nothing_is_read_twice(void)
{
	struct journal_consumer *c;
	struct journal *j = journal_with_lines(ROOMY_MAX, ROOMY_SEG, 10, &c);
	struct journal_rec r;
	struct journal_consumer_stats cs;
	struct journal_stats st;
	int first = -1;

	for (int i = 0; i < 4; i++) {
		CHECK_INT(journal_next(c, &r), 1);
		journal_commit(c, r.end_lsn, r.end_seq);
	}
	CHECK_INT(journal_next(c, &r), 1); /* read, not committed: read again after a restart */
	journal_consumer_get_stats(c, &cs);
	CHECK_INT(cs.pending_lines, 6);
	journal_close(j);
	j = reopen(&st);
	CHECK_INT(read_all(open_a(j), 1, &first, NULL), 6);
	CHECK_INT(first, 4);
	journal_close(j);
}

static void test_a_new_consumer_starts_at_the_end_unless_it_asks_for_the_oldest(void)
{
	struct journal_consumer *a, *b, *c;
	struct journal *j = journal_with_lines(ROOMY_MAX, ROOMY_SEG, 5, &a);
	int first = -1;

	b = journal_consumer_open(j, "b", "test b", 0, NULL, NULL);
	c = journal_consumer_open(j, "c", "test c", 1, NULL, NULL);
	append_n(j, 5, 7);
	CHECK_INT(read_all(a, 0, NULL, NULL), 7);
	CHECK_INT(read_all(b, 0, &first, NULL), 2);
	CHECK_INT(first, 5);
	CHECK_INT(read_all(c, 0, &first, NULL), 7);
	CHECK(open_a(j) == NULL && errno == EBUSY);
	journal_close(j);
}

static void test_segments_every_consumer_is_past_are_deleted(void)
{
	struct journal_consumer *a;
	struct journal *j = journal_with_lines(1 << 20, 4096, 2000, &a);
	struct journal_stats st;

	journal_get_stats(j, &st);
	CHECK(st.segments > 5);
	CHECK_INT(read_all(a, 1, NULL, NULL), 2000);
	journal_sync(j);
	journal_get_stats(j, &st);
	CHECK_INT(st.segments, 1);
	CHECK_INT(st.dropped_oldest, 0);
	journal_close(j);
}

static void test_past_max_size_the_oldest_segment_is_dropped_and_counted_per_consumer(void)
{
	struct journal_consumer *a;
	struct journal *j = journal_with_lines(16384, 4096, 3000, &a);
	struct journal_consumer_stats cs;
	struct journal_stats st;
	int first = -1, last = -1, n;

	journal_get_stats(j, &st);
	CHECK(st.bytes <= 16384 + 4096);
	CHECK(st.segments_dropped > 0);
	journal_consumer_get_stats(a, &cs);
	n = read_all(a, 1, &first, &last);
	CHECK_INT(last, 2999); /* never the newest */
	CHECK_INT((uint64_t)n + cs.dropped, 3000); /* every line either read or counted */
	CHECK_INT(cs.dropped, st.dropped_oldest);
	CHECK_INT(first, (int)cs.dropped);
	journal_close(j);
}

static void test_a_removed_consumer_stops_pinning_segments_after_prune(void)
{
	struct journal_consumer *a;
	struct journal *j = journal_with_lines(1 << 20, 4096, 0, &a);
	struct journal_consumer *b = journal_consumer_open(j, "b", "test b", 0, NULL, NULL);
	struct journal_stats st;
	char path[256];

	append_n(j, 0, 1000); /* after b opened: b pins every segment */
	read_all(a, 1, NULL, NULL);
	journal_consumer_close(b); /* b is gone from the configuration */
	journal_sync(j);
	journal_get_stats(j, &st);
	CHECK(st.segments > 1); /* b still pins them until the reload completes */
	journal_prune(j);
	journal_sync(j);
	journal_get_stats(j, &st);
	CHECK_INT(st.segments, 1);
	snprintf(path, sizeof(path), "ls %s/pos-b-*.pos >/dev/null 2>&1", dir);
	CHECK(system(path) != 0);
	journal_close(j);
}

static void test_a_torn_tail_is_truncated_and_appending_continues(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, ROOMY_SEG, 100, NULL);
	struct journal_consumer *a;
	struct journal_stats st;
	int fd, last = -1;

	journal_close(j);
	fd = open_first_segment(O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, "JCCJ\x40\x00\x00\x00garbage-half-a-record", 28), 28); /* a crash mid-write */
	close(fd);
	j = reopen(&st);
	CHECK_INT(st.torn_truncated, 28);
	CHECK_INT(st.corrupt_skipped, 0);
	a = open_a(j);
	append_n(j, 100, 110);
	CHECK_INT(read_all(a, 1, NULL, &last), 110);
	CHECK_INT(last, 109);
	journal_close(j);
}

static void test_a_flipped_byte_skips_only_that_record_and_counts_it(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, ROOMY_SEG, 100, NULL);
	struct journal_stats st;
	int fd;
	unsigned char b;
	/* record 50's payload: segment header + 50 records of header + "m v=N N\n" */
	off_t at = JOURNAL_SEG_HDR + 10 * (JOURNAL_HDR + 8) + 40 * (JOURNAL_HDR + 10) + JOURNAL_HDR + 3;

	journal_close(j);
	fd = open_first_segment(O_RDWR);
	CHECK_INT(pread(fd, &b, 1, at), 1);
	b ^= 0x20;
	CHECK_INT(pwrite(fd, &b, 1, at), 1);
	close(fd);
	j = reopen(&st);
	check_only_record_50_is_lost(j, &st);
	journal_get_stats(j, &st);
	CHECK_INT(st.corrupt_skipped, 1); /* counted once, not again by the reader */
	journal_close(j);
}

/* A header whose length field claims more than JOURNAL_MAX_RECORD (as a
 * damaged or hostile file may) is corruption: skipped and counted, never
 * allocated or read; and no record that large is ever appended. */
static void test_a_length_past_the_record_bound_is_skipped_and_counted(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, ROOMY_SEG, 100, NULL);
	struct journal_stats st;
	char *big = calloc(1, JOURNAL_MAX_RECORD + 1);
	int fd;
	const uint8_t huge[4] = { 0xf0, 0xff, 0xff, 0xff };
	/* record 50's length field: its header + 4 */
	off_t at = JOURNAL_SEG_HDR + 10 * (JOURNAL_HDR + 8) + 40 * (JOURNAL_HDR + 10) + 4;

	CHECK_INT(journal_append(j, JOURNAL_LINES, big, JOURNAL_MAX_RECORD + 1, 1), -EINVAL);
	free(big);
	journal_close(j);
	fd = open_first_segment(O_RDWR);
	CHECK_INT(pwrite(fd, huge, 4, at), 4);
	close(fd);
	j = reopen(&st);
	check_only_record_50_is_lost(j, &st);
	journal_close(j);
}

static void test_a_garbage_file_is_set_aside_and_the_journal_opens(void)
{
	struct journal *j;
	struct journal_stats st;
	char path[256];
	int fd;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/0000000000000000.seg", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK_INT(write(fd, "this is not a journal segment at all\n", 37), 37);
	close(fd);
	j = reopen(&st);
	CHECK_INT(st.files_set_aside, 1);
	snprintf(path, sizeof(path), "%s/0000000000000000.seg.corrupt", dir);
	CHECK(access(path, F_OK) == 0);
	append_n(j, 0, 3);
	journal_close(j);
}

static void test_a_failed_write_is_counted_and_leaves_no_half_record(void)
{
	struct journal_consumer *a;
	struct journal *j = journal_with_lines(ROOMY_MAX, ROOMY_SEG, 10, &a);
	struct journal_stats st;
	struct rlimit old, lim;
	char big[8192];
	int last = -1;

	/* a file size limit stands in for a full disk: write(2) fails (EFBIG) */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 4096;
	setrlimit(RLIMIT_FSIZE, &lim);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	CHECK(journal_append(j, JOURNAL_LINES, big, sizeof(big), 1) < 0);
	setrlimit(RLIMIT_FSIZE, &old);
	journal_get_stats(j, &st);
	CHECK_INT(st.write_errors, 1);
	CHECK_INT(st.lines_not_journaled, 1);
	append_n(j, 10, 12); /* and it keeps going */
	CHECK_INT(read_all(a, 1, NULL, &last), 12);
	CHECK_INT(last, 11);
	journal_close(j);
	j = reopen(&st); /* nothing torn left behind */
	CHECK_INT(st.torn_truncated, 0);
	CHECK_INT(st.corrupt_skipped, 0);
	journal_close(j);
}

int main(void)
{
	char cmd[128];

	tl_prog = "unit/journal";
	RUN(test_appended_records_are_read_back_in_order_after_a_restart);
	RUN(test_a_committed_position_survives_a_restart_and_nothing_is_read_twice);
	RUN(test_a_new_consumer_starts_at_the_end_unless_it_asks_for_the_oldest);
	RUN(test_segments_every_consumer_is_past_are_deleted);
	RUN(test_past_max_size_the_oldest_segment_is_dropped_and_counted_per_consumer);
	RUN(test_a_removed_consumer_stops_pinning_segments_after_prune);
	RUN(test_a_torn_tail_is_truncated_and_appending_continues);
	RUN(test_a_flipped_byte_skips_only_that_record_and_counts_it);
	RUN(test_a_length_past_the_record_bound_is_skipped_and_counted);
	RUN(test_a_garbage_file_is_set_aside_and_the_journal_opens);
	RUN(test_a_failed_write_is_counted_and_leaves_no_half_record);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return TL_DONE();
}
