/* mqtt_raw_sub - the subscriber of bench_mqtt_sub_ceiling.sh (issue 18
 * targets 1 and 2: would an MQTT reader of our own meet them?).  Two modes,
 * the same work per message otherwise:
 *   raw (default): MQTT 3.1.1 (or 5, -V 5) on a plain TCP socket, its
 *       packets built and parsed by codec/mqtt_wire: CONNECT (clean
 *       session unless -c, keep-alive off), SUBSCRIBE to each -t filter at QoS -q, then
 *       per turn one poll() and one read() of up to -b bytes, every complete
 *       packet parsed from that buffer, and all of the turn's PUBACKs in one
 *       write(); no socketpair, no thread.
 *   -L: libmosquitto 2.0 driven as coldchaind's drivers/mqtt.c drives it
 *       (our poll, mosquitto_loop_read until drained, the burst's PUBACKs
 *       written corked): its 3 reads per packet, its wake-up byte per
 *       queued PUBACK; without the journal.
 * -W WAIT_US: after a turn of 1-2 messages, sleep
 * before the next poll, as coldchaind's interrupt moderation does (250 µs).
 * Every payload is decoded as coldchaind decodes it (codec/payload.c, no
 * daemon state): a JSON object through payload_json_open, its "t" and "rh"
 * numbers and its "time" (µs) or "ts" (ms) time; anything else as a number
 * (payload_number).  The topic is not matched against subscriptions (the
 * daemon's topic cache is outside what a reader replaces).
 * It stops after -n messages (or -T seconds without one) and prints the
 * messages, CPU per message (getrusage), and system calls per message: in
 * raw mode counted here (poll, read, write), in both modes read/write-family
 * calls from /proc/self/io (syscr, syscw).  Bounded: a packet longer than
 * the buffer, any packet mqtt_wire_next calls malformed, a QoS 2 or
 * unexpected packet, a refused subscription: exit with a message.  -v
 * prints each message's topic, size and FNV-1a (the codec's integration
 * test checks them against what mosquitto_pub sent).  A bench tool, not the daemon. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "../../codec/mqtt_wire.h"
#include "../../codec/payload.h"

#define MAX_FILTERS 8

struct opts {
	const char *host, *id, *filters[MAX_FILTERS];
	int port, qos, nfilters, libmosq, idle_s, wait_us, version, persist, verbose;
	long count;
	size_t bufsize;
};

/* what a run did */
static struct {
	long msgs, json, plain, bad, polls, reads, writes, acks, sleeps;
	uint64_t bytes;
	double sink; /* the decoded values, so the compiler keeps the decode */
	int done;
} st;
static struct opts o;

static void die(const char *msg)
{
	fprintf(stderr, "mqtt_raw_sub: %s\n", msg);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the payload, as coldchaind decodes it ---- */

static void decode(const void *p, size_t n)
{
	const char *err;
	double v;
	int64_t ns;

	if (n && *(const char *)p == '{') {
		struct payload_json j;
		if (payload_json_open(&j, p, n, &err) < 0) {
			st.bad++;
			return;
		}
		if (payload_json_number(&j, "t", &v, &err) == 0)
			st.sink += v;
		if (payload_json_number(&j, "rh", &v, &err) == 0)
			st.sink += v;
		if (payload_json_time(&j, "time", PAYLOAD_T_US, &ns, &err) == 0 ||
		    payload_json_time(&j, "ts", PAYLOAD_T_MS, &ns, &err) == 0)
			st.sink += (double)(ns & 1);
		payload_json_close(&j);
		st.json++;
	} else if (payload_number(p, n, &v, &err) == 0) {
		st.sink += v;
		st.plain++;
	} else {
		st.bad++;
	}
}

static void got_message(const void *p, size_t n)
{
	decode(p, n);
	if (++st.msgs == 1) { /* the bench waits for this line: subscribed */
		printf("first message\n");
		fflush(stdout);
	}
	if (o.count > 0 && st.msgs >= o.count)
		st.done = 1;
}

/* ---- raw MQTT 3.1.1 or 5 on codec/mqtt_wire ---- */

static void write_all(int fd, const unsigned char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		st.writes++;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			st.polls++;
			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0)
			die("write to the broker failed");
		b += w;
		n -= (size_t)w;
	}
}

static void die_wire(const char *what, int rc)
{
	fprintf(stderr, "mqtt_raw_sub: %s: %s\n", what, mqtt_wire_strerror(rc));
	exit(1);
}

/* CONNECT (keep-alive 0; clean unless -c, which in v5 asks the session to
 * outlive the connection by an hour) and SUBSCRIBE (packet id 1) */
static void send_connect_subscribe(int fd)
{
	unsigned char b[4096];
	uint8_t opts[MAX_FILTERS];
	struct mqtt_wire_connect c = { .version = o.version, .client_id = o.id, .clean = !o.persist,
				       .session_expiry = o.persist && o.version == MQTT_WIRE_V5 ? 3600 : 0 };
	int n, m;

	if (strlen(o.id) > 256)
		die("client id longer than 256 bytes");
	for (int i = 0; i < o.nfilters; i++)
		if (strlen(o.filters[i]) > 200)
			die("topic filter longer than 200 bytes");
		else
			opts[i] = (uint8_t)o.qos;
	if ((n = mqtt_wire_connect(b, sizeof(b), &c)) < 0)
		die_wire("CONNECT", n);
	if ((m = mqtt_wire_subscribe(b + n, sizeof(b) - (size_t)n, o.version, 1, o.filters, opts,
				     (size_t)o.nfilters)) < 0)
		die_wire("SUBSCRIBE", m);
	write_all(fd, b, (size_t)(n + m));
}

/* FNV-1a of a payload, for -v: the test compares it with what it sent */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* one PUBLISH: its PUBACK (QoS 1) appended to ack[*nack] */
static void on_publish(const struct mqtt_pkt *k, unsigned char *ack, size_t *nack)
{
	if (k->qos > 1)
		die("a QoS 2 PUBLISH (subscribed at QoS 0 or 1)");
	if (k->qos == 1) {
		int a = mqtt_wire_puback(ack + *nack, 4, o.version, k->id);
		if (a < 0)
			die_wire("PUBACK", a);
		*nack += (size_t)a;
		st.acks++;
	}
	if (o.verbose)
		printf("msg %.*s %zu %08x\n", (int)k->topic_len, (const char *)k->topic, k->payload_len,
		       fnv1a(k->payload, k->payload_len));
	got_message(k->payload, k->payload_len);
}

/* a packet other than PUBLISH: CONNACK, SUBACK, PINGRESP; 0 or exits */
static void on_control(const struct mqtt_pkt *k)
{
	if (k->type == MQTT_CONNACK) {
		if (k->code != 0)
			die("the broker refused the connection");
		if (o.verbose)
			printf("connack session_present=%d\n", k->session_present);
	} else if (k->type == MQTT_SUBACK) {
		for (size_t i = 0; i < k->ncodes; i++)
			if (k->codes[i] & 0x80)
				die("the broker refused a subscription");
		if (o.verbose)
			printf("suback %zu\n", k->ncodes);
	} else if (k->type == MQTT_DISCONNECT) {
		die("the broker sent DISCONNECT");
	} else if (k->type != MQTT_PINGRESP) {
		die("unexpected packet from the broker");
	}
	if (o.verbose)
		fflush(stdout);
}

/* every complete packet of b[0..len): the bytes used; PUBACKs into ack
 * (room for 4 bytes per packet: a PUBLISH is at least 4 bytes long) */
static size_t parse_packets(const unsigned char *b, size_t len, unsigned char *ack, size_t *nack)
{
	size_t at = 0;
	struct mqtt_pkt k;
	int rc;

	while ((rc = mqtt_wire_next(b + at, len - at, o.version, o.bufsize, &k)) > 0) {
		if (k.type == MQTT_PUBLISH)
			on_publish(&k, ack, nack);
		else
			on_control(&k);
		at += (size_t)rc;
	}
	if (rc < 0)
		die_wire("malformed packet from the broker", rc);
	return at;
}

static int tcp_connect(void)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	char port[16];
	int fd, one = 1;

	snprintf(port, sizeof(port), "%d", o.port);
	if (getaddrinfo(o.host, port, &hints, &ai) != 0)
		die("cannot resolve the broker's host");
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("cannot connect to the broker");
	freeaddrinfo(ai);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void run_raw(void)
{
	unsigned char *buf = malloc(o.bufsize), *ack = malloc(o.bufsize);
	size_t have = 0;
	double last = now_s();
	int fd;

	if (!buf || !ack)
		die("out of memory");
	fd = tcp_connect();
	send_connect_subscribe(fd);
	while (!st.done) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		size_t used, nack = 0;
		long before = st.msgs;
		ssize_t r;
		st.polls++;
		if (poll(&pf, 1, 1000) == 0) {
			if (now_s() - last > o.idle_s)
				break;
			continue;
		}
		r = read(fd, buf + have, o.bufsize - have);
		st.reads++;
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			die("the broker closed the connection");
		last = now_s();
		st.bytes += (uint64_t)r;
		have += (size_t)r;
		used = parse_packets(buf, have, ack, &nack);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (nack)
			write_all(fd, ack, nack);
		/* coldchaind's moderation: a turn of 1-2 messages waits before the next poll */
		if (o.wait_us && st.msgs - before <= 2 && !st.done) {
			struct timespec ts = { 0, (long)o.wait_us * 1000 };
			nanosleep(&ts, NULL);
			st.sleeps++;
		}
	}
	{ /* a normal DISCONNECT: a persistent session stays on the broker */
		unsigned char d[2];
		if (mqtt_wire_disconnect(d, sizeof(d), o.version) == 2)
			write_all(fd, d, 2);
	}
	close(fd);
	free(buf);
	free(ack);
}

/* ---- libmosquitto, in this thread ---- */

static void on_connect(struct mosquitto *m, void *u, int rc)
{
	(void)u;
	if (rc != 0)
		die("the broker refused the connection");
	for (int i = 0; i < o.nfilters; i++)
		if (mosquitto_subscribe(m, NULL, o.filters[i], o.qos) != MOSQ_ERR_SUCCESS)
			die("subscribe failed");
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg)
{
	(void)m;
	(void)u;
	got_message(msg->payload, (size_t)msg->payloadlen);
}

/* a burst, as coldchaind's drivers/mqtt.c reads it: mosquitto_loop_read of
 * one packet at a time until the socket is drained (an EAGAIN after a
 * message is the PUBACK's wake-up byte on libmosquitto's full socket pair,
 * not the end); the messages read */
static long libmosq_burst(struct mosquitto *m)
{
	long n0 = st.msgs;
	int rc;

	do {
		long n1 = st.msgs;
		errno = 0;
		rc = mosquitto_loop_read(m, 1);
		st.reads++;
		if (st.msgs != n1 && errno == EAGAIN)
			errno = 0;
	} while (rc == MOSQ_ERR_SUCCESS && errno != EAGAIN && errno != EWOULDBLOCK && mosquitto_socket(m) >= 0);
	if (rc != MOSQ_ERR_SUCCESS)
		die("the connection to the broker failed");
	return st.msgs - n0;
}

/* a burst's PUBACKs corked into one segment, as coldchaind does */
static void libmosq_write(struct mosquitto *m, long burst)
{
	int fd = mosquitto_socket(m), on = 1, off = 0, k = burst >= 2;

	if (k) {
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
		st.writes++;
	}
	if (mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS)
		die("the connection to the broker failed");
	if (k) {
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
		st.writes++;
	}
}

/* coldchaind's network loop over libmosquitto (drivers/mqtt.c, without the
 * journal): our poll, a burst read, its PUBACKs written corked, the wait */
static void run_libmosq(void)
{
	struct mosquitto *m;
	double last;

	mosquitto_lib_init();
	if (!(m = mosquitto_new(o.id, true, NULL)))
		die("mosquitto_new failed");
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_message_callback_set(m, on_message);
	if (mosquitto_connect(m, o.host, o.port, 600) != MOSQ_ERR_SUCCESS)
		die("cannot connect to the broker");
	last = now_s();
	while (!st.done) {
		struct pollfd pf = { .fd = mosquitto_socket(m), .events = POLLIN };
		long burst = 0;
		if (mosquitto_want_write(m))
			pf.events |= POLLOUT;
		st.polls++;
		if (poll(&pf, 1, 1000) == 0 && now_s() - last > o.idle_s)
			break;
		if ((pf.revents & POLLOUT) && mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS)
			die("the connection to the broker failed");
		if (pf.revents & (POLLIN | POLLHUP | POLLERR))
			burst = libmosq_burst(m);
		if (burst)
			last = now_s();
		if (mosquitto_want_write(m))
			libmosq_write(m, burst);
		mosquitto_loop_misc(m);
		if (o.wait_us && burst && burst <= 2 && !st.done) {
			struct timespec ts = { 0, (long)o.wait_us * 1000 };
			nanosleep(&ts, NULL);
			st.sleeps++;
		}
	}
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: mqtt_raw_sub -p PORT -t FILTER [-t FILTER ...] [-n COUNT] [-q QOS] [-b BUFSIZE]\n"
			"                    [-h HOST] [-i CLIENT_ID] [-T IDLE_S] [-W WAIT_US] [-V 4|5] [-c] [-v] [-L]\n"
			"  raw MQTT (one read of up to BUFSIZE = 65536 bytes per turn, a turn's PUBACKs in one write);\n"
			"  -W: after a turn of 1-2 messages wait WAIT_US before polling again (coldchaind's moderation);\n"
			"  -V: protocol level (4 = 3.1.1, 5 = 5.0; raw only); -c: a persistent session (no clean start);\n"
			"  -v: a line per CONNACK, SUBACK and message (topic, payload bytes, FNV-1a);\n"
			"  -L: libmosquitto instead; stops after COUNT messages or IDLE_S (30) seconds without one\n");
	exit(2);
}

static void parse_opts(int argc, char **argv)
{
	int opt;

	o = (struct opts){ .host = "127.0.0.1", .id = "mqtt-raw-sub", .qos = 1, .bufsize = 65536, .idle_s = 30,
		       .version = MQTT_WIRE_V311 };
	while ((opt = getopt(argc, argv, "h:p:t:n:q:b:i:T:W:LV:cv")) != -1) {
		switch (opt) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 't':
			if (o.nfilters == MAX_FILTERS)
				usage();
			o.filters[o.nfilters++] = optarg;
			break;
		case 'n': o.count = atol(optarg); break;
		case 'q': o.qos = atoi(optarg); break;
		case 'b': o.bufsize = (size_t)atol(optarg); break;
		case 'i': o.id = optarg; break;
		case 'T': o.idle_s = atoi(optarg); break;
		case 'L': o.libmosq = 1; break;
		case 'W': o.wait_us = atoi(optarg); break;
		case 'V': o.version = atoi(optarg); break;
		case 'c': o.persist = 1; break;
		case 'v': o.verbose = 1; break;
		default: usage();
		}
	}
	if (o.port <= 0 || !o.nfilters || o.qos < 0 || o.qos > 1 || o.bufsize < 64 || o.bufsize > (1u << 24) ||
	    o.idle_s <= 0 || o.count < 0 || o.wait_us < 0 || o.wait_us > 100000 ||
	    (o.version != MQTT_WIRE_V311 && o.version != MQTT_WIRE_V5) || (o.libmosq && (o.version != 4 || o.persist)))
		usage();
}

/* read/write-family system calls so far (/proc/self/io syscr, syscw) */
static void proc_io(long *r, long *w)
{
	char line[128];
	FILE *f = fopen("/proc/self/io", "r");

	*r = *w = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "syscr: %ld", r);
		sscanf(line, "syscw: %ld", w);
	}
	fclose(f);
}

static void report(double t0, double t1, long r0, long w0)
{
	struct rusage ru;
	long r1, w1;
	double us, sy, n;

	getrusage(RUSAGE_SELF, &ru);
	proc_io(&r1, &w1);
	us = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	sy = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	n = st.msgs ? (double)st.msgs : 1;
	printf("%s: %ld messages (%ld JSON, %ld numbers, %ld undecodable) in %.3f s: %.0f msg/s\n",
	       o.libmosq ? "libmosquitto" : "raw", st.msgs, st.json, st.plain, st.bad, t1 - t0,
	       (double)st.msgs / (t1 - t0 > 0 ? t1 - t0 : 1));
	printf("  CPU %.3f s (user %.3f, system %.3f) = %.2f µs per message; %.2f voluntary switches per message\n",
	       us + sy, us, sy, (us + sy) * 1e6 / n, (double)ru.ru_nvcsw / n);
	printf("  system calls per message (counted; -L: mosquitto_loop_read/_write calls and TCP_CORK setsockopts): %.3f poll, %.3f read, %.3f write, %.3f sleep = %.3f; "
		       "%.1f messages and %.0f bytes per read\n",
		       (double)st.polls / n, (double)st.reads / n, (double)st.writes / n, (double)st.sleeps / n,
		       (double)(st.polls + st.reads + st.writes + st.sleeps) / n, (double)st.msgs / (st.reads ? (double)st.reads : 1),
		       (double)st.bytes / (st.reads ? (double)st.reads : 1));
	if (r1 >= 0)
		printf("  /proc/self/io per message: %.3f read-family, %.3f write-family system calls\n",
		       (double)(r1 - r0) / n, (double)(w1 - w0) / n);
	printf("  summary: mode=%s msgs=%ld cpu_us_per_msg=%.3f syscr_per_msg=%.3f syscw_per_msg=%.3f polls_per_msg=%.3f "
	       "sleeps_per_msg=%.3f\n",
	       o.libmosq ? "libmosquitto" : "raw", st.msgs, (us + sy) * 1e6 / n, (double)(r1 - r0) / n,
	       (double)(w1 - w0) / n, (double)st.polls / n, (double)st.sleeps / n);
}

int main(int argc, char **argv)
{
	long r0, w0;
	double t0;

	parse_opts(argc, argv);
	if (o.verbose) /* a test reads the lines, also of a run it had to stop */
		setvbuf(stdout, NULL, _IOLBF, 0);
	proc_io(&r0, &w0);
	t0 = now_s();
	if (o.libmosq)
		run_libmosq();
	else
		run_raw();
	report(t0, now_s(), r0, w0);
	if (st.sink == 12345.678)
		putchar(' ');
	return o.count > 0 && st.msgs < o.count ? 1 : 0;
}
