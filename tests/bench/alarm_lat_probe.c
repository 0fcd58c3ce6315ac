/* alarm_lat_probe - the peer of bench_alert_latency.sh.  Probe mode: publishes
 * a room's sensor reading (QoS 1), alternately hot and normal, and times each
 * one from just before the write() of its PUBLISH to the read() that brings
 * the alarm event it causes (raise, then clear) on the alerts topic, both on
 * CLOCK_MONOTONIC in this one thread.  Load mode (-L RATE): publishes RATE
 * msg/s at QoS 1 on other channels until SIGTERM.  Both speak MQTT 3.1.1 on
 * raw TCP sockets of their own (see raw_connect), the packets built and
 * parsed by codec/mqtt_wire: no client library's queue, wake-up or network
 * thread is inside the measured figure.  A bench tool:
 * cJSON directly (libmosquitto only through pubcommon's clocks). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "pubcommon.h"
#include "../../codec/mqtt_wire.h"
#include "../../daemon/thread.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: alarm_lat_probe -p PORT -t SAMPLE_TOPIC -a ALERT_TOPIC -A ALARM_ID -n EVENTS [-g GAP_MS] [-l LABEL] [-S]\n"
		"       alarm_lat_probe -p PORT -L RATE [-c CHANNELS]   (load: load/sNNNN/temperature until SIGTERM)\n"
		"  -S: keep the default scheduler slice (no 100 µs EEVDF slice for the probe's thread)\n");
	exit(2);
}

static void wait_until(int64_t deadline_ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, d = deadline_ns - now;
	if (d <= 0)
		return;
	ts.tv_sec = d / 1000000000LL;
	ts.tv_nsec = d % 1000000000LL;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop)
		;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* --- a raw MQTT 3.1.1 client: CONNECT, SUBSCRIBE, PUBLISH, PUBACK --------- */

static int write_all(int fd, const unsigned char *p, size_t len)
{
	size_t off = 0;

	while (off < len && !stop) {
		ssize_t w = write(fd, p + off, len - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		else
			poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 100);
	}
	return off == len ? 0 : -1;
}

/* Connects to 127.0.0.1:PORT as client ID (clean session, keepalive 60 s),
 * TCP_NODELAY before the first byte; the socket after an accepted CONNACK,
 * non-blocking when NONBLOCK, or -1 with a message on stderr (no CONNACK
 * within 5 s included).  A receive
 * timeout of 100 ms lets blocking reads see deadlines and SIGTERM. */
static int raw_connect(int port, const char *id, int nonblock)
{
	unsigned char pkt[96], ack[4];
	struct mqtt_wire_connect c = { .version = MQTT_WIRE_V311, .client_id = id, .clean = 1, .keepalive = 60 };
	struct mqtt_pkt k;
	size_t got = 0;
	int o = strlen(id) <= 64 ? mqtt_wire_connect(pkt, sizeof(pkt), &c) : -EINVAL;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	ssize_t r = 0;
	int64_t deadline = pub_mono_ns() + 5000000000LL; /* for the CONNACK */

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	errno = 0;
	if (o > 0 && fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && write_all(fd, pkt, (size_t)o) == 0)
		while (got < 4 && ((r = read(fd, ack + got, 4 - got)) > 0 ||
				   (r < 0 && errno == EAGAIN && !stop && pub_mono_ns() < deadline)))
			got += r > 0 ? (size_t)r : 0;
	if (got != 4 || mqtt_wire_next(ack, 4, MQTT_WIRE_V311, 4, &k) != 4 || k.type != MQTT_CONNACK || k.code != 0) {
		fprintf(stderr, "alarm_lat_probe: connection %s to 127.0.0.1:%d: %s\n", id, port,
			errno ? strerror(errno) : "refused");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* A QoS 1 PUBLISH of PAYLOAD on TOPIC with packet id ID (1..65535) into
 * buf[0..cap); its length, 0 if it does not fit. */
static size_t publish_packet(unsigned char *buf, size_t cap, const char *topic, const char *payload, unsigned id)
{
	int n = mqtt_wire_publish(buf, cap, MQTT_WIRE_V311, topic, strlen(topic), 1, 0, (uint16_t)id, payload,
				  strlen(payload));

	return n > 0 ? (size_t)n : 0;
}

/* --- the alarm receiver: a blocking read on a socket of its own ----------- */

/* What the subscriber's socket brought; a packet's receipt is the time of
 * the read() that completed it, taken as that read() returned. */
struct rd {
	int fd;
	size_t len, off;        /* b[off..len) not yet consumed */
	int64_t t_mono, t_real; /* the last read()'s return */
	unsigned char b[65536];
};

/* The next packet (*k, pointing into r->b until the next call), with
 * blocking reads until one is complete: 1; 0 at DEADLINE (CLOCK_MONOTONIC)
 * or on SIGTERM; -1 on a closed, broken or malformed connection. */
static int rd_next(struct rd *r, int64_t deadline, struct mqtt_pkt *k)
{
	for (;;) {
		int n = r->len > r->off ? mqtt_wire_next(r->b + r->off, r->len - r->off, MQTT_WIRE_V311, sizeof(r->b), k) : 0;
		ssize_t got;

		if (n < 0)
			return -1;
		if (n > 0) {
			r->off += (size_t)n;
			return 1;
		}
		if (r->off) {
			memmove(r->b, r->b + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		}
		if (stop || pub_mono_ns() >= deadline)
			return 0;
		got = read(r->fd, r->b + r->len, sizeof(r->b) - r->len);
		if (got > 0) {
			r->t_mono = pub_mono_ns();
			r->t_real = pub_real_ns();
			r->len += (size_t)got;
			/* ACK what came at once, after the timestamps: a delayed ACK
			 * of a packet we answer nothing to (the SUBACK) would hold the
			 * broker's next write to us 40 ms behind its Nagle */
			setsockopt(r->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
		}
		else if (got == 0 || (errno != EAGAIN && errno != EINTR))
			return -1;
	}
}

/* The event the probe waits for: its type, the alarm and the reading's value. */
struct want {
	const char *ev, *id;
	double val;
};

/* 1 when PAYLOAD is W's event, with *ev_time_ns its time_ns (0 if none). */
static int ev_match(const unsigned char *payload, size_t len, const struct want *w, int64_t *ev_time_ns)
{
	cJSON *o = cJSON_ParseWithLength((const char *)payload, len);
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
	const cJSON *tn = cJSON_GetObjectItemCaseSensitive(o, "time_ns");
	int match = cJSON_IsString(ev) && cJSON_IsString(id) && cJSON_IsNumber(v) &&
		    strcmp(ev->valuestring, w->ev) == 0 && strcmp(id->valuestring, w->id) == 0 &&
		    fabs(v->valuedouble - w->val) < 1e-6;

	if (match)
		*ev_time_ns = cJSON_IsNumber(tn) ? (int64_t)tn->valuedouble : 0;
	cJSON_Delete(o);
	return match;
}

/* One packet from the broker on the subscriber's connection: a PUBLISH is
 * matched against W (when W->ev), then acknowledged (QoS 1); 1 on W's event. */
static int sub_packet(int fd, const struct mqtt_pkt *k, const struct want *w, int64_t *ev_time_ns)
{
	unsigned char ack[4];
	int match;

	if (k->type != MQTT_PUBLISH)
		return 0;
	match = w && w->ev && ev_match(k->payload, k->payload_len, w, ev_time_ns);
	if (k->qos == 1 && mqtt_wire_puback(ack, sizeof(ack), MQTT_WIRE_V311, k->id) == 4)
		write_all(fd, ack, sizeof(ack));
	return match;
}

/* Connects the alarm receiver and subscribes to TOPIC at QoS 1; 0 after
 * the SUBACK, -1 with a message on stderr. */
static int sub_start(int port, const char *topic, struct rd *r)
{
	unsigned char pkt[300];
	const uint8_t qos1 = 1;
	struct mqtt_pkt k;
	size_t tl = strlen(topic);
	int o;
	char id[40];
	int64_t deadline = pub_mono_ns() + 5000000000LL;

	snprintf(id, sizeof(id), "alarm-lat-sub-%d", (int)getpid());
	if (tl > 256 || (r->fd = raw_connect(port, id, 0)) < 0)
		return -1;
	o = mqtt_wire_subscribe(pkt, sizeof(pkt), MQTT_WIRE_V311, 1, &topic, &qos1, 1);
	if (o < 0 || write_all(r->fd, pkt, (size_t)o) < 0)
		return -1;
	while (rd_next(r, deadline, &k) == 1) {
		if (k.type == MQTT_SUBACK)
			return k.codes[0] != 0x80 ? 0 : -1;
		sub_packet(r->fd, &k, NULL, NULL);
	}
	fprintf(stderr, "alarm_lat_probe: no SUBACK for %s\n", topic);
	return -1;
}

/* Waits for W's event: 1 with its receipt times and time_ns; 0 none by
 * DEADLINE; -1 on a broken connection. */
static int wait_event(struct rd *r, const struct want *w, int64_t deadline, int64_t *t, int64_t *tr, int64_t *evt)
{
	struct mqtt_pkt k;
	int rc;

	while ((rc = rd_next(r, deadline, &k)) == 1)
		if (sub_packet(r->fd, &k, w, evt)) {
			*t = r->t_mono;
			*tr = r->t_real;
			return 1;
		}
	return rc;
}

/* --- the load: a raw-socket QoS 1 publisher ------------------------------- */

/*
 * libmosquitto's threaded client cost ~40 µs of CPU per QoS 1 message here
 * (a wake-up write and a select per packet): at 15,000 msg/s the loader alone
 * took most of a core from the broker and the daemon it loads.  This writes
 * each millisecond's due PUBLISHes in one write() and reads the PUBACKs in
 * bulk, MQTT 3.1.1 on a plain TCP socket, at most LOAD_WINDOW unacknowledged.
 */
#define LOAD_WINDOW 2000

/* Appends a QoS 1 PUBLISH (packet id 1..65535) to buf[0..cap); its length. */
static size_t load_packet(unsigned char *buf, size_t cap, long i, int nch)
{
	char topic[64], payload[16];

	snprintf(topic, sizeof(topic), "load/s%04ld/temperature", i % nch);
	snprintf(payload, sizeof(payload), "%.2f", 2.0 + (double)(i % 300) / 100.0);
	return publish_packet(buf, cap, topic, payload, (unsigned)(i % 65535) + 1);
}

/* Counts the PUBACKs that have come (4 bytes each: nothing else comes on
 * a connection that subscribes to nothing and sends no PINGREQ within its
 * keepalive); -1 on a broken connection. */
static int load_read_acks(int fd, long *acked, long long *bytes)
{
	unsigned char buf[16384];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		*bytes += r;
	*acked = (long)(*bytes / 4);
	return r == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
}

static int run_load(int port, long rate, int nch)
{
	static unsigned char out[256 * 1024];
	long sent = 0, acked = 0;
	long long bytes = 0;
	int64_t t0 = pub_mono_ns(), t;
	int fd = raw_connect(port, "lat-load-r", 1);

	if (fd < 0)
		return 1;
	while (!stop) {
		/* as many as the rate allows by now, in 1 ms steps, one write */
		long due = (long)((double)(pub_mono_ns() - t0) * (double)rate / 1e9);
		size_t len = 0;
		if (load_read_acks(fd, &acked, &bytes) < 0)
			break;
		for (; sent < due && sent - acked < LOAD_WINDOW && len + 128 < sizeof(out); sent++)
			len += load_packet(out + len, sizeof(out) - len, sent, nch);
		if (write_all(fd, out, len) < 0 && !stop)
			return 1;
		wait_until(pub_mono_ns() + 1000000);
	}
	t = pub_mono_ns();
	printf("  load: %ld QoS 1 messages in %.1f s: %.0f msg/s (asked %ld), %ld acknowledged\n", sent,
	       (double)(t - t0) / 1e9, (double)sent * 1e9 / (double)(t - t0), rate, acked);
	close(fd);
	return 0;
}

/* --- the probe ------------------------------------------------------------ */

/* Where the tail lies (sorted lat[0..n)): a stall of 40 ms is Linux's
 * delayed-ACK minimum, the sign of Nagle on some hop (issue 18). */
static void print_tail(const double *lat, int n)
{
	int over2 = 0, over10 = 0, ack40 = 0;

	for (int i = 0; i < n; i++) {
		over2 += lat[i] > 2.0;
		over10 += lat[i] > 10.0;
		ack40 += lat[i] >= 38.0 && lat[i] < 50.0;
	}
	printf("  tail: %d events over 2 ms, %d over 10 ms, %d in 38-50 ms (a delayed ACK's 40 ms)\n", over2, over10,
	       ack40);
}

/* The figures of a run: sample published -> alarm received, and its split
 * at the event's time (publish -> daemon, daemon -> alarm received). */
struct lat {
	double *all, *in, *out;
	int got, lost;
};

static void report(struct lat *L, int n, const char *label)
{
	int got = L->got, p99 = (int)(0.99 * got) < got ? (int)(0.99 * got) : got - 1;

	qsort(L->all, (size_t)got, sizeof(double), cmp_dbl);
	qsort(L->in, (size_t)got, sizeof(double), cmp_dbl);
	qsort(L->out, (size_t)got, sizeof(double), cmp_dbl);
	if (got) {
		printf("alarm latency %s: p50 %.2f p99 %.2f ms over %d events (target p99 ≤ 2 ms): %s; max %.2f ms%s\n",
		       label, L->all[got / 2], L->all[p99], got, got >= 1000 && L->all[p99] <= 2.0 ? "met" : "not met",
		       L->all[got - 1], L->lost ? " (some events never arrived)" : "");
		print_tail(L->all, got);
		printf("  split at the event's time (its reading's receipt, ms resolution): publish -> daemon p50 %.2f "
		       "p99 %.2f ms; daemon -> alarm received p50 %.2f p99 %.2f ms\n",
		       L->in[got / 2], L->in[p99], L->out[got / 2], L->out[p99]);
	}
	if (L->lost)
		printf("  %d of %d events not received within 5 s\n", L->lost, n);
}

/* The probe's own cost, for comparing it with the figures it measures. */
static void print_self(int events)
{
	struct rusage ru;

	if (events <= 0 || getrusage(RUSAGE_SELF, &ru) < 0)
		return;
	double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	printf("  the probe itself: CPU %.0f µs per event, %ld voluntary and %ld involuntary context switches in %d events\n",
	       cpu / events, ru.ru_nvcsw, ru.ru_nivcsw, events);
}

/* Event I: publishes its reading on PFD and waits for its alarm event on
 * R; 0 (received or counted lost), -1 on a broken connection. */
static int probe_one(int pfd, struct rd *r, const char *topic, const char *alarm_id, int i, struct lat *L)
{
	char payload[32];
	unsigned char pkt[512];
	/* a value of its own per event: a redelivered older event never matches */
	double v = i % 2 == 0 ? 10.0 + (double)(i % 1000) / 100.0 : 3.0 + (double)(i % 1000) / 1000.0;
	struct want w = { i % 2 == 0 ? "raise" : "clear", alarm_id, v };
	int64_t t0, t0r, t = 0, tr = 0, evt = 0;
	size_t len;
	int rc;

	snprintf(payload, sizeof(payload), "%.3f", v);
	len = publish_packet(pkt, sizeof(pkt), topic, payload, (unsigned)(i % 65535) + 1);
	t0r = pub_real_ns();
	t0 = pub_mono_ns();
	if (write_all(pfd, pkt, len) < 0)
		return -1;
	if ((rc = wait_event(r, &w, t0 + 5000000000LL, &t, &tr, &evt)) <= 0) {
		L->lost += rc == 0 && !stop;
		return rc;
	}
	/* the event's time is the reading's receipt, in whole ms */
	L->in[L->got] = (double)(evt - t0r) / 1e6;
	L->out[L->got] = (double)(tr - evt) / 1e6;
	L->all[L->got++] = (double)(t - t0) / 1e6;
	return 0;
}

/* A connection of its own for publishing and one for the alarms, as a
 * sensor and an alarm receiver have; TCP_NODELAY on both (a sensor's own
 * setting, not the daemon's, would otherwise be measured).  One thread:
 * it writes the reading and then blocks in read() on the receiver's socket. */
static int run_probe(int port, const char *topic, const char *alert, const char *alarm_id, int n, int gap_ms,
		     const char *label)
{
	struct lat L = { calloc((size_t)n, sizeof(double)), calloc((size_t)n, sizeof(double)),
			 calloc((size_t)n, sizeof(double)), 0, 0 };
	struct rd *r = calloc(1, sizeof(*r));
	char id[40];
	long acked = 0;
	long long bytes = 0;
	int pfd = -1, i = 0;

	snprintf(id, sizeof(id), "alarm-lat-pub-%d", (int)getpid());
	if (L.all && L.in && L.out && r && sub_start(port, alert, r) == 0 && (pfd = raw_connect(port, id, 1)) >= 0)
		for (; i < n && !stop && probe_one(pfd, r, topic, alarm_id, i, &L) == 0; i++) {
			load_read_acks(pfd, &acked, &bytes);
			/* paced: the room's flood window counts raises per second */
			wait_until(pub_mono_ns() + (int64_t)gap_ms * 1000000);
		}
	report(&L, n, label);
	print_self(i);
	if (i < n && !stop)
		printf("  the probe's connection broke after %d of %d events\n", i, n);
	if (pfd >= 0)
		close(pfd);
	if (r && r->fd > 0)
		close(r->fd);
	free(L.all);
	free(L.in);
	free(L.out);
	free(r);
	return L.got ? 0 : 1;
}

/* asked: -S not given; rc: thread_prefer_latency's (0 or -errno) */
static void print_slice(int asked, int rc)
{
	if (asked && rc == 0 && thread_has_latency_slice())
		printf("  probe: raw sockets, one thread, a %d µs EEVDF slice (as the daemon's alert threads)\n",
		       THREAD_LATENCY_SLICE_US);
	else if (rc == 0)
		printf("  probe: raw sockets, one thread, the scheduler's default slice%s\n",
		       asked ? " (an administrator's policy kept)" : "");
	else
		printf("  probe: raw sockets, one thread, the default slice (sched_setattr: %s)\n", strerror(-rc));
}

int main(int argc, char **argv)
{
	const char *topic = NULL, *alert = NULL, *label = "idle", *alarm_id = NULL;
	int port = 0, n = 1000, gap_ms = 20, nch = 1000, opt, slice = 1;
	long rate = 0;

	while ((opt = getopt(argc, argv, "p:t:a:A:n:g:l:L:c:S")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 't': topic = optarg; break;
		case 'a': alert = optarg; break;
		case 'A': alarm_id = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'g': gap_ms = atoi(optarg); break;
		case 'l': label = optarg; break;
		case 'L': rate = atol(optarg); break;
		case 'c': nch = atoi(optarg); break;
		case 'S': slice = 0; break;
		default: usage();
		}
	}
	if (port <= 0 || n <= 0 || gap_ms < 0 || nch <= 0 || (!rate && (!topic || !alert || !alarm_id)) ||
	    (topic && strlen(topic) > 256))
		usage();
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (rate)
		return run_load(port, rate, nch);
	print_slice(slice, slice ? thread_prefer_latency() : 0);
	return run_probe(port, topic, alert, alarm_id, n, gap_ms, label);
}
