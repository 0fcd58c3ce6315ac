/* cooling.h - precooling as Newton cooling with a lag factor (processing.md
 * §1): the closed forms (Y, half and seven-eighths cooling times, time to a
 * target, remaining time, predicted pulp temperature), the online fit of C
 * and j per pulp probe (running least squares on ln Y after the lag, O(1)
 * memory), probe-fault detection, and the precooling verdicts of one batch.
 * The carcass-chilling compliance layer (chill.h) reuses all of it.
 *
 * Units: °C, K, hours for durations and rates (C in 1/h), int64_t
 * nanoseconds (any epoch, as shelflife.h) for the times of samples and
 * verdict queries.  Pure: no I/O, no allocation; every state struct is
 * plain numbers (no pointers), so the engine can checkpoint it as is. */
#ifndef CC_COOLING_H
#define CC_COOLING_H

#include <stdint.h>

#define COOL_PROBES_MAX 8 /* pulp probes per batch */

/* Outcome of a prediction.  Anything but COOL_ETA_OK leaves no number to
 * trust: the hours are 0 (reached), INFINITY (unreachable) or NaN. */
enum cool_eta {
	COOL_ETA_OK,          /* hours is the prediction */
	COOL_ETA_REACHED,     /* already at or below the target: hours = 0 */
	COOL_ETA_UNREACHABLE, /* Tm >= Tt - margin: the medium is too warm, never an extrapolated number */
	COOL_ETA_NO_FIT,      /* no reliable C (or j), or no medium temperature: NaN */
};

/* --- closed forms (§1.1) ------------------------------------------------ */

/* Y = (T - Tm)/(T0 - Tm); NaN when T0 == Tm or an input is not finite. */
double cool_y(double t_c, double tm_c, double t0_c);
/* Z = ln(2j)/C and S = ln(8j)/C, hours (NaN unless C > 0 and j > 0). */
double cool_half_time_h(double c_per_h, double j);
double cool_seven_eighths_h(double c_per_h, double j);
/* T(t) = Tm + (T0 - Tm)·j·e^(-C·t), t hours from the start. */
double cool_predict_c(double c_per_h, double j, double t0_c, double tm_c, double t_h);
/* Time from the start to the target tt_c: ln(j(T0 - Tm)/(Tt - Tm))/C.
 * COOL_ETA_UNREACHABLE when tm_c >= tt_c - margin_k; COOL_ETA_REACHED
 * (0 h) when the start is already at or below the target or the model says
 * the target is reached at t <= 0; COOL_ETA_NO_FIT for C <= 0, j <= 0 or a
 * non-finite input. */
enum cool_eta cool_time_to_target_h(double c_per_h, double j, double t0_c, double tm_c, double tt_c,
				    double margin_k, double *hours);
/* Remaining time from the current reading (lag over, so j drops out):
 * ln((T_now - Tm)/(Tt - Tm))/C, with the same outcomes. */
enum cool_eta cool_remaining_h(double c_per_h, double t_now_c, double tm_c, double tt_c, double margin_k,
			       double *hours);
/* The inverse: the C that takes T0 to Tt in t_h hours with lag factor j
 * (processing.md P2: 30 -> 5 °C in 18 min).  NaN when not defined. */
double cool_coefficient_per_h(double j, double t0_c, double tm_c, double tt_c, double t_h);

/* --- parameters (profile data, processing.md §1.2-§1.4) ------------------ */

struct cool_params {
	double target_c;        /* Tt, pulp target (lychee 5) */
	double unreach_margin_k;/* unreachable when Tm >= Tt - this (0.5) */
	double delta_k;         /* T - Tm at or below this is noise, not fitted (0.5) */
	double lag_y;           /* the fit starts once Y <= this (0.9) ... */
	double lag_h;           /* ... or this long after the start (INFINITY: only Y) */
	uint32_t min_points;    /* quality gates: >= this many fitted points (5) */
	double r2_min;          /* R² >= this (0.98) */
	double c_min, c_max;    /* 1/h (0.01, 20) */
	double j_min, j_max;    /* (0.5, 2.5) */
	double fault_y_max;     /* Y above this after the lag is a probe fault (1.05) */
	double fault_step_frac; /* a probe losing more than this fraction of its excess over Tm ... (0.8) */
	double fault_step_k;    /* ... and more than this many K in one reading, to within delta_k of Tm,
				 * was pulled out of the fruit (2.0) */
	double fault_rise_k;    /* T rising by more than this between readings while above Tm (0.5) */
	double c_ref;           /* commissioned C of the line, 1/h (NaN: none, no verdict) */
	double underperf_frac;  /* underperforming when C < this · c_ref (0.7) */
	double pull_margin_k;   /* pulled too early if slowest > Tt + this (1.0) ... */
	double pull_y_max;      /* ... or its Y > this (1/8: 7/8 cooling not reached) */
	double late_start_h;    /* harvest to start longer than this (lychee 4; INFINITY: off) */
	double field_heat_c;    /* a probe's first reading above this adds a note (30) */
	double over_cool_c;     /* pulp below this is over-cooling (lychee 3; -INFINITY: off) */
	double medium_set_c;    /* medium set-point (NaN: none, no "medium hot" verdict) */
	double medium_hot_k;    /* medium hot when above set-point + this ... (1.0) */
	double medium_hot_h;    /* ... for at least this long (0.25) */
};

/* The defaults of processing.md §1.2/§1.4 that are method, not product:
 * δ 0.5 K, lag Y 0.9, gates 5 / 0.98 / 0.01-20 / 0.5-2.5, faults Y 1.05,
 * step 0.8 and 2 K, rise 0.5 K, 0.7·C_ref, pull Tt + 1 K or Y > 1/8, medium + 1 K for 15 min.
 * Product data (target, late start, over-cooling, field heat, C_ref,
 * set-point) are left off (NaN or ±INFINITY): the profile must give them. */
void cool_params_default(struct cool_params *p);

/* --- state ------------------------------------------------------------- */

/* The cooling medium (supply air or water) of a batch, its own channel. */
struct cool_medium {
	uint32_t n;          /* readings in sum */
	double sum_c;        /* Σ Tm since the start (sample mean; the fit takes its window's share) */
	double last_c;       /* NaN: none yet */
	int64_t last_ns;     /* valid when n > 0 */
	uint32_t hot;        /* above set-point + margin ... */
	int64_t hot_since_ns;/* ... since then */
	uint32_t n_bad, n_old; /* non-finite, out-of-order readings ignored */
};

enum cool_fault {
	COOL_FAULT_STEP = 1u << 0, /* jumped to the medium temperature: probe pulled out of the fruit
				    * (its readings then prove nothing) */
	COOL_FAULT_RISE = 1u << 1, /* pulp rising while warmer than the medium */
	COOL_FAULT_Y = 1u << 2,    /* Y > fault_y_max after the lag */
};

/* One pulp probe and its fit.  No sentinel times: flags and counts say
 * what is valid, so any epoch works.  The fit's sums are shifted to the first
 * fitted point (u = x - x0, v = y - y0) so R² near 1 keeps its digits. */
struct cool_probe {
	int64_t start_ns;   /* batch start: the fit's x is hours since */
	uint32_t nread;     /* readings taken (0: first_ns, last_ns not valid) */
	int64_t first_ns, last_ns;
	double t0_c;        /* T0: the probe's first reading (NaN: none) */
	double last_c;
	double last_y;      /* Y of the last reading (NaN: not known) */
	/* the fit (fitting 0: still in the lag) */
	uint32_t fitting;
	int64_t fit_ns;     /* the first reading after the lag */
	uint32_t med_n0;    /* medium readings before the fit window (the one in force
			     * when the fit started belongs to the window) */
	double med_sum0;
	double x0, y0;
	uint32_t n;
	double su, sv, suu, suv, svv;
	/* the rate form dT/dt = -C(T - Tm), on consecutive fitted readings */
	int64_t prev_fit_ns;/* the last fitted reading (valid when n > 0) */
	double prev_fit_c;
	double rate_num, rate_den;
	uint32_t rate_n;
	/* faults and ignored readings */
	unsigned fault;     /* enum cool_fault bits, latched: no fitting after a fault */
	int64_t fault_ns;
	uint32_t n_bad, n_old, n_no_medium, n_noise;
};

/* A precooling batch: one medium, up to COOL_PROBES_MAX probes. */
struct cool_batch {
	int64_t start_ns;      /* into the cooler */
	int64_t harvest_ns;    /* 0: unknown (no late-start verdict) */
	int64_t pull_plan_ns;  /* planned pull / dispatch (0: none) */
	uint32_t nprobes;
	struct cool_medium medium;
	struct cool_probe probe[COOL_PROBES_MAX];
};

void cool_medium_init(struct cool_medium *m);
void cool_probe_init(struct cool_probe *pr, int64_t start_ns);
/* nprobes is clamped to 1..COOL_PROBES_MAX. */
void cool_batch_init(struct cool_batch *b, uint32_t nprobes, int64_t start_ns, int64_t harvest_ns,
		     int64_t pull_plan_ns);

/* Feed one reading with its time.  Return 0 when taken, -EINVAL for a
 * non-finite value (ignored, counted in n_bad), -ERANGE for a reading not
 * newer than the last one (ignored, counted in n_old).  State is never
 * poisoned by a bad reading. */
int cool_medium_observe(struct cool_medium *m, const struct cool_params *p, int64_t ts_ns, double tm_c);
/* A probe reading is fitted when the lag is over, T - Tm > delta_k and the
 * probe has no fault; otherwise it is still taken (T0, last reading, fault
 * checks).  Readings before any medium temperature are counted in
 * n_no_medium and only set T0 / the last reading (the set-point stands in
 * when the profile gives one).  Also returns 0, -EINVAL, -ERANGE. */
int cool_probe_observe(struct cool_probe *pr, const struct cool_medium *m, const struct cool_params *p,
		       int64_t ts_ns, double t_c);
/* Same through the batch: idx 0..nprobes-1 (-EINVAL otherwise). */
int cool_batch_observe_probe(struct cool_batch *b, const struct cool_params *p, uint32_t idx, int64_t ts_ns,
			     double t_c);
int cool_batch_observe_medium(struct cool_batch *b, const struct cool_params *p, int64_t ts_ns, double tm_c);

/* The medium temperature the probe's model uses: the mean of the medium's
 * readings over the fit window (the reading in force when the fit started
 * and all later ones; before the fit, all readings so far), the set-point
 * when there are none, else NaN.  A sample mean: the medium is expected to
 * be logged at a steady interval. */
double cool_probe_tm(const struct cool_probe *pr, const struct cool_medium *m, const struct cool_params *p);

/* --- the fit ------------------------------------------------------------ */

enum cool_fit_status {
	COOL_FIT_RELIABLE,
	COOL_FIT_TOO_FEW,    /* fewer than min_points fitted readings (or all at one time) */
	COOL_FIT_UNRELIABLE, /* see why */
};

enum cool_why {
	COOL_WHY_R2 = 1u << 0,      /* R² < r2_min */
	COOL_WHY_C_RANGE = 1u << 1, /* C outside c_min..c_max (also C <= 0: warming) */
	COOL_WHY_J_RANGE = 1u << 2, /* j outside j_min..j_max */
	COOL_WHY_FAULT = 1u << 3,   /* the probe has a fault */
};

struct cool_fit {
	enum cool_fit_status status;
	unsigned why;          /* enum cool_why bits (UNRELIABLE) */
	uint32_t n;            /* fitted readings */
	double c_per_h, j, r2; /* NaN when there are not 2 distinct times */
	double c_rate_per_h;   /* rate-form cross-check (NaN: no pairs) */
	double half_h, seven_eighths_h;
	double t0_c, tm_c;     /* what the model used */
	/* predictions (status other than OK: see enum cool_eta) */
	enum cool_eta eta;     /* from the current reading (lag over) */
	double remaining_h;    /* current-reading formula, from the last reading */
	enum cool_eta eta_model;
	double to_target_h;    /* model, from the start */
};

/* Everything the fit says about one probe now.  C, j and the times are
 * filled whenever they can be computed; trust them only when status is
 * COOL_FIT_RELIABLE (the predictions are COOL_ETA_NO_FIT otherwise). */
void cool_probe_fit(const struct cool_probe *pr, const struct cool_medium *m, const struct cool_params *p,
		    struct cool_fit *f);

/* The probe that drives compliance: the warmest last reading among probes
 * with data, -1 when there is none.  A probe pulled out (COOL_FAULT_STEP)
 * reads the medium and is left out; one with another fault stays in (it
 * reads warm, and leaving a warming carcass out would not be
 * conservative), its fit reported unreliable. */
int cool_batch_slowest(const struct cool_batch *b);

/* --- verdicts (§1.4) ---------------------------------------------------- */

struct cool_verdict {
	int slowest;            /* probe index, -1: none */
	struct cool_fit fit;    /* the slowest probe's fit */
	int64_t eta_ns;         /* the slowest probe's last reading time + fit.remaining_h (counted
				 * from that reading, not from the query time); 0 unless fit.eta
				 * is OK or REACHED */
	double y_slowest;       /* NaN when unknown */
	double c_ratio;         /* C / C_ref (NaN without both) */
	int unreachable;        /* Tm >= Tt - margin */
	int pull_early;         /* if pulled now: slowest > Tt + margin or Y > pull_y_max (or no data) */
	int underperforming;    /* reliable C < underperf_frac · C_ref */
	int late_start;         /* start - harvest > late_start_h */
	int miss_dispatch;      /* eta_ns > planned pull (also when unreachable) */
	int over_cooling;       /* coldest probe below over_cool_c */
	int medium_hot;         /* medium above set-point + margin for medium_hot_h */
	int field_heat;         /* a probe started above field_heat_c */
	unsigned probe_faults;  /* bit i: probe i has a fault */
};

/* now_ns only times the medium-hot verdict: the ETA and miss-dispatch come
 * from the readings, so a later query with no new data changes neither. */
void cool_batch_verdict(const struct cool_batch *b, const struct cool_params *p, int64_t now_ns,
			struct cool_verdict *v);

const char *cool_eta_name(enum cool_eta e);
const char *cool_fit_status_name(enum cool_fit_status s);

#endif
