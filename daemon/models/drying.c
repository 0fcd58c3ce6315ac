/* drying.c - moisture, kinetics, exhaust water balance, schedule and alarm
 * conditions of kiln drying (processing.md §4.2, §4.3).  The per-sample path
 * is O(1): a fixed ring of filter bins and a handful of running sums. */
#include "drying.h"

#include <errno.h>
#include <math.h>

#include "psychro.h"

#define NS_PER_H 3.6e12
#define NS_PER_S 1e9

/* ---- Pure functions ---- */

double drying_dry_solids(double m0_kg, double mc0_wb)
{
	return m0_kg * (1.0 - mc0_wb);
}

double drying_mc_wb(double m_kg, double m_ds_kg)
{
	return 1.0 - m_ds_kg / m_kg;
}

double drying_mc_db(double m_kg, double m_ds_kg)
{
	return (m_kg - m_ds_kg) / m_ds_kg;
}

double drying_wb_from_db(double x)
{
	return x / (1.0 + x);
}

double drying_db_from_wb(double mc_wb)
{
	return mc_wb / (1.0 - mc_wb);
}

double drying_target_mass(double m_ds_kg, double mc_wb)
{
	return m_ds_kg / (1.0 - mc_wb);
}

double drying_mass_ratio(double fresh_per_dried)
{
	return 1.0 / fresh_per_dried;
}

double drying_moisture_ratio(double x, double x0, double xe)
{
	return (x - xe) / (x0 - xe);
}

double drying_lewis_mr(double k, double t_h)
{
	return exp(-k * t_h);
}

double drying_page_mr(double k, double n, double t_h)
{
	return exp(-k * pow(t_h, n));
}

double drying_lewis_time_h(double k, double mr)
{
	if (isnan(k) || isnan(mr))
		return NAN;
	if (mr >= 1.0)
		return 0.0;
	if (mr <= 0.0 || k <= 0.0)
		return INFINITY;
	return log(1.0 / mr) / k;
}

double drying_page_time_h(double k, double n, double mr)
{
	double t = drying_lewis_time_h(k, mr);

	if (isnan(n) || n <= 0.0)
		return NAN;
	return isfinite(t) ? pow(t, 1.0 / n) : t;
}

double drying_humidity_ratio(double t_c, double rh_pct, double p_pa)
{
	double pv;

	if (!(rh_pct >= 0.0 && rh_pct <= 100.0) || !isfinite(t_c))
		return NAN;
	pv = rh_pct / 100.0 * psychro_sat_pressure(t_c);
	if (!(pv < p_pa))
		return NAN;
	return DRYING_EPSILON * pv / (p_pa - pv);
}

double drying_rh_heated(double t_from_c, double rh_pct, double t_to_c)
{
	return rh_pct * psychro_sat_pressure(t_from_c) / psychro_sat_pressure(t_to_c);
}

double drying_water_rate_kg_h(double mda_kg_s, double w_in, double w_out)
{
	return mda_kg_s * (w_out - w_in) * 3600.0;
}

/* ---- Parameters ---- */

void drying_params_default(struct drying_params *p)
{
	*p = (struct drying_params){ 0 };
	p->mc_target_wb = p->wet_margin = p->dry_margin = p->ratio_max = NAN;
	p->xe = 0.0;
	p->filter_window_s = p->rate_window_h = p->dt_cap_s = NAN;
	p->initial_rate_h = p->stall_frac = p->rise_frac = NAN;
	p->stuck_h = p->stuck_frac = p->stuck_air_c = NAN;
	p->fit_mr_min = 0.0;
	p->fit_mr_max = 1.0;
	p->fit_min_points = 3;
	p->fit_min_span_h = 0.0;
	p->fit_min_r2 = NAN;
	p->initial_phase_h = p->scorch_c = p->scorch_abs_c = p->scorch_undelayed_k = NAN;
	p->fast_start_h = p->fast_start_c = NAN;
	p->exhaust_rh_max = p->outdoor_rh_max = p->tempering_min_h = NAN;
	p->pressure_pa = DRYING_P_STD_PA;
}

int drying_params_check(const struct drying_params *p)
{
	if (!(p->filter_window_s > 0.0) || !(p->rate_window_h > 0.0) || !(p->dt_cap_s > 0.0))
		return -EINVAL;
	if (!(p->pressure_pa > 0.0) || p->fit_min_points < 3 || !(p->fit_mr_min < p->fit_mr_max))
		return -EINVAL;
	if (p->nstages > DRYING_STAGES_MAX)
		return -EINVAL;
	for (size_t i = 0; i + 1 < p->nstages; i++)
		if (!(p->stages[i].duration_h > 0.0) || isinf(p->stages[i].duration_h))
			return -EINVAL;
	return 0;
}

/* ---- State ---- */

void drying_state_init(struct drying_state *s, int64_t start_ns, double m0_kg, double mc0_wb)
{
	*s = (struct drying_state){ 0 };
	s->start_ns = start_ns;
	s->m0_kg = m0_kg;
	s->mc0_wb = mc0_wb;
	s->m_ds_kg = drying_dry_solids(m0_kg, mc0_wb);
	s->mass_raw_kg = s->mass_kg = s->mass_t_h = NAN;
	s->anchor_t_h = s->anchor_kg = s->rate_kg_h = s->rate_initial_kg_h = NAN;
	s->fit_t_first_h = s->fit_t_last_h = NAN;
	s->mass_min_kg = s->still_ref_kg = NAN;
	s->air_c = s->air_rh = s->air_max_c = NAN;
	s->amb_c = s->amb_rh = s->w_in = NAN;
	s->exh_c = s->exh_rh = s->w_out = s->mda_kg_s = s->water_kg_h = NAN;
}

void drying_mark_loading(struct drying_state *s, int64_t ts_ns)
{
	s->mass_min_kg = NAN;
	s->still_ref_kg = NAN;
	s->still_since_ns = ts_ns;
}

static double elapsed_h(const struct drying_state *s, int64_t ts_ns)
{
	return (double)(ts_ns - s->start_ns) / NS_PER_H;
}

/* 0 to take the sample; -1 (counted) when it is bad or late. */
static int admit(struct drying_state *s, uint32_t n_prev, int64_t last_ns, int64_t ts_ns, int finite)
{
	if (!finite) {
		s->bad_samples++;
		return -1;
	}
	if (ts_ns < s->start_ns || (n_prev && ts_ns < last_ns)) {
		s->late_samples++;
		return -1;
	}
	return 0;
}

static void fit_add(struct drying_state *s, const struct drying_params *p, double t_h, double m)
{
	double x, x0, mr, y, u, yp;

	if (isnan(s->m_ds_kg) || !(t_h > 0.0))
		return;
	x = drying_mc_db(m, s->m_ds_kg);
	x0 = drying_mc_db(s->m0_kg, s->m_ds_kg);
	mr = drying_moisture_ratio(x, x0, p->xe);
	if (!(mr > p->fit_mr_min && mr < p->fit_mr_max && mr > 0.0 && mr < 1.0))
		return;
	y = log(mr);
	s->lw_n += 1.0;
	s->lw_t += t_h;
	s->lw_tt += t_h * t_h;
	s->lw_y += y;
	s->lw_ty += t_h * y;
	s->lw_yy += y * y;
	u = log(t_h);
	yp = log(-y);
	s->pg_n += 1.0;
	s->pg_u += u;
	s->pg_uu += u * u;
	s->pg_y += yp;
	s->pg_uy += u * yp;
	s->pg_yy += yp * yp;
	if (isnan(s->fit_t_first_h))
		s->fit_t_first_h = t_h;
	s->fit_t_last_h = t_h;
}

/* One filtered point per filter window: the drying rate, the load-cell
 * fault references and the fits all work on these, not on raw samples. */
static void point_take(struct drying_state *s, const struct drying_params *p, int64_t ts_ns)
{
	double m = s->mass_kg, t = s->mass_t_h;

	s->point_last_ns = ts_ns;
	if (isnan(s->m0_kg)) {
		s->m0_kg = m;
		s->m_ds_kg = drying_dry_solids(m, s->mc0_wb);
	}
	if (isnan(s->anchor_t_h)) {
		s->anchor_t_h = t;
		s->anchor_kg = m;
	} else if (t - s->anchor_t_h >= p->rate_window_h) {
		s->rate_kg_h = (s->anchor_kg - m) / (t - s->anchor_t_h);
		s->anchor_t_h = t;
		s->anchor_kg = m;
		if (t <= p->initial_rate_h && !(s->rate_initial_kg_h >= s->rate_kg_h))
			s->rate_initial_kg_h = s->rate_kg_h;
	}
	if (!(s->mass_min_kg <= m))
		s->mass_min_kg = m;
	/* "no change" is relative to m0: the batch's --mass, or else its first
	 * filtered mass (set just above), so a batch without --mass is judged too */
	if (isnan(s->still_ref_kg) || fabs(m - s->still_ref_kg) >= p->stuck_frac * s->m0_kg) {
		s->still_ref_kg = m;
		s->still_since_ns = ts_ns;
	}
	fit_add(s, p, t, m);
}

static int64_t bin_width_ns(const struct drying_params *p)
{
	double w = p->filter_window_s * NS_PER_S / DRYING_FILTER_BINS;

	return w >= 1.0 ? (int64_t)w : 1;
}

int drying_observe_mass(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double net_kg)
{
	int64_t idx;
	double sum = 0.0, sum_t = 0.0;
	uint32_t n = 0;

	if (admit(s, s->n_mass, s->mass_last_ns, ts_ns, isfinite(net_kg)) < 0)
		return -1;
	idx = (ts_ns - s->start_ns) / bin_width_ns(p);
	/* a bin index behind the reading or absurd (a damaged checkpoint) starts
	 * the filter afresh, as a first reading does; never an overflow */
	if (s->n_mass == 0 || s->bin_abs < 0 || s->bin_abs > idx || idx - s->bin_abs >= DRYING_FILTER_BINS) {
		for (int i = 0; i < DRYING_FILTER_BINS; i++)
			s->bin_n[i] = 0, s->bin_sum_kg[i] = s->bin_sum_t_h[i] = 0.0;
	} else {
		for (int64_t b = s->bin_abs + 1; b <= idx; b++) {
			int i = (int)(b % DRYING_FILTER_BINS);
			s->bin_n[i] = 0, s->bin_sum_kg[i] = s->bin_sum_t_h[i] = 0.0;
		}
	}
	if (s->n_mass == 0)
		s->point_last_ns = ts_ns; /* the first point after a whole window */
	s->bin_abs = idx;
	s->bin_n[idx % DRYING_FILTER_BINS]++;
	s->bin_sum_kg[idx % DRYING_FILTER_BINS] += net_kg;
	s->bin_sum_t_h[idx % DRYING_FILTER_BINS] += elapsed_h(s, ts_ns);
	for (int i = 0; i < DRYING_FILTER_BINS; i++) {
		n += s->bin_n[i];
		sum += s->bin_sum_kg[i];
		sum_t += s->bin_sum_t_h[i];
	}
	s->mass_kg = sum / n;
	s->mass_t_h = sum_t / n;
	s->mass_raw_kg = net_kg;
	s->mass_last_ns = ts_ns;
	s->n_mass++;
	if ((double)(ts_ns - s->point_last_ns) >= p->filter_window_s * NS_PER_S)
		point_take(s, p, ts_ns);
	return 0;
}

static double capped_h(const struct drying_params *p, int64_t from_ns, int64_t to_ns, double *gap_h)
{
	double dt_s = (double)(to_ns - from_ns) / NS_PER_S;

	if (dt_s > p->dt_cap_s) {
		if (gap_h)
			*gap_h += (dt_s - p->dt_cap_s) / 3600.0;
		dt_s = p->dt_cap_s;
	}
	return dt_s / 3600.0;
}

int drying_observe_air(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double t_c,
		       double rh_pct)
{
	if (admit(s, s->n_air, s->air_last_ns, ts_ns, isfinite(t_c) && !isinf(rh_pct)) < 0)
		return -1;
	if (s->n_air) {
		int i = drying_stage_at(p, elapsed_h(s, s->air_last_ns), NULL);

		/* What held since the previous reading: a rest counts as
		 * tempering only if the air really was at or below the stage's
		 * maximum (NaN maximum: any). */
		if (i >= 0 && p->stages[i].tempering && !(s->air_c > p->stages[i].t_max_c))
			s->tempering_h += capped_h(p, s->air_last_ns, ts_ns, NULL);
	}
	s->air_c = t_c;
	s->air_rh = rh_pct;
	if (!(s->air_max_c >= t_c))
		s->air_max_c = t_c;
	s->air_last_ns = ts_ns;
	s->n_air++;
	return 0;
}

int drying_observe_ambient(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double t_c,
			   double rh_pct)
{
	double w = drying_humidity_ratio(t_c, rh_pct, p->pressure_pa);

	if (admit(s, s->n_amb, s->amb_last_ns, ts_ns, isfinite(w)) < 0)
		return -1;
	s->amb_c = t_c;
	s->amb_rh = rh_pct;
	s->w_in = w;
	s->amb_last_ns = ts_ns;
	s->n_amb++;
	return 0;
}

int drying_observe_exhaust(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double t_c,
			   double rh_pct, double mda_kg_s)
{
	double w = drying_humidity_ratio(t_c, rh_pct, p->pressure_pa);

	if (admit(s, s->n_exh, s->exh_last_ns, ts_ns, isfinite(w) && isfinite(mda_kg_s) && mda_kg_s >= 0.0) < 0)
		return -1;
	if (s->n_exh) {
		double dt_h = capped_h(p, s->exh_last_ns, ts_ns, &s->balance_gap_h);

		if (isnan(s->water_kg_h))
			s->balance_gap_h += dt_h;
		else
			s->water_kg += s->water_kg_h * dt_h;
	}
	s->exh_c = t_c;
	s->exh_rh = rh_pct;
	s->w_out = w;
	s->mda_kg_s = mda_kg_s;
	s->water_kg_h = drying_water_rate_kg_h(mda_kg_s, s->w_in, w);
	s->exh_last_ns = ts_ns;
	s->n_exh++;
	return 0;
}

/* ---- Moisture now ---- */

double drying_now_mc_wb(const struct drying_state *s)
{
	return drying_mc_wb(s->mass_kg, s->m_ds_kg);
}

double drying_now_mc_db(const struct drying_state *s)
{
	return drying_mc_db(s->mass_kg, s->m_ds_kg);
}

double drying_now_mass_ratio(const struct drying_state *s)
{
	return s->mass_kg / s->m0_kg;
}

double drying_now_target_mass(const struct drying_state *s, const struct drying_params *p)
{
	return drying_target_mass(s->m_ds_kg, p->mc_target_wb);
}

/* ---- Fits ---- */

static int fit_gates(const struct drying_state *s, const struct drying_params *p, double n)
{
	if (isnan(s->m_ds_kg))
		return -ENODATA;
	if (n < (double)p->fit_min_points || n < 3.0)
		return -EAGAIN;
	if (p->fit_min_span_h > 0.0 && !(s->fit_t_last_h - s->fit_t_first_h >= p->fit_min_span_h))
		return -EAGAIN;
	return 0;
}

static int r2_gate(const struct drying_params *p, double sse, double syy, double sy, double n, double *r2)
{
	double sst = syy - sy * sy / n, r = sst > 0.0 ? 1.0 - sse / sst : NAN;

	if (r2)
		*r2 = r;
	if (!isnan(p->fit_min_r2) && !(r >= p->fit_min_r2))
		return -EDOM;
	return 0;
}

int drying_fit_lewis(const struct drying_state *s, const struct drying_params *p, double *k, double *r2)
{
	int rc = fit_gates(s, p, s->lw_n);
	double kk;

	if (rc < 0)
		return rc;
	kk = -s->lw_ty / s->lw_tt;
	if (!(kk > 0.0))
		return -EDOM;
	*k = kk;
	return r2_gate(p, s->lw_yy - s->lw_ty * s->lw_ty / s->lw_tt, s->lw_yy, s->lw_y, s->lw_n, r2);
}

int drying_fit_page(const struct drying_state *s, const struct drying_params *p, double *k, double *n,
		    double *r2)
{
	int rc = fit_gates(s, p, s->pg_n);
	double d, nn, a;

	if (rc < 0)
		return rc;
	d = s->pg_n * s->pg_uu - s->pg_u * s->pg_u;
	if (!(d > 1e-12 * s->pg_n * s->pg_n))
		return -EAGAIN; /* all points at one time */
	nn = (s->pg_n * s->pg_uy - s->pg_u * s->pg_y) / d;
	a = (s->pg_y - nn * s->pg_u) / s->pg_n;
	if (!(nn > 0.0) || !isfinite(a))
		return -EDOM;
	*k = exp(a);
	*n = nn;
	return r2_gate(p, s->pg_yy - a * s->pg_y - nn * s->pg_uy, s->pg_yy, s->pg_y, s->pg_n, r2);
}

/* The remaining time is taken from the moisture measured now, not from the
 * batch's start: with Lewis ln(MR_now/MR_t)/k; with Page the difference of
 * the model times at MR_t and at MR_now.  A batch that dried slower than
 * the fit says so keeps a true ETA instead of one that ran out. */
double drying_eta_h(const struct drying_state *s, const struct drying_params *p, enum drying_model m,
		    int64_t now_ns)
{
	double x0, xt, x, mr_t, mr_now, k, n = 1.0, left;
	int rc;

	if (isnan(s->m_ds_kg) || isnan(s->mass_kg) || isnan(p->mc_target_wb))
		return NAN;
	x = drying_now_mc_db(s);
	xt = drying_db_from_wb(p->mc_target_wb);
	if (x <= xt)
		return 0.0;
	if (xt <= p->xe)
		return INFINITY;
	rc = m == DRYING_PAGE ? drying_fit_page(s, p, &k, &n, NULL) : drying_fit_lewis(s, p, &k, NULL);
	if (rc < 0)
		return NAN;
	x0 = drying_mc_db(s->m0_kg, s->m_ds_kg);
	mr_t = drying_moisture_ratio(xt, x0, p->xe);
	mr_now = drying_moisture_ratio(x, x0, p->xe);
	left = drying_page_time_h(k, n, mr_t) - drying_page_time_h(k, n, mr_now);
	left -= elapsed_h(s, now_ns) - s->mass_t_h; /* counts down between load-cell samples */
	return left > 0.0 ? left : 0.0;
}

/* ---- Schedule ---- */

int drying_stage_at(const struct drying_params *p, double elapsed_h_, double *into_h)
{
	double t0 = 0.0;
	size_t i;

	if (p->nstages == 0 || p->nstages > DRYING_STAGES_MAX || isnan(elapsed_h_))
		return -1;
	for (i = 0; i + 1 < p->nstages; i++) {
		if (elapsed_h_ < t0 + p->stages[i].duration_h)
			break;
		t0 += p->stages[i].duration_h;
	}
	if (into_h)
		*into_h = elapsed_h_ - t0;
	return (int)i;
}

int drying_air_in_stage(const struct drying_params *p, int i, double t_c)
{
	const struct drying_stage *st;

	if (i < 0 || (size_t)i >= p->nstages || i >= DRYING_STAGES_MAX || isnan(t_c))
		return -1;
	st = &p->stages[i];
	return !(t_c < st->t_min_c) && !(t_c > st->t_max_c);
}

double drying_schedule_h(const struct drying_params *p)
{
	double t = 0.0;

	for (size_t i = 0; i < p->nstages && i < DRYING_STAGES_MAX; i++)
		t += p->stages[i].duration_h > 0.0 ? p->stages[i].duration_h : INFINITY;
	return t;
}

/* ---- Conditions (§4.3) ---- */

int drying_scorch_level(const struct drying_state *s, const struct drying_params *p, int64_t now_ns)
{
	int lvl = 0;

	if (s->n_air == 0)
		return 0;
	if (!(elapsed_h(s, now_ns) < p->initial_phase_h) && s->air_c > p->scorch_c)
		lvl = s->air_c > p->scorch_c + p->scorch_undelayed_k ? 2 : 1;
	if (s->air_c > p->scorch_abs_c)
		lvl = 2;
	return lvl;
}

int drying_is_fast_start(const struct drying_state *s, const struct drying_params *p, int64_t now_ns)
{
	return s->n_air && elapsed_h(s, now_ns) < p->fast_start_h && s->air_c > p->fast_start_c;
}

/* Still above the target: by moisture when known, else by the m/m0 ratio. */
static int above_target(const struct drying_state *s, const struct drying_params *p)
{
	if (!isnan(s->m_ds_kg))
		return drying_now_mc_wb(s) > p->mc_target_wb;
	return drying_now_mass_ratio(s) > p->ratio_max;
}

unsigned drying_stall(const struct drying_state *s, const struct drying_params *p, int64_t now_ns)
{
	unsigned v = 0;
	double t = elapsed_h(s, now_ns);
	int i = drying_stage_at(p, t, NULL);

	if (s->n_air && i >= 0 && !p->stages[i].tempering && s->air_c < p->stages[i].t_min_c)
		v |= DRYING_V_STALL_COLD;
	if (t > p->initial_rate_h && s->rate_initial_kg_h > 0.0 &&
	    s->rate_kg_h < p->stall_frac * s->rate_initial_kg_h && above_target(s, p))
		v |= DRYING_V_STALL_RATE;
	return v;
}

int drying_is_exhaust_saturated(const struct drying_state *s, const struct drying_params *p)
{
	return s->n_exh && s->exh_rh > p->exhaust_rh_max;
}

int drying_is_open_air_wet(const struct drying_state *s, const struct drying_params *p)
{
	return s->n_amb && s->amb_rh > p->outdoor_rh_max;
}

unsigned drying_loadcell_fault(const struct drying_state *s, const struct drying_params *p, int64_t now_ns)
{
	unsigned v = 0;

	if (s->mass_min_kg > 0.0 && (s->mass_kg - s->mass_min_kg) / s->mass_min_kg > p->rise_frac)
		v |= DRYING_V_LOADCELL_RISE;
	if (!isnan(s->still_ref_kg) && !isnan(p->stuck_frac) &&
	    (double)(now_ns - s->still_since_ns) / NS_PER_H >= p->stuck_h &&
	    s->n_air && s->air_c > p->stuck_air_c)
		v |= DRYING_V_LOADCELL_STUCK;
	return v;
}

int drying_is_overdried(const struct drying_state *s, const struct drying_params *p)
{
	return drying_now_mc_wb(s) < p->mc_target_wb - p->dry_margin;
}

unsigned drying_unload_verdict(const struct drying_state *s, const struct drying_params *p)
{
	unsigned v = 0;
	int has_tempering = 0;

	if (drying_now_mc_wb(s) > p->mc_target_wb + p->wet_margin || drying_now_mass_ratio(s) > p->ratio_max)
		v |= DRYING_V_WET;
	for (size_t i = 0; i < p->nstages && i < DRYING_STAGES_MAX; i++)
		has_tempering |= p->stages[i].tempering;
	if (has_tempering && !isnan(p->tempering_min_h) && !(s->tempering_h >= p->tempering_min_h))
		v |= DRYING_V_NO_TEMPERING;
	return v;
}

unsigned drying_verdicts(const struct drying_state *s, const struct drying_params *p, int64_t now_ns)
{
	unsigned v = 0;
	int lvl = drying_scorch_level(s, p, now_ns), i = drying_stage_at(p, elapsed_h(s, now_ns), NULL);

	if (lvl >= 1)
		v |= DRYING_V_SCORCH;
	if (lvl >= 2)
		v |= DRYING_V_SCORCH_HIGH;
	if (drying_is_fast_start(s, p, now_ns))
		v |= DRYING_V_FAST_START;
	v |= drying_stall(s, p, now_ns);
	if (s->n_air && i >= 0 && s->air_c > p->stages[i].t_max_c)
		v |= DRYING_V_STAGE_HOT;
	if (s->n_air && i >= 0 && s->air_rh > p->stages[i].rh_max_pct)
		v |= DRYING_V_STAGE_HUMID;
	if (drying_is_exhaust_saturated(s, p))
		v |= DRYING_V_EXHAUST_SAT;
	if (drying_is_open_air_wet(s, p))
		v |= DRYING_V_OPEN_AIR_WET;
	v |= drying_loadcell_fault(s, p, now_ns);
	if (drying_is_overdried(s, p))
		v |= DRYING_V_OVERDRIED;
	return v | drying_unload_verdict(s, p);
}
