/* bench_cooling.c - per-sample cost of the precooling and carcass-chilling
 * models (daemon/models/cooling.h, chill.h): a batch of three pulp probes
 * and a medium channel, 10 s apart, every reading in the fitted regime
 * (the batch restarts every 3 h of readings, so the fit path is what is
 * measured, not the cheap tail near Tm); the verdict query, which the
 * engine runs once per interval, not per sample; and the bytes of one
 * batch's state.  One core, CPU time. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../daemon/models/chill.h"
#include "../../daemon/models/cooling.h"

#define NS_S 1000000000LL
#define CYCLE 1080 /* readings per probe per batch: 3 h at 10 s */
#define NPROBES 3

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void machine(void)
{
	char line[256], model[200] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			if (c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = 0;
			}
			break;
		}
	}
	if (f)
		fclose(f);
	printf("  machine: %s\n", model);
}

/* Pulp curves with a lag (j 1.0-1.3) and the medium, precomputed so that
 * exp() of the generator is not measured. */
static double curve_tab[NPROBES][CYCLE];

static void fill(void)
{
	static const double j[NPROBES] = { 1.0, 1.15, 1.3 }, c[NPROBES] = { 0.8, 0.6, 0.5 };
	for (int i = 0; i < NPROBES; i++)
		for (int k = 0; k < CYCLE; k++) {
			double y = j[i] * exp(-c[i] * k * 10.0 / 3600.0);
			curve_tab[i][k] = 2.0 + 28.0 * (y < 1 ? y : 1) + 0.01 * (k % 3);
		}
}

int main(void)
{
	struct cool_params p;
	struct chill_params cp;
	struct cool_batch b;
	struct chill_state cs;
	struct cool_verdict v;
	struct chill_verdict cv;
	const long cycles = 4000;
	long n = 0;
	double t0, t1, sink = 0;

	machine();
	fill();
	cool_params_default(&p);
	p.target_c = 5.0;
	p.c_ref = 0.6;
	t0 = cpu_s();
	for (long r = 0; r < cycles; r++) {
		cool_batch_init(&b, NPROBES, 0, 0, 0);
		for (int k = 0; k < CYCLE; k++) {
			int64_t ts = (int64_t)k * 10 * NS_S;
			cool_batch_observe_medium(&b, &p, ts, 2.0);
			for (uint32_t i = 0; i < NPROBES; i++)
				cool_batch_observe_probe(&b, &p, i, ts, curve_tab[i][k]);
			n += 1 + NPROBES;
		}
		sink += b.probe[0].suv;
	}
	t1 = cpu_s();
	printf("  cool_batch_observe_*: %ld samples (%d probes + medium; %u, %u, %u of %d readings per probe "
	       "fitted) in %.2f s CPU: %.0f ns/sample\n", n, NPROBES, b.probe[0].n, b.probe[1].n, b.probe[2].n,
	       CYCLE, t1 - t0, (t1 - t0) * 1e9 / (double)n);

	t0 = cpu_s();
	for (long r = 0; r < 1000000; r++) {
		cool_batch_verdict(&b, &p, (int64_t)(CYCLE + r) * 10 * NS_S, &v);
		sink += v.fit.c_per_h;
	}
	t1 = cpu_s();
	printf("  cool_batch_verdict: %.0f ns/call (once per interval per batch)\n", (t1 - t0) * 1e9 / 1e6);

	chill_params_default(&cp);
	cp.cool = p;
	cp.cool.target_c = 4.0;
	cp.nbands = 1;
	cp.band_upper_kg[0] = INFINITY;
	cp.band_h[0] = 8;
	cp.gap_h = 1.0;
	n = 0;
	t0 = cpu_s();
	for (long r = 0; r < cycles; r++) {
		chill_init(&cs, &cp, NPROBES, 0, 1.6, 0);
		for (int k = 0; k < CYCLE; k++) {
			int64_t ts = (int64_t)k * 10 * NS_S;
			chill_observe_medium(&cs, &cp, ts, 2.0);
			for (uint32_t i = 0; i < NPROBES; i++)
				chill_observe_probe(&cs, &cp, i, ts, curve_tab[i][k]);
			n += 1 + NPROBES;
		}
		chill_verdict(&cs, &cp, (int64_t)CYCLE * 10 * NS_S, &cv);
		sink += cv.margin_h;
	}
	t1 = cpu_s();
	printf("  chill_observe_*: %ld samples (%d probes + medium) in %.2f s CPU: %.0f ns/sample\n", n, NPROBES,
	       t1 - t0, (t1 - t0) * 1e9 / (double)n);
	printf("  state: struct cool_batch %zu bytes, struct chill_state %zu bytes (%d probes max); "
	       "500 batches %.0f KiB\n", sizeof(struct cool_batch), sizeof(struct chill_state), COOL_PROBES_MAX,
	       500.0 * (double)sizeof(struct chill_state) / 1024.0);
	if (sink == 42.4242)
		printf("%g\n", sink); /* keeps the results alive */
	return 0;
}
