/* backend.h - the contract between the delivery core (outputs/output.c: the
 * journal reader, batching, status policy, backoff, positions, the thread)
 * and a backend, one file per kind (outputs/influx.c, file.c, webhook.c,
 * publisher.c).  Private to outputs/ and its tests.  A new kind is one new
 * file defining a struct output_kind and one row in output.c's table. */
#ifndef CC_OUTPUT_BACKEND_H
#define CC_OUTPUT_BACKEND_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

struct cc_config;

/* What one delivery attempt did; the core applies the policy. */
enum send_status {
	SEND_OK,     /* all lines delivered (or `done` of them) */
	SEND_RETRY,  /* transient: backoff, same lines again */
	SEND_SLOW,   /* needs an operator (no database, misconfigured): retry at backoff_max */
	SEND_AUTH,   /* 401/403: like SEND_SLOW, and an alert on the transition */
	SEND_REJECT, /* the server refused some lines (quarantined): the rest is delivered */
	SEND_SPLIT,  /* too large: send the batch in halves */
	SEND_BISECT, /* some lines refused, the answer does not say which: bisect */
};

struct send_result {
	enum send_status status;
	size_t done;     /* lines delivered or refused (SEND_OK, SEND_REJECT, partial file writes) */
	size_t rejected; /* SEND_REJECT: lines refused */
	int64_t retry_after_ms;
	int64_t retry_cap_ms; /* > 0: retry no later than this (a missing database, outputs/influx.c) */
	const char *quarantine; /* SEND_REJECT of lines: where they went (named in the log) */
	char error[sizeof(((struct output_stats *)0)->last_error)];
};

/*
 * A backend.  be is the backend's own state, passed back to each call.
 * send() runs on the output's thread, without the core's lock, with the
 * batch (nlines complete lines, each ending in '\n'; for an event output
 * one event, a JSON object on one line); it fills r (zeroed by the core).
 * The optional ones may be NULL.
 */
struct output_ops {
	int events; /* reads the journal's EVENT records instead of its line protocol */
	/* optional: is this event for the output (a webhook's min_severity) */
	int (*wants)(void *be, const char *json, size_t len);
	/* optional: output_start, before the thread starts (warnings on the conf) */
	void (*start)(void *be, const char *name);
	void (*send)(void *be, struct output *o, const char *data, size_t len, size_t nlines, struct send_result *r);
	/* optional: called on the output's thread at least every OUTPUT_TICK_MS
	 * while idle or backing off (held messages, replies), without the lock */
	void (*tick)(void *be, struct output *o);
	/* optional: output_stop, from another thread: cut a blocked send short */
	void (*wakeup)(void *be);
	/* both of this ops: the same destination (a reload keeps the position) */
	int (*same_destination)(const void *a, const void *b);
	void (*free)(void *be);
};

/* How the core batches and backs off (0: the default). */
struct output_limits {
	int batch;
	size_t batch_bytes;
	int64_t flush_ms, backoff_max_ms;
	int start_oldest;
};

/* A kind of output in the configuration: how many it holds, and the i-th
 * one created (NULL + errno).  Listed in output.c's table. */
struct output_kind {
	const char *name; /* its list, outputs.NAME */
	size_t (*count)(const struct cc_config *cfg);
	struct output *(*create)(const struct cc_config *cfg, size_t i);
};
extern const struct output_kind output_kind_influx, output_kind_file, output_kind_webhook, output_kind_channels;
#define OUTPUT_TICK_MS 1000

/* The backend of o when its ops are ops, else NULL. */
void *output_backend(struct output *o, const struct output_ops *ops);

/* Creates an output (not yet started) around a backend; id (the journal
 * consumer id: kind, name and destination on one line) is copied.  Never
 * fails. */
struct output *output_new(const char *name, const char *id, const struct output_limits *lim,
			  const struct output_ops *ops, void *be);

/*
 * The time the core reads and waits on.  mono_ms: now, monotonic ms.
 * wait: called with mu held; returns when cv is signalled or the clock
 * reaches until_ms (INT64_MAX: no limit), with mu held again.  The default
 * is CLOCK_MONOTONIC and pthread_cond_timedwait; tests replace it so that a
 * backoff takes no real time.
 */
struct output_clock {
	int64_t (*mono_ms)(void *arg);
	void (*wait)(void *arg, pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_ms);
	void *arg;
};
/* Before output_start; c is copied. */
void output_set_clock(struct output *o, const struct output_clock *c);

/* For send(): ms left before the shutdown deadline (INT64_MAX when not
 * stopping), and one more request counted. */
int64_t output_remaining_ms(struct output *o);
void output_count_request(struct output *o);
/* The server refused a gzip body (the backend sends plain from then on). */
void output_count_gzip_refused(struct output *o);

/* snprintf that may truncate on purpose (messages bounded for logs/stats). */
void output_fmt(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Printable, single-line excerpt of at most size - 1 bytes (server text into logs). */
void output_excerpt(char *dst, size_t size, const char *src, size_t len);
char *output_strdup_or_null(const char *s);

/* Defaults for values a hand-built conf may leave at 0 (the loader, daemon/config/, fills them). */
#define OUTPUT_DEF_TIMEOUT_MS 10000
#define OUTPUT_DEF_CONNECT_MS 5000
#define OUTPUT_DEF_FLUSH_MS 1000

#endif
