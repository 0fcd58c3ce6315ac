/* report_page.c - GET /lot/ID/report and /lot/ID/report.csv (WEB_VIEW): the
 * lot's storage-history report (report/, the engine `coldchainctl report`
 * runs) with the CLI's --lot defaults: from the lot's loading to now, from
 * the configuration's first InfluxDB 1.x output; ?from=T&to=T as the CLI's
 * --from and --to.
 *
 * The report takes seconds and talks to InfluxDB, so never on
 * libmicrohttpd's threads: the handler suspends the connection
 * (MHD_suspend_connection) and starts a worker thread of its own; the
 * worker resumes it when the report is written, and MHD calls the handler
 * again, which replies.  One report at a time: a request meanwhile gets 503
 * with Retry-After (counted, logged rate-limited).  The worker's deadline
 * is REPORT_PAGE_DEADLINE_MS over all its queries; each reply is bounded
 * by INFLUX_QUERY_MAX.  The configuration is the daemon's own, handed over
 * by main.c at start and after each reload (web_report_set_config), held
 * by reference: the last of main and a running report frees it, so a
 * reload never frees it under a report, and the worker never parses
 * (libconfig can exit() on some files, which the main thread checks in a
 * child first).
 *
 * CSP: the report is a document of its own with one inline <style> block
 * and no script; that route's policy allows exactly that block by its
 * SHA-256 (style-src 'self' 'sha256-...'), nothing else inline. */
#include "web.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../report/report.h"
#include "../i18n.h"
#include "../log.h"
#include "../util.h"
#include "web_int.h"

#define REPORT_PAGE_DEADLINE_MS 60000
#define REPORT_PAGE_RETRY_AFTER "30"

enum job_state { JOB_RUNNING, JOB_DONE };

struct job {
	struct MHD_Connection *conn;
	enum job_state state;
	int abandoned; /* the listener stopped: the worker frees the job */
	char *lot;
	struct cfg_ref *cfg; /* a reference, dropped by job_free */
	int csv;
	int64_t from, to; /* ms; 0: the CLI's --lot defaults */
	/* the result */
	int status; /* 200, 404, 500, 502 */
	int influx_down;
	char *body;
	size_t len;
	char err[512];
};

/* The report's configuration: shared by the jobs that started under it. */
struct cfg_ref {
	struct cc_config *cfg;
	unsigned refs;
};

static struct {
	pthread_mutex_t mu;
	struct cfg_ref *cfg; /* the current one (NULL: none handed over) */
	struct job *cur; /* the one report (running, or done and not yet replied) */
	int64_t last_ok_ns;
	int closing; /* the listener stops: no new report */
	uint64_t served, refused, failed;
	struct log_rl rl, fail_rl;
} rp = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Drops a reference; the last one frees the configuration.  Under rp.mu. */
static void cfg_unref_locked(struct cfg_ref *c)
{
	if (c && --c->refs == 0) {
		config_free(c->cfg);
		free(c);
	}
}

void web_report_set_config(struct cc_config *cfg)
{
	struct cfg_ref *c = NULL;

	if (cfg) {
		c = xcalloc(1, sizeof(*c));
		c->cfg = cfg;
		c->refs = 1;
	}
	pthread_mutex_lock(&rp.mu);
	cfg_unref_locked(rp.cfg);
	rp.cfg = c;
	pthread_mutex_unlock(&rp.mu);
}

/* Frees a job and drops its configuration reference; under rp.mu. */
static void job_free_locked(struct job *j)
{
	if (!j)
		return;
	cfg_unref_locked(j->cfg);
	free(j->lot);
	free(j->body);
	free(j);
}

static void job_free(struct job *j)
{
	pthread_mutex_lock(&rp.mu);
	job_free_locked(j);
	pthread_mutex_unlock(&rp.mu);
}

/* The report into j (status, body or err); on the worker thread. */
static void job_run(struct job *j)
{
	struct report r = { .lot = j->lot, .format = j->csv ? "csv" : "html", .band_low = NAN, .band_high = NAN,
			    .quiet = 1 };
	FILE *o;
	int st;

	r.generated = time_now_ns() / 1000000;
	r.from = j->from;
	r.from_set = j->from != 0;
	r.to = j->to;
	r.to_set = j->to != 0;
	r.deadline_ns = time_now_ns() + (int64_t)REPORT_PAGE_DEADLINE_MS * 1000000;
	j->status = 500;
	if (!j->cfg) {
		snprintf(j->err, sizeof(j->err), "no configuration was handed to the report");
		goto out;
	}
	r.cfg = j->cfg->cfg;
	r.cfg_borrowed = 1;
	if (report_use_influx(&r, NULL, NULL) < 0) {
		j->status = 502;
		goto err;
	}
	st = report_set_period(&r);
	if (st == 0 && report_collect(&r) < 0)
		st = 1;
	if (st != 0) {
		j->status = r.influx_down ? 502 : 404;
		goto err;
	}
	o = open_memstream(&j->body, &j->len);
	if (!o)
		goto out;
	if (j->csv)
		report_write_csv(&r, o);
	else
		report_write_html(&r, o);
	j->status = fclose(o) == 0 ? 200 : 500;
	goto out;
err:
	j->influx_down = r.influx_down || j->status == 502;
	snprintf(j->err, sizeof(j->err), "%s", r.err);
out:
	report_free(&r);
}

static void *worker(void *arg)
{
	struct job *j = arg;

	job_run(j);
	pthread_mutex_lock(&rp.mu);
	if (j->status == 200)
		rp.last_ok_ns = time_now_ns();
	if (j->abandoned) {
		pthread_mutex_unlock(&rp.mu);
		job_free(j);
		return NULL;
	}
	j->state = JOB_DONE;
	MHD_resume_connection(j->conn); /* MHD calls the handler again */
	pthread_mutex_unlock(&rp.mu);
	return NULL;
}

/* 'sha256-BASE64' of the document's <style> block, for its CSP. */
static void style_hash(const char *body, size_t len, char *out, size_t n)
{
	const char *a = memmem(body, len, "<style>", 7), *b;
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char b64[BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE) + 1];

	out[0] = '\0';
	if (!a)
		return;
	a += 7;
	b = memmem(a, len - (size_t)(a - body), "</style>", 8);
	if (!b)
		return;
	sha256_init(&c);
	sha256_update(&c, (size_t)(b - a), (const uint8_t *)a);
	sha256_digest(&c, sizeof(d), d);
	base64_encode_raw(b64, sizeof(d), d);
	b64[sizeof(b64) - 1] = '\0';
	snprintf(out, n, "'sha256-%s'", b64);
}

/* The report needs InfluxDB and could not reach it: a page in the user's
 * language, with when a report last reached it and the outputs' health. */
static int reply_unreachable(struct web_req *req, const struct job *j, int64_t last_ok_ns)
{
	const struct web_deps *d = web_deps(req);
	int L = req->lang_id;
	char health[1024] = "";
	struct web_page p;

	if (web_page_begin(&p, req) < 0)
		return web_error(req, 502, "the report needs InfluxDB, which cannot be reached");
	fprintf(p.o, "<h1>%s</h1><p id=\"report-error\">%s</p><p>%s: ", i18n_tr(L, "Storage history report"),
		i18n_tr(L, "The report needs the time-series database (InfluxDB), which cannot be reached now."),
		i18n_tr(L, "Last reached by a report"));
	if (last_ok_ns)
		web_time(p.o, last_ok_ns);
	else
		fputs(i18n_tr(L, "not since the daemon started"), p.o);
	fputs("</p>", p.o);
	(void)j; /* its detail (the InfluxDB URL) is logged, not shown */
	if (d->health && !d->health(d->arg, health, sizeof(health))) {
		fputs("<pre id=\"report-detail\">", p.o);
		web_esc(p.o, health); /* what /healthz tells anyone */
		fputs("</pre>", p.o);
	}
	return web_page_end(&p, 502, i18n_tr(L, "Storage history report"));
}

/* The finished job's reply. */
static int reply_job(struct web_req *req, struct job *j, int64_t last_ok_ns)
{
	char csp[320], h[200], name[160];

	if (j->status != 200) {
		uint32_t more = 0;
		char lot[160];

		/* the lot and the message carry the request's text: no control
		 * characters into the log */
		web_dom_id(j->lot, lot, sizeof(lot));
		for (char *c = j->err; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
		pthread_mutex_lock(&rp.mu);
		int allow = log_rl_allow(&rp.fail_rl, 10000, &more);
		pthread_mutex_unlock(&rp.mu);
		if (allow)
			log_warn("web: %s: the report of lot %s failed (%d): %s (%" PRIu32 " more not logged)", req->client,
				 lot, j->status, j->err, more);
	}
	if (j->status == 502)
		return reply_unreachable(req, j, last_ok_ns);
	if (j->status == 404)
		return web_error(req, 404, "no storage history of this lot in InfluxDB for the period");
	if (j->status != 200)
		return web_error(req, j->status, "the report failed (see the log)");
	if (j->csv) {
		web_dom_id(j->lot, name, sizeof(name) - 16);
		snprintf(h, sizeof(h), "inline; filename=\"lot-%s.csv\"", name);
		web_header_add(req, "Content-Disposition", h);
		return web_reply(req, 200, "text/csv; charset=utf-8", j->body, j->len);
	}
	style_hash(j->body, j->len, h, sizeof(h));
	snprintf(csp, sizeof(csp),
		 "default-src 'self'; style-src 'self' %s; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		 h);
	web_header_add(req, "Content-Security-Policy", csp);
	return web_reply(req, 200, "text/html; charset=utf-8", j->body, j->len);
}

static int refuse_busy(struct web_req *req)
{
	uint32_t more = 0;
	int allow;

	allow = log_rl_allow(&rp.rl, 60000, &more); /* rp.mu held */
	rp.refused++;
	pthread_mutex_unlock(&rp.mu);
	if (allow)
		log_warn("web: %s: refused a report: one is being made (%" PRIu32 " more not logged)", req->client,
			 more);
	web_header_add(req, "Retry-After", REPORT_PAGE_RETRY_AFTER);
	return web_error(req, 503, "a report is being made: try again shortly");
}

/* Starts the worker with the connection suspended (rp.mu held). */
static int start_job(struct web_req *req, const char *lot, size_t lotlen, int csv, int64_t from, int64_t to)
{
	struct job *j = xcalloc(1, sizeof(*j));
	pthread_attr_t at;
	pthread_t t;
	int rc;

	j->conn = req->conn;
	j->lot = xmalloc(lotlen + 1);
	memcpy(j->lot, lot, lotlen);
	j->lot[lotlen] = '\0';
	j->csv = csv;
	j->from = from;
	j->to = to;
	j->cfg = rp.cfg; /* rp.mu held */
	if (j->cfg)
		j->cfg->refs++;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &at, worker, j);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		pthread_mutex_unlock(&rp.mu);
		job_free(j);
		return web_error(req, 500, "cannot start the report");
	}
	rp.cur = j;
	MHD_suspend_connection(req->conn); /* the worker resumes it, after this (rp.mu) */
	req->deferred = 1;
	pthread_mutex_unlock(&rp.mu);
	return 0;
}

int web_page_lot_report(struct web_req *req, const char *lot, size_t lotlen, int csv)
{
	const char *fa = web_arg(req, "from"), *ta = web_arg(req, "to");
	int64_t from = 0, to = 0, last_ok;
	struct job *j;
	int rc;

	/* ?from=T&to=T: as --from and --to (ISO 8601 with a zone, epoch
	 * seconds, now); absent: the lot's loading, now */
	if ((fa && (strlen(fa) > 64 || report_parse_time_ms(fa, &from) < 0)) ||
	    (ta && (strlen(ta) > 64 || report_parse_time_ms(ta, &to) < 0)))
		return web_error(req, 400, "from and to are times: ISO 8601 with a zone, epoch seconds, or now");
	pthread_mutex_lock(&rp.mu);
	j = rp.cur;
	if (j && j->conn == req->conn && j->state == JOB_DONE) {
		rp.cur = NULL;
		if (j->status == 200)
			rp.served++;
		else
			rp.failed++;
		last_ok = rp.last_ok_ns;
		pthread_mutex_unlock(&rp.mu);
		rc = reply_job(req, j, last_ok);
		job_free(j);
		return rc;
	}
	if (j || rp.closing)
		return refuse_busy(req);
	return start_job(req, lot, lotlen, csv, from, to);
}

void web_report_forget(void *conn)
{
	pthread_mutex_lock(&rp.mu);
	if (rp.cur && rp.cur->conn == conn && rp.cur->state == JOB_DONE) {
		job_free_locked(rp.cur);
		rp.cur = NULL;
	}
	pthread_mutex_unlock(&rp.mu);
}

void web_report_close(void)
{
	pthread_mutex_lock(&rp.mu);
	rp.closing = 1;
	if (rp.cur && rp.cur->state == JOB_RUNNING) {
		rp.cur->abandoned = 1; /* the worker frees it; MHD must not stop with it suspended */
		MHD_resume_connection(rp.cur->conn);
		rp.cur = NULL;
	}
	pthread_mutex_unlock(&rp.mu);
}

void web_report_stats(uint64_t *served, uint64_t *refused, uint64_t *failed, int *running)
{
	pthread_mutex_lock(&rp.mu);
	*served = rp.served;
	*refused = rp.refused;
	*failed = rp.failed;
	*running = rp.cur != NULL;
	pthread_mutex_unlock(&rp.mu);
}
