/* publish.c - what an alarm transition is recorded and announced as: its
 * alert record (line protocol, measurement "alert") and its event (JSON).
 * Pure: no engine, lock or I/O, so a test builds both from an alarm and
 * an event of its own. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

void publish_fmt_time(int64_t ts_ns, char *buf, size_t len)
{
	time_t t = (time_t)(ts_ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((ts_ns / 1000000) % 1000));
}

/* The note of a record whose annunciation a flood withheld. */
static const char *group_note = "grouped: alarm flood";

const char *publish_state_shown(const struct ealarm *ea, const struct alarm_event *ev)
{
	return alarm_is_shelved(&ea->a, ev->ts_ms) ? "shelved" : alarm_state_name(ev->state);
}

static void field_str(struct lp_field *f, size_t *nf, const char *key, const char *v)
{
	f[*nf].key = key;
	f[*nf].type = LP_STRING;
	f[(*nf)++].v.s = v;
}

static void field_num(struct lp_field *f, size_t *nf, const char *key, double v)
{
	f[*nf].key = key;
	f[*nf].type = LP_FLOAT;
	f[(*nf)++].v.f = v;
}

static void field_bool(struct lp_field *f, size_t *nf, const char *key, int v)
{
	f[*nf].key = key;
	f[*nf].type = LP_BOOL;
	f[(*nf)++].v.b = v;
}

static void field_int(struct lp_field *f, size_t *nf, const char *key, int64_t v)
{
	f[*nf].key = key;
	f[*nf].type = LP_INT;
	f[(*nf)++].v.i = v;
}

/* Schema (README "Data model"): measurement alert; tags room, rule, sensor,
 * severity, site; a historical record carries both of its times. */
int publish_line(struct lp_buf *b, const struct publication *p)
{
	const struct ealarm *ea = p->ea;
	const struct alarm_event *ev = p->ev;
	char sbuf[ALARM_MSG_MAX];
	struct lp_tag tags[] = { { "room", ea->room },
				 { "rule", ealarm_rule(ea) },
				 { "sensor", ealarm_sensor(ea, sbuf, sizeof(sbuf)) },
				 { "severity", alarm_severity_name(ev->sev) },
				 { "site", p->site } };
	struct lp_field f[13];
	size_t nf = 0;
	char msg[ALARM_MSG_MAX];

	field_str(f, &nf, "state", publish_state_shown(ea, ev));
	field_str(f, &nf, "event", alarm_ev_name(ev->type));
	field_num(f, &nf, "value", ev->value);
	field_num(f, &nf, "limit", ea->a.c->limit);
	field_str(f, &nf, "message", build_alarm_message(ea, msg, sizeof(msg)));
	field_str(f, &nf, "id", ealarm_id(ea));
	field_bool(f, &nf, "annunciated", p->annunciate);
	if (ev->late)
		field_bool(f, &nf, "late", 1);
	if (ev->type == AEV_HISTORICAL) {
		field_int(f, &nf, "raised_ns", ev->since_ms * 1000000LL);
		field_int(f, &nf, "cleared_ns", ev->ts_ms * 1000000LL);
	}
	if (ev->user)
		field_str(f, &nf, "user", ev->user);
	/* annunciation the state machine asked for and the engine withheld: a
	 * flood (the rate limit leaves annunciate set: the record says so) */
	if (ev->note || (ev->annunciate && !p->annunciate))
		field_str(f, &nf, "note", ev->note ? ev->note : group_note);
	return lp_encode(b, "alert", tags, sizeof(tags) / sizeof(tags[0]), f, nf, p->ts_ns);
}

char *publish_json(const struct publication *p)
{
	const struct ealarm *ea = p->ea;
	const struct alarm_event *ev = p->ev;
	cJSON *o = cJSON_CreateObject();
	char tbuf[64], nbuf[24], sbuf[ALARM_MSG_MAX];
	char *js;

	cJSON_AddStringToObject(o, "id", ealarm_id(ea));
	cJSON_AddStringToObject(o, "site", p->site);
	if (ea->room)
		cJSON_AddStringToObject(o, "room", ea->room);
	if (ealarm_channel(ea)) {
		cJSON_AddStringToObject(o, "sensor", ealarm_sensor(ea, sbuf, sizeof(sbuf)));
		cJSON_AddStringToObject(o, "channel", ealarm_channel(ea));
	}
	cJSON_AddStringToObject(o, "rule", ealarm_rule(ea));
	cJSON_AddStringToObject(o, "event", alarm_ev_name(ev->type));
	cJSON_AddStringToObject(o, "state", alarm_state_name(ev->state));
	cJSON_AddBoolToObject(o, "shelved", alarm_is_shelved(&ea->a, ev->ts_ms));
	cJSON_AddBoolToObject(o, "suppressed", ea->a.suppressed);
	cJSON_AddBoolToObject(o, "annunciate", p->annunciate);
	if (ev->late)
		cJSON_AddBoolToObject(o, "late", 1);
	cJSON_AddStringToObject(o, "severity", alarm_severity_name(ev->sev));
	if (isfinite(ev->value))
		cJSON_AddNumberToObject(o, "value", ev->value);
	if (isfinite(ea->a.c->limit))
		cJSON_AddNumberToObject(o, "limit", ea->a.c->limit);
	{
		char msg[ALARM_MSG_MAX];
		cJSON_AddStringToObject(o, "message", build_alarm_message(ea, msg, sizeof(msg)));
	}
	if (ev->user)
		cJSON_AddStringToObject(o, "user", ev->user);
	if (ev->note)
		cJSON_AddStringToObject(o, "note", ev->note);
	publish_fmt_time(p->ts_ns, tbuf, sizeof(tbuf));
	cJSON_AddStringToObject(o, "time", tbuf);
	/* exact: a double cannot hold a nanosecond timestamp */
	snprintf(nbuf, sizeof(nbuf), "%" PRId64, p->ts_ns);
	cJSON_AddRawToObject(o, "time_ns", nbuf);
	js = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return js;
}
