/* control.h - the control socket: a UNIX stream socket speaking
 * line-delimited JSON (one request object per line, one reply line each),
 * served from the main thread's ppoll loop, non-blocking.  coldchainctl is
 * its client; the protocol is documented in README.md ("Control socket"). */
#ifndef CC_CONTROL_H
#define CC_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

#define CONTROL_MAX_REQUEST 65536 /* bytes per request line, newline included */
/* Connections at once.  When full, a new one takes the slot of the
 * longest-idle connection of the account holding the most (that one is told
 * so and closed); "too many clients" only when all wait for a reload.  Both
 * logged, at most once a minute. */
#define CONTROL_MAX_CLIENTS 16
/* Replies queued for a client that does not read them: past it the client
 * is disconnected.  So no single reply is longer, and coldchainctl reads
 * no more than this either. */
#define CONTROL_MAX_REPLY (8u << 20)
#define CONTROL_MAX_FDS (CONTROL_MAX_CLIENTS + 2) /* + the listener, a notify test's eventfd */

#define CONTROL_DEFER_NOTIFY 2

struct control;
struct engine;

/* Creates the socket of cfg->control (mode 0660, owned by owner_uid when
 * run as root — the account the daemon switches to — and the configured
 * group).  A stale socket is replaced; a live one (another daemon) or any
 * other kind of file is refused.  NULL + errno, the reason logged. */
struct control *control_open(const struct cc_config *cfg, uid_t owner_uid);
/* Closes every connection and removes the socket file. */
void control_close(struct control *c);
/* The configuration the commands check rooms and profiles against. */
void control_set_config(struct control *c, const struct cc_config *cfg);
/* The engine the alarm, lot and status commands act on (NULL, as until
 * it is set: they answer "unavailable"). */
void control_set_engine(struct control *c, struct engine *e);

/* coldchainctl notify test ROUTE: fn sends the test message through every
 * channel of route, appending a line per recipient to out; returns the
 * failures or -ENOENT (main.c: output_channel_test on each output). */
typedef int (*control_notify_fn)(void *arg, const char *route, char *out, size_t size);
void control_set_notify(struct control *c, control_notify_fn fn, void *arg);
/* fn runs on a worker thread, one test at a time (another meanwhile is
 * answered "busy"), the client's reply deferred until it is done: the main
 * loop never waits for a channel.  While it runs control_busy() is true:
 * the main loop must not reload (fn uses the outputs).  At shutdown,
 * control_notify_join() (after the outputs were told to stop, before they
 * are freed) waits for a running one. */
int control_busy(const struct control *c);
void control_notify_join(void);

/* The main loop: fills at most max descriptors to wait on; then hands the
 * ppoll results back.  Never blocks. */
int control_pollfds(struct control *c, struct pollfd *fds, int max);
void control_handle(struct control *c, const struct pollfd *fds, int n);

/* A client asked for a reload: the main loop reloads (as for SIGHUP) and
 * reports the outcome, which answers every client waiting on it. */
int control_reload_wanted(const struct control *c);
void control_reload_done(struct control *c, int ok);

/*
 * One request line -> one reply (malloc'd JSON object text, no newline).
 * user: the peer's account name (a request's "user" overrides it).
 * *reload set when the request is a reload (1: the caller defers the reply)
 * or a notify test to run (CONTROL_DEFER_NOTIFY, control.c's socket runs it).
 * e may be NULL (engine commands answer "unavailable" after parsing); cfg
 * may be NULL (then room/profile hints are omitted).  Never fails on
 * any input: garbage gets {"ok":false,"error":...}.  The fuzz target's entry.
 * A line that is not valid UTF-8, or holds a NUL byte (raw, or as \u0000
 * in a JSON string), is refused (bad_request) by offset, never echoed; the
 * reply is always valid UTF-8 (any invalid byte from elsewhere, e.g. a
 * configured name, is written as \ufffd).
 */
char *control_request(struct engine *e, const struct cc_config *cfg, const char *line, size_t len, const char *user,
		      int *reload);

#endif
