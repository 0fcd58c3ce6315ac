/* journal.h - the durable, append-only record of everything that leaves the
 * daemon (line protocol and alert events).  Sources append; each output is a
 * consumer with its own committed position, persisted atomically; a segment
 * is deleted once every consumer is past it.  See README "Durability".
 *
 * Where each part is implemented (their private header: journal_int.h):
 *   journal.c          journal_open/close, limits, append (whole records,
 *                      group commit by its own thread), the max_size cap
 *   journal_recover.c  what journal_open() does to the disk before it
 *                      returns: scan, truncate, set aside, gaps counted
 *   journal_read.c     consumers, their position files, journal_next()
 *   journal_format.c   the record and segment format below (pure)
 *
 * On disk (journal dir):
 *   SSSSSSSSSSSSSSSS.seg   segment; name = hex base offset (LSN) of its first
 *                          byte; 16-byte header "CCJOURN1" + base (u64 LE)
 *   pos-NAME-ID.pos        a consumer's committed position (text, CRC'd);
 *                          NAME = the output's name, ID = the CRC-32 of its
 *                          destination id as 8 hex digits (pos_path());
 *                          one no consumer holds goes at journal_prune()
 *   *.seg.corrupt          segment-named files without a segment header,
 *                          set aside by recovery
 *   *.tmp                  an interrupted atomic write: removed at open
 * Any other file there (a quarantine file, by default) is left alone.
 * A record (little endian): u32 magic, u32 payload length, u32 CRC-32
 * (zlib) of the length and of everything after the CRC, u32 type, u32 line
 * count, u64 seq (index of the record's first line among all lines ever
 * journaled), i64 wall-clock ms when appended, then the payload.  Offsets (LSN) are global byte offsets:
 * a segment's records live at LSN base + offset in file.  A segment starts
 * at the LSN where the one before it ended and its first record's seq is the
 * end_seq of the one before: only the oldest segments are ever deleted, so a
 * hole anywhere else in either numbering is damage, and its size in lines is
 * exact by the seqs (a lost alert event has no lines: only bytes show it). */
#ifndef CC_JOURNAL_H
#define CC_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_HDR 36          /* record header bytes */
#define JOURNAL_SEG_HDR 16      /* segment header bytes */
#define JOURNAL_MAX_RECORD (64u * 1024 * 1024) /* larger lengths are corruption */

enum journal_type {
	JOURNAL_LINES = 1, /* complete '\n'-terminated lines of line protocol */
	JOURNAL_EVENT = 2, /* one alert event, a JSON object */
};

struct journal_conf {
	const char *dir;
	uint64_t max_size;     /* bytes on disk; past it the oldest segment goes */
	uint64_t segment_size; /* a segment is closed once it reaches this */
	int64_t fsync_ms;      /* group commit interval */
};

struct journal_stats {
	uint64_t bytes;           /* on disk, all segments */
	uint64_t segments;
	uint64_t records;         /* appended since start */
	uint64_t lines;           /* appended since start */
	uint64_t fsyncs;
	uint64_t corrupt_skipped; /* records skipped as corrupt (bad CRC, bad frame) */
	uint64_t torn_truncated;  /* bytes cut off torn segment tails at recovery */
	uint64_t gaps;            /* places recovery found bytes or lines missing between valid records */
	uint64_t lines_lost;      /* lines missing there, by the records' sequence numbers */
	uint64_t files_set_aside; /* garbage files renamed *.corrupt */
	uint64_t dropped_oldest;  /* lines in segments dropped at max_size (per consumer, summed) */
	uint64_t segments_dropped;
	uint64_t write_errors;    /* appends that failed (ENOSPC, EIO, ...) */
	uint64_t lines_not_journaled; /* lines lost by those failures */
};

struct journal;
struct journal_consumer;

/* One record as a consumer sees it.  data is valid until the next call. */
struct journal_rec {
	int type;
	uint64_t lsn, end_lsn; /* the record spans [lsn, end_lsn) */
	uint64_t seq, end_seq; /* its lines are [seq, end_seq) */
	int64_t t_ms;          /* wall clock when appended */
	const char *data;
	size_t len;
};

/*
 * Opens (creating it if needed) and recovers the journal: a torn tail is
 * truncated (torn_truncated), a corrupt record is skipped and counted
 * (corrupt_skipped), a segment-named file without a segment header is
 * renamed *.seg.corrupt (files_set_aside), one shorter than a header is
 * removed.  Then every place where the valid records do not follow on from
 * each other (a corrupt region; a segment shortened, emptied or missing,
 * other than the newest's end) is a gap: counted (gaps; lines_lost by the
 * seqs) and logged with the lines' seq range, the segments and offsets on
 * both sides, the append times of the records on both sides and the
 * consumers whose committed position was before them; a gap with
 * no record after it is counted with its lines unknown.  Each with a log
 * message; the counts are of what this open found (a gap still on disk is
 * found again at the next open).  Disk content never makes this fail: NULL
 * (+ errno) only when the directory cannot be created or written.  Starts
 * the group-commit thread.
 */
struct journal *journal_open(const struct journal_conf *conf);
/* fsyncs, persists every consumer's position, stops the thread, frees. */
void journal_close(struct journal *j);
/* Reload: new cap, segment size and fsync interval (the dir is fixed). */
void journal_set_limits(struct journal *j, uint64_t max_size, uint64_t segment_size, int64_t fsync_ms);

/*
 * Appends one record (thread-safe).  Returns when the bytes are in the page
 * cache (write(2)), never waiting for the disk or the network: a process
 * crash after that loses nothing; a power cut may lose up to fsync_ms.
 * nlines: lines in a JOURNAL_LINES payload (0 for events).  0 or -errno; a
 * failure (disk full) is counted and logged rate-limited, and the caller
 * counts its samples as dropped.
 */
int journal_append(struct journal *j, enum journal_type type, const void *data, size_t len, uint32_t nlines);
/* The same for a caller that keeps the record and offers it again when this
 * fails (an MQTT burst whose PUBACKs are withheld): a failure counts in
 * write_errors, its lines not in lines_not_journaled. */
int journal_try_append(struct journal *j, enum journal_type type, const void *data, size_t len, uint32_t nlines);
/* 1 when the last append succeeded (or none was tried), 0 while appends fail. */
int journal_writable(struct journal *j);
/* fsync now and persist positions (also done every fsync_ms). */
void journal_sync(struct journal *j);
void journal_get_stats(struct journal *j, struct journal_stats *st);
const char *journal_dir(const struct journal *j);

/*
 * A consumer, keyed by id (output kind, name and destination: one line of
 * text) and named by name ([A-Za-z0-9._-], used in file names and logs).
 * An id with a position file resumes there; a new one starts at the end,
 * or at the oldest record with from_oldest.  notify(arg, type) is called
 * (with no journal lock held, in the appending thread) after each append
 * with the appended record's type, to wake the consumer's thread (an alert
 * output wakes at once for an event, not for every batch of readings).
 */
typedef void (*journal_notify_fn)(void *arg, enum journal_type type);
struct journal_consumer *journal_consumer_open(struct journal *j, const char *name, const char *id, int from_oldest,
					       journal_notify_fn notify, void *arg);
/* Persists the position and detaches; the position keeps pinning segments
 * until journal_prune() (so a reload that re-opens the same id resumes). */
void journal_consumer_close(struct journal_consumer *c);
/* Forgets every position that no open consumer holds, deleting its file
 * (logged with what it had not consumed). */
void journal_prune(struct journal *j);

/* The next record past the read position: 1 (r filled), 0 (none yet). */
int journal_next(struct journal_consumer *c, struct journal_rec *r);
/* Everything before (lsn, seq) is done with: the committed position. */
void journal_commit(struct journal_consumer *c, uint64_t lsn, uint64_t seq);
/* Moves the read position back to the committed one (records read but not
 * committed are read again). */
void journal_rewind(struct journal_consumer *c);

struct journal_consumer_stats {
	uint64_t pending_lines;  /* journaled, not yet committed */
	uint64_t pending_bytes;
	uint64_t dropped;        /* lines lost to the max_size cap before read */
};
void journal_consumer_get_stats(struct journal_consumer *c, struct journal_consumer_stats *st);

/*
 * Recovery scan of one segment image (for the fuzz target and tests): calls
 * fn for each valid record, reports corrupt regions and where the valid
 * data ends.  Never reads outside buf.
 */
struct journal_scan {
	size_t records, corrupt, valid_end; /* valid_end: offset after the last valid record */
	uint64_t next_seq;
};
int journal_scan_buffer(const uint8_t *buf, size_t len, uint64_t base,
			void (*fn)(const struct journal_rec *r, void *arg), void *arg, struct journal_scan *out);
/* Encodes a record header for payload (tests, fuzz seeds). */
void journal_encode_header(uint8_t hdr[JOURNAL_HDR], enum journal_type type, const void *data, size_t len,
			   uint32_t nlines, uint64_t seq, int64_t t_ms);
/* The 16-byte segment header for base. */
void journal_encode_seg_header(uint8_t hdr[JOURNAL_SEG_HDR], uint64_t base);

#endif
