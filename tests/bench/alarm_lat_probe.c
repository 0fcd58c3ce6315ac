/* alarm_lat_probe - the peer of bench_alert_latency.sh.  Probe mode: publishes
 * a room's sensor reading (QoS 1), alternately hot and normal, and times each
 * one from just before the publish to the receipt of the alarm event it
 * causes (raise, then clear) on the alerts topic, both on CLOCK_MONOTONIC in
 * this one process.  Load mode (-L RATE): publishes RATE msg/s at QoS 1 on
 * other channels until SIGTERM, on a raw socket (see run_load).  A bench tool:
 * libmosquitto and cJSON directly. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "pubcommon.h"

static int subscribed; /* under pub_mu */
/* the event the probe waits for: its type and the reading's value */
static const char *want_ev, *want_id;
static double want_val;
static int64_t got_ns, got_real_ns, ev_time_ns;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *q)
{
	(void)m;
	(void)arg;
	(void)mid;
	(void)n;
	(void)q;
	pthread_mutex_lock(&pub_mu);
	subscribed = 1;
	pthread_cond_broadcast(&pub_cv);
	pthread_mutex_unlock(&pub_mu);
}

/* Receipt time first: the parse is not part of the latency. */
static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	int64_t t = pub_mono_ns(), tr = pub_real_ns();
	cJSON *o = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
	const cJSON *tn = cJSON_GetObjectItemCaseSensitive(o, "time_ns");

	(void)m;
	(void)arg;
	pthread_mutex_lock(&pub_mu);
	if (want_ev && !got_ns && cJSON_IsString(ev) && cJSON_IsString(id) && cJSON_IsNumber(v) &&
	    strcmp(ev->valuestring, want_ev) == 0 && strcmp(id->valuestring, want_id) == 0 &&
	    fabs(v->valuedouble - want_val) < 1e-6) {
		got_ns = t;
		got_real_ns = tr;
		ev_time_ns = cJSON_IsNumber(tn) ? (int64_t)tn->valuedouble : 0;
		pthread_cond_broadcast(&pub_cv);
	}
	pthread_mutex_unlock(&pub_mu);
	cJSON_Delete(o);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: alarm_lat_probe -p PORT -t SAMPLE_TOPIC -a ALERT_TOPIC -A ALARM_ID -n EVENTS [-g GAP_MS] [-l LABEL]\n"
		"       alarm_lat_probe -p PORT -L RATE [-c CHANNELS]   (load: load/sNNNN/temperature until SIGTERM)\n");
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

/* Waits on cv until pred or the deadline (CLOCK_MONOTONIC); under mu. */
static int cv_wait(int64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = deadline_ns / 1000000000LL, .tv_nsec = deadline_ns % 1000000000LL };
	return pthread_cond_timedwait(&pub_cv, &pub_mu, &ts);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
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

static int load_connect(int port)
{
	static const unsigned char conn[] = { 0x10, 22, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 10,
					      'l', 'a', 't', '-', 'l', 'o', 'a', 'd', '-', 'r' };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	unsigned char ack[4];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, conn, sizeof(conn)) != (ssize_t)sizeof(conn) || read(fd, ack, 4) != 4 || ack[0] != 0x20 ||
	    ack[3] != 0) {
		fprintf(stderr, "alarm_lat_probe: load connection to 127.0.0.1:%d: %s\n", port,
			errno ? strerror(errno) : "refused");
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Appends a QoS 1 PUBLISH (packet id 1..65535) to buf; its length. */
static size_t load_packet(unsigned char *buf, long i, int nch)
{
	char topic[64], payload[16];
	int tl = snprintf(topic, sizeof(topic), "load/s%04ld/temperature", i % nch);
	int pl = snprintf(payload, sizeof(payload), "%.2f", 2.0 + (double)(i % 300) / 100.0);
	unsigned id = (unsigned)(i % 65535) + 1, rem = 2 + (unsigned)tl + 2 + (unsigned)pl;
	size_t o = 0;

	buf[o++] = 0x32; /* PUBLISH, QoS 1 */
	buf[o++] = (unsigned char)rem; /* < 128 */
	buf[o++] = 0;
	buf[o++] = (unsigned char)tl;
	memcpy(buf + o, topic, (size_t)tl);
	o += (size_t)tl;
	buf[o++] = (unsigned char)(id >> 8);
	buf[o++] = (unsigned char)id;
	memcpy(buf + o, payload, (size_t)pl);
	return o + (size_t)pl;
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
	int fd = load_connect(port);

	if (fd < 0)
		return 1;
	while (!stop) {
		/* as many as the rate allows by now, in 1 ms steps, one write */
		long due = (long)((double)(pub_mono_ns() - t0) * (double)rate / 1e9);
		size_t len = 0, off = 0;
		if (load_read_acks(fd, &acked, &bytes) < 0)
			break;
		for (; sent < due && sent - acked < LOAD_WINDOW && len + 128 < sizeof(out); sent++)
			len += load_packet(out + len, sent, nch);
		while (off < len && !stop) {
			ssize_t w = write(fd, out + off, len - off);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				return 1;
			else
				poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 100);
		}
		wait_until(pub_mono_ns() + 1000000);
	}
	t = pub_mono_ns();
	printf("  load: %ld QoS 1 messages in %.1f s: %.0f msg/s (asked %ld), %ld acknowledged\n", sent,
	       (double)(t - t0) / 1e9, (double)sent * 1e9 / (double)(t - t0), rate, acked);
	close(fd);
	return 0;
}

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

static int run_probe(struct mosquitto *m, struct mosquitto *sub, const char *topic, const char *alert, int n, int gap_ms,
		     const char *label)
{
	double *lat = calloc((size_t)n, sizeof(*lat)), *hin = calloc((size_t)n, sizeof(*hin));
	double *hout = calloc((size_t)n, sizeof(*hout));
	int got = 0, lost = 0;

	if (!lat || !hin || !hout || mosquitto_subscribe(sub, NULL, alert, 1) != MOSQ_ERR_SUCCESS)
		return 1;
	pthread_mutex_lock(&pub_mu);
	while (!subscribed)
		cv_wait(pub_mono_ns() + 1000000000LL);
	pthread_mutex_unlock(&pub_mu);
	for (int i = 0; i < n && !stop; i++) {
		char payload[32];
		/* a value of its own per event: a redelivered older event never matches */
		double v = i % 2 == 0 ? 10.0 + (double)(i % 1000) / 100.0 : 3.0 + (double)(i % 1000) / 1000.0;
		int plen = snprintf(payload, sizeof(payload), "%.3f", v);
		int64_t t0, t0r, deadline;

		pthread_mutex_lock(&pub_mu);
		want_ev = i % 2 == 0 ? "raise" : "clear";
		want_val = v;
		got_ns = 0;
		pthread_mutex_unlock(&pub_mu);
		t0r = pub_real_ns();
		t0 = pub_mono_ns();
		if (mosquitto_publish(m, NULL, topic, plen, payload, 1, false) != MOSQ_ERR_SUCCESS)
			return 1;
		deadline = t0 + 5000000000LL;
		pthread_mutex_lock(&pub_mu);
		while (!got_ns && pub_mono_ns() < deadline)
			cv_wait(deadline);
		if (got_ns) {
			/* the event's time is the reading's receipt, in whole ms */
			hin[got] = (double)(ev_time_ns - t0r) / 1e6;
			hout[got] = (double)(got_real_ns - ev_time_ns) / 1e6;
			lat[got++] = (double)(got_ns - t0) / 1e6;
		}
		else
			lost++;
		want_ev = NULL;
		pthread_mutex_unlock(&pub_mu);
		/* paced: the room's flood window counts raises per second */
		wait_until(pub_mono_ns() + (int64_t)gap_ms * 1000000);
	}
	qsort(lat, (size_t)got, sizeof(*lat), cmp_dbl);
	if (got)
		printf("alarm latency %s: p50 %.2f p99 %.2f ms over %d events (target p99 ≤ 2 ms): %s; max %.2f ms%s\n",
		       label, lat[got / 2], lat[(int)(0.99 * got) < got ? (int)(0.99 * got) : got - 1],
		       got, got >= 1000 && lat[(int)(0.99 * got)] <= 2.0 ? "met" : "not met", lat[got - 1],
		       lost ? " (some events never arrived)" : "");
	if (got)
		print_tail(lat, got);
	qsort(hin, (size_t)got, sizeof(*hin), cmp_dbl);
	qsort(hout, (size_t)got, sizeof(*hout), cmp_dbl);
	if (got)
		printf("  split at the event's time (its reading's receipt, ms resolution): publish -> daemon p50 %.2f "
		       "p99 %.2f ms; daemon -> alarm received p50 %.2f p99 %.2f ms\n",
		       hin[got / 2], hin[(int)(0.99 * got)], hout[got / 2], hout[(int)(0.99 * got)]);
	if (lost)
		printf("  %d of %d events not received within 5 s\n", lost, n);
	free(lat);
	free(hin);
	free(hout);
	return got ? 0 : 1;
}

/* A connection of its own for publishing and for the alarms, as a sensor
 * and an alarm receiver have; TCP_NODELAY on both (a sensor's own setting,
 * not the daemon's, would otherwise be measured). */
static struct mosquitto *client_start(const char *role, int port)
{
	char id[64];
	struct mosquitto *m;

	snprintf(id, sizeof(id), "alarm-lat-%s-%d", role, (int)getpid());
	if (!(m = pub_new("alarm_lat_probe", id, 1, 2000)))
		return NULL;
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	return pub_start(m, "alarm_lat_probe", "127.0.0.1", port, 60) < 0 ? NULL : m;
}

int main(int argc, char **argv)
{
	const char *topic = NULL, *alert = NULL, *label = "idle";
	int port = 0, n = 1000, gap_ms = 20, nch = 1000, opt, rc;
	long rate = 0;
	struct mosquitto *m, *sub;

	want_id = NULL;
	while ((opt = getopt(argc, argv, "p:t:a:A:n:g:l:L:c:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 't': topic = optarg; break;
		case 'a': alert = optarg; break;
		case 'A': want_id = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'g': gap_ms = atoi(optarg); break;
		case 'l': label = optarg; break;
		case 'L': rate = atol(optarg); break;
		case 'c': nch = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || n <= 0 || gap_ms < 0 || nch <= 0 || (!rate && (!topic || !alert || !want_id)))
		usage();
	pub_cv_monotonic();
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	setvbuf(stdout, NULL, _IOLBF, 0);
	mosquitto_lib_init();
	if (rate) {
		rc = run_load(port, rate, nch);
		mosquitto_lib_cleanup();
		return rc;
	}
	m = client_start("pub", port);
	sub = client_start("sub", port);
	if (!m || !sub)
		return 1;
	rc = run_probe(m, sub, topic, alert, n, gap_ms, label);
	pub_close(m);
	if (sub)
		pub_close(sub);
	mosquitto_lib_cleanup();
	return rc;
}
