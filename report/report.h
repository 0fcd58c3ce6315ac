/* report.h - the lot report's engine (a lot's storage history read back
 * from InfluxDB), shared by `coldchainctl report` (ctl/report.c: options,
 * printing, exit codes) and the daemon's web page (daemon/web/report_page.c:
 * GET /lot/ID/report).  The report being built, and the functions one part
 * offers the others.  report.c: the InfluxDB to read, the period, the
 * header and the order of the work; report_fetch.c: every InfluxQL query;
 * report_analyse.c: the figures (pure); report_csv.c and report_html.c: the
 * two formats.
 *
 * Use: fill lot, format, cfg (may be NULL), generated (ms), from/to with
 * from_set/to_set, band_low = band_high = NAN; then report_use_influx(),
 * report_set_period(), report_collect(), report_write_csv/html(), and
 * report_free() always.  Errors: the first in err; on stderr too unless
 * quiet. */
#ifndef CC_REPORT_ENGINE_H
#define CC_REPORT_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "../daemon/config.h"
#include "report_analyse.h"

#ifndef CC_VERSION
#error "CC_VERSION comes from the Makefile (VERSION): -DCC_VERSION=..."
#endif

/* A profile number with its grade (config/profiles.conf). */
struct report_grade {
	char *key, *value, *grade, *source;
	const char *group; /* the profile's group: limits, model, water, chill */
};

struct report {
	/* options */
	const char *lot, *format, *out_path, *conf_path;
	char *url, *db, *user, *pass;
	const char *ca_file; /* TLS of the output the URL came from */
	int insecure;
	int64_t from, to; /* ms */
	int from_set, to_set;
	/* configuration (may be NULL) */
	struct cc_config *cfg;
	const struct cc_lot_conf *lotc;
	const struct cc_room_conf *roomc;
	const struct cc_profile *prof;
	char *site;
	/* from InfluxDB */
	char *product, *profile, *profile_version;
	struct report_slpt *sl;
	size_t nsl;
	cJSON *sl_json;
	struct report_stay *stays;
	size_t nstays;
	struct report_alarm *alarms;
	size_t nalarms;
	struct report_gap *gaps;
	size_t ngaps;
	struct report_grade *grades;
	size_t ngrades;
	double band_low, band_high;
	int64_t generated; /* ms */
	/* processing steps (--batch, in the order given; without it the
	 * batches whose process points name the lot, by start) */
	const char **batches;
	size_t nbatches;
	char **found; /* the batches found by lot (owned) */
	size_t nfound;
	struct report_step *steps;
	size_t nsteps;
	/* the lot's history from its lot_step points, by start (none: data
	 * older than the measurement) */
	struct report_lot_step *lsteps;
	size_t nlsteps;
	/* errors and bounds */
	char err[512];       /* the first error, without the "coldchainctl report: " */
	int quiet;           /* 1: errors only in err (the daemon) */
	int influx_down;     /* a query failed to reach InfluxDB (or the deadline passed) */
	int64_t deadline_ns; /* time_now_ns() clock; 0: none (each query 120 s) */
	int cfg_borrowed;    /* 1: cfg is the caller's (not freed by report_free) */
	int verbose;         /* 1: the HTML names the InfluxDB URL and database (--verbose) */
};

/* One step of the lot's history (a lot_step point of coldchaind). */
struct report_lot_step {
	char *step, *batch, *room, *process, *verdict; /* NULL: not recorded */
	int64_t start, end;                            /* ms; 0: not recorded */
};

/* One processing step of the lot (a batch given with --batch), from its
 * `process` points: the last point's figures (the daemon's fit), the
 * slowest probe's readings (slowest_c) as a curve, the batch's alarms. */
struct report_step {
	char *batch, *process, *kind, *profile, *profile_version, *fit, *status;
	int64_t start, end; /* ms: the first and the last process point */
	double c_per_h, j, r2, half_h, seven_eighths_h, remaining_h, final_c, medium_c, n, probe_faults;
	int64_t eta_ms;     /* 0: none */
	int pull_early, underperforming, unreachable, late_start, over_cooling, stopped; /* -1: not recorded */
	struct report_cool_pt *pts; /* slowest_c of the running batch's points, hours from t0_ms */
	int64_t t0_ms;              /* the curve's origin: its first point */
	size_t npts;
	double t0_c, tm_c;  /* the first slowest_c, the mean medium_c */
	struct report_cool_fit refit;
	const struct cc_process_profile *pp; /* from the configuration (may be NULL) */
	const struct cc_process_conf *pc;
	double target_c, margin_k; /* the profile's (NaN without it) */
	struct report_alarm *alarms;
	size_t nalarms;
	int64_t batch_start_ms;   /* the process points' `start` (0: not recorded) */
	const char *curve_field;  /* the field pts[] are of: slowest_c, chamber_ppm, mc_wb */
	/* fumigation: the chamber point's last figures; the outside sensors' */
	double ct_ppmh, ct_g_h_m3, peak_ppm, unmonitored_h, purge_h, purge_estimate_h, chamber_t, chamber_rh;
	double refit_ct_ppmh;     /* the report's own trapezoid of the recorded chamber_ppm */
	char *phase, *ct_verdict;
	struct report_sensor *sensors;
	size_t nsensors;
	/* drying: the last point's */
	double mc_wb, mc_db, mass_ratio, mass_kg, k;
	char *stage;
};

/* An outside (worker-zone) SO2 sensor of a fumigation step: the last
 * figures of its `sensor`-tagged process points, the maximum STEL. */
struct report_sensor {
	char *sensor;
	double twa_ppm, twa_upper_ppm, stel_max_ppm, projected_twa_ppm, unmonitored_h;
};

/* key, value pairs of the header, shared by both formats */
struct report_kv {
	const char *k;
	char v[512];
	int is_time;  /* v is t_ms in UTC (the HTML shows it in the site's zone) */
	int64_t t_ms;
};
#define REPORT_MAX_KVS 40

/* report.c */
/* A time as --from and --to take it: ISO 8601 with a zone, "now", or epoch
 * seconds; into *out (ms).  0 or -1. */
int report_parse_time_ms(const char *s, int64_t *out);
/* Records an error (printf format, no newline): into r->err if it is the
 * first, and on stderr unless r->quiet. */
void report_err(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The InfluxDB to read: url and db (NULL: the configuration's first
 * InfluxDB 1.x output, with its TLS settings and credentials), and the
 * lot's room and profile from the configuration.  0, or -1 when there is
 * none. */
int report_use_influx(struct report *r, const char *url, const char *db);
/* The period's defaults: from the lot's loading (its first shelf_life
 * point when it is not configured) to r->generated.  0, 1 (failed) or 2
 * (empty). */
int report_set_period(struct report *r);
/* Reads and analyses the lot's stays and steps.  0 or -1. */
int report_collect(struct report *r);
/* Frees what the report holds (not the struct). */
void report_free(struct report *r);
/* "2026-06-12T08:00:00Z", or "-" for 0 or less. */
void report_fmt_utc(int64_t ms, char *buf, size_t len);
/* "%.*f", or "" for NaN and infinities. */
void report_fmt_num(char *buf, size_t len, double v, int prec);
/* The header's pairs (at most max). */
size_t report_header_kvs(const struct report *r, struct report_kv *kv, size_t max);
/* " (estimate)" when the band shown is the profile's and the profile grades
 * it D, else "". */
const char *report_band_estimate(const struct report *r);

/* A step's verdict in words, by kind: a cooling verdict, the CT verdict
 * against the profile's window, the drying verdict. */
const char *report_step_verdict(const struct report_step *st);
/* Hours from the batch's start (else its first point) to its last point. */
double report_step_hours(const struct report_step *st);
/* The active worker limit set of a fumigation step (NULL: none), and
 * whether its `key` (twa, stel) is D-graded. */
const struct cc_exposure_limit *report_step_limits(const struct report_step *st);
int report_step_limit_estimate(const struct report_step *st, const char *key);

/* report_fetch.c: each prints its error on stderr and returns -1. */
/* The lot's first shelf_life point's time: 0, 1 (no point; message
 * printed), -1. */
int report_fetch_first_ms(struct report *r, int64_t *out);
/* The lot's shelf_life points (and product, profile, site tags). */
int report_fetch_shelf_life(struct report *r);
/* The stay's air temperature and RH series (configured interval from the
 * configuration) and its alarm rows. */
int report_fetch_stay(struct report *r, struct report_stay *st, const struct cc_room_conf *rc, int first_stay,
		      int last_stay);

/* The process points and the alarms of batch `batch` into *st (every
 * time: a batch ends before the lot's storage begins).  0, 1 (no process
 * point: message printed) or -1. */
int report_fetch_step(struct report *r, const char *batch, struct report_step *st);
/* The batches whose process points carry lot = r->lot, by their start,
 * into r->found.  0 (none is fine) or -1. */
int report_fetch_lot_batches(struct report *r);
/* A lot step's start and end as the report prints them ("" when not
 * recorded). */
void report_lot_step_times(const struct report_lot_step *ls, char *start, char *end, size_t len);
/* The lot's lot_step points into r->lsteps, by start.  0 (none is fine)
 * or -1. */
int report_fetch_lot_steps(struct report *r);
/* A profile's number of a step is D-graded (an estimate). */
int report_step_estimate(const struct report_step *st, const char *group, const char *key);

/* report_csv.c, report_html.c */
void report_write_csv(const struct report *r, FILE *o);
void report_write_html(const struct report *r, FILE *o);

#endif
