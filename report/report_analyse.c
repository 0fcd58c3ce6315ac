/* report_analyse.c - the lot report's analysis (see report_analyse.h): pure,
 * no I/O, time passed in.  Air temperature and RH figures are computed here
 * from the raw samples; MKT, degree-hours, chilling hours, consumed life and
 * weight loss are the daemon's own model accumulators (shelf_life points),
 * cumulative since the lot was loaded, read off the last point. */
#include "report_analyse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/models/cooling.h"
#include "../daemon/models/drying.h"
#include "../daemon/models/fumigation.h"
#include "../daemon/util.h"

void report_series_push(struct report_series *s, int64_t t, double v, int q)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->s = xrealloc(s->s, s->cap * sizeof(*s->s));
	}
	s->s[s->n++] = (struct report_sample){ t, v, q };
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int64_t report_series_median_step(const struct report_series *s)
{
	int64_t *dt, m;

	if (s->n < 2)
		return 0;
	dt = xmalloc((s->n - 1) * sizeof(*dt));
	for (size_t i = 1; i < s->n; i++)
		dt[i - 1] = s->s[i].t - s->s[i - 1].t;
	qsort(dt, s->n - 1, sizeof(*dt), cmp_i64);
	m = dt[(s->n - 1) / 2];
	free(dt);
	return m;
}

static void gap_add(struct report_gap **gaps, size_t *ngaps, const struct report_series *s, const char *kind,
		    int64_t from, int64_t to)
{
	struct report_gap *g;

	*gaps = xrealloc(*gaps, (*ngaps + 1) * sizeof(**gaps));
	g = &(*gaps)[(*ngaps)++];
	g->sensor = s->sensor ? xstrdup(s->sensor) : NULL;
	g->channel = s->channel ? xstrdup(s->channel) : NULL;
	g->kind = kind;
	g->from = from;
	g->to = to;
}

static const char *bad_kind(const struct report_sample *p)
{
	return p->q == REPORT_Q_RANGE ? "out_of_range" : "comm_error";
}

static void stats_add(struct report_stats *st, const struct report_sample *p, int64_t dt, double lo, double hi)
{
	st->n++;
	st->sum += p->v;
	if (p->v < st->min)
		st->min = p->v;
	if (p->v > st->max)
		st->max = p->v;
	if (dt > 0 && !isnan(lo) && p->v < lo)
		st->below_h += (double)dt / 3600000.0;
	if (dt > 0 && !isnan(hi) && p->v > hi)
		st->above_h += (double)dt / 3600000.0;
}

void report_analyse_series(const struct report_series *s, int64_t from, int64_t to, int64_t now_ms, double lo,
			   double hi, struct report_stats *st, struct report_gap **gaps, size_t *ngaps)
{
	int64_t cap = s->interval_ms > 0 ? REPORT_GAP_INTERVALS * s->interval_ms : INT64_MAX;
	size_t bad_start = (size_t)-1; /* the first of the current run of bad readings */

	memset(st, 0, sizeof(*st));
	st->min = INFINITY;
	st->max = -INFINITY;
	if (s->n && s->interval_ms > 0 && s->s[0].t - from > cap)
		gap_add(gaps, ngaps, s, "no data", from, s->s[0].t);
	for (size_t i = 0; i < s->n; i++) {
		const struct report_sample *p = &s->s[i];
		int64_t next = i + 1 < s->n ? s->s[i + 1].t : to, dt = next - p->t;

		if (p->q == REPORT_Q_GOOD) {
			stats_add(st, p, dt > cap ? cap : dt, lo, hi);
			if (bad_start != (size_t)-1) {
				gap_add(gaps, ngaps, s, bad_kind(&s->s[bad_start]), s->s[bad_start].t, p->t);
				bad_start = (size_t)-1;
			}
		} else if (bad_start == (size_t)-1 || s->s[bad_start].q != p->q) {
			if (bad_start != (size_t)-1)
				gap_add(gaps, ngaps, s, bad_kind(&s->s[bad_start]), s->s[bad_start].t, p->t);
			bad_start = i;
		}
		if (i + 1 < s->n && s->interval_ms > 0 && next - p->t > cap)
			gap_add(gaps, ngaps, s, "no data", p->t, next);
	}
	if (bad_start != (size_t)-1)
		gap_add(gaps, ngaps, s, bad_kind(&s->s[bad_start]), s->s[bad_start].t, s->s[s->n - 1].t);
	if (s->n && s->interval_ms > 0 && to - s->s[s->n - 1].t > cap && to < now_ms)
		gap_add(gaps, ngaps, s, "no data", s->s[s->n - 1].t, to);
}

void report_stats_merge(struct report_stats *a, const struct report_stats *b)
{
	a->n += b->n;
	a->sum += b->sum;
	a->below_h += b->below_h;
	a->above_h += b->above_h;
	if (b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
}

static int compare_gaps(const void *a, const void *b)
{
	const struct report_gap *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

void report_gaps_sort(struct report_gap *g, size_t n)
{
	if (n > 1)
		qsort(g, n, sizeof(*g), compare_gaps);
}

static void add_stay(struct report_stay **stays, size_t *nstays, const char *room, int64_t from, int64_t to)
{
	struct report_stay *s;

	*stays = xrealloc(*stays, (*nstays + 1) * sizeof(**stays));
	s = &(*stays)[(*nstays)++];
	memset(s, 0, sizeof(*s));
	s->room = xstrdup(room);
	s->from = from;
	s->to = to;
}

void report_make_stays(struct report_slpt *sl, size_t nsl, const char *conf_room, int64_t from, int64_t to,
		       struct report_stay **stays, size_t *nstays)
{
	size_t i = 0;

	if (nsl == 0) {
		if (conf_room)
			add_stay(stays, nstays, conf_room, from, to);
		return;
	}
	/* time first (the struct begins with it) */
	qsort(sl, nsl, sizeof(*sl), cmp_i64);
	while (i < nsl) {
		size_t j = i;
		while (j < nsl && strcmp(sl[j].room, sl[i].room) == 0)
			j++;
		add_stay(stays, nstays, sl[i].room, *nstays == 0 ? from : sl[i].t, j < nsl ? sl[j].t : to);
		i = j;
	}
}

int report_alarm_is_ours(const char *id, const char *room, const char *lot)
{
	size_t rl = strlen(room);
	const char *rest, *sl;

	if (strncmp(id, room, rl) != 0 || id[rl] != '/')
		return 1;
	rest = id + rl + 1;
	sl = strchr(rest, '/');
	if (!sl)
		return 1;
	return (size_t)(sl - rest) == strlen(lot) && strncmp(rest, lot, strlen(lot)) == 0;
}

int report_alarm_rows(const struct alarm_history_event *ev, size_t n, int64_t from, int64_t to, int first_stay,
		      int last_stay, struct report_alarm **rows, size_t *nrows)
{
	struct alarm_history h = { 0 };
	int rc = alarm_history_build(ev, n, from, to, &h);

	if (rc < 0)
		return rc;
	*rows = xrealloc(*rows, (*nrows + h.n + 1) * sizeof(**rows));
	for (size_t i = 0; i < h.n; i++) /* the episodes move: h.ep's strings are theirs now */
		(*rows)[(*nrows)++] =
			(struct report_alarm){ .e = h.ep[i], .first_stay = first_stay, .last_stay = last_stay };
	free(h.ep);
	return 0;
}

const char *report_alarm_end_label(const struct report_alarm *al)
{
	switch (al->e.end) {
	case ALARM_HISTORY_CLEARED: return "cleared";
	case ALARM_HISTORY_RESET: return "reset";
	case ALARM_HISTORY_ACTIVE: break;
	}
	return al->last_stay ? "active at the end" : "active when the lot left the room";
}

size_t report_lot_figures(const struct report_slpt *sl, size_t nsl, struct report_fig *f)
{
	static const double none[REPORT_SL_NFIELDS] = { NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN };
	const double *v = nsl ? sl[nsl - 1].f : none;
	size_t n = 0;
	double c = v[REPORT_SL_CONSUMED];

	f[n++] = (struct report_fig){ "consumed_pct", "Consumed shelf life", "%", isnan(c) ? NAN : c * 100, 2 };
	f[n++] = (struct report_fig){ "remaining_d", "Remaining shelf life at the last temperature", "d",
				      v[REPORT_SL_REMAINING] / 24, 1 };
	f[n++] = (struct report_fig){ "remaining_at_plan_d", "Remaining shelf life at the plan temperature", "d",
				      v[REPORT_SL_REMAINING_PLAN] / 24, 1 };
	f[n++] = (struct report_fig){ "mkt_c", "Mean kinetic temperature (product)", "°C", v[REPORT_SL_MKT], 2 };
	f[n++] = (struct report_fig){ "degree_hours_kh", "Degree-hours above the threshold", "K·h", v[REPORT_SL_DH],
				      2 };
	f[n++] = (struct report_fig){ "chill_hours_kh", "Chilling degree-hours", "K·h", v[REPORT_SL_CH], 2 };
	f[n++] = (struct report_fig){ "weight_loss_pct", "Weight loss", "%", v[REPORT_SL_WL], 2 };
	f[n++] = (struct report_fig){ "model_no_data_h", "No data (model)", "h", v[REPORT_SL_NODATA], 2 };
	f[n++] = (struct report_fig){ "observed_h", "Observed", "h", v[REPORT_SL_OBS], 2 };
	return n;
}

static void series_free(struct report_series *s)
{
	free(s->s);
	free(s->sensor);
	free(s->channel);
}

void report_stay_free(struct report_stay *s)
{
	free(s->room);
	series_free(&s->temp);
	series_free(&s->rh);
}

void report_gaps_free(struct report_gap *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].sensor);
		free(g[i].channel);
	}
	free(g);
}

int report_cool_fit(const struct report_cool_pt *p, size_t n, double t0_c, double tm_c, double target_c,
		    double lag_y, double delta_k, double margin_k, struct report_cool_fit *f)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, d, b, a, last = NAN, hrs;

	*f = (struct report_cool_fit){ .c_per_h = NAN, .j = NAN, .r2 = NAN, .half_h = NAN, .seven_eighths_h = NAN,
				       .to_target_h = NAN, .remaining_h = NAN, .eta_model = COOL_ETA_NO_FIT,
				       .eta = COOL_ETA_NO_FIT };
	for (size_t i = 0; i < n; i++) {
		double y = cool_y(p[i].t_c, tm_c, t0_c);
		if (!isfinite(p[i].t_h) || !isfinite(y))
			continue;
		last = p[i].t_c;
		if (y > lag_y || p[i].t_c - tm_c <= delta_k)
			continue;
		y = log(y);
		sx += p[i].t_h;
		sy += y;
		sxx += p[i].t_h * p[i].t_h;
		sxy += p[i].t_h * y;
		syy += y * y;
		f->n++;
	}
	d = (double)f->n * sxx - sx * sx;
	if (f->n < 2 || !(d > 0))
		return -EINVAL;
	b = ((double)f->n * sxy - sx * sy) / d;
	a = (sy - b * sx) / (double)f->n;
	f->c_per_h = -b;
	f->j = exp(a);
	d *= (double)f->n * syy - sy * sy;
	f->r2 = d > 0 ? pow((double)f->n * sxy - sx * sy, 2) / d : 1.0;
	f->half_h = cool_half_time_h(f->c_per_h, f->j);
	f->seven_eighths_h = cool_seven_eighths_h(f->c_per_h, f->j);
	f->eta_model = (int)cool_time_to_target_h(f->c_per_h, f->j, t0_c, tm_c, target_c, margin_k, &hrs);
	f->to_target_h = hrs;
	f->eta = (int)cool_remaining_h(f->c_per_h, last, tm_c, target_c, margin_k, &hrs);
	f->remaining_h = hrs;
	return 0;
}

const char *report_cool_verdict(int pull_early, double final_c, double target_c, double margin_k)
{
	if (pull_early > 0)
		return "pulled early";
	if (isfinite(final_c) && isfinite(target_c) && final_c > target_c + margin_k)
		return "pulled early";
	if (isfinite(final_c) && isfinite(target_c) && final_c > target_c)
		return "above target (within the margin)";
	if (!isfinite(final_c))
		return "no reading";
	return "on target";
}

/* --- fumigation and drying steps --- */

double report_fum_ct(const struct report_cool_pt *p, size_t n, double max_gap_h, double *unmonitored_h)
{
	double ct = 0, un = 0;

	for (size_t i = 1; i < n; i++) {
		double dt = p[i].t_h - p[i - 1].t_h;
		if (!(dt > 0))
			continue;
		if (isfinite(max_gap_h) && dt > max_gap_h) {
			un += dt; /* not proven: counted, not integrated */
			continue;
		}
		ct += 0.5 * (p[i].t_c + p[i - 1].t_c) * dt;
	}
	if (unmonitored_h)
		*unmonitored_h = un;
	return ct;
}

double report_fum_ct_g_h_m3(double ct_ppmh)
{
	return ct_ppmh * fum_ppm_to_mg_m3(1.0) / 1000.0;
}

const char *report_fum_ct_verdict(double ct_ppmh, double ct_min, double ct_max)
{
	if (!isfinite(ct_min) && !isfinite(ct_max))
		return "no window set";
	if (!isfinite(ct_ppmh))
		return "no reading";
	if (isfinite(ct_min) && ct_ppmh < ct_min)
		return "under-treated";
	if (isfinite(ct_max) && ct_ppmh > ct_max)
		return "over-treated";
	return "in window";
}

const char *report_exposure_grade(double v, double limit)
{
	if (!isfinite(limit))
		return "no limit set";
	if (!isfinite(v))
		return "no reading";
	return v > limit ? "above the limit" : "within the limit";
}

int report_dry_moisture(double m0_kg, double mc0_wb_pct, double mass_kg, double *mc_wb_pct, double *mc_db)
{
	double mds = drying_dry_solids(m0_kg, mc0_wb_pct / 100.0);

	*mc_wb_pct = *mc_db = NAN;
	if (!(mds > 0) || !(mass_kg > 0))
		return -EINVAL;
	*mc_wb_pct = drying_mc_wb(mass_kg, mds) * 100.0;
	*mc_db = drying_mc_db(mass_kg, mds);
	return 0;
}

const char *report_dry_verdict(double mc_wb_pct, double ratio, double target_mc_wb, double incomplete_margin,
			       double overdry_margin, double ratio_limit)
{
	if (isfinite(mc_wb_pct) && isfinite(target_mc_wb)) {
		if (mc_wb_pct > target_mc_wb + (isfinite(incomplete_margin) ? incomplete_margin : 0))
			return "pulled wet";
		if (isfinite(overdry_margin) && mc_wb_pct < target_mc_wb - overdry_margin)
			return "over-dried";
		return "on target";
	}
	if (isfinite(ratio) && isfinite(ratio_limit))
		return ratio > ratio_limit ? "pulled wet" : "on target";
	return "no moisture";
}
