/* mqtt.h - the MQTT input driver: one client (MQTT 3.1.1 or 5, our own:
 * codec/mqtt_wire.c's packets over drivers/mqtt_conn.c's TCP or TLS) per
 * configuration, a network thread of its own, subscriptions with named
 * topic captures, payloads decoded by mqtt_decode.c and journaled before
 * any QoS 1 PUBACK of theirs is written (see the comment at the top of
 * mqtt.c); and the MQTT alert publisher (mqtt_alerts.c) on the same
 * client. */
#ifndef CC_MQTT_H
#define CC_MQTT_H

#include <stddef.h>
#include <stdint.h>

struct cc_mqtt_conf;
struct lp_buf;
struct mqtt_client;

/* Creates the client and starts its thread, which connects (and keeps
 * reconnecting) on its own.  conf must outlive the client.  NULL + errno
 * when the client cannot be created at all (no pipe, no thread).  TLS files
 * OpenSSL cannot read are a connection failure: logged and retried. */
struct mqtt_client *mqtt_start(const struct cc_mqtt_conf *conf, const char *site);
/* The daemon's input client: as mqtt_start, and with a persistent session
 * the filters the broker's session may hold are kept in state_dir, so a
 * start after a subscription was removed from the file unsubscribes from
 * it (`unsubscribed from FILTER`; MQTT cannot list a session's). */
struct mqtt_client *mqtt_start_input(const struct cc_mqtt_conf *conf, const char *site, const char *state_dir);
/* Writes those filters to the state directory when they changed since the
 * last call (the main thread's tick and before a stop: a disk sync, which
 * the network thread never waits on).  NULL or another client: nothing. */
void mqtt_subs_write(struct mqtt_client *c);
/* Disconnects cleanly (pending acknowledgements are sent first), joins the
 * thread and frees everything, including the channels it created. */
void mqtt_stop(struct mqtt_client *c);

/*
 * A reload keeps the connection (issue 18: a reload loses no sample, QoS 0
 * included, and a broker resends no retained message).  mqtt_pause: the
 * network thread ends its turn (the burst journaled, its PUBACKs queued)
 * and parks; the socket is left unread, so what the broker sends meanwhile
 * waits there.  The client's channels and topic cache are freed (the new
 * configuration is parsed without them); its configuration may then be
 * freed too.  0, or -EBUSY: the thread did not park within 2 s or holds a
 * burst the journal refused (mqtt_stop it instead).
 * mqtt_same_connection: 1 when m connects as the paused client's
 * configuration did (broker, client id, protocol, session, keepalive,
 * credentials, TLS settings and files unchanged, the same largest packet);
 * call it while that configuration is still alive.
 * mqtt_resume: the client goes on with m (and site), subscribing to the
 * filters m adds or changes the QoS of and unsubscribing from those it
 * drops (a resumed persistent session: at the next connection);
 * unchanged filters are left alone.  0, or -EINVAL (the client is still
 * paused: mqtt_stop it).
 */
int mqtt_pause(struct mqtt_client *c);
int mqtt_same_connection(const struct mqtt_client *c, const struct cc_mqtt_conf *m);
int mqtt_resume(struct mqtt_client *c, const struct cc_mqtt_conf *m, const char *site);
/* `coldchaind --test`: as mqtt_start, but with its own client id
 * (coldchaind-test-PID) and a clean session, every subscription at QoS 0
 * and outside any $share group, so the running daemon's session and share
 * of the messages stay untouched.  Samples go to pipeline_submit() as
 * usual (main.c points the pipeline at stdout). */
struct mqtt_client *mqtt_test_start(const struct cc_mqtt_conf *conf, const char *site);

/*
 * The MQTT alert publisher (outputs.alerts_mqtt): an output (outputs/
 * output.h) reading the journal's alert events.  Each event is published
 * retained, QoS 1, on PREFIX/state/ROOM/ID (ID and ROOM with '/', '+', '#'
 * and '%' percent-encoded; ROOM "-" when the alarm has none; events without
 * an id, such as output_unauthorised, only on the event topic) and, QoS 1,
 * not retained, on PREFIX/events; the journal position moves on only after
 * the broker's PUBACK for both.  conf must outlive the output.
 */
struct cc_alerts_mqtt_conf;
struct output;
struct output *mqtt_alerts_new(const struct cc_alerts_mqtt_conf *conf, const char *site);

/* `coldchainctl mqtt watch`: one arriving message as the daemon would take it. */
struct cc_sample;
struct mqtt_watch_msg {
	const char *topic;
	const void *payload;
	size_t len;
	const char *subscription;        /* the config's topic pattern it matched; NULL: none matched */
	const struct cc_sample *samples; /* what the daemon would record (channel, value, quality) */
	size_t nsamples;
	int problems;                    /* refusals (a json message may be partly refused) */
	const char *reason, *why;        /* the first: reason as counted in coldchaind_mqtt, and why */
};
typedef void (*mqtt_watch_fn)(const struct mqtt_watch_msg *m, void *arg);
/* Connects to conf's broker with its own client id and a clean session,
 * subscribes to filter (QoS 0) and runs every message through the daemon's
 * own matching and decoding, reporting to fn instead of recording.  Returns
 * 0 after count messages (count <= 0: never), -EHOSTUNREACH when not
 * connected within connect_ms, or -errno. */
int mqtt_watch(const struct cc_mqtt_conf *conf, const char *site, const char *filter, long count, int64_t connect_ms,
	       mqtt_watch_fn fn, void *arg);

/* 1 while connected to the broker (NULL: 0), for /healthz. */
int mqtt_connected(struct mqtt_client *c);
/* Appends the self-metrics (measurement coldchaind_mqtt) to b. */
void mqtt_emit_stats(struct mqtt_client *c, struct lp_buf *b, const char *site, int64_t ts_ns);

#endif
