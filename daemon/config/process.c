/* process.c - the processing-line profiles of the configuration (issue 14,
 * processing.md): `process_profiles = ( { name; version; kind; ... } )`,
 * one sub-group per kind (precool, carcass_chill, fumigation, drying) whose
 * numbers are graded like produce profiles'.  Tables, loader, the checks
 * `coldchaind -n` runs, printer, destructor and the one lookup. */
#include "config_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../models/chill.h"  /* CHILL_BANDS_MAX: what a batch's state holds */
#include "../models/drying.h" /* DRYING_STAGES_MAX, DRYING_STAGE_NAME */

#define DAY_MS (86400000LL)

const char *const process_kind_names[] = { "precool", "carcass_chill", "fumigation", "drying", NULL };

enum { PP_NAME, PP_VERSION, PP_KIND, PP_DESCRIPTION, PP_PRECOOL, PP_CARCASS, PP_FUMIGATION, PP_DRYING, PP_N };
static const struct key process_keys[] = {
	[PP_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_process_profile, name),
		      .help = "process profile name, unique; a batch names it" },
	[PP_VERSION] = { .name = "version", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_process_profile, version),
			 .help = "profile version: bump it whenever a number changes" },
	[PP_KIND] = { .name = "kind", .kt = KT_ENUM, .flags = KF_REQ, .off = OFF(cc_process_profile, kind),
		      .enums = process_kind_names, .store = ES_INT,
		      .help = "the process: its group of the same name holds the parameters (and no other group)" },
	[PP_DESCRIPTION] = { .name = "description", .kt = KT_STR, .off = OFF(cc_process_profile, description),
			     .help = "what the profile is for, and its sources" },
	[PP_PRECOOL] = { .name = "precool", .kt = KT_GROUP,
			 .help = "kind precool: see group process_profiles.precool" },
	[PP_CARCASS] = { .name = "carcass_chill", .kt = KT_GROUP,
			 .help = "kind carcass_chill: see group process_profiles.carcass_chill" },
	[PP_FUMIGATION] = { .name = "fumigation", .kt = KT_GROUP,
			    .help = "kind fumigation: see group process_profiles.fumigation" },
	[PP_DRYING] = { .name = "drying", .kt = KT_GROUP, .help = "kind drying: see group process_profiles.drying" },
};

enum { FT_DELTA, FT_LAG_Y, FT_T_LAG, FT_MIN_POINTS, FT_R2, FT_C_MIN, FT_C_MAX, FT_J_MIN, FT_J_MAX, FT_N };
static const struct key fit_keys[] = {
	[FT_DELTA] = { .name = "delta", .kt = KT_DBL, .off = OFF(cc_fit_gates, delta_k), .def = "0.5",
		       .help = "samples with T - Tm at or below this are left out of the fit (the log is noise), K" },
	[FT_LAG_Y] = { .name = "lag_y", .kt = KT_DBL, .off = OFF(cc_fit_gates, lag_y), .def = "0.9",
		       .help = "the fit starts once Y = (T - Tm)/(T0 - Tm) is at or below this (the lag is over)" },
	[FT_T_LAG] = { .name = "t_lag", .kt = KT_DUR, .flags = KF_DYN, .off = OFF(cc_fit_gates, t_lag_ms),
		       .def = "none (lag_y decides)", .min = 0, .max = DAY_MS,
		       .help = "or once this long after the start, whichever comes first" },
	[FT_MIN_POINTS] = { .name = "min_points", .kt = KT_INT, .off = OFF(cc_fit_gates, min_points), .def = "5",
			    .min = 2, .max = 100000, .help = "post-lag points before a fit is reported" },
	[FT_R2] = { .name = "r2_min", .kt = KT_DBL, .off = OFF(cc_fit_gates, r2_min), .def = "0.98",
		    .help = "R² of ln Y against time below this: fit unreliable (0..1)" },
	[FT_C_MIN] = { .name = "c_min", .kt = KT_DBL, .off = OFF(cc_fit_gates, c_min), .def = "0.01",
		       .help = "cooling coefficient C outside c_min..c_max: fit unreliable, 1/h" },
	[FT_C_MAX] = { .name = "c_max", .kt = KT_DBL, .off = OFF(cc_fit_gates, c_max), .def = "20.0",
		       .help = "see c_min, 1/h" },
	[FT_J_MIN] = { .name = "j_min", .kt = KT_DBL, .off = OFF(cc_fit_gates, j_min), .def = "0.5",
		       .help = "lag factor j outside j_min..j_max: fit unreliable" },
	[FT_J_MAX] = { .name = "j_max", .kt = KT_DBL, .off = OFF(cc_fit_gates, j_max), .def = "2.5",
		       .help = "see j_min" },
};

#define PC(f) OFF(cc_precool_conf, f)
enum { PC_TARGET, PC_TARGET_MARGIN, PC_PULL_Y, PC_FIT, PC_C_REF, PC_UNDER, PC_MED_MARGIN, PC_MED_DUR, PC_UNREACH,
       PC_HARVEST, PC_FIELD_HEAT, PC_OVERCOOL, PC_FAULT_Y, PC_FAULT_STEP_FRAC, PC_FAULT_STEP, PC_FAULT_RISE, PC_N };
static const struct key precool_keys[] = {
	[PC_TARGET] = { .name = "target", .kt = KT_DBL, .flags = KF_REQ, .off = PC(target_c),
			.help = "pulp target temperature Tt, °C" },
	[PC_TARGET_MARGIN] = { .name = "target_margin", .kt = KT_DBL, .off = PC(target_margin_k), .def = "1.0",
			       .help = "pulled too early: the slowest probe above target + this when the batch leaves, K" },
	[PC_PULL_Y] = { .name = "pull_y", .kt = KT_DBL, .off = PC(pull_y_max), .def = "0.125",
			.help = "pulled too early also when the slowest probe's Y is above this (1/8: 7/8 cooling not reached)" },
	[PC_FIT] = { .name = "fit", .kt = KT_GROUP, .help = "the online fit of C and j: see group process_profiles.precool.fit" },
	[PC_C_REF] = { .name = "c_ref", .kt = KT_DBL, .flags = KF_DYN, .off = PC(c_ref_h),
		       .def = "none (not yet measured: no underperforming alarm)",
		       .help = "the line's reference cooling coefficient (median of >= 5 good batches), 1/h" },
	[PC_UNDER] = { .name = "underperform_fraction", .kt = KT_DBL, .off = PC(underperform_fraction), .def = "0.7",
		       .help = "fitted C below this fraction of c_ref: cooler underperforming" },
	[PC_MED_MARGIN] = { .name = "medium_margin", .kt = KT_DBL, .off = PC(medium_margin_k), .def = "1.0",
			    .help = "cooling medium above its set-point by more than this ... , K" },
	[PC_MED_DUR] = { .name = "medium_duration", .kt = KT_DUR, .off = PC(medium_duration_ms), .def = "15m", .min = 0,
			 .max = DAY_MS, .help = "... for longer than this: cooler underperforming" },
	[PC_UNREACH] = { .name = "unreachable_margin", .kt = KT_DBL, .off = PC(unreachable_margin_k), .def = "0.5",
			 .help = "medium at or above target - this: target unreachable (no prediction), K" },
	[PC_HARVEST] = { .name = "harvest_limit", .kt = KT_DUR, .flags = KF_DYN, .off = PC(harvest_limit_ms),
			 .def = "none", .min = 0, .max = 7 * DAY_MS,
			 .help = "harvest to start of cooling longer: late start" },
	[PC_FIELD_HEAT] = { .name = "field_heat", .kt = KT_DBL, .off = PC(field_heat_c), .def = "30.0",
			    .help = "pulp above this at the start: field-heat note, °C" },
	[PC_OVERCOOL] = { .name = "overcool", .kt = KT_DBL, .flags = KF_DYN, .off = PC(overcool_c),
			  .def = "none (not checked)", .help = "pulp below this: over-cooling, °C" },
	[PC_FAULT_Y] = { .name = "probe_fault_y", .kt = KT_DBL, .off = PC(probe_fault_y), .def = "1.05",
			 .help = "Y above this after the lag: probe fault" },
	[PC_FAULT_STEP_FRAC] = { .name = "probe_fault_step_fraction", .kt = KT_DBL, .off = PC(probe_fault_step_fraction),
				 .def = "0.8",
				 .help = "a probe dropping by more than this fraction of its excess over Tm ..." },
	[PC_FAULT_STEP] = { .name = "probe_fault_step", .kt = KT_DBL, .off = PC(probe_fault_step_k), .def = "2.0",
			    .help = "... and by more than this in one reading, to Tm: pulled out of the fruit (probe fault), K" },
	[PC_FAULT_RISE] = { .name = "probe_fault_rise", .kt = KT_DBL, .off = PC(probe_fault_rise_k), .def = "0.5",
			    .help = "pulp rising by more than this between readings while above Tm: probe fault, K" },
};
#undef PC

#define CK(f) OFF(cc_carcass_chill_conf, f)
enum { CC_BANDS, CC_TARGET, CC_TARGET_MARGIN, CC_WARN_MARGIN, CC_POST, CC_ICE, CC_FRESH, CC_MED_MAX, CC_MED_DUR,
       CC_MAX_GAP, CC_PROBES, CC_GIBLETS, CC_FIT, CC_N };
static const struct key carcass_keys[] = {
	[CC_BANDS] = { .name = "weight_bands", .kt = KT_LIST, .flags = KF_REQ,
		       .help = "deadline by carcass weight: see group process_profiles.carcass_chill.weight_bands" },
	[CC_TARGET] = { .name = "target", .kt = KT_DBL, .flags = KF_REQ, .off = CK(target_c),
			.help = "core temperature to reach by the band's deadline, °C" },
	[CC_TARGET_MARGIN] = { .name = "target_margin", .kt = KT_DBL, .off = CK(target_margin_k), .def = "0.0",
			       .help = "pulled too early: max core above target + this when the batch leaves the chiller, K" },
	[CC_WARN_MARGIN] = { .name = "warn_margin", .kt = KT_DUR, .off = CK(warn_margin_ms), .def = "30m", .min = 0,
			     .max = DAY_MS, .help = "warn when the predicted time to target passes the deadline - this" },
	[CC_POST] = { .name = "post_chill_max", .kt = KT_DBL, .flags = KF_DYN, .off = CK(post_chill_max_c),
		      .def = "none", .help = "core never above this after chilling (further processing), °C" },
	[CC_ICE] = { .name = "ice_crust", .kt = KT_DBL, .flags = KF_DYN, .off = CK(ice_crust_c), .def = "none",
		     .help = "core below: ice crust, °C" },
	[CC_FRESH] = { .name = "fresh_min", .kt = KT_DBL, .flags = KF_DYN, .off = CK(fresh_min_c), .def = "none",
		       .help = "core below: no longer \"fresh\", °C" },
	[CC_MED_MAX] = { .name = "medium_max", .kt = KT_DBL, .flags = KF_DYN, .off = CK(medium_max_c), .def = "none",
			 .help = "chiller air or water above this ... , °C" },
	[CC_MED_DUR] = { .name = "medium_duration", .kt = KT_DUR, .off = CK(medium_duration_ms), .def = "15m",
			 .min = 0, .max = DAY_MS, .help = "... for longer than this: chiller alarm" },
	[CC_MAX_GAP] = { .name = "max_gap", .kt = KT_DUR, .off = CK(max_gap_ms), .def = "5m", .min = 1000,
			 .max = DAY_MS, .help = "no core reading for longer during the chill: compliance not proven" },
	[CC_PROBES] = { .name = "min_probes", .kt = KT_INT, .off = CK(min_probes), .def = "3", .min = 1, .max = 100,
			.help = "core probes (in the heaviest carcasses) a batch needs" },
	[CC_GIBLETS] = { .name = "giblets_deadline", .kt = KT_DUR, .flags = KF_DYN, .off = CK(giblets_deadline_ms),
			 .def = "none", .min = 0, .max = DAY_MS,
			 .help = "giblets at the target within this of their removal" },
	[CC_FIT] = { .name = "fit", .kt = KT_GROUP,
		     .help = "the online fit of C and j: see group process_profiles.carcass_chill.fit" },
};
#undef CK

enum { WB_MAX_KG, WB_DEADLINE, WB_N };
static const struct key band_keys[] = {
	[WB_MAX_KG] = { .name = "max_kg", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_weight_band, max_kg),
			.def = "none (the last band: every heavier carcass)",
			.help = "carcasses lighter than this (kg, rising band by band) ..." },
	[WB_DEADLINE] = { .name = "deadline", .kt = KT_DUR, .flags = KF_REQ, .off = OFF(cc_weight_band, deadline_ms),
			  .min = 0, .max = 7 * DAY_MS, .help = "... reach the target within this of the start of chilling" },
};

#define FU(f) OFF(cc_fumigation_conf, f)
enum { FU_CT_MIN, FU_CT_MAX, FU_ENTRY, FU_PURGE, FU_MAX_GAP, FU_EXP_GAP, FU_LIMITS, FU_ACTIVE, FU_IDLH, FU_STEL_WIN,
       FU_FLAT_WIN, FU_FLAT_EPS, FU_N };
static const struct key fumigation_keys[] = {
	[FU_CT_MIN] = { .name = "ct_min", .kt = KT_DBL, .flags = KF_DYN, .off = FU(ct_min_ppmh),
			.def = "none (not calibrated)", .help = "dose CT below this at batch end: under-treated, ppm·h" },
	[FU_CT_MAX] = { .name = "ct_max", .kt = KT_DBL, .flags = KF_DYN, .off = FU(ct_max_ppmh),
			.def = "none (not calibrated)", .help = "dose CT above this at batch end: residue risk, ppm·h" },
	[FU_ENTRY] = { .name = "entry_limit", .kt = KT_DBL, .off = FU(entry_limit_ppm), .def = "2.0",
		       .help = "chamber door opened above this: alarm, ppm" },
	[FU_PURGE] = { .name = "purge_overrun", .kt = KT_DBL, .off = FU(purge_overrun), .def = "0.5",
		       .help = "purge longer than predicted by more than this fraction: ventilation fault" },
	[FU_MAX_GAP] = { .name = "max_gap", .kt = KT_DUR, .off = FU(max_gap_ms), .def = "10m", .min = 1000,
			 .max = DAY_MS, .help = "no chamber reading for longer: the dose is not proven" },
	[FU_EXP_GAP] = { .name = "exposure_max_gap", .kt = KT_DUR, .off = FU(exposure_max_gap_ms), .def = "1m",
			 .min = 1000, .max = DAY_MS,
			 .help = "no worker-zone reading for longer: no data (not zero) in the TWA and STEL" },
	[FU_LIMITS] = { .name = "worker_limits", .kt = KT_LIST, .flags = KF_REQ,
			.help = "worker exposure limit sets: see group process_profiles.fumigation.worker_limits" },
	[FU_ACTIVE] = { .name = "worker_limit", .kt = KT_NAME, .flags = KF_REQ, .off = FU(worker_limit),
			.help = "the set of worker_limits the alarms use (by name)" },
	[FU_IDLH] = { .name = "idlh", .kt = KT_DBL, .off = FU(idlh_ppm), .def = "100.0",
		      .help = "a worker-zone reading at or above: evacuate (critical, undelayed), ppm" },
	[FU_STEL_WIN] = { .name = "stel_window", .kt = KT_DUR, .off = FU(stel_window_ms), .def = "15m", .min = 60000,
			  .max = DAY_MS, .help = "window of the short-term exposure (sliding time-weighted mean)" },
	[FU_FLAT_WIN] = { .name = "flat_window", .kt = KT_DUR, .off = FU(flat_window_ms), .def = "10m", .min = 60000,
			  .max = DAY_MS,
			  .help = "chamber reading unchanged this long while burning: sensor fault (absent: 10m, the model's 600 s)" },
	[FU_FLAT_EPS] = { .name = "flat_epsilon", .kt = KT_DBL, .off = FU(flat_epsilon_ppm), .def = "1.0",
			  .help = "... unchanged: within this of the last change (positive; absent: 1 ppm), ppm" },
};
#undef FU

enum { EX_NAME, EX_TWA, EX_TWA_PERIOD, EX_STEL, EX_N };
static const struct key exposure_keys[] = {
	[EX_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_exposure_limit, name),
		      .help = "limit set name, unique in the profile (\"osha-pel\", \"niosh-rel\")" },
	[EX_TWA] = { .name = "twa", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_exposure_limit, twa_ppm),
		     .def = "none", .help = "time-weighted average limit over twa_period, ppm" },
	[EX_TWA_PERIOD] = { .name = "twa_period", .kt = KT_DUR, .flags = KF_DYN,
			    .off = OFF(cc_exposure_limit, twa_period_ms), .def = "none (required with twa)", .min = 0,
			    .max = DAY_MS, .help = "TWA reference period (8h OSHA, 10h NIOSH)" },
	[EX_STEL] = { .name = "stel", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_exposure_limit, stel_ppm),
		      .def = "none", .help = "short-term exposure limit over stel_window, ppm" },
};

#define DR(f) OFF(cc_drying_conf, f)
enum { DR_TARGET, DR_INCOMPLETE, DR_OVERDRY, DR_RATIO, DR_XE, DR_INITIAL, DR_SCHEDULE, DR_INITIAL_PHASE, DR_SCORCH,
       DR_SCORCH_MAX, DR_SCORCH_DELAY, DR_SCORCH_UNDELAYED, DR_FAST, DR_FAST_WIN, DR_STALL_FRAC, DR_STALL_DUR,
       DR_EXH_RH, DR_EXH_DUR, DR_OPEN_AIR, DR_OPEN_RH, DR_LC_RISE, DR_LC_FLAT, DR_LC_BAND, DR_LC_ABOVE, DR_LC_FILTER,
       DR_RATE_SPAN, DR_INITIAL_RATE, DR_MAX_GAP, DR_N };
static const struct key drying_keys[] = {
	[DR_TARGET] = { .name = "target_mc_wb", .kt = KT_DBL, .flags = KF_REQ, .off = DR(target_mc_wb),
			.range = "0..100 (exclusive)", .help = "final moisture content, % wet basis" },
	[DR_INCOMPLETE] = { .name = "incomplete_margin", .kt = KT_DBL, .off = DR(incomplete_margin), .def = "2.0",
			    .help = "unloaded above target + this (points of %): incomplete drying" },
	[DR_OVERDRY] = { .name = "overdry_margin", .kt = KT_DBL, .off = DR(overdry_margin), .def = "5.0",
			 .help = "unloaded below target - this (points of %): over-dried" },
	[DR_RATIO] = { .name = "mass_ratio", .kt = KT_DBL, .flags = KF_DYN, .off = DR(mass_ratio), .def = "none",
		       .help = "load-cell endpoint m/m0 (dried/fresh), 0..1" },
	[DR_XE] = { .name = "xe", .kt = KT_DBL, .off = DR(xe_db), .def = "0.10",
		    .help = "equilibrium moisture at kiln exit conditions, dry basis (kg water/kg solids)" },
	[DR_INITIAL] = { .name = "initial_mc_wb", .kt = KT_DBL, .flags = KF_DYN, .off = DR(initial_mc_wb),
			 .def = "none (from a sample at loading)", .help = "moisture at loading, % wet basis" },
	[DR_SCHEDULE] = { .name = "schedule", .kt = KT_LIST, .flags = KF_REQ,
			  .help = "the stages in order: see group process_profiles.drying.schedule" },
	[DR_INITIAL_PHASE] = { .name = "initial_phase", .kt = KT_DUR, .off = DR(initial_phase_ms), .def = "0s", .min = 0,
			       .max = 30 * DAY_MS, .help = "scorch_limit applies after this long from the start" },
	[DR_SCORCH] = { .name = "scorch_limit", .kt = KT_DBL, .flags = KF_REQ, .off = DR(scorch_limit_c),
			.help = "air above this after the initial phase: scorch / over-temperature, °C" },
	[DR_SCORCH_MAX] = { .name = "scorch_max", .kt = KT_DBL, .flags = KF_DYN, .off = DR(scorch_max_c),
			    .def = "none", .help = "air above this at any time: scorch, °C" },
	[DR_SCORCH_DELAY] = { .name = "scorch_on_delay", .kt = KT_DUR, .off = DR(scorch_on_delay_ms), .def = "10m",
			      .min = 0, .max = DAY_MS, .help = "on-delay of the scorch alarm" },
	[DR_SCORCH_UNDELAYED] = { .name = "scorch_undelayed", .kt = KT_DBL, .off = DR(scorch_undelayed_k),
				  .def = "10.0", .help = "above the scorch limit by this: no on-delay, K" },
	[DR_FAST] = { .name = "fast_start", .kt = KT_DBL, .flags = KF_DYN, .off = DR(fast_start_c), .def = "none",
		      .help = "air above this within fast_start_window: too-fast start, °C" },
	[DR_FAST_WIN] = { .name = "fast_start_window", .kt = KT_DUR, .off = DR(fast_start_window_ms), .def = "2h",
			  .min = 0, .max = 7 * DAY_MS, .help = "the start window of fast_start" },
	[DR_STALL_FRAC] = { .name = "stall_fraction", .kt = KT_DBL, .off = DR(stall_fraction), .def = "0.1",
			    .help = "drying rate below this fraction of the initial rate while above target: stall" },
	[DR_STALL_DUR] = { .name = "stall_duration", .kt = KT_DUR, .off = DR(stall_duration_ms), .def = "30m",
			   .min = 0, .max = DAY_MS, .help = "air below the stage's air_min this long: stall / fire out" },
	[DR_EXH_RH] = { .name = "exhaust_rh", .kt = KT_DBL, .off = DR(exhaust_rh_pct), .def = "90.0",
			.help = "exhaust RH above this ... , %" },
	[DR_EXH_DUR] = { .name = "exhaust_duration", .kt = KT_DUR, .off = DR(exhaust_duration_ms), .def = "30m",
			 .min = 0, .max = DAY_MS, .help = "... this long: saturated exhaust (under-ventilation)" },
	[DR_OPEN_AIR] = { .name = "open_air", .kt = KT_BOOL, .flags = KF_FALSE_UNSET, .off = DR(open_air),
			  .def = "false", .help = "sun or open-air drying (the weather alarm applies)" },
	[DR_OPEN_RH] = { .name = "open_air_rh", .kt = KT_DBL, .flags = KF_DYN, .off = DR(open_air_rh_pct),
			 .def = "none", .help = "open air: outdoor RH above this while the product is out, %" },
	[DR_LC_RISE] = { .name = "loadcell_rise_pct", .kt = KT_DBL, .off = DR(loadcell_rise_pct), .def = "0.5",
			 .help = "mass rising more than this without a loading event: load-cell fault, %" },
	[DR_LC_FLAT] = { .name = "loadcell_flat", .kt = KT_DUR, .off = DR(loadcell_flat_ms), .def = "2h", .min = 0,
			 .max = 7 * DAY_MS, .help = "no mass change this long ..." },
	[DR_LC_BAND] = { .name = "loadcell_flat_band", .kt = KT_DBL, .off = DR(loadcell_flat_band_pct), .def = "0.5",
			 .help = "... moving less than this % of m0 (no change) ..." },
	[DR_LC_ABOVE] = { .name = "loadcell_flat_above", .kt = KT_DBL, .off = DR(loadcell_flat_above_c),
			  .def = "50.0", .help = "... with the air above this: load-cell fault, °C" },
	[DR_LC_FILTER] = { .name = "loadcell_filter", .kt = KT_DUR, .off = DR(loadcell_filter_ms), .def = "5m",
			   .min = 1000, .max = 3600000,
			   .help = "running mean of the load cell over this (absent: 5m; processing.md 4.2: 1-5 min)" },
	[DR_RATE_SPAN] = { .name = "rate_span", .kt = KT_DUR, .off = DR(rate_span_ms), .def = "1h", .min = 60000,
			   .max = DAY_MS, .help = "drying rate: filtered mass loss over this span (absent: 1h), kg/h" },
	[DR_INITIAL_RATE] = { .name = "initial_rate_window", .kt = KT_DUR, .off = DR(initial_rate_window_ms), .def = "6h",
			      .min = 60000, .max = 7 * DAY_MS,
			      .help = "the initial rate (stall_fraction's base) is the highest rate within this of the start "
				      "(at least rate_span; absent: 6h)" },
	[DR_MAX_GAP] = { .name = "max_gap", .kt = KT_DUR, .off = DR(max_gap_ms), .def = "10m", .min = 1000, .max = DAY_MS,
			 .help = "a longer step between exhaust or rest-stage air readings is a gap: not integrated into "
				 "the water balance or the tempering time (absent: 10m)" },
};
#undef DR

enum { ST_NAME, ST_DURATION, ST_AIR_MIN, ST_AIR_MAX, ST_RH_MAX, ST_TEMPERING, ST_N };
static const struct key stage_keys[] = {
	[ST_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_drying_stage, name),
		      .help = "stage name, unique in the schedule" },
	[ST_DURATION] = { .name = "duration", .kt = KT_DUR, .flags = KF_REQ, .off = OFF(cc_drying_stage, duration_ms),
			  .min = 0, .max = 30 * DAY_MS, .help = "planned length of the stage (positive)" },
	[ST_AIR_MIN] = { .name = "air_min", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_drying_stage, air_min_c),
			 .def = "none", .help = "air temperature the stage keeps at least (stall below), °C" },
	[ST_AIR_MAX] = { .name = "air_max", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_drying_stage, air_max_c),
			 .def = "none", .help = "air temperature the stage keeps at most, °C" },
	[ST_RH_MAX] = { .name = "rh_max", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_drying_stage, rh_max_pct),
			.def = "none", .help = "air RH the stage keeps at most, %" },
	[ST_TEMPERING] = { .name = "tempering", .kt = KT_BOOL, .flags = KF_FALSE_UNSET,
			   .off = OFF(cc_drying_stage, tempering), .def = "false",
			   .help = "a rest / tempering stage (heat off: no stall alarm; incomplete drying if skipped)" },
};

const struct group g_process = GROUP("process_profiles", process_keys,
				     "one processing-line profile (list element; config/processes.conf)");
const struct group g_precool = GROUP("process_profiles.precool", precool_keys,
				     "precooling of fresh produce (forced-air, hydro, room): targets and alarms");
const struct group g_precool_fit = GROUP("process_profiles.precool.fit", fit_keys,
					 "quality gates of the online cooling-curve fit");
const struct group g_carcass = GROUP("process_profiles.carcass_chill", carcass_keys,
				     "carcass chilling of poultry: deadlines by weight and limits");
const struct group g_carcass_fit = GROUP("process_profiles.carcass_chill.fit", fit_keys,
					 "quality gates of the online chilling-curve fit");
const struct group g_band = GROUP("process_profiles.carcass_chill.weight_bands", band_keys,
				  "one weight band (list element; the last has no max_kg)");
const struct group g_fumigation = GROUP("process_profiles.fumigation", fumigation_keys,
					"SO2 fumigation: chamber dose window and worker exposure");
const struct group g_exposure = GROUP("process_profiles.fumigation.worker_limits", exposure_keys,
				      "one worker exposure limit set (list element)");
const struct group g_drying = GROUP("process_profiles.drying", drying_keys,
				    "drying (kiln, heat pump, open air): moisture endpoint, schedule and alarms");
const struct group g_stage = GROUP("process_profiles.drying.schedule", stage_keys,
				   "one stage of the drying schedule (list element)");

_Static_assert(ARRAY_SIZE(process_keys) == PP_N, "process_keys");
_Static_assert(ARRAY_SIZE(fit_keys) == FT_N, "fit_keys");
_Static_assert(ARRAY_SIZE(precool_keys) == PC_N, "precool_keys");
_Static_assert(ARRAY_SIZE(carcass_keys) == CC_N, "carcass_keys");
_Static_assert(ARRAY_SIZE(band_keys) == WB_N, "band_keys");
_Static_assert(ARRAY_SIZE(fumigation_keys) == FU_N, "fumigation_keys");
_Static_assert(ARRAY_SIZE(exposure_keys) == EX_N, "exposure_keys");
_Static_assert(ARRAY_SIZE(drying_keys) == DR_N, "drying_keys");
_Static_assert(ARRAY_SIZE(stage_keys) == ST_N, "stage_keys");
_Static_assert(DR_N <= MAX_KEYS, "drying_keys fit struct seen[MAX_KEYS]");

/* The setting of key k when set and valid, else NULL. */
static const config_setting_t *member(const struct seen *sn, int k)
{
	return ok(&sn[k]) ? sn[k].s : NULL;
}

/* schema_apply on one group of profile p, its numbers graded and recorded
 * in p->params under group (static), list element index (-1: none). */
static void graded_apply(struct ctx *c, const config_setting_t *grp, const config_setting_t *anchor,
			 const struct group *g, void *obj, struct cc_process_profile *p, const char *gp,
			 const char *group, int index, struct seen *sg)
{
	c->gparams = &p->params;
	c->gnparams = &p->nparams;
	c->ggroup = group;
	c->gindex = index;
	schema_apply(c, grp, anchor, g, obj, gp, sg);
	c->gparams = NULL;
}

/* err_key for a number that must lie in (lo, hi) or [lo, hi]: "V is not
 * within LO..HI" (what: the quantity, e.g. "a fraction"). */
static void check_within(struct ctx *c, const struct seen *sg, int k, const struct key *keys,
			 const config_setting_t *anchor, const char *gp, double v, double lo, double hi, int open,
			 const char *what)
{
	int in = open ? (v > lo && v < hi) : (v >= lo && v <= hi);

	if (ok(&sg[k]) && !isnan(v) && !in)
		err_key(c, sg, k, keys, anchor, gp, "%g is not %s (%s %g..%g)", v, what, open ? "strictly within" : "within",
			lo, hi);
}

/* err_key when a number that is set is not positive. */
static void check_positive(struct ctx *c, const struct seen *sg, int k, const struct key *keys,
			   const config_setting_t *anchor, const char *gp, double v)
{
	if (ok(&sg[k]) && !isnan(v) && !(v > 0))
		err_key(c, sg, k, keys, anchor, gp, "%g must be positive", v);
}

/* lo must be below hi (ka, kb their keys): reported at whichever is set. */
static void check_below(struct ctx *c, const struct seen *sg, int ka, int kb, const struct key *keys,
			const config_setting_t *anchor, const char *gp, double lo, double hi, int strict)
{
	if (isnan(lo) || isnan(hi) || (strict ? lo < hi : lo <= hi) || (!ok(&sg[ka]) && !ok(&sg[kb])))
		return;
	err_key(c, sg, ok(&sg[kb]) ? kb : ka, keys, anchor, gp, "%s %g must be %s %s %g", keys[ka].name, lo,
		strict ? "below" : "at most", keys[kb].name, hi);
}

/* A fit group (precool.fit, carcass_chill.fit): the gates. */
static void load_fit(struct ctx *c, const config_setting_t *fs, const config_setting_t *anchor, struct cc_fit_gates *f,
		     struct cc_process_profile *p, const char *base, const char *group)
{
	struct seen sg[MAX_KEYS];
	char *gp = key_path(base, "fit");
	const config_setting_t *a = fs ? fs : anchor;

	f->t_lag_ms = -1;
	graded_apply(c, fs, anchor, group[0] == 'p' ? &g_precool_fit : &g_carcass_fit, f, p, gp, group, -1, sg);
	check_within(c, sg, FT_R2, fit_keys, a, gp, f->r2_min, 0, 1, 0, "an R²");
	check_within(c, sg, FT_LAG_Y, fit_keys, a, gp, f->lag_y, 0, 1, 0, "a fraction of the initial difference");
	if (ok(&sg[FT_DELTA]) && !(f->delta_k >= 0))
		err_key(c, sg, FT_DELTA, fit_keys, a, gp, "%g must not be negative", f->delta_k);
	check_positive(c, sg, FT_C_MIN, fit_keys, a, gp, f->c_min);
	check_positive(c, sg, FT_J_MIN, fit_keys, a, gp, f->j_min);
	check_below(c, sg, FT_C_MIN, FT_C_MAX, fit_keys, a, gp, f->c_min, f->c_max, 1);
	check_below(c, sg, FT_J_MIN, FT_J_MAX, fit_keys, a, gp, f->j_min, f->j_max, 1);
	free(gp);
}

static void load_precool(struct ctx *c, const config_setting_t *gs, const config_setting_t *anchor,
			 struct cc_process_profile *p, const char *gp)
{
	struct cc_precool_conf *q = &p->precool;
	struct seen sg[MAX_KEYS];
	const config_setting_t *a = gs ? gs : anchor;

	q->c_ref_h = q->overcool_c = NAN;
	q->harvest_limit_ms = -1;
	graded_apply(c, gs, anchor, &g_precool, q, p, gp, "precool", -1, sg);
	load_fit(c, member(sg, PC_FIT), a, &q->fit, p, gp, "precool.fit");
	if (ok(&sg[PC_TARGET_MARGIN]) && !(q->target_margin_k >= 0))
		err_key(c, sg, PC_TARGET_MARGIN, precool_keys, a, gp, "%g must not be negative", q->target_margin_k);
	check_within(c, sg, PC_PULL_Y, precool_keys, a, gp, q->pull_y_max, 0, 1, 1, "a fraction");
	check_positive(c, sg, PC_C_REF, precool_keys, a, gp, q->c_ref_h);
	if (ok(&sg[PC_C_REF]) && q->fit.c_min < q->fit.c_max && (q->c_ref_h < q->fit.c_min || q->c_ref_h > q->fit.c_max))
		err_key(c, sg, PC_C_REF, precool_keys, a, gp, "%g lies outside the fit's c_min..c_max %g..%g", q->c_ref_h,
			q->fit.c_min, q->fit.c_max);
	check_within(c, sg, PC_UNDER, precool_keys, a, gp, q->underperform_fraction, 0, 1, 1, "a fraction");
	if (ok(&sg[PC_UNREACH]) && !(q->unreachable_margin_k >= 0))
		err_key(c, sg, PC_UNREACH, precool_keys, a, gp, "%g must not be negative", q->unreachable_margin_k);
	if (ok(&sg[PC_FAULT_Y]) && !(q->probe_fault_y >= 1))
		err_key(c, sg, PC_FAULT_Y, precool_keys, a, gp, "%g must be at least 1 (Y starts at 1)", q->probe_fault_y);
	check_within(c, sg, PC_FAULT_STEP_FRAC, precool_keys, a, gp, q->probe_fault_step_fraction, 0, 1, 1, "a fraction");
	check_positive(c, sg, PC_FAULT_STEP, precool_keys, a, gp, q->probe_fault_step_k);
	check_positive(c, sg, PC_FAULT_RISE, precool_keys, a, gp, q->probe_fault_rise_k);
	if (!isnan(q->overcool_c) && ok(&sg[PC_TARGET]) && !(q->overcool_c < q->target_c))
		err_key(c, sg, PC_OVERCOOL, precool_keys, a, gp, "%g must be below target %g", q->overcool_c, q->target_c);
}

static void band_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_process_profile *p = arg;
	struct cc_carcass_chill_conf *k = &p->carcass_chill;
	struct cc_weight_band *b = &k->bands[k->nbands];
	struct seen sg[MAX_KEYS];

	b->line = src_line(el);
	b->max_kg = NAN;
	if (k->nbands == CHILL_BANDS_MAX)
		err_at(c, el, path, "more than %d weight bands (what the chilling model holds)", CHILL_BANDS_MAX);
	graded_apply(c, el, el, &g_band, b, p, path, "carcass_chill.weight_bands", (int)k->nbands, sg);
	if (ok(&sg[WB_DEADLINE]) && b->deadline_ms <= 0)
		err_key(c, sg, WB_DEADLINE, band_keys, el, path, "must be positive");
	check_positive(c, sg, WB_MAX_KG, band_keys, el, path, b->max_kg);
	if (k->nbands > 0) {
		double prev = k->bands[k->nbands - 1].max_kg;
		if (isnan(prev))
			err_at(c, el, path, "a band follows the unbounded band (only the last band has no max_kg)");
		else if (ok(&sg[WB_MAX_KG]) && b->max_kg > 0 && !(b->max_kg > prev))
			err_key(c, sg, WB_MAX_KG, band_keys, el, path,
				"%g is not above the previous band's %g: max_kg must rise strictly", b->max_kg, prev);
	}
	k->nbands++;
}

static void load_carcass(struct ctx *c, const config_setting_t *gs, const config_setting_t *anchor,
			 struct cc_process_profile *p, const char *gp)
{
	struct cc_carcass_chill_conf *k = &p->carcass_chill;
	struct seen sg[MAX_KEYS];
	const config_setting_t *a = gs ? gs : anchor, *bs;

	k->post_chill_max_c = k->ice_crust_c = k->fresh_min_c = k->medium_max_c = NAN;
	k->giblets_deadline_ms = -1;
	graded_apply(c, gs, anchor, &g_carcass, k, p, gp, "carcass_chill", -1, sg);
	load_fit(c, member(sg, CC_FIT), a, &k->fit, p, gp, "carcass_chill.fit");
	if ((bs = member(sg, CC_BANDS))) {
		char *base = key_path(gp, "weight_bands");

		k->bands = xcalloc((size_t)config_setting_length(bs) + 1, sizeof(*k->bands));
		schema_each_group(c, bs, base, "", band_elem, p);
		if (k->nbands == 0)
			err_at(c, bs, base, "needs at least one band");
		else if (!isnan(k->bands[k->nbands - 1].max_kg))
			err_at(c, bs, base, "the last band must have no max_kg (it takes every heavier carcass)");
		free(base);
	}
	if (ok(&sg[CC_TARGET_MARGIN]) && !(k->target_margin_k >= 0))
		err_key(c, sg, CC_TARGET_MARGIN, carcass_keys, a, gp, "%g must not be negative", k->target_margin_k);
	check_below(c, sg, CC_ICE, CC_TARGET, carcass_keys, a, gp, k->ice_crust_c, k->target_c, 1);
	check_below(c, sg, CC_FRESH, CC_ICE, carcass_keys, a, gp, k->fresh_min_c, k->ice_crust_c, 0);
	check_below(c, sg, CC_TARGET, CC_POST, carcass_keys, a, gp, k->target_c, k->post_chill_max_c, 0);
}

/* The list of worker limit sets of a fumigation profile, names unique. */
struct limit_list {
	struct cc_process_profile *p;
	struct names names;
};

static void exposure_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct limit_list *ll = arg;
	struct cc_fumigation_conf *f = &ll->p->fumigation;
	struct cc_exposure_limit *x = &f->limits[f->nlimits];
	struct seen sg[MAX_KEYS];

	x->line = src_line(el);
	x->twa_ppm = x->stel_ppm = NAN;
	x->twa_period_ms = -1;
	graded_apply(c, el, el, &g_exposure, x, ll->p, path, "fumigation.worker_limits", (int)f->nlimits, sg);
	name_unique(c, &ll->names, "worker limit set", x->name, el, config_setting_get_member(el, "name"), path, "name");
	check_positive(c, sg, EX_TWA, exposure_keys, el, path, x->twa_ppm);
	check_positive(c, sg, EX_STEL, exposure_keys, el, path, x->stel_ppm);
	if (!sg[EX_TWA].s && !sg[EX_STEL].s)
		err_at(c, el, path, "a limit set needs twa or stel (or both)");
	if (sg[EX_TWA].s && x->twa_period_ms < 0)
		err_key(c, sg, EX_TWA_PERIOD, exposure_keys, el, path, "missing required key (with twa)");
	else if (ok(&sg[EX_TWA_PERIOD]) && x->twa_period_ms <= 0)
		err_key(c, sg, EX_TWA_PERIOD, exposure_keys, el, path, "must be positive");
	f->nlimits++;
}

static void load_fumigation(struct ctx *c, const config_setting_t *gs, const config_setting_t *anchor,
			    struct cc_process_profile *p, const char *gp)
{
	struct cc_fumigation_conf *f = &p->fumigation;
	struct seen sg[MAX_KEYS];
	const config_setting_t *a = gs ? gs : anchor, *ls;
	struct limit_list ll = { p, { 0 } };

	f->ct_min_ppmh = f->ct_max_ppmh = NAN;
	graded_apply(c, gs, anchor, &g_fumigation, f, p, gp, "fumigation", -1, sg);
	check_positive(c, sg, FU_CT_MIN, fumigation_keys, a, gp, f->ct_min_ppmh);
	check_below(c, sg, FU_CT_MIN, FU_CT_MAX, fumigation_keys, a, gp, f->ct_min_ppmh, f->ct_max_ppmh, 1);
	check_positive(c, sg, FU_ENTRY, fumigation_keys, a, gp, f->entry_limit_ppm);
	check_positive(c, sg, FU_PURGE, fumigation_keys, a, gp, f->purge_overrun);
	check_positive(c, sg, FU_IDLH, fumigation_keys, a, gp, f->idlh_ppm);
	check_positive(c, sg, FU_FLAT_EPS, fumigation_keys, a, gp, f->flat_epsilon_ppm);
	if ((ls = member(sg, FU_LIMITS))) {
		char *base = key_path(gp, "worker_limits");

		f->limits = xcalloc((size_t)config_setting_length(ls) + 1, sizeof(*f->limits));
		schema_each_group(c, ls, base, "name", exposure_elem, &ll);
		free(base);
		names_free(&ll.names);
	}
	for (size_t i = 0; ok(&sg[FU_ACTIVE]) && i < f->nlimits; i++)
		if (f->limits[i].name && strcmp(f->limits[i].name, f->worker_limit) == 0)
			f->active = &f->limits[i];
	if (ok(&sg[FU_ACTIVE]) && ls && !f->active)
		err_key(c, sg, FU_ACTIVE, fumigation_keys, a, gp, "no set \"%s\" in worker_limits", f->worker_limit);
}

struct stage_list {
	struct cc_process_profile *p;
	struct names names;
};

static void stage_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct stage_list *sl = arg;
	struct cc_drying_conf *d = &sl->p->drying;
	struct cc_drying_stage *st = &d->stages[d->nstages];
	struct seen sg[MAX_KEYS];

	st->line = src_line(el);
	st->air_min_c = st->air_max_c = st->rh_max_pct = NAN;
	if (d->nstages == DRYING_STAGES_MAX)
		err_at(c, el, path, "more than %d stages (what the drying model holds)", DRYING_STAGES_MAX);
	graded_apply(c, el, el, &g_stage, st, sl->p, path, "drying.schedule", (int)d->nstages, sg);
	if (ok(&sg[ST_NAME]) && strlen(st->name) >= DRYING_STAGE_NAME)
		err_key(c, sg, ST_NAME, stage_keys, el, path, "\"%s\" is longer than %d characters", st->name,
			DRYING_STAGE_NAME - 1);
	name_unique(c, &sl->names, "stage", st->name, el, config_setting_get_member(el, "name"), path, "name");
	if (ok(&sg[ST_DURATION]) && st->duration_ms <= 0)
		err_key(c, sg, ST_DURATION, stage_keys, el, path, "must be positive");
	check_below(c, sg, ST_AIR_MIN, ST_AIR_MAX, stage_keys, el, path, st->air_min_c, st->air_max_c, 0);
	check_within(c, sg, ST_RH_MAX, stage_keys, el, path, st->rh_max_pct, 0, 100, 0, "a relative humidity");
	d->nstages++;
}

/* The drying group's own numbers: moisture, fractions, RH, limits in order. */
static void check_drying(struct ctx *c, const struct seen *sg, const config_setting_t *a, const char *gp,
			 const struct cc_drying_conf *d)
{
	check_within(c, sg, DR_TARGET, drying_keys, a, gp, d->target_mc_wb, 0, 100, 1, "a moisture content in %");
	check_within(c, sg, DR_INITIAL, drying_keys, a, gp, d->initial_mc_wb, 0, 100, 1, "a moisture content in %");
	check_below(c, sg, DR_TARGET, DR_INITIAL, drying_keys, a, gp, d->target_mc_wb, d->initial_mc_wb, 1);
	if (ok(&sg[DR_INCOMPLETE]) && !(d->incomplete_margin >= 0))
		err_key(c, sg, DR_INCOMPLETE, drying_keys, a, gp, "%g must not be negative", d->incomplete_margin);
	if (ok(&sg[DR_OVERDRY]) && !(d->overdry_margin >= 0))
		err_key(c, sg, DR_OVERDRY, drying_keys, a, gp, "%g must not be negative", d->overdry_margin);
	if (ok(&sg[DR_RATIO]) && !(d->mass_ratio > 0 && d->mass_ratio <= 1))
		err_key(c, sg, DR_RATIO, drying_keys, a, gp, "%g is not a mass ratio m/m0 (above 0, at most 1)",
			d->mass_ratio);
	check_positive(c, sg, DR_XE, drying_keys, a, gp, d->xe_db);
	check_below(c, sg, DR_SCORCH, DR_SCORCH_MAX, drying_keys, a, gp, d->scorch_limit_c, d->scorch_max_c, 0);
	check_below(c, sg, DR_FAST, DR_SCORCH, drying_keys, a, gp, d->fast_start_c, d->scorch_limit_c, 0);
	if (ok(&sg[DR_SCORCH_UNDELAYED]) && !(d->scorch_undelayed_k >= 0))
		err_key(c, sg, DR_SCORCH_UNDELAYED, drying_keys, a, gp, "%g must not be negative", d->scorch_undelayed_k);
	check_within(c, sg, DR_STALL_FRAC, drying_keys, a, gp, d->stall_fraction, 0, 1, 1, "a fraction");
	check_within(c, sg, DR_EXH_RH, drying_keys, a, gp, d->exhaust_rh_pct, 0, 100, 0, "a relative humidity");
	check_within(c, sg, DR_OPEN_RH, drying_keys, a, gp, d->open_air_rh_pct, 0, 100, 0, "a relative humidity");
	if (ok(&sg[DR_OPEN_RH]) && !d->open_air)
		err_key(c, sg, DR_OPEN_RH, drying_keys, a, gp, "has no effect without open_air = true");
	check_positive(c, sg, DR_LC_RISE, drying_keys, a, gp, d->loadcell_rise_pct);
	check_positive(c, sg, DR_LC_BAND, drying_keys, a, gp, d->loadcell_flat_band_pct);
	/* a bad one holds its default: no second error about it */
	if ((ok(&sg[DR_RATE_SPAN]) || ok(&sg[DR_INITIAL_RATE])) && !sg[DR_RATE_SPAN].bad && !sg[DR_INITIAL_RATE].bad &&
	    d->initial_rate_window_ms < d->rate_span_ms)
		err_key(c, sg, ok(&sg[DR_INITIAL_RATE]) ? DR_INITIAL_RATE : DR_RATE_SPAN, drying_keys, a, gp,
			"initial_rate_window %gh must be at least rate_span %gh (no rate exists before one span)",
			(double)d->initial_rate_window_ms / 3600000.0, (double)d->rate_span_ms / 3600000.0);
}

static void load_drying(struct ctx *c, const config_setting_t *gs, const config_setting_t *anchor,
			struct cc_process_profile *p, const char *gp)
{
	struct cc_drying_conf *d = &p->drying;
	struct seen sg[MAX_KEYS];
	const config_setting_t *a = gs ? gs : anchor, *ls;

	d->mass_ratio = d->initial_mc_wb = d->scorch_max_c = d->fast_start_c = d->open_air_rh_pct = NAN;
	graded_apply(c, gs, anchor, &g_drying, d, p, gp, "drying", -1, sg);
	check_drying(c, sg, a, gp, d);
	if ((ls = member(sg, DR_SCHEDULE))) {
		struct stage_list sl = { p, { 0 } };
		char *base = key_path(gp, "schedule");

		d->stages = xcalloc((size_t)config_setting_length(ls) + 1, sizeof(*d->stages));
		schema_each_group(c, ls, base, "name", stage_elem, &sl);
		if (d->nstages == 0)
			err_at(c, ls, base, "needs at least one stage");
		free(base);
		names_free(&sl.names);
	}
}

typedef void (*kind_loader)(struct ctx *c, const config_setting_t *gs, const config_setting_t *anchor,
			    struct cc_process_profile *p, const char *gp);

static const kind_loader kind_loaders[] = { load_precool, load_carcass, load_fumigation, load_drying };
static const int kind_keys[] = { PP_PRECOOL, PP_CARCASS, PP_FUMIGATION, PP_DRYING };

/* The kind's own group (required); every other kind's group is refused. */
static void load_process(struct ctx *c, const config_setting_t *ps, struct cc_process_profile *p, const char *path)
{
	struct seen sn[MAX_KEYS];

	p->line = src_line(ps);
	p->kind = -1;
	schema_apply(c, ps, ps, &g_process, p, path, sn);
	for (size_t i = 0; i < ARRAY_SIZE(kind_keys); i++) {
		int k = kind_keys[i];
		char *gp;
		if (!ok(&sn[PP_KIND]) || (int)i != p->kind) {
			if (ok(&sn[k]) && ok(&sn[PP_KIND]))
				err_key(c, sn, k, process_keys, ps, path, "does not apply to kind %s (only group %s does)",
					process_kind_names[p->kind], process_kind_names[p->kind]);
			continue;
		}
		if (!sn[k].s) {
			err_key(c, sn, k, process_keys, ps, path, "missing required key (kind %s)", process_kind_names[p->kind]);
			continue;
		}
		gp = key_path(path, process_keys[k].name);
		if (ok(&sn[k]))
			kind_loaders[i](c, sn[k].s, ps, p, gp);
		free(gp);
	}
}

struct process_list {
	struct names names;
};

static void process_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct process_list *pl = arg;
	struct cc_process_profile *p = &c->cfg->process_profiles[c->cfg->nprocess_profiles++];

	load_process(c, el, p, path);
	name_unique(c, &pl->names, "process profile", p->name, el, config_setting_get_member(el, "name"), path,
		    "name");
}

void load_processes(struct ctx *c, const config_setting_t *list)
{
	struct process_list pl = { { 0 } };

	if (!list)
		return;
	c->cfg->process_profiles = xcalloc((size_t)config_setting_length(list) + 1, sizeof(*c->cfg->process_profiles));
	schema_each_group(c, list, "process_profiles", "name", process_elem, &pl);
	names_free(&pl.names);
}

const char *config_process_kind_name(int kind)
{
	return kind >= 0 && kind < (int)ARRAY_SIZE(process_kind_names) - 1 ? process_kind_names[kind] : "?";
}

const struct cc_process_profile *config_find_process_profile(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nprocess_profiles; i++)
		if (cfg->process_profiles[i].name && strcmp(cfg->process_profiles[i].name, name) == 0)
			return &cfg->process_profiles[i];
	return NULL;
}

const struct cc_param *config_process_param(const struct cc_process_profile *p, const char *group, const char *key,
					    int index)
{
	for (size_t i = 0; p && group && key && i < p->nparams; i++)
		if (p->params[i].index == index && strcmp(p->params[i].group, group) == 0 &&
		    strcmp(p->params[i].key, key) == 0)
			return &p->params[i];
	return NULL;
}

/* --- printing -------------------------------------------------------------- */

#define GRADED(f, ind, g, obj, p, grp, idx) schema_print_graded_keys(f, ind, g, obj, (p)->params, (p)->nparams, grp, idx)

static void print_fit(FILE *f, const struct cc_fit_gates *fit, const struct cc_process_profile *p, const char *grp)
{
	fputs("      fit = {\n", f);
	GRADED(f, "        ", grp[0] == 'p' ? &g_precool_fit : &g_carcass_fit, fit, p, grp, -1);
	fputs("      };\n", f);
}

static void print_kind(FILE *f, const struct cc_process_profile *p)
{
	switch (p->kind) {
	case CC_PROCESS_PRECOOL:
		fputs("    precool = {\n", f);
		GRADED(f, "      ", &g_precool, &p->precool, p, "precool", -1);
		print_fit(f, &p->precool.fit, p, "precool.fit");
		break;
	case CC_PROCESS_CARCASS_CHILL:
		fputs("    carcass_chill = {\n", f);
		GRADED(f, "      ", &g_carcass, &p->carcass_chill, p, "carcass_chill", -1);
		print_fit(f, &p->carcass_chill.fit, p, "carcass_chill.fit");
		fputs("      weight_bands = (\n", f);
		for (size_t i = 0; i < p->carcass_chill.nbands; i++) {
			fputs("        {\n", f);
			GRADED(f, "          ", &g_band, &p->carcass_chill.bands[i], p, "carcass_chill.weight_bands", (int)i);
			fprintf(f, "        }%s\n", i + 1 < p->carcass_chill.nbands ? "," : "");
		}
		fputs("      );\n", f);
		break;
	case CC_PROCESS_FUMIGATION:
		fputs("    fumigation = {\n", f);
		GRADED(f, "      ", &g_fumigation, &p->fumigation, p, "fumigation", -1);
		fputs("      worker_limits = (\n", f);
		for (size_t i = 0; i < p->fumigation.nlimits; i++) {
			fputs("        {\n", f);
			GRADED(f, "          ", &g_exposure, &p->fumigation.limits[i], p, "fumigation.worker_limits", (int)i);
			fprintf(f, "        }%s\n", i + 1 < p->fumigation.nlimits ? "," : "");
		}
		fputs("      );\n", f);
		break;
	case CC_PROCESS_DRYING:
		fputs("    drying = {\n", f);
		GRADED(f, "      ", &g_drying, &p->drying, p, "drying", -1);
		fputs("      schedule = (\n", f);
		for (size_t i = 0; i < p->drying.nstages; i++) {
			fputs("        {\n", f);
			GRADED(f, "          ", &g_stage, &p->drying.stages[i], p, "drying.schedule", (int)i);
			fprintf(f, "        }%s\n", i + 1 < p->drying.nstages ? "," : "");
		}
		fputs("      );\n", f);
		break;
	default:
		return;
	}
	fputs("    };\n", f);
}

void print_processes(const struct cc_config *cfg, FILE *f)
{
	fputs("\nprocess_profiles = (\n", f);
	for (size_t i = 0; i < cfg->nprocess_profiles; i++) {
		const struct cc_process_profile *p = &cfg->process_profiles[i];
		fputs("  {\n", f);
		schema_print_keys(f, "    ", &g_process, p, 0);
		print_kind(f, p);
		fprintf(f, "  }%s\n", i + 1 < cfg->nprocess_profiles ? "," : "");
	}
	fputs(");\n", f);
}

void free_processes(struct cc_config *cfg)
{
	for (size_t i = 0; i < cfg->nprocess_profiles; i++) {
		struct cc_process_profile *p = &cfg->process_profiles[i];
		free(p->name);
		free(p->version);
		free(p->description);
		free(p->carcass_chill.bands);
		for (size_t j = 0; j < p->fumigation.nlimits; j++)
			free(p->fumigation.limits[j].name);
		free(p->fumigation.limits);
		free(p->fumigation.worker_limit);
		for (size_t j = 0; j < p->drying.nstages; j++)
			free(p->drying.stages[j].name);
		free(p->drying.stages);
		for (size_t j = 0; j < p->nparams; j++) {
			free(p->params[j].value);
			free(p->params[j].source);
		}
		free(p->params);
	}
	free(cfg->process_profiles);
}
