/* mqtt_alerts.c - the MQTT alert publisher (outputs.alerts_mqtt, see
 * mqtt.h): an output whose publish() waits for the broker's PUBACKs.  It
 * drives an mqtt.c client (mqtt_start) and its network thread. */
#include "mqtt.h"
#include "mqtt_int.h"

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../codec/mqtt_wire.h"
#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../outputs/output.h"

/* --- the alert publisher (outputs.alerts_mqtt) ------------------------------ */

/*
 * A journal consumer like any output (outputs/output.c does the reading,
 * positions, retry and backoff); this is its publish(): one event becomes a
 * QoS 1 message on PREFIX/events and a retained QoS 1 message on
 * PREFIX/state/ROOM/ID (in that order: alerts_queue), and publish() returns only when the broker has sent a
 * PUBACK for both (on_publish), so the position never passes an event the
 * broker has not taken.  Its own client (own client id, clean session),
 * connected at the first event so that a reload's replacement never fights
 * the client it replaces for the same id.  The sender thread writes the
 * PUBLISH itself (mqtt_publish: plain TCP, nothing queued before it), so
 * the message leaves without a wake-up of the network thread; that thread
 * reads the PUBACKs publish() waits for, and writes what the socket did not
 * take (and everything, over TLS).  It is started from the sender thread,
 * so it inherits that thread's short scheduler slice (outputs/output.c,
 * daemon/thread.h): both are on the alarm's path.
 */
struct mqtt_alerts {
	const struct cc_alerts_mqtt_conf *conf;
	const char *site;
	struct mqtt_client *c;
};

/* Under c->lock: 1 and *rc when mid has been acknowledged since *from. */
static int acked_since(const struct mqtt_client *c, unsigned from, int mid, int *rc)
{
	for (unsigned i = from; i < c->nacked; i++)
		if (c->acked[i % ARRAY_SIZE(c->acked)] == mid) {
			*rc = c->acked_rc[i % ARRAY_SIZE(c->acked)];
			return 1;
		}
	return 0;
}

static void deadline_ts(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* A topic level from free text: '/', '+', '#', '%' and control characters
 * percent-encoded ("A/temp_high" -> "A%2Ftemp_high"), empty -> "-". */
static void topic_level(char *dst, size_t size, const char *s)
{
	size_t o = 0;

	if (!s || !*s)
		s = "-";
	for (; *s && o + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '/' || ch == '+' || ch == '#' || ch == '%' || ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(dst + o, size - o, "%%%02X", ch);
		else
			dst[o++] = (char)ch;
	}
	dst[o] = '\0';
}

/* The publisher's client, created on first use, once connected (waiting up
 * to timeout_ms); *from is where its PUBACKs are counted from.  0, or
 * -EAGAIN/-ENOTCONN with err set. */
static int alerts_connect(struct mqtt_alerts *a, int64_t timeout_ms, unsigned *from, char *err, size_t errlen)
{
	struct mqtt_client *c;
	struct timespec ts;
	int connected;

	if (!a->c) {
		a->c = mqtt_start(a->conf->broker, a->site);
		if (!a->c) {
			snprintf(err, errlen, "cannot create the MQTT client: %s", strerror(errno));
			return -EAGAIN;
		}
	}
	c = a->c;
	deadline_ts(&ts, timeout_ms);
	pthread_mutex_lock(&c->lock);
	while (!c->connected && !c->stop)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	connected = c->connected;
	*from = c->nacked;
	pthread_mutex_unlock(&c->lock);
	if (!connected) {
		snprintf(err, errlen, "not connected to broker %s%s%s", c->broker, c->last_err[0] ? ": " : "",
			 c->last_err);
		return -ENOTCONN;
	}
	return 0;
}

/* Queues one message at QoS 1 on PREFIX/SUFFIX; its message id goes to
 * mids[*n], the connection's number to *gen.  0, or -EAGAIN with err set. */
static int alerts_queue_one(struct mqtt_alerts *a, const char *suffix, const char *json, size_t len, int retain,
			    int mids[2], int *n, uint64_t *gen, char *err, size_t errlen)
{
	char topic[1024];
	int rc;

	snprintf(topic, sizeof(topic), "%s/%s", a->conf->prefix, suffix);
	rc = mqtt_publish(a->c, topic, json, len, retain, &mids[*n], gen);
	if (rc < 0) {
		snprintf(err, errlen, "publish %s: %s", topic,
			 rc == -ENOTCONN ? "not connected to the broker" : strerror(-rc));
		return -EAGAIN;
	}
	(*n)++;
	return 0;
}

/*
 * Queues the event at QoS 1 on PREFIX/events, then retained on
 * PREFIX/state/ROOM/ID when it names an alarm.  The event goes first: it is
 * what a receiver of alarms waits for.  Both leave in one write (mqtt.c:
 * TCP_NODELAY, and quick ACKs so that the broker's second PUBACK does not
 * wait for our delayed ACK of its first).  The message ids go to
 * mids[*n...], the connection's number to *gen.  0, or -EAGAIN with err
 * set.
 */
static int alerts_queue(struct mqtt_alerts *a, const cJSON *root, const char *json, size_t len, int mids[2], int *n,
			uint64_t *gen, char *err, size_t errlen)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	const cJSON *room = cJSON_GetObjectItemCaseSensitive(root, "room");
	char suffix[800], lroom[256], lid[512];
	int r = alerts_queue_one(a, "events", json, len, 0, mids, n, gen, err, errlen);

	if (r < 0 || !cJSON_IsString(id))
		return r;
	topic_level(lroom, sizeof(lroom), cJSON_IsString(room) ? room->valuestring : NULL);
	topic_level(lid, sizeof(lid), id->valuestring);
	snprintf(suffix, sizeof(suffix), "state/%s/%s", lroom, lid);
	return alerts_queue_one(a, suffix, json, len, 1, mids, n, gen, err, errlen);
}

/* Waits up to timeout_ms for the PUBACKs of mids[0..n) counted from from,
 * on connection gen.  0 when every one came and was accepted; -ETIMEDOUT,
 * -ENOTCONN (the connection ended first: no PUBACK can come) or -EAGAIN
 * (refused) with err set. */
static int alerts_wait_acks(struct mqtt_client *c, unsigned from, const int *mids, int n, uint64_t gen,
			    int64_t timeout_ms, char *err, size_t errlen)
{
	int acks[2] = { 0, 0 }, codes[2] = { 0, 0 }, lost = 0;
	struct timespec ts;

	deadline_ts(&ts, timeout_ms);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		int done = 1;
		for (int i = 0; i < n; i++) {
			if (!acks[i])
				acks[i] = acked_since(c, from, mids[i], &codes[i]);
			done &= acks[i];
		}
		lost = c->conn_gen != gen;
		if (done || lost || c->stop || pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	for (int i = 0; i < n; i++) {
		if (!acks[i] && lost) {
			snprintf(err, errlen, "connection to broker %s lost before its PUBACK%s%s", c->broker,
				 c->last_err[0] ? ": " : "", c->last_err);
			return -ENOTCONN;
		}
		if (!acks[i]) {
			snprintf(err, errlen, "no PUBACK from broker %s within %lld ms", c->broker, (long long)timeout_ms);
			return -ETIMEDOUT;
		}
		if (codes[i] >= 0x80) {
			snprintf(err, errlen, "broker %s refused the message: %s", c->broker,
				 mqtt_wire_reason((unsigned)codes[i]));
			return -EAGAIN;
		}
	}
	return 0;
}

static int alerts_publish(void *arg, const char *json, size_t len, int64_t timeout_ms, char *err, size_t errlen)
{
	struct mqtt_alerts *a = arg;
	cJSON *root = cJSON_ParseWithLength(json, len);
	int mids[2] = { -1, -1 }, n = 0, r;
	unsigned from;
	uint64_t gen = 0;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "event is not a JSON object");
		r = -EINVAL;
		goto out;
	}
	r = alerts_connect(a, timeout_ms, &from, err, errlen);
	if (r == 0)
		r = alerts_queue(a, root, json, len, mids, &n, &gen, err, errlen);
	if (r < 0)
		goto out;
	/* A connection lost before the PUBACKs ends the wait at once, and
	 * the output retries the event on the next connection, as it does
	 * past the deadline (at least once: a consumer may see an event
	 * twice, never lose one).  The PUBACKs get their own timeout_ms:
	 * waiting for the connection must not eat into it. */
	r = alerts_wait_acks(a->c, from, mids, n, gen, timeout_ms, err, errlen);
out:
	cJSON_Delete(root);
	return r;
}

static void alerts_destroy(void *arg)
{
	struct mqtt_alerts *a = arg;

	if (a->c)
		mqtt_stop(a->c);
	free(a);
}

static const struct output_publisher_ops alerts_ops = { alerts_publish, alerts_destroy };

struct output *mqtt_alerts_new(const struct cc_alerts_mqtt_conf *conf, const char *site)
{
	struct mqtt_alerts *a;
	struct output *o;
	char *id;

	if (!conf || !conf->broker || !conf->prefix) {
		errno = EINVAL;
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->conf = conf;
	a->site = site;
	id = xasprintf("alerts_mqtt %s %s:%d %s", conf->name, conf->broker->host, conf->broker->port, conf->prefix);
	o = output_publisher_new(conf->name, id, conf->start_oldest, 60000, &alerts_ops, a);
	free(id);
	if (!o)
		free(a);
	return o;
}
