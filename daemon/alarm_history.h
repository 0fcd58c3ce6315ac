/* alarm_history.h - the episodes of each alarm (raise .. clear, with the
 * acknowledgement, shelving and escalation that happened to it) built from
 * the alert record, as the lot report shows them.  Pure: no I/O, times in
 * milliseconds passed in.  The clear time is the clear (or reset) event's
 * time, never the acknowledgement's; an episode is active at the end only
 * when no clear came at or before the end of the period. */
#ifndef CC_ALARM_HISTORY_H
#define CC_ALARM_HISTORY_H

#include <stddef.h>
#include <stdint.h>

/* One `alert` point (README: data model).  Strings are borrowed; NULL when
 * the field is absent.  Unknown event kinds are ignored. */
struct alarm_history_event {
	int64_t t_ms;
	const char *id;       /* required */
	const char *event;    /* raise, clear, return, ack, shelve, unshelve, suppress, unsuppress, reset,
			       * renotify, escalate, historical; required */
	const char *state;    /* the state after the event (active, acked, cleared_unacked, inactive, shelved) */
	const char *severity; /* the tag: after an escalate, the new severity */
	const char *sensor, *message, *user, *note;
	double value, limit;  /* NaN when absent */
	int late;             /* the point carries late=true: a historical alarm that arrived late */
	/* event "historical" (an alarm raised and cleared within a backlog of
	 * late readings, recorded once): its raise and clear times; 0 when
	 * absent (the raise is then t_ms, the clear unknown: left active). */
	int64_t raised_ms, cleared_ms;
};

enum alarm_history_end {
	ALARM_HISTORY_ACTIVE,  /* no clear at or before the end of the period */
	ALARM_HISTORY_CLEARED, /* a clear event */
	ALARM_HISTORY_RESET,   /* a latched alarm reset by an operator */
};

struct alarm_episode {
	char *id, *severity, *sensor, *message;
	double value, limit;      /* at the raise (else the episode's first event) */
	int64_t raised_ms;        /* the raise event's time; 0: not in the record given */
	int raised_before;        /* raised before the period's start (raised_ms may still be known) */
	enum alarm_history_end end;
	int64_t cleared_ms;       /* the clear or reset event's time; 0 while active */
	char *cleared_by;         /* the reset's user */
	int64_t acked_ms;         /* 0: not acknowledged (by the end of the period) */
	char *acked_by, *ack_note;
	int64_t shelved_ms;       /* first shelve that covered the episode; 0: never shelved */
	char *shelved_by;
	int late;                 /* one of its events carries late=true */
};

struct alarm_history {
	struct alarm_episode *ep;
	size_t n;
};

/* Builds the episodes of ev[0..n) (any order: sorted here by time, events
 * at the same time kept in the order given) that overlap the period
 * [from_ms, end_ms]: events after end_ms are ignored, episodes that ended
 * before from_ms are dropped.  Events before from_ms may be given (e.g. the
 * raise of an alarm still active when the period began).  An event other
 * than raise that implies the alarm is active (return, renotify, escalate,
 * an ack leaving it active or shelved; a clear or reset) with no episode
 * before it opens one whose raise is unknown (raised_ms 0, raised_before
 * 1).  Episodes come out in the order their first event came.  0, or
 * -EINVAL (out or ev NULL with n > 0, end_ms < from_ms); *out is then empty.
 * Free with alarm_history_free(). */
int alarm_history_build(const struct alarm_history_event *ev, size_t n, int64_t from_ms, int64_t end_ms,
			struct alarm_history *out);
void alarm_history_free(struct alarm_history *h);
/* What one episode owns (an episode moved out of a history). */
void alarm_history_free_episode(struct alarm_episode *e);

#endif
