/* slow_fsync_preload.c - an LD_PRELOAD shim for integration tests: a slow
 * disk under one directory.  fsync(2) and fdatasync(2) on a file (or the
 * directory itself) below $SLOW_FSYNC_DIR take $SLOW_FSYNC_MS longer; every
 * other fd syncs as usual.  Each slowed sync appends one line to
 * $SLOW_FSYNC_MARK ("begin PATH") before it sleeps, so a test can wait for
 * a slow sync to be under way instead of guessing with sleep.
 * Built by the test that uses it: cc -shared -fPIC -o X.so this.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int fsync(int fd);
int fdatasync(int fd);

static void maybe_slow(int fd)
{
	const char *dir = getenv("SLOW_FSYNC_DIR"), *ms = getenv("SLOW_FSYNC_MS"), *mark = getenv("SLOW_FSYNC_MARK");
	char link[64], path[4096];
	ssize_t n;
	size_t dl;
	long d;
	int e = errno;

	if (!dir || !*dir || !ms)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		goto out;
	path[n] = '\0';
	dl = strlen(dir);
	if (strncmp(path, dir, dl) != 0 || (path[dl] != '\0' && path[dl] != '/'))
		goto out;
	d = strtol(ms, NULL, 10);
	if (mark && *mark) {
		int m = open(mark, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (m >= 0) {
			char line[4200];
			int l = snprintf(line, sizeof(line), "begin %s\n", path);
			if (write(m, line, (size_t)l) < 0) {
				/* the mark is a convenience: the delay still happens */
			}
			close(m);
		}
	}
	if (d > 0) {
		struct timespec ts = { d / 1000, (d % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
out:
	errno = e;
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	maybe_slow(fd);
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	maybe_slow(fd);
	return real(fd);
}
