/* shelflife.h - temperature-driven spoilage models (domain.md §2): rate
 * ratios (Arrhenius, Q10, square-root, piecewise Q10), and the per-lot
 * accumulators that integrate them sample by sample: fraction of shelf life
 * consumed, mean kinetic temperature, degree-hours, chilling degree-hours,
 * weight loss, product temperature lag.  Pure: no I/O, time passed in. */
#ifndef CC_SHELFLIFE_H
#define CC_SHELFLIFE_H

#include <stddef.h>
#include <stdint.h>

#define SL_R_GAS 8.314462618 /* J mol^-1 K^-1 */
#define SL_K0 273.15
#define SL_PW_MAX 6

enum sl_kind { SL_NONE, SL_ARRHENIUS, SL_Q10, SL_SQRT, SL_PIECEWISE_Q10 };

struct sl_params {
	enum sl_kind kind;
	double t_ref_c;   /* reference temperature */
	double sl_ref_h;  /* shelf life at t_ref_c, hours */
	double ea_j_mol;  /* Arrhenius activation energy */
	double q10;       /* Q10 */
	double t_min_c;   /* square-root: no growth at or below */
	/* piecewise Q10: q10 pw_q10[i] holds below pw_upper_c[i]; the last
	 * entry holds above the last bound (npw entries, npw-1 bounds used) */
	size_t npw;
	double pw_upper_c[SL_PW_MAX];
	double pw_q10[SL_PW_MAX];
	double valid_min_c, valid_max_c; /* temperatures are clamped to this */
};

/* Rate ratio r(T) relative to t_ref_c (1 at t_ref_c); T is clamped to the
 * validity range first, so a faulty sensor cannot overflow exp().  NaN T
 * returns NaN. */
double sl_rate(const struct sl_params *p, double t_c);
/* Shelf life at T, hours: sl_ref_h / r(T) (INFINITY when r is 0). */
double sl_life_h(const struct sl_params *p, double t_c);

enum sl_gap_fill {
	SL_GAP_WORST_ENDPOINT, /* the warmer of the two readings around the gap (default) */
	SL_GAP_LAST,           /* the last reading before the gap */
	SL_GAP_VALID_MAX,      /* the top of the validity range: the worst case */
};

struct lot_params {
	struct sl_params sl;
	double mkt_dh_r_k;    /* ΔH/R for MKT, K (default 10000) */
	double dh_thr_c;      /* degree-hours above this */
	double chill_thr_c;   /* chilling degree-hours below this */
	double aw;            /* water activity of the product surface */
	double kt_fresh;      /* weight loss coefficient, fraction per Pa per hour, fresh */
	double kt_dry;        /* ... when weight loss reaches wl_crit (linear between) */
	double wl_crit;       /* critical weight loss, fraction */
	double tau_h;         /* product temperature lag constant, hours (0: product = air) */
	double dt_cap_s;      /* longer steps are gaps */
	enum sl_gap_fill gap_fill;
	int64_t loaded_ns;    /* when the lot was loaded (0: unknown) */
	double pre_c;         /* product temperature assumed before the first reading (NaN: none) */
};

/* Defaults that are not product data: ΔH/R 10000 K, a_w 0.98, no lag. */
void lot_params_default(struct lot_params *p);

struct lot_state {
	int64_t last_ts_ns; /* 0: nothing observed yet */
	double last_air_c;
	double last_rh;     /* NaN when unknown */
	double product_c;   /* lagged product temperature */
	double consumed;    /* fraction of shelf life, 0.. (may exceed 1) */
	double mkt_sum_w;   /* Σ t·exp(-ΔH/RT) (hours) */
	double mkt_sum_t;   /* Σ t (hours) */
	double degree_h;    /* K·h above dh_thr_c */
	double chill_h;     /* K·h below chill_thr_c, never reset */
	double weight_loss; /* fraction */
	double observed_h;  /* hours integrated */
	double no_data_h;   /* hours of gaps, filled conservatively */
	uint32_t gaps;      /* number of gaps */
};

void lot_state_init(struct lot_state *s);

/* Integrates dt_h hours at air temperature t_air_c and relative humidity
 * rh (NaN: unknown, no weight loss counted).  The product temperature lags
 * the air temperature; the shelf-life rate is taken at the product
 * temperature (the air temperature when tau_h is 0). */
void lot_step(struct lot_state *s, const struct lot_params *p, double dt_h, double t_air_c, double rh);

/* A reading at ts_ns: integrates the time since the previous reading at the
 * previous reading's values (what held then); a step longer than dt_cap_s
 * is a gap: the excess is counted in no_data_h and filled per gap_fill,
 * never optimistically.  The time from loaded_ns to the first reading is a
 * gap as a whole (nothing was observed), filled with the warmer of pre_c
 * and the first reading.  Afterwards product_c is the product temperature
 * at ts_ns (the reading itself when tau_h is 0).  Readings older than the
 * last are ignored (returns -1); the first reading returns 0. */
int lot_observe(struct lot_state *s, const struct lot_params *p, int64_t ts_ns, double t_air_c, double rh);

/* Remaining shelf life in hours if the air is held at t_c from now on (0
 * when used up): with a product lag (tau_h > 0) the product goes from
 * product_c towards t_c first, and that approach is integrated. */
double lot_remaining_h(const struct lot_state *s, const struct lot_params *p, double t_c);
/* Mean kinetic temperature in °C so far (NaN before any interval). */
double lot_mkt_c(const struct lot_state *s, const struct lot_params *p);

/* MKT of n (hours, °C) pairs, for one-off reports and tests. */
double sl_mkt_c(const double *hours, const double *t_c, size_t n, double dh_r_k);

#endif
