/* journal.c - append-only CRC'd segments with group commit and a size cap
 * that drops the oldest segment (counted): open/close, limits, append, the
 * sync thread, stats.  Recovery is in journal_recover.c, consumers and their
 * positions in journal_read.c, the record format in journal_format.c; see
 * journal.h for the format and README "Durability" for the contract. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "journal_int.h"
#include "log.h"
#include "util.h"

#define MAX_NOTIFY 64

/* --- files ----------------------------------------------------------- */

char *jr_seg_path(const struct journal *j, uint64_t base)
{
	return xasprintf("%s/%016" PRIx64 ".seg", j->dir, base);
}

int jr_write_all(int fd, const void *p, size_t n)
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

void jr_seg_push(struct journal *j, uint64_t base, uint64_t size, uint64_t first_seq, uint64_t end_seq)
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
	char *path = jr_seg_path(j, j->end_lsn);
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0640);
	if (fd < 0) {
		r = -errno;
		free(path);
		return r;
	}
	journal_encode_seg_header(hdr, j->end_lsn);
	r = jr_write_all(fd, hdr, sizeof(hdr));
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
	jr_seg_push(j, j->end_lsn, JOURNAL_SEG_HDR, j->next_seq, j->next_seq);
	j->end_lsn += JOURNAL_SEG_HDR;
	j->dir_dirty = 1;
	j->dirty = 1;
	j->broken = 0;
	jr_sync_kick(j);
	return 0;
}


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
		char *path = jr_seg_path(j, j->segs[0].base);
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
			jr_pos_persist(j, c);
	}
	pthread_mutex_unlock(&j->pos_mu);
	if (cap_msg) {
		log_warn("%s", cap_msg);
		free(cap_msg);
	}
}

void jr_sync_kick(struct journal *j)
{
	if (j->sync_idle)
		pthread_cond_signal(&j->cv);
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
 * come; with nothing to sync it sleeps until jr_sync_kick (an idle daemon
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

	jr_recover(j);
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
		jr_cons_free(j->cons[i]);
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
		char *path = jr_seg_path(j, s.base), *who = xstrdup("");

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
	jr_sync_kick(j);
	if (j->write_fail_run) {
		*msg = xasprintf("journal: writing again after %" PRIu64 " failed appends", j->write_fail_run);
		j->write_fail_run = 0;
		j->rl_write.last_ms = 0;
	}
}

/* Wakes the attached consumers, outside the journal's lock (a callback may
 * call back into the journal) and one append at a time (notify_mu). */
static void append_notify(struct journal *j, enum journal_type type)
{
	journal_notify_fn fns[MAX_NOTIFY];
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
		fns[i](args[i], type);
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
	append_notify(j, type);
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

