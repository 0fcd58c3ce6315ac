/* test_cooling.c - the precooling and carcass-chilling models against every
 * verification vector of processing.md §1.5 (P1-P3) and §2.3 (K1-K3), to
 * the digits stated there, plus the fit's gates, probe faults, ignored
 * readings, verdicts and the chilling state machine. */
#include "../../daemon/models/cooling.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/models/chill.h"
#include "testlib.h"

#define H_NS (3600LL * 1000000000LL)
#define MIN_NS (60LL * 1000000000LL)
#define START (1781226000LL * 1000000000LL)

/* A probe with a lag: flat at T0 until j·e^(-Ct) falls below 1. */
static double curve(double t0, double tm, double j, double c, double t_h)
{
	double y = j * exp(-c * t_h);
	return tm + (t0 - tm) * (y < 1 ? y : 1);
}

static struct cool_params lychee(void)
{
	struct cool_params p;
	cool_params_default(&p);
	p.target_c = 5.0;
	return p;
}

static void test_p1_closed_forms_z_1_733_h_seven_eighths_5_199_h_to_5c_5_119_h(void)
{
	double h;

	CHECK_NEAR(cool_half_time_h(0.4, 1.0), 1.733, 0.0005);
	CHECK_NEAR(cool_seven_eighths_h(0.4, 1.0), 5.199, 0.0005);
	CHECK_NEAR(cool_y(5.0, 1.0, 32.0), 0.1290, 0.00005);
	CHECK_INT(cool_time_to_target_h(0.4, 1.0, 32.0, 1.0, 5.0, 0.5, &h), COOL_ETA_OK);
	CHECK_NEAR(h, 5.119, 0.0005);
	CHECK_NEAR(cool_predict_c(0.4, 1.0, 32.0, 1.0, 3.0), 10.34, 0.005);
	/* already there, and nothing to predict with */
	CHECK_INT(cool_remaining_h(0.4, 4.5, 1.0, 5.0, 0.5, &h), COOL_ETA_REACHED);
	CHECK(h == 0);
	CHECK_INT(cool_remaining_h(0.0, 10.0, 1.0, 5.0, 0.5, &h), COOL_ETA_NO_FIT);
	CHECK(isnan(h));
	CHECK_INT(cool_time_to_target_h(0.4, NAN, 32.0, 1.0, 5.0, 0.5, &h), COOL_ETA_NO_FIT);
	CHECK(isnan(cool_half_time_h(-0.4, 1.0)));
	CHECK(isnan(cool_y(5.0, 1.0, 1.0)));
}

static void test_p2_hydrocooling_30_to_5c_in_18_min_gives_c_6_603_z_6_298_min(void)
{
	double c = cool_coefficient_per_h(1.0, 30.0, 1.0, 5.0, 18.0 / 60.0), h;

	CHECK_NEAR(c, 6.603, 0.0005);
	CHECK_NEAR(cool_half_time_h(c, 1.0) * 60.0, 6.298, 0.0005);
	CHECK_NEAR(cool_seven_eighths_h(c, 1.0) * 60.0, 18.89, 0.005);
	/* the inverse of the time to target */
	CHECK_INT(cool_time_to_target_h(c, 1.0, 30.0, 1.0, 5.0, 0.5, &h), COOL_ETA_OK);
	CHECK_NEAR(h * 60.0, 18.0, 1e-9);
}

static const double p3_t[] = { 0.5, 1.0, 1.5, 2.0, 2.5, 3.0 };
static const double p3_c[] = { 27.1, 21.5, 17.2, 13.8, 11.2, 9.2 };

/* P3 fed as the engine would: the medium on its own channel, T0 at the
 * start, then the six readings. */
static void p3_feed_at(struct cool_batch *b, const struct cool_params *p, double tm, int64_t start)
{
	cool_batch_init(b, 1, start, 0, 0);
	CHECK_INT(cool_batch_observe_medium(b, p, start, tm), 0);
	CHECK_INT(cool_batch_observe_probe(b, p, 0, start, 30.0), 0);
	for (int i = 0; i < 6; i++) {
		int64_t ts = start + (int64_t)(p3_t[i] * H_NS);
		CHECK_INT(cool_batch_observe_medium(b, p, ts, tm), 0);
		CHECK_INT(cool_batch_observe_probe(b, p, 0, ts, p3_c[i]), 0);
	}
}

static void p3_feed(struct cool_batch *b, const struct cool_params *p, double tm)
{
	p3_feed_at(b, p, tm, START);
}

static void test_p3_online_fit_gives_c_0_5000_j_1_149_r2_1_000(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_fit f;

	p3_feed(&b, &p, 2.0);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	CHECK_INT(f.status, COOL_FIT_RELIABLE);
	CHECK_INT(f.n, 6);
	CHECK_NEAR(f.c_per_h, 0.5000, 0.00005);
	CHECK_NEAR(f.j, 1.149, 0.0005);
	CHECK_NEAR(f.r2, 1.000, 0.0005);
	CHECK_NEAR(f.half_h, 1.664, 0.0005);
	CHECK_NEAR(f.seven_eighths_h, 4.436, 0.0005);
	CHECK_INT(f.eta_model, COOL_ETA_OK);
	CHECK_NEAR(f.to_target_h, 4.745, 0.0005);
	/* remaining after 3 h: model 1.745 h, current-reading formula 1.751 h */
	CHECK_NEAR(f.to_target_h - 3.0, 1.745, 0.0005);
	CHECK_INT(f.eta, COOL_ETA_OK);
	CHECK_NEAR(f.remaining_h, 1.751, 0.0005);
	/* the rate form agrees roughly (finite differences on 0.5 h steps) */
	CHECK(fabs(f.c_rate_per_h - 0.5) < 0.05);
}

static void test_p3_underperforming_cooler_c_0_3_takes_7_908_h_and_raises_the_alarm(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_fit f;
	struct cool_verdict v;
	double h;

	p3_feed(&b, &p, 2.0);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	/* the same j with C = 0.3 */
	CHECK_INT(cool_time_to_target_h(0.3, f.j, 30.0, 2.0, 5.0, 0.5, &h), COOL_ETA_OK);
	CHECK_NEAR(h, 7.908, 0.0005);
	CHECK_NEAR(cool_half_time_h(0.3, f.j), 2.773, 0.0005);
	/* a batch whose fitted C is 0.3 against C_ref 0.5: 0.6 < 0.7 */
	p.c_ref = 0.5;
	cool_batch_init(&b, 1, START, 0, 0);
	for (int k = 0; k <= 12; k++) {
		int64_t ts = START + k * H_NS / 4;
		cool_batch_observe_medium(&b, &p, ts, 2.0);
		cool_batch_observe_probe(&b, &p, 0, ts, curve(30.0, 2.0, 1.149, 0.3, k / 4.0));
	}
	cool_batch_verdict(&b, &p, START + 3 * H_NS, &v);
	CHECK_INT(v.fit.status, COOL_FIT_RELIABLE);
	CHECK_NEAR(v.fit.c_per_h, 0.3, 1e-6);
	CHECK_NEAR(v.fit.to_target_h, 7.908, 0.0005);
	CHECK_NEAR(v.c_ratio, 0.6, 1e-6);
	CHECK(v.underperforming);
	/* the same batch with its own C as the reference is not */
	p.c_ref = 0.3;
	cool_batch_verdict(&b, &p, START + 3 * H_NS, &v);
	CHECK(!v.underperforming);
}

static void test_p3_medium_at_6c_with_target_5c_is_unreachable_not_a_number(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_verdict v;
	double h = 0;

	CHECK_INT(cool_time_to_target_h(0.5, 1.149, 30.0, 6.0, 5.0, 0.5, &h), COOL_ETA_UNREACHABLE);
	CHECK(isinf(h));
	CHECK_INT(cool_remaining_h(0.5, 9.2, 6.0, 5.0, 0.5, &h), COOL_ETA_UNREACHABLE);
	/* within the margin (Tm 4.6 >= 5 - 0.5) is unreachable too */
	CHECK_INT(cool_time_to_target_h(0.5, 1.0, 30.0, 4.6, 5.0, 0.5, &h), COOL_ETA_UNREACHABLE);
	p3_feed(&b, &p, 6.0);
	b.pull_plan_ns = START + 24 * H_NS;
	cool_batch_verdict(&b, &p, START + 3 * H_NS, &v);
	CHECK_INT(v.fit.eta, COOL_ETA_UNREACHABLE);
	CHECK_INT(v.fit.eta_model, COOL_ETA_UNREACHABLE);
	CHECK(v.unreachable);
	CHECK(v.miss_dispatch);
	CHECK(v.eta_ns == 0);
}

static void test_k1_weight_classes_and_unit_conversions(void)
{
	struct chill_params p;
	double h;

	chill_params_default(&p);
	p.nbands = 3;
	p.band_upper_kg[0] = chill_lb_to_kg(4.0);
	p.band_h[0] = 4;
	p.band_upper_kg[1] = chill_lb_to_kg(8.0);
	p.band_h[1] = 6;
	p.band_upper_kg[2] = INFINITY;
	p.band_h[2] = 8;
	CHECK_NEAR(chill_kg_to_lb(1.6), 3.527, 0.0005);
	CHECK_NEAR(chill_kg_to_lb(2.0), 4.409, 0.0005);
	CHECK_NEAR(chill_kg_to_lb(4.0), 8.818, 0.0005);
	CHECK_NEAR(p.band_upper_kg[0], 1.814, 0.0005);
	CHECK_NEAR(p.band_upper_kg[1], 3.629, 0.0005);
	CHECK_INT(chill_deadline_h(&p, 1.6, &h), 0);
	CHECK_NEAR(h, 4, 0);
	CHECK_INT(chill_deadline_h(&p, 2.0, &h), 0);
	CHECK_NEAR(h, 6, 0);
	CHECK_INT(chill_deadline_h(&p, 4.0, &h), 0);
	CHECK_NEAR(h, 8, 0);
	CHECK_NEAR(chill_f_to_c(40), 4.444, 0.0005);
	CHECK_NEAR(chill_f_to_c(55), 12.78, 0.005);
	CHECK_NEAR(chill_f_to_c(26), -3.333, 0.0005);
	CHECK_NEAR(chill_c_to_f(chill_f_to_c(40)), 40, 1e-12);
	/* bad weights and a table that does not cover the weight */
	CHECK_INT(chill_deadline_h(&p, NAN, &h), -EINVAL);
	CHECK_INT(chill_deadline_h(&p, -1, &h), -EINVAL);
	p.nbands = 2;
	CHECK_INT(chill_deadline_h(&p, 4.0, &h), -ENOENT);
	CHECK(isnan(h));
}

static struct chill_params us_chill(double target_c)
{
	struct chill_params p;
	chill_params_default(&p);
	p.cool.target_c = target_c;
	p.nbands = 3;
	p.band_upper_kg[0] = chill_lb_to_kg(4.0);
	p.band_h[0] = 4;
	p.band_upper_kg[1] = chill_lb_to_kg(8.0);
	p.band_h[1] = 6;
	p.band_upper_kg[2] = INFINITY;
	p.band_h[2] = 8;
	p.excursion_c = chill_f_to_c(55);
	p.ice_c = -2.0;
	return p;
}

/* One minute of a chill: the slow probe (j 1.3, C c) and a faster one. */
static void chill_minute(struct chill_state *s, const struct chill_params *p, int k, double c)
{
	int64_t ts = START + k * MIN_NS;
	double t_h = k / 60.0;

	CHECK_INT(chill_observe_medium(s, p, ts, -1.0), 0);
	CHECK_INT(chill_observe_probe(s, p, 0, ts, curve(38.0, -1.0, 1.3, c, t_h)), 0);
	CHECK_INT(chill_observe_probe(s, p, 1, ts, curve(38.0, -1.0, 1.0, c * 1.3, t_h)), 0);
}

static void test_k2_1_6kg_at_c_0_7_reaches_40f_in_3_188_h_and_is_compliant(void)
{
	struct chill_params p = us_chill(chill_f_to_c(40));
	struct chill_state s;
	struct chill_verdict v;
	double h;

	CHECK_INT(cool_time_to_target_h(0.7, 1.3, 38.0, -1.0, chill_f_to_c(40), 0.5, &h), COOL_ETA_OK);
	CHECK_NEAR(h, 3.188, 0.0005);
	CHECK_NEAR(4.0 - h, 0.8124, 0.00005);
	CHECK_INT(cool_time_to_target_h(0.7, 1.3, 38.0, -1.0, 4.0, 0.5, &h), COOL_ETA_OK);
	CHECK_NEAR(h, 3.309, 0.0005);
	CHECK_NEAR(4.0 - h, 0.6907, 0.00005);

	CHECK_INT(chill_init(&s, &p, 2, START, 1.6, 0), 0);
	CHECK(s.deadline_ns == START + 4 * H_NS);
	for (int k = 0; k <= 90; k++)
		chill_minute(&s, &p, k, 0.7);
	chill_verdict(&s, &p, START + 90 * MIN_NS, &v);
	CHECK_INT(v.cool.slowest, 0);
	CHECK_INT(v.cool.fit.status, COOL_FIT_RELIABLE);
	CHECK_NEAR(v.cool.fit.j, 1.3, 1e-6);
	CHECK_NEAR(v.pred_h, 3.188, 0.0005);
	CHECK_NEAR(v.margin_h, 0.8124, 0.00005);
	CHECK_INT(v.status, CHILL_ON_TRACK);
	for (int k = 91; k <= 200; k++)
		chill_minute(&s, &p, k, 0.7);
	chill_verdict(&s, &p, START + 200 * MIN_NS, &v);
	CHECK_INT(v.status, CHILL_COMPLIANT);
	/* proven by the first reading at or below 40 °F: minute 192 (3.188 h) */
	CHECK(s.compliant_ns == START + 192 * MIN_NS);
	CHECK(!v.pulled_early);
	CHECK(!v.ice);
}

static void test_k3_overloaded_chiller_c_0_5_warns_early_and_misses_at_4_h(void)
{
	struct chill_params p = us_chill(chill_f_to_c(40));
	struct chill_state s;
	struct chill_verdict v;
	double h;
	int k, warned = -1;

	CHECK_INT(cool_time_to_target_h(0.5, 1.3, 38.0, -1.0, chill_f_to_c(40), 0.5, &h), COOL_ETA_OK);
	CHECK_NEAR(h, 4.463, 0.0005);
	CHECK_INT(chill_init(&s, &p, 2, START, 1.6, 0), 0);
	for (k = 0; k < 240; k++) {
		chill_minute(&s, &p, k, 0.5);
		chill_verdict(&s, &p, START + k * MIN_NS, &v);
		if (warned < 0 && v.status == CHILL_EARLY_WARNING)
			warned = k;
		if (warned < 0)
			CHECK(v.status == CHILL_ON_TRACK);
	}
	/* as soon as the fit is reliable: Y <= 0.9 from ln(1.3/0.9)/0.5 =
	 * 0.735 h, i.e. minute 45; the 5th fitted reading is minute 49 */
	CHECK_INT(warned, 49);
	CHECK_NEAR(v.pred_h, 4.463, 0.0005);
	CHECK_INT(v.status, CHILL_EARLY_WARNING);
	chill_verdict(&s, &p, START + 240 * MIN_NS, &v);
	CHECK_INT(v.status, CHILL_MISSED);
	CHECK(v.pulled_early);
	/* reaching the target after the deadline proves nothing */
	for (; k <= 300; k++)
		chill_minute(&s, &p, k, 0.5);
	chill_verdict(&s, &p, START + 300 * MIN_NS, &v);
	CHECK_INT(v.status, CHILL_MISSED);
	CHECK(!s.compliant);
}

/* No time is a sentinel: a batch may start at 0 (or before 1970). */
static void test_any_epoch_works_including_zero_and_negative(void)
{
	struct cool_params p = lychee();
	struct cool_batch a, b, c;
	struct cool_fit fa, fb, fc;

	p3_feed_at(&a, &p, 2.0, START);
	p3_feed_at(&b, &p, 2.0, 0);
	p3_feed_at(&c, &p, 2.0, -2 * H_NS);
	cool_probe_fit(&a.probe[0], &a.medium, &p, &fa);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &fb);
	cool_probe_fit(&c.probe[0], &c.medium, &p, &fc);
	CHECK_NEAR(fb.c_per_h, fa.c_per_h, 1e-12);
	CHECK_NEAR(fb.j, fa.j, 1e-12);
	CHECK_NEAR(fc.c_per_h, fa.c_per_h, 1e-12);
	CHECK_INT(fb.n, 6);
}

static void test_too_few_points_give_no_prediction(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_fit f;

	cool_batch_init(&b, 1, START, 0, 0);
	cool_batch_observe_medium(&b, &p, START, 2.0);
	cool_batch_observe_probe(&b, &p, 0, START, 30.0);
	for (int i = 0; i < 4; i++)
		cool_batch_observe_probe(&b, &p, 0, START + (int64_t)(p3_t[i] * H_NS), p3_c[i]);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	CHECK_INT(f.status, COOL_FIT_TOO_FEW);
	CHECK_INT(f.n, 4);
	CHECK_INT(f.eta, COOL_ETA_NO_FIT);
	CHECK(isnan(f.remaining_h));
	CHECK_NEAR(f.c_per_h, 0.5, 0.01); /* computed, but not to be trusted */
}

static void test_gates_report_why_a_fit_is_unreliable(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_fit f;

	p.r2_min = 0.99999999; /* P3's rounding to 0.1 °C fails this */
	p.c_max = 0.4;
	p.j_max = 1.1;
	p3_feed(&b, &p, 2.0);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	CHECK_INT(f.status, COOL_FIT_UNRELIABLE);
	CHECK_INT(f.why, COOL_WHY_R2 | COOL_WHY_C_RANGE | COOL_WHY_J_RANGE);
	CHECK_INT(f.eta, COOL_ETA_NO_FIT);
}

static void test_nan_and_out_of_order_readings_are_ignored_and_counted(void)
{
	struct cool_params p = lychee();
	struct cool_batch a, b;
	struct cool_fit fa, fb;

	p3_feed(&a, &p, 2.0);
	p3_feed(&b, &p, 2.0);
	CHECK_INT(cool_batch_observe_probe(&b, &p, 0, START + 4 * H_NS, NAN), -EINVAL);
	CHECK_INT(cool_batch_observe_probe(&b, &p, 0, START + 4 * H_NS, INFINITY), -EINVAL);
	CHECK_INT(cool_batch_observe_probe(&b, &p, 0, START + 1 * H_NS, 5.0), -ERANGE);
	CHECK_INT(cool_batch_observe_probe(&b, &p, 0, START + 3 * H_NS, 5.0), -ERANGE); /* same time */
	CHECK_INT(cool_batch_observe_medium(&b, &p, START + 4 * H_NS, NAN), -EINVAL);
	CHECK_INT(cool_batch_observe_medium(&b, &p, START, 20.0), -ERANGE);
	CHECK_INT(cool_batch_observe_probe(&b, &p, 7, START + 4 * H_NS, 5.0), -EINVAL); /* no such probe */
	CHECK_INT(b.probe[0].n_bad, 2);
	CHECK_INT(b.probe[0].n_old, 2);
	CHECK_INT(b.medium.n_bad, 1);
	CHECK_INT(b.medium.n_old, 1);
	cool_probe_fit(&a.probe[0], &a.medium, &p, &fa);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &fb);
	CHECK(fa.c_per_h == fb.c_per_h && fa.j == fb.j && fa.r2 == fb.r2);
	CHECK(fb.status == COOL_FIT_RELIABLE);
}

static void test_a_long_gap_in_the_readings_does_not_bias_the_fit(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_fit f;

	cool_batch_init(&b, 1, START, 0, 0);
	cool_batch_observe_medium(&b, &p, START, 1.0);
	for (int k = 0; k <= 32; k++) {
		int64_t ts = START + k * H_NS / 4;
		if (k > 8 && k < 24) /* nothing from 2 h to 6 h */
			continue;
		CHECK_INT(cool_batch_observe_probe(&b, &p, 0, ts, curve(30.0, 1.0, 1.2, 0.4, k / 4.0)), 0);
	}
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	CHECK_INT(f.status, COOL_FIT_RELIABLE);
	CHECK_NEAR(f.c_per_h, 0.4, 1e-9);
	CHECK_NEAR(f.j, 1.2, 1e-9);
	CHECK_INT(b.probe[0].fault, 0);
}

static void test_probe_pulled_out_of_the_fruit_is_a_fault_not_a_fit(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_verdict v;

	p3_feed(&b, &p, 2.0);
	cool_batch_observe_medium(&b, &p, START + 3 * H_NS + MIN_NS, 2.0);
	CHECK_INT(cool_batch_observe_probe(&b, &p, 0, START + 3 * H_NS + MIN_NS, 2.2), 0);
	CHECK(b.probe[0].fault & COOL_FAULT_STEP);
	CHECK_INT(b.probe[0].n, 6); /* the faulty reading is not fitted */
	cool_batch_verdict(&b, &p, START + 3 * H_NS + MIN_NS, &v);
	CHECK_INT(v.slowest, -1); /* a faulty probe proves nothing */
	CHECK(v.pull_early);
	CHECK_INT(v.probe_faults, 1);
}

static void test_pulp_rising_while_above_the_medium_is_a_probe_fault(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_fit f;

	p3_feed(&b, &p, 2.0);
	cool_batch_observe_probe(&b, &p, 0, START + 3 * H_NS + 10 * MIN_NS, 11.0);
	CHECK(b.probe[0].fault & COOL_FAULT_RISE);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	CHECK_INT(f.status, COOL_FIT_UNRELIABLE);
	CHECK(f.why & COOL_WHY_FAULT);
	CHECK_INT(f.eta, COOL_ETA_NO_FIT);
}

static void test_y_above_1_05_after_the_lag_is_a_probe_fault(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;

	p.fault_rise_k = INFINITY; /* isolate the Y check */
	p3_feed(&b, &p, 2.0);
	cool_batch_observe_probe(&b, &p, 0, START + 4 * H_NS, 31.5); /* Y = 1.054 */
	CHECK_INT(b.probe[0].fault, COOL_FAULT_Y);
	CHECK(b.probe[0].fault_ns == START + 4 * H_NS);
	/* during the lag a centre probe may sit at T0 (Y = 1) without a fault */
	cool_batch_init(&b, 1, START, 0, 0);
	cool_batch_observe_medium(&b, &p, START, 2.0);
	for (int k = 0; k < 10; k++)
		cool_batch_observe_probe(&b, &p, 0, START + k * MIN_NS, 30.0 + (k % 2) * 0.2);
	CHECK_INT(b.probe[0].fault, 0);
	CHECK(!b.probe[0].fitting);
}

static void test_lag_is_excluded_until_y_0_9_or_t_lag(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_fit f;

	/* j = 1.5: flat for ln(1.5)/0.5 = 0.81 h, Y <= 0.9 from 1.02 h */
	cool_batch_init(&b, 1, START, 0, 0);
	for (int k = 0; k <= 24; k++) {
		int64_t ts = START + k * H_NS / 8;
		cool_batch_observe_medium(&b, &p, ts, 2.0);
		cool_batch_observe_probe(&b, &p, 0, ts, curve(30.0, 2.0, 1.5, 0.5, k / 8.0));
	}
	CHECK(b.probe[0].fit_ns == START + 9 * H_NS / 8);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	CHECK_NEAR(f.c_per_h, 0.5, 1e-9);
	CHECK_NEAR(f.j, 1.5, 1e-9);
	/* a configured t_lag starts the fit earlier: the flat part biases C low */
	p.lag_h = 0.25;
	cool_batch_init(&b, 1, START, 0, 0);
	for (int k = 0; k <= 24; k++) {
		int64_t ts = START + k * H_NS / 8;
		cool_batch_observe_medium(&b, &p, ts, 2.0);
		cool_batch_observe_probe(&b, &p, 0, ts, curve(30.0, 2.0, 1.5, 0.5, k / 8.0));
	}
	CHECK(b.probe[0].fit_ns == START + 2 * H_NS / 8);
	cool_probe_fit(&b.probe[0], &b.medium, &p, &f);
	CHECK(f.c_per_h < 0.5);
}

static void test_medium_mean_over_the_fit_window_is_the_tm_of_the_fit(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;

	cool_batch_init(&b, 1, START, 0, 0);
	/* warm water at loading, then it settles at 1 °C */
	cool_batch_observe_medium(&b, &p, START, 9.0);
	cool_batch_observe_probe(&b, &p, 0, START, 30.0);
	CHECK_NEAR(cool_probe_tm(&b.probe[0], &b.medium, &p), 9.0, 1e-12);
	for (int k = 1; k <= 8; k++) {
		int64_t ts = START + k * H_NS / 4;
		cool_batch_observe_medium(&b, &p, ts, k == 1 ? 3.0 : 1.0);
		cool_batch_observe_probe(&b, &p, 0, ts, curve(30.0, 1.0, 1.0, 0.8, k / 4.0));
	}
	/* the fit started at k = 1; its window holds 3, 1, 1, ... */
	CHECK(b.probe[0].fit_ns == START + H_NS / 4);
	CHECK_NEAR(cool_probe_tm(&b.probe[0], &b.medium, &p), (3.0 + 7 * 1.0) / 8.0, 1e-12);
	/* before any medium reading, the set-point stands in */
	cool_batch_init(&b, 1, START, 0, 0);
	CHECK(isnan(cool_probe_tm(&b.probe[0], &b.medium, &p)));
	p.medium_set_c = 1.0;
	CHECK_NEAR(cool_probe_tm(&b.probe[0], &b.medium, &p), 1.0, 0);
}

static void test_slowest_probe_is_the_warmest_and_drives_the_verdicts(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_verdict v;
	int64_t now = START + 4 * H_NS;

	cool_batch_init(&b, 3, START, 0, 0);
	for (int k = 0; k <= 16; k++) {
		int64_t ts = START + k * H_NS / 4;
		double t_h = k / 4.0;
		cool_batch_observe_medium(&b, &p, ts, 2.0);
		cool_batch_observe_probe(&b, &p, 0, ts, curve(30.0, 2.0, 1.0, 0.8, t_h));  /* edge */
		cool_batch_observe_probe(&b, &p, 1, ts, curve(30.0, 2.0, 1.2, 0.45, t_h)); /* centre */
		cool_batch_observe_probe(&b, &p, 2, ts, curve(30.0, 2.0, 1.1, 0.6, t_h));
	}
	CHECK_INT(cool_batch_slowest(&b), 1);
	cool_batch_verdict(&b, &p, now, &v);
	CHECK_INT(v.slowest, 1);
	CHECK_NEAR(v.fit.c_per_h, 0.45, 1e-9);
	CHECK_NEAR(v.fit.j, 1.2, 1e-9);
	/* the edge is at 3.1 °C, the centre still at 7.6 °C */
	CHECK(b.probe[0].last_c < 5.0 && b.probe[1].last_c > 5.0);
	CHECK(v.pull_early);
	CHECK_NEAR(v.fit.remaining_h, log((b.probe[1].last_c - 2.0) / 3.0) / 0.45, 1e-9);
	CHECK(v.eta_ns == b.probe[1].last_ns + (int64_t)(v.fit.remaining_h * 3.6e12));
}

static void test_pulled_too_early_until_seven_eighths_cooled_and_at_target(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_verdict v;

	p.target_c = 8.0; /* so that Y, not the temperature, decides first */
	cool_batch_init(&b, 1, START, 0, 0);
	cool_batch_observe_medium(&b, &p, START, 2.0);
	cool_batch_observe_probe(&b, &p, 0, START, 30.0);
	cool_batch_observe_probe(&b, &p, 0, START + H_NS, 7.0); /* Y = 0.179 > 1/8, T < 8 + 1 */
	cool_batch_verdict(&b, &p, START + H_NS, &v);
	CHECK(v.pull_early);
	cool_batch_observe_probe(&b, &p, 0, START + 2 * H_NS, 5.4); /* Y = 0.121 */
	cool_batch_verdict(&b, &p, START + 2 * H_NS, &v);
	CHECK(!v.pull_early);
	CHECK_NEAR(v.y_slowest, 3.4 / 28.0, 1e-12);
}

static void test_late_start_field_heat_over_cooling_and_warm_medium(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_verdict v;

	p.late_start_h = 4;
	p.field_heat_c = 30;
	p.over_cool_c = 3;
	p.medium_set_c = 1.0;
	cool_batch_init(&b, 2, START, START - 5 * H_NS, 0);
	cool_batch_observe_probe(&b, &p, 0, START, 33.0);
	cool_batch_observe_probe(&b, &p, 1, START, 29.0);
	for (int k = 0; k <= 20; k++)
		cool_batch_observe_medium(&b, &p, START + k * MIN_NS, k < 5 ? 1.0 : 2.5);
	cool_batch_verdict(&b, &p, START + 19 * MIN_NS, &v);
	CHECK(v.late_start);
	CHECK(v.field_heat);
	CHECK(!v.over_cooling);
	CHECK(!v.medium_hot); /* above set-point + 1 K for 14 min */
	cool_batch_verdict(&b, &p, START + 20 * MIN_NS, &v);
	CHECK(v.medium_hot);  /* ... for 15 min */
	cool_batch_observe_medium(&b, &p, START + 21 * MIN_NS, 1.5);
	cool_batch_verdict(&b, &p, START + 40 * MIN_NS, &v);
	CHECK(!v.medium_hot);
	cool_batch_observe_probe(&b, &p, 1, START + H_NS, 2.8);
	cool_batch_verdict(&b, &p, START + H_NS, &v);
	CHECK(v.over_cooling);
	/* harvest unknown: no late start */
	b.harvest_ns = 0;
	cool_batch_verdict(&b, &p, START + H_NS, &v);
	CHECK(!v.late_start);
}

static void test_will_miss_dispatch_when_the_eta_is_after_the_pull(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_verdict v;
	int64_t now = START + 3 * H_NS;

	p3_feed(&b, &p, 2.0);
	b.pull_plan_ns = now + (int64_t)(1.7 * 3.6e12); /* remaining is 1.751 h */
	cool_batch_verdict(&b, &p, now, &v);
	CHECK(v.miss_dispatch);
	b.pull_plan_ns = now + (int64_t)(1.8 * 3.6e12);
	cool_batch_verdict(&b, &p, now, &v);
	CHECK(!v.miss_dispatch);
}

/* Readings arrive late (or the probe goes quiet): the remaining time is
 * from the last reading, so the ETA is that reading's time + remaining and a
 * query an hour later, with no new data, must not move it an hour on. */
static void test_eta_counts_from_the_last_reading_not_from_the_query_time(void)
{
	struct cool_params p = lychee();
	struct cool_batch b;
	struct cool_verdict v, late;
	int64_t t = START + 3 * H_NS; /* P3's last reading */
	int64_t eta = t + (int64_t)(1.751 * 3.6e12);

	p3_feed(&b, &p, 2.0);
	CHECK(b.probe[0].last_ns == t);
	cool_batch_verdict(&b, &p, t, &v);
	cool_batch_verdict(&b, &p, t + H_NS, &late);
	CHECK_INT(late.fit.eta, COOL_ETA_OK);
	CHECK(late.eta_ns == v.eta_ns);
	CHECK(late.eta_ns == t + (int64_t)(late.fit.remaining_h * 3.6e12));
	CHECK(llabs(late.eta_ns - eta) < 2 * MIN_NS); /* 1.751 h to 3 digits */
	/* the pull is planned 30 min after the ETA: an hour-late query that
	 * counted from now would call that a miss */
	b.pull_plan_ns = eta + 30 * MIN_NS;
	cool_batch_verdict(&b, &p, t + H_NS, &late);
	CHECK(!late.miss_dispatch);
	b.pull_plan_ns = eta - 30 * MIN_NS;
	cool_batch_verdict(&b, &p, t + H_NS, &late);
	CHECK(late.miss_dispatch);
}

static void test_chill_gap_in_probe_data_is_not_proven(void)
{
	struct chill_params p = us_chill(4.0);
	struct chill_state s;
	struct chill_verdict v;

	CHECK_INT(chill_init(&s, &p, 2, START, 1.6, 0), 0);
	/* the fast probe is below 4 °C from minute 135 (ln(39/5)/0.91 h) */
	for (int k = 0; k <= 150; k++)
		chill_minute(&s, &p, k, 0.7);
	CHECK(s.cool.probe[1].last_c < 4.0);
	/* then it falls silent; probe 0 reads on and goes below target at
	 * minute 199: one carcass read cold long ago proves nothing now */
	for (int k = 151; k <= 230; k++) {
		int64_t ts = START + k * MIN_NS;
		chill_observe_medium(&s, &p, ts, -1.0);
		chill_observe_probe(&s, &p, 0, ts, curve(38.0, -1.0, 1.3, 0.7, k / 60.0));
	}
	chill_verdict(&s, &p, START + 230 * MIN_NS, &v);
	CHECK(!s.compliant); /* a silent probe cannot prove its carcass */
	CHECK(v.stale);
	CHECK_INT(v.status, CHILL_NO_DATA);
	/* it comes back cold: the gap is recorded, then compliance proven */
	chill_observe_probe(&s, &p, 1, START + 231 * MIN_NS, 1.0);
	CHECK_INT(s.gaps, 1);
	CHECK_NEAR(s.gap_h, 81 / 60.0 - 0.1, 1e-9);
	chill_observe_probe(&s, &p, 0, START + 231 * MIN_NS, 3.0);
	chill_verdict(&s, &p, START + 231 * MIN_NS, &v);
	CHECK_INT(v.status, CHILL_COMPLIANT);
	/* no data at all before the deadline is no data, then missed */
	CHECK_INT(chill_init(&s, &p, 1, START, 1.6, 0), 0);
	chill_verdict(&s, &p, START + H_NS, &v);
	CHECK_INT(v.status, CHILL_NO_DATA);
	chill_verdict(&s, &p, START + 4 * H_NS, &v);
	CHECK_INT(v.status, CHILL_MISSED);
}

static void test_chill_excursion_above_55f_after_compliance_and_ice_crust(void)
{
	struct chill_params p = us_chill(4.0);
	struct chill_state s;
	struct chill_verdict v;

	CHECK_INT(chill_init(&s, &p, 2, START, 1.6, 0), 0);
	for (int k = 0; k <= 210; k++)
		chill_minute(&s, &p, k, 0.7);
	chill_verdict(&s, &p, START + 210 * MIN_NS, &v);
	CHECK_INT(v.status, CHILL_COMPLIANT);
	/* further processing: up to 55 °F is allowed, above is not */
	chill_observe_probe(&s, &p, 0, START + 211 * MIN_NS, 12.0);
	chill_verdict(&s, &p, START + 211 * MIN_NS, &v);
	CHECK_INT(v.status, CHILL_COMPLIANT);
	chill_observe_probe(&s, &p, 0, START + 212 * MIN_NS, 13.0);
	chill_verdict(&s, &p, START + 212 * MIN_NS, &v);
	CHECK_INT(v.status, CHILL_EXCURSION);
	CHECK(s.excursion_ns == START + 212 * MIN_NS);
	CHECK(!v.ice);
	chill_observe_probe(&s, &p, 1, START + 213 * MIN_NS, -2.5);
	chill_verdict(&s, &p, START + 213 * MIN_NS, &v);
	CHECK(v.ice);
}

/* min_probes 3 with a 2-probe line: the cores reach 40 °F in time but
 * compliance rests on too few carcasses: "not proven"; the verdict counts
 * the probes reporting as they come and go.  (A configured probe that
 * never reports already blocks the proof: a gap.) */
static void test_chill_with_fewer_than_min_probes_reporting_is_not_proven(void)
{
	struct chill_params p = us_chill(chill_f_to_c(40));
	struct chill_state s;
	struct chill_verdict v;

	p.min_probes = 3;
	p.gap_h = 0.1;
	CHECK_INT(chill_init(&s, &p, 2, START, 1.6, 0), 0);
	chill_verdict(&s, &p, START, &v);
	CHECK_INT(v.reporting, 0);
	CHECK(v.few_probes);
	for (int k = 0; k <= 200; k++)
		chill_minute(&s, &p, k, 0.7);
	chill_verdict(&s, &p, START + 200 * MIN_NS, &v);
	CHECK_INT(v.reporting, 2);
	CHECK(v.few_probes);
	CHECK(s.compliant);
	CHECK_INT(v.status, CHILL_NOT_PROVEN);
	CHECK_STR(chill_status_name(v.status), "not_proven");

	/* the same with the third probe reporting: compliant */
	CHECK_INT(chill_init(&s, &p, 3, START, 1.6, 0), 0);
	for (int k = 0; k <= 200; k++) {
		chill_minute(&s, &p, k, 0.7);
		CHECK_INT(chill_observe_probe(&s, &p, 2, START + k * MIN_NS,
					      curve(38.0, -1.0, 1.0, 0.9, k / 60.0)), 0);
	}
	chill_verdict(&s, &p, START + 200 * MIN_NS, &v);
	CHECK_INT(v.reporting, 3);
	CHECK(!v.few_probes);
	CHECK_INT(v.status, CHILL_COMPLIANT);
	/* probe 2 falls silent: 2 of 3 report after gap_h, the proof stands */
	for (int k = 201; k <= 220; k++)
		chill_minute(&s, &p, k, 0.7);
	chill_verdict(&s, &p, START + 220 * MIN_NS, &v);
	CHECK_INT(v.reporting, 2);
	CHECK(v.few_probes);
	CHECK_INT(v.status, CHILL_COMPLIANT);
}

/* US "fresh": never below 26 °F = -3.333 °C; a fact once it happened,
 * apart from the ice-crust note at -2 °C. */
static void test_chill_core_below_fresh_min_is_a_fact_that_stays(void)
{
	struct chill_params p = us_chill(chill_f_to_c(40));
	struct chill_state s;
	struct chill_verdict v;

	p.fresh_c = chill_f_to_c(26);
	CHECK_INT(chill_init(&s, &p, 1, START, 1.6, 0), 0);
	CHECK_INT(chill_observe_probe(&s, &p, 0, START, 10.0), 0);
	CHECK_INT(chill_observe_probe(&s, &p, 0, START + MIN_NS, -2.5), 0);
	chill_verdict(&s, &p, START + MIN_NS, &v);
	CHECK(v.ice);
	CHECK(!v.not_fresh); /* ice crust, still fresh */
	CHECK_INT(chill_observe_probe(&s, &p, 0, START + 2 * MIN_NS, -3.4), 0);
	CHECK_INT(chill_observe_probe(&s, &p, 0, START + 3 * MIN_NS, 0.0), 0);
	chill_verdict(&s, &p, START + 3 * MIN_NS, &v);
	CHECK(v.not_fresh);
	CHECK(s.fresh_lost_ns == START + 2 * MIN_NS);
	/* off by default */
	p.fresh_c = -INFINITY;
	chill_verdict(&s, &p, START + 3 * MIN_NS, &v);
	CHECK(v.not_fresh); /* the state holds the fact */
	CHECK_INT(chill_init(&s, &p, 1, START, 1.6, 0), 0);
	CHECK_INT(chill_observe_probe(&s, &p, 0, START, -30.0), 0);
	chill_verdict(&s, &p, START, &v);
	CHECK(!v.not_fresh);
}

/* Giblets <= 40 °F within 2 h of removal (FSIS): proven by a reading of
 * every giblet probe, else missed at start + 2 h and never proven after. */
static void test_chill_giblets_within_2_h_or_missed(void)
{
	struct chill_params p = us_chill(chill_f_to_c(40));
	struct chill_state s;
	struct chill_verdict v;
	int k;

	p.giblets_h = 2.0;
	CHECK_INT(chill_init(&s, &p, 1, START, 1.6, 0), 0);
	CHECK_INT(chill_init_giblets(&s, CHILL_GIBLETS_MAX + 1), -EINVAL);
	CHECK_INT(chill_init_giblets(&s, 2), 0);
	CHECK_INT(chill_observe_giblet(&s, &p, 2, START, 1.0), -EINVAL);
	CHECK_INT(chill_observe_giblet(&s, &p, 0, START - 1, 1.0), -EINVAL);
	CHECK_INT(chill_observe_giblet(&s, &p, 0, START, NAN), -ERANGE);
	/* giblet 0 cools in 1 h, giblet 1 (C 1.0 /h, from 38 °C, water at 0 °C) in ~2.25 h */
	for (k = 0; k < 120; k++) {
		CHECK_INT(chill_observe_giblet(&s, &p, 0, START + k * MIN_NS, k < 60 ? 20.0 : 2.0), 0);
		CHECK_INT(chill_observe_giblet(&s, &p, 1, START + k * MIN_NS, 38.0 * exp(-k / 60.0)), 0);
	}
	chill_verdict(&s, &p, START + 119 * MIN_NS, &v);
	CHECK(!v.giblets_missed);
	CHECK(v.giblets_deadline_ns == START + 2 * H_NS);
	chill_verdict(&s, &p, START + 120 * MIN_NS, &v);
	CHECK(v.giblets_missed);
	for (; k < 200; k++)
		CHECK_INT(chill_observe_giblet(&s, &p, 1, START + k * MIN_NS, 38.0 * exp(-k / 60.0)), 0);
	chill_verdict(&s, &p, START + 200 * MIN_NS, &v);
	CHECK(v.giblets_missed); /* cold afterwards proves nothing */
	CHECK(!s.giblets_ok);

	/* both cold by 1.5 h: proven by the reading that completes it */
	CHECK_INT(chill_init(&s, &p, 1, START, 1.6, 0), 0);
	CHECK_INT(chill_init_giblets(&s, 2), 0);
	for (k = 0; k <= 130; k++) {
		CHECK_INT(chill_observe_giblet(&s, &p, 0, START + k * MIN_NS, k < 60 ? 20.0 : 2.0), 0);
		CHECK_INT(chill_observe_giblet(&s, &p, 1, START + k * MIN_NS, k < 90 ? 20.0 : 3.0), 0);
	}
	chill_verdict(&s, &p, START + 130 * MIN_NS, &v);
	CHECK(s.giblets_ok);
	CHECK(s.giblets_ok_ns == START + 90 * MIN_NS);
	CHECK(!v.giblets_missed);
	/* no giblet probes, or no deadline: not tracked */
	CHECK_INT(chill_init(&s, &p, 1, START, 1.6, 0), 0);
	chill_verdict(&s, &p, START + 300 * MIN_NS, &v);
	CHECK(!v.giblets_missed);
	CHECK(v.giblets_deadline_ns == 0);
}

static void test_chill_weight_outside_the_table_is_refused(void)
{
	struct chill_params p = us_chill(4.0);
	struct chill_state s;
	struct chill_verdict v;

	CHECK_INT(chill_init(&s, &p, 1, START, NAN, 0), -EINVAL);
	chill_verdict(&s, &p, START, &v);
	CHECK_INT(v.status, CHILL_MISSED);
}

/* The state is plain numbers: a copy taken mid-batch (a checkpoint) and
 * fed the rest gives the same results, bit for bit. */
static void test_state_copied_mid_batch_resumes_identically(void)
{
	struct chill_params p = us_chill(chill_f_to_c(40));
	struct chill_state a, b;
	struct chill_verdict va, vb;

	CHECK_INT(chill_init(&a, &p, 2, START, 1.6, 0), 0);
	for (int k = 0; k <= 100; k++)
		chill_minute(&a, &p, k, 0.7);
	memcpy(&b, &a, sizeof(a));
	for (int k = 101; k <= 200; k++) {
		chill_minute(&a, &p, k, 0.7);
		chill_minute(&b, &p, k, 0.7);
	}
	chill_verdict(&a, &p, START + 200 * MIN_NS, &va);
	chill_verdict(&b, &p, START + 200 * MIN_NS, &vb);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(va.status == vb.status && va.cool.fit.c_per_h == vb.cool.fit.c_per_h);
}

int main(void)
{
	tl_prog = "unit/cooling";
	RUN(test_p1_closed_forms_z_1_733_h_seven_eighths_5_199_h_to_5c_5_119_h);
	RUN(test_p2_hydrocooling_30_to_5c_in_18_min_gives_c_6_603_z_6_298_min);
	RUN(test_p3_online_fit_gives_c_0_5000_j_1_149_r2_1_000);
	RUN(test_p3_underperforming_cooler_c_0_3_takes_7_908_h_and_raises_the_alarm);
	RUN(test_p3_medium_at_6c_with_target_5c_is_unreachable_not_a_number);
	RUN(test_k1_weight_classes_and_unit_conversions);
	RUN(test_k2_1_6kg_at_c_0_7_reaches_40f_in_3_188_h_and_is_compliant);
	RUN(test_k3_overloaded_chiller_c_0_5_warns_early_and_misses_at_4_h);
	RUN(test_any_epoch_works_including_zero_and_negative);
	RUN(test_too_few_points_give_no_prediction);
	RUN(test_gates_report_why_a_fit_is_unreliable);
	RUN(test_nan_and_out_of_order_readings_are_ignored_and_counted);
	RUN(test_a_long_gap_in_the_readings_does_not_bias_the_fit);
	RUN(test_probe_pulled_out_of_the_fruit_is_a_fault_not_a_fit);
	RUN(test_pulp_rising_while_above_the_medium_is_a_probe_fault);
	RUN(test_y_above_1_05_after_the_lag_is_a_probe_fault);
	RUN(test_lag_is_excluded_until_y_0_9_or_t_lag);
	RUN(test_medium_mean_over_the_fit_window_is_the_tm_of_the_fit);
	RUN(test_slowest_probe_is_the_warmest_and_drives_the_verdicts);
	RUN(test_pulled_too_early_until_seven_eighths_cooled_and_at_target);
	RUN(test_late_start_field_heat_over_cooling_and_warm_medium);
	RUN(test_will_miss_dispatch_when_the_eta_is_after_the_pull);
	RUN(test_eta_counts_from_the_last_reading_not_from_the_query_time);
	RUN(test_chill_gap_in_probe_data_is_not_proven);
	RUN(test_chill_excursion_above_55f_after_compliance_and_ice_crust);
	RUN(test_chill_weight_outside_the_table_is_refused);
	RUN(test_chill_with_fewer_than_min_probes_reporting_is_not_proven);
	RUN(test_chill_core_below_fresh_min_is_a_fact_that_stays);
	RUN(test_chill_giblets_within_2_h_or_missed);
	RUN(test_state_copied_mid_batch_resumes_identically);
	printf("%d passed, %d failed\n", tl_passed, tl_failed);
	return TL_DONE();
}
