/* journal_dir.h - for the journal's unit tests: one fresh temporary
 * directory at a time ($TMPDIR/cc-TAG-XXXXXX).  Define JOURNAL_DIR_TAG
 * before including; include once. */
#ifndef CC_TEST_JOURNAL_DIR_H
#define CC_TEST_JOURNAL_DIR_H

#include <stdio.h>
#include <stdlib.h>

#include "testlib.h"

static char dir[64];

/* Removes the previous directory (if any) and makes a new one in dir. */
static void fresh_dir(void)
{
	if (dir[0])
		tl_rmtree(dir);
	if (tl_mkdtemp(dir, sizeof(dir), JOURNAL_DIR_TAG) < 0)
		abort();
}

/* Removes the last directory; 0, or -1 if it could not. */
static int drop_dir(void)
{
	return tl_rmtree(dir);
}

#endif
