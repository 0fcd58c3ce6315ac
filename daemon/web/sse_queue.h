/* sse_queue.h - the pure part of the live-update hub (sse.c): messages
 * shared by reference count between the pages' bounded queues, and a queue
 * that never makes its publisher wait: when full (a slow or stalled page)
 * it drops what it holds but a message half-written and queues `resync`.
 * No locks and no I/O here: sse.c calls these under its hub mutex. */
#ifndef CC_WEB_SSE_QUEUE_H
#define CC_WEB_SSE_QUEUE_H

#include <stddef.h>

#define SSE_QUEUE 32 /* messages queued per stream; past it: resync */

/* A message, shared by every subscriber's queue: freed with its last
 * reference. */
struct sse_msg {
	int refs; /* < 0: static, never freed */
	size_t len;
	char text[];
};

struct sse_queue {
	struct sse_msg *q[SSE_QUEUE];
	unsigned head, n;
	size_t off; /* bytes of q[head] already read */
};

/* "event: E\ndata: L1\ndata: L2\n\n" with refs 0: a line break in data
 * starts a new data: line (CRs dropped), as the format requires. */
struct sse_msg *sse_msg_new(const char *event, const char *data, size_t len);
/* Drops a reference (a static message: nothing); frees at the last. */
void sse_msg_unref(struct sse_msg *m);
/* Frees m if no queue took it (after a publish to every queue). */
void sse_msg_done(struct sse_msg *m);
/* Messages allocated and not yet freed (for tests and leak checks). */
long sse_msg_live(void);

/* The static messages: `retry` + a comment, `resync`, `: keepalive`. */
extern struct sse_msg *const sse_msg_hello, *const sse_msg_resync, *const sse_msg_keepalive;

/* Queues m (a reference taken).  Returns how many queued messages were
 * dropped to make room (0 when it fitted). */
unsigned sse_queue_push(struct sse_queue *q, struct sse_msg *m);
/* Copies at most max bytes of what is queued into buf; a message fully
 * copied leaves the queue (its reference dropped).  0: nothing queued. */
size_t sse_queue_read(struct sse_queue *q, char *buf, size_t max);
/* Drops every queued message's reference. */
void sse_queue_clear(struct sse_queue *q);

#endif
