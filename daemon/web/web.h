/* web.h - the daemon's HTTP listener (libmicrohttpd): what main.c starts,
 * feeds and stops.  Pages, login and live updates are files of
 * daemon/web/ on the request API of web_int.h. */
#ifndef CC_WEB_H
#define CC_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "../../codec/lineproto.h"
#include "../config.h"

struct engine;
struct web;

/* What the listener needs from the rest of the daemon: callbacks, never
 * main's internals.  health fills buf with one line per reason the daemon
 * is unhealthy ("output influx: failing for 42 s: Connection refused") and
 * returns 1 when healthy (buf then empty), 0 when not; it is called from
 * the listener's threads and must not block. */
struct web_deps {
	struct engine *engine;
	int (*health)(void *arg, char *buf, size_t len);
	void *arg;
	const char *site;
};

/* Opens the listener of conf (after the engine exists).  NULL + errno
 * (EADDRINUSE, EINVAL for a bad address or TLS files, ...), logged. */
struct web *web_start(const struct cc_web_conf *conf, const struct web_deps *deps);
/* The configuration the lot report (GET /lot/ID/report) uses from now on,
 * owned by the listener from here (freed when the last report using it
 * ends; NULL: reports answer 500).  main.c parses it on its own thread, at
 * start and after each reload, so no worker ever runs libconfig. */
struct cc_config;
void web_report_set_config(struct cc_config *cfg);
/* Reads web.users_file again (SIGHUP); on an error the users before stay
 * (logged with every FILE:LINE). */
void web_reload_users(struct web *w);
/* Closes every connection and joins the threads (before the engine is
 * freed).  NULL is fine. */
void web_stop(struct web *w);
/* A reload's new engine (NULL while there is none): waits until no request
 * uses the old one.  NULL w is fine. */
void web_set_engine(struct web *w, struct engine *e);
/* The latest self-metrics (line protocol as stats_emit wrote it), served
 * by /metrics; copied. */
void web_set_metrics(struct web *w, const char *lines, size_t len);
/* Live updates (daemon/web/sse.c), to every open page's /events stream:
 * an event of type event ("alarm") with data (one JSON text).  Only
 * enqueues, O(open pages), no I/O: callable with the engine's lock held,
 * from any thread, with or without a listener. */
void web_sse_publish(const char *event, const char *data, size_t len);
/* From the main loop (every second or so): a `tick` every SSE_TICK_MS and
 * a keepalive comment to a stream quiet for SSE_KEEPALIVE_MS. */
void web_sse_tick(int64_t now_ms);
struct web_sse_stats {
	int subscribers;
	uint64_t refused, dropped, events;
};
void web_sse_stats(struct web_sse_stats *st);

/* The listener's own self-metrics: measurement coldchaind_web. */
void web_emit_stats(struct web *w, struct lp_buf *b, const char *site, int64_t ts_ns);

#endif
