/* mqtt.c - the MQTT input driver (see mqtt.h): coldchaind's own MQTT 3.1.1
 * and 5 client.  Packets are codec/mqtt_wire.c's, the byte stream (TCP,
 * TLS) drivers/mqtt_conn.c's, payloads are decoded by mqtt_decode.c, the
 * subscriptions (and the client kept across a reload) are mqtt_subs.c's,
 * the write buffer and the writes (the alert publisher's too) mqtt_out.c's;
 * the alert publisher (mqtt_alerts.c) drives a client of this file too.
 *
 * Why our own (issue 18, the hub): libmosquitto read each packet with three
 * read()s and wrote each PUBACK, and a wake-up byte, with writes of its own:
 * five system calls per message, two thirds of the MQTT thread at a hub's
 * 10,000 msg/s.  Here a turn is one read() of everything the socket has
 * (up to a journal record's worth), the packets decoded in place, their
 * samples journaled in one record, then every PUBACK of the turn in one
 * write(): tests/bench/bench_mqtt_sub_ceiling.sh measured the difference.
 *
 * Acknowledgement, the durability contract (../shared/design.md): a QoS 1
 * message's PUBACK is written only after the journal record holding its
 * samples (loop_once: read, decode, batch_flush, then the PUBACKs).  A
 * crash before that leaves the messages unacknowledged and the broker
 * delivers them again.  So does a connection lost after a burst is
 * journaled and before the broker has read its PUBACKs (broker restart,
 * network): MQTT's at-least-once, which no client can close; a disconnect
 * of our own does not lose them (conn_end_after_pubacks).  QoS 2 is refused
 * by the configuration, and a QoS 2 PUBLISH from a broker is a protocol
 * error.
 *
 * Threads: one network thread per client, ours.  It connects with capped
 * exponential backoff (1 s doubling to reconnect_max); stop, a reload's
 * pause (the thread parks, the connection kept: mqtt_subs.c) and packets
 * queued by other threads (the alert publisher's) reach it through the
 * wake pipe; the name lookup is the one place mqtt_stop may cancel it.
 * The alert publisher's PUBLISH is written by the publishing thread itself
 * when it can go out whole and in order (mqtt_out.c, mqtt_publish): the
 * wake-up it saves was a sixth of an alarm's path (issue 18 target 5).
 */
#include "mqtt.h"
#include "mqtt_int.h"
#include "mqtt_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../daemon/pipeline.h"
#include "../daemon/util.h"
#include "../codec/lineproto.h"
#include "../codec/mqtt_wire.h"
#include "../outputs/output.h"
#include "../codec/payload.h"
#include "../codec/topic.h"

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
		mqtt_watch_report(c, s, topic, &d, p, n);
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

/* --- the packets a broker sends (network thread) ------------------------------ */

/* The CONNACK: refused (-ECONNREFUSED, said once per reason), or connected
 * and subscribing. */
static int got_connack(struct mqtt_client *c, const struct mqtt_pkt *pk)
{
	uint64_t n;

	if (!c->handshake) {
		snprintf(c->last_err, sizeof(c->last_err), "a second CONNACK");
		return -EPROTO;
	}
	c->handshake = 0;
	if (pk->code != 0) {
		const char *why = mqtt_wire_connack_reason(c->version, pk->code);
		if (strcmp(c->logged_err, why) != 0) {
			log_err("mqtt broker %s: connection refused: %s", c->broker, why);
			snprintf(c->logged_err, sizeof(c->logged_err), "%s", why);
		}
		snprintf(c->last_err, sizeof(c->last_err), "%s", why);
		return -ECONNREFUSED;
	}
	if (c->version == MQTT_WIRE_V5) {
		/* MQTT 5 3.2.2.3.14: the broker's keepalive replaces ours */
		const uint8_t *v;
		size_t vl;
		if (mqtt_wire_prop_find(pk->props, pk->props_len, MQTT_PROP_SERVER_KEEP_ALIVE, &v, &vl) == 1 &&
		    (int64_t)(v[0] << 8 | v[1]) * 1000 != c->keepalive_ms) {
			c->keepalive_ms = (int64_t)(v[0] << 8 | v[1]) * 1000; /* seconds, big-endian */
			log_info("mqtt broker %s: the broker sets the keepalive to %lld s", c->broker,
				 (long long)(c->keepalive_ms / 1000));
		}
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
	c->logged_err[0] = '\0';
	log_info("mqtt broker %s: connected as %s (MQTT %s, session %s)%s", c->broker, c->conf->client_id,
		 c->version == MQTT_WIRE_V5 ? "5" : "3.1.1", pk->session_present ? "resumed" : "new",
		 n > 1 ? ", resubscribing" : "");
	mqtt_subscribe_all(c, pk->session_present);
	return 0;
}

/* The alert publisher's PUBACKs (recent ids and reasons, under the lock). */
static void got_puback(struct mqtt_client *c, const struct mqtt_pkt *pk)
{
	pthread_mutex_lock(&c->lock);
	c->acked[c->nacked % ARRAY_SIZE(c->acked)] = pk->id;
	c->acked_rc[c->nacked % ARRAY_SIZE(c->acked)] = (int)pk->code;
	c->nacked++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void log_unmatched(struct mqtt_client *c, const char *topic, size_t tlen)
{
	char tp[EXCERPT_IN * 4 + 8];
	uint32_t more;

	if (log_rl_allow(&c->rl_unmatched, LOG_RL_MS, &more)) {
		payload_excerpt(topic, tlen, 2 * EXCERPT_IN, tp, sizeof(tp));
		log_warn("mqtt broker %s: message on topic %s matches no subscription: ignored (%u more)", c->broker,
			 tp, more);
	}
}

/*
 * One PUBLISH: matched to its subscription (the topic cache first), decoded
 * into the burst's batch; a QoS 1 packet id joins the burst's PUBACKs.  p,n:
 * its payload; n may be the length of a payload only partly in p (an
 * oversized message, read_burst: decoding refuses it as too large before it
 * reads more than an excerpt).
 */
static void got_publish(struct mqtt_client *c, const struct mqtt_pkt *pk, const char *p, size_t n)
{
	const char *vals[TOPIC_CAP_N];
	size_t lens[TOPIC_CAP_N];
	size_t tlen = pk->topic_len;
	char *topic = c->topic;
	struct tcache *e;

	if (pk->qos == 1) {
		if (c->nacks == c->acks_cap) {
			c->acks_cap = c->acks_cap ? 2 * c->acks_cap : BATCH_MSGS;
			c->acks = xrealloc(c->acks, c->acks_cap * sizeof(*c->acks));
		}
		c->acks[c->nacks++] = pk->id;
		c->nread_q1++;
	}
	c->nread++;
	c->pend_messages++;
	memcpy(topic, pk->topic, tlen);
	topic[tlen] = '\0';
	e = mqtt_cache_find(c, topic, tlen, vals, lens);
	if (e) {
		handle(c, &c->subs[e->sub], topic, vals, lens, e->slot, p, n, pk->qos);
		return;
	}
	/* checked once per topic, before it is cached: a broker forwards only
	 * valid topics (MQTT 4.7.3), and a NUL would cut ours short */
	if (payload_utf8_check(topic, tlen) < 0) {
		c->pend_unmatched++;
		log_unmatched(c, topic, tlen);
		return;
	}
	for (size_t i = 0; i < c->nsubs; i++)
		if (topic_match(&c->subs[i].pat, topic, tlen, vals, lens)) {
			e = mqtt_cache_add(c, &c->subs[i], topic, tlen, vals, lens);
			handle(c, &c->subs[i], topic, vals, lens, e ? e->slot : NULL, p, n, pk->qos);
			return;
		}
	c->pend_unmatched++;
	if (c->watch)
		mqtt_watch_report(c, NULL, topic, NULL, p, n);
	else
		log_unmatched(c, topic, tlen);
}

/* One decoded packet: 0, or -errno with c->last_err set when the connection
 * must end. */
static int got_packet(struct mqtt_client *c, const struct mqtt_pkt *pk)
{
	if (c->handshake && pk->type != MQTT_CONNACK) {
		snprintf(c->last_err, sizeof(c->last_err), "packet type %u before the CONNACK", pk->type);
		return -EPROTO;
	}
	switch (pk->type) {
	case MQTT_CONNACK:
		return got_connack(c, pk);
	case MQTT_PUBLISH:
		if (pk->qos > 1) {
			snprintf(c->last_err, sizeof(c->last_err), "a QoS %d message (subscribed at 1 at most)", pk->qos);
			return -EPROTO;
		}
		got_publish(c, pk, (const char *)pk->payload, pk->payload_len);
		return 0;
	case MQTT_PUBACK:
		got_puback(c, pk);
		return 0;
	case MQTT_SUBACK:
		mqtt_got_suback(c, pk);
		return 0;
	case MQTT_UNSUBACK:
		mqtt_got_unsuback(c, pk);
		return 0;
	case MQTT_PINGRESP:
		c->ping_sent_ms = 0;
		return 0;
	case MQTT_DISCONNECT: /* v5: the broker says why */
		snprintf(c->last_err, sizeof(c->last_err), "the broker disconnected: %s", mqtt_wire_reason(pk->code));
		return -ECONNRESET;
	default: /* PINGREQ: a broker does not send it */
		snprintf(c->last_err, sizeof(c->last_err), "unexpected packet type %u", pk->type);
		return -EPROTO;
	}
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

/* What mqtt_stop or mqtt_pause asks of the thread: ASK_STOP, ASK_PAUSE or 0. */
enum { ASK_PAUSE = 1, ASK_STOP = 2 };
static int asked(struct mqtt_client *c)
{
	int s;
	pthread_mutex_lock(&c->lock);
	s = c->stop ? ASK_STOP : c->pause ? ASK_PAUSE : 0;
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* mqtt_pause asked: parked, the connection left as it is, until
 * mqtt_resume (or mqtt_stop).  A burst the journal refused (held) cannot
 * wait here with its channels freed: refused, mqtt_stop ends it. */
static void park(struct mqtt_client *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->held)
		c->pause_refused = 1;
	else
		c->paused = 1;
	pthread_cond_broadcast(&c->cond);
	while (c->pause && !c->stop)
		pthread_cond_wait(&c->cond, &c->lock);
	c->paused = 0;
	pthread_mutex_unlock(&c->lock);
}

/* Sleeps ms unless stop (or a pause: mqtt_pause) is requested.  Returns
 * whether one is. */
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
	while (!c->stop && !c->pause)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	s = c->stop || c->pause;
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


/* The client's TLS context, made before its first connection and again
 * before each attempt until it could be made: a CA, certificate or key
 * file that OpenSSL cannot read is a connection failure like any other
 * (logged once, retried with the backoff), so the daemon connects as soon
 * as the file is fixed, without a reload.  0 or -EINVAL with c->last_err. */
static int tls_ready(struct mqtt_client *c)
{
	const struct cc_mqtt_conf *m = c->conf;
	struct mqtt_tls_opts o = { m->ca_file, m->ca_dir, m->cert, m->key, m->insecure };
	char err[200];

	if (!m->tls || c->tls)
		return 0;
	c->tls = mqtt_tls_new(&o, err, sizeof(err));
	if (!c->tls) {
		snprintf(c->last_err, sizeof(c->last_err), "TLS setup (ca_file, ca_dir, cert, key): %s", err);
		return -EINVAL;
	}
	c->tls_stamp = mqtt_tls_files_stamp(m);
	return 0;
}

/* How long a connection attempt may take: TCP, TLS and the CONNACK each. */
#define CONNECT_TIMEOUT_MS 15000

/*
 * Opens the connection and writes CONNECT; the CONNACK is read by the turns
 * that follow (got_connack), by c->connack_by_ms.  0, or -errno with
 * c->last_err set.  The alert publisher's client (no subscriptions) waits
 * for the broker's replies to its own small writes: TCP_NODELAY and quick
 * ACKs, or the broker's second PUBACK waits out our delayed ACK (40 ms).
 * The reader writes once a turn anyway: NODELAY sends it at once.
 */
static int conn_start(struct mqtt_client *c)
{
	const struct cc_mqtt_conf *m = c->conf;
	struct mqtt_wire_connect w = {
		.version = c->version,
		.client_id = m->client_id,
		.clean = m->clean_session,
		.keepalive = (unsigned)(m->keepalive_ms / 1000 > 65535 ? 65535 : m->keepalive_ms / 1000),
		.username = m->username,
		.password = m->username ? m->password : NULL,
		.password_len = m->username && m->password ? strlen(m->password) : 0,
	};
	size_t need;
	char err[256];

	if (c->version == MQTT_WIRE_V5) {
		/* Receive Maximum: how many QoS 1 messages the broker may send
		 * before our PUBACKs (its default 65,535; libmosquitto's was 20,
		 * which capped a stream at 20 per turn and queued the rest, an
		 * alarm's reading behind them): one journal record's worth */
		w.receive_max = BATCH_MSGS;
		if (!m->clean_session) {
			int64_t s = m->session_expiry_ms / 1000;
			w.session_expiry = (uint32_t)(s > UINT32_MAX ? UINT32_MAX : s);
		}
		/* a watch gets the same limit: it shows what the daemon would
		 * see; the alert publisher subscribes to nothing */
		if (m->nsubs)
			w.max_packet = (uint32_t)c->max_packet;
	}
	if (tls_ready(c) < 0)
		return -EINVAL;
	/* the wake pipe cancels the connect: a wake-up left from the last
	 * connection must not, a stop must (its flag is set before its byte) */
	mqtt_wake_drain(c);
	if (asked(c)) {
		snprintf(c->last_err, sizeof(c->last_err), "stopping");
		return -ECANCELED;
	}
	c->conn = mqtt_conn_open(m->host, m->port, c->tls, 1, time_mono_ms() + CONNECT_TIMEOUT_MS, c->wake[0], err,
				 sizeof(err));
	if (!c->conn) {
		snprintf(c->last_err, sizeof(c->last_err), "%s", err);
		return -errno;
	}
	need = 64 + strlen(m->client_id) + (w.username ? strlen(w.username) : 0) + w.password_len;
	c->woff = c->wlen = 0;
	c->roff = c->rlen = c->rskip = 0;
	c->nacks = 0;
	mqtt_moderate_reset(c);
	mqtt_wbuf_commit(c, mqtt_wire_connect(mqtt_wbuf_room(c, need), need, &w), "the CONNECT");
	c->handshake = 1;
	c->keepalive_ms = (int64_t)w.keepalive * 1000;
	c->connack_by_ms = time_mono_ms() + CONNECT_TIMEOUT_MS;
	c->ping_sent_ms = 0;
	c->last_tx_ms = time_mono_ms();
	return 0;
}

/* Why the connection could not be made (c->last_err), once per reason. */
static void log_conn_error(struct mqtt_client *c, const char *what)
{
	if (strcmp(c->logged_err, c->last_err) == 0)
		return;
	log_warn("mqtt broker %s: %s: %s; retrying (backoff up to %lld s)", c->broker, what, c->last_err,
		 (long long)(c->conf->reconnect_max_ms / 1000));
	snprintf(c->logged_err, sizeof(c->logged_err), "%s", c->last_err);
}

/* Ends the connection (without a word to the broker: see mqtt_stop for the
 * DISCONNECT); the alert publisher's waits learn it at once. */
static void conn_drop(struct mqtt_client *c)
{
	mqtt_unsub_requeue(c);
	pthread_mutex_lock(&c->lock); /* mqtt_publish writes under it */
	c->connected = 0;
	mqtt_conn_close(c->conn);
	c->conn = NULL;
	c->handshake = 0;
	c->nacks = 0;
	c->woff = c->wlen = 0;
	c->wpending = c->pq_part = 0;
	c->conn_gen++;
	c->pqlen = 0; /* never written whole: mqtt_publish's caller retries */
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
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
 * for the refused burst (never written: c->acks is dropped).  Only our
 * sending side is shut, so a FIN follows the written PUBACKs.
 * shutdown(SHUT_RDWR) did not do: Linux answers data arriving on a socket
 * shut for reading with a reset (RFC 1122 4.2.2.13; nstat's
 * TcpExtTCPAbortOnData), the broker, still sending the session's messages,
 * then fails a write (mosquitto 2.0.11 logs "disconnected: Broken pipe")
 * and drops the connection without reading the PUBACKs still in its socket:
 * messages already journaled came again and were journaled twice.  So what
 * the broker sends meanwhile is read and thrown away (never acknowledged:
 * it comes again) until it closes its side, having read up to our FIN, or
 * END_WAIT_MS passed.  The caller then closes the connection.
 */
static void conn_end_after_pubacks(struct mqtt_client *c)
{
	int sock = mqtt_conn_fd(c->conn);
	int64_t until = time_mono_ms() + END_WAIT_MS, left;
	char buf[4096];

	/* what is already queued goes first: the PUBACKs of journaled bursts */
	while (c->woff < c->wlen && (left = until - time_mono_ms()) > 0 && !stopping(c)) {
		ssize_t w = mqtt_conn_write(c->conn, c->wbuf + c->woff, c->wlen - c->woff);
		struct pollfd p = { .fd = sock, .events = POLLOUT };

		if (w > 0)
			c->woff += (size_t)w;
		else if (w != -EAGAIN || poll(&p, 1, left < 500 ? (int)left : 500) < 0)
			return;
	}
	if (mqtt_conn_shutdown_write(c->conn) < 0)
		return;
	while ((left = until - time_mono_ms()) > 0 && !stopping(c)) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, left < 500 ? (int)left : 500) < 0 && errno != EINTR)
			return;
		n = mqtt_conn_read(c->conn, buf, sizeof(buf));
		/* 0: the broker closed its side after reading all we wrote;
		 * an error: the connection is gone */
		if (n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR))
			return;
	}
}

/*
 * How long a connected client waits for its socket when nothing comes:
 * until its PINGREQ is due (a keepalive after the last packet written) or
 * its PINGRESP is late (a keepalive after the PINGREQ); everything else
 * that needs the thread writes to the wake pipe (stop, a publish queued by
 * another thread).  An idle client wakes once per keepalive (issue 18, the
 * small gateway's idle cost).  The CONNACK is waited for CONNECT_TIMEOUT_MS.
 */
static int idle_wait_ms(const struct mqtt_client *c)
{
	int64_t now = time_mono_ms(), ka = c->keepalive_ms, due;

	if (c->handshake)
		due = c->connack_by_ms;
	else if (ka <= 0)
		return 60000;
	else
		due = c->ping_sent_ms ? c->ping_sent_ms + ka : c->last_tx_ms + ka;
	due -= now;
	return due < 0 ? 0 : due > 60000 ? 60000 : (int)due + 1;
}

/* The keepalive and the CONNACK's deadline: 0, or -ETIMEDOUT with
 * c->last_err set; a PINGREQ queued when one is due. */
static int keepalive(struct mqtt_client *c)
{
	int64_t now = time_mono_ms(), ka = c->keepalive_ms;

	if (c->handshake) {
		if (now < c->connack_by_ms)
			return 0;
		snprintf(c->last_err, sizeof(c->last_err), "no CONNACK within %d s", CONNECT_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	if (ka <= 0)
		return 0;
	if (c->ping_sent_ms) {
		if (now - c->ping_sent_ms < ka)
			return 0;
		snprintf(c->last_err, sizeof(c->last_err), "no PINGRESP within the keepalive (%lld s)",
			 (long long)(ka / 1000));
		return -ETIMEDOUT;
	}
	if (now - c->last_tx_ms >= ka) {
		mqtt_wbuf_commit(c, mqtt_wire_pingreq(mqtt_wbuf_room(c, 2), 2), "a PINGREQ");
		c->ping_sent_ms = now;
	}
	return 0;
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

/* Reads every packet the socket has (a burst), until it is drained, the
 * connection breaks or the batch is full (c->more: read again at once). */

/* --- reading and writing (network thread) --------------------------------------- */

/* The read buffer's first size; it grows to the largest packet read whole
 * (c->max_packet at most) and stays. */
#define RBUF_MIN (64 * 1024)
/* An oversized PUBLISH is handled once this much of its payload is in (for
 * the refusal's excerpt: mqtt_decode_log_refusal, coldchainctl mqtt watch). */
#define OVERSIZE_EXCERPT 256

/* Room in the read buffer for need bytes from roff: compacted, grown. */
static void rbuf_make_room(struct mqtt_client *c, size_t need)
{
	if (c->roff == c->rlen) {
		c->roff = c->rlen = 0;
	} else if (c->roff && (c->rcap - c->roff < need || c->rcap - c->rlen < RBUF_MIN / 4)) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	if (need < RBUF_MIN)
		need = RBUF_MIN;
	if (c->rcap < need) {
		c->rbuf = xrealloc(c->rbuf, need);
		c->rcap = need;
	}
}

/*
 * A PUBLISH over c->max_packet at rbuf + roff (a 3.1.1 broker does not know
 * our limit; a v5 one should not send it): once its head and an excerpt of
 * its payload are in, it is handled as too large (counted, logged,
 * acknowledged: the broker would only send it again) and the rest of its
 * bytes are skipped as they come.  0 when handled, 1 when more bytes are
 * needed (*need: how many from roff), or -EPROTO.
 */
static int oversized(struct mqtt_client *c, size_t *need)
{
	struct mqtt_pkt pk;
	size_t avail = c->rlen - c->roff, hdr, want, most = 0;
	int k = mqtt_wire_publish_head(c->rbuf + c->roff, avail, c->version, &pk);

	if (k < 0) {
		snprintf(c->last_err, sizeof(c->last_err), "malformed packet: %s", mqtt_wire_strerror(k));
		return -EPROTO;
	}
	if (k == 0) {
		*need = avail + 4096; /* the head is cut short */
		if (avail > c->max_packet + MQTT_PACKET_SLACK) {
			snprintf(c->last_err, sizeof(c->last_err), "a PUBLISH header over %zu bytes", avail);
			return -EPROTO;
		}
		return 1;
	}
	if (pk.qos > 1) {
		snprintf(c->last_err, sizeof(c->last_err), "a QoS %d message (subscribed at 1 at most)", pk.qos);
		return -EPROTO;
	}
	hdr = (size_t)(pk.payload - (c->rbuf + c->roff));
	want = hdr + (pk.payload_len < OVERSIZE_EXCERPT ? pk.payload_len : OVERSIZE_EXCERPT);
	if (avail < want) {
		*need = want;
		return 1;
	}
	/* decoding refuses any payload over its subscription's max_payload
	 * before it reads one: tell it one byte over the largest when large
	 * properties left the payload itself smaller */
	for (size_t i = 0; i < c->nsubs; i++)
		if ((size_t)c->subs[i].conf->max_payload > most)
			most = (size_t)c->subs[i].conf->max_payload;
	got_publish(c, &pk, (const char *)pk.payload, pk.payload_len > most ? pk.payload_len : most + 1);
	c->rskip = (size_t)k;
	return 0;
}

/*
 * Decodes the packets in rbuf[roff..rlen) until the batch is full or a
 * packet is not whole: 0, or -errno with c->last_err set (a malformed
 * stream, a refusal: the connection ends).  *need: the bytes from roff the
 * next packet needs (0: unknown).
 */
static int decode_buffered(struct mqtt_client *c, size_t *need)
{
	*need = 0;
	while (c->roff < c->rlen && !batch_full(c)) {
		struct mqtt_pkt pk;
		size_t avail = c->rlen - c->roff;
		int k, r;

		if (c->rskip) {
			size_t s = c->rskip < avail ? c->rskip : avail;
			c->roff += s;
			c->rskip -= s;
			continue;
		}
		k = mqtt_wire_next(c->rbuf + c->roff, avail, c->version, c->max_packet, &pk);
		if (k == MQTT_WIRE_E_TOOBIG) {
			r = oversized(c, need);
			if (r != 0)
				return r < 0 ? r : 0;
			continue;
		}
		if (k < 0) {
			snprintf(c->last_err, sizeof(c->last_err), "malformed packet: %s", mqtt_wire_strerror(k));
			return -EPROTO;
		}
		if (k == 0) {
			uint32_t rem;
			int v = avail > 1 ? mqtt_wire_get_varint(c->rbuf + c->roff + 1, avail - 1, &rem) : 0;
			if (v > 0)
				*need = 1 + (size_t)v + rem;
			return 0;
		}
		c->roff += (size_t)k;
		if ((r = got_packet(c, &pk)) < 0)
			return r;
	}
	return 0;
}

/*
 * A burst: decodes what the buffer holds, then reads (one read() per wake
 * while the socket keeps the buffer full or TLS holds more) and decodes,
 * until the socket is drained, the batch is full (c->more: go on at once)
 * or the connection ends.  0, or -errno with c->last_err set.
 */
static int read_burst(struct mqtt_client *c)
{
	size_t need = 0;
	int rc, drained = 0;

	c->more = 0;
	for (;;) {
		ssize_t r;
		size_t room;

		if ((rc = decode_buffered(c, &need)) < 0)
			break;
		if (batch_full(c)) {
			c->more = c->roff < c->rlen; /* packets left: the next turn goes on at once */
			break;
		}
		if (drained)
			break;
		rbuf_make_room(c, need > c->rlen - c->roff ? need : c->rlen - c->roff + 1);
		room = c->rcap - c->rlen;
		r = mqtt_conn_read(c->conn, c->rbuf + c->rlen, room);
		if (r == -EAGAIN)
			break;
		if (r <= 0) { /* what was whole before this read is decoded (and journaled) */
			snprintf(c->last_err, sizeof(c->last_err), "%s",
				 r == 0 ? "the broker closed the connection" : mqtt_conn_error(c->conn));
			rc = r ? (int)r : -ECONNRESET;
			break;
		}
		c->rlen += (size_t)r;
		c->rbytes += (uint64_t)r;
		if (!c->nsubs)
			mqtt_conn_quickack(c->conn);
		/* a short read drained the socket: decode what came, then poll */
		drained = (size_t)r < room && !mqtt_conn_pending(c->conn);
	}
	c->read_end_us = mono_us();
	atomic_fetch_add_explicit(&c->read_wakes, 1, memory_order_relaxed);
	counts_flush(c);
	return rc;
}

/*
 * The turn's wait for the socket (p[0]) or the wake pipe (p[1]): 0, or -1
 * with errno.  A burst cut short by a full batch has packets in the
 * buffer, and TLS may hold bytes poll() cannot see: the poll then does not
 * wait.  A moderated wait (mqtt_moderate) that runs out reads what came.
 */
static int turn_poll(struct mqtt_client *c, struct pollfd p[2])
{
	int now = (c->more || mqtt_conn_pending(c->conn)) && !(p[0].events & POLLOUT);

	if (c->mod_wait_us && !now) {
		struct timespec ts = { 0, c->mod_wait_us * 1000L };
		int r;

		atomic_fetch_add_explicit(&c->moderated, 1, memory_order_relaxed);
		if ((r = ppoll(p, 2, &ts, NULL)) < 0)
			return -1;
		if (r == 0)
			p[0].revents = POLLIN;
		return 0;
	}
	if (poll(p, 2, now ? 0 : idle_wait_ms(c)) < 0)
		return -1;
	if (now)
		p[0].revents |= POLLIN;
	return 0;
}

/*
 * One turn of the connected client: wait for the socket (or a wake-up),
 * read what it has (a burst: its samples gather in c->batch, its QoS 1
 * packet ids in c->acks), journal the burst, then write the burst's
 * PUBACKs with anything else queued, in one write, then keepalive.  0, or
 * -errno with c->last_err set: the connection ends.
 *
 * When the journal cannot take a burst with QoS 1 messages (disk full),
 * their PUBACKs are never written.  Persistent session: the connection is
 * ended once the broker has read the PUBACKs already written
 * (conn_end_after_pubacks), the broker keeps the messages and sends them
 * again; each is journaled once, when the journal takes it.  Clean
 * session: the broker would forget them, so the burst is held and the
 * socket left alone until the journal takes it.
 */
static int loop_once(struct mqtt_client *c)
{
	int sock = mqtt_conn_fd(c->conn), rc = 0;
	struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = c->wake[0], .events = POLLIN } };
	size_t q1;

	if (c->held) {
		if (!hold_retry(c)) {
			nap(c, 200);
			return 0;
		}
		mqtt_queue_pubacks(c);
		goto write;
	}
	stall_note(c);
	if (c->woff < c->wlen || mqtt_conn_wants(c->conn) == POLLOUT)
		p[0].events |= POLLOUT;
	if (turn_poll(c, p) < 0) {
		if (errno == EINTR)
			return 0;
		snprintf(c->last_err, sizeof(c->last_err), "poll: %s", strerror(errno));
		return -errno;
	}
	if (p[1].revents)
		mqtt_wake_drain(c);
	if (mqtt_conn_wants(c->conn) == POLLOUT && (p[0].revents & POLLOUT))
		p[0].revents |= POLLIN; /* TLS wanted to write in order to read */
	/* A burst is read only once every PUBACK queued before it is on the
	 * wire (normally the previous turn wrote them all): a burst the journal
	 * refuses then takes only its own PUBACKs down with the connection, and
	 * no message already journaled is sent again. */
	if ((p[0].revents & POLLOUT) && (rc = mqtt_flush_out(c)) < 0)
		return rc;
	if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && (c->woff == c->wlen || (p[0].revents & (POLLHUP | POLLERR))))
		rc = read_burst(c);
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
			return 0;
		c->nacks = 0;
		c->withholding = 1;
		if (rc == 0)
			conn_end_after_pubacks(c);
		snprintf(c->last_err, sizeof(c->last_err), "withholding acknowledgements");
		return -EAGAIN;
	}
	if (c->withholding && q1) {
		c->withholding = 0;
		c->withhold_ms = 1000;
		log_info("mqtt broker %s: the journal takes messages again: acknowledging again", c->broker);
	}
	if (rc < 0)
		return rc;
	mqtt_queue_pubacks(c);
write:
	if ((rc = keepalive(c)) < 0)
		return rc;
	return mqtt_flush_out(c);
}

static void *loop_main(void *arg)
{
	struct mqtt_client *c = arg;
	sigset_t pipe;
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	/* OpenSSL writes with write(): a broker gone must be EPIPE, not a
	 * signal (coldchainctl mqtt watch does not ignore SIGPIPE) */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	c->backoff_ms = 1000;
	c->withhold_ms = 1000;
	for (;;) {
		int rc, ask = asked(c);

		if (ask == ASK_STOP)
			break;
		if (ask == ASK_PAUSE) {
			park(c);
			continue;
		}
		if (!c->conn) {
			rc = conn_start(c);
			if (rc < 0) {
				if (rc != -ECANCELED)
					log_conn_error(c, "cannot connect");
				backoff(c);
				continue;
			}
		}
		rc = loop_once(c);
		if (rc == 0) {
			mqtt_moderate(c);
			continue;
		}
		{
			int was;
			pthread_mutex_lock(&c->lock);
			was = c->connected;
			c->connected = 0;
			pthread_mutex_unlock(&c->lock);
			if (was && !c->withholding)
				log_warn("mqtt broker %s: connection lost (%s); reconnecting", c->broker, c->last_err);
			else if (!was && rc != -ECONNREFUSED && !c->withholding)
				log_conn_error(c, "cannot connect");
		}
		conn_drop(c);
		c->more = 0;
		c->read_end_us = 0;
		if (c->withholding)
			wait_writable(c);
		else
			backoff(c);
	}
	if (c->held) { /* stopped before the journal took them: never acknowledged */
		pipeline_submit_unjournaled(c->bsmp, c->bn, c->batch.lines, "stopped while the journal could not take them");
		batch_reset(c);
		c->held = 0;
	} else if (c->conn && !c->handshake) {
		/* queued PUBACKs go out before the DISCONNECT (one buffer, in order) */
		int64_t until = time_mono_ms() + 2000;

		pthread_mutex_lock(&c->lock);
		mqtt_take_published(c);
		pthread_mutex_unlock(&c->lock);
		mqtt_wbuf_commit(c, mqtt_wire_disconnect(mqtt_wbuf_room(c, 2), 2, c->version), "the DISCONNECT");
		while (c->woff < c->wlen && time_mono_ms() < until) {
			struct pollfd p = { .fd = mqtt_conn_fd(c->conn), .events = POLLOUT };
			if (mqtt_flush_out(c) < 0 || (c->woff < c->wlen && poll(&p, 1, 100) < 0))
				break;
		}
	}
	if (c->conn)
		conn_drop(c);
	return NULL;
}

/* --- start, stop, stats ------------------------------------------------------- */

static void client_free(struct mqtt_client *c)
{
	mqtt_conn_close(c->conn);
	mqtt_tls_free(c->tls);
	for (size_t i = 0; i < c->nsubs; i++)
		topic_free(&c->subs[i].pat);
	free(c->subs);
	mqtt_cache_free(c);
	mqtt_decode_chans_free(c);
	mqtt_unsub_free(c);
	lp_buf_free(&c->batch);
	free(c->bsmp);
	free(c->bq0);
	free(c->rbuf);
	free(c->wbuf);
	free(c->acks);
	free(c->pq);
	free(c->topic);
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c->test_conf);
	free(c->state_dir);
	free(c->subs_text);
	free(c);
}

struct mqtt_client *mqtt_client_start(const struct cc_mqtt_conf *m, const char *site, const char *watch_filter,
				      mqtt_watch_fn watch, void *watch_arg, int test, const char *state_dir)
{
	struct mqtt_client *c = xcalloc(1, sizeof(*c));
	pthread_condattr_t ca;
	int rc, e = EINVAL;

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
		c->subs[i].qos = m->subs[i].qos;
		if (topic_parse(m->subs[i].topic, &c->subs[i].pat, &err) < 0) {
			log_err("mqtt subscription %s: %s", m->subs[i].topic, err); /* the loader checked it */
			goto fail;
		}
		c->nsubs++;
	}
	c->version = m->protocol == CC_MQTT_V5 ? MQTT_WIRE_V5 : MQTT_WIRE_V311;
	c->max_packet = mqtt_max_packet(m);
	if (state_dir && c->nsubs && !m->clean_session) {
		c->state_dir = xstrdup(state_dir);
		mqtt_subs_load(c);
	}
	c->topic = xmalloc(65536);
	if (m->tls && m->insecure)
		log_warn("mqtt broker %s: INSECURE: TLS certificate and host name verification are OFF "
			 "(insecure = true): anyone on the path can impersonate the broker", c->broker);
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
	return mqtt_client_start(m, site, NULL, NULL, NULL, 0, NULL);
}

struct mqtt_client *mqtt_start_input(const struct cc_mqtt_conf *m, const char *site, const char *state_dir)
{
	return mqtt_client_start(m, site, NULL, NULL, NULL, 0, state_dir);
}

struct mqtt_client *mqtt_test_start(const struct cc_mqtt_conf *conf, const char *site)
{
	return mqtt_client_start(conf, site, NULL, NULL, NULL, 1, NULL);
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
			{ .key = "moderation_held", .type = LP_INT, .v.i = (int64_t)atomic_load(&c->mod_held) },
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
