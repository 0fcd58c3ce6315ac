/* bench_drying.c - the drying model's update cost per sample
 * (daemon/models/drying.h): a lychee kiln batch's load cell at 1 Hz
 * (running mean, filtered points, Lewis/Page sums), and a channel mix
 * (load cell, kiln air, ambient, exhaust in turn) with every verdict
 * queried after each sample, as the engine will; and the bytes of one
 * batch's state.  One core, CPU time. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../daemon/models/drying.h"

#define S_NS 1000000000LL

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void params(struct drying_params *p)
{
	drying_params_default(p);
	p->mc_target_wb = 0.25;
	p->wet_margin = 0.02;
	p->dry_margin = 0.05;
	p->ratio_max = 1.0 / 3.0;
	p->xe = 0.10;
	p->filter_window_s = 300;
	p->rate_window_h = 1.0;
	p->initial_rate_h = 6.0;
	p->stall_frac = 0.1;
	p->rise_frac = 0.005;
	p->stuck_h = 2;
	p->stuck_frac = 0.005; /* loadcell_flat_band's default, 0.5 % of m0 */
	p->stuck_air_c = 50;
	p->fit_mr_min = 0.02;
	p->fit_mr_max = 0.98;
	p->fit_min_points = 6;
	p->initial_phase_h = 4;
	p->scorch_c = 80;
	p->scorch_abs_c = 100;
	p->scorch_undelayed_k = 10;
	p->fast_start_h = 2;
	p->fast_start_c = 60;
	p->exhaust_rh_max = 90;
	p->dt_cap_s = 900;
	p->nstages = 2;
	p->stages[0] = (struct drying_stage){ "start", 4, 50, 58, 60, 0 };
	p->stages[1] = (struct drying_stage){ "main", 0, 60, 80, NAN, 0 };
}

static void machine(void)
{
	char line[256], model[200] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
			snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	printf("  machine: %s\n", model);
}

int main(void)
{
	struct drying_params p;
	struct drying_state s;
	const long n = 4000000;
	unsigned sink = 0;
	double t0, t1;

	params(&p);
	machine();
	drying_state_init(&s, 0, 100.0, 0.82);
	t0 = cpu_s();
	for (long i = 0; i < n; i++) /* 1 Hz, ~46 days of samples: the fit sums keep growing */
		drying_observe_mass(&s, &p, i * S_NS, 18.0 * (1.1 + 4.456 * exp(-0.06 * (double)(i % 180000) / 3600.0)));
	t1 = cpu_s();
	printf("  drying_observe_mass: %ld samples (running mean, filtered points, fits) in %.2f s CPU: "
	       "%.0f ns/sample\n", n, t1 - t0, (t1 - t0) * 1e9 / (double)n);

	drying_state_init(&s, 0, 100.0, 0.82);
	t0 = cpu_s();
	for (long i = 0; i < n; i++) {
		int64_t ts = i * 10 * S_NS / 4; /* each channel every 10 s */
		double h = (double)ts / 3.6e12;
		switch (i & 3) {
		case 0:
			drying_observe_mass(&s, &p, ts, 18.0 * (1.1 + 4.456 * exp(-0.06 * h)));
			break;
		case 1:
			drying_observe_air(&s, &p, ts, 55.0 + (double)(i % 200) * 0.1, 20.0);
			break;
		case 2:
			drying_observe_ambient(&s, &p, ts, 30.0, 80.0);
			break;
		default:
			drying_observe_exhaust(&s, &p, ts, 50.0, 60.0, 1.0);
		}
		sink += drying_verdicts(&s, &p, ts);
	}
	t1 = cpu_s();
	printf("  mixed channels + drying_verdicts per sample: %ld samples in %.2f s CPU: %.0f ns/sample\n", n,
	       t1 - t0, (t1 - t0) * 1e9 / (double)n);
	printf("  one batch's state: %zu bytes (struct drying_state); 500 batches: %.0f KiB; params %zu bytes "
	       "(shared per profile)\n", sizeof(struct drying_state), 500.0 * (double)sizeof(struct drying_state) / 1024.0,
	       sizeof(struct drying_params));
	return sink == 0xffffffffu; /* keeps the verdicts from being optimised away */
}
