/* fuzz_config.c - the configuration loader must survive any bytes: it
 * reports errors, never crashes or exits.  And what it accepts, `-p`
 * prints back as a file it accepts again.  All in memory
 * (config_load_string, open_memstream): no file per input.  @include is
 * excluded (it reads other files, and libconfig exit()s on an include of a
 * directory - the loader pre-checks that, see daemon/config/load.c).  Two templates sit
 * in the config's devices/ directory so that device + template merging is
 * reached too.  libconfig 1.5 leaks inside its own parser on some malformed
 * input (a syntax error at a string token): tests/fuzz/lsan.supp names its
 * frames, never ours. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/log.h"
#include "fuzz_dir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char th_ok[] = "template = {\n"
			    "  name = \"th-ok\"; vendor = \"test\"; model = \"TH\"; manual = \"tests only\";\n"
			    "  points = (\n"
			    "    { channel = \"temperature\"; unit = \"C\"; table = \"input\"; address = 1; "
			    "type = \"int16\"; scale = 0.1; },\n"
			    "    { channel = \"humidity\"; unit = \"%RH\"; table = \"input\"; address = 2; "
			    "type = \"int16\"; scale = 0.1; }\n"
			    "  );\n"
			    "};\n";
static const char broken[] = "template = {\n"
			     "  name = \"broken\"; max_registers = 200; colour = \"red\";\n"
			     "  points = (\n"
			     "    { channel = \"temperature\"; table = \"input\"; address = 1; type = \"int24\"; },\n"
			     "    { channel = \"temperature\"; table = \"input\"; address = 2; },\n"
			     "    { channel = \"flag\"; table = \"coil\"; address = 0; bit = 2; }\n"
			     "  );\n"
			     "};\n";

static char dir[64], name[96];

static void put(const char *file, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/devices/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void remove_dir(void)
{
	fuzz_dir_remove(dir);
}

static void setup(void)
{
	char path[128];

	log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
	fuzz_dir_make(dir, sizeof(dir), "config");
	atexit(remove_dir);
	snprintf(path, sizeof(path), "%s/devices", dir);
	mkdir(path, 0700);
	put("th-ok.conf", th_ok);
	put("broken.conf", broken);
	/* never written: the text stands for it */
	snprintf(name, sizeof(name), "%s/coldchaind.conf", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_config *cfg = NULL, *cfg2 = NULL;
	struct cc_errors e = { 0 };
	char *text, *printed = NULL;
	size_t plen = 0;
	FILE *f;

	if (size > 65536 || memmem(data, size, "@include", 8))
		return 0;
	if (!dir[0])
		setup();
	/* a file's text ends at its first NUL for libconfig's string reader */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(text, name, &cfg, &e) == 0) {
		f = open_memstream(&printed, &plen);
		if (!f)
			abort();
		config_print(cfg, f);
		fclose(f);
		if (config_load_string(printed, name, &cfg2, &e) != 0) {
			errors_print(&e, stderr);
			fputs(printed, stderr);
			abort(); /* -p printed something the loader refuses */
		}
		config_free(cfg2);
		config_free(cfg);
		free(printed);
	}
	errors_free(&e);
	free(text);
	return 0;
}
