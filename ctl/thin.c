/* thin.c - the coldchainctl people run.  It answers the control-socket
 * commands (status, alarms, ack, shelve, lot, batch, notify, reload ...)
 * itself, linked with libc and cJSON only, so that a command costs its own
 * work and not the loading of libcurl, OpenSSL and libmodbus with theirs
 * (17-20 ms of CPU a command on a 2-core VM, more on a Pi; README,
 * Performance).  Everything else (help, config check, modbus, report,
 * user, mqtt watch, the completion) is run by coldchainctl-full
 * (coldchainctl.c) with the same arguments, as git runs its helpers
 * (LIBEXECDIR/coldchaind/coldchainctl-full; full_path() says where else).  So is a control-socket command
 * whose socket the daemon's run file does not name: finding it then means
 * reading the configuration, which is coldchainctl-full's (ctl_conf_socket).
 * tests/integration/test_coldchainctl_thin_* checks what this links. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/paths.h"
#include "ctl_opts.h"
#include "ctl_socket.h"

#define FULL_NAME "coldchainctl-full"

/* main's arguments as given: the socket commands' parser reorders argv. */
static char **given;

/* coldchainctl-full: beside this binary (the build tree), else where an
 * install beside this one put it (BINDIR/../libexec: a DESTDIR staging, a
 * moved prefix), else where this build installs it. */
static const char *full_path(char *buf, size_t n)
{
	static const char *const near[] = { FULL_NAME, "../libexec/coldchaind/" FULL_NAME };
	ssize_t l = readlink("/proc/self/exe", buf, n);
	char *slash;

	if (l <= 0 || (size_t)l >= n)
		return CC_CTL_FULL;
	buf[l] = '\0';
	slash = strrchr(buf, '/');
	for (size_t i = 0; slash && i < sizeof(near) / sizeof(near[0]); i++) {
		if ((size_t)(slash + 1 - buf) + strlen(near[i]) >= n)
			break;
		strcpy(slash + 1, near[i]);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return CC_CTL_FULL;
}

/* Replaces this process with coldchainctl-full and the arguments main
 * was given; returns only when it cannot (said on stderr). */
static void run_full(void)
{
	char buf[PATH_MAX];
	const char *path = full_path(buf, sizeof(buf));

	fflush(stdout);
	execv(path, given);
	fprintf(stderr, "coldchainctl: cannot run %s: %s (it does every command but the control socket's)\n", path,
		strerror(errno));
}

int ctl_conf_socket(const char *conf, int loud, char **out)
{
	(void)conf;
	(void)loud;
	*out = NULL;
	run_full();
	return -1;
}

int main(int argc, char **argv)
{
	static const struct ctl_cmd *const roots[] = { ctl_socket_cmds, NULL };
	int rc;

	given = calloc((size_t)argc + 1, sizeof(*given));
	if (!given) {
		fprintf(stderr, "coldchainctl: out of memory\n");
		return 1;
	}
	memcpy(given, argv, (size_t)argc * sizeof(*given));
	if (argc >= 2 && (rc = ctl_dispatch(roots, argc, argv)) >= 0)
		return rc;
	run_full();
	return 1;
}
