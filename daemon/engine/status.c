/* status.c - the engine's status for the control socket: rooms with
 * their readings and lots, and every alarm that is not quiet. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "../sample.h"
#include "../util.h"

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
	publish_fmt_time(ms * 1000000LL, tbuf, sizeof(tbuf));
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
			double tnow = lots_air_now(l, r);
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
			if (isfinite(l->lc->pre_c))
				cJSON_AddNumberToObject(y, "pre_c", l->lc->pre_c);
			if (l->history)
				cJSON_AddItemToObject(y, "history", cJSON_Duplicate(l->history, 1));
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
