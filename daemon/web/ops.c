/* ops.c - the pages for the people who run the daemon: /healthz (for
 * systemd, load balancers, uptime checkers) and /metrics (Prometheus text
 * format 0.0.4 of the self-metrics the daemon writes to InfluxDB). */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

#include "../../codec/promtext.h"

int web_page_healthz(struct web_req *req)
{
	const struct web_deps *d = web_deps(req);
	char buf[4096] = "";

	if (!d->health || d->health(d->arg, buf, sizeof(buf)))
		return web_reply_text(req, 200, "ok\n");
	return web_reply_text(req, 503, buf);
}

int web_page_metrics(struct web_req *req)
{
	struct lp_buf in, out;
	int rc;

	lp_buf_init(&in);
	lp_buf_init(&out);
	web_metrics_lines(req->w, &in);
	if (prom_from_lineproto(in.data ? in.data : "", in.len, &out, NULL) < 0)
		rc = web_error(req, 500, "out of memory");
	else
		rc = web_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "", out.len);
	lp_buf_free(&in);
	lp_buf_free(&out);
	return rc;
}
