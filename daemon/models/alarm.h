/* alarm.h - the alarm state machine of ISA-18.2 / OPC UA Part 9, pure: no
 * I/O, time passed in (milliseconds, any epoch), every transition returned
 * as an event.  Also the helpers the engine needs around it: flood
 * detection, a notification rate limiter, a rate-of-change window.
 *
 * States (alarm_state()): inactive, active-unacknowledged, active-
 * acknowledged, cleared-unacknowledged.  Orthogonal to them: shelved (timed,
 * expires by itself), suppressed (by design, e.g. defrost), latched (held
 * active after the condition returned, until a reset).  Shelved and
 * suppressed alarms are still evaluated and their transitions recorded;
 * their events carry annunciate = 0. */
#ifndef CC_ALARM_H
#define CC_ALARM_H

#include <stddef.h>
#include <stdint.h>

enum alarm_kind {
	ALARM_HIGH,      /* value > limit; returns below limit - deadband */
	ALARM_HIGH_HIGH, /* same, as a second, higher level */
	ALARM_LOW,       /* value < limit; returns above limit + deadband */
	ALARM_LOW_LOW,
	ALARM_COND,      /* a boolean condition the caller computes */
};

enum alarm_severity { ALARM_SEV_INFO, ALARM_SEV_WARNING, ALARM_SEV_CRITICAL };

enum alarm_state { ALARM_INACTIVE, ALARM_ACTIVE_UNACKED, ALARM_ACTIVE_ACKED, ALARM_CLEARED_UNACKED };

enum alarm_ev {
	AEV_RAISE,      /* became active (after the on-delay) */
	AEV_CLEAR,      /* became inactive (after the off-delay, or a reset) */
	AEV_RETURN,     /* condition returned to normal, but the alarm is latched */
	AEV_ACK,
	AEV_SHELVE,
	AEV_UNSHELVE,   /* by an operator, or expired (user "system") */
	AEV_SUPPRESS,
	AEV_UNSUPPRESS,
	AEV_RESET,      /* a latched alarm reset by an operator */
	AEV_RENOTIFY,   /* still active and unacknowledged */
	AEV_ESCALATE,   /* severity raised after escalate_ms unacknowledged */
	AEV_HISTORICAL, /* raised and cleared while late: one record, never annunciated */
};

/* Field order packs both structs (a hub keeps 60,000 alarms): the enums
 * and flags together, the 8-byte fields together. */
struct alarm_conf {
	enum alarm_kind kind;
	enum alarm_severity severity;
	double limit;
	double deadband;      /* >= 0 */
	int64_t on_delay_ms;  /* condition must hold this long to raise */
	int64_t off_delay_ms; /* ... and be gone this long to clear */
	int64_t renotify_ms;  /* 0: never */
	int64_t escalate_ms;  /* 0: never */
	enum alarm_severity escalate_to;
	int latched;
};

/* c points to a conf the caller keeps alive as long as the alarm: a hub's
 * 60,000 alarms share a few hundred (the engine interns them, build.c). */
struct alarm {
	const struct alarm_conf *c;
	int64_t cond_since_ms; /* when cond took its current value */
	int64_t active_since_ms;
	int64_t shelved_until_ms; /* 0: not shelved */
	int64_t last_notify_ms;
	int64_t notified_ms; /* when the raise was announced: escalation counts from here */
	double value;            /* last value evaluated (NaN for none) */
	enum alarm_severity sev; /* current (escalation raises it) */
	/* flags, 0 or 1 */
	int8_t cond;             /* the condition (with deadband) as last evaluated */
	int8_t active, acked, held; /* held: latched after the condition returned */
	int8_t escalated;
	int8_t suppressed;
	/* Late data (a backlog of readings with their own, past, times): the
	 * caller sets late while it evaluates such readings.  A raise then is
	 * held (pending, not announced); if the condition clears while pending
	 * the whole alarm is one AEV_HISTORICAL event; if it is still active
	 * when the readings have caught up, alarm_annunciate() announces it.
	 * No re-notification or escalation runs while late or pending. */
	int8_t late;
	int8_t pending;
};

struct alarm_event {
	enum alarm_ev type;
	int64_t ts_ms;
	enum alarm_state state; /* after the transition */
	enum alarm_severity sev;
	double value;
	int annunciate; /* 0 while shelved or suppressed */
	const char *user; /* operator actions; "system" for timers; else NULL */
	const char *note;
	int late;         /* the event's time lies in the past (late data) */
	int64_t since_ms; /* when the alarm became active (AEV_HISTORICAL: its raise time) */
};

#define ALARM_MAX_EVENTS 4 /* most events one call can produce */

/* A negative or NaN deadband counts as 0. */
void alarm_init(struct alarm *a, const struct alarm_conf *c);
enum alarm_state alarm_state(const struct alarm *a);
int alarm_is_shelved(const struct alarm *a, int64_t now_ms);

/* Evaluates a value (level kinds) and runs the timers; returns the number
 * of events written to ev (at most ALARM_MAX_EVENTS).  NaN is ignored
 * (the timers still run): a missing value is the stale/fault alarms' job. */
size_t alarm_eval_value(struct alarm *a, int64_t now_ms, double v, struct alarm_event *ev);
/* Same for ALARM_COND: cond is the condition, v is reported with it. */
size_t alarm_eval_cond(struct alarm *a, int64_t now_ms, int cond, double v, struct alarm_event *ev);
/* Timers only: on/off-delay expiry, shelve expiry, re-notify, escalation. */
size_t alarm_tick(struct alarm *a, int64_t now_ms, struct alarm_event *ev);

/* Announces a raise held while late (pending): one AEV_RAISE event at the
 * raise time, late = 1, annunciated; re-notification and escalation count
 * from now.  Returns the number of events (0 when nothing is pending). */
size_t alarm_annunciate(struct alarm *a, int64_t now_ms, struct alarm_event *ev);

/* Operator actions: 0 and one event in *ev, or -errno:
 * -EALREADY nothing to acknowledge / not shelved / not suppressed,
 * -EBUSY reset while the condition still holds, -EINVAL bad argument. */
int alarm_ack(struct alarm *a, int64_t now_ms, const char *user, const char *note, struct alarm_event *ev);
int alarm_shelve(struct alarm *a, int64_t now_ms, int64_t dur_ms, const char *user, const char *note,
		 struct alarm_event *ev);
int alarm_unshelve(struct alarm *a, int64_t now_ms, const char *user, const char *note, struct alarm_event *ev);
int alarm_reset(struct alarm *a, int64_t now_ms, const char *user, const char *note, struct alarm_event *ev);
int alarm_suppress(struct alarm *a, int64_t now_ms, int on, const char *why, struct alarm_event *ev);

const char *alarm_state_name(enum alarm_state s);
const char *alarm_ev_name(enum alarm_ev e);
const char *alarm_severity_name(enum alarm_severity s);
int alarm_severity_parse(const char *s, enum alarm_severity *out);

/* Flood: more than start annunciated raises within window_ms starts a
 * flood; fewer than end within the window ends it (ISA-18.2: 10 and 5 in
 * 10 min). */
#define ALARM_FLOOD_RING 64
struct alarm_flood {
	int64_t window_ms;
	unsigned start, end;
	int active;
	int64_t ring[ALARM_FLOOD_RING];
	unsigned head, n;
};
void alarm_flood_init(struct alarm_flood *f, int64_t window_ms, unsigned start, unsigned end);
void alarm_flood_note(struct alarm_flood *f, int64_t now_ms);
/* +1 when a flood starts, -1 when it ends, 0 otherwise. */
int alarm_flood_update(struct alarm_flood *f, int64_t now_ms);
unsigned alarm_flood_count(const struct alarm_flood *f, int64_t now_ms);

/* Token bucket: burst notifications at once, then one per interval_ms. */
struct alarm_ratelimit {
	double tokens, burst;
	int64_t interval_ms, last_ms;
	uint64_t dropped;
};
void alarm_ratelimit_init(struct alarm_ratelimit *r, unsigned burst, int64_t interval_ms);
int alarm_ratelimit_allow(struct alarm_ratelimit *r, int64_t now_ms);

/* Rate of change over a window: the slope between the oldest reading still
 * inside the window and the newest, per hour.  NaN until the readings span
 * at least half the window. */
#define ALARM_ROC_RING 128
struct alarm_roc {
	/* times as ms from base (issue 18: every room of a hub has one: 2 KB
	 * with 64-bit times, 1.5 KB so); a reading more than 2^31 ms (24.8
	 * days, past any window) from base moves base to it and drops the
	 * readings it can no longer tell */
	int64_t base;
	int32_t t[ALARM_ROC_RING];
	double v[ALARM_ROC_RING];
	unsigned head, n;
};
void alarm_roc_add(struct alarm_roc *r, int64_t now_ms, double v);
double alarm_roc_per_h(const struct alarm_roc *r, int64_t now_ms, int64_t window_ms);

#endif
