/* psychro.h - moist-air helpers used by the condensation and water-loss
 * models: saturation vapour pressure (Magnus, Sonntag 1990 coefficients as
 * in domain.md §2) and dew point.  Pure functions: no I/O, no state. */
#ifndef CC_PSYCHRO_H
#define CC_PSYCHRO_H

/* Saturation vapour pressure over water, Pa, for t_c in °C. */
double psychro_sat_pressure(double t_c);

/*
 * Dew point in °C from air temperature (°C) and relative humidity (%).
 * RH outside (0, 100] returns NaN: a sensor fault, not a dew point.
 */
double psychro_dew_point(double t_c, double rh_pct);

/* Vapour-pressure deficit, Pa, between a product surface at tp_c with water
 * activity aw and air at ta_c / rh_pct. */
double psychro_vpd(double tp_c, double aw, double ta_c, double rh_pct);

#endif
