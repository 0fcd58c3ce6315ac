/* alarm.c - ISA-18.2 / OPC UA Part 9 alarm state machine, flood detection,
 * notification rate limiting and rate of change.  Pure: time is passed in,
 * transitions come back as events for the caller to record and announce. */
#include "alarm.h"

#include <errno.h>
#include <math.h>
#include <string.h>

void alarm_init(struct alarm *a, const struct alarm_conf *c)
{
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->acked = 1;
	a->sev = c->severity;
	a->value = NAN;
}

static double deadband(const struct alarm *a)
{
	return a->c->deadband >= 0 ? a->c->deadband : 0;
}

enum alarm_state alarm_state(const struct alarm *a)
{
	if (a->active)
		return a->acked ? ALARM_ACTIVE_ACKED : ALARM_ACTIVE_UNACKED;
	return a->acked ? ALARM_INACTIVE : ALARM_CLEARED_UNACKED;
}

int alarm_is_shelved(const struct alarm *a, int64_t now_ms)
{
	return a->shelved_until_ms != 0 && now_ms < a->shelved_until_ms;
}

static void emit(struct alarm *a, int64_t now, enum alarm_ev type, int annunciate, const char *user,
		 const char *note, struct alarm_event *ev, size_t *n)
{
	struct alarm_event *e = &ev[(*n)++];

	e->type = type;
	e->ts_ms = now;
	e->state = alarm_state(a);
	e->sev = a->sev;
	e->value = a->value;
	e->annunciate = annunciate && !a->suppressed && !alarm_is_shelved(a, now);
	e->user = user;
	e->note = note;
	e->late = a->late;
	e->since_ms = a->active_since_ms;
}

size_t alarm_tick(struct alarm *a, int64_t now, struct alarm_event *ev)
{
	size_t n = 0;

	if (a->shelved_until_ms && now >= a->shelved_until_ms) {
		a->shelved_until_ms = 0;
		emit(a, now, AEV_UNSHELVE, a->active && !a->acked && !a->pending, "system", "shelve expired", ev, &n);
	}
	if (!a->active && a->cond && now - a->cond_since_ms >= a->c->on_delay_ms) {
		a->active = 1;
		a->acked = 0;
		a->held = 0;
		a->escalated = 0;
		a->sev = a->c->severity;
		a->active_since_ms = now;
		a->last_notify_ms = now;
		a->notified_ms = now;
		if (a->late) {
			a->pending = 1; /* nothing announced until it proves current */
			return n;
		}
		emit(a, now, AEV_RAISE, 1, NULL, NULL, ev, &n);
		return n;
	}
	if (a->active && !a->cond && !a->held && now - a->cond_since_ms >= a->c->off_delay_ms) {
		if (a->c->latched) {
			a->held = 1;
			if (!a->pending)
				emit(a, now, AEV_RETURN, 0, NULL, NULL, ev, &n);
		} else if (a->pending) {
			/* Raised and cleared in the past: one record, nobody to tell,
			 * nothing to acknowledge. */
			a->active = 0;
			a->acked = 1;
			a->pending = 0;
			emit(a, now, AEV_HISTORICAL, 0, NULL, NULL, ev, &n);
			ev[n - 1].late = 1;
			return n;
		} else {
			a->active = 0;
			emit(a, now, AEV_CLEAR, 1, NULL, NULL, ev, &n);
			return n;
		}
	}
	if (a->late || a->pending)
		return n;
	if (a->active && !a->acked && a->c->renotify_ms > 0 && now - a->last_notify_ms >= a->c->renotify_ms) {
		a->last_notify_ms = now;
		emit(a, now, AEV_RENOTIFY, 1, "system", "still active and unacknowledged", ev, &n);
	}
	if (a->active && !a->acked && !a->escalated && a->c->escalate_ms > 0 &&
	    now - a->notified_ms >= a->c->escalate_ms && n < ALARM_MAX_EVENTS) {
		a->escalated = 1;
		if (a->c->escalate_to > a->sev)
			a->sev = a->c->escalate_to;
		emit(a, now, AEV_ESCALATE, 1, "system", "unacknowledged past the escalation time", ev, &n);
	}
	return n;
}

static void set_cond(struct alarm *a, int64_t now, int cond)
{
	cond = !!cond;
	if (cond != a->cond) {
		a->cond = cond;
		a->cond_since_ms = now;
	}
	/* Back in alarm while latched: the hold ends, the alarm stays active. */
	if (cond && a->held)
		a->held = 0;
}

size_t alarm_eval_value(struct alarm *a, int64_t now, double v, struct alarm_event *ev)
{
	int cond;

	if (isnan(v))
		return alarm_tick(a, now, ev);
	a->value = v;
	/* In alarm (raised or pending), the deadband holds the condition. */
	switch (a->c->kind) {
	case ALARM_HIGH:
	case ALARM_HIGH_HIGH:
		cond = a->cond ? v > a->c->limit - deadband(a) : v > a->c->limit;
		break;
	case ALARM_LOW:
	case ALARM_LOW_LOW:
		cond = a->cond ? v < a->c->limit + deadband(a) : v < a->c->limit;
		break;
	case ALARM_COND:
	default:
		cond = v != 0;
		break;
	}
	set_cond(a, now, cond);
	return alarm_tick(a, now, ev);
}

size_t alarm_eval_cond(struct alarm *a, int64_t now, int cond, double v, struct alarm_event *ev)
{
	a->value = v;
	set_cond(a, now, cond);
	return alarm_tick(a, now, ev);
}

size_t alarm_annunciate(struct alarm *a, int64_t now, struct alarm_event *ev)
{
	size_t n = 0;

	if (!a->pending)
		return 0;
	a->pending = 0;
	if (!a->active)
		return 0;
	a->last_notify_ms = now;
	a->notified_ms = now;
	emit(a, a->active_since_ms, AEV_RAISE, 1, NULL, NULL, ev, &n);
	ev[0].late = 1;
	ev[0].annunciate = !a->suppressed && !alarm_is_shelved(a, now);
	return n;
}

int alarm_ack(struct alarm *a, int64_t now, const char *user, const char *note, struct alarm_event *ev)
{
	size_t n = 0;

	if (a->acked)
		return -EALREADY;
	a->acked = 1;
	emit(a, now, AEV_ACK, 0, user, note, ev, &n);
	return 0;
}

int alarm_shelve(struct alarm *a, int64_t now, int64_t dur_ms, const char *user, const char *note,
		 struct alarm_event *ev)
{
	size_t n = 0;

	if (dur_ms <= 0)
		return -EINVAL;
	a->shelved_until_ms = now + dur_ms;
	emit(a, now, AEV_SHELVE, 0, user, note, ev, &n);
	return 0;
}

int alarm_unshelve(struct alarm *a, int64_t now, const char *user, const char *note, struct alarm_event *ev)
{
	size_t n = 0;

	if (!a->shelved_until_ms)
		return -EALREADY;
	a->shelved_until_ms = 0;
	emit(a, now, AEV_UNSHELVE, a->active && !a->acked && !a->pending, user, note, ev, &n);
	return 0;
}

int alarm_reset(struct alarm *a, int64_t now, const char *user, const char *note, struct alarm_event *ev)
{
	size_t n = 0;

	if (!a->active)
		return -EALREADY;
	if (a->cond)
		return -EBUSY;
	a->active = 0;
	a->held = 0;
	emit(a, now, AEV_RESET, 0, user, note, ev, &n);
	return 0;
}

int alarm_suppress(struct alarm *a, int64_t now, int on, const char *why, struct alarm_event *ev)
{
	size_t n = 0;

	on = !!on;
	if (a->suppressed == on)
		return -EALREADY;
	a->suppressed = on;
	/* Ending suppression announces an alarm that is still standing. */
	emit(a, now, on ? AEV_SUPPRESS : AEV_UNSUPPRESS, !on && a->active && !a->acked && !a->pending, "system", why,
	     ev, &n);
	return 0;
}

const char *alarm_state_name(enum alarm_state s)
{
	switch (s) {
	case ALARM_INACTIVE: return "inactive";
	case ALARM_ACTIVE_UNACKED: return "active";
	case ALARM_ACTIVE_ACKED: return "acked";
	case ALARM_CLEARED_UNACKED: return "cleared_unacked";
	}
	return "?";
}

const char *alarm_ev_name(enum alarm_ev e)
{
	static const char *const n[] = { "raise",    "clear",      "return", "ack",      "shelve",  "unshelve",
					 "suppress", "unsuppress", "reset",  "renotify", "escalate", "historical" };
	return (unsigned)e < sizeof(n) / sizeof(n[0]) ? n[e] : "?";
}

const char *alarm_severity_name(enum alarm_severity s)
{
	switch (s) {
	case ALARM_SEV_INFO: return "info";
	case ALARM_SEV_WARNING: return "warning";
	case ALARM_SEV_CRITICAL: return "critical";
	}
	return "?";
}

int alarm_severity_parse(const char *s, enum alarm_severity *out)
{
	for (int i = ALARM_SEV_INFO; i <= ALARM_SEV_CRITICAL; i++)
		if (strcmp(s, alarm_severity_name((enum alarm_severity)i)) == 0) {
			*out = (enum alarm_severity)i;
			return 0;
		}
	return -EINVAL;
}

/* --- flood ---------------------------------------------------------------- */

void alarm_flood_init(struct alarm_flood *f, int64_t window_ms, unsigned start, unsigned end)
{
	memset(f, 0, sizeof(*f));
	f->window_ms = window_ms;
	f->start = start < ALARM_FLOOD_RING ? start : ALARM_FLOOD_RING - 1;
	f->end = end;
}

void alarm_flood_note(struct alarm_flood *f, int64_t now)
{
	f->ring[f->head] = now;
	f->head = (f->head + 1) % ALARM_FLOOD_RING;
	if (f->n < ALARM_FLOOD_RING)
		f->n++;
}

unsigned alarm_flood_count(const struct alarm_flood *f, int64_t now)
{
	unsigned c = 0;

	for (unsigned i = 0; i < f->n; i++) {
		int64_t t = f->ring[(f->head + ALARM_FLOOD_RING - 1 - i) % ALARM_FLOOD_RING];
		if (now - t < f->window_ms)
			c++;
	}
	return c;
}

int alarm_flood_update(struct alarm_flood *f, int64_t now)
{
	unsigned c = alarm_flood_count(f, now);

	if (!f->active && c > f->start) {
		f->active = 1;
		return 1;
	}
	if (f->active && c < f->end) {
		f->active = 0;
		return -1;
	}
	return 0;
}

/* --- notification rate limit ------------------------------------------- */

void alarm_ratelimit_init(struct alarm_ratelimit *r, unsigned burst, int64_t interval_ms)
{
	memset(r, 0, sizeof(*r));
	r->burst = burst ? burst : 1;
	r->tokens = r->burst;
	r->interval_ms = interval_ms > 0 ? interval_ms : 1;
	r->last_ms = INT64_MIN;
}

int alarm_ratelimit_allow(struct alarm_ratelimit *r, int64_t now)
{
	if (r->last_ms != INT64_MIN && now > r->last_ms) {
		r->tokens += (double)(now - r->last_ms) / (double)r->interval_ms;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
	}
	if (r->last_ms == INT64_MIN || now > r->last_ms)
		r->last_ms = now;
	if (r->tokens >= 1.0) {
		r->tokens -= 1.0;
		return 1;
	}
	r->dropped++;
	return 0;
}

/* --- rate of change ------------------------------------------------------ */

/* now is more than 2^31 ms from base: base moves to now, and the readings
 * (newest first) stay while their times still fit. */
static void roc_rebase(struct alarm_roc *r, int64_t now)
{
	for (unsigned i = 0; i < r->n; i++) {
		unsigned k = (r->head + ALARM_ROC_RING - 1 - i) % ALARM_ROC_RING;
		int64_t d = r->base + r->t[k] - now;
		if (d > INT32_MAX || d < INT32_MIN) {
			r->n = i;
			break;
		}
		r->t[k] = (int32_t)d;
	}
	r->base = now;
}

void alarm_roc_add(struct alarm_roc *r, int64_t now, double v)
{
	if (isnan(v))
		return;
	if (r->n == 0)
		r->base = now;
	else if (now - r->base > INT32_MAX || now - r->base < INT32_MIN)
		roc_rebase(r, now);
	r->t[r->head] = (int32_t)(now - r->base);
	r->v[r->head] = v;
	r->head = (r->head + 1) % ALARM_ROC_RING;
	if (r->n < ALARM_ROC_RING)
		r->n++;
}

double alarm_roc_per_h(const struct alarm_roc *r, int64_t now, int64_t window_ms)
{
	unsigned newest, oldest = ALARM_ROC_RING;
	double dt;

	if (r->n < 2)
		return NAN;
	newest = (r->head + ALARM_ROC_RING - 1) % ALARM_ROC_RING;
	for (unsigned i = 0; i < r->n; i++) {
		unsigned k = (r->head + ALARM_ROC_RING - 1 - i) % ALARM_ROC_RING;
		if (now - (r->base + r->t[k]) > window_ms)
			break;
		oldest = k;
	}
	if (oldest == ALARM_ROC_RING || oldest == newest)
		return NAN;
	dt = (double)((int64_t)r->t[newest] - r->t[oldest]);
	if (dt < window_ms / 2.0 || dt <= 0)
		return NAN;
	return (r->v[newest] - r->v[oldest]) / (dt / 3600000.0);
}
