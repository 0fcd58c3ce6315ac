/* watch.c - `coldchainctl mqtt watch`: the daemon's own MQTT matching and
 * decoding (drivers/mqtt.c) run on live traffic, each message shown with
 * the channels it gives or why it is refused.  In coldchainctl-full: it
 * needs the MQTT client's TLS (ctl/thin.c). */
#include "watch.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/payload.h"
#include "../daemon/config.h"
#include "../daemon/paths.h"
#include "../daemon/sample.h"
#include "../daemon/util.h"
#include "../drivers/mqtt.h"
#include "ctl_socket.h"

struct watch_ctx {
	const struct cc_config *cfg;
	int json;
};

/* "room A temperature" when a room takes the channel */
static void room_role(const struct cc_config *cfg, const char *id, char *out, size_t n)
{
	*out = '\0';
	for (size_t i = 0; i < cfg->nrooms; i++) {
		const struct cc_room_conf *r = &cfg->rooms[i];
		const char *ids[] = { r->temperature, r->humidity, r->door, r->defrost, r->outside_temperature,
				      r->outside_humidity, r->co2, r->o2 };
		static const char *const roles[] = { "temperature",	    "humidity",		"door", "defrost",
						     "outside_temperature", "outside_humidity", "co2",	"o2" };
		for (size_t k = 0; k < ARRAY_SIZE(ids); k++)
			if (ids[k] && strcmp(ids[k], id) == 0) {
				snprintf(out, n, "room %s %s", r->name, roles[k]);
				return;
			}
	}
}

static void on_watch(const struct mqtt_watch_msg *m, void *arg)
{
	struct watch_ctx *w = arg;
	char ex[512], role[256];

	payload_excerpt(m->payload, m->len, 96, ex, sizeof(ex));
	if (w->json) {
		cJSON *o = cJSON_CreateObject(), *arr;
		char *s;
		cJSON_AddStringToObject(o, "topic", m->topic);
		cJSON_AddStringToObject(o, "payload", ex);
		if (m->subscription)
			cJSON_AddStringToObject(o, "subscription", m->subscription);
		else
			cJSON_AddNullToObject(o, "subscription");
		arr = cJSON_AddArrayToObject(o, "samples");
		for (size_t i = 0; i < m->nsamples; i++) {
			const struct cc_sample *sm = &m->samples[i];
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "channel", sm->ch->id);
			cJSON_AddStringToObject(x, "quantity", sm->ch->quantity ? sm->ch->quantity : "");
			if (sm->ch->room)
				cJSON_AddStringToObject(x, "room", sm->ch->room);
			cJSON_AddNumberToObject(x, "value", sm->value);
			cJSON_AddStringToObject(x, "quality", quality_name(sm->quality));
			room_role(w->cfg, sm->ch->id, role, sizeof(role));
			if (*role)
				cJSON_AddStringToObject(x, "role", role);
			cJSON_AddItemToArray(arr, x);
		}
		cJSON_AddBoolToObject(o, "accepted", m->nsamples > 0);
		if (!m->subscription) {
			cJSON_AddStringToObject(o, "reason", "no_subscription");
			cJSON_AddStringToObject(o, "why", "matches no subscription of the configuration");
		} else if (m->problems) {
			cJSON_AddStringToObject(o, "reason", m->reason);
			cJSON_AddStringToObject(o, "why", m->why ? m->why : "");
		}
		s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(o);
	} else {
		printf("%s  \"%s\"\n", m->topic, ex);
		if (!m->subscription) {
			printf("  REJECTED no_subscription: matches no subscription of the configuration (");
			for (size_t i = 0; w->cfg->mqtt && i < w->cfg->mqtt->nsubs; i++)
				printf("%s%s", i ? ", " : "", w->cfg->mqtt->subs[i].topic);
			printf(")\n");
		} else {
			for (size_t i = 0; i < m->nsamples; i++) {
				const struct cc_sample *sm = &m->samples[i];
				room_role(w->cfg, sm->ch->id, role, sizeof(role));
				printf("  -> %s: channel %s (%s%s%s) = %g %s%s%s\n", m->subscription, sm->ch->id,
				       sm->ch->quantity ? sm->ch->quantity : "", sm->ch->unit ? ", " : "",
				       sm->ch->unit ? sm->ch->unit : "", sm->value, quality_name(sm->quality),
				       *role ? "; " : "", role);
			}
			if (m->problems)
				printf("  %s %s: %s (subscription %s)\n", m->nsamples ? "PARTLY REJECTED" : "REJECTED",
				       m->reason, m->why ? m->why : "", m->subscription);
		}
	}
	fflush(stdout);
}

static int watch_usage(const char *why)
{
	fprintf(stderr, "coldchainctl: %s\nusage:\n", why);
	ctl_cmd_usage(stderr, ctl_mqtt_cmds, "");
	return CTL_EXIT_USAGE;
}

/* argv[0] is "watch" (after "mqtt"); options anywhere. */
static int ctl_mqtt_watch(int argc, char **argv)
{
	static const struct option lo[] = { { "config", required_argument, NULL, 'c' },
					    { "count", required_argument, NULL, 'n' },
					    { "json", no_argument, NULL, 'j' },
					    { 0, 0, 0, 0 } };
	const char *conf = CC_CONF_FILE;
	struct cc_config *cfg = NULL;
	struct cc_errors e = { 0 };
	struct watch_ctx w = { 0 };
	long count = 0;
	char name[64];
	int c, idx = -1, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:", lo, &idx)) != -1) {
		switch (c) {
		case 'c':
			if (!*optarg)
				return ctl_opt_invalid("coldchainctl", ctl_opt_name(lo, idx, c, name, sizeof(name)),
						       optarg, "a configuration file");
			conf = optarg;
			break;
		case 'n':
			if (ctl_parse_long(optarg, 1, 1000000000L, &count) < 0)
				return ctl_opt_invalid("coldchainctl", ctl_opt_name(lo, idx, c, name, sizeof(name)),
						       optarg, "a number of messages from 1 to 1000000000");
			break;
		case 'j':
			w.json = 1;
			break;
		default:
			return ctl_opt_refused("coldchainctl", lo, c, argv);
		}
		idx = -1;
	}
	if (argc - optind != 1)
		return watch_usage("expected: mqtt watch FILTER -c CONFIG (FILTER: an MQTT filter, e.g. '#')");
	if (config_load(conf, &cfg, &e) < 0) {
		errors_print(&e, stderr);
		errors_free(&e);
		return CTL_EXIT_REFUSED;
	}
	if (!cfg->mqtt) {
		fprintf(stderr, "coldchainctl: %s has no mqtt group: nothing to watch\n", cfg->file);
		config_free(cfg);
		return CTL_EXIT_REFUSED;
	}
	w.cfg = cfg;
	if (!w.json)
		fprintf(stderr, "watching %s on %s:%d with the subscriptions of %s (Ctrl-C to stop)\n", argv[optind],
			cfg->mqtt->host, cfg->mqtt->port, cfg->file);
	rc = mqtt_watch(cfg->mqtt, cfg->site, argv[optind], count, 10000, on_watch, &w);
	if (rc == -EHOSTUNREACH)
		fprintf(stderr, "coldchainctl: cannot connect to the broker %s:%d\n", cfg->mqtt->host, cfg->mqtt->port);
	else if (rc < 0)
		fprintf(stderr, "coldchainctl: mqtt watch: %s\n", strerror(-rc));
	config_free(cfg);
	return rc == 0 ? CTL_EXIT_OK : rc == -EHOSTUNREACH ? CTL_EXIT_UNREACHABLE : CTL_EXIT_REFUSED;
}

static const struct ctl_cmd watch_rows[] = {
	{ "watch", NULL, ctl_mqtt_watch, "FILTER -c CONFIG [--count N] [--json]",
	  "how the config maps each arriving message (channel, value) or why it is refused",
	  "-c=CONFIG --config=CONFIG --count=N --json", 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

const struct ctl_cmd ctl_mqtt_cmds[] = {
	{ "mqtt", watch_rows, NULL, NULL, "the MQTT input", NULL, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
