/* bench_fumigation.c - per-sample cost of the SO2 fumigation model
 * (daemon/models/fumigation.c) on one core: the chamber dose fed one reading
 * every 10 s, the outside exposure (TWA + STEL ring) fed 1-min and 1-s
 * readings (the latter keeps the ring full and merging), and the alarm
 * query the engine would run after each sample; plus one batch's state size. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../../daemon/models/fumigation.h"

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static volatile unsigned sink;

static void bench_exposure(const char *what, int64_t step_ns, int with_alarms)
{
	struct fum_exposure_params p = { .t_ref_h = 8, .twa_limit_ppm = 5, .stel_limit_ppm = 5,
					 .stel_window_s = 900, .ceiling_ppm = 1e9, .idlh_ppm = 100,
					 .max_gap_s = 300, .fill = FUM_FILL_WORST_ENDPOINT };
	struct fum_exposure_state s;
	const long n = 2000000;
	int64_t t0 = 1781252100LL * 1000000000LL;
	double a, b;

	fum_exposure_init(&s, 0);
	a = cpu_s();
	for (long i = 0; i < n; i++) {
		int64_t ts = t0 + i * step_ns;
		fum_exposure_observe(&s, &p, ts, 0.3 + (double)(i % 50) * 0.1);
		if (with_alarms)
			sink += fum_exposure_alarms(&s, &p, ts);
	}
	b = cpu_s();
	printf("  exposure_observe%s, %s: %ld samples in %.2f s CPU: %.0f ns/sample (%u ring merges)\n",
	       with_alarms ? " + alarms" : "", what, n, b - a, (b - a) * 1e9 / (double)n, s.merges);
}

static void bench_chamber(void)
{
	struct fum_chamber_params p = { .ct_min_ppmh = 3000, .ct_max_ppmh = 4500, .max_gap_s = 600,
					.entry_ppm = 2, .ach_per_h = 10, .purge_overdue_frac = 0.5,
					.flat_window_s = 600, .flat_eps_ppm = 1 };
	struct fum_chamber_state s;
	const long n = 2000000;
	int64_t t0 = 1781252100LL * 1000000000LL;
	double a, b;

	fum_chamber_init(&s);
	fum_chamber_set_phase(&s, FUM_PHASE_BURNING, t0);
	a = cpu_s();
	for (long i = 0; i < n; i++) {
		int64_t ts = t0 + i * 10000000000LL;
		fum_chamber_observe(&s, &p, ts, 5000.0 + (double)(i % 100) * 10.0);
		sink += fum_chamber_alarms(&s, &p, ts);
	}
	b = cpu_s();
	printf("  chamber_observe + alarms, 10-s readings: %ld samples in %.2f s CPU: %.0f ns/sample\n", n, b - a,
	       (b - a) * 1e9 / (double)n);
}

int main(void)
{
	bench_chamber();
	bench_exposure("1-min readings", 60000000000LL, 0);
	bench_exposure("1-min readings", 60000000000LL, 1);
	bench_exposure("1-s readings (ring merging)", 1000000000LL, 1);
	printf("  state of one fumigation batch: chamber %zu bytes + outside exposure %zu bytes = %zu bytes\n",
	       sizeof(struct fum_chamber_state), sizeof(struct fum_exposure_state),
	       sizeof(struct fum_chamber_state) + sizeof(struct fum_exposure_state));
	return 0;
}
