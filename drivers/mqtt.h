/* mqtt.h - the MQTT input driver: one client (libmosquitto, MQTT 3.1.1 or
 * 5) per configuration, a network thread of its own, subscriptions with
 * named topic captures, payloads decoded by drivers/payload.c and handed to
 * sink_submit() inside the message callback (before the QoS 1 PUBACK goes
 * out: see the comment at on_message in mqtt.c).  The only file including
 * <mosquitto.h> is mqtt.c. */
#ifndef CC_MQTT_H
#define CC_MQTT_H

#include <stdint.h>

struct cc_mqtt_conf;
struct lp_buf;
struct mqtt_client;

/* Creates the client and starts its thread, which connects (and keeps
 * reconnecting) on its own.  conf must outlive the client.  NULL + errno
 * when the client cannot be created at all (bad TLS files, no memory). */
struct mqtt_client *mqtt_start(const struct cc_mqtt_conf *conf, const char *site);
/* Disconnects cleanly (pending acknowledgements are sent first), joins the
 * thread and frees everything, including the channels it created. */
void mqtt_stop(struct mqtt_client *c);

/* Appends the self-metrics (measurement coldchaind_mqtt) to b. */
void mqtt_emit_stats(struct mqtt_client *c, struct lp_buf *b, const char *site, int64_t ts_ns);

#endif
