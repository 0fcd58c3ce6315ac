/* pubcommon.h - what the MQTT publishers of the benches and the soak test
 * (hub_gen, mqtt_pub_bench, alarm_lat_probe, soak_pub) share: one mutex and
 * condition variable, the connect and publish callbacks that count under
 * them, the wait for the CONNACK and the clocks.  Test tools, not the
 * daemon: libmosquitto directly. */
#ifndef CC_PUBCOMMON_H
#define CC_PUBCOMMON_H

#include <pthread.h>
#include <stdint.h>

#include <mosquitto.h>

/* pub_mu guards the counters below; pub_cv is broadcast on each change. */
extern pthread_mutex_t pub_mu;
extern pthread_cond_t pub_cv;
extern long pub_acked;     /* QoS 0: messages written; QoS 1: PUBACKs */
extern int pub_connected;  /* 0 waiting, 1 CONNACK accepted, -1 refused */
extern long pub_connects;  /* accepted CONNACKs (reconnects included) */

/* pub_cv on CLOCK_MONOTONIC, for pthread_cond_timedwait with pub_mono_ns()
 * deadlines; call before any client starts (the default is CLOCK_REALTIME). */
void pub_cv_monotonic(void);

double pub_now_s(void);    /* CLOCK_MONOTONIC, seconds */
int64_t pub_mono_ns(void); /* CLOCK_MONOTONIC, ns */
int64_t pub_real_ns(void); /* CLOCK_REALTIME, ns */

void pub_on_connect(struct mosquitto *m, void *arg, int rc);
void pub_on_publish(struct mosquitto *m, void *arg, int mid);

/* A client of MQTT 3.1.1 with the two callbacks above and an in-flight
 * window of WINDOW (also the broker's receive maximum, at most 65535);
 * NULL with a message on stderr (PROG: ...) when it cannot be made. */
struct mosquitto *pub_new(const char *prog, const char *id, int clean, int window);
/* Connects, starts the network thread and waits for the CONNACK;
 * 0, or -1 with a message on stderr and M freed. */
int pub_start(struct mosquitto *m, const char *prog, const char *host, int port, int keepalive);
/* Waits until pub_acked >= N (under pub_mu). */
void pub_wait_acked(long n);
/* Waits until fewer than WINDOW of the I messages sent are unacknowledged:
 * at QoS 0 libmosquitto would otherwise queue without bound. */
void pub_wait_window(long i, long window);
/* Disconnects, stops the network thread and frees M. */
void pub_close(struct mosquitto *m);

#endif
