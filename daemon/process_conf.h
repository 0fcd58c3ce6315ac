/* process_conf.h - processing-line profiles (issue 14): precooling, carcass
 * chilling, SO2 fumigation and drying, as the loader (daemon/config/process.c)
 * fills them from `process_profiles = ( ... )` (config/processes.conf).
 * Every number a verdict rests on is here, none in the models: the engine
 * maps these onto the models' params structs when a batch starts.
 * Units: °C, K, ppm, ppm·h, % (wet basis for moisture), kg; times in ms.
 * A number that is not set is NaN, a duration that is not set -1.  Every
 * number the file sets is also in params, with its grade and source.
 * Included by config.h; every string is owned by the configuration. */
#ifndef CC_PROCESS_CONF_H
#define CC_PROCESS_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "engine_conf.h" /* struct cc_param */

enum cc_process_kind { CC_PROCESS_PRECOOL, CC_PROCESS_CARCASS_CHILL, CC_PROCESS_FUMIGATION, CC_PROCESS_DRYING };

/* The online fit of the cooling coefficient C and lag factor j
 * (processing.md §1.2): which samples enter it and when it is reliable. */
struct cc_fit_gates {
	double delta_k;      /* samples with T - Tm <= delta are left out (the log is noise) */
	double lag_y;        /* accumulate once Y <= lag_y ... */
	int64_t t_lag_ms;    /* ... or once this long after the start (-1: lag_y only) */
	int min_points;      /* post-lag points before a fit is reported */
	double r2_min;       /* 0..1 */
	double c_min, c_max; /* 1/h */
	double j_min, j_max;
};

struct cc_precool_conf {
	double target_c;             /* pulp target Tt */
	double target_margin_k;      /* pulled too early: slowest probe > Tt + margin ... */
	double pull_y_max;           /* ... or Y_slowest > this (1/8: 7/8 cooling not reached) */
	struct cc_fit_gates fit;
	double c_ref_h;              /* the line's reference C, 1/h (NaN: not yet measured) */
	double underperform_fraction;/* fitted C < fraction * C_ref: cooler underperforming */
	double medium_margin_k;      /* Tm > set-point + margin ... */
	int64_t medium_duration_ms;  /* ... for longer: cooler underperforming */
	double unreachable_margin_k; /* Tm >= Tt - margin: target unreachable */
	int64_t harvest_limit_ms;    /* harvest to start of cooling (-1: no limit) */
	double field_heat_c;         /* pulp above this at start: field-heat note */
	double overcool_c;           /* pulp below this: over-cooling (NaN: not checked) */
	double probe_fault_y;        /* Y above this after the lag: probe fault */
	double probe_fault_step_fraction; /* a drop of more than this fraction of T - Tm ... */
	double probe_fault_step_k;   /* ... and more than this, to Tm: probe pulled out */
	double probe_fault_rise_k;   /* T rising by more than this while above Tm: probe fault */
};

/* A carcass weight class: carcasses lighter than max_kg (NaN for the last
 * band: every heavier one) must reach the target within deadline. */
struct cc_weight_band {
	double max_kg;
	int64_t deadline_ms;
	int line;
};

struct cc_carcass_chill_conf {
	struct cc_weight_band *bands; /* max_kg strictly rising, the last unbounded; at most CHILL_BANDS_MAX */
	size_t nbands;
	double target_c;              /* core target (US 40 °F = 4.444, EU/VN 4.0) */
	double target_margin_k;       /* pulled too early: max core > target + margin */
	int64_t warn_margin_ms;       /* warn when the prediction passes deadline - margin */
	double post_chill_max_c;      /* never above after chilling, in processing */
	double ice_crust_c;           /* core below: ice crust */
	double fresh_min_c;           /* core below: no longer "fresh" */
	double medium_max_c;          /* chiller air/water above: alarm ... */
	int64_t medium_duration_ms;   /* ... after this long */
	int64_t max_gap_ms;           /* probe data gap: compliance not proven */
	int min_probes;               /* core probes in the heaviest carcasses */
	int64_t giblets_deadline_ms;  /* giblets to the target after removal (-1: not tracked) */
	struct cc_fit_gates fit;
};

/* A worker exposure limit set (OSHA PEL, NIOSH REL, ...): a TWA over its
 * reference period and/or a STEL (NaN when the set has none). */
struct cc_exposure_limit {
	char *name;
	double twa_ppm;
	int64_t twa_period_ms;
	double stel_ppm;
	int line;
};

struct cc_fumigation_conf {
	double ct_min_ppmh, ct_max_ppmh; /* dose window at batch end (NaN: not calibrated) */
	double entry_limit_ppm;          /* door opened above: alarm */
	double purge_overrun;            /* purge longer than predicted * (1 + this): ventilation fault */
	int64_t max_gap_ms;              /* chamber reading gap: CT not proven */
	int64_t exposure_max_gap_ms;     /* worker-zone reading gap (a STEL needs ≤ 1-min samples) */
	struct cc_exposure_limit *limits;
	size_t nlimits;
	char *worker_limit;              /* the active set's name */
	const struct cc_exposure_limit *active; /* resolved */
	double idlh_ppm;                 /* instantaneous: evacuate */
	int64_t stel_window_ms;          /* STEL averaging window */
	int64_t flat_window_ms;          /* chamber reading unchanged this long while burning: sensor fault */
	double flat_epsilon_ppm;         /* ... "unchanged": within this */
};

/* One stage of a drying schedule. */
struct cc_drying_stage {
	char *name;
	int64_t duration_ms;
	double air_min_c, air_max_c; /* NaN: not checked */
	double rh_max_pct;           /* NaN: not set */
	int tempering;               /* rest/temper stage: heat off, no stall alarm */
	int line;
};

struct cc_drying_conf {
	double target_mc_wb;         /* final moisture, % wet basis */
	double incomplete_margin;    /* unload above target + margin (points): incomplete */
	double overdry_margin;       /* unload below target - margin: over-dried */
	double mass_ratio;           /* m/m0 endpoint (NaN: none) */
	double xe_db;                /* equilibrium moisture, dry basis */
	double initial_mc_wb;        /* % wet basis at loading (NaN: unknown: from a sample) */
	struct cc_drying_stage *stages; /* at most DRYING_STAGES_MAX, names shorter than DRYING_STAGE_NAME */
	size_t nstages;
	int64_t initial_phase_ms;    /* scorch_limit applies after it */
	double scorch_limit_c;       /* air above, after the initial phase */
	double scorch_max_c;         /* air above, ever */
	int64_t scorch_on_delay_ms;
	double scorch_undelayed_k;   /* scorch limit + this: no on-delay */
	double fast_start_c;         /* air above within fast_start_window: too-fast start (NaN: none) */
	int64_t fast_start_window_ms;
	double stall_fraction;       /* drying rate below fraction * initial rate: stall */
	int64_t stall_duration_ms;   /* air below the stage minimum this long: stall / fire out */
	double exhaust_rh_pct;       /* exhaust RH above ... */
	int64_t exhaust_duration_ms; /* ... this long: saturated exhaust */
	int open_air;                /* sun / open-air drying */
	double open_air_rh_pct;      /* outdoor RH above while out (NaN: not checked) */
	double loadcell_rise_pct;    /* mass rising more without a loading event: fault */
	int64_t loadcell_flat_ms;    /* no mass change this long ... */
	double loadcell_flat_band_pct; /* ... "no change": less than this % of m0 ... */
	double loadcell_flat_above_c;/* ... with the air above this: fault */
	int64_t loadcell_filter_ms;  /* running mean of the load cell over this */
	int64_t rate_span_ms;        /* drying rate = filtered mass loss over this span */
	int64_t initial_rate_window_ms; /* the initial rate: the highest within this of the start */
	int64_t max_gap_ms;          /* longer exhaust / rest steps: gaps, not integrated */
};

struct cc_process_profile {
	char *name;
	char *version;
	char *description;
	int kind; /* enum cc_process_kind; the one of the four groups below that is loaded */
	struct cc_precool_conf precool;
	struct cc_carcass_chill_conf carcass_chill;
	struct cc_fumigation_conf fumigation;
	struct cc_drying_conf drying;
	/* every number set, in file order; group "precool", "precool.fit",
	 * "carcass_chill.weight_bands", "drying.schedule", ...; index is the
	 * element of a list group (-1 outside lists) */
	struct cc_param *params;
	size_t nparams;
	int line;
};

/* One processing line (`processes = ( ... )` in coldchaind.conf): a
 * precooler or chiller (its medium channel and product probes), a
 * fumigation chamber or a dryer (their own channel roles, below).  A batch runs on it with a process profile of its kind
 * (control socket: batch start).  c_ref and set_point are the line's own
 * numbers, graded (params, group "processes"); NaN when not given: the
 * profile's c_ref stands, no medium-hot verdict without a set-point. */
#define CC_PROCESS_PROBES_MAX 8 /* = COOL_PROBES_MAX (models/cooling.h) */
struct cc_process_conf {
	char *name;
	int kind;      /* enum cc_process_kind */
	char *medium;  /* SENSOR/CHANNEL: supply air or water (precool, carcass_chill) */
	char *probes[CC_PROCESS_PROBES_MAX]; /* SENSOR/CHANNEL: pulp or core probes */
	size_t nprobes;
	char *giblets[CC_PROCESS_PROBES_MAX]; /* carcass_chill: giblet probes (giblets_deadline) */
	size_t ngiblets;
	double c_ref_h;     /* 1/h */
	double set_point_c; /* medium set-point, °C */
	/* fumigation: chamber SO2 (ppm), the outside (worker-zone) SO2 sensors,
	 * door (non-zero: open, as a storage room's door), chamber T and RH,
	 * the purge fan (>= 0.5: on; its switch-on enters the purge phase);
	 * NULL: not monitored */
	char *chamber, *door, *chamber_t, *chamber_rh, *purge_fan;
	char *outside[CC_PROCESS_PROBES_MAX];
	size_t noutside;
	double free_volume_m3; /* chamber free volume (NaN: unknown, no nominal dose) */
	double air_changes_h;  /* purge air changes per hour (NaN: no purge estimate) */
	double sulphur_kg_t;   /* sulphur burnt per tonne of fruit (NaN: no nominal dose) */
	/* drying: kiln air T (required) and RH, exhaust T and RH, ambient T and
	 * RH, load cell (net kg); NULL: not monitored */
	char *air, *air_rh, *exhaust_t, *exhaust_rh, *ambient_t, *ambient_rh, *loadcell;
	double air_flow_kg_s;  /* dry-air flow through the kiln (NaN: no water balance) */
	struct cc_param *params;
	size_t nparams;
	int line;
};

#endif
