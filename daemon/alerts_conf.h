/* alerts_conf.h - configuration of the alert-event outputs (webhooks and
 * the MQTT alert publisher), as the loader hands it over.  Part of the
 * effective configuration (config.h); kept apart so the alert outputs can
 * grow without touching the rest of it. */
#ifndef CC_ALERTS_CONF_H
#define CC_ALERTS_CONF_H

#include <stddef.h>
#include <stdint.h>

struct cc_mqtt_conf;

/* Severities as the events spell them, lowest first. */
enum cc_severity { CC_SEV_INFO, CC_SEV_WARNING, CC_SEV_CRITICAL };

/* outputs.webhook: one JSON POST per alert event. */
struct cc_webhook_conf {
	char *name;
	char *url;          /* http(s)://..., may have a path and a query */
	int min_severity;   /* enum cc_severity: events below it are skipped */
	char **headers;     /* "Name: value", from the headers group */
	size_t nheaders;
	char *token_file;
	char *token;        /* read from token_file; sent as Authorization: Bearer; never printed */
	char *ca_file;
	int insecure;
	int64_t timeout_ms;
	int64_t backoff_max_ms;
	int start_oldest;
	int line;
};

/* outputs.alerts_mqtt: retained state per alarm plus an event stream. */
struct cc_alerts_mqtt_conf {
	char *name;
	char *prefix;       /* topics PREFIX/state/ROOM/ID and PREFIX/events */
	int start_oldest;
	struct cc_mqtt_conf *broker;  /* owned: its own broker group, or a copy of mqtt.broker */
	int line;
};

#endif
