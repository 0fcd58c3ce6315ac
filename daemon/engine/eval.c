/* eval.c - samples and timer ticks through the alarm state machines and
 * the lot models (daemon/models): reading time against the wall clock
 * (late data, backlogs), defrost suppression, flood grouping, the
 * notification rate limit, and the operator's actions. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../models/psychro.h"
#include "../util.h"

/* Records (line protocol) and alert events go to the callbacks; a missing
 * callback discards them. */
void eval_emit_lines(struct engine *e, const struct lp_buf *b)
{
	if (b->lines && e->cb.lines)
		e->cb.lines(e->cb.arg, b->data, b->len, b->lines);
}

static void emit_event(struct engine *e, const char *json)
{
	if (e->cb.event)
		e->cb.event(e->cb.arg, json, strlen(json));
}

/* The rate limit an alarm's notifications share: its channel's (per
 * channel, as ISA-18.2 asks), or its own for a room-level alarm. */
static struct alarm_ratelimit *notify_for(struct engine *e, struct ealarm *ea)
{
	const char *key = ealarm_channel(ea) ? ealarm_channel(ea) : ealarm_id(ea);
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

/* A flood groups a room's new alarms into its refrigeration_failure
 * alarm: counted per room, so one failing room never mutes another.
 * Returns whether ea's raise is still announced. */
static int flood_allows(struct engine *e, const struct ealarm *ea, const struct alarm_event *ev)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	struct eroom *room = ea->room ? lots_room_find(e, ea->room) : NULL;

	if (ev->type != AEV_RAISE || !room || strcmp(ealarm_rule(ea), "refrigeration_failure") == 0)
		return 1;
	if (!room->flood) { /* the room's first raise; without memory, no grouping */
		if (!(room->flood = malloc(sizeof(*room->flood))))
			return 1;
		alarm_flood_init(room->flood, ac->flood_window_ms, (unsigned)ac->flood_start, (unsigned)ac->flood_end);
	}
	alarm_flood_note(room->flood, ev->ts_ms);
	if (alarm_flood_update(room->flood, ev->ts_ms) > 0)
		log_warn("room %s: alarm flood: more than %d alarms in %" PRId64 " s; grouping them", ea->room,
			 ac->flood_start, ac->flood_window_ms / 1000);
	return !room->flood->active;
}

/* The record's time: two events of one alarm in the same nanosecond would
 * overwrite each other; a late event keeps its own (earlier) time unless
 * it collides.  A historical alarm is recorded at its raise time. */
static int64_t record_time(struct ealarm *ea, const struct alarm_event *ev)
{
	int64_t ts = (ev->type == AEV_HISTORICAL ? ev->since_ms : ev->ts_ms) * 1000000LL;

	if (ev->late ? ts == ea->last_ev_ns : ts <= ea->last_ev_ns)
		ts = ea->last_ev_ns + 1;
	if (ts > ea->last_ev_ns)
		ea->last_ev_ns = ts;
	return ts;
}

/* One transition of ea: announced (event) when it is annunciated and not
 * rate-limited, or is an operator action (the audit trail of the alarm
 * outputs), then recorded (alert line, log). */
static void publish(struct engine *e, struct ealarm *ea, const struct alarm_event *ev)
{
	struct publication p = { .ea = ea, .ev = ev, .site = e->cfg->site, .annunciate = ev->annunciate };
	int ratelimited = 0;
	struct lp_buf b;
	char msg[ALARM_MSG_MAX];

	if (p.annunciate)
		p.annunciate = flood_allows(e, ea, ev);
	if (p.annunciate && !alarm_ratelimit_allow(notify_for(e, ea), ev->ts_ms)) {
		ratelimited = 1;
		e->notify_dropped++;
	}
	p.ts_ns = record_time(ea, ev);
	/* The event first: it is what wakes the alert outputs, and what the
	 * people they notify wait for; the alert record and the log line
	 * (a journal append, a write and a wake-up of the other outputs) come
	 * after it, off the alarm's path (issue 18 target 5). */
	if ((p.annunciate && !ratelimited) || ev->type == AEV_ACK || ev->type == AEV_SHELVE ||
	    ev->type == AEV_UNSHELVE || ev->type == AEV_RESET) {
		char *js = publish_json(&p);
		if (js) {
			emit_event(e, js);
			cJSON_free(js);
		}
	}
	lp_buf_init(&b);
	if (publish_line(&b, &p) == 0)
		eval_emit_lines(e, &b);
	lp_buf_free(&b);
	log_msg(ev->type == AEV_RAISE && ev->sev == ALARM_SEV_CRITICAL ? LOG_LVL_WARN : LOG_LVL_INFO,
		"alarm %s: %s%s -> %s (%s, value %g, limit %g)%s%s%s%s: %s", ealarm_id(ea), alarm_ev_name(ev->type),
		ev->late ? " (late data)" : "", publish_state_shown(ea, ev), alarm_severity_name(ev->sev), ev->value,
		ea->a.c->limit, ev->user ? " by " : "", ev->user ? ev->user : "", ev->note ? ": " : "",
		ev->note ? ev->note : "", build_alarm_message(ea, msg, sizeof(msg)));
	if (ratelimited && e->notify_dropped - e->notify_dropped_logged >= 1) {
		log_warn("alarm %s: notification rate-limited (%" PRIu64 " not sent so far; all are in the alert record)",
			 ealarm_id(ea), e->notify_dropped);
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

void eval_alarm_cond(struct engine *e, struct ealarm *ea, int64_t now_ms, int cond, double v)
{
	eval_cond(e, ea, now_ms, cond, v);
}

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
	rem = lot_remaining_h(&l->s, l->p, isnan(l->lc->plan_c) ? p->t_ref_c : l->lc->plan_c);
	if (l->life_low)
		eval_cond(e, l->life_low, now, rem * 3600000.0 < (double)p->remaining_warn_ms, rem);
	if (l->dispatch) {
		(void)t_now;
		eval_cond(e, l->dispatch, now, (double)now + rem * 3600000.0 < (double)(l->lc->dispatch_ns / 1000000),
			  rem);
	}
}

/* v added to the ring *roc (allocated at the first reading; NaN without
 * memory, counted as no rate yet), then the rate over the window. */
static double roc_eval(struct engine *e, struct alarm_roc **roc, int64_t now, double v)
{
	if (!*roc && !(*roc = calloc(1, sizeof(**roc))))
		return NAN;
	alarm_roc_add(*roc, now, v);
	return alarm_roc_per_h(*roc, now, e->cfg->alarms.rate_window_ms);
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
		if (r->rate)
			eval_value(e, r->rate, now, roc_eval(e, &r->roc, now, v));
		for (size_t i = 0; i < r->nlots; i++) {
			struct elot *l = &r->lots[i];
			if (s->ts_ns < l->lc->loaded_ns)
				continue;
			lots_observe(l, s->ts_ns, v, r->v[R_RH]);
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
		eval_value(e, u->al, now, roc_eval(e, &u->roc, now, s->value));
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

/* A channel only process lines read, on a line with no batch running:
 * between batches a precooler's pulp probes hang unplugged and a kiln's
 * load cell is off, so its silence or faults are no loss of monitoring. */
static int chan_idle(const struct echan *ch)
{
	return ch->line_only && !ch->proc->active;
}

/* One stale or fault alarm of an idle or busy line: an idle line's active
 * (or pending on-delay) alarm clears with the note first, announced as
 * any clear, then suppression (by design, recorded, never announced)
 * marks it as rooms' defrost does. */
static void line_alarm(struct engine *e, struct ealarm *ea, int idle, int64_t now, const char *note)
{
	struct alarm_event ev[ALARM_MAX_EVENTS];
	size_t n;

	if (idle && (ea->a.active || ea->a.cond)) {
		n = alarm_eval_cond(&ea->a, now, 0, NAN, ev);
		for (size_t i = 0; i < n; i++)
			ev[i].note = note;
		handle(e, ea, ev, n);
	}
	if (alarm_suppress(&ea->a, now, idle, note, ev) == 0)
		publish(e, ea, ev);
}

void eval_line_state(struct engine *e, struct eproc *pr, int64_t now, const char *batch)
{
	int idle = !pr->active;
	char *note;

	if (idle == pr->idle)
		return;
	pr->idle = idle;
	if (!idle)
		pr->busy_since_ms = now;
	if (!idle)
		note = xasprintf("line busy: batch %s running", pr->active->id);
	else if (batch)
		note = xasprintf("line idle: batch %s stopped", batch);
	else
		note = xstrdup("line idle: no batch running");
	for (size_t i = 0; i < e->nchans; i++)
		if (e->chans[i]->proc == pr && e->chans[i]->line_only) {
			line_alarm(e, e->chans[i]->stale, idle, now, note);
			line_alarm(e, e->chans[i]->fault, idle, now, note);
		}
	free(note);
}

static void process_one(struct engine *e, const struct cc_sample *s)
{
	struct echan *ch = build_chan_find(e, s->ch->id);
	int64_t now = s->ts_ns / 1000000, wall = e->now_ms, limit;
	int late, was_behind;

	if (!ch)
		return;
	/* The room page's 24 h: every good reading in its own bucket, late
	 * ones too (trend.c) */
	if (ch->trend && s->quality == CC_Q_GOOD)
		trend_sample(ch, s->ts_ns, s->value);
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
	 * of the sensor: it neither raises nor clears the fault; nor does any
	 * sample of an idle line's channel. */
	if (s->quality != CC_Q_STALE && !chan_idle(ch))
		eval_cond(e, ch->fault, now, s->quality == CC_Q_OUT_OF_RANGE || s->quality == CC_Q_COMM_ERROR,
			  s->quality == CC_Q_OUT_OF_RANGE ? s->value : NAN);
	if (!good)
		return;
	/* Stale on reading time: a late reading does not bring monitoring back
	 * (nothing covers now yet); a gap longer than the limit inside a
	 * backlog is a historical stale alarm of its own. */
	if (!late) {
		eval_cond(e, ch->stale, now, 0, 0);
	} else if (e->late && !chan_idle(ch) && !ch->stale->a.active && ch->last_good_ms &&
		   now - ch->last_good_ms > limit) {
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
	for (uint32_t i = 0; i < ch->nuses; i++)
		room_sample(e, &e->rooms[ch->uses[i].room], ch->uses[i].role, s, now);
	for (size_t i = 0; ch->ruled && i < e->nrules; i++)
		if (e->rules[i].ch == ch)
			rule_sample(e, &e->rules[i], s, now);
	if (ch->proc)
		batch_sample(e, ch, s);
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
			double tnow = lots_air_now(l, r);
			double plan = p ? (isnan(l->lc->plan_c) ? p->t_ref_c : l->lc->plan_c) : NAN;
			struct lp_tag tags[] = { { "lot", l->lc->id },
						 { "product", l->lc->product },
						 { "profile", p ? p->name : NULL },
						 { "profile_version", p ? p->version : NULL },
						 { "room", r->rc->name },
						 { "site", e->cfg->site } };
			struct lp_field f[] = {
				{ "consumed", LP_FLOAT, { .f = p && p->model != CC_MODEL_NONE ? l->s.consumed : NAN } },
				{ "remaining_h", LP_FLOAT, { .f = lot_remaining_h(&l->s, l->p, tnow) } },
				{ "remaining_h_at_plan", LP_FLOAT, { .f = lot_remaining_h(&l->s, l->p, plan) } },
				{ "mkt_c", LP_FLOAT, { .f = lot_mkt_c(&l->s, l->p) } },
				{ "degree_hours", LP_FLOAT, { .f = isfinite(l->p->dh_thr_c) ? l->s.degree_h : NAN } },
				{ "chill_hours", LP_FLOAT, { .f = isfinite(l->p->chill_thr_c) ? l->s.chill_h : NAN } },
				{ "weight_loss_pct", LP_FLOAT, { .f = l->p->kt_fresh > 0 ? l->s.weight_loss * 100 : NAN } },
				{ "dew_point_c", LP_FLOAT, { .f = dp } },
				{ "product_c", LP_FLOAT, { .f = l->s.product_c } },
				{ "no_data_h", LP_FLOAT, { .f = l->s.no_data_h } },
				{ "observed_h", LP_FLOAT, { .f = l->s.observed_h } },
			};
			lp_encode(&b, "shelf_life", tags, sizeof(tags) / sizeof(tags[0]), f, sizeof(f) / sizeof(f[0]),
				  now_ns);
		}
	}
	eval_emit_lines(e, &b);
	lp_buf_free(&b);
}

static void tick(struct engine *e, int64_t now_ns)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	int64_t now = now_ns / 1000000;
	struct alarm_event ev[ALARM_MAX_EVENTS];

	e->now_ms = now;
	for (size_t i = 0; i < e->nprocs; i++)
		eval_line_state(e, &e->procs[i], now, NULL);
	for (size_t i = 0; i < e->nchans; i++) {
		struct echan *ch = e->chans[i];
		int64_t limit = chan_limit(e, ch);
		int64_t since = ch->last_good_ms ? ch->last_good_ms : e->start_ms;
		if (chan_idle(ch))
			continue;
		/* a line's probes are plugged in as its batch begins */
		if (ch->line_only && ch->proc->busy_since_ms > since)
			since = ch->proc->busy_since_ms;
		/* a backlog still arriving gets one stale limit to catch up */
		if (now - since > limit && !chan_catching_up(e, ch, now))
			eval_cond(e, ch->stale, now, 1, (double)(now - since) / 1000.0);
	}
	for (size_t i = 0; i < e->nrooms; i++)
		room_suppression(e, &e->rooms[i], now);
	for (size_t i = 0; i < e->nrooms; i++) {
		struct eroom *r = &e->rooms[i];
		int any = 0, flood = r->flood && r->flood->active;
		if (flood && alarm_flood_update(r->flood, now) < 0)
			log_info("room %s: alarm flood over: fewer than %d alarms in %" PRId64 " s", r->rc->name,
				 ac->flood_end, ac->flood_window_ms / 1000);
		flood = r->flood && r->flood->active;
		for (size_t j = 0; j < e->nalarms && flood; j++)
			any |= e->alarms[j]->a.active && e->alarms[j]->room && e->alarms[j] != r->group &&
			       strcmp(e->alarms[j]->room, r->rc->name) == 0;
		eval_cond(e, r->group, now, flood && any, NAN);
	}
	for (size_t i = 0; i < e->nalarms; i++) {
		struct ealarm *ea = e->alarms[i];
		/* quiet (condition off, not active, pending or shelved): alarm_tick
		 * has no deadline to check; most of a hub's alarms, every second */
		if (!ea->a.cond && !ea->a.active && !ea->a.pending && !ea->a.shelved_until_ms)
			continue;
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
	batch_tick(e, now_ns);
	if ((e->dirty && (!e->snap_gap_ms || now < e->snap_taken_ms || now - e->snap_taken_ms >= e->snap_gap_ms)) ||
	    now >= e->next_snap_ms) {
		snapshot_take(e, now, 0);
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
	snapshot_write(e);
}

static struct ealarm *find(struct engine *e, const char *id)
{
	for (size_t i = 0; id && i < e->nalarms; i++)
		if (strcmp(ealarm_id(e->alarms[i]), id) == 0)
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
