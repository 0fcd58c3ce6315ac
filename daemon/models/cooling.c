/* cooling.c - Newton cooling with a lag factor and its online fit
 * (processing.md §1).  Every update is O(1): a handful of running sums per
 * probe, no history kept, so a batch's state is a flat struct. */
#include "cooling.h"

#include <errno.h>
#include <math.h>

#define NS_PER_H 3.6e12

static int finite2(double a, double b)
{
	return isfinite(a) && isfinite(b);
}

double cool_y(double t_c, double tm_c, double t0_c)
{
	if (!finite2(t_c, tm_c) || !isfinite(t0_c) || t0_c == tm_c)
		return NAN;
	return (t_c - tm_c) / (t0_c - tm_c);
}

double cool_half_time_h(double c_per_h, double j)
{
	if (!(c_per_h > 0) || !(j > 0) || !finite2(c_per_h, j))
		return NAN;
	return log(2.0 * j) / c_per_h;
}

double cool_seven_eighths_h(double c_per_h, double j)
{
	if (!(c_per_h > 0) || !(j > 0) || !finite2(c_per_h, j))
		return NAN;
	return log(8.0 * j) / c_per_h;
}

double cool_predict_c(double c_per_h, double j, double t0_c, double tm_c, double t_h)
{
	return tm_c + (t0_c - tm_c) * j * exp(-c_per_h * t_h);
}

/* The common part of the two predictions: ln(num/(Tt - Tm))/C, where num
 * is j(T0 - Tm) or T_now - Tm. */
static enum cool_eta log_ratio_time(double c_per_h, double num, double tm_c, double tt_c, double margin_k,
				    double *hours)
{
	double r;

	*hours = NAN;
	if (!finite2(tm_c, tt_c) || !isfinite(num) || !(c_per_h > 0) || !isfinite(c_per_h))
		return COOL_ETA_NO_FIT;
	if (!(margin_k >= 0))
		margin_k = 0;
	if (tm_c >= tt_c - margin_k) {
		*hours = INFINITY;
		return COOL_ETA_UNREACHABLE;
	}
	r = num / (tt_c - tm_c);
	if (r <= 1.0) {
		*hours = 0;
		return COOL_ETA_REACHED;
	}
	*hours = log(r) / c_per_h;
	return COOL_ETA_OK;
}

enum cool_eta cool_time_to_target_h(double c_per_h, double j, double t0_c, double tm_c, double tt_c,
				    double margin_k, double *hours)
{
	if (!(j > 0) || !isfinite(j) || !isfinite(t0_c)) {
		*hours = NAN;
		return COOL_ETA_NO_FIT;
	}
	if (t0_c <= tt_c && tm_c < tt_c - (margin_k > 0 ? margin_k : 0)) {
		*hours = 0;
		return COOL_ETA_REACHED;
	}
	return log_ratio_time(c_per_h, j * (t0_c - tm_c), tm_c, tt_c, margin_k, hours);
}

enum cool_eta cool_remaining_h(double c_per_h, double t_now_c, double tm_c, double tt_c, double margin_k,
			       double *hours)
{
	return log_ratio_time(c_per_h, t_now_c - tm_c, tm_c, tt_c, margin_k, hours);
}

double cool_coefficient_per_h(double j, double t0_c, double tm_c, double tt_c, double t_h)
{
	double r;

	if (!(t_h > 0) || !(j > 0) || !(tt_c > tm_c) || !finite2(t0_c, t_h))
		return NAN;
	r = j * (t0_c - tm_c) / (tt_c - tm_c);
	return r > 1.0 ? log(r) / t_h : NAN;
}

void cool_params_default(struct cool_params *p)
{
	*p = (struct cool_params){
		.target_c = NAN,
		.unreach_margin_k = 0.5,
		.delta_k = 0.5,
		.lag_y = 0.9,
		.lag_h = INFINITY,
		.min_points = 5,
		.r2_min = 0.98,
		.c_min = 0.01,
		.c_max = 20.0,
		.j_min = 0.5,
		.j_max = 2.5,
		.fault_y_max = 1.05,
		.fault_step_frac = 0.8,
		.fault_step_k = 2.0,
		.fault_rise_k = 0.5,
		.c_ref = NAN,
		.underperf_frac = 0.7,
		.pull_margin_k = 1.0,
		.pull_y_max = 0.125,
		.late_start_h = INFINITY,
		.field_heat_c = INFINITY,
		.over_cool_c = -INFINITY,
		.medium_set_c = NAN,
		.medium_hot_k = 1.0,
		.medium_hot_h = 0.25,
	};
}

void cool_medium_init(struct cool_medium *m)
{
	*m = (struct cool_medium){ .last_c = NAN };
}

void cool_probe_init(struct cool_probe *pr, int64_t start_ns)
{
	*pr = (struct cool_probe){ .start_ns = start_ns, .t0_c = NAN, .last_c = NAN, .last_y = NAN };
}

void cool_batch_init(struct cool_batch *b, uint32_t nprobes, int64_t start_ns, int64_t harvest_ns,
		     int64_t pull_plan_ns)
{
	if (nprobes < 1)
		nprobes = 1;
	if (nprobes > COOL_PROBES_MAX)
		nprobes = COOL_PROBES_MAX;
	*b = (struct cool_batch){ .start_ns = start_ns, .harvest_ns = harvest_ns, .pull_plan_ns = pull_plan_ns,
				  .nprobes = nprobes };
	cool_medium_init(&b->medium);
	for (uint32_t i = 0; i < COOL_PROBES_MAX; i++)
		cool_probe_init(&b->probe[i], start_ns);
}

int cool_medium_observe(struct cool_medium *m, const struct cool_params *p, int64_t ts_ns, double tm_c)
{
	if (!isfinite(tm_c)) {
		m->n_bad++;
		return -EINVAL;
	}
	if (m->n && ts_ns <= m->last_ns) {
		m->n_old++;
		return -ERANGE;
	}
	m->n++;
	m->sum_c += tm_c;
	m->last_c = tm_c;
	m->last_ns = ts_ns;
	if (isfinite(p->medium_set_c) && tm_c > p->medium_set_c + p->medium_hot_k) {
		if (!m->hot)
			m->hot_since_ns = ts_ns;
		m->hot = 1;
	} else {
		m->hot = 0;
	}
	return 0;
}

double cool_probe_tm(const struct cool_probe *pr, const struct cool_medium *m, const struct cool_params *p)
{
	if (pr->fitting && m->n > pr->med_n0)
		return (m->sum_c - pr->med_sum0) / (double)(m->n - pr->med_n0);
	if (pr->fitting && isfinite(m->last_c))
		return m->last_c; /* the window has no reading of its own yet */
	if (m->n)
		return m->sum_c / (double)m->n;
	return isfinite(p->medium_set_c) ? p->medium_set_c : NAN;
}

/* §1.4 probe faults, checked on every reading with a known Y; latched. */
static void check_faults(struct cool_probe *pr, const struct cool_params *p, int64_t ts_ns, double t_c,
			 double tm_c, double y)
{
	unsigned f = 0;

	if (isfinite(pr->last_c)) {
		double drop = pr->last_c - t_c, excess = pr->last_c - tm_c;
		if (-drop > p->fault_rise_k && excess > 0)
			f |= COOL_FAULT_RISE;
		if (excess > 0 && drop > p->fault_step_k && drop > p->fault_step_frac * excess &&
		    t_c - tm_c <= p->delta_k)
			f |= COOL_FAULT_STEP;
	}
	if (pr->fitting && y > p->fault_y_max)
		f |= COOL_FAULT_Y;
	if (f && !pr->fault)
		pr->fault_ns = ts_ns;
	pr->fault |= f;
}

/* Adds one fitted point: x hours since the start, y' = ln(T - Tm) (the
 * ln(T0 - Tm) of ln Y is a constant, taken off in the intercept). */
static void fit_add(struct cool_probe *pr, int64_t ts_ns, double t_c, double tm_c)
{
	double x = (double)(ts_ns - pr->start_ns) / NS_PER_H, y = log(t_c - tm_c), u, v;

	if (pr->n == 0) {
		pr->x0 = x;
		pr->y0 = y;
	}
	u = x - pr->x0;
	v = y - pr->y0;
	pr->n++;
	pr->su += u;
	pr->sv += v;
	pr->suu += u * u;
	pr->suv += u * v;
	pr->svv += v * v;
	/* rate form on the midpoint of consecutive fitted readings */
	if (pr->n > 1) {
		double dt = (double)(ts_ns - pr->prev_fit_ns) / NS_PER_H, d = 0.5 * (t_c + pr->prev_fit_c) - tm_c;
		pr->rate_num += (t_c - pr->prev_fit_c) / dt * d;
		pr->rate_den += d * d;
		pr->rate_n++;
	}
	pr->prev_fit_ns = ts_ns;
	pr->prev_fit_c = t_c;
}

int cool_probe_observe(struct cool_probe *pr, const struct cool_medium *m, const struct cool_params *p,
		       int64_t ts_ns, double t_c)
{
	double tm_c, y;

	if (!isfinite(t_c)) {
		pr->n_bad++;
		return -EINVAL;
	}
	if (pr->nread && ts_ns <= pr->last_ns) {
		pr->n_old++;
		return -ERANGE;
	}
	if (!pr->nread) {
		pr->first_ns = ts_ns;
		pr->t0_c = t_c;
	}
	tm_c = cool_probe_tm(pr, m, p);
	y = cool_y(t_c, tm_c, pr->t0_c);
	if (isnan(tm_c))
		pr->n_no_medium++;
	if (isfinite(y) && pr->t0_c - tm_c > p->delta_k) {
		if (!pr->fitting &&
		    (y <= p->lag_y || (double)(ts_ns - pr->start_ns) / NS_PER_H >= p->lag_h)) {
			pr->fitting = 1;
			pr->fit_ns = ts_ns;
			pr->med_n0 = m->n ? m->n - 1 : 0;
			pr->med_sum0 = m->n ? m->sum_c - m->last_c : 0;
		}
		check_faults(pr, p, ts_ns, t_c, tm_c, y);
		if (pr->fitting && !pr->fault) {
			if (t_c - tm_c > p->delta_k)
				fit_add(pr, ts_ns, t_c, tm_c);
			else
				pr->n_noise++;
		}
	}
	pr->last_y = y;
	pr->nread++;
	pr->last_ns = ts_ns;
	pr->last_c = t_c;
	return 0;
}

int cool_batch_observe_probe(struct cool_batch *b, const struct cool_params *p, uint32_t idx, int64_t ts_ns,
			     double t_c)
{
	if (idx >= b->nprobes)
		return -EINVAL;
	return cool_probe_observe(&b->probe[idx], &b->medium, p, ts_ns, t_c);
}

int cool_batch_observe_medium(struct cool_batch *b, const struct cool_params *p, int64_t ts_ns, double tm_c)
{
	return cool_medium_observe(&b->medium, p, ts_ns, tm_c);
}

/* Least squares on the shifted sums: slope b, intercept in the original
 * coordinates, R². */
static void fit_solve(const struct cool_probe *pr, struct cool_fit *f)
{
	double n = (double)pr->n, dxx = n * pr->suu - pr->su * pr->su, dxy = n * pr->suv - pr->su * pr->sv;
	double dyy = n * pr->svv - pr->sv * pr->sv, b, alpha, a;

	if (pr->n < 2 || !(dxx > 0))
		return;
	b = dxy / dxx;
	alpha = (pr->sv - b * pr->su) / n;
	/* ln(T - Tm) = y0 + alpha + b(x - x0); ln Y takes off ln(T0 - Tm) */
	a = pr->y0 + alpha - b * pr->x0 - log(f->t0_c - f->tm_c);
	f->c_per_h = -b;
	f->j = exp(a);
	f->r2 = dyy > 0 ? dxy * dxy / (dxx * dyy) : 1.0;
}

static void fit_gate(const struct cool_probe *pr, const struct cool_params *p, struct cool_fit *f)
{
	if (pr->fault)
		f->why |= COOL_WHY_FAULT;
	if (pr->n < p->min_points || isnan(f->c_per_h)) {
		f->status = f->why ? COOL_FIT_UNRELIABLE : COOL_FIT_TOO_FEW;
		return;
	}
	if (!(f->r2 >= p->r2_min))
		f->why |= COOL_WHY_R2;
	if (!(f->c_per_h >= p->c_min && f->c_per_h <= p->c_max))
		f->why |= COOL_WHY_C_RANGE;
	if (!(f->j >= p->j_min && f->j <= p->j_max))
		f->why |= COOL_WHY_J_RANGE;
	f->status = f->why ? COOL_FIT_UNRELIABLE : COOL_FIT_RELIABLE;
}

void cool_probe_fit(const struct cool_probe *pr, const struct cool_medium *m, const struct cool_params *p,
		    struct cool_fit *f)
{
	*f = (struct cool_fit){ .status = COOL_FIT_TOO_FEW, .n = pr->n, .c_per_h = NAN, .j = NAN, .r2 = NAN,
				.c_rate_per_h = NAN, .half_h = NAN, .seven_eighths_h = NAN, .t0_c = pr->t0_c,
				.tm_c = cool_probe_tm(pr, m, p), .eta = COOL_ETA_NO_FIT, .remaining_h = NAN,
				.eta_model = COOL_ETA_NO_FIT, .to_target_h = NAN };
	if (isfinite(f->tm_c) && pr->t0_c > f->tm_c)
		fit_solve(pr, f);
	if (pr->rate_den > 0)
		f->c_rate_per_h = -pr->rate_num / pr->rate_den;
	f->half_h = cool_half_time_h(f->c_per_h, f->j);
	f->seven_eighths_h = cool_seven_eighths_h(f->c_per_h, f->j);
	fit_gate(pr, p, f);
	if (isfinite(f->tm_c) && f->tm_c >= p->target_c - p->unreach_margin_k) {
		/* the medium decides this, whatever the fit says */
		f->eta = f->eta_model = COOL_ETA_UNREACHABLE;
		f->remaining_h = f->to_target_h = INFINITY;
		return;
	}
	if (f->status != COOL_FIT_RELIABLE)
		return;
	f->eta = cool_remaining_h(f->c_per_h, pr->last_c, f->tm_c, p->target_c, p->unreach_margin_k,
				  &f->remaining_h);
	f->eta_model = cool_time_to_target_h(f->c_per_h, f->j, f->t0_c, f->tm_c, p->target_c,
					     p->unreach_margin_k, &f->to_target_h);
}

int cool_batch_slowest(const struct cool_batch *b)
{
	int best = -1;

	for (uint32_t i = 0; i < b->nprobes && i < COOL_PROBES_MAX; i++) {
		const struct cool_probe *pr = &b->probe[i];
		if (!pr->nread || (pr->fault & COOL_FAULT_STEP))
			continue;
		if (best < 0 || pr->last_c > b->probe[best].last_c)
			best = (int)i;
	}
	return best;
}

/* Verdicts that need no fit: start, field heat, over-cooling, medium. */
static void verdict_batch(const struct cool_batch *b, const struct cool_params *p, int64_t now_ns,
			  struct cool_verdict *v)
{
	const struct cool_medium *m = &b->medium;

	if (b->harvest_ns && (double)(b->start_ns - b->harvest_ns) / NS_PER_H > p->late_start_h)
		v->late_start = 1;
	for (uint32_t i = 0; i < b->nprobes && i < COOL_PROBES_MAX; i++) {
		const struct cool_probe *pr = &b->probe[i];
		if (pr->fault)
			v->probe_faults |= 1u << i;
		if (!pr->nread || (pr->fault & COOL_FAULT_STEP))
			continue;
		if (pr->t0_c > p->field_heat_c)
			v->field_heat = 1;
		if (pr->last_c < p->over_cool_c)
			v->over_cooling = 1;
	}
	if (m->hot && (double)(now_ns - m->hot_since_ns) / NS_PER_H >= p->medium_hot_h)
		v->medium_hot = 1;
}

void cool_batch_verdict(const struct cool_batch *b, const struct cool_params *p, int64_t now_ns,
			struct cool_verdict *v)
{
	const struct cool_probe *pr;

	*v = (struct cool_verdict){ .slowest = cool_batch_slowest(b), .y_slowest = NAN, .c_ratio = NAN };
	verdict_batch(b, p, now_ns, v);
	if (v->slowest < 0) {
		v->fit = (struct cool_fit){ .status = COOL_FIT_TOO_FEW, .c_per_h = NAN, .j = NAN, .r2 = NAN,
					    .eta = COOL_ETA_NO_FIT, .eta_model = COOL_ETA_NO_FIT };
		v->pull_early = 1; /* nothing proves it cooled */
		return;
	}
	pr = &b->probe[v->slowest];
	cool_probe_fit(pr, &b->medium, p, &v->fit);
	v->y_slowest = cool_y(pr->last_c, v->fit.tm_c, pr->t0_c);
	v->unreachable = v->fit.eta == COOL_ETA_UNREACHABLE;
	v->pull_early = !(pr->last_c <= p->target_c + p->pull_margin_k) || !(v->y_slowest <= p->pull_y_max);
	if (v->fit.status == COOL_FIT_RELIABLE && p->c_ref > 0) {
		v->c_ratio = v->fit.c_per_h / p->c_ref;
		v->underperforming = v->c_ratio < p->underperf_frac;
	}
	if (v->fit.eta == COOL_ETA_OK || v->fit.eta == COOL_ETA_REACHED) {
		/* remaining_h counts from the slowest probe's last reading, not from
		 * now: late or quiet data must not push the ETA back */
		v->eta_ns = pr->last_ns + (int64_t)(v->fit.remaining_h * NS_PER_H);
		if (b->pull_plan_ns && v->eta_ns > b->pull_plan_ns)
			v->miss_dispatch = 1;
	}
	if (b->pull_plan_ns && v->unreachable)
		v->miss_dispatch = 1;
}

const char *cool_eta_name(enum cool_eta e)
{
	switch (e) {
	case COOL_ETA_OK:
		return "ok";
	case COOL_ETA_REACHED:
		return "reached";
	case COOL_ETA_UNREACHABLE:
		return "unreachable";
	case COOL_ETA_NO_FIT:
		return "no_fit";
	}
	return "?";
}

const char *cool_fit_status_name(enum cool_fit_status s)
{
	switch (s) {
	case COOL_FIT_RELIABLE:
		return "reliable";
	case COOL_FIT_TOO_FEW:
		return "too_few_points";
	case COOL_FIT_UNRELIABLE:
		return "unreliable";
	}
	return "?";
}
