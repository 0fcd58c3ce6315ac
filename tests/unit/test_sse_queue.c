/* test_sse_queue.c - the live-update hub's queues (daemon/web/sse_queue.c)
 * under a slow reader: a queue never grows past SSE_QUEUE whatever is
 * published (the publisher never waits), an overflow drops what is queued
 * but a message half-written and queues `resync` (the stream stays
 * well-formed), every message shared by several queues is freed exactly
 * when the last queue is done with it, and a cleared queue (a page that
 * went away) drops its references. */
#include "../../daemon/web/sse_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static struct sse_msg *publish(struct sse_queue *qs, size_t nq, const char *data, unsigned *dropped)
{
	struct sse_msg *m = sse_msg_new("alarm", data, strlen(data));

	for (size_t i = 0; i < nq; i++)
		*dropped += sse_queue_push(&qs[i], m);
	sse_msg_done(m); /* freed here only when no queue took it */
	return m;
}

/* Everything readable, max bytes at a time, into out (NUL-terminated). */
static size_t drain(struct sse_queue *q, char *out, size_t cap, size_t max)
{
	size_t n = 0, k;

	while (n + max < cap && (k = sse_queue_read(q, out + n, max)) > 0)
		n += k;
	out[n] = '\0';
	return n;
}

static void test_message_format_splits_lines(void)
{
	struct sse_queue q = { 0 };
	unsigned d = 0;
	char out[256];

	publish(&q, 1, "{\"a\":1}\r\nline2", &d);
	drain(&q, out, sizeof(out), 7);
	CHECK_STR(out, "event: alarm\ndata: {\"a\":1}\ndata: line2\n\n");
	CHECK_INT(sse_msg_live(), 0);
}

static void test_a_stalled_reader_stays_bounded_and_gets_resync(void)
{
	struct sse_queue q = { 0 };
	unsigned dropped = 0;
	char out[64 * 1024];
	unsigned most = 0;
	long most_live = 0;

	for (int i = 0; i < 10000; i++) {
		char data[32];
		snprintf(data, sizeof(data), "{\"n\":%d}", i);
		publish(&q, 1, data, &dropped);
		most = q.n > most ? q.n : most;
		most_live = sse_msg_live() > most_live ? sse_msg_live() : most_live;
	}
	CHECK(most <= SSE_QUEUE);
	CHECK(most_live <= SSE_QUEUE);
	CHECK(dropped >= 10000 - SSE_QUEUE);
	drain(&q, out, sizeof(out), 4096);
	CHECK(strncmp(out, "event: resync\ndata: {}\n\n", 24) == 0);
	CHECK(strstr(out, "{\"n\":9999}") != NULL);
	CHECK(strstr(out, "{\"n\":0}") == NULL);
	CHECK_INT(q.n, 0);
	CHECK_INT(sse_msg_live(), 0);
}

static void test_overflow_keeps_the_message_half_written(void)
{
	struct sse_queue q = { 0 };
	unsigned dropped = 0;
	char out[8192], first[16];
	const char *want;
	size_t n;

	publish(&q, 1, "{\"first\":true}", &dropped);
	n = sse_queue_read(&q, first, 10); /* "event: ala" written, the rest pending */
	CHECK_INT(n, 10);
	for (int i = 0; i < 3 * SSE_QUEUE; i++)
		publish(&q, 1, "{\"more\":1}", &dropped);
	memcpy(out, first, n);
	drain(&q, out + n, sizeof(out) - n, 5);
	/* the half-written message completes, then resync, then the newest */
	want = "event: alarm\ndata: {\"first\":true}\n\nevent: resync\ndata: {}\n\n";
	CHECK(strncmp(out, want, strlen(want)) == 0);
	CHECK(strstr(out + strlen(want), "event: resync") == NULL);
	CHECK(dropped > 0);
	CHECK_INT(sse_msg_live(), 0);
}

static void test_shared_messages_are_freed_with_their_last_reader(void)
{
	struct sse_queue qs[3];
	unsigned dropped = 0;
	char out[8192];
	struct sse_msg *m;

	memset(qs, 0, sizeof(qs));
	m = publish(qs, 3, "{\"x\":1}", &dropped);

	CHECK_INT(m->refs, 3);
	drain(&qs[0], out, sizeof(out), 4096);
	CHECK_INT(m->refs, 2);
	sse_queue_clear(&qs[1]); /* a page that went away */
	CHECK_INT(m->refs, 1);
	CHECK_INT(sse_msg_live(), 1);
	drain(&qs[2], out, sizeof(out), 3);
	CHECK_STR(out, "event: alarm\ndata: {\"x\":1}\n\n");
	CHECK_INT(sse_msg_live(), 0);
	/* no queue: freed by the publisher itself */
	publish(qs, 0, "{}", &dropped);
	CHECK_INT(sse_msg_live(), 0);
}

static void test_static_messages_are_never_freed(void)
{
	struct sse_queue q = { 0 };
	char out[256];

	sse_queue_push(&q, sse_msg_hello);
	sse_queue_push(&q, sse_msg_keepalive);
	drain(&q, out, sizeof(out), 100);
	CHECK_STR(out, "retry: 3000\n: coldchaind live updates\n\n: keepalive\n\n");
	CHECK_INT(sse_msg_hello->refs, -1);
	sse_queue_push(&q, sse_msg_keepalive);
	sse_queue_clear(&q);
	CHECK_INT(sse_msg_keepalive->refs, -1);
}

int main(void)
{
	tl_prog = "unit/sse_queue";
	RUN(test_message_format_splits_lines);
	RUN(test_a_stalled_reader_stays_bounded_and_gets_resync);
	RUN(test_overflow_keeps_the_message_half_written);
	RUN(test_shared_messages_are_freed_with_their_last_reader);
	RUN(test_static_messages_are_never_freed);
	return TL_DONE();
}
