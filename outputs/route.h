/* route.h - routing of alert events to people (issue 16), pure: given an
 * engine alert event, the configuration, one channel output and the time,
 * who gets it on that channel, at which address, in which language, now or
 * held until when.  No I/O, no clock of its own (the local time is the
 * process's TZ, which main.c sets from the site's timezone).  Private to
 * outputs/ and its tests. */
#ifndef CC_OUTPUT_ROUTE_H
#define CC_OUTPUT_ROUTE_H

#include <stddef.h>
#include <stdint.h>

struct cc_config;
struct cc_recipient_conf;

/* The fields of an engine alert event (daemon/engine/publish.c) routing and
 * messages use; strings truncated to their buffers. */
struct route_event {
	char id[96], room[64], rule[48], event[16], state[24], severity[12], user[64], note[160], message[256];
	int sev;               /* enum cc_severity (unknown: critical) */
	int has_value, has_limit;
	double value, limit;
	int64_t time_ns;
};
/* 0, or -EINVAL when json is not an alert event (no id or event). */
int route_event_parse(const char *json, size_t len, struct route_event *ev);

/* What an event is to the people it reaches. */
enum route_class {
	RC_SKIP,    /* not for people: shelve, suppress, historical, ... */
	RC_RAISE,   /* raise: the route's `to` */
	RC_STEP,    /* renotify/escalate: to and chain[0..k-1] at the k-th */
	RC_HANDLED, /* ack, return, clear, reset: whoever was told */
};
enum route_class route_classify(const struct route_event *ev);
/* Urgent: sent at once even in quiet hours and past a digest: a critical
 * raise, renotification or escalation (an ack or return of it is news, not
 * an emergency: it waits for the morning). */
int route_urgent(const struct route_event *ev);

struct route_target {
	const struct cc_recipient_conf *r;
	const char *address;   /* on this channel */
	const char *lang;      /* "vi" or "en" */
	int64_t hold_until_ns; /* 0: now; else not before (quiet hours' end, the digest time) */
	int digest;            /* 1: goes into the daily digest due at hold_until_ns */
};

#define ROUTE_MAX_TARGETS 64

/*
 * The recipients of ev on channel output `channel` (of kind `kind`:
 * "email", "telegram", "zalo", "sms"), at most max, each once (several
 * routes to one person: the earliest delivery wins).  steps: how many
 * renotify/escalate events of this alarm came before ev (the caller counts
 * them per alarm).  Returns how many.
 */
size_t route_plan(const struct cc_config *cfg, const char *channel, const char *kind, const struct route_event *ev,
		  int steps, int64_t now_ns, struct route_target *out, size_t max);

/* Quiet hours of r at now_ns (site time): 0 when outside them (or none),
 * else the end of the quiet hours (ns). */
int64_t route_quiet_until(const struct cc_recipient_conf *r, int64_t now_ns);
/* The next time (ns, > now_ns) the local clock reads at_min minutes after midnight. */
int64_t route_next_local(int at_min, int64_t now_ns);

#endif
