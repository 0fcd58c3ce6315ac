/* chill.c - carcass chilling compliance (processing.md §2.2) on top of the
 * cooling fit.  Compliance is proven by readings, never by the prediction:
 * the prediction only warns early. */
#include "chill.h"

#include <errno.h>
#include <math.h>

#define NS_PER_H 3.6e12

double chill_f_to_c(double f)
{
	return (f - CHILL_F_AT_0C) / CHILL_F_PER_K;
}

double chill_c_to_f(double c)
{
	return c * CHILL_F_PER_K + CHILL_F_AT_0C;
}

double chill_lb_to_kg(double lb)
{
	return lb * CHILL_KG_PER_LB;
}

double chill_kg_to_lb(double kg)
{
	return kg / CHILL_KG_PER_LB;
}

void chill_params_default(struct chill_params *p)
{
	*p = (struct chill_params){ .nbands = 0, .warn_margin_h = 0.5, .excursion_c = INFINITY,
				    .ice_c = -INFINITY, .gap_h = 0.1, .min_probes = 0,
				    .fresh_c = -INFINITY, .giblets_h = NAN };
	cool_params_default(&p->cool);
}

int chill_deadline_h(const struct chill_params *p, double weight_kg, double *hours)
{
	*hours = NAN;
	if (!isfinite(weight_kg) || !(weight_kg > 0))
		return -EINVAL;
	for (uint32_t i = 0; i < p->nbands && i < CHILL_BANDS_MAX; i++) {
		if (weight_kg <= p->band_upper_kg[i]) {
			*hours = p->band_h[i];
			return isfinite(*hours) && *hours > 0 ? 0 : -EINVAL;
		}
	}
	return -ENOENT;
}

int chill_init(struct chill_state *s, const struct chill_params *p, uint32_t nprobes, int64_t start_ns,
	       double weight_kg, int64_t pull_plan_ns)
{
	double h;
	int rc = chill_deadline_h(p, weight_kg, &h);

	*s = (struct chill_state){ .weight_kg = weight_kg, .deadline_h = h, .compliant_max_c = NAN,
				   .max_after_c = NAN, .min_core_c = NAN };
	cool_batch_init(&s->cool, nprobes, start_ns, 0, pull_plan_ns);
	for (uint32_t i = 0; i < CHILL_GIBLETS_MAX; i++)
		s->giblet_c[i] = NAN;
	s->deadline_ns = rc == 0 ? start_ns + (int64_t)(h * NS_PER_H) : start_ns;
	return rc;
}

/* Highest last reading of the probes still in the carcass (a probe pulled
 * out, COOL_FAULT_STEP, reads the medium and is left out; other faults
 * stay in: they read warm); *fresh = every such probe read within gap_h of
 * ts_ns (and there is one). */
static double max_core(const struct chill_state *s, const struct chill_params *p, int64_t ts_ns, int *fresh)
{
	double mx = NAN;
	int n = 0;

	*fresh = 1;
	for (uint32_t i = 0; i < s->cool.nprobes && i < COOL_PROBES_MAX; i++) {
		const struct cool_probe *pr = &s->cool.probe[i];
		if (pr->fault & COOL_FAULT_STEP)
			continue;
		if (!pr->nread || (double)(ts_ns - pr->last_ns) / NS_PER_H > p->gap_h)
			*fresh = 0;
		if (pr->nread && (n++ == 0 || pr->last_c > mx))
			mx = pr->last_c;
	}
	if (!n)
		*fresh = 0;
	return mx;
}

int chill_observe_probe(struct chill_state *s, const struct chill_params *p, uint32_t idx, int64_t ts_ns,
			double t_c)
{
	const struct cool_probe *pr;
	int64_t prev;
	double dt_h, mx;
	int rc, fresh;

	if (idx >= s->cool.nprobes)
		return -EINVAL;
	pr = &s->cool.probe[idx];
	prev = pr->nread ? pr->last_ns : s->cool.start_ns;
	rc = cool_batch_observe_probe(&s->cool, &p->cool, idx, ts_ns, t_c);
	if (rc < 0)
		return rc;
	dt_h = (double)(ts_ns - prev) / NS_PER_H;
	if (!s->compliant && dt_h > p->gap_h) {
		s->gaps++;
		s->gap_h += dt_h - p->gap_h;
	}
	if (isnan(s->min_core_c) || t_c < s->min_core_c)
		s->min_core_c = t_c;
	/* a probe pulled out reads the chiller air, not a carcass */
	if (t_c < p->fresh_c && !(pr->fault & COOL_FAULT_STEP) && !s->fresh_lost) {
		s->fresh_lost = 1;
		s->fresh_lost_ns = ts_ns;
	}
	if (chill_reporting(s, p, ts_ns) >= p->min_probes)
		s->probes_ok = 1;
	if (s->compliant) {
		/* every reading counts here: a carcass warming in further
		 * processing is what the cooling model calls a rising probe */
		if (isnan(s->max_after_c) || t_c > s->max_after_c)
			s->max_after_c = t_c;
		if (t_c > p->excursion_c && !s->excursion) {
			s->excursion = 1;
			s->excursion_ns = ts_ns;
		}
		return 0;
	}
	mx = max_core(s, p, ts_ns, &fresh);
	if (fresh && isfinite(s->deadline_h) && ts_ns <= s->deadline_ns && mx <= p->cool.target_c) {
		s->compliant = 1;
		s->compliant_ns = ts_ns;
		s->compliant_max_c = mx;
	}
	return 0;
}

uint32_t chill_reporting(const struct chill_state *s, const struct chill_params *p, int64_t now_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->cool.nprobes && i < COOL_PROBES_MAX; i++) {
		const struct cool_probe *pr = &s->cool.probe[i];
		if (pr->nread && !pr->fault && !((double)(now_ns - pr->last_ns) / NS_PER_H > p->gap_h))
			n++;
	}
	return n;
}

int chill_init_giblets(struct chill_state *s, uint32_t n)
{
	if (n > CHILL_GIBLETS_MAX)
		return -EINVAL;
	s->ngiblets = n;
	return 0;
}

static int64_t giblets_deadline_ns(const struct chill_state *s, const struct chill_params *p)
{
	return s->cool.start_ns + (int64_t)(p->giblets_h * NS_PER_H);
}

int chill_observe_giblet(struct chill_state *s, const struct chill_params *p, uint32_t idx, int64_t ts_ns,
			 double t_c)
{
	double mx = -INFINITY;

	if (idx >= s->ngiblets || ts_ns < s->cool.start_ns)
		return -EINVAL;
	if (!isfinite(t_c))
		return -ERANGE;
	s->giblet_c[idx] = t_c;
	s->giblet_ns[idx] = ts_ns;
	if (s->giblets_ok || !isfinite(p->giblets_h) || ts_ns > giblets_deadline_ns(s, p))
		return 0;
	for (uint32_t i = 0; i < s->ngiblets; i++) {
		if (isnan(s->giblet_c[i]) || (double)(ts_ns - s->giblet_ns[i]) / NS_PER_H > p->gap_h)
			return 0; /* one not read lately: not proven */
		mx = fmax(mx, s->giblet_c[i]);
	}
	if (mx <= p->cool.target_c) {
		s->giblets_ok = 1;
		s->giblets_ok_ns = ts_ns;
	}
	return 0;
}

int chill_observe_medium(struct chill_state *s, const struct chill_params *p, int64_t ts_ns, double tm_c)
{
	return cool_batch_observe_medium(&s->cool, &p->cool, ts_ns, tm_c);
}

static enum chill_status chill_status_now(const struct chill_state *s, const struct chill_params *p,
					  int64_t now_ns, const struct chill_verdict *v)
{
	int reliable = v->cool.fit.status == COOL_FIT_RELIABLE;

	if (s->excursion)
		return CHILL_EXCURSION;
	if (s->compliant)
		return s->probes_ok || !p->min_probes ? CHILL_COMPLIANT : CHILL_NOT_PROVEN;
	if (!isfinite(s->deadline_h) || now_ns >= s->deadline_ns)
		return CHILL_MISSED;
	if (v->stale)
		return CHILL_NO_DATA;
	if (v->cool.unreachable)
		return CHILL_EARLY_WARNING;
	if (reliable && !(v->pred_h <= s->deadline_h - p->warn_margin_h))
		return CHILL_EARLY_WARNING;
	if ((double)(s->deadline_ns - now_ns) / NS_PER_H < p->warn_margin_h)
		return CHILL_EARLY_WARNING; /* inside the margin and still not proven */
	return CHILL_ON_TRACK;
}

void chill_verdict(const struct chill_state *s, const struct chill_params *p, int64_t now_ns,
		   struct chill_verdict *v)
{
	int fresh;

	*v = (struct chill_verdict){ .deadline_ns = s->deadline_ns, .pred_h = NAN, .margin_h = NAN,
				     .gaps = s->gaps, .gap_h = s->gap_h };
	cool_batch_verdict(&s->cool, &p->cool, now_ns, &v->cool);
	v->max_core_c = max_core(s, p, now_ns, &fresh);
	v->stale = !fresh;
	if (v->cool.fit.eta_model == COOL_ETA_OK || v->cool.fit.eta_model == COOL_ETA_REACHED ||
	    v->cool.fit.eta_model == COOL_ETA_UNREACHABLE) {
		v->pred_h = v->cool.fit.to_target_h;
		v->margin_h = s->deadline_h - v->pred_h;
	}
	v->ice = s->min_core_c < p->ice_c;
	v->reporting = chill_reporting(s, p, now_ns);
	v->few_probes = v->reporting < p->min_probes;
	v->not_fresh = s->fresh_lost != 0;
	if (s->ngiblets && isfinite(p->giblets_h)) {
		v->giblets_deadline_ns = giblets_deadline_ns(s, p);
		v->giblets_missed = !s->giblets_ok && now_ns >= v->giblets_deadline_ns;
	}
	v->pulled_early = !(v->max_core_c <= p->cool.target_c);
	v->status = chill_status_now(s, p, now_ns, v);
}

const char *chill_status_name(enum chill_status st)
{
	switch (st) {
	case CHILL_NO_DATA:
		return "no_data";
	case CHILL_ON_TRACK:
		return "on_track";
	case CHILL_EARLY_WARNING:
		return "early_warning";
	case CHILL_COMPLIANT:
		return "compliant";
	case CHILL_MISSED:
		return "missed";
	case CHILL_EXCURSION:
		return "excursion";
	case CHILL_NOT_PROVEN:
		return "not_proven";
	}
	return "?";
}
