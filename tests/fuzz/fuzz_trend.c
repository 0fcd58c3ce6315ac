/* fuzz_trend.c - the rooms' 24-hour charts come back from files a crash,
 * a torn disk or an edit may have left: any bytes as trend.state's content
 * (trend_read: its CRC already checked, so every input reaches the parser)
 * and as a channel's text in an older engine.state's "trend" member
 * (trend_restore) never crash or read outside the input, and every bucket
 * they restore holds finite values with min <= max and a finite mean (what
 * the room page draws).  One engine on a configuration of two rooms for the whole run;
 * its state directory is on /dev/shm, removed at exit. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/engine.h"
#include "../../daemon/engine/engine_int.h"
#include "../../daemon/log.h"
#include "fuzz_dir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the seeds' day: 2026-06-01, in 300-second buckets */
#define SEED_SLOT 5934240LL

static char dir[64];
static struct cc_config *cfg;
static struct engine *E;
static struct engine_trend *tr;

static void teardown(void)
{
	engine_free(E); /* writes engine.state and trend.state */
	config_free(cfg);
	free(tr);
	fuzz_dir_remove(dir);
}

static void setup(void)
{
	struct cc_errors e = { 0 };
	char text[1024], name[128];

	log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
	fuzz_dir_make(dir, sizeof(dir), "trend");
	snprintf(name, sizeof(name), "%s/coldchaind.conf", dir);
	snprintf(text, sizeof(text),
		 "site = \"s\"; state_dir = \"%s\";\n"
		 "rooms = ( { name = \"A\"; temperature = \"th-a/temperature\"; humidity = \"th-a/humidity\"; },\n"
		 "  { name = \"B\"; temperature = \"th-b/temperature\"; } );\n"
		 "outputs = { file = ( { path = \"-\"; } ); };\n",
		 dir);
	if (config_load_string(text, name, &cfg, &e) != 0) {
		errors_print(&e, stderr);
		abort();
	}
	if (!(E = engine_new(cfg, NULL)) || !(tr = malloc(sizeof(*tr))))
		abort();
	atexit(teardown);
}

/* Every bucket a room shows holds finite values in order; asked at the
 * seeds' day and ten days on, where a mutated slot lands now and then. */
static void check_room(const char *room, int64_t slot)
{
	if (engine_room_trend(E, room, slot * ENGINE_TREND_BUCKET_S * 1000000000LL, tr) != 0)
		abort();
	for (int k = 0; k < ENGINE_TREND_N; k++)
		for (int j = 0; j < ENGINE_TREND_BUCKETS; j++) {
			const struct engine_trend_bucket *b = &tr->s[k].b[j];
			if (b->n && (!isfinite(b->min) || !isfinite(b->max) || !isfinite(b->mean) || b->min > b->max))
				abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad = 0;
	char *text;
	cJSON *root, *t;

	if (size > (1u << 20))
		return 0;
	if (!E)
		setup();
	pthread_mutex_lock(&E->lock);
	trend_read(E, data, size, &bad);
	/* the same bytes as an older state file's text of two channels */
	if ((text = malloc(size + 1)) != NULL) {
		memcpy(text, data, size);
		text[size] = '\0';
		root = cJSON_CreateObject();
		t = cJSON_AddObjectToObject(root, "trend");
		cJSON_AddStringToObject(t, "th-a/temperature", text);
		cJSON_AddStringToObject(t, "th-b/temperature", text);
		trend_restore(E, root);
		cJSON_Delete(root);
		free(text);
	}
	pthread_mutex_unlock(&E->lock);
	check_room("A", SEED_SLOT + 10);
	check_room("B", SEED_SLOT + 10);
	check_room("A", SEED_SLOT + 2880);
	return 0;
}
