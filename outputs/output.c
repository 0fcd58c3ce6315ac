/* output.c - the delivery core: where journaled data leaves the daemon.
 * One journal consumer and one sender thread per output, with the read-ahead,
 * batching (lines, bytes, age), the status policy (backoff with jitter,
 * Retry-After, splitting, the output_unauthorised alert), positions and
 * stats; the backends (outputs/influx.c, file.c, webhook.c, publisher.c)
 * only send one batch (outputs/backend.h). */
#include "output.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../daemon/journal.h"
#include "../daemon/log.h"
#include "../daemon/pipeline.h"
#include "../daemon/thread.h"
#include "../daemon/util.h"
#include "backend.h"

#define LOG_EVERY_MS 30000     /* rate limit for repeated failure messages */
#define BACKOFF_START_MS 1000
#define READAHEAD_MIN_BYTES (4 * 1024 * 1024)
/* Behind (the journal holds more than BEHIND_BATCHES grown batches for this
 * output): a request carries up to BATCH_GROW times batch lines, still
 * bounded by batch_bytes.  Fewer, larger requests cost a server sharing the
 * box less per line (issue 18); caught up, a batch is batch lines again. */
#define BATCH_GROW 4
#define BEHIND_BATCHES 2

/* Defaults for values a hand-built conf may leave at 0 (the loader, daemon/config/, fills them). */
#define DEF_BATCH 5000
#define DEF_BATCH_BYTES (4 * 1024 * 1024)
#define DEF_BACKOFF_MAX_MS 60000

/* The kinds of output a configuration lists: a new backend is one file
 * (defining its struct output_kind) and one row here.  The MQTT alert
 * publisher is not a row: it lives with the MQTT client in drivers/ (see
 * output_publisher_new), which outputs/ may not include. */
static const struct output_kind *const kinds[] = {
	&output_kind_influx,
	&output_kind_file,
	&output_kind_webhook,
	&output_kind_channels,
};

/*
 * The read-ahead buffer: a list of chunks, each the lines of one journal
 * record (what is left of them), with where the consumer's position goes
 * once the chunk is done (end_lsn/end_seq: the record's end, or past the
 * event records that followed it).  Lines leave the head only once
 * delivered or quarantined; a batch being sent is a copy of the first lines.
 */
struct chunk {
	struct chunk *next;
	int64_t t_mono; /* when the record was journaled, on the output's clock */
	int64_t t_wall; /* the same, wall clock ms */
	uint64_t end_lsn, end_seq;
	char *data;
	size_t off, len; /* unconsumed bytes are data[off, len) */
	size_t lines;    /* unconsumed lines */
};

struct output {
	const struct output_ops *ops;
	void *be; /* the backend's state */
	struct output_clock clock;
	char *name, *id;
	int batch, start_oldest;
	size_t batch_bytes;
	int64_t flush_ms, backoff_max_ms;

	struct journal *journal;
	struct journal_consumer *cons;

	/* shared state, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail;
	size_t lines, bytes;
	unsigned gen; /* bumped by each journal append (notify) */
	unsigned gen_wait; /* gen when the sender last went to wait */
	int caught_up; /* the last read found nothing more in the journal */
	int behind;    /* a backlog: batches grow (batch_limit) */
	uint64_t commit_lsn, commit_seq;
	int commit_dirty;
	struct output_stats st;
	int running, stopping;
	int64_t deadline_ms;
	int64_t retry_at; /* on the clock; 0 = no backoff pending */
	int64_t next_tick; /* ops->tick: the next call, on the clock */

	/* sender thread only */
	pthread_t thread;
	char *sendbuf;
	size_t sendcap;
	unsigned failures;
	size_t split_limit, split_left;
	int bisect;
	uint64_t rng;
	struct log_rl rl_fail, rl_reject;
};
/* --- small helpers ------------------------------------------------------ */

char *output_strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void output_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

void output_excerpt(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	if (o + 4 >= size && len > o) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* --- the clock ---------------------------------------------------------- */

static int64_t real_mono_ms(void *arg)
{
	(void)arg;
	return time_mono_ms();
}

static void real_wait(void *arg, pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_ms)
{
	struct timespec ts;

	(void)arg;
	if (until_ms == INT64_MAX) {
		pthread_cond_wait(cv, mu);
		return;
	}
	ts.tv_sec = (time_t)(until_ms / 1000);
	ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
	pthread_cond_timedwait(cv, mu, &ts); /* cv uses CLOCK_MONOTONIC */
}

static int64_t now_ms(struct output *o)
{
	return o->clock.mono_ms(o->clock.arg);
}

void output_set_clock(struct output *o, const struct output_clock *c)
{
	o->clock = *c;
}

/* --- read-ahead (the queue is under mu) -------------------------------- */

/* Drops the n oldest lines (delivered or quarantined); finished chunks move
 * the commit position. */
static void queue_drop_head(struct output *o, size_t n)
{
	while (n > 0 && o->head) {
		struct chunk *c = o->head;

		if (n >= c->lines) {
			n -= c->lines;
			o->lines -= c->lines;
			o->bytes -= c->len - c->off;
			o->head = c->next;
			if (!o->head)
				o->tail = NULL;
			o->commit_lsn = c->end_lsn;
			o->commit_seq = c->end_seq;
			o->commit_dirty = 1;
			free(c->data);
			free(c);
			continue;
		}
		while (n > 0) {
			char *nl = memchr(c->data + c->off, '\n', c->len - c->off);
			size_t l = (size_t)(nl - (c->data + c->off)) + 1;

			c->off += l;
			c->lines--;
			o->lines--;
			o->bytes -= l;
			n--;
		}
	}
}

static void queue_free(struct output *o)
{
	struct chunk *c = o->head;

	while (c) {
		struct chunk *next = c->next;
		free(c->data);
		free(c);
		c = next;
	}
	o->head = o->tail = NULL;
	o->lines = o->bytes = 0;
}

/* Under mu: hands the commit position to the journal. */
static void commit_flush(struct output *o)
{
	if (o->commit_dirty && o->cons) {
		journal_commit(o->cons, o->commit_lsn, o->commit_seq);
		o->commit_dirty = 0;
	}
}

/* Copies up to max lines and about max_bytes (at least one line) from the
 * head into sendbuf; returns how many lines. */
static size_t queue_peek(struct output *o, size_t max, size_t max_bytes, size_t *bytes)
{
	size_t n = 0, b = 0;

	for (struct chunk *c = o->head; c && n < max; c = c->next) {
		const char *p = c->data + c->off, *end = c->data + c->len, *q = p;
		size_t take;

		if (c->lines <= max - n && b + (size_t)(end - p) <= max_bytes) {
			q = end;
			n += c->lines;
		} else {
			while (n < max && q < end) {
				const char *e = (const char *)memchr(q, '\n', (size_t)(end - q)) + 1;
				if (n > 0 && b + (size_t)(e - p) > max_bytes)
					break;
				q = e;
				n++;
			}
		}
		take = (size_t)(q - p);
		if (b + take > o->sendcap) {
			size_t cap = o->sendcap ? o->sendcap : 64 * 1024;
			while (cap < b + take)
				cap *= 2;
			o->sendbuf = xrealloc(o->sendbuf, cap);
			o->sendcap = cap;
		}
		memcpy(o->sendbuf + b, p, take);
		b += take;
		if (q < end)
			break;
	}
	*bytes = b;
	return n;
}

static int is_event_kind(const struct output *o)
{
	return o->ops->events;
}

/* Is this record for this output?  Line protocol for the TSDB outputs,
 * events (those the backend wants: a webhook's min_severity) for the alert
 * outputs. */
static int record_wanted(const struct output *o, const struct journal_rec *r)
{
	if (r->len == 0)
		return 0;
	if (!is_event_kind(o))
		return r->type == JOURNAL_LINES;
	if (r->type != JOURNAL_EVENT)
		return 0;
	return !o->ops->wants || o->ops->wants(o->be, r->data, r->len);
}

/* journal_append's wake-up (no journal lock held; the consumer's close
 * waits for it to return, so o outlives the signal after the unlock). */
static void on_journal(void *arg, enum journal_type type)
{
	struct output *o = arg;
	int wake;

	pthread_mutex_lock(&o->mu);
	o->gen++;
	o->caught_up = 0;
	/* An idle sender needs every wake-up; one collecting a batch only
	 * every 64th (its flush timer bounds the wait): waking it per append
	 * cost a context switch and a journal read per MQTT message.  An alert
	 * output wakes at once for an event, and for readings (which it only
	 * skips) every 64th append, so its position still moves on and frees
	 * the journal: woken per append, it took a context switch per MQTT
	 * burst from the cores the alarm path needs (issue 18).  A sender
	 * holding part of a batch also wakes once the appends since it went
	 * to wait (each at least one line) may complete that batch: without
	 * this it slept until its flush timer with a full batch to send. */
	wake = type == JOURNAL_EVENT || (o->gen & 63) == 0 || (o->lines == 0 && !is_event_kind(o)) ||
	       (!is_event_kind(o) && o->lines + (o->gen - o->gen_wait) == (size_t)o->batch);
	pthread_mutex_unlock(&o->mu);
	/* Signalled after the unlock: a sender woken while this thread held
	 * mu would only block on it and need a second wake-up (on the alarm's
	 * path, issue 18).  gen changed under mu, so no wait can miss it. */
	if (wake)
		pthread_cond_signal(&o->cv);
}

/*
 * Reads journal records into the read-ahead buffer until it holds two
 * batches' worth or the journal has nothing more (caught_up).  Called by
 * the sender with mu held; reads with it released.
 */
static void fill(struct output *o)
{
	size_t max_lines = 2 * (size_t)o->batch * (o->behind ? BATCH_GROW : 1), max_bytes = 2 * o->batch_bytes;

	if (max_bytes < READAHEAD_MIN_BYTES)
		max_bytes = READAHEAD_MIN_BYTES;
	while (o->lines < max_lines && o->bytes < max_bytes) {
		struct journal_rec r;
		struct chunk *c;
		int got;

		o->caught_up = 0;
		pthread_mutex_unlock(&o->mu);
		got = journal_next(o->cons, &r);
		c = NULL;
		if (got && record_wanted(o, &r)) {
			int64_t age = time_now_ns() / 1000000 - r.t_ms;

			c = xcalloc(1, sizeof(*c));
			c->data = xmalloc(r.len + 1);
			memcpy(c->data, r.data, r.len);
			c->len = r.len;
			if (is_event_kind(o)) /* one event = one line: JSON needs no raw newline */
				for (size_t k = 0; k < c->len; k++)
					if (c->data[k] == '\n' || c->data[k] == '\r')
						c->data[k] = ' ';
			if (c->data[c->len - 1] != '\n') /* never glue two lines together */
				c->data[c->len++] = '\n';
			for (const char *p = c->data; (p = memchr(p, '\n', (size_t)(c->data + c->len - p))) != NULL; p++)
				c->lines++;
			c->t_wall = r.t_ms;
			c->t_mono = now_ms(o) - (age > 0 ? age : 0);
			c->end_lsn = r.end_lsn;
			c->end_seq = r.end_seq;
		}
		pthread_mutex_lock(&o->mu);
		if (!got) {
			o->caught_up = 1;
			break;
		}
		if (c) {
			if (o->tail)
				o->tail->next = c;
			else
				o->head = c;
			o->tail = c;
			o->lines += c->lines;
			o->bytes += c->len;
		} else if (o->tail) {
			/* a record not for this output: done when the ones before it are */
			o->tail->end_lsn = r.end_lsn;
			o->tail->end_seq = r.end_seq;
		} else {
			o->commit_lsn = r.end_lsn;
			o->commit_seq = r.end_seq;
			o->commit_dirty = 1;
			commit_flush(o);
		}
	}
}
/* --- the sender thread ------------------------------------------------ */

static int64_t backoff_ms(struct output *o, int slow)
{
	int64_t b = o->backoff_max_ms;

	if (!slow) {
		unsigned shift = o->failures > 1 ? o->failures - 1 : 0;
		if (shift < 20 && ((int64_t)BACKOFF_START_MS << shift) < b)
			b = (int64_t)BACKOFF_START_MS << shift;
	}
	/* jitter: somewhere in [b/2, b] so that many daemons do not retry in step */
	return b / 2 + (int64_t)(rand_next(&o->rng) % (uint64_t)(b / 2 + 1));
}

/* Logs with mu released (log_msg takes its own lock; keep the queue free). */
#define UNLOCKED(o, stmt)                                                                         \
	do {                                                                                      \
		pthread_mutex_unlock(&(o)->mu);                                                   \
		stmt;                                                                             \
		pthread_mutex_lock(&(o)->mu);                                                     \
	} while (0)

/* The alert raised (and cleared) when the server stops (and resumes)
 * accepting our credentials; written to the journal like any event. */
static void auth_event(struct output *o, int active, const char *error)
{
	cJSON *ev = cJSON_CreateObject();
	char *json;

	cJSON_AddStringToObject(ev, "rule", "output_unauthorised");
	cJSON_AddStringToObject(ev, "severity", "critical");
	cJSON_AddStringToObject(ev, "state", active ? "active" : "cleared");
	cJSON_AddStringToObject(ev, "output", o->name);
	cJSON_AddStringToObject(ev, "message",
				active ? error : "the server accepts the output's credentials again");
	cJSON_AddNumberToObject(ev, "ts_ms", (double)(time_now_ns() / 1000000));
	json = cJSON_PrintUnformatted(ev);
	if (json) {
		pipeline_submit_event(json, strlen(json));
		cJSON_free(json);
	}
	cJSON_Delete(ev);
}

/*
 * Applies the outcome of a request to the queue and the counters (under mu).
 * The batch was lines [0, sent) of the queue; [0, done) are finished with
 * (delivered, or refused and quarantined).
 */
static void apply_result(struct output *o, size_t sent, struct send_result *r, int64_t now)
{
	uint32_t supp = 0;

	if (r->done > sent)
		r->done = sent;
	queue_drop_head(o, r->done);
	commit_flush(o);
	o->st.written += r->done - r->rejected;
	o->st.rejected += r->rejected;

	switch (r->status) {
	case SEND_OK:
	case SEND_REJECT:
		if (r->status == SEND_OK) {
			o->st.last_ok_ms = now;
		} else {
			output_fmt(o->st.last_error, sizeof(o->st.last_error), "%s", r->error);
			if (is_event_kind(o))
				UNLOCKED(o, log_warn("output %s: event refused, skipped: %s", o->name, r->error));
			else if (log_rl_allow(&o->rl_reject, LOG_EVERY_MS, &supp))
				UNLOCKED(o, log_warn("output %s: server refused %zu of %zu %s (quarantined in %s): "
						     "%s%s", o->name, r->rejected, sent, plural(sent, "line", "lines"),
						     r->quarantine ? r->quarantine : "-", r->error,
						     supp ? " (earlier refusals suppressed)" : ""));
		}
		if (o->split_left) {
			o->split_left = o->split_left > sent ? o->split_left - sent : 0;
			if (o->bisect && o->split_limit < (size_t)o->batch)
				o->split_limit *= 2; /* past the bad line: grow back */
			if (!o->split_left) {
				o->split_limit = 0;
				o->bisect = 0;
			}
		}
		o->retry_at = 0;
		o->st.unauthorised = 0;
		if (o->failures) {
			unsigned f = o->failures;

			o->failures = 0;
			o->rl_fail.last_ms = 0; /* the next outage is logged at once */
			UNLOCKED(o, log_info("output %s: delivering again after %u %s", o->name, f,
					     plural(f, "failure", "failures")));
		}
		break;
	case SEND_RETRY:
	case SEND_SLOW:
	case SEND_AUTH: {
		int64_t d;

		o->st.retried++;
		o->failures++;
		d = backoff_ms(o, r->status != SEND_RETRY);
		if (r->retry_cap_ms > 0 && d > r->retry_cap_ms)
			d = r->retry_cap_ms;
		if (r->retry_after_ms > d)
			d = r->retry_after_ms;
		o->retry_at = now + d;
		o->st.unauthorised = r->status == SEND_AUTH;
		output_fmt(o->st.last_error, sizeof(o->st.last_error), "%s", r->error);
		if (log_rl_allow(&o->rl_fail, LOG_EVERY_MS, &supp))
			UNLOCKED(o, log_warn("output %s: %s%s", o->name, r->error,
					     supp ? " (repeated failures suppressed)" : ""));
		break;
	}
	case SEND_SPLIT:
	case SEND_BISECT:
		o->split_limit = (sent + 1) / 2;
		if (o->split_left < sent)
			o->split_left = sent;
		o->bisect = r->status == SEND_BISECT;
		UNLOCKED(o, log_info("output %s: %s: sending the %zu %s in halves%s", o->name, r->error, sent,
				     plural(sent, "line", "lines"),
				     r->status == SEND_BISECT ? " to find the refused ones" : ""));
		break;
	}
}

/* Lines the next request may carry (under mu): batch, or BATCH_GROW times
 * that while the journal holds a backlog and the server answers; looked at
 * only when a full batch is read and more waits (the journal's lock, once
 * per request).  Failing, the read-ahead stays two batches: what it holds
 * outlives the journal's max_size, and an outage should not grow it. */
static size_t batch_limit(struct output *o)
{
	struct journal_consumer_stats cs;
	size_t b = (size_t)o->batch;

	if (o->caught_up || !o->cons || o->lines < b || o->failures) {
		o->behind = 0;
		return b;
	}
	journal_consumer_get_stats(o->cons, &cs);
	o->behind = cs.pending_lines >= (uint64_t)BEHIND_BATCHES * BATCH_GROW * b;
	return o->behind ? b * BATCH_GROW : b;
}

static void *sender_main(void *arg)
{
	struct output *o = arg;
	int was_unauthorised = 0;

	/* an alert output is on the alarm's path (issue 18): a short slice lets
	 * it preempt the busy readings threads when an event wakes it */
	if (is_event_kind(o))
		thread_prefer_latency();
	pthread_mutex_lock(&o->mu);
	for (;;) {
		int64_t now, until;
		size_t limit, n, bytes;
		unsigned gen = o->gen;
		struct send_result r;

		fill(o);
		limit = batch_limit(o);
		now = now_ms(o);
		if (o->ops->tick && !o->stopping && now >= o->next_tick) {
			o->next_tick = now + OUTPUT_TICK_MS;
			pthread_mutex_unlock(&o->mu);
			o->ops->tick(o->be, o);
			pthread_mutex_lock(&o->mu);
			continue;
		}
		if (o->split_limit && o->split_limit < limit)
			limit = o->split_limit;
		if (o->stopping && (now >= o->deadline_ms || (o->lines == 0 && o->caught_up)))
			break;
		if (o->retry_at > now)
			until = o->retry_at;
		else if (o->lines == 0)
			until = o->caught_up ? INT64_MAX : 0;
		else if (!o->stopping && !o->split_left && o->caught_up && o->lines < limit &&
			 o->bytes < o->batch_bytes && now - o->head->t_mono < o->flush_ms)
			until = o->head->t_mono + o->flush_ms;
		else
			until = -1; /* send now */
		if (until >= 0) {
			if (until == 0 || o->gen != gen)
				continue; /* more to read */
			if (o->stopping && until > o->deadline_ms)
				until = o->deadline_ms;
			if (o->ops->tick && !o->stopping && until > o->next_tick)
				until = o->next_tick; /* the tick's wake-up */
			o->gen_wait = o->gen;
			o->clock.wait(o->clock.arg, &o->cv, &o->mu, until);
			continue;
		}

		n = queue_peek(o, limit, o->batch_bytes, &bytes);
		pthread_mutex_unlock(&o->mu);

		memset(&r, 0, sizeof(r));
		o->ops->send(o->be, o, o->sendbuf, bytes, n, &r);
		if (r.status == SEND_AUTH && !was_unauthorised) {
			was_unauthorised = 1;
			log_err("output %s: %s: raising alert output_unauthorised", o->name, r.error);
			auth_event(o, 1, r.error);
		} else if ((r.status == SEND_OK || r.status == SEND_REJECT) && was_unauthorised) {
			was_unauthorised = 0;
			log_info("output %s: the server accepts our credentials again", o->name);
			auth_event(o, 0, NULL);
		}

		pthread_mutex_lock(&o->mu);
		apply_result(o, n, &r, now_ms(o));
	}
	commit_flush(o);
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* --- public API ------------------------------------------------------ */

struct output *output_new(const char *name, const char *id, const struct output_limits *lim,
			  const struct output_ops *ops, void *be)
{
	struct output *o = xcalloc(1, sizeof(*o));
	pthread_condattr_t ca;

	o->ops = ops;
	o->be = be;
	o->clock = (struct output_clock){ real_mono_ms, real_wait, NULL };
	o->name = xstrdup(name);
	o->id = xstrdup(id);
	o->batch = lim->batch > 0 ? lim->batch : DEF_BATCH;
	o->batch_bytes = lim->batch_bytes > 0 ? lim->batch_bytes : DEF_BATCH_BYTES;
	o->flush_ms = lim->flush_ms > 0 ? lim->flush_ms : OUTPUT_DEF_FLUSH_MS;
	o->backoff_max_ms = lim->backoff_max_ms > 0 ? lim->backoff_max_ms : DEF_BACKOFF_MAX_MS;
	o->start_oldest = lim->start_oldest;
	pthread_mutex_init(&o->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cv, &ca);
	pthread_condattr_destroy(&ca);
	o->rng = (uint64_t)time_now_ns() ^ (uint64_t)(uintptr_t)o;
	return o;
}

int64_t output_remaining_ms(struct output *o)
{
	int64_t r;

	pthread_mutex_lock(&o->mu);
	r = o->stopping ? o->deadline_ms - now_ms(o) : INT64_MAX;
	pthread_mutex_unlock(&o->mu);
	return r;
}

void output_count_request(struct output *o)
{
	pthread_mutex_lock(&o->mu);
	o->st.requests++;
	pthread_mutex_unlock(&o->mu);
}

void output_count_gzip_refused(struct output *o)
{
	pthread_mutex_lock(&o->mu);
	o->st.gzip_refused++;
	pthread_mutex_unlock(&o->mu);
}

void *output_backend(struct output *o, const struct output_ops *ops)
{
	return o && o->ops == ops ? o->be : NULL;
}

const char *output_name(const struct output *o)
{
	return o->name;
}

const char *output_id(const struct output *o)
{
	return o->id;
}

/* Starts the sender thread with every signal blocked (signals belong to the
 * main thread).  0 or -errno. */
static int sender_spawn(struct output *o)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&o->thread, NULL, sender_main, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0) { /* named for top -H and bench_idle.sh's per-thread wake-ups */
		char tname[16];
		snprintf(tname, sizeof(tname), "out:%s", o->name);
		pthread_setname_np(o->thread, tname);
	}
	return -r;
}

int output_start(struct output *o, struct journal *j)
{
	char cname[64];
	int r;

	pthread_mutex_lock(&o->mu);
	if (o->running || !j) {
		pthread_mutex_unlock(&o->mu);
		return o->running ? -EALREADY : -EINVAL;
	}
	pthread_mutex_unlock(&o->mu);
	/* a name is [A-Za-z0-9._-] from the config; a path-derived one is not */
	snprintf(cname, sizeof(cname), "%s", o->name);
	for (char *p = cname; *p; p++)
		if (!(((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '_';
	o->cons = journal_consumer_open(j, cname, o->id, o->start_oldest, on_journal, o);
	if (!o->cons) {
		r = -errno;
		log_err("output %s: cannot open its journal position: %s", o->name, strerror(errno));
		return r;
	}
	pthread_mutex_lock(&o->mu);
	o->journal = j;
	o->running = 1;
	o->stopping = 0;
	o->caught_up = 0;
	pthread_mutex_unlock(&o->mu);

	if (o->ops->start)
		o->ops->start(o->be, o->name);
	r = sender_spawn(o);
	if (r < 0) {
		pthread_mutex_lock(&o->mu);
		o->running = 0;
		pthread_mutex_unlock(&o->mu);
		journal_consumer_close(o->cons);
		o->cons = NULL;
		log_err("output %s: cannot start its thread: %s", o->name, strerror(-r));
		return r;
	}
	log_debug("output %s: started", o->name);
	return 0;
}

void output_stop(struct output *o, int64_t deadline_ms)
{
	struct journal_consumer_stats cs;

	pthread_mutex_lock(&o->mu);
	if (!o->running) {
		pthread_mutex_unlock(&o->mu);
		return;
	}
	o->stopping = 1;
	o->deadline_ms = deadline_ms;
	o->retry_at = 0; /* one more attempt now, whatever the backoff said */
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	if (o->ops->wakeup)
		o->ops->wakeup(o->be); /* cuts a hung request short at the deadline */
	pthread_join(o->thread, NULL);
	pthread_mutex_lock(&o->mu);
	o->running = 0;
	o->stopping = 0;
	commit_flush(o);
	journal_consumer_get_stats(o->cons, &cs);
	o->st.pending = cs.pending_lines;
	o->st.pending_bytes = cs.pending_bytes;
	o->st.dropped = cs.dropped;
	queue_free(o);
	pthread_mutex_unlock(&o->mu);
	if (cs.pending_lines)
		log_info("output %s: stopped with %" PRIu64 " %s undelivered (kept in the journal)", o->name,
			 cs.pending_lines, plural(cs.pending_lines, "line", "lines"));
	journal_consumer_close(o->cons);
	o->cons = NULL;
}

int output_same_destination(const struct output *a, const struct output *b)
{
	if (!a || !b || a->ops != b->ops)
		return 0;
	return a->ops->same_destination(a->be, b->be);
}

void output_free(struct output *o)
{
	if (!o)
		return;
	output_stop(o, now_ms(o));
	queue_free(o);
	o->ops->free(o->be);
	free(o->name);
	free(o->id);
	free(o->sendbuf);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

void output_get_stats(struct output *o, struct output_stats *st)
{
	struct journal_consumer_stats cs;
	int64_t now = time_now_ns() / 1000000;

	pthread_mutex_lock(&o->mu);
	*st = o->st;
	if (o->cons) {
		journal_consumer_get_stats(o->cons, &cs);
		st->pending = cs.pending_lines;
		st->pending_bytes = cs.pending_bytes;
		st->dropped = cs.dropped;
	}
	st->oldest_age_ms = o->head && now > o->head->t_wall ? now - o->head->t_wall : 0;
	st->failures = o->failures;
	pthread_mutex_unlock(&o->mu);
}

size_t outputs_count(const struct cc_config *cfg)
{
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		n += kinds[k]->count(cfg);
	return n;
}

/* Every output is attempted (each failure logs its own reason); any failure
 * frees them all. */
int outputs_from_config(const struct cc_config *cfg, struct output **outs, size_t *n)
{
	size_t m = 0;
	int e = 0;

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		for (size_t i = 0; i < kinds[k]->count(cfg); i++) {
			if ((outs[m] = kinds[k]->create(cfg, i)) != NULL)
				m++;
			else if (!e)
				e = errno ? errno : EINVAL;
		}
	if (e) {
		while (m > 0)
			output_free(outs[--m]);
		return -e;
	}
	*n = m;
	return 0;
}
