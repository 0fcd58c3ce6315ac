/* report_labels.c - labels for people of the profile numbers' keys, for
 * the lot report's grades tables (a document for buyers: no raw key as a
 * row label). English, like the report's other labels. */
#include "report_labels.h"
#include <stdio.h>
#include <string.h>

struct label {
	const char *k, *label;
};

/* Groups of cc_param.group (daemon/engine_conf.h). */
static const struct label groups[] = {
	{ "limits", "Alarm limits" },
	{ "model", "Shelf-life model" },
	{ "water", "Water loss" },
	{ "chill", "Chilling injury" },
	{ "precool", "Precooling" },
	{ "precool.fit", "Precooling, cooling-curve fit" },
	{ "carcass_chill", "Carcass chilling" },
	{ "carcass_chill.fit", "Carcass chilling, cooling-curve fit" },
	{ "carcass_chill.weight_bands", "Carcass chilling, weight band" },
	{ "fumigation", "Fumigation" },
	{ "fumigation.worker_limits", "Fumigation, worker exposure limits" },
	{ "drying", "Drying" },
	{ "drying.schedule", "Drying, stage" },
	{ "processes", "Processing line" },
};

/* Keys, the same meaning in every group that has them (the schema's help,
 * daemon/config/, shortened). */
static const struct label keys[] = {
	{ "band_low", "storage band, lower end (°C)" },
	{ "band_high", "storage band, upper end (°C)" },
	{ "warn_low", "low temperature warning (°C)" },
	{ "warn_high", "high temperature warning (°C)" },
	{ "alarm_low", "low temperature alarm (°C)" },
	{ "alarm_high", "high temperature alarm (°C)" },
	{ "rh_warn_low", "low humidity warning (% RH)" },
	{ "rh_alarm_low", "low humidity alarm (% RH)" },
	{ "rh_warn_high", "high humidity warning (% RH)" },
	{ "rh_alarm_high", "high humidity alarm (% RH)" },
	{ "on_delay", "temperature alarm delay" },
	{ "rh_on_delay", "humidity alarm delay" },
	{ "t_ref", "reference temperature Tref (°C)" },
	{ "shelf_life", "shelf life at Tref" },
	{ "ea", "activation energy Ea (kJ/mol)" },
	{ "q10", "Q10 (rate ratio per 10 K)" },
	{ "t_min", "temperature of no growth Tmin (°C)" },
	{ "q10_bands", "Q10 by temperature band" },
	{ "valid_min", "model valid from (°C)" },
	{ "valid_max", "model valid up to (°C)" },
	{ "tau", "product temperature lag behind the air" },
	{ "degree_threshold", "degree-hours counted above (°C)" },
	{ "mkt_dh_r", "MKT ΔH/R (K)" },
	{ "remaining_warn", "warn when remaining shelf life is below" },
	{ "pre_monitoring", "product temperature before the first reading (°C)" },
	{ "aw", "water activity of the surface" },
	{ "kt_fresh", "weight loss rate, fresh (per Pa VPD per hour)" },
	{ "kt_dry", "weight loss rate, drier (per Pa VPD per hour)" },
	{ "critical_loss_pct", "critical weight loss (%)" },
	{ "warn_loss_pct", "weight loss warning (%)" },
	{ "threshold", "chilling counted below (°C)" },
	{ "warn_kh", "chilling dose warning (K·h)" },
	{ "alarm_kh", "chilling dose alarm (K·h)" },
	{ "target", "target temperature (°C)" },
	{ "target_margin", "pulled too early: margin above target" },
	{ "pull_y", "pulled too early: fraction of the initial difference left" },
	{ "c_ref", "reference cooling coefficient Cref (1/h)" },
	{ "underperform_fraction", "cooler underperforming below this fraction of Cref" },
	{ "medium_margin", "cooling medium above its set-point by (K)" },
	{ "medium_duration", "cooling medium alarm after" },
	{ "unreachable_margin", "target unreachable: medium within (K)" },
	{ "harvest_limit", "longest harvest to cooling" },
	{ "field_heat", "field heat above (°C)" },
	{ "overcool", "over-cooling below (°C)" },
	{ "probe_fault_y", "probe fault: temperature ratio above" },
	{ "probe_fault_step_fraction", "probe fault: drop as a fraction of the excess" },
	{ "probe_fault_step", "probe fault: drop in one reading (K)" },
	{ "probe_fault_rise", "probe fault: rise between readings (K)" },
	{ "delta", "points this close to the medium left out (K)" },
	{ "lag_y", "fit starts at temperature ratio" },
	{ "t_lag", "fit starts at the latest after" },
	{ "min_points", "points before a fit is reported" },
	{ "r2_min", "least R² of a reliable fit" },
	{ "c_min", "least cooling coefficient C (1/h)" },
	{ "c_max", "greatest cooling coefficient C (1/h)" },
	{ "j_min", "least lag factor j" },
	{ "j_max", "greatest lag factor j" },
	{ "max_kg", "carcasses lighter than (kg)" },
	{ "deadline", "time to reach the target" },
	{ "warn_margin", "warn this long before the deadline" },
	{ "post_chill_max", "core never above after chilling (°C)" },
	{ "ice_crust", "ice crust below (°C)" },
	{ "fresh_min", "no longer fresh below (°C)" },
	{ "medium_max", "chiller air or water above (°C)" },
	{ "max_gap", "longest gap between readings" },
	{ "min_probes", "core probes needed" },
	{ "giblets_deadline", "giblets at target within" },
	{ "ct_min", "least dose CT (ppm·h)" },
	{ "ct_max", "greatest dose CT (ppm·h)" },
	{ "entry_limit", "chamber entry limit (ppm)" },
	{ "purge_overrun", "purge overrun allowed (fraction)" },
	{ "exposure_max_gap", "longest gap between worker-zone readings" },
	{ "idlh", "evacuate at (ppm, IDLH)" },
	{ "stel_window", "short-term exposure window" },
	{ "flat_window", "sensor stuck when unchanged for" },
	{ "flat_epsilon", "unchanged within (ppm)" },
	{ "twa", "time-weighted average limit (ppm)" },
	{ "twa_period", "time-weighted average period" },
	{ "stel", "short-term exposure limit (ppm)" },
	{ "target_mc_wb", "final moisture (% wet basis)" },
	{ "incomplete_margin", "incomplete drying above target by (points of %)" },
	{ "overdry_margin", "over-dried below target by (points of %)" },
	{ "mass_ratio", "end point, dried to fresh mass" },
	{ "xe", "equilibrium moisture (dry basis)" },
	{ "initial_mc_wb", "moisture at loading (% wet basis)" },
	{ "initial_phase", "initial phase" },
	{ "scorch_limit", "scorch limit after the initial phase (°C)" },
	{ "scorch_max", "scorch limit at any time (°C)" },
	{ "scorch_on_delay", "scorch alarm delay" },
	{ "scorch_undelayed", "scorch alarm without delay above the limit by (K)" },
	{ "fast_start", "too-fast start above (°C)" },
	{ "fast_start_window", "start window" },
	{ "stall_fraction", "stall below this fraction of the initial rate" },
	{ "stall_duration", "stall after" },
	{ "exhaust_rh", "saturated exhaust above (% RH)" },
	{ "exhaust_duration", "saturated exhaust after" },
	{ "open_air_rh", "open air: outdoor humidity above (% RH)" },
	{ "loadcell_rise_pct", "load-cell fault: rise without loading (%)" },
	{ "loadcell_flat", "load-cell fault: no change for" },
	{ "loadcell_flat_band", "load-cell fault: no change within (% of start mass)" },
	{ "loadcell_flat_above", "load-cell fault: with the air above (°C)" },
	{ "loadcell_filter", "load-cell running mean over" },
	{ "rate_span", "drying rate over" },
	{ "initial_rate_window", "initial rate within" },
	{ "duration", "planned length" },
	{ "air_min", "least air temperature (°C)" },
	{ "air_max", "greatest air temperature (°C)" },
	{ "rh_max", "greatest air humidity (% RH)" },
	{ "set_point", "cooling medium set-point (°C)" },
	{ "free_volume", "chamber free volume (m³)" },
	{ "air_changes", "air changes per hour while purging" },
	{ "sulphur_dose", "sulphur per tonne of fruit (kg S/t)" },
	{ "air_flow", "dry-air flow through the kiln (kg/s)" },
};

static const char *find(const struct label *t, size_t n, const char *k)
{
	for (size_t i = 0; k && i < n; i++)
		if (strcmp(t[i].k, k) == 0)
			return t[i].label;
	return NULL;
}

/* Units a key's last words name, spelt for people. */
static const struct label units[] = {
	{ "_kj_mol", " (kJ/mol)" }, { "_dh_r_k", " ΔH/R (K)" }, { "_pct", " (%)" }, { "_kh", " (K·h)" },
	{ "_kg", " (kg)" },	    { "_c", " (°C)" },		{ "_d", " (days)" }, { "_h", " (h)" },
	{ "_utc", "" },
};

void report_key_words(const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key), n = 0;
	const char *unit = "";

	if (!len)
		return;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t ul = strlen(units[i].k);
		if (kl > ul && strcmp(key + kl - ul, units[i].k) == 0) {
			kl -= ul;
			unit = units[i].label;
			break;
		}
	}
	for (size_t i = 0; i < kl && n + 1 < len; i++)
		buf[n++] = key[i] == '_' || key[i] == '.' ? ' ' : key[i];
	buf[n] = '\0';
	if (n && buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	snprintf(buf + n, len - n, "%s", unit);
}

const char *report_param_label(const char *group, const char *key, int index, char *buf, size_t len)
{
	char gw[96], kw[96];
	const char *g = find(groups, sizeof(groups) / sizeof(groups[0]), group);
	const char *k = find(keys, sizeof(keys) / sizeof(keys[0]), key);

	if (!g) {
		report_key_words(group ? group : "", gw, sizeof(gw));
		g = gw;
	}
	if (!k) {
		report_key_words(key ? key : "", kw, sizeof(kw));
		kw[0] = (char)(kw[0] >= 'A' && kw[0] <= 'Z' ? kw[0] - 'A' + 'a' : kw[0]);
		k = kw;
	}
	if (index >= 0)
		snprintf(buf, len, "%s %d: %s", g, index + 1, k);
	else
		snprintf(buf, len, "%s: %s", g, k);
	return buf;
}
