/* fumigation.h - SO2 fumigation of lychee / longan (processing.md §3): the
 * dose inside the chamber (CT, peak, exposure time, purge), the exposure of
 * workers outside it (TWA, rolling and maximum STEL, ceiling, IDLH) and the
 * verdicts behind the alarms of §3.3.  Pure: no I/O, no allocation, time
 * passed in (int64_t ns, any epoch, as lot_observe()); every state is a
 * flat struct of numbers, so the engine can checkpoint it as JSON.
 *
 * Conventions (documented once here, relied on by the tests):
 * - Chamber dose: trapezoid between consecutive readings (§3.1).  A step
 *   longer than max_gap_s is not interpolated: it counts in unmonitored_h,
 *   and bounds gap_lo/gap_hi (the lower/higher reading around it held over
 *   the gap) decide whether the CT verdict is still certain.
 * - Worker exposure: a reading holds from its own time until the next
 *   reading (zero-order hold, as the storage models), for at most max_gap_s;
 *   the rest of a longer step is unmonitored, filled per `fill` in the upper
 *   bound and the STEL.  So a 1-min sample stands for the minute it STARTS,
 *   and queries at `now` hold the newest reading up to `now`: n one-minute
 *   samples queried one minute after the last cover n minutes (S1, S2).
 * - Negative readings (electrochemical zero drift) count as 0 ppm.
 * - Non-finite readings are ignored and counted (nan_samples, -EINVAL);
 *   readings not newer than the last are ignored and counted (late_samples,
 *   -ERANGE).  Neither changes any figure. */
#ifndef CC_FUMIGATION_H
#define CC_FUMIGATION_H

#include <stdint.h>

/* processing.md §3.1: molar mass of SO2 and S (g/mol), molar volume of an
 * ideal gas at 25 °C and 1 atm (L/mol): mg/m³ = ppm × 64.066/24.45. */
#define FUM_M_SO2 64.066
#define FUM_M_S 32.06
#define FUM_MOLAR_VOLUME_L 24.45

/* Ring of exposure segments for the STEL window: 1-min samples and a 15-min
 * window need 16; denser samples are merged (see fum_exposure_observe). */
#define FUM_RING_MAX 32

double fum_ppm_to_mg_m3(double ppm);
double fum_mg_m3_to_ppm(double mg_m3);
/* Nominal (upper-bound) chamber concentration, g/m³, if all the sulphur
 * burnt to SO2 (1 kg S → 64.066/32.06 kg SO2) and nothing was absorbed or
 * leaked: kg_s_per_t × tonnes over free_m3.  NaN for a non-positive volume
 * or negative inputs. */
double fum_nominal_g_m3(double kg_s_per_t, double tonnes, double free_m3);
/* Well-mixed purge time, hours: ln(c0/c_entry)/ach; 0 when c0 <= c_entry,
 * NaN when ach, c_entry or c0 is not positive and finite. */
double fum_purge_estimate_h(double c0_ppm, double c_entry_ppm, double ach_per_h);

/* ---- chamber ---------------------------------------------------------- */

enum fum_phase { FUM_PHASE_LOADING, FUM_PHASE_BURNING, FUM_PHASE_HOLD, FUM_PHASE_PURGE, FUM_PHASE_DONE };

struct fum_chamber_params {
	double ct_min_ppmh, ct_max_ppmh; /* the chamber's calibrated CT window (§3.1) */
	double max_gap_s;          /* a longer step between readings is not integrated */
	double exposure_ppm;       /* time above this counts as exposure */
	double entry_ppm;          /* re-entry limit (e.g. 2 ppm) */
	double ach_per_h;          /* air changes per hour while purging */
	double purge_overdue_frac; /* ventilation fault when the purge exceeds the estimate by this (0.5) */
	double flat_window_s;      /* no change over this while burning: sensor fault */
	double flat_eps_ppm;       /* ... a change is more than this */
};

/* Defaults: no CT window (0..∞: no published lychee target, processing.md
 * §6.4), max_gap 600 s, exposure above 0 ppm, entry limit, ACH and overdue
 * fraction unset (NaN: no re-entry allowed, no purge estimate, no overdue
 * verdict: they are graded profile data, config/processes.conf), flat 600 s
 * within 1 ppm.  A max_gap_s <= 0 means 600 s. */
void fum_chamber_params_default(struct fum_chamber_params *p);

struct fum_chamber_state {
	int64_t first_ns, last_ns; /* 0: no reading yet */
	double last_ppm;
	double ct_ppmh;            /* trapezoid over monitored steps */
	double gap_lo_ppmh, gap_hi_ppmh; /* unmonitored steps at the lower / higher reading around them */
	double monitored_h, unmonitored_h;
	double exposure_h;         /* steps with a reading above exposure_ppm */
	double peak_ppm;
	int64_t peak_ns;
	int phase;                 /* enum fum_phase */
	int64_t phase_ns;          /* when the phase began */
	int64_t change_ns;         /* last reading differing by > flat_eps_ppm from change_ppm */
	double change_ppm;
	int64_t purge_start_ns;    /* 0: no purge yet */
	double purge_c0_ppm;       /* concentration when the purge began */
	int64_t purge_end_ns;      /* first reading <= entry_ppm during the purge; 0: not yet */
	int door_open;
	int64_t door_ns;
	int fan_on;                /* the purge fan's newest reading (>= 0.5: on) */
	int64_t fan_ns;            /* its time; 0: no fan reading yet */
	uint32_t gaps, nan_samples, late_samples;
};

void fum_chamber_init(struct fum_chamber_state *s);
/* A chamber reading: 0 when accepted, -EINVAL (non-finite), -ERANGE (not
 * newer than the last). */
int fum_chamber_observe(struct fum_chamber_state *s, const struct fum_chamber_params *p, int64_t ts_ns,
			double ppm);
/* The process phase (from the burner/fan state or the operator).  Entering
 * PURGE records c0 (the newest reading); entering BURNING restarts the flat
 * reading clock.  Returns -EINVAL for an unknown phase. */
int fum_chamber_set_phase(struct fum_chamber_state *s, int phase, int64_t ts_ns);
void fum_chamber_observe_door(struct fum_chamber_state *s, int64_t ts_ns, int open);
/* A purge fan reading (on: value >= 0.5, a coil or a 0/1 status).  Its
 * switch-on (a reading on after one off, or the first reading on) enters
 * PURGE at the switching reading's own time ts_ns, so the purge time and
 * c0 count from the switch-on, not from a later sample or tick: from
 * BURNING or HOLD, and from LOADING only once the chamber has read above
 * entry_ppm (gas nobody marked; a fan run before any gas is ventilation).
 * PURGE and DONE are kept; switching off changes no phase.  A phase
 * marked by hand stays until the next switch-on (the newest event wins).
 * Returns 1 when it entered PURGE, 0 otherwise, -EINVAL (non-finite),
 * -ERANGE (not newer than the last fan reading). */
int fum_chamber_observe_fan(struct fum_chamber_state *s, const struct fum_chamber_params *p, int64_t ts_ns,
			    double v);

enum fum_ct_verdict {
	FUM_CT_NONE,      /* no interval integrated yet */
	FUM_CT_UNDER,     /* CT < CT_min even with gaps at their higher bound */
	FUM_CT_IN_WINDOW,
	FUM_CT_OVER,      /* CT > CT_max even with gaps at their lower bound (residue) */
	FUM_CT_UNCERTAIN, /* unmonitored gaps could put it either side of a bound */
};
enum fum_ct_verdict fum_chamber_ct_verdict(const struct fum_chamber_state *s, const struct fum_chamber_params *p);
double fum_chamber_ct_g_h_m3(const struct fum_chamber_state *s);
const char *fum_ct_verdict_name(enum fum_ct_verdict v);

enum fum_purge_verdict {
	FUM_PURGE_NONE,    /* not purging yet */
	FUM_PURGE_RUNNING, /* within (1 + frac) × estimate */
	FUM_PURGE_OK,      /* reached entry_ppm in time */
	FUM_PURGE_OVERDUE, /* still above entry_ppm after (1 + frac) × estimate: ventilation fault */
	FUM_PURGE_SLOW,    /* reached entry_ppm, but too late: ventilation fault */
};
/* Purge time so far (or until entry_ppm was reached), hours; NaN if none. */
double fum_chamber_purge_h(const struct fum_chamber_state *s, int64_t now_ns);
double fum_chamber_purge_estimate_h(const struct fum_chamber_state *s, const struct fum_chamber_params *p);
enum fum_purge_verdict fum_chamber_purge_verdict(const struct fum_chamber_state *s,
						 const struct fum_chamber_params *p, int64_t now_ns);
/* Re-entry: the newest reading is at most max_gap_s old and <= entry_ppm. */
int fum_chamber_entry_allowed(const struct fum_chamber_state *s, const struct fum_chamber_params *p,
			      int64_t now_ns);
/* Burning and the readings have not changed by > flat_eps_ppm over
 * flat_window_s of readings (since the burn began or the last change). */
int fum_chamber_flat(const struct fum_chamber_state *s, const struct fum_chamber_params *p);

/* ---- worker exposure outside ------------------------------------------ */

enum fum_fill {
	FUM_FILL_LAST,           /* the reading before the gap */
	FUM_FILL_WORST_ENDPOINT, /* the higher of the readings around the gap (default) */
	FUM_FILL_VALUE,          /* fill_ppm, e.g. the TWA limit */
};

struct fum_exposure_params {
	double t_ref_h;        /* TWA reference period: 8 (OSHA, QCVN) or 10 (NIOSH) */
	double twa_limit_ppm;
	double stel_limit_ppm; /* 5 (NIOSH), 3.816 (QCVN), 0.25 (ACGIH) */
	double stel_window_s;  /* 900 */
	double ceiling_ppm;    /* INFINITY: none */
	double idlh_ppm;       /* 100 */
	double max_gap_s;      /* a reading holds at most this long */
	int fill;              /* enum fum_fill, for unmonitored time */
	double fill_ppm;
	int project_unmonitored; /* the projected TWA counts unmonitored time at the fill */
};

/* Defaults: every limit unset (NaN: never judged; the limits people rely
 * on are graded profile data, config/processes.conf), an 8-h basis, a
 * 900 s STEL window, no ceiling, max_gap 300 s, the worse endpoint as fill.  Unset
 * values fall back to these: t_ref_h, stel_window_s, max_gap_s <= 0. */
void fum_exposure_params_default(struct fum_exposure_params *p);

struct fum_seg {
	int64_t t0_ns, t1_ns;
	double ppm;
};

struct fum_exposure_state {
	int64_t start_ns;      /* start of the reference period (0: the first reading) */
	int64_t last_ns;       /* 0: no reading yet */
	double last_ppm;
	double ppmh;           /* Σ c·Δt over monitored time */
	double monitored_h, unmonitored_h;
	double fill_ppmh;      /* Σ fill·Δt over unmonitored time */
	double peak_ppm;
	double stel_max_ppm;   /* highest window mean so far (windows ending by last_ns) */
	int64_t stel_max_end_ns;
	uint32_t gaps, nan_samples, late_samples, merges;
	uint32_t ring_head, ring_n;
	struct fum_seg ring[FUM_RING_MAX];
};

/* start_ns: the start of the shift (reference period); 0 lets the first
 * reading start it.  Time from start_ns to the first reading is unmonitored. */
void fum_exposure_init(struct fum_exposure_state *s, int64_t start_ns);
int fum_exposure_observe(struct fum_exposure_state *s, const struct fum_exposure_params *p, int64_t ts_ns,
			 double ppm);

/* Everything the engine publishes, as of now_ns (the newest reading held up
 * to now_ns, at most max_gap_s, the rest unmonitored). */
struct fum_exposure_figures {
	double twa_ppm;         /* monitored Σ c·Δt / t_ref_h */
	double twa_mg_m3;
	double twa_upper_ppm;   /* + unmonitored time at the fill */
	double unmonitored_h;
	double monitored_h;
	double projected_ppm;   /* + the newest reading held to the end of the period */
	double stel_ppm;        /* rolling mean over the window ending now */
	double stel_max_ppm;
	double last_ppm;        /* NaN when older than max_gap_s */
};
void fum_exposure_figures(const struct fum_exposure_state *s, const struct fum_exposure_params *p,
			  int64_t now_ns, struct fum_exposure_figures *f);

/* Alarm conditions (§3.3), a bit set. */
enum {
	FUM_A_STEL_WARN = 1u << 0,     /* instantaneous >= STEL limit: warn */
	FUM_A_STEL = 1u << 1,          /* rolling mean > STEL limit: alarm */
	FUM_A_TWA_PROJECTED = 1u << 2, /* projected period TWA > limit: alarm */
	FUM_A_CEILING = 1u << 3,       /* instantaneous >= ceiling: alarm */
	FUM_A_IDLH = 1u << 4,          /* >= IDLH: evacuate, critical, undelayed */
	FUM_A_CT_UNDER = 1u << 8,      /* at batch end (phase DONE) */
	FUM_A_CT_OVER = 1u << 9,
	FUM_A_CT_UNCERTAIN = 1u << 10,
	FUM_A_DOOR = 1u << 11,         /* door open while re-entry is not allowed */
	FUM_A_PURGE_OVERDUE = 1u << 12, /* ventilation fault */
	FUM_A_FLAT = 1u << 13,         /* flat reading while burning: sensor fault */
};
unsigned fum_exposure_alarms(const struct fum_exposure_state *s, const struct fum_exposure_params *p,
			     int64_t now_ns);
unsigned fum_chamber_alarms(const struct fum_chamber_state *s, const struct fum_chamber_params *p,
			    int64_t now_ns);

#endif
