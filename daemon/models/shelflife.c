/* shelflife.c - rate ratios and per-lot accumulators (domain.md §2).
 * Every update is O(1) and the state is a flat struct of doubles, so it is
 * cheap per sample and trivially checkpointed. */
#include "shelflife.h"

#include <math.h>

#include "psychro.h"

static double clampd(double v, double lo, double hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

/* ln r for piecewise Q10: ∫ ln(Q10(x))/10 dx from t_ref to t, where Q10(x)
 * is the segment's value; continuous in t by construction. */
static double pw_log_rate(const struct sl_params *p, double t)
{
	double lo = p->t_ref_c < t ? p->t_ref_c : t, hi = p->t_ref_c < t ? t : p->t_ref_c, acc = 0.0;
	size_t n = p->npw ? p->npw : 1;

	for (size_t i = 0; i < n; i++) {
		double a = i == 0 ? -INFINITY : p->pw_upper_c[i - 1];
		double b = i + 1 == n ? INFINITY : p->pw_upper_c[i];
		double q = p->npw ? p->pw_q10[i] : p->q10;
		double x0 = lo > a ? lo : a, x1 = hi < b ? hi : b;

		if (x1 > x0 && q > 0)
			acc += log(q) * (x1 - x0) / 10.0;
	}
	return t >= p->t_ref_c ? acc : -acc;
}

double sl_rate(const struct sl_params *p, double t_c)
{
	double t, d;

	if (isnan(t_c))
		return NAN;
	t = clampd(t_c, p->valid_min_c, p->valid_max_c);
	switch (p->kind) {
	case SL_NONE:
		return 0.0;
	case SL_ARRHENIUS:
		return exp(-(p->ea_j_mol / SL_R_GAS) * (1.0 / (t + SL_K0) - 1.0 / (p->t_ref_c + SL_K0)));
	case SL_Q10:
		return pow(p->q10, (t - p->t_ref_c) / 10.0);
	case SL_SQRT:
		if (t <= p->t_min_c)
			return 0.0;
		d = (t - p->t_min_c) / (p->t_ref_c - p->t_min_c);
		return d * d;
	case SL_PIECEWISE_Q10:
		return exp(pw_log_rate(p, t));
	}
	return NAN;
}

double sl_life_h(const struct sl_params *p, double t_c)
{
	double r = sl_rate(p, t_c);
	if (isnan(r))
		return NAN;
	return r > 0 ? p->sl_ref_h / r : INFINITY;
}

void lot_params_default(struct lot_params *p)
{
	*p = (struct lot_params){ 0 };
	p->sl.kind = SL_NONE;
	p->sl.valid_min_c = -50;
	p->sl.valid_max_c = 60;
	p->sl.sl_ref_h = 1;
	p->mkt_dh_r_k = 10000.0;
	p->dh_thr_c = INFINITY;
	p->chill_thr_c = -INFINITY;
	p->aw = 0.98;
	p->wl_crit = 0.05;
	p->dt_cap_s = 1800;
	p->gap_fill = SL_GAP_WORST_ENDPOINT;
	p->pre_c = NAN;
}

void lot_state_init(struct lot_state *s)
{
	*s = (struct lot_state){ 0 };
	s->last_rh = NAN;
	s->product_c = NAN;
	s->last_air_c = NAN;
}

/* MKT is a physical average over any temperature: clamp only to keep the
 * exponential in range for absurd input. */
static double mkt_clamp(double t)
{
	return clampd(t, -100.0, 150.0);
}

void lot_step(struct lot_state *s, const struct lot_params *p, double dt_h, double t_air_c, double rh)
{
	double tp0, tp1, tp, r, kt, dp;

	if (!(dt_h > 0) || isnan(t_air_c))
		return;
	tp0 = isnan(s->product_c) ? t_air_c : s->product_c;
	if (p->tau_h > 0)
		tp1 = tp0 + (t_air_c - tp0) * (1.0 - exp(-dt_h / p->tau_h));
	else
		tp1 = t_air_c;
	tp = p->tau_h > 0 ? 0.5 * (tp0 + tp1) : t_air_c;
	s->product_c = tp1;

	r = sl_rate(&p->sl, tp);
	if (p->sl.kind != SL_NONE && p->sl.sl_ref_h > 0 && isfinite(r))
		s->consumed += dt_h * r / p->sl.sl_ref_h;
	s->mkt_sum_w += dt_h * exp(-p->mkt_dh_r_k / (mkt_clamp(tp) + SL_K0));
	s->mkt_sum_t += dt_h;
	if (tp > p->dh_thr_c)
		s->degree_h += (tp - p->dh_thr_c) * dt_h;
	if (tp < p->chill_thr_c)
		s->chill_h += (p->chill_thr_c - tp) * dt_h;
	if (!isnan(rh) && p->kt_fresh > 0) {
		double f = p->wl_crit > 0 ? clampd(s->weight_loss / p->wl_crit, 0, 1) : 0;
		kt = p->kt_fresh + (p->kt_dry - p->kt_fresh) * f;
		dp = psychro_vpd(clampd(tp, -40, 60), p->aw, clampd(t_air_c, -40, 60), clampd(rh, 0, 100));
		/* Condensation (dp < 0) is a rot risk, not a weight gain. */
		if (dp > 0)
			s->weight_loss += kt * dp * dt_h;
	}
	s->observed_h += dt_h;
}

int lot_observe(struct lot_state *s, const struct lot_params *p, int64_t ts_ns, double t_air_c, double rh)
{
	double dt_s, cap = p->dt_cap_s > 0 ? p->dt_cap_s : 1800;

	if (isnan(t_air_c))
		return -1;
	if (s->last_ts_ns == 0 || isnan(s->last_air_c)) {
		/* Loaded before its first reading: nothing was observed, so the
		 * whole span is a gap, at field heat when that is warmer. */
		if (p->loaded_ns > 0 && ts_ns > p->loaded_ns) {
			double fill = !isnan(p->pre_c) && p->pre_c > t_air_c ? p->pre_c : t_air_c;
			double gap_h = (double)(ts_ns - p->loaded_ns) / 3.6e12;

			lot_step(s, p, gap_h, fill, rh);
			s->no_data_h += gap_h;
			s->gaps++;
		}
		s->last_ts_ns = ts_ns;
		s->last_air_c = t_air_c;
		s->last_rh = rh;
		if (isnan(s->product_c) || !(p->tau_h > 0))
			s->product_c = t_air_c;
		return 0;
	}
	if (ts_ns <= s->last_ts_ns)
		return -1;
	dt_s = (double)(ts_ns - s->last_ts_ns) / 1e9;
	if (dt_s > cap) {
		double fill, fill_rh = s->last_rh;
		double gap_h = (dt_s - cap) / 3600.0;

		switch (p->gap_fill) {
		case SL_GAP_LAST:
			fill = s->last_air_c;
			break;
		case SL_GAP_VALID_MAX:
			fill = p->sl.valid_max_c;
			break;
		case SL_GAP_WORST_ENDPOINT:
		default:
			fill = t_air_c > s->last_air_c ? t_air_c : s->last_air_c;
			break;
		}
		/* Drier air is the worse case for weight loss. */
		if (!isnan(rh) && (isnan(fill_rh) || rh < fill_rh))
			fill_rh = rh;
		lot_step(s, p, cap / 3600.0, s->last_air_c, s->last_rh);
		lot_step(s, p, gap_h, fill, fill_rh);
		s->no_data_h += gap_h;
		s->gaps++;
	} else {
		lot_step(s, p, dt_s / 3600.0, s->last_air_c, s->last_rh);
	}
	s->last_ts_ns = ts_ns;
	s->last_air_c = t_air_c;
	s->last_rh = rh;
	/* Without a lag the product is at the air temperature just read, not
	 * at the one the step integrated (that held until now). */
	if (!(p->tau_h > 0))
		s->product_c = t_air_c;
	return 1;
}

double lot_remaining_h(const struct lot_state *s, const struct lot_params *p, double t_c)
{
	double left = 1.0 - s->consumed;

	double tp = s->product_c, h = 0.0;

	if (p->sl.kind == SL_NONE || isnan(t_c))
		return NAN;
	if (left <= 0)
		return 0.0;
	/* The approach of a lagging product to t_c, a tenth of tau at a time,
	 * until it is within 0.01 K (at most 8 tau), then t_c for the rest. */
	for (int i = 0; p->tau_h > 0 && !isnan(tp) && fabs(tp - t_c) > 0.01 && i < 80; i++) {
		double dt = p->tau_h / 10.0, tp1 = t_c + (tp - t_c) * exp(-dt / p->tau_h);
		double r = sl_rate(&p->sl, 0.5 * (tp + tp1)), use = dt * r / p->sl.sl_ref_h;

		if (use >= left)
			return h + left * p->sl.sl_ref_h / r;
		left -= use;
		h += dt;
		tp = tp1;
	}
	return h + left * sl_life_h(&p->sl, t_c);
}

double lot_mkt_c(const struct lot_state *s, const struct lot_params *p)
{
	if (!(s->mkt_sum_t > 0) || !(s->mkt_sum_w > 0))
		return NAN;
	return p->mkt_dh_r_k / -log(s->mkt_sum_w / s->mkt_sum_t) - SL_K0;
}

double sl_mkt_c(const double *hours, const double *t_c, size_t n, double dh_r_k)
{
	double w = 0, t = 0;

	for (size_t i = 0; i < n; i++) {
		w += hours[i] * exp(-dh_r_k / (mkt_clamp(t_c[i]) + SL_K0));
		t += hours[i];
	}
	if (!(t > 0) || !(w > 0))
		return NAN;
	return dh_r_k / -log(w / t) - SL_K0;
}
