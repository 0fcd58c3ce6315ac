/* sse_queue.c - the live-update hub's messages and bounded queues
 * (sse_queue.h).  Pure: the caller serialises. */
#include "sse_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

static long live; /* changed under the caller's lock, like refs */

#define STATIC_MSG(name, s)                                                                                        \
	static struct {                                                                                            \
		int refs;                                                                                          \
		size_t len;                                                                                        \
		char text[sizeof(s)];                                                                              \
	} name = { -1, sizeof(s) - 1, s }

/* retry: how long EventSource waits before it reconnects */
STATIC_MSG(msg_hello, "retry: 3000\n: coldchaind live updates\n\n");
STATIC_MSG(msg_resync, "event: resync\ndata: {}\n\n");
STATIC_MSG(msg_keepalive, ": keepalive\n\n");
struct sse_msg *const sse_msg_hello = (struct sse_msg *)(void *)&msg_hello;
struct sse_msg *const sse_msg_resync = (struct sse_msg *)(void *)&msg_resync;
struct sse_msg *const sse_msg_keepalive = (struct sse_msg *)(void *)&msg_keepalive;

struct sse_msg *sse_msg_new(const char *event, const char *data, size_t len)
{
	size_t breaks = 0, cap;
	struct sse_msg *m;
	char *p;

	for (size_t i = 0; i < len; i++)
		breaks += data[i] == '\n';
	cap = strlen(event) + len + 6 * breaks + 32;
	m = xmalloc(sizeof(*m) + cap);
	m->refs = 0;
	p = m->text + sprintf(m->text, "event: %s\ndata: ", event);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r')
			continue;
		if (data[i] == '\n') {
			memcpy(p, "\ndata: ", 7);
			p += 7;
		} else {
			*p++ = data[i];
		}
	}
	memcpy(p, "\n\n", 3);
	m->len = (size_t)(p + 2 - m->text);
	live++;
	return m;
}

void sse_msg_unref(struct sse_msg *m)
{
	if (m->refs > 0 && --m->refs == 0) {
		free(m);
		live--;
	}
}

void sse_msg_done(struct sse_msg *m)
{
	if (m->refs == 0) {
		free(m);
		live--;
	}
}

long sse_msg_live(void)
{
	return live;
}

unsigned sse_queue_push(struct sse_queue *q, struct sse_msg *m)
{
	unsigned dropped = 0;

	if (q->n + 2 > SSE_QUEUE) {
		unsigned keep = q->off > 0 ? 1 : 0;
		for (unsigned i = keep; i < q->n; i++)
			sse_msg_unref(q->q[(q->head + i) % SSE_QUEUE]);
		dropped = q->n - keep;
		q->n = keep;
		q->q[(q->head + q->n++) % SSE_QUEUE] = sse_msg_resync;
	}
	if (m->refs >= 0)
		m->refs++;
	q->q[(q->head + q->n++) % SSE_QUEUE] = m;
	return dropped;
}

size_t sse_queue_read(struct sse_queue *q, char *buf, size_t max)
{
	size_t n = 0;

	while (q->n > 0 && n < max) {
		struct sse_msg *m = q->q[q->head];
		size_t k = m->len - q->off < max - n ? m->len - q->off : max - n;
		memcpy(buf + n, m->text + q->off, k);
		n += k;
		q->off += k;
		if (q->off == m->len) {
			sse_msg_unref(m);
			q->head = (q->head + 1) % SSE_QUEUE;
			q->n--;
			q->off = 0;
		}
	}
	return n;
}

void sse_queue_clear(struct sse_queue *q)
{
	for (unsigned i = 0; i < q->n; i++)
		sse_msg_unref(q->q[(q->head + i) % SSE_QUEUE]);
	q->n = 0;
	q->off = 0;
}
