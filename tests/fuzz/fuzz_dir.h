/* fuzz_dir.h - a fuzz target's scratch directory, private to the run:
 * /dev/shm/cc-fuzz-TAG-?????? (tmpfs: no disk in the loop; /tmp where
 * there is no /dev/shm), named by mkdtemp, and removed with everything in
 * it at the end.  Header-only, for tests/fuzz/fuzz_*.c. */
#ifndef CC_FUZZ_DIR_H
#define CC_FUZZ_DIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Makes the directory into dir (size bytes); aborts when it cannot (a
 * fuzz run without its directory would report false crashes). */
static inline void fuzz_dir_make(char *dir, size_t size, const char *tag)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	int n = snprintf(dir, size, "%s/cc-fuzz-%s-XXXXXX", base, tag); /* mkdtemp's template */

	if (n < 0 || (size_t)n >= size || !mkdtemp(dir))
		abort();
}

static inline int fuzz_dir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	(void)remove(path); /* what cannot go stays; the walk goes on with the rest */
	return 0;
}

/* Removes dir and everything in it (depth first, links not followed). */
static inline void fuzz_dir_remove(const char *dir)
{
	if (dir[0])
		nftw(dir, fuzz_dir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
