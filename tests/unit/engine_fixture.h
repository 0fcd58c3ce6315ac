/* engine_fixture.h - the engine unit tests' shared set-up and teardown: a
 * fresh temporary state directory, the test's configuration written there
 * and loaded, and the engine on it.  Include once, after testlib.h; the
 * test uses dir, cfg and E as its own. */
#ifndef CC_TEST_ENGINE_FIXTURE_H
#define CC_TEST_ENGINE_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../daemon/config.h"
#include "../../daemon/engine.h"
#include "../../daemon/util.h"
#include "testlib.h"

static char dir[64]; /* the state directory, "$TMPDIR/cc-TAG-XXXXXX" */
static struct cc_config *cfg;
static struct engine *E;

/* The start of a configuration with one room, A, that keeps lychee on
 * th-a1/temperature; its "%s" takes the state directory (dir). */
#define EF_CONF_LYCHEE_ROOM                                                                                \
	"site = \"s\"; state_dir = \"%s\";\n"                                                              \
	"profiles = ( { name = \"lychee\"; version = \"t1\"; limits = { warn_high = 7.0; };\n"             \
	"  model = { type = \"arrhenius\"; t_ref = 3.5; shelf_life = \"28d\"; ea = 75.0; valid_min = 1.0;" \
	" valid_max = 35.0; pre_monitoring = 30.0; }; } );\n"                                              \
	"rooms = ( { name = \"A\"; profile = \"lychee\"; temperature = \"th-a1/temperature\"; } );\n"

/* Writes dir/name from fmt and loads it into cfg, printing every error the
 * loader reports; config_load's return. */
__attribute__((format(printf, 2, 3))) static inline int ef_load(const char *name, const char *fmt, ...)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	struct cc_errors e = { 0 };
	va_list ap;
	int rc;

	if (!f) {
		printf("    cannot write %s\n", path);
		free(path);
		return -1;
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	rc = config_load(path, &cfg, &e);
	errors_print(&e, stdout);
	errors_free(&e);
	free(path);
	return rc;
}

/* Makes dir (tl_mkdtemp: "$TMPDIR/cc-TAG-XXXXXX"), runs the test's load() (which fills
 * cfg, usually through ef_load) and builds E on cfg with cb.  On failure
 * says "FAIL <tl_prog>: setup" and removes what it made; 0, or -1. */
static inline int ef_setup(const char *tag, int (*load)(void), const struct engine_callbacks *cb)
{
	if (tl_mkdtemp(dir, sizeof(dir), tag) < 0) {
		printf("FAIL %s: setup (mkdtemp)\n", tl_prog);
		return -1;
	}
	if (load() < 0 || !cfg) {
		printf("FAIL %s: setup\n", tl_prog);
		config_free(cfg);
		cfg = NULL;
		tl_rmtree(dir);
		return -1;
	}
	E = engine_new(cfg, cb);
	return 0;
}

/* Frees E and cfg (E writes its snapshot first) and removes dir. */
static inline void ef_teardown(void)
{
	engine_free(E);
	E = NULL;
	config_free(cfg);
	cfg = NULL;
	tl_rmtree(dir);
}

#endif
