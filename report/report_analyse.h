/* report_analyse.h - the lot report's analysis, pure: no I/O and no clock
 * (the report's own time is passed in).  Per channel: min/max/mean, time
 * outside the storage band and the gaps in the record; the lot's stays in
 * rooms; its alarm rows (episodes from daemon/alarm_history.c); its figures
 * (the daemon's model accumulators at the end of the period).  The report
 * fetches with report_fetch.c and writes with report_csv.c / report_html.c;
 * tests/unit/test_report_analyse.c checks this on fixed series. */
#ifndef CC_REPORT_ANALYSE_H
#define CC_REPORT_ANALYSE_H

#include <stddef.h>
#include <stdint.h>

#include "../daemon/alarm_history.h"

/* A step longer than this many recording intervals is a gap ("no data"),
 * as in the daemon's models; a reading counts for at most this long. */
#define REPORT_GAP_INTERVALS 3

enum report_quality { REPORT_Q_GOOD, REPORT_Q_COMM, REPORT_Q_RANGE };

struct report_sample {
	int64_t t; /* ms */
	double v;  /* NaN unless good */
	int q;     /* enum report_quality */
};

/* One channel's readings in one stay, in time order. */
struct report_series {
	char *sensor, *channel;
	struct report_sample *s;
	size_t n, cap;
	int64_t interval_ms; /* configured, else the median step, 0 if unknown */
	int configured;      /* interval from the configuration */
};

struct report_stats {
	size_t n; /* good samples */
	double min, max, sum;
	double below_h, above_h; /* time held outside the band, hours */
};

struct report_gap {
	char *sensor, *channel;
	const char *kind; /* "no data", "comm_error", "out_of_range" */
	int64_t from, to; /* ms */
};

/* The lot in one room, [from, to] ms. */
struct report_stay {
	char *room;
	int64_t from, to;
	struct report_series temp, rh;
	int have_temp, have_rh;
	struct report_stats ts, hs;
};

/* The shelf_life fields, in the order of report_sl_fields[] (report_fetch.c). */
enum report_sl_field {
	REPORT_SL_CONSUMED,
	REPORT_SL_REMAINING,
	REPORT_SL_REMAINING_PLAN,
	REPORT_SL_MKT,
	REPORT_SL_DH,
	REPORT_SL_CH,
	REPORT_SL_WL,
	REPORT_SL_NODATA,
	REPORT_SL_OBS,
	REPORT_SL_PRODUCT,
	REPORT_SL_NFIELDS
};

/* One shelf_life point of the lot: the daemon's model accumulators. */
struct report_slpt {
	int64_t t;	  /* ms; first, so the points sort as int64_t */
	const char *room; /* borrowed (from the InfluxDB reply) */
	double f[REPORT_SL_NFIELDS];
};

/* An alarm row: an episode during one of the lot's stays. */
struct report_alarm {
	struct alarm_episode e;
	int first_stay, last_stay; /* the stay began / ended the period */
};

/* A lot figure (report_lot_figures()). */
struct report_fig {
	const char *k, *label, *unit;
	double v;
	int prec;
};
#define REPORT_NFIGS 9

/* Appends one reading (the series grows as needed). */
void report_series_push(struct report_series *s, int64_t t, double v, int q);

/* The median step between consecutive readings, 0 with fewer than two. */
int64_t report_series_median_step(const struct report_series *s);

/* Figures of s over [from, to] ms into *st: min/max/mean (sum and n) of the
 * good readings; hours below lo and above hi (NaN: no such limit), each
 * good reading held until the next one or `to`, at most
 * REPORT_GAP_INTERVALS recording intervals.  Appends to (*gaps, *ngaps) a
 * "no data" gap for every step longer than that (also from `from` to the
 * first reading, and from the last to `to` when `to` is before now_ms, the
 * time of the report), and a "comm_error" or "out_of_range" gap for every
 * run of bad readings (from its first to the next good one). */
void report_analyse_series(const struct report_series *s, int64_t from, int64_t to, int64_t now_ms, double lo,
			   double hi, struct report_stats *st, struct report_gap **gaps, size_t *ngaps);

/* a += b (the "all" row of the stays). */
void report_stats_merge(struct report_stats *a, const struct report_stats *b);

/* Sorts the gaps by their start. */
void report_gaps_sort(struct report_gap *g, size_t n);

/* Sorts sl[0..nsl) by time and appends the lot's stays over [from, to]:
 * consecutive points in one room make a stay that ends where the next one
 * starts (the first starts at `from`, the last ends at `to`).  With no
 * point, one stay in conf_room (the configured room) when there is one. */
void report_make_stays(struct report_slpt *sl, size_t nsl, const char *conf_room, int64_t from, int64_t to,
		       struct report_stay **stays, size_t *nstays);

/* Lot alarms are ROOM/LOT/rule: 0 for another lot's alarm in ROOM, else 1
 * (room alarms and anything else). */
int report_alarm_is_ours(const char *id, const char *room, const char *lot);

/* The episodes of ev[0..n) over [from, to] ms (alarm_history_build())
 * appended to (*rows, *nrows), marked with whether their stay is the first
 * and the last.  0, or -EINVAL from alarm_history_build(). */
int report_alarm_rows(const struct alarm_history_event *ev, size_t n, int64_t from, int64_t to, int first_stay,
		      int last_stay, struct report_alarm **rows, size_t *nrows);

/* How an alarm row ends: "cleared", "reset", or still active at the end of
 * the period (or when the lot left the room, for an earlier stay). */
const char *report_alarm_end_label(const struct report_alarm *al);

/* The lot figures (REPORT_NFIGS of them) into f: the last point's
 * accumulators (NaN without points), consumed life in %, remaining life in
 * days.  Returns REPORT_NFIGS. */
size_t report_lot_figures(const struct report_slpt *sl, size_t nsl, struct report_fig *f);

/* What a stay and a list of gaps own. */
void report_stay_free(struct report_stay *s);
void report_gaps_free(struct report_gap *g, size_t n);

/* --- processing steps (issue 14): a precooling batch's cooling curve --- */

/* One reading of the slowest probe: hours from the curve's origin, °C. */
struct report_cool_pt {
	double t_h, t_c;
};

/* The report's own fit of a cooling curve (processing.md §1.1-§1.2). */
struct report_cool_fit {
	size_t n;               /* points in the fit (after the lag, above Tm + delta) */
	double c_per_h, j, r2;  /* NaN with fewer than 2 distinct times */
	double half_h, seven_eighths_h;
	double to_target_h;     /* from the origin (model); NaN unless eta_model is COOL_ETA_OK/REACHED */
	double remaining_h;     /* from the last point (current-sample formula) */
	int eta_model, eta;     /* enum cool_eta (daemon/models/cooling.h) */
};

/* Least squares on ln Y = ln((T - Tm)/(T0 - Tm)) of the points p[0..n)
 * whose Y is at most lag_y (the lag excluded) and whose T - Tm exceeds
 * delta_k: C = -slope, j = e^intercept, R²; then Z, the 7/8 time, the
 * time to target_c from the origin and the remaining time from the last
 * point (margin_k: target unreachable when Tm >= Tt - margin_k).  t0_c is
 * the pulp temperature at the origin, tm_c the medium's (mean) temperature.
 * Pure; 0, or -EINVAL for fewer than 2 usable points (the figures NaN). */
int report_cool_fit(const struct report_cool_pt *p, size_t n, double t0_c, double tm_c, double target_c,
		    double lag_y, double delta_k, double margin_k, struct report_cool_fit *f);

/* The curve's verdict in words: "pulled early", "on target" or "above
 * target", from the final pulp temperature, the target and the pull
 * margin (the daemon's pull_early flag wins when it is known, pull_early
 * >= 0). */
const char *report_cool_verdict(int pull_early, double final_c, double target_c, double margin_k);

/* --- fumigation and drying steps (processing.md §3, §4) --- */

/* CT (ppm·h) of chamber readings p[0..n) (t_h hours, t_c ppm), trapezoid
 * between samples; a step longer than max_gap_h (NaN: none) is not
 * integrated, its length goes to *unmonitored_h (may be NULL). */
double report_fum_ct(const struct report_cool_pt *p, size_t n, double max_gap_h, double *unmonitored_h);
/* ppm·h to g·h/m³ (SO2 at 25 °C, daemon/models/fumigation.h). */
double report_fum_ct_g_h_m3(double ct_ppmh);
/* "no window set" (both NaN), "under-treated", "over-treated", "in window". */
const char *report_fum_ct_verdict(double ct_ppmh, double ct_min, double ct_max);
/* A worker exposure figure against its limit: "within the limit", "above
 * the limit", "no limit set" (NaN limit), "no reading". */
const char *report_exposure_grade(double v, double limit);
/* Moisture from the loaded mass m0 at mc0 (% wb) and the mass now: % wet
 * basis and dry basis (kg water / kg dry solids).  0, or -EINVAL (NaN). */
int report_dry_moisture(double m0_kg, double mc0_wb_pct, double mass_kg, double *mc_wb_pct, double *mc_db);
/* The unloading verdict: "pulled wet", "over-dried", "on target", or "no
 * moisture", from the profile's numbers (NaN: not set); without an MC
 * the m/m0 endpoint ratio_limit. */
const char *report_dry_verdict(double mc_wb_pct, double ratio, double target_mc_wb, double incomplete_margin,
			       double overdry_margin, double ratio_limit);

#endif
