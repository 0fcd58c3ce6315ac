/* engine_conf.h - the configuration of the alarm and model engine, as the
 * loader (daemon/config/engine.c) fills it: produce profiles,
 * rooms with their channels and lots, alarm defaults and per-channel rules.
 * Included by config.h; every string is owned by the configuration.
 * A number that is not set is NaN; a duration that is not set is -1. */
#ifndef CC_ENGINE_CONF_H
#define CC_ENGINE_CONF_H

#include <stddef.h>
#include <stdint.h>

/* Temperature and RH limits: in a profile, or a room's overrides of them. */
struct cc_limits {
	double band_low, band_high;   /* the storage band (documentation, dashboards) */
	double warn_low, warn_high;   /* warning alarms, on-delayed */
	double alarm_low, alarm_high; /* critical alarms, on-delayed */
	double rh_warn_low, rh_alarm_low, rh_warn_high, rh_alarm_high;
	int64_t on_delay_ms;          /* temperature alarms */
	int64_t rh_on_delay_ms;       /* RH alarms */
};

/* One number of a profile (groups limits, model, water, chill) as written,
 * with its grade and source when the file gives them as
 * `KEY = (VALUE, "GRADE: source");` (domain.md: A read in a primary source,
 * B in a secondary one, C derived from A/B figures, D engineering estimate). */
struct cc_param {
	const char *group; /* "limits", "model", "water", "chill"; process profiles:
			    * "precool", "drying.schedule", ... (static) */
	const char *key;   /* the key's name (static) */
	char *value;       /* as config_print writes it: "2.0", "15m" */
	char grade;        /* 'A'..'D'; '\0' when the file gives none */
	char *source;      /* NULL when none */
	int index;         /* element of a list group (drying.schedule[2]); -1 outside lists */
	int line;
};

enum cc_model_kind { CC_MODEL_NONE, CC_MODEL_ARRHENIUS, CC_MODEL_Q10, CC_MODEL_SQRT, CC_MODEL_PIECEWISE_Q10 };

struct cc_profile {
	char *name;
	char *version;
	char *description;
	struct cc_limits limits;
	/* model */
	int model;        /* enum cc_model_kind */
	double t_ref_c;
	int64_t shelf_life_ms; /* at t_ref_c */
	double ea_kj_mol;
	double q10;
	double t_min_c;
	char *q10_bands;  /* "3.0<10,2.0<20,1.5": Q10 below each bound, the last above */
	size_t npw;
	double pw_upper_c[6], pw_q10[6];
	double valid_min_c, valid_max_c;
	int64_t tau_ms;   /* product temperature lag (0: none) */
	double degree_threshold_c;
	double mkt_dh_r_k;
	int64_t remaining_warn_ms; /* notification when remaining life falls below */
	double pre_monitoring_c;   /* assumed between loading and the first reading (NaN: none) */
	/* water */
	double aw, kt_fresh, kt_dry, wl_crit_pct, wl_warn_pct;
	/* chilling */
	double chill_threshold_c, chill_warn_kh, chill_alarm_kh;
	/* every number set in the profile's groups, in file order */
	struct cc_param *params;
	size_t nparams;
	int line;
};

struct cc_lot_conf {
	char *id;
	char *product;     /* profile name */
	char *loaded;      /* ISO 8601, as written */
	int64_t loaded_ns;
	char *dispatch;    /* planned dispatch, ISO 8601; NULL when not planned */
	int64_t dispatch_ns;
	double plan_c;     /* planned temperature for remaining_h_at_plan (NaN: profile t_ref) */
	double pre_c;      /* pre-monitoring temperature (NaN: the profile's); a released batch's final pulp */
	const struct cc_profile *profile; /* resolved */
	int line;
};

struct cc_room_conf {
	char *name;
	char *profile;     /* default profile for limits when no lot is loaded; NULL */
	const struct cc_profile *prof; /* resolved: the room's, else its first lot's */
	/* channel ids "sensor/channel"; NULL when not wired */
	char *temperature, *humidity, *door, *defrost, *outside_temperature, *outside_humidity, *co2, *o2;
	double co2_high_ppm, o2_low_pct;
	char *suppress;    /* "HH:MM-HH:MM,..." UTC: defrost schedule */
	size_t nwin;
	int win_from_min[8], win_to_min[8];
	struct cc_limits limits; /* overrides (NaN / -1: the profile's) */
	struct cc_lot_conf *lots;
	size_t nlots;
	/* advice = { RULE = "what to do"; }: said in the notifications (issue 16) */
	char **advice_rule, **advice_text;
	size_t nadvice;
	int line;
};

enum cc_rule_type { CC_RULE_HIGH, CC_RULE_HIGH_HIGH, CC_RULE_LOW, CC_RULE_LOW_LOW, CC_RULE_RATE, CC_RULE_STUCK };

struct cc_rule_conf {
	char *name;
	char *channel;
	int type;          /* enum cc_rule_type */
	double limit;      /* K/h for rate */
	char *severity;
	double deadband;   /* NaN: alarms.deadband */
	int64_t on_delay_ms, off_delay_ms; /* -1: the defaults */
	int latched;
	char *room;        /* room tag; NULL: none */
	int line;
};

struct cc_alarms_conf {
	int64_t on_delay_ms, off_delay_ms;
	double deadband;
	int64_t renotify_ms, escalate_ms;
	int stale_intervals;
	int64_t stale_after_ms; /* channels without a known poll interval */
	int64_t fault_delay_ms;
	int64_t stuck_after_ms;
	double rate_limit_kh;
	int64_t rate_window_ms;
	int64_t door_open_ms;
	int64_t shelf_life_interval_ms;
	int flood_start, flood_end;
	int64_t flood_window_ms;
	int notify_burst;
	int64_t notify_interval_ms;
	struct cc_rule_conf *rules;
	size_t nrules;
};

#endif
