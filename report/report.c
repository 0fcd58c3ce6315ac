/* report.c - a lot's storage history for a buyer or an auditor, read back
 * from InfluxDB (shelf_life, temperature, humidity, alert) and the
 * configuration (profile, channels, intervals): the engine both
 * `coldchainctl report` (ctl/report.c: options, printing, exit codes) and
 * the daemon's web page (daemon/web/report_page.c) run.  Here: the InfluxDB
 * to read, the period's defaults, the header both formats share, and the
 * order of the work: report_fetch.c reads (the only InfluxQL),
 * report_analyse.c computes (pure), report_csv.c and report_html.c write. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/util.h"

void report_err(struct report *r, const char *fmt, ...)
{
	char msg[sizeof(r->err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->err[0])
		snprintf(r->err, sizeof(r->err), "%s", msg);
	if (!r->quiet)
		fprintf(stderr, "coldchainctl report: %s\n", msg);
}

void report_fmt_utc(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void report_lot_step_times(const struct report_lot_step *ls, char *start, char *end, size_t len)
{
	start[0] = end[0] = '\0';
	if (ls->start)
		report_fmt_utc(ls->start, start, len);
	if (ls->end)
		report_fmt_utc(ls->end, end, len);
}

/* ISO 8601 with a zone (time_parse_iso8601: "2026-06-12T08:00:00+07:00",
 * "...Z"), not before 1970, or "now", or an integer of epoch seconds.
 * 0 or -1. */
int report_parse_time_ms(const char *s, int64_t *out)
{
	int64_t ns;
	char *e;

	if (strcmp(s, "now") == 0) {
		*out = time_now_ns() / 1000000;
		return 0;
	}
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (*s && *e == '\0' && errno == 0 && v > 0) {
		*out = (int64_t)v * 1000;
		return 0;
	}
	if (time_parse_iso8601(s, strlen(s), &ns) < 0 || ns < 0)
		return -1;
	*out = ns / 1000000;
	return 0;
}

static char *read_first_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[512];

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

static void find_lot(struct report *r)
{
	const struct cc_room_conf *room;
	const struct cc_lot_conf *lot = config_find_lot(r->cfg, r->lot, &room);

	if (lot) {
		r->roomc = room;
		r->lotc = lot;
		r->prof = lot->profile;
	}
}

/* The profile's numbers with their grades, as the configuration loader
 * parsed them (config/profiles.conf: KEY = (VALUE, "GRADE: source")).
 * A D number is an estimate; a number the file does not grade says so. */
static void grades_from_profile(struct report *r, const struct cc_profile *p)
{
	for (size_t i = 0; p && i < p->nparams; i++) {
		const struct cc_param *pa = &p->params[i];
		struct report_grade *g;
		char gr[2] = { pa->grade, '\0' };

		r->grades = xrealloc(r->grades, (r->ngrades + 1) * sizeof(*r->grades));
		g = &r->grades[r->ngrades++];
		g->key = xstrdup(pa->key);
		g->group = pa->group;
		g->value = xstrdup(pa->value);
		g->grade = xstrdup(pa->grade ? gr : "ungraded");
		g->source = xstrdup(pa->source ? pa->source : "");
	}
}

/* 1 when the profile grades its number KEY D (an engineering estimate). */
static int prof_estimate(const struct cc_profile *p, const char *key)
{
	for (size_t i = 0; p && i < p->nparams; i++)
		if (strcmp(p->params[i].key, key) == 0)
			return p->params[i].grade == 'D';
	return 0;
}

const char *report_band_estimate(const struct report *r)
{
	const struct cc_profile *p = r->prof;

	/* A D-graded number is an estimate wherever it is printed. */
	return p && ((r->band_low == p->limits.band_low && prof_estimate(p, "band_low")) ||
		     (r->band_high == p->limits.band_high && prof_estimate(p, "band_high")))
		       ? " (estimate)"
		       : "";
}

/* The storage band: the first room's own, else the profile's. */
static void set_band(struct report *r)
{
	const struct cc_room_conf *rc = config_find_room(r->cfg, r->stays[0].room);

	r->band_low = r->prof ? r->prof->limits.band_low : NAN;
	r->band_high = r->prof ? r->prof->limits.band_high : NAN;
	if (rc && !isnan(rc->limits.band_low))
		r->band_low = rc->limits.band_low;
	if (rc && !isnan(rc->limits.band_high))
		r->band_high = rc->limits.band_high;
}

static const char *model_name(int m)
{
	switch (m) {
	case CC_MODEL_ARRHENIUS: return "Arrhenius";
	case CC_MODEL_Q10: return "Q10";
	case CC_MODEL_SQRT: return "square-root (Ratkowsky)";
	case CC_MODEL_PIECEWISE_Q10: return "piecewise Q10";
	}
	return "none";
}

void report_fmt_num(char *buf, size_t len, double v, int prec)
{
	if (isnan(v) || isinf(v))
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%.*f", prec, v);
}

size_t report_header_kvs(const struct report *r, struct report_kv *kv, size_t max)
{
	size_t n = 0;
	char a[64], b[64];
	const struct cc_profile *p = r->prof;

#define KV(key, ...) do { if (n < max) { kv[n].k = key; kv[n].is_time = 0; snprintf(kv[n].v, sizeof(kv[n].v), __VA_ARGS__); n++; } } while (0)
#define KVT(key, ms) do { if (n < max) { kv[n].k = key; kv[n].is_time = 1; kv[n].t_ms = (ms); report_fmt_utc(kv[n].t_ms, kv[n].v, sizeof(kv[n].v)); n++; } } while (0)
	KV("lot", "%s", r->lot);
	KV("site", "%s", r->site ? r->site : "");
	KV("product", "%s", r->product ? r->product : r->lotc ? r->lotc->product : "");
	KV("profile", "%s", r->profile ? r->profile : p ? p->name : "");
	KV("profile_version", "%s", r->profile_version ? r->profile_version : p ? p->version : "");
	if (p && p->description)
		KV("profile_description", "%s", p->description);
	KVT("loaded_utc", r->lotc ? r->lotc->loaded_ns / 1000000 : 0);
	if (r->lotc && r->lotc->dispatch)
		KVT("planned_dispatch_utc", r->lotc->dispatch_ns / 1000000);
	KVT("period_from_utc", r->from);
	KVT("period_to_utc", r->to);
	report_fmt_num(a, sizeof(a), r->band_low, 1);
	report_fmt_num(b, sizeof(b), r->band_high, 1);
	KV("band_c", "%s..%s%s", a, b, report_band_estimate(r));
	if (p) {
		KV("model", "%s", model_name(p->model));
		if (p->model != CC_MODEL_NONE) {
			KV("model_t_ref_c", "%g%s", p->t_ref_c, prof_estimate(p, "t_ref") ? " (estimate)" : "");
			KV("model_shelf_life_d", "%g%s", (double)p->shelf_life_ms / 86400000.0,
			   prof_estimate(p, "shelf_life") ? " (estimate)" : "");
		}
		if (p->model == CC_MODEL_ARRHENIUS)
			KV("model_ea_kj_mol", "%g%s", p->ea_kj_mol, prof_estimate(p, "ea") ? " (estimate)" : "");
		KV("mkt_dh_r_k", "%g", p->mkt_dh_r_k);
	}
	KV("influxdb", "%s database %s", r->url, r->db);
	KVT("generated_utc", r->generated);
	KV("software", "coldchainctl %s (coldchaind)", CC_VERSION);
	KV("timestamps", "%s", "UTC, as recorded by coldchaind at the time of the reading");
#undef KV
#undef KVT
	return n;
}

const char *report_step_verdict(const struct report_step *st)
{
	const struct cc_process_profile *pp = st->pp;

	if (st->kind && strcmp(st->kind, "fumigation") == 0)
		return report_fum_ct_verdict(st->ct_ppmh, pp ? pp->fumigation.ct_min_ppmh : NAN,
					     pp ? pp->fumigation.ct_max_ppmh : NAN);
	if (st->kind && strcmp(st->kind, "drying") == 0)
		return pp ? report_dry_verdict(st->mc_wb, st->mass_ratio, pp->drying.target_mc_wb,
					       pp->drying.incomplete_margin, pp->drying.overdry_margin,
					       pp->drying.mass_ratio)
			  : "no profile";
	return report_cool_verdict(st->pull_early, st->final_c, st->target_c, st->margin_k);
}

double report_step_hours(const struct report_step *st)
{
	int64_t from = st->batch_start_ms ? st->batch_start_ms : st->start;

	return st->end > from ? (double)(st->end - from) / 3600000.0 : NAN;
}

const struct cc_exposure_limit *report_step_limits(const struct report_step *st)
{
	return st->pp && st->pp->kind == CC_PROCESS_FUMIGATION ? st->pp->fumigation.active : NULL;
}

int report_step_limit_estimate(const struct report_step *st, const char *key)
{
	const struct cc_exposure_limit *l = report_step_limits(st);
	const struct cc_param *p;

	if (!l)
		return 0;
	p = config_process_param(st->pp, "fumigation.worker_limits", key, (int)(l - st->pp->fumigation.limits));
	return p && p->grade == 'D';
}

static void step_free(struct report_step *st)
{
	free(st->batch);
	free(st->process);
	free(st->kind);
	free(st->profile);
	free(st->profile_version);
	free(st->fit);
	free(st->status);
	free(st->pts);
	free(st->phase);
	free(st->ct_verdict);
	free(st->stage);
	for (size_t i = 0; i < st->nsensors; i++)
		free(st->sensors[i].sensor);
	free(st->sensors);
	for (size_t i = 0; i < st->nalarms; i++)
		alarm_history_free_episode(&st->alarms[i].e);
	free(st->alarms);
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nsteps; i++)
		step_free(&r->steps[i]);
	free(r->steps);
	free(r->batches);
	for (size_t i = 0; i < r->nfound; i++)
		free(r->found[i]);
	free(r->found);
	for (size_t i = 0; i < r->nlsteps; i++) {
		free(r->lsteps[i].step);
		free(r->lsteps[i].batch);
		free(r->lsteps[i].room);
		free(r->lsteps[i].process);
		free(r->lsteps[i].verdict);
	}
	free(r->lsteps);
	for (size_t i = 0; i < r->nstays; i++)
		report_stay_free(&r->stays[i]);
	free(r->stays);
	for (size_t i = 0; i < r->nalarms; i++)
		alarm_history_free_episode(&r->alarms[i].e);
	free(r->alarms);
	report_gaps_free(r->gaps, r->ngaps);
	for (size_t i = 0; i < r->ngrades; i++) {
		free(r->grades[i].key);
		free(r->grades[i].value);
		free(r->grades[i].grade);
		free(r->grades[i].source);
	}
	free(r->grades);
	free(r->sl);
	cJSON_Delete(r->sl_json);
	free(r->product);
	free(r->profile);
	free(r->profile_version);
	free(r->site);
	free(r->url);
	free(r->db);
	free(r->user);
	if (r->pass) {
		explicit_bzero(r->pass, strlen(r->pass));
		free(r->pass);
	}
	if (r->cfg && !r->cfg_borrowed)
		config_free(r->cfg);
}

int report_use_influx(struct report *r, const char *url, const char *db)
{
	const struct cc_influx_conf *ic = NULL;

	for (size_t i = 0; r->cfg && i < r->cfg->ninflux; i++)
		if (!r->cfg->influx[i].v2) {
			ic = &r->cfg->influx[i];
			break;
		}
	if (ic) {
		if (!url) { /* its server: its TLS settings too */
			url = ic->url;
			r->ca_file = ic->ca_file;
			r->insecure = ic->insecure;
		}
		if (!db)
			db = ic->database;
		if (ic->username) {
			r->user = xstrdup(ic->username);
			r->pass = ic->password ? xstrdup(ic->password)
					       : ic->password_file ? read_first_line(ic->password_file) : NULL;
		}
	}
	if (r->cfg) {
		r->site = r->cfg->site ? xstrdup(r->cfg->site) : NULL;
		find_lot(r);
	}
	if (!url || !db) {
		report_err(r, "no InfluxDB to read: give --influx URL and --db NAME, or -c CONFIG "
				"with an outputs.influxdb entry");
		return -1;
	}
	r->url = xstrdup(url);
	r->db = xstrdup(db);
	return 0;
}

/* The period's defaults: from the lot's loading (its first shelf_life
 * point when it is not configured) to now.  0, 1 (failed) or 2 (empty). */
int report_set_period(struct report *r)
{
	if (!r->from_set) {
		if (r->lotc)
			r->from = r->lotc->loaded_ns / 1000000;
		else if (report_fetch_first_ms(r, &r->from) != 0)
			return 1;
	}
	if (!r->to_set)
		r->to = r->generated;
	if (r->to <= r->from) {
		report_err(r, "the period is empty (--to is not after --from)");
		return 2;
	}
	return 0;
}

/* The processing steps named with --batch, in that order. */
static int collect_steps(struct report *r)
{
	if (report_fetch_lot_steps(r) < 0)
		return -1;
	if (!r->nbatches) {
		/* the order the lot's history holds; older data (no lot_step
		 * points): the batches whose process points name the lot */
		for (size_t i = 0; i < r->nlsteps; i++)
			if (r->lsteps[i].batch && *r->lsteps[i].batch && strcmp(r->lsteps[i].step, "harvest") != 0) {
				r->found = xrealloc(r->found, (r->nfound + 1) * sizeof(*r->found));
				r->found[r->nfound++] = xstrdup(r->lsteps[i].batch);
			}
		if (!r->nfound && report_fetch_lot_batches(r) < 0)
			return -1;
		r->batches = xcalloc(r->nfound + 1, sizeof(*r->batches));
		for (size_t i = 0; i < r->nfound; i++)
			r->batches[r->nbatches++] = r->found[i];
	}
	r->steps = xcalloc(r->nbatches + 1, sizeof(*r->steps));
	for (size_t i = 0; i < r->nbatches; i++) {
		int rc = report_fetch_step(r, r->batches[i], &r->steps[r->nsteps]);
		r->nsteps++;
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Reads and analyses the lot's stays, in order (the gaps keep the order in
 * which they are found among those starting at the same time). */
int report_collect(struct report *r)
{
	if (report_fetch_shelf_life(r) < 0)
		return -1;
	report_make_stays(r->sl, r->nsl, r->roomc ? r->roomc->name : NULL, r->from, r->to, &r->stays, &r->nstays);
	if (!r->nstays) {
		report_err(r, "lot %s: no shelf_life points between --from and --to in InfluxDB %s "
				"database %s, and the lot is not in the configuration",
			r->lot, r->url, r->db);
		return -1;
	}
	if (!r->prof)
		r->prof = config_find_profile(r->cfg, r->profile);
	set_band(r);
	for (size_t i = 0; i < r->nstays; i++) {
		struct report_stay *s = &r->stays[i];
		if (report_fetch_stay(r, s, config_find_room(r->cfg, s->room), i == 0, i + 1 == r->nstays) < 0)
			return -1;
		report_analyse_series(&s->temp, s->from, s->to, r->generated, r->band_low, r->band_high, &s->ts,
				      &r->gaps, &r->ngaps);
		report_analyse_series(&s->rh, s->from, s->to, r->generated, NAN, NAN, &s->hs, &r->gaps, &r->ngaps);
	}
	report_gaps_sort(r->gaps, r->ngaps);
	grades_from_profile(r, r->prof);
	return collect_steps(r);
}

/* To -o FILE (through FILE.tmp, renamed when complete) or stdout. */
