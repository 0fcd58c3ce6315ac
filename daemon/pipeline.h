/* pipeline.h - the seam every sample passes through on its way out: encoded
 * once to line protocol and appended to the durable journal
 * (daemon/journal.h), which every output reads at its own pace, and then
 * handed to the consumer (the alarm engine) that main.c sets. */
#ifndef CC_PIPELINE_H
#define CC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "sample.h"

struct journal;
struct lp_buf;

/* The journal everything is appended to (NULL: none; submissions are then
 * counted as dropped).  Not thread-safe against pipeline_submit: call only
 * while no source runs. */
void pipeline_set_journal(struct journal *j);

/* `coldchaind --test`: every line that would be journaled goes to fn
 * instead (from the submitting source's thread, concurrently), nothing to
 * the journal.  Set it only while no source runs; NULL: the journal. */
typedef void pipeline_lines_fn(void *arg, const char *lines, size_t len);
void pipeline_set_lines_sink(pipeline_lines_fn *fn, void *arg);

/* Who gets every submitted sample once its lines are journaled (the alarm
 * engine: main.c wires it, so the pipeline does not depend on it); NULL: no
 * one.  Called from the submitting source's thread, concurrently.  Not
 * thread-safe against pipeline_submit: set it only while no source runs. */
typedef void pipeline_consumer_fn(void *arg, const struct cc_sample *s, size_t n);
void pipeline_set_consumer(pipeline_consumer_fn *fn, void *arg);

/* Thread-safe.  Never blocks on the network.  Returns once the lines are in
 * the journal (write(2) done: a crash of the daemon cannot lose them), so a
 * source may acknowledge its input after it (an MQTT QoS 1 PUBACK). */
void pipeline_submit(const struct cc_sample *s, size_t n);
/* The same in two steps, for a source that gathers many messages into one
 * journal record (MQTT: every message of one socket read burst):
 * pipeline_encode appends the samples' lines to b (never fails: a sample that
 * cannot be encoded is logged and skipped); pipeline_submit_encoded journals b
 * and then hands s[0..n) to the consumer (the alarm engine). */
void pipeline_encode(struct lp_buf *b, const struct cc_sample *s, size_t n);
/* The same for one sample in two steps, for a source that keeps each
 * channel's series key (measurement and tags): pipeline_encode_series
 * appends ch's to b (0, or -EINVAL when ch cannot be encoded);
 * pipeline_encode_with_series appends s's line as pipeline_encode would,
 * given its channel's series key (or NULL). */
int pipeline_encode_series(struct lp_buf *b, const struct cc_channel *ch);
void pipeline_encode_with_series(struct lp_buf *b, const char *series, size_t len, const struct cc_sample *s);
void pipeline_submit_encoded(const struct lp_buf *b, const struct cc_sample *s, size_t n);
/*
 * For a source whose sender keeps its input until it is acknowledged (MQTT
 * QoS 1 on a persistent session): journals b as one record and, only when
 * that worked, hands s[0..n) to the consumer and returns 0.  On a
 * failure (disk full) returns -errno having done nothing else and counted
 * nothing as dropped: the caller withholds its acknowledgements and gets
 * the input again.  Without a journal, or for a b too large for one
 * record, it is pipeline_submit_encoded (and returns 0): waiting cannot help.
 */
int pipeline_try_submit_encoded(const struct lp_buf *b, const struct cc_sample *s, size_t n);
/* What such a source gives up on (input that will not come again, e.g. QoS
 * 0): nlines counted as not journaled, why in the log; the consumer (the
 * engine) still sees s[0..n). */
void pipeline_submit_unjournaled(const struct cc_sample *s, size_t n, size_t nlines, const char *why);
/* 0 while journal appends fail (disk full), 1 once one succeeds again. */
int pipeline_journal_writable(void);
/* One or more complete, '\n'-terminated lines of line protocol. */
void pipeline_submit_lines(const char *lines, size_t len, size_t nlines);

/*
 * An alert event: one JSON object (no newline), journaled as its own record
 * type and delivered to the outputs that take events (webhooks, MQTT
 * alerts).  Its InfluxDB form (measurement "alert") is submitted separately
 * with pipeline_submit_lines().  Thread-safe; durable when it returns (as
 * durable as the journal's fsync policy makes it).
 */
void pipeline_submit_event(const char *json, size_t len);

/* Lines that could not be journaled (no journal, disk full): lost, counted. */
uint64_t pipeline_dropped(void);

#endif
