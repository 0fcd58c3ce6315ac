/* test_psychro.c - the verification vectors of domain.md §3. */
#include "../../daemon/models/psychro.h"

#include "testlib.h"

static void test_dew_point_matches_domain_vectors(void)
{
	CHECK_NEAR(psychro_dew_point(30.0, 80.0), 26.17, 0.01);
	CHECK_NEAR(psychro_dew_point(25.0, 83.0), 21.91, 0.01);
	/* Saturated air: the dew point is the air temperature. */
	CHECK_NEAR(psychro_dew_point(4.0, 100.0), 4.0, 1e-9);
}

static void test_dew_point_of_impossible_rh_is_not_a_number(void)
{
	CHECK(isnan(psychro_dew_point(20.0, 0.0)));
	CHECK(isnan(psychro_dew_point(20.0, -5.0)));
	CHECK(isnan(psychro_dew_point(20.0, 100.5)));
	CHECK(isnan(psychro_dew_point(NAN, 50.0)));
}

static void test_saturation_pressure_at_5c_is_871_7_pa(void)
{
	CHECK_NEAR(psychro_sat_pressure(5.0), 871.7, 0.1);
}

static void test_vpd_is_zero_for_saturated_air_at_product_temperature(void)
{
	CHECK_NEAR(psychro_vpd(3.0, 1.0, 3.0, 100.0), 0.0, 1e-9);
	/* Warmer product than air at 95 %: the product loses water. */
	CHECK(psychro_vpd(5.0, 0.98, 3.0, 95.0) > 0.0);
}

int main(void)
{
	tl_prog = "unit/psychro";
	RUN(test_dew_point_matches_domain_vectors);
	RUN(test_dew_point_of_impossible_rh_is_not_a_number);
	RUN(test_saturation_pressure_at_5c_is_871_7_pa);
	RUN(test_vpd_is_zero_for_saturated_air_at_product_temperature);
	return TL_DONE();
}
