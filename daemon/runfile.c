/* runfile.c - the runtime file (runfile.h): coldchaind writes it beside
 * its control socket's run directory, coldchainctl trusts it only while
 * every configuration file it lists is byte-for-byte the one the daemon
 * read (same device, inode, size, mtime and ctime), else it parses. */
#include "runfile.h"

#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "coldchaind-runtime 1"

const char *runfile_dir(void)
{
	const char *d = getenv(RUNFILE_ENV);

	return d && d[0] == '/' ? d : CC_RUN_DIR;
}

char *runfile_path(uint64_t dev, uint64_t ino)
{
	return xasprintf("%s/conf-%" PRIx64 "-%" PRIx64 ".run", runfile_dir(), dev, ino);
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* A path the file can hold on one line, and that means the same anywhere. */
static int line_ok(const char *s)
{
	return s && s[0] == '/' && !strpbrk(s, "\n\r");
}

/* Without $COLDCHAIND_RUNTIME_DIR only a socket in the run directory (the
 * packaged setup) is published there: a daemon whose socket is elsewhere
 * (a test's, a second instance's) leaves /run/coldchaind alone. */
static int published_here(const char *socket)
{
	const char *d = getenv(RUNFILE_ENV), *slash = strrchr(socket, '/');

	if (d && d[0] == '/')
		return 1;
	return slash && (size_t)(slash - socket) == strlen(CC_RUN_DIR) && strncmp(socket, CC_RUN_DIR, strlen(CC_RUN_DIR)) == 0;
}

static char *runfile_text(const struct cc_config *cfg, const char *socket, size_t *len)
{
	char *text = NULL;
	FILE *m = open_memstream(&text, len);

	if (!m)
		return NULL;
	fprintf(m, MAGIC "\npid %ld\nsocket %s\n", (long)getpid(), socket);
	for (size_t i = 0; i < cfg->nsrcs; i++) {
		const struct cc_conf_src *s = &cfg->srcs[i];
		/* a file system that keeps whole seconds cannot tell an edit in
		 * the second it was read from no edit: not vouched for */
		if (s->mtime_ns % 1000000000 == 0 && s->mtime_ns / 1000000000 + 1 >= s->seen_ns / 1000000000) {
			fclose(m);
			free(text);
			*len = 0;
			return NULL;
		}
		fprintf(m, "src %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s\n", s->dev, s->ino,
			s->size, s->mtime_ns, s->ctime_ns, s->path);
	}
	fputs("end\n", m);
	if (fclose(m) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Mode 0640: the owner (the daemon) and the control group, who may run
 * coldchainctl against the socket anyway. */
static int fd_own(int fd, uid_t uid, gid_t gid)
{
	if (fchmod(fd, 0640) < 0)
		return -errno;
	if (geteuid() == 0 ? fchown(fd, uid, gid) < 0 : gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0)
		return -errno;
	return 0;
}

int runfile_write(const struct cc_config *cfg, const char *socket, uid_t uid, gid_t gid, char **written)
{
	char *path = NULL, *tmp = NULL, *text = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, rc = -EINVAL;

	*written = NULL;
	if (!cfg->nsrcs || !line_ok(socket))
		return -EINVAL;
	for (size_t i = 0; i < cfg->nsrcs; i++)
		if (!line_ok(cfg->srcs[i].path))
			return -EINVAL;
	if (!published_here(socket) || stat(runfile_dir(), &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	path = runfile_path(cfg->srcs[0].dev, cfg->srcs[0].ino);
	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	if (!(text = runfile_text(cfg, socket, &len))) {
		rc = -EAGAIN; /* a file edited within a second of being read, on whole-second times */
		goto out;
	}
	if (len > RUNFILE_MAX_BYTES) {
		rc = -EFBIG;
		goto out;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_all(fd, text, len);
	if (rc == 0)
		rc = fd_own(fd, uid, gid);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	else
		*written = path, path = NULL;
out:
	free(text);
	free(tmp);
	free(path);
	return rc;
}

void runfile_remove(const char *written)
{
	if (written)
		unlink(written);
}

/* The file at path, NUL-terminated, when it is a regular file of at most
 * RUNFILE_MAX_BYTES that only its owner may write, owned by root or by the
 * owner of its directory (which only that owner may write): another local
 * user must not plant a file leading coldchainctl to a socket of theirs
 * (COLDCHAIND_RUNTIME_DIR may name a shared directory).  Else NULL, with
 * *untrusted set when the file is there but fails the ownership rule. */
static char *read_small(const char *path, const struct stat *dst, int *untrusted)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)RUNFILE_MAX_BYTES)
		goto fail;
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) || (dst->st_mode & (S_IWGRP | S_IWOTH)) ||
	    (st.st_uid != 0 && st.st_uid != dst->st_uid)) {
		*untrusted = 1;
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static int same(const struct stat *st, uint64_t dev, uint64_t ino, uint64_t size, int64_t mt, int64_t ct)
{
	return S_ISREG(st->st_mode) && (uint64_t)st->st_dev == dev && (uint64_t)st->st_ino == ino &&
	       (uint64_t)st->st_size == size && ts_ns(&st->st_mtim) == mt && ts_ns(&st->st_ctim) == ct;
}

/* One "src" line against the file it names (the first against conf: its
 * stat cst and absolute path abs).  1 when unchanged. */
static int src_line_ok(const char *line, int first, const struct stat *cst, const char *abs)
{
	uint64_t dev, ino, size;
	int64_t mt, ct;
	int n = -1;
	struct stat st;

	if (sscanf(line, "src %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %n", &dev, &ino, &size,
		   &mt, &ct, &n) != 5 || n < 0 || line[n] != '/')
		return 0;
	if (first)
		return strcmp(line + n, abs) == 0 && same(cst, dev, ino, size, mt, ct);
	return stat(line + n, &st) == 0 && same(&st, dev, ino, size, mt, ct);
}

/* The socket named by text when it is a whole runtime file whose sources
 * are all unchanged; NULL and *why otherwise. */
static char *runfile_check(char *text, const struct stat *cst, const char *abs, const char **why)
{
	char *save = NULL, *line, *sock = NULL;
	int nsrc = 0, ended = 0;

	*why = "the runtime file is malformed";
	line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, MAGIC) != 0)
		return NULL;
	while ((line = strtok_r(NULL, "\n", &save)) && !ended) {
		if (strncmp(line, "pid ", 4) == 0)
			continue;
		if (strncmp(line, "socket /", 8) == 0 && !sock)
			sock = line + 7;
		else if (strncmp(line, "src ", 4) == 0 && src_line_ok(line, nsrc == 0, cst, abs))
			nsrc++;
		else if (strncmp(line, "src ", 4) == 0) {
			*why = "the configuration (or a file it includes) changed since the daemon read it";
			return NULL;
		} else if (strcmp(line, "end") == 0)
			ended = 1;
		else
			return NULL;
	}
	if (!ended || line || !sock || !nsrc)
		return NULL;
	return xstrdup(sock);
}

char *runfile_lookup(const char *conf, const char **why)
{
	struct stat cst, sst, dst;
	char *path = NULL, *text = NULL, *abs = NULL, *sock = NULL;
	int untrusted = 0;

	*why = "the configuration file cannot be found";
	if (stat(conf, &cst) < 0 || !(abs = realpath(conf, NULL)))
		return NULL;
	path = runfile_path((uint64_t)cst.st_dev, (uint64_t)cst.st_ino);
	*why = "no runtime file for it";
	if (stat(runfile_dir(), &dst) < 0 || !(text = read_small(path, &dst, &untrusted))) {
		if (untrusted)
			*why = "the runtime file or its directory may be written by another user: not trusted";
		goto out;
	}
	sock = runfile_check(text, &cst, abs, why);
	if (sock && (lstat(sock, &sst) < 0 || !S_ISSOCK(sst.st_mode))) {
		*why = "the socket the runtime file names is gone";
		free(sock);
		sock = NULL;
	}
out:
	free(path);
	free(text);
	free(abs);
	return sock;
}
