/* fuzz_control_engine.c - libFuzzer target for the control socket's
 * requests against a running engine (fuzz_control has none): any bytes,
 * split at newlines into up to 16 requests run in turn (a lot loaded by one
 * is moved or unloaded by the next), each against an engine on a
 * configuration of 24 rooms, 22 profiles and 24 lots, so every command
 * reaches the engine and every "not found" builds its hint from more names
 * than a hint shows.  Each reply must be valid UTF-8, a JSON object with a
 * boolean "ok"; a hint's list holds at most 20 names, exactly 20 when it
 * says of how many (hint_total, more than 20).  A fresh engine for each
 * input (its state file removed after it), so a crash replays alone. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../codec/payload.h"
#include "../../daemon/config.h"
#include "../../daemon/control.h"
#include "../../daemon/engine.h"
#include "../../daemon/log.h"
#include "../../daemon/util.h"
#include "fuzz_dir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOMS 24
#define PROFILES 22
#define HINT_SHOWN 20 /* control.c's HINT_MAX */
#define MAX_REQUESTS 16

static char dir[64];
static struct cc_config *cfg;

static void teardown(void)
{
	config_free(cfg);
	fuzz_dir_remove(dir);
}

static void setup(void)
{
	struct cc_errors e = { 0 };
	char name[128], *text;
	size_t len = 0;
	FILE *f;

	log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
	fuzz_dir_make(dir, sizeof(dir), "ctl");
	snprintf(name, sizeof(name), "%s/coldchaind.conf", dir);
	if (!(f = open_memstream(&text, &len)))
		abort();
	fprintf(f, "site = \"s\"; state_dir = \"%s\";\nprofiles = (", dir);
	for (int i = 1; i <= PROFILES; i++)
		fprintf(f, "%s { name = \"p%02d\"; version = \"f1\"; limits = { warn_high = 7.0; };\n"
			   "  model = { type = \"arrhenius\"; t_ref = 3.5; shelf_life = \"28d\"; ea = 75.0;"
			   " valid_min = 1.0; valid_max = 35.0; }; }",
			i > 1 ? "," : "", i);
	fprintf(f, " );\nrooms = (");
	for (int i = 1; i <= ROOMS; i++)
		fprintf(f, "%s { name = \"room-%02d\"; profile = \"p%02d\"; temperature = \"th-%02d/temperature\";\n"
			   "  lots = ( { id = \"L-%02d\"; product = \"p%02d\"; loaded = \"2026-06-01T00:00:00Z\"; } ); }",
			i > 1 ? "," : "", i, i % PROFILES + 1, i, i, i % PROFILES + 1);
	fprintf(f, " );\nalarms = { stuck_after = \"0s\"; rate_limit = 0.0; };\n"
		   "outputs = { file = ( { path = \"-\"; } ); };\n");
	if (fclose(f) != 0 || config_load_string(text, name, &cfg, &e) != 0) {
		errors_print(&e, stderr);
		abort();
	}
	free(text);
	atexit(teardown);
}

/* The reply's checks; aborts on a broken one. */
static void check_reply(const char *rep)
{
	static const char *const lists[] = { "rooms", "profiles", "lots", "alarms" };
	const cJSON *total;
	cJSON *o;

	if (payload_utf8_check(rep, strlen(rep)) < 0)
		abort();
	o = cJSON_Parse(rep);
	if (!o || !cJSON_IsObject(o) || !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "ok")))
		abort();
	total = cJSON_GetObjectItemCaseSensitive(o, "hint_total");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")))
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, lists[i]);
			int n = cJSON_GetArraySize(l);
			if (!l || !cJSON_IsArray(l))
				continue;
			if (n > HINT_SHOWN || (total && (n != HINT_SHOWN || !cJSON_IsNumber(total) ||
							 total->valuedouble <= HINT_SHOWN)))
				abort();
		}
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine *e;
	const char *p = (const char *)data, *end = p + size;
	char path[128];
	int reload = 0;

	if (!cfg)
		setup();
	e = engine_new(cfg, NULL);
	for (int k = 0; k < MAX_REQUESTS && p < end; k++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		char *rep;

		if (n <= CONTROL_MAX_REQUEST) {
			rep = control_request(e, cfg, p, n, "fuzz", &reload);
			check_reply(rep);
			cJSON_free(rep);
		}
		p += n + (nl != NULL);
	}
	engine_free(e); /* writes its state: removed, the next input starts from the configuration */
	snprintf(path, sizeof(path), "%s/engine.state", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/trend.state", dir);
	unlink(path);
	return 0;
}
