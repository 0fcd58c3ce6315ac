/* alarm_history.c - alarm episodes from the alert record (see the header):
 * the analysis behind the lot report's alarm rows, kept apart from the
 * report's InfluxDB and output code so every order of events can be tested. */
#include "alarm_history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct ah_order {
	int64_t t;
	size_t i;
};

/* What the history knows of one alarm id while it walks the events. */
struct ah_alarm {
	const char *id;
	size_t last;          /* its latest episode, SIZE_MAX: none yet */
	const char *shelver;  /* shelved by (until an unshelve), else NULL */
	int64_t shelved_ms;
};

static int ah_cmp_order(const void *a, const void *b)
{
	const struct ah_order *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static char *ah_dup(const char *s) { return s ? xstrdup(s) : NULL; }

static int ah_is(const char *ev, const char *name) { return strcmp(ev, name) == 0; }

static struct ah_alarm *ah_alarm_find(struct ah_alarm **tab, size_t *n, const char *id)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*tab)[i].id, id) == 0)
			return &(*tab)[i];
	*tab = xrealloc(*tab, (*n + 1) * sizeof(**tab));
	(*tab)[*n] = (struct ah_alarm){ .id = id, .last = SIZE_MAX };
	return &(*tab)[(*n)++];
}

void alarm_history_free_episode(struct alarm_episode *e)
{
	free(e->id);
	free(e->severity);
	free(e->sensor);
	free(e->message);
	free(e->cleared_by);
	free(e->acked_by);
	free(e->ack_note);
	free(e->shelved_by);
}

/* A new episode of a's alarm, opened by event e (a raise, or the first
 * event seen of an alarm raised before the record given). */
static struct alarm_episode *ah_open(struct alarm_history *h, struct ah_alarm *a, const struct alarm_history_event *e)
{
	struct alarm_episode *ep;

	h->ep = xrealloc(h->ep, (h->n + 1) * sizeof(*h->ep));
	ep = &h->ep[h->n];
	memset(ep, 0, sizeof(*ep));
	ep->id = xstrdup(e->id);
	ep->severity = ah_dup(e->severity);
	ep->sensor = ah_dup(e->sensor);
	ep->message = ah_dup(e->message);
	ep->value = e->value;
	ep->limit = e->limit;
	ep->end = ALARM_HISTORY_ACTIVE;
	if (ah_is(e->event, "raise"))
		ep->raised_ms = e->t_ms;
	if (a->shelver) {
		ep->shelved_by = xstrdup(a->shelver);
		ep->shelved_ms = a->shelved_ms;
	}
	a->last = h->n++;
	return ep;
}

static void ah_close(struct alarm_episode *ep, const struct alarm_history_event *e)
{
	if (ah_is(e->event, "reset")) {
		ep->end = ALARM_HISTORY_RESET;
		ep->cleared_by = ah_dup(e->user);
	} else {
		ep->end = ALARM_HISTORY_CLEARED;
	}
	ep->cleared_ms = e->t_ms;
}

/* One event against its alarm's latest episode. */
static void ah_apply(struct alarm_history *h, struct ah_alarm *a, const struct alarm_history_event *e)
{
	struct alarm_episode *ep = a->last != SIZE_MAX ? &h->ep[a->last] : NULL;
	int open = ep && ep->end == ALARM_HISTORY_ACTIVE;
	const char *ev = e->event;

	if (ah_is(ev, "historical")) {
		/* A whole past episode in one event: its own row, beside (never
		 * ending) an episode of the alarm that is live. */
		size_t live = a->last;
		ep = ah_open(h, a, e);
		ep->raised_ms = e->raised_ms ? e->raised_ms : e->t_ms;
		if (e->cleared_ms) {
			ep->end = ALARM_HISTORY_CLEARED;
			ep->cleared_ms = e->cleared_ms;
		}
		ep->late = 1;
		if (open)
			a->last = live;
		return;
	} else if (ah_is(ev, "raise")) {
		/* A raise of an alarm already active (a lost clear): the earlier
		 * raise stands, the excursion is not shortened. */
		if (!open)
			ep = ah_open(h, a, e);
	} else if (ah_is(ev, "clear") || ah_is(ev, "reset")) {
		if (open)
			ah_close(ep, e);
		else if (!ep)
			ah_close(ep = ah_open(h, a, e), e); /* raised before the record */
		else
			return; /* a second clear of an ended episode */
	} else if (ah_is(ev, "ack")) {
		/* The latest episode, active or cleared-unacknowledged; an ack
		 * leaving the alarm inactive with no episode seen ended one that
		 * cleared before the record. */
		if (!ep) {
			if (e->state && (ah_is(e->state, "inactive") || ah_is(e->state, "cleared_unacked")))
				return;
			ep = ah_open(h, a, e);
		}
		if (ep->acked_ms)
			return;
		ep->acked_ms = e->t_ms;
		ep->acked_by = ah_dup(e->user);
		ep->ack_note = ah_dup(e->note);
	} else if (ah_is(ev, "shelve")) {
		a->shelver = e->user ? e->user : "?";
		a->shelved_ms = e->t_ms;
		if (!open)
			return;
		if (!ep->shelved_by) {
			ep->shelved_by = xstrdup(a->shelver);
			ep->shelved_ms = e->t_ms;
		}
	} else if (ah_is(ev, "unshelve")) {
		a->shelver = NULL;
		return;
	} else if (ah_is(ev, "escalate") || ah_is(ev, "renotify") || ah_is(ev, "return")) {
		if (!open)
			ep = ah_open(h, a, e); /* active, raised before the record */
		if (ah_is(ev, "escalate") && e->severity) {
			free(ep->severity);
			ep->severity = xstrdup(e->severity);
		}
	} else {
		return; /* suppress, unsuppress, kinds this version does not know */
	}
	if (e->late)
		ep->late = 1;
}

int alarm_history_build(const struct alarm_history_event *ev, size_t n, int64_t from_ms, int64_t end_ms,
			struct alarm_history *out)
{
	struct ah_order *ord = NULL;
	struct ah_alarm *tab = NULL;
	size_t ntab = 0, k = 0;

	if (!out)
		return -EINVAL;
	out->ep = NULL;
	out->n = 0;
	if ((!ev && n) || end_ms < from_ms)
		return -EINVAL;
	if (n) {
		ord = xmalloc(n * sizeof(*ord));
		for (size_t i = 0; i < n; i++)
			ord[i] = (struct ah_order){ ev[i].t_ms, i };
		qsort(ord, n, sizeof(*ord), ah_cmp_order);
	}
	for (size_t j = 0; j < n; j++) {
		const struct alarm_history_event *e = &ev[ord[j].i];
		if (e->t_ms > end_ms)
			break;
		if (!e->id || !e->event)
			continue;
		ah_apply(out, ah_alarm_find(&tab, &ntab, e->id), e);
	}
	/* Keep what overlaps the period, in order. */
	for (size_t i = 0; i < out->n; i++) {
		struct alarm_episode *ep = &out->ep[i];
		if (ep->end != ALARM_HISTORY_ACTIVE && ep->cleared_ms < from_ms) {
			alarm_history_free_episode(ep);
			continue;
		}
		ep->raised_before = ep->raised_ms == 0 || ep->raised_ms < from_ms;
		out->ep[k++] = *ep;
	}
	out->n = k;
	free(ord);
	free(tab);
	return 0;
}

void alarm_history_free(struct alarm_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		alarm_history_free_episode(&h->ep[i]);
	free(h->ep);
	h->ep = NULL;
	h->n = 0;
}
