/* test_drying.c - the drying model (daemon/models/drying.h) against every
 * verification vector of processing.md §4.4 (D1-D4), the online Lewis and
 * Page fits on synthetic curves, the load-cell filter, the schedule and the
 * §4.3 conditions, and bad input (NaN, late samples, gaps). */
#include "../../daemon/models/drying.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "testlib.h"

#define S_NS 1000000000LL
#define H_NS (3600LL * S_NS)
#define T0 (1781226000LL * S_NS) /* any epoch: a June 2026 start */

static struct drying_params lychee(void)
{
	struct drying_params p;

	drying_params_default(&p);
	p.mc_target_wb = 0.25;
	p.wet_margin = 0.02;
	p.dry_margin = 0.05;
	p.ratio_max = 1.0 / 3.0;
	p.xe = 0.10;
	p.filter_window_s = 300;
	p.rate_window_h = 1.0;
	p.initial_rate_h = 6.0;
	p.stall_frac = 0.10;
	p.rise_frac = 0.005;
	p.stuck_h = 2.0;
	p.stuck_frac = 0.0005; /* 0.05 kg of 100 kg */
	p.stuck_air_c = 50.0;
	p.fit_mr_min = 0.02;
	p.fit_mr_max = 0.98;
	p.fit_min_points = 6;
	p.fit_min_span_h = 1.0;
	p.fit_min_r2 = 0.9;
	p.initial_phase_h = 4.0;
	p.scorch_c = 80.0;
	p.scorch_abs_c = 100.0;
	p.scorch_undelayed_k = 10.0;
	p.fast_start_h = 2.0;
	p.fast_start_c = 60.0;
	p.exhaust_rh_max = 90.0;
	p.tempering_min_h = 4.0;
	p.dt_cap_s = 900;
	/* The CN chamber schedule of §4.1 */
	p.nstages = 4;
	p.stages[0] = (struct drying_stage){ "slow start", 4, 50, 58, 60, 0 };
	p.stages[1] = (struct drying_stage){ "main", 8, 60, 68, 30, 0 };
	p.stages[2] = (struct drying_stage){ "temper", 5, NAN, 40, NAN, 1 };
	p.stages[3] = (struct drying_stage){ "finish", 0, 60, 68, NAN, 0 };
	return p;
}

/* A deterministic ±amp kg noise (an LCG: the runs repeat). */
static double noise(uint32_t *seed, double amp)
{
	*seed = *seed * 1664525u + 1013904223u;
	return amp * (2.0 * (double)(*seed >> 8) / 16777216.0 - 1.0);
}

/* Feeds a mass curve m_ds·(1 + X(t)), X from MR(t), every step_s for hours. */
static void feed_curve(struct drying_state *s, const struct drying_params *p, double k, double n, double hours,
		       int step_s, double amp)
{
	uint32_t seed = 12345;
	double x0 = drying_mc_db(s->m0_kg, s->m_ds_kg);

	for (int64_t t = 0; t <= (int64_t)(hours * 3600); t += step_s) {
		double mr = drying_page_mr(k, n, (double)t / 3600.0);
		double x = p->xe + (x0 - p->xe) * mr;
		drying_observe_mass(s, p, T0 + t * S_NS, s->m_ds_kg * (1.0 + x) + noise(&seed, amp));
	}
}

static void test_d1_moisture_from_load_cell_28_percent_wb_and_target_masses(void)
{
	double m_ds = drying_dry_solids(100.0, 0.82);

	CHECK_NEAR(m_ds, 18.0, 1e-9);
	CHECK_NEAR(drying_mc_wb(25.0, m_ds) * 100.0, 28.00, 0.005);
	CHECK_NEAR(drying_mc_db(25.0, m_ds), 0.3889, 0.00005);
	CHECK_NEAR(drying_wb_from_db(drying_mc_db(25.0, m_ds)), 0.28, 1e-12);
	CHECK_NEAR(drying_db_from_wb(0.28), 0.3889, 0.00005);
	CHECK_NEAR(drying_target_mass(m_ds, 0.20), 22.50, 0.005);
	CHECK_NEAR(drying_target_mass(m_ds, 0.25), 24.00, 0.005);
	CHECK_NEAR(drying_target_mass(m_ds, 0.18), 21.95, 0.005);
}

static void test_d2_lewis_49_16h_and_page_45_76h_to_25_percent(void)
{
	double x0 = drying_db_from_wb(0.82), xt = drying_db_from_wb(0.25), mr = drying_moisture_ratio(xt, x0, 0.10);

	CHECK_NEAR(x0, 4.556, 0.0005);
	CHECK_NEAR(xt, 0.3333, 0.00005);
	CHECK_NEAR(mr, 0.05237, 0.000005);
	CHECK_NEAR(drying_lewis_time_h(0.06, mr), 49.16, 0.005);
	CHECK_NEAR(drying_page_time_h(0.03, 1.2, mr), 45.76, 0.005);
	CHECK_NEAR(drying_lewis_mr(0.06, drying_lewis_time_h(0.06, mr)), mr, 1e-12);
	CHECK_NEAR(drying_page_mr(0.03, 1.2, drying_page_time_h(0.03, 1.2, mr)), mr, 1e-12);
	/* Edges: already there, never there. */
	CHECK(drying_lewis_time_h(0.06, 1.0) == 0.0);
	CHECK(isinf(drying_lewis_time_h(0.06, 0.0)));
	CHECK(isinf(drying_page_time_h(0.0, 1.2, 0.5)));
}

/* P = 101 325 Pa (standard atmosphere, DRYING_P_STD_PA). */
static void test_d3_exhaust_balance_removes_99_16kg_per_h_at_1kg_s(void)
{
	double w_in = drying_humidity_ratio(30.0, 80.0, DRYING_P_STD_PA);
	double w_out = drying_humidity_ratio(50.0, 60.0, DRYING_P_STD_PA);

	CHECK_NEAR(w_in, 0.02151, 0.000005);
	CHECK_NEAR(drying_rh_heated(30.0, 80.0, 75.0), 8.7, 0.05);
	CHECK_NEAR(w_out, 0.04906, 0.000005);
	CHECK_NEAR(drying_water_rate_kg_h(1.0, w_in, w_out), 99.16, 0.005);
	CHECK(isnan(drying_humidity_ratio(30.0, 101.0, DRYING_P_STD_PA)));
	CHECK(isnan(drying_humidity_ratio(120.0, 100.0, DRYING_P_STD_PA))); /* p_v above P */
}

static void test_d3_cumulative_water_over_an_hour_of_readings_is_99_16kg(void)
{
	struct drying_params p = lychee();
	struct drying_state s;

	drying_state_init(&s, T0, 100.0, 0.82);
	CHECK_INT(drying_observe_ambient(&s, &p, T0, 30.0, 80.0), 0);
	for (int i = 0; i <= 60; i++)
		CHECK_INT(drying_observe_exhaust(&s, &p, T0 + i * 60 * S_NS, 50.0, 60.0, 1.0), 0);
	CHECK_NEAR(s.water_kg_h, 99.16, 0.005);
	CHECK_NEAR(s.water_kg, 99.16, 0.005);
	CHECK(s.balance_gap_h == 0.0);
}

static void test_d4_mass_ratio_endpoints(void)
{
	CHECK_NEAR(drying_mass_ratio(3.0), 0.3333, 0.00005);
	CHECK_NEAR(drying_mass_ratio(3.2), 0.3125, 0.00005);
	CHECK_NEAR(drying_mass_ratio(4.5), 0.2222, 0.00005);
}

static void test_psychro_saturation_pressure_is_the_magnus_form_of_domain_md(void)
{
	/* drying uses psychro_sat_pressure: 611.2·exp(17.62 T/(243.12 + T)) */
	CHECK_NEAR(drying_humidity_ratio(20.0, 100.0, 101325.0),
		   0.622 * 611.2 * exp(17.62 * 20.0 / 263.12) / (101325.0 - 611.2 * exp(17.62 * 20.0 / 263.12)), 1e-15);
}

static void test_online_lewis_fit_recovers_k_within_1_percent_from_a_noisy_curve(void)
{
	struct drying_params p = lychee();
	struct drying_state s;
	double k = 0, n = 0, r2 = 0, eta;

	drying_state_init(&s, T0, 100.0, 0.82);
	feed_curve(&s, &p, 0.06, 1.0, 30.0, 30, 0.02);
	CHECK_INT(drying_fit_lewis(&s, &p, &k, &r2), 0);
	CHECK_NEAR(k, 0.06, 0.0006);
	CHECK(r2 > 0.99);
	/* 30 h in, the ETA is the rest of D2's 49.16 h. */
	eta = drying_eta_h(&s, &p, DRYING_LEWIS, T0 + 30 * H_NS);
	CHECK_NEAR(eta, 49.16 - 30.0, 0.01 * 19.16);
	/* The Page fit of a Lewis curve finds n = 1. */
	CHECK_INT(drying_fit_page(&s, &p, &k, &n, NULL), 0);
	CHECK_NEAR(k, 0.06, 0.0006);
	CHECK_NEAR(n, 1.0, 0.01);
}

static void test_online_page_fit_recovers_k_and_n_within_1_percent(void)
{
	struct drying_params p = lychee();
	struct drying_state s;
	double k = 0, n = 0, r2 = 0;

	drying_state_init(&s, T0, 100.0, 0.82);
	feed_curve(&s, &p, 0.03, 1.2, 40.0, 30, 0.02);
	CHECK_INT(drying_fit_page(&s, &p, &k, &n, &r2), 0);
	CHECK_NEAR(k, 0.03, 0.0003);
	CHECK_NEAR(n, 1.2, 0.012);
	CHECK(r2 > 0.99);
	CHECK_NEAR(drying_eta_h(&s, &p, DRYING_PAGE, T0 + 40 * H_NS), 45.76 - 40.0, 0.01 * 45.76);
	/* Dried past the target: nothing left. */
	feed_curve(&s, &p, 0.03, 1.2, 60.0, 30, 0.0);
	CHECK(drying_eta_h(&s, &p, DRYING_PAGE, T0 + 60 * H_NS) == 0.0);
}

static void test_fit_waits_for_enough_points_and_span(void)
{
	struct drying_params p = lychee();
	struct drying_state s;
	double k = -1, n = -1;

	drying_state_init(&s, T0, 100.0, 0.82);
	CHECK_INT(drying_fit_lewis(&s, &p, &k, NULL), -EAGAIN);
	feed_curve(&s, &p, 0.06, 1.0, 0.5, 30, 0.0); /* 6 points, 0.4 h span */
	CHECK_INT(drying_fit_lewis(&s, &p, &k, NULL), -EAGAIN);
	CHECK_INT(drying_fit_page(&s, &p, &k, &n, NULL), -EAGAIN);
	CHECK(k == -1 && n == -1);
	CHECK(isnan(drying_eta_h(&s, &p, DRYING_LEWIS, T0 + H_NS)));
}

static void test_unknown_initial_moisture_fits_nothing_but_judges_the_mass_ratio(void)
{
	struct drying_params p = lychee();
	struct drying_state s;
	double k;

	drying_state_init(&s, T0, 300.0, NAN);
	for (int i = 0; i <= 120; i++)
		drying_observe_mass(&s, &p, T0 + i * 60 * S_NS, 300.0 - i * 1.0);
	CHECK_INT(drying_fit_lewis(&s, &p, &k, NULL), -ENODATA);
	CHECK(isnan(drying_now_mc_wb(&s)));
	CHECK(isnan(drying_eta_h(&s, &p, DRYING_LEWIS, T0 + 2 * H_NS)));
	CHECK(drying_unload_verdict(&s, &p) & DRYING_V_WET); /* m/m0 ≈ 0.6 > 1/3 */
	for (int i = 121; i <= 210; i++)
		drying_observe_mass(&s, &p, T0 + i * 60 * S_NS, i >= 205 ? 95.0 : 300.0 - i * 1.0);
	CHECK_NEAR(drying_now_mass_ratio(&s), 95.0 / 300.0, 1e-9);
	CHECK(!(drying_unload_verdict(&s, &p) & DRYING_V_WET));
}

static void test_target_at_or_below_equilibrium_moisture_is_unreachable(void)
{
	struct drying_params p = lychee();
	struct drying_state s;

	drying_state_init(&s, T0, 100.0, 0.82);
	feed_curve(&s, &p, 0.06, 1.0, 10.0, 30, 0.0);
	p.mc_target_wb = 0.05; /* X 0.0526 < Xe 0.10 */
	CHECK(isinf(drying_eta_h(&s, &p, DRYING_LEWIS, T0 + 10 * H_NS)));
}

static void test_running_mean_filters_noise_and_slides_with_bounded_memory(void)
{
	struct drying_params p = lychee();
	struct drying_state s;
	uint32_t seed = 7;

	drying_state_init(&s, T0, 50.0, 0.8);
	for (int i = 0; i < 300; i++) /* 5 min at 1 Hz, ±0.5 kg of vibration */
		drying_observe_mass(&s, &p, T0 + i * S_NS, 50.0 + noise(&seed, 0.5));
	CHECK_NEAR(s.mass_kg, 50.0, 0.05);
	CHECK(fabs(s.mass_raw_kg - 50.0) > 0.0);
	/* A step to 40 kg: after one window the mean is the new mass. */
	for (int i = 300; i < 601; i++)
		drying_observe_mass(&s, &p, T0 + i * S_NS, 40.0);
	CHECK_NEAR(s.mass_kg, 40.0, 1e-9);
	CHECK_NEAR(s.mass_raw_kg, 40.0, 1e-9);
	CHECK(s.n_mass == 601);
}

static void test_nan_and_late_samples_are_ignored_counted_and_change_nothing(void)
{
	struct drying_params p = lychee();
	struct drying_state s, before;

	drying_state_init(&s, T0, 100.0, 0.82);
	feed_curve(&s, &p, 0.06, 1.0, 5.0, 60, 0.0);
	before = s;
	CHECK_INT(drying_observe_mass(&s, &p, T0 + 6 * H_NS, NAN), -1);
	CHECK_INT(drying_observe_mass(&s, &p, T0 + 6 * H_NS, INFINITY), -1);
	CHECK_INT(drying_observe_mass(&s, &p, T0 + 4 * H_NS, 60.0), -1); /* out of order */
	CHECK_INT(drying_observe_mass(&s, &p, T0 - H_NS, 60.0), -1);     /* before the start */
	CHECK_INT(drying_observe_air(&s, &p, T0 + H_NS, NAN, 30.0), -1);
	CHECK_INT(drying_observe_ambient(&s, &p, T0 + H_NS, 30.0, 140.0), -1); /* probe fault */
	CHECK_INT(drying_observe_exhaust(&s, &p, T0 + H_NS, 50.0, 60.0, NAN), -1);
	CHECK_INT(s.bad_samples, 5);
	CHECK_INT(s.late_samples, 2);
	s.bad_samples = before.bad_samples;
	s.late_samples = before.late_samples;
	CHECK(memcmp(&s, &before, sizeof(s)) == 0);
}

static void test_long_gaps_restart_the_filter_and_are_not_integrated_in_the_balance(void)
{
	struct drying_params p = lychee();
	struct drying_state s;

	drying_state_init(&s, T0, 100.0, 0.82);
	for (int i = 0; i < 300; i++)
		drying_observe_mass(&s, &p, T0 + i * S_NS, 100.0);
	drying_observe_mass(&s, &p, T0 + 3 * H_NS, 70.0); /* the load cell was off for 3 h */
	CHECK_NEAR(s.mass_kg, 70.0, 1e-9);
	drying_observe_ambient(&s, &p, T0, 30.0, 80.0);
	drying_observe_exhaust(&s, &p, T0, 50.0, 60.0, 1.0);
	drying_observe_exhaust(&s, &p, T0 + 2 * H_NS, 50.0, 60.0, 1.0); /* 2 h gap, cap 15 min */
	CHECK_NEAR(s.water_kg, 99.16 * 0.25, 0.01);
	CHECK_NEAR(s.balance_gap_h, 1.75, 1e-9);
	/* Exhaust readings without an ambient one: counted, not guessed. */
	drying_state_init(&s, T0, 100.0, 0.82);
	drying_observe_exhaust(&s, &p, T0, 50.0, 60.0, 1.0);
	drying_observe_exhaust(&s, &p, T0 + 600 * S_NS, 50.0, 60.0, 1.0);
	CHECK(s.water_kg == 0.0);
	CHECK_NEAR(s.balance_gap_h, 600.0 / 3600.0, 1e-9);
}

static void test_schedule_gives_the_stage_and_whether_the_air_is_within_it(void)
{
	struct drying_params p = lychee();
	double into = -1;

	CHECK_INT(drying_params_check(&p), 0);
	CHECK_INT(drying_stage_at(&p, 0.0, &into), 0);
	CHECK_INT(drying_stage_at(&p, 3.99, NULL), 0);
	CHECK_INT(drying_stage_at(&p, 4.0, &into), 1);
	CHECK_NEAR(into, 0.0, 1e-12);
	CHECK_INT(drying_stage_at(&p, 13.0, &into), 2);
	CHECK_NEAR(into, 1.0, 1e-12);
	CHECK_INT(drying_stage_at(&p, 100.0, &into), 3); /* the open-ended last stage holds */
	CHECK_NEAR(into, 83.0, 1e-12);
	CHECK(isinf(drying_schedule_h(&p)));
	CHECK_STR(p.stages[drying_stage_at(&p, 5.0, NULL)].name, "main");
	CHECK_INT(drying_air_in_stage(&p, 0, 55.0), 1);
	CHECK_INT(drying_air_in_stage(&p, 0, 62.0), 0);
	CHECK_INT(drying_air_in_stage(&p, 2, 20.0), 1); /* tempering: no minimum */
	CHECK_INT(drying_air_in_stage(&p, 4, 20.0), -1);
	p.nstages = 0;
	CHECK_INT(drying_stage_at(&p, 1.0, NULL), -1);
}

static void test_params_check_refuses_unusable_windows_and_schedules(void)
{
	struct drying_params p = lychee();

	p.filter_window_s = 0;
	CHECK_INT(drying_params_check(&p), -EINVAL);
	p = lychee();
	p.stages[1].duration_h = INFINITY; /* open-ended but not last */
	CHECK_INT(drying_params_check(&p), -EINVAL);
	p = lychee();
	p.nstages = DRYING_STAGES_MAX + 1;
	CHECK_INT(drying_params_check(&p), -EINVAL);
	drying_params_default(&p);
	CHECK_INT(drying_params_check(&p), -EINVAL); /* the profile must give the windows */
}

static void test_scorch_is_judged_after_the_initial_phase_and_the_absolute_max_always(void)
{
	struct drying_params p = lychee();
	struct drying_state s;

	drying_state_init(&s, T0, 100.0, 0.82);
	CHECK_INT(drying_scorch_level(&s, &p, T0), 0); /* no air reading yet */
	drying_observe_air(&s, &p, T0 + H_NS, 85.0, NAN);
	CHECK_INT(drying_scorch_level(&s, &p, T0 + H_NS), 0); /* initial phase */
	CHECK(drying_verdicts(&s, &p, T0 + H_NS) & DRYING_V_FAST_START);
	drying_observe_air(&s, &p, T0 + H_NS + 1, 101.0, NAN);
	CHECK_INT(drying_scorch_level(&s, &p, T0 + H_NS), 2); /* above 100 °C ever */
	drying_observe_air(&s, &p, T0 + 5 * H_NS, 85.0, NAN);
	CHECK_INT(drying_scorch_level(&s, &p, T0 + 5 * H_NS), 1);
	CHECK(!drying_is_fast_start(&s, &p, T0 + 5 * H_NS));
	drying_observe_air(&s, &p, T0 + 6 * H_NS, 91.0, NAN);
	CHECK_INT(drying_scorch_level(&s, &p, T0 + 6 * H_NS), 2); /* +10 K: undelayed */
	CHECK(drying_verdicts(&s, &p, T0 + 6 * H_NS) & DRYING_V_SCORCH_HIGH);
	CHECK(drying_verdicts(&s, &p, T0 + 6 * H_NS) & DRYING_V_STAGE_HOT);
	drying_observe_air(&s, &p, T0 + 7 * H_NS, 65.0, NAN);
	CHECK_INT(drying_scorch_level(&s, &p, T0 + 7 * H_NS), 0);
	CHECK(!(drying_verdicts(&s, &p, T0 + 7 * H_NS) & (DRYING_V_STAGE_HOT | DRYING_V_STAGE_HUMID)));
	drying_observe_air(&s, &p, T0 + 8 * H_NS, 65.0, 45.0); /* main stage: RH ≤ 30 % */
	CHECK(drying_verdicts(&s, &p, T0 + 8 * H_NS) & DRYING_V_STAGE_HUMID);
	CHECK_NEAR(s.air_max_c, 101.0, 1e-12);
}

static void test_stall_by_cold_air_and_by_collapsed_drying_rate(void)
{
	struct drying_params p = lychee();
	struct drying_state s;
	double m = 100.0;
	int64_t t;

	drying_state_init(&s, T0, 100.0, 0.82);
	drying_observe_air(&s, &p, T0 + 5 * H_NS, 45.0, NAN); /* main stage needs 60 °C */
	CHECK(drying_stall(&s, &p, T0 + 5 * H_NS) & DRYING_V_STALL_COLD);
	drying_observe_air(&s, &p, T0 + 13 * H_NS, 30.0, NAN); /* tempering: a rest, not a stall */
	CHECK(!(drying_stall(&s, &p, T0 + 13 * H_NS) & DRYING_V_STALL_COLD));
	/* 3 kg/h for 6 h, then 0.2 kg/h: < 10 % of the initial rate at 78 % wb */
	drying_state_init(&s, T0, 100.0, 0.82);
	for (t = 0; t <= 10 * 3600; t += 60) {
		drying_observe_mass(&s, &p, T0 + t * S_NS, m);
		m -= t < 6 * 3600 ? 3.0 / 60.0 : 0.2 / 60.0;
	}
	CHECK_NEAR(s.rate_initial_kg_h, 3.0, 0.01);
	CHECK_NEAR(s.rate_kg_h, 0.2, 0.01);
	CHECK(drying_stall(&s, &p, T0 + 10 * H_NS) & DRYING_V_STALL_RATE);
	p.mc_target_wb = 0.80; /* already below the target: slowing down is expected */
	CHECK(!(drying_stall(&s, &p, T0 + 10 * H_NS) & DRYING_V_STALL_RATE));
}

static void test_exhaust_saturation_and_open_air_weather_conditions(void)
{
	struct drying_params p = lychee();
	struct drying_state s;

	drying_state_init(&s, T0, 100.0, 0.82);
	CHECK(!drying_is_exhaust_saturated(&s, &p));
	drying_observe_exhaust(&s, &p, T0, 40.0, 95.0, 1.0);
	CHECK(drying_is_exhaust_saturated(&s, &p));
	drying_observe_ambient(&s, &p, T0, 28.0, 85.0);
	CHECK(!drying_is_open_air_wet(&s, &p)); /* not an open-air process: limit NaN */
	p.outdoor_rh_max = 80.0;
	CHECK(drying_is_open_air_wet(&s, &p));
	CHECK(drying_verdicts(&s, &p, T0) & DRYING_V_OPEN_AIR_WET);
	drying_observe_ambient(&s, &p, T0 + H_NS, 30.0, 70.0);
	CHECK(!drying_is_open_air_wet(&s, &p));
}

static void test_load_cell_fault_on_a_rise_without_loading_and_when_stuck_hot(void)
{
	struct drying_params p = lychee();
	struct drying_state s;
	int64_t t;

	drying_state_init(&s, T0, 100.0, 0.82);
	for (t = 0; t <= 3600; t += 10)
		drying_observe_mass(&s, &p, T0 + t * S_NS, 100.0 - (double)t / 3600.0);
	CHECK(drying_loadcell_fault(&s, &p, T0 + H_NS) == 0);
	for (t = 3610; t <= 4800; t += 10) /* +1 kg: 1 % on 99 kg */
		drying_observe_mass(&s, &p, T0 + t * S_NS, 100.0);
	CHECK(drying_loadcell_fault(&s, &p, T0 + 4800 * S_NS) & DRYING_V_LOADCELL_RISE);
	drying_mark_loading(&s, T0 + 4800 * S_NS); /* it was a top-up */
	for (t = 4810; t <= 5400; t += 10)
		drying_observe_mass(&s, &p, T0 + t * S_NS, 100.0);
	CHECK(!(drying_loadcell_fault(&s, &p, T0 + 5400 * S_NS) & DRYING_V_LOADCELL_RISE));
	/* Unchanged for 2 h at 65 °C: stuck. */
	drying_observe_air(&s, &p, T0 + 5400 * S_NS, 65.0, NAN);
	for (t = 5410; t <= 5400 + 2 * 3600 + 600; t += 10)
		drying_observe_mass(&s, &p, T0 + t * S_NS, 100.0);
	CHECK(drying_loadcell_fault(&s, &p, T0 + (5400 + 2 * 3600 + 600) * S_NS) & DRYING_V_LOADCELL_STUCK);
	p.stuck_frac = NAN; /* no change threshold in the profile: never judged stuck */
	CHECK(!(drying_loadcell_fault(&s, &p, T0 + (5400 + 2 * 3600 + 600) * S_NS) & DRYING_V_LOADCELL_STUCK));
	p.stuck_frac = 0.0005;
	drying_observe_air(&s, &p, T0 + (5400 + 2 * 3600 + 600) * S_NS, 30.0, NAN);
	CHECK(!(drying_loadcell_fault(&s, &p, T0 + (5400 + 2 * 3600 + 600) * S_NS) & DRYING_V_LOADCELL_STUCK));
}

/* A load cell creeping 0.3 % of m0 an hour at 65 °C, on a batch started
 * without --mass (m0 is the first filtered mass, 200 kg): over 2 h it moves
 * 1.2 kg, more than a 0.5 % band (1 kg), so it is not stuck; with a 1 %
 * band (2 kg) it is.  The band is the profile's, relative to m0. */
static int creep_stuck(double band_frac)
{
	struct drying_params p = lychee();
	struct drying_state s;
	int64_t t, end = 2 * 3600 + 600;

	p.stuck_frac = band_frac;
	drying_state_init(&s, T0, NAN, 0.82);
	drying_observe_air(&s, &p, T0, 65.0, NAN);
	for (t = 0; t <= end; t += 10)
		drying_observe_mass(&s, &p, T0 + t * S_NS, 200.0 - 0.6 * (double)t / 3600.0);
	CHECK(fabs(s.m0_kg - 200.0) < 0.1); /* the first filtered point, 5 min in */
	return (drying_loadcell_fault(&s, &p, T0 + end * S_NS) & DRYING_V_LOADCELL_STUCK) != 0;
}

static void test_load_cell_stuck_band_is_a_fraction_of_m0_even_without_a_starting_mass(void)
{
	CHECK(!creep_stuck(0.005));
	CHECK(creep_stuck(0.01));
}

static void mass_for(struct drying_state *s, const struct drying_params *p, double kg)
{
	for (int i = 0; i <= 300; i++)
		drying_observe_mass(s, p, T0 + (int64_t)(s->n_mass) * S_NS, kg);
}

static void test_pulled_wet_over_dried_and_untempered_at_unload(void)
{
	struct drying_params p = lychee();
	struct drying_state s;

	drying_state_init(&s, T0, 100.0, 0.82);
	p.ratio_max = NAN;
	mass_for(&s, &p, 25.0); /* 28 % wb > 25 + 2 */
	CHECK(drying_unload_verdict(&s, &p) & DRYING_V_WET);
	mass_for(&s, &p, 24.3); /* 25.9 % wb: within the margin */
	CHECK(!(drying_unload_verdict(&s, &p) & DRYING_V_WET));
	CHECK(!drying_is_overdried(&s, &p));
	mass_for(&s, &p, 21.0); /* 14.3 % wb < 25 − 5 */
	CHECK(drying_is_overdried(&s, &p));
	CHECK(drying_unload_verdict(&s, &p) & DRYING_V_NO_TEMPERING);
	/* Rested 5 h at ≤ 40 °C in the temper stage (12-17 h). */
	for (int h = 12; h <= 17; h++)
		drying_observe_air(&s, &p, T0 + h * H_NS + 1, h == 12 ? 65.0 : 35.0, NAN);
	CHECK_NEAR(s.tempering_h, 0.25 * 4, 1e-6); /* hourly readings capped at 15 min each */
	p.dt_cap_s = 3600;
	drying_state_init(&s, T0, 100.0, 0.82);
	for (int h = 12; h <= 18; h++)
		drying_observe_air(&s, &p, T0 + h * H_NS + 1, h == 12 ? 65.0 : 35.0, NAN);
	CHECK_NEAR(s.tempering_h, 4.0, 1e-6);
	CHECK(!(drying_unload_verdict(&s, &p) & DRYING_V_NO_TEMPERING));
}

static void test_checkpointed_state_resumes_exactly(void)
{
	struct drying_params p = lychee();
	struct drying_state a, b;
	double ka, kb;

	drying_state_init(&a, T0, 100.0, 0.82);
	feed_curve(&a, &p, 0.06, 1.0, 10.0, 60, 0.01);
	memcpy(&b, &a, sizeof(b)); /* plain numbers: a checkpoint is a copy */
	for (int64_t t = 10 * 3600 + 60; t <= 20 * 3600; t += 60) {
		double m = 18.0 * (1.0 + 0.1 + (4.5556 - 0.1) * exp(-0.06 * (double)t / 3600.0));
		drying_observe_mass(&a, &p, T0 + t * S_NS, m);
		drying_observe_mass(&b, &p, T0 + t * S_NS, m);
	}
	CHECK_INT(drying_fit_lewis(&a, &p, &ka, NULL), 0);
	CHECK_INT(drying_fit_lewis(&b, &p, &kb, NULL), 0);
	CHECK(ka == kb);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

/* A checkpoint read back damaged (a filter bin index absurd or ahead of the
 * readings) restarts the load-cell filter instead of indexing out of it. */
static void test_a_damaged_filter_index_restarts_the_filter(void)
{
	static const int64_t bad[] = { INT64_MIN, -1, INT64_MAX, 1000000 };
	struct drying_params p = lychee();

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct drying_state s;
		drying_state_init(&s, T0, 100.0, 0.82);
		CHECK_INT(drying_observe_mass(&s, &p, T0 + 60 * S_NS, 90.0), 0);
		s.bin_abs = bad[k];
		CHECK_INT(drying_observe_mass(&s, &p, T0 + 120 * S_NS, 80.0), 0);
		CHECK_NEAR(s.mass_kg, 80.0, 1e-9);
	}
}

int main(void)
{
	tl_prog = "unit/drying";
	RUN(test_d1_moisture_from_load_cell_28_percent_wb_and_target_masses);
	RUN(test_d2_lewis_49_16h_and_page_45_76h_to_25_percent);
	RUN(test_d3_exhaust_balance_removes_99_16kg_per_h_at_1kg_s);
	RUN(test_d3_cumulative_water_over_an_hour_of_readings_is_99_16kg);
	RUN(test_d4_mass_ratio_endpoints);
	RUN(test_psychro_saturation_pressure_is_the_magnus_form_of_domain_md);
	RUN(test_online_lewis_fit_recovers_k_within_1_percent_from_a_noisy_curve);
	RUN(test_online_page_fit_recovers_k_and_n_within_1_percent);
	RUN(test_fit_waits_for_enough_points_and_span);
	RUN(test_unknown_initial_moisture_fits_nothing_but_judges_the_mass_ratio);
	RUN(test_target_at_or_below_equilibrium_moisture_is_unreachable);
	RUN(test_running_mean_filters_noise_and_slides_with_bounded_memory);
	RUN(test_nan_and_late_samples_are_ignored_counted_and_change_nothing);
	RUN(test_long_gaps_restart_the_filter_and_are_not_integrated_in_the_balance);
	RUN(test_schedule_gives_the_stage_and_whether_the_air_is_within_it);
	RUN(test_params_check_refuses_unusable_windows_and_schedules);
	RUN(test_scorch_is_judged_after_the_initial_phase_and_the_absolute_max_always);
	RUN(test_stall_by_cold_air_and_by_collapsed_drying_rate);
	RUN(test_exhaust_saturation_and_open_air_weather_conditions);
	RUN(test_load_cell_fault_on_a_rise_without_loading_and_when_stuck_hot);
	RUN(test_load_cell_stuck_band_is_a_fraction_of_m0_even_without_a_starting_mass);
	RUN(test_pulled_wet_over_dried_and_untempered_at_unload);
	RUN(test_checkpointed_state_resumes_exactly);
	RUN(test_a_damaged_filter_index_restarts_the_filter);
	return TL_DONE();
}
