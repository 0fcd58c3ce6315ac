/* channel.h - the notification core (issue 16): one output per channel to
 * people (outputs.email/telegram/zalo/sms), an event backend that routes
 * each alert event (route.c), renders it per recipient (message.c) and
 * sends it through the channel's transport (transport.h), exactly once per
 * (event, recipient) across crashes, rate-limited, with quiet hours,
 * digests and acknowledgements by reply.  Private to outputs/ and its
 * tests; the daemon sees output.h's output_channel_* functions. */
#ifndef CC_OUTPUT_CHANNEL_H
#define CC_OUTPUT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "transport.h"

struct cc_config;
struct cc_channel_common;
struct channel;

/* The time a channel reads and waits on (tests replace it).  mono_ms: for
 * the rate limit; wall_ns: for quiet hours, digests and "since"; sleep_ms:
 * waits for a token (returns early, non-zero, when the channel is woken to
 * stop). */
struct channel_clock {
	int64_t (*mono_ms)(void *arg);
	int64_t (*wall_ns)(void *arg);
	int (*sleep_ms)(void *arg, int64_t ms);
	void *arg;
};

/* Bounds. */
#define CHANNEL_MAX_HELD 20       /* held messages per recipient; older ones become "and K more" */
#define CHANNEL_MAX_ALARMS 256    /* alarms remembered for chains, "since" and short ids */
#define CHANNEL_STATE_MAX (8 << 20) /* the state file is refused past this size (64 people x 20 held x 2 KiB fits) */
#define CHANNEL_REPLY_EVERY_MS 5000
#define CHANNEL_ANSWER_EVERY_MS 60000 /* "no active alarm has the id": at most one answer a minute per channel */

/* A channel around transport t (ops; the channel frees it) for the channel
 * output cc (its kind: "email", ...), with the routes and recipients of cfg
 * (copied), its progress kept in state_dir/channel-NAME.state.  clk NULL:
 * the real clocks. */
struct channel *channel_new(const struct cc_config *cfg, const struct cc_channel_common *cc, const char *kind,
			    const struct transport_ops *ops, void *t, const char *state_dir,
			    const struct channel_clock *clk);
void channel_free(struct channel *ch);
/* The backend's calls (struct output_ops), callable without an output. */
void channel_send_event(struct channel *ch, const char *data, size_t len, struct send_result *r);
void channel_tick(struct channel *ch);
/* A reply as a transport reports it (tests call it directly). */
void channel_reply(void *ch, const char *address, const char *text);

struct channel_stats {
	uint64_t sent, refused, retried, held, replies, acks_by_reply, unknown_replies, held_dropped, unknown_answered;
	size_t held_now;
};
void channel_get_stats(struct channel *ch, struct channel_stats *st);

/* Sends a test message to every recipient of route (on this channel)
 * synchronously; appends "RECIPIENT CHANNEL accepted|error: ..." lines to
 * out (size).  Returns the number of failures, -ENOENT when the route does
 * not use this channel. */
int channel_test(struct channel *ch, const char *route, char *out, size_t size);

extern const struct output_ops channel_output_ops;
extern const struct output_kind output_kind_channels;

#endif
