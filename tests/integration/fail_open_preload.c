/* fail_open_preload.c - an LD_PRELOAD shim for integration tests: one file
 * that one process cannot open.  While the file $FAIL_OPEN_ARM exists and
 * holds the pid of the calling process, open(2), openat(2) and fopen(3) of
 * the path $FAIL_OPEN_PATH (as the program names it) fail with EACCES;
 * every other process (a child the program runs, with the shim loaded too,
 * has its own pid) and every other path open as usual.  Each refusal
 * appends "refused PATH in PID" to $FAIL_OPEN_MARK, so a test knows it
 * happened, and where.
 * Built by the test that uses it: cc -shared -fPIC -o X.so this.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);
FILE *fopen(const char *path, const char *mode);
FILE *fopen64(const char *path, const char *mode);

/* 1 when this open must fail (and is marked).  The arm file is read with
 * the raw syscall's wrapper from libc itself (next_open), not through the
 * interposed names. */
static int refused(const char *path)
{
	static int (*next_open)(const char *, int, ...);
	const char *want = getenv("FAIL_OPEN_PATH"), *arm = getenv("FAIL_OPEN_ARM"), *mark = getenv("FAIL_OPEN_MARK");
	char buf[32], line[4200];
	ssize_t n;
	int fd, e = errno;

	if (!want || !arm || !path || strcmp(path, want) != 0)
		return 0;
	if (!next_open)
		next_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	fd = next_open(arm, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = e;
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || atol((buf[n] = '\0', buf)) != (long)getpid()) {
		errno = e;
		return 0;
	}
	if (mark && (fd = next_open(mark, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
		int len = snprintf(line, sizeof(line), "refused %s in %ld\n", path, (long)getpid());
		if (len > 0 && write(fd, line, (size_t)len) < 0)
			len = 0;
		close(fd);
	}
	errno = EACCES;
	return 1;
}

/* The real openat and fopen: every wrapper below calls them (open(path) is
 * openat(AT_FDCWD, path)). */
static int real_openat(int dirfd, const char *path, int flags, mode_t m)
{
	static int (*next)(int, const char *, int, ...);

	if (!next)
		next = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	return next(dirfd, path, flags, m);
}

static FILE *real_fopen(const char *path, const char *mode)
{
	static FILE *(*next)(const char *, const char *);

	if (!next)
		next = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
	return next(path, mode);
}

/* open, open64, openat, openat64: the parameters before path (none, or
 * "int dirfd,") after the name and the directory to pass on; the mode is
 * the third argument only when flags create a file. */
#define WRAP_OPEN(name, dir, ...)                                                  \
	int name(__VA_ARGS__ const char *path, int flags, ...)                     \
	{                                                                          \
		va_list ap;                                                        \
		mode_t m = 0;                                                      \
                                                                                   \
		va_start(ap, flags);                                               \
		if (flags & (O_CREAT | O_TMPFILE))                                 \
			m = (mode_t)va_arg(ap, int);                               \
		va_end(ap);                                                        \
		return refused(path) ? -1 : real_openat(dir, path, flags, m);      \
	}
WRAP_OPEN(open, AT_FDCWD)
WRAP_OPEN(open64, AT_FDCWD)
WRAP_OPEN(openat, dirfd, int dirfd, )
WRAP_OPEN(openat64, dirfd, int dirfd, )

FILE *fopen(const char *path, const char *mode)
{
	return refused(path) ? NULL : real_fopen(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	return refused(path) ? NULL : real_fopen(path, mode);
}
