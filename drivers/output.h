/* output.h - where line protocol leaves the daemon.  Each output owns a
 * bounded in-memory queue of lines (drops counted, oldest first) and one
 * sender thread that batches by line count and age.  Kinds: InfluxDB 1.x
 * /write over HTTP(S) (libcurl), and an append-only file.
 *
 * Status policy (InfluxDB): a batch stays queued until acknowledged.  2xx:
 * delivered.  5xx, 408, 429, connection errors, timeouts: the same lines
 * again after exponential backoff with jitter (1 s doubling up to
 * backoff_max; Retry-After honoured on 429/503).  413: the batch is sent in
 * halves, down to one line, which is then refused.  400/422: InfluxDB wrote
 * the good points; the refused lines (counted from "unable to parse" and
 * "dropped=N" in its answer, else the whole batch) are counted rejected and
 * the output moves on.  401/403, 404 (database not found) and anything
 * unexpected: data kept, retried every backoff_max, logged rate-limited.
 * File output: write errors reopen the file and retry the unwritten lines. */
#ifndef CC_OUTPUT_H
#define CC_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

struct cc_influx_conf;
struct cc_file_out_conf;
struct output;

struct output_stats {
	uint64_t written;  /* lines acknowledged by the server / written to the file */
	uint64_t retried;  /* requests retried after an error */
	uint64_t rejected; /* lines the server refused (4xx other than auth/too-large) */
	uint64_t dropped;  /* lines dropped because the queue was full */
	uint64_t pending;  /* lines queued now */
	uint64_t requests; /* HTTP requests made */
	int64_t last_ok_ms;    /* monotonic ms of the last success, 0 if never */
	int64_t oldest_age_ms; /* age of the oldest queued line, 0 when empty */
	char last_error[160];
};

/* Call once at start-up before any thread (curl_global_init). */
int output_global_init(void);
void output_global_cleanup(void);

/* Create (not yet started).  The conf is copied; the caller may free it. */
struct output *output_influx_new(const struct cc_influx_conf *conf);
struct output *output_file_new(const struct cc_file_out_conf *conf);

const char *output_name(const struct output *o);
int output_start(struct output *o); /* starts the sender thread; 0 or -errno */

/*
 * Queue complete lines (each ends with '\n').  Thread-safe, never blocks on
 * the network.  When the queue is full (max_pending lines, or max_pending
 * KiB of text, at least 1 MiB) the oldest lines are dropped and counted
 * (logged rate-limited).  Lines are counted by their '\n's (nlines is only
 * a hint), so a line must not contain a raw line break: lp_encode()
 * guarantees that; a missing final '\n' is added.
 */
void output_enqueue(struct output *o, const char *lines, size_t len, size_t nlines);

/*
 * Stop the sender: try to deliver what is queued until deadline_ms
 * (monotonic), then return.  Lines still queued stay in the output, so
 * output_take_pending() can move them to a replacement on reload.
 */
void output_stop(struct output *o, int64_t deadline_ms);
/* Move every queued line of from (stopped) to the front of to (same
 * destination across a reload).  Call it before output_start(to): a batch
 * to already has in flight may otherwise be sent twice (harmless to
 * InfluxDB, same timestamps, but counted twice). */
void output_take_pending(struct output *to, struct output *from);
/* Same URL (trailing '/' ignored) + database + retention policy (or same
 * path): a reload may hand pending lines over. */
int output_same_destination(const struct output *a, const struct output *b);
void output_free(struct output *o);

void output_get_stats(struct output *o, struct output_stats *st);

#endif
