/* engine.c - the alarm and model engine's groups of the configuration
 * (profiles, rooms, lots, alarms, rules): tables, loader, printer,
 * destructor, and the program's one lookup of a profile, room or lot.
 * Cross-checks: lot products and room profiles name a profile, channel
 * ids have the form SENSOR/CHANNEL and, when the sensor is a Modbus
 * device, name one of its points; names are unique. */
#include "config_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const model_names[] = { "none", "arrhenius", "q10", "sqrt", "piecewise_q10", NULL };
static const char *const rule_types[] = { "high", "high_high", "low", "low_low", "rate", "stuck", NULL };
const char *const severity_names[] = { "info", "warning", "critical", NULL };

enum { LM_BAND_LOW, LM_BAND_HIGH, LM_WARN_LOW, LM_WARN_HIGH, LM_ALARM_LOW, LM_ALARM_HIGH, LM_RH_WARN_LOW,
       LM_RH_ALARM_LOW, LM_RH_WARN_HIGH, LM_RH_ALARM_HIGH, LM_ON_DELAY, LM_RH_ON_DELAY, LM_N };
static const struct key limits_keys[] = {
	[LM_BAND_LOW] = { .name = "band_low", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_limits, band_low),
			  .def = "none", .help = "storage band, lower end, °C (dashboards)" },
	[LM_BAND_HIGH] = { .name = "band_high", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_limits, band_high),
			   .def = "none", .help = "storage band, upper end, °C (dashboards)" },
	[LM_WARN_LOW] = { .name = "warn_low", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_limits, warn_low),
			  .def = "none", .help = "air temperature below: warning alarm temp_low, °C" },
	[LM_WARN_HIGH] = { .name = "warn_high", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_limits, warn_high),
			   .def = "none", .help = "air temperature above: warning alarm temp_high, °C" },
	[LM_ALARM_LOW] = { .name = "alarm_low", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_limits, alarm_low),
			   .def = "none", .help = "air temperature below: critical alarm temp_low_low, °C" },
	[LM_ALARM_HIGH] = { .name = "alarm_high", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_limits, alarm_high),
			    .def = "none", .help = "air temperature above: critical alarm temp_high_high, °C" },
	[LM_RH_WARN_LOW] = { .name = "rh_warn_low", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_limits, rh_warn_low),
			     .def = "none", .help = "RH below: warning alarm rh_low, %" },
	[LM_RH_ALARM_LOW] = { .name = "rh_alarm_low", .kt = KT_DBL, .flags = KF_DYN,
			      .off = OFF(cc_limits, rh_alarm_low), .def = "none",
			      .help = "RH below: critical alarm rh_low_low, %" },
	[LM_RH_WARN_HIGH] = { .name = "rh_warn_high", .kt = KT_DBL, .flags = KF_DYN,
			      .off = OFF(cc_limits, rh_warn_high), .def = "none",
			      .help = "RH above: warning alarm rh_high, %" },
	[LM_RH_ALARM_HIGH] = { .name = "rh_alarm_high", .kt = KT_DBL, .flags = KF_DYN,
			       .off = OFF(cc_limits, rh_alarm_high), .def = "none",
			       .help = "RH above: critical alarm rh_high_high, %" },
	[LM_ON_DELAY] = { .name = "on_delay", .kt = KT_DUR, .flags = KF_DYN, .off = OFF(cc_limits, on_delay_ms),
			  .def = "alarms.on_delay", .min = 0, .max = 86400000,
			  .help = "temperature alarms: the excursion must last this long" },
	[LM_RH_ON_DELAY] = { .name = "rh_on_delay", .kt = KT_DUR, .flags = KF_DYN,
			     .off = OFF(cc_limits, rh_on_delay_ms), .def = "alarms.on_delay", .min = 0,
			     .max = 7 * 86400000LL, .help = "RH alarms: the excursion must last this long" },
};

enum { PF_NAME, PF_VERSION, PF_DESCRIPTION, PF_LIMITS, PF_MODEL, PF_WATER, PF_CHILL, PF_N };
static const struct key profile_keys[] = {
	[PF_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_profile, name),
		      .help = "profile name, unique; lots name it as product" },
	[PF_VERSION] = { .name = "version", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_profile, version),
			 .help = "profile version: tag profile_version on shelf_life points" },
	[PF_DESCRIPTION] = { .name = "description", .kt = KT_STR, .off = OFF(cc_profile, description),
			     .help = "what the profile is for, and its sources" },
	[PF_LIMITS] = { .name = "limits", .kt = KT_GROUP, .help = "alarm limits: see group profiles.limits" },
	[PF_MODEL] = { .name = "model", .kt = KT_GROUP, .help = "shelf-life model: see group profiles.model" },
	[PF_WATER] = { .name = "water", .kt = KT_GROUP, .help = "weight loss: see group profiles.water" },
	[PF_CHILL] = { .name = "chill", .kt = KT_GROUP, .help = "chilling injury: see group profiles.chill" },
};

enum { MD_TYPE, MD_T_REF, MD_SHELF_LIFE, MD_EA, MD_Q10, MD_T_MIN, MD_BANDS, MD_VMIN, MD_VMAX, MD_TAU, MD_DEGREE,
       MD_MKT, MD_REMAIN_WARN, MD_PRE, MD_N };
static const struct key model_keys[] = {
	[MD_TYPE] = { .name = "type", .kt = KT_ENUM, .off = OFF(cc_profile, model), .def = "none",
		      .enums = model_names, .store = ES_INT, .help = "temperature model of the spoilage rate" },
	[MD_T_REF] = { .name = "t_ref", .kt = KT_DBL, .off = OFF(cc_profile, t_ref_c), .def = "0.0",
		       .help = "reference temperature of shelf_life, °C" },
	[MD_SHELF_LIFE] = { .name = "shelf_life", .kt = KT_DUR, .off = OFF(cc_profile, shelf_life_ms), .def = "0s",
			    .min = 0, .max = 3650 * 86400000LL, .help = "shelf life at t_ref (required by a model)" },
	[MD_EA] = { .name = "ea", .kt = KT_DBL, .off = OFF(cc_profile, ea_kj_mol), .def = "0.0",
		    .help = "arrhenius: activation energy, kJ/mol" },
	[MD_Q10] = { .name = "q10", .kt = KT_DBL, .off = OFF(cc_profile, q10), .def = "0.0", .help = "q10: Q10" },
	[MD_T_MIN] = { .name = "t_min", .kt = KT_DBL, .off = OFF(cc_profile, t_min_c), .def = "0.0",
		       .help = "sqrt: temperature of no growth, °C (below t_ref)" },
	[MD_BANDS] = { .name = "q10_bands", .kt = KT_STR, .off = OFF(cc_profile, q10_bands),
		       .range = "\"Q<T,Q<T,...,Q\"",
		       .help = "piecewise_q10: Q10 below each bound (°C, rising), the last above, e.g. \"3<10,2.2<20,1.7\"" },
	[MD_VMIN] = { .name = "valid_min", .kt = KT_DBL, .off = OFF(cc_profile, valid_min_c), .def = "-50.0",
		      .help = "model validity, lower end: colder readings are clamped to it, °C" },
	[MD_VMAX] = { .name = "valid_max", .kt = KT_DBL, .off = OFF(cc_profile, valid_max_c), .def = "60.0",
		      .help = "model validity, upper end: warmer readings are clamped to it, °C" },
	[MD_TAU] = { .name = "tau", .kt = KT_DUR, .off = OFF(cc_profile, tau_ms), .def = "0s", .min = 0,
		     .max = 7 * 86400000LL, .help = "product temperature lag behind air (0: none)" },
	[MD_DEGREE] = { .name = "degree_threshold", .kt = KT_DBL, .flags = KF_DYN,
			.off = OFF(cc_profile, degree_threshold_c), .def = "limits.band_high",
			.help = "degree-hours are counted above this, °C" },
	[MD_MKT] = { .name = "mkt_dh_r", .kt = KT_DBL, .off = OFF(cc_profile, mkt_dh_r_k), .def = "10000.0",
		     .help = "ΔH/R of the mean kinetic temperature, K (USP <1079>: 10000)" },
	[MD_REMAIN_WARN] = { .name = "remaining_warn", .kt = KT_DUR, .off = OFF(cc_profile, remaining_warn_ms),
			     .def = "0s", .min = 0, .max = 3650 * 86400000LL,
			     .help = "notify when the remaining life at the plan temperature falls below (0: never)" },
	[MD_PRE] = { .name = "pre_monitoring", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_profile, pre_monitoring_c),
		     .def = "none (the first reading)",
		     .help = "product temperature assumed from a lot's loaded time to its first reading (field heat "
			     "for fresh produce), °C: the warmer of it and the first reading fills that gap" },
};

enum { WK_AW, WK_KT_FRESH, WK_KT_DRY, WK_CRIT, WK_WARN, WK_N };
static const struct key water_keys[] = {
	[WK_AW] = { .name = "aw", .kt = KT_DBL, .off = OFF(cc_profile, aw), .def = "0.98",
		    .help = "water activity of the product surface" },
	[WK_KT_FRESH] = { .name = "kt_fresh", .kt = KT_DBL, .off = OFF(cc_profile, kt_fresh), .def = "0.0",
			  .help = "weight loss per Pa of VPD per hour (fraction), fresh product (0: not modelled)" },
	[WK_KT_DRY] = { .name = "kt_dry", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_profile, kt_dry),
			.def = "kt_fresh", .help = "the same when weight loss reaches critical_loss_pct" },
	[WK_CRIT] = { .name = "critical_loss_pct", .kt = KT_DBL, .off = OFF(cc_profile, wl_crit_pct), .def = "5.0",
		      .help = "critical weight loss, %: critical alarm weight_loss" },
	[WK_WARN] = { .name = "warn_loss_pct", .kt = KT_DBL, .off = OFF(cc_profile, wl_warn_pct), .def = "3.0",
		      .help = "weight loss warning, %" },
};

enum { CK_THR, CK_WARN, CK_ALARM, CK_N };
static const struct key chill_keys[] = {
	[CK_THR] = { .name = "threshold", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_profile, chill_threshold_c),
		     .def = "none (not modelled)", .help = "chilling degree-hours are counted below this, °C" },
	[CK_WARN] = { .name = "warn_kh", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_profile, chill_warn_kh),
		      .def = "none", .help = "chilling dose warning, K·h" },
	[CK_ALARM] = { .name = "alarm_kh", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_profile, chill_alarm_kh),
		       .def = "none", .help = "chilling dose alarm (critical), K·h" },
};

enum { RM_NAME, RM_PROFILE, RM_TEMP, RM_RH, RM_DOOR, RM_DEFROST, RM_OUT_T, RM_OUT_RH, RM_CO2, RM_O2, RM_CO2_HIGH,
       RM_O2_LOW, RM_SUPPRESS, RM_LIMITS, RM_LOTS, RM_ADVICE, RM_N };
#define ROOM_CH(id, k, f, h) [id] = { .name = k, .kt = KT_STR, .off = OFF(cc_room_conf, f), .range = "SENSOR/CHANNEL", .help = h }
static const struct key room_keys[] = {
	[RM_NAME] = { .name = "name", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_room_conf, name),
		      .help = "room (or vehicle, line) name: tag room of its alerts and lots" },
	[RM_PROFILE] = { .name = "profile", .kt = KT_NAME, .off = OFF(cc_room_conf, profile),
			 .help = "profile whose limits apply when no lot is loaded (else the first lot's)" },
	ROOM_CH(RM_TEMP, "temperature", temperature, "air temperature channel"),
	ROOM_CH(RM_RH, "humidity", humidity, "relative humidity channel"),
	ROOM_CH(RM_DOOR, "door", door, "door channel (non-zero: open)"),
	ROOM_CH(RM_DEFROST, "defrost", defrost, "defrost input (non-zero: temperature alarms suppressed)"),
	ROOM_CH(RM_OUT_T, "outside_temperature", outside_temperature, "temperature outside the door"),
	ROOM_CH(RM_OUT_RH, "outside_humidity", outside_humidity, "RH outside the door"),
	ROOM_CH(RM_CO2, "co2", co2, "CO2 channel, ppm (CA rooms: safety alarm)"),
	ROOM_CH(RM_O2, "o2", o2, "O2 channel, % (CA rooms: safety alarm)"),
	[RM_CO2_HIGH] = { .name = "co2_high", .kt = KT_DBL, .off = OFF(cc_room_conf, co2_high_ppm), .def = "5000.0",
			  .help = "CO2 above: critical, undelayed (5000 ppm: 8 h exposure limit; IDLH 40000)" },
	[RM_O2_LOW] = { .name = "o2_low", .kt = KT_DBL, .off = OFF(cc_room_conf, o2_low_pct), .def = "19.5",
			.help = "O2 below: critical, undelayed (unsafe for entry)" },
	[RM_SUPPRESS] = { .name = "suppress", .kt = KT_STR, .off = OFF(cc_room_conf, suppress),
			  .range = "\"HH:MM-HH:MM,...\" (UTC, up to 8)",
			  .help = "defrost schedule: temperature alarms suppressed in these windows" },
	[RM_LIMITS] = { .name = "limits", .kt = KT_GROUP,
			.help = "overrides of the profile's limits (keys of group profiles.limits)" },
	[RM_LOTS] = { .name = "lots", .kt = KT_LIST, .help = "lots stored in the room: see group rooms.lots" },
	[RM_ADVICE] = { .name = "advice", .kt = KT_GROUP, .flags = KF_NOPRINT,
			.range = "RULE = \"text\" (up to 200 bytes each)",
			.help = "what to do, per alarm rule, said in the messages to people: { temp_high = \"Kiểm tra "
				"máy nén; chuyển lô sang phòng B\"; }" },
};
#undef ROOM_CH

enum { LT_ID, LT_PRODUCT, LT_LOADED, LT_DISPATCH, LT_PLAN, LT_N };
static const struct key lot_keys[] = {
	[LT_ID] = { .name = "id", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_lot_conf, id),
		    .help = "lot id, unique: tag lot" },
	[LT_PRODUCT] = { .name = "product", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_lot_conf, product),
			 .help = "profile name" },
	[LT_LOADED] = { .name = "loaded", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_lot_conf, loaded),
			.range = "ISO 8601 with zone", .help = "when the lot was loaded, e.g. \"2026-06-12T08:00:00+07:00\"" },
	[LT_DISPATCH] = { .name = "dispatch", .kt = KT_STR, .off = OFF(cc_lot_conf, dispatch),
			  .range = "ISO 8601 with zone",
			  .help = "planned dispatch: notify when the lot would reach end of life before it" },
	[LT_PLAN] = { .name = "plan_temperature", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_lot_conf, plan_c),
		      .def = "the profile's t_ref", .help = "planned temperature for remaining_h_at_plan, °C" },
};

enum { AL_ON_DELAY, AL_OFF_DELAY, AL_DEADBAND, AL_RENOTIFY, AL_ESCALATE, AL_STALE_N, AL_STALE_AFTER, AL_FAULT,
       AL_STUCK, AL_RATE, AL_RATE_WINDOW, AL_DOOR, AL_SL_INTERVAL, AL_FLOOD, AL_NOTIFY, AL_RULES, AL_N };
static const struct key alarms_keys[] = {
	[AL_ON_DELAY] = { .name = "on_delay", .kt = KT_DUR, .off = OFF(cc_alarms_conf, on_delay_ms), .def = "15m",
			  .min = 0, .max = 86400000, .help = "default on-delay of level alarms" },
	[AL_OFF_DELAY] = { .name = "off_delay", .kt = KT_DUR, .off = OFF(cc_alarms_conf, off_delay_ms), .def = "0s",
			   .min = 0, .max = 86400000, .help = "default off-delay (against chatter)" },
	[AL_DEADBAND] = { .name = "deadband", .kt = KT_DBL, .off = OFF(cc_alarms_conf, deadband), .def = "0.5",
			  .help = "hysteresis of level alarms (K, % RH)" },
	[AL_RENOTIFY] = { .name = "renotify", .kt = KT_DUR, .off = OFF(cc_alarms_conf, renotify_ms), .def = "1h",
			  .min = 0, .max = 7 * 86400000LL, .help = "re-notify an active unacknowledged alarm (0: never)" },
	[AL_ESCALATE] = { .name = "escalate", .kt = KT_DUR, .off = OFF(cc_alarms_conf, escalate_ms), .def = "2h",
			  .min = 0, .max = 7 * 86400000LL,
			  .help = "unacknowledged this long: severity raised to critical (0: never)" },
	[AL_STALE_N] = { .name = "stale_intervals", .kt = KT_INT, .off = OFF(cc_alarms_conf, stale_intervals),
			 .def = "3", .min = 1, .max = 1000,
			 .help = "stale: no good sample for this many poll intervals" },
	[AL_STALE_AFTER] = { .name = "stale_after", .kt = KT_DUR, .off = OFF(cc_alarms_conf, stale_after_ms),
			     .def = "5m", .min = 1000, .max = 86400000,
			     .help = "stale: for channels without a poll interval (MQTT)" },
	[AL_FAULT] = { .name = "fault_delay", .kt = KT_DUR, .off = OFF(cc_alarms_conf, fault_delay_ms), .def = "1m",
		       .min = 0, .max = 86400000, .help = "sensor fault (comm_error, out_of_range) on-delay" },
	[AL_STUCK] = { .name = "stuck_after", .kt = KT_DUR, .off = OFF(cc_alarms_conf, stuck_after_ms), .def = "2h",
		       .min = 0, .max = 7 * 86400000LL,
		       .help = "air temperature unchanged this long: stuck sensor (0: never)" },
	[AL_RATE] = { .name = "rate_limit", .kt = KT_DBL, .off = OFF(cc_alarms_conf, rate_limit_kh), .def = "3.0",
		      .help = "air temperature rising faster, K/h: refrigeration failure (0: never)" },
	[AL_RATE_WINDOW] = { .name = "rate_window", .kt = KT_DUR, .off = OFF(cc_alarms_conf, rate_window_ms),
			     .def = "30m", .min = 1000, .max = 86400000, .help = "window of the rate of change" },
	[AL_DOOR] = { .name = "door_open", .kt = KT_DUR, .off = OFF(cc_alarms_conf, door_open_ms), .def = "5m",
		      .min = 0, .max = 86400000, .help = "door open longer: alarm door_open" },
	[AL_SL_INTERVAL] = { .name = "shelf_life_interval", .kt = KT_DUR,
			     .off = OFF(cc_alarms_conf, shelf_life_interval_ms), .def = "1m", .min = 1000,
			     .max = 86400000, .help = "period of the shelf_life points" },
	[AL_FLOOD] = { .name = "flood", .kt = KT_GROUP, .help = "alarm flood: see group alarms.flood" },
	[AL_NOTIFY] = { .name = "notify", .kt = KT_GROUP, .help = "notification rate limit, per channel: see group alarms.notify" },
	[AL_RULES] = { .name = "rules", .kt = KT_LIST, .help = "per-channel rules: see group alarms.rules" },
};

enum { FL_START, FL_END, FL_WINDOW, FL_N };
static const struct key flood_keys[] = {
	[FL_START] = { .name = "start", .kt = KT_INT, .off = OFF(cc_alarms_conf, flood_start), .def = "10", .min = 1,
		       .max = 60, .help = "more raises than this in one room within window start a flood there" },
	[FL_END] = { .name = "end", .kt = KT_INT, .off = OFF(cc_alarms_conf, flood_end), .def = "5", .min = 1,
		     .max = 60, .help = "fewer than this within window end it" },
	[FL_WINDOW] = { .name = "window", .kt = KT_DUR, .off = OFF(cc_alarms_conf, flood_window_ms), .def = "10m",
			.min = 1000, .max = 86400000, .help = "flood window" },
};

enum { NT_BURST, NT_INTERVAL, NT_N };
static const struct key notify_keys[] = {
	[NT_BURST] = { .name = "burst", .kt = KT_INT, .off = OFF(cc_alarms_conf, notify_burst), .def = "20", .min = 1,
		       .max = 10000, .help = "notifications of one channel sent at once before the rate limit applies" },
	[NT_INTERVAL] = { .name = "interval", .kt = KT_DUR, .off = OFF(cc_alarms_conf, notify_interval_ms),
			  .def = "30s", .min = 0, .max = 86400000,
			  .help = "then one notification per interval (the record keeps every event)" },
};

enum { RU_NAME, RU_CHANNEL, RU_TYPE, RU_LIMIT, RU_SEVERITY, RU_DEADBAND, RU_ON_DELAY, RU_OFF_DELAY, RU_LATCHED,
       RU_ROOM, RU_N };
static const struct key rule_keys[] = {
	[RU_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_rule_conf, name),
		      .help = "rule name, unique: tag rule" },
	[RU_CHANNEL] = { .name = "channel", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_rule_conf, channel),
			 .range = "SENSOR/CHANNEL", .help = "channel evaluated" },
	[RU_TYPE] = { .name = "type", .kt = KT_ENUM, .flags = KF_REQ, .off = OFF(cc_rule_conf, type),
		      .enums = rule_types, .store = ES_INT, .help = "level, rate of change (K/h) or stuck value" },
	[RU_LIMIT] = { .name = "limit", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_rule_conf, limit),
		       .def = "required (not for stuck)", .help = "limit (rate: K/h)" },
	[RU_SEVERITY] = { .name = "severity", .kt = KT_ENUM, .off = OFF(cc_rule_conf, severity), .def = "warning",
			  .enums = severity_names, .store = ES_STR, .help = "severity" },
	[RU_DEADBAND] = { .name = "deadband", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_rule_conf, deadband),
			  .def = "alarms.deadband", .help = "hysteresis" },
	[RU_ON_DELAY] = { .name = "on_delay", .kt = KT_DUR, .flags = KF_DYN, .off = OFF(cc_rule_conf, on_delay_ms),
			  .def = "alarms.on_delay (stuck: alarms.stuck_after)", .min = 0, .max = 7 * 86400000LL,
			  .help = "on-delay" },
	[RU_OFF_DELAY] = { .name = "off_delay", .kt = KT_DUR, .flags = KF_DYN, .off = OFF(cc_rule_conf, off_delay_ms),
			   .def = "alarms.off_delay", .min = 0, .max = 86400000, .help = "off-delay" },
	[RU_LATCHED] = { .name = "latched", .kt = KT_BOOL, .off = OFF(cc_rule_conf, latched), .def = "false",
			 .help = "stays active after the condition returns, until reset" },
	[RU_ROOM] = { .name = "room", .kt = KT_STR, .off = OFF(cc_rule_conf, room),
		      .help = "room tag (default: the channel's device room)" },
};

const struct group g_profile = GROUP("profiles", profile_keys, "one produce profile (list element; config/profiles.conf)");
const struct group g_limits = GROUP("profiles.limits", limits_keys, "alarm limits of a profile (and rooms.limits overrides)");
const struct group g_model = GROUP("profiles.model", model_keys, "shelf-life model of a profile");
const struct group g_water = GROUP("profiles.water", water_keys, "weight loss model of a profile");
const struct group g_chill = GROUP("profiles.chill", chill_keys, "chilling injury dose of a profile");
const struct group g_room = GROUP("rooms", room_keys, "one room (list element): channels, limits, lots");
const struct group g_lot = GROUP("rooms.lots", lot_keys, "one lot (list element)");
const struct group g_alarms = GROUP("alarms", alarms_keys, "alarm defaults and rules");
const struct group g_flood = GROUP("alarms.flood", flood_keys, "flood detection (ISA-18.2)");
const struct group g_notify = GROUP("alarms.notify", notify_keys, "notification rate limit");
const struct group g_rule = GROUP("alarms.rules", rule_keys, "one per-channel rule (list element)");


static void limits_unset(struct cc_limits *l)
{
	l->band_low = l->band_high = l->warn_low = l->warn_high = l->alarm_low = l->alarm_high = NAN;
	l->rh_warn_low = l->rh_alarm_low = l->rh_warn_high = l->rh_alarm_high = NAN;
	l->on_delay_ms = l->rh_on_delay_ms = -1;
}

/* A lot time: time_parse_iso8601's forms, not before 1970.  0 or -1. */
static int parse_lot_time(const char *s, int64_t *out_ns)
{
	int64_t ns;

	if (time_parse_iso8601(s, strlen(s), &ns) < 0 || ns < 0)
		return -1;
	*out_ns = ns;
	return 0;
}

/* "3<10,2.2<20,1.7" -> bounds and Q10s.  NULL or why not. */
static const char *parse_q10_bands(const char *s, struct cc_profile *p)
{
	const char *q = s;
	char *e;

	p->npw = 0;
	for (;;) {
		double v = strtod(q, &e);
		if (e == q || !isfinite(v) || v <= 0)
			return "needs positive Q10 values";
		if (p->npw >= 6)
			return "has more than 6 bands";
		p->pw_q10[p->npw] = v;
		q = e;
		if (*q == '<') {
			double b = strtod(q + 1, &e);
			if (e == q + 1 || !isfinite(b))
				return "needs a temperature after '<'";
			if (p->npw > 0 && !(b > p->pw_upper_c[p->npw - 1]))
				return "needs rising bounds";
			p->pw_upper_c[p->npw++] = b;
			q = e;
			if (*q != ',')
				return "must end with the Q10 above the last bound";
			q++;
			continue;
		}
		p->npw++;
		if (*q != '\0')
			return "is not of the form \"Q<T,Q<T,...,Q\"";
		return NULL;
	}
}

/* "02:00-02:30,14:00-14:20" */
static const char *parse_windows(const char *s, struct cc_room_conf *r)
{
	const char *q = s;

	r->nwin = 0;
	while (*q) {
		int h1, m1, h2, m2, n = 0;
		if (r->nwin >= 8)
			return "has more than 8 windows";
		if (sscanf(q, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || n != 11 || h1 > 23 || h2 > 24 ||
		    m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0)
			return "is not a list of HH:MM-HH:MM windows";
		r->win_from_min[r->nwin] = h1 * 60 + m1;
		r->win_to_min[r->nwin] = h2 * 60 + m2;
		r->nwin++;
		q += n;
		if (*q == ',')
			q++;
		else if (*q)
			return "is not a list of HH:MM-HH:MM windows";
	}
	return NULL;
}

static double limit_get(const struct cc_limits *l, int k)
{
	return *(const double *)(const void *)((const char *)l + limits_keys[k].off);
}

/* One chain of limits that must rise (strictly from a low limit to a high
 * one).  In a room (prof: its profile's name), l holds the room's overrides
 * merged over the profile's limits; a pair is checked when one side is the
 * room's own, the other side is named as the profile's. */
static void check_limit_chain(struct ctx *c, const struct cc_limits *l, const struct seen *sg,
			      const config_setting_t *anchor, const char *gp, const char *prof, const int *chain, size_t n,
			      size_t first_high, const char *order)
{
	size_t prev = n;

	for (size_t i = 0; i < n; i++) {
		int k = chain[i], own, pown;
		double v = limit_get(l, k), pv;
		if (isnan(v))
			continue;
		if (prev < n) {
			int strict = prev < first_high && i >= first_high, pk = chain[prev];
			pv = limit_get(l, pk);
			own = ok(&sg[k]);
			pown = ok(&sg[pk]);
			if ((strict ? !(pv < v) : !(pv <= v)) && (!prof || own || pown)) {
				char *kp = key_path(gp, limits_keys[own || !pown ? k : pk].name);
				err_at(c, own ? sg[k].s : pown ? sg[pk].s : anchor, kp,
				       "%s %g%s%s%s is %s %s %g%s%s%s: the limits must read %s", limits_keys[k].name, v,
				       prof && !own ? " (profile " : "", prof && !own ? prof : "", prof && !own ? ")" : "",
				       strict ? "not above" : "below", limits_keys[pk].name, pv, prof && !pown ? " (profile " : "",
				       prof && !pown ? prof : "", prof && !pown ? ")" : "", order);
				free(kp);
			}
		}
		prev = i;
	}
}

/* Contradictions between the temperature and RH limits (see check_limit_chain). */
static void check_limits(struct ctx *c, const struct cc_limits *l, const struct seen *sg,
			 const config_setting_t *anchor, const char *gp, const char *prof)
{
	static const int temp[] = { LM_ALARM_LOW, LM_WARN_LOW, LM_BAND_LOW, LM_BAND_HIGH, LM_WARN_HIGH, LM_ALARM_HIGH };
	static const int rh[] = { LM_RH_ALARM_LOW, LM_RH_WARN_LOW, LM_RH_WARN_HIGH, LM_RH_ALARM_HIGH };

	for (size_t i = 0; i < ARRAY_SIZE(rh); i++) {
		double v = limit_get(l, rh[i]);
		if (ok(&sg[rh[i]]) && !(v >= 0 && v <= 100)) {
			char *kp = key_path(gp, limits_keys[rh[i]].name);
			err_at(c, sg[rh[i]].s, kp, "%g is not a relative humidity (0..100 %%)", v);
			free(kp);
		}
	}
	check_limit_chain(c, l, sg, anchor, gp, prof, temp, ARRAY_SIZE(temp), 3,
			  "alarm_low <= warn_low <= band_low < band_high <= warn_high <= alarm_high");
	check_limit_chain(c, l, sg, anchor, gp, prof, rh, ARRAY_SIZE(rh), 2,
			  "rh_alarm_low <= rh_warn_low < rh_warn_high <= rh_alarm_high");
}

/* schema_apply on the profile's group key (name) into obj, with graded
 * numbers recorded in p->params; returns its path (the caller frees). */
static char *profile_apply(struct ctx *c, const config_setting_t *ps, const struct seen *sn, int key,
			   const char *name, const struct group *g, void *obj, struct cc_profile *p, const char *path,
			   struct seen *sg)
{
	char *gp = key_path(path, name);

	c->gparams = &p->params;
	c->gnparams = &p->nparams;
	c->ggroup = name;
	c->gindex = -1;
	schema_apply(c, ok(&sn[key]) ? sn[key].s : NULL, ps, g, obj, gp, sg);
	c->gparams = NULL;
	return gp;
}

/* profiles.model: what each model type needs, t_ref within validity. */
static void profile_check_model(struct ctx *c, const config_setting_t *ps, const struct seen *sn,
				const struct seen *sg, struct cc_profile *p, const char *gp)
{
	const config_setting_t *a = ok(&sn[PF_MODEL]) ? sn[PF_MODEL].s : ps, *m = sn[PF_MODEL].s ? sn[PF_MODEL].s : ps;

	if (p->model != CC_MODEL_NONE && p->valid_min_c < p->valid_max_c &&
	    !(p->t_ref_c >= p->valid_min_c && p->t_ref_c <= p->valid_max_c))
		err_key(c, sg, MD_T_REF, model_keys, a, gp, "%g lies outside the model's validity valid_min..valid_max %g..%g",
			p->t_ref_c, p->valid_min_c, p->valid_max_c);
	if (p->model != CC_MODEL_NONE && p->shelf_life_ms > 0 && p->remaining_warn_ms >= p->shelf_life_ms)
		err_key(c, sg, MD_REMAIN_WARN, model_keys, a, gp,
			"must be shorter than shelf_life (else every lot is notified the moment it is loaded)");
	if (p->model != CC_MODEL_NONE && p->shelf_life_ms <= 0)
		err_at(c, a, gp, "model %s needs shelf_life", model_names[p->model]);
	if (p->model == CC_MODEL_ARRHENIUS && !(p->ea_kj_mol > 0))
		err_at(c, m, gp, "model arrhenius needs ea > 0");
	if (p->model == CC_MODEL_Q10 && !(p->q10 > 0))
		err_at(c, m, gp, "model q10 needs q10 > 0");
	if (p->model == CC_MODEL_SQRT && !(p->t_min_c < p->t_ref_c))
		err_at(c, m, gp, "model sqrt needs t_min below t_ref");
	if (ok(&sg[MD_BANDS])) {
		const char *why = parse_q10_bands(p->q10_bands, p);
		if (why)
			err_key(c, sg, MD_BANDS, model_keys, ps, gp, "\"%s\" %s", p->q10_bands, why);
	} else if (p->model == CC_MODEL_PIECEWISE_Q10) {
		err_at(c, m, gp, "model piecewise_q10 needs q10_bands");
	}
	if (!(p->valid_min_c < p->valid_max_c))
		err_key(c, sg, MD_VMAX, model_keys, ps, gp, "%g must be greater than valid_min %g", p->valid_max_c,
			p->valid_min_c);
	if (!(p->mkt_dh_r_k > 0))
		err_key(c, sg, MD_MKT, model_keys, ps, gp, "must be positive");
}

/* profiles.water: a water activity, rates not negative, warn below critical. */
static void profile_check_water(struct ctx *c, const config_setting_t *a, const struct seen *sg,
				const struct cc_profile *p, const char *gp)
{
	if (ok(&sg[WK_AW]) && !(p->aw > 0 && p->aw <= 1))
		err_key(c, sg, WK_AW, water_keys, a, gp, "%g is not a water activity (above 0, at most 1)", p->aw);
	if (ok(&sg[WK_KT_FRESH]) && p->kt_fresh < 0)
		err_key(c, sg, WK_KT_FRESH, water_keys, a, gp, "must not be negative");
	if (ok(&sg[WK_KT_DRY]) && p->kt_dry < 0)
		err_key(c, sg, WK_KT_DRY, water_keys, a, gp, "must not be negative");
	if (!(p->wl_warn_pct > 0))
		err_key(c, sg, WK_WARN, water_keys, a, gp, "%g must be positive", p->wl_warn_pct);
	if (!(p->wl_warn_pct < p->wl_crit_pct))
		err_key(c, sg, sg[WK_WARN].s ? WK_WARN : WK_CRIT, water_keys, a, gp,
			"warn_loss_pct %g must be below critical_loss_pct %g", p->wl_warn_pct, p->wl_crit_pct);
}

/* profiles.chill: the threshold below the storage band, positive doses. */
static void profile_check_chill(struct ctx *c, const config_setting_t *a, const struct seen *sg,
				const struct cc_profile *p, const char *gp)
{
	double thr = p->chill_threshold_c, lo = p->limits.band_low, hi = p->limits.band_high;

	/* Chilling degree-hours count below the threshold: inside the band a
	 * lot kept as the profile says would raise the chilling alarm. */
	if (!isnan(thr) && !isnan(lo) && thr > lo && (isnan(hi) || thr <= hi))
		err_key(c, sg, CK_THR, chill_keys, a, gp,
			"%g lies inside the storage band %g..%g: a lot kept in the band would accumulate chilling "
			"injury (the threshold must be at or below band_low)", thr, lo, hi);
	else if (!isnan(thr) && !isnan(lo) && thr > lo)
		err_key(c, sg, CK_THR, chill_keys, a, gp,
			"%g is above the storage band %g..%g: it must be at or below band_low", thr, lo, hi);
	else if (!isnan(thr) && isnan(lo) && !isnan(hi) && thr >= hi)
		err_key(c, sg, CK_THR, chill_keys, a, gp,
			"%g is not below the storage band's upper end %g: a lot kept in the band would accumulate "
			"chilling injury", thr, hi);
	if (ok(&sg[CK_WARN]) && !(p->chill_warn_kh > 0))
		err_key(c, sg, CK_WARN, chill_keys, a, gp, "must be positive");
	if (ok(&sg[CK_ALARM]) && !(p->chill_alarm_kh > 0))
		err_key(c, sg, CK_ALARM, chill_keys, a, gp, "must be positive");
	if (ok(&sg[CK_WARN]) && ok(&sg[CK_ALARM]) && !(p->chill_warn_kh < p->chill_alarm_kh))
		err_key(c, sg, CK_WARN, chill_keys, a, gp, "%g must be below alarm_kh %g", p->chill_warn_kh,
			p->chill_alarm_kh);
	if (isnan(thr) && (ok(&sg[CK_WARN]) || ok(&sg[CK_ALARM])))
		err_key(c, sg, ok(&sg[CK_WARN]) ? CK_WARN : CK_ALARM, chill_keys, a, gp, "has no effect without threshold");
}

static void load_profile(struct ctx *c, const config_setting_t *ps, struct cc_profile *p, const char *path)
{
	struct seen sn[MAX_KEYS], sg[MAX_KEYS];
	char *gp;

	p->line = src_line(ps);
	limits_unset(&p->limits);
	p->degree_threshold_c = p->chill_threshold_c = p->chill_warn_kh = p->chill_alarm_kh = NAN;
	p->kt_dry = NAN;
	p->pre_monitoring_c = NAN;
	schema_apply(c, ps, ps, &g_profile, p, path, sn);

	gp = profile_apply(c, ps, sn, PF_LIMITS, "limits", &g_limits, &p->limits, p, path, sg);
	check_limits(c, &p->limits, sg, ok(&sn[PF_LIMITS]) ? sn[PF_LIMITS].s : ps, gp, NULL);
	free(gp);
	if (p->limits.on_delay_ms < 0)
		p->limits.on_delay_ms = c->cfg->alarms.on_delay_ms;
	if (p->limits.rh_on_delay_ms < 0)
		p->limits.rh_on_delay_ms = c->cfg->alarms.on_delay_ms;

	gp = profile_apply(c, ps, sn, PF_MODEL, "model", &g_model, p, p, path, sg);
	profile_check_model(c, ps, sn, sg, p, gp);
	free(gp);
	if (isnan(p->degree_threshold_c))
		p->degree_threshold_c = p->limits.band_high;

	gp = profile_apply(c, ps, sn, PF_WATER, "water", &g_water, p, p, path, sg);
	if (isnan(p->kt_dry))
		p->kt_dry = p->kt_fresh;
	profile_check_water(c, ok(&sn[PF_WATER]) ? sn[PF_WATER].s : ps, sg, p, gp);
	free(gp);

	gp = profile_apply(c, ps, sn, PF_CHILL, "chill", &g_chill, p, p, path, sg);
	profile_check_chill(c, ok(&sn[PF_CHILL]) ? sn[PF_CHILL].s : ps, sg, p, gp);
	free(gp);
}

const struct cc_profile *config_find_profile(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nprofiles; i++)
		if (cfg->profiles[i].name && strcmp(cfg->profiles[i].name, name) == 0) /* unnamed: already an error */
			return &cfg->profiles[i];
	return NULL;
}

const struct cc_room_conf *config_find_room(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nrooms; i++)
		if (cfg->rooms[i].name && strcmp(cfg->rooms[i].name, name) == 0)
			return &cfg->rooms[i];
	return NULL;
}

const struct cc_lot_conf *config_find_lot(const struct cc_config *cfg, const char *id, const struct cc_room_conf **room)
{
	for (size_t i = 0; cfg && id && i < cfg->nrooms; i++)
		for (size_t j = 0; j < cfg->rooms[i].nlots; j++)
			if (cfg->rooms[i].lots[j].id && strcmp(cfg->rooms[i].lots[j].id, id) == 0) {
				if (room)
					*room = &cfg->rooms[i];
				return &cfg->rooms[i].lots[j];
			}
	return NULL;
}

/* NULL when ch is a usable channel id, else why not. */
char *check_channel(const struct cc_config *cfg, const char *ch)
{
	const char *slash = strchr(ch, '/');
	size_t sl;

	if (!slash || slash == ch || !slash[1] || strchr(slash + 1, '/'))
		return xasprintf("\"%s\" is not a channel id of the form SENSOR/CHANNEL", ch);
	sl = (size_t)(slash - ch);
	for (size_t i = 0; i < cfg->nbuses; i++)
		for (size_t j = 0; j < cfg->buses[i].ndevices; j++) {
			const struct cc_device_conf *d = &cfg->buses[i].devices[j];
			if (!d->name || strlen(d->name) != sl || strncmp(d->name, ch, sl) != 0)
				continue;
			for (size_t k = 0; k < d->npoints; k++)
				if (d->points[k].channel && strcmp(d->points[k].channel, slash + 1) == 0)
					return NULL;
			return xasprintf("device %s has no channel \"%s\"", d->name, slash + 1);
		}
	return NULL; /* another source (MQTT) */
}

struct lot_list {
	struct cc_room_conf *r;
	struct names *ids; /* lot ids, unique across rooms */
};

/* One lot of a room: a known product, times in ISO 8601. */
static void lot_elem(struct ctx *c, const config_setting_t *el, const char *lp, void *arg)
{
	struct lot_list *ll = arg;
	struct cc_lot_conf *l = &ll->r->lots[ll->r->nlots++];
	struct seen sl[MAX_KEYS];

	l->line = src_line(el);
	l->plan_c = NAN;
	l->pre_c = NAN;
	schema_apply(c, el, el, &g_lot, l, lp, sl);
	name_unique(c, ll->ids, "lot", l->id, el, config_setting_get_member(el, "id"), lp, "id");
	if (ok(&sl[LT_PRODUCT])) {
		l->profile = config_find_profile(c->cfg, l->product);
		if (!l->profile)
			err_key(c, sl, LT_PRODUCT, lot_keys, NULL, lp, "no profile \"%s\"", l->product);
	}
	if (ok(&sl[LT_LOADED]) && parse_lot_time(l->loaded, &l->loaded_ns) < 0)
		err_key(c, sl, LT_LOADED, lot_keys, NULL, lp,
			"\"%s\" is not an ISO 8601 time with zone (e.g. \"2026-06-12T08:00:00+07:00\")", l->loaded);
	if (ok(&sl[LT_DISPATCH]) && parse_lot_time(l->dispatch, &l->dispatch_ns) < 0)
		err_key(c, sl, LT_DISPATCH, lot_keys, NULL, lp,
			"\"%s\" is not an ISO 8601 time with zone (e.g. \"2026-06-20T08:00:00+07:00\")", l->dispatch);
}

/* A room's channel keys: channel ids, of a device's points when a device. */
static void room_check_channels(struct ctx *c, const struct seen *sn, const char *path)
{
	static const int chkeys[] = { RM_TEMP, RM_RH, RM_DOOR, RM_DEFROST, RM_OUT_T, RM_OUT_RH, RM_CO2, RM_O2 };

	for (size_t i = 0; i < ARRAY_SIZE(chkeys); i++) {
		int k = chkeys[i];
		char *why, *kp;
		if (!ok(&sn[k]))
			continue;
		why = check_channel(c->cfg, config_setting_get_string(sn[k].s));
		if (!why)
			continue;
		kp = key_path(path, room_keys[k].name);
		err_at(c, sn[k].s, kp, "%s", why);
		free(kp);
		free(why);
	}
}

/* The room's own limits merged over its profile's must still rise. */
static void room_check_limits(struct ctx *c, const struct cc_room_conf *r, const struct seen *sn,
			      const struct seen *sg, const char *path)
{
	struct cc_limits eff = r->limits;
	char *gp = key_path(path, "limits");

	for (size_t k = 0; k < LM_ON_DELAY; k++) {
		double *d = (double *)(void *)((char *)&eff + limits_keys[k].off);
		if (isnan(*d) && r->prof)
			*d = limit_get(&r->prof->limits, (int)k);
	}
	check_limits(c, &eff, sg, sn[RM_LIMITS].s, gp, r->prof ? r->prof->name : "");
	free(gp);
}

/* advice = { RULE = "text"; ... } */
static void load_advice(struct ctx *c, const config_setting_t *as, struct cc_room_conf *r, const char *path)
{
	int n = config_setting_length(as);

	r->advice_rule = xcalloc((size_t)n + 1, sizeof(*r->advice_rule));
	r->advice_text = xcalloc((size_t)n + 1, sizeof(*r->advice_text));
	for (int i = 0; i < n; i++) {
		const config_setting_t *a = config_setting_get_elem(as, (unsigned)i);
		const char *v = config_setting_get_string(a);
		char *kp = xasprintf("%s.advice.%s", path, config_setting_name(a));
		int bad = !v || !*v || strlen(v) > 200;

		for (const char *p = v; v && *p && !bad; p++)
			bad = iscntrl((unsigned char)*p);
		if (bad) {
			err_at(c, a, kp, "must be a text of 1 to 200 bytes on one line");
		} else {
			r->advice_rule[r->nadvice] = xstrdup(config_setting_name(a));
			r->advice_text[r->nadvice++] = xstrdup(v);
		}
		free(kp);
	}
}

static void load_room(struct ctx *c, const config_setting_t *rs, struct cc_room_conf *r, const char *path,
		      struct names *lots)
{
	struct seen sn[MAX_KEYS], sg[MAX_KEYS];
	char *gp;

	r->line = src_line(rs);
	limits_unset(&r->limits);
	schema_apply(c, rs, rs, &g_room, r, path, sn);
	room_check_channels(c, sn, path);
	if (ok(&sn[RM_SUPPRESS])) {
		const char *why = parse_windows(r->suppress, r);
		if (why)
			err_key(c, sn, RM_SUPPRESS, room_keys, rs, path, "\"%s\" %s", r->suppress, why);
	}
	gp = key_path(path, "limits");
	schema_apply(c, ok(&sn[RM_LIMITS]) ? sn[RM_LIMITS].s : NULL, rs, &g_limits, &r->limits, gp, sg);
	free(gp);
	if (ok(&sn[RM_PROFILE])) {
		r->prof = config_find_profile(c->cfg, r->profile);
		if (!r->prof)
			err_key(c, sn, RM_PROFILE, room_keys, rs, path, "no profile \"%s\"", r->profile);
	}
	if (ok(&sn[RM_LOTS])) {
		struct lot_list ll = { r, lots };
		char *lbase = key_path(path, "lots");

		r->lots = xcalloc((size_t)config_setting_length(sn[RM_LOTS].s) + 1, sizeof(*r->lots));
		schema_each_group(c, sn[RM_LOTS].s, lbase, "id", lot_elem, &ll);
		free(lbase);
	}
	if (!r->prof && r->nlots)
		r->prof = r->lots[0].profile;
	if (ok(&sn[RM_LIMITS]))
		room_check_limits(c, r, sn, sg, path);
	if (ok(&sn[RM_ADVICE]))
		load_advice(c, sn[RM_ADVICE].s, r, path);
}

static void load_rule(struct ctx *c, const config_setting_t *rs, struct cc_rule_conf *u, const char *path)
{
	struct seen sn[MAX_KEYS];
	char *why;

	u->line = src_line(rs);
	u->limit = u->deadband = NAN;
	u->on_delay_ms = u->off_delay_ms = -1;
	schema_apply(c, rs, rs, &g_rule, u, path, sn);
	if (ok(&sn[RU_CHANNEL]) && (why = check_channel(c->cfg, u->channel))) {
		err_key(c, sn, RU_CHANNEL, rule_keys, NULL, path, "%s", why);
		free(why);
	}
	if (ok(&sn[RU_TYPE]) && u->type != CC_RULE_STUCK && !sn[RU_LIMIT].s)
		err_key(c, sn, RU_LIMIT, rule_keys, rs, path, "missing required key (rule type %s)", rule_types[u->type]);
	if (ok(&sn[RU_DEADBAND]) && u->deadband < 0)
		err_key(c, sn, RU_DEADBAND, rule_keys, NULL, path, "must not be negative");
}

/* A list of named elements of the engine's groups: names unique in it. */
struct named_list {
	const char *kind; /* "profile", "room", "rule" */
	struct names names;
	struct names *lots;
};

static void profile_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct named_list *nl = arg;
	struct cc_profile *pr = &c->cfg->profiles[c->cfg->nprofiles++];

	load_profile(c, el, pr, path);
	name_unique(c, &nl->names, nl->kind, pr->name, el, config_setting_get_member(el, "name"), path, "name");
}

static void room_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct named_list *nl = arg;
	struct cc_room_conf *r = &c->cfg->rooms[c->cfg->nrooms++];

	load_room(c, el, r, path, nl->lots);
	name_unique(c, &nl->names, nl->kind, r->name, el, config_setting_get_member(el, "name"), path, "name");
}

static void rule_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct named_list *nl = arg;
	struct cc_rule_conf *u = &c->cfg->alarms.rules[c->cfg->alarms.nrules++];

	load_rule(c, el, u, path);
	name_unique(c, &nl->names, nl->kind, u->name, el, config_setting_get_member(el, "name"), path, "name");
}

/* group alarms and its flood and notify groups. */
static void load_alarms(struct ctx *c, const config_setting_t *root, const config_setting_t *alarms,
			struct seen *sn)
{
	struct cc_alarms_conf *a = &c->cfg->alarms;
	struct seen sg[MAX_KEYS];

	schema_apply(c, alarms, root, &g_alarms, a, "alarms", sn);
	schema_apply(c, ok(&sn[AL_FLOOD]) ? sn[AL_FLOOD].s : NULL, root, &g_flood, a, "alarms.flood", sg);
	if (a->flood_end > a->flood_start)
		err_at(c, sg[FL_END].s ? sg[FL_END].s : (alarms ? alarms : root), "alarms.flood.end",
		       "%d must not exceed start %d", a->flood_end, a->flood_start);
	schema_apply(c, ok(&sn[AL_NOTIFY]) ? sn[AL_NOTIFY].s : NULL, root, &g_notify, a, "alarms.notify", sg);
	if (!(a->deadband >= 0))
		err_at(c, sn[AL_DEADBAND].s, "alarms.deadband", "must not be negative");
}

/* The engine's groups; after buses (channel checks) and before nothing. */
void load_engine(struct ctx *c, const config_setting_t *root, const config_setting_t *profs,
		 const config_setting_t *rooms, const config_setting_t *alarms)
{
	struct cc_config *cfg = c->cfg;
	struct seen sn[MAX_KEYS];
	struct names lots = { 0 };
	struct named_list pl = { "profile", { 0 }, NULL }, rl = { "room", { 0 }, &lots }, ul = { "rule", { 0 }, NULL };

	load_alarms(c, root, alarms, sn);
	if (profs) {
		cfg->profiles = xcalloc((size_t)config_setting_length(profs) + 1, sizeof(*cfg->profiles));
		schema_each_group(c, profs, "profiles", "name", profile_elem, &pl);
	}
	if (rooms) {
		cfg->rooms = xcalloc((size_t)config_setting_length(rooms) + 1, sizeof(*cfg->rooms));
		schema_each_group(c, rooms, "rooms", "name", room_elem, &rl);
	}
	if (ok(&sn[AL_RULES])) {
		cfg->alarms.rules = xcalloc((size_t)config_setting_length(sn[AL_RULES].s) + 1, sizeof(*cfg->alarms.rules));
		schema_each_group(c, sn[AL_RULES].s, "alarms.rules", "name", rule_elem, &ul);
	}
	names_free(&pl.names);
	names_free(&rl.names);
	names_free(&lots);
	names_free(&ul.names);
}

void free_engine(struct cc_config *cfg)
{
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		struct cc_profile *p = &cfg->profiles[i];
		free(p->name);
		free(p->version);
		free(p->description);
		free(p->q10_bands);
		for (size_t j = 0; j < p->nparams; j++) {
			free(p->params[j].value);
			free(p->params[j].source);
		}
		free(p->params);
	}
	free(cfg->profiles);
	for (size_t i = 0; i < cfg->nrooms; i++) {
		struct cc_room_conf *r = &cfg->rooms[i];
		free(r->name);
		free(r->profile);
		free(r->temperature);
		free(r->humidity);
		free(r->door);
		free(r->defrost);
		free(r->outside_temperature);
		free(r->outside_humidity);
		free(r->co2);
		free(r->o2);
		free(r->suppress);
		for (size_t j = 0; j < r->nadvice; j++) {
			free(r->advice_rule[j]);
			free(r->advice_text[j]);
		}
		free(r->advice_rule);
		free(r->advice_text);
		for (size_t j = 0; j < r->nlots; j++) {
			free(r->lots[j].id);
			free(r->lots[j].product);
			free(r->lots[j].loaded);
			free(r->lots[j].dispatch);
		}
		free(r->lots);
	}
	free(cfg->rooms);
	for (size_t i = 0; i < cfg->alarms.nrules; i++) {
		struct cc_rule_conf *u = &cfg->alarms.rules[i];
		free(u->name);
		free(u->channel);
		free(u->severity);
		free(u->room);
	}
	free(cfg->alarms.rules);
}

/* Keys whose value means "not set" (NaN, -1) are left out. */
static void print_engine_keys(FILE *f, const char *indent, const struct group *g, const void *obj)
{
	for (size_t i = 0; i < g->nkeys; i++) {
		const struct key *k = &g->keys[i];
		if (k->kt == KT_DUR && *(const int64_t *)(const void *)((const char *)obj + k->off) < 0)
			continue;
		if (schema_print_key(f, indent, k, obj))
			fputc('\n', f);
	}
}

void print_engine(const struct cc_config *cfg, FILE *f)
{
	const struct cc_alarms_conf *a = &cfg->alarms;

	fputs("\nalarms = {\n", f);
	print_engine_keys(f, "  ", &g_alarms, a);
	fputs("  flood = {\n", f);
	print_engine_keys(f, "    ", &g_flood, a);
	fputs("  };\n  notify = {\n", f);
	print_engine_keys(f, "    ", &g_notify, a);
	fputs("  };\n  rules = (\n", f);
	for (size_t i = 0; i < a->nrules; i++) {
		fputs("    {\n", f);
		print_engine_keys(f, "      ", &g_rule, &a->rules[i]);
		fprintf(f, "    }%s\n", i + 1 < a->nrules ? "," : "");
	}
	fputs("  );\n};\n\nprofiles = (\n", f);
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		const struct cc_profile *p = &cfg->profiles[i];
		fputs("  {\n", f);
		print_engine_keys(f, "    ", &g_profile, p);
		fputs("    limits = {\n", f);
		schema_print_graded_keys(f, "      ", &g_limits, &p->limits, p->params, p->nparams, "limits", -1);
		fputs("    };\n    model = {\n", f);
		schema_print_graded_keys(f, "      ", &g_model, p, p->params, p->nparams, "model", -1);
		fputs("    };\n    water = {\n", f);
		schema_print_graded_keys(f, "      ", &g_water, p, p->params, p->nparams, "water", -1);
		fputs("    };\n    chill = {\n", f);
		schema_print_graded_keys(f, "      ", &g_chill, p, p->params, p->nparams, "chill", -1);
		fprintf(f, "    };\n  }%s\n", i + 1 < cfg->nprofiles ? "," : "");
	}
	fputs(");\n\nrooms = (\n", f);
	for (size_t i = 0; i < cfg->nrooms; i++) {
		const struct cc_room_conf *r = &cfg->rooms[i];
		fputs("  {\n", f);
		print_engine_keys(f, "    ", &g_room, r);
		if (r->nadvice) {
			fputs("    advice = {", f);
			for (size_t j = 0; j < r->nadvice; j++) {
				fprintf(f, " %s = ", r->advice_rule[j]);
				schema_print_string(f, r->advice_text[j]);
				fputc(';', f);
			}
			fputs(" };\n", f);
		}
		fputs("    limits = {\n", f);
		print_engine_keys(f, "      ", &g_limits, &r->limits);
		fputs("    };\n    lots = (\n", f);
		for (size_t j = 0; j < r->nlots; j++) {
			fputs("      {\n", f);
			print_engine_keys(f, "        ", &g_lot, &r->lots[j]);
			fprintf(f, "      }%s\n", j + 1 < r->nlots ? "," : "");
		}
		fprintf(f, "    );\n  }%s\n", i + 1 < cfg->nrooms ? "," : "");
	}
	fputs(");\n", f);
}
