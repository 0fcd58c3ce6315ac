/* pubcommon.c - the MQTT publishers' shared callbacks, waits and clocks
 * (pubcommon.h). */
#include <pthread.h>

#include "pubcommon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

pthread_mutex_t pub_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t pub_cv = PTHREAD_COND_INITIALIZER;
long pub_acked;
int pub_connected;
long pub_connects;

void pub_cv_monotonic(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pub_cv, &ca);
	pthread_condattr_destroy(&ca);
}

double pub_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t pub_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t pub_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void pub_on_connect(struct mosquitto *m, void *arg, int rc)
{
	(void)m;
	(void)arg;
	pthread_mutex_lock(&pub_mu);
	pub_connected = rc == 0 ? 1 : -1;
	if (rc == 0)
		pub_connects++;
	pthread_cond_broadcast(&pub_cv);
	pthread_mutex_unlock(&pub_mu);
}

void pub_on_publish(struct mosquitto *m, void *arg, int mid)
{
	(void)m;
	(void)arg;
	(void)mid;
	pthread_mutex_lock(&pub_mu);
	pub_acked++;
	pthread_cond_broadcast(&pub_cv);
	pthread_mutex_unlock(&pub_mu);
}

struct mosquitto *pub_new(const char *prog, const char *id, int clean, int window)
{
	struct mosquitto *m = mosquitto_new(id, clean != 0, NULL);

	if (!m) {
		fprintf(stderr, "%s: mosquitto_new: %s\n", prog, strerror(errno));
		return NULL;
	}
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(m, (unsigned)window);
	mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, window > 65535 ? 65535 : window);
	mosquitto_connect_callback_set(m, pub_on_connect);
	mosquitto_publish_callback_set(m, pub_on_publish);
	return m;
}

int pub_start(struct mosquitto *m, const char *prog, const char *host, int port, int keepalive)
{
	int rc;

	pthread_mutex_lock(&pub_mu);
	pub_connected = 0;
	pthread_mutex_unlock(&pub_mu);
	rc = mosquitto_connect(m, host, port, keepalive);
	if (rc != MOSQ_ERR_SUCCESS || (rc = mosquitto_loop_start(m)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "%s: %s:%d: %s\n", prog, host, port, mosquitto_strerror(rc));
		mosquitto_destroy(m);
		return -1;
	}
	pthread_mutex_lock(&pub_mu);
	while (pub_connected == 0)
		pthread_cond_wait(&pub_cv, &pub_mu);
	rc = pub_connected;
	pthread_mutex_unlock(&pub_mu);
	if (rc < 0) {
		fprintf(stderr, "%s: %s:%d: connection refused\n", prog, host, port);
		pub_close(m);
		return -1;
	}
	return 0;
}

void pub_wait_acked(long n)
{
	pthread_mutex_lock(&pub_mu);
	while (pub_acked < n)
		pthread_cond_wait(&pub_cv, &pub_mu);
	pthread_mutex_unlock(&pub_mu);
}

void pub_wait_window(long i, long window)
{
	pthread_mutex_lock(&pub_mu);
	while (i - pub_acked >= window)
		pthread_cond_wait(&pub_cv, &pub_mu);
	pthread_mutex_unlock(&pub_mu);
}

void pub_close(struct mosquitto *m)
{
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	mosquitto_destroy(m);
}
