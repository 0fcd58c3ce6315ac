/* mqtt_pub_bench - the publisher of bench_mqtt_e2e.sh: N messages as fast as
 * the broker takes them, with a large in-flight window, half plain numbers
 * and half JSON (-j: all JSON, each with a time field); the same run feeds
 * coldchaind and mosquitto_sub, so the two rates compare.  A bench tool, not the daemon: it uses libmosquitto directly. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "pubcommon.h"

static void usage(void)
{
	fprintf(stderr, "usage: mqtt_pub_bench -p PORT -n COUNT [-q QOS] [-w WINDOW] [-h HOST] [-i CLIENT_ID] [-j]\n"
			"  message i: even: bench/sNNN/temperature \"4.25\"; odd: benchj/sNNN {\"t\":4.25,\"rh\":93.1};\n"
			"  -j: every message benchj/sNNN {\"time\":EPOCH_US,\"t\":4.25,\"rh\":93.1};\n"
			"  the last: bench/last/temperature COUNT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *id = "mqtt-pub-bench";
	int port = 0, qos = 1, window = 1000, opt, rc, json_only = 0;
	long n = 0;
	struct mosquitto *m;
	double t0, t1;
	struct rusage ru;

	while ((opt = getopt(argc, argv, "h:p:n:q:w:i:j")) != -1) {
		switch (opt) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'q': qos = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'i': id = optarg; break;
		case 'j': json_only = 1; break;
		default: usage();
		}
	}
	if (port <= 0 || n <= 0 || qos < 0 || qos > 1 || window <= 0)
		usage();
	mosquitto_lib_init();
	if (!(m = pub_new("mqtt_pub_bench", id, 1, window)) || pub_start(m, "mqtt_pub_bench", host, port, 60) < 0)
		return 1;

	t0 = pub_now_s();
	for (long i = 0; i < n; i++) {
		char topic[64], payload[96];
		int plen;
		double v = 2.0 + (double)(i % 1000) / 100.0;

		if (i == n - 1) {
			snprintf(topic, sizeof(topic), "bench/last/temperature");
			plen = snprintf(payload, sizeof(payload), "%ld", n);
		} else if (json_only) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			snprintf(topic, sizeof(topic), "benchj/s%03ld", i % 100);
			plen = snprintf(payload, sizeof(payload), "{\"time\":%lld,\"t\":%.2f,\"rh\":%.1f}",
					(long long)now.tv_sec * 1000000 + now.tv_nsec / 1000, v, 90.0 + (double)(i % 50) / 10.0);
		} else if (i % 2 == 0) {
			snprintf(topic, sizeof(topic), "bench/s%03ld/temperature", (i / 2) % 100);
			plen = snprintf(payload, sizeof(payload), "%.2f", v);
		} else {
			snprintf(topic, sizeof(topic), "benchj/s%03ld", (i / 2) % 100);
			plen = snprintf(payload, sizeof(payload), "{\"t\":%.2f,\"rh\":%.1f}", v, 90.0 + (double)(i % 50) / 10.0);
		}
		/* our own window: at QoS 0 libmosquitto would queue without bound */
		pub_wait_window(i, window);
		rc = mosquitto_publish(m, NULL, topic, plen, payload, qos, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "mqtt_pub_bench: publish %ld: %s\n", i, mosquitto_strerror(rc));
			return 1;
		}
	}
	pub_wait_acked(n);
	t1 = pub_now_s();
	getrusage(RUSAGE_SELF, &ru);
	printf("published %ld messages at QoS %d in %.3f s: %.0f msg/s (window %d), CPU %.2f s\n", n, qos, t1 - t0,
	       (double)n / (t1 - t0), window,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	pub_close(m);
	mosquitto_lib_cleanup();
	return 0;
}
