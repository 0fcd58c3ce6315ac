/* fuzz_config.c - the configuration loader must survive any bytes: it
 * reports errors, never crashes or exits.  And what it accepts, `-p`
 * prints back as a file it accepts again.  @include is excluded (it reads
 * other files, and libconfig exit()s on an include of a directory - the
 * loader pre-checks that, see config.c).  libconfig 1.5 leaks inside its
 * own parser on some malformed input: tests/fuzz/lsan.supp names its
 * frames, never ours. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64], path[96], path2[96];
	struct cc_config *cfg = NULL, *cfg2 = NULL;
	struct cc_errors e = { 0 };

	if (size > 65536 || memmem(data, size, "@include", 8))
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/cc-fuzz-config.%ld", (long)getpid());
		mkdir(dir, 0700);
		snprintf(path, sizeof(path), "%s/f.conf", dir);
		snprintf(path2, sizeof(path2), "%s/p.conf", dir);
		log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
	}
	if (write_file(path, data, size) < 0)
		return 0;
	if (config_load(path, &cfg, &e) == 0) {
		FILE *f = fopen(path2, "w");
		if (f) {
			config_print(cfg, f);
			fclose(f);
			if (config_load(path2, &cfg2, &e) != 0) {
				errors_print(&e, stderr);
				abort(); /* -p printed something the loader refuses */
			}
			config_free(cfg2);
		}
		config_free(cfg);
	}
	errors_free(&e);
	return 0;
}
