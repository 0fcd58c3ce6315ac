/* mqtt_watch.c - `coldchainctl mqtt watch` (mqtt.h): a client of mqtt.c with
 * its own id and a clean session, subscribed at QoS 0 to what the technician
 * asks for, each message run through the daemon's own matching and decoding
 * and reported instead of recorded. */
#include "mqtt.h"
#include "mqtt_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/util.h"

void mqtt_watch_report(struct mqtt_client *c, const struct msub *s, const char *topic, const struct decode *d,
		       const char *p, size_t n)
{
	struct mqtt_watch_msg w;

	memset(&w, 0, sizeof(w));
	w.topic = topic;
	w.payload = p;
	w.len = n;
	if (s) {
		w.subscription = s->conf->topic;
		w.samples = d->smp;
		w.nsamples = d->n;
		w.problems = d->problems;
		w.reason = d->problems ? mqtt_reason_names[d->first] : NULL;
		w.why = d->problems ? d->why : NULL;
	}
	c->watch(&w, c->watch_arg);
}

struct watch_state {
	mqtt_watch_fn fn;
	void *arg;
	long count, seen;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void watch_count(const struct mqtt_watch_msg *m, void *arg)
{
	struct watch_state *ws = arg;

	ws->fn(m, ws->arg); /* the network thread: the only caller */
	pthread_mutex_lock(&ws->lock);
	ws->seen++;
	pthread_cond_broadcast(&ws->cond);
	pthread_mutex_unlock(&ws->lock);
}

int mqtt_watch(const struct cc_mqtt_conf *m, const char *site, const char *filter, long count, int64_t connect_ms,
	       mqtt_watch_fn fn, void *arg)
{
	struct cc_mqtt_conf w = *m;
	struct watch_state ws = { .fn = fn, .arg = arg, .count = count };
	struct mqtt_client *c;
	char id[64];
	int64_t deadline = time_mono_ms() + connect_ms;
	int rc = 0, connected = 0;

	/* its own id and a clean session: the daemon's session is untouched */
	snprintf(id, sizeof(id), "coldchainctl-watch-%ld", (long)getpid());
	w.client_id = id;
	w.clean_session = 1;
	w.session_expiry_ms = 0;
	pthread_mutex_init(&ws.lock, NULL);
	pthread_cond_init(&ws.cond, NULL);
	c = mqtt_client_start(&w, site, filter, watch_count, &ws, 0, NULL);
	if (!c) {
		rc = -(errno ? errno : EINVAL);
		goto out;
	}
	pthread_mutex_lock(&ws.lock);
	while (count <= 0 || ws.seen < count) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ws.cond, &ws.lock, &ts);
		if (!connected) {
			pthread_mutex_lock(&c->lock);
			connected = c->connects > 0;
			pthread_mutex_unlock(&c->lock);
			if (!connected && time_mono_ms() > deadline) {
				rc = -EHOSTUNREACH;
				break;
			}
		}
	}
	pthread_mutex_unlock(&ws.lock);
	mqtt_stop(c);
out:
	pthread_mutex_destroy(&ws.lock);
	pthread_cond_destroy(&ws.cond);
	return rc;
}

