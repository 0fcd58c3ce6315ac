/* bench_engine.c - model and alarm update cost per sample: the engine
 * (daemon/engine/) fed air-temperature samples of one room holding a
 * lychee lot (Arrhenius shelf life, MKT, degree/chill hours, product lag,
 * every temperature alarm evaluated), 10 s apart, on one core.  No
 * callbacks: what the engine emits is discarded, so this is the engine's
 * own CPU cost per sample. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/engine.h"
#include "../../daemon/log.h"
#include "../../daemon/util.h"

int main(void)
{
	char dir[] = "/tmp/cc-bench-engine-XXXXXX", *path;
	struct cc_channel ch = { .id = "th-a1/temperature", .quantity = "temperature", .site = "s", .room = "A",
				 .sensor = "th-a1", .name = "temperature" };
	struct cc_config *cfg = NULL;
	struct engine *eng;
	struct cc_errors e = { 0 };
	struct timespec t0, t1;
	const long n = 2000000;
	int64_t ts;
	char loaded[32];
	time_t t_load = time(NULL) - 60; /* loaded a minute before the first reading */
	FILE *f;

	if (!mkdtemp(dir))
		return 1;
	strftime(loaded, sizeof(loaded), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t_load));
	path = xasprintf("%s/c.conf", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "site = \"s\"; state_dir = \"%s\"; log = { level = \"error\"; };\n"
		   "profiles = ( { name = \"lychee\"; version = \"b1\";\n"
		   "  limits = { warn_high = 7.0; alarm_high = 10.0; warn_low = 1.0; on_delay = \"15m\"; };\n"
		   "  model = { type = \"arrhenius\"; t_ref = 3.5; shelf_life = \"28d\"; ea = 75.0; valid_min = 1.0;"
		   " valid_max = 35.0; }; } );\n"
		   "rooms = ( { name = \"A\"; temperature = \"th-a1/temperature\";\n"
		   "  lots = ( { id = \"L1\"; product = \"lychee\"; loaded = \"%s\"; } ); } );\n"
		   "outputs = { file = ( { path = \"-\"; } ); };\n",
		dir, loaded);
	fclose(f);
	if (config_load(path, &cfg, &e) < 0) {
		errors_print(&e, stderr);
		return 1;
	}
	log_set_level(LOG_LVL_ERR);
	eng = engine_new(cfg, NULL);
	/* Live readings, from now on (the engine's clock is the wall clock
	 * until a tick): readings older than the stale limit would be a
	 * backlog, evaluated on a path of its own. */
	ts = time_now_ns();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (long i = 0; i < n; i++) {
		struct cc_sample s = { .ch = &ch, .ts_ns = ts + i * 10000000000LL,
				       .value = 3.5 + (double)(i % 50) * 0.02, .quality = CC_Q_GOOD };
		engine_process(eng, &s, 1);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	engine_free(eng);
	{
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("  engine_process: %ld samples (1 room, 1 lychee lot, temperature alarms) in %.2f s CPU: "
		       "%.0f ns/sample, %.0f samples/s\n", n, s, s * 1e9 / (double)n, (double)n / s);
	}
	config_free(cfg);
	unlink(path);
	free(path);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "  (could not remove %s)\n", dir);
		free(cmd);
	}
	return 0;
}
