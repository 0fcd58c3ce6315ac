/* engine_collect.h - for the engine's unit tests: callbacks that keep
 * every line-protocol record and every event JSON the engine emits, so a
 * test asserts on them with no journal.  Include once, after testlib.h. */
#ifndef CC_TEST_ENGINE_COLLECT_H
#define CC_TEST_ENGINE_COLLECT_H

#include <string.h>

#include "../../daemon/engine.h"
#include "../../daemon/util.h"

static char **lines, **events;
static size_t nlines, nevents;

static void got_lines(void *arg, const char *l, size_t len, size_t n)
{
	(void)arg;
	(void)n;
	lines = xrealloc(lines, (nlines + 1) * sizeof(*lines));
	lines[nlines++] = xasprintf("%.*s", (int)len, l);
}

static void got_event(void *arg, const char *js, size_t len)
{
	(void)arg;
	events = xrealloc(events, (nevents + 1) * sizeof(*events));
	events[nevents++] = xasprintf("%.*s", (int)len, js);
}

static const struct engine_callbacks collect = { got_lines, got_event, NULL };

/* How many of v[0..n) contain a (and b, unless NULL). */
static inline size_t count_with(char **v, size_t n, const char *a, const char *b)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += strstr(v[i], a) && (!b || strstr(v[i], b));
	return k;
}

static inline void collect_free(void)
{
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	for (size_t i = 0; i < nevents; i++)
		free(events[i]);
	free(lines);
	free(events);
	lines = events = NULL;
	nlines = nevents = 0;
}

#endif
