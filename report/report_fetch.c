/* report_fetch.c - what `coldchainctl report` reads from InfluxDB: the
 * lot's shelf_life points, its rooms' temperature and humidity series and
 * their alert events.  The only InfluxQL of the report is here; the
 * figures are report_analyse.c's. */
#include "report.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/util.h"
#include "../outputs/influx_query.h"

/* The shelf_life fields, in the order of enum report_sl_field. */
static const char *const report_sl_fields[REPORT_SL_NFIELDS] = {
	"consumed",	"remaining_h", "remaining_h_at_plan", "mkt_c",	    "degree_hours",
	"chill_hours", "weight_loss_pct", "no_data_h",	       "observed_h", "product_c"
};

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
	if (r->deadline_ns) { /* the web page's: what is left of it */
		int64_t left_ms = (r->deadline_ns - time_now_ns()) / 1000000;
		if (left_ms <= 0) {
			r->influx_down = 1;
			report_err(r, "InfluxDB %s database %s: the report's deadline passed", r->url, r->db);
			return NULL;
		}
		conn.timeout_ms = left_ms;
	}
	rc = influx_query_json(&conn, q, &json, err, sizeof(err));
	if (rc < 0) {
		if (rc != -EFBIG)
			r->influx_down = 1;
		report_err(r, "InfluxDB %s database %s: %s", r->url, r->db, err);
		return NULL;
	}
	root = cJSON_Parse(json);
	free(json);
	if (!root) {
		report_err(r, "InfluxDB %s: the reply is not JSON", r->url);
		return NULL;
	}
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "results"), 0);
	if (!e && res)
		e = cJSON_GetObjectItemCaseSensitive(res, "error");
	if (cJSON_IsString(e)) {
		report_err(r, "InfluxDB %s: %s (query: %s)", r->url, e->valuestring, q);
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

static const struct cc_device_conf *find_device(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->nbuses; i++)
		for (size_t j = 0; j < cfg->buses[i].ndevices; j++)
			if (strcmp(cfg->buses[i].devices[j].name, name) == 0)
				return &cfg->buses[i].devices[j];
	return NULL;
}

/* The lot's shelf_life points: product, profile, the rooms it stayed in
 * (unsorted: report_make_stays() sorts them). */
int report_fetch_shelf_life(struct report *r)
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
		int ti = col_index(ser, "time"), idx[REPORT_SL_NFIELDS];
		const char *room = tag_of(ser, "room");
		for (int k = 0; k < REPORT_SL_NFIELDS; k++)
			idx[k] = col_index(ser, report_sl_fields[k]);
		if (!r->product && tag_of(ser, "product"))
			r->product = xstrdup(tag_of(ser, "product"));
		if (!r->profile && tag_of(ser, "profile"))
			r->profile = xstrdup(tag_of(ser, "profile"));
		if (!r->profile_version && tag_of(ser, "profile_version"))
			r->profile_version = xstrdup(tag_of(ser, "profile_version"));
		if (!r->site && tag_of(ser, "site"))
			r->site = xstrdup(tag_of(ser, "site"));
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values")) {
			struct report_slpt *p;
			if (r->nsl == cap) {
				cap = cap ? 2 * cap : 1024;
				r->sl = xrealloc(r->sl, cap * sizeof(*r->sl));
			}
			p = &r->sl[r->nsl++];
			p->t = (int64_t)num_at(row, ti);
			p->room = room ? room : "";
			for (int k = 0; k < REPORT_SL_NFIELDS; k++)
				p->f[k] = num_at(row, idx[k]);
		}
	}
	return 0;
}

/* The readings of one series of the reply into out, with the recording
 * interval: the sensor's configured one, else the median step. */
static void series_of(const struct report *r, const cJSON *ser, struct report_series *out)
{
	const struct cc_device_conf *d;
	const cJSON *row;
	int ti = col_index(ser, "time"), vi = col_index(ser, "value"), qi = col_index(ser, "quality");

	out->sensor = xstrdup0(tag_of(ser, "sensor"));
	out->channel = xstrdup0(tag_of(ser, "channel"));
	cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values")) {
		double v = num_at(row, vi);
		const char *qs = str_at(row, qi);
		int qq = !isnan(v) ? REPORT_Q_GOOD : qs && strcmp(qs, "out_of_range") == 0 ? REPORT_Q_RANGE : REPORT_Q_COMM;
		report_series_push(out, (int64_t)num_at(row, ti), v, qq);
	}
	d = out->sensor ? find_device(r->cfg, out->sensor) : NULL;
	if (d && d->interval_ms > 0) {
		out->interval_ms = d->interval_ms;
		out->configured = 1;
	} else {
		out->interval_ms = report_series_median_step(out);
	}
}

/* Air temperature or RH of a room: its configured channel when the
 * configuration is known, else the first series of that quantity in it. */
static int read_series(struct report *r, const struct report_stay *st, const char *quantity, const char *chan_id,
		       struct report_series *out, int *have)
{
	char *sensor = NULL, *channel = NULL, *q, *w;
	cJSON *root, *series, *ser;

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
		*have = 1;
		series_of(r, ser, out);
	}
	cJSON_Delete(root);
	return 0;
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
static int alert_event_of(const struct report *r, const struct report_stay *st, const struct alert_cols *c,
			  const cJSON *row, struct alarm_history_event *e)
{
	const cJSON *late = c->late >= 0 ? cJSON_GetArrayItem(row, c->late) : NULL;

	e->id = str_at(row, c->id);
	e->event = str_at(row, c->ev);
	if (!e->id || !e->event || !report_alarm_is_ours(e->id, st->room, r->lot))
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

static void alert_events_add(const struct report *r, const struct report_stay *st, const cJSON *series,
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
static int read_alarms(struct report *r, const struct report_stay *st, int first_stay, int last_stay)
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
	/* which of them were raised before the stay */
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
	if (report_alarm_rows(ev, n, st->from, st->to, first_stay, last_stay, &r->alarms, &r->nalarms) < 0)
		goto out;
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

int report_fetch_stay(struct report *r, struct report_stay *st, const struct cc_room_conf *rc, int first_stay,
		      int last_stay)
{
	if (read_series(r, st, "temperature", rc ? rc->temperature : NULL, &st->temp, &st->have_temp) < 0 ||
	    read_series(r, st, "humidity", rc ? rc->humidity : NULL, &st->rh, &st->have_rh) < 0)
		return -1;
	return read_alarms(r, st, first_stay, last_stay);
}

int report_fetch_first_ms(struct report *r, int64_t *out)
{
	char *lot = ql_str(r->lot), *q;
	cJSON *root, *series, *values;

	q = xasprintf("SELECT first(\"observed_h\") FROM \"shelf_life\" WHERE \"lot\" = %s", lot);
	free(lot);
	root = iq(r, q, &series);
	free(q);
	if (!root)
		return -1;
	if (!cJSON_GetArraySize(series)) {
		report_err(r, "lot %s: not in the configuration and no shelf_life "
				"points in InfluxDB %s database %s",
			r->lot, r->url, r->db);
		cJSON_Delete(root);
		return 1;
	}
	values = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(series, 0), "values");
	*out = (int64_t)num_at(cJSON_GetArrayItem(values, 0), 0);
	cJSON_Delete(root);
	return 0;
}

/* --- processing steps -------------------------------------------------- */

/* The process fields the report reads (daemon/engine/batch.c,
 * batch_point()); booleans and strings by name. */
static const char process_fields[] =
	"\"C\",\"j\",\"r2\",\"half_h\",\"seven_eighths_h\",\"eta\",\"remaining_h\",\"slowest_c\",\"medium_c\",\"n\","
	"\"fit\",\"status\",\"pull_early\",\"probe_faults\",\"stopped\",\"underperforming\",\"unreachable\","
	"\"late_start\",\"over_cooling\",\"start\","
	/* fumigation chamber */
	"\"ct_ppmh\",\"ct_g_h_m3\",\"peak_ppm\",\"chamber_ppm\",\"unmonitored_h\",\"purge_h\",\"purge_estimate_h\","
	"\"chamber_t\",\"chamber_rh\",\"phase\",\"ct_verdict\","
	/* drying */
	"\"mc_wb\",\"mc_db\",\"mass_ratio\",\"mass_kg\",\"stage\",\"k\"";

/* An InfluxQL regular expression matching the ids PROCESS/BATCH/...  */
static char *ql_id_prefix_re(const char *process, const char *batch)
{
	char *s = xasprintf("%s/%s/", process, batch), *r = xmalloc(2 * strlen(s) + 5), *p = r;

	*p++ = '/';
	*p++ = '^';
	for (const char *c = s; *c; c++) {
		/* ASCII punctuation escaped; UTF-8 bytes as they are */
		if ((unsigned char)*c < 0x80 && !isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			*p++ = '\\';
		*p++ = *c;
	}
	*p++ = '/';
	*p = '\0';
	free(s);
	return r;
}

/* A boolean column: 1, 0, or -1 when the point does not record it. */
static int bool_at(const cJSON *row, int i)
{
	const cJSON *v = i >= 0 ? cJSON_GetArrayItem(row, i) : NULL;

	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return -1;
}

static void keep_num(double *dst, double v)
{
	if (isfinite(v))
		*dst = v;
}

static void keep_str(char **dst, const char *v)
{
	if (v) {
		free(*dst);
		*dst = xstrdup(v);
	}
}

static void keep_bool(int *dst, int v)
{
	if (v >= 0)
		*dst = v;
}

/* A fumigation chamber's or a dryer's figures of one process point. */
static void step_row_fum_dry(struct report_step *st, const cJSON *ser, const cJSON *row)
{
	static const struct {
		const char *k;
		size_t off;
	} nums[] = {
#define F(k, m) { k, offsetof(struct report_step, m) }
		F("ct_ppmh", ct_ppmh),	   F("ct_g_h_m3", ct_g_h_m3), F("peak_ppm", peak_ppm),
		F("unmonitored_h", unmonitored_h), F("purge_h", purge_h), F("purge_estimate_h", purge_estimate_h),
		F("chamber_t", chamber_t), F("chamber_rh", chamber_rh), F("mc_wb", mc_wb),
		F("mc_db", mc_db),	   F("mass_ratio", mass_ratio), F("mass_kg", mass_kg),
		F("k", k),
#undef F
	};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		keep_num((double *)((char *)st + nums[i].off), num_at(row, col_index(ser, nums[i].k)));
	keep_str(&st->phase, str_at(row, col_index(ser, "phase")));
	keep_str(&st->ct_verdict, str_at(row, col_index(ser, "ct_verdict")));
	keep_str(&st->stage, str_at(row, col_index(ser, "stage")));
}

/* One process point: its reading on the curve, and the latest figures. */
static void step_row(struct report_step *st, const cJSON *ser, const cJSON *row, size_t *cap, double *msum,
		     size_t *mn)
{
	int64_t t = (int64_t)num_at(row, col_index(ser, "time"));
	double slow = num_at(row, col_index(ser, st->curve_field)), med = num_at(row, col_index(ser, "medium_c"));
	double start = num_at(row, col_index(ser, "start"));

	if (!st->start)
		st->start = t;
	st->end = t;
	/* a stopped batch's points fall at its stop time, not at a reading's:
	 * its final temperature, not a point of the curve */
	if (isfinite(slow) && bool_at(row, col_index(ser, "stopped")) <= 0) {
		if (st->npts == *cap) {
			*cap = *cap ? 2 * *cap : 256;
			st->pts = xrealloc(st->pts, *cap * sizeof(*st->pts));
		}
		if (!st->npts) {
			st->t0_c = slow;
			st->t0_ms = t;
		}
		st->pts[st->npts++] = (struct report_cool_pt){ (double)(t - st->t0_ms) / 3600000.0, slow };
	}
	if (strcmp(st->curve_field, "slowest_c") == 0)
		keep_num(&st->final_c, slow);
	if (isfinite(start) && start > 0)
		st->batch_start_ms = (int64_t)(start / 1e6);
	step_row_fum_dry(st, ser, row);
	if (isfinite(med)) {
		*msum += med;
		(*mn)++;
	}
	keep_num(&st->c_per_h, num_at(row, col_index(ser, "C")));
	keep_num(&st->j, num_at(row, col_index(ser, "j")));
	keep_num(&st->r2, num_at(row, col_index(ser, "r2")));
	keep_num(&st->half_h, num_at(row, col_index(ser, "half_h")));
	keep_num(&st->seven_eighths_h, num_at(row, col_index(ser, "seven_eighths_h")));
	keep_num(&st->remaining_h, num_at(row, col_index(ser, "remaining_h")));
	keep_num(&st->n, num_at(row, col_index(ser, "n")));
	keep_num(&st->probe_faults, num_at(row, col_index(ser, "probe_faults")));
	st->eta_ms = num_at(row, col_index(ser, "eta")) > 0 ? (int64_t)(num_at(row, col_index(ser, "eta")) / 1e6) : 0;
	keep_str(&st->fit, str_at(row, col_index(ser, "fit")));
	keep_str(&st->status, str_at(row, col_index(ser, "status")));
	keep_bool(&st->pull_early, bool_at(row, col_index(ser, "pull_early")));
	keep_bool(&st->stopped, bool_at(row, col_index(ser, "stopped")));
	keep_bool(&st->underperforming, bool_at(row, col_index(ser, "underperforming")));
	keep_bool(&st->unreachable, bool_at(row, col_index(ser, "unreachable")));
	keep_bool(&st->late_start, bool_at(row, col_index(ser, "late_start")));
	keep_bool(&st->over_cooling, bool_at(row, col_index(ser, "over_cooling")));
}

/* The batch's alarms: every alert event whose id is PROCESS/BATCH/rule. */
static int step_alarms(struct report *r, struct report_step *st)
{
	char *re = ql_id_prefix_re(st->process, st->batch), *q;
	struct alarm_history_event *ev = NULL;
	size_t n = 0, cap = 0;
	cJSON *root, *series, *ser, *row;
	int rc = -1;

	q = xasprintf("SELECT * FROM \"alert\" WHERE \"id\" =~ %s AND time <= %" PRId64 "ms", re, r->generated);
	free(re);
	root = iq(r, q, &series);
	free(q);
	if (!root)
		return -1;
	cJSON_ArrayForEach(ser, series) {
		struct alert_cols c;
		alert_cols_of(ser, &c);
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values")) {
			struct alarm_history_event *e;
			const cJSON *late = c.late >= 0 ? cJSON_GetArrayItem(row, c.late) : NULL;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				ev = xrealloc(ev, cap * sizeof(*ev));
			}
			e = &ev[n];
			*e = (struct alarm_history_event){ .id = str_at(row, c.id), .event = str_at(row, c.ev) };
			if (!e->id || !e->event)
				continue;
			e->t_ms = (int64_t)num_at(row, c.t);
			e->state = str_at(row, c.state);
			e->severity = str_at(row, c.severity);
			e->message = str_at(row, c.message);
			e->user = str_at(row, c.user);
			e->note = str_at(row, c.note);
			e->value = num_at(row, c.value);
			e->limit = num_at(row, c.limit);
			e->late = cJSON_IsTrue(late);
			n++;
		}
	}
	rc = report_alarm_rows(ev, n, 1, r->generated, 1, 1, &st->alarms, &st->nalarms) < 0 ? -1 : 0;
	free(ev);
	cJSON_Delete(root);
	return rc;
}

/* The step's profile and line from the configuration, and its target. */
static void step_config(const struct report *r, struct report_step *st)
{
	st->pp = config_find_process_profile(r->cfg, st->profile);
	st->pc = config_find_process(r->cfg, st->process);
	st->target_c = st->margin_k = NAN;
	if (st->pp && st->pp->kind == CC_PROCESS_PRECOOL) {
		st->target_c = st->pp->precool.target_c;
		st->margin_k = st->pp->precool.target_margin_k;
	} else if (st->pp && st->pp->kind == CC_PROCESS_CARCASS_CHILL) {
		st->target_c = st->pp->carcass_chill.target_c;
		st->margin_k = st->pp->carcass_chill.target_margin_k;
	}
}

/* The report's own fit of the recorded slowest-probe points (the profile's
 * lag and noise gates; processing.md's 0.9 and 0.5 K without a profile). */
static void step_refit(struct report_step *st)
{
	const struct cc_fit_gates *g = st->pp && st->pp->kind == CC_PROCESS_PRECOOL ? &st->pp->precool.fit : NULL;
	double lag_y = g ? g->lag_y : 0.9, delta = g ? g->delta_k : 0.5;
	double um = st->pp && st->pp->kind == CC_PROCESS_PRECOOL ? st->pp->precool.unreachable_margin_k : 0.5;

	report_cool_fit(st->pts, st->npts, st->t0_c, st->tm_c, st->target_c, lag_y, delta, um, &st->refit);
}

/* The report's own CT of the recorded chamber points (the profile's
 * max_gap: a longer step is not integrated). */
static void step_refit_fum(struct report_step *st)
{
	double gap_h = st->pp && st->pp->kind == CC_PROCESS_FUMIGATION && st->pp->fumigation.max_gap_ms > 0
			       ? (double)st->pp->fumigation.max_gap_ms / 3600000.0
			       : NAN;

	if (strcmp(st->curve_field, "chamber_ppm") == 0 && st->npts)
		st->refit_ct_ppmh = report_fum_ct(st->pts, st->npts, gap_h, NULL);
}

/* The outside sensors of a fumigation step: their last figures, and the
 * highest STEL maximum any point recorded. */
static int step_sensors(struct report *r, struct report_step *st)
{
	char *b = ql_str(st->batch), *q;
	cJSON *root, *series, *ser;

	q = xasprintf("SELECT last(\"twa_ppm\") AS \"twa_ppm\", last(\"twa_upper_ppm\") AS \"twa_upper_ppm\", "
		      "max(\"stel_max_ppm\") AS \"stel_max_ppm\", last(\"projected_twa_ppm\") AS \"projected_twa_ppm\", "
		      "last(\"unmonitored_h\") AS \"unmonitored_h\" FROM \"process\" WHERE \"batch\" = %s AND "
		      "\"sensor\" != '' AND time <= %" PRId64 "ms GROUP BY \"sensor\"",
		      b, r->generated);
	free(b);
	root = iq(r, q, &series);
	free(q);
	if (!root)
		return -1;
	st->sensors = xcalloc((size_t)cJSON_GetArraySize(series) + 1, sizeof(*st->sensors));
	cJSON_ArrayForEach(ser, series) {
		const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ser, "values"), 0);
		struct report_sensor *x = &st->sensors[st->nsensors];
		if (!row || !tag_of(ser, "sensor"))
			continue;
		x->sensor = xstrdup(tag_of(ser, "sensor"));
		x->twa_ppm = num_at(row, col_index(ser, "twa_ppm"));
		x->twa_upper_ppm = num_at(row, col_index(ser, "twa_upper_ppm"));
		x->stel_max_ppm = num_at(row, col_index(ser, "stel_max_ppm"));
		x->projected_twa_ppm = num_at(row, col_index(ser, "projected_twa_ppm"));
		x->unmonitored_h = num_at(row, col_index(ser, "unmonitored_h"));
		st->nsensors++;
	}
	cJSON_Delete(root);
	return 0;
}

struct found_batch {
	int64_t start;
	char *batch;
};

static int cmp_found(const void *a, const void *b)
{
	const struct found_batch *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->batch, y->batch);
}

int report_fetch_lot_batches(struct report *r)
{
	char *l = ql_str(r->lot), *q;
	cJSON *root, *series, *ser;
	struct found_batch *f;
	size_t n = 0;

	/* lot is a field (InfluxQL filters on it): only the released batch's
	 * points carry it; their start is the batch's */
	q = xasprintf("SELECT first(\"start\") AS \"start\" FROM \"process\" WHERE \"lot\" = %s AND time <= %" PRId64
		      "ms GROUP BY \"batch\"",
		      l, r->generated);
	free(l);
	root = iq(r, q, &series);
	free(q);
	if (!root)
		return -1;
	f = xcalloc((size_t)cJSON_GetArraySize(series) + 1, sizeof(*f));
	cJSON_ArrayForEach(ser, series) {
		const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ser, "values"), 0);
		const char *b = tag_of(ser, "batch");
		double start = row ? num_at(row, col_index(ser, "start")) : NAN;
		if (!b || !*b)
			continue;
		f[n].start = isfinite(start) ? (int64_t)start : INT64_MAX;
		f[n++].batch = xstrdup(b);
	}
	qsort(f, n, sizeof(*f), cmp_found);
	r->found = xcalloc(n + 1, sizeof(*r->found));
	for (size_t i = 0; i < n; i++)
		r->found[r->nfound++] = f[i].batch;
	free(f);
	cJSON_Delete(root);
	return 0;
}

static int cmp_lot_step(const void *a, const void *b)
{
	const struct report_lot_step *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->step, y->step);
}

static void lot_step_of(struct report_lot_step *ls, const cJSON *ser, const cJSON *row)
{
	double start = num_at(row, col_index(ser, "start")), end = num_at(row, col_index(ser, "end"));

	ls->step = xstrdup0(tag_of(ser, "step"));
	ls->batch = xstrdup0(tag_of(ser, "batch"));
	ls->room = xstrdup0(tag_of(ser, "room"));
	ls->process = xstrdup0(str_at(row, col_index(ser, "process")));
	ls->verdict = xstrdup0(str_at(row, col_index(ser, "verdict")));
	/* start and end are ns fields; a point without start: its time */
	ls->start = isfinite(start) ? (int64_t)(start / 1e6) : (int64_t)num_at(row, 0);
	ls->end = isfinite(end) ? (int64_t)(end / 1e6) : 0;
}

int report_fetch_lot_steps(struct report *r)
{
	char *l = ql_str(r->lot), *q;
	cJSON *root, *series, *ser, *row;
	size_t n = 0;

	q = xasprintf("SELECT \"start\", \"end\", \"process\", \"verdict\" FROM \"lot_step\" WHERE \"lot\" = %s AND "
		      "time <= %" PRId64 "ms GROUP BY \"step\", \"batch\", \"room\"",
		      l, r->generated);
	free(l);
	root = iq(r, q, &series);
	free(q);
	if (!root)
		return -1;
	cJSON_ArrayForEach(ser, series)
		n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ser, "values"));
	r->lsteps = xcalloc(n + 1, sizeof(*r->lsteps));
	cJSON_ArrayForEach(ser, series) {
		if (!tag_of(ser, "step"))
			continue;
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values"))
			lot_step_of(&r->lsteps[r->nlsteps++], ser, row);
	}
	qsort(r->lsteps, r->nlsteps, sizeof(*r->lsteps), cmp_lot_step);
	cJSON_Delete(root);
	return 0;
}

int report_fetch_step(struct report *r, const char *batch, struct report_step *st)
{
	char *b = ql_str(batch), *q;
	cJSON *root, *series, *ser, *row;
	size_t cap = 0, mn = 0;
	double msum = 0;
	int rc = -1;

	*st = (struct report_step){ .c_per_h = NAN, .j = NAN, .r2 = NAN, .half_h = NAN, .seven_eighths_h = NAN,
				    .remaining_h = NAN, .final_c = NAN, .medium_c = NAN, .n = NAN,
				    .probe_faults = NAN, .pull_early = -1, .underperforming = -1, .unreachable = -1,
				    .late_start = -1, .over_cooling = -1, .stopped = -1, .t0_c = NAN, .tm_c = NAN,
				    .ct_ppmh = NAN, .ct_g_h_m3 = NAN, .peak_ppm = NAN, .unmonitored_h = NAN,
				    .purge_h = NAN, .purge_estimate_h = NAN, .chamber_t = NAN, .chamber_rh = NAN,
				    .refit_ct_ppmh = NAN, .mc_wb = NAN, .mc_db = NAN, .mass_ratio = NAN, .mass_kg = NAN,
				    .k = NAN, .curve_field = "slowest_c" };
	st->batch = xstrdup(batch);
	/* the chamber's (or the line's) points: not the outside sensors' */
	q = xasprintf("SELECT %s FROM \"process\" WHERE \"batch\" = %s AND \"sensor\" = '' AND time <= %" PRId64
		      "ms GROUP BY \"process\",\"kind\",\"profile\",\"profile_version\"",
		      process_fields, b, r->generated);
	free(b);
	root = iq(r, q, &series);
	free(q);
	if (!root)
		return -1;
	ser = cJSON_GetArrayItem(series, 0);
	if (!ser) {
		report_err(r, "batch %s: no process points in InfluxDB %s database %s", batch,
			r->url, r->db);
		rc = 1;
		goto out;
	}
	st->process = xstrdup0(tag_of(ser, "process"));
	st->kind = xstrdup0(tag_of(ser, "kind"));
	st->profile = xstrdup0(tag_of(ser, "profile"));
	st->profile_version = xstrdup0(tag_of(ser, "profile_version"));
	if (st->kind && strcmp(st->kind, "fumigation") == 0)
		st->curve_field = "chamber_ppm";
	else if (st->kind && strcmp(st->kind, "drying") == 0)
		st->curve_field = "mc_wb";
	cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(ser, "values"))
		step_row(st, ser, row, &cap, &msum, &mn);
	st->medium_c = mn ? msum / (double)mn : NAN;
	st->tm_c = st->medium_c;
	step_config(r, st);
	if (strcmp(st->curve_field, "slowest_c") == 0)
		step_refit(st);
	else
		step_refit_fum(st);
	rc = st->process ? step_alarms(r, st) : 0;
	if (rc == 0 && strcmp(st->curve_field, "chamber_ppm") == 0)
		rc = step_sensors(r, st);
out:
	cJSON_Delete(root);
	return rc;
}

int report_step_estimate(const struct report_step *st, const char *group, const char *key)
{
	const struct cc_param *p = st->pp ? config_process_param(st->pp, group, key, -1) : NULL;

	return p && p->grade == 'D';
}
