/* psychro.c - saturation vapour pressure, dew point, vapour-pressure deficit.
 * Formulas and verification vectors: ../shared/domain.md §2 and §3. */
#include "psychro.h"

#include <math.h>

double psychro_sat_pressure(double t_c)
{
	return 611.2 * exp(17.62 * t_c / (243.12 + t_c));
}

double psychro_dew_point(double t_c, double rh_pct)
{
	double g;

	if (!(rh_pct > 0.0 && rh_pct <= 100.0) || !isfinite(t_c))
		return NAN;
	g = log(rh_pct / 100.0) + 17.625 * t_c / (243.04 + t_c);
	return 243.04 * g / (17.625 - g);
}

double psychro_vpd(double tp_c, double aw, double ta_c, double rh_pct)
{
	return aw * psychro_sat_pressure(tp_c) - rh_pct / 100.0 * psychro_sat_pressure(ta_c);
}
