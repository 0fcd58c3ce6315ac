/* sse.c - live updates by Server-Sent Events: GET /events and the hub that
 * fans the engine's alarm events and a periodic tick out to the open pages.
 * A publisher only enqueues (it may hold the engine's lock); each page has
 * a bounded queue and is written by libmicrohttpd's threads. */
#include "web.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../log.h"
#include "../util.h"
#include "sse_queue.h"
#include "web_int.h"

/* The bounds (README, Security): */
#define SSE_MAX_SUBSCRIBERS 64   /* open /events streams; more get 503 */
#define SSE_MAX_MESSAGE 65536    /* bytes of one event's data */
#define SSE_TICK_MS 5000         /* a `tick` event this often while a page listens */
#define SSE_KEEPALIVE_MS 15000   /* a comment line after this long without anything */

struct sse_sub {
	struct sse_sub *next, *prev;
	struct MHD_Connection *conn;
	struct sse_queue q;
	int suspended; /* MHD_suspend_connection called, not yet resumed */
	int closing;   /* end the stream at the next read */
	int64_t last_ms; /* when something was last queued */
	char sid[AUTH_TOKEN_HEX + 1]; /* the session it was opened in; "" without one (public_status) */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t gone; /* a subscriber was freed */
	int open;
	struct auth *auth;
	struct sse_sub *subs;
	int nsubs;
	uint64_t refused, dropped, events, ended;
	int64_t last_tick_ms;
	struct log_rl rl;
} hub = { .mu = PTHREAD_MUTEX_INITIALIZER, .gone = PTHREAD_COND_INITIALIZER };

/* Queues m for s (hub.mu held).  A full queue (a slow or dead page) is
 * emptied but for a message half-written, and the page told to resync:
 * it refetches everything, so nothing it missed matters. */
static void sub_push(struct sse_sub *s, struct sse_msg *m, int64_t now_ms)
{
	hub.dropped += sse_queue_push(&s->q, m);
	s->last_ms = now_ms;
	if (s->suspended) {
		s->suspended = 0;
		MHD_resume_connection(s->conn); /* thread-safe; the reader runs later */
	}
}

void web_sse_publish(const char *event, const char *data, size_t len)
{
	struct sse_msg *m;
	int64_t now = time_mono_ms();

	if (len > SSE_MAX_MESSAGE)
		return; /* never: an alarm event is a few hundred bytes */
	m = sse_msg_new(event, data, len);
	pthread_mutex_lock(&hub.mu);
	if (hub.open) {
		for (struct sse_sub *s = hub.subs; s; s = s->next)
			sub_push(s, m, now);
		hub.events++;
	}
	sse_msg_done(m);
	pthread_mutex_unlock(&hub.mu);
}

/* Streams whose session ended (idle, too old, logged out) are closed
 * (hub.mu held): their reader ends the response. */
static void close_ended(void)
{
	int64_t now = time_now_ns() / 1000000;
	int n = 0;

	for (struct sse_sub *s = hub.subs; s && hub.auth; s = s->next) {
		if (!s->sid[0] || s->closing || auth_session_alive(hub.auth, s->sid, now))
			continue;
		s->closing = 1;
		n++;
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
	hub.ended += (uint64_t)n;
	if (n)
		log_info("web: %d live-update stream%s closed: the session ended", n, n == 1 ? "" : "s");
}

void web_sse_tick(int64_t now_ms)
{
	char buf[64];
	int tick;

	pthread_mutex_lock(&hub.mu);
	tick = hub.open && hub.nsubs > 0 && now_ms - hub.last_tick_ms >= SSE_TICK_MS;
	if (tick) {
		hub.last_tick_ms = now_ms;
		close_ended();
	}
	for (struct sse_sub *s = hub.subs; s && hub.open; s = s->next)
		if (now_ms - s->last_ms >= SSE_KEEPALIVE_MS)
			sub_push(s, sse_msg_keepalive, now_ms);
	pthread_mutex_unlock(&hub.mu);
	if (tick) {
		int n = snprintf(buf, sizeof(buf), "{\"time_ns\":%" PRId64 "}", time_now_ns());
		web_sse_publish("tick", buf, (size_t)n);
	}
}

/* MHD's content reader: what is queued, or (nothing queued) suspend and
 * return 0 -- libmicrohttpd's pattern; a publisher resumes the connection. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_sub *s = cls;
	size_t n = 0;

	(void)pos;
	pthread_mutex_lock(&hub.mu);
	if (s->closing) {
		pthread_mutex_unlock(&hub.mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = sse_queue_read(&s->q, buf, max);
	if (n == 0) {
		s->suspended = 1;
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&hub.mu);
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse_sub *s = cls;

	pthread_mutex_lock(&hub.mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		hub.subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	sse_queue_clear(&s->q);
	hub.nsubs--;
	pthread_cond_broadcast(&hub.gone);
	pthread_mutex_unlock(&hub.mu);
	free(s);
}

/* A subscriber past the cap, or while the listener stops: 503. */
static int refuse_busy(struct web_req *req)
{
	uint32_t more = 0;
	int allow;

	pthread_mutex_lock(&hub.mu);
	hub.refused++;
	allow = log_rl_allow(&hub.rl, 60000, &more);
	pthread_mutex_unlock(&hub.mu);
	if (allow)
		log_warn("web: %s: refused a live-update stream: %d open (the most) (%" PRIu32 " more not logged)",
			 req->client, SSE_MAX_SUBSCRIBERS, more);
	web_header_add(req, "Retry-After", "30");
	return web_error(req, 503, "too many live-update streams");
}

int web_page_events(struct web_req *req)
{
	struct sse_sub *s = xcalloc(1, sizeof(*s));
	struct MHD_Response *resp;

	s->conn = req->conn;
	if (req->has_session)
		memcpy(s->sid, req->sess.id, sizeof(s->sid));
	pthread_mutex_lock(&hub.mu);
	if (!hub.open || hub.nsubs >= SSE_MAX_SUBSCRIBERS) {
		pthread_mutex_unlock(&hub.mu);
		free(s);
		return refuse_busy(req);
	}
	s->next = hub.subs;
	if (hub.subs)
		hub.subs->prev = s;
	hub.subs = s;
	hub.nsubs++;
	sub_push(s, sse_msg_hello, time_mono_ms());
	pthread_mutex_unlock(&hub.mu);
	/* from here s is freed by sse_free, when MHD is done with resp */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
	if (!resp) {
		sse_free(s);
		return web_error(req, 500, "out of memory");
	}
	/* a quiet stream is kept (the keepalive), whatever web.timeout says */
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)(3 * SSE_KEEPALIVE_MS / 1000));
	web_header_add(req, "X-Accel-Buffering", "no");
	return web_reply_response(req, 200, "text/event-stream; charset=utf-8", resp);
}

void web_sse_open(struct auth *auth)
{
	pthread_mutex_lock(&hub.mu);
	hub.open = 1;
	hub.auth = auth;
	pthread_mutex_unlock(&hub.mu);
}

/* Every stream ended before MHD_stop_daemon: the suspended ones resumed,
 * each reader then ends its response; waits for them (2 s at most). */
void web_sse_close(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&hub.mu);
	hub.open = 0;
	hub.auth = NULL;
	for (struct sse_sub *s = hub.subs; s; s = s->next) {
		s->closing = 1;
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
	while (hub.nsubs > 0)
		if (pthread_cond_timedwait(&hub.gone, &hub.mu, &until) == ETIMEDOUT)
			break;
	if (hub.nsubs > 0)
		log_warn("web: %d live-update streams still open at stop", hub.nsubs);
	pthread_mutex_unlock(&hub.mu);
}

void web_sse_stats(struct web_sse_stats *st)
{
	pthread_mutex_lock(&hub.mu);
	st->subscribers = hub.nsubs;
	st->refused = hub.refused;
	st->dropped = hub.dropped;
	st->events = hub.events;
	pthread_mutex_unlock(&hub.mu);
}
