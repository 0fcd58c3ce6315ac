/* test_mqtt_publish.c - the alert publisher's writes (drivers/mqtt.c
 * mqtt_publish), against a broker played by the test on a loopback socket
 * of its own: a PUBLISH goes out from the publishing thread itself, with
 * no wake-up of the client's network thread on an alarm's path; one the
 * socket takes only in part is finished by the network thread, whole, and
 * the next PUBLISH waits behind it; none is written by the publisher while
 * the network thread has bytes unwritten (never cut into them, never ahead
 * of them). */
#include "../../drivers/mqtt.h"
#include "../../drivers/mqtt_conn.h"
#include "../../drivers/mqtt_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "../../codec/mqtt_wire.h"
#include "../../daemon/config.h"
#include "../../daemon/util.h"
#include "testlib.h"

#define DEADLINE_MS 10000
#define BIG (1024 * 1024)

static int lfd = -1, bfd = -1; /* the broker's listening and accepted sockets */
static struct mqtt_client *c;
static uint8_t *rb; /* what the broker read and has not decoded */
static size_t rlen, rcap;

/* Reads what the client sent within the deadline: 1, or 0 at the
 * deadline or its end of stream. */
static int broker_read(int64_t until)
{
	struct pollfd p = { .fd = bfd, .events = POLLIN };
	ssize_t n;

	if (time_mono_ms() >= until || poll(&p, 1, 100) < 0)
		return time_mono_ms() < until;
	if (!(p.revents & (POLLIN | POLLHUP)))
		return 1;
	if (rcap - rlen < 65536) {
		rcap = rcap ? 2 * rcap : 4 * BIG;
		rb = xrealloc(rb, rcap);
	}
	n = read(bfd, rb + rlen, rcap - rlen);
	if (n <= 0)
		return 0;
	rlen += (size_t)n;
	return 1;
}

/* The next packet the client sent (its bytes stay in rb until the next
 * call): 1, or 0 when none came whole within the deadline or the stream
 * is malformed (a packet cut into by another). */
static int next_packet(struct mqtt_pkt *pk)
{
	static size_t used;
	int64_t until = time_mono_ms() + DEADLINE_MS;

	memmove(rb, rb + used, rlen - used);
	rlen -= used;
	used = 0;
	for (;;) {
		int r = rlen ? mqtt_wire_next(rb, rlen, MQTT_WIRE_V311, SIZE_MAX, pk) : 0;
		if (r < 0) {
			printf("    the client's stream is malformed: %d\n", r);
			return 0;
		}
		if (r > 0) {
			used = (size_t)r;
			return 1;
		}
		if (!broker_read(until))
			return 0;
	}
}

/* Accepts the client and answers its CONNECT (3.1.1, clean session): 0 or -1. */
static int broker_accept(void)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	uint8_t connack[] = { 0x20, 2, 0, 0 };
	int64_t until = time_mono_ms() + DEADLINE_MS;
	uint32_t rem = 0;
	int h;

	if (poll(&p, 1, DEADLINE_MS) != 1 || (bfd = accept(lfd, NULL, NULL)) < 0)
		return -1;
	while ((rlen < 2 || (h = mqtt_wire_get_varint(rb + 1, rlen - 1, &rem)) == 0 || rlen < 1 + (size_t)h + rem))
		if (!broker_read(until))
			return -1;
	if (h < 0 || rb[0] != 0x10)
		return -1;
	rlen -= 1 + (size_t)h + rem;
	memmove(rb, rb + 1 + h + rem, rlen);
	return write(bfd, connack, sizeof(connack)) == (ssize_t)sizeof(connack) ? 0 : -1;
}

static uint64_t direct_writes(void)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->direct;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static void test_a_publish_is_written_by_the_publishing_thread_itself(void)
{
	struct mqtt_pkt pk;
	uint64_t gen = 0;
	int id = 0;

	CHECK_INT(mqtt_publish(c, "cc/events", "{\"id\":\"A/temp_high\"}", 20, 0, &id, &gen), 0);
	CHECK_INT(direct_writes(), 1); /* on the wire before mqtt_publish returned */
	CHECK(next_packet(&pk));
	CHECK_INT(pk.type, MQTT_PUBLISH);
	CHECK_INT(pk.id, id);
	CHECK_INT(pk.qos, 1);
	CHECK(pk.topic_len == 9 && memcmp(pk.topic, "cc/events", 9) == 0);
	CHECK(pk.payload_len == 20 && memcmp(pk.payload, "{\"id\":\"A/temp_high\"}", 20) == 0);
}

/* The broker reads nothing while 1 MiB is published through socket
 * buffers of a few KiB: the publishing thread writes what the socket takes
 * and leaves the rest to the network thread, which is still writing it
 * when the next PUBLISH comes.  The broker then gets both, whole, in
 * order.  (The socket is full when the next one comes, so its own send()
 * is refused anyway: the next test shows the refusal itself.) */
static void test_a_publish_the_socket_takes_in_part_is_finished_whole_before_the_next(void)
{
	uint8_t *big = xmalloc(BIG);
	struct mqtt_pkt pk;
	uint64_t gen = 0;
	int id1 = 0, id2 = 0, small = 8192, taken = 0, ok = 1;
	int64_t until = time_mono_ms() + DEADLINE_MS;

	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 131 + 7);
	pthread_mutex_lock(&c->lock);
	setsockopt(mqtt_conn_fd(c->conn), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	pthread_mutex_unlock(&c->lock);
	CHECK_INT(mqtt_publish(c, "cc/state/A/big", big, BIG, 1, &id1, &gen), 0);
	CHECK_INT(direct_writes(), 1); /* not whole: not counted */
	while (!taken && time_mono_ms() < until) { /* the network thread has the rest */
		struct timespec ts = { 0, 1000000 };
		pthread_mutex_lock(&c->lock);
		taken = c->pqlen == 0 && c->wpending;
		pthread_mutex_unlock(&c->lock);
		if (!taken)
			nanosleep(&ts, NULL);
	}
	CHECK(taken);
	CHECK_INT(mqtt_publish(c, "cc/events", "next", 4, 0, &id2, &gen), 0);
	CHECK_INT(direct_writes(), 1); /* queued behind the first */
	ok = next_packet(&pk);
	CHECK(ok);
	if (ok) {
		CHECK_INT(pk.type, MQTT_PUBLISH);
		CHECK_INT(pk.id, id1);
		CHECK(pk.retain);
		CHECK(pk.payload_len == BIG && memcmp(pk.payload, big, BIG) == 0);
		ok = next_packet(&pk);
		CHECK(ok);
	}
	if (ok) {
		CHECK_INT(pk.type, MQTT_PUBLISH);
		CHECK_INT(pk.id, id2);
		CHECK(pk.payload_len == 4 && memcmp(pk.payload, "next", 4) == 0);
	}
	free(big);
}

/* While the network thread has bytes it has not written (wpending: the
 * state its flush leaves when the socket took only part), a PUBLISH is not
 * written by the publisher even on a socket with room (it would cut into
 * them or overtake them): it is queued, and the network thread, woken,
 * writes it whole.  The network thread is idle in its poll here (no
 * traffic, a 600 s keepalive), so the state set stays until the wake-up. */
static void test_a_publish_waits_for_bytes_the_network_thread_has_not_written(void)
{
	struct mqtt_pkt pk;
	uint64_t gen = 0, before = direct_writes();
	int id = 0, ok;

	pthread_mutex_lock(&c->lock);
	c->wpending = 1;
	pthread_mutex_unlock(&c->lock);
	CHECK_INT(mqtt_publish(c, "cc/events", "behind", 6, 0, &id, &gen), 0);
	CHECK_INT(direct_writes(), before); /* queued, not written by the publisher */
	ok = next_packet(&pk);
	CHECK(ok);
	if (ok) {
		CHECK_INT(pk.type, MQTT_PUBLISH);
		CHECK_INT(pk.id, id);
		CHECK(pk.payload_len == 6 && memcmp(pk.payload, "behind", 6) == 0);
	}
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	static struct cc_mqtt_conf conf = { .host = "127.0.0.1", .client_id = "cc-unit-publish",
					    .protocol = CC_MQTT_V311, .keepalive_ms = 600000, .clean_session = 1,
					    .reconnect_max_ms = 1000 };
	int small = 8192, connected = 0;
	int64_t until;

	tl_prog = "unit/mqtt_publish";
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* the broker's small receive buffer, inherited by the accepted socket */
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
		printf("FAIL %s: setup: a loopback listener: %s\n", tl_prog, strerror(errno));
		return 1;
	}
	conf.port = ntohs(a.sin_port);
	c = mqtt_start(&conf, "s");
	if (!c || broker_accept() < 0) {
		printf("FAIL %s: setup: the client did not connect\n", tl_prog);
		return 1;
	}
	until = time_mono_ms() + DEADLINE_MS;
	while (!connected && time_mono_ms() < until) {
		struct timespec ts = { 0, 1000000 };
		connected = mqtt_connected(c);
		if (!connected)
			nanosleep(&ts, NULL);
	}
	if (!connected) {
		printf("FAIL %s: setup: the client did not take the CONNACK\n", tl_prog);
		return 1;
	}
	RUN(test_a_publish_is_written_by_the_publishing_thread_itself);
	RUN(test_a_publish_the_socket_takes_in_part_is_finished_whole_before_the_next);
	RUN(test_a_publish_waits_for_bytes_the_network_thread_has_not_written);
	mqtt_stop(c);
	close(bfd);
	close(lfd);
	free(rb);
	return TL_DONE();
}
