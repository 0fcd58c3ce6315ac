/* test_mqtt_reload.c - a reload keeps the MQTT connection (drivers/mqtt.h:
 * mqtt_pause, mqtt_same_connection, mqtt_resume), against a broker played
 * by the test on a loopback socket of its own, which sees every packet the
 * client writes: after a resume, filters the new configuration adds or
 * changes the QoS of are subscribed, those it drops unsubscribed, and an
 * unchanged filter is not subscribed again (a broker would resend its
 * retained messages); no new connection is made.  Paused while not
 * connected, with a persistent session: the next CONNACK subscribes to
 * every new filter and unsubscribes from the dropped ones only when the
 * session was resumed.  And which changes keep the connection. */
#include "../../drivers/mqtt.h"
#include "../../drivers/mqtt_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "../../codec/mqtt_wire.h"
#include "../../daemon/config.h"
#include "../../daemon/state.h"
#include "../../daemon/util.h"
#include "testlib.h"

#define DEADLINE_MS 10000

static int lfd = -1, bfd = -1; /* the broker's listening and accepted sockets */
static uint8_t rb[65536];      /* what the broker read and has not taken */
static size_t rlen;

/* One packet the client wrote: its type, and for SUBSCRIBE and UNSUBSCRIBE
 * its id, (first) filter and requested QoS (-1 for UNSUBSCRIBE). */
struct cpkt {
	unsigned type;
	uint16_t id;
	char filter[128];
	int qos;
};

/* The next packet the client wrote within ms: 1, or 0 (none, the end of
 * its stream, or a packet this test does not expect). */
static int client_packet(struct cpkt *o, int64_t ms)
{
	int64_t until = time_mono_ms() + ms;

	for (;;) {
		uint32_t rem = 0;
		int h = rlen >= 2 ? mqtt_wire_get_varint(rb + 1, rlen - 1, &rem) : 0;
		if (h < 0)
			return 0;
		if (h > 0 && rlen >= 1 + (size_t)h + rem) {
			const uint8_t *b = rb + 1 + h;
			size_t fl;
			memset(o, 0, sizeof(*o));
			o->type = rb[0] >> 4;
			o->qos = -1;
			if (o->type == MQTT_SUBSCRIBE || o->type == MQTT_UNSUBSCRIBE) {
				/* id, then (3.1.1, as this client speaks here) the filter */
				o->id = (uint16_t)(b[0] << 8 | b[1]);
				fl = (size_t)(b[2] << 8 | b[3]);
				if (fl >= sizeof(o->filter) || 4 + fl > rem)
					return 0;
				memcpy(o->filter, b + 4, fl);
				if (o->type == MQTT_SUBSCRIBE)
					o->qos = b[4 + fl];
			}
			rlen -= 1 + (size_t)h + rem;
			memmove(rb, rb + 1 + h + rem, rlen);
			return 1;
		}
		struct pollfd p = { .fd = bfd, .events = POLLIN };
		int64_t left = until - time_mono_ms();
		ssize_t n;
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return 0;
		if ((n = read(bfd, rb + rlen, sizeof(rb) - rlen)) <= 0)
			return 0;
		rlen += (size_t)n;
	}
}

static int broker_write(const void *b, size_t n)
{
	return write(bfd, b, n) == (ssize_t)n ? 0 : -1;
}

/* Accepts the client, takes its CONNECT and answers (session present or
 * not): 0 or -1. */
static int broker_accept(int session_present)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	uint8_t connack[] = { 0x20, 2, (uint8_t)session_present, 0 };
	struct cpkt k;

	if (bfd >= 0)
		close(bfd);
	rlen = 0;
	if (poll(&p, 1, DEADLINE_MS) != 1 || (bfd = accept(lfd, NULL, NULL)) < 0)
		return -1;
	if (!client_packet(&k, DEADLINE_MS) || k.type != MQTT_CONNECT)
		return -1;
	return broker_write(connack, sizeof(connack));
}

/* Reads the client's (UN)SUBSCRIBEs within ms into "S filter qos" and
 * "U filter" words, sorted, one string; answers each (SUBACK granting it,
 * UNSUBACK). */
static void client_subs(char *out, size_t cap, int64_t ms)
{
	char words[16][160];
	size_t n = 0, at = 0;
	struct cpkt k;

	out[0] = '\0';
	while (n < 16 && client_packet(&k, ms)) {
		uint8_t ack[5] = { k.type == MQTT_SUBSCRIBE ? 0x90 : 0xb0, k.type == MQTT_SUBSCRIBE ? 3 : 2,
				   (uint8_t)(k.id >> 8), (uint8_t)k.id, (uint8_t)k.qos };
		if (k.type == MQTT_SUBSCRIBE)
			snprintf(words[n++], sizeof(words[0]), "S %s %d", k.filter, k.qos);
		else if (k.type == MQTT_UNSUBSCRIBE)
			snprintf(words[n++], sizeof(words[0]), "U %s", k.filter);
		else if (k.type != MQTT_PINGREQ)
			snprintf(words[n++], sizeof(words[0]), "type %u", k.type);
		if ((k.type == MQTT_SUBSCRIBE || k.type == MQTT_UNSUBSCRIBE) &&
		    broker_write(ack, k.type == MQTT_SUBSCRIBE ? 5 : 4) < 0)
			break;
	}
	qsort(words, n, sizeof(words[0]), (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? "; " : "", words[i]);
}

static int wait_connected(struct mqtt_client *c, int want)
{
	int64_t until = time_mono_ms() + DEADLINE_MS;
	struct timespec ts = { 0, 1000000 };

	while (mqtt_connected(c) != want && time_mono_ms() < until)
		nanosleep(&ts, NULL);
	return mqtt_connected(c) == want;
}

static struct cc_mqtt_sub sub(const char *topic, int qos)
{
	return (struct cc_mqtt_sub){ .topic = (char *)topic, .format = CC_MQTT_NUMBER, .qos = qos,
				     .quantity = "temperature", .scale = 1.0, .valid_min = -1e9,
				     .valid_max = 1e9, .max_payload = 4096 };
}

static struct cc_mqtt_conf conf(struct cc_mqtt_sub *subs, size_t n, int clean)
{
	return (struct cc_mqtt_conf){ .host = "127.0.0.1", .port = 0, .client_id = "cc-unit-reload",
				      .protocol = CC_MQTT_V311, .keepalive_ms = 600000, .clean_session = clean,
				      .reconnect_max_ms = 1000, .subs = subs, .nsubs = n };
}

static int port;

/* A client of m, connected to the test's broker, which checks that it
 * subscribed to want (client_subs); NULL when it did not connect. */
static struct mqtt_client *started(const struct cc_mqtt_conf *m, const char *want)
{
	struct mqtt_client *c = mqtt_start(m, "s");
	char got[1024];

	if (!c || broker_accept(0) != 0)
		return NULL;
	client_subs(got, sizeof(got), 500);
	CHECK_STR(got, want);
	CHECK(wait_connected(c, 1));
	return c;
}

static void test_a_resume_subscribes_what_changed_and_nothing_else(void)
{
	struct cc_mqtt_sub s1[] = { sub("a/{sensor}", 1), sub("b/{sensor}", 0), sub("c/{sensor}", 1) };
	struct cc_mqtt_sub s2[] = { sub("a/{sensor}", 1), sub("b/{sensor}", 1), sub("d/{sensor}", 0) };
	struct cc_mqtt_conf m1 = conf(s1, 3, 1), m2 = conf(s2, 3, 1);
	struct mqtt_client *c;
	char got[1024];
	struct cpkt k;

	m1.port = m2.port = port;
	c = started(&m1, "S a/+ 1; S b/+ 0; S c/+ 1");
	CHECK(c != NULL);
	if (!c)
		return;

	CHECK_INT(mqtt_pause(c), 0);
	/* which changes keep the connection: 1 same, 0 a new one */
	{
		struct cc_mqtt_sub big[] = { sub("a/{sensor}", 1), sub("b/{sensor}", 1), sub("d/{sensor}", 0) };
		struct cc_mqtt_conf v[9];
		int want[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
		for (size_t i = 0; i < ARRAY_SIZE(v); i++)
			v[i] = m2;
		v[1].keepalive_ms = 30000;
		v[2].client_id = "another";
		v[3].port = port + 1;
		v[4].clean_session = 0;
		v[5].username = "u";
		v[6].tls = 1;
		big[2].max_payload = 1 << 20; /* a larger Maximum Packet Size */
		v[7].subs = big;
		v[8].reconnect_max_ms = 60000; /* not the connection's: kept */
		v[8].max_channels = 7;
		for (size_t i = 0; i < ARRAY_SIZE(v); i++)
			CHECK_INT(mqtt_same_connection(c, &v[i]), want[i]);
	}
	CHECK_INT(mqtt_resume(c, &m2, "s"), 0);
	/* b/+ again at its new QoS, d/+ new, c/+ dropped; a/+ left alone */
	client_subs(got, sizeof(got), 500);
	CHECK_STR(got, "S b/+ 1; S d/+ 0; U c/+");
	CHECK(mqtt_connected(c));
	/* the same connection: no CONNECT came, the listener has nobody waiting */
	{
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		CHECK_INT(poll(&p, 1, 0), 0);
	}
	/* a resume with the same configuration writes nothing */
	CHECK_INT(mqtt_pause(c), 0);
	CHECK_INT(mqtt_resume(c, &m2, "s"), 0);
	CHECK(!client_packet(&k, 300));
	mqtt_stop(c);
	/* its DISCONNECT */
	CHECK(client_packet(&k, DEADLINE_MS) && k.type == MQTT_DISCONNECT);
}

/* The broker goes away; the client notices, pauses and resumes with m;
 * the broker takes it back (session present or not): what the client
 * subscribes and unsubscribes then (client_subs). */
static const char *away_then_resume(struct mqtt_client *c, const struct cc_mqtt_conf *m, int session_present)
{
	static char got[1024];

	close(bfd);
	bfd = -1;
	got[0] = '\0';
	if (!wait_connected(c, 0) || mqtt_pause(c) != 0 || mqtt_resume(c, m, "s") != 0 ||
	    broker_accept(session_present) != 0)
		return "(the client did not pause, resume and connect again)";
	client_subs(got, sizeof(got), 500);
	return got;
}

/* Paused while the broker is away, persistent session: the dropped filter
 * is unsubscribed after a CONNACK that resumes the session, not after one
 * that starts a new session (which has no subscription to drop). */
static void test_filters_dropped_while_away_are_unsubscribed_in_a_resumed_session(void)
{
	struct cc_mqtt_sub s1[] = { sub("a/{sensor}", 1), sub("c/{sensor}", 1) };
	struct cc_mqtt_sub s2[] = { sub("a/{sensor}", 1), sub("d/{sensor}", 1) };
	struct cc_mqtt_conf m1 = conf(s1, 2, 0), m2 = conf(s2, 2, 0), m3 = conf(s1, 2, 0);
	struct mqtt_client *c;

	m1.port = m2.port = m3.port = port;
	c = started(&m1, "S a/+ 1; S c/+ 1");
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_STR(away_then_resume(c, &m2, 1), "S a/+ 1; S d/+ 1; U c/+");
	CHECK(wait_connected(c, 1));
	/* again, but the session is new: nothing to unsubscribe from */
	CHECK_STR(away_then_resume(c, &m3, 0), "S a/+ 1; S c/+ 1");
	mqtt_stop(c);
}

/* Paused twice while the broker is away, persistent session: a filter the
 * first reload dropped and the second added back is subscribed at the
 * CONNACK and not unsubscribed after it (it was: SUBSCRIBE, then the
 * queued UNSUBSCRIBE, and a configured filter received nothing until the
 * next reconnect). */
static void test_a_filter_dropped_and_added_back_while_away_stays_subscribed(void)
{
	struct cc_mqtt_sub s1[] = { sub("a/{sensor}", 1), sub("c/{sensor}", 1) };
	struct cc_mqtt_sub s2[] = { sub("a/{sensor}", 1), sub("d/{sensor}", 1) };
	struct cc_mqtt_conf m1 = conf(s1, 2, 0), m2 = conf(s2, 2, 0), m3 = conf(s1, 2, 0);
	struct mqtt_client *c;
	char got[1024];

	m1.port = m2.port = m3.port = port;
	c = started(&m1, "S a/+ 1; S c/+ 1");
	CHECK(c != NULL);
	if (!c)
		return;
	close(bfd);
	bfd = -1;
	CHECK(wait_connected(c, 0));
	CHECK_INT(mqtt_pause(c), 0);
	CHECK_INT(mqtt_resume(c, &m2, "s"), 0); /* c/+ dropped: queued for the next CONNACK */
	CHECK_INT(mqtt_pause(c), 0);
	CHECK_INT(mqtt_resume(c, &m3, "s"), 0); /* c/+ back */
	CHECK_INT(broker_accept(1), 0);
	client_subs(got, sizeof(got), 500);
	/* d/+ came and went while away: the client cannot know whether a
	 * connection between the two reloads subscribed to it, so it is
	 * unsubscribed (harmless when the session never had it) */
	CHECK_STR(got, "S a/+ 1; S c/+ 1; U d/+");
	mqtt_stop(c);
}

/* The filters the last run subscribed to (mqtt.subscriptions, sealed)
 * that the configuration no longer has are unsubscribed once the session
 * is resumed; lines that are not a filter the client could have subscribed
 * to (a file re-sealed by hand) are ignored, never sent to the broker. */
static void test_a_state_file_s_junk_lines_are_never_sent_as_unsubscribes(void)
{
	struct cc_mqtt_sub s1[] = { sub("a/{sensor}", 1) };
	struct cc_mqtt_conf m = conf(s1, 1, 0);
	char dir[64], file[2048], got[1024], longf[1100];
	struct mqtt_client *c;
	int len;

	m.port = port;
	if (tl_mkdtemp(dir, sizeof(dir), "test-mqtt-reload") < 0)
		return;
	memset(longf, 'x', sizeof(longf) - 1);
	longf[sizeof(longf) - 1] = '\0';
	len = snprintf(file, sizeof(file),
		       "broker 127.0.0.1:%d\nclient_id cc-unit-reload\nfilter a/+\nfilter c/+\nfilter \n"
		       "filter a/#/b\nfilter r/{room}\nfilter ctl/\x01/x\nfilter x/y+\nfilter %s\n"
		       "filter $share//t\nfilter $share/g/d/#\n",
		       port, longf);
	CHECK(len > 0 && (size_t)len < sizeof(file));
	CHECK_INT(state_write_sealed(dir, "mqtt.subscriptions", file, (size_t)len), 0);
	c = mqtt_start_input(&m, "s", dir);
	CHECK(c != NULL);
	if (!c || broker_accept(1) != 0) {
		mqtt_stop(c);
		tl_rmtree(dir);
		return;
	}
	client_subs(got, sizeof(got), 500);
	CHECK_STR(got, "S a/+ 1; U $share/g/d/#; U c/+");
	mqtt_stop(c);
	tl_rmtree(dir);
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	tl_prog = "unit/mqtt_reload";
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
		printf("FAIL %s: setup: a loopback listener: %s\n", tl_prog, strerror(errno));
		return 1;
	}
	port = ntohs(a.sin_port);
	RUN(test_a_resume_subscribes_what_changed_and_nothing_else);
	RUN(test_filters_dropped_while_away_are_unsubscribed_in_a_resumed_session);
	RUN(test_a_filter_dropped_and_added_back_while_away_stays_subscribed);
	RUN(test_a_state_file_s_junk_lines_are_never_sent_as_unsubscribes);
	if (bfd >= 0)
		close(bfd);
	close(lfd);
	return TL_DONE();
}
