/* bench_batches.c - issue 14's processing benchmarks through the engine
 * path (daemon/engine/batch.c), not the pure models (bench_cooling.c):
 * process lines of three pulp (or core) probes and a medium each, one
 * active batch per line (engine_batch_start), live samples fed round-robin
 * over every line's channels through engine_process; CPU ns per sample
 * with 1 line and with 500 lines (what grows with the number of lines),
 * one engine_tick over 500 batches, and the memory of 500 batches: the
 * heap (mallinfo2) and RSS (/proc/self/statm) before and after starting
 * them, and the per-batch structs.  Precooling, then carcass chilling.
 * What the engine emits is discarded (callbacks that drop it). */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/engine.h"
#include "../../daemon/engine/engine_int.h"
#include "../../daemon/log.h"
#include "../../daemon/util.h"

#define NS_S 1000000000LL
#define NLINES 500
#define NCH 4 /* medium + 3 probes */
#define STEPS 360 /* readings per channel: 1 h at 10 s, in the fitted regime */

static double curve_tab[NCH - 1][STEPS];

static void drop_lines(void *arg, const char *l, size_t len, size_t n)
{
	(void)arg;
	(void)l;
	(void)len;
	(void)n;
}

static void drop_event(void *arg, const char *js, size_t len)
{
	(void)arg;
	(void)js;
	(void)len;
}

static const struct engine_callbacks discard = { drop_lines, drop_event, NULL };

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
	double la[3] = { NAN, NAN, NAN };

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
	if (getloadavg(la, 3) < 0)
		la[0] = la[1] = la[2] = NAN;
	printf("  machine: %s, %ld cores, load average %.2f %.2f %.2f\n", model, sysconf(_SC_NPROCESSORS_ONLN), la[0],
	       la[1], la[2]);
}

/* Pulp curves with a lag, precomputed so that exp() is not measured. */
static void fill(void)
{
	/* hydrocooler-like C, so that most of the hour is the fitted regime */
	static const double j[] = { 1.0, 1.15, 1.3 }, c[] = { 2.5, 2.0, 1.5 };
	for (int i = 0; i < NCH - 1; i++)
		for (int k = 0; k < STEPS; k++) {
			double y = j[i] * exp(-c[i] * k * 10.0 / 3600.0);
			curve_tab[i][k] = 2.0 + 28.0 * (y < 1 ? y : 1) + 0.01 * (k % 3);
		}
}

static long rss_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static const char *const kind_name[] = { "precool", "carcass_chill" };
static const char *const prof_name[] = { "fa", "air-chill" };

/* The config: both process profiles, nlines lines of one kind. */
static struct cc_config *config_make(const char *dir, int chill, int nlines)
{
	char *path = xasprintf("%s/c.conf", dir);
	FILE *f = fopen(path, "w");
	struct cc_errors e = { 0 };
	struct cc_config *cfg = NULL;

	if (!f)
		goto out;
	fprintf(f, "site = \"s\"; state_dir = \"%s\"; log = { level = \"error\"; };\n"
		   "process_profiles = ( { name = \"fa\"; version = \"v1\"; kind = \"precool\";\n"
		   "  precool = { target = (5.0, \"D: bench\"); target_margin = (1.0, \"D\"); c_ref = 0.5; }; },\n"
		   " { name = \"air-chill\"; version = \"v1\"; kind = \"carcass_chill\";\n"
		   "  carcass_chill = { target = (4.0, \"D\"); max_gap = \"10m\"; weight_bands = ( { max_kg = 1.814; "
		   "deadline = \"4h\"; },\n   { max_kg = 3.629; deadline = \"6h\"; }, { deadline = \"8h\"; } ); }; } );\n"
		   "alarms = { stale_after = \"1h\"; };\n"
		   "outputs = { file = ( { path = \"-\"; } ); };\nprocesses = (\n",
		dir);
	for (int i = 0; i < nlines; i++)
		fprintf(f, "  { name = \"l%03d\"; kind = \"%s\"; medium = \"l%03d/air\"; probes = [ \"l%03d/p1\", "
			   "\"l%03d/p2\", \"l%03d/p3\" ]; }%s\n",
			i, kind_name[chill], i, i, i, i, i + 1 < nlines ? "," : " );");
	fclose(f);
	if (config_load(path, &cfg, &e) < 0) {
		errors_print(&e, stderr);
		cfg = NULL;
	}
	errors_free(&e);
out:
	free(path);
	return cfg;
}

static struct cc_channel *chans_make(int nlines)
{
	static const char *const nm[NCH] = { "air", "p1", "p2", "p3" };
	struct cc_channel *ch = xcalloc((size_t)nlines * NCH, sizeof(*ch));

	for (int i = 0; i < nlines; i++)
		for (int k = 0; k < NCH; k++) {
			struct cc_channel *c = &ch[i * NCH + k];
			c->sensor = xasprintf("l%03d", i);
			c->id = xasprintf("l%03d/%s", i, nm[k]);
			c->name = nm[k];
			c->quantity = "temperature";
		}
	return ch;
}

static void chans_free(struct cc_channel *ch, int nlines)
{
	for (int i = 0; i < nlines * NCH; i++) {
		free((char *)ch[i].sensor);
		free((char *)ch[i].id);
	}
	free(ch);
}

struct result {
	double feed_s, tick_ms, tick2_ms;
	long n, heap, rss_kib, fitted;
};

/* Feeds STEPS rounds of every channel of every line; ns per sample. */
static void feed(struct engine *eng, struct cc_channel *ch, int nlines, int64_t t0, struct result *r)
{
	long n = 0;
	double c0 = cpu_s();

	for (int k = 0; k < STEPS; k++) {
		int64_t ts = t0 + (int64_t)k * 10 * NS_S;
		for (int i = 0; i < nlines; i++)
			for (int c = 0; c < NCH; c++) {
				struct cc_sample s = { .ch = &ch[i * NCH + c], .ts_ns = ts, .quality = CC_Q_GOOD,
						       .value = c ? curve_tab[c - 1][k] : 2.0 };
				engine_process(eng, &s, 1);
				n++;
			}
	}
	r->feed_s += cpu_s() - c0;
	r->n += n;
}

static int run(const char *dir, int chill, int nlines, struct result *r)
{
	struct cc_config *cfg = config_make(dir, chill, nlines);
	struct cc_channel *ch;
	struct engine *eng;
	struct mallinfo2 m0, m1;
	long rss0;
	double c0;
	/* live readings, the last one now: a backlog would take another path */
	int64_t t0 = time_now_ns() - (int64_t)(STEPS - 1) * 10 * NS_S;

	if (!cfg)
		return -1;
	ch = chans_make(nlines);
	eng = engine_new(cfg, &discard);
	if (!eng)
		return -1;
	malloc_trim(0); /* freed memory of an earlier run back to the system, so RSS can grow */
	m0 = mallinfo2();
	rss0 = rss_kib();
	for (int i = 0; i < nlines; i++) {
		char line[16], id[16];
		snprintf(line, sizeof(line), "l%03d", i);
		snprintf(id, sizeof(id), "B%03d", i);
		int rc = engine_batch_start(eng, line, id, prof_name[chill], t0, 0, 0, 1.6, "bench");
		if (rc < 0) {
			fprintf(stderr, "  engine_batch_start %s: %s\n", line, strerror(-rc));
			return -1;
		}
	}
	m1 = mallinfo2();
	r->heap = (long)(m1.uordblks - m0.uordblks);
	r->rss_kib = rss_kib() - rss0;
	feed(eng, ch, nlines, t0, r);
	r->fitted = chill ? eng->batches[0]->cs.cool.probe[2].n : eng->batches[0]->b.probe[2].n;
	/* the first tick emits the process points and writes the snapshot;
	 * the next one, a second later, only judges (no new samples) */
	c0 = cpu_s();
	engine_tick(eng, time_now_ns());
	r->tick_ms = (cpu_s() - c0) * 1e3;
	c0 = cpu_s();
	engine_tick(eng, time_now_ns() + NS_S);
	r->tick2_ms = (cpu_s() - c0) * 1e3;
	engine_free(eng);
	config_free(cfg);
	chans_free(ch, nlines);
	{
		/* the next run starts empty, not from this one's snapshot */
		char *st = xasprintf("%s/%s", dir, STATE_FILE);
		unlink(st);
		free(st);
	}
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/cc-bench-batches-XXXXXX";
	struct result one, many;
	const int rounds = 200; /* of the 1-line run, for enough samples to time */

	machine();
	fflush(stdout);
	fill();
	log_set_level(LOG_LVL_ERR);
	if (!mkdtemp(dir))
		return 1;
	for (int chill = 0; chill <= 1; chill++) {
		one = (struct result){ 0 };
		many = (struct result){ 0 };
		for (int k = 0; k < rounds; k++)
			if (run(dir, chill, 1, &one) < 0)
				return 1;
		if (run(dir, chill, NLINES, &many) < 0)
			return 1;
		printf("  %s: engine_process, %d s of 3 probes + medium at 10 s per line, %ld of %d readings of the "
		       "slowest probe fitted:\n"
		       "    1 line, 1 batch: %.0f ns/sample (%ld samples); %d lines, %d batches: %.0f ns/sample "
		       "(%ld samples)\n",
		       kind_name[chill], STEPS * 10, many.fitted, STEPS, one.feed_s * 1e9 / (double)one.n, one.n, NLINES,
		       NLINES, many.feed_s * 1e9 / (double)many.n, many.n);
		printf("    engine_tick over %d running batches: %.1f ms with %d process points and the snapshot, "
		       "%.1f ms judging only\n",
		       NLINES, many.tick_ms, NLINES, many.tick2_ms);
		printf("    %d batches started: heap +%ld B (%.0f B/batch), RSS +%ld KiB\n", NLINES, many.heap,
		       (double)many.heap / NLINES, many.rss_kib);
	}
	printf("  sizeof: struct ebatch %zu B (struct cool_batch %zu, struct chill_state %zu, "
	       "struct cool_params %zu, struct chill_params %zu), struct ealarm %zu B\n",
	       sizeof(struct ebatch), sizeof(struct cool_batch), sizeof(struct chill_state), sizeof(struct cool_params),
	       sizeof(struct chill_params), sizeof(struct ealarm));
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "  (could not remove %s)\n", dir);
		free(cmd);
	}
	return 0;
}
