/* fumigation.c - SO2 chamber dose and worker exposure (processing.md §3).
 * Per reading: O(1) for the chamber, O(FUM_RING_MAX) for the exposure
 * (the STEL ring), no allocation; the states are flat structs. */
#include "fumigation.h"

#include <errno.h>
#include <math.h>

#define NS_PER_S 1e9
#define NS_PER_H 3.6e12

double fum_ppm_to_mg_m3(double ppm)
{
	return ppm * FUM_M_SO2 / FUM_MOLAR_VOLUME_L;
}

double fum_mg_m3_to_ppm(double mg_m3)
{
	return mg_m3 * FUM_MOLAR_VOLUME_L / FUM_M_SO2;
}

double fum_nominal_g_m3(double kg_s_per_t, double tonnes, double free_m3)
{
	if (!(free_m3 > 0) || !(kg_s_per_t >= 0) || !(tonnes >= 0))
		return NAN;
	/* kg SO2 → g, over m³ */
	return kg_s_per_t * tonnes * (FUM_M_SO2 / FUM_M_S) * 1000.0 / free_m3;
}

double fum_purge_estimate_h(double c0_ppm, double c_entry_ppm, double ach_per_h)
{
	if (!(ach_per_h > 0) || !isfinite(ach_per_h) || !(c_entry_ppm > 0) || !isfinite(c_entry_ppm) ||
	    !isfinite(c0_ppm))
		return NAN;
	if (c0_ppm <= c_entry_ppm)
		return 0.0;
	return log(c0_ppm / c_entry_ppm) / ach_per_h;
}

/* ---- chamber ---------------------------------------------------------- */

void fum_chamber_params_default(struct fum_chamber_params *p)
{
	*p = (struct fum_chamber_params){ .ct_min_ppmh = 0, .ct_max_ppmh = INFINITY, .max_gap_s = 600,
					  .exposure_ppm = 0, .entry_ppm = NAN, .ach_per_h = NAN,
					  .purge_overdue_frac = NAN, .flat_window_s = 600, .flat_eps_ppm = 1 };
}

void fum_chamber_init(struct fum_chamber_state *s)
{
	*s = (struct fum_chamber_state){ 0 };
	s->last_ppm = NAN;
	s->peak_ppm = NAN;
	s->change_ppm = NAN;
	s->purge_c0_ppm = NAN;
}

static void chamber_step(struct fum_chamber_state *s, const struct fum_chamber_params *p, double dt_h, double c)
{
	double a = s->last_ppm, lo = a < c ? a : c, hi = a < c ? c : a;

	if (dt_h * 3600.0 > (p->max_gap_s > 0 ? p->max_gap_s : 600.0)) {
		/* Not interpolated: the concentration in a long gap is unknown
		 * (a burn or a purge may lie in it); bound it by the readings. */
		s->unmonitored_h += dt_h;
		s->gap_lo_ppmh += lo * dt_h;
		s->gap_hi_ppmh += hi * dt_h;
		s->gaps++;
	} else {
		s->ct_ppmh += 0.5 * (a + c) * dt_h;
		s->monitored_h += dt_h;
	}
	if (hi > p->exposure_ppm)
		s->exposure_h += dt_h;
}

int fum_chamber_observe(struct fum_chamber_state *s, const struct fum_chamber_params *p, int64_t ts_ns,
			double ppm)
{
	if (!isfinite(ppm)) {
		s->nan_samples++;
		return -EINVAL;
	}
	if (s->last_ns != 0 && ts_ns <= s->last_ns) {
		s->late_samples++;
		return -ERANGE;
	}
	if (ppm < 0)
		ppm = 0;
	if (s->last_ns == 0) {
		s->first_ns = ts_ns;
		s->change_ns = ts_ns;
		s->change_ppm = ppm;
	} else {
		chamber_step(s, p, (double)(ts_ns - s->last_ns) / NS_PER_H, ppm);
	}
	if (isnan(s->peak_ppm) || ppm > s->peak_ppm) {
		s->peak_ppm = ppm;
		s->peak_ns = ts_ns;
	}
	if (!(fabs(ppm - s->change_ppm) <= p->flat_eps_ppm)) {
		s->change_ppm = ppm;
		s->change_ns = ts_ns;
	}
	if (s->phase == FUM_PHASE_PURGE && s->purge_end_ns == 0 && ppm <= p->entry_ppm)
		s->purge_end_ns = ts_ns;
	if (s->phase == FUM_PHASE_PURGE && isnan(s->purge_c0_ppm))
		s->purge_c0_ppm = ppm; /* purge began before any reading */
	s->last_ns = ts_ns;
	s->last_ppm = ppm;
	return 0;
}

int fum_chamber_set_phase(struct fum_chamber_state *s, int phase, int64_t ts_ns)
{
	if (phase < FUM_PHASE_LOADING || phase > FUM_PHASE_DONE)
		return -EINVAL;
	if (phase == s->phase)
		return 0;
	s->phase = phase;
	s->phase_ns = ts_ns;
	if (phase == FUM_PHASE_PURGE && s->purge_start_ns == 0) {
		s->purge_start_ns = ts_ns;
		s->purge_c0_ppm = s->last_ppm;
		s->purge_end_ns = 0;
	}
	if (phase == FUM_PHASE_BURNING) {
		s->change_ns = ts_ns;
		s->change_ppm = s->last_ppm;
	}
	return 0;
}

void fum_chamber_observe_door(struct fum_chamber_state *s, int64_t ts_ns, int open)
{
	s->door_open = open != 0;
	s->door_ns = ts_ns;
}

int fum_chamber_observe_fan(struct fum_chamber_state *s, const struct fum_chamber_params *p, int64_t ts_ns,
			    double v)
{
	int on, was = s->fan_on;

	if (!isfinite(v))
		return -EINVAL;
	if (s->fan_ns != 0 && ts_ns <= s->fan_ns)
		return -ERANGE;
	on = v >= 0.5;
	s->fan_on = on;
	s->fan_ns = ts_ns;
	if (!on || was)
		return 0;
	if (s->phase == FUM_PHASE_BURNING || s->phase == FUM_PHASE_HOLD ||
	    (s->phase == FUM_PHASE_LOADING && s->peak_ppm > p->entry_ppm)) {
		fum_chamber_set_phase(s, FUM_PHASE_PURGE, ts_ns);
		return 1;
	}
	return 0;
}

enum fum_ct_verdict fum_chamber_ct_verdict(const struct fum_chamber_state *s, const struct fum_chamber_params *p)
{
	double lo = s->ct_ppmh + s->gap_lo_ppmh, hi = s->ct_ppmh + s->gap_hi_ppmh;

	if (!(s->monitored_h + s->unmonitored_h > 0))
		return FUM_CT_NONE;
	if (hi < p->ct_min_ppmh)
		return FUM_CT_UNDER;
	if (lo > p->ct_max_ppmh)
		return FUM_CT_OVER;
	if (lo >= p->ct_min_ppmh && hi <= p->ct_max_ppmh)
		return FUM_CT_IN_WINDOW;
	return FUM_CT_UNCERTAIN;
}

double fum_chamber_ct_g_h_m3(const struct fum_chamber_state *s)
{
	return fum_ppm_to_mg_m3(s->ct_ppmh) / 1000.0;
}

const char *fum_ct_verdict_name(enum fum_ct_verdict v)
{
	switch (v) {
	case FUM_CT_NONE:
		return "none";
	case FUM_CT_UNDER:
		return "under-treated";
	case FUM_CT_IN_WINDOW:
		return "in window";
	case FUM_CT_OVER:
		return "over (residue)";
	case FUM_CT_UNCERTAIN:
		return "uncertain (unmonitored time)";
	}
	return "?";
}

double fum_chamber_purge_h(const struct fum_chamber_state *s, int64_t now_ns)
{
	int64_t end = s->purge_end_ns ? s->purge_end_ns : now_ns;

	if (s->purge_start_ns == 0)
		return NAN;
	return end > s->purge_start_ns ? (double)(end - s->purge_start_ns) / NS_PER_H : 0.0;
}

double fum_chamber_purge_estimate_h(const struct fum_chamber_state *s, const struct fum_chamber_params *p)
{
	return fum_purge_estimate_h(s->purge_c0_ppm, p->entry_ppm, p->ach_per_h);
}

enum fum_purge_verdict fum_chamber_purge_verdict(const struct fum_chamber_state *s,
						 const struct fum_chamber_params *p, int64_t now_ns)
{
	double est = fum_chamber_purge_estimate_h(s, p), took = fum_chamber_purge_h(s, now_ns);
	int late;

	if (s->purge_start_ns == 0)
		return FUM_PURGE_NONE;
	/* Without an estimate (no reading at the start, no ACH) nothing is
	 * overdue: the missing data is the stale alarm's to report. */
	late = isfinite(est) && took > est * (1.0 + p->purge_overdue_frac);
	if (s->purge_end_ns)
		return late ? FUM_PURGE_SLOW : FUM_PURGE_OK;
	return late ? FUM_PURGE_OVERDUE : FUM_PURGE_RUNNING;
}

static int chamber_fresh(const struct fum_chamber_state *s, const struct fum_chamber_params *p, int64_t now_ns)
{
	double gap = p->max_gap_s > 0 ? p->max_gap_s : 600.0;

	return s->last_ns != 0 && !isnan(s->last_ppm) && (double)(now_ns - s->last_ns) / NS_PER_S <= gap;
}

int fum_chamber_entry_allowed(const struct fum_chamber_state *s, const struct fum_chamber_params *p,
			      int64_t now_ns)
{
	return chamber_fresh(s, p, now_ns) && s->last_ppm <= p->entry_ppm;
}

int fum_chamber_flat(const struct fum_chamber_state *s, const struct fum_chamber_params *p)
{
	int64_t since = s->change_ns > s->phase_ns ? s->change_ns : s->phase_ns;

	if (s->phase != FUM_PHASE_BURNING || s->last_ns == 0 || !(p->flat_window_s > 0))
		return 0;
	return (double)(s->last_ns - since) / NS_PER_S >= p->flat_window_s;
}

unsigned fum_chamber_alarms(const struct fum_chamber_state *s, const struct fum_chamber_params *p,
			    int64_t now_ns)
{
	unsigned a = 0;
	enum fum_purge_verdict pv = fum_chamber_purge_verdict(s, p, now_ns);

	if (s->phase == FUM_PHASE_DONE) {
		switch (fum_chamber_ct_verdict(s, p)) {
		case FUM_CT_UNDER:
			a |= FUM_A_CT_UNDER;
			break;
		case FUM_CT_OVER:
			a |= FUM_A_CT_OVER;
			break;
		case FUM_CT_UNCERTAIN:
			a |= FUM_A_CT_UNCERTAIN;
			break;
		default:
			break;
		}
	}
	if (s->door_open && !fum_chamber_entry_allowed(s, p, now_ns))
		a |= FUM_A_DOOR;
	if (pv == FUM_PURGE_OVERDUE || pv == FUM_PURGE_SLOW)
		a |= FUM_A_PURGE_OVERDUE;
	if (fum_chamber_flat(s, p))
		a |= FUM_A_FLAT;
	return a;
}

/* ---- worker exposure outside ------------------------------------------ */

void fum_exposure_params_default(struct fum_exposure_params *p)
{
	*p = (struct fum_exposure_params){ .t_ref_h = 8, .twa_limit_ppm = NAN, .stel_limit_ppm = NAN,
					   .stel_window_s = 900, .ceiling_ppm = INFINITY, .idlh_ppm = NAN,
					   .max_gap_s = 300, .fill = FUM_FILL_WORST_ENDPOINT, .fill_ppm = NAN };
}

void fum_exposure_init(struct fum_exposure_state *s, int64_t start_ns)
{
	*s = (struct fum_exposure_state){ 0 };
	s->start_ns = start_ns;
	s->last_ppm = NAN;
	s->peak_ppm = NAN;
}

static struct fum_seg *ring_at(struct fum_exposure_state *s, uint32_t i)
{
	return &s->ring[(s->ring_head + i) % FUM_RING_MAX];
}

static const struct fum_seg *ring_get(const struct fum_exposure_state *s, uint32_t i)
{
	return &s->ring[(s->ring_head + i) % FUM_RING_MAX];
}

/* ∫ c dt (ppm·s) of one segment over the window (e - w, e]. */
static double seg_in_window(int64_t t0, int64_t t1, double c, int64_t e, int64_t w)
{
	int64_t a = t0 > e - w ? t0 : e - w, b = t1 < e ? t1 : e;

	return b > a ? c * (double)(b - a) / NS_PER_S : 0.0;
}

static double ring_window(const struct fum_exposure_state *s, int64_t e, int64_t w)
{
	double sum = 0.0;

	for (uint32_t i = 0; i < s->ring_n; i++) {
		const struct fum_seg *g = ring_get(s, i);
		sum += seg_in_window(g->t0_ns, g->t1_ns, g->ppm, e, w);
	}
	return sum;
}

/* Full ring: merge the adjacent pair spanning the least time into one
 * segment at their time-weighted mean.  The integral is kept exactly; only
 * a window edge falling inside the merged segment sees the mean instead of
 * the two values: error <= (merged length) × |c1 - c2| / window. */
static void ring_merge(struct fum_exposure_state *s)
{
	uint32_t best = 0;
	int64_t best_d = INT64_MAX;

	for (uint32_t i = 0; i + 1 < s->ring_n; i++) {
		int64_t d = ring_at(s, i + 1)->t1_ns - ring_at(s, i)->t0_ns;
		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	{
		struct fum_seg *x = ring_at(s, best), *y = ring_at(s, best + 1);
		double dx = (double)(x->t1_ns - x->t0_ns), dy = (double)(y->t1_ns - y->t0_ns);

		x->ppm = dx + dy > 0 ? (x->ppm * dx + y->ppm * dy) / (dx + dy) : x->ppm;
		x->t1_ns = y->t1_ns;
	}
	for (uint32_t i = best + 1; i + 1 < s->ring_n; i++)
		*ring_at(s, i) = *ring_at(s, i + 1);
	s->ring_n--;
	s->merges++;
}

static int64_t window_ns(const struct fum_exposure_params *p)
{
	double w = p->stel_window_s > 0 ? p->stel_window_s : 900.0;
	return (int64_t)llround(w * NS_PER_S);
}

/* The window mean is piecewise linear in the window's end, with corners
 * where the end or the start crosses a segment boundary: so the maximum of
 * the windows ending inside the new segment [t0, t1] is at t1 or at a
 * boundary + w falling inside it. */
static void stel_update(struct fum_exposure_state *s, int64_t t0, int64_t t1, int64_t w)
{
	double best = ring_window(s, t1, w);
	int64_t best_e = t1;

	for (uint32_t i = 0; i < s->ring_n; i++) {
		const struct fum_seg *g = ring_get(s, i);
		int64_t e = g->t0_ns + w;

		for (int k = 0; k < 2; k++, e = g->t1_ns + w) {
			double v;
			if (e <= t0 || e >= t1)
				continue;
			v = ring_window(s, e, w);
			if (v > best) {
				best = v;
				best_e = e;
			}
		}
	}
	best /= (double)w / NS_PER_S;
	if (best > s->stel_max_ppm || s->stel_max_end_ns == 0) {
		s->stel_max_ppm = best;
		s->stel_max_end_ns = best_e;
	}
}

static void add_segment(struct fum_exposure_state *s, const struct fum_exposure_params *p, int64_t t0, int64_t t1,
			double c, int monitored)
{
	double h = (double)(t1 - t0) / NS_PER_H;
	int64_t w = window_ns(p);

	if (t1 <= t0)
		return;
	if (monitored) {
		s->ppmh += c * h;
		s->monitored_h += h;
	} else {
		s->fill_ppmh += c * h;
		s->unmonitored_h += h;
	}
	if (s->ring_n == FUM_RING_MAX)
		ring_merge(s);
	*ring_at(s, s->ring_n++) = (struct fum_seg){ t0, t1, c };
	stel_update(s, t0, t1, w);
	while (s->ring_n > 1 && ring_at(s, 0)->t1_ns <= t1 - w) {
		s->ring_head = (s->ring_head + 1) % FUM_RING_MAX;
		s->ring_n--;
	}
}

static double fill_value(const struct fum_exposure_params *p, double before, double after)
{
	switch (p->fill) {
	case FUM_FILL_LAST:
		return isnan(before) ? after : before;
	case FUM_FILL_VALUE:
		return p->fill_ppm;
	case FUM_FILL_WORST_ENDPOINT:
	default:
		if (isnan(before))
			return after;
		if (isnan(after))
			return before;
		return before > after ? before : after;
	}
}

static int64_t max_gap_ns(const struct fum_exposure_params *p)
{
	return (int64_t)llround((p->max_gap_s > 0 ? p->max_gap_s : 300.0) * NS_PER_S);
}

int fum_exposure_observe(struct fum_exposure_state *s, const struct fum_exposure_params *p, int64_t ts_ns,
			 double ppm)
{
	if (!isfinite(ppm)) {
		s->nan_samples++;
		return -EINVAL;
	}
	if ((s->last_ns != 0 && ts_ns <= s->last_ns) || (s->last_ns == 0 && s->start_ns != 0 && ts_ns < s->start_ns)) {
		s->late_samples++;
		return -ERANGE;
	}
	if (ppm < 0)
		ppm = 0;
	if (s->last_ns == 0) {
		if (s->start_ns == 0)
			s->start_ns = ts_ns;
		else if (ts_ns > s->start_ns) {
			add_segment(s, p, s->start_ns, ts_ns, fill_value(p, NAN, ppm), 0);
			s->gaps++;
		}
	} else {
		int64_t dt = ts_ns - s->last_ns, held = dt < max_gap_ns(p) ? dt : max_gap_ns(p);

		add_segment(s, p, s->last_ns, s->last_ns + held, s->last_ppm, 1);
		if (dt > held) {
			add_segment(s, p, s->last_ns + held, ts_ns, fill_value(p, s->last_ppm, ppm), 0);
			s->gaps++;
		}
	}
	if (isnan(s->peak_ppm) || ppm > s->peak_ppm)
		s->peak_ppm = ppm;
	s->last_ns = ts_ns;
	s->last_ppm = ppm;
	return 0;
}

/* The newest reading held from last_ns towards now (monitored, at most
 * max_gap), then the open gap (unmonitored, at the fill). */
struct tail {
	int64_t held_end;
	double c_open; /* fill of the open gap */
	double held_h, open_h;
};

static struct tail tail_at(const struct fum_exposure_state *s, const struct fum_exposure_params *p, int64_t now)
{
	struct tail t = { s->last_ns, fill_value(p, s->last_ppm, NAN), 0, 0 };
	int64_t dt = now - s->last_ns, g = max_gap_ns(p);

	if (dt <= 0)
		return t;
	t.held_end = s->last_ns + (dt < g ? dt : g);
	t.held_h = (double)(t.held_end - s->last_ns) / NS_PER_H;
	t.open_h = (double)(now - t.held_end) / NS_PER_H;
	return t;
}

void fum_exposure_figures(const struct fum_exposure_state *s, const struct fum_exposure_params *p,
			  int64_t now_ns, struct fum_exposure_figures *f)
{
	double tref = p->t_ref_h > 0 ? p->t_ref_h : 8.0, ppmh, fillh, rem_h, c_now;
	int64_t w = window_ns(p);
	struct tail t;

	*f = (struct fum_exposure_figures){ 0 };
	f->last_ppm = NAN;
	f->projected_ppm = NAN;
	f->unmonitored_h = s->unmonitored_h;
	f->stel_max_ppm = s->stel_max_ppm;
	if (s->last_ns == 0)
		return;
	/* The ring has dropped what lies a window before the newest reading:
	 * a query cannot look back past it. */
	if (now_ns < s->last_ns)
		now_ns = s->last_ns;
	t = tail_at(s, p, now_ns);
	ppmh = s->ppmh + s->last_ppm * t.held_h;
	fillh = s->fill_ppmh + t.c_open * t.open_h;
	f->monitored_h = s->monitored_h + t.held_h;
	f->unmonitored_h = s->unmonitored_h + t.open_h;
	f->twa_ppm = ppmh / tref;
	f->twa_mg_m3 = fum_ppm_to_mg_m3(f->twa_ppm);
	f->twa_upper_ppm = (ppmh + fillh) / tref;
	if (t.open_h == 0)
		f->last_ppm = s->last_ppm;
	c_now = t.open_h == 0 ? s->last_ppm : t.c_open;
	rem_h = (double)(s->start_ns - now_ns) / NS_PER_H + tref;
	if (rem_h < 0)
		rem_h = 0;
	f->projected_ppm = (ppmh + (p->project_unmonitored ? fillh : 0.0) + c_now * rem_h) / tref;
	{
		double sum = ring_window(s, now_ns, w);

		sum += seg_in_window(s->last_ns, t.held_end, s->last_ppm, now_ns, w);
		sum += seg_in_window(t.held_end, now_ns, t.c_open, now_ns, w);
		f->stel_ppm = sum / ((double)w / NS_PER_S);
	}
	if (f->stel_ppm > f->stel_max_ppm)
		f->stel_max_ppm = f->stel_ppm;
}

unsigned fum_exposure_alarms(const struct fum_exposure_state *s, const struct fum_exposure_params *p,
			     int64_t now_ns)
{
	struct fum_exposure_figures f;
	unsigned a = 0;

	fum_exposure_figures(s, p, now_ns, &f);
	if (!isnan(f.last_ppm)) {
		if (f.last_ppm >= p->stel_limit_ppm)
			a |= FUM_A_STEL_WARN;
		if (f.last_ppm >= p->ceiling_ppm)
			a |= FUM_A_CEILING;
		if (f.last_ppm >= p->idlh_ppm)
			a |= FUM_A_IDLH;
	}
	if (f.stel_ppm > p->stel_limit_ppm)
		a |= FUM_A_STEL;
	if (f.projected_ppm > p->twa_limit_ppm)
		a |= FUM_A_TWA_PROJECTED;
	return a;
}
