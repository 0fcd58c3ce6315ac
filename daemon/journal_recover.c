/* journal_recover.c - what journal_open() finds on disk: every segment
 * scanned and its CRCs checked, torn tails truncated, garbage set aside,
 * gaps between valid records counted and logged (with the outputs that had
 * not delivered them), positions loaded; never a reason not to start. */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal_int.h"
#include "log.h"
#include "util.h"

#define GAPS_LOGGED 20
#define STR_(x) #x
#define STR(x) STR_(x)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void set_aside(struct journal *j, const char *path, const char *why)
{
	char *to = xasprintf("%s.corrupt", path);

	if (rename(path, to) == 0)
		log_warn("journal: %s: %s: set aside as %s", path, why, to);
	else
		log_warn("journal: %s: %s; cannot set it aside: %s", path, why, strerror(errno));
	j->st.files_set_aside++;
	free(to);
}

/* Recovery maps a whole segment (64 MiB by default) to check every CRC:
 * the pages scanned are let go every RELEASE_STEP bytes, so a restart does
 * not show a segment's size as the daemon's resident memory (the pages stay
 * in the page cache; MADV_DONTNEED on a read-only shared file mapping only
 * unmaps them from us). */
#define RELEASE_STEP (4u << 20)

struct release {
	struct journal *j;
	uint8_t *m;
	uint64_t base;
	size_t done, page;
	int started; /* gap_segment() called for this segment */
};

/* ISO 8601 UTC with milliseconds; a time no calendar holds (a damaged but
 * CRC-valid header) as its raw number. */
static void fmt_ms(int64_t ms, char *buf, size_t len)
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		snprintf(buf, len, "%" PRId64 " ms since the epoch", ms);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

/* "; not yet delivered by: NAME (N), ..." for the outputs whose committed
 * position was before the end of the lines [lo, hi) (they never sent those
 * N); the others had sent them all before the damage. */
static char *unsent_by(const struct journal *j, uint64_t lo, uint64_t hi)
{
	char *who = xstrdup("");

	for (size_t i = 0; i < j->ncons; i++) {
		const struct journal_consumer *c = j->cons[i];
		uint64_t n = c->seq <= lo ? hi - lo : c->seq < hi ? hi - c->seq : 0;
		char *w;

		if (!n)
			continue;
		w = xasprintf("%s%s %s (%" PRIu64 ")", who, *who ? "," : "; not yet delivered by:", c->name, n);
		free(who);
		who = w;
	}
	if (!*who && j->ncons) {
		free(who);
		who = xstrdup("; every output had delivered them");
	}
	return who;
}

/* A gap before r (or, with r NULL, after the last valid record): counted,
 * and logged one by one up to GAPS_LOGGED (jr_recover() sums up the rest). */
static void gap_found(struct journal *j, const struct journal_rec *r, uint64_t r_base, uint64_t lines)
{
	struct gapscan *g = &j->gs;
	char t1[48], t2[48];

	j->st.gaps++;
	j->st.lines_lost += lines;
	if (g->logged >= GAPS_LOGGED)
		return;
	g->logged++;
	fmt_ms(g->prev_t_ms, t1, sizeof(t1));
	if (!r) {
		log_warn("journal %s: %" PRIu64 " bytes lost after %016" PRIx64 ".seg offset %" PRIu64
			 " (journaled after %s): how many lines is unknown, no record follows them",
			 j->dir, g->missing, g->prev_base, g->prev_off, t1);
		return;
	}
	fmt_ms(r->t_ms, t2, sizeof(t2));
	if (lines) {
		char *who = unsent_by(j, r->seq - lines, r->seq);
		log_warn("journal %s: %" PRIu64 " line(s) lost (seq %" PRIu64 " to %" PRIu64 ", %" PRIu64
			 " bytes) between %016" PRIx64 ".seg offset %" PRIu64 " and %016" PRIx64 ".seg offset %" PRIu64
			 ", journaled between %s and %s%s",
			 j->dir, lines, r->seq - lines, r->seq - 1, g->missing, g->prev_base, g->prev_off, r_base,
			 r->lsn - r_base, t1, t2, who);
		free(who);
	} else {
		log_warn("journal %s: %" PRIu64 " bytes lost between %016" PRIx64 ".seg offset %" PRIu64
			 " and %016" PRIx64 ".seg offset %" PRIu64 ", journaled between %s and %s: no lines missing by "
			 "the sequence numbers (alert events, or bytes that held no record)",
			 j->dir, g->missing, g->prev_base, g->prev_off, r_base, r->lsn - r_base, t1, t2);
	}
}

/* A segment with a valid header begins at base. */
static void gap_segment(struct journal *j, uint64_t base)
{
	struct gapscan *g = &j->gs;

	if (g->have && base > g->exp_lsn)
		g->missing += base - g->exp_lsn; /* a segment shortened, emptied or gone */
	g->exp_lsn = base + JOURNAL_SEG_HDR;
}

static void gap_record(struct journal *j, const struct journal_rec *r, uint64_t base)
{
	struct gapscan *g = &j->gs;
	uint64_t lines = 0;

	if (g->have) {
		if (r->lsn > g->exp_lsn)
			g->missing += r->lsn - g->exp_lsn; /* a corrupt region */
		if (r->seq > g->exp_seq)
			lines = r->seq - g->exp_seq;
		if (g->missing || lines)
			gap_found(j, r, base, lines);
	} else {
		g->have = 1;
		g->exp_seq = r->end_seq;
	}
	g->missing = 0;
	g->exp_lsn = r->end_lsn;
	if (r->end_seq > g->exp_seq)
		g->exp_seq = r->end_seq;
	g->prev_base = base;
	g->prev_off = r->end_lsn - base;
	g->prev_t_ms = r->t_ms;
}

/* Per valid record of the segment being recovered. */
static void recover_record(const struct journal_rec *r, void *arg)
{
	struct release *x = arg;
	size_t off = (size_t)(r->lsn - x->base), upto;

	if (!x->started) {
		gap_segment(x->j, x->base);
		x->started = 1;
	}
	gap_record(x->j, r, x->base);
	if (off < x->done + RELEASE_STEP)
		return;
	upto = off - off % x->page;
	madvise(x->m + x->done, upto - x->done, MADV_DONTNEED);
	x->done = upto;
}

/* Recovers one segment file; appends it to segs when it holds a header.
 * last: the newest segment file (a torn tail there is a write a crash cut
 * short; anywhere else, damage). */
static void recover_segment(struct journal *j, uint64_t base, int last)
{
	char *path = jr_seg_path(j, base);
	struct journal_scan sc;
	struct stat st;
	void *m = MAP_FAILED;
	struct release rel = { 0 };
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint64_t first_seq = j->next_seq;

	if (fd < 0 || fstat(fd, &st) < 0) {
		log_warn("journal: %s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size < JOURNAL_SEG_HDR) {
		/* created, never written: nothing to keep.  Not the newest: it
		 * was emptied, and the gap it leaves is counted at the next one. */
		if (last)
			log_info("journal: %s: empty segment removed", path);
		else
			log_warn("journal: %s: only %jd bytes, not even a header, and not the newest segment: removed",
				 path, (intmax_t)st.st_size);
		unlink(path);
		goto out;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		log_warn("journal: %s: cannot map: %s", path, strerror(errno));
		goto out;
	}
	rel.j = j;
	rel.m = m;
	rel.base = base;
	rel.page = (size_t)sysconf(_SC_PAGESIZE);
	if (journal_scan_buffer(m, (size_t)st.st_size, base, recover_record, &rel, &sc) < 0) {
		set_aside(j, path, "not a journal segment (bad header)");
		goto out;
	}
	if (!rel.started)
		gap_segment(j, base);
	j->gs.exp_lsn = base + sc.valid_end; /* what is cut off next is missing at the next segment */
	if (sc.records > 0) {
		/* the first valid record's seq, for the drop accounting */
		size_t off = jr_next_valid_frame(m, (size_t)st.st_size, JOURNAL_SEG_HDR);
		if (off < (size_t)st.st_size)
			first_seq = jr_get64((const uint8_t *)m + off + 20);
	}
	if (sc.corrupt) {
		j->st.corrupt_skipped += sc.corrupt;
		j->corrupt_counted_upto = base + sc.valid_end;
		log_warn("journal: %s: %zu corrupt record(s) skipped (bad CRC or frame)", path, sc.corrupt);
	}
	if (sc.valid_end < (size_t)st.st_size) {
		uint64_t cut = (uint64_t)st.st_size - sc.valid_end;
		if (ftruncate(fd, (off_t)sc.valid_end) == 0) {
			j->st.torn_truncated += cut;
			if (last)
				log_warn("journal: %s: torn tail of %" PRIu64 " bytes truncated", path, cut);
			else
				log_warn("journal: %s: damaged tail of %" PRIu64 " bytes truncated (not the newest segment)",
					 path, cut);
		} else {
			log_warn("journal: %s: cannot truncate a torn tail: %s", path, strerror(errno));
		}
	}
	if (sc.next_seq > j->next_seq)
		j->next_seq = sc.next_seq;
	if (first_seq > j->next_seq)
		first_seq = j->next_seq;
	jr_seg_push(j, base, sc.valid_end, first_seq, sc.records && sc.next_seq > first_seq ? sc.next_seq : first_seq);
	if (base + sc.valid_end > j->end_lsn)
		j->end_lsn = base + sc.valid_end;
out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	free(path);
}

void jr_recover(struct journal *j)
{
	DIR *d = opendir(j->dir);
	struct dirent *e;
	uint64_t *bases = NULL;
	size_t nb = 0, cb = 0;

	while (d && (e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		size_t l = strlen(n);
		char *path;

		if (l == 20 && strcmp(n + 16, ".seg") == 0 && strspn(n, "0123456789abcdef") == 16) {
			if (nb == cb) {
				cb = cb ? cb * 2 : 64;
				bases = xrealloc(bases, cb * sizeof(*bases));
			}
			bases[nb++] = strtoull(n, NULL, 16);
		} else if (l > 8 && strncmp(n, "pos-", 4) == 0 && strcmp(n + l - 4, ".pos") == 0) {
			path = xasprintf("%s/%s", j->dir, n);
			/* kept when damaged: its consumer, when it opens, restarts from the oldest */
			if (jr_pos_load(j, path) < 0)
				log_warn("journal: %s: damaged position file", path);
			free(path);
		} else if (l > 8 && strcmp(n + l - 4, ".tmp") == 0) {
			path = xasprintf("%s/%s", j->dir, n);
			unlink(path); /* an interrupted atomic write */
			free(path);
		}
	}
	if (d)
		closedir(d);
	if (nb) /* qsort(NULL, 0, ...) is undefined */
		qsort(bases, nb, sizeof(*bases), cmp_u64);
	for (size_t i = 0; i < nb; i++)
		recover_segment(j, bases[i], i + 1 == nb);
	free(bases);
	if (j->gs.have && j->gs.missing) {
		gap_found(j, NULL, 0, 0);
		j->gs.trailing = 1;
	}
	if (j->st.gaps)
		log_warn("journal %s: %" PRIu64 " line(s) lost in %" PRIu64 " gap(s) in all%s%s (coldchaind_journal "
			 "lines_lost, gaps)", j->dir, j->st.lines_lost, j->st.gaps,
			 j->gs.trailing ? ", and an unknown number after the last valid record" : "",
			 j->st.gaps > j->gs.logged ? "; the first " STR(GAPS_LOGGED) " logged one by one" : "");
	/* Segments overlap only if names were tampered with: keep order. */
	for (size_t i = 0; i < j->ncons; i++)
		if (j->cons[i]->lsn > j->end_lsn)
			j->end_lsn = j->cons[i]->lsn; /* never hand out an offset twice */
	for (size_t i = 0; i < j->ncons; i++)
		if (j->cons[i]->seq > j->next_seq)
			j->next_seq = j->cons[i]->seq;
}

