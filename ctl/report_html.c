/* report.c - `coldchainctl report --lot ID`: a lot's storage history for a
 * buyer or an auditor, read back from InfluxDB (shelf_life, temperature,
 * humidity, alert) and the configuration (profile, channels, intervals).
 * Air temperature and RH figures are computed here from the raw samples;
 * MKT, degree-hours, chilling hours, consumed life and weight loss are the
 * daemon's own model accumulators (shelf_life), which are cumulative since
 * the lot was loaded. */
#include "report.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/alarm_history.h"
#include "../daemon/config.h"
#include "../daemon/util.h"
#include "../drivers/output.h"
#include "ctl_opts.h"

#ifndef CC_VERSION
#define CC_VERSION "0.1.0"
#endif

/* A step longer than this many recording intervals is a gap ("no data"),
 * as in the daemon's models. */
#define GAP_INTERVALS 3
#define CHART_W 1000
#define CHART_H 360
#define CHART_MAX_POINTS 1500

enum { Q_GOOD, Q_COMM, Q_RANGE };

struct sample {
	int64_t t; /* ms */
	double v;
	int q;
};

struct series {
	char *sensor, *channel;
	struct sample *s;
	size_t n, cap;
	int64_t interval_ms; /* configured, else the median step, 0 if unknown */
	int configured;      /* interval from the configuration */
};

struct stats {
	size_t n;
	double min, max, sum;
	double below_h, above_h; /* time held outside the band, hours */
};

struct gap {
	char *sensor, *channel;
	const char *kind; /* "no data", "comm_error", "out_of_range" */
	int64_t from, to;
};

struct stay {
	char *room;
	int64_t from, to; /* ms */
	struct series temp, rh;
	int have_temp, have_rh;
	struct stats ts, hs;
};

struct slpt {
	int64_t t;
	const char *room; /* owned by the cJSON tree */
	double f[10];
};

static const char *const sl_fields[10] = { "consumed",	 "remaining_h", "remaining_h_at_plan", "mkt_c",
					   "degree_hours", "chill_hours", "weight_loss_pct",	 "no_data_h",
					   "observed_h",   "product_c" };
enum { SL_CONSUMED, SL_REMAINING, SL_REMAINING_PLAN, SL_MKT, SL_DH, SL_CH, SL_WL, SL_NODATA, SL_OBS, SL_PRODUCT };

/* An alarm episode during one of the lot's stays. */
struct alarm_occ {
	struct alarm_episode e;
	int first_stay, last_stay; /* the stay began / ended the period */
};

struct grade {
	char *key, *value, *grade, *source;
	const char *group; /* the profile's group: limits, model, water, chill */
};

struct report {
	/* options */
	const char *lot, *format, *out_path, *conf_path;
	char *url, *db, *user, *pass;
	const char *ca_file; /* TLS of the output the URL came from */
	int insecure;
	int64_t from, to; /* ms */
	int from_set, to_set;
	/* configuration (may be NULL) */
	struct cc_config *cfg;
	const struct cc_lot_conf *lotc;
	const struct cc_room_conf *roomc;
	const struct cc_profile *prof;
	char *site;
	/* from InfluxDB */
	char *product, *profile, *profile_version;
	struct slpt *sl;
	size_t nsl;
	cJSON *sl_json;
	struct stay *stays;
	size_t nstays;
	struct alarm_occ *alarms;
	size_t nalarms;
	struct gap *gaps;
	size_t ngaps;
	struct grade *grades;
	size_t ngrades;
	double band_low, band_high;
	int64_t generated;
};

/* ------------------------------------------------------------ helpers */

static void fmt_utc(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ISO 8601 with a zone (time_parse_iso8601: "2026-06-12T08:00:00+07:00",
 * "...Z"), not before 1970, or "now", or an integer of epoch seconds.
 * 0 or -1. */
static int parse_time_ms(const char *s, int64_t *out)
{
	int64_t ns;
	char *e;

	if (strcmp(s, "now") == 0) {
		*out = time_now_ns() / 1000000;
		return 0;
	}
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (*s && *e == '\0' && errno == 0 && v > 0) {
		*out = (int64_t)v * 1000;
		return 0;
	}
	if (time_parse_iso8601(s, strlen(s), &ns) < 0 || ns < 0)
		return -1;
	*out = ns / 1000000;
	return 0;
}

/* An InfluxQL string literal: '...' with ' and \ escaped. */
static char *ql_str(const char *s)
{
	size_t n = strlen(s);
	char *r = xmalloc(2 * n + 3), *p = r;

	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	return r;
}

static char *read_first_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[512];

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

/* Runs one InfluxQL statement; returns the parsed reply and sets *series to
 * its first result's series array (NULL when there are no rows).  NULL and
 * a message on stderr on any error. */
static cJSON *iq(struct report *r, const char *q, cJSON **series)
{
	struct influx_query conn = { .url = r->url, .db = r->db, .user = r->user, .pass = r->pass,
				     .ca_file = r->ca_file, .insecure = r->insecure };
	char *json = NULL, err[512];
	cJSON *root, *res, *e;
	int rc;

	*series = NULL;
	rc = influx_query_json(&conn, q, &json, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "coldchainctl report: InfluxDB %s database %s: %s\n", r->url, r->db, err);
		return NULL;
	}
	root = cJSON_Parse(json);
	free(json);
	if (!root) {
		fprintf(stderr, "coldchainctl report: InfluxDB %s: the reply is not JSON\n", r->url);
		return NULL;
	}
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "results"), 0);
	if (!e && res)
		e = cJSON_GetObjectItemCaseSensitive(res, "error");
	if (cJSON_IsString(e)) {
		fprintf(stderr, "coldchainctl report: InfluxDB %s: %s (query: %s)\n", r->url, e->valuestring, q);
		cJSON_Delete(root);
		return NULL;
	}
	if (res)
		*series = cJSON_GetObjectItemCaseSensitive(res, "series");
	return root;
}

static int col_index(const cJSON *ser, const char *name)
{
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(ser, "columns"), *c;
	int i = 0;

	cJSON_ArrayForEach(c, cols) {
		if (cJSON_IsString(c) && strcmp(c->valuestring, name) == 0)
			return i;
		i++;
	}
	return -1;
}

static const char *tag_of(const cJSON *ser, const char *key)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ser, "tags"), key);
	return cJSON_IsString(t) && t->valuestring[0] ? t->valuestring : NULL;
}

static double num_at(const cJSON *row, int i)
{
	const cJSON *v = i >= 0 ? cJSON_GetArrayItem(row, i) : NULL;
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str_at(const cJSON *row, int i)
{
	const cJSON *v = i >= 0 ? cJSON_GetArrayItem(row, i) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *xstrdup0(const char *s) { return s ? xstrdup(s) : NULL; }

/* "sensor/channel" -> its two halves (NULL when not of that form). */
static int split_channel(const char *id, char **sensor, char **channel)
{
	const char *sl = id ? strchr(id, '/') : NULL;

	*sensor = *channel = NULL;
	if (!sl)
		return -1;
	*sensor = xasprintf("%.*s", (int)(sl - id), id);
	*channel = xstrdup(sl + 1);
	return 0;
}

/* ------------------------------------------------------------ configuration */

static const struct cc_device_conf *find_device(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->nbuses; i++)
		for (size_t j = 0; j < cfg->buses[i].ndevices; j++)
			if (strcmp(cfg->buses[i].devices[j].name, name) == 0)
				return &cfg->buses[i].devices[j];
	return NULL;
}

static void find_lot(struct report *r)
{
	const struct cc_room_conf *room;
	const struct cc_lot_conf *lot = config_find_lot(r->cfg, r->lot, &room);

	if (lot) {
		r->roomc = room;
		r->lotc = lot;
		r->prof = lot->profile;
	}
}

/* The profile's numbers with their grades, as the configuration loader
 * parsed them (config/profiles.conf: KEY = (VALUE, "GRADE: source")).
 * A D number is an estimate; a number the file does not grade says so. */
static void grades_from_profile(struct report *r, const struct cc_profile *p)
{
	for (size_t i = 0; p && i < p->nparams; i++) {
		const struct cc_param *pa = &p->params[i];
		struct grade *g;
		char gr[2] = { pa->grade, '\0' };

		r->grades = xrealloc(r->grades, (r->ngrades + 1) * sizeof(*r->grades));
		g = &r->grades[r->ngrades++];
		g->key = xstrdup(pa->key);
		g->group = pa->group;
		g->value = xstrdup(pa->value);
		g->grade = xstrdup(pa->grade ? gr : "ungraded");
		g->source = xstrdup(pa->source ? pa->source : "");
	}
}

/* 1 when the profile grades its number KEY D (an engineering estimate). */
static int prof_estimate(const struct cc_profile *p, const char *key)
{
	for (size_t i = 0; p && i < p->nparams; i++)
		if (strcmp(p->params[i].key, key) == 0)
			return p->params[i].grade == 'D';
	return 0;
}

/* ------------------------------------------------------------ reading */

static void series_push(struct series *s, int64_t t, double v, int q)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->s = xrealloc(s->s, s->cap * sizeof(*s->s));
	}
	s->s[s->n++] = (struct sample){ t, v, q };
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The lot's shelf_life points: product, profile, the rooms it stayed in. */
static int read_shelf_life(struct report *r)
{
	char *lot = ql_str(r->lot), *q;
	cJSON *series, *ser, *row;
	size_t cap = 0;

	q = xasprintf("SELECT \"consumed\",\"remaining_h\",\"remaining_h_at_plan\",\"mkt_c\",\"degree_hours\","
		      "\"chill_hours\",\"weight_loss_pct\",\"no_data_h\",\"observed_h\",\"product_c\" FROM "
		      "\"shelf_life\" WHERE \"lot\" = %s AND time >= %" PRId64 "ms AND time <= %" PRId64
		      "ms GROUP BY \"room\",\"product\",\"profile\",\"profile_version\",\"site\"",
		      lot, r->from, r->to);
	free(lot);
	r->sl_json = iq(r, q, &series);
	free(q);
	if (!r->sl_json)
		return -1;
	cJSON_ArrayForEach(ser, series) {
		int ti = col_index(ser, "time"), idx[10];
		const char *room = tag_of(ser, "room");
		for (int k = 0; k < 10; k++)
			idx[k] = col_index(ser, sl_fields[k]);
		if (!r->product && tag_of(ser, "product"))
			r->product = xstrdup(tag_of(ser, "product"));
		if (!r->profile && tag_of(ser, "profile"))
			r->profile = xstrdup(tag_of(ser, "profile"));
		if (!r->profile_version && tag_of(ser, "profile_version"))
			r->profile_version = xstrdup(tag_of(ser, "profile_version"));
		if (!r->site && tag_of(ser, "site"))
			r->site = xstrdup(tag_of(ser, "site"));
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values")) {
			struct slpt *p;
			if (r->nsl == cap) {
				cap = cap ? 2 * cap : 1024;
				r->sl = xrealloc(r->sl, cap * sizeof(*r->sl));
			}
			p = &r->sl[r->nsl++];
			p->t = (int64_t)num_at(row, ti);
			p->room = room ? room : "";
			for (int k = 0; k < 10; k++)
				p->f[k] = num_at(row, idx[k]);
		}
	}
	/* time first (the struct begins with it) */
	qsort(r->sl, r->nsl, sizeof(*r->sl), cmp_i64);
	return 0;
}

static void add_stay(struct report *r, const char *room, int64_t from, int64_t to)
{
	struct stay *s;

	r->stays = xrealloc(r->stays, (r->nstays + 1) * sizeof(*r->stays));
	s = &r->stays[r->nstays++];
	memset(s, 0, sizeof(*s));
	s->room = xstrdup(room);
	s->from = from;
	s->to = to;
}

/* Consecutive shelf_life points in one room make a stay; a stay ends where
 * the next one starts (the last at the end of the period). */
static void make_stays(struct report *r)
{
	size_t i = 0;

	if (r->nsl == 0) {
		if (r->roomc)
			add_stay(r, r->roomc->name, r->from, r->to);
		return;
	}
	while (i < r->nsl) {
		size_t j = i;
		while (j < r->nsl && strcmp(r->sl[j].room, r->sl[i].room) == 0)
			j++;
		add_stay(r, r->sl[i].room, r->nstays == 0 ? r->from : r->sl[i].t, j < r->nsl ? r->sl[j].t : r->to);
		i = j;
	}
}

/* Air temperature or RH of a room: its configured channel when the
 * configuration is known, else the first series of that quantity in it. */
static int read_series(struct report *r, const struct stay *st, const char *quantity, const char *chan_id,
		       struct series *out, int *have)
{
	char *sensor = NULL, *channel = NULL, *q, *w;
	cJSON *root, *series, *ser, *row;
	int ti, vi, qi;

	*have = 0;
	if (chan_id && split_channel(chan_id, &sensor, &channel) == 0) {
		char *a = ql_str(sensor), *b = ql_str(channel);
		w = xasprintf("\"sensor\" = %s AND \"channel\" = %s", a, b);
		free(a);
		free(b);
	} else {
		char *a = ql_str(st->room);
		w = xasprintf("\"room\" = %s", a);
		free(a);
	}
	q = xasprintf("SELECT \"value\",\"quality\" FROM \"%s\" WHERE %s AND time >= %" PRId64 "ms AND time <= %" PRId64
		      "ms GROUP BY \"sensor\",\"channel\"",
		      quantity, w, st->from, st->to);
	free(w);
	root = iq(r, q, &series);
	free(q);
	free(sensor);
	free(channel);
	if (!root)
		return -1;
	ser = cJSON_GetArrayItem(series, 0);
	if (ser) {
		const struct cc_device_conf *d;
		*have = 1;
		out->sensor = xstrdup0(tag_of(ser, "sensor"));
		out->channel = xstrdup0(tag_of(ser, "channel"));
		ti = col_index(ser, "time");
		vi = col_index(ser, "value");
		qi = col_index(ser, "quality");
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values")) {
			double v = num_at(row, vi);
			const char *qs = str_at(row, qi);
			int qq = !isnan(v) ? Q_GOOD : qs && strcmp(qs, "out_of_range") == 0 ? Q_RANGE : Q_COMM;
			series_push(out, (int64_t)num_at(row, ti), v, qq);
		}
		d = out->sensor ? find_device(r->cfg, out->sensor) : NULL;
		if (d && d->interval_ms > 0) {
			out->interval_ms = d->interval_ms;
			out->configured = 1;
		} else if (out->n > 1) {
			int64_t *dt = xmalloc((out->n - 1) * sizeof(*dt));
			for (size_t i = 1; i < out->n; i++)
				dt[i - 1] = out->s[i].t - out->s[i - 1].t;
			qsort(dt, out->n - 1, sizeof(*dt), cmp_i64);
			out->interval_ms = dt[(out->n - 1) / 2];
			free(dt);
		}
	}
	cJSON_Delete(root);
	return 0;
}

static void gap_add(struct report *r, const struct series *s, const char *kind, int64_t from, int64_t to)
{
	struct gap *g;

	r->gaps = xrealloc(r->gaps, (r->ngaps + 1) * sizeof(*r->gaps));
	g = &r->gaps[r->ngaps++];
	g->sensor = xstrdup0(s->sensor);
	g->channel = xstrdup0(s->channel);
	g->kind = kind;
	g->from = from;
	g->to = to;
}

/* min/max/mean of the good samples; time outside [lo, hi] with each value
 * held until the next sample (at most GAP_INTERVALS intervals); gaps. */
static void analyse(struct report *r, const struct series *s, int64_t from, int64_t to, double lo, double hi,
		    struct stats *st)
{
	int64_t cap = s->interval_ms > 0 ? GAP_INTERVALS * s->interval_ms : INT64_MAX;
	size_t bad_start = (size_t)-1;

	memset(st, 0, sizeof(*st));
	st->min = INFINITY;
	st->max = -INFINITY;
	if (s->n && s->interval_ms > 0 && s->s[0].t - from > cap)
		gap_add(r, s, "no data", from, s->s[0].t);
	for (size_t i = 0; i < s->n; i++) {
		const struct sample *p = &s->s[i];
		int64_t next = i + 1 < s->n ? s->s[i + 1].t : to, dt = next - p->t;

		if (p->q == Q_GOOD) {
			st->n++;
			st->sum += p->v;
			if (p->v < st->min)
				st->min = p->v;
			if (p->v > st->max)
				st->max = p->v;
			if (dt > cap)
				dt = cap;
			if (dt > 0 && !isnan(lo) && p->v < lo)
				st->below_h += (double)dt / 3600000.0;
			if (dt > 0 && !isnan(hi) && p->v > hi)
				st->above_h += (double)dt / 3600000.0;
			if (bad_start != (size_t)-1) {
				gap_add(r, s, s->s[bad_start].q == Q_RANGE ? "out_of_range" : "comm_error",
					s->s[bad_start].t, p->t);
				bad_start = (size_t)-1;
			}
		} else if (bad_start == (size_t)-1 || s->s[bad_start].q != p->q) {
			if (bad_start != (size_t)-1)
				gap_add(r, s, s->s[bad_start].q == Q_RANGE ? "out_of_range" : "comm_error",
					s->s[bad_start].t, p->t);
			bad_start = i;
		}
		if (i + 1 < s->n && s->interval_ms > 0 && next - p->t > cap)
			gap_add(r, s, "no data", p->t, next);
	}
	if (bad_start != (size_t)-1)
		gap_add(r, s, s->s[bad_start].q == Q_RANGE ? "out_of_range" : "comm_error", s->s[bad_start].t,
			s->s[s->n - 1].t);
	if (s->n && s->interval_ms > 0 && to - s->s[s->n - 1].t > cap && to < r->generated)
		gap_add(r, s, "no data", s->s[s->n - 1].t, to);
}

/* Lot alarms are ROOM/LOT/rule: keep this lot's, not its neighbours'. */
static int alarm_is_ours(const char *id, const char *room, const char *lot)
{
	size_t rl = strlen(room);
	const char *rest, *sl;

	if (strncmp(id, room, rl) != 0 || id[rl] != '/')
		return 1;
	rest = id + rl + 1;
	sl = strchr(rest, '/');
	if (!sl)
		return 1;
	return (size_t)(sl - rest) == strlen(lot) && strncmp(rest, lot, strlen(lot)) == 0;
}

/* The columns of an `alert` series (-1: absent; `late` only on historical
 * alarms, from the version that records them). */
struct alert_cols {
	int t, id, ev, state, value, limit, message, user, note, severity, sensor, late, raised, cleared;
};

static void alert_cols_of(const cJSON *ser, struct alert_cols *c)
{
	c->t = col_index(ser, "time");
	c->id = col_index(ser, "id");
	c->ev = col_index(ser, "event");
	c->state = col_index(ser, "state");
	c->value = col_index(ser, "value");
	c->limit = col_index(ser, "limit");
	c->message = col_index(ser, "message");
	c->user = col_index(ser, "user");
	c->note = col_index(ser, "note");
	c->severity = col_index(ser, "severity");
	c->sensor = col_index(ser, "sensor");
	c->late = col_index(ser, "late");
	c->raised = col_index(ser, "raised_ns");
	c->cleared = col_index(ser, "cleared_ns");
}

/* A nanosecond field as milliseconds; 0 when absent or not a number. */
static int64_t ns_at_ms(const cJSON *row, int col)
{
	const cJSON *v = col >= 0 ? cJSON_GetArrayItem(row, col) : NULL;

	return cJSON_IsNumber(v) && v->valuedouble > 0 ? (int64_t)(v->valuedouble / 1e6) : 0;
}

/* One alert row as an event for alarm_history (strings borrowed from the
 * reply).  0, or -1 when it is not one of this lot's alarms' events. */
static int alert_event_of(const struct report *r, const struct stay *st, const struct alert_cols *c, const cJSON *row,
			  struct alarm_history_event *e)
{
	const cJSON *late = c->late >= 0 ? cJSON_GetArrayItem(row, c->late) : NULL;

	e->id = str_at(row, c->id);
	e->event = str_at(row, c->ev);
	if (!e->id || !e->event || !alarm_is_ours(e->id, st->room, r->lot))
		return -1;
	e->t_ms = (int64_t)num_at(row, c->t);
	e->state = str_at(row, c->state);
	e->severity = str_at(row, c->severity);
	e->sensor = str_at(row, c->sensor);
	e->message = str_at(row, c->message);
	e->user = str_at(row, c->user);
	e->note = str_at(row, c->note);
	e->value = num_at(row, c->value);
	e->limit = num_at(row, c->limit);
	e->late = cJSON_IsTrue(late) || (cJSON_IsString(late) && strcmp(late->valuestring, "true") == 0);
	e->raised_ms = ns_at_ms(row, c->raised);
	e->cleared_ms = ns_at_ms(row, c->cleared);
	return 0;
}

static void alert_events_add(const struct report *r, const struct stay *st, const cJSON *series,
			     struct alarm_history_event **ev, size_t *n, size_t *cap)
{
	const cJSON *ser, *row;

	cJSON_ArrayForEach(ser, series) {
		struct alert_cols c;
		alert_cols_of(ser, &c);
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values")) {
			if (*n == *cap) {
				*cap = *cap ? 2 * *cap : 64;
				*ev = xrealloc(*ev, *cap * sizeof(**ev));
			}
			if (alert_event_of(r, st, &c, row, &(*ev)[*n]) == 0)
				(*n)++;
		}
	}
}

/* The alarms of a stay: the episodes of the alert events in it.  An alarm
 * whose first event in the stay is not its raise was raised before: its
 * latest raise, clear or reset before the stay says when (or that it had
 * already ended). */
static int read_alarms(struct report *r, const struct stay *st, int last_stay)
{
	char *room = ql_str(st->room), *q;
	cJSON *root, *series, **back = NULL;
	struct alarm_history_event *ev = NULL;
	struct alarm_history h = { 0 };
	size_t n = 0, cap = 0, nback = 0;
	int rc = -1;

	q = xasprintf("SELECT * FROM \"alert\" WHERE \"room\" = %s AND time >= %" PRId64 "ms AND time <= %" PRId64
		      "ms",
		      room, st->from, st->to);
	root = iq(r, q, &series);
	free(q);
	if (!root)
		goto out;
	alert_events_add(r, st, series, &ev, &n, &cap);
	if (alarm_history_build(ev, n, st->from, st->to, &h) < 0)
		goto out;
	for (size_t i = 0; i < h.n; i++) {
		char *id;
		if (h.ep[i].raised_ms)
			continue;
		id = ql_str(h.ep[i].id);
		q = xasprintf("SELECT * FROM \"alert\" WHERE \"room\" = %s AND \"id\" = %s AND time < %" PRId64
			      "ms AND (\"event\" = 'raise' OR \"event\" = 'clear' OR \"event\" = 'reset') ORDER BY "
			      "time DESC LIMIT 1",
			      room, id, st->from);
		free(id);
		back = xrealloc(back, (nback + 1) * sizeof(*back));
		back[nback] = iq(r, q, &series);
		free(q);
		if (!back[nback])
			goto out;
		alert_events_add(r, st, series, &ev, &n, &cap);
		nback++;
	}
	if (nback) {
		alarm_history_free(&h);
		if (alarm_history_build(ev, n, st->from, st->to, &h) < 0)
			goto out;
	}
	r->alarms = xrealloc(r->alarms, (r->nalarms + h.n + 1) * sizeof(*r->alarms));
	for (size_t i = 0; i < h.n; i++) /* the episodes move: h.ep's strings are theirs now */
		r->alarms[r->nalarms++] = (struct alarm_occ){ .e = h.ep[i], .first_stay = st == &r->stays[0],
							      .last_stay = last_stay };
	free(h.ep);
	h.ep = NULL;
	h.n = 0;
	rc = 0;
out:
	alarm_history_free(&h);
	for (size_t i = 0; i < nback; i++)
		cJSON_Delete(back[i]);
	free(back);
	free(ev);
	cJSON_Delete(root);
	free(room);
	return rc;
}

/* ------------------------------------------------------------ output: common */

static void stats_merge(struct stats *a, const struct stats *b)
{
	a->n += b->n;
	a->sum += b->sum;
	a->below_h += b->below_h;
	a->above_h += b->above_h;
	if (b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
}

static const struct slpt *sl_last(const struct report *r)
{
	return r->nsl ? &r->sl[r->nsl - 1] : NULL;
}

static double sl_val(const struct report *r, int k)
{
	const struct slpt *p = sl_last(r);
	return p ? p->f[k] : NAN;
}

static const char *model_name(int m)
{
	switch (m) {
	case CC_MODEL_ARRHENIUS: return "Arrhenius";
	case CC_MODEL_Q10: return "Q10";
	case CC_MODEL_SQRT: return "square-root (Ratkowsky)";
	case CC_MODEL_PIECEWISE_Q10: return "piecewise Q10";
	}
	return "none";
}

static void fmt_num(char *buf, size_t len, double v, int prec)
{
	if (isnan(v) || isinf(v))
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%.*f", prec, v);
}

/* key, value pairs of the header, shared by both formats */
struct kv {
	const char *k;
	char v[512];
};

static size_t header_kvs(const struct report *r, struct kv *kv, size_t max)
{
	size_t n = 0;
	char a[64], b[64];
	const struct cc_profile *p = r->prof;

#define KV(key, ...) do { if (n < max) { kv[n].k = key; snprintf(kv[n].v, sizeof(kv[n].v), __VA_ARGS__); n++; } } while (0)
	KV("lot", "%s", r->lot);
	KV("site", "%s", r->site ? r->site : "");
	KV("product", "%s", r->product ? r->product : r->lotc ? r->lotc->product : "");
	KV("profile", "%s", r->profile ? r->profile : p ? p->name : "");
	KV("profile_version", "%s", r->profile_version ? r->profile_version : p ? p->version : "");
	if (p && p->description)
		KV("profile_description", "%s", p->description);
	fmt_utc(r->lotc ? r->lotc->loaded_ns / 1000000 : 0, a, sizeof(a));
	KV("loaded_utc", "%s", a);
	if (r->lotc && r->lotc->dispatch) {
		fmt_utc(r->lotc->dispatch_ns / 1000000, a, sizeof(a));
		KV("planned_dispatch_utc", "%s", a);
	}
	fmt_utc(r->from, a, sizeof(a));
	fmt_utc(r->to, b, sizeof(b));
	KV("period_from_utc", "%s", a);
	KV("period_to_utc", "%s", b);
	fmt_num(a, sizeof(a), r->band_low, 1);
	fmt_num(b, sizeof(b), r->band_high, 1);
	/* A D-graded number is an estimate wherever it is printed. */
	KV("band_c", "%s..%s%s", a, b,
	   p && ((r->band_low == p->limits.band_low && prof_estimate(p, "band_low")) ||
		 (r->band_high == p->limits.band_high && prof_estimate(p, "band_high"))) ? " (estimate)" : "");
	if (p) {
		KV("model", "%s", model_name(p->model));
		if (p->model != CC_MODEL_NONE) {
			KV("model_t_ref_c", "%g%s", p->t_ref_c, prof_estimate(p, "t_ref") ? " (estimate)" : "");
			KV("model_shelf_life_d", "%g%s", (double)p->shelf_life_ms / 86400000.0,
			   prof_estimate(p, "shelf_life") ? " (estimate)" : "");
		}
		if (p->model == CC_MODEL_ARRHENIUS)
			KV("model_ea_kj_mol", "%g%s", p->ea_kj_mol, prof_estimate(p, "ea") ? " (estimate)" : "");
		KV("mkt_dh_r_k", "%g", p->mkt_dh_r_k);
	}
	KV("influxdb", "%s database %s", r->url, r->db);
	fmt_utc(r->generated, a, sizeof(a));
	KV("generated_utc", "%s", a);
	KV("software", "coldchainctl %s (coldchaind)", CC_VERSION);
	KV("timestamps", "%s", "UTC, as recorded by coldchaind at the time of the reading");
#undef KV
	return n;
}

/* The lot figures: the daemon's accumulators at the end of the period. */
struct fig {
	const char *k, *label, *unit;
	double v;
	int prec;
};

static size_t lot_figs(const struct report *r, struct fig *f)
{
	size_t n = 0;
	double c = sl_val(r, SL_CONSUMED);

	f[n++] = (struct fig){ "consumed_pct", "Consumed shelf life", "%", isnan(c) ? NAN : c * 100, 2 };
	f[n++] = (struct fig){ "remaining_d", "Remaining shelf life at the last temperature", "d",
			       sl_val(r, SL_REMAINING) / 24, 1 };
	f[n++] = (struct fig){ "remaining_at_plan_d", "Remaining shelf life at the plan temperature", "d",
			       sl_val(r, SL_REMAINING_PLAN) / 24, 1 };
	f[n++] = (struct fig){ "mkt_c", "Mean kinetic temperature (product)", "°C", sl_val(r, SL_MKT), 2 };
	f[n++] = (struct fig){ "degree_hours_kh", "Degree-hours above the threshold", "K·h", sl_val(r, SL_DH), 2 };
	f[n++] = (struct fig){ "chill_hours_kh", "Chilling degree-hours", "K·h", sl_val(r, SL_CH), 2 };
	f[n++] = (struct fig){ "weight_loss_pct", "Weight loss", "%", sl_val(r, SL_WL), 2 };
	f[n++] = (struct fig){ "model_no_data_h", "No data (model)", "h", sl_val(r, SL_NODATA), 2 };
	f[n++] = (struct fig){ "observed_h", "Observed", "h", sl_val(r, SL_OBS), 2 };
	return n;
}

/* ------------------------------------------------------------ CSV */

static void csv_cell(FILE *o, const char *s, int first)
{
	if (!first)
		fputc(',', o);
	if (!s)
		return;
	/* A text cell a spreadsheet would run as a formula gets a quote. */
	int formula = (s[0] == '=' || s[0] == '+' || s[0] == '@' || s[0] == '\t' ||
		       (s[0] == '-' && !isdigit((unsigned char)s[1])));
	if (formula || strpbrk(s, ",\"\r\n")) {
		fputc('"', o);
		if (formula)
			fputc('\'', o);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', o);
			fputc(*s, o);
		}
		fputc('"', o);
	} else {
		fputs(s, o);
	}
}

static void csv_row(FILE *o, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		csv_cell(o, va_arg(ap, const char *), i == 0);
	va_end(ap);
	fputc('\n', o);
}

static void csv_stats_row(FILE *o, const char *room, int64_t from, int64_t to, const struct series *t,
			  const struct stats *ts, const struct series *h, const struct stats *hs)
{
	char a[64], b[64], hrs[32], tn[32], tmin[32], tmax[32], tmean[32], below[32], above[32];
	char hn[32], hmin[32], hmax[32], hmean[32], tsens[160], hsens[160], tint[32], hint[32];

	fmt_utc(from, a, sizeof(a));
	fmt_utc(to, b, sizeof(b));
	snprintf(hrs, sizeof(hrs), "%.3f", (double)(to - from) / 3600000.0);
	snprintf(tn, sizeof(tn), "%zu", ts->n);
	snprintf(hn, sizeof(hn), "%zu", hs->n);
	fmt_num(tmin, sizeof(tmin), ts->n ? ts->min : NAN, 2);
	fmt_num(tmax, sizeof(tmax), ts->n ? ts->max : NAN, 2);
	snprintf(tmean, sizeof(tmean), "%s", "");
	if (ts->n)
		snprintf(tmean, sizeof(tmean), "%.6f", ts->sum / (double)ts->n);
	fmt_num(below, sizeof(below), ts->below_h, 3);
	fmt_num(above, sizeof(above), ts->above_h, 3);
	fmt_num(hmin, sizeof(hmin), hs->n ? hs->min : NAN, 2);
	fmt_num(hmax, sizeof(hmax), hs->n ? hs->max : NAN, 2);
	snprintf(hmean, sizeof(hmean), "%s", "");
	if (hs->n)
		snprintf(hmean, sizeof(hmean), "%.6f", hs->sum / (double)hs->n);
	snprintf(tsens, sizeof(tsens), "%s%s%s", t && t->sensor ? t->sensor : "", t && t->channel ? "/" : "",
		 t && t->channel ? t->channel : "");
	snprintf(hsens, sizeof(hsens), "%s%s%s", h && h->sensor ? h->sensor : "", h && h->channel ? "/" : "",
		 h && h->channel ? h->channel : "");
	snprintf(tint, sizeof(tint), "%s", "");
	snprintf(hint, sizeof(hint), "%s", "");
	if (t && t->interval_ms)
		snprintf(tint, sizeof(tint), "%.1f", (double)t->interval_ms / 1000.0);
	if (h && h->interval_ms)
		snprintf(hint, sizeof(hint), "%.1f", (double)h->interval_ms / 1000.0);
	csv_row(o, 19, "stay", room, a, b, hrs, tsens, tint, tn, tmin, tmax, tmean, below, above, hsens, hint, hn,
		hmin, hmax, hmean);
}

/* How an alarm row ends: its clear (or reset), else still active when the
 * period ended (or when the lot left the room, for an earlier stay). */
static const char *alarm_end_label(const struct alarm_occ *al)
{
	switch (al->e.end) {
	case ALARM_HISTORY_CLEARED: return "cleared";
	case ALARM_HISTORY_RESET: return "reset";
	case ALARM_HISTORY_ACTIVE: break;
	}
	return al->last_stay ? "active at the end" : "active when the lot left the room";
}

static void write_csv(const struct report *r, FILE *o)
{
	struct kv kv[40];
	struct fig f[12];
	size_t n = header_kvs(r, kv, 40), nf = lot_figs(r, f);
	struct stats tt = { .min = INFINITY, .max = -INFINITY }, th = tt;
	char a[64], b[64], c[64], d[64];

	csv_row(o, 3, "report", "key", "value");
	for (size_t i = 0; i < n; i++)
		csv_row(o, 3, "report", kv[i].k, kv[i].v);
	for (size_t i = 0; i < r->ngrades; i++) {
		const struct grade *g = &r->grades[i];
		int est = strcmp(g->grade, "D") == 0;
		char k[160], *v;
		snprintf(k, sizeof(k), "grade:%s", g->key);
		if (est || *g->source)
			v = xasprintf("%s = %s (%s%s%s)", g->grade, g->value, est ? "estimate" : "",
				      est && *g->source ? ": " : "", g->source);
		else
			v = xasprintf("%s = %s", g->grade, g->value);
		csv_row(o, 3, "report", k, v);
		free(v);
	}
	fputc('\n', o);
	csv_row(o, 4, "figure", "key", "value", "unit");
	for (size_t i = 0; i < nf; i++) {
		fmt_num(a, sizeof(a), f[i].v, 4);
		csv_row(o, 4, "figure", f[i].k, a, f[i].unit);
	}
	fputc('\n', o);
	csv_row(o, 19, "stay", "room", "from_utc", "to_utc", "hours", "temperature_channel", "temperature_interval_s",
		"temperature_samples", "temperature_min_c", "temperature_max_c", "temperature_mean_c",
		"below_band_h", "above_band_h", "humidity_channel", "humidity_interval_s", "humidity_samples",
		"humidity_min_pct", "humidity_max_pct", "humidity_mean_pct");
	for (size_t i = 0; i < r->nstays; i++) {
		const struct stay *s = &r->stays[i];
		csv_stats_row(o, s->room, s->from, s->to, s->have_temp ? &s->temp : NULL, &s->ts,
			      s->have_rh ? &s->rh : NULL, &s->hs);
		stats_merge(&tt, &s->ts);
		stats_merge(&th, &s->hs);
	}
	csv_stats_row(o, "(all)", r->from, r->to, NULL, &tt, NULL, &th);
	fputc('\n', o);
	csv_row(o, 16, "alarm", "id", "severity", "raised_utc", "value", "limit", "message", "acked_utc", "acked_by",
		"ack_note", "cleared_utc", "shelved_by", "status", "cleared_by", "raised_before_period", "historical");
	for (size_t i = 0; i < r->nalarms; i++) {
		const struct alarm_occ *al = &r->alarms[i];
		const struct alarm_episode *e = &al->e;
		char v[32], l[32];
		fmt_utc(e->raised_ms, a, sizeof(a));
		fmt_utc(e->acked_ms, b, sizeof(b));
		fmt_utc(e->cleared_ms, c, sizeof(c));
		fmt_num(v, sizeof(v), e->value, 2);
		fmt_num(l, sizeof(l), e->limit, 2);
		csv_row(o, 16, "alarm", e->id, e->severity, e->raised_ms ? a : "", v, l, e->message, e->acked_ms ? b : "",
			e->acked_by, e->ack_note, e->cleared_ms ? c : "", e->shelved_by, alarm_end_label(al),
			e->cleared_by, e->raised_before ? "yes" : "", e->late ? "yes" : "");
	}
	fputc('\n', o);
	csv_row(o, 7, "gap", "channel", "kind", "from_utc", "to_utc", "duration_s", "");
	for (size_t i = 0; i < r->ngaps; i++) {
		const struct gap *g = &r->gaps[i];
		char ch[200];
		snprintf(ch, sizeof(ch), "%s/%s", g->sensor ? g->sensor : "", g->channel ? g->channel : "");
		fmt_utc(g->from, a, sizeof(a));
		fmt_utc(g->to, b, sizeof(b));
		snprintf(d, sizeof(d), "%.1f", (double)(g->to - g->from) / 1000.0);
		csv_row(o, 7, "gap", ch, g->kind, a, b, d, "");
	}
	fputc('\n', o);
	csv_row(o, 7, "data", "time_utc", "room", "channel", "quantity", "value", "quality");
	for (size_t i = 0; i < r->nstays; i++) {
		const struct stay *s = &r->stays[i];
		for (int k = 0; k < 2; k++) {
			const struct series *se = k ? &s->rh : &s->temp;
			char ch[200];
			if (!(k ? s->have_rh : s->have_temp))
				continue;
			snprintf(ch, sizeof(ch), "%s/%s", se->sensor ? se->sensor : "", se->channel ? se->channel : "");
			for (size_t j = 0; j < se->n; j++) {
				char t[64], tb[64];
				int64_t ms = se->s[j].t;
				fmt_utc(ms, tb, sizeof(tb));
				/* milliseconds, so every row keeps its own timestamp */
				snprintf(t, sizeof(t), "%.19s.%03dZ", tb, (int)(ms % 1000));
				fmt_num(a, sizeof(a), se->s[j].v, 2);
				csv_row(o, 7, "data", t, s->room, ch, k ? "humidity" : "temperature", a,
					se->s[j].q == Q_GOOD ? "good" : se->s[j].q == Q_RANGE ? "out_of_range" : "comm_error");
			}
		}
	}
}

/* ------------------------------------------------------------ HTML */

static void html_esc(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: fputc(*s, o);
		}
	}
}

struct axis {
	int64_t t0, t1;
	double lo, hi; /* left: temperature */
	double rlo, rhi; /* right: RH */
	double x0, y0, w, h;
};

static double ax_x(const struct axis *a, int64_t t)
{
	return a->x0 + a->w * (double)(t - a->t0) / (double)(a->t1 > a->t0 ? a->t1 - a->t0 : 1);
}

static double ax_y(const struct axis *a, double v, int right)
{
	double lo = right ? a->rlo : a->lo, hi = right ? a->rhi : a->hi;
	return a->y0 + a->h - a->h * (v - lo) / (hi - lo);
}

/* One polyline per run of good samples without a gap; at most
 * CHART_MAX_POINTS points per series (min and max of each bucket). */
static void svg_series(FILE *o, const struct axis *a, const struct series *s, int right, const char *cls)
{
	size_t stride = s->n / (CHART_MAX_POINTS / 2) + 1, npts = 0;
	int64_t cap = s->interval_ms > 0 ? GAP_INTERVALS * s->interval_ms : INT64_MAX;
	int open = 0;
	int64_t prev_t = 0;

	for (size_t i = 0; i < s->n; i += stride) {
		size_t lo_i = (size_t)-1, hi_i = (size_t)-1, end = i + stride < s->n ? i + stride : s->n;
		for (size_t j = i; j < end; j++) {
			if (s->s[j].q != Q_GOOD) {
				continue;
			}
			if (lo_i == (size_t)-1 || s->s[j].v < s->s[lo_i].v)
				lo_i = j;
			if (hi_i == (size_t)-1 || s->s[j].v > s->s[hi_i].v)
				hi_i = j;
		}
		int bad = 0;
		for (size_t j = i; j < end; j++)
			bad |= s->s[j].q != Q_GOOD;
		if (lo_i == (size_t)-1 || (open && s->s[i].t - prev_t > cap * (int64_t)stride) || (bad && stride == 1)) {
			if (open)
				fputs("\"/>\n", o);
			open = 0;
			if (lo_i == (size_t)-1)
				continue;
		}
		if (!open) {
			fprintf(o, "<polyline class=\"%s\" points=\"", cls);
			open = 1;
		}
		size_t first = lo_i < hi_i ? lo_i : hi_i, second = lo_i < hi_i ? hi_i : lo_i;
		fprintf(o, "%.1f,%.1f ", ax_x(a, s->s[first].t), ax_y(a, s->s[first].v, right));
		npts++;
		if (second != first) {
			fprintf(o, "%.1f,%.1f ", ax_x(a, s->s[second].t), ax_y(a, s->s[second].v, right));
			npts++;
		}
		prev_t = s->s[end - 1].t;
	}
	if (open)
		fputs("\"/>\n", o);
	(void)npts;
}

static void write_svg(const struct report *r, FILE *o)
{
	struct axis a = { .t0 = r->from, .t1 = r->to, .x0 = 60, .y0 = 20, .w = CHART_W - 120, .h = CHART_H - 70 };
	double lo = INFINITY, hi = -INFINITY, rlo = INFINITY;
	char buf[64];

	for (size_t i = 0; i < r->nstays; i++) {
		const struct stay *s = &r->stays[i];
		if (s->ts.n) {
			lo = fmin(lo, s->ts.min);
			hi = fmax(hi, s->ts.max);
		}
		if (s->hs.n)
			rlo = fmin(rlo, s->hs.min);
	}
	if (!isnan(r->band_low))
		lo = fmin(lo, r->band_low);
	if (!isnan(r->band_high))
		hi = fmax(hi, r->band_high);
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0;
		hi = 10;
	}
	a.lo = floor(lo - 1);
	a.hi = ceil(hi + 1);
	a.rlo = isfinite(rlo) ? floor(fmin(rlo, 80) / 10) * 10 : 0;
	a.rhi = 100;

	fprintf(o, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
		   "aria-label=\"air temperature and relative humidity against the storage band\">\n",
		CHART_W, CHART_H);
	fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>\n", a.x0, a.y0, a.w,
		a.h);
	if (!isnan(r->band_low) && !isnan(r->band_high))
		fprintf(o, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", a.x0,
			ax_y(&a, r->band_high, 0), a.w, ax_y(&a, r->band_low, 0) - ax_y(&a, r->band_high, 0));
	/* temperature ticks, left; RH ticks, right */
	double step = (a.hi - a.lo) > 20 ? 5 : (a.hi - a.lo) > 8 ? 2 : 1;
	for (double v = ceil(a.lo / step) * step; v <= a.hi; v += step) {
		double y = ax_y(&a, v, 0);
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", a.x0, y, a.x0 + a.w,
			y);
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", a.x0 - 6, y + 4,
			v);
	}
	for (double v = a.rlo; v <= a.rhi; v += 10)
		fprintf(o, "<text class=\"tick rh\" x=\"%.1f\" y=\"%.1f\">%g</text>\n", a.x0 + a.w + 6,
			ax_y(&a, v, 1) + 4, v);
	for (int k = 0; k <= 4; k++) {
		int64_t t = a.t0 + (a.t1 - a.t0) * k / 4;
		fmt_utc(t, buf, sizeof(buf));
		buf[a.t1 - a.t0 < 7200000 ? 19 : 16] = '\0'; /* seconds only on a short period */
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", ax_x(&a, t),
			a.y0 + a.h + 18, k == 0 ? "start" : k == 4 ? "end" : "middle", buf);
	}
	fprintf(o, "<text class=\"label\" x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
		   "text-anchor=\"middle\">air temperature °C</text>\n",
		a.y0 + a.h / 2, a.y0 + a.h / 2);
	fprintf(o, "<text class=\"label rh\" x=\"%d\" y=\"%.1f\" transform=\"rotate(90 %d %.1f)\" "
		   "text-anchor=\"middle\">RH %%</text>\n",
		CHART_W - 12, a.y0 + a.h / 2, CHART_W - 12, a.y0 + a.h / 2);
	for (size_t i = 0; i < r->nstays; i++) {
		const struct stay *s = &r->stays[i];
		if (i > 0)
			fprintf(o, "<line class=\"move\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				ax_x(&a, s->from), a.y0, ax_x(&a, s->from), a.y0 + a.h);
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">room ", ax_x(&a, s->from) + 4, a.y0 + 14);
		html_esc(o, s->room);
		fputs("</text>\n", o);
		if (s->have_rh)
			svg_series(o, &a, &s->rh, 1, "rh");
		if (s->have_temp)
			svg_series(o, &a, &s->temp, 0, "temp");
	}
	for (size_t i = 0; i < r->nalarms; i++) {
		const struct alarm_occ *al = &r->alarms[i];
		if (al->e.raised_before)
			continue;
		double x = ax_x(&a, al->e.raised_ms);
		fprintf(o, "<path class=\"alarm\" d=\"M%.1f %.1f l-5 -9 h10 z\"><title>", x, a.y0 + a.h);
		html_esc(o, al->e.id);
		fputs("</title></path>\n", o);
	}
	fprintf(o, "<g class=\"legend\"><line class=\"temp\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		   "<text x=\"%.1f\" y=\"%d\">air temperature</text>"
		   "<line class=\"rh\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		   "<text x=\"%.1f\" y=\"%d\">RH</text>"
		   "<rect class=\"band\" x=\"%.1f\" y=\"%d\" width=\"20\" height=\"10\"/>"
		   "<text x=\"%.1f\" y=\"%d\">storage band</text>"
		   "<path class=\"alarm\" d=\"M%.1f %d l-5 -9 h10 z\"/><text x=\"%.1f\" y=\"%d\">alarm raised</text></g>\n",
		a.x0, CHART_H - 12, a.x0 + 20, CHART_H - 12, a.x0 + 26, CHART_H - 8, a.x0 + 160, CHART_H - 12,
		a.x0 + 180, CHART_H - 12, a.x0 + 186, CHART_H - 8, a.x0 + 240, CHART_H - 21, a.x0 + 266, CHART_H - 8,
		a.x0 + 380, CHART_H - 8, a.x0 + 390, CHART_H - 8);
	fputs("</svg>\n", o);
}

static const char css[] =
	"@page { size: A4; margin: 14mm 12mm; }\n"
	"body { font: 10.5pt/1.35 'DejaVu Sans', Arial, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; }\n"
	"h1 { font-size: 16pt; margin: 0 0 4px; } h2 { font-size: 12pt; margin: 16px 0 6px; border-bottom: 1px solid #999; }\n"
	"table { border-collapse: collapse; width: 100%; margin: 4px 0; page-break-inside: auto; }\n"
	"tr { page-break-inside: avoid; } thead { display: table-header-group; }\n"
	"th, td { border: 1px solid #bbb; padding: 2px 5px; text-align: left; vertical-align: top; font-size: 9pt; }\n"
	"th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }\n"
	"table.kv th { width: 32%; }\n"
	"svg { width: 100%; height: auto; border: 1px solid #ccc; page-break-inside: avoid; }\n"
	"svg .frame { fill: none; stroke: #888; } svg .band { fill: #cfe8cf; stroke: none; }\n"
	"svg .grid { stroke: #e4e4e4; } svg .tick { font-size: 11px; fill: #333; } svg .label { font-size: 12px; }\n"
	"svg .temp { fill: none; stroke: #c0392b; stroke-width: 1.5; } svg .rh { fill: none; stroke: #2471a3; "
	"stroke-width: 1; stroke-dasharray: 4 2; } svg text.rh { fill: #2471a3; stroke: none; }\n"
	"svg .alarm { fill: #e67e22; } svg .move { stroke: #555; stroke-dasharray: 2 3; } svg .legend text { font-size: 11px; }\n"
	".note { color: #444; font-size: 9pt; } .bad { color: #a00; }\n"
	"footer { margin-top: 18px; font-size: 8.5pt; color: #555; }\n"
	"@media print { h2 { page-break-after: avoid; } }\n";

static void html_kv_row(FILE *o, const char *k, const char *v)
{
	fputs("<tr><th>", o);
	html_esc(o, k);
	fputs("</th><td>", o);
	html_esc(o, v);
	fputs("</td></tr>\n", o);
}

static void html_td(FILE *o, const char *s, int num)
{
	fputs(num ? "<td class=\"n\">" : "<td>", o);
	html_esc(o, s);
	fputs("</td>", o);
}

static void html_stats_row(FILE *o, const char *room, int64_t from, int64_t to, const struct stats *ts,
			   const struct stats *hs)
{
	char b[64];

	fputs("<tr>", o);
	html_td(o, room, 0);
	fmt_utc(from, b, sizeof(b));
	html_td(o, b, 0);
	fmt_utc(to, b, sizeof(b));
	html_td(o, b, 0);
	snprintf(b, sizeof(b), "%.2f", (double)(to - from) / 3600000.0);
	html_td(o, b, 1);
	fmt_num(b, sizeof(b), ts->n ? ts->min : NAN, 2);
	html_td(o, b, 1);
	fmt_num(b, sizeof(b), ts->n ? ts->max : NAN, 2);
	html_td(o, b, 1);
	fmt_num(b, sizeof(b), ts->n ? ts->sum / (double)ts->n : NAN, 2);
	html_td(o, b, 1);
	fmt_num(b, sizeof(b), ts->below_h + ts->above_h, 2);
	html_td(o, b, 1);
	snprintf(b, sizeof(b), "%zu", ts->n);
	html_td(o, b, 1);
	fmt_num(b, sizeof(b), hs->n ? hs->min : NAN, 1);
	html_td(o, b, 1);
	fmt_num(b, sizeof(b), hs->n ? hs->max : NAN, 1);
	html_td(o, b, 1);
	fmt_num(b, sizeof(b), hs->n ? hs->sum / (double)hs->n : NAN, 1);
	html_td(o, b, 1);
	fputs("</tr>\n", o);
}

static void write_html(const struct report *r, FILE *o)
{
	struct kv kv[40];
	struct fig f[12];
	size_t n = header_kvs(r, kv, 40), nf = lot_figs(r, f);
	struct stats tt = { .min = INFINITY, .max = -INFINITY }, th = tt;
	char a[64], b[64];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Lot ", o);
	html_esc(o, r->lot);
	fputs(" storage history</title>\n<style>\n", o);
	fputs(css, o);
	fputs("</style></head><body>\n<h1>Storage history of lot <span id=\"lot\">", o);
	html_esc(o, r->lot);
	fputs("</span></h1>\n<p class=\"note\">Temperature record after EN 12830: UTC timestamps, sensor ids and "
	      "recording intervals below; gaps in the record are listed explicitly.</p>\n",
	      o);

	fputs("<h2>Record</h2>\n<table class=\"kv\" id=\"header\">\n", o);
	for (size_t i = 0; i < n; i++)
		html_kv_row(o, kv[i].k, kv[i].v);
	fputs("</table>\n", o);

	fputs("<h2>Sensors</h2>\n<table id=\"sensors\"><thead><tr><th>room</th><th>quantity</th><th>sensor/channel</th>"
	      "<th>recording interval</th><th>samples</th></tr></thead>\n",
	      o);
	for (size_t i = 0; i < r->nstays; i++) {
		const struct stay *s = &r->stays[i];
		for (int k = 0; k < 2; k++) {
			const struct series *se = k ? &s->rh : &s->temp;
			if (!(k ? s->have_rh : s->have_temp))
				continue;
			fputs("<tr>", o);
			html_td(o, s->room, 0);
			html_td(o, k ? "relative humidity" : "air temperature", 0);
			snprintf(a, sizeof(a), "%s/%s", se->sensor ? se->sensor : "?", se->channel ? se->channel : "?");
			html_td(o, a, 0);
			if (se->interval_ms)
				snprintf(b, sizeof(b), "%.0f s%s", (double)se->interval_ms / 1000.0,
					 se->configured ? "" : " (observed)");
			else
				snprintf(b, sizeof(b), "unknown");
			html_td(o, b, 0);
			snprintf(b, sizeof(b), "%zu", se->n);
			html_td(o, b, 1);
			fputs("</tr>\n", o);
		}
	}
	fputs("</table>\n", o);

	fputs("<h2>Air temperature and RH against the storage band</h2>\n", o);
	write_svg(r, o);

	fputs("<h2>Lot figures</h2>\n<table class=\"kv\" id=\"figures\">\n", o);
	for (size_t i = 0; i < nf; i++) {
		fmt_num(a, sizeof(a), f[i].v, f[i].prec);
		fprintf(o, "<tr><th>%s</th><td class=\"n\" id=\"fig-%s\">%s%s%s</td></tr>\n", f[i].label, f[i].k,
			a[0] ? a : "n/a", a[0] ? " " : "", a[0] ? f[i].unit : "");
	}
	fputs("</table>\n<p class=\"note\">From coldchaind's shelf-life model (product temperature), cumulative "
	      "since loading, at the end of the period. Estimates rest on the profile named above.</p>\n",
	      o);

	fputs("<h2>Time in each room</h2>\n<table id=\"stays\"><thead><tr><th>room</th><th>from (UTC)</th>"
	      "<th>to (UTC)</th><th>h</th><th>min °C</th><th>max °C</th><th>mean °C</th><th>outside band h</th>"
	      "<th>samples</th><th>RH min</th><th>RH max</th><th>RH mean</th></tr></thead>\n",
	      o);
	for (size_t i = 0; i < r->nstays; i++) {
		const struct stay *s = &r->stays[i];
		html_stats_row(o, s->room, s->from, s->to, &s->ts, &s->hs);
		stats_merge(&tt, &s->ts);
		stats_merge(&th, &s->hs);
	}
	html_stats_row(o, "all", r->from, r->to, &tt, &th);
	fmt_num(a, sizeof(a), r->band_low, 1);
	fmt_num(b, sizeof(b), r->band_high, 1);
	fprintf(o, "</table>\n<p class=\"note\">Band %s..%s °C%s; time outside it: <span id=\"below-h\">%.2f</span> h "
		   "below, <span id=\"above-h\">%.2f</span> h above (each reading held until the next, at most %d "
		   "recording intervals).</p>\n",
		a, b,
		r->prof && ((r->band_low == r->prof->limits.band_low && prof_estimate(r->prof, "band_low")) ||
			    (r->band_high == r->prof->limits.band_high && prof_estimate(r->prof, "band_high")))
			? " (estimate)" : "",
		tt.below_h, tt.above_h, GAP_INTERVALS);

	fputs("<h2>Alarms and acknowledgements</h2>\n", o);
	if (!r->nalarms)
		fputs("<p id=\"alarms-none\">No alarm during the period.</p>\n", o);
	else {
		fputs("<table id=\"alarms\"><thead><tr><th>alarm</th><th>severity</th><th>raised (UTC)</th>"
		      "<th>value / limit</th><th>acknowledged</th><th>cleared (UTC)</th></tr></thead>\n",
		      o);
		for (size_t i = 0; i < r->nalarms; i++) {
			const struct alarm_occ *al = &r->alarms[i];
			const struct alarm_episode *e = &al->e;
			const char *before = al->first_stay ? "before the period" : "before the lot entered the room";
			char vl[80], v[32], l[32];
			fprintf(o, "<tr class=\"alarm-%s\"><td>", e->end == ALARM_HISTORY_ACTIVE ? "active" : "ended");
			html_esc(o, e->id);
			if (e->message) {
				fputs("<br><span class=\"note\">", o);
				html_esc(o, e->message);
				fputs("</span>", o);
			}
			if (e->late)
				fputs("<br><span class=\"note late\">historical alarm (late-arriving data): recorded, "
				      "not annunciated</span>",
				      o);
			fputs("</td>", o);
			html_td(o, e->severity ? e->severity : "", 0);
			fputs("<td class=\"raised\">", o);
			if (e->raised_ms) {
				fmt_utc(e->raised_ms, a, sizeof(a));
				html_esc(o, a);
				if (e->raised_before)
					fprintf(o, " (%s)", before);
			} else {
				html_esc(o, before);
			}
			fputs("</td>", o);
			fmt_num(v, sizeof(v), e->value, 2);
			fmt_num(l, sizeof(l), e->limit, 2);
			snprintf(vl, sizeof(vl), "%s / %s", v, l);
			html_td(o, vl, 1);
			fputs("<td class=\"acked\">", o);
			if (e->acked_ms) {
				fmt_utc(e->acked_ms, a, sizeof(a));
				html_esc(o, a);
				fputs(" by ", o);
				html_esc(o, e->acked_by ? e->acked_by : "?");
				if (e->ack_note) {
					fputs(": “", o);
					html_esc(o, e->ack_note);
					fputs("”", o);
				}
			} else {
				fputs("<span class=\"bad\">not acknowledged</span>", o);
			}
			if (e->shelved_by) {
				fputs("<br>shelved by ", o);
				html_esc(o, e->shelved_by);
			}
			fputs("</td><td class=\"cleared\">", o);
			if (e->end == ALARM_HISTORY_ACTIVE) {
				fputs("<span class=\"bad\">", o);
				html_esc(o, alarm_end_label(al));
				fputs("</span>", o);
			} else {
				fmt_utc(e->cleared_ms, a, sizeof(a));
				html_esc(o, a);
				if (e->end == ALARM_HISTORY_RESET) {
					fputs(" (reset by ", o);
					html_esc(o, e->cleared_by ? e->cleared_by : "?");
					fputs(")", o);
				}
			}
			fputs("</td></tr>\n", o);
		}
		fputs("</table>\n", o);
	}

	fputs("<h2>Gaps in the record</h2>\n", o);
	if (!r->ngaps)
		fputs("<p id=\"gaps-none\">None: every recording interval has a reading.</p>\n", o);
	else {
		fputs("<table id=\"gaps\"><thead><tr><th>sensor/channel</th><th>kind</th><th>from (UTC)</th>"
		      "<th>to (UTC)</th><th>duration</th></tr></thead>\n",
		      o);
		for (size_t i = 0; i < r->ngaps; i++) {
			const struct gap *g = &r->gaps[i];
			fputs("<tr>", o);
			snprintf(a, sizeof(a), "%s/%s", g->sensor ? g->sensor : "?", g->channel ? g->channel : "?");
			html_td(o, a, 0);
			html_td(o, g->kind, 0);
			fmt_utc(g->from, a, sizeof(a));
			html_td(o, a, 0);
			fmt_utc(g->to, a, sizeof(a));
			html_td(o, a, 0);
			format_duration_ms(g->to - g->from, b, sizeof(b));
			html_td(o, b, 1);
			fputs("</tr>\n", o);
		}
		fputs("</table>\n", o);
	}

	if (r->ngrades) {
		fputs("<h2>Profile parameters and their grades</h2>\n<table id=\"grades\"><thead><tr><th>parameter</th>"
		      "<th>value</th><th>grade</th><th>source</th></tr></thead>\n",
		      o);
		for (size_t i = 0; i < r->ngrades; i++) {
			const struct grade *g = &r->grades[i];
			int est = strcmp(g->grade, "D") == 0;
			char *pv = xasprintf("%s.%s", g->group, g->key);
			fprintf(o, "<tr%s>", est ? " class=\"estimate\"" : "");
			html_td(o, pv, 0);
			free(pv);
			pv = xasprintf("%s%s", est ? "≈ " : "", g->value);
			html_td(o, pv, 1);
			free(pv);
			html_td(o, est ? "D (estimate)" : g->grade, 0);
			html_td(o, g->source, 0);
			fputs("</tr>\n", o);
		}
		fputs("</table>\n<p class=\"note\">A: primary source; B: secondary; C: derived from A/B; D: engineering "
		      "estimate, to be calibrated locally (shown ≈).</p>\n",
		      o);
	}
	fmt_utc(r->generated, a, sizeof(a));
	fprintf(o, "<footer>Generated %s by coldchainctl %s from InfluxDB ", a, CC_VERSION);
	html_esc(o, r->url);
	fputs(" database ", o);
	html_esc(o, r->db);
	fputs(".</footer>\n</body></html>\n", o);
}

/* ------------------------------------------------------------ main */

static void report_usage(FILE *f)
{
	fputs("usage: coldchainctl report --lot ID [--from T] [--to T] [--format html|csv]\n"
	      "                           [--influx URL] [--db NAME] [-c CONFIG] [-o FILE]\n"
	      "  T: ISO 8601 with a zone (2026-06-12T08:00:00+07:00, ...Z), epoch seconds, or now.\n"
	      "  --from defaults to the lot's loading time, --to to now; --influx and --db to the\n"
	      "  configuration's first outputs.influxdb entry.\n",
	      f);
}

static void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nstays; i++) {
		struct stay *s = &r->stays[i];
		free(s->room);
		free(s->temp.s);
		free(s->temp.sensor);
		free(s->temp.channel);
		free(s->rh.s);
		free(s->rh.sensor);
		free(s->rh.channel);
	}
	free(r->stays);
	for (size_t i = 0; i < r->nalarms; i++)
		alarm_history_free_episode(&r->alarms[i].e);
	free(r->alarms);
	for (size_t i = 0; i < r->ngaps; i++) {
		free(r->gaps[i].sensor);
		free(r->gaps[i].channel);
	}
	free(r->gaps);
	for (size_t i = 0; i < r->ngrades; i++) {
		free(r->grades[i].key);
		free(r->grades[i].value);
		free(r->grades[i].grade);
		free(r->grades[i].source);
	}
	free(r->grades);
	free(r->sl);
	cJSON_Delete(r->sl_json);
	free(r->product);
	free(r->profile);
	free(r->profile_version);
	free(r->site);
	free(r->url);
	free(r->db);
	free(r->user);
	if (r->pass) {
		explicit_bzero(r->pass, strlen(r->pass));
		free(r->pass);
	}
	if (r->cfg)
		config_free(r->cfg);
}

static int compare_stay_gaps(const void *a, const void *b)
{
	const struct gap *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lot", required_argument, NULL, 'l' },    { "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },     { "format", required_argument, NULL, 'F' },
		{ "influx", required_argument, NULL, 'u' }, { "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' }, { "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	struct report r = { .format = "html", .band_low = NAN, .band_high = NAN };
	const char *from_s = NULL, *to_s = NULL, *url = NULL, *db = NULL;
	char *tmp_path = NULL;
	FILE *o = stdout;
	int c, st = 1, explicit_conf = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': r.lot = optarg; break;
		case 'f': from_s = optarg; break;
		case 't': to_s = optarg; break;
		case 'F': r.format = optarg; break;
		case 'u': url = optarg; break;
		case 'd': db = optarg; break;
		case 'c': r.conf_path = optarg; explicit_conf = 1; break;
		case 'o': r.out_path = optarg; break;
		case 'h': report_usage(stdout); return 0;
		default:
			ctl_opt_refused("coldchainctl report", opts, c, argv);
			report_usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !r.lot || (strcmp(r.format, "html") != 0 && strcmp(r.format, "csv") != 0)) {
		if (optind < argc)
			fprintf(stderr, "coldchainctl report: unexpected argument '%s'\n", argv[optind]);
		else if (!r.lot)
			fprintf(stderr, "coldchainctl report: --lot ID is required\n");
		else
			fprintf(stderr, "coldchainctl report: --format must be html or csv, not '%s'\n", r.format);
		report_usage(stderr);
		return 2;
	}
	if (from_s && parse_time_ms(from_s, &r.from) < 0) {
		fprintf(stderr, "coldchainctl report: --from '%s' is not a time (ISO 8601 with a zone, epoch seconds, now)\n",
			from_s);
		return 2;
	}
	if (to_s && parse_time_ms(to_s, &r.to) < 0) {
		fprintf(stderr, "coldchainctl report: --to '%s' is not a time (ISO 8601 with a zone, epoch seconds, now)\n",
			to_s);
		return 2;
	}
	r.from_set = from_s != NULL;
	r.to_set = to_s != NULL;
	r.generated = time_now_ns() / 1000000;

	/* The configuration: where InfluxDB is, the lot's room, profile and channels. */
	if (!r.conf_path)
		r.conf_path = CC_SYSCONFDIR "/coldchaind/coldchaind.conf";
	if (explicit_conf || access(r.conf_path, R_OK) == 0) {
		struct cc_errors e = { 0 };
		if (config_load(r.conf_path, &r.cfg, &e) < 0) {
			errors_print(&e, stderr);
			errors_free(&e);
			fprintf(stderr, "coldchainctl report: invalid configuration %s\n", r.conf_path);
			goto out;
		}
	}
	if (r.cfg) {
		const struct cc_influx_conf *ic = NULL;
		for (size_t i = 0; i < r.cfg->ninflux; i++)
			if (!r.cfg->influx[i].v2) {
				ic = &r.cfg->influx[i];
				break;
			}
		if (ic) {
			if (!url) { /* its server: its TLS settings too */
				url = ic->url;
				r.ca_file = ic->ca_file;
				r.insecure = ic->insecure;
			}
			if (!db)
				db = ic->database;
			if (ic->username) {
				r.user = xstrdup(ic->username);
				r.pass = ic->password ? xstrdup(ic->password)
						      : ic->password_file ? read_first_line(ic->password_file) : NULL;
			}
		}
		r.site = xstrdup0(r.cfg->site);
		find_lot(&r);
	}
	if (!url || !db) {
		fprintf(stderr, "coldchainctl report: no InfluxDB to read: give --influx URL and --db NAME, or -c CONFIG "
				"with an outputs.influxdb entry\n");
		st = 2;
		goto out;
	}
	r.url = xstrdup(url);
	r.db = xstrdup(db);
	if (!r.from_set) {
		if (r.lotc) {
			r.from = r.lotc->loaded_ns / 1000000;
		} else {
			/* the lot's first shelf_life point */
			char *lot = ql_str(r.lot), *q;
			cJSON *root, *series;
			q = xasprintf("SELECT first(\"observed_h\") FROM \"shelf_life\" WHERE \"lot\" = %s", lot);
			free(lot);
			root = iq(&r, q, &series);
			free(q);
			if (!root)
				goto out;
			if (!cJSON_GetArraySize(series)) {
				fprintf(stderr, "coldchainctl report: lot %s: not in the configuration and no shelf_life "
						"points in InfluxDB %s database %s\n",
					r.lot, r.url, r.db);
				cJSON_Delete(root);
				goto out;
			}
			r.from = (int64_t)num_at(cJSON_GetArrayItem(
							 cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(series, 0), "values"), 0),
						 0);
			cJSON_Delete(root);
		}
	}
	if (!r.to_set)
		r.to = r.generated;
	if (r.to <= r.from) {
		fprintf(stderr, "coldchainctl report: the period is empty (--to is not after --from)\n");
		st = 2;
		goto out;
	}

	if (read_shelf_life(&r) < 0)
		goto out;
	make_stays(&r);
	if (!r.nstays) {
		fprintf(stderr, "coldchainctl report: lot %s: no shelf_life points between --from and --to in InfluxDB %s "
				"database %s, and the lot is not in the configuration\n",
			r.lot, r.url, r.db);
		goto out;
	}
	if (!r.prof)
		r.prof = config_find_profile(r.cfg, r.profile);
	{
		const struct cc_room_conf *rc = config_find_room(r.cfg, r.stays[0].room);
		r.band_low = r.prof ? r.prof->limits.band_low : NAN;
		r.band_high = r.prof ? r.prof->limits.band_high : NAN;
		if (rc && !isnan(rc->limits.band_low))
			r.band_low = rc->limits.band_low;
		if (rc && !isnan(rc->limits.band_high))
			r.band_high = rc->limits.band_high;
	}
	for (size_t i = 0; i < r.nstays; i++) {
		struct stay *s = &r.stays[i];
		const struct cc_room_conf *rc = config_find_room(r.cfg, s->room);
		if (read_series(&r, s, "temperature", rc ? rc->temperature : NULL, &s->temp, &s->have_temp) < 0 ||
		    read_series(&r, s, "humidity", rc ? rc->humidity : NULL, &s->rh, &s->have_rh) < 0 ||
		    read_alarms(&r, s, i + 1 == r.nstays) < 0)
			goto out;
		analyse(&r, &s->temp, s->from, s->to, r.band_low, r.band_high, &s->ts);
		analyse(&r, &s->rh, s->from, s->to, NAN, NAN, &s->hs);
	}
	if (r.ngaps > 1)
		qsort(r.gaps, r.ngaps, sizeof(*r.gaps), compare_stay_gaps);
	grades_from_profile(&r, r.prof);

	if (r.out_path && strcmp(r.out_path, "-") != 0) {
		tmp_path = xasprintf("%s.tmp", r.out_path);
		o = fopen(tmp_path, "w");
		if (!o) {
			fprintf(stderr, "coldchainctl report: %s: %s\n", tmp_path, strerror(errno));
			o = stdout;
			goto out;
		}
	}
	if (strcmp(r.format, "csv") == 0)
		write_csv(&r, o);
	else
		write_html(&r, o);
	if (o != stdout) {
		int bad = ferror(o);
		if (fclose(o) != 0 || bad) {
			fprintf(stderr, "coldchainctl report: %s: write error\n", tmp_path);
			o = stdout;
			unlink(tmp_path);
			goto out;
		}
		o = stdout;
		if (rename(tmp_path, r.out_path) < 0) {
			fprintf(stderr, "coldchainctl report: %s: %s\n", r.out_path, strerror(errno));
			unlink(tmp_path);
			goto out;
		}
		fprintf(stderr, "coldchainctl report: lot %s: %s written (%zu room stay%s, %zu alarm%s, %zu gap%s)\n",
			r.lot, r.out_path, r.nstays, r.nstays == 1 ? "" : "s", r.nalarms, r.nalarms == 1 ? "" : "s",
			r.ngaps, r.ngaps == 1 ? "" : "s");
	} else if (fflush(stdout) != 0) {
		goto out;
	}
	st = 0;
out:
	if (o != stdout)
		fclose(o);
	free(tmp_path);
	report_free(&r);
	return st;
}
