/* drying.h - kiln and open-air drying of lychee, longan, long nhãn, Chũ
 * noodles and tea (processing.md §4): moisture from a load cell (wet and dry
 * basis, target mass, the m/m0 endpoint), thin-layer kinetics (Lewis, Page)
 * fitted online with O(1) memory, the exhaust-air water balance, schedule
 * tracking and the raw conditions of the §4.3 alarms.  Pure: no I/O, no
 * allocation, time passed in.
 *
 * Units: masses kg (tare already subtracted by the caller: the load cell's
 * tare is recorded at loading, and the engine feeds net mass); moisture as
 * fractions (0.28, not 28 %) on a wet (MC_wb) or dry (X) basis; relative
 * humidity in % (as psychro.h); temperatures °C; pressure Pa; timestamps
 * int64 ns (as lot_observe), durations in the unit their name ends with
 * (_h hours, _s seconds); rates kg/h. */
#ifndef CC_DRYING_H
#define CC_DRYING_H

#include <stddef.h>
#include <stdint.h>

/* Ratio of the molar masses of water and dry air, 18.015/28.965
 * (processing.md §4.2: w = 0.622·p_v/(P − p_v)). */
#define DRYING_EPSILON 0.622
/* Standard atmosphere, Pa: the P that reproduces processing.md's D3. */
#define DRYING_P_STD_PA 101325.0

#define DRYING_STAGES_MAX 12
#define DRYING_STAGE_NAME 32
/* The load-cell running mean is kept in this many sub-windows (bins) of
 * filter_window_s / DRYING_FILTER_BINS each: bounded memory, a window that
 * slides by one bin. */
#define DRYING_FILTER_BINS 12

/* ---- Pure functions (processing.md §4.2); NaN in, NaN out. ---- */

/* Dry solids from the loaded mass and a sample's moisture: m0·(1 − MC0). */
double drying_dry_solids(double m0_kg, double mc0_wb);
/* Moisture, wet basis: 1 − m_ds/m. */
double drying_mc_wb(double m_kg, double m_ds_kg);
/* Moisture, dry basis: (m − m_ds)/m_ds. */
double drying_mc_db(double m_kg, double m_ds_kg);
double drying_wb_from_db(double x);
double drying_db_from_wb(double mc_wb);
/* Mass at which the batch reaches mc_wb: m_ds/(1 − mc_wb). */
double drying_target_mass(double m_ds_kg, double mc_wb);
/* The m/m0 endpoint of "R kg fresh per 1 kg dried" (the sourced endpoint
 * when MC0 is unknown, §4.1): 1/R. */
double drying_mass_ratio(double fresh_per_dried);
/* MR = (X − Xe)/(X0 − Xe). */
double drying_moisture_ratio(double x, double x0, double xe);
/* Lewis MR = e^(−k t); Page MR = e^(−k tⁿ); k in h⁻¹ (h⁻ⁿ for Page). */
double drying_lewis_mr(double k, double t_h);
double drying_page_mr(double k, double n, double t_h);
/* Time from the start to MR = mr: ln(1/mr)/k, and (ln(1/mr)/k)^(1/n).
 * 0 when mr ≥ 1, INFINITY when mr ≤ 0 or k ≤ 0. */
double drying_lewis_time_h(double k, double mr);
double drying_page_time_h(double k, double n, double mr);
/* Humidity ratio, kg water per kg dry air, of air at t_c / rh_pct and
 * pressure p_pa: 0.622·p_v/(P − p_v), p_v = RH·p_s(T) (psychro.h's Magnus
 * p_s, domain.md §2).  NaN if RH is outside [0, 100] or p_v ≥ P. */
double drying_humidity_ratio(double t_c, double rh_pct, double p_pa);
/* RH, %, of air at t_from_c / rh_pct heated (or cooled, above its dew point)
 * to t_to_c with no water added: p_v is unchanged. */
double drying_rh_heated(double t_from_c, double rh_pct, double t_to_c);
/* Water the air removes, kg/h: ṁ_da·(w_out − w_in)·3600, ṁ_da in kg/s. */
double drying_water_rate_kg_h(double mda_kg_s, double w_in, double w_out);

/* ---- Parameters: profile data (graded there), never code constants. ---- */

struct drying_stage {
	char name[DRYING_STAGE_NAME];
	double duration_h;  /* <= 0 or INFINITY: open-ended ("until dry"); last stage only */
	double t_min_c;     /* air temperature bounds; NaN: none (a tempering rest) */
	double t_max_c;
	double rh_max_pct;  /* NaN: none */
	int tempering;      /* a rest: burner off, no stall-by-cold, counted as tempering */
};

struct drying_params {
	/* Moisture endpoint */
	double mc_target_wb;   /* target MC, wet basis */
	double wet_margin;     /* "pulled wet" above target + this (0.02 = 2 points) */
	double dry_margin;     /* over-dried below target − this */
	double ratio_max;      /* m/m0 endpoint: "pulled wet" above it (NaN: none) */
	double xe;             /* equilibrium moisture, dry basis */
	/* Load cell */
	double filter_window_s; /* running mean window (> 0) */
	double rate_window_h;   /* drying rate = mass loss over this span (> 0) */
	double initial_rate_h;  /* the initial rate is the highest rate seen in these first hours */
	double stall_frac;      /* stall when rate < this × initial rate while above target */
	double rise_frac;       /* load-cell fault: filtered mass above its minimum since loading by this fraction */
	double stuck_h;         /* load-cell fault: no change of stuck_frac × m0 for this long ... */
	double stuck_frac;      /* (NaN: never judged stuck) */
	double stuck_air_c;     /* ... while the air is above this */
	/* Online fit gates (points outside (fit_mr_min, fit_mr_max) are not used) */
	double fit_mr_min, fit_mr_max;
	uint32_t fit_min_points;
	double fit_min_span_h;  /* time between the first and last point used */
	double fit_min_r2;      /* NaN: not gated */
	/* Air */
	double initial_phase_h; /* scorch_c applies after this */
	double scorch_c;        /* NaN: none */
	double scorch_abs_c;    /* never above this, initial phase included (NaN: none) */
	double scorch_undelayed_k; /* level 2 (undelayed) at scorch_c + this */
	double fast_start_h, fast_start_c; /* too-fast start: air > fast_start_c within fast_start_h */
	double exhaust_rh_max;  /* saturated exhaust above this, % */
	double outdoor_rh_max;  /* open-air drying weather above this, % (NaN: not open-air) */
	double tempering_min_h; /* tempering recorded when rested at least this long */
	/* Exhaust balance */
	double pressure_pa;
	double dt_cap_s;        /* longer steps are gaps: not integrated, counted */
	size_t nstages;
	struct drying_stage stages[DRYING_STAGES_MAX];
};

/* Standard pressure, every limit NaN (judged never), fit gates at their
 * mathematical minimum (3 points, MR in (0, 1)), no schedule; the profile
 * supplies filter_window_s, rate_window_h, dt_cap_s and every limit. */
void drying_params_default(struct drying_params *p);
/* 0, or -EINVAL when a window is not positive, nstages is too large, an
 * open-ended stage is not the last, or fit_min_points < 3. */
int drying_params_check(const struct drying_params *p);

/* ---- Per-batch state: plain numbers, checkpointable as they are. ---- */

struct drying_state {
	int64_t start_ns;
	double m0_kg;           /* loaded net mass (NaN until known) */
	double mc0_wb;          /* NaN: unknown, only the m/m0 endpoint is judged */
	double m_ds_kg;         /* NaN when mc0_wb is unknown */
	uint32_t n_mass, n_air, n_amb, n_exh; /* samples taken per channel */
	/* Load-cell filter */
	int64_t mass_last_ns;
	int64_t bin_abs;        /* absolute index of the newest bin since start_ns */
	double bin_sum_kg[DRYING_FILTER_BINS];
	double bin_sum_t_h[DRYING_FILTER_BINS];
	uint32_t bin_n[DRYING_FILTER_BINS];
	double mass_raw_kg;     /* the last raw sample */
	double mass_kg;         /* running mean over filter_window_s (NaN before any) */
	double mass_t_h;        /* mean sample time of that mean, hours since start */
	/* Filtered points (one per filter window): rate, fits, fault */
	int64_t point_last_ns;
	double anchor_t_h, anchor_kg; /* start of the current rate span */
	double rate_kg_h;       /* mass loss rate, NaN before one rate span */
	double rate_initial_kg_h; /* highest rate within initial_rate_h; NaN before */
	double lw_n, lw_tt, lw_ty, lw_yy, lw_t, lw_y;           /* Lewis: y = ln MR on t */
	double pg_n, pg_u, pg_uu, pg_y, pg_uy, pg_yy;           /* Page: y = ln(−ln MR) on u = ln t */
	double fit_t_first_h, fit_t_last_h;
	double mass_min_kg;     /* lowest filtered mass since loading */
	double still_ref_kg;    /* filtered mass when it last moved by stuck_frac × m0 */
	int64_t still_since_ns;
	/* Air in the kiln */
	int64_t air_last_ns;
	double air_c, air_rh;
	double air_max_c;
	double tempering_h;     /* hours rested in tempering stages */
	/* Ambient (also the open-air weather) and exhaust */
	int64_t amb_last_ns;
	double amb_c, amb_rh, w_in;
	int64_t exh_last_ns;
	double exh_c, exh_rh, w_out, mda_kg_s;
	double water_kg_h;      /* removal rate at the last exhaust reading */
	double water_kg;        /* cumulative water removed, the load-cell cross-check */
	double balance_gap_h;   /* hours not integrated (gaps, no ambient) */
	uint32_t bad_samples;   /* NaN/Inf, ignored */
	uint32_t late_samples;  /* older than the channel's last, or before start: ignored */
};

/* A batch started at start_ns with net loaded mass m0_kg (NaN: the first
 * filtered mass is taken) and sampled moisture mc0_wb (NaN: unknown). */
void drying_state_init(struct drying_state *s, int64_t start_ns, double m0_kg, double mc0_wb);
/* The operator loaded (or unloaded) product: the load-cell fault
 * references restart from the next filtered mass. */
void drying_mark_loading(struct drying_state *s, int64_t ts_ns);

/* Feeds one sample; each returns 0, or -1 when the sample was ignored
 * (NaN/Inf: bad_samples; older than the channel's last sample or before
 * start_ns: late_samples) and the state is unchanged apart from the count. */
int drying_observe_mass(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double net_kg);
/* Kiln air: the schedule check, scorch, the tempering actually rested. */
int drying_observe_air(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double t_c,
		       double rh_pct);
/* Ambient air (fed to the heater; outdoors for open-air drying). */
int drying_observe_ambient(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double t_c,
			   double rh_pct);
/* Exhaust air with the dry-air flow (kg/s, from a sensor or the fan's
 * commissioned figure): the water removed since the previous exhaust
 * reading is integrated at that reading's rate (gaps beyond dt_cap_s and
 * time without an ambient reading are not integrated, but counted). */
int drying_observe_exhaust(struct drying_state *s, const struct drying_params *p, int64_t ts_ns, double t_c,
			   double rh_pct, double mda_kg_s);

/* Current moisture from the filtered mass (NaN when unknown). */
double drying_now_mc_wb(const struct drying_state *s);
double drying_now_mc_db(const struct drying_state *s);
double drying_now_mass_ratio(const struct drying_state *s);
/* Mass at which the batch reaches the target (NaN when m_ds unknown). */
double drying_now_target_mass(const struct drying_state *s, const struct drying_params *p);

enum drying_model { DRYING_LEWIS, DRYING_PAGE };

/* The online fits, from the filtered points so far.  Lewis: k by least
 * squares of ln MR on t through the origin (MR(0) = 1 by definition of X0,
 * so the intercept is not a free parameter).  Page: ln(−ln MR) = ln k +
 * n·ln t with intercept.  Return 0, -ENODATA (m_ds unknown), -EAGAIN (gates
 * not met yet: too few points, too short a span), -EDOM (r² below the gate
 * or k/n not positive).  r2 may be NULL. */
int drying_fit_lewis(const struct drying_state *s, const struct drying_params *p, double *k, double *r2);
int drying_fit_page(const struct drying_state *s, const struct drying_params *p, double *k, double *n,
		    double *r2);
/* Hours from now_ns until MC_wb reaches the target by the fitted model: 0
 * when reached, INFINITY when unreachable (target X at or below Xe), NaN
 * when there is no accepted fit. */
double drying_eta_h(const struct drying_state *s, const struct drying_params *p, enum drying_model m,
		    int64_t now_ns);

/* Schedule: the stage at elapsed_h since start (the last stage holds past
 * the schedule's end); -1 without stages.  into_h (may be NULL) gets the
 * hours into that stage. */
int drying_stage_at(const struct drying_params *p, double elapsed_h, double *into_h);
/* 1 when t_c lies within stage i's air bounds (NaN bounds are open), 0 if
 * not, -1 for a bad index or NaN t_c. */
int drying_air_in_stage(const struct drying_params *p, int i, double t_c);
double drying_schedule_h(const struct drying_params *p); /* INFINITY if open-ended */

/* Raw conditions of §4.3 (the engine applies on-delays and latching). */
enum drying_verdict {
	DRYING_V_SCORCH = 1u << 0,       /* air above scorch_c after the initial phase */
	DRYING_V_SCORCH_HIGH = 1u << 1,  /* above scorch_c + undelayed margin, or scorch_abs_c */
	DRYING_V_FAST_START = 1u << 2,
	DRYING_V_STALL_COLD = 1u << 3,   /* air below the stage minimum (not while tempering) */
	DRYING_V_STALL_RATE = 1u << 4,   /* rate < stall_frac × initial while above target */
	DRYING_V_STAGE_HOT = 1u << 5,    /* air above the stage maximum */
	DRYING_V_EXHAUST_SAT = 1u << 6,
	DRYING_V_OPEN_AIR_WET = 1u << 7,
	DRYING_V_LOADCELL_RISE = 1u << 8,
	DRYING_V_LOADCELL_STUCK = 1u << 9,
	DRYING_V_OVERDRIED = 1u << 10,
	DRYING_V_WET = 1u << 11,         /* "pulled wet" if unloaded now */
	DRYING_V_NO_TEMPERING = 1u << 12,/* the schedule has tempering, not rested tempering_min_h */
	DRYING_V_STAGE_HUMID = 1u << 13, /* kiln air RH above the stage's rh_max_pct */
};

/* 0, 1 (DRYING_V_SCORCH) or 2 (also DRYING_V_SCORCH_HIGH). */
int drying_scorch_level(const struct drying_state *s, const struct drying_params *p, int64_t now_ns);
int drying_is_fast_start(const struct drying_state *s, const struct drying_params *p, int64_t now_ns);
/* DRYING_V_STALL_COLD | DRYING_V_STALL_RATE bits. */
unsigned drying_stall(const struct drying_state *s, const struct drying_params *p, int64_t now_ns);
int drying_is_exhaust_saturated(const struct drying_state *s, const struct drying_params *p);
int drying_is_open_air_wet(const struct drying_state *s, const struct drying_params *p);
/* DRYING_V_LOADCELL_RISE | DRYING_V_LOADCELL_STUCK bits.  Stuck: the filtered
 * mass has not moved by stuck_frac × m0 for stuck_h while the latest kiln air
 * reading is above stuck_air_c (the engine's on-delay covers "the whole
 * time"). */
unsigned drying_loadcell_fault(const struct drying_state *s, const struct drying_params *p, int64_t now_ns);
int drying_is_overdried(const struct drying_state *s, const struct drying_params *p);
/* The unload verdict: DRYING_V_WET | DRYING_V_NO_TEMPERING bits (0: fit to
 * unload).  Without any load-cell data neither MC nor m/m0 is known and WET
 * is not set: the engine's stale alarm on the load cell says why. */
unsigned drying_unload_verdict(const struct drying_state *s, const struct drying_params *p);
/* Every condition above as one mask. */
unsigned drying_verdicts(const struct drying_state *s, const struct drying_params *p, int64_t now_ns);

#endif
