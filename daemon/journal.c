/* journal.c - append-only CRC'd segments with group commit, per-consumer
 * positions persisted atomically, a size cap that drops the oldest segment
 * (counted), and recovery that never refuses to start: see journal.h for
 * the format and README "Durability" for the contract. */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "util.h"

#define REC_MAGIC 0x4a43434aU /* "JCCJ" little endian */
static const char seg_magic[8] = { 'C', 'C', 'J', 'O', 'U', 'R', 'N', '1' };
#define POS_MAGIC "coldchaind-journal-position 1"
#define READ_BUF (256 * 1024)
#define LOG_EVERY_MS 30000
#define MAX_NOTIFY 64

struct seg {
	uint64_t base;      /* LSN of file offset 0 */
	uint64_t size;      /* bytes of valid data in the file (header included) */
	uint64_t first_seq; /* seq of its first line */
	uint64_t end_seq;   /* seq after its last line: a gap after it is not in it */
};

/* Recovery walks every valid record of every segment in LSN order.  A
 * record that does not start where the one before it ended (segment headers
 * aside), or whose seq is past the previous record's end_seq, follows a gap:
 * bytes and lines the journal once held and no longer does. */
struct gapscan {
	int have;          /* a valid record seen: before it nothing can be measured */
	uint64_t exp_lsn;  /* where the next byte should be */
	uint64_t exp_seq;  /* the next record's seq, if nothing is missing */
	uint64_t missing;  /* bytes missing since the last valid record */
	uint64_t prev_base, prev_off; /* segment and offset where the last valid record ended */
	int64_t prev_t_ms; /* when it was appended */
	uint64_t logged;   /* gaps logged one by one */
	int trailing;      /* one of them after the last valid record: its lines unknown */
};
#define GAPS_LOGGED 20
#define STR_(x) #x
#define STR(x) STR_(x)

struct journal_consumer {
	struct journal *j;
	char *name, *id, *path;
	int attached, dirty;
	uint64_t lsn, seq;   /* committed */
	uint64_t rlsn, rseq; /* read */
	uint64_t dropped;
	void (*notify)(void *arg);
	void *arg;
	/* reader (consumer thread only) */
	int rfd;
	uint64_t rbase;
	uint8_t *buf;
	size_t cap, blen;
	uint64_t boff; /* file offset of buf[0] */
	struct log_rl rl;
};

struct journal {
	char *dir;
	pthread_mutex_t mu;      /* everything below */
	pthread_mutex_t sync_mu; /* an fsync of the active fd in progress */
	pthread_mutex_t pos_mu;  /* position file writes */
	pthread_mutex_t notify_mu;
	pthread_cond_t cv;
	struct seg *segs;
	size_t nsegs, capsegs;
	int fd; /* the active (last) segment */
	int *retired; /* closed segments' fds: the sync thread fdatasyncs and closes them */
	size_t nretired, capretired;
	int dirfd;
	uint64_t end_lsn, next_seq, total_bytes;
	int dirty, dir_dirty, broken;
	uint64_t max_size, segment_size;
	int64_t fsync_ms;
	uint64_t corrupt_counted_upto;
	struct gapscan gs; /* recovery only */
	struct journal_stats st;
	struct journal_consumer **cons;
	size_t ncons;
	pthread_t thread;
	int stop, thread_ok;
	struct log_rl rl_write, rl_cap;
	uint64_t write_fail_run, cap_unlogged_segs;
	int sync_idle; /* the sync thread waits for work with no timeout */
};

/* Under mu: work for the sync thread; wakes it when it waits for work (it
 * then syncs within fsync_ms, as when it ticked). */
static void sync_kick(struct journal *j)
{
	if (j->sync_idle)
		pthread_cond_signal(&j->cv);
}

/* --- encoding --------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* CRC of the length field and of the header after the CRC, then the payload. */
static uint32_t rec_crc(const uint8_t *hdr, const void *data, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, hdr + 4, 4);
	c = crc32(c, hdr + 12, JOURNAL_HDR - 12);
	while (len > 0) { /* crc32 takes a uInt length */
		uInt n = len > 0x40000000 ? 0x40000000 : (uInt)len;
		c = crc32(c, data, n);
		data = (const uint8_t *)data + n;
		len -= n;
	}
	return (uint32_t)c;
}

void journal_encode_header(uint8_t hdr[JOURNAL_HDR], enum journal_type type, const void *data, size_t len,
			   uint32_t nlines, uint64_t seq, int64_t t_ms)
{
	put32(hdr, REC_MAGIC);
	put32(hdr + 4, (uint32_t)len);
	put32(hdr + 12, (uint32_t)type);
	put32(hdr + 16, nlines);
	put64(hdr + 20, seq);
	put64(hdr + 28, (uint64_t)t_ms);
	put32(hdr + 8, rec_crc(hdr, data, len));
}

void journal_encode_seg_header(uint8_t hdr[JOURNAL_SEG_HDR], uint64_t base)
{
	memcpy(hdr, seg_magic, 8);
	put64(hdr + 8, base);
}

/*
 * Is there a valid record at p (avail bytes readable)?  1 and *flen (header
 * + payload), 0 if not.  Everything is checked before it is trusted: the
 * magic, a sane length that fits, a known type, and the CRC.
 */
static int frame_valid(const uint8_t *p, size_t avail, size_t *flen)
{
	uint32_t len, type, nlines;

	if (avail < JOURNAL_HDR || get32(p) != REC_MAGIC)
		return 0;
	len = get32(p + 4);
	if (len > JOURNAL_MAX_RECORD || (size_t)len > avail - JOURNAL_HDR)
		return 0;
	type = get32(p + 12);
	nlines = get32(p + 16);
	if (type == JOURNAL_LINES) {
		if (nlines == 0 || nlines > len)
			return 0;
	} else if (type == JOURNAL_EVENT) {
		if (nlines != 0)
			return 0;
	} else {
		return 0;
	}
	if (get32(p + 8) != rec_crc(p, p + JOURNAL_HDR, len))
		return 0;
	*flen = JOURNAL_HDR + len;
	return 1;
}

/* Offset of the next valid record at or after from, or len if none. */
static size_t next_valid_frame(const uint8_t *buf, size_t len, size_t from)
{
	static const uint8_t m[4] = { REC_MAGIC & 0xff, (REC_MAGIC >> 8) & 0xff, (REC_MAGIC >> 16) & 0xff,
				      REC_MAGIC >> 24 };
	size_t flen;

	while (from + JOURNAL_HDR <= len) {
		const uint8_t *p = memmem(buf + from, len - from, m, 4);
		if (!p)
			break;
		from = (size_t)(p - buf);
		if (frame_valid(p, len - from, &flen))
			return from;
		from++;
	}
	return len;
}

static void rec_fill(struct journal_rec *r, const uint8_t *p, uint64_t lsn)
{
	uint32_t len = get32(p + 4);

	r->type = (int)get32(p + 12);
	r->lsn = lsn;
	r->end_lsn = lsn + JOURNAL_HDR + len;
	r->seq = get64(p + 20);
	r->end_seq = r->seq + get32(p + 16);
	r->t_ms = (int64_t)get64(p + 28);
	r->data = (const char *)p + JOURNAL_HDR;
	r->len = len;
}

int journal_scan_buffer(const uint8_t *buf, size_t len, uint64_t base,
			void (*fn)(const struct journal_rec *r, void *arg), void *arg, struct journal_scan *out)
{
	size_t off = JOURNAL_SEG_HDR, flen;

	memset(out, 0, sizeof(*out));
	if (len < JOURNAL_SEG_HDR || memcmp(buf, seg_magic, 8) != 0 || get64(buf + 8) != base)
		return -EINVAL;
	out->valid_end = off;
	while (off < len) {
		struct journal_rec r;

		if (!frame_valid(buf + off, len - off, &flen)) {
			size_t next = next_valid_frame(buf, len, off + 1);
			if (next >= len)
				break; /* no valid record after: a torn tail */
			out->corrupt++;
			off = next;
			continue;
		}
		rec_fill(&r, buf + off, base + off);
		if (r.end_seq > out->next_seq)
			out->next_seq = r.end_seq;
		out->records++;
		if (fn)
			fn(&r, arg);
		off += flen;
		out->valid_end = off;
	}
	return 0;
}

/* --- files ----------------------------------------------------------- */

static char *seg_path(const struct journal *j, uint64_t base)
{
	return xasprintf("%s/%016" PRIx64 ".seg", j->dir, base);
}

static int write_all(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

static void seg_push(struct journal *j, uint64_t base, uint64_t size, uint64_t first_seq, uint64_t end_seq)
{
	if (j->nsegs == j->capsegs) {
		j->capsegs = j->capsegs ? j->capsegs * 2 : 16;
		j->segs = xrealloc(j->segs, j->capsegs * sizeof(*j->segs));
	}
	j->segs[j->nsegs].base = base;
	j->segs[j->nsegs].size = size;
	j->segs[j->nsegs].first_seq = first_seq;
	j->segs[j->nsegs].end_seq = end_seq;
	j->nsegs++;
	j->total_bytes += size;
}

/* Under mu: a new active segment at end_lsn.  0 or -errno. */
static int seg_create(struct journal *j)
{
	uint8_t hdr[JOURNAL_SEG_HDR];
	char *path = seg_path(j, j->end_lsn);
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0640);
	if (fd < 0) {
		r = -errno;
		free(path);
		return r;
	}
	journal_encode_seg_header(hdr, j->end_lsn);
	r = write_all(fd, hdr, sizeof(hdr));
	if (r < 0) {
		close(fd);
		unlink(path);
		free(path);
		return r;
	}
	free(path);
	if (j->fd >= 0) {
		/* The closed segment must reach the disk like the rest, but not
		 * here: an append (a source thread) never waits on a disk sync.
		 * The sync thread does it at its next turn, within fsync_ms. */
		if (j->nretired == j->capretired) {
			j->capretired = j->capretired ? 2 * j->capretired : 4;
			j->retired = xrealloc(j->retired, j->capretired * sizeof(*j->retired));
		}
		j->retired[j->nretired++] = j->fd;
	}
	j->fd = fd;
	seg_push(j, j->end_lsn, JOURNAL_SEG_HDR, j->next_seq, j->next_seq);
	j->end_lsn += JOURNAL_SEG_HDR;
	j->dir_dirty = 1;
	j->dirty = 1;
	j->broken = 0;
	sync_kick(j);
	return 0;
}

/* --- positions --------------------------------------------------------- */

static char *pos_text(const struct journal_consumer *c, uint64_t lsn, uint64_t seq)
{
	char *body = xasprintf(POS_MAGIC "\nname %s\nid %s\nlsn %" PRIu64 "\nseq %" PRIu64 "\n", c->name, c->id, lsn,
			       seq);
	char *all = xasprintf("%scrc %08lx\n", body, (unsigned long)crc32(0L, (const Bytef *)body, (uInt)strlen(body)));

	free(body);
	return all;
}

/* Writes path atomically: temp file, fsync, rename, fsync the dir. */
static int write_atomic(struct journal *j, const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd, r = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r == 0)
		fsync(j->dirfd);
	else
		unlink(tmp);
out:
	free(tmp);
	return r;
}

/* Caller holds pos_mu (which also keeps c from being freed by a prune). */
static void pos_persist(struct journal *j, struct journal_consumer *c)
{
	char *text, *path;
	int r;

	pthread_mutex_lock(&j->mu);
	if (!c->dirty) {
		pthread_mutex_unlock(&j->mu);
		return;
	}
	c->dirty = 0;
	text = pos_text(c, c->lsn, c->seq);
	path = xstrdup(c->path);
	pthread_mutex_unlock(&j->mu);
	r = write_atomic(j, path, text);
	if (r < 0) {
		uint32_t supp;
		pthread_mutex_lock(&j->mu);
		c->dirty = 1;
		if (log_rl_allow(&c->rl, LOG_EVERY_MS, &supp))
			log_warn("journal: position of %s: cannot write %s: %s", c->name, path, strerror(-r));
		pthread_mutex_unlock(&j->mu);
	}
	free(text);
	free(path);
}

/* Parses a position file.  0, or -EINVAL when it is not one (or damaged). */
static int pos_parse(const char *text, char **name, char **id, uint64_t *lsn, uint64_t *seq)
{
	const char *crcl = strstr(text, "\ncrc ");
	char nbuf[256], *ibuf;
	unsigned long crc;
	size_t blen;
	int ok;

	if (strncmp(text, POS_MAGIC "\n", sizeof(POS_MAGIC)) != 0 || !crcl)
		return -EINVAL;
	blen = (size_t)(crcl - text) + 1;
	if (sscanf(crcl + 5, "%lx", &crc) != 1 || crc != crc32(0L, (const Bytef *)text, (uInt)blen))
		return -EINVAL;
	ibuf = xmalloc(blen + 1);
	ok = sscanf(text, POS_MAGIC "\nname %255[^\n]\nid %[^\n]\nlsn %" SCNu64 "\nseq %" SCNu64, nbuf, ibuf, lsn,
		    seq) == 4;
	if (!ok) {
		free(ibuf);
		return -EINVAL;
	}
	*name = xstrdup(nbuf);
	*id = ibuf;
	return 0;
}

static char *read_small_file(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = xmalloc(max + 1);
	n = read(fd, buf, max);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static char *pos_path(const struct journal *j, const char *name, const char *id)
{
	return xasprintf("%s/pos-%s-%08lx.pos", j->dir, name,
			 (unsigned long)crc32(0L, (const Bytef *)id, (uInt)strlen(id)));
}

static struct journal_consumer *cons_new(struct journal *j, const char *name, const char *id, const char *path)
{
	struct journal_consumer *c = xcalloc(1, sizeof(*c));

	c->j = j;
	c->name = xstrdup(name);
	c->id = xstrdup(id);
	c->path = path ? xstrdup(path) : pos_path(j, name, id);
	c->rfd = -1;
	j->cons = xrealloc(j->cons, (j->ncons + 1) * sizeof(*j->cons));
	j->cons[j->ncons++] = c;
	return c;
}

static void cons_free(struct journal_consumer *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	free(c->buf);
	free(c->name);
	free(c->id);
	free(c->path);
	free(c);
}

/* --- recovery ---------------------------------------------------------- */

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

/* Recovers one segment file; appends it to segs when it holds a header. */
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
 * and logged one by one up to GAPS_LOGGED (recover() sums up the rest). */
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

/* last: the newest segment file (a torn tail there is a write a crash cut
 * short; anywhere else, damage). */
static void recover_segment(struct journal *j, uint64_t base, int last)
{
	char *path = seg_path(j, base);
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
		size_t off = next_valid_frame(m, (size_t)st.st_size, JOURNAL_SEG_HDR);
		if (off < (size_t)st.st_size)
			first_seq = get64((const uint8_t *)m + off + 20);
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
	seg_push(j, base, sc.valid_end, first_seq, sc.records && sc.next_seq > first_seq ? sc.next_seq : first_seq);
	if (base + sc.valid_end > j->end_lsn)
		j->end_lsn = base + sc.valid_end;
out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	free(path);
}

static void recover(struct journal *j)
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
			char *text, *name = NULL, *id = NULL;
			uint64_t lsn, seq;

			path = xasprintf("%s/%s", j->dir, n);
			text = read_small_file(path, 8192);
			if (text && pos_parse(text, &name, &id, &lsn, &seq) == 0) {
				struct journal_consumer *c = cons_new(j, name, id, path);
				c->lsn = c->rlsn = lsn;
				c->seq = c->rseq = seq;
			} else {
				/* kept: its consumer, when it opens, restarts from the oldest */
				log_warn("journal: %s: damaged position file", path);
			}
			free(text);
			free(name);
			free(id);
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

/* --- group commit thread ----------------------------------------------- */

/* Under mu: deletes segments every consumer is past (never the active one). */
static void delete_consumed(struct journal *j)
{
	uint64_t min = UINT64_MAX;

	if (j->ncons == 0)
		return; /* nobody has said where they are: keep everything */
	for (size_t i = 0; i < j->ncons; i++)
		if (j->cons[i]->lsn < min)
			min = j->cons[i]->lsn;
	while (j->nsegs > 1 && j->segs[0].base + j->segs[0].size <= min && j->segs[1].base <= min) {
		char *path = seg_path(j, j->segs[0].base);
		unlink(path);
		free(path);
		j->total_bytes -= j->segs[0].size;
		memmove(j->segs, j->segs + 1, (j->nsegs - 1) * sizeof(*j->segs));
		j->nsegs--;
		j->dir_dirty = 1;
	}
}

/* Under mu: drops the rate limit kept out of the log, summed up once it
 * allows, so the log's last word on a cap always has the full count. */
static char *cap_summary(struct journal *j)
{
	char sz[32], *who = xstrdup(""), *msg;
	uint32_t supp;

	if (!j->cap_unlogged_segs || time_mono_ms() - j->rl_cap.last_ms < LOG_EVERY_MS ||
	    !log_rl_allow(&j->rl_cap, LOG_EVERY_MS, &supp)) {
		free(who);
		return NULL;
	}
	for (size_t i = 0; i < j->ncons; i++) {
		char *w;
		if (!j->cons[i]->dropped)
			continue;
		w = xasprintf("%s%s%s lost %" PRIu64 " %s in all", who, *who ? ", " : "", j->cons[i]->name,
			      j->cons[i]->dropped, plural(j->cons[i]->dropped, "point", "points"));
		free(who);
		who = w;
	}
	format_size(j->max_size, sz, sizeof(sz));
	msg = xasprintf("journal: max_size %s reached: %" PRIu64 " more oldest segment(s) dropped%s%s; %" PRIu64
			" points dropped in all so far",
			sz, j->cap_unlogged_segs, *who ? ": " : "", who, j->st.dropped_oldest);
	j->cap_unlogged_segs = 0;
	free(who);
	return msg;
}

static void sync_now(struct journal *j)
{
	int fd, dirty, dir_dirty, *retired;
	size_t nretired;
	uint64_t nsynced = 0;
	char *cap_msg;

	pthread_mutex_lock(&j->mu);
	cap_msg = cap_summary(j);
	fd = j->fd;
	dirty = j->dirty;
	dir_dirty = j->dir_dirty;
	j->dirty = j->dir_dirty = 0;
	retired = j->retired;
	nretired = j->nretired;
	j->retired = NULL;
	j->nretired = j->capretired = 0;
	pthread_mutex_lock(&j->sync_mu); /* before mu is released: fd stays open */
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < nretired; i++) { /* closed segments first: they come before fd */
		if (fdatasync(retired[i]) == 0)
			nsynced++;
		close(retired[i]);
	}
	free(retired);
	if (dirty && fd >= 0 && fdatasync(fd) < 0) {
		uint32_t supp;
		if (log_rl_allow(&j->rl_write, LOG_EVERY_MS, &supp))
			log_warn("journal: fdatasync: %s", strerror(errno));
		dirty = 0;
	}
	if (dir_dirty)
		fsync(j->dirfd);
	pthread_mutex_unlock(&j->sync_mu);

	pthread_mutex_lock(&j->mu);
	j->st.fsyncs += nsynced + (dirty ? 1 : 0);
	pthread_mutex_unlock(&j->mu);
	/* positions after the data they refer to */
	pthread_mutex_lock(&j->pos_mu);
	for (size_t i = 0;; i++) {
		struct journal_consumer *c = NULL;
		pthread_mutex_lock(&j->mu);
		if (i >= j->ncons) {
			delete_consumed(j);
			pthread_mutex_unlock(&j->mu);
			break;
		}
		if (j->cons[i]->dirty)
			c = j->cons[i];
		pthread_mutex_unlock(&j->mu);
		if (c)
			pos_persist(j, c);
	}
	pthread_mutex_unlock(&j->pos_mu);
	if (cap_msg) {
		log_warn("%s", cap_msg);
		free(cap_msg);
	}
}

/* Under mu: anything for sync_now to do (data, the directory, closed
 * segments, a position, a cap message still to log). */
static int sync_pending(const struct journal *j)
{
	if (j->dirty || j->dir_dirty || j->nretired || j->cap_unlogged_segs)
		return 1;
	for (size_t i = 0; i < j->ncons; i++)
		if (j->cons[i]->dirty)
			return 1;
	return 0;
}

/* Group commit: fsync_ms after the first change, then again while changes
 * come; with nothing to sync it sleeps until sync_kick (an idle daemon
 * does not wake every fsync_ms). */
static void *sync_main(void *arg)
{
	struct journal *j = arg;

	pthread_mutex_lock(&j->mu);
	while (!j->stop) {
		if (!sync_pending(j)) {
			j->sync_idle = 1;
			pthread_cond_wait(&j->cv, &j->mu);
			j->sync_idle = 0;
			continue;
		}
		int64_t until = time_mono_ms() + j->fsync_ms;
		struct timespec ts = { (time_t)(until / 1000), (long)(until % 1000) * 1000000L };

		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
		if (j->stop)
			break;
		pthread_mutex_unlock(&j->mu);
		sync_now(j);
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* --- public ------------------------------------------------------------ */

static void limits(struct journal *j, uint64_t max_size, uint64_t segment_size, int64_t fsync_ms)
{
	j->segment_size = segment_size >= 4096 ? segment_size : 64ull * 1024 * 1024;
	j->max_size = max_size >= 2 * j->segment_size ? max_size : 2 * j->segment_size;
	j->fsync_ms = fsync_ms > 0 ? fsync_ms : 1000;
}

struct journal *journal_open(const struct journal_conf *conf)
{
	struct journal *j;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	if (!conf || !conf->dir) {
		errno = EINVAL;
		return NULL;
	}
	if (mkdir(conf->dir, 0750) < 0 && errno != EEXIST) {
		log_err("journal %s: cannot create: %s", conf->dir, strerror(errno));
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->dir = xstrdup(conf->dir);
	j->fd = -1;
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		r = errno;
		log_err("journal %s: %s", j->dir, strerror(r));
		free(j->dir);
		free(j);
		errno = r;
		return NULL;
	}
	limits(j, conf->max_size, conf->segment_size, conf->fsync_ms);
	pthread_mutex_init(&j->mu, NULL);
	pthread_mutex_init(&j->sync_mu, NULL);
	pthread_mutex_init(&j->pos_mu, NULL);
	pthread_mutex_init(&j->notify_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);

	recover(j);
	r = seg_create(j);
	if (r < 0) {
		/* appends will retry (and count): the daemon still starts */
		j->broken = 1;
		log_err("journal %s: cannot create a segment: %s", j->dir, strerror(-r));
	}
	if (j->nsegs > 1 || j->st.corrupt_skipped || j->st.torn_truncated || j->st.gaps) {
		uint64_t span = j->next_seq - (j->nsegs ? j->segs[0].first_seq : 0);
		uint64_t held = span > j->st.lines_lost ? span - j->st.lines_lost : 0;
		log_info("journal %s: recovered %zu %s, %" PRIu64 " bytes, %" PRIu64
			 " %s held (each output resumes from its own position)", j->dir, j->nsegs,
			 plural(j->nsegs, "segment", "segments"), j->total_bytes, held, plural(held, "line", "lines"));
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&j->thread, NULL, sync_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	j->thread_ok = r == 0;
	if (r == 0) /* named for top -H and bench_idle.sh's per-thread wake-ups */
		pthread_setname_np(j->thread, "journal");
	if (r != 0)
		log_err("journal: cannot start the fsync thread: %s (fsync only at exit)", strerror(r));
	return j;
}

void journal_set_limits(struct journal *j, uint64_t max_size, uint64_t segment_size, int64_t fsync_ms)
{
	pthread_mutex_lock(&j->mu);
	limits(j, max_size, segment_size, fsync_ms);
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

const char *journal_dir(const struct journal *j)
{
	return j->dir;
}

void journal_sync(struct journal *j)
{
	sync_now(j);
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	if (j->thread_ok)
		pthread_join(j->thread, NULL);
	for (size_t i = 0; i < j->ncons; i++)
		j->cons[i]->dirty = 1; /* leave every position on disk, exactly */
	sync_now(j);
	for (size_t i = 0; i < j->ncons; i++)
		cons_free(j->cons[i]);
	free(j->cons);
	if (j->fd >= 0)
		close(j->fd);
	close(j->dirfd);
	free(j->segs);
	free(j->dir);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	pthread_mutex_destroy(&j->sync_mu);
	pthread_mutex_destroy(&j->pos_mu);
	pthread_mutex_destroy(&j->notify_mu);
	free(j);
}

/* Under mu: past max_size the oldest segment goes; what each consumer had
 * not read from it is counted.  Fills msg for a log line after unlock. */
static void enforce_cap(struct journal *j, char **msg)
{
	uint32_t supp;

	while (j->total_bytes > j->max_size && j->nsegs > 1) {
		struct seg s = j->segs[0];
		uint64_t next_base = j->segs[1].base, next_seq = j->segs[1].first_seq;
		char *path = seg_path(j, s.base), *who = xstrdup("");

		for (size_t i = 0; i < j->ncons; i++) {
			struct journal_consumer *c = j->cons[i];
			uint64_t from = c->rseq > s.first_seq ? c->rseq : s.first_seq, lost;

			if (c->rlsn >= next_base)
				continue;
			/* its own lines only: a gap after it was counted by recovery */
			lost = s.end_seq > from ? s.end_seq - from : 0;
			c->dropped += lost;
			j->st.dropped_oldest += lost;
			c->rlsn = next_base;
			c->rseq = next_seq;
			if (c->lsn < next_base) {
				c->lsn = next_base;
				c->seq = next_seq;
				c->dirty = 1;
			}
			if (lost) {
				char *w = xasprintf("%s%s%s lost %" PRIu64 " %s", who, *who ? ", " : "", c->name,
						    lost, plural(lost, "point", "points"));
				free(who);
				who = w;
			}
		}
		unlink(path);
		j->total_bytes -= s.size;
		memmove(j->segs, j->segs + 1, (j->nsegs - 1) * sizeof(*j->segs));
		j->nsegs--;
		j->st.segments_dropped++;
		j->dir_dirty = 1;
		j->cap_unlogged_segs++;
		if (!*msg && log_rl_allow(&j->rl_cap, LOG_EVERY_MS, &supp)) {
			char sz[32];
			format_size(j->max_size, sz, sizeof(sz));
			*msg = xasprintf("journal: max_size %s reached: %" PRIu64 " oldest %s dropped, the last "
					 "%s (%" PRIu64 " bytes)%s%s; %" PRIu64 " %s dropped in all so far",
					 sz, j->cap_unlogged_segs, plural(j->cap_unlogged_segs, "segment", "segments"), path,
					 s.size, *who ? ": " : "", who, j->st.dropped_oldest,
					 plural(j->st.dropped_oldest, "point", "points"));
			j->cap_unlogged_segs = 0;
		}
		free(who);
		free(path);
	}
}

/* Writes one record (header, then payload) at the end of the open segment,
 * whole or not at all: a failed write cuts off what it wrote, or marks the
 * journal broken so the next append starts a new segment.  0 or -errno. */
static int append_write(struct journal *j, const uint8_t *hdr, const void *data, size_t len)
{
	size_t done = 0, total = JOURNAL_HDR + len;
	uint64_t size0 = j->segs[j->nsegs - 1].size;

	while (done < total) {
		struct iovec v[2];
		int nv = 0;
		ssize_t w;

		if (done < JOURNAL_HDR) {
			v[nv].iov_base = (uint8_t *)(uintptr_t)hdr + done;
			v[nv++].iov_len = JOURNAL_HDR - done;
			v[nv].iov_base = (void *)(uintptr_t)data;
			v[nv++].iov_len = len;
		} else {
			v[nv].iov_base = (uint8_t *)(uintptr_t)data + (done - JOURNAL_HDR);
			v[nv++].iov_len = total - done;
		}
		w = writev(j->fd, v, nv);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int r = w < 0 ? -errno : -EIO;
			/* never leave half a record: cut it off, or start afresh */
			if (done > 0 && ftruncate(j->fd, (off_t)size0) < 0)
				j->broken = 1;
			return r;
		}
		done += (size_t)w;
	}
	return 0;
}

/* Counts a record of total bytes and nlines lines just written; *msg gets
 * the recovery message after a run of failed appends. */
static void append_count(struct journal *j, size_t total, uint32_t nlines, char **msg)
{
	j->segs[j->nsegs - 1].size += total;
	j->total_bytes += total;
	j->end_lsn += total;
	j->next_seq += nlines;
	j->segs[j->nsegs - 1].end_seq = j->next_seq;
	j->st.records++;
	j->st.lines += nlines;
	j->dirty = 1;
	sync_kick(j);
	if (j->write_fail_run) {
		*msg = xasprintf("journal: writing again after %" PRIu64 " failed appends", j->write_fail_run);
		j->write_fail_run = 0;
		j->rl_write.last_ms = 0;
	}
}

/* Wakes the attached consumers, outside the journal's lock (a callback may
 * call back into the journal) and one append at a time (notify_mu). */
static void append_notify(struct journal *j)
{
	void (*fns[MAX_NOTIFY])(void *);
	void *args[MAX_NOTIFY];
	size_t nn = 0;

	pthread_mutex_lock(&j->notify_mu);
	pthread_mutex_lock(&j->mu);
	for (size_t i = 0; i < j->ncons && nn < MAX_NOTIFY; i++)
		if (j->cons[i]->attached && j->cons[i]->notify) {
			fns[nn] = j->cons[i]->notify;
			args[nn++] = j->cons[i]->arg;
		}
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < nn; i++)
		fns[i](args[i]);
	pthread_mutex_unlock(&j->notify_mu);
}

/* Counts a failed append (error r) and returns its rate-limited message,
 * or NULL. */
static char *append_failed(struct journal *j, int r, uint32_t nlines, int lost)
{
	uint32_t supp;

	j->st.write_errors++;
	if (lost)
		j->st.lines_not_journaled += nlines;
	j->write_fail_run++;
	if (!log_rl_allow(&j->rl_write, LOG_EVERY_MS, &supp))
		return NULL;
	return xasprintf("journal %s: cannot append (%u %s suppressed; %" PRIu64 " %s lost so far): %s", j->dir, supp,
			 plural(supp, "failure", "failures"), j->st.lines_not_journaled,
			 plural(j->st.lines_not_journaled, "line", "lines"), strerror(-r));
}

/* lost: a failure loses the lines (counted in lines_not_journaled); 0 when
 * the caller keeps them and offers them again (journal_try_append). */
static int append(struct journal *j, enum journal_type type, const void *data, size_t len, uint32_t nlines,
		  int lost)
{
	uint8_t hdr[JOURNAL_HDR];
	char *msg = NULL;
	size_t total = JOURNAL_HDR + len;
	int r = 0;

	if (!j || len > JOURNAL_MAX_RECORD || (type == JOURNAL_LINES && nlines == 0))
		return -EINVAL;
	pthread_mutex_lock(&j->mu);
	if (j->broken || j->fd < 0 ||
	    (j->segs[j->nsegs - 1].size > JOURNAL_SEG_HDR && j->segs[j->nsegs - 1].size + total > j->segment_size))
		r = seg_create(j);
	if (r == 0) {
		journal_encode_header(hdr, type, data, len, nlines, j->next_seq, time_now_ns() / 1000000);
		r = append_write(j, hdr, data, len);
	}
	if (r < 0) {
		msg = append_failed(j, r, nlines, lost);
		pthread_mutex_unlock(&j->mu);
		if (msg) {
			log_err("%s", msg);
			free(msg);
		}
		return r;
	}
	append_count(j, total, nlines, &msg);
	enforce_cap(j, &msg);
	pthread_mutex_unlock(&j->mu);
	if (msg) {
		log_warn("%s", msg);
		free(msg);
	}
	append_notify(j);
	return 0;
}

int journal_append(struct journal *j, enum journal_type type, const void *data, size_t len, uint32_t nlines)
{
	return append(j, type, data, len, nlines, 1);
}

int journal_try_append(struct journal *j, enum journal_type type, const void *data, size_t len, uint32_t nlines)
{
	return append(j, type, data, len, nlines, 0);
}

int journal_writable(struct journal *j)
{
	int ok;

	if (!j)
		return 0;
	pthread_mutex_lock(&j->mu);
	ok = j->write_fail_run == 0;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

void journal_get_stats(struct journal *j, struct journal_stats *st)
{
	pthread_mutex_lock(&j->mu);
	*st = j->st;
	st->bytes = j->total_bytes;
	st->segments = j->nsegs;
	pthread_mutex_unlock(&j->mu);
}

/* --- consumers --------------------------------------------------------- */

struct journal_consumer *journal_consumer_open(struct journal *j, const char *name, const char *id, int from_oldest,
					       void (*notify)(void *arg), void *arg)
{
	struct journal_consumer *c = NULL;
	char *path = pos_path(j, name, id);
	struct stat st;
	int damaged = 0;

	pthread_mutex_lock(&j->notify_mu);
	pthread_mutex_lock(&j->mu);
	for (size_t i = 0; i < j->ncons && !c; i++)
		if (strcmp(j->cons[i]->id, id) == 0)
			c = j->cons[i];
	if (c && c->attached) {
		pthread_mutex_unlock(&j->mu);
		pthread_mutex_unlock(&j->notify_mu);
		free(path);
		errno = EBUSY;
		return NULL;
	}
	if (!c) {
		damaged = stat(path, &st) == 0; /* a position file we could not read */
		c = cons_new(j, name, id, path);
		if (from_oldest || damaged) {
			c->lsn = j->nsegs ? j->segs[0].base : j->end_lsn;
			c->seq = j->nsegs ? j->segs[0].first_seq : j->next_seq;
		} else {
			c->lsn = j->end_lsn;
			c->seq = j->next_seq;
		}
		c->dirty = 1;
		sync_kick(j);
	}
	if (c->lsn > j->end_lsn)
		c->lsn = j->end_lsn;
	c->rlsn = c->lsn;
	c->rseq = c->seq;
	c->attached = 1;
	c->notify = notify;
	c->arg = arg;
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->notify_mu);
	if (damaged)
		log_warn("journal: consumer %s: its position file %s was damaged: resending from the oldest record", name,
			 path);
	free(path);
	pthread_mutex_lock(&j->pos_mu);
	pos_persist(j, c);
	pthread_mutex_unlock(&j->pos_mu);
	return c;
}

void journal_consumer_close(struct journal_consumer *c)
{
	struct journal *j;

	if (!c)
		return;
	j = c->j;
	pthread_mutex_lock(&j->notify_mu);
	pthread_mutex_lock(&j->mu);
	c->attached = 0;
	c->notify = NULL;
	c->arg = NULL;
	c->dirty = 1;
	sync_kick(j);
	c->rlsn = c->lsn;
	c->rseq = c->seq;
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->notify_mu);
	pthread_mutex_lock(&j->pos_mu);
	pos_persist(j, c);
	pthread_mutex_unlock(&j->pos_mu);
	if (c->rfd >= 0)
		close(c->rfd);
	c->rfd = -1;
	free(c->buf);
	c->buf = NULL;
	c->cap = c->blen = 0;
}

void journal_prune(struct journal *j)
{
	DIR *d;
	struct dirent *e;

	pthread_mutex_lock(&j->pos_mu); /* the sync thread is not writing one */
	pthread_mutex_lock(&j->mu);
	for (size_t i = 0; i < j->ncons;) {
		struct journal_consumer *c = j->cons[i];
		if (c->attached) {
			i++;
			continue;
		}
		if (j->next_seq > c->seq)
			log_warn("journal: output %s is no longer configured: its position is dropped, with %" PRIu64
				 " points it had not sent", c->name, j->next_seq - c->seq);
		else
			log_info("journal: output %s is no longer configured: its position is dropped", c->name);
		unlink(c->path);
		cons_free(c);
		memmove(j->cons + i, j->cons + i + 1, (j->ncons - i - 1) * sizeof(*j->cons));
		j->ncons--;
	}
	/* stray position files (damaged ones, or written by hand) */
	d = opendir(j->dir);
	while (d && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char *path;
		int known = 0;

		if (!(l > 8 && strncmp(e->d_name, "pos-", 4) == 0 && strcmp(e->d_name + l - 4, ".pos") == 0))
			continue;
		path = xasprintf("%s/%s", j->dir, e->d_name);
		for (size_t i = 0; i < j->ncons && !known; i++)
			known = strcmp(j->cons[i]->path, path) == 0;
		if (!known) {
			log_info("journal: %s belongs to no configured output: removed", path);
			unlink(path);
		}
		free(path);
	}
	if (d)
		closedir(d);
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->pos_mu);
}

void journal_commit(struct journal_consumer *c, uint64_t lsn, uint64_t seq)
{
	struct journal *j = c->j;

	pthread_mutex_lock(&j->mu);
	if (lsn > c->lsn) {
		c->lsn = lsn;
		c->seq = seq;
		c->dirty = 1;
		sync_kick(j);
	}
	pthread_mutex_unlock(&j->mu);
}

void journal_rewind(struct journal_consumer *c)
{
	struct journal *j = c->j;

	pthread_mutex_lock(&j->mu);
	c->rlsn = c->lsn;
	c->rseq = c->seq;
	pthread_mutex_unlock(&j->mu);
}

void journal_consumer_get_stats(struct journal_consumer *c, struct journal_consumer_stats *st)
{
	struct journal *j = c->j;

	pthread_mutex_lock(&j->mu);
	st->pending_lines = j->next_seq > c->seq ? j->next_seq - c->seq : 0;
	st->pending_bytes = j->end_lsn > c->lsn ? j->end_lsn - c->lsn : 0;
	st->dropped = c->dropped;
	pthread_mutex_unlock(&j->mu);
}

/* Reads file bytes [off, off + want) (at least need) into the buffer. */
static int reader_fill(struct journal_consumer *c, uint64_t off, size_t need, size_t want)
{
	size_t got = 0;

	if (want < need)
		want = need;
	if (want > c->cap) {
		size_t cap = c->cap ? c->cap : READ_BUF;
		while (cap < want)
			cap *= 2;
		c->buf = xrealloc(c->buf, cap);
		c->cap = cap;
	}
	while (got < want) {
		ssize_t n = pread(c->rfd, c->buf + got, want - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	c->boff = off;
	c->blen = got;
	return got >= need ? 0 : -EIO;
}

/* A corrupt record at file offset off of the reader's segment: the offset
 * of the next valid one (or seg_size). */
static uint64_t reader_resync(struct journal_consumer *c, uint64_t off, uint64_t seg_size)
{
	void *m = mmap(NULL, (size_t)seg_size, PROT_READ, MAP_SHARED, c->rfd, 0);
	uint64_t next;

	if (m == MAP_FAILED)
		return seg_size;
	next = next_valid_frame(m, (size_t)seg_size, (size_t)off + 1);
	munmap(m, (size_t)seg_size);
	return next;
}

/* Where a consumer reads next: a segment (its LSN base and valid size) and
 * the offset in it of c->rlsn. */
struct read_pos {
	uint64_t base, seg_size, off;
};

/* Finds the segment holding the consumer's read position, moving the
 * position past segments dropped under it and past a segment's end.  1 with
 * *at filled; 0 at the journal's end. */
static int reader_locate(struct journal_consumer *c, struct read_pos *at)
{
	struct journal *j = c->j;
	int found = 0;

	pthread_mutex_lock(&j->mu);
	while (j->nsegs > 0 && c->rlsn < j->end_lsn) {
		size_t i;

		if (c->rlsn < j->segs[0].base) { /* dropped or deleted under us */
			c->rlsn = j->segs[0].base;
			if (c->rseq < j->segs[0].first_seq)
				c->rseq = j->segs[0].first_seq;
		}
		for (i = j->nsegs - 1; i > 0 && j->segs[i].base > c->rlsn; i--)
			;
		at->base = j->segs[i].base;
		at->seg_size = j->segs[i].size;
		if (c->rlsn < at->base + JOURNAL_SEG_HDR)
			c->rlsn = at->base + JOURNAL_SEG_HDR;
		if (c->rlsn < at->base + at->seg_size) {
			at->off = c->rlsn - at->base;
			found = 1;
			break;
		}
		if (i + 1 >= j->nsegs)
			break;
		c->rlsn = j->segs[i + 1].base;
	}
	pthread_mutex_unlock(&j->mu);
	return found;
}

/* Opens the segment at at->base for reading unless it is open already.  0
 * when it is open; -EAGAIN when it was dropped meanwhile (the read position
 * has moved past it); another -errno when it cannot be read now (logged). */
static int reader_open(struct journal_consumer *c, const struct read_pos *at)
{
	struct journal *j = c->j;
	uint32_t supp;
	char *path;
	int err;

	if (c->rfd >= 0 && c->rbase == at->base)
		return 0;
	path = seg_path(j, at->base);
	if (c->rfd >= 0)
		close(c->rfd);
	c->rfd = open(path, O_RDONLY | O_CLOEXEC);
	err = c->rfd < 0 ? errno : 0;
	c->blen = 0;
	c->rbase = at->base;
	if (err && err != ENOENT && log_rl_allow(&c->rl, LOG_EVERY_MS, &supp))
		log_err("journal: %s: %s", path, strerror(err));
	free(path);
	if (c->rfd >= 0)
		return 0;
	if (err != ENOENT)
		return err ? -err : -EIO;
	pthread_mutex_lock(&j->mu);
	if (j->nsegs && j->segs[0].base <= at->base && c->rlsn < at->base + at->seg_size)
		c->rlsn = at->base + at->seg_size;
	pthread_mutex_unlock(&j->mu);
	return -EAGAIN;
}

/* Brings the record at at->off into the reader's buffer (the whole record
 * when its header names a sane length): *p points at it, *avail counts the
 * bytes from there up to the segment's end at most.  -EIO on a short read. */
static int reader_load(struct journal_consumer *c, const struct read_pos *at, const uint8_t **p, size_t *avail)
{
	uint64_t off = at->off, left = at->seg_size - at->off;

	if (!(off >= c->boff && off + JOURNAL_HDR <= c->boff + c->blen)) {
		size_t want = left < READ_BUF ? (size_t)left : READ_BUF;
		if (reader_fill(c, off, left < JOURNAL_HDR ? (size_t)left : JOURNAL_HDR, want) < 0)
			return -EIO;
	}
	*p = c->buf + (off - c->boff);
	*avail = c->blen - (size_t)(off - c->boff);
	if (*avail >= JOURNAL_HDR && get32(*p) == REC_MAGIC) {
		size_t want = JOURNAL_HDR + (size_t)get32(*p + 4);
		if (want <= JOURNAL_HDR + JOURNAL_MAX_RECORD && want <= left && want > *avail) {
			if (reader_fill(c, off, want, want > READ_BUF ? want : READ_BUF) < 0)
				return -EIO;
			*p = c->buf;
			*avail = c->blen;
		}
	}
	if (*avail > left)
		*avail = (size_t)left;
	return 0;
}

/* The record at at->off is corrupt: moves the read position to the next
 * valid one, counting and logging each corrupt stretch once for all
 * consumers. */
static void reader_skip_corrupt(struct journal_consumer *c, const struct read_pos *at)
{
	struct journal *j = c->j;
	uint64_t next = reader_resync(c, at->off, at->seg_size);
	uint32_t supp;
	int count;

	pthread_mutex_lock(&j->mu);
	count = at->base + at->off >= j->corrupt_counted_upto;
	if (count) {
		j->st.corrupt_skipped++;
		j->corrupt_counted_upto = at->base + next;
	}
	if (c->rlsn == at->base + at->off)
		c->rlsn = at->base + next;
	pthread_mutex_unlock(&j->mu);
	if (count && log_rl_allow(&c->rl, LOG_EVERY_MS, &supp))
		log_warn("journal: segment %016" PRIx64 " offset %" PRIu64 ": corrupt record skipped "
			 "(%" PRIu64 " bytes)", at->base, at->off, next - at->off);
}

/* The segment's file is shorter than its valid size: the rest of it is
 * skipped. */
static void reader_skip_short(struct journal_consumer *c, const struct read_pos *at)
{
	struct journal *j = c->j;
	uint32_t supp;

	if (log_rl_allow(&c->rl, LOG_EVERY_MS, &supp))
		log_warn("journal: segment %016" PRIx64 ": shorter than expected at offset %" PRIu64, at->base,
			 at->off);
	pthread_mutex_lock(&j->mu);
	if (c->rlsn == at->base + at->off)
		c->rlsn = at->base + at->seg_size;
	pthread_mutex_unlock(&j->mu);
}

/* Hands the valid record at p to the caller and moves the read position
 * past it: 1, or 0 when a drop moved the position meanwhile. */
static int reader_take(struct journal_consumer *c, struct journal_rec *r, const uint8_t *p,
		       const struct read_pos *at)
{
	struct journal *j = c->j;
	int taken = 0;

	rec_fill(r, p, at->base + at->off);
	pthread_mutex_lock(&j->mu);
	if (c->rlsn == at->base + at->off) {
		c->rlsn = r->end_lsn;
		c->rseq = r->end_seq;
		taken = 1;
	}
	pthread_mutex_unlock(&j->mu);
	return taken;
}

int journal_next(struct journal_consumer *c, struct journal_rec *r)
{
	for (;;) {
		struct read_pos at;
		const uint8_t *p;
		size_t avail, flen;
		int e;

		if (!reader_locate(c, &at))
			return 0;
		e = reader_open(c, &at);
		if (e == -EAGAIN)
			continue;
		if (e < 0)
			return 0;
		if (reader_load(c, &at, &p, &avail) < 0)
			reader_skip_short(c, &at);
		else if (!frame_valid(p, avail, &flen))
			reader_skip_corrupt(c, &at);
		else if (reader_take(c, r, p, &at))
			return 1;
	}
}
