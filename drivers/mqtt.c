/* mqtt.c - the MQTT input driver (see mqtt.h): connect, loop, backoff,
 * subscribe, and the read burst's batch to the journal; payloads are decoded
 * by mqtt_decode.c, the alert publisher is mqtt_alerts.c (the other file
 * including <mosquitto.h>).  libmosquitto errors are translated here with
 * mosquitto_strerror / mosquitto_connack_string and never leave it.
 *
 * Threads: one network thread per client, ours (not mosquitto_loop_start):
 * libmosquitto's loop_forever gives up for good on a TLS or DNS error, and
 * its reconnect sleep cannot be cut short by a stop request unless the
 * library owns the thread.  Ours reconnects with capped exponential backoff
 * (1 s doubling to reconnect_max) via mosquitto_reconnect, never
 * mosquitto_connect in a loop, and checks for stop every 500 ms.
 *
 * Acknowledgement (libmosquitto 2.0.11, lib/handle_publish.c): for QoS 1,
 * handle__publish() calls send__puback() BEFORE the on_message callback.
 * send__puback() only queues the packet: packet__queue() (lib/packet_mosq.c)
 * writes it to the socket at once only when `mosq->threaded ==
 * mosq_ts_none && !in_callback`.  With mosquitto_threaded_set(true) (done
 * here) the queued PUBACK is written by the network thread's write phase,
 * after handle__publish() - and so on_message - has returned.  Upstream
 * issue eclipse/mosquitto#2884 tracks moving the call itself.  So: never
 * drop mosquitto_threaded_set, never call mosquitto_loop* from another
 * thread, and the PUBACKs queued by one burst of reads are written only
 * after that burst's samples are in the journal (loop_once: read every
 * packet the socket has, journal them in one record, then write); a crash
 * before that leaves the messages unacknowledged and the broker delivers
 * them again.  So does a connection lost after a burst is journaled and
 * before the broker has read its PUBACKs (broker restart, network): MQTT's
 * at-least-once, which no client can close; a disconnect of our own does
 * not lose them (conn_end_after_pubacks).  Our own poll() loop over
 * mosquitto_loop_read/_write/_misc replaces mosquitto_loop(), which reads
 * one packet per select() and so cost a select and a journal write per
 * message.  QoS 2 is refused by the configuration: there libmosquitto sends
 * PUBREC before the application sees the message. */
#include "mqtt.h"
#include "mqtt_int.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../daemon/pipeline.h"
#include "../daemon/util.h"
#include "../codec/lineproto.h"
#include "../outputs/output.h"
#include "../codec/payload.h"
#include "../codec/topic.h"

static void watch_report(struct mqtt_client *c, const struct msub *s, const char *topic, const struct decode *d,
			 const char *p, size_t n);
/* --- the read burst's batch (loop thread) ------------------------------------ */

static void batch_add(struct mqtt_client *c, const struct cc_sample *smp, size_t n, int qos)
{
	size_t lines0 = c->batch.lines;

	/* every sample's channel is one of ours (mqtt_decode.c's chan_intern) */
	for (size_t i = 0; i < n; i++) {
		char series[CHAN_SERIES_MAX];
		size_t sn = mqtt_chan_series((const struct chan *)smp[i].ch, series);

		pipeline_encode_with_series(&c->batch, sn ? series : NULL, sn, &smp[i]);
	}
	if (c->bn + n > c->bcap) {
		c->bcap = c->bn + n > 2 * c->bcap ? c->bn + n : 2 * c->bcap;
		c->bsmp = xrealloc(c->bsmp, c->bcap * sizeof(*c->bsmp));
		c->bq0 = xrealloc(c->bq0, c->bcap);
	}
	memcpy(c->bsmp + c->bn, smp, n * sizeof(*smp));
	memset(c->bq0 + c->bn, qos == 0, n);
	c->bn += n;
	c->bmsgs++;
	if (qos)
		c->bq1msgs++;
	else
		c->bq0lines += c->batch.lines - lines0;
}

static void batch_reset(struct mqtt_client *c)
{
	lp_buf_reset(&c->batch);
	c->bn = c->bmsgs = c->bq1msgs = c->bq0lines = 0;
}

/* The burst will not be journaled: what came at QoS 0 is lost (counted; the
 * engine still sees it), what came at QoS 1 the broker sends again. */
static void batch_give_up(struct mqtt_client *c, const char *why)
{
	size_t n = 0;

	for (size_t i = 0; i < c->bn; i++)
		if (c->bq0[i])
			c->bsmp[n++] = c->bsmp[i];
	if (n || c->bq0lines)
		pipeline_submit_unjournaled(c->bsmp, n, c->bq0lines, why);
	batch_reset(c);
}

/*
 * Journals the burst: must run before any PUBACK of it is written.  0, or
 * -errno when the journal could not take a burst holding QoS 1 messages:
 * their PUBACKs must then never be written.  A persistent session drops
 * them with the connection (the broker sends the messages again; the burst
 * is given up); a clean session would lose them that way, so the burst is
 * held, unread, until the journal takes it (hold_retry).  A burst of
 * QoS 0 messages only, or one with no journal to wait for, is submitted
 * and counted as before (pipeline_submit_encoded).
 */
static int batch_flush(struct mqtt_client *c)
{
	int r = 0;

	if (c->bn && c->bq1msgs) {
		r = pipeline_try_submit_encoded(&c->batch, c->bsmp, c->bn);
		if (r < 0) {
			pthread_mutex_lock(&c->lock);
			c->withheld += c->bq1msgs;
			pthread_mutex_unlock(&c->lock);
			if (c->conf->clean_session) {
				c->held = 1;
				return r;
			}
			batch_give_up(c, "journal append failed (QoS 0 messages of a withheld burst)");
			return r;
		}
	} else if (c->bn) {
		pipeline_submit_encoded(&c->batch, c->bsmp, c->bn);
	}
	batch_reset(c);
	return r;
}

static int batch_full(const struct mqtt_client *c)
{
	return c->bmsgs >= BATCH_MSGS || c->batch.len >= BATCH_BYTES;
}

/* One message of subscription s; its samples join the burst's batch, which
 * is journaled before the PUBACK is written (see the top). */
static void handle(struct mqtt_client *c, struct msub *s, const char *topic, const char *vals[TOPIC_CAP_N],
		   const size_t lens[TOPIC_CAP_N], const struct cc_channel **slot, const char *p, size_t n, int qos)
{
	struct decode d;

	mqtt_decode_msg(&d, c, s, topic, vals, lens, slot, p, &n);
	if (c->watch)
		watch_report(c, s, topic, &d, p, n);
	else if (d.n)
		batch_add(c, d.smp, d.n, qos);
	s->pending = 1;
	s->pend.received++;
	if (d.n)
		s->pend.accepted++;
	else
		s->pend.rejected++;
	s->pend.samples += d.n;
	s->pend.out_of_range += d.noor;
	if (d.problems)
		for (int r = 0; r < R_N; r++)
			s->pend.why[r] += d.why_count[r];
	/* a json message without some optional fields is normal: say nothing
	 * when only missing fields are the matter and something was read */
	if (d.problems && !(d.n && d.problems == (int)d.why_count[R_MISSING]) && !c->watch)
		mqtt_decode_log_refusal(&d, p, n);
	mqtt_decode_free(&d);
}

/* --- libmosquitto callbacks (network thread) ------------------------------ */

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct mqtt_client *c = obj;
	const char *vals[TOPIC_CAP_N];
	size_t lens[TOPIC_CAP_N];
	size_t tlen = strlen(msg->topic);
	const char *p = msg->payload ? msg->payload : "";
	size_t n = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	struct tcache *e;

	(void)mosq;
	(void)props;
	c->nread++;
	c->pend_messages++;
	e = mqtt_cache_find(c, msg->topic, tlen, vals, lens);
	if (e) {
		handle(c, &c->subs[e->sub], msg->topic, vals, lens, e->slot, p, n, msg->qos);
		return;
	}
	for (size_t i = 0; i < c->nsubs; i++)
		if (topic_match(&c->subs[i].pat, msg->topic, tlen, vals, lens)) {
			e = mqtt_cache_add(c, &c->subs[i], msg->topic, tlen, vals, lens);
			handle(c, &c->subs[i], msg->topic, vals, lens, e ? e->slot : NULL, p, n, msg->qos);
			return;
		}
	c->pend_unmatched++;
	if (c->watch) {
		watch_report(c, NULL, msg->topic, NULL, msg->payload, msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
		return;
	}
	{
		char tp[EXCERPT_IN * 4 + 8];
		uint32_t more;
		if (log_rl_allow(&c->rl_unmatched, LOG_RL_MS, &more)) {
			payload_excerpt(msg->topic, tlen, 2 * EXCERPT_IN, tp, sizeof(tp));
			log_warn("mqtt broker %s: message on topic %s matches no subscription: ignored (%u more)",
				 c->broker, tp, more);
		}
	}
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct mqtt_client *c = obj;
	uint64_t n;

	(void)props;
	if (rc != 0) {
		const char *why = c->conf->protocol == CC_MQTT_V5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc);
		if (strcmp(c->last_err, why) != 0) {
			log_err("mqtt broker %s: connection refused: %s", c->broker, why);
			snprintf(c->last_err, sizeof(c->last_err), "%s", why);
		}
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->connected = 1;
	n = ++c->connects;
	/* the alert publisher waits for this: without the wake-up it slept out
	 * its whole timeout and then published (the first event 10 s late) */
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	c->backoff_ms = 1000;
	c->last_err[0] = '\0';
	/* libmosquitto formats a debug line for every packet when a log
	 * callback is set, whatever its level (a vsnprintf per message):
	 * connected, its errors reach us as return codes and on_disconnect */
	mosquitto_log_callback_set(mosq, NULL);
	log_info("mqtt broker %s: connected as %s (MQTT %s, session %s)%s", c->broker, c->conf->client_id,
		 c->conf->protocol == CC_MQTT_V5 ? "5" : "3.1.1",
		 (flags & 1) ? "resumed" : "new", n > 1 ? ", resubscribing" : "");
	if (c->watch_filter) { /* watching: only what the technician asked for, QoS 0, read-only */
		int e = mosquitto_subscribe(mosq, NULL, c->watch_filter, 0);
		if (e != MOSQ_ERR_SUCCESS)
			log_err("mqtt broker %s: cannot subscribe to %s: %s", c->broker, c->watch_filter,
				mosquitto_strerror(e));
		return;
	}
	/* Always (re)subscribe: a resumed session keeps them, a new one does not,
	 * and subscribing again is harmless.  A test client leaves the shared
	 * group alone: joining it would take messages from the running daemon. */
	for (size_t i = 0; i < c->nsubs; i++) {
		const char *f = c->test_conf ? c->subs[i].pat.match : c->subs[i].pat.filter;
		int e = mosquitto_subscribe(mosq, NULL, f, c->test_conf ? 0 : c->subs[i].conf->qos);
		if (e != MOSQ_ERR_SUCCESS)
			log_err("mqtt broker %s: cannot subscribe to %s: %s", c->broker, f, mosquitto_strerror(e));
	}
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
			 const mosquitto_property *props)
{
	struct mqtt_client *c = obj;

	(void)mosq;
	(void)mid;
	(void)props;
	/* one subscription per SUBSCRIBE, in order; a refusal is >= 0x80 */
	for (int i = 0; i < n; i++)
		if (granted[i] >= 0x80)
			log_err("mqtt broker %s: a subscription was refused by the broker (reason %d: %s)", c->broker,
				granted[i], mosquitto_reason_string(granted[i]));
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	struct mqtt_client *c = obj;
	int was;

	(void)mosq;
	(void)props;
	pthread_mutex_lock(&c->lock);
	was = c->connected;
	c->connected = 0;
	pthread_mutex_unlock(&c->lock);
	if (was && rc != 0)
		log_warn("mqtt broker %s: connection lost (%s); reconnecting", c->broker, mosquitto_strerror(rc));
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	struct mqtt_client *c = obj;
	uint32_t more;

	(void)mosq;
	/* OpenSSL's reasons (certificate verify failed, ...) come this way */
	if ((level & MOSQ_LOG_ERR) && log_rl_allow(&c->rl_lib, 10000, &more))
		log_warn("mqtt broker %s: %s", c->broker, str);
}

/* --- the network thread ---------------------------------------------------- */

static int stopping(struct mqtt_client *c)
{
	int s;
	pthread_mutex_lock(&c->lock);
	s = c->stop;
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* Sleeps ms unless stop is requested.  Returns stop. */
static int nap(struct mqtt_client *c, int64_t ms)
{
	struct timespec ts;
	int s;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->lock);
	while (!c->stop)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	s = c->stop;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void backoff(struct mqtt_client *c)
{
	nap(c, c->backoff_ms);
	c->backoff_ms *= 2;
	if (c->backoff_ms > c->conf->reconnect_max_ms)
		c->backoff_ms = c->conf->reconnect_max_ms;
}

const char *mqtt_err_text(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* MQTT 5 Maximum Packet Size for CONNECT: libmosquitto 2.0.11's client
 * (lib/packet_mosq.c, packet__read) has no limit of its own: it allocates
 * whatever length a PUBLISH announces, up to 256 MiB, before on_message can
 * refuse it; a broker told this limit discards larger messages instead
 * (MQTT 5 3.1.2.11.4).  Room is left above the largest max_payload for the
 * topic and properties, so a message just over max_payload still arrives
 * and is counted as too_large. */
#define MQTT_PACKET_SLACK (65536 + 4096)
#define MQTT_PACKET_MAX 268435460u /* the protocol's own limit */

static uint32_t max_packet(const struct cc_mqtt_conf *m)
{
	uint64_t most = 0;

	for (size_t i = 0; i < m->nsubs; i++)
		if ((uint64_t)m->subs[i].max_payload > most)
			most = (uint64_t)m->subs[i].max_payload;
	most += MQTT_PACKET_SLACK;
	return most > MQTT_PACKET_MAX ? MQTT_PACKET_MAX : (uint32_t)most;
}

static int connect_first(struct mqtt_client *c)
{
	const struct cc_mqtt_conf *m = c->conf;
	mosquitto_property *props = NULL;
	int keepalive = (int)(m->keepalive_ms / 1000), rc;

	if (m->protocol == CC_MQTT_V5 && !m->clean_session) {
		int64_t s = m->session_expiry_ms / 1000;
		mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					     (uint32_t)(s > UINT32_MAX ? UINT32_MAX : s));
	}
	/* a watch gets the same limit: it shows what the daemon would see;
	 * the alert publisher subscribes to nothing */
	if (m->protocol == CC_MQTT_V5 && m->nsubs)
		mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, max_packet(m));
	rc = mosquitto_connect_bind_v5(c->mosq, m->host, m->port, keepalive, NULL, props);
	mosquitto_property_free_all(&props);
	return rc;
}

static void wake_drain(struct mqtt_client *c)
{
	char buf[64];

	while (read(c->wake[0], buf, sizeof(buf)) > 0)
		;
}

/* Wakes the network thread to write what another thread queued. */
void mqtt_wake(struct mqtt_client *c)
{
	ssize_t r = write(c->wake[1], "", 1); /* full pipe: a wake-up is pending anyway */

	(void)r;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* About to read again: how long since the last burst was read (journal,
 * engine, PUBACKs and keepalive in between).  A broker with a small
 * per-client queue drops QoS 1 messages for a client that stops reading. */
static void stall_note(struct mqtt_client *c)
{
	uint64_t d;

	if (!c->read_end_us)
		return;
	d = (uint64_t)(mono_us() - c->read_end_us);
	if (d > atomic_load_explicit(&c->stall_max_us, memory_order_relaxed))
		atomic_store_explicit(&c->stall_max_us, d, memory_order_relaxed);
	c->read_end_us = 0;
}

/* A clean session's held burst is offered to the journal again; 1 once it
 * took it (the PUBACKs may then go out). */
static int hold_retry(struct mqtt_client *c)
{
	if (pipeline_try_submit_encoded(&c->batch, c->bsmp, c->bn) < 0)
		return 0;
	batch_reset(c);
	c->held = 0;
	log_info("mqtt broker %s: the journal took the held messages: acknowledging and reading again", c->broker);
	return 1;
}

/* Withholding (persistent session): reconnect, and so get the messages
 * again, as soon as another append shows the journal writes again, or after
 * withhold_ms at the latest (1 s doubling up to reconnect_max): the burst
 * the broker sends again is then the probe. */
static void wait_writable(struct mqtt_client *c)
{
	int64_t until = time_mono_ms() + c->withhold_ms;

	while (!pipeline_journal_writable() && time_mono_ms() < until)
		if (nap(c, 200))
			return;
	c->withhold_ms *= 2;
	if (c->withhold_ms > c->conf->reconnect_max_ms)
		c->withhold_ms = c->conf->reconnect_max_ms;
}

/* How long a withholding disconnect waits for the broker to close its side. */
#define END_WAIT_MS 5000

/*
 * Withholding (persistent session): ends the connection so that the broker
 * reads every PUBACK already written (messages the journal took) and none
 * of those queued for the refused burst (never written: mosquitto_reconnect
 * drops them).  Only our sending side is shut, so a FIN follows the written
 * PUBACKs.  shutdown(SHUT_RDWR) did not do: Linux answers data arriving on
 * a socket shut for reading with a reset (RFC 1122 4.2.2.13; nstat's
 * TcpExtTCPAbortOnData), the broker, still sending the session's messages,
 * then fails a write (mosquitto 2.0.11 logs "disconnected: Broken pipe")
 * and drops the connection without reading the PUBACKs still in its socket:
 * messages already journaled came again and were journaled twice.  So what
 * the broker sends meanwhile is read and thrown away (never acknowledged:
 * it comes again) until it closes its side, having read up to our FIN, or
 * END_WAIT_MS passed.  The socket is closed by mosquitto_reconnect.
 */
static void conn_end_after_pubacks(struct mqtt_client *c)
{
	int sock = mosquitto_socket(c->mosq);
	int64_t until = time_mono_ms() + END_WAIT_MS, left;
	char buf[4096];

	if (shutdown(sock, SHUT_WR) < 0)
		return;
	while ((left = until - time_mono_ms()) > 0 && !stopping(c)) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, left < 500 ? (int)left : 500) < 0 && errno != EINTR)
			return;
		n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
		/* 0: the broker closed its side after reading all we wrote;
		 * an error: the connection is gone */
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return;
	}
}

/*
 * How long a connected client waits for its socket when nothing comes: a
 * quarter of the keepalive (15 s at the default 60 s), so
 * mosquitto_loop_misc sends PINGREQ at most that late (the broker allows
 * 1.5x the keepalive) and notices a missing PINGRESP.  Everything else
 * that needs the thread writes to the wake pipe (stop, a publish queued by
 * another thread): an idle client wakes 4 times per keepalive, not twice a
 * second (issue 18, the small gateway's idle cost).
 */
static int idle_wait_ms(const struct mqtt_client *c)
{
	int64_t ms = c->conf->keepalive_ms / 4;

	return ms < 500 ? 500 : ms > 15000 ? 15000 : (int)ms;
}

/* The burst's counts, under the lock once per burst rather than twice per
 * message (issue 18: the lock pairs were a visible share of a message). */
static void counts_flush(struct mqtt_client *c)
{
	if (!c->pend_messages && !c->pend_unmatched)
		return;
	pthread_mutex_lock(&c->lock);
	c->messages += c->pend_messages;
	c->unmatched += c->pend_unmatched;
	for (size_t i = 0; i < c->nsubs; i++) {
		struct msub *s = &c->subs[i];

		if (!s->pending)
			continue;
		s->n.received += s->pend.received;
		s->n.accepted += s->pend.accepted;
		s->n.rejected += s->pend.rejected;
		s->n.samples += s->pend.samples;
		s->n.out_of_range += s->pend.out_of_range;
		for (int r = 0; r < R_N; r++)
			s->n.why[r] += s->pend.why[r];
		memset(&s->pend, 0, sizeof(s->pend));
		s->pending = 0;
	}
	pthread_mutex_unlock(&c->lock);
	c->pend_messages = c->pend_unmatched = 0;
}

/*
 * Interrupt moderation (issue 18, the hub).  A hub's 10,000 msg/s come
 * evenly spread, one message at a time, so each paid the whole cost of a
 * wake-up of its own: the poll and the context switch into it, an EAGAIN
 * read, a journal record, the clocks and the counters' lock - as much again
 * as the message's own reads, PUBACK and decoding.  So while the stream is
 * busy (at least MOD_RATE_MIN msg/s over the last MOD_WINDOW_US) and the
 * last burst was small, the thread waits MOD_WAIT_US after writing its
 * PUBACKs before polling again, and the next burst brings what came
 * meanwhile.  An idle or slow stream is never delayed (the rate window
 * says so once a window has passed without the traffic); a busy one delays
 * a sample - and the alarm it raises - by at most MOD_WAIT_US.  Nothing is
 * acknowledged sooner or later than its journal record: the wait is
 * between turns, after a burst's PUBACKs went out.
 */
#define MOD_WAIT_US 250
#define MOD_WINDOW_US 100000
#define MOD_RATE_MIN 2000 /* msg/s: 250 µs then gathers half a message on average */
#define MOD_BURST_SMALL 2

static void mqtt_moderate(struct mqtt_client *c)
{
	int64_t now = c->read_end_us, span;

	if (!now || !c->burst)
		return; /* nothing was read this turn: the poll timed out or was woken */
	span = now - c->mod_win_us;
	if (span >= MOD_WINDOW_US) {
		/* a window that ran long (a pause) is judged as idle */
		c->mod_busy = span < 2 * MOD_WINDOW_US &&
			      (c->nread - c->mod_win_n) * 1000000 >= (uint64_t)MOD_RATE_MIN * (uint64_t)span;
		c->mod_win_us = now;
		c->mod_win_n = c->nread;
	}
	if (c->mod_busy && c->burst <= MOD_BURST_SMALL && !c->more) {
		struct timespec ts = { 0, MOD_WAIT_US * 1000 };

		atomic_fetch_add_explicit(&c->moderated, 1, memory_order_relaxed);
		nanosleep(&ts, NULL);
		c->mod_waited = 1;
	}
	c->burst = 0;
}

/* Reads every packet the socket has (a burst), until it is drained, the
 * connection breaks or the batch is full (c->more: read again at once). */
static int read_burst(struct mqtt_client *c)
{
	int rc;
	uint64_t n0 = c->nread;

	c->more = 0;
	do {
		uint64_t n1 = c->nread;
		errno = 0;
		rc = mosquitto_loop_read(c->mosq, 1);
		/* EAGAIN ends the burst only when no message came: at QoS 1
		 * every message's PUBACK sets it too (libmosquitto's
		 * packet__queue writes a wake-up byte to its own socket pair,
		 * full as our loop never reads it), which ended each burst
		 * after one message: a journal write and a poll per message */
		if (c->nread != n1 && errno == EAGAIN)
			errno = 0;
	} while (rc == MOSQ_ERR_SUCCESS && errno != EAGAIN && errno != EWOULDBLOCK &&
		 mosquitto_socket(c->mosq) >= 0 && !(c->more = batch_full(c)));
	c->read_end_us = mono_us();
	c->burst = c->nread - n0;
	atomic_fetch_add_explicit(&c->read_wakes, 1, memory_order_relaxed);
	counts_flush(c);
	return rc;
}

/*
 * A burst's PUBACKs in one TCP segment: libmosquitto writes each queued
 * packet with a write() of its own, and on a hub (issue 18) each of those
 * went out as a segment of its own - the kernel's transmit path, the
 * broker's receive and its wake-up, per message: the writes were 30 % of
 * the MQTT thread's CPU.  Corked, the writes only fill the socket buffer
 * and uncorking sends them together, at once (no Nagle-like delay: the
 * uncork pushes).  1 when corked; a socket that refuses (not TCP) is left
 * alone from then on.
 */
static int cork(struct mqtt_client *c, int on)
{
	int sock = mosquitto_socket(c->mosq);

	if (sock < 0 || c->no_cork)
		return 0;
	if (setsockopt(sock, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) < 0) {
		c->no_cork = 1;
		return 0;
	}
	return 1;
}

/*
 * The turn's wait for the socket (p[0]) or the wake pipe (p[1]): 0, or -1
 * with errno.  Right after the moderation's wait the stream is busy and
 * the poll would say readable, while a read finding nothing costs what the
 * poll does: the socket is then taken as readable without a poll (issue 18,
 * a poll per moderated turn saved).  The wake pipe needs no poll then: stop
 * is checked every turn and packets other threads queued are written every
 * turn.  A burst cut short by a full batch may have left data in TLS's own
 * buffer, which poll() cannot see: the poll then does not wait.
 */
static int turn_poll(struct mqtt_client *c, struct pollfd p[2])
{
	int skip = c->mod_waited && !(p[0].events & POLLOUT);

	c->mod_waited = 0;
	if (skip) {
		p[0].revents = POLLIN;
		p[1].revents = 0;
		return 0;
	}
	return poll(p, 2, c->more && !(p[0].events & POLLOUT) ? 0 : idle_wait_ms(c)) < 0 ? -1 : 0;
}

/*
 * One turn of the connected client: wait up to idle_wait_ms for the socket
 * (or a wake-up), read every packet it has (a burst: on_message runs for each,
 * their samples gather in c->batch and QoS 1 PUBACKs are queued), journal
 * the burst, then write the queued packets, then keepalive.  libmosquitto
 * reports "no more data" only through errno (EAGAIN after a packet__read
 * that found nothing), so errno is cleared before each read.
 *
 * When the journal cannot take a burst with QoS 1 messages (disk full),
 * their queued PUBACKs are never written.  Persistent session: the
 * connection is ended under libmosquitto once the broker has read the
 * PUBACKs already written (conn_end_after_pubacks; mosquitto_reconnect()
 * drops the packets still queued before it connects again), the broker
 * keeps the messages and sends them again; each is journaled once, when
 * the journal takes it.  Clean session: the broker would forget them, so
 * the burst is held and the socket left alone until the journal takes it.
 */
static int loop_once(struct mqtt_client *c)
{
	int sock = mosquitto_socket(c->mosq), rc = MOSQ_ERR_SUCCESS;
	struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = c->wake[0], .events = POLLIN } };
	size_t q1;

	if (sock < 0)
		return MOSQ_ERR_NO_CONN;
	if (c->held) {
		if (!hold_retry(c)) {
			nap(c, 200);
			return MOSQ_ERR_SUCCESS;
		}
		goto write;
	}
	stall_note(c);
	if (mosquitto_want_write(c->mosq))
		p[0].events |= POLLOUT;
	if (turn_poll(c, p) < 0)
		return errno == EINTR ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ERRNO;
	if (p[1].revents)
		wake_drain(c);
	/* A burst is read only once every PUBACK queued before it is on the
	 * wire (normally the previous turn wrote them all): a burst the journal
	 * refuses then takes only its own PUBACKs down with the connection, and
	 * no message already journaled is sent again. */
	if ((p[0].revents & POLLOUT) && mosquitto_want_write(c->mosq)) {
		rc = mosquitto_loop_write(c->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			return rc;
	}
	if ((c->more || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) &&
	    (!mosquitto_want_write(c->mosq) || (p[0].revents & (POLLHUP | POLLERR)))) {
		rc = read_burst(c);
	}
	/* what was read is journaled even when the connection just broke
	 * (QoS 0 messages would otherwise be lost) */
	q1 = c->bq1msgs;
	if (batch_flush(c) < 0) {
		if (!c->withholding)
			log_warn("mqtt broker %s: the journal cannot take %zu QoS 1 messages (see its own message): "
				 "not acknowledging them; %s", c->broker, q1,
				 c->conf->clean_session
					 ? "holding them and reading nothing more until the journal takes them"
					 : "disconnecting (the broker keeps them in the session) until the journal writes again");
		c->more = 0;
		if (c->held)
			return MOSQ_ERR_SUCCESS;
		c->withholding = 1;
		if (mosquitto_socket(c->mosq) >= 0)
			conn_end_after_pubacks(c);
		return MOSQ_ERR_CONN_LOST;
	}
	if (c->withholding && q1) {
		c->withholding = 0;
		c->withhold_ms = 1000;
		log_info("mqtt broker %s: the journal takes messages again: acknowledging again", c->broker);
	}
	if (rc != MOSQ_ERR_SUCCESS)
		return rc;
write:
	if (mosquitto_socket(c->mosq) < 0)
		return MOSQ_ERR_CONN_LOST;
	if (mosquitto_want_write(c->mosq)) {
		int k = c->burst >= 2 && cork(c, 1);

		rc = mosquitto_loop_write(c->mosq, 1);
		if (k)
			cork(c, 0);
		if (rc != MOSQ_ERR_SUCCESS)
			return rc;
	}
	return mosquitto_loop_misc(c->mosq);
}

static void *loop_main(void *arg)
{
	struct mqtt_client *c = arg;
	int first = 1, old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	c->backoff_ms = 1000;
	c->withhold_ms = 1000;
	while (!stopping(c)) {
		int rc;

		if (!c->sock_up) {
			/* for the connect's TLS and socket errors; on_connect unsets it */
			mosquitto_log_callback_set(c->mosq, on_log);
			/* a blocking TCP connect: the only place stop may cancel us */
			pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
			rc = first ? connect_first(c) : mosquitto_reconnect(c->mosq);
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
			first = 0;
			if (rc != MOSQ_ERR_SUCCESS) {
				const char *why = mqtt_err_text(rc);
				if (strcmp(c->last_err, why) != 0) {
					log_warn("mqtt broker %s: cannot connect: %s; retrying (backoff up to %lld s)",
						 c->broker, why, (long long)(c->conf->reconnect_max_ms / 1000));
					snprintf(c->last_err, sizeof(c->last_err), "%s", why);
				}
				backoff(c);
				continue;
			}
			c->sock_up = 1;
			c->no_cork = 0;
		}
		rc = loop_once(c);
		if (rc == MOSQ_ERR_SUCCESS)
			mqtt_moderate(c);
		if (rc != MOSQ_ERR_SUCCESS) {
			int was;
			pthread_mutex_lock(&c->lock);
			was = c->connected;
			c->connected = 0;
			pthread_mutex_unlock(&c->lock);
			if (was && !c->withholding)
				log_warn("mqtt broker %s: connection lost (%s); reconnecting", c->broker, mqtt_err_text(rc));
			c->sock_up = 0;
			c->mod_waited = 0;
			c->read_end_us = 0;
			if (c->withholding)
				wait_writable(c);
			else
				backoff(c);
		}
	}
	if (c->held) { /* stopped before the journal took them: never acknowledged */
		pipeline_submit_unjournaled(c->bsmp, c->bn, c->batch.lines, "stopped while the journal could not take them");
		batch_reset(c);
		c->held = 0;
	} else if (c->sock_up) {
		/* queued PUBACKs go out before the DISCONNECT (one queue, in order) */
		mosquitto_disconnect(c->mosq);
		for (int i = 0; i < 20 && mosquitto_loop(c->mosq, 100, 1) == MOSQ_ERR_SUCCESS; i++)
			;
	}
	return NULL;
}

/* --- start, stop, stats ------------------------------------------------------- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void)
{
	mosquitto_lib_init();
}

static void client_free(struct mqtt_client *c)
{
	if (c->mosq)
		mosquitto_destroy(c->mosq);
	for (size_t i = 0; i < c->nsubs; i++)
		topic_free(&c->subs[i].pat);
	free(c->subs);
	mqtt_cache_free(c);
	mqtt_decode_chans_free(c);
	lp_buf_free(&c->batch);
	free(c->bsmp);
	free(c->bq0);
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c->test_conf);
	free(c);
}

/* The mosquitto client of c: its protocol, callbacks, credentials and
 * TLS.  0 or -errno (-EINVAL: the library refused a setting); logged. */
static int client_setup_mosq(struct mqtt_client *c)
{
	const struct cc_mqtt_conf *m = c->conf;
	int rc;

	c->mosq = mosquitto_new(m->client_id, m->clean_session ? true : false, c);
	if (!c->mosq) {
		int e = errno ? errno : ENOMEM;
		log_err("mqtt broker %s: cannot create the client: %s", c->broker, strerror(e));
		return -e;
	}
	/* the PUBACK ordering depends on this: see the top of the file */
	mosquitto_threaded_set(c->mosq, true);
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     m->protocol == CC_MQTT_V5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	/* MQTT 5 Receive Maximum: how many QoS 1/2 messages the broker may send
	 * before our PUBACKs (libmosquitto's default 20).  We acknowledge a
	 * burst after its journal record, so 20 capped the stream at 20 per
	 * turn and queued the rest in the broker - an alarm's reading behind
	 * them (issue 18).  One journal record's worth is in flight at most. */
	mosquitto_int_option(c->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, BATCH_MSGS);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_log_callback_set(c->mosq, on_log);
	if (m->username && (rc = mosquitto_username_pw_set(c->mosq, m->username, m->password)) != MOSQ_ERR_SUCCESS) {
		log_err("mqtt broker %s: credentials: %s", c->broker, mosquitto_strerror(rc));
		return -EINVAL;
	}
	if (m->tls) {
		const char *dir = m->ca_dir ? m->ca_dir : (!m->ca_file ? "/etc/ssl/certs" : NULL);
		rc = mosquitto_tls_set(c->mosq, m->ca_file, dir, m->cert, m->key, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			log_err("mqtt broker %s: TLS setup (ca_file, ca_dir, cert, key): %s", c->broker,
				mqtt_err_text(rc));
			return -EINVAL;
		}
		if (m->insecure) {
			mosquitto_tls_opts_set(c->mosq, 0 /* SSL_VERIFY_NONE */, NULL, NULL);
			mosquitto_tls_insecure_set(c->mosq, true);
			log_warn("mqtt broker %s: INSECURE: TLS certificate and host name verification are OFF "
				 "(insecure = true): anyone on the path can impersonate the broker", c->broker);
		}
	}
	return 0;
}


static struct mqtt_client *start(const struct cc_mqtt_conf *m, const char *site, const char *watch_filter,
				 mqtt_watch_fn watch, void *watch_arg, int test)
{
	struct mqtt_client *c = xcalloc(1, sizeof(*c));
	pthread_condattr_t ca;
	int rc, e = EINVAL;

	pthread_once(&lib_once, lib_init);
	if (test) {
		c->test_conf = xmalloc(sizeof(*c->test_conf));
		*c->test_conf = *m;
		snprintf(c->test_id, sizeof(c->test_id), "coldchaind-test-%ld", (long)getpid());
		c->test_conf->client_id = c->test_id;
		c->test_conf->clean_session = 1;
		c->test_conf->session_expiry_ms = 0;
		m = c->test_conf;
	}
	c->watch_filter = watch_filter;
	c->watch = watch;
	c->watch_arg = watch_arg;
	c->conf = m;
	c->site = site;
	lp_buf_init(&c->batch);
	snprintf(c->broker, sizeof(c->broker), "%s:%d", m->host, m->port);
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		e = errno;
		c->wake[0] = c->wake[1] = -1;
		log_err("mqtt: cannot create a pipe: %s", strerror(e));
		goto fail;
	}
	c->subs = xcalloc(m->nsubs + 1, sizeof(*c->subs));
	for (size_t i = 0; i < m->nsubs; i++) {
		const char *err;
		c->subs[i].conf = &m->subs[i];
		if (topic_parse(m->subs[i].topic, &c->subs[i].pat, &err) < 0) {
			log_err("mqtt subscription %s: %s", m->subs[i].topic, err); /* the loader checked it */
			goto fail;
		}
		c->nsubs++;
	}
	rc = client_setup_mosq(c);
	if (rc < 0) {
		e = -rc;
		goto fail;
	}
	rc = pthread_create(&c->thr, NULL, loop_main, c);
	if (rc != 0) { /* pthread_create returns its error; errno is not set */
		e = rc;
		goto fail;
	}
	pthread_setname_np(c->thr, c->nsubs ? "mqtt" : "mqtt:alerts"); /* top -H, bench_idle.sh */
	log_info("mqtt broker %s: %zu %s, client id %s, %s%s", c->broker, c->nsubs,
		 plural(c->nsubs, "subscription", "subscriptions"), m->client_id,
		 m->clean_session ? "clean session" : "persistent session", m->tls ? ", TLS" : "");
	return c;
fail:
	client_free(c);
	errno = e;
	return NULL;
}

struct mqtt_client *mqtt_start(const struct cc_mqtt_conf *m, const char *site)
{
	return start(m, site, NULL, NULL, NULL, 0);
}

struct mqtt_client *mqtt_test_start(const struct cc_mqtt_conf *conf, const char *site)
{
	return start(conf, site, NULL, NULL, NULL, 1);
}

void mqtt_stop(struct mqtt_client *c)
{
	struct timespec ts;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	mqtt_wake(c);
	/* The thread notices at once (the wake pipe), unless it is stuck in a TCP
	 * connect to an unreachable host: that, and only that, is cancelled. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (pthread_timedjoin_np(c->thr, NULL, &ts) != 0) {
		log_warn("mqtt broker %s: connect still pending at stop: abandoned", c->broker);
		pthread_cancel(c->thr);
		pthread_join(c->thr, NULL);
	}
	client_free(c);
	/* the channels and topic cache (~20 MB at a hub) were the loop
	 * thread's arena: back to the system now, before a reload saves the
	 * engine's state in the main one (the reload's peak, issue 18) */
	malloc_trim(0);
}

int mqtt_connected(struct mqtt_client *c)
{
	int v;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	v = c->connected;
	pthread_mutex_unlock(&c->lock);
	return v;
}

void mqtt_emit_stats(struct mqtt_client *c, struct lp_buf *b, const char *site, int64_t ts)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	{
		struct lp_tag tags[] = { { "broker", c->broker }, { "site", site } };
		struct lp_field f[] = {
			{ .key = "connected", .type = LP_BOOL, .v.b = c->connected },
			{ .key = "reconnects", .type = LP_INT, .v.i = (int64_t)(c->connects ? c->connects - 1 : 0) },
			{ .key = "messages", .type = LP_INT, .v.i = (int64_t)c->messages },
			{ .key = "unmatched", .type = LP_INT, .v.i = (int64_t)c->unmatched },
			{ .key = "withheld", .type = LP_INT, .v.i = (int64_t)c->withheld },
			{ .key = "max_stall_ms", .type = LP_FLOAT,
			  .v.f = (double)atomic_exchange(&c->stall_max_us, 0) / 1000.0 },
			{ .key = "read_wakes", .type = LP_INT, .v.i = (int64_t)atomic_load(&c->read_wakes) },
			{ .key = "moderated", .type = LP_INT, .v.i = (int64_t)atomic_load(&c->moderated) },
		};
		lp_encode(b, "coldchaind_mqtt", tags, ARRAY_SIZE(tags), f, ARRAY_SIZE(f), ts);
	}
	for (size_t i = 0; i < c->nsubs; i++) {
		const struct msub *s = &c->subs[i];
		struct lp_tag tags[] = { { "broker", c->broker }, { "site", site }, { "subscription", s->conf->topic } };
		struct lp_field f[5 + R_N];
		size_t nf = 0;

		f[nf++] = (struct lp_field){ .key = "received", .type = LP_INT, .v.i = (int64_t)s->n.received };
		f[nf++] = (struct lp_field){ .key = "accepted", .type = LP_INT, .v.i = (int64_t)s->n.accepted };
		f[nf++] = (struct lp_field){ .key = "rejected", .type = LP_INT, .v.i = (int64_t)s->n.rejected };
		f[nf++] = (struct lp_field){ .key = "samples", .type = LP_INT, .v.i = (int64_t)s->n.samples };
		f[nf++] = (struct lp_field){ .key = "out_of_range", .type = LP_INT, .v.i = (int64_t)s->n.out_of_range };
		for (int r = 0; r < R_N; r++)
			f[nf++] = (struct lp_field){ .key = mqtt_reason_names[r], .type = LP_INT, .v.i = (int64_t)s->n.why[r] };
		lp_encode(b, "coldchaind_mqtt", tags, ARRAY_SIZE(tags), f, nf, ts);
	}
	pthread_mutex_unlock(&c->lock);
}


/* --- coldchainctl mqtt watch --------------------------------------------------- */

static void watch_report(struct mqtt_client *c, const struct msub *s, const char *topic, const struct decode *d,
			 const char *p, size_t n)
{
	struct mqtt_watch_msg w;

	memset(&w, 0, sizeof(w));
	w.topic = topic;
	w.payload = p;
	w.len = n;
	if (s) {
		w.subscription = s->conf->topic;
		w.samples = d->smp;
		w.nsamples = d->n;
		w.problems = d->problems;
		w.reason = d->problems ? mqtt_reason_names[d->first] : NULL;
		w.why = d->problems ? d->why : NULL;
	}
	c->watch(&w, c->watch_arg);
}

struct watch_state {
	mqtt_watch_fn fn;
	void *arg;
	long count, seen;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void watch_count(const struct mqtt_watch_msg *m, void *arg)
{
	struct watch_state *ws = arg;

	ws->fn(m, ws->arg); /* the network thread: the only caller */
	pthread_mutex_lock(&ws->lock);
	ws->seen++;
	pthread_cond_broadcast(&ws->cond);
	pthread_mutex_unlock(&ws->lock);
}

int mqtt_watch(const struct cc_mqtt_conf *m, const char *site, const char *filter, long count, int64_t connect_ms,
	       mqtt_watch_fn fn, void *arg)
{
	struct cc_mqtt_conf w = *m;
	struct watch_state ws = { .fn = fn, .arg = arg, .count = count };
	struct mqtt_client *c;
	char id[64];
	int64_t deadline = time_mono_ms() + connect_ms;
	int rc = 0, connected = 0;

	/* its own id and a clean session: the daemon's session is untouched */
	snprintf(id, sizeof(id), "coldchainctl-watch-%ld", (long)getpid());
	w.client_id = id;
	w.clean_session = 1;
	w.session_expiry_ms = 0;
	pthread_mutex_init(&ws.lock, NULL);
	pthread_cond_init(&ws.cond, NULL);
	c = start(&w, site, filter, watch_count, &ws, 0);
	if (!c) {
		rc = -(errno ? errno : EINVAL);
		goto out;
	}
	pthread_mutex_lock(&ws.lock);
	while (count <= 0 || ws.seen < count) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ws.cond, &ws.lock, &ts);
		if (!connected) {
			pthread_mutex_lock(&c->lock);
			connected = c->connects > 0;
			pthread_mutex_unlock(&c->lock);
			if (!connected && time_mono_ms() > deadline) {
				rc = -EHOSTUNREACH;
				break;
			}
		}
	}
	pthread_mutex_unlock(&ws.lock);
	mqtt_stop(c);
out:
	pthread_mutex_destroy(&ws.lock);
	pthread_cond_destroy(&ws.cond);
	return rc;
}
