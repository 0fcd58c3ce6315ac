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
#include <time.h>
#include <unistd.h>

#include "../../daemon/util.h"
#include "testlib.h"

#define JOURNAL_DIR_TAG "test-journal"
#include "journal_dir.h"

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

/* What README "Durability" says of the files in the journal directory: only
 * a segment-named file without a header is set aside; a *.tmp goes; any other
 * file (a quarantine file lives there by default) is left as it is. */
static void test_only_segment_named_files_are_set_aside_and_other_files_are_left_alone(void)
{
	static const char *const keep[] = { "quarantine-local.lp", "notes.txt", "0000000000000000.seg.corrupt",
					    "abc.seg" };
	struct journal *j;
	struct journal_stats st;
	char path[256];
	int fd;

	fresh_dir();
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, keep[i]);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		CHECK_INT(write(fd, "not a journal file\n", 19), 19);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/pos-a-00000000.pos.tmp", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	j = reopen(&st);
	CHECK_INT(st.files_set_aside, 0);
	CHECK(access(path, F_OK) != 0);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, keep[i]);
		CHECK(access(path, F_OK) == 0);
	}
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

/* --- damage in the middle of the journal --------------------------------- */

/* The valid records of one segment file, as recovery's own scan sees them. */
#define MAX_RECS 512
struct recs {
	uint64_t base;
	size_t n;
	uint64_t off[MAX_RECS], seq[MAX_RECS], end_seq[MAX_RECS];
	int64_t t_ms[MAX_RECS];
};

static void recs_add(const struct journal_rec *r, void *arg)
{
	struct recs *x = arg;

	if (x->n == MAX_RECS)
		return;
	x->off[x->n] = r->lsn - x->base;
	x->seq[x->n] = r->seq;
	x->end_seq[x->n] = r->end_seq;
	x->t_ms[x->n++] = r->t_ms;
}

/* Scans segment file number which (1 = oldest) into *x; its path in path. */
static void scan_segment(int which, struct recs *x, char *path, size_t len)
{
	struct journal_scan sc;
	struct stat st;
	uint8_t *buf;
	int fd;

	memset(x, 0, sizeof(*x));
	seg_name(which, path, len);
	x->base = strtoull(strrchr(path, '/') + 1, NULL, 16);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size);
	CHECK_INT(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	CHECK_INT(journal_scan_buffer(buf, (size_t)st.st_size, x->base, recs_add, x, &sc), 0);
	CHECK(x->n > 2 && x->n < MAX_RECS);
	free(buf);
}

/* A restart whose log (stderr) is kept in log. */
static struct journal *reopen_logged(struct journal_stats *st, char *log, size_t len)
{
	char path[96];
	struct journal *j;
	int fd, saved;
	ssize_t n;

	snprintf(path, sizeof(path), "%s.log", dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	j = reopen(st);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, len - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	fputs(log, stderr); /* still shown */
	return j;
}

static void iso_ms(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The log names how many lines were lost, which (by seq), and from when to
 * when: the append times of the records on both sides of the gap. */
static void check_gap_logged(const char *log, uint64_t lines, uint64_t seq, int64_t t_before, int64_t t_after)
{
	char want[256], t1[64], t2[64];

	snprintf(want, sizeof(want), "%llu line(s) lost (seq %llu to %llu, ", (unsigned long long)lines,
		 (unsigned long long)seq, (unsigned long long)(seq + lines - 1));
	if (!strstr(log, want))
		printf("    log lacks \"%s\"\n", want);
	CHECK(strstr(log, want) != NULL);
	iso_ms(t_before, t1, sizeof(t1));
	iso_ms(t_after, t2, sizeof(t2));
	snprintf(want, sizeof(want), "journaled between %s and %s", t1, t2);
	if (!strstr(log, want))
		printf("    log lacks \"%s\"\n", want);
	CHECK(strstr(log, want) != NULL);
	snprintf(want, sizeof(want), "%llu line(s) lost in 1 gap(s) in all", (unsigned long long)lines);
	CHECK(strstr(log, want) != NULL);
}

/* Consumer "a" (at the oldest record) reads every line v=0..n-1 except the
 * seqs [lo, hi) (v = seq here: one line per record from a fresh journal). */
static void check_all_but_lost_are_read(struct journal *j, int n, uint64_t lo, uint64_t hi)
{
	struct journal_consumer *a = open_a(j);
	struct journal_rec r;
	char *seen = calloc((size_t)n, 1);
	int got = 0, wrong = 0;

	while (journal_next(a, &r) == 1) {
		int v = atoi(r.data + 4);
		if (v < 0 || v >= n || seen[v] || ((uint64_t)v >= lo && (uint64_t)v < hi))
			wrong++;
		else
			seen[v] = 1;
		got++;
		journal_commit(a, r.end_lsn, r.end_seq);
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(got, (uint64_t)n - (hi - lo));
	free(seen);
}

/* Segments of 4096 bytes hold ~88 one-line records: 500 lines fill 6. */
#define GAP_LINES 500
#define GAP_SEG 4096

static void test_a_shortened_middle_segment_is_counted_as_lines_lost_from_when_to_when(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, GAP_SEG, GAP_LINES, NULL);
	struct journal_stats st;
	struct recs mid, next;
	char path[256], log[16384];
	size_t k;
	uint64_t lost;

	journal_close(j);
	scan_segment(3, &mid, path, sizeof(path));
	scan_segment(4, &next, log, sizeof(log));
	k = mid.n / 2;
	/* cut inside record k's header: records k.. of the 3rd of 7 segments go */
	CHECK_INT(truncate(path, (off_t)(mid.off[k] + 20)), 0);
	lost = next.seq[0] - mid.seq[k];
	CHECK_INT(lost, mid.end_seq[mid.n - 1] - mid.seq[k]); /* the seqs agree on what was there */
	j = reopen_logged(&st, log, sizeof(log));
	CHECK_INT(st.torn_truncated, 20);
	CHECK_INT(st.gaps, 1);
	CHECK_INT(st.lines_lost, lost);
	check_gap_logged(log, lost, mid.seq[k], mid.t_ms[k - 1], next.t_ms[0]);
	check_all_but_lost_are_read(j, GAP_LINES, mid.seq[k], next.seq[0]);
	journal_close(j);
}

/* A middle segment deleted, or truncated to nothing (fewer bytes than its
 * header): every line it held is counted, with the time around it. */
static void check_middle_segment_gone(int truncate_to_zero)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, GAP_SEG, GAP_LINES, NULL);
	struct journal_stats st;
	struct recs before, mid, next;
	char path[256], log[16384];
	uint64_t lost;

	journal_close(j);
	scan_segment(2, &before, log, sizeof(log));
	scan_segment(4, &next, log, sizeof(log));
	scan_segment(3, &mid, path, sizeof(path));
	if (truncate_to_zero)
		CHECK_INT(truncate(path, 0), 0);
	else
		CHECK_INT(unlink(path), 0);
	lost = next.seq[0] - mid.seq[0];
	CHECK_INT(lost, mid.end_seq[mid.n - 1] - mid.seq[0]);
	j = reopen_logged(&st, log, sizeof(log));
	CHECK_INT(st.gaps, 1);
	CHECK_INT(st.lines_lost, lost);
	check_gap_logged(log, lost, mid.seq[0], before.t_ms[before.n - 1], next.t_ms[0]);
	if (truncate_to_zero)
		CHECK(strstr(log, "not even a header, and not the newest segment: removed") != NULL);
	check_all_but_lost_are_read(j, GAP_LINES, mid.seq[0], next.seq[0]);
	journal_close(j);
}

static void test_a_missing_middle_segment_is_counted_as_lines_lost(void)
{
	check_middle_segment_gone(0);
}

static void test_a_middle_segment_truncated_to_zero_is_counted_as_lines_lost(void)
{
	check_middle_segment_gone(1);
}

/* Bytes missing with no record after them: the gap is counted and logged,
 * and the log says the number of lines cannot be known. */
static void test_a_gap_with_no_record_after_it_is_counted_with_lines_unknown(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, GAP_SEG, GAP_LINES, NULL);
	struct journal_stats st;
	struct recs last;
	char path[256], newest[256], log[16384];
	int nsegs;

	journal_close(j);
	for (nsegs = 1;; nsegs++) {
		seg_name(nsegs + 1, path, sizeof(path));
		if (!path[0])
			break;
	}
	seg_name(nsegs, newest, sizeof(newest));
	scan_segment(nsegs - 1, &last, path, sizeof(path));
	CHECK_INT(unlink(path), 0);
	CHECK_INT(truncate(newest, JOURNAL_SEG_HDR), 0); /* the newest: its header only */
	j = reopen_logged(&st, log, sizeof(log));
	CHECK_INT(st.gaps, 1);
	CHECK_INT(st.lines_lost, 0);
	CHECK(strstr(log, "how many lines is unknown, no record follows them") != NULL);
	journal_close(j);
}

/* The gap's log line names the outputs that had not yet delivered the lost
 * lines, and how many of them each: a had sent 10 of them, b none. */
static void test_the_gap_log_says_which_outputs_had_not_delivered_the_lost_lines(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, GAP_SEG, 0, NULL);
	struct journal_consumer *a;
	struct journal_stats st;
	struct journal_rec r;
	struct recs mid;
	char path[256], log[16384], want[64];
	uint64_t lost;

	CHECK(journal_consumer_open(j, "b", "test b", 1, NULL, NULL) != NULL);
	append_n(j, 0, GAP_LINES);
	journal_close(j);
	scan_segment(3, &mid, path, sizeof(path));
	lost = mid.end_seq[mid.n - 1] - mid.seq[0];
	j = reopen(&st);
	a = open_a(j);
	while (journal_next(a, &r) == 1 && r.end_seq <= mid.seq[10])
		journal_commit(a, r.end_lsn, r.end_seq);
	journal_close(j);
	CHECK_INT(unlink(path), 0);
	j = reopen_logged(&st, log, sizeof(log));
	CHECK_INT(st.lines_lost, lost);
	CHECK(strstr(log, "; not yet delivered by: ") != NULL);
	snprintf(want, sizeof(want), " a (%llu)", (unsigned long long)(lost - 10));
	CHECK(strstr(log, want) != NULL);
	snprintf(want, sizeof(want), " b (%llu)", (unsigned long long)lost);
	CHECK(strstr(log, want) != NULL);
	journal_close(j);
}

/* After a gap, the cap dropping the segment before it counts only that
 * segment's own lines: every line is read, dropped or lost, once. */
static void test_lines_lost_in_a_gap_are_not_counted_again_as_dropped_by_the_cap(void)
{
	struct journal *j = journal_with_lines(ROOMY_MAX, GAP_SEG, GAP_LINES, NULL);
	struct journal_consumer *a;
	struct journal_consumer_stats cs;
	struct journal_stats st;
	struct recs mid;
	char path[256];
	int n;

	journal_close(j);
	scan_segment(2, &mid, path, sizeof(path));
	CHECK_INT(unlink(path), 0);
	j = jopen(4 * GAP_SEG, GAP_SEG);
	CHECK(j != NULL);
	a = open_a(j);
	append_n(j, GAP_LINES, GAP_LINES + 100);
	journal_get_stats(j, &st);
	journal_consumer_get_stats(a, &cs);
	CHECK(st.segments_dropped > 0);
	CHECK_INT(st.lines_lost, mid.end_seq[mid.n - 1] - mid.seq[0]);
	n = read_all(a, 1, NULL, NULL);
	CHECK_INT((uint64_t)n + cs.dropped + st.lines_lost, GAP_LINES + 100);
	journal_close(j);
}

int main(void)
{
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
	RUN(test_only_segment_named_files_are_set_aside_and_other_files_are_left_alone);
	RUN(test_a_failed_write_is_counted_and_leaves_no_half_record);
	RUN(test_a_shortened_middle_segment_is_counted_as_lines_lost_from_when_to_when);
	RUN(test_a_missing_middle_segment_is_counted_as_lines_lost);
	RUN(test_a_middle_segment_truncated_to_zero_is_counted_as_lines_lost);
	RUN(test_a_gap_with_no_record_after_it_is_counted_with_lines_unknown);
	RUN(test_the_gap_log_says_which_outputs_had_not_delivered_the_lost_lines);
	RUN(test_lines_lost_in_a_gap_are_not_counted_again_as_dropped_by_the_cap);
	if (drop_dir() != 0)
		return 1;
	return TL_DONE();
}
