/* chill.h - carcass chilling compliance (processing.md §2): the deadline
 * from the carcass weight (a table of bands, profile data), and the
 * per-batch compliance state machine on top of the cooling fit of
 * cooling.h (Tm = chiller air or water, the slowest core probe drives the
 * prediction).  Pure: no I/O, time passed in (int64_t ns; durations in
 * hours); the state is plain numbers, checkpointed as is. */
#ifndef CC_CHILL_H
#define CC_CHILL_H

#include <stdint.h>

#include "cooling.h"

/* Unit conversions at the edges (processing.md §2.1/§2.3, §5: store °C, kg). */
#define CHILL_KG_PER_LB 0.45359237 /* international pound, exact */
#define CHILL_F_PER_K 1.8
#define CHILL_F_AT_0C 32.0

double chill_f_to_c(double f);
double chill_c_to_f(double c);
double chill_lb_to_kg(double lb);
double chill_kg_to_lb(double kg);

#define CHILL_BANDS_MAX 8

struct chill_params {
	/* The fit and the target: cool.target_c is the compliance target
	 * (EU/VN 4.0 °C, US 40 °F = 4.444 °C). */
	struct cool_params cool;
	/* Weight classes: a carcass of weight w takes the first band with
	 * w <= band_upper_kg[i] (a weight exactly on a bound takes the
	 * shorter, stricter deadline); bounds ascending, the last may be
	 * INFINITY.  US former rule: 4 lb -> 4 h, 8 lb -> 6 h, above -> 8 h. */
	uint32_t nbands;
	double band_upper_kg[CHILL_BANDS_MAX];
	double band_h[CHILL_BANDS_MAX];
	double warn_margin_h; /* early warning when t_pred > t_d - this (0.5) */
	double excursion_c;   /* after compliance a core above this is an excursion (55 °F; INFINITY: off) */
	double ice_c;         /* a core below this: ice crust, no longer "fresh" (-2; -INFINITY: off) */
	double gap_h;         /* a probe silent longer than this is a gap: not proven (0.1) */
	uint32_t min_probes;  /* core probes (fresh, not faulted) compliance needs (0: any) */
	double fresh_c;       /* a core below this: no longer "fresh" (US 26 F; -INFINITY: off) */
	double giblets_h;     /* giblets at the target within this of the start (NaN: off) */
};

/* cool_params_default() for the fit, no bands (profile data), 0.5 h
 * warning, 0.1 h gap (1-min logging), excursion and ice off. */
void chill_params_default(struct chill_params *p);

/* Deadline in hours for a carcass of weight_kg: 0, or -EINVAL for a
 * weight that is not finite or not positive, -ENOENT when no band holds it
 * (no bands, or heavier than the last bound). */
int chill_deadline_h(const struct chill_params *p, double weight_kg, double *hours);

enum chill_status {
	CHILL_NO_DATA,       /* a probe has no reading within gap_h: not proven either way */
	CHILL_ON_TRACK,
	CHILL_EARLY_WARNING, /* t_pred > t_d - warn_margin (or unreachable, or inside the margin unproven) */
	CHILL_COMPLIANT,     /* max core <= target at some t <= t_d */
	CHILL_MISSED,        /* t_d passed without that proof */
	CHILL_EXCURSION,     /* compliant, then a core above excursion_c */
	CHILL_NOT_PROVEN,    /* cores at the target in time, but never min_probes of them reporting */
};

#define CHILL_GIBLETS_MAX 8

struct chill_state {
	struct cool_batch cool;
	double weight_kg;      /* the heaviest sampled carcass */
	double deadline_h;     /* NaN: no deadline (bad weight): never compliant */
	int64_t deadline_ns;   /* valid when deadline_h is finite */
	uint32_t compliant;    /* proven ... */
	int64_t compliant_ns;  /* ... by the reading at this time */
	double compliant_max_c;/* max core at that moment */
	uint32_t excursion;    /* a reading above excursion_c after compliance ... */
	int64_t excursion_ns;  /* ... first at this time */
	double max_after_c;    /* highest core after compliance (NaN: none) */
	double min_core_c;     /* lowest core reading (NaN: none) */
	uint32_t gaps;         /* probe silences longer than gap_h before compliance */
	double gap_h;          /* their length beyond gap_h, hours */
	uint32_t probes_ok;    /* min_probes reported together at some reading */
	uint32_t fresh_lost;   /* a core reading below fresh_c ... */
	int64_t fresh_lost_ns; /* ... first at this time */
	uint32_t ngiblets;     /* giblet probes (chill_init_giblets) */
	double giblet_c[CHILL_GIBLETS_MAX];   /* last reading of each (NaN: none) */
	int64_t giblet_ns[CHILL_GIBLETS_MAX];
	uint32_t giblets_ok;   /* every giblet probe at or below the target ... */
	int64_t giblets_ok_ns; /* ... by this reading, within giblets_h */
};

/* start_ns: end of evisceration or chiller entry.  0, or the error of
 * chill_deadline_h(): the state is still initialised, with no deadline
 * (deadline_h NaN), and reports CHILL_MISSED; the engine should refuse such
 * a batch. */
int chill_init(struct chill_state *s, const struct chill_params *p, uint32_t nprobes, int64_t start_ns,
	       double weight_kg, int64_t pull_plan_ns);
/* Core probe idx / chiller medium reading: 0, -EINVAL, -ERANGE as in
 * cool_probe_observe().  A probe reading also records gaps, proves
 * compliance (every probe not pulled out read within gap_h, the highest
 * <= target, at or before t_d) and an excursion afterwards (any reading
 * above excursion_c, whatever the cooling model thinks of the probe). */
int chill_observe_probe(struct chill_state *s, const struct chill_params *p, uint32_t idx, int64_t ts_ns,
			double t_c);
/* Giblet probes: n of them (at most CHILL_GIBLETS_MAX): 0 or -EINVAL. */
int chill_init_giblets(struct chill_state *s, uint32_t n);
/* Giblet probe idx: 0, -EINVAL (no such probe, a time before the start),
 * -ERANGE (not finite).  Proves the giblets (every giblet probe read
 * within gap_h, the highest <= target, at or before start + giblets_h). */
int chill_observe_giblet(struct chill_state *s, const struct chill_params *p, uint32_t idx, int64_t ts_ns,
			 double t_c);
/* Core probes reporting at now_ns: read within gap_h, not faulted. */
uint32_t chill_reporting(const struct chill_state *s, const struct chill_params *p, int64_t now_ns);
int chill_observe_medium(struct chill_state *s, const struct chill_params *p, int64_t ts_ns, double tm_c);

struct chill_verdict {
	enum chill_status status;
	struct cool_verdict cool; /* slowest probe, its fit, ETA, faults */
	int64_t deadline_ns;
	double pred_h;            /* t_pred from the start (model; INFINITY unreachable, NaN no fit) */
	double margin_h;          /* deadline_h - pred_h */
	double max_core_c;        /* highest last reading of the probes in the carcasses (NaN: none) */
	int stale;                /* some probe silent longer than gap_h now */
	int ice;                  /* a core reading below ice_c */
	int pulled_early;         /* leaving now: max core above the target */
	uint32_t gaps;
	double gap_h;
	uint32_t reporting;       /* core probes reporting now (chill_reporting) */
	int few_probes;           /* reporting < min_probes */
	int not_fresh;            /* a core reading below fresh_c, ever */
	int giblets_missed;       /* giblets not proven by start + giblets_h */
	int64_t giblets_deadline_ns; /* 0: giblets not tracked */
};

void chill_verdict(const struct chill_state *s, const struct chill_params *p, int64_t now_ns,
		   struct chill_verdict *v);

const char *chill_status_name(enum chill_status st);

#endif
