/* journal_dir.h - for the journal's unit tests: one fresh temporary
 * directory at a time.  Define JOURNAL_DIR_TEMPLATE (a mkdtemp template
 * under /tmp, "...-XXXXXX") before including; include once. */
#ifndef CC_TEST_JOURNAL_DIR_H
#define CC_TEST_JOURNAL_DIR_H

#include <stdio.h>
#include <stdlib.h>

static char dir[64];

/* Removes the previous directory (if any) and makes a new one in dir. */
static void fresh_dir(void)
{
	char cmd[128];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("    cannot remove %s\n", dir);
	}
	snprintf(dir, sizeof(dir), JOURNAL_DIR_TEMPLATE);
	if (!mkdtemp(dir))
		abort();
}

/* Removes the last directory; 0, or -1 if rm failed. */
static int drop_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
