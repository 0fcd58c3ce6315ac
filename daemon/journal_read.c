/* journal_read.c - the consumers (outputs): open/close, their positions
 * persisted atomically (temp file, fsync, rename), commit, rewind and
 * prune, and the reader that hands each valid record to its consumer,
 * skipping (and counting once) what is corrupt. */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "journal_int.h"
#include "log.h"
#include "util.h"

#define POS_MAGIC "coldchaind-journal-position 1"
#define READ_BUF (256 * 1024)

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
	r = jr_write_all(fd, text, strlen(text));
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
void jr_pos_persist(struct journal *j, struct journal_consumer *c)
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
		jr_sync_kick(j);
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

/* A position file found at open: its consumer, detached, at the position
 * it holds.  0, or -EINVAL when it cannot be read or is damaged. */
int jr_pos_load(struct journal *j, const char *path)
{
	char *text = read_small_file(path, 8192), *name = NULL, *id = NULL;
	uint64_t lsn, seq;
	int r = -EINVAL;

	if (text && pos_parse(text, &name, &id, &lsn, &seq) == 0) {
		struct journal_consumer *c = cons_new(j, name, id, path);
		c->lsn = c->rlsn = lsn;
		c->seq = c->rseq = seq;
		r = 0;
	}
	free(text);
	free(name);
	free(id);
	return r;
}

void jr_cons_free(struct journal_consumer *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	free(c->buf);
	free(c->name);
	free(c->id);
	free(c->path);
	free(c);
}

/* --- consumers --------------------------------------------------------- */

struct journal_consumer *journal_consumer_open(struct journal *j, const char *name, const char *id, int from_oldest,
					       journal_notify_fn notify, void *arg)
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
		jr_sync_kick(j);
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
	jr_pos_persist(j, c);
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
	jr_sync_kick(j);
	c->rlsn = c->lsn;
	c->rseq = c->seq;
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->notify_mu);
	pthread_mutex_lock(&j->pos_mu);
	jr_pos_persist(j, c);
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
		jr_cons_free(c);
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
		jr_sync_kick(j);
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

/* --- reader ------------------------------------------------------------ */

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
	next = jr_next_valid_frame(m, (size_t)seg_size, (size_t)off + 1);
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
	path = jr_seg_path(j, at->base);
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
	if (*avail >= JOURNAL_HDR && jr_get32(*p) == REC_MAGIC) {
		size_t want = JOURNAL_HDR + (size_t)jr_get32(*p + 4);
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

	jr_rec_fill(r, p, at->base + at->off);
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
		else if (!jr_frame_valid(p, avail, &flen))
			reader_skip_corrupt(c, &at);
		else if (reader_take(c, r, p, &at))
			return 1;
	}
}
