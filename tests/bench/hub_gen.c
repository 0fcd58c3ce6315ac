/* hub_gen - the load generator of bench_hub.sh (issue 18 target 2): SITES x
 * CHANNELS sensors, one message per channel every PERIOD seconds, spread
 * evenly over the period (message i is due at t0 + i / rate, never a burst per
 * round), for DURATION seconds.  Half the channels of a site publish JSON with
 * a time field the way an ESP32 does, half a plain number:
 *   hubj/sNNNN/rNNNN/sNNNN-kKK            {"t":4.25,"ts":1781226000123}   (even K)
 *   hub/sNNNN/rNNNN/sNNNN-kKK/humidity    93.1                            (odd K)
 * At the end it prints the messages published (acknowledged at QoS 1), so the
 * bench can compare them with what the daemon stored.  A bench tool, not the
 * daemon: it uses libmosquitto directly. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "pubcommon.h"

static long njson; /* of the messages published, JSON ones (the rest plain) */

static long long epoch_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until(double t)
{
	double d = t - pub_now_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void usage(void)
{
	fprintf(stderr, "usage: hub_gen -p PORT [-s SITES] [-c CHANNELS] [-P PERIOD_S] [-d DURATION_S] [-q QOS] "
			"[-w WINDOW] [-h HOST] [-f COUNTFILE]\n"
			"  defaults: 2000 sites x 50 channels, one message per channel every 10 s, 60 s, QoS 1;\n"
			"  COUNTFILE gets the messages acknowledged so far, about once a second\n");
	exit(2);
}

struct opts {
	const char *host, *countfile;
	int port, sites, chans, qos, window;
	double period, duration;
};

/* message i of the run: channel-major, so consecutive messages go to
 * different sites (a real hub's sensors are not synchronised per site) */
static int format_msg(const struct opts *o, long i, char *topic, size_t tl, char *payload, size_t pl)
{
	long n = (long)o->sites * o->chans, idx = i % n, round = i / n;
	int k = (int)(idx / o->sites), s = (int)(idx % o->sites);
	double v = 2.0 + (double)((idx * 7 + round) % 300) / 100.0;

	if (k % 2 == 0) {
		njson++;
		snprintf(topic, tl, "hubj/s%04d/r%04d/s%04d-k%02d", s, s, s, k);
		return snprintf(payload, pl, "{\"t\":%.2f,\"ts\":%lld}", v, epoch_ms());
	}
	snprintf(topic, tl, "hub/s%04d/r%04d/s%04d-k%02d/humidity", s, s, s, k);
	return snprintf(payload, pl, "%.1f", 88.0 + v);
}

static void write_count(const char *path, long n)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return;
	fprintf(f, "%ld\n", n);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static int run(struct mosquitto *m, const struct opts *o, long total, double rate)
{
	double t0 = pub_now_s(), next_count = t0 + 1;

	for (long i = 0; i < total; i++) {
		char topic[96], payload[96];
		int plen, rc;

		sleep_until(t0 + (double)i / rate);
		plen = format_msg(o, i, topic, sizeof(topic), payload, sizeof(payload));
		/* our own window: at QoS 0 libmosquitto would queue without bound */
		pub_wait_window(i, o->window);
		rc = mosquitto_publish(m, NULL, topic, plen, payload, o->qos, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "hub_gen: publish %ld: %s\n", i, mosquitto_strerror(rc));
			return -1;
		}
		if (o->countfile && pub_now_s() >= next_count) {
			write_count(o->countfile, pub_acked);
			next_count += 1;
		}
	}
	pub_wait_acked(total);
	return 0;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int opt;

	*o = (struct opts){ .host = "127.0.0.1", .sites = 2000, .chans = 50, .qos = 1, .window = 1000,
			    .period = 10, .duration = 60 };
	while ((opt = getopt(argc, argv, "h:p:s:c:P:d:q:w:f:")) != -1) {
		switch (opt) {
		case 'h': o->host = optarg; break;
		case 'p': o->port = atoi(optarg); break;
		case 's': o->sites = atoi(optarg); break;
		case 'c': o->chans = atoi(optarg); break;
		case 'P': o->period = atof(optarg); break;
		case 'd': o->duration = atof(optarg); break;
		case 'q': o->qos = atoi(optarg); break;
		case 'w': o->window = atoi(optarg); break;
		case 'f': o->countfile = optarg; break;
		default: usage();
		}
	}
	if (o->port <= 0 || o->sites <= 0 || o->sites > 9999 || o->chans <= 0 || o->chans > 99 || o->period <= 0 ||
	    o->duration <= 0 || o->qos < 0 || o->qos > 1 || o->window <= 0)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o;
	struct mosquitto *m;
	double rate, t0, t1;
	long total;
	struct rusage ru;

	parse_opts(argc, argv, &o);
	rate = (double)o.sites * o.chans / o.period;
	total = (long)(rate * o.duration);
	mosquitto_lib_init();
	if (!(m = pub_new("hub_gen", "hub-gen", 1, o.window)) || pub_start(m, "hub_gen", o.host, o.port, 60) < 0)
		return 1;
	t0 = pub_now_s();
	if (run(m, &o, total, rate) < 0)
		return 1;
	t1 = pub_now_s();
	if (o.countfile)
		write_count(o.countfile, pub_acked);
	getrusage(RUSAGE_SELF, &ru);
	printf("published %ld messages (%ld JSON, %ld plain; %d sites x %d channels every %g s = %.0f msg/s) at QoS %d "
	       "in %.2f s: %.0f msg/s, CPU %.2f s\n",
	       total, njson, total - njson, o.sites, o.chans, o.period, rate, o.qos, t1 - t0, (double)total / (t1 - t0),
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	pub_close(m);
	mosquitto_lib_cleanup();
	return 0;
}
