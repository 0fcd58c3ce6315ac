/* report_csv.c - `coldchainctl report --format csv`: one CSV whose first
 * column names the record (report, figure, stay, alarm, gap, data), each
 * record type with its own header row. */
#include "report.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/util.h"

static void csv_cell(FILE *o, const char *s, int first)
{
	if (!first)
		fputc(',', o);
	if (!s)
		return;
	/* A text cell a spreadsheet would run as a formula gets a quote. */
	int formula = (s[0] == '=' || s[0] == '+' || s[0] == '@' || s[0] == '\t' ||
		       (s[0] == '-' && !isdigit((unsigned char)s[1])));
	if (formula || strpbrk(s, ",\"\r\n")) {
		fputc('"', o);
		if (formula)
			fputc('\'', o);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', o);
			fputc(*s, o);
		}
		fputc('"', o);
	} else {
		fputs(s, o);
	}
}

static void csv_row(FILE *o, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		csv_cell(o, va_arg(ap, const char *), i == 0);
	va_end(ap);
	fputc('\n', o);
}

static void csv_stats_row(FILE *o, const char *room, int64_t from, int64_t to, const struct report_series *t,
			  const struct report_stats *ts, const struct report_series *h, const struct report_stats *hs)
{
	char a[64], b[64], hrs[32], tn[32], tmin[32], tmax[32], tmean[32], below[32], above[32];
	char hn[32], hmin[32], hmax[32], hmean[32], tsens[160], hsens[160], tint[32], hint[32];

	report_fmt_utc(from, a, sizeof(a));
	report_fmt_utc(to, b, sizeof(b));
	snprintf(hrs, sizeof(hrs), "%.3f", (double)(to - from) / 3600000.0);
	snprintf(tn, sizeof(tn), "%zu", ts->n);
	snprintf(hn, sizeof(hn), "%zu", hs->n);
	report_fmt_num(tmin, sizeof(tmin), ts->n ? ts->min : NAN, 2);
	report_fmt_num(tmax, sizeof(tmax), ts->n ? ts->max : NAN, 2);
	snprintf(tmean, sizeof(tmean), "%s", "");
	if (ts->n)
		snprintf(tmean, sizeof(tmean), "%.6f", ts->sum / (double)ts->n);
	report_fmt_num(below, sizeof(below), ts->below_h, 3);
	report_fmt_num(above, sizeof(above), ts->above_h, 3);
	report_fmt_num(hmin, sizeof(hmin), hs->n ? hs->min : NAN, 2);
	report_fmt_num(hmax, sizeof(hmax), hs->n ? hs->max : NAN, 2);
	snprintf(hmean, sizeof(hmean), "%s", "");
	if (hs->n)
		snprintf(hmean, sizeof(hmean), "%.6f", hs->sum / (double)hs->n);
	snprintf(tsens, sizeof(tsens), "%s%s%s", t && t->sensor ? t->sensor : "", t && t->channel ? "/" : "",
		 t && t->channel ? t->channel : "");
	snprintf(hsens, sizeof(hsens), "%s%s%s", h && h->sensor ? h->sensor : "", h && h->channel ? "/" : "",
		 h && h->channel ? h->channel : "");
	snprintf(tint, sizeof(tint), "%s", "");
	snprintf(hint, sizeof(hint), "%s", "");
	if (t && t->interval_ms)
		snprintf(tint, sizeof(tint), "%.1f", (double)t->interval_ms / 1000.0);
	if (h && h->interval_ms)
		snprintf(hint, sizeof(hint), "%.1f", (double)h->interval_ms / 1000.0);
	csv_row(o, 19, "stay", room, a, b, hrs, tsens, tint, tn, tmin, tmax, tmean, below, above, hsens, hint, hn,
		hmin, hmax, hmean);
}

static void csv_header(const struct report *r, FILE *o)
{
	struct report_kv kv[REPORT_MAX_KVS];
	struct report_fig f[REPORT_NFIGS];
	size_t n = report_header_kvs(r, kv, REPORT_MAX_KVS), nf = report_lot_figures(r->sl, r->nsl, f);
	char a[64];

	csv_row(o, 3, "report", "key", "value");
	for (size_t i = 0; i < n; i++)
		csv_row(o, 3, "report", kv[i].k, kv[i].v);
	for (size_t i = 0; i < r->ngrades; i++) {
		const struct report_grade *g = &r->grades[i];
		int est = strcmp(g->grade, "D") == 0;
		char k[160], *v;
		snprintf(k, sizeof(k), "grade:%s", g->key);
		if (est || *g->source)
			v = xasprintf("%s = %s (%s%s%s)", g->grade, g->value, est ? "estimate" : "",
				      est && *g->source ? ": " : "", g->source);
		else
			v = xasprintf("%s = %s", g->grade, g->value);
		csv_row(o, 3, "report", k, v);
		free(v);
	}
	fputc('\n', o);
	csv_row(o, 4, "figure", "key", "value", "unit");
	for (size_t i = 0; i < nf; i++) {
		report_fmt_num(a, sizeof(a), f[i].v, 4);
		csv_row(o, 4, "figure", f[i].k, a, f[i].unit);
	}
	fputc('\n', o);
}

/* "%.*f", "" for NaN; "yes", "no", "" for a flag. */
static const char *flag_s(int v) { return v > 0 ? "yes" : v == 0 ? "no" : ""; }

static void csv_step(FILE *o, const struct report_step *st)
{
	char f[14][32], a[64], b[64], e[64];
	const double v[] = { st->final_c, st->target_c, st->margin_k, st->medium_c, st->c_per_h, st->j, st->r2,
			     st->half_h, st->seven_eighths_h, st->remaining_h, st->refit.c_per_h, st->refit.j,
			     st->refit.r2 };
	const int prec[] = { 2, 1, 1, 2, 4, 3, 4, 3, 3, 3, 4, 3, 4 };
	const char *grp = st->kind ? st->kind : "precool";
	char tgt[48];

	for (int k = 0; k < 13; k++)
		report_fmt_num(f[k], sizeof(f[k]), v[k], prec[k]);
	snprintf(f[13], sizeof(f[13]), "%zu", st->refit.n);
	snprintf(tgt, sizeof(tgt), "%s", report_step_estimate(st, grp, "target") ? "estimate (D)" : "");
	report_fmt_utc(st->start, a, sizeof(a));
	report_fmt_utc(st->end, b, sizeof(b));
	report_fmt_utc(st->eta_ms, e, sizeof(e));
	csv_row(o, 29, "step", st->batch, st->process, st->kind, st->profile, st->profile_version, a, b, f[0], f[1],
		tgt, f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], st->eta_ms ? e : "", st->fit, st->status,
		report_step_verdict(st), flag_s(st->underperforming),
		flag_s(st->unreachable), flag_s(st->late_start), f[10], f[11], f[13]);
}

static void csv_step_details(FILE *o, const struct report_step *st)
{
	char a[64], v[32];
	const struct cc_param *sets[2] = { st->pp ? st->pp->params : NULL, st->pc ? st->pc->params : NULL };
	size_t ns[2] = { st->pp ? st->pp->nparams : 0, st->pc ? st->pc->nparams : 0 };

	for (size_t i = 0; i < st->nalarms; i++) {
		const struct alarm_episode *ep = &st->alarms[i].e;
		report_fmt_utc(ep->raised_ms, a, sizeof(a));
		report_fmt_num(v, sizeof(v), ep->value, 2);
		csv_row(o, 8, "step_alarm", st->batch, ep->id, ep->severity, ep->raised_ms ? a : "", v, ep->message,
			report_alarm_end_label(&st->alarms[i]));
	}
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ns[k]; i++) {
			const struct cc_param *pa = &sets[k][i];
			if (pa->value[0] == '"') /* a channel or a name, not a number */
				continue;
			char gr[16], *key = xasprintf("%s.%s", pa->group, pa->key);
			snprintf(gr, sizeof(gr), "%s", pa->grade == 'D' ? "D (estimate)" : pa->grade ? (char[2]){ pa->grade, 0 } : "ungraded");
			csv_row(o, 6, "step_grade", st->batch, key, pa->value, gr, pa->source ? pa->source : "");
			free(key);
		}
	for (size_t i = 0; i < st->npts; i++) {
		char t[32], c[32];
		report_fmt_num(t, sizeof(t), st->pts[i].t_h, 4);
		report_fmt_num(c, sizeof(c), st->pts[i].t_c, 3);
		csv_row(o, 5, "step_point", st->batch, t, c, st->curve_field);
	}
}

/* A fumigation step's dose row and its outside sensors' rows. */
static void csv_step_fum(FILE *o, const struct report_step *st)
{
	const struct cc_exposure_limit *l = report_step_limits(st);
	const double v[] = { st->ct_ppmh, st->ct_g_h_m3, st->refit_ct_ppmh, st->peak_ppm, report_step_hours(st),
			     st->unmonitored_h, st->pp ? st->pp->fumigation.ct_min_ppmh : NAN,
			     st->pp ? st->pp->fumigation.ct_max_ppmh : NAN, st->purge_h, st->purge_estimate_h,
			     st->chamber_t, st->chamber_rh };
	const int prec[] = { 1, 3, 1, 0, 3, 3, 1, 1, 3, 3, 1, 1 };
	char f[12][32], a[64];

	for (int k = 0; k < 12; k++)
		report_fmt_num(f[k], sizeof(f[k]), v[k], prec[k]);
	report_fmt_utc(st->batch_start_ms, a, sizeof(a));
	csv_row(o, 17, "step_fumigation", st->batch, st->batch_start_ms ? a : "", f[0], f[1], f[2], f[3], f[4], f[5],
		f[6], f[7], report_step_verdict(st), st->ct_verdict ? st->ct_verdict : "", f[8], f[9], f[10], f[11]);
	for (size_t i = 0; i < st->nsensors; i++) {
		const struct report_sensor *x = &st->sensors[i];
		double twa_l = l ? l->twa_ppm : NAN, stel_l = l ? l->stel_ppm : NAN;
		const double w[] = { x->twa_ppm, twa_l, x->stel_max_ppm, stel_l, x->projected_twa_ppm, x->unmonitored_h };
		char g[6][32];
		for (int k = 0; k < 6; k++)
			report_fmt_num(g[k], sizeof(g[k]), w[k], k == 5 ? 3 : 4);
		csv_row(o, 15, "step_sensor", st->batch, x->sensor, l ? l->name : "", g[0], g[1],
			report_step_limit_estimate(st, "twa") ? "D (estimate)" : "",
			report_exposure_grade(x->twa_ppm, twa_l), g[2], g[3],
			report_step_limit_estimate(st, "stel") ? "D (estimate)" : "",
			report_exposure_grade(x->stel_max_ppm, stel_l), g[4], report_exposure_grade(x->projected_twa_ppm, twa_l),
			g[5]);
	}
}

/* A drying step's moisture row. */
static void csv_step_dry(FILE *o, const struct report_step *st)
{
	const double v[] = { st->mc_wb, st->mc_db, st->mass_ratio, st->mass_kg, st->k,
			     st->pp ? st->pp->drying.target_mc_wb : NAN, report_step_hours(st) };
	const int prec[] = { 2, 4, 4, 2, 4, 1, 3 };
	char f[7][32], a[64];

	for (int k = 0; k < 7; k++)
		report_fmt_num(f[k], sizeof(f[k]), v[k], prec[k]);
	report_fmt_utc(st->batch_start_ms, a, sizeof(a));
	csv_row(o, 13, "step_drying", st->batch, st->batch_start_ms ? a : "", f[6], f[0], f[1], f[2], f[3],
		st->stage ? st->stage : "", f[4], "lewis (n = 1)", f[5],
		report_step_estimate(st, "drying", "target_mc_wb") ? "D (estimate)" : "", report_step_verdict(st));
}

/* The processing steps: one row each, then their alarms, graded numbers
 * and curve points. */
/* The lot's history (lot_step points), by start. */
static void csv_lot_history(const struct report *r, FILE *o)
{
	char a[64], b[64];

	if (!r->nlsteps)
		return;
	csv_row(o, 8, "lot_step", "step", "batch", "room", "process", "start_utc", "end_utc", "verdict");
	for (size_t i = 0; i < r->nlsteps; i++) {
		const struct report_lot_step *ls = &r->lsteps[i];
		report_lot_step_times(ls, a, b, sizeof(a));
		csv_row(o, 8, "lot_step", ls->step, ls->batch, ls->room, ls->process, a, b, ls->verdict);
	}
	fputc('\n', o);
}

static void csv_steps(const struct report *r, FILE *o)
{
	if (!r->nsteps)
		return;
	csv_row(o, 29, "step", "batch", "process", "kind", "profile", "profile_version", "first_point_utc",
		"last_point_utc", "final_c", "target_c", "target_grade", "pull_margin_k", "medium_mean_c", "C_per_h", "j",
		"r2", "half_h", "seven_eighths_h", "remaining_h", "eta_utc", "fit", "compliance", "verdict",
		"underperforming", "unreachable", "late_start", "refit_C_per_h", "refit_j", "refit_points");
	for (size_t i = 0; i < r->nsteps; i++)
		csv_step(o, &r->steps[i]);
	fputc('\n', o);
	csv_row(o, 17, "step_fumigation", "batch", "start_utc", "ct_ppmh", "ct_g_h_m3", "refit_ct_ppmh", "peak_ppm",
		"exposure_h", "unmonitored_h", "ct_min_ppmh", "ct_max_ppmh", "ct_verdict", "daemon_ct_verdict",
		"purge_h", "purge_estimate_h", "chamber_t", "chamber_rh");
	csv_row(o, 15, "step_sensor", "batch", "sensor", "limit_set", "twa_ppm", "twa_limit_ppm", "twa_limit_grade",
		"twa_grade", "stel_max_ppm", "stel_limit_ppm", "stel_limit_grade", "stel_grade", "projected_twa_ppm",
		"projected_grade", "unmonitored_h");
	csv_row(o, 13, "step_drying", "batch", "start_utc", "hours", "mc_wb_pct", "mc_db", "mass_ratio", "mass_kg",
		"stage", "k_per_h", "model", "target_mc_wb_pct", "target_grade", "verdict");
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct report_step *st = &r->steps[i];
		if (st->kind && strcmp(st->kind, "fumigation") == 0)
			csv_step_fum(o, st);
		else if (st->kind && strcmp(st->kind, "drying") == 0)
			csv_step_dry(o, st);
	}
	fputc('\n', o);
	csv_row(o, 8, "step_alarm", "batch", "id", "severity", "raised_utc", "value", "message", "status");
	csv_row(o, 6, "step_grade", "batch", "parameter", "value", "grade", "source");
	csv_row(o, 5, "step_point", "batch", "hours_from_first_point", "value", "field");
	for (size_t i = 0; i < r->nsteps; i++)
		csv_step_details(o, &r->steps[i]);
	fputc('\n', o);
}

static void csv_stays(const struct report *r, FILE *o)
{
	struct report_stats tt = { .min = INFINITY, .max = -INFINITY }, th = tt;

	csv_row(o, 19, "stay", "room", "from_utc", "to_utc", "hours", "temperature_channel", "temperature_interval_s",
		"temperature_samples", "temperature_min_c", "temperature_max_c", "temperature_mean_c",
		"below_band_h", "above_band_h", "humidity_channel", "humidity_interval_s", "humidity_samples",
		"humidity_min_pct", "humidity_max_pct", "humidity_mean_pct");
	for (size_t i = 0; i < r->nstays; i++) {
		const struct report_stay *s = &r->stays[i];
		csv_stats_row(o, s->room, s->from, s->to, s->have_temp ? &s->temp : NULL, &s->ts,
			      s->have_rh ? &s->rh : NULL, &s->hs);
		report_stats_merge(&tt, &s->ts);
		report_stats_merge(&th, &s->hs);
	}
	csv_stats_row(o, "(all)", r->from, r->to, NULL, &tt, NULL, &th);
	fputc('\n', o);
}

static void csv_alarms(const struct report *r, FILE *o)
{
	char a[64], b[64], c[64];

	csv_row(o, 16, "alarm", "id", "severity", "raised_utc", "value", "limit", "message", "acked_utc", "acked_by",
		"ack_note", "cleared_utc", "shelved_by", "status", "cleared_by", "raised_before_period", "historical");
	for (size_t i = 0; i < r->nalarms; i++) {
		const struct report_alarm *al = &r->alarms[i];
		const struct alarm_episode *e = &al->e;
		char v[32], l[32];
		report_fmt_utc(e->raised_ms, a, sizeof(a));
		report_fmt_utc(e->acked_ms, b, sizeof(b));
		report_fmt_utc(e->cleared_ms, c, sizeof(c));
		report_fmt_num(v, sizeof(v), e->value, 2);
		report_fmt_num(l, sizeof(l), e->limit, 2);
		csv_row(o, 16, "alarm", e->id, e->severity, e->raised_ms ? a : "", v, l, e->message, e->acked_ms ? b : "",
			e->acked_by, e->ack_note, e->cleared_ms ? c : "", e->shelved_by, report_alarm_end_label(al),
			e->cleared_by, e->raised_before ? "yes" : "", e->late ? "yes" : "");
	}
	fputc('\n', o);
}

static void csv_gaps(const struct report *r, FILE *o)
{
	char a[64], b[64], d[64];

	csv_row(o, 7, "gap", "channel", "kind", "from_utc", "to_utc", "duration_s", "");
	for (size_t i = 0; i < r->ngaps; i++) {
		const struct report_gap *g = &r->gaps[i];
		char ch[200];
		snprintf(ch, sizeof(ch), "%s/%s", g->sensor ? g->sensor : "", g->channel ? g->channel : "");
		report_fmt_utc(g->from, a, sizeof(a));
		report_fmt_utc(g->to, b, sizeof(b));
		snprintf(d, sizeof(d), "%.1f", (double)(g->to - g->from) / 1000.0);
		csv_row(o, 7, "gap", ch, g->kind, a, b, d, "");
	}
	fputc('\n', o);
}

static const char *quality_label(int q)
{
	return q == REPORT_Q_GOOD ? "good" : q == REPORT_Q_RANGE ? "out_of_range" : "comm_error";
}

/* Every reading, so a reader can recompute every figure. */
static void csv_data(const struct report *r, FILE *o)
{
	char a[64];

	csv_row(o, 7, "data", "time_utc", "room", "channel", "quantity", "value", "quality");
	for (size_t i = 0; i < r->nstays; i++) {
		const struct report_stay *s = &r->stays[i];
		for (int k = 0; k < 2; k++) {
			const struct report_series *se = k ? &s->rh : &s->temp;
			char ch[200];
			if (!(k ? s->have_rh : s->have_temp))
				continue;
			snprintf(ch, sizeof(ch), "%s/%s", se->sensor ? se->sensor : "", se->channel ? se->channel : "");
			for (size_t j = 0; j < se->n; j++) {
				char t[64], tb[64];
				int64_t ms = se->s[j].t;
				report_fmt_utc(ms, tb, sizeof(tb));
				/* milliseconds, so every row keeps its own timestamp */
				snprintf(t, sizeof(t), "%.19s.%03dZ", tb, (int)(ms % 1000));
				report_fmt_num(a, sizeof(a), se->s[j].v, 2);
				csv_row(o, 7, "data", t, s->room, ch, k ? "humidity" : "temperature", a,
					quality_label(se->s[j].q));
			}
		}
	}
}

void report_write_csv(const struct report *r, FILE *o)
{
	csv_header(r, o);
	csv_lot_history(r, o);
	csv_steps(r, o);
	csv_stays(r, o);
	csv_alarms(r, o);
	csv_gaps(r, o);
	csv_data(r, o);
}
