/* soak_pub - the MQTT load of tests/soak/soak.sh: QoS 1 messages at a steady
 * rate, each with its own sequence number and timestamp, through broker
 * restarts, so the soak test can look up every one of them in InfluxDB.
 * A test tool, not the daemon: it uses libmosquitto directly.
 *
 * Message i (1, 2, ...): topic PREFIX/sNN (NN = i mod SENSORS), payload
 * {"seq":i,"t":T,"ts":US}, US the publisher's clock in microseconds, strictly
 * increasing, so no two messages share a series and an instant (a
 * redelivery overwrites its own point in InfluxDB, never another's).
 *
 * Nothing is dropped here: the session is persistent (clean_session false)
 * and libmosquitto keeps every unacknowledged QoS 1 message and sends it
 * again after a reconnect.  "Sent" is what the broker acknowledged (PUBACK);
 * on SIGTERM/SIGINT publishing stops, the outstanding acknowledgements are
 * waited for (-W seconds) and the last line is
 *   published N acked N
 * Exit 0 when every message was acknowledged, 1 otherwise. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "../bench/pubcommon.h"

static long disconnects; /* under pub_mu; acknowledgements and connects: pubcommon.h */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long real_us(void)
{
	return (long long)(pub_real_ns() / 1000);
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	pub_on_connect(m, arg, rc);
	if (rc != 0)
		fprintf(stderr, "soak_pub: connection refused: %s\n", mosquitto_connack_string(rc));
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	(void)m;
	(void)arg;
	(void)rc;
	pthread_mutex_lock(&pub_mu);
	disconnects++;
	pthread_mutex_unlock(&pub_mu);
}

static void usage(void)
{
	fprintf(stderr, "usage: soak_pub -p PORT [-h HOST] [-r MSG_PER_S] [-s SENSORS] [-t PREFIX] [-i CLIENT_ID]\n"
			"                [-w WINDOW] [-W DRAIN_SECONDS] [-S STATUS_SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *id = "soak-pub", *prefix = "soak";
	int port = 0, window = 100, sensors = 10, drain_s = 300, status_s = 10, opt, rc;
	double rate = 200;
	long n = 0;
	long long last_us = 0;
	struct mosquitto *m;
	struct sigaction sa;
	double t0, next_status;

	while ((opt = getopt(argc, argv, "h:p:r:s:t:i:w:W:S:")) != -1) {
		switch (opt) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': sensors = atoi(optarg); break;
		case 't': prefix = optarg; break;
		case 'i': id = optarg; break;
		case 'w': window = atoi(optarg); break;
		case 'W': drain_s = atoi(optarg); break;
		case 'S': status_s = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || rate <= 0 || sensors <= 0 || window <= 0 || drain_s < 0 || status_s <= 0)
		usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	mosquitto_lib_init();
	m = mosquitto_new(id, false, NULL);
	if (!m) {
		fprintf(stderr, "soak_pub: mosquitto_new: %s\n", strerror(errno));
		return 1;
	}
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(m, (unsigned)window);
	mosquitto_reconnect_delay_set(m, 1, 2, false);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_disconnect_callback_set(m, on_disconnect);
	mosquitto_publish_callback_set(m, pub_on_publish);
	rc = mosquitto_connect(m, host, port, 30);
	if (rc != MOSQ_ERR_SUCCESS || (rc = mosquitto_loop_start(m)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "soak_pub: %s:%d: %s\n", host, port, mosquitto_strerror(rc));
		return 1;
	}

	t0 = pub_now_s();
	next_status = t0 + status_s;
	while (!stop) {
		char topic[128], payload[128];
		long long us = real_us();
		double now = pub_now_s(), due = t0 + (double)n / rate;
		int plen;

		if (now < due) {
			double w = due - now < 0.5 ? due - now : 0.5; /* stays responsive to SIGTERM */
			struct timespec ts = { 0, (long)(w * 1e9) };
			nanosleep(&ts, NULL);
			continue;
		}
		if (now >= next_status) {
			pthread_mutex_lock(&pub_mu);
			printf("t=%.0fs published %ld acked %ld connects %ld disconnects %ld\n", now - t0, n, pub_acked,
			       pub_connects, disconnects);
			pthread_mutex_unlock(&pub_mu);
			fflush(stdout);
			next_status += status_s;
		}
		if (us <= last_us)
			us = last_us + 1;
		last_us = us;
		n++;
		snprintf(topic, sizeof(topic), "%s/s%02ld", prefix, n % sensors);
		plen = snprintf(payload, sizeof(payload), "{\"seq\":%ld,\"t\":%.2f,\"ts\":%lld}", n,
				2.0 + (double)(n % 300) / 100.0, us);
		/* While the broker is away libmosquitto queues a QoS 1 message and
		 * says NO_CONN; it goes out after the reconnect. */
		rc = mosquitto_publish(m, NULL, topic, plen, payload, 1, false);
		if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
			fprintf(stderr, "soak_pub: publish %ld: %s\n", n, mosquitto_strerror(rc));
			n--; /* not queued: the same number again next time */
			sleep(1);
		}
	}

	{
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += drain_s;
		pthread_mutex_lock(&pub_mu);
		while (pub_acked < n && pthread_cond_timedwait(&pub_cv, &pub_mu, &dl) != ETIMEDOUT)
			;
		printf("connects %ld disconnects %ld\n", pub_connects, disconnects);
		printf("published %ld acked %ld\n", n, pub_acked);
		pthread_mutex_unlock(&pub_mu);
	}
	fflush(stdout);
	rc = pub_acked == n ? 0 : 1;
	pub_close(m);
	mosquitto_lib_cleanup();
	return rc;
}
