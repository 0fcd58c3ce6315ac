/* test_models.c - the spoilage models against every verification vector of
 * domain.md §3 (and the derived lychee defaults of §2), plus the gap,
 * clamp and accumulator rules. */
#include "../../daemon/models/shelflife.h"

#include <stdint.h>

#include "../../daemon/models/psychro.h"
#include "testlib.h"

#define H_NS (3600LL * 1000000000LL)

static struct sl_params lychee(void)
{
	struct sl_params p = { .kind = SL_ARRHENIUS, .t_ref_c = 3.5, .sl_ref_h = 28 * 24.0, .ea_j_mol = 75000.0,
			       .valid_min_c = 1.0, .valid_max_c = 35.0 };
	return p;
}

static void test_square_root_model_21d_at_5c_is_47_25d_at_0c(void)
{
	struct sl_params p = { .kind = SL_SQRT, .t_ref_c = 5, .sl_ref_h = 21 * 24.0, .t_min_c = -10,
			       .valid_min_c = -20, .valid_max_c = 40 };
	CHECK_NEAR(sl_life_h(&p, 0.0) / 24.0, 47.25, 0.005);
	/* At or below T_min nothing grows: infinite life, rate 0. */
	CHECK(sl_rate(&p, -10.0) == 0.0);
	CHECK(isinf(sl_life_h(&p, -12.0)));
}

static void test_arrhenius_100kj_21d_at_5c_is_46_34d_at_0c(void)
{
	struct sl_params p = { .kind = SL_ARRHENIUS, .t_ref_c = 5, .sl_ref_h = 21 * 24.0, .ea_j_mol = 100000,
			       .valid_min_c = -20, .valid_max_c = 40 };
	CHECK_NEAR(sl_life_h(&p, 0.0) / 24.0, 46.34, 0.005);
	CHECK_NEAR(sl_rate(&p, 5.0), 1.0, 1e-12);
}

static void test_lychee_arrhenius_defaults_match_domain_table(void)
{
	struct sl_params p = lychee();
	p.valid_min_c = -5; /* the table's 0 °C entry lies below the validity range */
	CHECK_NEAR(sl_life_h(&p, 0.0) / 24.0, 42.5, 0.05);
	CHECK_NEAR(sl_life_h(&p, 5.0) / 24.0, 23.5, 0.05);
	CHECK_NEAR(sl_life_h(&p, 10.0) / 24.0, 13.2, 0.05);
	CHECK_NEAR(sl_life_h(&p, 20.0) / 24.0, 4.5, 0.05);
	CHECK_NEAR(sl_life_h(&p, 30.0) / 24.0, 1.6, 0.05);
	CHECK_NEAR(sl_life_h(&p, 35.0) / 24.0, 1.0, 0.05);
}

static void test_q10_rate_ratio(void)
{
	struct sl_params p = { .kind = SL_Q10, .t_ref_c = 5, .sl_ref_h = 100, .q10 = 3,
			       .valid_min_c = -10, .valid_max_c = 40 };
	CHECK_NEAR(sl_rate(&p, 15.0), 3.0, 1e-12);
	CHECK_NEAR(sl_rate(&p, 25.0), 9.0, 1e-12);
	CHECK_NEAR(sl_rate(&p, 0.0), 1.0 / sqrt(3.0), 1e-12);
}

static void test_piecewise_q10_integrates_each_band(void)
{
	/* Saltveit bands: 3 below 10 °C, 2 for 10-20, 1.5 above 20; ref 5 °C. */
	struct sl_params p = { .kind = SL_PIECEWISE_Q10, .t_ref_c = 5, .sl_ref_h = 100, .npw = 3,
			       .pw_upper_c = { 10, 20 }, .pw_q10 = { 3, 2, 1.5 }, .valid_min_c = -10,
			       .valid_max_c = 40 };
	/* r(25) = 3^(5/10) * 2^(10/10) * 1.5^(5/10) */
	CHECK_NEAR(sl_rate(&p, 25.0), sqrt(3.0) * 2.0 * sqrt(1.5), 1e-9);
	CHECK_NEAR(sl_rate(&p, 5.0), 1.0, 1e-12);
	CHECK_NEAR(sl_rate(&p, 0.0), pow(3.0, -0.5), 1e-12);
	/* One band is plain Q10. */
	struct sl_params q = p;
	q.npw = 1;
	q.pw_q10[0] = 2.5;
	struct sl_params r = { .kind = SL_Q10, .t_ref_c = 5, .sl_ref_h = 100, .q10 = 2.5, .valid_min_c = -10,
			       .valid_max_c = 40 };
	CHECK_NEAR(sl_rate(&q, 17.0), sl_rate(&r, 17.0), 1e-12);
	/* Continuous at a bound. */
	CHECK_NEAR(sl_rate(&p, 10.0 - 1e-9), sl_rate(&p, 10.0 + 1e-9), 1e-6);
}

static void test_mkt_of_domain_example_is_15_68c_not_10_096(void)
{
	double h[] = { 2, 4, 1 }, t[] = { 20, 2, 25 };
	double mkt = sl_mkt_c(h, t, 3, 10000.0);
	CHECK_NEAR(mkt, 15.68, 0.005);
	/* The vendor figure 10.096 °C is wrong; the arithmetic mean is 10.43. */
	CHECK(fabs(mkt - 10.096) > 5.0);
	CHECK_NEAR((2 * 20 + 4 * 2 + 1 * 25) / 7.0, 10.43, 0.005);
}

static void test_mkt_accumulates_per_lot_like_the_one_off(void)
{
	struct lot_params p;
	struct lot_state s;
	lot_params_default(&p);
	lot_state_init(&s);
	lot_step(&s, &p, 2, 20, NAN);
	lot_step(&s, &p, 4, 2, NAN);
	lot_step(&s, &p, 1, 25, NAN);
	CHECK_NEAR(lot_mkt_c(&s, &p), 15.68, 0.005);
	/* ΔH/R is configurable: a lower activation energy weighs peaks less. */
	struct lot_params q = p;
	q.mkt_dh_r_k = 5000;
	CHECK(lot_mkt_c(&s, &q) < 15.68);
}

static void test_lychee_chain_consumed_and_remaining(void)
{
	struct lot_params p;
	struct lot_state s;
	static const double hours[] = { 4, 1, 2, 48, 3, 12 }, temp[] = { 32, 20, 12, 4, 30, 25 };
	static const double expect[] = { 0.125, 0.134, 0.142, 0.218, 0.295, 0.483 };

	lot_params_default(&p);
	p.sl = lychee();
	lot_state_init(&s);
	for (int i = 0; i < 6; i++) {
		lot_step(&s, &p, hours[i], temp[i], NAN);
		CHECK_NEAR(s.consumed, expect[i], 0.0005);
	}
	CHECK_NEAR(lot_remaining_h(&s, &p, 25.0) / 24.0, 1.38, 0.005);
	/* The 4 h of field heat cost as much as ~3 days at 4 °C. */
	CHECK_NEAR(4 * sl_rate(&p.sl, 32) / sl_rate(&p.sl, 4) / 24.0, 3.0, 0.5); /* 3.30 d */
}

static void test_lychee_chain_through_timestamps_matches(void)
{
	/* The same chain as readings: each reading's value holds until the next. */
	struct lot_params p;
	struct lot_state s;
	static const double hours[] = { 4, 1, 2, 48, 3, 12 }, temp[] = { 32, 20, 12, 4, 30, 25 };
	int64_t t = 1700000000LL * 1000000000LL;

	lot_params_default(&p);
	p.sl = lychee();
	p.dt_cap_s = 100 * 3600; /* readings are hours apart here */
	lot_state_init(&s);
	for (int i = 0; i < 6; i++) {
		lot_observe(&s, &p, t, temp[i], NAN);
		t += (int64_t)(hours[i] * H_NS);
	}
	lot_observe(&s, &p, t, 25, NAN);
	CHECK_NEAR(s.consumed, 0.483, 0.0005);
	CHECK_NEAR(s.no_data_h, 0, 1e-12);
}

static void test_gap_is_recorded_and_filled_with_the_warmer_endpoint(void)
{
	struct lot_params p;
	struct lot_state s, opt;
	int64_t t0 = 1700000000LL * 1000000000LL;

	lot_params_default(&p);
	p.sl = lychee();
	p.dt_cap_s = 1800;
	lot_state_init(&s);
	lot_observe(&s, &p, t0, 4.0, NAN);
	/* 10 h without data, then a reading of 12 °C. */
	CHECK_INT(lot_observe(&s, &p, t0 + 10 * H_NS, 12.0, NAN), 1);
	CHECK_NEAR(s.no_data_h, 9.5, 1e-9);
	CHECK_INT(s.gaps, 1);
	/* Expected: 0.5 h at 4 °C (the cap), then 9.5 h at 12 °C (the warmer end). */
	double want = (0.5 * sl_rate(&p.sl, 4) + 9.5 * sl_rate(&p.sl, 12)) / p.sl.sl_ref_h;
	CHECK_NEAR(s.consumed, want, 1e-12);
	/* Never optimistic: more than holding the last value would give. */
	lot_state_init(&opt);
	lot_step(&opt, &p, 10, 4.0, NAN);
	CHECK(s.consumed > opt.consumed);
	/* "last value" policy */
	p.gap_fill = SL_GAP_LAST;
	lot_state_init(&s);
	lot_observe(&s, &p, t0, 4.0, NAN);
	lot_observe(&s, &p, t0 + 10 * H_NS, 2.0, NAN);
	CHECK_NEAR(s.consumed, 10 * sl_rate(&p.sl, 4) / p.sl.sl_ref_h, 1e-12);
	/* a reading from the past is ignored */
	CHECK_INT(lot_observe(&s, &p, t0, 30.0, NAN), -1);
}

static void test_faulty_sensor_temperature_is_clamped_not_overflowed(void)
{
	struct lot_params p;
	struct lot_state s;
	lot_params_default(&p);
	p.sl = lychee();
	CHECK_NEAR(sl_rate(&p.sl, 1e6), sl_rate(&p.sl, 35.0), 1e-12);
	CHECK_NEAR(sl_rate(&p.sl, -1e6), sl_rate(&p.sl, 1.0), 1e-12);
	CHECK(isnan(sl_rate(&p.sl, NAN)));
	lot_state_init(&s);
	lot_step(&s, &p, 1, 3000.0, 50);
	lot_step(&s, &p, 1, -3000.0, 50);
	CHECK(isfinite(s.consumed) && isfinite(s.mkt_sum_w) && isfinite(s.weight_loss));
	CHECK(isfinite(lot_mkt_c(&s, &p)));
}

static void test_degree_hours_and_chilling_hours(void)
{
	struct lot_params p;
	struct lot_state s;
	lot_params_default(&p);
	p.dh_thr_c = 5;
	p.chill_thr_c = 3;
	lot_state_init(&s);
	lot_step(&s, &p, 2, 8, NAN);  /* 3 K above for 2 h = 6 K·h */
	lot_step(&s, &p, 4, 1, NAN);  /* 2 K below 3 °C for 4 h = 8 K·h */
	lot_step(&s, &p, 10, 4, NAN); /* neither */
	CHECK_NEAR(s.degree_h, 6, 1e-12);
	CHECK_NEAR(s.chill_h, 8, 1e-12);
	lot_step(&s, &p, 1, 2, NAN);
	CHECK_NEAR(s.chill_h, 9, 1e-12); /* never reset, only grows */
}

static void test_product_temperature_lags_air_first_order(void)
{
	struct lot_params p;
	struct lot_state s;
	lot_params_default(&p);
	p.tau_h = 2;
	lot_state_init(&s);
	s.product_c = 4;
	lot_step(&s, &p, 2, 24, NAN);
	/* one time constant: 63.2 % of the way */
	CHECK_NEAR(s.product_c, 4 + 20 * (1 - exp(-1.0)), 1e-9);
	lot_step(&s, &p, 100, 24, NAN);
	CHECK_NEAR(s.product_c, 24, 1e-6);
}

static void test_weight_loss_integrates_vpd(void)
{
	struct lot_params p;
	struct lot_state s;
	lot_params_default(&p);
	p.kt_fresh = 1e-5;
	p.kt_dry = 1e-5;
	p.aw = 0.98;
	lot_state_init(&s);
	lot_step(&s, &p, 10, 5, 80);
	double dp = psychro_vpd(5, 0.98, 5, 80);
	CHECK_NEAR(s.weight_loss, 1e-5 * dp * 10, 1e-12);
	/* Saturated air colder surface: condensation is not a weight gain. */
	double before = s.weight_loss;
	lot_step(&s, &p, 10, 5, 100);
	CHECK(s.weight_loss >= before);
	/* k_t falls as the pericarp dries */
	p.kt_dry = 1e-6;
	p.wl_crit = 0.01;
	lot_state_init(&s);
	s.weight_loss = 0.01;
	lot_step(&s, &p, 1, 5, 80);
	CHECK_NEAR(s.weight_loss - 0.01, 1e-6 * dp, 1e-12);
	/* RH unknown: nothing counted */
	before = s.weight_loss;
	lot_step(&s, &p, 1, 5, NAN);
	CHECK_NEAR(s.weight_loss, before, 0);
}

static void test_remaining_life_is_zero_when_used_up_and_at_planned_temperature(void)
{
	struct lot_params p;
	struct lot_state s;
	lot_params_default(&p);
	p.sl = lychee();
	lot_state_init(&s);
	CHECK_NEAR(lot_remaining_h(&s, &p, 3.5), 28 * 24.0, 1e-9);
	CHECK_NEAR(lot_remaining_h(&s, &p, 20.0), sl_life_h(&p.sl, 20.0), 1e-9);
	s.consumed = 1.2;
	CHECK_NEAR(lot_remaining_h(&s, &p, 3.5), 0, 0);
}

/* Issue 12 item 2: after 4 h at 32 °C a reading of 20 °C is what the lot is
 * at now; the remaining life is projected at 20 °C, not at the 32 °C the
 * last step integrated. */
static void test_remaining_life_is_projected_at_the_reading_just_received(void)
{
	struct lot_params p;
	struct lot_state s;
	int64_t t0 = 1700000000LL * 1000000000LL;

	lot_params_default(&p);
	p.sl = lychee();
	p.dt_cap_s = 100 * 3600;
	lot_state_init(&s);
	lot_observe(&s, &p, t0, 32.0, NAN);
	CHECK_INT(lot_observe(&s, &p, t0 + 4 * H_NS, 20.0, NAN), 1);
	CHECK_NEAR(s.consumed, 4 * sl_rate(&p.sl, 32) / p.sl.sl_ref_h, 1e-12); /* the 4 h were at 32 °C */
	CHECK_NEAR(s.product_c, 20.0, 1e-12);
	CHECK_NEAR(lot_remaining_h(&s, &p, s.last_air_c), (1 - s.consumed) * sl_life_h(&p.sl, 20.0), 1e-9);
}

/* With a product lag the projection at the new air temperature integrates
 * the product's approach to it: between the life left at the old and at the
 * new temperature, and the same as a fine step-by-step integration. */
static void test_remaining_life_with_a_lag_integrates_the_approach(void)
{
	struct lot_params p;
	struct lot_state s;
	double rem, used = 0, h = 0, tp = 32, left;

	lot_params_default(&p);
	p.sl = lychee();
	p.tau_h = 2;
	lot_state_init(&s);
	s.consumed = 0.5;
	s.product_c = 32;
	rem = lot_remaining_h(&s, &p, 20.0);
	CHECK(rem > 0.5 * sl_life_h(&p.sl, 32.0));
	CHECK(rem < 0.5 * sl_life_h(&p.sl, 20.0));
	/* reference: 1-minute steps of the exact exponential approach */
	left = 0.5;
	while (used < left) {
		double tp1 = 20 + (tp - 20) * exp(-(1 / 60.0) / 2.0);
		used += (1 / 60.0) * sl_rate(&p.sl, 0.5 * (tp + tp1)) / p.sl.sl_ref_h;
		tp = tp1;
		h += 1 / 60.0;
	}
	CHECK_NEAR(rem, h, 0.1);
	/* already there: no approach */
	s.product_c = 20;
	CHECK_NEAR(lot_remaining_h(&s, &p, 20.0), 0.5 * sl_life_h(&p.sl, 20.0), 1e-9);
}

/* Issue 12 item 3: from loading to the first reading nothing was observed:
 * a gap in no_data_h, filled with the warmer of the assumed temperature
 * before monitoring (field heat) and the first reading, never with zero. */
static void test_time_from_loading_to_the_first_reading_is_a_gap_at_field_heat(void)
{
	struct lot_params p;
	struct lot_state s;
	int64_t t0 = 1700000000LL * 1000000000LL;

	lot_params_default(&p);
	p.sl = lychee();
	p.loaded_ns = t0;
	p.pre_c = 30.0;
	lot_state_init(&s);
	CHECK_INT(lot_observe(&s, &p, t0 + 4 * H_NS, 4.0, NAN), 0);
	CHECK_NEAR(s.no_data_h, 4, 1e-9);
	CHECK_INT(s.gaps, 1);
	CHECK_NEAR(s.observed_h, 4, 1e-9);
	CHECK_NEAR(s.consumed, 4 * sl_rate(&p.sl, 30) / p.sl.sl_ref_h, 1e-12);
	/* no assumed temperature: the first reading fills it, not zero */
	p.pre_c = NAN;
	lot_state_init(&s);
	lot_observe(&s, &p, t0 + 4 * H_NS, 4.0, NAN);
	CHECK_NEAR(s.no_data_h, 4, 1e-9);
	CHECK_NEAR(s.consumed, 4 * sl_rate(&p.sl, 4) / p.sl.sl_ref_h, 1e-12);
	/* a first reading warmer than the assumption wins */
	p.pre_c = 25.0;
	lot_state_init(&s);
	lot_observe(&s, &p, t0 + 2 * H_NS, 28.0, NAN);
	CHECK_NEAR(s.consumed, 2 * sl_rate(&p.sl, 28) / p.sl.sl_ref_h, 1e-12);
	/* a reading at the loaded time itself: no gap */
	lot_state_init(&s);
	lot_observe(&s, &p, t0, 4.0, NAN);
	CHECK_NEAR(s.no_data_h, 0, 0);
	CHECK_INT(s.gaps, 0);
}

static void test_psychro_vectors(void)
{
	CHECK_NEAR(psychro_dew_point(30.0, 80.0), 26.17, 0.005);
	CHECK_NEAR(psychro_dew_point(25.0, 83.0), 21.91, 0.005);
	CHECK_NEAR(psychro_sat_pressure(5.0), 871.7, 0.05);
}

int main(void)
{
	tl_prog = "unit/models";
	RUN(test_square_root_model_21d_at_5c_is_47_25d_at_0c);
	RUN(test_arrhenius_100kj_21d_at_5c_is_46_34d_at_0c);
	RUN(test_lychee_arrhenius_defaults_match_domain_table);
	RUN(test_q10_rate_ratio);
	RUN(test_piecewise_q10_integrates_each_band);
	RUN(test_mkt_of_domain_example_is_15_68c_not_10_096);
	RUN(test_mkt_accumulates_per_lot_like_the_one_off);
	RUN(test_lychee_chain_consumed_and_remaining);
	RUN(test_lychee_chain_through_timestamps_matches);
	RUN(test_gap_is_recorded_and_filled_with_the_warmer_endpoint);
	RUN(test_faulty_sensor_temperature_is_clamped_not_overflowed);
	RUN(test_degree_hours_and_chilling_hours);
	RUN(test_product_temperature_lags_air_first_order);
	RUN(test_weight_loss_integrates_vpd);
	RUN(test_remaining_life_is_zero_when_used_up_and_at_planned_temperature);
	RUN(test_remaining_life_is_projected_at_the_reading_just_received);
	RUN(test_remaining_life_with_a_lag_integrates_the_approach);
	RUN(test_time_from_loading_to_the_first_reading_is_a_gap_at_field_heat);
	RUN(test_psychro_vectors);
	return TL_DONE();
}
