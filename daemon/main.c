/* main.c - coldchaind: process lifecycle.  Parses options, loads the
 * configuration, takes the state-dir lock, starts outputs then inputs, and
 * runs the main loop: signals (handlers only set flags), reload, periodic
 * self-metrics, orderly shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../codec/lineproto.h"
#include "../drivers/modbus.h"
#include "../drivers/mqtt.h"
#include "../outputs/output.h"
#include "config.h"
#include "control.h"
#include "journal.h"
#include "engine.h"
#include "log.h"
#include "notify.h"
#include "schema_doc.h"
#include "pipeline.h"
#include "testmode.h"
#include "util.h"
#include "web/web.h"

#include "paths.h"
#ifndef CC_VERSION
#error "CC_VERSION comes from the Makefile (VERSION): -DCC_VERSION=..."
#endif

static volatile sig_atomic_t got_term, got_hup;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

/* Everything that runs for one configuration. */
struct running {
	struct cc_config *cfg;
	struct mb_bus **buses;
	size_t nbuses;
	struct output **outs;
	size_t nouts;
	struct journal *journal; /* lives across reloads */
	struct mqtt_client *mqtt; /* NULL without mqtt */
	/* Read by the source threads (feed_engine), replaced only while no
	 * source runs (reload stops them first). */
	struct engine *engine;
	/* during a reload: the old engine's state, for the next one (engine.h) */
	struct engine_saved *saved;
	struct web *web; /* NULL without a web group */
	/* cfg is held by the lot report too (web_report_set_config): it is
	 * freed by dropping that reference, not by config_free */
	int cfg_shared;
};

/* /healthz: the main loop writes what is unhealthy here (at most a second
 * old), the listener's threads read it; they never touch outputs or buses. */
static pthread_mutex_t health_mu = PTHREAD_MUTEX_INITIALIZER;
static char health_text[4096];

static int health_get(void *arg, char *buf, size_t len)
{
	(void)arg;
	pthread_mutex_lock(&health_mu);
	strlcpy_cc(buf, health_text, len);
	pthread_mutex_unlock(&health_mu);
	return buf[0] == '\0';
}

/* "OK <id>" replies to the channels to people acknowledge alarms on the
 * outputs' threads; the engine they act on is swapped at a reload (and is
 * freed before the old outputs stop), so it is read under a lock. */
static pthread_mutex_t ack_mu = PTHREAD_MUTEX_INITIALIZER;
static struct engine *ack_engine;

static void ack_engine_set(struct engine *e)
{
	pthread_mutex_lock(&ack_mu);
	ack_engine = e;
	pthread_mutex_unlock(&ack_mu);
}

static int ack_by_reply(void *arg, const char *alarm_id, const char *user, const char *note)
{
	int rc = -EAGAIN;

	(void)arg;
	pthread_mutex_lock(&ack_mu);
	if (ack_engine)
		rc = engine_ack(ack_engine, alarm_id, user, note);
	pthread_mutex_unlock(&ack_mu);
	return rc;
}

/* coldchainctl notify test ROUTE: every channel output of the route sends
 * its test message (control.c runs it on a worker thread; no reload while
 * it runs, so r's outputs stay). */
static int notify_test(void *arg, const char *route, char *out, size_t size)
{
	struct running *r = arg;
	int failed = 0, used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->nouts; i++) {
		size_t off = strlen(out);
		int rc = output_channel_test(r->outs[i], route, out + off, size - off);
		if (rc >= 0) {
			used = 1;
			failed += rc;
		}
	}
	return used ? failed : -ENOENT;
}

/* The pipeline's consumer: every sample, once journaled, goes to the engine. */
static void feed_engine(void *arg, const struct cc_sample *s, size_t n)
{
	const struct running *r = arg;

	engine_process(r->engine, s, n);
}

/* The engine's records and alert events are journaled like any source's. */
static void record_lines(void *arg, const char *lines, size_t len, size_t nlines)
{
	(void)arg;
	pipeline_submit_lines(lines, len, nlines);
}

static void record_event(void *arg, const char *json, size_t len)
{
	(void)arg;
	pipeline_submit_event(json, len);
	/* called with the engine's lock held: the hub only enqueues */
	web_sse_publish("alarm", json, len);
}

static const struct engine_callbacks engine_to_pipeline = { record_lines, record_event, NULL };

/* The options: usage(), coldchaind(8), contrib/bash-completion/coldchaind
 * and tests/config/check_help.sh follow this table. */
static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'n' },
	{ "print", no_argument, NULL, 'p' },	    { "debug", no_argument, NULL, 'd' },
	{ "schema-markdown", no_argument, NULL, 'S' }, { "schema-man", no_argument, NULL, 'M' },
	{ "version", no_argument, NULL, 'V' },	    { "help", no_argument, NULL, 'h' },
	{ "test", no_argument, NULL, 'T' },	    { "duration", required_argument, NULL, 'D' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: coldchaind [-c FILE] [-n | -p | --test [--duration 10s]] [-d]\n"
		"       coldchaind -S | -M | -V | -h\n"
		"  -c, --config FILE    configuration file (default %s/coldchaind/coldchaind.conf)\n"
		"  -n, --check          check the configuration, print \"configuration OK\" or every error\n"
		"  -p, --print          print the effective configuration with every default filled in\n"
		"  -d, --debug          debug logging\n"
		"      --test           read every Modbus point once and listen to MQTT for --duration\n"
		"                       (default 10s); print the line protocol on stdout, write nothing;\n"
		"                       exit 1 if a read failed (each failure on stderr)\n"
		"      --duration TIME  how long --test listens to MQTT (1ms..1h)\n"
		"  -S, --schema-markdown  print the configuration reference (every key) as Markdown\n"
		"  -M, --schema-man     print the coldchaind.conf(5) man page\n"
		"  -V, --version        print the version\n"
		"  -h, --help           print this help\n"
		"Exit status: 0 clean stop, valid configuration or --test reads all worked, 1 invalid\n"
		"configuration, start-up failure or a --test read failed, 2 usage error.\n"
		"See coldchaind(8) and coldchaind.conf(5).\n",
		CC_SYSCONFDIR);
}

static int lock_state_dir(const char *dir)
{
	char *path;
	char buf[32];
	int fd;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		log_err("state dir %s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	path = xasprintf("%s/coldchaind.pid", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("lock file %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_err("another coldchaind is already running with state dir %s (pid %s)", dir,
			*buf ? buf : "unknown");
		close(fd);
		free(path);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		if (pwrite(fd, buf, (size_t)len, 0) != len)
			log_warn("lock file %s: cannot write pid: %s", path, strerror(errno));
	}
	free(path);
	return fd; /* held open (and locked) until exit */
}

/*
 * Started as root with `user` set: hand the state dir to that account and
 * switch to it (with its supplementary groups, e.g. dialout for serial
 * adapters) before any input or output starts, so nothing the daemon does
 * with sensor or network data runs as root.  Under systemd, User= does
 * this instead and `user` stays unset.
 */
static int drop_privileges(const struct cc_config *cfg, int lockfd)
{
	struct passwd *pw;
	gid_t gid;

	if (geteuid() != 0) {
		if (cfg->user)
			log_info("not root: ignoring user = \"%s\"", cfg->user);
		return 0;
	}
	if (!cfg->user) {
		log_warn("running as root: set user (and group) in the configuration, or User= under systemd");
		return 0;
	}
	errno = 0;
	pw = getpwnam(cfg->user);
	if (!pw) {
		log_err("user %s: %s", cfg->user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	gid = pw->pw_gid;
	if (cfg->group) {
		struct group *gr;
		errno = 0;
		gr = getgrnam(cfg->group);
		if (!gr) {
			log_err("group %s: %s", cfg->group, errno ? strerror(errno) : "no such group");
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (chown(cfg->state_dir, pw->pw_uid, gid) < 0 || fchown(lockfd, pw->pw_uid, gid) < 0) {
		log_err("state dir %s: cannot hand it to %s: %s", cfg->state_dir, cfg->user, strerror(errno));
		return -1;
	}
	if (initgroups(cfg->user, gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot switch to user %s: %s", cfg->user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("switched to user %s but could get root back: refusing to run", cfg->user);
		return -1;
	}
	log_info("running as user %s (uid %ld, gid %ld)", cfg->user, (long)pw->pw_uid, (long)gid);
	return 0;
}

static struct output **outputs_create(const struct cc_config *cfg, size_t *n)
{
	struct output **outs = xcalloc(outputs_count(cfg) + 2, sizeof(*outs));
	size_t k;

	if (outputs_from_config(cfg, outs, &k) < 0) {
		free(outs);
		return NULL;
	}
	if (cfg->alerts_mqtt) {
		if ((outs[k] = mqtt_alerts_new(cfg->alerts_mqtt, cfg->site)) == NULL) {
			while (k > 0)
				output_free(outs[--k]);
			free(outs);
			return NULL;
		}
		k++;
	}
	*n = k;
	return outs;
}

/* The MQTT client stopped, the filters its persistent session holds
 * written first (mqtt_subs_write). */
static void mqtt_end(struct running *r)
{
	mqtt_subs_write(r->mqtt);
	mqtt_stop(r->mqtt);
	r->mqtt = NULL;
}

static void buses_start(struct running *r)
{
	r->nbuses = r->cfg->nbuses;
	r->buses = xcalloc(r->nbuses, sizeof(*r->buses));
	for (size_t i = 0; i < r->nbuses; i++) {
		r->buses[i] = mb_bus_start(&r->cfg->buses[i], r->cfg->site);
		if (!r->buses[i])
			log_err("bus %s: not started: %s", r->cfg->buses[i].name, strerror(errno));
	}
	/* MQTT is an input like the buses: started and stopped with them, but
	 * a reload keeps its connection (paused by buses_stop_for_reload) */
	if (r->mqtt && (!r->cfg->mqtt || mqtt_resume(r->mqtt, r->cfg->mqtt, r->cfg->site) < 0)) {
		mqtt_end(r);
	}
	if (r->cfg->mqtt && !r->mqtt && !(r->mqtt = mqtt_start_input(r->cfg->mqtt, r->cfg->site, r->cfg->state_dir)))
		log_err("mqtt broker %s: not started: %s", r->cfg->mqtt->host, strerror(errno));
}

static void modbus_stop(struct running *r)
{
	for (size_t i = 0; i < r->nbuses; i++)
		if (r->buses[i])
			mb_bus_stop(r->buses[i]);
	free(r->buses);
	r->buses = NULL;
	r->nbuses = 0;
}

static void buses_stop(struct running *r)
{
	mqtt_end(r);
	modbus_stop(r);
}

/* As buses_stop, but the MQTT client only pauses: its connection stays
 * for the next configuration (reload: kept_mqtt decides), so nothing a
 * broker sends meanwhile is lost, QoS 0 included. */
static void buses_stop_for_reload(struct running *r)
{
	if (r->mqtt && mqtt_pause(r->mqtt) < 0) {
		log_info("mqtt broker %s: reconnecting for the reload (the client could not pause)",
			 r->cfg->mqtt->host);
		mqtt_end(r);
	}
	modbus_stop(r);
}

/* Whether the paused MQTT client goes on with ncfg (its connection
 * settings unchanged), or is stopped now, while the configuration it was
 * made with is alive, to start anew with ncfg's. */
static void kept_mqtt(struct running *r, const struct cc_config *ncfg)
{
	if (!r->mqtt || (ncfg->mqtt && mqtt_same_connection(r->mqtt, ncfg->mqtt)))
		return;
	log_info("mqtt broker %s: %s", r->cfg->mqtt->host,
		 ncfg->mqtt ? "the connection settings changed: reconnecting" : "no longer configured: disconnecting");
	mqtt_end(r);
}

/* --- self-metrics ------------------------------------------------------ */

struct stats_ctx {
	struct lp_buf *b;
	const char *site;
	int64_t ts;
};

static void emit_unit_stats(const char *bus, const struct mb_unit_stats *st, void *arg)
{
	struct stats_ctx *c = arg;
	char unit[16];
	snprintf(unit, sizeof(unit), "%d", st->unit);
	struct lp_tag tags[] = { { "bus", bus }, { "sensor", st->device }, { "site", c->site }, { "unit_id", unit } };
	struct lp_field f[] = {
		{ .key = "requests", .type = LP_INT, .v.i = (int64_t)st->requests },
		{ .key = "errors", .type = LP_INT, .v.i = (int64_t)st->errors },
		{ .key = "timeouts", .type = LP_INT, .v.i = (int64_t)st->timeouts },
		{ .key = "exceptions", .type = LP_INT, .v.i = (int64_t)st->exceptions },
		{ .key = "polls", .type = LP_INT, .v.i = (int64_t)st->polls },
		{ .key = "rtt_ms", .type = LP_FLOAT, .v.f = st->last_rtt_ms },
		{ .key = "down", .type = LP_BOOL, .v.b = st->down },
	};
	lp_encode(c->b, "coldchaind_modbus", tags, ARRAY_SIZE(tags), f, ARRAY_SIZE(f), c->ts);
}

/* A channel to people's own counters (measurement coldchaind_channel). */
static void emit_channel_stats(struct lp_buf *b, struct output *o, const struct lp_tag *tags, int64_t ts)
{
	struct output_channel_stats cs;

	if (output_channel_stats(o, &cs) < 0)
		return;
	struct lp_field f[] = {
		{ .key = "sent", .type = LP_INT, .v.i = (int64_t)cs.sent },
		{ .key = "refused", .type = LP_INT, .v.i = (int64_t)cs.refused },
		{ .key = "retried", .type = LP_INT, .v.i = (int64_t)cs.retried },
		{ .key = "held", .type = LP_INT, .v.i = (int64_t)cs.held },
		{ .key = "held_now", .type = LP_INT, .v.i = (int64_t)cs.held_now },
		{ .key = "replies", .type = LP_INT, .v.i = (int64_t)cs.replies },
		{ .key = "acks_by_reply", .type = LP_INT, .v.i = (int64_t)cs.acks_by_reply },
	};
	lp_encode(b, "coldchaind_channel", tags, 2, f, ARRAY_SIZE(f), ts);
}

static void stats_emit(struct running *r)
{
	struct lp_buf b;
	struct stats_ctx c;

	lp_buf_init(&b);
	c.b = &b;
	c.site = r->cfg->site;
	/* whole milliseconds: /metrics carries ms, and equals InfluxDB's point */
	c.ts = time_now_ns() / 1000000 * 1000000;
	for (size_t i = 0; i < r->nbuses; i++)
		if (r->buses[i])
			mb_bus_foreach_stats(r->buses[i], emit_unit_stats, &c);
	mqtt_emit_stats(r->mqtt, &b, r->cfg->site, c.ts);
	for (size_t i = 0; i < r->nouts; i++) {
		struct output_stats st;
		output_get_stats(r->outs[i], &st);
		struct lp_tag tags[] = { { "output", output_name(r->outs[i]) }, { "site", r->cfg->site } };
		struct lp_field f[] = {
			{ .key = "written", .type = LP_INT, .v.i = (int64_t)st.written },
			{ .key = "retried", .type = LP_INT, .v.i = (int64_t)st.retried },
			{ .key = "rejected", .type = LP_INT, .v.i = (int64_t)st.rejected },
			{ .key = "dropped", .type = LP_INT, .v.i = (int64_t)st.dropped },
			{ .key = "pending", .type = LP_INT, .v.i = (int64_t)st.pending },
			{ .key = "pending_bytes", .type = LP_INT, .v.i = (int64_t)st.pending_bytes },
			{ .key = "oldest_age_s", .type = LP_FLOAT, .v.f = (double)st.oldest_age_ms / 1000.0 },
			{ .key = "unauthorised", .type = LP_BOOL, .v.b = st.unauthorised },
			{ .key = "gzip_refused", .type = LP_INT, .v.i = (int64_t)st.gzip_refused },
			{ .key = "last_error", .type = LP_STRING, .v.s = st.last_error },
		};
		lp_encode(&b, "coldchaind_output", tags, ARRAY_SIZE(tags), f, ARRAY_SIZE(f), c.ts);
		emit_channel_stats(&b, r->outs[i], tags, c.ts);
		output_channel_emit_stats(r->outs[i], &b, r->cfg->site, c.ts);
	}
	if (r->journal) {
		struct journal_stats js;
		journal_get_stats(r->journal, &js);
		struct lp_tag tags[] = { { "site", r->cfg->site } };
		struct lp_field f[] = {
			{ .key = "bytes", .type = LP_INT, .v.i = (int64_t)js.bytes },
			{ .key = "segments", .type = LP_INT, .v.i = (int64_t)js.segments },
			{ .key = "records", .type = LP_INT, .v.i = (int64_t)js.records },
			{ .key = "lines", .type = LP_INT, .v.i = (int64_t)js.lines },
			{ .key = "fsyncs", .type = LP_INT, .v.i = (int64_t)js.fsyncs },
			{ .key = "corrupt_skipped", .type = LP_INT, .v.i = (int64_t)js.corrupt_skipped },
			{ .key = "torn_bytes", .type = LP_INT, .v.i = (int64_t)js.torn_truncated },
			{ .key = "gaps", .type = LP_INT, .v.i = (int64_t)js.gaps },
			{ .key = "lines_lost", .type = LP_INT, .v.i = (int64_t)js.lines_lost },
			{ .key = "files_set_aside", .type = LP_INT, .v.i = (int64_t)js.files_set_aside },
			{ .key = "dropped_oldest", .type = LP_INT, .v.i = (int64_t)js.dropped_oldest },
			{ .key = "write_errors", .type = LP_INT, .v.i = (int64_t)js.write_errors },
			{ .key = "not_journaled", .type = LP_INT, .v.i = (int64_t)pipeline_dropped() },
		};
		lp_encode(&b, "coldchaind_journal", tags, ARRAY_SIZE(tags), f, ARRAY_SIZE(f), c.ts);
	}
	web_emit_stats(r->web, &b, r->cfg->site, c.ts);
	web_set_metrics(r->web, b.data ? b.data : "", b.len);
	if (b.lines)
		pipeline_submit_lines(b.data, b.len, b.lines);
	lp_buf_free(&b);
}

/* --- health (README "Web page": what healthy means) -------------------- */

struct health_ctx {
	char *buf;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void health_add(struct health_ctx *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (h->len + 1 >= h->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(h->buf + h->len, h->cap - h->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		h->len = h->len + (size_t)n < h->cap ? h->len + (size_t)n : h->cap - 1;
}

static void health_unit(const char *bus, const struct mb_unit_stats *st, void *arg)
{
	if (st->down)
		health_add(arg, "modbus bus %s unit %d (%s): down\n", bus, st->unit, st->device);
}

/* Unhealthy: an output whose last attempt failed while it holds undelivered
 * lines (or whose credentials are refused), a Modbus unit in backoff, the
 * MQTT client not connected. */
static void health_update(struct running *r)
{
	char buf[sizeof(health_text)];
	struct health_ctx h = { buf, 0, sizeof(buf) };

	buf[0] = '\0';
	for (size_t i = 0; i < r->nouts; i++) {
		struct output_stats st;
		char why[160];
		if (!output_channel_health(r->outs[i], why, sizeof(why)))
			health_add(&h, "output %s: %s\n", output_name(r->outs[i]), why[0] ? why : "unhealthy");
		output_get_stats(r->outs[i], &st);
		if (st.unauthorised)
			health_add(&h, "output %s: credentials refused: %s\n", output_name(r->outs[i]), st.last_error);
		else if (st.failures > 0 && st.pending > 0)
			health_add(&h, "output %s: failing for %" PRId64 " s: %s\n", output_name(r->outs[i]),
				   st.oldest_age_ms / 1000, st.last_error);
	}
	for (size_t i = 0; i < r->nbuses; i++)
		if (r->buses[i])
			mb_bus_foreach_stats(r->buses[i], health_unit, &h);
	if (r->mqtt && !mqtt_connected(r->mqtt))
		health_add(&h, "mqtt broker %s: disconnected\n", r->cfg->mqtt->host);
	pthread_mutex_lock(&health_mu);
	memcpy(health_text, buf, h.len + 1);
	pthread_mutex_unlock(&health_mu);
}

/* --- reload ------------------------------------------------------------ */

/* The lot report (the web listener's report worker) holds the daemon's own
 * configuration by reference (web_report_set_config takes it over; the last
 * of main and a running report frees it), so a hub's configuration exists
 * once, not twice, and a reload parses it once (issue 18). */
static void config_hand_over(struct running *r, struct cc_config *ncfg)
{
	struct cc_config *old = r->cfg;

	r->cfg = ncfg;
	if (r->cfg_shared)
		web_report_set_config(ncfg); /* frees old, or the report running does */
	else
		config_free(old);
}

/*
 * libconfig can exit() on some inputs (an @include of a directory), so the
 * new file is first parsed and validated in a child: this very binary run
 * as `coldchaind -n` (/proc/self/exe, the running file even after an
 * upgrade replaced it), whose messages come back through a pipe and are
 * logged here.  A forked copy of the daemon did the same check, but at a
 * hub it paid for copying the pages of a 60 MB heap it wrote into: 220-400
 * ms instead of ~100 (issue 18: the reload's largest step).  Where the
 * binary cannot be run (no /proc), the check runs in a fork as before.
 * Returns 0 when the child found the file valid.
 */
static int precheck_wait(pid_t pid, int rfd, const char *path)
{
	FILE *f = fdopen(rfd, "r");
	char line[1024];
	int status;
	pid_t w;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0])
				log_err("reload: %s", line);
		}
		fclose(f);
	} else {
		close(rfd);
	}
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (w < 0) {
		log_err("reload: waiting for the checker of %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		log_err("reload: checking %s killed the checker (signal %d)", path, WTERMSIG(status));
	return -EINVAL;
}

/* The check run by this binary: 0 or -EINVAL as precheck_wait, or -errno
 * when it could not be started. */
static int precheck_exec(const char *path)
{
	char *argv[] = { "coldchaind", "-n", "-c", (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int pfd[2], rc;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0); /* "configuration OK" */
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return -rc;
	}
	return precheck_wait(pid, pfd[0], path);
}

static int config_precheck(const char *path)
{
	int pfd[2], rc;
	pid_t pid;

	if ((rc = precheck_exec(path)) == 0 || rc == -EINVAL)
		return rc;
	log_info("reload: cannot run /proc/self/exe (%s): checking in a fork", strerror(-rc));
	if (pipe(pfd) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		struct cc_config *c = NULL;
		struct cc_errors e = { 0 };
		FILE *out;

		close(pfd[0]);
		out = fdopen(pfd[1], "w");
		if (config_load(path, &c, &e) < 0) {
			if (out)
				errors_print(&e, out);
			_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	return precheck_wait(pid, pfd[0], path);
}

/* Where a reload's time goes (milliseconds): logged with its result. */
struct reload_times {
	int64_t t0, check, inputs, engine_stop, parse, outputs, engine, trim;
};

static int64_t lap(int64_t *t)
{
	int64_t now = time_mono_ms(), d = now - *t;

	*t = now;
	return d;
}

/* Inputs stop first so nothing is submitted while outputs change; the old
 * engine goes (its state kept in memory for the new one: engine.h's
 * hand-over) and with them the MQTT client's channels: the new
 * configuration is then parsed without two hubs' worth of tables alive
 * (issue 18: peak RSS). */
static void inputs_stop_for_reload(struct running *r, struct reload_times *t)
{
	buses_stop_for_reload(r);
	t->inputs = lap(&t->t0);
	web_set_engine(r->web, NULL);
	ack_engine_set(NULL);
	r->saved = engine_free_saved(r->engine);
	r->engine = NULL;
	/* the MQTT client's channels and the engine (tens of MB at a hub) are
	 * free now: back to the system before the parse and the new engine
	 * allocate, or the heap's holes they leave add to the reload's peak */
	malloc_trim(0);
}

/* The new engine and inputs on r->cfg (the new one, or the old again). */
static void inputs_restart_after_reload(struct running *r)
{
	r->engine = engine_new_from(r->cfg, &engine_to_pipeline, r->saved);
	r->saved = NULL;
	ack_engine_set(r->engine);
	web_set_engine(r->web, r->engine);
	buses_start(r);
}

static void outputs_swap(struct running *r, struct output **nouts, size_t nn, struct cc_config *ncfg)
{
	int64_t deadline = time_mono_ms() + ncfg->shutdown_timeout_ms;

	for (size_t i = 0; i < r->nouts; i++) {
		struct output *heir = NULL;
		for (size_t j = 0; j < nn && !heir; j++)
			if (strcmp(output_id(nouts[j]), output_id(r->outs[i])) == 0)
				heir = nouts[j];
		/* A kept output stops at once: its replacement resumes at the
		 * position it leaves in the journal (a batch cut short is sent
		 * again: same timestamps, InfluxDB overwrites).  A removed one gets
		 * the shutdown deadline to deliver what it has not sent. */
		output_stop(r->outs[i], heir ? time_mono_ms() : deadline);
		output_free(r->outs[i]);
	}
	free(r->outs);
	r->outs = nouts;
	r->nouts = nn;
	journal_set_limits(r->journal, ncfg->journal.max_size, ncfg->journal.segment_size, ncfg->journal.fsync_ms);
	for (size_t i = 0; i < nn; i++)
		if (output_start(nouts[i], r->journal) < 0)
			log_err("output %s: cannot start", output_name(nouts[i]));
	journal_prune(r->journal); /* removed outputs no longer pin segments */
}

/* The file passed the child's check: the inputs and the engine stop, the
 * new configuration is parsed and its outputs made; if that still fails
 * (the file changed meanwhile, memory), the old engine and inputs start
 * again on the old configuration. */
static int reload_parse(struct running *r, const char *path, struct cc_config **ncfg, struct output ***nouts,
			size_t *nn, struct reload_times *t)
{
	struct cc_errors e = { 0 };

	inputs_stop_for_reload(r, t);
	t->engine_stop = lap(&t->t0); /* its state kept for the next engine */
	if (config_load(path, ncfg, &e) < 0) {
		for (size_t i = 0; i < e.n; i++)
			log_err("reload: %s", e.msg[i]);
		errors_free(&e);
		goto fail;
	}
	t->parse = lap(&t->t0);
	*nouts = outputs_create(*ncfg, nn);
	if (!*nouts) {
		config_free(*ncfg);
		goto fail;
	}
	return 0;
fail:
	inputs_restart_after_reload(r);
	log_err("reload failed, keeping previous configuration");
	return -1;
}

static int reload(struct running *r, const char *path)
{
	struct cc_config *ncfg = NULL;
	struct output **nouts = NULL;
	size_t nn = 0;
	struct reload_times t = { .t0 = time_mono_ms() };

	log_info("SIGHUP: reloading %s", path);
	if (config_precheck(path) < 0) {
		log_err("reload failed, keeping previous configuration");
		return -1;
	}
	t.check = lap(&t.t0);
	if (reload_parse(r, path, &ncfg, &nouts, &nn, &t) < 0)
		return -1;
	if (!config_web_same(r->cfg, ncfg))
		log_warn("reload: web and timezone settings changed: they take effect at the next restart");
	kept_mqtt(r, ncfg);
	outputs_swap(r, nouts, nn, ncfg);
	config_hand_over(r, ncfg);
	t.outputs = lap(&t.t0);
	inputs_restart_after_reload(r);
	t.engine = lap(&t.t0);
	/* the old engine, configuration and libconfig tree were freed among
	 * the new ones: give the heap's free pages back now, not at the next
	 * stats sweep (issue 18) */
	malloc_trim(0);
	t.trim = lap(&t.t0);
	{
		enum log_level lvl;
		if (log_level_parse(ncfg->log_level, &lvl) == 0)
			log_set_level(lvl);
	}
	log_info("configuration reloaded: %zu %s, %zu %s (ms: check %" PRId64 ", inputs stopped %" PRId64
		 ", engine kept and freed %" PRId64 ", parse %" PRId64 ", outputs %" PRId64
		 ", engine restored and inputs started %" PRId64 ", heap trimmed %" PRId64 ")",
		 r->nbuses, plural(r->nbuses, "bus", "buses"), r->nouts, plural(r->nouts, "output", "outputs"), t.check,
		 t.inputs, t.engine_stop, t.parse, t.outputs, t.engine, t.trim);
	/* the state file still holds the old engine's last periodic snapshot:
	 * the new one's state goes there now, inputs running meanwhile */
	engine_save(r->engine);
	log_info("reload: state file written in %" PRId64 " ms", lap(&t.t0));
	return 0;
}

/* --- main -------------------------------------------------------------- */

static int load_or_report(const char *path, struct cc_config **cfg)
{
	struct cc_errors e = { 0 };

	if (config_load(path, cfg, &e) < 0) {
		errors_print(&e, stderr);
		errors_free(&e);
		return -1;
	}
	return 0;
}

static void install_signals(sigset_t *blocked, sigset_t *waitmask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	/* Blocked everywhere (threads inherit the mask), delivered only while
	 * the main thread waits in ppoll: no race between test and wait. */
	sigemptyset(blocked);
	sigaddset(blocked, SIGTERM);
	sigaddset(blocked, SIGINT);
	sigaddset(blocked, SIGHUP);
	pthread_sigmask(SIG_BLOCK, blocked, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
}

/* The command line. */
struct options {
	const char *path;
	int check, print, debug;
	int test;            /* --test */
	int64_t duration_ms; /* --duration: how long --test listens to MQTT */
};

/* The process around the running configuration: the state-dir lock, the
 * control socket and the signals the main loop waits for. */
struct proc {
	int lockfd;
	struct control *ctl;
	sigset_t blocked, waitmask;
	int64_t watchdog_ms, next_watchdog;
};

/* 1 when main should return *rc at once (-S, -M, -V, -h, a usage error). */
static int options_parse(int argc, char **argv, struct options *o, int *rc)
{
	int opt;

	*rc = 0;
	while ((opt = getopt_long(argc, argv, "c:npdSMVh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'T': o->test = 1; break;
		case 'D':
			if (parse_duration_ms(optarg, &o->duration_ms) < 0 || o->duration_ms <= 0 ||
			    o->duration_ms > 3600000) {
				fprintf(stderr, "coldchaind: --duration %s: expected 1ms..1h, e.g. 10s\n", optarg);
				*rc = 2;
				return 1;
			}
			break;
		case 'c': o->path = optarg; break;
		case 'n': o->check = 1; break;
		case 'p': o->print = 1; break;
		case 'd': o->debug = 1; break;
		case 'S': schema_doc_markdown(stdout); return 1;
		case 'M': schema_doc_man(stdout, CC_VERSION); return 1;
		case 'V': printf("coldchaind %s\n", CC_VERSION); return 1;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); *rc = 2; return 1;
		}
	}
	if (optind != argc || (o->test && (o->check || o->print))) {
		usage(stderr);
		*rc = 2;
		return 1;
	}
	return 0;
}

/* -n and -p: the exit status. */
static int check_or_print(const struct options *o)
{
	struct cc_config *cfg = NULL;

	if (load_or_report(o->path, &cfg) < 0)
		return 1;
	if (o->print)
		config_print(cfg, stdout);
	else
		printf("configuration OK\n");
	config_free(cfg);
	return 0;
}

/* --test: the exit status.  Nothing of setup(): no lock, no socket, no
 * privilege drop (it reads what the invoking user may read). */
static int test_run(const struct options *o)
{
	struct cc_config *cfg = NULL;
	enum log_level lvl = LOG_LVL_WARN;
	int rc;

	if (load_or_report(o->path, &cfg) < 0)
		return 1;
	log_open(LOG_TARGET_STDERR, o->debug ? LOG_LVL_DEBUG : lvl);
	rc = testmode_run(cfg, o->duration_ms);
	config_free(cfg);
	log_close();
	return rc;
}

/* Configuration, logging, the state-dir lock, the control socket (before
 * the privilege drop: the socket goes to the daemon's account and the
 * control group, which only root may choose freely), the privilege drop,
 * the HTTP library and the signals.  -1 when the daemon must not start
 * (said on stderr or in the log). */
static int setup(const struct options *o, struct running *r, struct proc *p)
{
	enum log_level lvl = LOG_LVL_INFO;
	struct passwd *pw;

	if (load_or_report(o->path, &r->cfg) < 0) {
		fprintf(stderr, "coldchaind: %s: configuration invalid, not starting\n", o->path);
		return -1;
	}
	log_level_parse(r->cfg->log_level, &lvl);
	log_open(strcmp(r->cfg->log_target, "syslog") == 0 ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR,
		 o->debug ? LOG_LVL_DEBUG : lvl);
	p->lockfd = lock_state_dir(r->cfg->state_dir);
	if (p->lockfd < 0)
		goto fail;
	pw = r->cfg->user && geteuid() == 0 ? getpwnam(r->cfg->user) : NULL;
	p->ctl = control_open(r->cfg, pw ? pw->pw_uid : geteuid());
	if (!p->ctl)
		goto fail;
	if (drop_privileges(r->cfg, p->lockfd) < 0) {
		control_close(p->ctl);
		goto fail;
	}
	if (r->cfg->timezone) {
		/* before any thread: localtime_r and strftime read TZ */
		setenv("TZ", r->cfg->timezone, 1);
		tzset();
	}
	if (output_global_init() < 0)
		fatal("cannot initialise the HTTP library");
	output_channels_set_ack(ack_by_reply, NULL); /* before any output exists */
	install_signals(&p->blocked, &p->waitmask);
	return 0;
fail:
	config_free(r->cfg);
	return -1;
}

/* The journal, and the pipeline that journals every source's samples and then
 * hands them to the engine. */
static void journal_start(struct running *r)
{
	struct journal_conf jc = { r->cfg->journal.dir, r->cfg->journal.max_size, r->cfg->journal.segment_size,
				   r->cfg->journal.fsync_ms };

	r->journal = journal_open(&jc);
	if (!r->journal)
		fatal("journal %s: cannot open: %s", jc.dir, strerror(errno));
	pipeline_set_journal(r->journal);
	pipeline_set_consumer(feed_engine, r);
}

/* Once the outputs run: the engine, then the inputs that feed it. */
static void inputs_start(struct running *r, struct proc *p, const char *path)
{
	r->engine = engine_new(r->cfg, &engine_to_pipeline);
	ack_engine_set(r->engine);
	control_set_engine(p->ctl, r->engine);
	control_set_notify(p->ctl, notify_test, r);
	if (r->cfg->web) {
		struct web_deps deps = { r->engine, health_get, r, r->cfg->site };
		r->web = web_start(r->cfg->web, &deps);
		if (!r->web)
			fatal("web: cannot start the listener on %s", r->cfg->web->listen);
		web_report_set_config(r->cfg);
		r->cfg_shared = 1;
	}
	buses_start(r);
	log_info("coldchaind %s started: site %s, %zu %s, %zu %s, config %s", CC_VERSION, r->cfg->site,
		 r->nbuses, plural(r->nbuses, "bus", "buses"), r->nouts, plural(r->nouts, "output", "outputs"), path);
	notify_send("READY=1\nSTATUS=polling");
	/* Type=notify + WatchdogSec=: pinged from the main loop, so a wedged
	 * main loop gets the daemon restarted. */
	p->watchdog_ms = notify_watchdog_ms();
	p->next_watchdog = p->watchdog_ms > 0 ? time_mono_ms() : INT64_MAX;
}

/* Waits (ppoll, with the signals unblocked) until the next timer, at most
 * a second (engine timers: delays, stale channels, snapshots), and serves
 * the control socket. */
static void loop_wait(struct proc *p, int64_t next_stats)
{
	int64_t wait = (next_stats < p->next_watchdog ? next_stats : p->next_watchdog) - time_mono_ms();
	struct pollfd pfd[CONTROL_MAX_FDS];
	struct timespec ts;
	int npfd;

	if (wait < 0)
		wait = 0;
	if (wait > 1000)
		wait = 1000;
	ts.tv_sec = wait / 1000;
	ts.tv_nsec = (wait % 1000) * 1000000;
	npfd = control_pollfds(p->ctl, pfd, CONTROL_MAX_FDS);
	if (ppoll(pfd, (nfds_t)npfd, &ts, &p->waitmask) < 0) {
		if (errno != EINTR)
			log_warn("main loop: ppoll: %s", strerror(errno));
		npfd = 0;
	}
	control_handle(p->ctl, pfd, npfd);
}

/* The main loop, until SIGTERM or SIGINT. */
static void run(struct running *r, struct proc *p, const char *path)
{
	int64_t next_stats = time_mono_ms() + r->cfg->stats_interval_ms;

	while (!got_term) {
		loop_wait(p, next_stats);
		if (p->next_watchdog != INT64_MAX && time_mono_ms() >= p->next_watchdog) {
			notify_send("WATCHDOG=1");
			p->next_watchdog = time_mono_ms() + p->watchdog_ms / 2;
		}
		/* not while a notify test uses the outputs: once it is done */
		if ((got_hup || control_reload_wanted(p->ctl)) && !control_busy(p->ctl)) {
			int ok;
			got_hup = 0;
			notify_send("RELOADING=1");
			ok = reload(r, path) == 0;
			web_reload_users(r->web);
			control_set_config(p->ctl, r->cfg);
			control_set_engine(p->ctl, r->engine);
			control_reload_done(p->ctl, ok);
			notify_send("READY=1");
			next_stats = time_mono_ms() + r->cfg->stats_interval_ms;
		}
		engine_tick(r->engine, time_now_ns());
		mqtt_subs_write(r->mqtt); /* the filters a persistent session holds, when they changed */
		if (r->web) {
			health_update(r);
			web_sse_tick(time_mono_ms());
		}
		if (time_mono_ms() >= next_stats) {
			stats_emit(r);
			next_stats += r->cfg->stats_interval_ms;
			if (next_stats < time_mono_ms())
				next_stats = time_mono_ms() + r->cfg->stats_interval_ms;
		}
	}
}

/* Inputs stop first, then the engine (its snapshot), then the outputs get
 * the shutdown timeout to deliver; the journal closes last. */
static void shutdown_all(struct running *r, struct proc *p)
{
	int64_t deadline;

	notify_send("STOPPING=1");
	control_close(p->ctl);
	log_info("shutting down: stopping inputs, flushing outputs (up to %" PRId64 " ms)",
		 r->cfg->shutdown_timeout_ms);
	web_stop(r->web);
	r->web = NULL;
	buses_stop(r);
	ack_engine_set(NULL);
	engine_free(r->engine);
	r->engine = NULL;
	stats_emit(r);
	deadline = time_mono_ms() + r->cfg->shutdown_timeout_ms;
	for (size_t i = 0; i < r->nouts; i++) {
		struct output_stats st;
		output_stop(r->outs[i], deadline);
		output_get_stats(r->outs[i], &st);
		if (st.pending)
			log_info("output %s: %" PRIu64 " %s undelivered at shutdown, kept in the journal",
				 output_name(r->outs[i]), st.pending, plural(st.pending, "line", "lines"));
	}
	control_notify_join(); /* a notify test still sending uses the outputs */
	for (size_t i = 0; i < r->nouts; i++)
		output_free(r->outs[i]);
	free(r->outs);
	pipeline_set_consumer(NULL, NULL);
	pipeline_set_journal(NULL);
	journal_close(r->journal); /* fsync + every position on disk */
	if (r->cfg_shared)
		web_report_set_config(NULL); /* freed now, or by a report still running */
	else
		config_free(r->cfg);
	output_global_cleanup();
	log_info("stopped");
	close(p->lockfd);
	log_close();
}

int main(int argc, char **argv)
{
	struct options o = { .path = CC_SYSCONFDIR "/coldchaind/coldchaind.conf", .duration_ms = 10000 };
	struct running r = { 0 };
	struct proc p = { 0 };
	int rc;

	if (options_parse(argc, argv, &o, &rc))
		return rc;
	if (o.check || o.print)
		return check_or_print(&o);
	if (o.test)
		return test_run(&o);
	/* One malloc arena for every thread: the web listener's and the control
	 * socket's threads each kept an arena of their own, and a hub's page or
	 * status reply (tens of MB, built and freed) stayed there beside the
	 * engine's heap instead of being reused (issue 18: peak RSS of an idle
	 * 2,000-site hub 121 -> 100 MiB).  No thread allocates per message.
	 * glibc's own MALLOC_ARENA_MAX in the environment still decides. */
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, 1);
	if (setup(&o, &r, &p) < 0)
		return 1;
	journal_start(&r);
	r.outs = outputs_create(r.cfg, &r.nouts);
	if (!r.outs)
		fatal("cannot create outputs");
	for (size_t i = 0; i < r.nouts; i++)
		if (output_start(r.outs[i], r.journal) < 0)
			fatal("output %s: cannot start", output_name(r.outs[i]));
	journal_prune(r.journal);
	inputs_start(&r, &p, o.path);
	run(&r, &p, o.path);
	shutdown_all(&r, &p);
	return 0;
}
