/* testlib.h - the unit-test harness: each test is a function; the runner
 * prints "PASS name" or "FAIL name" (with every failed check), which
 * tests/run.sh counts.  A test program exits 1 if any test failed. */
#ifndef CC_TESTLIB_H
#define CC_TESTLIB_H

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tl_cur_failed, tl_passed, tl_failed;
static const char *tl_prog = "unit";

#define CHECK(c)                                                                                  \
	do {                                                                                      \
		if (!(c)) {                                                                       \
			printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);             \
			tl_cur_failed = 1;                                                        \
		}                                                                                 \
	} while (0)

#define CHECK_STR(a, b)                                                                           \
	do {                                                                                      \
		const char *tl_a = (a), *tl_b = (b);                                              \
		if (!tl_a || !tl_b || strcmp(tl_a, tl_b) != 0) {                                  \
			printf("    %s:%d: %s == %s failed:\n      got      \"%s\"\n      expected \"%s\"\n", \
			       __FILE__, __LINE__, #a, #b, tl_a ? tl_a : "(null)", tl_b ? tl_b : "(null)"); \
			tl_cur_failed = 1;                                                        \
		}                                                                                 \
	} while (0)

#define CHECK_INT(a, b)                                                                           \
	do {                                                                                      \
		long long tl_a = (long long)(a), tl_b = (long long)(b);                           \
		if (tl_a != tl_b) {                                                               \
			printf("    %s:%d: %s == %s failed: got %lld, expected %lld\n", __FILE__,    \
			       __LINE__, #a, #b, tl_a, tl_b);                                     \
			tl_cur_failed = 1;                                                        \
		}                                                                                 \
	} while (0)

/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol)                                                                     \
	do {                                                                                      \
		double tl_a = (a), tl_b = (b);                                                    \
		if (!(fabs(tl_a - tl_b) <= (tol))) {                                              \
			printf("    %s:%d: %s ~= %s failed: got %.17g, expected %.17g (tol %g)\n",   \
			       __FILE__, __LINE__, #a, #b, tl_a, tl_b, (double)(tol));            \
			tl_cur_failed = 1;                                                        \
		}                                                                                 \
	} while (0)

static void tl_run(const char *name, void (*fn)(void))
{
	tl_cur_failed = 0;
	fn();
	if (tl_cur_failed) {
		tl_failed++;
		printf("FAIL %s: %s\n", tl_prog, name);
	} else {
		tl_passed++;
		printf("PASS %s: %s\n", tl_prog, name);
	}
	fflush(stdout);
}

#define RUN(fn) tl_run(#fn, fn)
#define TL_DONE() (tl_failed ? 1 : 0)

static int tl_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes a test's temporary directory and everything in it (no shell);
 * says so when it cannot.  0, or -1. */
static inline int tl_rmtree(const char *dir)
{
	if (nftw(dir, tl_rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0)
		return 0;
	printf("    (could not remove %s)\n", dir);
	return -1;
}

/* "$TMPDIR/cc-TAG-XXXXXX" (TMPDIR unset or empty: /tmp) into buf of size
 * bytes; says why when it cannot.  0, or -1. */
static inline int tl_tmpname(char *buf, size_t size, const char *tag)
{
	const char *t = getenv("TMPDIR");
	int n = snprintf(buf, size, "%s/cc-%s-XXXXXX", t && *t ? t : "/tmp", tag);

	if (n < 0 || (size_t)n >= size) {
		printf("    (temporary name for %s too long for %zu bytes: TMPDIR=%s)\n", tag, size, t ? t : "");
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* A new private directory "$TMPDIR/cc-TAG-XXXXXX" in buf (size bytes);
 * remove it with tl_rmtree.  0, or -1 (said why). */
static inline int tl_mkdtemp(char *buf, size_t size, const char *tag)
{
	if (tl_tmpname(buf, size, tag) < 0)
		return -1;
	if (!mkdtemp(buf)) {
		printf("    (mkdtemp %s: %s)\n", buf, strerror(errno));
		return -1;
	}
	return 0;
}

/* The same for a new empty file, closed: 0, or -1 (said why). */
static inline int tl_mkstemp(char *buf, size_t size, const char *tag)
{
	int fd;

	if (tl_tmpname(buf, size, tag) < 0)
		return -1;
	if ((fd = mkstemp(buf)) < 0) {
		printf("    (mkstemp %s: %s)\n", buf, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

#endif
