/* output.h - where journaled data leaves the daemon.  Each output
 * is a journal consumer (its own committed position, see daemon/journal.h)
 * with one sender thread that reads records into a small read-ahead buffer
 * and batches them by lines, bytes and age (the delivery core, output.c).
 * Kinds, one backend file each (outputs/backend.h): InfluxDB 1.x /write and
 * the v2 API /api/v2/write over HTTP(S) (libcurl, influx.c), an append-only
 * file (file.c), webhooks (webhook.c) and publishers (publisher.c).
 *
 * Status policy (InfluxDB): a batch stays in the journal until acknowledged.
 * 2xx: delivered.  5xx, 408, 429, connection errors, timeouts: the same lines
 * again after exponential backoff with jitter (1 s doubling up to
 * backoff_max; Retry-After honoured on 429/503).  413: the batch is sent in
 * halves, down to one line, which is then quarantined.  400/422: InfluxDB
 * wrote the good points; the refused lines (named by "unable to parse '...'"
 * or by the measurement and field of a "field type conflict") go to the
 * quarantine file with the server's reason, and the output moves on; when
 * the answer does not say which lines, the batch is bisected (good halves
 * are rewritten: same timestamps, InfluxDB overwrites) until the bad lines
 * are found.  401/403: data kept, retried every backoff_max, an
 * "output_unauthorised" alert event on each transition.  404 (no database)
 * and anything unexpected: data kept, retried every backoff_max, logged
 * rate-limited.  File output: write errors reopen the file and retry. */
#ifndef CC_OUTPUT_H
#define CC_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

struct cc_influx_conf;
struct cc_file_out_conf;
struct journal;
struct output;

struct output_stats {
	uint64_t written;  /* lines acknowledged by the server / written to the file */
	uint64_t retried;  /* requests retried after an error */
	uint64_t rejected; /* lines the server refused (quarantined) */
	uint64_t dropped;  /* lines lost to the journal's max_size before this output sent them */
	uint64_t pending;  /* lines journaled, not yet delivered */
	uint64_t pending_bytes;
	uint64_t requests; /* HTTP requests made */
	uint64_t gzip_refused; /* gzip bodies the server refused (then sent plain; outputs/influx.c) */
	int unauthorised;  /* the server refuses our credentials (401/403) right now */
	unsigned failures; /* consecutive failed attempts; 0 after a success (/healthz) */
	int64_t last_ok_ms;    /* monotonic ms of the last success, 0 if never */
	int64_t oldest_age_ms; /* age of the oldest undelivered line, 0 when none */
	char last_error[160];
};

/* The outputs a configuration lists (outputs.influxdb, .file, .webhook; not
 * the MQTT alert publisher: drivers/mqtt.c, mqtt_alerts_new), created in
 * one call (not yet started) into outs, which has room for
 * outputs_count(cfg).  0 with *n set, or -errno after freeing the ones made. */
struct cc_config;
size_t outputs_count(const struct cc_config *cfg);
int outputs_from_config(const struct cc_config *cfg, struct output **outs, size_t *n);

/* Call once at start-up before any thread (curl_global_init). */
int output_global_init(void);
void output_global_cleanup(void);

/* Create (not yet started).  The conf is copied; the caller may free it. */
struct output *output_influx_new(const struct cc_influx_conf *conf);
struct output *output_file_new(const struct cc_file_out_conf *conf);

/*
 * Alert-event outputs: they read the journal's EVENT records (one JSON
 * object each) instead of its line protocol, one event per delivery, with
 * the same position, retry and backoff machinery.
 *
 * Webhook: a JSON POST of each event whose severity is at least
 * min_severity (the others are skipped: the position moves past them).
 * 2xx: delivered.  5xx, 408, 429, connection errors, timeouts: the same
 * event again after backoff (Retry-After honoured).  401/403: kept and
 * retried every backoff_max (credentials are wrong for every event, so none
 * is thrown away), with the output_unauthorised alert.  Any other 4xx: the
 * receiver refuses this event: logged, counted as rejected, the output
 * moves on.  3xx and anything else: kept, retried every backoff_max.
 */
struct cc_webhook_conf;
struct output *output_webhook_new(const struct cc_webhook_conf *conf);

/*
 * A publisher implemented outside this file (the MQTT alert publisher in
 * drivers/mqtt.c).  publish() is called from the output's thread with one
 * event and returns only once the peer has acknowledged it (0), or with
 * -EAGAIN/-ENOTCONN/-ETIMEDOUT (retried after backoff) or -EINVAL (the
 * event cannot ever be published: counted as rejected, skipped); err says
 * why.  timeout_ms bounds the wait (shorter at shutdown).  destroy() is
 * called by output_free().  id names the consumer in the journal (kind,
 * name and destination on one line).
 */
struct output_publisher_ops {
	int (*publish)(void *arg, const char *json, size_t len, int64_t timeout_ms, char *err, size_t errlen);
	void (*destroy)(void *arg);
};
struct output *output_publisher_new(const char *name, const char *id, int start_oldest, int64_t backoff_max_ms,
				    const struct output_publisher_ops *ops, void *arg);

const char *output_name(const struct output *o);
/* The journal consumer id: kind, name and destination on one line. */
const char *output_id(const struct output *o);

/* Opens the output's journal consumer (resuming at its committed position)
 * and starts the sender thread.  0 or -errno. */
int output_start(struct output *o, struct journal *j);

/*
 * Stop the sender: deliver what the journal holds for it until deadline_ms
 * (monotonic), then persist its position and return.  What is undelivered
 * stays in the journal for the next start (or a reload's replacement).
 */
void output_stop(struct output *o, int64_t deadline_ms);
/* Same kind, URL (trailing '/' ignored) and database/rp or org/bucket (or
 * same path). */
int output_same_destination(const struct output *a, const struct output *b);
void output_free(struct output *o);

void output_get_stats(struct output *o, struct output_stats *st);

/* Bytes of an HTTP reply body kept (for the error message and the
 * quarantine's reason); the rest is read and dropped, so the connection
 * stays reusable.  A reply cannot last past the output's timeout. */
#define OUTPUT_RESP_MAX (64 * 1024)

/*
 * The channels to people (outputs/channel.c: outputs.email, .telegram,
 * .zalo, .sms).  An "OK <id>" reply from a recipient acknowledges the alarm
 * through fn (main.c wires engine_ack): set before outputs_from_config.
 */
typedef int (*output_ack_fn)(void *arg, const char *alarm_id, const char *user, const char *note);
void output_channels_set_ack(output_ack_fn fn, void *arg);
struct output_channel_stats {
	uint64_t sent, refused, retried, held, replies, acks_by_reply;
	size_t held_now; /* messages waiting for quiet hours' end or a digest */
};
/* 0, or -EINVAL when o is not a channel. */
int output_channel_stats(struct output *o, struct output_channel_stats *st);
/* Sends a test message synchronously to every recipient of route on channel
 * o; appends "RECIPIENT CHANNEL accepted|error: WHY" lines to out.  Returns
 * the failures, -ENOENT when the route does not use o, -EINVAL when o is
 * not a channel.  Runs on the caller's thread, beside the output's. */
int output_channel_test(struct output *o, const char *route, char *out, size_t size);
/* The transport's health (1, or 0 with why), and its own self-metrics
 * lines (a modem's signal); never blocking on a transport busy sending. */
int output_channel_health(struct output *o, char *why, size_t n);
struct lp_buf;
void output_channel_emit_stats(struct output *o, struct lp_buf *b, const char *site, int64_t ts_ns);

#endif
