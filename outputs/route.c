/* route.c - who hears of an alert event on one channel (route.h). */
#include "route.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../daemon/config.h"

static void copy_str(const cJSON *root, const char *key, char *dst, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	dst[0] = '\0';
	if (cJSON_IsString(v))
		snprintf(dst, size, "%s", v->valuestring);
}

static int sev_of(const char *s)
{
	if (strcmp(s, "info") == 0)
		return CC_SEV_INFO;
	if (strcmp(s, "warning") == 0)
		return CC_SEV_WARNING;
	return CC_SEV_CRITICAL; /* a filter never drops what it cannot read */
}

int route_event_parse(const char *json, size_t len, struct route_event *ev)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *v;

	memset(ev, 0, sizeof(*ev));
	if (!root)
		return -EINVAL;
	copy_str(root, "id", ev->id, sizeof(ev->id));
	copy_str(root, "room", ev->room, sizeof(ev->room));
	copy_str(root, "rule", ev->rule, sizeof(ev->rule));
	copy_str(root, "event", ev->event, sizeof(ev->event));
	copy_str(root, "state", ev->state, sizeof(ev->state));
	copy_str(root, "severity", ev->severity, sizeof(ev->severity));
	copy_str(root, "user", ev->user, sizeof(ev->user));
	copy_str(root, "note", ev->note, sizeof(ev->note));
	copy_str(root, "message", ev->message, sizeof(ev->message));
	ev->sev = sev_of(ev->severity);
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(root, "value")))
		ev->has_value = 1, ev->value = v->valuedouble;
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(root, "limit")))
		ev->has_limit = 1, ev->limit = v->valuedouble;
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(root, "time_ns")))
		ev->time_ns = (int64_t)v->valuedouble;
	cJSON_Delete(root);
	return ev->id[0] && ev->event[0] ? 0 : -EINVAL;
}

enum route_class route_classify(const struct route_event *ev)
{
	static const char *const handled[] = { "ack", "return", "clear", "reset" };

	if (strcmp(ev->event, "raise") == 0)
		return RC_RAISE;
	if (strcmp(ev->event, "renotify") == 0 || strcmp(ev->event, "escalate") == 0)
		return RC_STEP;
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		if (strcmp(ev->event, handled[i]) == 0)
			return RC_HANDLED;
	return RC_SKIP;
}

int route_urgent(const struct route_event *ev)
{
	enum route_class c = route_classify(ev);

	return ev->sev == CC_SEV_CRITICAL && (c == RC_RAISE || c == RC_STEP);
}

/* Local minutes after midnight and seconds into the minute. */
static int local_min(int64_t now_ns, int *sec)
{
	time_t t = (time_t)(now_ns / 1000000000LL);
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		*sec = 0;
		return 0;
	}
	*sec = tm.tm_sec;
	return tm.tm_hour * 60 + tm.tm_min;
}

int64_t route_next_local(int at_min, int64_t now_ns)
{
	int sec, cur = local_min(now_ns, &sec);
	int delta = ((at_min - cur) % 1440 + 1440) % 1440;
	int64_t base = (now_ns / 1000000000LL - sec) * 1000000000LL;

	if (delta == 0)
		delta = 1440;
	/* a day of 1440 minutes: a DST change shifts it by its hour (Vietnam has none) */
	return base + (int64_t)delta * 60 * 1000000000LL;
}

int64_t route_quiet_until(const struct cc_recipient_conf *r, int64_t now_ns)
{
	int sec, cur, a = r->quiet_start_min, b = r->quiet_end_min, in;

	if (a < 0 || b < 0 || a == b)
		return 0;
	cur = local_min(now_ns, &sec);
	in = a < b ? cur >= a && cur < b : cur >= a || cur < b; /* across midnight */
	return in ? route_next_local(b, now_ns) : 0;
}

static int in_list(char *const *v, size_t n, const char *s)
{
	if (!n)
		return 1; /* no filter */
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int route_matches(const struct cc_route_conf *rt, const char *channel, const struct route_event *ev)
{
	int via = 0;

	for (size_t i = 0; i < rt->nvia; i++)
		via |= strcmp(rt->via[i], channel) == 0;
	return via && ev->sev >= rt->min_severity && in_list(rt->rooms, rt->nrooms, ev->room) &&
	       in_list(rt->kinds, rt->nkinds, ev->rule);
}

/* Adds recipient name (once: the earliest delivery wins). */
static size_t add_target(const struct cc_config *cfg, const struct cc_route_conf *rt, const char *name,
			 const char *kind, const struct route_event *ev, int64_t now_ns, struct route_target *out,
			 size_t n, size_t max)
{
	const struct cc_recipient_conf *r = config_recipient(cfg, name);
	const char *addr = r ? config_recipient_address(r, kind) : NULL;
	struct route_target t = { r, addr, r && r->lang ? r->lang : "vi", 0, 0 };

	if (!addr)
		return n; /* not reachable on this channel: another of the route's channels serves them */
	if (!route_urgent(ev)) {
		int64_t q = route_quiet_until(r, now_ns);
		if (rt->digest) {
			t.hold_until_ns = route_next_local(rt->digest_at_min, now_ns);
			t.digest = 1;
		} else if (q) {
			t.hold_until_ns = q;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i].r != r)
			continue;
		if (t.hold_until_ns < out[i].hold_until_ns || (out[i].hold_until_ns && !t.hold_until_ns))
			out[i] = t;
		return n;
	}
	if (n < max)
		out[n++] = t;
	return n;
}

size_t route_plan(const struct cc_config *cfg, const char *channel, const char *kind, const struct route_event *ev,
		  int steps, int64_t now_ns, struct route_target *out, size_t max)
{
	enum route_class c = route_classify(ev);
	size_t n = 0;
	int told_chain;

	if (c == RC_SKIP)
		return 0;
	/* chain[k-1] joins at the k-th step while unacknowledged; the handled
	 * events reach everyone told before them */
	told_chain = c == RC_RAISE ? 0 : c == RC_STEP ? steps + 1 : steps;
	if (c == RC_STEP && strcmp(ev->state, "acked") == 0)
		told_chain = steps;
	for (size_t i = 0; i < cfg->nroutes; i++) {
		const struct cc_route_conf *rt = &cfg->routes[i];
		if (!route_matches(rt, channel, ev))
			continue;
		for (size_t k = 0; k < rt->nto; k++)
			n = add_target(cfg, rt, rt->to[k], kind, ev, now_ns, out, n, max);
		for (size_t k = 0; k < rt->nchain && (int)k < told_chain; k++)
			n = add_target(cfg, rt, rt->chain[k], kind, ev, now_ns, out, n, max);
	}
	return n;
}
