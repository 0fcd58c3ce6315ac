/* journal_int.h - private to daemon/journal*.c: the journal's structures
 * and the few helpers its files share (jr_ prefix).  Who does what:
 * journal.c (open/close, limits, append, cap, sync thread, stats),
 * journal_recover.c (recovery at open), journal_read.c (consumers,
 * positions, reader), journal_format.c (the record format, pure). */
#ifndef CC_JOURNAL_INT_H
#define CC_JOURNAL_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "log.h"

#define REC_MAGIC 0x4a43434aU /* "JCCJ" little endian */
#define LOG_EVERY_MS 30000

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

struct journal_consumer {
	struct journal *j;
	char *name, *id, *path;
	int attached, dirty;
	uint64_t lsn, seq;   /* committed */
	uint64_t rlsn, rseq; /* read */
	uint64_t dropped;
	journal_notify_fn notify;
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

static inline uint32_t jr_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t jr_get64(const uint8_t *p)
{
	return (uint64_t)jr_get32(p) | (uint64_t)jr_get32(p + 4) << 32;
}

/* journal_format.c */
/* Is there a valid record at p (avail bytes readable)?  1 and *flen (header
 * + payload), 0 if not. */
int jr_frame_valid(const uint8_t *p, size_t avail, size_t *flen);
/* Offset of the next valid record at or after from, or len if none. */
size_t jr_next_valid_frame(const uint8_t *buf, size_t len, size_t from);
/* r from the valid record at p, which starts at lsn. */
void jr_rec_fill(struct journal_rec *r, const uint8_t *p, uint64_t lsn);

/* journal.c */
char *jr_seg_path(const struct journal *j, uint64_t base);
/* 0 or -errno (-EIO on a zero-length write). */
int jr_write_all(int fd, const void *p, size_t n);
/* Appends a segment to j->segs and its size to total_bytes. */
void jr_seg_push(struct journal *j, uint64_t base, uint64_t size, uint64_t first_seq, uint64_t end_seq);

/* journal_recover.c: under no lock, before the sync thread starts. */
void jr_recover(struct journal *j);

/* journal_read.c */
/* Loads the position file at path as a detached consumer: 0, or -EINVAL. */
int jr_pos_load(struct journal *j, const char *path);
/* Writes c's position if it changed.  Caller holds pos_mu. */
void jr_pos_persist(struct journal *j, struct journal_consumer *c);
void jr_cons_free(struct journal_consumer *c);
/* Under mu: work for the sync thread; wakes it when it waits for work (it
 * then syncs within fsync_ms, as when it ticked). */
void jr_sync_kick(struct journal *j);

#endif
