/* test_fumigation.c - the SO2 fumigation model against the vectors S1-S3 of
 * processing.md §3.4, plus the gap, NaN, order, ring-merge and alarm rules. */
#include "../../daemon/models/fumigation.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "testlib.h"

#define MIN_NS (60LL * 1000000000LL)
#define H_NS (60 * MIN_NS)
#define T0 (1781252100LL * 1000000000LL) /* any epoch */

static struct fum_exposure_params osha(void)
{
	struct fum_exposure_params p;

	fum_exposure_params_default(&p);
	p.twa_limit_ppm = 5;   /* OSHA PEL, 8-h TWA (processing.md §3.2) */
	p.stel_limit_ppm = 5;  /* NIOSH STEL */
	p.idlh_ppm = 100;
	return p;
}

static struct fum_chamber_params chamber(void)
{
	struct fum_chamber_params p = { .ct_min_ppmh = 3000, .ct_max_ppmh = 4500, .max_gap_s = 600,
					.exposure_ppm = 0, .entry_ppm = 2, .ach_per_h = 10,
					.purge_overdue_frac = 0.5, .flat_window_s = 600, .flat_eps_ppm = 1 };
	return p;
}

/* One sample a minute from minute m0, n samples at c. */
static void feed(struct fum_exposure_state *s, const struct fum_exposure_params *p, int m0, int n, double c)
{
	for (int i = 0; i < n; i++)
		CHECK_INT(fum_exposure_observe(s, p, T0 + (m0 + i) * MIN_NS, c), 0);
}

static void test_s1_8h_twa_of_7h_at_0_5_and_1h_at_4_is_0_9375_ppm(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;

	fum_exposure_init(&s, T0);
	feed(&s, &p, 0, 420, 0.5);
	feed(&s, &p, 420, 60, 4.0);
	/* The last sample stands for the minute it starts: query at 8 h. */
	fum_exposure_figures(&s, &p, T0 + 8 * H_NS, &f);
	CHECK_NEAR(f.twa_ppm, 0.9375, 0.00005);
	CHECK_NEAR(f.twa_mg_m3, 2.457, 0.0005);
	CHECK_NEAR(f.monitored_h, 8.0, 1e-9);
	CHECK_NEAR(f.unmonitored_h, 0.0, 1e-12);
	CHECK_NEAR(f.twa_upper_ppm, f.twa_ppm, 1e-12);
	/* below OSHA 5 ppm and VN 1.908 ppm (5 mg/m³) */
	CHECK(f.twa_ppm < 5.0 && f.twa_ppm < fum_mg_m3_to_ppm(5.0));
	CHECK_NEAR(fum_mg_m3_to_ppm(5.0), 1.908, 0.0005);
	CHECK(!(fum_exposure_alarms(&s, &p, T0 + 8 * H_NS) & FUM_A_TWA_PROJECTED));
	p.t_ref_h = 10; /* NIOSH basis */
	fum_exposure_figures(&s, &p, T0 + 8 * H_NS, &f);
	CHECK_NEAR(f.twa_ppm, 0.75, 0.000005);
}

static void test_s1_door_worker_10min_at_20_ppm_rest_at_0_3_is_0_7104_ppm(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;

	fum_exposure_init(&s, 0);
	feed(&s, &p, 0, 10, 20.0);
	feed(&s, &p, 10, 470, 0.3);
	fum_exposure_figures(&s, &p, T0 + 480 * MIN_NS, &f);
	CHECK_NEAR(f.twa_ppm, 0.7104, 0.00005);
}

static double stel_max_of(const double *c, const int *n, int parts, int spacing_s)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;
	int64_t t = T0;

	fum_exposure_init(&s, 0);
	for (int k = 0; k < parts; k++)
		for (int i = 0; i < n[k] * 60 / spacing_s; i++, t += spacing_s * 1000000000LL)
			CHECK_INT(fum_exposure_observe(&s, &p, t, c[k]), 0);
	/* The online maximum over windows ending by the last sample (its own
	 * minute is not counted yet); the query adds the rolling window at now. */
	fum_exposure_figures(&s, &p, s.last_ns, &f);
	CHECK(f.stel_max_ppm >= s.stel_max_ppm);
	return s.stel_max_ppm;
}

static void test_s2_stel_of_5x1_10x8_5x1_minutes_is_5_667_ppm(void)
{
	double c[] = { 1, 8, 1 };
	int n[] = { 5, 10, 5 };
	double v = stel_max_of(c, n, 3, 60);

	CHECK_NEAR(v, 5.667, 0.0005);
	CHECK(v > 5.0 && v > 3.816); /* > NIOSH and VN: alarm */
}

static void test_s2_stel_of_10x0_2_3x0_6_10x0_2_minutes_is_0_28_ppm(void)
{
	double c[] = { 0.2, 0.6, 0.2 };
	int n[] = { 10, 3, 10 };
	double v = stel_max_of(c, n, 3, 60);

	CHECK_NEAR(v, 0.28, 0.00005);
	CHECK(v > 0.25 && v < 3.816 && v < 5.0); /* > ACGIH only */
}

static void test_s2_with_one_second_samples_merges_the_ring_within_its_bound(void)
{
	double c[] = { 1, 8, 1 }, c2[] = { 0.2, 0.6, 0.2 };
	int n[] = { 5, 10, 5 }, n2[] = { 10, 3, 10 };

	/* 900 samples per window in a ring of 32: merged segments; the spread
	 * of the values merged is 7 ppm (0.4), bound 2·7/32 (2·0.4/32). */
	double v = stel_max_of(c, n, 3, 1), v2 = stel_max_of(c2, n2, 3, 1);

	CHECK_NEAR(v, 5.667, 2 * 7.0 / FUM_RING_MAX);
	CHECK_NEAR(v2, 0.28, 2 * 0.4 / FUM_RING_MAX);
	printf("    1-s samples: STEL %.6f (exact 5.666667), %.6f (exact 0.28)\n", v, v2);
}

static void test_rolling_stel_raises_the_alarm_and_falls_back(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;

	fum_exposure_init(&s, 0);
	feed(&s, &p, 0, 5, 1.0);
	feed(&s, &p, 5, 9, 8.0);
	CHECK(fum_exposure_alarms(&s, &p, T0 + 13 * MIN_NS) & FUM_A_STEL_WARN); /* 8 >= 5 now */
	CHECK(!(fum_exposure_alarms(&s, &p, T0 + 13 * MIN_NS) & FUM_A_STEL)); /* (5 + 64)/15 */
	feed(&s, &p, 14, 1, 8.0);
	feed(&s, &p, 15, 1, 1.0);
	fum_exposure_figures(&s, &p, T0 + 15 * MIN_NS, &f);
	CHECK_NEAR(f.stel_ppm, 85.0 / 15, 1e-9);
	CHECK(fum_exposure_alarms(&s, &p, T0 + 15 * MIN_NS) & FUM_A_STEL);
	CHECK(!(fum_exposure_alarms(&s, &p, T0 + 15 * MIN_NS) & FUM_A_STEL_WARN));
	feed(&s, &p, 16, 24, 1.0);
	fum_exposure_figures(&s, &p, T0 + 40 * MIN_NS, &f);
	CHECK_NEAR(f.stel_ppm, 1.0, 1e-9);
	CHECK_NEAR(f.stel_max_ppm, 85.0 / 15, 1e-9);
	CHECK(!(fum_exposure_alarms(&s, &p, T0 + 40 * MIN_NS) & FUM_A_STEL));
}

static void test_projected_twa_holds_the_current_reading_to_the_end_of_the_shift(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;

	fum_exposure_init(&s, T0);
	feed(&s, &p, 0, 60, 1.0);
	feed(&s, &p, 60, 1, 6.0); /* 1 ppm·h so far; 6 ppm for the 7 h left */
	fum_exposure_figures(&s, &p, T0 + 60 * MIN_NS, &f);
	CHECK_NEAR(f.projected_ppm, (1.0 + 6.0 * 7) / 8, 1e-9);
	CHECK(fum_exposure_alarms(&s, &p, T0 + 60 * MIN_NS) & FUM_A_TWA_PROJECTED);
	p.twa_limit_ppm = 6;
	CHECK(!(fum_exposure_alarms(&s, &p, T0 + 60 * MIN_NS) & FUM_A_TWA_PROJECTED));
}

static void test_idlh_and_ceiling_are_instantaneous(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	unsigned a;

	p.ceiling_ppm = 50;
	fum_exposure_init(&s, 0);
	feed(&s, &p, 0, 1, 0.1);
	feed(&s, &p, 1, 1, 120.0);
	a = fum_exposure_alarms(&s, &p, T0 + 1 * MIN_NS);
	CHECK(a & FUM_A_IDLH);
	CHECK(a & FUM_A_CEILING);
	CHECK(a & FUM_A_STEL_WARN);
	/* a stale reading is not an instantaneous value: the stale alarm's job */
	a = fum_exposure_alarms(&s, &p, T0 + 30 * MIN_NS);
	CHECK(!(a & FUM_A_IDLH));
}

static void test_long_gap_outside_is_unmonitored_and_bounded_by_the_fill(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;

	fum_exposure_init(&s, T0);
	feed(&s, &p, 0, 60, 0.5);                 /* 0..1 h */
	feed(&s, &p, 180, 1, 2.0);                /* 2 h later */
	/* step 59→180 min: 5 min held at 0.5, 116 min unmonitored at max(0.5, 2) */
	CHECK_INT(s.gaps, 1);
	fum_exposure_figures(&s, &p, T0 + 181 * MIN_NS, &f);
	CHECK_NEAR(f.unmonitored_h, 116.0 / 60, 1e-9);
	CHECK_NEAR(f.twa_ppm, (0.5 * 64 / 60 + 2.0 / 60) / 8, 1e-9);
	CHECK_NEAR(f.twa_upper_ppm, f.twa_ppm + 2.0 * 116 / 60 / 8, 1e-9);
	p.fill = FUM_FILL_VALUE; /* e.g. the limit: applies to later gaps */
	p.fill_ppm = 5.0;
	/* an open gap: silence since 181 min, now 5 h */
	fum_exposure_figures(&s, &p, T0 + 300 * MIN_NS, &f);
	CHECK_NEAR(f.unmonitored_h, (116.0 + 115.0) / 60, 1e-9);
	CHECK(isnan(f.last_ppm));
	CHECK_NEAR(f.twa_upper_ppm, (0.5 * 64 / 60 + 2.0 * 5 / 60 + 2.0 * 116 / 60 + 5.0 * 115 / 60) / 8, 1e-9);
}

static void test_time_from_shift_start_to_the_first_reading_is_unmonitored(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;

	p.fill = FUM_FILL_VALUE;
	p.fill_ppm = 5;
	fum_exposure_init(&s, T0);
	feed(&s, &p, 60, 60, 1.0);
	fum_exposure_figures(&s, &p, T0 + 120 * MIN_NS, &f);
	CHECK_NEAR(f.unmonitored_h, 1.0, 1e-9);
	CHECK_NEAR(f.twa_ppm, 1.0 / 8, 1e-9);
	CHECK_NEAR(f.twa_upper_ppm, 6.0 / 8, 1e-9);
	CHECK_INT(fum_exposure_observe(&s, &p, T0 - MIN_NS, 1.0), -ERANGE);
}

static void test_nan_and_out_of_order_readings_are_counted_and_change_nothing(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_params *pp = &p;
	struct fum_exposure_state s, before;
	struct fum_chamber_params cp = chamber();
	struct fum_chamber_state c, cbefore;

	fum_exposure_init(&s, 0);
	feed(&s, pp, 0, 10, 1.0);
	before = s;
	CHECK_INT(fum_exposure_observe(&s, pp, T0 + 11 * MIN_NS, NAN), -EINVAL);
	CHECK_INT(fum_exposure_observe(&s, pp, T0 + 11 * MIN_NS, INFINITY), -EINVAL);
	CHECK_INT(fum_exposure_observe(&s, pp, T0 + 5 * MIN_NS, 50.0), -ERANGE);
	CHECK_INT(fum_exposure_observe(&s, pp, T0 + 9 * MIN_NS, 50.0), -ERANGE);
	CHECK_INT(s.nan_samples, 2);
	CHECK_INT(s.late_samples, 2);
	s.nan_samples = 0;
	s.late_samples = 0;
	CHECK(memcmp(&s, &before, sizeof(s)) == 0);

	fum_chamber_init(&c);
	CHECK_INT(fum_chamber_observe(&c, &cp, T0, 100.0), 0);
	cbefore = c;
	CHECK_INT(fum_chamber_observe(&c, &cp, T0 + MIN_NS, NAN), -EINVAL);
	CHECK_INT(fum_chamber_observe(&c, &cp, T0, 5000.0), -ERANGE);
	CHECK_INT(c.nan_samples, 1);
	CHECK_INT(c.late_samples, 1);
	c.nan_samples = 0;
	c.late_samples = 0;
	CHECK(memcmp(&c, &cbefore, sizeof(c)) == 0);
}

static void test_negative_readings_count_as_zero(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	struct fum_exposure_figures f;

	fum_exposure_init(&s, 0);
	feed(&s, &p, 0, 30, -0.2);
	fum_exposure_figures(&s, &p, T0 + 30 * MIN_NS, &f);
	CHECK(f.twa_ppm == 0.0 && f.stel_max_ppm == 0.0);
}

/* ∫ c dt (ppm·s) over the 900 s before e, each reading held to the next. */
static double brute_window(const int64_t *t, const double *c, int n, int64_t e)
{
	double sum = 0;

	for (int i = 0; i + 1 < n; i++) {
		int64_t a = t[i] > e - 900000000000LL ? t[i] : e - 900000000000LL, b = t[i + 1] < e ? t[i + 1] : e;
		if (b > a)
			sum += c[i] * (double)(b - a) / 1e9;
	}
	return sum;
}

/* Random dense readings: the ring's STEL against a brute-force scan of
 * every window ending on a 1-s grid (the readings lie on it). */
static void test_ring_stel_matches_brute_force_on_irregular_readings(void)
{
	struct fum_exposure_params p = osha();
	struct fum_exposure_state s;
	static double c[1500];
	static int64_t t[1500];
	double best = 0, err = 0;
	int n = 1500;
	struct fum_exposure_figures f;
	unsigned seed = 14;

	fum_exposure_init(&s, 0);
	t[0] = T0;
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		if (i)
			t[i] = t[i - 1] + (int64_t)(1 + (seed >> 16) % 30) * 1000000000LL;
		c[i] = (double)((seed >> 8) % 1000) / 100.0;
		CHECK_INT(fum_exposure_observe(&s, &p, t[i], c[i]), 0);
		fum_exposure_figures(&s, &p, t[i], &f);
		err = fmax(err, fabs(f.stel_ppm - brute_window(t, c, i + 1, t[i]) / 900));
	}
	for (int64_t e = t[0] + 1000000000LL; e <= t[n - 1]; e += 1000000000LL)
		best = fmax(best, brute_window(t, c, n, e) / 900);
	/* spread 10 ppm, ring 32: bound 2·10/32 */
	CHECK_NEAR(s.stel_max_ppm, best, 2 * 10.0 / FUM_RING_MAX);
	CHECK(err <= 2 * 10.0 / (FUM_RING_MAX - 1));
	CHECK(s.merges > 0);
	printf("    ring STEL max %.6f, brute force %.6f, %u merges; rolling STEL worst error %.4f ppm\n",
	       s.stel_max_ppm, best, s.merges, err);
}

static void test_s3_chamber_ct_of_the_30_min_series_is_3750_ppmh_and_9_826_g_h_m3(void)
{
	static const double c[] = { 0, 4000, 9000, 11000, 10000, 8000, 6000 };
	struct fum_chamber_params p = chamber();
	struct fum_chamber_state s;

	fum_chamber_init(&s);
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_NONE);
	for (int i = 0; i < 7; i++)
		CHECK_INT(fum_chamber_observe(&s, &p, T0 + i * 5 * MIN_NS, c[i]), 0);
	CHECK_NEAR(s.ct_ppmh, 3750, 0.5);
	CHECK_NEAR(fum_chamber_ct_g_h_m3(&s), 9.826, 0.0005);
	CHECK_NEAR(s.peak_ppm, 11000, 1e-9);
	CHECK_NEAR(s.exposure_h, 0.5, 1e-12);
	CHECK_NEAR(s.unmonitored_h, 0, 1e-12);
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_IN_WINDOW);
	p.ct_min_ppmh = 4000;
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_UNDER);
	p.ct_min_ppmh = 1000;
	p.ct_max_ppmh = 3000;
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_OVER);
	CHECK(!(fum_chamber_alarms(&s, &p, T0 + 30 * MIN_NS) & FUM_A_CT_OVER)); /* only at batch end */
	fum_chamber_set_phase(&s, FUM_PHASE_DONE, T0 + 30 * MIN_NS);
	CHECK(fum_chamber_alarms(&s, &p, T0 + 30 * MIN_NS) & FUM_A_CT_OVER);
}

static void test_s3_purge_10000_to_2_ppm_at_10_ach_takes_0_8517_h(void)
{
	double h = fum_purge_estimate_h(10000, 2, 10);

	CHECK_NEAR(h, 0.8517, 0.00005);
	CHECK_NEAR(h * 60, 51.10, 0.005);
	CHECK(fum_purge_estimate_h(1.5, 2, 10) == 0.0);
	CHECK(isnan(fum_purge_estimate_h(10000, 2, 0)));
	CHECK(isnan(fum_purge_estimate_h(NAN, 2, 10)));
}

static void test_s3_nominal_1_25_kg_s_per_t_in_30_m3_is_83_26_g_m3_or_31780_ppm(void)
{
	double g = fum_nominal_g_m3(1.25, 1.0, 30.0);

	CHECK_NEAR(g, 83.26, 0.005);
	CHECK_NEAR(fum_mg_m3_to_ppm(g * 1000), 31780, 5);
	CHECK_NEAR(FUM_M_SO2 / FUM_M_S, 1.998, 0.0005);
	CHECK_NEAR(fum_ppm_to_mg_m3(1.0), 2.620, 0.0005);
	CHECK(isnan(fum_nominal_g_m3(1.25, 1.0, 0.0)));
}

static void purge_run(struct fum_chamber_state *s, const struct fum_chamber_params *p, double ach_real, int minutes)
{
	fum_chamber_init(s);
	fum_chamber_observe(s, p, T0, 10000);
	fum_chamber_set_phase(s, FUM_PHASE_PURGE, T0);
	for (int m = 1; m <= minutes; m++)
		fum_chamber_observe(s, p, T0 + m * MIN_NS, 10000 * exp(-ach_real * m / 60.0));
}

static void test_purge_at_the_design_rate_is_ok_and_a_slow_one_is_a_ventilation_fault(void)
{
	struct fum_chamber_params p = chamber();
	struct fum_chamber_state s;

	purge_run(&s, &p, 10, 60); /* reaches 2 ppm at 52 min */
	CHECK_INT(fum_chamber_purge_verdict(&s, &p, T0 + 60 * MIN_NS), FUM_PURGE_OK);
	CHECK_NEAR(fum_chamber_purge_h(&s, T0 + 60 * MIN_NS), 52.0 / 60, 1e-9);
	CHECK(fum_chamber_entry_allowed(&s, &p, T0 + 60 * MIN_NS));
	CHECK(!(fum_chamber_alarms(&s, &p, T0 + 60 * MIN_NS) & FUM_A_PURGE_OVERDUE));

	purge_run(&s, &p, 5, 70); /* half the air changes: still 2.9 % of c0 at 70 min */
	CHECK_INT(fum_chamber_purge_verdict(&s, &p, T0 + 70 * MIN_NS), FUM_PURGE_RUNNING);
	CHECK_INT(fum_chamber_purge_verdict(&s, &p, T0 + 77 * MIN_NS), FUM_PURGE_OVERDUE); /* > 76.65 min */
	CHECK(fum_chamber_alarms(&s, &p, T0 + 77 * MIN_NS) & FUM_A_PURGE_OVERDUE);
	purge_run(&s, &p, 5, 110); /* reaches 2 ppm at 103 min */
	CHECK_INT(fum_chamber_purge_verdict(&s, &p, T0 + 110 * MIN_NS), FUM_PURGE_SLOW);
}

static void test_door_opened_above_the_entry_limit_alarms(void)
{
	struct fum_chamber_params p = chamber();
	struct fum_chamber_state s;

	fum_chamber_init(&s);
	fum_chamber_observe(&s, &p, T0, 30);
	fum_chamber_observe_door(&s, T0 + 1, 1);
	CHECK(!fum_chamber_entry_allowed(&s, &p, T0 + 1));
	CHECK(fum_chamber_alarms(&s, &p, T0 + 1) & FUM_A_DOOR);
	fum_chamber_observe(&s, &p, T0 + MIN_NS, 1.5);
	CHECK(!(fum_chamber_alarms(&s, &p, T0 + MIN_NS) & FUM_A_DOOR));
	/* no fresh reading: entry is not known to be safe */
	CHECK(fum_chamber_alarms(&s, &p, T0 + 30 * MIN_NS) & FUM_A_DOOR);
	fum_chamber_observe_door(&s, T0 + 31 * MIN_NS, 0);
	CHECK(!(fum_chamber_alarms(&s, &p, T0 + 31 * MIN_NS) & FUM_A_DOOR));
}

static void test_purge_fan_switch_on_enters_purge_at_its_own_reading_time(void)
{
	struct fum_chamber_params p = chamber();
	struct fum_chamber_state s;

	fum_chamber_init(&s);
	fum_chamber_set_phase(&s, FUM_PHASE_BURNING, T0);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0, 0), 0);
	fum_chamber_observe(&s, &p, T0 + 40 * MIN_NS, 10000);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 40 * MIN_NS + 1, 0.4), 0); /* < 0.5: off */
	CHECK_INT(s.phase, FUM_PHASE_BURNING);
	/* switched on: purge from this reading's time, c0 the chamber then;
	 * a chamber reading after it does not move the start */
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 41 * MIN_NS, 1), 1);
	CHECK_INT(s.phase, FUM_PHASE_PURGE);
	CHECK_INT(s.purge_start_ns, T0 + 41 * MIN_NS);
	CHECK_NEAR(s.purge_c0_ppm, 10000, 0);
	fum_chamber_observe(&s, &p, T0 + 42 * MIN_NS, 9000);
	CHECK_INT(s.purge_start_ns, T0 + 41 * MIN_NS);
	CHECK_NEAR(s.purge_c0_ppm, 10000, 0);
	CHECK_NEAR(fum_chamber_purge_h(&s, T0 + 51 * MIN_NS), 10.0 / 60, 1e-12);
	/* still on: no new switch-on; off then on again in PURGE: kept */
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 43 * MIN_NS, 1), 0);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 44 * MIN_NS, 0), 0);
	CHECK_INT(s.phase, FUM_PHASE_PURGE);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 45 * MIN_NS, 1), 0);
	CHECK_INT(s.purge_start_ns, T0 + 41 * MIN_NS);
	/* late and non-finite fan readings change nothing */
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 44 * MIN_NS, 0), -ERANGE);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 46 * MIN_NS, NAN), -EINVAL);
	CHECK_INT(s.fan_on, 1);
}

static void test_purge_fan_hand_marking_and_the_newest_event_win(void)
{
	struct fum_chamber_params p = chamber();
	struct fum_chamber_state s;

	/* a fan run before any gas is ventilation: loading stays */
	fum_chamber_init(&s);
	fum_chamber_observe(&s, &p, T0, 0.5);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 1, 1), 0);
	CHECK_INT(s.phase, FUM_PHASE_LOADING);
	CHECK_INT(s.purge_start_ns, 0);
	/* gas nobody marked as a burn: the fan's switch-on still purges */
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 2, 0), 0);
	fum_chamber_observe(&s, &p, T0 + MIN_NS, 800);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 2 * MIN_NS, 1), 1);
	CHECK_INT(s.phase, FUM_PHASE_PURGE);
	/* the operator marks hold (a fan test, say): the hand wins until the
	 * fan's next switch-on, which purges again (the first start is kept) */
	fum_chamber_set_phase(&s, FUM_PHASE_HOLD, T0 + 3 * MIN_NS);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 4 * MIN_NS, 1), 0);
	CHECK_INT(s.phase, FUM_PHASE_HOLD);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 5 * MIN_NS, 0), 0);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 6 * MIN_NS, 1), 1);
	CHECK_INT(s.phase, FUM_PHASE_PURGE);
	CHECK_INT(s.purge_start_ns, T0 + 2 * MIN_NS);
	/* done by hand: a switch-on afterwards does not reopen the batch */
	fum_chamber_set_phase(&s, FUM_PHASE_DONE, T0 + 7 * MIN_NS);
	fum_chamber_observe_fan(&s, &p, T0 + 8 * MIN_NS, 0);
	CHECK_INT(fum_chamber_observe_fan(&s, &p, T0 + 9 * MIN_NS, 1), 0);
	CHECK_INT(s.phase, FUM_PHASE_DONE);
}

static void test_flat_reading_while_burning_is_a_sensor_fault(void)
{
	struct fum_chamber_params p = chamber();
	struct fum_chamber_state s;

	fum_chamber_init(&s);
	fum_chamber_observe(&s, &p, T0, 0);
	fum_chamber_set_phase(&s, FUM_PHASE_BURNING, T0);
	for (int m = 1; m <= 9; m++)
		fum_chamber_observe(&s, &p, T0 + m * MIN_NS, 0.5); /* within 1 ppm: no change */
	CHECK(!fum_chamber_flat(&s, &p));
	fum_chamber_observe(&s, &p, T0 + 10 * MIN_NS, 0.5);
	CHECK(fum_chamber_flat(&s, &p));
	CHECK(fum_chamber_alarms(&s, &p, T0 + 10 * MIN_NS) & FUM_A_FLAT);
	fum_chamber_observe(&s, &p, T0 + 11 * MIN_NS, 800);
	CHECK(!fum_chamber_flat(&s, &p));
	/* flat while holding is no fault */
	for (int m = 12; m <= 40; m++)
		fum_chamber_observe(&s, &p, T0 + m * MIN_NS, 800);
	CHECK(fum_chamber_flat(&s, &p));
	fum_chamber_set_phase(&s, FUM_PHASE_HOLD, T0 + 40 * MIN_NS);
	CHECK(!fum_chamber_flat(&s, &p));
	CHECK_INT(fum_chamber_set_phase(&s, 99, T0), -EINVAL);
}

static void test_default_chamber_params_have_no_ct_window_and_no_purge_estimate(void)
{
	struct fum_chamber_params p;
	struct fum_chamber_state s;

	fum_chamber_params_default(&p);
	fum_chamber_init(&s);
	fum_chamber_observe(&s, &p, T0, 500);
	fum_chamber_observe(&s, &p, T0 + MIN_NS, 500);
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_IN_WINDOW);
	fum_chamber_set_phase(&s, FUM_PHASE_PURGE, T0 + MIN_NS);
	CHECK(isnan(fum_chamber_purge_estimate_h(&s, &p)));
	CHECK_INT(fum_chamber_purge_verdict(&s, &p, T0 + 100 * H_NS), FUM_PURGE_RUNNING);
}

static void test_chamber_gap_is_not_interpolated_and_can_make_the_verdict_uncertain(void)
{
	struct fum_chamber_params p = chamber();
	struct fum_chamber_state s;

	fum_chamber_init(&s);
	fum_chamber_observe(&s, &p, T0, 8000);
	fum_chamber_observe(&s, &p, T0 + 5 * MIN_NS, 8000);   /* 666.7 ppm·h */
	fum_chamber_observe(&s, &p, T0 + 35 * MIN_NS, 4000);  /* 30-min gap */
	CHECK_INT(s.gaps, 1);
	CHECK_NEAR(s.ct_ppmh, 8000.0 * 5 / 60, 1e-9);
	CHECK_NEAR(s.unmonitored_h, 0.5, 1e-12);
	CHECK_NEAR(s.gap_lo_ppmh, 2000, 1e-9);
	CHECK_NEAR(s.gap_hi_ppmh, 4000, 1e-9);
	/* 2666.7 .. 4666.7 straddles CT_min 3000 and CT_max 4500 */
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_UNCERTAIN);
	p.ct_min_ppmh = 2500;
	p.ct_max_ppmh = 5000;
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_IN_WINDOW);
	p.ct_min_ppmh = 5000;
	p.ct_max_ppmh = 9000;
	CHECK_INT(fum_chamber_ct_verdict(&s, &p), FUM_CT_UNDER);
	CHECK_STR(fum_ct_verdict_name(FUM_CT_UNDER), "under-treated");
}

int main(void)
{
	tl_prog = "unit/fumigation";
	RUN(test_s1_8h_twa_of_7h_at_0_5_and_1h_at_4_is_0_9375_ppm);
	RUN(test_s1_door_worker_10min_at_20_ppm_rest_at_0_3_is_0_7104_ppm);
	RUN(test_s2_stel_of_5x1_10x8_5x1_minutes_is_5_667_ppm);
	RUN(test_s2_stel_of_10x0_2_3x0_6_10x0_2_minutes_is_0_28_ppm);
	RUN(test_s2_with_one_second_samples_merges_the_ring_within_its_bound);
	RUN(test_rolling_stel_raises_the_alarm_and_falls_back);
	RUN(test_projected_twa_holds_the_current_reading_to_the_end_of_the_shift);
	RUN(test_idlh_and_ceiling_are_instantaneous);
	RUN(test_long_gap_outside_is_unmonitored_and_bounded_by_the_fill);
	RUN(test_time_from_shift_start_to_the_first_reading_is_unmonitored);
	RUN(test_nan_and_out_of_order_readings_are_counted_and_change_nothing);
	RUN(test_negative_readings_count_as_zero);
	RUN(test_ring_stel_matches_brute_force_on_irregular_readings);
	RUN(test_s3_chamber_ct_of_the_30_min_series_is_3750_ppmh_and_9_826_g_h_m3);
	RUN(test_s3_purge_10000_to_2_ppm_at_10_ach_takes_0_8517_h);
	RUN(test_s3_nominal_1_25_kg_s_per_t_in_30_m3_is_83_26_g_m3_or_31780_ppm);
	RUN(test_purge_at_the_design_rate_is_ok_and_a_slow_one_is_a_ventilation_fault);
	RUN(test_door_opened_above_the_entry_limit_alarms);
	RUN(test_flat_reading_while_burning_is_a_sensor_fault);
	RUN(test_purge_fan_switch_on_enters_purge_at_its_own_reading_time);
	RUN(test_purge_fan_hand_marking_and_the_newest_event_win);
	RUN(test_chamber_gap_is_not_interpolated_and_can_make_the_verdict_uncertain);
	RUN(test_default_chamber_params_have_no_ct_window_and_no_purge_estimate);
	return TL_DONE();
}
