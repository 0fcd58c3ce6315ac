/* eval.c (was daemon/engine.c) - the alarm and model engine: binds the configuration's rooms,
 * lots and rules to channels, runs the pure state machines and models of
 * daemon/models on each sample and timer tick, and turns their transitions
 * into records (InfluxDB "alert", log) and notifications (JSON events).
 * One mutex: samples come from several source threads; the work per sample
 * is small (a few comparisons and exponentials), and no disk sync is ever
 * done under it (the state file is written after it is released). */
#include "../engine.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../codec/lineproto.h"
#include "../log.h"
#include "../models/alarm.h"
#include "../models/psychro.h"
#include "../models/shelflife.h"
#include "../state.h"
#include "../util.h"

#define STATE_FILE "engine.state"
#define STATE_VERSION 1
#define SNAPSHOT_MS 60000

struct ealarm {
	char *id;
	char *room, *sensor, *channel, *rule, *message;
	struct alarm a;
	int64_t last_ev_ns;
	int temp_kind; /* a room temperature alarm: defrost suppresses it */
	struct echan *src; /* the channel whose readings drive it (NULL: timers only) */
	struct alarm_ratelimit *notify; /* shared by the alarms of one channel */
};

/* Notification rate limit of one channel (or of a room-level alarm). */
struct enotify {
	char *key;
	struct alarm_ratelimit rl;
};

struct echan {
	char *id;
	int64_t interval_ms; /* poll interval when known, else 0 */
	int64_t last_good_ms;
	double value;        /* last good value, NaN */
	struct ealarm *stale, *fault;
	struct ealarm *stuck; /* air temperature only */
	double stuck_value;
	int64_t last_ms;     /* last sample of any quality (status), 0: none */
	int last_q;          /* its quality */
	/* Reading time against the wall clock: a reading older than the stale
	 * limit is late.  A run of late readings (a backlog) is "catching up"
	 * for at most one stale limit of wall time after it began; meanwhile
	 * the channel's alarms run on the readings' own times only. */
	int64_t newest_ms;       /* newest reading evaluated (older ones are not) */
	int64_t arrival_ms;      /* wall clock when it was processed */
	int64_t behind_since_ms; /* wall clock when the current run of late readings began, 0: none */
	uint64_t out_of_order;   /* readings older than newest_ms: recorded, not evaluated */
};

struct elot {
	const struct cc_lot_conf *lc;
	const struct cc_profile *prof;
	struct lot_params p;
	struct lot_state s;
	struct ealarm *chill_warn, *chill_alarm, *wl_warn, *wl_alarm, *life_low, *dispatch;
	struct cc_lot_conf *own; /* a lot loaded at run time (control socket): its conf is ours */
};

enum { R_TEMP, R_RH, R_DOOR, R_DEFROST, R_OUT_T, R_OUT_RH, R_CO2, R_O2, R_N };

struct eroom {
	const struct cc_room_conf *rc;
	const struct cc_profile *prof;
	struct cc_limits lim;
	struct echan *ch[R_N];
	double v[R_N];
	struct alarm_roc roc;
	struct ealarm *t_hi, *t_hh, *t_lo, *t_ll, *rh_lo, *rh_ll, *rh_hi, *rh_hh, *rate, *door, *condens, *co2, *o2;
	struct ealarm *group;
	struct alarm_flood flood; /* this room's raises: a flood groups them into group */
	int suppressed;
	struct elot *lots;
	size_t nlots;
};

struct erule {
	const struct cc_rule_conf *uc;
	struct echan *ch;
	struct ealarm *al;
	struct alarm_roc roc;
	double last;
};

struct engine {
	const struct cc_config *cfg;
	struct ealarm **alarms;
	size_t nalarms;
	struct echan **chans;
	size_t nchans;
	struct eroom *rooms;
	size_t nrooms;
	struct erule *rules;
	size_t nrules;
	struct enotify **notify; /* per channel */
	size_t nnotify;
	uint64_t notify_dropped;
	int64_t start_ms;
	int64_t now_ms; /* wall clock: the latest engine_tick (start_ms before one) */
	int late;       /* the reading being evaluated is late and its channel is catching up */
	int64_t next_sl_ms;
	int64_t next_snap_ms;
	int dirty;
	uint64_t notify_dropped_logged;
	cJSON *unloaded; /* configured lots unloaded at run time: [{id, conf_room}] */
	struct engine_callbacks cb; /* where records and events go */
	/* Every field above is under lock: samples come from several source
	 * threads, ticks and operator actions from the main thread. */
	pthread_mutex_t lock;
	/* The newest snapshot not yet written (under lock; NULL: nothing to
	 * write) and the one writer at a time (save_lock): see save(). */
	pthread_mutex_t save_lock;
	char *pending_js, *pending_dir;
};

/* Runtime lots (control socket), at the end of the file. */
static void lots_layout_save(struct engine *e, cJSON *lots, cJSON *root);
static void lots_layout_restore(struct engine *e, const cJSON *o);
static void lots_free(struct engine *e);

/* --- construction ------------------------------------------------------- */

static struct ealarm *alarm_new(struct engine *e, const char *id, const char *room, const char *sensor,
				const char *channel, const char *rule, const char *message, const struct alarm_conf *c)
{
	struct ealarm *a = xcalloc(1, sizeof(*a));

	a->id = xstrdup(id);
	a->room = room ? xstrdup(room) : NULL;
	a->sensor = sensor ? xstrdup(sensor) : NULL;
	a->channel = channel ? xstrdup(channel) : NULL;
	a->rule = xstrdup(rule);
	a->message = xstrdup(message);
	alarm_init(&a->a, c);
	a->a.cond_since_ms = e->start_ms;
	e->alarms = xrealloc(e->alarms, (e->nalarms + 1) * sizeof(*e->alarms));
	e->alarms[e->nalarms++] = a;
	return a;
}

static char *sensor_of(const char *chid)
{
	const char *s = strchr(chid, '/');
	return s ? xasprintf("%.*s", (int)(s - chid), chid) : xstrdup(chid);
}

static int64_t channel_interval(const struct cc_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nbuses; i++)
		for (size_t j = 0; j < cfg->buses[i].ndevices; j++) {
			const struct cc_device_conf *d = &cfg->buses[i].devices[j];
			for (size_t k = 0; k < d->npoints; k++)
				if (d->points[k].ch.id && strcmp(d->points[k].ch.id, id) == 0)
					return d->interval_ms;
		}
	return 0;
}

static const char *channel_room(const struct cc_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nbuses; i++)
		for (size_t j = 0; j < cfg->buses[i].ndevices; j++) {
			const struct cc_device_conf *d = &cfg->buses[i].devices[j];
			for (size_t k = 0; k < d->npoints; k++)
				if (d->points[k].ch.id && strcmp(d->points[k].ch.id, id) == 0)
					return d->room;
		}
	return NULL;
}

static struct echan *chan_get(struct engine *e, const char *id, const char *room)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	struct alarm_conf c = { .kind = ALARM_COND, .severity = ALARM_SEV_WARNING, .renotify_ms = ac->renotify_ms,
				.escalate_ms = ac->escalate_ms, .escalate_to = ALARM_SEV_CRITICAL };
	struct echan *ch;
	char *aid, *msg, *sensor;

	for (size_t i = 0; i < e->nchans; i++)
		if (strcmp(e->chans[i]->id, id) == 0)
			return e->chans[i];
	ch = xcalloc(1, sizeof(*ch));
	ch->id = xstrdup(id);
	ch->interval_ms = channel_interval(e->cfg, id);
	ch->value = NAN;
	ch->stuck_value = NAN;
	sensor = sensor_of(id);
	if (!room)
		room = channel_room(e->cfg, id);
	aid = xasprintf("%s:stale", id);
	msg = xasprintf("channel %s: no good reading (stale): loss of monitoring", id);
	ch->stale = alarm_new(e, aid, room, sensor, id, "stale", msg, &c);
	ch->stale->src = ch;
	free(aid);
	free(msg);
	c.on_delay_ms = ac->fault_delay_ms;
	aid = xasprintf("%s:fault", id);
	msg = xasprintf("channel %s: sensor fault (comm_error or out_of_range)", id);
	ch->fault = alarm_new(e, aid, room, sensor, id, "fault", msg, &c);
	ch->fault->src = ch;
	free(aid);
	free(msg);
	free(sensor);
	e->chans = xrealloc(e->chans, (e->nchans + 1) * sizeof(*e->chans));
	e->chans[e->nchans++] = ch;
	return ch;
}

static double pick(double room, double prof)
{
	return isnan(room) ? prof : room;
}

static void effective_limits(struct cc_limits *out, const struct cc_limits *room, const struct cc_profile *p,
			     const struct cc_alarms_conf *ac)
{
	struct cc_limits none;
	const struct cc_limits *pl;

	none.band_low = none.band_high = none.warn_low = none.warn_high = none.alarm_low = none.alarm_high = NAN;
	none.rh_warn_low = none.rh_alarm_low = none.rh_warn_high = none.rh_alarm_high = NAN;
	none.on_delay_ms = none.rh_on_delay_ms = ac->on_delay_ms;
	pl = p ? &p->limits : &none;
	out->band_low = pick(room->band_low, pl->band_low);
	out->band_high = pick(room->band_high, pl->band_high);
	out->warn_low = pick(room->warn_low, pl->warn_low);
	out->warn_high = pick(room->warn_high, pl->warn_high);
	out->alarm_low = pick(room->alarm_low, pl->alarm_low);
	out->alarm_high = pick(room->alarm_high, pl->alarm_high);
	out->rh_warn_low = pick(room->rh_warn_low, pl->rh_warn_low);
	out->rh_alarm_low = pick(room->rh_alarm_low, pl->rh_alarm_low);
	out->rh_warn_high = pick(room->rh_warn_high, pl->rh_warn_high);
	out->rh_alarm_high = pick(room->rh_alarm_high, pl->rh_alarm_high);
	out->on_delay_ms = room->on_delay_ms >= 0 ? room->on_delay_ms : pl->on_delay_ms;
	out->rh_on_delay_ms = room->rh_on_delay_ms >= 0 ? room->rh_on_delay_ms : pl->rh_on_delay_ms;
}

/* "room NAME: " + what, with what's one %g replaced by the limit. */
static char *xasprintf2_g(const char *room, const char *what, double limit)
{
	const char *g = strstr(what, "%g");
	return xasprintf("room %s: %.*s%g%s", room, (int)(g - what), what, limit, g + 2);
}

static struct ealarm *room_level(struct engine *e, struct eroom *r, const char *rule, enum alarm_kind kind,
				 double limit, int64_t on_delay, enum alarm_severity sev, const char *what, int role)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	struct alarm_conf c = { .kind = kind, .limit = limit, .deadband = ac->deadband, .on_delay_ms = on_delay,
				.off_delay_ms = ac->off_delay_ms, .severity = sev, .renotify_ms = ac->renotify_ms,
				.escalate_ms = ac->escalate_ms, .escalate_to = ALARM_SEV_CRITICAL };
	struct ealarm *a;
	char *id, *msg, *sensor;

	if (isnan(limit) || !r->ch[role])
		return NULL;
	id = xasprintf("%s/%s", r->rc->name, rule);
	/* "what" may carry the unit and a hint after the limit: "above %g ..." */
	if (strstr(what, "%g"))
		msg = xasprintf2_g(r->rc->name, what, limit);
	else
		msg = xasprintf("room %s: %s %g", r->rc->name, what, limit);
	sensor = sensor_of(r->ch[role]->id);
	a = alarm_new(e, id, r->rc->name, sensor, r->ch[role]->id, rule, msg, &c);
	a->src = r->ch[role];
	free(id);
	free(msg);
	free(sensor);
	return a;
}

static struct ealarm *room_cond(struct engine *e, struct eroom *r, const char *rule, int64_t on_delay,
				enum alarm_severity sev, const char *msg_, int role, double limit)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	struct alarm_conf c = { .kind = ALARM_COND, .limit = limit, .on_delay_ms = on_delay, .severity = sev,
				.renotify_ms = ac->renotify_ms, .escalate_ms = ac->escalate_ms,
				.escalate_to = ALARM_SEV_CRITICAL };
	struct ealarm *a;
	char *id, *msg, *sensor = role >= 0 && r->ch[role] ? sensor_of(r->ch[role]->id) : NULL;

	id = xasprintf("%s/%s", r->rc->name, rule);
	msg = xasprintf("room %s: %s", r->rc->name, msg_);
	a = alarm_new(e, id, r->rc->name, sensor, role >= 0 && r->ch[role] ? r->ch[role]->id : NULL, rule, msg, &c);
	a->src = role >= 0 ? r->ch[role] : NULL;
	free(id);
	free(msg);
	free(sensor);
	return a;
}

static void lot_build(struct engine *e, struct eroom *r, struct elot *l, const struct cc_lot_conf *lc)
{
	const struct cc_profile *p = lc->profile;
	struct alarm_conf c = { .kind = ALARM_COND, .severity = ALARM_SEV_WARNING };
	char *id, *msg;
	int64_t iv = r->ch[R_TEMP] ? r->ch[R_TEMP]->interval_ms : 0;

	l->lc = lc;
	l->prof = p;
	lot_params_default(&l->p);
	lot_state_init(&l->s);
	l->p.dt_cap_s = iv > 0 ? 3.0 * (double)iv / 1000.0 : (double)e->cfg->alarms.stale_after_ms / 1000.0;
	l->p.loaded_ns = lc->loaded_ns;
	if (!p)
		return;
	l->p.pre_c = p->pre_monitoring_c;
	l->p.sl.kind = p->model == CC_MODEL_ARRHENIUS ? SL_ARRHENIUS : p->model == CC_MODEL_Q10 ? SL_Q10
		       : p->model == CC_MODEL_SQRT ? SL_SQRT : p->model == CC_MODEL_PIECEWISE_Q10 ? SL_PIECEWISE_Q10
		       : SL_NONE;
	l->p.sl.t_ref_c = p->t_ref_c;
	l->p.sl.sl_ref_h = (double)p->shelf_life_ms / 3600000.0;
	l->p.sl.ea_j_mol = p->ea_kj_mol * 1000.0;
	l->p.sl.q10 = p->q10;
	l->p.sl.t_min_c = p->t_min_c;
	l->p.sl.npw = p->npw;
	memcpy(l->p.sl.pw_upper_c, p->pw_upper_c, sizeof(p->pw_upper_c));
	memcpy(l->p.sl.pw_q10, p->pw_q10, sizeof(p->pw_q10));
	l->p.sl.valid_min_c = p->valid_min_c;
	l->p.sl.valid_max_c = p->valid_max_c;
	l->p.mkt_dh_r_k = p->mkt_dh_r_k;
	l->p.dh_thr_c = isnan(p->degree_threshold_c) ? INFINITY : p->degree_threshold_c;
	l->p.chill_thr_c = isnan(p->chill_threshold_c) ? -INFINITY : p->chill_threshold_c;
	l->p.aw = p->aw;
	l->p.kt_fresh = p->kt_fresh;
	l->p.kt_dry = p->kt_dry;
	l->p.wl_crit = p->wl_crit_pct / 100.0;
	l->p.tau_h = (double)p->tau_ms / 3600000.0;

#define LOT_ALARM(field, rule, sev, fmt, ...)                                                          \
	do {                                                                                           \
		c.severity = sev;                                                                      \
		id = xasprintf("%s/%s/%s", r->rc->name, lc->id, rule);                                 \
		msg = xasprintf("lot %s (%s) in room %s: " fmt, lc->id, p->name, r->rc->name, __VA_ARGS__); \
		l->field = alarm_new(e, id, r->rc->name, NULL, NULL, rule, msg, &c);                   \
		l->field->src = r->ch[R_TEMP];                                                         \
		free(id);                                                                              \
		free(msg);                                                                             \
	} while (0)
	if (!isnan(p->chill_warn_kh))
		LOT_ALARM(chill_warn, "chill_warn", ALARM_SEV_WARNING, "chilling dose above %g K·h", p->chill_warn_kh);
	if (!isnan(p->chill_alarm_kh))
		LOT_ALARM(chill_alarm, "chill_alarm", ALARM_SEV_CRITICAL, "chilling dose above %g K·h",
			  p->chill_alarm_kh);
	if (p->kt_fresh > 0) {
		LOT_ALARM(wl_warn, "weight_loss_warn", ALARM_SEV_WARNING, "weight loss above %g %%", p->wl_warn_pct);
		LOT_ALARM(wl_alarm, "weight_loss", ALARM_SEV_CRITICAL, "weight loss above %g %%", p->wl_crit_pct);
	}
	if (p->model != CC_MODEL_NONE && p->remaining_warn_ms > 0)
		LOT_ALARM(life_low, "shelf_life_low", ALARM_SEV_INFO, "remaining shelf life below %g h",
			  (double)p->remaining_warn_ms / 3600000.0);
	if (p->model != CC_MODEL_NONE && lc->dispatch)
		LOT_ALARM(dispatch, "end_of_life_before_dispatch", ALARM_SEV_INFO,
			  "will reach end of life before its planned dispatch %s", lc->dispatch);
#undef LOT_ALARM
}

/* The air temperature a lot's remaining life is projected at: the newest
 * reading it has seen (the room's when it has seen none yet). */
static double lot_air_now(const struct elot *l, const struct eroom *r)
{
	return !isnan(l->s.last_air_c) ? l->s.last_air_c : r->v[R_TEMP];
}

static void room_build(struct engine *e, struct eroom *r, const struct cc_room_conf *rc)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	const char *ids[R_N] = { rc->temperature, rc->humidity, rc->door, rc->defrost,
				 rc->outside_temperature, rc->outside_humidity, rc->co2, rc->o2 };
	struct cc_limits *L = &r->lim;

	r->rc = rc;
	r->prof = rc->prof;
	for (int i = 0; i < R_N; i++) {
		r->ch[i] = ids[i] ? chan_get(e, ids[i], rc->name) : NULL;
		r->v[i] = NAN;
	}
	effective_limits(L, &rc->limits, r->prof, ac);
	r->t_hi = room_level(e, r, "temp_high", ALARM_HIGH, L->warn_high, L->on_delay_ms, ALARM_SEV_WARNING,
			     "air temperature above", R_TEMP);
	r->t_hh = room_level(e, r, "temp_high_high", ALARM_HIGH_HIGH, L->alarm_high, L->on_delay_ms,
			     ALARM_SEV_CRITICAL, "air temperature above", R_TEMP);
	r->t_lo = room_level(e, r, "temp_low", ALARM_LOW, L->warn_low, L->on_delay_ms, ALARM_SEV_WARNING,
			     "air temperature below", R_TEMP);
	r->t_ll = room_level(e, r, "temp_low_low", ALARM_LOW_LOW, L->alarm_low, L->on_delay_ms, ALARM_SEV_CRITICAL,
			     "air temperature below", R_TEMP);
	r->rh_lo = room_level(e, r, "rh_low", ALARM_LOW, L->rh_warn_low, L->rh_on_delay_ms, ALARM_SEV_WARNING,
			      "relative humidity below", R_RH);
	r->rh_ll = room_level(e, r, "rh_low_low", ALARM_LOW_LOW, L->rh_alarm_low, L->rh_on_delay_ms,
			      ALARM_SEV_CRITICAL, "relative humidity below", R_RH);
	r->rh_hi = room_level(e, r, "rh_high", ALARM_HIGH, L->rh_warn_high, L->rh_on_delay_ms, ALARM_SEV_WARNING,
			      "relative humidity above", R_RH);
	r->rh_hh = room_level(e, r, "rh_high_high", ALARM_HIGH_HIGH, L->rh_alarm_high, L->rh_on_delay_ms,
			      ALARM_SEV_CRITICAL, "relative humidity above", R_RH);
	if (ac->rate_limit_kh > 0)
		r->rate = room_level(e, r, "temp_rate", ALARM_HIGH, ac->rate_limit_kh, 0, ALARM_SEV_WARNING,
				     "air temperature rising faster than %g K/h (refrigeration failure?)", R_TEMP);
	if (r->t_hi)
		r->t_hi->temp_kind = 1;
	if (r->t_hh)
		r->t_hh->temp_kind = 1;
	if (r->t_lo)
		r->t_lo->temp_kind = 1;
	if (r->t_ll)
		r->t_ll->temp_kind = 1;
	if (r->rate)
		r->rate->temp_kind = 1;
	if (r->ch[R_TEMP] && ac->stuck_after_ms > 0) {
		struct alarm_conf c = { .kind = ALARM_COND, .on_delay_ms = ac->stuck_after_ms,
					.severity = ALARM_SEV_WARNING };
		char *id = xasprintf("%s:stuck", r->ch[R_TEMP]->id);
		char *msg = xasprintf("channel %s: value unchanged (stuck sensor?)", r->ch[R_TEMP]->id);
		char *sensor = sensor_of(r->ch[R_TEMP]->id);
		if (!r->ch[R_TEMP]->stuck)
			r->ch[R_TEMP]->stuck = alarm_new(e, id, rc->name, sensor, r->ch[R_TEMP]->id, "stuck", msg, &c);
		r->ch[R_TEMP]->stuck->src = r->ch[R_TEMP];
		free(id);
		free(msg);
		free(sensor);
	}
	if (r->ch[R_DOOR])
		r->door = room_cond(e, r, "door_open", ac->door_open_ms, ALARM_SEV_WARNING, "door open too long", R_DOOR,
				    NAN);
	if (r->ch[R_DOOR] && r->ch[R_OUT_T] && r->ch[R_OUT_RH] && r->ch[R_TEMP])
		r->condens = room_cond(e, r, "condensation", 0, ALARM_SEV_WARNING,
				       "condensation risk: door open and outside dew point above product temperature",
				       R_DOOR, NAN);
	if (r->ch[R_CO2])
		r->co2 = room_level(e, r, "co2_high", ALARM_HIGH, rc->co2_high_ppm, 0, ALARM_SEV_CRITICAL,
				    "CO2 above %g ppm (safety: do not enter)", R_CO2);
	if (r->ch[R_O2])
		r->o2 = room_level(e, r, "o2_low", ALARM_LOW, rc->o2_low_pct, 0, ALARM_SEV_CRITICAL,
				   "O2 below %g % (safety: do not enter)", R_O2);
	if (r->co2)
		r->co2->a.c.deadband = 100; /* ppm */
	r->group = room_cond(e, r, "refrigeration_failure", 0, ALARM_SEV_CRITICAL,
			     "refrigeration failure (alarm flood: the room's alarms are grouped here)", -1, NAN);
	r->nlots = rc->nlots;
	r->lots = xcalloc(rc->nlots + 1, sizeof(*r->lots));
	for (size_t i = 0; i < rc->nlots; i++)
		lot_build(e, r, &r->lots[i], &rc->lots[i]);
}

static void rule_build(struct engine *e, struct erule *u, const struct cc_rule_conf *uc)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	static const enum alarm_kind kinds[] = { ALARM_HIGH, ALARM_HIGH_HIGH, ALARM_LOW, ALARM_LOW_LOW, ALARM_HIGH,
						 ALARM_COND };
	struct alarm_conf c = { 0 };
	enum alarm_severity sev = ALARM_SEV_WARNING;
	const char *room = uc->room ? uc->room : channel_room(e->cfg, uc->channel);
	char *id = xasprintf("rule:%s", uc->name), *msg, *sensor = sensor_of(uc->channel);

	alarm_severity_parse(uc->severity ? uc->severity : "warning", &sev);
	u->uc = uc;
	u->ch = chan_get(e, uc->channel, room);
	u->last = NAN;
	c.kind = kinds[uc->type];
	c.limit = uc->limit;
	c.deadband = isnan(uc->deadband) ? ac->deadband : uc->deadband;
	c.on_delay_ms = uc->on_delay_ms >= 0 ? uc->on_delay_ms : uc->type == CC_RULE_STUCK ? ac->stuck_after_ms
											: ac->on_delay_ms;
	c.off_delay_ms = uc->off_delay_ms >= 0 ? uc->off_delay_ms : ac->off_delay_ms;
	c.severity = sev;
	c.latched = uc->latched;
	c.renotify_ms = ac->renotify_ms;
	c.escalate_ms = ac->escalate_ms;
	c.escalate_to = ALARM_SEV_CRITICAL;
	switch (uc->type) {
	case CC_RULE_RATE: msg = xasprintf("channel %s: rising faster than %g per hour", uc->channel, uc->limit); break;
	case CC_RULE_STUCK: msg = xasprintf("channel %s: value unchanged (stuck)", uc->channel); break;
	case CC_RULE_LOW:
	case CC_RULE_LOW_LOW: msg = xasprintf("channel %s: below %g", uc->channel, uc->limit); break;
	default: msg = xasprintf("channel %s: above %g", uc->channel, uc->limit); break;
	}
	u->al = alarm_new(e, id, room, sensor, uc->channel, uc->name, msg, &c);
	u->al->src = u->ch;
	free(id);
	free(msg);
	free(sensor);
}

/* --- output ---------------------------------------------------------------- */

static void fmt_time(int64_t ts_ns, char *buf, size_t len)
{
	time_t t = (time_t)(ts_ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((ts_ns / 1000000) % 1000));
}

static const char *group_note = "grouped: alarm flood";

/* Records (line protocol) and alert events go to the callbacks; a missing
 * callback discards them. */
static void emit_lines(struct engine *e, const struct lp_buf *b)
{
	if (b->lines && e->cb.lines)
		e->cb.lines(e->cb.arg, b->data, b->len, b->lines);
}

static void emit_event(struct engine *e, const char *json)
{
	if (e->cb.event)
		e->cb.event(e->cb.arg, json, strlen(json));
}

static struct eroom *room_find(struct engine *e, const char *name);

/* The rate limit an alarm's notifications share: its channel's (per
 * channel, as ISA-18.2 asks), or its own for a room-level alarm. */
static struct alarm_ratelimit *notify_for(struct engine *e, struct ealarm *ea)
{
	const char *key = ea->channel ? ea->channel : ea->id;
	struct enotify *n;

	if (ea->notify)
		return ea->notify;
	for (size_t i = 0; i < e->nnotify; i++)
		if (strcmp(e->notify[i]->key, key) == 0)
			return ea->notify = &e->notify[i]->rl;
	n = xcalloc(1, sizeof(*n));
	n->key = xstrdup(key);
	alarm_ratelimit_init(&n->rl, (unsigned)e->cfg->alarms.notify_burst, e->cfg->alarms.notify_interval_ms);
	e->notify = xrealloc(e->notify, (e->nnotify + 1) * sizeof(*e->notify));
	e->notify[e->nnotify++] = n;
	return ea->notify = &n->rl;
}

static void publish(struct engine *e, struct ealarm *ea, const struct alarm_event *ev)
{
	const struct cc_config *cfg = e->cfg;
	int64_t ts = ev->ts_ms * 1000000LL;
	const char *state = alarm_state_name(ev->state), *evname = alarm_ev_name(ev->type);
	const char *shown = alarm_is_shelved(&ea->a, ev->ts_ms) ? "shelved" : state;
	struct lp_tag tags[] = { { "room", ea->room },	  { "rule", ea->rule },
				 { "sensor", ea->sensor }, { "severity", alarm_severity_name(ev->sev) },
				 { "site", cfg->site } };
	struct lp_field f[13];
	size_t nf = 0;
	struct lp_buf b;
	int annunciate = ev->annunciate, ratelimited = 0;
	char tbuf[64];

	/* A flood groups a room's new alarms into its refrigeration_failure
	 * alarm: counted per room, so one failing room never mutes another. */
	struct eroom *room = ea->room ? room_find(e, ea->room) : NULL;
	if (annunciate && ev->type == AEV_RAISE && room && strcmp(ea->rule, "refrigeration_failure") != 0) {
		alarm_flood_note(&room->flood, ev->ts_ms);
		if (alarm_flood_update(&room->flood, ev->ts_ms) > 0)
			log_warn("room %s: alarm flood: more than %d alarms in %" PRId64 " s; grouping them", ea->room,
				 cfg->alarms.flood_start, cfg->alarms.flood_window_ms / 1000);
		if (room->flood.active)
			annunciate = 0;
	}
	if (annunciate && !alarm_ratelimit_allow(notify_for(e, ea), ev->ts_ms)) {
		ratelimited = 1;
		e->notify_dropped++;
	}

	/* A historical alarm is recorded at its raise time, with both times. */
	if (ev->type == AEV_HISTORICAL)
		ts = ev->since_ms * 1000000LL;
	/* Two events of one alarm in the same nanosecond would overwrite each
	 * other; a late event keeps its own (earlier) time unless it collides. */
	if (ev->late ? ts == ea->last_ev_ns : ts <= ea->last_ev_ns)
		ts = ea->last_ev_ns + 1;
	if (ts > ea->last_ev_ns)
		ea->last_ev_ns = ts;

	f[nf].key = "state";
	f[nf].type = LP_STRING;
	f[nf++].v.s = shown;
	f[nf].key = "event";
	f[nf].type = LP_STRING;
	f[nf++].v.s = evname;
	f[nf].key = "value";
	f[nf].type = LP_FLOAT;
	f[nf++].v.f = ev->value;
	f[nf].key = "limit";
	f[nf].type = LP_FLOAT;
	f[nf++].v.f = ea->a.c.limit;
	f[nf].key = "message";
	f[nf].type = LP_STRING;
	f[nf++].v.s = ea->message;
	f[nf].key = "id";
	f[nf].type = LP_STRING;
	f[nf++].v.s = ea->id;
	f[nf].key = "annunciated";
	f[nf].type = LP_BOOL;
	f[nf++].v.b = annunciate;
	if (ev->late) {
		f[nf].key = "late";
		f[nf].type = LP_BOOL;
		f[nf++].v.b = 1;
	}
	if (ev->type == AEV_HISTORICAL) {
		f[nf].key = "raised_ns";
		f[nf].type = LP_INT;
		f[nf++].v.i = ev->since_ms * 1000000LL;
		f[nf].key = "cleared_ns";
		f[nf].type = LP_INT;
		f[nf++].v.i = ev->ts_ms * 1000000LL;
	}
	if (ev->user) {
		f[nf].key = "user";
		f[nf].type = LP_STRING;
		f[nf++].v.s = ev->user;
	}
	if (ev->note || (ev->annunciate && !annunciate && !ratelimited)) {
		f[nf].key = "note";
		f[nf].type = LP_STRING;
		f[nf++].v.s = ev->note ? ev->note : group_note;
	}
	lp_buf_init(&b);
	if (lp_encode(&b, "alert", tags, sizeof(tags) / sizeof(tags[0]), f, nf, ts) == 0)
		emit_lines(e, &b);
	lp_buf_free(&b);

	log_msg(ev->type == AEV_RAISE && ev->sev == ALARM_SEV_CRITICAL ? LOG_LVL_WARN : LOG_LVL_INFO,
		"alarm %s: %s%s -> %s (%s, value %g, limit %g)%s%s%s%s: %s", ea->id, evname,
		ev->late ? " (late data)" : "", shown,
		alarm_severity_name(ev->sev), ev->value, ea->a.c.limit, ev->user ? " by " : "", ev->user ? ev->user : "",
		ev->note ? ": " : "", ev->note ? ev->note : "", ea->message);

	/* Notifications: annunciated transitions (rate-limited) and operator
	 * actions (the audit trail of the alarm outputs). */
	if ((annunciate && !ratelimited) || ev->type == AEV_ACK || ev->type == AEV_SHELVE ||
	    ev->type == AEV_UNSHELVE || ev->type == AEV_RESET) {
		cJSON *o = cJSON_CreateObject();
		char *js;

		fmt_time(ts, tbuf, sizeof(tbuf));
		cJSON_AddStringToObject(o, "id", ea->id);
		cJSON_AddStringToObject(o, "site", cfg->site);
		if (ea->room)
			cJSON_AddStringToObject(o, "room", ea->room);
		if (ea->sensor)
			cJSON_AddStringToObject(o, "sensor", ea->sensor);
		if (ea->channel)
			cJSON_AddStringToObject(o, "channel", ea->channel);
		cJSON_AddStringToObject(o, "rule", ea->rule);
		cJSON_AddStringToObject(o, "event", evname);
		cJSON_AddStringToObject(o, "state", state);
		cJSON_AddBoolToObject(o, "shelved", alarm_is_shelved(&ea->a, ev->ts_ms));
		cJSON_AddBoolToObject(o, "suppressed", ea->a.suppressed);
		cJSON_AddBoolToObject(o, "annunciate", annunciate);
		if (ev->late)
			cJSON_AddBoolToObject(o, "late", 1);
		cJSON_AddStringToObject(o, "severity", alarm_severity_name(ev->sev));
		if (isfinite(ev->value))
			cJSON_AddNumberToObject(o, "value", ev->value);
		if (isfinite(ea->a.c.limit))
			cJSON_AddNumberToObject(o, "limit", ea->a.c.limit);
		cJSON_AddStringToObject(o, "message", ea->message);
		if (ev->user)
			cJSON_AddStringToObject(o, "user", ev->user);
		if (ev->note)
			cJSON_AddStringToObject(o, "note", ev->note);
		cJSON_AddStringToObject(o, "time", tbuf);
		{
			/* exact: a double cannot hold a nanosecond timestamp */
			char nbuf[24];
			snprintf(nbuf, sizeof(nbuf), "%" PRId64, (int64_t)ts);
			cJSON_AddRawToObject(o, "time_ns", nbuf);
		}
		js = cJSON_PrintUnformatted(o);
		if (js) {
			emit_event(e, js);
			cJSON_free(js);
		}
		cJSON_Delete(o);
	}
	if (ratelimited && e->notify_dropped - e->notify_dropped_logged >= 1) {
		log_warn("alarm %s: notification rate-limited (%" PRIu64 " not sent so far; all are in the alert record)",
			 ea->id, e->notify_dropped);
		e->notify_dropped_logged = e->notify_dropped;
	}
	e->dirty = 1;
}

static void handle(struct engine *e, struct ealarm *ea, const struct alarm_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		publish(e, ea, &ev[i]);
}

static void eval_value(struct engine *e, struct ealarm *ea, int64_t now, double v)
{
	struct alarm_event ev[ALARM_MAX_EVENTS];
	if (ea) {
		ea->a.late = e->late;
		handle(e, ea, ev, alarm_eval_value(&ea->a, now, v, ev));
		ea->a.late = 0;
	}
}

static void eval_cond(struct engine *e, struct ealarm *ea, int64_t now, int cond, double v)
{
	struct alarm_event ev[ALARM_MAX_EVENTS];
	if (ea) {
		ea->a.late = e->late;
		handle(e, ea, ev, alarm_eval_cond(&ea->a, now, cond, v, ev));
		ea->a.late = 0;
	}
}

/* --- evaluation ------------------------------------------------------------ */

static int in_window(const struct cc_room_conf *rc, int64_t now_ms)
{
	int m = (int)((now_ms / 60000) % 1440);

	for (size_t i = 0; i < rc->nwin; i++) {
		int a = rc->win_from_min[i], b = rc->win_to_min[i];
		if (a <= b ? (m >= a && m < b) : (m >= a || m < b))
			return 1;
	}
	return 0;
}

static void room_suppression(struct engine *e, struct eroom *r, int64_t now)
{
	int want = (!isnan(r->v[R_DEFROST]) && r->v[R_DEFROST] != 0) || in_window(r->rc, now);
	struct ealarm *t[] = { r->t_hi, r->t_hh, r->t_lo, r->t_ll, r->rate };
	struct alarm_event ev;

	if (want == r->suppressed)
		return;
	r->suppressed = want;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] && alarm_suppress(&t[i]->a, now, want, "defrost", &ev) == 0)
			publish(e, t[i], &ev);
}

static void lot_alarms(struct engine *e, struct elot *l, int64_t now, double t_now)
{
	const struct cc_profile *p = l->prof;
	double rem;

	if (!p)
		return;
	eval_cond(e, l->chill_warn, now, l->s.chill_h > p->chill_warn_kh, l->s.chill_h);
	eval_cond(e, l->chill_alarm, now, l->s.chill_h > p->chill_alarm_kh, l->s.chill_h);
	eval_cond(e, l->wl_warn, now, l->s.weight_loss * 100 > p->wl_warn_pct, l->s.weight_loss * 100);
	eval_cond(e, l->wl_alarm, now, l->s.weight_loss * 100 > p->wl_crit_pct, l->s.weight_loss * 100);
	rem = lot_remaining_h(&l->s, &l->p, isnan(l->lc->plan_c) ? p->t_ref_c : l->lc->plan_c);
	if (l->life_low)
		eval_cond(e, l->life_low, now, rem * 3600000.0 < (double)p->remaining_warn_ms, rem);
	if (l->dispatch) {
		(void)t_now;
		eval_cond(e, l->dispatch, now, (double)now + rem * 3600000.0 < (double)(l->lc->dispatch_ns / 1000000),
			  rem);
	}
}

static void room_sample(struct engine *e, struct eroom *r, int role, const struct cc_sample *s, int64_t now)
{
	double v = s->value;

	r->v[role] = v;
	switch (role) {
	case R_TEMP:
		eval_value(e, r->t_hi, now, v);
		eval_value(e, r->t_hh, now, v);
		eval_value(e, r->t_lo, now, v);
		eval_value(e, r->t_ll, now, v);
		alarm_roc_add(&r->roc, now, v);
		if (r->rate)
			eval_value(e, r->rate, now, alarm_roc_per_h(&r->roc, now, e->cfg->alarms.rate_window_ms));
		for (size_t i = 0; i < r->nlots; i++) {
			struct elot *l = &r->lots[i];
			if (s->ts_ns < l->lc->loaded_ns)
				continue;
			lot_observe(&l->s, &l->p, s->ts_ns, v, r->v[R_RH]);
			lot_alarms(e, l, now, v);
		}
		break;
	case R_RH:
		eval_value(e, r->rh_lo, now, v);
		eval_value(e, r->rh_ll, now, v);
		eval_value(e, r->rh_hi, now, v);
		eval_value(e, r->rh_hh, now, v);
		break;
	case R_DOOR:
		eval_cond(e, r->door, now, v != 0, v);
		break;
	case R_DEFROST:
		room_suppression(e, r, now);
		break;
	case R_CO2:
		eval_value(e, r->co2, now, v);
		break;
	case R_O2:
		eval_value(e, r->o2, now, v);
		break;
	default:
		break;
	}
	if (r->condens && (role == R_DOOR || role == R_OUT_T || role == R_OUT_RH || role == R_TEMP)) {
		double dp = psychro_dew_point(r->v[R_OUT_T], r->v[R_OUT_RH]);
		double tp = r->nlots && !isnan(r->lots[0].s.product_c) ? r->lots[0].s.product_c : r->v[R_TEMP];
		int open = !isnan(r->v[R_DOOR]) && r->v[R_DOOR] != 0;
		eval_cond(e, r->condens, now, open && !isnan(dp) && !isnan(tp) && dp > tp, dp);
	}
}

static void rule_sample(struct engine *e, struct erule *u, const struct cc_sample *s, int64_t now)
{
	switch (u->uc->type) {
	case CC_RULE_RATE:
		alarm_roc_add(&u->roc, now, s->value);
		eval_value(e, u->al, now, alarm_roc_per_h(&u->roc, now, e->cfg->alarms.rate_window_ms));
		break;
	case CC_RULE_STUCK:
		eval_cond(e, u->al, now, !isnan(u->last) && fabs(s->value - u->last) < 1e-9, s->value);
		break;
	default:
		eval_value(e, u->al, now, s->value);
		break;
	}
	u->last = s->value;
}

static int64_t chan_limit(const struct engine *e, const struct echan *ch)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	return ch->interval_ms > 0 ? ac->stale_intervals * ch->interval_ms : ac->stale_after_ms;
}

/* A backlog of the channel is still arriving: its newest reading is late
 * and the run of late readings began less than one stale limit ago. */
static int chan_catching_up(const struct engine *e, const struct echan *ch, int64_t now)
{
	int64_t limit = chan_limit(e, ch);
	return ch->behind_since_ms && now - ch->newest_ms > limit && now - ch->behind_since_ms <= limit;
}

/* Announces the raises a channel's backlog held back: those alarms are
 * still active at its newest reading. */
static void chan_annunciate(struct engine *e, const struct echan *ch, int64_t wall)
{
	struct alarm_event ev[ALARM_MAX_EVENTS];

	for (size_t i = 0; i < e->nalarms; i++)
		if (e->alarms[i]->src == ch && e->alarms[i]->a.pending)
			handle(e, e->alarms[i], ev, alarm_annunciate(&e->alarms[i]->a, wall, ev));
}

static void process_body(struct engine *e, struct echan *ch, const struct cc_sample *s, int64_t now, int late);

static void process_one(struct engine *e, const struct cc_sample *s)
{
	struct echan *ch = NULL;
	int64_t now = s->ts_ns / 1000000, wall = e->now_ms, limit;
	int late, was_behind;

	for (size_t i = 0; i < e->nchans && !ch; i++)
		if (strcmp(e->chans[i]->id, s->ch->id) == 0)
			ch = e->chans[i];
	if (!ch)
		return;
	/* The alarms run on reading time, which only moves forward: an older
	 * reading is recorded (journal, InfluxDB) but cannot rewrite them. */
	if (now < ch->newest_ms) {
		if (ch->out_of_order++ == 0)
			log_info("channel %s: a reading older than the newest one evaluated: recorded, not evaluated "
				 "by the alarms (counted, logged once)", ch->id);
		return;
	}
	limit = chan_limit(e, ch);
	late = wall - now > limit;
	was_behind = ch->behind_since_ms != 0;
	if (!late)
		ch->behind_since_ms = 0;
	else if (!ch->behind_since_ms || wall - ch->arrival_ms > limit)
		ch->behind_since_ms = wall; /* a backlog begins */
	ch->newest_ms = now;
	ch->arrival_ms = wall;
	e->late = late && wall - ch->behind_since_ms <= limit;
	process_body(e, ch, s, now, late);
	e->late = 0;
	/* Announced now (wall clock): re-notification and escalation count
	 * from the moment someone could first have been told. */
	if (!late && was_behind) /* only a backlog holds raises back: the live path stays O(1) */
		chan_annunciate(e, ch, wall);
}

static void process_body(struct engine *e, struct echan *ch, const struct cc_sample *s, int64_t now, int late)
{
	int good = s->quality == CC_Q_GOOD && isfinite(s->value);
	int64_t limit = chan_limit(e, ch);

	ch->last_ms = now;
	ch->last_q = s->quality;
	/* A stale sample (an interval a busy bus could not poll) says nothing
	 * of the sensor: it neither raises nor clears the fault. */
	if (s->quality != CC_Q_STALE)
		eval_cond(e, ch->fault, now, s->quality == CC_Q_OUT_OF_RANGE || s->quality == CC_Q_COMM_ERROR,
			  s->quality == CC_Q_OUT_OF_RANGE ? s->value : NAN);
	if (!good)
		return;
	/* Stale on reading time: a late reading does not bring monitoring back
	 * (nothing covers now yet); a gap longer than the limit inside a
	 * backlog is a historical stale alarm of its own. */
	if (!late) {
		eval_cond(e, ch->stale, now, 0, 0);
	} else if (e->late && !ch->stale->a.active && ch->last_good_ms && now - ch->last_good_ms > limit) {
		eval_cond(e, ch->stale, ch->last_good_ms + limit, 1, (double)(now - ch->last_good_ms) / 1000.0);
		eval_cond(e, ch->stale, now, 0, 0);
	}
	ch->last_good_ms = now;
	ch->value = s->value;
	if (ch->stuck) {
		eval_cond(e, ch->stuck, now, !isnan(ch->stuck_value) && fabs(s->value - ch->stuck_value) < 1e-9,
			  s->value);
		ch->stuck_value = s->value;
	}
	for (size_t i = 0; i < e->nrooms; i++)
		for (int role = 0; role < R_N; role++)
			if (e->rooms[i].ch[role] == ch)
				room_sample(e, &e->rooms[i], role, s, now);
	for (size_t i = 0; i < e->nrules; i++)
		if (e->rules[i].ch == ch)
			rule_sample(e, &e->rules[i], s, now);
}

void engine_process(struct engine *e, const struct cc_sample *s, size_t n)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < n; i++)
		if (s[i].ch && s[i].ch->id)
			process_one(e, &s[i]);
	pthread_mutex_unlock(&e->lock);
}

/* --- state snapshot ---------------------------------------------------------- */

static char *snapshot(struct engine *e, int64_t now_ms)
{
	cJSON *o = cJSON_CreateObject(), *al = cJSON_AddArrayToObject(o, "alarms"), *lots;
	char *js;

	cJSON_AddNumberToObject(o, "version", STATE_VERSION);
	cJSON_AddNumberToObject(o, "saved_ms", (double)now_ms);
	for (size_t i = 0; i < e->nalarms; i++) {
		const struct alarm *a = &e->alarms[i]->a;
		cJSON *x;
		/* an alarm that is inactive, quiet and unshelved has nothing to keep */
		if (!a->active && a->acked && !a->cond && !a->shelved_until_ms)
			continue;
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", e->alarms[i]->id);
		cJSON_AddNumberToObject(x, "cond", a->cond);
		cJSON_AddNumberToObject(x, "cond_since", (double)a->cond_since_ms);
		cJSON_AddNumberToObject(x, "active", a->active);
		cJSON_AddNumberToObject(x, "acked", a->acked);
		cJSON_AddNumberToObject(x, "held", a->held);
		cJSON_AddNumberToObject(x, "escalated", a->escalated);
		cJSON_AddNumberToObject(x, "active_since", (double)a->active_since_ms);
		cJSON_AddNumberToObject(x, "shelved_until", (double)a->shelved_until_ms);
		cJSON_AddNumberToObject(x, "last_notify", (double)a->last_notify_ms);
		cJSON_AddNumberToObject(x, "sev", a->sev);
		cJSON_AddNumberToObject(x, "pending", a->pending);
		cJSON_AddNumberToObject(x, "notified", (double)a->notified_ms);
		if (isfinite(a->value))
			cJSON_AddNumberToObject(x, "value", a->value);
		cJSON_AddItemToArray(al, x);
	}
	lots = cJSON_AddArrayToObject(o, "lots");
	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++) {
			const struct elot *l = &e->rooms[i].lots[j];
			const struct lot_state *s = &l->s;
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "id", l->lc->id);
			cJSON_AddStringToObject(x, "room", e->rooms[i].rc->name);
			cJSON_AddNumberToObject(x, "last_ts_ns", (double)s->last_ts_ns);
#define NUM(f)                                                   \
	do {                                                     \
		if (isfinite(s->f))                              \
			cJSON_AddNumberToObject(x, #f, s->f);    \
	} while (0)
			NUM(last_air_c);
			NUM(last_rh);
			NUM(product_c);
			NUM(consumed);
			NUM(mkt_sum_w);
			NUM(mkt_sum_t);
			NUM(degree_h);
			NUM(chill_h);
			NUM(weight_loss);
			NUM(observed_h);
			NUM(no_data_h);
#undef NUM
			cJSON_AddNumberToObject(x, "gaps", s->gaps);
			cJSON_AddItemToArray(lots, x);
		}
	lots_layout_save(e, lots, o);
	js = cJSON_Print(o);
	cJSON_Delete(o);
	return js;
}

static double jnum(const cJSON *o, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static void restore(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0;
	cJSON *o, *x;
	int rc = state_read(e->cfg->state_dir, STATE_FILE, &buf, &len);
	size_t nal = 0, nlot = 0;

	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		log_warn("state %s/%s: %s: alarms and lots start afresh", e->cfg->state_dir, STATE_FILE, strerror(-rc));
		return;
	}
	o = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!o || jnum(o, "version", 0) != STATE_VERSION) {
		log_warn("state %s/%s: not a version %d snapshot: alarms and lots start afresh", e->cfg->state_dir,
			 STATE_FILE, STATE_VERSION);
		cJSON_Delete(o);
		return;
	}
	lots_layout_restore(e, o); /* runtime lots first: their alarms are restored next */
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "alarms"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id");
		if (!cJSON_IsString(id))
			continue;
		for (size_t i = 0; i < e->nalarms; i++) {
			struct alarm *a = &e->alarms[i]->a;
			double sev;
			if (strcmp(e->alarms[i]->id, id->valuestring) != 0)
				continue;
			a->cond = jnum(x, "cond", 0) != 0;
			a->cond_since_ms = (int64_t)jnum(x, "cond_since", 0);
			a->active = jnum(x, "active", 0) != 0;
			a->acked = jnum(x, "acked", 1) != 0;
			a->held = jnum(x, "held", 0) != 0;
			a->escalated = jnum(x, "escalated", 0) != 0;
			a->active_since_ms = (int64_t)jnum(x, "active_since", 0);
			a->shelved_until_ms = (int64_t)jnum(x, "shelved_until", 0);
			a->last_notify_ms = (int64_t)jnum(x, "last_notify", 0);
			a->pending = jnum(x, "pending", 0) != 0;
			a->notified_ms = (int64_t)jnum(x, "notified", (double)a->active_since_ms);
			sev = jnum(x, "sev", a->c.severity);
			a->sev = sev >= ALARM_SEV_INFO && sev <= ALARM_SEV_CRITICAL ? (enum alarm_severity)sev : a->c.severity;
			a->value = jnum(x, "value", NAN);
			if (a->active)
				log_info("alarm %s: restored %s (active since %" PRId64 " ms)", e->alarms[i]->id,
					 alarm_state_name(alarm_state(a)), a->active_since_ms);
			nal++;
		}
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "lots"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id");
		if (!cJSON_IsString(id))
			continue;
		/* by lot id alone: a lot moved to another room keeps its history */
		for (size_t i = 0; i < e->nrooms; i++)
			for (size_t j = 0; j < e->rooms[i].nlots; j++) {
				struct lot_state *s = &e->rooms[i].lots[j].s;
				if (strcmp(e->rooms[i].lots[j].lc->id, id->valuestring) != 0)
					continue;
				s->last_ts_ns = (int64_t)jnum(x, "last_ts_ns", 0);
				s->last_air_c = jnum(x, "last_air_c", NAN);
				s->last_rh = jnum(x, "last_rh", NAN);
				s->product_c = jnum(x, "product_c", NAN);
				s->consumed = jnum(x, "consumed", 0);
				s->mkt_sum_w = jnum(x, "mkt_sum_w", 0);
				s->mkt_sum_t = jnum(x, "mkt_sum_t", 0);
				s->degree_h = jnum(x, "degree_h", 0);
				s->chill_h = jnum(x, "chill_h", 0);
				s->weight_loss = jnum(x, "weight_loss", 0);
				s->observed_h = jnum(x, "observed_h", 0);
				s->no_data_h = jnum(x, "no_data_h", 0);
				s->gaps = (uint32_t)jnum(x, "gaps", 0);
				nlot++;
			}
	}
	cJSON_Delete(o);
	log_info("state %s/%s: restored %zu alarms, %zu lots", e->cfg->state_dir, STATE_FILE, nal, nlot);
}

/*
 * The snapshot is built under e->lock (save) and written with the lock
 * released (save_flush): a write costs two fsyncs, and a slow state disk
 * must never hold up the source threads waiting in engine_process() (a
 * broker with a small per-client queue drops QoS 1 messages for a client
 * that stops reading).  Only the newest snapshot waits in pending_js; one
 * writer at a time (save_lock) takes it, so an older snapshot never
 * overwrites a newer one.
 */

/* Under e->lock. */
static void save(struct engine *e, int64_t now_ms)
{
	char *js = snapshot(e, now_ms);

	if (!js)
		return;
	if (e->pending_js) /* superseded before it was written */
		cJSON_free(e->pending_js);
	free(e->pending_dir);
	e->pending_js = js;
	e->pending_dir = xstrdup(e->cfg->state_dir);
	e->dirty = 0; /* set again if the write fails */
}

/* Without e->lock: writes the newest snapshot taken, if any. */
static void save_flush(struct engine *e)
{
	char *js, *dir;
	int rc;

	pthread_mutex_lock(&e->save_lock);
	pthread_mutex_lock(&e->lock);
	js = e->pending_js;
	dir = e->pending_dir;
	e->pending_js = e->pending_dir = NULL;
	pthread_mutex_unlock(&e->lock);
	if (!js) {
		pthread_mutex_unlock(&e->save_lock);
		return;
	}
	rc = state_write(dir, STATE_FILE, js, strlen(js));
	pthread_mutex_unlock(&e->save_lock);
	if (rc < 0) {
		static struct log_rl rl;
		uint32_t more;
		pthread_mutex_lock(&e->lock);
		e->dirty = 1; /* the next tick tries again */
		pthread_mutex_unlock(&e->lock);
		if (log_rl_allow(&rl, 60000, &more))
			log_err("state %s/%s: cannot write: %s (%u more)", dir, STATE_FILE, strerror(-rc), more);
	}
	cJSON_free(js);
	free(dir);
}

/* --- timers ----------------------------------------------------------------- */

static void emit_shelf_life(struct engine *e, int64_t now_ns)
{
	struct lp_buf b;

	lp_buf_init(&b);
	for (size_t i = 0; i < e->nrooms; i++) {
		struct eroom *r = &e->rooms[i];
		double dp = psychro_dew_point(r->v[R_TEMP], r->v[R_RH]);
		for (size_t j = 0; j < r->nlots; j++) {
			struct elot *l = &r->lots[j];
			const struct cc_profile *p = l->prof;
			double tnow = lot_air_now(l, r);
			double plan = p ? (isnan(l->lc->plan_c) ? p->t_ref_c : l->lc->plan_c) : NAN;
			struct lp_tag tags[] = { { "lot", l->lc->id },
						 { "product", l->lc->product },
						 { "profile", p ? p->name : NULL },
						 { "profile_version", p ? p->version : NULL },
						 { "room", r->rc->name },
						 { "site", e->cfg->site } };
			struct lp_field f[] = {
				{ "consumed", LP_FLOAT, { .f = p && p->model != CC_MODEL_NONE ? l->s.consumed : NAN } },
				{ "remaining_h", LP_FLOAT, { .f = lot_remaining_h(&l->s, &l->p, tnow) } },
				{ "remaining_h_at_plan", LP_FLOAT, { .f = lot_remaining_h(&l->s, &l->p, plan) } },
				{ "mkt_c", LP_FLOAT, { .f = lot_mkt_c(&l->s, &l->p) } },
				{ "degree_hours", LP_FLOAT, { .f = isfinite(l->p.dh_thr_c) ? l->s.degree_h : NAN } },
				{ "chill_hours", LP_FLOAT, { .f = isfinite(l->p.chill_thr_c) ? l->s.chill_h : NAN } },
				{ "weight_loss_pct", LP_FLOAT, { .f = l->p.kt_fresh > 0 ? l->s.weight_loss * 100 : NAN } },
				{ "dew_point_c", LP_FLOAT, { .f = dp } },
				{ "product_c", LP_FLOAT, { .f = l->s.product_c } },
				{ "no_data_h", LP_FLOAT, { .f = l->s.no_data_h } },
				{ "observed_h", LP_FLOAT, { .f = l->s.observed_h } },
			};
			lp_encode(&b, "shelf_life", tags, sizeof(tags) / sizeof(tags[0]), f, sizeof(f) / sizeof(f[0]),
				  now_ns);
		}
	}
	emit_lines(e, &b);
	lp_buf_free(&b);
}

static void tick(struct engine *e, int64_t now_ns)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	int64_t now = now_ns / 1000000;
	struct alarm_event ev[ALARM_MAX_EVENTS];

	e->now_ms = now;
	for (size_t i = 0; i < e->nchans; i++) {
		struct echan *ch = e->chans[i];
		int64_t limit = chan_limit(e, ch);
		int64_t since = ch->last_good_ms ? ch->last_good_ms : e->start_ms;
		/* a backlog still arriving gets one stale limit to catch up */
		if (now - since > limit && !chan_catching_up(e, ch, now))
			eval_cond(e, ch->stale, now, 1, (double)(now - since) / 1000.0);
	}
	for (size_t i = 0; i < e->nrooms; i++)
		room_suppression(e, &e->rooms[i], now);
	for (size_t i = 0; i < e->nrooms; i++) {
		struct eroom *r = &e->rooms[i];
		int any = 0;
		if (r->flood.active && alarm_flood_update(&r->flood, now) < 0)
			log_info("room %s: alarm flood over: fewer than %d alarms in %" PRId64 " s", r->rc->name,
				 ac->flood_end, ac->flood_window_ms / 1000);
		for (size_t j = 0; j < e->nalarms && r->flood.active; j++)
			any |= e->alarms[j]->a.active && e->alarms[j]->room && e->alarms[j] != r->group &&
			       strcmp(e->alarms[j]->room, r->rc->name) == 0;
		eval_cond(e, r->group, now, r->flood.active && any, NAN);
	}
	for (size_t i = 0; i < e->nalarms; i++) {
		struct ealarm *ea = e->alarms[i];
		/* a backlog's alarms run on its readings' times, not on the clock */
		if (ea->src && chan_catching_up(e, ea->src, now))
			continue;
		/* caught up (or gave up catching up): still active at the newest reading */
		if (ea->a.pending)
			handle(e, ea, ev, alarm_annunciate(&ea->a, now, ev));
		handle(e, ea, ev, alarm_tick(&ea->a, now, ev));
	}
	if (now >= e->next_sl_ms) {
		emit_shelf_life(e, now_ns);
		e->next_sl_ms = now + ac->shelf_life_interval_ms;
		e->dirty = 1;
	}
	if (e->dirty || now >= e->next_snap_ms) {
		save(e, now);
		e->next_snap_ms = now + SNAPSHOT_MS;
	}
}

void engine_tick(struct engine *e, int64_t now_ns)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	tick(e, now_ns);
	pthread_mutex_unlock(&e->lock);
	save_flush(e);
}

/* --- lifecycle ----------------------------------------------------------------- */

struct engine *engine_new(const struct cc_config *cfg, const struct engine_callbacks *cb)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	size_t nl = 0;

	e->cfg = cfg;
	if (cb)
		e->cb = *cb;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->save_lock, NULL);
	e->start_ms = time_now_ns() / 1000000;
	e->now_ms = e->start_ms;
	e->nrooms = cfg->nrooms;
	e->rooms = xcalloc(cfg->nrooms + 1, sizeof(*e->rooms));
	for (size_t i = 0; i < cfg->nrooms; i++) {
		room_build(e, &e->rooms[i], &cfg->rooms[i]);
		alarm_flood_init(&e->rooms[i].flood, cfg->alarms.flood_window_ms, (unsigned)cfg->alarms.flood_start,
				 (unsigned)cfg->alarms.flood_end);
		nl += cfg->rooms[i].nlots;
	}
	e->nrules = cfg->alarms.nrules;
	e->rules = xcalloc(e->nrules + 1, sizeof(*e->rules));
	for (size_t i = 0; i < e->nrules; i++)
		rule_build(e, &e->rules[i], &cfg->alarms.rules[i]);
	restore(e);
	e->next_sl_ms = e->start_ms + cfg->alarms.shelf_life_interval_ms;
	e->next_snap_ms = e->start_ms + SNAPSHOT_MS;
	if (e->nrooms || e->nrules)
		log_info("engine: %zu rooms, %zu lots, %zu rules, %zu alarms, %zu channels watched", e->nrooms, nl,
			 e->nrules, e->nalarms, e->nchans);
	return e;
}

static void ealarm_free(struct ealarm *a)
{
	free(a->id);
	free(a->room);
	free(a->sensor);
	free(a->channel);
	free(a->rule);
	free(a->message);
	free(a);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->nalarms || e->nrooms)
		save(e, time_now_ns() / 1000000);
	pthread_mutex_unlock(&e->lock);
	save_flush(e);
	lots_free(e);
	for (size_t i = 0; i < e->nalarms; i++)
		ealarm_free(e->alarms[i]);
	free(e->alarms);
	for (size_t i = 0; i < e->nchans; i++) {
		free(e->chans[i]->id);
		free(e->chans[i]);
	}
	free(e->chans);
	for (size_t i = 0; i < e->nrooms; i++)
		free(e->rooms[i].lots);
	free(e->rooms);
	free(e->rules);
	for (size_t i = 0; i < e->nnotify; i++) {
		free(e->notify[i]->key);
		free(e->notify[i]);
	}
	free(e->notify);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->save_lock);
	free(e);
}

/* --- operator actions ---------------------------------------------------------- */

static struct ealarm *find(struct engine *e, const char *id)
{
	for (size_t i = 0; id && i < e->nalarms; i++)
		if (strcmp(e->alarms[i]->id, id) == 0)
			return e->alarms[i];
	return NULL;
}

enum op { OP_ACK, OP_SHELVE, OP_UNSHELVE, OP_RESET };

static int op(struct engine *e, enum op o, const char *id, int64_t dur, const char *user, const char *note)
{
	struct alarm_event ev;
	struct ealarm *a;
	int64_t now = time_now_ns() / 1000000;
	int rc;

	if (!user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	a = find(e, id);
	if (!a) {
		rc = -ENOENT;
		goto out;
	}
	switch (o) {
	case OP_ACK: rc = alarm_ack(&a->a, now, user, note, &ev); break;
	case OP_SHELVE: rc = alarm_shelve(&a->a, now, dur, user, note, &ev); break;
	case OP_UNSHELVE: rc = alarm_unshelve(&a->a, now, user, note, &ev); break;
	case OP_RESET: rc = alarm_reset(&a->a, now, user, note, &ev); break;
	default: rc = -EINVAL; break;
	}
	if (rc == 0)
		publish(e, a, &ev);
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int engine_ack(struct engine *e, const char *id, const char *user, const char *note)
{
	return op(e, OP_ACK, id, 0, user, note);
}

int engine_shelve(struct engine *e, const char *id, int64_t dur_ms, const char *user, const char *note)
{
	return op(e, OP_SHELVE, id, dur_ms, user, note);
}

int engine_unshelve(struct engine *e, const char *id, const char *user, const char *note)
{
	return op(e, OP_UNSHELVE, id, 0, user, note);
}

int engine_reset(struct engine *e, const char *id, const char *user, const char *note)
{
	return op(e, OP_RESET, id, 0, user, note);
}

const char *engine_alarm_state(struct engine *e, const char *id)
{
	const char *s = NULL;
	struct ealarm *a;

	if (!e)
		return NULL;
	pthread_mutex_lock(&e->lock);
	if ((a = find(e, id)))
		s = alarm_state_name(alarm_state(&a->a));
	pthread_mutex_unlock(&e->lock);
	return s;
}

/* --- control socket: status and runtime lots -------------------------------------
 * A lot loaded, moved or unloaded at run time is kept in the snapshot
 * (engine.state): runtime lots with their product and load time, configured
 * lots with the room the configuration had them in ("conf_room").  A move or
 * unload of a configured lot holds until the configuration itself changes
 * that lot's room; then the file wins. */

static const char *conf_room_of(const struct cc_config *cfg, const char *lot)
{
	const struct cc_room_conf *room;

	return config_find_lot(cfg, lot, &room) ? room->name : NULL;
}

static struct eroom *room_find(struct engine *e, const char *name)
{
	for (size_t i = 0; name && i < e->nrooms; i++)
		if (strcmp(e->rooms[i].rc->name, name) == 0)
			return &e->rooms[i];
	return NULL;
}

static struct elot *lot_find(struct engine *e, const char *id, struct eroom **room)
{
	for (size_t i = 0; id && i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++)
			if (strcmp(e->rooms[i].lots[j].lc->id, id) == 0) {
				if (room)
					*room = &e->rooms[i];
				return &e->rooms[i].lots[j];
			}
	return NULL;
}

static const struct cc_profile *profile_find(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->nprofiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

static void alarm_drop(struct engine *e, struct ealarm *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < e->nalarms; i++)
		if (e->alarms[i] == a) {
			memmove(&e->alarms[i], &e->alarms[i + 1], (e->nalarms - i - 1) * sizeof(*e->alarms));
			e->nalarms--;
			break;
		}
	if (a->a.active)
		log_info("alarm %s: dropped with its lot (was %s)", a->id, alarm_state_name(alarm_state(&a->a)));
	ealarm_free(a);
}

static void lot_drop_alarms(struct engine *e, struct elot *l)
{
	alarm_drop(e, l->chill_warn);
	alarm_drop(e, l->chill_alarm);
	alarm_drop(e, l->wl_warn);
	alarm_drop(e, l->wl_alarm);
	alarm_drop(e, l->life_low);
	alarm_drop(e, l->dispatch);
	l->chill_warn = l->chill_alarm = l->wl_warn = l->wl_alarm = l->life_low = l->dispatch = NULL;
}

static void lot_conf_free(struct cc_lot_conf *lc)
{
	if (!lc)
		return;
	free(lc->id);
	free(lc->product);
	free(lc->loaded);
	free(lc);
}

/* Removes lot index j from room r (its alarms go with it); returns the
 * removed lot in *out when out is set, else frees what it owns. */
static void room_take_lot(struct engine *e, struct eroom *r, size_t j, struct elot *out)
{
	struct elot l = r->lots[j];

	memmove(&r->lots[j], &r->lots[j + 1], (r->nlots - j - 1) * sizeof(*r->lots));
	r->nlots--;
	lot_drop_alarms(e, &l);
	if (out)
		*out = l;
	else
		lot_conf_free(l.own);
}

/* Puts a lot into room r: its alarms are built for r, its state is kept. */
static void room_put_lot(struct engine *e, struct eroom *r, const struct elot *from)
{
	struct elot *l;
	struct lot_state st = from->s;

	r->lots = xrealloc(r->lots, (r->nlots + 1) * sizeof(*r->lots));
	l = &r->lots[r->nlots++];
	memset(l, 0, sizeof(*l));
	lot_build(e, r, l, from->lc);
	l->own = from->own;
	l->s = st;
}

static void lot_add_new(struct engine *e, struct eroom *r, const char *id, const char *product,
			const struct cc_profile *p, int64_t loaded_ns)
{
	struct elot tmp;
	struct cc_lot_conf *lc = xcalloc(1, sizeof(*lc));
	char tbuf[64];

	fmt_time(loaded_ns, tbuf, sizeof(tbuf));
	lc->id = xstrdup(id);
	lc->product = xstrdup(product);
	lc->loaded = xstrdup(tbuf);
	lc->loaded_ns = loaded_ns;
	lc->plan_c = NAN;
	lc->profile = p;
	memset(&tmp, 0, sizeof(tmp));
	tmp.lc = lc;
	tmp.own = lc;
	lot_state_init(&tmp.s);
	room_put_lot(e, r, &tmp);
}

static void lots_layout_save(struct engine *e, cJSON *lots, cJSON *root)
{
	cJSON *x = lots ? lots->child : NULL;

	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots && x; j++, x = x->next) {
			const struct elot *l = &e->rooms[i].lots[j];
			const char *cr;
			if (l->own) {
				cJSON_AddBoolToObject(x, "runtime", 1);
				cJSON_AddStringToObject(x, "product", l->lc->product);
				cJSON_AddNumberToObject(x, "loaded_ns", (double)l->lc->loaded_ns);
			} else if ((cr = conf_room_of(e->cfg, l->lc->id)) && strcmp(cr, e->rooms[i].rc->name) != 0) {
				cJSON_AddStringToObject(x, "conf_room", cr);
			}
		}
	if (e->unloaded && cJSON_GetArraySize(e->unloaded) > 0)
		cJSON_AddItemToObject(root, "unloaded", cJSON_Duplicate(e->unloaded, 1));
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void lots_layout_restore(struct engine *e, const cJSON *o)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "unloaded"))
	{
		const char *id = jstr(x, "id"), *cr = jstr(x, "conf_room"), *now;
		struct eroom *r = NULL;
		struct elot *l;
		if (!id || !cr || !(now = conf_room_of(e->cfg, id)) || strcmp(now, cr) != 0)
			continue; /* the configuration changed that lot: it wins */
		if ((l = lot_find(e, id, &r)))
			room_take_lot(e, r, (size_t)(l - r->lots), NULL);
		if (!e->unloaded)
			e->unloaded = cJSON_CreateArray();
		cJSON_AddItemToArray(e->unloaded, cJSON_Duplicate(x, 1));
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "lots"))
	{
		const char *id = jstr(x, "id"), *room = jstr(x, "room"), *cr = jstr(x, "conf_room");
		struct eroom *to = room_find(e, room), *from = NULL;
		struct elot *l;
		if (!id || !room)
			continue;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "runtime"))) {
			const char *product = jstr(x, "product");
			const struct cc_profile *p = profile_find(e->cfg, product);
			if (lot_find(e, id, NULL))
				continue; /* the configuration has it now */
			if (!to || !p) {
				log_warn("lot %s: loaded into room %s as %s, but the configuration has no such %s: "
					 "dropped", id, room, product ? product : "?", !to ? "room" : "profile");
				continue;
			}
			lot_add_new(e, to, id, product, p, (int64_t)jnum(x, "loaded_ns", 0));
		} else if (cr && to && (l = lot_find(e, id, &from)) && from != to &&
			   strcmp(from->rc->name, cr) == 0) {
			struct elot tmp;
			room_take_lot(e, from, (size_t)(l - from->lots), &tmp);
			room_put_lot(e, to, &tmp);
		}
	}
}

static void lots_free(struct engine *e)
{
	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++)
			lot_conf_free(e->rooms[i].lots[j].own);
	cJSON_Delete(e->unloaded);
	e->unloaded = NULL;
}

int engine_lot_load(struct engine *e, const char *room, const char *lot, const char *product, int64_t loaded_ns, const char *user)
{
	struct eroom *r;
	const struct cc_profile *p;
	int rc = 0;

	if (!lot || !*lot || !product || !user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(r = room_find(e, room)) || !(p = profile_find(e->cfg, product))) {
		rc = -ENOENT;
		goto out;
	}
	if (lot_find(e, lot, NULL)) {
		rc = -EEXIST;
		goto out;
	}
	{
		size_t n = 0;
		for (size_t i = 0; i < e->nrooms; i++)
			n += e->rooms[i].nlots;
		if (n >= ENGINE_MAX_LOTS) {
			rc = -ENOSPC;
			goto out;
		}
	}
	lot_add_new(e, r, lot, product, p, loaded_ns);
	e->dirty = 1;
	log_info("lot %s (%s) loaded into room %s by %s", lot, product, room, user);
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int engine_lot_unload(struct engine *e, const char *lot, const char *user)
{
	struct eroom *r = NULL;
	struct elot *l;
	int rc = 0;

	if (!user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(l = lot_find(e, lot, &r))) {
		rc = -ENOENT;
		goto out;
	}
	if (!l->own) {
		const char *cr = conf_room_of(e->cfg, lot);
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", lot);
		cJSON_AddStringToObject(x, "conf_room", cr ? cr : r->rc->name);
		if (!e->unloaded)
			e->unloaded = cJSON_CreateArray();
		cJSON_AddItemToArray(e->unloaded, x);
	}
	log_info("lot %s unloaded from room %s by %s (consumed %.3f)", lot, r->rc->name, user, l->s.consumed);
	room_take_lot(e, r, (size_t)(l - r->lots), NULL);
	e->dirty = 1;
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int engine_lot_move(struct engine *e, const char *lot, const char *room, const char *user)
{
	struct eroom *from = NULL, *to;
	struct elot *l, tmp;
	int rc = 0;

	if (!user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(l = lot_find(e, lot, &from)) || !(to = room_find(e, room))) {
		rc = -ENOENT;
		goto out;
	}
	if (from == to) {
		rc = -EALREADY;
		goto out;
	}
	room_take_lot(e, from, (size_t)(l - from->lots), &tmp);
	room_put_lot(e, to, &tmp);
	e->dirty = 1;
	log_info("lot %s moved from room %s to room %s by %s (consumed %.3f kept)", lot, from->rc->name, room, user,
		 tmp.s.consumed);
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char tbuf[64];
	fmt_time(ms * 1000000LL, tbuf, sizeof(tbuf));
	cJSON_AddStringToObject(o, k, tbuf);
}

static cJSON *alarms_json(struct engine *e, int64_t now)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < e->nalarms; i++) {
		const struct ealarm *ea = e->alarms[i];
		const struct alarm *a = &ea->a;
		int shelved = alarm_is_shelved(a, now);
		cJSON *x;
		if (alarm_state(a) == ALARM_INACTIVE && !shelved)
			continue;
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", ea->id);
		cJSON_AddStringToObject(x, "state", alarm_state_name(alarm_state(a)));
		cJSON_AddStringToObject(x, "severity", alarm_severity_name(a->sev));
		if (ea->room)
			cJSON_AddStringToObject(x, "room", ea->room);
		if (ea->channel)
			cJSON_AddStringToObject(x, "channel", ea->channel);
		cJSON_AddStringToObject(x, "rule", ea->rule);
		add_num(x, "value", a->value);
		add_num(x, "limit", a->c.limit);
		if (a->active)
			add_time(x, "active_since", a->active_since_ms);
		cJSON_AddBoolToObject(x, "shelved", shelved);
		if (shelved)
			add_time(x, "shelved_until", a->shelved_until_ms);
		cJSON_AddBoolToObject(x, "suppressed", a->suppressed);
		cJSON_AddBoolToObject(x, "latched", a->held);
		cJSON_AddStringToObject(x, "message", ea->message);
		cJSON_AddItemToArray(arr, x);
	}
	return arr;
}

static cJSON *rooms_json(struct engine *e, int64_t now)
{
	static const char *const roles[R_N] = { "temperature",	       "humidity",	   "door", "defrost",
						"outside_temperature", "outside_humidity", "co2",  "o2" };
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < e->nrooms; i++) {
		struct eroom *r = &e->rooms[i];
		cJSON *x = cJSON_CreateObject(), *rd = cJSON_CreateArray(), *lots = cJSON_CreateArray();
		cJSON_AddStringToObject(x, "name", r->rc->name);
		if (r->prof)
			cJSON_AddStringToObject(x, "profile", r->prof->name);
		add_num(x, "band_low", r->lim.band_low);
		add_num(x, "band_high", r->lim.band_high);
		for (int k = 0; k < R_N; k++) {
			const struct echan *ch = r->ch[k];
			cJSON *y;
			if (!ch)
				continue;
			y = cJSON_CreateObject();
			cJSON_AddStringToObject(y, "role", roles[k]);
			cJSON_AddStringToObject(y, "channel", ch->id);
			add_num(y, "value", ch->value);
			add_num(y, "age_s", ch->last_good_ms ? (double)(now - ch->last_good_ms) / 1000.0 : NAN);
			cJSON_AddStringToObject(y, "quality", !ch->last_ms ? "none"
							    : now - ch->last_good_ms > (ch->interval_ms > 0
								? e->cfg->alarms.stale_intervals * ch->interval_ms
								: e->cfg->alarms.stale_after_ms)
								? "stale"
								: quality_name((enum cc_quality)ch->last_q));
			cJSON_AddItemToArray(rd, y);
		}
		cJSON_AddItemToObject(x, "readings", rd);
		for (size_t j = 0; j < r->nlots; j++) {
			const struct elot *l = &r->lots[j];
			const struct cc_profile *p = l->prof;
			double tnow = lot_air_now(l, r);
			double plan = p ? (isnan(l->lc->plan_c) ? p->t_ref_c : l->lc->plan_c) : NAN;
			int model = p && p->model != CC_MODEL_NONE;
			cJSON *y = cJSON_CreateObject();
			cJSON_AddStringToObject(y, "id", l->lc->id);
			cJSON_AddStringToObject(y, "product", l->lc->product);
			if (p && p->version)
				cJSON_AddStringToObject(y, "profile_version", p->version);
			cJSON_AddStringToObject(y, "loaded", l->lc->loaded ? l->lc->loaded : "");
			if (l->lc->dispatch)
				cJSON_AddStringToObject(y, "dispatch", l->lc->dispatch);
			cJSON_AddBoolToObject(y, "runtime", l->own != NULL);
			add_num(y, "consumed", model ? l->s.consumed : NAN);
			add_num(y, "remaining_h", model ? lot_remaining_h(&l->s, &l->p, tnow) : NAN);
			add_num(y, "remaining_h_at_plan", model ? lot_remaining_h(&l->s, &l->p, plan) : NAN);
			add_num(y, "mkt_c", lot_mkt_c(&l->s, &l->p));
			add_num(y, "product_c", l->s.product_c);
			add_num(y, "observed_h", l->s.observed_h);
			add_num(y, "no_data_h", l->s.no_data_h);
			cJSON_AddItemToArray(lots, y);
		}
		cJSON_AddItemToObject(x, "lots", lots);
		cJSON_AddItemToArray(arr, x);
	}
	return arr;
}

cJSON *engine_status_json(struct engine *e, int rooms)
{
	cJSON *o;
	int64_t now = time_now_ns() / 1000000;

	if (!e)
		return NULL;
	pthread_mutex_lock(&e->lock);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "site", e->cfg->site);
	if (rooms)
		cJSON_AddItemToObject(o, "rooms", rooms_json(e, now));
	cJSON_AddItemToObject(o, "alarms", alarms_json(e, now));
	pthread_mutex_unlock(&e->lock);
	return o;
}
