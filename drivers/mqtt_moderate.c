/* mqtt_moderate.c - the input client's interrupt moderation: how long a
 * turn of its network thread waits for more messages before it reads.
 * Loop thread only; turn_poll (mqtt.c) waits as decided here. */
#include "mqtt.h"
#include "mqtt_int.h"

#include <stdatomic.h>

#include "mqtt_conn.h"

/*
 * Issue 18, the hub.  A hub's 10,000 msg/s come
 * evenly spread, one message at a time, and a turn of this thread costs
 * far more than a message does: the poll and the context switch out of it
 * and back, the read, the journal record, the PUBACKs' write (which on
 * loopback runs the broker's receive path in this thread) - about 26 µs a
 * turn against 3.4 µs a message on issue 18's 2-core VM.  So while the
 * stream is busy (at least MOD_RATE_MIN msg/s over the last window of
 * MOD_WINDOW_US) and its reads bring fewer than half of the aim unasked
 * (a stream of clumps needs no wait), a turn waits for the aim,
 * MOD_BURST_AIM messages (more at QoS 0, below): the socket's
 * SO_RCVLOWAT is set to that many messages' bytes (the window's average)
 * and the poll waits for them at most as long as they take to come at the
 * window's rate, and never more than MOD_WAIT_MAX_US.  A stream that
 * brings them sooner (a clump, a backlog, a saturated stream) is read at
 * once; an idle or slow one is never delayed; a busy one delays a sample -
 * and the alarm it raises - by at most the wait.  The mark goes back to one
 * byte when a window is not busy; after MOD_EMPTY_OFF moderated polls in a
 * row ran out with nothing (the stream paused), until it goes on; and for
 * MOD_HOLD_WINDOWS when MOD_SLOW_WINDOWS moderated windows in a row read
 * less than three quarters of the rate the moderation began at (after two
 * busy windows, at the slower one's rate: the first may be a backlog's) -
 * a broker that keeps fewer than MOD_BURST_AIM messages in flight until
 * their PUBACKs, where waiting for more would only slow the stream.
 * A window of QoS 0 messages only aims higher: what MOD_TURN_US brings at
 * its rate, when that is more than MOD_BURST_AIM (up to MOD_BURST_AIM_MAX).
 * No broker holds QoS 0 messages back for acknowledgements, so a longer
 * wait cannot slow such a stream; on a saturated one (a packhouse's box
 * flat out, where influxd and the broker share the cores: issue 18 target
 * 6) a turn is the cost too: with the aim at MOD_BURST_AIM, reads of
 * 16-36 messages at 200,000-267,000 msg/s; with 500 µs' worth, 100-120,
 * and coldchaind's CPU in bench_mqtt_e2e.sh's QoS 0 run went from
 * 1.60-1.70 s to 0.91-0.95 s.  The wait is never longer than a 16,000
 * msg/s stream's with the aim of 8.  QoS 1 keeps MOD_BURST_AIM: a
 * broker's in-flight window (mosquitto's max_inflight_messages, 20 by
 * default) would hold a larger aim back.
 * Nothing is acknowledged sooner or later than its journal record: the
 * wait is before a turn's read, after the last turn's PUBACKs went out.
 */
#define MOD_WAIT_MAX_US 1000
#define MOD_BURST_AIM 8
#define MOD_TURN_US 500       /* a QoS 0 window's turn: its aim, at its rate */
#define MOD_BURST_AIM_MAX 256 /* a quarter of a read burst's BATCH_MSGS */
#define MOD_WINDOW_US 100000
#define MOD_RATE_MIN 2000 /* msg/s */
#define MOD_LOWAT_MAX 65536
#define MOD_EMPTY_OFF 4
#define MOD_SLOW_WINDOWS 3
#define MOD_HOLD_WINDOWS 50

/* Moderation on (wait_us > 0, the socket's mark at lowat bytes) or off (0, 1). */
static void moderate_set(struct mqtt_client *c, int wait_us, int lowat)
{
	c->mod_wait_us = wait_us;
	if (lowat == c->mod_lowat || !c->conn)
		return;
	if (mqtt_conn_set_lowat(c->conn, lowat) < 0) {
		/* the poll would not wait for the messages: never delay them */
		c->mod_wait_us = c->mod_want_us = 0;
		lowat = 1;
	}
	c->mod_lowat = lowat;
}

/* A turn's aim in messages, for a window of RATE msg/s with Q1 QoS 1 ones. */
static uint64_t moderate_aim(uint64_t rate, uint64_t q1)
{
	uint64_t aim = rate * MOD_TURN_US / 1000000;

	if (q1 || aim <= MOD_BURST_AIM)
		return MOD_BURST_AIM;
	return aim < MOD_BURST_AIM_MAX ? aim : MOD_BURST_AIM_MAX;
}

/* The end of a rate window: moderation on or off for the next one. */
static void moderate_window(struct mqtt_client *c, int64_t span)
{
	uint64_t n = c->nread - c->mod_win_n, bytes = c->rbytes - c->mod_win_bytes;
	uint64_t rate = n * 1000000 / (uint64_t)span; /* msg/s */
	uint64_t aim = moderate_aim(rate, c->nread_q1 - c->mod_win_q1);
	uint64_t wakes = atomic_load_explicit(&c->read_wakes, memory_order_relaxed), turns = wakes - c->mod_win_wakes;
	/* a window that ran long (a pause) is judged as idle */
	int busy = span < 2 * MOD_WINDOW_US && rate >= MOD_RATE_MIN;
	int on = c->mod_want_us > 0; /* the window that ends was moderated */

	/* slower in a moderated window: a stall of this thread (the engine's
	 * lock, a state file) is caught up in the next; a broker that holds
	 * messages back is slow in every moderated window (with unmoderated
	 * ones between when it fell below MOD_RATE_MIN) */
	if (c->mod_win_moderated)
		c->mod_slow = rate * 4 < c->mod_rate * 3 ? c->mod_slow + 1 : 0;
	if (c->mod_slow >= MOD_SLOW_WINDOWS) {
		c->mod_hold = MOD_HOLD_WINDOWS; /* waiting slowed the stream */
		c->mod_slow = 0;
		atomic_fetch_add_explicit(&c->mod_held, 1, memory_order_relaxed);
	} else if (c->mod_hold) {
		c->mod_hold--;
	}
	c->mod_want_us = 0;
	c->mod_want_lowat = 1;
	if (!busy || c->mod_hold) {
		c->mod_rate = 0; /* it begins again after two busy windows */
	} else if (!on && n >= turns * (aim / 2)) {
		c->mod_rate = 0; /* its reads bring half the aim unasked (clumps): little to gain */
	} else if (!on && !c->mod_rate) {
		c->mod_rate = rate; /* the first: a backlog's (after a reconnect) outruns the stream */
	} else {
		uint64_t w = aim * 1000000 / rate, lo = aim * bytes / n;

		if (!on && rate < c->mod_rate)
			c->mod_rate = rate; /* the rate the moderation must keep */
		c->mod_want_us = w < MOD_WAIT_MAX_US ? (int)w : MOD_WAIT_MAX_US;
		c->mod_want_lowat = lo > MOD_LOWAT_MAX ? MOD_LOWAT_MAX : lo < 1 ? 1 : (int)lo;
	}
	moderate_set(c, c->mod_want_us, c->mod_want_lowat);
	c->mod_win_moderated = c->mod_wait_us > 0; /* the next window runs moderated throughout */
	c->mod_win_n = c->nread;
	c->mod_win_bytes = c->rbytes;
	c->mod_win_q1 = c->nread_q1;
	c->mod_win_wakes = wakes;
}

/* A new socket: not moderated, its mark at one byte. */
void mqtt_moderate_reset(struct mqtt_client *c)
{
	c->mod_wait_us = c->mod_want_us = c->mod_win_moderated = c->mod_empty = c->mod_slow = 0;
	c->mod_lowat = c->mod_want_lowat = 1;
	c->mod_rate = 0;
}

/* After each turn of the connected client (see above). */
void mqtt_moderate(struct mqtt_client *c)
{
	int64_t now = c->read_end_us;

	if (!now || c->rbytes == c->mod_turn_bytes) {
		/* nothing read this turn: the thread was woken, or a moderated
		 * poll ran out empty - a few in a row: the stream paused, and
		 * the next read must not wait */
		if (c->mod_wait_us && ++c->mod_empty >= MOD_EMPTY_OFF) {
			moderate_set(c, 0, 1);
			c->mod_win_moderated = 0;
		}
		return;
	}
	c->mod_empty = 0;
	if (!c->mod_wait_us && c->mod_want_us) /* it goes on after a pause: as this window wants */
		moderate_set(c, c->mod_want_us, c->mod_want_lowat);
	c->mod_turn_bytes = c->rbytes;
	if (now - c->mod_win_us >= MOD_WINDOW_US) {
		moderate_window(c, now - c->mod_win_us);
		c->mod_win_us = now;
	}
}
