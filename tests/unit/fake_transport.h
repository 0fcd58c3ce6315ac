/* fake_transport.h - a transport (outputs/transport.h) for the notification
 * core's tests: records what it was asked to send, answers from a script,
 * reports scripted replies; and a clock the test owns.  The transport
 * engineers can reuse it for their own core-level tests. */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../outputs/channel.h"
#include "../../outputs/transport.h"

#define FT_MAX 128
struct fake_transport {
	/* what was sent */
	char to[FT_MAX][32];
	char text[FT_MAX][2048];
	char subject[FT_MAX][256];
	int n;
	/* the script: status of the k-th send (TR_OK past its end) */
	enum transport_status script[FT_MAX];
	int64_t retry_after[FT_MAX];
	int nscript, calls;
	int exit_at_call; /* > 0: _exit(0) at this call (a crash mid-event) */
	/* replies to report at the next poll */
	const char *reply_from, *reply_text;
	int freed;
};

static void ft_send(void *t, const char *address, const struct transport_msg *m, struct transport_result *r)
{
	struct fake_transport *f = t;
	int k = f->calls++;

	if (f->exit_at_call && f->calls == f->exit_at_call)
		_exit(0);
	r->status = k < f->nscript ? f->script[k] : TR_OK;
	r->retry_after_ms = k < f->nscript ? f->retry_after[k] : 0;
	if (r->status != TR_OK) {
		snprintf(r->error, sizeof(r->error), "scripted %d", (int)r->status);
		return;
	}
	if (f->n < FT_MAX) {
		snprintf(f->to[f->n], sizeof(f->to[0]), "%s", address);
		snprintf(f->text[f->n], sizeof(f->text[0]), "%s", m->text);
		snprintf(f->subject[f->n], sizeof(f->subject[0]), "%s", m->subject ? m->subject : "");
		f->n++;
	}
}

static int ft_poll(void *t, transport_reply_fn fn, void *arg)
{
	struct fake_transport *f = t;

	if (!f->reply_from)
		return 0;
	fn(arg, f->reply_from, f->reply_text);
	f->reply_from = NULL;
	return 1;
}

static void ft_free(void *t)
{
	((struct fake_transport *)t)->freed++;
}

static const struct transport_ops fake_transport_ops = {
	.kind = "sms", .send = ft_send, .poll_replies = ft_poll, .free = ft_free,
};

/* The clock: a sleep jumps the time forward. */
static struct {
	int64_t mono_ms, wall_ns, slept_ms;
} fk;

static int64_t fk_mono(void *a)
{
	(void)a;
	return fk.mono_ms;
}

static int64_t fk_wall(void *a)
{
	(void)a;
	return fk.wall_ns;
}

static int fk_sleep(void *a, int64_t ms)
{
	(void)a;
	fk.mono_ms += ms;
	fk.wall_ns += ms * 1000000LL;
	fk.slept_ms += ms;
	return 0;
}

static const struct channel_clock fake_channel_clock = { fk_mono, fk_wall, fk_sleep, NULL };

#endif
