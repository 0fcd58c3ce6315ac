/* test_report_analyse.c - the lot report's analysis (ctl/report_analyse.c)
 * on fixed series with hand-computed answers: min/max/mean of the good
 * readings, time out of the band to the second, gaps (no data, comm_error,
 * out_of_range), the lot's stays, its alarm rows and its figures, MKT
 * included.  No InfluxDB: the analysis is pure. */
#include "../../ctl/report_analyse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "../../daemon/models/cooling.h"
#include "../../daemon/models/shelflife.h"
#include "testlib.h"

#define S 1000 /* ms */
#define MIN (60 * S)

/* A series with a configured recording interval and readings v[i] at t[i]
 * (NaN: a comm_error reading, unless q says otherwise). */
static struct report_series series_of(int64_t interval_ms, const int64_t *t, const double *v, size_t n)
{
	struct report_series s = { .interval_ms = interval_ms, .configured = 1 };

	for (size_t i = 0; i < n; i++)
		report_series_push(&s, t[i], v[i], isnan(v[i]) ? REPORT_Q_COMM : REPORT_Q_GOOD);
	return s;
}

static void series_free(struct report_series *s)
{
	struct report_stay st = { .temp = *s };
	report_stay_free(&st);
}

struct result {
	struct report_stats st;
	struct report_gap *gaps;
	size_t ngaps;
};

static struct result analyse(const struct report_series *s, int64_t from, int64_t to, int64_t now, double lo,
			     double hi)
{
	struct result r = { .gaps = NULL };
	report_analyse_series(s, from, to, now, lo, hi, &r.st, &r.gaps, &r.ngaps);
	return r;
}

static void test_min_max_mean_count_only_the_good_readings(void)
{
	static const int64_t t[] = { 0, 1 * MIN, 2 * MIN, 3 * MIN, 4 * MIN };
	static const double v[] = { 3.0, 5.0, NAN, 8.0, 4.0 };
	struct report_series s = series_of(MIN, t, v, 5);
	struct result r = analyse(&s, 0, 5 * MIN, 10 * MIN, NAN, NAN);

	CHECK_INT(r.st.n, 4);
	CHECK_NEAR(r.st.min, 3.0, 0);
	CHECK_NEAR(r.st.max, 8.0, 0);
	/* (3 + 5 + 8 + 4) / 4 = 5 */
	CHECK_NEAR(r.st.sum / (double)r.st.n, 5.0, 1e-12);
	CHECK_NEAR(r.st.below_h, 0, 0);
	CHECK_NEAR(r.st.above_h, 0, 0);
	report_gaps_free(r.gaps, r.ngaps);
	series_free(&s);
}

static void test_time_out_of_band_holds_each_reading_until_the_next(void)
{
	/* Band 2..7.  1.0 held 0-60 s (below), 5.0 60-120 s, 9.0 120-180 s and
	 * 9.5 180-240 s (above), 1.5 240-300 s up to `to` (below): 120 s below,
	 * 120 s above, exactly. */
	static const int64_t t[] = { 0, 60 * S, 120 * S, 180 * S, 240 * S };
	static const double v[] = { 1.0, 5.0, 9.0, 9.5, 1.5 };
	struct report_series s = series_of(MIN, t, v, 5);
	struct result r = analyse(&s, 0, 300 * S, 600 * S, 2.0, 7.0);

	CHECK_NEAR(r.st.below_h * 3600.0, 120.0, 1e-9);
	CHECK_NEAR(r.st.above_h * 3600.0, 120.0, 1e-9);
	CHECK_INT(r.ngaps, 0);
	report_gaps_free(r.gaps, r.ngaps);
	series_free(&s);
}

static void test_a_reading_counts_out_of_band_for_at_most_three_intervals(void)
{
	/* 9.0 at 0 s, the next reading 600 s later: held for 3 x 60 s = 180 s,
	 * the other 420 s are a gap, not time above the band. */
	static const int64_t t[] = { 0, 600 * S };
	static const double v[] = { 9.0, 5.0 };
	struct report_series s = series_of(MIN, t, v, 2);
	struct result r = analyse(&s, 0, 660 * S, 3600 * S, 2.0, 7.0);

	CHECK_NEAR(r.st.above_h * 3600.0, 180.0, 1e-9);
	CHECK_NEAR(r.st.below_h, 0, 0);
	CHECK_INT(r.ngaps, 1);
	if (r.ngaps == 1) {
		CHECK_STR(r.gaps[0].kind, "no data");
		CHECK_INT(r.gaps[0].from, 0);
		CHECK_INT(r.gaps[0].to, 600 * S);
	}
	report_gaps_free(r.gaps, r.ngaps);
	series_free(&s);
}

static void test_a_missing_interval_longer_than_the_threshold_is_a_no_data_gap(void)
{
	/* Interval 60 s, threshold 3 intervals = 180 s.  From 0: the first
	 * reading at 200 s (a gap 0-200); 260 -> 440 is exactly 180 s (not a
	 * gap); 440 -> 700 is 260 s (a gap); the last reading at 700 and `to`
	 * 1000, before the report's time: a gap 700-1000. */
	static const int64_t t[] = { 200 * S, 260 * S, 440 * S, 700 * S };
	static const double v[] = { 4.0, 4.0, 4.0, 4.0 };
	struct report_series s = series_of(MIN, t, v, 4);
	struct result r = analyse(&s, 0, 1000 * S, 2000 * S, 2.0, 7.0);
	static const int64_t want[][2] = { { 0, 200 * S }, { 440 * S, 700 * S }, { 700 * S, 1000 * S } };

	CHECK_INT(r.ngaps, 3);
	for (size_t i = 0; i < 3 && i < r.ngaps; i++) {
		CHECK_STR(r.gaps[i].kind, "no data");
		CHECK_INT(r.gaps[i].from, want[i][0]);
		CHECK_INT(r.gaps[i].to, want[i][1]);
	}
	report_gaps_free(r.gaps, r.ngaps);

	/* A period that ends now (or later) is still being recorded: no gap at
	 * its end. */
	r = analyse(&s, 0, 1000 * S, 1000 * S, 2.0, 7.0);
	CHECK_INT(r.ngaps, 2);
	report_gaps_free(r.gaps, r.ngaps);

	/* Without a known interval there is no threshold, hence no gap. */
	s.interval_ms = 0;
	r = analyse(&s, 0, 1000 * S, 2000 * S, 2.0, 7.0);
	CHECK_INT(r.ngaps, 0);
	report_gaps_free(r.gaps, r.ngaps);
	series_free(&s);
}

static void test_bad_readings_are_comm_error_and_out_of_range_gaps(void)
{
	struct report_series s = { .sensor = "th-a1", .channel = "temperature", .interval_ms = MIN };
	struct result r;

	report_series_push(&s, 0, 4.0, REPORT_Q_GOOD);
	report_series_push(&s, 60 * S, NAN, REPORT_Q_COMM);
	report_series_push(&s, 120 * S, NAN, REPORT_Q_COMM);
	report_series_push(&s, 180 * S, NAN, REPORT_Q_RANGE);
	report_series_push(&s, 240 * S, 4.5, REPORT_Q_GOOD);
	report_series_push(&s, 300 * S, NAN, REPORT_Q_RANGE);
	r = analyse(&s, 0, 360 * S, 360 * S, 2.0, 7.0);
	CHECK_INT(r.st.n, 2);
	CHECK_INT(r.ngaps, 3);
	if (r.ngaps == 3) {
		CHECK_STR(r.gaps[0].kind, "comm_error");
		CHECK_INT(r.gaps[0].from, 60 * S);
		CHECK_INT(r.gaps[0].to, 180 * S);
		CHECK_STR(r.gaps[1].kind, "out_of_range");
		CHECK_INT(r.gaps[1].from, 180 * S);
		CHECK_INT(r.gaps[1].to, 240 * S);
		/* a run still bad at the end ends at its last reading */
		CHECK_STR(r.gaps[2].kind, "out_of_range");
		CHECK_INT(r.gaps[2].from, 300 * S);
		CHECK_INT(r.gaps[2].to, 300 * S);
		CHECK_STR(r.gaps[0].sensor, "th-a1");
		CHECK_STR(r.gaps[0].channel, "temperature");
	}
	report_gaps_sort(r.gaps, r.ngaps);
	CHECK(r.ngaps < 2 || r.gaps[0].from <= r.gaps[1].from);
	report_gaps_free(r.gaps, r.ngaps);
	free(s.s);
}

static void test_the_median_step_is_the_observed_interval(void)
{
	static const int64_t t[] = { 0, 10 * S, 20 * S, 90 * S, 100 * S };
	static const double v[] = { 1, 1, 1, 1, 1 };
	struct report_series s = series_of(0, t, v, 5);

	/* steps 10, 10, 70, 10 s: the median is 10 s, the outage aside */
	CHECK_INT(report_series_median_step(&s), 10 * S);
	s.n = 1;
	CHECK_INT(report_series_median_step(&s), 0);
	s.n = 5;
	series_free(&s);
}

static void test_stays_follow_the_rooms_in_time_order(void)
{
	struct report_slpt sl[] = {
		{ .t = 500, .room = "A" }, { .t = 100, .room = "A" }, { .t = 300, .room = "B" },
		{ .t = 200, .room = "A" }, { .t = 400, .room = "B" },
	};
	struct report_stay *st = NULL;
	size_t n = 0;

	report_make_stays(sl, 5, "A", 50, 600, &st, &n);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(st[0].room, "A");
		CHECK_INT(st[0].from, 50); /* the first stay starts with the period */
		CHECK_INT(st[0].to, 300);
		CHECK_STR(st[1].room, "B");
		CHECK_INT(st[1].from, 300);
		CHECK_INT(st[1].to, 500);
		CHECK_STR(st[2].room, "A");
		CHECK_INT(st[2].from, 500);
		CHECK_INT(st[2].to, 600); /* the last ends with it */
	}
	for (size_t i = 0; i < n; i++)
		report_stay_free(&st[i]);
	free(st);

	/* No shelf_life point: the configured room for the whole period. */
	st = NULL;
	n = 0;
	report_make_stays(NULL, 0, "C", 50, 600, &st, &n);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(st[0].room, "C");
		CHECK_INT(st[0].from, 50);
		CHECK_INT(st[0].to, 600);
		report_stay_free(&st[0]);
	}
	free(st);
	n = 0;
	report_make_stays(NULL, 0, NULL, 50, 600, &st, &n);
	CHECK_INT(n, 0);
}

static void test_alarm_rows_keep_this_lots_alarms_and_say_how_each_ended(void)
{
	struct alarm_history_event ev[] = {
		{ .t_ms = 100, .id = "A/LN-1/consumed", .event = "raise", .state = "active", .severity = "warning",
		  .value = 0.5, .limit = 0.4 },
		{ .t_ms = 150, .id = "A/LN-1/consumed", .event = "ack", .state = "acked", .user = "qa", .note = "seen",
		  .value = NAN, .limit = NAN },
		{ .t_ms = 200, .id = "A/LN-1/consumed", .event = "clear", .state = "inactive", .value = NAN,
		  .limit = NAN },
		{ .t_ms = 300, .id = "A/temp_high", .event = "raise", .state = "active", .severity = "critical",
		  .value = 9.0, .limit = 7.0 },
	};
	struct report_alarm *rows = NULL;
	size_t n = 0;

	/* ROOM/LOT/rule: this lot's; ROOM/rule: the room's, ours too */
	CHECK_INT(report_alarm_is_ours("A/LN-1/consumed", "A", "LN-1"), 1);
	CHECK_INT(report_alarm_is_ours("A/LN-2/consumed", "A", "LN-1"), 0);
	CHECK_INT(report_alarm_is_ours("A/LN-10/consumed", "A", "LN-1"), 0);
	CHECK_INT(report_alarm_is_ours("A/temp_high", "A", "LN-1"), 1);

	CHECK_INT(report_alarm_rows(ev, 4, 0, 1000, 1, 0, &rows, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(rows[0].e.id, "A/LN-1/consumed");
		CHECK_INT(rows[0].e.raised_ms, 100);
		CHECK_INT(rows[0].e.acked_ms, 150);
		CHECK_STR(rows[0].e.acked_by, "qa");
		CHECK_INT(rows[0].e.cleared_ms, 200);
		CHECK_STR(report_alarm_end_label(&rows[0]), "cleared");
		CHECK_INT(rows[0].first_stay, 1);
		/* still active when this (not the last) stay ended */
		CHECK_STR(rows[1].e.id, "A/temp_high");
		CHECK_STR(report_alarm_end_label(&rows[1]), "active when the lot left the room");
		rows[1].last_stay = 1;
		CHECK_STR(report_alarm_end_label(&rows[1]), "active at the end");
	}
	/* a second stay appends */
	CHECK_INT(report_alarm_rows(ev + 3, 1, 250, 1000, 0, 1, &rows, &n), 0);
	CHECK_INT(n, 3);
	CHECK_INT(report_alarm_rows(ev, 4, 1000, 0, 0, 1, &rows, &n), -EINVAL);
	CHECK_INT(n, 3);
	for (size_t i = 0; i < n; i++)
		alarm_history_free_episode(&rows[i].e);
	free(rows);
}

static void test_lot_figures_are_the_last_points_accumulators(void)
{
	struct report_slpt sl[2] = { { .t = 100, .room = "A" }, { .t = 200, .room = "A" } };
	struct report_fig f[REPORT_NFIGS];
	size_t n;

	for (int k = 0; k < REPORT_SL_NFIELDS; k++) {
		sl[0].f[k] = 1;
		sl[1].f[k] = NAN;
	}
	sl[1].f[REPORT_SL_CONSUMED] = 0.25;
	sl[1].f[REPORT_SL_REMAINING] = 48;
	sl[1].f[REPORT_SL_OBS] = 7;
	n = report_lot_figures(sl, 2, f);
	CHECK_INT(n, REPORT_NFIGS);
	CHECK_STR(f[0].k, "consumed_pct");
	CHECK_NEAR(f[0].v, 25.0, 1e-12);
	CHECK_STR(f[1].k, "remaining_d");
	CHECK_NEAR(f[1].v, 2.0, 1e-12);
	CHECK_STR(f[8].k, "observed_h");
	CHECK_NEAR(f[8].v, 7.0, 0);
	CHECK(isnan(f[4].v)); /* degree-hours not recorded: NaN, shown empty */

	/* No point: every figure unknown. */
	n = report_lot_figures(NULL, 0, f);
	for (size_t i = 0; i < n; i++)
		CHECK(isnan(f[i].v));
}

static void test_lot_mkt_figure_is_the_models_mkt_of_the_readings(void)
{
	/* The domain's vector (/work/shared/domain.md §3): 2 h at 20 °C, 4 h at
	 * 2 °C, 1 h at 25 °C, ΔH/R = 10000 K.  By hand:
	 *   20 °C = 293.15 K: e^(-10000/293.15) = e^-34.112229 = 1.531959e-15, x 2 h = 3.063918e-15
	 *    2 °C = 275.15 K: e^(-10000/275.15) = e^-36.343812 = 1.644685e-16, x 4 h = 6.578741e-16
	 *   25 °C = 298.15 K: e^(-10000/298.15) = e^-33.540164 = 2.714512e-15, x 1 h = 2.714512e-15
	 *   sum 6.436303e-15 / 7 h = 9.194719e-16, ln = -34.622732
	 *   MKT = 10000 / 34.622732 = 288.82758 K = 15.6776 °C (arithmetic mean 10.43 °C).
	 * The report's MKT is the daemon's accumulator (shelf_life mkt_c), so
	 * the readings go through the model and its figure into the report. */
	static const double hours[] = { 2, 4, 1 }, temp[] = { 20, 2, 25 };
	struct lot_params p;
	struct lot_state st;
	struct report_slpt sl = { .t = 1, .room = "A" };
	struct report_fig f[REPORT_NFIGS];

	lot_params_default(&p);
	lot_state_init(&st);
	for (int i = 0; i < 3; i++)
		lot_step(&st, &p, hours[i], temp[i], NAN);
	for (int k = 0; k < REPORT_SL_NFIELDS; k++)
		sl.f[k] = NAN;
	sl.f[REPORT_SL_MKT] = lot_mkt_c(&st, &p);
	report_lot_figures(&sl, 1, f);
	CHECK_STR(f[3].k, "mkt_c");
	CHECK_STR(f[3].unit, "°C");
	CHECK_NEAR(f[3].v, 15.6776, 0.0005);
	CHECK(fabs(f[3].v - 10.43) > 5); /* not the arithmetic mean */
}

/* processing.md P3: the online fit on six rounded samples. */
static const struct report_cool_pt p3[] = { { 0.5, 27.1 }, { 1.0, 21.5 }, { 1.5, 17.2 },
					    { 2.0, 13.8 }, { 2.5, 11.2 }, { 3.0, 9.2 } };

static void test_cooling_fit_of_p3_gives_c_0_5_and_j_1_149(void)
{
	struct report_cool_fit f;

	CHECK(report_cool_fit(p3, 6, 30.0, 2.0, 5.0, 0.9, 0.5, 0.5, &f) == 0);
	CHECK(f.n == 6);
	CHECK_NEAR(f.c_per_h, 0.5000, 0.00005);
	CHECK_NEAR(f.j, 1.149, 0.0005);
	CHECK_NEAR(f.r2, 1.000, 0.0005);
	CHECK_NEAR(f.half_h, 1.664, 0.0005);
	CHECK_NEAR(f.seven_eighths_h, 4.436, 0.0005);
	CHECK(f.eta_model == COOL_ETA_OK);
	CHECK_NEAR(f.to_target_h, 4.745, 0.0005);
	CHECK(f.eta == COOL_ETA_OK);
	CHECK_NEAR(f.remaining_h, 1.751, 0.0005);
}

static void test_cooling_fit_leaves_out_the_lag_and_says_unreachable_with_a_warm_medium(void)
{
	struct report_cool_pt p[8];
	struct report_cool_fit f;

	/* a flat lag at T0 (Y = 1 > 0.9) ahead of P3: not fitted, same figures */
	p[0] = (struct report_cool_pt){ 0.0, 30.0 };
	p[1] = (struct report_cool_pt){ 0.25, 30.0 };
	for (int i = 0; i < 6; i++)
		p[i + 2] = p3[i];
	CHECK(report_cool_fit(p, 8, 30.0, 2.0, 5.0, 0.9, 0.5, 0.5, &f) == 0);
	CHECK(f.n == 6);
	CHECK_NEAR(f.c_per_h, 0.5000, 0.00005);
	/* medium at 6 °C, target 5 °C: unreachable, never a number */
	CHECK(report_cool_fit(p3, 6, 30.0, 6.0, 5.0, 0.9, 0.5, 0.5, &f) == 0);
	CHECK(f.eta_model == COOL_ETA_UNREACHABLE);
	CHECK(f.eta == COOL_ETA_UNREACHABLE);
	/* one point, or NaN readings only: no fit */
	CHECK(report_cool_fit(p3, 1, 30.0, 2.0, 5.0, 0.9, 0.5, 0.5, &f) == -EINVAL);
	CHECK(isnan(f.c_per_h) && f.n == 1);
	p[0] = (struct report_cool_pt){ NAN, 20.0 };
	p[1] = (struct report_cool_pt){ 1.0, NAN };
	CHECK(report_cool_fit(p, 2, 30.0, 2.0, 5.0, 0.9, 0.5, 0.5, &f) == -EINVAL);
	CHECK(f.n == 0);
}

static void test_cooling_verdict_says_pulled_early_above_the_margin(void)
{
	CHECK_STR(report_cool_verdict(-1, 9.2, 5.0, 1.0), "pulled early");
	CHECK_STR(report_cool_verdict(1, 4.0, 5.0, 1.0), "pulled early");
	CHECK_STR(report_cool_verdict(0, 5.5, 5.0, 1.0), "above target (within the margin)");
	CHECK_STR(report_cool_verdict(0, 4.9, 5.0, 1.0), "on target");
}

/* processing.md S3: chamber readings every 5 min -> CT 3750 ppm·h, 9.826 g·h/m³. */
static void test_fumigation_ct_of_s3_is_3750_ppmh(void)
{
	static const double c[] = { 0, 4000, 9000, 11000, 10000, 8000, 6000 };
	struct report_cool_pt p[7];
	double un = -1;

	for (int i = 0; i < 7; i++)
		p[i] = (struct report_cool_pt){ i * 5.0 / 60.0, c[i] };
	CHECK_NEAR(report_fum_ct(p, 7, 10.0 / 60.0, &un), 3750.0, 1e-9);
	CHECK_NEAR(un, 0, 0);
	CHECK_NEAR(report_fum_ct_g_h_m3(3750.0), 9.826, 0.0005);
	/* a step longer than max_gap is not integrated but unmonitored */
	p[6].t_h = 1.0;
	CHECK_NEAR(report_fum_ct(p, 7, 10.0 / 60.0, &un), 3750.0 - 0.5 * (8000 + 6000) * 5.0 / 60.0, 1e-9);
	CHECK_NEAR(un, 1.0 - 25.0 / 60.0, 1e-12);
	CHECK_STR(report_fum_ct_verdict(3750.0, NAN, NAN), "no window set");
	CHECK_STR(report_fum_ct_verdict(3750.0, 4000.0, NAN), "under-treated");
	CHECK_STR(report_fum_ct_verdict(3750.0, 1000.0, 3000.0), "over-treated");
	CHECK_STR(report_fum_ct_verdict(3750.0, 1000.0, 5000.0), "in window");
	/* S2: STEL 5.667 ppm against NIOSH 5 and VN 3.816; ACGIH's has no TWA */
	CHECK_STR(report_exposure_grade(5.667, 5.0), "above the limit");
	CHECK_STR(report_exposure_grade(0.9375, 5.0), "within the limit");
	CHECK_STR(report_exposure_grade(0.9375, NAN), "no limit set");
}

/* processing.md D1: 100 kg at 82 % wb, 25 kg now -> 28.00 % wb, 0.3889 db. */
static void test_drying_moisture_of_d1_is_28_percent_wb(void)
{
	double wb, db;

	CHECK(report_dry_moisture(100.0, 82.0, 25.0, &wb, &db) == 0);
	CHECK_NEAR(wb, 28.00, 0.005);
	CHECK_NEAR(db, 0.3889, 0.00005);
	CHECK(report_dry_moisture(100.0, NAN, 25.0, &wb, &db) == -EINVAL);
	CHECK(isnan(wb) && isnan(db));
	/* the dried-lychee target 22.5 % wb, +2 incomplete, -5 over-dried */
	CHECK_STR(report_dry_verdict(28.0, 0.25, 22.5, 2.0, 5.0, NAN), "pulled wet");
	CHECK_STR(report_dry_verdict(23.0, 0.25, 22.5, 2.0, 5.0, NAN), "on target");
	CHECK_STR(report_dry_verdict(17.0, 0.25, 22.5, 2.0, 5.0, NAN), "over-dried");
	CHECK_STR(report_dry_verdict(NAN, 0.40, NAN, NAN, NAN, 1.0 / 3.0), "pulled wet");
	CHECK_STR(report_dry_verdict(NAN, NAN, 22.5, 2.0, 5.0, NAN), "no moisture");
}

int main(void)
{
	tl_prog = "unit/report_analyse";
	RUN(test_min_max_mean_count_only_the_good_readings);
	RUN(test_time_out_of_band_holds_each_reading_until_the_next);
	RUN(test_a_reading_counts_out_of_band_for_at_most_three_intervals);
	RUN(test_a_missing_interval_longer_than_the_threshold_is_a_no_data_gap);
	RUN(test_bad_readings_are_comm_error_and_out_of_range_gaps);
	RUN(test_the_median_step_is_the_observed_interval);
	RUN(test_stays_follow_the_rooms_in_time_order);
	RUN(test_alarm_rows_keep_this_lots_alarms_and_say_how_each_ended);
	RUN(test_lot_figures_are_the_last_points_accumulators);
	RUN(test_lot_mkt_figure_is_the_models_mkt_of_the_readings);
	RUN(test_cooling_fit_of_p3_gives_c_0_5_and_j_1_149);
	RUN(test_cooling_fit_leaves_out_the_lag_and_says_unreachable_with_a_warm_medium);
	RUN(test_cooling_verdict_says_pulled_early_above_the_margin);
	RUN(test_fumigation_ct_of_s3_is_3750_ppmh);
	RUN(test_drying_moisture_of_d1_is_28_percent_wb);
	return TL_DONE();
}
